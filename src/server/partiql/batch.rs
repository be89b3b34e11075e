//! BatchExecuteStatement: up to 25 statements, all reads or all writes, each run on its own
//! (not atomically: that is ExecuteTransaction) and answered in its own entry of
//! `Responses`, in request order. A read is a SELECT naming one item by its whole key (a
//! GetItem); an entry that fails carries `Error` with DynamoDB's batch error code
//! (`ValidationError`, `ResourceNotFound`, `ConditionalCheckFailed`, `DuplicateItem`, …)
//! instead of failing the request. A statement's `ReturnValuesOnConditionCheckFailure` is its
//! UPDATE's or DELETE's (`ALL_OLD`: a failed condition's entry carries the item), and
//! `ReturnConsumedCapacity` answers each table's units summed over the statements that ran,
//! a write whose condition failed included (it consumed write capacity all the same).

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::translate::{self, Request};
use super::{attribute_values, given_parameters, prepare, refuse_returning, write, Statement};
use crate::api::items::GetItemInput;
use crate::server::operations::{input, output};
use crate::server::protocol::WireError;
use crate::server::Call;

/// BatchExecuteStatement's members that tidestore honours.
pub(in crate::server) const HONOURS: &[&str] = &["ReturnConsumedCapacity", "Statements"];

/// The most statements one batch holds (`PartiQLBatchRequest`'s `max`).
const MAX_STATEMENTS: usize = 25;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchExecuteStatementInput {
    statements: Vec<BatchStatementRequest>,
    return_consumed_capacity: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchStatementRequest {
    statement: String,
    #[serde(default, deserialize_with = "attribute_values")]
    parameters: Option<Vec<Value>>,
    #[serde(default)]
    consistent_read: bool,
    /// Passed on to an UPDATE's or DELETE's request.
    return_values_on_condition_check_failure: Option<Value>,
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
    // The batch must be all reads or all writes: checked on the text before anything runs.
    let reads = (request.statements.iter())
        .filter(|s| is_select(&s.statement))
        .count();
    if reads != 0 && reads != count {
        return Err(WireError::validation(
            "The entire batch must consist of either read statements or write statements, you cannot mix both in one batch.",
        ));
    }
    let capacity = request.return_consumed_capacity.as_ref();
    let mut consumed: Vec<Value> = Vec::new();
    let responses: Vec<Value> = (request.statements.iter())
        .map(|statement| respond(call, statement, capacity, &mut consumed))
        .collect();
    let mut answer = json!({ "Responses": responses });
    if !consumed.is_empty() {
        answer["ConsumedCapacity"] = json!(consumed);
    }
    Ok(answer)
}

/// Adds one statement's `ConsumedCapacity` into `consumed`, one entry a table: its numbers
/// (`CapacityUnits`, the read and write units, and with INDEXES those of `Table` and of
/// each index) summed with the entry of the same `TableName`.
fn add_capacity(consumed: &mut Vec<Value>, capacity: &Value) {
    fn sum(into: &mut Value, more: &Value) {
        match (into, more) {
            (Value::Object(into), Value::Object(more)) => {
                for (key, value) in more {
                    match into.get_mut(key) {
                        Some(existing) => sum(existing, value),
                        None => {
                            into.insert(key.clone(), value.clone());
                        }
                    }
                }
            }
            (into @ Value::Number(_), Value::Number(more)) => {
                let total = into.as_f64().unwrap_or(0.0) + more.as_f64().unwrap_or(0.0);
                *into = json!(total);
            }
            // `TableName`: the same on both sides.
            _ => {}
        }
    }
    match (consumed.iter_mut()).find(|c| c["TableName"] == capacity["TableName"]) {
        Some(entry) => sum(entry, capacity),
        None => consumed.push(capacity.clone()),
    }
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
fn respond(
    call: &Call<'_>,
    request: &BatchStatementRequest,
    capacity: Option<&Value>,
    consumed: &mut Vec<Value>,
) -> Value {
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
            if let Some(capacity) = capacity {
                body["ReturnConsumedCapacity"] = capacity.clone();
            }
            let got = output(db.get_item(input::<GetItemInput>(body)?))?;
            if let Some(used) = got.get("ConsumedCapacity") {
                add_capacity(consumed, used);
            }
            return Ok(got.get("Item").cloned());
        }
        refuse_returning(&statement, "BatchExecuteStatement")?;
        let mut write_request =
            translate::translate(&statement, parameters, &keys).map_err(WireError::validation)?;
        if let Some(capacity) = capacity {
            write_request.body["ReturnConsumedCapacity"] = capacity.clone();
        }
        if let Some(failure) = &request.return_values_on_condition_check_failure {
            if matches!(write_request.operation, "UpdateItem" | "DeleteItem") {
                write_request.body["ReturnValuesOnConditionCheckFailure"] = failure.clone();
            }
        }
        // A write whose condition failed consumed capacity all the same, and the batch's
        // `ConsumedCapacity` is "the capacity units consumed by the entire operation": the
        // engine measured it under the item's lock (`engine/failed_write.rs`). A statement
        // refused before it reached its item consumed nothing the guide names.
        let written = match write(db, write_request) {
            Ok(written) => written,
            Err(failed) => {
                if let Some(used) = &failed.consumed_capacity {
                    add_capacity(consumed, used);
                }
                return Err(failed.error);
            }
        };
        if let Some(used) = written.get("ConsumedCapacity") {
            add_capacity(consumed, used);
        }
        Ok(None)
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
            // (With the item, the error's message is its `Message` member: `protocol.rs`.)
            let message = (error.message.clone())
                .or_else(|| error.extra.get("Message")?.as_str().map(str::to_owned))
                .unwrap_or_default();
            let mut failure = json!({ "Code": code, "Message": message });
            // A failed condition's item, when the statement asked for it (ALL_OLD).
            if let Some(item) = error.extra.get("Item") {
                failure["Item"] = item.clone();
            }
            entry.insert("Error".to_owned(), failure);
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
    use super::{add_capacity, batch_code, is_select};
    use serde_json::json;

    #[test]
    fn capacities_sum_per_table_with_their_table_and_index_breakdowns() {
        let mut consumed = Vec::new();
        let indexes = |units: f64| {
            json!({ "TableName": "A", "CapacityUnits": units * 2.0,
                    "Table": { "CapacityUnits": units },
                    "GlobalSecondaryIndexes": { "G": { "CapacityUnits": units } } })
        };
        add_capacity(&mut consumed, &indexes(1.0));
        add_capacity(
            &mut consumed,
            &json!({ "TableName": "B", "CapacityUnits": 0.5 }),
        );
        add_capacity(&mut consumed, &indexes(0.5));
        assert_eq!(
            consumed,
            [
                indexes(1.5),
                json!({ "TableName": "B", "CapacityUnits": 0.5 })
            ]
        );
    }

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
