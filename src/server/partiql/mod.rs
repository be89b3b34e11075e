//! DynamoDB's PartiQL operation `ExecuteStatement`: a statement is read ([`parse`]), turned
//! into the one DynamoDB request that does its work ([`translate`]), and that request is run
//! through the library as the wire runs it, so a statement and the request it stands for are
//! checked and answered alike.
//!
//! What is supported is the grammar drawn in [`parse`]; everything else is refused with a
//! ValidationException naming it. A SELECT pages as DynamoDB's does: `Limit` bounds the items
//! read, and `NextToken` is the page's last key (the Query's or Scan's `LastEvaluatedKey`)
//! bound to the request that read the page: base64 of the JSON
//! `{"Key": {…LastEvaluatedKey…}, "Request": "<fingerprint>"}`, the fingerprint being the
//! first 16 bytes (hex) of the SHA-256 of the JSON `[Statement, Parameters]`. A token given
//! with another statement, or other parameters, is refused rather than resuming a read it
//! did not come from; a token that is not one of these is refused as invalid. The key in it
//! is checked by the Query or Scan as any `ExclusiveStartKey` is (a token is untrusted input).

mod batch;
mod parse;
mod transaction;
mod translate;

#[cfg(test)]
mod tests;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};

use super::operations::{input, output};
use super::protocol::WireError;
use super::Call;
use crate::api::capacity::ConsumedCapacity;
use crate::api::items::{DeleteItemInput, PutItemInput, QueryInput, ScanInput, UpdateItemInput};
use crate::api::tables::TableDescription;
use crate::db::Database;
use crate::engine::failed_write::FailedWrite;
use crate::error::Error;
use crate::model::schema::{KeySchemaElement, KeyType};
use parse::Statement;
use translate::{Keys, Request};

pub(super) use batch::{batch_execute_statement, HONOURS as BATCH_HONOURS};
pub(super) use transaction::{execute_transaction, HONOURS as TRANSACTION_HONOURS};

/// `ExecuteStatement`'s members that tidestore honours.
pub(super) const HONOURS: &[&str] = &[
    "ConsistentRead",
    "Limit",
    "NextToken",
    "Parameters",
    "ReturnConsumedCapacity",
    "ReturnValuesOnConditionCheckFailure",
    "Statement",
];

/// The members of an `ExecuteStatement` request.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ExecuteStatementInput {
    statement: String,
    #[serde(default, deserialize_with = "attribute_values")]
    parameters: Option<Vec<Value>>,
    #[serde(default)]
    consistent_read: bool,
    limit: Option<u32>,
    next_token: Option<String>,
    /// Passed on to the request the statement becomes, whose `ConsumedCapacity` is answered.
    return_consumed_capacity: Option<Value>,
    /// Passed on to an UPDATE's or DELETE's request, whose failed condition then carries
    /// the item (an INSERT's condition is its key's absence: its refusal is
    /// `DuplicateItemException`, which carries none).
    return_values_on_condition_check_failure: Option<Value>,
}

/// The longest `NextToken` (the model's `PartiQLNextToken`: 1 to 32768 characters).
const MAX_NEXT_TOKEN: usize = 32768;

/// Reads a statement's `Parameters` as its API model types them, a list of `AttributeValue`s,
/// with the wire's decoder of every attribute value: one that is no attribute value's JSON
/// (`null`, a string, `{"S": 5}`) fails the whole request as any malformed member does
/// (`SerializationException`), and one the data model refuses (`{}`, a number that is none)
/// as its `ValidationException`, before any statement runs, never as a statement's own
/// failure (found by the `partiql` fuzz target: a batch answered such a statement's entry
/// with the code `InternalServerError`). The values go on as their DynamoDB JSON.
pub(super) fn attribute_values<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<Value>>, D::Error> {
    use serde::de::Error as _;
    let values = Option::<Vec<crate::model::value::AttributeValue>>::deserialize(deserializer)?;
    let json = |values: Vec<crate::model::value::AttributeValue>| {
        (values.iter())
            .map(|value| serde_json::to_value(value).map_err(D::Error::custom))
            .collect::<Result<Vec<Value>, _>>()
    };
    values.map(json).transpose()
}

/// A statement's `Parameters`, none if not given: the model's `PreparedStatementParameters`
/// holds at least one value, so an empty list is refused as DynamoDB's request validation
/// refuses it, naming the member at `at`.
fn given_parameters<'a>(
    parameters: &'a Option<Vec<Value>>,
    at: &str,
) -> Result<&'a [Value], WireError> {
    match parameters.as_deref() {
        Some([]) => Err(WireError::validation(format!(
            "1 validation error detected: Value '[]' at '{at}' failed to satisfy constraint: Member must have length greater than or equal to 1"
        ))),
        given => Ok(given.unwrap_or_default()),
    }
}

/// DynamoDB's words when a statement's `?`s and its `Parameters` differ in number.
const PARAMETER_COUNT: &str = "Number of parameters in request and statement don't match.";

/// ExecuteStatement: one statement, answered as `{"Items": […], "NextToken": …}`.
pub(super) fn execute_statement(call: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let request: ExecuteStatementInput = input(body)?;
    let parameters = given_parameters(&request.parameters, "parameters")?;
    if let Some(token) = &request.next_token {
        let bound = match token.chars().count() {
            0 => Some("greater than or equal to 1"),
            n if n > MAX_NEXT_TOKEN => Some("less than or equal to 32768"),
            _ => None,
        };
        if let Some(bound) = bound {
            return Err(WireError::validation(format!(
                "1 validation error detected: Value '{token}' at 'nextToken' failed to satisfy constraint: Member must have length {bound}"
            )));
        }
    }
    let db = &call.state.db;
    let (statement, keys) = prepare(db, &request.statement, parameters)?;
    let is_select = matches!(statement, Statement::Select { .. });
    if !is_select && (request.limit.is_some() || request.next_token.is_some()) {
        return Err(WireError::validation(
            "tidestore supports Limit and NextToken only with a SELECT statement",
        ));
    }
    let Request {
        operation,
        mut body,
    } = translate::translate(&statement, parameters, &keys).map_err(WireError::validation)?;
    if let Some(capacity) = &request.return_consumed_capacity {
        body["ReturnConsumedCapacity"] = capacity.clone();
    }
    if let Some(failure) = &request.return_values_on_condition_check_failure {
        if matches!(operation, "UpdateItem" | "DeleteItem") {
            body["ReturnValuesOnConditionCheckFailure"] = failure.clone();
        }
    }
    match operation {
        "Query" | "Scan" => {
            if let Some(limit) = request.limit {
                body["Limit"] = json!(limit);
            }
            if request.consistent_read {
                body["ConsistentRead"] = json!(true);
            }
            let fingerprint = request_fingerprint(&request.statement, parameters);
            if let Some(token) = &request.next_token {
                body["ExclusiveStartKey"] = start_key(token, &fingerprint)?;
            }
            let page = match operation {
                "Query" => output(db.query(input::<QueryInput>(body)?))?,
                _ => output(db.scan(input::<ScanInput>(body)?))?,
            };
            let mut answer = json!({ "Items": page["Items"] });
            if let Some(last) = page.get("LastEvaluatedKey") {
                answer["NextToken"] = json!(next_token(last, &fingerprint));
                answer["LastEvaluatedKey"] = last.clone();
            }
            if let Some(capacity) = page.get("ConsumedCapacity") {
                answer["ConsumedCapacity"] = capacity.clone();
            }
            Ok(answer)
        }
        // With RETURNING, the attributes the write hands back are the one item answered.
        _ => {
            let written = write(db, Request { operation, body }).map_err(|f| f.error)?;
            let items: Vec<Value> = written.get("Attributes").cloned().into_iter().collect();
            let mut answer = json!({ "Items": items });
            if let Some(capacity) = written.get("ConsumedCapacity") {
                answer["ConsumedCapacity"] = capacity.clone();
            }
            Ok(answer)
        }
    }
}

/// A statement read, its `?`s counted against `parameters`, and the key attributes of the
/// table (or index) it names, which must exist.
fn prepare(
    db: &Database,
    text: &str,
    parameters: &[Value],
) -> Result<(Statement, Keys), WireError> {
    let (statement, count) = parse::parse(text).map_err(|e| WireError::validation(e.0))?;
    if count != parameters.len() {
        return Err(WireError::validation(PARAMETER_COUNT));
    }
    let (table, index) = match &statement {
        Statement::Select { table, index, .. } => (table, index.as_deref()),
        Statement::Insert { table, .. }
        | Statement::Update { table, .. }
        | Statement::Delete { table, .. }
        | Statement::Exists { table, .. } => (table, None),
    };
    let description = db.describe_table(table).map_err(|error| match error {
        // DynamoDB names no table in a statement's refusal (moto's AWS-verified
        // `test_execute_statement_on_unknown_gsi_table`).
        Error::ResourceNotFound(_) => {
            WireError::dynamodb("ResourceNotFoundException", "Requested resource not found")
        }
        other => other.into(),
    })?;
    let keys = keys_of(&description, index)?;
    Ok((statement, keys))
}

/// Runs a write statement's request: an INSERT's PutItem (a duplicate key is DynamoDB's
/// `DuplicateItemException`), an UPDATE's UpdateItem or a DELETE's DeleteItem. Returns the
/// write's answer (its `Attributes`, a `RETURNING`'s, and its `ConsumedCapacity`, if asked),
/// or its error with what a failed condition consumed.
fn write(db: &Database, request: Request) -> Result<Value, FailedStatement> {
    let answer = match request.operation {
        "PutItem" => match db.put_item_measuring_failure(input::<PutItemInput>(request.body)?) {
            Err(FailedWrite {
                error: Error::ConditionalCheckFailed { .. },
                consumed_capacity,
            }) => {
                return Err(FailedStatement {
                    error: WireError::dynamodb(
                        "DuplicateItemException",
                        "Duplicate primary key exists in table",
                    ),
                    consumed_capacity: capacity_json(consumed_capacity),
                })
            }
            written => output(written.map_err(Error::from))?,
        },
        "UpdateItem" => {
            let input = input::<UpdateItemInput>(request.body)?;
            output(Ok(db
                .update_item_measuring_failure(input)
                .map_err(failed)?))?
        }
        "DeleteItem" => {
            let input = input::<DeleteItemInput>(request.body)?;
            output(Ok(db
                .delete_item_measuring_failure(input)
                .map_err(failed)?))?
        }
        // An EXISTS: a condition check has no meaning outside a transaction.
        _ => {
            return Err(WireError::validation(
                "The EXISTS function can be used only in ExecuteTransaction",
            )
            .into())
        }
    };
    Ok(answer)
}

/// A write statement that failed: the wire's error, and the `ConsumedCapacity` (as the wire
/// writes it) of a write whose condition failed, when the request asked for it. Only a
/// batch answers that figure (`engine/failed_write.rs` says why).
struct FailedStatement {
    error: WireError,
    consumed_capacity: Option<Value>,
}

/// A statement refused before its write reached its item: nothing consumed.
impl From<WireError> for FailedStatement {
    fn from(error: WireError) -> FailedStatement {
        FailedStatement {
            error,
            consumed_capacity: None,
        }
    }
}

/// A failed write of the library as a failed statement.
fn failed(failed: FailedWrite) -> FailedStatement {
    FailedStatement {
        error: failed.error.into(),
        consumed_capacity: capacity_json(failed.consumed_capacity),
    }
}

fn capacity_json(consumed: Option<Box<ConsumedCapacity>>) -> Option<Value> {
    serde_json::to_value(consumed?).ok()
}

/// A `RETURNING` where only `ExecuteStatement` can answer with the item: refused by name.
fn refuse_returning(statement: &Statement, operation: &str) -> Result<(), WireError> {
    match statement.returning() {
        Some(_) => Err(WireError::validation(format!(
            "tidestore supports RETURNING only in ExecuteStatement, not in {operation}"
        ))),
        None => Ok(()),
    }
}

/// The key attributes of `index` of the table `description` describes, or of the table.
fn keys_of(description: &TableDescription, index: Option<&str>) -> Result<Keys, WireError> {
    let schema: &[KeySchemaElement] = match index {
        None => &description.key_schema,
        Some(index) => {
            let global = (description.global_secondary_indexes.iter().flatten())
                .find(|i| i.index_name == index)
                .map(|i| &i.key_schema);
            let local = (description.local_secondary_indexes.iter().flatten())
                .find(|i| i.index_name == index)
                .map(|i| &i.key_schema);
            global.or(local).ok_or_else(|| {
                WireError::validation("The table does not have the specified index")
            })?
        }
    };
    // A multi-attribute key lists its attributes of each kind in the key's order.
    let named = |key_type: KeyType| -> Vec<String> {
        (schema.iter())
            .filter(|k| k.key_type == key_type)
            .map(|k| k.attribute_name.clone())
            .collect()
    };
    let partition = named(KeyType::Hash);
    if partition.is_empty() {
        return Err(WireError::validation("The table has no partition key"));
    }
    Ok(Keys {
        partition,
        sort: named(KeyType::Range),
    })
}

/// The fingerprint binding a `NextToken` to the request that read its page: its statement
/// and parameters (see the module's doc).
fn request_fingerprint(statement: &str, parameters: &[Value]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(json!([statement, parameters]).to_string());
    digest[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The `NextToken` of a page whose `LastEvaluatedKey` is `last`, read by the request of
/// `fingerprint`.
fn next_token(last: &Value, fingerprint: &str) -> String {
    let token = json!({ "Key": last, "Request": fingerprint });
    base64::engine::general_purpose::STANDARD.encode(token.to_string())
}

/// DynamoDB's words for a `NextToken` given with a request other than the one it came from
/// (as DynamoDB answers it: aws/aws-sdk-js-v3 issue #4424 quotes the message).
const TOKEN_OF_ANOTHER_REQUEST: &str = "NextToken does not match request";

/// The `ExclusiveStartKey` a `NextToken` this server handed out stands for, if it was handed
/// out for the request of `fingerprint`.
fn start_key(token: &str, fingerprint: &str) -> Result<Value, WireError> {
    let invalid = || WireError::validation("Invalid NextToken");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| invalid())?;
    let token: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let (Some(key), Some(request)) = (token.get("Key"), token["Request"].as_str()) else {
        return Err(invalid());
    };
    // The key must be a map of attribute values: anything else would reach the Query's
    // decoder and be refused as a malformed request (SerializationException), not as the
    // invalid token it is.
    if crate::model::value::Item::deserialize(key).is_err() {
        return Err(invalid());
    }
    match request == fingerprint {
        true => Ok(key.clone()),
        false => Err(WireError::validation(TOKEN_OF_ANOTHER_REQUEST)),
    }
}
