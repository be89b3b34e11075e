//! Following the log: reading its records from a place on, as they are written, for a
//! reader that keeps up with the writers (a stream, `streams/`) instead of replaying a
//! range once.
//!
//! A replay reads whole segments (`replay.rs`); a follower reads a window of one, from
//! where its last read ended: it remembers a [`Place`] (the next LSN, and where its record
//! starts in which segment), so a read costs the records it returns, not the segment. A
//! place is a hint: it is checked against the record found there (its LSN and checksum),
//! and when it does not hold (a place from an old iterator, say) the segment holding the
//! LSN is read from its start instead.
//!
//! A follower reads only records the log has written (up to `last`, which the caller takes
//! from [`Wal::readable_lsn`](crate::storage::wal::Wal::readable_lsn)): it never sees a
//! record a crash could take back in the log's durability mode. An in-memory database has
//! no segments: its log keeps the records followers need in memory
//! ([`Wal::followed`](crate::storage::wal::Wal::followed)).

use std::path::Path;

use crate::error::{io_error, Error, Result};
use crate::format::catalog::WAL_DIR;
use crate::format::log_segment::{self, read_window, RECORD_HEADER_LEN, SEGMENT_HEADER_LEN};
use crate::fs::Vfs;
use crate::model::clock::Timestamp;
use crate::model::Lsn;

/// How many bytes of a segment one read takes (at least one record).
const READ_WINDOW: usize = 1 << 20;

/// Where a follower is: the next LSN it reads, and where that record starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Place {
    pub lsn: Lsn,
    /// The first LSN of the segment holding `lsn`, and the record's offset in it; `(0, 0)`
    /// when not known.
    pub segment: Lsn,
    pub offset: u64,
}

impl Place {
    /// The record `lsn`, wherever it is.
    pub fn at(lsn: Lsn) -> Place {
        Place {
            lsn,
            segment: 0,
            offset: 0,
        }
    }
}

/// One record a follower read.
#[derive(Debug)]
pub(crate) struct Followed {
    /// Where the record is: a later read can start at it.
    pub place: Place,
    pub lsn: Lsn,
    pub time: Timestamp,
    /// Shared, so that the in-memory log hands it out without a copy under its lock.
    pub payload: std::sync::Arc<[u8]>,
}

/// What a read found: the records, in order, and where the next read starts.
#[derive(Debug)]
pub(crate) struct Read {
    pub records: Vec<Followed>,
    pub next: Place,
}

/// Reads the records from `from` up to `last` (inclusive), about `READ_WINDOW` bytes of them
/// (at least one record, unless `from` is past `last`), from the log segments of the
/// database at `dir`, whose first segment starts at `log_start`. `None` if the log no
/// longer holds `from.lsn` (it is before `log_start`: truncated). A segment the log names
/// that is missing, or a record that does not verify, is `Error::Corruption`: a follower
/// never skips a hole.
pub(crate) fn follow(
    fs: &dyn Vfs,
    dir: &Path,
    db_id: u64,
    (log_start, from): (Lsn, Place),
    last: Lsn,
) -> Result<Option<Read>> {
    let mut next = from;
    let mut records = Vec::new();
    if from.lsn > last {
        return Ok(Some(Read { records, next }));
    }
    if from.lsn < log_start {
        return Ok(None);
    }
    let missing = |lsn: Lsn| {
        Error::Corruption(format!(
            "the log segment holding LSN {lsn} is missing, though the log starts at {log_start}"
        ))
    };
    let wal_dir = dir.join(WAL_DIR);
    // Each segment read is checked whole at its header, as recovery checks the ones it reads.
    let open = |segment: Lsn| {
        let path = wal_dir.join(log_segment::segment_name(segment));
        let file = fs
            .open(&path)
            .map_err(io_error(format!("opening log segment {}", path.display())))?;
        let version = log_segment::check_header(&*file, segment, db_id)?;
        Ok::<_, Error>((file, version))
    };
    // The hinted place first; where it does not hold, the segment holding the LSN.
    let mut window = None;
    if from.segment != 0 && from.offset >= SEGMENT_HEADER_LEN as u64 {
        if let Ok((file, version)) = open(from.segment) {
            let place = (from.offset, from.lsn);
            let frame = (from.segment, db_id, version);
            window = read_window(&*file, frame, place, last, READ_WINDOW, Vec::new())?
                .filter(|w| !w.records.is_empty() || w.sealed)
                .map(|w| (from.segment, w));
        }
    }
    let (segment, window) = match window {
        Some(found) => found,
        None => {
            let segments = log_segment::list_segments(fs, &wal_dir)?;
            let Some(i) = segments.iter().rposition(|&first| first <= from.lsn) else {
                return Err(missing(from.lsn));
            };
            let segment = segments[i];
            let (file, version) = open(segment)?;
            let frame = (segment, db_id, version);
            let mut place = (SEGMENT_HEADER_LEN as u64, segment);
            // Skip the segment's records before the place, a window at a time.
            loop {
                let found = read_window(&*file, frame, place, last, READ_WINDOW, Vec::new())?;
                let Some(found) = found else {
                    return Err(Error::Corruption(format!(
                        "log segment {segment}: record {} does not verify where the one before it ends",
                        place.1
                    )));
                };
                let reached = found.records.last().is_some_and(|r| r.lsn >= from.lsn);
                if reached {
                    break (segment, found);
                }
                if found.sealed || found.records.is_empty() {
                    // The segment ends before `from.lsn`, and no segment starts between
                    // them: the one that held it is gone.
                    return Err(missing(from.lsn));
                }
                place = (found.end(), place.1 + found.records.len() as u64);
            }
        }
    };
    for record in &window.records {
        if record.lsn >= from.lsn {
            records.push(Followed {
                place: Place {
                    lsn: record.lsn,
                    segment,
                    offset: window.start + record.start as u64,
                },
                lsn: record.lsn,
                time: record.time,
                payload: window.payload(record).into(),
            });
        }
    }
    next = match records.last() {
        _ if window.sealed => {
            let lsn = window.records.last().map_or(from.lsn, |r| r.lsn + 1);
            Place {
                lsn,
                segment: lsn,
                offset: SEGMENT_HEADER_LEN as u64,
            }
        }
        Some(r) => Place {
            lsn: r.lsn + 1,
            segment,
            offset: window.end(),
        },
        None => next,
    };
    Ok(Some(Read { records, next }))
}

/// The commit time of the first record of each log segment of the database at `dir`, by
/// the segment's first LSN (`None` for a segment with no record yet): what a stream's
/// retention needs to tell which segments hold only records older than it.
pub(crate) fn segment_times(
    fs: &dyn Vfs,
    dir: &Path,
    db_id: u64,
) -> Result<Vec<(Lsn, Option<Timestamp>)>> {
    let wal_dir = dir.join(WAL_DIR);
    let mut times = Vec::new();
    for first in log_segment::list_segments(fs, &wal_dir)? {
        let path = wal_dir.join(log_segment::segment_name(first));
        let file = fs
            .open(&path)
            .map_err(io_error(format!("opening log segment {}", path.display())))?;
        let place = (SEGMENT_HEADER_LEN as u64, first);
        let window = log_segment::check_header(&*file, first, db_id)
            .and_then(|version| {
                let frame = (first, db_id, version);
                read_window(&*file, frame, place, first, RECORD_HEADER_LEN, Vec::new())
            })
            .ok()
            .flatten();
        let time = window.and_then(|w| w.records.first().map(|r| r.time));
        times.push((first, time));
    }
    Ok(times)
}
