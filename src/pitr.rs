//! Point-in-time recovery: `UpdateContinuousBackups`, `DescribeContinuousBackups` and
//! `RestoreTableToPointInTime`, exact to the write.
//!
//! The log already is a continuous backup: every change with its LSN and commit time, and
//! commit times never go back along the LSNs. A table's state at moment `T` is its state
//! after exactly the records committed at or before `T` — a prefix of the log — so a
//! restore is the same replay as a checkpoint (`storage/replay.rs`): start from the newest retained
//! state of the table built before `T`, and apply the log until the first record after `T`.
//! DynamoDB restores to the second, up to about five minutes ago; this restores to the
//! millisecond (or to one LSN), up to now.
//!
//! # The window and what it keeps
//!
//! While recovery is enabled the window runs from `Earliest = max(enabled, now − period)` to
//! `Latest = now`. A restore inside it may go to any moment of it and to the LSN of any
//! record committed in it — also of one committed in the very millisecond `Earliest`. So
//! what it needs is its *base* — the newest state of the table built at or before `Earliest`
//! that no record committed at or after `Earliest` precedes (a state built in that very
//! millisecond after another record of it is not one: `Retained::serves_window`) — every
//! newer state, and the log after the base. A checkpoint never deletes the snapshot it
//! replaces: it becomes a retained state (`format/catalog.rs`), and [`Store::release`] drops
//! a retained state only once no window, pending backup or running restore can start from it. The log is truncated below the oldest
//! retained state. A deleted table keeps its window (closing at the deletion) and leaves a
//! SYSTEM backup, `{Table}$DeletedTableBackup`, that expires after 35 days.
//!
//! [`Store::release`]: crate::storage::store::Store::release

use std::sync::Arc;

use crate::api::pitr::*;

use crate::engine::live::Live;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::format::catalog::{snapshot_name, Retained, SNAPSHOT_DIR};
use crate::format::codec;
use crate::format::mutation::Mutation;
use crate::format::table_file::{SnapshotMeta, SNAPSHOT_MAGIC};
use crate::model::clock::Timestamp;
use crate::model::names;
use crate::model::schema::{PitrSettings, RestoreSummary, TableSchema};
use crate::model::settings::TableSettings;
use crate::model::Lsn;
use crate::restore::{install_restored, remove_uncommitted, restored_schema, RestoreOverrides};
use crate::state::apply::apply;
use crate::storage::replay::{self, LogEnd, Target, Until};

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

/// The service behind [`Database::update_continuous_backups`](crate::Database::update_continuous_backups).
pub(crate) fn update_continuous_backups(
    engine: &Engine,
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
            "RecoveryPeriodInDays can only be given when PointInTimeRecoveryEnabled is true".into(),
        ));
    }

    let _ddl = engine.ddl.lock();
    let handle = pitr_table(engine, &input.table_name)?;
    if engine.store.is_none() {
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
        let now = engine.options.clock.now();
        match current.pitr {
            Some(p) if p.period_days == period => Some(p),
            // A new period keeps the window's present start: a longer one cannot reach
            // back to states the shorter one already released.
            Some(p) => Some(PitrSettings {
                period_days: period,
                since: p.window_start(now),
            }),
            None => Some(PitrSettings {
                period_days: period,
                since: now.max(engine.wal.last_committed().1),
            }),
        }
    } else {
        None
    };
    if settings != current.pitr {
        let mut next = (*current).clone();
        next.pitr = settings;
        let mutation = Mutation::UpdateTable(Arc::new(next));
        let at = engine.commit(&mutation, &[&handle])?;
        apply(at, mutation, &mut Live::new(engine).with_table(&handle))?;
    }
    if settings.is_none() {
        // Let the old window's files go now rather than at the next round.
        engine.wake.notify();
    }
    Ok(UpdateContinuousBackupsOutput {
        continuous_backups_description: continuous_backups(engine, settings),
    })
}

/// The service behind [`Database::describe_continuous_backups`](crate::Database::describe_continuous_backups).
pub(crate) fn describe_continuous_backups(
    engine: &Engine,
    table_name: &str,
) -> Result<DescribeContinuousBackupsOutput> {
    let handle = pitr_table(engine, table_name)?;
    let settings = handle.data.read().schema.pitr;
    Ok(DescribeContinuousBackupsOutput {
        continuous_backups_description: continuous_backups(engine, settings),
    })
}

/// The service behind [`Database::recovery_window_usage`](crate::Database::recovery_window_usage).
pub(crate) fn recovery_window_usage(
    engine: &Engine,
    table_name: &str,
) -> Result<RecoveryWindowUsage> {
    let handle = pitr_table(engine, table_name)?;
    let Some(store) = &engine.store else {
        return Ok(RecoveryWindowUsage::default());
    };
    let (retained_snapshots, retained_snapshot_bytes) = store.retained_usage(&handle.id)?;
    let log_bytes = match handle.data.read().schema.pitr {
        Some(settings) => {
            let start = settings.window_start(engine.options.clock.now());
            let base = store.window_base(&handle.id, start).map_or(
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

/// The service behind [`Database::restore_table_to_point_in_time`](crate::Database::restore_table_to_point_in_time).
pub(crate) fn restore_table_to_point_in_time(
    engine: &Engine,
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
    restore_to_point(engine, &input, point)
}

/// The service behind [`Database::restore_table_to_lsn`](crate::Database::restore_table_to_lsn).
pub(crate) fn restore_table_to_lsn(
    engine: &Engine,
    input: RestoreTableToPointInTimeInput,
    lsn: Lsn,
) -> Result<RestoreTableToPointInTimeOutput> {
    if input.restore_date_time.is_some() || input.use_latest_restorable_time == Some(true) {
        return Err(validation(
            "restore_table_to_lsn takes the LSN alone: leave RestoreDateTime and UseLatestRestorableTime unset".into(),
        ));
    }
    restore_to_point(engine, &input, Point::Lsn(lsn))
}

/// The description of a table's continuous backups with `settings`.
fn continuous_backups(
    engine: &Engine,
    settings: Option<PitrSettings>,
) -> ContinuousBackupsDescription {
    let status = if engine.store.is_some() {
        ContinuousBackupsStatus::Enabled
    } else {
        ContinuousBackupsStatus::Disabled
    };
    let pitr = match settings {
        Some(settings) => {
            let now = engine.options.clock.now();
            PointInTimeRecoveryDescription {
                point_in_time_recovery_status: PointInTimeRecoveryStatus::Enabled,
                recovery_period_in_days: Some(settings.period_days),
                earliest_restorable_date_time: Some(settings.window_start(now)),
                latest_restorable_date_time: Some(latest_restorable(engine, now)),
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
fn latest_restorable(engine: &Engine, now: Timestamp) -> Timestamp {
    now.max(engine.wal.last_committed().1)
}

/// A live table for a continuous-backups request (`TableNotFound` if there is none).
fn pitr_table(engine: &Engine, name_or_arn: &str) -> Result<Arc<crate::engine::TableHandle>> {
    engine.table(name_or_arn).map_err(|e| match e {
        Error::ResourceNotFound(_) => {
            Error::TableNotFound(format!("Table not found: {name_or_arn}"))
        }
        other => other,
    })
}

/// The source of a point-in-time restore: the live table of that name, else the latest
/// deleted one whose window is still open.
fn pitr_source(engine: &Engine, input: &RestoreTableToPointInTimeInput) -> Result<Source> {
    let name = match (&input.source_table_arn, &input.source_table_name) {
        (Some(arn), None) => engine.scope.table_name_of(arn)?.to_owned(),
        (None, Some(name)) => name.clone(),
        (Some(arn), Some(name)) => {
            let of_arn = engine.scope.table_name_of(arn)?;
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
    let table_arn = engine.scope.table_arn(&name);
    if let Some(handle) = engine.tables.read().get(&name).cloned() {
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
            latest: latest_restorable(engine, engine.options.clock.now()),
            last_lsn: None,
            creation: Some(crate::storage::store::creation(
                &handle.id,
                handle.base_lsn.load(std::sync::atomic::Ordering::SeqCst),
            )),
        });
    }
    let store = engine.store.as_ref().ok_or_else(not_found)?;
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
    engine: &Engine,
    input: &RestoreTableToPointInTimeInput,
    point: Point,
) -> Result<RestoreTableToPointInTimeOutput> {
    names::validate_table_name(&input.target_table_name)?;

    // Held while the source is read and its state pinned; not during the copy.
    let ddl = engine.ddl.lock();
    let source = pitr_source(engine, input)?;
    let Some(store) = &engine.store else {
        return Err(Error::PointInTimeRecoveryUnavailable(
            "this database lives in memory".into(),
        ));
    };
    let _claim = engine.claim_table_name(&input.target_table_name)?;
    let now = engine.options.clock.now();
    let earliest = source.settings.window_start(now);
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
                    let last = engine.wal.fence_time(time);
                    engine.wal.sync_through(last)?;
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
                    let last = engine.wal.last_committed().0;
                    if lsn <= last {
                        engine.wal.sync_through(lsn)?;
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
    let window_base = store.window_base(&source.table_id, earliest);
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
    let lsn_time =
        match point {
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

    // From here the pin keeps what the replay reads and the claim keeps the name: other
    // DDL goes on during the copy.
    drop(ddl);
    // Build the new table's first snapshot from that state and the log.
    let new_schema = restored_schema(
        &source.schema,
        &input.target_table_name,
        &RestoreOverrides {
            billing_mode: input.billing_mode_override,
            throughput: input.provisioned_throughput_override,
            on_demand: input.on_demand_throughput_override.as_ref(),
            global_indexes: input.global_secondary_index_override.as_deref(),
            local_indexes: input.local_secondary_index_override.as_deref(),
            sse: input.sse_specification_override.as_ref(),
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
    // The source's settings at the point are dropped: a restore carries over no tags and
    // no Time to Live setting (DynamoDB's rule).
    let meta = |_: &TableSchema, _: &Arc<TableSettings>, end: Option<LogEnd>| {
        let mut schema = new_schema.clone();
        if let Some(summary) = schema.restored_from.as_mut() {
            summary.restore_date_time = moment(end);
        }
        codec::encode(&SnapshotMeta {
            table_id: schema.id.clone(),
            lsn: 0,
            schema,
            settings: Arc::default(),
        })
    };
    let target = Target {
        dir: store.dir.join(SNAPSHOT_DIR),
        name: file.clone(),
        magic: SNAPSHOT_MAGIC,
        meta: &meta,
        always: true,
        progress: None,
        // A restore is the caller's request, waited for: not paced.
        throttle: None,
        // The restored table's snapshot, read as the table opens.
        uncached: false,
    };
    let snapshot_dir = store.dir.join(SNAPSHOT_DIR);
    let remove_built = || remove_uncommitted(&*store.fs, &snapshot_dir.join(&file));
    let built = replay::build_table_file(
        &*store.fs,
        &store.dir,
        store.db_id,
        &source.table_id,
        pin.base.file.as_deref(),
        pin.base.replay_after(until.lsn.unwrap_or(Lsn::MAX)),
        until,
        &target,
    );
    drop(pin);
    // NB: the temporary file is gone already; the file itself is there if its rename was
    // done before the failure (a failed directory sync).
    let (built, end) = built.inspect_err(|_| remove_built())?;
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
        table_description: install_restored(engine, data, file)?,
    })
}

/// A live table's state at a moment of its window, built as a table file by the same replay
/// as a restore (for an export, `export.rs`).
pub(crate) struct StateAt {
    /// The built file's path (in the snapshot directory; the caller removes it).
    pub path: std::path::PathBuf,
    /// The table's definition at that moment.
    pub schema: TableSchema,
    /// The table's ARN.
    pub table_arn: String,
    /// The moment the state is of.
    pub time: Timestamp,
}

/// A live table with point-in-time recovery, as an export reads it.
struct ExportSource<'a> {
    store: &'a crate::storage::store::Store,
    table_id: Arc<str>,
    name: String,
    creation: Retained,
    earliest: Timestamp,
    latest: Timestamp,
}

/// The live table `name_or_arn` and its window now: `TableNotFound` without the table,
/// `PointInTimeRecoveryUnavailable` without its recovery. (Called under the DDL lock.)
fn export_source<'a>(engine: &'a Engine, name_or_arn: &str) -> Result<ExportSource<'a>> {
    let handle = pitr_table(engine, name_or_arn)?;
    let (name, settings) = {
        let data = handle.data.read();
        (data.schema.name.clone(), data.schema.pitr)
    };
    let (Some(store), Some(settings)) = (&engine.store, settings) else {
        return Err(Error::PointInTimeRecoveryUnavailable(format!(
            "Point in time recovery is not enabled for table '{name}'"
        )));
    };
    let now = engine.options.clock.now();
    Ok(ExportSource {
        store,
        table_id: Arc::clone(&handle.id),
        creation: crate::storage::store::creation(
            &handle.id,
            handle.base_lsn.load(std::sync::atomic::Ordering::SeqCst),
        ),
        name,
        earliest: settings.window_start(now),
        latest: latest_restorable(engine, now),
    })
}

impl<'a> ExportSource<'a> {
    /// `InvalidExportTime` naming `what` outside the window.
    fn outside(&self, what: &str, time: Timestamp) -> Error {
        Error::InvalidExportTime(format!(
            "{what} {} ({} ms) is outside the recovery window of table {}: from {} ({} ms) to {} ({} ms)",
            time.to_iso8601(),
            time.0,
            self.name,
            self.earliest.to_iso8601(),
            self.earliest.0,
            self.latest.to_iso8601(),
            self.latest.0
        ))
    }

    /// Pins the state a rebuild up to `last`, at or before `time`, starts from, with the log
    /// after it: `InvalidExportTime` if the window no longer keeps one.
    fn pin(&self, last: Lsn, time: Timestamp) -> Result<crate::storage::store::Pin<'a>> {
        let window_base = self.store.window_base(&self.table_id, self.earliest);
        self.store
            .pin(
                &self.table_id,
                last,
                Some(time),
                Some(self.creation.clone()),
            )
            .filter(|pin| {
                window_base
                    .as_ref()
                    .is_none_or(|b| pin.base.built_lsn >= b.built_lsn)
            })
            .ok_or_else(|| {
                Error::InvalidExportTime(format!(
                    "{} is outside the states table {} keeps",
                    time.to_iso8601(),
                    self.name
                ))
            })
    }

    /// Builds the table's state up to `until` from the pinned state `base` as the table
    /// file `file` of the snapshot directory, and returns its path and schema. Reads files
    /// only. On failure the file goes, whole or half written.
    fn build(
        &self,
        base: &Retained,
        until: Until,
        file: &str,
    ) -> Result<(std::path::PathBuf, TableSchema)> {
        let store = self.store;
        let table_id = &self.table_id;
        let meta = |schema: &TableSchema, settings: &Arc<TableSettings>, _: Option<LogEnd>| {
            codec::encode(&SnapshotMeta {
                table_id: table_id.to_string(),
                lsn: 0,
                schema: schema.clone(),
                settings: Arc::clone(settings),
            })
        };
        let dir = store.dir.join(SNAPSHOT_DIR);
        let target = Target {
            dir: dir.clone(),
            name: file.to_owned(),
            magic: SNAPSHOT_MAGIC,
            meta: &meta,
            always: true,
            progress: None,
            // An export is a background job beside the writers: its writes are paced like a
            // backup's.
            throttle: Some(&store.throttle),
            // Read once, by the export, then removed.
            uncached: true,
        };
        let last = until.lsn.unwrap_or(Lsn::MAX);
        let built = replay::build_table_file(
            &*store.fs,
            &store.dir,
            store.db_id,
            table_id,
            base.file.as_deref(),
            base.replay_after(last),
            until,
            &target,
        );
        let path = dir.join(file);
        // NB: on every failure the state goes (its temporary file went with the failed build,
        // `replay::write_table_file`): nothing names it, and only the next open would
        // otherwise remove it.
        let remove = || remove_uncommitted(&*store.fs, &path);
        let schema = match built {
            Ok((built, _)) if built != replay::Built::File(file.to_owned()) => {
                Err(Error::Corruption(format!(
                    "exporting table {}: its log up to the export time says {built:?}",
                    self.name
                )))
            }
            Ok(_) => {
                crate::format::table_file::TableFileReader::open(&*store.fs, &path, SNAPSHOT_MAGIC)
                    .and_then(|reader| SnapshotMeta::read(&reader))
                    .map(|meta| meta.schema)
            }
            Err(e) => Err(e),
        };
        let schema = schema.inspect_err(|_| remove())?;
        Ok((path, schema))
    }
}

/// Builds the state of the live table `name_or_arn` after exactly the records committed at
/// or before `time` (now when `None`) as the table file `file` of the snapshot directory:
/// `TableNotFound` without the table, `PointInTimeRecoveryUnavailable` without its
/// recovery, `InvalidExportTime` outside its window. Reads files only, never the live
/// table: writers go on meanwhile (the moment is fenced first, so no later write counts as
/// at or before it).
pub(crate) fn build_state_at(
    engine: &Engine,
    name_or_arn: &str,
    time: Option<Timestamp>,
    file: &str,
) -> Result<StateAt> {
    // Held while the table is read and its state pinned; not during the replay.
    let ddl = engine.ddl.lock();
    let source = export_source(engine, name_or_arn)?;
    let time = time.unwrap_or(source.latest);
    if time < source.earliest || time > source.latest {
        return Err(source.outside("ExportTime", time));
    }
    // Close the moment first, so no record committed later can count as at or before it;
    // then wait until what it holds is durable.
    let last = engine.wal.fence_time(time);
    engine.wal.sync_through(last)?;
    let pin = source.pin(last, time)?;
    drop(ddl);
    let until = Until {
        lsn: Some(last),
        time: Some(time),
    };
    let (path, schema) = source.build(&pin.base, until, file)?;
    drop(pin);
    Ok(StateAt {
        path,
        schema,
        table_arn: engine.scope.table_arn(&source.name),
        time,
    })
}

/// What an incremental export reads: the table's state just before its window (`None`
/// when the table did not exist yet) and the changes of the window.
pub(crate) struct WindowState {
    /// The state after exactly the records committed before `from`, as a table file.
    pub before: Option<StateAt>,
    /// The changes committed in `[from, to)`.
    pub changes: replay::WindowChanges,
    /// The table's definition now.
    pub schema: TableSchema,
    /// The table's ARN.
    pub table_arn: String,
    /// The window's end (exclusive).
    pub to: Timestamp,
}

/// Builds what an incremental export of the live table `name_or_arn` over `[from, to)`
/// reads: its state before `from` as the table file `file` and the changes committed at or
/// after `from` and before `to`. `to` is the latest restorable moment when `None` (a write
/// committed in that very millisecond falls to the next window: windows `[a, b)` and
/// `[b, c)` together hold each change once). Errors as [`build_state_at`]'s; the window's
/// bounds must lie in the recovery window. Reads files only, never the live table.
pub(crate) fn build_window(
    engine: &Engine,
    name_or_arn: &str,
    from: Timestamp,
    to: Option<Timestamp>,
    file: &str,
    check_period: impl FnOnce(Timestamp, Timestamp) -> Result<()>,
) -> Result<WindowState> {
    let ddl = engine.ddl.lock();
    let source = export_source(engine, name_or_arn)?;
    let schema = {
        let handle = pitr_table(engine, name_or_arn)?;
        let data = handle.data.read();
        (*data.schema).clone()
    };
    let to = to.unwrap_or(source.latest);
    check_period(from, to)?;
    if from < source.earliest || from > source.latest {
        return Err(source.outside("ExportFromTime", from));
    }
    if to < source.earliest || to > source.latest {
        return Err(source.outside("ExportToTime", to));
    }
    // The window's last moment is the millisecond before `to`: closed first, so no record
    // committed later can fall in it, then waited for until durable.
    let to_last = Timestamp(to.0.saturating_sub(1));
    let before_from = Timestamp(from.0.saturating_sub(1));
    let last = engine.wal.fence_time(to_last);
    engine.wal.sync_through(last)?;
    // One pinned state serves both reads: built before the window, so the log after it
    // holds the whole window.
    let pin = source.pin(last, before_from)?;
    drop(ddl);
    let store = source.store;
    // A table created in the window's first millisecond (its recovery enabled with it) did
    // not exist before it: its state there is empty, and its creation record is no state.
    let created_in_window = pin.base.file.is_none()
        && store
            .record_time(pin.base.lsn + 1)?
            .is_some_and(|created| created >= from);
    let before = match created_in_window {
        true => None,
        false => {
            let until = Until {
                lsn: Some(last),
                time: Some(before_from),
            };
            let (path, schema) = source.build(&pin.base, until, file)?;
            Some(StateAt {
                path,
                schema,
                table_arn: engine.scope.table_arn(&source.name),
                time: before_from,
            })
        }
    };
    let until = Until {
        lsn: Some(last),
        time: Some(to_last),
    };
    let changes = replay::read_window_changes(
        &*store.fs,
        &store.dir,
        store.db_id,
        &source.table_id,
        pin.base.replay_after(last),
        until,
        from,
    );
    drop(pin);
    let changes = match changes {
        Ok(changes) => changes,
        Err(e) => {
            if let Some(before) = &before {
                let _ = store.fs.remove_file(&before.path);
            }
            return Err(e);
        }
    };
    Ok(WindowState {
        before,
        changes,
        schema,
        table_arn: engine.scope.table_arn(&source.name),
        to,
    })
}
