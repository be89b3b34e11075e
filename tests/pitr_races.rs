//! Regression tests for defects a review of point-in-time recovery found, each reproduced
//! before its fix: a running restore losing the snapshot it pinned when an unchanged
//! checkpoint moved that snapshot's LSN; a longer recovery period reporting an earliest
//! moment whose states were already released; a deletion whose catalog update failed losing
//! the table's window or wedging its SYSTEM backup; an LSN before the table's creation
//! reported as corruption; and (a stress test) a maintenance round dropping the log of a
//! table deleted between its removal from the table map and its retirement in the catalog.
#![allow(clippy::unwrap_used)]

mod support;
use std::any::Any;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use tidestore::fs::{EntryKind, StdFs, Vfs, VfsFile};
use tidestore::ScalarAttributeType::S;
use tidestore::*;

use support::{
    enable_pitr as enable, pitr_window as window, restore_at, scan_sorted as items, TempDir,
};

const T0: u64 = 1_576_616_366_715;
const DAY: u64 = 86_400_000;

fn opts(clock: &Arc<ManualClock>) -> Options {
    Options::default()
        .clock(clock.clone())
        .background_worker(false)
}
fn row(pk: &str, v: i64) -> Item {
    Item::from([
        ("pk".to_string(), AttributeValue::s(pk)),
        ("v".to_string(), AttributeValue::number(v)),
        ("pad".to_string(), AttributeValue::s("x".repeat(100))),
    ])
}
fn create(db: &Database, name: &str) {
    db.create_table(
        CreateTableInput::new(name)
            .hash_key("pk", S)
            .pay_per_request(),
    )
    .unwrap();
}
fn put(db: &Database, t: &str, pk: &str, v: i64) {
    db.put_item(PutItemInput::new(t, row(pk, v))).unwrap();
}
/// 1. Lengthening RecoveryPeriodInDays keeps `since`, so Earliest jumps back over states the
///    shorter window already released.
#[test]
fn a_longer_recovery_period_starts_at_the_windows_present_start_which_restores() {
    let dir = TempDir::new("period");
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let db = Database::open_with(dir.path(), opts(&clock)).unwrap();
    create(&db, "src");
    enable(&db, "src", Some(1));
    put(&db, "src", "a", 0);
    for round in 1..8 {
        clock.advance(DAY / 2);
        for i in 0..30 {
            put(&db, "src", "churn", round * 100 + i);
        }
        db.checkpoint().unwrap();
    }
    let (before, _) = window(&db, "src");
    assert_eq!(before, Timestamp(clock.now().0 - DAY));
    let pitr = enable(&db, "src", Some(35));
    let earliest = pitr.earliest_restorable_date_time.unwrap();
    // Not T0: the one-day window released the states before its start.
    assert_eq!(earliest, before);
    restore_at(&db, "src", "at-earliest", earliest.0).unwrap();
    assert!(matches!(
        restore_at(&db, "src", "before-earliest", earliest.0 - 1),
        Err(Error::InvalidRestoreTime(_))
    ));
    // From now on the window grows back towards 35 days.
    clock.advance(DAY);
    assert_eq!(window(&db, "src").0, earliest);
}

/// A Vfs that blocks the first WAL open made by a thread named "restorer" until released.
#[derive(Debug)]
struct GateFs {
    inner: StdFs,
    armed: AtomicBool,
    state: Arc<(Mutex<(bool, bool)>, Condvar)>, // (reached, released)
}
impl Vfs for GateFs {
    fn create_dir_all(&self, p: &Path) -> io::Result<()> {
        self.inner.create_dir_all(p)
    }
    fn open(&self, p: &Path) -> io::Result<Box<dyn VfsFile>> {
        let is_wal = p.to_string_lossy().contains("/wal/");
        if is_wal
            && std::thread::current().name() == Some("restorer")
            && self.armed.swap(false, Ordering::SeqCst)
        {
            let (m, cv) = &*self.state;
            let mut g = m.lock().unwrap();
            g.0 = true;
            cv.notify_all();
            while !g.1 {
                g = cv.wait(g).unwrap();
            }
        }
        self.inner.open(p)
    }
    fn create(&self, p: &Path) -> io::Result<Box<dyn VfsFile>> {
        self.inner.create(p)
    }
    fn read_dir(&self, p: &Path) -> io::Result<Vec<String>> {
        self.inner.read_dir(p)
    }
    fn rename(&self, a: &Path, b: &Path) -> io::Result<()> {
        self.inner.rename(a, b)
    }
    fn remove_file(&self, p: &Path) -> io::Result<()> {
        self.inner.remove_file(p)
    }
    fn sync_dir(&self, p: &Path) -> io::Result<()> {
        self.inner.sync_dir(p)
    }
    fn exists(&self, p: &Path) -> io::Result<bool> {
        self.inner.exists(p)
    }
    fn create_dir(&self, p: &Path) -> io::Result<()> {
        self.inner.create_dir(p)
    }
    fn remove_dir(&self, p: &Path) -> io::Result<()> {
        self.inner.remove_dir(p)
    }
    fn entry_kind(&self, p: &Path) -> io::Result<Option<EntryKind>> {
        self.inner.entry_kind(p)
    }
    fn lock(&self, p: &Path) -> io::Result<Box<dyn Any + Send + Sync>> {
        self.inner.lock(p)
    }
}

/// 2. A restore's pin is keyed by the state's `lsn`, which an "Unchanged" checkpoint moves
///    on; the pinned file is then released under the running restore.
#[test]
fn a_running_restore_keeps_its_pinned_snapshot_when_an_unchanged_checkpoint_moves_it() {
    let dir = TempDir::new("pin");
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let state = Arc::new((Mutex::new((false, false)), Condvar::new()));
    let fs = Arc::new(GateFs {
        inner: StdFs,
        armed: AtomicBool::new(false),
        state: state.clone(),
    });
    let db = Database::open_with(dir.path(), opts(&clock).fs(fs.clone())).unwrap();
    create(&db, "src");
    create(&db, "noise");
    for k in 0..200 {
        put(&db, "src", &format!("k{k}"), k);
    }
    db.checkpoint().unwrap(); // S0
    clock.advance(1_000);
    enable(&db, "src", None); // window base: S0
    clock.advance(1_000);
    put(&db, "src", "x", 1);
    db.checkpoint().unwrap(); // S1 (little log, big table): current snapshot
    clock.advance(1_000);
    let want = items(&db, "src");
    fs.armed.store(true, Ordering::SeqCst);
    let db2 = db.clone();
    let at = clock.now().0;
    let restorer = std::thread::Builder::new()
        .name("restorer".into())
        .spawn(move || restore_at(&db2, "src", "restored", at).map(|_| items(&db2, "restored")))
        .unwrap();
    {
        let (m, cv) = &*state;
        let mut g = m.lock().unwrap();
        while !g.0 {
            g = cv.wait(g).unwrap();
        }
    }
    // The restore has pinned S1 and is about to read the log.
    put(&db, "noise", "n", 1);
    db.checkpoint().unwrap(); // src Unchanged: its snapshot's lsn moves on
    put(&db, "src", "y", 2);
    db.checkpoint().unwrap(); // S2: S1 retained with the moved lsn, thinned out, released
    {
        let (m, cv) = &*state;
        m.lock().unwrap().1 = true;
        cv.notify_all();
    }
    let result = restorer.join().unwrap();
    match result {
        Ok(got) => assert_eq!(got, want),
        Err(e) => panic!("the running restore lost what it pinned: {e}"),
    }
}

fn sim_db(sim: &tidestore::fs::sim::SimFs, clock: &Arc<ManualClock>) -> Result<Database> {
    Database::open_with(
        "/db",
        Options::default()
            .fs(Arc::new(sim.clone()))
            .clock(clock.clone())
            .segment_bytes(4096)
            .background_worker(false),
    )
}

/// 3. A failed retirement: the deleted table's window is not in the catalog, so maintenance
///    releases the states it needs; after a reopen (which retires the table) the reported
///    earliest moment cannot be restored.
#[test]
fn a_failed_retirement_keeps_the_deleted_tables_window_for_the_next_open() {
    use tidestore::fs::sim::{FaultError, FaultPlan, OpKind, SimFs};
    let sim = SimFs::new();
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let db = sim_db(&sim, &clock).unwrap();
    create(&db, "gone");
    enable(&db, "gone", None);
    put(&db, "gone", "a", 1);
    let at_t0 = items(&db, "gone");
    clock.advance(1_000);
    for k in 0..20 {
        put(&db, "gone", &format!("k{k}"), k);
    }
    db.checkpoint().unwrap();
    clock.advance(1_000);
    for k in 0..20 {
        put(&db, "gone", &format!("k{k}"), k + 1);
    }
    db.checkpoint().unwrap();
    clock.advance(1_000);
    // Works before the deletion:
    restore_at(&db, "gone", "before", T0).unwrap();
    assert_eq!(items(&db, "before"), at_t0);
    db.delete_table("before").unwrap();
    sim.fail_at(FaultPlan {
        at_op: sim.op_count() + 1,
        on: OpKind::Rename,
        error: FaultError::Eio,
        persistent: false,
    });
    db.delete_table("gone").unwrap();
    assert!(db.maintenance_error().is_some(), "fault did not fire");
    let r = restore_at(&db, "gone", "xx1", T0);
    eprintln!(
        "restore of the deleted table before reopen: {:?}",
        r.as_ref().map(|_| ()).map_err(|e| e.to_string())
    );
    db.checkpoint().unwrap();
    drop(db);
    let db = sim_db(&sim, &clock).unwrap();
    let r = restore_at(&db, "gone", "after", T0);
    match r {
        Ok(_) => assert_eq!(items(&db, "after"), at_t0),
        Err(e) => panic!("restore of the deleted table at the start of its window: {e}"),
    }
}

/// 3b. A failed retirement of a table that never had a snapshot: the log truncation passes
///     its creation, and its SYSTEM backup can never be built — every maintenance round
///     fails from then on (also after reopening).
#[test]
fn a_failed_retirement_of_a_table_without_snapshot_does_not_wedge_its_system_backup() {
    use tidestore::fs::sim::{FaultError, FaultPlan, OpKind, SimFs};
    let sim = SimFs::new();
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let db = sim_db(&sim, &clock).unwrap();
    create(&db, "kept");
    // Move the log on first, so it no longer starts at LSN 1.
    for i in 0..200 {
        put(&db, "kept", &format!("k{i}"), i);
    }
    db.checkpoint().unwrap();
    db.checkpoint().unwrap();
    create(&db, "gone");
    enable(&db, "gone", None);
    put(&db, "gone", "a", 1);
    sim.fail_at(FaultPlan {
        at_op: sim.op_count() + 1,
        on: OpKind::Rename,
        error: FaultError::Eio,
        persistent: false,
    });
    db.delete_table("gone").unwrap();
    assert!(db.maintenance_error().is_some(), "fault did not fire");
    let arn = db
        .list_backups(ListBackupsInput::new().backup_type(BackupTypeFilter::System))
        .unwrap()
        .backup_summaries[0]
        .backup_arn
        .clone();
    for i in 0..200 {
        put(&db, "kept", &format!("k{i}"), i);
    }
    let c1 = db.checkpoint();
    eprintln!(
        "checkpoint 1: {:?}",
        c1.as_ref().err().map(|e| e.to_string())
    );
    let c2 = db.checkpoint();
    eprintln!(
        "checkpoint 2: {:?}",
        c2.as_ref().err().map(|e| e.to_string())
    );
    let d = db.describe_backup(&arn).unwrap();
    eprintln!(
        "system backup status: {:?}",
        d.backup_description.backup_details.backup_status
    );
    drop(db);
    let db = sim_db(&sim, &clock);
    eprintln!("reopen: {:?}", db.as_ref().err().map(|e| e.to_string()));
    let db = db.unwrap();
    let c3 = db.checkpoint();
    eprintln!(
        "checkpoint after reopen: {:?}",
        c3.as_ref().err().map(|e| e.to_string())
    );
    assert!(
        c1.is_ok() && c2.is_ok() && c3.is_ok(),
        "maintenance is wedged"
    );
    assert_eq!(
        db.describe_backup(&arn)
            .unwrap()
            .backup_description
            .backup_details
            .backup_status,
        BackupStatus::Available
    );
}

/// 5. An LSN before the source's creation, on a table with no snapshot yet.
#[test]
fn an_lsn_before_the_tables_creation_is_invalid_restore_time() {
    let dir = TempDir::new("lsn-before");
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let db = Database::open_with(dir.path(), opts(&clock)).unwrap();
    create(&db, "other");
    put(&db, "other", "o", 1);
    let before = db.last_lsn();
    create(&db, "src");
    enable(&db, "src", None);
    put(&db, "src", "a", 1);
    let input = RestoreTableToPointInTimeInput::new("old").source_table_name("src");
    let r = db.restore_table_to_lsn(input, before - 1);
    eprintln!(
        "restore to LSN {before} (before src existed): {:?}",
        r.as_ref().map(|_| ()).map_err(|e| e.to_string())
    );
    assert!(
        matches!(r, Err(Error::InvalidRestoreTime(_))),
        "{:?}",
        r.map(|_| ())
    );
}

/// 6. Stress: delete_table removes the table from `tables` before retire_table names its state
///    in the catalog; a maintenance round that computes its truncation floor in between drops
///    the log the retired state needs.
#[test]
fn deleting_tables_while_maintenance_runs_never_drops_the_log_their_states_need() {
    let base = std::env::temp_dir().join(format!("tidestore-races-gap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let o = || {
        Options::default()
            .clock(clock.clone())
            .background_worker(true)
            .maintenance_interval(std::time::Duration::ZERO)
            .segment_bytes(4096)
            .checkpoint_min_log_bytes(u64::MAX / 4)
    };
    let db = Database::open_with(&base, o()).unwrap();
    create(&db, "kept");
    let iters: usize = if std::env::var("TIDESTORE_LONG").is_ok_and(|v| v == "1") {
        20_000
    } else {
        150
    };
    let big = "y".repeat(600);
    for i in 0..iters {
        let name = format!("g{i:05}");
        create(&db, &name);
        enable(&db, &name, Some(1));
        for k in 0..10 {
            let mut it = row(&format!("k{k}"), k);
            it.insert("big".into(), AttributeValue::s(big.clone()));
            db.put_item(PutItemInput::new(&name, it)).unwrap();
        }
        for k in 0..12 {
            put(&db, "kept", &format!("n{k}"), (i * 100 + k) as i64);
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
        db.delete_table(&name).unwrap();
        let arn = db
            .list_backups(
                ListBackupsInput::new()
                    .table_name(name.clone())
                    .backup_type(BackupTypeFilter::System),
            )
            .unwrap()
            .backup_summaries
            .into_iter()
            .find(|b| b.table_name == name)
            .unwrap()
            .backup_arn;
        match db.wait_for_backup(&arn, std::time::Duration::from_secs(3)) {
            Ok(d) if d.backup_details.backup_status == BackupStatus::Available => {}
            other => {
                eprintln!(
                    "iteration {i}: system backup not built: {:?}; maintenance_error: {:?}",
                    other.map(|d| d.backup_details.backup_status),
                    db.maintenance_error()
                );
                drop(db);
                let reopened = Database::open_with(&base, o().background_worker(false));
                eprintln!(
                    "reopen: {:?}",
                    reopened.as_ref().err().map(|e| e.to_string())
                );
                let _ = std::fs::remove_dir_all(&base);
                panic!("race hit at iteration {i}");
            }
        }
        clock.advance(2 * DAY);
        if let Some(e) = db.maintenance_error() {
            eprintln!("iteration {i}: maintenance error {e}");
        }
    }
    drop(db);
    let _ = std::fs::remove_dir_all(&base);
}
