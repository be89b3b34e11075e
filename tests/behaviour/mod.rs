//! Helpers shared by the behaviour tests (`tables`, `items`, `limits`, `numbers`, `json`):
//! items from DynamoDB JSON, the tables the tests use, and assertions on DynamoDB's errors.
#![allow(dead_code)] // each test file uses a different subset

use std::fmt::Debug;

use tidestore::*;

/// An item (or key) from DynamoDB JSON.
pub fn item(json: serde_json::Value) -> Item {
    serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("bad test item {json}: {e}"))
}

/// `{"S": text}`.
pub fn s(text: &str) -> AttributeValue {
    AttributeValue::s(text)
}

/// `{"N": text}`, which must be a valid DynamoDB number.
pub fn n(text: &str) -> AttributeValue {
    AttributeValue::n(text).unwrap_or_else(|e| panic!("bad test number {text}: {e}"))
}

/// `{"SS": members}`, which must be a valid string set.
pub fn ss<const N: usize>(members: [&str; N]) -> AttributeValue {
    AttributeValue::ss(members).unwrap_or_else(|e| panic!("bad test set {members:?}: {e}"))
}

/// `{"NS": members}`, which must be a valid number set.
pub fn ns<const N: usize>(members: [i64; N]) -> AttributeValue {
    AttributeValue::ns(members).unwrap_or_else(|e| panic!("bad test set {members:?}: {e}"))
}

/// An item from `(name, value)` pairs.
pub fn attrs<const N: usize>(pairs: [(&str, AttributeValue); N]) -> Item {
    pairs
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
}

/// The key `{pk: S, sk: S}` of the tables made by [`pk_sk_table`].
pub fn key(pk: &str, sk: &str) -> Item {
    attrs([("pk", s(pk)), ("sk", s(sk))])
}

/// A database in memory.
pub fn db() -> Database {
    Database::in_memory()
}

/// An on-demand table `name` with partition key `pk` (S) and sort key `sk` (S).
pub fn pk_sk_table(db: &Database, name: &str) {
    db.create_table(
        CreateTableInput::new(name)
            .hash_key("pk", ScalarAttributeType::S)
            .range_key("sk", ScalarAttributeType::S)
            .pay_per_request(),
    )
    .expect("create table");
}

/// An on-demand table `name` with only a partition key `pk` (S).
pub fn pk_table(db: &Database, name: &str) {
    db.create_table(
        CreateTableInput::new(name)
            .hash_key("pk", ScalarAttributeType::S)
            .pay_per_request(),
    )
    .expect("create table");
}

/// Puts `item` into `table`, which must succeed.
pub fn put(db: &Database, table: &str, item: Item) {
    db.put_item(PutItemInput::new(table, item))
        .expect("put_item");
}

/// The item with `key` in `table`, if any.
pub fn get(db: &Database, table: &str, key: Item) -> Option<Item> {
    db.get_item(GetItemInput::new(table, key))
        .expect("get_item")
        .item
}

/// Every page of a query ([`Database::query_pages`]), failing the test on an error.
pub fn query_pages(db: &Database, input: QueryInput) -> Vec<QueryOutput> {
    db.query_pages(input)
        .collect::<Result<_>>()
        .expect("query page")
}

/// Every page of a scan ([`Database::scan_pages`]), failing the test on an error.
pub fn scan_pages(db: &Database, input: ScanInput) -> Vec<ScanOutput> {
    db.scan_pages(input)
        .collect::<Result<_>>()
        .expect("scan page")
}

/// The message of a `ValidationException`, failing the test on any other outcome; the
/// message must contain `needle`.
#[track_caller]
pub fn validation<T: Debug>(result: Result<T>, needle: &str) -> String {
    match result {
        Err(Error::Validation(message)) => {
            assert!(
                message.contains(needle),
                "ValidationException {message:?} does not mention {needle:?}"
            );
            message
        }
        other => panic!("expected a ValidationException mentioning {needle:?}, got {other:?}"),
    }
}

/// Asserts `result` is the error DynamoDB calls `exception` (e.g. `ResourceNotFoundException`).
#[track_caller]
pub fn exception<T: Debug>(result: Result<T>, exception: &str) -> Error {
    match result {
        Err(e) if e.exception_name() == exception => e,
        other => panic!("expected {exception}, got {other:?}"),
    }
}

/// Asserts `result` is a `ConditionalCheckFailedException`; returns the item it carries.
#[track_caller]
pub fn condition_failed<T: Debug>(result: Result<T>) -> Option<Item> {
    match result {
        Err(Error::ConditionalCheckFailed { item, .. }) => item,
        other => panic!("expected ConditionalCheckFailedException, got {other:?}"),
    }
}

/// Asserts `result` is a `TransactionCanceledException`; returns its reasons.
#[track_caller]
pub fn canceled<T: Debug>(result: Result<T>) -> Vec<CancellationReason> {
    match result {
        Err(Error::TransactionCanceled { reasons }) => reasons,
        other => panic!("expected TransactionCanceledException, got {other:?}"),
    }
}

/// The codes of cancellation reasons, in order.
pub fn codes(reasons: &[CancellationReason]) -> Vec<&str> {
    reasons.iter().map(|r| r.code.as_str()).collect()
}
