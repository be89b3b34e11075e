//! ExecuteTransaction: up to 100 statements run as one DynamoDB transaction, all reads (a
//! TransactGetItems) or all writes (a TransactWriteItems), as the statements' own requests
//! become the transaction's actions: an INSERT's PutItem a `Put`, an UPDATE's UpdateItem an
//! `Update`, a DELETE's DeleteItem a `Delete`, a SELECT by whole key a `Get`. Any statement
//! that cannot be translated fails the whole request, before anything runs.
//! `ReturnConsumedCapacity` is the transaction's, and a write statement's
//! `ReturnValuesOnConditionCheckFailure` its action's (its cancellation reason then carries
//! the item), as TransactWriteItems takes them.

use serde::Deserialize;
use serde_json::{json, Value};

use super::translate::{self, Request};
use super::{attribute_values, given_parameters, prepare, refuse_returning, Statement};
use crate::api::items::{TransactGetItemsInput, TransactWriteItemsInput};
use crate::error::Error;
use crate::server::operations::{input, output};
use crate::server::protocol::WireError;
use crate::server::Call;

/// ExecuteTransaction's members that tidestore honours.
pub(in crate::server) const HONOURS: &[&str] = &[
    "ClientRequestToken",
    "ReturnConsumedCapacity",
    "TransactStatements",
];

/// The most statements one transaction holds (`ParameterizedStatements`' `max`).
const MAX_STATEMENTS: usize = 100;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ExecuteTransactionInput {
    transact_statements: Vec<ParameterizedStatement>,
    client_request_token: Option<String>,
    return_consumed_capacity: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParameterizedStatement {
    statement: String,
    #[serde(default, deserialize_with = "attribute_values")]
    parameters: Option<Vec<Value>>,
    /// Passed on to a write statement's action; a read has no condition to fail.
    return_values_on_condition_check_failure: Option<Value>,
}

/// ExecuteTransaction: `{"Responses": [{"Item": …}, …]}` for reads, `{}` for writes.
pub(in crate::server) fn execute_transaction(
    call: &Call<'_>,
    body: Value,
) -> Result<Value, WireError> {
    let request: ExecuteTransactionInput = input(body)?;
    let count = request.transact_statements.len();
    if !(1..=MAX_STATEMENTS).contains(&count) {
        return Err(WireError::validation(format!(
            "1 validation error detected: Value at 'transactStatements' failed to satisfy constraint: Member must have length between 1 and {MAX_STATEMENTS}, inclusive"
        )));
    }
    for (at, statement) in request.transact_statements.iter().enumerate() {
        let at = format!("transactStatements.{}.member.parameters", at + 1);
        given_parameters(&statement.parameters, &at)?;
    }
    let db = &call.state.db;
    let mut actions = Vec::with_capacity(count);
    let mut inserts = Vec::with_capacity(count);
    let mut reads = 0;
    for given in &request.transact_statements {
        let parameters = given.parameters.as_deref().unwrap_or_default();
        let (statement, keys) = prepare(db, &given.statement, parameters)?;
        let action = match statement {
            Statement::Select { .. } => {
                reads += 1;
                let get = translate::translate_get(&statement, parameters, &keys)
                    .map_err(WireError::validation)?;
                let Some(Request { body, .. }) = get else {
                    return Err(WireError::validation(
                        "Select statements within ExecuteTransaction must specify the primary key in the where clause.",
                    ));
                };
                json!({ "Get": body })
            }
            _ => {
                refuse_returning(&statement, "ExecuteTransaction")?;
                let Request { operation, body } =
                    translate::translate(&statement, parameters, &keys)
                        .map_err(WireError::validation)?;
                let action = match operation {
                    "PutItem" => "Put",
                    "UpdateItem" => "Update",
                    "ConditionCheck" => "ConditionCheck",
                    _ => "Delete",
                };
                let mut body = body;
                if let Some(failure) = &given.return_values_on_condition_check_failure {
                    body["ReturnValuesOnConditionCheckFailure"] = failure.clone();
                }
                json!({ action: body })
            }
        };
        inserts.push(matches!(statement, Statement::Insert { .. }));
        actions.push(action);
    }
    if reads != 0 && reads != count {
        return Err(WireError::validation(
            "A transaction must consist of either read statements or write statements, not both",
        ));
    }
    let mut transaction = json!({ "TransactItems": actions });
    if let Some(capacity) = request.return_consumed_capacity {
        transaction["ReturnConsumedCapacity"] = capacity;
    }
    if reads == count {
        return output(db.transact_get_items(input::<TransactGetItemsInput>(transaction)?));
    }
    if let Some(token) = request.client_request_token {
        transaction["ClientRequestToken"] = json!(token);
    }
    match db.transact_write_items(input::<TransactWriteItemsInput>(transaction)?) {
        // Only the consumed capacity, if asked: DynamoDB answers a write transaction with
        // no `Responses`.
        Ok(written) => {
            let written = output(Ok(written))?;
            Ok(match written.get("ConsumedCapacity") {
                Some(capacity) => json!({ "ConsumedCapacity": capacity }),
                None => json!({}),
            })
        }
        Err(Error::TransactionCanceled { mut reasons }) => {
            // An INSERT's failed condition is its key being taken: DynamoDB's reason is
            // `DuplicateItem` there, as ExecuteStatement's error is `DuplicateItemException`.
            for (reason, _) in (reasons.iter_mut())
                .zip(&inserts)
                .filter(|(r, insert)| **insert && r.code == "ConditionalCheckFailed")
            {
                reason.code = "DuplicateItem".into();
                reason.message = Some("Duplicate primary key exists in table".into());
            }
            Err(Error::TransactionCanceled { reasons }.into())
        }
        Err(other) => Err(other.into()),
    }
}
