//! The files of a database directory: opening (recovery), installing snapshots, dropping the
//! log that no snapshot needs any more, and forgetting deleted tables.
//!
//! Recovery, step by step:
//! 1. take the directory's lock (a second open, by this or another process, fails);
//! 2. read the catalog (or write the first one), and load each table's snapshot;
//! 3. replay the log from its first retained segment, applying to each table only the
//!    records after its snapshot's LSN;
//! 4. cut a torn tail off the last segment — only bytes that never verified are removed,
//!    and nothing is rewritten, so a crash during recovery leaves what the next recovery
//!    needs (the redb 8e04e95b lesson);
//! 5. write a catalog that matches the recovered tables, and remove files no catalog or log
//!    references any more (temp files, snapshots of deleted tables, superseded snapshots).
//!
//! The log then continues in a fresh segment. Log segments are dropped oldest first, one
//! directory sync each, so a crash can never leave a gap in the middle of the log.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::backup::{self, BackupEntry, BackupMeta, BackupRecord};
use crate::catalog::{
    Catalog, SnapshotRef, BACKUP_DIR, CATALOG_FILE, LOCK_FILE, SNAPSHOT_DIR, WAL_DIR,
};
use crate::clock::Timestamp;
use crate::codec;
use crate::commit::{Lsn, Mutation};
use crate::error::{Error, Result};
use crate::fs::Vfs;
use crate::replay::Target;
use crate::replay::{self, LogEnd};
use crate::schema::TableSchema;
use crate::snapshot::{Progress, BACKUP_MAGIC};
use crate::table::TableData;
use crate::tables::TableStatus;
use crate::wal;

fn io_error(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

/// An open database directory.
#[derive(Debug)]
pub(crate) struct Store {
    pub fs: Arc<dyn Vfs>,
    pub dir: PathBuf,
    pub db_id: u64,
    /// The catalog as last written; its lock also serializes snapshot installs.
    catalog: Mutex<Catalog>,
    _lock: Box<dyn Any + Send + Sync>,
}

/// A recovered table and the LSN its durable history starts after.
#[derive(Debug)]
pub(crate) struct RecoveredTable {
    pub data: TableData,
    pub base_lsn: Lsn,
    /// About how many log bytes the table has after its base: its snapshot trigger.
    pub log_bytes: u64,
}

/// Everything recovery found.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub store: Store,
    pub tables: Vec<RecoveredTable>,
    pub last_lsn: Lsn,
    pub last_time: Timestamp,
    /// Built backups.
    pub backups: Vec<BackupEntry>,
    /// Backups requested (in the log) but not built: their marker and record.
    pub pending_backups: Vec<(Lsn, Arc<BackupRecord>)>,
}

/// What replaying the log found, besides the catalog's contents.
#[derive(Default)]
struct Found {
    tables: BTreeMap<Arc<str>, RecoveredTable>,
    /// Snapshots of restored tables the catalog does not name yet.
    restored: Vec<SnapshotRef>,
    /// Requested backups the catalog does not hold, by marker.
    pending_backups: BTreeMap<Lsn, (Lsn, Arc<BackupRecord>)>,
    /// Backups deleted in the log.
    deleted_backups: BTreeSet<String>,
    /// Restored tables whose first snapshot is gone — legitimately only if the log deletes
    /// the table later (its deletion removed the file); checked at the end of the replay.
    missing_restores: BTreeMap<Arc<str>, String>,
}

/// What building a table's snapshot came to.
#[derive(Debug)]
pub(crate) enum Checkpoint {
    /// A new snapshot file.
    Built(String),
    /// The log holds nothing for the table since its snapshot: only the catalog moves on.
    Unchanged,
    /// The table was deleted.
    Deleted,
}

impl Store {
    /// Opens (creating if needed) the database directory `dir` and recovers its tables.
    pub fn open(fs: Arc<dyn Vfs>, dir: &Path) -> Result<Recovered> {
        let wal_dir = dir.join(WAL_DIR);
        let snapshot_dir = dir.join(SNAPSHOT_DIR);
        let backup_dir = dir.join(BACKUP_DIR);
        for d in [dir, &wal_dir, &snapshot_dir, &backup_dir] {
            create_dir_durably(&*fs, d)?;
        }
        let lock = fs.lock(&dir.join(LOCK_FILE)).map_err(|source| Error::Io {
            context: format!(
                "locking {}: the database is already open (in this or another process)",
                dir.display()
            ),
            source,
        })?;
        let catalog = match Catalog::load(&*fs, dir)? {
            Some(catalog) => catalog,
            None => {
                if !wal::list_segments(&*fs, &wal_dir)?.is_empty() {
                    return Err(Error::Corruption(format!(
                        "{} has log segments but no catalog",
                        dir.display()
                    )));
                }
                let catalog = Catalog::new();
                catalog.store(&*fs, dir)?;
                catalog
            }
        };

        // Tables from their snapshots.
        let mut tables: BTreeMap<Arc<str>, RecoveredTable> = BTreeMap::new();
        for snapshot in &catalog.snapshots {
            let (meta, data) = replay::load_snapshot(&*fs, dir, &snapshot.file)?;
            if *meta.table_id != *snapshot.table_id || meta.lsn > snapshot.lsn {
                return Err(Error::Corruption(format!(
                    "snapshot {} is of table {} at LSN {}, the catalog expects table {} at LSN {} or before",
                    snapshot.file, meta.table_id, meta.lsn, snapshot.table_id, snapshot.lsn
                )));
            }
            tables.insert(
                Arc::clone(&snapshot.table_id),
                RecoveredTable {
                    data,
                    base_lsn: snapshot.lsn,
                    log_bytes: 0,
                },
            );
        }

        // The log, from its first retained segment.
        let segments = wal::list_segments(&*fs, &wal_dir)?;
        let log_start = segments.first().map_or(1, |&first| first);
        if let Some(needy) = catalog.snapshots.iter().find(|s| s.lsn + 1 < log_start) {
            return Err(Error::Corruption(format!(
                "table {} needs the log from LSN {}, but the oldest segment starts at {log_start}",
                needy.table_id,
                needy.lsn + 1
            )));
        }
        let mut found = Found {
            tables,
            ..Found::default()
        };
        let load = |file: &str| replay::load_snapshot(&*fs, dir, file).map(|(_, data)| data);
        let (end, torn) = replay::read_log(
            &*fs,
            dir,
            catalog.db_id,
            log_start - 1,
            None,
            |lsn, _, mutation| found.apply(lsn, mutation, &catalog, &load),
        )?;
        if let Some((id, file)) = found
            .missing_restores
            .iter()
            .find(|(id, _)| found.tables.contains_key(*id))
        {
            return Err(Error::Corruption(format!(
                "restored table {id} lost its first snapshot {file}, which the log still needs"
            )));
        }
        let Found {
            tables,
            restored,
            pending_backups,
            deleted_backups,
            ..
        } = found;
        if let Some(torn) = torn {
            let path = wal_dir.join(wal::segment_name(torn.segment));
            let context = format!("cutting the torn tail of {}", path.display());
            if torn.valid_len == 0 {
                fs.remove_file(&path).map_err(io_error(context.clone()))?;
                fs.sync_dir(&wal_dir).map_err(io_error(context))?;
            } else {
                let mut file = fs.open(&path).map_err(io_error(context.clone()))?;
                file.set_len(torn.valid_len)
                    .map_err(io_error(context.clone()))?;
                file.sync_all().map_err(io_error(context))?;
            }
        }
        let snapshot_max = catalog.snapshots.iter().map(|s| s.lsn).max().unwrap_or(0);
        let end = end.unwrap_or(LogEnd {
            last_lsn: 0,
            last_time: Timestamp(0),
        });
        let last_lsn = end.last_lsn.max(snapshot_max).max(log_start - 1);

        let store = Store {
            fs,
            dir: dir.to_owned(),
            db_id: catalog.db_id,
            catalog: Mutex::new(catalog),
            _lock: lock,
        };
        store.rewrite_catalog(&tables, restored, &deleted_backups)?;
        store.remove_garbage()?;
        let backups = store.catalog.lock().backups.clone();
        Ok(Recovered {
            store,
            tables: tables.into_values().collect(),
            last_lsn,
            last_time: end.last_time,
            backups,
            pending_backups: pending_backups.into_values().collect(),
        })
    }

    /// Writes a catalog naming exactly the snapshots of the recovered tables (including
    /// restored ones the log found) and the backups not deleted.
    fn rewrite_catalog(
        &self,
        tables: &BTreeMap<Arc<str>, RecoveredTable>,
        restored: Vec<SnapshotRef>,
        deleted_backups: &BTreeSet<String>,
    ) -> Result<()> {
        let mut catalog = self.catalog.lock();
        let mut next = catalog.clone();
        next.snapshots.retain(|s| tables.contains_key(&s.table_id));
        next.snapshots.extend(
            restored
                .into_iter()
                .filter(|r| tables.contains_key(&r.table_id)),
        );
        next.backups
            .retain(|b| !deleted_backups.contains(&b.record.arn));
        if next != *catalog {
            next.store(&*self.fs, &self.dir)?;
            *catalog = next;
        }
        Ok(())
    }

    /// Removes snapshot files the catalog does not name, and temp files.
    fn remove_garbage(&self) -> Result<()> {
        let snapshot_dir = self.dir.join(SNAPSHOT_DIR);
        let names = self
            .fs
            .read_dir(&snapshot_dir)
            .map_err(io_error("listing snapshots"))?;
        let catalog = self.catalog.lock();
        let mut removed = false;
        for name in names {
            if !catalog.snapshots.iter().any(|s| s.file == name) {
                self.fs
                    .remove_file(&snapshot_dir.join(&name))
                    .map_err(io_error(format!("removing {name}")))?;
                removed = true;
            }
        }
        if removed {
            self.fs
                .sync_dir(&snapshot_dir)
                .map_err(io_error("syncing the snapshot directory"))?;
        }
        // Backup files the catalog does not name: deleted backups, and half-written files of
        // builds a crash interrupted (the build starts again; such a file is never AVAILABLE).
        let backup_dir = self.dir.join(BACKUP_DIR);
        for name in self
            .fs
            .read_dir(&backup_dir)
            .map_err(io_error("listing backups"))?
        {
            if !catalog.backups.iter().any(|b| b.file == name) {
                self.fs
                    .remove_file(&backup_dir.join(&name))
                    .map_err(io_error(format!("removing {name}")))?;
            }
        }
        let tmp = self.dir.join(format!("{CATALOG_FILE}.tmp"));
        if self
            .fs
            .exists(&tmp)
            .map_err(io_error("checking for a catalog temp file"))?
        {
            self.fs
                .remove_file(&tmp)
                .map_err(io_error("removing the catalog temp file"))?;
        }
        Ok(())
    }

    /// Builds the snapshot of `table_id` at `upto` (a durable LSN) from its current one and
    /// the log. Writes a file; changes no catalog.
    /// `base_lsn` is where the table's durable history starts: its snapshot's LSN, or the LSN
    /// before its creation if it has none.
    pub fn build_snapshot(&self, table_id: &str, base_lsn: Lsn, upto: Lsn) -> Result<Checkpoint> {
        let base = self.catalog.lock().snapshot(table_id).cloned();
        let (file, after) = match &base {
            Some(s) => (Some(s.file.as_str()), s.lsn),
            None => (None, base_lsn),
        };
        match replay::build_snapshot(
            &*self.fs, &self.dir, self.db_id, table_id, file, after, upto,
        )? {
            replay::Built::Deleted => Ok(Checkpoint::Deleted),
            replay::Built::Unchanged => Ok(Checkpoint::Unchanged),
            replay::Built::File(name) => Ok(Checkpoint::Built(name)),
        }
    }

    /// Makes `checkpoint` the table's snapshot at `lsn`, unless `still_exists` says the table
    /// was deleted meanwhile; removes the snapshot it replaces.
    pub fn install_snapshot(
        &self,
        table_id: &Arc<str>,
        checkpoint: Checkpoint,
        lsn: Lsn,
        still_exists: impl FnOnce() -> bool,
    ) -> Result<bool> {
        let snapshot_dir = self.dir.join(SNAPSHOT_DIR);
        let mut catalog = self.catalog.lock();
        let file = match checkpoint {
            Checkpoint::Deleted => return Ok(false),
            Checkpoint::Built(file) => file,
            Checkpoint::Unchanged => match catalog.snapshot(table_id) {
                Some(current) => current.file.clone(),
                // A table with no snapshot has its creation record in the log.
                None => return Ok(false),
            },
        };
        if !still_exists() {
            drop(catalog);
            self.fs
                .remove_file(&snapshot_dir.join(&file))
                .map_err(io_error(format!("removing {file}")))?;
            return Ok(false);
        }
        let mut next = catalog.clone();
        next.snapshots.retain(|s| &s.table_id != table_id);
        next.snapshots.push(SnapshotRef {
            table_id: Arc::clone(table_id),
            file: file.clone(),
            lsn,
        });
        next.store(&*self.fs, &self.dir)?;
        let replaced = catalog
            .snapshot(table_id)
            .map(|s| s.file.clone())
            .filter(|old| *old != file);
        *catalog = next;
        drop(catalog);
        if let Some(old) = replaced {
            self.fs
                .remove_file(&snapshot_dir.join(&old))
                .map_err(io_error(format!("removing {old}")))?;
        }
        Ok(true)
    }

    /// Forgets a deleted table: its snapshot leaves the catalog and the disk.
    pub fn forget_table(&self, table_id: &str) -> Result<()> {
        let mut catalog = self.catalog.lock();
        let Some(snapshot) = catalog.snapshot(table_id).cloned() else {
            return Ok(());
        };
        let mut next = catalog.clone();
        next.snapshots.retain(|s| &*s.table_id != table_id);
        next.store(&*self.fs, &self.dir)?;
        *catalog = next;
        drop(catalog);
        let path = self.dir.join(SNAPSHOT_DIR).join(&snapshot.file);
        self.fs
            .remove_file(&path)
            .map_err(io_error(format!("removing {}", path.display())))
    }

    /// Builds the backup `record` with marker `marker` from its table's snapshot (or, if it
    /// has none, from the log after `base_lsn`) and the log up to the marker. Writes the
    /// file; changes no catalog.
    pub fn build_backup(
        &self,
        record: &Arc<BackupRecord>,
        marker: Lsn,
        base_lsn: Lsn,
        progress: &Progress,
    ) -> Result<BackupEntry> {
        let table_id = record.schema.id.as_str();
        let base = self.catalog.lock().snapshot(table_id).cloned();
        let (file, after) = match &base {
            Some(s) if s.lsn <= marker => (Some(s.file.as_str()), s.lsn),
            Some(s) => {
                return Err(Error::Corruption(format!(
                "backup {}: the table's snapshot is at LSN {}, past the backup's marker {marker}",
                record.arn, s.lsn
            )))
            }
            None => (None, base_lsn),
        };
        let meta = |schema: &TableSchema| {
            codec::encode(&BackupMeta {
                record: (**record).clone(),
                marker,
                schema: schema.clone(),
            })
        };
        let name = backup::file_name(&record.arn);
        let target = Target {
            dir: self.dir.join(BACKUP_DIR),
            name: name.clone(),
            magic: BACKUP_MAGIC,
            meta: &meta,
            always: true,
            progress: Some(progress),
        };
        match replay::build_table_file(
            &*self.fs, &self.dir, self.db_id, table_id, file, after, marker, &target,
        )? {
            replay::Built::File(_) => {}
            other => {
                return Err(Error::Corruption(format!(
                    "backup {}: the table's log up to the marker says {other:?}",
                    record.arn
                )))
            }
        }
        let path = self.dir.join(BACKUP_DIR).join(&name);
        let size = self
            .fs
            .open(&path)
            .and_then(|f| f.len())
            .map_err(io_error(format!("reading {}", path.display())))?;
        use std::sync::atomic::Ordering::Relaxed;
        Ok(BackupEntry {
            record: Arc::clone(record),
            marker,
            file: name,
            size,
            items: progress.items.load(Relaxed),
            item_bytes: progress.item_bytes.load(Relaxed),
        })
    }

    /// Records a built backup in the catalog: from now on it is AVAILABLE, also after a crash.
    pub fn install_backup(&self, entry: BackupEntry) -> Result<()> {
        let mut catalog = self.catalog.lock();
        let mut next = catalog.clone();
        next.backups.retain(|b| b.record.arn != entry.record.arn);
        next.backups.push(entry);
        next.backups.sort_by_key(|b| b.marker);
        next.store(&*self.fs, &self.dir)?;
        *catalog = next;
        Ok(())
    }

    /// Forgets a deleted backup: it leaves the catalog, then the disk.
    pub fn forget_backup(&self, arn: &str) -> Result<()> {
        let mut catalog = self.catalog.lock();
        let Some(entry) = catalog
            .backups
            .iter()
            .find(|b| b.record.arn == arn)
            .cloned()
        else {
            return Ok(());
        };
        let mut next = catalog.clone();
        next.backups.retain(|b| b.record.arn != arn);
        next.store(&*self.fs, &self.dir)?;
        *catalog = next;
        drop(catalog);
        let path = self.dir.join(BACKUP_DIR).join(&entry.file);
        self.fs
            .remove_file(&path)
            .map_err(io_error(format!("removing {}", path.display())))
    }

    /// Removes the log segments whose records are all at or below `floor`, oldest first,
    /// never the segment being written (`current`).
    pub fn truncate_log(&self, floor: Lsn, current: Lsn) -> Result<usize> {
        let wal_dir = self.dir.join(WAL_DIR);
        let segments = wal::list_segments(&*self.fs, &wal_dir)?;
        let mut removed = 0;
        for pair in segments.windows(2) {
            let (first, next) = (pair[0], pair[1]);
            if next - 1 > floor || first >= current {
                break;
            }
            self.fs
                .remove_file(&wal_dir.join(wal::segment_name(first)))
                .map_err(io_error("removing a log segment"))?;
            // IMPORTANT: one directory sync per removal, oldest first: a crash may undo the
            // newest removals but never leave an old segment without its successor.
            self.fs
                .sync_dir(&wal_dir)
                .map_err(io_error("syncing the log directory"))?;
            removed += 1;
        }
        Ok(removed)
    }
}

/// Creates `dir` and any missing parents, and syncs the parent of each one created: a new
/// directory's entry is not durable until its parent is synced.
fn create_dir_durably(fs: &dyn Vfs, dir: &Path) -> Result<()> {
    let context = || format!("creating {}", dir.display());
    let mut missing = Vec::new();
    for ancestor in dir.ancestors().filter(|a| !a.as_os_str().is_empty()) {
        if fs.exists(ancestor).map_err(io_error(context()))? {
            break;
        }
        missing.push(ancestor);
    }
    fs.create_dir_all(dir).map_err(io_error(context()))?;
    for created in missing.into_iter().rev() {
        let parent = match created.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        // IMPORTANT: sync the parent, or the new directory may vanish in a crash along with
        // everything acknowledged inside it.
        fs.sync_dir(parent).map_err(io_error(context()))?;
    }
    Ok(())
}

impl Found {
    /// Applies one logged mutation during recovery, to the tables whose snapshots do not
    /// already include it. The same `TableData` methods apply live writes.
    fn apply(
        &mut self,
        lsn: Lsn,
        mutation: Mutation,
        catalog: &Catalog,
        load: &dyn Fn(&str) -> Result<TableData>,
    ) -> Result<()> {
        let tables = &mut self.tables;
        match mutation {
            Mutation::CreateTable(schema) => {
                let id: Arc<str> = schema.id.as_str().into();
                tables.entry(id).or_insert_with(|| RecoveredTable {
                    data: TableData::new(schema, TableStatus::Active),
                    base_lsn: lsn - 1,
                    log_bytes: 0,
                });
            }
            Mutation::RestoreTable { schema, snapshot } => {
                let id: Arc<str> = schema.id.as_str().into();
                if !tables.contains_key(&id) {
                    let data = match load(&snapshot) {
                        Ok(data) => data,
                        Err(Error::Io { source, .. })
                            if source.kind() == std::io::ErrorKind::NotFound =>
                        {
                            self.missing_restores
                                .insert(Arc::clone(&id), snapshot.clone());
                            TableData::new(Arc::clone(&schema), TableStatus::Active)
                        }
                        Err(e) => return Err(e),
                    };
                    tables.insert(
                        Arc::clone(&id),
                        RecoveredTable {
                            data,
                            base_lsn: lsn,
                            log_bytes: 0,
                        },
                    );
                    self.restored.push(SnapshotRef {
                        table_id: id,
                        file: snapshot,
                        lsn,
                    });
                }
            }
            Mutation::UpdateTable(schema) => {
                if let Some(table) = tables
                    .get_mut(schema.id.as_str())
                    .filter(|t| lsn > t.base_lsn)
                {
                    table.data.set_schema(schema);
                }
            }
            Mutation::DeleteTable { table_id } => {
                if tables.get(&table_id).is_some_and(|t| lsn > t.base_lsn) {
                    tables.remove(&table_id);
                }
            }
            Mutation::Write(writes) => {
                for write in writes {
                    // Writes to a table unknown here belong to one deleted before the
                    // retained log begins.
                    if let Some(table) =
                        tables.get_mut(&write.table_id).filter(|t| lsn > t.base_lsn)
                    {
                        table.data.apply_write(&write.key, write.item);
                    }
                }
            }
            Mutation::CreateBackup(record) => {
                if !catalog.backups.iter().any(|b| b.record.arn == record.arn) {
                    self.pending_backups.insert(lsn, (lsn, record));
                }
            }
            Mutation::DeleteBackup { arn } => {
                self.pending_backups.retain(|_, (_, r)| r.arn != arn);
                self.deleted_backups.insert(arn);
            }
        }
        Ok(())
    }
}
