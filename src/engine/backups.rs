//! The backups the engine knows, built or pending, and how each is described.

use std::sync::Arc;

use crate::api::backups::*;
use crate::format::backup::{BackupEntry, BackupRecord};
use crate::format::table_file::Progress;
use crate::model::schema::{GlobalSecondaryIndex, LocalSecondaryIndex, ProvisionedThroughput};
use crate::model::Lsn;

/// A backup in memory: built, or pending with its progress.
#[derive(Debug, Clone)]
pub(crate) struct BackupState {
    pub record: Arc<BackupRecord>,
    pub marker: Lsn,
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
