//! `ExportTableToPointInTime`: a table as it was at a moment of its point-in-time recovery
//! window (FULL_EXPORT), or the items changed in a window of it (INCREMENTAL_EXPORT), written
//! in DynamoDB's S3 export layout, so that DynamoDB's import (or this
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
//! A `FilterSpecification` (`export/filter.rs`) narrows what is written: the items of a key
//! condition's range that meet its filter, projected. It is checked before anything is read;
//! a full export tests each item of the state, an incremental export each changed item's
//! image at the window's end (its old image if it was deleted) and projects both images.
//!
//! # Layout
//!
//! As DynamoDB's developer guide ("DynamoDB table export output format") gives it, for a
//! FULL_EXPORT in DYNAMODB_JSON, under the folder standing in for the bucket — but for the
//! manifests' checksum files, which the guide names `.checksum` and the service writes as
//! `.md5` holding a base64 MD5 (ScyllaDB's `test_export_with_data_full`, run against AWS,
//! lists exactly these files): tidestore writes what the service does.
//!
//! ```text
//!   {prefix}/AWSDynamoDB/{ExportId}/
//!     _started                   empty: written first (the bucket is writable, the export began)
//!     data/{uuid}.json.gz        gzip; one line per item: {"Item":{…DynamoDB JSON…}}\n;
//!                                at most MAX_EXPORT_FILE_ITEMS items, at least one file
//!     manifest-files.json        one line per data file:
//!                                {"itemCount":n,"md5Checksum":"<base64 MD5 of the .gz>",
//!                                 "etag":"<hex MD5>","dataFileS3Key":"<key>"}
//!     manifest-files.md5         base64 MD5 of manifest-files.json
//!     manifest-summary.json      {"version":"2020-06-30","exportArn","startTime","endTime",
//!                                 "tableArn","tableId","exportTime","s3Bucket","s3Prefix",
//!                                 "s3SseAlgorithm":null,"s3SseKmsKeyId":null,
//!                                 "manifestFilesS3Key","billedSizeBytes","itemCount",
//!                                 "outputFormat":"DYNAMODB_JSON"}   (times ISO 8601, UTC)
//!     manifest-summary.md5       base64 MD5 of manifest-summary.json
//! ```
//!
//! The summary's members are written in that order (`ManifestSummary`), as DynamoDB's are.
//!
//! An INCREMENTAL_EXPORT of the window `[ExportFromTime, ExportToTime)` has the same files
//! but for two differences, as the developer guide gives them: its data files go to the
//! folder every incremental export of the prefix shares, and its lines are changes (the
//! summary's version and members as a real export's are: `INCREMENTAL_MANIFEST_VERSION`):
//!
//! ```text
//!   {prefix}/AWSDynamoDB/{ExportId}/   _started, manifest-files.*, manifest-summary.*
//!                                      (the summary: "version":"2023-08-01", no "exportTime"
//!                                       but "exportFromTime", "exportToTime" in its place,
//!                                       and after "outputFormat": "outputView":
//!                                       NEW_IMAGE | NEW_AND_OLD_IMAGES,
//!                                       "exportType":"INCREMENTAL_EXPORT")
//!   {prefix}/AWSDynamoDB/data/{uuid}.json.gz
//!                                      one line per item changed in the window, once:
//!                                      {"Metadata":{"WriteTimestampMicros":{"N":"<µs>"}},
//!                                       "Keys":{…},"OldImage":{…},"NewImage":{…}}\n
//! ```
//!
//! `WriteTimestampMicros` is the commit time of the item's last write in the window (a
//! millisecond, times 1000). `NewImage` is the item just before `ExportToTime`, absent if it
//! was deleted; `OldImage` (NEW_AND_OLD_IMAGES only) the item just before `ExportFromTime`,
//! absent if it did not exist; an item that did not exist before the window and was
//! deleted in it has no line. The old images come from the table's state before the
//! window, built by the same replay as a full export's state, and merged in key order with
//! the window's changed keys, read from the log (`storage/replay.rs`): the memory is the
//! window's changed keys and a block, not the table. The window's edges are exact: a write
//! committed in the millisecond `ExportFromTime` is in, one in the millisecond
//! `ExportToTime` is the next window's, so windows `[a, b)` and `[b, c)` hold each change
//! once.
//!
//! With `ExportFormat` ION the files and manifests are the same but for the data files:
//! `data/{uuid}.ion.gz`, one line an item in Amazon Ion text, `$ion_1_0 {Item:{…}}\n` as
//! the developer guide's Ion example writes it (`format/ion.rs` draws the type mapping), an
//! incremental export's `$ion_1_0 {Metadata:{WriteTimestampMicros:…},Keys:{…},OldImage:{…},
//! NewImage:{…}}\n` (the guide shows those in JSON only: the same fields, in Ion, is
//! tidestore's reading); the summary's `outputFormat` is `"ION"`.
//!
//! Keys (`dataFileS3Key`, `manifestFilesS3Key`) are whole object keys, prefix included.
//! Every file and folder operation goes through the database's file-system seam
//! (`crate::fs::Vfs`), so crash and fault simulation covers the export too. Every file is
//! synced, and every folder (`data/` before the manifests name its files, and the shared
//! `AWSDynamoDB/data/`'s parent as soon as an incremental export made that folder; the
//! export's own before each manifest's `.json`, so that a manifest a crash keeps has its
//! checksum and every file before it; the bucket's parent if the export made the bucket's
//! folder; the export's own and those made for its prefix at the end);
//! `manifest-summary.json` is written last, through a temporary file and a rename, so an
//! export whose summary exists is whole. One that fails removes its folder (and an
//! incremental export the data files it wrote to the shared folder; the folder stays, as
//! other exports of the prefix may be writing to it). A crash can leave data files there
//! that no manifest names: nothing removes them, and a reader goes by the manifests. The
//! files are not encrypted (`s3SseAlgorithm` null): a server refuses
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
use crate::format::ion;
use crate::format::table_file::{TableFileReader, SNAPSHOT_MAGIC};
use crate::fs::{EntryKind, Vfs, VfsFile};
use crate::model::clock::Timestamp;
use crate::model::schema::KeyShape;
use crate::model::value::Item;

mod filter;

use filter::ExportFilter;

/// The version a full export's summary manifest carries: the developer guide's example
/// ("DynamoDB table export output format",
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html>).
const MANIFEST_VERSION: &str = "2020-06-30";
/// The version an incremental export's summary manifest carries.
///
/// NB: the same developer guide page has an "Incremental export output" section, but only
/// its full-export part could be read here. What settles this value, the summary's members
/// and their order is the output of a real export published beside its code
/// (github.com/gurre/ddb-pitr, `s3exportdata/`, whose README says "This is a real export"):
/// a full export's summary at "2020-06-30", two incremental exports' at "2023-08-01", with
/// `exportFromTime` and `exportToTime` (the request's window, not the time of the request)
/// where a full export has `exportTime`, which theirs leave out, and `outputView` and
/// `exportType` after `outputFormat` ([`ManifestSummary`]).
const INCREMENTAL_MANIFEST_VERSION: &str = "2023-08-01";
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
    let incremental = incremental_window(&input)?;
    // Checked before anything is read, as a Query's expressions are; checked again against
    // the key of the table the replay finds (a table of that name made since has its own).
    if let Some(spec) = &input.filter_specification {
        check_filter(engine, &input.table_arn, spec)?;
    }
    let format = input.export_format.unwrap_or_default();
    let Some(store) = &engine.store else {
        return Err(Error::PointInTimeRecoveryUnavailable(
            "Exports need point-in-time recovery, which needs a database directory; this database lives in memory".into(),
        ));
    };
    let exports_base = match prefix.trim_end_matches('/') {
        "" => "AWSDynamoDB".to_string(),
        p => format!("{p}/AWSDynamoDB"),
    };
    let key_base = format!("{exports_base}/{id}");
    // (Checked before the replay too, which an export that cannot be written would waste.)
    let root = export_folder(&*store.fs, bucket_dir, &key_base, false)?;
    // Its own name, whatever the id: two exports given one id (to two buckets) at once
    // must not build, read and remove one file.
    let state_file = format!("export-{id}-{}", uuid::Uuid::new_v4().simple());
    let mut description = ExportDescription {
        export_arn: String::new(),
        export_status: ExportStatus::Completed,
        start_time: start,
        end_time: start,
        export_manifest: format!("{key_base}/manifest-summary.json"),
        table_arn: String::new(),
        table_id: String::new(),
        export_time: start,
        s3_bucket: input.s3_bucket.clone(),
        s3_prefix: input.s3_prefix.clone(),
        export_format: format.as_str().into(),
        export_type: ExportType::FullExport.as_str().into(),
        incremental_export_specification: None,
        filter_specification: input.filter_specification.clone(),
        billed_size_bytes: 0,
        item_count: 0,
    };
    let source = match incremental {
        None => {
            let state = crate::pitr::build_state_at(
                engine,
                &input.table_arn,
                input.export_time,
                &state_file,
            )?;
            description.export_time = state.time;
            description.table_arn = state.table_arn.clone();
            description.table_id = state.schema.id.clone();
            Source::Full(state)
        }
        Some((from, to, view)) => {
            let window = crate::pitr::build_window(
                engine,
                &input.table_arn,
                from,
                to,
                &state_file,
                check_period,
            )?;
            let to = window.to;
            description.export_time = to;
            description.table_arn = window.table_arn.clone();
            description.table_id = window.schema.id.clone();
            description.export_type = ExportType::IncrementalExport.as_str().into();
            description.incremental_export_specification = Some(IncrementalExportSpecification {
                export_from_time: Some(from),
                export_to_time: Some(to),
                export_view_type: Some(view),
            });
            Source::Window(window, view)
        }
    };
    description.export_arn = format!("{}/export/{id}", description.table_arn);
    // NB: removed however the export ends, a panic or a refused filter included (a server
    // catches a panic and runs on): nothing names the file, and only the next open would
    // remove it.
    let _remove_state = RemoveOnDrop {
        fs: &*store.fs,
        path: source.state_path(),
    };
    let filter = match &input.filter_specification {
        Some(spec) => ExportFilter::new(spec, &source.key_shape())?,
        None => ExportFilter::default(),
    };
    // A full export's data files are its own (`{ExportId}/data/`); an incremental export's
    // go to the data folder its prefix's exports share (`AWSDynamoDB/data/`), as DynamoDB's do.
    let (data_dir, data_key) = match &source {
        Source::Full(_) => (root.join("data"), format!("{key_base}/data")),
        Source::Window(..) => (
            // `{exports_base}/{id}`'s folder is checked (no link, a folder) as it is made.
            root.parent().unwrap_or(bucket_dir).join("data"),
            format!("{exports_base}/data"),
        ),
    };
    let mut export = Export {
        description,
        key_base,
        root: root.clone(),
        filter,
        sink: Sink {
            format,
            data_dir,
            data_key,
            file: None,
            files: Vec::new(),
            written: Vec::new(),
            items: 0,
            bytes: 0,
        },
    };
    let written = match export_folder(&*store.fs, bucket_dir, &export.key_base, true) {
        Ok(_) => {
            let written = export.write(engine, &*store.fs, &source, stop, bucket_dir);
            if written.is_err() {
                // Never half an export: its folder (made just now, by it) goes with it, its
                // summary first and durably, then the data files it wrote into a shared
                // folder — only once no summary can come back to name them (files no
                // manifest names are harmless).
                if remove_export(&*store.fs, &root).is_ok() {
                    for path in &export.sink.written {
                        let _ = store.fs.remove_file(path);
                    }
                }
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

/// What an export reads: a state (FULL_EXPORT) or a window's changes (INCREMENTAL_EXPORT).
// One per export, on its stack: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
enum Source {
    Full(crate::pitr::StateAt),
    Window(crate::pitr::WindowState, ExportViewType),
}

impl Source {
    /// The key of the table read.
    fn key_shape(&self) -> KeyShape {
        match self {
            Source::Full(state) => state.schema.key.clone(),
            Source::Window(window, _) => window.schema.key.clone(),
        }
    }

    /// The state file the export built (removed when it ends), if any.
    fn state_path(&self) -> Option<&Path> {
        match self {
            Source::Full(state) => Some(&state.path),
            Source::Window(window, _) => window.before.as_ref().map(|b| b.path.as_path()),
        }
    }
}

/// An incremental export's window and view type, checked against the rest of the request:
/// `None` for a full export. (DynamoDB's messages for these refusals were not found; the
/// wording is tidestore's.)
pub(crate) fn incremental_window(
    input: &ExportTableToPointInTimeInput,
) -> Result<Option<(Timestamp, Option<Timestamp>, ExportViewType)>> {
    let spec = input.incremental_export_specification.as_ref();
    match input.export_type.unwrap_or(ExportType::FullExport) {
        ExportType::FullExport => match spec {
            Some(_) => Err(Error::validation(
                "One or more parameter values were invalid: IncrementalExportSpecification can only be given with ExportType INCREMENTAL_EXPORT",
            )),
            None => Ok(None),
        },
        ExportType::IncrementalExport => {
            if input.export_time.is_some() {
                return Err(Error::validation(
                    "One or more parameter values were invalid: ExportTime cannot be given with ExportType INCREMENTAL_EXPORT: its IncrementalExportSpecification gives the window",
                ));
            }
            let Some(spec) = spec else {
                return Err(Error::validation(
                    "One or more parameter values were invalid: ExportType INCREMENTAL_EXPORT needs an IncrementalExportSpecification",
                ));
            };
            let Some(from) = spec.export_from_time else {
                return Err(Error::validation(
                    "One or more parameter values were invalid: an incremental export needs IncrementalExportSpecification.ExportFromTime",
                ));
            };
            if let Some(to) = spec.export_to_time {
                check_period(from, to)?;
            }
            let view = spec
                .export_view_type
                .unwrap_or(ExportViewType::NewAndOldImages);
            Ok(Some((from, spec.export_to_time, view)))
        }
    }
}

/// Checks `spec` against the key of the table `table` (a name or an ARN) as it is now:
/// `ValidationException` for a bad one, `TableNotFound` if there is no such table.
pub(crate) fn check_filter(engine: &Engine, table: &str, spec: &FilterSpecification) -> Result<()> {
    let handle = engine.table(table).map_err(|e| match e {
        Error::ResourceNotFound(_) => Error::TableNotFound(format!("Table not found: {table}")),
        other => other,
    })?;
    let key = handle.data.read().schema.key.clone();
    ExportFilter::new(spec, &key).map(drop)
}

/// Refuses a window `[from, to)` that ends before it starts (`Validation`), or is shorter
/// than 15 minutes or longer than 24 hours (`InvalidExportTime`, as DynamoDB answers: its
/// message begins "Difference between export period", per ScyllaDB's
/// `test_export_incremental_export_time_too_close`, run against AWS; the rest of the
/// message is tidestore's own wording).
pub(crate) fn check_period(from: Timestamp, to: Timestamp) -> Result<()> {
    if to <= from {
        return Err(Error::validation(format!(
            "One or more parameter values were invalid: ExportToTime {} is not after ExportFromTime {}",
            to.to_iso8601(),
            from.to_iso8601()
        )));
    }
    let period = to.0 - from.0;
    if !(MIN_INCREMENTAL_EXPORT_PERIOD_MS..=MAX_INCREMENTAL_EXPORT_PERIOD_MS).contains(&period) {
        return Err(Error::InvalidExportTime(format!(
            "Difference between export period start time and end time must be between 15 minutes and 24 hours: from {} to {} is {period} ms",
            from.to_iso8601(),
            to.to_iso8601(),
        )));
    }
    Ok(())
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

/// Makes, if no earlier export did, the data folder `data_dir` (`AWSDynamoDB/data/`) every
/// incremental export of a prefix shares: `Validation` if it is there but not a folder (a
/// symbolic link included).
fn shared_data_folder(fs: &dyn Vfs, data_dir: &Path, data_key: &str) -> Result<()> {
    match fs.create_dir(data_dir) {
        // IMPORTANT: durable before a manifest names a file in it: its parent is synced now,
        // not with the export's folders at the end, since a crash between may keep the
        // export's folder (a sibling in the same parent) and lose this one.
        Ok(()) => sync_dir(fs, data_dir.parent().unwrap_or(Path::new(""))),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match fs.entry_kind(data_dir) {
            Ok(Some(EntryKind::Dir)) => Ok(()),
            Ok(_) => Err(Error::validation(format!(
                "One or more parameter values were invalid: {data_key} in the bucket is a symbolic link or a file, not a folder: an export writes only inside its bucket"
            ))),
            Err(e) => Err(io_error(format!("looking at {}", data_dir.display()))(e)),
        },
        Err(e) => Err(io_error(format!("creating {}", data_dir.display()))(e)),
    }
}

/// Removes its file when dropped.
struct RemoveOnDrop<'a> {
    fs: &'a dyn crate::fs::Vfs,
    path: Option<&'a Path>,
}

impl Drop for RemoveOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(path) = self.path {
            let _ = self.fs.remove_file(path);
        }
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

/// `manifest-summary.json`, its members in the order DynamoDB writes them (a real export's
/// summaries, see [`INCREMENTAL_MANIFEST_VERSION`]; the developer guide's example of a full
/// export's has the same order): a full export's have `exportTime`, an incremental
/// export's `exportFromTime`, `exportToTime`, `outputView` and `exportType` instead.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ManifestSummary<'a> {
    version: &'static str,
    export_arn: &'a str,
    start_time: String,
    end_time: String,
    table_arn: &'a str,
    table_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    export_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    export_from_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    export_to_time: Option<String>,
    s3_bucket: &'a str,
    /// `null` when the request gave none, as DynamoDB writes it.
    s3_prefix: Option<&'a str>,
    /// Always `null`: the files are not encrypted.
    s3_sse_algorithm: Option<&'a str>,
    s3_sse_kms_key_id: Option<&'a str>,
    manifest_files_s3_key: String,
    billed_size_bytes: u64,
    item_count: u64,
    output_format: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_view: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    export_type: Option<&'a str>,
}

/// One line of `manifest-files.json`: a data file, its members in DynamoDB's order (the
/// developer guide's example, and a real export's).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ManifestFileLine {
    item_count: u64,
    /// The base64 MD5 of the file's bytes (S3's `Content-MD5`).
    md5_checksum: String,
    /// The hex MD5 of the file's bytes (a single-part upload's ETag).
    etag: String,
    data_file_s3_key: String,
}

/// An export being written.
struct Export {
    description: ExportDescription,
    /// `{prefix}/AWSDynamoDB/{ExportId}`.
    key_base: String,
    /// Its folder.
    root: PathBuf,
    /// Which items it writes, and what of them.
    filter: ExportFilter,
    /// Where its lines go.
    sink: Sink,
}

/// One line of a full export's data file.
#[derive(Serialize)]
struct Line<'a> {
    #[serde(rename = "Item")]
    item: &'a Item,
}

/// A line of a data file, in either format: serde writes its DynamoDB JSON, and
/// [`DataLine::write_ion`] its Amazon Ion text, the same fields in the same order.
trait DataLine: Serialize {
    /// Appends the line in Ion text, after its version marker and without its `\n`.
    fn write_ion(&self, out: &mut Vec<u8>);
}

impl DataLine for Line<'_> {
    /// `{Item:{…}}`, as the developer guide's example of an Ion export's line.
    fn write_ion(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{Item:");
        ion::write_struct(out, self.item.iter());
        out.push(b'}');
    }
}

impl DataLine for ChangeLine<'_> {
    /// `{Metadata:{WriteTimestampMicros:…},Keys:{…},OldImage:{…},NewImage:{…}}`: the JSON
    /// line's fields, each value in Ion. NB: the developer guide shows an incremental
    /// export's lines in DynamoDB JSON only; in Ion, `WriteTimestampMicros` (a number,
    /// `{"N":…}` in JSON) is written as a number is, an Ion decimal. That is tidestore's
    /// reading, not a documented shape.
    fn write_ion(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{Metadata:{WriteTimestampMicros:");
        ion::write_number(
            out,
            &crate::model::number::Number::from(self.written_micros),
        );
        out.extend_from_slice(b"},Keys:");
        ion::write_struct(out, self.keys.iter());
        if let Some(old) = self.old_image {
            out.extend_from_slice(b",OldImage:");
            ion::write_struct(out, old.iter());
        }
        if let Some(new) = self.new_image {
            out.extend_from_slice(b",NewImage:");
            ion::write_struct(out, new.iter());
        }
        out.push(b'}');
    }
}

/// One line of an incremental export's data file: a changed item's key, the time of its
/// last write in the window and its images (which of them, see [`change_line`]).
#[derive(Serialize)]
struct ChangeLine<'a> {
    #[serde(rename = "Metadata")]
    metadata: serde_json::Value,
    #[serde(rename = "Keys")]
    keys: Item,
    #[serde(rename = "OldImage", skip_serializing_if = "Option::is_none")]
    old_image: Option<&'a Item>,
    #[serde(rename = "NewImage", skip_serializing_if = "Option::is_none")]
    new_image: Option<&'a Item>,
    /// `WriteTimestampMicros`, for the Ion line.
    #[serde(skip)]
    written_micros: u64,
}

/// The line of a key changed in the window, as the developer guide's table of view types
/// has it: `Keys` always; `NewImage` unless the item was deleted; `OldImage` (with
/// NEW_AND_OLD_IMAGES) unless the item did not exist before the window. An item that did
/// not exist before the window and was deleted in it has no line (the caller passes it
/// over). `written` is the commit time of its last write in the window, as
/// `Metadata.WriteTimestampMicros` (a number). `keys` are taken from the whole item, before
/// a projection narrows its images.
fn change_line<'a>(
    keys: Item,
    old: Option<&'a Item>,
    new: Option<&'a Item>,
    written: Timestamp,
    view: ExportViewType,
) -> ChangeLine<'a> {
    ChangeLine {
        written_micros: written.0.saturating_mul(1000),
        metadata: json!({"WriteTimestampMicros": {"N": (u128::from(written.0) * 1000).to_string()}}),
        keys,
        old_image: old.filter(|_| view == ExportViewType::NewAndOldImages),
        new_image: new,
    }
}

/// The data files of an export being written: lines go to the open file, a new one when
/// it holds `MAX_EXPORT_FILE_ITEMS`.
struct Sink {
    /// How the lines are written.
    format: ExportFormat,
    /// The folder of the data files.
    data_dir: PathBuf,
    /// Their keys' prefix: `{data_key}/{name}`.
    data_key: String,
    file: Option<DataFile>,
    /// The manifest lines of the files finished.
    files: Vec<ManifestFileLine>,
    /// Every data file made, to remove if the export fails.
    written: Vec<PathBuf>,
    /// The lines written.
    items: u64,
    /// The DynamoDB size of the items (images) read: `BilledSizeBytes`.
    bytes: u64,
}

impl Sink {
    /// Writes `line`. (Its items' size is the caller's to count in `bytes`: an export bills
    /// what it reads, not what it writes.)
    fn push(&mut self, fs: &dyn Vfs, line: &impl DataLine) -> Result<()> {
        let mut open = match self.file.take() {
            Some(f) if f.items < MAX_EXPORT_FILE_ITEMS => f,
            full => {
                if let Some(full) = full {
                    self.files.push(full.finish()?);
                }
                self.create(fs)?
            }
        };
        let pushed = open.push(line);
        self.file = Some(open);
        pushed?;
        self.items += 1;
        Ok(())
    }

    fn create(&mut self, fs: &dyn Vfs) -> Result<DataFile> {
        let file = DataFile::create(fs, &self.data_dir, &self.data_key, self.format)?;
        self.written.push(file.path.clone());
        Ok(file)
    }

    /// Finishes the last file (making one if none was: DynamoDB writes an empty one for an
    /// empty partition) and syncs the data folder.
    fn finish(&mut self, fs: &dyn Vfs) -> Result<()> {
        let last = match self.file.take() {
            Some(f) => f,
            None => self.create(fs)?,
        };
        self.files.push(last.finish()?);
        // IMPORTANT: the data files' names are durable before a manifest names them.
        sync_dir(fs, &self.data_dir)
    }
}

/// Whether the export `stop` asks to end has been asked to.
fn check_stop(stop: Option<&AtomicBool>) -> Result<()> {
    match stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
        true => Err(Error::Io {
            context: "exporting".into(),
            source: std::io::Error::other(CANCELLED),
        }),
        false => Ok(()),
    }
}

/// Decodes an item the replay collected (its bytes were checked as the log was read).
fn decode_item(encoding: &[u8]) -> Result<Item> {
    crate::format::codec::decode::<Item>(encoding, "a changed item of an export's window")
}

impl Export {
    /// Writes every file of the export from `source`.
    fn write(
        &mut self,
        engine: &Engine,
        fs: &dyn crate::fs::Vfs,
        source: &Source,
        stop: Option<&AtomicBool>,
        bucket_dir: &Path,
    ) -> Result<()> {
        match source {
            Source::Full(_) => fs
                .create_dir(&self.sink.data_dir)
                .map_err(io_error(format!(
                    "creating {}",
                    self.sink.data_dir.display()
                )))?,
            Source::Window(..) => shared_data_folder(fs, &self.sink.data_dir, &self.sink.data_key)?,
        }
        write_file(fs, &self.root.join("_started"), b"")?;
        match source {
            Source::Full(state) => self.write_state(fs, state, stop)?,
            Source::Window(window, view) => self.write_changes(fs, window, *view, stop)?,
        }
        self.sink.finish(fs)?;
        self.description.item_count = self.sink.items;
        self.description.billed_size_bytes = self.sink.bytes;

        let mut manifest_files = Vec::new();
        for line in &self.sink.files {
            serde_json::to_writer(&mut manifest_files, line)
                .map_err(|e| io_error("writing manifest-files.json")(e.into()))?;
            manifest_files.push(b'\n');
        }
        self.write_with_checksum(fs, "manifest-files", &manifest_files)?;
        self.description.end_time = engine.options.clock.now();
        let summary = serde_json::to_vec(&self.summary()).map_err(std::io::Error::from);
        let summary = summary.map_err(io_error("writing manifest-summary.json"))?;
        self.write_with_checksum(fs, "manifest-summary", &summary)?;
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

    /// A full export's lines: every item of the state's table file.
    fn write_state(
        &mut self,
        fs: &dyn crate::fs::Vfs,
        state: &crate::pitr::StateAt,
        stop: Option<&AtomicBool>,
    ) -> Result<()> {
        let mut reader = TableFileReader::open(fs, &state.path, SNAPSHOT_MAGIC)?;
        while let Some(block) = reader.next_block(&state.schema.key)? {
            check_stop(stop)?;
            for (key, stored) in block {
                if !self.filter.selects_key(&key) {
                    continue;
                }
                // Billed: every item read (the filter is applied after the read).
                self.sink.bytes += stored.size() as u64;
                let item = stored.decode();
                if !self.filter.passes(&item)? {
                    continue;
                }
                let item = self.filter.project(&item);
                self.sink.push(fs, &Line { item: &item })?;
            }
        }
        Ok(())
    }

    /// An incremental export's lines: each changed key of the window, in key order, its
    /// old image read from the state before the window as the two are merged.
    fn write_changes(
        &mut self,
        fs: &dyn crate::fs::Vfs,
        window: &crate::pitr::WindowState,
        view: ExportViewType,
        stop: Option<&AtomicBool>,
    ) -> Result<()> {
        let key = &window.schema.key;
        let changes = &window.changes;
        let mut before = match &window.before {
            Some(state) => Some(TableFileReader::open(fs, &state.path, SNAPSHOT_MAGIC)?),
            None => None,
        };
        // The block of the state before the window being merged, and where in it.
        let mut block: std::collections::VecDeque<(
            crate::model::key::EncodedKey,
            crate::format::item::StoredItem,
        )> = std::collections::VecDeque::new();
        for (i, (changed, span)) in changes.writes.iter().enumerate() {
            if i % 1024 == 0 {
                check_stop(stop)?;
            }
            // The key's item before the window, if it had one: the state's items before it
            // are passed over (unchanged in the window).
            let mut old = None;
            loop {
                match block.front() {
                    Some((k, _)) if k.as_slice() < changed.as_bytes() => {
                        block.pop_front();
                    }
                    Some((k, item)) => {
                        if k.as_slice() == changed.as_bytes() {
                            old = Some(item.clone());
                        }
                        break;
                    }
                    None => match before.as_mut() {
                        Some(reader) => match reader.next_block(key)? {
                            Some(next) => block.extend(next),
                            None => break,
                        },
                        None => break,
                    },
                }
            }
            if !self.filter.selects_key(changed.as_bytes()) {
                continue;
            }
            let new = match span {
                Some(span) => Some(decode_item(changes.arena.get(*span))?),
                None => None,
            };
            let old_item = old.as_ref().map(|o| o.decode());
            // The filter reads the latest image, or the old image of an item deleted; an
            // item with neither (made and deleted in the window) has no line anyway.
            let Some(image) = new.as_ref().or(old_item.as_ref()) else {
                continue;
            };
            // Billed: the images of every changed item read, kept or not (see
            // `ExportDescription::billed_size_bytes`).
            self.sink.bytes += span.map_or(0, |s| u64::from(s.size))
                + match (&old, view) {
                    (Some(o), ExportViewType::NewAndOldImages) => o.size() as u64,
                    _ => 0,
                };
            if !self.filter.passes(image)? {
                continue;
            }
            let keys = key.extract(image);
            let old_item = old_item.as_ref().map(|o| self.filter.project(o));
            let new = new.as_ref().map(|n| self.filter.project(n));
            let written = changes
                .times
                .get(changed.as_bytes())
                .copied()
                .ok_or_else(|| {
                    Error::Corruption("an export's window lost the time of a changed key".into())
                })?;
            let line = change_line(keys, old_item.as_deref(), new.as_deref(), written, view);
            self.sink.push(fs, &line)?;
        }
        Ok(())
    }

    /// `manifest-summary.json`: the full export's members, or for an incremental export
    /// its window (`exportFromTime`, `exportToTime`) in place of `exportTime`, and its
    /// `outputView` and `exportType`.
    fn summary(&self) -> ManifestSummary<'_> {
        let d = &self.description;
        let iso = |t: Timestamp| format!("{}Z", t.to_iso8601());
        let window = d.incremental_export_specification.as_ref();
        let time = |t: Option<Timestamp>| t.map(iso);
        ManifestSummary {
            version: match window {
                Some(_) => INCREMENTAL_MANIFEST_VERSION,
                None => MANIFEST_VERSION,
            },
            export_arn: &d.export_arn,
            start_time: iso(d.start_time),
            end_time: iso(d.end_time),
            table_arn: &d.table_arn,
            table_id: &d.table_id,
            export_time: window.is_none().then(|| iso(d.export_time)),
            export_from_time: window.and_then(|w| time(w.export_from_time)),
            export_to_time: window.and_then(|w| time(w.export_to_time)),
            s3_bucket: &d.s3_bucket,
            s3_prefix: d.s3_prefix.as_deref(),
            s3_sse_algorithm: None,
            s3_sse_kms_key_id: None,
            manifest_files_s3_key: format!("{}/manifest-files.json", self.key_base),
            billed_size_bytes: d.billed_size_bytes,
            item_count: d.item_count,
            output_format: &d.export_format,
            output_view: window.map(|w| {
                (w.export_view_type
                    .unwrap_or(ExportViewType::NewAndOldImages))
                .as_str()
            }),
            export_type: window.map(|_| d.export_type.as_str()),
        }
    }

    /// Writes `{name}.md5` (base64 MD5) and then `{name}.json`, each through a temporary
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
            &self.root.join(format!("{name}.md5")),
            base64::engine::general_purpose::STANDARD
                .encode(md5)
                .as_bytes(),
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
    format: ExportFormat,
    path: PathBuf,
    key: String,
    gzip: flate2::write::GzEncoder<Hashed<BufWriter<Appender>>>,
    items: u64,
}

impl DataFile {
    fn create(
        fs: &dyn Vfs,
        data_dir: &Path,
        data_key: &str,
        format: ExportFormat,
    ) -> Result<DataFile> {
        let name = format!(
            "{}.{}.gz",
            uuid::Uuid::new_v4().simple(),
            format.extension()
        );
        let path = data_dir.join(&name);
        let file = Appender(
            fs.create(&path)
                .map_err(io_error(format!("creating {}", path.display())))?,
        );
        Ok(DataFile {
            key: format!("{data_key}/{name}"),
            gzip: flate2::write::GzEncoder::new(
                Hashed {
                    inner: BufWriter::with_capacity(256 << 10, file),
                    md5: Md5::new(),
                },
                flate2::Compression::default(),
            ),
            path,
            items: 0,
            format,
        })
    }

    fn push(&mut self, line: &impl DataLine) -> Result<()> {
        let error = |e: std::io::Error| io_error(format!("writing {}", self.path.display()))(e);
        match self.format {
            ExportFormat::DynamodbJson => {
                serde_json::to_writer(&mut self.gzip, line).map_err(|e| error(e.into()))?
            }
            ExportFormat::Ion => {
                // "Each line begins with an Ion version marker, followed by an item in Ion
                // format" (the developer guide).
                let mut text = Vec::with_capacity(256);
                text.extend_from_slice(ion::VERSION_MARKER.as_bytes());
                text.push(b' ');
                line.write_ion(&mut text);
                self.gzip.write_all(&text).map_err(error)?;
            }
        }
        self.gzip.write_all(b"\n").map_err(error)?;
        self.items += 1;
        Ok(())
    }

    /// Finishes and syncs the file; its line of `manifest-files.json`.
    fn finish(self) -> Result<ManifestFileLine> {
        let error = io_error(format!("writing {}", self.path.display()));
        let finished = (|| {
            let hashed = self.gzip.finish()?;
            let mut file = hashed.inner.into_inner().map_err(|e| e.into_error())?;
            file.0.sync_all()?;
            Ok(hashed.md5.finalize())
        })();
        let md5 = finished.map_err(error)?;
        Ok(ManifestFileLine {
            item_count: self.items,
            md5_checksum: base64::engine::general_purpose::STANDARD.encode(md5),
            etag: hex(&md5),
            data_file_s3_key: self.key,
        })
    }
}
