//! Requests and responses of the item operations: `PutItem`, `GetItem`, `UpdateItem`,
//! `DeleteItem`, `Query`, `Scan`, `BatchWriteItem`, `BatchGetItem`, `TransactWriteItems` and
//! `TransactGetItems`.
//!
//! Inputs are structs with public fields, a `new` taking the required ones and chainable
//! setters for the rest: `PutItemInput::new("Music", item).condition(...)`. Expressions are
//! typed values from [`crate::expr`] or DynamoDB's strings ([`Expressions`]). Outputs
//! serialize with serde to the API model's field names, so printing one with `serde_json`
//! gives what the AWS CLI prints.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::capacity::{ConsumedCapacity, ReturnConsumedCapacity};
use crate::api::expressions::{expression_setters, one_of, Expressions};
use crate::api::legacy::{
    legacy_setters, mixed, AttributeValueUpdate, ConditionalOperator, ExpectedAttributeValue,
    Legacy, LegacyCondition, LegacyParameters,
};
use crate::api::setters;
use crate::error::{Error, Result};
use crate::expr::syntax::ExpressionKind;
use crate::expr::{Comparator, Condition, Operand, Path, PathElement, Update};
use crate::model::value::{AttributeValue, Item};

/// The most requests in one `BatchWriteItem`.
pub const MAX_BATCH_WRITE: usize = 25;
/// The most keys in one `BatchGetItem`.
pub const MAX_BATCH_GET: usize = 100;
/// The largest response of one `BatchGetItem`: past it, the rest of the keys come back in
/// `UnprocessedKeys`.
pub const MAX_BATCH_GET_BYTES: usize = 16 * 1024 * 1024;
/// The most actions in one `TransactWriteItems` or `TransactGetItems`.
pub const MAX_TRANSACT_ITEMS: usize = 100;
/// The largest total item size of a `BatchWriteItem`.
pub const MAX_BATCH_WRITE_BYTES: usize = 16 * 1024 * 1024;
/// The largest total item size of a `TransactWriteItems`.
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

/// What a write returns of the item (`ReturnValues`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReturnValue {
    /// Nothing (the default).
    #[default]
    None,
    /// The whole item as it was before the write.
    AllOld,
    /// Only the attributes the update changed, as they were before (`UpdateItem` only).
    UpdatedOld,
    /// The whole item as it is after the write (`UpdateItem` only).
    AllNew,
    /// Only the attributes the update changed, as they are after (`UpdateItem` only).
    UpdatedNew,
}

/// What a failed condition returns of the item (`ReturnValuesOnConditionCheckFailure`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReturnValuesOnConditionCheckFailure {
    /// Nothing (the default).
    #[default]
    None,
    /// The item as it was when the condition failed.
    AllOld,
}

/// Which attributes a read returns (`Select`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Select {
    /// Every attribute (for an index: of the table's item, which must be projected ALL).
    #[default]
    AllAttributes,
    /// Every attribute the index projects.
    AllProjectedAttributes,
    /// The attributes of the projection expression.
    SpecificAttributes,
    /// No items, only `Count` and `ScannedCount`.
    Count,
}

/// `PutItem`: store an item, replacing any item with the same key.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct PutItemInput {
    /// Table name or ARN.
    pub table_name: String,
    /// The whole item, key attributes included.
    pub item: Item,
    /// The write happens only if this holds for the existing item (if any).
    #[serde(skip)]
    pub condition: Option<Condition>,
    /// NONE or ALL_OLD.
    pub return_values: ReturnValue,
    /// Whether a failed condition returns the existing item.
    pub return_values_on_condition_check_failure: ReturnValuesOnConditionCheckFailure,
    /// What the output reports of the capacity the request consumed.
    pub return_consumed_capacity: ReturnConsumedCapacity,
    /// Whether the output reports the item collection the write touched (tables with local
    /// secondary indexes only).
    pub return_item_collection_metrics: ReturnItemCollectionMetrics,
    /// The expressions as DynamoDB strings, with their substitution maps; each lands in its
    /// typed field before the request runs.
    #[serde(flatten)]
    pub expressions: Expressions,
    /// DynamoDB's legacy conditional parameters (`Expected`, `AttributesToGet`, …), mapped onto
    /// the typed fields before the request runs.
    #[serde(flatten)]
    pub legacy: LegacyParameters,
}

impl PutItemInput {
    /// Put `item` into `table_name`.
    pub fn new(table_name: impl Into<String>, item: Item) -> PutItemInput {
        PutItemInput {
            table_name: table_name.into(),
            item,
            ..Default::default()
        }
    }
}

setters!(PutItemInput {
    condition: Condition => Some(condition),
    return_values: ReturnValue => return_values,
    return_values_on_condition_check_failure: ReturnValuesOnConditionCheckFailure => return_values_on_condition_check_failure,
    return_consumed_capacity: ReturnConsumedCapacity => return_consumed_capacity,
    return_item_collection_metrics: ReturnItemCollectionMetrics => return_item_collection_metrics,
});

/// What a single-item write returns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct WriteItemOutput {
    /// The attributes asked for by `ReturnValues`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Item>,
    /// The capacity the request consumed, when it asked (`ReturnConsumedCapacity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<ConsumedCapacity>,
    /// The item collection the write touched, when the request asked and the table has a
    /// local secondary index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_collection_metrics: Option<ItemCollectionMetrics>,
}

/// What `ReturnItemCollectionMetrics` asks a write to report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReturnItemCollectionMetrics {
    /// Nothing (the default).
    #[default]
    None,
    /// The size of each item collection written, on tables with local secondary indexes.
    Size,
}

/// The item collection (the items sharing a partition key) of a table with local secondary
/// indexes, after a write to it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ItemCollectionMetrics {
    /// The partition key of the collection.
    pub item_collection_key: Item,
    /// The collection's size in GB, as a lower and an upper bound. The size is DynamoDB's
    /// estimate: the collection's items plus their entries in every local secondary index
    /// (an entry's attributes and 100 bytes of overhead); the bounds are the whole
    /// gigabytes around it, so a collection under 1 GB reports `[0.0, 1.0]`.
    #[serde(rename = "SizeEstimateRangeGB")]
    pub size_estimate_range_gb: [f64; 2],
}

/// The item collections a batch or transaction wrote, by table as the request named it.
pub type ItemCollectionMetricsByTable = BTreeMap<String, Vec<ItemCollectionMetrics>>;

/// `PutItem`'s output.
pub type PutItemOutput = WriteItemOutput;
/// `DeleteItem`'s output.
pub type DeleteItemOutput = WriteItemOutput;
/// `UpdateItem`'s output.
pub type UpdateItemOutput = WriteItemOutput;

/// `GetItem`: read one item by its key.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct GetItemInput {
    /// Table name or ARN.
    pub table_name: String,
    /// The key attributes, exactly.
    pub key: Item,
    /// Return only these attributes (a projection expression).
    #[serde(skip)]
    pub projection: Option<Vec<Path>>,
    /// Every read in tidestore is strongly consistent; this sets what `ConsumedCapacity`
    /// reports, which is half for an eventually consistent read (false, the default).
    pub consistent_read: bool,
    /// What the output reports of the capacity the request consumed.
    pub return_consumed_capacity: ReturnConsumedCapacity,
    /// The expressions as DynamoDB strings, with their substitution maps; each lands in its
    /// typed field before the request runs.
    #[serde(flatten)]
    pub expressions: Expressions,
    /// DynamoDB's legacy conditional parameters (`Expected`, `AttributesToGet`, …), mapped onto
    /// the typed fields before the request runs.
    #[serde(flatten)]
    pub legacy: LegacyParameters,
}

impl GetItemInput {
    /// Get the item with `key` from `table_name`.
    pub fn new(table_name: impl Into<String>, key: Item) -> GetItemInput {
        GetItemInput {
            table_name: table_name.into(),
            key,
            ..Default::default()
        }
    }
}

setters!(GetItemInput {
    projection: Vec<Path> => Some(projection),
    consistent_read: bool => consistent_read,
    return_consumed_capacity: ReturnConsumedCapacity => return_consumed_capacity,
});

/// `GetItem`'s output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GetItemOutput {
    /// The item, if it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
    /// The capacity the request consumed, when it asked (`ReturnConsumedCapacity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<ConsumedCapacity>,
}

/// `DeleteItem`: remove one item by its key.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct DeleteItemInput {
    /// Table name or ARN.
    pub table_name: String,
    /// The key attributes, exactly.
    pub key: Item,
    /// The delete happens only if this holds for the existing item (if any).
    #[serde(skip)]
    pub condition: Option<Condition>,
    /// NONE or ALL_OLD.
    pub return_values: ReturnValue,
    /// Whether a failed condition returns the existing item.
    pub return_values_on_condition_check_failure: ReturnValuesOnConditionCheckFailure,
    /// What the output reports of the capacity the request consumed.
    pub return_consumed_capacity: ReturnConsumedCapacity,
    /// Whether the output reports the item collection the write touched (tables with local
    /// secondary indexes only).
    pub return_item_collection_metrics: ReturnItemCollectionMetrics,
    /// The expressions as DynamoDB strings, with their substitution maps; each lands in its
    /// typed field before the request runs.
    #[serde(flatten)]
    pub expressions: Expressions,
    /// DynamoDB's legacy conditional parameters (`Expected`, `AttributesToGet`, …), mapped onto
    /// the typed fields before the request runs.
    #[serde(flatten)]
    pub legacy: LegacyParameters,
}

impl DeleteItemInput {
    /// Delete the item with `key` from `table_name`.
    pub fn new(table_name: impl Into<String>, key: Item) -> DeleteItemInput {
        DeleteItemInput {
            table_name: table_name.into(),
            key,
            ..Default::default()
        }
    }
}

setters!(DeleteItemInput {
    condition: Condition => Some(condition),
    return_values: ReturnValue => return_values,
    return_values_on_condition_check_failure: ReturnValuesOnConditionCheckFailure => return_values_on_condition_check_failure,
    return_consumed_capacity: ReturnConsumedCapacity => return_consumed_capacity,
    return_item_collection_metrics: ReturnItemCollectionMetrics => return_item_collection_metrics,
});

/// `UpdateItem`: change some attributes of an item, creating it if it does not exist.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct UpdateItemInput {
    /// Table name or ARN.
    pub table_name: String,
    /// The key attributes, exactly.
    pub key: Item,
    /// The actions (SET, REMOVE, ADD, DELETE).
    #[serde(skip)]
    pub update: Update,
    /// The update happens only if this holds for the existing item (if any).
    #[serde(skip)]
    pub condition: Option<Condition>,
    /// Any of the five.
    pub return_values: ReturnValue,
    /// Whether a failed condition returns the existing item.
    pub return_values_on_condition_check_failure: ReturnValuesOnConditionCheckFailure,
    /// What the output reports of the capacity the request consumed.
    pub return_consumed_capacity: ReturnConsumedCapacity,
    /// Whether the output reports the item collection the write touched (tables with local
    /// secondary indexes only).
    pub return_item_collection_metrics: ReturnItemCollectionMetrics,
    /// The expressions as DynamoDB strings, with their substitution maps; each lands in its
    /// typed field before the request runs.
    #[serde(flatten)]
    pub expressions: Expressions,
    /// DynamoDB's legacy conditional parameters (`Expected`, `AttributesToGet`, …), mapped onto
    /// the typed fields before the request runs.
    #[serde(flatten)]
    pub legacy: LegacyParameters,
}

impl UpdateItemInput {
    /// Apply `update` to the item with `key` in `table_name`.
    pub fn new(table_name: impl Into<String>, key: Item, update: Update) -> UpdateItemInput {
        UpdateItemInput {
            table_name: table_name.into(),
            key,
            update,
            ..Default::default()
        }
    }

    /// Update the item with `key` in `table_name`, the update still to give as an
    /// [`update_expression`](UpdateItemInput::update_expression).
    pub fn for_key(table_name: impl Into<String>, key: Item) -> UpdateItemInput {
        UpdateItemInput::new(table_name, key, Update::new())
    }
}

setters!(UpdateItemInput {
    condition: Condition => Some(condition),
    return_values: ReturnValue => return_values,
    return_values_on_condition_check_failure: ReturnValuesOnConditionCheckFailure => return_values_on_condition_check_failure,
    return_consumed_capacity: ReturnConsumedCapacity => return_consumed_capacity,
    return_item_collection_metrics: ReturnItemCollectionMetrics => return_item_collection_metrics,
});

/// A condition on one key attribute of a query: `=` for the partition key, any of these for
/// the sort key.
#[derive(Clone, Debug, PartialEq)]
pub enum SortKeyOp {
    /// `key = v`
    Eq(AttributeValue),
    /// `key < v`
    Lt(AttributeValue),
    /// `key <= v`
    Le(AttributeValue),
    /// `key > v`
    Gt(AttributeValue),
    /// `key >= v`
    Ge(AttributeValue),
    /// `key BETWEEN low AND high` (both inclusive)
    Between(AttributeValue, AttributeValue),
    /// `begins_with(key, prefix)` (strings and binaries)
    BeginsWith(AttributeValue),
}

/// A key condition (`KeyConditionExpression`, typed): one condition per key attribute, named.
/// Which name is the partition key and which the sort key is the table's or index's business:
/// the query matches them to its key schema, so a key condition can be built, or parsed from
/// a string, without knowing the table.
///
/// A global index with a multi-attribute key (up to four partition and four sort
/// attributes) is queried with an equality on every partition attribute, then conditions
/// on a prefix of its sort attributes, left to right with none skipped: equalities, and
/// any [`SortKeyOp`] on the last one given. For a key of one partition and one sort
/// attribute that is the familiar rule.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct KeyCondition {
    /// The key attributes' names and their conditions, in the order written.
    pub conditions: Vec<(String, SortKeyOp)>,
}

impl KeyCondition {
    /// `name = value` on the partition key.
    pub fn partition(name: impl Into<String>, value: impl Into<AttributeValue>) -> KeyCondition {
        KeyCondition {
            conditions: vec![(name.into(), SortKeyOp::Eq(value.into()))],
        }
    }

    /// Adds a condition on the sort key attribute `name`.
    #[must_use]
    pub fn sort(mut self, name: impl Into<String>, op: SortKeyOp) -> KeyCondition {
        self.conditions.push((name.into(), op));
        self
    }

    /// Adds `name = value` on another key attribute: another partition attribute of a
    /// multi-attribute key, or one of the sort attributes before the last one given.
    #[must_use]
    pub fn and_eq(self, name: impl Into<String>, value: impl Into<AttributeValue>) -> KeyCondition {
        self.sort(name, SortKeyOp::Eq(value.into()))
    }

    /// The key condition a [`Condition`] states: comparisons of a top-level attribute with a
    /// value (either side; not `<>`), `BETWEEN` two values and `begins_with`, joined by `AND`.
    /// Anything else is DynamoDB's `Query key condition not supported`.
    pub fn from_condition(condition: &Condition) -> Result<KeyCondition> {
        let mut conditions = Vec::new();
        let mut stack = vec![condition];
        while let Some(c) = stack.pop() {
            match c {
                Condition::And(a, b) => stack.extend([&**b, &**a]),
                term => conditions.push(key_term(term)?),
            }
        }
        Ok(KeyCondition { conditions })
    }
}

/// One term of a key condition: `name op value`.
fn key_term(term: &Condition) -> Result<(String, SortKeyOp)> {
    let unsupported = || Error::validation("Query key condition not supported");
    let named = |p: &Path| match p.0.as_slice() {
        [PathElement::Attribute(name)] => Ok(name.clone()),
        _ => Err(unsupported()),
    };
    match term {
        Condition::Compare { left, op, right } => {
            // `:v <= sk` is `sk >= :v`.
            let (path, value, op) = match (left, right) {
                (Operand::Path(p), Operand::Value(v)) => (p, v.clone(), *op),
                (Operand::Value(v), Operand::Path(p)) => (p, v.clone(), op.flipped()),
                _ => return Err(unsupported()),
            };
            let op = match op {
                Comparator::Eq => SortKeyOp::Eq(value),
                Comparator::Lt => SortKeyOp::Lt(value),
                Comparator::Le => SortKeyOp::Le(value),
                Comparator::Gt => SortKeyOp::Gt(value),
                Comparator::Ge => SortKeyOp::Ge(value),
                Comparator::Ne => return Err(unsupported()),
            };
            Ok((named(path)?, op))
        }
        Condition::Between {
            value: Operand::Path(p),
            low: Operand::Value(low),
            high: Operand::Value(high),
        } => Ok((named(p)?, SortKeyOp::Between(low.clone(), high.clone()))),
        // The sort key first, the prefix second: `begins_with(:v, sk)` selects no key range.
        Condition::BeginsWith(Operand::Path(p), Operand::Value(prefix)) => {
            Ok((named(p)?, SortKeyOp::BeginsWith(prefix.clone())))
        }
        _ => Err(unsupported()),
    }
}

/// `Query`: the items of one partition, in sort key order, from the table or an index.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct QueryInput {
    /// Table name or ARN.
    pub table_name: String,
    /// Read this index instead of the table.
    pub index_name: Option<String>,
    /// Which partition, and which sort keys within it.
    #[serde(skip)]
    pub key_condition: KeyCondition,
    /// Items read but failing this are not returned (they still count toward `Limit`).
    #[serde(skip)]
    pub filter: Option<Condition>,
    /// Return only these attributes.
    #[serde(skip)]
    pub projection: Option<Vec<Path>>,
    /// Which attributes, or only a count.
    pub select: Option<Select>,
    /// Read at most this many items (before the filter).
    pub limit: Option<u32>,
    /// Ascending (true, the default) or descending sort key order.
    pub scan_index_forward: bool,
    /// Continue after this key (the previous page's `LastEvaluatedKey`).
    pub exclusive_start_key: Option<Item>,
    /// Every read in tidestore is strongly consistent; this sets what `ConsumedCapacity`
    /// reports, which is half for an eventually consistent read (false, the default). A
    /// consistent read of a global index is a validation error, as in DynamoDB.
    pub consistent_read: bool,
    /// What the output reports of the capacity the request consumed.
    pub return_consumed_capacity: ReturnConsumedCapacity,
    /// The expressions as DynamoDB strings, with their substitution maps; each lands in its
    /// typed field before the request runs.
    #[serde(flatten)]
    pub expressions: Expressions,
    /// DynamoDB's legacy conditional parameters (`Expected`, `AttributesToGet`, …), mapped onto
    /// the typed fields before the request runs.
    #[serde(flatten)]
    pub legacy: LegacyParameters,
}

impl Default for QueryInput {
    /// A query of no table yet, in ascending order (DynamoDB's `ScanIndexForward` default).
    fn default() -> QueryInput {
        QueryInput::table("")
    }
}

impl QueryInput {
    /// Query `table_name` with `key_condition`.
    pub fn new(table_name: impl Into<String>, key_condition: KeyCondition) -> QueryInput {
        QueryInput {
            table_name: table_name.into(),
            index_name: None,
            key_condition,
            filter: None,
            projection: None,
            select: None,
            limit: None,
            scan_index_forward: true,
            exclusive_start_key: None,
            consistent_read: false,
            return_consumed_capacity: ReturnConsumedCapacity::None,
            expressions: Expressions::default(),
            legacy: LegacyParameters::default(),
        }
    }

    /// Query `table_name` with the key condition still to give, as a
    /// [`key_condition_expression`](QueryInput::key_condition_expression).
    pub fn table(table_name: impl Into<String>) -> QueryInput {
        QueryInput::new(table_name, KeyCondition::default())
    }
}

setters!(QueryInput {
    index_name: impl Into<String> => Some(index_name.into()),
    filter: Condition => Some(filter),
    projection: Vec<Path> => Some(projection),
    select: Select => Some(select),
    limit: u32 => Some(limit),
    scan_index_forward: bool => scan_index_forward,
    exclusive_start_key: Item => Some(exclusive_start_key),
    consistent_read: bool => consistent_read,
    return_consumed_capacity: ReturnConsumedCapacity => return_consumed_capacity,
});

/// `Scan`: every item of the table or an index, a page at a time, optionally one segment of
/// a parallel scan.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct ScanInput {
    /// Table name or ARN.
    pub table_name: String,
    /// Read this index instead of the table.
    pub index_name: Option<String>,
    /// Items read but failing this are not returned (they still count toward `Limit`).
    #[serde(skip)]
    pub filter: Option<Condition>,
    /// Return only these attributes.
    #[serde(skip)]
    pub projection: Option<Vec<Path>>,
    /// Which attributes, or only a count.
    pub select: Option<Select>,
    /// Read at most this many items (before the filter).
    pub limit: Option<u32>,
    /// Continue after this key (the previous page's `LastEvaluatedKey`).
    pub exclusive_start_key: Option<Item>,
    /// This worker's segment and the total number of segments of a parallel scan.
    #[serde(skip)]
    pub segment: Option<(u32, u32)>,
    /// Every read in tidestore is strongly consistent; this sets what `ConsumedCapacity`
    /// reports, which is half for an eventually consistent read (false, the default).
    pub consistent_read: bool,
    /// What the output reports of the capacity the request consumed.
    pub return_consumed_capacity: ReturnConsumedCapacity,
    /// The expressions as DynamoDB strings, with their substitution maps; each lands in its
    /// typed field before the request runs.
    #[serde(flatten)]
    pub expressions: Expressions,
    /// DynamoDB's legacy conditional parameters (`Expected`, `AttributesToGet`, …), mapped onto
    /// the typed fields before the request runs.
    #[serde(flatten)]
    pub legacy: LegacyParameters,
}

impl ScanInput {
    /// Scan `table_name`.
    pub fn new(table_name: impl Into<String>) -> ScanInput {
        ScanInput {
            table_name: table_name.into(),
            ..Default::default()
        }
    }
}

setters!(ScanInput {
    index_name: impl Into<String> => Some(index_name.into()),
    filter: Condition => Some(filter),
    projection: Vec<Path> => Some(projection),
    select: Select => Some(select),
    limit: u32 => Some(limit),
    exclusive_start_key: Item => Some(exclusive_start_key),
    segment: (u32, u32) => Some(segment),
    consistent_read: bool => consistent_read,
    return_consumed_capacity: ReturnConsumedCapacity => return_consumed_capacity,
});

/// A page of `Query` or `Scan` results.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct QueryOutput {
    /// The items that passed the filter (none for `Select::Count`).
    #[serde(default)]
    pub items: Vec<Item>,
    /// How many items passed the filter.
    pub count: u32,
    /// How many items were read.
    pub scanned_count: u32,
    /// Where the next page starts; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluated_key: Option<Item>,
    /// The capacity the request consumed, when it asked (`ReturnConsumedCapacity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<ConsumedCapacity>,
}

/// A page of `Scan` results.
pub type ScanOutput = QueryOutput;

/// One request of a `BatchWriteItem`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WriteRequest {
    /// Store this item.
    #[serde(rename = "PutRequest")]
    Put {
        /// The whole item.
        #[serde(rename = "Item")]
        item: Item,
    },
    /// Delete the item with this key.
    #[serde(rename = "DeleteRequest")]
    Delete {
        /// The key attributes.
        #[serde(rename = "Key")]
        key: Item,
    },
}

/// `BatchWriteItem`: up to 25 puts and deletes over one or more tables. Unlike DynamoDB,
/// tidestore applies the whole batch as one atomic, durable log record, so it never returns
/// unprocessed items.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct BatchWriteItemInput {
    /// Table name to the writes for it.
    pub request_items: BTreeMap<String, Vec<WriteRequest>>,
    /// What the output reports of the capacity the request consumed.
    #[serde(default)]
    pub return_consumed_capacity: ReturnConsumedCapacity,
    /// Whether the output reports the item collections the writes touched (tables with local
    /// secondary indexes only).
    #[serde(default)]
    pub return_item_collection_metrics: ReturnItemCollectionMetrics,
}

impl BatchWriteItemInput {
    /// An empty batch: add its writes with [`put`](Self::put) and [`delete`](Self::delete).
    pub fn new() -> BatchWriteItemInput {
        BatchWriteItemInput::default()
    }

    /// Adds a put of `item` into `table_name`.
    #[must_use]
    pub fn put(self, table_name: impl Into<String>, item: Item) -> BatchWriteItemInput {
        self.request(table_name, WriteRequest::Put { item })
    }

    /// Adds a delete of the item with `key` from `table_name`.
    #[must_use]
    pub fn delete(self, table_name: impl Into<String>, key: Item) -> BatchWriteItemInput {
        self.request(table_name, WriteRequest::Delete { key })
    }

    /// Sets `return_consumed_capacity`.
    #[must_use]
    pub fn return_consumed_capacity(mut self, mode: ReturnConsumedCapacity) -> Self {
        self.return_consumed_capacity = mode;
        self
    }

    /// Sets `return_item_collection_metrics`.
    #[must_use]
    pub fn return_item_collection_metrics(mut self, mode: ReturnItemCollectionMetrics) -> Self {
        self.return_item_collection_metrics = mode;
        self
    }

    fn request(mut self, table_name: impl Into<String>, request: WriteRequest) -> Self {
        let requests = self.request_items.entry(table_name.into()).or_default();
        requests.push(request);
        self
    }
}

/// `BatchWriteItem`'s output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct BatchWriteItemOutput {
    /// Always empty: tidestore processes every request of an accepted batch.
    pub unprocessed_items: BTreeMap<String, Vec<WriteRequest>>,
    /// The capacity the request consumed on each table, when it asked
    /// (`ReturnConsumedCapacity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
    /// The item collections written on tables with local secondary indexes, when the
    /// request asked (`ReturnItemCollectionMetrics`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_collection_metrics: Option<ItemCollectionMetricsByTable>,
}

/// The keys to read from one table in a `BatchGetItem`, or left unread in its
/// `UnprocessedKeys` (with the projection written back as a string, so the same value can be
/// sent again).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct KeysAndAttributes {
    /// The keys.
    pub keys: Vec<Item>,
    /// Return only these attributes.
    #[serde(skip)]
    pub projection: Option<Vec<Path>>,
    /// Every read in tidestore is strongly consistent; this sets what `ConsumedCapacity`
    /// reports, which is half for an eventually consistent read (false, the default).
    pub consistent_read: bool,
    /// The expressions as DynamoDB strings, with their substitution maps; each lands in its
    /// typed field before the request runs.
    #[serde(flatten)]
    pub expressions: Expressions,
    /// DynamoDB's legacy conditional parameters (`Expected`, `AttributesToGet`, …), mapped onto
    /// the typed fields before the request runs.
    #[serde(flatten)]
    pub legacy: LegacyParameters,
}

/// `BatchGetItem`: up to 100 items by key over one or more tables.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct BatchGetItemInput {
    /// Table name to the keys to read from it.
    pub request_items: BTreeMap<String, KeysAndAttributes>,
    /// What the output reports of the capacity the request consumed.
    pub return_consumed_capacity: ReturnConsumedCapacity,
}

impl BatchGetItemInput {
    /// An empty request: add a table's keys with [`table`](Self::table).
    pub fn new() -> BatchGetItemInput {
        BatchGetItemInput::default()
    }

    /// Sets `return_consumed_capacity`.
    #[must_use]
    pub fn return_consumed_capacity(mut self, mode: ReturnConsumedCapacity) -> Self {
        self.return_consumed_capacity = mode;
        self
    }

    /// Reads `keys` from `table_name` (replacing any keys given for it before).
    #[must_use]
    pub fn table(mut self, table_name: impl Into<String>, keys: KeysAndAttributes) -> Self {
        self.request_items.insert(table_name.into(), keys);
        self
    }
}

/// `BatchGetItem`'s output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct BatchGetItemOutput {
    /// Table name to the items found (missing keys are simply absent), in request order.
    pub responses: BTreeMap<String, Vec<Item>>,
    /// The keys left unread because the response reached 16 MB (DynamoDB's limit), by table,
    /// ready to be sent again as `request_items`.
    pub unprocessed_keys: BTreeMap<String, KeysAndAttributes>,
    /// The capacity the request consumed on each table, when it asked
    /// (`ReturnConsumedCapacity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
}

/// A `ConditionCheck` action of a `TransactWriteItems`: a condition on an item, which must
/// hold for the transaction to apply.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct ConditionCheckInput {
    /// Table name or ARN.
    pub table_name: String,
    /// The item's key.
    pub key: Item,
    /// Must hold, or the transaction is cancelled; this or a `ConditionExpression` is
    /// required.
    #[serde(skip)]
    pub condition: Option<Condition>,
    /// Whether a failed condition returns the item in the cancellation reason.
    pub return_values_on_condition_check_failure: ReturnValuesOnConditionCheckFailure,
    /// The condition as a DynamoDB string, with its substitution maps.
    #[serde(flatten)]
    pub expressions: Expressions,
}

impl ConditionCheckInput {
    /// Check the item with `key` in `table_name`; give the condition with
    /// [`condition`](ConditionCheckInput::condition) or
    /// [`condition_expression`](ConditionCheckInput::condition_expression).
    pub fn new(table_name: impl Into<String>, key: Item) -> ConditionCheckInput {
        ConditionCheckInput {
            table_name: table_name.into(),
            key,
            ..Default::default()
        }
    }
}

setters!(ConditionCheckInput {
    condition: Condition => Some(condition),
    return_values_on_condition_check_failure: ReturnValuesOnConditionCheckFailure => return_values_on_condition_check_failure,
});

/// One action of a `TransactWriteItems`, named on the wire as DynamoDB names it
/// (`{"Put": {…}}`).
#[derive(Clone, Debug, Deserialize)]
pub enum TransactWriteItem {
    /// Check a condition on an item without writing it.
    ConditionCheck(ConditionCheckInput),
    /// A put, as `PutItem` (its `return_values` is ignored).
    Put(PutItemInput),
    /// A delete, as `DeleteItem` (its `return_values` is ignored).
    Delete(DeleteItemInput),
    /// An update, as `UpdateItem` (its `return_values` is ignored).
    Update(UpdateItemInput),
}

/// `TransactWriteItems`: up to 100 actions on distinct items, all applied or none.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct TransactWriteItemsInput {
    /// The actions.
    pub transact_items: Vec<TransactWriteItem>,
    /// Makes the transaction idempotent (1 to 36 characters): sent again with this token
    /// within 10 minutes of committing, it answers success and writes nothing; with other
    /// actions it is `IdempotentParameterMismatchException`, and while the first is still
    /// running `TransactionInProgressException`. A cancelled transaction keeps no token.
    /// The token is logged with the transaction, so this holds across a crash or a reopen
    /// too; at most 100,000 tokens are remembered at once, the oldest forgotten first.
    pub client_request_token: Option<String>,
    /// What the output reports of the capacity the request consumed.
    pub return_consumed_capacity: ReturnConsumedCapacity,
    /// Whether the output reports the item collection the write touched (tables with local
    /// secondary indexes only).
    pub return_item_collection_metrics: ReturnItemCollectionMetrics,
}

impl TransactWriteItemsInput {
    /// A transaction of `transact_items`.
    pub fn new(transact_items: Vec<TransactWriteItem>) -> TransactWriteItemsInput {
        TransactWriteItemsInput {
            transact_items,
            client_request_token: None,
            return_consumed_capacity: ReturnConsumedCapacity::None,
            return_item_collection_metrics: ReturnItemCollectionMetrics::None,
        }
    }
}

setters!(TransactWriteItemsInput {
    client_request_token: impl Into<String> => Some(client_request_token.into()),
    return_consumed_capacity: ReturnConsumedCapacity => return_consumed_capacity,
    return_item_collection_metrics: ReturnItemCollectionMetrics => return_item_collection_metrics,
});

/// `TransactWriteItems`' output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct TransactWriteItemsOutput {
    /// The capacity the request consumed on each table, when it asked
    /// (`ReturnConsumedCapacity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
    /// The item collections written on tables with local secondary indexes, when the
    /// request asked (`ReturnItemCollectionMetrics`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_collection_metrics: Option<ItemCollectionMetricsByTable>,
}

/// One read of a `TransactGetItems`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct TransactGetItem {
    /// Table name or ARN.
    pub table_name: String,
    /// The item's key.
    pub key: Item,
    /// Return only these attributes.
    #[serde(skip)]
    pub projection: Option<Vec<Path>>,
    /// The expressions as DynamoDB strings, with their substitution maps; each lands in its
    /// typed field before the request runs.
    #[serde(flatten)]
    pub expressions: Expressions,
}

/// `TransactGetItems`: up to 100 reads of distinct items, all from one consistent state.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct TransactGetItemsInput {
    /// The reads (on the wire, each wrapped as `{"Get": {…}}`).
    #[serde(deserialize_with = "get_actions")]
    pub transact_items: Vec<TransactGetItem>,
    /// What the output reports of the capacity the request consumed.
    pub return_consumed_capacity: ReturnConsumedCapacity,
}

impl TransactGetItemsInput {
    /// A transaction of `transact_items`.
    pub fn new(transact_items: Vec<TransactGetItem>) -> TransactGetItemsInput {
        TransactGetItemsInput {
            transact_items,
            return_consumed_capacity: ReturnConsumedCapacity::None,
        }
    }
}

setters!(TransactGetItemsInput {
    return_consumed_capacity: ReturnConsumedCapacity => return_consumed_capacity,
});

/// `TransactItems` as DynamoDB sends it: `[{"Get": {…}}, …]`.
fn get_actions<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Vec<TransactGetItem>, D::Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct GetAction {
        get: TransactGetItem,
    }
    let actions = Vec::<GetAction>::deserialize(deserializer)?;
    Ok(actions.into_iter().map(|a| a.get).collect())
}

/// The item of one `TransactGetItems` read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ItemResponse {
    /// The item, if it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

/// `TransactGetItems`' output: one response per read, in request order, all from one
/// consistent state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct TransactGetItemsOutput {
    /// One per read.
    pub responses: Vec<ItemResponse>,
    /// The capacity the request consumed on each table, when it asked
    /// (`ReturnConsumedCapacity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<ConsumedCapacity>>,
}

// ---- The string forms: builder methods, and parsing them into the typed fields. ----

expression_setters!(PutItemInput: condition_expression);
expression_setters!(DeleteItemInput: condition_expression);
expression_setters!(UpdateItemInput: update_expression, condition_expression);
expression_setters!(GetItemInput: projection_expression);
expression_setters!(QueryInput: key_condition_expression, filter_expression, projection_expression);
expression_setters!(ScanInput: filter_expression, projection_expression);
expression_setters!(KeysAndAttributes: projection_expression);
expression_setters!(TransactGetItem: projection_expression);

impl TransactGetItem {
    /// Read the item with `key` in `table_name`.
    pub fn new(table_name: impl Into<String>, key: Item) -> TransactGetItem {
        TransactGetItem {
            table_name: table_name.into(),
            key,
            ..Default::default()
        }
    }
}

setters!(TransactGetItem {
    projection: Vec<Path> => Some(projection),
});

impl KeysAndAttributes {
    /// Read the items with `keys`.
    pub fn new(keys: Vec<Item>) -> KeysAndAttributes {
        KeysAndAttributes {
            keys,
            ..Default::default()
        }
    }
}

setters!(KeysAndAttributes {
    projection: Vec<Path> => Some(projection),
    consistent_read: bool => consistent_read,
});
expression_setters!(ConditionCheckInput: condition_expression);

type Conditions = BTreeMap<String, LegacyCondition>;
type Expected = BTreeMap<String, ExpectedAttributeValue>;
legacy_setters!(PutItemInput: expected: Expected, conditional_operator: ConditionalOperator);
legacy_setters!(DeleteItemInput: expected: Expected, conditional_operator: ConditionalOperator);
legacy_setters!(UpdateItemInput: expected: Expected, conditional_operator: ConditionalOperator,
    attribute_updates: BTreeMap<String, AttributeValueUpdate>);
legacy_setters!(GetItemInput: attributes_to_get: Vec<String>);
legacy_setters!(QueryInput: key_conditions: Conditions, query_filter: Conditions,
    conditional_operator: ConditionalOperator, attributes_to_get: Vec<String>);
legacy_setters!(ScanInput: scan_filter: Conditions, conditional_operator: ConditionalOperator,
    attributes_to_get: Vec<String>);
legacy_setters!(KeysAndAttributes: attributes_to_get: Vec<String>);

impl PutItemInput {
    /// Puts its expression strings and legacy parameters into the typed fields.
    pub(crate) fn resolve(&mut self) -> Result<()> {
        if self.expressions.is_empty() && self.legacy.is_empty() {
            return Ok(());
        }
        let legacy = self
            .legacy
            .parse("PutItem", &[Legacy::Expected], &self.expressions)?;
        let parsed = self
            .expressions
            .parse("PutItem", &[ExpressionKind::Condition])?;
        let condition = parsed.condition.or(legacy.condition);
        self.condition = one_of("ConditionExpression", self.condition.take(), condition)?;
        Ok(())
    }
}

impl DeleteItemInput {
    /// Puts its expression strings and legacy parameters into the typed fields.
    pub(crate) fn resolve(&mut self) -> Result<()> {
        if self.expressions.is_empty() && self.legacy.is_empty() {
            return Ok(());
        }
        let legacy = self
            .legacy
            .parse("DeleteItem", &[Legacy::Expected], &self.expressions)?;
        let parsed = self
            .expressions
            .parse("DeleteItem", &[ExpressionKind::Condition])?;
        let condition = parsed.condition.or(legacy.condition);
        self.condition = one_of("ConditionExpression", self.condition.take(), condition)?;
        Ok(())
    }
}

impl UpdateItemInput {
    /// Puts its expression strings and legacy parameters into the typed fields.
    pub(crate) fn resolve(&mut self) -> Result<()> {
        if self.expressions.is_empty() && self.legacy.is_empty() {
            return Ok(());
        }
        use ExpressionKind::{Condition as C, Update as U};
        let takes = [Legacy::Expected, Legacy::AttributeUpdates];
        let legacy = self.legacy.parse("UpdateItem", &takes, &self.expressions)?;
        let parsed = self.expressions.parse("UpdateItem", &[U, C])?;
        let condition = parsed.condition.or(legacy.condition);
        self.condition = one_of("ConditionExpression", self.condition.take(), condition)?;
        let typed = Some(std::mem::take(&mut self.update)).filter(|u| !u.actions.is_empty());
        let update = parsed.update.or(legacy.update);
        self.update = one_of("UpdateExpression", typed, update)?.unwrap_or_default();
        Ok(())
    }
}

impl GetItemInput {
    /// Puts its expression strings and legacy parameters into the typed fields.
    pub(crate) fn resolve(&mut self) -> Result<()> {
        if self.expressions.is_empty() && self.legacy.is_empty() {
            return Ok(());
        }
        let legacy = self
            .legacy
            .parse("GetItem", &[Legacy::AttributesToGet], &self.expressions)?;
        let parsed = self
            .expressions
            .parse("GetItem", &[ExpressionKind::Projection])?;
        let projection = parsed.projection.or(legacy.projection);
        self.projection = one_of("ProjectionExpression", self.projection.take(), projection)?;
        Ok(())
    }
}

impl QueryInput {
    /// Puts its expression strings and legacy parameters into the typed fields.
    pub(crate) fn resolve(&mut self) -> Result<()> {
        if self.expressions.is_empty() && self.legacy.is_empty() {
            return Ok(());
        }
        use ExpressionKind::{Filter, KeyCondition as K, Projection};
        let takes = [
            Legacy::KeyConditions,
            Legacy::QueryFilter,
            Legacy::AttributesToGet,
        ];
        let legacy = self.legacy.parse("Query", &takes, &self.expressions)?;
        let parsed = self.expressions.parse("Query", &[K, Filter, Projection])?;
        let filter = parsed.filter.or(legacy.filter);
        self.filter = one_of("FilterExpression", self.filter.take(), filter)?;
        let projection = parsed.projection.or(legacy.projection);
        self.projection = one_of("ProjectionExpression", self.projection.take(), projection)?;
        let typed =
            Some(std::mem::take(&mut self.key_condition)).filter(|k| !k.conditions.is_empty());
        let parsed = parsed
            .key_condition
            .map(|c| KeyCondition::from_condition(&c))
            .transpose()?
            .or(legacy.key_condition);
        self.key_condition = one_of("KeyConditionExpression", typed, parsed)?.unwrap_or_default();
        Ok(())
    }
}

impl ScanInput {
    /// Puts its expression strings and legacy parameters into the typed fields.
    pub(crate) fn resolve(&mut self) -> Result<()> {
        if self.expressions.is_empty() && self.legacy.is_empty() {
            return Ok(());
        }
        use ExpressionKind::{Filter, Projection};
        let takes = [Legacy::ScanFilter, Legacy::AttributesToGet];
        let legacy = self.legacy.parse("Scan", &takes, &self.expressions)?;
        let parsed = self.expressions.parse("Scan", &[Filter, Projection])?;
        let filter = parsed.filter.or(legacy.filter);
        self.filter = one_of("FilterExpression", self.filter.take(), filter)?;
        let projection = parsed.projection.or(legacy.projection);
        self.projection = one_of("ProjectionExpression", self.projection.take(), projection)?;
        Ok(())
    }
}

impl KeysAndAttributes {
    /// Puts its expression strings and legacy parameters into the typed fields.
    pub(crate) fn resolve(&mut self) -> Result<()> {
        if self.expressions.is_empty() && self.legacy.is_empty() {
            return Ok(());
        }
        let takes = [Legacy::AttributesToGet];
        let legacy = self
            .legacy
            .parse("BatchGetItem", &takes, &self.expressions)?;
        let parsed = self
            .expressions
            .parse("BatchGetItem", &[ExpressionKind::Projection])?;
        let projection = parsed.projection.or(legacy.projection);
        self.projection = one_of("ProjectionExpression", self.projection.take(), projection)?;
        Ok(())
    }
}

impl BatchGetItemInput {
    /// Puts every table's strings and legacy parameters into the typed fields.
    /// DynamoDB judges the mixing of the two over the whole request, not table by table.
    pub(crate) fn resolve(&mut self) -> Result<()> {
        let tables = || self.request_items.values();
        let legacy = tables().any(|k| k.legacy.attributes_to_get.is_some());
        let strings = tables().any(|k| k.expressions.projection_expression.is_some());
        if legacy && strings {
            return Err(mixed("AttributesToGet", "ProjectionExpression"));
        }
        for keys in self.request_items.values_mut() {
            keys.resolve()?;
        }
        Ok(())
    }
}

impl TransactGetItem {
    /// Puts its expression strings into the typed fields.
    pub(crate) fn resolve(&mut self) -> Result<()> {
        let parsed = self
            .expressions
            .parse("TransactGetItems", &[ExpressionKind::Projection])?;
        self.projection = one_of(
            "ProjectionExpression",
            self.projection.take(),
            parsed.projection,
        )?;
        Ok(())
    }
}

impl TransactWriteItem {
    /// Puts the action's expression strings into its typed fields.
    pub(crate) fn resolve(&mut self) -> Result<()> {
        // TransactWriteItems takes expressions only, as in DynamoDB.
        let none = &[];
        match self {
            TransactWriteItem::Put(put) => {
                put.legacy
                    .parse("TransactWriteItems", none, &put.expressions)?;
                put.resolve()
            }
            TransactWriteItem::Delete(delete) => {
                (delete.legacy).parse("TransactWriteItems", none, &delete.expressions)?;
                delete.resolve()
            }
            TransactWriteItem::Update(update) => {
                (update.legacy).parse("TransactWriteItems", none, &update.expressions)?;
                update.resolve()
            }
            TransactWriteItem::ConditionCheck(check) => {
                let parsed = check
                    .expressions
                    .parse("ConditionCheck", &[ExpressionKind::Condition])?;
                let typed = check.condition.take();
                check.condition = one_of("ConditionExpression", typed, parsed.condition)?;
                if check.condition.is_none() {
                    return Err(Error::validation("1 validation error detected: Value null at 'conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null"));
                }
                Ok(())
            }
        }
    }
}
