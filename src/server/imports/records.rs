//! The durable records of the server's imports and exports: one file of each kind in the
//! database directory (`IMPORTS`, `EXPORTS`), each record DynamoDB's description of the
//! operation and the request a repeat of its `ClientToken` is compared with.
//!
//! A file is replaced atomically through the file-system seam
//! ([`crate::fs::write_atomically`]) on every change, and the engine's recovery never reads
//! it; a damaged one is set aside on a start, kept and logged, and the server starts
//! without the records ([`load_or_set_aside`]). At most [`MAX_RECORDS`] are kept, none
//! older than 90 days (DynamoDB lists the imports of the past 90 days).
//!
//! Both kinds share one layout, each with its own magic ([`RecordsFile`]):
//!
//! ```text
//!   IMPORTS  [ magic "TSIMPORT" (8) | version u32 LE (4) | crc32c of payload u32 LE (4) |
//!              payload: JSON array of records (at most MAX_FILE_LEN - 16 bytes) ]
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::db::Database;
use crate::error::Error;
use crate::fs::Vfs;
use crate::model::clock::Timestamp;

/// A file of durable records of one kind of operation (imports, in `imports/mod.rs`; exports, in
/// `exports.rs`): the layout drawn in the module docs, with the kind's magic.
pub(in crate::server) struct RecordsFile {
    /// Its name in the database directory.
    pub name: &'static str,
    pub magic: &'static [u8; 8],
    /// The description's members every record must have as strings.
    pub arn: &'static str,
    pub status: &'static str,
    /// Brings a record read from the file to the form this build writes (a record an
    /// earlier build wrote may keep a member elsewhere), before anything reads it.
    pub upgrade: fn(&mut Record),
}
const VERSION: u32 = 1;
const VERSION_OFFSET: usize = 8;
const CRC_OFFSET: usize = VERSION_OFFSET + 4;
const HEADER_LEN: usize = CRC_OFFSET + 4;
/// The largest `IMPORTS` file read (records are a few kilobytes each).
const MAX_FILE_LEN: u64 = 64 << 20;
/// The most import records kept: the oldest finished ones go first.
pub const MAX_RECORDS: usize = 1000;
/// How long a record is kept: DynamoDB lists the imports of the past 90 days.
const KEEP_MS: u64 = 90 * 24 * 60 * 60 * 1000;
/// How long a `ClientToken` makes `ImportTable` idempotent (the model's 8 hours).
const TOKEN_WINDOW_MS: u64 = 8 * 60 * 60 * 1000;

/// One import as kept: DynamoDB's `ImportTableDescription`, and what a retry with its
/// `ClientToken` is compared with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(in crate::server) struct Record {
    /// The wire's `ImportTableDescription`.
    pub description: Map<String, Value>,
    /// The request's members but `ClientToken`.
    pub request: Value,
    pub start_ms: u64,
    pub end_ms: Option<u64>,
}

impl Record {
    pub(in crate::server) fn arn(&self) -> &str {
        (self.description.get("ImportArn"))
            .or_else(|| self.description.get("ExportArn"))
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub(in crate::server) fn status(&self) -> &str {
        (self.description.get("ImportStatus"))
            .or_else(|| self.description.get("ExportStatus"))
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub(super) fn table_name(&self) -> &str {
        self.request["TableCreationParameters"]["TableName"]
            .as_str()
            .unwrap_or_default()
    }

    pub(in crate::server) fn token(&self) -> Option<&str> {
        self.description.get("ClientToken").and_then(Value::as_str)
    }

    /// Whether its `ClientToken` still makes `ImportTable` idempotent at `now` (saturating:
    /// the times come from a file, which may hold any number).
    pub(in crate::server) fn holds_token_at(&self, now: u64) -> bool {
        self.end_ms.unwrap_or(now).saturating_add(TOKEN_WINDOW_MS) > now
    }

    /// `ImportSummary`: the description's members that ListImports shows.
    pub(super) fn summary(&self) -> Value {
        let members = [
            "ImportArn",
            "ImportStatus",
            "TableArn",
            "S3BucketSource",
            "CloudWatchLogGroupArn",
            "InputFormat",
            "StartTime",
            "EndTime",
        ];
        let summary: Map<String, Value> = members
            .iter()
            .filter_map(|m| Some((m.to_string(), self.description.get(*m)?.clone())))
            .collect();
        Value::Object(summary)
    }
}

/// One kind's records as the server keeps them (imports here, exports in `exports.rs`):
/// loaded from their [`RecordsFile`] at a start and written back through it on every
/// change, with the threads still running and the stop they watch.
pub(crate) struct Records {
    file: &'static RecordsFile,
    store: Option<(Arc<dyn Vfs>, PathBuf)>,
    state: Mutex<State>,
    /// Set when the server stops: running operations stop reading and fail, no new one
    /// starts.
    pub(in crate::server) stop: Arc<AtomicBool>,
}

#[derive(Default)]
pub(crate) struct State {
    /// In the order they were added, which need not be by start time (ListImports sorts).
    pub(in crate::server) records: Vec<Record>,
    pub(in crate::server) running: Vec<JoinHandle<()>>,
}

pub(in crate::server) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

pub(in crate::server) fn seconds(ms: u64) -> Value {
    json!(Timestamp(ms).as_secs_f64())
}

impl Records {
    /// Loads `file`'s records of the database `db`, drops those past 90 days, and settles
    /// with `settle` those a stop or a crash left IN_PROGRESS; writes them back if that
    /// changed any.
    pub(in crate::server) fn open(
        db: &Database,
        file: &'static RecordsFile,
        mut settle: impl FnMut(&mut Record),
    ) -> std::io::Result<Records> {
        let store = db.storage();
        let mut records = match &store {
            Some((fs, dir)) => load_or_set_aside(&**fs, file, dir, now_ms())?,
            None => Vec::new(),
        };
        // (Records past 90 days go at a start too, not only when one is added.)
        let kept = records.len();
        prune(&mut records, now_ms());
        let mut settled = records.len() != kept;
        for record in records.iter_mut().filter(|r| r.status() == "IN_PROGRESS") {
            settled = true;
            settle(record);
        }
        let loaded = Records {
            file,
            store,
            state: Mutex::new(State {
                records,
                running: Vec::new(),
            }),
            stop: Arc::new(AtomicBool::new(false)),
        };
        if settled {
            let mut state = loaded.lock();
            loaded.persist(&mut state).map_err(std::io::Error::other)?;
        }
        Ok(loaded)
    }

    pub(in crate::server) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes every record. If they would pass [`MAX_FILE_LEN`], which a start refuses to
    /// read, the oldest finished ones are dropped first; with none left to drop, nothing is
    /// written and the call fails.
    pub(in crate::server) fn persist(&self, state: &mut State) -> Result<(), Error> {
        let Some((fs, dir)) = &self.store else {
            return Ok(());
        };
        let name = self.file.name;
        let bytes =
            encode_within(self.file, &mut state.records, MAX_FILE_LEN).ok_or_else(|| {
                Error::LimitExceeded(format!(
                    "the running operations' records in {name} would pass {MAX_FILE_LEN} bytes"
                ))
            })?;
        crate::fs::write_atomically(&**fs, &dir.join(name), &bytes)
            .map_err(crate::error::io_error(format!("writing {name}")))
    }

    /// Asks the operations still running to stop, and waits for them (before the database
    /// closes). An import stops reading at its next check (before each file and each read
    /// of at most [`READ_BUFFER`](super::objects::READ_BUFFER) bytes, a few thousand
    /// lines), fails, which the library's import leaves with no table (it commits whole or
    /// not at all), and writes its record FAILED ([`CANCELLED`](super::CANCELLED)) durably
    /// before this returns; one that had read all its files commits its table and is
    /// COMPLETED. An export stops at its next block, removes its files and writes its
    /// record FAILED. None starts after this begins.
    pub(crate) fn finish_running(&self) {
        let running = {
            let mut state = self.lock();
            // (Under the lock that a request holds from its check of the flag to its
            // thread's start: none starts unseen.)
            self.stop.store(true, Ordering::SeqCst);
            std::mem::take(&mut state.running)
        };
        for thread in running {
            let _ = thread.join();
        }
    }
}

/// Drops the records past 90 days, then the oldest finished ones past [`MAX_RECORDS`].
pub(in crate::server) fn prune(records: &mut Vec<Record>, now: u64) {
    // (Saturating: the times come from a file, which may hold any number.)
    records.retain(|r| r.status() == "IN_PROGRESS" || r.start_ms.saturating_add(KEEP_MS) > now);
    let mut excess = records.len().saturating_sub(MAX_RECORDS);
    records.retain(|r| {
        if excess > 0 && r.status() != "IN_PROGRESS" {
            excess -= 1;
            return false;
        }
        true
    });
}

fn encode(file: &RecordsFile, records: &[Record]) -> Vec<u8> {
    let payload = serde_json::to_vec(records).unwrap_or_default();
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(file.magic); // magic
    bytes.extend_from_slice(&VERSION.to_le_bytes()); // version
    bytes.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes()); // crc32c of payload
    bytes.extend_from_slice(&payload); // payload
    bytes
}

/// The records encoded in at most `limit` bytes, the oldest finished ones dropped until
/// they fit; `None` if they do not fit without them.
pub(in crate::server) fn encode_within(
    file: &RecordsFile,
    records: &mut Vec<Record>,
    limit: u64,
) -> Option<Vec<u8>> {
    let sizes: Vec<u64> = records
        .iter()
        .map(|r| serde_json::to_vec(r).map_or(0, |b| b.len() as u64) + 1)
        .collect();
    // (`[`, `]`, and each record with its comma: at least the payload's length.)
    let mut total = HEADER_LEN as u64 + 2 + sizes.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..records.len())
        .filter(|&i| records[i].status() != "IN_PROGRESS")
        .collect();
    order.sort_by_key(|&i| (records[i].start_ms, i));
    let mut drop = vec![false; records.len()];
    for i in order {
        if total <= limit {
            break;
        }
        drop[i] = true;
        total -= sizes[i];
    }
    if total > limit {
        return None;
    }
    let mut at = 0;
    records.retain(|_| {
        at += 1;
        !drop[at - 1]
    });
    Some(encode(file, records))
}

fn decode(file: &RecordsFile, bytes: &[u8]) -> Result<Vec<Record>, String> {
    if bytes.len() < HEADER_LEN || &bytes[..VERSION_OFFSET] != file.magic {
        return Err(format!("not a {} file (bad magic)", file.name));
    }
    let word =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    if word(VERSION_OFFSET) != VERSION {
        return Err(format!(
            "unrecognized import records version {}",
            word(VERSION_OFFSET)
        ));
    }
    let payload = &bytes[HEADER_LEN..];
    if crc32c::crc32c(payload) != word(CRC_OFFSET) {
        return Err("import records checksum mismatch".into());
    }
    let mut records: Vec<Record> = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
    records.iter_mut().for_each(file.upgrade);
    let well_formed = records.iter().all(|r| {
        r.description.get(file.arn).is_some_and(Value::is_string)
            && r.description.get(file.status).is_some_and(Value::is_string)
    });
    match well_formed {
        true => Ok(records),
        false => Err(format!(
            "a record without its {} or {}",
            file.arn, file.status
        )),
    }
}

/// The records in `dir`'s `IMPORTS`. A damaged file (it is replaced atomically, so never
/// torn: bit rot, or an edit by hand) is set aside as `IMPORTS.damaged-{now}` (or, if a file
/// already has that name, `IMPORTS.damaged-{now}.{n}`: a rename would replace it), never deleted,
/// with an error logged, and no records are loaded: the records are a history of imports,
/// not data (the tables are whole without them), and a server that cannot start over them
/// serves nothing. What is lost: the listing of past imports and, for 8 hours, their
/// `ClientToken`s (a retry then starts a new import, which a table made by the first refuses,
/// `ResourceInUseException`). A file that cannot be read (an I/O error) still stops the
/// start: it may be whole; so does one of a format version this build does not know, which
/// is not damaged (a newer tidestore wrote it) and stays in place.
pub(in crate::server) fn load_or_set_aside(
    fs: &dyn Vfs,
    file: &RecordsFile,
    dir: &Path,
    now: u64,
) -> std::io::Result<Vec<Record>> {
    let name = file.name;
    let path = dir.join(name);
    match load(fs, file, &path) {
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::FileTooLarge
            ) =>
        {
            // NB: a rename replaces its target: a file set aside before (a clock stepped back,
            // or two starts in one millisecond) must not be.
            let mut aside = dir.join(format!("{name}.damaged-{now}"));
            let mut n = 0u32;
            while fs.exists(&aside)? {
                n += 1;
                aside = dir.join(format!("{name}.damaged-{now}.{n}"));
            }
            fs.rename(&path, &aside)?;
            fs.sync_dir(dir)?;
            tracing::error!(
                error = %e,
                kept = %aside.display(),
                "the records of {name} are damaged: set aside, and the server starts without them (its List and Describe operations no longer know those before now)"
            );
            Ok(Vec::new())
        }
        loaded => loaded,
    }
}

/// The format version an `IMPORTS` file says it has, if it starts as one does.
fn version_of(file: &RecordsFile, bytes: &[u8]) -> Option<u32> {
    if bytes.get(..VERSION_OFFSET)? != file.magic {
        return None;
    }
    let word: [u8; 4] = bytes.get(VERSION_OFFSET..CRC_OFFSET)?.try_into().ok()?;
    Some(u32::from_le_bytes(word))
}

fn load(fs: &dyn Vfs, file: &RecordsFile, path: &Path) -> std::io::Result<Vec<Record>> {
    match crate::fs::read_all(fs, path, MAX_FILE_LEN) {
        // A version this build does not know (a newer tidestore wrote it) is no damage: the
        // start fails, naming it, and the file stays where that version will look for it.
        Ok(bytes) if version_of(file, &bytes).is_some_and(|v| v != VERSION) => {
            Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                format!(
                    "{}: records of a version this tidestore does not know (it reads version {VERSION}): start the version that wrote them",
                    path.display()
                ),
            ))
        }
        Ok(bytes) => decode(file, &bytes).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// A record of `ms` with the status `status`, of an import of the table `T` (for tests).
#[cfg(test)]
pub(super) fn record(ms: u64, status: &str) -> Record {
    Record {
        description: json!({
            "ImportArn": format!("arn:aws:dynamodb:us-east-1:000000000000:table/T/import/{ms:014}-0000000{}", ms % 10),
            "ImportStatus": status,
        })
        .as_object()
        .cloned()
        .unwrap_or_default(),
        request: json!({"TableCreationParameters": {"TableName": "T"}}),
        start_ms: ms,
        end_ms: None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{scratch_dir, Imports, IMPORTS, IMPORTS_FILE};
    use super::*;

    /// A damaged `IMPORTS` no longer stops the start: it is set aside under a name of its
    /// own, byte for byte, and the records start empty; a file that cannot be read for
    /// another reason (here a folder in its place) still stops it.
    #[test]
    fn a_damaged_records_file_is_set_aside_and_the_server_starts() {
        let dir = scratch_dir("imports-damaged");
        let db = Database::open(&dir).expect("opens");
        let open = || Imports::open(&db, None, "us-east-1".into(), "000000000000".into());
        let mut bytes = encode(&IMPORTS, &[record(now_ms(), "COMPLETED")]);
        let last = bytes.len() - 1;
        bytes[last] ^= 0x20;
        std::fs::write(dir.join(IMPORTS_FILE), &bytes).expect("a damaged file");
        let imports = open().expect("starts");
        assert!(imports.lock().records.is_empty());
        assert!(!dir.join(IMPORTS_FILE).exists());
        let aside: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("listed")
            .map(|e| e.expect("an entry").path())
            .filter(|p| {
                (p.file_name().and_then(|n| n.to_str()))
                    .is_some_and(|n| n.starts_with("IMPORTS.damaged-"))
            })
            .collect();
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert_eq!(std::fs::read(&aside[0]).expect("kept"), bytes);
        drop(imports);
        assert!(open().is_ok(), "and starts again");
        std::fs::create_dir(dir.join(IMPORTS_FILE)).expect("a folder in its place");
        assert!(open().is_err(), "an unreadable file still stops the start");
        db.close().expect("closes");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A records file of a version this build does not know (a newer tidestore wrote it,
    /// then an older one started) is not damage: the start fails naming the version, and the
    /// file stays `IMPORTS`, not set aside (the newer version would no longer find it).
    #[test]
    fn records_of_an_unknown_version_stop_the_start_and_stay_in_place() {
        let dir = scratch_dir("imports-version");
        let db = Database::open(&dir).expect("opens");
        let mut bytes = encode(&IMPORTS, &[record(now_ms(), "COMPLETED")]);
        bytes[VERSION_OFFSET..CRC_OFFSET].copy_from_slice(&(VERSION + 1).to_le_bytes());
        std::fs::write(dir.join(IMPORTS_FILE), &bytes).expect("a newer file");
        let refused = Imports::open(&db, None, "us-east-1".into(), "000000000000".into())
            .err()
            .expect("the start is refused");
        assert_eq!(refused.kind(), std::io::ErrorKind::Unsupported, "{refused}");
        assert!(refused.to_string().contains("version"), "{refused}");
        assert_eq!(std::fs::read(dir.join(IMPORTS_FILE)).expect("kept"), bytes);
        let aside = std::fs::read_dir(&dir)
            .expect("listed")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("IMPORTS.damaged-"))
            .count();
        assert_eq!(aside, 0);
        db.close().expect("closes");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A file set aside before under the name a damaged `IMPORTS` would take now (a clock
    /// stepped back, or two starts in one millisecond) is kept: the new one takes another
    /// name. (The rename replaced it: a damaged file "never deleted" deleted the earlier one.)
    #[test]
    fn setting_aside_a_damaged_records_file_keeps_one_set_aside_before() {
        let dir = scratch_dir("imports-aside");
        let db = Database::open(&dir).expect("opens");
        let (fs, _) = db.storage().expect("on disk");
        let earlier = dir.join(format!("{IMPORTS_FILE}.damaged-42"));
        std::fs::write(&earlier, b"set aside before").expect("an earlier one");
        for damaged in [&b"damaged once"[..], b"damaged twice"] {
            std::fs::write(dir.join(IMPORTS_FILE), damaged).expect("a damaged file");
            let records = load_or_set_aside(&*fs, &IMPORTS, &dir, 42).expect("set aside");
            assert!(records.is_empty());
        }
        assert_eq!(std::fs::read(&earlier).expect("kept"), b"set aside before");
        let aside = |n: u32| std::fs::read(dir.join(format!("{IMPORTS_FILE}.damaged-42.{n}")));
        assert_eq!(aside(1).expect("kept"), b"damaged once");
        assert_eq!(aside(2).expect("kept"), b"damaged twice");
        assert!(!dir.join(IMPORTS_FILE).exists());
        db.close().expect("closes");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn records_roundtrip_and_damage_is_detected() {
        let records = vec![record(1, "COMPLETED"), record(2, "IN_PROGRESS")];
        let bytes = encode(&IMPORTS, &records);
        let back = decode(&IMPORTS, &bytes).expect("decodes");
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].arn(), records[1].arn());
        for at in [
            0,
            VERSION_OFFSET,
            CRC_OFFSET,
            HEADER_LEN + 3,
            bytes.len() - 1,
        ] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x20;
            assert!(
                decode(&IMPORTS, &bad).is_err(),
                "a flipped byte at {at} is noticed"
            );
        }
        assert!(decode(&IMPORTS, &bytes[..HEADER_LEN - 1]).is_err());
        assert!(decode(&IMPORTS, &bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn pruning_keeps_running_imports_and_drops_the_oldest_and_the_expired() {
        let mut records: Vec<Record> = (0..MAX_RECORDS as u64 + 5)
            .map(|i| {
                record(
                    KEEP_MS + i,
                    if i == 0 { "IN_PROGRESS" } else { "COMPLETED" },
                )
            })
            .collect();
        records.push(record(1, "FAILED"));
        prune(&mut records, KEEP_MS + 10);
        assert_eq!(records.len(), MAX_RECORDS);
        assert_eq!(records[0].status(), "IN_PROGRESS");
        assert!(records.iter().all(|r| r.start_ms != 1), "expired");
        assert_eq!(records[1].start_ms, KEEP_MS + 6);
    }

    /// Times read from a damaged or hostile `IMPORTS` file, however large, never overflow
    /// (a panic at the start or in `ImportTable`).
    #[test]
    fn record_times_at_their_largest_do_not_overflow() {
        let mut far = record(u64::MAX, "COMPLETED");
        far.end_ms = Some(u64::MAX);
        assert!(far.holds_token_at(now_ms()));
        let mut records = vec![far];
        prune(&mut records, now_ms());
        assert_eq!(records.len(), 1);
    }

    /// The records are never written larger than a start reads: the oldest finished ones go
    /// first, running ones never, and records that cannot fit are not written at all (a
    /// client could otherwise grow `IMPORTS`, with large ignored members, past
    /// [`MAX_FILE_LEN`] and so stop the server from starting again).
    #[test]
    fn records_are_written_within_the_size_a_start_reads() {
        let big = |ms: u64, status: &str| {
            let mut r = record(ms, status);
            r.request["Junk"] = json!("x".repeat(1000));
            r
        };
        let one = serde_json::to_vec(&big(5, "IN_PROGRESS"))
            .expect("encodes")
            .len() as u64;
        let limit = HEADER_LEN as u64 + 2 + 3 * (one + 1);
        let mut records = vec![
            big(5, "COMPLETED"),
            big(1, "IN_PROGRESS"),
            big(2, "FAILED"),
            big(3, "COMPLETED"),
            big(4, "IN_PROGRESS"),
        ];
        let bytes = encode_within(&IMPORTS, &mut records, limit).expect("fits");
        assert!(bytes.len() as u64 <= limit);
        let kept: Vec<u64> = records.iter().map(|r| r.start_ms).collect();
        assert_eq!(kept, [5, 1, 4]);
        assert_eq!(decode(&IMPORTS, &bytes).expect("decodes").len(), 3);
        let mut running: Vec<Record> = (0..4).map(|i| big(i, "IN_PROGRESS")).collect();
        assert!(encode_within(&IMPORTS, &mut running, limit).is_none());
        assert_eq!(running.len(), 4);
    }
}
