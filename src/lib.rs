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
//! encoded key to item with its secondary indexes beside it. Every change is one logged
//! `Mutation`, and one function interprets it (`state/apply.rs`) for live writes, recovery
//! and every replay (checkpoints, backups, point-in-time restores), so the state a write
//! produces and the state replay rebuilds cannot differ. Reads take only the table's data
//! lock.
//!
//! The source tree is layered: each folder imports only the ones above it in this table
//! (`tests/layers.rs` checks it; the error type and the data model name each other).
//!
//! | layer | owns |
//! |---|---|
//! | `error` | [`Error`], named after DynamoDB's exceptions, and [`CancellationReason`] |
//! | `model/` | [`AttributeValue`], [`Item`], [`Number`], key encoding, names and ARNs, table schemas, time and [`Lsn`]: the data model, no I/O |
//! | `expr/` | typed condition and update expressions, projections |
//! | `api/` | request and response shapes by area: items, tables, tags and Time to Live, backups, point in time, streams |
//! | `fs/` | the file-system seam, one durable file installation; its simulation, hooks and kill points (feature `testing`) |
//! | `options` | [`Options`]: durability, triggers, limits, clock |
//! | `format/` | every byte that reaches disk: the codec, stored items, log records and segments, table files, backups' records, the catalog |
//! | `state/` | the live table (keys inline when short) and its indexes; the one apply of a logged change |
//! | `storage/` | the write-ahead log and group commit, the directory's files, recovery and the log segments it requires, replay, following the log as it is written, retention |
//! | `engine/` | the engine: tables and locks, the write and read paths, table DDL, the backup registry, the background worker |
//! | `restore`, `import` (+ `import/csv.rs`), `backup`, `pitr`, `export` (+ `export/filter.rs`), `streams/` | services over the engine: restores, imports (bulk loads into a new table, from items, DynamoDB JSON or CSV), on-demand backups, point-in-time recovery, exports of a moment or of a window's changes in DynamoDB's S3 export layout (all items, or those a `FilterSpecification` selects), DynamoDB Streams read from the log |
//! | `db` | [`Database`]: the facade applications hold |
//! | `server` | `tidestore serve`: DynamoDB's wire protocol over HTTP (feature `server`) |

mod api;
mod backup;
mod db;
mod engine;
mod error;
mod export;
pub mod expr;
mod format;
pub mod fs;
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod fuzz_support;
mod import;
mod model;
mod options;
mod pitr;
mod restore;
#[cfg(feature = "server")]
pub mod server;
mod state;
mod storage;
mod streams;

pub use api::backups::{
    BackupDescription, BackupDescriptionOutput, BackupDetails, BackupProgress, BackupStatus,
    BackupSummary, BackupType, BackupTypeFilter, CreateBackupOutput, ListBackupsInput,
    ListBackupsOutput, RestoreTableFromBackupInput, RestoreTableFromBackupOutput,
    SourceTableDetails, SourceTableFeatureDetails,
};
pub use api::capacity::{Capacity, ConsumedCapacity, ReturnConsumedCapacity};
pub use api::exports::{
    ExportDescription, ExportFormat, ExportStatus, ExportTableToPointInTimeInput,
    ExportTableToPointInTimeOutput, ExportType, ExportViewType, FilterSpecification,
    IncrementalExportSpecification, MAX_EXPORT_FILE_ITEMS, MAX_INCREMENTAL_EXPORT_PERIOD_MS,
    MIN_INCREMENTAL_EXPORT_PERIOD_MS,
};
pub use api::expressions::Expressions;
pub use api::imports::{
    CsvOptions, ImportItemError, ImportStatus, ImportTableDescription, ImportTableInput,
    ImportTableOutput, CSV_DELIMITERS, MAX_IMPORT_ITEM_ERRORS, MAX_IMPORT_LINE_BYTES,
    MAX_ION_DEPTH,
};
pub use api::items::*;
pub use api::legacy::{
    AttributeAction, AttributeValueUpdate, ComparisonOperator, ConditionalOperator,
    ExpectedAttributeValue, LegacyCondition, LegacyParameters,
};
pub use api::pitr::{
    ContinuousBackupsDescription, ContinuousBackupsStatus, DescribeContinuousBackupsOutput,
    PointInTimeRecoveryDescription, PointInTimeRecoverySpecification, PointInTimeRecoveryStatus,
    RecoveryWindowUsage, RestoreTableToPointInTimeInput, RestoreTableToPointInTimeOutput,
    UpdateContinuousBackupsInput, UpdateContinuousBackupsOutput, MAX_RECOVERY_PERIOD_DAYS,
};
pub use api::policies::{
    DeleteResourcePolicyInput, DeleteResourcePolicyOutput, GetResourcePolicyInput,
    GetResourcePolicyOutput, PutResourcePolicyInput, PutResourcePolicyOutput, MAX_POLICY_BYTES,
    NO_POLICY,
};
pub use api::streams::{
    DescribeStreamInput, DescribeStreamOutput, GetRecordsInput, GetRecordsOutput,
    GetShardIteratorInput, GetShardIteratorOutput, Identity, ListStreamsInput, ListStreamsOutput,
    OperationType, Record, SequenceNumberRange, Shard, ShardIteratorType, StreamDescription,
    StreamRecord, StreamStatus, StreamSummary,
};
pub use api::tables::*;
pub use api::tags::{
    ListTagsOfResourceInput, ListTagsOfResourceOutput, Tag, TagResourceInput, UntagResourceInput,
    MAX_TAGS,
};
pub use api::ttl::{
    DescribeTimeToLiveOutput, TimeToLiveDescription, TimeToLiveSpecification, TimeToLiveStatus,
    UpdateTimeToLiveInput, UpdateTimeToLiveOutput,
};
pub use db::{Database, Pages, StreamSubscription};
pub use engine::query::{MAX_PAGE_BYTES, MAX_TOTAL_SEGMENTS};
pub use error::{CancellationReason, Error, Result};
pub use expr::{
    Comparator, Condition, Operand, Path, PathElement, SetValue, Update, UpdateAction, ValueExpr,
};
pub use model::clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use model::names::{validate_backup_name, validate_index_name, validate_table_name};
pub use model::number::{Number, NumberError};
pub use model::schema::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    LocalSecondaryIndex, OnDemandThroughput, Projection, ProjectionType, ProvisionedThroughput,
    RestoreSummary, ScalarAttributeType, StreamSpecification, StreamViewType, TableClass,
    WarmThroughput, MAX_GLOBAL_INDEXES, MAX_INDEX_KEY_ATTRIBUTES, MAX_LOCAL_INDEXES,
};
pub use model::value::{
    item_size, validate_item, AttributeValue, Item, ItemExt, ValueType, MAX_ATTRIBUTE_NAME_BYTES,
    MAX_ITEM_SIZE, MAX_NESTING_DEPTH, MAX_PARTITION_KEY_SIZE, MAX_SORT_KEY_SIZE,
};
pub use model::Lsn;
pub use options::{BackupBuildHook, Durability, Options, TtlSweepHook};
