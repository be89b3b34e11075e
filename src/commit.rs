//! The commit path: every change to the database is one [`Mutation`], given a log sequence
//! number (LSN) and a commit time by [`CommitLog::commit`], then applied.
//!
//! The LSN order is the database's one total order. Two writes to the same item are ordered
//! by the item's lock, which the writer holds from before its LSN is assigned until its
//! change is applied, so applying changes in lock order and replaying them in LSN order give
//! the same state (invariant I3). Commit times are assigned with the LSN under one lock, so
//! they never go backwards along the LSN order, even when the clock does.
//!
//! Today the log lives in memory only (the durability issue gives it segment files, group
//! commit and recovery); the interface is already the one the write-ahead log keeps.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::clock::{Clock, Timestamp};
use crate::error::Result;
use crate::key::EncodedKey;
use crate::schema::TableSchema;
use crate::value::Item;

/// A log sequence number: the position of a mutation in the database's total order.
pub type Lsn = u64;

/// One item put (`Some`) or deleted (`None`) in a table.
#[derive(Clone, Debug)]
pub(crate) struct ItemWrite {
    pub table_id: Arc<str>,
    pub key: EncodedKey,
    pub item: Option<Arc<Item>>,
}

/// One atomic change to the database; the unit of logging and of replay.
#[derive(Clone, Debug)]
pub(crate) enum Mutation {
    /// A new, empty table.
    CreateTable(Arc<TableSchema>),
    /// A table's definition changed (indexes added or dropped, throughput, stream).
    UpdateTable(Arc<TableSchema>),
    /// A table and its items are gone.
    DeleteTable { table_id: Arc<str> },
    /// Item writes, all applied or none: one put or delete, a batch, or a transaction.
    Write(Vec<ItemWrite>),
}

/// Where a mutation landed in the total order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Committed {
    pub lsn: Lsn,
    pub time: Timestamp,
}

/// Assigns LSNs and commit times.
#[derive(Debug)]
pub(crate) struct CommitLog {
    clock: Arc<dyn Clock>,
    last: Mutex<Committed>,
}

impl CommitLog {
    /// A log whose next LSN is `last.lsn + 1`.
    pub fn new(clock: Arc<dyn Clock>, last: Committed) -> CommitLog {
        CommitLog {
            clock,
            last: Mutex::new(last),
        }
    }

    /// Gives `mutation` the next LSN and a commit time no earlier than any before it.
    pub fn commit(&self, _mutation: &Mutation) -> Result<Committed> {
        let mut last = self.last.lock();
        let time = self.clock.now().max(last.time);
        *last = Committed {
            lsn: last.lsn + 1,
            time,
        };
        Ok(*last)
    }

    /// The last mutation committed.
    pub fn last(&self) -> Committed {
        *self.last.lock()
    }
}
