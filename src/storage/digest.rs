//! A table's log since its base state, read ahead of the builds that need it.
//!
//! A snapshot or a backup is its table's base state (its snapshot, or its creation) merged
//! with the last write of each key in the log after it (`replay.rs`). With a busy writer,
//! reading and sorting those writes is about a third of a build, and a round that builds
//! a backup and then the table's snapshot read the same log twice. A digest keeps what has
//! been read of one table's log since its base, so a build reads only the records after
//! it:
//!
//! ```text
//!   log   … base │ read by the worker between rounds │ by the backup │ by the snapshot │ …
//!                └──────────── one digest, read once, in order ─────────────────────┘
//! ```
//!
//! - the worker reads each table's new log between rounds (`engine/maintenance.rs`), up to
//!   a memory budget, so that a backup asked for reads only what came since;
//! - a backup build leaves its digest at the marker, for the snapshot built after it;
//! - a snapshot build ends its digest: its file is the next base.
//!
//! A digest serves only a build from the same base (its file and LSN) to an LSN at or after
//! the last it read; any other build reads the log itself, as before. It holds only what
//! the builds would hold: the last write of each key (`last_writes.rs`).

use std::path::Path;

use crate::error::{io_error, Result};
use crate::format::catalog::SNAPSHOT_DIR;
use crate::fs::Vfs;
use crate::model::Lsn;
use crate::storage::follow::Place;
use crate::storage::replay::{read_log_from, LogEnd, SegmentRead, TableChanges, Until};

/// The changes of one table read from the log after its base.
#[derive(Debug)]
pub(crate) struct Digest {
    /// The base's snapshot file (`None`: the table's creation).
    base: Option<String>,
    /// The LSN the base covers.
    after: Lsn,
    /// The last LSN read (`after` before any).
    read: Lsn,
    /// Where the record after `read` starts, when known.
    next: Option<Place>,
    /// The last record read, and the commit time of the one before it.
    end: Option<LogEnd>,
    pub(crate) changes: TableChanges,
}

impl Digest {
    /// Nothing read yet of the log of `table_id` after `base` (a snapshot file, or `None`
    /// for the table's creation) at `after`.
    pub fn new(
        fs: &dyn Vfs,
        dir: &Path,
        table_id: &str,
        base: Option<&str>,
        after: Lsn,
    ) -> Result<Digest> {
        // The writes collected may take as much memory as the base table's file before they
        // are compacted: sorting them once, not at every doubling, is a tenth of a build.
        let room = match base {
            Some(file) => {
                let path = dir.join(SNAPSHOT_DIR).join(file);
                let len = (fs.open(&path).and_then(|f| f.len()))
                    .map_err(io_error(format!("reading {}", path.display())))?;
                usize::try_from(len / 128).unwrap_or(usize::MAX)
            }
            None => 0,
        };
        Ok(Digest {
            base: base.map(str::to_owned),
            after,
            read: after,
            next: None,
            end: None,
            changes: TableChanges::new(table_id, room),
        })
    }

    /// Whether this digest is of the log after `base` at `after`.
    pub fn starts_from(&self, base: Option<&str>, after: Lsn) -> bool {
        self.base.as_deref() == base && self.after == after
    }

    /// The base's snapshot file, if any.
    pub fn base(&self) -> Option<&str> {
        self.base.as_deref()
    }

    /// The last LSN read.
    pub fn read_to(&self) -> Lsn {
        self.read
    }

    /// The last record read (and the time of the one before), if any was.
    pub fn end(&self) -> Option<LogEnd> {
        self.end
    }

    /// About the memory the digest holds: its writes and their items.
    pub fn memory(&self) -> usize {
        self.changes.writes.memory()
    }

    /// Reads the log after the last LSN read up to `upto`, ahead of the build that will
    /// need it, and sorts what was read when there is enough of it: the build then sorts
    /// only what came after.
    pub fn read_ahead(&mut self, fs: &dyn Vfs, dir: &Path, db_id: u64, upto: Lsn) -> Result<()> {
        self.read(fs, dir, db_id, Until::lsn(upto))?;
        self.changes.writes.compact_ahead();
        Ok(())
    }

    /// Reads the log after the last LSN read, up to `until` (which must not end before it).
    /// The first read reads even an empty range, and reports its end as a read of the log
    /// does ([`read_log_from`]: a point-in-time restore takes its moment from it).
    pub fn read(&mut self, fs: &dyn Vfs, dir: &Path, db_id: u64, until: Until) -> Result<()> {
        let first = self.end.is_none() && self.read == self.after;
        if !first && until.lsn.is_some_and(|u| u <= self.read) {
            return Ok(());
        }
        let changes = &mut self.changes;
        let (end, segments) = read_log_from(
            fs,
            dir,
            db_id,
            (self.read, self.next),
            until,
            |lsn, time, payload| changes.take(lsn, time, payload),
        )?;
        self.end = match (self.end, end) {
            (Some(old), Some(new)) if new.last_lsn > old.last_lsn => Some(LogEnd {
                // A read of one record does not see the one before: the last read did.
                prior_time: (new.prior_time)
                    .or((old.last_lsn + 1 == new.last_lsn).then_some(old.last_time)),
                ..new
            }),
            (None, new) => new,
            (old, _) => old,
        };
        if let Some(end) = end {
            self.read = self.read.max(end.last_lsn);
        }
        // (A read that stopped at a moment may have looked at records after it.)
        self.next = match until.time {
            None => {
                (segments.last().and_then(SegmentRead::next)).filter(|p| p.lsn == self.read + 1)
            }
            Some(_) => None,
        };
        Ok(())
    }
}
