//! The shapes of point-in-time recovery: `UpdateContinuousBackups`,
//! `DescribeContinuousBackups` and `RestoreTableToPointInTime`, with the API model's names.

use serde::{Deserialize, Serialize};

use crate::api::setters;
use crate::api::tables::SseSpecification;
use crate::api::tables::TableDescription;
use crate::model::clock::Timestamp;
use crate::model::schema::{
    BillingMode, GlobalSecondaryIndex, LocalSecondaryIndex, OnDemandThroughput,
    ProvisionedThroughput,
};

/// The longest `RecoveryPeriodInDays`, and the default.
pub const MAX_RECOVERY_PERIOD_DAYS: u32 = 35;

/// `ContinuousBackupsStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ContinuousBackupsStatus {
    /// Every table of a database with a directory: its log is the continuous backup.
    Enabled,
    /// An in-memory database keeps no backups.
    Disabled,
}

/// `PointInTimeRecoveryStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum PointInTimeRecoveryStatus {
    /// The table can be restored to any moment of its window.
    Enabled,
    /// No window is kept.
    Disabled,
}

/// `PointInTimeRecoverySpecification`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct PointInTimeRecoverySpecification {
    /// Whether point-in-time recovery is on.
    pub point_in_time_recovery_enabled: bool,
    /// How many days back the window reaches: 1 to 35, 35 when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_period_in_days: Option<u32>,
}

impl PointInTimeRecoverySpecification {
    /// Recovery on or off, with the default 35-day window.
    pub fn new(point_in_time_recovery_enabled: bool) -> PointInTimeRecoverySpecification {
        PointInTimeRecoverySpecification {
            point_in_time_recovery_enabled,
            recovery_period_in_days: None,
        }
    }
}

setters!(PointInTimeRecoverySpecification {
    recovery_period_in_days: u32 => Some(recovery_period_in_days),
});

/// `UpdateContinuousBackups`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct UpdateContinuousBackupsInput {
    /// The table, by name or ARN.
    pub table_name: String,
    /// The new setting.
    pub point_in_time_recovery_specification: PointInTimeRecoverySpecification,
}

impl UpdateContinuousBackupsInput {
    /// Turns recovery on (with the default 35-day window) or off for `table_name`.
    pub fn new(table_name: impl Into<String>, enabled: bool) -> UpdateContinuousBackupsInput {
        UpdateContinuousBackupsInput {
            table_name: table_name.into(),
            point_in_time_recovery_specification: PointInTimeRecoverySpecification::new(enabled),
        }
    }

    /// Sets the window's length, 1 to 35 days (35 when not given).
    #[must_use]
    pub fn recovery_period_in_days(mut self, days: u32) -> UpdateContinuousBackupsInput {
        self.point_in_time_recovery_specification
            .recovery_period_in_days = Some(days);
        self
    }
}

/// `PointInTimeRecoveryDescription`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct PointInTimeRecoveryDescription {
    /// ENABLED or DISABLED.
    pub point_in_time_recovery_status: PointInTimeRecoveryStatus,
    /// The window's length, while enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_period_in_days: Option<u32>,
    /// The earliest moment a restore can go back to, while enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest_restorable_date_time: Option<Timestamp>,
    /// The latest restorable moment: now (DynamoDB lags about five minutes; tidestore
    /// does not), while enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_restorable_date_time: Option<Timestamp>,
}

/// `ContinuousBackupsDescription`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ContinuousBackupsDescription {
    /// ENABLED for every table of a database with a directory.
    pub continuous_backups_status: ContinuousBackupsStatus,
    /// The point-in-time recovery setting and window.
    pub point_in_time_recovery_description: PointInTimeRecoveryDescription,
}

/// `UpdateContinuousBackups`'s output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct UpdateContinuousBackupsOutput {
    /// The table's setting after the update.
    pub continuous_backups_description: ContinuousBackupsDescription,
}

/// `DescribeContinuousBackups`'s output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DescribeContinuousBackupsOutput {
    /// The table's setting and window.
    pub continuous_backups_description: ContinuousBackupsDescription,
}

/// What a table's point-in-time window costs on disk (a tidestore accessor beside
/// `describe_continuous_backups`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryWindowUsage {
    /// Older snapshots of the table kept for the window (or for pending backups).
    pub retained_snapshots: u64,
    /// Their size in bytes.
    pub retained_snapshot_bytes: u64,
    /// The log kept from the window's base on, in bytes. The log is shared by all tables:
    /// this counts every table's records in that range.
    pub log_bytes: u64,
}

/// `RestoreTableToPointInTime`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct RestoreTableToPointInTimeInput {
    /// The source table by ARN (or give `source_table_name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_table_arn: Option<String>,
    /// The source table by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_table_name: Option<String>,
    /// The new table's name.
    pub target_table_name: String,
    /// Restore to the latest restorable moment (instead of `restore_date_time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_latest_restorable_time: Option<bool>,
    /// The moment to restore to: the new table holds exactly the writes committed at or
    /// before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_date_time: Option<Timestamp>,
    /// A billing mode other than the source's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_mode_override: Option<BillingMode>,
    /// The global indexes to keep: a subset of the source's (by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_secondary_index_override: Option<Vec<GlobalSecondaryIndex>>,
    /// The local indexes to keep: a subset of the source's (by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_secondary_index_override: Option<Vec<LocalSecondaryIndex>>,
    /// Throughput other than the source's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_throughput_override: Option<ProvisionedThroughput>,
    /// On-demand maximums other than the source's, for a table restored on-demand: a member
    /// given replaces the source's maximum, -1 removes it, one left out keeps it.
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

impl RestoreTableToPointInTimeInput {
    /// Restore into a new table named `target`; name the source with
    /// [`source_table_name`](Self::source_table_name) or
    /// [`source_table_arn`](Self::source_table_arn), and the moment with
    /// [`restore_date_time`](Self::restore_date_time) or
    /// [`use_latest_restorable_time`](Self::use_latest_restorable_time).
    pub fn new(target: impl Into<String>) -> RestoreTableToPointInTimeInput {
        RestoreTableToPointInTimeInput {
            target_table_name: target.into(),
            ..Default::default()
        }
    }

    /// Restore table `source` as `target` at moment `time`.
    pub fn at(
        source: impl Into<String>,
        target: impl Into<String>,
        time: Timestamp,
    ) -> RestoreTableToPointInTimeInput {
        RestoreTableToPointInTimeInput {
            source_table_name: Some(source.into()),
            target_table_name: target.into(),
            restore_date_time: Some(time),
            ..Default::default()
        }
    }

    /// Restore table `source` as `target` at the latest restorable moment.
    pub fn latest(
        source: impl Into<String>,
        target: impl Into<String>,
    ) -> RestoreTableToPointInTimeInput {
        RestoreTableToPointInTimeInput {
            source_table_name: Some(source.into()),
            target_table_name: target.into(),
            use_latest_restorable_time: Some(true),
            ..Default::default()
        }
    }
}

setters!(RestoreTableToPointInTimeInput {
    source_table_arn: impl Into<String> => Some(source_table_arn.into()),
    source_table_name: impl Into<String> => Some(source_table_name.into()),
    use_latest_restorable_time: bool => Some(use_latest_restorable_time),
    restore_date_time: Timestamp => Some(restore_date_time),
    billing_mode_override: BillingMode => Some(billing_mode_override),
    global_secondary_index_override: Vec<GlobalSecondaryIndex> => Some(global_secondary_index_override),
    local_secondary_index_override: Vec<LocalSecondaryIndex> => Some(local_secondary_index_override),
    provisioned_throughput_override: ProvisionedThroughput => Some(provisioned_throughput_override),
    on_demand_throughput_override: OnDemandThroughput => Some(on_demand_throughput_override),
    sse_specification_override: SseSpecification => Some(sse_specification_override),
});

/// `RestoreTableToPointInTime`'s output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct RestoreTableToPointInTimeOutput {
    /// The new table, CREATING, with its `RestoreSummary`.
    pub table_description: TableDescription,
}
