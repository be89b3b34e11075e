//! Behaviour tests of DynamoDB's Number type through the public API: numeric order of `N`
//! sort keys, 38 significant digits, the magnitude range 1E-130 ..= 9.99…E+125, and
//! arithmetic (`ADD`, `SET a = a ± v`) that overflows, underflows or needs more precision.

mod behaviour;

use behaviour::*;
use serde_json::json;
use tidestore::ScalarAttributeType::{N, S};
use tidestore::*;

const T: &str = "Numbers";
/// The largest Number: 38 nines, times 10^88.
const MAX: &str = "9.9999999999999999999999999999999999999E+125";
/// The smallest positive Number.
const TINY: &str = "1E-130";

fn table() -> Database {
    let db = db();
    db.create_table(
        CreateTableInput::new(T)
            .hash_key("pk", S)
            .range_key("n", N)
            .pay_per_request(),
    )
    .expect("create");
    db
}

fn nkey(value: &AttributeValue) -> Item {
    attrs([("pk", s("p")), ("n", value.clone())])
}

/// Every number of `items`' sort key, as printed.
fn printed(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["n"].as_n().expect("number").to_string())
        .collect()
}

/// Numbers in ascending order, from the most negative to the largest.
const ASCENDING: [&str; 25] = [
    "-9.9999999999999999999999999999999999999E+125",
    "-1E+125",
    "-123456789012345678901234567890.12345678",
    "-100",
    "-10",
    "-9.5",
    "-1.0000000000000000000000000000000000001",
    "-1",
    "-0.5",
    "-0.0000001",
    "-1.5E-130",
    "-1E-130",
    "0",
    "1E-130",
    "1.5E-130",
    "0.0000001",
    "0.5",
    "1",
    "1.0000000000000000000000000000000000001",
    "9.5",
    "10",
    "100",
    "123456789012345678901234567890.12345678",
    "1E+125",
    "9.9999999999999999999999999999999999999E+125",
];

#[test]
fn number_sort_keys_are_queried_in_numeric_order_in_both_directions() {
    let db = table();
    // Insert in a scrambled order.
    for i in 0..ASCENDING.len() {
        let text = ASCENDING[(i * 7) % ASCENDING.len()];
        put(&db, T, nkey(&n(text)));
    }
    let expected: Vec<String> = ASCENDING
        .iter()
        .map(|t| n(t).as_n().expect("n").to_string())
        .collect();
    let input = QueryInput::new(T, KeyCondition::partition("pk", s("p")));
    let forward = db.query(input.clone()).expect("query");
    assert_eq!(printed(&forward.items), expected);
    let backward = db
        .query(input.clone().scan_index_forward(false))
        .expect("query");
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(printed(&backward.items), reversed);
    // Paging keeps the order.
    let paged: Vec<String> = query_pages(&db, input.limit(4))
        .iter()
        .flat_map(|p| printed(&p.items))
        .collect();
    assert_eq!(paged, expected);
}

#[test]
fn number_sort_key_conditions_compare_numerically() {
    let db = table();
    for text in ASCENDING {
        put(&db, T, nkey(&n(text)));
    }
    let run = |op: SortKeyOp| {
        let out = db
            .query(QueryInput::new(
                T,
                KeyCondition::partition("pk", s("p")).sort("n", op),
            ))
            .expect("query");
        printed(&out.items)
    };
    let expect = |texts: &[&str]| texts.iter().map(|t| printed_of(t)).collect::<Vec<_>>();
    assert_eq!(
        run(SortKeyOp::Between(n("-1"), n("1"))),
        expect(&[
            "-1",
            "-0.5",
            "-0.0000001",
            "-1.5E-130",
            "-1E-130",
            "0",
            TINY,
            "1.5E-130",
            "0.0000001",
            "0.5",
            "1"
        ])
    );
    assert_eq!(
        run(SortKeyOp::Gt(n("9.5"))),
        expect(&[
            "10",
            "100",
            "123456789012345678901234567890.12345678",
            "1E+125",
            MAX
        ])
    );
    assert_eq!(run(SortKeyOp::Lt(n("-100"))).len(), 3);
    assert_eq!(run(SortKeyOp::Eq(n("1.000"))), ["1"]);
    assert_eq!(run(SortKeyOp::Eq(n("10E-1"))), ["1"]);
    assert_eq!(run(SortKeyOp::Le(n("-1E-130"))).len(), 12);
    assert_eq!(run(SortKeyOp::Ge(n("0"))).len(), 13);
    assert_eq!(
        run(SortKeyOp::Gt(n("0"))).first().map(String::as_str),
        Some(printed_of(TINY).as_str())
    );
    assert_eq!(
        run(SortKeyOp::Lt(n("0"))).last().map(String::as_str),
        Some(printed_of("-1E-130").as_str())
    );
}

fn printed_of(text: &str) -> String {
    n(text).as_n().expect("n").to_string()
}

#[test]
fn numerically_equal_keys_are_the_same_item() {
    let db = table();
    put(
        &db,
        T,
        attrs([("pk", s("p")), ("n", n("100")), ("v", s("first"))]),
    );
    put(
        &db,
        T,
        attrs([("pk", s("p")), ("n", n("1E2")), ("v", s("second"))]),
    );
    put(
        &db,
        T,
        attrs([("pk", s("p")), ("n", n("100.000")), ("v", s("third"))]),
    );
    let all = db
        .query(QueryInput::new(T, KeyCondition::partition("pk", s("p"))))
        .expect("query");
    assert_eq!(all.count, 1);
    assert_eq!(all.items[0]["v"], s("third"));
    assert_eq!(
        get(&db, T, nkey(&n("0.1e3"))).map(|i| i["v"].clone()),
        Some(s("third"))
    );
    // Number partition keys too.
    let numbers = Database::in_memory();
    numbers
        .create_table(
            CreateTableInput::new("ByNumber")
                .hash_key("id", N)
                .pay_per_request(),
        )
        .expect("create");
    put(&numbers, "ByNumber", attrs([("id", n("-0.50"))]));
    assert!(get(&numbers, "ByNumber", attrs([("id", n("-5E-1"))])).is_some());
    let found = numbers
        .query(QueryInput::new(
            "ByNumber",
            KeyCondition::partition("id", n("-.5")),
        ))
        .expect("query");
    assert_eq!(found.count, 1);
}

#[test]
fn numbers_of_38_significant_digits_are_stored_exactly_and_39_are_rejected() {
    let db = table();
    let exact = [
        "12345678901234567890123456789012345678",
        "-12345678901234567890123456789012345678",
        "0.12345678901234567890123456789012345678",
        "1.2345678901234567890123456789012345678E-100",
        // Leading and trailing zeros are not significant.
        "0.0000012345678901234567890123456789012345678",
        "1234567890123456789012345678901234567800000",
        "00012345678901234567890123456789012345678",
    ];
    for (i, text) in exact.iter().enumerate() {
        let value = n(text);
        let mut it = nkey(&AttributeValue::number(i as i64));
        it.insert("v".into(), value.clone());
        put(&db, T, it);
        let back = get(&db, T, nkey(&AttributeValue::number(i as i64))).expect("item");
        assert_eq!(back["v"], value, "{text}");
        // The printed form parses back to the same number, digit for digit.
        let json = serde_json::to_value(&back["v"]).expect("json");
        let reparsed: AttributeValue = serde_json::from_value(json.clone()).expect("parses");
        assert_eq!(reparsed, value, "{text} printed as {json}");
    }
    assert_eq!(
        serde_json::to_value(n("1234567890123456789012345678901234567800000")).expect("json"),
        json!({"N": "1234567890123456789012345678901234567800000"})
    );
    for text in [
        "123456789012345678901234567890123456789",
        "-123456789012345678901234567890123456789",
        "1.23456789012345678901234567890123456789",
        "0.000123456789012345678901234567890123456789",
        "1.00000000000000000000000000000000000001",
    ] {
        let e = AttributeValue::n(text).expect_err("39 digits");
        assert!(
            matches!(&e, Error::Validation(m) if m.contains("38 significant digits")),
            "{text}: {e}"
        );
        let from_json = serde_json::from_value::<AttributeValue>(json!({ "N": text }));
        assert!(from_json.is_err(), "{text} parsed from DynamoDB JSON");
    }
}

#[test]
fn the_magnitude_range_is_1e_minus_130_to_9_99e_plus_125() {
    let db = table();
    for (i, text) in [
        TINY,
        "-1E-130",
        MAX,
        "-9.9999999999999999999999999999999999999E+125",
        "1E+125",
        "9.99E-130",
    ]
    .iter()
    .enumerate()
    {
        let mut it = nkey(&AttributeValue::number(i as i64));
        it.insert("v".into(), n(text));
        put(&db, T, it.clone());
        assert_eq!(
            get(&db, T, nkey(&AttributeValue::number(i as i64))),
            Some(it)
        );
        // The extremes are valid sort keys too.
        put(&db, T, nkey(&n(text)));
    }
    for (text, message) in [
        ("1E-131", "underflow"),
        ("-1E-131", "underflow"),
        ("9.9999999999999999999999999999999999999E-131", "underflow"),
        ("1E+126", "overflow"),
        ("-1E+126", "overflow"),
        ("10E+125", "overflow"),
        ("1E+1000000", "overflow"),
    ] {
        let e = AttributeValue::n(text).expect_err("out of range");
        assert!(
            matches!(&e, Error::Validation(m) if m.to_lowercase().contains(message)),
            "{text}: {e}"
        );
        assert!(
            serde_json::from_value::<AttributeValue>(json!({ "N": text })).is_err(),
            "{text}"
        );
    }
    // Zero is not subject to the range, however it is written.
    assert_eq!(n("0E-1000"), AttributeValue::number(0));
    assert_eq!(n("-0.000E+500"), AttributeValue::number(0));
}

// ---------------------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------------------

/// Puts `{pk: p, n: 0, v: start}` and applies `update` to it; returns the result, and checks
/// that a failed update left the item unchanged.
fn arithmetic(update: Update, start: &str) -> Result<AttributeValue> {
    let db = table();
    let k = nkey(&AttributeValue::number(0));
    let mut it = k.clone();
    it.insert("v".into(), n(start));
    put(&db, T, it.clone());
    let result = db.update_item(
        UpdateItemInput::new(T, k.clone(), update).return_values(ReturnValue::UpdatedNew),
    );
    match result {
        Ok(out) => Ok(out.attributes.expect("updated")["v"].clone()),
        Err(e) => {
            assert_eq!(get(&db, T, k), Some(it), "a failed update changes nothing");
            Err(e)
        }
    }
}

fn add(value: &str) -> Update {
    Update::new().add("v", n(value))
}

fn plus(value: &str) -> Update {
    Update::new().set_expr("v", SetValue::plus(Path::attr("v"), n(value)))
}

fn minus(value: &str) -> Update {
    Update::new().set_expr("v", SetValue::minus(Path::attr("v"), n(value)))
}

#[test]
fn add_and_set_arithmetic_are_exact_within_38_digits() {
    assert_eq!(arithmetic(add("0.2"), "0.1").expect("add"), n("0.3"));
    assert_eq!(arithmetic(plus("0.2"), "0.1").expect("plus"), n("0.3"));
    assert_eq!(
        arithmetic(add("1"), "12345678901234567890123456789012345677").expect("add"),
        n("12345678901234567890123456789012345678")
    );
    assert_eq!(
        arithmetic(plus("1"), "99999999999999999999999999999999999999").expect("plus"),
        n("1E+38"),
        "the carry leaves one significant digit"
    );
    assert_eq!(arithmetic(minus("1E-130"), TINY).expect("minus"), n("0"));
    assert_eq!(arithmetic(add(TINY), TINY).expect("add"), n("2E-130"));
    assert_eq!(
        arithmetic(add("-1E+88"), MAX).expect("add"),
        n("9.9999999999999999999999999999999999998E+125")
    );
    assert_eq!(
        arithmetic(minus("1E+125"), "-8.9E+125").expect("minus"),
        n("-9.9E+125")
    );
    // ADD on a missing attribute starts from zero, even at the edges.
    let db = table();
    let k = nkey(&AttributeValue::number(1));
    let out = db
        .update_item(
            UpdateItemInput::new(T, k, Update::new().add("v", n(MAX)))
                .return_values(ReturnValue::UpdatedNew),
        )
        .expect("add");
    assert_eq!(out.attributes.expect("attributes")["v"], n(MAX));
}

fn rejected(result: Result<AttributeValue>, needle: &str) {
    let message = validation(result, "");
    assert!(
        message.to_lowercase().contains(needle),
        "{message:?} does not mention {needle}"
    );
}

#[test]
fn arithmetic_past_9_99e_plus_125_is_a_number_overflow() {
    rejected(arithmetic(add("1E+88"), MAX), "overflow");
    rejected(arithmetic(plus("1E+88"), MAX), "overflow");
    rejected(arithmetic(plus(MAX), MAX), "overflow");
    rejected(
        arithmetic(
            minus("1E+88"),
            "-9.9999999999999999999999999999999999999E+125",
        ),
        "overflow",
    );
    rejected(arithmetic(add("-5E+125"), "-5E+125"), "overflow");
}

#[test]
fn arithmetic_below_1e_minus_130_is_a_number_underflow() {
    rejected(arithmetic(minus("1.5E-130"), "2E-130"), "underflow");
    rejected(arithmetic(add("-1.1E-130"), "1.2E-130"), "underflow");
}

#[test]
fn arithmetic_needing_more_than_38_digits_is_rejected_as_a_number_overflow() {
    // 10^50 + 1 has 51 significant digits; DynamoDB does not round, and words the refusal
    // with its overflow message (Alternator's test_update_expression_plus_imprecise).
    let overflow =
        "Number overflow. Attempting to store a number with magnitude larger than supported range";
    validation(arithmetic(add("1"), "1E+50"), overflow);
    validation(arithmetic(plus("1E-50"), "1"), overflow);
    validation(
        arithmetic(minus("1"), "12345678901234567890123456789012345678E+10"),
        overflow,
    );
}

#[test]
fn arithmetic_overflow_in_a_transaction_cancels_it_with_a_validation_error() {
    let db = table();
    let k = nkey(&AttributeValue::number(0));
    let mut it = k.clone();
    it.insert("v".into(), n(MAX));
    put(&db, T, it.clone());
    let reasons = canceled(db.transact_write_items(TransactWriteItemsInput::new(vec![
        TransactWriteItem::Put(PutItemInput::new(T, nkey(&AttributeValue::number(1)))),
        TransactWriteItem::Update(UpdateItemInput::new(
            T,
            k.clone(),
            Update::new().add("v", n("1E+88")),
        )),
    ])));
    assert_eq!(codes(&reasons), ["None", "ValidationError"]);
    assert!(reasons[1]
        .message
        .as_deref()
        .is_some_and(|m| m.to_lowercase().contains("overflow")));
    assert_eq!(get(&db, T, k), Some(it));
    assert_eq!(get(&db, T, nkey(&AttributeValue::number(1))), None);
}

#[test]
fn number_sets_hold_numerically_distinct_values() {
    let db = table();
    let k = nkey(&AttributeValue::number(0));
    let mut it = k.clone();
    it.insert("ns".into(), ns([1, 2]));
    put(&db, T, it);
    let set: AttributeValue =
        serde_json::from_value(json!({"NS": ["2.0", "3", "1E-130"]})).expect("parses");
    let out = db
        .update_item(
            UpdateItemInput::new(T, k.clone(), Update::new().add("ns", set))
                .return_values(ReturnValue::UpdatedNew),
        )
        .expect("add");
    let expected: AttributeValue =
        serde_json::from_value(json!({"NS": ["1", "2", "3", "1E-130"]})).expect("parses");
    assert_eq!(out.attributes.expect("attributes")["ns"], expected);
    let out = db
        .update_item(
            UpdateItemInput::new(T, k, Update::new().delete("ns", ns([3]).clone()))
                .return_values(ReturnValue::UpdatedNew),
        )
        .expect("delete");
    let remaining = out.attributes.expect("attributes")["ns"].clone();
    assert_eq!(
        remaining,
        serde_json::from_value(json!({"NS": ["1.0", "20E-1", "0.1E-129"]})).expect("parses")
    );
}

#[test]
fn conditions_and_filters_compare_numbers_numerically() {
    let db = table();
    for text in ASCENDING {
        let mut it = nkey(&n(text));
        it.insert("v".into(), n(text));
        put(&db, T, it);
    }
    let count = |filter: Condition| {
        db.scan(ScanInput::new(T).filter(filter))
            .expect("scan")
            .count
    };
    assert_eq!(count(Condition::gt("v", n("0"))), 12);
    assert_eq!(count(Condition::lt("v", n("-1E-130"))), 11);
    assert_eq!(count(Condition::between("v", n(TINY), n("1.5E-130"))), 2);
    assert_eq!(count(Condition::eq("v", n("1.50E-130"))), 1);
    assert_eq!(count(Condition::ge("v", n(MAX))), 1);
    assert_eq!(
        count(Condition::le(
            "v",
            n("-9.9999999999999999999999999999999999999E+125")
        )),
        1
    );
    // A condition on a number written differently still holds.
    db.update_item(
        UpdateItemInput::new(T, nkey(&n("100")), Update::new().set("w", s("x")))
            .condition(Condition::eq("v", n("1.00E2"))),
    )
    .expect("1.00E2 = 100");
}

#[test]
fn every_integer_type_converts_exactly_and_sorts_numerically() {
    let db = table();
    let values = [
        AttributeValue::from(i64::MIN),
        AttributeValue::from(i32::MIN),
        AttributeValue::from(-1i8),
        AttributeValue::from(0u8),
        AttributeValue::from(u16::MAX),
        AttributeValue::from(u32::MAX),
        AttributeValue::from(i64::MAX),
        AttributeValue::from(u64::MAX),
    ];
    for v in values.iter().rev() {
        put(&db, T, nkey(v));
    }
    let expected = [
        "-9223372036854775808",
        "-2147483648",
        "-1",
        "0",
        "65535",
        "4294967295",
        "9223372036854775807",
        "18446744073709551615",
    ];
    let all = db
        .query(QueryInput::new(T, KeyCondition::partition("pk", "p")))
        .expect("query");
    assert_eq!(printed(&all.items), expected);
    assert_eq!(Number::from(usize::MAX), Number::from(usize::MAX as u64));
}

#[test]
fn floats_convert_to_their_shortest_decimal_and_out_of_range_ones_are_validation_errors() {
    for (v, text) in [(0.1, "0.1"), (-2.5e-7, "-0.00000025"), (1e125, "1E+125")] {
        assert_eq!(AttributeValue::try_from(v).expect("in range"), n(text));
    }
    assert_eq!(
        AttributeValue::try_from(0.1f32).expect("in range"),
        n("0.1")
    );
    for (v, message) in [
        (f64::NAN, "The parameter cannot be converted to a numeric value: NaN"),
        (f64::NEG_INFINITY, "The parameter cannot be converted to a numeric value: -Infinity"),
        (1e126, "Number overflow. Attempting to store a number with magnitude larger than supported range"),
        (1e-131, "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
    ] {
        match AttributeValue::try_from(v) {
            Err(Error::Validation(m)) => assert_eq!(m, message, "{v}"),
            other => panic!("{v}: {other:?}"),
        }
    }
}
