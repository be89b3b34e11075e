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
        std::fs::read_to_string(dir.join("manifest-files.checksum")).unwrap(),
        format!("{:x}", Md5::digest(&files))
    );
    let mut all = String::new();
    let mut count = 0;
    for line in String::from_utf8(files).unwrap().lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        let gz = std::fs::read(bucket.join(entry["dataFileS3Key"].as_str().unwrap())).unwrap();
        use base64::Engine as _;
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
        let checksum = bytes(&path.with_extension("checksum"))?;
        if checksum != format!("{:x}", Md5::digest(&data)).as_bytes() {
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
    use tidestore::fs::sim::{CrashPolicy, FaultError, FaultPlan, OpKind, SimFs};
    const DB: &str = "/db";
    let bucket = Path::new("/bucket");
    let open = |fs: &SimFs| Database::open_with(DB, support::sim_options(fs)).unwrap();
    let with_table = |fs: &SimFs| {
        let db = open(fs);
        db.create_table(definition(TABLE)).unwrap();
        enable_pitr(&db, TABLE, None);
        for i in 0..30 {
            put(&db, row("p", i, "v"));
        }
        db
    };
    let export = |db: &Database| {
        db.export_table_to_point_in_time(
            ExportTableToPointInTimeInput::new(TABLE, "bucket"),
            bucket,
        )
    };
    let (total, expected) = {
        let fs = SimFs::new();
        let db = with_table(&fs);
        let before = fs.op_count();
        export(&db).unwrap();
        assert_eq!(whole_exports(&fs, bucket, 30), Ok(1));
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
                whole_exports(&image, bucket, 30).unwrap_or_else(|e| panic!("{context}: {e}"));
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
        let whole = whole_exports(&fs, bucket, 30).unwrap_or_else(|e| panic!("{context}: {e}"));
        match result {
            Ok(_) => assert_eq!(whole, 1, "{context}: a success without a whole export"),
            Err(_) => {
                failed += 1;
                assert_eq!(whole, 0, "{context}: a failure left an export");
            }
        }
        // A crash after the call (its removals not yet synced) shows a whole export or
        // none either.
        for (p, policy) in CrashPolicy::ALL.into_iter().enumerate() {
            for seed in 0..4 {
                let image = fs.after_crash(policy, n ^ ((p as u64) << 8) ^ (seed << 16));
                let whole = whole_exports(&image, bucket, 30)
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
        let after = whole_exports(&fs, bucket, 30).unwrap_or_else(|e| panic!("{context}: {e}"));
        assert_eq!(after, whole + 1, "{context}: the next export is not whole");
        put(&db, row("after", 0, "v"));
    }
    println!(
        "EXPORT-CRASH ops={total} recoveries={recoveries} whole_after_crash={whole_after_crash} failed={failed}"
    );
    assert!(failed > 0 && recoveries > 0);
}
