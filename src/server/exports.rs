//! `ExportTableToPointInTime`, `DescribeExport` and `ListExports`: DynamoDB's export to S3,
//! written to a local directory standing in for S3 (`tidestore serve --s3-dir DIR`): the
//! bucket `B` is the folder `DIR/B` (it must exist, as a bucket must), and the files go under
//! `DIR/B/{S3Prefix}/AWSDynamoDB/{ExportId}/` in DynamoDB's layout (`export.rs` draws it).
//!
//! Status flow, as DynamoDB's: the request is checked (the table, its point-in-time
//! recovery, the export time inside its window, the bucket's name and the prefix), its record
//! written durably as IN_PROGRESS, and the answer sent at once; the export runs on a thread
//! of its own through the library's export (which never holds up a writer), and its record
//! becomes COMPLETED (with `ItemCount`, `BilledSizeBytes`, `ExportManifest`) or FAILED
//! (`FailureCode`: `S3NoSuchBucket` for a bucket folder that does not exist, as DynamoDB
//! says it, else the exception's name; `FailureMessage`). A `ClientToken` makes the request
//! idempotent for 8 hours after the export ends; the same token with other members is
//! `ExportConflictException`, as the model says.
//!
//! `ExportType` INCREMENTAL_EXPORT takes its `IncrementalExportSpecification` as the library
//! does (`export.rs`), checked before the answer; a window without `ExportToTime` ends at
//! the latest restorable moment of the request, and the record names that end. Its
//! description has the specification in place of `ExportTime`.
//!
//! `FilterSpecification` is the library's (`export/filter.rs`): its expressions are checked
//! against the table's key before the answer (a bad one is a ValidationException with
//! Query's and Scan's messages, never a FAILED export), and the description carries it as
//! given, its numbers in canonical form. The record keeps it there only, not again in the
//! request a repeat of its `ClientToken` is compared with (records an earlier build wrote
//! with it in both are read and upgraded: `filter_in_description_only`).
//!
//! `ExportFormat` ION writes the data files in Amazon Ion text (`data/*.ion.gz`,
//! `outputFormat` "ION"), as `export.rs` and `format/ion.rs` draw them.
//!
//! Refused by name (ValidationException): `S3SseAlgorithm` and `S3SseKmsKeyId` (the files are
//! not encrypted), once the model's bounds of each are met, and an `S3BucketOwner` other than
//! the server's account.
//!
//! Records live in `EXPORTS` in the database directory, in the layout of `IMPORTS`
//! (`imports/records.rs`) with the magic `TSEXPORT`; a damaged one is set aside on a start, and
//! the server starts without the records. A stop cancels the exports still running: each
//! stops at its next block, removes its folder and ends FAILED before the database closes.
//! A record left IN_PROGRESS all the same (a crash) is FAILED at the next start, never
//! COMPLETED: its files may be half written (an export's summary manifest is written last).
//!
//! ```text
//!   EXPORTS  [ magic "TSEXPORT" (8) | version u32 LE (4) | crc32c of payload u32 LE (4) |
//!              payload: JSON array of records (at most MAX_FILE_LEN - 16 bytes) ]
//! ```

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::imports::{
    bucket_refusal, in_bucket, now_ms, page, paging, prune, seconds, without_client_token, Failure,
    Record, Records, RecordsFile,
};
use super::operations::input;
use super::protocol::WireError;
use super::Call;
use crate::api::exports::{
    ExportFormat, ExportTableToPointInTimeInput, ExportType, ExportViewType, FilterSpecification,
    IncrementalExportSpecification,
};
use crate::db::Database;
use crate::error::Error;
use crate::model::clock::Timestamp;

/// The file of export records, in the database directory.
pub(crate) const EXPORTS_FILE: &str = "EXPORTS";
const EXPORTS: RecordsFile = RecordsFile {
    name: EXPORTS_FILE,
    magic: b"TSEXPORT",
    arn: "ExportArn",
    status: "ExportStatus",
    upgrade: filter_in_description_only,
};
/// The most exports running at once (each a thread replaying a table).
pub const MAX_RUNNING_EXPORTS: usize = 8;
/// Why an export a stop or a crash left IN_PROGRESS failed.
const STOPPED: &str = "the server stopped before the export finished";
/// The shortest `ExportArn` the API accepts (the model's `ExportArn`).
const MIN_EXPORT_ARN_LEN: usize = 37;
/// The longest `ExportArn` the API accepts.
const MAX_EXPORT_ARN_LEN: usize = 1024;

/// The server's exports: the directory standing in for S3, the records, the running threads.
pub(crate) struct Exports {
    s3_dir: Option<PathBuf>,
    account: String,
    records: Records,
}

/// The records, threads and stop of the exports.
impl std::ops::Deref for Exports {
    type Target = Records;

    fn deref(&self) -> &Records {
        &self.records
    }
}

/// A request's members as an export's record keeps them, for a repeat of its `ClientToken`
/// to be compared with: all but `ClientToken` and `FilterSpecification`. The filter is kept
/// once, in the description (`FilterSpecification`, as [`FilterSpecification`] reads it:
/// canonical numbers), and a repeat's is compared with that ([`repeated`]).
fn recorded_request(body: &Value) -> Value {
    let mut request = without_client_token(body);
    if let Value::Object(members) = &mut request {
        members.remove("FilterSpecification");
    }
    request
}

/// Upgrades an export record written before the filter was kept once: those kept it twice,
/// as sent in the record's request and canonical in its description. The request's copy
/// goes, and the record is written in the new form at the next change of the records.
///
/// NB: the file's format version stays 1: its payload is the same JSON array of records,
/// which this build reads in both forms. (An older build reading a record in the new form
/// answers a repeat of its `ClientToken` with a filter `ExportConflictException`, for the
/// 8 hours a token holds; a new version would instead stop its start.)
fn filter_in_description_only(record: &mut Record) {
    if let Value::Object(members) = &mut record.request {
        members.remove("FilterSpecification");
    }
}

/// Ends `record` with `status` at `end_ms`.
fn finish(record: &mut Record, status: &str, end_ms: u64) {
    record.end_ms = Some(end_ms);
    record
        .description
        .insert("ExportStatus".into(), json!(status));
    record.description.insert("EndTime".into(), seconds(end_ms));
}

/// Ends `record` FAILED with `code` and `message`.
fn fail(record: &mut Record, code: &str, message: &str, end_ms: u64) {
    finish(record, "FAILED", end_ms);
    record.description.insert("FailureCode".into(), json!(code));
    record
        .description
        .insert("FailureMessage".into(), json!(message));
}

impl Exports {
    /// Loads the records of the database `db`; those a stop or crash left IN_PROGRESS are
    /// FAILED (their files may be half written).
    pub(crate) fn open(
        db: &Database,
        s3_dir: Option<PathBuf>,
        account: String,
    ) -> std::io::Result<Exports> {
        let settle = |record: &mut Record| fail(record, "InternalServerError", STOPPED, now_ms());
        Ok(Exports {
            s3_dir,
            account,
            records: Records::open(db, &EXPORTS, settle)?,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ExportRequest {
    table_arn: String,
    export_time: Option<Timestamp>,
    client_token: Option<String>,
    s3_bucket: String,
    s3_bucket_owner: Option<String>,
    s3_prefix: Option<String>,
    s3_sse_algorithm: Option<String>,
    s3_sse_kms_key_id: Option<String>,
    export_format: Option<ExportFormat>,
    export_type: Option<ExportType>,
    incremental_export_specification: Option<IncrementalExportSpecification>,
    filter_specification: Option<FilterSpecification>,
}

/// `ExportTableToPointInTime`.
pub(super) fn export_table_to_point_in_time(
    call: &Call<'_>,
    body: Value,
) -> Result<Value, WireError> {
    let exports = &call.state.exports;
    let Some(s3_dir) = &exports.s3_dir else {
        return Err(WireError::validation(
            "tidestore serve has no S3 directory to export to: start it with --s3-dir DIR, and ExportTableToPointInTime writes under DIR/{S3Bucket}",
        ));
    };
    let request_value = recorded_request(&body);
    if let Some(refusal) = export_time_before_the_epoch(&body) {
        return Err(refusal.into());
    }
    let request: ExportRequest = input(body)?;
    crate::model::names::check_length(&request.table_arn, "tableArn", 1, 1024)?;
    if let Some(key) = &request.s3_sse_kms_key_id {
        // The model's bounds first, as for any member (ScyllaDB's
        // test_export_setting_fields_to_weird_values_or_skipping_fail_for_S3SseKmsKeyId, run
        // against AWS, wants an empty key refused naming s3SseKmsKeyId).
        crate::model::names::check_length(key, "s3SseKmsKeyId", 1, 2048)?;
    }
    // The files are written unencrypted: encryption is refused by name rather than ignored.
    // (The model's enum of S3SseAlgorithm was checked before the request got here.)
    for (member, given) in [
        ("S3SseAlgorithm", request.s3_sse_algorithm.is_some()),
        ("S3SseKmsKeyId", request.s3_sse_kms_key_id.is_some()),
    ] {
        if given {
            return Err(WireError::validation(format!(
                "tidestore does not support the parameter {member} of ExportTableToPointInTime"
            )));
        }
    }
    if !request.table_arn.starts_with("arn:") {
        // DynamoDB refuses a TableArn that is no ARN at all as a ValidationException naming
        // TableArn, not as a table it did not find (ScyllaDB's
        // test_export_setting_fields_to_weird_values_or_skipping_fail, run against it). Its
        // exact words for this operation are in no reference here: these are the ones it
        // answers a tagging operation's ResourceArn with (`model::names`).
        return Err(WireError::validation(format!(
            "Invalid TableArn: Invalid ResourceArn provided as input {}",
            request.table_arn
        )));
    }
    if request.s3_prefix.as_deref() == Some("") {
        // The model gives S3Prefix no minimum length, yet DynamoDB refuses an empty one
        // (the same ScyllaDB test); worded as the model's other length limits are.
        crate::model::names::check_length("", "s3Prefix", 1, 1024)?;
    }
    if let Some(refusal) = bucket_refusal(&request.s3_bucket, "s3Bucket") {
        return Err(WireError::validation(refusal));
    }
    if let Some(refusal) =
        crate::export::prefix_refusal(request.s3_prefix.as_deref().unwrap_or_default())
    {
        return Err(WireError::validation(refusal));
    }
    if let Some(owner) = &request.s3_bucket_owner {
        if *owner != exports.account {
            return Err(WireError::validation(format!(
                "tidestore writes only its own account's buckets: S3BucketOwner must be {} (the server's --account) or left out, not {owner:?}",
                exports.account
            )));
        }
    }
    // (Any other value was refused against the model's enum before the request got here.)
    let format = request.export_format.unwrap_or_default();
    let mut library = ExportTableToPointInTimeInput::new(&request.table_arn, &request.s3_bucket);
    library.export_format = Some(format);
    library.export_time = request.export_time;
    library.export_type = request.export_type;
    library.incremental_export_specification = request.incremental_export_specification.clone();
    let window = crate::export::incremental_window(&library)?;
    let export_type = library.export_type.unwrap_or(ExportType::FullExport);
    if let Some(token) = &request.client_token {
        if token.is_empty() || token.contains('$') {
            return Err(WireError::validation(format!(
                "1 validation error detected: Value '{token}' at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[^\\$]+$"
            )));
        }
    }
    // A repeat is answered with its export whatever changed since (the table gone, the
    // moment out of the window): an idempotent call has the effect of one. (Asked again
    // below, under the lock held until the record is written, for a repeat sent at once.)
    if let Some(answer) = repeated(&exports.lock(), &request, &request_value, now_ms()) {
        return answer;
    }
    // The table and its window, answered now as DynamoDB answers them; the export itself
    // checks them again when it runs.
    let not_found = || Error::TableNotFound(format!("Table not found: {}", request.table_arn));
    let table_arns_here = format!(
        "arn:aws:dynamodb:{}:{}:table/",
        call.state.region, exports.account
    );
    let names_a_table_here = |arn: &str| {
        arn.strip_prefix(&table_arns_here)
            .is_some_and(|name| !name.contains('/'))
    };
    let table = call
        .db
        .describe_table(&request.table_arn)
        .map_err(|e| match e {
            Error::ResourceNotFound(_) => not_found(),
            // A table ARN of this region and account whose name no table can have names no
            // table: DynamoDB answers TableNotFoundException, not the name's refusal
            // (ScyllaDB's test_export_nonexistent_table, run against it, names
            // `alternator_keyspace@nonexistent_table_xyz`).
            Error::Validation(_) if names_a_table_here(&request.table_arn) => not_found(),
            other => other,
        })?;
    // The filter is checked now, as a Query's expressions are: a bad one is refused, never
    // an export that fails later.
    if let Some(spec) = &request.filter_specification {
        call.db.check_export_filter(&table.table_arn, spec)?;
    }
    let pitr = call
        .db
        .describe_continuous_backups(&table.table_name)?
        .continuous_backups_description
        .point_in_time_recovery_description;
    let (Some(earliest), Some(latest)) = (
        pitr.earliest_restorable_date_time,
        pitr.latest_restorable_date_time,
    ) else {
        return Err(Error::PointInTimeRecoveryUnavailable(format!(
            "Point in time recovery is not enabled for table '{}'",
            table.table_name
        ))
        .into());
    };
    let now = now_ms();
    // Now by default: the latest restorable moment, which is past the server's clock when
    // the log has committed a write after it (a restore's or another export's fence moves
    // the next commit a millisecond on; a clock can step back), so that every write
    // acknowledged before the call is in, as the library's export of now holds it.
    let latest = latest.max(Timestamp(now));
    let outside = |what: &str, time: Timestamp| {
        Error::InvalidExportTime(format!(
            "{what} {} is outside the recovery window of table {}: from {} to {}",
            time.to_iso8601(),
            table.table_name,
            earliest.to_iso8601(),
            latest.to_iso8601()
        ))
    };
    // An incremental export's window, its end fixed now when not given, so that the
    // export runs over the window its answer names.
    let window = match window {
        Some((from, to, view)) => {
            let to = to.unwrap_or(latest);
            crate::export::check_period(from, to)?;
            if from < earliest || from > latest {
                return Err(outside("ExportFromTime", from).into());
            }
            if to > latest {
                return Err(outside("ExportToTime", to).into());
            }
            Some(IncrementalExportSpecification::new(from, to).export_view_type(view))
        }
        None => None,
    };
    let export_time = request.export_time.unwrap_or(latest);
    if window.is_none() && (export_time < earliest || export_time > latest) {
        return Err(outside("ExportTime", export_time).into());
    }

    let mut state = exports.lock();
    if exports.stop.load(Ordering::SeqCst) {
        return Err(Error::Io {
            context: "ExportTableToPointInTime".into(),
            source: std::io::Error::other("the server is stopping: no export starts"),
        }
        .into());
    }
    if let Some(answer) = repeated(&state, &request, &request_value, now) {
        return answer;
    }
    state.running.retain(|t| !t.is_finished());
    if state.running.len() >= MAX_RUNNING_EXPORTS {
        return Err(Error::LimitExceeded(format!(
            "tidestore runs at most {MAX_RUNNING_EXPORTS} exports at once"
        ))
        .into());
    }

    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let export_id = format!("{now:014}-{}", &suffix[..8]);
    let export_arn = format!("{}/export/{export_id}", table.table_arn);
    let mut description = Map::new();
    description.insert("ExportArn".into(), json!(export_arn));
    description.insert("ExportStatus".into(), json!("IN_PROGRESS"));
    description.insert("StartTime".into(), seconds(now));
    description.insert("TableArn".into(), json!(table.table_arn));
    description.insert("TableId".into(), json!(table.table_id));
    match &window {
        // (The window is the export's moment: no ExportTime beside it.)
        Some(spec) => {
            let time = |t: Option<Timestamp>| t.map(|t| seconds(t.0));
            description.insert(
                "IncrementalExportSpecification".into(),
                json!({
                    "ExportFromTime": time(spec.export_from_time),
                    "ExportToTime": time(spec.export_to_time),
                    "ExportViewType": spec.export_view_type.map(ExportViewType::as_str),
                }),
            );
        }
        None => {
            description.insert("ExportTime".into(), seconds(export_time.0));
        }
    }
    if let Some(token) = &request.client_token {
        description.insert("ClientToken".into(), json!(token));
    }
    description.insert("S3Bucket".into(), json!(request.s3_bucket));
    if let Some(owner) = &request.s3_bucket_owner {
        description.insert("S3BucketOwner".into(), json!(owner));
    }
    if let Some(prefix) = &request.s3_prefix {
        description.insert("S3Prefix".into(), json!(prefix));
    }
    description.insert("ExportFormat".into(), json!(format.as_str()));
    // Only when the request names it: DynamoDB describes an export of the default type
    // without `ExportType` (ScyllaDB's test_export_basic, run against DynamoDB, checks
    // that), while ListExports' summaries always carry it.
    if request.export_type.is_some() {
        description.insert("ExportType".into(), json!(export_type.as_str()));
    }
    // As given (the record keeps it, so a restart's DescribeExport still shows it).
    if let Some(spec) = &request.filter_specification {
        description.insert("FilterSpecification".into(), json!(spec));
    }
    state.records.push(Record {
        description: description.clone(),
        request: request_value,
        start_ms: now,
        end_ms: None,
    });
    prune(&mut state.records, now);
    if let Err(e) = exports.persist(&mut state) {
        state.records.retain(|r| r.arn() != export_arn);
        return Err(e.into());
    }

    library.table_arn = table.table_arn;
    library.export_id = Some(export_id);
    library.s3_prefix = request.s3_prefix;
    library.filter_specification = request.filter_specification;
    match window {
        Some(spec) => library.incremental_export_specification = Some(spec),
        None => library.export_time = Some(export_time),
    }
    let job = Job {
        db: call.db.clone(),
        exports: Arc::clone(exports),
        export_arn: export_arn.clone(),
        bucket_dir: s3_dir.join(&request.s3_bucket),
        input: library,
        stop: Arc::clone(&exports.stop),
    };
    let thread = std::thread::Builder::new()
        .name("tidestore-export".into())
        .spawn(move || job.run());
    match thread {
        Ok(thread) => state.running.push(thread),
        Err(e) => {
            // The caller is told the export failed to start: it must not be listed.
            state.records.retain(|r| r.arn() != export_arn);
            if let Err(e) = exports.persist(&mut state) {
                tracing::warn!(error = %e, "an export that did not start is still recorded");
            }
            return Err(Error::Io {
                context: "starting an export".into(),
                source: e,
            }
            .into());
        }
    }
    Ok(json!({ "ExportDescription": description }))
}

/// The refusal of an `ExportTime` before the Unix epoch (a negative number of seconds):
/// DynamoDB answers it as a moment outside the table's recovery window,
/// `InvalidExportTimeException` (ScyllaDB's
/// test_export_setting_fields_to_weird_values_or_skipping_fail, run against it), where the
/// timestamp type itself would refuse it as a ValidationException. The words are tidestore's
/// own: DynamoDB's for this case are in no reference here.
fn export_time_before_the_epoch(body: &Value) -> Option<Error> {
    let secs = body.get("ExportTime")?.as_f64()?;
    (secs < 0.0).then(|| {
        Error::InvalidExportTime(format!(
            "ExportTime {secs} is before the Unix epoch, outside every table's recovery window"
        ))
    })
}

/// The answer to a request whose `ClientToken` an export of the last 8 hours holds: that
/// export, or `ExportConflictException` if the rest of the request differs.
fn repeated(
    state: &super::imports::State,
    request: &ExportRequest,
    request_value: &Value,
    now: u64,
) -> Option<Result<Value, WireError>> {
    let token = request.client_token.as_deref()?;
    let earlier =
        (state.records.iter()).find(|r| r.token() == Some(token) && r.holds_token_at(now))?;
    let filter = (request.filter_specification.as_ref()).map(|spec| json!(spec));
    let same = earlier.request == *request_value
        && earlier.description.get("FilterSpecification") == filter.as_ref();
    Some(match same {
        true => Ok(json!({ "ExportDescription": earlier.description })),
        // DynamoDB's words begin "Duplicate request detected" (ScyllaDB's
        // test_export_client_token_* tests, run against it, match on them; its import tests
        // quote "Duplicate request detected with conflicting parameters" for ImportTable).
        false => Err(Error::ExportConflict(
            "Duplicate request detected with conflicting parameters: this ClientToken was used for another export within 8 hours".into(),
        )
        .into()),
    })
}

/// One export, run on its own thread.
struct Job {
    db: Database,
    exports: Arc<Exports>,
    export_arn: String,
    /// The folder standing in for the bucket.
    bucket_dir: PathBuf,
    input: ExportTableToPointInTimeInput,
    stop: Arc<AtomicBool>,
}

impl Job {
    fn run(self) {
        let export =
            || (self.db).export_table_until(self.input.clone(), &self.bucket_dir, &self.stop);
        let outcome = in_bucket(&self.bucket_dir, "exporting", export, Error::message);
        let end = now_ms();
        let mut state = self.exports.lock();
        let Some(record) = (state.records.iter_mut()).find(|r| r.arn() == self.export_arn) else {
            return;
        };
        match outcome {
            Ok(done) => {
                let done = done.export_description;
                finish(record, "COMPLETED", end);
                let d = &mut record.description;
                d.insert("ExportManifest".into(), json!(done.export_manifest));
                d.insert("ItemCount".into(), json!(done.item_count));
                d.insert("BilledSizeBytes".into(), json!(done.billed_size_bytes));
            }
            Err(Failure { code, message }) => fail(record, &code, &message, end),
        }
        if let Err(e) = self.exports.persist(&mut state) {
            tracing::warn!(error = %e, export = %self.export_arn, "the export's record was not written");
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeExportRequest {
    export_arn: String,
}

/// `DescribeExport`.
pub(super) fn describe_export(call: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let DescribeExportRequest { export_arn } = input(body)?;
    crate::model::names::check_length(
        &export_arn,
        "exportArn",
        MIN_EXPORT_ARN_LEN,
        MAX_EXPORT_ARN_LEN,
    )?;
    check_export_arn(&export_arn, &call.state.region, &call.state.exports.account)?;
    let state = call.state.exports.lock();
    match state.records.iter().find(|r| r.arn() == export_arn) {
        Some(record) => Ok(json!({ "ExportDescription": record.description })),
        None => Err(WireError::dynamodb(
            "ExportNotFoundException",
            format!("Export not found: {export_arn}"),
        )),
    }
}

/// Refuses an `ExportArn` DynamoDB would refuse before looking for the export, in its order
/// (ScyllaDB's `test_describe_export_nonexistent` and `test_describe_export_incorrect_arns`,
/// run against AWS): not an ARN at all, `ValidationException` "Invalid Export ARN"; an ARN
/// of another partition, service, region or account, `AccessDeniedException` (the caller
/// may not read that resource; the message is tidestore's wording, AWS's names the IAM
/// principal); an ARN of this account that names no export (a table's),
/// `ValidationException` again.
fn check_export_arn(arn: &str, region: &str, account: &str) -> Result<(), WireError> {
    let invalid = || WireError::validation("Invalid Export ARN".to_owned());
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, arn_region, arn_account, resource] = parts[..] else {
        return Err(invalid());
    };
    if prefix != "arn" {
        return Err(invalid());
    }
    if (partition, service, arn_region, arn_account) != ("aws", "dynamodb", region, account) {
        return Err(WireError::dynamodb(
            "AccessDeniedException",
            format!(
                "User is not authorized to perform: dynamodb:DescribeExport on resource: {arn} (this endpoint serves account {account} in {region})"
            ),
        ));
    }
    match resource
        .strip_prefix("table/")
        .and_then(|r| r.split_once("/export/"))
    {
        Some((table, id)) if !table.is_empty() && !id.is_empty() => Ok(()),
        _ => Err(invalid()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListExportsRequest {
    table_arn: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// `ListExports`: newest first (by start time, then ARN), `MaxResults` (1 to 25) a page.
///
/// `TableArn` names the table that has that ARN now: its exports are listed (by its
/// `TableId`), not those of a table of that name deleted since, and none when no table has
/// it. DynamoDB lists the export of a table deleted while it ran by neither (ScyllaDB's
/// test_export_start_and_delete_table, run against AWS: "Amazon doesn't list the export in
/// ListExports"), while DescribeExport still describes it, as here.
pub(super) fn list_exports(call: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let request: ListExportsRequest = input(body)?;
    let (size, after) = paging(
        ("maxResults", request.max_results),
        request.next_token.as_deref(),
        "ListExports",
    )?;
    // The id of the table the filter names (`None` when no table has that ARN; a table's
    // name is no ARN, and names none).
    let table_id = match request.table_arn.as_deref() {
        None => None,
        Some(arn) if !arn.starts_with("arn:") => Some(None),
        Some(arn) => match call.db.describe_table(arn) {
            Ok(table) => Some(Some(table.table_id)),
            Err(Error::ResourceNotFound(_) | Error::Validation(_)) => Some(None),
            Err(other) => return Err(other.into()),
        },
    };
    let keep = |r: &Record| match &table_id {
        None => true,
        Some(id) => {
            id.is_some() && r.description.get("TableId").and_then(Value::as_str) == id.as_deref()
        }
    };
    let state = call.state.exports.lock();
    let (page, more) = page(&state.records, keep, after, size);
    let summaries: Vec<Value> = page
        .iter()
        .map(|r| {
            json!({
                "ExportArn": r.arn(),
                "ExportStatus": r.status(),
                "ExportType": r.description.get("ExportType").cloned().unwrap_or(json!("FULL_EXPORT")),
            })
        })
        .collect();
    let mut answer = json!({ "ExportSummaries": summaries });
    if let (true, Some(last)) = (more, page.last()) {
        answer["NextToken"] = json!(super::imports::next_token(last));
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::super::imports::{load_or_set_aside, scratch_dir};
    use super::*;

    /// A server's state over `db`, with `s3` (made here) standing in for S3.
    fn server_state(db: &Database, s3: &std::path::Path) -> super::super::ServerState {
        std::fs::create_dir_all(s3).expect("the S3 directory");
        let account = || "000000000000".to_string();
        let imports = super::super::imports::Imports::open(db, None, "us-east-1".into(), account());
        let exports = Exports::open(db, Some(s3.to_path_buf()), account());
        super::super::ServerState {
            db: db.clone(),
            region: "us-east-1".into(),
            secrets: None,
            imports: Arc::new(imports.expect("import records")),
            exports: Arc::new(exports.expect("export records")),
        }
    }

    /// Makes the table `name` (a string partition key `p`) with point-in-time recovery on.
    fn table_with_recovery(db: &Database, name: &str) {
        let table = crate::CreateTableInput::new(name)
            .hash_key("p", crate::ScalarAttributeType::S)
            .pay_per_request();
        db.create_table(table).expect("made");
        db.update_continuous_backups(crate::UpdateContinuousBackupsInput::new(name, true))
            .expect("recovery on");
    }

    /// An export of now (no `ExportTime`) holds every write acknowledged before the call,
    /// even one whose commit time is past the server's clock (a clock that stepped back, or
    /// a write in the millisecond a restore or another export fenced, which the log then
    /// commits a millisecond later): its moment is the table's latest restorable time.
    #[test]
    fn an_export_of_now_holds_a_write_committed_past_the_wall_clock() {
        let dir = scratch_dir("exports-now");
        let clock = Arc::new(crate::model::clock::ManualClock::new(Timestamp(now_ms())));
        let db = Database::open_with(
            dir.join("db"),
            crate::Options::default()
                .clock(clock.clone())
                .background_worker(false),
        )
        .expect("opens");
        table_with_recovery(&db, "Tab");
        // The log's clock runs a minute ahead of the server's from here.
        clock.advance(60_000);
        let item: crate::Item =
            serde_json::from_value(json!({"p": {"S": "acknowledged"}})).expect("an item");
        db.put_item(crate::PutItemInput::new("Tab", item))
            .expect("acknowledged");
        let committed = crate::model::clock::Clock::now(&*clock);
        let state = server_state(&db, &dir.join("s3"));
        let headers = hyper::HeaderMap::new();
        let call = Call {
            state: &state,
            headers: &headers,
            local: None,
        };
        // (A bucket that does not exist: the export fails at once, its moment is answered.)
        let answer = export_table_to_point_in_time(
            &call,
            json!({"TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/Tab", "S3Bucket": "missing"}),
        )
        .map_err(|e| format!("{e:?}"))
        .expect("started");
        state.exports.finish_running();
        let time = answer["ExportDescription"]["ExportTime"]
            .as_f64()
            .expect("a time");
        let time_ms = (time * 1000.0).round() as u64;
        assert!(
            time_ms >= committed.0,
            "ExportTime {time_ms} is before the acknowledged write's commit time {}",
            committed.0
        );
        drop(state);
        db.close().expect("closes");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A request repeated with its `ClientToken` is answered with the export it started,
    /// though the table has gone since (or the moment left its window): an idempotent call
    /// has the effect of one, whatever changed after it.
    #[test]
    fn a_repeated_client_token_answers_its_export_after_the_table_is_gone() {
        let dir = scratch_dir("exports-token");
        let db = Database::open(dir.join("db")).expect("opens");
        table_with_recovery(&db, "Tab");
        let state = server_state(&db, &dir.join("s3"));
        let headers = hyper::HeaderMap::new();
        let call = Call {
            state: &state,
            headers: &headers,
            local: None,
        };
        let request = json!({
            "TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/Tab",
            "S3Bucket": "missing",
            "ClientToken": "once",
        });
        let first = export_table_to_point_in_time(&call, request.clone())
            .map_err(|e| format!("{e:?}"))
            .expect("started");
        state.exports.finish_running();
        db.delete_table("Tab").expect("deleted");
        let again = export_table_to_point_in_time(&call, request)
            .map_err(|e| format!("{e:?}"))
            .expect("answered with the first export");
        assert_eq!(
            again["ExportDescription"]["ExportArn"],
            first["ExportDescription"]["ExportArn"]
        );
        drop(state);
        db.close().expect("closes");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A `ClientToken` holds the whole request, its `FilterSpecification` included: the
    /// same filter again is answered with the export it started; another filter (here one
    /// value) is `ExportConflictException`, never the first export's answer.
    #[test]
    fn a_client_token_repeated_with_another_filter_specification_is_a_conflict() {
        let dir = scratch_dir("exports-token-filter");
        let db = Database::open(dir.join("db")).expect("opens");
        table_with_recovery(&db, "Tab");
        let state = server_state(&db, &dir.join("s3"));
        let headers = hyper::HeaderMap::new();
        let call = Call {
            state: &state,
            headers: &headers,
            local: None,
        };
        let request = |value: &str| {
            json!({
                "TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/Tab",
                "S3Bucket": "missing",
                "ClientToken": "once",
                "FilterSpecification": {
                    "FilterExpression": "a = :v",
                    "ExpressionAttributeValues": {":v": {"S": value}},
                },
            })
        };
        let first = export_table_to_point_in_time(&call, request("x"))
            .map_err(|e| format!("{e:?}"))
            .expect("started");
        state.exports.finish_running();
        let again = export_table_to_point_in_time(&call, request("x"))
            .map_err(|e| format!("{e:?}"))
            .expect("answered with the first export");
        assert_eq!(
            again["ExportDescription"]["ExportArn"],
            first["ExportDescription"]["ExportArn"]
        );
        let other = export_table_to_point_in_time(&call, request("y"))
            .map(|answer| answer.to_string())
            .expect_err("another filter under the same token");
        assert!(format!("{other:?}").contains("ExportConflict"), "{other:?}");
        assert_eq!(state.exports.lock().records.len(), 1);
        drop(state);
        db.close().expect("closes");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The request of the fixture's export (`tests/fixtures/export_records_v1.README`), with
    /// the filter's value `value`.
    fn filtered_request(value: &str) -> Value {
        json!({
            "TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/Tab",
            "S3Bucket": "missing",
            "ClientToken": "fixture-token",
            "FilterSpecification": {
                "FilterExpression": "#a = :v",
                "ExpressionAttributeNames": {"#a": "a"},
                "ExpressionAttributeValues": {":v": {"N": value}},
            },
        })
    }

    /// How many times `bytes` hold `what`.
    fn occurrences(bytes: &[u8], what: &[u8]) -> usize {
        bytes.windows(what.len()).filter(|w| *w == what).count()
    }

    /// An export record keeps its `FilterSpecification` once, in its description (canonical
    /// numbers), not again in the request a repeat is compared with; and it round-trips
    /// through `EXPORTS`: loaded again by a new start, the filter is described as before, a
    /// repeat of its `ClientToken` with the same filter (its number written either way) is
    /// answered with its export, and one with another filter is `ExportConflictException`.
    #[test]
    fn an_export_record_keeps_its_filter_once_and_round_trips() {
        let dir = scratch_dir("exports-filter-once");
        let db = Database::open(dir.join("db")).expect("opens");
        table_with_recovery(&db, "Tab");
        let state = server_state(&db, &dir.join("s3"));
        let headers = hyper::HeaderMap::new();
        fn call<'a>(
            state: &'a super::super::ServerState,
            headers: &'a hyper::HeaderMap,
        ) -> Call<'a> {
            Call {
                state,
                headers,
                local: None,
            }
        }
        let first =
            export_table_to_point_in_time(&call(&state, &headers), filtered_request("1.50"))
                .map_err(|e| format!("{e:?}"))
                .expect("started");
        state.exports.finish_running();
        let bytes = std::fs::read(dir.join("db").join(EXPORTS_FILE)).expect("the records");
        assert_eq!(occurrences(&bytes, b"FilterSpecification"), 1);
        let described = state.exports.lock().records[0].description.clone();
        drop(state);

        let state = server_state(&db, &dir.join("s3"));
        {
            let loaded = state.exports.lock();
            assert_eq!(loaded.records.len(), 1);
            assert_eq!(loaded.records[0].description, described);
            let filter = &described["FilterSpecification"];
            assert_eq!(
                filter["ExpressionAttributeValues"][":v"],
                json!({"N": "1.5"})
            );
            assert!(loaded.records[0]
                .request
                .get("FilterSpecification")
                .is_none());
        }
        for value in ["1.50", "1.5"] {
            let again =
                export_table_to_point_in_time(&call(&state, &headers), filtered_request(value))
                    .map_err(|e| format!("{e:?}"))
                    .expect("answered with the first export");
            assert_eq!(
                again["ExportDescription"]["ExportArn"],
                first["ExportDescription"]["ExportArn"]
            );
        }
        let other = export_table_to_point_in_time(&call(&state, &headers), filtered_request("2"))
            .map(|answer| answer.to_string())
            .expect_err("another filter under the same token");
        assert!(format!("{other:?}").contains("ExportConflict"), "{other:?}");
        drop(state);
        db.close().expect("closes");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// An `EXPORTS` an earlier build wrote (`tests/fixtures/export_records_v1/EXPORTS`,
    /// version 1, its record keeping the filter twice: as sent in the request, canonical
    /// in the description) still loads, upgraded to the filter once: described as before,
    /// and a repeat of its `ClientToken` with the same filter is answered with its export,
    /// with another `ExportConflictException`. (Read without the start's 90-day pruning,
    /// which would drop the fixture's record as it ages.)
    #[test]
    fn an_export_record_of_the_earlier_form_loads_with_its_filter_once() {
        let fixture: &[u8] = include_bytes!("../../tests/fixtures/export_records_v1/EXPORTS");
        assert_eq!(
            occurrences(fixture, b"FilterSpecification"),
            2,
            "the earlier form"
        );
        let dir = scratch_dir("exports-earlier-form");
        let db = Database::open(&dir).expect("opens");
        let (fs, _) = db.storage().expect("on disk");
        std::fs::write(dir.join(EXPORTS_FILE), fixture).expect("the fixture");
        let records = load_or_set_aside(&*fs, &EXPORTS, &dir, now_ms()).expect("loads");
        assert_eq!(records.len(), 1);
        let record = &records[0];
        assert_eq!(record.status(), "FAILED");
        assert_eq!(record.description["FailureCode"], "S3NoSuchBucket");
        assert_eq!(
            record.description["FilterSpecification"]["ExpressionAttributeValues"][":v"],
            json!({"N": "1.5"})
        );
        assert!(record.request.get("FilterSpecification").is_none());
        let arn = record.arn().to_owned();
        let at = record.start_ms;
        let state = super::super::imports::State {
            records,
            running: Vec::new(),
        };
        let answer = |body: Value| {
            let request: ExportRequest = serde_json::from_value(body.clone()).expect("a request");
            repeated(&state, &request, &recorded_request(&body), at)
                .expect("the token's export")
                .map_err(|e| format!("{e:?}"))
        };
        let again = answer(filtered_request("1.50")).expect("answered");
        assert_eq!(again["ExportDescription"]["ExportArn"], json!(arn));
        let other = answer(filtered_request("2")).expect_err("another filter");
        assert!(other.contains("ExportConflict"), "{other}");
        db.close().expect("closes");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A damaged `EXPORTS` is set aside on a start (never a panic, never a refusal to
    /// start), and an export a crash left IN_PROGRESS is FAILED, never COMPLETED.
    #[test]
    fn damaged_export_records_are_set_aside_and_an_interrupted_export_fails() {
        let dir = scratch_dir("exports-records");
        let db = Database::open(&dir).expect("opens");
        let exports = Exports::open(&db, None, "000000000000".into()).expect("no records");
        {
            let mut state = exports.lock();
            state.records.push(Record {
                description: json!({
                    "ExportArn": "arn:aws:dynamodb:us-east-1:000000000000:table/T/export/01576616366715-0123abcd",
                    "ExportStatus": "IN_PROGRESS",
                })
                .as_object()
                .cloned()
                .unwrap_or_default(),
                request: json!({}),
                start_ms: now_ms(),
                end_ms: None,
            });
            exports.persist(&mut state).expect("written");
        }
        drop(exports);
        let exports = Exports::open(&db, None, "000000000000".into()).expect("loads");
        {
            let state = exports.lock();
            assert_eq!(state.records.len(), 1);
            assert_eq!(state.records[0].status(), "FAILED");
            assert_eq!(state.records[0].description["FailureMessage"], STOPPED);
        }
        drop(exports);
        let path = dir.join(EXPORTS_FILE);
        let mut bytes = std::fs::read(&path).expect("the records");
        for at in [0, 13, 20, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            std::fs::write(&path, &bad).expect("damaged");
            let exports = Exports::open(&db, None, "000000000000".into())
                .expect("a damaged file does not stop the start");
            assert!(exports.lock().records.is_empty(), "flip at {at}");
            assert!(!path.exists(), "set aside");
        }
        bytes.truncate(10);
        std::fs::write(&path, &bytes).expect("cut");
        let exports = Exports::open(&db, None, "000000000000".into()).expect("starts");
        assert!(exports.lock().records.is_empty());
        drop(exports);
        db.close().expect("closes");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
