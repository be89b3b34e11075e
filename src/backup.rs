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
//! the table's snapshot and the log, in the background worker. To keep what it needs, a
//! pending backup keeps the newest state of its table before `M` (a checkpoint that replaces
//! it leaves it retained, see `catalog.rs`) and the log from that state on.
//!
//! A SYSTEM backup is the same thing with the table's deletion record as its marker: it is
//! logged with the deletion of a table that has point-in-time recovery (`pitr.rs`), named
//! `{TableName}$DeletedTableBackup`, and expires 35 days later (expired backups are deleted
//! by the background worker and on open, and the deletion is logged like `DeleteBackup`).
//!
//! A backup file is the snapshot container (`snapshot.rs`) with the magic `TIDEBKUP` and a
//! [`BackupMeta`] header: self-contained (schema, settings, items, checksums), so it can be
//! copied elsewhere and restored.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::commit::Lsn;
use crate::schema::{
    BillingMode, GlobalSecondaryIndex, KeySchemaElement, LocalSecondaryIndex, Projection,
    ProvisionedThroughput, StreamSpecification, TableSchema,
};
use crate::snapshot::Progress;

/// A backup's lifecycle state (`BackupStatus`; the API model's `AVAILABLE`, which the CLI
/// page calls `ACTIVE`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
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
pub struct CreateBackupOutput {
    /// The new backup, CREATING.
    pub backup_details: BackupDetails,
}

/// The source table as a backup records it (`SourceTableDetails`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
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
}

/// The source table's indexes and stream (`SourceTableFeatureDetails`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
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
pub struct BackupDescriptionOutput {
    /// The backup.
    pub backup_description: BackupDescription,
}

/// One backup in `ListBackups`' output (`BackupSummary`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
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

/// `ListBackups`' output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListBackupsOutput {
    /// The backups, in creation order.
    pub backup_summaries: Vec<BackupSummary>,
    /// Where the next page starts; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluated_backup_arn: Option<String>,
}

/// `SSESpecification`: accepted by a restore and otherwise ignored (tidestore encrypts
/// nothing).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SseSpecification {
    /// Whether encryption at rest is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// AES256 or KMS.
    #[serde(default, rename = "SSEType", skip_serializing_if = "Option::is_none")]
    pub sse_type: Option<String>,
    /// The KMS key.
    #[serde(
        default,
        rename = "KMSMasterKeyId",
        skip_serializing_if = "Option::is_none"
    )]
    pub kms_master_key_id: Option<String>,
}

/// `RestoreTableFromBackup`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
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
    /// Accepted and ignored.
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

/// Where a building backup stands: items and bytes written out of the table's size when the
/// backup was requested (a beyond-DynamoDB companion of `describe_backup`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
}

/// What `create_backup` logs: everything needed to describe the backup before it is built.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct BackupRecord {
    pub arn: String,
    pub name: String,
    pub backup_type: BackupType,
    pub created: Timestamp,
    pub expires: Option<Timestamp>,
    pub table_arn: String,
    /// The table's definition when the backup was requested.
    pub schema: Arc<TableSchema>,
    /// The table's counts when the backup was requested.
    pub items_at_request: u64,
    pub bytes_at_request: u64,
}

/// How long a SYSTEM backup (of a deleted table with point-in-time recovery) is kept.
pub(crate) const SYSTEM_BACKUP_DAYS: u64 = 35;

impl BackupRecord {
    /// A backup of `schema` (the table `table_arn`, holding `counts` items and bytes)
    /// requested at `now`, with its ARN: `{table arn}/backup/{ms:014}-{8 hex}`. A SYSTEM
    /// backup expires [`SYSTEM_BACKUP_DAYS`] later.
    pub fn new(
        backup_type: BackupType,
        name: &str,
        now: Timestamp,
        table_arn: String,
        schema: Arc<TableSchema>,
        counts: (u64, u64),
    ) -> BackupRecord {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        BackupRecord {
            arn: format!("{table_arn}/backup/{:014}-{}", now.0, &suffix[..8]),
            name: name.to_owned(),
            backup_type,
            created: now,
            expires: (backup_type == BackupType::System).then(|| now.plus_days(SYSTEM_BACKUP_DAYS)),
            table_arn,
            schema,
            items_at_request: counts.0,
            bytes_at_request: counts.1,
        }
    }
}

/// The header of a backup file.
#[derive(Clone, Debug, bincode::Encode, bincode::Decode)]
pub(crate) struct BackupMeta {
    pub record: BackupRecord,
    /// The marker LSN.
    pub marker: Lsn,
    /// The table's definition at the marker.
    pub schema: TableSchema,
}

/// A backup as the catalog keeps it once built.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct BackupEntry {
    pub record: Arc<BackupRecord>,
    pub marker: Lsn,
    /// The file's name in the backup directory.
    pub file: String,
    pub size: u64,
    pub items: u64,
    /// The items' DynamoDB size: the table's size at the marker.
    pub item_bytes: u64,
}

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

/// The backup file's name for `arn`: its unique suffix.
pub(crate) fn file_name(arn: &str) -> String {
    let suffix = arn.rsplit('/').next().unwrap_or(arn);
    format!("{suffix}.bkp")
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

// ---------------------------------------------------------------------------------------------
// The operations
// ---------------------------------------------------------------------------------------------

use std::time::{Duration, Instant};

use crate::catalog::{snapshot_name, BACKUP_DIR, SNAPSHOT_DIR};
use crate::codec;
use crate::commit::Mutation;
use crate::db::{Database, TableHandle};
use crate::error::{Error, Result};
use crate::names;
use crate::replay::SnapshotMeta;
use crate::schema::{global_index, validate_index_set, validate_throughput, IndexSchema};
use crate::snapshot::{TableFileReader, TableFileWriter, BACKUP_MAGIC, SNAPSHOT_MAGIC};
use crate::store::Checkpoint;
use crate::table::TableData;
use crate::tables::{TableDescription, TableStatus};

/// `RestoreTableFromBackup`'s output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestoreTableFromBackupOutput {
    /// The new table, CREATING, with its `RestoreSummary`.
    pub table_description: TableDescription,
}

fn backup_not_found(arn: &str) -> Error {
    Error::BackupNotFound(format!("Backup not found: {arn}"))
}

impl Database {
    /// `CreateBackup`: records the backup's marker in the log and returns at once with the
    /// backup CREATING; the background worker builds it. The backup holds exactly the
    /// table's writes logged before the marker. `table_name` is a name or a table ARN.
    pub fn create_backup(&self, table_name: &str, backup_name: &str) -> Result<CreateBackupOutput> {
        names::validate_backup_name(backup_name)?;
        let shared = &self.shared;
        if shared.store.is_none() {
            return Err(Error::ContinuousBackupsUnavailable(
                "Backups need a database directory; this database lives in memory".into(),
            ));
        }
        let now = shared.options.clock.now();
        {
            let mut recent = shared.backup_requests.lock();
            while recent.front().is_some_and(|t| t.0 + 1000 <= now.0) {
                recent.pop_front();
            }
            if recent.len() >= shared.options.backup_rate_limit as usize {
                return Err(Error::LimitExceeded(format!(
                    "Subscriber limit exceeded: CreateBackup can be called at most {} times per second",
                    shared.options.backup_rate_limit
                )));
            }
            recent.push_back(now);
        }
        let handle = self.table(table_name).map_err(|e| match e {
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
            (
                Arc::clone(&data.schema),
                data.items.len() as u64,
                data.size_bytes,
            )
        };
        let record = Arc::new(BackupRecord::new(
            BackupType::User,
            backup_name,
            now,
            shared.scope.table_arn(&schema.name),
            schema,
            (items, bytes),
        ));
        // Registered under the backups lock together with its commit, so a maintenance round
        // that sees the marker durable also sees the backup (and keeps the state it needs).
        let mut backups = shared.backups.lock();
        let (marker, _) = self.commit(&Mutation::CreateBackup(Arc::clone(&record)), &[])?;
        if shared.options.durability == crate::options::Durability::Buffered {
            // The request is acknowledged durable in every mode: the backup it promises
            // must survive a crash.
            shared.wal.sync()?;
        }
        let state = BackupState::pending(record, marker);
        let details = state.details();
        backups.insert(marker, state);
        drop(backups);
        shared.wake.notify();
        Ok(CreateBackupOutput {
            backup_details: details,
        })
    }

    fn backup_state(&self, arn: &str) -> Result<BackupState> {
        let backups = self.shared.backups.lock();
        backups
            .values()
            .find(|b| b.record.arn == arn)
            .cloned()
            .ok_or_else(|| backup_not_found(arn))
    }

    /// `DescribeBackup`.
    pub fn describe_backup(&self, backup_arn: &str) -> Result<BackupDescriptionOutput> {
        Ok(BackupDescriptionOutput {
            backup_description: self.backup_state(backup_arn)?.description(),
        })
    }

    /// The marker LSN of a backup and, while it builds, how far it has come.
    pub fn backup_progress(&self, backup_arn: &str) -> Result<BackupProgress> {
        use std::sync::atomic::Ordering::Relaxed;
        let state = self.backup_state(backup_arn)?;
        // Bytes are the items' DynamoDB size, the same unit as the total.
        let (items_done, bytes_done) = match &state.built {
            Some(b) => (b.items, b.item_bytes),
            None => (
                state.progress.items.load(Relaxed),
                state.progress.item_bytes.load(Relaxed),
            ),
        };
        Ok(BackupProgress {
            marker_lsn: state.marker,
            items_done,
            bytes_done,
            items_total: state.record.items_at_request,
            bytes_total: state.record.bytes_at_request,
        })
    }

    /// Waits until the backup is AVAILABLE, at most `timeout`, and returns its description
    /// either way (the caller looks at the status).
    pub fn wait_for_backup(
        &self,
        backup_arn: &str,
        timeout: Duration,
    ) -> Result<BackupDescription> {
        let deadline = Instant::now() + timeout;
        loop {
            let state = self.backup_state(backup_arn)?;
            if state.status == BackupStatus::Available || Instant::now() >= deadline {
                return Ok(state.description());
            }
            if self.shared.options.background_worker {
                self.shared.wake.notify();
                std::thread::sleep(Duration::from_millis(2));
            } else {
                self.shared.maintain(false)?;
            }
        }
    }

    /// `ListBackups`: backups in creation order, filtered by table, request time
    /// (`[lower, upper)`) and type, a page at a time.
    pub fn list_backups(&self, input: ListBackupsInput) -> Result<ListBackupsOutput> {
        let limit = input.limit.unwrap_or(100);
        if !(1..=100).contains(&limit) {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100"
            )));
        }
        let table = match &input.table_name {
            Some(t) => Some(self.shared.scope.table_name_of(t)?.to_owned()),
            None => None,
        };
        let filter = input.backup_type.unwrap_or_default();
        let backups = self.shared.backups.lock();
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
            out.last_evaluated_backup_arn =
                out.backup_summaries.last().map(|b| b.backup_arn.clone());
        }
        Ok(out)
    }

    /// `DeleteBackup`: removes an AVAILABLE backup (`BackupInUse` while it is CREATING or
    /// being restored from) and returns its description with status DELETED.
    pub fn delete_backup(&self, backup_arn: &str) -> Result<BackupDescriptionOutput> {
        let shared = &self.shared;
        let mut backups = shared.backups.lock();
        let (&marker, state) = backups
            .iter()
            .find(|(_, b)| b.record.arn == backup_arn)
            .ok_or_else(|| backup_not_found(backup_arn))?;
        if state.status == BackupStatus::Creating || state.readers > 0 {
            return Err(Error::BackupInUse(format!(
                "Backup is in use: {backup_arn} is {}",
                if state.readers > 0 {
                    "being restored from"
                } else {
                    "still being created"
                }
            )));
        }
        self.commit(
            &Mutation::DeleteBackup {
                arn: backup_arn.to_owned(),
            },
            &[],
        )?;
        let mut state = backups
            .remove(&marker)
            .unwrap_or_else(|| unreachable!("found above"));
        drop(backups);
        if let Some(store) = &shared.store {
            // The deletion is durable in the log; a leftover file is removed on the next open.
            if let Err(e) = store.forget_backup(backup_arn) {
                *shared.maintenance_error.lock() = Some(format!(
                    "removing the file of deleted backup {backup_arn}: {e}"
                ));
            }
        }
        state.status = BackupStatus::Deleted;
        Ok(BackupDescriptionOutput {
            backup_description: state.description(),
        })
    }

    /// `RestoreTableFromBackup`: a new table with the backup's items and definition (and
    /// the overrides), every index rebuilt. Every checksum of the backup is verified before
    /// the table appears; a corrupt backup leaves no table. The restore runs before this
    /// returns; the answer is DynamoDB's (status CREATING, `RestoreInProgress`), and
    /// `describe_table` shows the table ACTIVE at once.
    pub fn restore_table_from_backup(
        &self,
        input: RestoreTableFromBackupInput,
    ) -> Result<RestoreTableFromBackupOutput> {
        names::validate_table_name(&input.target_table_name)?;
        let shared = &self.shared;
        let Some(store) = &shared.store else {
            return Err(backup_not_found(&input.backup_arn));
        };
        let _ddl = shared.ddl.lock();
        if shared.tables.read().contains_key(&input.target_table_name) {
            return Err(Error::TableAlreadyExists(format!(
                "Table already exists: {}",
                input.target_table_name
            )));
        }
        let entry = {
            let mut backups = shared.backups.lock();
            let state = backups
                .values_mut()
                .find(|b| b.record.arn == input.backup_arn)
                .ok_or_else(|| backup_not_found(&input.backup_arn))?;
            let Some(entry) = state.built.clone() else {
                return Err(Error::BackupInUse(format!(
                    "Backup is still being created: {}",
                    input.backup_arn
                )));
            };
            state.readers += 1;
            entry
        };
        let result = self.restore(store, &entry, &input);
        if let Some(state) = shared
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
        &self,
        store: &crate::store::Store,
        entry: &BackupEntry,
        input: &RestoreTableFromBackupInput,
    ) -> Result<RestoreTableFromBackupOutput> {
        let shared = &self.shared;
        let fs = &*store.fs;
        let path = store.dir.join(BACKUP_DIR).join(&entry.file);
        let mut reader = TableFileReader::open(fs, &path, BACKUP_MAGIC)?;
        let meta: BackupMeta = codec::decode(reader.meta(), &format!("backup {}", path.display()))?;
        if meta.record.arn != entry.record.arn {
            return Err(Error::Corruption(format!(
                "backup file {} holds backup {}",
                path.display(),
                meta.record.arn
            )));
        }
        let now = shared.options.clock.now();
        let summary = crate::schema::RestoreSummary {
            source_backup_arn: Some(entry.record.arn.clone()),
            source_table_arn: Some(entry.record.table_arn.clone()),
            // "Point in time or source backup time": for a backup, when it was requested.
            restore_date_time: entry.record.created,
            restore_in_progress: false,
        };
        let overrides = RestoreOverrides {
            billing_mode: input.billing_mode_override,
            throughput: input.provisioned_throughput_override,
            global_indexes: input.global_secondary_index_override.as_deref(),
            local_indexes: input.local_secondary_index_override.as_deref(),
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
        let tmp = snapshot_dir.join(format!("{file}.tmp"));
        let snapshot_meta = SnapshotMeta {
            table_id: schema.id.clone(),
            lsn: 0,
            schema: (*schema).clone(),
        };
        let mut writer =
            TableFileWriter::create(fs, &tmp, SNAPSHOT_MAGIC, &codec::encode(&snapshot_meta))?;
        let mut data = TableData::new(Arc::clone(&schema), TableStatus::Active);
        let result = (|| -> Result<()> {
            while let Some(block) = reader.next_block(&schema.key)? {
                for (key, item) in block {
                    writer.push(&key, &item)?;
                    data.apply_write(&key, Some(Arc::new(item)));
                }
            }
            writer.finish()?;
            fs.rename(&tmp, &snapshot_dir.join(&file))
                .and_then(|()| fs.sync_dir(&snapshot_dir))
                .map_err(|source| Error::Io {
                    context: format!("installing restored snapshot {file}"),
                    source,
                })
        })();
        if let Err(e) = result {
            let _ = fs.remove_file(&tmp);
            return Err(e);
        }
        Ok(RestoreTableFromBackupOutput {
            table_description: self.install_restored(store, data, file)?,
        })
    }

    /// Makes a restored table exist: `data` is its contents and `file` its first snapshot,
    /// written and synced. Logs the one record that commits the restore, installs the
    /// snapshot, and returns the description DynamoDB answers a restore with (CREATING,
    /// `RestoreInProgress`). The caller holds the DDL lock.
    pub(crate) fn install_restored(
        &self,
        store: &crate::store::Store,
        data: TableData,
        file: String,
    ) -> Result<TableDescription> {
        let schema = Arc::clone(&data.schema);
        crate::killpoint::reached("restore.before_commit");
        // The commit point: from here the table exists, also after a crash.
        let (lsn, time) = self.commit(
            &Mutation::RestoreTable {
                schema: Arc::clone(&schema),
                snapshot: file.clone(),
            },
            &[],
        )?;
        let id: Arc<str> = schema.id.as_str().into();
        let at = crate::store::Installing {
            lsn,
            log_bytes: 0,
            creation_lsn: None,
        };
        store.install_snapshot(&id, Checkpoint::Built(file, time), &at, || true)?;
        let mut description = self.describe(&data, TableStatus::Creating);
        if let Some(summary) = description.restore_summary.as_mut() {
            summary.restore_in_progress = true;
        }
        let handle = TableHandle::new(data, lsn);
        self.shared
            .tables
            .write()
            .insert(schema.name.clone(), Arc::new(handle));
        Ok(description)
    }
}

/// What a restore may change of the source's definition.
pub(crate) struct RestoreOverrides<'a> {
    pub billing_mode: Option<BillingMode>,
    pub throughput: Option<ProvisionedThroughput>,
    /// The global indexes to keep (all when `None`).
    pub global_indexes: Option<&'a [GlobalSecondaryIndex]>,
    /// The local indexes to keep (all when `None`).
    pub local_indexes: Option<&'a [LocalSecondaryIndex]>,
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
    summary: crate::schema::RestoreSummary,
) -> Result<TableSchema> {
    let billing_mode = overrides.billing_mode.unwrap_or(source.billing_mode);
    if billing_mode == BillingMode::PayPerRequest && overrides.throughput.is_some() {
        return Err(Error::validation(
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        ));
    }
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
        // Re-check the index as a request would be (its throughput against the billing mode).
        global_index(
            &GlobalSecondaryIndex {
                index_name: index.name.clone(),
                key_schema: index.key.key_schema(),
                projection: index.projection.clone(),
                provisioned_throughput: index.throughput,
            },
            &source.attribute_definitions,
            billing_mode,
        )?;
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
        restored_from: Some(summary),
        pitr: None,
    })
}
