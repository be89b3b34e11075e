//! Backups: `create_backup` latency on a small and a large table (the ratio should be near
//! 1: the request is O(1)), backup build throughput beside a plain copy of the same bytes,
//! a build from a snapshot and a long log (`tidestore_from_log`), restore throughput, and
//! writer latency with 16 writers while backups build back to back.
//!
//! Run: `cargo bench --bench backup` (quicker: `-- --warm-up-time 1 --measurement-time 3`).
//! `TIDESTORE_BENCH_ITEMS` sets the large table's size (default 1,000,000 items of a 16-byte
//! key and a 100-byte value); `TIDESTORE_BENCH_DIR` the directory (default the temp dir).
#![allow(missing_docs)] // criterion_group! generates an undocumented `pub fn`

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

mod common;

use common::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tidestore::{
    BatchWriteItemInput, CreateTableInput, Database, Durability, Options,
    RestoreTableFromBackupInput, ScalarAttributeType, WriteRequest,
};

/// Puts per writer in each phase of the STALL lines (`TIDESTORE_BENCH_STALL_PUTS`, default
/// 2,500: 40,000 puts, about a second at this machine's rate, so a phase spans a few
/// builds of a 1M-item table instead of part of one).
fn stall_puts() -> u64 {
    std::env::var("TIDESTORE_BENCH_STALL_PUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_500)
}

/// A database whose background work happens only when asked (so builds are timed alone).
fn open(dir: &PathBuf, worker: bool) -> Database {
    let options = Options::default()
        .checkpoint_min_log_bytes(u64::MAX / 2)
        .maintenance_interval(Duration::from_secs(3600))
        .backup_rate_limit(u32::MAX)
        .background_worker(worker);
    Database::open_with(dir, options).expect("open")
}

/// A table of `n` items, loaded in batches of 25 and snapshotted.
fn loaded(name: &str, n: u64) -> (PathBuf, Database) {
    let dir = bench_dir(name);
    {
        let db = Database::open_with(
            &dir,
            Options::default()
                .durability(Durability::Buffered)
                .checkpoint_min_log_bytes(u64::MAX / 2),
        )
        .expect("open");
        db.create_table(
            CreateTableInput::new("bench")
                .hash_key("pk", ScalarAttributeType::S)
                .pay_per_request(),
        )
        .expect("table");
        load(&db, n);
        db.sync().expect("sync");
        db.checkpoint().expect("checkpoint");
    }
    let db = open(&dir, false);
    (dir, db)
}

fn bench_backups(c: &mut Criterion) {
    let n = table_size();
    let (small_dir, small) = loaded("backup-small", 1000);
    let (large_dir, big) = loaded("backup-large", n);

    // Request latency. The backups requested here are never built (no worker): they are
    // only markers, and these two databases are thrown away afterwards.
    let mut group = c.benchmark_group("create_backup");
    for (label, db) in [("1000", &small), (n.to_string().as_str(), &big)] {
        group.bench_function(BenchmarkId::new("latency", label), |b| {
            b.iter(|| db.create_backup("bench", "latency").expect("create_backup"))
        });
    }
    group.finish();
    drop(small);
    drop(big);
    let _ = std::fs::remove_dir_all(&small_dir);
    let _ = std::fs::remove_dir_all(&large_dir);
    let (large_dir, big) = loaded("backup-large", n);

    // Build throughput: time from request to AVAILABLE, against copying the same bytes.
    let mut group = c.benchmark_group("backup_build");
    group.sample_size(10);
    let probe = big.create_backup("bench", "probe").expect("create_backup");
    let built = big
        .wait_for_backup(&probe.backup_details.backup_arn, Duration::from_secs(600))
        .expect("build");
    let bytes = built.backup_details.backup_size_bytes;
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function(BenchmarkId::new("tidestore", n), |b| {
        b.iter(|| {
            let out = big.create_backup("bench", "build").expect("create_backup");
            big.wait_for_backup(&out.backup_details.backup_arn, Duration::from_secs(600))
                .expect("build");
        })
    });
    let file = std::fs::read_dir(large_dir.join("backups"))
        .expect("backups")
        .flatten()
        .next()
        .expect("a backup")
        .path();
    let copy = large_dir.join("copy.bin");
    group.bench_function(BenchmarkId::new("plain_copy_and_fsync", n), |b| {
        b.iter(|| {
            std::fs::copy(&file, &copy).expect("copy");
            std::fs::File::open(&copy)
                .and_then(|f| f.sync_all())
                .expect("fsync");
        })
    });
    // From a snapshot and a long log: as many overwrites of random items as half the table
    // since its snapshot (what a busy writer leaves between two snapshots), so the build reads
    // and sorts the log, and merges into every block.
    let mut i = 0;
    while i < n / 2 {
        let mut input = BatchWriteItemInput::default();
        let requests = (i..(i + 25).min(n / 2))
            .map(|k| WriteRequest::Put {
                item: item_gen(k.wrapping_mul(2_654_435_761) % n, 1),
            })
            .collect();
        input.request_items.insert("bench".into(), requests);
        big.batch_write_item(input).expect("batch");
        i += 25;
    }
    group.bench_function(BenchmarkId::new("tidestore_from_log", n), |b| {
        b.iter(|| {
            let out = big.create_backup("bench", "build").expect("create_backup");
            big.wait_for_backup(&out.backup_details.backup_arn, Duration::from_secs(600))
                .expect("build");
        })
    });
    group.finish();

    let mut group = c.benchmark_group("restore");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n));
    let mut k = 0;
    group.bench_function(BenchmarkId::new("items", n), |b| {
        b.iter(|| {
            k += 1;
            let target = format!("restored{k}");
            big.restore_table_from_backup(RestoreTableFromBackupInput::new(
                &probe.backup_details.backup_arn,
                &target,
            ))
            .expect("restore");
            big.delete_table(&target).expect("drop the restore");
        })
    });
    group.finish();
    drop(big);

    // Writer latency, 16 writers, alone; while backups build back to back (in the
    // background worker); and while each backup is followed by `Database::checkpoint`
    // (which builds snapshots in the calling thread).
    let db = open(&large_dir, true);
    let latencies = |backups: bool, checkpoints: bool| {
        writer_latencies(&db, 16, stall_puts(), n, |stop| {
            let mut rounds = 0;
            while backups && !stop.load(Ordering::Relaxed) {
                let out = db.create_backup("bench", "stall").expect("create_backup");
                db.wait_for_backup(&out.backup_details.backup_arn, Duration::from_secs(600))
                    .expect("build");
                if checkpoints {
                    db.checkpoint().expect("checkpoint");
                }
                rounds += 1;
            }
            if backups {
                println!("rounds during the writers (checkpoints: {checkpoints}): {rounds}");
            }
        })
    };
    // NB: a first run is thrown away: right after the open the worker is still decoding
    // the leaves the table was loaded with, and writers decode the ones they reach first,
    // which made "alone" the slowest phase (p99 7.4 ms against 1 ms during backups).
    let _ = latencies(false, false);
    let alone = latencies(false, false);
    let during = latencies(true, false);
    print_stall("backup", 16, &alone, &during);
    let during = latencies(true, true);
    print_stall("backup+checkpoint", 16, &alone, &during);
    drop(db);
    let _ = std::fs::remove_dir_all(&large_dir);
}

criterion_group!(benches, bench_backups);
criterion_main!(benches);
