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
