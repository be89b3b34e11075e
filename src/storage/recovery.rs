//! The files of a database directory: opening (recovery), installing snapshots, dropping the
//! log that no snapshot needs any more, and forgetting deleted tables.
//!
//! Recovery, step by step:
//! 1. take the directory's lock (a second open, by this or another process, fails);
//! 2. read the catalog (or, for a new database, create its first log segment and then write
//!    the first catalog), and load each table's snapshot;
//! 3. replay the log from its first segment (the one the catalog names), applying to each
//!    table only the records after its snapshot's LSN;
//! 4. check that every segment the log names is there — a missing or emptied one is
//!    corruption, never a database without its writes (`storage/tail.rs`);
//! 5. cut a torn tail off the last segment — only bytes that never verified are removed,
//!    and nothing is rewritten, so a crash during recovery leaves what the next recovery
//!    needs (the redb 8e04e95b lesson) — and make sure of the fresh segment the log
//!    continues in, sealing the one before it;
//! 6. write a catalog that matches the recovered tables, and remove files no catalog or log
//!    references any more (temp files, snapshots of deleted tables, superseded snapshots).
//!
//! Log segments are dropped oldest first, one directory sync each, after the catalog names
//! the new first one, so a crash can never leave a gap in the middle of the log.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::api::tables::TableStatus;
use crate::error::{io_error, Error, Result};
use crate::format::backup::{BackupEntry, BackupRecord};
use crate::format::catalog::{
    Catalog, DroppedTable, Retained, SnapshotRef, BACKUP_DIR, CATALOG_FILE, LOCK_FILE,
    SNAPSHOT_DIR, WAL_DIR,
};
use crate::format::log_segment;
use crate::format::mutation::{ItemWrite, Mutation, MAX_TOKENS, TOKEN_WINDOW_MS};
use crate::fs::{EntryKind, Vfs};
use crate::model::clock::Timestamp;
use crate::model::schema::TableSchema;
use crate::model::settings::TableSettings;
use crate::model::Lsn;
use crate::state::apply::{apply, Apply, At};
use crate::state::table::TableData;
use crate::storage::replay::{self, LogEnd, Until};
use crate::storage::store::{creation, Store};
use crate::storage::tail;
use crate::storage::wal::create_segment;

/// A recovered table and the LSN its durable history starts after.
#[derive(Debug)]
pub(crate) struct RecoveredTable {
    pub data: TableData,
    /// Where its state comes from: a snapshot or its creation. Its durable history starts
    /// after `base.lsn`.
    pub base: Retained,
    /// About how many log bytes the table has after its base: its snapshot trigger.
    pub log_bytes: u64,
    /// Whether the log after its base held a change of it: its snapshot does not hold all
    /// of it, so a clean close must write one even with no write since the open.
    pub replayed: bool,
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
    /// The `ClientRequestToken`s of the transactions of the last 10 minutes of log time
    /// ([`TOKEN_WINDOW_MS`], at most [`MAX_TOKENS`]), in log order.
    pub tokens: VecDeque<LoggedToken>,
    /// The schemas of tables the log deletes that had streams (`Mutation::DeleteStreamedTable`),
    /// their streams ended: readable while young enough (the engine decides).
    pub deleted_streams: Vec<Arc<TableSchema>>,
}

/// A `ClientRequestToken` as the log holds it ([`Mutation::TokenWrite`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LoggedToken {
    pub token: String,
    /// The fingerprint of the transaction's parameters.
    pub fingerprint: u64,
    /// The transaction's commit time and record.
    pub at: Timestamp,
    pub lsn: Lsn,
}

/// What replaying the log found, besides the catalog's contents.
struct Found<'a> {
    /// The catalog recovery started from.
    catalog: &'a Catalog,
    /// Loads a restored table's first snapshot.
    load: &'a dyn Fn(&str) -> Result<TableData>,
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
    /// See [`Recovered::tokens`].
    tokens: VecDeque<LoggedToken>,
    /// See [`Recovered::deleted_streams`].
    deleted_streams: Vec<Arc<TableSchema>>,
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
        make_durable_what_a_crash_left(&*fs, dir)?;
        let catalog = match Catalog::load(&*fs, dir)? {
            Some(catalog) => catalog,
            None => create_database(&*fs, dir)?,
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
                    replayed: false,
                },
            );
        }

        // The log, from the segment the catalog says recovery reads it from: its first (a
        // catalog of version 3 or older names none: then the oldest there is), or a later one
        // when the log before it is kept only for streams, which read it themselves
        // (`Catalog::replay_start`). Older ones are left over from a truncation a crash cut
        // short.
        let segments = log_segment::list_segments(&*fs, &wal_dir)?;
        let named_start = Some(catalog.replay_from()).filter(|&start| start > 0);
        let log_start = match named_start {
            Some(start) if segments.binary_search(&start).is_err() => {
                return Err(Error::Corruption(format!(
                    "log segment {} is missing: the catalog says the log starts there",
                    wal_dir.join(log_segment::segment_name(start)).display()
                )))
            }
            Some(start) => start,
            None => segments.first().map_or(1, |&first| first),
        };
        sync_log_read(&*fs, &wal_dir, &segments, log_start)?;
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
        let load = |file: &str| replay::load_snapshot(&*fs, dir, file).map(|(_, data)| data);
        let mut found = Found {
            catalog: &catalog,
            load: &load,
            tables,
            restored: Vec::new(),
            pending_backups: BTreeMap::new(),
            deleted_backups: BTreeSet::new(),
            retired: Vec::new(),
            min_base: None,
            missing_restores: BTreeMap::new(),
            tokens: VecDeque::new(),
            deleted_streams: Vec::new(),
        };
        let (end, read) = replay::read_log(
            &*fs,
            dir,
            catalog.db_id,
            log_start - 1,
            Until::default(),
            |lsn, time, payload| {
                match Mutation::token(payload) {
                    Some(Some((token, fingerprint))) => found.remember(LoggedToken {
                        token: token.to_owned(),
                        fingerprint,
                        at: time,
                        lsn,
                    }),
                    // The full decode says what is wrong.
                    Some(None) => drop(replay::decode_mutation(lsn, payload)?),
                    None => {}
                }
                // Item writes older than every table's base change nothing: a long retained
                // log (point-in-time windows) is mostly these, so skip decoding them.
                if Mutation::is_write(payload) && lsn <= found.min_base() {
                    return Ok(());
                }
                let mutation = replay::decode_mutation(lsn, payload)?;
                apply(At { lsn, time }, mutation, &mut found)
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
            tokens,
            deleted_streams,
            ..
        } = found;
        tail::check(&read, named_start, &wal_dir)?;
        let last_lsn = end.map_or(0, |e| e.last_lsn).max(log_start - 1);
        tail::check_snapshots(&catalog, last_lsn)?;
        let log_start = tail::continue_log(&*fs, &wal_dir, catalog.db_id, &read, last_lsn + 1)?;
        let end = end.unwrap_or(LogEnd {
            last_lsn: 0,
            last_time: Timestamp(0),
            prior_time: None,
        });

        let last_time_floor = catalog.last_time;
        let store = Store {
            fs,
            dir: dir.to_owned(),
            db_id: catalog.db_id,
            catalog: Mutex::new(catalog),
            pins: Mutex::new(BTreeMap::new()),
            next_pin: Default::default(),
            throttle: Arc::default(),
            digests: Mutex::default(),
            _lock: lock,
        };
        store.rewrite_catalog(&tables, restored, &deleted_backups, retired, log_start)?;
        store.remove_garbage()?;
        let backups = store.catalog.lock().backups.clone();
        Ok(Recovered {
            store,
            tables: tables.into_values().collect(),
            last_lsn,
            last_time: end.last_time.max(last_time_floor),
            backups,
            pending_backups: pending_backups.into_values().collect(),
            tokens,
            deleted_streams,
        })
    }

    /// Writes a catalog naming exactly the snapshots of the recovered tables (including
    /// restored ones the log found), the backups not deleted, the states and windows of
    /// tables the log deleted, and where the log starts (if an older catalog did not say).
    fn rewrite_catalog(
        &self,
        tables: &BTreeMap<Arc<str>, RecoveredTable>,
        restored: Vec<SnapshotRef>,
        deleted_backups: &BTreeSet<String>,
        retired: Vec<(Retained, Option<DroppedTable>)>,
        log_start: Lsn,
    ) -> Result<()> {
        self.update_catalog(|next| {
            if next.log_start == 0 {
                next.log_start = log_start;
            }
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
            Ok(())
        })
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
}

/// The catalog of a new database in `dir`, stored after the database's first log segment
/// exists durably: a catalog never names a segment a crash could take away. Log segments
/// holding nothing (no record was ever written without a catalog) are a creation a crash
/// cut short, and start over; anything else without a catalog is corruption.
/// Syncs the catalog and the database's directory (and that directory's own entry), before
/// recovery reads them; [`sync_log_read`] does the same for the log's segments. A process
/// that died left in the OS's cache what it had not synced yet: a seal, a segment's header,
/// records, a catalog renamed into place, the directory it was creating. Recovery reads that
/// and builds on it (a segment it continues in, a seal it does not write again, writes it
/// acknowledges after), so a power loss after the open must not take it away. PostgreSQL
/// syncs its data directory before crash recovery for this reason (`SyncDataDirectory`).
/// Syncing files with nothing dirty costs little. Snapshots need none: the catalog names a
/// snapshot only after its file and name are durable.
fn make_durable_what_a_crash_left(fs: &dyn Vfs, dir: &Path) -> Result<()> {
    sync_files(fs, dir, &[CATALOG_FILE])?;
    // The database directory's own entry, which a process that died creating it may not
    // have synced (`create_dir_durably` syncs it only when it creates it).
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs.sync_dir(parent)
        .map_err(io_error(format!("syncing {}", parent.display())))
}

/// [`make_durable_what_a_crash_left`] for the log's segments recovery reads (`from` on):
/// only the last two can hold what was not synced, but which those are is what recovery is
/// about to find out. Older ones, kept only for streams, are sealed and durable.
fn sync_log_read(fs: &dyn Vfs, wal_dir: &Path, segments: &[Lsn], from: Lsn) -> Result<()> {
    let names: Vec<String> = segments
        .iter()
        .filter(|&&first| first >= from)
        .map(|&first| log_segment::segment_name(first))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    sync_files(fs, wal_dir, &names)
}

/// Syncs the files `names` in `dir` that exist, then `dir`.
fn sync_files(fs: &dyn Vfs, dir: &Path, names: &[&str]) -> Result<()> {
    let context = || format!("syncing what a crash left in {}", dir.display());
    for name in names {
        let path = dir.join(name);
        if fs.entry_kind(&path).map_err(io_error(context()))? != Some(EntryKind::File) {
            continue;
        }
        let mut file = fs.open(&path).map_err(io_error(context()))?;
        file.sync_all().map_err(io_error(context()))?;
    }
    fs.sync_dir(dir).map_err(io_error(context()))
}

fn create_database(fs: &dyn Vfs, dir: &Path) -> Result<Catalog> {
    let wal_dir = dir.join(WAL_DIR);
    let catalog = Catalog::new();
    for first in log_segment::list_segments(fs, &wal_dir)? {
        let path = wal_dir.join(log_segment::segment_name(first));
        let len = fs
            .open(&path)
            .and_then(|f| f.len())
            .map_err(io_error(format!("reading {}", path.display())))?;
        if first != catalog.log_start || len > log_segment::SEGMENT_HEADER_LEN as u64 {
            return Err(Error::Corruption(format!(
                "{} has log segments but no catalog",
                dir.display()
            )));
        }
    }
    create_segment(fs, &wal_dir, catalog.log_start, catalog.db_id)
        .map_err(io_error("creating the first log segment"))?;
    catalog.store(fs, dir)?;
    Ok(catalog)
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

impl Found<'_> {
    /// Remembers a logged token, forgetting those a window older than it (the log's commit
    /// times never go backwards) and the oldest beyond [`MAX_TOKENS`].
    fn remember(&mut self, token: LoggedToken) {
        let old = |t: &LoggedToken| t.at.0.saturating_add(TOKEN_WINDOW_MS) <= token.at.0;
        while self.tokens.front().is_some_and(old) || self.tokens.len() >= MAX_TOKENS {
            self.tokens.pop_front();
        }
        self.tokens.push_back(token);
    }

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
}

/// Recovery applies each logged change to the tables whose snapshots do not already include
/// it; the same `TableData` methods apply live writes.
impl Apply for Found<'_> {
    fn create_table(
        &mut self,
        at: At,
        schema: Arc<TableSchema>,
        settings: Arc<TableSettings>,
    ) -> Result<()> {
        self.min_base = None;
        let id: Arc<str> = schema.id.as_str().into();
        self.tables
            .entry(Arc::clone(&id))
            .or_insert_with(|| RecoveredTable {
                data: TableData {
                    settings,
                    ..TableData::new(schema, TableStatus::Active)
                },
                base: creation(&id, at.lsn - 1),
                log_bytes: 0,
                replayed: false,
            });
        Ok(())
    }

    fn update_table(&mut self, at: At, schema: Arc<TableSchema>) -> Result<()> {
        self.min_base = None;
        if let Some(table) = self
            .tables
            .get_mut(schema.id.as_str())
            .filter(|t| at.lsn > t.base.lsn)
        {
            table.data.set_schema(schema)?;
            table.replayed = true;
        }
        Ok(())
    }

    fn delete_table(
        &mut self,
        at: At,
        table_id: Arc<str>,
        system_backup: Option<Arc<BackupRecord>>,
    ) -> Result<()> {
        self.min_base = None;
        let lsn = at.lsn;
        if let Some(record) = system_backup {
            if !self
                .catalog
                .backups
                .iter()
                .any(|b| b.record.arn == record.arn)
            {
                self.pending_backups.insert(lsn, (lsn, record));
            }
        }
        if self.tables.get(&table_id).is_none_or(|t| lsn <= t.base.lsn) {
            return Ok(());
        }
        let Some(table) = self.tables.remove(&table_id) else {
            return Ok(());
        };
        // A table with point-in-time recovery keeps its window after deletion. If the
        // deletion's own catalog update did not happen, retire it now, as
        // `Database::delete_table` does. (Without a window nothing needs its state.)
        let retired = self.catalog.dropped.iter().any(|d| d.deleted_lsn == lsn);
        if table.data.schema.pitr.is_some() && !retired {
            self.restored.retain(|r| r.table_id != table_id);
            let dropped = DroppedTable {
                schema: Arc::clone(&table.data.schema),
                deleted_lsn: lsn,
                deleted_time: at.time,
            };
            self.retired.push((table.base, Some(dropped)));
        }
        Ok(())
    }

    fn end_streams(&mut self, _: At, schema: Arc<TableSchema>) -> Result<()> {
        self.deleted_streams.push(schema);
        Ok(())
    }

    fn write_items(&mut self, at: At, writes: Vec<ItemWrite>) -> Result<()> {
        for write in writes {
            // Writes to a table unknown here belong to one deleted before the retained log
            // begins.
            if let Some(table) = self
                .tables
                .get_mut(&write.table_id)
                .filter(|t| at.lsn > t.base.lsn)
            {
                table.data.apply_write(write.key, write.item)?;
                table.replayed = true;
            }
        }
        Ok(())
    }

    fn create_backup(&mut self, at: At, record: Arc<BackupRecord>) -> Result<()> {
        self.min_base = None;
        if !self
            .catalog
            .backups
            .iter()
            .any(|b| b.record.arn == record.arn)
        {
            self.pending_backups.insert(at.lsn, (at.lsn, record));
        }
        Ok(())
    }

    fn delete_backup(&mut self, _at: At, arn: String) -> Result<()> {
        self.min_base = None;
        self.pending_backups.retain(|_, (_, r)| r.arn != arn);
        self.deleted_backups.insert(arn);
        Ok(())
    }

    fn restore_table(&mut self, at: At, schema: Arc<TableSchema>, snapshot: String) -> Result<()> {
        self.min_base = None;
        let (lsn, time) = (at.lsn, at.time);
        let id: Arc<str> = schema.id.as_str().into();
        if self.tables.contains_key(&id) {
            return Ok(());
        }
        let data = match (self.load)(&snapshot) {
            Ok(data) => data,
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                self.missing_restores
                    .insert(Arc::clone(&id), snapshot.clone());
                TableData::new(Arc::clone(&schema), TableStatus::Active)
            }
            Err(e) => return Err(e),
        };
        self.tables.insert(
            Arc::clone(&id),
            RecoveredTable {
                data,
                base: Retained {
                    table_id: Arc::clone(&id),
                    file: Some(snapshot.clone()),
                    lsn,
                    built_lsn: lsn,
                    built_time: time,
                    // Not at hand: errs on the side of keeping more.
                    prior_time: time,
                    size: 0,
                    log_bytes: 0,
                },
                log_bytes: 0,
                replayed: false,
            },
        );
        self.restored.push(SnapshotRef {
            table_id: id,
            file: snapshot,
            lsn,
            built_lsn: lsn,
            built_time: time,
            prior_time: time,
            size: 0,
            log_bytes: 0,
        });
        Ok(())
    }

    fn update_table_settings(
        &mut self,
        at: At,
        table_id: Arc<str>,
        settings: Arc<TableSettings>,
    ) -> Result<()> {
        if let Some(table) = self
            .tables
            .get_mut(&table_id)
            .filter(|t| at.lsn > t.base.lsn)
        {
            table.data.settings = settings;
            table.replayed = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_keeps_the_tokens_of_the_last_ten_minutes_of_log_time_and_at_most_the_bound() {
        let catalog = Catalog::new();
        let load = |_: &str| -> Result<TableData> { unreachable!("no restored table") };
        let mut found = Found {
            catalog: &catalog,
            load: &load,
            tables: BTreeMap::new(),
            restored: Vec::new(),
            pending_backups: BTreeMap::new(),
            deleted_backups: BTreeSet::new(),
            retired: Vec::new(),
            min_base: None,
            missing_restores: BTreeMap::new(),
            tokens: VecDeque::new(),
            deleted_streams: Vec::new(),
        };
        let token = |name: &str, at: u64, lsn: Lsn| LoggedToken {
            token: name.into(),
            fingerprint: 1,
            at: Timestamp(at),
            lsn,
        };
        found.remember(token("a", 1_000, 1));
        found.remember(token("b", 1_001, 2));
        found.remember(token("c", 1_000 + TOKEN_WINDOW_MS, 3));
        let names = |found: &Found| -> Vec<String> {
            found.tokens.iter().map(|t| t.token.clone()).collect()
        };
        assert_eq!(names(&found), ["b", "c"], "a is 10 minutes older than c");
        for i in 0..MAX_TOKENS {
            found.remember(token(&i.to_string(), 1_000 + TOKEN_WINDOW_MS, 4 + i as Lsn));
        }
        assert_eq!(found.tokens.len(), MAX_TOKENS);
        assert_eq!(found.tokens[0].token, "0", "the oldest went first");
    }
}
