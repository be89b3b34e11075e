//! Tests of the typed expressions (`expr/`): every operator, function and update action
//! against DynamoDB's documented behaviour.

use std::collections::{BTreeMap, BTreeSet};

use super::update::{BAD_PATH, BAD_TYPE, NONEXISTENT};
use super::*;
use crate::model::value::AttributeValue as V;
use crate::model::value::{Item, ValueType, MAX_NESTING_DEPTH};
use proptest::prelude::*;
use Condition as C;

const ITEM: &str = r#"{"n":{"N":"10"},"s":{"S":"banana"},"b":{"B":"AQID"},"t":{"BOOL":true},
    "z":{"NULL":true},"ss":{"SS":["red","green"]},"ns":{"NS":["1","5"]},"bs":{"BS":["AQ=="]},
    "l":{"L":[{"S":"a"},{"N":"3"},{"M":{"k":{"N":"1"}}}]},"u":{"S":"é𝄞"},
    "m":{"M":{"deep":{"M":{"x":{"S":"y"}}},"arr":{"L":[{"N":"1"},{"N":"2"}]}}}}"#;

fn item(json: &str) -> Item {
    serde_json::from_str(json).expect("valid DynamoDB JSON")
}
fn n(i: i64) -> V {
    V::number(i)
}
fn num(text: &str) -> V {
    V::n(text).expect("a number")
}
fn s(text: &str) -> V {
    V::s(text)
}
fn b(bytes: &[u8]) -> V {
    V::b(bytes)
}
fn ss<const N: usize>(members: [&str; N]) -> V {
    V::ss(members).expect("a string set")
}
fn ns<const N: usize>(members: [i64; N]) -> V {
    V::ns(members).expect("a number set")
}
fn l(values: &[V]) -> V {
    V::L(values.to_vec())
}
/// `a.b[2].c` as a Path (test shorthand: the real parser substitutes names).
fn p(text: &str) -> Path {
    let mut steps = Vec::new();
    for part in text.split('.') {
        let mut pieces = part.split('[');
        steps.push(PathElement::Attribute(
            pieces.next().unwrap_or_default().into(),
        ));
        let index = |i: &str| i.trim_end_matches(']').parse().expect("an index");
        steps.extend(pieces.map(|i| PathElement::Index(index(i))));
    }
    Path(steps)
}
/// Validates `c`, then evaluates it against `ITEM`.
fn t(c: C) -> bool {
    c.validate().expect("a valid condition");
    c.evaluate(Some(&item(ITEM))).expect("evaluates")
}
fn err<T: fmt::Debug>(result: Result<T>) -> String {
    match result {
        Err(Error::Validation(m)) => m,
        other => panic!("expected a ValidationException, got {other:?}"),
    }
}
fn apply(u: Update, json: &str) -> Result<Item> {
    u.apply(Some(&item(json)))
}
fn ok(u: Update, json: &str) -> Item {
    apply(u, json).expect("the update applies")
}

#[test]
fn comparison_with_missing_attribute_is_false_except_not_equal() {
    use Comparator::*;
    for (op, ne) in [
        (Eq, false),
        (Ne, true),
        (Lt, false),
        (Le, false),
        (Gt, false),
        (Ge, false),
    ] {
        assert_eq!(t(C::compare(p("missing"), op, n(1))), ne);
        assert_eq!(t(C::compare(p("missing"), op, p("gone"))), ne);
        assert_eq!(C::compare(p("n"), op, n(1)).evaluate(None).ok(), Some(ne));
    }
}

#[test]
fn values_of_different_types_are_never_equal_nor_ordered() {
    assert!(!t(C::eq("n", s("10"))) && t(C::ne("n", s("10"))) && !t(C::eq("ns", n(1))));
    assert!(!t(C::lt("n", s("99"))) && !t(C::ge("n", s("0"))));
}

#[test]
fn ordering_is_numeric_for_numbers_bytewise_for_strings_and_unsigned_for_binaries() {
    assert!(t(C::gt("n", n(9))) && t(C::lt("n", n(100))) && t(C::eq("n", num("1.0E1"))));
    assert!(t(C::gt("s", s("apple"))) && t(C::lt("s", s("banana_"))));
    // Byte order: "Z" < "a", and U+FFFD < U+1F600 (UTF-16 code units would say otherwise).
    let lt = |a: V, b: V| t(C::compare(a, Comparator::Lt, b));
    assert!(lt(s("Z"), s("a")) && lt(s("\u{FFFD}"), s("\u{1F600}")));
    assert!(lt(b(&[0x7f]), b(&[0x80])) && t(C::ge("b", b(&[1, 2]))));
}

#[test]
fn attributes_of_unorderable_types_are_compared_for_equality_only() {
    let it = item(r#"{"a":{"L":[{"N":"1"}]},"b":{"L":[{"N":"1"}]},"c":{"BOOL":true}}"#);
    let e = |c: C| c.evaluate(Some(&it)).expect("evaluates");
    let paths = |a: &str, op, b: &str| e(C::compare(p(a), op, p(b)));
    assert!(paths("a", Comparator::Eq, "b") && !paths("a", Comparator::Le, "b"));
    assert!(!paths("c", Comparator::Ge, "c2") && !e(C::gt("c", V::Bool(false))));
    let (value, low, high) = (Operand::path("a"), Operand::path("b"), Operand::path("b2"));
    assert!(!e(C::Between { value, low, high }));
}

#[test]
fn equality_and_in_compare_every_type_by_value() {
    for (name, value) in item(ITEM) {
        assert!(t(C::eq(name.as_str(), value.clone())));
        assert!(t(C::is_in(name.as_str(), [n(0), value])));
    }
    assert!(t(C::eq("ss", ss(["green", "red"]))) && t(C::eq("ns", ns([5, 1]))));
    assert!(t(C::is_in("n", [s("10"), n(10)])) && !t(C::is_in("n", [n(1), n(2)])));
    let list = vec![Operand::path("missing"), Operand::path("n")];
    assert!(
        !t(C::is_in("missing", [n(1)]))
            && t(C::In {
                value: Operand::path("n"),
                list
            })
    );
}

#[test]
fn between_includes_its_bounds() {
    assert!(t(C::between("n", n(10), n(20))) && t(C::between("n", n(0), n(10))));
    assert!(!t(C::between("n", n(11), n(20))) && t(C::between("s", s("b"), s("c"))));
    let (value, low, high) = (Operand::path("n"), Operand::path("s"), Operand::path("n"));
    assert!(!t(C::between("missing", n(0), n(1))) && !t(C::Between { value, low, high }));
}

#[test]
fn attribute_exists_counts_null_as_present_and_no_item_as_empty() {
    assert!(t(C::attribute_exists("z")) && t(C::attribute_not_exists("missing")));
    assert!(!t(C::attribute_not_exists("n")) && !t(C::attribute_exists("missing")));
    assert_eq!(C::attribute_not_exists("n").evaluate(None).ok(), Some(true));
    assert_eq!(C::attribute_exists("n").evaluate(None).ok(), Some(false));
}

#[test]
fn attribute_type_matches_the_exact_type() {
    for (name, value) in item(ITEM) {
        let wrong = [ValueType::S, ValueType::Ss]
            .into_iter()
            .find(|&w| w != value.value_type());
        assert!(t(C::attribute_type(name.as_str(), value.value_type())));
        assert!(!t(C::attribute_type(name.as_str(), wrong.expect("a type"))));
    }
    assert!(!t(C::attribute_type("missing", ValueType::Null)));
}

#[test]
fn begins_with_works_on_strings_and_binaries_only() {
    assert!(t(C::begins_with("s", s("ban"))) && t(C::begins_with("s", s(""))));
    assert!(!t(C::begins_with("s", s("nan"))) && t(C::begins_with("b", b(&[1, 2]))));
    assert!(!t(C::begins_with("b", s("\u{1}"))) && !t(C::begins_with("n", s("1"))));
    assert!(!t(C::begins_with("ss", s("red"))) && !t(C::begins_with("missing", s(""))));
}

#[test]
fn contains_finds_substrings_set_members_and_list_elements() {
    let k1 = V::M([("k".to_owned(), n(1))].into());
    assert!(t(C::contains("s", s("nan"))) && t(C::contains("b", b(&[2, 3]))));
    assert!(t(C::contains("ss", s("red"))) && t(C::contains("ns", n(5))));
    assert!(t(C::contains("bs", b(&[1]))) && t(C::contains("l", n(3))) && t(C::contains("l", k1)));
    assert!(!t(C::contains("s", s("nab"))) && !t(C::contains("b", b(&[3, 2]))));
    assert!(!t(C::contains("ss", s("blue"))) && !t(C::contains("ns", s("5"))));
    assert!(!t(C::contains("l", s("3"))) && !t(C::contains("n", n(10))));
    assert!(!t(C::contains("missing", s("a"))) && !t(C::contains("s", n(1))));
    assert!(!t(C::Contains(Operand::path("s"), Operand::path("u"))));
    assert!(t(
        C::Contains(Operand::path("m.arr"), Operand::path("n")).not()
    ));
}

/// Any operand first: DynamoDB evaluates `attribute_type(:val, :type)` on the literal and
/// `begins_with(:str, a)` as "the literal begins with a's value" (ScyllaDB's Alternator tests,
/// written against DynamoDB); `contains(x, y)` keeps the same order: x holds y.
#[test]
fn functions_evaluate_a_literal_or_size_first_as_they_evaluate_a_path_there() {
    let (value, size) = (Operand::value, |path: &str| Operand::size(p(path)));
    let at = Operand::path;
    assert!(t(C::AttributeType(value(n(0)), ValueType::N)));
    assert!(!t(C::AttributeType(value(n(0)), ValueType::S)));
    assert!(t(C::AttributeType(size("s"), ValueType::N)));
    assert!(
        !t(C::AttributeType(size("n"), ValueType::N)),
        "size(N) is no value"
    );
    // ITEM's s is "banana".
    assert!(t(C::BeginsWith(value(s("bananas")), at("s"))));
    assert!(!t(C::BeginsWith(value(s("ban")), at("s"))));
    assert!(!t(C::BeginsWith(value(s("bananas")), at("missing"))));
    assert!(t(C::BeginsWith(value(b(&[1, 2, 3, 4])), at("b"))));
    assert!(t(C::BeginsWith(value(s("x")), value(s("")))));
    assert!(t(C::BeginsWith(at("s"), at("s2")).not()), "s2 is missing");
    // contains(:container, a): the literal holds a's value.
    assert!(t(C::Contains(value(s("a banana split")), at("s"))));
    assert!(t(C::Contains(value(ss(["banana", "kiwi"])), at("s"))));
    assert!(t(C::Contains(value(l(&[n(10)])), at("n"))));
    assert!(
        !t(C::Contains(value(s("bananas")), at("n"))),
        "a string holds no number"
    );
    assert!(!t(C::Contains(value(s("banana")), at("missing"))));
    assert!(
        !t(C::Contains(size("l"), value(n(3)))),
        "a number holds nothing"
    );
}

/// What DynamoDB refuses statically stays refused whichever operand comes first: a literal
/// that is not S or B (or `size()`, a number) in `begins_with`, the same path twice.
#[test]
fn validate_checks_a_literal_or_size_first_as_it_checks_one_second() {
    let number = err(C::BeginsWith(Operand::value(n(1)), Operand::path("a")).validate());
    assert!(number.ends_with("operator or function: begins_with, operand type: N"));
    let sized = err(C::BeginsWith(Operand::size(p("a")), Operand::value(s("x"))).validate());
    assert!(sized.ends_with("operator or function: begins_with, operand type: N"));
    let set = C::BeginsWith(Operand::value(ss(["a"])), Operand::path("a"));
    assert!(err(set.validate()).ends_with("begins_with, operand type: SS"));
    let twice = C::BeginsWith(Operand::path("a"), Operand::path("a"));
    assert!(err(twice.validate()).ends_with("operator: begins_with, first operand: [a]"));
    let empty =
        err(C::AttributeType(Operand::value(V::Ss(BTreeSet::new())), ValueType::Ss).validate());
    assert!(
        empty.starts_with("ExpressionAttributeValues contains invalid value"),
        "{empty}"
    );
    for fine in [
        C::AttributeType(Operand::value(n(0)), ValueType::N),
        C::BeginsWith(Operand::value(s("hellohi")), Operand::path("a")),
        C::Contains(Operand::value(n(1)), Operand::path("a")),
        C::Contains(Operand::size(p("a")), Operand::path("a")),
    ] {
        assert!(fine.validate().is_ok(), "{fine:?}");
    }
}

#[test]
fn size_counts_utf16_units_bytes_and_elements_and_is_absent_for_scalars() {
    let sizes = [
        ("s", 6),
        ("u", 3),
        ("b", 3),
        ("ss", 2),
        ("ns", 2),
        ("bs", 1),
        ("l", 3),
    ];
    for (path, size) in sizes.into_iter().chain([("m", 2)]) {
        assert!(t(C::compare(Operand::size(path), Comparator::Eq, n(size))));
    }
    for path in ["n", "t", "z", "missing"] {
        assert!(!t(C::compare(Operand::size(path), Comparator::Ge, n(0))));
    }
    let sizes = (Operand::size("ss"), Operand::size("l"));
    assert!(t(C::compare(sizes.0, Comparator::Lt, sizes.1)));
    assert_eq!(
        Operand::size_of_value(&s("é𝄞")).ok(),
        Some(Operand::Value(n(3)))
    );
    let number = err(Operand::size_of_value(&n(1)));
    assert!(number.ends_with("function: size, operand type: N"));
}

#[test]
fn logical_operators_combine_and_negate() {
    let (yes, no) = (C::attribute_exists("n"), C::attribute_exists("missing"));
    assert!(t(yes.clone().and(yes.clone())) && !t(yes.clone().and(no.clone())));
    assert!(t(no.clone().or(yes.clone())) && !t(no.clone().or(no.clone())));
    assert!(t(no.clone().not()) && !t(yes.clone().not()));
    assert!(!t(yes.clone().not().and(yes.clone())) && t(no.and(yes).not()));
}

#[test]
fn nested_paths_resolve_through_maps_and_lists() {
    let second_above_first = C::compare(p("m.arr[1]"), Comparator::Gt, p("m.arr[0]"));
    assert!(t(C::eq(p("m.deep.x"), s("y"))) && t(second_above_first));
    assert!(t(C::eq(p("l[2].k"), n(1))));
    for missing in ["m.arr[9]", "m.deep[0]", "l.k", "s.x", "s[0]"] {
        assert!(t(C::attribute_not_exists(p(missing))));
    }
    assert_eq!(p("l").index(usize::MAX).resolve(&item(ITEM)), None);
    let dotted = item(r#"{"a.b":{"N":"1"}}"#);
    assert_eq!(Path::from("a.b").resolve(&dotted), Some(&n(1)), "one name");
    let path = Path::attr("a").field("b").index(2).field("c");
    assert_eq!(
        (path.to_string(), format!("{path:#}")),
        ("a.b[2].c".into(), "[a, b, [2], c]".into())
    );
    assert_eq!(path.top_level(), "a");
}

#[test]
fn paths_lists_every_path_the_condition_reads() {
    let c = C::compare(p("a"), Comparator::Eq, Operand::size(p("b.c")))
        .and(C::Contains(Operand::path("d"), Operand::path("e")).or(C::attribute_exists(p("f[1]"))))
        .and(C::between("g", n(1), n(2)).not());
    let paths: Vec<String> = c.paths().iter().map(ToString::to_string).collect();
    assert_eq!(paths, ["a", "b.c", "d", "e", "f[1]", "g"]);
}

#[test]
fn validate_rejects_literal_operands_that_cannot_be_ordered() {
    let list = err(C::lt("a", l(&[n(1)])).validate());
    let expected = "Invalid ConditionExpression: Incorrect operand type for operator or \
                    function; operator or function: <, operand type: L";
    assert_eq!(list, expected);
    let null = C::compare(V::Null, Comparator::Ge, Operand::path("a"));
    assert!(err(null.validate()).ends_with(">=, operand type: NULL"));
    let (value, low, high) = (Operand::path("a"), Operand::value(true), Operand::path("b"));
    let between = err(C::Between { value, low, high }.validate());
    assert!(between.ends_with("BETWEEN, operand type: BOOL"));
    let paths = C::compare(Operand::path("a"), Comparator::Lt, Operand::path("b"));
    assert!(C::eq("a", l(&[n(1)])).validate().is_ok() && paths.validate().is_ok());
}

#[test]
fn validate_rejects_between_bounds_out_of_order_or_of_different_types() {
    let reversed = err(C::between("a", n(5), n(1)).validate());
    let expected = "Invalid ConditionExpression: The BETWEEN operator requires upper bound \
        to be greater than or equal to lower bound; lower bound operand: AttributeValue: \
        {N:5}, upper bound operand: AttributeValue: {N:1}";
    assert_eq!(reversed, expected);
    let mixed = err(C::between("a", n(1), s("dog")).validate());
    assert!(mixed.contains("The BETWEEN operator requires same data type for lower and upper"));
    assert!(mixed.ends_with("{N:1}, upper bound operand: AttributeValue: {S:dog}"));
    assert!(C::between("a", n(1), n(1)).validate().is_ok());
    let (value, low, high) = (Operand::path("a"), Operand::value(n(5)), Operand::path("b"));
    assert!(
        C::Between { value, low, high }.validate().is_ok(),
        "not static"
    );
}

#[test]
fn validate_limits_in_to_one_to_a_hundred_operands() {
    assert!(C::is_in("a", (0..100).map(n)).validate().is_ok());
    let many = err(C::is_in("a", (0..101).map(n)).validate());
    assert!(many.ends_with("is provided with too many operands; number of operands: 101"));
    assert!(C::is_in("a", Vec::<V>::new()).validate().is_err());
}

#[test]
fn validate_rejects_begins_with_prefixes_other_than_strings_and_binaries() {
    let number = err(C::begins_with("a", n(1)).validate());
    assert!(number.ends_with("operator or function: begins_with, operand type: N"));
    assert!(C::BeginsWith(Operand::path("a"), Operand::size("b"))
        .validate()
        .is_err());
    assert!(C::begins_with("a", b(&[1])).validate().is_ok());
    assert!(C::BeginsWith(Operand::path("a"), Operand::path("b"))
        .validate()
        .is_ok());
}

#[test]
fn validate_rejects_the_same_path_on_both_sides() {
    let same = C::compare(Operand::path("a"), Comparator::Eq, Operand::path("a"));
    for c in [same, C::BeginsWith(p("a.b").into(), p("a.b").into())] {
        assert!(err(c.validate()).contains("The first operand must be distinct"));
    }
    let contains = err(C::Contains(Operand::path("a"), Operand::path("a")).validate());
    assert!(contains.ends_with("operator: contains, first operand: [a]"));
    let inner = C::compare(Operand::path("a"), Comparator::Eq, p("a.b"));
    assert!(inner.validate().is_ok());
}

#[test]
fn validate_and_evaluate_refuse_more_than_300_operators_without_overflowing() {
    let chain = |k| (1..k).fold(C::eq("a", n(0)), |c, i| c.and(C::eq("a", n(i))));
    assert!(
        chain(150).validate().is_ok(),
        "150 comparisons and 149 ANDs"
    );
    let too_many = err(chain(151).validate());
    assert!(too_many.ends_with("too many operators; operator count: 301"));
    let deep = (0..2000).fold(C::attribute_exists("a"), |c, _| c.not());
    assert!(deep.validate().is_err() && deep.evaluate(None).is_err());
}

#[test]
fn validate_rejects_malformed_paths_and_invalid_literals() {
    let deep = (0..MAX_NESTING_DEPTH).fold(Path::attr("a"), |path, _| path.index(0));
    let root = Path(vec![PathElement::Index(0)]);
    for path in [Path(Vec::new()), root, p("a."), deep] {
        let message = err(C::attribute_exists(path).validate());
        assert!(message.starts_with("Invalid ConditionExpression: "));
    }
    let empty = err(C::eq("a", V::Ss(BTreeSet::new())).validate());
    assert!(empty.starts_with("ExpressionAttributeValues contains invalid value: "));
    let filter = err(C::lt("a", l(&[])).validate_as("FilterExpression"));
    assert!(filter.starts_with("Invalid FilterExpression: "));
}

#[test]
fn set_writes_top_level_and_nested_values_and_creates_missing_items() {
    let new = Update::new().set("a", n(1)).apply(None);
    assert_eq!(new.ok(), Some(item(r#"{"a":{"N":"1"}}"#)));
    let u = Update::new()
        .set(p("m.deep.y"), s("z"))
        .set(p("l[0]"), n(0));
    let new = ok(u.set("n", s("ten")), ITEM);
    let deep = item(r#"{"d":{"M":{"x":{"S":"y"},"y":{"S":"z"}}}}"#);
    assert_eq!(p("m.deep").resolve(&new), deep.get("d"));
    assert_eq!(
        (p("l[0]").resolve(&new), &new["n"]),
        (Some(&n(0)), &s("ten"))
    );
}

#[test]
fn set_operands_read_the_original_item() {
    let a = r#"{"a":{"N":"1"}}"#;
    let new = ok(Update::new().set("a", n(2)).set("b", p("a")), a);
    assert_eq!((&new["a"], &new["b"]), (&n(2), &n(1)));
    let moved = ok(Update::new().remove("a").set("b", p("a")), a);
    assert_eq!(moved, item(r#"{"b":{"N":"1"}}"#));
    let chained = apply(Update::new().set("x", n(4)).set("y", p("x")), a);
    assert_eq!(err(chained), NONEXISTENT);
}

#[test]
fn set_arithmetic_is_exact_and_reports_number_errors() {
    let it = r#"{"f":{"N":"0.1"},"big":{"N":"9.9E125"},"s":{"S":"x"}}"#;
    let plus = |a: &str, b: V| apply(Update::new().set_expr("r", SetValue::plus(p(a), b)), it);
    assert_eq!(plus("f", num("0.2")).expect("adds")["r"], num("0.3"));
    // A result needing more than 38 digits is worded as DynamoDB words it: as an overflow.
    assert!(err(plus("big", n(1))).starts_with("Number overflow"));
    let inexact = Update::new().set_expr("r", SetValue::minus(num("1E50"), n(1)));
    assert!(err(apply(inexact, it)).starts_with("Number overflow"));
    let added = apply(Update::new().add("big", n(1)), it);
    assert!(err(added).starts_with("Number overflow"));
    assert!(err(plus("big", num("9E125"))).starts_with("Number overflow"));
    assert_eq!(
        [err(plus("s", n(1))), err(plus("missing", n(1)))],
        [BAD_TYPE, NONEXISTENT]
    );
    let minus = Update::new().set_expr("r", SetValue::minus(n(7), p("f")));
    assert_eq!(ok(minus, it)["r"], num("6.9"));
    let literal = err(Update::new()
        .set_expr("r", SetValue::plus(s("1"), n(1)))
        .validate());
    assert!(literal.ends_with("operator or function: +, operand type: S"));
}

#[test]
fn if_not_exists_uses_the_default_only_when_missing() {
    let u = Update::new()
        .set("a", ValueExpr::if_not_exists("a", n(9)))
        .set("b", ValueExpr::if_not_exists("c", n(4)))
        .set_expr(
            "d",
            SetValue::plus(ValueExpr::if_not_exists("d", n(0)), n(1)),
        );
    let expected = item(r#"{"a":{"N":"2"},"b":{"N":"4"},"d":{"N":"1"}}"#);
    assert_eq!(ok(u, r#"{"a":{"N":"2"}}"#), expected);
}

#[test]
fn list_append_concatenates_lists_and_rejects_other_operands() {
    let it = r#"{"l":{"L":[{"N":"1"}]},"s":{"S":"x"}}"#;
    let u = Update::new()
        .set("l", ValueExpr::list_append(p("l"), l(&[n(2)])))
        .set("f", ValueExpr::list_append(l(&[n(0)]), p("l")))
        .set(
            "g",
            ValueExpr::list_append(ValueExpr::if_not_exists("g", l(&[])), l(&[n(5)])),
        );
    let new = ok(u, it);
    assert_eq!(
        [&new["l"], &new["f"]],
        [&l(&[n(1), n(2)]), &l(&[n(0), n(1)])]
    );
    assert_eq!(new["g"], l(&[n(5)]));
    let append = |a: ValueExpr| {
        apply(
            Update::new().set("r", ValueExpr::list_append(a, l(&[]))),
            it,
        )
    };
    assert_eq!(
        [err(append(p("missing").into())), err(append(p("s").into()))],
        [NONEXISTENT, BAD_TYPE]
    );
    assert!(err(append(s("x").into())).ends_with("function: list_append, operand type: S"));
    let bad_literal = err(append(l(&[V::Ss(BTreeSet::new())]).into()));
    assert!(bad_literal.starts_with("ExpressionAttributeValues contains invalid value"));
    let nested = err(append(ValueExpr::list_append(l(&[]), l(&[]))));
    assert!(
        nested.ends_with("not allowed to be used this way in an expression; function: list_append")
    );
}

#[test]
fn set_of_a_list_index_past_the_end_appends_in_index_order() {
    let it = r#"{"a":{"L":[{"S":"one"},{"S":"two"},{"S":"three"}]}}"#;
    let u = Update::new()
        .set(p("a[84]"), s("a1"))
        .set(p("a[37]"), s("a2"));
    let new = ok(u.set(p("a[17]"), s("a3")).set(p("a[50]"), s("a4")), it);
    assert_eq!(
        new["a"],
        l(&["one", "two", "three", "a3", "a2", "a4", "a1"].map(s))
    );
    let huge = ok(
        Update::new().set(Path::attr("a").index(usize::MAX), s("x")),
        it,
    );
    assert_eq!(p("a[3]").resolve(&huge), Some(&s("x")));
}

#[test]
fn set_under_a_missing_or_scalar_parent_is_invalid_for_update() {
    for path in [
        "c.c",
        "s.c",
        "l.c",
        "s[0]",
        "missing[0]",
        "m.arr[5].x",
        "m.deep[0]",
    ] {
        assert_eq!(err(apply(Update::new().set(p(path), n(1)), ITEM)), BAD_PATH);
    }
    assert_eq!(err(Update::new().set(p("c.c"), n(1)).apply(None)), BAD_PATH);
}

#[test]
fn remove_of_missing_attributes_is_a_no_op() {
    let u = Update::new()
        .remove("missing")
        .remove(p("m.nope"))
        .remove(p("l[17]"));
    assert_eq!(ok(u.remove(p("m.arr[2]")), ITEM), item(ITEM));
    let new = ok(Update::new().remove("s").remove(p("m.deep.x")), ITEM);
    assert!(!new.contains_key("s"));
    assert_eq!(
        p("m.deep").resolve(&new),
        Some(&V::M(BTreeMap::new())),
        "an empty map stays"
    );
}

#[test]
fn remove_under_a_missing_parent_is_invalid_unless_the_item_is_missing() {
    for path in ["x.y", "s.y", "s[0]", "x[0]", "m.x.y"] {
        assert_eq!(err(apply(Update::new().remove(p(path)), ITEM)), BAD_PATH);
    }
    assert_eq!(
        Update::new().remove(p("x.y")).apply(None).ok(),
        Some(Item::new())
    );
}

#[test]
fn remove_of_several_list_indexes_uses_the_original_positions() {
    let it = r#"{"a":{"L":[{"N":"2"},{"N":"3"},{"N":"4"},{"N":"5"},{"N":"6"},{"N":"7"}]}}"#;
    let new = ok(Update::new().remove(p("a[1]")).set(p("a[3]"), n(17)), it);
    assert_eq!(new["a"], l(&[n(2), n(4), n(17), n(6), n(7)]));
    let new = ok(
        Update::new()
            .remove(p("a[1]"))
            .remove(p("a[2]"))
            .remove(p("a[5]")),
        it,
    );
    assert_eq!(new["a"], l(&[n(2), n(5), n(6)]));
    // a[6] did not exist before the update, so it is not the element SET appends.
    let new = ok(Update::new().set(p("a[9]"), n(9)).remove(p("a[6]")), it);
    assert_eq!(p("a[6]").resolve(&new), Some(&n(9)));
}

#[test]
fn add_to_a_number_counts_a_missing_one_as_zero() {
    let u = Update::new().add("n", n(5)).add("fresh", n(7));
    let new = ok(u.add(p("m.count"), n(-1)), ITEM);
    assert_eq!((&new["n"], &new["fresh"]), (&n(15), &n(7)));
    assert_eq!(p("m.count").resolve(&new), Some(&n(-1)), "nested ADD");
    assert_eq!(ok(Update::new().add("n", n(-20)), ITEM)["n"], n(-10));
    assert_eq!(err(apply(Update::new().add("s", n(1)), ITEM)), BAD_TYPE);
    assert_eq!(
        err(apply(Update::new().add(p("x.y"), n(1)), ITEM)),
        BAD_PATH
    );
}

#[test]
fn add_to_a_set_unions_and_creates_it() {
    let u = Update::new()
        .add("ss", ss(["blue", "red"]))
        .add("new", ns([1]));
    let new = ok(u, ITEM);
    assert_eq!(new["ss"], ss(["blue", "green", "red"]));
    assert_eq!(new["new"], ns([1]));
    for (path, value) in [("ss", ns([1])), ("n", ss(["a"])), ("l", ss(["a"]))] {
        assert_eq!(err(apply(Update::new().add(path, value), ITEM)), BAD_TYPE);
    }
}

#[test]
fn delete_from_a_set_removes_the_attribute_when_it_empties() {
    let del = |path: &str, value: V| ok(Update::new().delete(p(path), value), ITEM);
    assert_eq!(del("ss", ss(["red", "pink"]))["ss"], ss(["green"]));
    assert!(!del("ss", ss(["red", "green"])).contains_key("ss"));
    assert_eq!(del("missing", ns([1])), item(ITEM));
    let it = r#"{"m":{"M":{"tags":{"SS":["x"]}}},"l":{"L":[{"NS":["1"]},{"N":"2"}]}}"#;
    let u = Update::new()
        .delete(p("m.tags"), ss(["x"]))
        .delete(p("l[0]"), ns([1]));
    assert_eq!(ok(u, it), item(r#"{"m":{"M":{}},"l":{"L":[{"N":"2"}]}}"#));
    for (path, value) in [("ss", ns([1])), ("s", ss(["b"]))] {
        assert_eq!(
            err(apply(Update::new().delete(path, value), ITEM)),
            BAD_TYPE
        );
    }
}

#[test]
fn add_and_delete_accept_only_numbers_and_sets() {
    let string = err(Update::new().add("a", s("x")).validate());
    let expected = "Invalid UpdateExpression: Incorrect operand type for operator or \
                    function; operator: ADD, operand type: STRING";
    assert_eq!(string, expected);
    let list = err(Update::new().add("a", l(&[])).validate());
    assert!(list.ends_with("ADD, operand type: LIST"));
    let number = err(Update::new().delete("a", n(1)).validate());
    assert!(number.ends_with("DELETE, operand type: NUMBER"));
    let empty = err(Update::new().delete("a", V::Ss(BTreeSet::new())).validate());
    assert!(empty.contains("may not be empty"));
}

#[test]
fn validate_rejects_overlapping_and_conflicting_paths_and_empty_updates() {
    let pairs = [
        ("a", "a"),
        ("a", "a.b"),
        ("a.b.c", "a.b"),
        ("a[1]", "a"),
        ("a[1][1]", "a[1]"),
    ];
    for (one, two) in pairs {
        let message = err(Update::new().set(p(one), n(1)).remove(p(two)).validate());
        assert!(message.contains("Two document paths overlap with each other"));
    }
    let conflict = err(Update::new()
        .set(p("a.b"), n(1))
        .add(p("a[1]"), n(1))
        .validate());
    let expected = "Invalid UpdateExpression: Two document paths conflict with each other; \
        must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]";
    assert_eq!(conflict, expected);
    let fine = Update::new()
        .set(p("a.b"), n(1))
        .remove(p("a.c"))
        .set(p("a.bb"), n(1));
    assert!(fine.delete("b", ns([1])).validate().is_ok());
    // No action is an UpdateItem without an expression: allowed (an empty expression string
    // is refused by the parser).
    assert!(Update::new().validate().is_ok());
}

#[test]
fn updated_paths_lists_every_target_in_action_order() {
    let u = Update::new().set(p("a.b"), n(1)).remove("c").add("d", n(1));
    let paths = u.delete("e", ns([1])).updated_paths();
    assert_eq!(paths, [p("a.b"), p("c"), p("d"), p("e")]);
}

#[test]
fn project_keeps_requested_nested_elements_and_compacts_list_picks() {
    let it = item(
        r#"{"a":{"M":{"b":{"N":"1"},"c":{"N":"2"}}},"o":{"S":"o"},
            "letters":{"L":[{"S":"x"},{"S":"y"},{"S":"z"}]}}"#,
    );
    let paths = [
        p("a.c"),
        p("letters[2]"),
        p("letters[0]"),
        p("o"),
        p("no"),
        p("a.no"),
    ];
    let expected =
        item(r#"{"a":{"M":{"c":{"N":"2"}}},"letters":{"L":[{"S":"x"},{"S":"z"}]},"o":{"S":"o"}}"#);
    assert_eq!(project(&it, &paths), expected);
    let paths = [p("m.arr[1]"), p("m.deep.x"), p("l[2].k"), p("l[0]")];
    let expected = item(
        r#"{"m":{"M":{"arr":{"L":[{"N":"2"}]},"deep":{"M":{"x":{"S":"y"}}}}},
            "l":{"L":[{"S":"a"},{"M":{"k":{"N":"1"}}}]}}"#,
    );
    assert_eq!(project(&item(ITEM), &paths), expected);
}

#[test]
fn project_merges_overlapping_paths_which_validate_projection_rejects() {
    let it = item(ITEM);
    let merged = project(&it, &[p("m.deep"), p("m"), p("m.arr[0]")]);
    assert_eq!(merged, project(&it, &[p("m")]));
    let overlap = err(validate_projection(&[p("m.deep"), p("m")]));
    assert!(overlap.starts_with("Invalid ProjectionExpression: Two document paths overlap"));
    assert!(validate_projection(&[p("m.deep"), p("m.arr[0]"), p("n")]).is_ok());
    assert!(validate_projection(&[Path(Vec::new())]).is_err());
}

pub(super) fn value() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![
        ".{0,6}".prop_map(V::S),
        any::<i64>().prop_map(V::number),
        proptest::collection::vec(any::<u8>(), 0..4).prop_map(V::B),
        any::<bool>().prop_map(V::Bool),
        Just(V::Null),
        proptest::collection::btree_set("[a-c]{1,2}", 1..4).prop_map(V::Ss),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(V::L),
            proptest::collection::btree_map("[a-c]{1,2}", inner, 0..4).prop_map(V::M),
        ]
    })
}

pub(super) fn items() -> impl Strategy<Value = Item> {
    proptest::collection::btree_map("[a-e]{1,2}", value(), 0..6)
}

proptest! {
    #[test]
    fn project_of_every_top_level_attribute_is_the_identity(it in items()) {
        let paths: Vec<Path> = it.keys().map(|k| Path::attr(k.as_str())).collect();
        prop_assert_eq!(project(&it, &paths), it);
    }

    #[test]
    fn apply_then_attribute_exists_holds_on_every_set_path(
        it in items(),
        sets in proptest::collection::btree_map("[a-h]{1,2}", value(), 1..5),
    ) {
        let update = sets.iter().fold(Update::new(), |u, (k, v)| u.set(k.as_str(), v.clone()));
        let new = update.apply(Some(&it)).expect("top-level SETs apply");
        for (k, v) in &sets {
            let exists = C::attribute_exists(k.as_str()).evaluate(Some(&new));
            prop_assert_eq!(exists.ok(), Some(true));
            prop_assert_eq!(&new[k], v);
        }
        for (k, v) in it.iter().filter(|(k, _)| !sets.contains_key(*k)) {
            prop_assert_eq!(&new[k], v);
        }
    }

    #[test]
    fn ordering_comparators_agree_with_numeric_order(a in any::<i64>(), b in any::<i64>()) {
        let holds = |op| C::compare(n(a), op, n(b)).evaluate(None).ok();
        prop_assert_eq!(holds(Comparator::Lt), Some(a < b));
        prop_assert_eq!(holds(Comparator::Le), Some(a <= b));
        prop_assert_eq!(holds(Comparator::Gt), Some(a > b));
        prop_assert_eq!(holds(Comparator::Ge), Some(a >= b));
        prop_assert_eq!(holds(Comparator::Eq), Some(a == b));
        prop_assert_eq!(holds(Comparator::Ne), Some(a != b));
    }
}
