//! Streams: what a stream adds to each write (time, and log bytes, per view type), how
//! fast a stream is read back (records per second through `GetRecords`, from the log), and
//! what the log a stream keeps costs an open after a clean close (nothing, it should be).
//!
//! Run: `cargo bench --bench streams` (quicker: `-- --warm-up-time 1 --measurement-time 3`).
//! `TIDESTORE_BENCH_ITEMS` sets how many records the read bench reads (default 200,000);
//! `TIDESTORE_BENCH_DIR` the directory (default the temp dir). Writes are buffered (no
//! fsync per write), so the added cost is the engine's, not the disk's.
#![allow(missing_docs)] // criterion_group! generates an undocumented `pub fn`

use std::path::Path;
use std::time::Duration;

mod common;

use common::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tidestore::{
    CreateTableInput, Database, Durability, GetRecordsInput, GetShardIteratorInput, Options,
    PutItemInput, ScalarAttributeType, ShardIteratorType, StreamSpecification, StreamViewType,
};

/// The table's stream, or none.
const VIEWS: [(&str, Option<StreamViewType>); 5] = [
    ("no_stream", None),
    ("keys_only", Some(StreamViewType::KeysOnly)),
    ("new_image", Some(StreamViewType::NewImage)),
    ("old_image", Some(StreamViewType::OldImage)),
    ("new_and_old_images", Some(StreamViewType::NewAndOldImages)),
];

/// Items overwritten by the write bench: every write replaces an item (a MODIFY, the case
/// that logs an old image).
const ITEMS: u64 = 10_000;

fn open(dir: &Path, view: Option<StreamViewType>) -> (Database, Option<String>) {
    let db = Database::open_with(
        dir,
        Options::default()
            .durability(Durability::Buffered)
            .checkpoint_min_log_bytes(u64::MAX / 2)
            .maintenance_interval(Duration::from_secs(3600)),
    )
    .expect("open");
    let mut table = CreateTableInput::new("bench")
        .hash_key("pk", ScalarAttributeType::S)
        .pay_per_request();
    if let Some(view) = view {
        table = table.stream_specification(StreamSpecification::new(true).stream_view_type(view));
    }
    let arn = db.create_table(table).expect("table").latest_stream_arn;
    load(&db, ITEMS);
    (db, arn)
}

fn log_bytes(dir: &Path) -> u64 {
    dir_bytes(&dir.join("wal"))
}

fn bench_writes(c: &mut Criterion) {
    let mut group = c.benchmark_group("stream_write");
    group.throughput(Throughput::Elements(1));
    for (name, view) in VIEWS {
        let dir = bench_dir(&format!("stream-write-{name}"));
        let (db, _) = open(&dir, view);
        // Log bytes per overwrite, measured over one pass of the items.
        let before = log_bytes(&dir);
        for i in 0..ITEMS {
            db.put_item(PutItemInput::new("bench", item_gen(i, 1)))
                .expect("put");
        }
        db.sync().expect("sync");
        let per_write = (log_bytes(&dir) - before) as f64 / ITEMS as f64;
        println!("stream_write/{name}: {per_write:.1} log bytes per overwrite of a 116-byte item");
        let mut i = 0u64;
        group.bench_function(BenchmarkId::new("put_overwrite", name), |b| {
            b.iter(|| {
                i += 1;
                db.put_item(PutItemInput::new("bench", item_gen(i % ITEMS, i)))
                    .expect("put")
            })
        });
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
    group.finish();
}

fn bench_reads(c: &mut Criterion) {
    let n = table_size_or(200_000);
    let mut group = c.benchmark_group("stream_read");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n));
    let dir = bench_dir("stream-read");
    let (db, arn) = open(&dir, Some(StreamViewType::NewAndOldImages));
    let arn = arn.expect("a stream");
    // Pass g over the items writes generation g: every write changes its item (a write
    // that changes nothing makes no record).
    for i in 0..n.saturating_sub(ITEMS) {
        db.put_item(PutItemInput::new(
            "bench",
            item_gen(i % ITEMS, 1 + i / ITEMS),
        ))
        .expect("put");
    }
    db.sync().expect("sync");
    let shard = db
        .describe_stream(tidestore::DescribeStreamInput::new(&arn))
        .expect("describe")
        .stream_description
        .shards[0]
        .shard_id
        .clone();
    group.bench_function("get_records_new_and_old_images", |b| {
        b.iter(|| {
            let input = GetShardIteratorInput::new(&arn, &shard, ShardIteratorType::TrimHorizon);
            let mut iterator = db
                .get_shard_iterator(input)
                .expect("iterator")
                .shard_iterator;
            let mut read = 0u64;
            while let Some(it) = iterator {
                let out = db.get_records(GetRecordsInput::new(it)).expect("records");
                if out.records.is_empty() {
                    break;
                }
                read += out.records.len() as u64;
                iterator = out.next_shard_iterator;
            }
            assert_eq!(read, n, "every record");
        })
    });
    group.finish();
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An open after a clean close of a table whose stream keeps its whole load in the log,
/// beside the same table without a stream: recovery reads no log a stream alone keeps.
fn bench_open(c: &mut Criterion) {
    let n = table_size_or(200_000);
    let mut group = c.benchmark_group("stream_open");
    group.sample_size(10);
    for (name, view) in [VIEWS[0], VIEWS[4]] {
        let dir = bench_dir(&format!("stream-open-{name}"));
        {
            let (db, _) = open(&dir, view);
            load(&db, n);
            db.close().expect("close");
        }
        println!(
            "stream_open/{name}: {} log bytes after the close",
            log_bytes(&dir)
        );
        group.bench_function(BenchmarkId::new("open_after_clean_close", name), |b| {
            b.iter(|| drop(Database::open(&dir).expect("open")))
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
    group.finish();
}

criterion_group!(benches, bench_writes, bench_reads, bench_open);
criterion_main!(benches);
