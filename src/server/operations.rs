//! Each DynamoDB operation on the wire: its JSON request read into the library's input (whose
//! serde names are DynamoDB's), the call, and its output written back.
//!
//! Before an operation runs, its members are checked against DynamoDB's API model
//! ([`super::model`]): a required member that is missing is DynamoDB's `Member must not be
//! null`; a member the model defines but tidestore does not honour is a
//! `ValidationException` naming it, never silently ignored. Members the model does not
//! define are ignored, as the service ignores them. DynamoDB Streams' operations
//! (`super::streams`) go through the same checks against the Streams model
//! ([`dispatch`]).
//!
//! A handler answers `null` for DynamoDB's empty body (`TagResource`, `UntagResource`).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::indexes::{self, TableRequest};
use super::model;
use super::protocol::WireError;
use super::{Call, ServerState};
use crate::api::backups::ListBackupsInput;
use crate::api::backups::RestoreTableFromBackupInput;
use crate::api::items::{
    BatchGetItemInput, BatchWriteItemInput, DeleteItemInput, GetItemInput, PutItemInput,
    QueryInput, ScanInput, Select, TransactGetItemsInput, TransactWriteItemsInput, UpdateItemInput,
};
use crate::api::pitr::{RestoreTableToPointInTimeInput, UpdateContinuousBackupsInput};
use crate::api::policies::{
    DeleteResourcePolicyInput, GetResourcePolicyInput, PutResourcePolicyInput,
};
use crate::api::tables::{CreateTableInput, ListTablesInput, UpdateTableInput};
use crate::api::tags::{ListTagsOfResourceInput, Tag, TagResourceInput, UntagResourceInput};
use crate::api::ttl::UpdateTimeToLiveInput;
use crate::db::Database;
use crate::error::Error;

/// Answers one operation's request: its JSON body in, the answer's JSON body out.
pub(super) type Handler = fn(&Call<'_>, Value) -> Result<Value, WireError>;

/// An operation tidestore serves: the members of its API model it honours, and its handler.
pub(super) struct Served {
    /// The operation's name, as in `X-Amz-Target`.
    pub name: &'static str,
    /// The members of the model's input that tidestore acts on.
    pub honours: &'static [&'static str],
    /// Its handler.
    pub handler: Handler,
}

const EXPRESSION_MAPS: [&str; 2] = ["ExpressionAttributeNames", "ExpressionAttributeValues"];

/// Every operation served, sorted by name.
const SERVED: &[Served] = &[
    Served {
        name: "BatchExecuteStatement",
        honours: super::partiql::BATCH_HONOURS,
        handler: super::partiql::batch_execute_statement,
    },
    Served {
        name: "BatchGetItem",
        honours: &["RequestItems", "ReturnConsumedCapacity"],
        handler: batch_get_item,
    },
    Served {
        name: "BatchWriteItem",
        honours: &[
            "RequestItems",
            "ReturnConsumedCapacity",
            "ReturnItemCollectionMetrics",
        ],
        handler: batch_write_item,
    },
    Served {
        name: "CreateBackup",
        honours: &["BackupName", "TableName"],
        handler: create_backup,
    },
    Served {
        name: "CreateTable",
        honours: &[
            "AttributeDefinitions",
            "BillingMode",
            "DeletionProtectionEnabled",
            "GlobalSecondaryIndexes",
            "KeySchema",
            "LocalSecondaryIndexes",
            "OnDemandThroughput",
            "ProvisionedThroughput",
            "ResourcePolicy",
            "SSESpecification",
            "StreamSpecification",
            "TableClass",
            "TableName",
            "Tags",
            "WarmThroughput",
        ],
        handler: create_table,
    },
    Served {
        name: "DeleteBackup",
        honours: &["BackupArn"],
        handler: delete_backup,
    },
    Served {
        name: "DeleteItem",
        honours: &[
            "ConditionExpression",
            "ConditionalOperator",
            "Expected",
            EXPRESSION_MAPS[0],
            EXPRESSION_MAPS[1],
            "Key",
            "ReturnConsumedCapacity",
            "ReturnItemCollectionMetrics",
            "ReturnValues",
            "ReturnValuesOnConditionCheckFailure",
            "TableName",
        ],
        handler: delete_item,
    },
    Served {
        name: "DeleteResourcePolicy",
        honours: &["ExpectedRevisionId", "ResourceArn"],
        handler: delete_resource_policy,
    },
    Served {
        name: "DeleteTable",
        honours: &["TableName"],
        handler: delete_table,
    },
    Served {
        name: "DescribeBackup",
        honours: &["BackupArn"],
        handler: describe_backup,
    },
    Served {
        name: "DescribeContinuousBackups",
        honours: &["TableName"],
        handler: describe_continuous_backups,
    },
    Served {
        name: "DescribeEndpoints",
        honours: &[],
        handler: describe_endpoints,
    },
    Served {
        name: "DescribeExport",
        honours: &["ExportArn"],
        handler: super::exports::describe_export,
    },
    Served {
        name: "DescribeImport",
        honours: &["ImportArn"],
        handler: super::imports::describe_import,
    },
    Served {
        name: "DescribeLimits",
        honours: &[],
        handler: describe_limits,
    },
    Served {
        name: "DescribeTable",
        honours: &["TableName"],
        handler: describe_table,
    },
    Served {
        name: "DescribeTimeToLive",
        honours: &["TableName"],
        handler: describe_time_to_live,
    },
    Served {
        name: "ExecuteStatement",
        honours: super::partiql::HONOURS,
        handler: super::partiql::execute_statement,
    },
    Served {
        name: "ExecuteTransaction",
        honours: super::partiql::TRANSACTION_HONOURS,
        handler: super::partiql::execute_transaction,
    },
    Served {
        name: "ExportTableToPointInTime",
        honours: &[
            "ClientToken",
            "ExportFormat",
            "ExportTime",
            "ExportType",
            "FilterSpecification",
            "IncrementalExportSpecification",
            "S3Bucket",
            "S3BucketOwner",
            "S3Prefix",
            // Checked against the model, then refused by name (`exports.rs`).
            "S3SseAlgorithm",
            "S3SseKmsKeyId",
            "TableArn",
        ],
        handler: super::exports::export_table_to_point_in_time,
    },
    Served {
        name: "GetItem",
        honours: &[
            "AttributesToGet",
            "ConsistentRead",
            "ExpressionAttributeNames",
            "Key",
            "ProjectionExpression",
            "ReturnConsumedCapacity",
            "TableName",
        ],
        handler: get_item,
    },
    Served {
        name: "GetResourcePolicy",
        honours: &["ResourceArn"],
        handler: get_resource_policy,
    },
    Served {
        name: "ImportTable",
        honours: &[
            "ClientToken",
            "InputCompressionType",
            "InputFormat",
            "InputFormatOptions",
            "S3BucketSource",
            "TableCreationParameters",
        ],
        handler: super::imports::import_table,
    },
    Served {
        name: "ListBackups",
        honours: &[
            "BackupType",
            "ExclusiveStartBackupArn",
            "Limit",
            "TableName",
            "TimeRangeLowerBound",
            "TimeRangeUpperBound",
        ],
        handler: list_backups,
    },
    Served {
        name: "ListExports",
        honours: &["MaxResults", "NextToken", "TableArn"],
        handler: super::exports::list_exports,
    },
    Served {
        name: "ListImports",
        honours: &["NextToken", "PageSize", "TableArn"],
        handler: super::imports::list_imports,
    },
    Served {
        name: "ListTables",
        honours: &["ExclusiveStartTableName", "Limit"],
        handler: list_tables,
    },
    Served {
        name: "ListTagsOfResource",
        honours: &["NextToken", "ResourceArn"],
        handler: list_tags_of_resource,
    },
    Served {
        name: "PutItem",
        honours: &[
            "ConditionExpression",
            "ConditionalOperator",
            "Expected",
            EXPRESSION_MAPS[0],
            EXPRESSION_MAPS[1],
            "Item",
            "ReturnConsumedCapacity",
            "ReturnItemCollectionMetrics",
            "ReturnValues",
            "ReturnValuesOnConditionCheckFailure",
            "TableName",
        ],
        handler: put_item,
    },
    Served {
        name: "PutResourcePolicy",
        honours: &[
            "ConfirmRemoveSelfResourceAccess",
            "ExpectedRevisionId",
            "Policy",
            "ResourceArn",
        ],
        handler: put_resource_policy,
    },
    Served {
        name: "Query",
        honours: &[
            "AttributesToGet",
            "ConditionalOperator",
            "ConsistentRead",
            "ExclusiveStartKey",
            EXPRESSION_MAPS[0],
            EXPRESSION_MAPS[1],
            "FilterExpression",
            "IndexName",
            "KeyConditionExpression",
            "KeyConditions",
            "Limit",
            "ProjectionExpression",
            "QueryFilter",
            "ReturnConsumedCapacity",
            "ScanIndexForward",
            "Select",
            "TableName",
        ],
        handler: query,
    },
    Served {
        name: "RestoreTableFromBackup",
        honours: &[
            "BackupArn",
            "BillingModeOverride",
            "GlobalSecondaryIndexOverride",
            "LocalSecondaryIndexOverride",
            "OnDemandThroughputOverride",
            "ProvisionedThroughputOverride",
            "SSESpecificationOverride",
            "TargetTableName",
        ],
        handler: restore_table_from_backup,
    },
    Served {
        name: "RestoreTableToPointInTime",
        honours: &[
            "BillingModeOverride",
            "GlobalSecondaryIndexOverride",
            "LocalSecondaryIndexOverride",
            "OnDemandThroughputOverride",
            "ProvisionedThroughputOverride",
            "RestoreDateTime",
            "SSESpecificationOverride",
            "SourceTableArn",
            "SourceTableName",
            "TargetTableName",
            "UseLatestRestorableTime",
        ],
        handler: restore_table_to_point_in_time,
    },
    Served {
        name: "Scan",
        honours: &[
            "AttributesToGet",
            "ConditionalOperator",
            "ConsistentRead",
            "ExclusiveStartKey",
            EXPRESSION_MAPS[0],
            EXPRESSION_MAPS[1],
            "FilterExpression",
            "IndexName",
            "Limit",
            "ProjectionExpression",
            "ReturnConsumedCapacity",
            "ScanFilter",
            "Segment",
            "Select",
            "TableName",
            "TotalSegments",
        ],
        handler: scan,
    },
    Served {
        name: "TagResource",
        honours: &["ResourceArn", "Tags"],
        handler: tag_resource,
    },
    Served {
        name: "TransactGetItems",
        honours: &["ReturnConsumedCapacity", "TransactItems"],
        handler: transact_get_items,
    },
    Served {
        name: "TransactWriteItems",
        honours: &[
            "ClientRequestToken",
            "ReturnConsumedCapacity",
            "ReturnItemCollectionMetrics",
            "TransactItems",
        ],
        handler: transact_write_items,
    },
    Served {
        name: "UntagResource",
        honours: &["ResourceArn", "TagKeys"],
        handler: untag_resource,
    },
    Served {
        name: "UpdateContinuousBackups",
        honours: &["PointInTimeRecoverySpecification", "TableName"],
        handler: update_continuous_backups,
    },
    Served {
        name: "UpdateItem",
        honours: &[
            "AttributeUpdates",
            "ConditionExpression",
            "ConditionalOperator",
            "Expected",
            EXPRESSION_MAPS[0],
            EXPRESSION_MAPS[1],
            "Key",
            "ReturnConsumedCapacity",
            "ReturnItemCollectionMetrics",
            "ReturnValues",
            "ReturnValuesOnConditionCheckFailure",
            "TableName",
            "UpdateExpression",
        ],
        handler: update_item,
    },
    Served {
        name: "UpdateTable",
        honours: &[
            "AttributeDefinitions",
            "BillingMode",
            "DeletionProtectionEnabled",
            "GlobalSecondaryIndexUpdates",
            "OnDemandThroughput",
            "ProvisionedThroughput",
            "StreamSpecification",
            "SSESpecification",
            "TableClass",
            "TableName",
            "WarmThroughput",
        ],
        handler: update_table,
    },
    Served {
        name: "UpdateTimeToLive",
        honours: &["TableName", "TimeToLiveSpecification"],
        handler: update_time_to_live,
    },
];

/// Whether operation `name` only reads what the engine holds in memory, so that it never
/// waits on the disk, and answers at most about a megabyte (a page of Query or Scan): the
/// server runs it on the thread that read the request. BatchGetItem and TransactGetItems
/// are not among them, though they read from memory too: their answers reach 16 MB and
/// 4 MB, tens of milliseconds to serialise.
pub(super) fn answers_from_memory(name: &str) -> bool {
    matches!(
        name,
        "DescribeEndpoints"
            | "DescribeLimits"
            | "DescribeTable"
            | "GetItem"
            | "ListTables"
            | "Query"
            | "Scan"
    )
}

/// Whether operation `name` writes one item: one log record, so at most one log sync to
/// wait for (none when its condition fails). The server runs it on the thread that read the
/// request when its connection is the only one open (`http.rs`, `runs_inline`).
pub(super) fn writes_one_item(name: &str) -> bool {
    matches!(name, "PutItem" | "UpdateItem" | "DeleteItem")
}

/// Whether `name` is one of DynamoDB's operations (served or not).
pub(super) fn is_dynamodb_operation(name: &str) -> bool {
    model::operation(name).is_some()
}

/// Runs DynamoDB's operation `name` on `body`; the answer's JSON body, or the error to send.
pub(super) fn call(call: &Call<'_>, name: &str, body: Value) -> Result<Value, WireError> {
    dispatch(model::operation(name), SERVED, call, name, body)
}

/// Runs operation `name` of an API on `body`, after the checks of `model` (its entry in the
/// API's model, `None` if the API has no such operation): one of `served` answers it.
pub(super) fn dispatch(
    model: Option<&model::Operation>,
    served: &[Served],
    call: &Call<'_>,
    name: &str,
    body: Value,
) -> Result<Value, WireError> {
    let Some(model) = model else {
        return Err(WireError::unknown_operation());
    };
    let Some(served) = served.iter().find(|s| s.name == name) else {
        return Err(WireError::not_implemented(name));
    };
    let Value::Object(fields) = &body else {
        return Err(WireError::serialization());
    };
    check_members(model, served, fields)?;
    (served.handler)(call, body)
}

/// DynamoDB's model checks: required members present, every member given honoured.
fn check_members(
    model: &model::Operation,
    served: &Served,
    fields: &Map<String, Value>,
) -> Result<(), WireError> {
    let missing: Vec<String> = (model.required.iter())
        .filter(|m| fields.get(**m).is_none_or(Value::is_null))
        .map(|m| lower_first(m))
        .collect();
    not_null(&missing)?;
    for (member, values) in model.enums {
        let Some(given) = fields.get(*member).filter(|v| !v.is_null()) else {
            continue;
        };
        if !given.as_str().is_some_and(|v| values.contains(&v)) {
            if *member == "TableClass" {
                // DynamoDB checks this one itself, in its own words rather than the
                // model's (Alternator's `test_tableclass_create_table_bad_tableclass`).
                return Err(WireError::validation(format!(
                    "Invalid table-class parameter provided. Please try again with a valid table-class value: [{}].",
                    values.join(", ")
                )));
            }
            let shown = given
                .as_str()
                .map_or_else(|| given.to_string(), str::to_owned);
            return Err(WireError::validation(format!(
                "1 validation error detected: Value '{shown}' at '{}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                lower_first(member),
                values.join(", ")
            )));
        }
    }
    let unhonoured = fields
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.as_str())
        .find(|m| model.members.contains(m) && !served.honours.contains(m));
    match unhonoured {
        Some(member) => Err(WireError::validation(format!(
            "tidestore does not support the parameter {member} of {}",
            served.name
        ))),
        None => Ok(()),
    }
}

/// DynamoDB's refusal of the members at `paths` (`a.b` for a nested one) left null, if any.
fn not_null(paths: &[String]) -> Result<(), WireError> {
    match paths.is_empty() {
        true => Ok(()),
        false => Err(null_members(paths)),
    }
}

/// DynamoDB's refusal of the members at `paths` (at least one), left null.
fn null_members(paths: &[String]) -> WireError {
    let errors: Vec<String> = paths
        .iter()
        .map(|path| {
            format!("Value null at '{path}' failed to satisfy constraint: Member must not be null")
        })
        .collect();
    let count = errors.len();
    let plural = if count == 1 { "" } else { "s" };
    WireError::validation(format!(
        "{count} validation error{plural} detected: {}",
        errors.join("; ")
    ))
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The request as `T`; a member of the wrong JSON type is DynamoDB's `SerializationException`.
///
/// But a string that is not one of its enum's values, at any depth, is DynamoDB's
/// `ValidationException` naming the member by its path (`streamSpecification.streamViewType`,
/// `keySchema.1.member.keyType`: members first-letter lower case, list items numbered from
/// 1), as for a top-level enum (`check_members`). So is a member left out below the top
/// level (`Member must not be null` at its path, as `check_members` says of a top-level
/// one), and a value of the right JSON type that the data model refuses (a number that is
/// not numeric, an `AttributeValue` with no type, bad base64): those refusals are the only
/// errors that are not serde's own, and DynamoDB answers each with a `ValidationException`.
pub(super) fn input<T: DeserializeOwned>(body: Value) -> Result<T, WireError> {
    // The legacy members are read through a flattened struct, where serde loses the path
    // of what it refuses: kept (when given, which is rare) to find it in.
    let legacy: Vec<(&str, &str, Value)> = (LEGACY_ENTRIES.iter())
        .filter_map(|&(member, inner)| Some((member, inner, body.get(member)?.clone())))
        .collect();
    // Kept to name a value it refuses (see below); a few small values, as a rule.
    let values = body.get("ExpressionAttributeValues").cloned();
    serde_path_to_error::deserialize(body).map_err(|e| {
        let message = e.inner().to_string();
        let mut path = member_path(e.path());
        if let Some((value, values)) = unknown_variant(&message) {
            if path.is_empty() {
                path = legacy_path(&legacy, |v| v.as_str() == Some(value));
            }
            return WireError::validation(format!(
                "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                path.join("."),
                values.join(", ")
            ));
        }
        if let Some(member) = missing_field(&message) {
            if path.is_empty() {
                path = legacy_path(&legacy, |v| v.is_null());
                path.pop();
            }
            let path: Vec<String> = path.into_iter().chain([lower_first(member)]).collect();
            return null_members(&[path.join(".")]);
        }
        if !is_serde_own(&message) {
            // A value DynamoDB refuses (an empty set, say) in `ExpressionAttributeValues` is
            // named as the expression layer names it, with its key (moto's AWS-verified
            // `test_update_item_add_empty_set` and `test_update_item_unused_attributes`).
            // (The expression members are read through a flattened struct: the path is
            // lost, so the values are decoded again to find the one refused.)
            let refused = values.as_ref().and_then(Value::as_object).and_then(|values| {
                values.iter().find(|(_, value)| {
                    crate::AttributeValue::deserialize(*value)
                        .is_err_and(|refused| refused.to_string() == message)
                })
            });
            if let Some((key, _)) = refused {
                return WireError::validation(format!(
                    "ExpressionAttributeValues contains invalid value: {message} for key {key}"
                ));
            }
            return WireError::validation(message);
        }
        let mut error = WireError::serialization();
        error.message = Some(message);
        error
    })
}

/// The legacy members (`api/legacy.rs`), maps from an attribute's name to a structure,
/// with the enum member of that structure: the only enums and required members that
/// serde reads below a flattened struct.
const LEGACY_ENTRIES: [(&str, &str); 5] = [
    ("KeyConditions", "ComparisonOperator"),
    ("QueryFilter", "ComparisonOperator"),
    ("ScanFilter", "ComparisonOperator"),
    ("Expected", "ComparisonOperator"),
    ("AttributeUpdates", "Action"),
];

/// The path of the first enum member of a legacy entry whose value `refused` picks
/// (`keyConditions.a.member.comparisonOperator`); empty if none.
fn legacy_path(legacy: &[(&str, &str, Value)], refused: impl Fn(&Value) -> bool) -> Vec<String> {
    for (member, inner, entries) in legacy {
        let Value::Object(entries) = entries else {
            continue;
        };
        for (name, entry) in entries {
            if refused(entry.get(*inner).unwrap_or(&Value::Null)) {
                return vec![
                    lower_first(member),
                    format!("{name}.member"),
                    lower_first(inner),
                ];
            }
        }
    }
    Vec::new()
}

/// The members whose values are maps keyed by the caller's names (of tables, of
/// attributes), with structures as values in which a member can be missing or badly
/// typed.
const KEYED_BY_CALLER: [&str; 6] = [
    "RequestItems",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
    "Expected",
    "AttributeUpdates",
];

/// A path as DynamoDB's validation messages write it: members first-letter lower case,
/// list items numbered from 1 and followed by `.member` (`keySchema.1.member.keyType`),
/// and a key of a caller's map as the caller wrote it, followed by `.member`
/// (`requestItems.Music.member.keys`, `keyConditions.a.member.comparisonOperator`: as in
/// dynalite's tests, written against DynamoDB).
fn member_path(path: &serde_path_to_error::Path) -> Vec<String> {
    let mut names = Vec::new();
    let mut callers_key_next = false;
    for segment in path.iter() {
        let name = match segment {
            serde_path_to_error::Segment::Map { key } if callers_key_next => {
                callers_key_next = false;
                format!("{key}.member")
            }
            serde_path_to_error::Segment::Map { key } => {
                callers_key_next = KEYED_BY_CALLER.contains(&key.as_str());
                lower_first(key)
            }
            serde_path_to_error::Segment::Seq { index } => {
                callers_key_next = false;
                format!("{}.member", index + 1)
            }
            // A member of a union (`WriteRequest`'s `PutRequest`), read as an enum.
            serde_path_to_error::Segment::Enum { variant } => {
                callers_key_next = false;
                lower_first(variant)
            }
            serde_path_to_error::Segment::Unknown => continue,
        };
        names.push(name);
    }
    names
}

/// The member serde's error for a struct that lacks it names: "missing field `X`".
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

/// Whether `message` is one of serde's own errors (a JSON value of the wrong type or shape),
/// not a refusal written by the data model's deserializers.
fn is_serde_own(message: &str) -> bool {
    const SERDE_OWN: [&str; 7] = [
        "invalid type: ",
        "invalid value: ",
        "invalid length ",
        "unknown variant ",
        "unknown field ",
        "missing field ",
        "duplicate field ",
    ];
    SERDE_OWN.iter().any(|prefix| message.starts_with(prefix))
}

/// The value and the accepted values of serde's error for a string no variant of an enum
/// is named: "unknown variant `X`, expected one of `A`, `B`, `C`" ("expected `A` or `B`",
/// "expected `A`"): the accepted values are the quoted words after "expected".
fn unknown_variant(message: &str) -> Option<(&str, Vec<&str>)> {
    let rest = message.strip_prefix("unknown variant `")?;
    let (value, expected) = rest.split_once("`, expected ")?;
    let values = expected.split('`').skip(1).step_by(2).collect();
    Some((value, values))
}

/// An output as its JSON body.
pub(super) fn output<T: Serialize>(value: Result<T, Error>) -> Result<Value, WireError> {
    let value = value?;
    serde_json::to_value(value).map_err(|e| {
        WireError::from(Error::Io {
            context: "writing the answer".into(),
            source: std::io::Error::other(e),
        })
    })
}

fn db(state: &ServerState) -> &Database {
    &state.db
}

/// The handlers that read the request as the operation's input, call the database and answer
/// its output: most operations.
macro_rules! plain_handlers {
    ($($name:ident: $input:ty),* $(,)?) => {$(
        fn $name(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
            output(db(state).$name(input::<$input>(body)?))
        }
    )*};
}

plain_handlers! {
    list_tables: ListTablesInput,
    put_item: PutItemInput,
    get_item: GetItemInput,
    update_item: UpdateItemInput,
    delete_item: DeleteItemInput,
    batch_write_item: BatchWriteItemInput,
    transact_write_items: TransactWriteItemsInput,
    transact_get_items: TransactGetItemsInput,
    list_backups: ListBackupsInput,
    update_continuous_backups: UpdateContinuousBackupsInput,
    list_tags_of_resource: ListTagsOfResourceInput,
}

/// BatchGetItem: a table's `Keys` left out is DynamoDB's `Member must not be null` at its
/// path (the library's [`KeysAndAttributes`](crate::KeysAndAttributes) reads it as no keys,
/// which it refuses in other words).
fn batch_get_item(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    if let Some(Value::Object(tables)) = body.get("RequestItems") {
        let missing: Vec<String> = (tables.iter())
            .filter(|(_, request)| request.get("Keys").is_none_or(Value::is_null))
            .map(|(table, _)| format!("requestItems.{table}.member.keys"))
            .collect();
        not_null(&missing)?;
    }
    output(db(state).batch_get_item(input::<BatchGetItemInput>(body)?))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TableName {
    table_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BackupArn {
    backup_arn: String,
}

// ---- Tables. ----

fn create_table(state: &Call<'_>, mut body: Value) -> Result<Value, WireError> {
    let refusal = indexes::settle(TableRequest::CreateTable, &mut body);
    let request = input::<CreateTableInput>(body)?;
    if let Some(refusal) = refusal {
        return Err(refusal);
    }
    let warm_asked = request.warm_throughput.is_some();
    // (Held until the table is made: no import of its name starts meanwhile.)
    let _reserved = state.state.imports.reserve_name(&request.table_name)?;
    let mut description = output(db(state).create_table(request))?;
    // DynamoDB's CreateTable answer carries the table's WarmThroughput only when the request
    // set one; DescribeTable always does.
    if let (false, Some(members)) = (warm_asked, description.as_object_mut()) {
        members.remove("WarmThroughput");
    }
    Ok(json!({ "TableDescription": description }))
}

fn describe_table(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let TableName { table_name } = input(body)?;
    Ok(json!({ "Table": output(db(state).describe_table(&table_name))? }))
}

fn update_table(state: &Call<'_>, mut body: Value) -> Result<Value, WireError> {
    let refusal = indexes::settle(TableRequest::UpdateTable, &mut body);
    let request = input::<UpdateTableInput>(body)?;
    if let Some(refusal) = refusal {
        return Err(refusal);
    }
    let description = db(state).update_table(request);
    Ok(json!({ "TableDescription": output(description)? }))
}

/// The restores: their index overrides are read as CreateTable's index members are
/// (`indexes.rs`).
macro_rules! restore_handlers {
    ($($name:ident: $input:ty),* $(,)?) => {$(
        fn $name(state: &Call<'_>, mut body: Value) -> Result<Value, WireError> {
            let refusal = indexes::settle(TableRequest::Restore, &mut body);
            let request = input::<$input>(body)?;
            if let Some(refusal) = refusal {
                return Err(refusal);
            }
            let _reserved = state.state.imports.reserve_name(&request.target_table_name)?;
            output(db(state).$name(request))
        }
    )*};
}

restore_handlers! {
    restore_table_from_backup: RestoreTableFromBackupInput,
    restore_table_to_point_in_time: RestoreTableToPointInTimeInput,
}

/// The members of a table's description that DynamoDB's `DeleteTable` leaves out of the one
/// it answers (its name, status, ids, throughput, billing and counts stay).
const LEFT_OUT_OF_DELETE_TABLE: [&str; 5] = [
    "AttributeDefinitions",
    "CreationDateTime",
    "GlobalSecondaryIndexes",
    "KeySchema",
    "LocalSecondaryIndexes",
];

fn delete_table(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let TableName { table_name } = input(body)?;
    let mut description = output(db(state).delete_table(&table_name))?;
    if let Value::Object(members) = &mut description {
        for member in LEFT_OUT_OF_DELETE_TABLE {
            members.remove(member);
        }
    }
    Ok(json!({ "TableDescription": description }))
}

/// DynamoDB's one endpoint: the host the client addressed, as DynamoDB names itself there.
fn describe_endpoints(call: &Call<'_>, _body: Value) -> Result<Value, WireError> {
    let address = call.host();
    Ok(json!({ "Endpoints": [{ "Address": address, "CachePeriodInMinutes": 1440 }] }))
}

/// DynamoDB's default account and table quotas for provisioned capacity (`ServiceQuotas`).
fn describe_limits(_state: &Call<'_>, _body: Value) -> Result<Value, WireError> {
    Ok(json!({
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    }))
}

// ---- Items. ----

/// `Segment` and `TotalSegments` travel as two members; the input holds them as one pair.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Segments {
    segment: Option<u32>,
    total_segments: Option<u32>,
}

/// A `Query` or `Scan` page as its JSON body. DynamoDB's answer to `Select: COUNT` carries
/// the counts and no `Items` member at all (not an empty list); the library's output always
/// has the list, so it is dropped here.
fn page<T: Serialize>(value: Result<T, Error>, select: Option<Select>) -> Result<Value, WireError> {
    let mut page = output(value)?;
    if select == Some(Select::Count) {
        if let Some(members) = page.as_object_mut() {
            members.remove("Items");
        }
    }
    Ok(page)
}

fn query(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let query: QueryInput = input(body)?;
    let select = query.select;
    page(db(state).query(query), select)
}

fn scan(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let segments: Segments = input(body.clone())?;
    let mut scan: ScanInput = input(body)?;
    scan.segment = match (segments.segment, segments.total_segments) {
        (None, None) => None,
        (Some(segment), Some(total)) => Some((segment, total)),
        (Some(_), None) => {
            return Err(WireError::validation(
                "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
            ))
        }
        (None, Some(_)) => {
            return Err(WireError::validation(
                "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
            ))
        }
    };
    let select = scan.select;
    page(db(state).scan(scan), select)
}

// ---- Backups and point in time. ----

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateBackupRequest {
    table_name: String,
    backup_name: String,
}

fn create_backup(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let request: CreateBackupRequest = input(body)?;
    output(db(state).create_backup(&request.table_name, &request.backup_name))
}

fn describe_backup(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let BackupArn { backup_arn } = input(body)?;
    output(db(state).describe_backup(&backup_arn))
}

fn delete_backup(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let BackupArn { backup_arn } = input(body)?;
    output(db(state).delete_backup(&backup_arn))
}

fn describe_continuous_backups(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let TableName { table_name } = input(body)?;
    output(db(state).describe_continuous_backups(&table_name))
}

// ---- Tags and Time to Live. ----

/// A `Tag` as the wire may carry it: DynamoDB refuses a missing key or value with its tag
/// messages, not as a malformed request.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireTag {
    key: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagResourceRequest {
    resource_arn: String,
    tags: Vec<WireTag>,
}

fn tag_resource(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let request: TagResourceRequest = input(body)?;
    let mut tags = Vec::with_capacity(request.tags.len());
    for tag in request.tags {
        let Some(key) = tag.key else {
            return Err(WireError::validation(
                "The Tag Key provided is invalid, Key: null",
            ));
        };
        let Some(value) = tag.value else {
            return Err(WireError::validation(
                "The Tag Value provided is invalid, Value: null",
            ));
        };
        tags.push(Tag::new(key, value));
    }
    db(state).tag_resource(TagResourceInput::new(request.resource_arn, tags))?;
    Ok(Value::Null)
}

fn untag_resource(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    db(state).untag_resource(input::<UntagResourceInput>(body)?)?;
    Ok(Value::Null)
}

fn put_resource_policy(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    output(db(state).put_resource_policy(input::<PutResourcePolicyInput>(body)?))
}

fn get_resource_policy(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    output(db(state).get_resource_policy(input::<GetResourcePolicyInput>(body)?))
}

fn delete_resource_policy(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    output(db(state).delete_resource_policy(input::<DeleteResourcePolicyInput>(body)?))
}

/// `TimeToLiveSpecification` as the wire may carry it: a member left out is DynamoDB's
/// `Member must not be null`, as for a top-level one.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireTimeToLiveSpecification {
    enabled: Option<bool>,
    attribute_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateTimeToLiveRequest {
    table_name: String,
    time_to_live_specification: WireTimeToLiveSpecification,
}

fn update_time_to_live(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let request: UpdateTimeToLiveRequest = input(body)?;
    let spec = request.time_to_live_specification;
    let nulls = [
        ("enabled", spec.enabled.is_none()),
        ("attributeName", spec.attribute_name.is_none()),
    ];
    let paths: Vec<String> = (nulls.iter().filter(|(_, null)| *null))
        .map(|(member, _)| format!("timeToLiveSpecification.{member}"))
        .collect();
    not_null(&paths)?;
    let name = spec.attribute_name.unwrap_or_default();
    let update = match spec.enabled {
        Some(true) => UpdateTimeToLiveInput::enable(request.table_name, name),
        _ => UpdateTimeToLiveInput::disable(request.table_name, name),
    };
    output(db(state).update_time_to_live(update))
}

fn describe_time_to_live(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let TableName { table_name } = input(body)?;
    output(db(state).describe_time_to_live(&table_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error type and message a CreateTable request `body` is refused with.
    fn refused(body: Value) -> (String, String) {
        match input::<crate::CreateTableInput>(body) {
            Err(e) => (e.type_name, e.message.unwrap_or_default()),
            Ok(_) => panic!("accepted"),
        }
    }

    /// A bad enum value below the top level is a ValidationException naming its member's
    /// path, as DynamoDB answers (Alternator's `test_create_streams_wrong_type`, which
    /// passes on DynamoDB); a value of the wrong JSON type stays a SerializationException.
    #[test]
    fn a_nested_enum_value_of_no_variant_is_a_validation_error_naming_its_path() {
        let (kind, message) = refused(serde_json::json!({
            "TableName": "T01",
            "KeySchema": [{"AttributeName": "p", "KeyType": "HASHX"}],
            "AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"}],
        }));
        assert!(kind.ends_with("#ValidationException"), "{kind}");
        assert_eq!(
            message,
            "1 validation error detected: Value 'HASHX' at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]"
        );
        let (_, message) = refused(serde_json::json!({
            "TableName": "T01",
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "Fisk"},
        }));
        assert!(
            message.contains("Value 'Fisk' at 'streamSpecification.streamViewType'"),
            "{message}"
        );
        let (kind, _) = refused(serde_json::json!({"TableName": 5}));
        assert!(kind.ends_with("#SerializationException"), "{kind}");
    }

    /// A value of the right JSON shape that DynamoDB's data model refuses is DynamoDB's
    /// ValidationException with its message (Alternator's `test_put_item_empty_attribute`,
    /// which passes on DynamoDB), not the SerializationException of a wrongly shaped member.
    #[test]
    fn a_value_the_model_refuses_is_a_validation_error_with_dynamodb_message() {
        let refused = |value: Value| {
            let body =
                serde_json::json!({"TableName": "T01", "Item": {"p": {"S": "k"}, "a": value}});
            match input::<crate::PutItemInput>(body) {
                Err(e) => (e.type_name, e.message.unwrap_or_default()),
                Ok(_) => panic!("accepted"),
            }
        };
        let (kind, message) = refused(serde_json::json!({"NS": []}));
        assert!(kind.ends_with("#ValidationException"), "{kind}");
        assert_eq!(
            message,
            "One or more parameter values were invalid: An number set  may not be empty"
        );
        for value in [
            serde_json::json!({"SS": ["x", "x"]}),
            serde_json::json!({"N": "twelve"}),
            serde_json::json!({"NULL": false}),
            serde_json::json!({}),
            serde_json::json!({"S": "x", "N": "1"}),
        ] {
            let (kind, _) = refused(value.clone());
            assert!(kind.ends_with("#ValidationException"), "{value}: {kind}");
        }
        let (kind, _) = refused(serde_json::json!({"S": 5}));
        assert!(kind.ends_with("#SerializationException"), "{kind}");
    }

    /// `Select: COUNT` answers the counts without an `Items` member, as DynamoDB does
    /// (Alternator's `test_query_select`); any other `Select` keeps the list, even empty.
    #[test]
    fn a_count_page_has_no_items_member_and_other_pages_keep_theirs() {
        let counted = crate::api::items::QueryOutput {
            count: 3,
            scanned_count: 4,
            ..Default::default()
        };
        let answer = page(Ok(counted.clone()), Some(Select::Count)).expect("an answer");
        assert_eq!(answer, json!({"Count": 3, "ScannedCount": 4}));
        for select in [None, Some(Select::AllAttributes)] {
            let answer = page(Ok(counted.clone()), select).expect("an answer");
            assert_eq!(answer["Items"], json!([]), "{select:?}");
        }
    }

    /// A member left out below the top level is DynamoDB's `Member must not be null` at its
    /// path, as a top-level one is (Alternator's `test_create_table_invalid_attribute_definitions`
    /// and `test_create_table_lacking_attribute_definitions`, which pass on DynamoDB).
    #[test]
    fn a_member_left_out_is_member_must_not_be_null_at_its_path() {
        let (kind, message) = refused(serde_json::json!({
            "TableName": "T01",
            "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeType": "S"}],
        }));
        assert!(kind.ends_with("#ValidationException"), "{kind}");
        assert_eq!(
            message,
            "1 validation error detected: Value null at 'attributeDefinitions.1.member.attributeName' failed to satisfy constraint: Member must not be null"
        );
        let (kind, message) = refused(serde_json::json!({
            "TableName": "T01",
            "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"}],
        }));
        assert!(kind.ends_with("#ValidationException"), "{kind}");
        assert!(
            message.contains("Value null at 'attributeDefinitions'"),
            "{message}"
        );
    }

    /// A key of a caller's map (a table's name in `RequestItems`, an attribute's in
    /// `KeyConditions`) keeps its case in a validation message's path and is followed by
    /// `.member`, as DynamoDB writes it (dynalite's tests, written against DynamoDB:
    /// `requestItems.aa;.member.1.member.putRequest.item`,
    /// `keyConditions.a.member.comparisonOperator`).
    #[test]
    fn a_key_of_a_callers_map_keeps_its_case_in_a_validation_path() {
        let message = |result: Result<(), WireError>| match result {
            Err(e) => e.message.unwrap_or_default(),
            Ok(()) => panic!("accepted"),
        };
        let batch = message(
            input::<crate::BatchWriteItemInput>(json!({
                "RequestItems": {"Music": [{"PutRequest": {}}]}
            }))
            .map(drop),
        );
        assert_eq!(
            batch,
            "1 validation error detected: Value null at 'requestItems.Music.member.1.member.putRequest.item' failed to satisfy constraint: Member must not be null"
        );
        let query = message(
            input::<crate::QueryInput>(json!({
                "TableName": "T01",
                "KeyConditions": {"Artist": {"ComparisonOperator": "EQUALS"}}
            }))
            .map(drop),
        );
        assert!(
            query.contains("Value 'EQUALS' at 'keyConditions.Artist.member.comparisonOperator'"),
            "{query}"
        );
        let scan = message(
            input::<crate::ScanInput>(json!({
                "TableName": "T01",
                "ScanFilter": {"Year": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "1"}]}, "Title": {}}
            }))
            .map(drop),
        );
        assert_eq!(
            scan,
            "1 validation error detected: Value null at 'scanFilter.Title.member.comparisonOperator' failed to satisfy constraint: Member must not be null"
        );
        let update = message(
            input::<crate::UpdateItemInput>(json!({
                "TableName": "T01",
                "Key": {"p": {"S": "k"}},
                "AttributeUpdates": {"Plays": {"Action": "INCREMENT"}}
            }))
            .map(drop),
        );
        assert!(
            update.contains("Value 'INCREMENT' at 'attributeUpdates.Plays.member.action'"),
            "{update}"
        );
    }

    /// A value of the right JSON type that the data model refuses (`{"N": "NaN"}`, an
    /// `AttributeValue` with no type) is DynamoDB's `ValidationException` with the model's
    /// message, as wire.md and Alternator's `test_incorrect_numbers` say; only a value of
    /// the wrong JSON type is a `SerializationException`.
    #[test]
    fn a_value_the_data_model_refuses_is_a_validation_error() {
        let refused = |value: Value| {
            let body = serde_json::json!({"TableName": "T01", "Item": {"p": value}});
            match input::<crate::PutItemInput>(body) {
                Err(e) => (e.type_name, e.message.unwrap_or_default()),
                Ok(_) => panic!("accepted"),
            }
        };
        for text in ["NaN", "Infinity", "-Infinity", "dog"] {
            let (kind, message) = refused(serde_json::json!({ "N": text }));
            assert!(kind.ends_with("#ValidationException"), "{text}: {kind}");
            assert!(message.contains("numeric"), "{message}");
        }
        let (kind, message) = refused(serde_json::json!({}));
        assert!(kind.ends_with("#ValidationException"), "{kind}");
        assert!(message.contains("AttributeValue is empty"), "{message}");
        let (kind, _) = refused(serde_json::json!({ "N": 5 }));
        assert!(kind.ends_with("#SerializationException"), "{kind}");
    }

    /// A `TableClass` that is not one of DynamoDB's is refused in DynamoDB's words for it, not
    /// the model's enum envelope (Alternator's `test_tableclass_create_table_bad_tableclass`
    /// and `test_tableclass_update_table`, which pass on DynamoDB).
    #[test]
    fn an_unknown_table_class_is_refused_in_dynamodbs_words() {
        for operation in ["CreateTable", "UpdateTable"] {
            let model = model::operation(operation).expect("in the model");
            let served = SERVED.iter().find(|s| s.name == operation).expect("served");
            for class in ["junk", "standard"] {
                let body = serde_json::json!({"TableName": "T01", "TableClass": class});
                let Value::Object(fields) = body else {
                    unreachable!()
                };
                let error = check_members(model, served, &fields).expect_err(class);
                assert!(error.type_name.ends_with("#ValidationException"));
                assert_eq!(
                    error.message.as_deref(),
                    Some("Invalid table-class parameter provided. Please try again with a valid table-class value: [STANDARD, STANDARD_INFREQUENT_ACCESS].")
                );
            }
        }
    }

    #[test]
    fn every_served_operation_is_in_the_model_and_honours_only_its_members() {
        assert!(SERVED.windows(2).all(|w| w[0].name < w[1].name), "sorted");
        for served in SERVED {
            let model = model::operation(served.name).expect("a DynamoDB operation");
            for member in served.honours {
                assert!(model.members.contains(member), "{}: {member}", served.name);
            }
            for required in model.required {
                assert!(
                    served.honours.contains(required),
                    "{} needs {required}",
                    served.name
                );
            }
        }
    }
}
