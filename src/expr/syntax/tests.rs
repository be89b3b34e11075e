//! Tests of the expression strings: what each parses to, every refusal with DynamoDB's exact
//! message, and the round trip typed → string → typed.

use std::collections::BTreeMap;

use super::*;
use crate::expr::tests::{items, value};
use crate::expr::{Comparator, Operand, PathElement, SetValue, UpdateAction, ValueExpr};
use crate::model::value::{AttributeValue as V, ValueType};
use proptest::prelude::*;
use Condition as C;

fn names() -> BTreeMap<String, String> {
    [
        ("#n", "n"),
        ("#dotted", "a.b"),
        ("#size", "size"),
        ("#k", "k"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn values() -> Item {
    let list = V::L(vec![V::number(1)]);
    let set = V::Ss(["a".to_owned()].into());
    [
        (":s", V::s("x")),
        (":s2", V::s("y")),
        (":n", V::number(1)),
        (":n2", V::number(2)),
        (":l", list),
        (":ss", set),
        (":b", V::B(vec![1])),
        (":t", V::s("SS")),
        (":bad_t", V::s("XX")),
        (":bool", V::Bool(true)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Parses `source` as `kind` against [`names`] and [`values`] (no unused check).
fn parse(kind: ExpressionKind, source: &str) -> Result<Parsed> {
    let (names, values) = (names(), values());
    let mut subs = Substitutions::new(Some(&names), Some(&values))?;
    Ok(match kind {
        ExpressionKind::Update => Parsed::Update(subs.update(source)?),
        ExpressionKind::Projection => Parsed::Projection(subs.projection(source)?),
        _ => Parsed::Condition(subs.condition(kind, source)?),
    })
}

#[derive(Debug, PartialEq)]
enum Parsed {
    Condition(Condition),
    Update(Update),
    Projection(Vec<Path>),
}

fn cond(source: &str) -> Condition {
    match parse(ExpressionKind::Condition, source) {
        Ok(Parsed::Condition(c)) => c,
        other => panic!("{source}: {other:?}"),
    }
}

fn update(source: &str) -> Update {
    match parse(ExpressionKind::Update, source) {
        Ok(Parsed::Update(u)) => u,
        other => panic!("{source}: {other:?}"),
    }
}

fn path(steps: &[&str]) -> Path {
    Path(
        steps
            .iter()
            .map(|s| match s.parse::<usize>() {
                Ok(i) => PathElement::Index(i),
                Err(_) => PathElement::Attribute((*s).to_owned()),
            })
            .collect(),
    )
}

fn at(name: &str) -> Operand {
    Operand::Path(Path::attr(name))
}

fn val(v: V) -> Operand {
    Operand::Value(v)
}

fn compare(left: Operand, op: Comparator, right: Operand) -> Condition {
    C::Compare { left, op, right }
}

#[test]
fn comparisons_functions_and_paths_parse_to_their_typed_values() {
    use Comparator::*;
    let ops = [
        ("=", Eq),
        ("<>", Ne),
        ("<", Lt),
        ("<=", Le),
        (">", Gt),
        (">=", Ge),
    ];
    for (symbol, op) in ops {
        let expected = compare(at("a"), op, val(V::number(1)));
        assert_eq!(cond(&format!("a {symbol} :n")), expected);
        assert_eq!(cond(&format!("a{symbol}:n")), expected, "no spaces needed");
    }
    assert_eq!(
        cond("#n.m[3].#dotted = :s"),
        compare(
            Operand::Path(path(&["n", "m", "3", "a.b"])),
            Eq,
            val(V::s("x"))
        ),
        "a #name stands for one literal name, dots included"
    );
    assert_eq!(
        cond("a BETWEEN :n AND :n2"),
        C::Between {
            value: at("a"),
            low: val(V::number(1)),
            high: val(V::number(2))
        }
    );
    assert_eq!(
        cond("a IN (:n, b, :s)"),
        C::In {
            value: at("a"),
            list: vec![val(V::number(1)), at("b"), val(V::s("x"))]
        }
    );
    assert_eq!(
        cond("attribute_exists(a)"),
        C::AttributeExists(Path::attr("a"))
    );
    assert_eq!(
        cond("attribute_not_exists(#size)"),
        C::AttributeNotExists(Path::attr("size"))
    );
    assert_eq!(
        cond("attribute_type(a, :t)"),
        C::AttributeType(at("a"), ValueType::Ss)
    );
    assert_eq!(
        cond("begins_with(a, :s)"),
        C::BeginsWith(at("a"), val(V::s("x")))
    );
    assert_eq!(
        cond("contains(a, :s)"),
        C::Contains(at("a"), val(V::s("x")))
    );
    assert_eq!(
        cond("size(a) > :n"),
        compare(Operand::Size(Path::attr("a")), Gt, val(V::number(1)))
    );
    assert_eq!(
        cond("size(:s) = :n"),
        compare(val(V::number(1)), Eq, val(V::number(1))),
        "size of a literal is computed at once"
    );
}

/// DynamoDB's guide names a path first in these three functions, but the service takes any
/// operand there: ScyllaDB's Alternator tests, written against DynamoDB, see
/// `attribute_type(:val, :type)`, `begins_with(:str, a)` and `begins_with(a, c)` succeed.
#[test]
fn the_first_operand_of_attribute_type_begins_with_and_contains_may_be_any_operand() {
    let size_a = Operand::Size(Path::attr("a"));
    let set = V::Ss(["a".to_owned()].into());
    assert_eq!(
        cond("attribute_type(:n, :t)"),
        C::AttributeType(val(V::number(1)), ValueType::Ss)
    );
    assert_eq!(
        cond("attribute_type(size(a), :t)"),
        C::AttributeType(size_a.clone(), ValueType::Ss)
    );
    assert_eq!(
        cond("begins_with(:s, a)"),
        C::BeginsWith(val(V::s("x")), at("a"))
    );
    assert_eq!(cond("begins_with(a, b)"), C::BeginsWith(at("a"), at("b")));
    assert_eq!(
        cond("begins_with(:s, :s2)"),
        C::BeginsWith(val(V::s("x")), val(V::s("y")))
    );
    assert_eq!(cond("contains(:ss, a)"), C::Contains(val(set), at("a")));
    assert_eq!(
        cond("contains(size(a), :n)"),
        C::Contains(size_a, val(V::number(1)))
    );
}

/// The fingerprint of a logged `ClientRequestToken` hashes the text the writer prints, so a
/// path-first function must print as it did before any operand could come first.
#[test]
fn the_writer_prints_path_first_functions_as_before_and_other_operands_in_place() {
    let mut writer = ExpressionWriter::new();
    let path_first = C::attribute_type("a", ValueType::N)
        .and(C::begins_with("b", "x"))
        .and(C::contains("c", 1));
    assert_eq!(
        writer.condition(&path_first),
        "attribute_type(#n0, :v0) AND begins_with(#n1, :v1) AND contains(#n2, :v2)"
    );
    let mut writer = ExpressionWriter::new();
    let any_first = C::AttributeType(Operand::value(0), ValueType::N)
        .and(C::BeginsWith(Operand::value("hellohi"), Operand::path("a")))
        .and(C::Contains(Operand::size("a"), Operand::path("c")));
    assert_eq!(
        writer.condition(&any_first),
        "attribute_type(:v0, :v1) AND begins_with(:v2, #n0) AND contains(size(#n0), #n1)"
    );
}

#[test]
fn or_binds_loosest_then_and_then_not_and_keywords_ignore_case() {
    let (a, b, c) = (
        compare(at("a"), Comparator::Eq, val(V::number(1))),
        compare(at("b"), Comparator::Eq, val(V::number(1))),
        compare(at("c"), Comparator::Eq, val(V::number(1))),
    );
    assert_eq!(
        cond("a = :n OR b = :n AND c = :n"),
        a.clone().or(b.clone().and(c.clone()))
    );
    assert_eq!(
        cond("a = :n and b = :n Or c = :n"),
        a.clone().and(b.clone()).or(c.clone())
    );
    assert_eq!(
        cond("NOT a = :n AND b = :n"),
        a.clone().not().and(b.clone())
    );
    assert_eq!(
        cond("not (a = :n or b = :n)"),
        a.clone().or(b.clone()).not()
    );
    assert_eq!(
        cond("a = :n AND (b = :n OR c = :n)"),
        a.clone().and(b.clone().or(c.clone()))
    );
    assert_eq!(
        cond("(a = :n)"),
        a.clone(),
        "one pair of parentheses is never redundant"
    );
    assert_eq!(
        cond("a BETWEEN :n AND :n2 AND b = :n"),
        C::Between {
            value: at("a"),
            low: val(V::number(1)),
            high: val(V::number(2))
        }
        .and(b),
        "BETWEEN takes the first AND"
    );
    assert_eq!(cond("NOT NOT a = :n"), a.not().not());
}

#[test]
fn update_clauses_come_in_any_order_with_their_actions() {
    let parsed = update(
        "remove r, l[1] SET a = :n, b = c + :n, d = if_not_exists(d, :n) - :n2, \
         e = list_append(:l, e) ADD f :n DELETE g :ss",
    );
    assert_eq!(
        parsed.actions,
        vec![
            UpdateAction::Remove(Path::attr("r")),
            UpdateAction::Remove(path(&["l", "1"])),
            UpdateAction::Set(
                Path::attr("a"),
                SetValue::Operand(ValueExpr::Value(V::number(1)))
            ),
            UpdateAction::Set(
                Path::attr("b"),
                SetValue::Plus(
                    ValueExpr::Path(Path::attr("c")),
                    ValueExpr::Value(V::number(1))
                )
            ),
            UpdateAction::Set(
                Path::attr("d"),
                SetValue::Minus(
                    ValueExpr::if_not_exists("d", V::number(1)),
                    ValueExpr::Value(V::number(2))
                )
            ),
            UpdateAction::Set(
                Path::attr("e"),
                SetValue::Operand(ValueExpr::list_append(
                    V::L(vec![V::number(1)]),
                    Path::attr("e")
                ))
            ),
            UpdateAction::Add(Path::attr("f"), V::number(1)),
            UpdateAction::Delete(Path::attr("g"), V::Ss(["a".to_owned()].into())),
        ]
    );
}

#[test]
fn the_last_list_index_dynamodb_takes_is_2_to_the_32_minus_2() {
    let parsed = parse(ExpressionKind::Projection, "a[4294967294], b[007]").expect("accepted");
    let want = vec![Path::attr("a").index(4294967294), Path::attr("b").index(7)];
    assert_eq!(parsed, Parsed::Projection(want));
}

#[test]
fn a_projection_is_a_list_of_paths() {
    let parsed = parse(ExpressionKind::Projection, "a, #n.b[2], #dotted").expect("accepted");
    assert_eq!(
        parsed,
        Parsed::Projection(vec![
            Path::attr("a"),
            path(&["n", "b", "2"]),
            Path::attr("a.b")
        ])
    );
}

#[test]
fn a_key_condition_takes_comparisons_between_and_begins_with_joined_by_and() {
    for ok in [
        "pk = :s",
        "pk = :s AND sk < :n",
        ":n <= sk AND pk = :s",
        "pk = :s AND sk BETWEEN :n AND :n2",
        "pk = :s AND begins_with(sk, :s2)",
        "(pk = :s) AND (sk >= :n)",
    ] {
        let parsed = parse(ExpressionKind::KeyCondition, ok);
        assert!(parsed.is_ok(), "{ok}: {parsed:?}");
    }
}

/// Every refusal: the expression kind, the expression, and DynamoDB's exact message.
const REFUSED: &[(ExpressionKind, &str, &str)] = {
    use ExpressionKind::*;
    &[
        // Syntax errors quote the token and the text from the token before to the one after.
        (Condition, "a = ", r#"Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "=""#),
        (Condition, "a", r#"Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "a""#),
        (Condition, "= :n", r#"Invalid ConditionExpression: Syntax error; token: "=", near: "= :n""#),
        (Condition, "a == :n", r#"Invalid ConditionExpression: Syntax error; token: "=", near: "== :n""#),
        (Condition, "a = :n b = :n", r#"Invalid ConditionExpression: Syntax error; token: "b", near: ":n b =""#),
        (Condition, "a = :n AND", r#"Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND""#),
        (Condition, "a = :n OR OR b = :n", r#"Invalid ConditionExpression: Syntax error; token: "OR", near: "OR OR b""#),
        (Condition, "(a = :n", r#"Invalid ConditionExpression: Syntax error; token: "<EOF>", near: ":n""#),
        (Condition, "a = :n)", r#"Invalid ConditionExpression: Syntax error; token: ")", near: ":n)""#),
        (Condition, "()", r#"Invalid ConditionExpression: Syntax error; token: ")", near: "()""#),
        (Condition, "a != :n", r#"Invalid ConditionExpression: Syntax error; token: "!", near: "a !=""#),
        (Condition, "a = 5", r#"Invalid ConditionExpression: Syntax error; token: "5", near: "= 5""#),
        (Condition, "a = 'x'", r#"Invalid ConditionExpression: Syntax error; token: "'", near: "= 'x""#),
        (Condition, "a = \"x\"", r#"Invalid ConditionExpression: Syntax error; token: """, near: "= "x""#),
        (Condition, "a[x] = :n", r#"Invalid ConditionExpression: Syntax error; token: "x", near: "[x]""#),
        (Condition, "a[] = :n", r#"Invalid ConditionExpression: Syntax error; token: "]", near: "[] =""#),
        // A list index beyond DynamoDB's range (2^32 - 2 is the last it takes).
        (Projection, "a[99999999999999]", "Invalid ProjectionExpression: List index is not within the allowable range; index: [99999999999999]"),
        (Update, "SET a[4294967295] = :n", "Invalid UpdateExpression: List index is not within the allowable range; index: [4294967295]"),
        (Condition, "a[99999999999999999999999] = :n", "Invalid ConditionExpression: List index is not within the allowable range; index: [99999999999999999999999]"),
        (Condition, "a[1 = :n", r#"Invalid ConditionExpression: Syntax error; token: "=", near: "1 = :n""#),
        (Condition, "a. = :n", r#"Invalid ConditionExpression: Syntax error; token: "=", near: ". = :n""#),
        (Condition, ".a = :n", r#"Invalid ConditionExpression: Syntax error; token: ".", near: ".a""#),
        (Condition, "[0] = :n", r#"Invalid ConditionExpression: Syntax error; token: "[", near: "[0""#),
        (Condition, "a = : n", r#"Invalid ConditionExpression: Syntax error; token: ":", near: "= : n""#),
        (Condition, "# = :n", r##"Invalid ConditionExpression: Syntax error; token: "#", near: "# =""##),
        (Condition, "_a = :n", r#"Invalid ConditionExpression: Syntax error; token: "_", near: "_a""#),
        (Condition, "1a = :n", r#"Invalid ConditionExpression: Syntax error; token: "1", near: "1a""#),
        (Condition, "a BETWEEN :n :n2", r#"Invalid ConditionExpression: Syntax error; token: ":n2", near: ":n :n2""#),
        (Condition, "a BETWEEN :n OR :n2", r#"Invalid ConditionExpression: Syntax error; token: "OR", near: ":n OR :n2""#),
        (Condition, "a IN :n", r#"Invalid ConditionExpression: Syntax error; token: ":n", near: "IN :n""#),
        (Condition, "a IN ()", r#"Invalid ConditionExpression: Syntax error; token: ")", near: "()""#),
        (Condition, "a IN (:n,)", r#"Invalid ConditionExpression: Syntax error; token: ")", near: ",)""#),
        (Condition, "a IN (:n :s)", r#"Invalid ConditionExpression: Syntax error; token: ":s", near: ":n :s)""#),
        (Condition, "attribute_exists(a", r#"Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "a""#),
        (Condition, "attribute_exists()", r#"Invalid ConditionExpression: Syntax error; token: ")", near: "()""#),
        (Condition, "attribute_exists(a) = :n", r#"Invalid ConditionExpression: Syntax error; token: "=", near: ") = :n""#),
        (Condition, "size(a)", r#"Invalid ConditionExpression: Syntax error; token: "<EOF>", near: ")""#),
        (Condition, "a = :n NOT b = :n", r#"Invalid ConditionExpression: Syntax error; token: "NOT", near: ":n NOT b""#),
        (Condition, "a = :n;", r#"Invalid ConditionExpression: Syntax error; token: ";", near: ":n;""#),
        (Condition, "a = :n +", r#"Invalid ConditionExpression: Syntax error; token: "+", near: ":n +""#),
        (Condition, "a = é", r#"Invalid ConditionExpression: Syntax error; token: "é", near: "= é""#),
        // Reserved words, case-insensitively, wherever a bare name stands.
        (Condition, "Size = :n", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Size"),
        (Condition, "a.name = :n", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name"),
        (Condition, "attribute_exists(data)", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: data"),
        (Condition, "a = :n AND status = :s", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"),
        (Filter, "year > :n", "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: year"),
        (Update, "SET count = :n", "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: count"),
        (Update, "REMOVE a, comment", "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: comment"),
        (Update, "SET a = value", "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: value"),
        (Projection, "a, date", "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: date"),
        (KeyCondition, "key = :s", "Invalid KeyConditionExpression: Attribute name is a reserved keyword; reserved keyword: key"),
        // Undefined substitutions.
        (Condition, "#missing = :n", "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #missing"),
        (Condition, "a.#missing = :n", "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #missing"),
        (Condition, "a = :missing", "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :missing"),
        (Filter, "a IN (:n, :missing)", "Invalid FilterExpression: An expression attribute value used in expression is not defined; attribute value: :missing"),
        (Update, "SET #missing = :n", "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #missing"),
        (Update, "ADD a :missing", "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :missing"),
        (Projection, "#missing", "Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: #missing"),
        (KeyCondition, "pk = :missing", "Invalid KeyConditionExpression: An expression attribute value used in expression is not defined; attribute value: :missing"),
        // Parentheses.
        (Condition, "((a = :n))", "Invalid ConditionExpression: The expression has redundant parentheses;"),
        (Condition, "b = :n AND ((a = :n))", "Invalid ConditionExpression: The expression has redundant parentheses;"),
        (Filter, "(((a = :n)) OR b = :n)", "Invalid FilterExpression: The expression has redundant parentheses;"),
        (Condition, "NOT ((a = :n))", "Invalid ConditionExpression: The expression has redundant parentheses;"),
        // Empty.
        (Condition, "", "Invalid ConditionExpression: The expression can not be empty;"),
        (Filter, "   ", "Invalid FilterExpression: The expression can not be empty;"),
        (Update, "", "Invalid UpdateExpression: The expression can not be empty;"),
        (Projection, " ", "Invalid ProjectionExpression: The expression can not be empty;"),
        (KeyCondition, "", "Invalid KeyConditionExpression: The expression can not be empty;"),
        // Functions.
        (Condition, "exists(a)", "Invalid ConditionExpression: Invalid function name; function: exists"),
        (Condition, "ATTRIBUTE_EXISTS(a)", "Invalid ConditionExpression: Invalid function name; function: ATTRIBUTE_EXISTS"),
        (Condition, "if_not_exists(a, :n)", "Invalid ConditionExpression: The function is not allowed in a condition expression; function: if_not_exists"),
        (Condition, "list_append(a, :l)", "Invalid ConditionExpression: The function is not allowed in a condition expression; function: list_append"),
        (Condition, "attribute_exists(a, b)", "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2"),
        (Condition, "begins_with(a)", "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"),
        (Condition, "contains(a, :s, :s2)", "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: contains, number of operands: 3"),
        (Condition, "size(a, b) = :n", "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: size, number of operands: 2"),
        (Condition, "attribute_exists(:s)", "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists"),
        (Condition, "attribute_not_exists(size(a))", "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_not_exists"),
        // attribute_type, begins_with and contains take any operand first (see
        // the_first_operand_of_attribute_type_begins_with_and_contains_may_be_any_operand), but
        // size() still wants a path and begins_with a string or binary, in either place.
        (Condition, "contains(size(size(a)), :n)", "Invalid ConditionExpression: Operator or function requires a document path; operator or function: size"),
        (Condition, "begins_with(size(a), :s)", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"),
        (Condition, "begins_with(:n, a)", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"),
        (Condition, "attribute_type(:s, b)", "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_type"),
        (Condition, "attribute_type(:s, size(b))", "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_type"),
        (Condition, "size(size(a)) = :n", "Invalid ConditionExpression: Operator or function requires a document path; operator or function: size"),
        (Condition, "a = attribute_exists(b)", "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_exists"),
        (Condition, "size(:n) = :n", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: N"),
        (Condition, "size(:bool) = :n", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: BOOL"),
        (Condition, "attribute_type(a, :bad_t)", "Invalid ConditionExpression: Invalid attribute type name found; type: XX, valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }"),
        (Condition, "attribute_type(a, :n)", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N"),
        (Condition, "attribute_type(a, b)", "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_type"),
        (Condition, "begins_with(a, :n)", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"),
        (Condition, "contains(a, a)", "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: contains, first operand: [a]"),
        // Comparisons the typed checks refuse.
        (Condition, "a < :bool", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: <, operand type: BOOL"),
        (Condition, "a >= :l", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: >=, operand type: L"),
        (Condition, "a = a", "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]"),
        (Condition, "a BETWEEN :n2 AND :n", "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {N:1}"),
        (Condition, "a BETWEEN :n AND :s", "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:x}"),
        (Filter, "a BETWEEN :ss AND :ss", "Invalid FilterExpression: Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: SS"),
        // Key conditions.
        (KeyCondition, "pk = :s OR sk = :n", "Invalid operator used in KeyConditionExpression: OR"),
        (KeyCondition, "NOT pk = :s", "Invalid operator used in KeyConditionExpression: NOT"),
        (KeyCondition, "pk IN (:s)", "Invalid operator used in KeyConditionExpression: IN"),
        (KeyCondition, "pk <> :s", "Invalid operator used in KeyConditionExpression: <>"),
        (KeyCondition, "pk = :s AND contains(sk, :s)", "Invalid operator used in KeyConditionExpression: contains"),
        (KeyCondition, "attribute_exists(pk)", "Invalid operator used in KeyConditionExpression: attribute_exists"),
        (KeyCondition, "attribute_not_exists(pk)", "Invalid operator used in KeyConditionExpression: attribute_not_exists"),
        (KeyCondition, "attribute_type(pk, :t)", "Invalid operator used in KeyConditionExpression: attribute_type"),
        (KeyCondition, "size(pk) = :n", "Invalid operator used in KeyConditionExpression: size"),
        // The sort key first in begins_with: a value or size() there is refused as the parser
        // refused it before conditions took any operand first.
        (KeyCondition, "pk = :s AND begins_with(:s2, sk)", "Invalid KeyConditionExpression: Operator or function requires a document path; operator or function: begins_with"),
        (KeyCondition, "begins_with(size(sk), :s) AND pk = :s", "Invalid KeyConditionExpression: Operator or function requires a document path; operator or function: begins_with"),
        // Refused where the parser meets it, whatever else the expression holds (a review
        // found these answering OR, NOT, nesting or an undefined value instead).
        (KeyCondition, "begins_with(:s, sk) OR pk = :s", "Invalid KeyConditionExpression: Operator or function requires a document path; operator or function: begins_with"),
        (KeyCondition, "NOT begins_with(:s, sk)", "Invalid KeyConditionExpression: Operator or function requires a document path; operator or function: begins_with"),
        (KeyCondition, "a.b = :s AND begins_with(:s, sk)", "Invalid KeyConditionExpression: Operator or function requires a document path; operator or function: begins_with"),
        (KeyCondition, "begins_with(:s, sk) AND pk = :zz", "Invalid KeyConditionExpression: Operator or function requires a document path; operator or function: begins_with"),
        (KeyCondition, "pk = :s AND contains(:s, sk)", "Invalid KeyConditionExpression: Operator or function requires a document path; operator or function: contains"),
        (KeyCondition, "attribute_type(:s, :t)", "Invalid KeyConditionExpression: Operator or function requires a document path; operator or function: attribute_type"),
        (KeyCondition, "pk = :s AND", r#"Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "AND""#),
        // A key condition names top-level attributes only (DynamoDB's message, checked against the service by ExtendDB and Dynoxide).
        (KeyCondition, "pk.a = :s", "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested attributes"),
        (KeyCondition, "pk = :s AND sk[0] = :n", "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested attributes"),
        (KeyCondition, "pk = :s AND :n < sk.a", "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested attributes"),
        (KeyCondition, "pk = :s AND begins_with(sk.a, :s2)", "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested attributes"),
        (KeyCondition, "pk = :s AND sk.a BETWEEN :n AND :n2", "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested attributes"),
        // Updates.
        (Update, "SET a = :n SET b = :n", "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;"),
        (Update, "REMOVE a remove b", "Invalid UpdateExpression: The \"REMOVE\" section can only be used once in an update expression;"),
        (Update, "ADD a :n ADD b :n", "Invalid UpdateExpression: The \"ADD\" section can only be used once in an update expression;"),
        (Update, "DELETE a :ss DELETE b :ss", "Invalid UpdateExpression: The \"DELETE\" section can only be used once in an update expression;"),
        (Update, "a = :n", r#"Invalid UpdateExpression: Syntax error; token: "a", near: "a =""#),
        (Update, "SET a :n", r#"Invalid UpdateExpression: Syntax error; token: ":n", near: "a :n""#),
        (Update, "SET a = ", r#"Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "=""#),
        (Update, "SET a = :n,", r#"Invalid UpdateExpression: Syntax error; token: "<EOF>", near: ",""#),
        (Update, "SET a = :n + :n + :n", r#"Invalid UpdateExpression: Syntax error; token: "+", near: ":n + :n""#),
        (Update, "SET a = :n * :n", r#"Invalid UpdateExpression: Syntax error; token: "*", near: ":n * :n""#),
        (Update, "SET", r#"Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "SET""#),
        (Update, "UPSERT a = :n", r#"Invalid UpdateExpression: Syntax error; token: "UPSERT", near: "UPSERT a""#),
        (Update, "ADD a b", r#"Invalid UpdateExpression: Syntax error; token: "b", near: "a b""#),
        (Update, "ADD a", r#"Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "a""#),
        (Update, "DELETE a :ss, b", r#"Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "b""#),
        (Update, "REMOVE a = :n", r#"Invalid UpdateExpression: Syntax error; token: "=", near: "a = :n""#),
        (Update, "SET a = size(b)", "Invalid UpdateExpression: The function is not allowed in an update expression; function: size"),
        (Update, "SET a = attribute_exists(b)", "Invalid UpdateExpression: The function is not allowed in an update expression; function: attribute_exists"),
        (Update, "SET a = append(b, :l)", "Invalid UpdateExpression: Invalid function name; function: append"),
        (Update, "SET a = if_not_exists(:n, :n)", "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists"),
        (Update, "SET a = if_not_exists(a)", "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: if_not_exists, number of operands: 1"),
        (Update, "SET a = list_append(:l)", "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1"),
        (Update, "SET a = :n, a = :n2", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"),
        (Update, "SET a = :n REMOVE a.b", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"),
        (Update, "SET a[0] = :n REMOVE a.b", "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [0]], path two: [a, b]"),
        (Update, "SET a = :s + :n", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S"),
        (Update, "SET a = list_append(:n, b)", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: N"),
        (Update, "ADD a :s", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"),
        (Update, "ADD a :l", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: LIST"),
        (Update, "DELETE a :n", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"),
        (Update, "DELETE a :bool", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: BOOLEAN"),
        // Projections.
        (Projection, "a,", r#"Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ",""#),
        (Projection, "a b", r#"Invalid ProjectionExpression: Syntax error; token: "b", near: "a b""#),
        (Projection, ":s", r#"Invalid ProjectionExpression: Syntax error; token: ":s", near: ":s""#),
        (Projection, "size(a)", "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: size"),
        (Projection, "a(b)", r#"Invalid ProjectionExpression: Syntax error; token: "(", near: "a(b""#),
        (Projection, "a, a", "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"),
        (Projection, "a.b, a", "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]"),
        (Projection, "a[1], a.b", "Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [1]], path two: [a, b]"),
    ]
};

#[test]
fn every_refused_expression_gets_dynamodbs_exception_and_message() {
    assert!(REFUSED.len() >= 100, "{} cases", REFUSED.len());
    let wrong: Vec<String> = REFUSED
        .iter()
        .filter_map(|&(kind, source, message)| match parse(kind, source) {
            Err(Error::Validation(m)) if m == message => None,
            other => Some(format!(
                "{}: {source}\n  got {other:?}\n want {message}",
                kind.parameter()
            )),
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_size_over_4_kb_is_refused_and_4_kb_is_not() {
    let at_limit = format!("a = :n{}", " ".repeat(MAX_EXPRESSION_BYTES - 6));
    assert_eq!(at_limit.len(), MAX_EXPRESSION_BYTES);
    assert!(parse(ExpressionKind::Condition, &at_limit).is_ok());
    let over = format!("{at_limit} ");
    let message = "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097";
    assert_eq!(
        parse(ExpressionKind::Condition, &over)
            .expect_err("refused")
            .to_string(),
        format!("ValidationException: {message}")
    );
}

#[test]
fn nesting_past_the_depth_bound_is_refused_without_exhausting_the_stack() {
    let deep = |n: usize| format!("{}a = :n", "NOT ".repeat(n));
    assert!(parse(ExpressionKind::Condition, &deep(MAX_DEPTH)).is_ok());
    let refused = parse(ExpressionKind::Condition, &deep(MAX_DEPTH + 1)).expect_err("refused");
    assert!(
        refused.to_string().contains("nested too deeply"),
        "{refused}"
    );
    // Within 4 KB: parentheses and function calls nested as deep as the size allows.
    let parens = format!("{}a = :n{}", "(".repeat(2000), ")".repeat(2000));
    assert!(parse(ExpressionKind::Condition, &parens).is_err());
    let calls = format!(
        "SET a = {}:l{}",
        "list_append(:l, ".repeat(250),
        ")".repeat(250)
    );
    assert!(parse(ExpressionKind::Update, &calls).is_err());
}

#[test]
fn substitution_maps_are_checked_before_any_expression() {
    let refuse = |names: &[(&str, &str)], values: &[(&str, V)], message: &str| {
        let names: BTreeMap<String, String> = names
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let values: Item = values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        match Substitutions::new(Some(&names), Some(&values)) {
            Err(Error::Validation(m)) => assert_eq!(m, message),
            other => panic!("{message}: {other:?}"),
        }
    };
    let long = format!("#{}", "n".repeat(MAX_PLACEHOLDER_BYTES));
    refuse(
        &[("n", "a")],
        &[],
        r#"ExpressionAttributeNames contains invalid key: Syntax error; key: "n""#,
    );
    refuse(
        &[("#", "a")],
        &[],
        r##"ExpressionAttributeNames contains invalid key: Syntax error; key: "#""##,
    );
    refuse(
        &[("#a-b", "a")],
        &[],
        r##"ExpressionAttributeNames contains invalid key: Syntax error; key: "#a-b""##,
    );
    refuse(
        &[(&long, "a")],
        &[],
        &format!(
            r#"ExpressionAttributeNames contains invalid key: The key is longer than 255 bytes; key: "{long}""#
        ),
    );
    refuse(
        &[("#a", "")],
        &[],
        r##"ExpressionAttributeNames contains invalid value: Empty attribute name; key: "#a""##,
    );
    refuse(
        &[],
        &[("v", V::number(1))],
        r#"ExpressionAttributeValues contains invalid key: Syntax error; key: "v""#,
    );
    let empty_set = Item::from([(":v".to_owned(), V::Ss(Default::default()))]);
    let refused = Substitutions::new(None, Some(&empty_set))
        .expect_err("refused")
        .to_string();
    let what = "ValidationException: ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An string set";
    assert!(refused.starts_with(what), "{refused}");
    let at_limit = format!("#{}", "n".repeat(MAX_PLACEHOLDER_BYTES - 1));
    let names = BTreeMap::from([(at_limit.clone(), "a".to_owned())]);
    let mut subs = Substitutions::new(Some(&names), None).expect("accepted");
    subs.condition(
        ExpressionKind::Condition,
        &format!("attribute_exists({at_limit})"),
    )
    .expect("accepted");
    subs.finish().expect("accepted");
}

#[test]
fn entries_no_expression_of_the_request_used_are_refused() {
    let (names, values) = (names(), values());
    let mut subs = Substitutions::new(Some(&names), Some(&values)).expect("accepted");
    subs.update("SET #n = :n, #k = :s").expect("accepted");
    subs.condition(
        ExpressionKind::Condition,
        "#dotted <> :s2 AND #size IN (:n2, :l, :ss, :b, :t, :bad_t, :bool)",
    )
    .expect("accepted");
    subs.finish()
        .expect("every entry used by one expression or the other");

    let mut subs = Substitutions::new(Some(&names), Some(&values)).expect("accepted");
    subs.update("SET #n = :n, #k = :s, #dotted = :l")
        .expect("accepted");
    let message = "Value provided in ExpressionAttributeNames unused in expressions: keys: {#size}";
    assert_eq!(
        subs.finish().expect_err("refused").to_string(),
        format!("ValidationException: {message}")
    );

    let names = BTreeMap::from([("#a".to_owned(), "a".to_owned())]);
    let mut subs = Substitutions::new(Some(&names), Some(&values)).expect("accepted");
    subs.projection("#a").expect("accepted");
    let message = "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b, :bad_t, :bool, :l, :n, :n2, :s, :s2, :ss, :t}";
    assert_eq!(
        subs.finish().expect_err("refused").to_string(),
        format!("ValidationException: {message}")
    );

    let subs = Substitutions::new(Some(&names), None).expect("accepted");
    let message = "ExpressionAttributeNames can only be specified when using expressions";
    assert_eq!(
        subs.finish().expect_err("refused").to_string(),
        format!("ValidationException: {message}")
    );
}

// ---- The round trip: typed → string → typed. ----

fn name() -> impl Strategy<Value = String> {
    // Reserved words, dots and spaces included: the writer substitutes every name.
    prop_oneof![
        "[a-c]",
        Just("size".to_owned()),
        Just("a.b".to_owned()),
        Just("x y".to_owned())
    ]
}

fn typed_path() -> impl Strategy<Value = Path> {
    let step = prop_oneof![
        name().prop_map(PathElement::Attribute),
        (0usize..3).prop_map(PathElement::Index)
    ];
    (name(), proptest::collection::vec(step, 0..3)).prop_map(|(first, rest)| {
        let mut steps = vec![PathElement::Attribute(first)];
        steps.extend(rest);
        Path(steps)
    })
}

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        typed_path().prop_map(Operand::Path),
        value().prop_map(Operand::Value),
        typed_path().prop_map(Operand::Size),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    use Comparator::*;
    let comparator = prop_oneof![Just(Eq), Just(Ne), Just(Lt), Just(Le), Just(Gt), Just(Ge)];
    let value_type = prop_oneof![
        Just(ValueType::S),
        Just(ValueType::Ns),
        Just(ValueType::Bool)
    ];
    let leaf = prop_oneof![
        (operand(), comparator, operand()).prop_map(|(left, op, right)| C::Compare {
            left,
            op,
            right
        }),
        (operand(), operand(), operand()).prop_map(|(value, low, high)| C::Between {
            value,
            low,
            high
        }),
        (operand(), proptest::collection::vec(operand(), 1..4))
            .prop_map(|(value, list)| C::In { value, list }),
        typed_path().prop_map(C::AttributeExists),
        typed_path().prop_map(C::AttributeNotExists),
        // Any operand first, as DynamoDB takes them: a path, a value or size(path).
        (operand(), value_type).prop_map(|(o, t)| C::AttributeType(o, t)),
        (operand(), operand()).prop_map(|(a, b)| C::BeginsWith(a, b)),
        (operand(), operand()).prop_map(|(a, b)| C::Contains(a, b)),
    ];
    leaf.prop_recursive(4, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.and(b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.or(b)),
            inner.prop_map(Condition::not),
        ]
    })
}

fn value_expr() -> impl Strategy<Value = ValueExpr> {
    let leaf = prop_oneof![
        typed_path().prop_map(ValueExpr::Path),
        value().prop_map(ValueExpr::Value)
    ];
    leaf.prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (typed_path(), inner.clone()).prop_map(|(p, d)| ValueExpr::if_not_exists(p, d)),
            (inner.clone(), inner).prop_map(|(a, b)| ValueExpr::list_append(a, b)),
        ]
    })
}

fn typed_update() -> impl Strategy<Value = Update> {
    let set_value = prop_oneof![
        value_expr().prop_map(SetValue::Operand),
        (value_expr(), value_expr()).prop_map(|(a, b)| SetValue::Plus(a, b)),
        (value_expr(), value_expr()).prop_map(|(a, b)| SetValue::Minus(a, b)),
    ];
    let action = prop_oneof![
        (typed_path(), set_value).prop_map(|(p, v)| UpdateAction::Set(p, v)),
        typed_path().prop_map(UpdateAction::Remove),
        (typed_path(), value()).prop_map(|(p, v)| UpdateAction::Add(p, v)),
        (typed_path(), value()).prop_map(|(p, v)| UpdateAction::Delete(p, v)),
    ];
    proptest::collection::vec(action, 1..5).prop_map(|actions| Update { actions })
}

/// Parses what the writer wrote, skipping the static checks (random typed values break them;
/// the round trip is about the grammar).
fn reparse(kind: ExpressionKind, source: &str, writer: ExpressionWriter) -> Result<Parsed> {
    let (names, values) = writer.into_maps();
    let mut subs = Substitutions::new(Some(&names), Some(&values))?;
    let parsed = match kind {
        ExpressionKind::Update => {
            Parsed::Update(parser::Parser::new(source, kind, &mut subs).update()?)
        }
        ExpressionKind::Projection => {
            Parsed::Projection(parser::Parser::new(source, kind, &mut subs).projection()?)
        }
        _ => Parsed::Condition(parser::Parser::new(source, kind, &mut subs).condition()?),
    };
    subs.expressions += 1;
    subs.finish()?;
    Ok(parsed)
}

/// The update's actions grouped by clause in order of first appearance, as the writer writes.
fn grouped(update: &Update) -> Update {
    let rank = |a: &UpdateAction| {
        let same = |b: &&UpdateAction| std::mem::discriminant(*b) == std::mem::discriminant(a);
        update.actions.iter().position(|b| same(&b))
    };
    let mut actions = update.actions.clone();
    actions.sort_by_key(|a| rank(a));
    Update { actions }
}

proptest! {
    #[test]
    fn a_written_condition_parses_back_to_itself(c in condition()) {
        let mut writer = ExpressionWriter::new();
        let text = writer.condition(&c);
        prop_assume!(text.len() <= MAX_EXPRESSION_BYTES);
        let parsed = reparse(ExpressionKind::Condition, &text, writer);
        prop_assert_eq!(parsed.ok(), Some(Parsed::Condition(c)), "{}", text);
    }

    #[test]
    fn a_written_update_parses_back_to_itself_grouped_by_clause(u in typed_update()) {
        let mut writer = ExpressionWriter::new();
        let text = writer.update(&u);
        let parsed = reparse(ExpressionKind::Update, &text, writer);
        prop_assert_eq!(parsed.ok(), Some(Parsed::Update(grouped(&u))), "{}", text);
    }

    #[test]
    fn a_written_projection_parses_back_to_itself(paths in proptest::collection::vec(typed_path(), 1..5)) {
        let mut writer = ExpressionWriter::new();
        let text = writer.projection(&paths);
        let parsed = reparse(ExpressionKind::Projection, &text, writer);
        prop_assert_eq!(parsed.ok(), Some(Parsed::Projection(paths)), "{}", text);
    }

    #[test]
    fn a_parsed_condition_evaluates_as_its_typed_form(c in condition(), item in items()) {
        let mut writer = ExpressionWriter::new();
        let text = writer.condition(&c);
        let (names, values) = writer.into_maps();
        let mut subs = Substitutions::new(Some(&names), Some(&values)).expect("accepted");
        // Through the public entry point: the static checks refuse both forms alike.
        match subs.condition(ExpressionKind::Condition, &text) {
            Ok(parsed) => prop_assert_eq!(parsed.evaluate(Some(&item)).ok(), c.evaluate(Some(&item)).ok()),
            Err(e) => prop_assert_eq!(Some(e.to_string()), c.validate().err().map(|e| e.to_string())),
        }
    }
}
