//! Behaviour tests of on-demand backups: `CreateBackup`, `DescribeBackup`, `ListBackups`,
//! `DeleteBackup` and `RestoreTableFromBackup`, with every error they produce; invariant I5
//! (writers never wait for a backup build), proven deterministically by holding the build
//! with `Options::backup_build_hook`; invariant I7 on the simulated file system (a backup
//! acknowledged as CREATING is built after a crash, also one at any I/O operation of its
//! build; a crash at any I/O operation of a restore leaves the whole table or none); and the
//! JSON of every output type.
//!
//! Databases live in unique directories under the system temp dir (removed at the end) or
//! on `SimFs`. Time comes from a `ManualClock`, so creation times, ARNs, time ranges and the
//! rate limit are exact.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use tidestore::fs::sim::{CrashPolicy, SimFs};
use tidestore::ScalarAttributeType::{N, S};
use tidestore::*;

use support::TempDir;

/// The seed's example time: 2019-12-17T20:59:26.715Z.
const T0: u64 = 1_576_616_366_715;
const WAIT: Duration = Duration::from_secs(20);
const TABLE_ARN_PREFIX: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Holds backup builds back: the hook blocks in the background worker until the test opens
/// the gate, and counts how often the worker reached it.
#[derive(Default)]
struct Gate {
    state: Mutex<(bool, usize)>,
    cv: Condvar,
}

impl Gate {
    fn new() -> Arc<Gate> {
        Arc::new(Gate::default())
    }

    fn hook(self: &Arc<Gate>) -> BackupBuildHook {
        let gate = Arc::clone(self);
        Arc::new(move |_arn: &str| gate.pass())
    }

    /// Blocks until the gate opens — or, as a backstop against a test that fails while the
    /// gate is shut (dropping a database joins its worker), for at most a minute.
    fn pass(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut state = self.state.lock().unwrap();
        state.1 += 1;
        self.cv.notify_all();
        while !state.0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            state = self.cv.wait_timeout(state, left).unwrap().0;
        }
    }

    /// Waits until the worker has reached the hook `n` times: from then on a build is held.
    fn wait_entered(&self, n: usize) {
        let deadline = Instant::now() + WAIT;
        let mut state = self.state.lock().unwrap();
        while state.1 < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the backup worker never reached the build hook"
            );
            state = self.cv.wait_timeout(state, left).unwrap().0;
        }
    }

    fn open(&self) {
        self.state.lock().unwrap().0 = true;
        self.cv.notify_all();
    }
}

/// Opens the gate when dropped, so that a failing test never leaves the worker blocked while
/// the database waits for it to stop. Declare it after the database.
struct OpenOnDrop(Arc<Gate>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Timestamp(T0)))
}

fn options(clock: &Arc<ManualClock>) -> Options {
    Options::default().clock(clock.clone())
}

fn held_options(clock: &Arc<ManualClock>, gate: &Arc<Gate>) -> Options {
    options(clock).backup_build_hook(gate.hook())
}

fn open(dir: &TempDir, options: Options) -> Database {
    Database::open_with(dir.path(), options).unwrap()
}

/// Options for a database on `sim`. The worker also wakes on its own every 10 ms, so that
/// a backup pending at open starts building without a request to wake it.
fn sim_options(sim: &SimFs, clock: &Arc<ManualClock>) -> Options {
    options(clock)
        .fs(Arc::new(sim.clone()))
        .maintenance_interval(Duration::from_millis(10))
}

/// `{"S": text}`.
fn s(text: &str) -> AttributeValue {
    AttributeValue::s(text)
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::number(value)
}

/// The definition of the `MusicCollection`-like table most tests use: provisioned 5/5, an
/// LSI on `Year`, a GSI on `Genre`/`Year` and a stream.
fn music_input(name: &str) -> CreateTableInput {
    let mut input = CreateTableInput::new(name)
        .hash_key("Artist", S)
        .range_key("SongTitle", S)
        .provisioned(5, 5)
        .local_index("ByYear", "Year", N, Projection::all())
        .global_index(
            "ByGenre",
            ("Genre", S),
            Some(("Year", N)),
            Projection::keys_only(),
        );
    input.stream_specification =
        Some(StreamSpecification::new(true).stream_view_type(StreamViewType::NewAndOldImages));
    input
}

fn music(db: &Database, name: &str) -> TableDescription {
    db.create_table(music_input(name)).unwrap()
}

/// An on-demand table with only a partition key `pk` (S).
fn plain(db: &Database, name: &str) {
    db.create_table(
        CreateTableInput::new(name)
            .hash_key("pk", S)
            .pay_per_request(),
    )
    .unwrap();
}

fn song(artist: &str, title: &str, year: i64, genre: &str) -> Item {
    Item::from([
        ("Artist".to_string(), s(artist)),
        ("SongTitle".to_string(), s(title)),
        ("Year".to_string(), n(year)),
        ("Genre".to_string(), s(genre)),
    ])
}

fn song_key(artist: &str, title: &str) -> Item {
    Item::from([
        ("Artist".to_string(), s(artist)),
        ("SongTitle".to_string(), s(title)),
    ])
}

fn row(pk: &str, v: i64) -> Item {
    Item::from([("pk".to_string(), s(pk)), ("v".to_string(), n(v))])
}

fn pk(value: &str) -> Item {
    Item::from([("pk".to_string(), s(value))])
}

fn put(db: &Database, table: &str, item: Item) {
    db.put_item(PutItemInput::new(table, item)).unwrap();
}

fn get(db: &Database, table: &str, key: Item) -> Option<Item> {
    db.get_item(GetItemInput::new(table, key)).unwrap().item
}

/// Twelve songs by three artists in three genres.
fn fill_music(db: &Database, table: &str) {
    let genres = ["Rock", "Jazz", "Pop"];
    for a in 0..3 {
        for t in 0..4 {
            put(
                db,
                table,
                song(
                    &format!("Artist{a}"),
                    &format!("Song{t}"),
                    1990 + (a * 4 + t) % 5,
                    genres[((a + t) % 3) as usize],
                ),
            );
        }
    }
}

/// Every item of a table (or index), following `LastEvaluatedKey`, sorted.
fn scan_all(db: &Database, input: ScanInput) -> Vec<Item> {
    let mut input = input.limit(5);
    let mut items = Vec::new();
    loop {
        let page = db.scan(input.clone()).unwrap();
        items.extend(page.items);
        match page.last_evaluated_key {
            Some(start) => input.exclusive_start_key = Some(start),
            None => break,
        }
    }
    items.sort();
    items
}

fn items(db: &Database, table: &str) -> Vec<Item> {
    scan_all(db, ScanInput::new(table))
}

/// Every item of a query, in the order the query returns them, two to a page.
fn query_all(db: &Database, input: QueryInput) -> Vec<Item> {
    support::query_all(db, input.limit(2))
}

fn by_year(table: &str, artist: &str) -> QueryInput {
    QueryInput::new(table, KeyCondition::partition("Artist", s(artist))).index_name("ByYear")
}

fn by_genre(table: &str, genre: &str) -> QueryInput {
    QueryInput::new(table, KeyCondition::partition("Genre", s(genre))).index_name("ByGenre")
}

fn backup(db: &Database, table: &str, name: &str) -> BackupDetails {
    db.create_backup(table, name).unwrap().backup_details
}

/// Waits for the backup to become AVAILABLE and returns its description.
#[track_caller]
fn built(db: &Database, arn: &str) -> BackupDescription {
    let description = db.wait_for_backup(arn, WAIT).unwrap();
    assert_eq!(
        description.backup_details.backup_status,
        BackupStatus::Available,
        "backup {arn} did not become AVAILABLE (maintenance error: {:?})",
        db.maintenance_error()
    );
    description
}

fn restore(db: &Database, arn: &str, target: &str) -> TableDescription {
    db.restore_table_from_backup(RestoreTableFromBackupInput::new(arn, target))
        .unwrap()
        .table_description
}

fn list(db: &Database, input: ListBackupsInput) -> Vec<BackupSummary> {
    let out = db.list_backups(input).unwrap();
    assert_eq!(out.last_evaluated_backup_arn, None, "one page expected");
    out.backup_summaries
}

fn list_all(db: &Database) -> Vec<BackupSummary> {
    list(
        db,
        ListBackupsInput::new().backup_type(BackupTypeFilter::All),
    )
}

fn names(summaries: &[BackupSummary]) -> Vec<&str> {
    summaries.iter().map(|b| b.backup_name.as_str()).collect()
}

/// Asserts `result` is the error DynamoDB calls `exception`.
#[track_caller]
fn exception<T: std::fmt::Debug>(result: Result<T>, exception: &str) -> Error {
    match result {
        Err(e) if e.exception_name() == exception => e,
        other => panic!("expected {exception}, got {other:?}"),
    }
}

#[track_caller]
fn table_absent(db: &Database, table: &str) {
    exception(db.describe_table(table), "ResourceNotFoundException");
    let tables = db.list_tables(ListTablesInput::default()).unwrap();
    assert!(
        !tables.table_names.iter().any(|t| t == table),
        "{table} is listed: {:?}",
        tables.table_names
    );
}

/// The backup file of `arn` under `<dir>/backups/*.bkp`.
fn backup_file(dir: &Path, arn: &str) -> PathBuf {
    let suffix = arn.rsplit('/').next().unwrap();
    let files = backup_files(dir);
    files
        .iter()
        .find(|p| p.file_name().unwrap().to_string_lossy().contains(suffix))
        .cloned()
        .unwrap_or_else(|| panic!("no backup file of {arn} among {files:?}"))
}

fn backup_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join("backups")) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bkp"))
        .collect();
    files.sort();
    files
}

/// The item blocks of a backup file: everything after the header and its metadata
/// (`snapshot.rs` documents the layout: magic 8, version 4, metadata length 4 (LE), CRC 4,
/// metadata).
fn payload(bytes: &[u8]) -> &[u8] {
    let len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    &bytes[20 + len..]
}

// ---------------------------------------------------------------------------------------------
// CreateBackup
// ---------------------------------------------------------------------------------------------

#[test]
fn create_backup_prints_the_seed_json_with_status_creating_and_size_zero() {
    let dir = TempDir::new("json");
    let gate = Gate::new();
    let db = open(&dir, held_options(&clock(), &gate));
    let _release = OpenOnDrop(gate.clone());
    music(&db, "MusicCollection");
    let out = db
        .create_backup("MusicCollection", "MusicCollectionBackup")
        .unwrap();
    let arn = &out.backup_details.backup_arn;
    let expected = format!(
        r#"{{
  "BackupDetails": {{
    "BackupArn": "{arn}",
    "BackupName": "MusicCollectionBackup",
    "BackupSizeBytes": 0,
    "BackupStatus": "CREATING",
    "BackupType": "USER",
    "BackupCreationDateTime": 1576616366.715
  }}
}}"#
    );
    assert_eq!(serde_json::to_string_pretty(&out).unwrap(), expected);
}

#[test]
fn backup_arn_is_the_table_arn_then_14_digit_creation_millis_and_8_lowercase_hex() {
    let dir = TempDir::new("arn");
    let clock = clock();
    let db = open(&dir, options(&clock));
    music(&db, "Music");
    let check = |details: &BackupDetails, millis: &str| {
        let rest = details
            .backup_arn
            .strip_prefix(&format!("{TABLE_ARN_PREFIX}Music/backup/"))
            .unwrap_or_else(|| panic!("unexpected ARN {}", details.backup_arn));
        let (digits, hex) = rest.split_once('-').unwrap();
        assert_eq!(digits, millis, "{}", details.backup_arn);
        assert_eq!(
            digits.parse::<u64>().unwrap(),
            details.backup_creation_date_time.millis()
        );
        assert_eq!(hex.len(), 8, "{}", details.backup_arn);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{}",
            details.backup_arn
        );
    };
    let first = backup(&db, "Music", "first");
    assert_eq!(first.backup_creation_date_time, Timestamp(T0));
    check(&first, "01576616366715");
    // Two backups in the same millisecond differ by their suffix.
    let twin = backup(&db, "Music", "twin");
    check(&twin, "01576616366715");
    assert_ne!(twin.backup_arn, first.backup_arn);
    clock.advance(1_234);
    let later = backup(&db, "Music", "later");
    check(&later, "01576616367949");
    assert_eq!(later.backup_creation_date_time, Timestamp(T0 + 1_234));
}

#[test]
fn backup_arns_name_the_region_and_account_of_the_options() {
    let dir = TempDir::new("scope");
    let db = open(
        &dir,
        options(&clock())
            .region("eu-west-2")
            .account("123456789012"),
    );
    plain(&db, "Things");
    let details = backup(&db, "Things", "scoped");
    assert!(
        details.backup_arn.starts_with(
            "arn:aws:dynamodb:eu-west-2:123456789012:table/Things/backup/01576616366715-"
        ),
        "{}",
        details.backup_arn
    );
    let by_arn = backup(
        &db,
        "arn:aws:dynamodb:eu-west-2:123456789012:table/Things",
        "by-arn",
    );
    assert!(by_arn
        .backup_arn
        .starts_with("arn:aws:dynamodb:eu-west-2:123456789012:table/Things/backup/"));
}

#[test]
fn create_backup_accepts_the_table_arn_as_well_as_the_name() {
    let dir = TempDir::new("by_arn");
    let db = open(&dir, options(&clock()));
    let table = music(&db, "Music");
    assert_eq!(table.table_arn, format!("{TABLE_ARN_PREFIX}Music"));
    let by_arn = backup(&db, &table.table_arn, "by-arn");
    assert!(by_arn
        .backup_arn
        .starts_with(&format!("{}/backup/", table.table_arn)));
    let described = db.describe_backup(&by_arn.backup_arn).unwrap();
    let source = &described.backup_description.source_table_details;
    assert_eq!(source.table_name, "Music");
    assert_eq!(source.table_arn, table.table_arn);
    assert_eq!(source.table_id, table.table_id);
    let by_name = backup(&db, "Music", "by-name");
    assert_eq!(
        names(&list(&db, ListBackupsInput::default())),
        ["by-arn", "by-name"]
    );
    built(&db, &by_arn.backup_arn);
    built(&db, &by_name.backup_arn);
}

#[test]
fn backup_names_must_be_3_to_255_characters_of_letters_digits_underscore_dot_dash() {
    let dir = TempDir::new("names");
    let db = open(&dir, options(&clock()));
    plain(&db, "Things");
    let long = "a".repeat(256);
    for bad in [
        "",
        "ab",
        long.as_str(),
        "my backup",
        "my/backup",
        "back$up",
        "bäckup",
        "..",
    ] {
        exception(db.create_backup("Things", bad), "ValidationException");
    }
    let longest = "b".repeat(255);
    for good in ["abc", longest.as_str(), "My_Backup.2024-01"] {
        let details = backup(&db, "Things", good);
        assert_eq!(details.backup_name, good);
    }
    assert_eq!(
        names(&list(&db, ListBackupsInput::default())),
        ["abc", longest.as_str(), "My_Backup.2024-01"],
        "no rejected name was recorded"
    );
}

#[test]
fn create_backup_of_a_missing_table_is_table_not_found() {
    let dir = TempDir::new("missing");
    let db = open(&dir, options(&clock()));
    exception(db.create_backup("Nope", "backup"), "TableNotFoundException");
    exception(
        db.create_backup(&format!("{TABLE_ARN_PREFIX}Nope"), "backup"),
        "TableNotFoundException",
    );
    plain(&db, "Gone");
    db.delete_table("Gone").unwrap();
    exception(db.create_backup("Gone", "backup"), "TableNotFoundException");
    assert!(list_all(&db).is_empty());
}

#[test]
fn create_backup_past_the_rate_limit_within_one_second_is_limit_exceeded() {
    assert_eq!(
        Options::default().backup_rate_limit,
        50,
        "DynamoDB's limit is 50 per second"
    );
    let dir = TempDir::new("rate");
    let clock = clock();
    let db = open(&dir, options(&clock).backup_rate_limit(3));
    plain(&db, "Things");
    for i in 0..3 {
        backup(&db, "Things", &format!("ok-{i}"));
    }
    exception(
        db.create_backup("Things", "fourth"),
        "LimitExceededException",
    );
    clock.advance(999);
    exception(
        db.create_backup("Things", "still-too-soon"),
        "LimitExceededException",
    );
    clock.advance(1);
    backup(&db, "Things", "a-second-later");
    assert_eq!(
        names(&list(&db, ListBackupsInput::default())),
        ["ok-0", "ok-1", "ok-2", "a-second-later"]
    );
}

#[test]
fn create_backup_on_an_in_memory_database_is_continuous_backups_unavailable() {
    let db = Database::in_memory();
    plain(&db, "Things");
    exception(
        db.create_backup("Things", "backup"),
        "ContinuousBackupsUnavailableException",
    );
    assert!(list_all(&db).is_empty());
}

// ---------------------------------------------------------------------------------------------
// The build
// ---------------------------------------------------------------------------------------------

#[test]
fn a_built_backup_is_available_with_the_file_size_and_the_table_counts_at_its_marker() {
    let dir = TempDir::new("built");
    let gate = Gate::new();
    let db = open(&dir, held_options(&clock(), &gate));
    let _release = OpenOnDrop(gate.clone());
    music(&db, "Music");
    fill_music(&db, "Music");
    let at_marker = db.describe_table("Music").unwrap();
    assert_eq!(at_marker.item_count, 12);
    let details = backup(&db, "Music", "counted");
    gate.wait_entered(1);
    // Writes after the call change the live counts, not the backup's.
    put(&db, "Music", song("Late", "Comer", 2020, "Rock"));
    db.delete_item(DeleteItemInput::new("Music", song_key("Artist0", "Song0")))
        .unwrap();
    put(
        &db,
        "Music",
        song("Artist1", "Song1", 1999, "Rock and Roll"),
    );
    assert_ne!(
        db.describe_table("Music").unwrap().table_size_bytes,
        at_marker.table_size_bytes
    );
    gate.open();
    let description = built(&db, &details.backup_arn);
    let size = description.backup_details.backup_size_bytes;
    assert!(size > 0);
    let file = backup_file(dir.path(), &details.backup_arn);
    assert_eq!(std::fs::metadata(&file).unwrap().len(), size);
    let source = &description.source_table_details;
    assert_eq!(source.item_count, 12);
    assert_eq!(source.table_size_bytes, at_marker.table_size_bytes);
    let summary = &list(&db, ListBackupsInput::default())[0];
    assert_eq!(summary.backup_status, BackupStatus::Available);
    assert_eq!(summary.backup_size_bytes, size);
    let progress = db.backup_progress(&details.backup_arn).unwrap();
    assert_eq!(progress.items_done, 12);
}

#[test]
fn describe_backup_shows_the_source_tables_keys_throughput_indexes_and_stream() {
    let dir = TempDir::new("describe");
    let db = open(&dir, options(&clock()));
    let table = music(&db, "Music");
    fill_music(&db, "Music");
    let details = backup(&db, "Music", "described");
    let description = built(&db, &details.backup_arn);
    assert_eq!(
        db.describe_backup(&details.backup_arn)
            .unwrap()
            .backup_description,
        description
    );
    assert_eq!(description.backup_details.backup_name, "described");
    assert_eq!(description.backup_details.backup_type, BackupType::User);
    assert_eq!(
        description.backup_details.backup_creation_date_time,
        Timestamp(T0)
    );
    let source = &description.source_table_details;
    assert_eq!(source.table_name, "Music");
    assert_eq!(source.table_id, table.table_id);
    assert_eq!(source.table_arn, table.table_arn);
    assert_eq!(source.key_schema, table.key_schema);
    assert_eq!(source.table_creation_date_time, table.creation_date_time);
    assert_eq!(
        source.provisioned_throughput,
        ProvisionedThroughput::new(5, 5)
    );
    assert_eq!(source.billing_mode, BillingMode::Provisioned);
    let input = music_input("Music");
    let features = &description.source_table_feature_details;
    assert_eq!(
        features.local_secondary_indexes.as_ref(),
        Some(&input.local_secondary_indexes)
    );
    assert_eq!(
        features.global_secondary_indexes.as_ref(),
        Some(&input.global_secondary_indexes)
    );
    assert_eq!(
        features.global_secondary_indexes.as_ref().unwrap()[0].provisioned_throughput,
        Some(ProvisionedThroughput::new(5, 5))
    );
    assert_eq!(features.stream_description, input.stream_specification);

    // A plain on-demand table: no indexes, no stream, zero throughput.
    plain(&db, "Things");
    let plain_backup = backup(&db, "Things", "plain");
    let description = built(&db, &plain_backup.backup_arn);
    let source = &description.source_table_details;
    assert_eq!(source.billing_mode, BillingMode::PayPerRequest);
    assert_eq!(
        source.provisioned_throughput,
        ProvisionedThroughput::new(0, 0)
    );
    assert_eq!(source.key_schema, vec![KeySchemaElement::hash("pk")]);
    assert_eq!(source.item_count, 0);
    let features = &description.source_table_feature_details;
    assert_eq!(features.local_secondary_indexes, None);
    assert_eq!(features.global_secondary_indexes, None);
    assert_eq!(features.stream_description, None);
}

#[test]
fn the_marker_lsn_follows_every_earlier_write_and_precedes_every_later_one() {
    let dir = TempDir::new("marker");
    let db = open(&dir, options(&clock()));
    plain(&db, "Things");
    put(&db, "Things", row("a", 1));
    let before = db.last_lsn();
    let details = backup(&db, "Things", "marked");
    let marker = db.backup_progress(&details.backup_arn).unwrap().marker_lsn;
    assert!(marker >= before, "marker {marker} < last LSN {before}");
    put(&db, "Things", row("b", 2));
    let after = db.last_lsn();
    assert!(after > marker, "a later write has LSN {after} <= {marker}");
    built(&db, &details.backup_arn);
    assert_eq!(
        db.backup_progress(&details.backup_arn).unwrap().marker_lsn,
        marker,
        "the marker does not move when the backup is built"
    );
    restore(&db, &details.backup_arn, "Restored");
    assert_eq!(items(&db, "Restored"), vec![row("a", 1)]);
}

/// Issue 4 (beyond DynamoDB): "a building backup reports its progress (items and bytes done
/// out of total)" — done and total in the same units, so a finished build is at 100%.
#[test]
fn backup_progress_counts_done_and_total_in_the_same_units_and_ends_at_the_total() {
    let dir = TempDir::new("progress");
    let gate = Gate::new();
    let db = open(&dir, held_options(&clock(), &gate));
    let _release = OpenOnDrop(gate.clone());
    music(&db, "Music");
    fill_music(&db, "Music");
    let table = db.describe_table("Music").unwrap();
    let details = backup(&db, "Music", "progressing");
    gate.wait_entered(1);
    let pending = db.backup_progress(&details.backup_arn).unwrap();
    assert_eq!(pending.items_total, 12);
    assert_eq!(pending.bytes_total, table.table_size_bytes);
    assert_eq!((pending.items_done, pending.bytes_done), (0, 0));
    gate.open();
    built(&db, &details.backup_arn);
    let done = db.backup_progress(&details.backup_arn).unwrap();
    assert_eq!(done.marker_lsn, pending.marker_lsn);
    assert_eq!(done.items_done, done.items_total);
    assert_eq!(
        done.bytes_done, done.bytes_total,
        "a finished build is at 100% of its bytes: {done:?}"
    );
}

#[test]
fn a_table_never_snapshotted_is_backed_up_from_the_log_alone() {
    let dir = TempDir::new("no_snapshot");
    let db = open(
        &dir,
        options(&clock())
            .checkpoint_min_log_bytes(u64::MAX / 2)
            .maintenance_interval(Duration::from_secs(3600)),
    );
    music(&db, "Music");
    fill_music(&db, "Music");
    db.update_item(UpdateItemInput::new(
        "Music",
        song_key("Artist2", "Song3"),
        Update::new().set("Plays", n(7)),
    ))
    .unwrap();
    db.delete_item(DeleteItemInput::new("Music", song_key("Artist1", "Song0")))
        .unwrap();
    let snapshots: Vec<_> = std::fs::read_dir(dir.path().join("snapshots"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(
        snapshots.is_empty(),
        "the table already has a snapshot: {snapshots:?}"
    );
    let expected = items(&db, "Music");
    let details = backup(&db, "Music", "from-log");
    built(&db, &details.backup_arn);
    restore(&db, &details.backup_arn, "Restored");
    assert_eq!(items(&db, "Restored"), expected);
}

#[test]
fn a_table_backed_up_after_a_checkpoint_and_more_writes_holds_both() {
    let dir = TempDir::new("checkpointed");
    let db = open(&dir, options(&clock()));
    music(&db, "Music");
    fill_music(&db, "Music");
    db.checkpoint().unwrap();
    let snapshots = std::fs::read_dir(dir.path().join("snapshots"))
        .unwrap()
        .count();
    assert!(snapshots > 0, "the checkpoint wrote no snapshot");
    put(&db, "Music", song("After", "Checkpoint", 2001, "Pop"));
    db.delete_item(DeleteItemInput::new("Music", song_key("Artist0", "Song1")))
        .unwrap();
    db.update_item(UpdateItemInput::new(
        "Music",
        song_key("Artist2", "Song2"),
        Update::new().set("Genre", s("Blues")),
    ))
    .unwrap();
    let expected = items(&db, "Music");
    let details = backup(&db, "Music", "snapshot-plus-log");
    let description = built(&db, &details.backup_arn);
    assert_eq!(description.source_table_details.item_count, 12);
    restore(&db, &details.backup_arn, "Restored");
    assert_eq!(items(&db, "Restored"), expected);
    assert_eq!(
        query_all(&db, by_genre("Restored", "Blues")).len(),
        1,
        "the GSI of the restore reflects the update after the snapshot"
    );
}

#[test]
fn several_pending_backups_of_one_and_of_two_tables_all_become_available_with_their_own_contents() {
    let dir = TempDir::new("several");
    let gate = Gate::new();
    let db = open(&dir, held_options(&clock(), &gate));
    let _release = OpenOnDrop(gate.clone());
    plain(&db, "Alpha");
    plain(&db, "Beta");
    let mut expected = Vec::new();
    for i in 0..4 {
        put(&db, "Alpha", row(&format!("a{i}"), i));
        let a = backup(&db, "Alpha", &format!("alpha-{i}"));
        expected.push((a.backup_arn, items(&db, "Alpha")));
        if i % 2 == 0 {
            put(&db, "Beta", row(&format!("b{i}"), i));
            db.delete_item(DeleteItemInput::new("Alpha", pk("a0")))
                .unwrap();
            let b = backup(&db, "Beta", &format!("beta-{i}"));
            expected.push((b.backup_arn, items(&db, "Beta")));
        }
    }
    gate.wait_entered(1);
    let pending = list_all(&db);
    assert_eq!(pending.len(), 6);
    assert!(pending
        .iter()
        .all(|b| b.backup_status == BackupStatus::Creating && b.backup_size_bytes == 0));
    gate.open();
    for (i, (arn, contents)) in expected.iter().enumerate() {
        built(&db, arn);
        let target = format!("Restored{i}");
        restore(&db, arn, &target);
        assert_eq!(&items(&db, &target), contents, "backup {arn}");
    }
    assert!(list_all(&db)
        .iter()
        .all(|b| b.backup_status == BackupStatus::Available));
}

#[test]
fn identical_table_states_give_backups_with_identical_items_and_payloads() {
    let dir = TempDir::new("identical");
    let db = open(&dir, options(&clock()));
    music(&db, "TwinA");
    music(&db, "TwinB");
    fill_music(&db, "TwinA");
    // The same final state reached another way: reverse order, detours, overwrites.
    put(&db, "TwinB", song("Artist9", "Temporary", 2000, "Rock"));
    let mut songs = items(&db, "TwinA");
    songs.reverse();
    for item in songs {
        let mut draft = item.clone();
        draft.insert("Draft".into(), s("yes"));
        put(&db, "TwinB", draft);
        put(&db, "TwinB", item);
    }
    db.delete_item(DeleteItemInput::new(
        "TwinB",
        song_key("Artist9", "Temporary"),
    ))
    .unwrap();
    assert_eq!(items(&db, "TwinA"), items(&db, "TwinB"));
    let a = backup(&db, "TwinA", "twin-a");
    let b = backup(&db, "TwinB", "twin-b");
    let a_description = built(&db, &a.backup_arn);
    let b_description = built(&db, &b.backup_arn);
    assert_eq!(
        a_description.source_table_details.item_count,
        b_description.source_table_details.item_count
    );
    assert_eq!(
        a_description.source_table_details.table_size_bytes,
        b_description.source_table_details.table_size_bytes
    );
    let a_bytes = std::fs::read(backup_file(dir.path(), &a.backup_arn)).unwrap();
    let b_bytes = std::fs::read(backup_file(dir.path(), &b.backup_arn)).unwrap();
    assert!(
        payload(&a_bytes) == payload(&b_bytes),
        "the item blocks of identical tables differ"
    );
    restore(&db, &a.backup_arn, "RestoredA");
    restore(&db, &b.backup_arn, "RestoredB");
    assert_eq!(items(&db, "RestoredA"), items(&db, "RestoredB"));
    assert_eq!(items(&db, "RestoredA"), items(&db, "TwinA"));
}

// ---------------------------------------------------------------------------------------------
// I5: writers never wait
// ---------------------------------------------------------------------------------------------

#[test]
fn i5_writers_commit_and_are_read_while_a_backup_build_is_held() {
    let dir = TempDir::new("i5");
    let gate = Gate::new();
    let db = open(&dir, held_options(&clock(), &gate));
    let _release = OpenOnDrop(gate.clone());
    music(&db, "Music");
    plain(&db, "Ledger");
    fill_music(&db, "Music");
    put(&db, "Ledger", row("balance", 100));
    let at_call = items(&db, "Music");

    let out = db.create_backup("Music", "held").unwrap().backup_details;
    assert_eq!(out.backup_status, BackupStatus::Creating);
    assert_eq!(out.backup_size_bytes, 0);
    // From here the worker sits in the hook: the build has started and cannot finish.
    gate.wait_entered(1);

    // Puts, updates, deletes, batches and transactions on the same table commit.
    put(&db, "Music", song("New", "Single", 2024, "Pop"));
    db.update_item(UpdateItemInput::new(
        "Music",
        song_key("Artist0", "Song0"),
        Update::new().set("Plays", n(1)),
    ))
    .unwrap();
    db.delete_item(DeleteItemInput::new("Music", song_key("Artist1", "Song1")))
        .unwrap();
    let mut batch = BatchWriteItemInput::default();
    batch.request_items.insert(
        "Music".into(),
        vec![WriteRequest::Put {
            item: song("Batch", "Track", 2023, "Jazz"),
        }],
    );
    db.batch_write_item(batch).unwrap();
    db.transact_write_items(TransactWriteItemsInput::new(vec![
        TransactWriteItem::Put(PutItemInput::new(
            "Music",
            song("Txn", "Song", 2022, "Rock"),
        )),
        TransactWriteItem::Update(
            UpdateItemInput::new("Ledger", pk("balance"), Update::new().add("v", n(-1)))
                .condition(Condition::attribute_exists("v")),
        ),
    ]))
    .unwrap();
    assert!(get(&db, "Music", song_key("New", "Single")).is_some());
    assert_eq!(
        get(&db, "Music", song_key("Artist0", "Song0")).unwrap()["Plays"],
        n(1)
    );
    assert_eq!(get(&db, "Music", song_key("Artist1", "Song1")), None);
    assert!(get(&db, "Music", song_key("Batch", "Track")).is_some());
    assert!(get(&db, "Music", song_key("Txn", "Song")).is_some());
    assert_eq!(get(&db, "Ledger", pk("balance")).unwrap()["v"], n(99));
    assert_eq!(
        query_all(&db, by_year("Music", "New")).len(),
        1,
        "indexes are maintained too"
    );

    // The backup is still building, and everything that would need it built says so.
    let described = db.describe_backup(&out.backup_arn).unwrap();
    assert_eq!(
        described.backup_description.backup_details.backup_status,
        BackupStatus::Creating
    );
    assert_eq!(
        described
            .backup_description
            .backup_details
            .backup_size_bytes,
        0
    );
    assert_eq!(
        list(&db, ListBackupsInput::default())[0].backup_status,
        BackupStatus::Creating
    );
    exception(db.delete_table("Music"), "ResourceInUseException");
    assert_eq!(
        db.describe_table("Music").unwrap().table_status,
        TableStatus::Active
    );
    exception(db.delete_backup(&out.backup_arn), "BackupInUseException");
    exception(
        db.restore_table_from_backup(RestoreTableFromBackupInput::new(&out.backup_arn, "TooSoon")),
        "BackupInUseException",
    );
    table_absent(&db, "TooSoon");
    // Other tables can be deleted meanwhile.
    db.delete_table("Ledger").unwrap();

    gate.open();
    built(&db, &out.backup_arn);
    restore(&db, &out.backup_arn, "Restored");
    assert_eq!(
        items(&db, "Restored"),
        at_call,
        "the backup holds exactly the table at the call"
    );
    // Once built, the source table can be deleted.
    db.delete_table("Music").unwrap();
}

#[test]
fn a_backup_keeps_the_indexes_of_its_marker_whatever_update_table_does_after_the_call() {
    let dir = TempDir::new("update_table");
    let gate = Gate::new();
    let db = open(&dir, held_options(&clock(), &gate));
    let _release = OpenOnDrop(gate.clone());
    music(&db, "Music");
    fill_music(&db, "Music");
    let contents = items(&db, "Music");
    let jazz = query_all(&db, by_genre("Music", "Jazz"));
    let details = backup(&db, "Music", "before-ddl");
    gate.wait_entered(1);

    // After the call: the GSI is dropped, another one is added, and items change.
    db.update_table(
        UpdateTableInput::new("Music").global_secondary_index_updates(vec![
            GlobalSecondaryIndexUpdate::Delete {
                index_name: "ByGenre".into(),
            },
        ]),
    )
    .unwrap();
    db.update_table(
        UpdateTableInput::new("Music")
            .attribute_definitions(vec![AttributeDefinition::new("Plays", N)])
            .global_secondary_index_updates(vec![GlobalSecondaryIndexUpdate::Create(
                GlobalSecondaryIndex::new(
                    "ByPlays",
                    vec![KeySchemaElement::hash("Plays")],
                    Projection::all(),
                )
                .provisioned_throughput(ProvisionedThroughput::new(1, 1)),
            )]),
    )
    .unwrap();
    let mut played = song("Artist0", "Song0", 1990, "Jazz");
    played.insert("Plays".into(), n(3));
    put(&db, "Music", played);

    gate.open();
    let description = built(&db, &details.backup_arn);
    let globals = description
        .source_table_feature_details
        .global_secondary_indexes
        .unwrap();
    assert_eq!(
        globals
            .iter()
            .map(|g| g.index_name.as_str())
            .collect::<Vec<_>>(),
        ["ByGenre"]
    );
    let restored = restore(&db, &details.backup_arn, "Restored");
    let restored_globals: Vec<String> = restored
        .global_secondary_indexes
        .iter()
        .flatten()
        .map(|g| g.index_name.clone())
        .collect();
    assert_eq!(restored_globals, ["ByGenre"]);
    assert_eq!(items(&db, "Restored"), contents);
    assert_eq!(query_all(&db, by_genre("Restored", "Jazz")), jazz);
}

// ---------------------------------------------------------------------------------------------
// ListBackups
// ---------------------------------------------------------------------------------------------

/// A database with tables Alpha and Beta and backups a_0 (T0), b_0 (T0+1s), a_1 (T0+2s),
/// b_1 (T0+3s), a_2 (T0+4s) and a_3 (also T0+4s).
fn listed_backups(dir: &TempDir) -> (Database, Vec<BackupDetails>) {
    let clock = clock();
    let db = open(dir, options(&clock));
    plain(&db, "Alpha");
    plain(&db, "Beta");
    let mut made = Vec::new();
    for (table, name, at) in [
        ("Alpha", "a_0", 0),
        ("Beta", "b_0", 1_000),
        ("Alpha", "a_1", 2_000),
        ("Beta", "b_1", 3_000),
        ("Alpha", "a_2", 4_000),
        ("Alpha", "a_3", 4_000),
    ] {
        clock.set(Timestamp(T0 + at));
        made.push(backup(&db, table, name));
    }
    (db, made)
}

#[test]
fn list_backups_returns_user_backups_in_creation_order() {
    let dir = TempDir::new("list_order");
    let (db, made) = listed_backups(&dir);
    let listed = list(&db, ListBackupsInput::default());
    assert_eq!(names(&listed), ["a_0", "b_0", "a_1", "b_1", "a_2", "a_3"]);
    let alpha = db.describe_table("Alpha").unwrap();
    for (summary, details) in listed.iter().zip(&made) {
        assert_eq!(summary.backup_arn, details.backup_arn);
        assert_eq!(
            summary.backup_creation_date_time,
            details.backup_creation_date_time
        );
        assert_eq!(summary.backup_type, BackupType::User);
        assert_eq!(summary.backup_expiry_date_time, None);
        assert!(matches!(
            summary.backup_status,
            BackupStatus::Creating | BackupStatus::Available
        ));
    }
    assert_eq!(listed[0].table_name, "Alpha");
    assert_eq!(listed[0].table_arn, alpha.table_arn);
    assert_eq!(listed[0].table_id, alpha.table_id);
    assert_eq!(listed[1].table_name, "Beta");
    for details in &made {
        built(&db, &details.backup_arn);
    }
    let listed = list(&db, ListBackupsInput::default());
    assert_eq!(names(&listed), ["a_0", "b_0", "a_1", "b_1", "a_2", "a_3"]);
    assert!(listed
        .iter()
        .all(|b| b.backup_status == BackupStatus::Available && b.backup_size_bytes > 0));
}

#[test]
fn list_backups_filters_by_table_name_or_table_arn() {
    let dir = TempDir::new("list_table");
    let (db, _) = listed_backups(&dir);
    let by_name = |table: &str| list(&db, ListBackupsInput::new().table_name(table));
    assert_eq!(names(&by_name("Alpha")), ["a_0", "a_1", "a_2", "a_3"]);
    assert_eq!(names(&by_name("Beta")), ["b_0", "b_1"]);
    assert_eq!(
        names(&by_name(&format!("{TABLE_ARN_PREFIX}Beta"))),
        ["b_0", "b_1"]
    );
    assert!(by_name("Gamma").is_empty());
}

#[test]
fn list_backups_time_range_includes_the_lower_bound_and_excludes_the_upper_bound() {
    let dir = TempDir::new("list_time");
    let (db, _) = listed_backups(&dir);
    let range = |lower: Option<u64>, upper: Option<u64>| {
        let mut input = ListBackupsInput::new();
        input.time_range_lower_bound = lower.map(|l| Timestamp(T0 + l));
        input.time_range_upper_bound = upper.map(|u| Timestamp(T0 + u));
        let listed = list(&db, input);
        names(&listed)
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(range(Some(1_000), Some(3_000)), ["b_0", "a_1"]);
    assert_eq!(range(Some(1_000), Some(3_001)), ["b_0", "a_1", "b_1"]);
    assert_eq!(range(Some(1_001), None), ["a_1", "b_1", "a_2", "a_3"]);
    assert_eq!(range(Some(4_000), None), ["a_2", "a_3"]);
    assert_eq!(range(None, Some(0)), Vec::<String>::new());
    assert_eq!(range(None, Some(1)), ["a_0"]);
    assert_eq!(range(Some(2_000), Some(2_000)), Vec::<String>::new());
}

#[test]
fn list_backups_type_filter_is_user_by_default_and_all_includes_user() {
    let dir = TempDir::new("list_type");
    let (db, _) = listed_backups(&dir);
    let of_type = |filter: Option<BackupTypeFilter>| {
        let mut input = ListBackupsInput::new();
        input.backup_type = filter;
        list(&db, input).len()
    };
    assert_eq!(of_type(None), 6);
    assert_eq!(of_type(Some(BackupTypeFilter::User)), 6);
    assert_eq!(of_type(Some(BackupTypeFilter::System)), 0);
    assert_eq!(of_type(Some(BackupTypeFilter::AwsBackup)), 0);
    assert_eq!(of_type(Some(BackupTypeFilter::All)), 6);
}

#[test]
fn list_backups_pages_by_limit_and_last_evaluated_arn_visit_every_backup_once() {
    let dir = TempDir::new("list_pages");
    let (db, made) = listed_backups(&dir);
    let all: Vec<String> = made.iter().map(|b| b.backup_arn.clone()).collect();
    let alpha: Vec<String> = list(&db, ListBackupsInput::new().table_name("Alpha"))
        .into_iter()
        .map(|b| b.backup_arn)
        .collect();
    for (table, expected) in [(None, &all), (Some("Alpha"), &alpha)] {
        for limit in [1u32, 2, 4, 5, 6, 100] {
            let mut seen = Vec::new();
            let mut input = ListBackupsInput::new().limit(limit);
            input.table_name = table.map(String::from);
            let mut pages = 0;
            loop {
                let page = db.list_backups(input.clone()).unwrap();
                pages += 1;
                assert!(page.backup_summaries.len() <= limit as usize);
                seen.extend(page.backup_summaries.iter().map(|b| b.backup_arn.clone()));
                match page.last_evaluated_backup_arn {
                    Some(last) => {
                        assert_eq!(
                            Some(&last),
                            page.backup_summaries.last().map(|b| &b.backup_arn),
                            "LastEvaluatedBackupArn is the page's last backup"
                        );
                        input.exclusive_start_backup_arn = Some(last);
                    }
                    None => break,
                }
                assert!(pages <= expected.len() + 1, "paging does not end");
            }
            assert_eq!(&seen, expected, "table {table:?}, limit {limit}");
            assert!(pages <= expected.len().div_ceil(limit as usize) + 1);
        }
    }
}

#[test]
fn list_backups_limit_outside_1_to_100_is_a_validation_error() {
    let dir = TempDir::new("list_limit");
    let (db, _) = listed_backups(&dir);
    for bad in [0, 101, u32::MAX] {
        exception(
            db.list_backups(ListBackupsInput::new().limit(bad)),
            "ValidationException",
        );
    }
    for good in [1, 100] {
        db.list_backups(ListBackupsInput::new().limit(good))
            .unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// DeleteBackup
// ---------------------------------------------------------------------------------------------

#[test]
fn delete_backup_returns_the_description_deleted_then_the_backup_is_not_found() {
    let dir = TempDir::new("delete");
    let db = open(&dir, options(&clock()));
    music(&db, "Music");
    fill_music(&db, "Music");
    let details = backup(&db, "Music", "doomed");
    let before = built(&db, &details.backup_arn);
    let file = backup_file(dir.path(), &details.backup_arn);
    assert!(file.exists());

    let deleted = db
        .delete_backup(&details.backup_arn)
        .unwrap()
        .backup_description;
    assert_eq!(deleted.backup_details.backup_status, BackupStatus::Deleted);
    assert_eq!(deleted.backup_details.backup_arn, details.backup_arn);
    assert_eq!(deleted.backup_details.backup_name, "doomed");
    assert_eq!(deleted.source_table_details, before.source_table_details);

    assert!(!file.exists(), "the backup file is still there");
    assert!(backup_files(dir.path()).is_empty());
    exception(
        db.describe_backup(&details.backup_arn),
        "BackupNotFoundException",
    );
    exception(
        db.delete_backup(&details.backup_arn),
        "BackupNotFoundException",
    );
    exception(
        db.restore_table_from_backup(RestoreTableFromBackupInput::new(
            &details.backup_arn,
            "Restored",
        )),
        "BackupNotFoundException",
    );
    exception(
        db.backup_progress(&details.backup_arn),
        "BackupNotFoundException",
    );
    assert!(list_all(&db).is_empty());
    table_absent(&db, "Restored");
}

#[test]
fn deleted_backups_stay_deleted_after_reopening_the_database() {
    let dir = TempDir::new("delete_reopen");
    let clock = clock();
    let (kept, gone) = {
        let db = open(&dir, options(&clock));
        music(&db, "Music");
        fill_music(&db, "Music");
        let kept = backup(&db, "Music", "kept");
        let gone = backup(&db, "Music", "gone");
        built(&db, &gone.backup_arn);
        let kept = built(&db, &kept.backup_arn);
        db.delete_backup(&gone.backup_arn).unwrap();
        (kept, gone)
    };
    let db = open(&dir, options(&clock));
    let described = db.describe_backup(&kept.backup_details.backup_arn).unwrap();
    assert_eq!(
        described.backup_description, kept,
        "a built backup is described the same after a reopen"
    );
    let kept = kept.backup_details;
    exception(
        db.describe_backup(&gone.backup_arn),
        "BackupNotFoundException",
    );
    assert_eq!(names(&list_all(&db)), ["kept"]);
    assert_eq!(
        backup_files(dir.path()),
        vec![backup_file(dir.path(), &kept.backup_arn)]
    );
    let expected = items(&db, "Music");
    built(&db, &kept.backup_arn);
    restore(&db, &kept.backup_arn, "Restored");
    assert_eq!(items(&db, "Restored"), expected);
    drop(db);
    let db = open(&dir, options(&clock));
    exception(
        db.describe_backup(&gone.backup_arn),
        "BackupNotFoundException",
    );
    assert_eq!(names(&list_all(&db)), ["kept"]);
}

// ---------------------------------------------------------------------------------------------
// RestoreTableFromBackup
// ---------------------------------------------------------------------------------------------

/// A database with a filled `Music` table and one AVAILABLE backup of it.
fn music_backup(dir: &TempDir, clock: &Arc<ManualClock>) -> (Database, BackupDescription) {
    let db = open(dir, options(clock));
    music(&db, "Music");
    fill_music(&db, "Music");
    let details = backup(&db, "Music", "MusicBackup");
    let description = built(&db, &details.backup_arn);
    (db, description)
}

fn arn_of(description: &BackupDescription) -> &str {
    &description.backup_details.backup_arn
}

#[test]
fn restore_to_the_name_of_an_existing_table_is_table_already_exists() {
    let dir = TempDir::new("restore_exists");
    let (db, description) = music_backup(&dir, &clock());
    plain(&db, "Taken");
    for target in ["Music", "Taken"] {
        exception(
            db.restore_table_from_backup(RestoreTableFromBackupInput::new(
                arn_of(&description),
                target,
            )),
            "TableAlreadyExistsException",
        );
    }
    assert_eq!(items(&db, "Taken"), Vec::<Item>::new());
    for bad in ["ab", "a/b", "bad name"] {
        exception(
            db.restore_table_from_backup(RestoreTableFromBackupInput::new(
                arn_of(&description),
                bad,
            )),
            "ValidationException",
        );
    }
}

#[test]
fn restore_from_a_backup_that_does_not_exist_is_backup_not_found() {
    let dir = TempDir::new("restore_missing");
    let (db, description) = music_backup(&dir, &clock());
    let arn = arn_of(&description);
    let missing = format!("{}-00000000", &arn[..arn.len() - 9]);
    assert_ne!(missing, arn);
    exception(
        db.restore_table_from_backup(RestoreTableFromBackupInput::new(&missing, "Restored")),
        "BackupNotFoundException",
    );
    exception(db.describe_backup(&missing), "BackupNotFoundException");
    exception(db.delete_backup(&missing), "BackupNotFoundException");
    table_absent(&db, "Restored");
}

/// DynamoDB answers a malformed `BackupArn` (the service model: 37–1024 characters, an ARN)
/// with ValidationException, whichever operation carries it; BackupNotFound is for a
/// well-formed ARN that names no backup.
#[test]
fn a_malformed_backup_arn_is_a_validation_error_in_every_operation() {
    let dir = TempDir::new("malformed_arn");
    let (db, description) = music_backup(&dir, &clock());
    let arn = arn_of(&description);
    let other_region = arn.replace("us-east-1", "eu-west-1");
    assert_ne!(other_region, arn);
    for bad in [
        "",
        "not-an-arn",
        "short",
        &"a".repeat(1025),
        &arn[..arn.len() - 1],
        &arn.to_uppercase(),
        &other_region,
    ] {
        exception(db.describe_backup(bad), "ValidationException");
        exception(db.delete_backup(bad), "ValidationException");
        exception(db.backup_progress(bad), "ValidationException");
        exception(
            db.wait_for_backup(bad, Duration::from_millis(1)),
            "ValidationException",
        );
        exception(
            db.restore_table_from_backup(RestoreTableFromBackupInput::new(bad, "Restored")),
            "ValidationException",
        );
        let list = ListBackupsInput::new().exclusive_start_backup_arn(bad.to_string());
        exception(db.list_backups(list), "ValidationException");
    }
    table_absent(&db, "Restored");
    // The real one is untouched.
    assert!(db.describe_backup(arn).is_ok());
}

#[test]
fn a_restored_table_equals_its_source_at_the_marker_with_every_index_rebuilt() {
    let dir = TempDir::new("restore_equal");
    let db = open(&dir, options(&clock()));
    music(&db, "Music");
    fill_music(&db, "Music");
    let source = db.describe_table("Music").unwrap();
    let contents = items(&db, "Music");
    let lsi: Vec<Vec<Item>> = (0..3)
        .map(|a| query_all(&db, by_year("Music", &format!("Artist{a}"))))
        .collect();
    let gsi: Vec<Vec<Item>> = ["Rock", "Jazz", "Pop"]
        .iter()
        .map(|g| query_all(&db, by_genre("Music", g)))
        .collect();
    let lsi_scan = scan_all(&db, ScanInput::new("Music").index_name("ByYear"));
    let gsi_scan = scan_all(&db, ScanInput::new("Music").index_name("ByGenre"));
    assert!(gsi.iter().all(|g| !g.is_empty()));

    let details = backup(&db, "Music", "exact");
    // Writes after the call are not in the restore.
    put(&db, "Music", song("Artist0", "Song9", 1991, "Rock"));
    db.delete_item(DeleteItemInput::new("Music", song_key("Artist1", "Song2")))
        .unwrap();
    built(&db, &details.backup_arn);
    restore(&db, &details.backup_arn, "Restored");

    assert_eq!(items(&db, "Restored"), contents);
    for (a, expected) in lsi.iter().enumerate() {
        assert_eq!(
            &query_all(&db, by_year("Restored", &format!("Artist{a}"))),
            expected,
            "LSI ByYear of Artist{a}"
        );
    }
    for (g, genre) in ["Rock", "Jazz", "Pop"].iter().enumerate() {
        assert_eq!(
            query_all(&db, by_genre("Restored", genre)),
            gsi[g],
            "GSI ByGenre of {genre}"
        );
    }
    assert_eq!(
        scan_all(&db, ScanInput::new("Restored").index_name("ByYear")),
        lsi_scan
    );
    assert_eq!(
        scan_all(&db, ScanInput::new("Restored").index_name("ByGenre")),
        gsi_scan
    );
    let restored = db.describe_table("Restored").unwrap();
    assert_eq!(restored.key_schema, source.key_schema);
    let defs = |d: &TableDescription| {
        d.attribute_definitions
            .iter()
            .map(|a| (a.attribute_name.clone(), a.attribute_type))
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(defs(&restored), defs(&source));
    assert_eq!(restored.item_count, source.item_count);
    assert_eq!(restored.table_size_bytes, source.table_size_bytes);
    assert_eq!(restored.billing_mode_summary, source.billing_mode_summary);
    assert_eq!(
        restored.provisioned_throughput,
        source.provisioned_throughput
    );
    let strip_arn = |d: &TableDescription| {
        let mut locals = d.local_secondary_indexes.clone().unwrap();
        let mut globals = d.global_secondary_indexes.clone().unwrap();
        locals.iter_mut().for_each(|i| i.index_arn.clear());
        globals.iter_mut().for_each(|i| i.index_arn.clear());
        (locals, globals)
    };
    assert_eq!(
        strip_arn(&restored),
        strip_arn(&source),
        "index definitions and counts"
    );
    assert_ne!(restored.table_id, source.table_id);
    assert_eq!(restored.table_arn, format!("{TABLE_ARN_PREFIX}Restored"));
}

#[test]
fn restore_answers_creating_with_a_restore_summary_and_the_table_is_then_active() {
    let dir = TempDir::new("restore_summary");
    let clock = clock();
    let (db, description) = music_backup(&dir, &clock);
    clock.advance(60_000);
    let out = db
        .restore_table_from_backup(RestoreTableFromBackupInput::new(
            arn_of(&description),
            "Restored",
        ))
        .unwrap()
        .table_description;
    assert_eq!(out.table_name, "Restored");
    assert_eq!(out.table_status, TableStatus::Creating);
    let summary = out.restore_summary.clone().expect("RestoreSummary");
    assert_eq!(
        summary.source_backup_arn.as_deref(),
        Some(arn_of(&description))
    );
    assert_eq!(
        summary.source_table_arn.as_deref(),
        Some(format!("{TABLE_ARN_PREFIX}Music").as_str())
    );
    assert!(summary.restore_in_progress);
    assert_eq!(out.creation_date_time, Timestamp(T0 + 60_000));

    let now = db.describe_table("Restored").unwrap();
    assert_eq!(now.table_status, TableStatus::Active);
    let summary = now
        .restore_summary
        .expect("RestoreSummary after the restore");
    assert_eq!(
        summary.source_backup_arn.as_deref(),
        Some(arn_of(&description))
    );
    assert!(!summary.restore_in_progress);
    assert_eq!(now.table_id, out.table_id);
}

/// `RestoreSummary.RestoreDateTime` is "Point in time or source backup time" (API reference):
/// for a restore from a backup, the backup's creation time, not the time of the restore.
#[test]
fn restore_summary_restore_date_time_is_the_source_backup_time() {
    let dir = TempDir::new("restore_time");
    let clock = clock();
    let (db, description) = music_backup(&dir, &clock);
    clock.advance(60_000);
    let out = restore(&db, arn_of(&description), "Restored");
    let backup_time = description.backup_details.backup_creation_date_time;
    assert_eq!(out.restore_summary.unwrap().restore_date_time, backup_time);
    assert_eq!(
        db.describe_table("Restored")
            .unwrap()
            .restore_summary
            .unwrap()
            .restore_date_time,
        backup_time
    );
}

#[test]
fn a_restored_table_has_no_stream_even_when_its_source_had_one() {
    let dir = TempDir::new("restore_stream");
    let (db, description) = music_backup(&dir, &clock());
    assert!(db
        .describe_table("Music")
        .unwrap()
        .stream_specification
        .is_some());
    assert!(description
        .source_table_feature_details
        .stream_description
        .is_some());
    let out = restore(&db, arn_of(&description), "Restored");
    assert_eq!(out.stream_specification, None);
    let restored = db.describe_table("Restored").unwrap();
    assert_eq!(restored.stream_specification, None);
    assert_eq!(restored.latest_stream_arn, None);
    assert_eq!(restored.latest_stream_label, None);
}

#[test]
fn billing_mode_override_pay_per_request_restores_an_on_demand_table() {
    let dir = TempDir::new("restore_ppr");
    let (db, description) = music_backup(&dir, &clock());
    let mut input = RestoreTableFromBackupInput::new(arn_of(&description), "OnDemand");
    input.billing_mode_override = Some(BillingMode::PayPerRequest);
    db.restore_table_from_backup(input).unwrap();
    let restored = db.describe_table("OnDemand").unwrap();
    assert_eq!(
        restored.billing_mode_summary.billing_mode,
        BillingMode::PayPerRequest
    );
    assert_eq!(restored.provisioned_throughput.read_capacity_units, 0);
    assert_eq!(restored.provisioned_throughput.write_capacity_units, 0);
    let gsi = &restored.global_secondary_indexes.unwrap()[0];
    assert_eq!(gsi.provisioned_throughput.read_capacity_units, 0);
    assert_eq!(gsi.provisioned_throughput.write_capacity_units, 0);
    assert_eq!(items(&db, "OnDemand"), items(&db, "Music"));
}

#[test]
fn provisioned_throughput_override_sets_the_restored_tables_capacity() {
    let dir = TempDir::new("restore_throughput");
    let (db, description) = music_backup(&dir, &clock());
    let mut input = RestoreTableFromBackupInput::new(arn_of(&description), "Bigger");
    input.provisioned_throughput_override = Some(ProvisionedThroughput::new(7, 9));
    db.restore_table_from_backup(input).unwrap();
    let restored = db.describe_table("Bigger").unwrap();
    assert_eq!(
        restored.billing_mode_summary.billing_mode,
        BillingMode::Provisioned
    );
    assert_eq!(restored.provisioned_throughput.read_capacity_units, 7);
    assert_eq!(restored.provisioned_throughput.write_capacity_units, 9);

    // An on-demand backup restored as provisioned takes the override.
    plain(&db, "Things");
    put(&db, "Things", row("x", 1));
    let details = backup(&db, "Things", "things");
    built(&db, &details.backup_arn);
    let mut input = RestoreTableFromBackupInput::new(&details.backup_arn, "ProvisionedThings");
    input.billing_mode_override = Some(BillingMode::Provisioned);
    input.provisioned_throughput_override = Some(ProvisionedThroughput::new(3, 4));
    db.restore_table_from_backup(input).unwrap();
    let restored = db.describe_table("ProvisionedThings").unwrap();
    assert_eq!(
        restored.billing_mode_summary.billing_mode,
        BillingMode::Provisioned
    );
    assert_eq!(restored.provisioned_throughput.read_capacity_units, 3);
    assert_eq!(restored.provisioned_throughput.write_capacity_units, 4);
    assert_eq!(items(&db, "ProvisionedThings"), vec![row("x", 1)]);
}

#[test]
fn index_overrides_keep_only_the_named_indexes_and_drop_the_rest() {
    let dir = TempDir::new("restore_indexes");
    let (db, description) = music_backup(&dir, &clock());
    let features = &description.source_table_feature_details;
    let lsis = features.local_secondary_indexes.clone().unwrap();
    let gsis = features.global_secondary_indexes.clone().unwrap();
    let index_names = |d: &TableDescription| {
        let locals: Vec<String> = d
            .local_secondary_indexes
            .iter()
            .flatten()
            .map(|i| i.index_name.clone())
            .collect();
        let globals: Vec<String> = d
            .global_secondary_indexes
            .iter()
            .flatten()
            .map(|i| i.index_name.clone())
            .collect();
        (locals, globals)
    };
    let defined = |d: &TableDescription| {
        d.attribute_definitions
            .iter()
            .map(|a| a.attribute_name.clone())
            .collect::<BTreeSet<_>>()
    };

    // Keep the LSI, drop the GSI.
    let mut input = RestoreTableFromBackupInput::new(arn_of(&description), "NoGlobal");
    input.global_secondary_index_override = Some(vec![]);
    input.local_secondary_index_override = Some(lsis.clone());
    db.restore_table_from_backup(input).unwrap();
    let restored = db.describe_table("NoGlobal").unwrap();
    assert_eq!(index_names(&restored), (vec!["ByYear".into()], vec![]));
    assert!(!defined(&restored).contains("Genre"), "{restored:?}");
    assert!(db.query(by_genre("NoGlobal", "Rock")).is_err());
    assert_eq!(
        query_all(&db, by_year("NoGlobal", "Artist0")),
        query_all(&db, by_year("Music", "Artist0"))
    );

    // Keep the GSI, drop the LSI.
    let mut input = RestoreTableFromBackupInput::new(arn_of(&description), "NoLocal");
    input.global_secondary_index_override = Some(gsis.clone());
    input.local_secondary_index_override = Some(vec![]);
    db.restore_table_from_backup(input).unwrap();
    let restored = db.describe_table("NoLocal").unwrap();
    assert_eq!(index_names(&restored), (vec![], vec!["ByGenre".into()]));
    assert!(db.query(by_year("NoLocal", "Artist0")).is_err());
    assert_eq!(
        query_all(&db, by_genre("NoLocal", "Jazz")),
        query_all(&db, by_genre("Music", "Jazz"))
    );
    assert_eq!(items(&db, "NoLocal"), items(&db, "Music"));
}

#[test]
fn an_index_override_naming_an_index_not_in_the_backup_is_a_validation_error() {
    let dir = TempDir::new("restore_bad_index");
    let (db, description) = music_backup(&dir, &clock());
    let features = &description.source_table_feature_details;
    let mut gsi = features.global_secondary_indexes.clone().unwrap()[0].clone();
    gsi.index_name = "NotInBackup".into();
    let mut lsi = features.local_secondary_indexes.clone().unwrap()[0].clone();
    lsi.index_name = "NotInBackup".into();

    let mut input = RestoreTableFromBackupInput::new(arn_of(&description), "Restored");
    input.global_secondary_index_override = Some(vec![gsi]);
    exception(db.restore_table_from_backup(input), "ValidationException");
    table_absent(&db, "Restored");

    let mut input = RestoreTableFromBackupInput::new(arn_of(&description), "Restored");
    input.local_secondary_index_override = Some(vec![lsi]);
    exception(db.restore_table_from_backup(input), "ValidationException");
    table_absent(&db, "Restored");
    // The backup is still usable afterwards.
    restore(&db, arn_of(&description), "Restored");
}

#[test]
fn an_index_override_that_redefines_the_backups_index_is_a_validation_error() {
    let dir = TempDir::new("restore_redefined_index");
    let (db, description) = music_backup(&dir, &clock());
    let features = &description.source_table_feature_details;
    let mut gsi = features.global_secondary_indexes.clone().unwrap()[0].clone();
    gsi.projection = if gsi.projection.projection_type == ProjectionType::KeysOnly {
        Projection::all()
    } else {
        Projection::keys_only()
    };
    let mut input = RestoreTableFromBackupInput::new(arn_of(&description), "Restored");
    input.global_secondary_index_override = Some(vec![gsi]);
    exception(db.restore_table_from_backup(input), "ValidationException");
    table_absent(&db, "Restored");
}

#[test]
fn pay_per_request_override_with_a_throughput_override_is_a_validation_error() {
    let dir = TempDir::new("restore_ppr_throughput");
    let (db, description) = music_backup(&dir, &clock());
    let mut input = RestoreTableFromBackupInput::new(arn_of(&description), "Restored");
    input.billing_mode_override = Some(BillingMode::PayPerRequest);
    input.provisioned_throughput_override = Some(ProvisionedThroughput::new(5, 5));
    exception(db.restore_table_from_backup(input), "ValidationException");
    table_absent(&db, "Restored");
}

/// tidestore encrypts nothing and has no key management service: an override asking for
/// DynamoDB's default (a key AWS owns) changes nothing and is accepted, one naming KMS is
/// refused rather than silently ignored.
#[test]
fn an_sse_override_for_the_default_key_is_accepted_and_one_naming_kms_refused() {
    let dir = TempDir::new("restore_sse");
    let (db, description) = music_backup(&dir, &clock());
    let kms = [
        SseSpecification::new().enabled(true),
        SseSpecification::new().sse_type("KMS"),
        SseSpecification::new()
            .enabled(false)
            .kms_master_key_id("alias/aws/dynamodb"),
    ];
    for sse in kms {
        let mut input = RestoreTableFromBackupInput::new(arn_of(&description), "Encrypted");
        input.sse_specification_override = Some(sse);
        let e = db.restore_table_from_backup(input).unwrap_err();
        assert_eq!(e.exception_name(), "ValidationException");
        assert!(e.to_string().contains("SSESpecificationOverride"), "{e}");
        table_absent(&db, "Encrypted");
    }
    let mut input = RestoreTableFromBackupInput::new(arn_of(&description), "Encrypted");
    input.sse_specification_override = Some(SseSpecification::new().enabled(false));
    db.restore_table_from_backup(input).unwrap();
    assert_eq!(items(&db, "Encrypted"), items(&db, "Music"));
}

/// Regression: the restored table's first snapshot is removed with the table, while the
/// log still holds the restore record; recovery must replay past it, not fail.
#[test]
fn a_restored_then_deleted_table_does_not_stop_the_database_from_opening() {
    let dir = TempDir::new("restore_delete_reopen");
    let clock = clock();
    {
        let (db, description) = music_backup(&dir, &clock);
        restore(&db, arn_of(&description), "Restored");
        db.delete_table("Restored").unwrap();
        restore(&db, arn_of(&description), "Restored");
    }
    let db = open(&dir, options(&clock));
    assert_eq!(
        db.describe_table("Restored").unwrap().item_count,
        db.describe_table("Music").unwrap().item_count
    );
}

#[test]
fn a_restored_table_survives_reopening_the_database() {
    let dir = TempDir::new("restore_reopen");
    let clock = clock();
    let (expected, lsi, gsi, restored) = {
        let (db, description) = music_backup(&dir, &clock);
        restore(&db, arn_of(&description), "Restored");
        put(&db, "Restored", song("Only", "InRestore", 2010, "Jazz"));
        (
            items(&db, "Restored"),
            query_all(&db, by_year("Restored", "Artist2")),
            query_all(&db, by_genre("Restored", "Jazz")),
            db.describe_table("Restored").unwrap(),
        )
    };
    let db = open(&dir, options(&clock));
    assert_eq!(items(&db, "Restored"), expected);
    assert_eq!(query_all(&db, by_year("Restored", "Artist2")), lsi);
    assert_eq!(query_all(&db, by_genre("Restored", "Jazz")), gsi);
    let reopened = db.describe_table("Restored").unwrap();
    assert_eq!(reopened.table_id, restored.table_id);
    assert_eq!(reopened.restore_summary, restored.restore_summary);
    assert_eq!(reopened.table_status, TableStatus::Active);
}

#[test]
fn backups_outlive_their_table() {
    let dir = TempDir::new("outlive");
    let clock = clock();
    let (db, description) = music_backup(&dir, &clock);
    let contents = items(&db, "Music");
    db.delete_table("Music").unwrap();
    drop(db);
    let db = open(&dir, options(&clock));
    table_absent(&db, "Music");
    let still = db
        .describe_backup(arn_of(&description))
        .unwrap()
        .backup_description;
    assert_eq!(still, description);
    assert_eq!(
        names(&list(&db, ListBackupsInput::new().table_name("Music"))),
        ["MusicBackup"]
    );
    // Restored under the deleted table's own name.
    restore(&db, arn_of(&description), "Music");
    assert_eq!(items(&db, "Music"), contents);
    assert_eq!(query_all(&db, by_genre("Music", "Pop")).len(), 4);
}

#[test]
fn a_restored_table_can_itself_be_backed_up_and_restored() {
    let dir = TempDir::new("restore_chain");
    let clock = clock();
    let (db, description) = music_backup(&dir, &clock);
    restore(&db, arn_of(&description), "Copy");
    put(&db, "Copy", song("Only", "InCopy", 2015, "Jazz"));
    db.delete_item(DeleteItemInput::new("Copy", song_key("Artist2", "Song1")))
        .unwrap();
    let expected = items(&db, "Copy");
    let jazz = query_all(&db, by_genre("Copy", "Jazz"));
    let of_copy = backup(&db, "Copy", "of-copy");
    let described = built(&db, &of_copy.backup_arn);
    assert_eq!(described.source_table_details.table_name, "Copy");
    assert_eq!(described.source_table_details.item_count, 12);
    drop(db);
    let db = open(&dir, options(&clock));
    restore(&db, &of_copy.backup_arn, "CopyOfCopy");
    assert_eq!(items(&db, "CopyOfCopy"), expected);
    assert_eq!(query_all(&db, by_genre("CopyOfCopy", "Jazz")), jazz);
    assert_eq!(
        db.describe_table("CopyOfCopy")
            .unwrap()
            .restore_summary
            .unwrap()
            .source_table_arn,
        Some(format!("{TABLE_ARN_PREFIX}Copy"))
    );
}

// ---------------------------------------------------------------------------------------------
// Corruption
// ---------------------------------------------------------------------------------------------

/// Damaged versions of a file's bytes, each with what was done to it.
type Damage = fn(&[u8]) -> Vec<(Vec<u8>, String)>;

/// Each damaged version of a backup's file (from `damage`, given the good bytes) fails the
/// restore with `Corruption` and leaves no table; after a reopen the intact file restores.
fn damaged_backup_files_fail_the_restore(tag: &str, damage: Damage) {
    let dir = TempDir::new(tag);
    let clock = clock();
    let (db, description) = music_backup(&dir, &clock);
    let file = backup_file(dir.path(), arn_of(&description));
    let good = std::fs::read(&file).unwrap();
    for (bad, what) in damage(&good) {
        std::fs::write(&file, &bad).unwrap();
        match db.restore_table_from_backup(RestoreTableFromBackupInput::new(
            arn_of(&description),
            "Restored",
        )) {
            Err(Error::Corruption(_)) => {}
            other => panic!(
                "{what} of {}: expected Corruption, got {other:?}",
                good.len()
            ),
        }
        table_absent(&db, "Restored");
    }
    std::fs::write(&file, &good).unwrap();
    drop(db);
    let db = open(&dir, options(&clock));
    table_absent(&db, "Restored");
    restore(&db, arn_of(&description), "Restored");
    assert_eq!(items(&db, "Restored"), items(&db, "Music"));
}

#[test]
fn a_bit_flipped_backup_file_fails_the_restore_with_corruption_and_leaves_no_table() {
    damaged_backup_files_fail_the_restore("flip", |good| {
        let len = good.len();
        let mut positions = vec![
            0,
            7,
            8,
            12,
            16,
            19,
            20,
            21,
            len / 3,
            len / 2,
            len - 9,
            len - 1,
        ];
        positions.extend((0..len).step_by(len.div_ceil(24)));
        positions
            .into_iter()
            .map(|at| {
                let mut bad = good.to_vec();
                bad[at] ^= 0xff;
                (bad, format!("flipping byte {at}"))
            })
            .collect()
    });
}

#[test]
fn a_truncated_backup_file_fails_the_restore_with_corruption_and_leaves_no_table() {
    damaged_backup_files_fail_the_restore("truncate", |good| {
        let len = good.len();
        [0, 1, 8, 19, 20, 21, len / 2, len - 10, len - 1]
            .into_iter()
            .map(|cut| (good[..cut].to_vec(), format!("cutting at {cut}")))
            .collect()
    });
}

// ---------------------------------------------------------------------------------------------
// I7: nothing lost
// ---------------------------------------------------------------------------------------------

/// On `sim`: a `Music` table of twelve songs and a backup of it requested while its build is
/// held, then two more acknowledged writes. Returns the database, the backup's ARN and the
/// table at the call.
fn pending_backup_on(
    sim: &SimFs,
    clock: &Arc<ManualClock>,
    gate: &Arc<Gate>,
) -> (Database, String, Vec<Item>) {
    let db = Database::open_with(
        "/db",
        sim_options(sim, clock).backup_build_hook(gate.hook()),
    )
    .unwrap();
    music(&db, "Music");
    fill_music(&db, "Music");
    let expected = items(&db, "Music");
    let details = backup(&db, "Music", "survivor");
    assert_eq!(details.backup_status, BackupStatus::Creating);
    gate.wait_entered(1);
    put(&db, "Music", song("After", "Call", 2000, "Pop"));
    db.delete_item(DeleteItemInput::new("Music", song_key("Artist0", "Song0")))
        .unwrap();
    (db, details.backup_arn, expected)
}

/// Reopens `image` without a hook and checks that backup `arn` is listed, becomes AVAILABLE
/// and restores to `expected`.
#[track_caller]
fn check_recovered_backup(image: SimFs, clock: &Arc<ManualClock>, arn: &str, expected: &[Item]) {
    let db = Database::open_with("/db", sim_options(&image, clock)).unwrap();
    let listed = list_all(&db);
    let summary = listed
        .iter()
        .find(|b| b.backup_arn == arn)
        .unwrap_or_else(|| panic!("the acknowledged backup is gone: {listed:?}"));
    assert!(matches!(
        summary.backup_status,
        BackupStatus::Creating | BackupStatus::Available
    ));
    if summary.backup_status == BackupStatus::Available {
        assert!(summary.backup_size_bytes > 0);
    }
    let description = built(&db, arn);
    assert_eq!(
        description.source_table_details.item_count,
        expected.len() as u64
    );
    restore(&db, arn, "Restored");
    assert_eq!(items(&db, "Restored"), expected);
}

#[test]
fn i7_a_backup_acknowledged_as_creating_is_built_after_a_crash_and_reopen() {
    let sim = SimFs::new();
    let clock = clock();
    let gate = Gate::new();
    let (db, arn, expected) = pending_backup_on(&sim, &clock, &gate);
    let _release = OpenOnDrop(gate.clone());
    // The crash: the disk as it is while the build is held.
    let image = sim.after_crash(CrashPolicy::DropUnsynced, 0);
    gate.open();
    drop(db);

    let db = Database::open_with("/db", sim_options(&image, &clock)).unwrap();
    let summary = list_all(&db).into_iter().find(|b| b.backup_arn == arn);
    let summary = summary.expect("the acknowledged backup survives the crash");
    assert!(matches!(
        summary.backup_status,
        BackupStatus::Creating | BackupStatus::Available
    ));
    let description = built(&db, &arn);
    assert_eq!(description.source_table_details.item_count, 12);
    assert!(description.backup_details.backup_size_bytes > 0);
    restore(&db, &arn, "Restored");
    assert_eq!(items(&db, "Restored"), expected);
    // The acknowledged writes after the call survived too, in the live table only.
    assert!(get(&db, "Music", song_key("After", "Call")).is_some());
    assert_eq!(get(&db, "Music", song_key("Artist0", "Song0")), None);
}

/// Options for a database on `sim` with no background worker: builds happen only in
/// `wait_for_backup` and `checkpoint`, on the caller's thread, so the I/O sequence is a
/// function of the test alone and `crash_at` lands where the test means.
fn foreground_options(sim: &SimFs, clock: &Arc<ManualClock>) -> Options {
    sim_options(sim, clock).background_worker(false)
}

#[test]
fn i7_a_crash_at_any_io_operation_of_a_backup_build_still_yields_the_backup_after_reopen() {
    let sim = SimFs::new();
    let clock = clock();
    let (arn, expected) = {
        let db = Database::open_with("/db", foreground_options(&sim, &clock)).unwrap();
        music(&db, "Music");
        fill_music(&db, "Music");
        let expected = items(&db, "Music");
        let arn = backup(&db, "Music", "survivor").backup_arn;
        put(&db, "Music", song("After", "Call", 2000, "Pop"));
        (arn, expected)
    };
    // The disk with the backup acknowledged and not built.
    let base = sim.after_crash(CrashPolicy::DropUnsynced, 0);

    let mut crash_points = 0;
    for k in 0.. {
        assert!(k < 1_000, "the build never finished without a crash");
        let fs = base.after_crash(CrashPolicy::DropUnsynced, 0);
        let db = Database::open_with("/db", foreground_options(&fs, &clock)).unwrap();
        assert_eq!(
            db.describe_backup(&arn)
                .unwrap()
                .backup_description
                .backup_details
                .backup_status,
            BackupStatus::Creating
        );
        fs.crash_at(fs.op_count() + 1 + k);
        let result = db.wait_for_backup(&arn, WAIT);
        let finished = !fs.crashed();
        if finished {
            assert_eq!(
                result.unwrap().backup_details.backup_status,
                BackupStatus::Available
            );
        }
        let images: Vec<SimFs> = CrashPolicy::ALL
            .iter()
            .map(|policy| fs.after_crash(*policy, k))
            .collect();
        drop(db);
        for image in images {
            check_recovered_backup(image, &clock, &arn, &expected);
        }
        if finished {
            break;
        }
        crash_points += 1;
    }
    assert!(crash_points > 3, "the build did no I/O to crash in");
    println!(
        "I7 backup build: {crash_points} crash points x {} policies",
        CrashPolicy::ALL.len()
    );
}

#[test]
fn i7_a_crash_at_any_io_operation_of_a_restore_leaves_the_whole_table_or_none() {
    let sim = SimFs::new();
    let clock = clock();
    let (arn, expected, lsi, gsi) = {
        let db = Database::open_with("/db", foreground_options(&sim, &clock)).unwrap();
        music(&db, "Music");
        fill_music(&db, "Music");
        let arn = backup(&db, "Music", "source").backup_arn;
        built(&db, &arn);
        (
            arn,
            items(&db, "Music"),
            query_all(&db, by_year("Music", "Artist1")),
            query_all(&db, by_genre("Music", "Rock")),
        )
    };
    let base = sim.after_crash(CrashPolicy::DropUnsynced, 0);

    let mut crash_points = 0;
    let mut whole = 0;
    for k in 0.. {
        assert!(k < 1_000, "the restore never finished without a crash");
        let fs = base.after_crash(CrashPolicy::DropUnsynced, 0);
        let db = Database::open_with("/db", foreground_options(&fs, &clock)).unwrap();
        fs.crash_at(fs.op_count() + 1 + k);
        let result =
            db.restore_table_from_backup(RestoreTableFromBackupInput::new(&arn, "Restored"));
        let finished = !fs.crashed();
        if finished {
            result.unwrap();
        }
        let images: Vec<SimFs> = CrashPolicy::ALL
            .iter()
            .map(|policy| fs.after_crash(*policy, k))
            .collect();
        drop(db);
        for image in images {
            let db = Database::open_with("/db", sim_options(&image, &clock)).unwrap();
            if db.describe_table("Restored").is_ok() {
                whole += 1;
            } else {
                // No half table: the restore can simply be run again.
                table_absent(&db, "Restored");
                built(&db, &arn);
                restore(&db, &arn, "Restored");
            }
            assert_eq!(items(&db, "Restored"), expected, "crash point {k}");
            assert_eq!(query_all(&db, by_year("Restored", "Artist1")), lsi);
            assert_eq!(query_all(&db, by_genre("Restored", "Rock")), gsi);
            assert_eq!(
                db.describe_table("Restored").unwrap().item_count,
                expected.len() as u64
            );
        }
        if finished {
            break;
        }
        crash_points += 1;
    }
    assert!(crash_points > 3, "the restore did no I/O to crash in");
    assert!(whole > 0, "no crash image kept the restored table");
    println!(
        "I7 restore: {crash_points} crash points x {} policies, {whole} images kept the table",
        CrashPolicy::ALL.len()
    );
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

/// Serializes `value`, parses it back, and checks that nothing changed either way.
#[track_caller]
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) -> Value {
    let text = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{} does not parse back: {e}\n{text}",
            std::any::type_name::<T>()
        )
    });
    assert_eq!(&back, value, "{text}");
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json);
    json
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

#[test]
fn every_backup_output_type_round_trips_through_json_with_the_api_field_names() {
    let dir = TempDir::new("json_round_trip");
    let clock = clock();
    let db = open(&dir, options(&clock));
    music(&db, "Music");
    fill_music(&db, "Music");
    let created = db.create_backup("Music", "first").unwrap();
    let json = round_trip(&created);
    assert_eq!(keys(&json), set(&["BackupDetails"]));
    clock.advance(1);
    let second = backup(&db, "Music", "second");

    let described = db
        .describe_backup(&created.backup_details.backup_arn)
        .unwrap();
    round_trip(&described);
    let description = built(&db, &created.backup_details.backup_arn);
    built(&db, &second.backup_arn);
    let described = db
        .describe_backup(&created.backup_details.backup_arn)
        .unwrap();
    assert_eq!(described.backup_description, description);
    let json = round_trip(&described);
    let d = &json["BackupDescription"];
    assert_eq!(
        keys(d),
        set(&[
            "BackupDetails",
            "SourceTableDetails",
            "SourceTableFeatureDetails"
        ])
    );
    assert_eq!(
        keys(&d["BackupDetails"]),
        set(&[
            "BackupArn",
            "BackupName",
            "BackupSizeBytes",
            "BackupStatus",
            "BackupType",
            "BackupCreationDateTime"
        ])
    );
    assert_eq!(d["BackupDetails"]["BackupStatus"], json!("AVAILABLE"));
    assert_eq!(
        keys(&d["SourceTableDetails"]),
        set(&[
            "TableName",
            "TableId",
            "TableArn",
            "TableSizeBytes",
            "KeySchema",
            "TableCreationDateTime",
            "ProvisionedThroughput",
            "ItemCount",
            "BillingMode"
        ])
    );
    assert_eq!(
        keys(&d["SourceTableFeatureDetails"]),
        set(&[
            "LocalSecondaryIndexes",
            "GlobalSecondaryIndexes",
            "StreamDescription"
        ])
    );
    assert_eq!(
        d["SourceTableDetails"]["ProvisionedThroughput"],
        json!({"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    );

    let page = db.list_backups(ListBackupsInput::new().limit(1)).unwrap();
    assert!(page.last_evaluated_backup_arn.is_some());
    let json = round_trip(&page);
    assert_eq!(
        keys(&json),
        set(&["BackupSummaries", "LastEvaluatedBackupArn"])
    );
    assert_eq!(
        keys(&json["BackupSummaries"][0]),
        set(&[
            "TableName",
            "TableId",
            "TableArn",
            "BackupArn",
            "BackupName",
            "BackupCreationDateTime",
            "BackupStatus",
            "BackupType",
            "BackupSizeBytes"
        ])
    );
    round_trip(&db.list_backups(ListBackupsInput::default()).unwrap());
    round_trip(&ListBackupsOutput::default());

    let restored = db
        .restore_table_from_backup(RestoreTableFromBackupInput::new(
            &created.backup_details.backup_arn,
            "Restored",
        ))
        .unwrap();
    let json = round_trip(&restored);
    assert_eq!(
        keys(&json["TableDescription"]["RestoreSummary"]),
        set(&[
            "SourceBackupArn",
            "SourceTableArn",
            "RestoreDateTime",
            "RestoreInProgress"
        ])
    );

    let deleted = db.delete_backup(&second.backup_arn).unwrap();
    let json = round_trip(&deleted);
    assert_eq!(
        json["BackupDescription"]["BackupDetails"]["BackupStatus"],
        json!("DELETED")
    );

    // Inputs and the optional members.
    round_trip(
        &ListBackupsInput::new()
            .table_name("Music")
            .limit(10)
            .time_range_lower_bound(Timestamp(T0))
            .time_range_upper_bound(Timestamp(T0 + 1_001))
            .exclusive_start_backup_arn(created.backup_details.backup_arn.clone())
            .backup_type(BackupTypeFilter::AwsBackup),
    );
    let features = &description.source_table_feature_details;
    let mut input =
        RestoreTableFromBackupInput::new(created.backup_details.backup_arn.clone(), "Restored2")
            .billing_mode_override(BillingMode::PayPerRequest)
            .provisioned_throughput_override(ProvisionedThroughput::new(1, 2))
            .sse_specification_override(
                SseSpecification::new()
                    .enabled(true)
                    .sse_type("KMS")
                    .kms_master_key_id("key"),
            );
    input.global_secondary_index_override = features.global_secondary_indexes.clone();
    input.local_secondary_index_override = features.local_secondary_indexes.clone();
    let json = round_trip(&input);
    assert_eq!(
        keys(&json),
        set(&[
            "TargetTableName",
            "BackupArn",
            "BillingModeOverride",
            "GlobalSecondaryIndexOverride",
            "LocalSecondaryIndexOverride",
            "ProvisionedThroughputOverride",
            "SSESpecificationOverride"
        ])
    );
    assert_eq!(
        keys(&json["SSESpecificationOverride"]),
        set(&["Enabled", "SSEType", "KMSMasterKeyId"])
    );
    let mut system = description.backup_details.clone();
    system.backup_type = BackupType::System;
    system.backup_expiry_date_time = Some(Timestamp(T0).plus_days(35));
    let json = round_trip(&system);
    assert_eq!(json["BackupType"], json!("SYSTEM"));
    assert_eq!(json["BackupExpiryDateTime"], json!(1_579_640_366.715));
    for status in [
        BackupStatus::Creating,
        BackupStatus::Available,
        BackupStatus::Deleted,
    ] {
        round_trip(&status);
    }
    for kind in [BackupType::User, BackupType::System, BackupType::AwsBackup] {
        round_trip(&kind);
    }
    assert_eq!(
        serde_json::to_value(BackupType::AwsBackup).unwrap(),
        json!("AWS_BACKUP")
    );
    for filter in [
        BackupTypeFilter::User,
        BackupTypeFilter::System,
        BackupTypeFilter::AwsBackup,
        BackupTypeFilter::All,
    ] {
        round_trip(&filter);
    }
}

/// `BillingModeSummary.LastUpdateToPayPerRequestDateTime` (as DynamoDB reports it, and as
/// ScyllaDB's Alternator tests written against DynamoDB check): the creation of a table
/// created on demand; the `UpdateTable` that last set PAY_PER_REQUEST, kept after the table
/// goes back to PROVISIONED; absent for a table never on demand. It is durable (logged with
/// the schema, read back after a reopen), and a restored table starts its own.
#[test]
fn the_time_pay_per_request_was_last_set_is_described_kept_across_a_reopen_and_restarted_by_a_restore(
) {
    let dir = TempDir::new("pay_per_request_time");
    let clock = clock();
    let db = open(&dir, options(&clock));
    let summary = |db: &Database, table: &str| {
        db.describe_table(table)
            .unwrap()
            .billing_mode_summary
            .last_update_to_pay_per_request_date_time
    };
    plain(&db, "OnDemand");
    let created = db.describe_table("OnDemand").unwrap().creation_date_time;
    assert_eq!(summary(&db, "OnDemand"), Some(created));
    music(&db, "Provisioned");
    assert_eq!(summary(&db, "Provisioned"), None, "never on demand");

    clock.advance(60_000);
    let mut to_on_demand = UpdateTableInput::new("Provisioned");
    to_on_demand.billing_mode = Some(BillingMode::PayPerRequest);
    db.update_table(to_on_demand).unwrap();
    let switched = Timestamp(T0 + 60_000);
    assert_eq!(summary(&db, "Provisioned"), Some(switched));

    clock.advance(60_000);
    let mut back = UpdateTableInput::new("Provisioned");
    back.billing_mode = Some(BillingMode::Provisioned);
    back.provisioned_throughput = Some(ProvisionedThroughput::new(3, 4));
    db.update_table(back).unwrap();
    let mut off = UpdateTableInput::new("OnDemand");
    off.billing_mode = Some(BillingMode::Provisioned);
    off.provisioned_throughput = Some(ProvisionedThroughput::new(1, 1));
    db.update_table(off).unwrap();
    assert_eq!(
        summary(&db, "Provisioned"),
        Some(switched),
        "kept when left"
    );
    assert_eq!(summary(&db, "OnDemand"), Some(created), "kept when left");

    drop(db);
    let db = open(&dir, options(&clock));
    assert_eq!(summary(&db, "Provisioned"), Some(switched));
    assert_eq!(summary(&db, "OnDemand"), Some(created));

    clock.advance(60_000);
    let arn = db
        .create_backup("Provisioned", "before")
        .unwrap()
        .backup_details
        .backup_arn;
    built(&db, &arn);
    clock.advance(60_000);
    let restored = restore(&db, &arn, "Restored");
    assert_eq!(
        restored
            .billing_mode_summary
            .last_update_to_pay_per_request_date_time,
        None,
        "a provisioned restore is a new table, never on demand"
    );
    let mut on_demand = RestoreTableFromBackupInput::new(&arn, "RestoredOnDemand");
    on_demand.billing_mode_override = Some(BillingMode::PayPerRequest);
    let restored = db
        .restore_table_from_backup(on_demand)
        .unwrap()
        .table_description;
    assert_eq!(
        restored
            .billing_mode_summary
            .last_update_to_pay_per_request_date_time,
        Some(restored.creation_date_time)
    );
}

/// I5 with builds paced (`Options::background_write_rate`): a build that sleeps to give
/// way to durable commits holds nothing they need. At the slowest rate, 1 MB/s, a 3 MB
/// backup builds for seconds while a Sync writer commits: once the build has written its
/// first items, 200 more puts all return while it is still building, so none waited for it.
/// (Unpaced, the build ends within those puts, and the test fails: checked by hand.)
#[test]
fn durable_writes_commit_while_a_paced_build_sleeps() {
    let dir = TempDir::new("paced-build");
    let db = open(
        &dir,
        options(&clock())
            .durability(Durability::Sync)
            .background_write_rate(1_000_000),
    );
    plain(&db, "Paced");
    let filler = AttributeValue::b(vec![7u8; 3_000]);
    for i in 0..1_000 {
        let item = Item::from([
            ("pk".to_string(), s(&format!("k{i}"))),
            ("f".to_string(), filler.clone()),
        ]);
        put(&db, "Paced", item);
    }
    let arn = db
        .create_backup("Paced", "paced")
        .unwrap()
        .backup_details
        .backup_arn;
    // Commits keep the build paced; wait, committing, for its first block.
    let mut i = 0;
    while db.backup_progress(&arn).unwrap().bytes_done == 0 {
        put(&db, "Paced", row(&format!("w{i}"), i));
        i += 1;
        assert!(i < 100_000, "the build never started");
    }
    for j in 0..200 {
        put(&db, "Paced", row(&format!("x{j}"), j));
    }
    let progress = db.backup_progress(&arn).unwrap();
    assert!(
        progress.bytes_done < progress.bytes_total,
        "the build ended during the puts: {progress:?}"
    );
    db.wait_for_backup(&arn, Duration::from_secs(60)).unwrap();
}
