//! Behaviour tests of `ExportTableToPointInTime` in the library: the export of a moment is
//! exact (the write at the moment in, the one after it out), its files are DynamoDB's S3
//! export layout with true manifests, an import of its data files makes the same table
//! again, and its errors are DynamoDB's.
//!
//! Time comes from a `ManualClock`: a write's commit time is the clock's time.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use md5::{Digest, Md5};
use serde_json::Value;
use tidestore::ScalarAttributeType::{N, S};
use tidestore::*;

use support::{enable_pitr, scan_sorted, TempDir};

const T0: u64 = 1_576_616_366_715;
const TABLE: &str = "Music";

fn setup(tag: &str) -> (TempDir, Arc<ManualClock>, Database) {
    let dir = TempDir::new(tag);
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let db = Database::open_with(
        dir.path().join("db"),
        Options::default()
            .clock(clock.clone())
            .background_worker(false),
    )
    .unwrap();
    (dir, clock, db)
}

fn definition(name: &str) -> CreateTableInput {
    CreateTableInput::new(name)
        .hash_key("pk", S)
        .range_key("sk", N)
        .global_index("ByG", ("g", S), None, Projection::all())
        .pay_per_request()
}

fn row(pk: &str, sk: i64, v: &str) -> Item {
    let item = serde_json::json!({
        "pk": {"S": pk}, "sk": {"N": sk.to_string()}, "v": {"S": v}, "g": {"S": "x"},
        "bin": {"B": "AAEC/w=="}, "n": {"N": "-12.500"}, "ns": {"NS": ["1", "2.5"]},
        "ss": {"SS": ["a", "b"]}, "bs": {"BS": ["AQ=="]}, "m": {"M": {"l": {"L": [{"NULL": true}, {"BOOL": false}, {"S": ""}]}}},
    });
    serde_json::from_value(item).unwrap()
}

fn put(db: &Database, item: Item) {
    db.put_item(PutItemInput::new(TABLE, item)).unwrap();
}

/// The export's folder, from its manifest key.
fn export_dir(bucket: &Path, description: &ExportDescription) -> PathBuf {
    let summary = bucket.join(&description.export_manifest);
    summary.parent().unwrap().to_path_buf()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The data files' lines, gunzipped and concatenated in the manifest's order, after checking
/// each file's manifest line (count, MD5, ETag) and the manifests' checksum files.
fn data_lines(bucket: &Path, description: &ExportDescription) -> String {
    let dir = export_dir(bucket, description);
    let files = std::fs::read(dir.join("manifest-files.json")).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("manifest-files.md5")).unwrap(),
        base64::engine::general_purpose::STANDARD.encode(Md5::digest(&files))
    );
    let mut all = String::new();
    let mut count = 0;
    for line in String::from_utf8(files).unwrap().lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        let gz = std::fs::read(bucket.join(entry["dataFileS3Key"].as_str().unwrap())).unwrap();
        let md5 = Md5::digest(&gz);
        assert_eq!(
            entry["md5Checksum"],
            base64::engine::general_purpose::STANDARD.encode(md5)
        );
        assert_eq!(entry["etag"], format!("{md5:x}"));
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(entry["itemCount"], text.lines().count() as u64);
        count += text.lines().count() as u64;
        all.push_str(&text);
    }
    assert_eq!(count, description.item_count);
    all
}

/// An export's data files, imported into a new table with the same definition, make the
/// table again item for item; its summary manifest says what DynamoDB's says.
#[test]
fn an_export_imported_again_is_the_table_item_for_item() {
    let (dir, clock, db) = setup("export-roundtrip");
    db.create_table(definition(TABLE)).unwrap();
    enable_pitr(&db, TABLE, None);
    for i in 0..300 {
        clock.advance(1);
        put(
            &db,
            row(&format!("p{}", i % 17), i, &"x".repeat(i as usize % 50)),
        );
    }
    // Part of the table from a snapshot, part from the log after it.
    db.checkpoint().unwrap();
    for i in 0..50 {
        clock.advance(1);
        db.delete_item(DeleteItemInput::new(
            TABLE,
            serde_json::from_value(serde_json::json!({"pk": {"S": format!("p{}", i % 17)}, "sk": {"N": (i * 3).to_string()}})).unwrap(),
        ))
        .unwrap();
        put(&db, row("late", i, "y"));
    }
    clock.advance(1);
    let bucket = dir.path().join("bucket");
    let out = db
        .export_table_to_point_in_time(
            ExportTableToPointInTimeInput::new(TABLE, "bucket").s3_prefix("backups/2026"),
            &bucket,
        )
        .unwrap()
        .export_description;
    let table = scan_sorted(&db, TABLE);
    assert_eq!(out.export_status, ExportStatus::Completed);
    assert_eq!(out.item_count, table.len() as u64);
    assert!(out.export_arn.starts_with(&format!(
        "arn:aws:dynamodb:us-east-1:000000000000:table/{TABLE}/export/"
    )));
    let folder = export_dir(&bucket, &out);
    assert!(folder.starts_with(bucket.join("backups/2026/AWSDynamoDB")));
    assert!(folder.join("_started").exists());
    let summary = read_json(&folder.join("manifest-summary.json"));
    assert_eq!(summary["version"], "2020-06-30");
    assert_eq!(summary["exportArn"], out.export_arn);
    assert_eq!(summary["itemCount"], out.item_count);
    assert_eq!(summary["billedSizeBytes"], out.billed_size_bytes);
    assert_eq!(summary["outputFormat"], "DYNAMODB_JSON");
    assert_eq!(summary["s3Prefix"], "backups/2026");
    assert_eq!(summary["s3SseKmsKeyId"], Value::Null);
    assert!(summary["exportTime"].as_str().unwrap().ends_with('Z'));
    assert!(bucket
        .join(summary["manifestFilesS3Key"].as_str().unwrap())
        .exists());

    let lines = data_lines(&bucket, &out);
    let imported = db
        .import_table_from_dynamodb_json(
            ImportTableInput::new(definition("Imported")),
            lines.as_bytes(),
        )
        .unwrap()
        .import_table_description;
    assert_eq!(imported.error_count, 0);
    assert_eq!(scan_sorted(&db, "Imported"), table);
    // The temporary state the export read is gone.
    let snapshots: Vec<_> = std::fs::read_dir(dir.path().join("db/snapshots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("export-"))
        .collect();
    assert!(snapshots.is_empty(), "{snapshots:?}");
}

/// The export of moment T holds the writes committed at T (an update of an item and a new
/// one) and none committed after it, though they were made before the export was asked for.
#[test]
fn an_export_at_a_moment_holds_the_write_at_it_and_not_one_after() {
    let (dir, clock, db) = setup("export-moment");
    db.create_table(definition(TABLE)).unwrap();
    enable_pitr(&db, TABLE, None);
    clock.advance(10);
    put(&db, row("a", 1, "before"));
    clock.advance(10);
    let t = clock.now();
    put(&db, row("a", 1, "at"));
    put(&db, row("b", 1, "at"));
    clock.advance(1);
    put(&db, row("a", 1, "after"));
    put(&db, row("c", 1, "after"));
    clock.advance(10);
    let bucket = dir.path().join("bucket");
    let export = |at: Timestamp| {
        let out = db
            .export_table_to_point_in_time(
                ExportTableToPointInTimeInput::new(TABLE, "bucket").export_time(at),
                &bucket,
            )
            .unwrap()
            .export_description;
        assert_eq!(out.export_time, at);
        let mut values: Vec<String> = data_lines(&bucket, &out)
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                format!(
                    "{}={}",
                    v["Item"]["pk"]["S"].as_str().unwrap(),
                    v["Item"]["v"]["S"].as_str().unwrap()
                )
            })
            .collect();
        values.sort();
        values
    };
    assert_eq!(export(t), ["a=at", "b=at"]);
    assert_eq!(export(Timestamp(t.0 - 1)), ["a=before"]);
    assert_eq!(export(Timestamp(t.0 + 1)), ["a=after", "b=at", "c=after"]);
}

/// DynamoDB's errors: no table, recovery off, a time outside the window (before it opened,
/// after now), a prefix that would leave the bucket, an in-memory database. None leaves
/// files behind.
#[test]
fn export_errors_are_dynamodbs() {
    let (dir, clock, db) = setup("export-errors");
    let bucket = dir.path().join("bucket");
    let export = |input: ExportTableToPointInTimeInput| {
        db.export_table_to_point_in_time(input, &bucket)
            .unwrap_err()
    };
    let input = || ExportTableToPointInTimeInput::new(TABLE, "bucket");
    assert!(matches!(export(input()), Error::TableNotFound(_)));
    db.create_table(definition(TABLE)).unwrap();
    assert!(matches!(
        export(input()),
        Error::PointInTimeRecoveryUnavailable(_)
    ));
    clock.advance(100);
    enable_pitr(&db, TABLE, None);
    let enabled = clock.now();
    clock.advance(100);
    let e = export(input().export_time(Timestamp(enabled.0 - 1)));
    assert!(matches!(e, Error::InvalidExportTime(_)), "{e}");
    assert_eq!(e.exception_name(), "InvalidExportTimeException");
    let e = export(input().export_time(Timestamp(clock.now().0 + 1000)));
    assert!(matches!(e, Error::InvalidExportTime(_)), "{e}");
    for prefix in ["../x", "/abs", "a/../b", "a\\b", "a//b"] {
        let e = export(input().s3_prefix(prefix));
        assert!(matches!(e, Error::Validation(_)), "{prefix}: {e}");
    }
    let e = export(input().export_id("../../etc"));
    assert!(matches!(e, Error::Validation(_)), "{e}");
    // The same export id twice: the second would write over the first.
    let id = "01576616366715-0123abcd";
    db.export_table_to_point_in_time(input().export_id(id), &bucket)
        .unwrap();
    assert!(matches!(
        export(input().export_id(id)),
        Error::ExportConflict(_)
    ));
    let memory = Database::in_memory();
    memory.create_table(definition(TABLE)).unwrap();
    assert!(matches!(
        memory.export_table_to_point_in_time(input(), &bucket),
        Err(Error::PointInTimeRecoveryUnavailable(_))
    ));
    let exports: Vec<_> = std::fs::read_dir(bucket.join("AWSDynamoDB"))
        .unwrap()
        .collect();
    assert_eq!(
        exports.len(),
        1,
        "only the export that succeeded wrote files"
    );
}

/// An empty table exports one empty data file and a count of zero, and imports again as
/// an empty table.
#[test]
fn an_empty_table_exports_one_empty_data_file() {
    let (dir, clock, db) = setup("export-empty");
    db.create_table(definition(TABLE)).unwrap();
    enable_pitr(&db, TABLE, None);
    clock.advance(5);
    let bucket = dir.path().join("bucket");
    let out = db
        .export_table_to_point_in_time(ExportTableToPointInTimeInput::new(TABLE, "bucket"), &bucket)
        .unwrap()
        .export_description;
    assert_eq!(out.item_count, 0);
    let files =
        std::fs::read_to_string(export_dir(&bucket, &out).join("manifest-files.json")).unwrap();
    assert_eq!(files.lines().count(), 1);
    assert_eq!(data_lines(&bucket, &out), "");
}

/// A prefix whose folder in the bucket is a symbolic link (or a file) is refused: the export
/// never writes, nor removes, anything outside the bucket's folder.
#[cfg(unix)]
#[test]
fn an_export_never_follows_a_symbolic_link_out_of_its_bucket() {
    let (dir, clock, db) = setup("export-symlink");
    db.create_table(definition(TABLE)).unwrap();
    enable_pitr(&db, TABLE, None);
    clock.advance(5);
    put(&db, row("a", 1, "v"));
    clock.advance(5);
    let bucket = dir.path().join("bucket");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&bucket).unwrap();
    std::fs::create_dir_all(outside.join("AWSDynamoDB")).unwrap();
    std::os::unix::fs::symlink(&outside, bucket.join("link")).unwrap();
    std::fs::write(bucket.join("file"), b"not a folder").unwrap();
    for prefix in ["link", "link/deeper", "file/x"] {
        let e = db
            .export_table_to_point_in_time(
                ExportTableToPointInTimeInput::new(TABLE, "bucket").s3_prefix(prefix),
                &bucket,
            )
            .unwrap_err();
        assert!(
            matches!(e, Error::Validation(_) | Error::ExportConflict(_)),
            "{prefix}: {e}"
        );
    }
    let written: Vec<_> = walk(&outside);
    assert_eq!(
        written,
        [outside.join("AWSDynamoDB")],
        "nothing written outside"
    );
    // An `AWSDynamoDB` folder that is a link is refused as well.
    std::os::unix::fs::symlink(&outside, bucket.join("AWSDynamoDB")).unwrap();
    let e = db
        .export_table_to_point_in_time(ExportTableToPointInTimeInput::new(TABLE, "bucket"), &bucket)
        .unwrap_err();
    assert!(matches!(e, Error::Validation(_)), "{e}");
    assert_eq!(walk(&outside), [outside.join("AWSDynamoDB")]);
}

/// Every path under `dir`, sorted.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        all.push(path.clone());
        if path.is_dir() {
            all.extend(walk(&path));
        }
    }
    all.sort();
    all
}

/// An export whose building of the moment's state fails (a write, a sync or the rename of
/// its table file) leaves no file of that state behind in the snapshot folder: a server
/// runs on after a failed export, and a left file would hold the table's size of disk until
/// the next open.
#[test]
fn a_failed_export_leaves_no_state_file_behind() {
    use tidestore::fs::sim::{FaultError, FaultPlan, OpKind, SimFs};
    let dir = TempDir::new("export-fault");
    for on in [OpKind::Write, OpKind::Sync, OpKind::Rename] {
        let sim = SimFs::new();
        let clock = Arc::new(ManualClock::new(Timestamp(T0)));
        let db = Database::open_with(
            "/db",
            Options::default()
                .fs(Arc::new(sim.clone()))
                .clock(clock.clone())
                .background_worker(false),
        )
        .unwrap();
        db.create_table(definition(TABLE)).unwrap();
        enable_pitr(&db, TABLE, None);
        for i in 0..50 {
            clock.advance(1);
            put(&db, row("p", i, "v"));
        }
        clock.advance(1);
        sim.fail_at(FaultPlan {
            at_op: sim.op_count() + 1,
            on,
            error: FaultError::Eio,
            persistent: false,
        });
        let bucket = dir.path().join(format!("bucket-{on:?}"));
        let e = db
            .export_table_to_point_in_time(
                ExportTableToPointInTimeInput::new(TABLE, "bucket"),
                &bucket,
            )
            .unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{on:?}: {e}");
        let left: Vec<_> = sim
            .paths()
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("export-"))
            .collect();
        assert!(left.is_empty(), "{on:?}: {left:?}");
    }
}

/// Two exports given the same id, to two buckets at once, each hold their own moment: the
/// state each builds beside the snapshots is its own, not one file both write and read.
#[test]
fn exports_of_one_id_to_two_buckets_at_once_each_hold_their_moment() {
    let (dir, clock, db) = setup("export-same-id");
    db.create_table(definition(TABLE)).unwrap();
    enable_pitr(&db, TABLE, None);
    clock.advance(1);
    for i in 0..1500 {
        put(&db, row("first", i, "v"));
    }
    let one = clock.now();
    clock.advance(1);
    for i in 0..1500 {
        put(&db, row("then", i, "v"));
    }
    clock.advance(1);
    let all = clock.now();
    for round in 0..6 {
        let id = format!("01576616366715-{round:08x}");
        let export = |at: Timestamp, bucket: &str| {
            let bucket = dir.path().join(bucket);
            db.export_table_to_point_in_time(
                ExportTableToPointInTimeInput::new(TABLE, "bucket")
                    .export_time(at)
                    .export_id(id.clone()),
                &bucket,
            )
            .map(|out| data_lines(&bucket, &out.export_description).lines().count())
        };
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| export(one, "one"));
            let b = s.spawn(|| export(all, "all"));
            (a.join().unwrap(), b.join().unwrap())
        });
        assert_eq!(a.unwrap(), 1500, "round {round}");
        assert_eq!(b.unwrap(), 3000, "round {round}");
    }
}

// ---- INCREMENTAL_EXPORT ----

const MINUTE: u64 = 60_000;

/// One logged change of the model: when, which key, the item after it (`None`: deleted).
type Change = (u64, (String, i64), Option<Item>);

/// The lines an incremental export of `[from, to)` must hold, by key, as the model says:
/// each key written in the window once, with its last write's time in microseconds, its
/// item at `to` and (for NEW_AND_OLD_IMAGES) at `from`; none for an item that did not
/// exist at `from` and was deleted by `to`.
fn expected_lines(
    changes: &[Change],
    from: u64,
    to: u64,
    view: ExportViewType,
) -> std::collections::BTreeMap<(String, i64), Value> {
    use std::collections::BTreeMap;
    let state_before = |t: u64| {
        let mut state: BTreeMap<(String, i64), Item> = BTreeMap::new();
        for (time, key, item) in changes.iter().filter(|c| c.0 < t) {
            let _ = time;
            match item {
                Some(item) => state.insert(key.clone(), item.clone()),
                None => state.remove(key),
            };
        }
        state
    };
    let (old, new) = (state_before(from), state_before(to));
    let mut last: BTreeMap<(String, i64), u64> = BTreeMap::new();
    for (time, key, _) in changes.iter().filter(|c| c.0 >= from && c.0 < to) {
        last.insert(key.clone(), *time);
    }
    let mut lines = BTreeMap::new();
    for (key, time) in last {
        let (o, n) = (old.get(&key), new.get(&key));
        if o.is_none() && n.is_none() {
            continue;
        }
        let mut line = serde_json::json!({
            "Metadata": {"WriteTimestampMicros": {"N": (time * 1000).to_string()}},
            "Keys": {"pk": {"S": key.0}, "sk": {"N": key.1.to_string()}},
        });
        if let Some(n) = n {
            line["NewImage"] = serde_json::to_value(n).unwrap();
        }
        if let (Some(o), ExportViewType::NewAndOldImages) = (o, view) {
            line["OldImage"] = serde_json::to_value(o).unwrap();
        }
        lines.insert(key, line);
    }
    lines
}

/// An incremental export's lines, by key (each key at most once).
fn exported_lines(
    bucket: &Path,
    description: &ExportDescription,
) -> std::collections::BTreeMap<(String, i64), Value> {
    let mut lines = std::collections::BTreeMap::new();
    for line in data_lines(bucket, description).lines() {
        let line: Value = serde_json::from_str(line).unwrap();
        let keys = &line["Keys"];
        let key = (
            keys["pk"]["S"].as_str().unwrap().to_string(),
            keys["sk"]["N"].as_str().unwrap().parse().unwrap(),
        );
        assert!(lines.insert(key.clone(), line).is_none(), "{key:?} twice");
    }
    lines
}

/// A small deterministic generator (xorshift), so a failure replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Model test: a history of puts, overwrites and deletes at known commit times (several in
/// one millisecond, a checkpoint in the middle so that part of it is read from a snapshot)
/// and windows whose edges fall exactly on writes; each incremental export holds each key
/// changed in its window once, with its last write's time, its image at the window's end
/// and, with NEW_AND_OLD_IMAGES, at its start, as the model says.
#[test]
fn incremental_export_holds_each_changed_key_once_with_its_last_image() {
    let (dir, clock, db) = setup("export-incremental-model");
    db.create_table(definition(TABLE)).unwrap();
    enable_pitr(&db, TABLE, None);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut changes: Vec<Change> = Vec::new();
    for op in 0..400 {
        // Often the same millisecond as the write before, else up to 40 s on.
        if rng.below(4) != 0 {
            clock.advance(rng.below(40_000) + 1);
        }
        if op == 200 {
            db.checkpoint().unwrap();
        }
        let key = (format!("p{}", rng.below(20)), rng.below(8) as i64);
        let time = clock.now().0;
        if rng.below(3) == 0 {
            db.delete_item(DeleteItemInput::new(
                TABLE,
                row(&key.0, key.1, "")
                    .into_iter()
                    .filter(|(n, _)| n == "pk" || n == "sk")
                    .collect(),
            ))
            .unwrap();
            // A delete of an item that is not there changes nothing and is not logged.
            let present = changes
                .iter()
                .rev()
                .find(|c| c.1 == key)
                .is_some_and(|c| c.2.is_some());
            if present {
                changes.push((time, key, None));
            }
        } else {
            let item = row(&key.0, key.1, &format!("v{op}"));
            put(&db, item.clone());
            changes.push((time, key, Some(item)));
        }
    }
    clock.advance(1);
    let end = clock.now().0;
    let bucket = dir.path().join("bucket");
    // Windows: from the history's first write, on writes' exact times, to its end.
    let write_times: Vec<u64> = changes.iter().map(|c| c.0).collect();
    let mut windows = vec![(T0, T0 + 15 * MINUTE), (write_times[100], write_times[300])];
    windows.push((write_times[150], end));
    windows.push((write_times[10], write_times[10] + 20 * MINUTE));
    // Shortest windows, starting and ending on writes' exact times.
    for i in (5..write_times.len()).step_by(37) {
        let from = write_times[i];
        let to = from + 15 * MINUTE;
        if to <= end {
            windows.push((from, to));
        }
        if let Some(&to) = write_times.iter().find(|&&t| t >= from + 15 * MINUTE) {
            windows.push((from, to));
        }
    }
    for (from, to) in windows {
        assert!(to - from >= 15 * MINUTE && to <= end, "{from} {to}");
        for view in [ExportViewType::NewImage, ExportViewType::NewAndOldImages] {
            let spec = IncrementalExportSpecification::new(Timestamp(from), Timestamp(to))
                .export_view_type(view);
            let out = db
                .export_table_to_point_in_time(
                    ExportTableToPointInTimeInput::incremental(TABLE, "b", spec.clone()),
                    &bucket,
                )
                .unwrap()
                .export_description;
            assert_eq!(out.export_type, "INCREMENTAL_EXPORT");
            assert_eq!(out.incremental_export_specification, Some(spec));
            let want = expected_lines(&changes, from, to, view);
            assert!(!want.is_empty());
            let got = exported_lines(&bucket, &out);
            assert_eq!(got.len(), want.len(), "window {from}..{to} {view:?}");
            for (key, line) in &want {
                assert_eq!(got.get(key), Some(line), "{key:?} in {from}..{to} {view:?}");
            }
            assert_eq!(out.item_count, want.len() as u64);
        }
    }
}

/// The window's edges: a write exactly at `from` is in, one exactly at `to` is not (it is
/// the next window's); an item put and deleted inside the window has no line; a delete of
/// an item that existed is `Keys` alone (NEW_IMAGE) or `Keys` with `OldImage`; the
/// summary manifest names the window, the view and the type, and the data files go to the
/// data folder the prefix's exports share.
#[test]
fn incremental_export_window_is_inclusive_at_from_and_exclusive_at_to() {
    let (dir, clock, db) = setup("export-incremental-edges");
    db.create_table(definition(TABLE)).unwrap();
    enable_pitr(&db, TABLE, None);
    clock.advance(1);
    put(&db, row("gone", 1, "old"));
    put(&db, row("kept", 1, "old"));
    clock.advance(MINUTE);
    let from = clock.now().0;
    put(&db, row("at-from", 1, "new"));
    clock.advance(MINUTE);
    put(&db, row("brief", 1, "x"));
    db.delete_item(DeleteItemInput::new(
        TABLE,
        row("brief", 1, "")
            .into_iter()
            .filter(|(n, _)| n == "pk" || n == "sk")
            .collect(),
    ))
    .unwrap();
    db.delete_item(DeleteItemInput::new(
        TABLE,
        row("gone", 1, "")
            .into_iter()
            .filter(|(n, _)| n == "pk" || n == "sk")
            .collect(),
    ))
    .unwrap();
    clock.set(Timestamp(from + 15 * MINUTE));
    let to = clock.now().0;
    put(&db, row("at-to", 1, "late"));
    put(&db, row("kept", 1, "late"));
    clock.advance(1);

    let bucket = dir.path().join("bucket");
    let export = |view| {
        let spec = IncrementalExportSpecification::new(Timestamp(from), Timestamp(to))
            .export_view_type(view);
        let input = ExportTableToPointInTimeInput::incremental(TABLE, "b", spec).s3_prefix("inc");
        db.export_table_to_point_in_time(input, &bucket)
            .unwrap()
            .export_description
    };
    let new_only = export(ExportViewType::NewImage);
    let got = exported_lines(&bucket, &new_only);
    let keys: Vec<&str> = got.keys().map(|k| k.0.as_str()).collect();
    assert_eq!(keys, ["at-from", "gone"]);
    let gone = &got[&("gone".to_string(), 1)];
    assert!(gone.get("NewImage").is_none() && gone.get("OldImage").is_none());
    let both = export(ExportViewType::NewAndOldImages);
    let got = exported_lines(&bucket, &both);
    let gone = &got[&("gone".to_string(), 1)];
    assert_eq!(gone["OldImage"]["v"]["S"], "old");
    assert!(gone.get("NewImage").is_none());
    assert!(got[&("at-from".to_string(), 1)].get("OldImage").is_none());

    let summary = read_json(&export_dir(&bucket, &both).join("manifest-summary.json"));
    assert_eq!(summary["exportType"], "INCREMENTAL_EXPORT");
    assert_eq!(summary["outputView"], "NEW_AND_OLD_IMAGES");
    assert_eq!(
        summary["exportFromTime"],
        format!("{}Z", Timestamp(from).to_iso8601())
    );
    assert_eq!(
        summary["exportToTime"],
        format!("{}Z", Timestamp(to).to_iso8601())
    );
    assert!(summary.get("exportTime").is_none());
    let files =
        std::fs::read_to_string(export_dir(&bucket, &both).join("manifest-files.json")).unwrap();
    for line in files.lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        assert!(entry["dataFileS3Key"]
            .as_str()
            .unwrap()
            .starts_with("inc/AWSDynamoDB/data/"));
    }
}

/// The members of a JSON object as its text writes them, in that order (`serde_json::Value`
/// sorts them).
fn members_in_order(text: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Keys, D::Error> {
            struct Visit;
            impl<'de> serde::de::Visitor<'de> for Visit {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                        keys.push(key);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(Visit)
        }
    }
    serde_json::from_str::<Keys>(text).unwrap().0
}

/// An incremental export's manifests are DynamoDB's, member for member and in its order
/// (the developer guide, "DynamoDB table export output format",
/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html,
/// for the full export's; a real incremental export's for the rest, see
/// `INCREMENTAL_MANIFEST_VERSION` in src/export.rs): the summary is version "2023-08-01",
/// names the window (`exportFromTime`, `exportToTime`: the window's end, not the time of the
/// request, which is `startTime`) and has no `exportTime`; each line of
/// `manifest-files.json` is `itemCount`, `md5Checksum`, `etag`, `dataFileS3Key`; each data
/// line is `Metadata.WriteTimestampMicros` (the last write's commit time in µs, a number),
/// `Keys`, and the images its change has. A full export's summary keeps `exportTime` and
/// "2020-06-30".
#[test]
fn incremental_export_manifests_name_the_window_in_dynamodbs_members_and_order() {
    let (dir, clock, db) = setup("export-incremental-manifests");
    db.create_table(definition(TABLE)).unwrap();
    enable_pitr(&db, TABLE, None);
    clock.advance(1);
    put(&db, row("changed", 1, "before"));
    put(&db, row("deleted", 1, "before"));
    clock.advance(MINUTE);
    let from = clock.now().0;
    put(&db, row("inserted", 1, "new"));
    clock.advance(1);
    let changed_at = clock.now().0;
    put(&db, row("changed", 1, "after"));
    clock.advance(1);
    let key = |pk: &str| -> Item {
        serde_json::from_value(serde_json::json!({"pk": {"S": pk}, "sk": {"N": "1"}})).unwrap()
    };
    db.delete_item(DeleteItemInput::new(TABLE, key("deleted")))
        .unwrap();
    let to = from + 15 * MINUTE;
    // The request comes well after the window's end.
    clock.set(Timestamp(to + 5 * MINUTE));
    let requested = clock.now();
    let bucket = dir.path().join("bucket");
    let spec = IncrementalExportSpecification::new(Timestamp(from), Timestamp(to));
    let out = db
        .export_table_to_point_in_time(
            ExportTableToPointInTimeInput::incremental(TABLE, "b", spec),
            &bucket,
        )
        .unwrap()
        .export_description;
    let iso = |t: Timestamp| format!("{}Z", t.to_iso8601());
    let folder = export_dir(&bucket, &out);
    let text = std::fs::read_to_string(folder.join("manifest-summary.json")).unwrap();
    assert_eq!(
        members_in_order(&text),
        [
            "version",
            "exportArn",
            "startTime",
            "endTime",
            "tableArn",
            "tableId",
            "exportFromTime",
            "exportToTime",
            "s3Bucket",
            "s3Prefix",
            "s3SseAlgorithm",
            "s3SseKmsKeyId",
            "manifestFilesS3Key",
            "billedSizeBytes",
            "itemCount",
            "outputFormat",
            "outputView",
            "exportType",
        ]
    );
    let summary: Value = serde_json::from_str(&text).unwrap();
    let id = out.export_arn.rsplit('/').next().unwrap();
    let want = serde_json::json!({
        "version": "2023-08-01",
        "exportArn": out.export_arn,
        "startTime": iso(requested),
        "endTime": iso(out.end_time),
        "tableArn": out.table_arn,
        "tableId": out.table_id,
        "exportFromTime": iso(Timestamp(from)),
        "exportToTime": iso(Timestamp(to)),
        "s3Bucket": "b",
        "s3Prefix": null,
        "s3SseAlgorithm": null,
        "s3SseKmsKeyId": null,
        "manifestFilesS3Key": format!("AWSDynamoDB/{id}/manifest-files.json"),
        "billedSizeBytes": out.billed_size_bytes,
        "itemCount": 3,
        "outputFormat": "DYNAMODB_JSON",
        "outputView": "NEW_AND_OLD_IMAGES",
        "exportType": "INCREMENTAL_EXPORT",
    });
    assert_eq!(summary, want);
    // ISO 8601 in UTC to the millisecond, as DynamoDB's: 2020-11-04T07:28:34.028Z.
    let start = summary["startTime"].as_str().unwrap();
    assert!(
        start.len() == 24 && &start[19..20] == "." && start.ends_with('Z'),
        "{start}"
    );
    assert_ne!(summary["startTime"], summary["exportToTime"]);

    let files = std::fs::read_to_string(folder.join("manifest-files.json")).unwrap();
    for line in files.lines() {
        assert_eq!(
            members_in_order(line),
            ["itemCount", "md5Checksum", "etag", "dataFileS3Key"]
        );
        let key = serde_json::from_str::<Value>(line).unwrap()["dataFileS3Key"].clone();
        let key = key.as_str().unwrap();
        assert!(
            key.starts_with("AWSDynamoDB/data/") && key.ends_with(".json.gz"),
            "{key}"
        );
    }
    let lines = exported_lines(&bucket, &out);
    let shape = |pk: &str| {
        let line = &lines[&(pk.to_string(), 1)];
        let mut members: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        members.sort_unstable();
        assert_eq!(line["Keys"], serde_json::to_value(key(pk)).unwrap(), "{pk}");
        (members, line["Metadata"].clone())
    };
    let micros =
        |ms: u64| serde_json::json!({"WriteTimestampMicros": {"N": (ms * 1000).to_string()}});
    assert_eq!(
        shape("inserted"),
        (vec!["Keys", "Metadata", "NewImage"], micros(from))
    );
    assert_eq!(
        shape("changed"),
        (
            vec!["Keys", "Metadata", "NewImage", "OldImage"],
            micros(changed_at)
        )
    );
    assert_eq!(
        shape("deleted"),
        (vec!["Keys", "Metadata", "OldImage"], micros(changed_at + 1))
    );

    let full = db
        .export_table_to_point_in_time(
            ExportTableToPointInTimeInput::new(TABLE, "b").export_time(Timestamp(to)),
            &bucket,
        )
        .unwrap()
        .export_description;
    let text =
        std::fs::read_to_string(export_dir(&bucket, &full).join("manifest-summary.json")).unwrap();
    assert_eq!(
        members_in_order(&text),
        [
            "version",
            "exportArn",
            "startTime",
            "endTime",
            "tableArn",
            "tableId",
            "exportTime",
            "s3Bucket",
            "s3Prefix",
            "s3SseAlgorithm",
            "s3SseKmsKeyId",
            "manifestFilesS3Key",
            "billedSizeBytes",
            "itemCount",
            "outputFormat",
        ]
    );
    let summary: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(summary["version"], "2020-06-30");
    assert_eq!(summary["exportTime"], iso(Timestamp(to)));
}

/// An incremental export's refusals: a window shorter than 15 minutes or longer than 24
/// hours (InvalidExportTime), `to` before `from`, `ExportTime` beside the window, a specification without a
/// type or a type without one, no `ExportFromTime`, and a window outside the table's
/// recovery window.
#[test]
fn incremental_export_refuses_bad_windows() {
    let (dir, clock, db) = setup("export-incremental-refusals");
    db.create_table(definition(TABLE)).unwrap();
    enable_pitr(&db, TABLE, None);
    clock.advance(30 * 60 * MINUTE);
    let bucket = dir.path().join("bucket");
    let export = |input: ExportTableToPointInTimeInput| {
        db.export_table_to_point_in_time(input, &bucket)
            .unwrap_err()
    };
    let window =
        |from: u64, to: u64| IncrementalExportSpecification::new(Timestamp(from), Timestamp(to));
    let incremental = |spec| ExportTableToPointInTimeInput::incremental(TABLE, "b", spec);
    // DynamoDB answers a window of the wrong length with InvalidExportTimeException.
    for (from, to) in [(T0, T0 + 15 * MINUTE - 1), (T0, T0 + 24 * 60 * MINUTE + 1)] {
        let error = export(incremental(window(from, to)));
        assert!(
            matches!(&error, Error::InvalidExportTime(m) if m.starts_with("Difference between export period")),
            "{error:?}"
        );
    }
    assert!(matches!(
        export(incremental(window(T0 + 20 * MINUTE, T0))),
        Error::Validation(_)
    ));
    assert!(matches!(
        export(incremental(window(T0, T0 + 15 * MINUTE)).export_time(Timestamp(T0))),
        Error::Validation(_)
    ));
    assert!(matches!(
        export(
            ExportTableToPointInTimeInput::new(TABLE, "b")
                .incremental_export_specification(window(T0, T0 + 15 * MINUTE))
        ),
        Error::Validation(_)
    ));
    assert!(matches!(
        export(
            ExportTableToPointInTimeInput::new(TABLE, "b")
                .export_type(ExportType::IncrementalExport)
        ),
        Error::Validation(_)
    ));
    let mut no_from = window(T0, T0 + 15 * MINUTE);
    no_from.export_from_time = None;
    assert!(matches!(export(incremental(no_from)), Error::Validation(_)));
    // Before the window opened, and past its end.
    assert!(matches!(
        export(incremental(window(T0 - 1, T0 + 15 * MINUTE))),
        Error::InvalidExportTime(_)
    ));
    let now = clock.now().0;
    assert!(matches!(
        export(incremental(window(now - 15 * MINUTE, now + 1))),
        Error::InvalidExportTime(_)
    ));
    // The bucket was never written.
    assert!(!bucket.join("AWSDynamoDB").exists());
    // The same windows inside it are taken; `to` left out is the latest moment.
    db.export_table_to_point_in_time(incremental(window(T0, T0 + 15 * MINUTE)), &bucket)
        .unwrap();
    let mut open_ended = window(now - 15 * MINUTE, now);
    open_ended.export_to_time = None;
    let out = db
        .export_table_to_point_in_time(incremental(open_ended), &bucket)
        .unwrap()
        .export_description;
    let spec = out.incremental_export_specification.unwrap();
    assert_eq!(spec.export_to_time, Some(Timestamp(now)));
    assert_eq!(spec.export_view_type, Some(ExportViewType::NewAndOldImages));
}

/// What a check of the exports in a simulated bucket found: how many whole exports.
fn whole_exports(
    fs: &tidestore::fs::sim::SimFs,
    bucket: &Path,
    items: u64,
) -> Result<usize, String> {
    use base64::Engine as _;
    let bytes = |path: &Path| -> Result<Vec<u8>, String> {
        let current = fs
            .file_bytes(path)
            .ok_or(format!("{} is missing", path.display()))?;
        // Durable: what a crash now would keep of it, name and bytes.
        if fs.durable_bytes(path).as_ref() != Some(&current) {
            return Err(format!("{} is not durable", path.display()));
        }
        Ok(current)
    };
    let checked = |path: &Path| -> Result<Vec<u8>, String> {
        let data = bytes(path)?;
        let checksum = bytes(&path.with_extension("md5"))?;
        let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&data));
        if checksum != md5.as_bytes() {
            return Err(format!("{}'s checksum does not match", path.display()));
        }
        Ok(data)
    };
    let summaries = fs.paths().into_iter().filter(|p| {
        p.starts_with(bucket) && p.file_name().is_some_and(|n| n == "manifest-summary.json")
    });
    let mut whole = 0;
    for summary_path in summaries {
        let summary: Value = serde_json::from_slice(&checked(&summary_path)?)
            .map_err(|e| format!("{}: {e}", summary_path.display()))?;
        let key = summary["manifestFilesS3Key"]
            .as_str()
            .ok_or("no manifest key")?;
        let manifest = String::from_utf8(checked(&bucket.join(key))?).map_err(|e| e.to_string())?;
        let mut count = 0;
        for line in manifest.lines() {
            let entry: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
            let key = entry["dataFileS3Key"].as_str().ok_or("no data key")?;
            let gz = bytes(&bucket.join(key))?;
            let md5 = Md5::digest(&gz);
            if entry["md5Checksum"] != base64::engine::general_purpose::STANDARD.encode(md5)
                || entry["etag"] != format!("{md5:x}")
            {
                return Err(format!("{key}: its MD5 is not the manifest's"));
            }
            let mut text = String::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_string(&mut text)
                .map_err(|e| format!("{key}: {e}"))?;
            if entry["itemCount"] != text.lines().count() as u64 {
                return Err(format!("{key}: not the manifest's item count"));
            }
            count += text.lines().count() as u64;
        }
        if summary["itemCount"] != count || count != items {
            return Err(format!(
                "{count} items in the data files, {items} in the table"
            ));
        }
        whole += 1;
    }
    Ok(whole)
}

/// Issue #14: an export's files go through the file-system seam. Crashed at every one of
/// its I/O operations (each crash image under every policy), or failed at every one by an
/// injected EIO, an export leaves either a whole export — a `manifest-summary.json` whose
/// manifest names data files that exist, are durable and hold the promised item counts
/// and MD5s — or no summary at all; and the database holds every acknowledged write.
#[test]
fn an_export_crashed_or_failed_at_every_io_operation_is_whole_or_absent_and_the_database_unharmed()
{
    export_crashed_or_failed_at_every_io_operation(false);
}

/// As the full export's test above, for an INCREMENTAL_EXPORT, whose data files go to the
/// folder every incremental export of the prefix shares (made by the export, so its
/// making and syncing are crashed at too): whole or absent after a crash, and a failed one
/// leaves none of its data files in the shared folder.
#[test]
fn an_incremental_export_crashed_or_failed_at_every_io_operation_is_whole_or_absent_and_the_database_unharmed(
) {
    export_crashed_or_failed_at_every_io_operation(true);
}

/// The body of the two tests above: a table of 30 items; for an incremental export, 10 of
/// them overwritten, 5 deleted and 5 put anew in a 20-minute window (20 lines).
fn export_crashed_or_failed_at_every_io_operation(incremental: bool) {
    use tidestore::fs::sim::{CrashPolicy, FaultError, FaultPlan, OpKind, SimFs};
    const DB: &str = "/db";
    const START: u64 = 1_700_000_000_000;
    let bucket = Path::new("/bucket");
    let shared_data = bucket.join("AWSDynamoDB/data");
    let lines = if incremental { 20 } else { 30 };
    let open = |fs: &SimFs| {
        let clock = Arc::new(ManualClock::new(Timestamp(START + 60 * MINUTE)));
        Database::open_with(DB, support::sim_options(fs).clock(clock)).unwrap()
    };
    let with_table = |fs: &SimFs| {
        let clock = Arc::new(ManualClock::new(Timestamp(START)));
        let db = Database::open_with(DB, support::sim_options(fs).clock(clock.clone())).unwrap();
        db.create_table(definition(TABLE)).unwrap();
        enable_pitr(&db, TABLE, None);
        for i in 0..30 {
            put(&db, row("p", i, "v"));
        }
        if incremental {
            clock.advance(10 * MINUTE);
            for i in 0..10 {
                put(&db, row("p", i, "changed"));
            }
            for i in 10..15 {
                let key = row("p", i, "")
                    .into_iter()
                    .filter(|(n, _)| n == "pk" || n == "sk")
                    .collect();
                db.delete_item(DeleteItemInput::new(TABLE, key)).unwrap();
            }
            for i in 30..35 {
                put(&db, row("p", i, "new"));
            }
            clock.advance(30 * MINUTE);
            // The prefix's exports folder is there already (an earlier export made it), so
            // that the shared data folder this export makes is a sibling of the export's own
            // folder in one durable folder: a crash may keep either without the other.
            use tidestore::fs::Vfs as _;
            let exports = bucket.join("AWSDynamoDB");
            fs.create_dir_all(&exports).unwrap();
            for dir in [Path::new("/"), bucket, &exports] {
                fs.sync_dir(dir).unwrap();
            }
        }
        db
    };
    let export = |db: &Database| {
        let input = match incremental {
            false => ExportTableToPointInTimeInput::new(TABLE, "bucket"),
            true => ExportTableToPointInTimeInput::incremental(
                TABLE,
                "bucket",
                IncrementalExportSpecification::new(
                    Timestamp(START + 5 * MINUTE),
                    Timestamp(START + 25 * MINUTE),
                ),
            ),
        };
        db.export_table_to_point_in_time(input, bucket)
    };
    let (total, expected) = {
        let fs = SimFs::new();
        let db = with_table(&fs);
        let before = fs.op_count();
        export(&db).unwrap();
        assert_eq!(whole_exports(&fs, bucket, lines), Ok(1));
        (fs.op_count() - before, scan_sorted(&db, TABLE))
    };
    let (mut recoveries, mut whole_after_crash, mut failed) = (0, 0, 0);
    for n in 1..=total {
        // Crashed: every image a disk could hold holds a whole export or none.
        let fs = SimFs::new();
        let db = with_table(&fs);
        fs.crash_at(fs.op_count() + n);
        // (It succeeds only when the crash hits the removal of its state file, whose
        // failure it ignores: an open removes that file.)
        let acknowledged = export(&db).is_ok();
        drop(db);
        for (p, policy) in CrashPolicy::ALL.into_iter().enumerate() {
            let context = format!("crash at operation {n}/{total} of the export, {policy:?}");
            let image = fs.after_crash(policy, n ^ p as u64);
            let whole =
                whole_exports(&image, bucket, lines).unwrap_or_else(|e| panic!("{context}: {e}"));
            assert!(whole <= 1, "{context}");
            if acknowledged {
                assert_eq!(whole, 1, "{context}: an acknowledged export is lost");
            }
            whole_after_crash += whole;
            let db = open(&image);
            assert_eq!(scan_sorted(&db, TABLE), expected, "{context}");
            recoveries += 1;
        }

        // Failed: the call fails with nothing or returns a whole export, and the
        // database goes on (after a reopen, if the fault poisoned its log).
        let context = format!("EIO at operation {n}/{total} of the export");
        let fs = SimFs::new();
        let db = with_table(&fs);
        fs.fail_at(FaultPlan {
            at_op: fs.op_count() + n,
            on: OpKind::Any,
            error: FaultError::Eio,
            persistent: false,
        });
        let result = export(&db);
        let whole = whole_exports(&fs, bucket, lines).unwrap_or_else(|e| panic!("{context}: {e}"));
        match result {
            Ok(_) => assert_eq!(whole, 1, "{context}: a success without a whole export"),
            Err(_) => {
                failed += 1;
                assert_eq!(whole, 0, "{context}: a failure left an export");
                let left: Vec<_> = fs
                    .paths()
                    .into_iter()
                    .filter(|p| p.starts_with(&shared_data))
                    .collect();
                assert!(left.is_empty(), "{context}: a failure left {left:?}");
            }
        }
        // A crash after the call (its removals not yet synced) shows a whole export or
        // none either.
        for (p, policy) in CrashPolicy::ALL.into_iter().enumerate() {
            for seed in 0..4 {
                let image = fs.after_crash(policy, n ^ ((p as u64) << 8) ^ (seed << 16));
                let whole = whole_exports(&image, bucket, lines)
                    .unwrap_or_else(|e| panic!("{context}, then a crash ({policy:?}): {e}"));
                assert!(whole <= 1, "{context}, then a crash ({policy:?})");
            }
        }
        assert_eq!(scan_sorted(&db, TABLE), expected, "{context}");
        drop(db);
        let db = open(&fs);
        assert_eq!(scan_sorted(&db, TABLE), expected, "{context}");
        // The next export is whole and durable, whatever the failed one left in the bucket.
        export(&db).unwrap_or_else(|e| panic!("{context}: the next export gave {e}"));
        let after = whole_exports(&fs, bucket, lines).unwrap_or_else(|e| panic!("{context}: {e}"));
        assert_eq!(after, whole + 1, "{context}: the next export is not whole");
        put(&db, row("after", 0, "v"));
    }
    println!(
        "EXPORT-CRASH incremental={incremental} ops={total} recoveries={recoveries} whole_after_crash={whole_after_crash} failed={failed}"
    );
    assert!(failed > 0 && recoveries > 0);
}

/// DynamoDB's `ExportFromTime` is inclusive and may be any moment of the recovery window,
/// its first included: an incremental export from the very moment recovery was enabled on
/// a table that held items before it (and had a snapshot, or not) holds the changes of
/// its window, the items that were there before as their old images.
#[test]
fn incremental_export_from_the_first_moment_of_the_recovery_window_is_taken() {
    for checkpointed in [false, true] {
        let (dir, clock, db) = setup("export-incremental-window-start");
        db.create_table(definition(TABLE)).unwrap();
        put(&db, row("before", 1, "old"));
        if checkpointed {
            db.checkpoint().unwrap();
        }
        clock.advance(MINUTE);
        enable_pitr(&db, TABLE, None);
        let from = clock.now().0;
        put(&db, row("before", 1, "new"));
        clock.advance(20 * MINUTE);
        put(&db, row("after", 1, "x"));
        clock.advance(30 * MINUTE);
        let bucket = dir.path().join("bucket");
        let spec =
            IncrementalExportSpecification::new(Timestamp(from), Timestamp(from + 15 * MINUTE));
        let out = db
            .export_table_to_point_in_time(
                ExportTableToPointInTimeInput::incremental(TABLE, "b", spec),
                &bucket,
            )
            .unwrap_or_else(|e| panic!("checkpointed {checkpointed}: {e}"))
            .export_description;
        let lines = exported_lines(&bucket, &out);
        let line = &lines[&("before".to_string(), 1)];
        assert_eq!(lines.len(), 1, "checkpointed {checkpointed}");
        assert_eq!(line["NewImage"]["v"]["S"], "new");
        assert_eq!(line["OldImage"]["v"]["S"], "old");
    }
}

/// A transaction over two tables and a key deleted and put again inside the window: the
/// exported table's line holds its own keys only, each once, with its last image and its
/// image before the window, and the other table's writes are not in it.
#[test]
fn incremental_export_holds_a_transactions_keys_of_its_table_and_a_recreated_key_once() {
    let (dir, clock, db) = setup("export-incremental-transaction");
    db.create_table(definition(TABLE)).unwrap();
    db.create_table(definition("Other")).unwrap();
    enable_pitr(&db, TABLE, None);
    put(&db, row("again", 1, "first"));
    clock.advance(MINUTE);
    let from = clock.now().0;
    let key = |pk: &str| -> Item {
        row(pk, 1, "")
            .into_iter()
            .filter(|(n, _)| n == "pk" || n == "sk")
            .collect()
    };
    db.delete_item(DeleteItemInput::new(TABLE, key("again")))
        .unwrap();
    db.transact_write_items(TransactWriteItemsInput::new(vec![
        TransactWriteItem::Put(PutItemInput::new(TABLE, row("txn", 1, "a"))),
        TransactWriteItem::Put(PutItemInput::new("Other", row("elsewhere", 1, "b"))),
        TransactWriteItem::Put(PutItemInput::new(TABLE, row("again", 1, "second"))),
    ]))
    .unwrap();
    clock.advance(20 * MINUTE);
    let bucket = dir.path().join("bucket");
    let spec = IncrementalExportSpecification::new(Timestamp(from), Timestamp(from + 15 * MINUTE));
    let out = db
        .export_table_to_point_in_time(
            ExportTableToPointInTimeInput::incremental(TABLE, "b", spec),
            &bucket,
        )
        .unwrap()
        .export_description;
    let lines = exported_lines(&bucket, &out);
    let keys: Vec<_> = lines.keys().map(|k| k.0.as_str()).collect();
    assert_eq!(keys, ["again", "txn"]);
    let again = &lines[&("again".to_string(), 1)];
    assert_eq!(again["OldImage"]["v"]["S"], "first");
    assert_eq!(again["NewImage"]["v"]["S"], "second");
    assert!(lines[&("txn".to_string(), 1)].get("OldImage").is_none());
}

// ---- FilterSpecification ----

/// The items of a full export's data files (`{"Item": …}` lines), sorted.
fn exported_items(bucket: &Path, description: &ExportDescription) -> Vec<Item> {
    let mut items: Vec<Item> = data_lines(bucket, description)
        .lines()
        .map(|line| {
            let line: Value = serde_json::from_str(line).unwrap();
            assert_eq!(line.as_object().unwrap().len(), 1, "{line}");
            serde_json::from_value(line["Item"].clone()).unwrap()
        })
        .collect();
    items.sort();
    items
}

/// A table of `Music`'s definition whose items vary in what the filters test: `a` a number
/// or absent, `b` a string or absent, `m` a map.
fn filter_table(tag: &str) -> (TempDir, Arc<ManualClock>, Database) {
    let (dir, clock, db) = setup(tag);
    db.create_table(definition(TABLE)).unwrap();
    enable_pitr(&db, TABLE, None);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for i in 0..80 {
        clock.advance(rng.below(50) + 1);
        let mut item = serde_json::json!({
            "pk": {"S": format!("p{}", rng.below(4))}, "sk": {"N": rng.below(8).to_string()},
            "g": {"S": "x"}, "m": {"M": {"x": {"N": rng.below(5).to_string()}, "y": {"S": format!("y{i}")}}},
        });
        if rng.below(4) != 0 {
            item["a"] = serde_json::json!({"N": rng.below(5).to_string()});
        }
        if rng.below(4) != 0 {
            let b = ["x", "xy", "yz", "zzz"][rng.below(4) as usize];
            item["b"] = serde_json::json!({"S": b});
        }
        put(&db, serde_json::from_value(item).unwrap());
    }
    clock.advance(1);
    (dir, clock, db)
}

/// A filter specification from the generator's choices: a key condition (or none), a
/// filter (one on key attributes only without a key condition), a projection (or none),
/// with exactly the substitutions they use (an unused one is refused).
fn filter_spec(
    key_condition: usize,
    filter: usize,
    projection: usize,
    values: (u64, u64, u64, u64),
) -> FilterSpecification {
    // The bounds are `lo` and `lo + span`: Query refuses a BETWEEN whose bounds are out of
    // order, and so does an export.
    let (p, lo, span, a) = values;
    let hi = lo + span;
    let key_conditions = [
        None,
        Some("pk = :p"),
        Some("#pk = :p AND sk BETWEEN :lo AND :hi"),
        Some("pk = :p AND sk > :lo"),
    ];
    let non_key_filters = [
        None,
        Some("a = :a"),
        Some("a < :a OR attribute_not_exists(b)"),
        Some("contains(b, :s)"),
        Some("size(b) > :one AND m.x >= :a"),
        Some("NOT (a <> :a)"),
    ];
    let key_filters = [Some("sk >= :lo AND a <> :a"), Some("pk IN (:p, :q)")];
    let projections = [None, Some("a"), Some("pk, b, m.y"), Some("#pk, sk")];
    let key_condition = key_conditions[key_condition % key_conditions.len()];
    let filter = match key_condition {
        Some(_) => non_key_filters[filter % non_key_filters.len()],
        None => *non_key_filters
            .iter()
            .chain(&key_filters)
            .nth(filter % (non_key_filters.len() + key_filters.len()))
            .unwrap(),
    };
    let projection = projections[projection % projections.len()];
    let mut spec = FilterSpecification::new();
    spec.key_condition_expression = key_condition.map(str::to_owned);
    spec.filter_expression = filter.map(str::to_owned);
    spec.projection_expression = projection.map(str::to_owned);
    let used = |token: &str| {
        [key_condition, filter, projection]
            .iter()
            .flatten()
            .any(|e| e.contains(token))
    };
    if used("#pk") {
        spec = spec.expression_attribute_name("#pk", "pk");
    }
    let values: [(&str, AttributeValue); 7] = [
        (":p", AttributeValue::S(format!("p{p}"))),
        (":q", AttributeValue::S(format!("p{}", (p + 1) % 4))),
        (":lo", AttributeValue::number(lo as i64)),
        (":hi", AttributeValue::number(hi as i64)),
        (":a", AttributeValue::number(a as i64)),
        (
            ":s",
            AttributeValue::S(["x", "y", "z"][(a % 3) as usize].into()),
        ),
        (":one", AttributeValue::number(1)),
    ];
    for (placeholder, value) in values {
        if used(placeholder) {
            spec = spec.expression_attribute_value(placeholder, value);
        }
    }
    spec
}

/// What the model says an export with `spec` holds: a Query with its key condition, or a
/// Scan, with its filter, projection and substitutions, every page, sorted.
fn read_with_the_same_expressions(db: &Database, spec: &FilterSpecification) -> Vec<Item> {
    let mut items = match &spec.key_condition_expression {
        Some(key_condition) => {
            let mut input = QueryInput::table(TABLE).key_condition_expression(key_condition);
            input.expressions.filter_expression = spec.filter_expression.clone();
            input.expressions.projection_expression = spec.projection_expression.clone();
            input.expressions.expression_attribute_names = spec.expression_attribute_names.clone();
            input.expressions.expression_attribute_values =
                spec.expression_attribute_values.clone();
            support::query_all(db, input)
        }
        None => {
            let mut input = ScanInput::new(TABLE);
            input.expressions.filter_expression = spec.filter_expression.clone();
            input.expressions.projection_expression = spec.projection_expression.clone();
            input.expressions.expression_attribute_names = spec.expression_attribute_names.clone();
            input.expressions.expression_attribute_values =
                spec.expression_attribute_values.clone();
            let mut items = Vec::new();
            loop {
                let page = db.scan(input.clone()).unwrap();
                items.extend(page.items);
                match page.last_evaluated_key {
                    Some(k) => input.exclusive_start_key = Some(k),
                    None => break,
                }
            }
            items
        }
    };
    items.sort();
    items
}

/// Property test against Scan and Query as the model: a full export with a
/// `FilterSpecification` holds exactly the items a Query (with its key condition) or a
/// Scan (without) returns for the same expressions and substitutions, projected alike; its
/// `ItemCount` counts them, its description gives the specification back, and its
/// `BilledSizeBytes` is what it read: the key condition's items, whatever the filter.
#[test]
fn filtered_full_export_holds_exactly_the_items_a_scan_or_query_with_the_same_expressions_returns()
{
    use proptest::prelude::*;
    let (dir, _clock, db) = filter_table("export-filter-model");
    let bucket = dir.path().join("bucket");
    let sizes: Vec<(Item, u64)> = support::scan_all(&db, TABLE)
        .into_iter()
        .map(|item| {
            let size = item_size(&item) as u64;
            (item, size)
        })
        .collect();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let choices = (
        0..4usize,
        0..8usize,
        0..4usize,
        (0..4u64, 0..8u64, 0..8u64, 0..5u64),
    );
    runner
        .run(&choices, |(key_condition, filter, projection, values)| {
            let spec = filter_spec(key_condition, filter, projection, values);
            let out = db
                .export_table_to_point_in_time(
                    ExportTableToPointInTimeInput::new(TABLE, "b")
                        .filter_specification(spec.clone()),
                    &bucket,
                )
                .unwrap()
                .export_description;
            let want = read_with_the_same_expressions(&db, &spec);
            let got = exported_items(&bucket, &out);
            prop_assert_eq!(&got, &want, "{:?}", spec);
            prop_assert_eq!(out.item_count, want.len() as u64);
            prop_assert_eq!(out.filter_specification.as_ref(), Some(&spec));
            let partition = spec
                .key_condition_expression
                .as_ref()
                .map(|_| AttributeValue::S(format!("p{}", values.0)));
            let read: u64 = (sizes.iter())
                .filter(|(item, _)| partition.as_ref().is_none_or(|p| item["pk"] == *p))
                .filter(|(item, _)| {
                    // The sort key condition narrows the read as well.
                    let sk: i64 = match &item["sk"] {
                        AttributeValue::N(n) => n.to_string().parse().unwrap(),
                        _ => unreachable!(),
                    };
                    let (lo, hi) = (values.1 as i64, (values.1 + values.2) as i64);
                    match spec.key_condition_expression.as_deref() {
                        Some(k) if k.contains("BETWEEN") => (lo..=hi).contains(&sk),
                        Some(k) if k.contains('>') => sk > lo,
                        _ => true,
                    }
                })
                .map(|(_, size)| size)
                .sum();
            prop_assert_eq!(out.billed_size_bytes, read, "{:?}", spec);
            Ok(())
        })
        .unwrap();
}

/// A key condition exports one partition (or the part of it its sort key condition
/// names), and a projection keeps only the attributes it lists, nested paths included,
/// even the key's attributes.
#[test]
fn a_key_condition_exports_one_partition_and_a_projection_only_its_attributes() {
    let (dir, _clock, db) = filter_table("export-filter-partition");
    let bucket = dir.path().join("bucket");
    let spec = FilterSpecification::new()
        .key_condition_expression("pk = :p AND sk <= :hi")
        .projection_expression("sk, m.y")
        .expression_attribute_value(":p", AttributeValue::S("p2".into()))
        .expression_attribute_value(":hi", AttributeValue::number(4));
    let out = db
        .export_table_to_point_in_time(
            ExportTableToPointInTimeInput::new(TABLE, "b").filter_specification(spec),
            &bucket,
        )
        .unwrap()
        .export_description;
    let mut want: Vec<Item> = support::scan_all(&db, TABLE)
        .into_iter()
        .filter(|item| item["pk"] == AttributeValue::S("p2".into()))
        .filter(|item| item["sk"] <= AttributeValue::number(4))
        .map(|item| {
            let y = match &item["m"] {
                AttributeValue::M(m) => m["y"].clone(),
                _ => unreachable!(),
            };
            let m = AttributeValue::M([("y".to_owned(), y)].into_iter().collect());
            [("sk".to_owned(), item["sk"].clone()), ("m".to_owned(), m)]
                .into_iter()
                .collect()
        })
        .collect();
    want.sort();
    assert!(!want.is_empty());
    assert_eq!(exported_items(&bucket, &out), want);
}

/// An incremental export with a filter tests each changed item's image at the window's
/// end, or for an item deleted in the window its image at the window's start: an item
/// that met the filter before the window and no longer does has no line, one deleted that
/// met it has one, one deleted that did not has none; a projection narrows both images and
/// leaves `Keys` whole; a key condition keeps one partition's changed keys.
#[test]
fn incremental_export_filters_on_the_new_image_and_on_the_old_image_of_a_delete() {
    let (dir, clock, db) = setup("export-filter-incremental");
    db.create_table(definition(TABLE)).unwrap();
    enable_pitr(&db, TABLE, None);
    let item = |pk: &str, a: i64, v: &str| -> Item {
        serde_json::from_value(serde_json::json!({
            "pk": {"S": pk}, "sk": {"N": "0"}, "a": {"N": a.to_string()}, "v": {"S": v},
        }))
        .unwrap()
    };
    let key = |pk: &str| -> Item {
        serde_json::from_value(serde_json::json!({"pk": {"S": pk}, "sk": {"N": "0"}})).unwrap()
    };
    clock.advance(10);
    put(&db, item("left", 1, "before")); // meets the filter before, not after
    put(&db, item("gone", 1, "before")); // meets it, deleted
    put(&db, item("gone-unmet", 2, "before")); // does not meet it, deleted
    put(&db, item("joined", 2, "before")); // meets it only after
    put(&db, item("still", 1, "before")); // unchanged in the window: no line
    clock.advance(MINUTE);
    let from = clock.now();
    put(&db, item("left", 2, "after"));
    db.delete_item(DeleteItemInput::new(TABLE, key("gone")))
        .unwrap();
    db.delete_item(DeleteItemInput::new(TABLE, key("gone-unmet")))
        .unwrap();
    put(&db, item("joined", 1, "after"));
    put(&db, item("new", 1, "after")); // made in the window, meets it
    put(&db, item("new-unmet", 3, "after")); // made in the window, does not
    clock.advance(20 * MINUTE);
    let to = clock.now();
    clock.advance(1);
    let bucket = dir.path().join("bucket");
    let spec = FilterSpecification::new()
        .filter_expression("a = :one")
        .projection_expression("v")
        .expression_attribute_value(":one", AttributeValue::number(1));
    let window = IncrementalExportSpecification::new(from, to);
    let out = db
        .export_table_to_point_in_time(
            ExportTableToPointInTimeInput::incremental(TABLE, "b", window.clone())
                .filter_specification(spec.clone()),
            &bucket,
        )
        .unwrap()
        .export_description;
    assert_eq!(out.filter_specification, Some(spec));
    let lines = exported_lines(&bucket, &out);
    let keys: Vec<&str> = lines.keys().map(|(pk, _)| pk.as_str()).collect();
    assert_eq!(keys, ["gone", "joined", "new"]);
    let v = |v: &str| serde_json::json!({"v": {"S": v}});
    let keys_of = |pk: &str| serde_json::json!({"pk": {"S": pk}, "sk": {"N": "0"}});
    let gone = &lines[&("gone".to_owned(), 0)];
    assert_eq!(gone["Keys"], keys_of("gone"));
    assert_eq!(gone["OldImage"], v("before"));
    assert!(gone.get("NewImage").is_none());
    let joined = &lines[&("joined".to_owned(), 0)];
    assert_eq!(joined["Keys"], keys_of("joined"));
    assert_eq!(joined["OldImage"], v("before"));
    assert_eq!(joined["NewImage"], v("after"));
    let new = &lines[&("new".to_owned(), 0)];
    assert_eq!(new["NewImage"], v("after"));
    assert!(new.get("OldImage").is_none());
    assert_eq!(out.item_count, 3);
    // A key condition selects among the changed keys: one partition's.
    let one_partition = FilterSpecification::new()
        .key_condition_expression("pk = :p")
        .expression_attribute_value(":p", AttributeValue::S("left".into()));
    let out = db
        .export_table_to_point_in_time(
            ExportTableToPointInTimeInput::incremental(TABLE, "b", window)
                .filter_specification(one_partition),
            &bucket,
        )
        .unwrap()
        .export_description;
    let lines = exported_lines(&bucket, &out);
    let keys: Vec<&str> = lines.keys().map(|(pk, _)| pk.as_str()).collect();
    assert_eq!(keys, ["left"]);
}

/// A `FilterSpecification` Query's or Scan's rules refuse is a `ValidationException`
/// before anything is read or written, with the message a Query (key condition) or Scan
/// gives for the same expressions; the limits only a filtered export has (250-byte
/// attribute names, 2 MB values) have tidestore's words; an incremental export is held to
/// the same rules.
#[test]
fn filter_specification_errors_are_query_and_scan_messages_before_anything_is_written() {
    let (dir, clock, db) = filter_table("export-filter-errors");
    let bucket = dir.path().join("bucket");
    let refusal = |spec: &FilterSpecification| {
        let e = db
            .export_table_to_point_in_time(
                ExportTableToPointInTimeInput::new(TABLE, "b").filter_specification(spec.clone()),
                &bucket,
            )
            .unwrap_err();
        assert!(matches!(e, Error::Validation(_)), "{spec:?}: {e}");
        e.message()
    };
    let model_refusal = |spec: &FilterSpecification| {
        let e = match &spec.key_condition_expression {
            Some(k) => {
                let mut input = QueryInput::table(TABLE).key_condition_expression(k);
                input.expressions.filter_expression = spec.filter_expression.clone();
                input.expressions.projection_expression = spec.projection_expression.clone();
                input.expressions.expression_attribute_names =
                    spec.expression_attribute_names.clone();
                input.expressions.expression_attribute_values =
                    spec.expression_attribute_values.clone();
                db.query(input).unwrap_err()
            }
            None => {
                let mut input = ScanInput::new(TABLE);
                input.expressions.filter_expression = spec.filter_expression.clone();
                input.expressions.projection_expression = spec.projection_expression.clone();
                input.expressions.expression_attribute_names =
                    spec.expression_attribute_names.clone();
                input.expressions.expression_attribute_values =
                    spec.expression_attribute_values.clone();
                db.scan(input).unwrap_err()
            }
        };
        e.message()
    };
    let p = || AttributeValue::S("p1".into());
    let one = || AttributeValue::number(1);
    let f = FilterSpecification::new;
    let like_query_or_scan = [
        // Syntax.
        f().filter_expression("a = "),
        f().projection_expression("a,"),
        f().key_condition_expression("pk = = :p")
            .expression_attribute_value(":p", p()),
        // Undefined and unused substitutions.
        f().filter_expression("a = :undefined"),
        f().filter_expression("#undefined = :one")
            .expression_attribute_value(":one", one()),
        f().filter_expression("a = :one")
            .expression_attribute_value(":one", one())
            .expression_attribute_value(":unused", one()),
        f().projection_expression("a")
            .expression_attribute_name("#unused", "b"),
        // Key conditions: Query's rules.
        f().key_condition_expression("a = :one")
            .expression_attribute_value(":one", one()),
        f().key_condition_expression("pk = :p OR pk = :q")
            .expression_attribute_value(":p", p())
            .expression_attribute_value(":q", p()),
        f().key_condition_expression("sk > :one")
            .expression_attribute_value(":one", one()),
        f().key_condition_expression("pk = :one")
            .expression_attribute_value(":one", one()),
        f().key_condition_expression("pk = :p")
            .filter_expression("sk > :one")
            .expression_attribute_value(":p", p())
            .expression_attribute_value(":one", one()),
        // Projections and limits.
        f().projection_expression("m, m.x"),
        f().filter_expression(format!("a = :one{}", " ".repeat(4096)))
            .expression_attribute_value(":one", one()),
        f().filter_expression(vec!["a = :one"; 151].join(" OR "))
            .expression_attribute_value(":one", one()),
    ];
    for spec in &like_query_or_scan {
        assert_eq!(refusal(spec), model_refusal(spec), "{spec:?}");
    }
    // Values without an expression that takes them: named as a Query names them, since an
    // export takes both of the expressions a Query takes values in.
    assert_eq!(
        refusal(&f().expression_attribute_value(":one", one())),
        "ExpressionAttributeValues can only be specified when using expressions: FilterExpression and KeyConditionExpression are null"
    );
    let long_name = "n".repeat(251);
    let names_at_the_limit = f()
        .filter_expression("attribute_exists(#n)")
        .expression_attribute_name("#n", "n".repeat(250));
    db.export_table_to_point_in_time(
        ExportTableToPointInTimeInput::new(TABLE, "b").filter_specification(names_at_the_limit),
        &dir.path().join("allowed"),
    )
    .unwrap();
    let too_long_name = f()
        .filter_expression("attribute_exists(#n)")
        .expression_attribute_name("#n", long_name);
    assert_eq!(
        refusal(&too_long_name),
        "One or more parameter values were invalid: FilterSpecification names an attribute longer than 250 bytes: 251 bytes"
    );
    let too_large_value = f()
        .filter_expression("b = :big")
        .expression_attribute_value(":big", AttributeValue::S("x".repeat(2 * 1024 * 1024 + 1)));
    assert_eq!(
        refusal(&too_large_value),
        "ExpressionAttributeValues contains invalid value: The value is larger than 2097152 bytes for key :big"
    );
    // An incremental export is held to the same rules, before its window is read.
    let window = IncrementalExportSpecification::new(Timestamp(T0), Timestamp(T0 + 15 * MINUTE));
    clock.advance(15 * MINUTE);
    let e = db
        .export_table_to_point_in_time(
            ExportTableToPointInTimeInput::incremental(TABLE, "b", window)
                .filter_specification(like_query_or_scan[0].clone()),
            &bucket,
        )
        .unwrap_err();
    assert_eq!(e.message(), model_refusal(&like_query_or_scan[0]));
    assert!(!bucket.exists(), "a refused export wrote nothing");
}

/// The request stays `Eq`, as it was before it carried a `FilterSpecification` (whose
/// values are `Eq` too): a caller comparing or keying requests keeps compiling.
#[test]
fn an_export_request_with_a_filter_specification_is_eq() {
    fn eq<T: Eq>(a: &T, b: &T) -> bool {
        a == b
    }
    let spec = FilterSpecification::new()
        .filter_expression("a = :one")
        .expression_attribute_value(":one", AttributeValue::number(1));
    let input = ExportTableToPointInTimeInput::new(TABLE, "b").filter_specification(spec.clone());
    assert!(eq(&spec, &spec));
    assert!(eq(&input, &input.clone()));
    assert!(!eq(&input, &ExportTableToPointInTimeInput::new(TABLE, "b")));
}

/// `lines` of Ion imported as the table `Imported` (of `definition`'s shape), every line
/// an item without error.
fn import_ion_lines(db: &Database, lines: &str) -> ImportTableDescription {
    let imported = db
        .import_table_from_ion(
            ImportTableInput::new(definition("Imported")),
            [lines.as_bytes()],
        )
        .unwrap()
        .import_table_description;
    assert_eq!(imported.error_count, 0, "{:?}", imported.item_errors);
    imported
}

/// With `ExportFormat` ION the data files are `data/*.ion.gz`, one line an item as the
/// developer guide's Ion example writes it (`$ion_1_0 {Item:{…}}`), the summary says
/// `"outputFormat":"ION"`, and importing those files as ION makes the table again item for
/// item: every type, a snapshot's items and the log's.
#[test]
fn an_ion_export_imported_again_is_the_table_item_for_item() {
    let (dir, clock, db) = setup("export-ion-roundtrip");
    db.create_table(definition(TABLE)).unwrap();
    enable_pitr(&db, TABLE, None);
    for i in 0..200 {
        clock.advance(1);
        let text = [
            "x",
            "quote \" back \\ slash",
            "line\nbreak\ttab",
            "é ☃ 😀",
            "'''",
        ];
        put(&db, row(&format!("p{}", i % 13), i, text[i as usize % 5]));
        if i == 120 {
            db.checkpoint().unwrap();
        }
    }
    let odd: Item = serde_json::from_value(serde_json::json!({
        "pk": {"S": "odd"}, "sk": {"N": "-0.0000001"}, "g": {"S": "x"},
        "null": {"NULL": true}, "$ion_1_0": {"N": "1E+125"}, "with space": {"N": "600"},
        "a-b": {"S": ""}, "deep": {"L": [{"M": {"'": {"BS": ["", "AA=="]}}}]},
    }))
    .unwrap();
    put(&db, odd);
    clock.advance(1);
    let bucket = dir.path().join("bucket");
    let out = db
        .export_table_to_point_in_time(
            ExportTableToPointInTimeInput::new(TABLE, "bucket").export_format(ExportFormat::Ion),
            &bucket,
        )
        .unwrap()
        .export_description;
    assert_eq!(out.export_format, "ION");
    let folder = export_dir(&bucket, &out);
    let summary = read_json(&folder.join("manifest-summary.json"));
    assert_eq!(summary["outputFormat"], "ION");
    let files = std::fs::read_to_string(folder.join("manifest-files.json")).unwrap();
    for line in files.lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        let key = entry["dataFileS3Key"].as_str().unwrap();
        assert!(key.ends_with(".ion.gz") && key.contains("/data/"), "{key}");
    }
    let lines = data_lines(&bucket, &out);
    assert!(
        lines.lines().all(|l| l.starts_with("$ion_1_0 {Item:{")),
        "{lines}"
    );
    assert!(lines.contains("'$ion_1_0':1d125,"), "{lines}");

    let imported = import_ion_lines(&db, &lines);
    let table = scan_sorted(&db, TABLE);
    assert_eq!(imported.imported_item_count, table.len() as u64);
    assert_eq!(scan_sorted(&db, "Imported"), table);
}

/// An incremental export in ION has a line where the DYNAMODB_JSON export of the same
/// window has one, each `$ion_1_0 {Metadata:{WriteTimestampMicros:…},Keys:{…},…}` with
/// the images the JSON line has, and its files are `.ion.gz` in the shared data folder.
#[test]
fn an_ion_incremental_export_has_the_json_exports_lines_in_ion() {
    let (dir, clock, db) = setup("export-ion-incremental");
    db.create_table(definition(TABLE)).unwrap();
    enable_pitr(&db, TABLE, None);
    for i in 0..20 {
        clock.advance(1000);
        put(&db, row("p", i, "before"));
    }
    clock.advance(1000);
    let from = clock.now().0;
    for i in 10..30 {
        clock.advance(1000);
        put(&db, row("p", i, "in"));
    }
    clock.set(Timestamp(from + 15 * MINUTE));
    let spec = IncrementalExportSpecification::new(Timestamp(from), Timestamp(from + 15 * MINUTE));
    let bucket = dir.path().join("bucket");
    let export = |format| {
        db.export_table_to_point_in_time(
            ExportTableToPointInTimeInput::incremental(TABLE, "b", spec.clone())
                .export_format(format),
            &bucket,
        )
        .unwrap()
        .export_description
    };
    let json = export(ExportFormat::DynamodbJson);
    let ion = export(ExportFormat::Ion);
    assert_eq!(ion.item_count, json.item_count);
    assert_eq!(ion.billed_size_bytes, json.billed_size_bytes);
    let (json_lines, ion_lines) = (data_lines(&bucket, &json), data_lines(&bucket, &ion));
    assert_eq!(ion_lines.lines().count(), 20);
    for (j, i) in json_lines.lines().zip(ion_lines.lines()) {
        let j: Value = serde_json::from_str(j).unwrap();
        let micros = j["Metadata"]["WriteTimestampMicros"]["N"].as_str().unwrap();
        // Whole milliseconds: `…d3`.
        let micros = format!("{}d3", micros.strip_suffix("000").unwrap());
        let sk = j["Keys"]["sk"]["N"].as_str().unwrap();
        let prefix = format!("$ion_1_0 {{Metadata:{{WriteTimestampMicros:{micros}}},");
        assert!(i.starts_with(&prefix), "{i}");
        // As an Ion decimal: `15.`, or `2d1` for 20.
        let sk_ion = match sk.trim_end_matches('0') {
            digits if digits.len() < sk.len() => format!("{digits}d{}", sk.len() - digits.len()),
            _ => format!("{sk}."),
        };
        assert!(i.contains(&format!(",sk:{sk_ion}}},")), "{i}");
        assert!(i.contains("},Keys:{pk:\"p\","), "{i}");
        // 10..20 existed before the window: an old image, then the new.
        let old = sk.parse::<i64>().unwrap() < 20;
        assert_eq!(j.get("OldImage").is_some(), old);
        assert_eq!(i.contains(",OldImage:{"), old, "{i}");
        assert!(i.contains(",NewImage:{"), "{i}");
    }
    let files =
        std::fs::read_to_string(export_dir(&bucket, &ion).join("manifest-files.json")).unwrap();
    assert!(
        files.contains("AWSDynamoDB/data/") && files.contains(".ion.gz"),
        "{files}"
    );
}

/// An Ion source with a value DynamoDB cannot hold is an item in error (the others are
/// imported); one that is not Ion text fails the import, naming the line, and leaves no
/// table.
#[test]
fn an_ion_import_counts_items_in_error_and_fails_on_malformed_text() {
    let (_dir, _clock, db) = setup("import-ion-errors");
    let simple = || {
        CreateTableInput::new("T01")
            .hash_key("pk", S)
            .pay_per_request()
    };
    let source = "$ion_1_0 {Item:{pk:\"a\",n:1.5e0}}\n$ion_1_0 {Item:{pk:\"b\",n:15d-1}}\n$ion_1_0 {Item:{n:1}}\n";
    let out = db
        .import_table_from_ion(ImportTableInput::new(simple()), [source.as_bytes()])
        .unwrap()
        .import_table_description;
    assert_eq!((out.imported_item_count, out.error_count), (1, 2));
    assert!(
        out.item_errors[0].message.contains("Ion float 1.5e0"),
        "{:?}",
        out.item_errors
    );
    assert_eq!(out.item_errors[1].item_number, 2);
    let b = scan_sorted(&db, "T01");
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["n"], AttributeValue::n("1.5").unwrap());

    let simple = || {
        CreateTableInput::new("T02")
            .hash_key("pk", S)
            .pay_per_request()
    };
    let good = "$ion_1_0 {Item:{pk:\"a\"}}\n";
    let bad = "$ion_1_0 {Item:{pk:\"b\"}}\n$ion_1_0 {Item:{pk:\"c\\q\"}}\n";
    let error = db
        .import_table_from_ion(
            ImportTableInput::new(simple()),
            [good.as_bytes(), bad.as_bytes()],
        )
        .unwrap_err();
    assert_eq!(error.exception_name(), "ValidationException");
    assert!(error.message().contains("malformed at line 2"), "{error}");
    assert!(db.describe_table("T02").is_err());
}

/// A `FilterSpecification` and `ExportFormat` ION together: the Ion files hold exactly the
/// items a Query with the same expressions returns, projected alike, and `ItemCount`
/// counts them; imported back as ION they make that table.
#[test]
fn a_filtered_ion_export_holds_the_items_a_query_with_its_expressions_returns() {
    let (dir, _clock, db) = filter_table("export-filter-ion");
    let bucket = dir.path().join("bucket");
    let spec = FilterSpecification::new()
        .key_condition_expression("pk = :p")
        .filter_expression("attribute_exists(b)")
        .projection_expression("pk, sk, b")
        .expression_attribute_value(":p", AttributeValue::S("p1".into()));
    let out = db
        .export_table_to_point_in_time(
            ExportTableToPointInTimeInput::new(TABLE, "b")
                .filter_specification(spec.clone())
                .export_format(ExportFormat::Ion),
            &bucket,
        )
        .unwrap()
        .export_description;
    let lines = data_lines(&bucket, &out);
    assert!(
        lines.lines().all(|l| l.starts_with("$ion_1_0 {Item:{")),
        "{lines}"
    );
    let want = read_with_the_same_expressions(&db, &spec);
    assert!(!want.is_empty());
    assert_eq!(out.item_count, want.len() as u64);
    import_ion_lines(&db, &lines);
    assert_eq!(scan_sorted(&db, "Imported"), want);
}
