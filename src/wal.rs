//! The write-ahead log: one log for the whole database, in segment files, with group commit.
//!
//! Every [`Mutation`](crate::commit::Mutation) is one record. The log is the database's
//! total order: record `n` has LSN `n`, LSNs are contiguous from the first record of the
//! first retained segment to the last record of the last one, and a transaction or batch is
//! one record, so it survives a crash whole or not at all.
//!
//! # Segment file layout
//!
//! A segment is named after the LSN of its first record (`00000000000000000042.wal`) and
//! holds a header followed by records, all integers little-endian:
//!
//! ```text
//! header (SEGMENT_HEADER_LEN = 32 bytes)
//!   0  magic      [u8; 8]  b"TIDEWAL\0"
//!   8  version    u32      FORMAT_VERSION
//!  12  first_lsn  u64      LSN of the segment's first record; equals the file name
//!  20  db_id      u64      identity of the database the segment belongs to
//!  28  crc        u32      CRC-32C of bytes 0..28
//! record (RECORD_HEADER_LEN = 24 bytes, then the payload)
//!   0  len        u32      payload length, at most MAX_RECORD_LEN
//!   4  crc        u32      CRC-32C of (first_lsn, db_id, bytes 8..24+len): the segment's
//!                          identity is inside every record's checksum, so a record that
//!                          landed in the wrong file, or a stale block of another
//!                          segment, does not verify
//!   8  lsn        u64
//!  16  time       u64      commit time, milliseconds since the epoch
//!  24  payload    [u8; len] the codec's encoding of the mutation
//! ```
//!
//! # Torn tails and corruption
//!
//! A crash can leave the last write of the last segment incomplete: cut short, zeroed, or
//! holding old or random bytes. Reading stops at the first record that does not verify. If
//! that record is in the last segment and no verifiable record follows it anywhere in the
//! segment, the rest of the segment is a torn tail: recovery cuts it (and never replays it).
//! Anything else — a bad record in an older segment, a gap in the LSNs, or a good record
//! after a bad one — is corruption in the middle of the log, reported as
//! `Error::Corruption`, never skipped: skipping it would silently lose acknowledged writes
//! (the hole RocksDB fixed in PR #7701). An I/O error while reading is reported as such,
//! never mistaken for a torn tail.
//!
//! # Group commit
//!
//! Writers append their record to a shared buffer under a short lock that also gives them
//! their LSN and commit time. The first writer to find no flush in progress becomes the
//! leader: it takes the whole buffer, writes it with one write and makes it durable with one
//! `sync_data`, then wakes everyone whose record it covered. Writers that arrive meanwhile
//! form the next group; they sleep on their own condition variable (flushes alternate
//! between two), so a finished flush wakes only the writers it made durable, plus one
//! writer of the next group to lead it. A failed write or sync poisons the log (invariant I8): no later
//! write is acknowledged until the database is reopened, because after a failed fsync the
//! kernel may have dropped the dirty pages and a retry could falsely succeed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use crate::clock::{Clock, Timestamp};
use crate::codec;
use crate::commit::Lsn;
use crate::error::{Error, Result};
use crate::fs::{Vfs, VfsFile};
use crate::options::Durability;

/// Identifies a segment file.
pub(crate) const SEGMENT_MAGIC: [u8; 8] = *b"TIDEWAL\0";
/// The segment format this code writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 2;
const MAGIC_OFFSET: usize = 0;
const VERSION_OFFSET: usize = MAGIC_OFFSET + 8;
const FIRST_LSN_OFFSET: usize = VERSION_OFFSET + 4;
const DB_ID_OFFSET: usize = FIRST_LSN_OFFSET + 8;
const HEADER_CRC_OFFSET: usize = DB_ID_OFFSET + 8;
/// Length of a segment header.
pub(crate) const SEGMENT_HEADER_LEN: usize = HEADER_CRC_OFFSET + 4;

const LEN_OFFSET: usize = 0;
const CRC_OFFSET: usize = LEN_OFFSET + 4;
const LSN_OFFSET: usize = CRC_OFFSET + 4;
const TIME_OFFSET: usize = LSN_OFFSET + 8;
/// Length of a record header.
pub(crate) const RECORD_HEADER_LEN: usize = TIME_OFFSET + 8;
/// The largest record payload: a 16 MB batch with room for encoding overhead.
pub(crate) const MAX_RECORD_LEN: usize = codec::MAX_DECODE_BYTES;
/// The largest segment file read into memory at once.
const MAX_SEGMENT_READ: u64 = 1 << 40;

/// The file name of the segment starting at `first_lsn`.
pub(crate) fn segment_name(first_lsn: Lsn) -> String {
    format!("{first_lsn:020}.wal")
}

/// The first LSN a segment file name stands for, if it is one.
pub(crate) fn parse_segment_name(name: &str) -> Option<Lsn> {
    let digits = name.strip_suffix(".wal")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())?
}

fn io_error(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(b)
}

fn u64_at(bytes: &[u8], offset: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[offset..offset + 8]);
    u64::from_le_bytes(b)
}

/// The header of a new segment.
pub(crate) fn encode_segment_header(first_lsn: Lsn, db_id: u64) -> Vec<u8> {
    let mut header = Vec::with_capacity(SEGMENT_HEADER_LEN);
    header.extend_from_slice(&SEGMENT_MAGIC); // magic
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes()); // version
    header.extend_from_slice(&first_lsn.to_le_bytes()); // first_lsn
    header.extend_from_slice(&db_id.to_le_bytes()); // db_id
    let crc = codec::crc(&header);
    header.extend_from_slice(&crc.to_le_bytes()); // crc of the above
    header
}

fn record_crc(first_lsn: Lsn, db_id: u64, body: &[u8]) -> u32 {
    let identity = codec::crc_append(codec::crc(&first_lsn.to_le_bytes()), &db_id.to_le_bytes());
    codec::crc_append(identity, body)
}

/// Appends one framed record to `out`.
pub(crate) fn encode_record(
    out: &mut Vec<u8>,
    first_lsn: Lsn,
    db_id: u64,
    lsn: Lsn,
    time: Timestamp,
    payload: &[u8],
) {
    let start = out.len();
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes()); // len
    out.extend_from_slice(&[0; 4]); // crc, filled in below
    out.extend_from_slice(&lsn.to_le_bytes()); // lsn
    out.extend_from_slice(&time.0.to_le_bytes()); // time
    out.extend_from_slice(payload); // payload
    let crc = record_crc(first_lsn, db_id, &out[start + LSN_OFFSET..]);
    out[start + CRC_OFFSET..start + CRC_OFFSET + 4].copy_from_slice(&crc.to_le_bytes());
}

/// One record read back from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub lsn: Lsn,
    pub time: Timestamp,
    pub payload: Vec<u8>,
}

/// What reading one segment found.
#[derive(Debug)]
pub(crate) struct SegmentContents {
    pub records: Vec<Record>,
    /// Bytes of the file up to the end of the last good record (the header if none).
    pub valid_len: u64,
    /// The file's length: more than `valid_len` when it has a torn tail.
    pub file_len: u64,
}

/// Tries to read a verified record at `offset` whose LSN is `expected` (or, when
/// `expected` is `None`, any LSN greater than `after`).
fn record_at(
    bytes: &[u8],
    offset: usize,
    first_lsn: Lsn,
    db_id: u64,
    expected: Option<Lsn>,
    after: Lsn,
) -> Option<Record> {
    let header = bytes.get(offset..offset + RECORD_HEADER_LEN)?;
    let len = u32_at(header, LEN_OFFSET) as usize;
    if len > MAX_RECORD_LEN {
        return None;
    }
    let lsn = u64_at(header, LSN_OFFSET);
    match expected {
        Some(e) if lsn != e => return None,
        None if lsn <= after || lsn - after > u64::from(u32::MAX) => return None,
        _ => {}
    }
    let body = bytes.get(offset + LSN_OFFSET..offset + RECORD_HEADER_LEN + len)?;
    if record_crc(first_lsn, db_id, body) != u32_at(header, CRC_OFFSET) {
        return None;
    }
    Some(Record {
        lsn,
        time: Timestamp(u64_at(header, TIME_OFFSET)),
        payload: bytes[offset + RECORD_HEADER_LEN..offset + RECORD_HEADER_LEN + len].to_vec(),
    })
}

/// Reads and verifies one segment. `is_last` allows a torn tail; anything that does not
/// verify in an older segment is corruption.
pub(crate) fn read_segment(
    fs: &dyn Vfs,
    path: &Path,
    first_lsn: Lsn,
    db_id: u64,
    is_last: bool,
) -> Result<SegmentContents> {
    let bytes = crate::fs::read_all(fs, path, MAX_SEGMENT_READ)
        .map_err(io_error(format!("reading log segment {}", path.display())))?;
    let name = path.display();
    let header_ok = bytes.len() >= SEGMENT_HEADER_LEN
        && bytes[MAGIC_OFFSET..MAGIC_OFFSET + 8] == SEGMENT_MAGIC
        && u32_at(&bytes, HEADER_CRC_OFFSET) == codec::crc(&bytes[..HEADER_CRC_OFFSET]);
    if !header_ok {
        // The header is synced before any record is appended, so a last segment whose header
        // does not verify and that holds no verifiable record is a rotation the crash cut
        // short: it holds nothing. A verifiable record behind a bad header is corruption.
        let any_record = (SEGMENT_HEADER_LEN.min(bytes.len())..bytes.len()).any(|o| {
            record_at(
                &bytes,
                o,
                first_lsn,
                db_id,
                None,
                first_lsn.saturating_sub(1),
            )
            .is_some()
        });
        if is_last && !any_record {
            return Ok(SegmentContents {
                records: Vec::new(),
                valid_len: 0,
                file_len: bytes.len() as u64,
            });
        }
        return Err(Error::Corruption(format!(
            "log segment {name}: bad header (magic or checksum)"
        )));
    }
    let version = u32_at(&bytes, VERSION_OFFSET);
    if version != FORMAT_VERSION {
        return Err(Error::Corruption(format!(
            "log segment {name}: unknown format version {version} (this build reads version {FORMAT_VERSION})"
        )));
    }
    if u64_at(&bytes, FIRST_LSN_OFFSET) != first_lsn {
        return Err(Error::Corruption(format!(
            "log segment {name}: header names first LSN {}, file name {first_lsn}",
            u64_at(&bytes, FIRST_LSN_OFFSET)
        )));
    }
    if u64_at(&bytes, DB_ID_OFFSET) != db_id {
        return Err(Error::Corruption(format!(
            "log segment {name} belongs to another database"
        )));
    }
    let mut records = Vec::new();
    let mut offset = SEGMENT_HEADER_LEN;
    let mut expected = first_lsn;
    while offset < bytes.len() {
        match record_at(&bytes, offset, first_lsn, db_id, Some(expected), 0) {
            Some(record) => {
                offset += RECORD_HEADER_LEN + record.payload.len();
                expected += 1;
                records.push(record);
            }
            None => {
                let later = (offset + 1..bytes.len()).find(|&o| {
                    record_at(
                        &bytes,
                        o,
                        first_lsn,
                        db_id,
                        None,
                        expected.saturating_sub(1),
                    )
                    .is_some()
                });
                if !is_last || later.is_some() {
                    return Err(Error::Corruption(format!(
                        "log segment {name}: record {expected} at offset {offset} does not verify{}",
                        if later.is_some() { ", and verified records follow it (corruption in the middle of the log)" } else { " in a segment that is not the last" }
                    )));
                }
                break;
            }
        }
    }
    Ok(SegmentContents {
        records,
        valid_len: offset as u64,
        file_len: bytes.len() as u64,
    })
}

/// The segments in `dir`, by first LSN.
pub(crate) fn list_segments(fs: &dyn Vfs, dir: &Path) -> Result<Vec<Lsn>> {
    let names = fs
        .read_dir(dir)
        .map_err(io_error(format!("listing log directory {}", dir.display())))?;
    let mut lsns: Vec<Lsn> = names.iter().filter_map(|n| parse_segment_name(n)).collect();
    lsns.sort_unstable();
    Ok(lsns)
}

/// A record waiting for its group's flush.
#[derive(Debug)]
struct Pending {
    lsn: Lsn,
    time: Timestamp,
    payload: Vec<u8>,
}

#[derive(Debug)]
struct State {
    next_lsn: Lsn,
    last_time: Timestamp,
    /// Records from now on get a commit time after this (see [`Wal::fence_time`]).
    fence: Option<Timestamp>,
    pending: Vec<Pending>,
    /// A leader is writing; others wait for it.
    flushing: bool,
    /// The number the next flush will have.
    next_flush: u64,
    /// Every record up to this LSN has been written to the file.
    written: Lsn,
    /// Every record up to this LSN is on stable storage.
    durable: Lsn,
    /// Why the log stopped accepting writes, once a write or sync failed.
    poisoned: Option<String>,
}

/// The open segment the leader appends to.
#[derive(Debug)]
struct Segment {
    first_lsn: Lsn,
    file: Box<dyn VfsFile>,
    len: u64,
    /// Written bytes not yet synced (buffered mode).
    unsynced: bool,
}

/// Sizes and modes of the log.
#[derive(Clone, Debug)]
pub(crate) struct WalConfig {
    pub dir: PathBuf,
    pub db_id: u64,
    pub durability: Durability,
    /// A segment is closed and a new one started once it reaches this size.
    pub segment_bytes: u64,
}

/// The log writer.
#[derive(Debug)]
pub(crate) struct Wal {
    fs: Arc<dyn Vfs>,
    config: WalConfig,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    /// One per parity of flush number: the writers waiting for flush `n` sleep on
    /// `flushed[n % 2]`.
    flushed: [Condvar; 2],
    segment: Mutex<Option<Segment>>,
}

impl Wal {
    /// A log that continues after `last_lsn` (committed at `last_time`), writing a fresh
    /// segment (never appending to one that a crash may have left behind).
    pub fn open(
        fs: Arc<dyn Vfs>,
        config: WalConfig,
        clock: Arc<dyn Clock>,
        last_lsn: Lsn,
        last_time: Timestamp,
    ) -> Result<Wal> {
        let wal = Wal {
            fs,
            config,
            clock,
            state: Mutex::new(State {
                next_lsn: last_lsn + 1,
                last_time,
                fence: None,
                pending: Vec::new(),
                flushing: false,
                next_flush: 0,
                written: last_lsn,
                durable: last_lsn,
                poisoned: None,
            }),
            flushed: [Condvar::new(), Condvar::new()],
            segment: Mutex::new(None),
        };
        if wal.config.durability != Durability::InMemory {
            let mut segment = wal.segment.lock();
            *segment = Some(wal.start_segment(last_lsn + 1)?);
        }
        Ok(wal)
    }

    fn start_segment(&self, first_lsn: Lsn) -> Result<Segment> {
        let path = self.config.dir.join(segment_name(first_lsn));
        let context = || format!("starting log segment {}", path.display());
        let mut file = self.fs.create(&path).map_err(io_error(context()))?;
        let header = encode_segment_header(first_lsn, self.config.db_id);
        file.append(&header).map_err(io_error(context()))?;
        file.sync_all().map_err(io_error(context()))?;
        // IMPORTANT: sync the directory, or the new segment's entry may not survive a crash
        // while the records in it were acknowledged.
        self.fs
            .sync_dir(&self.config.dir)
            .map_err(io_error(context()))?;
        Ok(Segment {
            first_lsn,
            file,
            len: header.len() as u64,
            unsynced: false,
        })
    }

    /// Appends `payload` as the next record and returns once it is as durable as the mode
    /// promises: on stable storage (`Sync`), written to the OS (`Buffered`), or at once
    /// (`InMemory`). Returns the record's LSN and commit time.
    pub fn append(&self, payload: Vec<u8>) -> Result<(Lsn, Timestamp)> {
        let mut state = self.state.lock();
        if let Some(why) = &state.poisoned {
            return Err(poisoned_error(why));
        }
        let lsn = state.next_lsn;
        let mut time = self.clock.now().max(state.last_time);
        if let Some(fence) = state.fence {
            time = time.max(Timestamp(fence.0 + 1));
        }
        state.next_lsn += 1;
        state.last_time = time;
        if self.config.durability == Durability::InMemory {
            state.written = lsn;
            state.durable = lsn;
            return Ok((lsn, time));
        }
        state.pending.push(Pending { lsn, time, payload });
        // The flush that will carry this record: the next one to start. Its waiters sleep on
        // their own condition variable, so a finished flush wakes only the writers it made
        // durable (and one writer of the next group to lead it), not everyone.
        let flush = state.next_flush;
        let sync = self.config.durability == Durability::Sync;
        loop {
            let done = if sync {
                state.durable >= lsn
            } else {
                state.written >= lsn
            };
            if done {
                return Ok((lsn, time));
            }
            if let Some(why) = &state.poisoned {
                return Err(poisoned_error(why));
            }
            if state.flushing {
                self.flushed[(flush % 2) as usize].wait(&mut state);
                continue;
            }
            // Become the leader of the next group.
            state.flushing = true;
            let this_flush = state.next_flush;
            state.next_flush += 1;
            let group = std::mem::take(&mut state.pending);
            drop(state);
            let result = self.write_group(group, sync);
            state = self.state.lock();
            state.flushing = false;
            match result {
                Ok(last) => {
                    state.written = last;
                    if sync {
                        state.durable = last;
                    }
                }
                Err(e) => state.poisoned = Some(e.to_string()),
            }
            self.flushed[(this_flush % 2) as usize].notify_all();
            let next = &self.flushed[((this_flush + 1) % 2) as usize];
            if state.poisoned.is_some() {
                next.notify_all();
            } else if !state.pending.is_empty() {
                // Hand the next group to one of its writers.
                next.notify_one();
            }
        }
    }

    /// Writes a group of records (in LSN order) with one write, and syncs if asked.
    /// Returns the last LSN written.
    fn write_group(&self, group: Vec<Pending>, sync: bool) -> Result<Lsn> {
        let mut segment = self.segment.lock();
        let Some(current) = segment.as_mut() else {
            return Err(Error::Corruption("log has no open segment".into()));
        };
        let first = group.first().map_or(0, |p| p.lsn);
        if current.len >= self.config.segment_bytes && current.first_lsn < first {
            // Close the full segment durably before the next one takes records.
            if current.unsynced {
                current
                    .file
                    .sync_data()
                    .map_err(io_error("syncing a full log segment"))?;
            }
            *segment = Some(self.start_segment(first)?);
            crate::killpoint::reached("wal.rotated");
        }
        let Some(current) = segment.as_mut() else {
            unreachable!("segment set above")
        };
        let mut buffer = Vec::with_capacity(
            group
                .iter()
                .map(|p| p.payload.len() + RECORD_HEADER_LEN)
                .sum(),
        );
        for p in &group {
            encode_record(
                &mut buffer,
                current.first_lsn,
                self.config.db_id,
                p.lsn,
                p.time,
                &p.payload,
            );
        }
        current
            .file
            .append(&buffer)
            .map_err(io_error("appending to the log"))?;
        current.len += buffer.len() as u64;
        crate::killpoint::reached("wal.appended");
        if sync {
            current
                .file
                .sync_data()
                .map_err(io_error("syncing the log"))?;
            current.unsynced = false;
            crate::killpoint::reached("wal.synced");
        } else {
            current.unsynced = true;
        }
        Ok(group.last().map_or(0, |p| p.lsn))
    }

    /// Makes everything written so far durable, and returns the durable LSN. Used by the
    /// buffered mode's background syncer and before a checkpoint, which must never cover a
    /// record that a crash could still lose.
    pub fn sync(&self) -> Result<Lsn> {
        let written = {
            let state = self.state.lock();
            if let Some(why) = &state.poisoned {
                return Err(poisoned_error(why));
            }
            if self.config.durability == Durability::InMemory || state.durable == state.written {
                return Ok(state.durable);
            }
            state.written
        };
        let result = {
            let mut segment = self.segment.lock();
            match segment.as_mut() {
                Some(s) if s.unsynced => s.file.sync_data().map(|()| s.unsynced = false),
                _ => Ok(()),
            }
        };
        let mut state = self.state.lock();
        match result {
            Ok(()) => {
                state.durable = state.durable.max(written);
                Ok(state.durable)
            }
            Err(source) => {
                let error = Error::Io {
                    context: "syncing the log".into(),
                    source,
                };
                state.poisoned = Some(error.to_string());
                for cv in &self.flushed {
                    cv.notify_all();
                }
                Err(error)
            }
        }
    }

    /// Returns once every record up to `lsn` is durable (records still in a group being
    /// written are waited for).
    pub fn sync_through(&self, lsn: Lsn) -> Result<Lsn> {
        loop {
            let durable = self.sync()?;
            if durable >= lsn {
                return Ok(durable);
            }
            // The record is in a group a leader is writing now: it will be written shortly.
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
    }

    /// Closes the moment `time`: every record appended from now on gets a later commit time,
    /// so the set of records committed at or before `time` is final. Returns the last LSN
    /// handed out. A point-in-time restore to `time` reads exactly up to it, and a second
    /// restore to the same moment finds the same records.
    pub fn fence_time(&self, time: Timestamp) -> Lsn {
        let mut state = self.state.lock();
        state.fence = state.fence.max(Some(time));
        state.next_lsn - 1
    }

    /// The last LSN handed out and its commit time.
    pub fn last_committed(&self) -> (Lsn, Timestamp) {
        let state = self.state.lock();
        (state.next_lsn - 1, state.last_time)
    }

    /// The durable LSN.
    pub fn durable_lsn(&self) -> Lsn {
        self.state.lock().durable
    }

    /// The first LSN of the segment being written (segments before it are complete).
    pub fn current_segment(&self) -> Option<Lsn> {
        self.segment.lock().as_ref().map(|s| s.first_lsn)
    }
}

fn poisoned_error(why: &str) -> Error {
    Error::Io {
        context: format!("the database stopped accepting writes after a failed log write or sync ({why}); reopen it"),
        source: std::io::Error::other("write-ahead log poisoned"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simfs::SimFs;

    fn segment(records: &[(Lsn, &[u8])], first: Lsn) -> Vec<u8> {
        let mut bytes = encode_segment_header(first, 7);
        for (lsn, payload) in records {
            encode_record(&mut bytes, first, 7, *lsn, Timestamp(*lsn * 10), payload);
        }
        bytes
    }

    fn read(bytes: &[u8], is_last: bool) -> Result<SegmentContents> {
        let fs = SimFs::new();
        let path = Path::new("/w/00000000000000000005.wal");
        fs.set_file_bytes(path, bytes).expect("plant the segment");
        read_segment(&fs, path, 5, 7, is_last)
    }

    #[test]
    fn segment_names_roundtrip_and_reject_strangers() {
        assert_eq!(parse_segment_name(&segment_name(42)), Some(42));
        for bad in [
            "42.wal",
            "0000000000000000004x.wal",
            "00000000000000000042.log",
            ".wal",
        ] {
            assert_eq!(parse_segment_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn records_roundtrip() {
        let bytes = segment(&[(5, b"a"), (6, b""), (7, b"ccc")], 5);
        let contents = read(&bytes, false).expect("reads");
        let lsns: Vec<Lsn> = contents.records.iter().map(|r| r.lsn).collect();
        assert_eq!(lsns, vec![5, 6, 7]);
        assert_eq!(contents.records[2].payload, b"ccc");
        assert_eq!(contents.valid_len, bytes.len() as u64);
    }

    #[test]
    fn a_tail_cut_at_every_byte_is_torn_in_the_last_segment_and_corrupt_elsewhere() {
        let bytes = segment(&[(5, b"first"), (6, b"second"), (7, b"third")], 5);
        let full = read(&bytes, true).expect("reads").records;
        for cut in SEGMENT_HEADER_LEN..bytes.len() {
            let contents = read(&bytes[..cut], true).expect("a torn tail is cut, not an error");
            assert!(contents.records.len() < 3);
            assert_eq!(contents.records[..], full[..contents.records.len()]);
            assert!(
                matches!(read(&bytes[..cut], false), Err(Error::Corruption(_)))
                    || contents.valid_len == cut as u64
            );
        }
    }

    #[test]
    fn a_bad_record_followed_by_a_good_one_is_corruption_not_a_torn_tail() {
        let mut bytes = segment(&[(5, b"first"), (6, b"second"), (7, b"third")], 5);
        let second = SEGMENT_HEADER_LEN + RECORD_HEADER_LEN + 5;
        bytes[second + RECORD_HEADER_LEN] ^= 1;
        assert!(matches!(read(&bytes, true), Err(Error::Corruption(_))));
    }

    #[test]
    fn a_flipped_bit_anywhere_never_yields_a_wrong_record() {
        let bytes = segment(&[(5, b"first"), (6, b"second"), (7, b"third")], 5);
        let full = read(&bytes, true).expect("reads").records;
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut flipped = bytes.clone();
                flipped[i] ^= 1 << bit;
                if let Ok(contents) = read(&flipped, true) {
                    assert_eq!(
                        contents.records[..],
                        full[..contents.records.len()],
                        "byte {i} bit {bit}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_record_of_another_segment_or_database_does_not_verify() {
        let mut bytes = encode_segment_header(5, 7);
        encode_record(&mut bytes, 9, 7, 5, Timestamp(1), b"x");
        assert!(read(&bytes, true).expect("torn").records.is_empty());
        let mut bytes = encode_segment_header(5, 7);
        encode_record(&mut bytes, 5, 8, 5, Timestamp(1), b"x");
        assert!(read(&bytes, true).expect("torn").records.is_empty());
    }
}
