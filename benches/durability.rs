//! Durability on the real file system: durable and buffered put throughput with 1, 4 and 16
//! writers (group commit), recovery time, snapshot build throughput, and writer latency
//! while a snapshot builds.
//!
//! Items have the bar's shape: 16-byte keys and 100-byte values.
//! Run: `cargo bench --bench durability` (quicker: `-- --warm-up-time 1 --measurement-time 3`).
//! `TIDESTORE_BENCH_ITEMS` sets the table size of the recovery and snapshot benches
//! (default 1,000,000). The directory is under `TIDESTORE_BENCH_DIR` (default the system
//! temp dir): point it at the disk you care about.
#![allow(missing_docs)] // criterion_group! generates an undocumented `pub fn`

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod common;

use common::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tidestore::{
    CreateTableInput, Database, Durability, Options, PutItemInput, ScalarAttributeType,
};

fn open(dir: &PathBuf, durability: Durability) -> Database {
    open_with(dir, durability, true)
}

/// `open`, choosing whether a clean close snapshots the tables (the default) or keeps the
/// log for the next open to replay.
fn open_with(dir: &PathBuf, durability: Durability, snapshot_on_close: bool) -> Database {
    let options = Options::default()
        .durability(durability)
        .snapshot_on_close(snapshot_on_close)
        // Keep the background snapshots out of the throughput figures.
        .checkpoint_min_log_bytes(u64::MAX / 2)
        .maintenance_interval(Duration::from_secs(3600));
    let db = Database::open_with(dir, options).expect("open");
    if db.describe_table("bench").is_err() {
        db.create_table(
            CreateTableInput::new("bench")
                .hash_key("pk", ScalarAttributeType::S)
                .pay_per_request(),
        )
        .expect("table");
    }
    db
}

/// Puts `iters` items spread over `threads` writers; returns the wall time.
fn parallel_puts(db: &Database, threads: u64, iters: u64, next: &AtomicU64) -> Duration {
    let base = next.fetch_add(iters, Ordering::Relaxed);
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let mut i = t;
                while i < iters {
                    db.put_item(PutItemInput::new("bench", item(base + i)))
                        .expect("put");
                    i += threads;
                }
            });
        }
    });
    start.elapsed()
}

fn bench_commits(c: &mut Criterion) {
    let mut group = c.benchmark_group("commit");
    group.throughput(Throughput::Elements(1));
    for (mode, durability) in [
        ("sync", Durability::Sync),
        ("buffered", Durability::Buffered),
    ] {
        let dir = bench_dir(mode);
        let db = open(&dir, durability);
        let next = AtomicU64::new(0);
        for threads in [1u64, 4, 16] {
            group.bench_function(BenchmarkId::new(mode, threads), |b| {
                b.iter_custom(|iters| parallel_puts(&db, threads, iters, &next))
            });
        }
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
    group.finish();
}

fn bench_recovery_and_snapshot(c: &mut Criterion) {
    let n = table_size();
    let bytes = n * (16 + 100 + 4);
    let dir = bench_dir("recovery");
    {
        let db = open_with(&dir, Durability::Buffered, false);
        load(&db, n);
        db.sync().expect("sync");
    }
    let mut group = c.benchmark_group("recovery");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n));
    // NB: each open must find the log: a clean close would snapshot the table and the
    // later iterations would measure an open from the snapshot.
    group.bench_function(BenchmarkId::new("from_log", n), |b| {
        b.iter(|| drop(open_with(&dir, Durability::Sync, false)))
    });
    {
        let db = open(&dir, Durability::Sync);
        db.checkpoint().expect("checkpoint");
    }
    group.bench_function(BenchmarkId::new("from_snapshot", n), |b| {
        b.iter(|| drop(open(&dir, Durability::Sync)))
    });
    group.finish();

    // Snapshot build: each iteration changes one item, then checkpoints, which rewrites the
    // whole table from the previous snapshot and the log.
    let mut group = c.benchmark_group("snapshot");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    let db = open(&dir, Durability::Sync);
    let k = AtomicU64::new(0);
    group.bench_function(BenchmarkId::new("build", n), |b| {
        b.iter(|| {
            db.put_item(PutItemInput::new(
                "bench",
                item(k.fetch_add(1, Ordering::Relaxed) % n),
            ))
            .expect("put");
            db.checkpoint().expect("checkpoint");
        })
    });
    group.finish();

    // Writer latency while snapshots build back to back, against writers alone.
    let latencies = |during_snapshots: bool| {
        writer_latencies(&db, 4, 1000, n, |stop| {
            while during_snapshots && !stop.load(Ordering::Relaxed) {
                db.put_item(PutItemInput::new("bench", item(0)))
                    .expect("put");
                db.checkpoint().expect("checkpoint");
            }
        })
    };
    let alone = latencies(false);
    let during = latencies(true);
    print_stall("snapshot", 4, &alone, &during);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_commits, bench_recovery_and_snapshot);
criterion_main!(benches);
