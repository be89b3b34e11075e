//! Background work that must neither wedge nor hold anyone up: a backup whose build keeps
//! failing holds back no other work and ends, if it must, as an error `wait_for_backup`
//! reports; no lock that writers, describes and lists need is held while a backup request,
//! deletion or build waits for a sync, and a restore's copy holds back no DDL of other tables.
//!
//! The faults and holds come from `HookFs`, which picks one operation by kind, path and thread.
#![allow(clippy::unwrap_used)] // a test: an unexpected error is a failure

use std::io;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tidestore::fs::sim::{HookFs, OpKind, SimFs};
use tidestore::ScalarAttributeType::S;
use tidestore::*;

/// The seed's example time: 2019-12-17T20:59:26.715Z.
const T0: u64 = 1_576_616_366_715;
const WAIT: Duration = Duration::from_secs(20);
/// How long an operation that should not wait for a held one may take before it counts as
/// waiting.
const PROMPT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Operations of one kind whose path contains `path`, made by the thread named `thread` (any
/// thread if `None`).
#[derive(Clone, Debug)]
struct Pick {
    kind: OpKind,
    path: String,
    thread: Option<&'static str>,
}

impl Pick {
    fn new(kind: OpKind, path: &str, thread: Option<&'static str>) -> Pick {
        Pick {
            kind,
            path: path.into(),
            thread,
        }
    }

    fn matches(&self, kind: OpKind, path: &Path) -> bool {
        self.kind == kind
            && path.to_string_lossy().contains(&self.path)
            && self
                .thread
                .is_none_or(|t| std::thread::current().name() == Some(t))
    }
}

/// The test's side of a `HookFs`: the operations matching `fail` fail with EIO; the first
/// one matching `hold` waits until `release` (or, as a backstop against a test that fails
/// while it is held, a minute).
#[derive(Default)]
struct Control {
    fail: Mutex<Option<Pick>>,
    hold: Mutex<Option<Pick>>,
    /// (an operation is held, it was released)
    held: Mutex<(bool, bool)>,
    cv: Condvar,
}

impl Control {
    fn new() -> Arc<Control> {
        Arc::new(Control::default())
    }

    /// `inner` with this control's hook.
    fn fs(self: &Arc<Control>, inner: Arc<dyn tidestore::fs::Vfs>) -> Arc<HookFs> {
        let control = Arc::clone(self);
        Arc::new(HookFs::new(inner, move |kind, path| {
            control.hook(kind, path)
        }))
    }

    fn hook(&self, kind: OpKind, path: &Path) -> io::Result<()> {
        let fail = self.fail.lock().unwrap();
        if fail.as_ref().is_some_and(|p| p.matches(kind, path)) {
            return Err(io::Error::from_raw_os_error(5));
        }
        drop(fail);
        let mut hold = self.hold.lock().unwrap();
        if !hold.as_ref().is_some_and(|p| p.matches(kind, path)) {
            return Ok(());
        }
        *hold = None;
        drop(hold);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut held = self.held.lock().unwrap();
        held.0 = true;
        self.cv.notify_all();
        while !held.1 && Instant::now() < deadline {
            held = self
                .cv
                .wait_timeout(held, Duration::from_secs(1))
                .unwrap()
                .0;
        }
        Ok(())
    }

    fn fail(&self, pick: Option<Pick>) {
        *self.fail.lock().unwrap() = pick;
    }

    /// Holds the next operation matching `pick`.
    fn hold(&self, pick: Pick) {
        *self.held.lock().unwrap() = (false, false);
        *self.hold.lock().unwrap() = Some(pick);
    }

    fn wait_held(&self) {
        let deadline = Instant::now() + WAIT;
        let mut held = self.held.lock().unwrap();
        while !held.0 {
            assert!(
                Instant::now() < deadline,
                "the operation to hold never came"
            );
            held = self
                .cv
                .wait_timeout(held, Duration::from_millis(50))
                .unwrap()
                .0;
        }
    }

    fn release(&self) {
        self.held.lock().unwrap().1 = true;
        self.cv.notify_all();
    }
}

/// Releases the held operation when dropped, so that a failing test never leaves a thread
/// (or the database's worker) held. Declare it after the database.
struct ReleaseOnDrop(Arc<Control>);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// Runs `check` on a thread of its own while an operation is held, and fails if it has not
/// finished within [`PROMPT`]: it waits for the held operation. (That is released then, so a
/// check that waits ends the test instead of hanging it.)
#[track_caller]
fn goes_on<T: Send + 'static>(
    control: &Control,
    what: &str,
    check: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(check());
    });
    match rx.recv_timeout(PROMPT) {
        Ok(value) => value,
        Err(RecvTimeoutError::Timeout) => {
            control.release();
            panic!("{what} waited for the held operation");
        }
        Err(RecvTimeoutError::Disconnected) => panic!("{what} failed (see its panic above)"),
    }
}

/// Runs `op` on a thread named `name`.
fn spawn<T: Send + 'static>(
    name: &'static str,
    op: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(op)
        .unwrap()
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Timestamp(T0)))
}

/// Options for a database on `fs` with `clock` and no background worker: maintenance runs
/// in `checkpoint` and `wait_for_backup` only, so each round is the test's.
fn foreground(fs: Arc<HookFs>, clock: &Arc<ManualClock>) -> Options {
    Options::default()
        .fs(fs)
        .clock(clock.clone())
        .background_worker(false)
        .segment_bytes(4096)
}

/// Options for a database on `fs` with the background worker, which also wakes every 10 ms on
/// its own (so that it sees the manual clock move).
fn with_worker(fs: Arc<HookFs>, clock: &Arc<ManualClock>) -> Options {
    foreground(fs, clock)
        .background_worker(true)
        .maintenance_interval(Duration::from_millis(10))
}

fn create(db: &Database, name: &str) {
    db.create_table(
        CreateTableInput::new(name)
            .hash_key("pk", S)
            .pay_per_request(),
    )
    .unwrap();
}

fn row(pk: &str, v: i64) -> Item {
    Item::from([
        ("pk".to_string(), AttributeValue::s(pk)),
        ("v".to_string(), AttributeValue::number(v)),
        ("pad".to_string(), AttributeValue::s("x".repeat(100))),
    ])
}

fn put(db: &Database, table: &str, pk: &str, v: i64) {
    db.put_item(PutItemInput::new(table, row(pk, v))).unwrap();
}

fn items(db: &Database, table: &str) -> Vec<Item> {
    let mut items = db.scan(ScanInput::new(table)).unwrap().items;
    items.sort();
    items
}

fn backup(db: &Database, table: &str) -> String {
    db.create_backup(table, &format!("{table}-backup"))
        .unwrap()
        .backup_details
        .backup_arn
}

fn status(db: &Database, arn: &str) -> BackupStatus {
    db.describe_backup(arn)
        .unwrap()
        .backup_description
        .backup_details
        .backup_status
}

/// The part of a backup's file name that is its own: the end of its ARN.
fn file_of(arn: &str) -> String {
    arn.rsplit('/').next().unwrap().to_owned()
}

/// The log's segment files, oldest first.
fn segments(sim: &SimFs) -> Vec<String> {
    let paths = sim.paths().into_iter();
    let wal =
        paths.filter(|p| p.starts_with("/db/wal") && p.extension().is_some_and(|e| e == "wal"));
    wal.map(|p| p.to_string_lossy().into_owned()).collect()
}

fn snapshots_of(sim: &SimFs, db: &Database, table: &str) -> usize {
    let id = db.describe_table(table).unwrap().table_id;
    let paths = sim.paths().into_iter();
    paths
        .filter(|p| p.starts_with("/db/snapshots") && p.to_string_lossy().contains(&id))
        .count()
}

#[track_caller]
fn io_error_of<T: std::fmt::Debug>(result: Result<T>) -> io::Error {
    match result {
        Err(Error::Io { source, .. }) => source,
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

/// Retries the failing build of `arn` each time its backoff has passed on `clock` (each
/// `wait_for_backup` attempts it once and answers its error) until it fails for good.
/// Returns the backoffs it waited.
fn fail_for_good(db: &Database, clock: &ManualClock, arn: &str) -> Vec<u64> {
    let mut backoffs = Vec::new();
    loop {
        let progress = db.backup_progress(arn).unwrap();
        let Some(retry_at) = progress.retry_at else {
            assert!(progress.failed_for_good);
            return backoffs;
        };
        assert!(backoffs.len() < 20, "the build never failed for good");
        backoffs.push(retry_at.0 - clock.now().0);
        clock.set(retry_at);
        let error = io_error_of(db.wait_for_backup(arn, WAIT));
        assert_eq!(error.raw_os_error(), Some(5));
    }
}

#[track_caller]
fn exception<T: std::fmt::Debug>(result: Result<T>, name: &str) {
    match result {
        Err(e) => assert_eq!(e.exception_name(), name, "{e}"),
        Ok(value) => panic!("expected {name}, got {value:?}"),
    }
}

fn enable_pitr(db: &Database, table: &str) {
    db.update_continuous_backups(UpdateContinuousBackupsInput::new(table, true))
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// A build that keeps failing
// ---------------------------------------------------------------------------------------------

#[test]
fn a_backup_whose_build_keeps_failing_holds_back_no_other_backup_snapshot_or_log_truncation() {
    let sim = SimFs::new();
    let control = Control::new();
    let clock = clock();
    let options = foreground(control.fs(Arc::new(sim.clone())), &clock);
    let db = Database::open_with("/db", options.clone()).unwrap();
    create(&db, "Busy");
    for i in 0..200 {
        put(&db, "Busy", &format!("k{}", i % 10), i);
    }
    create(&db, "Failing");
    put(&db, "Failing", "only", 1);
    let expected = items(&db, "Failing");
    let failing = backup(&db, "Failing");
    // Every creation of this backup's file fails, whatever else happens.
    control.fail(Some(Pick::new(OpKind::Create, &file_of(&failing), None)));
    let later = backup(&db, "Busy");
    let first_segment = segments(&sim)[0].clone();

    db.checkpoint().unwrap();
    // The build failed and was not retried first thing; everything else went on.
    assert_eq!(status(&db, &later), BackupStatus::Available);
    assert_eq!(snapshots_of(&sim, &db, "Busy"), 1);
    assert!(
        !segments(&sim).contains(&first_segment),
        "the log was not truncated: {:?}",
        segments(&sim)
    );
    let progress = db.backup_progress(&failing).unwrap();
    assert_eq!(progress.failed_attempts, 1);
    assert_eq!(progress.retry_at, Some(Timestamp(T0 + 1_000)));
    assert!(!progress.failed_for_good);
    let last_error = progress.last_error.unwrap();
    assert!(last_error.contains("os error 5"), "{last_error}");
    assert_eq!(status(&db, &failing), BackupStatus::Creating);

    // Its backoff runs on the database's clock: no retry before it has passed.
    db.checkpoint().unwrap();
    assert_eq!(db.backup_progress(&failing).unwrap().failed_attempts, 1);
    exception(
        db.wait_for_backup(&failing, Duration::ZERO),
        "BackupInUseException",
    );
    assert_eq!(db.backup_progress(&failing).unwrap().failed_attempts, 1);

    let backoffs = fail_for_good(&db, &clock, &failing);
    assert_eq!(backoffs, [1, 2, 4, 8, 16, 32, 60].map(|s| s * 1_000));
    let progress = db.backup_progress(&failing).unwrap();
    assert_eq!((progress.failed_attempts, progress.retry_at), (8, None));
    // Failed for good: its error at once, however long the caller would wait.
    let started = Instant::now();
    let error = io_error_of(db.wait_for_backup(&failing, WAIT));
    assert_eq!(error.raw_os_error(), Some(5));
    assert!(started.elapsed() < WAIT / 2);
    assert_eq!(status(&db, &failing), BackupStatus::Creating);
    // Never retried again in this run, and still holding nothing back.
    clock.advance(3_600_000);
    let another = backup(&db, "Busy");
    db.checkpoint().unwrap();
    assert_eq!(db.backup_progress(&failing).unwrap().failed_attempts, 8);
    assert_eq!(status(&db, &another), BackupStatus::Available);

    // It is not lost: reopened with the fault gone, the backup is built (I7).
    drop(db);
    control.fail(None);
    let db = Database::open_with("/db", options).unwrap();
    let built = db.wait_for_backup(&failing, WAIT).unwrap();
    assert_eq!(built.backup_details.backup_status, BackupStatus::Available);
    db.restore_table_from_backup(RestoreTableFromBackupInput::new(&failing, "Restored"))
        .unwrap();
    assert_eq!(items(&db, "Restored"), expected);
}

#[test]
fn a_backup_that_failed_for_good_can_be_deleted_and_then_so_can_its_table() {
    let sim = SimFs::new();
    let control = Control::new();
    let clock = clock();
    let options = foreground(control.fs(Arc::new(sim.clone())), &clock);
    let db = Database::open_with("/db", options.clone()).unwrap();
    create(&db, "Failing");
    put(&db, "Failing", "only", 1);
    control.fail(Some(Pick::new(OpKind::Create, "/backups/", None)));
    let failing = backup(&db, "Failing");
    io_error_of(db.wait_for_backup(&failing, WAIT));
    // Still being retried: in use.
    exception(db.delete_backup(&failing), "BackupInUseException");
    fail_for_good(&db, &clock, &failing);

    exception(db.delete_table("Failing"), "ResourceInUseException");
    let deleted = db.delete_backup(&failing).unwrap().backup_description;
    assert_eq!(deleted.backup_details.backup_status, BackupStatus::Deleted);
    exception(db.describe_backup(&failing), "BackupNotFoundException");
    db.delete_table("Failing").unwrap();
    drop(db);
    control.fail(None);
    let db = Database::open_with("/db", options).unwrap();
    exception(db.describe_backup(&failing), "BackupNotFoundException");
}

#[test]
fn a_build_retried_after_failing_part_way_counts_each_item_once() {
    let control = Control::new();
    let clock = clock();
    let options = foreground(control.fs(Arc::new(SimFs::new())), &clock);
    let db = Database::open_with("/db", options).unwrap();
    create(&db, "Music");
    for i in 0..20 {
        put(&db, "Music", &format!("k{i}"), i);
    }
    // The file's final sync fails: every item was written (and counted) by then.
    control.fail(Some(Pick::new(OpKind::Sync, "/backups/", None)));
    let arn = backup(&db, "Music");
    io_error_of(db.wait_for_backup(&arn, WAIT));
    assert_eq!(db.backup_progress(&arn).unwrap().failed_attempts, 1);
    control.fail(None);
    clock.advance(1_000);
    let built = db.wait_for_backup(&arn, WAIT).unwrap();
    assert_eq!(built.source_table_details.item_count, 20);
    let progress = db.backup_progress(&arn).unwrap();
    assert_eq!(progress.items_done, 20);
    assert_eq!(progress.bytes_done, progress.bytes_total);
}

// ---------------------------------------------------------------------------------------------
// wait_for_backup
// ---------------------------------------------------------------------------------------------

#[test]
fn wait_for_backup_wakes_with_the_builds_io_error_once_it_failed_for_good() {
    let sim = SimFs::new();
    let control = Control::new();
    let clock = clock();
    control.fail(Some(Pick::new(OpKind::Create, "/backups/", None)));
    let db = Database::open_with(
        "/db",
        with_worker(control.fs(Arc::new(sim.clone())), &clock),
    )
    .unwrap();
    create(&db, "Failing");
    put(&db, "Failing", "only", 1);
    let arn = backup(&db, "Failing");
    let waiter = {
        let (db, arn) = (db.clone(), arn.clone());
        spawn("waiter", move || {
            let started = Instant::now();
            (
                db.wait_for_backup(&arn, Duration::from_secs(60)),
                started.elapsed(),
            )
        })
    };
    // The worker retries each time the clock passes the backoff.
    let deadline = Instant::now() + WAIT;
    loop {
        let progress = db.backup_progress(&arn).unwrap();
        if progress.failed_for_good {
            break;
        }
        assert!(Instant::now() < deadline, "the build never failed for good");
        if let Some(retry_at) = progress.retry_at {
            clock.set(retry_at.max(clock.now()));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let (result, waited) = waiter.join().unwrap();
    assert_eq!(io_error_of(result).raw_os_error(), Some(5));
    assert!(waited < Duration::from_secs(30), "woken late: {waited:?}");
}

#[test]
fn wait_for_backup_times_out_with_backup_in_use_and_wakes_when_the_build_finishes() {
    let sim = SimFs::new();
    let control = Control::new();
    let clock = clock();
    let db = Database::open_with(
        "/db",
        with_worker(control.fs(Arc::new(sim.clone())), &clock),
    )
    .unwrap();
    let _release = ReleaseOnDrop(control.clone());
    create(&db, "Music");
    put(&db, "Music", "a", 1);
    control.hold(Pick::new(
        OpKind::Sync,
        "/backups/",
        Some("tidestore-maintenance"),
    ));
    let arn = backup(&db, "Music");
    control.wait_held();

    let started = Instant::now();
    exception(
        db.wait_for_backup(&arn, Duration::from_millis(50)),
        "BackupInUseException",
    );
    assert!(started.elapsed() >= Duration::from_millis(50));
    let waiter = {
        let (db, arn) = (db.clone(), arn.clone());
        spawn("waiter", move || {
            db.wait_for_backup(&arn, Duration::from_secs(60))
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    let released = Instant::now();
    control.release();
    let built = waiter.join().unwrap().unwrap();
    assert_eq!(built.backup_details.backup_status, BackupStatus::Available);
    assert!(released.elapsed() < PROMPT);
}

// ---------------------------------------------------------------------------------------------
// The backup registry is not held across a sync
// ---------------------------------------------------------------------------------------------

/// Describes and lists of tables and backups, and a write: what must never wait for a backup
/// request, deletion or build.
fn reads_and_a_write(db: &Database, backup_arn: &str, table: &str) {
    assert_eq!(status(db, backup_arn), BackupStatus::Available);
    assert!(!db
        .list_backups(ListBackupsInput::default())
        .unwrap()
        .backup_summaries
        .is_empty());
    db.describe_table(table).unwrap();
    db.list_tables(ListTablesInput::default()).unwrap();
    put(db, table, "written-meanwhile", 1);
}

#[test]
fn describes_lists_writes_and_ddl_go_on_while_a_backup_request_waits_for_its_log_sync() {
    let sim = SimFs::new();
    let control = Control::new();
    let clock = clock();
    // Buffered: a write needs no sync, `create_backup` (and a deletion that promises a
    // SYSTEM backup) does, for its record.
    let options =
        foreground(control.fs(Arc::new(sim.clone())), &clock).durability(Durability::Buffered);
    let db = Database::open_with("/db", options).unwrap();
    let _release = ReleaseOnDrop(control.clone());
    create(&db, "Music");
    create(&db, "Other");
    put(&db, "Music", "a", 1);
    let built = backup(&db, "Music");
    db.wait_for_backup(&built, WAIT).unwrap();

    control.hold(Pick::new(OpKind::Sync, "/wal/", Some("requester")));
    let request = spawn("requester", {
        let db = db.clone();
        move || db.create_backup("Music", "requested")
    });
    control.wait_held();
    goes_on(&control, "describes, lists, a write and DDL", {
        let (db, built) = (db.clone(), built.clone());
        move || {
            reads_and_a_write(&db, &built, "Other");
            create(&db, "Third");
        }
    });
    control.release();
    // (A table's deletion makes its record durable before the catalog retires the table,
    // in this mode too: it waits for the log's sync as the request does.)
    db.delete_table("Third").unwrap();
    let requested = request.join().unwrap().unwrap().backup_details.backup_arn;
    db.wait_for_backup(&requested, WAIT).unwrap();

    // A deletion that leaves a SYSTEM backup syncs its record too.
    enable_pitr(&db, "Music");
    control.hold(Pick::new(OpKind::Sync, "/wal/", Some("deleter")));
    let deletion = spawn("deleter", {
        let db = db.clone();
        move || db.delete_table("Music")
    });
    control.wait_held();
    goes_on(&control, "describes, lists and a write", {
        let (db, built) = (db.clone(), built.clone());
        move || reads_and_a_write(&db, &built, "Other")
    });
    control.release();
    deletion.join().unwrap().unwrap();
}

#[test]
fn describes_and_lists_go_on_while_a_backup_deletion_waits_for_its_log_sync() {
    let sim = SimFs::new();
    let control = Control::new();
    let clock = clock();
    let db =
        Database::open_with("/db", foreground(control.fs(Arc::new(sim.clone())), &clock)).unwrap();
    let _release = ReleaseOnDrop(control.clone());
    create(&db, "Music");
    put(&db, "Music", "a", 1);
    let kept = backup(&db, "Music");
    let doomed = backup(&db, "Music");
    db.wait_for_backup(&kept, WAIT).unwrap();
    db.wait_for_backup(&doomed, WAIT).unwrap();

    // In the default mode the deletion's record is synced by its own group commit.
    control.hold(Pick::new(OpKind::Sync, "/wal/", Some("deleter")));
    let deletion = spawn("deleter", {
        let (db, doomed) = (db.clone(), doomed.clone());
        move || db.delete_backup(&doomed)
    });
    control.wait_held();
    goes_on(&control, "describes and lists", {
        let (db, kept, doomed) = (db.clone(), kept.clone(), doomed.clone());
        move || {
            assert_eq!(status(&db, &kept), BackupStatus::Available);
            // The one being deleted says so, and cannot be deleted or restored twice.
            assert_eq!(status(&db, &doomed), BackupStatus::Deleted);
            exception(db.delete_backup(&doomed), "BackupInUseException");
            exception(
                db.restore_table_from_backup(RestoreTableFromBackupInput::new(&doomed, "Copy")),
                "BackupInUseException",
            );
            db.list_backups(ListBackupsInput::default()).unwrap();
            db.describe_table("Music").unwrap();
            db.list_tables(ListTablesInput::default()).unwrap();
        }
    });
    control.release();
    deletion.join().unwrap().unwrap();
    exception(db.describe_backup(&doomed), "BackupNotFoundException");
}

#[test]
fn everything_else_goes_on_while_a_backup_build_is_held_in_its_fsync() {
    let sim = SimFs::new();
    let control = Control::new();
    let clock = clock();
    let db = Database::open_with(
        "/db",
        with_worker(control.fs(Arc::new(sim.clone())), &clock),
    )
    .unwrap();
    let _release = ReleaseOnDrop(control.clone());
    create(&db, "Music");
    put(&db, "Music", "a", 1);
    let built = backup(&db, "Music");
    db.wait_for_backup(&built, WAIT).unwrap();
    control.hold(Pick::new(
        OpKind::Sync,
        "/backups/",
        Some("tidestore-maintenance"),
    ));
    let held = backup(&db, "Music");
    control.wait_held();
    goes_on(&control, "describes, lists, writes and DDL", {
        let (db, built, held) = (db.clone(), built.clone(), held.clone());
        move || {
            reads_and_a_write(&db, &built, "Music");
            assert_eq!(status(&db, &held), BackupStatus::Creating);
            create(&db, "Other");
            db.delete_table("Other").unwrap();
        }
    });
    control.release();
    db.wait_for_backup(&held, WAIT).unwrap();
}

// ---------------------------------------------------------------------------------------------
// A restore copies without the DDL lock
// ---------------------------------------------------------------------------------------------

/// What must go on while a restore into `Restored` copies: DDL, reads and writes of other
/// tables, and a second restore into another name; the target's name is taken meanwhile.
fn while_a_restore_copies(db: &Database, backup_arn: &str) {
    assert_eq!(status(db, backup_arn), BackupStatus::Available);
    db.list_backups(ListBackupsInput::default()).unwrap();
    create(db, "Other");
    let mut update = UpdateTableInput::new("Other");
    update.billing_mode = Some(BillingMode::Provisioned);
    update.provisioned_throughput = Some(ProvisionedThroughput::new(5, 5));
    db.update_table(update).unwrap();
    put(db, "Other", "a", 1);
    db.delete_table("Other").unwrap();
    put(db, "Music", "written-meanwhile", 1);
    db.describe_table("Music").unwrap();
    let listed = db.list_tables(ListTablesInput::default()).unwrap();
    assert!(!listed.table_names.contains(&"Restored".to_string()));
    exception(
        db.create_table(
            CreateTableInput::new("Restored")
                .hash_key("pk", S)
                .pay_per_request(),
        ),
        "ResourceInUseException",
    );
    exception(
        db.restore_table_from_backup(RestoreTableFromBackupInput::new(backup_arn, "Restored")),
        "TableAlreadyExistsException",
    );
    db.restore_table_from_backup(RestoreTableFromBackupInput::new(backup_arn, "Second"))
        .unwrap();
}

/// A database with table `Music` and a built backup of it, whose restores can be held.
fn restorable() -> (Database, Arc<Control>, Arc<ManualClock>, String, Vec<Item>) {
    let control = Control::new();
    let clock = clock();
    let db = Database::open_with(
        "/db",
        foreground(control.fs(Arc::new(SimFs::new())), &clock),
    )
    .unwrap();
    create(&db, "Music");
    for i in 0..20 {
        put(&db, "Music", &format!("k{i}"), i);
    }
    let expected = items(&db, "Music");
    let arn = backup(&db, "Music");
    db.wait_for_backup(&arn, WAIT).unwrap();
    (db, control, clock, arn, expected)
}

#[test]
fn other_tables_ddl_reads_and_writes_go_on_while_a_restore_copies() {
    let (db, control, _clock, arn, expected) = restorable();
    let _release = ReleaseOnDrop(control.clone());
    // The sync of the restored table's first snapshot, before it is renamed into place.
    control.hold(Pick::new(OpKind::Sync, ".snap.tmp", Some("restorer")));
    let restore = spawn("restorer", {
        let (db, arn) = (db.clone(), arn.clone());
        move || db.restore_table_from_backup(RestoreTableFromBackupInput::new(&arn, "Restored"))
    });
    control.wait_held();
    goes_on(&control, "DDL, reads and writes of other tables", {
        let (db, arn) = (db.clone(), arn.clone());
        move || while_a_restore_copies(&db, &arn)
    });
    control.release();
    restore.join().unwrap().unwrap();
    assert_eq!(items(&db, "Restored"), expected);
    assert_eq!(items(&db, "Second"), expected);
}

#[test]
fn other_tables_ddl_reads_and_writes_go_on_while_a_point_in_time_restore_copies() {
    let (db, control, clock, arn, expected) = restorable();
    let _release = ReleaseOnDrop(control.clone());
    enable_pitr(&db, "Music");
    clock.advance(1_000);
    let at = clock.now();
    clock.advance(1_000);
    control.hold(Pick::new(OpKind::Sync, ".snap.tmp", Some("restorer")));
    let restore = spawn("restorer", {
        let db = db.clone();
        move || {
            db.restore_table_to_point_in_time(RestoreTableToPointInTimeInput::at(
                "Music", "Restored", at,
            ))
        }
    });
    control.wait_held();
    goes_on(&control, "DDL, reads and writes of other tables", {
        let (db, arn) = (db.clone(), arn.clone());
        move || while_a_restore_copies(&db, &arn)
    });
    control.release();
    restore.join().unwrap().unwrap();
    assert_eq!(items(&db, "Restored"), expected);
}
