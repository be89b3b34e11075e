//! Log segment files: the framing of the write-ahead log's records.
//!
//! Every [`Mutation`](crate::format::mutation::Mutation) is one record. The log is the database's
//! total order: record `n` has LSN `n`, LSNs are contiguous from the first record of the
//! first retained segment to the last record of the last one, and a transaction or batch is
//! one record, so it survives a crash whole or not at all.
//!
//! # Segment file layout
//!
//! A segment is named after the LSN of its first record (`00000000000000000042.wal`) and
//! holds a header, records and, once its successor exists, a seal; all integers
//! little-endian. It is at most `MAX_SEGMENT_LEN` bytes long: `segment_bytes` (at most
//! 1 GiB) plus one record and the seal.
//!
//! ```text
//! header (SEGMENT_HEADER_LEN = 32 bytes)
//!   0  magic      [u8; 8]  b"TIDEWAL\0"
//!   8  version    u32      FORMAT_VERSION = 4 (versions 2, never sealed, and 3, whose records
//!                          have no `synced`, are read too)
//!  12  first_lsn  u64      LSN of the segment's first record; equals the file name
//!  20  db_id      u64      identity of the database the segment belongs to
//!  28  crc        u32      CRC-32C of bytes 0..28
//! record (RECORD_HEADER_LEN = 32 bytes, then the payload)
//!   0  len        u32      payload length, at most MAX_RECORD_LEN
//!   4  crc        u32      CRC-32C of (first_lsn, db_id, bytes 8..32+len): the segment's
//!                          identity is inside every record's checksum, so a record that
//!                          landed in the wrong file, or a stale block of another
//!                          segment, does not verify
//!   8  lsn        u64
//!  16  time       u64      commit time, milliseconds since the epoch
//!  24  synced     u64      how many bytes of the segment were on stable storage when the
//!                          record was written (see "Torn tails and corruption"); 0 while
//!                          the segment before it waited for its seal
//!  32  payload    [u8; len] the codec's encoding of the mutation
//!   (version 3 and 2 records have no `synced`: a 24-byte header, the payload at 24)
//! seal (SEAL_LEN = 16 bytes), right after the last record; nothing follows it
//!   0  marker     u32      SEAL_MARKER = u32::MAX: longer than any record, so a seal is
//!                          never read as a record, nor a record as a seal
//!   4  crc        u32      CRC-32C of (first_lsn, db_id, bytes 8..16)
//!   8  next       u64      the first LSN of the next segment: one past this one's last record
//! ```
//!
//! # Which segments must exist
//!
//! Each segment but the newest is sealed once the next one exists durably (its header and
//! directory entry synced); records may go into the next one before, but none is durable
//! until the seal is (`storage/wal.rs`, "Segments"), and each says so (`synced` 0). So a sealed
//! segment says its successor exists: if the successor is missing, or is cut to less than
//! its header, acknowledged records may have gone with it, and recovery reports
//! `Error::Corruption` (`storage/recovery.rs`) instead of opening without them. (The log's
//! first segment is named by the catalog, which covers the other end; LSNs that do not tile
//! from one segment to the next cover the middle.)
//!
//! # Torn tails and corruption
//!
//! A crash can leave the last write of the last segment incomplete: cut short, zeroed, or
//! holding old or random bytes. The newest segment also ends in the zeros the writer keeps
//! written ahead of its records (`storage/wal.rs`, "Space zeroed ahead"), which read the
//! same way; a segment is cut back to its records before it is sealed. Reading stops at the first record that does not verify. If
//! that record is in the last segment and no verifiable record (or seal) follows it anywhere
//! in the segment that was written after it was durable, the rest of the segment is a torn
//! tail: recovery cuts it (and never replays it). A record says how much of its segment was
//! durable when it was written (`synced`), so the pages of a write a crash tore — which
//! over zeroed space can reach the disk in any order, a later one without an earlier one —
//! read as the torn tail they are, while a record damaged after it was made durable, with
//! records written since behind it, is still corruption. (A version 3 record says nothing,
//! so any verifiable record after a bad one makes it corruption, as before.) The same holds for the seal at the end of an older segment whose successor
//! holds no record yet: a crash while sealing leaves part of one. Anything else — a bad
//! record in an older segment, a gap in the LSNs, or a good record after a bad one — is
//! corruption in the middle of the log, reported as `Error::Corruption`, never skipped:
//! skipping it would silently lose acknowledged writes (the hole RocksDB fixed in PR #7701).
//! An I/O error while reading is reported as such, never mistaken for a torn tail.

use std::path::Path;

use crate::error::{io_error, Error, Result};
use crate::format::codec;
use crate::fs::Vfs;
use crate::model::clock::Timestamp;
use crate::model::Lsn;
use crate::options::MAX_SEGMENT_BYTES;

/// Identifies a segment file.
pub(crate) const SEGMENT_MAGIC: [u8; 8] = *b"TIDEWAL\0";
/// The segment format this code writes: version 4, whose records say how much of their
/// segment was durable when they were written. Versions 2 (never sealed) and 3 (sealed,
/// records without that) are read too.
pub(crate) const FORMAT_VERSION: u32 = 4;
/// The sealed format whose records do not say what was durable, still read.
pub(crate) const SEALED_VERSION: u32 = 3;
/// The unsealed format, still read: a database written before version 3 opens as it is.
pub(crate) const UNSEALED_VERSION: u32 = 2;

/// Whether segments of `version` end in a seal once their successor exists.
pub(crate) fn is_sealed_format(version: u32) -> bool {
    version >= SEALED_VERSION
}
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
const SYNCED_OFFSET: usize = TIME_OFFSET + 8;
/// Length of a record header (version 4).
pub(crate) const RECORD_HEADER_LEN: usize = SYNCED_OFFSET + 8;
/// Length of a record header of versions 2 and 3, which have no `synced`.
const OLD_RECORD_HEADER_LEN: usize = SYNCED_OFFSET;

/// The length of a record header in a segment of `version`.
fn record_header_len(version: u32) -> usize {
    if version >= FORMAT_VERSION {
        RECORD_HEADER_LEN
    } else {
        OLD_RECORD_HEADER_LEN
    }
}

/// The seal's first field, where a record has its length: no record is this long.
const SEAL_MARKER: u32 = u32::MAX;
const SEAL_CRC_OFFSET: usize = 4;
const SEAL_NEXT_OFFSET: usize = SEAL_CRC_OFFSET + 4;
/// Length of a seal.
pub(crate) const SEAL_LEN: usize = SEAL_NEXT_OFFSET + 8;
/// The largest record payload: a 16 MB batch with room for encoding overhead.
pub(crate) const MAX_RECORD_LEN: usize = codec::MAX_DECODE_BYTES;
/// The largest segment file the format allows. A segment takes records while it is shorter
/// than `segment_bytes` (at most `MAX_SEGMENT_BYTES`), record by record, so its last record
/// starts before that and is at most a header and `MAX_RECORD_LEN` long, and the seal
/// follows it. A longer file is corrupt, and refused before it is read.
pub(crate) const MAX_SEGMENT_LEN: u64 =
    MAX_SEGMENT_BYTES + (RECORD_HEADER_LEN + MAX_RECORD_LEN + SEAL_LEN) as u64;

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

/// Appends one framed record to `out`; `synced` is how many bytes of the segment were on
/// stable storage when it is written.
pub(crate) fn encode_record(
    out: &mut Vec<u8>,
    (first_lsn, db_id): (Lsn, u64),
    lsn: Lsn,
    time: Timestamp,
    synced: u64,
    payload: &[u8],
) {
    let start = out.len();
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes()); // len
    out.extend_from_slice(&[0; 4]); // crc, filled in below
    out.extend_from_slice(&lsn.to_le_bytes()); // lsn
    out.extend_from_slice(&time.0.to_le_bytes()); // time
    out.extend_from_slice(&synced.to_le_bytes()); // synced
    out.extend_from_slice(payload); // payload
    let crc = record_crc(first_lsn, db_id, &out[start + LSN_OFFSET..]);
    out[start + CRC_OFFSET..start + CRC_OFFSET + 4].copy_from_slice(&crc.to_le_bytes());
}

/// The seal of the segment starting at `first_lsn` whose successor starts at `next`.
pub(crate) fn encode_seal(first_lsn: Lsn, db_id: u64, next: Lsn) -> Vec<u8> {
    let mut seal = Vec::with_capacity(SEAL_LEN);
    seal.extend_from_slice(&SEAL_MARKER.to_le_bytes()); // marker
    let crc = record_crc(first_lsn, db_id, &next.to_le_bytes());
    seal.extend_from_slice(&crc.to_le_bytes()); // crc
    seal.extend_from_slice(&next.to_le_bytes()); // next
    seal
}

/// The `next` of a verified seal at `offset`, if there is one.
fn seal_at(bytes: &[u8], offset: usize, first_lsn: Lsn, db_id: u64) -> Option<Lsn> {
    let seal = bytes.get(offset..offset + SEAL_LEN)?;
    let next = &seal[SEAL_NEXT_OFFSET..];
    let verified = u32_at(seal, 0) == SEAL_MARKER
        && u32_at(seal, SEAL_CRC_OFFSET) == record_crc(first_lsn, db_id, next);
    verified.then(|| u64_at(seal, SEAL_NEXT_OFFSET))
}

/// One record read back from the log: where its payload is in the segment's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub lsn: Lsn,
    pub time: Timestamp,
    /// How many bytes of its segment were durable when it was written (version 4).
    pub synced: Option<u64>,
    /// Where its header starts in [`SegmentContents::bytes`].
    pub start: usize,
    /// The payload's extent in [`SegmentContents::bytes`].
    pub payload: std::ops::Range<usize>,
}

/// What reading one segment found.
#[derive(Debug)]
pub(crate) struct SegmentContents {
    /// The file's bytes, which the records point into (NB: a record is not copied out of
    /// them: a replay of a busy log reads hundreds of thousands of records, and an
    /// allocation and a copy per record were a tenth of a backup build).
    pub bytes: Vec<u8>,
    pub records: Vec<Record>,
    /// Bytes of the file up to the end of the last good record (the header if none; 0 if
    /// the header does not verify).
    pub valid_len: u64,
    /// The file's length: more than `valid_len` (and the seal) when it has a torn tail.
    pub file_len: u64,
    /// The header's format version; `None` if the header does not verify (only a last
    /// segment holding nothing is read so).
    pub version: Option<u32>,
    /// Whether a seal follows the last record: the next segment exists.
    pub sealed: bool,
}

impl SegmentContents {
    /// Whether bytes that are neither records nor the seal end the file: a torn tail (or,
    /// in an older segment, a torn seal).
    pub fn torn(&self) -> bool {
        let seal = if self.sealed { SEAL_LEN as u64 } else { 0 };
        self.valid_len + seal < self.file_len
    }

    /// The payload of `record`, one of this segment's.
    pub fn payload(&self, record: &Record) -> &[u8] {
        &self.bytes[record.payload.clone()]
    }
}

/// Which segment a record belongs to, and its format: what a record is checked against.
#[derive(Clone, Copy, Debug)]
struct Frame {
    first_lsn: Lsn,
    db_id: u64,
    version: u32,
}

/// Tries to read a verified record at `offset` whose LSN is `expected` (or, when
/// `expected` is `None`, any LSN greater than `after`).
fn record_at(
    bytes: &[u8],
    offset: usize,
    frame: Frame,
    expected: Option<Lsn>,
    after: Lsn,
) -> Option<Record> {
    let header_len = record_header_len(frame.version);
    let header = bytes.get(offset..offset + header_len)?;
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
    let body = bytes.get(offset + LSN_OFFSET..offset + header_len + len)?;
    if record_crc(frame.first_lsn, frame.db_id, body) != u32_at(header, CRC_OFFSET) {
        return None;
    }
    Some(Record {
        lsn,
        time: Timestamp(u64_at(header, TIME_OFFSET)),
        synced: (header_len == RECORD_HEADER_LEN).then(|| u64_at(header, SYNCED_OFFSET)),
        start: offset,
        payload: offset + header_len..offset + header_len + len,
    })
}

/// Reads and verifies one segment. `is_last` allows a header that does not verify (a
/// segment whose creation a crash cut short) when nothing in the file verifies. A segment
/// may end in a torn tail — only bytes that no verifiable record or seal follows; whether
/// it may is for the reader of the whole log to say (`storage/recovery.rs`).
/// It reads to the end of the file, so it is for a log no one is writing (recovery): a
/// read of a log being written stops at a record it has written, a window at a time
/// ([`read_window`]), since what follows may be a group being written, whose later pages a
/// read can see before its earlier ones — a good record after a bad one, which is not
/// corruption there.
///
/// The file is read into `buffer` (its memory reused; see [`SegmentContents::bytes`]).
pub(crate) fn read_segment(
    fs: &dyn Vfs,
    path: &Path,
    (first_lsn, db_id): (Lsn, u64),
    is_last: bool,
    mut buffer: Vec<u8>,
) -> Result<SegmentContents> {
    super::read_file_into(fs, path, MAX_SEGMENT_LEN, &mut buffer)?;
    let bytes = buffer;
    let name = path.display();
    let file_len = bytes.len() as u64;
    // Whether what does not verify at `bad_at` is damage rather than a torn tail: a seal,
    // or a verifiable record with an LSN after `after` (of one of `versions`), starts
    // somewhere in `from..` and shows that the bytes at `bad_at` had been made durable. A
    // version 4 record says how much of the segment was durable when it was written: if
    // not yet the bytes at `bad_at`, it is of a write a crash tore, whose pages reached
    // the disk out of order (the log writes over space zeroed ahead of it, where nothing
    // orders them: `storage/wal.rs`), and it shows nothing. A seal, or a record of an
    // older version, always does.
    let damage_follows = |from: usize, after: Lsn, versions: &[u32], bad_at: usize| {
        (from..bytes.len()).any(|o| {
            versions.iter().any(|&version| {
                let frame = Frame {
                    first_lsn,
                    db_id,
                    version,
                };
                record_at(&bytes, o, frame, None, after)
                    .is_some_and(|r| r.synced.is_none_or(|synced| synced > bad_at as u64))
            }) || seal_at(&bytes, o, first_lsn, db_id).is_some_and(|next| next > after)
        })
    };
    let header_ok = bytes.len() >= SEGMENT_HEADER_LEN
        && bytes[MAGIC_OFFSET..MAGIC_OFFSET + 8] == SEGMENT_MAGIC
        && u32_at(&bytes, HEADER_CRC_OFFSET) == codec::crc(&bytes[..HEADER_CRC_OFFSET]);
    if !header_ok {
        // The header is synced before any record is appended, so a last segment whose header
        // does not verify and that holds no verifiable record is a creation the crash cut
        // short: it holds nothing (whether it was required is the log's question).
        let from = SEGMENT_HEADER_LEN.min(bytes.len());
        let versions = [FORMAT_VERSION, SEALED_VERSION];
        if is_last && !damage_follows(from, first_lsn.saturating_sub(1), &versions, 0) {
            return Ok(SegmentContents {
                bytes,
                records: Vec::new(),
                valid_len: 0,
                file_len,
                version: None,
                sealed: false,
            });
        }
        return Err(Error::Corruption(format!(
            "log segment {name}: bad header (magic or checksum)"
        )));
    }
    let version = u32_at(&bytes, VERSION_OFFSET);
    if !(UNSEALED_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(Error::Corruption(format!(
            "log segment {name}: unknown format version {version} (this build reads versions {UNSEALED_VERSION} to {FORMAT_VERSION})"
        )));
    }
    let frame = Frame {
        first_lsn,
        db_id,
        version,
    };
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
    let mut sealed = false;
    while offset < bytes.len() {
        if let Some(record) = record_at(&bytes, offset, frame, Some(expected), 0) {
            offset = record.payload.end;
            expected += 1;
            records.push(record);
            continue;
        }
        if seal_at(&bytes, offset, first_lsn, db_id) == Some(expected) && expected > first_lsn {
            if offset + SEAL_LEN < bytes.len() {
                return Err(Error::Corruption(format!(
                    "log segment {name}: bytes follow its seal at offset {offset}"
                )));
            }
            sealed = true;
        } else if damage_follows(offset + 1, expected.saturating_sub(1), &[version], offset) {
            return Err(Error::Corruption(format!(
                "log segment {name}: record {expected} at offset {offset} does not verify, and verified records follow it (corruption in the middle of the log)"
            )));
        }
        break;
    }
    Ok(SegmentContents {
        bytes,
        records,
        valid_len: offset as u64,
        file_len,
        version: Some(version),
        sealed,
    })
}

/// Checks the header of the segment `file` starting at `first_lsn` (magic, version,
/// first LSN, database and checksum), as [`read_segment`] does, for a reader that does not
/// read the segment whole; returns its version.
pub(crate) fn check_header(
    file: &dyn crate::fs::VfsFile,
    first_lsn: Lsn,
    db_id: u64,
) -> Result<u32> {
    let mut header = [0u8; SEGMENT_HEADER_LEN];
    let read = file.read_exact_at(0, &mut header);
    let bad = |why: &str| Error::Corruption(format!("log segment {first_lsn}: {why}"));
    match read {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(bad("shorter than its header"))
        }
        other => other.map_err(io_error(format!("reading log segment {first_lsn}")))?,
    }
    if header[MAGIC_OFFSET..MAGIC_OFFSET + 8] != SEGMENT_MAGIC
        || u32_at(&header, HEADER_CRC_OFFSET) != codec::crc(&header[..HEADER_CRC_OFFSET])
    {
        return Err(bad("bad header (magic or checksum)"));
    }
    let version = u32_at(&header, VERSION_OFFSET);
    if !(UNSEALED_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(bad(&format!("unknown format version {version}")));
    }
    if u64_at(&header, FIRST_LSN_OFFSET) != first_lsn || u64_at(&header, DB_ID_OFFSET) != db_id {
        return Err(bad("its header names another segment or database"));
    }
    Ok(version)
}

/// Records read from the middle of a segment by [`read_window`].
#[derive(Debug, Default)]
pub(crate) struct Window {
    /// The bytes read, which the records point into.
    pub bytes: Vec<u8>,
    pub records: Vec<Record>,
    /// The file offset of the first byte of `bytes`.
    pub start: u64,
    /// Whether the segment's seal follows the last record read: the next record is in the
    /// next segment.
    pub sealed: bool,
}

impl Window {
    /// The payload of `record`, one of this window's.
    pub fn payload(&self, record: &Record) -> &[u8] {
        &self.bytes[record.payload.clone()]
    }

    /// The file offset just past the last record read (where the next one starts).
    pub fn end(&self) -> u64 {
        self.start + self.records.last().map_or(0, |r| r.payload.end) as u64
    }
}

/// Reads the records `expected..=last` of the segment `file` (starting at `first_lsn`)
/// that start within about `window` bytes from `offset`, where record `expected` must
/// start: for a reader that follows the log as it is written (a stream), from a place an
/// earlier read found, and for a replay to an LSN (`storage/replay.rs`), a window after
/// another. It reads at least one whole record, and stops at `last`, at the seal, or where
/// the window ends. The bytes are read into `bytes` (its contents dropped), so a reader of
/// many windows reuses one buffer: [`Window::bytes`] hands it back.
///
/// `last` must be written already (the log's written LSN or before), so every record up to
/// it is whole: one that does not verify is corruption, reported. `None` if no record
/// `expected` verifies at `offset` — the place was wrong (or is gone), and the caller reads
/// the segment from its start instead. `version` is the segment's ([`check_header`]).
pub(crate) fn read_window(
    file: &dyn crate::fs::VfsFile,
    (first_lsn, db_id, version): (Lsn, u64, u32),
    (offset, expected): (u64, Lsn),
    last: Lsn,
    window: usize,
    mut bytes: Vec<u8>,
) -> Result<Option<Window>> {
    let frame = Frame {
        first_lsn,
        db_id,
        version,
    };
    let header_len = record_header_len(version);
    // Reads `len` bytes at `at` onto `into`; true if the file ended first.
    let read = |at: u64, len: usize, into: &mut Vec<u8>| -> Result<bool> {
        let from = into.len();
        into.resize(from + len, 0);
        let mut filled = 0;
        while filled < len {
            let n = file
                .read_at(at + filled as u64, &mut into[from + filled..])
                .map_err(io_error(format!("reading log segment {first_lsn}")))?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        into.truncate(from + filled);
        Ok(filled < len)
    };
    bytes.clear();
    let mut eof = read(offset, window.max(header_len), &mut bytes)?;
    let mut records = Vec::new();
    let mut sealed = false;
    let mut at = 0;
    let mut next = expected;
    while next <= last {
        if let Some(record) = record_at(&bytes, at, frame, Some(next), 0) {
            at = record.payload.end;
            next += 1;
            records.push(record);
            continue;
        }
        // A record cut by the window's end: read the rest of the first one, else leave it
        // to the next read.
        let header = bytes.get(at..at + header_len);
        let len = header.map(|h| u32_at(h, LEN_OFFSET) as usize);
        if let Some(len) = len.filter(|&l| l <= MAX_RECORD_LEN) {
            let end = at + header_len + len;
            if end > bytes.len() && u64_at(&bytes[at..], LSN_OFFSET) == next {
                if !records.is_empty() {
                    break;
                }
                let have = bytes.len();
                eof = read(offset + have as u64, end - have, &mut bytes)?;
                if bytes.len() == end {
                    continue;
                }
            }
        }
        if seal_at(&bytes, at, first_lsn, db_id) == Some(next) {
            sealed = true;
            break;
        }
        if records.is_empty() {
            return Ok(None);
        }
        let rest = bytes.len() - at;
        if eof && rest < SEAL_LEN {
            // The file ends, and record `next` is written: it is in the next segment, and
            // this one must say so with its seal — unless it is of the version that had
            // none.
            if !is_sealed_format(version) {
                sealed = true;
                break;
            }
            return Err(Error::Corruption(format!(
                "log segment {first_lsn} ends at offset {} without its seal, though the log goes on to record {next}",
                offset + at as u64
            )));
        }
        if !eof && rest < header_len + SEAL_LEN {
            // The window ends inside the next header or seal: the next read takes it.
            break;
        }
        return Err(Error::Corruption(format!(
            "log segment {first_lsn}: record {next} at offset {} does not verify",
            offset + at as u64
        )));
    }
    Ok(Some(Window {
        bytes,
        records,
        start: offset,
        sealed,
    }))
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
#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::sim::SimFs;

    fn segment(records: &[(Lsn, &[u8])], first: Lsn) -> Vec<u8> {
        let mut bytes = encode_segment_header(first, 7);
        for (lsn, payload) in records {
            let synced = bytes.len() as u64;
            encode_record(
                &mut bytes,
                (first, 7),
                *lsn,
                Timestamp(*lsn * 10),
                synced,
                payload,
            );
        }
        bytes
    }

    fn read(bytes: &[u8], is_last: bool) -> Result<SegmentContents> {
        let fs = SimFs::new();
        let path = Path::new("/w/00000000000000000005.wal");
        fs.set_file_bytes(path, bytes).expect("plant the segment");
        read_segment(&fs, path, (5, 7), is_last, Vec::new())
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
        assert_eq!(contents.payload(&contents.records[2]), b"ccc");
        assert_eq!(contents.valid_len, bytes.len() as u64);
    }

    #[test]
    fn a_tail_cut_at_every_byte_is_read_as_torn_and_only_a_last_segment_may_lose_its_header() {
        let bytes = segment(&[(5, b"first"), (6, b"second"), (7, b"third")], 5);
        let full = read(&bytes, true).expect("reads").records;
        for cut in 0..bytes.len() {
            let contents = read(&bytes[..cut], true).expect("a torn tail is cut, not an error");
            assert!(contents.records.len() < 3);
            assert_eq!(contents.records[..], full[..contents.records.len()]);
            assert_eq!(contents.torn(), contents.valid_len < cut as u64);
            // An older segment reads the same records (whether its tail may be torn is the
            // log's question: its successor says where its records must end), but never
            // without its header.
            match read(&bytes[..cut], false) {
                Ok(older) => assert_eq!(older.records, contents.records, "cut at {cut}"),
                Err(Error::Corruption(_)) => assert!(cut < SEGMENT_HEADER_LEN, "cut at {cut}"),
                Err(e) => panic!("cut at {cut}: {e}"),
            }
        }
    }

    /// A segment of version 3 (sealed, records with a 24-byte header and no `synced`) is
    /// still read, and, as before, a bad record with a verifiable one after it is
    /// corruption in it (its records say nothing of what was durable).
    #[test]
    fn a_version_3_segment_is_read_with_its_shorter_record_headers() {
        let mut bytes = encode_segment_header(5, 7);
        bytes[VERSION_OFFSET..VERSION_OFFSET + 4].copy_from_slice(&SEALED_VERSION.to_le_bytes());
        let crc = codec::crc(&bytes[..HEADER_CRC_OFFSET]);
        bytes[HEADER_CRC_OFFSET..].copy_from_slice(&crc.to_le_bytes());
        let mut starts = Vec::new();
        for lsn in 5..8u64 {
            starts.push(bytes.len());
            let mut body = lsn.to_le_bytes().to_vec(); // lsn
            body.extend_from_slice(&(lsn * 10).to_le_bytes()); // time
            body.extend_from_slice(b"payload"); // payload
            bytes.extend_from_slice(&7u32.to_le_bytes()); // len
            bytes.extend_from_slice(&record_crc(5, 7, &body).to_le_bytes()); // crc
            bytes.extend_from_slice(&body);
        }
        bytes.extend_from_slice(&encode_seal(5, 7, 8));
        let contents = read(&bytes, false).expect("reads");
        let lsns: Vec<Lsn> = contents.records.iter().map(|r| r.lsn).collect();
        assert_eq!(lsns, [5, 6, 7]);
        assert!(contents.sealed && !contents.torn());
        assert_eq!(contents.payload(&contents.records[2]), b"payload");
        bytes[starts[1] + OLD_RECORD_HEADER_LEN] ^= 1;
        assert!(matches!(read(&bytes, true), Err(Error::Corruption(_))));
    }

    #[test]
    fn a_seal_after_the_last_record_names_the_next_segment_and_nothing_may_follow_it() {
        let mut bytes = segment(&[(5, b"first"), (6, b"second")], 5);
        let records = bytes.len() as u64;
        bytes.extend(encode_seal(5, 7, 7));
        let contents = read(&bytes, false).expect("reads");
        assert!(contents.sealed && !contents.torn());
        assert_eq!((contents.records.len(), contents.valid_len), (2, records));
        // A seal naming another LSN, of another segment, or with a byte flipped, is no
        // seal: the bytes are a torn tail.
        for seal in [
            encode_seal(5, 7, 8),
            encode_seal(6, 7, 7),
            encode_seal(5, 8, 7),
        ] {
            let mut other = bytes[..records as usize].to_vec();
            other.extend(seal);
            let contents = read(&other, false).expect("reads");
            assert!(!contents.sealed && contents.torn());
        }
        // Every cut of the seal is a torn one: the records stay.
        for cut in records as usize..bytes.len() {
            let contents = read(&bytes[..cut], false).expect("reads");
            assert_eq!((contents.sealed, contents.records.len()), (false, 2));
        }
        // Bytes after a seal, or a record after a bad one and then a seal, are corruption.
        let mut after = bytes.clone();
        after.push(0);
        assert!(matches!(read(&after, true), Err(Error::Corruption(_))));
        let mut flipped = bytes.clone();
        flipped[SEGMENT_HEADER_LEN + 2] ^= 1;
        assert!(matches!(read(&flipped, true), Err(Error::Corruption(_))));
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
        encode_record(&mut bytes, (9, 7), 5, Timestamp(1), 32, b"x");
        assert!(read(&bytes, true).expect("torn").records.is_empty());
        let mut bytes = encode_segment_header(5, 7);
        encode_record(&mut bytes, (5, 8), 5, Timestamp(1), 32, b"x");
        assert!(read(&bytes, true).expect("torn").records.is_empty());
    }
}
