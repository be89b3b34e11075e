//! `ImportTable`, `DescribeImport` and `ListImports` as the wire calls them. `ImportTable`
//! checks the request ([`super::request`]), answers a repeat of a `ClientToken` with its
//! import, reserves the table's name, writes the record IN_PROGRESS durably and starts the
//! import on a thread of its own ([`super::job`]); the other two read the records.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::job::Job;
use super::paging::{next_token, of_table, page, paging};
use super::records::{now_ms, prune, seconds, Record};
use super::request::{
    bucket_refusal, format, prefix_refusal, table_creation_parameters, without_client_token,
    ImportTableRequest,
};
use super::MAX_RUNNING_IMPORTS;
use crate::error::Error;
use crate::model::clock::Timestamp;
use crate::server::compression::Compression;
use crate::server::operations::input;
use crate::server::protocol::WireError;
use crate::server::Call;

/// `ImportTable`.
pub(in crate::server) fn import_table(call: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let imports = &call.state.imports;
    let Some(s3_dir) = &imports.s3_dir else {
        return Err(WireError::validation(
            "tidestore serve has no S3 directory to import from: start it with --s3-dir DIR, and ImportTable reads the files under DIR/{S3Bucket}",
        ));
    };
    let request_value = without_client_token(&body);
    let request: ImportTableRequest = input(body)?;
    // DynamoDB requires a ClientToken although its model does not (ScyllaDB's test_import,
    // run against AWS: a request without one is a ValidationException naming it; the SDKs
    // and the CLI always send one, as the model marks it an idempotency token). The words
    // are the model's form for a member that must be there.
    let Some(token) = &request.client_token else {
        return Err(WireError::validation(
            "1 validation error detected: Value null at 'clientToken' failed to satisfy constraint: Member must not be null",
        ));
    };
    let source = &request.s3_bucket_source;
    let Some(bucket) = &source.s3_bucket else {
        return Err(WireError::validation(
            "1 validation error detected: Value null at 's3BucketSource.s3Bucket' failed to satisfy constraint: Member must not be null",
        ));
    };
    if let Some(refusal) = bucket_refusal(bucket, "s3BucketSource.s3Bucket") {
        return Err(WireError::validation(refusal));
    }
    let prefix = source.s3_key_prefix.clone().unwrap_or_default();
    if let Some(refusal) = prefix_refusal(&prefix) {
        return Err(WireError::validation(refusal));
    }
    // As DynamoDB's (ScyllaDB's test_import, run against AWS): a bucket said to be another
    // account's is no refusal; the import fails when it reads it, S3's access denied.
    let owned_by_another = (source.s3_bucket_owner.as_ref()).is_some_and(|o| *o != imports.account);
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
    if token.is_empty() || token.contains('$') {
        return Err(WireError::validation(format!(
            "1 validation error detected: Value '{token}' at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[^\\$]+$"
        )));
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
    let name = &table.table_name;
    // As DynamoDB's (ScyllaDB's test_import, run against AWS): a table of the name is
    // refused before the token is looked at, so the replay of an import that made its table
    // is `ResourceInUseException`.
    let table_exists = || Error::ResourceInUse(format!("Table already exists: {name}"));
    if call.db.describe_table(name).is_ok() {
        return Err(table_exists().into());
    }
    let earlier = state
        .records
        .iter()
        .find(|r| r.token() == Some(token) && r.holds_token_at(now));
    if let Some(earlier) = earlier {
        // As DynamoDB's: only another table conflicts, in its words; another source,
        // format or compression answers the first import as it is.
        if earlier.table_name() != name {
            return Err(WireError::dynamodb(
                "ImportConflictException",
                "Duplicate request detected with conflicting parameters",
            ));
        }
        return Ok(json!({ "ImportTableDescription": earlier.description }));
    }
    if (state.records.iter()).any(|r| r.status() == "IN_PROGRESS" && r.table_name() == name) {
        return Err(table_exists().into());
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
    description.insert("ClientToken".into(), json!(token));
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
    // As DynamoDB's: the counters are in the first answer, at 0 (they move only when the
    // import ends), and so is the table's id, allocated now and the one the table gets
    // (ScyllaDB's test_import, run against AWS: "TableId is allocated up front and never
    // changes").
    for counter in ["ProcessedItemCount", "ImportedItemCount", "ErrorCount"] {
        description.insert(counter.into(), json!(0));
    }
    let table_id = uuid::Uuid::new_v4().to_string();
    description.insert("TableId".into(), json!(table_id));
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
        table_id,
        owned_by_another,
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
pub(in crate::server) fn describe_import(call: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let DescribeImportRequest { import_arn } = input(body)?;
    crate::model::names::check_length(
        &import_arn,
        "importArn",
        MIN_IMPORT_ARN_LEN,
        MAX_IMPORT_ARN_LEN,
    )?;
    if !is_import_arn(&import_arn) {
        // DynamoDB's words, as ScyllaDB's test_import (run against AWS) quotes them for an
        // ARN whose table name is shorter than a table name can be.
        return Err(WireError::validation("Invalid Import ARN"));
    }
    let state = call.state.imports.lock();
    match state.records.iter().find(|r| r.arn() == import_arn) {
        Some(record) => Ok(json!({ "ImportTableDescription": record.description })),
        None => Err(import_not_found(&import_arn)),
    }
}

/// Whether `arn` has an import ARN's form, `arn:{partition}:dynamodb:{region}:{account}:
/// table/{table}/import/{id}`, with a name a table can have and an id that is not empty.
/// (Which import it names is then looked up: one that is not there is
/// `ImportNotFoundException`, an ARN that could name none a `ValidationException`.)
fn is_import_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, _partition, service, _region, _account, resource] = parts[..] else {
        return false;
    };
    let Some((table, id)) =
        (resource.strip_prefix("table/")).and_then(|r| r.split_once("/import/"))
    else {
        return false;
    };
    scheme == "arn"
        && service == "dynamodb"
        && !id.is_empty()
        && crate::model::names::validate_table_name(table).is_ok()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListImportsRequest {
    table_arn: Option<String>,
    page_size: Option<i64>,
    next_token: Option<String>,
}

/// `ListImports`.
pub(in crate::server) fn list_imports(call: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let request: ListImportsRequest = input(body)?;
    let (size, after) = paging(
        ("pageSize", request.page_size),
        request.next_token.as_deref(),
        "ListImports",
    )?;
    let state = call.state.imports.lock();
    let (page, more) = page(
        &state.records,
        |r| of_table(r, request.table_arn.as_deref()),
        after,
        size,
    );
    let mut answer = json!({
        "ImportSummaryList": page.iter().map(|r| r.summary()).collect::<Vec<_>>(),
    });
    if let (true, Some(last)) = (more, page.last()) {
        answer["NextToken"] = json!(next_token(last));
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::super::{test_state, Imports};
    use super::*;
    use crate::db::Database;

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
        let state = test_state(&db, imports);
        let headers = hyper::HeaderMap::new();
        let call = Call {
            state: &state,
            headers: &headers,
            local: None,
        };
        let request = json!({
            "ClientToken": "t",
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
            crate::server::operations::call(&call, "ImportTable", request).expect_err("refused");
        assert!(format!("{refused:?}").contains("stopping"), "{refused:?}");
        assert!(state.imports.lock().records.is_empty());
        assert!(state.imports.lock().running.is_empty());
    }
}
