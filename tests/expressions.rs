//! The expression strings through every operation that takes them: the developer guide's own
//! examples on its `ProductCatalog` table with their documented results, then each input's
//! string form, and the refusals that only a whole request can show (unused substitutions, a
//! string and a typed value for one parameter, key conditions that do not fit the key).

mod behaviour;

use behaviour::*;
use serde_json::json;
use tidestore::ScalarAttributeType::{N, S};
use tidestore::*;

const CATALOG: &str = "ProductCatalog";

/// The guide's `ProductCatalog`: partition key `Id` (N), no sort key.
fn catalog(item_json: serde_json::Value) -> Database {
    let db = db();
    db.create_table(
        CreateTableInput::new(CATALOG)
            .hash_key("Id", N)
            .pay_per_request(),
    )
    .expect("create");
    put(&db, CATALOG, item(item_json));
    db
}

fn id(n: &str) -> Item {
    item(json!({"Id": {"N": n}}))
}

fn values(json: serde_json::Value) -> Item {
    item(json)
}

/// `UpdateItem` with `ReturnValues ALL_NEW`, as every example of the guide's update page runs.
fn update_all_new(db: &Database, input: UpdateItemInput) -> Item {
    db.update_item(input.return_values(ReturnValue::AllNew))
        .expect("update")
        .attributes
        .expect("ALL_NEW returns the item")
}

#[test]
fn the_guides_condition_expression_examples_give_their_documented_results() {
    // Expressions.ConditionExpressions: the sample item.
    let sample = json!({"Id": {"N": "456"}, "ProductCategory": {"S": "Sporting Goods"}, "Price": {"N": "650"}});
    let db = catalog(sample.clone());

    // Preventing overwrites: the item exists, so the put fails.
    let put = PutItemInput::new(CATALOG, item(sample.clone()))
        .condition_expression("attribute_not_exists(Id)");
    condition_failed(db.put_item(put));

    // Checking for attributes: it has a Price and no reviews, so neither delete happens.
    let delete = DeleteItemInput::new(CATALOG, id("456"))
        .condition_expression("attribute_not_exists(Price)");
    condition_failed(db.delete_item(delete));
    let delete = DeleteItemInput::new(CATALOG, id("456"))
        .condition_expression("attribute_exists(ProductReviews.OneStar)");
    condition_failed(db.delete_item(delete));

    // Conditional delete: the category matches but the price is not between 500 and 600.
    let delete = DeleteItemInput::new(CATALOG, id("456"))
        .condition_expression("(ProductCategory IN (:cat1, :cat2)) and (Price between :lo and :hi)")
        .expression_attribute_values(values(json!({
            ":cat1": {"S": "Sporting Goods"}, ":cat2": {"S": "Gardening Supplies"},
            ":lo": {"N": "500"}, ":hi": {"N": "600"}
        })));
    condition_failed(db.delete_item(delete));
    assert!(get(&db, CATALOG, id("456")).is_some());

    // Conditional update: 650 -> 575 -> 500, then the condition fails.
    let discount = || {
        UpdateItemInput::for_key(CATALOG, id("456"))
            .update_expression("SET Price = Price - :discount")
            .condition_expression("Price > :limit")
            .expression_attribute_values(values(
                json!({":discount": {"N": "75"}, ":limit": {"N": "500"}}),
            ))
    };
    assert_eq!(update_all_new(&db, discount())["Price"], n("575"));
    assert_eq!(update_all_new(&db, discount())["Price"], n("500"));
    condition_failed(db.update_item(discount()));
    assert_eq!(
        get(&db, CATALOG, id("456")).expect("item")["Price"],
        n("500")
    );
}

/// ScyllaDB's Alternator tests, written against DynamoDB (test_condition_expression.py), show
/// functions taking more than the guide's `path` first; the same requests here give the same
/// results.
#[test]
fn functions_take_a_value_or_a_second_path_first_as_dynamodb_does() {
    let db = db();
    pk_table(&db, "T01");
    put(&db, "T01", attrs([("pk", s("p")), ("a", s("hello"))]));
    let update = |condition: &str, value: AttributeValue| {
        UpdateItemInput::for_key("T01", attrs([("pk", s("p"))]))
            .update_expression("SET c = :val")
            .condition_expression(condition)
            .expression_attribute_value(":val", value)
    };
    let c = |db: &Database| get(db, "T01", attrs([("pk", s("p"))])).expect("item")["c"].clone();

    // attribute_type(:val, :type) tests the literal: 0 is an N.
    let typed =
        update("attribute_type(:val, :type)", n("0")).expression_attribute_value(":type", s("N"));
    db.update_item(typed).expect("0 is a number");
    assert_eq!(c(&db), n("0"));
    let typed =
        update("attribute_type(:val, :type)", n("0")).expression_attribute_value(":type", s("S"));
    condition_failed(db.update_item(typed));

    // begins_with(:str, a): the literal begins with a's value.
    let reversed =
        update("begins_with(:str, a)", s("he")).expression_attribute_value(":str", s("hellohi"));
    db.update_item(reversed)
        .expect("'hellohi' begins with 'hello'");
    assert_eq!(c(&db), s("he"));
    let reversed =
        update("begins_with(:str, a)", s("x")).expression_attribute_value(":str", s("hell"));
    condition_failed(db.update_item(reversed));

    // begins_with(a, c): two attributes; c is now 'he'.
    db.update_item(update("begins_with(a, c)", n("5")))
        .expect("'hello' begins with 'he'");
    assert_eq!(c(&db), n("5"));

    // contains(:set, a): the literal set holds a's value; a filter reads it the same way.
    let member = update("contains(:names, a)", n("6"))
        .expression_attribute_value(":names", ss(["hello", "world"]));
    db.update_item(member).expect("the set holds 'hello'");
    let found = |names: AttributeValue| {
        let scan = ScanInput::new("T01")
            .filter_expression("contains(:names, a) AND attribute_type(size(a), :type)")
            .expression_attribute_value(":names", names)
            .expression_attribute_value(":type", s("N"));
        db.scan(scan).expect("scan").items.len()
    };
    assert_eq!(found(ss(["hello", "world"])), 1);
    assert_eq!(found(ss(["hi", "world"])), 0, "no 'hello' in the set");

    // The type stays an expression attribute value: a path there is refused.
    let path_type = UpdateItemInput::for_key("T01", attrs([("pk", s("p"))]))
        .update_expression("SET c = :val")
        .condition_expression("attribute_type(a, b)")
        .expression_attribute_value(":val", n("1"));
    validation(
        db.update_item(path_type),
        "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_type",
    );
    assert_eq!(c(&db), n("6"), "nothing written by the refusals");
}

#[test]
fn the_guides_update_expression_examples_give_their_documented_results() {
    // Expressions.UpdateExpressions: the sample item, then each example in the page's order.
    let db = catalog(json!({
        "Id": {"N": "789"}, "ProductCategory": {"S": "Home Improvement"}, "Price": {"N": "52"},
        "InStock": {"BOOL": true}, "Brand": {"S": "Acme"}
    }));
    let update = |expression: &str| {
        UpdateItemInput::for_key(CATALOG, id("789")).update_expression(expression)
    };

    let new = update_all_new(
        &db,
        update("SET ProductCategory = :c, Price = :p").expression_attribute_values(values(
            json!({":c": {"S": "Hardware"}, ":p": {"N": "60"}}),
        )),
    );
    assert_eq!(
        (&new["ProductCategory"], &new["Price"]),
        (&s("Hardware"), &n("60"))
    );

    let new = update_all_new(
        &db,
        update("SET RelatedItems = :ri, ProductReviews = :pr").expression_attribute_values(values(
            json!({
                ":ri": {"L": [{"S": "Hammer"}]},
                ":pr": {"M": {"FiveStar": {"L": [{"S": "Best product ever!"}]}}}
            }),
        )),
    );
    assert_eq!(
        new["RelatedItems"],
        item(json!({"x": {"L": [{"S": "Hammer"}]}}))["x"]
    );

    // An index past the end appends.
    let new = update_all_new(
        &db,
        update("SET RelatedItems[1] = :ri").expression_attribute_value(":ri", s("Nails")),
    );
    assert_eq!(new["RelatedItems"], list(&["Hammer", "Nails"]));

    let new = update_all_new(
        &db,
        update("SET #pr.#5star[1] = :r5, #pr.#3star = :r3")
            .expression_attribute_name("#pr", "ProductReviews")
            .expression_attribute_name("#5star", "FiveStar")
            .expression_attribute_name("#3star", "ThreeStar")
            .expression_attribute_values(values(json!({
                ":r5": {"S": "Very happy with my purchase"},
                ":r3": {"L": [{"S": "Just OK - not that great"}]}
            }))),
    );
    let reviews = item(json!({"r": {"M": {
        "FiveStar": {"L": [{"S": "Best product ever!"}, {"S": "Very happy with my purchase"}]},
        "ThreeStar": {"L": [{"S": "Just OK - not that great"}]}
    }}}));
    assert_eq!(new["ProductReviews"], reviews["r"]);

    let new = update_all_new(
        &db,
        update("SET Price = Price - :p").expression_attribute_value(":p", n("15")),
    );
    assert_eq!(new["Price"], n("45"));

    let new = update_all_new(
        &db,
        update("SET #ri = list_append(#ri, :vals)")
            .expression_attribute_name("#ri", "RelatedItems")
            .expression_attribute_value(":vals", list(&["Screwdriver", "Hacksaw"])),
    );
    assert_eq!(
        new["RelatedItems"],
        list(&["Hammer", "Nails", "Screwdriver", "Hacksaw"])
    );
    let new = update_all_new(
        &db,
        update("SET #ri = list_append(:vals, #ri)")
            .expression_attribute_name("#ri", "RelatedItems")
            .expression_attribute_value(":vals", list(&["Chisel"])),
    );
    assert_eq!(
        new["RelatedItems"],
        list(&["Chisel", "Hammer", "Nails", "Screwdriver", "Hacksaw"]),
        "the guide's five elements, in its order"
    );

    // if_not_exists: Price exists, so nothing happens.
    let new = update_all_new(
        &db,
        update("SET Price = if_not_exists(Price, :p)").expression_attribute_value(":p", n("100")),
    );
    assert_eq!(new["Price"], n("45"));

    let new = update_all_new(&db, update("REMOVE Brand, InStock, QuantityOnHand"));
    assert!(!new.contains_key("Brand") && !new.contains_key("InStock"));

    let new = update_all_new(&db, update("REMOVE RelatedItems[1], RelatedItems[2]"));
    assert_eq!(
        new["RelatedItems"],
        list(&["Chisel", "Screwdriver", "Hacksaw"])
    );

    let add_quantity = || update("ADD QuantityOnHand :q").expression_attribute_value(":q", n("5"));
    assert_eq!(
        update_all_new(&db, add_quantity())["QuantityOnHand"],
        n("5")
    );
    assert_eq!(
        update_all_new(&db, add_quantity())["QuantityOnHand"],
        n("10")
    );

    let colors = |members: &[&str]| AttributeValue::ss(members.iter().copied()).expect("a set");
    let add =
        |members: &[&str]| update("ADD Color :c").expression_attribute_value(":c", colors(members));
    assert_eq!(
        update_all_new(&db, add(&["Orange", "Purple"]))["Color"],
        colors(&["Orange", "Purple"])
    );
    let new = update_all_new(&db, add(&["Yellow", "Green", "Blue"]));
    assert_eq!(
        new["Color"],
        colors(&["Orange", "Purple", "Yellow", "Green", "Blue"])
    );
    let new = update_all_new(
        &db,
        update("DELETE Color :p").expression_attribute_value(":p", colors(&["Yellow", "Purple"])),
    );
    assert_eq!(new["Color"], colors(&["Orange", "Green", "Blue"]));
}

fn transact(actions: Vec<TransactWriteItem>) -> TransactWriteItemsInput {
    TransactWriteItemsInput::new(actions)
}

fn list(members: &[&str]) -> AttributeValue {
    AttributeValue::L(members.iter().map(|m| s(m)).collect())
}

/// A table of songs: `Artist` (S) and `SongTitle` (S), with `Year` and `Genre`.
fn music() -> Database {
    let db = db();
    db.create_table(
        CreateTableInput::new("Music")
            .hash_key("Artist", S)
            .range_key("SongTitle", S)
            .pay_per_request(),
    )
    .expect("create");
    for (artist, title, year, genre) in [
        ("Acme Band", "Happy Day", "2015", "Rock"),
        ("Acme Band", "Hello Again", "2018", "Pop"),
        ("Acme Band", "Zebra", "2001", "Rock"),
        ("No One You Know", "Call Me Today", "2009", "Country"),
    ] {
        put(
            &db,
            "Music",
            item(
                json!({"Artist": {"S": artist}, "SongTitle": {"S": title}, "Year": {"N": year}, "Genre": {"S": genre}}),
            ),
        );
    }
    db
}

fn titles(items: &[Item]) -> Vec<&str> {
    items
        .iter()
        .map(|i| i["SongTitle"].as_s().expect("a title"))
        .collect()
}

#[test]
fn query_takes_key_condition_filter_and_projection_strings() {
    let db = music();
    let query = QueryInput::table("Music")
        .key_condition_expression("Artist = :a AND begins_with(SongTitle, :h)")
        .filter_expression("#y > :year")
        .projection_expression("SongTitle, #y")
        .expression_attribute_name("#y", "Year")
        .expression_attribute_value(":a", s("Acme Band"))
        .expression_attribute_value(":h", s("H"))
        .expression_attribute_value(":year", n("2016"));
    let out = db.query(query).expect("query");
    assert_eq!(titles(&out.items), ["Hello Again"]);
    assert_eq!(
        out.scanned_count, 2,
        "the filter runs after the key condition"
    );
    assert_eq!(out.items[0].len(), 2, "only the projected attributes");

    // The value may come first, as DynamoDB allows: `:t <= SongTitle` is `SongTitle >= :t`.
    let query = QueryInput::table("Music")
        .key_condition_expression(":t <= SongTitle AND Artist = :a")
        .expression_attribute_value(":a", s("Acme Band"))
        .expression_attribute_value(":t", s("Hello"));
    assert_eq!(
        titles(&db.query(query).expect("query").items),
        ["Hello Again", "Zebra"]
    );

    let query = QueryInput::table("Music")
        .key_condition_expression("Artist = :a AND SongTitle BETWEEN :lo AND :hi")
        .expression_attribute_value(":a", s("Acme Band"))
        .expression_attribute_value(":lo", s("Happy"))
        .expression_attribute_value(":hi", s("Hz"));
    assert_eq!(
        titles(&db.query(query).expect("query").items),
        ["Happy Day", "Hello Again"]
    );
}

#[test]
fn a_key_condition_that_does_not_fit_the_key_is_refused_with_dynamodbs_message() {
    let db = music();
    let refused = |expression: &str, message: &str| {
        let query = QueryInput::table("Music")
            .key_condition_expression(expression)
            .expression_attribute_value(":v", s("x"));
        let got = validation(db.query(query), message);
        assert!(got.ends_with(message), "{expression}: {got}");
    };
    refused(
        "SongTitle = :v",
        "Query condition missed key schema element: Artist",
    );
    refused(
        "Artist = :v AND Artist = :v",
        "KeyConditionExpressions must only contain one condition per key",
    );
    refused("Artist < :v", "Query key condition not supported");
    refused(
        "Artist = :v AND Genre = :v",
        "Query condition missed key schema element: SongTitle",
    );
    refused(
        "Artist = :v OR SongTitle = :v",
        "Invalid operator used in KeyConditionExpression: OR",
    );
    refused(
        "Artist = :v AND SongTitle <> :v",
        "Invalid operator used in KeyConditionExpression: <>",
    );
    // begins_with in a key condition wants the sort key first, whatever a condition takes.
    refused(
        "Artist = :v AND begins_with(:v, SongTitle)",
        "Invalid KeyConditionExpression: Operator or function requires a document path; operator or function: begins_with",
    );
    refused(
        "Artist.x = :v",
        "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested attributes",
    );
    let none = db.query(QueryInput::table("Music"));
    validation(none, "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.");
}

#[test]
fn scan_get_and_batch_reads_take_projection_and_filter_strings() {
    let db = music();
    let scan = ScanInput::new("Music")
        .filter_expression("Genre = :g AND attribute_exists(#y)")
        .projection_expression("SongTitle")
        .expression_attribute_name("#y", "Year")
        .expression_attribute_value(":g", s("Rock"));
    let out = db.scan(scan).expect("scan");
    let mut got = titles(&out.items);
    got.sort_unstable();
    assert_eq!(got, ["Happy Day", "Zebra"]);
    assert!(out.items.iter().all(|i| i.len() == 1));

    let key = item(json!({"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Zebra"}}));
    let got = db
        .get_item(
            GetItemInput::new("Music", key.clone())
                .projection_expression("#y, Genre")
                .expression_attribute_name("#y", "Year"),
        )
        .expect("get")
        .item
        .expect("found");
    assert_eq!(
        got,
        item(json!({"Year": {"N": "2001"}, "Genre": {"S": "Rock"}}))
    );

    let mut batch = BatchGetItemInput::default();
    batch.request_items.insert(
        "Music".into(),
        KeysAndAttributes::new(vec![key.clone()]).projection_expression("Genre"),
    );
    let out = db.batch_get_item(batch).expect("batch get");
    assert_eq!(
        out.responses["Music"],
        [item(json!({"Genre": {"S": "Rock"}}))]
    );

    let out = db
        .transact_get_items(TransactGetItemsInput::new(vec![TransactGetItem::new(
            "Music", key,
        )
        .projection_expression("SongTitle")]))
        .expect("transact get");
    assert_eq!(
        out.responses[0].item,
        Some(item(json!({"SongTitle": {"S": "Zebra"}})))
    );
}

#[test]
fn transaction_actions_take_condition_and_update_strings() {
    let db = music();
    let key = |title: &str| item(json!({"Artist": {"S": "Acme Band"}, "SongTitle": {"S": title}}));
    let transaction = |year: &str| {
        transact(vec![
            TransactWriteItem::ConditionCheck(
                ConditionCheckInput::new("Music", key("Zebra"))
                    .condition_expression("#y = :y")
                    .expression_attribute_name("#y", "Year")
                    .expression_attribute_value(":y", n(year)),
            ),
            TransactWriteItem::Update(
                UpdateItemInput::for_key("Music", key("Happy Day"))
                    .update_expression("ADD Plays :one")
                    .expression_attribute_value(":one", n("1")),
            ),
        ])
    };
    let reasons = canceled(db.transact_write_items(transaction("1999")));
    assert_eq!(codes(&reasons), ["ConditionalCheckFailed", "None"]);
    db.transact_write_items(transaction("2001"))
        .expect("the check holds");
    assert_eq!(
        get(&db, "Music", key("Happy Day")).expect("item")["Plays"],
        n("1")
    );

    let check_without_condition = transact(vec![TransactWriteItem::ConditionCheck(
        ConditionCheckInput::new("Music", key("Zebra")),
    )]);
    validation(
        db.transact_write_items(check_without_condition),
        "conditionCheck.conditionExpression",
    );
}

#[test]
fn a_request_refuses_unused_substitutions_and_a_parameter_given_twice() {
    let db = music();
    let key = item(json!({"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Zebra"}}));
    // Used by neither the update nor the condition.
    let update = UpdateItemInput::for_key("Music", key.clone())
        .update_expression("SET Genre = :g")
        .condition_expression("attribute_exists(Genre)")
        .expression_attribute_value(":g", s("Jazz"))
        .expression_attribute_value(":unused", s("x"));
    validation(
        db.update_item(update),
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}",
    );
    // Used by the condition only: fine.
    let update = UpdateItemInput::for_key("Music", key.clone())
        .update_expression("SET Genre = :g")
        .condition_expression("Genre <> :g2")
        .expression_attribute_value(":g", s("Jazz"))
        .expression_attribute_value(":g2", s("Jazz"));
    db.update_item(update).expect("every entry used");

    let both = PutItemInput::new("Music", key.clone())
        .condition(Condition::attribute_exists("Genre"))
        .condition_expression("attribute_exists(Genre)");
    validation(
        db.put_item(both),
        "Both a typed value and the string ConditionExpression were given",
    );

    let mut wrong_kind = PutItemInput::new("Music", key.clone());
    wrong_kind.expressions.update_expression = Some("SET a = :v".into());
    validation(
        db.put_item(wrong_kind),
        "PutItem does not take the parameter UpdateExpression",
    );

    let names_alone =
        GetItemInput::new("Music", key.clone()).expression_attribute_name("#a", "Artist");
    validation(
        db.get_item(names_alone),
        "ExpressionAttributeNames can only be specified when using expressions",
    );

    let empty = GetItemInput::new("Music", key)
        .projection_expression("Artist")
        .expression_attribute_names(Default::default());
    validation(
        db.get_item(empty),
        "ExpressionAttributeNames must not be empty",
    );
}

#[test]
fn a_refused_expression_names_its_parameter_and_writes_nothing() {
    let db = music();
    let key = item(json!({"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Zebra"}}));
    let update = UpdateItemInput::for_key("Music", key.clone())
        .update_expression("SET Year = :y")
        .expression_attribute_value(":y", n("1"));
    validation(
        db.update_item(update),
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: Year",
    );
    let put = PutItemInput::new("Music", key.clone()).condition_expression("Genre = ");
    validation(
        db.put_item(put),
        r#"Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "=""#,
    );
    let scan = ScanInput::new("Music")
        .filter_expression("((Genre = :g))")
        .expression_attribute_value(":g", s("Rock"));
    validation(
        db.scan(scan),
        "Invalid FilterExpression: The expression has redundant parentheses;",
    );
    assert_eq!(get(&db, "Music", key).expect("item")["Year"], n("2001"));
}

#[test]
fn values_with_no_expression_to_take_them_name_the_missing_expressions() {
    let db = music();
    let key = item(json!({"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Zebra"}}));
    let message = |missing: &str| {
        format!("ExpressionAttributeValues can only be specified when using expressions: {missing}")
    };
    // A projection takes no values.
    let scan = ScanInput::new("Music")
        .projection_expression("Genre")
        .expression_attribute_value(":v", s("x"));
    validation(db.scan(scan), &message("FilterExpression is null"));
    let put = PutItemInput::new("Music", key.clone()).expression_attribute_value(":v", s("x"));
    validation(db.put_item(put), &message("ConditionExpression is null"));
    let update = UpdateItemInput::for_key("Music", key)
        .attribute_updates(std::collections::BTreeMap::from([(
            "Genre".to_owned(),
            AttributeValueUpdate::new(AttributeAction::Put, Some(s("Jazz"))),
        )]))
        .expression_attribute_value(":v", s("x"));
    validation(
        db.update_item(update),
        &message("UpdateExpression and ConditionExpression are null"),
    );
    let query = QueryInput::table("Music")
        .key_conditions(std::collections::BTreeMap::from([(
            "Artist".to_owned(),
            LegacyCondition::new(ComparisonOperator::Eq, [s("Acme Band")]),
        )]))
        .expression_attribute_value(":v", s("x"));
    validation(
        db.query(query),
        &message("FilterExpression and KeyConditionExpression are null"),
    );
}

/// Expressions.ExpressionAttributeNames: each example's documented outcome, on an item with
/// the attributes its sample `ProductCatalog` item 123 has (Expressions.Attributes).
#[test]
fn the_guides_expression_attribute_name_examples_give_their_documented_results() {
    let db = catalog(json!({
        "Id": {"N": "123"}, "Title": {"S": "Bicycle 123"}, "Comment": {"S": "This product sells out quickly during the summer"},
        "Safety.Warning": {"S": "Always wear a helmet"}, "Color": {"SS": ["Red", "Black"]},
        "ProductReviews": {"M": {
            "FiveStar": {"L": [{"S": "Excellent! Can't recommend it highly enough! Buy it!"}]},
            "OneStar": {"L": [{"S": "Terrible product! Do not buy this."}]}
        }}
    }));
    let get = |projection: &str, names: &[(&str, &str)]| {
        let mut input = GetItemInput::new(CATALOG, id("123")).projection_expression(projection);
        for (placeholder, name) in names {
            input = input.expression_attribute_name(*placeholder, *name);
        }
        db.get_item(input).map(|out| out.item.unwrap_or_default())
    };
    // `Comment` is reserved: refused bare, fine through `#c`.
    validation(get("Comment", &[]), "reserved keyword: Comment");
    let got = get("#c", &[("#c", "Comment")]).expect("get");
    assert_eq!(
        got["Comment"],
        s("This product sells out quickly during the summer")
    );
    // A dot is a path separator: `Safety.Warning` finds nothing, `#sw` finds the attribute.
    assert_eq!(get("Safety.Warning", &[]).expect("get"), Item::new());
    let got = get("#sw", &[("#sw", "Safety.Warning")]).expect("get");
    assert_eq!(got["Safety.Warning"], s("Always wear a helmet"));
    // A placeholder is one name: `#pr1star` for `ProductReviews.OneStar` finds nothing,
    // one placeholder per step does.
    let one_star = get("ProductReviews.OneStar", &[]).expect("get");
    assert!(
        matches!(&one_star["ProductReviews"], AttributeValue::M(m) if m.contains_key("OneStar"))
    );
    assert_eq!(
        get("#pr1star", &[("#pr1star", "ProductReviews.OneStar")]).expect("get"),
        Item::new()
    );
    let steps = get(
        "#pr.#1star",
        &[("#pr", "ProductReviews"), ("#1star", "OneStar")],
    )
    .expect("get");
    assert_eq!(steps, one_star);
    // Repeating a placeholder: the reviews that exist come back (there is no ThreeStar).
    let reviews = get(
        "#pr.FiveStar, #pr.ThreeStar, #pr.OneStar",
        &[("#pr", "ProductReviews")],
    )
    .expect("get");
    assert!(matches!(&reviews["ProductReviews"], AttributeValue::M(m) if m.len() == 2));
}

#[test]
fn a_projection_path_deeper_than_32_levels_is_refused_counting_its_levels() {
    // DynamoDB allows 32 levels, the top-level attribute included, and refuses the 33rd
    // with the number of levels rather than the path.
    let db = catalog(json!({"Id": {"N": "1"}}));
    let get = |levels: usize| {
        let path = format!("a{}", ".b".repeat(levels - 1));
        db.get_item(GetItemInput::new(CATALOG, id("1")).projection_expression(path))
    };
    assert_eq!(get(32).expect("32 levels").item, Some(Item::new()));
    let message = validation(get(33), "Invalid ProjectionExpression: ");
    assert!(
        message.ends_with("The document path has too many nesting levels; nesting levels: 33"),
        "{message}"
    );
}
