//! What the durability and backup benchmarks share: the bar's item shape (a 16-byte key and
//! a 100-byte value), the table size and the directory they run in.
#![allow(dead_code)] // each bench uses part of it

use std::path::PathBuf;

use tidestore::{AttributeValue, BatchWriteItemInput, Database, Item, WriteRequest};

/// A fresh directory for a bench, under `TIDESTORE_BENCH_DIR` (default the temp dir).
pub fn bench_dir(name: &str) -> PathBuf {
    let base =
        std::env::var_os("TIDESTORE_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = base.join(format!("tidestore-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The large table's size: `TIDESTORE_BENCH_ITEMS`, default 1,000,000.
pub fn table_size() -> u64 {
    std::env::var("TIDESTORE_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// Item `i`: a 16-byte key and a 100-byte value.
pub fn item(i: u64) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), AttributeValue::S(format!("{i:016}")));
    item.insert("v".into(), AttributeValue::B(vec![(i % 251) as u8; 100]));
    item
}

/// Loads items `0..n` into table `bench` in batches of 25 (DynamoDB's batch limit).
pub fn load(db: &Database, n: u64) {
    let mut i = 0;
    while i < n {
        let mut input = BatchWriteItemInput::default();
        let requests = (i..(i + 25).min(n))
            .map(|k| WriteRequest::Put { item: item(k) })
            .collect();
        input.request_items.insert("bench".into(), requests);
        db.batch_write_item(input).expect("batch");
        i += 25;
    }
}

/// Prints one `STALL` line comparing sorted writer latencies (µs) with and without the
/// background work: p50, p99 and max of each, and the p99 and max ratios.
pub fn print_stall(what: &str, writers: usize, alone: &[u32], during: &[u32]) {
    let pct = |v: &[u32], p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
    let max = |v: &[u32]| v[v.len() - 1];
    println!(
        "STALL {what} writers={writers} alone p50={}us p99={}us max={}us | during p50={}us p99={}us max={}us | p99 ratio={:.2} max ratio={:.2}",
        pct(alone, 0.5),
        pct(alone, 0.99),
        max(alone),
        pct(during, 0.5),
        pct(during, 0.99),
        max(during),
        pct(during, 0.99) as f64 / pct(alone, 0.99).max(1) as f64,
        max(during) as f64 / max(alone).max(1) as f64,
    );
}

/// Put latencies (µs, sorted) of `writers` threads doing `puts` puts each into table `bench`
/// of `n` items, while `background` runs on another thread; `background` must return once
/// the flag it is given turns true (set when the writers are done).
pub fn writer_latencies(
    db: &Database,
    writers: u64,
    puts: u64,
    n: u64,
    background: impl FnOnce(&std::sync::atomic::AtomicBool) + Send,
) -> Vec<u32> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = AtomicBool::new(false);
    let mut all = Vec::new();
    std::thread::scope(|s| {
        let stop = &stop;
        let work = s.spawn(move || background(stop));
        let threads: Vec<_> = (0..writers)
            .map(|t| {
                s.spawn(move || {
                    let mut out = Vec::with_capacity(puts as usize);
                    for i in 0..puts {
                        let start = std::time::Instant::now();
                        let put = tidestore::PutItemInput::new(
                            "bench",
                            item((t * 7919 + i * 104_729) % n),
                        );
                        db.put_item(put).expect("put");
                        out.push(start.elapsed().as_micros() as u32);
                    }
                    out
                })
            })
            .collect();
        for t in threads {
            all.extend(t.join().expect("writer"));
        }
        stop.store(true, Ordering::Relaxed);
        work.join().expect("background work");
    });
    all.sort_unstable();
    all
}

/// The table size from `TIDESTORE_BENCH_ITEMS`, or `default` for benches whose full-size
/// default would take too long.
pub fn table_size_or(default: u64) -> u64 {
    std::env::var("TIDESTORE_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Item `i` of generation `generation`: the same key as [`item`] (and the same value when
/// `generation` is 0), a value that differs from the previous generation's.
pub fn item_gen(i: u64, generation: u64) -> Item {
    let mut item = item(i);
    item.insert(
        "v".into(),
        AttributeValue::B(vec![((i + generation) % 251) as u8; 100]),
    );
    item
}

/// The total size of the files under `path` (0 if it does not exist).
pub fn dir_bytes(path: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
