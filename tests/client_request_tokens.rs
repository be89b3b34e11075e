//! `ClientRequestToken` is for the retry of a transaction whose answer was lost — typically
//! because the server died before answering. So a token outlives a crash (under every crash
//! policy), a reopen and a checkpoint that lets the log go: a retry within 10 minutes is
//! not applied twice, and the same token with other parameters is
//! `IdempotentParameterMismatchException`.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use tidestore::fs::sim::{CrashPolicy, SimFs};
use tidestore::ScalarAttributeType::S;
use tidestore::*;

const DIR: &str = "/db";
const T: &str = "Counters";
const MINUTE: u64 = 60 * 1000;

/// A database on `fs` whose clock is `clock`.
fn open(fs: &SimFs, clock: &Arc<ManualClock>) -> Database {
    Database::open_with(DIR, support::sim_options(fs).clock(clock.clone())).unwrap()
}

/// A new database on `fs` with a table `T` holding the counter `{pk: "n", v: 0}`.
fn counter(fs: &SimFs) -> (Database, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000)));
    let db = open(fs, &clock);
    db.create_table(CreateTableInput::new(T).hash_key("pk", S).pay_per_request())
        .unwrap();
    let item = Item::new()
        .with("pk", "n")
        .with("v", AttributeValue::number(0));
    db.put_item(PutItemInput::new(T, item)).unwrap();
    (db, clock)
}

/// A transaction adding `by` to the counter, under `token`.
fn increment(by: i64, token: &str) -> TransactWriteItemsInput {
    let add = Update::new().add("v", AttributeValue::number(by));
    let key = Item::new().with("pk", "n");
    TransactWriteItemsInput::new(vec![TransactWriteItem::Update(UpdateItemInput::new(
        T, key, add,
    ))])
    .client_request_token(token)
}

/// The counter's value.
fn value(db: &Database) -> AttributeValue {
    let key = Item::new().with("pk", "n");
    let item = db.get_item(GetItemInput::new(T, key)).unwrap().item;
    item.unwrap()["v"].clone()
}

/// A retry of `increment(1, "tok")` is not applied again, the same token with other
/// parameters is refused, and another token runs.
fn check_retries(db: &Database, expected: i64) {
    db.transact_write_items(increment(1, "tok"))
        .expect("the retry succeeds");
    assert_eq!(value(db), AttributeValue::number(expected), "applied once");
    let other = db
        .transact_write_items(increment(5, "tok"))
        .expect_err("other parameters");
    assert_eq!(
        other.exception_name(),
        "IdempotentParameterMismatchException"
    );
    db.transact_write_items(increment(1, "another")).unwrap();
    assert_eq!(value(db), AttributeValue::number(expected + 1));
}

#[test]
fn a_transaction_retried_after_a_crash_is_not_applied_twice() {
    for (seed, policy) in CrashPolicy::ALL.into_iter().enumerate() {
        let fs = SimFs::new();
        let (db, clock) = counter(&fs);
        db.transact_write_items(increment(1, "tok")).unwrap();
        // The server dies before it answers; the SDK retries a few minutes later.
        let image = fs.after_crash(policy, seed as u64);
        drop(db);
        clock.advance(9 * MINUTE);
        let db = open(&image, &clock);
        assert_eq!(value(&db), AttributeValue::number(1), "{policy:?}");
        check_retries(&db, 1);
    }
}

#[test]
fn a_token_outlives_a_checkpoint_that_drops_its_log_until_ten_minutes_pass() {
    let fs = SimFs::new();
    let (db, clock) = counter(&fs);
    db.transact_write_items(increment(1, "tok")).unwrap();
    // Enough writes after it to close its log segment, then snapshots of every table: no
    // table needs the token's record any more.
    for i in 0..40 {
        let item = Item::new()
            .with("pk", format!("filler-{i}"))
            .with("pad", "x".repeat(200));
        db.put_item(PutItemInput::new(T, item)).unwrap();
    }
    db.checkpoint().unwrap();
    clock.advance(9 * MINUTE);
    db.checkpoint().unwrap();
    drop(db);
    let db = open(&fs, &clock);
    check_retries(&db, 1);
    // Past the window the token is new again, and its record may go.
    clock.advance(MINUTE);
    db.checkpoint().unwrap();
    drop(db);
    let db = open(&fs, &clock);
    db.transact_write_items(increment(1, "tok")).unwrap();
    assert_eq!(value(&db), AttributeValue::number(3), "a new request");
}

#[test]
fn a_transaction_that_changed_nothing_keeps_its_token_across_a_reopen() {
    let fs = SimFs::new();
    let (db, clock) = counter(&fs);
    let check = || {
        let key = Item::new().with("pk", "n");
        let zero = Condition::eq("v", AttributeValue::number(0));
        TransactWriteItemsInput::new(vec![TransactWriteItem::ConditionCheck(
            ConditionCheckInput::new(T, key).condition(zero),
        )])
        .client_request_token("check")
    };
    db.transact_write_items(check()).unwrap();
    db.transact_write_items(increment(1, "tok")).unwrap();
    drop(db);
    let db = open(&fs, &clock);
    // The condition no longer holds, but the retry is of a transaction that succeeded.
    db.transact_write_items(check())
        .expect("answered as the first time");
}
