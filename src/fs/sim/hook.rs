//! `HookFs`: a [`Vfs`] over another that calls a test's hook before every operation, with the
//! operation's kind and path. The hook picks one operation — the sync of one backup file, the
//! creation of one table file — and holds it until the test releases it (to prove that nothing
//! else waits while that file is copied or synced), or fails it (a fault that hits one
//! backup's build and nothing else). `SimFs`'s faults count operations instead, which cannot
//! name a file.

use std::any::Any;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::fs::sim::OpKind;
use crate::fs::{EntryKind, Vfs, VfsFile};

/// The hook: returning an error fails the operation with it, untouched; returning `Ok` lets
/// it run (after however long the hook took).
pub type Hook = Arc<dyn Fn(OpKind, &Path) -> io::Result<()> + Send + Sync>;

/// A [`Vfs`] that runs a [`Hook`] before each operation of the one it wraps.
#[derive(Clone)]
pub struct HookFs {
    inner: Arc<dyn Vfs>,
    hook: Hook,
}

impl HookFs {
    /// `inner`, with `hook` called before each of its operations (and its files').
    pub fn new(
        inner: Arc<dyn Vfs>,
        hook: impl Fn(OpKind, &Path) -> io::Result<()> + Send + Sync + 'static,
    ) -> HookFs {
        HookFs {
            inner,
            hook: Arc::new(hook),
        }
    }

    fn file(&self, path: &Path, inner: Box<dyn VfsFile>) -> Box<dyn VfsFile> {
        Box::new(HookFile {
            inner,
            path: path.to_path_buf(),
            hook: Arc::clone(&self.hook),
        })
    }
}

impl std::fmt::Debug for HookFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookFs")
            .field("inner", &self.inner)
            .finish()
    }
}

impl Vfs for HookFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        (self.hook)(OpKind::Create, path)?;
        self.inner.create_dir_all(path)
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        (self.hook)(OpKind::Read, path)?;
        Ok(self.file(path, self.inner.open(path)?))
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn VfsFile>> {
        (self.hook)(OpKind::Create, path)?;
        Ok(self.file(path, self.inner.create(path)?))
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        (self.hook)(OpKind::Read, path)?;
        self.inner.read_dir(path)
    }

    /// Hooked with the source path.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        (self.hook)(OpKind::Rename, from)?;
        self.inner.rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        (self.hook)(OpKind::Remove, path)?;
        self.inner.remove_file(path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        (self.hook)(OpKind::SyncDir, path)?;
        self.inner.sync_dir(path)
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        (self.hook)(OpKind::Read, path)?;
        self.inner.exists(path)
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        (self.hook)(OpKind::Create, path)?;
        self.inner.create_dir(path)
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        (self.hook)(OpKind::Remove, path)?;
        self.inner.remove_dir(path)
    }

    fn entry_kind(&self, path: &Path) -> io::Result<Option<EntryKind>> {
        (self.hook)(OpKind::Read, path)?;
        self.inner.entry_kind(path)
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn Any + Send + Sync>> {
        (self.hook)(OpKind::Create, path)?;
        self.inner.lock(path)
    }
}

/// A file of a [`HookFs`]: its operations are hooked with its path.
struct HookFile {
    inner: Box<dyn VfsFile>,
    path: PathBuf,
    hook: Hook,
}

impl std::fmt::Debug for HookFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookFile")
            .field("path", &self.path)
            .finish()
    }
}

impl VfsFile for HookFile {
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        (self.hook)(OpKind::Write, &self.path)?;
        self.inner.append(data)
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        (self.hook)(OpKind::Write, &self.path)?;
        self.inner.write_at(offset, data)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        (self.hook)(OpKind::Read, &self.path)?;
        self.inner.read_at(offset, buf)
    }

    fn len(&self) -> io::Result<u64> {
        (self.hook)(OpKind::Read, &self.path)?;
        self.inner.len()
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        (self.hook)(OpKind::SetLen, &self.path)?;
        self.inner.set_len(len)
    }

    fn sync_data(&mut self) -> io::Result<()> {
        (self.hook)(OpKind::Sync, &self.path)?;
        self.inner.sync_data()
    }

    fn sync_all(&mut self) -> io::Result<()> {
        (self.hook)(OpKind::Sync, &self.path)?;
        self.inner.sync_all()
    }

    fn start_writeback(&self, offset: u64, len: u64) {
        self.inner.start_writeback(offset, len);
    }

    fn drop_cached(&self, offset: u64, len: u64) {
        self.inner.drop_cached(offset, len);
    }
}
