//! Restores: `RestoreTableFromBackup`, and the steps every restore shares — the restored
//! table's definition from its source and the overrides, and the commit that makes the
//! restored table exist (point-in-time restores, `pitr.rs`, use both).
//!
//! A restore always makes a new table. Its contents are written and synced as the table's
//! first snapshot before one log record commits the restore, so a crash leaves either no
//! table or the whole restored table, never part of it. Meanwhile the restore holds no lock
//! other DDL needs: it claims the new table's name ([`Engine::claim_table_name`]) and takes
//! the DDL lock only for its commit.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::api::backups::*;
use crate::api::tables::{SseSpecification, TableDescription, TableStatus};
use crate::engine::live::Live;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::format::backup::{BackupEntry, BackupMeta, BACKUP_MAGIC};
use crate::format::catalog::{snapshot_name, BACKUP_DIR, SNAPSHOT_DIR};
use crate::format::codec;
use crate::format::mutation::Mutation;
use crate::format::table_file::{SnapshotMeta, TableFileReader, SNAPSHOT_MAGIC};
use crate::model::clock::Timestamp;
use crate::model::names;
use crate::model::schema::{
    global_index, validate_index_set, validate_throughput, BillingMode, GlobalSecondaryIndex,
    IndexSchema, LocalSecondaryIndex, OnDemandThroughput, Projection, ProvisionedThroughput,
    TableSchema,
};
use crate::state::apply::apply;
use crate::state::table::TableData;
use crate::storage::replay::write_table_file;
use crate::storage::store::Checkpoint;

/// The service behind [`Database::restore_table_from_backup`](crate::Database::restore_table_from_backup).
pub(crate) fn restore_table_from_backup(
    engine: &Engine,
    input: RestoreTableFromBackupInput,
) -> Result<RestoreTableFromBackupOutput> {
    engine.scope.validate_backup_arn(&input.backup_arn)?;
    names::validate_table_name(&input.target_table_name)?;

    let Some(store) = &engine.store else {
        return Err(Error::backup_not_found(&input.backup_arn));
    };
    // Other DDL goes on while the backup is copied; the name stays this restore's.
    let _claim = {
        let _ddl = engine.ddl.lock();
        engine.claim_table_name(&input.target_table_name)?
    };
    let entry = {
        let mut backups = engine.backups.lock();
        let state = backups
            .values_mut()
            .find(|b| b.record.arn == input.backup_arn)
            .ok_or_else(|| Error::backup_not_found(&input.backup_arn))?;
        let entry = match (state.status, &state.built) {
            (BackupStatus::Deleted, _) => Err("being deleted"),
            (_, None) => Err("still being created"),
            (_, Some(entry)) => Ok(entry.clone()),
        }
        .map_err(|why| Error::BackupInUse(format!("Backup is {why}: {}", input.backup_arn)))?;
        state.readers += 1;
        entry
    };
    let result = restore(engine, store, &entry, &input);
    if let Some(state) = engine
        .backups
        .lock()
        .values_mut()
        .find(|b| b.record.arn == input.backup_arn)
    {
        state.readers -= 1;
    }
    result
}

fn restore(
    engine: &Engine,
    store: &crate::storage::store::Store,
    entry: &BackupEntry,
    input: &RestoreTableFromBackupInput,
) -> Result<RestoreTableFromBackupOutput> {
    let fs = &*store.fs;
    let path = store.dir.join(BACKUP_DIR).join(&entry.file);
    let mut reader = TableFileReader::open(fs, &path, BACKUP_MAGIC)?;
    let meta: BackupMeta = codec::decode(reader.meta(), format_args!("backup {}", path.display()))?;
    if meta.record.arn != entry.record.arn {
        return Err(Error::Corruption(format!(
            "backup file {} holds backup {}",
            path.display(),
            meta.record.arn
        )));
    }
    let now = engine.options.clock.now();
    let summary = crate::model::schema::RestoreSummary {
        source_backup_arn: Some(entry.record.arn.clone()),
        source_table_arn: Some(entry.record.table_arn.clone()),
        // "Point in time or source backup time": for a backup, when it was requested.
        restore_date_time: entry.record.created,
        restore_in_progress: false,
    };
    let overrides = RestoreOverrides {
        billing_mode: input.billing_mode_override,
        throughput: input.provisioned_throughput_override,
        on_demand: input.on_demand_throughput_override.as_ref(),
        global_indexes: input.global_secondary_index_override.as_deref(),
        local_indexes: input.local_secondary_index_override.as_deref(),
        sse: input.sse_specification_override.as_ref(),
    };
    let schema = Arc::new(restored_schema(
        &meta.schema,
        &input.target_table_name,
        &overrides,
        now,
        summary,
    )?);

    // The new table's first snapshot, streamed from the backup: every block is verified
    // (checksums, key order, footer counts) before anything is committed.
    let file = snapshot_name(&schema.id, 0);
    let snapshot_dir = store.dir.join(SNAPSHOT_DIR);
    // A backup holds no settings, and a restored table starts with none (DynamoDB's rule).
    let snapshot_meta = SnapshotMeta {
        table_id: schema.id.clone(),
        lsn: 0,
        schema: (*schema).clone(),
        settings: Arc::default(),
    };
    let mut data = TableData::new(Arc::clone(&schema), TableStatus::Active);
    let written = write_table_file(
        fs,
        &snapshot_dir,
        &file,
        SNAPSHOT_MAGIC,
        &codec::encode(&snapshot_meta),
        |writer| {
            while let Some(block) = reader.next_block(&schema.key)? {
                for (key, item) in block {
                    writer.push(&key, &item)?;
                    data.apply_write(key, Some(item))?;
                }
            }
            Ok(())
        },
    );
    // NB: the temporary file is gone already; the file itself is there if its rename was
    // done before the failure (a failed directory sync), and nothing names it.
    written.inspect_err(|_| remove_uncommitted(fs, &snapshot_dir.join(&file)))?;
    Ok(RestoreTableFromBackupOutput {
        table_description: install_restored(engine, data, file)?,
    })
}

/// Makes a restored table exist: `data` is its contents and `file` its first snapshot,
/// written and synced (see [`commit_new_table`]). Returns the description DynamoDB answers
/// a restore with (CREATING, `RestoreInProgress`).
pub(crate) fn install_restored(
    engine: &Engine,
    data: TableData,
    file: String,
) -> Result<TableDescription> {
    let mut description = engine.describe(&data, TableStatus::Creating);
    if let Some(summary) = description.restore_summary.as_mut() {
        summary.restore_in_progress = true;
    }
    commit_new_table(engine, data, file)?;
    Ok(description)
}

/// Makes a table that starts with contents (a restored or an imported one) exist: `data`
/// is its contents and `file` its first snapshot, written and synced (unless the database
/// is in memory). Logs the one record that commits the table and installs the snapshot.
/// The caller has claimed the table's name ([`Engine::claim_table_name`]) and does not
/// hold the DDL lock, which this takes.
///
/// A failure after the commit cannot undo it: the log holds the table, and recovery makes it
/// from the record and the file. So the database fails stop — it acknowledges nothing more
/// and keeps every file and all of the log (the catalog may not know the table's snapshot)
/// until it is reopened — and the error is [`Error::Poisoned`].
pub(crate) fn commit_new_table(engine: &Engine, data: TableData, file: String) -> Result<()> {
    let _ddl = engine.ddl.lock();
    let schema = Arc::clone(&data.schema);
    if let Err(e) = engine.check_table_limit(engine.tables.read().len()) {
        if let Some(store) = &engine.store {
            remove_uncommitted(&*store.fs, &store.dir.join(SNAPSHOT_DIR).join(&file));
        }
        return Err(e);
    }
    crate::fs::killpoint::reached("restore.before_commit");
    // The commit point: from here the table exists, also after a crash.
    let mutation = Mutation::RestoreTable {
        schema: Arc::clone(&schema),
        snapshot: file.clone(),
    };
    let at = engine.commit(&mutation, &[])?;
    // The catalog records the table's first snapshot at this LSN below: a catalog naming a
    // snapshot past the log's end is corruption. (A failed sync poisons the log; the record
    // may be durable, so its file stays, as when the catalog cannot be written below.)
    if let Err(e) = engine.durable_before_files(at) {
        engine.hold_retention.store(true, Ordering::SeqCst);
        return Err(e);
    }
    let (lsn, time) = (at.lsn, at.time);
    let id: Arc<str> = schema.id.as_str().into();
    let installing = crate::storage::store::Installing {
        lsn,
        log_bytes: 0,
        creation_lsn: None,
    };
    // The time of the record before this one is not at hand (and that record is not the
    // table's): `time` errs on the side of keeping more.
    let file_name = file.clone();
    let checkpoint = Checkpoint::Built {
        file,
        time,
        prior_time: time,
    };
    if let Some(store) = &engine.store {
        if let Err(e) = store.install_snapshot(&id, checkpoint, &installing, || true) {
            engine.hold_retention.store(true, Ordering::SeqCst);
            let context = format!(
                "recording table {}'s first snapshot {file_name}",
                schema.name
            );
            return Err(engine.wal.fail_stop(context, &e));
        }
    }
    apply(at, mutation, &mut Live::new(engine).with_restored(data))
}

/// Removes `path`, the first snapshot of a table whose commit failed or never began, so
/// that a failed restore or import leaves no file behind (an open would remove it, but a
/// database may run on for long). Best effort: the failure that got here is the error to
/// report.
///
/// IMPORTANT: only before the commit is attempted. Once its record may be in the log, even
/// unsynced, recovery may make the table from it and needs the file.
pub(crate) fn remove_uncommitted(fs: &dyn crate::fs::Vfs, path: &std::path::Path) {
    let _ = fs.remove_file(path);
}

/// What a restore may change of the source's definition.
pub(crate) struct RestoreOverrides<'a> {
    pub billing_mode: Option<BillingMode>,
    pub throughput: Option<ProvisionedThroughput>,
    /// On-demand maximums other than the source's (`OnDemandThroughputOverride`).
    pub on_demand: Option<&'a OnDemandThroughput>,
    /// The global indexes to keep (all when `None`).
    pub global_indexes: Option<&'a [GlobalSecondaryIndex]>,
    /// The local indexes to keep (all when `None`).
    pub local_indexes: Option<&'a [LocalSecondaryIndex]>,
    /// Encryption at rest: only the default is accepted.
    pub sse: Option<&'a SseSpecification>,
}

/// The definition of a table restored from `source` (a backup's definition, or a table's
/// for a point-in-time restore) as `target`: a new id, the source's keys, the indexes the
/// overrides keep (all by default), billing and throughput overrides, and no stream and no
/// point-in-time recovery (DynamoDB carries neither over, nor TTL or tags).
pub(crate) fn restored_schema(
    source: &TableSchema,
    target: &str,
    overrides: &RestoreOverrides,
    now: Timestamp,
    summary: crate::model::schema::RestoreSummary,
) -> Result<TableSchema> {
    let billing_mode = overrides.billing_mode.unwrap_or(source.billing_mode);
    if billing_mode == BillingMode::PayPerRequest && overrides.throughput.is_some() {
        return Err(Error::validation(
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        ));
    }
    if let Some(sse) = overrides.sse {
        sse.check_default("SSESpecificationOverride")?;
    }
    let on_demand = match (billing_mode, overrides.on_demand) {
        (BillingMode::Provisioned, Some(given)) => {
            if let Some(member) = given.member_given() {
                return Err(Error::validation(format!(
                    "Invalid Request: Cannot override {member} for OnDemandThroughput unless BillingModeOverride is PAY_PER_REQUEST"
                )));
            }
            None
        }
        (BillingMode::Provisioned, None) => None,
        (BillingMode::PayPerRequest, Some(given)) => {
            if let Some(member) = given.member_out_of_range() {
                return Err(Error::validation(format!(
                    "Invalid Request: Requested {member} for OnDemandThroughput is outside of valid range"
                )));
            }
            given.merged_into(source.on_demand)
        }
        (BillingMode::PayPerRequest, None) => source.on_demand,
    };
    // An override names an index of the source and must describe it as the source does.
    let named = overrides
        .local_indexes
        .unwrap_or_default()
        .iter()
        .map(|i| (&i.index_name, &i.key_schema, &i.projection))
        .chain(
            overrides
                .global_indexes
                .unwrap_or_default()
                .iter()
                .map(|i| (&i.index_name, &i.key_schema, &i.projection)),
        );
    for (name, key_schema, projection) in named {
        if let Some(index) = source.index(name) {
            let sorted = |p: &Projection| {
                let mut names = p.non_key_attributes.clone();
                names.sort();
                (p.projection_type, names)
            };
            if index.key.key_schema() != *key_schema
                || sorted(&index.projection) != sorted(projection)
            {
                return Err(Error::validation(format!(
                    "One or more parameter values were invalid: the override of index {name} does not match the source's definition of it (key schema and projection must be the same)"
                )));
            }
        }
    }
    let throughput = match billing_mode {
        BillingMode::PayPerRequest => None,
        BillingMode::Provisioned => overrides.throughput.or(source.throughput),
    };
    validate_throughput(billing_mode, throughput.as_ref(), "restored table")?;
    let pick = |kind: &str,
                kept: Option<Vec<&str>>,
                available: &[IndexSchema]|
     -> Result<Vec<IndexSchema>> {
        let Some(kept) = kept else {
            return Ok(available.to_vec());
        };
        kept.iter()
            .map(|name| {
                available.iter().find(|i| i.name == *name).cloned().ok_or_else(|| {
                    Error::validation(format!(
                        "One or more parameter values were invalid: {kind} {name} is not an index of the source"
                    ))
                })
            })
            .collect()
    };
    let local_indexes = pick(
        "LocalSecondaryIndex",
        overrides
            .local_indexes
            .map(|o| o.iter().map(|i| i.index_name.as_str()).collect()),
        &source.local_indexes,
    )?;
    let mut global_indexes = pick(
        "GlobalSecondaryIndex",
        overrides
            .global_indexes
            .map(|o| o.iter().map(|i| i.index_name.as_str()).collect()),
        &source.global_indexes,
    )?;
    for index in &mut global_indexes {
        let requested = overrides
            .global_indexes
            .unwrap_or_default()
            .iter()
            .find(|g| g.index_name == index.name);
        index.throughput = match billing_mode {
            BillingMode::PayPerRequest => None,
            BillingMode::Provisioned => requested
                .and_then(|g| g.provisioned_throughput)
                .or(index.throughput)
                .or(throughput),
        };
        // The source's on-demand maximums, or the override's, on an on-demand table; the
        // override's warm throughput (a restored table starts warm as a new one does). A
        // table restored PROVISIONED drops the source's maximums, but an override that asks
        // for some is checked (and refused) below, never ignored.
        let requested_on_demand = requested.and_then(|g| g.on_demand_throughput);
        let on_demand = match billing_mode {
            BillingMode::PayPerRequest => requested_on_demand.or(index.on_demand),
            BillingMode::Provisioned => requested_on_demand,
        };
        // Re-check the index as a request would be (its throughput against the billing mode).
        let checked = global_index(
            &GlobalSecondaryIndex {
                index_name: index.name.clone(),
                key_schema: index.key.key_schema(),
                projection: index.projection.clone(),
                provisioned_throughput: index.throughput,
                on_demand_throughput: on_demand,
                warm_throughput: requested.and_then(|g| g.warm_throughput),
            },
            &source.attribute_definitions,
            billing_mode,
        )?;
        (index.on_demand, index.warm) = (checked.on_demand, checked.warm);
    }
    validate_index_set(&local_indexes, &global_indexes)?;
    let used: Vec<String> = source
        .key
        .attributes()
        .chain(
            local_indexes
                .iter()
                .chain(&global_indexes)
                .flat_map(|i| i.key.attributes()),
        )
        .map(|a| a.name.clone())
        .collect();
    Ok(TableSchema {
        name: target.to_owned(),
        id: uuid::Uuid::new_v4().to_string(),
        created: now,
        key: source.key.clone(),
        attribute_definitions: source
            .attribute_definitions
            .iter()
            .filter(|d| used.contains(&d.attribute_name))
            .cloned()
            .collect(),
        local_indexes,
        global_indexes,
        billing_mode,
        throughput,
        stream: None,
        stream_label: None,
        streams: Vec::new(),
        restored_from: Some(summary),
        pitr: None,
        // Neither is among what DynamoDB's restores carry over (the `RestoreTableFromBackup`
        // and `RestoreTableToPointInTime` pages list what they do).
        table_class: None,
        deletion_protection: false,
        // The restored table is a new one: PAY_PER_REQUEST, if so, since its creation.
        pay_per_request_set: None,
        on_demand,
        // Warm throughput is not among what a backup records (`SourceTableDetails`).
        warm: None,
    })
}
