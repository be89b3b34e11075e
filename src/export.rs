//! `ExportTableToPointInTime`: a table as it was at a moment of its point-in-time recovery
//! window, written in DynamoDB's S3 export layout, so that DynamoDB's import (or this
//! crate's, `import.rs`) can make the table again elsewhere.
//!
//! The state exported is exact: the table after exactly the records committed at or before
//! `ExportTime`. It is built by the one replay behind checkpoints, backups and point-in-time
//! restores (`pitr::build_state_at`, `storage/replay.rs`) as a table file beside the
//! database's snapshots, then read back a block at a time into the export's files, and
//! removed. Nothing reads the live table and no lock a writer needs is held: writers go on
//! while an export runs, and its memory is the changed keys of the replay and one block, not
//! the table. (A crash leaves the table file behind; the next open removes it with the other
//! files the catalog does not name.)
//!
//! # Layout
//!
//! As DynamoDB's developer guide ("DynamoDB table export output format") gives it, for a
//! FULL_EXPORT in DYNAMODB_JSON, under the folder standing in for the bucket:
//!
//! ```text
//!   {prefix}/AWSDynamoDB/{ExportId}/
//!     _started                   empty: written first (the bucket is writable, the export began)
//!     data/{uuid}.json.gz        gzip; one line per item: {"Item":{…DynamoDB JSON…}}\n;
//!                                at most MAX_EXPORT_FILE_ITEMS items, at least one file
//!     manifest-files.json        one line per data file:
//!                                {"itemCount":n,"md5Checksum":"<base64 MD5 of the .gz>",
//!                                 "etag":"<hex MD5>","dataFileS3Key":"<key>"}
//!     manifest-files.checksum    hex MD5 of manifest-files.json
//!     manifest-summary.json      {"version":"2020-06-30","exportArn","startTime","endTime",
//!                                 "tableArn","tableId","exportTime","s3Bucket","s3Prefix",
//!                                 "s3SseAlgorithm":null,"s3SseKmsKeyId":null,
//!                                 "manifestFilesS3Key","billedSizeBytes","itemCount",
//!                                 "outputFormat":"DYNAMODB_JSON"}   (times ISO 8601, UTC)
//!     manifest-summary.checksum  hex MD5 of manifest-summary.json
//! ```
//!
//! Keys (`dataFileS3Key`, `manifestFilesS3Key`) are whole object keys, prefix included.
//! Every file and folder operation goes through the database's file-system seam
//! (`crate::fs::Vfs`), so crash and fault simulation covers the export too. Every file is
//! synced, and every folder (`data/` before the manifests name its files; the export's own
//! before each manifest's `.json`, so that a manifest a crash keeps has its checksum and
//! every file before it; the bucket's parent if the export made the bucket's folder; the
//! export's own and those made for its prefix at the end); `manifest-summary.json` is
//! written last, through a temporary file and a rename, so an export whose summary exists
//! is whole. One that fails removes its
//! folder. The files are not encrypted (`s3SseAlgorithm` null): a server refuses
//! `S3SseAlgorithm` rather than pretend.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use md5::{Digest, Md5};
use serde::Serialize;
use serde_json::json;

use crate::api::exports::*;
use crate::engine::Engine;
use crate::error::{io_error, Error, Result};
use crate::format::table_file::{TableFileReader, SNAPSHOT_MAGIC};
use crate::fs::{EntryKind, Vfs, VfsFile};
use crate::model::clock::Timestamp;
use crate::model::value::Item;

/// The version DynamoDB's manifests carry.
const MANIFEST_VERSION: &str = "2020-06-30";
/// Why an export a stop cancelled failed.
pub(crate) const CANCELLED: &str = "the export was cancelled before it finished";

/// The service behind
/// [`Database::export_table_to_point_in_time`](crate::Database::export_table_to_point_in_time).
/// `stop`, once set, ends the export (failed, its folder removed) at its next block.
pub(crate) fn export_table_to_point_in_time(
    engine: &Engine,
    input: ExportTableToPointInTimeInput,
    bucket_dir: &Path,
    stop: Option<&AtomicBool>,
) -> Result<ExportTableToPointInTimeOutput> {
    let start = engine.options.clock.now();
    let prefix = input.s3_prefix.as_deref().unwrap_or_default();
    if let Some(refusal) = prefix_refusal(prefix) {
        return Err(Error::validation(refusal));
    }
    let id = match &input.export_id {
        Some(id) if is_export_id(id) => id.clone(),
        Some(id) => {
            return Err(Error::validation(format!(
                "An export id is 14 digits, '-' and 8 lowercase hex digits, not {id:?}"
            )))
        }
        None => {
            let suffix = uuid::Uuid::new_v4().simple().to_string();
            format!("{:014}-{}", start.0, &suffix[..8])
        }
    };
    let Some(store) = &engine.store else {
        return Err(Error::PointInTimeRecoveryUnavailable(
            "Exports need point-in-time recovery, which needs a database directory; this database lives in memory".into(),
        ));
    };
    let key_base = match prefix.trim_end_matches('/') {
        "" => format!("AWSDynamoDB/{id}"),
        p => format!("{p}/AWSDynamoDB/{id}"),
    };
    // (Checked before the replay too, which an export that cannot be written would waste.)
    let root = export_folder(&*store.fs, bucket_dir, &key_base, false)?;
    // Its own name, whatever the id: two exports given one id (to two buckets) at once
    // must not build, read and remove one file.
    let state_file = format!("export-{id}-{}", uuid::Uuid::new_v4().simple());
    let state =
        crate::pitr::build_state_at(engine, &input.table_arn, input.export_time, &state_file)?;
    // NB: removed however the export ends, a panic included (a server catches it and runs
    // on): nothing names the file, and only the next open would remove it.
    let _remove_state = RemoveOnDrop {
        fs: &*store.fs,
        path: &state.path,
    };
    let mut export = Export {
        description: ExportDescription {
            export_arn: format!("{}/export/{id}", state.table_arn),
            export_status: ExportStatus::Completed,
            start_time: start,
            end_time: start,
            export_manifest: format!("{key_base}/manifest-summary.json"),
            table_arn: state.table_arn.clone(),
            table_id: state.schema.id.clone(),
            export_time: state.time,
            s3_bucket: input.s3_bucket.clone(),
            s3_prefix: input.s3_prefix.clone(),
            export_format: "DYNAMODB_JSON".into(),
            export_type: "FULL_EXPORT".into(),
            billed_size_bytes: 0,
            item_count: 0,
        },
        key_base,
        root: root.clone(),
        files: Vec::new(),
    };
    let written = match export_folder(&*store.fs, bucket_dir, &export.key_base, true) {
        Ok(_) => {
            let written = export.write(engine, &*store.fs, &state, stop, bucket_dir);
            if written.is_err() {
                // Never half an export: its folder (made just now, by it) goes with it.
                let _ = remove_export(&*store.fs, &root);
            }
            written
        }
        Err(e) => Err(e),
    };
    written?;
    Ok(ExportTableToPointInTimeOutput {
        export_description: export.description,
    })
}

/// The export's folder `{bucket_dir}/{key_base}`; when `create`, made one folder at a time.
/// `ExportConflict` if it exists already; `Validation` if a folder on the way is a symbolic
/// link or not a folder: an export writes (and, when it fails, removes) only inside its
/// bucket's folder, whatever else lives there.
fn export_folder(fs: &dyn Vfs, bucket_dir: &Path, key_base: &str, create: bool) -> Result<PathBuf> {
    let root = key_base
        .split('/')
        .fold(bucket_dir.to_path_buf(), |path, part| path.join(part));
    let conflict =
        || Error::ExportConflict(format!("The bucket already holds an export at {key_base}"));
    let not_a_folder = |path: &Path| {
        Error::validation(format!(
            "One or more parameter values were invalid: {} in the bucket is a symbolic link or a file, not a folder: an export writes only inside its bucket",
            path.strip_prefix(bucket_dir).unwrap_or(path).display()
        ))
    };
    if create {
        // The bucket's own folder is the caller's: made if missing, as before.
        let mut missing = Vec::new();
        for dir in bucket_dir.ancestors() {
            let looked = fs.entry_kind(dir);
            if looked
                .map_err(io_error(format!("looking at {}", dir.display())))?
                .is_some()
            {
                break;
            }
            missing.push(dir);
        }
        fs.create_dir_all(bucket_dir)
            .map_err(io_error(format!("creating {}", bucket_dir.display())))?;
        // IMPORTANT: a folder made here is durable only once its parent is synced; a crash
        // could otherwise take the bucket's folder, and a finished export in it, away.
        for dir in missing.iter().rev() {
            if let Err(e) = sync_dir(fs, dir.parent().unwrap_or(Path::new(""))) {
                // NB: the folders made go again (deepest first, best effort): the next
                // export would find them there and never sync their parents, and its
                // summary would then be lost with them.
                for made in &missing {
                    let _ = fs.remove_dir(made);
                }
                return Err(e);
            }
        }
    }
    let mut path = bucket_dir.to_path_buf();
    let parts: Vec<&str> = key_base.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let last = i + 1 == parts.len();
        match fs.entry_kind(&path) {
            Ok(Some(_)) if last => return Err(conflict()),
            Ok(Some(EntryKind::Dir)) => continue,
            Ok(Some(_)) => return Err(not_a_folder(&path)),
            Ok(None) => {}
            Err(e) => return Err(io_error(format!("looking at {}", path.display()))(e)),
        }
        if !create {
            // The rest is not there yet.
            return Ok(root);
        }
        match fs.create_dir(&path) {
            Ok(()) => {}
            // Made meanwhile by another: the export's own folder is a conflict, any other
            // must still be a folder.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if last {
                    return Err(conflict());
                }
                if !fs
                    .entry_kind(&path)
                    .is_ok_and(|kind| kind == Some(EntryKind::Dir))
                {
                    return Err(not_a_folder(&path));
                }
            }
            Err(e) => return Err(io_error(format!("creating {}", path.display()))(e)),
        }
    }
    Ok(root)
}

/// Removes the folder `root` of an export that failed: its summary first, durably, then
/// the rest ([`remove_folder`]).
///
/// IMPORTANT: the failure may come after the summary was written (a folder sync at the
/// end). Removed in any other order, a crash part way through the removal, or a disk that
/// keeps only some of the removals not yet synced, could show a summary whose manifest or
/// data files are gone: an export that is neither whole nor absent. If the summary cannot
/// be removed durably, the rest stays, and the export is whole if the summary comes back.
fn remove_export(fs: &dyn Vfs, root: &Path) -> std::io::Result<()> {
    match fs.remove_file(&root.join("manifest-summary.json")) {
        Ok(()) => fs.sync_dir(root)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    remove_folder(fs, root)
}

/// Removes the folder `dir` and everything in it, without following a symbolic link found
/// inside (the link goes, not what it points to).
fn remove_folder(fs: &dyn Vfs, dir: &Path) -> std::io::Result<()> {
    for name in fs.read_dir(dir)? {
        let path = dir.join(name);
        match fs.entry_kind(&path)? {
            Some(EntryKind::Dir) => remove_folder(fs, &path)?,
            Some(_) => fs.remove_file(&path)?,
            None => {}
        }
    }
    fs.remove_dir(dir)
}

/// Removes its file when dropped.
struct RemoveOnDrop<'a> {
    fs: &'a dyn crate::fs::Vfs,
    path: &'a Path,
}

impl Drop for RemoveOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.fs.remove_file(self.path);
    }
}

/// Whether `id` has the form of an export's id: `{ms:014}-{8 lowercase hex}`.
fn is_export_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 23
        && b[..14].iter().all(u8::is_ascii_digit)
        && b[14] == b'-'
        && b[15..]
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

/// Why a key prefix could reach outside its bucket, if it could: each segment becomes a
/// folder.
pub(crate) fn prefix_refusal(prefix: &str) -> Option<String> {
    let bad = prefix.starts_with('/')
        || prefix.contains(['\0', '\\'])
        || prefix
            .trim_end_matches('/')
            .split('/')
            .any(|part| part == ".." || part == "." || (part.is_empty() && !prefix.is_empty()))
        || prefix.len() > 1024;
    bad.then(|| format!("One or more parameter values were invalid: S3Prefix {prefix:?} is not a key prefix tidestore can write (at most 1024 bytes of '/'-separated segments, none empty, '.' or '..', no leading '/', backslash or NUL)"))
}

/// An export being written.
struct Export {
    description: ExportDescription,
    /// `{prefix}/AWSDynamoDB/{ExportId}`.
    key_base: String,
    /// Its folder.
    root: PathBuf,
    /// The data files written: their manifest lines.
    files: Vec<serde_json::Value>,
}

/// One line of a data file.
#[derive(Serialize)]
struct Line<'a> {
    #[serde(rename = "Item")]
    item: &'a Item,
}

impl Export {
    /// Writes every file of the export from the table file of `state`.
    fn write(
        &mut self,
        engine: &Engine,
        fs: &dyn crate::fs::Vfs,
        state: &crate::pitr::StateAt,
        stop: Option<&AtomicBool>,
        bucket_dir: &Path,
    ) -> Result<()> {
        let data_dir = self.root.join("data");
        fs.create_dir(&data_dir)
            .map_err(io_error(format!("creating {}", data_dir.display())))?;
        write_file(fs, &self.root.join("_started"), b"")?;
        let mut reader = TableFileReader::open(fs, &state.path, SNAPSHOT_MAGIC)?;
        let mut file: Option<DataFile> = None;
        while let Some(block) = reader.next_block(&state.schema.key)? {
            if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                return Err(Error::Io {
                    context: "exporting".into(),
                    source: std::io::Error::other(CANCELLED),
                });
            }
            for (_, stored) in block {
                let open = match file.take() {
                    Some(f) if f.items < MAX_EXPORT_FILE_ITEMS => f,
                    full => {
                        if let Some(full) = full {
                            self.files.push(full.finish()?);
                        }
                        DataFile::create(fs, &data_dir, &self.key_base)?
                    }
                };
                let mut open = open;
                open.push(&stored.decode())?;
                self.description.item_count += 1;
                self.description.billed_size_bytes += stored.size() as u64;
                file = Some(open);
            }
        }
        // At least one data file, as DynamoDB writes an empty one for an empty partition.
        let last = match file {
            Some(f) => f,
            None => DataFile::create(fs, &data_dir, &self.key_base)?,
        };
        self.files.push(last.finish()?);
        // IMPORTANT: the data files' names are durable before a manifest names them.
        sync_dir(fs, &data_dir)?;

        let mut manifest_files = Vec::new();
        for line in &self.files {
            manifest_files.extend_from_slice(line.to_string().as_bytes());
            manifest_files.push(b'\n');
        }
        self.write_with_checksum(fs, "manifest-files", &manifest_files)?;
        self.description.end_time = engine.options.clock.now();
        let d = &self.description;
        let iso = |t: Timestamp| format!("{}Z", t.to_iso8601());
        let summary = json!({
            "version": MANIFEST_VERSION,
            "exportArn": d.export_arn,
            "startTime": iso(d.start_time),
            "endTime": iso(d.end_time),
            "tableArn": d.table_arn,
            "tableId": d.table_id,
            "exportTime": iso(d.export_time),
            "s3Bucket": d.s3_bucket,
            "s3Prefix": d.s3_prefix,
            "s3SseAlgorithm": null,
            "s3SseKmsKeyId": null,
            "manifestFilesS3Key": format!("{}/manifest-files.json", self.key_base),
            "billedSizeBytes": d.billed_size_bytes,
            "itemCount": d.item_count,
            "outputFormat": d.export_format,
        });
        self.write_with_checksum(fs, "manifest-summary", summary.to_string().as_bytes())?;
        // The export's folder and the folders made for it, up to the bucket's, so that a
        // crash cannot take the export's folder (or its prefix) away from under a summary
        // that was written.
        let mut dir = Some(self.root.as_path());
        while let Some(d) = dir {
            sync_dir(fs, d)?;
            dir = d.parent().filter(|p| p.starts_with(bucket_dir));
        }
        Ok(())
    }

    /// Writes `{name}.checksum` (hex MD5) and then `{name}.json`, each through a temporary
    /// file and a rename.
    ///
    /// IMPORTANT: the export's folder is synced between the two, so that a `{name}.json` a
    /// crash keeps has its checksum, and every file renamed before it (for the summary,
    /// `manifest-files.json`): renames in one folder reach the disk in any order until it
    /// is synced.
    fn write_with_checksum(&self, fs: &dyn Vfs, name: &str, bytes: &[u8]) -> Result<()> {
        let md5 = Md5::digest(bytes);
        write_file(
            fs,
            &self.root.join(format!("{name}.checksum")),
            hex(&md5).as_bytes(),
        )?;
        sync_dir(fs, &self.root)?;
        write_file(fs, &self.root.join(format!("{name}.json")), bytes)
    }
}

/// Writes `bytes` to `path` durably: a temporary file, synced, renamed over it.
fn write_file(fs: &dyn Vfs, path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp-export");
    let written = (|| {
        let mut file = fs.create(&tmp)?;
        file.append(bytes)?;
        file.sync_all()?;
        drop(file);
        fs.rename(&tmp, path)
    })();
    written.map_err(io_error(format!("writing {}", path.display())))
}

/// Syncs the folder `dir`, so the names of the files in it survive a crash.
fn sync_dir(fs: &dyn Vfs, dir: &Path) -> Result<()> {
    // IMPORTANT: the export's files are renamed into place: their names are durable only
    // once the folder is synced.
    fs.sync_dir(dir)
        .map_err(io_error(format!("syncing {}", dir.display())))
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A writer that hashes (MD5) what it passes on: an S3 object's ETag and `Content-MD5` are
/// of its bytes as stored, here the gzip stream.
struct Hashed<W> {
    inner: W,
    md5: Md5,
}

impl<W: Write> Write for Hashed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.md5.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A [`VfsFile`] as a `Write`: each write appends, so that the gzip stream goes through
/// the file-system seam.
struct Appender(Box<dyn VfsFile>);

impl Write for Appender {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.append(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One gzipped data file being written.
struct DataFile {
    path: PathBuf,
    key: String,
    gzip: flate2::write::GzEncoder<Hashed<BufWriter<Appender>>>,
    items: u64,
}

impl DataFile {
    fn create(fs: &dyn Vfs, data_dir: &Path, key_base: &str) -> Result<DataFile> {
        let name = format!("{}.json.gz", uuid::Uuid::new_v4().simple());
        let path = data_dir.join(&name);
        let file = Appender(
            fs.create(&path)
                .map_err(io_error(format!("creating {}", path.display())))?,
        );
        Ok(DataFile {
            key: format!("{key_base}/data/{name}"),
            gzip: flate2::write::GzEncoder::new(
                Hashed {
                    inner: BufWriter::with_capacity(256 << 10, file),
                    md5: Md5::new(),
                },
                flate2::Compression::default(),
            ),
            path,
            items: 0,
        })
    }

    fn push(&mut self, item: &Item) -> Result<()> {
        let error = |e: std::io::Error| io_error(format!("writing {}", self.path.display()))(e);
        serde_json::to_writer(&mut self.gzip, &Line { item }).map_err(|e| error(e.into()))?;
        self.gzip.write_all(b"\n").map_err(error)?;
        self.items += 1;
        Ok(())
    }

    /// Finishes and syncs the file; its line of `manifest-files.json`.
    fn finish(self) -> Result<serde_json::Value> {
        let error = io_error(format!("writing {}", self.path.display()));
        let finished = (|| {
            let hashed = self.gzip.finish()?;
            let mut file = hashed.inner.into_inner().map_err(|e| e.into_error())?;
            file.0.sync_all()?;
            Ok(hashed.md5.finalize())
        })();
        let md5 = finished.map_err(error)?;
        Ok(json!({
            "itemCount": self.items,
            "md5Checksum": base64::engine::general_purpose::STANDARD.encode(md5),
            "etag": hex(&md5),
            "dataFileS3Key": self.key,
        }))
    }
}
