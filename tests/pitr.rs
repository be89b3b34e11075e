//! Behaviour tests of point-in-time recovery: `UpdateContinuousBackups`,
//! `DescribeContinuousBackups`, `RestoreTableToPointInTime` (by time and by LSN) with every
//! error they produce; the window's retention (what it keeps, what it releases as the clock
//! moves or when it is disabled); SYSTEM backups of deleted tables (name, contents, expiry,
//! listing) and restoring a deleted table within its window; and the JSON of the outputs.
//!
//! Time comes from a `ManualClock`, so windows of days are crossed without waiting and every
//! commit time is known: a write's commit time is the clock's time (or the last commit time,
//! if the clock is behind it).
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tidestore::ScalarAttributeType::{N, S};
use tidestore::*;

use support::{
    enable_pitr as enable, pitr_window as window, restore_at, scan_sorted as items, TempDir,
};

const T0: u64 = 1_576_616_366_715;
const DAY: u64 = 86_400_000;
const WAIT: Duration = Duration::from_secs(20);
const TABLE_ARN_PREFIX: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/";

/// A database in a fresh directory whose clock starts at `T0`. Maintenance runs only when a
/// test asks (`checkpoint`), so what the disk holds is a function of the test's steps.
fn setup(tag: &str) -> (TempDir, Arc<ManualClock>, Database) {
    let dir = TempDir::new(tag);
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let db = open(&dir, &clock);
    (dir, clock, db)
}

fn open(dir: &TempDir, clock: &Arc<ManualClock>) -> Database {
    Database::open_with(
        dir.path(),
        Options::default()
            .clock(clock.clone())
            .background_worker(false),
    )
    .unwrap()
}

fn row(pk: &str, v: i64) -> Item {
    Item::from([
        ("pk".to_string(), AttributeValue::s(pk)),
        ("v".to_string(), AttributeValue::number(v)),
        ("g".to_string(), AttributeValue::s(format!("g{}", v % 2))),
    ])
}

fn key(pk: &str) -> Item {
    Item::from([("pk".to_string(), AttributeValue::s(pk))])
}

/// An on-demand table keyed by `pk` with a GSI `ByG` on `g`/`v`.
fn create(db: &Database, name: &str) {
    db.create_table(
        CreateTableInput::new(name)
            .hash_key("pk", S)
            .pay_per_request()
            .global_index("ByG", ("g", S), Some(("v", N)), Projection::all()),
    )
    .unwrap();
}

fn put(db: &Database, table: &str, pk: &str, v: i64) {
    db.put_item(PutItemInput::new(table, row(pk, v))).unwrap();
}

fn delete(db: &Database, table: &str, pk: &str) {
    db.delete_item(DeleteItemInput::new(table, key(pk)))
        .unwrap();
}

fn rows(pairs: &[(&str, i64)]) -> Vec<Item> {
    let mut rows: Vec<Item> = pairs.iter().map(|&(pk, v)| row(pk, v)).collect();
    rows.sort();
    rows
}

/// The snapshot files in the database directory.
fn snapshot_files(dir: &TempDir) -> usize {
    std::fs::read_dir(dir.path().join("snapshots"))
        .unwrap()
        .count()
}

// ---------------------------------------------------------------------------------------------
// UpdateContinuousBackups and DescribeContinuousBackups
// ---------------------------------------------------------------------------------------------

#[test]
fn continuous_backups_are_enabled_and_point_in_time_recovery_disabled_on_a_new_table() {
    let (_dir, _clock, db) = setup("new");
    create(&db, "src");
    let out = db.describe_continuous_backups("src").unwrap();
    assert_eq!(
        serde_json::to_value(out).unwrap(),
        json!({"ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}
        }})
    );
}

#[test]
fn enabling_opens_a_window_from_the_enabling_moment_to_now_with_a_35_day_default() {
    let (_dir, clock, db) = setup("enable");
    create(&db, "src");
    clock.advance(1_000);
    let pitr = enable(&db, "src", None);
    assert_eq!(
        pitr.point_in_time_recovery_status,
        PointInTimeRecoveryStatus::Enabled
    );
    assert_eq!(pitr.recovery_period_in_days, Some(35));
    assert_eq!(
        pitr.earliest_restorable_date_time,
        Some(Timestamp(T0 + 1_000))
    );
    assert_eq!(
        pitr.latest_restorable_date_time,
        Some(Timestamp(T0 + 1_000))
    );
    clock.advance(5_000);
    assert_eq!(
        window(&db, "src"),
        (Timestamp(T0 + 1_000), Timestamp(T0 + 6_000))
    );
    // The AWS CLI's JSON: times as epoch seconds with milliseconds.
    let json = serde_json::to_value(db.describe_continuous_backups("src").unwrap()).unwrap();
    assert_eq!(
        json["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"],
        json!({
            "PointInTimeRecoveryStatus": "ENABLED",
            "RecoveryPeriodInDays": 35,
            "EarliestRestorableDateTime": (T0 + 1_000) as f64 / 1000.0,
            "LatestRestorableDateTime": (T0 + 6_000) as f64 / 1000.0,
        })
    );
}

#[test]
fn the_window_start_is_now_minus_the_period_once_the_table_is_older_than_it() {
    let (_dir, clock, db) = setup("period");
    create(&db, "src");
    enable(&db, "src", Some(2));
    clock.advance(3 * DAY);
    let now = T0 + 3 * DAY;
    assert_eq!(
        window(&db, "src"),
        (Timestamp(now - 2 * DAY), Timestamp(now))
    );
    // Changing the period keeps the window's present start (not the enabling moment,
    // whose states the shorter window may have released).
    let pitr = enable(&db, "src", Some(35));
    assert_eq!(
        pitr.earliest_restorable_date_time,
        Some(Timestamp(now - 2 * DAY))
    );
}

#[test]
fn a_recovery_period_outside_1_to_35_days_is_a_validation_error() {
    let (_dir, _clock, db) = setup("bad-period");
    create(&db, "src");
    for days in [0, 36, 1000] {
        let mut input = UpdateContinuousBackupsInput::new("src", true);
        input
            .point_in_time_recovery_specification
            .recovery_period_in_days = Some(days);
        let err = db.update_continuous_backups(input).unwrap_err();
        assert!(
            matches!(&err, Error::Validation(m) if m.contains("recoveryPeriodInDays")),
            "{days}: {err}"
        );
    }
    let mut input = UpdateContinuousBackupsInput::new("src", false);
    input
        .point_in_time_recovery_specification
        .recovery_period_in_days = Some(3);
    assert!(matches!(
        db.update_continuous_backups(input),
        Err(Error::Validation(_))
    ));
}

#[test]
fn continuous_backup_requests_for_an_unknown_table_are_table_not_found() {
    let (_dir, _clock, db) = setup("unknown");
    assert!(matches!(
        db.describe_continuous_backups("nope"),
        Err(Error::TableNotFound(_))
    ));
    assert!(matches!(
        db.update_continuous_backups(UpdateContinuousBackupsInput::new("nope", true)),
        Err(Error::TableNotFound(_))
    ));
    assert!(matches!(
        restore_at(&db, "nope", "xxx", T0),
        Err(Error::TableNotFound(_))
    ));
}

#[test]
fn an_in_memory_database_cannot_enable_point_in_time_recovery() {
    let db = Database::in_memory();
    create(&db, "src");
    assert!(matches!(
        db.update_continuous_backups(UpdateContinuousBackupsInput::new("src", true)),
        Err(Error::ContinuousBackupsUnavailable(_))
    ));
    let out = db.describe_continuous_backups("src").unwrap();
    assert_eq!(
        out.continuous_backups_description.continuous_backups_status,
        ContinuousBackupsStatus::Disabled
    );
}

// ---------------------------------------------------------------------------------------------
// RestoreTableToPointInTime
// ---------------------------------------------------------------------------------------------

/// Three moments one second apart, each with its writes: (a=1, b=1), then (a=2, c=1), then
/// (b deleted, c=2).
fn three_moments(db: &Database, clock: &ManualClock) {
    create(db, "src");
    enable(db, "src", None);
    put(db, "src", "a", 1);
    put(db, "src", "b", 1);
    clock.advance(1_000);
    put(db, "src", "a", 2);
    put(db, "src", "c", 1);
    clock.advance(1_000);
    delete(db, "src", "b");
    put(db, "src", "c", 2);
}

#[test]
fn a_restore_holds_exactly_the_writes_committed_at_or_before_the_restore_time() {
    let (_dir, clock, db) = setup("exact");
    three_moments(&db, &clock);
    clock.advance(1_000);
    let expected = [
        (T0, rows(&[("a", 1), ("b", 1)])),
        (T0 + 999, rows(&[("a", 1), ("b", 1)])),
        (T0 + 1_000, rows(&[("a", 2), ("b", 1), ("c", 1)])),
        (T0 + 2_000, rows(&[("a", 2), ("c", 2)])),
        (T0 + 3_000, rows(&[("a", 2), ("c", 2)])),
    ];
    for (i, (at, want)) in expected.iter().enumerate() {
        let target = format!("r-{i}");
        restore_at(&db, "src", &target, *at).unwrap();
        assert_eq!(items(&db, &target), *want, "restore at +{} ms", at - T0);
    }
    // The source is untouched and the restores are independent tables.
    assert_eq!(items(&db, "src"), rows(&[("a", 2), ("c", 2)]));
    put(&db, "r-0", "z", 9);
    assert_eq!(items(&db, "r-1"), rows(&[("a", 1), ("b", 1)]));
}

#[test]
fn the_window_edges_are_restorable_and_one_millisecond_outside_them_is_invalid_restore_time() {
    let (_dir, clock, db) = setup("edges");
    three_moments(&db, &clock);
    clock.advance(500);
    let (earliest, latest) = window(&db, "src");
    assert_eq!((earliest, latest), (Timestamp(T0), Timestamp(T0 + 2_500)));
    for (target, at) in [("low", earliest.0), ("high", latest.0)] {
        restore_at(&db, "src", target, at).unwrap();
    }
    assert_eq!(items(&db, "low"), rows(&[("a", 1), ("b", 1)]));
    assert_eq!(items(&db, "high"), rows(&[("a", 2), ("c", 2)]));
    // Those restores committed after their moment (a restore closes the moment it reads),
    // which moved the latest restorable time on.
    let (earliest, latest) = window(&db, "src");
    for at in [earliest.0 - 1, latest.0 + 1] {
        let err = restore_at(&db, "src", "out", at).unwrap_err();
        assert!(matches!(err, Error::InvalidRestoreTime(_)), "{at}: {err}");
        assert_eq!(err.exception_name(), "InvalidRestoreTimeException");
    }
    assert!(matches!(
        db.describe_table("out"),
        Err(Error::ResourceNotFound(_))
    ));

    // Once the table is older than its period, the start moves with the clock.
    enable(&db, "src", Some(1));
    clock.advance(DAY + 700);
    let (earliest, latest) = window(&db, "src");
    assert_eq!(earliest, Timestamp(latest.0 - DAY));
    restore_at(&db, "src", "day-lo", earliest.0).unwrap();
    assert_eq!(items(&db, "day-lo"), rows(&[("a", 2), ("c", 2)]));
    assert!(matches!(
        restore_at(&db, "src", "day-out", earliest.0 - 1),
        Err(Error::InvalidRestoreTime(_))
    ));
}

#[test]
fn use_latest_restorable_time_restores_every_acknowledged_write() {
    let (_dir, clock, db) = setup("latest");
    three_moments(&db, &clock);
    let out = db
        .restore_table_to_point_in_time(RestoreTableToPointInTimeInput::latest("src", "now"))
        .unwrap();
    assert_eq!(items(&db, "now"), items(&db, "src"));
    let summary = out.table_description.restore_summary.unwrap();
    assert_eq!(summary.restore_date_time, Timestamp(T0 + 2_000));

    let mut both = RestoreTableToPointInTimeInput::latest("src", "xxx");
    both.restore_date_time = Some(Timestamp(T0));
    assert!(matches!(
        db.restore_table_to_point_in_time(both),
        Err(Error::Validation(_))
    ));
    let neither = RestoreTableToPointInTimeInput::new("xxx").source_table_name("src");
    assert!(matches!(
        db.restore_table_to_point_in_time(neither),
        Err(Error::Validation(_))
    ));
}

#[test]
fn a_point_in_time_restore_refuses_a_kms_sse_override_and_accepts_the_default() {
    let (_dir, clock, db) = setup("sse");
    three_moments(&db, &clock);
    let kms = RestoreTableToPointInTimeInput::latest("src", "kms")
        .sse_specification_override(SseSpecification::new().enabled(true));
    let e = db.restore_table_to_point_in_time(kms).unwrap_err();
    assert!(e.to_string().contains("SSESpecificationOverride"), "{e}");
    assert!(matches!(e, Error::Validation(_)));
    let default = RestoreTableToPointInTimeInput::latest("src", "default")
        .sse_specification_override(SseSpecification::new().enabled(false));
    db.restore_table_to_point_in_time(default).unwrap();
    assert_eq!(items(&db, "default"), items(&db, "src"));
}

#[test]
fn two_restores_to_the_same_moment_are_equal_even_when_writes_follow_the_first() {
    let (_dir, _clock, db) = setup("fence");
    create(&db, "src");
    enable(&db, "src", None);
    put(&db, "src", "a", 1);
    // The clock does not move: the write below is in the same millisecond as the restore
    // time, yet committed after the restore, so it must not be in a restore to that time.
    restore_at(&db, "src", "first", T0).unwrap();
    put(&db, "src", "b", 1);
    restore_at(&db, "src", "second", T0).unwrap();
    assert_eq!(items(&db, "first"), rows(&[("a", 1)]));
    assert_eq!(items(&db, "second"), items(&db, "first"));
    restore_at(&db, "src", "after", T0 + 1).unwrap();
    assert_eq!(items(&db, "after"), rows(&[("a", 1), ("b", 1)]));
}

#[test]
fn commit_times_never_go_back_when_the_clock_does() {
    let (_dir, clock, db) = setup("clock-back");
    create(&db, "src");
    enable(&db, "src", None);
    clock.advance(10_000);
    put(&db, "src", "a", 1);
    clock.set(Timestamp(T0 + 1_000));
    // Committed at T0 + 10 s (the last commit time), not at the clock's T0 + 1 s.
    put(&db, "src", "b", 1);
    restore_at(&db, "src", "early", T0 + 9_999).unwrap();
    assert_eq!(items(&db, "early"), Vec::<Item>::new());
    assert_eq!(window(&db, "src").1, Timestamp(T0 + 10_000));
    restore_at(&db, "src", "late", T0 + 10_000).unwrap();
    assert_eq!(items(&db, "late"), rows(&[("a", 1), ("b", 1)]));
}

#[test]
fn a_restore_to_an_lsn_holds_exactly_the_records_up_to_it() {
    let (_dir, _clock, db) = setup("lsn");
    create(&db, "src");
    enable(&db, "src", None);
    let mut points = Vec::new();
    for v in 0..6 {
        put(&db, "src", &format!("k{}", v % 4), v);
        points.push((db.last_lsn(), items(&db, "src")));
    }
    for (i, (lsn, want)) in points.iter().enumerate() {
        let target = format!("at-{i}");
        let input = RestoreTableToPointInTimeInput::new(target.clone()).source_table_name("src");
        db.restore_table_to_lsn(input, *lsn).unwrap();
        assert_eq!(items(&db, &target), *want, "LSN {lsn}");
    }
    let past = RestoreTableToPointInTimeInput::new("past").source_table_name("src");
    assert!(matches!(
        db.restore_table_to_lsn(past, db.last_lsn() + 100),
        Err(Error::InvalidRestoreTime(_))
    ));
}

#[test]
fn restores_read_from_retained_snapshots_and_the_log_alike() {
    let (_dir, clock, db) = setup("snapshots");
    create(&db, "src");
    enable(&db, "src", None);
    let mut moments = Vec::new();
    for round in 0..5 {
        for k in 0..20 {
            put(&db, "src", &format!("k{k}"), round * 100 + k);
        }
        delete(&db, "src", &format!("k{}", round * 3));
        moments.push((clock.now().0, items(&db, "src")));
        if round % 2 == 0 {
            db.checkpoint().unwrap();
        }
        clock.advance(1_000);
    }
    assert!(db.recovery_window_usage("src").unwrap().retained_snapshots >= 2);
    for (i, (at, want)) in moments.iter().enumerate() {
        let target = format!("m-{i}");
        restore_at(&db, "src", &target, *at).unwrap();
        assert_eq!(items(&db, &target), *want, "moment {i}");
    }
}

#[test]
fn the_window_survives_reopening_the_database() {
    let (dir, clock, db) = setup("reopen");
    three_moments(&db, &clock);
    db.checkpoint().unwrap();
    put(&db, "src", "d", 4);
    drop(db);
    clock.advance(1_000);
    let db = open(&dir, &clock);
    assert_eq!(window(&db, "src"), (Timestamp(T0), Timestamp(T0 + 3_000)));
    restore_at(&db, "src", "one", T0 + 1_000).unwrap();
    assert_eq!(items(&db, "one"), rows(&[("a", 2), ("b", 1), ("c", 1)]));
}

#[test]
fn a_restore_without_recovery_enabled_is_point_in_time_recovery_unavailable() {
    let (_dir, _clock, db) = setup("unavailable");
    create(&db, "src");
    let err = restore_at(&db, "src", "xxx", T0).unwrap_err();
    assert!(
        matches!(err, Error::PointInTimeRecoveryUnavailable(_)),
        "{err}"
    );
    assert_eq!(
        err.exception_name(),
        "PointInTimeRecoveryUnavailableException"
    );
}

#[test]
fn a_restore_to_the_name_of_an_existing_table_is_table_already_exists() {
    let (_dir, _clock, db) = setup("exists");
    three_moments(&db, &ManualClock::new(Timestamp(T0)));
    create(&db, "taken");
    assert!(matches!(
        restore_at(&db, "src", "taken", T0),
        Err(Error::TableAlreadyExists(_))
    ));
    assert!(matches!(
        restore_at(&db, "src", "bad name!", T0),
        Err(Error::Validation(_))
    ));
}

#[test]
fn the_restored_table_has_the_sources_indexes_a_restore_summary_and_no_point_in_time_recovery() {
    let (_dir, clock, db) = setup("summary");
    three_moments(&db, &clock);
    let mut input = RestoreTableToPointInTimeInput::at("src", "restored", Timestamp(T0 + 1_000));
    input.source_table_name = None;
    input.source_table_arn = Some(format!("{TABLE_ARN_PREFIX}src"));
    let out = db.restore_table_to_point_in_time(input).unwrap();
    let description = out.table_description;
    assert_eq!(description.table_status, TableStatus::Creating);
    let summary = description.restore_summary.clone().unwrap();
    assert_eq!(
        summary.source_table_arn.as_deref(),
        Some(format!("{TABLE_ARN_PREFIX}src").as_str())
    );
    assert_eq!(summary.source_backup_arn, None);
    assert_eq!(summary.restore_date_time, Timestamp(T0 + 1_000));
    let json = serde_json::to_value(&description).unwrap();
    assert_eq!(
        json["RestoreSummary"]["RestoreDateTime"],
        Value::from((T0 + 1_000) as f64 / 1000.0)
    );
    // The index is rebuilt: a query on it sees the restored items.
    let by_g = db
        .scan(ScanInput::new("restored").index_name("ByG"))
        .unwrap();
    assert_eq!(by_g.items.len(), 3);
    // DynamoDB does not carry the point-in-time setting over.
    assert_eq!(
        db.describe_continuous_backups("restored")
            .unwrap()
            .continuous_backups_description
            .point_in_time_recovery_description
            .point_in_time_recovery_status,
        PointInTimeRecoveryStatus::Disabled
    );
    // An index override keeps a subset; naming an index the source lacks is rejected.
    let mut none = RestoreTableToPointInTimeInput::at("src", "no-index", Timestamp(T0));
    none.global_secondary_index_override = Some(Vec::new());
    let description = db
        .restore_table_to_point_in_time(none)
        .unwrap()
        .table_description;
    assert!(description.global_secondary_indexes.is_none());
    let mut unknown = RestoreTableToPointInTimeInput::at("src", "bad-index", Timestamp(T0));
    unknown.global_secondary_index_override = Some(vec![GlobalSecondaryIndex::new(
        "Nope",
        vec![KeySchemaElement::hash("g")],
        Projection::all(),
    )]);
    assert!(matches!(
        db.restore_table_to_point_in_time(unknown),
        Err(Error::Validation(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Retention
// ---------------------------------------------------------------------------------------------

#[test]
fn the_window_releases_snapshots_that_fall_out_of_it_and_keeps_its_base() {
    let (dir, clock, db) = setup("release");
    create(&db, "src");
    enable(&db, "src", Some(1));
    let mut last = Vec::new();
    for round in 0..8 {
        // More log than the table's size between checkpoints: each snapshot is worth keeping.
        churn(&db, "src", round);
        put(&db, "src", &format!("k{round}"), round);
        last.push((clock.now().0, items(&db, "src")));
        db.checkpoint().unwrap();
        clock.advance(6 * 3_600_000);
    }
    db.checkpoint().unwrap();
    // Six hours apart with a one-day window: the base (the newest state from before the
    // window's start) and the states inside the window, not all eight.
    let usage = db.recovery_window_usage("src").unwrap();
    assert!((3..=5).contains(&usage.retained_snapshots), "{usage:?}");
    assert_eq!(snapshot_files(&dir) as u64, usage.retained_snapshots + 1);
    // Every moment still in the window restores exactly.
    let (earliest, _) = window(&db, "src");
    let mut checked = 0;
    for (i, (at, want)) in last.iter().enumerate() {
        let result = restore_at(&db, "src", &format!("r-{i}"), *at);
        if *at >= earliest.0 {
            result.unwrap();
            assert_eq!(items(&db, &format!("r-{i}")), *want);
            checked += 1;
        } else {
            assert!(matches!(result, Err(Error::InvalidRestoreTime(_))));
        }
    }
    assert!(checked >= 3);
}

/// Rewrites one item 50 times: log, but no growth of the table.
fn churn(db: &Database, table: &str, round: i64) {
    for i in 0..50 {
        put(db, table, "churn", round * 100 + i);
    }
}

#[test]
fn checkpoints_with_little_log_between_them_do_not_each_keep_a_snapshot() {
    let (_dir, clock, db) = setup("thin");
    create(&db, "src");
    for k in 0..40 {
        put(&db, "src", &format!("k{k}"), k);
    }
    enable(&db, "src", None);
    let mut moments = Vec::new();
    for round in 0..20 {
        put(&db, "src", &format!("k{round}"), 1_000 + round);
        moments.push((clock.now().0, items(&db, "src")));
        db.checkpoint().unwrap();
        clock.advance(1_000);
    }
    // Twenty checkpoints, each after one small write to a 40-item table: keeping them all
    // would cost twenty table copies for a few hundred bytes of log.
    let usage = db.recovery_window_usage("src").unwrap();
    assert!(usage.retained_snapshots <= 3, "{usage:?}");
    assert!(
        usage.retained_snapshot_bytes <= usage.log_bytes + 4096,
        "{usage:?}"
    );
    for (i, (at, want)) in moments.iter().enumerate() {
        restore_at(&db, "src", &format!("t-{i}"), *at).unwrap();
        assert_eq!(items(&db, &format!("t-{i}")), *want, "moment {i}");
    }
}

#[test]
fn disabling_drops_the_window_and_its_files_and_enabling_again_starts_a_new_one() {
    let (dir, clock, db) = setup("disable");
    create(&db, "src");
    enable(&db, "src", None);
    for round in 0..3 {
        churn(&db, "src", round);
        db.checkpoint().unwrap();
        clock.advance(1_000);
    }
    assert!(db.recovery_window_usage("src").unwrap().retained_snapshots >= 2);
    let out = db
        .update_continuous_backups(UpdateContinuousBackupsInput::new("src", false))
        .unwrap();
    assert_eq!(
        out.continuous_backups_description
            .point_in_time_recovery_description
            .point_in_time_recovery_status,
        PointInTimeRecoveryStatus::Disabled
    );
    db.checkpoint().unwrap();
    assert_eq!(
        db.recovery_window_usage("src").unwrap().retained_snapshots,
        0
    );
    assert_eq!(snapshot_files(&dir), 1);
    assert!(matches!(
        restore_at(&db, "src", "xxx", T0),
        Err(Error::PointInTimeRecoveryUnavailable(_))
    ));
    clock.advance(1_000);
    let pitr = enable(&db, "src", None);
    assert_eq!(pitr.earliest_restorable_date_time, Some(clock.now()));
    assert!(matches!(
        restore_at(&db, "src", "xxx", T0),
        Err(Error::InvalidRestoreTime(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Deleted tables: SYSTEM backups and their windows
// ---------------------------------------------------------------------------------------------

fn list(db: &Database, filter: Option<BackupTypeFilter>) -> Vec<BackupSummary> {
    let mut input = ListBackupsInput::new();
    input.backup_type = filter;
    db.list_backups(input).unwrap().backup_summaries
}

#[test]
fn deleting_a_table_with_recovery_leaves_a_system_backup_of_its_last_state_for_35_days() {
    let (_dir, clock, db) = setup("system");
    three_moments(&db, &clock);
    let last = items(&db, "src");
    clock.advance(1_000);
    db.delete_table("src").unwrap();
    let system = list(&db, Some(BackupTypeFilter::System));
    assert_eq!(system.len(), 1);
    let backup = &system[0];
    assert_eq!(backup.backup_name, "src$DeletedTableBackup");
    assert_eq!(backup.backup_type, BackupType::System);
    assert_eq!(backup.table_name, "src");
    assert_eq!(backup.backup_creation_date_time, Timestamp(T0 + 3_000));
    assert_eq!(
        backup.backup_expiry_date_time,
        Some(Timestamp(T0 + 3_000 + 35 * DAY))
    );
    assert!(backup
        .backup_arn
        .starts_with(&format!("{TABLE_ARN_PREFIX}src/backup/{:014}-", T0 + 3_000)));
    let built = db.wait_for_backup(&backup.backup_arn, WAIT).unwrap();
    assert_eq!(built.backup_details.backup_status, BackupStatus::Available);
    db.restore_table_from_backup(RestoreTableFromBackupInput::new(
        &backup.backup_arn,
        "from-system",
    ))
    .unwrap();
    assert_eq!(items(&db, "from-system"), last);
}

#[test]
fn list_backups_filters_user_system_and_all() {
    let (_dir, clock, db) = setup("filters");
    create(&db, "users");
    put(&db, "users", "a", 1);
    let user = db.create_backup("users", "mine").unwrap().backup_details;
    three_moments(&db, &clock);
    db.delete_table("src").unwrap();
    let names = |filter| {
        list(&db, filter)
            .into_iter()
            .map(|b| b.backup_name)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(None), vec!["mine"]);
    assert_eq!(names(Some(BackupTypeFilter::User)), vec!["mine"]);
    assert_eq!(
        names(Some(BackupTypeFilter::System)),
        vec!["src$DeletedTableBackup"]
    );
    assert_eq!(
        names(Some(BackupTypeFilter::All)),
        vec!["mine", "src$DeletedTableBackup"]
    );
    assert!(names(Some(BackupTypeFilter::AwsBackup)).is_empty());
    assert_eq!(user.backup_type, BackupType::User);
    assert_eq!(user.backup_expiry_date_time, None);
}

#[test]
fn deleting_a_table_without_recovery_leaves_no_system_backup_and_no_window() {
    let (dir, _clock, db) = setup("no-system");
    create(&db, "src");
    put(&db, "src", "a", 1);
    db.checkpoint().unwrap();
    db.delete_table("src").unwrap();
    assert!(list(&db, Some(BackupTypeFilter::All)).is_empty());
    assert!(matches!(
        restore_at(&db, "src", "xxx", T0),
        Err(Error::TableNotFound(_))
    ));
    assert_eq!(snapshot_files(&dir), 0);
}

#[test]
fn a_deleted_table_can_be_restored_to_any_moment_of_its_window_up_to_its_deletion() {
    let (dir, clock, db) = setup("deleted");
    three_moments(&db, &clock);
    db.checkpoint().unwrap();
    put(&db, "src", "d", 4);
    clock.advance(1_000);
    db.delete_table("src").unwrap();
    restore_at(&db, "src", "one", T0 + 1_000).unwrap();
    assert_eq!(items(&db, "one"), rows(&[("a", 2), ("b", 1), ("c", 1)]));
    clock.advance(60_000);
    restore_at(&db, "src", "last", T0 + 3_000).unwrap();
    assert_eq!(items(&db, "last"), rows(&[("a", 2), ("c", 2), ("d", 4)]));
    assert!(matches!(
        restore_at(&db, "src", "after", T0 + 3_001),
        Err(Error::InvalidRestoreTime(_))
    ));
    // The window and its files survive a reopen.
    drop(db);
    let db = open(&dir, &clock);
    restore_at(&db, "src", "again", T0).unwrap();
    assert_eq!(items(&db, "again"), rows(&[("a", 1), ("b", 1)]));
    // A live table of the same name is the source from then on.
    create(&db, "src");
    assert!(matches!(
        restore_at(&db, "src", "live", T0),
        Err(Error::PointInTimeRecoveryUnavailable(_))
    ));
}

#[test]
fn system_backups_expire_after_35_days_and_the_deleted_tables_window_closes() {
    let (dir, clock, db) = setup("expiry");
    three_moments(&db, &clock);
    db.delete_table("src").unwrap();
    let arn = list(&db, Some(BackupTypeFilter::System))[0]
        .backup_arn
        .clone();
    db.wait_for_backup(&arn, WAIT).unwrap();
    clock.advance(35 * DAY - 2_000);
    db.checkpoint().unwrap();
    // Still there one millisecond before its expiry.
    clock.advance(1_999);
    db.checkpoint().unwrap();
    assert_eq!(list(&db, Some(BackupTypeFilter::System)).len(), 1);
    clock.advance(1);
    db.checkpoint().unwrap();
    assert!(list(&db, Some(BackupTypeFilter::All)).is_empty());
    assert!(matches!(
        db.describe_backup(&arn),
        Err(Error::BackupNotFound(_))
    ));
    assert_eq!(
        std::fs::read_dir(dir.path().join("backups"))
            .unwrap()
            .count(),
        0
    );
    // The window (35 days from the deletion) closes a millisecond later; then nothing of
    // the table is left.
    restore_at(&db, "src", "edge", T0 + 2_000).unwrap();
    db.delete_table("edge").unwrap();
    clock.advance(1);
    db.checkpoint().unwrap();
    assert!(matches!(
        restore_at(&db, "src", "xxx", T0 + 35 * DAY),
        Err(Error::TableNotFound(_))
    ));
    assert_eq!(snapshot_files(&dir), 0);
    drop(db);
    let db = open(&dir, &clock);
    assert!(list(&db, Some(BackupTypeFilter::All)).is_empty());
}

#[test]
fn an_expired_system_backup_is_removed_when_the_database_opens() {
    let (dir, clock, db) = setup("expiry-open");
    three_moments(&db, &clock);
    db.delete_table("src").unwrap();
    let arn = list(&db, Some(BackupTypeFilter::System))[0]
        .backup_arn
        .clone();
    db.wait_for_backup(&arn, WAIT).unwrap();
    drop(db);
    clock.advance(36 * DAY);
    let db = open(&dir, &clock);
    assert!(list(&db, Some(BackupTypeFilter::All)).is_empty());
    drop(db);
    let db = open(&dir, &clock);
    assert!(list(&db, Some(BackupTypeFilter::All)).is_empty());
}

#[test]
fn a_deleted_table_stays_deleted_when_its_retirement_failed_and_the_log_moved_on() {
    use tidestore::fs::sim::{FaultError, FaultPlan, OpKind, SimFs};
    for pitr in [false, true] {
        let sim = SimFs::new();
        let clock = Arc::new(ManualClock::new(Timestamp(T0)));
        let options = || {
            Options::default()
                .fs(Arc::new(sim.clone()))
                .clock(clock.clone())
                .segment_bytes(4096)
                .background_worker(false)
        };
        let db = Database::open_with("/db", options()).unwrap();
        create(&db, "gone");
        create(&db, "kept");
        if pitr {
            enable(&db, "gone", Some(1));
        }
        put(&db, "gone", "a", 1);
        db.checkpoint().unwrap();
        // The deletion is logged; replacing the catalog that retires the table fails.
        sim.fail_at(FaultPlan {
            at_op: sim.op_count() + 1,
            on: OpKind::Rename,
            error: FaultError::Eio,
            persistent: false,
        });
        db.delete_table("gone").unwrap();
        assert!(db.maintenance_error().is_some(), "the fault did not fire");
        // Enough writes to close segments, and checkpoints that drop the log no one needs.
        clock.advance(2 * DAY);
        for i in 0..200 {
            put(&db, "kept", &format!("k{i}"), i);
        }
        db.checkpoint().unwrap();
        db.checkpoint().unwrap();
        drop(db);
        let db = Database::open_with("/db", options()).unwrap();
        assert!(
            matches!(db.describe_table("gone"), Err(Error::ResourceNotFound(_))),
            "pitr={pitr}: the deleted table came back"
        );
        assert_eq!(items(&db, "kept").len(), 200);
    }
}
