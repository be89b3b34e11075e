//! `wire_request`'s part on exports and imports (an input starting `S3`): the operations
//! `ExportTableToPointInTime`, `DescribeExport`, `ListExports`, `ImportTable`,
//! `DescribeImport` and `ListImports`, called on a server in this process
//! (`server::in_process`, the model's checks and the handlers the wire runs, without HTTP)
//! whose S3 directory is a fresh folder per input, removed after it with the database.
//!
//! Each input gets a database in a fresh folder (under `/dev/shm` when there is one, beside
//! the S3 folder: exports write through the database's file system, imports read the S3
//! folder directly, and on a real server both are the disk), whose clock starts two hours ago, with a table `src` under
//! point-in-time recovery holding a few items written a minute apart (so an incremental
//! export has a window to read). The bytes then make up to [`MAX_REQUESTS`] requests: an
//! `ImportTable` over objects the harness writes into the bucket first (DynamoDB JSON, Ion
//! or CSV, for a new table of one of a few shapes; none, GZIP or ZSTD compressed; sometimes
//! damaged: cut, a byte changed, garbage added, or not the compression named; with a
//! `ClientToken` of its own, one given before, or none), an export (FULL or INCREMENTAL, in either format,
//! sometimes with a filter, an export time or a client token), or a describe or list of
//! either with ARNs and tokens the server answered or made up. A request is sometimes
//! mutated as the other harnesses mutate theirs: a member dropped, one of the wrong type,
//! one unknown, or a string changed.
//!
//! Promises checked (a panic is the fuzzer's finding):
//! - every answer is a JSON object, and every error one of the names the API model gives
//!   the operation, or `ValidationException` (with a message), or `SerializationException`
//!   for a request holding a member of the wrong type (`documented_errors`);
//! - an import or export answered 200 leaves IN_PROGRESS within [`SETTLE_TIMEOUT`];
//! - an `ImportTable` without a `ClientToken` (its request not mutated) is refused, as
//!   DynamoDB refuses it;
//! - an import of undamaged objects by an unmutated request ends as DynamoDB's guide says
//!   (`import_objects.rs` generates the objects and the model: tables with a range key or an
//!   index, CSV with any delimiter and a `HeaderList` or header lines, items of every type,
//!   some invalid): COMPLETED when every item is valid, else FAILED with
//!   `ItemValidationError` and `ErrorCount` the invalid ones; `ImportedItemCount` the valid
//!   ones, each item of a key another had counted too (DynamoDB counts writes); either way
//!   its table holds exactly the last valid item of each HASH+RANGE key (a consistent
//!   `Scan`);
//! - an export that COMPLETED lists objects that exist: its summary manifest, the manifest of
//!   files it names, and each data file that one names, whose item counts sum to the
//!   description's `ItemCount`; and a FULL export of the table as it is now, unfiltered,
//!   counts its items.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::documented_errors::documented_error;
use super::import_objects::{compressed, encoded, CsvLayout, ImportModel, ImportSchema, ModelKey};
use super::input::Input;
use super::running_time::RunningTime;
use crate::model::clock::{Clock, ManualClock, Timestamp};
use crate::server::in_process::InProcessServer;
use crate::{
    CreateTableInput, Database, Durability, Item, Options, PutItemInput, ScalarAttributeType,
    UpdateContinuousBackupsInput,
};

/// The most requests one input makes.
const MAX_REQUESTS: usize = 6;

/// How long an import or export may stay IN_PROGRESS before it counts as a hang.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The items of the source table, the most.
const MAX_SOURCE_ITEMS: usize = 6;

/// The objects an import reads, the most, and the items in each.
const MAX_OBJECTS: usize = 3;
const MAX_OBJECT_ITEMS: usize = 5;

/// The errors each operation may answer: the API model's (less `InternalServerError`),
/// and `ValidationException`; `DescribeExport` also `AccessDeniedException`, as DynamoDB
/// answers an export ARN of another partition, service, region or account.
const EXPORT_ERRORS: &[&str] = &[
    "ValidationException",
    "TableNotFoundException",
    "PointInTimeRecoveryUnavailableException",
    "LimitExceededException",
    "InvalidExportTimeException",
    "ExportConflictException",
];
const DESCRIBE_EXPORT_ERRORS: &[&str] = &[
    "ValidationException",
    "AccessDeniedException",
    "ExportNotFoundException",
    "LimitExceededException",
];
const LIST_ERRORS: &[&str] = &["ValidationException", "LimitExceededException"];
/// (A token reused for another table name is `ImportConflictException`, as DynamoDB
/// answers, not the `IdempotentParameterMismatchException` its `ClientToken` member's
/// documentation names: the server no longer answers that, so it is not allowed.)
const IMPORT_ERRORS: &[&str] = &[
    "ValidationException",
    "ResourceInUseException",
    "LimitExceededException",
    "ImportConflictException",
];
const DESCRIBE_IMPORT_ERRORS: &[&str] = &["ValidationException", "ImportNotFoundException"];

/// The bucket every request names, mostly; `nobucket` is never made.
const BUCKET: &str = "bkt";

/// Runs the requests `bytes` make (see the module's doc for the promises checked).
pub(super) fn transfers(bytes: &[u8]) {
    let mut input = Input::new(bytes);
    let folder = CaseFolder::new();
    let s3 = folder.path().join("s3");
    let mut case = Case::new(&mut input, &folder.path().join("db"), &s3);
    for _ in 0..MAX_REQUESTS {
        if input.is_empty() {
            break;
        }
        match input.below(12) {
            0..=3 => case.import(&mut input),
            4..=6 => case.export(&mut input),
            7 => case.describe(&mut input, "DescribeImport", "ImportArn"),
            8 => case.describe(&mut input, "DescribeExport", "ExportArn"),
            9 => case.list(&mut input, "ListImports", "PageSize"),
            _ => case.list(&mut input, "ListExports", "MaxResults"),
        }
    }
}

/// The S3 folder of one input, under `/dev/shm` when there is one; removed when dropped,
/// and with it those of fuzz processes that are gone (a fuzzer exits without destructors).
struct CaseFolder(PathBuf);

impl CaseFolder {
    fn new() -> CaseFolder {
        use std::sync::atomic::{AtomicU64, Ordering};
        static CASES: AtomicU64 = AtomicU64::new(0);
        static SWEPT: std::sync::Once = std::sync::Once::new();
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        const PREFIX: &str = "tidestore-fuzz-s3-";
        SWEPT.call_once(|| {
            for entry in std::fs::read_dir(&base).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(pid) = name.strip_prefix(PREFIX) else {
                    continue;
                };
                if !Path::new("/proc").join(pid).exists() {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        });
        let case = CASES.fetch_add(1, Ordering::Relaxed);
        let dir = (base.join(format!("{PREFIX}{}", std::process::id()))).join(case.to_string());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("s3").join(BUCKET))
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        CaseFolder(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for CaseFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One input's server, and what the harness knows.
struct Case<'a> {
    server: InProcessServer,
    s3: &'a Path,
    /// The source table's items, by `pk`.
    source: BTreeMap<String, Value>,
    /// The source table's ARN.
    table_arn: String,
    /// When the source table's items were written (epoch seconds): the first and the last.
    written: (u64, u64),
    /// ARNs and tokens the server answered.
    seen: Vec<(&'static str, String)>,
    /// Imports made so far (each one's table and objects have their own names).
    imports: usize,
}

/// Epoch milliseconds now.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl<'a> Case<'a> {
    fn new(input: &mut Input<'_>, db_dir: &Path, s3: &'a Path) -> Case<'a> {
        let now = now_ms();
        let start = now - 2 * 60 * 60 * 1000;
        let clock = Arc::new(ManualClock::new(Timestamp(start)));
        let options = Options::default()
            .durability(Durability::Buffered)
            .clock(clock.clone())
            .background_worker(false)
            .snapshot_on_close(false);
        let db = Database::open_with(db_dir, options).expect("a database opens");
        let table = CreateTableInput::new("src")
            .hash_key("pk", ScalarAttributeType::S)
            .pay_per_request();
        let table_arn = db.create_table(table).expect("created").table_arn;
        let mut pitr = UpdateContinuousBackupsInput::new("src", true);
        pitr.point_in_time_recovery_specification
            .recovery_period_in_days = None;
        db.update_continuous_backups(pitr).expect("enabled");
        let mut source = BTreeMap::new();
        let first = start / 1000 + 60;
        for i in 0..input.below(MAX_SOURCE_ITEMS + 1) {
            clock.advance(60_000);
            let item = json!({"pk": {"S": format!("s{i}")}, "n": {"N": i.to_string()}});
            let typed: Item = serde_json::from_value(item.clone()).expect("an item");
            db.put_item(PutItemInput::new("src", typed)).expect("put");
            source.insert(format!("s{i}"), item);
        }
        let last = clock.now().0 / 1000;
        clock.set(Timestamp(now));
        let server =
            InProcessServer::with_s3_dir(db, Some(s3.to_path_buf())).expect("the server's records");
        Case {
            server,
            s3,
            source,
            table_arn,
            written: (first, last),
            seen: Vec::new(),
            imports: 0,
        }
    }

    /// Calls `operation`; checks an error's name against `allowed`.
    fn call(
        &mut self,
        operation: &str,
        body: Value,
        allowed: &[&str],
        malformed: bool,
    ) -> Option<Value> {
        let shown = body.to_string();
        match self.server.call(operation, body) {
            Ok(answer) => {
                assert!(
                    answer.is_object(),
                    "{operation}: an answer that is no object"
                );
                self.remember(&answer);
                Some(answer)
            }
            Err(error) => {
                documented_error(&error, allowed, malformed, || {
                    format!("{operation} {shown}")
                });
                None
            }
        }
    }

    fn remember(&mut self, value: &Value) {
        match value {
            Value::Object(members) => {
                for (name, value) in members {
                    let kind = match name.as_str() {
                        "ImportArn" => "ImportArn",
                        "ExportArn" => "ExportArn",
                        "NextToken" => "NextToken",
                        _ => {
                            self.remember(value);
                            continue;
                        }
                    };
                    if let Some(text) = value.as_str() {
                        if self.seen.len() < 32 {
                            self.seen.push((kind, text.to_owned()));
                        }
                    }
                }
            }
            Value::Array(values) => values.iter().for_each(|v| self.remember(v)),
            _ => {}
        }
    }

    fn seen_or(
        &self,
        input: &mut Input<'_>,
        kind: &str,
        made_up: impl FnOnce(&mut Input<'_>) -> String,
    ) -> String {
        let matching: Vec<&String> = (self.seen.iter())
            .filter(|(k, _)| *k == kind)
            .map(|(_, v)| v)
            .collect();
        if !matching.is_empty() && input.chance(85) {
            return matching[input.below(matching.len())].clone();
        }
        made_up(input)
    }

    /// An `ImportTable` over objects written first, into a new table of a generated shape
    /// (`import_objects.rs`); waits for it, and checks that an import of undamaged objects
    /// by an unmutated request ends as the model says.
    fn import(&mut self, input: &mut Input<'_>) {
        self.imports += 1;
        let n = self.imports;
        let format = input.pick(&["DYNAMODB_JSON", "ION", "CSV"]);
        let compression = input.pick(&["NONE", "GZIP", "ZSTD"]);
        let schema = ImportSchema::generated(input);
        let csv = CsvLayout::generated(input, schema);
        let prefix = format!("in{n}/");
        let mut model = ImportModel::default();
        let mut damaged = false;
        let objects = 1 + input.below(MAX_OBJECTS);
        for object in 0..objects {
            let items: Vec<_> = (0..input.below(MAX_OBJECT_ITEMS + 1))
                .map(|_| model.next_item(input, schema, format == "CSV"))
                .collect();
            let mut bytes = encoded(format, &csv, &items);
            let mut named = compression;
            if input.rarely(15) {
                // Written uncompressed or compressed otherwise than the request says.
                named = input.pick(&["NONE", "GZIP", "ZSTD"]);
                damaged |= named != compression;
            }
            bytes = compressed(named, bytes);
            if input.rarely(12) {
                damage(input, &mut bytes);
                damaged = true;
            }
            let path = self.s3.join(BUCKET).join(&prefix);
            std::fs::create_dir_all(&path).expect("the object's folder");
            std::fs::write(path.join(format!("part-{object}")), bytes).expect("the object");
        }
        let table = format!("imp{n}");
        let mut body = json!({
            "S3BucketSource": {"S3Bucket": BUCKET, "S3KeyPrefix": prefix},
            "InputFormat": format,
            "TableCreationParameters": schema.creation_parameters(&table),
        });
        if compression != "NONE" || input.rarely(30) {
            body["InputCompressionType"] = json!(compression);
        }
        if format == "CSV" {
            if let Some(options) = csv.options(input) {
                body["InputFormatOptions"] = options;
            }
        }
        // DynamoDB requires a ClientToken (the SDKs always send one): mostly one of its own,
        // sometimes one given before, now and then none, which is refused.
        let tokenless = input.rarely(8);
        if !tokenless {
            let token = match input.rarely(20) {
                // A token given before answers that import, not this one.
                true => {
                    damaged = true;
                    format!("token-{}", input.below(3))
                }
                false => format!("import-{n}"),
            };
            body["ClientToken"] = json!(token);
        }
        let malformed = mutate(input, &mut body);
        let exact = !damaged && !tokenless && !malformed.changed && model.written > 0;
        let refused_without_token = tokenless && !malformed.changed;
        let Some(answer) = self.call("ImportTable", body, IMPORT_ERRORS, malformed.wrong_type)
        else {
            assert!(!exact, "an import of undamaged objects was refused");
            return;
        };
        assert!(
            !refused_without_token,
            "an ImportTable without a ClientToken was accepted: {answer}"
        );
        let arn = answer["ImportTableDescription"]["ImportArn"]
            .as_str()
            .unwrap_or_else(|| panic!("ImportTable answered no ImportArn: {answer}"))
            .to_owned();
        let description = self.settled("DescribeImport", "ImportArn", &arn);
        let description = &description["ImportTableDescription"];
        if !exact {
            return;
        }
        let shown = || format!("{schema:?} {csv:?} {description}");
        // The guide: invalid items are skipped, and then the import is FAILED with
        // ItemValidationError, its table keeping the valid items.
        let (status, failure) = match model.invalid {
            0 => ("COMPLETED", Value::Null),
            _ => ("FAILED", json!("ItemValidationError")),
        };
        assert_eq!(description["ImportStatus"], status, "{}", shown());
        assert_eq!(description["FailureCode"], failure, "{}", shown());
        assert_eq!(
            description["ErrorCount"],
            json!(model.invalid),
            "{}",
            shown()
        );
        assert_eq!(
            description["ImportedItemCount"],
            json!(model.written - model.invalid),
            "{}",
            shown()
        );
        assert_eq!(
            description["ProcessedItemCount"],
            json!(model.written),
            "{}",
            shown()
        );
        let scanned = self.scan(&table);
        assert!(
            scanned == model.items,
            "the table {table} does not hold exactly the last valid item of each key its objects held: {}\nheld {:?}\nexpected {:?}",
            shown(),
            scanned,
            model.items
        );
    }

    /// Every item of `table`, by key (`pk`, and `sk` when it has one), read by consistent
    /// `Scan` pages.
    fn scan(&mut self, table: &str) -> BTreeMap<ModelKey, Item> {
        let mut items = BTreeMap::new();
        let mut start: Option<Value> = None;
        loop {
            let mut body = json!({"TableName": table, "ConsistentRead": true});
            if let Some(key) = start.take() {
                body["ExclusiveStartKey"] = key;
            }
            let page = (self.server.call("Scan", body))
                .unwrap_or_else(|e| panic!("the Scan of {table} failed: {e}"));
            for item in page["Items"].as_array().into_iter().flatten() {
                let pk = item["pk"]["S"].as_str().unwrap_or_default().to_owned();
                let sk = item["sk"]["N"].as_str().map(str::to_owned);
                let typed: Item = serde_json::from_value(item.clone())
                    .unwrap_or_else(|e| panic!("a scanned item that is no item ({e}): {item}"));
                items.insert((pk, sk), typed);
            }
            match page.get("LastEvaluatedKey") {
                Some(key) => start = Some(key.clone()),
                None => return items,
            }
        }
    }

    /// Polls `describe` on `arn` until it leaves IN_PROGRESS; its last answer.
    fn settled(&mut self, describe: &str, member: &str, arn: &str) -> Value {
        // Counted as the process runs: a pause of it is no hang (`running_time.rs`).
        let mut waited = RunningTime::start();
        let mut pause = Duration::from_micros(50);
        loop {
            let answer = (self.server.call(describe, json!({ member: arn })))
                .unwrap_or_else(|e| panic!("{describe} of {arn}, just answered, failed: {e}"));
            let description = answer
                .as_object()
                .and_then(|a| a.values().next())
                .cloned()
                .unwrap_or_default();
            let status_member = if describe == "DescribeImport" {
                "ImportStatus"
            } else {
                "ExportStatus"
            };
            if description[status_member] != "IN_PROGRESS" {
                return answer;
            }
            assert!(
                waited.tick() < SETTLE_TIMEOUT,
                "hang: {arn} still IN_PROGRESS after {SETTLE_TIMEOUT:?}"
            );
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(5));
        }
    }

    /// An `ExportTableToPointInTime` of `src`; waits for it, checks a COMPLETED one.
    fn export(&mut self, input: &mut Input<'_>) {
        let incremental = input.chance(30);
        let mut body = json!({
            "TableArn": self.table_arn,
            "S3Bucket": if input.rarely(5) { "nobucket" } else { BUCKET },
            "ExportFormat": input.pick(&["DYNAMODB_JSON", "ION"]),
        });
        if input.rarely(70) {
            body["S3Prefix"] = json!(input.pick(&["ex", "ex/a", "e x", "ex/"]));
        }
        let (first, last) = self.written;
        let now = now_ms() / 1000;
        if incremental {
            body["ExportType"] = json!("INCREMENTAL_EXPORT");
            let from = first.saturating_sub(input.below(3) as u64 * 60);
            let to = match input.below(4) {
                0 => None,
                1 => Some(from + 15 * 60),
                2 => Some(last + 60),
                _ => Some(from + input.below(3600) as u64),
            };
            let mut spec = json!({"ExportFromTime": from});
            if let Some(to) = to {
                spec["ExportToTime"] = json!(to);
            }
            if input.chance(50) {
                spec["ExportViewType"] = json!(input.pick(&["NEW_IMAGE", "NEW_AND_OLD_IMAGES"]));
            }
            body["IncrementalExportSpecification"] = spec;
        } else if input.rarely(50) {
            body["ExportType"] = json!("FULL_EXPORT");
        }
        let whole_now = !incremental && input.chance(70);
        if !whole_now {
            let at = match input.below(3) {
                0 => first,
                1 => now,
                _ => first.saturating_sub(input.below(10_000) as u64),
            };
            body["ExportTime"] = json!(at);
        }
        let filtered = input.rarely(25);
        if filtered {
            body["FilterSpecification"] = match input.below(4) {
                0 => json!({"KeyConditionExpression": "pk = :p",
                            "ExpressionAttributeValues": {":p": {"S": "s1"}}}),
                1 => json!({"FilterExpression": "n > :n",
                            "ExpressionAttributeValues": {":n": {"N": "2"}}}),
                2 => {
                    json!({"ProjectionExpression": "#k", "ExpressionAttributeNames": {"#k": "pk"}})
                }
                _ => json!({"FilterExpression": input.text(24)}),
            };
        }
        if input.rarely(15) {
            body["ClientToken"] = json!(format!("token-{}", input.below(3)));
        }
        let malformed = mutate(input, &mut body);
        let Some(answer) = self.call(
            "ExportTableToPointInTime",
            body.clone(),
            EXPORT_ERRORS,
            malformed.wrong_type,
        ) else {
            return;
        };
        let arn = answer["ExportDescription"]["ExportArn"]
            .as_str()
            .unwrap_or_else(|| panic!("an export answered no ExportArn: {answer}"))
            .to_owned();
        let description = self.settled("DescribeExport", "ExportArn", &arn);
        let description = &description["ExportDescription"];
        if description["ExportStatus"] != "COMPLETED" {
            return;
        }
        let counted = self.check_export_files(description);
        let (repeat, plain) = (body.get("ClientToken").is_some(), !malformed.changed);
        if whole_now && !filtered && !repeat && plain {
            assert_eq!(
                counted,
                self.source.len() as u64,
                "a FULL export of the table now does not hold its items: {description}"
            );
        }
    }

    /// An export's objects exist: the summary manifest, the manifest of files, each data
    /// file; the files' item counts sum to `ItemCount`. Returns that sum.
    fn check_export_files(&self, description: &Value) -> u64 {
        let bucket = self.s3.join(BUCKET);
        let read = |key: &str| -> Vec<u8> {
            std::fs::read(bucket.join(key)).unwrap_or_else(|e| {
                panic!("a COMPLETED export lists {key}, which cannot be read ({e}): {description}")
            })
        };
        let summary_key = description["ExportManifest"]
            .as_str()
            .unwrap_or_else(|| panic!("a COMPLETED export without ExportManifest: {description}"));
        let summary: Value = serde_json::from_slice(&read(summary_key))
            .unwrap_or_else(|e| panic!("the summary manifest is not JSON: {e}"));
        let files_key = summary["manifestFilesS3Key"]
            .as_str()
            .unwrap_or_else(|| panic!("a summary manifest without manifestFilesS3Key: {summary}"));
        let files = read(files_key);
        let mut counted = 0;
        for line in String::from_utf8_lossy(&files).lines() {
            let entry: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("a line of {files_key} is not JSON ({e}): {line}"));
            let data_key = entry["dataFileS3Key"]
                .as_str()
                .unwrap_or_else(|| panic!("a line of {files_key} without dataFileS3Key: {line}"));
            read(data_key);
            counted += entry["itemCount"].as_u64().unwrap_or_default();
        }
        assert_eq!(
            Some(counted),
            description["ItemCount"].as_u64(),
            "the data files' item counts against ItemCount: {description}"
        );
        counted
    }

    /// A `DescribeImport` or `DescribeExport` of an ARN answered earlier, or one made up.
    fn describe(&mut self, input: &mut Input<'_>, operation: &str, member: &'static str) {
        let table_arn = self.table_arn.clone();
        let arn = self.seen_or(input, member, |input| match input.below(3) {
            0 => format!("{table_arn}/import/01700000000000-abcdef12"),
            1 => format!("{table_arn}/export/01700000000000-abcdef12"),
            _ => input.text(48),
        });
        let mut body = json!({ member: arn });
        let malformed = mutate(input, &mut body);
        let allowed = match operation {
            "DescribeImport" => DESCRIBE_IMPORT_ERRORS,
            _ => DESCRIBE_EXPORT_ERRORS,
        };
        self.call(operation, body, allowed, malformed.wrong_type);
    }

    /// A `ListImports` or `ListExports` page, by the table or not, from a token answered
    /// earlier or one made up.
    fn list(&mut self, input: &mut Input<'_>, operation: &str, size_member: &str) {
        let mut body = json!({});
        if input.chance(40) {
            body["TableArn"] = json!(self.table_arn);
        }
        if input.chance(50) {
            body[size_member] = json!(input.below(30));
        }
        if input.chance(40) {
            body["NextToken"] = json!(self.seen_or(input, "NextToken", |input| input.text(32)));
        }
        let malformed = mutate(input, &mut body);
        self.call(operation, body, LIST_ERRORS, malformed.wrong_type);
    }
}

/// Damages an object: cut, a byte changed, or garbage added.
fn damage(input: &mut Input<'_>, bytes: &mut Vec<u8>) {
    match input.below(3) {
        0 => {
            let at = input.below(bytes.len() + 1);
            bytes.truncate(at);
        }
        1 if !bytes.is_empty() => {
            let at = input.below(bytes.len());
            bytes[at] ^= 1 << (input.byte() % 8);
        }
        _ => bytes.extend(input.bytes(64)),
    }
}

/// What [`mutate`] did to a request.
struct Mutated {
    /// Some member was dropped, added or changed.
    changed: bool,
    /// Some member now has a JSON type its shape does not take.
    wrong_type: bool,
}

/// Sometimes mutates `body` as the other harnesses mutate their requests: a member (at any
/// depth) dropped, given a value of the wrong type, or a string of it changed; or a member
/// the model does not define added.
fn mutate(input: &mut Input<'_>, body: &mut Value) -> Mutated {
    let mut mutated = Mutated {
        changed: false,
        wrong_type: false,
    };
    if !input.rarely(20) {
        return mutated;
    }
    mutated.changed = true;
    // Walk down a few levels, to a JSON pointer.
    let mut pointer = String::new();
    let mut at: &Value = body;
    for _ in 0..input.below(3) {
        let (step, next) = match at {
            Value::Object(members) if !members.is_empty() => {
                let (key, value) = members
                    .iter()
                    .nth(input.below(members.len()))
                    .expect("in range");
                (key.replace('~', "~0").replace('/', "~1"), value)
            }
            Value::Array(values) if !values.is_empty() => {
                let i = input.below(values.len());
                (i.to_string(), &values[i])
            }
            _ => break,
        };
        if !(next.is_object() || next.is_array()) {
            break;
        }
        pointer.push('/');
        pointer.push_str(&step);
        at = next;
    }
    let Some(Value::Object(members)) = body.pointer_mut(&pointer) else {
        return mutated;
    };
    let key = members
        .keys()
        .nth(input.below(members.len().max(1)))
        .cloned();
    match (input.below(4), key) {
        (0, Some(key)) => {
            members.remove(&key);
        }
        (1, Some(key)) => {
            let wrong = match input.below(6) {
                0 => json!(7),
                1 => json!(null),
                2 => json!([1]),
                3 => json!({"x": 1}),
                4 => json!(true),
                _ => json!("s"),
            };
            mutated.wrong_type = true;
            members.insert(key, wrong);
        }
        (2, Some(key)) => {
            if let Some(Value::String(text)) = members.get_mut(&key) {
                let garbage = input.text(12);
                match input.below(3) {
                    0 => text.clear(),
                    1 => text.push_str(&garbage),
                    _ => *text = garbage,
                }
            }
        }
        _ => {
            // Inside a map of typed values (`ExpressionAttributeValues`), a string is of the
            // wrong type.
            mutated.wrong_type = !pointer.is_empty();
            members.insert("Unknown".into(), json!(input.text(8)));
        }
    }
    mutated
}
