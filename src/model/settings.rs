//! What a table carries beside its definition: its tags, its Time to Live setting and its
//! resource-based policies.
//!
//! They are kept apart from [`TableSchema`](crate::model::schema::TableSchema) because a
//! restore (from a backup or to a point in time) carries none of them over — DynamoDB's rule
//! for tags and Time to Live, and tidestore's for policies (see [`ResourcePolicy`]) — while it
//! does carry the definition. Kept apart, they never reach a backup file, and
//! a restored table starts with none by construction. They are still the table's state: a
//! change is logged and applied like any other (`Mutation::UpdateTableSettings`), a snapshot
//! records them with the items (`format/table_file.rs`), and they go with the table when it
//! is deleted.

use std::collections::BTreeMap;

use crate::model::clock::Timestamp;

/// A table's tags, Time to Live setting and resource-based policies.
///
/// Its encoding is drawn in `format/mutation.rs` (the `TableSettings` of record kinds 13 and
/// 14); the settings of kinds 7 and 8 and of version 3 snapshots, from before policies, are
/// `format::mutation::SettingsV1`.
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
    /// The resource-based policies attached to the table and its streams, by the resource's
    /// ARN after the table's: `""` for the table itself, `"/stream/{label}"` for a stream.
    /// Keyed so rather than by whole ARN, which would name the region and account of the
    /// `Options` the database was opened with.
    pub resource_policies: BTreeMap<String, ResourcePolicy>,
}

/// A resource-based policy as `PutResourcePolicy` attached it: the document as given and the
/// revision it made.
///
/// tidestore keeps the document and gives it back; it does not evaluate it. It has no
/// principals and enforces no IAM, so a policy allows and denies nothing here — it is kept so
/// that an application (or a tool such as Terraform or CloudFormation) that manages policies
/// through DynamoDB's API finds them as it left them.
///
/// A restore does not carry a table's policy over to the new table, as it does not carry tags
/// or Time to Live: the API reference of `RestoreTableFromBackup` lists "IAM policies" with
/// tags, stream and Time to Live settings among what "you must manually set up … on the
/// restored table", and `RestoreTableToPointInTime`'s list of what a restore includes (data,
/// indexes, capacity, encryption) has no policy. So a restored table starts without one, and
/// a policy is put on it like on any new table.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct ResourcePolicy {
    /// The JSON document, byte for byte as given (at most 20 KB, checked before logging).
    pub document: String,
    /// Its revision: decimal epoch milliseconds of the put, each put's above the last
    /// (`api/policies.rs`).
    pub revision_id: String,
}
