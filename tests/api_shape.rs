//! The public shapes are `#[non_exhaustive]` (a new field is not a breaking change), so code
//! outside the crate builds every input with its constructor and setters: these tests run
//! every operation with inputs built that way, and check that each setter fills its own
//! field. (`src/api/mod.rs` holds the `compile_fail` doctest showing that a struct literal
//! no longer compiles.)
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tidestore::ScalarAttributeType::{N, S};
use tidestore::*;

use support::TempDir;

const T0: u64 = 1_700_000_000_000;

fn song(artist: &str, title: &str, year: i64) -> Item {
    Item::new()
        .with("Artist", artist)
        .with("SongTitle", title)
        .with("Year", year)
}

fn song_key(artist: &str, title: &str) -> Item {
    Item::new().with("Artist", artist).with("SongTitle", title)
}

/// `input` as JSON, the API model's field names.
fn json_of(input: &impl serde::Serialize) -> Value {
    serde_json::to_value(input).unwrap()
}

#[test]
fn every_operation_runs_with_inputs_built_from_constructors_and_setters() {
    let dir = TempDir::new("api_shape");
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let options = Options::default()
        .clock(clock.clone())
        .background_worker(false)
        .region("eu-west-1")
        .account("123456789012");
    let db = Database::open_with(dir.path(), options).unwrap();

    // Tables.
    let by_year = LocalSecondaryIndex::new(
        "ByYear",
        vec![
            KeySchemaElement::hash("Artist"),
            KeySchemaElement::range("Year"),
        ],
        Projection::keys_only(),
    );
    let by_title = GlobalSecondaryIndex::new(
        "ByTitle",
        vec![KeySchemaElement::hash("SongTitle")],
        Projection::include(["Year"]),
    )
    .provisioned_throughput(ProvisionedThroughput::new(2, 2));
    let created = db
        .create_table(
            CreateTableInput::new("Music")
                .hash_key("Artist", S)
                .range_key("SongTitle", S)
                .attribute_definitions(vec![
                    AttributeDefinition::new("Artist", S),
                    AttributeDefinition::new("SongTitle", S),
                    AttributeDefinition::new("Year", N),
                ])
                .local_secondary_indexes(vec![by_year])
                .global_secondary_indexes(vec![by_title])
                .billing_mode(BillingMode::Provisioned)
                .provisioned_throughput(ProvisionedThroughput::new(5, 5))
                .stream_specification(
                    StreamSpecification::new(true).stream_view_type(StreamViewType::NewImage),
                ),
        )
        .unwrap();
    assert!(created
        .table_arn
        .starts_with("arn:aws:dynamodb:eu-west-1:123456789012:"));
    let updated = db
        .update_table(
            UpdateTableInput::new("Music")
                .provisioned_throughput(ProvisionedThroughput::new(6, 6))
                .stream_specification(StreamSpecification::new(false)),
        )
        .unwrap();
    assert_eq!(updated.stream_specification, None);
    let listed = db
        .list_tables(
            ListTablesInput::new()
                .limit(1)
                .exclusive_start_table_name("A"),
        )
        .unwrap();
    assert_eq!(listed.table_names, ["Music"]);

    // Single items.
    db.put_item(
        PutItemInput::new("Music", song("Acme", "Hit", 1999))
            .condition(Condition::attribute_not_exists("Artist"))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld),
    )
    .unwrap();
    let got = db
        .get_item(
            GetItemInput::new("Music", song_key("Acme", "Hit"))
                .projection(vec![Path::attr("Year")])
                .consistent_read(true),
        )
        .unwrap();
    assert_eq!(got.item, Some(Item::new().with("Year", 1999)));
    let old = db
        .update_item(
            UpdateItemInput::for_key("Music", song_key("Acme", "Hit"))
                .update_expression("SET #y = :y")
                .condition_expression("attribute_exists(Artist)")
                .expression_attribute_name("#y", "Year")
                .expression_attribute_value(":y", 2000)
                .return_values(ReturnValue::UpdatedOld),
        )
        .unwrap();
    assert_eq!(old.attributes, Some(Item::new().with("Year", 1999)));

    // Reads of many items.
    let query = db
        .query(
            QueryInput::new("Music", KeyCondition::partition("Artist", "Acme"))
                .index_name("ByYear")
                .select(Select::Count)
                .limit(10)
                .scan_index_forward(false)
                .consistent_read(true),
        )
        .unwrap();
    assert_eq!(query.count, 1);
    let scan = db
        .scan(
            ScanInput::new("Music")
                .filter(Condition::eq("Year", 2000))
                .projection(vec![Path::attr("SongTitle")])
                .segment((0, 1))
                .limit(10),
        )
        .unwrap();
    assert_eq!(scan.items, [Item::new().with("SongTitle", "Hit")]);

    // Batches and transactions.
    db.batch_write_item(
        BatchWriteItemInput::new()
            .put("Music", song("Acme", "B-side", 2001))
            .put("Music", song("Zed", "Solo", 2002))
            .delete("Music", song_key("Nobody", "Nothing")),
    )
    .unwrap();
    let batch = db
        .batch_get_item(
            BatchGetItemInput::new().table(
                "Music",
                KeysAndAttributes::new(vec![song_key("Acme", "B-side"), song_key("Zed", "Solo")])
                    .projection_expression("#y")
                    .expression_attribute_name("#y", "Year")
                    .consistent_read(true),
            ),
        )
        .unwrap();
    assert_eq!(batch.responses["Music"].len(), 2);
    db.transact_write_items(
        TransactWriteItemsInput::new(vec![
            TransactWriteItem::ConditionCheck(
                ConditionCheckInput::new("Music", song_key("Zed", "Solo"))
                    .condition(Condition::attribute_exists("Year")),
            ),
            TransactWriteItem::Delete(
                DeleteItemInput::new("Music", song_key("Acme", "B-side"))
                    .condition_expression("#y = :y")
                    .expression_attribute_name("#y", "Year")
                    .expression_attribute_value(":y", 2001),
            ),
        ])
        .client_request_token("token-1"),
    )
    .unwrap();
    let read = db
        .transact_get_items(TransactGetItemsInput::new(vec![
            TransactGetItem::new("Music", song_key("Acme", "B-side")),
            TransactGetItem::new("Music", song_key("Zed", "Solo"))
                .projection(vec![Path::attr("Year")]),
        ]))
        .unwrap();
    assert_eq!(read.responses[0].item, None);
    assert_eq!(read.responses[1].item, Some(Item::new().with("Year", 2002)));

    // Backups.
    clock.advance(1_000);
    let arn = db
        .create_backup("Music", "MusicBackup")
        .unwrap()
        .backup_details
        .backup_arn;
    db.wait_for_backup(&arn, Duration::from_secs(20)).unwrap();
    let backups = db
        .list_backups(
            ListBackupsInput::new()
                .table_name("Music")
                .limit(10)
                .time_range_lower_bound(Timestamp(T0))
                .time_range_upper_bound(Timestamp(T0 + 2_000))
                .backup_type(BackupTypeFilter::User),
        )
        .unwrap();
    assert_eq!(backups.backup_summaries.len(), 1);
    let restored = db
        .restore_table_from_backup(
            RestoreTableFromBackupInput::new(&arn, "MusicRestored")
                .billing_mode_override(BillingMode::PayPerRequest)
                .global_secondary_index_override(vec![])
                .sse_specification_override(SseSpecification::new().enabled(false)),
        )
        .unwrap();
    assert_eq!(restored.table_description.global_secondary_indexes, None);

    // Point-in-time recovery.
    db.update_continuous_backups(
        UpdateContinuousBackupsInput::new("Music", true).recovery_period_in_days(7),
    )
    .unwrap();
    clock.advance(1_000);
    db.restore_table_to_point_in_time(
        RestoreTableToPointInTimeInput::new("MusicNow")
            .source_table_arn(created.table_arn.clone())
            .use_latest_restorable_time(true)
            .billing_mode_override(BillingMode::PayPerRequest)
            .global_secondary_index_override(vec![]),
    )
    .unwrap();
    let scan = db.scan(ScanInput::new("MusicNow")).unwrap();
    assert_eq!(scan.count, 2);
}

#[test]
fn each_setter_fills_its_own_field() {
    let item = song("Acme", "Hit", 1999);
    let put = PutItemInput::new("Music", item.clone())
        .condition_expression("attribute_not_exists(Artist)")
        .return_values(ReturnValue::AllOld);
    assert_eq!((put.table_name.as_str(), &put.item), ("Music", &item));
    assert_eq!(
        put.expressions.condition_expression.as_deref(),
        Some("attribute_not_exists(Artist)")
    );
    assert_eq!(put.return_values, ReturnValue::AllOld);

    let query = QueryInput::table("Music")
        .key_condition_expression("Artist = :a")
        .filter_expression("Year > :y")
        .projection_expression("SongTitle")
        .expression_attribute_values(Item::new().with(":a", "Acme").with(":y", 1990))
        .expression_attribute_names(BTreeMap::from([("#t".into(), "SongTitle".into())]))
        .exclusive_start_key(song_key("Acme", "A"));
    assert_eq!(
        query.expressions,
        Expressions::new()
            .key_condition_expression("Artist = :a")
            .filter_expression("Year > :y")
            .projection_expression("SongTitle")
            .expression_attribute_values(Item::new().with(":a", "Acme").with(":y", 1990))
            .expression_attribute_names(BTreeMap::from([("#t".into(), "SongTitle".into())]))
    );
    assert_eq!(query.exclusive_start_key, Some(song_key("Acme", "A")));

    let batch = BatchWriteItemInput::new()
        .put("Music", item.clone())
        .delete("Other", song_key("Acme", "Hit"));
    assert_eq!(
        batch.request_items["Music"],
        [WriteRequest::Put { item: item.clone() }]
    );
    assert_eq!(
        batch.request_items["Other"],
        [WriteRequest::Delete {
            key: song_key("Acme", "Hit")
        }]
    );

    let options = Options::in_memory()
        .max_tables(3)
        .segment_bytes(8192)
        .checkpoint_min_log_bytes(1)
        .checkpoint_log_ratio(2.0)
        .maintenance_interval(Duration::from_millis(7))
        .buffered_sync_interval(Duration::from_millis(9))
        .snapshot_on_close(false)
        .backup_rate_limit(4)
        .backup_build_hook(Arc::new(|_: &str| {}));
    assert_eq!(options.durability, Durability::InMemory);
    assert_eq!(
        (
            options.max_tables,
            options.segment_bytes,
            options.checkpoint_min_log_bytes
        ),
        (3, 8192, 1)
    );
    assert_eq!(options.checkpoint_log_ratio, 2.0);
    assert_eq!(
        (options.maintenance_interval, options.buffered_sync_interval),
        (Duration::from_millis(7), Duration::from_millis(9))
    );
    assert!(!options.snapshot_on_close && options.backup_build_hook.is_some());
    assert_eq!(options.backup_rate_limit, 4);

    // The inputs that serialize show every field by its API name.
    let restore = RestoreTableToPointInTimeInput::new("Target")
        .source_table_name("Source")
        .restore_date_time(Timestamp(T0))
        .local_secondary_index_override(vec![])
        .provisioned_throughput_override(ProvisionedThroughput::new(1, 2))
        .sse_specification_override(
            SseSpecification::new()
                .enabled(true)
                .sse_type("KMS")
                .kms_master_key_id("key"),
        );
    assert_eq!(
        json_of(&restore),
        json!({
            "SourceTableName": "Source",
            "TargetTableName": "Target",
            "RestoreDateTime": 1_700_000_000.0,
            "LocalSecondaryIndexOverride": [],
            "ProvisionedThroughputOverride": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 2},
            "SSESpecificationOverride": {"Enabled": true, "SSEType": "KMS", "KMSMasterKeyId": "key"},
        })
    );
    let backups = ListBackupsInput::new().exclusive_start_backup_arn("arn");
    assert_eq!(json_of(&backups), json!({"ExclusiveStartBackupArn": "arn"}));
    let pitr = UpdateContinuousBackupsInput::new("Music", true).recovery_period_in_days(3);
    assert_eq!(
        json_of(&pitr),
        json!({
            "TableName": "Music",
            "PointInTimeRecoverySpecification": {
                "PointInTimeRecoveryEnabled": true,
                "RecoveryPeriodInDays": 3,
            },
        })
    );
    assert_eq!(
        PointInTimeRecoverySpecification::new(true).recovery_period_in_days(3),
        pitr.point_in_time_recovery_specification
    );
    let update = UpdateTableInput::new("Music")
        .attribute_definitions(vec![AttributeDefinition::new("g", S)])
        .billing_mode(BillingMode::PayPerRequest)
        .global_secondary_index_updates(vec![GlobalSecondaryIndexUpdate::Delete {
            index_name: "G".into(),
        }]);
    assert_eq!(
        json_of(&update),
        json!({
            "TableName": "Music",
            "AttributeDefinitions": [{"AttributeName": "g", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "G"}}],
        })
    );
    let create = CreateTableInput::new("T").key_schema(vec![KeySchemaElement::hash("pk")]);
    assert_eq!(
        json_of(&create),
        json!({"TableName": "T", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "AttributeDefinitions": []})
    );
}
