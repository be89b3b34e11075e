//! The PartiQL parser and translator: statements to the DynamoDB requests they stand for,
//! the refusals of what tidestore does not support, and hostile text never panicking.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::parse::{parse, Statement};
use super::translate::{translate, Keys, Request};

fn table_keys() -> Keys {
    Keys {
        partition: vec!["pk".into()],
        sort: vec![],
    }
}

fn with_sort_key() -> Keys {
    Keys {
        partition: vec!["pk".into()],
        sort: vec!["sk".into()],
    }
}

/// A global index's multi-attribute key: partition (g1, g2), sort (s1, s2, s3).
fn multi_attribute_keys() -> Keys {
    let names = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
    Keys {
        partition: names(&["g1", "g2"]),
        sort: names(&["s1", "s2", "s3"]),
    }
}

fn request(text: &str, parameters: &[Value], keys: &Keys) -> Request {
    let (statement, count) = parse(text).expect("parses");
    assert_eq!(count, parameters.len(), "parameter count");
    translate(&statement, parameters, keys).expect("translates")
}

fn refusal(text: &str, keys: &Keys) -> String {
    match parse(text) {
        Err(error) => error.0,
        Ok((statement, _)) => translate(&statement, &[], keys).expect_err("refused"),
    }
}

#[test]
fn select_star_without_where_is_a_scan_of_the_whole_table() {
    let r = request("select * from T1", &[], &table_keys());
    assert_eq!(r.operation, "Scan");
    assert_eq!(r.body, json!({ "TableName": "T1" }));
}

#[test]
fn a_quoted_table_and_index_name_the_index_scanned() {
    let r = request(r#"SELECT * FROM "my.table"."by-gsi""#, &[], &table_keys());
    assert_eq!(
        r.body,
        json!({ "TableName": "my.table", "IndexName": "by-gsi" })
    );
}

#[test]
fn select_pinning_the_partition_key_is_a_query_and_the_rest_its_filter() {
    let r = request(
        "select a, b.c[2] from t where pk = ? and b > 3",
        &[json!({ "S": "x" })],
        &table_keys(),
    );
    assert_eq!(r.operation, "Query");
    assert_eq!(
        r.body,
        json!({
            "TableName": "t",
            "KeyConditionExpression": "#n0 = :v0",
            "FilterExpression": "(#n1 > :v1)",
            "ProjectionExpression": "#n2, #n1.#n3[2]",
            "ExpressionAttributeNames": { "#n0": "pk", "#n1": "b", "#n2": "a", "#n3": "c" },
            "ExpressionAttributeValues": { ":v0": { "S": "x" }, ":v1": { "N": "3" } },
        })
    );
}

/// A WHERE pinning every partition attribute of a multi-attribute index with `=`, and a
/// prefix of its sort attributes (`=`, then a range) is a Query on the index, as DynamoDB's
/// Query takes such a key, in the key's order whatever the WHERE's; the rest is its filter.
#[test]
fn select_pinning_a_multi_attribute_index_key_is_a_query_of_the_index() {
    let r = request(
        r#"select * from t."ByG" where g2 = 'b' and x = 1 and s2 > 3 and 'a' = g1 and s1 = ?"#,
        &[json!({ "S": "c" })],
        &multi_attribute_keys(),
    );
    assert_eq!(r.operation, "Query");
    assert_eq!(
        r.body,
        json!({
            "TableName": "t",
            "IndexName": "ByG",
            "KeyConditionExpression": "#n0 = :v0 AND #n1 = :v1 AND (#n2 = :v2) AND (#n3 > :v3)",
            "FilterExpression": "(#n4 = :v4)",
            "ExpressionAttributeNames": { "#n0": "g1", "#n1": "g2", "#n2": "s1", "#n3": "s2", "#n4": "x" },
            "ExpressionAttributeValues": {
                ":v0": { "S": "a" }, ":v1": { "S": "b" }, ":v2": { "S": "c" },
                ":v3": { "N": "3" }, ":v4": { "N": "1" },
            },
        })
    );
    let only_partition = request(
        "select * from t.ByG where g1 = 'a' and g2 = 'b'",
        &[],
        &multi_attribute_keys(),
    );
    assert_eq!(only_partition.operation, "Query");
    assert_eq!(
        only_partition.body["KeyConditionExpression"],
        "#n0 = :v0 AND #n1 = :v1"
    );
    let whole_key = request(
        "select * from t.ByG where s3 between 1 and 2 and s2 = 'y' and g1 = 'a' and s1 = 'x' and g2 = 'b'",
        &[],
        &multi_attribute_keys(),
    );
    assert_eq!(whole_key.operation, "Query");
    assert_eq!(
        whole_key.body["KeyConditionExpression"],
        "#n0 = :v0 AND #n1 = :v1 AND (#n2 = :v2) AND (#n3 = :v3) AND (#n4 BETWEEN :v4 AND :v5)"
    );
    assert!(whole_key.body.get("FilterExpression").is_none());
}

/// A sort key compared with the value on the left (`3 < sk`) is a key condition as
/// `sk > 3` is, written with the attribute first and the comparison turned round, for a
/// single sort key and for a multi-attribute key's sort attributes alike: left in the
/// filter it would make the SELECT a Scan, whose pages under a `Limit` can come back empty.
#[test]
fn a_sort_key_compared_with_the_value_first_is_still_a_key_condition() {
    let single = request(
        "select * from t where pk = 'a' and 3 < sk",
        &[],
        &with_sort_key(),
    );
    assert_eq!(single.operation, "Query");
    assert_eq!(
        single.body["KeyConditionExpression"],
        "#n0 = :v0 AND (#n1 > :v1)"
    );
    let multi = request(
        "select * from t.ByG where g1 = 'a' and g2 = 'b' and 'c' = s1 and 2 >= s2",
        &[],
        &multi_attribute_keys(),
    );
    assert_eq!(multi.operation, "Query");
    assert_eq!(
        multi.body["KeyConditionExpression"],
        "#n0 = :v0 AND #n1 = :v1 AND (#n2 = :v2) AND (#n3 <= :v3)"
    );
    assert!(multi.body.get("FilterExpression").is_none());
}

/// What DynamoDB's Query could not take of a multi-attribute key stays a Scan filtered by
/// the whole WHERE: the same items, which a Query would refuse to read.
#[test]
fn a_multi_attribute_key_not_pinned_as_a_query_needs_makes_a_scan() {
    for text in [
        // A partition attribute without `=`.
        "select * from t.ByG where g1 = 'a'",
        "select * from t.ByG where g1 = 'a' and g2 > 'b'",
        "select * from t.ByG where g1 = 'a' and g2 = 'b' and g2 = 'c'",
        // A sort attribute past the prefix of equalities.
        "select * from t.ByG where g1 = 'a' and g2 = 'b' and s2 = 1",
        "select * from t.ByG where g1 = 'a' and g2 = 'b' and s1 > 'c' and s2 = 1",
        // Two conditions on one sort attribute, or one a key condition cannot hold.
        "select * from t.ByG where g1 = 'a' and g2 = 'b' and s1 > 'c' and s1 < 'd'",
        "select * from t.ByG where g1 = 'a' and g2 = 'b' and s1 <> 'c'",
        "select * from t.ByG where g1 = 'a' and g2 = 'b' and (s1 = 'c' or x = 1)",
    ] {
        let r = request(text, &[], &multi_attribute_keys());
        assert_eq!(r.operation, "Scan", "{text}");
        assert!(r.body.get("KeyConditionExpression").is_none(), "{text}");
    }
}

#[test]
fn a_sort_key_range_joins_the_key_condition() {
    let r = request(
        "select * from t where pk = 'a' and sk between 1 and 5",
        &[],
        &with_sort_key(),
    );
    assert_eq!(r.operation, "Query");
    assert_eq!(
        r.body["KeyConditionExpression"],
        "#n0 = :v0 AND (#n1 BETWEEN :v1 AND :v2)"
    );
    assert!(r.body.get("FilterExpression").is_none());
}

#[test]
fn a_key_attribute_outside_a_key_condition_makes_a_scan() {
    // A Query's filter may not name a key attribute: such a statement is a Scan.
    for text in [
        "select * from t where pk = 'a' or b = 1",
        "select * from t where pk = 'a' and sk <> 'b'",
        "select * from t where pk in ['a', 'b']",
        "select * from t where body = 'a'",
    ] {
        assert_eq!(
            request(text, &[], &with_sort_key()).operation,
            "Scan",
            "{text}"
        );
    }
}

#[test]
fn every_condition_form_becomes_dynamodbs_expression() {
    let r = request(
        r#"SELECT pk FROM "t" WHERE (contains("NameLower", 'code') OR contains("DescriptionLower", 'code')) AND Category = 'free' AND Price >= 0 AND FreeTier IS NOT MISSING AND attribute_type("FreeTier", 'N') AND NOT a IS MISSING AND begins_with(s, 'x') AND size(l) < 3 AND c IN [1, 2]"#,
        &[],
        &table_keys(),
    );
    assert_eq!(
        r.body["FilterExpression"],
        "(contains(#n0, :v0) OR contains(#n1, :v1)) AND (#n2 = :v2) AND (#n3 >= :v3) AND attribute_exists(#n4) AND attribute_type(#n4, :v4) AND (NOT attribute_not_exists(#n5)) AND begins_with(#n6, :v5) AND (size(#n7) < :v6) AND (#n8 IN (:v7, :v8))"
    );
}

/// DynamoDB keeps NULL and MISSING apart: `IS NULL` is a test of DynamoDB's type NULL
/// (`attribute_type`), `IS MISSING` one of absence, each negated by `NOT`.
#[test]
fn is_null_tests_the_null_type_and_is_missing_the_attributes_absence() {
    let r = request(
        "SELECT * FROM t WHERE a IS NULL AND b is not null AND c IS MISSING AND d IS NOT MISSING",
        &[],
        &table_keys(),
    );
    assert_eq!(
        r.body["FilterExpression"],
        "attribute_type(#n0, :v0) AND (NOT attribute_type(#n1, :v1)) AND attribute_not_exists(#n2) AND attribute_exists(#n3)"
    );
    assert_eq!(
        r.body["ExpressionAttributeValues"][":v0"],
        json!({ "S": "NULL" })
    );
    assert_eq!(
        r.body["ExpressionAttributeValues"][":v1"],
        json!({ "S": "NULL" })
    );
    assert!(refusal("SELECT * FROM t WHERE 'x' IS NULL", &table_keys())
        .contains("apply to an attribute's path"));
}

#[test]
fn insert_is_a_put_that_may_not_replace_an_item() {
    let r = request(
        "INSERT INTO \"t\" value {'pk': 'msg4', 'n': 1.5, 'attr': {'sth': ['other', true, null]}, 's': <<'a', 'b'>>}",
        &[],
        &table_keys(),
    );
    assert_eq!(r.operation, "PutItem");
    assert_eq!(
        r.body,
        json!({
            "TableName": "t",
            "Item": {
                "pk": { "S": "msg4" },
                "n": { "N": "1.5" },
                "attr": { "M": { "sth": { "L": [{ "S": "other" }, { "BOOL": true }, { "NULL": true }] } } },
                "s": { "SS": ["a", "b"] },
            },
            "ConditionExpression": "attribute_not_exists(#n0)",
            "ExpressionAttributeNames": { "#n0": "pk" },
        })
    );
}

#[test]
fn update_is_an_update_item_of_an_existing_item_named_by_its_key() {
    let r = request(
        r#"UPDATE t SET "first" = ?, b = 'x' REMOVE c WHERE "pk" = ? AND sk = 2 AND d = 1"#,
        &[json!({ "S": "F" }), json!({ "S": "K" })],
        &with_sort_key(),
    );
    assert_eq!(r.operation, "UpdateItem");
    assert_eq!(
        r.body["Key"],
        json!({ "pk": { "S": "K" }, "sk": { "N": "2" } })
    );
    assert_eq!(
        r.body["UpdateExpression"],
        "SET #n0 = :v0, #n1 = :v1 REMOVE #n2"
    );
    assert_eq!(
        r.body["ConditionExpression"],
        "attribute_exists(#n3) AND (#n4 = :v2)"
    );
}

#[test]
fn update_arithmetic_and_functions_become_the_update_expressions_actions() {
    let r = request(
        "UPDATE t SET n = n + 1, m = ? - n, o = n -2 SET l = list_append(l, [2016]) \
         SET s = set_add(s, <<'a'>>), d = set_delete(d, ?) REMOVE r WHERE pk = 'k'",
        &[json!({ "N": "5" }), json!({ "SS": ["b"] })],
        &table_keys(),
    );
    assert_eq!(
        r.body["UpdateExpression"],
        "SET #n0 = #n0 + :v0, #n1 = :v1 - #n0, #n2 = #n0 - :v2, #n3 = list_append(#n3, :v3) \
         REMOVE #n6 ADD #n4 :v4 DELETE #n5 :v5"
    );
    assert_eq!(
        r.body["ExpressionAttributeValues"],
        json!({
            ":v0": { "N": "1" }, ":v1": { "N": "5" }, ":v2": { "N": "2" },
            ":v3": { "L": [{ "N": "2016" }] }, ":v4": { "SS": ["a"] }, ":v5": { "SS": ["b"] },
        })
    );
}

#[test]
fn returning_becomes_the_writes_return_values() {
    for (text, values) in [
        (
            "UPDATE t SET a = 1 WHERE pk = 'x' RETURNING ALL OLD *",
            "ALL_OLD",
        ),
        (
            "UPDATE t SET a = 1 WHERE pk = 'x' RETURNING MODIFIED OLD *",
            "UPDATED_OLD",
        ),
        (
            "UPDATE t SET a = 1 WHERE pk = 'x' returning all new *",
            "ALL_NEW",
        ),
        (
            "UPDATE t SET a = 1 WHERE pk = 'x' RETURNING MODIFIED NEW *",
            "UPDATED_NEW",
        ),
        (
            "DELETE FROM t WHERE pk = 'x' RETURNING ALL OLD *",
            "ALL_OLD",
        ),
    ] {
        assert_eq!(
            request(text, &[], &table_keys()).body["ReturnValues"],
            values,
            "{text}"
        );
    }
    for text in [
        "UPDATE t SET a = 1 WHERE pk = 'x' RETURNING ALL *",
        "UPDATE t SET a = 1 WHERE pk = 'x' RETURNING OLD *",
        "UPDATE t SET a = 1 WHERE pk = 'x' RETURNING ALL OLD",
    ] {
        assert!(parse(text).is_err(), "{text}");
    }
}

#[test]
fn exists_is_a_condition_check_that_the_item_exists_and_meets_the_rest() {
    let r = request(
        "EXISTS(SELECT * FROM \"t\" WHERE pk = ? AND sk = 1 AND a > 2)",
        &[json!({ "S": "k" })],
        &with_sort_key(),
    );
    assert_eq!(r.operation, "ConditionCheck");
    assert_eq!(
        r.body["Key"],
        json!({ "pk": { "S": "k" }, "sk": { "N": "1" } })
    );
    assert_eq!(
        r.body["ConditionExpression"],
        "attribute_exists(#n0) AND (#n1 > :v0)"
    );
    assert_eq!(
        refusal("EXISTS(SELECT * FROM t WHERE sk = 1)", &with_sort_key()),
        "Where clause does not contain a mandatory equality on all key attributes"
    );
}

#[test]
fn delete_is_a_delete_item_named_by_its_key() {
    let r = request("DELETE FROM \"t\" WHERE pk='msg1'", &[], &table_keys());
    assert_eq!(r.operation, "DeleteItem");
    assert_eq!(
        r.body,
        json!({ "TableName": "t", "Key": { "pk": { "S": "msg1" } } })
    );
}

#[test]
fn update_and_delete_without_the_whole_key_are_refused() {
    for text in [
        "DELETE FROM t WHERE pk = 'a'",
        "DELETE FROM t WHERE pk > 'a' AND sk = 'b'",
        "UPDATE t SET a = 1 WHERE sk = 'b'",
        "UPDATE t SET a = 1 WHERE pk = 'a' OR sk = 'b'",
    ] {
        assert_eq!(
            refusal(text, &with_sort_key()),
            "Where clause does not contain a mandatory equality on all key attributes",
            "{text}"
        );
    }
}

#[test]
fn order_by_the_sort_key_desc_reads_the_query_backward_and_asc_forward() {
    let keys = with_sort_key();
    let backward = request(
        "SELECT * FROM t WHERE pk = 'a' AND sk > 1 ORDER BY sk DESC",
        &[],
        &keys,
    );
    assert_eq!(backward.operation, "Query");
    assert_eq!(backward.body["ScanIndexForward"], json!(false));
    for forward in [
        "SELECT * FROM t WHERE pk = 'a' ORDER BY sk",
        "SELECT * FROM t WHERE pk = 'a' ORDER BY sk ASC",
        // The partition key has one value in a Query: ordering by it changes nothing.
        "SELECT * FROM t WHERE pk = 'a' ORDER BY pk DESC",
        "SELECT * FROM t WHERE pk = 'a' ORDER BY pk DESC, sk ASC",
    ] {
        let r = request(forward, &[], &keys);
        assert_eq!(r.operation, "Query", "{forward}");
        assert_eq!(r.body.get("ScanIndexForward"), None, "{forward}");
    }
}

#[test]
fn order_by_a_multi_attribute_sort_key_names_its_attributes_in_order_one_way() {
    let keys = multi_attribute_keys();
    let r = request(
        "SELECT * FROM t.i WHERE g1 = 1 AND g2 = 2 ORDER BY s1 DESC, s2 DESC",
        &[],
        &keys,
    );
    assert_eq!(r.operation, "Query");
    assert_eq!(r.body["ScanIndexForward"], json!(false));
    for (text, wanted) in [
        (
            "SELECT * FROM t.i WHERE g1 = 1 AND g2 = 2 ORDER BY s2",
            "not s2 here",
        ),
        (
            "SELECT * FROM t.i WHERE g1 = 1 AND g2 = 2 ORDER BY s1 ASC, s2 DESC",
            "the same way",
        ),
        (
            "SELECT * FROM t.i WHERE g1 = 1 ORDER BY s1",
            "pins the partition key",
        ),
    ] {
        assert!(refusal(text, &keys).contains(wanted), "{text}");
    }
}

#[test]
fn order_by_is_refused_where_there_is_no_order_to_give() {
    let keys = with_sort_key();
    for (text, wanted) in [
        ("SELECT * FROM t ORDER BY sk DESC", "pins the partition key"),
        ("SELECT * FROM t WHERE pk = 'a' ORDER BY a", "a is not one"),
        (
            "SELECT * FROM t WHERE pk = 'a' ORDER BY sk.x",
            "not paths into them",
        ),
        ("SELECT * FROM t WHERE pk = 'a' ORDER sk", "BY"),
        ("SELECT * FROM t WHERE pk = 'a' ORDER BY", "expected"),
        (
            "EXISTS(SELECT * FROM t WHERE pk = 'a' ORDER BY pk)",
            "takes no ORDER BY",
        ),
    ] {
        assert!(
            refusal(text, &keys).contains(wanted),
            "{text}: {}",
            refusal(text, &keys)
        );
    }
}

#[test]
fn the_parameters_are_counted_in_reading_order() {
    let (statement, count) = parse("UPDATE t SET a = ? WHERE pk = ?").expect("parses");
    assert_eq!(count, 2);
    assert!(matches!(statement, Statement::Update { .. }));
}

#[test]
fn what_tidestore_does_not_support_is_refused_by_name() {
    let cases = [
        ("EXISTS(SELECT * FROM t)", "must name one item"),
        ("EXISTS(SELECT * FROM t.i WHERE pk = 'x')", "not an index"),
        ("MERGE INTO t", "not MERGE"),
        ("SELECT * FROM t ORDER BY a", "ORDER BY"),
        (
            "DELETE FROM t WHERE pk = 'x' RETURNING ALL NEW *",
            "only RETURNING ALL OLD *",
        ),
        (
            "UPDATE t SET a = set_add(b, <<1>>) WHERE pk = 'x'",
            "only of the attribute they assign",
        ),
        (
            "UPDATE t SET a = upper(b) WHERE pk = 'x'",
            "the function upper",
        ),
        ("SELECT * FROM t WHERE a IS STRING", "not IS <type>"),
        ("SELECT * FROM t WHERE upper(a) = 'A'", "the function upper"),
        ("INSERT INTO t VALUE 'x'", "must be a map"),
        (
            "INSERT INTO t VALUE {'pk': 'a', 's': <<'a', 1>>}",
            "all of one type",
        ),
    ];
    for (text, named) in cases {
        let message = refusal(text, &table_keys());
        assert!(message.contains(named), "{text}: {message}");
    }
}

#[test]
fn malformed_statements_are_refused() {
    for text in [
        "",
        "select",
        "select * from",
        "select * from t where",
        "select * from t where a =",
        "select * from 't'",
        "select * from t where a = 'unterminated",
        "select * from t extra",
        "select * from t where ((a = 1)",
        "INSERT INTO t VALUE {'a' 1}",
        "select * from t where a[x] = 1",
    ] {
        assert!(parse(text).is_err(), "{text}");
    }
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let deep = format!(
        "select * from t where {}a = 1{}",
        "(".repeat(4_000),
        ")".repeat(4_000)
    );
    assert!(parse(&deep)
        .expect_err("refused")
        .0
        .contains("nests deeper"));
    let nots = format!("select * from t where {} a = 1", "NOT ".repeat(2_000));
    assert!(parse(&nots).is_err());
    let lists = format!("insert into t value {}", "[".repeat(8_000));
    assert!(parse(&lists).is_err());
}

#[test]
fn a_statement_longer_than_dynamodbs_8192_characters_is_refused() {
    // Past the length DynamoDB allows, the work of translating grows with the square of
    // the names a statement holds: 40,000 distinct names took 38 s to translate (debug).
    let names: Vec<String> = (0..400_000).map(|i| format!("a{i}")).collect();
    let text = format!("select {} from t", names.join(","));
    let refusal = parse(&text).expect_err("refused").0;
    assert!(refusal.contains("less than or equal to 8192"), "{refusal}");
    // Characters are counted, not bytes: 8192 of them, each of two bytes, still read.
    let longest = format!("select * from t where a = '{}'", "é".repeat(8192 - 28));
    assert_eq!(longest.chars().count(), 8192);
    parse(&longest).expect("8192 characters read");
    assert!(parse(&format!("{longest} ")).is_err());
}

#[test]
fn long_chains_of_and_and_or_are_refused_not_a_stack_overflow() {
    // A chain is read in a loop, but it builds a tree as deep as it is long, which
    // translating and dropping walk recursively: 200,000 conjuncts overflowed the stack.
    // (The statement's length bounds a chain too; this is the guard within it.)
    for joiner in ["AND ", "OR "] {
        let chain = vec!["a=1"; 1_000].join(joiner);
        let text = format!("select * from t where pk = 'k' AND {chain}");
        if let Ok((statement, _)) = parse(&text) {
            let _ = translate(&statement, &[], &table_keys());
            panic!("a chain of 1,000 conditions was accepted");
        }
    }
    // DynamoDB's 300 operators still read.
    let chain = vec!["a = 1"; 300].join(" AND ");
    request(
        &format!("select * from t where {chain}"),
        &[],
        &table_keys(),
    );
}

proptest! {
    #[test]
    fn hostile_text_never_panics_the_parser_or_translator(text in "\\PC{0,200}") {
        if let Ok((statement, count)) = parse(&text) {
            let parameters = vec![json!({ "S": "x" }); count];
            let _ = translate(&statement, &parameters, &with_sort_key());
        }
    }

    #[test]
    fn statement_shaped_text_never_panics(
        words in proptest::collection::vec(
            prop_oneof![
                Just("select"), Just("*"), Just("from"), Just("t"), Just("where"), Just("pk"),
                Just("="), Just("?"), Just("and"), Just("or"), Just("not"), Just("("), Just(")"),
                Just("'s'"), Just("1"), Just("["), Just("]"), Just("{"), Just("}"), Just(","),
                Just("<<"), Just(">>"), Just("insert"), Just("into"), Just("value"), Just(":"),
                Just("update"), Just("set"), Just("remove"), Just("delete"), Just("between"),
                Just("in"), Just("is"), Just("missing"), Just("size"), Just("contains"), Just("."),
            ],
            0..30,
        )
    ) {
        let text = words.join(" ");
        if let Ok((statement, count)) = parse(&text) {
            let parameters = vec![json!({ "N": "1" }); count];
            let _ = translate(&statement, &parameters, &with_sort_key());
        }
    }
}

#[test]
fn a_select_naming_one_item_by_its_whole_key_is_a_get_item() {
    let (statement, _) = parse("SELECT a FROM t WHERE sk = 2 AND pk = ?").expect("parses");
    let get = super::translate::translate_get(&statement, &[json!({ "S": "k" })], &with_sort_key())
        .expect("translates")
        .expect("a get");
    assert_eq!(get.operation, "GetItem");
    assert_eq!(
        get.body,
        json!({
            "TableName": "t",
            "Key": { "pk": { "S": "k" }, "sk": { "N": "2" } },
            "ProjectionExpression": "#n0",
            "ExpressionAttributeNames": { "#n0": "a" },
        })
    );
}

#[test]
fn a_select_that_may_read_more_than_one_item_is_no_get_item() {
    for text in [
        "SELECT * FROM t",
        "SELECT * FROM t WHERE pk = 'a'",
        "SELECT * FROM t WHERE pk = 'a' AND sk = 1 AND b = 2",
        "SELECT * FROM t WHERE pk = 'a' AND sk > 1",
        "SELECT * FROM t.i WHERE pk = 'a' AND sk = 1",
        "DELETE FROM t WHERE pk = 'a' AND sk = 1",
    ] {
        let (statement, _) = parse(text).expect("parses");
        let get = super::translate::translate_get(&statement, &[], &with_sort_key());
        assert_eq!(get, Ok(None), "{text}");
    }
}

/// The message of the ValidationException `result` is.
fn validation_message(result: Result<Value, super::WireError>) -> String {
    let error = result.expect_err("refused");
    assert!(
        error.type_name.ends_with("#ValidationException"),
        "{error:?}"
    );
    error.message.unwrap_or_default()
}

#[test]
fn a_next_token_resumes_only_the_statement_and_parameters_it_came_from() {
    use super::{next_token, request_fingerprint, start_key};
    let statement = "SELECT * FROM t WHERE pk = ?";
    let parameters = [json!({ "S": "a" })];
    let key = json!({ "pk": { "S": "a" }, "sk": { "N": "3" } });
    let token = next_token(&key, &request_fingerprint(statement, &parameters));
    let same = request_fingerprint(statement, &parameters);
    assert_eq!(start_key(&token, &same).expect("resumes"), key);
    for (other_statement, other_parameters) in [
        ("SELECT * FROM t WHERE pk = ? ", json!([{ "S": "a" }])),
        ("SELECT a FROM t WHERE pk = ?", json!([{ "S": "a" }])),
        (statement, json!([{ "S": "b" }])),
        (statement, json!([{ "N": "1" }])),
    ] {
        let other_list = other_parameters.as_array().expect("a list");
        let other = request_fingerprint(other_statement, other_list);
        assert_eq!(
            validation_message(start_key(&token, &other)),
            "NextToken does not match request",
            "{other_statement} {other_parameters}"
        );
    }
}

#[test]
fn a_forged_next_token_is_invalid_not_a_panic() {
    use base64::Engine as _;
    let fingerprint = super::request_fingerprint("SELECT * FROM t", &[]);
    let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    for token in [
        "not a token".to_owned(),
        encode("not json"),
        encode(r#"{"pk": {"S": "a"}}"#),
        encode(&format!(r#"{{"Key": [1], "Request": "{fingerprint}"}}"#)),
        encode(r#"{"Key": {}, "Request": 7}"#),
        encode(&format!(r#"{{"Request": "{fingerprint}"}}"#)),
        // A map, but not of attribute values: the Query would refuse it as a malformed
        // request (SerializationException), not as the invalid token it is.
        encode(&format!(
            r#"{{"Key": {{"pk": "a"}}, "Request": "{fingerprint}"}}"#
        )),
        encode(&format!(
            r#"{{"Key": {{"pk": {{"X": "a"}}}}, "Request": "{fingerprint}"}}"#
        )),
    ] {
        assert_eq!(
            validation_message(super::start_key(&token, &fingerprint)),
            "Invalid NextToken",
            "{token}"
        );
    }
}

proptest! {
    #[test]
    fn any_next_token_is_a_key_or_a_validation_error_never_a_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
        text in "\\PC{0,100}",
    ) {
        use base64::Engine as _;
        let fingerprint = super::request_fingerprint("SELECT * FROM t", &[]);
        let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
        for token in [encoded.as_str(), text.as_str()] {
            if let Err(error) = super::start_key(token, &fingerprint) {
                prop_assert!(error.type_name.ends_with("#ValidationException"));
            }
        }
    }
}
