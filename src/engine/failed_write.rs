//! A single item write that failed, with the write capacity the attempt consumed.
//!
//! DynamoDB charges a conditional write whose condition is false all the same (developer
//! guide, "Capacity units consumed by conditional writes", and "Capacity unit consumption
//! for write operations"): one write unit where the item does not exist, else by the size
//! of the item — the larger of the existing one and the one written, in 1 KB units
//! ([`capacity::failed_condition_usage`](super::capacity::failed_condition_usage)). Its
//! error response says nothing of it: "A failed conditional write returns a
//! ConditionalCheckFailedException. When this occurs, you don't receive any information in
//! the response about the write capacity that was consumed" (same page), and the API model's
//! `ConditionalCheckFailedException` has only `message` and `Item`. So the public
//! [`Error`] carries no capacity, and `PutItem`, `UpdateItem`, `DeleteItem` and
//! `ExecuteStatement` answer none. (A cancelled `TransactWriteItems` or `ExecuteTransaction`
//! answers none either: whatever it consumed, `TransactionCanceledException` has only
//! `Message` and `CancellationReasons` in the API model, no member to report it in.)
//!
//! What does count it is an answer that succeeds while one of its writes failed so:
//! `BatchExecuteStatement`, whose `ConsumedCapacity` is "the capacity units consumed by the
//! entire operation" (API model). The write path measures the failed write here, under the
//! item's lock, at the very item the condition was checked against, so that no other writer
//! can change the figure between the check and the measure, and hands it to the crate's
//! callers beside the error.

use crate::api::capacity::ConsumedCapacity;
use crate::error::Error;

/// A single write's error and, when its condition failed and its request asked for
/// `ReturnConsumedCapacity`, the capacity it consumed (see the module doc).
#[derive(Debug)]
pub(crate) struct FailedWrite {
    /// What the caller of the public API gets.
    pub error: Error,
    /// The capacity the failed write consumed, as `ReturnConsumedCapacity` asked; `None`
    /// when it asked for none, or when the write failed before it reached its item (a
    /// validation error, a missing table), which consumed nothing the guide names. (Boxed:
    /// it is rare, and the error travels through every write's `Result`.) Read by the
    /// server's PartiQL batch only, so unread in a build without it.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    pub consumed_capacity: Option<Box<ConsumedCapacity>>,
}

/// An error met before the write reached its item: nothing consumed.
impl From<Error> for FailedWrite {
    fn from(error: Error) -> FailedWrite {
        FailedWrite {
            error,
            consumed_capacity: None,
        }
    }
}

/// The public API's error: the figure is dropped, as DynamoDB's response drops it.
impl From<FailedWrite> for Error {
    fn from(failed: FailedWrite) -> Error {
        failed.error
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use crate::model::value::{item_size, ItemExt};
    use crate::*;

    const TABLE: &str = "Sized";

    fn database() -> Database {
        let db = Database::open_with("/unused", Options::in_memory()).expect("opens");
        let table = CreateTableInput::new(TABLE)
            .hash_key("pk", ScalarAttributeType::S)
            .pay_per_request();
        db.create_table(table).expect("created");
        db
    }

    /// An item with key `pk` of about `size` bytes (DynamoDB's measure).
    fn sized(pk: &str, size: usize) -> Item {
        let base = "pk".len() + pk.len() + "fill".len();
        let item = Item::new()
            .with("pk", pk)
            .with("fill", "x".repeat(size.saturating_sub(base)));
        assert_eq!(item_size(&item), size.max(base));
        item
    }

    fn key(pk: &str) -> Item {
        Item::new().with("pk", pk)
    }

    /// The units a failed put of `written` (condition: no item there) reports.
    fn failed_put_units(db: &Database, written: Item, mode: ReturnConsumedCapacity) -> Value {
        let put = PutItemInput::new(TABLE, written)
            .condition_expression("attribute_not_exists(pk) AND attribute_exists(pk)")
            .return_consumed_capacity(mode);
        let failed = db.put_item_measuring_failure(put).expect_err("fails");
        assert!(matches!(failed.error, Error::ConditionalCheckFailed { .. }));
        serde_json::to_value(failed.consumed_capacity).expect("json")
    }

    use serde_json::{json, Value};

    #[test]
    fn a_failed_condition_reports_one_unit_without_an_item_else_the_larger_item() {
        let db = database();
        let total = ReturnConsumedCapacity::Total;
        let units = |units: f64| json!({ "TableName": TABLE, "CapacityUnits": units });
        // No item there: one unit, even for a 5 KB item the put would have written.
        assert_eq!(failed_put_units(&db, sized("a", 5000), total), units(1.0));
        let update = UpdateItemInput::for_key(TABLE, key("a"))
            .update_expression("SET n = :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_value(":one", AttributeValue::number(1))
            .return_consumed_capacity(total);
        let failed = db.update_item_measuring_failure(update).expect_err("fails");
        assert_eq!(
            serde_json::to_value(failed.consumed_capacity).ok(),
            Some(units(1.0))
        );
        // A small item there.
        db.put_item(PutItemInput::new(TABLE, sized("a", 100)))
            .expect("put");
        assert_eq!(failed_put_units(&db, sized("a", 200), total), units(1.0));
        // A large written item over the small one: the written one's 5 units.
        assert_eq!(failed_put_units(&db, sized("a", 4500), total), units(5.0));
        // A large existing item (2.5 KB), and a delete or a small put measured at it.
        db.put_item(PutItemInput::new(TABLE, sized("a", 2500)))
            .expect("put");
        assert_eq!(failed_put_units(&db, sized("a", 10), total), units(3.0));
        let delete = DeleteItemInput::new(TABLE, key("a"))
            .condition_expression("attribute_not_exists(pk)")
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes);
        let failed = db.delete_item_measuring_failure(delete).expect_err("fails");
        assert_eq!(
            serde_json::to_value(failed.consumed_capacity).ok(),
            Some(
                json!({ "TableName": TABLE, "CapacityUnits": 3.0, "Table": { "CapacityUnits": 3.0 } })
            )
        );
        // Not asked for, or refused before the item: nothing.
        let none = failed_put_units(&db, sized("a", 10), ReturnConsumedCapacity::None);
        assert_eq!(none, Value::Null);
        let no_table = PutItemInput::new("Missing", sized("a", 10))
            .condition_expression("attribute_exists(pk)")
            .return_consumed_capacity(total);
        let failed = db.put_item_measuring_failure(no_table).expect_err("fails");
        assert!(matches!(failed.error, Error::ResourceNotFound(_)));
        assert!(failed.consumed_capacity.is_none());
    }

    /// The figure is the item's the condition was checked against, not one read later: while
    /// another thread keeps replacing the item with one of another size, every failed
    /// write's units match the item its failure returned (`ALL_OLD`: the item at the check).
    /// A measure taken after the write's locks are released (a re-read) disagrees with it as
    /// soon as the other writer slips in between.
    #[test]
    fn a_failed_condition_is_measured_at_the_item_it_was_checked_against() {
        let db = database();
        db.put_item(PutItemInput::new(TABLE, sized("a", 100)))
            .expect("put");
        let stop = Arc::new(AtomicBool::new(false));
        let flipper = {
            let (db, stop) = (db.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut large = false;
                while !stop.load(Ordering::Relaxed) {
                    large = !large;
                    let size = if large { 3000 } else { 100 };
                    db.put_item(PutItemInput::new(TABLE, sized("a", size)))
                        .expect("put");
                }
            })
        };
        let mut seen_sizes = std::collections::BTreeSet::new();
        // At least 2,000 failed writes, and on until both sizes were checked against (the
        // other thread may be slow to start on a busy machine), within a bound.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut failed_writes = 0;
        while (failed_writes < 2000 || seen_sizes.len() < 2) && std::time::Instant::now() < deadline
        {
            failed_writes += 1;
            let update = UpdateItemInput::for_key(TABLE, key("a"))
                .update_expression("SET n = :one")
                .condition_expression("attribute_not_exists(pk)")
                .expression_attribute_value(":one", AttributeValue::number(1))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            let failed = db.update_item_measuring_failure(update).expect_err("fails");
            let Error::ConditionalCheckFailed {
                item: Some(checked),
                ..
            } = &failed.error
            else {
                panic!("not a failed condition with its item: {:?}", failed.error);
            };
            let size = item_size(checked);
            seen_sizes.insert(size);
            let units = failed.consumed_capacity.expect("asked for").capacity_units;
            assert_eq!(units, size.div_ceil(1024) as f64, "item of {size} bytes");
        }
        stop.store(true, Ordering::Relaxed);
        flipper.join().expect("the other writer");
        assert_eq!(seen_sizes.len(), 2, "both sizes were checked against");
    }
}
