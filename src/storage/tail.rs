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
//! A full segment's seal waits for the next sync (`storage/wal.rs`, "Segments"), so a crash
//! can also leave the segment before the newest unsealed, its unsynced tail perhaps lost,
//! before a newest segment whose records were all written before that seal (their `synced`
//! is 0) and so were never durable. If the full segment's records run up to the newest
//! one's first LSN, nothing is missing: recovery seals it. If not, the newest segment's
//! records would follow a gap: it is abandoned (`SegmentRead::abandoned`) and removed, and
//! the full segment's torn tail cut. Records of the newest segment with a `synced` above 0
//! were written after the seal was durable, so an unsealed segment before them is still
//! corruption. What this cannot tell from a crash: the segment before the newest cut back
//! while the newest holds only records written before the seal (a clean close right after
//! a rotation leaves that, with the records durable); a snapshot the catalog names beyond
//! the cut still shows it.
//!
//! A database whose segments are of version 2 (never sealed) and whose catalog has no
//! `log_start` opens as before: the open records the first segment, and segments written
//! from then on are sealed.

use std::path::Path;

use crate::error::{io_error, Error, Result};
use crate::format::catalog::Catalog;
use crate::format::log_segment::{is_sealed_format, segment_name, FORMAT_VERSION};
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
    // An abandoned newest segment holds nothing of the log (`SegmentRead::abandoned`).
    let read = match read.split_last() {
        Some((last, older)) if last.abandoned => older,
        _ => read,
    };
    for (i, pair) in read.windows(2).enumerate() {
        let (older, next) = (&pair[0], &pair[1]);
        let unsealed = older.version.is_some_and(is_sealed_format) && !older.sealed;
        // The newest segment's records written while the one before it waited for its
        // seal: a crash can leave that one unsealed, its unsynced tail torn.
        let waited = next.before_seal && i + 2 == read.len();
        if next.last.is_some() && (older.torn || unsealed) && !waited {
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
///
/// IMPORTANT: the segments `read` were synced, with their directory, before they were read
/// (`recovery.rs`, `sync_log_read`): a seal written here may name any of them.
pub(crate) fn continue_log(
    fs: &dyn Vfs,
    wal_dir: &Path,
    db_id: u64,
    read: &[SegmentRead],
    next: Lsn,
) -> Result<Lsn> {
    let path = |first: Lsn| wal_dir.join(segment_name(first));
    let mut kept = read;
    if let Some((last, older)) = read.split_last().filter(|(last, _)| last.abandoned) {
        let context = format!(
            "removing abandoned log segment {}",
            path(last.first).display()
        );
        fs.remove_file(&path(last.first))
            .map_err(io_error(context.clone()))?;
        fs.sync_dir(wal_dir).map_err(io_error(context))?;
        kept = older;
    }
    if let [.., older, last] = kept {
        let unsealed = older.version.is_some_and(is_sealed_format) && !older.sealed;
        if unsealed && last.last.is_some() {
            // The one before the newest waited for its seal (`check` allowed it only so):
            // its torn tail cut, then sealed, naming the newest (durable since recovery
            // synced what it read).
            let context = format!("sealing log segment {}", path(older.first).display());
            if older.torn {
                cut(fs, &path(older.first), older.valid_len, &context)?;
            }
            let mut file = fs
                .open(&path(older.first))
                .map_err(io_error(context.clone()))?;
            seal_segment(&mut *file, older.first, db_id, last.first).map_err(io_error(context))?;
        }
    }
    if let Some((last, older)) = kept.split_last() {
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
        // Empty, and of this format: the log continues in it. (Its first LSN is the one
        // after the log's last record: the segment before it ends there, or the log starts
        // there.)
        Some(last) if last.last.is_none() && last.version == Some(FORMAT_VERSION) => {
            if last.first != next {
                return Err(Error::Corruption(format!(
                    "log segment {} holds no record, but the log ends at LSN {}",
                    path(last.first).display(),
                    next - 1
                )));
            }
        }
        // Empty, of an older format (a clean close before an upgrade), and not where the
        // log ends: as above.
        Some(last) if last.last.is_none() && last.first != next => {
            return Err(Error::Corruption(format!(
                "log segment {} holds no record, but the log ends at LSN {}",
                path(last.first).display(),
                next - 1
            )));
        }
        // A new segment; or, where the log ends, an empty one of an older format written
        // again in this format, since the log writes this format's records into it.
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
