//! The objects of an import: the regular files under the bucket's folder whose key
//! starts with the prefix, listed in key order without following a symbolic link, and read
//! one at a time, each decompressed as the request says (`compression.rs`), every read
//! failing once the server's stop is set.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::{CANCELLED, MAX_IMPORT_OBJECTS};
use crate::error::Error;
use crate::server::compression::Compression;

/// The most files and folders one import's listing looks at.
const MAX_VISITED: usize = 1_000_000;
/// How deep under the bucket files are looked for.
const MAX_DEPTH: usize = 32;

/// The regular files under `root` whose key (their path relative to `root`, `/`-separated)
/// starts with `prefix`, in key order (perhaps none). Symbolic links are not followed.
pub(super) fn objects(root: &Path, prefix: &str) -> Result<Vec<PathBuf>, Error> {
    // The bucket's folder itself is not followed either.
    match std::fs::symlink_metadata(root) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(Error::validation(
                "The specified bucket is not a folder of the S3 directory",
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::validation("The specified bucket does not exist"));
        }
        Err(e) => return Err(crate::error::io_error("listing the bucket")(e)),
    }
    let mut found = Vec::new();
    let mut visited = 0;
    walk(root, "", prefix, 0, &mut found, &mut visited)?;
    // None found is no error: DynamoDB's import of a prefix matching no object COMPLETES
    // with an empty table (ScyllaDB's test_import, run against AWS).
    found.sort();
    Ok(found.into_iter().map(|(_, path)| path).collect())
}

fn walk(
    dir: &Path,
    key_prefix: &str,
    prefix: &str,
    depth: usize,
    found: &mut Vec<(String, PathBuf)>,
    visited: &mut usize,
) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(Error::validation(format!(
            "the bucket's keys are more than {MAX_DEPTH} folders deep"
        )));
    }
    let entries = std::fs::read_dir(dir).map_err(crate::error::io_error("listing the bucket"))?;
    for entry in entries {
        let entry = entry.map_err(crate::error::io_error("listing the bucket"))?;
        *visited += 1;
        if *visited > MAX_VISITED {
            return Err(Error::validation(format!(
                "more than {MAX_VISITED} files and folders in the bucket"
            )));
        }
        // (A name that is not UTF-8 is no S3 key.)
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let key = format!("{key_prefix}{name}");
        let kind = entry
            .file_type()
            .map_err(crate::error::io_error("listing the bucket"))?;
        if kind.is_dir() {
            let folder = format!("{key}/");
            if folder.starts_with(prefix) || prefix.starts_with(&folder) {
                walk(&entry.path(), &folder, prefix, depth + 1, found, visited)?;
            }
        } else if kind.is_file() && key.starts_with(prefix) {
            if found.len() >= MAX_IMPORT_OBJECTS {
                return Err(Error::validation(format!(
                    "more than {MAX_IMPORT_OBJECTS} objects under the S3KeyPrefix"
                )));
            }
            found.push((key, entry.path()));
        }
    }
    Ok(())
}

/// How much of a file an import reads at once.
pub(super) const READ_BUFFER: usize = 256 << 10;

/// One file of an import, opened when first read (so that a CSV import, which reads its
/// files one by one, holds one open at a time), decompressed as the request's
/// `InputCompressionType` says (`compression.rs`). Once the server's stop is set, opening
/// and every read fail: the import ends before its commit. The decompressed bytes it hands
/// over are added to `bytes`: DynamoDB's `ProcessedSizeBytes` (ScyllaDB's test_import, run
/// against AWS: a gzip'd object counts as its content).
pub(super) struct Object {
    path: PathBuf,
    compression: Compression,
    stop: Arc<AtomicBool>,
    bytes: Arc<AtomicU64>,
    reader: Option<Box<dyn Read + Send>>,
}

impl Object {
    pub(super) fn new(
        path: PathBuf,
        compression: Compression,
        stop: Arc<AtomicBool>,
        bytes: Arc<AtomicU64>,
    ) -> Object {
        Object {
            path,
            compression,
            stop,
            bytes,
            reader: None,
        }
    }
}

impl Read for Object {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        let reader = match &mut self.reader {
            Some(reader) => reader,
            None => {
                let file = Stoppable {
                    file: open_no_follow(&self.path)?,
                    stop: Arc::clone(&self.stop),
                };
                self.reader
                    .insert(self.compression.decoder(BufReader::new(file)))
            }
        };
        let n = reader.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The error of a read the server's stop ended. (Not `Interrupted`, which readers retry.)
fn cancelled() -> std::io::Error {
    std::io::Error::other(CANCELLED)
}

/// An import's file as its decoder reads it: every read fails once the server's stop is
/// set. (Checked below the decoder too, as a decoder may read on and on without handing a
/// byte over: a ZSTD frame of empty blocks, which a terabyte of zeros is, or skippable
/// frames.)
struct Stoppable {
    file: std::fs::File,
    stop: Arc<AtomicBool>,
}

impl Read for Stoppable {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        self.file.read(buf)
    }
}

/// The files of an import read one after another as one source, a line end between two
/// (so that a file's last line, ended or not, is never joined to the next one's first; not
/// counted in `bytes`, which counts the files' bytes only).
pub(super) struct Objects {
    pub(super) files: std::vec::IntoIter<PathBuf>,
    pub(super) current: Option<Object>,
    pub(super) compression: Compression,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) bytes: Arc<AtomicU64>,
    pub(super) between: bool,
}

impl Read for Objects {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if buf.is_empty() {
                return Ok(0);
            }
            if std::mem::take(&mut self.between) {
                buf[0] = b'\n';
                return Ok(1);
            }
            match &mut self.current {
                Some(reader) => {
                    let n = reader.read(buf)?;
                    if n > 0 {
                        return Ok(n);
                    }
                    self.current = None;
                    self.between = true;
                }
                None => {
                    let Some(path) = self.files.next() else {
                        return Ok(0);
                    };
                    self.current = Some(Object::new(
                        path,
                        self.compression,
                        Arc::clone(&self.stop),
                        Arc::clone(&self.bytes),
                    ));
                }
            }
        }
    }
}

/// Opens `path` for reading, refusing a symbolic link put there since it was listed.
fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::super::scratch_dir;
    use super::*;

    /// Neither a bucket folder nor a file that is a symbolic link is read; keys are listed
    /// in order, under the prefix only.
    #[cfg(unix)]
    #[test]
    fn listing_takes_regular_files_under_the_prefix_in_key_order_and_follows_no_link() {
        let dir = scratch_dir("s3");
        let bucket = dir.join("b");
        std::fs::create_dir_all(bucket.join("p/q")).expect("folders");
        for name in ["p/q/2", "p/1", "p0", "x"] {
            std::fs::write(bucket.join(name), b"{}").expect("a file");
        }
        std::os::unix::fs::symlink(bucket.join("x"), bucket.join("p/link")).expect("a link");
        std::os::unix::fs::symlink(&bucket, dir.join("linked")).expect("a link");
        let keys: Vec<PathBuf> = objects(&bucket, "p").expect("listed");
        let expected: Vec<PathBuf> = ["p/1", "p/q/2", "p0"]
            .iter()
            .map(|k| bucket.join(k))
            .collect();
        assert_eq!(keys, expected);
        assert_eq!(
            objects(&bucket, "p/").expect("listed"),
            expected[..2].to_vec()
        );
        // A prefix matching nothing is no error (DynamoDB's import then COMPLETES, empty).
        assert_eq!(
            objects(&bucket, "nothing").expect("listed"),
            Vec::<PathBuf>::new()
        );
        assert!(objects(&dir.join("linked"), "").is_err(), "a linked bucket");
        assert!(objects(&dir.join("missing"), "").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
