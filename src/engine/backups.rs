//! The backups the engine knows, built or pending, and how each is described.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};

use crate::api::backups::*;
use crate::engine::live::Live;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::format::backup::{BackupEntry, BackupRecord};
use crate::format::mutation::Mutation;
use crate::format::table_file::Progress;
use crate::model::schema::{GlobalSecondaryIndex, LocalSecondaryIndex, ProvisionedThroughput};
use crate::model::Lsn;
use crate::state::apply::apply;

/// Every backup not deleted, built or pending, by marker LSN (creation order).
///
/// Its lock is never held across a log sync, a file write or a copy: `describe_backup` and
/// `list_backups` take it. A request logs its record first and registers the backup after,
/// counted meanwhile as a [`Request`], so that retention never drops what it will need.
#[derive(Debug, Default)]
pub(crate) struct Backups {
    map: Mutex<BTreeMap<Lsn, BackupState>>,
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
        }
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
    /// Refused (`BackupInUse`) while the backup is being built, restored from or deleted. Returns its last state, DELETED.
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
                BackupStatus::Creating => Some("still being created"),
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
