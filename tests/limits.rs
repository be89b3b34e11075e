//! Behaviour tests of DynamoDB's limits, each at the limit and one past it: item size, key
//! sizes, attribute name length, nesting depth, batch and transaction sizes, `ListTables`
//! `Limit`, scan segments, `IN` operands, and the 1 MB page of `Query` and `Scan`.

mod behaviour;

use std::collections::BTreeSet;

use behaviour::*;
use tidestore::*;

const T: &str = "Limits";

fn table() -> Database {
    let db = db();
    pk_sk_table(&db, T);
    db
}

/// `key(pk, sk)` plus an attribute `name` holding a string that brings the item to exactly
/// `size` bytes.
fn sized(pk: &str, sk: &str, name: &str, size: usize) -> Item {
    let mut it = key(pk, sk);
    let base = item_size(&it) + name.len();
    it.insert(name.into(), s(&"x".repeat(size - base)));
    assert_eq!(item_size(&it), size);
    it
}

// ---------------------------------------------------------------------------------------------
// Item size
// ---------------------------------------------------------------------------------------------

#[test]
fn item_of_exactly_400_kb_is_accepted_and_one_byte_more_is_rejected() {
    let db = table();
    assert_eq!(MAX_ITEM_SIZE, 409_600);
    let at_limit = sized("a", "1", "d", MAX_ITEM_SIZE);
    put(&db, T, at_limit.clone());
    assert_eq!(get(&db, T, key("a", "1")), Some(at_limit));
    validation(
        db.put_item(PutItemInput::new(
            T,
            sized("a", "2", "d", MAX_ITEM_SIZE + 1),
        )),
        "Item size has exceeded",
    );
    assert_eq!(get(&db, T, key("a", "2")), None);
}

#[test]
fn attribute_names_count_toward_the_item_size() {
    let db = table();
    let long_name = "n".repeat(60_000);
    let at_limit = sized("a", "1", &long_name, MAX_ITEM_SIZE);
    put(&db, T, at_limit);
    let over = sized("a", "2", &long_name, MAX_ITEM_SIZE + 1);
    validation(
        db.put_item(PutItemInput::new(T, over)),
        "Item size has exceeded",
    );
    // The same value under a one-byte name fits.
    let value = "x".repeat(MAX_ITEM_SIZE + 1 - item_size(&key("a", "3")) - long_name.len());
    let mut short = key("a", "3");
    short.insert("n".into(), s(&value));
    put(&db, T, short);
}

#[test]
fn nested_values_count_their_names_and_elements() {
    let db = table();
    // A map adds 3 bytes, plus per entry 1 byte, its name and its value.
    let mut it = key("a", "1");
    let fixed = item_size(&it) + "m".len() + 3 + 1 + "inner".len();
    let mut inner = Item::new();
    inner.insert("inner".into(), s(&"y".repeat(MAX_ITEM_SIZE - fixed)));
    it.insert("m".into(), AttributeValue::M(inner.clone()));
    assert_eq!(item_size(&it), MAX_ITEM_SIZE);
    put(&db, T, it.clone());
    inner.insert("inner".into(), s(&"y".repeat(MAX_ITEM_SIZE - fixed + 1)));
    it.insert("m".into(), AttributeValue::M(inner));
    validation(
        db.put_item(PutItemInput::new(T, it)),
        "Item size has exceeded",
    );
}

#[test]
fn update_that_grows_an_item_past_400_kb_is_rejected() {
    let db = table();
    put(&db, T, sized("a", "1", "d", MAX_ITEM_SIZE - 1));
    // "e" with an empty string adds exactly one byte: the item reaches the limit.
    db.update_item(UpdateItemInput::new(
        T,
        key("a", "1"),
        Update::new().set("e", s("")),
    ))
    .expect("update to exactly 400 KB");
    validation(
        db.update_item(UpdateItemInput::new(
            T,
            key("a", "1"),
            Update::new().set("f", s("")),
        )),
        "Item size",
    );
    let stored = get(&db, T, key("a", "1")).expect("item");
    assert_eq!(item_size(&stored), MAX_ITEM_SIZE);
    assert!(!stored.contains_key("f"));
}

#[test]
fn oversized_items_are_rejected_in_batches_and_transactions() {
    let db = table();
    let over = sized("a", "1", "d", MAX_ITEM_SIZE + 1);
    let mut batch = BatchWriteItemInput::default();
    batch.request_items.insert(
        T.into(),
        vec![
            WriteRequest::Put {
                item: key("ok", "1"),
            },
            WriteRequest::Put { item: over.clone() },
        ],
    );
    validation(db.batch_write_item(batch), "Item size has exceeded");
    let transaction = TransactWriteItemsInput::new(vec![
        TransactWriteItem::Put(PutItemInput::new(T, key("ok", "1"))),
        TransactWriteItem::Put(PutItemInput::new(T, over)),
    ]);
    validation(
        db.transact_write_items(transaction),
        "Item size has exceeded",
    );
    assert_eq!(get(&db, T, key("ok", "1")), None);
}

#[test]
fn attribute_names_of_65535_bytes_are_accepted_and_65536_rejected() {
    let db = table();
    let mut at_limit = key("a", "1");
    at_limit.insert("n".repeat(65_535), s("v"));
    put(&db, T, at_limit);
    let mut over = key("a", "2");
    over.insert("n".repeat(65_536), s("v"));
    validation(
        db.put_item(PutItemInput::new(T, over)),
        "Attribute name is too large, must be less than 65536 bytes",
    );
}

#[test]
fn conditions_nested_149_levels_deep_within_300_operators_are_evaluated() {
    let db = table();
    let mut item = key("a", "1");
    item.insert("x".into(), n("1"));
    item.insert("y".into(), n("2"));
    put(&db, T, item);
    // `x<y OR (x<y OR (…))`: each level adds two operators, so 149 levels make 299, within
    // DynamoDB's 300; one level more is refused for its operators, not its depth.
    let nested = |depth: usize| format!("x<y{}{}", " OR (x<y".repeat(depth), ")".repeat(depth));
    validation(
        db.delete_item(DeleteItemInput::new(T, key("a", "1")).condition_expression(nested(150))),
        "too many operators",
    );
    db.delete_item(DeleteItemInput::new(T, key("a", "1")).condition_expression(nested(149)))
        .expect("149 levels");
    assert_eq!(get(&db, T, key("a", "1")), None);
}

#[test]
fn attribute_names_over_65535_bytes_are_refused_in_projections_and_conditions_too() {
    let db = table();
    put(&db, T, key("a", "1"));
    assert_eq!(MAX_ATTRIBUTE_NAME_BYTES, 65_535);
    let at_limit = "n".repeat(MAX_ATTRIBUTE_NAME_BYTES);
    let over = "n".repeat(MAX_ATTRIBUTE_NAME_BYTES + 1);
    let refused = "Attribute name is too large, must be less than 65536 bytes";
    let projected = |name: &str| {
        db.get_item(
            GetItemInput::new(T, key("a", "1"))
                .projection_expression("#n")
                .expression_attribute_name("#n", name),
        )
    };
    // The longest name may be projected; one byte more is invalid.
    projected(&at_limit).expect("a name at the limit");
    validation(projected(&over), refused);
    validation(
        db.get_item(GetItemInput::new(T, key("a", "1")).attributes_to_get(vec![over.clone()])),
        refused,
    );
    // A condition on it is refused, not evaluated as false.
    validation(
        db.delete_item(
            DeleteItemInput::new(T, key("a", "1"))
                .condition_expression("#n = :v")
                .expression_attribute_name("#n", over.as_str())
                .expression_attribute_value(":v", s("v")),
        ),
        refused,
    );
    assert!(get(&db, T, key("a", "1")).is_some());
}

// ---------------------------------------------------------------------------------------------
// Key sizes
// ---------------------------------------------------------------------------------------------

#[test]
fn partition_key_of_2048_bytes_is_accepted_and_2049_is_rejected() {
    let db = table();
    assert_eq!(MAX_PARTITION_KEY_SIZE, 2048);
    let at_limit = "p".repeat(2048);
    put(&db, T, key(&at_limit, "1"));
    assert!(get(&db, T, key(&at_limit, "1")).is_some());
    let found = db
        .query(QueryInput::new(
            T,
            KeyCondition::partition("pk", s(&at_limit)),
        ))
        .expect("query");
    assert_eq!(found.count, 1);
    let over = "p".repeat(2049);
    validation(
        db.put_item(PutItemInput::new(T, key(&over, "1"))),
        "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
    );
    validation(
        db.get_item(GetItemInput::new(T, key(&over, "1"))),
        "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
    );
    // Bytes, not characters: 1024 two-byte characters fit, 1025 do not.
    put(&db, T, key(&"é".repeat(1024), "1"));
    validation(
        db.put_item(PutItemInput::new(T, key(&"é".repeat(1025), "1"))),
        "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
    );
}

#[test]
fn sort_key_of_1024_bytes_is_accepted_and_1025_is_rejected() {
    let db = table();
    assert_eq!(MAX_SORT_KEY_SIZE, 1024);
    put(&db, T, key("a", &"s".repeat(1024)));
    validation(
        db.put_item(PutItemInput::new(T, key("a", &"s".repeat(1025)))),
        "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
    );
    validation(
        db.delete_item(DeleteItemInput::new(T, key("a", &"s".repeat(1025)))),
        "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
    );
}

#[test]
fn binary_keys_have_the_same_byte_limits() {
    let db = db();
    db.create_table(
        CreateTableInput::new("Bin")
            .hash_key("h", ScalarAttributeType::B)
            .range_key("r", ScalarAttributeType::B)
            .pay_per_request(),
    )
    .expect("create");
    let bin = |h: usize, r: usize| {
        attrs([
            ("h", AttributeValue::b(vec![7; h])),
            ("r", AttributeValue::b(vec![9; r])),
        ])
    };
    put(&db, "Bin", bin(2048, 1024));
    validation(
        db.put_item(PutItemInput::new("Bin", bin(2049, 1))),
        "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
    );
    validation(
        db.put_item(PutItemInput::new("Bin", bin(1, 1025))),
        "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
    );
}

#[test]
fn index_keys_have_the_same_byte_limits() {
    let db = db();
    db.create_table(
        CreateTableInput::new("Idx")
            .hash_key("pk", ScalarAttributeType::S)
            .pay_per_request()
            .global_index(
                "ByG",
                ("g", ScalarAttributeType::S),
                Some(("r", ScalarAttributeType::S)),
                Projection::keys_only(),
            ),
    )
    .expect("create");
    let with = |g: usize, r: usize| {
        attrs([
            ("pk", s("a")),
            ("g", s(&"g".repeat(g))),
            ("r", s(&"r".repeat(r))),
        ])
    };
    put(&db, "Idx", with(2048, 1024));
    validation(
        db.put_item(PutItemInput::new("Idx", with(2049, 1))),
        "One or more parameter values were invalid: Size limit exceeded for Index Key g Actual Size: 2049 bytes Max Size: 2048 bytes IndexName: ByG",
    );
    validation(
        db.put_item(PutItemInput::new("Idx", with(1, 1025))),
        "One or more parameter values were invalid: Size limit exceeded for Index Key r Actual Size: 1025 bytes Max Size: 1024 bytes IndexName: ByG",
    );
}

// ---------------------------------------------------------------------------------------------
// Nesting depth
// ---------------------------------------------------------------------------------------------

/// A value `wraps` lists or maps deep around a string leaf: with the attribute itself at level
/// 1, the leaf is at level `wraps + 1`.
fn nested(wraps: usize, map: bool) -> AttributeValue {
    (0..wraps).fold(s("leaf"), |inner, _| {
        if map {
            AttributeValue::M([("n".to_string(), inner)].into())
        } else {
            AttributeValue::L(vec![inner])
        }
    })
}

#[test]
fn values_nested_32_levels_are_accepted_and_33_rejected_in_dynamodbs_words() {
    let db = table();
    assert_eq!(MAX_NESTING_DEPTH, 32);
    for map in [false, true] {
        let mut ok = key("a", &format!("{map}"));
        ok.insert("d".into(), nested(31, map));
        put(&db, T, ok.clone());
        assert_eq!(get(&db, T, key("a", &format!("{map}"))), Some(ok));
        let mut deep = key("b", &format!("{map}"));
        deep.insert("d".into(), nested(32, map));
        let message = validation(db.put_item(PutItemInput::new(T, deep)), "Nesting Levels");
        // DynamoDB's own words, which Alternator's `test_exceed_nested_level_a_little`
        // matches ("nested") on AWS.
        assert_eq!(
            message,
            "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
        );
        validation(
            db.update_item(UpdateItemInput::new(
                T,
                key("a", "x"),
                Update::new().set("d", nested(32, map)),
            )),
            "Nesting Levels",
        );
        validation(
            db.put_item(
                PutItemInput::new(T, key("c", "1")).condition(Condition::ne("d", nested(32, map))),
            ),
            "Nesting Levels",
        );
    }
    // An update that nests an existing deep value one level deeper is rejected too.
    let mut base = key("e", "1");
    base.insert("d".into(), nested(31, false));
    put(&db, T, base);
    validation(
        db.update_item(UpdateItemInput::new(
            T,
            key("e", "1"),
            Update::new().set(
                "w",
                ValueExpr::list_append(
                    AttributeValue::L(vec![]),
                    AttributeValue::L(vec![nested(31, false)]),
                ),
            ),
        )),
        "Nesting Levels",
    );
}

// ---------------------------------------------------------------------------------------------
// Batches and transactions
// ---------------------------------------------------------------------------------------------

#[test]
fn batch_write_item_takes_25_requests_and_rejects_26() {
    let db = table();
    pk_table(&db, "Other");
    assert_eq!(MAX_BATCH_WRITE, 25);
    let batch =
        |count: usize| {
            let mut input = BatchWriteItemInput::default();
            for i in 0..count {
                // Split over two tables: the limit is on the whole request.
                if i % 2 == 0 {
                    input
                        .request_items
                        .entry(T.into())
                        .or_default()
                        .push(WriteRequest::Put {
                            item: key("a", &i.to_string()),
                        });
                } else {
                    input.request_items.entry("Other".into()).or_default().push(
                        WriteRequest::Put {
                            item: attrs([("pk", s(&i.to_string()))]),
                        },
                    );
                }
            }
            input
        };
    validation(
        db.batch_write_item(batch(26)),
        "Too many items requested for the BatchWriteItem call",
    );
    assert_eq!(
        db.scan(ScanInput::new(T)).expect("scan").count,
        0,
        "nothing of the rejected batch"
    );
    db.batch_write_item(batch(25)).expect("25 requests");
    let written = db.scan(ScanInput::new(T)).expect("scan").count
        + db.scan(ScanInput::new("Other")).expect("scan").count;
    assert_eq!(written, 25);
}

#[test]
fn batch_write_item_refuses_a_table_list_of_none_or_over_25_requests_by_its_length() {
    let db = table();
    let one_table = |count: usize| {
        let mut input = BatchWriteItemInput::default();
        input.request_items.insert(
            T.into(),
            (0..count)
                .map(|i| WriteRequest::Put {
                    item: key("a", &i.to_string()),
                })
                .collect(),
        );
        input
    };
    // The API model's bound on one table's list, in the words DynamoDB gives a broken
    // model constraint: checked before the request's total.
    let bound = "Value at 'requestItems' failed to satisfy constraint: Map value must satisfy \
                 constraint: [Member must have length less than or equal to 25, Member must \
                 have length greater than or equal to 1]";
    validation(db.batch_write_item(one_table(26)), bound);
    validation(db.batch_write_item(one_table(105)), bound);
    validation(db.batch_write_item(one_table(0)), bound);
    assert_eq!(
        db.scan(ScanInput::new(T)).expect("scan").count,
        0,
        "nothing of the rejected batches"
    );
    db.batch_write_item(one_table(25))
        .expect("25 requests for one table");
    assert_eq!(db.scan(ScanInput::new(T)).expect("scan").count, 25);
}

#[test]
fn batch_write_item_of_25_maximum_size_items_is_accepted() {
    // 25 items of 400 KB are 10,240,000 bytes: DynamoDB's 16 MB request limit cannot be
    // reached by a batch of valid items, so a full batch of the largest items must succeed.
    let db = table();
    let mut input = BatchWriteItemInput::default();
    input.request_items.insert(
        T.into(),
        (0..25)
            .map(|i| WriteRequest::Put {
                item: sized("a", &format!("{i:02}"), "d", MAX_ITEM_SIZE),
            })
            .collect(),
    );
    db.batch_write_item(input).expect("10 MB batch");
    let described = db.describe_table(T).expect("describe");
    assert_eq!(described.item_count, 25);
    assert_eq!(described.table_size_bytes, 25 * MAX_ITEM_SIZE as u64);
}

#[test]
fn batch_get_item_takes_100_keys_and_rejects_101() {
    let db = table();
    pk_table(&db, "Other");
    assert_eq!(MAX_BATCH_GET, 100);
    for i in 0..60 {
        put(&db, T, key("a", &i.to_string()));
        put(&db, "Other", attrs([("pk", s(&i.to_string()))]));
    }
    let request = |mine: usize, other: usize| {
        let mut input = BatchGetItemInput::default();
        input.request_items.insert(
            T.into(),
            KeysAndAttributes::new((0..mine).map(|i| key("a", &i.to_string())).collect()),
        );
        input.request_items.insert(
            "Other".into(),
            KeysAndAttributes::new(
                (0..other)
                    .map(|i| attrs([("pk", s(&i.to_string()))]))
                    .collect(),
            ),
        );
        input
    };
    let out = db.batch_get_item(request(50, 50)).expect("100 keys");
    assert_eq!(out.responses[T].len() + out.responses["Other"].len(), 100);
    validation(db.batch_get_item(request(51, 50)), "BatchGetItem");
}

/// DynamoDB answers at most 16 MB per BatchGetItem; the keys past that come back in
/// `UnprocessedKeys`, shaped to be sent again as they are, until every item is read.
#[test]
fn batch_get_item_answers_at_most_16_mb_and_returns_the_rest_as_unprocessed_keys() {
    let db = table();
    pk_table(&db, "Other");
    // 60 items of 300 KB here and 40 there: 30 MB in all.
    for i in 0..60 {
        put(&db, T, sized("a", &format!("{i:02}"), "blob", 300_000));
    }
    for i in 0..40 {
        let mut it = attrs([("pk", s(&format!("{i:02}")))]);
        it.insert("blob".into(), s(&"y".repeat(300_000)));
        put(&db, "Other", it);
    }
    let mut input = BatchGetItemInput::default();
    input.request_items.insert(
        T.into(),
        KeysAndAttributes::new((0..60).map(|i| key("a", &format!("{i:02}"))).collect())
            .projection_expression("#b, sk")
            .expression_attribute_name("#b", "blob"),
    );
    input.request_items.insert(
        "Other".into(),
        KeysAndAttributes::new(
            (0..40)
                .map(|i| attrs([("pk", s(&format!("{i:02}")))]))
                .collect(),
        ),
    );
    let mut got: Vec<(String, Item)> = Vec::new();
    let mut rounds = 0;
    loop {
        rounds += 1;
        let out = db.batch_get_item(input).expect("batch get");
        let bytes: usize = out.responses.values().flatten().map(item_size).sum();
        assert!(bytes <= MAX_BATCH_GET_BYTES, "{bytes} bytes in one answer");
        assert!(bytes > 0, "every answer makes progress");
        got.extend(
            out.responses
                .into_iter()
                .flat_map(|(t, items)| items.into_iter().map(move |i| (t.clone(), i))),
        );
        if out.unprocessed_keys.is_empty() {
            break;
        }
        input = BatchGetItemInput::default();
        input.request_items = out.unprocessed_keys;
    }
    assert!(rounds >= 2, "30 MB needs at least two answers");
    assert_eq!(got.len(), 100, "every key read exactly once");
    let mine: Vec<&Item> = got.iter().filter(|(t, _)| t == T).map(|(_, i)| i).collect();
    assert_eq!(mine.len(), 60);
    assert!(
        mine.iter()
            .all(|i| i.len() == 2 && i.contains_key("blob") && i.contains_key("sk")),
        "the projection survives the resend"
    );
}

#[test]
fn transact_write_items_takes_100_actions_and_rejects_101() {
    let db = table();
    assert_eq!(MAX_TRANSACT_ITEMS, 100);
    let transaction = |count: usize| {
        TransactWriteItemsInput::new(
            (0..count)
                .map(|i| TransactWriteItem::Put(PutItemInput::new(T, key("a", &format!("{i:03}")))))
                .collect(),
        )
    };
    validation(db.transact_write_items(transaction(101)), "transactItems");
    assert_eq!(db.scan(ScanInput::new(T)).expect("scan").count, 0);
    db.transact_write_items(transaction(100))
        .expect("100 actions");
    assert_eq!(db.scan(ScanInput::new(T)).expect("scan").count, 100);
}

#[test]
fn transact_get_items_takes_100_reads_and_rejects_101() {
    let db = table();
    let reads = |count: usize| {
        (0..count)
            .map(|i| TransactGetItem::new(T, key("a", &i.to_string())))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        db.transact_get_items(TransactGetItemsInput::new(reads(100)))
            .expect("100 reads")
            .responses
            .len(),
        100
    );
    validation(
        db.transact_get_items(TransactGetItemsInput::new(reads(101))),
        "transactItems",
    );
}

#[test]
fn transaction_items_of_4_mb_are_accepted_and_one_byte_more_is_rejected() {
    let db = table();
    assert_eq!(MAX_TRANSACTION_BYTES, 4 * 1024 * 1024);
    // Ten items of 400 KB (4,096,000 bytes) and one of the remaining 98,304 bytes.
    let transaction = |last: usize| {
        let mut puts: Vec<TransactWriteItem> = (0..10)
            .map(|i| {
                TransactWriteItem::Put(PutItemInput::new(
                    T,
                    sized("a", &i.to_string(), "d", MAX_ITEM_SIZE),
                ))
            })
            .collect();
        puts.push(TransactWriteItem::Put(PutItemInput::new(
            T,
            sized("a", "last", "d", last),
        )));
        TransactWriteItemsInput::new(puts)
    };
    let remaining = MAX_TRANSACTION_BYTES - 10 * MAX_ITEM_SIZE;
    assert_eq!(remaining, 98_304);
    validation(
        db.transact_write_items(transaction(remaining + 1)),
        "Transaction payload size cannot exceed 4MB. Payload Size: 4194305",
    );
    assert_eq!(db.describe_table(T).expect("describe").item_count, 0);
    db.transact_write_items(transaction(remaining))
        .expect("exactly 4 MB");
    assert_eq!(
        db.describe_table(T).expect("describe").table_size_bytes,
        MAX_TRANSACTION_BYTES as u64
    );
}

// ---------------------------------------------------------------------------------------------
// ListTables, Scan segments, IN
// ---------------------------------------------------------------------------------------------

#[test]
fn list_tables_limit_is_1_to_100() {
    let db = db();
    for i in 0..101 {
        pk_table(&db, &format!("table{i:03}"));
    }
    let page = |limit: Option<u32>| {
        let mut input = ListTablesInput::new();
        input.limit = limit;
        db.list_tables(input)
    };
    validation(page(Some(0)), "limit");
    validation(page(Some(101)), "limit");
    let one = page(Some(1)).expect("limit 1");
    assert_eq!(one.table_names, ["table000"]);
    assert_eq!(one.last_evaluated_table_name.as_deref(), Some("table000"));
    let hundred = page(Some(100)).expect("limit 100");
    assert_eq!(hundred.table_names.len(), 100);
    assert_eq!(
        hundred.last_evaluated_table_name.as_deref(),
        Some("table099")
    );
    assert_eq!(
        page(None).expect("default").table_names.len(),
        100,
        "the default limit is 100"
    );
    let rest = db
        .list_tables(
            ListTablesInput::new()
                .exclusive_start_table_name("table099")
                .limit(100),
        )
        .expect("rest");
    assert_eq!(rest.table_names, ["table100"]);
    assert_eq!(rest.last_evaluated_table_name, None);
}

#[test]
fn scan_total_segments_is_1_to_1_000_000_and_segment_is_below_it() {
    let db = table();
    for i in 0..20 {
        put(&db, T, key(&format!("p{i}"), "1"));
    }
    assert_eq!(MAX_TOTAL_SEGMENTS, 1_000_000);
    let scan = |segment: u32, total: u32| db.scan(ScanInput::new(T).segment((segment, total)));
    assert_eq!(scan(0, 1).expect("one segment").count, 20);
    scan(999_999, 1_000_000).expect("last of a million segments");
    scan(0, 1_000_000).expect("first of a million segments");
    validation(scan(0, 1_000_001), "totalSegments");
    validation(scan(0, 0), "totalSegments");
    validation(scan(1, 1), "Segment");
    validation(scan(1_000_000, 1_000_000), "Segment");
    // A starting key must lie in the segment asked for, in DynamoDB's words.
    let outside = db.scan(
        ScanInput::new(T)
            .segment((0, 1_000_000))
            .exclusive_start_key(key("0", "0")),
    );
    validation(
        outside,
        "The provided Exclusive start key does not map to the provided Segment and TotalSegments values.",
    );
    // A thousand segments still see every item exactly once.
    let mut seen = Vec::new();
    for segment in 0..1000 {
        seen.extend(scan(segment, 1000).expect("segment").items);
    }
    assert_eq!(seen.len(), 20);
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>().len(), 20);
}

#[test]
fn in_with_100_operands_is_accepted_and_101_rejected() {
    let db = table();
    put(
        &db,
        T,
        attrs([
            ("pk", s("a")),
            ("sk", s("1")),
            ("v", AttributeValue::number(99)),
        ]),
    );
    let operands = |count: i64| (0..count).map(AttributeValue::number).collect::<Vec<_>>();
    let cond = |count: i64| Condition::is_in("v", operands(count));
    db.update_item(
        UpdateItemInput::new(T, key("a", "1"), Update::new().set("w", s("x"))).condition(cond(100)),
    )
    .expect("100 operands, the last one matches");
    validation(
        db.update_item(
            UpdateItemInput::new(T, key("a", "1"), Update::new().set("w", s("y")))
                .condition(cond(101)),
        ),
        "IN",
    );
    let query = |count: i64| {
        db.query(QueryInput::new(T, KeyCondition::partition("pk", s("a"))).filter(cond(count)))
    };
    assert_eq!(query(100).expect("filter of 100").count, 1);
    validation(query(101), "IN");
    validation(db.scan(ScanInput::new(T).filter(cond(101))), "IN");
    validation(query(0), "IN");
}

// ---------------------------------------------------------------------------------------------
// The 1 MB page
// ---------------------------------------------------------------------------------------------

/// 30 items of about 100 KB in partition "big", and one small item elsewhere.
fn megabytes(db: &Database) -> Vec<Item> {
    let items: Vec<Item> = (0..30)
        .map(|i| sized("big", &format!("{i:02}"), "d", 100_000 + i))
        .collect();
    for it in &items {
        put(db, T, it.clone());
    }
    put(db, T, key("small", "1"));
    items
}

/// Checks DynamoDB's page rule: a page that stops early has read at least 1 MB, and stopped
/// at the first item that took it there.
fn check_page_sizes(pages: &[QueryOutput]) {
    for page in &pages[..pages.len() - 1] {
        let sizes: Vec<usize> = page.items.iter().map(item_size).collect();
        let total: usize = sizes.iter().sum();
        assert!(
            total >= MAX_PAGE_BYTES,
            "a page stopped before 1 MB: {total} bytes"
        );
        assert!(
            total - sizes[sizes.len() - 1] < MAX_PAGE_BYTES,
            "a page went on after 1 MB: {total} bytes"
        );
    }
}

#[test]
fn query_over_more_than_1_mb_pages_at_1_mb_and_paging_returns_everything_once() {
    let db = table();
    assert_eq!(MAX_PAGE_BYTES, 1024 * 1024);
    let items = megabytes(&db);
    let input = QueryInput::new(T, KeyCondition::partition("pk", s("big")));
    let first = db.query(input.clone()).expect("query");
    assert!(first.items.len() < 30);
    assert!(
        first.last_evaluated_key.is_some(),
        "a 3 MB partition does not fit one page"
    );
    let pages = query_pages(&db, input.clone());
    assert!(pages.len() >= 3);
    check_page_sizes(&pages);
    let all: Vec<Item> = pages.into_iter().flat_map(|p| p.items).collect();
    assert_eq!(all, items, "every item once, in order");

    let backward = query_pages(&db, input.scan_index_forward(false));
    check_page_sizes(&backward);
    let mut reversed: Vec<Item> = backward.into_iter().flat_map(|p| p.items).collect();
    reversed.reverse();
    assert_eq!(reversed, items);
}

#[test]
fn the_1_mb_page_is_counted_before_the_filter_and_the_projection() {
    let db = table();
    megabytes(&db);
    let input = QueryInput::new(T, KeyCondition::partition("pk", s("big")))
        .filter(Condition::attribute_exists("nothing"));
    let first = db.query(input.clone()).expect("query");
    assert_eq!(first.count, 0);
    assert!(first.scanned_count < 30);
    assert!(
        first.last_evaluated_key.is_some(),
        "the page stops at 1 MB read, not returned"
    );
    let pages = query_pages(&db, input);
    assert_eq!(pages.iter().map(|p| p.scanned_count).sum::<u32>(), 30);

    let projected = db
        .query(
            QueryInput::new(T, KeyCondition::partition("pk", s("big")))
                .projection(vec![Path::attr("sk")]),
        )
        .expect("query");
    assert_eq!(
        projected.items.len(),
        first.scanned_count as usize,
        "the same page, projected"
    );
    assert!(projected.last_evaluated_key.is_some());
}

#[test]
fn a_smaller_limit_ends_the_page_before_1_mb() {
    let db = table();
    megabytes(&db);
    let page = db
        .query(QueryInput::new(T, KeyCondition::partition("pk", s("big"))).limit(3))
        .expect("query");
    assert_eq!(page.items.len(), 3);
    assert_eq!(page.last_evaluated_key, Some(key("big", "02")));
}

#[test]
fn scan_over_more_than_1_mb_pages_at_1_mb_and_paging_returns_everything_once() {
    let db = table();
    let mut items = megabytes(&db);
    items.push(key("small", "1"));
    let pages = scan_pages(&db, ScanInput::new(T));
    assert!(pages.len() >= 3);
    check_page_sizes(&pages);
    let seen: Vec<Item> = pages.into_iter().flat_map(|p| p.items).collect();
    assert_eq!(seen.len(), items.len());
    assert_eq!(
        seen.into_iter().collect::<BTreeSet<_>>(),
        items.into_iter().collect::<BTreeSet<_>>()
    );
}

// ---------------------------------------------------------------------------------------------
// Options: every numeric option at each end of its range and one past it
// ---------------------------------------------------------------------------------------------

/// Every numeric option is checked at open, at both ends: at each end of its range it opens,
/// one past it is a `ValidationException` naming the option and the range.
#[test]
fn every_numeric_option_is_accepted_at_both_ends_of_its_range_and_refused_one_past() {
    use std::time::Duration;
    type Set = fn(&mut Options);
    let cases: Vec<(&str, &str, Vec<Set>, Vec<Set>)> = vec![
        (
            "max_tables",
            "between 1 and 10000",
            vec![|o| o.max_tables = 1, |o| o.max_tables = 10_000],
            vec![|o| o.max_tables = 0, |o| o.max_tables = 10_001],
        ),
        (
            "segment_bytes",
            "between 4096 and 1073741824",
            vec![|o| o.segment_bytes = 4096, |o| o.segment_bytes = 1 << 30],
            vec![|o| o.segment_bytes = 4095, |o| {
                o.segment_bytes = (1 << 30) + 1
            }],
        ),
        (
            "checkpoint_log_ratio",
            "a finite number greater than or equal to 0",
            vec![|o| o.checkpoint_log_ratio = 0.0, |o| {
                o.checkpoint_log_ratio = f64::MAX
            }],
            vec![
                |o| o.checkpoint_log_ratio = -f64::MIN_POSITIVE,
                |o| o.checkpoint_log_ratio = f64::INFINITY,
                |o| o.checkpoint_log_ratio = f64::NAN,
            ],
        ),
        (
            "maintenance_interval",
            "between 0ns and 86400s",
            vec![|o| o.maintenance_interval = Duration::ZERO, |o| {
                o.maintenance_interval = Duration::from_secs(24 * 60 * 60)
            }],
            vec![|o| {
                o.maintenance_interval = Duration::from_secs(24 * 60 * 60) + Duration::from_nanos(1)
            }],
        ),
        (
            "buffered_sync_interval",
            "between 1ms and 60s",
            vec![
                |o| o.buffered_sync_interval = Duration::from_millis(1),
                |o| o.buffered_sync_interval = Duration::from_secs(60),
            ],
            vec![
                |o| o.buffered_sync_interval = Duration::from_micros(999),
                |o| o.buffered_sync_interval = Duration::from_millis(60_001),
            ],
        ),
        (
            "backup_rate_limit",
            "between 1 and 4294967295",
            vec![|o| o.backup_rate_limit = 1, |o| {
                o.backup_rate_limit = u32::MAX
            }],
            vec![|o| o.backup_rate_limit = 0],
        ),
        (
            "checkpoint_min_log_bytes",
            "",
            vec![|o| o.checkpoint_min_log_bytes = 0, |o| {
                o.checkpoint_min_log_bytes = u64::MAX
            }],
            vec![],
        ),
    ];
    for (name, range, good, bad) in cases {
        for set in good {
            let mut options = Options::in_memory();
            set(&mut options);
            Database::in_memory_with(options)
                .unwrap_or_else(|e| panic!("{name} at the end of its range: {e}"));
        }
        for set in bad {
            let mut options = Options::in_memory();
            set(&mut options);
            match Database::in_memory_with(options) {
                Err(Error::Validation(message)) => {
                    assert!(
                        message.contains(&format!("at '{name}'")) && message.contains(range),
                        "{name}: {message}"
                    );
                    assert!(message.starts_with("1 validation error detected: Value '"));
                }
                Err(e) => panic!("{name} past its range: expected ValidationException, got {e}"),
                Ok(_) => panic!("{name} past its range was accepted"),
            }
        }
    }
}

/// The check happens at open, before anything touches the directory.
#[test]
fn a_database_with_an_option_out_of_range_does_not_open_and_leaves_no_files() {
    let fs = tidestore::fs::sim::SimFs::new();
    let options = Options::default()
        .fs(std::sync::Arc::new(fs.clone()))
        .segment_bytes(u64::MAX);
    let Err(error) = Database::open_with("/db", options) else {
        panic!("opened with segment_bytes = u64::MAX");
    };
    assert_eq!(error.exception_name(), "ValidationException", "{error}");
    assert!(fs.paths().is_empty(), "{:?}", fs.paths());
}
