//! `ReturnConsumedCapacity` and the `ConsumedCapacity` a request reports: the read or write
//! capacity units it consumed, computed by DynamoDB's rules (the engine's `capacity` module
//! has them) and reported the same whatever the table's billing mode.
//!
//! ```
//! use tidestore::{CreateTableInput, Database, GetItemInput, Item, ItemExt, PutItemInput};
//! use tidestore::{ReturnConsumedCapacity, ScalarAttributeType::S};
//!
//! let db = Database::in_memory();
//! db.create_table(CreateTableInput::new("Music").hash_key("Artist", S).pay_per_request())?;
//! let song = Item::new().with("Artist", "Acme").with("Title", "x".repeat(1500));
//! let put = db.put_item(
//!     PutItemInput::new("Music", song).return_consumed_capacity(ReturnConsumedCapacity::Total),
//! )?;
//! // 1,516 bytes: two 1 KB write units.
//! assert_eq!(put.consumed_capacity.map(|c| c.capacity_units), Some(2.0));
//! let get = db.get_item(
//!     GetItemInput::new("Music", Item::new().with("Artist", "Acme"))
//!         .return_consumed_capacity(ReturnConsumedCapacity::Total),
//! )?;
//! // One 4 KB read unit, halved: the request did not ask for a strongly consistent read.
//! assert_eq!(get.consumed_capacity.map(|c| c.capacity_units), Some(0.5));
//! # Ok::<(), tidestore::Error>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a request reports of the capacity it consumed (`ReturnConsumedCapacity`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReturnConsumedCapacity {
    /// Nothing (the default).
    #[default]
    None,
    /// The total for each table.
    Total,
    /// The total, and its parts on the table and on each secondary index.
    Indexes,
}

/// The capacity consumed on one table or index (`Capacity`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Capacity {
    /// The units consumed.
    pub capacity_units: f64,
    /// The read units, reported by transactions only (`TransactGetItems`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_capacity_units: Option<f64>,
    /// The write units, reported by transactions only (`TransactWriteItems`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_capacity_units: Option<f64>,
}

/// The capacity a request consumed on one table (`ConsumedCapacity`).
///
/// Single-table operations return one; `BatchGetItem`, `BatchWriteItem` and the
/// transactions return one per table. As in DynamoDB, only transactions split the units
/// into read and write units; `Table` and the index maps come with
/// [`ReturnConsumedCapacity::Indexes`] only, and an index the request cost nothing is absent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ConsumedCapacity {
    /// The table, named as the request named it (a name or an ARN).
    pub table_name: String,
    /// The units consumed in all: on the table and on its indexes.
    pub capacity_units: f64,
    /// The read units, reported by `TransactGetItems` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_capacity_units: Option<f64>,
    /// The write units, reported by `TransactWriteItems` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_capacity_units: Option<f64>,
    /// The units consumed on the table itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<Capacity>,
    /// The units consumed on each local secondary index, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_secondary_indexes: Option<BTreeMap<String, Capacity>>,
    /// The units consumed on each global secondary index, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_secondary_indexes: Option<BTreeMap<String, Capacity>>,
}
