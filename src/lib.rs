//! tidestore: DynamoDB's tables, items, backups and point-in-time recovery inside your
//! process.
//!
//! ```
//! use tidestore::{AttributeValue, CreateTableInput, Database, GetItemInput, Item, PutItemInput, ScalarAttributeType::S};
//!
//! let db = Database::in_memory();
//! db.create_table(
//!     CreateTableInput::new("MusicCollection")
//!         .hash_key("Artist", S)
//!         .range_key("SongTitle", S)
//!         .pay_per_request(),
//! )?;
//! let song: Item = serde_json::from_str(
//!     r#"{"Artist": {"S": "No One You Know"}, "SongTitle": {"S": "Call Me Today"}}"#,
//! ).unwrap();
//! db.put_item(PutItemInput::new("MusicCollection", song.clone()))?;
//! let got = db.get_item(GetItemInput::new("MusicCollection", song.clone()))?;
//! assert_eq!(got.item, Some(song));
//! # Ok::<(), tidestore::Error>(())
//! ```
//!
//! # Architecture
//!
//! A write is validated, takes its items' locks, is given its place in one total order (a log
//! sequence number) by the commit log, and is applied to the live table — an ordered map from
//! encoded key to item with its secondary indexes beside it (`table.rs`). Every change is one
//! `Mutation` value (`commit.rs`), so the write-ahead log can record it and replay can apply
//! it through the same function as a live write. Reads take only the table's data lock.
//!
//! | module | concept |
//! |---|---|
//! | `db` | [`Database`]: the handle, the write path and its locking order |
//! | `value`, `number` | [`AttributeValue`], [`Item`], [`Number`]: the data model and DynamoDB JSON |
//! | `expr` | typed condition and update expressions, projections |
//! | `schema`, `tables`, `names` | table definitions, their validation, descriptions, ARNs |
//! | `key` | order-preserving key encoding |
//! | `table` | the live table and its indexes; the one item mutation |
//! | `query` | `Query` and `Scan` pages |
//! | `commit` | mutations, LSNs and commit times |
//! | `wal`, `snapshot`, `catalog`, `codec` | the on-disk formats |
//! | `replay`, `store`, `checkpoint` | recovery, snapshot and backup builds, retention of states and log |
//! | `backup` | on-demand backups and restore |
//! | `pitr` | point-in-time recovery: windows, restores to a moment or an LSN |
//! | `killpoint` | named steps where the process-crash tests make the process die |
//! | `fs`, `simfs` | the file-system seam and its simulation |
//! | `api` | the item operations' inputs and outputs |
//! | `clock`, `options` | time and settings |
//! | `error` | [`Error`], named after DynamoDB's exceptions |

mod api;
mod backup;
mod catalog;
mod checkpoint;
mod clock;
mod codec;
mod commit;
mod db;
mod error;
pub mod expr;
pub mod fs;
#[doc(hidden)]
pub mod fuzz_support;
mod key;
#[doc(hidden)]
pub mod killpoint;
mod names;
mod number;
mod options;
mod pitr;
mod query;
mod replay;
mod schema;
pub mod simfs;
mod snapshot;
mod store;
mod table;
mod tables;
mod value;
mod wal;

pub use api::*;
pub use backup::{
    BackupDescription, BackupDescriptionOutput, BackupDetails, BackupProgress, BackupStatus,
    BackupSummary, BackupType, BackupTypeFilter, CreateBackupOutput, ListBackupsInput,
    ListBackupsOutput, RestoreTableFromBackupInput, RestoreTableFromBackupOutput,
    SourceTableDetails, SourceTableFeatureDetails, SseSpecification,
};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use commit::Lsn;
pub use db::{
    Database, MAX_BATCH_GET, MAX_BATCH_WRITE, MAX_BATCH_WRITE_BYTES, MAX_TRANSACTION_BYTES,
    MAX_TRANSACT_ITEMS,
};
pub use error::{Error, Result};
pub use expr::{
    Comparator, Condition, Operand, Path, PathElement, SetValue, Update, UpdateAction, ValueExpr,
};
pub use names::{validate_backup_name, validate_index_name, validate_table_name};
pub use number::{Number, NumberError};
pub use options::{BackupBuildHook, Durability, Options};
pub use pitr::{
    ContinuousBackupsDescription, ContinuousBackupsStatus, DescribeContinuousBackupsOutput,
    PointInTimeRecoveryDescription, PointInTimeRecoverySpecification, PointInTimeRecoveryStatus,
    RecoveryWindowUsage, RestoreTableToPointInTimeInput, RestoreTableToPointInTimeOutput,
    UpdateContinuousBackupsInput, UpdateContinuousBackupsOutput, MAX_RECOVERY_PERIOD_DAYS,
};
pub use query::{MAX_PAGE_BYTES, MAX_TOTAL_SEGMENTS};
pub use schema::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    LocalSecondaryIndex, Projection, ProjectionType, ProvisionedThroughput, RestoreSummary,
    ScalarAttributeType, StreamSpecification, StreamViewType, MAX_GLOBAL_INDEXES,
    MAX_LOCAL_INDEXES,
};
pub use tables::*;
pub use value::{
    item_size, validate_item, AttributeValue, Item, ValueType, MAX_ITEM_SIZE, MAX_NESTING_DEPTH,
    MAX_PARTITION_KEY_SIZE, MAX_SORT_KEY_SIZE,
};
