//! The engine: the live tables with their locks, the commit log, the directory's files and
//! the background worker, and the operations on them. `Database` (`db.rs`) is its facade;
//! the backup, restore and point-in-time services (`backup.rs`, `restore.rs`, `pitr.rs`)
//! work over it.
//!
//! | module | concept |
//! |---|---|
//! | this one | [`Engine`], [`TableHandle`], the item locks, the commit of a logged change |
//! | `tables` | table DDL: create, describe, list, update, delete |
//! | `settings` | a table's tags and Time to Live setting |
//! | `write` | the write path: conditions, updates, batches, transactions |
//! | `read` | gets, queries, scans, batch and transactional gets |
//! | `idempotency` | `ClientRequestToken`: transactions answered once per token |
//! | `collections` | the item collection sizes a write reports (`ReturnItemCollectionMetrics`) |
//! | `capacity` | the capacity units a request consumes, by DynamoDB's rules |
//! | `failed_write` | a single write's error with the capacity its failed condition consumed |
//! | `query` | `Query` and `Scan` pages |
//! | `backups` | the backups the engine knows, built or pending, and their failed builds |
//! | `maintenance` | the background worker: snapshots, backup builds, retention, syncs |
//! | `expiry` | the Time to Live sweeper: deletes expired items, at its own pace |
//!
//! Several locks are always taken in one order — gates by table id, stripes by number, data
//! locks by table id — so writers cannot deadlock. Readers take a table's data lock shared,
//! never an item lock, so they never wait for a writer's commit.

pub(crate) mod backups;
pub(crate) mod capacity;
mod collections;
pub(crate) mod expiry;
pub(crate) mod failed_write;
mod idempotency;
pub(crate) mod live;
pub(crate) mod maintenance;
mod policies;
pub(crate) mod query;
mod read;
mod settings;
mod tables;
mod write;

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::path::Path as FsPath;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_utils::sync::ShardedLock;
use parking_lot::{Mutex, MutexGuard, RwLock};

use crate::api::tables::{TableDescription, TableStatus};
use crate::engine::backups::{BackupState, Backups};
use crate::engine::maintenance::Signal;
use crate::error::{Error, Result};
use crate::format::catalog::WAL_DIR;
use crate::format::codec;
use crate::format::mutation::Mutation;
use crate::fs::throttle::Throttle;
use crate::model::clock::Timestamp;
use crate::model::names::ArnScope;
use crate::model::schema::{KeyShape, TableSchema};
use crate::model::Lsn;
use crate::options::{Durability, Options};
use crate::state::apply::At;
use crate::state::table::TableData;
use crate::storage::store::Store;
use crate::storage::wal::{Wal, WalConfig};

const LOCK_STRIPES: usize = 4096;

/// One table: its gate, its data and its immutable identity.
#[derive(Debug)]
pub(crate) struct TableHandle {
    pub id: Arc<str>,
    /// The table's primary key, which never changes (DynamoDB has no way to): writers
    /// encode their keys from it without a lock.
    pub(crate) key: KeyShape,
    /// Shared by item writers, exclusive for schema changes and deletion.
    pub(crate) gate: RwLock<()>,
    /// What a write is decided by when it does not depend on the item it replaces: the
    /// schema, and whether the table is gone. Changed with `data` (and only under the gate
    /// held exclusively), so a writer holding the gate reads the same in both.
    ///
    /// NB: why a lock of its own: a blind put that read-locks `data` to check the table
    /// contends with every other writer's apply, which write-locks it, and parking_lot
    /// parks such a reader. Measured with 2 threads putting into one in-memory table:
    /// 241k–282k puts/s against 331k–378k with one thread, about one context switch per 8
    /// puts; with no read of `data` on that path, 480k–489k. A `ShardedLock` because every
    /// write reads it and only schema changes write it.
    pub(crate) head: ShardedLock<Head>,
    /// False once every leaf of the table is decoded (`Items::load`): from then on a writer
    /// need not load its item's leaf before logging, since no later apply can fail to
    /// decode it. (Leaves are never undecoded again: only an open makes them.)
    may_have_raw_leaves: AtomicBool,
    pub data: RwLock<TableData>,
    /// The table's durable history starts after this LSN: its snapshot covers everything up
    /// to it (or it was created right after it). The log before the smallest base of all
    /// tables is no longer needed.
    pub(crate) base_lsn: AtomicU64,
    /// Log bytes written for the table since its base: the snapshot trigger. Counted before
    /// each commit, so a checkpoint that reads it after syncing the log sees every write
    /// its LSN covers.
    pub(crate) log_bytes: AtomicU64,
    /// Set when recovery replayed changes of the table from the log after its base, until a
    /// snapshot covers them: a clean close must then write one even if nothing was written
    /// since the open.
    pub(crate) replayed: std::sync::atomic::AtomicBool,
}

/// A table as a writer decides by it ([`TableHandle::head`]).
#[derive(Debug)]
pub(crate) struct Head {
    pub schema: Arc<TableSchema>,
    pub deleted: bool,
    pub status: TableStatus,
}

impl Head {
    /// Whether the table takes writes: it exists and is ACTIVE.
    pub(crate) fn writable(&self) -> Result<()> {
        if self.deleted {
            return Err(Error::table_not_found(&self.schema.name));
        }
        if self.status != TableStatus::Active {
            return Err(Error::ResourceNotFound(format!(
                "Requested resource not found: Table: {} is not ACTIVE",
                self.schema.name
            )));
        }
        Ok(())
    }
}

impl TableHandle {
    /// What writers decide by. (A panic while it was held changes nothing in it that the
    /// engine relies on: it is written whole, after `data`.)
    pub(crate) fn head(&self) -> crossbeam_utils::sync::ShardedLockReadGuard<'_, Head> {
        self.head
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// [`TableHandle::head`], to change it along with `data`, under the gate held exclusively.
    pub(crate) fn head_mut(&self) -> crossbeam_utils::sync::ShardedLockWriteGuard<'_, Head> {
        self.head
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes sure the leaf of `key` is decoded, so that applying a write of it cannot fail:
    /// a writer calls this before it logs. Takes no lock once every leaf is decoded.
    pub(crate) fn load(&self, key: &[u8]) -> Result<()> {
        if self.may_have_raw_leaves.load(Ordering::Acquire) {
            let data = self.data.read();
            data.items.load(key)?;
            if data.items.all_decoded() {
                self.may_have_raw_leaves.store(false, Ordering::Release);
            }
        }
        Ok(())
    }

    /// The handle with its snapshot trigger counter set (after recovery).
    fn with_log_bytes(self, bytes: u64) -> TableHandle {
        self.log_bytes.store(bytes, Ordering::SeqCst);
        self
    }

    pub(crate) fn new(data: TableData, base_lsn: Lsn) -> TableHandle {
        TableHandle {
            id: data.schema.id.as_str().into(),
            key: data.schema.key.clone(),
            head: ShardedLock::new(Head {
                schema: Arc::clone(&data.schema),
                deleted: data.deleted,
                status: data.status,
            }),
            may_have_raw_leaves: AtomicBool::new(true),
            gate: RwLock::new(()),
            data: RwLock::new(data),
            base_lsn: AtomicU64::new(base_lsn),
            log_bytes: AtomicU64::new(0),
            replayed: Default::default(),
        }
    }
}

/// Striped item locks.
#[derive(Debug)]
struct ItemLocks {
    stripes: Box<[Mutex<()>]>,
}

impl ItemLocks {
    fn new() -> ItemLocks {
        ItemLocks {
            stripes: (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    fn stripe(table_id: &str, key: &[u8]) -> usize {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        table_id.hash(&mut hasher);
        key.hash(&mut hasher);
        (hasher.finish() % LOCK_STRIPES as u64) as usize
    }

    /// Locks the stripes of all `keys`, in stripe order.
    fn lock<'a>(&self, keys: impl Iterator<Item = (&'a str, &'a [u8])>) -> Vec<MutexGuard<'_, ()>> {
        let stripes: BTreeSet<usize> = keys.map(|(t, k)| ItemLocks::stripe(t, k)).collect();
        stripes
            .into_iter()
            .map(|s| self.stripes[s].lock())
            .collect()
    }
}

#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) options: Options,
    pub(crate) scope: ArnScope,
    /// Serializes table creation, update and deletion.
    pub(crate) ddl: Mutex<()>,
    /// The names of the tables restores are making: taken, though not in `tables` yet.
    pub(crate) restoring: Mutex<BTreeSet<String>>,
    pub(crate) tables: RwLock<BTreeMap<String, Arc<TableHandle>>>,
    pub(crate) wal: Wal,
    /// The database directory; `None` in memory.
    pub(crate) store: Option<Store>,
    locks: ItemLocks,
    /// Wakes the background worker early (a table crossed its snapshot trigger), and stops it.
    pub(crate) wake: Arc<Signal>,
    /// The last error the background worker met, for `maintenance_error`.
    pub(crate) maintenance_error: Mutex<Option<String>>,
    /// What the Time to Live sweeper's last pass failed on, or that its thread did not
    /// start: a slot of its own, because a maintenance round clears `maintenance_error`
    /// when it succeeds, and each pass sets or clears this one.
    pub(crate) ttl_error: Mutex<Option<String>>,
    /// Every backup not deleted, built or pending.
    pub(crate) backups: Backups,
    /// Held for a round of background work (see `maintenance.rs`).
    pub(crate) maintaining: Mutex<()>,
    /// The readable LSN the worker last read the log ahead to, between rounds
    /// (`maintenance.rs`): when it has not moved, the worker sleeps until the round.
    pub(crate) read_ahead_to: AtomicU64,
    /// Set when a deleted table could not be retired in the catalog: from then on no
    /// retained state and no log is released until the database is reopened.
    pub(crate) hold_retention: std::sync::atomic::AtomicBool,
    /// Set when a panic unwound through the apply of a logged change: the live tables may no
    /// longer be the log's state, so a clean close must not write them as snapshots (the
    /// next open replays the log instead).
    pub(crate) torn: std::sync::atomic::AtomicBool,
    /// When recent `create_backup` calls were made, for the rate limit.
    pub(crate) backup_requests: Mutex<std::collections::VecDeque<Timestamp>>,
    /// The `ClientRequestToken`s of recent transactions (rebuilt from the log on open).
    pub(crate) tokens: idempotency::Tokens,
    /// Deleted tables whose streams are still readable: their schemas as they were, each
    /// stream ended by the deletion (rebuilt from the log on open; see `streams/`).
    pub(crate) deleted_streams: Mutex<Vec<Arc<TableSchema>>>,
    /// The highest resource-policy revision given out, or attached to a table at open: a new
    /// one is above it, so no policy takes the revision of one deleted before it
    /// (`engine/policies.rs`).
    pub(crate) policy_revisions: std::sync::atomic::AtomicU64,
}

impl Engine {
    /// Logs `mutation` (durably, in the default mode) and returns its place in the log. The
    /// caller then applies the same value to the live state (`live.rs`); `touched` are the
    /// tables whose snapshot trigger counts its bytes.
    pub(crate) fn commit(&self, mutation: &Mutation, touched: &[&Arc<TableHandle>]) -> Result<At> {
        let (lsn, time) = if self.store.is_none() {
            // In memory the log keeps only what streams read (`Wal::followed`).
            let payload = match mutation {
                Mutation::WithPrior { .. } => codec::encode(mutation),
                _ => Vec::new(),
            };
            self.wal.append(payload, mutation.paces_builds())?
        } else {
            self.log(mutation, touched)?
        };
        Ok(At { lsn, time })
    }

    /// Makes the log durable through `at` before the caller changes what lies outside it
    /// for that record (the catalog, a file removed), in `Buffered` mode, where the record
    /// may not be durable yet. Otherwise a crash could keep the outside change and lose the
    /// record and the writes before it: a state that is no prefix of the acknowledged ones
    /// (I2), such as a deleted table gone but an earlier write to another table lost.
    pub(crate) fn durable_before_files(&self, at: At) -> Result<()> {
        if self.store.is_some() && self.options.durability == Durability::Buffered {
            self.wal.sync_through(at.lsn)?;
        }
        Ok(())
    }

    fn log(&self, mutation: &Mutation, touched: &[&Arc<TableHandle>]) -> Result<(Lsn, Timestamp)> {
        let payload = codec::encode(mutation);
        if !touched.is_empty() {
            let share = payload.len() as u64 / touched.len() as u64 + 1;
            let trigger = self.options.checkpoint_min_log_bytes;
            for handle in touched {
                let before = handle.log_bytes.fetch_add(share, Ordering::SeqCst);
                if before < trigger && before + share >= trigger {
                    self.wake.notify();
                }
            }
        }
        self.wal.append(payload, mutation.paces_builds())
    }

    /// Opens the database in directory `path`: recovers its tables from their snapshots and
    /// the write-ahead log, then deletes what expired or fell out of every window while it
    /// was closed.
    pub(crate) fn open(path: &FsPath, options: Options) -> Result<Arc<Engine>> {
        let mut recovered = Store::open(Arc::clone(&options.fs), path)?;
        let throttle = Arc::new(Throttle::new(options.background_write_rate));
        recovered.store.throttle = Arc::clone(&throttle);
        let wal = Wal::open(
            Arc::clone(&options.fs),
            WalConfig {
                dir: path.join(WAL_DIR),
                db_id: recovered.store.db_id,
                durability: options.durability,
                segment_bytes: options.segment_bytes,
                follow_retention: None,
                throttle,
            },
            Arc::clone(&options.clock),
            recovered.last_lsn,
            recovered.last_time,
        )?;
        let tables = recovered
            .tables
            .into_iter()
            .map(|t| {
                (t.data.schema.name.clone(), {
                    let handle = TableHandle::new(t.data, t.base.lsn).with_log_bytes(t.log_bytes);
                    handle.replayed.store(t.replayed, Ordering::SeqCst);
                    Arc::new(handle)
                })
            })
            .collect();
        let mut backups = BTreeMap::new();
        for entry in recovered.backups {
            backups.insert(entry.marker, BackupState::built(entry));
        }
        for (marker, record) in recovered.pending_backups {
            backups.insert(marker, BackupState::pending(record, marker));
        }
        let tokens = idempotency::Tokens::recovered(recovered.tokens);
        let engine = Engine::new(options, wal, Some(recovered.store), tables, backups, tokens);
        *engine.deleted_streams.lock() = recovered.deleted_streams;
        engine.expire_backups()?;
        if let Some(store) = &engine.store {
            engine.release_history(store)?;
        }
        Ok(engine)
    }

    /// An engine that lives in memory only.
    pub(crate) fn in_memory(mut options: Options) -> Result<Arc<Engine>> {
        options.durability = Durability::InMemory;
        let config = WalConfig {
            dir: Default::default(),
            db_id: 0,
            durability: Durability::InMemory,
            segment_bytes: options.segment_bytes,
            follow_retention: Some(options.stream_retention),
            throttle: Arc::default(),
        };
        let wal = Wal::open(
            Arc::clone(&options.fs),
            config,
            Arc::clone(&options.clock),
            0,
            Timestamp(0),
        )?;
        Ok(Engine::new(
            options,
            wal,
            None,
            BTreeMap::new(),
            BTreeMap::new(),
            Default::default(),
        ))
    }

    fn new(
        options: Options,
        wal: Wal,
        store: Option<Store>,
        tables: BTreeMap<String, Arc<TableHandle>>,
        backups: BTreeMap<Lsn, BackupState>,
        tokens: idempotency::Tokens,
    ) -> Arc<Engine> {
        let policy_revisions = (tables.values())
            .flat_map(|handle| {
                let settings = Arc::clone(&handle.data.read().settings);
                (settings.resource_policies.values())
                    .filter_map(|p| p.revision_id.parse::<u64>().ok())
                    .max()
            })
            .max()
            .unwrap_or(0);
        Arc::new(Engine {
            policy_revisions: std::sync::atomic::AtomicU64::new(policy_revisions),
            scope: ArnScope {
                region: options.region.clone(),
                account: options.account.clone(),
            },
            options,
            ddl: Mutex::new(()),
            restoring: Mutex::new(BTreeSet::new()),
            tables: RwLock::new(tables),
            wal,
            store,
            locks: ItemLocks::new(),
            wake: Arc::new(Signal::default()),
            maintenance_error: Mutex::new(None),
            ttl_error: Mutex::new(None),
            backups: Backups::new(backups),
            maintaining: Mutex::new(()),
            read_ahead_to: AtomicU64::new(0),
            backup_requests: Mutex::new(Default::default()),
            tokens,
            deleted_streams: Default::default(),
            hold_retention: Default::default(),
            torn: Default::default(),
        })
    }

    /// The handle of the table a request names (by name or ARN).
    pub(crate) fn table(&self, name_or_arn: &str) -> Result<Arc<TableHandle>> {
        let name = self.scope.table_name_of(name_or_arn)?;
        self.tables
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::table_not_found(name))
    }

    /// `TableDescription` of a table's data, with `status`.
    pub(crate) fn describe(&self, data: &TableData, status: TableStatus) -> TableDescription {
        let (table, indexes) = data.counts();
        TableDescription::new(&data.schema, status, table, &indexes, &self.scope)
    }
}
