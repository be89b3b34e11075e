//! [`Database`]: the handle applications hold, and the write path that ties validation,
//! locking, the commit log and the live tables together.
//!
//! A write goes through these steps, in this order:
//!
//! ```text
//! validate ─► table gate (shared) ─► item locks ─► read current items ─► conditions ─►
//! new items, checked ─► commit (LSN, time) ─► apply to the live table ─► unlock ─► ack
//! ```
//!
//! - The *gate* of a table is taken shared by item writers and exclusively by `UpdateTable`
//!   and `DeleteTable`, so a schema change never interleaves with a write in progress.
//! - *Item locks* are striped mutexes keyed by (table, key). A writer holds its items' locks
//!   from before its read until after its apply, which makes conditional writes and
//!   transactions atomic and orders writes to an item by LSN. Writers of different items
//!   hold different stripes and only meet in the commit log (one group commit, later) and
//!   in the table's data lock, which is held for the few microseconds of an apply.
//! - Readers take the table's data lock shared, never an item lock, so they never wait for
//!   a writer's commit; they see every write that has been acknowledged.
//!
//! Several locks are always taken in one order — gates by table id, stripes by number, data
//! locks by table id — so writers cannot deadlock.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::path::Path as FsPath;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard, RwLock, RwLockReadGuard};

use crate::api::*;
use crate::backup::{BackupRecord, BackupState, BackupType};
use crate::catalog::DroppedTable;
use crate::checkpoint::{maintenance_loop, Signal, Worker};
use crate::clock::Timestamp;
use crate::codec;
use crate::commit::{ItemWrite, Lsn, Mutation};
use crate::error::{Error, Result};
use crate::expr::{self, Condition, Update, UpdateAction};
use crate::key::{EncodedKey, KeyRole};
use crate::names::ArnScope;
use crate::options::{Durability, Options};
use crate::query::ReadPlan;
use crate::schema::TableSchema;
use crate::store::Store;
use crate::table::TableData;
use crate::tables::*;
use crate::value::{validate_item, Item};
use crate::wal::{Wal, WalConfig};

/// The most requests in one `BatchWriteItem`.
pub const MAX_BATCH_WRITE: usize = 25;
/// The most keys in one `BatchGetItem`.
pub const MAX_BATCH_GET: usize = 100;
/// The most actions in one `TransactWriteItems` or `TransactGetItems`.
pub const MAX_TRANSACT_ITEMS: usize = 100;
/// The largest total item size of a `BatchWriteItem`.
pub const MAX_BATCH_WRITE_BYTES: usize = 16 * 1024 * 1024;
/// The largest total item size of a `TransactWriteItems`.
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

const LOCK_STRIPES: usize = 4096;

/// One table: its gate, its data and its immutable identity.
#[derive(Debug)]
pub(crate) struct TableHandle {
    pub id: Arc<str>,
    /// Shared by item writers, exclusive for schema changes and deletion.
    pub(crate) gate: RwLock<()>,
    pub data: RwLock<TableData>,
    /// The table's durable history starts after this LSN: its snapshot covers everything up
    /// to it (or it was created right after it). The log before the smallest base of all
    /// tables is no longer needed.
    pub(crate) base_lsn: AtomicU64,
    /// Log bytes written for the table since its base: the snapshot trigger. Counted before
    /// each commit, so a checkpoint that reads it after syncing the log sees every write
    /// its LSN covers.
    pub(crate) log_bytes: AtomicU64,
}

impl TableHandle {
    /// The handle with its snapshot trigger counter set (after recovery).
    fn with_log_bytes(self, bytes: u64) -> TableHandle {
        self.log_bytes.store(bytes, Ordering::SeqCst);
        self
    }

    pub(crate) fn new(data: TableData, base_lsn: Lsn) -> TableHandle {
        TableHandle {
            id: data.schema.id.as_str().into(),
            gate: RwLock::new(()),
            data: RwLock::new(data),
            base_lsn: AtomicU64::new(base_lsn),
            log_bytes: AtomicU64::new(0),
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
pub(crate) struct Shared {
    pub(crate) options: Options,
    pub(crate) scope: ArnScope,
    /// Serializes table creation, update and deletion.
    pub(crate) ddl: Mutex<()>,
    pub(crate) tables: RwLock<BTreeMap<String, Arc<TableHandle>>>,
    pub(crate) wal: Wal,
    /// The database directory; `None` in memory.
    pub(crate) store: Option<Store>,
    locks: ItemLocks,
    /// Wakes the background worker early (a table crossed its snapshot trigger).
    pub(crate) wake: Arc<Signal>,
    /// The last error the background worker met, for `maintenance_error`.
    pub(crate) maintenance_error: Mutex<Option<String>>,
    /// Every backup not deleted, built or pending, by marker LSN (creation order).
    pub(crate) backups: Mutex<BTreeMap<Lsn, BackupState>>,
    /// Held for a round of background work (see `checkpoint.rs`).
    pub(crate) maintaining: Mutex<()>,
    /// Set when a deleted table could not be retired in the catalog: from then on no
    /// retained state and no log is released until the database is reopened.
    pub(crate) hold_retention: std::sync::atomic::AtomicBool,
    /// When recent `create_backup` calls were made, for the rate limit.
    pub(crate) backup_requests: Mutex<std::collections::VecDeque<Timestamp>>,
}

impl Shared {
    /// Logs `mutation` (durably, in the default mode) and returns its LSN and commit time.
    pub(crate) fn commit(
        &self,
        mutation: &Mutation,
        touched: &[&Arc<TableHandle>],
    ) -> Result<(Lsn, Timestamp)> {
        if self.store.is_none() {
            return self.wal.append(Vec::new());
        }
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
        self.wal.append(payload)
    }
}

/// An open database. Cheap to clone; every clone is the same database, and it can be shared
/// by any number of threads (`Send + Sync`).
#[derive(Clone, Debug)]
pub struct Database {
    pub(crate) shared: Arc<Shared>,
    _worker: Arc<Worker>,
}

/// What one write action does to its item.
#[derive(Debug)]
enum Change {
    Put(Item),
    Delete,
    /// The update, and the key attributes a new item starts from.
    Update(Update, Item),
    Check,
}

/// One write action on one item, ready to run.
#[derive(Debug)]
struct Action {
    handle: Arc<TableHandle>,
    key: EncodedKey,
    change: Change,
    condition: Option<Condition>,
    return_item_on_failure: bool,
}

/// What one action did.
#[derive(Debug)]
struct Done {
    old: Option<Arc<Item>>,
    new: Option<Arc<Item>>,
}

/// How the actions of one request fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Atomicity {
    /// One action, whose error is the request's error.
    Single,
    /// Several actions that cannot fail individually (a batch write).
    Batch,
    /// A transaction: any failure cancels all, with one reason per action.
    Transaction,
}

impl Database {
    /// Opens (creating if needed) the database in directory `path` with default options.
    pub fn open(path: impl AsRef<FsPath>) -> Result<Database> {
        Database::open_with(path, Options::default())
    }

    /// Opens (creating if needed) the database in directory `path` with `options`,
    /// recovering its tables from their snapshots and the write-ahead log. With
    /// `Durability::InMemory` the path is not touched.
    pub fn open_with(path: impl AsRef<FsPath>, options: Options) -> Result<Database> {
        options.validate()?;
        if options.durability == Durability::InMemory {
            return Database::in_memory_with(options);
        }
        let recovered = Store::open(std::sync::Arc::clone(&options.fs), path.as_ref())?;
        let wal = Wal::open(
            std::sync::Arc::clone(&options.fs),
            WalConfig {
                dir: path.as_ref().join(crate::catalog::WAL_DIR),
                db_id: recovered.store.db_id,
                durability: options.durability,
                segment_bytes: options.segment_bytes,
            },
            std::sync::Arc::clone(&options.clock),
            recovered.last_lsn,
            recovered.last_time,
        )?;
        let tables = recovered
            .tables
            .into_iter()
            .map(|t| {
                (
                    t.data.schema.name.clone(),
                    Arc::new(TableHandle::new(t.data, t.base.lsn).with_log_bytes(t.log_bytes)),
                )
            })
            .collect();
        let mut backups = BTreeMap::new();
        for entry in recovered.backups {
            backups.insert(entry.marker, BackupState::built(entry));
        }
        for (marker, record) in recovered.pending_backups {
            backups.insert(marker, BackupState::pending(record, marker));
        }
        let db = Database::start(options, wal, Some(recovered.store), tables, backups);
        // What expired or fell out of every window while the database was closed goes now.
        db.shared.expire_backups()?;
        if let Some(store) = &db.shared.store {
            db.shared.release_history(store)?;
        }
        Ok(db)
    }

    /// A database that lives in memory only, with default options.
    pub fn in_memory() -> Database {
        // Default in-memory options always validate.
        Database::in_memory_with(Options::in_memory()).unwrap_or_else(|e| unreachable!("{e}"))
    }

    /// A database that lives in memory only (whatever `options.durability` says).
    pub fn in_memory_with(mut options: Options) -> Result<Database> {
        options.validate()?;
        options.durability = Durability::InMemory;
        let config = WalConfig {
            dir: Default::default(),
            db_id: 0,
            durability: Durability::InMemory,
            segment_bytes: options.segment_bytes,
        };
        let wal = Wal::open(
            std::sync::Arc::clone(&options.fs),
            config,
            std::sync::Arc::clone(&options.clock),
            0,
            Timestamp(0),
        )?;
        Ok(Database::start(
            options,
            wal,
            None,
            BTreeMap::new(),
            BTreeMap::new(),
        ))
    }

    fn start(
        options: Options,
        wal: Wal,
        store: Option<Store>,
        tables: BTreeMap<String, Arc<TableHandle>>,
        backups: BTreeMap<Lsn, BackupState>,
    ) -> Database {
        let wake = Arc::new(Signal::default());
        let shared = Arc::new(Shared {
            scope: ArnScope {
                region: options.region.clone(),
                account: options.account.clone(),
            },
            options,
            ddl: Mutex::new(()),
            tables: RwLock::new(tables),
            wal,
            store,
            locks: ItemLocks::new(),
            wake: Arc::clone(&wake),
            maintenance_error: Mutex::new(None),
            backups: Mutex::new(backups),
            maintaining: Mutex::new(()),
            backup_requests: Mutex::new(Default::default()),
            hold_retention: Default::default(),
        });
        let thread = (shared.store.is_some() && shared.options.background_worker).then(|| {
            let weak = Arc::downgrade(&shared);
            let signal = Arc::clone(&wake);
            std::thread::Builder::new()
                .name("tidestore-maintenance".into())
                .spawn(move || maintenance_loop(weak, signal))
        });
        let thread = match thread {
            Some(Ok(handle)) => Some(handle),
            // Without the worker the database still works; snapshots just never happen.
            Some(Err(e)) => {
                *shared.maintenance_error.lock() =
                    Some(format!("cannot start the maintenance thread: {e}"));
                None
            }
            None => None,
        };
        Database {
            shared,
            _worker: Arc::new(Worker {
                signal: wake,
                thread: Mutex::new(thread),
            }),
        }
    }

    /// Logs `mutation` (durably, in the default mode) and returns its LSN and commit time.
    pub(crate) fn commit(
        &self,
        mutation: &Mutation,
        touched: &[&Arc<TableHandle>],
    ) -> Result<(Lsn, Timestamp)> {
        self.shared.commit(mutation, touched)
    }

    /// Makes every acknowledged write durable now (in `Buffered` mode, instead of waiting for
    /// the background sync); returns the durable LSN.
    pub fn sync(&self) -> Result<Lsn> {
        self.shared.wal.sync()
    }

    /// Snapshots every table whose log has grown since its last snapshot and drops the log
    /// no snapshot needs, now rather than when the background worker gets to it.
    pub fn checkpoint(&self) -> Result<()> {
        self.shared.maintain(true)
    }

    /// The last error the background worker met (a failed snapshot or log truncation), if
    /// any. Such errors lose nothing — the log is kept until a snapshot succeeds — but they
    /// mean the log keeps growing.
    pub fn maintenance_error(&self) -> Option<String> {
        self.shared.maintenance_error.lock().clone()
    }

    /// The LSN of the last change committed.
    pub fn last_lsn(&self) -> Lsn {
        self.shared.wal.last_committed().0
    }

    /// The handle of the table a request names (by name or ARN).
    pub(crate) fn table(&self, name_or_arn: &str) -> Result<Arc<TableHandle>> {
        let name = self.shared.scope.table_name_of(name_or_arn)?;
        self.shared
            .tables
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::table_not_found(name))
    }

    pub(crate) fn describe(&self, data: &TableData, status: TableStatus) -> TableDescription {
        let (table, indexes) = data.counts();
        TableDescription::new(&data.schema, status, table, &indexes, &self.shared.scope)
    }

    // -----------------------------------------------------------------------------------------
    // Tables
    // -----------------------------------------------------------------------------------------

    /// `CreateTable`: a new, empty table. The table is usable as soon as this returns, so the
    /// description says ACTIVE.
    pub fn create_table(&self, input: CreateTableInput) -> Result<TableDescription> {
        let _ddl = self.shared.ddl.lock();
        let now = self.shared.options.clock.now();
        let schema = Arc::new(input.to_schema(now)?);
        {
            let tables = self.shared.tables.read();
            if tables.contains_key(&schema.name) {
                return Err(Error::ResourceInUse(format!(
                    "Table already exists: {}",
                    schema.name
                )));
            }
            if tables.len() >= self.shared.options.max_tables {
                return Err(Error::LimitExceeded(format!(
                    "Subscriber limit exceeded: the database already holds {} tables, its limit",
                    tables.len()
                )));
            }
        }
        let (lsn, _) = self.commit(&Mutation::CreateTable(Arc::clone(&schema)), &[])?;
        let data = TableData::new(Arc::clone(&schema), TableStatus::Active);
        let description = self.describe(&data, TableStatus::Active);
        let handle = TableHandle::new(data, lsn - 1);
        self.shared
            .tables
            .write()
            .insert(schema.name.clone(), Arc::new(handle));
        Ok(description)
    }

    /// `DescribeTable`.
    pub fn describe_table(&self, table_name: &str) -> Result<TableDescription> {
        let handle = self.table(table_name)?;
        let data = handle.data.read();
        Ok(self.describe(&data, data.status))
    }

    /// `ListTables`: table names in ascending order, a page at a time.
    pub fn list_tables(&self, input: ListTablesInput) -> Result<ListTablesOutput> {
        let limit = input.limit.unwrap_or(100);
        if !(1..=100).contains(&limit) {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100"
            )));
        }
        let tables = self.shared.tables.read();
        let start = match &input.exclusive_start_table_name {
            Some(name) => std::ops::Bound::Excluded(name.clone()),
            None => std::ops::Bound::Unbounded,
        };
        let mut names = tables
            .range((start, std::ops::Bound::Unbounded))
            .map(|(n, _)| n.clone());
        let table_names: Vec<String> = names.by_ref().take(limit as usize).collect();
        let more = names.next().is_some();
        Ok(ListTablesOutput {
            last_evaluated_table_name: if more {
                table_names.last().cloned()
            } else {
                None
            },
            table_names,
        })
    }

    /// `UpdateTable`: throughput, billing mode, stream, and global secondary indexes. A new
    /// index is backfilled from the existing items before this returns, so it is ACTIVE at
    /// once; writes to the table wait for the backfill.
    pub fn update_table(&self, input: UpdateTableInput) -> Result<TableDescription> {
        let _ddl = self.shared.ddl.lock();
        let handle = self.table(&input.table_name)?;
        let _gate = handle.gate.write();
        let current = Arc::clone(&handle.data.read().schema);
        let next = Arc::new(input.apply_to(&current, self.shared.options.clock.now())?);
        self.commit(&Mutation::UpdateTable(Arc::clone(&next)), &[&handle])?;
        let mut data = handle.data.write();
        data.set_schema(next);
        Ok(self.describe(&data, data.status))
    }

    /// `DeleteTable`: the table and its items are gone once this returns; the description it
    /// returns is the table's last, with status DELETING as DynamoDB reports it. A table with
    /// point-in-time recovery leaves a SYSTEM backup of its last state
    /// (`{TableName}$DeletedTableBackup`, kept 35 days) and can still be restored to any
    /// moment of its window.
    pub fn delete_table(&self, table_name: &str) -> Result<TableDescription> {
        let _ddl = self.shared.ddl.lock();
        let handle = self.table(table_name)?;
        let _gate = handle.gate.write();
        let mut backups = self.shared.backups.lock();
        let building = backups
            .values()
            .any(|b| b.built.is_none() && *b.record.schema.id == *handle.id);
        if building {
            return Err(Error::ResourceInUse(format!(
                "Table {table_name} cannot be deleted while a backup of it is being created"
            )));
        }
        let (description, schema, counts) = {
            let data = handle.data.read();
            (
                self.describe(&data, TableStatus::Deleting),
                Arc::clone(&data.schema),
                (data.items.len() as u64, data.size_bytes),
            )
        };
        let system_backup = match (&self.shared.store, schema.pitr) {
            (Some(_), Some(_)) => Some(Arc::new(BackupRecord::new(
                BackupType::System,
                &format!("{}$DeletedTableBackup", schema.name),
                self.shared.options.clock.now(),
                self.shared.scope.table_arn(&schema.name),
                Arc::clone(&schema),
                counts,
            ))),
            _ => None,
        };
        let (lsn, time) = self.commit(
            &Mutation::DeleteTable {
                table_id: Arc::clone(&handle.id),
                system_backup: system_backup.clone(),
            },
            &[],
        )?;
        if let Some(record) = system_backup {
            if self.shared.options.durability == Durability::Buffered {
                // The backup the deletion promises must survive a crash, as a requested one.
                self.shared.wal.sync()?;
            }
            backups.insert(lsn, BackupState::pending(record, lsn));
        }
        drop(backups);
        // No snapshot of the table is installed from here on.
        handle.data.write().deleted = true;
        if let Some(store) = &self.shared.store {
            // The deletion is durable in the log, so it has happened. Its state (and window)
            // go into the catalog before the table leaves `tables`: until then the table's
            // base holds the log a maintenance round would otherwise drop.
            let dropped = schema.pitr.map(|_| DroppedTable {
                schema: Arc::clone(&schema),
                deleted_lsn: lsn,
                deleted_time: time,
            });
            if let Err(e) =
                store.retire_table(&handle.id, handle.base_lsn.load(Ordering::SeqCst), dropped)
            {
                // Without the catalog's record of it, what the table's window and SYSTEM
                // backup need is known only to the next open's recovery: keep every file
                // until then.
                self.shared.hold_retention.store(true, Ordering::SeqCst);
                *self.shared.maintenance_error.lock() = Some(format!(
                    "retiring the files of deleted table {} (nothing is released until the database is reopened): {e}",
                    description.table_name
                ));
            }
        }
        self.shared.tables.write().remove(&description.table_name);
        if let Some(store) = &self.shared.store {
            // Remove the files at once unless a maintenance round, which will, runs.
            if let Some(_round) = self.shared.maintaining.try_lock() {
                if let Err(e) = self.shared.release_history(store) {
                    *self.shared.maintenance_error.lock() = Some(format!(
                        "releasing the files of deleted table {}: {e}",
                        description.table_name
                    ));
                }
            }
            self.shared.wake.notify();
        }
        Ok(description)
    }

    // -----------------------------------------------------------------------------------------
    // Writes
    // -----------------------------------------------------------------------------------------

    /// Runs write actions atomically: locks, reads, checks conditions, commits one mutation
    /// and applies it. Returns what each action did, in order.
    fn run(&self, mut actions: Vec<Action>, atomicity: Atomicity) -> Result<Vec<Done>> {
        // Gates, in table id order, each once.
        let mut handles: Vec<Arc<TableHandle>> =
            actions.iter().map(|a| Arc::clone(&a.handle)).collect();
        handles.sort_by(|a, b| a.id.cmp(&b.id));
        handles.dedup_by(|a, b| a.id == b.id);
        let _gates: Vec<RwLockReadGuard<'_, ()>> = handles.iter().map(|h| h.gate.read()).collect();
        for handle in &handles {
            let data = handle.data.read();
            if data.deleted {
                return Err(Error::table_not_found(&data.schema.name));
            }
            if data.status != TableStatus::Active {
                return Err(Error::ResourceNotFound(format!(
                    "Requested resource not found: Table: {} is not ACTIVE",
                    data.schema.name
                )));
            }
        }
        let _locks = self
            .shared
            .locks
            .lock(actions.iter().map(|a| (&*a.handle.id, a.key.as_slice())));

        // Decide every action against the current items.
        let mut outcomes = Vec::with_capacity(actions.len());
        let mut failed = false;
        for action in &mut actions {
            let (old, schema) = {
                let data = action.handle.data.read();
                (
                    data.items.get(&action.key).cloned(),
                    Arc::clone(&data.schema),
                )
            };
            let outcome = decide(action, &schema, old.as_deref());
            failed |= outcome.is_err();
            outcomes.push((old, outcome));
        }
        if failed {
            if atomicity != Atomicity::Transaction {
                // Single actions fail with their own error; batch actions cannot fail here.
                let error = outcomes.into_iter().find_map(|(_, o)| o.err());
                return Err(error.unwrap_or_else(|| Error::validation("write failed")));
            }
            let reasons = outcomes
                .into_iter()
                .map(|(_, outcome)| match outcome {
                    Ok(_) => CancellationReason::none(),
                    Err(Error::ConditionalCheckFailed { message, item }) => CancellationReason {
                        code: "ConditionalCheckFailed".into(),
                        message: Some(message),
                        item,
                    },
                    Err(other) => CancellationReason {
                        code: "ValidationError".into(),
                        message: Some(other.to_string()),
                        item: None,
                    },
                })
                .collect();
            return Err(Error::TransactionCanceled { reasons });
        }

        // Commit the writes that change something.
        let mut writes = Vec::new();
        let mut done = Vec::with_capacity(actions.len());
        for (action, (old, outcome)) in actions.iter().zip(outcomes) {
            let new = match outcome {
                Ok(Some(new)) => Some(Arc::new(new)),
                Ok(None) => None,
                Err(_) => unreachable!("failed outcomes returned above"),
            };
            let changes =
                !matches!(action.change, Change::Check) && (old.is_some() || new.is_some());
            if changes {
                writes.push(ItemWrite {
                    table_id: Arc::clone(&action.handle.id),
                    key: action.key.clone(),
                    item: new.clone(),
                });
            }
            done.push(Done { old, new });
        }
        if writes.is_empty() {
            return Ok(done);
        }
        let mutation = Mutation::Write(writes);
        let touched: Vec<&Arc<TableHandle>> = handles.iter().collect();
        self.commit(&mutation, &touched)?;
        let Mutation::Write(writes) = mutation else {
            unreachable!()
        };
        // Hold every table's data lock (in id order) across the whole apply, so that no
        // reader sees a transaction or batch applied in one table and not yet in another.
        let mut guards: Vec<_> = handles.iter().map(|h| (&h.id, h.data.write())).collect();
        for write in &writes {
            if let Some((_, data)) = guards.iter_mut().find(|(id, _)| **id == write.table_id) {
                data.apply_write(&write.key, write.item.clone());
            }
        }
        drop(guards);
        Ok(done)
    }

    /// Resolves a write action: its table and the encoded key of its item. The key comes
    /// from the item of a `Put`, and from `key` (which must hold exactly the key attributes)
    /// otherwise.
    fn action(
        &self,
        table_name: &str,
        key: &Item,
        change: Change,
        condition: Option<Condition>,
        return_item_on_failure: bool,
    ) -> Result<Action> {
        let handle = self.table(table_name)?;
        let key = {
            let data = handle.data.read();
            let shape = &data.schema.key;
            match &change {
                Change::Put(item) => shape.encode(item, KeyRole::Table)?,
                _ => shape.encode_exact(key)?,
            }
        };
        if let Some(condition) = &condition {
            condition.validate()?;
        }
        if let Change::Update(update, _) = &change {
            update.validate()?;
        }
        Ok(Action {
            handle,
            key,
            change,
            condition,
            return_item_on_failure,
        })
    }

    /// `PutItem`: stores `item`, replacing any item with its key, if the condition holds.
    pub fn put_item(&self, input: PutItemInput) -> Result<PutItemOutput> {
        if !matches!(input.return_values, ReturnValue::None | ReturnValue::AllOld) {
            return Err(Error::validation(
                "Return values set to invalid value: PutItem accepts only NONE and ALL_OLD",
            ));
        }
        validate_item(&input.item)?;
        let on_failure = input.return_values_on_condition_check_failure
            == ReturnValuesOnConditionCheckFailure::AllOld;
        let action = self.action(
            &input.table_name,
            &Item::new(),
            Change::Put(input.item),
            input.condition,
            on_failure,
        )?;
        let done = self.run(vec![action], Atomicity::Single)?.remove(0);
        Ok(WriteItemOutput {
            attributes: returned(input.return_values, &done, None),
        })
    }

    /// `DeleteItem`: removes the item with `key`, if the condition holds (deleting an item
    /// that does not exist succeeds).
    pub fn delete_item(&self, input: DeleteItemInput) -> Result<DeleteItemOutput> {
        if !matches!(input.return_values, ReturnValue::None | ReturnValue::AllOld) {
            return Err(Error::validation(
                "Return values set to invalid value: DeleteItem accepts only NONE and ALL_OLD",
            ));
        }
        let on_failure = input.return_values_on_condition_check_failure
            == ReturnValuesOnConditionCheckFailure::AllOld;
        let action = self.action(
            &input.table_name,
            &input.key,
            Change::Delete,
            input.condition,
            on_failure,
        )?;
        let done = self.run(vec![action], Atomicity::Single)?.remove(0);
        Ok(WriteItemOutput {
            attributes: returned(input.return_values, &done, None),
        })
    }

    /// `UpdateItem`: applies the update actions to the item with `key` (creating it if it
    /// does not exist), if the condition holds.
    pub fn update_item(&self, input: UpdateItemInput) -> Result<UpdateItemOutput> {
        let on_failure = input.return_values_on_condition_check_failure
            == ReturnValuesOnConditionCheckFailure::AllOld;
        let paths = input.update.updated_paths();
        let change = Change::Update(input.update, input.key.clone());
        let action = self.action(
            &input.table_name,
            &input.key,
            change,
            input.condition,
            on_failure,
        )?;
        let done = self.run(vec![action], Atomicity::Single)?.remove(0);
        Ok(WriteItemOutput {
            attributes: returned(input.return_values, &done, Some(&paths)),
        })
    }

    /// `BatchWriteItem`: up to 25 puts and deletes over any tables, applied as one atomic,
    /// durable change (a superset of DynamoDB, which may apply part of a batch).
    pub fn batch_write_item(&self, input: BatchWriteItemInput) -> Result<BatchWriteItemOutput> {
        let count: usize = input.request_items.values().map(Vec::len).sum();
        if count == 0 || count > MAX_BATCH_WRITE {
            return Err(Error::validation(format!(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have between 1 and {MAX_BATCH_WRITE} requests in total (got {count})"
            )));
        }
        let mut actions = Vec::with_capacity(count);
        let mut bytes = 0;
        for (table, requests) in input.request_items {
            for request in requests {
                actions.push(match request {
                    WriteRequest::Put { item } => {
                        validate_item(&item)?;
                        bytes += crate::value::item_size(&item);
                        self.action(&table, &Item::new(), Change::Put(item), None, false)?
                    }
                    WriteRequest::Delete { key } => {
                        self.action(&table, &key, Change::Delete, None, false)?
                    }
                });
            }
        }
        if bytes > MAX_BATCH_WRITE_BYTES {
            return Err(Error::validation(format!(
                "Item size to update has exceeded the maximum allowed size: the batch holds {bytes} bytes, more than {MAX_BATCH_WRITE_BYTES}"
            )));
        }
        reject_duplicate_keys(&actions, "Provided list of item keys contains duplicates")?;
        self.run(actions, Atomicity::Batch)?;
        Ok(BatchWriteItemOutput::default())
    }

    /// `TransactWriteItems`: up to 100 actions on distinct items; if any condition fails or
    /// any action is invalid, none is applied and the error gives one reason per action.
    pub fn transact_write_items(&self, input: TransactWriteItemsInput) -> Result<()> {
        let count = input.transact_items.len();
        if count == 0 || count > MAX_TRANSACT_ITEMS {
            return Err(Error::validation(format!(
                "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length between 1 and {MAX_TRANSACT_ITEMS} (got {count})"
            )));
        }
        let mut actions = Vec::with_capacity(count);
        let mut bytes = 0;
        let on = |r: ReturnValuesOnConditionCheckFailure| {
            r == ReturnValuesOnConditionCheckFailure::AllOld
        };
        for item in input.transact_items {
            actions.push(match item {
                TransactWriteItem::ConditionCheck {
                    table_name,
                    key,
                    condition,
                    return_values_on_condition_check_failure,
                } => self.action(
                    &table_name,
                    &key,
                    Change::Check,
                    Some(condition),
                    on(return_values_on_condition_check_failure),
                )?,
                TransactWriteItem::Put(put) => {
                    validate_item(&put.item)?;
                    bytes += crate::value::item_size(&put.item);
                    let change = Change::Put(put.item);
                    self.action(
                        &put.table_name,
                        &Item::new(),
                        change,
                        put.condition,
                        on(put.return_values_on_condition_check_failure),
                    )?
                }
                TransactWriteItem::Delete(delete) => self.action(
                    &delete.table_name,
                    &delete.key,
                    Change::Delete,
                    delete.condition,
                    on(delete.return_values_on_condition_check_failure),
                )?,
                TransactWriteItem::Update(update) => self.action(
                    &update.table_name,
                    &update.key,
                    Change::Update(update.update, update.key.clone()),
                    update.condition,
                    on(update.return_values_on_condition_check_failure),
                )?,
            });
        }
        if bytes > MAX_TRANSACTION_BYTES {
            return Err(Error::validation(format!(
                "Transaction request size exceeded: the items hold {bytes} bytes, more than {MAX_TRANSACTION_BYTES}"
            )));
        }
        reject_duplicate_keys(
            &actions,
            "Transaction request cannot include multiple operations on one item",
        )?;
        self.run(actions, Atomicity::Transaction)?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Reads
    // -----------------------------------------------------------------------------------------

    /// `GetItem`.
    pub fn get_item(&self, input: GetItemInput) -> Result<GetItemOutput> {
        validate_projection(input.projection.as_deref())?;
        let handle = self.table(&input.table_name)?;
        let item = {
            let data = handle.data.read();
            let key = data.schema.key.encode_exact(&input.key)?;
            data.items.get(&key).cloned()
        };
        Ok(GetItemOutput {
            item: item.map(|item| project(&item, input.projection.as_deref())),
        })
    }

    /// `Query`: one page of one partition, from the table or an index.
    pub fn query(&self, input: QueryInput) -> Result<QueryOutput> {
        let handle = self.table(&input.table_name)?;
        let data = handle.data.read();
        ReadPlan::query(&data.schema, &input)?.read_page(&data)
    }

    /// `Scan`: one page of the whole table or index, or of one segment of it.
    pub fn scan(&self, input: ScanInput) -> Result<ScanOutput> {
        let handle = self.table(&input.table_name)?;
        let data = handle.data.read();
        ReadPlan::scan(&data.schema, &input)?.read_page(&data)
    }

    /// `BatchGetItem`: up to 100 items by key over any tables. Items that do not exist are
    /// absent from the responses.
    pub fn batch_get_item(&self, input: BatchGetItemInput) -> Result<BatchGetItemOutput> {
        let count: usize = input.request_items.values().map(|k| k.keys.len()).sum();
        if count == 0 || count > MAX_BATCH_GET {
            return Err(Error::validation(format!(
                "Too many items requested for the BatchGetItem call: between 1 and {MAX_BATCH_GET} keys are allowed (got {count})"
            )));
        }
        let mut output = BatchGetItemOutput::default();
        for (table, request) in input.request_items {
            validate_projection(request.projection.as_deref())?;
            let handle = self.table(&table)?;
            let data = handle.data.read();
            let mut seen = BTreeSet::new();
            let mut items = Vec::new();
            for key in &request.keys {
                let encoded = data.schema.key.encode_exact(key)?;
                if !seen.insert(encoded.clone()) {
                    return Err(Error::validation(
                        "Provided list of item keys contains duplicates",
                    ));
                }
                if let Some(item) = data.items.get(&encoded) {
                    items.push(project(item, request.projection.as_deref()));
                }
            }
            output.responses.insert(table, items);
        }
        Ok(output)
    }

    /// `TransactGetItems`: up to 100 items read from one consistent state: no transaction is
    /// seen half applied.
    pub fn transact_get_items(
        &self,
        reads: Vec<TransactGetItem>,
    ) -> Result<TransactGetItemsOutput> {
        if reads.is_empty() || reads.len() > MAX_TRANSACT_ITEMS {
            return Err(Error::validation(format!(
                "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length between 1 and {MAX_TRANSACT_ITEMS} (got {})",
                reads.len()
            )));
        }
        for read in &reads {
            validate_projection(read.projection.as_deref())?;
        }
        let handles = reads
            .iter()
            .map(|r| self.table(&r.table_name))
            .collect::<Result<Vec<_>>>()?;
        // Read-lock every table once, in id order, and hold them all while reading.
        let mut order: Vec<&Arc<TableHandle>> = handles.iter().collect();
        order.sort_by(|a, b| a.id.cmp(&b.id));
        order.dedup_by(|a, b| a.id == b.id);
        let guards: BTreeMap<&str, RwLockReadGuard<'_, TableData>> =
            order.iter().map(|h| (&*h.id, h.data.read())).collect();
        let mut keys = BTreeSet::new();
        let mut responses = Vec::with_capacity(reads.len());
        for (read, handle) in reads.iter().zip(&handles) {
            let data = &guards[&*handle.id];
            let key = data.schema.key.encode_exact(&read.key)?;
            if !keys.insert((Arc::clone(&handle.id), key.clone())) {
                return Err(Error::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            let item = data
                .items
                .get(&key)
                .map(|item| project(item, read.projection.as_deref()));
            responses.push(ItemResponse { item });
        }
        Ok(TransactGetItemsOutput { responses })
    }
}

/// Checks an action against the current item: the condition, then the new item. `Ok(None)`
/// deletes (or, for a check, leaves the item alone).
fn decide(action: &mut Action, schema: &TableSchema, old: Option<&Item>) -> Result<Option<Item>> {
    if let Some(condition) = &action.condition {
        if !condition.evaluate(old)? {
            let item = if action.return_item_on_failure {
                old.cloned()
            } else {
                None
            };
            return Err(Error::condition_failed(item));
        }
    }
    let new = match &mut action.change {
        // Each action is decided once: its item moves into the write.
        Change::Put(item) => std::mem::take(item),
        Change::Delete | Change::Check => return Ok(None),
        Change::Update(update, key) => {
            for path in update.updated_paths() {
                let top = path.top_level();
                if schema.key.attributes().any(|a| a.name == top) {
                    return Err(Error::validation(format!(
                        "One or more parameter values were invalid: Cannot update attribute {top}. This attribute is part of the key"
                    )));
                }
            }
            // An update of a missing item creates it, starting from its key — unless all it
            // does is remove things, which DynamoDB does not turn into a new item.
            let removes_only = update
                .actions
                .iter()
                .all(|a| matches!(a, UpdateAction::Remove(_) | UpdateAction::Delete(..)));
            if old.is_none() && removes_only {
                update.apply(None)?;
                return Ok(None);
            }
            let base = old.cloned().unwrap_or_else(|| key.clone());
            let new = update.apply(Some(&base))?;
            validate_item(&new)?;
            new
        }
    };
    for index in schema.indexes() {
        index
            .key
            .encode_index_entry(&index.name, &new, &action.key)?;
    }
    Ok(Some(new))
}

/// The attributes a write returns for `ReturnValues`.
fn returned(mode: ReturnValue, done: &Done, updated: Option<&[expr::Path]>) -> Option<Item> {
    let pick = |item: &Option<Arc<Item>>, paths: Option<&[expr::Path]>| -> Option<Item> {
        let item = item.as_deref()?;
        let picked = match paths {
            Some(paths) => expr::project(item, paths),
            None => item.clone(),
        };
        (!picked.is_empty()).then_some(picked)
    };
    match mode {
        ReturnValue::None => None,
        ReturnValue::AllOld => pick(&done.old, None),
        ReturnValue::AllNew => pick(&done.new, None),
        ReturnValue::UpdatedOld => pick(&done.old, updated),
        ReturnValue::UpdatedNew => pick(&done.new, updated),
    }
}

fn project(item: &Item, projection: Option<&[expr::Path]>) -> Item {
    match projection {
        Some(paths) => expr::project(item, paths),
        None => item.clone(),
    }
}

fn validate_projection(projection: Option<&[expr::Path]>) -> Result<()> {
    projection.map_or(Ok(()), expr::validate_projection)
}

fn reject_duplicate_keys(actions: &[Action], message: &str) -> Result<()> {
    let mut seen = BTreeSet::new();
    for action in actions {
        if !seen.insert((&*action.handle.id, action.key.as_slice())) {
            return Err(Error::validation(message));
        }
    }
    Ok(())
}
