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
    Catalog, DroppedTable, Retained, SnapshotRef, BACKUP_DIR, CATALOG_FILE, LOCK_FILE,
    SNAPSHOT_DIR, WAL_DIR,
};
use crate::clock::Timestamp;
use crate::codec;
use crate::commit::{Lsn, Mutation};
use crate::error::{Error, Result};
use crate::fs::Vfs;
use crate::replay::{self, LogEnd, Target, Until};
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
    /// Table states running restores read from, by pin id. Kept whatever windows say.
    pins: Mutex<BTreeMap<u64, Pinned>>,
    next_pin: std::sync::atomic::AtomicU64,
    _lock: Box<dyn Any + Send + Sync>,
}

/// A pinned table state: its table, its built LSN (which names it, whatever LSN an
/// unchanged checkpoint moves it to) and the LSN the restore's replay starts after.
type Pinned = (Arc<str>, Lsn, Lsn);

/// Keeps a table state (and the log after it) while a restore reads it; see [`Store::pin`].
pub(crate) struct Pin<'a> {
    store: &'a Store,
    id: u64,
    /// The pinned state.
    pub base: Retained,
}

impl Drop for Pin<'_> {
    fn drop(&mut self) {
        self.store.pins.lock().remove(&self.id);
    }
}

/// The states of a window starting at `start` that are worth keeping, by built LSN: its base
/// (the newest state built at or before `start`), the table's current snapshot, and in
/// between each state once the table's log since the last kept state is at least its size —
/// so the snapshots a window keeps never take more disk than the log it keeps, however often
/// checkpoints run, and a restore never replays more than about a snapshot's worth of log
/// beyond the nearest kept state.
fn thin(states: &[Retained], start: Timestamp) -> BTreeSet<Lsn> {
    let mut states: Vec<&Retained> = states.iter().collect();
    states.sort_by_key(|s| s.built_lsn);
    let base = states
        .iter()
        .rposition(|s| s.serves(Lsn::MAX, Some(start)))
        .unwrap_or(0);
    let mut kept = BTreeSet::new();
    let mut log_since_kept = 0u64;
    for (i, state) in states.iter().enumerate().skip(base) {
        log_since_kept = log_since_kept.saturating_add(state.log_bytes);
        if i == base || i + 1 == states.len() || log_since_kept >= state.size {
            kept.insert(state.built_lsn);
            log_since_kept = 0;
        }
    }
    kept
}

/// A snapshot about to become a table's current one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Installing {
    /// It holds the table's state after every record up to this LSN (built at it).
    pub lsn: Lsn,
    /// The table's log bytes since the state it replaces.
    pub log_bytes: u64,
    /// If the table has no snapshot yet: the LSN just before its creation record.
    pub creation_lsn: Option<Lsn>,
}

/// What the retained table states must serve, besides running restores: the start of each
/// open point-in-time window of a live table, and the last LSN of each pending backup.
#[derive(Debug, Default)]
pub(crate) struct Needs {
    /// Live tables with point-in-time recovery: the window's earliest moment.
    pub windows: BTreeMap<Arc<str>, Timestamp>,
    /// Backups not built yet: their table and the last LSN they hold.
    pub pending: Vec<(Arc<str>, Lsn)>,
    /// The time now (deleted tables' windows close as it moves).
    pub now: Timestamp,
}

/// A recovered table and the LSN its durable history starts after.
#[derive(Debug)]
pub(crate) struct RecoveredTable {
    pub data: TableData,
    /// Where its state comes from: a snapshot or its creation. Its durable history starts
    /// after `base.lsn`.
    pub base: Retained,
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
    /// Tables deleted in the log: the state they were loaded from, to retain, and their
    /// window if they had point-in-time recovery.
    retired: Vec<(Retained, Option<DroppedTable>)>,
    /// See [`Found::min_base`].
    min_base: Option<Lsn>,
    /// Restored tables whose first snapshot is gone — legitimately only if the log deletes
    /// the table later (its deletion removed the file); checked at the end of the replay.
    missing_restores: BTreeMap<Arc<str>, String>,
}

/// What building a table's snapshot came to.
#[derive(Debug)]
pub(crate) enum Checkpoint {
    /// A new snapshot file, and the commit time of the LSN it was built at.
    Built(String, Timestamp),
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
            context: if source.kind() == std::io::ErrorKind::WouldBlock {
                format!(
                    "locking {}: the database is already open (in this or another process)",
                    dir.display()
                )
            } else {
                format!("creating and locking {}", dir.join(LOCK_FILE).display())
            },
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
                    base: snapshot.as_retained(),
                    log_bytes: 0,
                },
            );
        }

        // The log, from its first retained segment.
        let segments = wal::list_segments(&*fs, &wal_dir)?;
        let log_start = segments.first().map_or(1, |&first| first);
        let needy = catalog
            .snapshots
            .iter()
            .map(|s| (&s.table_id, s.lsn))
            .chain(catalog.retained.iter().map(|r| (&r.table_id, r.lsn)))
            .find(|(_, lsn)| lsn + 1 < log_start);
        if let Some((table_id, lsn)) = needy {
            return Err(Error::Corruption(format!(
                "table {table_id} needs the log from LSN {}, but the oldest segment starts at {log_start}",
                lsn + 1
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
            Until::default(),
            |lsn, time, payload| {
                // Item writes older than every table's base change nothing: a long retained
                // log (point-in-time windows) is mostly these, so skip decoding them.
                if Mutation::is_write(payload) && lsn <= found.min_base() {
                    return Ok(());
                }
                let mutation = replay::decode_mutation(lsn, payload)?;
                found.apply(lsn, time, mutation, &catalog, &load)
            },
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
            retired,
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

        let last_time_floor = catalog.last_time;
        let store = Store {
            fs,
            dir: dir.to_owned(),
            db_id: catalog.db_id,
            catalog: Mutex::new(catalog),
            pins: Mutex::new(BTreeMap::new()),
            next_pin: Default::default(),
            _lock: lock,
        };
        store.rewrite_catalog(&tables, restored, &deleted_backups, retired)?;
        store.remove_garbage()?;
        let backups = store.catalog.lock().backups.clone();
        Ok(Recovered {
            store,
            tables: tables.into_values().collect(),
            last_lsn,
            last_time: end.last_time.max(last_time_floor),
            backups,
            pending_backups: pending_backups.into_values().collect(),
        })
    }

    /// Writes a catalog naming exactly the snapshots of the recovered tables (including
    /// restored ones the log found), the backups not deleted, and the states and windows of
    /// tables the log deleted.
    fn rewrite_catalog(
        &self,
        tables: &BTreeMap<Arc<str>, RecoveredTable>,
        restored: Vec<SnapshotRef>,
        deleted_backups: &BTreeSet<String>,
        retired: Vec<(Retained, Option<DroppedTable>)>,
    ) -> Result<()> {
        let mut catalog = self.catalog.lock();
        let mut next = catalog.clone();
        for (state, dropped) in retired {
            next.retained.push(state);
            next.dropped.extend(dropped);
        }
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
            let named = catalog.snapshots.iter().any(|s| s.file == name)
                || catalog
                    .retained
                    .iter()
                    .any(|r| r.file.as_deref() == Some(name.as_str()));
            if !named {
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
            (replay::Built::Deleted, _) => Ok(Checkpoint::Deleted),
            (replay::Built::Unchanged, _) => Ok(Checkpoint::Unchanged),
            // A file is built only from a range that holds records: the last is `upto`.
            (replay::Built::File(name), Some(end)) => Ok(Checkpoint::Built(name, end.last_time)),
            (replay::Built::File(name), None) => Err(Error::Corruption(format!(
                "snapshot {name} was built from an empty range of the log"
            ))),
        }
    }

    /// Makes `checkpoint` the table's snapshot as `at` describes it, unless `still_exists`
    /// says the table was deleted meanwhile. The state it replaces — the previous snapshot,
    /// or the table's creation if it had none — is retained until [`Store::release`] finds
    /// nothing needs it.
    pub fn install_snapshot(
        &self,
        table_id: &Arc<str>,
        checkpoint: Checkpoint,
        at: &Installing,
        still_exists: impl FnOnce() -> bool,
    ) -> Result<bool> {
        let Installing {
            lsn,
            log_bytes,
            creation_lsn,
        } = *at;
        let snapshot_dir = self.dir.join(SNAPSHOT_DIR);
        let mut catalog = self.catalog.lock();
        let current = catalog.snapshot(table_id).cloned();
        let (file, built_lsn, built_time, size, log_bytes) = match checkpoint {
            Checkpoint::Deleted => return Ok(false),
            Checkpoint::Built(file, built_time) => {
                let path = snapshot_dir.join(&file);
                let size = self
                    .fs
                    .open(&path)
                    .and_then(|f| f.len())
                    .map_err(io_error(format!("reading {}", path.display())))?;
                (file, lsn, built_time, size, log_bytes)
            }
            // The same file now covers the log up to `lsn` as well; it holds nothing newer.
            Checkpoint::Unchanged => match &current {
                Some(c) => (
                    c.file.clone(),
                    c.built_lsn,
                    c.built_time,
                    c.size,
                    c.log_bytes,
                ),
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
            built_lsn,
            built_time,
            size,
            log_bytes,
        });
        let replaced = match current {
            Some(current) if current.file != file => Some(current.as_retained()),
            Some(_) => None,
            None => creation_lsn.map(|lsn| creation(table_id, lsn)),
        };
        next.retained.extend(replaced);
        next.store(&*self.fs, &self.dir)?;
        *catalog = next;
        crate::killpoint::reached("snapshot.installed");
        Ok(true)
    }

    /// Retires a deleted table: its current state (its snapshot, or its creation at
    /// `creation_lsn`) becomes a retained one, and `dropped` records its open window.
    /// [`Store::release`] removes what nothing needs.
    pub fn retire_table(
        &self,
        table_id: &Arc<str>,
        creation_lsn: Lsn,
        dropped: Option<DroppedTable>,
    ) -> Result<()> {
        let mut catalog = self.catalog.lock();
        let mut next = catalog.clone();
        let state = match catalog.snapshot(table_id) {
            Some(s) => s.as_retained(),
            None => creation(table_id, creation_lsn),
        };
        next.snapshots.retain(|s| &s.table_id != table_id);
        next.retained.push(state);
        next.dropped.extend(dropped);
        next.store(&*self.fs, &self.dir)?;
        *catalog = next;
        Ok(())
    }

    /// Forgets the retained table states and closed windows nothing needs any more — no
    /// window of `needs` starts before a newer state, no pending backup of `needs` starts
    /// from them, no restore has them pinned — and removes their files.
    pub fn release(&self, needs: &Needs) -> Result<usize> {
        let mut catalog = self.catalog.lock();
        let mut next = catalog.clone();
        // A deleted table's window closes once its start passes the deletion.
        next.dropped.retain(|d| {
            d.schema
                .pitr
                .is_some_and(|p| crate::pitr::window_start(&p, needs.now) <= d.deleted_time)
        });
        let mut windows = needs.windows.clone();
        for d in &next.dropped {
            if let Some(p) = &d.schema.pitr {
                windows.insert(
                    d.schema.id.as_str().into(),
                    crate::pitr::window_start(p, needs.now),
                );
            }
        }
        let pins: Vec<Pinned> = self.pins.lock().values().cloned().collect();
        // Every state of a table, current or retained.
        let states = |t: &str| -> Vec<Retained> {
            next.snapshots
                .iter()
                .filter(|s| &*s.table_id == t)
                .map(SnapshotRef::as_retained)
                .chain(next.retained.iter().filter(|r| &*r.table_id == t).cloned())
                .collect()
        };
        let needed = |r: &Retained| -> bool {
            let others = states(&r.table_id);
            // A newer state that serves a rebuild at (lsn, time) as well makes `r` useless
            // for it.
            let superseded = |lsn: Lsn, time: Option<Timestamp>| {
                others
                    .iter()
                    .any(|o| o.built_lsn > r.built_lsn && o.serves(lsn, time))
            };
            let pinned = pins
                .iter()
                .any(|(t, built, _)| *t == r.table_id && *built == r.built_lsn);
            // The window's base is the newest state from before its start; older ones are
            // superseded by it. Of the newer ones, inside the window, only those worth their
            // disk are kept (see `thin`).
            let window = windows.get(&r.table_id).is_some_and(|&start| {
                !superseded(Lsn::MAX, Some(start)) && thin(&others, start).contains(&r.built_lsn)
            });
            // A pending backup starts from the newest state at or before its last LSN.
            let backup = needs.pending.iter().any(|(t, cut)| {
                *t == r.table_id && r.serves(*cut, None) && !superseded(*cut, None)
            });
            pinned || window || backup
        };
        let (kept, gone): (Vec<Retained>, Vec<Retained>) =
            next.retained.iter().cloned().partition(|r| needed(r));
        next.retained = kept;
        // A state's log bytes count from the state before it: a dropped state's pass to the
        // next one of its table.
        for r in &gone {
            let successor = next
                .snapshots
                .iter_mut()
                .filter(|s| s.table_id == r.table_id)
                .map(|s| (s.built_lsn, &mut s.log_bytes))
                .chain(
                    next.retained
                        .iter_mut()
                        .filter(|o| o.table_id == r.table_id)
                        .map(|o| (o.built_lsn, &mut o.log_bytes)),
                )
                .filter(|(built, _)| *built > r.built_lsn)
                .min_by_key(|(built, _)| *built);
            if let Some((_, log_bytes)) = successor {
                *log_bytes += r.log_bytes;
            }
        }
        if next == *catalog {
            return Ok(0);
        }
        next.store(&*self.fs, &self.dir)?;
        *catalog = next;
        let still_named = |f: &str| {
            catalog.snapshots.iter().any(|s| s.file == f)
                || catalog
                    .retained
                    .iter()
                    .any(|r| r.file.as_deref() == Some(f))
        };
        let files: Vec<String> = gone
            .iter()
            .filter_map(|r| r.file.clone())
            .filter(|f| !still_named(f))
            .collect();
        drop(catalog);
        crate::killpoint::reached("release.before_remove");
        let snapshot_dir = self.dir.join(SNAPSHOT_DIR);
        for file in &files {
            match self.fs.remove_file(&snapshot_dir.join(file)) {
                // Gone already: the log replayed a state whose file an earlier release removed.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                other => other.map_err(io_error(format!("removing {file}")))?,
            }
        }
        if !files.is_empty() {
            self.fs
                .sync_dir(&snapshot_dir)
                .map_err(io_error("syncing the snapshot directory"))?;
        }
        Ok(gone.len())
    }

    /// The LSN after which the states the catalog names and running restores need the whole
    /// log. (A snapshot of a table deleted in the log whose retirement failed is among them:
    /// recovery must still find the deletion after it.)
    pub fn catalog_floor(&self) -> Option<Lsn> {
        let catalog = self.catalog.lock();
        let pins = self.pins.lock();
        catalog
            .snapshots
            .iter()
            .map(|s| s.lsn)
            .chain(catalog.retained.iter().map(|r| r.lsn))
            .chain(pins.values().map(|(_, _, lsn)| *lsn))
            .min()
    }

    /// The newest state of `table_id` (its snapshot or a retained one) at or before LSN
    /// `lsn` whose built time is at or before `time`: where a rebuild of the table at that
    /// point starts. `None` if there is none (a live table with no snapshot starts from its
    /// creation).
    pub fn base_for(&self, table_id: &str, lsn: Lsn, time: Option<Timestamp>) -> Option<Retained> {
        let catalog = self.catalog.lock();
        Self::choose_base(&catalog, table_id, lsn, time)
    }

    fn choose_base(
        catalog: &Catalog,
        table_id: &str,
        lsn: Lsn,
        time: Option<Timestamp>,
    ) -> Option<Retained> {
        catalog
            .snapshots
            .iter()
            .filter(|s| &*s.table_id == table_id)
            .map(SnapshotRef::as_retained)
            .chain(
                catalog
                    .retained
                    .iter()
                    .filter(|r| &*r.table_id == table_id)
                    .cloned(),
            )
            .filter(|r| r.serves(lsn, time))
            .max_by_key(|r| r.built_lsn)
    }

    /// Pins the state [`Store::base_for`] picks (or `fallback` — a live table's creation —
    /// if there is none) so that neither it nor the log after it goes while the pin lives.
    pub fn pin(
        &self,
        table_id: &str,
        lsn: Lsn,
        time: Option<Timestamp>,
        fallback: Option<Retained>,
    ) -> Option<Pin<'_>> {
        let catalog = self.catalog.lock();
        // A table's creation is its start only while it has no other state at all.
        let has_states = catalog.snapshot(table_id).is_some()
            || catalog.retained.iter().any(|r| &*r.table_id == table_id);
        let base =
            Self::choose_base(&catalog, table_id, lsn, time).or(fallback.filter(|_| !has_states))?;
        let id = self
            .next_pin
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.pins.lock().insert(
            id,
            (
                Arc::clone(&base.table_id),
                base.built_lsn,
                base.replay_after(lsn),
            ),
        );
        Some(Pin {
            store: self,
            id,
            base,
        })
    }

    /// The deleted table with an open window named by `table_name`, the latest deleted if
    /// several.
    pub fn dropped_table(&self, table_name: &str) -> Option<DroppedTable> {
        let catalog = self.catalog.lock();
        catalog
            .dropped
            .iter()
            .filter(|d| d.schema.name == table_name)
            .max_by_key(|d| d.deleted_lsn)
            .cloned()
    }

    /// The retained states of `table_id`: how many, and their files' total size.
    pub fn retained_usage(&self, table_id: &str) -> Result<(u64, u64)> {
        let files: Vec<String> = self
            .catalog
            .lock()
            .retained
            .iter()
            .filter(|r| &*r.table_id == table_id)
            .filter_map(|r| r.file.clone())
            .collect();
        let mut bytes = 0;
        for file in &files {
            let path = self.dir.join(SNAPSHOT_DIR).join(file);
            bytes += self
                .fs
                .open(&path)
                .and_then(|f| f.len())
                .map_err(io_error(format!("reading {}", path.display())))?;
        }
        Ok((files.len() as u64, bytes))
    }

    /// The commit time of the record at `lsn`, if the log still holds it.
    pub fn record_time(&self, lsn: Lsn) -> Result<Option<Timestamp>> {
        let segments = wal::list_segments(&*self.fs, &self.dir.join(WAL_DIR))?;
        if lsn == 0 || segments.first().is_none_or(|&first| first > lsn) {
            return Ok(None);
        }
        let (end, _) = replay::read_log(
            &*self.fs,
            &self.dir,
            self.db_id,
            lsn - 1,
            Until::lsn(lsn),
            |_, _, _| Ok(()),
        )?;
        Ok(end.filter(|e| e.last_lsn == lsn).map(|e| e.last_time))
    }

    /// The size of the log segments holding records after `after`.
    pub fn log_bytes_after(&self, after: Lsn) -> Result<u64> {
        let wal_dir = self.dir.join(WAL_DIR);
        let segments = wal::list_segments(&*self.fs, &wal_dir)?;
        let mut bytes = 0;
        for (i, &first) in segments.iter().enumerate() {
            let holds_after = segments.get(i + 1).is_none_or(|&next| next - 1 > after);
            if holds_after {
                let path = wal_dir.join(wal::segment_name(first));
                bytes += self
                    .fs
                    .open(&path)
                    .and_then(|f| f.len())
                    .map_err(io_error(format!("reading {}", path.display())))?;
            }
        }
        Ok(bytes)
    }

    /// Builds the backup `record` with marker `marker` — the writes logged before the
    /// marker — from the newest state of its table before the marker (or, if there is none,
    /// from the log after `creation_lsn`) and the log up to the marker. Writes the file;
    /// changes no catalog.
    pub fn build_backup(
        &self,
        record: &Arc<BackupRecord>,
        marker: Lsn,
        creation_lsn: Lsn,
        progress: &Progress,
    ) -> Result<BackupEntry> {
        let table_id = record.schema.id.as_str();
        let cut = marker - 1;
        let base = self.base_for(table_id, cut, None);
        let (file, after) = match &base {
            Some(r) => (r.file.as_deref(), r.replay_after(cut)),
            None => (None, creation_lsn),
        };
        let meta = |schema: &TableSchema, _: Option<LogEnd>| {
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
            &*self.fs,
            &self.dir,
            self.db_id,
            table_id,
            file,
            after,
            Until::lsn(cut),
            &target,
        )?
        .0
        {
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
    /// never the segment being written (`current`). `last_time` (the last commit time) is
    /// recorded in the catalog first, as the removed records can no longer tell it.
    pub fn truncate_log(&self, floor: Lsn, current: Lsn, last_time: Timestamp) -> Result<usize> {
        let wal_dir = self.dir.join(WAL_DIR);
        let segments = wal::list_segments(&*self.fs, &wal_dir)?;
        let removable = segments
            .windows(2)
            .next()
            .is_some_and(|pair| pair[1] - 1 <= floor && pair[0] < current);
        if removable {
            let mut catalog = self.catalog.lock();
            if catalog.last_time < last_time {
                let mut next = catalog.clone();
                next.last_time = last_time;
                next.store(&*self.fs, &self.dir)?;
                *catalog = next;
            }
        }
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
            crate::killpoint::reached("truncate.removed");
        }
        Ok(removed)
    }
}

/// The empty table just before its creation record at `lsn + 1`: the start of a table
/// with no snapshot.
pub(crate) fn creation(table_id: &Arc<str>, lsn: Lsn) -> Retained {
    Retained {
        table_id: Arc::clone(table_id),
        file: None,
        lsn,
        built_lsn: lsn,
        built_time: Timestamp(0),
        size: 0,
        log_bytes: 0,
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
    /// The smallest base LSN of the tables found so far (cached until a mutation other than
    /// an item write changes the set of tables).
    fn min_base(&mut self) -> Lsn {
        let tables = &self.tables;
        *self.min_base.get_or_insert_with(|| {
            tables
                .values()
                .map(|t| t.base.lsn)
                .min()
                .unwrap_or(Lsn::MAX)
        })
    }

    /// Applies one logged mutation during recovery, to the tables whose snapshots do not
    /// already include it. The same `TableData` methods apply live writes.
    fn apply(
        &mut self,
        lsn: Lsn,
        time: Timestamp,
        mutation: Mutation,
        catalog: &Catalog,
        load: &dyn Fn(&str) -> Result<TableData>,
    ) -> Result<()> {
        if !matches!(mutation, Mutation::Write(_)) {
            self.min_base = None;
        }
        let tables = &mut self.tables;
        match mutation {
            Mutation::CreateTable(schema) => {
                let id: Arc<str> = schema.id.as_str().into();
                tables
                    .entry(Arc::clone(&id))
                    .or_insert_with(|| RecoveredTable {
                        data: TableData::new(schema, TableStatus::Active),
                        base: creation(&id, lsn - 1),
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
                            base: Retained {
                                table_id: Arc::clone(&id),
                                file: Some(snapshot.clone()),
                                lsn,
                                built_lsn: lsn,
                                built_time: time,
                                size: 0,
                                log_bytes: 0,
                            },
                            log_bytes: 0,
                        },
                    );
                    self.restored.push(SnapshotRef {
                        table_id: id,
                        file: snapshot,
                        lsn,
                        built_lsn: lsn,
                        built_time: time,
                        size: 0,
                        log_bytes: 0,
                    });
                }
            }
            Mutation::UpdateTable(schema) => {
                if let Some(table) = tables
                    .get_mut(schema.id.as_str())
                    .filter(|t| lsn > t.base.lsn)
                {
                    table.data.set_schema(schema);
                }
            }
            Mutation::DeleteTable {
                table_id,
                system_backup,
            } => {
                if let Some(record) = system_backup {
                    if !catalog.backups.iter().any(|b| b.record.arn == record.arn) {
                        self.pending_backups.insert(lsn, (lsn, record));
                    }
                }
                if tables.get(&table_id).is_none_or(|t| lsn <= t.base.lsn) {
                    return Ok(());
                }
                let Some(table) = tables.remove(&table_id) else {
                    return Ok(());
                };
                // A table with point-in-time recovery keeps its window after deletion. If the
                // deletion's own catalog update did not happen, retire it now, as
                // `Database::delete_table` does. (Without a window nothing needs its state.)
                let retired = catalog.dropped.iter().any(|d| d.deleted_lsn == lsn);
                if table.data.schema.pitr.is_some() && !retired {
                    self.restored.retain(|r| r.table_id != table_id);
                    let dropped = DroppedTable {
                        schema: Arc::clone(&table.data.schema),
                        deleted_lsn: lsn,
                        deleted_time: time,
                    };
                    self.retired.push((table.base, Some(dropped)));
                }
            }
            Mutation::Write(writes) => {
                for write in writes {
                    // Writes to a table unknown here belong to one deleted before the
                    // retained log begins.
                    if let Some(table) =
                        tables.get_mut(&write.table_id).filter(|t| lsn > t.base.lsn)
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
