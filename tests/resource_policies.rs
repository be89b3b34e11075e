//! Resource-based policies (`PutResourcePolicy`, `GetResourcePolicy`,
//! `DeleteResourcePolicy`, `CreateTable`'s `ResourcePolicy`): DynamoDB's revisions and
//! refusals, on tables and streams; kept durably with the table (a restart, a checkpoint, a
//! clean close and a crash at any I/O operation all keep them), gone with the table, and
//! never carried over by a restore. Stored and given back, never evaluated: tidestore has no
//! IAM.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::sim_options;
use tidestore::fs::sim::SimFs;
use tidestore::ScalarAttributeType::S;
use tidestore::*;

const DIR: &str = "/db";
/// What the clock of `clock_db` and `sim_options` reads at first, in epoch milliseconds.
const START_MS: u64 = 1_700_000_000_000;

fn arn(table: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:000000000000:table/{table}")
}

fn policy(action: &str) -> String {
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Principal": {{"AWS": "000000000000"}}, "Effect": "Allow", "Action": ["{action}"], "Resource": "*"}}]}}"#
    )
}

fn create(db: &Database, table: &str) {
    db.create_table(
        CreateTableInput::new(table)
            .hash_key("pk", S)
            .pay_per_request(),
    )
    .unwrap();
}

fn put(db: &Database, resource: &str, document: &str) -> Result<String> {
    db.put_resource_policy(PutResourcePolicyInput::new(resource, document))
        .map(|out| out.revision_id.unwrap())
}

fn put_expecting(db: &Database, resource: &str, document: &str, expected: &str) -> Result<String> {
    let input = PutResourcePolicyInput::new(resource, document).expected_revision_id(expected);
    db.put_resource_policy(input)
        .map(|out| out.revision_id.unwrap())
}

/// (document, revision) of the resource's policy.
fn get(db: &Database, resource: &str) -> Result<(String, String)> {
    let out = db.get_resource_policy(GetResourcePolicyInput::new(resource))?;
    Ok((out.policy.unwrap(), out.revision_id.unwrap()))
}

/// The message of a refusal, checked to be the exception `name`.
fn refusal<T: std::fmt::Debug>(result: Result<T>, name: &str) -> String {
    let error = result.expect_err("refused");
    assert_eq!(error.exception_name(), name, "{error}");
    error.message()
}

fn clock_db() -> (Database, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Timestamp(START_MS)));
    let db = Database::in_memory_with(Options::in_memory().clock(clock.clone())).unwrap();
    (db, clock)
}

#[test]
fn a_policy_is_put_got_and_deleted_with_a_new_revision_per_change() {
    let (db, clock) = clock_db();
    create(&db, "Music");
    let music = arn("Music");
    let first = put(&db, &music, &policy("dynamodb:*")).unwrap();
    // Epoch milliseconds of the put, as DynamoDB's revisions are.
    assert_eq!(first, START_MS.to_string());
    assert_eq!(
        get(&db, &music).unwrap(),
        (policy("dynamodb:*"), first.clone())
    );
    // The same document again changes nothing: the same revision.
    assert_eq!(put(&db, &music, &policy("dynamodb:*")).unwrap(), first);
    // Another document, in the same millisecond: a new revision all the same, and a later
    // one, by number and as a string.
    let second = put(&db, &music, &policy("dynamodb:PutItem")).unwrap();
    assert!(
        second > first && second.parse::<u64>().unwrap() > START_MS,
        "{second}"
    );
    clock.advance(5_000);
    let third = put_expecting(&db, &music, &policy("dynamodb:GetItem"), &second).unwrap();
    assert_eq!(third, (START_MS + 5_000).to_string());
    assert_eq!(
        get(&db, &music).unwrap(),
        (policy("dynamodb:GetItem"), third.clone())
    );
    // The document is kept byte for byte, whitespace and all.
    let spaced = format!("\n  {}  \n", policy("dynamodb:Query"));
    put(&db, &music, &spaced).unwrap();
    assert_eq!(get(&db, &music).unwrap().0, spaced);

    let deleted = db
        .delete_resource_policy(DeleteResourcePolicyInput::new(&music))
        .unwrap();
    assert!(deleted.revision_id.is_some());
    assert_eq!(
        refusal(get(&db, &music), "PolicyNotFoundException"),
        format!("Resource-based policy not found for the provided ResourceArn: {music}")
    );
    // Deleting again is no error without a revision (DynamoDB's delete is idempotent).
    let again = db
        .delete_resource_policy(DeleteResourcePolicyInput::new(&music))
        .unwrap();
    assert_eq!(again.revision_id, None);
    // With NO_POLICY, a put finds none and attaches; then a delete at its revision.
    let fourth = put_expecting(&db, &music, &policy("dynamodb:*"), NO_POLICY).unwrap();
    db.delete_resource_policy(DeleteResourcePolicyInput::new(&music).expected_revision_id(&fourth))
        .unwrap();
    assert!(get(&db, &music).is_err());
}

/// A revision names one policy: a policy put after another was deleted (in the same
/// millisecond, or after the clock stepped back), or on a table made again under the name of a
/// deleted one, never takes the revision of the one before. Else a conditional delete or put
/// meant for the old policy (its `ExpectedRevisionId`) would act on the new one.
#[test]
fn a_revision_is_never_given_again_after_a_delete() {
    let (db, clock) = clock_db();
    create(&db, "Music");
    let music = arn("Music");
    let old = put(&db, &music, &policy("dynamodb:*")).unwrap();
    db.delete_resource_policy(DeleteResourcePolicyInput::new(&music))
        .unwrap();
    let new = put(&db, &music, &policy("dynamodb:PutItem")).unwrap();
    assert_ne!(new, old, "the new policy took the deleted one's revision");
    assert!(new > old, "{new} is not after {old}");
    refusal(
        db.delete_resource_policy(
            DeleteResourcePolicyInput::new(&music).expected_revision_id(&old),
        ),
        "PolicyNotFoundException",
    );
    assert_eq!(
        get(&db, &music).unwrap(),
        (policy("dynamodb:PutItem"), new.clone())
    );

    // The clock stepped back, and the table made again with a policy as it is created.
    clock.set(Timestamp(START_MS - 60_000));
    db.delete_table("Music").unwrap();
    db.create_table(
        CreateTableInput::new("Music")
            .hash_key("pk", S)
            .pay_per_request()
            .resource_policy(policy("dynamodb:Query")),
    )
    .unwrap();
    let (_, recreated) = get(&db, &music).unwrap();
    assert!(recreated > new, "{recreated} is not after {new}");
    refusal(
        put_expecting(&db, &music, &policy("dynamodb:Scan"), &new),
        "PolicyNotFoundException",
    );
}

/// A conditional put is a check-and-set: of puts racing with one `ExpectedRevisionId`,
/// exactly one attaches its policy and every other is refused, whatever the interleaving;
/// the same for conditional deletes racing puts.
#[test]
fn of_racing_conditional_puts_exactly_one_wins() {
    let (db, _clock) = clock_db();
    create(&db, "Music");
    let music = arn("Music");
    for round in 0..20 {
        let expected = put(&db, &music, &policy(&format!("round{round}"))).unwrap();
        let barrier = std::sync::Barrier::new(8);
        let results: Vec<(usize, Result<String>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|t| {
                    let (db, music, expected, barrier) = (&db, &music, &expected, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        let result = if t == 7 {
                            db.delete_resource_policy(
                                DeleteResourcePolicyInput::new(music)
                                    .expected_revision_id(expected),
                            )
                            .map(|out| out.revision_id.unwrap())
                        } else {
                            put_expecting(db, music, &policy(&format!("{round}-{t}")), expected)
                        };
                        (t, result)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        for (_, result) in results.iter().filter(|(_, r)| r.is_err()) {
            let error = result.as_ref().unwrap_err();
            assert_eq!(error.exception_name(), "PolicyNotFoundException", "{error}");
        }
        let (winner, revision) = (winners[0].0, winners[0].1.as_ref().unwrap());
        match winner {
            7 => assert!(get(&db, &music).is_err(), "round {round}"),
            t => assert_eq!(
                get(&db, &music).unwrap(),
                (policy(&format!("{round}-{t}")), revision.clone())
            ),
        }
    }
}

#[test]
fn every_policy_refusal_is_dynamodbs_and_changes_nothing() {
    let (db, _clock) = clock_db();
    create(&db, "Music");
    let music = arn("Music");
    // No such table: the table's name as DynamoDB says it, for all three.
    let missing = format!("{music}_");
    let not_found = "Requested resource not found: Table: Music_ not found";
    assert_eq!(
        refusal(
            put(&db, &missing, &policy("dynamodb:*")),
            "ResourceNotFoundException"
        ),
        not_found
    );
    assert_eq!(
        refusal(get(&db, &missing), "ResourceNotFoundException"),
        not_found
    );
    assert_eq!(
        refusal(
            db.delete_resource_policy(DeleteResourcePolicyInput::new(&missing)),
            "ResourceNotFoundException"
        ),
        not_found
    );
    // Not an ARN, or not a table's.
    for bad in [
        "Music",
        "arn:aws:dynamodb:us-east-1:000000000000:table/Music/index/I",
    ] {
        refusal(put(&db, bad, &policy("dynamodb:*")), "ValidationException");
        refusal(get(&db, bad), "ValidationException");
    }
    // Revisions, before any policy: an expected one finds none.
    assert_eq!(
        refusal(
            put_expecting(&db, &music, &policy("dynamodb:*"), "123"),
            "PolicyNotFoundException"
        ),
        format!("Resource-based policy not found for the provided ResourceArn: {music}")
    );
    refusal(
        db.delete_resource_policy(
            DeleteResourcePolicyInput::new(&music).expected_revision_id("123"),
        ),
        "PolicyNotFoundException",
    );
    let revision = put(&db, &music, &policy("dynamodb:*")).unwrap();
    // The messages of moto's AWS-verified tests (which real DynamoDB passes).
    assert_eq!(
        refusal(
            put_expecting(&db, &music, &policy("dynamodb:PutItem"), NO_POLICY),
            "PolicyNotFoundException"
        ),
        format!("Resource-based policy not found for the provided ResourceArn: Requested policy update expecting none to be present for table Music, but a policy exists with revision id {revision}.")
    );
    let stale = format!("Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id 42, but the policy associated to target table Music has revision id {revision}.");
    assert_eq!(
        refusal(
            put_expecting(&db, &music, &policy("dynamodb:PutItem"), "42"),
            "PolicyNotFoundException"
        ),
        stale
    );
    assert_eq!(
        refusal(
            db.delete_resource_policy(
                DeleteResourcePolicyInput::new(&music).expected_revision_id("42")
            ),
            "PolicyNotFoundException"
        ),
        stale
    );
    // Documents: JSON objects of at most 20 KB, whitespace counted.
    let too_big = format!("{{{}}}", " ".repeat(MAX_POLICY_BYTES - 1));
    for bad in ["", "not json", "[]", too_big.as_str()] {
        let message = refusal(put(&db, &music, bad), "ValidationException");
        assert!(
            message.starts_with(
                "One or more parameter values were invalid: Invalid policy document: "
            ),
            "{message}"
        );
    }
    refusal(
        put_expecting(&db, &music, &policy("dynamodb:*"), &"1".repeat(256)),
        "ValidationException",
    );
    // Nothing refused changed anything.
    assert_eq!(get(&db, &music).unwrap(), (policy("dynamodb:*"), revision));
}

#[test]
fn create_table_attaches_its_policy_and_refuses_a_bad_one_with_no_table_made() {
    let (db, _clock) = clock_db();
    let refused = db.create_table(
        CreateTableInput::new("Music")
            .hash_key("pk", S)
            .pay_per_request()
            .resource_policy("{"),
    );
    refusal(refused, "ValidationException");
    assert!(db.describe_table("Music").is_err(), "no table made");
    db.create_table(
        CreateTableInput::new("Music")
            .hash_key("pk", S)
            .pay_per_request()
            .tags([Tag::new("Owner", "blueTeam")])
            .resource_policy(policy("dynamodb:*")),
    )
    .unwrap();
    assert_eq!(
        get(&db, &arn("Music")).unwrap(),
        (policy("dynamodb:*"), START_MS.to_string())
    );
    let tags = db
        .list_tags_of_resource(ListTagsOfResourceInput::new(arn("Music")))
        .unwrap()
        .tags;
    assert_eq!(tags, vec![Tag::new("Owner", "blueTeam")]);
}

#[test]
fn a_stream_has_its_own_policy_apart_from_its_tables() {
    let (db, _clock) = clock_db();
    db.create_table(
        CreateTableInput::new("Music")
            .hash_key("pk", S)
            .pay_per_request()
            .stream_specification(
                StreamSpecification::new(true).stream_view_type(StreamViewType::NewImage),
            ),
    )
    .unwrap();
    let stream = db
        .describe_table("Music")
        .unwrap()
        .latest_stream_arn
        .unwrap();
    let revision = put(&db, &stream, &policy("dynamodb:GetRecords")).unwrap();
    assert_eq!(
        get(&db, &stream).unwrap(),
        (policy("dynamodb:GetRecords"), revision)
    );
    assert_eq!(
        refusal(get(&db, &arn("Music")), "PolicyNotFoundException"),
        format!(
            "Resource-based policy not found for the provided ResourceArn: {}",
            arn("Music")
        )
    );
    put(&db, &arn("Music"), &policy("dynamodb:*")).unwrap();
    db.delete_resource_policy(DeleteResourcePolicyInput::new(arn("Music")))
        .unwrap();
    assert_eq!(get(&db, &stream).unwrap().0, policy("dynamodb:GetRecords"));
    // A stream the table never had.
    let other = format!("{}/stream/2001-01-01T00:00:00.000", arn("Music"));
    assert_eq!(
        refusal(
            put(&db, &other, &policy("dynamodb:*")),
            "ResourceNotFoundException"
        ),
        format!("Requested resource not found: Stream: {other} not found")
    );
    // A disabled stream takes no new policy, but its policy can still be read and removed.
    db.update_table(
        UpdateTableInput::new("Music").stream_specification(StreamSpecification::new(false)),
    )
    .unwrap();
    refusal(
        put(&db, &stream, &policy("dynamodb:*")),
        "ResourceNotFoundException",
    );
    assert_eq!(get(&db, &stream).unwrap().0, policy("dynamodb:GetRecords"));
    db.delete_resource_policy(DeleteResourcePolicyInput::new(&stream))
        .unwrap();
    refusal(get(&db, &stream), "PolicyNotFoundException");
}

#[test]
fn a_deleted_tables_policy_goes_with_it() {
    let (db, _clock) = clock_db();
    create(&db, "Music");
    put(&db, &arn("Music"), &policy("dynamodb:*")).unwrap();
    db.delete_table("Music").unwrap();
    refusal(get(&db, &arn("Music")), "ResourceNotFoundException");
    create(&db, "Music");
    refusal(get(&db, &arn("Music")), "PolicyNotFoundException");
}

/// A stream an `UpdateTable` drops (disabled longer ago than its records last) takes its
/// policy with it: the policy can no longer be read or deleted through the stream's ARN, so
/// kept, it would ride in every snapshot of the table for good.
#[test]
fn a_dropped_streams_policy_goes_with_it() {
    let dir = support::TempDir::new("dropped_stream_policy");
    let clock = Arc::new(ManualClock::new(Timestamp(START_MS)));
    let options = || {
        Options::default()
            .clock(clock.clone())
            .background_worker(false)
    };
    let db = Database::open_with(dir.path(), options()).unwrap();
    db.create_table(
        CreateTableInput::new("Music")
            .hash_key("pk", S)
            .pay_per_request()
            .stream_specification(
                StreamSpecification::new(true).stream_view_type(StreamViewType::NewImage),
            ),
    )
    .unwrap();
    let stream = db
        .describe_table("Music")
        .unwrap()
        .latest_stream_arn
        .unwrap();
    put(&db, &stream, &policy("dynamodb:OrphanMarker")).unwrap();
    db.update_table(
        UpdateTableInput::new("Music").stream_specification(StreamSpecification::new(false)),
    )
    .unwrap();
    // Past the stream's retention, a new stream: the old one is dropped from the table.
    clock.advance(25 * 60 * 60 * 1000);
    db.update_table(UpdateTableInput::new("Music").stream_specification(
        StreamSpecification::new(true).stream_view_type(StreamViewType::NewImage),
    ))
    .unwrap();
    refusal(get(&db, &stream), "ResourceNotFoundException");
    db.checkpoint().unwrap();
    db.close().unwrap();
    let snapshots = dir.path().join("snapshots");
    for entry in std::fs::read_dir(&snapshots).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(12).any(|w| w == b"OrphanMarker"),
            "{} still holds the dropped stream's policy",
            path.display()
        );
    }
    // And the table is whole after a reopen.
    let db = Database::open_with(dir.path(), options()).unwrap();
    refusal(get(&db, &stream), "ResourceNotFoundException");
    refusal(get(&db, &arn("Music")), "PolicyNotFoundException");
}

/// Every table's policy, by table: what the durability tests compare.
fn policies(db: &Database) -> Vec<(String, Option<(String, String)>)> {
    db.list_tables(ListTablesInput::new())
        .unwrap()
        .table_names
        .into_iter()
        .map(|t| {
            let policy = get(db, &arn(&t)).ok();
            (t, policy)
        })
        .collect()
}

#[test]
fn policies_survive_reopen_checkpoint_and_clean_close() {
    let fs = SimFs::new();
    let open = |snapshot_on_close: bool| {
        Database::open_with(DIR, sim_options(&fs).snapshot_on_close(snapshot_on_close)).unwrap()
    };
    let db = open(false);
    create(&db, "Music");
    db.create_table(
        CreateTableInput::new("Other")
            .hash_key("pk", S)
            .pay_per_request()
            .resource_policy(policy("dynamodb:Query")),
    )
    .unwrap();
    put(&db, &arn("Music"), &policy("dynamodb:*")).unwrap();
    let expected = policies(&db);
    // From the log alone.
    drop(db);
    let db = open(false);
    assert_eq!(policies(&db), expected);
    // From a checkpoint's snapshot, with the log before it gone.
    db.checkpoint().unwrap();
    drop(db);
    let db = open(false);
    assert_eq!(policies(&db), expected);
    // A policy change alone after a snapshot: the next checkpoint must write the table's
    // snapshot again, or the change goes with the log it lets go.
    put(&db, &arn("Music"), &policy("dynamodb:PutItem")).unwrap();
    db.delete_resource_policy(DeleteResourcePolicyInput::new(arn("Other")))
        .unwrap();
    for i in 0..200u32 {
        let item = Item::new()
            .with("pk", format!("{i:04}"))
            .with("pad", "x".repeat(64));
        db.put_item(PutItemInput::new("Other", item)).unwrap();
    }
    let expected = policies(&db);
    db.checkpoint().unwrap();
    drop(db);
    let db = open(false);
    assert_eq!(policies(&db), expected);
    // A clean close writes the snapshot from the live table.
    drop(db);
    let db = open(true);
    put(&db, &arn("Other"), &policy("dynamodb:Scan")).unwrap();
    let expected = policies(&db);
    db.close().unwrap();
    let db = open(false);
    assert_eq!(policies(&db), expected);
}

/// The steps of the crash test: each one changes a policy, or items, or checkpoints.
fn crash_steps(db: &Database, step: usize) -> Result<()> {
    match step {
        0 => db
            .create_table(
                CreateTableInput::new("Music")
                    .hash_key("pk", S)
                    .pay_per_request()
                    .resource_policy(policy("dynamodb:*")),
            )
            .map(|_| ()),
        1 => put(db, &arn("Music"), &policy("dynamodb:PutItem")).map(|_| ()),
        2 => db.checkpoint(),
        3 => {
            for i in 0..40u32 {
                let item = Item::new()
                    .with("pk", format!("{i}"))
                    .with("pad", "x".repeat(64));
                db.put_item(PutItemInput::new("Music", item))?;
            }
            Ok(())
        }
        4 => db
            .delete_resource_policy(DeleteResourcePolicyInput::new(arn("Music")))
            .map(|_| ()),
        5 => db.checkpoint(),
        _ => put(db, &arn("Music"), &policy("dynamodb:GetItem")).map(|_| ()),
    }
}

const CRASH_STEPS: usize = 7;

/// I1 and I2 for policies: after a crash at any I/O operation, under every crash policy,
/// the database has the policies of every acknowledged step (and of the one in flight, or
/// not).
#[test]
fn policies_survive_a_crash_at_every_io_operation() {
    let states = support::states_after_each_step(
        CRASH_STEPS,
        || {
            let clock = Arc::new(ManualClock::new(Timestamp(START_MS)));
            Database::in_memory_with(Options::in_memory().clock(clock)).unwrap()
        },
        crash_steps,
        policies,
    );
    let (total, recoveries) = support::crash_at_every_io_operation(
        DIR,
        CRASH_STEPS,
        sim_options,
        crash_steps,
        |acked, db, context| {
            support::assert_acknowledged_or_in_flight(&states, acked, &policies(db), context)
        },
    );
    println!("CRASH policies points={total} recoveries={recoveries} violations=0");
}

#[test]
fn restores_carry_no_resource_policy() {
    let fs = SimFs::new();
    let open = || Database::open_with(DIR, sim_options(&fs)).unwrap();
    let db = open();
    create(&db, "Music");
    db.put_item(PutItemInput::new("Music", Item::new().with("pk", "a")))
        .unwrap();
    let revision = put(&db, &arn("Music"), &policy("dynamodb:*")).unwrap();
    support::enable_pitr(&db, "Music", None);

    let backup = db.create_backup("Music", "MusicBackup").unwrap();
    let backup_arn = backup.backup_details.backup_arn;
    db.wait_for_backup(&backup_arn, Duration::from_secs(10))
        .unwrap();
    db.restore_table_from_backup(RestoreTableFromBackupInput::new(&backup_arn, "FromBackup"))
        .unwrap();
    db.restore_table_to_point_in_time(RestoreTableToPointInTimeInput::latest("Music", "FromPitr"))
        .unwrap();
    let check = |db: &Database| {
        for restored in ["FromBackup", "FromPitr"] {
            assert_eq!(support::scan_sorted(db, restored).len(), 1, "{restored}");
            refusal(get(db, &arn(restored)), "PolicyNotFoundException");
        }
        assert_eq!(
            get(db, &arn("Music")).unwrap(),
            (policy("dynamodb:*"), revision.clone())
        );
    };
    check(&db);
    // Nor after a restart, when the restored tables come from their files and the log.
    drop(db);
    check(&open());
}
