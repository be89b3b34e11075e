//! What the files know of a backup: the request as the log records it ([`BackupRecord`]),
//! the header of a backup file ([`BackupMeta`]) and a built backup as the catalog keeps it
//! ([`BackupEntry`]).
//!
//! A backup file is the table file container (`table_file.rs`) with the magic
//! [`BACKUP_MAGIC`] and a [`BackupMeta`] header, so it is self-contained: schema, settings,
//! items and checksums, restorable after being copied elsewhere.

use std::sync::Arc;

use crate::api::backups::BackupType;
use crate::model::clock::Timestamp;
use crate::model::schema::TableSchema;
use crate::model::Lsn;

/// The magic of a backup file.
pub(crate) const BACKUP_MAGIC: [u8; 8] = *b"TIDEBKUP";

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

/// The backup file's name for `arn`: its unique suffix.
pub(crate) fn file_name(arn: &str) -> String {
    let suffix = arn.rsplit('/').next().unwrap_or(arn);
    format!("{suffix}.bkp")
}
