//! What a table carries beside its definition: its tags and its Time to Live setting.
//!
//! They are kept apart from [`TableSchema`](crate::model::schema::TableSchema) because a
//! restore (from a backup or to a point in time) carries neither over — DynamoDB's rule for
//! both — while it does carry the definition. Kept apart, they never reach a backup file, and
//! a restored table starts with none by construction. They are still the table's state: a
//! change is logged and applied like any other (`Mutation::UpdateTableSettings`), a snapshot
//! records them with the items (`format/table_file.rs`), and they go with the table when it
//! is deleted.

use std::collections::BTreeMap;

use crate::model::clock::Timestamp;

/// A table's tags and Time to Live setting.
#[derive(Clone, Debug, Default, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct TableSettings {
    /// The tags, by key: at most 50, keys unique (DynamoDB's limits, checked before a change
    /// is logged).
    pub tags: BTreeMap<String, String>,
    /// The attribute holding items' expiry times while Time to Live is enabled; `None`
    /// while it is disabled (DynamoDB forgets the attribute of a disabled setting).
    pub ttl_attribute: Option<String>,
    /// When Time to Live was last enabled or disabled: DynamoDB takes one change per
    /// interval (`Options::ttl_change_interval`), and a restart must not reset the clock.
    pub ttl_changed: Option<Timestamp>,
}
