//! The commit path: every change to the database is one [`Mutation`], given a log sequence
//! number (LSN) and a commit time by the write-ahead log (`storage/wal.rs`), then applied
//! (`state/apply.rs`).
//!
//! The LSN order is the database's one total order. Two writes to the same item are ordered
//! by the item's lock, which the writer holds from before its LSN is assigned until its
//! change is applied, so applying changes in lock order and replaying them in LSN order give
//! the same state (invariant I3). Commit times are assigned with the LSN under one lock, so
//! they never go backwards along the LSN order, even when the clock does.

use std::sync::Arc;

use crate::format::backup::BackupRecord;
use crate::format::item::StoredItem;
use crate::model::key::EncodedKey;
use crate::model::schema::TableSchema;

/// One item put (`Some`) or deleted (`None`) in a table.
#[derive(Clone, Debug, bincode::Encode, bincode::Decode)]
pub(crate) struct ItemWrite {
    pub table_id: Arc<str>,
    pub key: EncodedKey,
    pub item: Option<StoredItem>,
}

/// One atomic change to the database; the unit of logging and of replay.
#[derive(Clone, Debug, bincode::Encode, bincode::Decode)]
pub(crate) enum Mutation {
    /// A new, empty table.
    CreateTable(Arc<TableSchema>),
    /// A table's definition changed (indexes added or dropped, throughput, stream).
    UpdateTable(Arc<TableSchema>),
    /// A table and its items are gone. A table with point-in-time recovery leaves a SYSTEM
    /// backup of its last state, whose marker is this record's LSN.
    DeleteTable {
        table_id: Arc<str>,
        system_backup: Option<Arc<BackupRecord>>,
    },
    /// Item writes, all applied or none: one put or delete, a batch, or a transaction.
    Write(Vec<ItemWrite>),
    /// A backup was requested: its marker is this record's LSN (the backup holds exactly the
    /// writes logged before it).
    CreateBackup(Arc<BackupRecord>),
    /// A backup was deleted.
    DeleteBackup { arn: String },
    /// A table was restored: it starts as the contents of a snapshot file written (and
    /// synced) before this record.
    RestoreTable {
        schema: Arc<TableSchema>,
        snapshot: String,
    },
}

impl Mutation {
    /// Whether a logged mutation's bytes are a [`Mutation::Write`], without decoding them:
    /// the codec writes a variant's index first, as one byte below 251. Recovery skips the
    /// writes no table needs without paying for their decoding.
    pub(crate) fn is_write(payload: &[u8]) -> bool {
        payload.first() == Some(&WRITE_VARIANT)
    }
}

/// The index of [`Mutation::Write`] among the variants.
const WRITE_VARIANT: u8 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_write_tells_writes_from_every_other_mutation() {
        let write = Mutation::Write(Vec::new());
        assert!(Mutation::is_write(&crate::format::codec::encode(&write)));
        let others = [
            Mutation::DeleteTable {
                table_id: "t".into(),
                system_backup: None,
            },
            Mutation::DeleteBackup { arn: "a".into() },
        ];
        for other in others {
            assert!(
                !Mutation::is_write(&crate::format::codec::encode(&other)),
                "{other:?}"
            );
        }
    }
}
