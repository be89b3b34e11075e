//! `ReturnConsumedCapacity`: the units each item operation reports, by DynamoDB's rules
//! (developer guide, "Item sizes and capacity unit consumption" and the index throughput
//! sections), item sizes at the 1 KB and 4 KB boundaries, and the index ladder measured
//! against DynamoDB: which writes cost an index, and how much.
//!
//! Items are built to an exact DynamoDB size ([`sized`]); each expectation is written out as
//! the JSON DynamoDB sends, so the shape (which members appear) is checked with the units.

mod behaviour;

use behaviour::*;
use serde_json::{json, Value};
use tidestore::ScalarAttributeType::{N, S};
use tidestore::*;

use ReturnConsumedCapacity::{Indexes, Total};

const T: &str = "Songs";

/// An item of exactly `size` bytes as DynamoDB counts them: its key `pk`/`sk` and a `fill`.
fn sized(pk: &str, sk: &str, size: usize) -> Item {
    let base = "pk".len() + pk.len() + "sk".len() + sk.len() + "fill".len();
    let item = attrs([
        ("pk", s(pk)),
        ("sk", s(sk)),
        ("fill", s(&"x".repeat(size - base))),
    ]);
    assert_eq!(item_size(&item), size);
    item
}

/// A report as the JSON DynamoDB sends.
fn wire(consumed: &impl serde::Serialize) -> Value {
    serde_json::to_value(consumed).expect("serializes")
}

/// The units of a TOTAL report on `T`, which must have nothing but its table and total.
#[track_caller]
fn total(consumed: Option<ConsumedCapacity>) -> f64 {
    let consumed = wire(&consumed.expect("a ConsumedCapacity"));
    let units = consumed["CapacityUnits"].as_f64().expect("CapacityUnits");
    assert_eq!(consumed, json!({"TableName": T, "CapacityUnits": units}));
    units
}

fn put(db: &Database, item: Item) -> PutItemOutput {
    db.put_item(PutItemInput::new(T, item).return_consumed_capacity(Total))
        .expect("put")
}

fn get(db: &Database, pk: &str, consistent: bool) -> GetItemOutput {
    let input = GetItemInput::new(T, key(pk, "s"))
        .consistent_read(consistent)
        .return_consumed_capacity(Total);
    db.get_item(input).expect("get")
}

// ---- Single-item writes: 1 KB units of the larger of the old and new item. ----

#[test]
fn a_put_costs_one_write_unit_per_started_kilobyte() {
    let db = db();
    pk_sk_table(&db, T);
    for (size, units) in [(1024, 1.0), (1025, 2.0), (2048, 2.0), (2049, 3.0)] {
        let item = sized(&format!("p{size}"), "s", size);
        assert_eq!(total(put(&db, item).consumed_capacity), units, "{size} B");
    }
}

#[test]
fn a_put_over_a_larger_item_costs_the_larger_one() {
    let db = db();
    pk_sk_table(&db, T);
    assert_eq!(
        total(put(&db, sized("a", "s", 2049)).consumed_capacity),
        3.0
    );
    assert_eq!(total(put(&db, sized("a", "s", 500)).consumed_capacity), 3.0);
    assert_eq!(total(put(&db, sized("a", "s", 500)).consumed_capacity), 1.0);
}

#[test]
fn an_update_costs_the_larger_of_the_item_before_and_after() {
    let db = db();
    pk_sk_table(&db, T);
    put(&db, sized("a", "s", 500));
    // The item becomes `size` bytes.
    let resize = |size: usize| {
        let pad = sized("a", "s", size)["fill"].clone();
        let input = UpdateItemInput::for_key(T, key("a", "s"))
            .update_expression("SET fill = :v")
            .expression_attribute_values(attrs([(":v", pad)]))
            .return_consumed_capacity(Total);
        db.update_item(input).expect("update").consumed_capacity
    };
    // 500 B grown to 2,049 B: three units, for the item after.
    assert_eq!(total(resize(2049)), 3.0);
    // Shrunk back: still three, for the item before.
    assert_eq!(total(resize(500)), 3.0);
    assert_eq!(total(resize(500)), 1.0);
    // An update of a missing item costs one unit, whether it creates the item or not.
    let missing = |expression: &str| {
        let input = UpdateItemInput::for_key(T, key("missing", "s"))
            .update_expression(expression)
            .return_consumed_capacity(Total);
        db.update_item(input).expect("update").consumed_capacity
    };
    assert_eq!(total(missing("REMOVE fill")), 1.0);
    assert_eq!(total(missing("SET fill = sk")), 1.0);
}

#[test]
fn a_delete_costs_the_deleted_item_and_a_missing_one_costs_one_unit() {
    let db = db();
    pk_sk_table(&db, T);
    put(&db, sized("a", "s", 2049));
    let delete = |pk: &str| {
        let input = DeleteItemInput::new(T, key(pk, "s")).return_consumed_capacity(Total);
        db.delete_item(input).expect("delete").consumed_capacity
    };
    assert_eq!(total(delete("a")), 3.0);
    assert_eq!(total(delete("a")), 1.0);
}

// ---- Reads: 4 KB units, half for an eventually consistent read. ----

#[test]
fn a_get_costs_one_read_unit_per_started_4_kb_and_half_when_eventually_consistent() {
    let db = db();
    pk_sk_table(&db, T);
    put(&db, sized("4096", "s", 4096));
    put(&db, sized("4097", "s", 4097));
    assert_eq!(total(get(&db, "4096", true).consumed_capacity), 1.0);
    assert_eq!(total(get(&db, "4097", true).consumed_capacity), 2.0);
    assert_eq!(total(get(&db, "4096", false).consumed_capacity), 0.5);
    assert_eq!(total(get(&db, "4097", false).consumed_capacity), 1.0);
    // A projection reads the whole item all the same.
    let projected = GetItemInput::new(T, key("4097", "s"))
        .projection_expression("pk")
        .consistent_read(true)
        .return_consumed_capacity(Total);
    let projected = db.get_item(projected).expect("get");
    assert_eq!(total(projected.consumed_capacity), 2.0);
}

#[test]
fn a_get_of_a_missing_item_still_costs_a_read() {
    let db = db();
    pk_sk_table(&db, T);
    assert_eq!(total(get(&db, "missing", true).consumed_capacity), 1.0);
    assert_eq!(total(get(&db, "missing", false).consumed_capacity), 0.5);
}

#[test]
fn a_query_sums_the_items_it_reads_and_rounds_up_once() {
    let db = db();
    pk_sk_table(&db, T);
    // 2,000 + 2,096 = 4,096 bytes: one unit, where two gets would cost two.
    put(&db, sized("q", "1", 2000));
    put(&db, sized("q", "2", 2096));
    let query = |change: fn(QueryInput) -> QueryInput| {
        let input = QueryInput::table(T)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(attrs([(":p", s("q"))]))
            .consistent_read(true)
            .return_consumed_capacity(Total);
        total(db.query(change(input)).expect("query").consumed_capacity)
    };
    assert_eq!(query(|q| q), 1.0);
    // Neither a filter, a projection nor a count changes what is read.
    let filtered = |q: QueryInput| {
        q.filter_expression("fill = :none")
            .expression_attribute_values(attrs([(":p", s("q")), (":none", s("none"))]))
    };
    assert_eq!(query(filtered), 1.0);
    assert_eq!(query(|q| q.projection_expression("sk")), 1.0);
    assert_eq!(query(|q| q.select(Select::Count)), 1.0);
    assert_eq!(query(|q| q.consistent_read(false)), 0.5);
    // One byte more is a second unit.
    put(&db, sized("q", "3", 15));
    assert_eq!(query(|q| q), 2.0);
    // A limit reads fewer items.
    assert_eq!(query(|q| q.limit(1)), 1.0);
    // Reading nothing still costs a read.
    let empty =
        QueryInput::new(T, KeyCondition::partition("pk", "nobody")).return_consumed_capacity(Total);
    assert_eq!(
        total(db.query(empty).expect("query").consumed_capacity),
        0.5
    );
}

#[test]
fn a_scan_sums_the_items_it_evaluates_before_the_filter() {
    let db = db();
    pk_sk_table(&db, T);
    put(&db, sized("a", "s", 1000));
    put(&db, sized("b", "s", 3096));
    let scan = |filtered: bool| {
        let mut input = ScanInput::new(T)
            .consistent_read(true)
            .return_consumed_capacity(Total);
        if filtered {
            input = input
                .filter_expression("pk = :p")
                .expression_attribute_values(attrs([(":p", s("a"))]));
        }
        let page = db.scan(input).expect("scan");
        (page.count, total(page.consumed_capacity))
    };
    assert_eq!(scan(false), (2, 1.0));
    assert_eq!(scan(true), (1, 1.0));
    put(&db, sized("c", "s", 15));
    assert_eq!(scan(true), (1, 2.0));
}

// ---- Batches: each item rounded on its own, summed per table. ----

#[test]
fn a_batch_get_rounds_each_item_and_reports_each_table_with_its_consistency() {
    let db = db();
    pk_sk_table(&db, "Strong");
    pk_sk_table(&db, "Eventual");
    let put_in = |table: &str, item: Item| {
        db.put_item(PutItemInput::new(table, item)).expect("put");
    };
    // 1.5 KB and 6.5 KB: 4 KB + 8 KB, three units (not 8 KB, two).
    put_in("Strong", sized("a", "s", 1536));
    put_in("Strong", sized("b", "s", 6656));
    put_in("Eventual", sized("a", "s", 4097));
    let strong = KeysAndAttributes::new(vec![key("a", "s"), key("b", "s"), key("none", "s")])
        .consistent_read(true);
    let eventual = KeysAndAttributes::new(vec![key("a", "s"), key("none", "s")]);
    let input = BatchGetItemInput::new()
        .table("Strong", strong)
        .table("Eventual", eventual)
        .return_consumed_capacity(Total);
    let out = db.batch_get_item(input).expect("batch get");
    assert_eq!(
        wire(&out.consumed_capacity),
        json!([
            {"TableName": "Eventual", "CapacityUnits": 1.5},
            {"TableName": "Strong", "CapacityUnits": 4.0},
        ])
    );
}

#[test]
fn a_batch_write_rounds_each_request_and_reports_each_table() {
    let db = db();
    pk_sk_table(&db, "Alpha");
    pk_sk_table(&db, "Beta");
    db.put_item(PutItemInput::new("Beta", sized("big", "s", 2049)))
        .expect("put");
    // 500 B and 3.5 KB: 1 KB + 4 KB, five units (not four).
    let input = BatchWriteItemInput::new()
        .put("Alpha", sized("a", "s", 500))
        .put("Alpha", sized("b", "s", 3584))
        .delete("Beta", key("big", "s"))
        .delete("Beta", key("none", "s"))
        .return_consumed_capacity(Total);
    let out = db.batch_write_item(input).expect("batch write");
    assert_eq!(
        wire(&out.consumed_capacity),
        json!([
            {"TableName": "Alpha", "CapacityUnits": 5.0},
            {"TableName": "Beta", "CapacityUnits": 4.0},
        ])
    );
}

// ---- Transactions: twice the units, split into read or write units. ----

#[test]
fn a_transaction_writes_each_item_twice_and_reports_write_units() {
    let db = db();
    pk_sk_table(&db, T);
    pk_sk_table(&db, "Checked");
    put(&db, sized("grow", "s", 500));
    db.put_item(PutItemInput::new("Checked", key("c", "s")))
        .expect("put");
    let grow = UpdateItemInput::for_key(T, key("grow", "s"))
        .update_expression("SET fill = :v")
        .expression_attribute_values(attrs([(":v", s(&"x".repeat(1500)))]));
    let check = ConditionCheckInput::new("Checked", key("c", "s"))
        .condition_expression("attribute_exists(pk)");
    let input = TransactWriteItemsInput::new(vec![
        TransactWriteItem::Put(PutItemInput::new(T, sized("new", "s", 500))),
        TransactWriteItem::Update(grow),
        TransactWriteItem::Delete(DeleteItemInput::new(T, key("none", "s"))),
        TransactWriteItem::ConditionCheck(check),
    ])
    .return_consumed_capacity(Total);
    let out = db.transact_write_items(input).expect("transaction");
    // On Songs: a put (1), an update to 1,512 B (2) and a delete of nothing (1), twice.
    // A condition check costs as a write of its item.
    assert_eq!(
        wire(&out.consumed_capacity),
        json!([
            {"TableName": "Checked", "CapacityUnits": 2.0, "WriteCapacityUnits": 2.0},
            {"TableName": T, "CapacityUnits": 8.0, "WriteCapacityUnits": 8.0},
        ])
    );
}

#[test]
fn a_transactional_get_reads_each_item_twice_and_reports_read_units() {
    let db = db();
    pk_sk_table(&db, T);
    put(&db, sized("big", "s", 4097));
    let input = TransactGetItemsInput::new(vec![
        TransactGetItem::new(T, key("big", "s")),
        TransactGetItem::new(T, key("none", "s")),
    ])
    .return_consumed_capacity(Indexes);
    let out = db.transact_get_items(input).expect("transaction");
    // 4,097 B (2) and a missing item (1), twice.
    assert_eq!(
        wire(&out.consumed_capacity),
        json!([{
            "TableName": T,
            "CapacityUnits": 6.0,
            "ReadCapacityUnits": 6.0,
            "Table": {"CapacityUnits": 6.0, "ReadCapacityUnits": 6.0},
        }])
    );
}

// ---- Indexes: what a write costs each index, and where a read is charged. ----

/// A table with an INCLUDE(proj) global index on `gsiPk` and an ALL local index on `lsiSk`.
fn indexed() -> Database {
    let db = db();
    db.create_table(
        CreateTableInput::new(T)
            .hash_key("pk", S)
            .range_key("sk", S)
            .pay_per_request()
            .global_index("gsi-inc", ("gsiPk", S), None, Projection::include(["proj"]))
            .local_index("lsi1", "lsiSk", S, Projection::all()),
    )
    .expect("create");
    db
}

/// The item `pk` with these attributes besides its key.
fn with(pk: &str, attributes: &[(&str, &str)]) -> Item {
    let mut item = key(pk, "1");
    for (name, value) in attributes {
        item.insert(name.to_string(), s(value));
    }
    item
}

/// An INDEXES report on `T`: the total, the table's part, and each index charged.
fn parts(table: f64, gsi: Option<f64>, lsi: Option<f64>) -> Value {
    let mut expected = json!({
        "TableName": T,
        "CapacityUnits": table + gsi.unwrap_or(0.0) + lsi.unwrap_or(0.0),
        "Table": {"CapacityUnits": table},
    });
    if let Some(units) = gsi {
        expected["GlobalSecondaryIndexes"] = json!({"gsi-inc": {"CapacityUnits": units}});
    }
    if let Some(units) = lsi {
        expected["LocalSecondaryIndexes"] = json!({"lsi1": {"CapacityUnits": units}});
    }
    expected
}

fn put_indexes(db: &Database, item: Item) -> Value {
    let input = PutItemInput::new(T, item).return_consumed_capacity(Indexes);
    wire(&db.put_item(input).expect("put").consumed_capacity)
}

#[test]
fn a_put_costs_each_index_it_enters_and_nothing_for_an_index_it_misses() {
    let db = indexed();
    let gsi = with("a", &[("gsiPk", "g"), ("proj", "p")]);
    assert_eq!(put_indexes(&db, gsi), parts(1.0, Some(1.0), None));
    let sparse = with("b", &[("spare", "o")]);
    assert_eq!(put_indexes(&db, sparse), parts(1.0, None, None));
    let lsi = with("c", &[("lsiSk", "L")]);
    assert_eq!(put_indexes(&db, lsi), parts(1.0, None, Some(1.0)));
    let both = with("d", &[("gsiPk", "g"), ("lsiSk", "L"), ("proj", "p")]);
    assert_eq!(
        put_indexes(&db, both.clone()),
        parts(1.0, Some(1.0), Some(1.0))
    );
    // The same item again changes no index entry: only the table write.
    assert_eq!(put_indexes(&db, both), parts(1.0, None, None));
    // TOTAL folds the index writes into the total, without parts.
    let input = PutItemInput::new(T, with("e", &[("gsiPk", "g"), ("lsiSk", "L")]))
        .return_consumed_capacity(Total);
    assert_eq!(
        total(db.put_item(input).expect("put").consumed_capacity),
        3.0
    );
}

#[test]
fn an_index_write_costs_one_unit_per_started_kilobyte_of_the_entry() {
    let db = indexed();
    // A 1,500 B item with its local index key: the ALL index holds all 1,500 bytes.
    let mut big = sized("big", "1", 1500 - "lsiSk".len() - 1);
    big.insert("lsiSk".into(), s("L"));
    assert_eq!(put_indexes(&db, big), parts(2.0, None, Some(2.0)));
}

#[test]
fn an_update_costs_an_index_what_it_changes_in_the_index() {
    let db = indexed();
    let update = |pk: &str, expression: &str| {
        let seed = [
            ("gsiPk", "g"),
            ("lsiSk", "L1"),
            ("proj", "p"),
            ("spare", "o"),
        ];
        db.put_item(PutItemInput::new(T, with(pk, &seed)))
            .expect("seed");
        let input = UpdateItemInput::for_key(T, key(pk, "1"))
            .update_expression(expression)
            .return_consumed_capacity(Indexes);
        wire(&db.update_item(input).expect("update").consumed_capacity)
    };
    // Not projected into the global index; the ALL local index holds every attribute.
    let other = update("a", "SET spare = pk");
    assert_eq!(other, parts(1.0, None, Some(1.0)));
    // A projected attribute: one write of the entry in place.
    let projected = update("b", "SET proj = pk");
    assert_eq!(projected, parts(1.0, Some(1.0), Some(1.0)));
    // A new index key: a delete of the old entry and a put of the new one.
    let moved = update("c", "SET gsiPk = pk");
    assert_eq!(moved, parts(1.0, Some(2.0), Some(1.0)));
    // The index key removed: a delete.
    let removed = update("d", "REMOVE gsiPk");
    assert_eq!(removed, parts(1.0, Some(1.0), Some(1.0)));
    // The same on the local index, whose key the global index does not project.
    let local = update("e", "SET lsiSk = pk");
    assert_eq!(local, parts(1.0, None, Some(2.0)));
}

#[test]
fn a_delete_costs_each_index_the_item_was_in() {
    let db = indexed();
    let delete = |pk: &str| {
        let input = DeleteItemInput::new(T, key(pk, "1")).return_consumed_capacity(Indexes);
        wire(&db.delete_item(input).expect("delete").consumed_capacity)
    };
    let both = with("a", &[("gsiPk", "g"), ("lsiSk", "L"), ("proj", "p")]);
    db.put_item(PutItemInput::new(T, both)).expect("put");
    assert_eq!(delete("a"), parts(1.0, Some(1.0), Some(1.0)));
    db.put_item(PutItemInput::new(T, with("b", &[("spare", "o")])))
        .expect("put");
    assert_eq!(delete("b"), parts(1.0, None, None));
}

#[test]
fn a_batch_write_reports_the_indexes_its_writes_touched() {
    let db = indexed();
    let input = BatchWriteItemInput::new()
        .put(T, with("a", &[("gsiPk", "g"), ("proj", "p")]))
        .put(T, with("b", &[("spare", "o")]))
        .return_consumed_capacity(Indexes);
    let out = db.batch_write_item(input).expect("batch write");
    assert_eq!(
        wire(&out.consumed_capacity),
        json!([parts(2.0, Some(1.0), None)])
    );
}

#[test]
fn a_transaction_writes_the_indexes_twice_too() {
    let db = indexed();
    let put = PutItemInput::new(T, with("a", &[("gsiPk", "g"), ("proj", "p")]));
    let input = TransactWriteItemsInput::new(vec![TransactWriteItem::Put(put)])
        .return_consumed_capacity(Indexes);
    let out = db.transact_write_items(input).expect("transaction");
    let write = |units: f64| json!({"CapacityUnits": units, "WriteCapacityUnits": units});
    assert_eq!(
        wire(&out.consumed_capacity),
        json!([{
            "TableName": T,
            "CapacityUnits": 4.0,
            "WriteCapacityUnits": 4.0,
            "Table": write(2.0),
            "GlobalSecondaryIndexes": {"gsi-inc": write(2.0)},
        }])
    );
}

#[test]
fn a_query_of_an_index_is_charged_to_the_index_and_a_table_query_to_the_table() {
    let db = indexed();
    let item = with("a", &[("gsiPk", "g"), ("lsiSk", "L"), ("proj", "p")]);
    db.put_item(PutItemInput::new(T, item)).expect("put");
    let query = |index: Option<&str>, condition: &str, consistent: bool| {
        let mut input = QueryInput::table(T)
            .key_condition_expression(condition)
            .expression_attribute_values(attrs([(
                ":v",
                s(if index == Some("gsi-inc") { "g" } else { "a" }),
            )]))
            .consistent_read(consistent)
            .return_consumed_capacity(Indexes);
        if let Some(index) = index {
            input = input.index_name(index);
        }
        wire(&db.query(input).expect("query").consumed_capacity)
    };
    // A global index is read eventually consistently: half a unit.
    assert_eq!(
        query(Some("gsi-inc"), "gsiPk = :v", false),
        json!({
            "TableName": T,
            "CapacityUnits": 0.5,
            "Table": {"CapacityUnits": 0.0},
            "GlobalSecondaryIndexes": {"gsi-inc": {"CapacityUnits": 0.5}},
        })
    );
    assert_eq!(
        query(Some("lsi1"), "pk = :v", true),
        json!({
            "TableName": T,
            "CapacityUnits": 1.0,
            "Table": {"CapacityUnits": 0.0},
            "LocalSecondaryIndexes": {"lsi1": {"CapacityUnits": 1.0}},
        })
    );
    assert_eq!(query(None, "pk = :v", true), parts(1.0, None, None));
}

#[test]
fn a_local_index_query_that_fetches_from_the_table_pays_a_read_per_item_fetched() {
    let db = db();
    db.create_table(
        CreateTableInput::new(T)
            .hash_key("pk", S)
            .range_key("sk", S)
            .pay_per_request()
            .local_index("by-rank", "rank", N, Projection::keys_only()),
    )
    .expect("create");
    for (sk, rank) in [("1", 1), ("2", 2), ("3", 3)] {
        let mut item = sized("a", sk, 3000);
        item.insert("rank".into(), AttributeValue::number(rank));
        db.put_item(PutItemInput::new(T, item)).expect("put");
    }
    let query = |select: Select, consistent: bool| {
        let input = QueryInput::new(T, KeyCondition::partition("pk", "a"))
            .index_name("by-rank")
            .select(select)
            .consistent_read(consistent)
            .return_consumed_capacity(Indexes);
        wire(&db.query(input).expect("query").consumed_capacity)
    };
    let charged = |table: f64, index: f64| {
        json!({
            "TableName": T,
            "CapacityUnits": table + index,
            "Table": {"CapacityUnits": table},
            "LocalSecondaryIndexes": {"by-rank": {"CapacityUnits": index}},
        })
    };
    // The keys-only entries are read at their own size, one unit for all three.
    assert_eq!(
        query(Select::AllProjectedAttributes, true),
        charged(0.0, 1.0)
    );
    // Every attribute: each 3,000 B item is fetched from the table, a unit each.
    assert_eq!(query(Select::AllAttributes, true), charged(3.0, 1.0));
    assert_eq!(query(Select::AllAttributes, false), charged(1.5, 0.5));
}

// ---- What is reported, and when. ----

#[test]
fn nothing_is_reported_unless_asked_for() {
    let db = db();
    pk_sk_table(&db, T);
    let out = db
        .put_item(PutItemInput::new(T, key("a", "s")))
        .expect("put");
    assert_eq!(out.consumed_capacity, None);
    assert_eq!(wire(&out), json!({}));
    let out = db
        .query(QueryInput::new(T, KeyCondition::partition("pk", "a")))
        .expect("query");
    assert_eq!(out.consumed_capacity, None);
    let batch = BatchWriteItemInput::new().put(T, key("b", "s"));
    let out = db.batch_write_item(batch).expect("batch write");
    assert_eq!(wire(&out), json!({"UnprocessedItems": {}}));
}

#[test]
fn the_report_names_the_table_as_the_request_did_and_ignores_the_billing_mode() {
    let db = db();
    db.create_table(
        CreateTableInput::new(T)
            .hash_key("pk", S)
            .range_key("sk", S)
            .provisioned(5, 5),
    )
    .expect("create");
    let arn = db.describe_table(T).expect("describe").table_arn;
    let input =
        PutItemInput::new(arn.as_str(), sized("a", "s", 1025)).return_consumed_capacity(Total);
    let out = db.put_item(input).expect("put");
    assert_eq!(
        wire(&out.consumed_capacity),
        json!({"TableName": arn, "CapacityUnits": 2.0})
    );
}
