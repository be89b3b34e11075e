//! `SimFs`: an in-memory [`Vfs`] that can crash at any operation and show what a disk could hold
//! afterwards, so crash and fault tests run deterministically, without processes or root.
//!
//! # The model
//!
//! - **Files.** Each file (inode) has *durable* bytes and a list of *pending* writes (appends and
//!   `set_len`s) made since its last successful sync. Reads see the *current* view: the durable
//!   bytes with the pending writes applied in order. A sync makes the current view durable.
//!   Handles share their inode, and a rename moves the inode, as on a real file system.
//! - **Directories.** Each directory has *durable* entries and a list of *pending* changes (create,
//!   rename, remove, and the creation of a subdirectory). [`Vfs::sync_dir`] makes the changes
//!   durable; syncing a file does not. A rename within one directory is one change; a rename
//!   across directories is a change in each. If a directory's own entry does not survive a
//!   crash, nothing inside it does either. Removing an (empty) directory is a change in its
//!   parent, queued after the changes still pending in the directory itself, so a crash may
//!   keep it with any of those. The roots `/` and `""` (the current directory) always
//!   exist.
//! - **Operations.** Every call of a [`Vfs`] or [`VfsFile`] method is one operation, numbered from
//!   1 ([`SimFs::op_count`]). [`SimFs::crash_at`]`(n)` makes operation `n` and every later one fail,
//!   as if the power went out just before `n`; [`SimFs::fail_at`] injects I/O errors instead.
//! - **After a crash.** [`SimFs::after_crash`] builds a new file system holding one image a disk
//!   could hold: everything durable, plus some of the pending writes and directory changes as
//!   chosen by a [`CrashPolicy`] and a seed. Recovery then runs on that image.
//!
//! A crash test therefore reads (the TH3 method of SQLite):
//!
//! ```text
//! total = op count of a fault-free run of the workload
//! for n in 1..=total, for policy in CrashPolicy::ALL:
//!     fs = SimFs::new(); fs.crash_at(n); run the workload on fs until it errors
//!     recover on fs.after_crash(policy, seed) and check what survived
//! ```
//!
//! [`HookFs`] wraps any `Vfs` (this one or the real one) to hold or fail the operations a test
//! picks by kind, path and thread.
//!
//! Not modelled: damage to bytes that were synced (bit rot), a difference between `sync_data` and
//! `sync_all` (both make data and length durable), short writes (a write happens whole or
//! errors), hard links, symbolic links, renaming directories (removing an empty one is
//! modelled), and `.` or `..` inside paths.

mod hook;

pub use hook::{Hook, HookFs};

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{MappedMutexGuard, Mutex, MutexGuard};

use crate::fs::{EntryKind, Vfs, VfsFile};

/// The seed used when `TIDESTORE_SEED` is not set.
const DEFAULT_SEED: u64 = 0x7469_6465_7374_6f72;

/// A small deterministic random number generator (splitmix64), so that one seed reproduces a
/// whole simulated run without a dependency.
#[derive(Debug, Clone)]
pub struct SimRng(u64);

impl SimRng {
    /// Starts the sequence for `seed`.
    pub fn new(seed: u64) -> SimRng {
        SimRng(seed)
    }

    /// Returns the next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a number in `0..n` (0 when `n` is 0), to pick among `n` choices.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }
}

/// What a crash keeps of the writes and directory changes that were not yet synced. Durable
/// bytes and entries always survive. Under every policy but `DropUnsynced`, each pending
/// directory change applies or not by seed, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPolicy {
    /// Files revert to their durable bytes and directories to their durable entries: un-synced
    /// creates vanish, un-synced renames and removes are undone. Models a power loss that
    /// flushed nothing beyond what was synced (RocksDB's fault-injection file system).
    DropUnsynced,
    /// Each file keeps its pending writes in order up to a seed-chosen count. Models a disk that
    /// writes back in order but stopped part-way.
    KeepPrefix,
    /// Each pending write applies or not by seed; a skipped write before a kept one leaves a hole
    /// of zeros. Models the page cache writing back pages in any order (SQLite's crash VFS).
    Reorder,
    /// Like `KeepPrefix`, but the last kept write is cut at a random byte or a 512/4096 boundary,
    /// and the rest of its range holds zeros, random bytes or the old bytes. Models a torn
    /// sector or page write when power fails mid-write.
    Torn,
    /// Each file's length covers all its pending writes, but their bytes are zeros. Models a
    /// journaled size update whose data blocks never arrived (ext4 `data=writeback`, XFS's
    /// "file full of NULs" after a crash).
    SizeNotData,
    /// Pending writes past the durable length are lost although written: the data reached the
    /// disk but the size update did not (redb commit fd82cedb). Bytes inside the durable length
    /// take their written values.
    DataNotSize,
    /// Each 4 KiB page of each pending write applies or not by seed: one write reaches the
    /// disk in any order of its pages. Models writes over space that already exists (the
    /// log writes over zeros it wrote ahead), which no size update orders.
    ReorderPages,
}

impl CrashPolicy {
    /// Every policy, for loops that try them all.
    pub const ALL: [CrashPolicy; 7] = [
        CrashPolicy::DropUnsynced,
        CrashPolicy::KeepPrefix,
        CrashPolicy::Reorder,
        CrashPolicy::Torn,
        CrashPolicy::SizeNotData,
        CrashPolicy::DataNotSize,
        CrashPolicy::ReorderPages,
    ];
}

/// The kind of operation a [`FaultPlan`] targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Every operation.
    Any,
    /// [`VfsFile::append`] and [`VfsFile::write_at`].
    Write,
    /// [`VfsFile::sync_data`] and [`VfsFile::sync_all`].
    Sync,
    /// [`Vfs::sync_dir`].
    SyncDir,
    /// [`Vfs::rename`].
    Rename,
    /// [`Vfs::create`], [`Vfs::create_dir_all`], [`Vfs::create_dir`] and [`Vfs::lock`] (which
    /// creates its file).
    Create,
    /// [`VfsFile::set_len`].
    SetLen,
    /// Operations that only look: `open`, `read_at`, `len`, `read_dir`, `exists`, `entry_kind`.
    Read,
    /// [`Vfs::remove_file`] and [`Vfs::remove_dir`].
    Remove,
}

/// The error an injected fault returns, each as the `io::Error` Linux would give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultError {
    /// EIO (raw OS error 5): the device failed. Std decodes its kind as `Uncategorized`, not
    /// `Other`, exactly as for a real EIO: match on `raw_os_error()`, not on the kind.
    Eio,
    /// ENOSPC: [`io::ErrorKind::StorageFull`].
    Enospc,
    /// EROFS: [`io::ErrorKind::ReadOnlyFilesystem`].
    Erofs,
    /// EDQUOT: [`io::ErrorKind::QuotaExceeded`].
    Edquot,
}

impl FaultError {
    fn to_io_error(self) -> io::Error {
        io::Error::from_raw_os_error(match self {
            FaultError::Eio => 5,
            FaultError::Enospc => 28,
            FaultError::Erofs => 30,
            FaultError::Edquot => 122,
        })
    }
}

/// An injected I/O error: the first operation of kind `on` numbered `at_op` or later fails with
/// `error`, and, if `persistent`, so does every later one of that kind. A failed operation
/// changes nothing (but see [`SimFs::set_fsyncgate`] for syncs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultPlan {
    /// The first operation number that may fail.
    pub at_op: u64,
    /// Which operations fail.
    pub on: OpKind,
    /// The error they return.
    pub error: FaultError,
    /// Whether the fault keeps firing after its first time.
    pub persistent: bool,
}

/// A write not yet synced. Offsets are absolute, so a write can be replayed onto any image.
#[derive(Debug, Clone)]
enum Write {
    Bytes { at: usize, data: Vec<u8> },
    SetLen(usize),
}

/// Applies one write to `buf`, zero-filling any gap before it.
fn apply(buf: &mut Vec<u8>, write: &Write) {
    match write {
        Write::Bytes { at, data } => {
            let end = at + data.len();
            buf.resize(buf.len().max(end), 0);
            buf[*at..end].copy_from_slice(data);
        }
        Write::SetLen(len) => buf.resize(*len, 0),
    }
}

#[derive(Debug, Default, Clone)]
struct Inode {
    durable: Vec<u8>,
    pending: Vec<Write>,
    /// Always `durable` with `pending` applied, kept so that reads need not replay.
    current: Vec<u8>,
}

impl Inode {
    /// A file whose bytes are all durable.
    fn settled(bytes: Vec<u8>) -> Inode {
        let current = bytes.clone();
        Inode {
            durable: bytes,
            pending: Vec::new(),
            current,
        }
    }

    fn write(&mut self, write: Write) {
        apply(&mut self.current, &write);
        self.pending.push(write);
    }

    /// One image of this file after a crash, under `policy`.
    fn crash_image(&self, policy: CrashPolicy, rng: &mut SimRng) -> Vec<u8> {
        let (mut image, pending) = (self.durable.clone(), &self.pending);
        match policy {
            CrashPolicy::DropUnsynced => {}
            CrashPolicy::KeepPrefix => {
                let keep = rng.index(pending.len() + 1);
                pending[..keep].iter().for_each(|w| apply(&mut image, w));
            }
            CrashPolicy::Reorder => {
                for write in pending {
                    if rng.coin() {
                        apply(&mut image, write);
                    }
                }
            }
            CrashPolicy::Torn if !pending.is_empty() => {
                let torn = rng.index(pending.len());
                pending[..torn].iter().for_each(|w| apply(&mut image, w));
                match &pending[torn] {
                    Write::Bytes { at, data } => tear(&mut image, *at, data, rng),
                    set_len => apply(&mut image, set_len),
                }
            }
            CrashPolicy::Torn => {}
            CrashPolicy::SizeNotData => {
                for write in pending {
                    let zeros = match write {
                        Write::Bytes { at, data } => Write::Bytes {
                            at: *at,
                            data: vec![0; data.len()],
                        },
                        set_len => set_len.clone(),
                    };
                    apply(&mut image, &zeros);
                }
            }
            CrashPolicy::DataNotSize => {
                let kept = image.len().min(self.current.len());
                image[..kept].copy_from_slice(&self.current[..kept]);
            }
            CrashPolicy::ReorderPages => {
                const PAGE: usize = 4096;
                for write in pending {
                    match write {
                        Write::Bytes { at, data } => {
                            let mut from = *at;
                            while from < at + data.len() {
                                let to = ((from / PAGE + 1) * PAGE).min(at + data.len());
                                if rng.coin() {
                                    let page = Write::Bytes {
                                        at: from,
                                        data: data[from - at..to - at].to_vec(),
                                    };
                                    apply(&mut image, &page);
                                }
                                from = to;
                            }
                        }
                        set_len if rng.coin() => apply(&mut image, set_len),
                        _ => {}
                    }
                }
            }
        }
        image
    }
}

/// Applies the first `cut` bytes of an append at `at`, then fills the rest of its range.
fn tear(image: &mut Vec<u8>, at: usize, data: &[u8], rng: &mut SimRng) {
    if data.is_empty() {
        return;
    }
    let (end, cut) = (at + data.len(), cut_point(at, data.len(), rng));
    match rng.below(3) {
        0 => {
            image.resize(image.len().max(end), 0);
            image[at..end].fill(0);
        }
        1 => {
            image.resize(image.len().max(end), 0);
            image[at..end]
                .iter_mut()
                .for_each(|b| *b = rng.next_u64() as u8);
        }
        // The old bytes stay; past the old end of file the write simply stops at the cut.
        _ => image.resize(image.len().max(at + cut), 0),
    }
    image[at..at + cut].copy_from_slice(&data[..cut]);
}

/// Where to cut a write of `len` bytes at `at`: at a 512 or 4096 boundary inside it when there is
/// one and a coin says so, else at a random byte. Always in `0..len`.
fn cut_point(at: usize, len: usize, rng: &mut SimRng) -> usize {
    if rng.coin() {
        let block = if rng.coin() { 512 } else { 4096 };
        let (first, last) = (at / block + 1, (at + len - 1) / block);
        if first <= last {
            return (first + rng.index(last - first + 1)) * block - at;
        }
    }
    rng.index(len)
}

/// A directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    File(u64),
    Dir,
}

/// One atomic directory change: paths set to a node, or removed (`None`), in order.
type Change = Vec<(PathBuf, Option<Node>)>;

fn apply_change(entries: &mut BTreeMap<PathBuf, Node>, change: &Change) {
    for (path, node) in change {
        match node {
            Some(node) => {
                entries.insert(path.clone(), *node);
            }
            // A removed directory was empty when removed: entries still under it are of
            // removals not yet durable in it, and go with it (a directory made again at
            // the path is a new one).
            None => {
                if entries.remove(path) == Some(Node::Dir) {
                    entries.retain(|entry, _| !entry.starts_with(path));
                }
            }
        }
    }
}

fn error(kind: io::ErrorKind, path: &Path, why: &str) -> io::Error {
    io::Error::new(kind, format!("{}: {why}", path.display()))
}

/// The directory holding `path`, which must name a file or directory (not a root or `..`).
fn parent(path: &Path) -> io::Result<&Path> {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(_)) => Ok(parent),
        _ => Err(error(io::ErrorKind::InvalidInput, path, "names no entry")),
    }
}

/// The whole simulated file system, behind one mutex so that every run is deterministic.
#[derive(Debug, Default)]
struct State {
    inodes: BTreeMap<u64, Inode>,
    next_ino: u64,
    /// Every file and directory but the roots, as reads see them. Parents sort before children.
    current: BTreeMap<PathBuf, Node>,
    /// The entries that survive any crash.
    durable: BTreeMap<PathBuf, Node>,
    /// Changes not yet durable, by the directory whose `sync_dir` makes them durable.
    pending: BTreeMap<PathBuf, Vec<Change>>,
    ops: u64,
    crash_at: Option<u64>,
    crashed: bool,
    /// Each plan with whether it is spent.
    faults: Vec<(FaultPlan, bool)>,
    fsyncgate: bool,
    lying_sync: bool,
    locks: BTreeSet<PathBuf>,
}

impl State {
    /// Counts one operation and decides whether it crashes or faults.
    fn begin(&mut self, kind: OpKind) -> io::Result<()> {
        self.ops += 1;
        if self.crashed || self.crash_at.is_some_and(|n| self.ops >= n) {
            self.crashed = true;
            return Err(io::Error::other("simulated crash"));
        }
        for (plan, spent) in &mut self.faults {
            if !*spent && self.ops >= plan.at_op && (plan.on == OpKind::Any || plan.on == kind) {
                *spent = !plan.persistent;
                return Err(plan.error.to_io_error());
            }
        }
        Ok(())
    }

    fn lookup(&self, path: &Path) -> Option<Node> {
        match path.parent() {
            None => Some(Node::Dir),
            Some(_) => self.current.get(path).copied(),
        }
    }

    fn file(&self, path: &Path) -> io::Result<u64> {
        match self.lookup(path) {
            Some(Node::File(ino)) => Ok(ino),
            Some(Node::Dir) => Err(error(io::ErrorKind::InvalidInput, path, "is a directory")),
            None => Err(error(io::ErrorKind::NotFound, path, "not found")),
        }
    }

    fn dir(&self, path: &Path) -> io::Result<()> {
        match self.lookup(path) {
            Some(Node::Dir) => Ok(()),
            Some(Node::File(_)) => Err(error(io::ErrorKind::InvalidInput, path, "not a directory")),
            None => Err(error(io::ErrorKind::NotFound, path, "not found")),
        }
    }

    fn inode(&mut self, ino: u64) -> &mut Inode {
        self.inodes.entry(ino).or_default()
    }

    /// Applies a change in directory `dir` to the current view, and either queues it until
    /// `sync_dir(dir)` or, if `durable` (for planting test files), makes it durable at once.
    fn change(&mut self, dir: &Path, change: Change, durable: bool) -> io::Result<()> {
        self.dir(dir)?;
        apply_change(&mut self.current, &change);
        if durable {
            apply_change(&mut self.durable, &change);
        } else {
            self.pending
                .entry(dir.to_path_buf())
                .or_default()
                .push(change);
        }
        Ok(())
    }

    fn mkdirs(&mut self, path: &Path, durable: bool) -> io::Result<()> {
        let missing: Vec<PathBuf> = path
            .ancestors()
            .take_while(|dir| self.lookup(dir).is_none())
            .map(Path::to_path_buf)
            .collect();
        for dir in missing.into_iter().rev() {
            self.change(parent(&dir)?, vec![(dir.clone(), Some(Node::Dir))], durable)?;
        }
        self.dir(path)
    }

    /// Opens `path`, creating it if missing and truncating it if `truncate`.
    fn create_file(&mut self, path: &Path, truncate: bool, durable: bool) -> io::Result<u64> {
        match self.lookup(path) {
            Some(Node::File(ino)) if truncate => self.inode(ino).write(Write::SetLen(0)),
            Some(Node::File(_)) => {}
            Some(Node::Dir) => {
                return Err(error(io::ErrorKind::InvalidInput, path, "is a directory"))
            }
            None => {
                let node = Some(Node::File(self.next_ino));
                self.change(parent(path)?, vec![(path.to_path_buf(), node)], durable)?;
                self.inodes.insert(self.next_ino, Inode::default());
                self.next_ino += 1;
            }
        }
        self.file(path)
    }
}

/// A simulated file system; see the [module docs](self) for the model. Clones share one file
/// system, so that a test can keep a handle while the engine owns another.
#[derive(Clone, Default)]
pub struct SimFs {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for SimFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock();
        let (ops, crashed) = (state.ops, state.crashed);
        f.debug_struct("SimFs")
            .field("ops", &ops)
            .field("crashed", &crashed)
            .finish_non_exhaustive()
    }
}

impl SimFs {
    /// An empty file system: only the roots exist.
    pub fn new() -> SimFs {
        SimFs::default()
    }

    /// The seed for a run: `TIDESTORE_SEED` (decimal or `0x` hex) if set, else a fixed default.
    /// Prints nothing; callers print the seed when a check fails.
    ///
    /// # Panics
    /// If `TIDESTORE_SEED` is set but is not a `u64`, so that a mistyped seed is never ignored.
    pub fn seed_from_env() -> u64 {
        let Ok(text) = std::env::var("TIDESTORE_SEED") else {
            return DEFAULT_SEED;
        };
        let parsed = match text.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => text.parse(),
        };
        parsed.unwrap_or_else(|_| panic!("TIDESTORE_SEED={text:?} is not a u64"))
    }

    /// The number of operations started so far, which is also the last one's number.
    pub fn op_count(&self) -> u64 {
        self.state.lock().ops
    }

    /// Crashes the file system when operation `n` is about to run (at the next one if `n` has
    /// passed): it and every later operation fail with `ErrorKind::Other`, "simulated crash".
    pub fn crash_at(&self, n: u64) {
        self.state.lock().crash_at = Some(n);
    }

    /// Whether the crash has happened, so a harness can tell a crash from an engine error.
    pub fn crashed(&self) -> bool {
        self.state.lock().crashed
    }

    /// Adds an injected fault (see [`FaultPlan`]). Plans are checked in the order added.
    pub fn fail_at(&self, plan: FaultPlan) {
        self.state.lock().faults.push((plan, false));
    }

    /// In fsyncgate mode a failed sync discards the file's pending writes (reads no longer see
    /// them) and the next sync returns `Ok`: the Linux behaviour PostgreSQL's "fsyncgate"
    /// exposed. Off by default, when a failed sync leaves the writes pending for a retry.
    pub fn set_fsyncgate(&self, on: bool) {
        self.state.lock().fsyncgate = on;
    }

    /// In lying-sync mode file and directory syncs return `Ok` and make nothing durable. Used
    /// only to prove that a crash harness can fail.
    pub fn set_lying_sync(&self, on: bool) {
        self.state.lock().lying_sync = on;
    }

    /// A new file system holding one image a disk could hold after a crash now, chosen by
    /// `policy` and `seed` (the same arguments give the same image). It has a fresh operation
    /// counter and no crash, faults, modes, locks or pending changes.
    pub fn after_crash(&self, policy: CrashPolicy, seed: u64) -> SimFs {
        let old = self.state.lock();
        let mut rng = SimRng::new(seed);
        let images: BTreeMap<u64, Vec<u8>> = (old.inodes.iter())
            .map(|(ino, inode)| (*ino, inode.crash_image(policy, &mut rng)))
            .collect();
        let mut entries = old.durable.clone();
        for change in old.pending.values().flatten() {
            if policy != CrashPolicy::DropUnsynced && rng.coin() {
                apply_change(&mut entries, change);
            }
        }
        let next_ino = old.next_ino;
        let mut new = State {
            next_ino,
            ..State::default()
        };
        // Parents sort before their children, so one pass drops everything under a lost directory.
        for (path, node) in entries {
            let parent_kept = path
                .parent()
                .is_some_and(|dir| new.lookup(dir) == Some(Node::Dir));
            if !parent_kept {
                continue;
            }
            if let Node::File(ino) = node {
                let image = images.get(&ino).cloned().unwrap_or_default();
                new.inodes.insert(ino, Inode::settled(image));
            }
            new.current.insert(path.clone(), node);
            new.durable.insert(path, node);
        }
        SimFs {
            state: Arc::new(Mutex::new(new)),
        }
    }

    /// A new file system holding what a process killed now leaves behind: every write and
    /// directory change it made is there, since the OS keeps its page cache, and what was
    /// not synced is still not durable (a later `after_crash` of it loses it). Fresh like
    /// `after_crash`'s: no crash, faults, modes or locks.
    pub fn after_process_crash(&self) -> SimFs {
        let old = self.state.lock();
        let new = State {
            inodes: old.inodes.clone(),
            next_ino: old.next_ino,
            current: old.current.clone(),
            durable: old.durable.clone(),
            pending: old.pending.clone(),
            ..State::default()
        };
        SimFs {
            state: Arc::new(Mutex::new(new)),
        }
    }

    /// The file's current bytes (what reads see), or `None` if no file is at `path`.
    pub fn file_bytes(&self, path: &Path) -> Option<Vec<u8>> {
        let state = self.state.lock();
        let ino = state.file(path).ok()?;
        state.inodes.get(&ino).map(|inode| inode.current.clone())
    }

    /// The file's durable bytes: what `after_crash(DropUnsynced, _)` would show at `path`.
    pub fn durable_bytes(&self, path: &Path) -> Option<Vec<u8>> {
        self.after_crash(CrashPolicy::DropUnsynced, 0)
            .file_bytes(path)
    }

    /// Plants a file holding `bytes` durably, with durable entries for it and any directories
    /// created for it, e.g. a hostile file for recovery to meet. Not counted as an operation.
    pub fn set_file_bytes(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut state = self.state.lock();
        state.mkdirs(parent(path)?, true)?;
        let ino = state.create_file(path, false, true)?;
        *state.inode(ino) = Inode::settled(bytes.to_vec());
        Ok(())
    }

    /// The paths of all files in the current view, sorted.
    pub fn paths(&self) -> Vec<PathBuf> {
        let state = self.state.lock();
        let files = state
            .current
            .iter()
            .filter(|(_, node)| matches!(node, Node::File(_)));
        files.map(|(path, _)| path.clone()).collect()
    }

    /// Counts an operation of `kind` and, unless it crashes or faults, returns the locked state.
    fn op(&self, kind: OpKind) -> io::Result<MutexGuard<'_, State>> {
        let mut state = self.state.lock();
        state.begin(kind)?;
        Ok(state)
    }

    fn handle(&self, ino: u64) -> Box<dyn VfsFile> {
        Box::new(SimFile {
            state: Arc::clone(&self.state),
            ino,
        })
    }
}

impl Vfs for SimFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        self.op(OpKind::Create)?.mkdirs(path, false)
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        let ino = self.op(OpKind::Read)?.file(path)?;
        Ok(self.handle(ino))
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        let ino = self.op(OpKind::Create)?.create_file(path, true, false)?;
        Ok(self.handle(ino))
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let state = self.op(OpKind::Read)?;
        state.dir(path)?;
        let children = state
            .current
            .keys()
            .filter(|child| child.parent() == Some(path));
        let names = children.filter_map(|child| child.file_name()?.to_str().map(str::to_owned));
        Ok(names.collect())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut state = self.op(OpKind::Rename)?;
        let ino = state.file(from)?;
        let (from_dir, to_dir) = (parent(from)?, parent(to)?);
        if state.lookup(to) == Some(Node::Dir) {
            return Err(error(io::ErrorKind::InvalidInput, to, "is a directory"));
        }
        state.dir(to_dir)?;
        if from == to {
            return Ok(());
        }
        let gone = (from.to_path_buf(), None);
        let made = (to.to_path_buf(), Some(Node::File(ino)));
        if from_dir == to_dir {
            state.change(from_dir, vec![gone, made], false)
        } else {
            state.change(from_dir, vec![gone], false)?;
            state.change(to_dir, vec![made], false)
        }
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut state = self.op(OpKind::Remove)?;
        state.file(path)?;
        state.change(parent(path)?, vec![(path.to_path_buf(), None)], false)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let mut state = self.op(OpKind::SyncDir)?;
        state.dir(path)?;
        if !state.lying_sync {
            for change in state.pending.remove(path).unwrap_or_default() {
                apply_change(&mut state.durable, &change);
            }
        }
        Ok(())
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        Ok(self.op(OpKind::Read)?.lookup(path).is_some())
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        let mut state = self.op(OpKind::Create)?;
        let dir = parent(path)?;
        state.dir(dir)?;
        if state.lookup(path).is_some() {
            return Err(error(io::ErrorKind::AlreadyExists, path, "exists"));
        }
        state.change(dir, vec![(path.to_path_buf(), Some(Node::Dir))], false)
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        let mut state = self.op(OpKind::Remove)?;
        state.dir(path)?;
        if state
            .current
            .keys()
            .any(|entry| entry.parent() == Some(path))
        {
            return Err(error(io::ErrorKind::DirectoryNotEmpty, path, "not empty"));
        }
        // IMPORTANT: its changes not yet durable stay possible, in order before its removal:
        // a crash that keeps the directory may keep any of them (a journal commits a file's
        // removal before its directory's), and dropping them would hide exactly those
        // images (a folder kept with only some of its files removed). They move to the
        // parent's list, ahead of the removal, so that a directory made again at the path
        // starts with none of them, and the parent's sync makes them durable with it.
        let dir = parent(path)?.to_path_buf();
        let before = state.pending.remove(path).unwrap_or_default();
        state.pending.entry(dir.clone()).or_default().extend(before);
        state.change(&dir, vec![(path.to_path_buf(), None)], false)
    }

    fn entry_kind(&self, path: &Path) -> io::Result<Option<EntryKind>> {
        Ok(match self.op(OpKind::Read)?.lookup(path) {
            Some(Node::Dir) => Some(EntryKind::Dir),
            Some(Node::File(_)) => Some(EntryKind::File),
            None => None,
        })
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn Any + Send + Sync>> {
        let mut state = self.op(OpKind::Create)?;
        state.create_file(path, false, false)?;
        if !state.locks.insert(path.to_path_buf()) {
            return Err(error(io::ErrorKind::WouldBlock, path, "locked"));
        }
        Ok(Box::new(SimLock {
            state: Arc::clone(&self.state),
            path: path.to_path_buf(),
        }))
    }
}

/// Releases a [`Vfs::lock`] of `path` when dropped.
struct SimLock {
    state: Arc<Mutex<State>>,
    path: PathBuf,
}

impl Drop for SimLock {
    fn drop(&mut self) {
        self.state.lock().locks.remove(&self.path);
    }
}

/// A handle on one inode of a [`SimFs`].
struct SimFile {
    state: Arc<Mutex<State>>,
    ino: u64,
}

impl std::fmt::Debug for SimFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimFile").field("ino", &self.ino).finish()
    }
}

impl SimFile {
    /// Counts an operation of `kind` and, unless it crashes or faults, returns the locked inode.
    fn op(&self, kind: OpKind) -> io::Result<MappedMutexGuard<'_, Inode>> {
        let mut state = self.state.lock();
        state.begin(kind)?;
        Ok(MutexGuard::map(state, |state| state.inode(self.ino)))
    }

    fn sync(&mut self) -> io::Result<()> {
        let mut state = self.state.lock();
        let result = state.begin(OpKind::Sync);
        let (fsyncgate, lying, crashed) = (state.fsyncgate, state.lying_sync, state.crashed);
        let inode = state.inode(self.ino);
        match result {
            Ok(()) if !lying => {
                let pending = std::mem::take(&mut inode.pending);
                pending
                    .iter()
                    .for_each(|write| apply(&mut inode.durable, write));
            }
            Err(_) if fsyncgate && !crashed => {
                // The kernel marked the pages clean although they never reached the disk.
                inode.pending.clear();
                inode.current = inode.durable.clone();
            }
            _ => {}
        }
        result
    }
}

impl VfsFile for SimFile {
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        let mut inode = self.op(OpKind::Write)?;
        let at = inode.current.len();
        inode.write(Write::Bytes {
            at,
            data: data.to_vec(),
        });
        Ok(())
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut inode = self.op(OpKind::Write)?;
        let at = usize::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        inode.write(Write::Bytes {
            at,
            data: data.to_vec(),
        });
        Ok(())
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let inode = self.op(OpKind::Read)?;
        let start = usize::try_from(offset).ok();
        let rest = start
            .and_then(|start| inode.current.get(start..))
            .unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.op(OpKind::Read)?.current.len() as u64)
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        let mut inode = self.op(OpKind::SetLen)?;
        let len = usize::try_from(len).map_err(|_| io::ErrorKind::InvalidInput)?;
        inode.write(Write::SetLen(len));
        Ok(())
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.sync()
    }

    fn sync_all(&mut self) -> io::Result<()> {
        self.sync()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
