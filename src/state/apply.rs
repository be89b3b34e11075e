//! The one interpreter of the log: what each logged change does, told to whoever keeps state.
//!
//! A logged change reaches state in three ways, and all three go through [`apply`]:
//! - a live write applies the change it has just logged to the live tables (`engine/`);
//! - recovery applies the log to the tables it loaded from their snapshots
//!   (`storage/recovery.rs`);
//! - replay applies a range of the log to one table's changes, for checkpoints, backups and
//!   point-in-time restores (`storage/replay.rs`).
//!
//! [`apply`] matches every [`Mutation`] variant and has no wildcard arm, and [`Apply`] has
//! one method per variant, with no default body but for the Time to Live deletes (item
//! deletes to every consumer but replay), so a new kind of record (a stream record)
//! does not compile until every consumer says what it does with it — it cannot
//! silently drop out of snapshots, backups or recovery. Item changes themselves have one
//! implementation, `TableData::apply_write` (`table.rs`), which live writes and recovery
//! share; replay keeps only the last change of each key and merges it into a table file.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::format::backup::BackupRecord;
use crate::format::mutation::{ItemWrite, Mutation};
use crate::model::clock::Timestamp;
use crate::model::key::EncodedKey;
use crate::model::schema::{StreamEpoch, TableSchema};
use crate::model::settings::TableSettings;
use crate::model::Lsn;

/// Where a change stands in the log: its LSN and commit time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct At {
    pub lsn: Lsn,
    pub time: Timestamp,
}

/// What keeps state tells [`apply`] what each kind of logged change does to it. One method
/// per [`Mutation`] variant, none with a default but `expire_items` (deletes made by Time
/// to Live are deletes to a table's state): a consumer that does nothing with a kind says
/// so in its own body.
pub(crate) trait Apply {
    /// A new, empty table, with its first settings (none, unless it was created with tags).
    fn create_table(
        &mut self,
        at: At,
        schema: Arc<TableSchema>,
        settings: Arc<TableSettings>,
    ) -> Result<()>;
    /// A table's definition changed (indexes, throughput, stream, point-in-time recovery).
    fn update_table(&mut self, at: At, schema: Arc<TableSchema>) -> Result<()>;
    /// A table and its items are gone; a table with point-in-time recovery leaves the SYSTEM
    /// backup `system_backup`, whose marker is `at.lsn`.
    fn delete_table(
        &mut self,
        at: At,
        table_id: Arc<str>,
        system_backup: Option<Arc<BackupRecord>>,
    ) -> Result<()>;
    /// Item puts and deletes, all of them or none: a write, a batch or a transaction.
    fn write_items(&mut self, at: At, writes: Vec<ItemWrite>) -> Result<()>;
    /// A backup was requested; its marker is `at.lsn`.
    fn create_backup(&mut self, at: At, record: Arc<BackupRecord>) -> Result<()>;
    /// A backup was deleted (or expired).
    fn delete_backup(&mut self, at: At, arn: String) -> Result<()>;
    /// A table was restored: it starts as the contents of the table file `snapshot`, written
    /// and synced before this record.
    fn restore_table(&mut self, at: At, schema: Arc<TableSchema>, snapshot: String) -> Result<()>;
    /// A table's tags, Time to Live setting or resource policies changed: `settings` are all
    /// of them from here on.
    fn update_table_settings(
        &mut self,
        at: At,
        table_id: Arc<str>,
        settings: Arc<TableSettings>,
    ) -> Result<()>;
    /// A deleted table's streams (`schema` as it was, each stream ended by the deletion
    /// at `at`): they stay readable for their retention, though the table is gone.
    fn end_streams(&mut self, at: At, schema: Arc<TableSchema>) -> Result<()>;
    /// Items of table `table_id` deleted by Time to Live, all of them or none. To a table's
    /// state these are deletes like any other (hence the default: one logged write of
    /// deletes); a stream reports them as made by the service.
    fn expire_items(&mut self, at: At, table_id: Arc<str>, keys: Vec<EncodedKey>) -> Result<()> {
        let writes = keys.into_iter().map(|key| ItemWrite {
            table_id: Arc::clone(&table_id),
            key,
            item: None,
        });
        self.write_items(at, writes.collect())
    }
}

/// `schema` as logged at `at`, with the streams it enabled or disabled given that record's
/// LSN and time (a schema cannot hold the LSN of the record that logs it; see
/// `StreamEpoch::enabled`). Every consumer sees the same, so a stream starts at the same
/// record live, after recovery and in a replay.
fn with_streams_resolved(mut schema: Arc<TableSchema>, at: At) -> Arc<TableSchema> {
    let unresolved = |s: &StreamEpoch| s.enabled == 0 || s.disabled.is_some_and(|(l, _)| l == 0);
    if schema.streams.iter().any(unresolved) {
        Arc::make_mut(&mut schema).resolve_streams(at.lsn, at.time);
    }
    schema
}

/// Applies one logged change to `state`.
pub(crate) fn apply(at: At, mutation: Mutation, state: &mut impl Apply) -> Result<()> {
    match mutation {
        Mutation::CreateTable(schema) => {
            state.create_table(at, with_streams_resolved(schema, at), Arc::default())
        }
        Mutation::CreateTableWithSettings { schema, settings } => {
            state.create_table(at, with_streams_resolved(schema, at), settings)
        }
        Mutation::CreateTableWithSettingsV1 { schema, settings } => {
            let settings = Arc::new(Arc::unwrap_or_clone(settings).into());
            state.create_table(at, with_streams_resolved(schema, at), settings)
        }
        Mutation::UpdateTable(schema) => state.update_table(at, with_streams_resolved(schema, at)),
        Mutation::DeleteTable {
            table_id,
            system_backup,
        } => state.delete_table(at, table_id, system_backup),
        // The token is recovery's business (`storage/recovery.rs` reads it from the bytes);
        // to state these are writes like any other.
        Mutation::Write(writes) | Mutation::TokenWrite { writes, .. } => {
            state.write_items(at, writes)
        }
        Mutation::DeleteStreamedTable {
            schema,
            system_backup,
        } => {
            state.delete_table(at, schema.id.as_str().into(), system_backup)?;
            let mut ended = Arc::unwrap_or_clone(schema);
            for stream in ended.streams.iter_mut().filter(|s| s.disabled.is_none()) {
                stream.disabled = Some((at.lsn, at.time));
            }
            state.end_streams(at, Arc::new(ended))
        }
        Mutation::CreateBackup(record) => state.create_backup(at, record),
        Mutation::DeleteBackup { arn } => state.delete_backup(at, arn),
        Mutation::RestoreTable { schema, snapshot } => state.restore_table(at, schema, snapshot),
        Mutation::UpdateTableSettings { table_id, settings } => {
            state.update_table_settings(at, table_id, settings)
        }
        Mutation::UpdateTableSettingsV1 { table_id, settings } => {
            let settings = Arc::new(Arc::unwrap_or_clone(settings).into());
            state.update_table_settings(at, table_id, settings)
        }
        Mutation::ExpireItems { table_id, keys } => state.expire_items(at, table_id, keys),
        // What the items were before is the stream's business (`streams/`): to state, this
        // is its write. Only a write is ever logged so.
        Mutation::WithPrior { mutation, .. } => match *mutation.0 {
            write @ (Mutation::Write(_)
            | Mutation::ExpireItems { .. }
            | Mutation::TokenWrite { .. }) => apply(at, write, state),
            _ => Err(Error::Corruption(format!(
                "log record {}: a record of prior items wraps a change that is not a write",
                at.lsn
            ))),
        },
    }
}
