//! The file-system seam: every byte tidestore reads or writes goes through [`Vfs`].
//!
//! Production uses [`StdFs`]; crash and fault tests use `SimFs` (`fs::sim`, with the feature
//! `testing`), which keeps "written" and "durable" apart and can crash or fail any operation. The engine only sees
//! `&dyn Vfs`, so simulated runs exercise exactly the production code.
//!
//! # The durability contract the engine may rely on
//!
//! - Bytes written to a file are *written* (visible to reads) at once, but *durable* (certain to
//!   survive a power loss) only after a later [`VfsFile::sync_data`] or [`VfsFile::sync_all`] of
//!   that file returns `Ok`.
//! - Creating, renaming or removing a file changes its directory. That change is durable only
//!   after a later [`Vfs::sync_dir`] of the directory returns `Ok`; syncing the file is not enough.
//! - [`Vfs::rename`] replaces its target atomically: after a crash the name refers to the old or
//!   the new file, never to a mix.
//! - A failed sync says nothing about which bytes reached the disk, and a retried sync that
//!   succeeds does not prove that they did (PostgreSQL's "fsyncgate"). The engine must treat every
//!   failed sync as a loss of all data written since the last successful one.
//!
//! [`write_atomically`] is the one place that turns these rules into a safe file replacement.

#[doc(hidden)]
pub mod killpoint;
#[cfg(any(test, feature = "testing"))]
pub mod sim;
pub(crate) mod throttle;

use std::any::Any;
use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// A file system, so that production ([`StdFs`]) and crash simulation (`SimFs`) run the same
/// engine code. It holds only what tidestore needs: appending (and positional) writers,
/// positional readers, and the directory operations of an atomic replace.
pub trait Vfs: Send + Sync + std::fmt::Debug {
    /// Creates `path` and any missing parents, so that a database directory can be made on first open.
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Opens an existing file for reading and appending, to read it or continue a log.
    fn open(&self, path: &Path) -> io::Result<Box<dyn VfsFile>>;
    /// Creates an empty file (truncating one that exists) for reading and appending, to start a
    /// new log segment or temporary file.
    fn create(&self, path: &Path) -> io::Result<Box<dyn VfsFile>>;
    /// Lists the names (not paths) in a directory, sorted, so that recovery finds its files in a
    /// deterministic order.
    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>>;
    /// Renames `from` to `to`, atomically replacing `to`: the commit point of [`write_atomically`].
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes a file, to drop log segments and snapshots that are no longer needed.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Makes the creates, renames and removes done in directory `path` durable; without it they
    /// may be undone by a crash even when the files themselves were synced.
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
    /// Reports whether a file or directory exists at `path`, to tell a new database from an old one.
    fn exists(&self, path: &Path) -> io::Result<bool>;
    /// Creates the one directory `path`, whose parent must exist: [`io::ErrorKind::AlreadyExists`]
    /// if anything is there already, so that an export tells a folder it made from one it found.
    /// Like a file's creation, durable only after a [`Vfs::sync_dir`] of the parent.
    fn create_dir(&self, path: &Path) -> io::Result<()>;
    /// Removes the empty directory `path` (a failed export removes the folders it made). Durable
    /// only after a [`Vfs::sync_dir`] of the parent.
    fn remove_dir(&self, path: &Path) -> io::Result<()>;
    /// What is at `path`, not following a symbolic link there (`None` if nothing is), so that
    /// an export never writes through a link out of its bucket.
    fn entry_kind(&self, path: &Path) -> io::Result<Option<EntryKind>>;
    /// Takes an exclusive advisory lock on `path` (creating the file if needed), held until the
    /// returned box drops, so that two processes never open one database. A second lock of the
    /// same path, from this process or another, fails with [`io::ErrorKind::WouldBlock`].
    fn lock(&self, path: &Path) -> io::Result<Box<dyn Any + Send + Sync>>;
}

/// What a directory entry is, as [`Vfs::entry_kind`] sees it without following links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A directory.
    Dir,
    /// A symbolic link, whatever it points to.
    Symlink,
    /// A file, or anything else that is neither a directory nor a link.
    File,
}

/// An open file: writes append (or go to a given offset), reads are positional, so that a log
/// writer and its readers never share a cursor. One handle at a time writes a file: a
/// handle's appends go to where its own writes left the end.
// `len` returns `io::Result`, so an `is_empty` beside it would only add a second fallible call.
#[allow(clippy::len_without_is_empty)]
pub trait VfsFile: Send + Sync + std::fmt::Debug {
    /// Writes `data` at the end of the file. The bytes are not durable until a sync.
    fn append(&mut self, data: &[u8]) -> io::Result<()>;
    /// Writes `data` at `offset`, over what is there and past the end if it reaches beyond
    /// (a gap before `offset` reads as zeros). Not durable until a sync. The log writes its
    /// records into space it zeroed ahead of them (`storage/wal.rs`).
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()>;
    /// Reads up to `buf.len()` bytes at `offset`, returning how many were read (0 at the end).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
    /// Fills `buf` from `offset`, failing with [`io::ErrorKind::UnexpectedEof`] if the file ends
    /// first, so that decoders never see a short buffer.
    fn read_exact_at(&self, mut offset: u64, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = match self.read_at(offset, buf) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => n.min(buf.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            buf = &mut std::mem::take(&mut buf)[n..];
            offset += n as u64;
        }
        Ok(())
    }
    /// Returns the current length in bytes, written or not yet durable.
    fn len(&self) -> io::Result<u64>;
    /// Truncates or zero-extends the file, used to cut a torn log tail. Not durable until a sync.
    fn set_len(&mut self, len: u64) -> io::Result<()>;
    /// Makes the file's data and length durable: the point at which a write may be acknowledged.
    fn sync_data(&mut self) -> io::Result<()>;
    /// Like [`VfsFile::sync_data`], and also flushes the remaining metadata (times, permissions).
    fn sync_all(&mut self) -> io::Result<()>;
    /// Starts writing the bytes in `offset..offset + len` back to the disk without waiting
    /// and without making anything durable (`sync_file_range(SYNC_FILE_RANGE_WRITE)`): a
    /// large file written in the background then reaches the disk as it is written, and its
    /// final sync is small — a writer's fsync never queues behind a flush of the whole file.
    /// A hint; the default does nothing.
    fn start_writeback(&self, offset: u64, len: u64) {
        let _ = (offset, len);
    }
    /// Drops the clean cached pages of `offset..offset + len` (to the end of the file when
    /// `len` is 0) from the page cache (`posix_fadvise(POSIX_FADV_DONTNEED)`): for a file
    /// written once and seldom read (a backup), so that writing it neither evicts what the
    /// application has cached nor keeps the page cache growing. A hint; the default does
    /// nothing.
    fn drop_cached(&self, offset: u64, len: u64) {
        let _ = (offset, len);
    }
}

/// The production [`Vfs`]: `std::fs` on a Unix file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdFs;

/// An open `std::fs::File`, and where this handle's next append goes.
///
/// NB: not opened with `O_APPEND`, whose writes Linux puts at the end of the file whatever
/// offset `pwrite` names; appends are positional writes at `end` instead.
#[derive(Debug)]
struct StdFile {
    file: File,
    end: u64,
}

impl StdFile {
    fn new(file: File) -> io::Result<StdFile> {
        let end = file.metadata()?.len();
        Ok(StdFile { file, end })
    }
}

/// A relative path's parent is `""`, which `std::fs` refuses; it means the current directory.
fn non_empty(path: &Path) -> &Path {
    Some(path)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

impl Vfs for StdFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir_all(path)
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        Ok(Box::new(StdFile::new(file)?))
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        Ok(Box::new(StdFile { file, end: 0 }))
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(non_empty(path))? {
            // A non-UTF-8 name is converted lossily: it can never match a name tidestore writes.
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        // IMPORTANT: on Linux a directory's entries become durable only by fsync of the directory.
        File::open(non_empty(path))?.sync_all()
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        path.try_exists()
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir(path)
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_dir(path)
    }

    fn entry_kind(&self, path: &Path) -> io::Result<Option<EntryKind>> {
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => Ok(Some(EntryKind::Symlink)),
            Ok(m) if m.is_dir() => Ok(Some(EntryKind::Dir)),
            Ok(_) => Ok(Some(EntryKind::File)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn Any + Send + Sync>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        match file.try_lock() {
            // The flock(2) lock is released when the boxed file closes.
            Ok(()) => Ok(Box::new(file)),
            Err(TryLockError::WouldBlock) => {
                let msg = format!("{} is locked by another handle", path.display());
                Err(io::Error::new(io::ErrorKind::WouldBlock, msg))
            }
            Err(TryLockError::Error(e)) => Err(e),
        }
    }
}

impl VfsFile for StdFile {
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.write_at(self.end, data)
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let result = self.file.write_all_at(data, offset);
        self.end = match result {
            Ok(()) => self.end.max(offset + data.len() as u64),
            // Part of it may have been written: the file knows where it ends.
            Err(_) => self.file.metadata().map_or(self.end, |m| m.len()),
        };
        result
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        FileExt::read_at(&self.file, buf, offset)
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.file.set_len(len)?;
        self.end = len;
        Ok(())
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn sync_all(&mut self) -> io::Result<()> {
        self.file.sync_all()
    }

    #[cfg(target_os = "linux")]
    fn start_writeback(&self, offset: u64, len: u64) {
        use std::os::fd::AsRawFd;
        let Some((offset, len)) = file_range(offset, len) else {
            return;
        };
        #[allow(unsafe_code)]
        // Safety: sync_file_range only reads its integer arguments; the descriptor is open
        // for the life of `self`. A failure only means the hint is not taken.
        unsafe {
            libc::sync_file_range(
                self.file.as_raw_fd(),
                offset,
                len,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
    }

    #[cfg(target_os = "linux")]
    fn drop_cached(&self, offset: u64, len: u64) {
        use std::os::fd::AsRawFd;
        let Some((offset, len)) = file_range(offset, len) else {
            return;
        };
        #[allow(unsafe_code)]
        // Safety: posix_fadvise only reads its integer arguments; the descriptor is open
        // for the life of `self`. A failure only means the hint is not taken.
        unsafe {
            libc::posix_fadvise(
                self.file.as_raw_fd(),
                offset,
                len,
                libc::POSIX_FADV_DONTNEED,
            );
        }
    }
}

/// `offset..offset + len` as the kernel's offsets take it; `None` past what they can name
/// (a hint for such a range is not given).
#[cfg(target_os = "linux")]
fn file_range(offset: u64, len: u64) -> Option<(libc::off64_t, libc::off64_t)> {
    Some((offset.try_into().ok()?, len.try_into().ok()?))
}

/// Reads a whole file, refusing with [`io::ErrorKind::FileTooLarge`] one longer than `max_len`
/// (before allocating anything for it), so that a file's length never sizes an allocation
/// beyond what its format allows.
pub fn read_all(fs: &dyn Vfs, path: &Path, max_len: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    read_all_into(fs, path, max_len, &mut buf)?;
    Ok(buf)
}

/// [`read_all`] into `buf`, reusing its memory: a reader of many large files (a replay of
/// the log, segment after segment) touches fresh pages once, not once per file.
pub fn read_all_into(fs: &dyn Vfs, path: &Path, max_len: u64, buf: &mut Vec<u8>) -> io::Result<()> {
    let file = fs.open(path)?;
    let len = file.len()?;
    if len > max_len {
        let msg = format!(
            "{}: {len} bytes, over the limit of {max_len}",
            path.display()
        );
        return Err(io::Error::new(io::ErrorKind::FileTooLarge, msg));
    }
    buf.clear();
    buf.resize(
        usize::try_from(len).map_err(|_| io::ErrorKind::InvalidData)?,
        0,
    );
    file.read_exact_at(0, buf)
}

/// Replaces `path` with `data` so that after a crash it holds either the old or the new bytes,
/// never a mix: the one helper for every atomic file replacement (manifests, snapshots, backups).
///
/// A stale `path + ".tmp"` may be left by a crash (an error removes it, as far as it can);
/// the next call truncates it, and readers must ignore it.
pub fn write_atomically(fs: &dyn Vfs, path: &Path, data: &[u8]) -> io::Result<()> {
    // Write beside the target, so that the rename below cannot cross file systems.
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let written = (|| {
        let mut file = fs.create(&tmp)?;
        file.append(data)?;
        // IMPORTANT: sync the data before the rename, or the rename may reach the disk first
        // and a crash would leave `path` empty or short (the ext4 delayed-allocation
        // "zero-length file").
        file.sync_all()?;
        drop(file);
        crate::fs::killpoint::reached("catalog.before_rename");
        install(fs, &tmp, path)
    })();
    if written.is_err() {
        // Best effort, and the write's own error is the one to report: a database that
        // runs on (poisoned) after a failed catalog update should not keep the file.
        // NotFound means the rename had happened.
        let _ = fs.remove_file(&tmp);
    }
    written
}

/// Makes the complete, synced file `tmp` the file `path`. The rename is the commit point: it
/// atomically swaps the old file (if any) for the new one; the directory sync makes it
/// survive a crash. The one place every durable file (catalog, snapshot, backup, restored
/// table) is installed.
pub fn install(fs: &dyn Vfs, tmp: &Path, path: &Path) -> io::Result<()> {
    fs.rename(tmp, path)?;
    // IMPORTANT: sync the directory, or the rename may not survive a crash: a catalog could
    // then name a file that is gone.
    fs.sync_dir(path.parent().unwrap_or(Path::new("")))
}

/// How much of a large file [`remove_gradually`] frees at a time.
const REMOVE_STEP: u64 = 8 << 20;

/// Removes `path`, a file nothing refers to any more (an old snapshot, a deleted backup),
/// shrinking it [`REMOVE_STEP`] at a time first (RocksDB's `bytes_max_delete_chunk`). On
/// ext4 an unlink frees all of a file's blocks in one go, and a log sync meanwhile waits
/// for it: measured here, a small fdatasync took up to 20–30 ms beside the unlink of a
/// 125 MB file, and at most 3–4 ms (as with nothing beside it) when the file was first cut
/// down 8 MiB at a time.
///
/// IMPORTANT: the file is renamed to `{name}.deleting` (and the rename made durable) before
/// it is cut down. A crash may keep the cuts and undo an unlink; under its own name a cut
/// file would then be read as damage by whatever still names it (a log record naming a
/// restored table's first snapshot is replayed before an open removes unnamed files).
/// Under the new name it is a file nothing names, which an open removes.
pub(crate) fn remove_gradually(fs: &dyn Vfs, path: &Path) -> io::Result<()> {
    let mut doomed = path.as_os_str().to_owned();
    doomed.push(".deleting");
    let doomed = PathBuf::from(doomed);
    fs.rename(path, &doomed)?;
    fs.sync_dir(path.parent().unwrap_or(Path::new("")))?;
    let mut file = fs.open(&doomed)?;
    let mut len = file.len()?;
    while len > REMOVE_STEP {
        len -= REMOVE_STEP;
        file.set_len(len)?;
    }
    drop(file);
    fs.remove_file(&doomed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use std::io::ErrorKind;

    /// The error kind of a result that must be an error.
    pub(crate) fn kind<T>(result: io::Result<T>) -> ErrorKind {
        result.map(|_| ()).unwrap_err().kind()
    }

    /// The behaviour every [`Vfs`] must share; run against [`StdFs`] here and `SimFs` in simfs.rs.
    pub(crate) fn check_vfs_contract(fs: &dyn Vfs, dir: &Path) {
        fs.create_dir_all(dir).unwrap();
        assert!(fs.exists(dir).unwrap());
        let a = dir.join("a");
        assert_eq!(kind(fs.open(&a)), ErrorKind::NotFound);
        let mut f = fs.create(&a).unwrap();
        f.append(b"hello ").unwrap();
        f.append(b"world").unwrap();
        f.sync_data().unwrap();
        assert_eq!(f.len().unwrap(), 11);
        let mut buf = [0; 5];
        f.read_exact_at(6, &mut buf).unwrap();
        assert_eq!(&buf, b"world");
        assert_eq!(kind(f.read_exact_at(8, &mut buf)), ErrorKind::UnexpectedEof);
        f.set_len(5).unwrap();
        f.append(b"!").unwrap();
        f.sync_all().unwrap();
        assert_eq!(read_all(fs, &a, 100).unwrap(), b"hello!");
        // A positional write goes over what is there, or past the end with zeros between;
        // an append goes to the end the handle's writes left.
        f.write_at(1, b"E").unwrap();
        f.write_at(8, b"x").unwrap();
        f.append(b"y").unwrap();
        f.sync_data().unwrap();
        assert_eq!(read_all(fs, &a, 100).unwrap(), b"hEllo!\0\0xy");
        // Reopened, a handle appends at the end too.
        let mut reopened = fs.open(&a).unwrap();
        reopened.append(b"z").unwrap();
        reopened.sync_data().unwrap();
        assert_eq!(read_all(fs, &a, 100).unwrap(), b"hEllo!\0\0xyz");
        f = reopened;
        f.set_len(6).unwrap();
        f.sync_data().unwrap();
        assert_eq!(read_all(fs, &a, 100).unwrap(), b"hEllo!");
        // create truncates an existing file.
        drop(fs.create(&a).unwrap());
        assert_eq!(read_all(fs, &a, 100).unwrap(), b"");
        // write_atomically creates, then replaces, and leaves no temporary file.
        let b = dir.join("b");
        write_atomically(fs, &b, b"one").unwrap();
        write_atomically(fs, &b, b"two").unwrap();
        assert_eq!(read_all(fs, &b, 100).unwrap(), b"two");
        assert_eq!(fs.read_dir(dir).unwrap(), ["a", "b"]);
        // read_all refuses a file longer than allowed, before allocating.
        assert_eq!(kind(read_all(fs, &b, 2)), ErrorKind::FileTooLarge);
        fs.rename(&b, &a).unwrap();
        assert_eq!(read_all(fs, &a, 100).unwrap(), b"two");
        fs.remove_file(&a).unwrap();
        fs.sync_dir(dir).unwrap();
        assert!(!fs.exists(&a).unwrap());
        assert_eq!(fs.read_dir(dir).unwrap(), Vec::<String>::new());
        // A large file is removed a step at a time; a missing one is NotFound.
        let mut large = fs.create(&a).unwrap();
        large
            .append(&vec![7; 2 * REMOVE_STEP as usize + 5])
            .unwrap();
        large.sync_all().unwrap();
        drop(large);
        remove_gradually(fs, &a).unwrap();
        fs.sync_dir(dir).unwrap();
        assert!(!fs.exists(&a).unwrap());
        assert_eq!(kind(remove_gradually(fs, &a)), ErrorKind::NotFound);
        // Directories: made one at a time, seen without following links, removed when empty.
        let sub = dir.join("sub");
        assert_eq!(
            kind(fs.create_dir(&sub.join("deeper"))),
            ErrorKind::NotFound
        );
        fs.create_dir(&sub).unwrap();
        assert_eq!(kind(fs.create_dir(&sub)), ErrorKind::AlreadyExists);
        assert_eq!(fs.entry_kind(&sub).unwrap(), Some(EntryKind::Dir));
        write_atomically(fs, &sub.join("f"), b"f").unwrap();
        assert_eq!(
            fs.entry_kind(&sub.join("f")).unwrap(),
            Some(EntryKind::File)
        );
        assert_eq!(fs.entry_kind(&sub.join("none")).unwrap(), None);
        assert!(
            fs.remove_dir(&sub).is_err(),
            "a directory with a file is not removed"
        );
        fs.remove_file(&sub.join("f")).unwrap();
        fs.remove_dir(&sub).unwrap();
        fs.sync_dir(dir).unwrap();
        assert_eq!(fs.entry_kind(&sub).unwrap(), None);
        assert_eq!(kind(fs.remove_dir(&sub)), ErrorKind::NotFound);
        // The lock is exclusive until its guard drops.
        let lock_path = dir.join("LOCK");
        let guard = fs.lock(&lock_path).unwrap();
        assert_eq!(kind(fs.lock(&lock_path)), ErrorKind::WouldBlock);
        drop(guard);
        drop(fs.lock(&lock_path).unwrap());
    }

    #[test]
    fn std_fs_meets_the_vfs_contract_in_a_temp_dir() {
        let dir = std::env::temp_dir().join(format!("tidestore-fs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        check_vfs_contract(&StdFs, &dir.join("db"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn std_fs_sees_a_symbolic_link_as_a_link_not_as_what_it_points_to() {
        let dir = std::env::temp_dir().join(format!("tidestore-fs-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("target")).unwrap();
        std::os::unix::fs::symlink(dir.join("target"), dir.join("link")).unwrap();
        assert_eq!(
            StdFs.entry_kind(&dir.join("link")).unwrap(),
            Some(EntryKind::Symlink)
        );
        assert_eq!(
            StdFs.entry_kind(&dir.join("target")).unwrap(),
            Some(EntryKind::Dir)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn append_to_a_full_disk_reports_storage_full() {
        let Ok(mut file) = StdFs.open(Path::new("/dev/full")) else {
            return; // no /dev/full here
        };
        assert_eq!(kind(file.append(b"x")), ErrorKind::StorageFull);
    }
}
