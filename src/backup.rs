//! On-demand backups, done the way DynamoDB describes them: the request records a marker and
//! returns at once; the backup is built in the background by replaying the log up to the
//! marker onto the table's last snapshot.
//!
//! tidestore's marker is exact. `create_backup` logs one small record; its LSN `M` is the
//! marker, and the backup holds precisely the table's writes with LSN < M: everything
//! acknowledged before the call, nothing that began after it returned, and a transaction all
//! in or all out. The request rides a group commit like any write and returns once its
//! record is durable, so a crash cannot lose it (invariant I7: the build resumes on open).
//!
//! The build never reads the live table and never holds a lock a writer needs (I5): it reads
//! the table's snapshot and the log, in the background worker. A build that fails is retried
//! after a backoff and holds back no other work (`engine/backups.rs` says when it has failed
//! for good); `wait_for_backup` sleeps until a build finishes or fails for good. To keep what it needs, a
//! pending backup keeps the newest state of its table before `M` (a checkpoint that replaces
//! it leaves it retained, see `format/catalog.rs`) and the log from that state on.
//!
//! A SYSTEM backup is the same thing with the table's deletion record as its marker: it is
//! logged with the deletion of a table that has point-in-time recovery (`pitr.rs`), named
//! `{TableName}$DeletedTableBackup`, and expires 35 days later (expired backups are deleted
//! by the background worker and on open, and the deletion is logged like `DeleteBackup`).
//!
//! A backup file is the table file container (`format/table_file.rs`) with the magic `TIDEBKUP` and a
//! [`BackupMeta`] header: self-contained (schema, settings, items, checksums), so it can be
//! copied elsewhere and restored.

use std::sync::Arc;

use crate::engine::Engine;

use crate::api::backups::*;
use crate::engine::backups::{BackupState, BuildFailure};
use crate::format::backup::BackupRecord;
use std::time::{Duration, Instant};

use crate::api::tables::TableStatus;
use crate::engine::live::Live;
use crate::error::{Error, Result};
use crate::format::mutation::Mutation;
use crate::model::names;
use crate::state::apply::apply;

/// The service behind [`Database::create_backup`](crate::Database::create_backup).
pub(crate) fn create_backup(
    engine: &Engine,
    table_name: &str,
    backup_name: &str,
) -> Result<CreateBackupOutput> {
    names::validate_backup_name(backup_name)?;

    if engine.store.is_none() {
        return Err(Error::ContinuousBackupsUnavailable(
            "Backups need a database directory; this database lives in memory".into(),
        ));
    }
    let now = engine.options.clock.now();
    {
        let mut recent = engine.backup_requests.lock();
        while recent.front().is_some_and(|t| t.0 + 1000 <= now.0) {
            recent.pop_front();
        }
        if recent.len() >= engine.options.backup_rate_limit as usize {
            return Err(Error::LimitExceeded(format!(
                "Subscriber limit exceeded: CreateBackup can be called at most {} times per second",
                engine.options.backup_rate_limit
            )));
        }
        recent.push_back(now);
    }
    let handle = engine.table(table_name).map_err(|e| match e {
        Error::ResourceNotFound(_) => {
            Error::TableNotFound(format!("Table not found: {table_name}"))
        }
        other => other,
    })?;
    // Shared, as a writer holds it: a delete of the table waits for this request.
    let _gate = handle.gate.read();
    let (schema, items, bytes) = {
        let data = handle.data.read();
        if data.deleted {
            return Err(Error::TableNotFound(format!(
                "Table not found: {table_name}"
            )));
        }
        if data.status != TableStatus::Active {
            return Err(Error::TableInUse(format!(
                "Table is not ACTIVE: {table_name}"
            )));
        }
        (Arc::clone(&data.schema), data.items.len(), data.size_bytes)
    };
    let record = Arc::new(BackupRecord::new(
        BackupType::User,
        backup_name,
        now,
        engine.scope.table_arn(&schema.name),
        schema,
        (items, bytes),
    ));
    // Counted from before its commit until it is registered, so that no maintenance round
    // meanwhile releases the table state or the log the backup will need (`Backups`).
    let _request = engine.backups.request();
    let mutation = Mutation::CreateBackup(record);
    let at = engine.commit(&mutation, &[])?;
    if engine.options.durability == crate::options::Durability::Buffered {
        // The request is acknowledged durable in every mode: the backup it promises
        // must survive a crash.
        engine.wal.sync()?;
    }
    apply(at, mutation, &mut Live::new(engine))?;
    let details = engine
        .backups
        .lock()
        .get(&at.lsn)
        .map(BackupState::details)
        .ok_or_else(|| Error::backup_not_found(&format!("marker {}", at.lsn)))?;
    engine.wake.notify();
    Ok(CreateBackupOutput {
        backup_details: details,
    })
}

fn backup_state(engine: &Engine, arn: &str) -> Result<BackupState> {
    engine.scope.validate_backup_arn(arn)?;
    let backups = engine.backups.lock();
    backups
        .values()
        .find(|b| b.record.arn == arn)
        .cloned()
        .ok_or_else(|| Error::backup_not_found(arn))
}

/// The service behind [`Database::describe_backup`](crate::Database::describe_backup).
pub(crate) fn describe_backup(
    engine: &Engine,
    backup_arn: &str,
) -> Result<BackupDescriptionOutput> {
    Ok(BackupDescriptionOutput {
        backup_description: backup_state(engine, backup_arn)?.description(),
    })
}

/// The service behind [`Database::backup_progress`](crate::Database::backup_progress).
pub(crate) fn backup_progress(engine: &Engine, backup_arn: &str) -> Result<BackupProgress> {
    use std::sync::atomic::Ordering::Relaxed;
    let state = backup_state(engine, backup_arn)?;
    // Bytes are the items' DynamoDB size, the same unit as the total.
    let (items_done, bytes_done) = match &state.built {
        Some(b) => (b.items, b.item_bytes),
        None => (
            state.progress.items.load(Relaxed),
            state.progress.item_bytes.load(Relaxed),
        ),
    };
    let failure = state.failure.as_ref();
    Ok(BackupProgress {
        marker_lsn: state.marker,
        items_done,
        bytes_done,
        items_total: state.record.items_at_request,
        bytes_total: state.record.bytes_at_request,
        failed_attempts: failure.map_or(0, |f| f.attempts),
        last_error: failure.map(|f| f.error.to_string()),
        retry_at: failure.and_then(|f| f.retry_at),
        failed_for_good: state.failed_for_good(),
    })
}

/// The service behind [`Database::wait_for_backup`](crate::Database::wait_for_backup).
///
/// With the background worker it sleeps until the registry changes (a build finished or
/// failed, a deletion) or the deadline. Without one it runs the maintenance rounds itself:
/// one now, and one whenever a failed build is due again.
pub(crate) fn wait_for_backup(
    engine: &Engine,
    backup_arn: &str,
    timeout: Duration,
) -> Result<BackupDescription> {
    engine.scope.validate_backup_arn(backup_arn)?;
    let deadline = Instant::now() + timeout;
    let foreground = !engine.options.background_worker;
    let failed_before = backup_state(engine, backup_arn)?
        .failure
        .map_or(0, |f| f.attempts);
    loop {
        if foreground {
            engine.maintain(false)?;
        } else {
            engine.wake.notify();
        }
        let mut backups = engine.backups.lock();
        loop {
            let state = backups
                .values()
                .find(|b| b.record.arn == backup_arn)
                .ok_or_else(|| Error::backup_not_found(backup_arn))?;
            if state.status == BackupStatus::Available {
                return Ok(state.description());
            }
            if let Some(failure) = &state.failure {
                // Without a worker nobody retries while the caller waits: a failure its
                // own rounds met is the answer.
                if failure.retry_at.is_none() || (foreground && failure.attempts > failed_before) {
                    return Err(build_error(backup_arn, failure));
                }
            }
            let now = Instant::now();
            if now >= deadline {
                let failures = state.failure.as_ref().map_or(String::new(), |f| {
                    format!(
                        " ({} failed build attempts, the last: {})",
                        f.attempts, f.error
                    )
                });
                return Err(Error::BackupInUse(format!(
                    "Backup is still being created: {backup_arn} is not AVAILABLE after {timeout:?}{failures}"
                )));
            }
            // Without a worker, the round that retries a failed build is this call's, once
            // the engine's clock reaches the retry time.
            let retry = state
                .failure
                .as_ref()
                .and_then(|f| f.retry_at)
                .filter(|_| foreground)
                .map(|at| {
                    now + Duration::from_millis(at.0.saturating_sub(engine.options.clock.now().0))
                })
                .filter(|&at| at > now);
            engine
                .backups
                .wait_until(&mut backups, retry.map_or(deadline, |at| at.min(deadline)));
            if retry.is_some_and(|at| Instant::now() >= at) {
                break;
            }
        }
    }
}

/// The error `wait_for_backup` answers a failed build with: the build's own, an I/O error
/// (its kind kept) or, for anything else, corruption, saying which backup it is.
fn build_error(arn: &str, failure: &BuildFailure) -> Error {
    let when = match failure.retry_at {
        Some(at) => format!("retried at {}", at.to_iso8601()),
        None => "failed for good until the database is reopened".into(),
    };
    let context = format!(
        "building backup {arn} (attempt {}, {when})",
        failure.attempts
    );
    match &*failure.error {
        Error::Io {
            context: what,
            source,
        } => Error::Io {
            context: format!("{context}: {what}"),
            source: match source.raw_os_error() {
                Some(code) => std::io::Error::from_raw_os_error(code),
                None => std::io::Error::new(source.kind(), source.to_string()),
            },
        },
        other => Error::Corruption(format!("{context}: {other}")),
    }
}

/// The service behind [`Database::list_backups`](crate::Database::list_backups).
pub(crate) fn list_backups(engine: &Engine, input: ListBackupsInput) -> Result<ListBackupsOutput> {
    let limit = input.limit.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(Error::validation(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100"
        )));
    }
    let table = match &input.table_name {
        Some(t) => Some(engine.scope.table_name_of(t)?.to_owned()),
        None => None,
    };
    if let Some(start) = &input.exclusive_start_backup_arn {
        engine.scope.validate_backup_arn(start)?;
    }
    let filter = input.backup_type.unwrap_or_default();
    let backups = engine.backups.lock();
    let mut past_start = input.exclusive_start_backup_arn.is_none();
    let mut out = ListBackupsOutput::default();
    let mut more = false;
    for state in backups.values() {
        if !past_start {
            past_start =
                input.exclusive_start_backup_arn.as_deref() == Some(state.record.arn.as_str());
            continue;
        }
        let kind = state.record.backup_type;
        let type_ok = match filter {
            BackupTypeFilter::All => true,
            BackupTypeFilter::User => kind == BackupType::User,
            BackupTypeFilter::System => kind == BackupType::System,
            BackupTypeFilter::AwsBackup => kind == BackupType::AwsBackup,
        };
        let created = state.record.created;
        if !type_ok
            || table
                .as_ref()
                .is_some_and(|t| *t != state.record.schema.name)
            || input
                .time_range_lower_bound
                .is_some_and(|lower| created < lower)
            || input
                .time_range_upper_bound
                .is_some_and(|upper| created >= upper)
        {
            continue;
        }
        if out.backup_summaries.len() == limit as usize {
            more = true;
            break;
        }
        out.backup_summaries.push(state.summary());
    }
    if more {
        out.last_evaluated_backup_arn = out.backup_summaries.last().map(|b| b.backup_arn.clone());
    }
    Ok(out)
}

/// The service behind [`Database::delete_backup`](crate::Database::delete_backup).
pub(crate) fn delete_backup(engine: &Engine, backup_arn: &str) -> Result<BackupDescriptionOutput> {
    engine.scope.validate_backup_arn(backup_arn)?;
    Ok(BackupDescriptionOutput {
        backup_description: engine.delete_backup(backup_arn)?.description(),
    })
}
