//! Point-in-time recovery: restore time against the distance (in writes) from the table's
//! last snapshot, and the disk a one-day window keeps under a steady write load.
//!
//! 1. `pitr_restore/distance/D`: a table of N items (16-byte keys, 100-byte values) with
//!    recovery on is snapshotted, then D single-item updates follow one simulated
//!    millisecond later; each iteration restores the table as of the moment of the last
//!    update (the snapshot plus a replay of D log records) into a fresh table, which is
//!    deleted outside the timed part. D is 0, N/10 and N; throughput is in items (N).
//! 2. Printed once before the group: `PITR_DISK` lines. Two simulated days of steady
//!    updates (a `ManualClock` advanced one minute at a time, W updates a minute, no
//!    background worker, 4 MiB log segments) with a one-day window and without recovery,
//!    under two checkpoint policies: `db.checkpoint()` every simulated hour, and a
//!    checkpoint whenever the log since the last one reaches the worker's trigger
//!    (`max(checkpoint_min_log_bytes = 8 MiB, 1.0 x table size)`). Figures are taken right
//!    after the last checkpoint of the second day, when the window is in its steady state:
//!    `table_bytes` is the live table's snapshot, `overhead_x` is (retained snapshots + log
//!    kept) / table bytes (without a window, the log kept is every segment on disk).
//!
//! Run: `cargo bench --bench pitr` (quicker: `-- --warm-up-time 1 --measurement-time 3`).
//! `TIDESTORE_BENCH_ITEMS` sets N (default 100,000); `TIDESTORE_BENCH_PITR_WRITES` sets W
//! (default 100 a minute: 144,000 writes a simulated day);
//! `TIDESTORE_BENCH_PITR_CHECKPOINT_MINUTES` the checkpoint interval (default 60);
//! `TIDESTORE_BENCH_DIR` the directory (default the temp dir).
#![allow(missing_docs)] // criterion_group! generates an undocumented `pub fn`

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::*;
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use tidestore::{
    AttributeValue, Clock, CreateTableInput, Database, Durability, GetItemInput, Item, Lsn,
    ManualClock, Options, PutItemInput, RestoreTableToPointInTimeInput, ScalarAttributeType,
    Timestamp, UpdateContinuousBackupsInput,
};

/// Where the simulated clocks start (2023-11-14).
const START: Timestamp = Timestamp(1_700_000_000_000);
const MINUTE_MS: u64 = 60_000;
const DAY_MINUTES: u64 = 24 * 60;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A database on `clock` whose snapshots, log truncation and window releases happen only
/// in `checkpoint` (no background worker), so every figure is deterministic.
fn open(dir: &Path, clock: &Arc<ManualClock>, segment_bytes: u64) -> Database {
    let options = Options::default()
        .clock(Arc::clone(clock) as Arc<dyn Clock>)
        .durability(Durability::Buffered)
        .checkpoint_min_log_bytes(CHECKPOINT_MIN_LOG_BYTES)
        .segment_bytes(segment_bytes)
        .background_worker(false)
        .maintenance_interval(Duration::from_secs(3600));
    Database::open_with(dir, options).expect("open")
}

/// Creates table `bench`, with point-in-time recovery over `window_days` if given.
fn create(db: &Database, window_days: Option<u32>) {
    db.create_table(
        CreateTableInput::new("bench")
            .hash_key("pk", ScalarAttributeType::S)
            .pay_per_request(),
    )
    .expect("table");
    if let Some(days) = window_days {
        let mut input = UpdateContinuousBackupsInput::new("bench", true);
        input
            .point_in_time_recovery_specification
            .recovery_period_in_days = Some(days);
        db.update_continuous_backups(input)
            .expect("enable point-in-time recovery");
    }
}

/// The key `(i * 7919) % n`: successive writes spread over the table.
fn spread(i: u64, n: u64) -> u64 {
    i.wrapping_mul(7919) % n
}

/// The value byte of `pk` in `table` (every value is 100 copies of one byte).
fn value_byte(db: &Database, table: &str, pk: u64) -> u8 {
    let mut key = Item::new();
    key.insert("pk".into(), AttributeValue::S(format!("{pk:016}")));
    let item = db
        .get_item(GetItemInput::new(table, key))
        .expect("get")
        .item
        .expect("the item exists");
    match item.get("v") {
        Some(AttributeValue::B(bytes)) => bytes[0],
        other => panic!("unexpected value {other:?}"),
    }
}

/// A restore source: table `bench` of `n` items, snapshotted, then `d` updates (generation
/// 1) committed at one moment 1 ms after the snapshot. Returns that moment.
fn restore_source(dir: &Path, clock: &Arc<ManualClock>, n: u64, d: u64) -> (Database, Timestamp) {
    let db = open(dir, clock, 64 * 1024 * 1024);
    create(&db, Some(35));
    load(&db, n);
    db.sync().expect("sync");
    db.checkpoint().expect("checkpoint");
    let snapshot_time = clock.now();
    clock.advance(1);
    for i in 0..d {
        db.put_item(PutItemInput::new("bench", item_gen(spread(i, n), 1)))
            .expect("put");
    }
    let at = clock.now();
    let lsn = db.last_lsn();
    check_restores(&db, n, d, snapshot_time, at, lsn);
    (db, at)
}

/// Restores the table at the snapshot's moment, at `at` and at `lsn` once each and checks
/// what each holds: the benchmark times a restore that is known to be right.
fn check_restores(
    db: &Database,
    n: u64,
    d: u64,
    snapshot_time: Timestamp,
    at: Timestamp,
    lsn: Lsn,
) {
    let last = spread(d.saturating_sub(1), n);
    let generation = u64::from(d > 0);
    let expect = |target: &str, generation: u64| {
        let description = db.describe_table(target).expect("restored table");
        assert_eq!(description.item_count, n, "{target}: item count");
        assert_eq!(
            value_byte(db, target, last),
            ((last + generation) % 251) as u8,
            "{target}: the value of item {last}"
        );
        db.delete_table(target).expect("drop the check");
    };
    db.restore_table_to_point_in_time(RestoreTableToPointInTimeInput::at(
        "bench",
        "check_snapshot",
        snapshot_time,
    ))
    .expect("restore at the snapshot's moment");
    expect("check_snapshot", 0);
    db.restore_table_to_point_in_time(RestoreTableToPointInTimeInput::at(
        "bench",
        "check_time",
        at,
    ))
    .expect("restore at the moment");
    expect("check_time", generation);
    let mut input = RestoreTableToPointInTimeInput::at("bench", "check_lsn", at);
    input.restore_date_time = None;
    db.restore_table_to_lsn(input, lsn)
        .expect("restore at the LSN");
    expect("check_lsn", generation);
}

fn bench_restore(c: &mut Criterion) {
    let n = table_size_or(100_000);
    let mut group = c.benchmark_group("pitr_restore");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(n));
    for d in [0, n / 10, n] {
        let dir = bench_dir(&format!("pitr-restore-{d}"));
        let clock = Arc::new(ManualClock::new(START));
        let (db, at) = restore_source(&dir, &clock, n, d);
        let mut k = 0u64;
        group.bench_function(BenchmarkId::new("distance", d), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    k += 1;
                    let target = format!("restored{k}");
                    let start = Instant::now();
                    db.restore_table_to_point_in_time(RestoreTableToPointInTimeInput::at(
                        "bench", &target, at,
                    ))
                    .expect("restore");
                    timed += start.elapsed();
                    db.delete_table(&target).expect("drop the restore");
                }
                timed
            })
        });
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
    group.finish();
}

/// When the simulation checkpoints.
#[derive(Clone, Copy)]
enum Policy {
    /// Every this many simulated minutes (`db.checkpoint()` snapshots every changed table).
    EveryMinutes(u64),
    /// When the log written since the last checkpoint reaches the background worker's
    /// trigger, `max(checkpoint_min_log_bytes, checkpoint_log_ratio x table size)` (the
    /// defaults' ratio, 1.0), checked once a simulated minute: what the worker would do,
    /// deterministically.
    WorkerTrigger,
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Policy::EveryMinutes(m) => write!(f, "every_{m}min"),
            Policy::WorkerTrigger => write!(f, "log>=max(8MiB,table)"),
        }
    }
}

/// The worker's minimum log between snapshots, as `open` configures it.
const CHECKPOINT_MIN_LOG_BYTES: u64 = 8 * 1024 * 1024;

/// What a database directory holds right after a checkpoint.
#[derive(Default)]
struct Disk {
    table_bytes: u64,
    retained_snapshots: u64,
    retained_snapshot_bytes: u64,
    /// The log the window keeps (`recovery_window_usage`); 0 without a window.
    window_log_bytes: u64,
    /// Every log segment on disk.
    wal_bytes: u64,
    total_dir_bytes: u64,
}

impl Disk {
    fn measure(db: &Database, dir: &Path) -> Disk {
        let usage = db.recovery_window_usage("bench").expect("usage");
        Disk {
            table_bytes: dir_bytes(&dir.join("snapshots")) - usage.retained_snapshot_bytes,
            retained_snapshots: usage.retained_snapshots,
            retained_snapshot_bytes: usage.retained_snapshot_bytes,
            window_log_bytes: usage.log_bytes,
            wal_bytes: dir_bytes(&dir.join("wal")),
            total_dir_bytes: dir_bytes(dir),
        }
    }
}

/// What the simulation found.
struct Simulated {
    /// After the last checkpoint of the second day.
    end: Disk,
    /// The most the directory held right after a checkpoint during the second day.
    peak_dir_bytes: u64,
    /// Checkpoints during the two days.
    checkpoints: u64,
    /// One restore at the window's earliest moment (the longest replay), if there is a window.
    restore_earliest: Option<Duration>,
    /// Reopening the database after the two days.
    open_time: Duration,
}

/// Two simulated days of `per_minute` updates a minute to a table of `n` items,
/// checkpointing as `policy` says, with a window of `window_days` (or none). Figures are
/// taken right after each checkpoint of the second day (only checkpoints release states
/// and drop log), or after one at the end if the second day had none.
fn simulate(
    dir: &Path,
    n: u64,
    per_minute: u64,
    policy: Policy,
    window_days: Option<u32>,
) -> Simulated {
    let clock = Arc::new(ManualClock::new(START));
    // Small segments: the log is dropped a segment at a time, so a 64 MiB segment would
    // hide what the window itself keeps.
    let db = open(dir, &clock, 4 * 1024 * 1024);
    create(&db, window_days);
    load(&db, n);
    db.sync().expect("sync");
    db.checkpoint().expect("checkpoint");
    let wal_dir = dir.join("wal");
    let trigger = CHECKPOINT_MIN_LOG_BYTES.max(
        db.describe_table("bench")
            .expect("describe")
            .table_size_bytes,
    );
    // The log directory only grows between checkpoints (only they drop segments).
    let mut wal_at_checkpoint = dir_bytes(&wal_dir);
    let mut k = 0u64;
    let mut end = Disk::default();
    let mut peak_dir_bytes = 0;
    let mut checkpoints = 0;
    let mut checkpoints_day2 = 0;
    for minute in 1..=2 * DAY_MINUTES {
        clock.advance(MINUTE_MS);
        for _ in 0..per_minute {
            // Generation = how many times the key space has been gone through.
            db.put_item(PutItemInput::new(
                "bench",
                item_gen(spread(k, n), k / n + 1),
            ))
            .expect("put");
            k += 1;
        }
        let due = match policy {
            Policy::EveryMinutes(m) => minute % m == 0,
            Policy::WorkerTrigger => {
                dir_bytes(&wal_dir).saturating_sub(wal_at_checkpoint) >= trigger
            }
        };
        if due {
            db.checkpoint().expect("checkpoint");
            checkpoints += 1;
            wal_at_checkpoint = dir_bytes(&wal_dir);
            if minute > DAY_MINUTES {
                checkpoints_day2 += 1;
                end = Disk::measure(&db, dir);
                peak_dir_bytes = peak_dir_bytes.max(end.total_dir_bytes);
            }
        }
    }
    if checkpoints_day2 == 0 {
        // The trigger was not reached on the second day (a small table or few writes):
        // measure after a checkpoint at the end instead.
        db.checkpoint().expect("checkpoint");
        checkpoints += 1;
        end = Disk::measure(&db, dir);
        peak_dir_bytes = end.total_dir_bytes;
    }
    let restore_earliest = window_days.map(|_| {
        let window = db
            .describe_continuous_backups("bench")
            .expect("describe")
            .continuous_backups_description
            .point_in_time_recovery_description;
        let earliest = window
            .earliest_restorable_date_time
            .expect("an enabled window");
        let start = Instant::now();
        db.restore_table_to_point_in_time(RestoreTableToPointInTimeInput::at(
            "bench", "earliest", earliest,
        ))
        .expect("restore at the window's start");
        let took = start.elapsed();
        db.delete_table("earliest").expect("drop the restore");
        took
    });
    // Opening replays the retained log (every record since the window's base).
    drop(db);
    let start = Instant::now();
    let db = open(dir, &clock, 4 * 1024 * 1024);
    let open_time = start.elapsed();
    drop(db);
    Simulated {
        end,
        peak_dir_bytes,
        checkpoints,
        restore_earliest,
        open_time,
    }
}

/// Prints the `PITR_DISK` lines: a one-day window and no window, under each policy.
fn print_disk(_: &mut Criterion) {
    let n = table_size_or(100_000);
    let per_minute = env_or("TIDESTORE_BENCH_PITR_WRITES", 100);
    let every = env_or("TIDESTORE_BENCH_PITR_CHECKPOINT_MINUTES", 60).max(1);
    for policy in [Policy::EveryMinutes(every), Policy::WorkerTrigger] {
        for window_days in [Some(1), None] {
            let dir = bench_dir("pitr-disk");
            let start = Instant::now();
            let sim = simulate(&dir, n, per_minute, policy, window_days);
            let disk = &sim.end;
            let took = start.elapsed();
            let _ = std::fs::remove_dir_all(&dir);
            // Without a window, the log kept is whatever recovery still needs.
            let log_bytes = if window_days.is_some() {
                disk.window_log_bytes
            } else {
                disk.wal_bytes
            };
            println!(
                "PITR_DISK items={n} table_bytes={} window_days={} writes_per_day={} checkpoint_policy={policy} checkpoints_in_2_days={} retained_snapshots={} retained_snapshot_bytes={} log_bytes={log_bytes} wal_dir_bytes={} total_dir_bytes={} peak_dir_bytes_day2={} overhead_x={:.2}{} open_ms={:.1} sim_secs={:.1}",
                disk.table_bytes,
                window_days.map_or_else(|| "off".to_string(), |d| d.to_string()),
                per_minute * DAY_MINUTES,
                sim.checkpoints,
                disk.retained_snapshots,
                disk.retained_snapshot_bytes,
                disk.wal_bytes,
                disk.total_dir_bytes,
                sim.peak_dir_bytes,
                (disk.retained_snapshot_bytes + log_bytes) as f64 / disk.table_bytes.max(1) as f64,
                sim.restore_earliest.map_or_else(String::new, |t| format!(
                    " restore_at_earliest_ms={:.1}",
                    t.as_secs_f64() * 1000.0
                )),
                sim.open_time.as_secs_f64() * 1000.0,
                took.as_secs_f64(),
            );
        }
    }
}

criterion_group!(benches, print_disk, bench_restore);
criterion_main!(benches);
