//! The ends of the log at open: which segments must exist, what a crash may have left, and
//! the repair after which the log continues in a fresh segment.
//!
//! The log's segments are tracked durably at both ends, as RocksDB's MANIFEST tracks its
//! WAL files, so that a missing segment is `Error::Corruption` instead of an open that
//! silently lacks the writes it held:
//!
//! - the first: the catalog's `log_start` names it, written before a truncation removes
//!   older segments, and for a new database only once its first segment exists;
//! - those in the middle: LSNs tile, each segment's records ending where the next one's
//!   begin, so a gap shows;
//! - the newest: the seal of the one before it names it (`format/log_segment.rs`), written
//!   once it exists durably and before any record goes into it. A predecessor not sealed
//!   yet means that its creation was cut short by a crash: it holds nothing, and is removed.
//!
//! So a missing or emptied segment is corruption even when it held no record (a newest
//! segment after a clean close, which rotates the log, holds none): the directory cannot
//! tell that it held none, and every segment the log names is created durably before it is
//! named, so no crash removes one. A crash during a segment's creation leaves either an
//! unsealed predecessor (kill point `wal.created`) or a sealed one whose successor exists
//! (`wal.rotated`): both recover cleanly. What cannot be told from a crash is a newest segment
//! cut back to a record boundary (or to its header): its records could be a torn tail that
//! was never acknowledged. A snapshot the catalog names beyond the log's end shows that
//! case too, when there is one.
//!
//! A database whose segments are of version 2 (never sealed) and whose catalog has no
//! `log_start` opens as before: the open records the first segment, and segments written
//! from then on are sealed.

use std::path::Path;

use crate::error::{io_error, Error, Result};
use crate::format::catalog::Catalog;
use crate::format::log_segment::{is_sealed_format, segment_name};
use crate::fs::Vfs;
use crate::model::Lsn;
use crate::storage::replay::SegmentRead;
use crate::storage::wal::{create_segment, seal_segment};

/// Checks that the segments a read of the whole log found (from its first) are every one
/// the log says exists: the last is not sealed (its successor would be missing), a sealed
/// segment's successor and the catalog's first segment have their headers, and a segment
/// whose successor holds records ends in a verified seal (version 3) or exactly at its last
/// record (version 2).
pub(crate) fn check(read: &[SegmentRead], log_start: Option<Lsn>, wal_dir: &Path) -> Result<()> {
    let name = |first: Lsn| wal_dir.join(segment_name(first)).display().to_string();
    for pair in read.windows(2) {
        let (older, next) = (&pair[0], &pair[1]);
        let unsealed = older.version.is_some_and(is_sealed_format) && !older.sealed;
        if next.last.is_some() && (older.torn || unsealed) {
            return Err(Error::Corruption(format!(
                "log segment {} does not end in its seal, yet the next one holds records: its end is damaged",
                name(older.first)
            )));
        }
    }
    let Some(last) = read.last() else {
        return Ok(());
    };
    if let Some(end) = last.last.filter(|_| last.sealed) {
        return Err(Error::Corruption(format!(
            "log segment {}, which the seal of {} names, is missing (with the writes it held)",
            name(end + 1),
            name(last.first)
        )));
    }
    let sealed_before = read.len() >= 2 && read[read.len() - 2].sealed;
    if last.version.is_none() && (sealed_before || log_start == Some(last.first)) {
        return Err(Error::Corruption(format!(
            "log segment {} is cut to less than its header, yet the log says it exists (with the writes it held)",
            name(last.first)
        )));
    }
    Ok(())
}

/// Checks that no snapshot the catalog names covers more of the log than the log holds
/// (`last_lsn` is its last record, or the LSN before its first segment): a snapshot is
/// built only from durable records, so records after the log's end went missing.
pub(crate) fn check_snapshots(catalog: &Catalog, last_lsn: Lsn) -> Result<()> {
    match catalog.snapshots.iter().find(|s| s.lsn > last_lsn) {
        Some(s) => Err(Error::Corruption(format!(
            "the snapshot of table {} holds the log up to LSN {}, but the log ends at LSN {last_lsn}: the records after it are missing",
            s.table_id, s.lsn
        ))),
        None => Ok(()),
    }
}

/// Repairs what a crash may have left at the end of the log (which [`check`] accepted) so
/// that the log continues in the segment starting at `next`: a last segment whose creation
/// was cut short is removed, a torn tail is cut (only bytes that never verified), the
/// segment starting at `next` is created unless it is the last one and holds nothing, and
/// then the newest segment with records is sealed (cutting a torn seal first). Each step
/// can be repeated, so a crash during it leaves what the next recovery needs. Returns the
/// first segment of the log after it.
pub(crate) fn continue_log(
    fs: &dyn Vfs,
    wal_dir: &Path,
    db_id: u64,
    read: &[SegmentRead],
    next: Lsn,
) -> Result<Lsn> {
    let path = |first: Lsn| wal_dir.join(segment_name(first));
    let mut kept = read;
    if let Some((last, older)) = read.split_last() {
        let context = format!("cutting the torn tail of {}", path(last.first).display());
        if last.version.is_none() {
            fs.remove_file(&path(last.first))
                .map_err(io_error(context.clone()))?;
            fs.sync_dir(wal_dir).map_err(io_error(context))?;
            kept = older;
        } else if last.torn {
            cut(fs, &path(last.first), last.valid_len, &context)?;
        }
    }
    match kept.last() {
        // Empty: the log continues in it. (Its first LSN is the one after the log's last
        // record: the segment before it ends there, or the log starts there.)
        Some(last) if last.last.is_none() => {
            if last.first != next {
                return Err(Error::Corruption(format!(
                    "log segment {} holds no record, but the log ends at LSN {}",
                    path(last.first).display(),
                    next - 1
                )));
            }
        }
        _ => {
            create_segment(fs, wal_dir, next, db_id).map_err(io_error(format!(
                "starting log segment {}",
                path(next).display()
            )))?;
        }
    }
    let newest_with_records = kept.iter().rev().find(|s| s.last.is_some());
    if let Some(s) = newest_with_records.filter(|s| s.version.is_some_and(is_sealed_format)) {
        if !s.sealed {
            let context = format!("sealing log segment {}", path(s.first).display());
            if s.torn {
                cut(fs, &path(s.first), s.valid_len, &context)?;
            }
            let mut file = fs.open(&path(s.first)).map_err(io_error(context.clone()))?;
            seal_segment(&mut *file, s.first, db_id, next).map_err(io_error(context))?;
        }
    }
    Ok(kept.first().map_or(next, |s| s.first))
}

/// Cuts the file `path` to `len` bytes, durably.
fn cut(fs: &dyn Vfs, path: &Path, len: u64, context: &str) -> Result<()> {
    let mut file = fs.open(path).map_err(io_error(context))?;
    file.set_len(len).map_err(io_error(context))?;
    file.sync_all().map_err(io_error(context))
}
