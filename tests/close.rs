//! A clean close — `Database::close`, or dropping the last handle — leaves the directory so
//! that the next open reads snapshots instead of replaying the log, loses nothing, and
//! reports what went wrong (`close`) without making anything acknowledged undurable.

mod support;

use support::{dump, run, sim_options, workload, Op};
use tidestore::fs::sim::{CrashPolicy, FaultError, FaultPlan, HookFs, OpKind, SimFs};
use tidestore::{Database, Error};

const DIR: &str = "/db";

fn log_segments(fs: &SimFs) -> Vec<std::path::PathBuf> {
    fs.paths()
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".wal"))
        .collect()
}

fn without_backups(ops: &[Op]) -> impl Iterator<Item = &Op> {
    ops.iter().filter(|op| !matches!(op, Op::Backup(..)))
}

/// Checks that the log an open reads holds no record: the open reads one segment, its
/// header alone (the length of a new database's), so the tables it has come from their
/// snapshots alone. The log before that segment is there only for the workload's table
/// with a stream, whose records it keeps and an open does not read. (Removing the segment
/// read is `Corruption`, as for any segment the log names: the directory cannot tell that
/// it held nothing; see `tests/corruption.rs`.)
fn assert_the_log_holds_no_record(fs: &SimFs) {
    let fresh = SimFs::new();
    drop(Database::open_with(DIR, sim_options(&fresh)).expect("opens"));
    let header = fresh.file_bytes(&log_segments(&fresh)[0]).expect("segment");
    let segments = log_segments(fs);
    let newest = segments.iter().max().expect("a segment");
    let left = fs.file_bytes(newest).expect("segment");
    assert_eq!(left.len(), header.len(), "the newest segment holds records");
    // What an open of (a copy of) the directory reads of the log.
    let copy = fs.after_crash(CrashPolicy::DropUnsynced, 0);
    let read = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let hooked = {
        let read = std::sync::Arc::clone(&read);
        HookFs::new(std::sync::Arc::new(copy), move |kind, path| {
            if kind == OpKind::Read && path.to_string_lossy().ends_with(".wal") {
                read.lock().expect("lock").insert(path.to_owned());
            }
            Ok(())
        })
    };
    let reopened = Database::open_with(DIR, sim_options(fs).fs(std::sync::Arc::new(hooked)));
    // (Its close reads the first record of each segment, for the stream's retention.)
    let read: Vec<_> = read.lock().expect("lock").iter().cloned().collect();
    drop(reopened.expect("reopens"));
    assert_eq!(
        read,
        std::slice::from_ref(newest),
        "the open read more log than its newest segment"
    );
}

#[test]
fn after_a_clean_close_the_snapshots_alone_hold_every_table() {
    for close_explicitly in [true, false] {
        let fs = SimFs::new();
        let db = Database::open_with(DIR, sim_options(&fs)).expect("opens");
        // No backup: a pending one keeps the log it is built from, as it must.
        for op in without_backups(&workload(11, 120)) {
            run(&db, op).expect("workload runs");
        }
        let state = dump(&db);
        if close_explicitly {
            db.close().expect("close");
        } else {
            drop(db);
        }
        // Every record is in a snapshot now: the log holds none, and the database is the
        // same.
        assert_the_log_holds_no_record(&fs);
        let reopened = Database::open_with(DIR, sim_options(&fs)).expect("reopens");
        assert_eq!(
            dump(&reopened),
            state,
            "close_explicitly={close_explicitly}"
        );
    }
}

/// The log after a close is one segment holding no record, so the next open reads a header
/// instead of up to a segment of records its snapshots already hold.
#[test]
fn a_clean_close_leaves_one_log_segment_with_no_record() {
    let fs = SimFs::new();
    let db = Database::open_with(DIR, sim_options(&fs)).expect("opens");
    // No checkpoint in the workload: the log keeps every segment until the close. (Nor a
    // backup: a pending one keeps the log it is built from, as it must.)
    for op in workload(12, 150)
        .iter()
        .filter(|op| !matches!(op, Op::Checkpoint | Op::Backup(..)))
    {
        run(&db, op).expect("workload runs");
    }
    assert!(log_segments(&fs).len() > 1, "the workload rotated segments");
    db.close().expect("close");
    assert_the_log_holds_no_record(&fs);
}

#[test]
fn close_reports_a_failed_sync_and_loses_nothing_acknowledged() {
    let fs = SimFs::new();
    let db = Database::open_with(DIR, sim_options(&fs)).expect("opens");
    for op in &workload(13, 60) {
        run(&db, op).expect("workload runs");
    }
    let state = dump(&db);
    // The next sync (the close's snapshot file) fails.
    fs.fail_at(FaultPlan {
        at_op: fs.op_count() + 1,
        on: OpKind::Sync,
        error: FaultError::Eio,
        persistent: false,
    });
    let error = db.close().expect_err("the close's sync failed");
    assert!(matches!(error, Error::Io { .. }), "{error}");
    let image = fs.after_crash(CrashPolicy::DropUnsynced, 0);
    let reopened = Database::open_with(DIR, sim_options(&image)).expect("reopens");
    assert_eq!(dump(&reopened), state);
}

#[test]
fn closing_one_clone_leaves_the_database_open_for_the_others() {
    let fs = SimFs::new();
    let db = Database::open_with(DIR, sim_options(&fs)).expect("opens");
    let other = db.clone();
    for op in &workload(14, 30) {
        run(&db, op).expect("workload runs");
    }
    db.close().expect("close of one clone");
    for op in &workload(15, 30)[3..] {
        run(&other, op).expect("the other clone still writes");
    }
    let state = dump(&other);
    drop(other);
    let reopened = Database::open_with(DIR, sim_options(&fs)).expect("reopens");
    assert_eq!(dump(&reopened), state);
}

#[test]
fn a_clean_close_after_recovery_snapshots_the_log_recovery_replayed() {
    let fs = SimFs::new();
    let db = Database::open_with(DIR, sim_options(&fs)).expect("opens");
    for op in without_backups(&workload(16, 120)) {
        run(&db, op).expect("workload runs");
    }
    // A write to each table after its last snapshot: recovery replays every table. (A table
    // the log holds nothing for since its snapshot keeps the log after that snapshot.)
    for table in dump(&db).into_keys() {
        run(&db, &Op::Put(table, 1, 1)).expect("put");
    }
    let state = dump(&db);
    // The process dies: what is on disk is the durable image, log and all.
    let image = fs.after_crash(CrashPolicy::DropUnsynced, 0);
    drop(db);
    let recovered = Database::open_with(DIR, sim_options(&image)).expect("recovers");
    assert_eq!(dump(&recovered), state);
    // No write after recovery, then a clean close: still, the snapshots alone hold it all.
    recovered.close().expect("close");
    assert_the_log_holds_no_record(&image);
    let reopened = Database::open_with(DIR, sim_options(&image)).expect("reopens");
    assert_eq!(dump(&reopened), state);
}

#[test]
fn without_snapshot_on_close_a_close_leaves_the_log_to_replay() {
    let fs = SimFs::new();
    let options = || sim_options(&fs).snapshot_on_close(false);
    let db = Database::open_with(DIR, options()).expect("opens");
    for op in workload(17, 150)
        .iter()
        .filter(|op| !matches!(op, Op::Checkpoint | Op::Backup(..)))
    {
        run(&db, op).expect("workload runs");
    }
    let state = dump(&db);
    let segments = log_segments(&fs).len();
    assert!(segments > 1, "the workload rotated segments");
    db.close().expect("close");
    assert_eq!(log_segments(&fs).len(), segments, "the log stays");
    let reopened = Database::open_with(DIR, options()).expect("reopens");
    assert_eq!(dump(&reopened), state);
}
