//! Behaviour tests of the item operations: `PutItem`, `GetItem`, `UpdateItem` and `DeleteItem`
//! with conditions and every `ReturnValues` mode, `Query` and `Scan` on tables and indexes,
//! `BatchWriteItem`, `BatchGetItem`, `TransactWriteItems` and `TransactGetItems`, and their
//! behaviour under concurrent writers.

mod behaviour;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use behaviour::*;
use serde_json::json;
use tidestore::ScalarAttributeType::{N, S};
use tidestore::*;

const T: &str = "Items";

fn table() -> Database {
    let db = db();
    pk_sk_table(&db, T);
    db
}

/// A table with a KEYS_ONLY local index on `rank` (N), an INCLUDE(size) global index on
/// `color` (S) + `rank` (N), and an ALL global index on `shape` (S).
fn indexed() -> Database {
    let db = db();
    db.create_table(
        CreateTableInput::new(T)
            .hash_key("pk", S)
            .range_key("sk", S)
            .pay_per_request()
            .local_index("ByRank", "rank", N, Projection::keys_only())
            .global_index(
                "ByColor",
                ("color", S),
                Some(("rank", N)),
                Projection::include(["size"]),
            )
            .global_index("ByShape", ("shape", S), None, Projection::all()),
    )
    .expect("create");
    db
}

fn sort_keys(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["sk"].as_s().expect("sk is a string").to_string())
        .collect()
}

fn partition(pk: &str) -> KeyCondition {
    KeyCondition::partition("pk", s(pk))
}

/// The item `{pk, sk, v: N}`.
fn numbered(pk: &str, sk: &str, v: i64) -> Item {
    let mut it = key(pk, sk);
    it.insert("v".into(), AttributeValue::number(v));
    it
}

// ---------------------------------------------------------------------------------------------
// PutItem, GetItem
// ---------------------------------------------------------------------------------------------

#[test]
fn put_item_then_get_item_returns_the_item() {
    let db = table();
    let song = item(json!({
        "pk": {"S": "Acme"}, "sk": {"S": "Happy Day"},
        "Year": {"N": "2015"}, "Tags": {"SS": ["a", "b"]}, "Info": {"M": {"x": {"L": [{"NULL": true}]}}}
    }));
    let put = db
        .put_item(PutItemInput::new(T, song.clone()))
        .expect("put");
    assert_eq!(put.attributes, None, "ReturnValues NONE returns nothing");
    assert_eq!(get(&db, T, key("Acme", "Happy Day")), Some(song));
}

#[test]
fn get_item_of_a_missing_key_returns_no_item() {
    let db = table();
    let got = db
        .get_item(GetItemInput::new(T, key("no", "such")))
        .expect("get");
    assert_eq!(got.item, None);
}

#[test]
fn get_item_accepts_consistent_read() {
    let db = table();
    put(&db, T, numbered("a", "1", 1));
    let got = db
        .get_item(GetItemInput::new(T, key("a", "1")).consistent_read(true))
        .expect("get");
    assert_eq!(got.item, Some(numbered("a", "1", 1)));
}

#[test]
fn put_item_replaces_the_whole_item() {
    let db = table();
    let mut first = numbered("a", "1", 1);
    first.insert("extra".into(), s("gone after the replace"));
    put(&db, T, first);
    put(&db, T, numbered("a", "1", 2));
    assert_eq!(get(&db, T, key("a", "1")), Some(numbered("a", "1", 2)));
}

#[test]
fn put_item_with_return_values_all_old_returns_the_replaced_item() {
    let db = table();
    let new = db
        .put_item(PutItemInput::new(T, numbered("a", "1", 1)).return_values(ReturnValue::AllOld))
        .expect("put");
    assert_eq!(new.attributes, None, "nothing was replaced");
    let replaced = db
        .put_item(PutItemInput::new(T, numbered("a", "1", 2)).return_values(ReturnValue::AllOld))
        .expect("put");
    assert_eq!(replaced.attributes, Some(numbered("a", "1", 1)));
}

#[test]
fn put_item_and_delete_item_accept_only_none_and_all_old_return_values() {
    let db = table();
    for mode in [
        ReturnValue::UpdatedOld,
        ReturnValue::AllNew,
        ReturnValue::UpdatedNew,
    ] {
        validation(
            db.put_item(PutItemInput::new(T, numbered("a", "1", 1)).return_values(mode)),
            "Return values",
        );
        validation(
            db.delete_item(DeleteItemInput::new(T, key("a", "1")).return_values(mode)),
            "Return values",
        );
    }
    assert_eq!(
        get(&db, T, key("a", "1")),
        None,
        "the rejected put wrote nothing"
    );
}

#[test]
fn put_item_with_attribute_not_exists_on_an_existing_item_is_conditional_check_failed() {
    let db = table();
    let only_new = || {
        PutItemInput::new(T, numbered("a", "1", 2)).condition(Condition::attribute_not_exists("pk"))
    };
    db.put_item(
        PutItemInput::new(T, numbered("a", "1", 1))
            .condition(Condition::attribute_not_exists("pk")),
    )
    .expect("first put: no item yet");
    let item = condition_failed(db.put_item(only_new()));
    assert_eq!(item, None, "the item is returned only when asked for");
    assert_eq!(get(&db, T, key("a", "1")), Some(numbered("a", "1", 1)));
    let e = db.put_item(only_new()).expect_err("fails");
    assert_eq!(e.exception_name(), "ConditionalCheckFailedException");
}

#[test]
fn conditional_check_failure_returns_the_item_when_asked_with_all_old() {
    let db = table();
    put(&db, T, numbered("a", "1", 1));
    let never = || Condition::eq("v", AttributeValue::number(99));
    let all_old = ReturnValuesOnConditionCheckFailure::AllOld;
    let put_failed = condition_failed(
        db.put_item(
            PutItemInput::new(T, numbered("a", "1", 2))
                .condition(never())
                .return_values_on_condition_check_failure(all_old),
        ),
    );
    assert_eq!(put_failed, Some(numbered("a", "1", 1)));
    let update_failed = condition_failed(
        db.update_item(
            UpdateItemInput::new(T, key("a", "1"), Update::new().set("w", s("x")))
                .condition(never())
                .return_values_on_condition_check_failure(all_old),
        ),
    );
    assert_eq!(update_failed, Some(numbered("a", "1", 1)));
    let delete_failed = condition_failed(
        db.delete_item(
            DeleteItemInput::new(T, key("a", "1"))
                .condition(never())
                .return_values_on_condition_check_failure(all_old),
        ),
    );
    assert_eq!(delete_failed, Some(numbered("a", "1", 1)));
    // On a missing item there is nothing to return.
    let missing = condition_failed(
        db.update_item(
            UpdateItemInput::new(T, key("b", "1"), Update::new().set("w", s("x")))
                .condition(Condition::attribute_exists("pk"))
                .return_values_on_condition_check_failure(all_old),
        ),
    );
    assert_eq!(missing, None);
    assert_eq!(get(&db, T, key("a", "1")), Some(numbered("a", "1", 1)));
    assert_eq!(get(&db, T, key("b", "1")), None);
}

#[test]
fn conditions_on_a_missing_item_see_no_attributes() {
    let db = table();
    // `<>` holds against a missing attribute; `=` and ordering do not.
    db.put_item(
        PutItemInput::new(T, numbered("a", "1", 1))
            .condition(Condition::ne("v", AttributeValue::number(1))),
    )
    .expect("<> holds on a missing item");
    condition_failed(
        db.put_item(
            PutItemInput::new(T, numbered("b", "1", 1))
                .condition(Condition::lt("v", AttributeValue::number(5))),
        ),
    );
    condition_failed(db.delete_item(
        DeleteItemInput::new(T, key("c", "1")).condition(Condition::attribute_exists("pk")),
    ));
}

#[test]
fn conditions_are_validated_before_any_item_is_read() {
    let db = table();
    validation(
        db.put_item(
            PutItemInput::new(T, numbered("a", "1", 1))
                .condition(Condition::lt("v", AttributeValue::Bool(true))),
        ),
        "ConditionExpression",
    );
    validation(
        db.put_item(
            PutItemInput::new(T, numbered("a", "1", 1)).condition(Condition::between(
                "v",
                AttributeValue::number(5),
                AttributeValue::number(1),
            )),
        ),
        "BETWEEN",
    );
    assert_eq!(get(&db, T, key("a", "1")), None);
}

#[test]
fn get_item_projection_returns_the_nested_paths_asked_for() {
    let db = table();
    put(
        &db,
        T,
        item(json!({
            "pk": {"S": "a"}, "sk": {"S": "1"}, "top": {"S": "t"},
            "info": {"M": {"genre": {"S": "rock"}, "year": {"N": "1999"},
                           "tags": {"L": [{"S": "x"}, {"S": "y"}, {"S": "z"}]}}}
        })),
    );
    let projection = vec![
        Path::attr("info").field("genre"),
        Path::attr("info").field("tags").index(2),
        Path::attr("info").field("tags").index(0),
        Path::attr("missing").field("deep"),
    ];
    let got = db
        .get_item(GetItemInput::new(T, key("a", "1")).projection(projection))
        .expect("get");
    assert_eq!(
        got.item,
        Some(item(
            json!({"info": {"M": {"genre": {"S": "rock"}, "tags": {"L": [{"S": "x"}, {"S": "z"}]}}}})
        ))
    );
    // Overlapping paths are rejected, as DynamoDB rejects them.
    validation(
        db.get_item(
            GetItemInput::new(T, key("a", "1"))
                .projection(vec![Path::attr("info"), Path::attr("info").field("genre")]),
        ),
        "overlap",
    );
}

// ---------------------------------------------------------------------------------------------
// Key validation
// ---------------------------------------------------------------------------------------------

#[test]
fn a_key_parameter_must_name_exactly_the_key_attributes() {
    let db = table();
    put(&db, T, numbered("a", "1", 1));
    let missing_sk = attrs([("pk", s("a"))]);
    let extra = attrs([
        ("pk", s("a")),
        ("sk", s("1")),
        ("v", AttributeValue::number(1)),
    ]);
    let wrong_name = attrs([("pk", s("a")), ("other", s("1"))]);
    for bad in [missing_sk, extra, wrong_name] {
        validation(
            db.get_item(GetItemInput::new(T, bad.clone())),
            "key element does not match the schema",
        );
        validation(
            db.delete_item(DeleteItemInput::new(T, bad.clone())),
            "key element does not match the schema",
        );
        validation(
            db.update_item(UpdateItemInput::new(
                T,
                bad.clone(),
                Update::new().set("w", s("x")),
            )),
            "key element does not match the schema",
        );
        validation(
            db.transact_get_items(TransactGetItemsInput::new(vec![TransactGetItem::new(
                T, bad,
            )])),
            "key element does not match the schema",
        );
    }
    assert_eq!(get(&db, T, key("a", "1")), Some(numbered("a", "1", 1)));
}

#[test]
fn put_item_without_a_key_attribute_is_rejected() {
    let db = table();
    validation(
        db.put_item(PutItemInput::new(T, attrs([("pk", s("a"))]))),
        "Missing the key sk",
    );
    validation(
        db.put_item(PutItemInput::new(T, attrs([("sk", s("a"))]))),
        "Missing the key pk",
    );
}

#[test]
fn key_attributes_must_have_the_defined_types() {
    let db = table();
    let wrong = attrs([("pk", AttributeValue::number(1)), ("sk", s("1"))]);
    validation(
        db.put_item(PutItemInput::new(T, wrong.clone())),
        "Type mismatch for key pk",
    );
    validation(
        db.get_item(GetItemInput::new(T, wrong.clone())),
        "Type mismatch for key pk",
    );
    validation(
        db.delete_item(DeleteItemInput::new(T, wrong)),
        "Type mismatch for key pk",
    );
    let wrong_sk = attrs([("pk", s("a")), ("sk", AttributeValue::b(vec![1]))]);
    validation(
        db.put_item(PutItemInput::new(T, wrong_sk)),
        "Type mismatch for key sk",
    );
    let set_key = attrs([("pk", ss(["a"])), ("sk", s("1"))]);
    validation(
        db.put_item(PutItemInput::new(T, set_key)),
        "Type mismatch for key pk",
    );
}

#[test]
fn key_attributes_cannot_be_empty_strings_or_binaries() {
    let db = table();
    validation(
        db.put_item(PutItemInput::new(T, key("", "1"))),
        "empty string",
    );
    validation(
        db.put_item(PutItemInput::new(T, key("a", ""))),
        "empty string",
    );
    validation(
        db.get_item(GetItemInput::new(T, key("", "1"))),
        "empty string",
    );
    validation(
        db.query(QueryInput::new(T, KeyCondition::partition("pk", s("")))),
        "empty string",
    );
    validation(
        db.query(QueryInput::new(
            T,
            partition("p").sort("sk", SortKeyOp::BeginsWith(s(""))),
        )),
        "empty string",
    );
    let binary = Database::in_memory();
    binary
        .create_table(
            CreateTableInput::new("Bin")
                .hash_key("b", ScalarAttributeType::B)
                .pay_per_request(),
        )
        .expect("create");
    validation(
        binary.put_item(PutItemInput::new(
            "Bin",
            attrs([("b", AttributeValue::b(vec![]))]),
        )),
        "empty",
    );
    put(&binary, "Bin", attrs([("b", AttributeValue::b(vec![0]))]));
    validation(
        binary.query(QueryInput::new(
            "Bin",
            KeyCondition::partition("b", AttributeValue::b(vec![])),
        )),
        "empty binary",
    );
}

#[test]
fn attribute_names_cannot_be_empty_at_any_level() {
    let db = table();
    let mut top = key("a", "1");
    top.insert(String::new(), s("x"));
    validation(
        db.put_item(PutItemInput::new(T, top)),
        "attribute name cannot be empty",
    );
    let mut nested = key("a", "1");
    nested.insert(
        "m".into(),
        AttributeValue::M([(String::new(), s("x"))].into()),
    );
    validation(
        db.put_item(PutItemInput::new(T, nested)),
        "attribute name cannot be empty",
    );
    validation(
        db.update_item(UpdateItemInput::new(
            T,
            key("a", "1"),
            Update::new().set(Path::attr("m").field(""), s("x")),
        )),
        "empty attribute name",
    );
    assert_eq!(get(&db, T, key("a", "1")), None);
}

#[test]
fn empty_strings_and_binaries_are_allowed_in_non_key_attributes() {
    let db = table();
    let mut it = key("a", "1");
    it.insert("empty".into(), s(""));
    it.insert("bytes".into(), AttributeValue::b(vec![]));
    it.insert("nested".into(), AttributeValue::L(vec![s("")]));
    put(&db, T, it.clone());
    assert_eq!(get(&db, T, key("a", "1")), Some(it));
}

#[test]
fn empty_sets_are_rejected_in_items_and_in_expression_values() {
    let db = table();
    let mut it = key("a", "1");
    it.insert("tags".into(), AttributeValue::Ss(BTreeSet::new()));
    validation(db.put_item(PutItemInput::new(T, it)), "may not be empty");
    let mut nested = key("a", "1");
    nested.insert(
        "m".into(),
        AttributeValue::M([("ns".to_string(), AttributeValue::Ns(BTreeSet::new()))].into()),
    );
    validation(
        db.put_item(PutItemInput::new(T, nested)),
        "may not be empty",
    );
    validation(
        db.update_item(UpdateItemInput::new(
            T,
            key("a", "1"),
            Update::new().set("tags", AttributeValue::Bs(BTreeSet::new())),
        )),
        "Binary sets should not be empty",
    );
    validation(
        db.put_item(
            PutItemInput::new(T, key("a", "1"))
                .condition(Condition::eq("tags", AttributeValue::Ss(BTreeSet::new()))),
        ),
        "may not be empty",
    );
    assert_eq!(get(&db, T, key("a", "1")), None);
}

#[test]
fn duplicate_set_elements_in_dynamodb_json_are_rejected() {
    for bad in [
        json!({"pk": {"S": "a"}, "sk": {"S": "1"}, "ss": {"SS": ["x", "x"]}}),
        json!({"pk": {"S": "a"}, "sk": {"S": "1"}, "ns": {"NS": ["1", "1.0"]}}),
        json!({"pk": {"S": "a"}, "sk": {"S": "1"}, "bs": {"BS": ["AQ==", "AQ=="]}}),
    ] {
        let e = serde_json::from_value::<Item>(bad.clone()).expect_err("duplicates");
        assert!(e.to_string().contains("duplicates"), "{bad}: {e}");
    }
}

#[test]
fn operations_on_a_missing_table_are_resource_not_found() {
    let db = table();
    let nf = "ResourceNotFoundException";
    exception(db.put_item(PutItemInput::new("Missing", key("a", "1"))), nf);
    exception(db.get_item(GetItemInput::new("Missing", key("a", "1"))), nf);
    exception(
        db.delete_item(DeleteItemInput::new("Missing", key("a", "1"))),
        nf,
    );
    exception(
        db.update_item(UpdateItemInput::new(
            "Missing",
            key("a", "1"),
            Update::new().set("x", s("y")),
        )),
        nf,
    );
    exception(db.query(QueryInput::new("Missing", partition("a"))), nf);
    exception(db.scan(ScanInput::new("Missing")), nf);
    let mut batch = BatchWriteItemInput::default();
    batch.request_items.insert(
        "Missing".into(),
        vec![WriteRequest::Put {
            item: key("a", "1"),
        }],
    );
    exception(db.batch_write_item(batch), nf);
    let mut get_batch = BatchGetItemInput::default();
    get_batch.request_items.insert(
        "Missing".into(),
        KeysAndAttributes::new(vec![key("a", "1")]),
    );
    exception(db.batch_get_item(get_batch), nf);
    exception(
        db.transact_get_items(TransactGetItemsInput::new(vec![TransactGetItem::new(
            "Missing",
            key("a", "1"),
        )])),
        nf,
    );
    exception(
        db.transact_write_items(TransactWriteItemsInput::new(vec![TransactWriteItem::Put(
            PutItemInput::new("Missing", key("a", "1")),
        )])),
        nf,
    );
}

// ---------------------------------------------------------------------------------------------
// UpdateItem and its ReturnValues
// ---------------------------------------------------------------------------------------------

/// `{pk: a, sk: 1, keep: "k", count: 5, gone: "g"}`, then the update
/// `SET count = count + 1, added = "new" REMOVE gone` with `mode`.
fn update_with(mode: ReturnValue) -> Option<Item> {
    let db = table();
    put(
        &db,
        T,
        item(
            json!({"pk": {"S": "a"}, "sk": {"S": "1"}, "keep": {"S": "k"}, "count": {"N": "5"}, "gone": {"S": "g"}}),
        ),
    );
    let update = Update::new()
        .set_expr(
            "count",
            SetValue::plus(Path::attr("count"), AttributeValue::number(1)),
        )
        .set("added", s("new"))
        .remove("gone");
    let out = db
        .update_item(UpdateItemInput::new(T, key("a", "1"), update).return_values(mode))
        .expect("update");
    assert_eq!(
        get(&db, T, key("a", "1")),
        Some(item(
            json!({"pk": {"S": "a"}, "sk": {"S": "1"}, "keep": {"S": "k"}, "count": {"N": "6"}, "added": {"S": "new"}})
        ))
    );
    out.attributes
}

#[test]
fn update_item_with_return_values_none_returns_nothing() {
    assert_eq!(update_with(ReturnValue::None), None);
}

#[test]
fn update_item_with_return_values_all_old_returns_the_whole_item_before() {
    assert_eq!(
        update_with(ReturnValue::AllOld),
        Some(item(
            json!({"pk": {"S": "a"}, "sk": {"S": "1"}, "keep": {"S": "k"}, "count": {"N": "5"}, "gone": {"S": "g"}})
        ))
    );
}

#[test]
fn update_item_with_return_values_updated_old_returns_the_changed_attributes_before() {
    // `added` did not exist before; `gone` was removed.
    assert_eq!(
        update_with(ReturnValue::UpdatedOld),
        Some(item(json!({"count": {"N": "5"}, "gone": {"S": "g"}})))
    );
}

#[test]
fn update_item_with_return_values_all_new_returns_the_whole_item_after() {
    assert_eq!(
        update_with(ReturnValue::AllNew),
        Some(item(
            json!({"pk": {"S": "a"}, "sk": {"S": "1"}, "keep": {"S": "k"}, "count": {"N": "6"}, "added": {"S": "new"}})
        ))
    );
}

#[test]
fn update_item_with_return_values_updated_new_returns_the_changed_attributes_after() {
    assert_eq!(
        update_with(ReturnValue::UpdatedNew),
        Some(item(json!({"count": {"N": "6"}, "added": {"S": "new"}})))
    );
}

#[test]
fn update_item_return_values_of_nested_paths_are_the_paths_only() {
    let db = table();
    put(
        &db,
        T,
        item(
            json!({"pk": {"S": "a"}, "sk": {"S": "1"}, "m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}}}),
        ),
    );
    let out = db
        .update_item(
            UpdateItemInput::new(
                T,
                key("a", "1"),
                Update::new().set(Path::attr("m").field("x"), AttributeValue::number(10)),
            )
            .return_values(ReturnValue::UpdatedNew),
        )
        .expect("update");
    assert_eq!(
        out.attributes,
        Some(item(json!({"m": {"M": {"x": {"N": "10"}}}})))
    );
}

#[test]
fn update_item_of_a_missing_item_creates_it_from_its_key() {
    let db = table();
    let out = db
        .update_item(
            UpdateItemInput::new(
                T,
                key("new", "1"),
                Update::new().add("count", AttributeValue::number(1)),
            )
            .return_values(ReturnValue::AllNew),
        )
        .expect("update");
    let expected = item(json!({"pk": {"S": "new"}, "sk": {"S": "1"}, "count": {"N": "1"}}));
    assert_eq!(out.attributes, Some(expected.clone()));
    assert_eq!(get(&db, T, key("new", "1")), Some(expected));
    // With ALL_OLD or UPDATED_OLD there was nothing before.
    for mode in [ReturnValue::AllOld, ReturnValue::UpdatedOld] {
        let out = db
            .update_item(
                UpdateItemInput::new(
                    T,
                    key("new", &format!("{mode:?}")),
                    Update::new().set("x", s("y")),
                )
                .return_values(mode),
            )
            .expect("update");
        assert_eq!(out.attributes, None, "{mode:?}");
    }
}

#[test]
fn update_item_of_a_key_attribute_is_a_validation_error() {
    let db = table();
    put(&db, T, numbered("a", "1", 1));
    validation(
        db.update_item(UpdateItemInput::new(
            T,
            key("a", "1"),
            Update::new().set("sk", s("2")),
        )),
        "part of the key",
    );
    validation(
        db.update_item(UpdateItemInput::new(
            T,
            key("a", "1"),
            Update::new().remove("pk"),
        )),
        "part of the key",
    );
    assert_eq!(get(&db, T, key("a", "1")), Some(numbered("a", "1", 1)));
}

#[test]
fn update_item_with_a_failing_condition_changes_nothing() {
    let db = table();
    put(&db, T, numbered("a", "1", 1));
    condition_failed(
        db.update_item(
            UpdateItemInput::new(
                T,
                key("a", "1"),
                Update::new().set("v", AttributeValue::number(2)),
            )
            .condition(Condition::gt("v", AttributeValue::number(1))),
        ),
    );
    assert_eq!(get(&db, T, key("a", "1")), Some(numbered("a", "1", 1)));
    db.update_item(
        UpdateItemInput::new(
            T,
            key("a", "1"),
            Update::new().set("v", AttributeValue::number(2)),
        )
        .condition(Condition::ge("v", AttributeValue::number(1))),
    )
    .expect("condition holds");
    assert_eq!(get(&db, T, key("a", "1")), Some(numbered("a", "1", 2)));
}

#[test]
fn update_item_add_and_delete_work_on_numbers_and_sets() {
    let db = table();
    let update = |u: Update| {
        db.update_item(UpdateItemInput::new(T, key("a", "1"), u).return_values(ReturnValue::AllNew))
            .expect("update")
            .attributes
            .expect("item")
    };
    let after = update(
        Update::new()
            .add("n", AttributeValue::number(5))
            .add("tags", ss(["x", "y"])),
    );
    assert_eq!(
        after["n"],
        AttributeValue::number(5),
        "ADD to a missing number starts from 0"
    );
    let after = update(
        Update::new()
            .add("n", n("-7.5"))
            .add("tags", ss(["y", "z"])),
    );
    assert_eq!(after["n"], n("-2.5"));
    assert_eq!(after["tags"], ss(["x", "y", "z"]));
    let after = update(Update::new().delete("tags", ss(["x", "q"])));
    assert_eq!(after["tags"], ss(["y", "z"]));
    let after = update(Update::new().delete("tags", ss(["y", "z"])));
    assert!(
        !after.contains_key("tags"),
        "a set emptied by DELETE is removed"
    );
    // ADD of a string, or to an attribute of another type, is rejected.
    validation(
        db.update_item(UpdateItemInput::new(
            T,
            key("a", "1"),
            Update::new().add("n", s("x")),
        )),
        "ADD",
    );
    validation(
        db.update_item(UpdateItemInput::new(
            T,
            key("a", "1"),
            Update::new().add("n", ss(["x"])),
        )),
        "incorrect data type",
    );
}

#[test]
fn update_item_list_append_and_if_not_exists() {
    let db = table();
    let set = |u: Update| {
        db.update_item(
            UpdateItemInput::new(T, key("a", "1"), u).return_values(ReturnValue::UpdatedNew),
        )
        .expect("update")
        .attributes
        .expect("attributes")
    };
    let list = |values: &[&str]| AttributeValue::L(values.iter().map(|v| s(v)).collect());
    let first = set(Update::new().set(
        "l",
        ValueExpr::list_append(ValueExpr::if_not_exists("l", list(&[])), list(&["a"])),
    ));
    assert_eq!(first["l"], list(&["a"]));
    let second = set(Update::new().set(
        "l",
        ValueExpr::list_append(Path::attr("l"), list(&["b", "c"])),
    ));
    assert_eq!(second["l"], list(&["a", "b", "c"]));
    let kept = set(Update::new().set("l", ValueExpr::if_not_exists("l", list(&["ignored"]))));
    assert_eq!(kept["l"], list(&["a", "b", "c"]));
}

#[test]
fn update_item_reading_a_missing_attribute_is_a_validation_error() {
    let db = table();
    put(&db, T, numbered("a", "1", 1));
    validation(
        db.update_item(UpdateItemInput::new(
            T,
            key("a", "1"),
            Update::new().set_expr(
                "w",
                SetValue::plus(Path::attr("missing"), AttributeValue::number(1)),
            ),
        )),
        "does not exist",
    );
    validation(
        db.update_item(UpdateItemInput::new(
            T,
            key("a", "1"),
            Update::new().set(Path::attr("nomap").field("x"), s("y")),
        )),
        "document path",
    );
    assert_eq!(get(&db, T, key("a", "1")), Some(numbered("a", "1", 1)));
}

/// Overlapping paths are refused; an update with no action at all (`UpdateItem` with no
/// `UpdateExpression` or `AttributeUpdates`) is not: DynamoDB makes the item of just its key
/// (ScyllaDB's Alternator tests, which pass on DynamoDB, rely on it). An expression string
/// that is empty is refused by the parser (`src/expr/syntax`).
#[test]
fn update_item_with_overlapping_paths_is_refused_and_with_no_action_makes_the_key_item() {
    let db = table();
    validation(
        db.update_item(UpdateItemInput::new(
            T,
            key("a", "1"),
            Update::new()
                .set("m", s("x"))
                .remove(Path::attr("m").field("y")),
        )),
        "overlap",
    );
    assert_eq!(get(&db, T, key("a", "1")), None);
    db.update_item(UpdateItemInput::new(T, key("a", "1"), Update::new()))
        .expect("no action");
    assert_eq!(get(&db, T, key("a", "1")), Some(key("a", "1")));
}

// ---------------------------------------------------------------------------------------------
// DeleteItem
// ---------------------------------------------------------------------------------------------

#[test]
fn delete_item_removes_the_item_and_returns_it_with_all_old() {
    let db = table();
    put(&db, T, numbered("a", "1", 1));
    let out = db
        .delete_item(DeleteItemInput::new(T, key("a", "1")).return_values(ReturnValue::AllOld))
        .expect("delete");
    assert_eq!(out.attributes, Some(numbered("a", "1", 1)));
    assert_eq!(get(&db, T, key("a", "1")), None);
}

#[test]
fn delete_item_of_a_missing_item_succeeds_and_returns_nothing() {
    let db = table();
    let out = db
        .delete_item(DeleteItemInput::new(T, key("a", "1")).return_values(ReturnValue::AllOld))
        .expect("delete");
    assert_eq!(out.attributes, None);
}

#[test]
fn delete_item_with_a_failing_condition_keeps_the_item() {
    let db = table();
    put(&db, T, numbered("a", "1", 1));
    condition_failed(
        db.delete_item(
            DeleteItemInput::new(T, key("a", "1"))
                .condition(Condition::eq("v", AttributeValue::number(2))),
        ),
    );
    assert_eq!(get(&db, T, key("a", "1")), Some(numbered("a", "1", 1)));
    db.delete_item(
        DeleteItemInput::new(T, key("a", "1"))
            .condition(Condition::eq("v", AttributeValue::number(1))),
    )
    .expect("condition holds");
    assert_eq!(get(&db, T, key("a", "1")), None);
}

// ---------------------------------------------------------------------------------------------
// Index keys on writes
// ---------------------------------------------------------------------------------------------

#[test]
fn writes_with_a_wrong_or_empty_index_key_are_rejected() {
    let db = indexed();
    let with = |name: &str, value: AttributeValue| {
        let mut it = key("p", "1");
        it.insert(name.into(), value);
        it
    };
    validation(
        db.put_item(PutItemInput::new(T, with("rank", s("high")))),
        "ByRank",
    );
    validation(
        db.put_item(PutItemInput::new(
            T,
            with("color", AttributeValue::number(1)),
        )),
        "ByColor",
    );
    validation(
        db.put_item(PutItemInput::new(T, with("shape", s("")))),
        "ByShape",
    );
    put(&db, T, with("rank", AttributeValue::number(1)));
    validation(
        db.update_item(UpdateItemInput::new(
            T,
            key("p", "1"),
            Update::new().set("rank", s("x")),
        )),
        "ByRank",
    );
    assert_eq!(
        get(&db, T, key("p", "1")),
        Some(with("rank", AttributeValue::number(1)))
    );
    // Attributes that index keys do not use may have any type.
    put(&db, T, with("size", AttributeValue::Bool(true)));
}

// ---------------------------------------------------------------------------------------------
// Query
// ---------------------------------------------------------------------------------------------

fn ten_items(db: &Database) {
    for i in 0..10 {
        put(db, T, numbered("p", &format!("{i:02}"), i));
        put(db, T, numbered("q", &format!("{i:02}"), i));
    }
    put(db, T, numbered("pp", "00", 0));
}

#[test]
fn query_returns_one_partition_in_sort_key_order_in_both_directions() {
    let db = table();
    for sk in ["m", "b", "z", "a", "é", "B"] {
        put(&db, T, numbered("p", sk, 0));
        put(&db, T, numbered("other", sk, 0));
    }
    let forward = db.query(QueryInput::new(T, partition("p"))).expect("query");
    // UTF-8 byte order: uppercase before lowercase, non-ASCII last.
    assert_eq!(sort_keys(&forward.items), ["B", "a", "b", "m", "z", "é"]);
    assert_eq!((forward.count, forward.scanned_count), (6, 6));
    assert_eq!(forward.last_evaluated_key, None);
    let backward = db
        .query(QueryInput::new(T, partition("p")).scan_index_forward(false))
        .expect("query");
    assert_eq!(sort_keys(&backward.items), ["é", "z", "m", "b", "a", "B"]);
    let empty = db
        .query(QueryInput::new(T, partition("nothing")))
        .expect("query");
    assert_eq!(
        (empty.items.len(), empty.count, empty.scanned_count),
        (0, 0, 0)
    );
}

#[test]
fn query_sort_key_conditions_select_their_ranges() {
    let db = table();
    for sk in ["a", "ab", "abc", "b", "ba", "c"] {
        put(&db, T, numbered("p", sk, 0));
        put(&db, T, numbered("p2", sk, 0));
    }
    let run = |op: SortKeyOp, forward: bool| {
        let out = db
            .query(QueryInput::new(T, partition("p").sort("sk", op)).scan_index_forward(forward))
            .expect("query");
        sort_keys(&out.items)
    };
    assert_eq!(run(SortKeyOp::Eq(s("ab")), true), ["ab"]);
    assert_eq!(run(SortKeyOp::Eq(s("zz")), true), Vec::<String>::new());
    assert_eq!(run(SortKeyOp::Lt(s("b")), true), ["a", "ab", "abc"]);
    assert_eq!(run(SortKeyOp::Le(s("b")), true), ["a", "ab", "abc", "b"]);
    assert_eq!(run(SortKeyOp::Gt(s("b")), true), ["ba", "c"]);
    assert_eq!(run(SortKeyOp::Ge(s("b")), true), ["b", "ba", "c"]);
    assert_eq!(
        run(SortKeyOp::Between(s("ab"), s("b")), true),
        ["ab", "abc", "b"]
    );
    assert_eq!(run(SortKeyOp::Between(s("b"), s("b")), true), ["b"]);
    assert_eq!(run(SortKeyOp::BeginsWith(s("ab")), true), ["ab", "abc"]);
    assert_eq!(run(SortKeyOp::BeginsWith(s("b")), true), ["b", "ba"]);
    assert_eq!(run(SortKeyOp::Lt(s("b")), false), ["abc", "ab", "a"]);
    assert_eq!(run(SortKeyOp::Gt(s("ab")), false), ["c", "ba", "b", "abc"]);
}

#[test]
fn query_with_limit_returns_last_evaluated_key_until_exhausted() {
    let db = table();
    ten_items(&db);
    for forward in [true, false] {
        let pages = query_pages(
            &db,
            QueryInput::new(T, partition("p"))
                .limit(3)
                .scan_index_forward(forward),
        );
        assert!(pages.len() >= 4, "10 items, 3 a page");
        for page in &pages[..3] {
            assert_eq!(page.items.len(), 3);
            let last = page.last_evaluated_key.clone().expect("more to read");
            assert_eq!(
                last,
                key("p", page.items[2]["sk"].as_s().expect("sk")),
                "the key of the last item read"
            );
        }
        let all: Vec<String> = pages.iter().flat_map(|p| sort_keys(&p.items)).collect();
        let mut expected: Vec<String> = (0..10).map(|i| format!("{i:02}")).collect();
        if !forward {
            expected.reverse();
        }
        assert_eq!(all, expected, "every item exactly once, in order");
    }
}

#[test]
fn query_filter_runs_after_the_limit_and_scanned_count_counts_what_was_read() {
    let db = table();
    ten_items(&db);
    let even = Condition::is_in("v", [0, 2, 4, 6, 8].map(AttributeValue::number));
    let page = db
        .query(
            QueryInput::new(T, partition("p"))
                .limit(5)
                .filter(even.clone()),
        )
        .expect("query");
    assert_eq!(page.scanned_count, 5);
    assert_eq!(page.count, 3);
    assert_eq!(sort_keys(&page.items), ["00", "02", "04"]);
    assert!(page.last_evaluated_key.is_some());
    let all: Vec<String> = query_pages(
        &db,
        QueryInput::new(T, partition("p")).limit(5).filter(even),
    )
    .iter()
    .flat_map(|p| sort_keys(&p.items))
    .collect();
    assert_eq!(all, ["00", "02", "04", "06", "08"]);
    // A filter that matches nothing still reads (and counts) the partition.
    let none = db
        .query(QueryInput::new(T, partition("p")).filter(Condition::attribute_exists("nothing")))
        .expect("query");
    assert_eq!(
        (none.count, none.scanned_count, none.items.len()),
        (0, 10, 0)
    );
}

#[test]
fn query_filter_on_a_key_attribute_is_rejected() {
    let db = table();
    validation(
        db.query(QueryInput::new(T, partition("p")).filter(Condition::eq("sk", s("x")))),
        "primary key attribute",
    );
}

#[test]
fn query_with_select_count_returns_counts_without_items() {
    let db = table();
    ten_items(&db);
    let counted = db
        .query(
            QueryInput::new(T, partition("p").sort("sk", SortKeyOp::Ge(s("05"))))
                .select(Select::Count),
        )
        .expect("query");
    assert!(counted.items.is_empty());
    assert_eq!((counted.count, counted.scanned_count), (5, 5));
    let filtered = db
        .query(
            QueryInput::new(T, partition("p"))
                .select(Select::Count)
                .filter(Condition::lt("v", AttributeValue::number(3))),
        )
        .expect("query");
    assert!(filtered.items.is_empty());
    assert_eq!((filtered.count, filtered.scanned_count), (3, 10));
}

#[test]
fn query_select_and_projection_must_agree() {
    let db = indexed();
    validation(
        db.query(QueryInput::new(T, partition("p")).select(Select::SpecificAttributes)),
        "SPECIFIC_ATTRIBUTES",
    );
    validation(
        db.query(
            QueryInput::new(T, partition("p"))
                .select(Select::Count)
                .projection(vec![Path::attr("v")]),
        ),
        "ProjectionExpression",
    );
    validation(
        db.query(QueryInput::new(T, partition("p")).select(Select::AllProjectedAttributes)),
        "ALL_PROJECTED_ATTRIBUTES",
    );
    validation(
        db.query(QueryInput::new(T, partition("p")).limit(0)),
        "limit",
    );
}

#[test]
fn query_projection_returns_nested_paths() {
    let db = table();
    put(
        &db,
        T,
        item(
            json!({"pk": {"S": "p"}, "sk": {"S": "1"}, "a": {"M": {"b": {"L": [{"N": "0"}, {"M": {"c": {"S": "deep"}, "d": {"S": "no"}}}]}}}, "e": {"S": "no"}}),
        ),
    );
    let out = db
        .query(QueryInput::new(T, partition("p")).projection(vec![
            Path::attr("a").field("b").index(1).field("c"),
            Path::attr("sk"),
        ]))
        .expect("query");
    assert_eq!(
        out.items,
        [item(
            json!({"sk": {"S": "1"}, "a": {"M": {"b": {"L": [{"M": {"c": {"S": "deep"}}}]}}}})
        )]
    );
}

#[test]
fn query_key_condition_must_match_the_key_schema() {
    let db = table();
    validation(
        db.query(QueryInput::new(T, KeyCondition::partition("sk", s("p")))),
        "missed key schema element",
    );
    validation(
        db.query(QueryInput::new(
            T,
            KeyCondition::partition("pk", AttributeValue::number(1)),
        )),
        "type does not match",
    );
    validation(
        db.query(QueryInput::new(
            T,
            partition("p").sort("other", SortKeyOp::Eq(s("x"))),
        )),
        "missed key schema element",
    );
    validation(
        db.query(QueryInput::new(
            T,
            partition("p").sort("sk", SortKeyOp::Eq(AttributeValue::number(1))),
        )),
        "type does not match",
    );
    validation(
        db.query(QueryInput::new(
            T,
            partition("p").sort("sk", SortKeyOp::Between(s("b"), s("a"))),
        )),
        "BETWEEN",
    );
    let hash_only = Database::in_memory();
    pk_table(&hash_only, "H01");
    validation(
        hash_only.query(QueryInput::new(
            "H01",
            partition("p").sort("sk", SortKeyOp::Eq(s("x"))),
        )),
        "not a sort key",
    );
    let numeric = Database::in_memory();
    numeric
        .create_table(
            CreateTableInput::new("N01")
                .hash_key("pk", S)
                .range_key("n", N)
                .pay_per_request(),
        )
        .expect("create");
    validation(
        numeric.query(QueryInput::new(
            "N01",
            partition("p").sort("n", SortKeyOp::BeginsWith(AttributeValue::number(1))),
        )),
        "begins_with",
    );
}

#[test]
fn query_exclusive_start_key_outside_the_partition_is_rejected() {
    let db = table();
    ten_items(&db);
    let q_page = db
        .query(QueryInput::new(T, partition("q")).limit(2))
        .expect("query");
    let q_key = q_page.last_evaluated_key.expect("more");
    validation(
        db.query(QueryInput::new(T, partition("p")).exclusive_start_key(q_key)),
        "starting key is outside query boundaries",
    );
    // A key with attributes beyond the key schema is not a start key.
    let mut extra = key("p", "03");
    extra.insert("v".into(), AttributeValue::number(3));
    validation(
        db.query(QueryInput::new(T, partition("p")).exclusive_start_key(extra)),
        "starting key is invalid",
    );
    validation(
        db.query(QueryInput::new(T, partition("p")).exclusive_start_key(attrs([("pk", s("p"))]))),
        "starting key is invalid",
    );
    // A start key needs no item behind it: reading resumes after its position.
    let resumed = db
        .query(QueryInput::new(T, partition("p")).exclusive_start_key(key("p", "03x")))
        .expect("query");
    assert_eq!(
        sort_keys(&resumed.items),
        ["04", "05", "06", "07", "08", "09"]
    );
}

#[test]
fn query_on_a_local_index_returns_index_order_and_fetches_non_projected_attributes() {
    let db = indexed();
    for (sk, rank) in [("a", 3), ("b", 1), ("c", 2)] {
        put(
            &db,
            T,
            item(
                json!({"pk": {"S": "p"}, "sk": {"S": sk}, "rank": {"N": rank.to_string()}, "size": {"N": "9"}, "note": {"S": sk}}),
            ),
        );
    }
    // An item without `rank` is not in the (sparse) local index.
    put(&db, T, numbered("p", "d", 0));
    let by_rank = || QueryInput::new(T, partition("p")).index_name("ByRank");

    let projected = db.query(by_rank()).expect("query");
    assert_eq!(sort_keys(&projected.items), ["b", "c", "a"]);
    assert_eq!(
        projected.items[0],
        item(json!({"pk": {"S": "p"}, "sk": {"S": "b"}, "rank": {"N": "1"}})),
        "KEYS_ONLY: the table and index keys"
    );
    let all = db
        .query(by_rank().select(Select::AllAttributes))
        .expect("query");
    assert_eq!(
        all.items[0]["note"],
        s("b"),
        "ALL_ATTRIBUTES fetches the table's item"
    );
    assert_eq!(all.items[0].len(), 5);
    let specific = db
        .query(
            by_rank()
                .projection(vec![Path::attr("note")])
                .scan_index_forward(false),
        )
        .expect("query");
    assert_eq!(
        specific.items,
        [
            attrs([("note", s("a"))]),
            attrs([("note", s("c"))]),
            attrs([("note", s("b"))])
        ]
    );
    let ranged = db
        .query(
            QueryInput::new(
                T,
                partition("p").sort("rank", SortKeyOp::Ge(AttributeValue::number(2))),
            )
            .index_name("ByRank"),
        )
        .expect("query");
    assert_eq!(sort_keys(&ranged.items), ["c", "a"]);
    // Consistent reads are allowed on a local index.
    db.query(by_rank().consistent_read(true))
        .expect("consistent LSI query");

    // Paging: the LastEvaluatedKey holds the table key and the index key.
    let first = db.query(by_rank().limit(1)).expect("query");
    let last = first.last_evaluated_key.clone().expect("more");
    assert_eq!(
        last,
        item(json!({"pk": {"S": "p"}, "sk": {"S": "b"}, "rank": {"N": "1"}}))
    );
    let pages = query_pages(&db, by_rank().limit(1));
    let all: Vec<String> = pages.iter().flat_map(|p| sort_keys(&p.items)).collect();
    assert_eq!(all, ["b", "c", "a"]);
}

#[test]
fn query_on_a_global_index_with_consistent_read_is_rejected() {
    let db = indexed();
    validation(
        db.query(
            QueryInput::new(T, KeyCondition::partition("color", s("red")))
                .index_name("ByColor")
                .consistent_read(true),
        ),
        "Consistent reads are not supported on global secondary indexes",
    );
    validation(
        db.scan(
            ScanInput::new(T)
                .index_name("ByShape")
                .consistent_read(true),
        ),
        "Consistent reads are not supported on global secondary indexes",
    );
}

#[test]
fn query_all_attributes_on_a_global_index_that_does_not_project_all_is_rejected() {
    let db = indexed();
    validation(
        db.query(
            QueryInput::new(T, KeyCondition::partition("color", s("red")))
                .index_name("ByColor")
                .select(Select::AllAttributes),
        ),
        "ALL_ATTRIBUTES",
    );
    validation(
        db.scan(
            ScanInput::new(T)
                .index_name("ByColor")
                .select(Select::AllAttributes),
        ),
        "ALL_ATTRIBUTES",
    );
    // ALL_ATTRIBUTES on a global index projecting ALL is fine.
    db.query(
        QueryInput::new(T, KeyCondition::partition("shape", s("round")))
            .index_name("ByShape")
            .select(Select::AllAttributes),
    )
    .expect("query");
}

#[test]
fn query_on_a_global_index_returns_its_projection_in_index_order() {
    let db = indexed();
    let rows = [
        ("a", "red", 5),
        ("b", "red", 1),
        ("c", "blue", 3),
        ("d", "red", 3),
    ];
    for (sk, color, rank) in rows {
        put(
            &db,
            T,
            item(
                json!({"pk": {"S": "p"}, "sk": {"S": sk}, "color": {"S": color}, "rank": {"N": rank.to_string()}, "size": {"N": "1"}, "note": {"S": "n"}}),
            ),
        );
    }
    put(
        &db,
        T,
        item(
            json!({"pk": {"S": "q"}, "sk": {"S": "e"}, "color": {"S": "red"}, "rank": {"N": "4"}}),
        ),
    );
    let red =
        || QueryInput::new(T, KeyCondition::partition("color", s("red"))).index_name("ByColor");
    let out = db.query(red()).expect("query");
    assert_eq!(sort_keys(&out.items), ["b", "d", "e", "a"]);
    assert_eq!(
        out.items[0],
        item(
            json!({"pk": {"S": "p"}, "sk": {"S": "b"}, "color": {"S": "red"}, "rank": {"N": "1"}, "size": {"N": "1"}})
        ),
        "INCLUDE(size): keys plus size, not note"
    );
    let first = db.query(red().limit(1)).expect("query");
    assert_eq!(
        first.last_evaluated_key,
        Some(item(
            json!({"pk": {"S": "p"}, "sk": {"S": "b"}, "color": {"S": "red"}, "rank": {"N": "1"}})
        ))
    );
    let paged: Vec<String> = query_pages(&db, red().limit(2))
        .iter()
        .flat_map(|p| sort_keys(&p.items))
        .collect();
    assert_eq!(paged, ["b", "d", "e", "a"]);
    let ranged = db
        .query(
            QueryInput::new(
                T,
                KeyCondition::partition("color", s("red")).sort(
                    "rank",
                    SortKeyOp::Between(AttributeValue::number(2), AttributeValue::number(4)),
                ),
            )
            .index_name("ByColor"),
        )
        .expect("query");
    assert_eq!(sort_keys(&ranged.items), ["d", "e"]);
    // Updates move items within the index, and removing the key takes them out.
    db.update_item(UpdateItemInput::new(
        T,
        key("p", "b"),
        Update::new().set("color", s("blue")),
    ))
    .expect("update");
    db.update_item(UpdateItemInput::new(
        T,
        key("p", "a"),
        Update::new().remove("rank"),
    ))
    .expect("update");
    assert_eq!(
        sort_keys(&db.query(red()).expect("query").items),
        ["d", "e"]
    );
    let blue = db
        .query(
            QueryInput::new(T, KeyCondition::partition("color", s("blue"))).index_name("ByColor"),
        )
        .expect("query");
    assert_eq!(sort_keys(&blue.items), ["b", "c"]);
}

#[test]
fn query_on_a_missing_index_is_rejected() {
    let db = indexed();
    validation(
        db.query(QueryInput::new(T, partition("p")).index_name("Nope")),
        "does not have the specified index",
    );
    validation(
        db.scan(ScanInput::new(T).index_name("Nope")),
        "does not have the specified index",
    );
}

// ---------------------------------------------------------------------------------------------
// Scan
// ---------------------------------------------------------------------------------------------

fn many(db: &Database, partitions: usize, per: usize) -> BTreeSet<Item> {
    let mut all = BTreeSet::new();
    for p in 0..partitions {
        for i in 0..per {
            let it = numbered(
                &format!("part{p}"),
                &format!("{i:03}"),
                (p * per + i) as i64,
            );
            put(db, T, it.clone());
            all.insert(it);
        }
    }
    all
}

#[test]
fn scan_with_limit_returns_every_item_exactly_once_across_pages() {
    let db = table();
    let all = many(&db, 13, 7);
    let pages = scan_pages(&db, ScanInput::new(T).limit(10));
    assert!(pages.len() >= 10);
    let mut seen = Vec::new();
    for page in &pages {
        assert!(page.items.len() <= 10);
        seen.extend(page.items.iter().cloned());
    }
    assert_eq!(seen.len(), all.len(), "no duplicates");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), all);
    // Items of one partition come out together, in sort key order.
    let whole = db.scan(ScanInput::new(T)).expect("scan");
    let mut partitions: Vec<&str> = whole
        .items
        .iter()
        .map(|i| i["pk"].as_s().expect("pk"))
        .collect();
    partitions.dedup();
    assert_eq!(partitions.len(), 13);
}

#[test]
fn parallel_scan_segments_together_return_every_item_exactly_once() {
    let db = table();
    let all = many(&db, 50, 3);
    for total in [1, 2, 3, 7, 64] {
        let mut seen = Vec::new();
        for segment in 0..total {
            for page in scan_pages(&db, ScanInput::new(T).segment((segment, total)).limit(4)) {
                seen.extend(page.items);
            }
        }
        assert_eq!(seen.len(), all.len(), "{total} segments");
        assert_eq!(
            seen.into_iter().collect::<BTreeSet<_>>(),
            all,
            "{total} segments"
        );
    }
}

#[test]
fn scan_with_filter_and_select_count() {
    let db = table();
    many(&db, 4, 5);
    let small = Condition::lt("v", AttributeValue::number(6));
    let filtered = db
        .scan(ScanInput::new(T).filter(small.clone()))
        .expect("scan");
    assert_eq!((filtered.count, filtered.scanned_count), (6, 20));
    assert!(filtered
        .items
        .iter()
        .all(|i| i["v"] < AttributeValue::number(6)));
    let counted = db
        .scan(ScanInput::new(T).filter(small).select(Select::Count))
        .expect("scan");
    assert_eq!(
        (counted.count, counted.scanned_count, counted.items.len()),
        (6, 20, 0)
    );
    let projected = db
        .scan(ScanInput::new(T).projection(vec![Path::attr("v")]))
        .expect("scan");
    assert!(projected.items.iter().all(|i| i.keys().eq(["v"])));
}

#[test]
fn scan_exclusive_start_key_outside_its_segment_is_rejected() {
    let db = table();
    many(&db, 30, 1);
    // Find a key of segment 0 of 2 and use it for segment 1.
    let first = db
        .scan(ScanInput::new(T).segment((0, 2)).limit(1))
        .expect("scan");
    let start = first
        .last_evaluated_key
        .expect("segment 0 holds more than one item");
    validation(
        db.scan(
            ScanInput::new(T)
                .segment((1, 2))
                .exclusive_start_key(start.clone()),
        ),
        "does not map to the provided Segment and TotalSegments values",
    );
    db.scan(ScanInput::new(T).segment((0, 2)).exclusive_start_key(start))
        .expect("own segment");
}

#[test]
fn scan_of_a_global_index_returns_only_indexed_items() {
    let db = indexed();
    put(
        &db,
        T,
        item(json!({"pk": {"S": "a"}, "sk": {"S": "1"}, "shape": {"S": "round"}})),
    );
    put(
        &db,
        T,
        item(json!({"pk": {"S": "b"}, "sk": {"S": "1"}, "shape": {"S": "square"}})),
    );
    put(&db, T, item(json!({"pk": {"S": "c"}, "sk": {"S": "1"}})));
    let out = db
        .scan(ScanInput::new(T).index_name("ByShape"))
        .expect("scan");
    assert_eq!(out.count, 2);
    let pages = scan_pages(&db, ScanInput::new(T).index_name("ByShape").limit(1));
    let seen: BTreeSet<String> = pages
        .iter()
        .flat_map(|p| {
            p.items
                .iter()
                .map(|i| i["pk"].as_s().expect("pk").to_string())
        })
        .collect();
    assert_eq!(seen, ["a", "b"].map(String::from).into());
    let lsi = db
        .scan(ScanInput::new(T).index_name("ByRank"))
        .expect("scan");
    assert_eq!(lsi.count, 0);
}

// ---------------------------------------------------------------------------------------------
// BatchWriteItem, BatchGetItem
// ---------------------------------------------------------------------------------------------

fn batch(requests: Vec<(&str, WriteRequest)>) -> BatchWriteItemInput {
    let mut input = BatchWriteItemInput::default();
    for (table, request) in requests {
        input
            .request_items
            .entry(table.to_string())
            .or_default()
            .push(request);
    }
    input
}

fn put_request(it: Item) -> WriteRequest {
    WriteRequest::Put { item: it }
}

#[test]
fn batch_write_item_puts_and_deletes_across_tables() {
    let db = table();
    pk_table(&db, "Other");
    put(&db, T, numbered("gone", "1", 0));
    let out = db
        .batch_write_item(batch(vec![
            (T, put_request(numbered("a", "1", 1))),
            (T, put_request(numbered("a", "2", 2))),
            (
                T,
                WriteRequest::Delete {
                    key: key("gone", "1"),
                },
            ),
            ("Other", put_request(attrs([("pk", s("x"))]))),
            // Deleting what is not there is fine.
            (
                "Other",
                WriteRequest::Delete {
                    key: attrs([("pk", s("nothing"))]),
                },
            ),
        ]))
        .expect("batch");
    assert!(out.unprocessed_items.is_empty());
    assert_eq!(get(&db, T, key("a", "1")), Some(numbered("a", "1", 1)));
    assert_eq!(get(&db, T, key("a", "2")), Some(numbered("a", "2", 2)));
    assert_eq!(get(&db, T, key("gone", "1")), None);
    assert_eq!(
        get(&db, "Other", attrs([("pk", s("x"))])),
        Some(attrs([("pk", s("x"))]))
    );
}

#[test]
fn batch_write_item_with_two_requests_for_one_key_is_rejected() {
    let db = table();
    validation(
        db.batch_write_item(batch(vec![
            (T, put_request(numbered("a", "1", 1))),
            (T, WriteRequest::Delete { key: key("a", "1") }),
        ])),
        "duplicates",
    );
    assert_eq!(get(&db, T, key("a", "1")), None);
}

#[test]
fn batch_write_item_with_an_invalid_request_applies_nothing() {
    let db = table();
    for bad in [
        put_request(attrs([("pk", s("no sort key"))])),
        put_request(key("", "empty")),
        WriteRequest::Delete {
            key: numbered("a", "2", 1),
        },
    ] {
        validation(
            db.batch_write_item(batch(vec![
                (T, put_request(numbered("a", "1", 1))),
                (T, bad),
            ])),
            "",
        );
        assert_eq!(get(&db, T, key("a", "1")), None);
    }
}

#[test]
fn batch_write_item_with_no_requests_is_rejected() {
    let db = table();
    validation(
        db.batch_write_item(BatchWriteItemInput::default()),
        "The requestItems parameter is required for BatchWriteItem",
    );
}

#[test]
fn batch_get_item_returns_the_items_found_in_each_table() {
    let db = table();
    pk_table(&db, "Other");
    put(&db, T, numbered("a", "1", 1));
    put(&db, T, numbered("a", "2", 2));
    put(&db, "Other", attrs([("pk", s("x")), ("v", s("y"))]));
    let mut input = BatchGetItemInput::default();
    input.request_items.insert(
        T.into(),
        KeysAndAttributes::new(vec![key("a", "2"), key("missing", "1"), key("a", "1")])
            .projection(vec![Path::attr("v")])
            .consistent_read(true),
    );
    input.request_items.insert(
        "Other".into(),
        KeysAndAttributes::new(vec![attrs([("pk", s("x"))])]),
    );
    let out = db.batch_get_item(input).expect("batch get");
    assert!(out.unprocessed_keys.is_empty());
    let mine = &out.responses[T];
    assert_eq!(mine.len(), 2, "missing keys are absent");
    let values: BTreeSet<&AttributeValue> = mine.iter().map(|i| &i["v"]).collect();
    assert_eq!(
        values,
        [AttributeValue::number(1), AttributeValue::number(2)]
            .iter()
            .collect()
    );
    assert!(mine.iter().all(|i| i.len() == 1), "projected on v");
    assert_eq!(
        out.responses["Other"],
        [attrs([("pk", s("x")), ("v", s("y"))])]
    );
}

#[test]
fn batch_get_item_with_duplicate_or_malformed_keys_is_rejected() {
    let db = table();
    let request = |keys: Vec<Item>| {
        let mut input = BatchGetItemInput::default();
        input
            .request_items
            .insert(T.into(), KeysAndAttributes::new(keys));
        input
    };
    validation(
        db.batch_get_item(request(vec![key("a", "1"), key("a", "1")])),
        "duplicates",
    );
    validation(
        db.batch_get_item(request(vec![attrs([("pk", s("a"))])])),
        "key element does not match",
    );
    validation(
        db.batch_get_item(request(vec![])),
        "Value '[]' at 'requestItems.Items.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    validation(
        db.batch_get_item(BatchGetItemInput::default()),
        "The requestItems parameter is required for BatchGetItem",
    );
}

// ---------------------------------------------------------------------------------------------
// TransactWriteItems, TransactGetItems
// ---------------------------------------------------------------------------------------------

fn transact(items: Vec<TransactWriteItem>) -> TransactWriteItemsInput {
    TransactWriteItemsInput::new(items)
}

fn check(table: &str, key: Item, condition: Condition) -> TransactWriteItem {
    TransactWriteItem::ConditionCheck(ConditionCheckInput::new(table, key).condition(condition))
}

fn tget(table: &str, key: Item) -> TransactGetItem {
    TransactGetItem::new(table, key)
}

#[test]
fn transact_write_items_applies_every_action() {
    let db = table();
    pk_table(&db, "Other");
    put(&db, T, numbered("upd", "1", 1));
    put(&db, T, numbered("del", "1", 1));
    put(
        &db,
        "Other",
        attrs([("pk", s("guard")), ("open", AttributeValue::Bool(true))]),
    );
    db.transact_write_items(transact(vec![
        TransactWriteItem::Put(
            PutItemInput::new(T, numbered("new", "1", 1))
                .condition(Condition::attribute_not_exists("pk")),
        ),
        TransactWriteItem::Update(UpdateItemInput::new(
            T,
            key("upd", "1"),
            Update::new().add("v", AttributeValue::number(10)),
        )),
        TransactWriteItem::Delete(DeleteItemInput::new(T, key("del", "1"))),
        check(
            "Other",
            attrs([("pk", s("guard"))]),
            Condition::eq("open", AttributeValue::Bool(true)),
        ),
    ]))
    .expect("transaction");
    assert_eq!(get(&db, T, key("new", "1")), Some(numbered("new", "1", 1)));
    assert_eq!(get(&db, T, key("upd", "1")), Some(numbered("upd", "1", 11)));
    assert_eq!(get(&db, T, key("del", "1")), None);
    assert_eq!(
        get(&db, "Other", attrs([("pk", s("guard"))])).map(|i| i.len()),
        Some(2)
    );
}

#[test]
fn a_key_that_does_not_fit_cancels_the_transaction_with_a_validation_error_for_its_action() {
    // DynamoDB cancels the transaction naming the first action whose key is wrong; the
    // others, a failing condition among them, report None and nothing is written.
    let db = db();
    pk_table(&db, "Keyed");
    let put_item = |item: Item| TransactWriteItem::Put(PutItemInput::new("Keyed", item));
    let reasons = canceled(db.transact_write_items(transact(vec![
        put_item(attrs([("pk", s("fine"))])),
        put_item(attrs([("pk", AttributeValue::number(7))])),
        put_item(attrs([("pk", AttributeValue::number(8))])),
        check(
            "Keyed",
            attrs([("pk", s("missing"))]),
            Condition::attribute_exists("pk"),
        ),
    ])));
    assert_eq!(codes(&reasons), ["None", "ValidationError", "None", "None"]);
    assert!(reasons[0].message.is_none());
    // The reason's message is DynamoDB's text alone, without the exception's name.
    assert_eq!(
        reasons[1].message.as_deref(),
        Some("One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N")
    );
    assert_eq!(get(&db, "Keyed", attrs([("pk", s("fine"))])), None);
    // A lone delete or update whose key misses an attribute is cancelled the same way.
    for action in [
        TransactWriteItem::Delete(DeleteItemInput::new("Keyed", attrs([("other", s("x"))]))),
        TransactWriteItem::Update(UpdateItemInput::new(
            "Keyed",
            attrs([("pk", AttributeValue::Bool(true))]),
            Update::new().set("v", AttributeValue::number(1)),
        )),
    ] {
        let reasons = canceled(db.transact_write_items(transact(vec![action])));
        assert_eq!(codes(&reasons), ["ValidationError"]);
    }
    // A table that does not exist is still the request's own error.
    exception(
        db.transact_write_items(transact(vec![TransactWriteItem::Put(PutItemInput::new(
            "Missing",
            attrs([("pk", AttributeValue::number(7))]),
        ))])),
        "ResourceNotFoundException",
    );
}

/// An empty string or binary value in the `Key` of a transaction's update, delete or
/// condition check is the request's `ValidationException`, not a cancellation (moto's
/// AWS-verified `test_transaction_with_empty_key`), and nothing is written.
#[test]
fn an_empty_key_value_in_a_transactions_key_is_the_requests_validation_error() {
    let db = db();
    pk_table(&db, "Keyed");
    let empty = attrs([("pk", s(""))]);
    for action in [
        TransactWriteItem::Update(UpdateItemInput::new(
            "Keyed",
            empty.clone(),
            Update::new().set("v", AttributeValue::number(1)),
        )),
        TransactWriteItem::Delete(DeleteItemInput::new("Keyed", empty.clone())),
        check("Keyed", empty.clone(), Condition::attribute_exists("pk")),
    ] {
        let fine = TransactWriteItem::Put(PutItemInput::new("Keyed", attrs([("pk", s("fine"))])));
        validation(
            db.transact_write_items(transact(vec![fine, action])),
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
        );
        assert_eq!(get(&db, "Keyed", attrs([("pk", s("fine"))])), None);
    }
}

#[test]
fn transaction_canceled_has_one_reason_per_action_and_applies_nothing() {
    let db = table();
    put(&db, T, numbered("a", "1", 1));
    put(&db, T, numbered("b", "1", 1));
    let reasons = canceled(db.transact_write_items(transact(vec![
            TransactWriteItem::Put(PutItemInput::new(T, numbered("c", "1", 1))),
            TransactWriteItem::Update(
                UpdateItemInput::new(
                    T,
                    key("a", "1"),
                    Update::new().set("v", AttributeValue::number(2)),
                )
                .condition(Condition::eq("v", AttributeValue::number(99))),
            ),
            TransactWriteItem::Delete(DeleteItemInput::new(T, key("b", "1"))),
            check(T, key("missing", "1"), Condition::attribute_exists("pk")),
        ])));
    assert_eq!(
        codes(&reasons),
        [
            "None",
            "ConditionalCheckFailed",
            "None",
            "ConditionalCheckFailed"
        ]
    );
    assert_eq!(reasons[0].message, None);
    assert!(reasons[1]
        .message
        .as_deref()
        .is_some_and(|m| m.contains("conditional request failed")));
    assert!(
        reasons.iter().all(|r| r.item.is_none()),
        "no item unless asked for"
    );
    assert_eq!(get(&db, T, key("c", "1")), None);
    assert_eq!(get(&db, T, key("a", "1")), Some(numbered("a", "1", 1)));
    assert_eq!(get(&db, T, key("b", "1")), Some(numbered("b", "1", 1)));
    let e = db
        .transact_write_items(transact(vec![check(
            T,
            key("missing", "1"),
            Condition::attribute_exists("pk"),
        )]))
        .expect_err("canceled");
    assert_eq!(e.exception_name(), "TransactionCanceledException");
    assert!(e.to_string().contains("[ConditionalCheckFailed]"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// ReturnItemCollectionMetrics
// ---------------------------------------------------------------------------------------------

/// The metrics DynamoDB reports for a small collection with partition key `pk`.
fn small_collection(pk: &str) -> ItemCollectionMetrics {
    let mut metrics = ItemCollectionMetrics::default();
    metrics.item_collection_key = attrs([("pk", s(pk))]);
    metrics.size_estimate_range_gb = [0.0, 1.0];
    metrics
}

#[test]
fn single_writes_report_their_item_collection_only_on_tables_with_a_local_index_when_asked() {
    let db = indexed();
    let size = ReturnItemCollectionMetrics::Size;
    let put = db
        .put_item(PutItemInput::new(T, numbered("a", "1", 1)).return_item_collection_metrics(size))
        .expect("put");
    assert_eq!(put.item_collection_metrics, Some(small_collection("a")));
    let update = db
        .update_item(
            UpdateItemInput::new(
                T,
                key("a", "1"),
                Update::new().set("rank", AttributeValue::number(3)),
            )
            .return_item_collection_metrics(size),
        )
        .expect("update");
    assert_eq!(update.item_collection_metrics, Some(small_collection("a")));
    let delete = db
        .delete_item(DeleteItemInput::new(T, key("a", "1")).return_item_collection_metrics(size))
        .expect("delete");
    assert_eq!(delete.item_collection_metrics, Some(small_collection("a")));
    // Not asked for: nothing.
    let quiet = db
        .put_item(PutItemInput::new(T, numbered("a", "2", 1)))
        .expect("put");
    assert_eq!(quiet.item_collection_metrics, None);
    // No local index: nothing, as DynamoDB documents.
    let plain = table();
    let put = plain
        .put_item(PutItemInput::new(T, numbered("a", "1", 1)).return_item_collection_metrics(size))
        .expect("put");
    assert_eq!(put.item_collection_metrics, None);
    let json = serde_json::to_value(
        db.put_item(
            PutItemInput::new(T, numbered("b", "1", 1)).return_item_collection_metrics(size),
        )
        .expect("put"),
    )
    .expect("json");
    assert_eq!(
        json,
        json!({"ItemCollectionMetrics": {"ItemCollectionKey": {"pk": {"S": "b"}}, "SizeEstimateRangeGB": [0.0, 1.0]}})
    );
}

#[test]
fn batches_and_transactions_report_each_written_collection_once_by_table() {
    let db = indexed();
    pk_table(&db, "Plain");
    let size = ReturnItemCollectionMetrics::Size;
    let batch = db
        .batch_write_item(
            BatchWriteItemInput::new()
                .put(T, numbered("a", "1", 1))
                .put(T, numbered("a", "2", 1))
                .put(T, numbered("b", "1", 1))
                .put("Plain", attrs([("pk", s("x"))]))
                .return_item_collection_metrics(size),
        )
        .expect("batch");
    let reported = batch.item_collection_metrics.expect("asked for");
    assert_eq!(
        reported.keys().collect::<Vec<_>>(),
        [T],
        "only the table with a local index"
    );
    assert_eq!(reported[T], [small_collection("a"), small_collection("b")]);
    let transaction = db
        .transact_write_items(
            transact(vec![
                TransactWriteItem::Put(PutItemInput::new(T, numbered("c", "1", 1))),
                TransactWriteItem::Delete(DeleteItemInput::new(T, key("b", "1"))),
                check(T, key("a", "1"), Condition::attribute_exists("pk")),
            ])
            .return_item_collection_metrics(size),
        )
        .expect("transaction");
    let reported = transaction.item_collection_metrics.expect("asked for");
    assert_eq!(
        reported[T],
        [small_collection("c"), small_collection("b")],
        "a check writes none"
    );
    let quiet = db
        .batch_write_item(BatchWriteItemInput::new().put(T, numbered("d", "1", 1)))
        .expect("batch");
    assert_eq!(quiet.item_collection_metrics, None);
}

/// A table `T` in a database on a manual clock, with `{pk: "n", sk: "1", v: 0}`.
fn counter_on_a_clock() -> (Database, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000)));
    let db = Database::in_memory_with(Options::default().clock(clock.clone())).expect("open");
    pk_sk_table(&db, T);
    put(&db, T, numbered("n", "1", 0));
    (db, clock)
}

/// A transaction adding `by` to the counter, under `token`.
fn increment(by: i64, token: &str) -> TransactWriteItemsInput {
    let add = Update::new().add("v", AttributeValue::number(by));
    transact(vec![TransactWriteItem::Update(UpdateItemInput::new(
        T,
        key("n", "1"),
        add,
    ))])
    .client_request_token(token)
}

#[test]
fn a_transaction_retried_with_its_token_within_ten_minutes_succeeds_without_writing_again() {
    let (db, clock) = counter_on_a_clock();
    db.transact_write_items(increment(1, "tok-1"))
        .expect("first");
    clock.advance(10 * 60 * 1000 - 1);
    let again = db
        .transact_write_items(
            increment(1, "tok-1").return_consumed_capacity(ReturnConsumedCapacity::Total),
        )
        .expect("the retry succeeds");
    assert_eq!(
        get(&db, T, key("n", "1")),
        Some(numbered("n", "1", 1)),
        "applied once"
    );
    // The retry reports the read of the item, not a write (the token's documentation).
    let consumed = again.consumed_capacity.expect("asked for");
    assert_eq!(consumed[0].read_capacity_units, Some(1.0));
    assert_eq!(consumed[0].write_capacity_units, None);
    // Another token is another transaction.
    db.transact_write_items(increment(1, "tok-2"))
        .expect("second");
    assert_eq!(get(&db, T, key("n", "1")), Some(numbered("n", "1", 2)));
}

#[test]
fn a_token_is_new_again_ten_minutes_after_its_transaction_completed() {
    let (db, clock) = counter_on_a_clock();
    db.transact_write_items(increment(1, "tok")).expect("first");
    clock.advance(10 * 60 * 1000);
    db.transact_write_items(increment(1, "tok"))
        .expect("a new request");
    assert_eq!(get(&db, T, key("n", "1")), Some(numbered("n", "1", 2)));
}

#[test]
fn a_token_reused_with_other_actions_is_idempotent_parameter_mismatch() {
    let (db, _clock) = counter_on_a_clock();
    db.transact_write_items(increment(1, "tok")).expect("first");
    let e = exception(
        db.transact_write_items(increment(5, "tok")),
        "IdempotentParameterMismatchException",
    );
    assert!(e.to_string().contains("different payload"), "{e}");
    assert_eq!(get(&db, T, key("n", "1")), Some(numbered("n", "1", 1)));
}

#[test]
fn a_cancelled_transaction_keeps_no_token_so_its_retry_runs() {
    let (db, _clock) = counter_on_a_clock();
    let guarded = |token: &str| {
        let add = Update::new().add("v", AttributeValue::number(1));
        transact(vec![TransactWriteItem::Update(
            UpdateItemInput::new(T, key("n", "1"), add)
                .condition(Condition::attribute_exists("ready")),
        )])
        .client_request_token(token)
    };
    canceled(db.transact_write_items(guarded("tok")));
    let mut ready = numbered("n", "1", 0);
    ready.insert("ready".into(), AttributeValue::Bool(true));
    put(&db, T, ready);
    db.transact_write_items(guarded("tok")).expect("runs now");
    assert_eq!(
        get(&db, T, key("n", "1")).map(|i| i["v"].clone()),
        Some(AttributeValue::number(1))
    );
}

#[test]
fn client_request_tokens_must_have_1_to_36_characters() {
    let (db, _clock) = counter_on_a_clock();
    validation(
        db.transact_write_items(increment(1, &"t".repeat(37))),
        "at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36",
    );
    validation(
        db.transact_write_items(increment(1, "")),
        "Member must have length greater than or equal to 1",
    );
    db.transact_write_items(increment(1, &"t".repeat(36)))
        .expect("36 is fine");
}

#[test]
fn a_token_survives_reopening_the_database() {
    let dir = support::TempDir::new("token_reopen");
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000)));
    let options = || {
        Options::default()
            .clock(clock.clone())
            .background_worker(false)
    };
    {
        let db = Database::open_with(dir.path(), options()).expect("open");
        pk_sk_table(&db, T);
        put(&db, T, numbered("n", "1", 0));
        db.transact_write_items(increment(1, "tok")).expect("first");
        db.transact_write_items(increment(1, "tok"))
            .expect("replayed");
        assert_eq!(get(&db, T, key("n", "1")), Some(numbered("n", "1", 1)));
    }
    let db = Database::open_with(dir.path(), options()).expect("reopen");
    db.transact_write_items(increment(1, "tok"))
        .expect("replayed after the reopen");
    assert_eq!(get(&db, T, key("n", "1")), Some(numbered("n", "1", 1)));
}

#[test]
fn transaction_canceled_reason_carries_the_item_when_asked_with_all_old() {
    let db = table();
    put(&db, T, numbered("a", "1", 1));
    put(&db, T, numbered("b", "1", 2));
    let all_old = ReturnValuesOnConditionCheckFailure::AllOld;
    let reasons = canceled(db.transact_write_items(transact(vec![
            TransactWriteItem::ConditionCheck(
                ConditionCheckInput::new(T, key("a", "1"))
                    .condition(Condition::eq("v", AttributeValue::number(7)))
                    .return_values_on_condition_check_failure(all_old),
            ),
            TransactWriteItem::Put(
                PutItemInput::new(T, numbered("b", "1", 3))
                    .condition(Condition::attribute_not_exists("pk"))
                    .return_values_on_condition_check_failure(all_old),
            ),
            TransactWriteItem::Delete(
                DeleteItemInput::new(T, key("c", "1"))
                    .condition(Condition::attribute_exists("pk"))
                    .return_values_on_condition_check_failure(all_old),
            ),
            TransactWriteItem::Update(
                UpdateItemInput::new(T, key("d", "1"), Update::new().set("x", s("y")))
                    .return_values_on_condition_check_failure(all_old),
            ),
        ])));
    assert_eq!(
        codes(&reasons),
        [
            "ConditionalCheckFailed",
            "ConditionalCheckFailed",
            "ConditionalCheckFailed",
            "None"
        ]
    );
    assert_eq!(reasons[0].item, Some(numbered("a", "1", 1)));
    assert_eq!(reasons[1].item, Some(numbered("b", "1", 2)));
    assert_eq!(reasons[2].item, None, "no item to return");
    assert_eq!(reasons[3].item, None);
    assert_eq!(get(&db, T, key("d", "1")), None);
}

#[test]
fn transaction_action_that_fails_on_the_item_is_a_validation_error_reason() {
    let db = table();
    put(
        &db,
        T,
        item(json!({"pk": {"S": "a"}, "sk": {"S": "1"}, "text": {"S": "x"}})),
    );
    let reasons = canceled(db.transact_write_items(transact(vec![
        TransactWriteItem::Put(PutItemInput::new(T, numbered("b", "1", 1))),
        // ADD of a number to a string fails only once the item is read.
        TransactWriteItem::Update(UpdateItemInput::new(
            T,
            key("a", "1"),
            Update::new().add("text", AttributeValue::number(1)),
        )),
    ])));
    assert_eq!(codes(&reasons), ["None", "ValidationError"]);
    assert!(reasons[1].message.is_some());
    assert_eq!(get(&db, T, key("b", "1")), None);
}

#[test]
fn transact_write_items_with_two_actions_on_one_item_is_rejected() {
    let db = table();
    validation(
        db.transact_write_items(transact(vec![
            TransactWriteItem::Put(PutItemInput::new(T, numbered("a", "1", 1))),
            check(T, key("a", "1"), Condition::attribute_not_exists("pk")),
        ])),
        "multiple operations on one item",
    );
    validation(db.transact_write_items(transact(vec![])), "transactItems");
    assert_eq!(get(&db, T, key("a", "1")), None);
}

#[test]
fn transact_get_items_returns_one_response_per_read_in_request_order() {
    let db = table();
    pk_table(&db, "Other");
    put(&db, T, numbered("a", "1", 1));
    put(
        &db,
        "Other",
        attrs([("pk", s("x")), ("v", s("y")), ("w", s("z"))]),
    );
    let out = db
        .transact_get_items(TransactGetItemsInput::new(vec![
            tget("Other", attrs([("pk", s("x"))])),
            tget(T, key("missing", "1")),
            TransactGetItem::new(T, key("a", "1")).projection(vec![Path::attr("v")]),
        ]))
        .expect("transact get");
    assert_eq!(out.responses.len(), 3);
    assert_eq!(
        out.responses[0].item,
        Some(attrs([("pk", s("x")), ("v", s("y")), ("w", s("z"))]))
    );
    assert_eq!(out.responses[1].item, None);
    assert_eq!(
        out.responses[2].item,
        Some(attrs([("v", AttributeValue::number(1))]))
    );
    validation(
        db.transact_get_items(TransactGetItemsInput::new(vec![
            tget(T, key("a", "1")),
            tget(T, key("a", "1")),
        ])),
        "multiple operations",
    );
    validation(
        db.transact_get_items(TransactGetItemsInput::new(vec![])),
        "transactItems",
    );
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

/// A small deterministic generator, one per thread.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn concurrent_conditional_increments_lose_no_update() {
    let db = table();
    put(&db, T, numbered("counter", "1", 0));
    let successes = AtomicU64::new(0);
    let failures = AtomicU64::new(0);
    const THREADS: usize = 8;
    const ATTEMPTS: usize = 150;
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..ATTEMPTS {
                    let current = get(&db, T, key("counter", "1")).expect("counter")["v"].clone();
                    let next = current
                        .as_n()
                        .expect("number")
                        .checked_add(&Number::from(1))
                        .expect("in range");
                    let result = db.update_item(
                        UpdateItemInput::new(
                            T,
                            key("counter", "1"),
                            Update::new().set("v", AttributeValue::N(next)),
                        )
                        .condition(Condition::eq("v", current)),
                    );
                    match result {
                        Ok(_) => successes.fetch_add(1, Ordering::SeqCst),
                        Err(Error::ConditionalCheckFailed { .. }) => {
                            failures.fetch_add(1, Ordering::SeqCst)
                        }
                        Err(e) => panic!("unexpected error {e}"),
                    };
                }
            });
        }
    });
    let successes = successes.load(Ordering::SeqCst);
    assert_eq!(
        successes + failures.load(Ordering::SeqCst),
        (THREADS * ATTEMPTS) as u64
    );
    assert!(successes > 0);
    let count = get(&db, T, key("counter", "1")).expect("counter")["v"].clone();
    assert_eq!(
        count,
        AttributeValue::number(successes as i64),
        "every successful increment counted once"
    );
}

#[test]
fn concurrent_unconditional_adds_all_land() {
    let db = table();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..100 {
                    db.update_item(UpdateItemInput::new(
                        T,
                        key("counter", "1"),
                        Update::new().add("v", AttributeValue::number(1)),
                    ))
                    .expect("add");
                }
            });
        }
    });
    assert_eq!(
        get(&db, T, key("counter", "1")).expect("counter")["v"],
        AttributeValue::number(800)
    );
}

/// Moves value between accounts spread over `tables` with transactions on several threads,
/// while other threads read all accounts with `TransactGetItems` and check the total.
fn transfers_keep_the_total(tables: &[&str]) {
    let db = db();
    for table in tables {
        pk_table(&db, table);
    }
    const ACCOUNTS: usize = 8;
    const START: i64 = 100;
    let account = |i: usize| {
        (
            tables[i % tables.len()],
            attrs([("pk", s(&format!("acct{i}")))]),
        )
    };
    for i in 0..ACCOUNTS {
        let (table, k) = account(i);
        let mut it = k.clone();
        it.insert("balance".into(), AttributeValue::number(START));
        put(&db, table, it);
    }
    let total = START * ACCOUNTS as i64;
    let done = AtomicBool::new(false);
    let committed = AtomicU64::new(0);
    let reads = AtomicU64::new(0);
    let db = Arc::new(db);
    std::thread::scope(|scope| {
        let mut writers = Vec::new();
        for seed in 0..4u64 {
            let (db, committed) = (&db, &committed);
            writers.push(scope.spawn(move || {
                let mut rng = Lcg(seed + 1);
                for _ in 0..1000 {
                    let from = rng.below(ACCOUNTS as u64) as usize;
                    // An odd distance: with two tables, every transfer crosses them.
                    let to = (from + 1 + 2 * rng.below(ACCOUNTS as u64 / 2) as usize) % ACCOUNTS;
                    let amount = AttributeValue::number(1 + rng.below(30) as i64);
                    let (from_table, from_key) = account(from);
                    let (to_table, to_key) = account(to);
                    let result = db.transact_write_items(transact(vec![
                        TransactWriteItem::Update(
                            UpdateItemInput::new(
                                from_table,
                                from_key,
                                Update::new().set_expr(
                                    "balance",
                                    SetValue::minus(Path::attr("balance"), amount.clone()),
                                ),
                            )
                            .condition(Condition::ge("balance", amount.clone())),
                        ),
                        TransactWriteItem::Update(UpdateItemInput::new(
                            to_table,
                            to_key,
                            Update::new()
                                .set_expr("balance", SetValue::plus(Path::attr("balance"), amount)),
                        )),
                    ]));
                    match result {
                        Ok(_) => {
                            committed.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(Error::TransactionCanceled { reasons }) => {
                            assert_eq!(codes(&reasons), ["ConditionalCheckFailed", "None"]);
                        }
                        Err(e) => panic!("unexpected error {e}"),
                    }
                }
            }));
        }
        for _ in 0..3 {
            let (db, done, reads) = (&db, &done, &reads);
            scope.spawn(move || {
                let all: Vec<TransactGetItem> = (0..ACCOUNTS)
                    .map(|i| {
                        let (table, k) = account(i);
                        tget(table, k)
                    })
                    .collect();
                while !done.load(Ordering::SeqCst) {
                    let out = db
                        .transact_get_items(TransactGetItemsInput::new(all.clone()))
                        .expect("transact get");
                    let sum: i64 = out
                        .responses
                        .iter()
                        .map(|r| {
                            r.item.as_ref().expect("account")["balance"]
                                .as_n()
                                .expect("n")
                                .to_i64()
                                .expect("i64")
                        })
                        .sum();
                    assert_eq!(sum, total, "a transaction was seen half applied");
                    reads.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        for writer in writers {
            writer.join().expect("writer");
        }
        done.store(true, Ordering::SeqCst);
    });
    assert!(committed.load(Ordering::SeqCst) > 0);
    assert!(reads.load(Ordering::SeqCst) > 0);
    let mut balances = BTreeMap::new();
    for i in 0..ACCOUNTS {
        let (table, k) = account(i);
        let balance = get(&db, table, k).expect("account")["balance"]
            .as_n()
            .expect("n")
            .to_i64()
            .expect("i64");
        assert!(balance >= 0, "conditions keep balances non-negative");
        balances.insert(i, balance);
    }
    assert_eq!(balances.values().sum::<i64>(), total);
}

#[test]
fn concurrent_transactions_within_a_table_keep_the_total_seen_by_transact_get_items() {
    transfers_keep_the_total(&["Accounts"]);
}

#[test]
fn concurrent_transactions_across_tables_keep_the_total_seen_by_transact_get_items() {
    transfers_keep_the_total(&["Checking", "Savings"]);
}

#[test]
fn an_item_built_from_pairs_is_found_by_the_key_its_table_takes_of_it() {
    let db = db();
    let table = db
        .create_table(
            CreateTableInput::new(T)
                .hash_key("Artist", S)
                .range_key("Year", N)
                .pay_per_request(),
        )
        .expect("create");
    let song = Item::new()
        .with("Artist", "No One You Know")
        .with("Year", 2015)
        .with("Title", String::from("Call Me Today"))
        .with("Explicit", false);
    assert_eq!(
        song,
        item(
            json!({"Artist": {"S": "No One You Know"}, "Year": {"N": "2015"},
            "Title": {"S": "Call Me Today"}, "Explicit": {"BOOL": false}})
        )
    );
    put(&db, T, song.clone());
    let key = table.key_of(&song).expect("song has the key");
    assert_eq!(
        key,
        Item::from_pairs([("Artist", s("No One You Know")), ("Year", n("2015"))])
    );
    assert_eq!(get(&db, T, key), Some(song.clone()));
    // What a write of the item would be told.
    validation(
        table.key_of(&Item::from_pairs([("Artist", "x")])),
        "Missing the key Year in the item",
    );
    validation(
        table.key_of(&Item::from_pairs([("Artist", "x"), ("Year", "2015")])),
        "Type mismatch for key Year expected: N actual: S",
    );
    validation(
        table.key_of(&Item::new().with("Artist", "").with("Year", 1)),
        "cannot contain an empty string value",
    );
}

#[test]
fn a_string_in_a_condition_after_the_path_is_a_value_not_an_attribute() {
    let db = table();
    let song = key("a", "1")
        .with("Genre", "Rock")
        .with("Tags", ss(["live", "loud"]));
    put(&db, T, song);
    let update = |condition: Condition| {
        db.update_item(
            UpdateItemInput::new(T, key("a", "1"), Update::new().set("Plays", n("1")))
                .condition(condition),
        )
    };
    // Each would compare with a missing attribute `Rock`, `Ro`, `live` and fail, were a
    // string taken for a path.
    update(Condition::eq("Genre", "Rock")).expect("Genre = :rock holds");
    update(Condition::is_in("Genre", ["Jazz", "Rock"])).expect("IN holds");
    update(Condition::begins_with("Genre", "Ro")).expect("begins_with holds");
    update(Condition::contains("Tags", "live")).expect("contains holds");
    update(Condition::between("Genre", "Ra", "Rz")).expect("BETWEEN holds");
    assert!(condition_failed(update(Condition::ne("Genre", "Rock"))).is_none());
    // Two attributes are compared only when both are said to be paths.
    let genre = Operand::path("Genre");
    let same = Condition::compare(genre.clone(), Comparator::Eq, Operand::path("Rock"));
    assert!(condition_failed(update(same)).is_none());
    let literal = Condition::compare(genre, Comparator::Eq, Operand::value("Rock"));
    update(literal).expect("Genre = :rock holds");
}

#[test]
fn a_typed_function_may_test_a_literal_first_and_validation_still_guards_it() {
    let db = table();
    let song = key("a", "1").with("Genre", "Rock").with("Short", "Ro");
    put(&db, T, song);
    let update = |condition: Condition| {
        db.update_item(
            UpdateItemInput::new(T, key("a", "1"), Update::new().set("Plays", n("1")))
                .condition(condition),
        )
    };
    let (genre, short) = (Operand::path("Genre"), Operand::path("Short"));
    // The literal "Rock and roll" begins with Genre's value; Genre begins with Short's.
    let reversed = Condition::BeginsWith(Operand::value("Rock and roll"), genre.clone());
    update(reversed).expect("begins_with(:text, Genre) holds");
    update(Condition::BeginsWith(genre.clone(), short)).expect("begins_with(Genre, Short)");
    let set = Condition::Contains(Operand::value(ss(["Jazz", "Rock"])), genre.clone());
    update(set).expect("contains(:genres, Genre) holds");
    let typed = Condition::AttributeType(Operand::value(0), ValueType::N);
    update(typed).expect("attribute_type(:zero, N) holds");
    let wrong = Condition::BeginsWith(Operand::value(1), genre);
    validation(
        update(wrong),
        "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
    );
}

#[test]
fn a_key_condition_from_a_typed_condition_takes_begins_with_of_the_sort_key_first_only() {
    let pk = Condition::eq("pk", "p");
    let sort_first = pk.clone().and(Condition::begins_with("sk", "0"));
    let taken = KeyCondition::from_condition(&sort_first).expect("the sort key first");
    assert_eq!(
        taken.conditions[1],
        ("sk".to_owned(), SortKeyOp::BeginsWith(s("0")))
    );
    // A condition may take these; a key condition selects no key range by them.
    for other in [
        Condition::BeginsWith(Operand::value("0"), Operand::path("sk")),
        Condition::BeginsWith(Operand::path("sk"), Operand::path("pk")),
    ] {
        validation(
            KeyCondition::from_condition(&pk.clone().and(other)),
            "Query key condition not supported",
        );
    }
}
