//! The files of an open database directory: its catalog, snapshots and backups.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::error::{io_error, Error, Result};
use crate::format::backup::{self, BackupEntry, BackupMeta, BackupRecord, BACKUP_MAGIC};
use crate::format::catalog::{
    snapshot_name, Catalog, DroppedTable, Retained, SnapshotRef, BACKUP_DIR, SNAPSHOT_DIR, WAL_DIR,
};
use crate::format::codec;
use crate::format::log_segment;
use crate::format::table_file::{Progress, SnapshotMeta, SNAPSHOT_MAGIC};
use crate::fs::throttle::Throttle;
use crate::fs::Vfs;
use crate::model::clock::Timestamp;
use crate::model::schema::TableSchema;
use crate::model::settings::TableSettings;
use crate::model::Lsn;
use crate::state::table::TableData;
use crate::storage::digest::Digest;
use crate::storage::replay::{self, LogEnd, Target, Until};

/// An open database directory.
#[derive(Debug)]
pub(crate) struct Store {
    pub fs: Arc<dyn Vfs>,
    pub dir: PathBuf,
    pub db_id: u64,
    /// The catalog as last written; its lock also serializes snapshot installs.
    pub(super) catalog: Mutex<Catalog>,
    /// Table states running restores read from, by pin id. Kept whatever windows say.
    pub(super) pins: Mutex<BTreeMap<u64, Pinned>>,
    pub(super) next_pin: std::sync::atomic::AtomicU64,
    /// Paces the files background builds write while writers wait for commits; the log
    /// marks the commits (`fs/throttle.rs`).
    pub throttle: Arc<Throttle>,
    /// What the background builds have read of each table's log since its base, by table
    /// (`storage/digest.rs`). Only the worker's rounds use them.
    pub(super) digests: Mutex<HashMap<Arc<str>, Digest>>,
    pub(super) _lock: Box<dyn Any + Send + Sync>,
}

/// A pinned table state: its table, its built LSN (which names it, whatever LSN an
/// unchanged checkpoint moves it to) and the LSN the restore's replay starts after.
pub(super) type Pinned = (Arc<str>, Lsn, Lsn);

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

/// What building a table's snapshot came to.
#[derive(Debug)]
pub(crate) enum Checkpoint {
    /// A new snapshot file.
    Built {
        file: String,
        /// The commit time of the LSN it was built at.
        time: Timestamp,
        /// The commit time of the record before that one, or `time` if not known (see
        /// [`SnapshotRef::prior_time`]).
        prior_time: Timestamp,
    },
    /// The log holds nothing for the table since its snapshot: only the catalog moves on.
    Unchanged,
    /// The table was deleted.
    Deleted,
}

impl Store {
    /// Changes the catalog durably: `change` edits a copy under the catalog's lock, and a
    /// copy that differs is written (temp file, sync, rename, directory sync) and becomes the
    /// catalog. The one read-modify-write of the catalog: when the write fails, the catalog
    /// in memory stays as it was (the file may hold either, if only the directory sync
    /// failed).
    pub(super) fn update_catalog<T>(
        &self,
        change: impl FnOnce(&mut Catalog) -> Result<T>,
    ) -> Result<T> {
        let mut catalog = self.catalog.lock();
        let mut next = catalog.clone();
        let result = change(&mut next)?;
        if next != *catalog {
            next.store(&*self.fs, &self.dir)?;
            *catalog = next;
        }
        Ok(result)
    }

    /// Builds the snapshot of `table_id` at `upto` (a durable LSN) from its current one and
    /// the log. Writes a file; changes no catalog.
    /// `base_lsn` is where the table's durable history starts: its snapshot's LSN, or the LSN
    /// before its creation if it has none. `paced`: the file's writes give way to durable
    /// commits (`fs/throttle.rs`).
    pub fn build_snapshot(
        &self,
        table_id: &str,
        base_lsn: Lsn,
        upto: Lsn,
        paced: bool,
    ) -> Result<Checkpoint> {
        let (file, after) = self.base_of(table_id, base_lsn);
        let meta = |schema: &TableSchema, settings: &Arc<TableSettings>, _: Option<LogEnd>| {
            codec::encode(&SnapshotMeta {
                table_id: table_id.to_owned(),
                lsn: upto,
                schema: schema.clone(),
                settings: Arc::clone(settings),
            })
        };
        let target = Target {
            dir: self.dir.join(SNAPSHOT_DIR),
            name: snapshot_name(table_id, upto),
            magic: SNAPSHOT_MAGIC,
            meta: &meta,
            always: false,
            progress: None,
            throttle: paced.then_some(&*self.throttle),
            // The next backup's base, and the table's state at the next open.
            uncached: false,
        };
        // The digest ends here: the snapshot is the table's next base.
        let mut digest = self.take_digest(table_id, file.as_deref(), after, upto)?;
        digest.read(&*self.fs, &self.dir, self.db_id, Until::lsn(upto))?;
        match replay::build_from_digest(&*self.fs, &self.dir, &mut digest, &target)? {
            (replay::Built::Deleted, _) => Ok(Checkpoint::Deleted),
            (replay::Built::Unchanged, _) => Ok(Checkpoint::Unchanged),
            // A file is built only from a range that holds records: the last is `upto`.
            (replay::Built::File(file), Some(end)) => Ok(Checkpoint::Built {
                file,
                time: end.last_time,
                prior_time: end.prior_time.unwrap_or(end.last_time),
            }),
            (replay::Built::File(name), None) => Err(Error::Corruption(format!(
                "snapshot {name} was built from an empty range of the log"
            ))),
        }
    }

    /// Where a build of `table_id`'s next snapshot starts: its snapshot's file and LSN, or
    /// (none yet) its creation, just after `base_lsn`.
    fn base_of(&self, table_id: &str, base_lsn: Lsn) -> (Option<String>, Lsn) {
        match self.catalog.lock().snapshot(table_id) {
            Some(s) => (Some(s.file.clone()), s.lsn),
            None => (None, base_lsn),
        }
    }

    /// The digest of `table_id`'s log after `base` at `after` that can be read on to
    /// `upto`, taken from those kept; a new one if none is. (One that has read past `upto`
    /// stays for a later build; one from another base is dropped: the table has moved on.)
    fn take_digest(
        &self,
        table_id: &str,
        base: Option<&str>,
        after: Lsn,
        upto: Lsn,
    ) -> Result<Digest> {
        let mut digests = self.digests.lock();
        if let Some(kept) = digests.get(table_id) {
            if !kept.starts_from(base, after) {
                digests.remove(table_id);
            } else if kept.read_to() <= upto {
                return Ok(digests.remove(table_id).expect("just found"));
            }
        }
        drop(digests);
        Digest::new(&*self.fs, &self.dir, table_id, base, after)
    }

    /// Keeps `digest` of `table_id` for the next build, unless one read further is kept.
    fn keep_digest(&self, table_id: &str, digest: Digest) {
        let mut digests = self.digests.lock();
        match digests.get(table_id) {
            Some(kept) if kept.read_to() > digest.read_to() => {}
            _ => {
                digests.insert(table_id.into(), digest);
            }
        }
    }

    /// Reads the log of `table_id` after its base on to `upto` (a readable LSN) into its
    /// digest, ahead of the builds that will need it — unless the digests already hold
    /// `budget` bytes. `base_lsn` as for [`Store::build_snapshot`].
    pub fn read_ahead(
        &self,
        table_id: &str,
        base_lsn: Lsn,
        upto: Lsn,
        budget: usize,
    ) -> Result<()> {
        let (file, after) = self.base_of(table_id, base_lsn);
        {
            let digests = self.digests.lock();
            let held: usize = digests.values().map(Digest::memory).sum();
            // (One already at `upto` has nothing to read; one past it, nothing to gain.)
            let read = (digests.get(table_id))
                .filter(|d| d.starts_from(file.as_deref(), after))
                .map_or(after, Digest::read_to);
            if held >= budget || upto <= read {
                return Ok(());
            }
        }
        let mut digest = self.take_digest(table_id, file.as_deref(), after, upto)?;
        digest.read_ahead(&*self.fs, &self.dir, self.db_id, upto)?;
        self.keep_digest(table_id, digest);
        Ok(())
    }

    /// Drops the digests of tables not in `live` (deleted ones).
    pub fn forget_digests(&self, live: impl Fn(&str) -> bool) {
        self.digests.lock().retain(|table_id, _| live(table_id));
    }

    /// Writes the snapshot of a live table at `lsn`, committed at `time`, from its items (a
    /// clean close: no writer is left). Writes a file; changes no catalog.
    pub fn write_live_snapshot(
        &self,
        data: &TableData,
        lsn: Lsn,
        time: Timestamp,
    ) -> Result<Checkpoint> {
        let file = replay::write_live_snapshot(&*self.fs, &self.dir, lsn, data)?;
        // The time of the record before `lsn` is not at hand: `time` errs on the side of
        // keeping more.
        Ok(Checkpoint::Built {
            file,
            time,
            prior_time: time,
        })
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
        let installed = self.update_catalog(|catalog| {
            let current = catalog.snapshot(table_id).cloned();
            let (file, built_lsn, built_time, prior_time, size, log_bytes) = match checkpoint {
                Checkpoint::Deleted => return Ok(Err(None)),
                Checkpoint::Built {
                    file,
                    time,
                    prior_time,
                } => {
                    let path = snapshot_dir.join(&file);
                    let size = self
                        .fs
                        .open(&path)
                        .and_then(|f| f.len())
                        .map_err(io_error(format!("reading {}", path.display())))?;
                    (file, lsn, time, prior_time, size, log_bytes)
                }
                // The same file now covers the log up to `lsn` as well; it holds nothing newer.
                Checkpoint::Unchanged => match &current {
                    Some(c) => (
                        c.file.clone(),
                        c.built_lsn,
                        c.built_time,
                        c.prior_time,
                        c.size,
                        c.log_bytes,
                    ),
                    // A table with no snapshot has its creation record in the log.
                    None => return Ok(Err(None)),
                },
            };
            if !still_exists() {
                return Ok(Err(Some(file)));
            }
            catalog.snapshots.retain(|s| &s.table_id != table_id);
            catalog.snapshots.push(SnapshotRef {
                table_id: Arc::clone(table_id),
                file: file.clone(),
                lsn,
                built_lsn,
                built_time,
                prior_time,
                size,
                log_bytes,
            });
            let replaced = match current {
                Some(current) if current.file != file => Some(current.as_retained()),
                Some(_) => None,
                None => creation_lsn.map(|lsn| creation(table_id, lsn)),
            };
            catalog.retained.extend(replaced);
            Ok(Ok(()))
        })?;
        match installed {
            Ok(()) => {
                crate::fs::killpoint::reached("snapshot.installed");
                Ok(true)
            }
            Err(None) => Ok(false),
            // The table was deleted meanwhile: its new file is garbage.
            Err(Some(file)) => {
                self.fs
                    .remove_file(&snapshot_dir.join(&file))
                    .map_err(io_error(format!("removing {file}")))?;
                Ok(false)
            }
        }
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
        self.update_catalog(|catalog| {
            let state = match catalog.snapshot(table_id) {
                Some(s) => s.as_retained(),
                None => creation(table_id, creation_lsn),
            };
            catalog.snapshots.retain(|s| &s.table_id != table_id);
            catalog.retained.push(state);
            catalog.dropped.extend(dropped);
            Ok(())
        })
    }

    /// The newest state of `table_id` (its snapshot or a retained one) at or before LSN
    /// `lsn` whose built time is at or before `time`: where a rebuild of the table at that
    /// point starts. `None` if there is none (a live table with no snapshot starts from its
    /// creation).
    pub fn base_for(&self, table_id: &str, lsn: Lsn, time: Option<Timestamp>) -> Option<Retained> {
        let catalog = self.catalog.lock();
        Self::choose_base(&catalog, table_id, lsn, time)
    }

    /// The base of the point-in-time window of `table_id` that starts at `start`, as
    /// retention keeps it: its newest state that serves every moment and every LSN of the
    /// window ([`Retained::serves_window`]), or its oldest if none does (the window reaches
    /// back only that far). `None` if the table has no state (a live table without a
    /// snapshot starts from its creation).
    pub fn window_base(&self, table_id: &str, start: Timestamp) -> Option<Retained> {
        let catalog = self.catalog.lock();
        let mut states: Vec<Retained> = Self::states(&catalog, table_id).collect();
        states.sort_by_key(|s| s.built_lsn);
        let base = states
            .iter()
            .rposition(|s| s.serves_window(start))
            .unwrap_or(0);
        states.into_iter().nth(base)
    }

    /// Every state of `table_id`: its snapshot and its retained states.
    fn states<'a>(catalog: &'a Catalog, table_id: &'a str) -> impl Iterator<Item = Retained> + 'a {
        catalog
            .snapshots
            .iter()
            .filter(move |s| &*s.table_id == table_id)
            .map(SnapshotRef::as_retained)
            .chain(
                catalog
                    .retained
                    .iter()
                    .filter(move |r| &*r.table_id == table_id)
                    .cloned(),
            )
    }

    fn choose_base(
        catalog: &Catalog,
        table_id: &str,
        lsn: Lsn,
        time: Option<Timestamp>,
    ) -> Option<Retained> {
        Self::states(catalog, table_id)
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

    /// Each log segment on disk, in order: its first LSN and its length in bytes.
    pub fn log_segments(&self) -> Result<Vec<(Lsn, u64)>> {
        let dir = self.dir.join(WAL_DIR);
        log_segment::list_segments(&*self.fs, &dir)?
            .into_iter()
            .map(|first| {
                let path = dir.join(log_segment::segment_name(first));
                let len = self.fs.open(&path).and_then(|f| f.len());
                len.map(|len| (first, len))
                    .map_err(io_error(format!("reading {}", path.display())))
            })
            .collect()
    }

    /// The commit time of the record at `lsn`, if the log still holds it.
    pub fn record_time(&self, lsn: Lsn) -> Result<Option<Timestamp>> {
        let segments = log_segment::list_segments(&*self.fs, &self.dir.join(WAL_DIR))?;
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
        let segments = log_segment::list_segments(&*self.fs, &wal_dir)?;
        let mut bytes = 0;
        for (i, &first) in segments.iter().enumerate() {
            let holds_after = segments.get(i + 1).is_none_or(|&next| next - 1 > after);
            if holds_after {
                let path = wal_dir.join(log_segment::segment_name(first));
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
        // This attempt's counts alone: a failed one may have counted part of the table.
        progress.reset();
        let table_id = record.schema.id.as_str();
        let cut = marker - 1;
        let base = self.base_for(table_id, cut, None);
        let (file, after) = match &base {
            Some(r) => (r.file.as_deref(), r.replay_after(cut)),
            None => (None, creation_lsn),
        };
        // A backup carries no settings: no restore carries them over.
        let meta = |schema: &TableSchema, _: &Arc<TableSettings>, _: Option<LogEnd>| {
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
            throttle: Some(&self.throttle),
            // Read only by a restore.
            uncached: true,
        };
        // The digest stays at the marker: the table's snapshot is often built next.
        let mut digest = self.take_digest(table_id, file, after, cut)?;
        digest.read(&*self.fs, &self.dir, self.db_id, Until::lsn(cut))?;
        let built = replay::build_from_digest(&*self.fs, &self.dir, &mut digest, &target)?;
        self.keep_digest(table_id, digest);
        match built.0 {
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
        self.update_catalog(|catalog| {
            catalog.backups.retain(|b| b.record.arn != entry.record.arn);
            catalog.backups.push(entry);
            catalog.backups.sort_by_key(|b| b.marker);
            Ok(())
        })
    }

    /// Forgets a deleted backup: it leaves the catalog, then the disk.
    pub fn forget_backup(&self, arn: &str) -> Result<()> {
        let entry = self.update_catalog(|catalog| {
            let entry = catalog
                .backups
                .iter()
                .find(|b| b.record.arn == arn)
                .cloned();
            catalog.backups.retain(|b| b.record.arn != arn);
            Ok(entry)
        })?;
        let Some(entry) = entry else {
            return Ok(());
        };
        let path = self.dir.join(BACKUP_DIR).join(&entry.file);
        crate::fs::remove_gradually(&*self.fs, &path)
            .map_err(io_error(format!("removing {}", path.display())))
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
        prior_time: Timestamp(0),
        size: 0,
        log_bytes: 0,
    }
}
