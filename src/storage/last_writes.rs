//! The last write of each key of one table, collected from a range of the log: what a
//! replay (`storage/replay.rs`) merges into the table's base snapshot.
//!
//! A replay of a busy log collects hundreds of thousands of writes, most often to as many
//! keys. Three choices keep that cheap:
//!
//! - **Sorted once.** Writes are collected in log order; now and then the writes since the
//!   last compaction (the tail) are sorted by key, the overwritten ones dropped, and the
//!   result merged into the sorted run before them. Each write is sorted once, and the
//!   writes held stay at most about twice the keys written, however often they are
//!   overwritten. (Inserting each write into an ordered map cost a search per write, with
//!   a cache miss at each level: measured 40% of a build from the log. Re-sorting
//!   everything at each compaction sorted each write about twice.)
//! - **Items in one arena.** The items' encodings are copied into chunks of a megabyte,
//!   not an allocation each: allocating each item and freeing it in the merge's key order,
//!   scattered over the heap, was a fifth of a build; a growing buffer instead copies
//!   itself at each doubling. The arena is packed again only when most of it is
//!   overwritten items.
//! - **Keys inline** (`ItemKey`), so sorts and merges compare them without a cache miss.
//!
//! ```text
//!   writes  [ sorted, one per key ........ | tail, in log order ... ]
//!              │                              │
//!   arena   [ chunk 0 (1 MiB) ][ chunk 1 ][ chunk 2, being filled ]
//! ```

use crate::state::item_key::ItemKey;
use crate::state::prefetch::{prefetch, AHEAD};

/// The fewest writes worth a compaction.
const MIN_COMPACT_AT: usize = 1 << 16;

/// The most writes reserved room for at once (see [`LastWrites::with_room`]).
const MAX_RESERVED: usize = 1 << 21;

/// The arena's chunk size: more than the largest item (400 KB), so every item fits in one.
const CHUNK: usize = 1 << 20;

/// A write collected from the log: the key and where its new item is (`None`: deleted).
type Write = (ItemKey, Option<Span>);

/// An item in the arena: its encoding's place and its DynamoDB size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    chunk: u32,
    at: u32,
    len: u32,
    /// The item's DynamoDB size.
    pub size: u32,
}

/// The items' encodings, in chunks that never move once written.
#[derive(Debug, Default)]
pub(crate) struct Arena {
    chunks: Vec<Vec<u8>>,
    /// The bytes held in all chunks.
    bytes: usize,
}

impl Arena {
    fn push(&mut self, encoding: &[u8], size: u32) -> Span {
        let fits = |c: &Vec<u8>| c.capacity() - c.len() >= encoding.len();
        if !self.chunks.last().is_some_and(fits) {
            self.chunks
                .push(Vec::with_capacity(CHUNK.max(encoding.len())));
        }
        let chunk = self.chunks.len() - 1;
        let bytes = &mut self.chunks[chunk];
        let span = Span {
            chunk: chunk as u32,
            at: bytes.len() as u32,
            len: encoding.len() as u32,
            size,
        };
        bytes.extend_from_slice(encoding);
        self.bytes += encoding.len();
        span
    }

    /// The encoding of the item at `span`.
    pub fn get(&self, span: Span) -> &[u8] {
        let at = span.at as usize;
        &self.chunks[span.chunk as usize][at..at + span.len as usize]
    }

    /// Where the arena ends, for [`LastWrites::truncate`].
    fn end(&self) -> (usize, usize) {
        (self.chunks.len(), self.chunks.last().map_or(0, Vec::len))
    }

    fn truncate(&mut self, (chunks, len): (usize, usize)) {
        self.chunks.truncate(chunks);
        if let Some(last) = self.chunks.last_mut() {
            last.truncate(len);
        }
        self.bytes = self.chunks.iter().map(Vec::len).sum();
    }
}

/// The writes of one table collected from the log, in log order.
#[derive(Debug)]
pub(crate) struct LastWrites {
    /// The first `sorted` are the last write of each of their keys, in key order; the rest
    /// came after them, in log order.
    writes: Vec<Write>,
    sorted: usize,
    arena: Arena,
    /// Writes that may be held before a compaction.
    room: usize,
    /// When `writes` reaches this length, the tail is compacted.
    compact_at: usize,
}

/// Where a [`LastWrites`] ends, to undo the writes pushed after it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    writes: usize,
    arena: (usize, usize),
}

impl LastWrites {
    /// None collected yet.
    #[cfg(test)]
    pub fn new() -> LastWrites {
        LastWrites::with_room(0)
    }

    /// None collected yet; the first compaction when `room` writes (or `MIN_COMPACT_AT`)
    /// are held: a replay onto a large table can hold as many writes as it has items
    /// without being compacted, and is then sorted only once.
    pub fn with_room(room: usize) -> LastWrites {
        LastWrites {
            // Room for every write before the first compaction: growing by doubling
            // copied the writes (and wrote twice the memory) as a build read the log.
            // Memory not written to is only reserved, not used; at most 2M writes
            // (100 MB) are reserved, so that a huge base cannot ask for gigabytes.
            writes: Vec::with_capacity(room.min(MAX_RESERVED)),
            sorted: 0,
            arena: Arena::default(),
            room,
            compact_at: room.max(MIN_COMPACT_AT),
        }
    }

    /// Collects a write of `key`, after every one collected so far: `item` is the new
    /// item's encoding and DynamoDB size, `None` a delete.
    pub fn push(&mut self, key: &[u8], item: Option<(&[u8], u32)>) {
        let span = item.map(|(encoding, size)| self.arena.push(encoding, size));
        self.writes.push((ItemKey::from(key), span));
    }

    /// Compacts the writes when enough have come since the last time. (Not done by
    /// [`LastWrites::push`], so that a record's writes can be undone until it is whole.)
    pub fn compact_if_due(&mut self) {
        if self.writes.len() >= self.compact_at {
            self.compact();
        }
    }

    /// Compacts the writes if those since the last compaction are at least half as many as
    /// the ones before (and `MIN_COMPACT_AT`): for writes collected ahead of the builds
    /// (`storage/digest.rs`), so that a build sorts only the writes since.
    pub fn compact_ahead(&mut self) {
        if self.writes.len() - self.sorted >= MIN_COMPACT_AT.max(self.sorted / 2) {
            self.compact();
        }
    }

    /// Whether no write was collected.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Where the writes end now.
    pub fn mark(&self) -> Mark {
        Mark {
            writes: self.writes.len(),
            arena: self.arena.end(),
        }
    }

    /// Undoes the writes pushed since `mark` (made after the last compaction).
    pub fn truncate(&mut self, mark: Mark) {
        self.writes.truncate(mark.writes);
        self.arena.truncate(mark.arena);
    }

    /// The last write of each key, in key order, and the arena their items are in.
    pub fn finish(mut self) -> (Vec<(ItemKey, Option<Span>)>, Arena) {
        self.compact();
        (self.writes, self.arena)
    }

    /// [`LastWrites::finish`], keeping the writes: more may be collected after them.
    pub fn compacted(&mut self) -> (&[(ItemKey, Option<Span>)], &Arena) {
        if self.sorted < self.writes.len() {
            self.compact();
        }
        (&self.writes, &self.arena)
    }

    /// About the memory held: the writes and the arena's chunks.
    pub fn memory(&self) -> usize {
        let chunks: usize = self.arena.chunks.iter().map(Vec::capacity).sum();
        self.writes.len() * std::mem::size_of::<Write>() + chunks
    }

    /// Sorts the tail, drops its overwritten writes, and merges it into the sorted run.
    fn compact(&mut self) {
        let tail = last_of_each_key(self.writes.split_off(self.sorted));
        let sorted = std::mem::take(&mut self.writes);
        // Room for the writes until the next compaction (see below), so that they are
        // pushed without the vector growing: growing copies the writes held, and glibc's
        // realloc copies a block under 32 MB inside its arena's lock, which the writers
        // freeing into that arena then wait for (a free writer's put stalled 5-12 ms).
        let most = sorted.len() + tail.len();
        let room = most + self.tail_before_compaction(most).min(MAX_RESERVED);
        self.writes = merge(sorted, tail, room);
        self.sorted = self.writes.len();
        let live: usize = self
            .writes
            .iter()
            .flat_map(|(_, s)| s)
            .map(|s| s.len as usize)
            .sum();
        if self.arena.bytes > 2 * live + CHUNK {
            self.repack();
        }
        self.compact_at = self.sorted + self.tail_before_compaction(self.sorted);
    }

    /// How long the tail after a sorted run of `sorted` writes grows before the next
    /// compaction: as long as the run (or the room, or `MIN_COMPACT_AT`), so that each
    /// write is merged about twice and at most twice the keys' writes are held.
    fn tail_before_compaction(&self, sorted: usize) -> usize {
        sorted.max(MIN_COMPACT_AT).max(self.room)
    }

    /// Copies the items still written into a new arena, leaving the overwritten ones.
    fn repack(&mut self) {
        let mut arena = Arena::default();
        for (_, span) in &mut self.writes {
            if let Some(span) = span {
                *span = arena.push(self.arena.get(*span), span.size);
            }
        }
        self.arena = arena;
    }
}

/// The last write of each key of `writes` (in log order), in key order.
///
/// The sort orders (key prefix, position) pairs, not the writes: comparing two writes
/// would compare their whole keys, and the first 8 bytes of a key (a hash, then the
/// partition key) almost always decide. Measured: a third of a build's sort time.
fn last_of_each_key(mut writes: Vec<Write>) -> Vec<Write> {
    let prefix = |key: &[u8]| {
        let mut bytes = [0u8; 8];
        let n = key.len().min(8);
        bytes[..n].copy_from_slice(&key[..n]);
        u64::from_be_bytes(bytes)
    };
    let order: Vec<(u64, usize)> = writes
        .iter()
        .enumerate()
        .map(|(i, (key, _))| (prefix(key.as_bytes()), i))
        .collect();
    // Positions are unique, so the unstable sort is deterministic and keeps each key's
    // writes in log order.
    let order = sort_by_prefix(order, |a, b| {
        a.0.cmp(&b.0)
            .then_with(|| writes[a.1].0.cmp(&writes[b.1].0))
            .then(a.1.cmp(&b.1))
    });
    let mut last: Vec<Write> = Vec::with_capacity(order.len());
    for (j, &(_, i)) in order.iter().enumerate() {
        // The writes are taken in key order from where they lie in log order, each once
        // (positions are unique), leaving an empty key behind: moving them all into a
        // vector of options first was 30 MB more to write for 600k writes.
        if let Some(&(_, ahead)) = order.get(j + AHEAD) {
            prefetch(&writes[ahead]);
        }
        let write = std::mem::replace(&mut writes[i], (ItemKey::EMPTY, None));
        match last.last_mut() {
            Some(previous) if previous.0 == write.0 => *previous = write,
            _ => last.push(write),
        }
    }
    last
}

/// Sorts `(prefix, position)` pairs by `order`, which orders them by prefix first: into
/// buckets by the prefix's top bits (a count and a scatter), then each bucket by
/// comparison. A key's prefix starts with its partition key's hash, so a bucket holds a
/// handful of pairs. Measured on 600k writes to random keys: the whole compaction went
/// from 111 to 83-97 ms. (The writes of one partition key share a bucket, which is then
/// sorted as a whole: slower, never wrong.)
fn sort_by_prefix(
    pairs: Vec<(u64, usize)>,
    mut order: impl FnMut(&(u64, usize), &(u64, usize)) -> std::cmp::Ordering,
) -> Vec<(u64, usize)> {
    // About eight pairs a bucket, at most 2^16 buckets; a few pairs are sorted at once.
    let bits = (usize::BITS - (pairs.len() / 8).leading_zeros()).min(16);
    if bits < 4 {
        let mut pairs = pairs;
        pairs.sort_unstable_by(order);
        return pairs;
    }
    let bucket = |prefix: u64| (prefix >> (64 - bits)) as usize;
    // starts[b]: where bucket b begins once sorted.
    let mut starts = vec![0usize; (1 << bits) + 1];
    for &(prefix, _) in &pairs {
        starts[bucket(prefix) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut sorted = vec![(0u64, 0usize); pairs.len()];
    let mut next = starts.clone();
    for pair in pairs {
        let at = &mut next[bucket(pair.0)];
        sorted[*at] = pair;
        *at += 1;
    }
    for range in starts.windows(2) {
        sorted[range[0]..range[1]].sort_unstable_by(&mut order);
    }
    sorted
}

/// Merges two runs of writes in key order, one per key, into a vector with room for
/// `capacity` writes; where both have a key, `later`'s write wins.
fn merge(earlier: Vec<Write>, later: Vec<Write>, capacity: usize) -> Vec<Write> {
    let mut merged = Vec::with_capacity(capacity.max(earlier.len() + later.len()));
    let mut earlier = earlier.into_iter().peekable();
    for write in later {
        while let Some(e) = earlier.next_if(|(k, _)| *k < write.0) {
            merged.push(e);
        }
        earlier.next_if(|(k, _)| *k == write.0);
        merged.push(write);
    }
    merged.extend(earlier);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Item `w` of `len` bytes.
    fn item(w: u64, len: usize) -> Vec<u8> {
        let mut bytes = w.to_le_bytes().to_vec();
        bytes.resize(len.max(8), (w % 251) as u8);
        bytes
    }

    #[test]
    fn keeps_the_last_write_of_each_key_in_key_order_and_bounds_its_memory() {
        let mut writes = LastWrites::new();
        let keys = 1000u64;
        let count = 5 * MIN_COMPACT_AT as u64;
        let (mut most, mut most_bytes) = (0, 0);
        for w in 0..count {
            let key = ((w * 7919) % keys).to_be_bytes();
            // Every 13th write of a key deletes it.
            let value = item(w, 16);
            writes.push(&key, (w % 13 != 0).then_some((&value[..], w as u32)));
            writes.compact_if_due();
            most = most.max(writes.writes.len());
            most_bytes = most_bytes.max(writes.arena.bytes);
        }
        // At most the keys' last writes and a tail as long (or MIN_COMPACT_AT).
        assert!(
            most <= keys as usize + MIN_COMPACT_AT,
            "{most} writes held for {keys} keys"
        );
        assert!(
            most_bytes <= 3 * CHUNK,
            "{most_bytes} bytes of items held for {keys} keys"
        );
        let (last, arena) = writes.finish();
        assert_eq!(last.len() as u64, keys);
        for (i, (key, span)) in last.iter().enumerate() {
            assert_eq!(key.as_bytes(), (i as u64).to_be_bytes(), "key order");
            // The last write of key k is the largest w < count with w * 7919 ≡ k (mod keys).
            let w = (0..count)
                .rev()
                .find(|w| (w * 7919) % keys == i as u64)
                .expect("a write");
            let expected = (w % 13 != 0).then(|| (item(w, 16), w as u32));
            let got = span.map(|s| (arena.get(s).to_vec(), s.size));
            assert_eq!(got, expected, "key {i}");
        }
    }

    /// Between two compactions the writes are pushed into room made by the first, never by
    /// growing the vector: growing copies every write held, and glibc copies a block under
    /// 32 MB inside its arena's lock, which a writer freeing into that arena waits for (a
    /// free Buffered writer's puts stalled 5-12 ms behind the worker's reads ahead).
    #[test]
    fn writes_between_two_compactions_never_move_the_ones_held() {
        let mut writes = LastWrites::new();
        let mut moves = 0;
        for w in 0..6 * MIN_COMPACT_AT as u64 {
            let (at, compacted) = (writes.writes.as_ptr(), writes.sorted > 0);
            writes.push(&(w * 2654435761 % (1 << 40)).to_be_bytes(), None);
            // A move that no compaction made: the push grew the vector.
            if compacted && writes.writes.as_ptr() != at {
                moves += 1;
            }
            writes.compact_if_due();
        }
        assert!(
            writes.sorted >= 4 * MIN_COMPACT_AT,
            "compacted {}",
            writes.sorted
        );
        assert_eq!(moves, 0, "pushes that grew the vector after a compaction");
    }

    #[test]
    fn writes_to_distinct_keys_are_all_kept_with_items_of_every_size() {
        let mut writes = LastWrites::new();
        let count = 3 * MIN_COMPACT_AT as u64 + 7;
        // Sizes up to 400 KB, so some items start new chunks.
        let len = |w: u64| {
            if w.is_multiple_of(1000) {
                400_000
            } else {
                (w % 300) as usize
            }
        };
        for w in 0..count {
            let value = item(w, len(w));
            writes.push(
                &(w * 2654435761 % (1 << 40)).to_be_bytes(),
                Some((&value[..], 1)),
            );
            writes.compact_if_due();
        }
        let (last, arena) = writes.finish();
        assert_eq!(last.len() as u64, count);
        assert!(last.windows(2).all(|p| p[0].0 < p[1].0), "key order");
        for (key, span) in &last {
            let bytes = arena.get(span.expect("a put"));
            let w = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
            assert_eq!(key.as_bytes(), (w * 2654435761 % (1 << 40)).to_be_bytes());
            assert_eq!(bytes, item(w, len(w)));
        }
    }

    /// Keys spread over every bucket of the sort (and some sharing their first 8 bytes,
    /// which the bucket and prefix cannot tell apart), overwritten and deleted in a mixed
    /// order: the last write of each key, as a map keeps it.
    #[test]
    fn last_writes_match_a_map_with_keys_over_every_bucket_and_shared_prefixes() {
        let mix = |mut x: u64| {
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^ (x >> 31)
        };
        let key = |k: u64| {
            let mut bytes = mix(k / 4).to_be_bytes().to_vec();
            // Four keys to each prefix, of different lengths.
            bytes.extend(std::iter::repeat_n((k % 4) as u8, (k % 4) as usize));
            bytes
        };
        let mut writes = LastWrites::new();
        let mut model = std::collections::BTreeMap::new();
        for w in 0..6 * MIN_COMPACT_AT as u64 {
            let k = key(mix(w) % 40_000);
            let value = item(w, 12);
            let new = (w % 7 != 0).then_some((&value[..], w as u32));
            writes.push(&k, new);
            writes.compact_if_due();
            model.insert(k, new.map(|(v, size)| (v.to_vec(), size)));
        }
        let (last, arena) = writes.finish();
        let got: Vec<_> = last
            .iter()
            .map(|(k, span)| {
                let item = span.map(|s| (arena.get(s).to_vec(), s.size));
                (k.as_bytes().to_vec(), item)
            })
            .collect();
        let expected: Vec<_> = model.into_iter().collect();
        assert!(got == expected, "the last writes differ from the map's");
    }

    #[test]
    fn truncate_undoes_the_writes_after_a_mark() {
        let mut writes = LastWrites::new();
        writes.push(b"a", Some((b"one", 1)));
        let mark = writes.mark();
        writes.push(b"b", Some((b"two", 2)));
        writes.push(b"a", None);
        writes.truncate(mark);
        let (last, arena) = writes.finish();
        assert_eq!(last.len(), 1);
        assert_eq!(arena.get(last[0].1.expect("a put")), b"one");
    }
}
