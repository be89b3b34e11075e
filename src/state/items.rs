//! A live table's items in key order: a map of leaves, each a sorted run of items, where a
//! leaf loaded from a snapshot stays the file's block until something reads it.
//!
//! Opening a table must not cost a decode and an allocation per item: for a million items
//! that was 310 ms of a 440 ms open, against 70 ms to read the file. So a snapshot's items
//! blocks become leaves as they are (their checksums verified, their items not yet), and a
//! leaf's items are decoded — and checked — the first time anything reads or writes them.
//! Until then a leaf costs its block's bytes, about its share of the file.
//!
//! ```text
//!   after (map key)     leaf
//!   ""              →   decoded  [k1 … k20]        Vec<(ItemKey, StoredItem)>, ≤ MAX_LEAF
//!   k20             →   raw      (k20 … k536]      a table file's items block, undecoded
//!   k536            →   decoded  [k537 … k560]
//! ```
//!
//! A leaf is filed under `after`, a key below all of its items: the last key of the leaf
//! before it when it was made, and for the first leaf the empty key, which is below every
//! encoded key. An item belongs to the leaf with the greatest `after` below its key. So a
//! leaf's map key never changes: a leaf that fills up splits off new leaves filed under
//! keys of its own, and an emptied leaf is dropped (its range falls to the leaf before it).
//!
//! Leaves hold at most [`MAX_LEAF`] items once written to, so an insert moves at most a
//! kilobyte within its leaf; a search is a search of the map of leaves and a binary search
//! of one leaf's contiguous entries. (Measured, loading a million random keys: leaves of
//! 32 load at 359k–365k items/s against 374k–381k for the `BTreeMap` of items this
//! replaced, leaves of 64 at 329k–343k and of 128 at 291k–318k, from the bytes moved and
//! the cache misses of a search within the leaf; memory per item is the same.)
//!
//! A leaf's search first asks for all of its entries' cache lines at once
//! (`state/prefetch.rs`): in a large table the leaf is rarely in the cache, and its binary
//! search would otherwise wait for five lines one after another. (Loading a million random
//! keys in 100-put transactions, the search's comparisons were 15 % of the CPU, stalled on
//! those loads; with the lines asked for first, 416k–547k items/s against 337k–462k in
//! alternated runs, and random gets of the loaded table 6–15 % faster.)
//!
//! A leaf decodes under a shared reference (readers hold the table's read lock), through a
//! `OnceLock`: the first reader decodes, any other waits for it, and the block's bytes are
//! dropped once decoded. A block that does not decode is `Corruption` for every read of
//! its leaf; a writer loads its leaf before it logs anything ([`Items::load`]), so a write
//! that was logged always applies.

use std::collections::{btree_map, BTreeMap};
use std::ops::Bound;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use crate::error::{Error, Result};
use crate::format::item::StoredItem;
use crate::format::table_file::{RawBlock, TableFileWriter};
use crate::model::schema::KeyShape;
use crate::state::item_key::ItemKey;
use crate::state::prefetch::prefetch_all;

/// The most items a leaf holds once written to; a fuller one splits into leaves of about
/// half as many (or, when items arrive in key order, into full ones and the rest).
const MAX_LEAF: usize = 32;

/// An item and its encoded key.
pub(crate) type Entry = (ItemKey, StoredItem);

/// A table's items in key order.
pub(crate) struct Items {
    /// Decodes raw leaves.
    shape: KeyShape,
    /// Every leaf by its `after` key; there is always one filed under the empty key.
    leaves: BTreeMap<ItemKey, Leaf>,
    len: u64,
    /// How many leaves are undecoded or failed to decode: while none are, a writer need not
    /// load its leaf before logging.
    raw_leaves: AtomicUsize,
}

/// A sorted run of items.
struct Leaf {
    /// The table file block the leaf was loaded from, until its items are decoded.
    raw: Mutex<Option<Arc<RawBlock>>>,
    /// Its items in key order once decoded (from the start for a leaf made by writes), or
    /// why its block did not decode.
    items: OnceLock<std::result::Result<Vec<Entry>, String>>,
}

impl Leaf {
    fn decoded(items: Vec<Entry>) -> Leaf {
        Leaf {
            raw: Mutex::new(None),
            items: OnceLock::from(Ok(items)),
        }
    }

    fn raw(block: RawBlock) -> Leaf {
        Leaf {
            raw: Mutex::new(Some(Arc::new(block))),
            items: OnceLock::new(),
        }
    }

    /// The leaf's items, decoded from its block by the first caller.
    fn items(&self, shape: &KeyShape, raw_leaves: &AtomicUsize) -> Result<&[Entry]> {
        let items = self.items.get_or_init(|| {
            let Some(block) = self.raw.lock().take() else {
                return Err("a leaf with neither items nor a block".to_owned());
            };
            let items = decode(&block, shape);
            if items.is_ok() {
                // (A leaf that failed stays counted: writes must keep checking it.)
                raw_leaves.fetch_sub(1, Relaxed);
            }
            items
        });
        items
            .as_deref()
            .map_err(|why| Error::Corruption(why.clone()))
    }

    fn items_mut(&mut self, shape: &KeyShape, raw_leaves: &AtomicUsize) -> Result<&mut Vec<Entry>> {
        self.items(shape, raw_leaves)?;
        match self.items.get_mut() {
            Some(Ok(items)) => Ok(items),
            Some(Err(why)) => Err(Error::Corruption(why.clone())),
            None => Err(Error::Corruption("a leaf was not decoded".to_owned())),
        }
    }

    /// Writes the leaf to a table file: as the block it was loaded from if it is still one.
    fn write_to(
        &self,
        writer: &mut TableFileWriter,
        shape: &KeyShape,
        raw_leaves: &AtomicUsize,
    ) -> Result<()> {
        if self.items.get().is_none() {
            if let Some(block) = self.raw.lock().as_deref() {
                return writer.push_raw(block);
            }
            // Decoded in between: write its items.
        }
        for (key, item) in self.items(shape, raw_leaves)? {
            writer.push(key.as_bytes(), item)?;
        }
        Ok(())
    }
}

/// A block's items as a leaf holds them, or why they do not decode.
fn decode(block: &RawBlock, shape: &KeyShape) -> std::result::Result<Vec<Entry>, String> {
    match block.decode(shape) {
        Ok(items) => Ok(items
            .into_iter()
            .map(|(key, item)| (ItemKey::from(key), item))
            .collect()),
        Err(Error::Corruption(why)) => Err(why),
        Err(other) => Err(other.to_string()),
    }
}

/// Cuts a leaf that has grown past [`MAX_LEAF`]: it keeps the first piece and the rest
/// come back with the keys to file them under. Items arriving in key order (`at_end`) fill
/// leaves; otherwise the pieces are even, about half full, with room in each.
fn split(items: &mut Vec<Entry>, at_end: bool) -> Vec<(ItemKey, Leaf)> {
    let len = items.len();
    // Even pieces are below `MAX_LEAF`, as `len < (pieces + 1) * MAX_LEAF / 2`.
    let pieces = match at_end {
        true => len.div_ceil(MAX_LEAF),
        false => (len / (MAX_LEAF / 2)).max(2),
    };
    let start = |i: usize| match at_end {
        true => MAX_LEAF * i,
        false => len * i / pieces,
    };
    // Cut from the back, so each item moves once.
    let mut leaves = Vec::with_capacity(pieces - 1);
    for i in (1..pieces).rev() {
        let mut piece = items.split_off(start(i));
        piece.reserve_exact(MAX_LEAF.saturating_sub(piece.len()));
        match items.last() {
            Some((after, _)) => leaves.push((after.clone(), Leaf::decoded(piece))),
            // (Every piece holds items; were one empty, the leaf would keep the rest.)
            None => *items = piece,
        }
    }
    items.shrink_to(MAX_LEAF);
    leaves
}

/// Where `key` is in a leaf's items, or where it would go.
fn search(items: &[Entry], key: &[u8]) -> std::result::Result<usize, usize> {
    prefetch_all(items);
    match ItemKey::inline(key) {
        Some(probe) => items.binary_search_by(|(k, _)| k.cmp(&probe)),
        None => items.binary_search_by(|(k, _)| k.as_bytes().cmp(key)),
    }
}

/// The key the first leaf is filed under: below every encoded key.
fn empty_key() -> ItemKey {
    ItemKey::from(&[][..])
}

impl Items {
    /// No items.
    pub fn new(shape: KeyShape) -> Items {
        Items {
            shape,
            leaves: BTreeMap::from([(empty_key(), Leaf::decoded(Vec::new()))]),
            len: 0,
            raw_leaves: AtomicUsize::new(0),
        }
    }

    /// The items of a table file's blocks, read in file order (the reader has checked
    /// that their last keys increase): one leaf per block, none decoded.
    pub fn from_blocks(shape: KeyShape, blocks: Vec<RawBlock>) -> Items {
        let mut leaves = BTreeMap::new();
        let mut after = empty_key();
        let mut len = 0;
        let raw_leaves = blocks.len();
        for block in blocks {
            len += u64::from(block.count());
            let last = ItemKey::from(block.last_key());
            leaves.insert(std::mem::replace(&mut after, last), Leaf::raw(block));
        }
        leaves
            .entry(empty_key())
            .or_insert_with(|| Leaf::decoded(Vec::new()));
        Items {
            shape,
            leaves,
            len,
            raw_leaves: AtomicUsize::new(raw_leaves),
        }
    }

    /// The number of items.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// The leaf `key` belongs in (`None` only for the empty key, which no encoded key is).
    fn leaf(&self, key: &[u8]) -> Option<&Leaf> {
        // (Searched by an inline key where the key is short, for its fast comparisons.)
        match ItemKey::inline(key) {
            Some(probe) => self.leaves.range::<ItemKey, _>(..probe).next_back(),
            None => self
                .leaves
                .range::<[u8], _>((Bound::Unbounded, Bound::Excluded(key)))
                .next_back(),
        }
        .map(|(_, leaf)| leaf)
    }

    /// The item at `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<&StoredItem>> {
        let Some(leaf) = self.leaf(key) else {
            return Ok(None);
        };
        let items = leaf.items(&self.shape, &self.raw_leaves)?;
        Ok(search(items, key).ok().map(|i| &items[i].1))
    }

    /// Decodes the leaf of `key` if it is still a block, so that a later write of `key`
    /// cannot fail: a writer calls this before it logs the write.
    pub fn load(&self, key: &[u8]) -> Result<()> {
        if self.raw_leaves.load(Relaxed) > 0 {
            if let Some(leaf) = self.leaf(key) {
                leaf.items(&self.shape, &self.raw_leaves)?;
            }
        }
        Ok(())
    }

    /// Whether every leaf is decoded: then [`Items::load`] has nothing left to do, for good
    /// (leaves are blocks only from an open).
    pub fn all_decoded(&self) -> bool {
        self.raw_leaves.load(Relaxed) == 0
    }

    /// Decodes every leaf that is still a block, so that nothing that reads every item
    /// (building an index) can fail later.
    pub fn load_all(&self) -> Result<()> {
        if self.raw_leaves.load(Relaxed) > 0 {
            for leaf in self.leaves.values() {
                leaf.items(&self.shape, &self.raw_leaves)?;
            }
        }
        Ok(())
    }

    /// The first leaf after the one filed under `from` (from the start if `None`) that is
    /// still a block: its key, and its block to decode without holding the table (with
    /// [`UndecodedLeaf::decode`]) and install with [`Items::install`].
    pub fn next_undecoded(&self, from: Option<&[u8]>) -> Option<UndecodedLeaf> {
        if self.raw_leaves.load(Relaxed) == 0 {
            return None;
        }
        let after = from.map_or(Bound::Unbounded, Bound::Excluded);
        self.leaves
            .range::<[u8], _>((after, Bound::Unbounded))
            .find_map(|(key, leaf)| {
                let block = leaf.raw.lock().clone()?;
                Some(UndecodedLeaf {
                    key: key.clone(),
                    block,
                    shape: self.shape.clone(),
                })
            })
    }

    /// Installs a leaf decoded outside the table. A leaf still undecoded is the block it
    /// was loaded as (writes decode a leaf first); one decoded meanwhile keeps its items.
    pub fn install(&self, leaf: UndecodedLeaf, items: Vec<Entry>) {
        let Some(target) = self.leaves.get(&leaf.key) else {
            return;
        };
        // (The block is taken inside the initialisation, as `Leaf::items` does: a reader
        // racing this one waits for it rather than finding the block gone.)
        target.items.get_or_init(|| {
            let installed = match target.raw.lock().take() {
                Some(block) if Arc::ptr_eq(&block, &leaf.block) => Ok(items),
                Some(block) => decode(&block, &self.shape),
                None => Err("a leaf with neither items nor a block".to_owned()),
            };
            if installed.is_ok() {
                self.raw_leaves.fetch_sub(1, Relaxed);
            }
            installed
        });
    }

    /// Puts `item` at `key`; returns the item it replaced.
    pub fn insert(&mut self, key: ItemKey, item: StoredItem) -> Result<Option<StoredItem>> {
        let Some((_, leaf)) = self.leaves.range_mut::<ItemKey, _>(..&key).next_back() else {
            return Err(Error::validation("an item key cannot be empty"));
        };
        let items = leaf.items_mut(&self.shape, &self.raw_leaves)?;
        prefetch_all(items);
        match items.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(i) => Ok(Some(std::mem::replace(&mut items[i].1, item))),
            Err(i) => {
                let at_end = i == items.len();
                items.insert(i, (key, item));
                self.len += 1;
                if items.len() > MAX_LEAF {
                    let leaves = split(items, at_end);
                    self.leaves.extend(leaves);
                }
                Ok(None)
            }
        }
    }

    /// Removes the item at `key`; returns it.
    pub fn remove(&mut self, key: &[u8]) -> Result<Option<StoredItem>> {
        let found = match ItemKey::inline(key) {
            Some(probe) => self.leaves.range_mut::<ItemKey, _>(..probe).next_back(),
            None => self
                .leaves
                .range_mut::<[u8], _>((Bound::Unbounded, Bound::Excluded(key)))
                .next_back(),
        };
        let Some((after, leaf)) = found else {
            return Ok(None);
        };
        let items = leaf.items_mut(&self.shape, &self.raw_leaves)?;
        let Ok(i) = search(items, key) else {
            return Ok(None);
        };
        let (_, old) = items.remove(i);
        self.len -= 1;
        // The first leaf stays, even empty: every key has a leaf to go to. So does one
        // after a leaf still undecoded: a writer that loaded this leaf for a key
        // (`Items::load`) before logging must still find it decoded when it applies.
        if items.is_empty() && !after.as_bytes().is_empty() {
            let after = after.clone();
            let before_is_decoded = self
                .leaves
                .range::<[u8], _>((Bound::Unbounded, Bound::Excluded(after.as_bytes())))
                .next_back()
                .is_some_and(|(_, leaf)| matches!(leaf.items.get(), Some(Ok(_))));
            if before_is_decoded {
                self.leaves.remove(&after);
            }
        }
        Ok(Some(old))
    }

    /// The items with keys within the bounds, in key order (and reversible).
    pub fn range(&self, lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> Range<'_> {
        // The leaves from the one the lower bound falls in to the last one filed below the
        // upper bound (a leaf filed under `after` holds only keys above it).
        let first = match lower {
            Bound::Unbounded => None,
            Bound::Included(key) | Bound::Excluded(key) => self
                .leaves
                .range::<[u8], _>((Bound::Unbounded, Bound::Excluded(key)))
                .next_back()
                .map(|(after, _)| after.as_bytes()),
        };
        let last = match upper {
            Bound::Unbounded => None,
            Bound::Included(key) | Bound::Excluded(key) => Some(key),
        };
        let leaves = match (first, last) {
            (Some(first), Some(last)) if first >= last => self
                .leaves
                .range::<[u8], _>((Bound::Included(last), Bound::Excluded(last))),
            _ => self.leaves.range::<[u8], _>((
                first.map_or(Bound::Unbounded, Bound::Included),
                last.map_or(Bound::Unbounded, Bound::Excluded),
            )),
        };
        Range {
            items: self,
            leaves,
            lower: lower.map(<[u8]>::to_vec),
            upper: upper.map(<[u8]>::to_vec),
            front: [].iter(),
            back: [].iter(),
            failed: false,
        }
    }

    /// Every item in key order.
    pub fn iter(&self) -> Range<'_> {
        self.range(Bound::Unbounded, Bound::Unbounded)
    }

    /// Writes every item to a table file, leaves still undecoded as the blocks they were
    /// loaded from.
    pub fn write_to(&self, writer: &mut TableFileWriter) -> Result<()> {
        for leaf in self.leaves.values() {
            leaf.write_to(writer, &self.shape, &self.raw_leaves)?;
        }
        Ok(())
    }
}

/// A leaf to decode away from its table ([`Items::next_undecoded`]).
pub(crate) struct UndecodedLeaf {
    /// The leaf's key in the map of leaves.
    pub key: ItemKey,
    block: Arc<RawBlock>,
    shape: KeyShape,
}

impl UndecodedLeaf {
    /// The leaf's items, or `None` if its block does not decode (the reads of it will say
    /// why).
    pub fn decode(&self) -> Option<Vec<Entry>> {
        decode(&self.block, &self.shape).ok()
    }
}

impl std::fmt::Debug for Items {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Items")
            .field("len", &self.len)
            .field("leaves", &self.leaves.len())
            .field("raw_leaves", &self.raw_leaves.load(Relaxed))
            .finish()
    }
}

/// Items within bounds, from either end; a leaf that does not decode ends it with its
/// error.
pub(crate) struct Range<'a> {
    items: &'a Items,
    leaves: btree_map::Range<'a, ItemKey, Leaf>,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
    front: std::slice::Iter<'a, Entry>,
    back: std::slice::Iter<'a, Entry>,
    failed: bool,
}

impl<'a> Range<'a> {
    /// A leaf's items within the bounds.
    fn open(&mut self, leaf: &'a Leaf) -> Option<Result<&'a Entry>> {
        match leaf.items(&self.items.shape, &self.items.raw_leaves) {
            Ok(items) => {
                let start = match &self.lower {
                    Bound::Unbounded => 0,
                    Bound::Included(k) => items.partition_point(|(x, _)| x.as_bytes() < &k[..]),
                    Bound::Excluded(k) => items.partition_point(|(x, _)| x.as_bytes() <= &k[..]),
                };
                let end = match &self.upper {
                    Bound::Unbounded => items.len(),
                    Bound::Included(k) => items.partition_point(|(x, _)| x.as_bytes() <= &k[..]),
                    Bound::Excluded(k) => items.partition_point(|(x, _)| x.as_bytes() < &k[..]),
                };
                self.front = items[start..end.max(start)].iter();
                None
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl<'a> Iterator for Range<'a> {
    type Item = Result<&'a Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.front.next() {
                return Some(Ok(entry));
            }
            if self.failed {
                return None;
            }
            match self.leaves.next() {
                Some((_, leaf)) => {
                    if let Some(error) = self.open(leaf) {
                        return Some(error);
                    }
                }
                None => return self.back.next().map(Ok),
            }
        }
    }
}

impl DoubleEndedIterator for Range<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.back.next_back() {
                return Some(Ok(entry));
            }
            if self.failed {
                return None;
            }
            match self.leaves.next_back() {
                Some((_, leaf)) => {
                    // `open` fills the front; move it to the back.
                    let front = std::mem::replace(&mut self.front, [].iter());
                    let error = self.open(leaf);
                    self.back = std::mem::replace(&mut self.front, front);
                    if let Some(error) = error {
                        return Some(error);
                    }
                }
                None => return self.front.next_back().map(Ok),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::tables::CreateTableInput;
    use crate::format::table_file::{TableFileReader, SNAPSHOT_MAGIC};
    use crate::fs::sim::SimFs;
    use crate::fs::Vfs;
    use crate::model::clock::Timestamp;
    use crate::model::key::KeyRole;
    use crate::model::schema::ScalarAttributeType::S;
    use crate::model::value::{AttributeValue, Item};
    use proptest::prelude::*;
    use std::path::Path;

    fn shape() -> KeyShape {
        CreateTableInput::new("items")
            .hash_key("pk", S)
            .pay_per_request()
            .to_schema(Timestamp(0))
            .expect("schema")
            .key
    }

    /// Item `i` with a value of `len` bytes, and its encoded key.
    fn item(i: u16, len: usize) -> (Vec<u8>, StoredItem) {
        let mut item = Item::new();
        item.insert("pk".into(), AttributeValue::s(format!("k{i:05}")));
        item.insert("v".into(), AttributeValue::B(vec![i as u8; len]));
        let key = shape().encode(&item, KeyRole::Table).expect("key");
        (key, StoredItem::new(&item))
    }

    /// `items` written to a table file and read back as its blocks.
    fn blocks(items: &BTreeMap<Vec<u8>, StoredItem>) -> Vec<RawBlock> {
        let fs = SimFs::new();
        let path = Path::new("/t.snap");
        let mut writer =
            TableFileWriter::create(&fs, path, SNAPSHOT_MAGIC, b"meta").expect("create");
        for (key, item) in items {
            writer.push(key, item).expect("push");
        }
        writer.finish().expect("finish");
        let mut reader = TableFileReader::open(&fs, path, SNAPSHOT_MAGIC).expect("open");
        let mut blocks = Vec::new();
        while let Some(block) = reader.next_raw().expect("block") {
            blocks.push(block);
        }
        blocks
    }

    fn collect<'a>(range: impl Iterator<Item = Result<&'a Entry>>) -> Vec<Vec<u8>> {
        range
            .map(|entry| entry.expect("decodes").0.as_bytes().to_vec())
            .collect()
    }

    #[derive(Debug, Clone)]
    enum Op {
        Put(u16, usize),
        Delete(u16),
        Get(u16),
        Range(Bound<u16>, Bound<u16>, bool),
    }

    fn bound() -> impl Strategy<Value = Bound<u16>> {
        prop_oneof![
            Just(Bound::Unbounded),
            (0..400u16).prop_map(Bound::Included),
            (0..400u16).prop_map(Bound::Excluded),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..400u16, 0..3000usize).prop_map(|(i, len)| Op::Put(i, len)),
            2 => (0..400u16).prop_map(Op::Delete),
            1 => (0..400u16).prop_map(Op::Get),
            1 => (bound(), bound(), any::<bool>()).prop_map(|(l, u, r)| Op::Range(l, u, r)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the loaded file and the writes after it, the items read, in either
        /// direction and within any bounds, are a sorted map's.
        #[test]
        fn items_behave_as_a_sorted_map_whether_loaded_or_written(
            loaded in proptest::collection::vec((0..400u16, 0..3000usize), 0..300),
            ops in proptest::collection::vec(op(), 0..400),
        ) {
            let mut model: BTreeMap<Vec<u8>, StoredItem> =
                loaded.iter().map(|&(i, len)| item(i, len)).collect();
            let mut items = Items::from_blocks(shape(), blocks(&model));
            let key = |i: u16| item(i, 0).0;
            let to_key = |b: Bound<u16>| b.map(key);
            for op in ops {
                match op {
                    Op::Put(i, len) => {
                        let (k, v) = item(i, len);
                        let old = items.insert(ItemKey::from(k.clone()), v.clone()).expect("put");
                        prop_assert_eq!(old, model.insert(k, v));
                    }
                    Op::Delete(i) => {
                        let old = items.remove(&key(i)).expect("delete");
                        prop_assert_eq!(old, model.remove(&key(i)));
                    }
                    Op::Get(i) => {
                        prop_assert_eq!(items.get(&key(i)).expect("get"), model.get(&key(i)));
                    }
                    Op::Range(lower, upper, reverse) => {
                        let (lower, upper) = (to_key(lower), to_key(upper));
                        let range = items.range(lower.as_ref().map(Vec::as_slice), upper.as_ref().map(Vec::as_slice));
                        // BTreeMap::range panics on inverted bounds; they hold nothing.
                        let inverted = match (&lower, &upper) {
                            (Bound::Included(l) | Bound::Excluded(l), Bound::Included(u) | Bound::Excluded(u)) => {
                                l > u || (l == u && !matches!((&lower, &upper), (Bound::Included(_), Bound::Included(_))))
                            }
                            _ => false,
                        };
                        let mut expected: Vec<Vec<u8>> = match inverted {
                            true => Vec::new(),
                            false => model.range::<Vec<u8>, _>((lower.clone(), upper.clone())).map(|(k, _)| k.clone()).collect(),
                        };
                        if reverse {
                            expected.reverse();
                            prop_assert_eq!(collect(range.rev()), expected);
                        } else {
                            prop_assert_eq!(collect(range), expected);
                        }
                    }
                }
                prop_assert_eq!(items.len(), model.len() as u64);
            }
            prop_assert_eq!(collect(items.iter()), model.keys().cloned().collect::<Vec<_>>());
            // Written out (raw leaves as their blocks) and loaded again, it is the same.
            let mut written = BTreeMap::new();
            {
                let fs = SimFs::new();
                let path = Path::new("/again.snap");
                let mut writer = TableFileWriter::create(&fs, path, SNAPSHOT_MAGIC, b"meta").expect("create");
                items.write_to(&mut writer).expect("write");
                writer.finish().expect("finish");
                let mut reader = TableFileReader::open(&fs, path, SNAPSHOT_MAGIC).expect("open");
                while let Some(block) = reader.next_block(&shape()).expect("block") {
                    written.extend(block);
                }
            }
            prop_assert_eq!(written, model);
        }
    }

    #[test]
    fn leaves_decoded_away_from_the_table_are_installed_only_while_unchanged() {
        let mut model: BTreeMap<Vec<u8>, StoredItem> = (0..300).map(|i| item(i, 1000)).collect();
        let mut items = Items::from_blocks(shape(), blocks(&model));
        // The first leaf is taken to decode, and its first item rewritten before it is
        // installed.
        let first = items.next_undecoded(None).expect("a block");
        let decoded = first.decode().expect("decodes");
        let lowest = (0..300).min_by_key(|&i| item(i, 0).0).expect("items");
        let (key, value) = item(lowest, 5);
        items
            .insert(ItemKey::from(key.clone()), value.clone())
            .expect("put");
        model.insert(key, value);
        items.install(first, decoded);
        let mut from = None;
        while let Some(leaf) = items.next_undecoded(from.as_ref().map(ItemKey::as_bytes)) {
            from = Some(leaf.key.clone());
            let decoded = leaf.decode().expect("decodes");
            items.install(leaf, decoded);
        }
        assert!(items.leaves.values().all(|leaf| leaf.items.get().is_some()));
        assert_eq!(items.raw_leaves.load(Relaxed), 0, "and counted so");
        let all: BTreeMap<Vec<u8>, StoredItem> = items
            .iter()
            .map(|entry| entry.expect("decodes"))
            .map(|(key, item)| (key.as_bytes().to_vec(), item.clone()))
            .collect();
        assert_eq!(all, model);
    }

    /// A writer loads the leaf of its key before logging; a delete that empties that leaf
    /// meanwhile must not hand the key to a leaf before it that is still a block (which
    /// might not decode, and the logged write would fail to apply).
    #[test]
    fn a_leaf_emptied_after_a_writer_loaded_it_stays_while_the_leaf_before_is_a_block() {
        let table = shape();
        let other = CreateTableInput::new("items")
            .hash_key("other", S)
            .pay_per_request()
            .to_schema(Timestamp(0))
            .expect("schema")
            .key;
        // Leaf A: a block that does not decode under the table's key (checksums hold).
        let mut bad = Item::new();
        bad.insert("other".into(), AttributeValue::s("x"));
        let bad_key = other.encode(&bad, KeyRole::Table).expect("key");
        let mut blocks_a = blocks(&BTreeMap::from([(bad_key.clone(), StoredItem::new(&bad))]));
        // Leaf B: one item after A's last key; `k`: a key after it, not in the table.
        let mut after: Vec<(Vec<u8>, StoredItem)> = (0..1000)
            .map(|i| item(i, 1))
            .filter(|(key, _)| *key > bad_key)
            .collect();
        after.sort_by(|a, b| a.0.cmp(&b.0));
        let (g, k) = (after[0].clone(), after[1].clone());
        blocks_a.extend(blocks(&BTreeMap::from([g.clone()])));
        let mut items = Items::from_blocks(table, blocks_a);
        items.load(&k.0).expect("B decodes");
        items.remove(&g.0).expect("delete").expect("was there");
        assert!(items.insert(ItemKey::from(k.0), k.1).is_ok());
    }

    #[test]
    fn iterating_from_both_ends_meets_in_the_middle_without_repeats() {
        let model: BTreeMap<Vec<u8>, StoredItem> = (0..300).map(|i| item(i, 1000)).collect();
        let items = Items::from_blocks(shape(), blocks(&model));
        let mut range = items.iter();
        let mut seen = Vec::new();
        while let Some(front) = range.next() {
            seen.push(front.expect("decodes").0.as_bytes().to_vec());
            let Some(back) = range.next_back() else { break };
            seen.push(back.expect("decodes").0.as_bytes().to_vec());
        }
        seen.sort();
        assert_eq!(seen, model.keys().cloned().collect::<Vec<_>>());
    }

    #[test]
    fn a_leaf_whose_block_does_not_decode_is_corruption_for_reads_and_writes() {
        let model: BTreeMap<Vec<u8>, StoredItem> = (0..300).map(|i| item(i, 1000)).collect();
        let fs = SimFs::new();
        let path = Path::new("/t.snap");
        let mut writer =
            TableFileWriter::create(&fs, path, SNAPSHOT_MAGIC, b"meta").expect("create");
        for (key, item) in &model {
            writer.push(key, item).expect("push");
        }
        writer.finish().expect("finish");
        // The blocks of a file for another key shape: checksums hold, items do not decode
        // under this table's key.
        let mut reader = TableFileReader::open(&fs, path, SNAPSHOT_MAGIC).expect("open");
        let mut blocks = Vec::new();
        while let Some(block) = reader.next_raw().expect("block") {
            blocks.push(block);
        }
        let other = CreateTableInput::new("items")
            .hash_key("other", S)
            .pay_per_request()
            .to_schema(Timestamp(0))
            .expect("schema")
            .key;
        let mut items = Items::from_blocks(other, blocks);
        let (key, value) = item(7, 10);
        assert!(matches!(items.get(&key), Err(Error::Corruption(_))));
        assert!(matches!(items.load(&key), Err(Error::Corruption(_))));
        assert!(matches!(
            items.insert(ItemKey::from(key.clone()), value),
            Err(Error::Corruption(_))
        ));
        assert!(matches!(items.remove(&key), Err(Error::Corruption(_))));
        assert!(matches!(
            items.iter().next(),
            Some(Err(Error::Corruption(_)))
        ));
        assert!(items.iter().nth(1).is_none(), "the error ends the range");
        assert_eq!(items.len(), 300, "nothing changed");
        let _ = fs.remove_file(path);
    }
}
