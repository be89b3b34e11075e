//! `ImportTable`, `DescribeImport` and `ListImports`: DynamoDB's import from S3, read from a
//! local directory standing in for S3 (`tidestore serve --s3-dir DIR`).
//!
//! An `S3BucketSource {S3Bucket: B, S3KeyPrefix: P}` names the regular files under `DIR/B`
//! whose path relative to `DIR/B` (with `/` separators) starts with `P`, read in key order as
//! DynamoDB reads the objects under a prefix. Symbolic links are not followed, a bucket
//! outside the model's pattern (ASCII letters, digits, `.`, `-`, `_`; so no separator, drive
//! or NUL) or with `..` is refused at once, and so is a prefix with a `..` segment, a leading
//! separator or NUL (the prefix is only ever compared with keys, never joined to a path).
//!
//! Status flow, as DynamoDB's: the request is checked, its record written durably as
//! IN_PROGRESS, and the answer sent at once; the import runs on a thread of its own through
//! [`Database::import_table_from_dynamodb_json`] (`InputFormat` DYNAMODB_JSON: the files
//! chained into one source), [`Database::import_table_from_ion`] (ION: each file a stream
//! of Ion values, read apart) or [`Database::import_table_from_csv`] (CSV, with
//! `InputFormatOptions.Csv`, which no other format takes: each file read apart, as each has
//! its own header line), each file's GZIP or ZSTD decoded apart (`compression.rs`), and its
//! record becomes COMPLETED
//! (with the library's counts) or
//! FAILED (`FailureCode`, the exception's name; `FailureMessage`, its message; or, as
//! DynamoDB's guide says, `ItemValidationError` when some items were skipped as invalid, the
//! table kept with the others, the counts given). Unlike
//! DynamoDB, whose table is CREATING meanwhile, the table appears only when the import
//! commits it, ACTIVE (the library commits it whole, atomically); a second import, a
//! `CreateTable` or a restore to the name meanwhile is `ResourceInUseException`
//! ([`Imports::reserve_name`]).
//!
//! Records live in `IMPORTS` in the database directory, which the engine's recovery never
//! reads, replaced atomically through the file-system seam ([`crate::fs::write_atomically`])
//! on every change; a damaged one is set aside on a start, kept and logged, and the server
//! starts without the records (`load_or_set_aside`). A stop cancels the imports still running ([`Imports::finish_running`]):
//! each stops reading, makes no table and ends its record FAILED before the database
//! closes. A record left IN_PROGRESS all the same (a crash, or a stop whose write of the
//! record failed) is settled on the next start: COMPLETED if its table exists and was
//! created after the import began, else FAILED.
//! At most [`MAX_RECORDS`] are kept, none older than 90 days (DynamoDB lists the imports of
//! the past 90 days).
//!
//! The same layout, with its own magic, keeps the export records (`EXPORTS`, `exports.rs`,
//! [`RecordsFile`]):
//!
//! ```text
//!   IMPORTS  [ magic "TSIMPORT" (8) | version u32 LE (4) | crc32c of payload u32 LE (4) |
//!              payload: JSON array of records (at most MAX_FILE_LEN - 16 bytes) ]
//! ```

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::compression::Compression;
use super::indexes::{self, TableRequest};
use super::operations::input;
use super::protocol::WireError;
use super::Call;
use crate::api::imports::{CsvOptions, ImportTableInput};
use crate::api::tables::CreateTableInput;
use crate::db::Database;
use crate::error::Error;
use crate::fs::Vfs;
use crate::model::clock::Timestamp;

/// The file of import records, in the database directory.
pub(crate) const IMPORTS_FILE: &str = "IMPORTS";
/// A file of durable records of one kind of operation (imports here, exports in
/// `exports.rs`): the layout drawn in the module docs, with the kind's magic.
pub(super) struct RecordsFile {
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
/// The import records.
const IMPORTS: RecordsFile = RecordsFile {
    name: IMPORTS_FILE,
    magic: b"TSIMPORT",
    arn: "ImportArn",
    status: "ImportStatus",
    // (Every build has written import records in one form.)
    upgrade: |_| {},
};
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
/// The most imports running at once (each holds its items in memory until it commits).
pub const MAX_RUNNING_IMPORTS: usize = 8;
/// The most files one import reads.
pub const MAX_IMPORT_OBJECTS: usize = 50_000;
/// The most files and folders one import's listing looks at.
const MAX_VISITED: usize = 1_000_000;
/// How deep under the bucket files are looked for.
const MAX_DEPTH: usize = 32;
/// ListImports' and ListExports' page size when `PageSize` or `MaxResults` is not given
/// (the models' maximum).
const DEFAULT_PAGE_SIZE: usize = 25;
/// Why an import a stop cancelled failed (its record says it, written by the import itself
/// before the database closed; no table was made).
const CANCELLED: &str = "the server stopped: the import was cancelled before its table was made";
/// Why an import a stop or a crash left IN_PROGRESS failed (its record, settled on the next
/// start, says it).
const STOPPED: &str = "the server stopped before the import finished";

/// One import as kept: DynamoDB's `ImportTableDescription`, and what a retry with its
/// `ClientToken` is compared with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Record {
    /// The wire's `ImportTableDescription`.
    pub description: Map<String, Value>,
    /// The request's members but `ClientToken`.
    pub request: Value,
    pub start_ms: u64,
    pub end_ms: Option<u64>,
}

impl Record {
    pub(super) fn arn(&self) -> &str {
        (self.description.get("ImportArn"))
            .or_else(|| self.description.get("ExportArn"))
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub(super) fn status(&self) -> &str {
        (self.description.get("ImportStatus"))
            .or_else(|| self.description.get("ExportStatus"))
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    fn table_name(&self) -> &str {
        self.request["TableCreationParameters"]["TableName"]
            .as_str()
            .unwrap_or_default()
    }

    pub(super) fn token(&self) -> Option<&str> {
        self.description.get("ClientToken").and_then(Value::as_str)
    }

    /// Whether its `ClientToken` still makes `ImportTable` idempotent at `now` (saturating:
    /// the times come from a file, which may hold any number).
    pub(super) fn holds_token_at(&self, now: u64) -> bool {
        self.end_ms.unwrap_or(now).saturating_add(TOKEN_WINDOW_MS) > now
    }

    /// `ImportSummary`: the description's members that ListImports shows.
    fn summary(&self) -> Value {
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

/// The server's imports: the directory standing in for S3, the records, the running threads.
pub(crate) struct Imports {
    s3_dir: Option<PathBuf>,
    region: String,
    account: String,
    records: Records,
}

/// The records, threads and stop of the imports.
impl std::ops::Deref for Imports {
    type Target = Records;

    fn deref(&self) -> &Records {
        &self.records
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
    pub(super) stop: Arc<AtomicBool>,
}

#[derive(Default)]
pub(crate) struct State {
    /// In the order they were added, which need not be by start time (ListImports sorts).
    pub(super) records: Vec<Record>,
    pub(super) running: Vec<JoinHandle<()>>,
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

pub(super) fn seconds(ms: u64) -> Value {
    json!(Timestamp(ms).as_secs_f64())
}

impl Imports {
    /// Loads the records of the database `db` and settles those a stop left IN_PROGRESS.
    pub(crate) fn open(
        db: &Database,
        s3_dir: Option<PathBuf>,
        region: String,
        account: String,
    ) -> std::io::Result<Imports> {
        let settle = |record: &mut Record| {
            let created = db
                .describe_table(record.table_name())
                .ok()
                .map(|t| t.creation_date_time.0);
            match created {
                Some(created) if created >= record.start_ms => {
                    finish(record, "COMPLETED", created);
                    if let Ok(t) = db.describe_table(record.table_name()) {
                        record
                            .description
                            .insert("TableId".into(), json!(t.table_id));
                    }
                }
                _ => {
                    finish(record, "FAILED", now_ms());
                    record
                        .description
                        .insert("FailureCode".into(), json!("InternalServerError"));
                    record
                        .description
                        .insert("FailureMessage".into(), json!(STOPPED));
                }
            }
        };
        Ok(Imports {
            s3_dir,
            region,
            account,
            records: Records::open(db, &IMPORTS, settle)?,
        })
    }

    /// Refuses a new table named `name` while an import of that name runs (DynamoDB's table
    /// is CREATING meanwhile: `ResourceInUseException`), else holds the records' lock, which
    /// the caller keeps until its table is made, so that no import of the name starts
    /// between this check and the table's creation.
    pub(crate) fn reserve_name(&self, name: &str) -> Result<MutexGuard<'_, State>, WireError> {
        let state = self.lock();
        if (state.records.iter()).any(|r| r.status() == "IN_PROGRESS" && r.table_name() == name) {
            return Err(Error::ResourceInUse(format!(
                "Table is being created by an import: {name}"
            ))
            .into());
        }
        Ok(state)
    }
}

impl Records {
    /// Loads `file`'s records of the database `db`, drops those past 90 days, and settles
    /// with `settle` those a stop or a crash left IN_PROGRESS; writes them back if that
    /// changed any.
    pub(super) fn open(
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

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes every record. If they would pass [`MAX_FILE_LEN`], which a start refuses to
    /// read, the oldest finished ones are dropped first; with none left to drop, nothing is
    /// written and the call fails.
    pub(super) fn persist(&self, state: &mut State) -> Result<(), Error> {
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
    /// of at most [`READ_BUFFER`] bytes, a few thousand lines), fails, which the library's
    /// import leaves with no table (it commits whole or not at all), and writes its record
    /// FAILED ([`CANCELLED`]) durably before this returns; one that had read all its files
    /// commits its table and is COMPLETED. An export stops at its next block, removes its
    /// files and writes its record FAILED. None starts after this begins.
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

fn finish(record: &mut Record, status: &str, end_ms: u64) {
    record.end_ms = Some(end_ms);
    record
        .description
        .insert("ImportStatus".into(), json!(status));
    record.description.insert("EndTime".into(), seconds(end_ms));
}

/// Drops the records past 90 days, then the oldest finished ones past [`MAX_RECORDS`].
pub(super) fn prune(records: &mut Vec<Record>, now: u64) {
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
pub(super) fn encode_within(
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
pub(super) fn load_or_set_aside(
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

// ---- The operations. ----

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct S3BucketSource {
    s3_bucket: Option<String>,
    s3_key_prefix: Option<String>,
    s3_bucket_owner: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImportTableRequest {
    client_token: Option<String>,
    s3_bucket_source: S3BucketSource,
    input_format: String,
    input_format_options: Option<InputFormatOptions>,
    input_compression_type: Option<String>,
    table_creation_parameters: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InputFormatOptions {
    csv: Option<CsvRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CsvRequest {
    delimiter: Option<String>,
    header_list: Option<Vec<String>>,
}

/// How the files of an import are read.
#[derive(Clone)]
enum Format {
    DynamoDbJson,
    Ion,
    Csv(CsvOptions),
}

/// The request's `InputFormat` and `InputFormatOptions` as a [`Format`], or DynamoDB's
/// refusal.
fn format(request: &ImportTableRequest) -> Result<Format, WireError> {
    let csv = (request.input_format_options.as_ref()).and_then(|o| o.csv.as_ref());
    match (request.input_format.as_str(), csv) {
        ("DYNAMODB_JSON", None) => Ok(Format::DynamoDbJson),
        ("ION", None) => Ok(Format::Ion),
        ("CSV", csv) => {
            let mut options = CsvOptions::default();
            if let Some(delimiter) = csv.and_then(|c| c.delimiter.as_deref()) {
                // The model's `CsvDelimiter`: one character.
                let bound = match delimiter.chars().count() {
                    0 => Some("greater than or equal to 1"),
                    1 => None,
                    _ => Some("less than or equal to 1"),
                };
                if let Some(bound) = bound {
                    return Err(WireError::validation(format!(
                        "1 validation error detected: Value '{delimiter}' at 'inputFormatOptions.csv.delimiter' failed to satisfy constraint: Member must have length {bound}"
                    )));
                }
                options = options.delimiter(delimiter.chars().next().unwrap_or(','));
            }
            if let Some(names) = csv.and_then(|c| c.header_list.clone()) {
                options = options.header_list(names);
            }
            crate::import::validate_csv_options(&options)?;
            Ok(Format::Csv(options))
        }
        (format @ ("DYNAMODB_JSON" | "ION"), Some(_)) => Err(WireError::validation(format!(
            "One or more parameter values were invalid: InputFormatOptions.Csv is for the InputFormat CSV only, not {format}"
        ))),
        (other, _) => Err(WireError::validation(format!(
            "tidestore does not support the InputFormat {other}: only DYNAMODB_JSON, ION and CSV"
        ))),
    }
}

/// Why a bucket name could reach outside the S3 directory, if it could.
pub(super) fn bucket_refusal(bucket: &str) -> Option<String> {
    // The model's pattern, `^[a-z0-9A-Z]+[\.\-\w]*[a-z0-9A-Z]+$` (`\w` ASCII): no separator,
    // drive (`C:`), NUL or other character a file system could read otherwise.
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let bad = bucket.len() < 2
        || !edge(bucket.chars().next())
        || !edge(bucket.chars().last())
        || !bucket
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        || bucket.contains("..")
        || bucket.len() > 255;
    bad.then(|| format!("One or more parameter values were invalid: S3Bucket {bucket:?} does not satisfy the pattern ^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$ (ASCII, no '..')"))
}

/// Why a key prefix could reach outside its bucket, if it could.
fn prefix_refusal(prefix: &str) -> Option<String> {
    let bad = prefix.starts_with(['/', '\\'])
        || prefix.contains(['\0', '\\'])
        || prefix.split('/').any(|part| part == "..")
        || prefix.len() > 1024;
    bad.then(|| format!("One or more parameter values were invalid: S3KeyPrefix {prefix:?} is not a key prefix tidestore can read (no '..' segment, leading '/', backslash or NUL)"))
}

/// A request's members without its `ClientToken`: what a request repeated with the token must
/// match for it to be answered with the import or export the token started.
pub(super) fn without_client_token(body: &Value) -> Value {
    let mut request = body.clone();
    if let Value::Object(members) = &mut request {
        members.remove("ClientToken");
    }
    request
}

/// `ImportTable`.
pub(super) fn import_table(call: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let imports = &call.state.imports;
    let Some(s3_dir) = &imports.s3_dir else {
        return Err(WireError::validation(
            "tidestore serve has no S3 directory to import from: start it with --s3-dir DIR, and ImportTable reads the files under DIR/{S3Bucket}",
        ));
    };
    let request_value = without_client_token(&body);
    let request: ImportTableRequest = input(body)?;
    let source = &request.s3_bucket_source;
    let Some(bucket) = &source.s3_bucket else {
        return Err(WireError::validation(
            "1 validation error detected: Value null at 's3BucketSource.s3Bucket' failed to satisfy constraint: Member must not be null",
        ));
    };
    if let Some(refusal) = bucket_refusal(bucket) {
        return Err(WireError::validation(refusal));
    }
    let prefix = source.s3_key_prefix.clone().unwrap_or_default();
    if let Some(refusal) = prefix_refusal(&prefix) {
        return Err(WireError::validation(refusal));
    }
    if let Some(owner) = &source.s3_bucket_owner {
        if *owner != imports.account {
            return Err(WireError::validation(format!(
                "tidestore reads only its own account's buckets: S3BucketOwner must be {} (the server's --account) or left out, not {owner:?}",
                imports.account
            )));
        }
    }
    let format = format(&request)?;
    let compression_name = request
        .input_compression_type
        .clone()
        .unwrap_or_else(|| "NONE".into());
    // (The model's enum was checked with the request's members.)
    let compression = Compression::from_name(&compression_name).ok_or_else(|| {
        WireError::validation(format!(
            "tidestore does not support the InputCompressionType {compression_name}: only GZIP, ZSTD and NONE"
        ))
    })?;
    if let Some(token) = &request.client_token {
        if token.is_empty() || token.contains('$') {
            return Err(WireError::validation(format!(
                "1 validation error detected: Value '{token}' at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[^\\$]+$"
            )));
        }
    }
    let table = table_creation_parameters(request.table_creation_parameters.clone())?;
    let now = now_ms();
    table.to_schema(Timestamp(now))?;

    let mut state = imports.lock();
    if imports.stop.load(Ordering::SeqCst) {
        return Err(Error::Io {
            context: "ImportTable".into(),
            source: std::io::Error::other("the server is stopping: no import starts"),
        }
        .into());
    }
    if let Some(token) = &request.client_token {
        let earlier = state
            .records
            .iter()
            .find(|r| r.token() == Some(token) && r.holds_token_at(now));
        if let Some(earlier) = earlier {
            if earlier.request != request_value {
                return Err(Error::IdempotentParameterMismatch(
                    "ImportTable was called with a ClientToken already used for another import within 8 hours".into(),
                )
                .into());
            }
            return Ok(json!({ "ImportTableDescription": earlier.description }));
        }
    }
    let name = &table.table_name;
    if call.db.describe_table(name).is_ok()
        || (state.records.iter()).any(|r| r.status() == "IN_PROGRESS" && r.table_name() == name)
    {
        return Err(Error::ResourceInUse(format!("Table already exists: {name}")).into());
    }
    state.running.retain(|t| !t.is_finished());
    if state.running.len() >= MAX_RUNNING_IMPORTS {
        return Err(Error::LimitExceeded(format!(
            "tidestore runs at most {MAX_RUNNING_IMPORTS} imports at once"
        ))
        .into());
    }

    let table_arn = format!(
        "arn:aws:dynamodb:{}:{}:table/{name}",
        imports.region, imports.account
    );
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let import_arn = format!("{table_arn}/import/{now:014}-{}", &suffix[..8]);
    let mut description = Map::new();
    description.insert("ImportArn".into(), json!(import_arn));
    description.insert("ImportStatus".into(), json!("IN_PROGRESS"));
    description.insert("TableArn".into(), json!(table_arn));
    if let Some(token) = &request.client_token {
        description.insert("ClientToken".into(), json!(token));
    }
    description.insert(
        "S3BucketSource".into(),
        request_value["S3BucketSource"].clone(),
    );
    description.insert("InputFormat".into(), json!(request.input_format));
    if let Some(options) = request_value.get("InputFormatOptions") {
        description.insert("InputFormatOptions".into(), options.clone());
    }
    description.insert("InputCompressionType".into(), json!(compression_name));
    description.insert(
        "TableCreationParameters".into(),
        request_value["TableCreationParameters"].clone(),
    );
    description.insert("StartTime".into(), seconds(now));
    let record = Record {
        description: description.clone(),
        request: request_value,
        start_ms: now,
        end_ms: None,
    };
    state.records.push(record);
    prune(&mut state.records, now);
    if let Err(e) = imports.persist(&mut state) {
        state.records.retain(|r| r.arn() != import_arn);
        return Err(e.into());
    }

    let job = Job {
        db: call.db.clone(),
        imports: Arc::clone(&call.state.imports),
        import_arn,
        root: s3_dir.join(bucket),
        prefix,
        compression,
        format,
        table,
        stop: Arc::clone(&imports.stop),
    };
    let thread = std::thread::Builder::new()
        .name("tidestore-import".into())
        .spawn(move || job.run())
        .map_err(|e| Error::Io {
            context: "starting an import".into(),
            source: e,
        });
    match thread {
        Ok(thread) => state.running.push(thread),
        Err(e) => {
            // The caller is told the import failed to start: it must not be listed, nor
            // hold its table's name, as one in progress.
            let arn = description.get("ImportArn").and_then(Value::as_str);
            state.records.retain(|r| Some(r.arn()) != arn);
            if let Err(e) = imports.persist(&mut state) {
                tracing::warn!(error = %e, "an import that did not start is still recorded");
            }
            return Err(e.into());
        }
    }
    Ok(json!({ "ImportTableDescription": description }))
}

/// The members of the model's `TableCreationParameters`.
const TABLE_CREATION_PARAMETERS: [&str; 9] = [
    "TableName",
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "OnDemandThroughput",
    "SSESpecification",
    "GlobalSecondaryIndexes",
    "VectorIndexes",
];

/// `TableCreationParameters` read as `CreateTable`'s members (which hold its shapes).
fn table_creation_parameters(
    mut members: Map<String, Value>,
) -> Result<CreateTableInput, WireError> {
    // CreateTable's other members (LocalSecondaryIndexes, Tags, StreamSpecification, …) are
    // not the model's `TableCreationParameters`: ignored, as the service ignores members
    // its model does not define, rather than honoured.
    members.retain(|member, _| TABLE_CREATION_PARAMETERS.contains(&member.as_str()));
    let missing: Vec<String> = ["TableName", "AttributeDefinitions", "KeySchema"]
        .iter()
        .filter(|m| members.get(**m).is_none_or(Value::is_null))
        .map(|m| {
            let mut chars = m.chars();
            let first = chars.next().map(|c| c.to_ascii_lowercase().to_string());
            format!(
                "Value null at 'tableCreationParameters.{}{}' failed to satisfy constraint: Member must not be null",
                first.unwrap_or_default(),
                chars.as_str()
            )
        })
        .collect();
    if !missing.is_empty() {
        let plural = if missing.len() == 1 { "" } else { "s" };
        return Err(WireError::validation(format!(
            "{} validation error{plural} detected: {}",
            missing.len(),
            missing.join("; ")
        )));
    }
    if members.get("VectorIndexes").is_some_and(|v| !v.is_null()) {
        return Err(WireError::validation(
            "tidestore does not support the parameter VectorIndexes of TableCreationParameters",
        ));
    }
    let mut body = Value::Object(members);
    let refusal = indexes::settle(TableRequest::CreateTable, &mut body);
    let table = input::<CreateTableInput>(body)?;
    match refusal {
        Some(refusal) => Err(refusal),
        None => Ok(table),
    }
}

/// One import, run on its own thread.
struct Job {
    db: Database,
    imports: Arc<Imports>,
    import_arn: String,
    root: PathBuf,
    prefix: String,
    compression: Compression,
    format: Format,
    table: CreateTableInput,
    /// The server's stop: the files' reads fail once it is set.
    stop: Arc<AtomicBool>,
}

impl Job {
    fn run(self) {
        // NB: a panic in the import (a defect) still ends its record, as FAILED, instead of
        // leaving it IN_PROGRESS, its table's name reserved, until the next start.
        let outcome = caught(|| self.import());
        self.record(outcome);
    }

    /// Reads the source's files into the new table.
    fn import(&self) -> Result<crate::api::imports::ImportTableOutput, Error> {
        let files = objects(&self.root, &self.prefix)?;
        let input = ImportTableInput::new(self.table.clone());
        let compression = self.compression;
        let stop = &self.stop;
        match &self.format {
            Format::DynamoDbJson => {
                let source = BufReader::with_capacity(
                    READ_BUFFER,
                    Objects {
                        files: files.into_iter(),
                        current: None,
                        compression,
                        stop: Arc::clone(stop),
                        between: false,
                    },
                );
                self.db.import_table_from_dynamodb_json(input, source)
            }
            // Each file read apart: a value cut at a file's end must not run on into the next.
            Format::Ion => self.db.import_table_from_ion(
                input,
                (files.into_iter()).map(|path| {
                    BufReader::with_capacity(
                        READ_BUFFER,
                        Object::new(path, compression, Arc::clone(stop)),
                    )
                }),
            ),
            // Each file read apart: each has its own header line.
            Format::Csv(options) => self.db.import_table_from_csv(
                input,
                options.clone(),
                (files.into_iter()).map(|path| {
                    BufReader::with_capacity(
                        READ_BUFFER,
                        Object::new(path, compression, Arc::clone(stop)),
                    )
                }),
            ),
        }
    }

    /// Ends the import's record with `outcome`, durably.
    fn record(&self, outcome: Result<crate::api::imports::ImportTableOutput, Error>) {
        let end = now_ms();
        let mut state = self.imports.lock();
        let Some(record) = (state.records.iter_mut()).find(|r| r.arn() == self.import_arn) else {
            return;
        };
        let outcome = outcome.and_then(|o| {
            serde_json::to_value(o.import_table_description).map_err(|e| Error::Io {
                context: "recording the import".into(),
                source: std::io::Error::other(e),
            })
        });
        match outcome {
            Ok(done) => {
                // DynamoDB's developer guide ("Import format quotas and validation", data
                // validation errors): items that fail validation are skipped and the import
                // goes on, but at its end the import is FAILED with `ItemValidationError`
                // (its table stays, with the items that were valid).
                let first_error = (done.get("ErrorCount").and_then(Value::as_u64))
                    .filter(|&n| n > 0)
                    .map(|_| &done["ItemErrors"][0]);
                match first_error {
                    None => finish(record, "COMPLETED", end),
                    Some(first) => {
                        finish(record, "FAILED", end);
                        // (No CloudWatch here: the first error is named instead.)
                        let message = format!(
                            "Some of the items failed validation checks and were not imported. The first: item {} ({}): {}",
                            first["ItemNumber"],
                            first["ErrorCode"].as_str().unwrap_or_default(),
                            first["Message"].as_str().unwrap_or_default()
                        );
                        record
                            .description
                            .insert("FailureCode".into(), json!("ItemValidationError"));
                        record
                            .description
                            .insert("FailureMessage".into(), json!(message));
                    }
                }
                for member in [
                    "TableId",
                    "ProcessedSizeBytes",
                    "ProcessedItemCount",
                    "ImportedItemCount",
                    "ErrorCount",
                ] {
                    if let Some(value) = done.get(member) {
                        record.description.insert(member.into(), value.clone());
                    }
                }
            }
            Err(e) => {
                finish(record, "FAILED", end);
                // A read the stop ended: said plainly, without the reading's context.
                let message = match e.message().contains(CANCELLED) {
                    true => CANCELLED.to_owned(),
                    false => e.message(),
                };
                record
                    .description
                    .insert("FailureCode".into(), json!(e.exception_name()));
                record
                    .description
                    .insert("FailureMessage".into(), json!(message));
            }
        }
        if let Err(e) = self.imports.persist(&mut state) {
            tracing::warn!(error = %e, import = %self.import_arn, "the import's record was not written");
        }
    }
}

/// What `work` returns, or an internal error if it panics.
fn caught<T>(work: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|_| {
        Err(Error::Io {
            context: "importing".into(),
            source: std::io::Error::other("the import stopped on an internal error"),
        })
    })
}

/// The regular files under `root` whose key (their path relative to `root`, `/`-separated)
/// starts with `prefix`, in key order. Symbolic links are not followed.
fn objects(root: &Path, prefix: &str) -> Result<Vec<PathBuf>, Error> {
    // The bucket's folder itself is not followed either.
    match std::fs::symlink_metadata(root) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(Error::validation(
                "The specified bucket is not a folder of the S3 directory",
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::validation("The specified bucket does not exist"));
        }
        Err(e) => return Err(crate::error::io_error("listing the bucket")(e)),
    }
    let mut found = Vec::new();
    let mut visited = 0;
    walk(root, "", prefix, 0, &mut found, &mut visited)?;
    if found.is_empty() {
        return Err(Error::validation(format!(
            "No objects found under the S3KeyPrefix {prefix:?} of the bucket"
        )));
    }
    found.sort();
    Ok(found.into_iter().map(|(_, path)| path).collect())
}

fn walk(
    dir: &Path,
    key_prefix: &str,
    prefix: &str,
    depth: usize,
    found: &mut Vec<(String, PathBuf)>,
    visited: &mut usize,
) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(Error::validation(format!(
            "the bucket's keys are more than {MAX_DEPTH} folders deep"
        )));
    }
    let entries = std::fs::read_dir(dir).map_err(crate::error::io_error("listing the bucket"))?;
    for entry in entries {
        let entry = entry.map_err(crate::error::io_error("listing the bucket"))?;
        *visited += 1;
        if *visited > MAX_VISITED {
            return Err(Error::validation(format!(
                "more than {MAX_VISITED} files and folders in the bucket"
            )));
        }
        // (A name that is not UTF-8 is no S3 key.)
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let key = format!("{key_prefix}{name}");
        let kind = entry
            .file_type()
            .map_err(crate::error::io_error("listing the bucket"))?;
        if kind.is_dir() {
            let folder = format!("{key}/");
            if folder.starts_with(prefix) || prefix.starts_with(&folder) {
                walk(&entry.path(), &folder, prefix, depth + 1, found, visited)?;
            }
        } else if kind.is_file() && key.starts_with(prefix) {
            if found.len() >= MAX_IMPORT_OBJECTS {
                return Err(Error::validation(format!(
                    "more than {MAX_IMPORT_OBJECTS} objects under the S3KeyPrefix"
                )));
            }
            found.push((key, entry.path()));
        }
    }
    Ok(())
}

/// How much of a file an import reads at once.
const READ_BUFFER: usize = 256 << 10;

/// One file of an import, opened when first read (so that a CSV import, which reads its
/// files one by one, holds one open at a time), decompressed as the request's
/// `InputCompressionType` says (`compression.rs`). Once the server's stop is set, opening
/// and every read fail: the import ends before its commit.
struct Object {
    path: PathBuf,
    compression: Compression,
    stop: Arc<AtomicBool>,
    reader: Option<Box<dyn Read + Send>>,
}

impl Object {
    fn new(path: PathBuf, compression: Compression, stop: Arc<AtomicBool>) -> Object {
        Object {
            path,
            compression,
            stop,
            reader: None,
        }
    }
}

impl Read for Object {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        let reader = match &mut self.reader {
            Some(reader) => reader,
            None => {
                let file = Stoppable {
                    file: open_no_follow(&self.path)?,
                    stop: Arc::clone(&self.stop),
                };
                self.reader
                    .insert(self.compression.decoder(BufReader::new(file)))
            }
        };
        reader.read(buf)
    }
}

/// The error of a read the server's stop ended. (Not `Interrupted`, which readers retry.)
fn cancelled() -> std::io::Error {
    std::io::Error::other(CANCELLED)
}

/// An import's file as its decoder reads it: every read fails once the server's stop is
/// set. (Checked below the decoder too, as a decoder may read on and on without handing a
/// byte over: a ZSTD frame of empty blocks, which a terabyte of zeros is, or skippable
/// frames.)
struct Stoppable {
    file: std::fs::File,
    stop: Arc<AtomicBool>,
}

impl Read for Stoppable {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        self.file.read(buf)
    }
}

/// The files of an import read one after another as one source, a line end between two
/// (so that a file's last line, ended or not, is never joined to the next one's first).
struct Objects {
    files: std::vec::IntoIter<PathBuf>,
    current: Option<Object>,
    compression: Compression,
    stop: Arc<AtomicBool>,
    between: bool,
}

impl Read for Objects {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if buf.is_empty() {
                return Ok(0);
            }
            if std::mem::take(&mut self.between) {
                buf[0] = b'\n';
                return Ok(1);
            }
            match &mut self.current {
                Some(reader) => {
                    let n = reader.read(buf)?;
                    if n > 0 {
                        return Ok(n);
                    }
                    self.current = None;
                    self.between = true;
                }
                None => {
                    let Some(path) = self.files.next() else {
                        return Ok(0);
                    };
                    self.current =
                        Some(Object::new(path, self.compression, Arc::clone(&self.stop)));
                }
            }
        }
    }
}

/// Opens `path` for reading, refusing a symbolic link put there since it was listed.
fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// The `ImportNotFoundException` for `arn`.
fn import_not_found(arn: &str) -> WireError {
    WireError::dynamodb(
        "ImportNotFoundException",
        format!("Import not found: {arn}"),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeImportRequest {
    import_arn: String,
}

/// The shortest `ImportArn` the API accepts (the service model's `ImportArn`).
const MIN_IMPORT_ARN_LEN: usize = 37;
/// The longest `ImportArn` the API accepts.
const MAX_IMPORT_ARN_LEN: usize = 1024;

/// `DescribeImport`.
pub(super) fn describe_import(call: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let DescribeImportRequest { import_arn } = input(body)?;
    crate::model::names::check_length(
        &import_arn,
        "importArn",
        MIN_IMPORT_ARN_LEN,
        MAX_IMPORT_ARN_LEN,
    )?;
    let state = call.state.imports.lock();
    match state.records.iter().find(|r| r.arn() == import_arn) {
        Some(record) => Ok(json!({ "ImportTableDescription": record.description })),
        None => Err(import_not_found(&import_arn)),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListImportsRequest {
    table_arn: Option<String>,
    page_size: Option<i64>,
    next_token: Option<String>,
}

/// A ListImports `NextToken`: the last import shown, `{start ms:014}:{ARN}`, in hex, padded
/// with NULs to whole 8-byte groups and at least 56 bytes (the model's 112 to 1,024
/// characters of `([0-9a-f]{16})+`).
pub(super) fn next_token(record: &Record) -> String {
    let mut bytes = format!("{:014}:{}", record.start_ms, record.arn()).into_bytes();
    while bytes.len() < 56 || !bytes.len().is_multiple_of(8) {
        bytes.push(0);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The position a `NextToken` names: (start ms, ARN).
fn read_token(token: &str) -> Option<(u64, String)> {
    if !token.len().is_multiple_of(2) || !token.is_ascii() {
        return None;
    }
    let bytes: Vec<u8> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16).ok())
        .collect::<Option<_>>()?;
    let text = String::from_utf8(bytes).ok()?;
    let (ms, arn) = text.trim_end_matches('\0').split_once(':')?;
    Some((ms.parse().ok()?, arn.to_owned()))
}

/// One ListImports page: the records of `table_arn` (all without it) after `after`, by start
/// time then ARN, at most `size`, and whether more follow. The records are sorted here, not
/// trusted to be: two ImportTable calls can add theirs in the other order than their start
/// times, a clock can step back, a file can hold any order, and paging by position in an
/// unsorted list skips records.
pub(super) fn page<'a>(
    records: &'a [Record],
    table_arn: Option<&str>,
    after: Option<(u64, String)>,
    size: usize,
) -> (Vec<&'a Record>, bool) {
    let mut page: Vec<&Record> = records
        .iter()
        .filter(|r| {
            table_arn
                .is_none_or(|t| r.description.get("TableArn").and_then(Value::as_str) == Some(t))
        })
        .filter(|r| {
            after
                .as_ref()
                .is_none_or(|(ms, arn)| (r.start_ms, r.arn()) > (*ms, arn.as_str()))
        })
        .collect();
    page.sort_by(|a, b| (a.start_ms, a.arn()).cmp(&(b.start_ms, b.arn())));
    let more = page.len() > size;
    page.truncate(size);
    (page, more)
}

/// A list operation's page size (`member`, 1 to 25, 25 when not given) and the position
/// its `NextToken` names, or the model's refusal.
pub(super) fn paging(
    (member, size): (&str, Option<i64>),
    token: Option<&str>,
    operation: &str,
) -> Result<(usize, Option<(u64, String)>), WireError> {
    let size = match size {
        None => DEFAULT_PAGE_SIZE,
        Some(n @ 1..=25) => n as usize,
        Some(n) => {
            let bound = match n < 1 {
                true => "greater than or equal to 1",
                false => "less than or equal to 25",
            };
            return Err(WireError::validation(format!(
                "1 validation error detected: Value '{n}' at '{member}' failed to satisfy constraint: Member must have value {bound}"
            )));
        }
    };
    let after =
        match token {
            None => None,
            Some(token) => Some(read_token(token).ok_or_else(|| {
                WireError::validation(format!("Invalid NextToken for {operation}"))
            })?),
        };
    Ok((size, after))
}

/// `ListImports`.
pub(super) fn list_imports(call: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let request: ListImportsRequest = input(body)?;
    let (size, after) = paging(
        ("pageSize", request.page_size),
        request.next_token.as_deref(),
        "ListImports",
    )?;
    let state = call.state.imports.lock();
    let (page, more) = page(&state.records, request.table_arn.as_deref(), after, size);
    let mut answer = json!({
        "ImportSummaryList": page.iter().map(|r| r.summary()).collect::<Vec<_>>(),
    });
    if let (true, Some(last)) = (more, page.last()) {
        answer["NextToken"] = json!(next_token(last));
    }
    Ok(answer)
}

/// A directory of its own under the system's temporary one, for one test (of imports or
/// exports).
#[cfg(test)]
pub(super) fn scratch_dir(kind: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "tidestore-{kind}-{}-{}",
        std::process::id(),
        now_ms()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ms: u64, status: &str) -> Record {
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

    /// The engine opens a database with an `IMPORTS` file (and a stale `IMPORTS.tmp`)
    /// beside its own, and an import a stop left IN_PROGRESS whose table never appeared is
    /// FAILED on the next start, durably, and one past 90 days is dropped.
    #[test]
    fn a_database_with_import_records_reopens_and_a_stopped_import_is_settled() {
        let dir = scratch_dir("imports-records");
        let open = |dir: &Path| {
            let db = Database::open(dir).expect("opens");
            let imports = Imports::open(&db, None, "us-east-1".into(), "000000000000".into())
                .expect("the records load");
            (db, imports)
        };
        let (db, imports) = open(&dir);
        {
            let mut state = imports.lock();
            // One past DynamoDB's 90 days, which a start drops.
            state.records.push(record(1, "COMPLETED"));
            state.records.push(record(now_ms(), "IN_PROGRESS"));
            imports.persist(&mut state).expect("written");
        }
        std::fs::write(dir.join("IMPORTS.tmp"), b"torn").expect("a stale temp file");
        drop(imports);
        db.close().expect("closes");
        for _ in 0..2 {
            let (db, imports) = open(&dir);
            let state = imports.lock();
            assert_eq!(state.records.len(), 1);
            assert_eq!(state.records[0].status(), "FAILED");
            assert!(state.records[0].description.contains_key("FailureMessage"));
            assert!(state.records[0].end_ms.is_some());
            drop(state);
            drop(imports);
            db.close().expect("closes");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

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

    /// Neither a bucket folder nor a file that is a symbolic link is read; keys are listed
    /// in order, under the prefix only.
    #[cfg(unix)]
    #[test]
    fn listing_takes_regular_files_under_the_prefix_in_key_order_and_follows_no_link() {
        let dir = scratch_dir("s3");
        let bucket = dir.join("b");
        std::fs::create_dir_all(bucket.join("p/q")).expect("folders");
        for name in ["p/q/2", "p/1", "p0", "x"] {
            std::fs::write(bucket.join(name), b"{}").expect("a file");
        }
        std::os::unix::fs::symlink(bucket.join("x"), bucket.join("p/link")).expect("a link");
        std::os::unix::fs::symlink(&bucket, dir.join("linked")).expect("a link");
        let keys: Vec<PathBuf> = objects(&bucket, "p").expect("listed");
        let expected: Vec<PathBuf> = ["p/1", "p/q/2", "p0"]
            .iter()
            .map(|k| bucket.join(k))
            .collect();
        assert_eq!(keys, expected);
        assert_eq!(
            objects(&bucket, "p/").expect("listed"),
            expected[..2].to_vec()
        );
        assert!(objects(&bucket, "nothing").is_err());
        assert!(objects(&dir.join("linked"), "").is_err(), "a linked bucket");
        assert!(objects(&dir.join("missing"), "").is_err());
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

    /// Paging through records not in start order (two ImportTable calls that add theirs in
    /// the other order than their start times, a clock stepped back) shows each once.
    #[test]
    fn paging_shows_every_record_once_whatever_their_order() {
        let records = vec![
            record(3, "COMPLETED"),
            record(1, "COMPLETED"),
            record(2, "FAILED"),
        ];
        let mut seen = Vec::new();
        let mut after = None;
        for _ in 0..10 {
            let (page, more) = page(&records, None, after, 1);
            seen.extend(page.iter().map(|r| r.start_ms));
            if !more {
                break;
            }
            after = page.last().and_then(|r| read_token(&next_token(r)));
        }
        assert_eq!(seen, [1, 2, 3]);
    }

    /// While an import of a name runs, no other table of that name can be made: CreateTable
    /// and the restores are `ResourceInUseException` (they ask [`Imports::reserve_name`]);
    /// once it is settled, they can.
    #[test]
    fn a_running_import_reserves_its_table_name() {
        let db = Database::in_memory();
        let imports =
            Imports::open(&db, None, "us-east-1".into(), "000000000000".into()).expect("opens");
        let mut running = record(now_ms(), "IN_PROGRESS");
        running.request = json!({"TableCreationParameters": {"TableName": "Tab"}});
        imports.lock().records.push(running);
        let refused = imports.reserve_name("Tab").err().expect("refused");
        assert!(
            format!("{refused:?}").contains("ResourceInUse"),
            "{refused:?}"
        );
        assert!(imports.reserve_name("T").is_ok());
        // CreateTable and the restores ask it.
        let state = super::super::ServerState {
            db: db.clone(),
            region: "us-east-1".into(),
            secrets: None,
            imports: Arc::new(imports),
            exports: Arc::new(
                super::super::exports::Exports::open(&db, None, "000000000000".into())
                    .expect("export records"),
            ),
        };
        let headers = hyper::HeaderMap::new();
        let call = Call {
            state: &state,
            headers: &headers,
            local: None,
        };
        let table = json!({
            "TableName": "Tab",
            "AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        });
        let restore = json!({
            "TargetTableName": "Tab",
            "BackupArn": "arn:aws:dynamodb:us-east-1:000000000000:table/S/backup/01700000000000-00000000",
        });
        for (operation, body) in [
            ("CreateTable", table.clone()),
            ("RestoreTableFromBackup", restore),
        ] {
            let refused = super::super::operations::call(&call, operation, body).err();
            assert!(
                format!("{refused:?}").contains("ResourceInUse"),
                "{operation}: {refused:?}"
            );
        }
        finish(&mut state.imports.lock().records[0], "FAILED", now_ms());
        assert!(state.imports.reserve_name("Tab").is_ok());
        super::super::operations::call(&call, "CreateTable", table).expect("created");
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

    /// Once a stop has asked the running imports to end, no ImportTable starts one (it
    /// would not be waited for before the database closes).
    #[test]
    fn no_import_starts_once_the_server_is_stopping() {
        let db = Database::in_memory();
        let imports = Imports::open(
            &db,
            Some(std::env::temp_dir()),
            "us-east-1".into(),
            "000000000000".into(),
        )
        .expect("opens");
        imports.finish_running();
        let state = super::super::ServerState {
            db: db.clone(),
            region: "us-east-1".into(),
            secrets: None,
            imports: Arc::new(imports),
            exports: Arc::new(
                super::super::exports::Exports::open(&db, None, "000000000000".into())
                    .expect("export records"),
            ),
        };
        let headers = hyper::HeaderMap::new();
        let call = Call {
            state: &state,
            headers: &headers,
            local: None,
        };
        let request = json!({
            "S3BucketSource": {"S3Bucket": "exports"},
            "InputFormat": "CSV",
            "TableCreationParameters": {
                "TableName": "Tab",
                "AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        });
        let refused =
            super::super::operations::call(&call, "ImportTable", request).expect_err("refused");
        assert!(format!("{refused:?}").contains("stopping"), "{refused:?}");
        assert!(state.imports.lock().records.is_empty());
        assert!(state.imports.lock().running.is_empty());
    }

    #[test]
    fn tokens_roundtrip_and_fit_the_models_pattern() {
        let r = record(1_700_000_000_000, "COMPLETED");
        let token = next_token(&r);
        assert!(token.len() >= 112 && token.len() <= 1024 && token.len().is_multiple_of(16));
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(read_token(&token), Some((r.start_ms, r.arn().to_owned())));
        assert_eq!(read_token("zz"), None);
    }

    /// A panic in an import becomes an error its record can end with (FAILED), not a
    /// record left IN_PROGRESS until the next start.
    #[test]
    fn a_panicking_import_ends_in_an_internal_error() {
        let failed = caught(|| -> Result<(), Error> { panic!("a defect") });
        let error = failed.expect_err("an error");
        assert_eq!(
            error.exception_name(),
            Error::Io {
                context: String::new(),
                source: std::io::Error::other(""),
            }
            .exception_name()
        );
        assert!(
            error.message().contains("internal error"),
            "{}",
            error.message()
        );
        assert_eq!(caught(|| Ok(5)).ok(), Some(5));
    }

    #[test]
    fn buckets_and_prefixes_that_could_escape_are_refused() {
        for bucket in [
            "..",
            "a/b",
            "a\\b",
            "a\0b",
            "",
            ".",
            "x..y",
            "C:",
            "c:x",
            "a:b",
            "a\u{2215}b",
            "\u{ff0e}\u{ff0e}",
            "a b",
            "-a",
            "a.",
        ] {
            assert!(bucket_refusal(bucket).is_some(), "{bucket:?}");
        }
        for bucket in ["exports-1.b", "My_Bucket.2", "ab"] {
            assert!(bucket_refusal(bucket).is_none(), "{bucket:?}");
        }
        for prefix in ["/etc", "../x", "a/../../x", "a\0", "a\\b", "a/.."] {
            assert!(prefix_refusal(prefix).is_some(), "{prefix:?}");
        }
        for prefix in ["", "AWSDynamoDB/0123/data/", "a..b/c", "data"] {
            assert!(prefix_refusal(prefix).is_none(), "{prefix:?}");
        }
    }
}
