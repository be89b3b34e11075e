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

/// Writers' put latencies (µs, sorted) and how long the writers took in all.
pub struct Latencies {
    pub sorted: Vec<u32>,
    pub elapsed: std::time::Duration,
}

impl Latencies {
    fn pct(&self, p: f64) -> u32 {
        let v = &self.sorted;
        v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
    }

    fn puts_per_sec(&self) -> f64 {
        self.sorted.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// Prints one `STALL` line: writer p50, p99, p99.9, max and throughput alone and while
/// `what` runs back to back, and the ratios.
pub fn print_stall(what: &str, writers: usize, alone: &Latencies, during: &Latencies) {
    println!(
        "STALL {what} writers={writers} alone p50={}us p99={}us p99.9={}us max={}us puts/s={:.0} | during p50={}us p99={}us p99.9={}us max={}us puts/s={:.0} | p99 ratio={:.2} p99.9 ratio={:.2} max ratio={:.2} throughput ratio={:.2}",
        alone.pct(0.5),
        alone.pct(0.99),
        alone.pct(0.999),
        alone.pct(1.0),
        alone.puts_per_sec(),
        during.pct(0.5),
        during.pct(0.99),
        during.pct(0.999),
        during.pct(1.0),
        during.puts_per_sec(),
        during.pct(0.99) as f64 / alone.pct(0.99).max(1) as f64,
        during.pct(0.999) as f64 / alone.pct(0.999).max(1) as f64,
        during.pct(1.0) as f64 / alone.pct(1.0).max(1) as f64,
        during.puts_per_sec() / alone.puts_per_sec(),
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
) -> Latencies {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = AtomicBool::new(false);
    let mut all = Vec::new();
    let started = std::time::Instant::now();
    let mut elapsed = std::time::Duration::ZERO;
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
        elapsed = started.elapsed();
        stop.store(true, Ordering::Relaxed);
        work.join().expect("background work");
    });
    all.sort_unstable();
    Latencies {
        sorted: all,
        elapsed,
    }
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

/// The real file system, recording when each log segment's data was last made durable:
/// what a Buffered writer's promise (a sync every `buffered_sync_interval`) comes to,
/// measured from outside the engine.
#[derive(Debug, Default)]
pub struct LogSyncs {
    syncs: std::sync::Mutex<Vec<std::time::Instant>>,
}

impl LogSyncs {
    /// The longest time, within `from..to`, between one log sync and the next (or the
    /// window's ends): an acknowledged Buffered write made just after a sync stays
    /// unsynced for up to that long.
    pub fn longest_gap(
        &self,
        from: std::time::Instant,
        to: std::time::Instant,
    ) -> std::time::Duration {
        let syncs = self.syncs.lock().expect("log syncs");
        let mut previous = from;
        let mut longest = std::time::Duration::ZERO;
        for &at in syncs.iter().filter(|&&at| at > from && at < to) {
            longest = longest.max(at - previous);
            previous = at;
        }
        longest.max(to - previous)
    }
}

/// A [`tidestore::fs::Vfs`] over [`tidestore::fs::StdFs`] that records log syncs in a
/// [`LogSyncs`].
#[derive(Debug)]
pub struct RecordingFs(pub std::sync::Arc<LogSyncs>);

#[derive(Debug)]
struct RecordedFile {
    inner: Box<dyn tidestore::fs::VfsFile>,
    log: Option<std::sync::Arc<LogSyncs>>,
}

impl RecordingFs {
    fn wrap(
        &self,
        path: &std::path::Path,
        inner: Box<dyn tidestore::fs::VfsFile>,
    ) -> Box<dyn tidestore::fs::VfsFile> {
        let is_log = path.extension().is_some_and(|e| e == "wal");
        Box::new(RecordedFile {
            inner,
            log: is_log.then(|| std::sync::Arc::clone(&self.0)),
        })
    }
}

impl tidestore::fs::Vfs for RecordingFs {
    fn create_dir_all(&self, path: &std::path::Path) -> std::io::Result<()> {
        tidestore::fs::StdFs.create_dir_all(path)
    }
    fn open(&self, path: &std::path::Path) -> std::io::Result<Box<dyn tidestore::fs::VfsFile>> {
        Ok(self.wrap(path, tidestore::fs::StdFs.open(path)?))
    }
    fn create(&self, path: &std::path::Path) -> std::io::Result<Box<dyn tidestore::fs::VfsFile>> {
        Ok(self.wrap(path, tidestore::fs::StdFs.create(path)?))
    }
    fn read_dir(&self, path: &std::path::Path) -> std::io::Result<Vec<String>> {
        tidestore::fs::StdFs.read_dir(path)
    }
    fn rename(&self, from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
        tidestore::fs::StdFs.rename(from, to)
    }
    fn remove_file(&self, path: &std::path::Path) -> std::io::Result<()> {
        tidestore::fs::StdFs.remove_file(path)
    }
    fn sync_dir(&self, path: &std::path::Path) -> std::io::Result<()> {
        tidestore::fs::StdFs.sync_dir(path)
    }
    fn exists(&self, path: &std::path::Path) -> std::io::Result<bool> {
        tidestore::fs::StdFs.exists(path)
    }
    fn create_dir(&self, path: &std::path::Path) -> std::io::Result<()> {
        tidestore::fs::StdFs.create_dir(path)
    }
    fn remove_dir(&self, path: &std::path::Path) -> std::io::Result<()> {
        tidestore::fs::StdFs.remove_dir(path)
    }
    fn entry_kind(
        &self,
        path: &std::path::Path,
    ) -> std::io::Result<Option<tidestore::fs::EntryKind>> {
        tidestore::fs::StdFs.entry_kind(path)
    }
    fn lock(
        &self,
        path: &std::path::Path,
    ) -> std::io::Result<Box<dyn std::any::Any + Send + Sync>> {
        tidestore::fs::StdFs.lock(path)
    }
}

impl RecordedFile {
    /// Records a sync that just completed, if this is a log segment.
    fn synced(&self) {
        if let Some(log) = &self.log {
            log.syncs
                .lock()
                .expect("log syncs")
                .push(std::time::Instant::now());
        }
    }
}

impl tidestore::fs::VfsFile for RecordedFile {
    fn append(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.inner.append(data)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        self.inner.write_at(offset, data)
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read_at(offset, buf)
    }
    fn len(&self) -> std::io::Result<u64> {
        self.inner.len()
    }
    fn set_len(&mut self, len: u64) -> std::io::Result<()> {
        self.inner.set_len(len)
    }
    fn sync_data(&mut self) -> std::io::Result<()> {
        self.inner.sync_data()?;
        self.synced();
        Ok(())
    }
    fn sync_all(&mut self) -> std::io::Result<()> {
        self.inner.sync_all()?;
        self.synced();
        Ok(())
    }
    fn start_writeback(&self, offset: u64, len: u64) {
        self.inner.start_writeback(offset, len)
    }

    fn drop_cached(&self, offset: u64, len: u64) {
        self.inner.drop_cached(offset, len)
    }
}
