//! DynamoDB's legacy conditional parameters through the operations that take them: the
//! developer guide's examples of `Expected`, every `ComparisonOperator` in `QueryFilter` and
//! `ScanFilter`, `ConditionalOperator`, `KeyConditions`, `AttributesToGet` and
//! `AttributeUpdates`, and DynamoDB's refusals (a legacy parameter beside its expression,
//! a wrong number of values, `Value` and `Exists` that contradict).

mod behaviour;

use std::collections::BTreeMap;

use behaviour::*;
use serde_json::json;
use tidestore::ScalarAttributeType::{N, S};
use tidestore::*;

const CATALOG: &str = "ProductCatalog";

fn catalog() -> Database {
    let db = db();
    db.create_table(
        CreateTableInput::new(CATALOG)
            .hash_key("Id", N)
            .pay_per_request(),
    )
    .expect("create");
    db
}

fn id(n: &str) -> Item {
    item(json!({"Id": {"N": n}}))
}

fn expected<const K: usize>(
    entries: [(&str, ExpectedAttributeValue); K],
) -> BTreeMap<String, ExpectedAttributeValue> {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

fn value(v: AttributeValue) -> ExpectedAttributeValue {
    ExpectedAttributeValue::value(v)
}

fn exists(flag: bool) -> ExpectedAttributeValue {
    ExpectedAttributeValue::exists(flag)
}

fn compared(op: ComparisonOperator, values: Vec<AttributeValue>) -> ExpectedAttributeValue {
    ExpectedAttributeValue::compare(op, values)
}

fn conditions<const K: usize>(
    entries: [(&str, ComparisonOperator, Vec<AttributeValue>); K],
) -> BTreeMap<String, LegacyCondition> {
    entries
        .into_iter()
        .map(|(k, op, values)| (k.to_owned(), LegacyCondition::new(op, values)))
        .collect()
}

#[test]
fn the_guides_expected_examples_behave_as_documented() {
    // LegacyConditionalParameters.Conditions: put only if no item has the key, both forms.
    let db = catalog();
    let book = item(json!({"Id": {"N": "500"}, "Title": {"S": "Book 500 Title"}}));
    db.put_item(
        PutItemInput::new(CATALOG, book.clone()).expected(expected([("Id", exists(false))])),
    )
    .expect("no item yet");
    condition_failed(db.put_item(
        PutItemInput::new(CATALOG, book.clone()).expected(expected([("Id", exists(false))])),
    ));
    let null = compared(ComparisonOperator::Null, Vec::new());
    condition_failed(
        db.put_item(PutItemInput::new(CATALOG, book).expected(expected([("Id", null)]))),
    );

    // Delete a book only if it is no longer in publication, both forms.
    put(
        &db,
        CATALOG,
        item(json!({"Id": {"N": "600"}, "InPublication": {"BOOL": true}})),
    );
    let mut old_form = value(AttributeValue::Bool(false));
    old_form.exists = Some(true);
    condition_failed(db.delete_item(
        DeleteItemInput::new(CATALOG, id("600")).expected(expected([("InPublication", old_form)])),
    ));
    let new_form = compared(ComparisonOperator::Eq, vec![AttributeValue::Bool(false)]);
    condition_failed(
        db.delete_item(
            DeleteItemInput::new(CATALOG, id("600"))
                .expected(expected([("InPublication", new_form.clone())])),
        ),
    );
    put(
        &db,
        CATALOG,
        item(json!({"Id": {"N": "600"}, "InPublication": {"BOOL": false}})),
    );
    db.delete_item(
        DeleteItemInput::new(CATALOG, id("600")).expected(expected([("InPublication", new_form)])),
    )
    .expect("out of publication");
    assert_eq!(get(&db, CATALOG, id("600")), None);
}

#[test]
fn several_expected_entries_combine_with_the_conditional_operator() {
    let db = catalog();
    put(
        &db,
        CATALOG,
        item(json!({"Id": {"N": "1"}, "Price": {"N": "650"}, "ProductCategory": {"S": "Bicycle"}})),
    );
    let both = || {
        expected([
            ("Price", compared(ComparisonOperator::Gt, vec![n("100")])),
            (
                "ProductCategory",
                compared(ComparisonOperator::Eq, vec![s("Book")]),
            ),
        ])
    };
    let update = |op: Option<ConditionalOperator>| {
        let checked = AttributeValueUpdate::new(AttributeAction::Put, Some(true.into()));
        let input = UpdateItemInput::for_key(CATALOG, id("1"))
            .attribute_updates(BTreeMap::from([("Checked".to_owned(), checked)]))
            .expected(both());
        match op {
            Some(op) => input.conditional_operator(op),
            None => input,
        }
    };
    condition_failed(db.update_item(update(None)));
    condition_failed(db.update_item(update(Some(ConditionalOperator::And))));
    db.update_item(update(Some(ConditionalOperator::Or)))
        .expect("one of two holds");
}

#[test]
fn every_comparison_operator_filters_a_scan_as_its_expression_does() {
    let db = catalog();
    for (i, (title, price, tags)) in [
        ("Alpha", "10", ["a", "b"]),
        ("Beta", "20", ["b", "c"]),
        ("Gamma", "30", ["c", "d"]),
    ]
    .into_iter()
    .enumerate()
    {
        put(
            &db,
            CATALOG,
            item(
                json!({"Id": {"N": (i + 1).to_string()}, "Title": {"S": title}, "Price": {"N": price}, "Tags": {"SS": tags}}),
            ),
        );
    }
    let ids = |filter: BTreeMap<String, LegacyCondition>, op: Option<ConditionalOperator>| {
        let mut scan = ScanInput::new(CATALOG).scan_filter(filter);
        if let Some(op) = op {
            scan = scan.conditional_operator(op);
        }
        let mut got: Vec<String> = db
            .scan(scan)
            .expect("scan")
            .items
            .iter()
            .map(|i| i["Id"].as_n().expect("id").to_string())
            .collect();
        got.sort();
        got
    };
    use ComparisonOperator::*;
    let cases: Vec<(BTreeMap<String, LegacyCondition>, &[&str])> = vec![
        (conditions([("Price", Eq, vec![n("20")])]), &["2"]),
        (conditions([("Price", Ne, vec![n("20")])]), &["1", "3"]),
        (conditions([("Price", Lt, vec![n("20")])]), &["1"]),
        (conditions([("Price", Le, vec![n("20")])]), &["1", "2"]),
        (conditions([("Price", Gt, vec![n("20")])]), &["3"]),
        (conditions([("Price", Ge, vec![n("20")])]), &["2", "3"]),
        (
            conditions([("Price", Between, vec![n("15"), n("30")])]),
            &["2", "3"],
        ),
        (
            conditions([("Price", In, vec![n("10"), n("30"), n("99")])]),
            &["1", "3"],
        ),
        (conditions([("Title", BeginsWith, vec![s("Be")])]), &["2"]),
        (conditions([("Title", Contains, vec![s("mm")])]), &["3"]),
        (conditions([("Tags", Contains, vec![s("b")])]), &["1", "2"]),
        (conditions([("Tags", NotContains, vec![s("b")])]), &["3"]),
        // Unlike `NOT contains(…)`, NOT_CONTAINS fails on a missing attribute.
        (conditions([("Missing", NotContains, vec![s("b")])]), &[]),
        (conditions([("Title", NotNull, vec![])]), &["1", "2", "3"]),
        (conditions([("Missing", Null, vec![])]), &["1", "2", "3"]),
        (
            conditions([(
                "Tags",
                Eq,
                vec![AttributeValue::ss(["c", "b"]).expect("set")],
            )]),
            &["2"],
        ),
    ];
    for (filter, want) in cases {
        let shown = format!("{filter:?}");
        assert_eq!(ids(filter, None), want, "{shown}");
    }
    let two = || {
        conditions([
            ("Price", Lt, vec![n("15")]),
            ("Title", Eq, vec![s("Gamma")]),
        ])
    };
    assert_eq!(ids(two(), None), Vec::<String>::new(), "AND by default");
    assert_eq!(ids(two(), Some(ConditionalOperator::Or)), ["1", "3"]);
}

#[test]
fn key_conditions_query_filter_and_attributes_to_get_drive_a_query() {
    let db = db();
    db.create_table(
        CreateTableInput::new("Music")
            .hash_key("Artist", S)
            .range_key("SongTitle", S)
            .pay_per_request(),
    )
    .expect("create");
    for (title, year) in [
        ("Call Me Today", "2009"),
        ("Happy Day", "2015"),
        ("Hello", "2018"),
    ] {
        put(
            &db,
            "Music",
            item(json!({"Artist": {"S": "Acme"}, "SongTitle": {"S": title}, "Year": {"N": year}})),
        );
    }
    use ComparisonOperator::*;
    let query = QueryInput::table("Music")
        .key_conditions(conditions([
            ("Artist", Eq, vec![s("Acme")]),
            ("SongTitle", BeginsWith, vec![s("H")]),
        ]))
        .query_filter(conditions([("Year", Gt, vec![n("2016")])]))
        .attributes_to_get(vec!["SongTitle".into()]);
    let out = db.query(query).expect("query");
    assert_eq!(out.items, [item(json!({"SongTitle": {"S": "Hello"}}))]);
    assert_eq!(out.scanned_count, 2);

    let not_indexable =
        QueryInput::table("Music").key_conditions(conditions([("Artist", Contains, vec![s("A")])]));
    validation(
        db.query(not_indexable),
        "Attempted conditional constraint is not an indexable operation",
    );

    let key = item(json!({"Artist": {"S": "Acme"}, "SongTitle": {"S": "Hello"}}));
    let got = db
        .get_item(GetItemInput::new("Music", key.clone()).attributes_to_get(vec!["Year".into()]))
        .expect("get");
    assert_eq!(got.item, Some(item(json!({"Year": {"N": "2018"}}))));
    let mut batch = BatchGetItemInput::default();
    batch.request_items.insert(
        "Music".into(),
        KeysAndAttributes::new(vec![key]).attributes_to_get(vec!["Year".into()]),
    );
    assert_eq!(
        db.batch_get_item(batch).expect("batch").responses["Music"],
        [item(json!({"Year": {"N": "2018"}}))]
    );
}

#[test]
fn attribute_updates_put_add_and_delete_as_documented() {
    let db = catalog();
    put(
        &db,
        CATALOG,
        item(
            json!({"Id": {"N": "7"}, "Price": {"N": "10"}, "Color": {"SS": ["Red", "Blue"]}, "Old": {"S": "x"}, "Notes": {"L": [{"S": "a"}]}}),
        ),
    );
    let update = |entries: Vec<(&str, AttributeAction, Option<AttributeValue>)>| {
        let map = entries
            .into_iter()
            .map(|(k, action, value)| (k.to_owned(), AttributeValueUpdate::new(action, value)))
            .collect();
        UpdateItemInput::for_key(CATALOG, id("7"))
            .attribute_updates(map)
            .return_values(ReturnValue::AllNew)
    };
    use AttributeAction::*;
    let new = db
        .update_item(update(vec![
            ("Price", Add, Some(n("5"))),
            (
                "Color",
                Delete,
                Some(AttributeValue::ss(["Red"]).expect("set")),
            ),
            ("Old", Delete, None),
            ("Title", Put, Some(s("Bike"))),
            ("Notes", Add, Some(AttributeValue::L(vec![s("b")]))),
            ("Fresh", Add, Some(AttributeValue::L(vec![s("z")]))),
        ]))
        .expect("update")
        .attributes
        .expect("ALL_NEW");
    assert_eq!(
        new,
        item(
            json!({"Id": {"N": "7"}, "Price": {"N": "15"}, "Color": {"SS": ["Blue"]}, "Title": {"S": "Bike"},
            "Notes": {"L": [{"S": "a"}, {"S": "b"}]}, "Fresh": {"L": [{"S": "z"}]}})
        )
    );
    validation(
        db.update_item(update(vec![("Price", Put, None)])),
        "Only DELETE action is allowed when no attribute value is specified",
    );
    validation(
        db.update_item(update(vec![("Price", Delete, Some(n("1")))])),
        "DELETE action with value is not supported for the type N",
    );
    validation(
        db.update_item(update(vec![("Title", Add, Some(s("x")))])),
        "ADD action is not supported for the type S",
    );
}

/// An `AttributeUpdates` `ADD` or `DELETE` whose value does not fit the stored attribute is
/// refused with DynamoDB's "Type mismatch for attribute to update" (Alternator's
/// `test_update_item_add` and `test_update_item_delete`, which pass on DynamoDB), while the same
/// action as an `UpdateExpression` keeps the expression's wording.
#[test]
fn attribute_updates_that_do_not_fit_the_stored_type_are_a_type_mismatch() {
    let db = catalog();
    put(
        &db,
        CATALOG,
        item(
            json!({"Id": {"N": "3"}, "Colors": {"SS": ["Red"]}, "Notes": {"L": []}, "Dims": {"M": {}}, "Price": {"N": "2"}}),
        ),
    );
    use AttributeAction::*;
    let numbers = AttributeValue::ns([1]).expect("set");
    for (name, action, value) in [
        ("Colors", Add, n("1")),
        ("Colors", Add, AttributeValue::L(vec![s("x")])),
        ("Colors", Add, numbers.clone()),
        ("Notes", Add, numbers.clone()),
        ("Price", Add, AttributeValue::L(vec![s("x")])),
        ("Dims", Delete, numbers.clone()),
        ("Colors", Delete, numbers.clone()),
    ] {
        let input =
            UpdateItemInput::for_key(CATALOG, id("3")).attribute_updates(BTreeMap::from([(
                name.to_owned(),
                AttributeValueUpdate::new(action, Some(value)),
            )]));
        let message = validation(
            db.update_item(input),
            "Type mismatch for attribute to update",
        );
        assert_eq!(message, "Type mismatch for attribute to update", "{name}");
    }
    let expression = UpdateItemInput::for_key(CATALOG, id("3"))
        .update_expression("ADD Colors :n")
        .expression_attribute_values(BTreeMap::from([(":n".to_owned(), n("1"))]));
    validation(
        db.update_item(expression),
        "An operand in the update expression has an incorrect data type",
    );
}

#[test]
fn a_legacy_parameter_beside_its_expression_or_with_the_wrong_values_is_refused() {
    let db = catalog();
    put(
        &db,
        CATALOG,
        item(json!({"Id": {"N": "1"}, "Price": {"N": "1"}})),
    );
    let put_both = PutItemInput::new(CATALOG, id("1"))
        .expected(expected([("Id", exists(true))]))
        .condition_expression("attribute_exists(Id)");
    validation(db.put_item(put_both), "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}");
    let scan_both = ScanInput::new(CATALOG)
        .attributes_to_get(vec!["Id".into()])
        .projection_expression("Id");
    validation(db.scan(scan_both), "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}");
    let update_both = UpdateItemInput::for_key(CATALOG, id("1"))
        .update_expression("REMOVE Price")
        .attribute_updates(BTreeMap::from([(
            "Price".to_owned(),
            AttributeValueUpdate::default(),
        )]));
    validation(
        db.update_item(update_both),
        "Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}",
    );

    let refused = |entry: ExpectedAttributeValue, message: &str| {
        let input = DeleteItemInput::new(CATALOG, id("1")).expected(expected([("Price", entry)]));
        validation(db.delete_item(input), message);
    };
    refused(
        exists(true),
        "Value must be provided when Exists is true for Attribute: Price",
    );
    refused(
        ExpectedAttributeValue::default(),
        "Value must be provided when Exists is null for Attribute: Price",
    );
    let mut contradiction = value(n("1"));
    contradiction.exists = Some(false);
    refused(
        contradiction,
        "Value cannot be used when Exists is false for Attribute: Price",
    );
    let mut both = compared(ComparisonOperator::Eq, vec![n("1")]);
    both.exists = Some(true);
    refused(
        both,
        "Exists and ComparisonOperator cannot be used together for Attribute: Price",
    );
    refused(
        compared(ComparisonOperator::Between, vec![n("1")]),
        "Invalid number of argument(s) for the BETWEEN ComparisonOperator",
    );
    refused(
        compared(
            ComparisonOperator::Lt,
            vec![AttributeValue::ss(["a"]).expect("set")],
        ),
        "ComparisonOperator LT is not valid for SS AttributeValue type",
    );
    let mut list_only = compared(ComparisonOperator::Eq, vec![n("1")]);
    list_only.comparison_operator = None;
    refused(
        list_only,
        "AttributeValueList can only be used with a ComparisonOperator for Attribute: Price",
    );

    let scan = ScanInput::new(CATALOG).scan_filter(conditions([(
        "Price",
        ComparisonOperator::Eq,
        vec![],
    )]));
    validation(
        db.scan(scan),
        "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator",
    );
    assert_eq!(
        get(&db, CATALOG, id("1")).expect("untouched")["Price"],
        n("1")
    );
}

#[test]
fn not_contains_on_a_missing_attribute_fails_as_in_dynamodb() {
    // DynamoDB's legacy NOT_CONTAINS is false when the attribute is missing (unlike NE, and
    // unlike `NOT contains(a, v)`): both CONTAINS and NOT_CONTAINS fail on it.
    let db = catalog();
    put(
        &db,
        CATALOG,
        item(json!({"Id": {"N": "1"}, "Tags": {"SS": ["a"]}})),
    );
    let not_contains = |attribute: &str| {
        DeleteItemInput::new(CATALOG, id("1")).expected(expected([(
            attribute,
            compared(ComparisonOperator::NotContains, vec![s("b")]),
        )]))
    };
    condition_failed(db.delete_item(not_contains("Missing")));
    let scan = ScanInput::new(CATALOG).scan_filter(conditions([(
        "Missing",
        ComparisonOperator::NotContains,
        vec![s("b")],
    )]));
    assert!(db.scan(scan).expect("scan").items.is_empty());
    db.delete_item(not_contains("Tags"))
        .expect("Tags exists and does not contain b");
}

#[test]
fn any_legacy_parameter_beside_any_expression_parameter_is_refused_naming_all_of_both() {
    let db = catalog();
    put(
        &db,
        CATALOG,
        item(json!({"Id": {"N": "1"}, "Price": {"N": "1"}})),
    );
    let mixing = |legacy: &str, expression: &str| {
        format!("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{legacy}}} Expression parameters: {{{expression}}}")
    };
    let eq = |v: &str| (ComparisonOperator::Eq, vec![n(v)]);
    // Not each other's counterparts, and still refused.
    let update = UpdateItemInput::for_key(CATALOG, id("1"))
        .expected(expected([("Price", value(n("1")))]))
        .update_expression("SET Price = :p")
        .expression_attribute_value(":p", n("2"));
    validation(
        db.update_item(update),
        &mixing("Expected", "UpdateExpression"),
    );
    let update = UpdateItemInput::for_key(CATALOG, id("1"))
        .attribute_updates(BTreeMap::from([(
            "Price".to_owned(),
            AttributeValueUpdate::new(AttributeAction::Put, Some(n("3"))),
        )]))
        .condition_expression("attribute_exists(Price)");
    validation(
        db.update_item(update),
        &mixing("AttributeUpdates", "ConditionExpression"),
    );
    let (op, values) = eq("1");
    let scan = ScanInput::new(CATALOG)
        .scan_filter(conditions([("Price", op, values)]))
        .projection_expression("Id");
    validation(db.scan(scan), &mixing("ScanFilter", "ProjectionExpression"));
    // Every parameter of each side, in DynamoDB's order; before any unused substitution.
    let (op, values) = eq("1");
    let scan = ScanInput::new(CATALOG)
        .attributes_to_get(vec!["Id".into()])
        .scan_filter(conditions([("Price", op, values)]))
        .conditional_operator(ConditionalOperator::And)
        .filter_expression("Price = :p")
        .projection_expression("Id")
        .expression_attribute_value(":p", n("1"))
        .expression_attribute_value(":unused", n("1"));
    validation(
        db.scan(scan),
        &mixing(
            "AttributesToGet, ScanFilter, ConditionalOperator",
            "ProjectionExpression, FilterExpression",
        ),
    );
    let put = PutItemInput::new(CATALOG, id("1"))
        .conditional_operator(ConditionalOperator::And)
        .condition_expression("attribute_exists(Id)");
    validation(
        db.put_item(put),
        &mixing("ConditionalOperator", "ConditionExpression"),
    );
    // KeyConditions may go with the other expressions of a query.
    let (op, values) = eq("1");
    let query = QueryInput::table(CATALOG)
        .key_conditions(conditions([("Id", op, values)]))
        .filter_expression("Price = :p")
        .expression_attribute_value(":p", n("1"));
    assert_eq!(db.query(query).expect("query").items.len(), 1);
    // One request: a projection string for one table and AttributesToGet for another.
    db.create_table(
        CreateTableInput::new("Other")
            .hash_key("Id", N)
            .pay_per_request(),
    )
    .expect("create");
    let mut batch = BatchGetItemInput::default();
    batch.request_items.insert(
        CATALOG.into(),
        KeysAndAttributes::new(vec![id("1")]).projection_expression("Id"),
    );
    batch.request_items.insert(
        "Other".into(),
        KeysAndAttributes::new(vec![id("1")]).attributes_to_get(vec!["Id".into()]),
    );
    validation(
        db.batch_get_item(batch),
        &mixing("AttributesToGet", "ProjectionExpression"),
    );
}

#[test]
fn conditional_operator_needs_two_or_more_conditions() {
    let db = catalog();
    put(
        &db,
        CATALOG,
        item(json!({"Id": {"N": "1"}, "Price": {"N": "1"}})),
    );
    let without = "ConditionalOperator cannot be used without Filter or Expected";
    let one =
        "ConditionalOperator can only be used when Filter or Expected has two or more elements";
    let scan = || ScanInput::new(CATALOG).conditional_operator(ConditionalOperator::Or);
    validation(db.scan(scan()), without);
    validation(db.scan(scan().scan_filter(BTreeMap::new())), without);
    let single = conditions([("Price", ComparisonOperator::Eq, vec![n("1")])]);
    validation(db.scan(scan().scan_filter(single)), one);
    let put_input =
        || PutItemInput::new(CATALOG, id("1")).conditional_operator(ConditionalOperator::And);
    validation(db.put_item(put_input().expected(BTreeMap::new())), without);
    validation(
        db.put_item(put_input().expected(expected([("Price", value(n("1")))]))),
        one,
    );
    let two = expected([("Price", value(n("1"))), ("Id", value(n("1")))]);
    db.put_item(put_input().expected(two))
        .expect("two conditions");
}

#[test]
fn attribute_value_lists_of_mixed_types_and_numeric_prefixes_are_refused() {
    let db = catalog();
    let scan = |op: ComparisonOperator, values: Vec<AttributeValue>| {
        db.scan(ScanInput::new(CATALOG).scan_filter(conditions([("Price", op, values)])))
    };
    validation(
        scan(ComparisonOperator::In, vec![n("1"), s("1")]),
        "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type",
    );
    validation(
        scan(ComparisonOperator::BeginsWith, vec![n("1")]),
        "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type",
    );
}

#[test]
fn a_wrong_number_of_values_names_the_operator_in_key_conditions_and_filters() {
    // DynamoDB names the operator whatever legacy parameter carries the list, an empty one
    // included; KeyConditions checks a value's type for its operator as a filter does.
    let db = catalog();
    use ComparisonOperator::*;
    let query = |key: Vec<AttributeValue>, filter: Option<(ComparisonOperator, Vec<_>)>| {
        let mut query = QueryInput::table(CATALOG).key_conditions(conditions([("Id", Eq, key)]));
        if let Some((op, values)) = filter {
            query = query.query_filter(conditions([("Price", op, values)]));
        }
        db.query(query)
    };
    let count = |op: &str| {
        format!(
            "One or more parameter values were invalid: Invalid number of argument(s) for the {op} ComparisonOperator"
        )
    };
    validation(query(vec![], None), &count("EQ"));
    validation(query(vec![n("1"), n("1")], None), &count("EQ"));
    for values in [vec![], vec![n("1")], vec![n("1"), n("2"), n("3")]] {
        validation(
            query(vec![n("1")], Some((Between, values))),
            &count("BETWEEN"),
        );
    }
    validation(query(vec![n("1")], Some((In, vec![]))), &count("IN"));
    validation(
        db.scan(ScanInput::new(CATALOG).scan_filter(conditions([("Price", Null, vec![n("1")])]))),
        &count("NULL"),
    );

    db.create_table(
        CreateTableInput::new("Numbered")
            .hash_key("Id", N)
            .range_key("Seq", N)
            .pay_per_request(),
    )
    .expect("create");
    let begins = QueryInput::table("Numbered").key_conditions(conditions([
        ("Id", Eq, vec![n("1")]),
        ("Seq", BeginsWith, vec![n("3")]),
    ]));
    validation(
        db.query(begins),
        "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type",
    );
}

#[test]
fn attributes_to_get_refuses_a_name_twice_and_an_empty_list() {
    let db = catalog();
    put(
        &db,
        CATALOG,
        item(json!({"Id": {"N": "1"}, "Price": {"N": "1"}})),
    );
    let get = |names: &[&str]| {
        let names = names.iter().map(|n| n.to_string()).collect();
        db.get_item(GetItemInput::new(CATALOG, id("1")).attributes_to_get(names))
    };
    validation(
        get(&["Price", "Id", "Price"]),
        "One or more parameter values were invalid: Duplicate value in attribute name: Price",
    );
    validation(
        get(&[]),
        "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
}

#[test]
fn select_beside_a_projection_is_refused_naming_the_parameter_the_caller_sent() {
    let db = catalog();
    let scan = |select: Select, legacy: bool| {
        let input = ScanInput::new(CATALOG).select(select);
        db.scan(if legacy {
            input.attributes_to_get(vec!["Title".into()])
        } else {
            input.projection(vec![Path::attr("Title")])
        })
    };
    // DynamoDB names AttributesToGet when that is what came, and says "only the Count"
    // for COUNT.
    validation(
        scan(Select::AllAttributes, true),
        "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES",
    );
    validation(
        scan(Select::Count, true),
        "Cannot specify the AttributesToGet when choosing to get only the Count",
    );
    validation(
        scan(Select::AllAttributes, false),
        "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES",
    );
    validation(
        scan(Select::Count, false),
        "Cannot specify the ProjectionExpression when choosing to get only the Count",
    );
    // SPECIFIC_ATTRIBUTES is what a projection means, so either parameter may come with it.
    scan(Select::SpecificAttributes, true).expect("AttributesToGet with SPECIFIC_ATTRIBUTES");
    scan(Select::SpecificAttributes, false).expect("a projection with SPECIFIC_ATTRIBUTES");
}
