//! Replay: a snapshot plus a range of the log gives a table's state at any LSN.
//!
//! One mechanism serves recovery (every table, to the end of the log), checkpoints (one
//! table, to a durable LSN, written as a new snapshot), backups (one table, to the record
//! before a marker) and point-in-time restores (one table, to an LSN or to the last record
//! committed at or before a moment). The merge streams the base snapshot and holds only the
//! keys the log range changed, so its memory is bounded by the changes, not the table.
//!
//! Invariants checked while reading the log:
//! - the records of the range are contiguous: no LSN is missing, and the segment holding
//!   the first LSN of the range is still there (a checkpoint or backup that finds its log
//!   gone fails instead of producing a table with a hole);
//! - every record verifies and decodes; corruption is reported, never skipped.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::api::tables::TableStatus;
use crate::error::{io_error, Error, Result};
use crate::format::backup::BackupRecord;
use crate::format::catalog::{snapshot_name, SNAPSHOT_DIR, WAL_DIR};
use crate::format::codec;
use crate::format::item::Scanned;
use crate::format::log_segment::{self, list_segments, read_segment, read_window};
use crate::format::mutation::{ItemWrite, Mutation};
use crate::format::table_file::{
    Progress, SnapshotMeta, TableFileReader, TableFileWriter, SNAPSHOT_MAGIC,
};
use crate::fs::throttle::Throttle;
use crate::fs::Vfs;
use crate::model::clock::Timestamp;
use crate::model::schema::TableSchema;
use crate::model::settings::TableSettings;
use crate::model::Lsn;
use crate::state::apply::{apply, Apply, At};
use crate::state::item_key::ItemKey;
use crate::state::prefetch::{prefetch, AHEAD};
use crate::state::table::TableData;
use crate::storage::digest::Digest;
use crate::storage::follow::Place;
use crate::storage::last_writes::{Arena, LastWrites, Span};

/// Where the log ended when it was read to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LogEnd {
    pub last_lsn: Lsn,
    pub last_time: Timestamp,
    /// The commit time of the record before the last one, if the read saw it.
    pub prior_time: Option<Timestamp>,
}

/// One segment as a read of the log found it: what recovery needs to judge the log's
/// tail (`storage/recovery.rs`) and to repair it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentRead {
    /// Its first LSN (its name).
    pub first: Lsn,
    /// Its header's format version; `None` if the header does not verify.
    pub version: Option<u32>,
    /// The LSN of its last record, if it holds one.
    pub last: Option<Lsn>,
    /// Whether a seal ends it (see `format/log_segment.rs`).
    pub sealed: bool,
    /// Whether bytes that are neither records nor the seal end it.
    pub torn: bool,
    /// The length of its header and records.
    pub valid_len: u64,
    /// Whether it holds records and each was written while the segment before it waited
    /// for its seal (`synced` 0: `storage/wal.rs`, "Segments"), so none was durable then.
    pub before_seal: bool,
    /// Whether it is the newest segment and its records follow a gap at the end of the one
    /// before it, which a crash left waiting for its seal: none of them was ever durable.
    /// A read of the whole log does not apply them, and recovery removes the segment.
    pub abandoned: bool,
}

impl SegmentRead {
    /// Where the record after the last one read starts, if this read of the segment (to an
    /// LSN) read one: the hint a later read from there takes ([`read_log_from`]).
    pub fn next(&self) -> Option<Place> {
        let lsn = self.last? + 1;
        Some(match self.sealed {
            // The next segment starts at the next LSN (segments tile the LSNs).
            true => Place {
                lsn,
                segment: lsn,
                offset: log_segment::SEGMENT_HEADER_LEN as u64,
            },
            false => Place {
                lsn,
                segment: self.first,
                offset: self.valid_len,
            },
        })
    }
}

/// Where a read of the log stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Until {
    /// The last LSN to read; the log must reach it. `None`: to the end of the log.
    pub lsn: Option<Lsn>,
    /// Stop before the first record committed after this moment (commit times never go
    /// back along the log, so every later record is after it too).
    pub time: Option<Timestamp>,
}

impl Until {
    /// Up to and including `lsn`.
    pub fn lsn(lsn: Lsn) -> Until {
        Until {
            lsn: Some(lsn),
            time: None,
        }
    }
}

/// How many bytes of a segment a read to an LSN takes at a time: small enough that the
/// buffer stays in the core's cache while its records are checked and applied, large
/// enough that the reads cost little.
const REPLAY_WINDOW: usize = 512 * 1024;

/// Calls `apply` for every record with an LSN in `(after, until.lsn]` (to the end of the log
/// when that is `None`) committed at or before `until.time`, in order. Returns the last
/// record applied (or skipped as at or before `after`) and the segments read.
///
/// A read to the end of the log (recovery) reads each segment whole: it must judge what
/// follows the last record (a torn tail, damage, a seal). A read to an LSN reads only
/// records the log has written, a window at a time into one buffer reused throughout: a
/// backup or checkpoint replays up to a whole segment of log, and a fresh buffer that size
/// cost a build a page fault per 4 KiB and a pass over memory the cache could not hold
/// (about a tenth of the worker's time in a profile of backups beside a busy writer). Its
/// [`SegmentRead`]s say what it read, not what follows.
pub(crate) fn read_log(
    fs: &dyn Vfs,
    dir: &Path,
    db_id: u64,
    after: Lsn,
    until: Until,
    apply: impl FnMut(Lsn, Timestamp, &[u8]) -> Result<()>,
) -> Result<(Option<LogEnd>, Vec<SegmentRead>)> {
    read_log_from(fs, dir, db_id, (after, None), until, apply)
}

/// [`read_log`], given where record `after + 1` starts when it is known (`hint`: where an
/// earlier read to an LSN stopped, [`SegmentRead::next`]): a read to an LSN then starts
/// there instead of at its segment's first record. A hint that does not hold (no record
/// verifies there) is dropped and the segment read from its start.
pub(crate) fn read_log_from(
    fs: &dyn Vfs,
    dir: &Path,
    db_id: u64,
    (after, hint): (Lsn, Option<Place>),
    until: Until,
    apply: impl FnMut(Lsn, Timestamp, &[u8]) -> Result<()>,
) -> Result<(Option<LogEnd>, Vec<SegmentRead>)> {
    let wal_dir = dir.join(WAL_DIR);
    let segments = list_segments(fs, &wal_dir)?;
    // The segment holding `after + 1` is the last one starting at or before it.
    let start = segments
        .iter()
        .rposition(|&first| first <= after + 1)
        .unwrap_or(0);
    if let Some(&first) = segments.get(start) {
        if first > after + 1 && until.lsn.is_none_or(|u| u > after) {
            return Err(Error::Corruption(format!(
                "the log needed from LSN {} is missing: the oldest segment starts at {first}",
                after + 1
            )));
        }
    }
    let mut reading = Reading {
        after,
        until,
        end: None,
        expected: None,
        done: false,
        apply,
    };
    let mut read = Vec::new();
    // One buffer for every segment (or window) read: a replay touches its fresh pages once.
    let mut buffer = Vec::new();
    for (i, &first) in segments.iter().enumerate().skip(start) {
        // NB: a read to an LSN reads nothing after it, in this segment or a later one: the
        // log may be being written there (see `read_segment`).
        if let Some(u) = until.lsn {
            if first > u || reading.end.is_some_and(|e| e.last_lsn >= u) {
                break;
            }
        }
        let next = segments.get(i + 1).copied();
        let path = wal_dir.join(log_segment::segment_name(first));
        let segment = match until.lsn {
            Some(u) => {
                let last = next.map_or(u, |next| u.min(next - 1));
                let hint = hint.filter(|h| h.segment == first && h.lsn == after + 1);
                let frame = (first, db_id);
                read_segment_to(fs, &path, frame, (hint, last), &mut buffer, &mut reading)?
            }
            None => {
                let is_last = next.is_none();
                let contents = read_segment(fs, &path, (first, db_id), is_last, buffer)?;
                for record in &contents.records {
                    reading.visit(record.lsn, record.time, contents.payload(record))?;
                    if reading.done {
                        break;
                    }
                }
                let segment = read_of(first, &contents);
                buffer = contents.bytes;
                segment
            }
        };
        if reading.done {
            read.push(segment);
            return Ok((reading.end, read));
        }
        // Segments tile the LSNs: each one holds exactly the records up to the next one's
        // first LSN. A segment that falls short is a hole, whatever its records verify.
        let stopped = until.lsn.is_some() && segment.last == until.lsn;
        if let Some(next) = next.filter(|_| !stopped) {
            if segment.last != Some(next - 1) {
                // A crash while this segment waited for its seal can have lost its tail,
                // when the newest segment after it holds only records written before the
                // seal, none of them durable: they are dropped, not replayed after a gap.
                let newest = segments.len() == i + 2;
                let unsealed =
                    segment.version.is_some_and(log_segment::is_sealed_format) && !segment.sealed;
                if until.lsn.is_none() && newest && unsealed && segment.last < Some(next) {
                    let path = wal_dir.join(log_segment::segment_name(next));
                    let contents = read_segment(fs, &path, (next, db_id), true, buffer)?;
                    let newest = read_of(next, &contents);
                    if newest.last.is_none() || newest.before_seal {
                        read.push(segment);
                        read.push(SegmentRead {
                            abandoned: true,
                            ..newest
                        });
                        return Ok((reading.end, read));
                    }
                }
                return Err(Error::Corruption(format!(
                    "log segment {} ends at LSN {} but the next segment starts at {next}: records are missing",
                    path.display(),
                    segment
                        .last
                        .map_or_else(|| "(no records)".to_string(), |l| l.to_string())
                )));
            }
        }
        read.push(segment);
    }
    let end = reading.end;
    if let Some(upto) = until.lsn {
        if upto > after && end.is_none_or(|e| e.last_lsn < upto) {
            return Err(Error::Corruption(format!(
                "the log ends at LSN {} before the LSN {upto} it was read to",
                end.map_or(0, |e| e.last_lsn)
            )));
        }
    }
    Ok((end, read))
}

/// What a whole read of one segment found (`read_segment`'s contents).
fn read_of(first: Lsn, contents: &log_segment::SegmentContents) -> SegmentRead {
    SegmentRead {
        first,
        version: contents.version,
        last: contents.records.last().map(|r| r.lsn),
        sealed: contents.sealed,
        torn: contents.torn(),
        valid_len: contents.valid_len,
        before_seal: !contents.records.is_empty()
            && contents.records.iter().all(|r| r.synced == Some(0)),
        abandoned: false,
    }
}

/// A read of the log in progress: where it has got to, and what it hands records to.
struct Reading<F> {
    after: Lsn,
    until: Until,
    end: Option<LogEnd>,
    /// The LSN the next record must have (records are contiguous across segments).
    expected: Option<Lsn>,
    /// Whether a record past `until` was reached: the read is over.
    done: bool,
    apply: F,
}

impl<F: FnMut(Lsn, Timestamp, &[u8]) -> Result<()>> Reading<F> {
    /// Takes the next record read.
    fn visit(&mut self, lsn: Lsn, time: Timestamp, payload: &[u8]) -> Result<()> {
        if let Some(expected) = self.expected.filter(|&e| e != lsn) {
            return Err(Error::Corruption(format!(
                "the log skips from LSN {} to {lsn}",
                expected - 1
            )));
        }
        self.expected = Some(lsn + 1);
        if self.until.lsn.is_some_and(|u| lsn > u) || self.until.time.is_some_and(|t| time > t) {
            self.done = true;
            return Ok(());
        }
        self.end = Some(LogEnd {
            last_lsn: lsn,
            last_time: time,
            // The records read are contiguous: the one before is the last one read.
            prior_time: self.end.map(|e| e.last_time),
        });
        if lsn > self.after {
            (self.apply)(lsn, time, payload)?;
        }
        Ok(())
    }
}

/// Reads the records of the segment at `path` up to `last`, which the log has written, a
/// window at a time into `buffer`, handing each to `reading`: from `hint` if it holds a
/// record (the first one `reading` takes), else from the segment's first.
fn read_segment_to<F: FnMut(Lsn, Timestamp, &[u8]) -> Result<()>>(
    fs: &dyn Vfs,
    path: &Path,
    (first, db_id): (Lsn, u64),
    (hint, last): (Option<Place>, Lsn),
    buffer: &mut Vec<u8>,
    reading: &mut Reading<F>,
) -> Result<SegmentRead> {
    let file = fs
        .open(path)
        .map_err(io_error(format!("opening log segment {}", path.display())))?;
    let version = log_segment::check_header(&*file, first, db_id)?;
    let mut segment = SegmentRead {
        first,
        version: Some(version),
        last: None,
        sealed: false,
        torn: false,
        valid_len: log_segment::SEGMENT_HEADER_LEN as u64,
        before_seal: false,
        abandoned: false,
    };
    let mut next = first;
    // The record before the hint is the segment's last read so far: where a read that
    // stops in this segment resumes, and what its tiling check compares.
    let mut hinted = hint.filter(|h| h.lsn <= last).is_some_and(|hint| {
        segment.last = Some(hint.lsn - 1);
        segment.valid_len = hint.offset;
        next = hint.lsn;
        true
    });
    while next <= last && !segment.sealed && !reading.done {
        let place = (segment.valid_len, next);
        let bytes = std::mem::take(buffer);
        let window = read_window(
            &*file,
            (first, db_id, version),
            place,
            last,
            REPLAY_WINDOW,
            bytes,
        )?
        .filter(|w| !w.records.is_empty() || w.sealed);
        let window = match window {
            Some(window) => window,
            None if hinted => {
                // The hint does not hold: from the segment's first record.
                hinted = false;
                segment.last = None;
                segment.valid_len = log_segment::SEGMENT_HEADER_LEN as u64;
                next = first;
                continue;
            }
            None => {
                return Err(Error::Corruption(format!(
                    "log segment {}: record {next} does not verify where the one before it ends (offset {})",
                    path.display(),
                    segment.valid_len
                )))
            }
        };
        hinted = false;
        for record in &window.records {
            reading.visit(record.lsn, record.time, window.payload(record))?;
            if reading.done {
                break;
            }
        }
        if let Some(record) = window.records.last() {
            segment.last = Some(record.lsn);
            next = record.lsn + 1;
        }
        segment.valid_len = window.end().max(segment.valid_len);
        segment.sealed = window.sealed;
        *buffer = window.bytes;
    }
    Ok(segment)
}

/// Decodes the mutation of the log record at `lsn`.
pub(crate) fn decode_mutation(lsn: Lsn, payload: &[u8]) -> Result<Mutation> {
    codec::decode(payload, format_args!("log record {lsn}"))
}

/// Loads a snapshot file into a live table.
pub(crate) fn load_snapshot(
    fs: &dyn Vfs,
    dir: &Path,
    file: &str,
) -> Result<(SnapshotMeta, TableData)> {
    let path = dir.join(SNAPSHOT_DIR).join(file);
    let mut reader = TableFileReader::open(fs, &path, SNAPSHOT_MAGIC)?;
    let meta = SnapshotMeta::read(&reader)?;
    // The blocks are kept as they are read (checksums and key order verified): their items
    // are decoded when first read (`state/items.rs`), so an open costs about a read of
    // the file.
    let mut blocks = Vec::new();
    while let Some(block) = reader.next_raw()? {
        blocks.push(block);
    }
    let schema = Arc::new(meta.schema.clone());
    let mut data = TableData::from_blocks(schema, TableStatus::Active, blocks)?;
    data.settings = Arc::clone(&meta.settings);
    Ok((meta, data))
}

/// What the log says happened to one table in a range.
#[derive(Debug)]
pub(crate) struct TableChanges {
    table_id: Arc<str>,
    /// The schema as of the end of the range, if the range created or updated the table.
    schema: Option<Arc<TableSchema>>,
    /// The settings as of the end of the range, if the range changed them.
    settings: Option<Arc<TableSettings>>,
    deleted: bool,
    /// The table's writes in the range.
    pub(crate) writes: LastWrites,
    /// When collected (an incremental export's window): the commit time of each key's last
    /// write.
    times: Option<HashMap<Vec<u8>, Timestamp>>,
}

impl TableChanges {
    /// Collects the changes of `table_id`, with room for `room` writes before compacting
    /// them ([`LastWrites::with_room`]).
    pub(crate) fn new(table_id: &str, room: usize) -> TableChanges {
        TableChanges {
            table_id: table_id.into(),
            schema: None,
            settings: None,
            deleted: false,
            writes: LastWrites::with_room(room),
            times: None,
        }
    }

    /// Notes that `key` was written at `time` (when the times are collected).
    fn note_time(&mut self, key: &[u8], time: Timestamp) {
        if let Some(times) = self.times.as_mut() {
            times.insert(key.to_vec(), time);
        }
    }

    /// Takes one log record: the table's writes read straight from the record's bytes when
    /// it holds only writes (no decode, no allocation per item), the decoded mutation
    /// otherwise.
    pub(crate) fn take(&mut self, lsn: Lsn, time: Timestamp, payload: &[u8]) -> Result<()> {
        let mark = self.writes.mark();
        // (Times are noted once the record is known to be writes only.)
        let mut keys = Vec::new();
        let noting = self.times.is_some();
        let writes = &mut self.writes;
        let write = |key: &[u8], item: Option<Scanned>| {
            if noting {
                keys.push(key.to_vec());
            }
            writes.push(key, item.map(|i| (i.encoding, i.size)));
        };
        if Mutation::table_writes(payload, &self.table_id, write).is_some() {
            for key in keys {
                self.note_time(&key, time);
            }
            self.writes.compact_if_due();
            return Ok(());
        }
        self.writes.truncate(mark);
        apply(At { lsn, time }, decode_mutation(lsn, payload)?, self)
    }
}

/// Replay keeps, for its one table, the last schema and settings, whether it was deleted, and
/// the last write of each key; the merge with the base snapshot applies them.
impl Apply for TableChanges {
    fn create_table(
        &mut self,
        _: At,
        schema: Arc<TableSchema>,
        settings: Arc<TableSettings>,
    ) -> Result<()> {
        if *schema.id == *self.table_id {
            self.schema = Some(schema);
            self.settings = Some(settings);
        }
        Ok(())
    }

    fn update_table(&mut self, _: At, schema: Arc<TableSchema>) -> Result<()> {
        if *schema.id == *self.table_id {
            self.schema = Some(schema);
        }
        Ok(())
    }

    fn delete_table(
        &mut self,
        _: At,
        table_id: Arc<str>,
        _system_backup: Option<Arc<BackupRecord>>,
    ) -> Result<()> {
        // Its SYSTEM backup is built by its own replay, with this record as its marker.
        if *table_id == *self.table_id {
            self.deleted = true;
        }
        Ok(())
    }

    fn end_streams(&mut self, _: At, _schema: Arc<TableSchema>) -> Result<()> {
        // A stream is read from the log, not kept in a table's state.
        Ok(())
    }

    fn write_items(&mut self, at: At, writes: Vec<ItemWrite>) -> Result<()> {
        for write in writes {
            if *write.table_id == *self.table_id {
                self.note_time(&write.key, at.time);
                let item = write.item.as_ref().map(|i| (i.encoding(), i.size() as u32));
                self.writes.push(&write.key, item);
            }
        }
        self.writes.compact_if_due();
        Ok(())
    }

    fn create_backup(&mut self, _: At, _record: Arc<BackupRecord>) -> Result<()> {
        // A backup request changes no table: its marker only orders writes before and after.
        Ok(())
    }

    fn delete_backup(&mut self, _: At, _arn: String) -> Result<()> {
        // Deleting a backup changes no table.
        Ok(())
    }

    fn restore_table(&mut self, _: At, schema: Arc<TableSchema>, _snapshot: String) -> Result<()> {
        // A restored table's history starts at its restore record: a replay of it starts from
        // the restored file (its base), so only the schema is news here.
        if *schema.id == *self.table_id {
            self.schema = Some(schema);
        }
        Ok(())
    }

    fn update_table_settings(
        &mut self,
        _: At,
        table_id: Arc<str>,
        settings: Arc<TableSettings>,
    ) -> Result<()> {
        if *table_id == *self.table_id {
            self.settings = Some(settings);
        }
        Ok(())
    }
}

/// What [`build_snapshot`] made.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Built {
    /// A new snapshot file, by name.
    File(String),
    /// Nothing: the log range holds no change to the table.
    Unchanged,
    /// Nothing: the table was deleted in the range.
    Deleted,
}

/// What makes a table file's header metadata, given the table's schema and settings at the
/// end of the range and the last record read.
pub(crate) type Meta<'a> =
    dyn Fn(&TableSchema, &Arc<TableSettings>, Option<LogEnd>) -> Vec<u8> + 'a;

/// Where a built table file goes and what its header says.
pub(crate) struct Target<'a> {
    /// The directory of the file.
    pub dir: PathBuf,
    /// The file's name; it is written as `{name}.tmp` and renamed when complete.
    pub name: String,
    /// The file kind's magic.
    pub magic: [u8; 8],
    /// The header's metadata.
    pub meta: &'a Meta<'a>,
    /// Write a file even when the range changed nothing (a backup always needs one).
    pub always: bool,
    /// Counts items and bytes written, for a building backup's progress.
    pub progress: Option<&'a Progress>,
    /// Paces the file's writes while writers wait for commits (a background build's).
    pub throttle: Option<&'a Throttle>,
    /// Keep the file out of the page cache once written (a backup's: see
    /// [`TableFileWriter::uncached`]).
    pub uncached: bool,
}

/// The changes of one table in a window of the log: each key written in it, once, with
/// its last write (its item, in the arena, or `None` for a delete) and that write's commit
/// time. What an incremental export writes, beside each key's state before the window.
pub(crate) struct WindowChanges {
    /// The last write of each key, in key order.
    pub writes: Vec<(ItemKey, Option<Span>)>,
    /// Their items.
    pub arena: Arena,
    /// The commit time of each key's last write.
    pub times: HashMap<Vec<u8>, Timestamp>,
}

/// Reads the writes of `table_id` in the log after `after`, up to `until`, that were
/// committed at or after `from`: the window `[from, until.time]`. `after` may be earlier
/// than the window (a state's LSN): records before `from` are read and passed over. Holds
/// the window's changed keys, never the table.
pub(crate) fn read_window_changes(
    fs: &dyn Vfs,
    dir: &Path,
    db_id: u64,
    table_id: &str,
    after: Lsn,
    until: Until,
    from: Timestamp,
) -> Result<WindowChanges> {
    let mut changes = TableChanges::new(table_id, 0);
    changes.times = Some(HashMap::new());
    read_log(fs, dir, db_id, after, until, |lsn, time, payload| {
        if time < from {
            return Ok(());
        }
        changes.take(lsn, time, payload)
    })?;
    let times = changes.times.take().unwrap_or_default();
    let (writes, arena) = changes.writes.finish();
    Ok(WindowChanges {
        writes,
        arena,
        times,
    })
}

/// Builds the table file of `table_id` at `until` (a snapshot, a backup or a point-in-time
/// restore) from the snapshot file `base` and the log after `after`: the one replay behind
/// checkpoints, backups and restores.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_table_file(
    fs: &dyn Vfs,
    dir: &Path,
    db_id: u64,
    table_id: &str,
    base: Option<&str>,
    after: Lsn,
    until: Until,
    target: &Target,
) -> Result<(Built, Option<LogEnd>)> {
    let mut digest = Digest::new(fs, dir, table_id, base, after)?;
    digest.read(fs, dir, db_id, until)?;
    build_from_digest(fs, dir, &mut digest, target)
}

/// Builds the table file of a digest's table at the last LSN it read: its base merged
/// with the writes it read. The digest keeps them (see `storage/digest.rs`).
pub(crate) fn build_from_digest(
    fs: &dyn Vfs,
    dir: &Path,
    digest: &mut Digest,
    target: &Target,
) -> Result<(Built, Option<LogEnd>)> {
    let end = digest.end();
    let base = digest.base().map(str::to_owned);
    let changes = &mut digest.changes;
    let table_id = &changes.table_id;
    if changes.deleted {
        return Ok((Built::Deleted, end));
    }
    // NB: a range that changed only the settings changes the table: its snapshot must be
    // written, or the settings would go with the log the snapshot lets go.
    let unchanged =
        changes.schema.is_none() && changes.settings.is_none() && changes.writes.is_empty();
    if !target.always && base.is_some() && unchanged {
        return Ok((Built::Unchanged, end));
    }
    let mut base_reader = match &base {
        Some(file) => Some(TableFileReader::open(
            fs,
            &dir.join(SNAPSHOT_DIR).join(file),
            SNAPSHOT_MAGIC,
        )?),
        None => None,
    };
    let base_meta: Option<SnapshotMeta> = match &base_reader {
        Some(reader) => Some(SnapshotMeta::read(reader)?),
        None => None,
    };
    // A table without a base starts, at its creation, with no settings.
    let settings = match (&changes.settings, &base_meta) {
        (Some(settings), _) => Arc::clone(settings),
        (None, Some(meta)) => Arc::clone(&meta.settings),
        (None, None) => Arc::default(),
    };
    let schema = match (&changes.schema, base_meta) {
        (Some(schema), _) => (**schema).clone(),
        (None, Some(meta)) => meta.schema,
        (None, None) => {
            return Err(Error::Corruption(format!(
                "table {table_id} has neither a snapshot nor a creation record in the log after its base"
            )))
        }
    };
    let meta = (target.meta)(&schema, &settings, end);
    write_table_file(
        fs,
        &target.dir,
        &target.name,
        target.magic,
        &meta,
        |writer| {
            writer.progress = target.progress;
            writer.pacer = target.throttle.map(Throttle::pacer);
            writer.uncached = target.uncached;
            merge(writer, base_reader.as_mut(), &mut changes.writes, &schema)
        },
    )?;
    Ok((Built::File(target.name.clone()), end))
}

/// Writes the merge of the base table file `base_reader` (if any) and the changed keys
/// `writes` into `writer`, in key order.
fn merge(
    writer: &mut TableFileWriter,
    base_reader: Option<&mut TableFileReader>,
    writes: &mut LastWrites,
    schema: &TableSchema,
) -> Result<()> {
    // Merge: base items in key order, with the changed keys taking precedence. A base
    // block that no changed key falls into (every remaining change is after its last key)
    // is copied as it is, without decoding: a mostly unchanged table merges at copy speed.
    let (changed, arena) = writes.compacted();
    let changed_item = |span: Span| arena.get(span);
    let mut changed = Changes::new(changed, arena);
    // The encoded keys of the changed block being merged, reused from block to block.
    let mut keys = Vec::new();
    if let Some(reader) = base_reader {
        while let Some(raw) = reader.next_raw()? {
            if changed
                .peek()
                .is_none_or(|(k, _)| k.as_bytes() > raw.last_key())
            {
                writer.push_raw(&raw)?;
                continue;
            }
            // NB: a changed block's items are scanned, not decoded: copying an item needs
            // its extent, size and key, not an allocation and a checked copy of it (which
            // cost about half a microsecond per item of a backup with a busy writer). The
            // items are checked when a table file is loaded.
            keys.clear();
            match raw.scan(&schema.key, &mut keys) {
                Some(items) => {
                    for item in items {
                        let key = &keys[item.key];
                        // One comparison per item and change (this loop is a backup's
                        // inner loop): changes before the item go first, one at the
                        // item's key replaces it.
                        loop {
                            match changed.peek().map(|(k, _)| k.as_bytes().cmp(key)) {
                                Some(Ordering::Less) => {
                                    if let Some((k, Some(new))) = changed.next() {
                                        writer.push_encoded(
                                            k.as_bytes(),
                                            changed_item(*new),
                                            new.size,
                                        )?;
                                    }
                                }
                                Some(Ordering::Equal) => {
                                    if let Some((_, Some(new))) = changed.next() {
                                        writer.push_encoded(key, changed_item(*new), new.size)?;
                                    }
                                    break;
                                }
                                _ => {
                                    writer.push_encoded(key, item.encoding, item.size)?;
                                    break;
                                }
                            }
                        }
                    }
                }
                None => {
                    for (key, old) in raw.decode(&schema.key)? {
                        write_changes_before(writer, &mut changed, arena, Some(&key))?;
                        match changed.next_if(|(k, _)| k.as_bytes() == key.as_slice()) {
                            Some((_, Some(new))) => {
                                writer.push_encoded(&key, changed_item(*new), new.size)?
                            }
                            Some((_, None)) => {}
                            None => writer.push(&key, &old)?,
                        }
                    }
                }
            }
        }
    }
    write_changes_before(writer, &mut changed, arena, None)
}

/// Writes the table file `dir/name`: created as `{name}.tmp`, filled by `fill`, finished
/// (synced) and installed by a rename, so that the name only ever holds a whole file. The
/// one place a table file (a snapshot, a backup, a restored table's first snapshot, an
/// export's state) is written.
///
/// IMPORTANT: on any failure — an I/O error, corruption met in what `fill` reads, a fault
/// while the header is written — the temporary file is removed before the error returns:
/// nothing names it, and a database that runs on after a failed restore or backup would
/// otherwise keep up to a table's size of disk until its next open. (A file installed by a
/// rename whose directory sync then failed is the caller's: only it knows whether anything
/// may already name that file.)
pub(crate) fn write_table_file<'p>(
    fs: &dyn Vfs,
    dir: &Path,
    name: &str,
    magic: [u8; 8],
    meta: &[u8],
    fill: impl FnOnce(&mut TableFileWriter<'p>) -> Result<()>,
) -> Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let path = dir.join(name);
    let written = (|| {
        let mut writer = TableFileWriter::create(fs, &tmp, magic, meta)?;
        fill(&mut writer)?;
        writer.finish()?;
        crate::fs::killpoint::reached("table_file.before_rename");
        crate::fs::install(fs, &tmp, &path).map_err(io_error(format!(
            "installing table file {}",
            path.display()
        )))
    })();
    if written.is_err() {
        // Best effort: the build's own error is the one to report, and an open removes
        // any file nothing names. NotFound here means the rename had already happened.
        let _ = fs.remove_file(&tmp);
    }
    written?;
    crate::fs::killpoint::reached("table_file.installed");
    Ok(())
}

/// Writes the snapshot of a live table at `lsn` straight from its items — for a clean
/// close, when no writer is left, so the table is exactly its state after `lsn` — and
/// returns the file's name. Replaying the log would rebuild the same file, only slower.
pub(crate) fn write_live_snapshot(
    fs: &dyn Vfs,
    dir: &Path,
    lsn: Lsn,
    data: &TableData,
) -> Result<String> {
    let table_id = data.schema.id.as_str();
    let meta = codec::encode(&SnapshotMeta {
        table_id: table_id.to_owned(),
        lsn,
        schema: (*data.schema).clone(),
        settings: Arc::clone(&data.settings),
    });
    let name = snapshot_name(table_id, lsn);
    write_table_file(
        fs,
        &dir.join(SNAPSHOT_DIR),
        &name,
        SNAPSHOT_MAGIC,
        &meta,
        |writer| data.items.write_to(writer),
    )?;
    Ok(name)
}

/// The changed keys in key order, as the merge consumes them. Their items lie in the
/// arena in log order, so each step prefetches the item [`AHEAD`] changes on
/// (`state/prefetch.rs`): measured on a backup of 1M items with 450k changed, 0.54 s of
/// CPU without, 0.48 s with.
struct Changes<'a> {
    list: &'a [(ItemKey, Option<Span>)],
    at: usize,
    arena: &'a Arena,
}

impl<'a> Changes<'a> {
    fn new(list: &'a [(ItemKey, Option<Span>)], arena: &'a Arena) -> Changes<'a> {
        let changes = Changes { list, at: 0, arena };
        (0..AHEAD).for_each(|i| changes.prefetch(i));
        changes
    }

    fn prefetch(&self, at: usize) {
        if let Some((_, Some(span))) = self.list.get(at) {
            prefetch(self.arena.get(*span));
        }
    }

    fn peek(&self) -> Option<&'a (ItemKey, Option<Span>)> {
        self.list.get(self.at)
    }

    fn next(&mut self) -> Option<&'a (ItemKey, Option<Span>)> {
        let change = self.list.get(self.at)?;
        self.at += 1;
        self.prefetch(self.at + AHEAD);
        Some(change)
    }

    fn next_if(
        &mut self,
        wanted: impl FnOnce(&(ItemKey, Option<Span>)) -> bool,
    ) -> Option<&'a (ItemKey, Option<Span>)> {
        match self.peek().is_some_and(wanted) {
            true => self.next(),
            false => None,
        }
    }
}

/// Writes the changed items (in `arena`) whose keys come before `bound` (all of them if
/// `None`).
fn write_changes_before(
    writer: &mut TableFileWriter,
    changed: &mut Changes,
    arena: &Arena,
    bound: Option<&[u8]>,
) -> Result<()> {
    while let Some((key, item)) = changed.next_if(|(k, _)| bound.is_none_or(|b| k.as_bytes() < b)) {
        if let Some(span) = *item {
            let encoding = arena.get(span);
            writer.push_encoded(key.as_bytes(), encoding, span.size)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read to an LSN never parses a segment that starts after it: the log may be being
    /// written there, and a group being written can show a later page before an earlier
    /// one (found by review: a backup whose base is just before its marker reads to it).
    #[test]
    fn a_read_to_an_lsn_never_parses_the_segment_after_it() {
        use crate::format::log_segment::{encode_record, encode_seal, encode_segment_header};
        let fs = crate::fs::sim::SimFs::new();
        let wal = Path::new("/db").join(WAL_DIR);
        let db = 7;
        let mut old = encode_segment_header(1, db);
        for lsn in 1..=3 {
            let synced = old.len() as u64;
            encode_record(&mut old, (1, db), lsn, Timestamp(lsn), synced, b"x");
        }
        old.extend_from_slice(&encode_seal(1, db, 4));
        fs.set_file_bytes(&wal.join(log_segment::segment_name(1)), &old)
            .expect("plant");
        // The current segment as a reader may see it mid-write: record 5 not there yet,
        // record 6 already (written when everything before it was durable, so it reads
        // as damage, not a torn write).
        let mut current = encode_segment_header(4, db);
        let synced = current.len() as u64;
        encode_record(&mut current, (4, db), 4, Timestamp(4), synced, b"x");
        let hole = current.len();
        current.extend(std::iter::repeat_n(0, 40));
        let synced = current.len() as u64;
        encode_record(&mut current, (4, db), 6, Timestamp(6), synced, b"x");
        assert!(hole < current.len());
        fs.set_file_bytes(&wal.join(log_segment::segment_name(4)), &current)
            .expect("plant");
        let read = read_log(
            &fs,
            Path::new("/db"),
            db,
            3,
            Until::lsn(3),
            |_, _, _| Ok(()),
        );
        assert!(read.is_ok(), "{:?}", read.err());
        // Read past it, the same bytes are damage.
        let read = read_log(&fs, Path::new("/db"), db, 3, Until::default(), |_, _, _| {
            Ok(())
        });
        assert!(
            matches!(read, Err(Error::Corruption(_))),
            "{:?}",
            read.err()
        );
    }

    /// A record as a read handed it over: its LSN, commit time and payload.
    type Logged = (Lsn, Timestamp, Vec<u8>);

    /// Plants a log of three segments (the last one being written, with zeros ahead of its
    /// records) whose records range from a few bytes to more than a window; the record
    /// `lsn` commits at `lsn * 10` and its payload is its LSN repeated.
    fn plant_log(fs: &crate::fs::sim::SimFs, db: u64) -> Vec<Logged> {
        use crate::format::log_segment::{encode_record, encode_seal, encode_segment_header};
        let wal = Path::new("/db").join(WAL_DIR);
        let mut records = Vec::new();
        let sizes = |lsn: Lsn| match lsn % 7 {
            0 => REPLAY_WINDOW + 1000,
            3 => REPLAY_WINDOW / 3,
            _ => (lsn as usize * 37) % 200 + 1,
        };
        let segments: [(Lsn, Lsn); 3] = [(1, 20), (21, 33), (34, 50)];
        for (i, &(first, last)) in segments.iter().enumerate() {
            let mut bytes = encode_segment_header(first, db);
            for lsn in first..=last {
                let payload = vec![lsn as u8; sizes(lsn)];
                let synced = bytes.len() as u64;
                encode_record(
                    &mut bytes,
                    (first, db),
                    lsn,
                    Timestamp(lsn * 10),
                    synced,
                    &payload,
                );
                records.push((lsn, Timestamp(lsn * 10), payload));
            }
            if i + 1 < segments.len() {
                bytes.extend_from_slice(&encode_seal(first, db, last + 1));
            } else {
                bytes.extend(std::iter::repeat_n(0, 4096));
            }
            fs.set_file_bytes(&wal.join(log_segment::segment_name(first)), &bytes)
                .expect("plant");
        }
        records
    }

    fn read_to(
        fs: &crate::fs::sim::SimFs,
        db: u64,
        after: Lsn,
        until: Until,
    ) -> Result<(Option<LogEnd>, Vec<Logged>)> {
        let mut seen = Vec::new();
        let (end, _) = read_log(
            fs,
            Path::new("/db"),
            db,
            after,
            until,
            |lsn, time, payload| {
                seen.push((lsn, time, payload.to_vec()));
                Ok(())
            },
        )?;
        Ok((end, seen))
    }

    /// A read to an LSN (a window at a time) hands over exactly the records a read of the
    /// whole log hands over in its range, from any place to any LSN or moment, whether
    /// records are smaller than a window, cut by its end or larger than it, and whether the
    /// range crosses segments.
    #[test]
    fn a_read_to_an_lsn_gives_the_records_of_its_range_whatever_their_sizes_and_segments() {
        let fs = crate::fs::sim::SimFs::new();
        let db = 7;
        let log = plant_log(&fs, db);
        let (whole_end, whole) = read_to(&fs, db, 0, Until::default()).expect("whole read");
        assert_eq!(whole, log);
        assert_eq!(whole_end.map(|e| e.last_lsn), Some(50));
        for after in [0, 6, 20, 21, 33] {
            for upto in after..=50 {
                let (end, seen) = read_to(&fs, db, after, Until::lsn(upto)).expect("read");
                let want: Vec<_> = log
                    .iter()
                    .filter(|r| r.0 > after && r.0 <= upto)
                    .cloned()
                    .collect();
                assert_eq!(seen, want, "after {after} to {upto}");
                if upto > after {
                    assert_eq!(end.map(|e| e.last_lsn), Some(upto));
                    // The record before, when the read saw it.
                    let prior = end.and_then(|e| e.prior_time);
                    assert!(prior.is_none_or(|p| p == Timestamp((upto - 1) * 10)));
                }
                // To a moment as well: the records committed at or before it.
                let time = Timestamp(upto * 10 + 5);
                let until = Until {
                    lsn: Some(50),
                    time: Some(time),
                };
                let (_, seen) = read_to(&fs, db, after, until).expect("read");
                let want: Vec<_> = log
                    .iter()
                    .filter(|r| r.0 > after && r.1 <= time)
                    .cloned()
                    .collect();
                assert_eq!(seen, want, "after {after} to {time:?}");
            }
        }
    }

    /// A read resumed where the one before it stopped ([`SegmentRead::next`], as a digest
    /// reads the log in steps) hands over exactly the records of its range, whether the
    /// step ends inside a segment, at its seal or at a record larger than a window; and a
    /// hint that does not hold (another place in the segment) is dropped, not trusted.
    #[test]
    fn a_read_resumed_at_its_hint_gives_the_records_of_its_range() {
        let fs = crate::fs::sim::SimFs::new();
        let db = 7;
        let log = plant_log(&fs, db);
        let read_from = |after: Lsn, hint: Option<Place>, upto: Lsn| {
            let mut seen = Vec::new();
            let (_, segments) = read_log_from(
                &fs,
                Path::new("/db"),
                db,
                (after, hint),
                Until::lsn(upto),
                |lsn, time, payload| {
                    seen.push((lsn, time, payload.to_vec()));
                    Ok(())
                },
            )
            .expect("read");
            (seen, segments.last().and_then(SegmentRead::next))
        };
        for step in 1..=9 {
            let (mut after, mut hint, mut seen) = (0, None, Vec::new());
            while after < 50 {
                let upto = (after + step).min(50);
                let (read, next) = read_from(after, hint, upto);
                seen.extend(read);
                let next = next.expect("a hint after a read of records");
                assert_eq!(next.lsn, upto + 1, "step {step} to {upto}");
                (after, hint) = (upto, Some(next));
            }
            assert_eq!(seen, log, "in steps of {step}");
        }
        // A good hint is taken: a read from it does not read the segment's records before it
        // again (the first segment holds about 1.7 MB of records, windows of 512 KiB).
        let reads = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = std::sync::Arc::clone(&reads);
        let hooked =
            crate::fs::sim::HookFs::new(std::sync::Arc::new(fs.clone()), move |kind, _| {
                if kind == crate::fs::sim::OpKind::Read {
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                Ok(())
            });
        let (_, before_last) = read_from(0, None, 19);
        let reads_of = |hint: Option<Place>| {
            reads.store(0, std::sync::atomic::Ordering::SeqCst);
            let at = (19, hint);
            read_log_from(
                &hooked,
                Path::new("/db"),
                db,
                at,
                Until::lsn(20),
                |_, _, _| Ok(()),
            )
            .expect("read");
            reads.load(std::sync::atomic::Ordering::SeqCst)
        };
        let (hinted, whole) = (reads_of(before_last), reads_of(None));
        assert!(
            hinted + 3 <= whole,
            "{hinted} reads from the hint, {whole} from the start"
        );
        // A hint at the wrong record of the right segment.
        let (_, hint) = read_from(0, None, 3);
        let wrong = Place {
            lsn: 6,
            ..hint.expect("a hint")
        };
        let (seen, _) = read_from(5, Some(wrong), 9);
        let want: Vec<_> = log
            .iter()
            .filter(|r| r.0 > 5 && r.0 <= 9)
            .cloned()
            .collect();
        assert_eq!(seen, want);
    }

    /// A record of the range that does not verify is corruption for a read to an LSN, in
    /// a window's middle or a record larger than a window; one after the range is not read.
    #[test]
    fn a_read_to_an_lsn_reports_a_damaged_record_of_its_range_and_ignores_one_after_it() {
        let fs = crate::fs::sim::SimFs::new();
        let db = 7;
        plant_log(&fs, db);
        let path = Path::new("/db")
            .join(WAL_DIR)
            .join(log_segment::segment_name(21));
        let clean = fs.file_bytes(&path).expect("segment");
        // Record 28 is larger than a window; record 25 is a small one.
        for damaged in [25, 28] {
            let mut bytes = clean.clone();
            let at = bytes
                .windows(64)
                .position(|w| w.iter().all(|&b| b == damaged as u8))
                .expect("the record's payload");
            bytes[at + 10] ^= 0x40;
            fs.set_file_bytes(&path, &bytes).expect("damage");
            let read = read_to(&fs, db, 0, Until::lsn(damaged - 1));
            assert!(read.is_ok(), "{:?}", read.err());
            for upto in [damaged, 40] {
                let read = read_to(&fs, db, 0, Until::lsn(upto));
                assert!(
                    matches!(read, Err(Error::Corruption(_))),
                    "record {damaged} damaged, read to {upto}: {:?}",
                    read.map(|r| r.1.len())
                );
            }
        }
        fs.set_file_bytes(&path, &clean).expect("repair");
        // A segment cut short is a hole for a read across it.
        fs.set_file_bytes(&path, &clean[..clean.len() / 2])
            .expect("cut");
        let read = read_to(&fs, db, 0, Until::lsn(40));
        assert!(
            matches!(read, Err(Error::Corruption(_))),
            "{:?}",
            read.map(|r| r.1.len())
        );
    }

    /// The decoded path (taken when a record does not read the fast way) keeps a Time to
    /// Live delete as the fast read does: deletes of its own table's keys.
    #[test]
    fn replay_keeps_ttl_deletes_of_its_table_only() {
        let mut changes = TableChanges::new("t", 0);
        let at = At {
            lsn: 1,
            time: Timestamp(0),
        };
        changes
            .expire_items(at, "t".into(), vec![vec![1], vec![2]])
            .expect("apply");
        changes
            .expire_items(at, "other".into(), vec![vec![3]])
            .expect("apply");
        let (kept, _) = changes.writes.finish();
        let kept: Vec<_> = kept
            .iter()
            .map(|(key, item)| (key.as_bytes().to_vec(), item.is_some()))
            .collect();
        assert_eq!(kept, [(vec![1], false), (vec![2], false)]);
    }
}
