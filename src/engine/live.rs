//! The live side of [`apply`](crate::state::apply::apply): what a change the engine has just
//! logged does to the live tables and the backup registry.
//!
//! Every operation that changes state logs one [`Mutation`](crate::format::mutation::Mutation)
//! and then applies that same value through `apply` with a [`Live`] — so a live write and
//! its replay after a crash are interpreted by the same match (invariant I3). The caller
//! keeps its protocol: it holds the locks its operation needs and hands [`Live`] what it has
//! locked (the touched tables' data); what it has not locked (the backup registry, which no
//! caller holds across its commit), `Live` locks itself. What is not state — the catalog,
//! retention, the description returned — stays with the caller.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::RwLockWriteGuard;

use crate::api::tables::TableStatus;
use crate::engine::backups::BackupState;
use crate::engine::{Engine, TableHandle};
use crate::error::Result;
use crate::format::backup::BackupRecord;
use crate::format::mutation::ItemWrite;
use crate::model::schema::TableSchema;
use crate::model::settings::TableSettings;
use crate::model::Lsn;
use crate::state::apply::{Apply, At};
use crate::state::table::TableData;
use crate::storage::replay;

/// The live state a logged change is applied to.
pub(crate) struct Live<'a> {
    engine: &'a Engine,
    /// The data of the tables an item write touches, write-locked by the caller (in table id
    /// order) and held across the whole apply, so that no reader sees a batch or transaction
    /// applied in one table and not yet in another.
    data: Vec<RwLockWriteGuard<'a, TableData>>,
    /// A restored table's contents, built by the restore along with its first snapshot.
    restored: Option<TableData>,
    /// The handle of the table the change is about, when the caller holds it: `Live` then
    /// never takes the table map's lock (the caller may hold locks that come after it).
    table: Option<&'a Arc<TableHandle>>,
}

impl<'a> Live<'a> {
    /// The live state of `engine`, with nothing locked by the caller.
    pub fn new(engine: &'a Engine) -> Live<'a> {
        Live {
            engine,
            data: Vec::new(),
            restored: None,
            table: None,
        }
    }

    /// With the handle of the table the change is about.
    pub fn with_table(mut self, handle: &'a Arc<TableHandle>) -> Live<'a> {
        self.table = Some(handle);
        self
    }

    /// With the touched tables' data, write-locked.
    pub fn with_data(mut self, data: Vec<RwLockWriteGuard<'a, TableData>>) -> Live<'a> {
        self.data = data;
        self
    }

    /// With the contents of the table a restore makes.
    pub fn with_restored(mut self, data: TableData) -> Live<'a> {
        self.restored = Some(data);
        self
    }

    /// The live handle of the table `id`, if it still exists.
    fn handle(&self, id: &str) -> Option<Arc<TableHandle>> {
        if let Some(handle) = self.table.filter(|h| &*h.id == id) {
            return Some(Arc::clone(handle));
        }
        let tables = self.engine.tables.read();
        tables.values().find(|h| &*h.id == id).cloned()
    }

    /// Runs `f` on the backup registry, locked here, and wakes whoever waits for a change.
    fn backups<T>(&mut self, f: impl FnOnce(&mut BTreeMap<Lsn, BackupState>) -> T) -> T {
        let result = f(&mut self.engine.backups.lock());
        self.engine.backups.changed();
        result
    }
}

impl Live<'_> {
    /// Records that a change was logged and only partly applied: the live state is not
    /// the log's, so no snapshot is taken of it. (The writers load what a write touches
    /// before logging it, so this takes a bug or a panic.)
    fn tear(&self) {
        self.engine
            .torn
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Live<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.tear();
        }
    }
}

impl Apply for Live<'_> {
    fn create_table(
        &mut self,
        at: At,
        schema: Arc<TableSchema>,
        settings: Arc<TableSettings>,
    ) -> Result<()> {
        let mut data = TableData::new(Arc::clone(&schema), TableStatus::Active);
        data.settings = settings;
        // Its durable history starts after the record before its creation.
        let handle = TableHandle::new(data, at.lsn - 1);
        self.engine
            .tables
            .write()
            .insert(schema.name.clone(), Arc::new(handle));
        Ok(())
    }

    fn update_table(&mut self, _: At, schema: Arc<TableSchema>) -> Result<()> {
        if let Some(handle) = self.handle(&schema.id) {
            // A new index is built from every item under a read lock, so reads of the
            // table go on meanwhile (a server answers reads on its async threads, which
            // must not wait long); the items cannot change before the install, because a
            // schema change holds its table's gate, where writers wait.
            let built = handle.data.read().build_new_indexes(&schema);
            let built = match built {
                Ok(built) => built,
                Err(e) => {
                    self.tear();
                    return Err(e);
                }
            };
            let mut data = handle.data.write();
            data.install_schema(schema, built);
            handle.head_mut().schema = Arc::clone(&data.schema);
        }
        Ok(())
    }

    fn delete_table(
        &mut self,
        at: At,
        table_id: Arc<str>,
        system_backup: Option<Arc<BackupRecord>>,
    ) -> Result<()> {
        if let Some(record) = system_backup {
            self.backups(|b| b.insert(at.lsn, BackupState::pending(record, at.lsn)));
        }
        // No snapshot of the table is installed from here on, and a writer that looked the
        // table up before the deletion finds out once it holds the gate. The handle leaves
        // the table map once the caller has retired the table's files in the catalog.
        if let Some(handle) = self.handle(&table_id) {
            handle.data.write().deleted = true;
            handle.head_mut().deleted = true;
        }
        Ok(())
    }

    fn end_streams(&mut self, _: At, schema: Arc<TableSchema>) -> Result<()> {
        self.engine.deleted_streams.lock().push(schema);
        Ok(())
    }

    fn write_items(&mut self, _: At, writes: Vec<ItemWrite>) -> Result<()> {
        for write in writes {
            match self
                .data
                .iter_mut()
                .find(|d| *d.schema.id == *write.table_id)
            {
                Some(data) => {
                    if let Err(e) = data.apply_write(write.key, write.item) {
                        self.tear();
                        return Err(e);
                    }
                }
                // Every caller locks the tables it writes (`engine/write.rs`); a table it
                // did not lock would be locked here for this write alone, out of order.
                None => {
                    debug_assert!(false, "a write to table {} it did not lock", write.table_id);
                    if let Some(handle) = self.handle(&write.table_id) {
                        let applied = handle.data.write().apply_write(write.key, write.item);
                        applied.inspect_err(|_| self.tear())?;
                    }
                }
            }
        }
        Ok(())
    }

    fn create_backup(&mut self, at: At, record: Arc<BackupRecord>) -> Result<()> {
        self.backups(|b| b.insert(at.lsn, BackupState::pending(record, at.lsn)));
        Ok(())
    }

    fn delete_backup(&mut self, _: At, arn: String) -> Result<()> {
        self.backups(|b| b.retain(|_, state| state.record.arn != arn));
        Ok(())
    }

    fn restore_table(&mut self, at: At, schema: Arc<TableSchema>, snapshot: String) -> Result<()> {
        let data = match self.restored.take() {
            Some(data) => data,
            // Without the contents in hand, they are the restored file's, as recovery
            // reads them.
            None => match &self.engine.store {
                Some(store) => replay::load_snapshot(&*store.fs, &store.dir, &snapshot)?.1,
                None => TableData::new(Arc::clone(&schema), TableStatus::Active),
            },
        };
        // Its durable history starts with its restore record: the snapshot covers it.
        let handle = TableHandle::new(data, at.lsn);
        self.engine
            .tables
            .write()
            .insert(schema.name.clone(), Arc::new(handle));
        Ok(())
    }

    fn update_table_settings(
        &mut self,
        _: At,
        table_id: Arc<str>,
        settings: Arc<TableSettings>,
    ) -> Result<()> {
        if let Some(handle) = self.handle(&table_id) {
            handle.data.write().settings = settings;
        }
        Ok(())
    }
}
