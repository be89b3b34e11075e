//! BatchExecuteStatement: up to 25 statements, all reads or all writes, each run on its own
//! (not atomically: that is ExecuteTransaction) and answered in its own entry of
//! `Responses`, in request order. A read is a SELECT naming one item by its whole key (a
//! GetItem); an entry that fails carries `Error` with DynamoDB's batch error code
//! (`ValidationError`, `ResourceNotFound`, `ConditionalCheckFailed`, `DuplicateItem`, …)
//! instead of failing the request.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::translate::{self, Request};
use super::{given_parameters, prepare, refuse_returning, write, Statement};
use crate::api::items::GetItemInput;
use crate::server::operations::{input, output};
use crate::server::protocol::WireError;
use crate::server::Call;

/// BatchExecuteStatement's members that tidestore honours.
pub(in crate::server) const HONOURS: &[&str] = &["Statements"];

/// The most statements one batch holds (`PartiQLBatchRequest`'s `max`).
const MAX_STATEMENTS: usize = 25;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchExecuteStatementInput {
    statements: Vec<BatchStatementRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchStatementRequest {
    statement: String,
    parameters: Option<Vec<Value>>,
    #[serde(default)]
    consistent_read: bool,
    return_values_on_condition_check_failure: Option<String>,
}

/// DynamoDB's words for a SELECT in a batch that does not name one item by its key.
const SELECT_NEEDS_KEY: &str =
    "Select statements within BatchExecuteStatement must specify the primary key in the where clause.";

/// BatchExecuteStatement: `{"Responses": [{"TableName", "Item"} or {"Error", …}, …]}`.
pub(in crate::server) fn batch_execute_statement(
    call: &Call<'_>,
    body: Value,
) -> Result<Value, WireError> {
    let request: BatchExecuteStatementInput = input(body)?;
    let count = request.statements.len();
    if !(1..=MAX_STATEMENTS).contains(&count) {
        return Err(WireError::validation(format!(
            "1 validation error detected: Value at 'statements' failed to satisfy constraint: Member must have length between 1 and {MAX_STATEMENTS}, inclusive"
        )));
    }
    for (at, statement) in request.statements.iter().enumerate() {
        let at = format!("statements.{}.member.parameters", at + 1);
        given_parameters(&statement.parameters, &at)?;
    }
    if (request.statements.iter()).any(|s| s.return_values_on_condition_check_failure.is_some()) {
        return Err(WireError::validation(
            "tidestore does not support the parameter ReturnValuesOnConditionCheckFailure of BatchExecuteStatement",
        ));
    }
    // The batch must be all reads or all writes: checked on the text before anything runs.
    let reads = (request.statements.iter())
        .filter(|s| is_select(&s.statement))
        .count();
    if reads != 0 && reads != count {
        return Err(WireError::validation(
            "The entire batch must consist of either read statements or write statements, you cannot mix both in one batch.",
        ));
    }
    let responses: Vec<Value> = (request.statements.iter())
        .map(|statement| respond(call, statement))
        .collect();
    Ok(json!({ "Responses": responses }))
}

/// Whether `text` is a SELECT (its first word), as far as mixing reads and writes goes. The
/// word ends where the parser's does, not only at whitespace: `select*from t …` is a SELECT.
fn is_select(text: &str) -> bool {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(text.len());
    text[..end].eq_ignore_ascii_case("SELECT")
}

/// One statement's entry of `Responses`.
fn respond(call: &Call<'_>, request: &BatchStatementRequest) -> Value {
    let db = &call.state.db;
    let mut table = None;
    let answer = (|| {
        let parameters = request.parameters.as_deref().unwrap_or_default();
        let (statement, keys) = prepare(db, &request.statement, parameters)?;
        table = statement_table(&statement);
        if matches!(statement, Statement::Select { .. }) {
            let get = translate::translate_get(&statement, parameters, &keys)
                .map_err(WireError::validation)?;
            let Some(Request { mut body, .. }) = get else {
                return Err(WireError::validation(SELECT_NEEDS_KEY));
            };
            if request.consistent_read {
                body["ConsistentRead"] = json!(true);
            }
            let got = output(db.get_item(input::<GetItemInput>(body)?))?;
            return Ok(got.get("Item").cloned());
        }
        refuse_returning(&statement, "BatchExecuteStatement")?;
        let write_request =
            translate::translate(&statement, parameters, &keys).map_err(WireError::validation)?;
        write(db, write_request).map(|_| None)
    })();
    let mut entry = Map::new();
    match answer {
        Ok(item) => {
            entry.extend(table.map(|t| ("TableName".to_owned(), json!(t))));
            entry.extend(item.map(|i| ("Item".to_owned(), i)));
        }
        Err(error) => {
            let code = batch_code(&error.type_name);
            // An unknown table has no name to give back (moto's
            // `test_without_primary_key_in_where_clause`).
            if code != "ResourceNotFound" {
                entry.extend(table.map(|t| ("TableName".to_owned(), json!(t))));
            }
            let message = error.message.clone().unwrap_or_default();
            entry.insert(
                "Error".to_owned(),
                json!({ "Code": code, "Message": message }),
            );
        }
    }
    Value::Object(entry)
}

fn statement_table(statement: &Statement) -> Option<String> {
    match statement {
        Statement::Select { table, .. }
        | Statement::Insert { table, .. }
        | Statement::Update { table, .. }
        | Statement::Delete { table, .. }
        | Statement::Exists { table, .. } => Some(table.clone()),
    }
}

/// A wire error's exception name (`…#ValidationException`) as a batch error code
/// (`BatchStatementErrorCodeEnum`).
fn batch_code(type_name: &str) -> &'static str {
    let name = type_name.rsplit('#').next().unwrap_or(type_name);
    match name {
        "ValidationException" => "ValidationError",
        "ResourceNotFoundException" => "ResourceNotFound",
        "ConditionalCheckFailedException" => "ConditionalCheckFailed",
        "DuplicateItemException" => "DuplicateItem",
        "ItemCollectionSizeLimitExceededException" => "ItemCollectionSizeLimitExceeded",
        "ProvisionedThroughputExceededException" => "ProvisionedThroughputExceeded",
        "RequestLimitExceeded" => "RequestLimitExceeded",
        "TransactionConflictException" => "TransactionConflict",
        "ThrottlingException" => "ThrottlingError",
        "AccessDeniedException" => "AccessDenied",
        _ => "InternalServerError",
    }
}

#[cfg(test)]
mod tests {
    use super::{batch_code, is_select};

    #[test]
    fn exception_names_become_dynamodbs_batch_error_codes() {
        let codes = [
            (
                "com.amazon.coral.validate#ValidationException",
                "ValidationError",
            ),
            (
                "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                "ResourceNotFound",
            ),
            (
                "com.amazonaws.dynamodb.v20120810#DuplicateItemException",
                "DuplicateItem",
            ),
            (
                "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                "ConditionalCheckFailed",
            ),
            (
                "com.amazonaws.dynamodb.v20120810#Poisoned",
                "InternalServerError",
            ),
        ];
        for (name, code) in codes {
            assert_eq!(batch_code(name), code, "{name}");
        }
    }

    #[test]
    fn reads_are_told_from_writes_by_the_first_word() {
        assert!(is_select("  select * from t"));
        assert!(is_select("SELECT pk FROM t"));
        assert!(!is_select("INSERT INTO t VALUE {'pk': 'a'}"));
        assert!(!is_select(""));
        // The parser reads these as SELECTs, so they must not pass for writes in a batch
        // that is otherwise writes.
        assert!(is_select("select*from t where pk = 'a'"));
        assert!(is_select("SELECT\"a\" FROM t WHERE pk = 'a'"));
        assert!(!is_select("selected * from t"));
    }
}
