//! Invariant I6's "never an allocation sized by untrusted input", measured: a counting global
//! allocator records the peak bytes allocated while each decoder reads inputs that claim
//! hostile lengths (2^32 − 1, 2^40, 2^60 elements or bytes) at every length field of a
//! valid file and of a log record. The peak must stay within a small multiple of the
//! input's own size plus the decoders' fixed buffers (a snapshot block is at most 64 KiB,
//! a decode is limited to `MAX_DECODE_BYTES`), whatever the input claims. One summary line:
//! `ALLOC …`.
//!
//! Its own test binary, so no other test's allocations count.
#![allow(clippy::unwrap_used)]
// A global allocator is unsafe to implement; this one only forwards to the system allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tidestore::fuzz_support;
use tidestore::ScalarAttributeType::{N, S};
use tidestore::*;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the counters only
// observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::SeqCst) + new_size
                - layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Held by each test: the counters are global, so the tests measure one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The peak bytes allocated (above what was live before) while `f` runs.
fn peak_during(f: impl FnOnce()) -> usize {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    f();
    PEAK.load(Ordering::SeqCst).saturating_sub(base)
}

/// The files of a small real database: a snapshot, a backup, the catalog and a log segment.
fn sample_files() -> Vec<(&'static str, Vec<u8>)> {
    let dir = std::env::temp_dir().join(format!("tidestore-alloc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
    let db = Database::open_with(
        &dir,
        Options::default().clock(clock).background_worker(false),
    )
    .unwrap();
    db.create_table(
        CreateTableInput::new("items")
            .hash_key("pk", S)
            .range_key("n", N)
            .pay_per_request()
            // Settings, so that the snapshot's settings block and the log's settings
            // records (kinds 14 and 13) are among the hostile lengths: tags, Time to Live
            // and resource policies, each a map or string with its length.
            .tags([Tag::new("team", "blue")])
            .resource_policy(r#"{"Version": "2012-10-17", "Statement": []}"#),
    )
    .unwrap();
    db.update_time_to_live(UpdateTimeToLiveInput::enable("items", "expires"))
        .unwrap();
    db.put_resource_policy(PutResourcePolicyInput::new(
        "arn:aws:dynamodb:us-east-1:000000000000:table/items",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny"}]}"#,
    ))
    .unwrap();
    db.update_continuous_backups(UpdateContinuousBackupsInput::new("items", true))
        .unwrap();
    for n in 0..20 {
        let item = Item::from([
            ("pk".to_string(), AttributeValue::s("p")),
            ("n".to_string(), AttributeValue::number(n)),
            (
                "l".to_string(),
                AttributeValue::L(vec![AttributeValue::s("x"); 3]),
            ),
        ]);
        db.put_item(PutItemInput::new("items", item)).unwrap();
        if n == 9 {
            db.checkpoint().unwrap();
        }
    }
    let arn = db
        .create_backup("items", "sample")
        .unwrap()
        .backup_details
        .backup_arn;
    db.wait_for_backup(&arn, std::time::Duration::from_secs(10))
        .unwrap();
    db.checkpoint().unwrap();
    drop(db);
    let one = |sub: &str| {
        let entry = std::fs::read_dir(dir.join(sub))
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        std::fs::read(entry.path()).unwrap()
    };
    let files = vec![
        ("snapshot", one("snapshots")),
        ("backup", one("backups")),
        ("catalog", std::fs::read(dir.join("CATALOG")).unwrap()),
        ("log_segment", one("wal")),
    ];
    let _ = std::fs::remove_dir_all(&dir);
    files
}

type Harness = fn(&[u8]);

#[test]
fn hostile_lengths_never_size_an_allocation() {
    let _serial = serial();
    let files = sample_files();
    let harness = |kind: &str| -> Harness {
        match kind {
            "snapshot" => fuzz_support::snapshot_file,
            "backup" => fuzz_support::backup_file,
            "catalog" => fuzz_support::catalog_file,
            _ => fuzz_support::log_segment,
        }
    };
    // Lengths a hostile file may claim, in every encoding a length field can have here: a
    // little-endian u32 or u64 (file headers) and bincode's varint (251 = u16, 252 = u32,
    // 253 = u64 follow).
    let claims: Vec<Vec<u8>> = vec![
        u32::MAX.to_le_bytes().to_vec(),
        (1u64 << 40).to_le_bytes().to_vec(),
        (1u64 << 60).to_le_bytes().to_vec(),
        [vec![252], u32::MAX.to_le_bytes().to_vec()].concat(),
        [vec![253], (1u64 << 60).to_le_bytes().to_vec()].concat(),
    ];
    let mut worst = 0usize;
    let mut inputs = 0usize;
    for (kind, bytes) in &files {
        let decode = harness(kind);
        // The honest file, for reference.
        let honest = peak_during(|| decode(bytes));
        for offset in 0..bytes.len() {
            for claim in &claims {
                let mut hostile = bytes.clone();
                let end = (offset + claim.len()).min(hostile.len());
                hostile[offset..end].copy_from_slice(&claim[..end - offset]);
                let peak = peak_during(|| decode(&hostile));
                inputs += 1;
                worst = worst.max(peak);
                // A snapshot block is read whole (at most 64 KiB); a decode is limited to
                // 64 MiB but never reaches it for a small file: allow the honest peak, a
                // block, and a generous multiple of the file itself.
                let allowed = honest + 256 * 1024 + 64 * bytes.len();
                assert!(
                    peak <= allowed,
                    "{kind}: claiming {claim:?} at byte {offset} allocated {peak} bytes (honest: {honest}, allowed {allowed})"
                );
            }
        }
    }
    // A log record payload alone (the mutation codec with its depth and size limits).
    let payload = [vec![3, 253], (1u64 << 60).to_le_bytes().to_vec()].concat();
    let peak = peak_during(|| fuzz_support::log_record_payload(&payload));
    assert!(
        peak < 64 * 1024,
        "a hostile mutation allocated {peak} bytes"
    );
    println!(
        "ALLOC files={} hostile_inputs={inputs} worst_peak_bytes={worst} payload_peak_bytes={peak}",
        files.len()
    );
}

/// A file longer than its kind's format allows — a catalog over 20 bytes of header plus the
/// 32 MiB decode limit, a log segment over 1 GiB (the largest `segment_bytes`) plus one
/// record of at most 32 MiB — is corruption, refused before it is read: opening allocates
/// nothing near its length. (Sparse files: the disk holds no such bytes.)
#[test]
fn a_file_longer_than_its_format_allows_is_refused_before_it_is_read() {
    let _serial = serial();
    const MIB: u64 = 1024 * 1024;
    let dir = std::env::temp_dir().join(format!("tidestore-long-{}", std::process::id()));
    let options = || Options::default().background_worker(false);
    let newest_segment = |dir: &std::path::Path| {
        let mut names: Vec<_> = std::fs::read_dir(dir.join("wal"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        names.pop().unwrap()
    };
    type PathOf = fn(&std::path::Path) -> std::path::PathBuf;
    let cases: [(&str, PathOf, u64); 2] = [
        ("catalog", |dir| dir.join("CATALOG"), 20 + 32 * MIB),
        (
            "log segment",
            newest_segment,
            // A record header (32 bytes since format 4), the largest payload, a seal.
            1024 * MIB + 32 + 32 * MIB + 16,
        ),
    ];
    for (what, path, max_len) in cases {
        let _ = std::fs::remove_dir_all(&dir);
        let db = Database::open_with(&dir, options()).unwrap();
        db.create_table(
            CreateTableInput::new("items")
                .hash_key("pk", S)
                .pay_per_request(),
        )
        .unwrap();
        drop(db);
        let honest = peak_during(|| drop(Database::open_with(&dir, options()).unwrap()));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path(&dir))
            .unwrap();
        file.set_len(max_len + 1).unwrap();
        drop(file);
        let mut outcome = None;
        let peak = peak_during(|| outcome = Some(Database::open_with(&dir, options()).map(drop)));
        match outcome.unwrap() {
            Err(Error::Corruption(message)) => {
                assert!(
                    message.contains("longer than its format allows"),
                    "{message}"
                )
            }
            other => panic!(
                "{what} of {} bytes: expected Corruption, got {other:?}",
                max_len + 1
            ),
        }
        assert!(
            peak < honest + MIB as usize,
            "{what} of {} bytes: opening allocated {peak} bytes (honest open: {honest})",
            max_len + 1
        );
        println!("ALLOC too_long={what} bytes={} peak={peak}", max_len + 1);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A CSV import with the largest `HeaderList` the model allows (255 names of up to 65,536
/// characters: 16 MiB) copies it neither for each file nor for each line: a line naming an
/// item its names alone make larger than 400 KB is refused before an item is built. (Each
/// file copied the list, and each line copied its names into an item that was then refused:
/// 16 MiB of copying for a line of 255 bytes.)
#[test]
fn a_csv_header_list_is_not_copied_for_each_file_or_line() {
    let _serial = serial();
    let names: Vec<String> = std::iter::once("pk".to_owned())
        .chain((1..255).map(|i| format!("{i:03}{}", "n".repeat(65_535 - 3))))
        .collect();
    let line = |i: usize| format!("p{i}{}\n", ",".repeat(254));
    let files: Vec<Vec<u8>> = (0..4)
        .map(|f| {
            (0..3)
                .map(|l| line(f * 3 + l))
                .collect::<String>()
                .into_bytes()
        })
        .collect();
    let definition = CreateTableInput::new("Csv")
        .hash_key("pk", S)
        .pay_per_request();
    let db = Database::in_memory();
    let options = CsvOptions::default().header_list(names);
    let input = ImportTableInput::new(definition);
    let mut description = None;
    let peak = peak_during(|| {
        description = Some(
            db.import_table_from_csv(input, options, files.iter().map(|f| &f[..]))
                .unwrap()
                .import_table_description,
        );
    });
    let description = description.unwrap();
    assert_eq!(
        (description.processed_item_count, description.error_count),
        (12, 12)
    );
    assert!(
        description.item_errors[0]
            .message
            .contains("Item size has exceeded"),
        "{:?}",
        description.item_errors[0]
    );
    println!("ALLOC csv header_list=16MiB files=4 lines=12 peak={peak}");
    assert!(peak < 4 << 20, "the import allocated {peak} bytes");
}

/// A CSV line of 8 MiB of delimiters (8 million empty values) is one item in error whose
/// reading holds a bounded number of values: no item can have more columns than it has
/// bytes (every column but an empty key is an attribute with a name), so past
/// `MAX_ITEM_SIZE` values the rest are not kept. (Each value was kept, 24 bytes for an empty
/// one: 200 MB for one line of 8 MiB.)
#[test]
fn a_csv_line_of_millions_of_values_is_not_held_value_by_value() {
    let _serial = serial();
    let mut file = b"pk\n".to_vec();
    file.extend(std::iter::repeat_n(b',', MAX_IMPORT_LINE_BYTES - 1));
    file.extend_from_slice(b"\np1\n");
    let definition = CreateTableInput::new("Csv")
        .hash_key("pk", S)
        .pay_per_request();
    let db = Database::in_memory();
    let input = ImportTableInput::new(definition);
    let mut description = None;
    let peak = peak_during(|| {
        description = Some(
            db.import_table_from_csv(input, CsvOptions::default(), [&file[..]])
                .unwrap()
                .import_table_description,
        );
    });
    let description = description.unwrap();
    assert_eq!(
        (
            description.processed_item_count,
            description.error_count,
            description.imported_item_count
        ),
        (2, 1, 1),
        "{:?}",
        description.item_errors
    );
    assert!(
        description.item_errors[0].message.contains("more values"),
        "{:?}",
        description.item_errors[0]
    );
    println!("ALLOC csv values=8Mi peak={peak}");
    assert!(peak < 64 << 20, "the import allocated {peak} bytes");
}
