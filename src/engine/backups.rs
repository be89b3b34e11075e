//! The backups the engine knows, built or pending, and how each is described.
//!
//! # A build that fails
//!
//! A pending backup whose build fails keeps its place and its error: the other backups,
//! snapshots and log truncation go on without it. It is retried after a backoff measured on
//! the engine's clock — [`FIRST_RETRY_MS`], doubling up to [`MAX_RETRY_MS`] — and *fails for
//! good* once retrying cannot help: at once for any error but an I/O error (the table's files
//! or log are damaged: the next attempt would read the same bytes), and after
//! [`MAX_BUILD_ATTEMPTS`] attempts for I/O errors (about two minutes of retries).
//!
//! DynamoDB has no FAILED backup status (`BackupStatus` is CREATING, DELETED or AVAILABLE),
//! so a backup that failed for good stays CREATING; `backup_progress` tells it apart, and
//! `wait_for_backup` returns its error. It is not lost (invariant I7): its state and log
//! stay retained, and the next open of the database builds it afresh (failures are counted
//! per open). Unlike a backup still being built, it can be deleted.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::api::backups::*;
use crate::engine::live::Live;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::format::backup::{BackupEntry, BackupRecord};
use crate::format::mutation::Mutation;
use crate::format::table_file::Progress;
use crate::model::clock::Timestamp;
use crate::model::schema::{GlobalSecondaryIndex, LocalSecondaryIndex, ProvisionedThroughput};
use crate::model::Lsn;
use crate::state::apply::apply;

/// The most attempts at a build that fails with I/O errors before it fails for good.
const MAX_BUILD_ATTEMPTS: u32 = 8;
/// How long after its first failure a build is retried (engine clock, milliseconds).
const FIRST_RETRY_MS: u64 = 1_000;
/// The longest wait between two attempts (milliseconds).
const MAX_RETRY_MS: u64 = 60_000;

/// Every backup not deleted, built or pending, by marker LSN (creation order), and who
/// waits for their changes.
///
/// Its lock is never held across a log sync, a file write or a copy: `describe_backup` and
/// `list_backups` take it. A request logs its record first and registers the backup after,
/// counted meanwhile as a [`Request`], so that retention never drops what it will need.
#[derive(Debug, Default)]
pub(crate) struct Backups {
    map: Mutex<BTreeMap<Lsn, BackupState>>,
    /// Notified whenever a backup's state changes (built, failed, deleted).
    changed: Condvar,
    /// Backups logged, or being logged, and not registered yet.
    requests: AtomicUsize,
}

impl Backups {
    /// The registry holding `backups`.
    pub fn new(backups: BTreeMap<Lsn, BackupState>) -> Backups {
        Backups {
            map: Mutex::new(backups),
            ..Backups::default()
        }
    }

    /// Locks the registry.
    pub fn lock(&self) -> MutexGuard<'_, BTreeMap<Lsn, BackupState>> {
        self.map.lock()
    }

    /// Wakes everyone waiting for a backup's state to change.
    pub fn changed(&self) {
        self.changed.notify_all();
    }

    /// Waits, with the registry unlocked, until a backup's state changes or `deadline`.
    pub fn wait_until(
        &self,
        guard: &mut MutexGuard<'_, BTreeMap<Lsn, BackupState>>,
        deadline: Instant,
    ) {
        self.changed.wait_until(guard, deadline);
    }

    /// Counts a backup about to be logged until the returned guard drops, which must be
    /// after the backup is registered.
    pub fn request(&self) -> Request<'_> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        Request(self)
    }

    /// Whether a backup is logged or being logged but not registered yet: its marker, and so
    /// the table state and the log it needs, are not known. Read with the registry locked:
    /// a backup is then either registered or counted, or its record will come after every
    /// LSN the caller has seen.
    pub fn requests_in_flight(&self) -> bool {
        self.requests.load(Ordering::SeqCst) > 0
    }
}

/// A backup being requested (see [`Backups::request`]).
#[derive(Debug)]
pub(crate) struct Request<'a>(&'a Backups);

impl Drop for Request<'_> {
    fn drop(&mut self) {
        self.0.requests.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How long after its `attempts`th failure, with `error`, a build is retried; `None` once it
/// has failed for good (see the module docs).
fn retry_delay_ms(error: &Error, attempts: u32) -> Option<u64> {
    let retry = matches!(error, Error::Io { .. }) && attempts < MAX_BUILD_ATTEMPTS;
    let doublings = attempts.saturating_sub(1).min(16);
    retry.then(|| (FIRST_RETRY_MS << doublings).min(MAX_RETRY_MS))
}

/// A backup in memory: built, or pending with its progress.
#[derive(Debug, Clone)]
pub(crate) struct BackupState {
    pub record: Arc<BackupRecord>,
    pub marker: Lsn,
    /// CREATING, AVAILABLE, or DELETED while its deletion is being logged.
    pub status: BackupStatus,
    /// Set once AVAILABLE.
    pub built: Option<BackupEntry>,
    pub progress: Arc<Progress>,
    /// Restores reading the backup right now (it cannot be deleted meanwhile).
    pub readers: usize,
    /// Set once a build attempt failed.
    pub failure: Option<BuildFailure>,
}

/// The failed build attempts of a pending backup.
#[derive(Debug, Clone)]
pub(crate) struct BuildFailure {
    pub attempts: u32,
    /// The last attempt's error.
    pub error: Arc<Error>,
    /// When the next attempt may start; `None` once the build failed for good.
    pub retry_at: Option<Timestamp>,
}

impl BackupState {
    /// A built backup.
    pub fn built(entry: BackupEntry) -> BackupState {
        BackupState {
            record: Arc::clone(&entry.record),
            marker: entry.marker,
            status: BackupStatus::Available,
            built: Some(entry),
            progress: Arc::new(Progress::default()),
            readers: 0,
            failure: None,
        }
    }

    /// A requested backup not built yet.
    pub fn pending(record: Arc<BackupRecord>, marker: Lsn) -> BackupState {
        BackupState {
            record,
            marker,
            status: BackupStatus::Creating,
            built: None,
            progress: Arc::new(Progress::default()),
            readers: 0,
            failure: None,
        }
    }

    /// Records a failed build attempt at `now` and when to retry it, if ever.
    pub fn build_failed(&mut self, error: Error, now: Timestamp) {
        let attempts = self.failure.as_ref().map_or(0, |f| f.attempts) + 1;
        let retry_at =
            retry_delay_ms(&error, attempts).map(|ms| Timestamp(now.0.saturating_add(ms)));
        self.failure = Some(BuildFailure {
            attempts,
            error: Arc::new(error),
            retry_at,
        });
    }

    /// Whether the backup is pending and its build may start at `now`.
    pub fn due(&self, now: Timestamp) -> bool {
        self.built.is_none()
            && self
                .failure
                .as_ref()
                .is_none_or(|f| f.retry_at.is_some_and(|at| at <= now))
    }

    /// Whether the build failed for good (see the module docs).
    pub fn failed_for_good(&self) -> bool {
        self.failure.as_ref().is_some_and(|f| f.retry_at.is_none())
    }

    /// `BackupDetails` of this backup.
    pub fn details(&self) -> BackupDetails {
        BackupDetails {
            backup_arn: self.record.arn.clone(),
            backup_name: self.record.name.clone(),
            backup_size_bytes: self.built.as_ref().map_or(0, |b| b.size),
            backup_status: self.status,
            backup_type: self.record.backup_type,
            backup_creation_date_time: self.record.created,
            backup_expiry_date_time: self.record.expires,
        }
    }

    /// `BackupDescription` of this backup.
    pub fn description(&self) -> BackupDescription {
        let schema = &self.record.schema;
        let (items, bytes) = match &self.built {
            Some(b) => (b.items, b.item_bytes),
            None => (self.record.items_at_request, self.record.bytes_at_request),
        };
        let locals: Vec<LocalSecondaryIndex> = schema
            .local_indexes
            .iter()
            .map(|i| LocalSecondaryIndex {
                index_name: i.name.clone(),
                key_schema: i.key.key_schema(),
                projection: i.projection.clone(),
            })
            .collect();
        let globals: Vec<GlobalSecondaryIndex> = schema
            .global_indexes
            .iter()
            .map(|i| GlobalSecondaryIndex {
                index_name: i.name.clone(),
                key_schema: i.key.key_schema(),
                projection: i.projection.clone(),
                provisioned_throughput: i.throughput,
                on_demand_throughput: i.on_demand,
                // `GlobalSecondaryIndexInfo` has no warm throughput.
                warm_throughput: None,
            })
            .collect();
        BackupDescription {
            backup_details: self.details(),
            source_table_details: SourceTableDetails {
                table_name: schema.name.clone(),
                table_id: schema.id.clone(),
                table_arn: self.record.table_arn.clone(),
                table_size_bytes: bytes,
                key_schema: schema.key.key_schema(),
                table_creation_date_time: schema.created,
                provisioned_throughput: schema
                    .throughput
                    .unwrap_or(ProvisionedThroughput::new(0, 0)),
                item_count: items,
                billing_mode: schema.billing_mode,
                on_demand_throughput: schema.on_demand,
            },
            source_table_feature_details: SourceTableFeatureDetails {
                local_secondary_indexes: (!locals.is_empty()).then_some(locals),
                global_secondary_indexes: (!globals.is_empty()).then_some(globals),
                stream_description: schema.stream,
            },
        }
    }

    /// `BackupSummary` of this backup.
    pub fn summary(&self) -> BackupSummary {
        BackupSummary {
            table_name: self.record.schema.name.clone(),
            table_id: self.record.schema.id.clone(),
            table_arn: self.record.table_arn.clone(),
            backup_arn: self.record.arn.clone(),
            backup_name: self.record.name.clone(),
            backup_creation_date_time: self.record.created,
            backup_expiry_date_time: self.record.expires,
            backup_status: self.status,
            backup_type: self.record.backup_type,
            backup_size_bytes: self.built.as_ref().map_or(0, |b| b.size),
        }
    }
}

impl Engine {
    /// Deletes backup `arn`, as `DeleteBackup` and expiry do: claims it (status DELETED)
    /// under the registry's lock, logs the deletion with the lock released, then forgets it.
    /// Refused (`BackupInUse`) while the backup is being built (unless its build failed for
    /// good), restored from or deleted. Returns its last state, DELETED.
    pub(crate) fn delete_backup(&self, arn: &str) -> Result<BackupState> {
        let (state, before) = {
            let mut backups = self.backups.lock();
            let state = backups
                .values_mut()
                .find(|b| b.record.arn == arn)
                .ok_or_else(|| Error::backup_not_found(arn))?;
            let busy = match state.status {
                BackupStatus::Deleted => Some("being deleted"),
                _ if state.readers > 0 => Some("being restored from"),
                BackupStatus::Creating if !state.failed_for_good() => Some("still being created"),
                _ => None,
            };
            if let Some(why) = busy {
                return Err(Error::BackupInUse(format!(
                    "Backup is in use: {arn} is {why}"
                )));
            }
            let before = std::mem::replace(&mut state.status, BackupStatus::Deleted);
            (state.clone(), before)
        };
        let mutation = Mutation::DeleteBackup {
            arn: arn.to_owned(),
        };
        let at = match self.commit(&mutation, &[]) {
            Ok(at) => at,
            Err(e) => {
                if let Some(state) = self
                    .backups
                    .lock()
                    .values_mut()
                    .find(|b| b.record.arn == arn)
                {
                    state.status = before;
                }
                return Err(e);
            }
        };
        // The catalog forgets the backup and its file goes below.
        self.durable_before_files(at)?;
        apply(at, mutation, &mut Live::new(self))?;
        if let Some(store) = &self.store {
            // The deletion is durable in the log; a leftover file is removed on the next open.
            if let Err(e) = store.forget_backup(arn) {
                *self.maintenance_error.lock() =
                    Some(format!("removing the file of deleted backup {arn}: {e}"));
            }
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eio() -> Error {
        Error::Io {
            context: "building".into(),
            source: std::io::Error::from_raw_os_error(5),
        }
    }

    #[test]
    fn an_io_error_is_retried_after_1_2_4_s_up_to_a_minute_and_fails_for_good_at_the_8th() {
        let delays: Vec<Option<u64>> = (1..=MAX_BUILD_ATTEMPTS + 1)
            .map(|attempts| retry_delay_ms(&eio(), attempts))
            .collect();
        let s = |secs: u64| Some(secs * 1_000);
        assert_eq!(
            delays,
            [s(1), s(2), s(4), s(8), s(16), s(32), s(60), None, None]
        );
    }

    #[test]
    fn any_other_error_fails_the_build_for_good_at_once() {
        assert_eq!(
            retry_delay_ms(&Error::Corruption("bad block".into()), 1),
            None
        );
        assert_eq!(retry_delay_ms(&Error::validation("bad record"), 1), None);
    }
}
