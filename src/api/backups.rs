//! The shapes of the backup operations: `CreateBackup`, `DescribeBackup`, `ListBackups`,
//! `DeleteBackup` and `RestoreTableFromBackup`, with the API model's field names.

use serde::{Deserialize, Serialize};

use crate::api::setters;
use crate::api::tables::{SseSpecification, TableDescription};
use crate::model::clock::Timestamp;
use crate::model::schema::{
    BillingMode, GlobalSecondaryIndex, KeySchemaElement, LocalSecondaryIndex, OnDemandThroughput,
    ProvisionedThroughput, StreamSpecification,
};
use crate::model::Lsn;

/// A backup's lifecycle state (`BackupStatus`; the API model's `AVAILABLE`, which the CLI
/// page calls `ACTIVE`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum BackupStatus {
    /// Being built.
    Creating,
    /// Deleted (only in `delete_backup`'s answer).
    Deleted,
    /// Built and restorable.
    Available,
}

/// Who made a backup (`BackupType`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum BackupType {
    /// `create_backup`.
    User,
    /// Made by the system when a table with point-in-time recovery is deleted.
    System,
    /// AWS Backup (never made by tidestore; accepted as a filter).
    AwsBackup,
}

/// Which backups `list_backups` returns (`BackupTypeFilter`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum BackupTypeFilter {
    /// User backups (the default).
    #[default]
    User,
    /// System backups.
    System,
    /// AWS Backup backups (there are none).
    AwsBackup,
    /// Every kind.
    All,
}

/// `BackupDetails`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct BackupDetails {
    /// `arn:aws:dynamodb:{region}:{account}:table/{table}/backup/{ms:014}-{8 hex}`.
    pub backup_arn: String,
    /// The name given to `create_backup`.
    pub backup_name: String,
    /// The backup file's size once AVAILABLE; 0 while CREATING.
    pub backup_size_bytes: u64,
    /// CREATING, AVAILABLE or DELETED.
    pub backup_status: BackupStatus,
    /// USER or SYSTEM.
    pub backup_type: BackupType,
    /// When the backup was requested.
    pub backup_creation_date_time: Timestamp,
    /// When a SYSTEM backup expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_expiry_date_time: Option<Timestamp>,
}

/// `CreateBackup`'s output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct CreateBackupOutput {
    /// The new backup, CREATING.
    pub backup_details: BackupDetails,
}

/// The source table as a backup records it (`SourceTableDetails`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct SourceTableDetails {
    /// Its name.
    pub table_name: String,
    /// Its id.
    pub table_id: String,
    /// Its ARN.
    pub table_arn: String,
    /// Its size when the backup was requested (exact once AVAILABLE: the backup's).
    pub table_size_bytes: u64,
    /// Its key schema.
    pub key_schema: Vec<KeySchemaElement>,
    /// When it was created.
    pub table_creation_date_time: Timestamp,
    /// Its throughput (zeros for on-demand).
    pub provisioned_throughput: ProvisionedThroughput,
    /// Its item count when the backup was requested (exact once AVAILABLE).
    pub item_count: u64,
    /// Its billing mode.
    pub billing_mode: BillingMode,
    /// Its on-demand maximums, if it had any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput: Option<OnDemandThroughput>,
}

/// The source table's indexes and stream (`SourceTableFeatureDetails`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct SourceTableFeatureDetails {
    /// Its local secondary indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_secondary_indexes: Option<Vec<LocalSecondaryIndex>>,
    /// Its global secondary indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_secondary_indexes: Option<Vec<GlobalSecondaryIndex>>,
    /// Its stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_description: Option<StreamSpecification>,
}

/// `BackupDescription`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct BackupDescription {
    /// The backup.
    pub backup_details: BackupDetails,
    /// The table it is of.
    pub source_table_details: SourceTableDetails,
    /// That table's indexes and stream.
    pub source_table_feature_details: SourceTableFeatureDetails,
}

/// `DescribeBackup`'s and `DeleteBackup`'s output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct BackupDescriptionOutput {
    /// The backup.
    pub backup_description: BackupDescription,
}

/// One backup in `ListBackups`' output (`BackupSummary`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct BackupSummary {
    /// The source table's name.
    pub table_name: String,
    /// The source table's id.
    pub table_id: String,
    /// The source table's ARN.
    pub table_arn: String,
    /// The backup's ARN.
    pub backup_arn: String,
    /// The backup's name.
    pub backup_name: String,
    /// When it was requested.
    pub backup_creation_date_time: Timestamp,
    /// When a SYSTEM backup expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_expiry_date_time: Option<Timestamp>,
    /// CREATING or AVAILABLE.
    pub backup_status: BackupStatus,
    /// USER or SYSTEM.
    pub backup_type: BackupType,
    /// Its size (0 while CREATING).
    pub backup_size_bytes: u64,
}

/// `ListBackups`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ListBackupsInput {
    /// Only backups of this table (name or ARN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_name: Option<String>,
    /// At most this many (1–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Only backups requested at or after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_range_lower_bound: Option<Timestamp>,
    /// Only backups requested before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_range_upper_bound: Option<Timestamp>,
    /// Start after this backup (the previous page's `LastEvaluatedBackupArn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_start_backup_arn: Option<String>,
    /// USER (the default), SYSTEM, AWS_BACKUP or ALL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_type: Option<BackupTypeFilter>,
}

impl ListBackupsInput {
    /// The first page of the user backups of every table.
    pub fn new() -> ListBackupsInput {
        ListBackupsInput::default()
    }
}

setters!(ListBackupsInput {
    table_name: impl Into<String> => Some(table_name.into()),
    limit: u32 => Some(limit),
    time_range_lower_bound: Timestamp => Some(time_range_lower_bound),
    time_range_upper_bound: Timestamp => Some(time_range_upper_bound),
    exclusive_start_backup_arn: impl Into<String> => Some(exclusive_start_backup_arn.into()),
    backup_type: BackupTypeFilter => Some(backup_type),
});

/// `ListBackups`' output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ListBackupsOutput {
    /// The backups, in creation order.
    pub backup_summaries: Vec<BackupSummary>,
    /// Where the next page starts; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluated_backup_arn: Option<String>,
}

/// `RestoreTableFromBackup`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct RestoreTableFromBackupInput {
    /// The new table's name.
    pub target_table_name: String,
    /// The backup.
    pub backup_arn: String,
    /// A billing mode other than the backup's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_mode_override: Option<BillingMode>,
    /// The global indexes to keep: a subset of the backup's (by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_secondary_index_override: Option<Vec<GlobalSecondaryIndex>>,
    /// The local indexes to keep: a subset of the backup's (by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_secondary_index_override: Option<Vec<LocalSecondaryIndex>>,
    /// Throughput other than the backup's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_throughput_override: Option<ProvisionedThroughput>,
    /// On-demand maximums other than the backup's, for a table restored on-demand: a member
    /// given replaces the backup's maximum, -1 removes it, one left out keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_throughput_override: Option<OnDemandThroughput>,
    /// Encryption at rest: only the default (`Enabled` false or absent, with no `SSEType`
    /// or `KMSMasterKeyId`) is accepted; tidestore has no key management service, so any
    /// other setting is refused.
    #[serde(
        default,
        rename = "SSESpecificationOverride",
        skip_serializing_if = "Option::is_none"
    )]
    pub sse_specification_override: Option<SseSpecification>,
}

impl RestoreTableFromBackupInput {
    /// Restore `backup_arn` into a new table named `target`.
    pub fn new(
        backup_arn: impl Into<String>,
        target: impl Into<String>,
    ) -> RestoreTableFromBackupInput {
        RestoreTableFromBackupInput {
            target_table_name: target.into(),
            backup_arn: backup_arn.into(),
            ..Default::default()
        }
    }
}

setters!(RestoreTableFromBackupInput {
    billing_mode_override: BillingMode => Some(billing_mode_override),
    global_secondary_index_override: Vec<GlobalSecondaryIndex> => Some(global_secondary_index_override),
    local_secondary_index_override: Vec<LocalSecondaryIndex> => Some(local_secondary_index_override),
    provisioned_throughput_override: ProvisionedThroughput => Some(provisioned_throughput_override),
    on_demand_throughput_override: OnDemandThroughput => Some(on_demand_throughput_override),
    sse_specification_override: SseSpecification => Some(sse_specification_override),
});

/// Where a building backup stands: items and bytes written out of the table's size when the
/// backup was requested, and its failed build attempts (a beyond-DynamoDB companion of
/// `describe_backup`, whose status stays CREATING while a build fails: DynamoDB's
/// `BackupStatus` has no failed state).
///
/// A build that fails is retried after a backoff on the database's clock (1 s, doubling up
/// to 1 min) while the other backups, snapshots and log truncation go on. It *fails for good*
/// at once on anything but an I/O error (the table's files or log are damaged, so a retry
/// would read the same bytes), and after 8 attempts on I/O errors. A backup that failed for
/// good is not retried until the database is reopened (the counts start again then), keeps
/// the table state and log it needs, and can be deleted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupProgress {
    /// The backup's marker: exactly the writes with a lower LSN are in it.
    pub marker_lsn: Lsn,
    /// Items written so far.
    pub items_done: u64,
    /// DynamoDB size of the items written so far.
    pub bytes_done: u64,
    /// The table's item count when the backup was requested.
    pub items_total: u64,
    /// The table's size (DynamoDB item bytes) when the backup was requested.
    pub bytes_total: u64,
    /// Build attempts that failed since the database was opened.
    pub failed_attempts: u32,
    /// The last failed attempt's error (its `Display`), if any.
    pub last_error: Option<String>,
    /// When (on the database's clock) the build is tried again after a failure; `None`
    /// when it has not failed, or has failed for good.
    pub retry_at: Option<Timestamp>,
    /// Whether the build has failed for good (see above).
    pub failed_for_good: bool,
}

/// `RestoreTableFromBackup`'s output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct RestoreTableFromBackupOutput {
    /// The new table, CREATING, with its `RestoreSummary`.
    pub table_description: TableDescription,
}
