//! A table's and its global indexes' on-demand maximums (`OnDemandThroughput`) and warm
//! throughput (`WarmThroughput`): set by `CreateTable` and `UpdateTable` and refused by
//! DynamoDB's rules and messages, described as DynamoDB's `DescribeTable` describes them,
//! kept durably with the table's definition (the log, a checkpoint's snapshot, a clean
//! close), recorded by a backup, and carried over (or overridden) by a restore.
//!
//! The maximums are stored and described, not enforced: nothing is throttled above them.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::sim_options;
use tidestore::fs::sim::SimFs;
use tidestore::ScalarAttributeType::S;
use tidestore::*;

const DIR: &str = "/db";

fn on_demand(name: &str) -> CreateTableInput {
    CreateTableInput::new(name)
        .hash_key("pk", S)
        .pay_per_request()
}

fn with_index(input: CreateTableInput) -> CreateTableInput {
    input.global_index("ByG", ("g", S), None, Projection::all())
}

fn maximums(read: Option<i64>, write: Option<i64>) -> OnDemandThroughput {
    let mut m = OnDemandThroughput::new();
    if let Some(read) = read {
        m = m.max_read_request_units(read);
    }
    if let Some(write) = write {
        m = m.max_write_request_units(write);
    }
    m
}

fn warm(read: i64, write: i64) -> WarmThroughput {
    WarmThroughput::new()
        .read_units_per_second(read)
        .write_units_per_second(write)
}

/// The message of a `ValidationException`, which `result` must be.
fn refused<T: std::fmt::Debug>(result: Result<T>) -> String {
    match result {
        Err(Error::Validation(message)) => message,
        other => panic!("not a ValidationException: {other:?}"),
    }
}

/// (table maximums, table warm (read, write), index maximums, index warm) as described.
type Described = (
    Option<OnDemandThroughput>,
    (u64, u64),
    Option<OnDemandThroughput>,
    Option<(u64, u64)>,
);

fn described(db: &Database, name: &str) -> Described {
    let d = db.describe_table(name).unwrap();
    let w = d.warm_throughput.expect("always described");
    assert_eq!(w.status, TableStatus::Active);
    let index = d.global_secondary_indexes.and_then(|mut i| i.pop());
    let index_warm = index.as_ref().map(|i| {
        let w = i.warm_throughput.expect("always described");
        assert_eq!(w.status, IndexStatus::Active);
        (w.read_units_per_second, w.write_units_per_second)
    });
    (
        d.on_demand_throughput,
        (w.read_units_per_second, w.write_units_per_second),
        index.and_then(|i| i.on_demand_throughput),
        index_warm,
    )
}

#[test]
fn maximums_are_set_merged_removed_by_minus_one_and_described_only_while_set() {
    let db = Database::in_memory();
    let created = db
        .create_table(with_index(on_demand("Tbl")).on_demand_throughput(maximums(Some(100), None)))
        .unwrap();
    assert_eq!(
        created.on_demand_throughput,
        Some(maximums(Some(100), None))
    );
    let json = serde_json::to_value(&created).unwrap();
    assert_eq!(
        json["OnDemandThroughput"],
        serde_json::json!({"MaxReadRequestUnits": 100})
    );
    // A member given replaces its maximum; one left out keeps it.
    db.update_table(UpdateTableInput::new("Tbl").on_demand_throughput(maximums(None, Some(50))))
        .unwrap();
    assert_eq!(described(&db, "Tbl").0, Some(maximums(Some(100), Some(50))));
    db.update_table(UpdateTableInput::new("Tbl").on_demand_throughput(maximums(Some(7), None)))
        .unwrap();
    assert_eq!(described(&db, "Tbl").0, Some(maximums(Some(7), Some(50))));
    // -1 removes one; with both removed the member is gone from the description.
    db.update_table(UpdateTableInput::new("Tbl").on_demand_throughput(maximums(Some(-1), None)))
        .unwrap();
    assert_eq!(described(&db, "Tbl").0, Some(maximums(None, Some(50))));
    db.update_table(UpdateTableInput::new("Tbl").on_demand_throughput(maximums(None, Some(-1))))
        .unwrap();
    assert_eq!(described(&db, "Tbl").0, None);
    let json = serde_json::to_value(db.describe_table("Tbl").unwrap()).unwrap();
    assert!(json.get("OnDemandThroughput").is_none(), "{json}");
    // The index's, by an Update action.
    assert_eq!(described(&db, "Tbl").2, None);
    let update = GlobalSecondaryIndexUpdate::on_demand("ByG", maximums(Some(9), Some(8)));
    db.update_table(UpdateTableInput::new("Tbl").global_secondary_index_updates(vec![update]))
        .unwrap();
    assert_eq!(described(&db, "Tbl").2, Some(maximums(Some(9), Some(8))));
    let update = GlobalSecondaryIndexUpdate::on_demand("ByG", maximums(Some(-1), Some(-1)));
    db.update_table(UpdateTableInput::new("Tbl").global_secondary_index_updates(vec![update]))
        .unwrap();
    assert_eq!(described(&db, "Tbl").2, None);
    // A table that never set them has none described.
    db.create_table(on_demand("Plain")).unwrap();
    assert_eq!(described(&db, "Plain").0, None);
}

#[test]
fn maximums_are_refused_on_provisioned_tables_and_outside_their_range() {
    let db = Database::in_memory();
    let provisioned = CreateTableInput::new("Prov")
        .hash_key("pk", S)
        .provisioned(5, 5);
    assert_eq!(
        refused(db.create_table(provisioned.clone().on_demand_throughput(maximums(None, Some(3))))),
        "One or more parameter values were invalid: MaxWriteRequestUnits for OnDemandThroughput cannot be specified when the table BillingMode is PROVISIONED"
    );
    for units in [0, -1, -2] {
        assert_eq!(
            refused(db.create_table(on_demand("Tbl").on_demand_throughput(maximums(Some(units), None)))),
            "One or more parameter values were invalid: Requested MaxReadRequestUnits for OnDemandThroughput for table is outside of valid range",
            "{units} at creation"
        );
    }
    let index =
        GlobalSecondaryIndex::new("ByG", vec![KeySchemaElement::hash("g")], Projection::all())
            .on_demand_throughput(maximums(Some(0), None));
    let input = on_demand("Tbl")
        .global_secondary_indexes(vec![index])
        .attribute_definitions(vec![
            AttributeDefinition::new("pk", S),
            AttributeDefinition::new("g", S),
        ]);
    assert_eq!(
        refused(db.create_table(input)),
        "One or more parameter values were invalid: Requested MaxReadRequestUnits for OnDemandThroughput for index : ByG is outside of valid range"
    );
    db.create_table(provisioned).unwrap();
    db.create_table(on_demand("Tbl")).unwrap();
    assert!(refused(db.update_table(
        UpdateTableInput::new("Prov").on_demand_throughput(maximums(Some(1), None))
    ))
    .contains("cannot be specified when the table BillingMode is PROVISIONED"));
    for units in [0, -2] {
        let update = UpdateTableInput::new("Tbl").on_demand_throughput(maximums(None, Some(units)));
        assert_eq!(
            refused(db.update_table(update)),
            "One or more parameter values were invalid: Requested MaxWriteRequestUnits for OnDemandThroughput for table is outside of valid range"
        );
    }
    // An update must name one maximum at least.
    let empty = UpdateTableInput::new("Tbl").on_demand_throughput(OnDemandThroughput::new());
    assert!(refused(db.update_table(empty))
        .contains("MaxReadRequestUnits, MaxWriteRequestUnits, or both"));
    // A refused update changes nothing.
    assert_eq!(described(&db, "Tbl").0, None);
}

#[test]
fn warm_throughput_is_described_for_every_table_and_never_decreases() {
    let db = Database::in_memory();
    // Never set: DynamoDB's 12,000/4,000 for on-demand, the capacity for provisioned.
    db.create_table(with_index(on_demand("OnDemand"))).unwrap();
    assert_eq!(described(&db, "OnDemand").1, (12_000, 4_000));
    assert_eq!(described(&db, "OnDemand").3, Some((12_000, 4_000)));
    db.create_table(with_index(
        CreateTableInput::new("Prov")
            .hash_key("pk", S)
            .provisioned(5, 6),
    ))
    .unwrap();
    assert_eq!(described(&db, "Prov").1, (5, 6));
    assert_eq!(described(&db, "Prov").3, Some((5, 6)));
    // At creation: never below the initial on-demand throughput or the capacity.
    assert_eq!(
        refused(db.create_table(on_demand("Warm").warm_throughput(warm(11_999, 4_000)))),
        "One or more parameter values were invalid: Requested ReadUnitsPerSecond for WarmThroughput for table is lower than initial throughput for OnDemand. See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput.html"
    );
    let provisioned = CreateTableInput::new("WarmProv")
        .hash_key("pk", S)
        .provisioned(10, 10);
    assert_eq!(
        refused(db.create_table(provisioned.clone().warm_throughput(warm(10, 9)))),
        "One or more parameter values were invalid: Requested WriteUnitsPerSecond for WarmThroughput for table is lower than WriteCapacityUnits of ProvisionedThroughput"
    );
    assert!(
        refused(db.create_table(on_demand("Warm").warm_throughput(warm(40_001, 4_000))))
            .contains("higher than the per-table throughput quota of 40000")
    );
    let created = db
        .create_table(on_demand("Warm").warm_throughput(warm(13_000, 4_500)))
        .unwrap();
    assert_eq!(
        created
            .warm_throughput
            .map(|w| (w.read_units_per_second, w.write_units_per_second)),
        Some((13_000, 4_500))
    );
    db.create_table(provisioned.warm_throughput(warm(50, 60)))
        .unwrap();
    assert_eq!(described(&db, "WarmProv").1, (50, 60));
    // Updates: one member raises its own; lower than now is refused, equal is accepted.
    db.update_table(
        UpdateTableInput::new("Warm")
            .warm_throughput(WarmThroughput::new().write_units_per_second(5_000)),
    )
    .unwrap();
    assert_eq!(described(&db, "Warm").1, (13_000, 5_000));
    assert_eq!(
        refused(db.update_table(UpdateTableInput::new("Warm").warm_throughput(warm(12_000, 5_000)))),
        "One or more parameter values were invalid: Requested ReadUnitsPerSecond for WarmThroughput for table is lower than current WarmThroughput, decreasing WarmThroughput is not supported"
    );
    db.update_table(UpdateTableInput::new("Warm").warm_throughput(warm(13_000, 5_000)))
        .unwrap();
    let empty = UpdateTableInput::new("Warm").warm_throughput(WarmThroughput::new());
    assert!(refused(db.update_table(empty))
        .contains("ReadUnitsPerSecond, WriteUnitsPerSecond, or both"));
    // An index's, by an Update action, by the same rules.
    let raise = |read| {
        UpdateTableInput::new("OnDemand").global_secondary_index_updates(vec![
            GlobalSecondaryIndexUpdate::warm(
                "ByG",
                WarmThroughput::new().read_units_per_second(read),
            ),
        ])
    };
    db.update_table(raise(20_000)).unwrap();
    assert_eq!(described(&db, "OnDemand").3, Some((20_000, 4_000)));
    assert_eq!(
        refused(db.update_table(raise(19_999))),
        "One or more parameter values were invalid: Requested ReadUnitsPerSecond for WarmThroughput for index ByG is lower than current WarmThroughput, decreasing WarmThroughput is not supported"
    );
}

#[test]
fn index_updates_take_only_what_the_tables_billing_mode_allows() {
    let db = Database::in_memory();
    db.create_table(with_index(on_demand("OnDemand"))).unwrap();
    let update = GlobalSecondaryIndexUpdate::throughput("ByG", ProvisionedThroughput::new(1, 1));
    assert_eq!(
        refused(db.update_table(UpdateTableInput::new("OnDemand").global_secondary_index_updates(vec![update]))),
        "One or more parameter values were invalid: The only Updates for index: ByG when TableThroughputMode is PAY_PER_REQUEST can be to OnDemandThroughput, WarmThroughput"
    );
    db.create_table(with_index(
        CreateTableInput::new("Prov")
            .hash_key("pk", S)
            .provisioned(5, 5),
    ))
    .unwrap();
    let update = GlobalSecondaryIndexUpdate::on_demand("ByG", maximums(Some(5), None));
    assert_eq!(
        refused(db.update_table(UpdateTableInput::new("Prov").global_secondary_index_updates(vec![update]))),
        "One or more parameter values were invalid: ProvisionedThroughput must be specified for index: ByG"
    );
    let update = GlobalSecondaryIndexUpdate::Update {
        index_name: "ByG".into(),
        provisioned_throughput: Some(ProvisionedThroughput::new(6, 6)),
        on_demand_throughput: Some(maximums(Some(5), None)),
        warm_throughput: None,
    };
    assert_eq!(
        refused(db.update_table(UpdateTableInput::new("Prov").global_secondary_index_updates(vec![update]))),
        "One or more parameter values were invalid: MaxReadRequestUnits for OnDemandThroughput for index : ByG cannot be specified when the table BillingMode is PROVISIONED"
    );
    // A provisioned index's warm throughput may rise on its own.
    let update = GlobalSecondaryIndexUpdate::warm("ByG", warm(100, 100));
    db.update_table(UpdateTableInput::new("Prov").global_secondary_index_updates(vec![update]))
        .unwrap();
    assert_eq!(described(&db, "Prov").3, Some((100, 100)));
}

#[test]
fn a_switch_to_provisioned_drops_the_maximums_and_keeps_the_on_demand_warm_floor() {
    let db = Database::in_memory();
    db.create_table(
        with_index(on_demand("Tbl")).on_demand_throughput(maximums(Some(10), Some(20))),
    )
    .unwrap();
    let update = GlobalSecondaryIndexUpdate::on_demand("ByG", maximums(Some(3), None));
    db.update_table(UpdateTableInput::new("Tbl").global_secondary_index_updates(vec![update]))
        .unwrap();
    // A switch to PROVISIONED with maximums is refused; without, it drops them.
    let switch = UpdateTableInput::new("Tbl")
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(ProvisionedThroughput::new(1, 1));
    assert!(
        refused(db.update_table(switch.clone().on_demand_throughput(maximums(Some(5), None))))
            .contains("cannot be specified when the table BillingMode is PROVISIONED")
    );
    db.update_table(switch).unwrap();
    // A table that was on-demand keeps its 12,000/4,000 (DynamoDB's warm throughput never
    // decreases).
    assert_eq!(
        described(&db, "Tbl"),
        (None, (12_000, 4_000), None, Some((12_000, 4_000)))
    );
    // Back to on-demand, with maximums in the same request.
    db.update_table(
        UpdateTableInput::new("Tbl")
            .billing_mode(BillingMode::PayPerRequest)
            .on_demand_throughput(maximums(Some(4), None)),
    )
    .unwrap();
    assert_eq!(described(&db, "Tbl").0, Some(maximums(Some(4), None)));
}

/// Every table's description of its settings.
fn all(db: &Database) -> Vec<(String, Described)> {
    let names = db.list_tables(ListTablesInput::new()).unwrap().table_names;
    names
        .into_iter()
        .map(|name| {
            let d = described(db, &name);
            (name, d)
        })
        .collect()
}

#[test]
fn settings_survive_reopen_checkpoint_and_clean_close() {
    let fs = SimFs::new();
    let open = |snapshot_on_close: bool| {
        Database::open_with(DIR, sim_options(&fs).snapshot_on_close(snapshot_on_close)).unwrap()
    };
    let db = open(false);
    db.create_table(
        with_index(on_demand("Created"))
            .on_demand_throughput(maximums(Some(100), Some(200)))
            .warm_throughput(warm(15_000, 5_000)),
    )
    .unwrap();
    db.create_table(with_index(on_demand("Updated"))).unwrap();
    let update = GlobalSecondaryIndexUpdate::Update {
        index_name: "ByG".into(),
        provisioned_throughput: None,
        on_demand_throughput: Some(maximums(None, Some(30))),
        warm_throughput: Some(warm(16_000, 6_000)),
    };
    db.update_table(UpdateTableInput::new("Updated").global_secondary_index_updates(vec![update]))
        .unwrap();
    db.create_table(on_demand("Plain")).unwrap();
    let expected = all(&db);
    assert_eq!(expected[2].0, "Updated");
    assert_eq!(expected[2].1 .2, Some(maximums(None, Some(30))));
    assert_eq!(expected[2].1 .3, Some((16_000, 6_000)));
    // From the log alone.
    drop(db);
    let db = open(false);
    assert_eq!(all(&db), expected);
    // From a checkpoint's snapshot.
    db.checkpoint().unwrap();
    drop(db);
    let db = open(false);
    assert_eq!(all(&db), expected);
    // A change after the snapshot, then a clean close that writes the live tables.
    db.update_table(UpdateTableInput::new("Plain").on_demand_throughput(maximums(Some(1), None)))
        .unwrap();
    let expected = all(&db);
    drop(db);
    let db = open(true);
    db.close().unwrap();
    let db = open(false);
    assert_eq!(all(&db), expected);
}

#[test]
fn backups_record_the_maximums_and_restores_carry_them_or_their_overrides() {
    let fs = SimFs::new();
    let db = Database::open_with(DIR, sim_options(&fs)).unwrap();
    db.create_table(
        with_index(on_demand("Music"))
            .on_demand_throughput(maximums(Some(100), Some(200)))
            .warm_throughput(warm(15_000, 5_000)),
    )
    .unwrap();
    let update = GlobalSecondaryIndexUpdate::on_demand("ByG", maximums(Some(7), None));
    db.update_table(UpdateTableInput::new("Music").global_secondary_index_updates(vec![update]))
        .unwrap();
    db.put_item(PutItemInput::new(
        "Music",
        Item::new().with("pk", "a").with("g", "x"),
    ))
    .unwrap();
    support::enable_pitr(&db, "Music", None);
    let backup = db.create_backup("Music", "MusicBackup").unwrap();
    let arn = backup.backup_details.backup_arn;
    db.wait_for_backup(&arn, Duration::from_secs(10)).unwrap();
    let description = db.describe_backup(&arn).unwrap().backup_description;
    assert_eq!(
        description.source_table_details.on_demand_throughput,
        Some(maximums(Some(100), Some(200)))
    );
    let json = serde_json::to_value(&description).unwrap();
    assert_eq!(
        json["SourceTableDetails"]["OnDemandThroughput"],
        serde_json::json!({"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 200})
    );
    assert_eq!(
        json["SourceTableFeatureDetails"]["GlobalSecondaryIndexes"][0]["OnDemandThroughput"],
        serde_json::json!({"MaxReadRequestUnits": 7})
    );

    // Without an override: the source's maximums; warm throughput starts anew.
    db.restore_table_from_backup(RestoreTableFromBackupInput::new(&arn, "Kept"))
        .unwrap();
    db.restore_table_to_point_in_time(RestoreTableToPointInTimeInput::latest("Music", "KeptPitr"))
        .unwrap();
    let kept = (
        Some(maximums(Some(100), Some(200))),
        (12_000, 4_000),
        Some(maximums(Some(7), None)),
        Some((12_000, 4_000)),
    );
    assert_eq!(described(&db, "Kept"), kept);
    assert_eq!(described(&db, "KeptPitr"), kept);

    // An override merges as an update does: a member given replaces, -1 removes.
    let od = maximums(Some(-1), Some(300));
    db.restore_table_from_backup(
        RestoreTableFromBackupInput::new(&arn, "Overridden").on_demand_throughput_override(od),
    )
    .unwrap();
    db.restore_table_to_point_in_time(
        RestoreTableToPointInTimeInput::latest("Music", "OverriddenPitr")
            .on_demand_throughput_override(od),
    )
    .unwrap();
    for restored in ["Overridden", "OverriddenPitr"] {
        assert_eq!(
            described(&db, restored).0,
            Some(maximums(None, Some(300))),
            "{restored}"
        );
    }
    // Out of range, or on a table restored PROVISIONED: refused in DynamoDB's words.
    assert_eq!(
        refused(db.restore_table_from_backup(
            RestoreTableFromBackupInput::new(&arn, "Bad")
                .on_demand_throughput_override(maximums(Some(0), None))
        )),
        "Invalid Request: Requested MaxReadRequestUnits for OnDemandThroughput is outside of valid range"
    );
    let provisioned = RestoreTableFromBackupInput::new(&arn, "Bad")
        .billing_mode_override(BillingMode::Provisioned)
        .provisioned_throughput_override(ProvisionedThroughput::new(1, 1));
    assert_eq!(
        refused(db.restore_table_from_backup(
            provisioned.clone().on_demand_throughput_override(maximums(None, Some(5)))
        )),
        "Invalid Request: Cannot override MaxWriteRequestUnits for OnDemandThroughput unless BillingModeOverride is PAY_PER_REQUEST"
    );
    // Restored PROVISIONED, the source's maximums are dropped.
    db.restore_table_from_backup(provisioned).unwrap();
    assert_eq!(described(&db, "Bad").0, None);
    assert_eq!(described(&db, "Bad").2, None);

    // All of it durable.
    let expected = all(&db);
    drop(db);
    let db = Database::open_with(DIR, sim_options(&fs)).unwrap();
    assert_eq!(all(&db), expected);
}

#[test]
fn an_index_override_with_maximums_on_a_table_restored_provisioned_is_refused_not_ignored() {
    let fs = SimFs::new();
    let db = Database::open_with(DIR, sim_options(&fs)).unwrap();
    db.create_table(with_index(on_demand("Music"))).unwrap();
    support::enable_pitr(&db, "Music", None);
    let backup = db.create_backup("Music", "MusicBackup").unwrap();
    let arn = backup.backup_details.backup_arn;
    db.wait_for_backup(&arn, Duration::from_secs(10)).unwrap();
    let index =
        GlobalSecondaryIndex::new("ByG", vec![KeySchemaElement::hash("g")], Projection::all())
            .on_demand_throughput(maximums(Some(5), None));
    let expected = "One or more parameter values were invalid: MaxReadRequestUnits for OnDemandThroughput for index : ByG cannot be specified when the table BillingMode is PROVISIONED";
    assert_eq!(
        refused(
            db.restore_table_from_backup(
                RestoreTableFromBackupInput::new(&arn, "Provisioned")
                    .billing_mode_override(BillingMode::Provisioned)
                    .provisioned_throughput_override(ProvisionedThroughput::new(1, 1))
                    .global_secondary_index_override(vec![index.clone()])
            )
        ),
        expected
    );
    assert_eq!(
        refused(
            db.restore_table_to_point_in_time(
                RestoreTableToPointInTimeInput::latest("Music", "ProvisionedPitr")
                    .billing_mode_override(BillingMode::Provisioned)
                    .provisioned_throughput_override(ProvisionedThroughput::new(1, 1))
                    .global_secondary_index_override(vec![index.clone()])
            )
        ),
        expected
    );
    // Restored on-demand, the override's maximums are the index's.
    db.restore_table_from_backup(
        RestoreTableFromBackupInput::new(&arn, "OnDemand")
            .global_secondary_index_override(vec![index]),
    )
    .unwrap();
    assert_eq!(described(&db, "OnDemand").2, Some(maximums(Some(5), None)));
}

/// Each global index's (maximums, warm) by name, as described.
fn by_index(db: &Database, table: &str) -> Vec<(String, Option<OnDemandThroughput>, (u64, u64))> {
    let d = db.describe_table(table).unwrap();
    let mut indexes: Vec<_> = (d.global_secondary_indexes.unwrap_or_default().into_iter())
        .map(|i| {
            let w = i.warm_throughput.expect("always described");
            (
                i.index_name,
                i.on_demand_throughput,
                (w.read_units_per_second, w.write_units_per_second),
            )
        })
        .collect();
    indexes.sort_by(|a, b| a.0.cmp(&b.0));
    indexes
}

#[test]
fn each_index_keeps_its_own_settings_after_indexes_are_added_deleted_dropped_and_reordered() {
    let fs = SimFs::new();
    let open = || Database::open_with(DIR, sim_options(&fs)).unwrap();
    let db = open();
    let gsi = |name: &str, read: i64| {
        GlobalSecondaryIndex::new(name, vec![KeySchemaElement::hash(name)], Projection::all())
            .on_demand_throughput(maximums(Some(read), None))
            .warm_throughput(warm(12_000 + read, 4_000 + read))
    };
    let defs = |names: &[&str]| {
        names
            .iter()
            .map(|n| AttributeDefinition::new(*n, S))
            .collect::<Vec<_>>()
    };
    db.create_table(
        on_demand("Tbl")
            .global_secondary_indexes(vec![gsi("ixa", 1), gsi("ixb", 2), gsi("ixc", 3)])
            .attribute_definitions(defs(&["pk", "ixa", "ixb", "ixc"])),
    )
    .unwrap();
    db.update_table(
        UpdateTableInput::new("Tbl").global_secondary_index_updates(vec![
            GlobalSecondaryIndexUpdate::Delete {
                index_name: "ixa".into(),
            },
        ]),
    )
    .unwrap();
    db.update_table(
        UpdateTableInput::new("Tbl")
            .attribute_definitions(defs(&["ixd"]))
            .global_secondary_index_updates(vec![GlobalSecondaryIndexUpdate::Create(gsi(
                "ixd", 4,
            ))]),
    )
    .unwrap();
    let setting = |name: &str, read: i64| {
        (
            name.to_owned(),
            Some(maximums(Some(read), None)),
            (12_000 + read as u64, 4_000 + read as u64),
        )
    };
    let expected = vec![setting("ixb", 2), setting("ixc", 3), setting("ixd", 4)];
    assert_eq!(by_index(&db, "Tbl"), expected);
    support::enable_pitr(&db, "Tbl", None);
    let backup = db.create_backup("Tbl", "TblBackup").unwrap();
    let arn = backup.backup_details.backup_arn;
    db.wait_for_backup(&arn, Duration::from_secs(10)).unwrap();
    // Overrides that drop one index and name the others in another order: each keeps the
    // source's maximums (warm throughput starts anew).
    let keep = |names: &[&str]| {
        names
            .iter()
            .map(|n| {
                GlobalSecondaryIndex::new(*n, vec![KeySchemaElement::hash(*n)], Projection::all())
            })
            .collect::<Vec<_>>()
    };
    db.restore_table_from_backup(
        RestoreTableFromBackupInput::new(&arn, "Restored")
            .global_secondary_index_override(keep(&["ixd", "ixb"])),
    )
    .unwrap();
    db.restore_table_to_point_in_time(
        RestoreTableToPointInTimeInput::latest("Tbl", "RestoredPitr")
            .global_secondary_index_override(keep(&["ixc", "ixb"])),
    )
    .unwrap();
    let anew = |name: &str, read: i64| {
        (
            name.to_owned(),
            Some(maximums(Some(read), None)),
            (12_000, 4_000),
        )
    };
    let restored = vec![anew("ixb", 2), anew("ixd", 4)];
    let restored_pitr = vec![anew("ixb", 2), anew("ixc", 3)];
    assert_eq!(by_index(&db, "Restored"), restored);
    assert_eq!(by_index(&db, "RestoredPitr"), restored_pitr);
    // From the log, then from a checkpoint.
    drop(db);
    let db = open();
    assert_eq!(by_index(&db, "Tbl"), expected);
    assert_eq!(by_index(&db, "Restored"), restored);
    assert_eq!(by_index(&db, "RestoredPitr"), restored_pitr);
    db.checkpoint().unwrap();
    drop(db);
    let db = open();
    assert_eq!(by_index(&db, "Tbl"), expected);
    assert_eq!(by_index(&db, "Restored"), restored);
    assert_eq!(by_index(&db, "RestoredPitr"), restored_pitr);
}
