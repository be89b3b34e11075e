//! DynamoDB Streams read from the log: every acknowledged change appears once, in commit
//! order, with the images its view type shows; a write that changed nothing or failed its
//! condition appears not at all; records keep their sequence numbers across a reopen and a
//! crash; a disabled stream is a closed shard, readable until its records age out, and
//! enabling again makes a new stream; iterators expire and aged-out records are
//! `TrimmedDataAccessException`; Time to Live's deletes are the service's.
//!
//! The backbone check is a replay: applying a stream's records in order to an empty table,
//! each record's old image must be exactly the item as the records before it left it, and
//! the end must be the table. A record missing, repeated, out of order or with a wrong image
//! fails it.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use support::sim_options;
use tidestore::fs::sim::{CrashPolicy, SimFs};
use tidestore::ScalarAttributeType::S;
use tidestore::*;

const DIR: &str = "/db";
const T: &str = "Orders";

fn create(db: &Database, view: StreamViewType) -> String {
    let spec = StreamSpecification::new(true).stream_view_type(view);
    db.create_table(
        CreateTableInput::new(T)
            .hash_key("pk", S)
            .pay_per_request()
            .stream_specification(spec),
    )
    .unwrap()
    .latest_stream_arn
    .unwrap()
}

fn key(pk: &str) -> Item {
    Item::new().with("pk", pk)
}

fn put(db: &Database, pk: &str, v: i64) {
    db.put_item(PutItemInput::new(T, key(pk).with("v", v)))
        .unwrap();
}

/// Every record of the stream, read with `GetRecords` pages of at most `page` records.
fn read_all(db: &Database, arn: &str, page: i64) -> Vec<Record> {
    try_read_all(db, arn, page).unwrap()
}

/// [`read_all`], failing as the database does.
fn try_read_all(db: &Database, arn: &str, page: i64) -> Result<Vec<Record>> {
    let description = db.describe_stream(DescribeStreamInput::new(arn))?;
    let shard = description.stream_description.shards[0].shard_id.clone();
    let mut iterator = db
        .get_shard_iterator(GetShardIteratorInput::new(
            arn,
            shard,
            ShardIteratorType::TrimHorizon,
        ))?
        .shard_iterator;
    let mut records = Vec::new();
    while let Some(it) = iterator {
        let out = db.get_records(GetRecordsInput::new(it).limit(page))?;
        assert!(out.records.len() <= page as usize);
        let empty = out.records.is_empty();
        records.extend(out.records);
        iterator = out.next_shard_iterator;
        if empty {
            // An open shard answers with no records once read to its end.
            let status = db.describe_stream(DescribeStreamInput::new(arn))?;
            if status.stream_description.stream_status == StreamStatus::Enabled {
                break;
            }
        }
    }
    Ok(records)
}

/// A `TRIM_HORIZON` iterator of the stream's shard.
fn horizon_iterator(db: &Database, arn: &str) -> String {
    let input = GetShardIteratorInput::new(arn, shard_of(db, arn), ShardIteratorType::TrimHorizon);
    db.get_shard_iterator(input)
        .unwrap()
        .shard_iterator
        .unwrap()
}

fn shard_of(db: &Database, arn: &str) -> String {
    let description = db.describe_stream(DescribeStreamInput::new(arn)).unwrap();
    let shards = description.stream_description.shards;
    assert_eq!(shards.len(), 1);
    shards[0].shard_id.clone()
}

/// Applies `records` in order to an empty table of items by partition key, checking each
/// record's event and old image against the items the records before it left; returns the
/// items. `old_images`: whether the view type shows old images (else only presence is
/// checked); new images are taken from the records, or from `new_items` for views without
/// them (`None`: not tracked).
fn replay(records: &[Record], view: StreamViewType) -> BTreeMap<String, Option<Item>> {
    let shows_old = matches!(
        view,
        StreamViewType::OldImage | StreamViewType::NewAndOldImages
    );
    let shows_new = matches!(
        view,
        StreamViewType::NewImage | StreamViewType::NewAndOldImages
    );
    // By key: the item (when images tell it), for each key that exists.
    let mut items: BTreeMap<String, Option<Item>> = BTreeMap::new();
    let mut last_sequence = String::new();
    for record in records {
        let d = &record.dynamodb;
        assert!(
            d.sequence_number > last_sequence,
            "commit order: {record:?}"
        );
        assert!((21..=40).contains(&d.sequence_number.len()));
        last_sequence = d.sequence_number.clone();
        assert_eq!(record.event_source, "aws:dynamodb");
        assert_eq!(d.stream_view_type, view);
        let pk = match &d.keys["pk"] {
            AttributeValue::S(s) => s.clone(),
            other => panic!("key {other:?}"),
        };
        assert_eq!(d.keys.len(), 1, "only the key attributes: {record:?}");
        let before = items.get(&pk);
        match record.event_name {
            OperationType::Insert => assert!(
                before.is_none(),
                "INSERT of an item that exists: {record:?}"
            ),
            _ => assert!(
                before.is_some(),
                "{:?} of no item: {record:?}",
                record.event_name
            ),
        }
        if shows_old {
            match before {
                // Known from a new image: exactly it.
                Some(Some(item)) => {
                    assert_eq!(d.old_image.as_ref(), Some(item), "old image of {record:?}")
                }
                Some(None) => assert!(d.old_image.is_some(), "old image of {record:?}"),
                None => assert!(d.old_image.is_none(), "old image of {record:?}"),
            }
        } else {
            assert!(d.old_image.is_none());
        }
        match record.event_name {
            OperationType::Remove => {
                assert!(d.new_image.is_none());
                items.remove(&pk);
            }
            _ => {
                assert_eq!(d.new_image.is_some(), shows_new, "{record:?}");
                if shows_new {
                    let new = d.new_image.clone().unwrap();
                    assert_eq!(new["pk"], d.keys["pk"]);
                    assert_ne!(
                        Some(&new),
                        before.and_then(|i| i.as_ref()),
                        "a record of no change"
                    );
                }
                items.insert(pk, d.new_image.clone());
            }
        }
    }
    items
}

/// The table's items by partition key.
fn table(db: &Database) -> BTreeMap<String, Item> {
    support::scan_all(db, T)
        .into_iter()
        .map(|item| match &item["pk"] {
            AttributeValue::S(s) => (s.clone(), item),
            other => panic!("key {other:?}"),
        })
        .collect()
}

/// The replay of the stream is the table: its keys, and with new images its items.
fn assert_stream_is_table(
    db: &Database,
    arn: &str,
    view: StreamViewType,
    page: i64,
) -> Vec<Record> {
    let records = read_all(db, arn, page);
    let replayed = replay(&records, view);
    let table = table(db);
    assert_eq!(
        replayed.keys().collect::<Vec<_>>(),
        table.keys().collect::<Vec<_>>()
    );
    for (pk, item) in &replayed {
        if let Some(item) = item {
            assert_eq!(item, &table[pk], "{pk}");
        }
    }
    records
}

#[test]
fn each_change_is_one_record_and_writes_that_change_nothing_or_fail_are_none() {
    let db = Database::in_memory();
    let arn = create(&db, StreamViewType::NewAndOldImages);
    assert!(arn.starts_with("arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/"));
    put(&db, "a", 1); // INSERT
    put(&db, "a", 1); // the same item: nothing
    put(&db, "a", 2); // MODIFY
    let failed = db.put_item(
        PutItemInput::new(T, key("a").with("v", 3))
            .condition(Condition::attribute_not_exists("pk")),
    );
    assert!(matches!(failed, Err(Error::ConditionalCheckFailed { .. })));
    db.update_item(UpdateItemInput::new(
        T,
        key("b"),
        Update::new().add("v", AttributeValue::number(5)),
    ))
    .unwrap(); // INSERT by an update
    db.delete_item(DeleteItemInput::new(T, key("zz"))).unwrap(); // nothing to delete
    db.delete_item(DeleteItemInput::new(T, key("a"))).unwrap(); // REMOVE
    let records = assert_stream_is_table(&db, &arn, StreamViewType::NewAndOldImages, 100);
    let events: Vec<OperationType> = records.iter().map(|r| r.event_name).collect();
    use OperationType::*;
    assert_eq!(events, [Insert, Modify, Insert, Remove]);
    let remove = &records[3];
    assert_eq!(remove.dynamodb.old_image, Some(key("a").with("v", 2)));
    assert_eq!(remove.dynamodb.keys, key("a"));
    assert_eq!(remove.aws_region, "us-east-1");
    assert_eq!(remove.event_id.len(), 32);
    assert!(remove.user_identity.is_none());
    let json = serde_json::to_value(remove).unwrap();
    for field in [
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
    ] {
        assert!(json.get(field).is_some(), "{field} in {json}");
    }
    assert!(json["dynamodb"]["OldImage"]["v"]["N"] == "2", "{json}");
    assert!(
        json["dynamodb"]["ApproximateCreationDateTime"].is_number(),
        "{json}"
    );
}

#[test]
fn each_view_type_shows_what_it_names() {
    for view in [
        StreamViewType::KeysOnly,
        StreamViewType::NewImage,
        StreamViewType::OldImage,
        StreamViewType::NewAndOldImages,
    ] {
        let db = Database::in_memory();
        let arn = create(&db, view);
        put(&db, "a", 1);
        put(&db, "a", 2);
        db.delete_item(DeleteItemInput::new(T, key("a"))).unwrap();
        let records = assert_stream_is_table(&db, &arn, view, 2);
        assert_eq!(records.len(), 3, "{view:?}");
    }
}

#[test]
fn shard_ids_sequence_numbers_and_arns_have_the_lengths_the_sdks_check() {
    let db = Database::in_memory();
    let arn = create(&db, StreamViewType::KeysOnly);
    put(&db, "a", 1);
    let description = db
        .describe_stream(DescribeStreamInput::new(&arn))
        .unwrap()
        .stream_description;
    assert_eq!(description.stream_status, StreamStatus::Enabled);
    assert_eq!(description.table_name, T);
    assert_eq!(description.stream_view_type, StreamViewType::KeysOnly);
    let shard = &description.shards[0];
    assert!(
        (28..=65).contains(&shard.shard_id.len()),
        "{}",
        shard.shard_id
    );
    let start = shard
        .sequence_number_range
        .starting_sequence_number
        .clone()
        .unwrap();
    assert!((21..=40).contains(&start.len()));
    assert!(shard.sequence_number_range.ending_sequence_number.is_none());
    assert!(arn.len() >= 37);
    let listed = db
        .list_streams(ListStreamsInput::new().table_name(T))
        .unwrap();
    assert_eq!(listed.streams.len(), 1);
    assert_eq!(listed.streams[0].stream_arn, arn);
    assert_eq!(listed.streams[0].stream_label, description.stream_label);
}

#[test]
fn iterators_start_at_the_horizon_the_latest_or_a_sequence_number() {
    let db = Database::in_memory();
    let arn = create(&db, StreamViewType::KeysOnly);
    for i in 0..5 {
        put(&db, &format!("k{i}"), i);
    }
    let shard = shard_of(&db, &arn);
    let all = read_all(&db, &arn, 1000);
    assert_eq!(all.len(), 5);
    let from = |kind: ShardIteratorType, number: Option<&str>| {
        let mut input = GetShardIteratorInput::new(&arn, &shard, kind);
        if let Some(n) = number {
            input = input.sequence_number(n);
        }
        let it = db
            .get_shard_iterator(input)
            .unwrap()
            .shard_iterator
            .unwrap();
        db.get_records(GetRecordsInput::new(it)).unwrap()
    };
    let third = all[2].dynamodb.sequence_number.as_str();
    let at = from(ShardIteratorType::AtSequenceNumber, Some(third)).records;
    assert_eq!(at, all[2..]);
    let after = from(ShardIteratorType::AfterSequenceNumber, Some(third)).records;
    assert_eq!(after, all[3..]);
    let latest = from(ShardIteratorType::Latest, None);
    assert!(latest.records.is_empty());
    put(&db, "k9", 9);
    let next = db
        .get_records(GetRecordsInput::new(latest.next_shard_iterator.unwrap()))
        .unwrap();
    assert_eq!(next.records.len(), 1);
    assert_eq!(next.records[0].dynamodb.keys, key("k9"));
    // Refusals.
    let bad = db.get_shard_iterator(GetShardIteratorInput::new(
        &arn,
        &shard,
        ShardIteratorType::AtSequenceNumber,
    ));
    assert!(matches!(bad, Err(Error::Validation(_))), "{bad:?}");
    let bad = db.get_shard_iterator(GetShardIteratorInput::new(
        &arn,
        "shardId-00000000000000000000-00000000",
        ShardIteratorType::Latest,
    ));
    assert!(matches!(bad, Err(Error::ResourceNotFound(_))), "{bad:?}");
    let bad = db.get_records(GetRecordsInput::new("not an iterator"));
    assert!(matches!(bad, Err(Error::Validation(_))), "{bad:?}");
    // A well-formed ARN of no stream is not found; one that is no stream ARN is invalid,
    // as DynamoDB answers (Alternator's tests, which pass on DynamoDB).
    let (table_arn, _) = arn.rsplit_once("/stream/").unwrap();
    let other = format!("{table_arn}/stream/2001-01-01T00:00:00.000");
    let bad = db.describe_stream(DescribeStreamInput::new(other));
    assert!(matches!(bad, Err(Error::ResourceNotFound(_))), "{bad:?}");
    for malformed in [
        format!("{arn}x"),
        "arn:short".to_owned(),
        "sdfadfsdfnlfkajakfgjalksfgklasjklasdjfklasdfasdfgasf".to_owned(),
        arn.replace("table/", "tablet/"),
    ] {
        let bad = db.describe_stream(DescribeStreamInput::new(&malformed));
        assert!(
            matches!(bad, Err(Error::Validation(_))),
            "{malformed}: {bad:?}"
        );
        let input = GetShardIteratorInput::new(&malformed, &shard, ShardIteratorType::Latest);
        let bad = db.get_shard_iterator(input);
        assert!(
            matches!(bad, Err(Error::Validation(_))),
            "{malformed}: {bad:?}"
        );
    }
    // Shards after an ExclusiveStartShardId, whether or not it names one.
    let after = |start: &str| {
        let input = DescribeStreamInput::new(&arn).exclusive_start_shard_id(start);
        db.describe_stream(input)
            .unwrap()
            .stream_description
            .shards
            .len()
    };
    assert_eq!(
        (
            after("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"),
            after(&shard),
            after("aaa")
        ),
        (0, 0, 1)
    );
}

#[test]
fn a_disabled_stream_is_a_closed_shard_and_enabling_again_makes_a_new_stream() {
    let db = Database::in_memory();
    let first = create(&db, StreamViewType::NewImage);
    put(&db, "a", 1);
    // An iterator taken while the stream is enabled reads on after it is disabled.
    let shard = shard_of(&db, &first);
    let early = db
        .get_shard_iterator(GetShardIteratorInput::new(
            &first,
            &shard,
            ShardIteratorType::TrimHorizon,
        ))
        .unwrap()
        .shard_iterator
        .unwrap();
    let off = StreamSpecification::new(false);
    db.update_table(UpdateTableInput::new(T).stream_specification(off))
        .unwrap();
    put(&db, "b", 2); // no stream: in neither
    let on = StreamSpecification::new(true).stream_view_type(StreamViewType::KeysOnly);
    let second = db
        .update_table(UpdateTableInput::new(T).stream_specification(on))
        .unwrap()
        .latest_stream_arn
        .unwrap();
    assert_ne!(first, second);
    put(&db, "c", 3);

    let closed = db.get_records(GetRecordsInput::new(early)).unwrap();
    assert_eq!(closed.records.len(), 1);
    assert_eq!(closed.records[0].dynamodb.keys, key("a"));
    assert!(
        closed.next_shard_iterator.is_none(),
        "a closed shard read to its end"
    );
    let described = db
        .describe_stream(DescribeStreamInput::new(&first))
        .unwrap()
        .stream_description;
    assert_eq!(described.stream_status, StreamStatus::Disabled);
    assert!(described.shards[0]
        .sequence_number_range
        .ending_sequence_number
        .is_some());

    let records = read_all(&db, &second, 10);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].dynamodb.keys, key("c"));
    assert_eq!(records[0].event_name, OperationType::Insert);
    let listed: Vec<String> = db
        .list_streams(ListStreamsInput::new())
        .unwrap()
        .streams
        .into_iter()
        .map(|s| s.stream_arn)
        .collect();
    assert_eq!(listed, [first, second]);
}

#[test]
fn batches_and_transactions_are_one_record_per_item_and_a_cancelled_one_none() {
    let db = Database::in_memory();
    let arn = create(&db, StreamViewType::NewAndOldImages);
    put(&db, "a", 1);
    let batch = BatchWriteItemInput::new()
        .put(T, key("b").with("v", 1))
        .put(T, key("c").with("v", 1))
        .delete(T, key("a"));
    db.batch_write_item(batch).unwrap();
    let cancelled = db.transact_write_items(TransactWriteItemsInput::new(vec![
        TransactWriteItem::Put(PutItemInput::new(T, key("d").with("v", 1))),
        TransactWriteItem::ConditionCheck(
            ConditionCheckInput::new(T, key("a")).condition(Condition::attribute_exists("pk")),
        ),
    ]));
    assert!(matches!(cancelled, Err(Error::TransactionCanceled { .. })));
    db.transact_write_items(TransactWriteItemsInput::new(vec![
        TransactWriteItem::Put(PutItemInput::new(T, key("d").with("v", 1))),
        TransactWriteItem::Delete(DeleteItemInput::new(T, key("b"))),
    ]))
    .unwrap();
    let records = assert_stream_is_table(&db, &arn, StreamViewType::NewAndOldImages, 3);
    assert_eq!(records.len(), 6);
}

#[test]
fn a_subscription_waits_for_commits_and_sees_them_in_order() {
    let db = Database::in_memory();
    let arn = create(&db, StreamViewType::KeysOnly);
    let mut subscription = db
        .subscribe_to_stream(&arn, ShardIteratorType::Latest, None)
        .unwrap();
    assert!(subscription
        .next_timeout(Duration::from_millis(20))
        .unwrap()
        .is_none());
    let writer = {
        let db = db.clone();
        std::thread::spawn(move || {
            for i in 0..200 {
                put(&db, &format!("k{i:03}"), i);
            }
        })
    };
    let mut seen = Vec::new();
    while seen.len() < 200 {
        let record = subscription
            .next_timeout(Duration::from_secs(10))
            .unwrap()
            .expect("a record within 10 s");
        seen.push(record.dynamodb.keys["pk"].clone());
    }
    writer.join().unwrap();
    let expected: Vec<AttributeValue> = (0..200)
        .map(|i| AttributeValue::s(format!("k{i:03}")))
        .collect();
    assert_eq!(seen, expected);
    // Where it stands names the next record, to start again from.
    put(&db, "last", 0);
    let position = subscription.position();
    let next = subscription.next().unwrap().unwrap();
    assert!(next.dynamodb.sequence_number >= position);
}

#[test]
fn time_to_live_deletes_are_the_services_and_show_the_old_image() {
    let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
    let db = Database::in_memory_with(
        Options::in_memory()
            .clock(clock.clone())
            .background_worker(false),
    )
    .unwrap();
    let arn = create(&db, StreamViewType::OldImage);
    db.update_time_to_live(UpdateTimeToLiveInput::enable(T, "expires"))
        .unwrap();
    let expiring = key("a").with("expires", AttributeValue::number(1_600_000_000));
    db.put_item(PutItemInput::new(T, expiring.clone())).unwrap();
    db.delete_item(DeleteItemInput::new(T, key("a"))).unwrap();
    db.put_item(PutItemInput::new(T, expiring.clone())).unwrap();
    assert_eq!(db.delete_expired_items().unwrap(), 1);
    let records = read_all(&db, &arn, 100);
    let removes: Vec<&Record> = records
        .iter()
        .filter(|r| r.event_name == OperationType::Remove)
        .collect();
    assert_eq!(removes.len(), 2);
    assert!(removes[0].user_identity.is_none(), "a user's delete");
    let service = removes[1]
        .user_identity
        .as_ref()
        .expect("the service's delete");
    assert_eq!(service.principal_id, "dynamodb.amazonaws.com");
    assert_eq!(service.kind, "Service");
    assert_eq!(removes[1].dynamodb.old_image.as_ref(), Some(&expiring));
    let json = serde_json::to_value(removes[1]).unwrap();
    assert_eq!(json["userIdentity"]["Type"], "Service", "{json}");
    assert_eq!(
        json["userIdentity"]["PrincipalId"],
        "dynamodb.amazonaws.com"
    );
}

#[test]
fn an_iterator_expires_after_fifteen_minutes() {
    let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
    let db = Database::in_memory_with(Options::in_memory().clock(clock.clone())).unwrap();
    let arn = create(&db, StreamViewType::KeysOnly);
    let it = horizon_iterator(&db, &arn);
    clock.advance(14 * 60 * 1000);
    let next = db.get_records(GetRecordsInput::new(it.clone())).unwrap();
    clock.advance(2 * 60 * 1000);
    let expired = db.get_records(GetRecordsInput::new(it));
    assert!(
        matches!(expired, Err(Error::ExpiredIterator(_))),
        "{expired:?}"
    );
    assert_eq!(
        expired.unwrap_err().exception_name(),
        "ExpiredIteratorException"
    );
    // An answer's iterator lives its own 15 minutes.
    db.get_records(GetRecordsInput::new(next.next_shard_iterator.unwrap()))
        .unwrap();
}

/// A durable database whose streams survive reopening, checkpoints and log truncation:
/// the same records, with the same sequence numbers.
#[test]
fn records_keep_their_sequence_numbers_across_checkpoints_and_reopening() {
    let fs = SimFs::new();
    let options = || sim_options(&fs);
    let db = Database::open_with(DIR, options()).unwrap();
    let arn = create(&db, StreamViewType::NewAndOldImages);
    for round in 0..4 {
        for i in 0..40 {
            put(&db, &format!("k{}", i % 13), round * 100 + i);
        }
        db.checkpoint().unwrap();
    }
    let before = assert_stream_is_table(&db, &arn, StreamViewType::NewAndOldImages, 7);
    assert_eq!(before.len(), 160);
    drop(db);
    let db = Database::open_with(DIR, options()).unwrap();
    let after = assert_stream_is_table(&db, &arn, StreamViewType::NewAndOldImages, 1000);
    assert_eq!(before, after);
}

/// Records older than the retention go with their log segments: reading them is
/// `TrimmedDataAccessException`, and the horizon moves past them. Younger ones stay,
/// whatever checkpoints run.
#[test]
fn records_past_the_retention_are_trimmed_with_their_log() {
    let fs = SimFs::new();
    let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
    let options = sim_options(&fs)
        .clock(clock.clone())
        .stream_retention(Duration::from_secs(3600));
    let db = Database::open_with(DIR, options).unwrap();
    let arn = create(&db, StreamViewType::KeysOnly);
    for i in 0..60 {
        put(&db, &format!("old{i}"), i);
    }
    let start = |db: &Database| horizon_iterator(db, &arn);
    db.checkpoint().unwrap();
    assert_eq!(
        read_all(&db, &arn, 1000).len(),
        60,
        "kept within the retention"
    );
    clock.advance(3601 * 1000);
    for i in 0..60 {
        put(&db, &format!("new{i}"), i);
    }
    let stale = start(&db);
    db.checkpoint().unwrap();
    let trimmed = db.get_records(GetRecordsInput::new(stale));
    assert!(
        matches!(trimmed, Err(Error::TrimmedDataAccess(_))),
        "{trimmed:?}"
    );
    let kept = read_all(&db, &arn, 1000);
    let old = kept
        .iter()
        .filter(|r| matches!(&r.dynamodb.keys["pk"], AttributeValue::S(s) if s.starts_with("old")))
        .count();
    assert!(old < 60, "some of the aged records are gone");
    assert!(kept.len() >= 60, "every young record stays: {}", kept.len());
}

/// One step of a workload on the stream table, from a seed.
#[derive(Clone, Debug)]
enum Step {
    Put(u8, u8),
    PutIfAbsent(u8, u8),
    Add(u8, i8),
    Delete(u8),
    Batch(Vec<(u8, Option<u8>)>),
    Swap(u8, u8),
}

fn step() -> impl Strategy<Value = Step> {
    let k = 0u8..6;
    prop_oneof![
        (k.clone(), 0u8..3).prop_map(|(k, v)| Step::Put(k, v)),
        (k.clone(), 0u8..3).prop_map(|(k, v)| Step::PutIfAbsent(k, v)),
        (k.clone(), -2i8..3).prop_map(|(k, n)| Step::Add(k, n)),
        k.clone().prop_map(Step::Delete),
        proptest::collection::btree_map(k.clone(), proptest::option::of(0u8..3), 1..4)
            .prop_map(|m| Step::Batch(m.into_iter().collect())),
        (k.clone(), k)
            .prop_filter("two items", |(a, b)| a != b)
            .prop_map(|(a, b)| Step::Swap(a, b)),
    ]
}

fn pk(k: u8) -> String {
    format!("k{k}")
}

/// Runs `step`: errors the data explains (a failed condition, a cancelled transaction)
/// are part of the workload.
fn run(db: &Database, step: &Step) -> Result<()> {
    let item = |k: u8, v: u8| key(&pk(k)).with("v", i64::from(v));
    let result = match step {
        Step::Put(k, v) => db.put_item(PutItemInput::new(T, item(*k, *v))).map(drop),
        Step::PutIfAbsent(k, v) => db
            .put_item(
                PutItemInput::new(T, item(*k, *v)).condition(Condition::attribute_not_exists("pk")),
            )
            .map(drop),
        Step::Add(k, n) => db
            .update_item(UpdateItemInput::new(
                T,
                key(&pk(*k)),
                Update::new().add("v", AttributeValue::number(i64::from(*n))),
            ))
            .map(drop),
        Step::Delete(k) => db
            .delete_item(DeleteItemInput::new(T, key(&pk(*k))))
            .map(drop),
        Step::Batch(writes) => {
            let mut batch = BatchWriteItemInput::new();
            for (k, v) in writes {
                batch = match v {
                    Some(v) => batch.put(T, item(*k, *v)),
                    None => batch.delete(T, key(&pk(*k))),
                };
            }
            db.batch_write_item(batch).map(drop)
        }
        Step::Swap(a, b) => db
            .transact_write_items(TransactWriteItemsInput::new(vec![
                TransactWriteItem::Delete(
                    DeleteItemInput::new(T, key(&pk(*a)))
                        .condition(Condition::attribute_exists("pk")),
                ),
                TransactWriteItem::Put(PutItemInput::new(T, item(*b, 1))),
            ]))
            .map(drop),
    };
    match result {
        Err(Error::ConditionalCheckFailed { .. } | Error::TransactionCanceled { .. }) => Ok(()),
        other => other,
    }
}

fn view() -> impl Strategy<Value = StreamViewType> {
    prop_oneof![
        Just(StreamViewType::KeysOnly),
        Just(StreamViewType::NewImage),
        Just(StreamViewType::OldImage),
        Just(StreamViewType::NewAndOldImages),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The model test: after any workload, the stream replays to the table, and holds one
    /// record per change (a model counts them), read in pages of any size.
    #[test]
    fn the_stream_is_every_change_once_in_order(view in view(), steps in proptest::collection::vec(step(), 1..40), page in 1i64..8) {
        let db = Database::in_memory();
        let arn = create(&db, view);
        let mut changes = 0;
        for step in &steps {
            let before = table(&db);
            run(&db, step).unwrap();
            let after = table(&db);
            let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
            changes += keys.into_iter().filter(|k| before.get(*k) != after.get(*k)).count();
        }
        let records = assert_stream_is_table(&db, &arn, view, page);
        prop_assert_eq!(records.len(), changes);
    }
}

/// After a crash at any I/O operation, under every crash policy, the stream replays to the
/// recovered table (which holds every acknowledged write: `crash.rs` proves that part),
/// so it holds exactly the acknowledged changes, in order, and reads the same records a
/// reader saw before the crash.
#[test]
fn after_a_crash_at_any_io_operation_the_stream_is_exactly_the_recovered_changes() {
    let steps: Vec<Step> = {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        proptest::collection::vec(step(), 24)
            .new_tree(&mut runner)
            .unwrap()
            .current()
    };
    let view = StreamViewType::NewAndOldImages;
    let run_steps = |fs: &SimFs| -> (usize, Vec<Record>) {
        let Ok(db) = Database::open_with(DIR, sim_options(fs)) else {
            return (0, Vec::new());
        };
        let Ok(arn) = db
            .create_table(
                CreateTableInput::new(T)
                    .hash_key("pk", S)
                    .pay_per_request()
                    .stream_specification(StreamSpecification::new(true).stream_view_type(view)),
            )
            .map(|d| d.latest_stream_arn.unwrap())
        else {
            return (0, Vec::new());
        };
        let mut acked = 0;
        // What a reader saw before the crash: its last read that succeeded.
        let mut seen = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            if run(&db, step).is_err() {
                break;
            }
            if i % 8 == 7 && db.checkpoint().is_err() {
                break;
            }
            acked += 1;
            match try_read_all(&db, &arn, 1000) {
                Ok(records) => seen = records,
                Err(_) => break,
            }
        }
        (acked + 1, seen)
    };
    let total = {
        let fs = SimFs::new();
        assert_eq!(run_steps(&fs).0, steps.len() + 1);
        fs.op_count()
    };
    let mut checked = 0;
    for crash_at in 1..=total {
        let fs = SimFs::new();
        fs.crash_at(crash_at);
        let (_, seen) = run_steps(&fs);
        for (p, policy) in CrashPolicy::ALL.into_iter().enumerate() {
            let image = fs.after_crash(policy, crash_at ^ p as u64);
            let context = format!("crash at op {crash_at}/{total} {policy:?}");
            let db = Database::open_with(DIR, sim_options(&image))
                .unwrap_or_else(|e| panic!("{context}: recovery failed: {e}"));
            let Ok(described) = db.describe_table(T) else {
                continue;
            };
            let arn = described.latest_stream_arn.unwrap();
            let records = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                assert_stream_is_table(&db, &arn, view, 1000)
            }))
            .unwrap_or_else(|_| panic!("{context}: the stream is not the recovered table"));
            assert!(
                records.starts_with(&seen),
                "{context}: a record a reader saw before the crash is gone"
            );
            checked += 1;
        }
    }
    assert!(checked > total, "{checked} images checked");
}

/// A reader sees a record only once it is as durable as an acknowledged write: while the
/// log's sync of a written record is held back, the stream does not show it.
#[test]
fn a_reader_never_sees_a_record_the_log_has_not_made_durable() {
    use std::sync::{Condvar, Mutex};
    use tidestore::fs::sim::HookFs;
    use tidestore::fs::sim::OpKind;

    let fs = SimFs::new();
    // (armed, reached, released)
    let gate = Arc::new((Mutex::new((false, false, false)), Condvar::new()));
    let hooked = {
        let gate = Arc::clone(&gate);
        HookFs::new(Arc::new(fs.clone()), move |kind, path| {
            let wal = path.extension().is_some_and(|e| e == "wal");
            if kind == OpKind::Sync && wal {
                let (lock, cv) = &*gate;
                let mut state = lock.lock().unwrap();
                if state.0 {
                    state.1 = true;
                    cv.notify_all();
                    while !state.2 {
                        state = cv.wait(state).unwrap();
                    }
                }
            }
            Ok(())
        })
    };
    let db = Database::open_with(DIR, sim_options(&fs).fs(Arc::new(hooked))).unwrap();
    let arn = create(&db, StreamViewType::KeysOnly);
    put(&db, "before", 0);
    gate.0.lock().unwrap().0 = true;
    let writer = {
        let db = db.clone();
        std::thread::spawn(move || put(&db, "held", 1))
    };
    {
        let (lock, cv) = &*gate;
        let mut state = lock.lock().unwrap();
        while !state.1 {
            state = cv.wait(state).unwrap();
        }
    }
    // Written to the segment, not synced: not acknowledged, not readable.
    let records = read_all(&db, &arn, 100);
    assert_eq!(records.len(), 1, "{records:?}");
    {
        let (lock, cv) = &*gate;
        let mut state = lock.lock().unwrap();
        state.0 = false;
        state.2 = true;
        cv.notify_all();
    }
    writer.join().unwrap();
    assert_eq!(read_all(&db, &arn, 100).len(), 2);
}

/// What the wire tests found: a stream disabled before any write is a shard whose end is
/// not before its start; record times are whole seconds (the Streams API rounds them down);
/// `ListStreams` takes a table's name (not its ARN), refuses an unknown table, and pages on
/// after a start whose table was deleted between the pages, repeating nothing.
#[test]
fn empty_closed_shards_whole_second_times_and_list_streams_paging_past_a_deleted_table() {
    let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_789)));
    let db = Database::in_memory_with(Options::in_memory().clock(clock.clone())).unwrap();
    let on = StreamSpecification::new(true).stream_view_type(StreamViewType::KeysOnly);
    let mut arns = Vec::new();
    for name in ["A01", "B01", "C01"] {
        let table = CreateTableInput::new(name)
            .hash_key("pk", S)
            .pay_per_request()
            .stream_specification(on);
        arns.push(db.create_table(table).unwrap().latest_stream_arn.unwrap());
    }
    db.put_item(PutItemInput::new("A01", key("a"))).unwrap();
    let record = &read_all(&db, &arns[0], 10)[0];
    let time = record.dynamodb.approximate_creation_date_time;
    assert_eq!(time, Timestamp(1_700_000_000_000));

    let off = StreamSpecification::new(false);
    db.update_table(UpdateTableInput::new("C01").stream_specification(off))
        .unwrap();
    let range = db
        .describe_stream(DescribeStreamInput::new(&arns[2]))
        .unwrap()
        .stream_description
        .shards[0]
        .sequence_number_range
        .clone();
    let (start, end) = (
        range.starting_sequence_number.unwrap(),
        range.ending_sequence_number.unwrap(),
    );
    assert!(end >= start, "{start}..{end}");

    let first = db.list_streams(ListStreamsInput::new().limit(2)).unwrap();
    assert_eq!(first.streams.len(), 2);
    let after = first.last_evaluated_stream_arn.unwrap();
    assert_eq!(after, arns[1]);
    db.delete_table("B01").unwrap();
    let next = db
        .list_streams(
            ListStreamsInput::new()
                .limit(2)
                .exclusive_start_stream_arn(after),
        )
        .unwrap();
    let listed: Vec<&str> = next.streams.iter().map(|s| s.stream_arn.as_str()).collect();
    assert_eq!(listed, [arns[2].as_str()]);
    assert!(next.last_evaluated_stream_arn.is_none());

    let by_arn = db.list_streams(
        ListStreamsInput::new().table_name("arn:aws:dynamodb:us-east-1:000000000000:table/A01"),
    );
    assert!(matches!(by_arn, Err(Error::Validation(_))), "{by_arn:?}");
    let unknown = db.list_streams(ListStreamsInput::new().table_name("Nope"));
    assert!(
        matches!(unknown, Err(Error::ResourceNotFound(_))),
        "{unknown:?}"
    );
}

/// As DynamoDB's `DeleteTable` says: a deleted table's stream goes DISABLED and stays
/// readable for the retention (24 hours), after a reopen too; then it is gone, and the log
/// it held goes with it.
#[test]
fn a_deleted_tables_stream_stays_readable_for_its_retention_then_goes() {
    let fs = SimFs::new();
    let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
    let options = || {
        sim_options(&fs)
            .clock(clock.clone())
            .stream_retention(Duration::from_secs(3600))
    };
    let db = Database::open_with(DIR, options()).unwrap();
    let arn = create(&db, StreamViewType::NewAndOldImages);
    for i in 0..30 {
        put(&db, &format!("k{i}"), i);
    }
    let early = horizon_iterator(&db, &arn);
    db.delete_table(T).unwrap();
    // A new table of the same name has streams of its own.
    let again = create(&db, StreamViewType::KeysOnly);
    assert_ne!(again, arn);
    db.checkpoint().unwrap();
    let check = |db: &Database| {
        let described = db
            .describe_stream(DescribeStreamInput::new(&arn))
            .unwrap()
            .stream_description;
        assert_eq!(described.stream_status, StreamStatus::Disabled);
        let records = read_all(db, &arn, 7);
        assert_eq!(records.len(), 30);
        replay(&records, StreamViewType::NewAndOldImages);
        let listed: Vec<String> = (db.list_streams(ListStreamsInput::new().table_name(T)))
            .unwrap()
            .streams
            .into_iter()
            .map(|s| s.stream_arn)
            .collect();
        assert_eq!(listed.len(), 2);
        assert!(listed.contains(&arn) && listed.contains(&again));
    };
    check(&db);
    let out = db.get_records(GetRecordsInput::new(early)).unwrap();
    assert_eq!(out.records.len(), 30);
    assert!(
        out.next_shard_iterator.is_none(),
        "the shard closed with the table"
    );
    drop(db);
    let db = Database::open_with(DIR, options()).unwrap();
    check(&db);
    // The oldest log segment's name (its first LSN).
    let oldest_segment = || {
        let segments = fs.paths().into_iter();
        segments
            .filter(|p| p.extension().is_some_and(|e| e == "wal"))
            .min()
            .unwrap()
    };
    let log_before = oldest_segment();
    clock.advance(3601 * 1000);
    // Something to write past the horizon, so the segments before it can go.
    for i in 0..60 {
        db.put_item(PutItemInput::new(T, key(&format!("n{i}"))))
            .unwrap();
    }
    db.checkpoint().unwrap();
    let gone = db.describe_stream(DescribeStreamInput::new(&arn));
    assert!(matches!(gone, Err(Error::ResourceNotFound(_))), "{gone:?}");
    let log_after = oldest_segment();
    assert!(
        log_after > log_before,
        "the log the stream held went: {log_before:?} → {log_after:?}"
    );
    drop(db);
    let db = Database::open_with(DIR, options()).unwrap();
    let listed = db
        .list_streams(ListStreamsInput::new().table_name(T))
        .unwrap();
    assert_eq!(listed.streams.len(), 1, "only the new table's: {listed:?}");
}

/// The log a stream keeps costs an open nothing: recovery reads the log from where it
/// would start had no stream kept more (`Catalog::replay_start`), not from its first
/// segment, so an open after a clean close does not touch the stream's older segments,
/// and the stream still reads them, after the reopen.
#[test]
fn an_open_does_not_read_the_log_only_a_stream_keeps() {
    use std::sync::Mutex;
    use tidestore::fs::sim::{HookFs, OpKind};

    let fs = SimFs::new();
    let db = Database::open_with(DIR, sim_options(&fs)).unwrap();
    let arn = create(&db, StreamViewType::NewAndOldImages);
    for i in 0..200 {
        put(&db, &format!("k{}", i % 17), i);
    }
    db.close().unwrap();
    let segments: Vec<std::path::PathBuf> = {
        let mut wal: Vec<_> = (fs.paths().into_iter())
            .filter(|p| p.extension().is_some_and(|e| e == "wal"))
            .collect();
        wal.sort();
        wal
    };
    assert!(segments.len() > 3, "the stream kept its log: {segments:?}");
    let touched = Arc::new(Mutex::new(Vec::new()));
    let hooked = {
        let touched = Arc::clone(&touched);
        HookFs::new(Arc::new(fs.clone()), move |kind, path| {
            if kind == OpKind::Read && path.extension().is_some_and(|e| e == "wal") {
                touched.lock().unwrap().push(path.to_owned());
            }
            Ok(())
        })
    };
    let db = Database::open_with(DIR, sim_options(&fs).fs(Arc::new(hooked))).unwrap();
    let read_at_open = std::mem::take(&mut *touched.lock().unwrap());
    assert!(
        !read_at_open.contains(&segments[0]),
        "the open read the stream's oldest segment: {read_at_open:?}"
    );
    let records = assert_stream_is_table(&db, &arn, StreamViewType::NewAndOldImages, 50);
    assert_eq!(records.len(), 200);
    assert!(
        touched.lock().unwrap().contains(&segments[0]),
        "the stream reads it"
    );
}

/// `UpdateItem` with no update at all (no expression, no `AttributeUpdates`) makes the item
/// of just its key, as DynamoDB does (Alternator's
/// `test_streams_updateitem_old_image_empty_item`, which passes on DynamoDB): an INSERT
/// whose new image is the key; a later change of it is a MODIFY whose old image is the key.
#[test]
fn an_update_with_no_action_makes_the_item_of_its_key() {
    let db = Database::in_memory();
    let arn = create(&db, StreamViewType::NewAndOldImages);
    db.update_item(UpdateItemInput::new(T, key("a"), Update::new()))
        .unwrap();
    let got = db.get_item(GetItemInput::new(T, key("a"))).unwrap().item;
    assert_eq!(got, Some(key("a")));
    // Again: nothing changes, no record.
    db.update_item(UpdateItemInput::new(T, key("a"), Update::new()))
        .unwrap();
    put(&db, "a", 1);
    let records = assert_stream_is_table(&db, &arn, StreamViewType::NewAndOldImages, 10);
    let events: Vec<_> = records.iter().map(|r| r.event_name).collect();
    assert_eq!(events, [OperationType::Insert, OperationType::Modify]);
    assert_eq!(records[0].dynamodb.new_image, Some(key("a")));
    assert_eq!(records[1].dynamodb.old_image, Some(key("a")));
}
