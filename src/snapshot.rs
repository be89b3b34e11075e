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
//!   8  version  u32       FORMAT_VERSION
//!  12  len      u32       length of the metadata, at most MAX_BLOCK_LEN
//!  16  crc      u32       CRC-32C of bytes 0..16 and the metadata
//!  20  meta     [u8; len] the codec's encoding of the caller's metadata (table id, schema,
//!                         LSN, …), which is inside the checksum: a snapshot's LSN can never
//!                         disagree with its contents (the etcd #13766 lesson)
//! block, repeated
//!   0  kind     u8        BLOCK_ITEMS or BLOCK_END
//!   1  len      u32       payload length, at most MAX_BLOCK_LEN
//!   5  crc      u32       CRC-32C of bytes 0..5 and the payload
//!   9  payload  [u8; len] items: encoded items back to back, in key order;
//!                         end: the codec's encoding of `Footer`
//! ```
//!
//! The end block is the file's last bytes; its footer counts items and bytes, so a file cut
//! at a block boundary is told apart from a complete one. Items are in strictly increasing
//! key order: identical tables give byte-identical files.

use std::path::Path;

use crate::codec;
use crate::error::{Error, Result};
use crate::fs::{Vfs, VfsFile};
use crate::key::EncodedKey;
use crate::schema::KeyShape;
use crate::value::Item;

/// The magic of a backup file.
pub(crate) const BACKUP_MAGIC: [u8; 8] = *b"TIDEBKUP";
/// The magic of a checkpoint snapshot.
pub(crate) const SNAPSHOT_MAGIC: [u8; 8] = *b"TIDESNAP";
/// The container format this code writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 1;

const HEADER_LEN: usize = 20;
const BLOCK_HEADER_LEN: usize = 9;
const BLOCK_ITEMS: u8 = 1;
const BLOCK_END: u8 = 2;
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
}

fn io_error(path: &Path, what: &str) -> impl FnOnce(std::io::Error) -> Error {
    let context = format!("{what} {}", path.display());
    move |source| Error::Io { context, source }
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

/// Writes a table file block by block.
pub(crate) struct TableFileWriter<'p> {
    /// Where to count progress, if anywhere.
    pub progress: Option<&'p Progress>,
    file: Box<dyn VfsFile>,
    path: std::path::PathBuf,
    block: Vec<u8>,
    footer: Footer,
    bytes: u64,
    last_key: Option<EncodedKey>,
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
        header.extend_from_slice(&FORMAT_VERSION.to_le_bytes()); // version
        header.extend_from_slice(&(meta.len() as u32).to_le_bytes()); // len
        let crc = codec::crc_append(codec::crc(&header), meta);
        header.extend_from_slice(&crc.to_le_bytes()); // crc
        header.extend_from_slice(meta); // meta
        let mut file = fs
            .create(path)
            .map_err(io_error(path, "creating table file"))?;
        file.append(&header)
            .map_err(io_error(path, "writing table file"))?;
        Ok(TableFileWriter {
            progress: None,
            file,
            path: path.to_owned(),
            block: Vec::with_capacity(TARGET_BLOCK_LEN * 2),
            footer: Footer {
                items: 0,
                blocks: 0,
            },
            bytes: header.len() as u64,
            last_key: None,
        })
    }

    /// Appends an item; `key` is its encoded key, which must be greater than the last one.
    pub fn push(&mut self, key: &EncodedKey, item: &Item) -> Result<()> {
        if self.last_key.as_ref().is_some_and(|last| last >= key) {
            return Err(Error::Corruption(format!(
                "table file {}: items out of key order",
                self.path.display()
            )));
        }
        self.last_key = Some(key.clone());
        codec::encode_into(item, &mut self.block);
        if let Some(progress) = self.progress {
            let size = crate::value::item_size(item) as u64;
            progress
                .item_bytes
                .fetch_add(size, std::sync::atomic::Ordering::Relaxed);
        }
        self.footer.items += 1;
        if self.block.len() >= TARGET_BLOCK_LEN {
            self.flush_block(BLOCK_ITEMS)?;
        }
        Ok(())
    }

    fn flush_block(&mut self, kind: u8) -> Result<()> {
        let payload = std::mem::take(&mut self.block);
        let mut frame = Vec::with_capacity(BLOCK_HEADER_LEN + payload.len());
        frame.push(kind); // kind
        frame.extend_from_slice(&(payload.len() as u32).to_le_bytes()); // len
        let crc = codec::crc_append(codec::crc(&frame), &payload);
        frame.extend_from_slice(&crc.to_le_bytes()); // crc
        frame.extend_from_slice(&payload); // payload
        self.file
            .append(&frame)
            .map_err(io_error(&self.path, "writing table file"))?;
        self.bytes += frame.len() as u64;
        if let Some(progress) = self.progress {
            use std::sync::atomic::Ordering::Relaxed;
            progress.bytes.fetch_add(frame.len() as u64, Relaxed);
            progress.items.store(self.footer.items, Relaxed);
        }
        // NB: give the CPU back between blocks. On a small machine a snapshot (or backup)
        // build otherwise holds a core for its whole run and the writers' wake-ups queue
        // behind it: measured writer p99 ×7–18 during a build without this, ×1.3–3 with it.
        std::thread::yield_now();
        self.footer.blocks += 1;
        self.block = payload;
        self.block.clear();
        Ok(())
    }

    /// Writes the last items and the end block, and syncs the file. Returns its length.
    pub fn finish(mut self) -> Result<u64> {
        if !self.block.is_empty() {
            self.flush_block(BLOCK_ITEMS)?;
        }
        let footer = Footer {
            items: self.footer.items,
            blocks: self.footer.blocks,
        };
        self.block = codec::encode(&footer);
        self.flush_block(BLOCK_END)?;
        self.file
            .sync_all()
            .map_err(io_error(&self.path, "syncing table file"))?;
        Ok(self.bytes)
    }
}

/// Reads a table file block by block, verifying every checksum, the key order and the
/// footer's counts.
pub(crate) struct TableFileReader {
    file: Box<dyn VfsFile>,
    path: std::path::PathBuf,
    meta: Vec<u8>,
    offset: u64,
    len: u64,
    items: u64,
    blocks: u64,
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
            .map_err(io_error(path, "opening table file"))?;
        let len = file.len().map_err(io_error(path, "reading table file"))?;
        let mut header = [0u8; HEADER_LEN];
        if len < HEADER_LEN as u64 {
            return Err(corrupt("shorter than its header"));
        }
        file.read_exact_at(0, &mut header)
            .map_err(io_error(path, "reading table file"))?;
        if header[..8] != magic {
            return Err(corrupt("wrong magic: not a file of this kind"));
        }
        let version = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
        if version != FORMAT_VERSION {
            return Err(corrupt(&format!(
                "unknown format version {version} (this build reads version {FORMAT_VERSION})"
            )));
        }
        let meta_len =
            u32::from_le_bytes([header[12], header[13], header[14], header[15]]) as usize;
        if meta_len > MAX_BLOCK_LEN || (HEADER_LEN + meta_len) as u64 > len {
            return Err(corrupt("metadata length exceeds the file"));
        }
        let mut meta = vec![0u8; meta_len];
        file.read_exact_at(HEADER_LEN as u64, &mut meta)
            .map_err(io_error(path, "reading table file"))?;
        let crc = u32::from_le_bytes([header[16], header[17], header[18], header[19]]);
        if codec::crc_append(codec::crc(&header[..16]), &meta) != crc {
            return Err(corrupt("header checksum mismatch"));
        }
        Ok(TableFileReader {
            file,
            path: path.to_owned(),
            meta,
            offset: (HEADER_LEN + meta_len) as u64,
            len,
            items: 0,
            blocks: 0,
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
    pub fn next_block(&mut self, key: &KeyShape) -> Result<Option<Vec<(EncodedKey, Item)>>> {
        if self.done {
            return Ok(None);
        }
        if self.offset + BLOCK_HEADER_LEN as u64 > self.len {
            return Err(self.corrupt("truncated: no end block"));
        }
        let mut header = [0u8; BLOCK_HEADER_LEN];
        self.file
            .read_exact_at(self.offset, &mut header)
            .map_err(io_error(&self.path, "reading table file"))?;
        let kind = header[0];
        let len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let crc = u32::from_le_bytes([header[5], header[6], header[7], header[8]]);
        if len > MAX_BLOCK_LEN || self.offset + (BLOCK_HEADER_LEN + len) as u64 > self.len {
            return Err(self.corrupt("block length exceeds the file"));
        }
        let mut payload = vec![0u8; len];
        self.file
            .read_exact_at(self.offset + BLOCK_HEADER_LEN as u64, &mut payload)
            .map_err(io_error(&self.path, "reading table file"))?;
        if codec::crc_append(codec::crc(&header[..5]), &payload) != crc {
            return Err(self.corrupt("block checksum mismatch"));
        }
        self.offset += (BLOCK_HEADER_LEN + len) as u64;
        match kind {
            BLOCK_ITEMS => {
                self.blocks += 1;
                let mut items = Vec::new();
                let mut rest = &payload[..];
                while !rest.is_empty() {
                    let (item, used) = bincode::decode_from_slice::<Item, _>(
                        rest,
                        bincode::config::standard().with_limit::<{ MAX_BLOCK_LEN }>(),
                    )
                    .map_err(|e| self.corrupt(&format!("cannot decode item: {e}")))?;
                    rest = &rest[used..];
                    let key = key
                        .encode(&item, crate::key::KeyRole::Table)
                        .map_err(|e| self.corrupt(&format!("item with an invalid key: {e}")))?;
                    if self.last_key.as_ref().is_some_and(|last| last >= &key) {
                        return Err(self.corrupt("items out of key order"));
                    }
                    self.last_key = Some(key.clone());
                    items.push((key, item));
                }
                self.items += items.len() as u64;
                Ok(Some(items))
            }
            BLOCK_END => {
                let footer: Footer = codec::decode(&payload, "table file footer")?;
                if footer
                    != (Footer {
                        items: self.items,
                        blocks: self.blocks,
                    })
                {
                    return Err(self.corrupt("footer counts do not match the blocks read"));
                }
                if self.offset != self.len {
                    return Err(self.corrupt("bytes after the end block"));
                }
                self.done = true;
                Ok(None)
            }
            other => Err(self.corrupt(&format!("unknown block kind {other}"))),
        }
    }
}
