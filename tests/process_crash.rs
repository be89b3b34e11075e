//! Real process crashes (issue #6, part 2): a child process — this test binary, re-run as
//! `child_workload` — runs writer threads, `create_backup` calls, restores, table deletions
//! and point-in-time recovery on a real directory, with tiny segments and snapshot
//! thresholds so that rotation, snapshots, log truncation and retention happen all the time.
//! It prints every acknowledgement to stdout as it gets it. The parent kills it — with
//! SIGKILL at a random moment, or by arming a named kill point (`tidestore::fs::killpoint`) at
//! which the child aborts — then reopens the directory and checks:
//!
//! - **I1/I2**: every acknowledged write is there, and each writer's items are a prefix of
//!   what it wrote (its writes are ordered, so a recovered prefix of the log is a prefix of
//!   each writer's writes);
//! - **I4/I7**: every acknowledged backup is listed, becomes AVAILABLE, and holds, per writer,
//!   a prefix containing every write acknowledged before `create_backup` was called;
//! - the database opens again, and the next child continues in the same directory.
//!
//! A kill (unlike the simulated crashes of `tests/crash.rs`) keeps what the process wrote to
//! the OS: this proves recovery from every intermediate state of the protocols in a real
//! process, not power loss. Every other child runs in `Buffered` mode, whose acknowledged
//! writes are with the OS and so survive a kill too, and whose log rotations leave their
//! seals to the next sync (`storage/wal.rs`, "Segments"). One summary line: `PROCESS …`.
//! `TIDESTORE_LONG=1` runs more rounds.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tidestore::fs::killpoint::{KILL_POINTS, KILL_POINT_VAR};
use tidestore::fs::sim::SimRng;
use tidestore::ScalarAttributeType::{N, S};
use tidestore::*;

const CHILD_DIR: &str = "TIDESTORE_CHILD_DIR";
const CHILD_ROUND: &str = "TIDESTORE_CHILD_ROUND";
const CHILD_BUFFERED: &str = "TIDESTORE_CHILD_BUFFERED";
const WRITERS: u64 = 3;
const TABLE: &str = "kvstore";

fn long() -> bool {
    std::env::var("TIDESTORE_LONG").is_ok_and(|v| v == "1")
}

fn options() -> Options {
    Options::default()
        .segment_bytes(16 * 1024)
        .checkpoint_min_log_bytes(32 * 1024)
        .checkpoint_log_ratio(0.5)
        .maintenance_interval(Duration::from_millis(20))
}

fn writer_key(round: u64, writer: u64) -> String {
    format!("r{round}-w{writer}")
}

/// Prints one acknowledgement line, whole, and flushes it before the caller goes on.
fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

// ---------------------------------------------------------------------------------------------
// The child
// ---------------------------------------------------------------------------------------------

/// The child's workload; does nothing unless started by a parent (which sets `CHILD_DIR`).
/// Runs until killed.
#[test]
#[ignore = "run by the process-crash tests as a child process"]
fn child_workload() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let round: u64 = std::env::var(CHILD_ROUND).unwrap().parse().unwrap();
    let durability = match std::env::var(CHILD_BUFFERED).as_deref() {
        Ok("1") => Durability::Buffered,
        _ => Durability::Sync,
    };
    let db = Database::open_with(&dir, options().durability(durability)).unwrap();
    if db.describe_table(TABLE).is_err() {
        db.create_table(
            CreateTableInput::new(TABLE)
                .hash_key("pk", S)
                .range_key("sk", N)
                .pay_per_request(),
        )
        .unwrap();
    }
    // Point-in-time recovery keeps the whole log of its window: on in every third child
    // only, so that the others see the log truncated again.
    let pitr = round.is_multiple_of(3);
    db.update_continuous_backups(UpdateContinuousBackupsInput::new(TABLE, pitr))
        .unwrap();
    say(format!("OPEN {round}"));
    let acked: Arc<Vec<AtomicU64>> = Arc::new((0..WRITERS).map(|_| AtomicU64::new(0)).collect());
    let mut threads = Vec::new();
    for w in 0..WRITERS {
        let db = db.clone();
        let acked = Arc::clone(&acked);
        threads.push(std::thread::spawn(move || {
            for i in 1.. {
                let item = Item::from([
                    ("pk".to_string(), AttributeValue::s(writer_key(round, w))),
                    ("sk".to_string(), AttributeValue::number(i)),
                    ("pad".to_string(), AttributeValue::b(vec![w as u8; 64])),
                ]);
                db.put_item(PutItemInput::new(TABLE, item)).unwrap();
                acked[w as usize].store(i as u64, Ordering::SeqCst);
                say(format!("A {round} {w} {i}"));
                // A steady load, not a saturating one: the background worker must get
                // the CPU to snapshot, truncate and build.
                std::thread::sleep(Duration::from_millis(1));
            }
        }));
    }
    // Backups, restores of them and deletions of the restored tables.
    for j in 0.. {
        // Under the 50-per-second limit on CreateBackup.
        std::thread::sleep(Duration::from_millis(25));
        let before: Vec<u64> = acked.iter().map(|a| a.load(Ordering::SeqCst)).collect();
        let name = format!("b{round}-{j}");
        let out = db.create_backup(TABLE, &name).unwrap();
        let arn = out.backup_details.backup_arn;
        say(format!(
            "B {round} {name} {}",
            before
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        ));
        if j % 4 == 3 {
            db.wait_for_backup(&arn, Duration::from_secs(30)).unwrap();
            let target = format!("restored-{round}-{j}");
            db.restore_table_from_backup(RestoreTableFromBackupInput::new(&arn, &target))
                .unwrap();
            db.delete_table(&target).unwrap();
        }
        if pitr && j % 8 == 7 {
            let target = format!("pitr-{round}-{j}");
            db.restore_table_to_point_in_time(RestoreTableToPointInTimeInput::latest(
                TABLE, &target,
            ))
            .unwrap();
            db.delete_table(&target).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The parent
// ---------------------------------------------------------------------------------------------

/// What a child acknowledged before it died.
#[derive(Debug, Default)]
struct Acks {
    opened: bool,
    /// The highest acknowledged index per (round, writer).
    writes: BTreeMap<(u64, u64), u64>,
    /// Acknowledged backups: name → per writer, the last write acknowledged before the call.
    backups: BTreeMap<String, Vec<u64>>,
}

impl Acks {
    fn read(&mut self, line: &str) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            ["OPEN", _] => self.opened = true,
            ["A", round, w, i] => {
                let (round, w, i) = (
                    round.parse().unwrap(),
                    w.parse().unwrap(),
                    i.parse().unwrap(),
                );
                let max = self.writes.entry((round, w)).or_insert(0);
                *max = (*max).max(i);
            }
            ["B", _, name, before @ ..] => {
                self.backups.insert(
                    name.to_string(),
                    before.iter().map(|b| b.parse().unwrap()).collect(),
                );
            }
            _ => {}
        }
    }
}

/// How the parent ends a child.
#[derive(Clone, Copy, Debug)]
enum Kill {
    /// SIGKILL after this long.
    After(Duration),
    /// The child aborts at the `n`th hit of a kill point (or is killed after a timeout if it
    /// never gets there).
    At(&'static str, u64),
}

/// Runs one child in `dir` until it dies as `kill` says; returns what it acknowledged and
/// whether the kill point was reached.
fn run_child(dir: &Path, round: u64, kill: Kill, acks: &Arc<Mutex<Acks>>) -> bool {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_workload",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_ROUND, round.to_string())
        // Every other child buffered, but for the kill point only a durable commit reaches.
        .env(
            CHILD_BUFFERED,
            if round % 2 == 1 && !matches!(kill, Kill::At("wal.synced", _)) {
                "1"
            } else {
                "0"
            },
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Kill::At(point, n) = kill {
        command.env(KILL_POINT_VAR, format!("{point}:{n}"));
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = {
        let acks = Arc::clone(acks);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                acks.lock().unwrap().read(&line);
            }
        })
    };
    let stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let deadline = Instant::now()
        + match kill {
            Kill::After(d) => d,
            Kill::At(..) => Duration::from_secs(if long() { 20 } else { 6 }),
        };
    let mut status = None;
    while Instant::now() < deadline {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    if status.is_none() {
        child.kill().unwrap(); // SIGKILL
    }
    // Reaps the child (at once if it already exited).
    let _ = child.wait().unwrap();
    reader.join().unwrap();
    let stderr = errors.join().unwrap();
    let reached = stderr.contains("KILLPOINT");
    // A child that died of anything but our kill is a failure of the workload itself.
    if let Some(status) = status {
        assert!(
            reached,
            "round {round}: the child exited by itself ({status}) before {kill:?}:\n{stderr}"
        );
    }
    reached
}

/// The sort keys of a writer's items in `table`.
fn written(db: &Database, table: &str, round: u64, writer: u64) -> Vec<u64> {
    let mut input = QueryInput::new(
        table,
        KeyCondition::partition("pk", AttributeValue::s(writer_key(round, writer))),
    );
    let mut keys = Vec::new();
    loop {
        let page = db.query(input.clone()).unwrap();
        for item in &page.items {
            keys.push(item["sk"].as_n().unwrap().to_string().parse().unwrap());
        }
        match page.last_evaluated_key {
            Some(start) => input.exclusive_start_key = Some(start),
            None => return keys,
        }
    }
}

/// Whether `keys` is `1..=n` for some `n` at least `at_least`.
fn prefix_with(keys: &[u64], at_least: u64) -> Result<(), String> {
    let n = keys.len() as u64;
    if keys.iter().copied().ne(1..=n) {
        return Err(format!("not a prefix: {} items, first gap in {keys:?}", n));
    }
    if n < at_least {
        return Err(format!("{n} items but {at_least} were acknowledged"));
    }
    Ok(())
}

/// Reopens `dir` and checks every acknowledgement; returns the writes and backups checked.
fn verify(dir: &Path, acks: &Acks, context: &str) -> (u64, usize) {
    // The next child continues in this directory: leave it the log the crash left, as a
    // crash would, so that its truncations (and their kill points) still happen.
    let verify_options = options().snapshot_on_close(false);
    let db = Database::open_with(dir, verify_options)
        .unwrap_or_else(|e| panic!("{context}: the database does not open: {e}"));
    let mut writes = 0;
    for (&(round, w), &max) in &acks.writes {
        let keys = written(&db, TABLE, round, w);
        if let Err(e) = prefix_with(&keys, max) {
            panic!("{context}: writer {w} of round {round}: {e}");
        }
        writes += max;
    }
    let mut listed: Vec<BackupSummary> = Vec::new();
    let mut input = ListBackupsInput::new().backup_type(BackupTypeFilter::All);
    loop {
        let page = db.list_backups(input.clone()).unwrap();
        listed.extend(page.backup_summaries);
        match page.last_evaluated_backup_arn {
            Some(arn) => input.exclusive_start_backup_arn = Some(arn),
            None => break,
        }
    }
    let mut checked = 0;
    for (name, before) in &acks.backups {
        let summary = listed
            .iter()
            .find(|b| b.backup_name == *name)
            .unwrap_or_else(|| panic!("{context}: acknowledged backup {name} is lost"));
        // Restoring every backup of every round costs more than it finds: the newest two.
        if !acks.backups.keys().rev().take(2).any(|n| n == name) {
            continue;
        }
        let built = db
            .wait_for_backup(&summary.backup_arn, Duration::from_secs(30))
            .unwrap();
        assert_eq!(built.backup_details.backup_status, BackupStatus::Available);
        let target = format!("check-{name}");
        db.restore_table_from_backup(RestoreTableFromBackupInput::new(
            &summary.backup_arn,
            &target,
        ))
        .unwrap();
        let round: u64 = name[1..].split('-').next().unwrap().parse().unwrap();
        for (w, &at_least) in before.iter().enumerate() {
            let keys = written(&db, &target, round, w as u64);
            if let Err(e) = prefix_with(&keys, at_least) {
                panic!("{context}: backup {name}, writer {w}: {e}");
            }
        }
        db.delete_table(&target).unwrap();
        checked += 1;
    }
    (writes, checked)
}

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!(
        "tidestore-process-{tag}-{}-{nanos}",
        std::process::id()
    ))
}

#[test]
fn sigkill_at_random_moments_and_at_every_kill_point_loses_no_acknowledged_write_or_backup() {
    let mut rng = SimRng::new(simfs_seed());
    let acks = Arc::new(Mutex::new(Acks::default()));
    let mut plan: Vec<Kill> = Vec::new();
    let random_rounds = if long() { 60 } else { 6 };
    for _ in 0..random_rounds {
        plan.push(Kill::After(Duration::from_millis(100 + rng.below(400))));
    }
    let hits: &[u64] = if long() { &[1, 2, 5, 20] } else { &[1, 4] };
    for point in KILL_POINTS {
        for &n in hits {
            plan.push(Kill::At(point, n));
        }
    }
    let mut reached: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut writes, mut backups) = (0, 0);
    let mut dir = temp_dir("kill-0");
    for (round, kill) in plan.iter().enumerate() {
        // A fresh directory every few children keeps each one's recovery short.
        if round % 6 == 0 && round > 0 {
            let _ = std::fs::remove_dir_all(&dir);
            dir = temp_dir(&format!("kill-{round}"));
            *acks.lock().unwrap() = Acks::default();
        }
        let round = round as u64;
        let hit = run_child(&dir, round, *kill, &acks);
        if let Kill::At(point, _) = kill {
            *reached.entry(point).or_default() += usize::from(hit);
        }
        let acks = acks.lock().unwrap();
        let (w, b) = verify(&dir, &acks, &format!("round {round} ({kill:?})"));
        writes += w;
        backups += b;
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "PROCESS children={} sigkills={random_rounds} kill_points={} kill_points_reached={} writes_verified={writes} backups_restored={backups} lost=0",
        plan.len(),
        KILL_POINTS.len(),
        reached.values().filter(|&&n| n > 0).count(),
    );
    let never: Vec<&&str> = reached
        .iter()
        .filter(|(_, &n)| n == 0)
        .map(|(p, _)| p)
        .collect();
    assert!(
        never.is_empty(),
        "kill points the workload never reached: {never:?}"
    );
}

fn simfs_seed() -> u64 {
    tidestore::fs::sim::SimFs::seed_from_env()
}
