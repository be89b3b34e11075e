//! The members of the item operations (`GetItem`, `PutItem`, `Query`, `Scan`, the batches
//! and transactions): the table, keys and items of the base tables' schemas (mostly right,
//! sometimes of the wrong type or shape), expressions, indexes, limits, and the nested
//! request lists of `BatchWriteItem`, `BatchGetItem` and `TransactWriteItems`.

use serde_json::{json, Map, Value};

use super::members::Gen;

impl Gen<'_, '_> {
    /// The value of `member` when an item operation defines it (and of the few members
    /// several families share, such as `TableName` and `Limit`); `None` for any other.
    pub(super) fn item_member(&mut self, member: &str, table: &'static str) -> Option<Value> {
        let value = match member {
            "TableName" | "SourceTableName" => {
                if self.input.chance(95) {
                    json!(table)
                } else {
                    json!(self.input.text(260))
                }
            }
            "Key" | "ExclusiveStartKey" => self.key(table),
            "Item" => self.item(table),
            "ConditionExpression" | "FilterExpression" => json!(self.condition(3)),
            "KeyConditionExpression" => json!(self.key_condition()),
            "UpdateExpression" => json!(self.update()),
            "ProjectionExpression" => json!(self.projection()),
            "ExpressionAttributeNames" | "ExpressionAttributeValues" => Value::Null,
            "IndexName" => json!(self.input.pick(&["byA", "byB", "nope", ""])),
            "Limit" | "TopK" | "Segment" | "TotalSegments" | "RecoveryPeriodInDays" => {
                json!(self
                    .input
                    .pick(&[0i64, 1, 2, 3, 10, 100, 1000, -1, 1_000_001, i64::MAX]))
            }
            "ConsistentRead"
            | "ScanIndexForward"
            | "DeletionProtectionEnabled"
            | "UseLatestRestorableTime" => json!(self.input.chance(50)),
            "RequestItems" => self.request_items(table),
            "TransactItems" => self.transact_items(table),
            "Keys" => json!([self.key(table)]),
            "AttributesToGet" => json!(["pk", "a"]),
            "ClientRequestToken" | "ClientToken" => json!(self.input.text(40)),
            "Select" => json!(self.input.pick(&[
                "ALL_ATTRIBUTES",
                "COUNT",
                "SPECIFIC_ATTRIBUTES",
                "ALL_PROJECTED_ATTRIBUTES"
            ])),
            _ => return None,
        };
        Some(value)
    }

    /// `RequestItems` of `BatchWriteItem` or `BatchGetItem` (either shape, whichever
    /// operation is asked), over one or two tables.
    pub(super) fn request_items(&mut self, table: &'static str) -> Value {
        let mut items = Map::new();
        for _ in 0..1 + self.input.below(2) {
            let name = self.table();
            let entry = if self.input.chance(50) {
                // BatchWriteItem's shape.
                let writes: Vec<Value> = (0..1 + self.input.below(4))
                    .map(|_| match self.input.chance(60) {
                        true => json!({"PutRequest": {"Item": self.item(name)}}),
                        false => json!({"DeleteRequest": {"Key": self.key(name)}}),
                    })
                    .collect();
                json!(writes)
            } else {
                let keys: Vec<Value> = (0..1 + self.input.below(4))
                    .map(|_| self.key(name))
                    .collect();
                let mut get = json!({"Keys": keys});
                if self.input.chance(30) {
                    get["ProjectionExpression"] = json!(self.projection());
                }
                if self.input.chance(20) {
                    get["ConsistentRead"] = json!(true);
                }
                get
            };
            items.insert(name.to_owned(), entry);
        }
        let _ = table;
        Value::Object(items)
    }

    /// `TransactItems`: one to four actions, mostly on `table`.
    pub(super) fn transact_items(&mut self, table: &'static str) -> Value {
        let actions: Vec<Value> = (0..1 + self.input.below(4))
            .map(|_| {
                let t = if self.input.chance(70) { table } else { self.table() };
                match self.input.below(5) {
                    0 => json!({"Put": {"TableName": t, "Item": self.item(t)}}),
                    1 => json!({"Update": {"TableName": t, "Key": self.key(t), "UpdateExpression": self.update()}}),
                    2 => json!({"Delete": {"TableName": t, "Key": self.key(t)}}),
                    3 => json!({"ConditionCheck": {"TableName": t, "Key": self.key(t), "ConditionExpression": self.condition(2)}}),
                    _ => json!({"Get": {"TableName": t, "Key": self.key(t)}}),
                }
            })
            .collect();
        json!(actions)
    }

    /// A key of `table`: mostly right, sometimes of the wrong type or shape.
    pub(super) fn key(&mut self, table: &str) -> Value {
        let mut key = Map::new();
        match table {
            "num" => {
                key.insert("pk".into(), json!({"N": self.number()}));
            }
            _ => {
                key.insert("pk".into(), json!({"S": self.short_text()}));
                if self.input.chance(92) {
                    key.insert("sk".into(), json!({"N": self.number()}));
                }
            }
        }
        if self.input.chance(6) {
            let name = self.attribute_name();
            let value = self.value(1);
            key.insert(name, value);
        }
        Value::Object(key)
    }

    /// An item of `table`: a key (see [`Gen::key`]) and up to five more attributes.
    pub(super) fn item(&mut self, table: &str) -> Value {
        let Value::Object(mut item) = self.key(table) else {
            unreachable!("a key is an object")
        };
        for _ in 0..self.input.below(6) {
            let name = self.attribute_name();
            let value = match name.as_str() {
                "a" if self.input.chance(80) => json!({"S": self.short_text()}),
                "b" if self.input.chance(80) => json!({"N": self.number()}),
                _ => self.value(3),
            };
            item.insert(name, value);
        }
        Value::Object(item)
    }
}
