//! Time to Live expiry on a manual clock: the sweeper deletes exactly the items whose
//! attribute is a Number of epoch seconds in the past, loses to a write that races with it,
//! stops when Time to Live is disabled, and its deletes replay from the log and through a
//! checkpoint; backups and point-in-time restores taken before a sweep keep the expired
//! items, and carry no Time to Live setting. A table whose sweep fails neither stops the
//! others nor goes unreported; expiry leaves no index entry behind; and a crash at any I/O
//! operation keeps a prefix of a sweep's deletes and every acknowledged write.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::sim_options;
use tidestore::fs::sim::SimFs;
use tidestore::ScalarAttributeType::S;
use tidestore::*;

const DIR: &str = "/db";
/// The manual clock's start, in epoch seconds.
const NOW: i64 = 1_700_000_000;

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Timestamp(NOW as u64 * 1000)))
}

/// An in-memory database on `clock` whose only sweeps are `delete_expired_items`.
fn memory_db(clock: &Arc<ManualClock>) -> Database {
    Database::in_memory_with(
        Options::in_memory()
            .clock(clock.clone())
            .background_worker(false)
            .ttl_change_interval(Duration::ZERO),
    )
    .unwrap()
}

fn create(db: &Database, table: &str) {
    db.create_table(
        CreateTableInput::new(table)
            .hash_key("pk", S)
            .pay_per_request(),
    )
    .unwrap();
}

fn enable(db: &Database, table: &str, attribute: &str) {
    db.update_time_to_live(UpdateTimeToLiveInput::enable(table, attribute))
        .unwrap();
}

fn put(db: &Database, table: &str, pk: &str, attributes: &[(&str, AttributeValue)]) {
    let mut item = Item::new().with("pk", pk);
    for (name, value) in attributes {
        item = item.with(*name, value.clone());
    }
    db.put_item(PutItemInput::new(table, item)).unwrap();
}

/// An item whose `expires` is `seconds`.
fn put_expiring(db: &Database, table: &str, pk: &str, seconds: i64) {
    put(
        db,
        table,
        pk,
        &[("expires", AttributeValue::number(seconds))],
    );
}

/// The partition keys of `table`'s items, sorted.
fn keys(db: &Database, table: &str) -> Vec<String> {
    let mut keys: Vec<String> = support::scan_sorted(db, table)
        .iter()
        .map(|item| match &item["pk"] {
            AttributeValue::S(s) => s.clone(),
            other => panic!("pk {other:?}"),
        })
        .collect();
    keys.sort();
    keys
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn ttl_status(db: &Database, table: &str) -> TimeToLiveStatus {
    db.describe_time_to_live(table)
        .unwrap()
        .time_to_live_description
        .time_to_live_status
}

#[test]
fn expired_items_are_deleted_and_unexpired_ones_kept() {
    let clock = clock();
    let db = memory_db(&clock);
    create(&db, "Sessions");
    create(&db, "NoTtl");
    enable(&db, "Sessions", "expires");
    // More items than a batch reads, so that a pass goes on after its first batch: the
    // even ones expired, the odd ones not yet.
    let count = 2500;
    for i in 0..count {
        let seconds = if i % 2 == 0 { NOW - 1 - i } else { NOW + 1 + i };
        put_expiring(&db, "Sessions", &format!("{i:04}"), seconds);
    }
    // Exactly now is not before now; fractions of a second count.
    put_expiring(&db, "Sessions", "now", NOW);
    let fraction = |text: &str| AttributeValue::n(text).unwrap();
    put(
        &db,
        "Sessions",
        "half-past",
        &[("expires", fraction("1699999999.5"))],
    );
    put(
        &db,
        "Sessions",
        "half-to",
        &[("expires", fraction("1700000000.5"))],
    );
    put_expiring(&db, "NoTtl", "old", NOW - 100);

    // Not swept yet: still returned, as DynamoDB returns expired items it has not deleted.
    let key = Item::new().with("pk", "0000");
    let got = db
        .get_item(GetItemInput::new("Sessions", key.clone()))
        .unwrap();
    assert!(got.item.is_some());

    assert_eq!(db.delete_expired_items().unwrap(), 1250 + 1);
    let mut expected: Vec<String> = (0..count)
        .filter(|i| i % 2 == 1)
        .map(|i| format!("{i:04}"))
        .collect();
    expected.extend(strings(&["half-to", "now"]));
    expected.sort();
    assert_eq!(keys(&db, "Sessions"), expected);
    assert_eq!(keys(&db, "NoTtl"), strings(&["old"]));
    let got = db.get_item(GetItemInput::new("Sessions", key)).unwrap();
    assert_eq!(got.item, None);
    assert_eq!(db.delete_expired_items().unwrap(), 0);

    // Time passes: the rest expire.
    clock.advance(10_000 * 1000);
    assert_eq!(db.delete_expired_items().unwrap(), 1250 + 2);
    assert_eq!(keys(&db, "Sessions"), Vec::<String>::new());
    assert_eq!(keys(&db, "NoTtl"), strings(&["old"]));
}

#[test]
fn items_without_a_past_number_in_the_ttl_attribute_are_never_deleted() {
    let clock = clock();
    let db = memory_db(&clock);
    create(&db, "Tbl");
    enable(&db, "Tbl", "expires");
    let past = AttributeValue::number(NOW - 60);
    let six_years = 6 * 365 * 24 * 60 * 60;
    put(&db, "Tbl", "missing", &[("other", past.clone())]);
    put(
        &db,
        "Tbl",
        "string",
        &[("expires", AttributeValue::s("1600000000"))],
    );
    put(
        &db,
        "Tbl",
        "list",
        &[("expires", AttributeValue::L(vec![past.clone()]))],
    );
    put(
        &db,
        "Tbl",
        "set",
        &[("expires", AttributeValue::ns([NOW - 60]).unwrap())],
    );
    put(
        &db,
        "Tbl",
        "bool",
        &[("expires", AttributeValue::Bool(true))],
    );
    let nested = Item::new().with("expires", past.clone());
    put(&db, "Tbl", "nested", &[("meta", AttributeValue::M(nested))]);
    // Milliseconds by mistake: far in the future.
    put_expiring(&db, "Tbl", "millis", (NOW - 60) * 1000);
    // DynamoDB leaves expiry times more than five years old alone.
    put_expiring(&db, "Tbl", "ancient", NOW - six_years);
    put_expiring(&db, "Tbl", "gone", NOW - 60);

    assert_eq!(db.delete_expired_items().unwrap(), 1);
    assert_eq!(
        keys(&db, "Tbl"),
        strings(&["ancient", "bool", "list", "millis", "missing", "nested", "set", "string"])
    );
}

#[test]
fn a_write_racing_with_the_sweeper_wins() {
    let clock = clock();
    // The hook runs between the sweeper's read of a batch and its delete, holding no lock:
    // there it changes three of the four expired items, through a handle it takes once
    // (so that the database does not hold a handle to itself).
    let racer: Arc<Mutex<Option<Database>>> = Arc::default();
    let hook_racer = Arc::clone(&racer);
    let hook = move |table: &str| {
        let Some(db) = hook_racer.lock().unwrap().take() else {
            return;
        };
        let update = |pk: &str, update: Update| {
            let key = Item::new().with("pk", pk);
            db.update_item(UpdateItemInput::new(table, key, update))
                .unwrap();
        };
        update(
            "later",
            Update::new().set("expires", AttributeValue::number(NOW + 3600)),
        );
        update("removed", Update::new().remove("expires"));
        update(
            "string",
            Update::new().set("expires", AttributeValue::s("soon")),
        );
    };
    let db = Database::in_memory_with(
        Options::in_memory()
            .clock(clock.clone())
            .background_worker(false)
            .ttl_sweep_hook(Arc::new(hook)),
    )
    .unwrap();
    create(&db, "Tbl");
    enable(&db, "Tbl", "expires");
    for pk in ["later", "removed", "string", "untouched"] {
        put_expiring(&db, "Tbl", pk, NOW - 10);
    }
    *racer.lock().unwrap() = Some(db.clone());

    assert_eq!(db.delete_expired_items().unwrap(), 1);
    assert!(racer.lock().unwrap().is_none(), "the hook ran");
    assert_eq!(keys(&db, "Tbl"), strings(&["later", "removed", "string"]));
}

#[test]
fn disabling_time_to_live_stops_deletion() {
    let clock = clock();
    let db = memory_db(&clock);
    create(&db, "Tbl");
    enable(&db, "Tbl", "expires");
    put(
        &db,
        "Tbl",
        "a",
        &[
            ("expires", AttributeValue::number(NOW - 10)),
            ("until", AttributeValue::number(NOW + 10)),
        ],
    );
    put(
        &db,
        "Tbl",
        "b",
        &[("until", AttributeValue::number(NOW - 10))],
    );
    db.update_time_to_live(UpdateTimeToLiveInput::disable("Tbl", "expires"))
        .unwrap();
    assert_eq!(ttl_status(&db, "Tbl"), TimeToLiveStatus::Disabled);
    assert_eq!(db.delete_expired_items().unwrap(), 0);
    assert_eq!(keys(&db, "Tbl"), strings(&["a", "b"]));
    // Enabled again on another attribute: items expire by that one only.
    enable(&db, "Tbl", "until");
    assert_eq!(ttl_status(&db, "Tbl"), TimeToLiveStatus::Enabled);
    assert_eq!(db.delete_expired_items().unwrap(), 1);
    assert_eq!(keys(&db, "Tbl"), strings(&["a"]));
}

#[test]
fn ttl_deletes_replay_from_the_log_and_through_a_checkpoint() {
    let fs = SimFs::new();
    let clock = clock();
    let open = || {
        Database::open_with(
            DIR,
            sim_options(&fs)
                .clock(clock.clone())
                .ttl_change_interval(Duration::ZERO)
                .snapshot_on_close(false),
        )
        .unwrap()
    };
    let db = open();
    create(&db, "Tbl");
    enable(&db, "Tbl", "expires");
    for i in 0..50 {
        let seconds = if i % 2 == 0 { NOW - 10 } else { NOW + 10 };
        put_expiring(&db, "Tbl", &format!("{i:02}"), seconds);
    }
    // The items are in the table's snapshot; the deletes only in the log after it.
    db.checkpoint().unwrap();
    assert_eq!(db.delete_expired_items().unwrap(), 25);
    put_expiring(&db, "Tbl", "after", NOW + 10);
    let expected = keys(&db, "Tbl");
    assert_eq!(expected.len(), 26);
    // From the snapshot and the log (no snapshot on close).
    drop(db);
    let db = open();
    assert_eq!(keys(&db, "Tbl"), expected);
    // A checkpoint replays the deletes into the table's next snapshot, which the next open
    // reads instead of the log.
    db.checkpoint().unwrap();
    drop(db);
    let db = open();
    assert_eq!(keys(&db, "Tbl"), expected);
    assert_eq!(ttl_status(&db, "Tbl"), TimeToLiveStatus::Enabled);
    assert_eq!(db.delete_expired_items().unwrap(), 0);
}

#[test]
fn backups_and_restores_taken_before_a_sweep_keep_the_expired_items_and_no_ttl() {
    let fs = SimFs::new();
    let clock = clock();
    let db = Database::open_with(DIR, sim_options(&fs).clock(clock.clone())).unwrap();
    create(&db, "Tbl");
    enable(&db, "Tbl", "expires");
    support::enable_pitr(&db, "Tbl", None);
    put_expiring(&db, "Tbl", "old", NOW - 10);
    put_expiring(&db, "Tbl", "new", NOW + 3600);
    clock.advance(1000);
    let before_sweep = Timestamp((NOW as u64 + 1) * 1000);
    let backup = db.create_backup("Tbl", "BeforeSweep").unwrap();
    let backup = backup.backup_details.backup_arn;
    clock.advance(1000);
    assert_eq!(db.delete_expired_items().unwrap(), 1);
    clock.advance(1000);
    // Built after the sweep, from the log up to its request.
    db.wait_for_backup(&backup, Duration::from_secs(10))
        .unwrap();

    db.restore_table_from_backup(RestoreTableFromBackupInput::new(&backup, "FromBackup"))
        .unwrap();
    db.restore_table_to_point_in_time(RestoreTableToPointInTimeInput::at(
        "Tbl",
        "FromPitr",
        before_sweep,
    ))
    .unwrap();
    db.restore_table_to_point_in_time(RestoreTableToPointInTimeInput::latest("Tbl", "Latest"))
        .unwrap();
    assert_eq!(keys(&db, "Tbl"), strings(&["new"]));
    assert_eq!(keys(&db, "Latest"), strings(&["new"]));
    for restored in ["FromBackup", "FromPitr", "Latest"] {
        assert_eq!(
            ttl_status(&db, restored),
            TimeToLiveStatus::Disabled,
            "{restored}"
        );
    }
    // The restored tables have no Time to Live: their expired item stays.
    assert_eq!(db.delete_expired_items().unwrap(), 0);
    for restored in ["FromBackup", "FromPitr"] {
        assert_eq!(keys(&db, restored), strings(&["new", "old"]), "{restored}");
    }
}

#[test]
fn the_background_sweeper_deletes_expired_items_at_its_pace() {
    let clock = clock();
    let too_slow = Options::in_memory().ttl_sweep_pause(Duration::from_secs(61));
    let refused = Database::in_memory_with(too_slow).unwrap_err();
    assert_eq!(refused.exception_name(), "ValidationException", "{refused}");

    let db = Database::in_memory_with(
        Options::in_memory()
            .clock(clock.clone())
            .ttl_sweep_pause(Duration::ZERO),
    )
    .unwrap();
    create(&db, "Tbl");
    enable(&db, "Tbl", "expires");
    put_expiring(&db, "Tbl", "kept", NOW + 10);
    put_expiring(&db, "Tbl", "gone", NOW - 10);
    let start = Instant::now();
    while keys(&db, "Tbl").len() > 1 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the sweeper deleted nothing"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(keys(&db, "Tbl"), strings(&["kept"]));
    assert_eq!(db.maintenance_error(), None);
    // Dropping the last handle stops the sweeper (the test would hang otherwise).
    drop(db);
}

#[test]
fn writers_racing_with_the_background_sweeper_keep_every_item_they_extend() {
    let clock = clock();
    // The hook says when the sweeper has read a batch, and then holds the batch's delete
    // back a little: the writers run into batches read and not yet deleted.
    let (batch_read, batches) = std::sync::mpsc::channel();
    let batch_read = Mutex::new(batch_read);
    let hook = move |_: &str| {
        let _ = batch_read.lock().unwrap().send(());
        std::thread::sleep(Duration::from_millis(20));
    };
    let db = Database::in_memory_with(
        Options::in_memory()
            .clock(clock.clone())
            .ttl_sweep_pause(Duration::ZERO)
            .ttl_sweep_hook(Arc::new(hook)),
    )
    .unwrap();
    create(&db, "Tbl");
    let count = 3000;
    for i in 0..count {
        put_expiring(&db, "Tbl", &format!("{i:04}"), NOW - 10);
    }
    enable(&db, "Tbl", "expires");
    batches.recv_timeout(Duration::from_secs(30)).unwrap();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || {
                // Every third item, from both ends: each gets a later expiry time. An update
                // of an item swept already makes it again, also with the later time.
                let extended = (0..count).filter(|i| i % 3 == 0);
                let order: Vec<i64> = match w {
                    0 => extended.collect(),
                    _ => extended.rev().collect(),
                };
                for i in order {
                    let key = Item::new().with("pk", format!("{i:04}"));
                    let later = Update::new().set("expires", AttributeValue::number(NOW + 3600));
                    db.update_item(UpdateItemInput::new("Tbl", key, later))
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let expected: Vec<String> = (0..count)
        .filter(|i| i % 3 == 0)
        .map(|i| format!("{i:04}"))
        .collect();
    let start = Instant::now();
    while keys(&db, "Tbl").len() > expected.len() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the sweep stalled"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(keys(&db, "Tbl"), expected);
}

/// A database in `fs` whose table "Broken" has Time to Live on and three expired items in a
/// snapshot whose first block passes its checksum but does not decode (as
/// tests/corruption.rs forges it): every pass over it fails. Tables created after it are
/// swept after it ("Intact" sorts after "Broken").
fn forge_broken_table(fs: &SimFs) {
    let db = Database::open_with(DIR, sim_options(fs).ttl_change_interval(Duration::ZERO)).unwrap();
    create(&db, "Broken");
    enable(&db, "Broken", "expires");
    for pk in ["a", "b", "c"] {
        put_expiring(&db, "Broken", pk, NOW - 10);
    }
    db.close().unwrap();
    let path = fs
        .paths()
        .into_iter()
        .find(|p| p.to_string_lossy().ends_with(".snap"))
        .unwrap();
    let mut bytes = fs.file_bytes(&path).unwrap();
    // The first block: kind, len, crc, then its payload (count, item bytes, last key's
    // length, last key, items). Make the first item's attribute count absurd and seal the
    // block with a fresh checksum.
    let le32 = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let block = 20 + le32(12);
    let len = le32(block + 1);
    let payload = block + 9;
    let key_len = le32(payload + 12);
    bytes[payload + 16 + key_len] = 0xfe;
    let crc = crc32c::crc32c_append(
        crc32c::crc32c(&bytes[block..block + 5]),
        &bytes[payload..payload + len],
    );
    bytes[block + 5..block + 9].copy_from_slice(&crc.to_le_bytes());
    fs.set_file_bytes(&path, &bytes).unwrap();
}

/// Creates "Intact" with Time to Live on, an expired item "gone" and a live one "kept".
fn create_intact_table(db: &Database) {
    create(db, "Intact");
    enable(db, "Intact", "expires");
    put_expiring(db, "Intact", "gone", NOW - 10);
    put_expiring(db, "Intact", "kept", NOW + 10);
}

#[test]
fn a_table_whose_sweep_fails_does_not_stop_expiry_in_the_tables_after_it() {
    let fs = SimFs::new();
    forge_broken_table(&fs);
    let options = sim_options(&fs).ttl_change_interval(Duration::ZERO);
    let db = Database::open_with(DIR, options).unwrap();
    create_intact_table(&db);

    let failed = db.delete_expired_items().unwrap_err();
    assert!(matches!(failed, Error::Corruption(_)), "{failed}");
    assert_eq!(keys(&db, "Intact"), strings(&["kept"]));
}

/// The sweeper's failures have a slot of their own: the maintenance rounds that succeed in
/// between do not clear it, and the first pass that succeeds does.
#[test]
fn a_failing_sweep_stays_reported_until_a_pass_succeeds() {
    let fs = SimFs::new();
    forge_broken_table(&fs);
    let options = sim_options(&fs)
        .ttl_change_interval(Duration::ZERO)
        .background_worker(true)
        .maintenance_interval(Duration::from_millis(5))
        .ttl_sweep_pause(Duration::ZERO);
    let db = Database::open_with(DIR, options).unwrap();
    create_intact_table(&db);
    let reported = |db: &Database| {
        db.maintenance_error()
            .is_some_and(|e| e.contains("Time to Live sweep: table Broken:"))
    };
    let start = Instant::now();
    while !reported(&db) {
        assert!(start.elapsed() < Duration::from_secs(30), "never reported");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Longer than the time between two passes (a second), through hundreds of rounds.
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        assert!(reported(&db), "{:?}", db.maintenance_error());
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(keys(&db, "Intact"), strings(&["kept"]));

    db.delete_table("Broken").unwrap();
    let start = Instant::now();
    while db.maintenance_error().is_some() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?}",
            db.maintenance_error()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Creates `table` keyed by `pk` and `sk`, with a local index "Local" and a global index
/// "Global", both on `grp` and projecting every attribute.
fn create_indexed(db: &Database, table: &str) -> Result<()> {
    let input = CreateTableInput::new(table)
        .hash_key("pk", S)
        .range_key("sk", S)
        .local_index("Local", "grp", S, Projection::all())
        .global_index("Global", ("grp", S), None, Projection::all())
        .pay_per_request();
    db.create_table(input).map(drop)
}

/// An item of a [`create_indexed`] table, in both its indexes, whose `expires` is `seconds`.
fn indexed_item(pk: &str, seconds: i64) -> Item {
    Item::new()
        .with("pk", pk)
        .with("sk", "0")
        .with("grp", "g")
        .with("expires", AttributeValue::number(seconds))
}

/// The partition keys of the items of `table` (`None`) or of one of its indexes, sorted.
fn index_keys(db: &Database, table: &str, index: Option<&str>) -> Vec<String> {
    let mut input = ScanInput::new(table);
    input.index_name = index.map(str::to_owned);
    let mut keys = Vec::new();
    loop {
        let page = db.scan(input.clone()).unwrap();
        for item in &page.items {
            match &item["pk"] {
                AttributeValue::S(s) => keys.push(s.clone()),
                other => panic!("pk {other:?}"),
            }
        }
        match page.last_evaluated_key {
            Some(k) => input.exclusive_start_key = Some(k),
            None => break,
        }
    }
    keys.sort();
    keys
}

/// The keys of a [`create_indexed`] table, then of "Local", then of "Global".
fn indexed_state(db: &Database, table: &str) -> [Vec<String>; 3] {
    [None, Some("Local"), Some("Global")].map(|index| index_keys(db, table, index))
}

/// The item counts `DescribeTable` reports for a [`create_indexed`] table, "Local" and
/// "Global": an index entry left behind, which a scan skips, is counted here.
fn indexed_counts(db: &Database, table: &str) -> [u64; 3] {
    let table = db.describe_table(table).unwrap();
    let local = &table.local_secondary_indexes.unwrap()[0];
    let global = &table.global_secondary_indexes.unwrap()[0];
    [table.item_count, local.item_count, global.item_count]
}

#[test]
fn expiry_removes_the_items_from_the_local_and_global_indexes_live_and_after_recovery() {
    let fs = SimFs::new();
    let open = || {
        let options = sim_options(&fs)
            .ttl_change_interval(Duration::ZERO)
            .snapshot_on_close(false);
        Database::open_with(DIR, options).unwrap()
    };
    let db = open();
    create_indexed(&db, "Idx").unwrap();
    enable(&db, "Idx", "expires");
    for (pk, seconds) in [("gone1", NOW - 10), ("gone2", NOW - 20), ("kept", NOW + 10)] {
        db.put_item(PutItemInput::new("Idx", indexed_item(pk, seconds)))
            .unwrap();
    }
    // The items and their index entries are in the snapshot; the deletes only in the log.
    db.checkpoint().unwrap();
    assert_eq!(db.delete_expired_items().unwrap(), 2);
    let expected = [strings(&["kept"]), strings(&["kept"]), strings(&["kept"])];
    assert_eq!(indexed_state(&db, "Idx"), expected);
    assert_eq!(indexed_counts(&db, "Idx"), [1, 1, 1]);
    drop(db);
    let db = open();
    assert_eq!(indexed_state(&db, "Idx"), expected);
    assert_eq!(indexed_counts(&db, "Idx"), [1, 1, 1]);
    db.checkpoint().unwrap();
    drop(db);
    let db = open();
    assert_eq!(indexed_state(&db, "Idx"), expected);
    assert_eq!(indexed_counts(&db, "Idx"), [1, 1, 1]);
}

/// Items of the crash test, put by steps 2 to 7 (a batch of 25 each); all but every 15th
/// expired, so that the sweep logs two records (100 deletes, then 40).
const CRASH_ITEMS: usize = 150;
/// The crash test's sweep step, and how many steps it has.
const SWEEP_STEP: usize = 9;
const CRASH_STEPS: usize = 12;

fn crash_item_expired(i: usize) -> bool {
    !i.is_multiple_of(15)
}

/// The steps of the crash test: a table with both kinds of index, Time to Live on, items
/// put a batch at a time, a checkpoint, the sweep, a write after it, a checkpoint.
fn crash_step(db: &Database, step: usize) -> Result<()> {
    match step {
        0 => create_indexed(db, "Idx"),
        1 => db
            .update_time_to_live(UpdateTimeToLiveInput::enable("Idx", "expires"))
            .map(drop),
        2..=7 => {
            let batch = (0..25).fold(BatchWriteItemInput::new(), |batch, j| {
                let i = (step - 2) * 25 + j;
                let seconds = if crash_item_expired(i) {
                    NOW - 10
                } else {
                    NOW + 10
                };
                batch.put("Idx", indexed_item(&format!("{i:03}"), seconds))
            });
            let out = db.batch_write_item(batch)?;
            assert!(out.unprocessed_items.is_empty());
            Ok(())
        }
        8 | 11 => db.checkpoint(),
        SWEEP_STEP => db.delete_expired_items().map(drop),
        _ => db
            .put_item(PutItemInput::new("Idx", indexed_item("after", NOW + 10)))
            .map(drop),
    }
}

/// I1 and I2 for Time to Live deletes: after a crash at any I/O operation, under every crash
/// policy, the table and both its indexes hold every acknowledged write, and of the sweep's
/// deletes a prefix (in the order it logged them): all of them once it was acknowledged.
#[test]
fn a_crash_at_every_io_operation_keeps_a_prefix_of_the_sweep_and_every_acknowledged_write() {
    let clock = clock();
    let states: Vec<[Vec<String>; 3]> = (0..=CRASH_STEPS)
        .map(|steps| {
            let db = memory_db(&clock);
            for step in 0..steps {
                crash_step(&db, step).unwrap();
            }
            match steps {
                0 => Default::default(),
                _ => indexed_state(&db, "Idx"),
            }
        })
        .collect();
    // The sweep deletes in the table's order, which a scan follows (not the keys' order).
    let expired: Vec<String> = {
        let db = memory_db(&clock);
        for step in 0..SWEEP_STEP {
            crash_step(&db, step).unwrap();
        }
        let pks = support::scan_all(&db, "Idx")
            .into_iter()
            .map(|item| item["pk"].clone());
        let pks = pks.map(|pk| match pk {
            AttributeValue::S(pk) => pk,
            other => panic!("pk {other:?}"),
        });
        pks.filter(|pk| crash_item_expired(pk.parse().unwrap()))
            .collect()
    };
    assert_eq!(expired.len(), CRASH_ITEMS - CRASH_ITEMS / 15);
    // The states a crash in the sweep may leave: its first `n` deletes made.
    let sweep_prefixes: Vec<[Vec<String>; 3]> = (0..=expired.len())
        .map(|n| {
            states[SWEEP_STEP].clone().map(|keys| {
                keys.into_iter()
                    .filter(|k| !expired[..n].contains(k))
                    .collect()
            })
        })
        .collect();
    assert_eq!(sweep_prefixes[expired.len()], states[SWEEP_STEP + 1]);
    let options = |fs: &SimFs| sim_options(fs).ttl_change_interval(Duration::ZERO);
    let mut mid_sweep = 0;
    support::crash_at_every_io_operation(
        DIR,
        CRASH_STEPS,
        options,
        crash_step,
        |acked, db, context| {
            let recovered = match db.describe_table("Idx") {
                Ok(_) => indexed_state(db, "Idx"),
                Err(_) => Default::default(),
            };
            let ok = match acked {
                SWEEP_STEP => sweep_prefixes.contains(&recovered),
                CRASH_STEPS => recovered == states[acked],
                _ => recovered == states[acked] || recovered == states[acked + 1],
            };
            assert!(ok, "{context}: recovered {recovered:?}");
            if acked == SWEEP_STEP && sweep_prefixes[1..expired.len()].contains(&recovered) {
                mid_sweep += 1;
            }
        },
    );
    // The test crashed between the sweep's two records at least once.
    assert!(mid_sweep > 0, "no crash left the sweep half made");
}
