//! The members of the table operations (`CreateTable`, `UpdateTable`, tags, Time to Live,
//! point-in-time recovery settings, restores' targets): key schemas and attribute
//! definitions over the base tables' attribute names, indexes, throughput, stream and
//! TTL settings. A table a request creates takes one of a few names, so that a long run
//! does not fill the disk with tables.

use serde_json::{json, Value};

use super::members::Gen;
use super::servers::{ACCOUNT, CREATED_NAMES, REGION};

impl Gen<'_, '_> {
    /// The value of `member` when a table operation defines it; `None` for any other.
    pub(super) fn table_member(&mut self, member: &str, table: &'static str) -> Option<Value> {
        let value = match member {
            "TargetTableName" => self.created_name(),
            "ResourceArn" => {
                if self.input.chance(80) {
                    json!(format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"))
                } else {
                    json!(self.input.text(80))
                }
            }
            "Tags" => {
                let tags: Vec<Value> = (0..self.input.below(4))
                    .map(|_| json!({"Key": self.input.pick(&["k", "aws:x", "", "v"]), "Value": self.input.text(8)}))
                    .collect();
                json!(tags)
            }
            "TagKeys" => json!([self.input.pick(&["k", "v", ""])]),
            "KeySchema" => self.key_schema(),
            "AttributeDefinitions" => {
                let defs: Vec<Value> = (0..1 + self.input.below(3))
                    .map(|_| {
                        json!({
                            "AttributeName": self.input.pick(&["pk", "sk", "a", "b"]),
                            "AttributeType": self.input.pick(&["S", "N", "B", "BOOL"]),
                        })
                    })
                    .collect();
                json!(defs)
            }
            "ProvisionedThroughput" => {
                json!({"ReadCapacityUnits": self.input.pick(&[0, 1, 5]), "WriteCapacityUnits": self.input.pick(&[0, 1, 5])})
            }
            "GlobalSecondaryIndexes" | "LocalSecondaryIndexes" => {
                let key = self.key_schema();
                json!([{
                    "IndexName": self.input.pick(&["i1", "byA", "x"]),
                    "KeySchema": key,
                    "Projection": {"ProjectionType": self.input.pick(&["ALL", "KEYS_ONLY", "INCLUDE"]), "NonKeyAttributes": ["c"]},
                }])
            }
            "GlobalSecondaryIndexUpdates" => {
                let key = self.key_schema();
                let update = match self.input.below(3) {
                    0 => {
                        json!({"Create": {"IndexName": "i2", "KeySchema": key, "Projection": {"ProjectionType": "ALL"}}})
                    }
                    1 => json!({"Delete": {"IndexName": self.input.pick(&["byA", "i2"])}}),
                    _ => {
                        json!({"Update": {"IndexName": "byA", "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}})
                    }
                };
                json!([update])
            }
            "StreamSpecification" => json!({
                "StreamEnabled": self.input.chance(60),
                "StreamViewType": self.input.pick(&["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY", "Fisk"]),
            }),
            "SSESpecification" => json!({"Enabled": self.input.chance(50)}),
            "TimeToLiveSpecification" => json!({
                "Enabled": self.input.chance(50),
                "AttributeName": self.input.pick(&["ttl", "expires", "ttlx", ""]),
            }),
            "PointInTimeRecoverySpecification" => json!({
                "PointInTimeRecoveryEnabled": self.input.chance(60),
                "RecoveryPeriodInDays": self.input.pick(&[1, 35, 36, 0]),
            }),
            "ExclusiveStartTableName" => json!(self.input.pick(&["t", "a", ""])),
            _ => return None,
        };
        Some(value)
    }

    /// The name of a table a request creates: one of [`CREATED_NAMES`], or an invalid one.
    pub(super) fn created_name(&mut self) -> Value {
        if self.input.chance(95) {
            json!(self.input.pick(&CREATED_NAMES))
        } else {
            // Invalid names only: a valid fuzzed one would make a table per input.
            json!(format!("!{}", self.input.text(300)))
        }
    }

    /// A `KeySchema`: a hash key and sometimes a second element (sometimes a second hash).
    pub(super) fn key_schema(&mut self) -> Value {
        let mut schema =
            vec![json!({"AttributeName": self.input.pick(&["pk", "a"]), "KeyType": "HASH"})];
        if self.input.chance(50) {
            schema.push(json!({"AttributeName": self.input.pick(&["sk", "b", "pk"]), "KeyType": self.input.pick(&["RANGE", "HASH"])}));
        }
        json!(schema)
    }
}
