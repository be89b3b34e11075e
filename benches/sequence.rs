//! The sequence a user runs, measured as the outside harness of the performance issue ran it
//! (load, close, open, durable commits alone and while backups build back to back, a hot
//! backup with a writer running), with each figure printed next to its bar. Unlike the
//! other benches, nothing here is set up in the engine's favour: the backup is taken from
//! whatever state the load and the commits left (and once more after a checkpoint), and the
//! writer keeps writing through it.
//!
//! ```text
//! cargo bench --bench sequence                       # 1M items, one round
//! TIDESTORE_BENCH_ITEMS=300000 TIDESTORE_BENCH_ROUNDS=2 cargo bench --bench sequence
//! TIDESTORE_BENCH_WRITE_RATE=200000000 cargo bench --bench sequence -- --test   # builds paced at 200 MB/s
//! TIDESTORE_BENCH_FLOOR_SECS=40 cargo bench --bench sequence -- --test   # the disk's floor probed 40 s
//! ```
//!
//! Two loads are measured: the harness's (100-put transactions) and `import_table`, the
//! bulk load an embedder would use to fill a new table (DynamoDB's `ImportTable`); the
//! sequence goes on from the transactions' load.
//!
//! Items are the harness's: a 16-byte binary key `k` and a 100-byte incompressible binary
//! value `v`, keys in random order. Each line starts with `SEQ`; the bars are the peers'
//! figures of the issue (medians of four rounds on this machine class; compare ratios, as
//! disks differ): SQLite's backup API 131–144 MB/s, fjall's bulk load 276k items/s, sled's
//! 7.2k single-writer durable commits/s, and the platform's own floors printed first.
//! Criterion times the open after a clean close.
#![allow(missing_docs)] // criterion_group! generates an undocumented `pub fn`

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::dir_bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use tidestore::{
    AttributeValue, CreateTableInput, Database, Durability, ImportTableInput, Item, Options,
    PutItemInput, ScalarAttributeType, TransactWriteItem, TransactWriteItemsInput,
};

const TABLE: &str = "seq";

/// The environment variable `name` parsed, if it is set and parses.
fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn items() -> u64 {
    env("TIDESTORE_BENCH_ITEMS").unwrap_or(1_000_000)
}

fn rounds() -> u64 {
    env("TIDESTORE_BENCH_ROUNDS").unwrap_or(1)
}

fn dir(name: &str) -> PathBuf {
    let base =
        std::env::var_os("TIDESTORE_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = base.join(format!("tidestore-seq-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Item `i` of generation `g`: key `k` (16 random bytes of `i`), value `v` (100 random
/// bytes of `i` and `g`).
fn item(i: u64, g: u64) -> Item {
    let mut key = Vec::with_capacity(16);
    key.extend_from_slice(&splitmix(i).to_be_bytes());
    key.extend_from_slice(&splitmix(i ^ 0x5555).to_be_bytes());
    let mut value = Vec::with_capacity(104);
    let mut s = splitmix(i.wrapping_mul(31).wrapping_add(g));
    while value.len() < 100 {
        s = splitmix(s);
        value.extend_from_slice(&s.to_le_bytes());
    }
    value.truncate(100);
    let mut item = Item::new();
    item.insert("k".into(), AttributeValue::B(key));
    item.insert("v".into(), AttributeValue::B(value));
    item
}

/// The options of every open: `TIDESTORE_BENCH_WRITE_RATE` (bytes/s) overrides
/// `Options::background_write_rate`, to compare rates.
fn options(durability: Durability) -> Options {
    let options = Options::default().durability(durability);
    match env("TIDESTORE_BENCH_WRITE_RATE") {
        Some(rate) => options.background_write_rate(rate),
        None => options,
    }
}

fn create_table(db: &Database) {
    db.create_table(
        CreateTableInput::new(TABLE)
            .hash_key("k", ScalarAttributeType::B)
            .pay_per_request(),
    )
    .expect("create table");
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn pct(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// The platform's own floors: small append + fdatasync per second, and the worst small
/// fdatasync while another thread writes and fsyncs 40 MB.
fn platform(base: &Path) {
    std::fs::create_dir_all(base).expect("bench dir");
    let path = base.join("floor");
    let mut file = std::fs::File::create(&path).expect("floor file");
    let block = [7u8; 4096];
    let n = 2000;
    let start = Instant::now();
    for _ in 0..n {
        file.write_all(&block).expect("write");
        file.sync_data().expect("fdatasync");
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let stop = AtomicBool::new(false);
    let mut worst = Duration::ZERO;
    std::thread::scope(|s| {
        let stop = &stop;
        let big = base.join("floor-big");
        s.spawn(move || {
            let mut f = std::fs::File::create(&big).expect("big file");
            let chunk = vec![9u8; 1 << 20];
            for _ in 0..40 {
                f.write_all(&chunk).expect("write");
            }
            f.sync_all().expect("fsync");
            stop.store(true, Ordering::SeqCst);
        });
        while !stop.load(Ordering::SeqCst) {
            let t = Instant::now();
            file.write_all(&block).expect("write");
            file.sync_data().expect("fdatasync");
            worst = worst.max(t.elapsed());
        }
    });
    println!(
        "SEQ platform append_4k_fdatasync/s={rate:.0} worst_small_fdatasync_beside_40MB_flush={:.1}ms",
        worst.as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_file(base.join("floor-big"));
    let _ = std::fs::remove_file(path);
    // What a durable writer feels of background writes paced as the builds' are while
    // commits wait, the disk alone: the floor of the "commits during backups" ratios.
    let rate = options(Durability::Sync).background_write_rate;
    // 3 s by default, which rarely sees the virtual disk's worst: now and then it stalls a
    // small sync for tens of milliseconds, with or without bulk writing beside it (in 40 s,
    // 57-58 ms alone and 17-39 ms beside, against 3-19 ms in 3 s). Longer with
    // `TIDESTORE_BENCH_FLOOR_SECS`.
    let secs = env("TIDESTORE_BENCH_FLOOR_SECS").unwrap_or(3.0);
    let (alone, _) = small_syncs(base, secs, None);
    let (beside, files) = small_syncs(base, secs, Some(rate));
    println!(
        "SEQ platform small append+fdatasync for {secs} s each: p99 alone {}us max {}us; beside 125 MB files written at {} MB/s with writeback every 256 KiB ({files} files) p99 {}us max {}us: p99 x{:.2}, max x{:.2} (the floor of the commits-during-backups ratios)",
        pct(&alone, 0.99),
        pct(&alone, 1.0),
        rate / 1_000_000,
        pct(&beside, 0.99),
        pct(&beside, 1.0),
        pct(&beside, 0.99) as f64 / pct(&alone, 0.99).max(1) as f64,
        pct(&beside, 1.0) as f64 / pct(&alone, 1.0).max(1) as f64,
    );
}

/// Small append+fdatasync latencies (µs, sorted) for `secs` seconds, beside a thread writing
/// 125 MB files at `rate` bytes/s the way a build does (writeback started every 256 KiB, the
/// file synced, then cut down and removed) if `rate` is given; and how many files it wrote.
fn small_syncs(base: &Path, secs: f64, rate: Option<u64>) -> (Vec<u32>, u64) {
    use std::os::unix::fs::FileExt;
    use tidestore::fs::{StdFs, Vfs};
    // Written over zeros synced ahead, as the log writes (no size change to journal).
    let log = base.join("floor-log");
    let mut file = std::fs::File::create(&log).expect("floor log");
    file.write_all(&vec![0u8; 16 << 20]).expect("zeros");
    file.sync_all().expect("sync");
    let stop = AtomicBool::new(false);
    let mut files = 0;
    let mut latencies = Vec::new();
    std::thread::scope(|s| {
        let stop = &stop;
        let writer = rate.map(|rate| {
            s.spawn(move || {
                let chunk = vec![9u8; 64 << 10];
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let path = base.join(format!("floor-build{n}"));
                    let mut f = StdFs.create(&path).expect("build file");
                    let (start, mut written, mut from) = (Instant::now(), 0u64, 0u64);
                    while written < 125_000_000 && !stop.load(Ordering::Relaxed) {
                        f.append(&chunk).expect("write");
                        written += chunk.len() as u64;
                        if written - from >= 256 << 10 {
                            f.start_writeback(from, written - from);
                            from = written;
                        }
                        let due = start + Duration::from_secs_f64(written as f64 / rate as f64);
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                    }
                    f.sync_all().expect("sync");
                    let mut len = written;
                    while len > 8 << 20 {
                        len -= 8 << 20;
                        f.set_len(len).expect("cut down");
                    }
                    drop(f);
                    let _ = std::fs::remove_file(&path);
                    n += 1;
                }
                n
            })
        });
        let block = [7u8; 200];
        let start = Instant::now();
        let mut at = 0;
        while start.elapsed().as_secs_f64() < secs {
            let t = Instant::now();
            file.write_all_at(&block, at).expect("write");
            at = (at + 200) % (16 << 20);
            file.sync_data().expect("fdatasync");
            latencies.push(t.elapsed().as_micros() as u32);
        }
        stop.store(true, Ordering::Relaxed);
        if let Some(writer) = writer {
            files = writer.join().expect("build writer");
        }
    });
    let _ = std::fs::remove_file(log);
    latencies.sort_unstable();
    (latencies, files)
}

/// Resident memory per item of an in-memory table (bar: ≤ 2.5× the logical 116 bytes).
fn memory(n: u64) {
    let before = resident_bytes();
    let db = Database::in_memory();
    create_table(&db);
    for i in 0..n {
        db.put_item(PutItemInput::new(TABLE, item(i, 0)))
            .expect("put");
    }
    let after = resident_bytes();
    let per_item = after.saturating_sub(before) as f64 / n as f64;
    println!(
        "SEQ memory items={n} resident_bytes_per_item={per_item:.0} ({:.1}x the 116 logical bytes) | bar <= 290 (2.5x)",
        per_item / 116.0
    );
    drop(db);
}

/// Loads `n` items in Buffered mode with 100-put transactions, then syncs; returns items/s.
fn load(path: &Path, n: u64) -> f64 {
    let db = Database::open_with(path, options(Durability::Buffered)).expect("open");
    create_table(&db);
    let start = Instant::now();
    let mut i = 0;
    while i < n {
        let transact_items = (i..(i + 100).min(n))
            .map(|k| TransactWriteItem::Put(PutItemInput::new(TABLE, item(k, 0))))
            .collect();
        db.transact_write_items(TransactWriteItemsInput::new(transact_items))
            .expect("transaction");
        i += 100;
    }
    db.sync().expect("sync");
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let close = Instant::now();
    drop(db);
    println!(
        "SEQ load items={n} items/s={rate:.0} (100-put transactions, Buffered, then sync) | bar >= 414k (1.5x fjall's 276k) | close {:.0}ms, directory {:.1} MB",
        close.elapsed().as_secs_f64() * 1e3,
        dir_bytes(path) as f64 / 1e6
    );
    rate
}

/// Loads the same `n` items with `import_table`, DynamoDB's bulk load into a new table (the
/// items sorted once and written once as its first snapshot); returns items/s, counted
/// until the table is committed and its snapshot synced.
fn import(path: &Path, n: u64) -> f64 {
    let db = Database::open_with(path, options(Durability::Buffered)).expect("open");
    let start = Instant::now();
    let output = db
        .import_table(
            ImportTableInput::new(
                CreateTableInput::new(TABLE)
                    .hash_key("k", ScalarAttributeType::B)
                    .pay_per_request(),
            ),
            (0..n).map(|i| item(i, 0)),
        )
        .expect("import");
    let rate = n as f64 / start.elapsed().as_secs_f64();
    assert_eq!(output.import_table_description.imported_item_count, n);
    drop(db);
    println!(
        "SEQ import items={n} items/s={rate:.0} (import_table, the bulk-load path) | bar >= 414k (1.5x fjall's 276k) | directory {:.1} MB",
        dir_bytes(path) as f64 / 1e6
    );
    let _ = std::fs::remove_dir_all(path);
    rate
}

/// Open after a clean close against reading the snapshot files.
fn open(path: &Path) {
    let snapshots = path.join("snapshots");
    let read = Instant::now();
    let mut bytes = 0u64;
    for entry in std::fs::read_dir(&snapshots)
        .into_iter()
        .flatten()
        .flatten()
    {
        bytes += std::fs::read(entry.path()).map_or(0, |b| b.len() as u64);
    }
    let read = read.elapsed();
    let start = Instant::now();
    let db = Database::open_with(path, options(Durability::Sync)).expect("open");
    let open = start.elapsed();
    drop(db);
    println!(
        "SEQ open after clean close {:.0}ms | reading the snapshots ({:.1} MB, {} log MB) {:.0}ms | ratio {:.1} | bar <= 1.5",
        open.as_secs_f64() * 1e3,
        bytes as f64 / 1e6,
        dir_bytes(&path.join("wal")) / 1_000_000,
        read.as_secs_f64() * 1e3,
        open.as_secs_f64() / read.as_secs_f64().max(1e-6)
    );
}

/// Durable single-item commits with `threads` writers for `secs` seconds.
fn commits(path: &Path, n: u64, threads: u64, secs: f64) {
    let db = Database::open_with(path, options(Durability::Sync)).expect("open");
    let Commits {
        rate, latencies, ..
    } = sync_writers(&db, n, threads, secs, false);
    println!(
        "SEQ commits threads={threads} commits/s={rate:.0} p50={}us p99={}us max={}us | bar: the best peer at every thread count (sled 7.2k/11.7k/11.1k, fjall 5.2k/5.1k/5.05k at 1/4/16 on a disk doing 4.0k append+fdatasync/s)",
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        pct(&latencies, 1.0),
    );
}

/// Durable commits with `threads` writers for `secs` seconds alone, then for as long again
/// while backups of the table build back to back: whether the writers can tell.
fn commits_during_backups(path: &Path, n: u64, threads: u64, secs: f64) {
    let db = Database::open_with(path, options(Durability::Sync)).expect("open");
    let quiet = sync_writers(&db, n, threads, secs, false);
    let busy = sync_writers(&db, n, threads, secs, true);
    let (before, during) = (&quiet.latencies, &busy.latencies);
    println!(
        "SEQ commits during backups threads={threads} ({} builds): commits/s {:.0} -> {:.0} (x{:.2}, bar >= 0.9), p99 {}us -> {}us (x{:.2}, bar <= 1.1), max {}us -> {}us (x{:.2}, bar <= 2)",
        busy.builds,
        quiet.rate,
        busy.rate,
        busy.rate / quiet.rate,
        pct(before, 0.99),
        pct(during, 0.99),
        pct(during, 0.99) as f64 / pct(before, 0.99).max(1) as f64,
        pct(before, 1.0),
        pct(during, 1.0),
        pct(during, 1.0) as f64 / pct(before, 1.0).max(1) as f64,
    );
    println!(
        "SEQ commits during backups threads={threads}: the slowest, {}; before the backups, {}",
        busy.slowest_in_timeline(),
        quiet.slowest_in_timeline()
    );
}

/// What [`sync_writers`] measured.
struct Commits {
    rate: f64,
    /// Each commit's latency (µs), sorted.
    latencies: Vec<u32>,
    builds: u64,
    /// The slowest commit: when it began (since the start) and how long it took.
    slowest: (Duration, Duration),
    /// When each backup was asked for, built and deleted (since the start).
    events: Vec<(Duration, &'static str, u64)>,
}

impl Commits {
    /// The slowest commit placed among the backups' steps, so that a stall can be traced to
    /// what the backups were doing when it began.
    fn slowest_in_timeline(&self) -> String {
        let (began, took) = self.slowest;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mut text = format!("{:.1} ms, began at {:.1} ms", ms(took), ms(began));
        match self.events.iter().rev().find(|(at, _, _)| *at <= began) {
            Some((at, what, build)) => {
                text += &format!(
                    ", {:.1} ms after backup {build} was {what}",
                    ms(began - *at)
                )
            }
            None if !self.events.is_empty() => text += ", before the first backup",
            None => {}
        }
        text
    }
}

/// `threads` Sync writers putting for `secs` seconds, with backups building back to back
/// meanwhile if `backups`.
fn sync_writers(db: &Database, n: u64, threads: u64, secs: f64, backups: bool) -> Commits {
    let stop = AtomicBool::new(false);
    let mut commits = Vec::new();
    let mut events = Vec::new();
    let mut builds = 0;
    let start = Instant::now();
    std::thread::scope(|s| {
        let stop = &stop;
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut out = Vec::new();
                    let mut i = t;
                    while !stop.load(Ordering::Relaxed) {
                        let started = Instant::now();
                        db.put_item(PutItemInput::new(TABLE, item(i % n, i)))
                            .expect("put");
                        out.push((started - start, started.elapsed()));
                        i += threads;
                    }
                    out
                })
            })
            .collect();
        let deadline = start + Duration::from_secs_f64(secs);
        while backups && Instant::now() < deadline {
            events.push((start.elapsed(), "asked for", builds));
            let arn = (db.create_backup(TABLE, "during-commits"))
                .expect("create_backup")
                .backup_details
                .backup_arn;
            db.wait_for_backup(&arn, Duration::from_secs(600))
                .expect("build");
            events.push((start.elapsed(), "built", builds));
            db.delete_backup(&arn).expect("delete_backup");
            events.push((start.elapsed(), "deleted", builds));
            builds += 1;
        }
        if let Some(rest) = deadline.checked_duration_since(Instant::now()) {
            std::thread::sleep(rest);
        }
        stop.store(true, Ordering::Relaxed);
        for h in handles {
            commits.extend(h.join().expect("writer"));
        }
    });
    let rate = commits.len() as f64 / start.elapsed().as_secs_f64();
    let slowest = commits
        .iter()
        .copied()
        .max_by_key(|(_, took)| *took)
        .unwrap_or_default();
    let mut latencies: Vec<u32> = commits
        .iter()
        .map(|(_, took)| took.as_micros() as u32)
        .collect();
    latencies.sort_unstable();
    Commits {
        rate,
        latencies,
        builds,
        slowest,
        events,
    }
}

/// One writer putting (Buffered, non-durable puts), free-running or paced at `pace` puts/s,
/// for as long as `run` takes; its latencies (µs, sorted).
fn with_writer<T>(
    db: &Database,
    n: u64,
    pace: Option<u64>,
    run: impl FnOnce() -> T,
) -> (T, Vec<u32>) {
    let stop = AtomicBool::new(false);
    let counter = AtomicU64::new(0);
    std::thread::scope(|s| {
        let stop = &stop;
        let counter = &counter;
        let writer = s.spawn(move || {
            let mut out = Vec::new();
            let start = Instant::now();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                if let Some(pace) = pace {
                    let due = start + Duration::from_secs_f64(i as f64 / pace as f64);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                }
                let started = Instant::now();
                db.put_item(PutItemInput::new(TABLE, item(i % n, i + 7)))
                    .expect("put");
                out.push(started.elapsed().as_micros() as u32);
                counter.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
            out
        });
        let result = run();
        stop.store(true, Ordering::Relaxed);
        let mut latencies = writer.join().expect("writer");
        latencies.sort_unstable();
        (result, latencies)
    })
}

/// The CPU time this process's threads named `name` have used (Linux; zero elsewhere): a
/// build's own cost, whatever else the machine runs.
fn threads_cpu(name: &str) -> Duration {
    let ticks: u64 = std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm")).is_ok_and(|c| c.trim() == name)
        })
        .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
        .map(|stat| {
            // After the parenthesised name: state is field 3, utime and stime 14 and 15.
            let fields: Vec<&str> = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            let field = |i: usize| {
                fields
                    .get(i - 3)
                    .and_then(|f| f.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            field(14) + field(15)
        })
        .sum();
    // The kernel's USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// With `TIDESTORE_PERF_CTL` naming `perf record --control fifo:…`'s fifo, turns the
/// profiler on and off around the free-writer backups (`perf record -D -1`), so a profile
/// holds the build and nothing before it.
fn perf_control(free: bool, command: &str) {
    if let (true, Some(fifo)) = (free, std::env::var_os("TIDESTORE_PERF_CTL")) {
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .open(fifo)
            .and_then(|mut f| f.write_all(format!("{command}\n").as_bytes()));
    }
}

/// A hot backup while one writer keeps putting: the backup's bytes per wall second until it
/// is AVAILABLE, and the writer's latencies before and during it.
fn hot_backup(path: &Path, n: u64, pace: Option<u64>, state: &str, round: u64) {
    // Log syncs are recorded: how long an acknowledged Buffered write stays unsynced.
    let syncs = std::sync::Arc::new(common::LogSyncs::default());
    let db = Database::open_with(
        path,
        options(Durability::Buffered).fs(std::sync::Arc::new(common::RecordingFs(
            std::sync::Arc::clone(&syncs),
        ))),
    )
    .expect("open");
    if state == "after_checkpoint" {
        db.checkpoint().expect("checkpoint");
    }
    let wal_mb = dir_bytes(&path.join("wal")) as f64 / 1e6;
    let snap_mb = dir_bytes(&path.join("snapshots")) as f64 / 1e6;
    let alone = Instant::now();
    let ((), before) = with_writer(&db, n, pace, || std::thread::sleep(Duration::from_secs(2)));
    let unsynced_before = syncs.longest_gap(alone, Instant::now());
    let name = format!("b{round}{}{}", state.len(), pace.unwrap_or(0));
    let start = Instant::now();
    let cpu = threads_cpu("tidestore-maint");
    perf_control(pace.is_none(), "enable");
    let ((wall, size, call), during) = with_writer(&db, n, pace, || {
        let output = db.create_backup(TABLE, &name).expect("create_backup");
        let call = start.elapsed();
        let arn = output.backup_details.backup_arn;
        let done = db
            .wait_for_backup(&arn, Duration::from_secs(600))
            .expect("wait");
        (start.elapsed(), done.backup_details.backup_size_bytes, call)
    });
    perf_control(pace.is_none(), "disable");
    let cpu = threads_cpu("tidestore-maint").saturating_sub(cpu);
    let unsynced_during = syncs.longest_gap(start, start + wall);
    // The puts of the two seconds before the backup are the log it merges: a writer that
    // runs faster (its leaves already decoded, after a checkpoint) leaves it more to do.
    let writer = match pace {
        Some(p) => format!("paced {p}/s"),
        None => "free".to_string(),
    };
    let puts_before = before.len();
    println!(
        "SEQ backup from={state} (log {wal_mb:.0} MB, snapshots {snap_mb:.0} MB) writer={writer} ({puts_before} puts in the 2 s before) MB/s={:.0} ({:.1} MB in {:.2}s, worker CPU {:.2}s, call {:.2}ms) | bar >= 280 (2x SQLite) | writer before p99={}us max={}us, during p99={}us max={}us: p99 x{:.2} (bar <= 1.1), max x{:.2} (bar <= 2)",
        size as f64 / 1e6 / wall.as_secs_f64(),
        size as f64 / 1e6,
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        call.as_secs_f64() * 1e3,
        pct(&before, 0.99),
        pct(&before, 1.0),
        pct(&during, 0.99),
        pct(&during, 1.0),
        pct(&during, 0.99) as f64 / pct(&before, 0.99).max(1) as f64,
        pct(&during, 1.0) as f64 / pct(&before, 1.0).max(1) as f64,
    );
    println!(
        "SEQ unsynced from={state} writer={writer}: longest time between log syncs (an acknowledged Buffered write's longest wait to be durable) before {:.0}ms, during the backup {:.0}ms | promise: a sync every 100ms",
        unsynced_before.as_secs_f64() * 1e3,
        unsynced_during.as_secs_f64() * 1e3,
    );
}

fn sequence(c: &mut Criterion) {
    let n = items();
    platform(&dir("platform"));
    memory(n);
    for round in 0..rounds() {
        let path = dir(&format!("r{round}"));
        import(&dir(&format!("i{round}")), n);
        load(&path, n);
        open(&path);
        for threads in [1, 4, 16] {
            commits(&path, n, threads, 5.0);
        }
        hot_backup(&path, n, None, "as_left", round);
        hot_backup(&path, n, Some(10_000), "as_left", round);
        hot_backup(&path, n, None, "after_checkpoint", round);
        for threads in [1, 16] {
            commits_during_backups(&path, n, threads, 5.0);
        }
        if round + 1 == rounds() {
            let mut group = c.benchmark_group("sequence");
            group.sample_size(10);
            group.bench_function("open_after_clean_close", |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let start = Instant::now();
                        let db =
                            Database::open_with(&path, options(Durability::Sync)).expect("open");
                        total += start.elapsed();
                        drop(db);
                    }
                    total
                })
            });
            group.finish();
        }
        let _ = std::fs::remove_dir_all(&path);
    }
}

criterion_group!(benches, sequence);
criterion_main!(benches);
