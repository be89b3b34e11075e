//! Table tags and Time to Live settings: DynamoDB's semantics and refusals, kept durably with
//! the table (a restart, a crash at any I/O operation, a checkpoint and a clean close all
//! keep them), gone with the table, and never carried over by a restore.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::sim_options;
use tidestore::fs::sim::SimFs;
use tidestore::ScalarAttributeType::S;
use tidestore::*;

const DIR: &str = "/db";
const HOUR_MS: u64 = 60 * 60 * 1000;

fn arn(table: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:000000000000:table/{table}")
}

fn create(db: &Database, table: &str) {
    db.create_table(
        CreateTableInput::new(table)
            .hash_key("pk", S)
            .pay_per_request(),
    )
    .unwrap();
}

fn tags(db: &Database, table: &str) -> Vec<(String, String)> {
    db.list_tags_of_resource(ListTagsOfResourceInput::new(arn(table)))
        .unwrap()
        .tags
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn tag(db: &Database, table: &str, list: &[(&str, &str)]) -> Result<()> {
    db.tag_resource(TagResourceInput::new(
        arn(table),
        list.iter().map(|(k, v)| Tag::new(*k, *v)),
    ))
}

fn untag(db: &Database, table: &str, keys: &[&str]) -> Result<()> {
    db.untag_resource(UntagResourceInput::new(arn(table), keys.iter().copied()))
}

/// (status, attribute) of `DescribeTimeToLive`.
fn ttl(db: &Database, table: &str) -> (TimeToLiveStatus, Option<String>) {
    let d = db
        .describe_time_to_live(table)
        .unwrap()
        .time_to_live_description;
    (d.time_to_live_status, d.attribute_name)
}

fn enable(db: &Database, table: &str, attribute: &str) -> Result<UpdateTimeToLiveOutput> {
    db.update_time_to_live(UpdateTimeToLiveInput::enable(table, attribute))
}

fn disable(db: &Database, table: &str, attribute: &str) -> Result<UpdateTimeToLiveOutput> {
    db.update_time_to_live(UpdateTimeToLiveInput::disable(table, attribute))
}

/// The message of a refusal, checked to be the exception `name`.
fn refusal<T: std::fmt::Debug>(result: Result<T>, name: &str) -> String {
    let error = result.expect_err("refused");
    assert_eq!(error.exception_name(), name, "{error}");
    match error {
        Error::Validation(m) | Error::ResourceNotFound(m) => m,
        other => other.to_string(),
    }
}

fn clock_db() -> (Database, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
    let db = Database::in_memory_with(Options::in_memory().clock(clock.clone())).unwrap();
    (db, clock)
}

#[test]
fn tags_are_upserted_listed_in_key_order_and_removed() {
    let db = Database::in_memory();
    create(&db, "Music");
    assert_eq!(tags(&db, "Music"), vec![]);
    tag(&db, "Music", &[("Owner", "blueTeam"), ("Env", "")]).unwrap();
    tag(&db, "Music", &[("Owner", "redTeam"), ("env", "x")]).unwrap();
    assert_eq!(
        tags(&db, "Music"),
        pairs(&[("Env", ""), ("Owner", "redTeam"), ("env", "x")])
    );
    // A key the table does not have is no error; the others go.
    untag(&db, "Music", &["absent", "Env"]).unwrap();
    assert_eq!(
        tags(&db, "Music"),
        pairs(&[("Owner", "redTeam"), ("env", "x")])
    );
    // NextToken: the tags after that key.
    let after = db
        .list_tags_of_resource(ListTagsOfResourceInput::new(arn("Music")).next_token("Owner"))
        .unwrap();
    assert_eq!(after.tags, vec![Tag::new("env", "x")]);
    assert_eq!(after.next_token, None);
    // Fifty tags is the limit, counted after the merge: new values for all fifty are fine.
    let fifty: Vec<(String, String)> = (0..48).map(|i| (format!("k{i:02}"), "v".into())).collect();
    let list: Vec<(&str, &str)> = fifty
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    tag(&db, "Music", &list).unwrap();
    assert_eq!(tags(&db, "Music").len(), 50);
    let renamed: Vec<(&str, &str)> = list.iter().map(|(k, _)| (*k, "w")).collect();
    tag(&db, "Music", &renamed).unwrap();
    assert_eq!(
        refusal(
            tag(&db, "Music", &[("k00", "z"), ("one-more", "v")]),
            "ValidationException"
        ),
        "Number of Tags exceed the current limit for the provided ResourceArn"
    );
    assert_eq!(tags(&db, "Music").len(), 50);
    assert!(tags(&db, "Music").contains(&("k00".into(), "w".into())));
}

#[test]
fn every_tag_refusal_is_dynamodbs_and_changes_nothing() {
    let db = Database::in_memory();
    create(&db, "Music");
    tag(&db, "Music", &[("keep", "me")]).unwrap();
    let invalid = |e: Result<()>| refusal(e, "ValidationException");
    let bad_arn = "arn:aws:dynamodb:us-east-1:000000000000:table/Music/index/gsi";
    assert_eq!(
        invalid(db.tag_resource(TagResourceInput::new(bad_arn, [Tag::new("k", "v")]))),
        format!("Invalid TableArn: Invalid ResourceArn provided as input {bad_arn}")
    );
    assert_eq!(
        invalid(db.untag_resource(UntagResourceInput::new("Music", ["k"]))),
        "One or more parameter values were invalid: ARNs must start with 'arn:': Music"
    );
    assert_eq!(
        invalid(tag(&db, "Music", &[])),
        "Atleast one Tag needs to be provided as Input."
    );
    assert_eq!(
        invalid(tag(&db, "Music", &[("good", "v"), ("bad#char", "v")])),
        "The Tag Key provided is invalid, Key: bad#char"
    );
    assert_eq!(
        invalid(tag(&db, "Music", &[("good", "v"), ("k", "a|b")])),
        "The Tag Value provided is invalid, Value: a|b"
    );
    assert_eq!(
        invalid(tag(&db, "Music", &[("good", "v"), ("AWS:name", "v")])),
        "Tag Key cannot be prefixed with aws:, Key: AWS:name"
    );
    assert_eq!(
        invalid(tag(&db, "Music", &[("dup", "1"), ("dup", "2")])),
        "Duplicate Tag Keys provided as input: Duplicate Tag Key found dup"
    );
    assert_eq!(
        invalid(untag(&db, "Music", &[])),
        "Atleast one Tag Key needs to be provided as Input."
    );
    assert_eq!(
        invalid(untag(&db, "Music", &["keep", "aws:foo"])),
        "Tag Key cannot be prefixed with aws:, Key: aws:foo"
    );
    let fifty_one: Vec<String> = (0..51).map(|i| format!("k{i}")).collect();
    assert_eq!(
        invalid(untag(
            &db,
            "Music",
            &fifty_one.iter().map(String::as_str).collect::<Vec<_>>()
        )),
        "Number of Tags exceed the current limit for the provided ResourceArn"
    );
    for missing in [
        tag(&db, "Nothing", &[("k", "v")]),
        untag(&db, "Nothing", &["k"]),
        db.list_tags_of_resource(ListTagsOfResourceInput::new(arn("Nothing")))
            .map(|_| ()),
    ] {
        assert_eq!(
            refusal(missing, "ResourceNotFoundException"),
            format!(
                "Requested resource not found: ResourceArn: {} not found",
                arn("Nothing")
            )
        );
    }
    assert_eq!(tags(&db, "Music"), pairs(&[("keep", "me")]));
}

#[test]
fn create_table_takes_tags_by_the_same_rules() {
    let db = Database::in_memory();
    db.create_table(
        CreateTableInput::new("Tagged")
            .hash_key("pk", S)
            .pay_per_request()
            .tags([Tag::new("Owner", "blueTeam")]),
    )
    .unwrap();
    assert_eq!(tags(&db, "Tagged"), pairs(&[("Owner", "blueTeam")]));
    // An empty list is fine here (TagResource refuses one).
    db.create_table(
        CreateTableInput::new("Untagged")
            .hash_key("pk", S)
            .pay_per_request()
            .tags([]),
    )
    .unwrap();
    assert_eq!(tags(&db, "Untagged"), vec![]);
    let refused = db.create_table(
        CreateTableInput::new("Refused")
            .hash_key("pk", S)
            .pay_per_request()
            .tags([Tag::new("aws:x", "v")]),
    );
    assert_eq!(
        refusal(refused, "ValidationException"),
        "Tag Key cannot be prefixed with aws:, Key: aws:x"
    );
    assert!(db.describe_table("Refused").is_err(), "no table made");
}

#[test]
fn time_to_live_reports_and_refuses_as_dynamodb_does() {
    let (db, clock) = clock_db();
    create(&db, "Music");
    assert_eq!(ttl(&db, "Music"), (TimeToLiveStatus::Disabled, None));
    let invalid = |e: Result<UpdateTimeToLiveOutput>| refusal(e, "ValidationException");
    assert_eq!(
        invalid(disable(&db, "Music", "expires")),
        "TimeToLive is already disabled"
    );
    let out = enable(&db, "Music", "expires").unwrap();
    assert_eq!(
        out.time_to_live_specification,
        TimeToLiveSpecification::new("expires", true)
    );
    assert_eq!(
        serde_json::to_string(&out).unwrap(),
        r#"{"TimeToLiveSpecification":{"Enabled":true,"AttributeName":"expires"}}"#
    );
    assert_eq!(
        ttl(&db, "Music"),
        (TimeToLiveStatus::Enabled, Some("expires".into()))
    );
    // What the request asks is judged before when it comes.
    assert_eq!(
        invalid(enable(&db, "Music", "expires")),
        "TimeToLive is already enabled"
    );
    for other in [
        enable(&db, "Music", "other"),
        disable(&db, "Music", "other"),
    ] {
        assert_eq!(
            invalid(other),
            "TimeToLive is active on a different AttributeName: current AttributeName is expires"
        );
    }
    clock.advance(HOUR_MS - 1);
    assert_eq!(
        invalid(disable(&db, "Music", "expires")),
        "Time to live has been modified multiple times within a fixed interval"
    );
    clock.advance(1);
    disable(&db, "Music", "expires").unwrap();
    assert_eq!(ttl(&db, "Music"), (TimeToLiveStatus::Disabled, None));
    assert_eq!(
        serde_json::to_string(&db.describe_time_to_live("Music").unwrap()).unwrap(),
        r#"{"TimeToLiveDescription":{"TimeToLiveStatus":"DISABLED"}}"#
    );
    assert_eq!(
        invalid(enable(&db, "Music", "other")),
        "Time to live has been modified multiple times within a fixed interval"
    );
    assert_eq!(
        invalid(enable(&db, "Music", "")),
        "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
    let long = "a".repeat(256);
    assert_eq!(
        invalid(enable(&db, "Music", &long)),
        format!("1 validation error detected: Value '{long}' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255")
    );
    assert_eq!(
        refusal(
            enable(&db, "Nothing", "expires"),
            "ResourceNotFoundException"
        ),
        "Requested resource not found: Table: Nothing not found"
    );
    assert_eq!(
        refusal(
            db.describe_time_to_live("Nothing"),
            "ResourceNotFoundException"
        ),
        "Requested resource not found: Table: Nothing not found"
    );
    // By ARN too.
    clock.advance(HOUR_MS);
    db.update_time_to_live(UpdateTimeToLiveInput::enable(arn("Music"), "other"))
        .unwrap();
    assert_eq!(
        ttl(&db, &arn("Music")),
        (TimeToLiveStatus::Enabled, Some("other".into()))
    );
}

#[test]
fn the_interval_between_time_to_live_changes_is_an_option() {
    let db =
        Database::in_memory_with(Options::in_memory().ttl_change_interval(Duration::ZERO)).unwrap();
    create(&db, "Music");
    enable(&db, "Music", "a").unwrap();
    disable(&db, "Music", "a").unwrap();
    enable(&db, "Music", "b").unwrap();
    assert_eq!(
        ttl(&db, "Music"),
        (TimeToLiveStatus::Enabled, Some("b".into()))
    );
}

#[test]
fn a_deleted_tables_settings_go_with_it() {
    let (db, _clock) = clock_db();
    create(&db, "Music");
    tag(&db, "Music", &[("Owner", "blueTeam")]).unwrap();
    enable(&db, "Music", "expires").unwrap();
    db.delete_table("Music").unwrap();
    assert_eq!(
        refusal(
            db.list_tags_of_resource(ListTagsOfResourceInput::new(arn("Music"))),
            "ResourceNotFoundException"
        ),
        format!(
            "Requested resource not found: ResourceArn: {} not found",
            arn("Music")
        )
    );
    create(&db, "Music");
    assert_eq!(tags(&db, "Music"), vec![]);
    assert_eq!(ttl(&db, "Music"), (TimeToLiveStatus::Disabled, None));
    // A new table's interval starts afresh, as DynamoDB keys it by table, not by name.
    enable(&db, "Music", "expires").unwrap();
}

/// A table's name, tags and Time to Live attribute.
type Settings = (String, Vec<(String, String)>, Option<String>);

/// What a test compares: every table's tags and Time to Live.
fn settings(db: &Database) -> Vec<Settings> {
    db.list_tables(ListTablesInput::new())
        .unwrap()
        .table_names
        .into_iter()
        .map(|t| {
            let tags = tags(db, &t);
            let (_, attribute) = ttl(db, &t);
            (t, tags, attribute)
        })
        .collect()
}

fn sim_db(fs: &SimFs) -> Database {
    Database::open_with(DIR, sim_options(fs).ttl_change_interval(Duration::ZERO)).unwrap()
}

#[test]
fn settings_survive_reopen_checkpoint_and_clean_close() {
    let fs = SimFs::new();
    let open = |snapshot_on_close: bool| {
        Database::open_with(
            DIR,
            sim_options(&fs)
                .ttl_change_interval(Duration::ZERO)
                .snapshot_on_close(snapshot_on_close),
        )
        .unwrap()
    };
    let db = open(false);
    create(&db, "Music");
    db.create_table(
        CreateTableInput::new("Other")
            .hash_key("pk", S)
            .pay_per_request()
            .tags([Tag::new("Team", "blue")]),
    )
    .unwrap();
    tag(&db, "Music", &[("Owner", "blueTeam"), ("Env", "prod")]).unwrap();
    enable(&db, "Music", "expires").unwrap();
    let expected = settings(&db);
    // From the log alone.
    drop(db);
    let db = open(false);
    assert_eq!(settings(&db), expected);
    // From a checkpoint's snapshot, with the log before it gone.
    db.checkpoint().unwrap();
    drop(db);
    let db = open(false);
    assert_eq!(settings(&db), expected);
    // A change of the settings alone after a snapshot: the next checkpoint must write a new
    // snapshot of the table, or the change goes with the log the checkpoint lets go. (The
    // other table's writes fill segments, so that log does go.)
    untag(&db, "Music", &["Env"]).unwrap();
    disable(&db, "Music", "expires").unwrap();
    for i in 0..200u32 {
        let item = Item::new()
            .with("pk", format!("{i:04}"))
            .with("pad", "x".repeat(64));
        db.put_item(PutItemInput::new("Other", item)).unwrap();
    }
    let expected = settings(&db);
    db.checkpoint().unwrap();
    drop(db);
    let db = open(false);
    assert_eq!(settings(&db), expected);
    // A clean close writes the snapshot from the live table.
    drop(db);
    let db = open(true);
    tag(&db, "Other", &[("Team", "red")]).unwrap();
    let expected = settings(&db);
    db.close().unwrap();
    let db = open(false);
    assert_eq!(settings(&db), expected);
}

/// The steps of the crash test: each one changes tags, Time to Live or items.
fn crash_steps(db: &Database, step: usize) -> Result<()> {
    match step {
        0 => db
            .create_table(
                CreateTableInput::new("Music")
                    .hash_key("pk", S)
                    .pay_per_request()
                    .tags([Tag::new("Owner", "blueTeam")]),
            )
            .map(|_| ()),
        1 => tag(db, "Music", &[("Env", "prod"), ("Team", "red")]),
        2 => enable(db, "Music", "expires").map(|_| ()),
        3 => db.checkpoint(),
        4 => untag(db, "Music", &["Env"]),
        5 => {
            for i in 0..40u32 {
                let item = Item::new()
                    .with("pk", format!("{i}"))
                    .with("pad", "x".repeat(64));
                db.put_item(PutItemInput::new("Music", item))?;
            }
            Ok(())
        }
        6 => disable(db, "Music", "expires").map(|_| ()),
        7 => db.checkpoint(),
        8 => tag(db, "Music", &[("Owner", "redTeam")]),
        _ => enable(db, "Music", "later").map(|_| ()),
    }
}

const CRASH_STEPS: usize = 10;

/// I1 and I2 for settings: after a crash at any I/O operation, under every crash policy,
/// the database has the settings of every acknowledged step (and of the one in flight, or
/// not).
#[test]
fn settings_survive_a_crash_at_every_io_operation() {
    let in_memory = || Options::in_memory().ttl_change_interval(Duration::ZERO);
    let states = support::states_after_each_step(
        CRASH_STEPS,
        || Database::in_memory_with(in_memory()).unwrap(),
        crash_steps,
        settings,
    );
    let options = |fs: &SimFs| sim_options(fs).ttl_change_interval(Duration::ZERO);
    let (total, recoveries) = support::crash_at_every_io_operation(
        DIR,
        CRASH_STEPS,
        options,
        crash_steps,
        |acked, db, context| {
            support::assert_acknowledged_or_in_flight(&states, acked, &settings(db), context)
        },
    );
    println!("CRASH settings points={total} recoveries={recoveries} violations=0");
}

#[test]
fn restores_carry_no_tags_and_no_time_to_live() {
    let fs = SimFs::new();
    let db = sim_db(&fs);
    create(&db, "Music");
    db.put_item(PutItemInput::new("Music", Item::new().with("pk", "a")))
        .unwrap();
    tag(&db, "Music", &[("Owner", "blueTeam")]).unwrap();
    enable(&db, "Music", "expires").unwrap();
    support::enable_pitr(&db, "Music", None);

    let backup = db.create_backup("Music", "MusicBackup").unwrap();
    let arn_of_backup = backup.backup_details.backup_arn;
    db.wait_for_backup(&arn_of_backup, Duration::from_secs(10))
        .unwrap();
    db.restore_table_from_backup(RestoreTableFromBackupInput::new(
        &arn_of_backup,
        "FromBackup",
    ))
    .unwrap();
    db.restore_table_to_point_in_time(RestoreTableToPointInTimeInput::latest("Music", "FromPitr"))
        .unwrap();
    for restored in ["FromBackup", "FromPitr"] {
        assert_eq!(support::scan_sorted(&db, restored).len(), 1, "{restored}");
        assert_eq!(tags(&db, restored), vec![], "{restored}");
        assert_eq!(
            ttl(&db, restored),
            (TimeToLiveStatus::Disabled, None),
            "{restored}"
        );
    }
    assert_eq!(tags(&db, "Music"), pairs(&[("Owner", "blueTeam")]));
    // Nor after a restart, when the restored tables come from their files and the log.
    drop(db);
    let db = sim_db(&fs);
    for restored in ["FromBackup", "FromPitr"] {
        assert_eq!(tags(&db, restored), vec![], "{restored}");
        assert_eq!(
            ttl(&db, restored),
            (TimeToLiveStatus::Disabled, None),
            "{restored}"
        );
    }
    assert_eq!(
        ttl(&db, "Music"),
        (TimeToLiveStatus::Enabled, Some("expires".into()))
    );
}

#[test]
fn a_restart_keeps_the_interval_between_time_to_live_changes() {
    let fs = SimFs::new();
    let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
    let open = || Database::open_with(DIR, sim_options(&fs).clock(clock.clone())).unwrap();
    let db = open();
    create(&db, "Music");
    enable(&db, "Music", "expires").unwrap();
    drop(db);
    clock.advance(HOUR_MS / 2);
    let db = open();
    assert_eq!(
        refusal(disable(&db, "Music", "expires"), "ValidationException"),
        "Time to live has been modified multiple times within a fixed interval"
    );
    clock.advance(HOUR_MS / 2);
    disable(&db, "Music", "expires").unwrap();
}
