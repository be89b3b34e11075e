//! Point-in-time recovery: `UpdateContinuousBackups`, `DescribeContinuousBackups` and
//! `RestoreTableToPointInTime`, exact to the write.
//!
//! The log already is a continuous backup: every change with its LSN and commit time, and
//! commit times never go back along the LSNs. A table's state at moment `T` is its state
//! after exactly the records committed at or before `T` — a prefix of the log — so a
//! restore is the same replay as a checkpoint (`replay.rs`): start from the newest retained
//! state of the table built before `T`, and apply the log until the first record after `T`.
//! DynamoDB restores to the second, up to about five minutes ago; this restores to the
//! millisecond (or to one LSN), up to now.
//!
//! # The window and what it keeps
//!
//! While recovery is enabled the window runs from `Earliest = max(enabled, now − period)` to
//! `Latest = now`. What it needs is its *base* — the newest retained state of the table
//! whose built time is at or before `Earliest` — every newer state, and the log after the
//! base. A checkpoint never deletes the snapshot it replaces: it becomes a retained state
//! (`catalog.rs`), and [`Store::release`] drops a retained state only once no window, pending
//! backup or running restore can start from it. The log is truncated below the oldest
//! retained state. A deleted table keeps its window (closing at the deletion) and leaves a
//! SYSTEM backup, `{Table}$DeletedTableBackup`, that expires after 35 days.
//!
//! [`Store::release`]: crate::store::Store::release

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::backup::{restored_schema, RestoreOverrides, SseSpecification};
use crate::catalog::{snapshot_name, Retained, SNAPSHOT_DIR};
use crate::clock::Timestamp;
use crate::codec;
use crate::commit::{Lsn, Mutation};
use crate::db::Database;
use crate::error::{Error, Result};
use crate::names;
use crate::replay::{self, LogEnd, SnapshotMeta, Target, Until};
use crate::schema::{
    BillingMode, GlobalSecondaryIndex, LocalSecondaryIndex, PitrSettings, ProvisionedThroughput,
    RestoreSummary, TableSchema,
};
use crate::snapshot::SNAPSHOT_MAGIC;
use crate::tables::TableDescription;

/// The longest `RecoveryPeriodInDays`, and the default.
pub const MAX_RECOVERY_PERIOD_DAYS: u32 = 35;

const DAY_MS: u64 = 86_400_000;

/// The earliest restorable moment of a window with `settings` at `now`.
pub(crate) fn window_start(settings: &PitrSettings, now: Timestamp) -> Timestamp {
    let period = u64::from(settings.period_days) * DAY_MS;
    Timestamp(now.0.saturating_sub(period)).max(settings.since)
}

/// `ContinuousBackupsStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContinuousBackupsStatus {
    /// Every table of a database with a directory: its log is the continuous backup.
    Enabled,
    /// An in-memory database keeps no backups.
    Disabled,
}

/// `PointInTimeRecoveryStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PointInTimeRecoveryStatus {
    /// The table can be restored to any moment of its window.
    Enabled,
    /// No window is kept.
    Disabled,
}

/// `PointInTimeRecoverySpecification`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PointInTimeRecoverySpecification {
    /// Whether point-in-time recovery is on.
    pub point_in_time_recovery_enabled: bool,
    /// How many days back the window reaches: 1 to 35, 35 when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_period_in_days: Option<u32>,
}

/// `UpdateContinuousBackups`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
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
            point_in_time_recovery_specification: PointInTimeRecoverySpecification {
                point_in_time_recovery_enabled: enabled,
                recovery_period_in_days: None,
            },
        }
    }
}

/// `PointInTimeRecoveryDescription`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
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
pub struct ContinuousBackupsDescription {
    /// ENABLED for every table of a database with a directory.
    pub continuous_backups_status: ContinuousBackupsStatus,
    /// The point-in-time recovery setting and window.
    pub point_in_time_recovery_description: PointInTimeRecoveryDescription,
}

/// `UpdateContinuousBackups`'s output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateContinuousBackupsOutput {
    /// The table's setting after the update.
    pub continuous_backups_description: ContinuousBackupsDescription,
}

/// `DescribeContinuousBackups`'s output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeContinuousBackupsOutput {
    /// The table's setting and window.
    pub continuous_backups_description: ContinuousBackupsDescription,
}

/// What a table's point-in-time window costs on disk (a tidestore accessor beside
/// `describe_continuous_backups`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
    /// Accepted and ignored.
    #[serde(
        default,
        rename = "SSESpecificationOverride",
        skip_serializing_if = "Option::is_none"
    )]
    pub sse_specification_override: Option<SseSpecification>,
}

impl RestoreTableToPointInTimeInput {
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

/// `RestoreTableToPointInTime`'s output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestoreTableToPointInTimeOutput {
    /// The new table, CREATING, with its `RestoreSummary`.
    pub table_description: TableDescription,
}

/// Where in the source's history a restore goes.
#[derive(Clone, Copy, Debug)]
enum Point {
    Latest,
    Time(Timestamp),
    Lsn(Lsn),
}

/// The table a point-in-time restore reads: live, or deleted with its window still open.
struct Source {
    table_id: Arc<str>,
    /// Its definition now (or at its deletion): a point-in-time restore takes indexes and
    /// throughput from the table's current settings, as DynamoDB does.
    schema: Arc<TableSchema>,
    settings: PitrSettings,
    table_arn: String,
    /// The latest restorable moment.
    latest: Timestamp,
    /// For a deleted table, its last LSN (just before the deletion).
    last_lsn: Option<Lsn>,
    /// A live table without a snapshot starts from its creation.
    creation: Option<Retained>,
}

fn validation(message: String) -> Error {
    Error::Validation(message)
}

impl Database {
    /// `UpdateContinuousBackups`: turns point-in-time recovery on or off for a table.
    /// Enabling starts a window at this moment; changing the period of an enabled table
    /// keeps the window's present start (a longer period reaches further back only as time
    /// goes on, since what the shorter one released is gone); disabling drops the window
    /// (its retained files go at the next maintenance round).
    pub fn update_continuous_backups(
        &self,
        input: UpdateContinuousBackupsInput,
    ) -> Result<UpdateContinuousBackupsOutput> {
        let spec = input.point_in_time_recovery_specification;
        let period = spec
            .recovery_period_in_days
            .unwrap_or(MAX_RECOVERY_PERIOD_DAYS);
        if !(1..=MAX_RECOVERY_PERIOD_DAYS).contains(&period) {
            return Err(validation(format!(
                "1 validation error detected: Value '{period}' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: Member must have value between 1 and {MAX_RECOVERY_PERIOD_DAYS}"
            )));
        }
        if !spec.point_in_time_recovery_enabled && spec.recovery_period_in_days.is_some() {
            return Err(validation(
                "RecoveryPeriodInDays can only be given when PointInTimeRecoveryEnabled is true"
                    .into(),
            ));
        }
        let shared = &self.shared;
        let _ddl = shared.ddl.lock();
        let handle = self.pitr_table(&input.table_name)?;
        if shared.store.is_none() {
            return Err(Error::ContinuousBackupsUnavailable(
                "Point-in-time recovery needs a database directory; this database lives in memory"
                    .into(),
            ));
        }
        let _gate = handle.gate.write();
        let current = Arc::clone(&handle.data.read().schema);
        let settings = if spec.point_in_time_recovery_enabled {
            // Every record logged so far has a commit time at or before `since`, and every
            // one from now on (the enabling one first) one at or after it.
            let now = shared.options.clock.now();
            match current.pitr {
                Some(p) if p.period_days == period => Some(p),
                // A new period keeps the window's present start: a longer one cannot reach
                // back to states the shorter one already released.
                Some(p) => Some(PitrSettings {
                    period_days: period,
                    since: window_start(&p, now),
                }),
                None => Some(PitrSettings {
                    period_days: period,
                    since: now.max(shared.wal.last_committed().1),
                }),
            }
        } else {
            None
        };
        if settings != current.pitr {
            let mut next = (*current).clone();
            next.pitr = settings;
            let next = Arc::new(next);
            self.commit(&Mutation::UpdateTable(Arc::clone(&next)), &[&handle])?;
            handle.data.write().set_schema(next);
        }
        if settings.is_none() {
            // Let the old window's files go now rather than at the next round.
            shared.wake.notify();
        }
        Ok(UpdateContinuousBackupsOutput {
            continuous_backups_description: self.continuous_backups(settings),
        })
    }

    /// `DescribeContinuousBackups`: the table's point-in-time setting and, while enabled,
    /// its window.
    pub fn describe_continuous_backups(
        &self,
        table_name: &str,
    ) -> Result<DescribeContinuousBackupsOutput> {
        let handle = self.pitr_table(table_name)?;
        let settings = handle.data.read().schema.pitr;
        Ok(DescribeContinuousBackupsOutput {
            continuous_backups_description: self.continuous_backups(settings),
        })
    }

    /// What a table's point-in-time window keeps on disk right now.
    pub fn recovery_window_usage(&self, table_name: &str) -> Result<RecoveryWindowUsage> {
        let handle = self.pitr_table(table_name)?;
        let Some(store) = &self.shared.store else {
            return Ok(RecoveryWindowUsage::default());
        };
        let (retained_snapshots, retained_snapshot_bytes) = store.retained_usage(&handle.id)?;
        let log_bytes = match handle.data.read().schema.pitr {
            Some(settings) => {
                let start = window_start(&settings, self.shared.options.clock.now());
                let base = store.base_for(&handle.id, Lsn::MAX, Some(start)).map_or(
                    handle.base_lsn.load(std::sync::atomic::Ordering::SeqCst),
                    |b| b.lsn,
                );
                store.log_bytes_after(base)?
            }
            None => 0,
        };
        Ok(RecoveryWindowUsage {
            retained_snapshots,
            retained_snapshot_bytes,
            log_bytes,
        })
    }

    /// `RestoreTableToPointInTime`: a new table holding exactly the source's writes
    /// committed at or before `RestoreDateTime` (or the latest restorable moment), with the
    /// source's current indexes and settings and the overrides. The source may be a table
    /// deleted within its window. Runs before it returns, like `restore_table_from_backup`.
    pub fn restore_table_to_point_in_time(
        &self,
        input: RestoreTableToPointInTimeInput,
    ) -> Result<RestoreTableToPointInTimeOutput> {
        let point = match (input.use_latest_restorable_time, input.restore_date_time) {
            (Some(true), Some(_)) => {
                return Err(validation(
                    "RestoreDateTime cannot be given when UseLatestRestorableTime is true".into(),
                ))
            }
            (Some(true), None) => Point::Latest,
            (_, Some(time)) => Point::Time(time),
            (_, None) => {
                return Err(validation(
                    "Either RestoreDateTime or UseLatestRestorableTime must be given".into(),
                ))
            }
        };
        self.restore_to_point(&input, point)
    }

    /// A point-in-time restore to the state after exactly the records up to `lsn` (a
    /// tidestore extension; `restore_date_time` and `use_latest_restorable_time` must be
    /// unset). Any LSN whose record was committed inside the window can be restored while
    /// the log holds that record; the summary's `RestoreDateTime` is its commit time. (The
    /// table's own records always stay; a record of another table can leave the log once a
    /// snapshot of this table covers it unchanged — restore by time to reach that moment.)
    pub fn restore_table_to_lsn(
        &self,
        input: RestoreTableToPointInTimeInput,
        lsn: Lsn,
    ) -> Result<RestoreTableToPointInTimeOutput> {
        if input.restore_date_time.is_some() || input.use_latest_restorable_time == Some(true) {
            return Err(validation(
                "restore_table_to_lsn takes the LSN alone: leave RestoreDateTime and UseLatestRestorableTime unset".into(),
            ));
        }
        self.restore_to_point(&input, Point::Lsn(lsn))
    }

    /// The description of a table's continuous backups with `settings`.
    fn continuous_backups(&self, settings: Option<PitrSettings>) -> ContinuousBackupsDescription {
        let status = if self.shared.store.is_some() {
            ContinuousBackupsStatus::Enabled
        } else {
            ContinuousBackupsStatus::Disabled
        };
        let pitr = match settings {
            Some(settings) => {
                let now = self.shared.options.clock.now();
                PointInTimeRecoveryDescription {
                    point_in_time_recovery_status: PointInTimeRecoveryStatus::Enabled,
                    recovery_period_in_days: Some(settings.period_days),
                    earliest_restorable_date_time: Some(window_start(&settings, now)),
                    latest_restorable_date_time: Some(self.latest_restorable(now)),
                }
            }
            None => PointInTimeRecoveryDescription {
                point_in_time_recovery_status: PointInTimeRecoveryStatus::Disabled,
                recovery_period_in_days: None,
                earliest_restorable_date_time: None,
                latest_restorable_date_time: None,
            },
        };
        ContinuousBackupsDescription {
            continuous_backups_status: status,
            point_in_time_recovery_description: pitr,
        }
    }

    /// The latest restorable moment of a live table: now, or the last commit time if the
    /// clock stepped back behind it.
    fn latest_restorable(&self, now: Timestamp) -> Timestamp {
        now.max(self.shared.wal.last_committed().1)
    }

    /// A live table for a continuous-backups request (`TableNotFound` if there is none).
    fn pitr_table(&self, name_or_arn: &str) -> Result<Arc<crate::db::TableHandle>> {
        self.table(name_or_arn).map_err(|e| match e {
            Error::ResourceNotFound(_) => {
                Error::TableNotFound(format!("Table not found: {name_or_arn}"))
            }
            other => other,
        })
    }

    /// The source of a point-in-time restore: the live table of that name, else the latest
    /// deleted one whose window is still open.
    fn pitr_source(&self, input: &RestoreTableToPointInTimeInput) -> Result<Source> {
        let shared = &self.shared;
        let name = match (&input.source_table_arn, &input.source_table_name) {
            (Some(arn), None) => shared.scope.table_name_of(arn)?.to_owned(),
            (None, Some(name)) => name.clone(),
            (Some(arn), Some(name)) => {
                let of_arn = shared.scope.table_name_of(arn)?;
                if of_arn != name {
                    return Err(validation(format!(
                        "SourceTableArn {arn} and SourceTableName {name} name different tables"
                    )));
                }
                name.clone()
            }
            (None, None) => {
                return Err(validation(
                    "Either SourceTableArn or SourceTableName must be given".into(),
                ))
            }
        };
        let not_found = || Error::TableNotFound(format!("Table not found: {name}"));
        let table_arn = shared.scope.table_arn(&name);
        if let Some(handle) = shared.tables.read().get(&name).cloned() {
            let schema = Arc::clone(&handle.data.read().schema);
            let Some(settings) = schema.pitr else {
                return Err(Error::PointInTimeRecoveryUnavailable(format!(
                    "Point in time recovery is not enabled for table '{name}'"
                )));
            };
            return Ok(Source {
                table_id: Arc::clone(&handle.id),
                schema,
                settings,
                table_arn,
                latest: self.latest_restorable(shared.options.clock.now()),
                last_lsn: None,
                creation: Some(crate::store::creation(
                    &handle.id,
                    handle.base_lsn.load(std::sync::atomic::Ordering::SeqCst),
                )),
            });
        }
        let store = shared.store.as_ref().ok_or_else(not_found)?;
        let dropped = store.dropped_table(&name).ok_or_else(not_found)?;
        let settings = dropped.schema.pitr.ok_or_else(not_found)?;
        Ok(Source {
            table_id: dropped.schema.id.as_str().into(),
            schema: dropped.schema,
            settings,
            table_arn,
            latest: dropped.deleted_time,
            last_lsn: Some(dropped.deleted_lsn - 1),
            creation: None,
        })
    }

    fn restore_to_point(
        &self,
        input: &RestoreTableToPointInTimeInput,
        point: Point,
    ) -> Result<RestoreTableToPointInTimeOutput> {
        names::validate_table_name(&input.target_table_name)?;
        let shared = &self.shared;
        let _ddl = shared.ddl.lock();
        let source = self.pitr_source(input)?;
        let Some(store) = &shared.store else {
            return Err(Error::PointInTimeRecoveryUnavailable(
                "this database lives in memory".into(),
            ));
        };
        if shared.tables.read().contains_key(&input.target_table_name) {
            return Err(Error::TableAlreadyExists(format!(
                "Table already exists: {}",
                input.target_table_name
            )));
        }
        let now = shared.options.clock.now();
        let earliest = window_start(&source.settings, now);
        if earliest > source.latest {
            return Err(Error::InvalidRestoreTime(format!(
                "The recovery window of table {} closed at {}",
                source.schema.name,
                source.latest.to_iso8601()
            )));
        }
        let outside = |what: String| {
            Error::InvalidRestoreTime(format!(
                "{what} is outside the recovery window of table {}: from {} ({} ms) to {} ({} ms)",
                source.schema.name,
                earliest.to_iso8601(),
                earliest.0,
                source.latest.to_iso8601(),
                source.latest.0
            ))
        };
        // The last record the restore may read, and the moment it restores to.
        let (until, time) = match point {
            Point::Latest | Point::Time(_) => {
                let time = match point {
                    Point::Time(t) => t,
                    _ => source.latest,
                };
                if time < earliest || time > source.latest {
                    return Err(outside(format!(
                        "RestoreDateTime {} ({} ms)",
                        time.to_iso8601(),
                        time.0
                    )));
                }
                let last = match source.last_lsn {
                    Some(last) => last,
                    // Close the moment first, so no record committed later can count as at
                    // or before it; then wait until what it holds is durable.
                    None => {
                        let last = shared.wal.fence_time(time);
                        shared.wal.sync_through(last)?;
                        last
                    }
                };
                (
                    Until {
                        lsn: Some(last),
                        time: Some(time),
                    },
                    Some(time),
                )
            }
            Point::Lsn(lsn) => {
                let last = match source.last_lsn {
                    Some(last) => last,
                    None => {
                        let last = shared.wal.last_committed().0;
                        if lsn <= last {
                            shared.wal.sync_through(lsn)?;
                        }
                        last
                    }
                };
                if lsn > last {
                    return Err(Error::InvalidRestoreTime(format!(
                        "LSN {lsn} is past the last one table {} can be restored to ({last})",
                        source.schema.name
                    )));
                }
                (Until::lsn(lsn), None)
            }
        };
        // The state to start from, pinned (with the log after it) while the restore reads.
        let window_base = store.base_for(&source.table_id, Lsn::MAX, Some(earliest));
        let pin = store
            .pin(
                &source.table_id,
                until.lsn.unwrap_or(Lsn::MAX),
                time,
                source.creation.clone(),
            )
            .filter(|pin| {
                window_base
                    .as_ref()
                    .is_none_or(|b| pin.base.built_lsn >= b.built_lsn)
            })
            .ok_or_else(|| match point {
                Point::Lsn(lsn) => outside(format!("LSN {lsn}")),
                _ => outside("The restore point".into()),
            })?;

        if let Point::Lsn(lsn) = point {
            if pin.base.file.is_none() && lsn <= pin.base.lsn {
                // At or before the state just before the table's creation record: the table
                // did not exist yet.
                return Err(outside(format!("LSN {lsn}")));
            }
        }

        // An LSN restore's moment is that record's commit time. The replay reads the record
        // unless the state it starts from already covers it (a checkpoint that found
        // nothing new for the table moves a snapshot's LSN on); then look it up alone.
        let lsn_time = match point {
            // A state's built time is its build LSN's commit time.
            Point::Lsn(lsn) if lsn == pin.base.built_lsn => Some(pin.base.built_time),
            Point::Lsn(lsn) if pin.base.replay_after(lsn) >= lsn => {
                match store.record_time(lsn)? {
                    Some(time) => Some(time),
                    None => {
                        return Err(Error::InvalidRestoreTime(format!(
                            "LSN {lsn} has left the log, so its commit time is no longer known: restore table {} by time instead",
                            source.schema.name
                        )))
                    }
                }
            }
            _ => None,
        };

        // Build the new table's first snapshot from that state and the log.
        let new_schema = restored_schema(
            &source.schema,
            &input.target_table_name,
            &RestoreOverrides {
                billing_mode: input.billing_mode_override,
                throughput: input.provisioned_throughput_override,
                global_indexes: input.global_secondary_index_override.as_deref(),
                local_indexes: input.local_secondary_index_override.as_deref(),
            },
            now,
            RestoreSummary {
                source_backup_arn: None,
                source_table_arn: Some(source.table_arn.clone()),
                restore_date_time: time.unwrap_or(Timestamp(0)),
                restore_in_progress: false,
            },
        )?;
        // The moment restored to: the one asked for, or (for an LSN) that record's commit
        // time.
        let base_time = pin.base.built_time;
        let moment = |end: Option<LogEnd>| {
            time.or(lsn_time)
                .unwrap_or(end.map_or(base_time, |e| e.last_time))
        };
        let file = snapshot_name(&new_schema.id, 0);
        let meta = |_: &TableSchema, end: Option<LogEnd>| {
            let mut schema = new_schema.clone();
            if let Some(summary) = schema.restored_from.as_mut() {
                summary.restore_date_time = moment(end);
            }
            codec::encode(&SnapshotMeta {
                table_id: schema.id.clone(),
                lsn: 0,
                schema,
            })
        };
        let target = Target {
            dir: store.dir.join(SNAPSHOT_DIR),
            name: file.clone(),
            magic: SNAPSHOT_MAGIC,
            meta: &meta,
            always: true,
            progress: None,
        };
        let (built, end) = replay::build_table_file(
            &*store.fs,
            &store.dir,
            store.db_id,
            &source.table_id,
            pin.base.file.as_deref(),
            pin.base.replay_after(until.lsn.unwrap_or(Lsn::MAX)),
            until,
            &target,
        )?;
        drop(pin);
        let snapshot_dir = store.dir.join(SNAPSHOT_DIR);
        let remove_built = || {
            let _ = store.fs.remove_file(&snapshot_dir.join(&file));
        };
        if built != replay::Built::File(file.clone()) {
            remove_built();
            return Err(Error::Corruption(format!(
                "restoring table {}: its log up to the restore point says {built:?}",
                source.schema.name
            )));
        }
        if let Point::Lsn(lsn) = point {
            if moment(end) < earliest {
                remove_built();
                return Err(outside(format!("LSN {lsn}")));
            }
        }
        // Load it (verifying every block again) and commit the restore.
        let data = match replay::load_snapshot(&*store.fs, &store.dir, &file) {
            Ok((_, data)) => data,
            Err(e) => {
                remove_built();
                return Err(e);
            }
        };
        Ok(RestoreTableToPointInTimeOutput {
            table_description: self.install_restored(store, data, file)?,
        })
    }
}
