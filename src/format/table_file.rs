//! Table files: a table's schema and items as of one LSN, written and read as a stream.
//!
//! The same container holds a table's checkpoint snapshot and (with another magic and
//! richer metadata) a backup, so one writer, one reader and one set of corruption tests
//! serve both.
//!
//! # File layout (integers little-endian)
//!
//! ```text
//! header
//!   0  magic    [u8; 8]   b"TIDESNAP" (snapshot) or b"TIDEBKUP" (backup)
//!   8  version  u32       SNAPSHOT_VERSION or BACKUP_VERSION (see "Versions" below)
//!  12  len      u32       length of the metadata, at most MAX_BLOCK_LEN
//!  16  crc      u32       CRC-32C of bytes 0..16 and the metadata
//!  20  meta     [u8; len] the codec's encoding of the caller's metadata (table id, schema,
//!                         LSN, …), which is inside the checksum: a snapshot's LSN can never
//!                         disagree with its contents (the etcd #13766 lesson)
//! block, repeated
//!   0  kind     u8        BLOCK_ITEMS or BLOCK_END
//!   1  len      u32       payload length, at most MAX_BLOCK_LEN
//!   5  crc      u32       CRC-32C of bytes 0..5 and the payload
//!   9  payload  [u8; len] items (below), or for the end block the codec's encoding of
//!                         `Footer`
//! items payload
//!   0  count       u32    items in the block
//!   4  item_bytes  u64    their DynamoDB size (name and value bytes)
//!  12  key_len     u32    length of the block's last key
//!  16  last_key    [u8]   the encoded key of the block's last item
//!   …  items              encoded items back to back, in key order
//! ```
//!
//! The end block is the file's last bytes; its footer counts items, bytes and blocks, so a
//! file cut at a block boundary is told apart from a complete one. Items are in strictly
//! increasing key order: identical tables give byte-identical files. Each block names its
//! last key and counts, so a merge can copy a block that no change touches without decoding
//! it (`TableFileReader::next_raw`, `TableFileWriter::push_raw`): that is what makes a
//! backup or snapshot of a large, mostly unchanged table run at the speed of a copy.
//!
//! # Versions
//!
//! The container is the same in versions 2 to 4; what changed is a snapshot's metadata.
//!
//! ```text
//! snapshot meta, version 4 (written):  table_id:string  lsn:varint  schema  settings
//! snapshot meta, version 3 (read):     table_id:string  lsn:varint  schema  settings_v1
//! snapshot meta, version 2 (read):     table_id:string  lsn:varint  schema
//! settings := TableSettings, settings_v1 := SettingsV1, as drawn in `mutation.rs`
//! ```
//!
//! Version 4 added the table's resource policies to its settings; a version 3 snapshot reads
//! as a table without any, which is what it was.
//!
//! Version 3 added the table's settings (tags and Time to Live), which are the table's state
//! as of the snapshot's LSN just like its items: the log before that LSN may be gone. A
//! version 2 snapshot reads as a table with no tags and Time to Live disabled, which is what
//! it was (no earlier build had either). Backups are still written as version 2: their
//! metadata did not change (a backup carries no settings, since no restore carries them
//! over), so an older build still restores them.

use std::path::Path;
use std::sync::Arc;

use crate::error::{io_error, Error, Result};
use crate::format::codec;
use crate::format::item::StoredItem;
use crate::fs::throttle::{Pacer, WRITEBACK_WHILE_COMMITTING};
use crate::fs::{Vfs, VfsFile};
use crate::model::key::EncodedKey;
use crate::model::schema::KeyShape;
use crate::model::schema::TableSchema;
use crate::model::settings::TableSettings;
use crate::model::Lsn;

/// What a snapshot file's header holds (version 4; see "Versions" above).
#[derive(Debug, Clone, bincode::Encode, bincode::Decode)]
pub(crate) struct SnapshotMeta {
    pub table_id: String,
    /// The table's state after every record up to this LSN.
    pub lsn: Lsn,
    pub schema: TableSchema,
    /// Its tags, Time to Live setting and resource policies at that LSN.
    pub settings: Arc<TableSettings>,
}

impl SnapshotMeta {
    /// The metadata of the snapshot `reader` has open, whichever version it is.
    pub fn read(reader: &TableFileReader) -> Result<SnapshotMeta> {
        let what = format_args!("snapshot {}", reader.path.display());
        match reader.version {
            VERSION_2 => {
                let meta: v2::SnapshotMeta = codec::decode(reader.meta(), what)?;
                Ok(SnapshotMeta {
                    table_id: meta.table_id,
                    lsn: meta.lsn,
                    schema: meta.schema,
                    settings: Arc::default(),
                })
            }
            VERSION_3 => {
                let meta: v3::SnapshotMeta = codec::decode(reader.meta(), what)?;
                Ok(SnapshotMeta {
                    table_id: meta.table_id,
                    lsn: meta.lsn,
                    schema: meta.schema,
                    settings: Arc::new(meta.settings.into()),
                })
            }
            _ => codec::decode(reader.meta(), what),
        }
    }
}

/// Version 2 of a snapshot's metadata, read so that snapshots written before version 3
/// still open: it has no settings, as no table had any then.
mod v2 {
    use super::*;

    #[derive(bincode::Encode, bincode::Decode)]
    pub(super) struct SnapshotMeta {
        pub(super) table_id: String,
        pub(super) lsn: Lsn,
        pub(super) schema: TableSchema,
    }
}

/// Version 3 of a snapshot's metadata, read so that snapshots written before version 4
/// still open: its settings have no resource policies, as no table had any then.
mod v3 {
    use super::*;
    use crate::format::mutation::SettingsV1;

    #[derive(bincode::Encode, bincode::Decode)]
    pub(super) struct SnapshotMeta {
        pub(super) table_id: String,
        pub(super) lsn: Lsn,
        pub(super) schema: TableSchema,
        pub(super) settings: SettingsV1,
    }
}

/// The magic of a checkpoint snapshot.
pub(crate) const SNAPSHOT_MAGIC: [u8; 8] = *b"TIDESNAP";
/// The format snapshots are written in: version 3 added the table's settings to the
/// metadata, version 4 its resource policies to them. Versions 2 and 3 are read too.
pub(crate) const SNAPSHOT_VERSION: u32 = 4;
const VERSION_3: u32 = 3;
/// The format backups are written (and read) in: their metadata is unchanged since version 2.
pub(crate) const BACKUP_VERSION: u32 = VERSION_2;
const VERSION_2: u32 = 2;

/// The versions this build reads of files with `magic`, the last of them the one it writes.
fn versions(magic: [u8; 8]) -> std::ops::RangeInclusive<u32> {
    if magic == SNAPSHOT_MAGIC {
        VERSION_2..=SNAPSHOT_VERSION
    } else {
        BACKUP_VERSION..=BACKUP_VERSION
    }
}

const HEADER_LEN: usize = 20;
const BLOCK_HEADER_LEN: usize = 9;
const BLOCK_ITEMS: u8 = 1;
const BLOCK_END: u8 = 2;
/// How far behind the bytes handed to writeback a writer that keeps its file out of the
/// page cache ([`TableFileWriter::uncached`]) drops their pages: far enough that their
/// writeback has most likely ended (pages still being written back are not dropped).
const DROP_LAG_BYTES: u64 = 4 << 20;
// Pages a span ago were handed to writeback at most a span ago: the lag must be longer.
const _: () = assert!(DROP_LAG_BYTES >= 2 * crate::fs::throttle::WRITEBACK_OTHERWISE);
/// Items are gathered into blocks of about this size.
const TARGET_BLOCK_LEN: usize = 64 * 1024;
/// The largest block (or metadata) a reader accepts: a block holds at least one item of at
/// most 400 KB, whose encoding is larger than its DynamoDB size by a bounded factor.
pub(crate) const MAX_BLOCK_LEN: usize = 4 * 1024 * 1024;

/// What the end block records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct Footer {
    pub items: u64,
    pub blocks: u64,
    pub item_bytes: u64,
}

/// The fixed part of an items block's payload: count, item bytes and the last key's length.
const ITEMS_PREFIX_LEN: usize = 16;

/// A verified items block, not yet decoded.
#[derive(Debug)]
pub(crate) struct RawBlock {
    payload: Vec<u8>,
    count: u32,
    item_bytes: u64,
    key_end: usize,
    /// The last key of the block before this one: every item of this one comes after it.
    before: Option<EncodedKey>,
    /// The file and the block's offset in it, for errors.
    path: std::sync::Arc<Path>,
    offset: u64,
}

impl RawBlock {
    /// How many items the block holds (as its prefix says; decoding checks it).
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The DynamoDB size of its items (as its prefix says; decoding checks it).
    pub fn item_bytes(&self) -> u64 {
        self.item_bytes
    }

    /// The encoded key of the block's last item.
    pub fn last_key(&self) -> &[u8] {
        &self.payload[ITEMS_PREFIX_LEN..self.key_end]
    }

    fn corrupt(&self, why: &str) -> Error {
        Error::Corruption(format!(
            "table file {} at offset {}: {why}",
            self.path.display(),
            self.offset
        ))
    }

    /// Decodes the block's items, checking every item's key, the order (after the previous
    /// block's last key, up to this block's), the count and the size. Needs nothing of the
    /// reader, so blocks can be decoded on other threads while it reads on.
    pub fn decode(&self, key: &KeyShape) -> Result<Vec<(EncodedKey, StoredItem)>> {
        // The count is read from disk: every item takes at least a byte of the payload.
        let capacity = (self.count as usize).min(self.payload.len());
        let mut items: Vec<(EncodedKey, StoredItem)> = Vec::with_capacity(capacity);
        let mut rest = &self.payload[self.key_end..];
        let mut item_bytes = 0u64;
        while !rest.is_empty() {
            let (item, encoded, used) = StoredItem::read_keyed(rest, key)
                .map_err(|e| self.corrupt(&format!("item: {e}")))?;
            rest = &rest[used..];
            let previous = items.last().map(|(k, _)| k).or(self.before.as_ref());
            if previous.is_some_and(|p| p >= &encoded) {
                return Err(self.corrupt("items out of key order"));
            }
            item_bytes += item.size() as u64;
            items.push((encoded, item));
        }
        if items.len() != self.count as usize
            || item_bytes != self.item_bytes
            || items.last().map(|(k, _)| k.as_slice()) != Some(self.last_key())
        {
            return Err(
                self.corrupt("an items block's count, size or last key does not match its items")
            );
        }
        Ok(items)
    }
}

/// An item of a block as [`RawBlock::scan`] finds it.
#[derive(Debug)]
pub(crate) struct ScannedItem<'a> {
    /// Where its encoded key is in the caller's key buffer.
    pub key: std::ops::Range<usize>,
    /// Its encoding, in the block.
    pub encoding: &'a [u8],
    /// Its DynamoDB size.
    pub size: u32,
}

impl RawBlock {
    /// The block's items as they are, without decoding them: each one's encoding and size,
    /// and its encoded key appended to `keys` — for a merge that copies the items a change
    /// does not touch. `None` unless they scan as exactly this block's items (count, size,
    /// keys strictly increasing after the previous block's, ending at its last key); the
    /// caller then decodes the block, which says what is wrong.
    pub fn scan(&self, shape: &KeyShape, keys: &mut Vec<u8>) -> Option<Vec<ScannedItem<'_>>> {
        let names = [
            Some(shape.partition().name.as_str()),
            shape.sort().map(|r| r.name.as_str()),
        ];
        // The count is read from disk: every item takes at least a byte of the payload.
        let capacity = (self.count as usize).min(self.payload.len());
        let mut items: Vec<ScannedItem> = Vec::with_capacity(capacity);
        let mut rest = &self.payload[self.key_end..];
        let mut item_bytes = 0u64;
        while !rest.is_empty() {
            let item = crate::format::item::scan(rest, names)?;
            rest = &rest[item.encoding.len()..];
            let start = keys.len();
            if !shape.encode_stored_into(item.values[0], item.values[1], keys) {
                return None;
            }
            // Keys strictly increase, from the previous block's last key on: the merge
            // relies on it (a repeated key would hide behind a change that replaces it).
            let previous = match items.last() {
                Some(last) => Some(&keys[last.key.clone()]),
                None => self.before.as_deref(),
            };
            if previous.is_some_and(|p| p >= &keys[start..]) {
                return None;
            }
            item_bytes += u64::from(item.size);
            items.push(ScannedItem {
                key: start..keys.len(),
                encoding: item.encoding,
                size: item.size,
            });
        }
        let last = items.last().map(|item| &keys[item.key.clone()]);
        (items.len() == self.count as usize
            && item_bytes == self.item_bytes
            && last == Some(self.last_key()))
        .then_some(items)
    }
}

/// Items and bytes written so far, shared with whoever reports a build's progress.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    pub items: std::sync::atomic::AtomicU64,
    /// Bytes of file written.
    pub bytes: std::sync::atomic::AtomicU64,
    /// DynamoDB size of the items written.
    pub item_bytes: std::sync::atomic::AtomicU64,
}

impl Progress {
    /// Back to nothing written, for a build that starts again.
    pub fn reset(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        self.items.store(0, Relaxed);
        self.bytes.store(0, Relaxed);
        self.item_bytes.store(0, Relaxed);
    }
}

/// Writes a table file block by block.
pub(crate) struct TableFileWriter<'p> {
    /// Where to count progress, if anywhere.
    pub progress: Option<&'p Progress>,
    /// What paces the writes, if anything (`fs/throttle.rs`).
    pub pacer: Option<Pacer<'p>>,
    /// Whether the file's pages leave the page cache once written back (a backup, read
    /// only by a restore): writing it then neither evicts what the application has cached
    /// nor grows the cache. Measured on this project's VM class, whose host backs memory
    /// the guest has not used lately only as it is touched: once 4-5 GB of backups filled
    /// the cache, each new page cost a fault on the host, and a 125 MB backup took
    /// 0.33-0.55 s instead of 0.08-0.10 s.
    pub uncached: bool,
    file: Box<dyn VfsFile>,
    path: std::path::PathBuf,
    /// Encoded items of the block being filled, and their count and size.
    block: Vec<u8>,
    block_count: u32,
    block_item_bytes: u64,
    footer: Footer,
    bytes: u64,
    /// Where the bytes not yet handed to writeback start.
    writeback_from: u64,
    /// Where the pages an uncached writer has not dropped yet start.
    cached_from: u64,
    /// The last key written (empty before the first: every encoded key is longer), kept in
    /// one buffer rather than cloned per item.
    last_key: EncodedKey,
}

impl<'p> TableFileWriter<'p> {
    /// Creates `path` (replacing any file there) and writes the header with `meta`.
    pub fn create(
        fs: &dyn Vfs,
        path: &Path,
        magic: [u8; 8],
        meta: &[u8],
    ) -> Result<TableFileWriter<'p>> {
        if meta.len() > MAX_BLOCK_LEN {
            return Err(Error::validation(format!(
                "table file metadata of {} bytes is too large",
                meta.len()
            )));
        }
        let mut header = Vec::with_capacity(HEADER_LEN + meta.len());
        header.extend_from_slice(&magic); // magic
        header.extend_from_slice(&versions(magic).end().to_le_bytes()); // version
        header.extend_from_slice(&(meta.len() as u32).to_le_bytes()); // len
        let crc = codec::crc_append(codec::crc(&header), meta);
        header.extend_from_slice(&crc.to_le_bytes()); // crc
        header.extend_from_slice(meta); // meta
        let mut file = fs
            .create(path)
            .map_err(io_error(format!("creating table file {}", path.display())))?;
        file.append(&header)
            .map_err(io_error(format!("writing table file {}", path.display())))?;
        Ok(TableFileWriter {
            progress: None,
            pacer: None,
            uncached: false,
            file,
            path: path.to_owned(),
            block: Vec::with_capacity(TARGET_BLOCK_LEN * 2),
            block_count: 0,
            block_item_bytes: 0,
            footer: Footer {
                items: 0,
                blocks: 0,
                item_bytes: 0,
            },
            bytes: header.len() as u64,
            writeback_from: 0,
            cached_from: 0,
            last_key: EncodedKey::new(),
        })
    }

    /// Appends an item; `key` is its encoded key, which must be greater than the last one.
    pub fn push(&mut self, key: &[u8], item: &StoredItem) -> Result<()> {
        self.push_encoded(key, item.encoding(), item.size() as u32)
    }

    /// Appends an item given as its encoding and DynamoDB size (one scanned from another
    /// table file, [`RawBlock::scan`]); as [`TableFileWriter::push`].
    pub fn push_encoded(&mut self, key: &[u8], encoding: &[u8], size: u32) -> Result<()> {
        if !self.last_key.is_empty() && self.last_key.as_slice() >= key {
            return Err(Error::Corruption(format!(
                "table file {}: items out of key order",
                self.path.display()
            )));
        }
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.block.extend_from_slice(encoding);
        self.block_count += 1;
        self.block_item_bytes += u64::from(size);
        if self.block.len() >= TARGET_BLOCK_LEN {
            self.flush_items()?;
        }
        Ok(())
    }

    /// Appends a block read from another table file, as it is. The caller guarantees its
    /// items come after every item written so far (the merge copies only blocks that no
    /// change falls into).
    pub fn push_raw(&mut self, block: &RawBlock) -> Result<()> {
        self.flush_items()?;
        if !self.last_key.is_empty() && self.last_key.as_slice() >= block.last_key() {
            return Err(Error::Corruption(format!(
                "table file {}: blocks out of key order",
                self.path.display()
            )));
        }
        self.last_key.clear();
        self.last_key.extend_from_slice(block.last_key());
        self.count(block.count, block.item_bytes);
        self.write_frame(BLOCK_ITEMS, &[&block.payload])
    }

    fn count(&mut self, items: u32, item_bytes: u64) {
        self.footer.items += u64::from(items);
        self.footer.item_bytes += item_bytes;
        if let Some(progress) = self.progress {
            use std::sync::atomic::Ordering::Relaxed;
            progress.items.fetch_add(u64::from(items), Relaxed);
            progress.item_bytes.fetch_add(item_bytes, Relaxed);
        }
    }

    /// Writes the items gathered so far as one block (nothing if there are none).
    fn flush_items(&mut self) -> Result<()> {
        if self.block_count == 0 {
            return Ok(());
        }
        let mut prefix = Vec::with_capacity(ITEMS_PREFIX_LEN + self.last_key.len());
        prefix.extend_from_slice(&self.block_count.to_le_bytes()); // count
        prefix.extend_from_slice(&self.block_item_bytes.to_le_bytes()); // item_bytes
        prefix.extend_from_slice(&(self.last_key.len() as u32).to_le_bytes()); // key_len
        prefix.extend_from_slice(&self.last_key); // last_key
        self.count(self.block_count, self.block_item_bytes);
        let block = std::mem::take(&mut self.block);
        let written = self.write_frame(BLOCK_ITEMS, &[&prefix, &block]); // items
        self.block = block;
        self.block.clear();
        self.block_count = 0;
        self.block_item_bytes = 0;
        written
    }

    /// Writes one block whose payload is `parts` one after the other. (NB: the parts are
    /// written as they are, not gathered into one buffer first: a build writes every byte
    /// of a table, and each copy of it was a few percent of a backup.)
    fn write_frame(&mut self, kind: u8, parts: &[&[u8]]) -> Result<()> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let mut header = Vec::with_capacity(BLOCK_HEADER_LEN);
        header.push(kind); // kind
        header.extend_from_slice(&(len as u32).to_le_bytes()); // len
        let crc = parts.iter().fold(codec::crc(&header), |crc, part| {
            codec::crc_append(crc, part)
        });
        header.extend_from_slice(&crc.to_le_bytes()); // crc
        self.file
            .append(&header)
            .map_err(file_error("writing", &self.path))?;
        for part in parts {
            self.file
                .append(part)
                .map_err(file_error("writing", &self.path))?;
        }
        let frame_len = (BLOCK_HEADER_LEN + len) as u64;
        self.bytes += frame_len;
        // A writer without a pacer (a build its caller waits for) hands writeback the small
        // spans, as if commits were being made.
        let span = self
            .pacer
            .as_ref()
            .map_or(WRITEBACK_WHILE_COMMITTING, Pacer::writeback_span);
        if self.bytes - self.writeback_from >= span {
            // NB: hand what was written to the disk as the file grows (RocksDB's
            // `bytes_per_sync`): the final sync then flushes at most this much, and a
            // writer's log sync never waits behind the whole file.
            self.file
                .start_writeback(self.writeback_from, self.bytes - self.writeback_from);
            self.writeback_from = self.bytes;
            let written_back = self.writeback_from.saturating_sub(DROP_LAG_BYTES);
            if self.uncached && written_back > self.cached_from {
                self.file
                    .drop_cached(self.cached_from, written_back - self.cached_from);
                self.cached_from = written_back;
            }
        }
        if let Some(progress) = self.progress {
            progress
                .bytes
                .fetch_add(frame_len, std::sync::atomic::Ordering::Relaxed);
        }
        if let Some(pacer) = &mut self.pacer {
            pacer.wrote(frame_len);
        }
        // NB: give the CPU back between blocks. On a small machine a snapshot (or backup)
        // build otherwise holds a core for its whole run and the writers' wake-ups queue
        // behind it: measured writer p99 ×7–18 during a build without this, ×1.3–3 with it.
        std::thread::yield_now();
        if kind == BLOCK_ITEMS {
            self.footer.blocks += 1;
        }
        Ok(())
    }

    /// Writes the last items and the end block, and syncs the file. Returns its length.
    pub fn finish(mut self) -> Result<u64> {
        self.flush_items()?;
        let footer = codec::encode(&self.footer);
        self.write_frame(BLOCK_END, &[&footer])?;
        self.file.sync_all().map_err(io_error(format!(
            "syncing table file {}",
            self.path.display()
        )))?;
        if self.uncached {
            // All of it is clean now (0: to the end of the file).
            self.file.drop_cached(0, 0);
        }
        Ok(self.bytes)
    }
}

/// Reads a table file block by block, verifying every checksum, the key order and the
/// footer's counts.
pub(crate) struct TableFileReader {
    file: Box<dyn VfsFile>,
    path: std::sync::Arc<Path>,
    /// The header's format version: how to read the metadata.
    version: u32,
    meta: Vec<u8>,
    offset: u64,
    len: u64,
    /// Counts of the blocks read so far, checked against the footer.
    counted: Footer,
    /// The last key of the block last returned.
    last_key: Option<EncodedKey>,
    done: bool,
}

impl TableFileReader {
    /// Opens `path` and checks its header against `magic`.
    pub fn open(fs: &dyn Vfs, path: &Path, magic: [u8; 8]) -> Result<TableFileReader> {
        let corrupt =
            |why: &str| Error::Corruption(format!("table file {}: {why}", path.display()));
        let file = fs
            .open(path)
            .map_err(io_error(format!("opening table file {}", path.display())))?;
        let len = file
            .len()
            .map_err(io_error(format!("reading table file {}", path.display())))?;
        let mut header = [0u8; HEADER_LEN];
        if len < HEADER_LEN as u64 {
            return Err(corrupt("shorter than its header"));
        }
        file.read_exact_at(0, &mut header)
            .map_err(io_error(format!("reading table file {}", path.display())))?;
        if header[..8] != magic {
            return Err(corrupt("wrong magic: not a file of this kind"));
        }
        let version = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
        let readable = versions(magic);
        if !readable.contains(&version) {
            return Err(corrupt(&format!(
                "unknown format version {version} (this build reads versions {} to {})",
                readable.start(),
                readable.end()
            )));
        }
        let meta_len =
            u32::from_le_bytes([header[12], header[13], header[14], header[15]]) as usize;
        if meta_len > MAX_BLOCK_LEN || (HEADER_LEN + meta_len) as u64 > len {
            return Err(corrupt("metadata length exceeds the file"));
        }
        let mut meta = vec![0u8; meta_len];
        file.read_exact_at(HEADER_LEN as u64, &mut meta)
            .map_err(io_error(format!("reading table file {}", path.display())))?;
        let crc = u32::from_le_bytes([header[16], header[17], header[18], header[19]]);
        if codec::crc_append(codec::crc(&header[..16]), &meta) != crc {
            return Err(corrupt("header checksum mismatch"));
        }
        Ok(TableFileReader {
            file,
            path: path.into(),
            version,
            meta,
            offset: (HEADER_LEN + meta_len) as u64,
            len,
            counted: Footer {
                items: 0,
                blocks: 0,
                item_bytes: 0,
            },
            last_key: None,
            done: false,
        })
    }

    /// The metadata bytes of the header (verified).
    pub fn meta(&self) -> &[u8] {
        &self.meta
    }

    fn corrupt(&self, why: &str) -> Error {
        Error::Corruption(format!(
            "table file {} at offset {}: {why}",
            self.path.display(),
            self.offset
        ))
    }

    /// The next block of items with their keys, or `None` after the end block. `key` is the
    /// table's key shape (from the metadata): every item must have a valid key, in order.
    pub fn next_block(&mut self, key: &KeyShape) -> Result<Option<Vec<(EncodedKey, StoredItem)>>> {
        match self.next_raw()? {
            Some(raw) => raw.decode(key).map(Some),
            None => Ok(None),
        }
    }

    /// The next items block, verified (checksum, prefix, block order) but not decoded, or
    /// `None` after the end block (whose counts are checked against the blocks read).
    pub fn next_raw(&mut self) -> Result<Option<RawBlock>> {
        loop {
            if self.done {
                return Ok(None);
            }
            if self.offset + BLOCK_HEADER_LEN as u64 > self.len {
                return Err(self.corrupt("truncated: no end block"));
            }
            let mut header = [0u8; BLOCK_HEADER_LEN];
            self.file
                .read_exact_at(self.offset, &mut header)
                .map_err(file_error("reading", &self.path))?;
            let kind = header[0];
            let len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
            let crc = u32::from_le_bytes([header[5], header[6], header[7], header[8]]);
            if len > MAX_BLOCK_LEN || self.offset + (BLOCK_HEADER_LEN + len) as u64 > self.len {
                return Err(self.corrupt("block length exceeds the file"));
            }
            let mut payload = vec![0u8; len];
            self.file
                .read_exact_at(self.offset + BLOCK_HEADER_LEN as u64, &mut payload)
                .map_err(file_error("reading", &self.path))?;
            if codec::crc_append(codec::crc(&header[..5]), &payload) != crc {
                return Err(self.corrupt("block checksum mismatch"));
            }
            let start = self.offset;
            self.offset += (BLOCK_HEADER_LEN + len) as u64;
            match kind {
                BLOCK_ITEMS => return self.items_block(payload, start).map(Some),
                BLOCK_END => {
                    let footer: Footer = codec::decode(&payload, "table file footer")?;
                    if footer != self.counted {
                        return Err(self.corrupt("footer counts do not match the blocks read"));
                    }
                    if self.offset != self.len {
                        return Err(self.corrupt("bytes after the end block"));
                    }
                    self.done = true;
                }
                other => return Err(self.corrupt(&format!("unknown block kind {other}"))),
            }
        }
    }

    /// Checks an items block's prefix and its place in the key order.
    fn items_block(&mut self, payload: Vec<u8>, start: u64) -> Result<RawBlock> {
        let word = |at: usize| -> [u8; 4] {
            [
                payload[at],
                payload[at + 1],
                payload[at + 2],
                payload[at + 3],
            ]
        };
        if payload.len() < ITEMS_PREFIX_LEN {
            return Err(self.corrupt("items block shorter than its prefix"));
        }
        let count = u32::from_le_bytes(word(0));
        let item_bytes = u64::from_le_bytes([
            payload[4],
            payload[5],
            payload[6],
            payload[7],
            payload[8],
            payload[9],
            payload[10],
            payload[11],
        ]);
        let key_len = u32::from_le_bytes(word(12)) as usize;
        let key_end = ITEMS_PREFIX_LEN + key_len;
        // (An encoded key is never empty; an empty one would also file the block's leaf
        // under the key the first leaf is filed under, `state/items.rs`.)
        if count == 0 || key_len == 0 || key_end > payload.len() {
            return Err(
                self.corrupt("items block with no items, or an empty last key or one past its end")
            );
        }
        let raw = RawBlock {
            payload,
            count,
            item_bytes,
            key_end,
            before: self.last_key.clone(),
            path: std::sync::Arc::clone(&self.path),
            offset: start,
        };
        if self
            .last_key
            .as_deref()
            .is_some_and(|last| last >= raw.last_key())
        {
            return Err(self.corrupt("blocks out of key order"));
        }
        self.last_key = Some(raw.last_key().to_vec());
        self.counted.items += u64::from(count);
        self.counted.item_bytes += item_bytes;
        self.counted.blocks += 1;
        Ok(raw)
    }
}

/// An I/O error of table file `path`, doing `what`. (NB: the message is formatted only if
/// there is an error: reads and writes of every block go through here.)
fn file_error<'a>(what: &'a str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        context: format!("{what} table file {}", path.display()),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::tables::CreateTableInput;
    use crate::fs::sim::SimFs;
    use crate::model::clock::Timestamp;
    use crate::model::key::{partition_prefix, KeyRole};
    use crate::model::schema::ScalarAttributeType::S;
    use crate::model::value::{AttributeValue, Item};

    fn shape() -> KeyShape {
        CreateTableInput::new("tbl")
            .hash_key("pk", S)
            .pay_per_request()
            .to_schema(Timestamp(0))
            .expect("schema")
            .key
    }

    fn item(pk: &str) -> Item {
        Item::from([("pk".to_string(), AttributeValue::s(pk))])
    }

    /// `items` (key, item) written to a table file; the file's bytes.
    fn file(fs: &SimFs, items: &[(Vec<u8>, Item)]) -> Vec<u8> {
        let path = Path::new("/t.snap");
        let mut writer =
            TableFileWriter::create(fs, path, SNAPSHOT_MAGIC, b"meta").expect("create");
        for (key, item) in items {
            writer.push(key, &StoredItem::new(item)).expect("push");
        }
        writer.finish().expect("finish");
        crate::fs::read_all(fs, path, 1 << 30).expect("read")
    }

    /// The blocks of a table file's bytes.
    fn blocks(fs: &SimFs, bytes: &[u8]) -> Result<Vec<RawBlock>> {
        let path = Path::new("/t.snap");
        crate::fs::write_atomically(fs, path, bytes).expect("write");
        let mut reader = TableFileReader::open(fs, path, SNAPSHOT_MAGIC)?;
        let mut blocks = Vec::new();
        while let Some(block) = reader.next_raw()? {
            blocks.push(block);
        }
        Ok(blocks)
    }

    /// Seals the first block (after the 4-byte metadata) with a fresh checksum.
    fn reseal(bytes: &mut [u8]) {
        let block = HEADER_LEN + 4;
        let len = u32::from_le_bytes(bytes[block + 1..block + 5].try_into().expect("4")) as usize;
        let payload = block + BLOCK_HEADER_LEN;
        let crc = codec::crc_append(
            codec::crc(&bytes[block..block + 5]),
            &bytes[payload..payload + len],
        );
        bytes[block + 5..block + 9].copy_from_slice(&crc.to_le_bytes());
    }

    #[test]
    fn a_scan_sizes_nothing_by_a_forged_count() {
        let fs = SimFs::new();
        let key = shape().encode(&item("a"), KeyRole::Table).expect("key");
        let mut bytes = file(&fs, &[(key, item("a"))]);
        let payload = HEADER_LEN + 4 + BLOCK_HEADER_LEN;
        bytes[payload..payload + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        reseal(&mut bytes);
        // (The footer no longer matches, but the block is read, and scanned, first.)
        let fs2 = SimFs::new();
        let path = Path::new("/t.snap");
        crate::fs::write_atomically(&fs2, path, &bytes).expect("write");
        let mut reader = TableFileReader::open(&fs2, path, SNAPSHOT_MAGIC).expect("open");
        let raw = reader.next_raw().expect("the block").expect("a block");
        assert!(raw.scan(&shape(), &mut Vec::new()).is_none());
        assert!(raw.decode(&shape()).is_err());
    }

    #[test]
    fn a_scan_refuses_what_decoding_refuses_a_repeated_key_or_one_too_long() {
        let fs = SimFs::new();
        let long = "p".repeat(3000);
        let raw = blocks(
            &fs,
            &file(
                &fs,
                &[(partition_prefix(&[&AttributeValue::s(&long)]), item(&long))],
            ),
        )
        .expect("blocks");
        assert!(raw[0].decode(&shape()).is_err());
        assert!(raw[0].scan(&shape(), &mut Vec::new()).is_none());
        // One item twice in a block (count, size and checksum made to agree).
        let key = shape().encode(&item("k"), KeyRole::Table).expect("key");
        let bytes = file(&fs, &[(key, item("k"))]);
        let block = HEADER_LEN + 4;
        let len = u32::from_le_bytes(bytes[block + 1..block + 5].try_into().expect("4")) as usize;
        let payload = &bytes[block + BLOCK_HEADER_LEN..block + BLOCK_HEADER_LEN + len];
        let key_len = u32::from_le_bytes(payload[12..16].try_into().expect("4")) as usize;
        let one = &payload[ITEMS_PREFIX_LEN + key_len..];
        let mut doubled = 2u32.to_le_bytes().to_vec();
        let size = u64::from_le_bytes(payload[4..12].try_into().expect("8"));
        doubled.extend_from_slice(&(2 * size).to_le_bytes());
        doubled.extend_from_slice(&payload[12..ITEMS_PREFIX_LEN + key_len]);
        doubled.extend_from_slice(one);
        doubled.extend_from_slice(one);
        let mut forged = bytes[..block].to_vec();
        forged.push(BLOCK_ITEMS);
        forged.extend_from_slice(&(doubled.len() as u32).to_le_bytes());
        forged.extend_from_slice(&[0; 4]);
        forged.extend_from_slice(&doubled);
        reseal(&mut forged);
        let fs2 = SimFs::new();
        let path = Path::new("/t.snap");
        crate::fs::write_atomically(&fs2, path, &forged).expect("write");
        let mut reader = TableFileReader::open(&fs2, path, SNAPSHOT_MAGIC).expect("open");
        let raw = reader.next_raw().expect("the block").expect("a block");
        assert!(raw.decode(&shape()).is_err());
        assert!(raw.scan(&shape(), &mut Vec::new()).is_none());
    }

    /// A table's settings travel in its snapshot's metadata (version 4, with its resource
    /// policies); a snapshot written before they existed (version 2) reads as a table
    /// without any, one written before policies (version 3) as the table with its tags and
    /// Time to Live and no policy; a version this build does not know is refused, naming the
    /// versions it reads.
    #[test]
    fn snapshots_of_versions_2_and_3_read_with_the_settings_they_had_and_unknown_versions_are_refused(
    ) {
        use crate::format::mutation::SettingsV1;
        use crate::model::settings::{ResourcePolicy, TableSettings};
        let fs = SimFs::new();
        let path = Path::new("/t.snap");
        let schema = CreateTableInput::new("tbl")
            .hash_key("pk", S)
            .pay_per_request()
            .to_schema(Timestamp(0))
            .expect("schema");
        let settings = Arc::new(TableSettings {
            tags: [("k".to_owned(), "v".to_owned())].into(),
            ttl_attribute: Some("ttl".into()),
            ttl_changed: Some(Timestamp(7)),
            resource_policies: [(
                String::new(),
                ResourcePolicy {
                    document: "{}".into(),
                    revision_id: "1".into(),
                },
            )]
            .into(),
        });
        let write = |meta: &[u8]| {
            TableFileWriter::create(&fs, path, SNAPSHOT_MAGIC, meta)
                .expect("create")
                .finish()
                .expect("finish");
            crate::fs::read_all(&fs, path, 1 << 20).expect("read")
        };
        let read = |bytes: &[u8]| {
            crate::fs::write_atomically(&fs, path, bytes).expect("write");
            SnapshotMeta::read(&TableFileReader::open(&fs, path, SNAPSHOT_MAGIC)?)
        };
        let current = write(&codec::encode(&SnapshotMeta {
            table_id: "t".into(),
            lsn: 9,
            schema: schema.clone(),
            settings: Arc::clone(&settings),
        }));
        assert_eq!(current[8..12], SNAPSHOT_VERSION.to_le_bytes());
        assert_eq!(read(&current).expect("v4").settings, settings);

        // An older file: the header's version and the metadata as that version wrote them.
        let older = |version: u32, meta: &[u8]| {
            let mut old = write(meta);
            old[8..12].copy_from_slice(&version.to_le_bytes());
            let meta_len = u32::from_le_bytes(old[12..16].try_into().expect("4")) as usize;
            let crc = codec::crc_append(codec::crc(&old[..16]), &old[HEADER_LEN..][..meta_len]);
            old[16..20].copy_from_slice(&crc.to_le_bytes());
            read(&old)
        };
        let meta = older(
            VERSION_2,
            &codec::encode(&v2::SnapshotMeta {
                table_id: "t".into(),
                lsn: 9,
                schema: schema.clone(),
            }),
        )
        .expect("v2");
        assert_eq!((meta.lsn, &meta.schema), (9, &schema));
        assert_eq!(*meta.settings, TableSettings::default());
        let v1 = SettingsV1 {
            tags: settings.tags.clone(),
            ttl_attribute: settings.ttl_attribute.clone(),
            ttl_changed: settings.ttl_changed,
        };
        let meta = older(
            VERSION_3,
            &codec::encode(&v3::SnapshotMeta {
                table_id: "t".into(),
                lsn: 9,
                schema: schema.clone(),
                settings: v1.clone(),
            }),
        )
        .expect("v3");
        assert_eq!((meta.lsn, meta.schema), (9, schema));
        assert_eq!(*meta.settings, TableSettings::from(v1));
        assert!(meta.settings.resource_policies.is_empty());

        let mut future = current.clone();
        future[8..12].copy_from_slice(&5u32.to_le_bytes());
        let refused = read(&future);
        assert!(
            matches!(&refused, Err(Error::Corruption(m)) if m.contains("unknown format version 5 (this build reads versions 2 to 4)")),
            "{refused:?}"
        );
        // Backups did not change, and are still written as version 2.
        TableFileWriter::create(&fs, path, crate::format::backup::BACKUP_MAGIC, b"m")
            .expect("create")
            .finish()
            .expect("finish");
        let backup = crate::fs::read_all(&fs, path, 1 << 20).expect("read");
        assert_eq!(backup[8..12], BACKUP_VERSION.to_le_bytes());
        assert_eq!(BACKUP_VERSION, 2);
    }

    #[test]
    fn a_block_with_an_empty_last_key_is_corruption() {
        let fs = SimFs::new();
        let mut big = item("a");
        big.insert("pad".into(), AttributeValue::B(vec![1; 70_000]));
        let second = shape().encode(&item("b"), KeyRole::Table).expect("key");
        // The writer takes an empty key as the first: its last key is empty before one.
        let bytes = file(&fs, &[(Vec::new(), big), (second, item("b"))]);
        assert!(matches!(blocks(&fs, &bytes), Err(Error::Corruption(_))));
    }
}
