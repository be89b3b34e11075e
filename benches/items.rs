//! In-memory item operations: put, get, query and scan, with 1 and 4 threads, on a table with
//! no index and on one with a local and a global index.
//!
//! Items are the bar's shape: 16-byte keys and 100-byte values.
//! Run: `cargo bench --bench items` (add `-- --warm-up-time 1 --measurement-time 3` for a
//! quicker pass). Throughput is reported in elements (items) per second.
#![allow(missing_docs)] // criterion_group! generates an undocumented `pub fn`

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tidestore::{
    AttributeValue, CreateTableInput, Database, GetItemInput, Item, KeyCondition, Projection,
    PutItemInput, QueryInput, ScalarAttributeType, ScanInput,
};

const PRELOADED: u64 = 100_000;
const PARTITIONS: u64 = 1000;

fn key(i: u64) -> (String, String) {
    (format!("p{:015}", i % PARTITIONS), format!("s{:015}", i))
}

fn item(i: u64) -> Item {
    let (pk, sk) = key(i);
    let mut item = Item::new();
    item.insert("pk".into(), AttributeValue::S(pk));
    item.insert("sk".into(), AttributeValue::S(sk));
    item.insert("v".into(), AttributeValue::B(vec![(i % 251) as u8; 100]));
    item.insert("g".into(), AttributeValue::S(format!("g{:04}", i % 97)));
    item
}

fn table(indexed: bool) -> Database {
    let db = Database::in_memory();
    let mut input = CreateTableInput::new("bench")
        .hash_key("pk", ScalarAttributeType::S)
        .range_key("sk", ScalarAttributeType::S)
        .pay_per_request();
    if indexed {
        input = input
            .local_index("by_v", "g", ScalarAttributeType::S, Projection::keys_only())
            .global_index(
                "by_g",
                ("g", ScalarAttributeType::S),
                Some(("sk", ScalarAttributeType::S)),
                Projection::all(),
            );
    }
    db.create_table(input).expect("table");
    for i in 0..PRELOADED {
        db.put_item(PutItemInput::new("bench", item(i)))
            .expect("put");
    }
    db
}

/// Runs `op(i)` `iters` times spread over `threads` threads; returns the wall time.
fn parallel(threads: u64, iters: u64, op: Arc<dyn Fn(u64) + Send + Sync>) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let op = Arc::clone(&op);
            s.spawn(move || {
                let mut i = t;
                while i < iters {
                    op(i);
                    i += threads;
                }
            });
        }
    });
    start.elapsed()
}

fn bench_items(c: &mut Criterion) {
    for indexed in [false, true] {
        let label = if indexed { "indexed" } else { "plain" };
        // Puts grow their table, so reads run on a table of exactly PRELOADED items.
        let db = table(indexed);
        let growing = table(indexed);
        let mut group = c.benchmark_group(format!("items/{label}"));
        for threads in [1u64, 4] {
            group.throughput(Throughput::Elements(1));
            let d = growing.clone();
            let next = Arc::new(std::sync::atomic::AtomicU64::new(PRELOADED));
            group.bench_function(BenchmarkId::new("put", threads), |b| {
                b.iter_custom(|iters| {
                    let d = d.clone();
                    let next = Arc::clone(&next);
                    let base = next.fetch_add(iters, std::sync::atomic::Ordering::Relaxed);
                    parallel(
                        threads,
                        iters,
                        Arc::new(move |i| {
                            d.put_item(PutItemInput::new("bench", item(base + i)))
                                .expect("put");
                        }),
                    )
                })
            });
            let d = db.clone();
            group.bench_function(BenchmarkId::new("get", threads), |b| {
                b.iter_custom(|iters| {
                    let d = d.clone();
                    parallel(
                        threads,
                        iters,
                        Arc::new(move |i| {
                            let (pk, sk) = key(i * 7919 % PRELOADED);
                            let mut k = Item::new();
                            k.insert("pk".into(), AttributeValue::S(pk));
                            k.insert("sk".into(), AttributeValue::S(sk));
                            let got = d.get_item(GetItemInput::new("bench", k)).expect("get");
                            assert!(got.item.is_some());
                        }),
                    )
                })
            });
            let d = db.clone();
            // Each query returns one partition: 100 items.
            group.throughput(Throughput::Elements(100));
            group.bench_function(BenchmarkId::new("query_100", threads), |b| {
                b.iter_custom(|iters| {
                    let d = d.clone();
                    parallel(
                        threads,
                        iters,
                        Arc::new(move |i| {
                            let (pk, _) = key(i);
                            let page = d
                                .query(QueryInput::new(
                                    "bench",
                                    KeyCondition::partition("pk", AttributeValue::S(pk)),
                                ))
                                .expect("query");
                            assert_eq!(page.count, 100);
                        }),
                    )
                })
            });
        }
        group.finish();

        let mut group = c.benchmark_group(format!("scan/{label}"));
        group.throughput(Throughput::Elements(PRELOADED));
        group.sample_size(10);
        group.bench_function("full_table", |b| {
            b.iter(|| {
                let mut input = ScanInput::new("bench");
                let mut seen = 0;
                loop {
                    let page = db.scan(input.clone()).expect("scan");
                    seen += page.count as u64;
                    match page.last_evaluated_key {
                        Some(k) => input.exclusive_start_key = Some(k),
                        None => break,
                    }
                }
                assert_eq!(seen, PRELOADED);
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench_items);
criterion_main!(benches);
