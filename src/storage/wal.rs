//! The write-ahead log writer: one log for the whole database, in segment files
//! (`format/log_segment.rs` draws their bytes), with group commit.
//!
//! Every [`Mutation`](crate::format::mutation::Mutation) is one record. The log is the
//! database's total order: record `n` has LSN `n`, and a transaction or batch is one record,
//! so it survives a crash whole or not at all.
//!
//! # Segments
//!
//! A segment is closed before the record that finds it `segment_bytes` long. Rotation cuts
//! the full segment back to its records and creates the next one with its header, neither
//! synced, and records go on into the new one at once; the full one is then sealed by the
//! next sync, whoever makes it (the buffered mode's syncer, a checkpoint, a clean close):
//! the full segment's records are synced, the next segment's header and directory entry
//! are synced (kill point `wal.created`), and the full one is sealed, naming it, and synced
//! (`wal.rotated`). So a sealed segment's successor always exists, and recovery can tell a
//! missing newest segment from a creation a crash cut short (`storage/tail.rs`).
//!
//! Why the seal waits: its three syncs, and the full segment's unsynced records with them
//! (up to the buffered mode's 100 ms of writes), ran on the writing thread under the
//! segment's lock, and were a free-running buffered writer's worst puts (1.7–7 ms, once per
//! 64 MiB of log; docs/performance.md). In `Sync` mode the group's leader seals at once: it
//! syncs for its writers anyway, and its records must be durable when it returns.
//!
//! What a crash can leave while a seal waits: a full segment without its seal (perhaps with
//! its unsynced tail lost, or its cut not on disk) before a newest segment whose header or
//! records may be lost. Records written before the seal say so (their `synced` is 0: nothing
//! of the new segment was durable, its header not even), and none of them was ever durable,
//! since every sync seals first. Recovery seals the full segment if its records run up to
//! the new one's first LSN, and otherwise drops the new one (`storage/tail.rs`). At most one
//! segment waits for its seal: a rotation seals the one before first.

//! # Space zeroed ahead
//!
//! The segment keeps up to [`RESERVE_BYTES`] of zeros written ahead of its records, and
//! records are written over them. Why: on ext4 (and XFS) an `fdatasync` after an append
//! that grew the file must also commit the file system's journal for the new size, a
//! second device flush per commit; an `fdatasync` of bytes written over space that already
//! exists needs only the data. Measured with one writer appending 152-byte records and
//! syncing each: 5.2k–5.4k syncs/s appending, 7.7k–8.8k writing into space zeroed 64 KiB to
//! 1 MiB ahead, and 4× as many beside a background writer flushing 40 MB files; the sync
//! that carries a new reserve is no slower than an appending one (worst 0.5–1.2 ms in both).
//! (`fallocate` would not do: its extents are "unwritten", and converting them on write is
//! the same journal commit.) The zeros past the last record read as a torn tail, which
//! recovery cuts; a segment is cut back to its records before it is sealed, so a sealed
//! segment ends at its seal as before.
//!
//! IMPORTANT: over space that already exists nothing orders a write's pages (a growing
//! size did), so a crash can keep a later page of an unsynced write and lose an earlier
//! one. Each record therefore carries how much of its segment was durable when it was
//! written (`Segment::synced_len`, read under the segment lock, where syncs update it), and
//! recovery tells such a hole (a torn tail) from damage to a record that was durable before
//! the records behind it were written (corruption): `format/log_segment.rs`.
//!
//! # Group commit
//!
//! Writers append their record to a shared buffer under a short lock that also gives them
//! their LSN and commit time. The first writer to find no flush in progress becomes the
//! leader: it takes the whole buffer, writes it with one write and makes it durable with one
//! `sync_data`, then wakes everyone whose record it covered. Writers that arrive meanwhile
//! form the next group; they sleep on their own condition variable (flushes alternate
//! between two), so a finished flush wakes only the writers it made durable, plus one
//! writer of the next group to lead it. A failed write or sync poisons the log (invariant I8): no later
//! write is acknowledged until the database is reopened, because after a failed fsync the
//! kernel may have dropped the dirty pages and a retry could falsely succeed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use parking_lot::{Condvar, Mutex};

use crate::error::{io_error, Error, Result};
use crate::format::log_segment::{
    encode_record, encode_seal, encode_segment_header, segment_name, MAX_RECORD_LEN,
    RECORD_HEADER_LEN, SEGMENT_HEADER_LEN,
};
use crate::fs::throttle::Throttle;
use crate::fs::{Vfs, VfsFile};
use crate::model::clock::{Clock, Timestamp};
use crate::model::Lsn;
use crate::options::Durability;
use crate::storage::follow::{Followed, Place};

/// Whether a logged payload is one a stream reads: an item write with what its items were
/// before (`Mutation::WithPrior`). In memory mode only these are kept for followers.
fn follows(payload: &[u8]) -> bool {
    crate::format::mutation::Mutation::has_prior(payload)
}

/// A record waiting for its group's flush.
#[derive(Debug)]
struct Pending {
    lsn: Lsn,
    time: Timestamp,
    payload: Vec<u8>,
    /// Whether background builds give way while it syncs ([`Wal::append`]).
    paces: bool,
}

#[derive(Debug)]
struct State {
    next_lsn: Lsn,
    last_time: Timestamp,
    /// Records from now on get a commit time after this (see [`Wal::fence_time`]).
    fence: Option<Timestamp>,
    pending: Vec<Pending>,
    /// A leader is writing; others wait for it.
    flushing: bool,
    /// The number the next flush will have.
    next_flush: u64,
    /// Every record up to this LSN has been written to the file.
    written: Lsn,
    /// Every record up to this LSN is on stable storage.
    durable: Lsn,
    /// In memory mode, the records a stream reads (see [`Wal::followed`]), oldest first.
    followed: std::collections::VecDeque<Followed>,
    /// The last of those dropped for age: a reader before it has lost records.
    forgotten: Lsn,
}

/// The first write or sync of the log that failed: why the log accepts no write any more.
#[derive(Debug)]
struct Failure {
    context: String,
    source: std::io::Error,
}

impl Failure {
    /// The constructor of a failure for `map_err`: what the log was doing, and the OS error.
    fn of(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Failure {
        let context = context.into();
        move |source| Failure { context, source }
    }

    /// The error of every call the failure refuses, itself included: it keeps the OS error
    /// (its kind, and its number when it has one), and says that reopening is the way out.
    fn error(&self) -> Error {
        let source = match self.source.raw_os_error() {
            Some(code) => std::io::Error::from_raw_os_error(code),
            None => std::io::Error::new(self.source.kind(), self.source.to_string()),
        };
        Error::Poisoned {
            kind: source.kind(),
            context: self.context.clone(),
            source,
        }
    }
}

/// How far ahead of its records the log zeroes its segment (see "Space zeroed ahead"): a
/// new reserve, one journal commit, every mebibyte of records.
const RESERVE_BYTES: u64 = 1 << 20;

/// The zeros a reserve is written from.
static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

/// The open segment the leader appends to.
#[derive(Debug)]
struct Segment {
    first_lsn: Lsn,
    file: Box<dyn VfsFile>,
    /// Bytes of records (and the header) written to the file: where the next record goes.
    len: u64,
    /// The file's length: `len`, and the zeros written ahead of it.
    reserved: u64,
    /// Bytes known to be on stable storage; fewer than `len` in buffered mode.
    synced_len: u64,
    /// A second open of the file, for [`Wal::sync`]: it syncs without the segment's lock,
    /// so a background sync never holds a lock a writer needs. A second open, not a `dup`:
    /// the kernel reports a failed writeback once per open file, so each handle's sync
    /// sees it.
    syncer: Arc<Mutex<Box<dyn VfsFile>>>,
    /// The first LSN of the segment before this one while its seal waits ([`Unsealed`]):
    /// kept here too so that [`Wal::current_segment`] need not wait for a seal in progress.
    unsealed_before: Option<Lsn>,
}

/// A full segment whose seal waits for the next sync (see "Segments"). Cut back to its
/// records; nothing is written to it but the seal.
#[derive(Debug)]
struct Unsealed {
    first_lsn: Lsn,
    file: Box<dyn VfsFile>,
    /// The first LSN of the segment after it, which the seal names.
    next: Lsn,
    /// That segment's second handle, through which its header is synced.
    successor: Arc<Mutex<Box<dyn VfsFile>>>,
}

/// Sizes and modes of the log.
#[derive(Clone, Debug)]
pub(crate) struct WalConfig {
    pub dir: PathBuf,
    pub db_id: u64,
    pub durability: Durability,
    /// A segment is closed and a new one started once it reaches this size.
    pub segment_bytes: u64,
    /// In memory mode, how long the records streams read are kept (`None`: not kept).
    pub follow_retention: Option<std::time::Duration>,
    /// Told of every group commit that syncs for its writers, as it begins, so that
    /// background builds give way meanwhile.
    pub throttle: Arc<Throttle>,
}

/// The log writer.
#[derive(Debug)]
pub(crate) struct Wal {
    fs: Arc<dyn Vfs>,
    config: WalConfig,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    /// One per parity of flush number: the writers waiting for flush `n` sleep on
    /// `flushed[n % 2]`.
    flushed: [Condvar; 2],
    segment: Mutex<Option<Segment>>,
    /// The segment before the current one while its seal waits. Locked after `segment`
    /// when both are, and held while it is sealed, so that no rotation makes a second.
    unsealed: Mutex<Option<Unsealed>>,
    /// The first failed write or sync: from then on the log is poisoned and accepts no
    /// write (invariant I8). Set before the failing call releases the segment's lock, so
    /// that a sync running beside it (on the other handle) never reports records durable
    /// that the failure may have lost.
    failure: OnceLock<Failure>,
    /// Notified whenever [`Wal::readable_lsn`] moves on: stream readers wait on it.
    advanced: Condvar,
}

impl Wal {
    /// A log that continues after `last_lsn` (committed at `last_time`) in the segment
    /// starting at `last_lsn + 1`, which recovery made sure exists and holds only its header
    /// (it never appends after bytes a crash may have left).
    pub fn open(
        fs: Arc<dyn Vfs>,
        config: WalConfig,
        clock: Arc<dyn Clock>,
        last_lsn: Lsn,
        last_time: Timestamp,
    ) -> Result<Wal> {
        let wal = Wal {
            fs,
            config,
            clock,
            state: Mutex::new(State {
                next_lsn: last_lsn + 1,
                last_time,
                fence: None,
                pending: Vec::new(),
                flushing: false,
                next_flush: 0,
                written: last_lsn,
                durable: last_lsn,
                followed: Default::default(),
                forgotten: 0,
            }),
            flushed: [Condvar::new(), Condvar::new()],
            segment: Mutex::new(None),
            unsealed: Mutex::new(None),
            failure: OnceLock::new(),
            advanced: Condvar::new(),
        };
        if wal.config.durability != Durability::InMemory {
            let first_lsn = last_lsn + 1;
            let path = wal.config.dir.join(segment_name(first_lsn));
            let context = format!("opening log segment {}", path.display());
            let file = wal.fs.open(&path).map_err(io_error(context.clone()))?;
            let len = file.len().map_err(io_error(context.clone()))?;
            let syncer = wal.fs.open(&path).map_err(io_error(context))?;
            *wal.segment.lock() = Some(Segment {
                first_lsn,
                file,
                len,
                reserved: len,
                synced_len: len,
                syncer: Arc::new(Mutex::new(syncer)),
                unsealed_before: None,
            });
        }
        Ok(wal)
    }

    /// Starts the segment whose first record will be `first_lsn`, after `before` (the full
    /// segment, if any): its header written, nothing synced (the full segment's seal syncs
    /// its header and directory entry: [`Wal::seal`]).
    fn start_segment(&self, first_lsn: Lsn, before: Option<Lsn>) -> Result<Segment, Failure> {
        let path = self.config.dir.join(segment_name(first_lsn));
        let context = || format!("starting log segment {}", path.display());
        let mut file = self.fs.create(&path).map_err(Failure::of(context()))?;
        file.append(&encode_segment_header(first_lsn, self.config.db_id))
            .map_err(Failure::of(context()))?;
        let syncer = Arc::new(Mutex::new(
            self.fs.open(&path).map_err(Failure::of(context()))?,
        ));
        let len = SEGMENT_HEADER_LEN as u64;
        Ok(Segment {
            first_lsn,
            file,
            len,
            reserved: len,
            // Nothing of it is durable, its header not even: records written before the
            // seal before it say so (see "Segments").
            synced_len: 0,
            syncer,
            unsealed_before: before,
        })
    }

    /// Appends `payload` as the next record and returns once it is as durable as the mode
    /// promises: on stable storage (`Sync`), written to the OS (`Buffered`), or at once
    /// (`InMemory`). Returns the record's LSN and commit time. While a group holding a
    /// record that `paces` syncs, and for a while after, background builds write at the
    /// paced rate (`fs/throttle.rs`).
    pub fn append(&self, payload: Vec<u8>, paces: bool) -> Result<(Lsn, Timestamp)> {
        // No reader takes a longer record (and segments are sized by it).
        if payload.len() > MAX_RECORD_LEN {
            return Err(Error::validation(format!(
                "the request's log record is {} bytes, over the log's limit of {MAX_RECORD_LEN}",
                payload.len()
            )));
        }
        let mut state = self.state.lock();
        if let Some(failure) = self.failure.get() {
            return Err(failure.error());
        }
        let lsn = state.next_lsn;
        let mut time = self.clock.now().max(state.last_time);
        if let Some(fence) = state.fence {
            time = time.max(Timestamp(fence.0 + 1));
        }
        state.next_lsn += 1;
        state.last_time = time;
        if self.config.durability == Durability::InMemory {
            state.written = lsn;
            state.durable = lsn;
            if let Some(retention) = self.config.follow_retention.filter(|_| follows(&payload)) {
                // Under the state lock, so in LSN order.
                let horizon = time.0.saturating_sub(retention.as_millis() as u64);
                while state.followed.front().is_some_and(|r| r.time.0 < horizon) {
                    if let Some(gone) = state.followed.pop_front() {
                        state.forgotten = gone.lsn;
                    }
                }
                state.followed.push_back(Followed {
                    place: Place::at(lsn),
                    lsn,
                    time,
                    payload: payload.into(),
                });
            }
            self.advanced.notify_all();
            return Ok((lsn, time));
        }
        state.pending.push(Pending {
            lsn,
            time,
            payload,
            paces,
        });
        // The flush that will carry this record: the next one to start. Its waiters sleep on
        // their own condition variable, so a finished flush wakes only the writers it made
        // durable (and one writer of the next group to lead it), not everyone.
        let flush = state.next_flush;
        let sync = self.config.durability == Durability::Sync;
        loop {
            let done = if sync {
                state.durable >= lsn
            } else {
                state.written >= lsn
            };
            if done {
                return Ok((lsn, time));
            }
            if let Some(failure) = self.failure.get() {
                return Err(failure.error());
            }
            if state.flushing {
                self.flushed[(flush % 2) as usize].wait(&mut state);
                continue;
            }
            // Become the leader of the next group.
            state.flushing = true;
            let this_flush = state.next_flush;
            state.next_flush += 1;
            let group = std::mem::take(&mut state.pending);
            drop(state);
            let paces = sync && group.iter().any(|p| p.paces);
            let pacing = paces.then(|| self.config.throttle.syncing());
            let result = self.write_group(group, sync);
            drop(pacing);
            state = self.state.lock();
            state.flushing = false;
            // (A failure is recorded by `write_group`; the loop above returns it.)
            if let Ok(last) = result {
                state.written = last;
                if sync {
                    state.durable = last;
                }
                self.advanced.notify_all();
            }
            self.flushed[(this_flush % 2) as usize].notify_all();
            let next = &self.flushed[((this_flush + 1) % 2) as usize];
            if self.failure.get().is_some() {
                next.notify_all();
            } else if !state.pending.is_empty() {
                // Hand the next group to one of its writers.
                next.notify_one();
            }
        }
    }

    /// Writes a group of records (in LSN order) with one write, and syncs if asked.
    /// Returns the last LSN written; a failure poisons the log.
    fn write_group(&self, group: Vec<Pending>, sync: bool) -> Result<Lsn> {
        let mut segment = self.segment.lock();
        self.write_group_locked(&mut segment, group, sync)
            .map_err(|failure| self.poison(failure))
    }

    /// Poisons the log for a failure after a commit that the log did not see itself: the
    /// catalog's record of a new table's first snapshot could not be written after the
    /// record that makes the table exist was. Nothing more is acknowledged until a reopen,
    /// whose recovery finishes the change from the log (invariant I8).
    pub fn fail_stop(&self, context: impl Into<String>, error: &Error) -> Error {
        let source = match error {
            Error::Io { source, .. } => match source.raw_os_error() {
                Some(code) => std::io::Error::from_raw_os_error(code),
                None => std::io::Error::new(source.kind(), source.to_string()),
            },
            other => std::io::Error::other(other.to_string()),
        };
        self.poison(Failure {
            context: context.into(),
            source,
        })
    }

    /// Records `failure` as the reason the log accepts no write (unless an earlier one is)
    /// and returns the error of the log's poisoning.
    fn poison(&self, failure: Failure) -> Error {
        self.failure.get_or_init(|| failure).error()
    }

    fn write_group_locked(
        &self,
        segment: &mut Option<Segment>,
        group: Vec<Pending>,
        sync: bool,
    ) -> Result<Lsn, Failure> {
        let no_segment = || {
            Failure::of("appending to the log")(std::io::Error::other(
                "the log has no open segment",
            ))
        };
        let mut buffer = Vec::with_capacity(
            group
                .iter()
                .map(|p| p.payload.len() + RECORD_HEADER_LEN)
                .sum(),
        );
        for p in &group {
            let current = segment.as_mut().ok_or_else(no_segment)?;
            // A full segment is closed before the next record, not the next group: so no
            // segment is longer than `segment_bytes` and one record (`MAX_SEGMENT_LEN`),
            // however many writers a group carries.
            let len = current.len + buffer.len() as u64;
            if len >= self.config.segment_bytes && current.first_lsn < p.lsn {
                append(current, &buffer, self.config.segment_bytes)?;
                buffer.clear();
                self.rotate_locked(segment, p.lsn, sync)?;
            }
            let current = segment.as_mut().ok_or_else(no_segment)?;
            // What was durable when it was written: so recovery tells a write a crash tore
            // from damage to a record made durable before (`format/log_segment.rs`).
            encode_record(
                &mut buffer,
                (current.first_lsn, self.config.db_id),
                p.lsn,
                p.time,
                current.synced_len,
                &p.payload,
            );
        }
        let current = segment.as_mut().ok_or_else(no_segment)?;
        append(current, &buffer, self.config.segment_bytes)?;
        crate::fs::killpoint::reached("wal.appended");
        if sync {
            current
                .file
                .sync_data()
                .map_err(Failure::of("syncing the log"))?;
            current.synced_len = current.len;
            crate::fs::killpoint::reached("wal.synced");
        }
        Ok(group.last().map_or(0, |p| p.lsn))
    }

    /// Closes the current segment and starts the next one, whose first record is `first`.
    /// The closed segment waits for its seal (see "Segments") unless `seal_now`.
    ///
    /// IMPORTANT: a segment already waiting is sealed first: recovery knows what to make of
    /// one unsealed segment before the newest, not of two.
    fn rotate_locked(
        &self,
        segment: &mut Option<Segment>,
        first: Lsn,
        seal_now: bool,
    ) -> Result<(), Failure> {
        let mut unsealed = self.unsealed.lock();
        // A seal that failed beside this (in a sync) poisoned the log: no rotation after it.
        refuse_if_poisoned(&self.failure)?;
        if let Some(waiting) = unsealed.take() {
            self.seal(waiting)?;
        }
        if let Some(full) = segment.as_mut().filter(|s| s.reserved > s.len) {
            // The zeros ahead go: a seal ends its segment. (The seal's first sync makes
            // the cut durable, before the seal is written.)
            full.file
                .set_len(full.len)
                .map_err(Failure::of("cutting a log segment to its records"))?;
            full.reserved = full.len;
        }
        let full_first = segment.as_ref().map(|s| s.first_lsn);
        let next = self.start_segment(first, full_first)?;
        if let Some(full) = segment.take() {
            *unsealed = Some(Unsealed {
                first_lsn: full.first_lsn,
                file: full.file,
                next: first,
                successor: Arc::clone(&next.syncer),
            });
        }
        *segment = Some(next);
        if seal_now {
            if let Some(waiting) = unsealed.take() {
                self.seal(waiting)?;
            }
            if let Some(current) = segment.as_mut() {
                current.synced_len = SEGMENT_HEADER_LEN as u64;
                current.unsealed_before = None;
            }
        }
        Ok(())
    }

    /// Seals a full segment: its records (and its cut) synced, then its successor's header
    /// and directory entry, then the seal naming the successor, synced.
    ///
    /// IMPORTANT: in this order. The full segment's records are durable before its seal
    /// says the log goes on in the next one, and the next one exists durably before the
    /// seal names it (`format/log_segment.rs`, "Which segments must exist").
    fn seal(&self, waiting: Unsealed) -> Result<(), Failure> {
        let Unsealed {
            first_lsn,
            mut file,
            next,
            successor,
        } = waiting;
        file.sync_data()
            .map_err(Failure::of("syncing a full log segment"))?;
        successor
            .lock()
            .sync_all()
            .map_err(Failure::of("syncing a new log segment"))?;
        self.fs
            .sync_dir(&self.config.dir)
            .map_err(Failure::of("syncing the log directory"))?;
        crate::fs::killpoint::reached("wal.created");
        seal_segment(&mut *file, first_lsn, self.config.db_id, next)
            .map_err(Failure::of("sealing a full log segment"))?;
        crate::fs::killpoint::reached("wal.rotated");
        Ok(())
    }

    /// Makes everything written so far durable, and returns the durable LSN. Used by the
    /// buffered mode's background syncer and before a checkpoint, which must never cover a
    /// record that a crash could still lose.
    ///
    /// The sync runs on the segment's second handle, without the segment's lock: writers
    /// keep appending meanwhile (their records are not claimed durable by this sync). A
    /// segment waiting for its seal is sealed first (which syncs it), also without the
    /// segment's lock. Every record up to `written` is in one of these two or in an older
    /// one, which was sealed.
    pub fn sync(&self) -> Result<Lsn> {
        let written = {
            let state = self.state.lock();
            if let Some(failure) = self.failure.get() {
                return Err(failure.error());
            }
            if self.config.durability == Durability::InMemory || state.durable == state.written {
                return Ok(state.durable);
            }
            state.written
        };
        // Both read under the segment's lock, so that no rotation comes between them. The
        // waiting segment's lock is kept while it is sealed, so that no rotation makes
        // another meanwhile.
        let (target, mut unsealed) = loop {
            let segment = self.segment.lock();
            let Some(unsealed) = self.unsealed.try_lock() else {
                // Another sync is sealing: wait for it without the segment's lock, which
                // writers need.
                drop(segment);
                drop(self.unsealed.lock());
                continue;
            };
            let target = segment
                .as_ref()
                .filter(|s| s.synced_len < s.len)
                .map(|s| (Arc::clone(&s.syncer), s.first_lsn, s.len));
            break (target, unsealed);
        };
        if let Some(waiting) = unsealed.take() {
            if let Err(failure) = self.seal(waiting) {
                // Before the waiting segment's lock goes: a rotation waiting for it must
                // find the log poisoned, not make a second unsealed segment.
                drop(self.poison(failure));
            }
        }
        drop(unsealed);
        // (A failure is reported below.)
        let poisoned = self.failure.get().is_some();
        if let Some((syncer, first_lsn, len)) = target.filter(|_| !poisoned) {
            let result = syncer.lock().sync_data();
            let mut segment = self.segment.lock();
            match result {
                Err(source) => drop(self.poison(Failure::of("syncing the log")(source))),
                Ok(()) => {
                    if let Some(s) = segment.as_mut().filter(|s| s.first_lsn == first_lsn) {
                        // Its header too, and the segment before it is sealed.
                        s.synced_len = s.synced_len.max(len);
                        s.unsealed_before = None;
                    }
                }
            }
        }
        let mut state = self.state.lock();
        // A write or sync that failed beside this one may have lost records this sync
        // would otherwise claim.
        if let Some(failure) = self.failure.get() {
            // Writers waiting for a flush learn of it now.
            for cv in &self.flushed {
                cv.notify_all();
            }
            return Err(failure.error());
        }
        state.durable = state.durable.max(written);
        self.advanced.notify_all();
        Ok(state.durable)
    }

    /// The last LSN a reader of the log may see: its record is as durable as the mode
    /// promises an acknowledged write to be (on stable storage in `Sync` mode, written to
    /// the OS in `Buffered` mode), so no crash takes it back.
    pub fn readable_lsn(&self) -> Lsn {
        let state = self.state.lock();
        match self.config.durability {
            Durability::Sync => state.durable,
            Durability::Buffered | Durability::InMemory => state.written,
        }
    }

    /// Waits until [`Wal::readable_lsn`] reaches `lsn` or `timeout` passes; returns it.
    pub fn wait_readable(&self, lsn: Lsn, timeout: std::time::Duration) -> Lsn {
        let deadline = std::time::Instant::now() + timeout;
        let mut state = self.state.lock();
        loop {
            let readable = match self.config.durability {
                Durability::Sync => state.durable,
                Durability::Buffered | Durability::InMemory => state.written,
            };
            if readable >= lsn || self.failure.get().is_some() {
                return readable;
            }
            if self.advanced.wait_until(&mut state, deadline).timed_out() {
                return readable;
            }
        }
    }

    /// In memory mode, the last LSN of the records kept for streams that were dropped for
    /// age: a stream cannot be read from before it.
    pub fn forgotten(&self) -> Lsn {
        self.state.lock().forgotten
    }

    /// In memory mode, where there are no segments to read: the records from `from` on
    /// (at most `max` of them) of those kept for streams — the item writes of tables with a
    /// stream ([`follows`]), of the last `follow_retention`. `None` if `from` is older than
    /// what is kept and a record since may be gone.
    pub fn followed(&self, from: Lsn, max: usize) -> Option<Vec<Followed>> {
        let state = self.state.lock();
        let kept = &state.followed;
        if from <= state.forgotten {
            return None;
        }
        let start = kept.partition_point(|r| r.lsn < from);
        Some(
            kept.iter()
                .skip(start)
                .take(max)
                .map(|r| Followed {
                    place: r.place,
                    lsn: r.lsn,
                    time: r.time,
                    payload: r.payload.clone(),
                })
                .collect(),
        )
    }

    /// Returns once every record up to `lsn` is durable (records still in a group being
    /// written are waited for).
    pub fn sync_through(&self, lsn: Lsn) -> Result<Lsn> {
        loop {
            let durable = self.sync()?;
            if durable >= lsn {
                return Ok(durable);
            }
            // The record is in a group a leader is writing now: it will be written shortly.
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
    }

    /// Closes the moment `time`: every record appended from now on gets a later commit time,
    /// so the set of records committed at or before `time` is final. Returns the last LSN
    /// handed out. A point-in-time restore to `time` reads exactly up to it, and a second
    /// restore to the same moment finds the same records.
    pub fn fence_time(&self, time: Timestamp) -> Lsn {
        let mut state = self.state.lock();
        state.fence = state.fence.max(Some(time));
        state.next_lsn - 1
    }

    /// The last LSN handed out and its commit time.
    pub fn last_committed(&self) -> (Lsn, Timestamp) {
        let state = self.state.lock();
        (state.next_lsn - 1, state.last_time)
    }

    /// The durable LSN.
    pub fn durable_lsn(&self) -> Lsn {
        self.state.lock().durable
    }

    /// Starts a new segment after the last record written, unless the current one holds
    /// no record yet. A clean close does this once its snapshots cover the whole log: the
    /// full segment can then go, and the next open reads an empty segment instead of up to
    /// `segment_bytes` of records it does not need (measured: 60 ms of a 70 ms open of 300k
    /// items). Returns false, doing nothing, while records are in flight or unsynced.
    pub fn rotate(&self) -> Result<bool> {
        let next = {
            let state = self.state.lock();
            if let Some(failure) = self.failure.get() {
                return Err(failure.error());
            }
            let idle =
                state.pending.is_empty() && !state.flushing && state.durable == state.next_lsn - 1;
            if self.config.durability == Durability::InMemory || !idle {
                return Ok(false);
            }
            state.next_lsn
        };
        let mut segment = self.segment.lock();
        if segment.as_ref().is_none_or(|s| s.first_lsn == next) {
            return Ok(false);
        }
        // A failure poisons the log: records appended to the old segment after a half-made
        // new one would not tile.
        self.rotate_locked(&mut segment, next, true)
            .map_err(|f| self.poison(f))?;
        Ok(true)
    }

    /// Cuts the segment being written back to its records, durably: the zeros written
    /// ahead of them go (a clean close does this). Does nothing while records are in
    /// flight, or if there are no zeros.
    pub fn cut_reserve(&self) -> Result<()> {
        {
            let state = self.state.lock();
            if let Some(failure) = self.failure.get() {
                return Err(failure.error());
            }
            if !state.pending.is_empty() || state.flushing {
                return Ok(());
            }
        }
        let mut segment = self.segment.lock();
        let mut unsealed = self.unsealed.lock();
        refuse_if_poisoned(&self.failure).map_err(|f| self.poison(f))?;
        if let Some(waiting) = unsealed.take() {
            // Before its successor's records are synced as the last (see "Segments").
            self.seal(waiting).map_err(|f| self.poison(f))?;
            if let Some(s) = segment.as_mut() {
                s.unsealed_before = None;
            }
        }
        match segment.as_mut().filter(|s| s.reserved > s.len) {
            Some(s) => settle(s).map_err(|f| self.poison(f)),
            None => Ok(()),
        }
    }

    /// The first LSN of the oldest segment that may still change: the one being written,
    /// or the one before it while its seal waits. Segments before it are complete.
    pub fn current_segment(&self) -> Option<Lsn> {
        let segment = self.segment.lock();
        segment
            .as_ref()
            .map(|s| s.unsealed_before.unwrap_or(s.first_lsn))
    }
}

/// Creates, durably, the log segment in `dir` whose first record will be `first_lsn`: its
/// header and its directory entry are synced before it is returned, so before any record
/// goes into it and before anything (a seal, the catalog) names it.
pub(crate) fn create_segment(
    fs: &dyn Vfs,
    dir: &Path,
    first_lsn: Lsn,
    db_id: u64,
) -> std::io::Result<Box<dyn VfsFile>> {
    let mut file = fs.create(&dir.join(segment_name(first_lsn)))?;
    file.append(&encode_segment_header(first_lsn, db_id))?;
    file.sync_all()?;
    // IMPORTANT: sync the directory, or the new segment's entry may not survive a crash
    // while the records in it were acknowledged.
    fs.sync_dir(dir)?;
    Ok(file)
}

/// Seals the segment `file` starting at `first_lsn`, whose records end where the file does,
/// with the first LSN of the next segment, which must exist durably: from now on a missing
/// next segment is corruption (see `format/log_segment.rs`). The seal is synced before a
/// record goes into the next segment.
pub(crate) fn seal_segment(
    file: &mut dyn VfsFile,
    first_lsn: Lsn,
    db_id: u64,
    next: Lsn,
) -> std::io::Result<()> {
    file.append(&encode_seal(first_lsn, db_id, next))?;
    file.sync_data()
}

/// Fails if the log is poisoned: with a failure the poisoning's own error replaces (the
/// first failure is the one kept: [`Wal::poison`]).
fn refuse_if_poisoned(failure: &OnceLock<Failure>) -> Result<(), Failure> {
    match failure.get() {
        Some(_) => Err(Failure::of("writing to the log")(std::io::Error::other(
            "the log is poisoned",
        ))),
        None => Ok(()),
    }
}

/// Makes `segment` end at its records, durably: the zeros ahead of them cut, and whatever
/// is not synced yet synced.
fn settle(segment: &mut Segment) -> Result<(), Failure> {
    let cut = segment.reserved > segment.len;
    if cut {
        segment
            .file
            .set_len(segment.len)
            .map_err(Failure::of("cutting a log segment to its records"))?;
        segment.reserved = segment.len;
    }
    if cut || segment.synced_len < segment.len {
        segment
            .file
            .sync_data()
            .map_err(Failure::of("syncing a log segment"))?;
        segment.synced_len = segment.len;
    }
    Ok(())
}

/// Writes `bytes` after the segment's records, and zeroes the space ahead of them again
/// when they reached the end of it: up to [`RESERVE_BYTES`] past them, never past
/// `segment_bytes` (the segment is full there).
fn append(segment: &mut Segment, bytes: &[u8], segment_bytes: u64) -> Result<(), Failure> {
    if bytes.is_empty() {
        return Ok(());
    }
    segment
        .file
        .write_at(segment.len, bytes)
        .map_err(Failure::of("appending to the log"))?;
    segment.len += bytes.len() as u64;
    segment.reserved = segment.reserved.max(segment.len);
    if segment.reserved == segment.len && segment.len < segment_bytes {
        let to = segment_bytes.min(segment.len + RESERVE_BYTES);
        while segment.reserved < to {
            let n = (to - segment.reserved).min(ZEROS.len() as u64) as usize;
            // NB: a failure here (a full disk) is no failure of the log: the records are
            // written, and the next group appends past the zeros there are (which read as
            // a torn tail) or tries again.
            if segment
                .file
                .write_at(segment.reserved, &ZEROS[..n])
                .is_err()
            {
                segment.reserved = segment.file.len().unwrap_or(segment.len);
                break;
            }
            segment.reserved += n as u64;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    use crate::format::log_segment::{list_segments, read_segment};
    use crate::fs::sim::SimFs;
    use crate::model::clock::ManualClock;

    const DIR: &str = "/wal";

    fn open(fs: &SimFs, durability: Durability, segment_bytes: u64) -> Wal {
        open_paced(fs, durability, segment_bytes, Arc::default())
    }

    fn open_paced(
        fs: &SimFs,
        durability: Durability,
        segment_bytes: u64,
        throttle: Arc<Throttle>,
    ) -> Wal {
        open_on(
            fs,
            Arc::new(fs.clone()),
            durability,
            segment_bytes,
            throttle,
        )
    }

    /// A log on `vfs`, which is `fs` or wraps it.
    fn open_on(
        fs: &SimFs,
        vfs: Arc<dyn Vfs>,
        durability: Durability,
        segment_bytes: u64,
        throttle: Arc<Throttle>,
    ) -> Wal {
        fs.create_dir_all(Path::new(DIR)).expect("log directory");
        if durability != Durability::InMemory {
            // Recovery makes sure of the segment the log continues in.
            create_segment(fs, Path::new(DIR), 1, 7).expect("first segment");
        }
        let config = WalConfig {
            dir: DIR.into(),
            db_id: 7,
            durability,
            segment_bytes,
            follow_retention: Some(std::time::Duration::from_secs(60)),
            throttle,
        };
        let clock = Arc::new(ManualClock::new(Timestamp(1)));
        Wal::open(vfs, config, clock, 0, Timestamp(0)).expect("opens")
    }

    /// Rotation happens between records, not between groups: a group of many writers is
    /// split across segments, so no segment grows past `segment_bytes` by more than one
    /// record, and `MAX_SEGMENT_LEN` holds whatever a group carries.
    /// Background builds give way while a durable commit of a record that paces syncs (a
    /// writer's), not for one that does not (a backup's marker, whose build would otherwise
    /// be paced by its own request); nor in Buffered mode, where no writer waits for a sync.
    #[test]
    fn only_a_synced_record_that_paces_makes_builds_give_way() {
        let now = std::time::Instant::now;
        let fs = SimFs::new();
        let throttle = Arc::new(Throttle::new(1_000_000));
        let wal = open_paced(&fs, Durability::Sync, 1 << 20, Arc::clone(&throttle));
        wal.append(vec![1; 10], false).expect("appends");
        assert!(!throttle.committing(now()));
        wal.append(vec![1; 10], true).expect("appends");
        assert!(throttle.committing(now()));

        let fs = SimFs::new();
        let throttle = Arc::new(Throttle::new(1_000_000));
        let wal = open_paced(&fs, Durability::Buffered, 1 << 20, Arc::clone(&throttle));
        wal.append(vec![1; 10], true).expect("appends");
        assert!(!throttle.committing(now()));
    }

    #[test]
    fn a_large_group_is_split_across_segments_so_none_outgrows_one_record_past_segment_bytes() {
        let fs = SimFs::new();
        let wal = open(&fs, Durability::Sync, 4096);
        let payload = 1000;
        let group = (1..=40)
            .map(|lsn| Pending {
                lsn,
                time: Timestamp(lsn),
                payload: vec![lsn as u8; payload],
                paces: true,
            })
            .collect();
        assert_eq!(wal.write_group(group, true).expect("written"), 40);
        let segments = list_segments(&fs, Path::new(DIR)).expect("segments");
        assert!(segments.len() >= 10, "{segments:?}");
        let mut lsns = Vec::new();
        for (i, &first) in segments.iter().enumerate() {
            let path = Path::new(DIR).join(segment_name(first));
            let len = fs.file_bytes(&path).expect("segment").len();
            assert!(
                len < 4096 + RECORD_HEADER_LEN + payload,
                "segment {first} is {len} bytes"
            );
            let contents =
                read_segment(&fs, &path, (first, 7), i + 1 == segments.len(), Vec::new());
            lsns.extend(contents.expect("reads").records.iter().map(|r| r.lsn));
        }
        assert_eq!(lsns, (1..=40).collect::<Vec<_>>());
    }

    /// Commits write into zeros written ahead of them ("Space zeroed ahead"): the file
    /// grows once per `RESERVE_BYTES` of records, not per commit, and the zeros after the
    /// last record read as a torn tail, not as records or damage.
    #[test]
    fn commits_write_into_space_zeroed_ahead_so_the_file_grows_once_per_reserve() {
        let fs = SimFs::new();
        let wal = open(&fs, Durability::Sync, 64 << 20);
        let path = Path::new(DIR).join(segment_name(1));
        let mut lengths = std::collections::BTreeSet::new();
        let record = RECORD_HEADER_LEN as u64 + 100;
        for _ in 0..10_000 {
            wal.append(vec![1; 100], true).expect("appends");
            lengths.insert(fs.file_bytes(&path).expect("segment").len() as u64);
        }
        let end = SEGMENT_HEADER_LEN as u64 + 10_000 * record;
        let first = SEGMENT_HEADER_LEN as u64 + record + RESERVE_BYTES;
        assert!(end > first, "the records outgrow the first reserve");
        assert_eq!(lengths.len(), 2, "the file had {} lengths", lengths.len());
        assert_eq!(lengths.first(), Some(&first));
        assert!(lengths.iter().all(|&l| l <= end + RESERVE_BYTES));
        let contents = read_segment(&fs, &path, (1, 7), true, Vec::new()).expect("reads");
        assert_eq!(contents.records.len(), 10_000);
        assert_eq!(contents.valid_len, end);
        assert!(
            contents.torn(),
            "the zeros after the records are a tail to cut"
        );
    }

    /// Records written over zeroed space reach the disk in any order of their pages: a
    /// crash can keep a later page of an unsynced write and lose an earlier one. Such a
    /// hole is a torn tail (the records after it say nothing before it was durable when
    /// they were written), not corruption; a record that was durable and is damaged, with
    /// records written after its sync behind it, still is corruption.
    #[test]
    fn a_hole_in_unsynced_records_is_a_torn_tail_and_damage_to_synced_ones_is_corruption() {
        let fs = SimFs::new();
        let wal = open(&fs, Durability::Buffered, 64 << 20);
        let path = Path::new(DIR).join(segment_name(1));
        let record = RECORD_HEADER_LEN + 3000;
        for _ in 0..3 {
            wal.append(vec![1; 3000], true).expect("appends");
        }
        wal.sync().expect("syncs");
        let durable = fs.file_bytes(&path).expect("segment");
        let fourth = SEGMENT_HEADER_LEN + 3 * record;
        wal.append(vec![2; 3000], true).expect("appends");
        wal.append(vec![3; 3000], true).expect("appends");
        let written = fs.file_bytes(&path).expect("segment");
        // The fifth record reached the disk, the fourth did not.
        let mut image = durable.clone();
        let fifth = fourth + record;
        image[fifth..fifth + record].copy_from_slice(&written[fifth..fifth + record]);
        let crashed = SimFs::new();
        crashed.set_file_bytes(&path, &image).expect("plants");
        let contents = read_segment(&crashed, &path, (1, 7), true, Vec::new())
            .expect("a torn tail, not corruption");
        assert_eq!(contents.records.len(), 3);
        assert_eq!(contents.valid_len, fourth as u64);

        // Synced, then a record written after that: damage to the fourth is corruption.
        wal.sync().expect("syncs");
        wal.append(vec![4; 3000], true).expect("appends");
        let mut damaged = fs.file_bytes(&path).expect("segment");
        damaged[fourth + RECORD_HEADER_LEN] ^= 1;
        crashed.set_file_bytes(&path, &damaged).expect("plants");
        let read = read_segment(&crashed, &path, (1, 7), true, Vec::new());
        let records = read.as_ref().map(|c| c.records.len());
        assert!(matches!(read, Err(Error::Corruption(_))), "{records:?}");
    }

    /// A crash that keeps any subset of the pages of the unsynced writes (`ReorderPages`)
    /// leaves a segment that reads as a prefix of the records holding every synced one,
    /// never as corruption (fails when `synced` is ignored by the reader).
    #[test]
    fn any_pages_of_unsynced_writes_lost_in_a_crash_leave_a_prefix_never_corruption() {
        use crate::fs::sim::CrashPolicy;
        let fs = SimFs::new();
        let wal = open(&fs, Durability::Buffered, 64 << 20);
        fs.sync_dir(Path::new("/"))
            .expect("the log directory is durable");
        let path = Path::new(DIR).join(segment_name(1));
        let mut synced = 0;
        for lsn in 1..=60u64 {
            wal.append(vec![lsn as u8; 1500], true).expect("appends");
            if lsn % 7 == 0 {
                synced = wal.sync().expect("syncs");
            }
        }
        for seed in 0..40 {
            let image = fs.after_crash(CrashPolicy::ReorderPages, seed);
            let contents = read_segment(&image, &path, (1, 7), true, Vec::new())
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            let lsns: Vec<Lsn> = contents.records.iter().map(|r| r.lsn).collect();
            assert!(
                lsns.len() as u64 >= synced,
                "seed {seed}: lost synced records"
            );
            assert_eq!(
                lsns,
                (1..=lsns.len() as u64).collect::<Vec<_>>(),
                "seed {seed}"
            );
            for r in &contents.records {
                assert_eq!(contents.payload(r), vec![r.lsn as u8; 1500]);
            }
        }
    }

    /// Whether the segment starting at `first` ends in its seal.
    fn sealed(fs: &SimFs, first: Lsn) -> bool {
        let path = Path::new(DIR).join(segment_name(first));
        read_segment(fs, &path, (first, 7), false, Vec::new())
            .expect("reads")
            .sealed
    }

    #[test]
    fn a_buffered_rotation_syncs_nothing_and_the_next_sync_seals_the_full_segment() {
        use crate::fs::sim::{FaultError, FaultPlan, OpKind};
        let fs = SimFs::new();
        let wal = open(&fs, Durability::Buffered, 4096);
        // A sync or directory sync from now on fails: the writes must not make one.
        for on in [OpKind::Sync, OpKind::SyncDir] {
            fs.fail_at(FaultPlan {
                at_op: fs.op_count() + 1,
                on,
                error: FaultError::Eio,
                persistent: true,
            });
        }
        // Four records fill the first segment; the fifth starts the next.
        for _ in 0..5 {
            wal.append(vec![7; 1000], false)
                .expect("written without a sync");
        }
        let segments = list_segments(&fs, Path::new(DIR)).expect("segments");
        let [full, _] = segments[..] else {
            panic!("{segments:?}")
        };
        assert!(!sealed(&fs, full));
        assert_eq!(wal.current_segment(), Some(full));
        // The seal is the next sync's.
        assert!(
            matches!(wal.sync(), Err(Error::Poisoned { context, .. }) if context.contains("full log segment"))
        );

        let fs = SimFs::new();
        let wal = open(&fs, Durability::Buffered, 4096);
        for _ in 0..12 {
            wal.append(vec![7; 1000], false).expect("written");
        }
        let segments = list_segments(&fs, Path::new(DIR)).expect("segments");
        // One full segment waits for its seal: a rotation seals the one waiting before.
        let [.., older, full, newest] = segments[..] else {
            panic!("{segments:?}")
        };
        assert!(sealed(&fs, older) && !sealed(&fs, full));
        assert_eq!(wal.current_segment(), Some(full));
        assert_eq!(wal.sync().expect("synced"), 12);
        assert!(sealed(&fs, full));
        assert_eq!(wal.current_segment(), Some(newest));
    }

    #[test]
    fn a_sync_waiting_for_another_syncs_seal_does_not_hold_up_writers() {
        use crate::fs::sim::HookFs;
        use crate::fs::sim::OpKind;
        use std::sync::atomic::Ordering;
        use std::sync::mpsc;
        use std::time::Duration;
        let fs = SimFs::new();
        // The seal's directory sync is held until the test lets it go.
        let (held_tx, held_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let armed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let hook_armed = Arc::clone(&armed);
        let vfs = HookFs::new(Arc::new(fs.clone()), move |kind, _| {
            if kind == OpKind::SyncDir && hook_armed.swap(false, Ordering::SeqCst) {
                held_tx.send(()).expect("test waits");
                release_rx.lock().recv().expect("test releases");
            }
            Ok(())
        });
        let wal = open_on(
            &fs,
            Arc::new(vfs),
            Durability::Buffered,
            4096,
            Arc::default(),
        );
        for _ in 0..5 {
            wal.append(vec![7; 1000], false).expect("written");
        }
        armed.store(true, Ordering::SeqCst);
        let wal = &wal;
        std::thread::scope(|s| {
            let sealing = s.spawn(move || wal.sync());
            held_rx.recv().expect("the seal reached its directory sync");
            let waiting = s.spawn(move || wal.sync());
            std::thread::sleep(Duration::from_millis(50));
            let (done_tx, done_rx) = mpsc::channel();
            let writer = s.spawn(move || {
                let written = wal.append(vec![7; 100], false);
                done_tx.send(()).expect("test waits");
                written
            });
            let unblocked = done_rx.recv_timeout(Duration::from_secs(5)).is_ok();
            release_tx.send(()).expect("hook waits");
            assert!(unblocked, "a write waited for another sync's seal");
            writer.join().expect("writer").expect("written");
            assert_eq!(sealing.join().expect("sync").expect("synced"), 5);
            assert!(waiting.join().expect("sync").expect("synced") >= 5);
        });
    }

    #[test]
    fn a_sync_rotation_seals_before_the_next_segment_takes_a_record() {
        let fs = SimFs::new();
        let wal = open(&fs, Durability::Sync, 4096);
        for _ in 0..5 {
            wal.append(vec![7; 1000], false).expect("written");
        }
        let segments = list_segments(&fs, Path::new(DIR)).expect("segments");
        let [full, newest] = segments[..] else {
            panic!("{segments:?}")
        };
        assert!(sealed(&fs, full));
        assert_eq!(wal.current_segment(), Some(newest));
        // Its records say the segment's header was durable when they were written.
        let path = Path::new(DIR).join(segment_name(newest));
        let contents = read_segment(&fs, &path, (newest, 7), true, Vec::new()).expect("reads");
        assert!(contents
            .records
            .iter()
            .all(|r| r.synced >= Some(SEGMENT_HEADER_LEN as u64)));
    }

    #[test]
    fn a_record_longer_than_a_reader_takes_is_refused_before_it_gets_an_lsn() {
        let wal = open(&SimFs::new(), Durability::Sync, 4096);
        let refused = wal.append(vec![0; MAX_RECORD_LEN + 1], true);
        assert!(matches!(refused, Err(Error::Validation(_))), "{refused:?}");
        assert_eq!(wal.last_committed().0, 0);
        assert_eq!(wal.append(vec![0; 10], true).expect("appends").0, 1);
    }
}
