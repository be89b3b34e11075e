//! The background worker: snapshots tables whose log has grown, builds pending backups,
//! deletes expired ones, releases the retained table states no point-in-time window, pending
//! backup or running restore needs, and drops the log below what remains. In buffered mode
//! a second thread syncs the log every `buffered_sync_interval`.
//!
//! A table is due for a snapshot when the log written for it since its last snapshot
//! reaches both `checkpoint_min_log_bytes` and `checkpoint_log_ratio` times its size
//! (bounding write amplification and recovery time), or when it is small and holds back the
//! removal of a closed log segment. A snapshot is built from files only
//! (`storage/replay.rs`), so the worker never takes a lock a writer needs for longer than a
//! read of the table's size.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex};

use crate::api::backups::BackupStatus;
use crate::engine::{Engine, TableHandle};
use crate::error::{Error, Result};
use crate::model::Lsn;
use crate::options::Durability;
use crate::state::item_key::ItemKey;
use crate::storage::retention::Needs;
use crate::storage::store::{Checkpoint, Installing, Store};

/// A flag and a condition variable: how the background worker is woken and stopped.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    state: Mutex<(bool, bool)>,
    cv: Condvar,
}

impl Signal {
    pub(crate) fn notify(&self) {
        self.state.lock().0 = true;
        self.cv.notify_all();
    }

    fn stop(&self) {
        self.state.lock().1 = true;
        self.cv.notify_all();
    }

    /// Whether the worker has been woken (work is waiting) or stopped since it last waited.
    fn woken(&self) -> bool {
        let state = self.state.lock();
        state.0 || state.1
    }

    /// Waits until notified, stopped or `timeout`; returns false once stopped.
    pub(crate) fn wait(&self, timeout: std::time::Duration) -> bool {
        self.wait_notified(timeout).is_some()
    }

    /// Waits until notified, stopped or `timeout`: whether it was notified, `None` once
    /// stopped.
    fn wait_notified(&self, timeout: std::time::Duration) -> Option<bool> {
        let mut state = self.state.lock();
        if !state.0 && !state.1 {
            self.cv.wait_for(&mut state, timeout);
        }
        let notified = std::mem::take(&mut state.0);
        (!state.1).then_some(notified)
    }
}

/// Stops and joins the background worker when the last `Database` clone drops. It lives
/// outside the `Engine` so that the worker, which only borrows the engine while it works, never
/// owns it.
#[derive(Debug)]
pub(crate) struct Worker {
    pub(crate) signal: Arc<Signal>,
    pub(crate) thread: Mutex<Option<JoinHandle<()>>>,
    /// Buffered mode's periodic log sync: a thread of its own, so that
    /// the promised sync every `buffered_sync_interval` happens while the worker builds.
    syncer: Option<(Arc<Signal>, JoinHandle<()>)>,
    /// The Time to Live sweeper (`engine/expiry.rs`): a thread of its own, for a database
    /// in memory too.
    sweeper: Option<(Arc<Signal>, JoinHandle<()>)>,
}

impl Worker {
    /// Starts the background worker of `engine` (one with a directory whose options ask for
    /// it); without one, the returned worker is idle.
    pub(crate) fn start(engine: &Arc<Engine>) -> Worker {
        let signal = Arc::clone(&engine.wake);
        let thread = (engine.store.is_some() && engine.options.background_worker).then(|| {
            let weak = Arc::downgrade(engine);
            let signal = Arc::clone(&signal);
            std::thread::Builder::new()
                .name("tidestore-maintenance".into())
                .spawn(move || maintenance_loop(weak, signal))
        });
        let thread = match thread {
            Some(Ok(handle)) => Some(handle),
            // Without the worker the database still works; snapshots just never happen.
            Some(Err(e)) => {
                *engine.maintenance_error.lock() =
                    Some(format!("cannot start the maintenance thread: {e}"));
                None
            }
            None => None,
        };
        let syncer = thread
            .is_some()
            .then_some(engine)
            .filter(|e| e.options.durability == Durability::Buffered)
            .and_then(|engine| {
                let stop = Arc::new(Signal::default());
                let weak = Arc::downgrade(engine);
                let signal = Arc::clone(&stop);
                std::thread::Builder::new()
                    .name("tidestore-sync".into())
                    .spawn(move || sync_loop(weak, signal))
                    .ok()
                    .map(|handle| (stop, handle))
            });
        let sweeper = engine.options.background_worker.then(|| {
            let stop = Arc::new(Signal::default());
            let weak = Arc::downgrade(engine);
            let signal = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("tidestore-ttl".into())
                .spawn(move || crate::engine::expiry::sweep_loop(weak, signal))
                .map(|handle| (stop, handle))
        });
        let sweeper = match sweeper {
            Some(Ok(sweeper)) => Some(sweeper),
            // Without the sweeper expired items stay until `delete_expired_items`.
            Some(Err(e)) => {
                *engine.ttl_error.lock() =
                    Some(format!("cannot start the Time to Live thread: {e}"));
                None
            }
            None => None,
        };
        Worker {
            signal,
            thread: Mutex::new(thread),
            syncer,
            sweeper,
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Worker {
    /// Stops the worker's threads and waits for them: a round in progress finishes first.
    pub(crate) fn stop(&mut self) {
        self.signal.stop();
        // The sweeper first: its deletes are writes, which must not run into a close.
        if let Some((stop, thread)) = self.sweeper.take() {
            stop.stop();
            let _ = thread.join();
        }
        if let Some((stop, thread)) = self.syncer.take() {
            stop.stop();
            let _ = thread.join();
        }
        if let Some(thread) = self.thread.lock().take() {
            // A panic in the worker was already reported by the panic hook.
            let _ = thread.join();
        }
    }
}

impl Engine {
    /// One round of background work: sync the log (buffered mode), snapshot the tables that
    /// are due (all that changed, when `force`), and drop the log no table needs.
    pub(crate) fn maintain(&self, force: bool) -> Result<()> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        // One round at a time: `Database::checkpoint` and the worker must not build the
        // same file at once.
        let _round = self.maintaining.lock();
        if self.options.durability == Durability::Buffered {
            self.wal.sync()?;
        }
        let handles: Vec<Arc<TableHandle>> = self.tables.read().values().cloned().collect();
        // Backups first: one requested is waited for, a snapshot is not. (Built after the
        // snapshots, a backup of a busy table waited for the table's snapshot build, which
        // replays as much log: measured twice the time to AVAILABLE.) A failing build holds
        // back nothing: its error stays with its backup, not the round.
        self.build_backups(store, &handles);
        let current_segment = self.wal.current_segment().unwrap_or(Lsn::MAX);
        // The log's segments, listed at most once a round and only if a table needs them.
        let mut segments: Option<Vec<(Lsn, u64)>> = None;
        for handle in &handles {
            let (size, pitr) = {
                let data = handle.data.read();
                (data.size_bytes, data.schema.pitr.is_some())
            };
            let bytes = handle.log_bytes.load(Ordering::SeqCst);
            let threshold = (self.options.checkpoint_min_log_bytes as f64)
                .max(self.options.checkpoint_log_ratio * size as f64);
            let due_by_bytes = bytes as f64 >= threshold;
            // A table that pins a closed segment is cheap to snapshot when it is small, and
            // free when the log holds nothing for it since its snapshot (a table restored or
            // loaded and then left alone: only the catalog moves on). Doing so lets the log
            // go. Other large tables wait for their byte trigger, which bounds the log they
            // keep to a multiple of their size. (Recovery does not count the log it
            // replays, so a table recovered from the log is not known to have none.)
            let base = handle.base_lsn.load(Ordering::SeqCst);
            let unchanged = bytes == 0 && !handle.replayed.load(Ordering::SeqCst);
            let due_by_age =
                base + 1 < current_segment && (size <= self.options.segment_bytes || unchanged);
            // Forced (`Database::checkpoint`): every table with log after its snapshot.
            let due_by_force = force && base < self.wal.durable_lsn();
            // A large table that was written a little and then left alone never reaches its
            // byte trigger, yet keeps every closed segment after its snapshot, whoever wrote
            // them (RocksDB's `max_total_wal_size` problem): once the log it holds back
            // reaches the same threshold, rewriting the table is the cheaper of the two. (Not
            // for a table with point-in-time recovery: its window keeps that log anyway.)
            let due_by_held_log = !(due_by_bytes || due_by_age || due_by_force || pitr)
                && base + 1 < current_segment
                && {
                    let segments = match &mut segments {
                        Some(segments) => segments,
                        None => segments.insert(store.log_segments()?),
                    };
                    // The closed segments holding a record after `base`: those a
                    // truncation to `base` keeps (`Store::truncate_log`).
                    let held: u64 = segments
                        .iter()
                        .enumerate()
                        .filter(|&(i, &(first, _))| {
                            first < current_segment
                                && segments.get(i + 1).is_none_or(|&(next, _)| next - 1 > base)
                        })
                        .map(|(_, &(_, len))| len)
                        .sum();
                    held as f64 >= threshold
                };
            if !(due_by_bytes || due_by_age || due_by_force || due_by_held_log) {
                continue;
            }
            // Sync first: a snapshot must never cover a record a crash could still lose.
            // (A backup still building of the table starts from the snapshot this one
            // replaces, which stays retained until the backup is built.)
            let upto = self.wal.sync()?;
            let counted = handle.log_bytes.load(Ordering::SeqCst);
            if upto <= base {
                continue;
            }
            // (A forced round is `Database::checkpoint`'s, which its caller waits for.)
            let checkpoint = store.build_snapshot(&handle.id, base, upto, !force)?;
            let at = Installing {
                lsn: upto,
                log_bytes: counted,
                creation_lsn: Some(base),
            };
            install(store, handle, checkpoint, &at, || {
                !handle.data.read().deleted
            })?;
        }
        self.expire_backups()?;
        self.read_ahead_locked(store, &handles);
        if self.hold_retention.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.release_history(store)?;
        self.drop_unneeded_log(store, current_segment)
    }

    /// Reads each table's new log into its digest, ahead of the builds (`storage/digest.rs`),
    /// unless a round or a checkpoint is running. Returns whether the log had grown since
    /// the last time.
    fn read_ahead(&self) -> bool {
        let Some(store) = &self.store else {
            return false;
        };
        let readable = self.wal.readable_lsn();
        if self.read_ahead_to.load(Ordering::SeqCst) == readable {
            return false;
        }
        let Some(_round) = self.maintaining.try_lock() else {
            return true;
        };
        let handles: Vec<Arc<TableHandle>> = self.tables.read().values().cloned().collect();
        self.read_ahead_locked(store, &handles);
        self.read_ahead_to.store(readable, Ordering::SeqCst);
        true
    }

    /// [`Engine::read_ahead`], in a round: reads each table's log up to what readers may
    /// see — and not past a pending backup's marker, so that its build can take the
    /// digest — while the digests hold less than the tables' size (at least
    /// `READ_AHEAD_MIN_BUDGET`). A table's snapshot is due when its log reaches its size
    /// (`checkpoint_log_ratio`), and its build holds the writes of that log then anyway:
    /// reading ahead holds them sooner, not more of them.
    fn read_ahead_locked(&self, store: &Store, handles: &[Arc<TableHandle>]) {
        let readable = self.wal.readable_lsn();
        let sizes: u64 = handles.iter().map(|h| h.data.read().size_bytes).sum();
        let budget = READ_AHEAD_MIN_BUDGET.max(usize::try_from(sizes).unwrap_or(usize::MAX));
        let backups = self.backups.lock();
        if self.backups.requests_in_flight() {
            // A marker not registered yet may be in the log already: next time.
            return;
        }
        let before_marker = |table_id: &str| {
            (backups.values())
                .filter(|b| b.built.is_none() && *b.record.schema.id == *table_id)
                .map(|b| b.marker - 1)
                .min()
        };
        let reads: Vec<(Arc<str>, Lsn, Lsn)> = handles
            .iter()
            .map(|h| {
                let base = h.base_lsn.load(Ordering::SeqCst);
                let upto = before_marker(&h.id).map_or(readable, |m| m.min(readable));
                (Arc::clone(&h.id), base, upto)
            })
            .collect();
        drop(backups);
        store.forget_digests(|table_id| reads.iter().any(|(id, ..)| **id == *table_id));
        for (table_id, base, upto) in reads {
            // A read that fails is the next build's to report: it reads the same log.
            let _ = store.read_ahead(&table_id, base, upto, budget);
        }
    }

    /// Removes the log no table, pending backup (its marker record must stay until the
    /// backup is in the catalog), state the catalog names, running restore, remembered
    /// `ClientRequestToken` or stream needs; and moves where recovery reads it from past
    /// what only streams need (they read it themselves: see `Catalog::replay_start`).
    fn drop_unneeded_log(&self, store: &Store, current_segment: Lsn) -> Result<()> {
        // The segments' first commit times, for the streams, are read before the locks
        // below: a file read under the tables' lock would hold up every read of every
        // table (a server answers reads on its async threads) behind a table being
        // created or deleted, which waits for that lock.
        let any_stream = (self.tables.read().values()).any(|h| !h.head().schema.streams.is_empty())
            || !self.deleted_streams.lock().is_empty();
        let times = match any_stream {
            true => Some(crate::storage::follow::segment_times(
                &*store.fs,
                &store.dir,
                store.db_id,
            )?),
            false => None,
        };
        let tables = self.tables.read();
        let backups = self.backups.lock();
        if self.backups.requests_in_flight() {
            // A marker not registered yet may be in the log already: next round.
            return Ok(());
        }
        // The records of streams not yet older than their retention (this forgets the
        // deleted tables' streams that are older).
        let stream_floor = self.stream_floor(&tables, times.as_deref());
        // A deleted table's streams are found again by recovery in its deletion's record.
        let deleted_tables: Vec<Lsn> = (self.deleted_streams.lock().iter())
            .flat_map(|schema| {
                let ends = schema.streams.iter().filter_map(|s| s.disabled);
                // The last of them is the deletion's.
                ends.map(|(lsn, _)| lsn - 1).max()
            })
            .collect();
        let replay_floor = tables
            .values()
            .map(|h| h.base_lsn.load(Ordering::SeqCst))
            .chain(
                backups
                    .values()
                    .filter(|b| b.built.is_none())
                    .map(|b| b.marker - 1),
            )
            .chain(store.catalog_floor())
            // A remembered token's record, for a reopen to remember it too.
            .chain(self.tokens.log_floor(self.options.clock.now()))
            .chain(deleted_tables)
            .min()
            .unwrap_or_else(|| self.wal.durable_lsn());
        let floor = replay_floor.min(stream_floor.unwrap_or(Lsn::MAX));
        drop((backups, tables));
        let floors = (floor, replay_floor);
        store.truncate_log(floors, current_segment, self.wal.last_committed().1)?;
        Ok(())
    }

    /// The LSN after which the tables' streams need the log: the records of each stream
    /// (from the one that enabled it on) that may be younger than
    /// `Options::stream_retention`. A segment whose successor's first record is older than
    /// that holds only records past it (`times`: each segment's first LSN and commit time;
    /// without them, a stream needs the log from its start). `None` if no table has a
    /// stream.
    fn stream_floor(
        &self,
        tables: &std::collections::BTreeMap<String, Arc<TableHandle>>,
        times: Option<&[(Lsn, Option<crate::model::clock::Timestamp>)]>,
    ) -> Option<Lsn> {
        let now = self.options.clock.now();
        let retention = self.options.stream_retention;
        // A deleted table's streams hold the log until they age out, then are forgotten.
        let mut deleted = self.deleted_streams.lock();
        deleted.retain(|s| (s.streams.iter()).any(|s| s.readable_at(now, retention)));
        let oldest_stream = tables
            .values()
            .map(|h| Arc::clone(&h.head().schema))
            .chain(deleted.iter().cloned())
            .flat_map(|schema| schema.streams.iter().map(|s| s.enabled).min())
            .min();
        drop(deleted);
        let oldest_stream = oldest_stream?;
        let horizon = now
            .0
            .saturating_sub(self.options.stream_retention.as_millis() as u64);
        // The newest segment starting at or before the horizon: every record before it is
        // older than the retention.
        let aged = (times.unwrap_or_default().iter())
            .rev()
            .find(|(_, time)| time.is_some_and(|t| t.0 <= horizon))
            .map_or(0, |(first, _)| first - 1);
        Some(oldest_stream.max(aged))
    }

    /// A clean close, once no handle and no writer is left: each table whose log has grown
    /// since its snapshot (or that has none), point-in-time tables aside, gets a snapshot
    /// written from its live items, and the log no snapshot needs goes — so the next open
    /// reads snapshots instead of replaying the log. Pending backups are left to the next open (their build resumes).
    pub(crate) fn close_cleanly(&self) -> Result<()> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        if self.torn.load(Ordering::SeqCst) || !self.options.snapshot_on_close {
            return Ok(());
        }
        let _round = self.maintaining.lock();
        self.wal.sync()?;
        let (upto, time) = self.wal.last_committed();
        if self.wal.durable_lsn() != upto {
            // A write still in flight: the live tables may not be the log's state.
            return Ok(());
        }
        let handles: Vec<Arc<TableHandle>> = self.tables.read().values().cloned().collect();
        for handle in &handles {
            let base = handle.base_lsn.load(Ordering::SeqCst);
            let counted = handle.log_bytes.load(Ordering::SeqCst);
            let has_snapshot = store.base_for(&handle.id, Lsn::MAX, None).is_some();
            let replayed = handle.replayed.load(Ordering::SeqCst);
            if base >= upto || (counted == 0 && has_snapshot && !replayed) {
                continue;
            }
            let data = handle.data.read();
            // A table with point-in-time recovery keeps the log of its window anyway, and a
            // close-time snapshot would be one more state at the same moment as the records
            // before it, superseding the state a restore to one of their LSNs starts from.
            if data.deleted || data.schema.pitr.is_some() {
                continue;
            }
            let checkpoint = store.write_live_snapshot(&data, upto, time)?;
            drop(data);
            let at = Installing {
                lsn: upto,
                log_bytes: counted,
                creation_lsn: Some(base),
            };
            install(store, handle, checkpoint, &at, || true)?;
        }
        // Point-in-time windows keep their states and log as the worker's rounds decide; a
        // close leaves them be (see the note on point-in-time tables above).
        let windows = handles.iter().any(|h| h.data.read().schema.pitr.is_some());
        // The zeros ahead of the last record go, so the log ends where its records do and
        // the next open does not read them as a tail to cut. (A rotation, below, cuts them too.)
        self.wal.cut_reserve()?;
        if self.hold_retention.load(Ordering::SeqCst) || windows {
            return Ok(());
        }
        self.release_history(store)?;
        // Every table's snapshot now covers the log: a fresh segment lets the written one go.
        self.wal.rotate()?;
        let current_segment = self.wal.current_segment().unwrap_or(Lsn::MAX);
        self.drop_unneeded_log(store, current_segment)
    }

    /// Drops the retained table states that no point-in-time window, pending backup or
    /// running restore needs any more (see `Store::release`).
    pub(crate) fn release_history(&self, store: &Store) -> Result<usize> {
        if self.hold_retention.load(Ordering::SeqCst) {
            return Ok(0);
        }
        let now = self.options.clock.now();
        let mut needs = Needs {
            now,
            ..Needs::default()
        };
        for handle in self.tables.read().values() {
            if let Some(settings) = handle.data.read().schema.pitr {
                needs
                    .windows
                    .insert(Arc::clone(&handle.id), settings.window_start(now));
            }
        }
        let backups = self.backups.lock();
        if self.backups.requests_in_flight() {
            // The state a backup being requested starts from is not known yet: keep all.
            return Ok(0);
        }
        needs.pending = backups
            .values()
            .filter(|b| b.built.is_none())
            .map(|b| (b.record.schema.id.as_str().into(), b.marker - 1))
            .collect();
        drop(backups);
        store.release(&needs)
    }

    /// Deletes the backups whose expiry time has passed (SYSTEM backups, 35 days after
    /// their table's deletion), as `DeleteBackup` would; one being restored from waits for
    /// the next round.
    pub(crate) fn expire_backups(&self) -> Result<()> {
        if self.store.is_none() {
            return Ok(());
        }
        let now = self.options.clock.now();
        let expired: Vec<String> = self
            .backups
            .lock()
            .values()
            .filter(|b| b.built.is_some() && b.record.expires.is_some_and(|e| e <= now))
            .map(|b| b.record.arn.clone())
            .collect();
        for arn in expired {
            match self.delete_backup(&arn) {
                // Deleted meanwhile, or being restored from: not this round's.
                Ok(_) | Err(Error::BackupNotFound(_) | Error::BackupInUse(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Builds every pending backup that is due, oldest first, and makes each AVAILABLE once
    /// its file and catalog entry are durable. A build that fails is recorded with its
    /// backup and retried after a backoff (`engine/backups.rs`); the others go on.
    fn build_backups(&self, store: &Store, handles: &[Arc<TableHandle>]) {
        let now = self.options.clock.now();
        let pending: Vec<_> = self
            .backups
            .lock()
            .values()
            .filter(|b| b.due(now))
            .map(|b| (Arc::clone(&b.record), b.marker, Arc::clone(&b.progress)))
            .collect();
        for (record, marker, progress) in pending {
            if let Some(hook) = &self.options.backup_build_hook {
                hook(&record.arn);
            }
            // A live table without any snapshot starts from its creation, which its handle
            // knows; a deleted one has a retained state — unless its retirement failed, when
            // only the next open's recovery knows where it starts: build it then.
            let handle = handles.iter().find(|h| *h.id == *record.schema.id);
            let creation_lsn = match handle {
                Some(h) => h.base_lsn.load(Ordering::SeqCst),
                None if store
                    .base_for(&record.schema.id, marker - 1, None)
                    .is_some() =>
                {
                    0
                }
                None => continue,
            };
            let built = store
                .build_backup(&record, marker, creation_lsn, &progress)
                .and_then(|entry| store.install_backup(entry.clone()).map(|()| entry));
            if let Some(state) = self.backups.lock().get_mut(&marker) {
                match built {
                    Ok(entry) => {
                        state.status = BackupStatus::Available;
                        state.built = Some(entry);
                    }
                    Err(e) => state.build_failed(e, self.options.clock.now()),
                }
            }
            self.backups.changed();
        }
    }

    /// How long until the earliest retry of a failed build is due (by the engine's clock),
    /// if one is waiting. (One due already was left by the round: not a reason to hurry.)
    fn next_build_retry(&self) -> Option<std::time::Duration> {
        let now = self.options.clock.now().0;
        let backups = self.backups.lock();
        let retries = backups.values().filter(|b| b.built.is_none());
        retries
            .filter_map(|b| b.failure.as_ref()?.retry_at)
            .filter(|at| at.0 > now)
            .min()
            .map(|at| std::time::Duration::from_millis(at.0 - now))
    }
}

/// Makes `checkpoint` the table's snapshot as `at` describes it (unless `still_exists` says
/// the table went meanwhile) and moves the table's base and snapshot trigger along.
fn install(
    store: &Store,
    handle: &TableHandle,
    checkpoint: Checkpoint,
    at: &Installing,
    still_exists: impl FnOnce() -> bool,
) -> Result<()> {
    if store.install_snapshot(&handle.id, checkpoint, at, still_exists)? {
        handle.replayed.store(false, Ordering::SeqCst);
        handle.base_lsn.fetch_max(at.lsn, Ordering::SeqCst);
        // Writes counted after `at.log_bytes` was read stay counted.
        let counted = at.log_bytes.min(handle.log_bytes.load(Ordering::SeqCst));
        handle.log_bytes.fetch_sub(counted, Ordering::SeqCst);
    }
    Ok(())
}

/// How often the worker reads the new log ahead of the builds between rounds.
const READ_AHEAD_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// The digests may hold at least this much, however small the tables.
const READ_AHEAD_MIN_BUDGET: usize = 64 << 20;

/// The background worker: wakes every `maintenance_interval` (or sooner, when a table
/// crosses its snapshot trigger) and runs [`Engine::maintain`].
///
/// NB: the worker runs at nice 10, with yields between blocks and incremental writeback
/// (`format/table_file.rs`), so that writers waking up get the CPU first. At nice 19 a
/// build the scheduler placed on a busy writer's core got about 1.5 % of it (a 1.3 s
/// backup build took 43 s); at nice 10 that share is about 10 %. Measured with 16 writers
/// (`cargo bench --bench backup`, STALL lines, six samples each): writer p99 during ÷
/// before a build 2.1–3.5 at nice 0, 1.6–2.7 at nice 10, 1.6–2.3 at nice 19.
fn maintenance_loop(shared: Weak<Engine>, signal: Arc<Signal>) {
    lower_this_threads_priority();
    let interval = match shared.upgrade() {
        Some(s) => s.options.maintenance_interval,
        None => return,
    };
    // The leaves the tables were loaded with are decoded first, between rounds: a round
    // that is asked for (a backup to build or resume) interrupts the decoding, which goes
    // on after it.
    let mut decoding = true;
    // A failed backup build is retried when due, even if that is before the next interval.
    let mut next_retry = None;
    loop {
        if decoding {
            match shared.upgrade() {
                Some(s) => decoding = !s.decode_loaded_leaves(&signal),
                None => return,
            }
        }
        let wait = match decoding {
            true => std::time::Duration::ZERO,
            false => next_retry.map_or(interval, |retry| interval.min(retry)),
        };
        // Until the round, the log is read ahead of the builds every `READ_AHEAD_EVERY` —
        // while it grows: a database left alone wakes its worker once a round.
        let round_at = std::time::Instant::now() + wait;
        let mut step = READ_AHEAD_EVERY;
        loop {
            let left = round_at.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            match signal.wait_notified(left.min(step)) {
                None => return,
                Some(true) => break,
                Some(false) => match shared.upgrade() {
                    Some(s) if s.read_ahead() => {}
                    Some(_) => step = left,
                    None => return,
                },
            }
        }
        if !signal.wait(std::time::Duration::ZERO) {
            return;
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let result = shared.maintain(false);
        *shared.maintenance_error.lock() = result.err().map(|e| e.to_string());
        next_retry = shared.next_build_retry();
    }
}

impl Engine {
    /// Decodes the leaves the tables were loaded with (`state/items.rs`), one at a time and
    /// without holding the table, so that the first reads and writes after an open do not
    /// each pay for decoding a leaf (about 150 µs for a block of 500 items). A leaf that
    /// does not decode is left for its reads to report. Returns false if it stopped early
    /// because the worker was woken or stopped.
    fn decode_loaded_leaves(&self, signal: &Signal) -> bool {
        let tables: Vec<Arc<TableHandle>> = self.tables.read().values().cloned().collect();
        for table in tables {
            let mut from = None;
            loop {
                if signal.woken() {
                    return false;
                }
                let next = table
                    .data
                    .read()
                    .items
                    .next_undecoded(from.as_ref().map(ItemKey::as_bytes));
                let Some(leaf) = next else {
                    break;
                };
                from = Some(leaf.key.clone());
                if let Some(items) = leaf.decode() {
                    table.data.read().items.install(leaf, items);
                }
            }
        }
        true
    }
}

/// Buffered mode's syncer: makes the log durable every `buffered_sync_interval`. A sync
/// holds no lock a writer needs (`Wal::sync`), and a failed one poisons the log, so the
/// error reaches every later write.
fn sync_loop(engine: Weak<Engine>, stop: Arc<Signal>) {
    let interval = match engine.upgrade() {
        Some(e) => e.options.buffered_sync_interval,
        None => return,
    };
    while stop.wait(interval) {
        let Some(engine) = engine.upgrade() else {
            return;
        };
        if let Err(e) = engine.wal.sync() {
            *engine.maintenance_error.lock() = Some(e.to_string());
        }
    }
}

/// Makes the calling thread yield to writers when they wake (nice 10, or its own if
/// higher). The worker still leads a group commit now and then (`expire_backups`) and holds
/// the catalog's lock while it writes it, which writers can wait on. Best effort: on
/// failure (or off Linux, where the call sets the whole process's priority) nothing changes.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    // Safety: setpriority and gettid only read their integer arguments; on Linux,
    // PRIO_PROCESS with a thread id changes that one thread's nice value.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        // Only ever lower it: a process already running nicer keeps its nice value.
        if libc::getpriority(libc::PRIO_PROCESS, tid) < 10 {
            libc::setpriority(libc::PRIO_PROCESS, tid, 10);
        }
    }
}
