//! Behaviour tests of the JSON forms: every output type (and every input that serializes)
//! prints with the field names, types and enum values of the DynamoDB API model and round
//! trips through `serde_json`; items are DynamoDB JSON.
//!
//! `tests/data/dynamodb-shapes.json` holds the shapes of the API model
//! (`/work/shared/reference/dynamodb-service-2.json`, botocore 1.44.8) that these types
//! reach; [`conforms`] walks a serialized value against them.

mod behaviour;

use std::fmt::Debug;

use behaviour::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use tidestore::ScalarAttributeType::{N, S};
use tidestore::*;

fn model() -> Value {
    serde_json::from_str(include_str!("data/dynamodb-shapes.json"))
        .expect("the model subset is JSON")
}

/// Checks `value` against shape `shape` of the model: structures have only modeled members
/// and all required ones, strings are strings within their enum, lists and maps hold
/// conforming values, numbers are numbers, blobs are base64. Length and value bounds are not
/// checked: they constrain requests (an output's `UnprocessedItems` is `{}` though its shape
/// says min 1, and `NumberOfDecreasesToday` is 0 though its shape says min 1).
fn conforms(model: &Value, shape: &str, value: &Value, at: &str) {
    let def = &model["shapes"][shape];
    assert!(
        def.is_object(),
        "{at}: shape {shape} is not in the model subset"
    );
    match def["type"].as_str().expect("typed shape") {
        "structure" => {
            let object = value
                .as_object()
                .unwrap_or_else(|| panic!("{at}: {shape} must be an object, got {value}"));
            let members = def["members"].as_object().expect("members");
            for (name, member_value) in object {
                let target = members
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| {
                        panic!(
                            "{at}: {name:?} is not a member of {shape}; members: {:?}",
                            members.keys().collect::<Vec<_>>()
                        )
                    });
                conforms(model, target, member_value, &format!("{at}.{name}"));
            }
            for required in def["required"].as_array().into_iter().flatten() {
                let required = required.as_str().expect("name");
                assert!(
                    object.contains_key(required),
                    "{at}: {shape} lacks required member {required}"
                );
            }
            if shape == "AttributeValue" {
                assert_eq!(
                    object.len(),
                    1,
                    "{at}: an AttributeValue has exactly one type"
                );
            }
        }
        "list" => {
            let array = value
                .as_array()
                .unwrap_or_else(|| panic!("{at}: {shape} must be an array, got {value}"));
            let member = def["member"].as_str().expect("member");
            for (i, element) in array.iter().enumerate() {
                conforms(model, member, element, &format!("{at}[{i}]"));
            }
        }
        "map" => {
            let object = value
                .as_object()
                .unwrap_or_else(|| panic!("{at}: {shape} must be an object, got {value}"));
            let (key, val) = (
                def["key"].as_str().expect("key"),
                def["value"].as_str().expect("value"),
            );
            for (k, v) in object {
                conforms(
                    model,
                    key,
                    &Value::String(k.clone()),
                    &format!("{at} key {k:?}"),
                );
                conforms(model, val, v, &format!("{at}.{k}"));
            }
        }
        "string" => {
            let text = value
                .as_str()
                .unwrap_or_else(|| panic!("{at}: {shape} must be a string, got {value}"));
            if let Some(choices) = def["enum"].as_array() {
                assert!(
                    choices.iter().any(|c| c == text),
                    "{at}: {text:?} is not one of {shape} {choices:?}"
                );
            }
        }
        "integer" | "long" => {
            assert!(
                value.is_i64() || value.is_u64(),
                "{at}: {shape} must be an integer, got {value}"
            );
        }
        "double" | "timestamp" => assert!(
            value.is_number(),
            "{at}: {shape} must be a number, got {value}"
        ),
        "boolean" => assert!(
            value.is_boolean(),
            "{at}: {shape} must be a boolean, got {value}"
        ),
        "blob" => {
            let text = value
                .as_str()
                .unwrap_or_else(|| panic!("{at}: {shape} must be base64 text, got {value}"));
            let back: AttributeValue = serde_json::from_value(json!({ "B": text }))
                .unwrap_or_else(|e| panic!("{at}: {e}"));
            assert!(back.as_b().is_some());
        }
        other => panic!("{at}: shape type {other} not handled"),
    }
}

/// Serializes `value`, checks it against `shape`, and checks that it parses back to itself.
fn check<T: Serialize + DeserializeOwned + PartialEq + Debug>(shape: &str, value: &T) -> Value {
    let json = serde_json::to_value(value).expect("serializes");
    conforms(&model(), shape, &json, shape);
    let text = serde_json::to_string(value).expect("serializes");
    let back: T = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{shape} does not parse back: {e}\n{text}"));
    assert_eq!(&back, value, "{shape} round trip");
    json
}

/// An item with every data type.
fn every_type() -> Item {
    item(json!({
        "pk": {"S": "p"}, "sk": {"S": "s"},
        "s": {"S": "text"}, "n": {"N": "-12.5"}, "b": {"B": "AAEC/w=="}, "bool": {"BOOL": false},
        "null": {"NULL": true}, "l": {"L": [{"S": "x"}, {"N": "1"}, {"L": []}]},
        "m": {"M": {"inner": {"M": {}}, "k": {"SS": ["a"]}}},
        "ss": {"SS": ["b", "a"]}, "ns": {"NS": ["10", "9", "-1"]}, "bs": {"BS": ["AQ==", "AA=="]}
    }))
}

fn full_table(db: &Database) -> TableDescription {
    let mut input = CreateTableInput::new("Music")
        .hash_key("pk", S)
        .range_key("sk", S)
        .provisioned(5, 6)
        .local_index("ByYear", "year", N, Projection::keys_only())
        .global_index(
            "ByGenre",
            ("genre", S),
            Some(("year", N)),
            Projection::include(["n", "s"]),
        );
    input.stream_specification =
        Some(StreamSpecification::new(true).stream_view_type(StreamViewType::NewAndOldImages));
    db.create_table(input).expect("create");
    let mut song = every_type();
    song.insert("genre".into(), s("rock"));
    song.insert("year".into(), AttributeValue::number(1999));
    put(db, "Music", song);
    db.describe_table("Music").expect("describe")
}

#[test]
fn table_description_serializes_to_the_models_table_description() {
    let db = db();
    let described = full_table(&db);
    let json = check("TableDescription", &described);
    assert_eq!(json["TableName"], "Music");
    assert_eq!(json["TableStatus"], "ACTIVE");
    assert_eq!(
        json["KeySchema"],
        json!([{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    );
    assert!(
        json["CreationDateTime"].is_f64() || json["CreationDateTime"].is_u64(),
        "epoch seconds"
    );
    assert_eq!(json["ProvisionedThroughput"]["ReadCapacityUnits"], 5);
    assert_eq!(
        json["BillingModeSummary"],
        json!({"BillingMode": "PROVISIONED"})
    );
    assert_eq!(json["ItemCount"], 1);
    assert_eq!(
        json["LocalSecondaryIndexes"][0]["Projection"],
        json!({"ProjectionType": "KEYS_ONLY"})
    );
    assert_eq!(json["GlobalSecondaryIndexes"][0]["IndexStatus"], "ACTIVE");
    assert_eq!(
        json["GlobalSecondaryIndexes"][0]["Projection"],
        json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": ["n", "s"]})
    );
    assert_eq!(
        json["StreamSpecification"],
        json!({"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    );
    assert!(json["LatestStreamArn"]
        .as_str()
        .is_some_and(|a| a.contains("/stream/")));

    pk_table(&db, "OnDemand");
    let on_demand = check(
        "TableDescription",
        &db.describe_table("OnDemand").expect("describe"),
    );
    // Created on demand: PAY_PER_REQUEST since its creation, as DynamoDB reports it.
    assert_eq!(
        on_demand["BillingModeSummary"],
        json!({
            "BillingMode": "PAY_PER_REQUEST",
            "LastUpdateToPayPerRequestDateTime": on_demand["CreationDateTime"],
        })
    );
    assert!(
        on_demand.get("GlobalSecondaryIndexes").is_none(),
        "absent, not null: {on_demand}"
    );
    assert!(on_demand.get("StreamSpecification").is_none());
    let deleted = check(
        "TableDescription",
        &db.delete_table("OnDemand").expect("delete"),
    );
    assert_eq!(deleted["TableStatus"], "DELETING");
}

#[test]
fn table_operation_inputs_serialize_to_the_models_inputs() {
    let db = db();
    full_table(&db);
    let create = CreateTableInput::new("Music")
        .hash_key("pk", S)
        .range_key("sk", S)
        .provisioned(5, 6)
        .local_index("ByYear", "year", N, Projection::keys_only())
        .global_index("ByGenre", ("genre", S), None, Projection::all());
    let json = check("CreateTableInput", &create);
    assert_eq!(json["BillingMode"], "PROVISIONED");
    assert_eq!(
        json["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"],
        json!({"ReadCapacityUnits": 5, "WriteCapacityUnits": 6})
    );

    let update = UpdateTableInput::new("Music")
        .attribute_definitions(vec![AttributeDefinition::new("x", S)])
        .billing_mode(BillingMode::PayPerRequest)
        .global_secondary_index_updates(vec![
            GlobalSecondaryIndexUpdate::Create(GlobalSecondaryIndex::new(
                "ByX",
                vec![KeySchemaElement::hash("x")],
                Projection::keys_only(),
            )),
            GlobalSecondaryIndexUpdate::Delete {
                index_name: "ByGenre".into(),
            },
            GlobalSecondaryIndexUpdate::throughput("ByGenre", ProvisionedThroughput::new(1, 2)),
        ])
        .stream_specification(StreamSpecification::new(false));
    let json = check("UpdateTableInput", &update);
    assert_eq!(
        json["GlobalSecondaryIndexUpdates"][1],
        json!({"Delete": {"IndexName": "ByGenre"}})
    );

    check(
        "ListTablesInput",
        &ListTablesInput::new()
            .exclusive_start_table_name("abc")
            .limit(100),
    );
}

#[test]
fn list_tables_output_serializes_to_the_models_list_tables_output() {
    let db = db();
    for name in ["aaa", "bbb", "ccc"] {
        pk_table(&db, name);
    }
    let page = db
        .list_tables(ListTablesInput::new().limit(2))
        .expect("list");
    let json = check("ListTablesOutput", &page);
    assert_eq!(
        json,
        json!({"TableNames": ["aaa", "bbb"], "LastEvaluatedTableName": "bbb"})
    );
    let last = db
        .list_tables(ListTablesInput::new().exclusive_start_table_name("bbb"))
        .expect("list");
    assert_eq!(
        check("ListTablesOutput", &last),
        json!({"TableNames": ["ccc"]})
    );
}

#[test]
fn item_outputs_serialize_to_the_models_outputs() {
    let db = db();
    pk_sk_table(&db, "T01");
    let full = every_type();
    let put_out = db
        .put_item(PutItemInput::new("T01", full.clone()).return_values(ReturnValue::AllOld))
        .expect("put");
    assert_eq!(
        check("PutItemOutput", &put_out),
        json!({}),
        "no Attributes member when nothing is returned"
    );
    let put_out = db
        .put_item(PutItemInput::new("T01", full.clone()).return_values(ReturnValue::AllOld))
        .expect("put");
    let json = check("PutItemOutput", &put_out);
    assert_eq!(json["Attributes"]["b"], json!({"B": "AAEC/w=="}));

    let got = db
        .get_item(GetItemInput::new("T01", key("p", "s")))
        .expect("get");
    let json = check("GetItemOutput", &got);
    assert_eq!(json["Item"]["null"], json!({"NULL": true}));
    let missing = db
        .get_item(GetItemInput::new("T01", key("p", "none")))
        .expect("get");
    assert_eq!(check("GetItemOutput", &missing), json!({}));

    let updated = db
        .update_item(
            UpdateItemInput::new(
                "T01",
                key("p", "s"),
                Update::new().add("n", AttributeValue::number(1)),
            )
            .return_values(ReturnValue::UpdatedNew),
        )
        .expect("update");
    assert_eq!(
        check("UpdateItemOutput", &updated),
        json!({"Attributes": {"n": {"N": "-11.5"}}})
    );

    for i in 0..3 {
        put(&db, "T01", key("p", &format!("x{i}")));
    }
    let page = db
        .query(QueryInput::new("T01", KeyCondition::partition("pk", s("p"))).limit(2))
        .expect("query");
    let json = check("QueryOutput", &page);
    assert_eq!(json["Count"], 2);
    assert_eq!(json["ScannedCount"], 2);
    assert_eq!(
        json["LastEvaluatedKey"],
        json!({"pk": {"S": "p"}, "sk": {"S": "x0"}})
    );
    let scanned = db.scan(ScanInput::new("T01")).expect("scan");
    let json = check("ScanOutput", &scanned);
    assert_eq!(json["Items"].as_array().map(Vec::len), Some(4));
    assert!(json.get("LastEvaluatedKey").is_none());

    let deleted = db
        .delete_item(DeleteItemInput::new("T01", key("p", "x0")).return_values(ReturnValue::AllOld))
        .expect("delete");
    assert_eq!(
        check("DeleteItemOutput", &deleted),
        json!({"Attributes": {"pk": {"S": "p"}, "sk": {"S": "x0"}}})
    );
}

#[test]
fn batch_and_transaction_outputs_serialize_to_the_models_outputs() {
    let db = db();
    pk_sk_table(&db, "T01");
    let mut write = BatchWriteItemInput::default();
    write.request_items.insert(
        "T01".into(),
        vec![
            WriteRequest::Put { item: every_type() },
            WriteRequest::Delete {
                key: key("p", "gone"),
            },
        ],
    );
    let json = check("BatchWriteItemInput", &write);
    assert_eq!(
        json["RequestItems"]["T01"][1],
        json!({"DeleteRequest": {"Key": {"pk": {"S": "p"}, "sk": {"S": "gone"}}}})
    );
    let out = db.batch_write_item(write).expect("batch write");
    assert_eq!(
        check("BatchWriteItemOutput", &out),
        json!({"UnprocessedItems": {}})
    );

    let mut get_batch = BatchGetItemInput::default();
    get_batch.request_items.insert(
        "T01".into(),
        KeysAndAttributes::new(vec![key("p", "s"), key("p", "none")]),
    );
    let out = db.batch_get_item(get_batch).expect("batch get");
    let json = check("BatchGetItemOutput", &out);
    assert_eq!(json["Responses"]["T01"].as_array().map(Vec::len), Some(1));

    let reads = db
        .transact_get_items(TransactGetItemsInput::new(vec![
            TransactGetItem::new("T01", key("p", "s")).projection(vec![Path::attr("ss")]),
            TransactGetItem::new("T01", key("p", "none")),
        ]))
        .expect("transact get");
    let json = check("TransactGetItemsOutput", &reads);
    assert_eq!(
        json["Responses"],
        json!([{"Item": {"ss": {"SS": ["a", "b"]}}}, {}])
    );

    let transaction = TransactWriteItemsInput::new(vec![
        TransactWriteItem::Put(PutItemInput::new("T01", key("p", "new"))),
        TransactWriteItem::ConditionCheck(
            ConditionCheckInput::new("T01", key("p", "s"))
                .condition(Condition::attribute_not_exists("pk"))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                ),
        ),
    ]);
    let reasons = canceled(db.transact_write_items(transaction));
    let json: Vec<Value> = reasons
        .iter()
        .map(|r| check("CancellationReason", r))
        .collect();
    assert_eq!(json[0], json!({"Code": "None"}));
    assert_eq!(json[1]["Code"], "ConditionalCheckFailed");
    assert_eq!(json[1]["Item"]["pk"], json!({"S": "p"}));
    conforms(
        &model(),
        "CancellationReasonList",
        &Value::Array(json),
        "CancellationReasons",
    );
}

#[test]
fn error_names_are_the_models_exception_shapes() {
    let model = model();
    let db = db();
    pk_sk_table(&db, "T01");
    put(&db, "T01", key("a", "b"));
    let errors = [
        db.create_table(
            CreateTableInput::new("T01")
                .hash_key("pk", S)
                .pay_per_request(),
        )
        .expect_err("in use"),
        db.describe_table("Nope").expect_err("not found"),
        db.put_item(
            PutItemInput::new("T01", key("a", "b"))
                .condition(Condition::attribute_not_exists("pk")),
        )
        .expect_err("condition"),
        db.transact_write_items(TransactWriteItemsInput::new(vec![
            TransactWriteItem::Delete(
                DeleteItemInput::new("T01", key("a", "b"))
                    .condition(Condition::attribute_not_exists("pk")),
            ),
        ]))
        .expect_err("canceled"),
    ];
    let names: Vec<&str> = errors.iter().map(Error::exception_name).collect();
    assert_eq!(
        names,
        [
            "ResourceInUseException",
            "ResourceNotFoundException",
            "ConditionalCheckFailedException",
            "TransactionCanceledException"
        ]
    );
    for name in names
        .iter()
        .chain(&["LimitExceededException", "InternalServerError"])
    {
        let shape = &model["shapes"][*name];
        assert_eq!(shape["exception"], true, "{name} is a modeled exception");
    }
    // ValidationException is one of the common errors every AWS JSON service shares, so the
    // model does not list it; its name is the one on the wire.
    let validation = db
        .get_item(GetItemInput::new("T01", attrs([("pk", s("a"))])))
        .expect_err("bad key");
    assert_eq!(validation.exception_name(), "ValidationException");
    assert!(validation.to_string().starts_with("ValidationException: "));
}

// ---------------------------------------------------------------------------------------------
// DynamoDB JSON of items
// ---------------------------------------------------------------------------------------------

#[test]
fn items_print_as_dynamodb_json_with_one_type_key_per_value() {
    let printed = serde_json::to_value(every_type()).expect("serializes");
    assert_eq!(
        printed,
        json!({
            "pk": {"S": "p"}, "sk": {"S": "s"},
            "s": {"S": "text"}, "n": {"N": "-12.5"}, "b": {"B": "AAEC/w=="}, "bool": {"BOOL": false},
            "null": {"NULL": true}, "l": {"L": [{"S": "x"}, {"N": "1"}, {"L": []}]},
            "m": {"M": {"inner": {"M": {}}, "k": {"SS": ["a"]}}},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["-1", "9", "10"]}, "bs": {"BS": ["AA==", "AQ=="]}
        })
    );
    conforms(&model(), "AttributeMap", &printed, "item");
    let back: Item = serde_json::from_value(printed).expect("parses");
    assert_eq!(back, every_type());
}

#[test]
fn numbers_print_in_dynamodb_normal_form() {
    for (input, printed) in [
        ("1.50", "1.5"),
        ("0100", "100"),
        ("1e2", "100"),
        ("1E+2", "100"),
        ("-0.0", "0"),
        ("+7", "7"),
        (".5", "0.5"),
        ("12.3400e-2", "0.1234"),
    ] {
        let value: AttributeValue = serde_json::from_value(json!({ "N": input })).expect("parses");
        assert_eq!(
            serde_json::to_value(&value).expect("prints"),
            json!({ "N": printed }),
            "{input}"
        );
    }
}

#[test]
fn malformed_dynamodb_json_values_are_rejected() {
    for bad in [
        json!({}),
        json!({"S": "a", "N": "1"}),
        json!({"X": "a"}),
        json!({"NULL": false}),
        json!({"N": "abc"}),
        json!({"N": "1 "}),
        json!({"N": "NaN"}),
        json!({"N": "Infinity"}),
        json!({"N": "0x10"}),
        json!({"N": ""}),
        json!({"N": 1}),
        json!({"S": 1}),
        json!({"B": "not base64!"}),
        json!({"BOOL": "true"}),
        json!({"SS": ["a", "a"]}),
        json!({"NS": ["1", "1.0"]}),
        json!({"BS": ["AA==", "AA=="]}),
        json!({"L": {"S": "x"}}),
        json!({"M": [{"S": "x"}]}),
        json!("text"),
    ] {
        assert!(
            serde_json::from_value::<AttributeValue>(bad.clone()).is_err(),
            "{bad} accepted"
        );
    }
}

/// DynamoDB's messages for bad sets, as the service words them (dynalite's tests, checked
/// against the service): the list is the members as given; the double space and the missing
/// one before "of type BS" are the service's.
const BAD_SETS: [(&str, &str); 6] = [
    (r#"{"SS": []}"#, "One or more parameter values were invalid: An string set  may not be empty"),
    (r#"{"NS": []}"#, "One or more parameter values were invalid: An number set  may not be empty"),
    (r#"{"BS": []}"#, "One or more parameter values were invalid: Binary sets should not be empty"),
    (
        r#"{"SS": ["a", "b", "a"]}"#,
        "One or more parameter values were invalid: Input collection [a, b, a] contains duplicates.",
    ),
    (r#"{"NS": ["1", "1.0"]}"#, "Input collection contains duplicates"),
    (
        r#"{"BS": ["Yg==", "Yg=="]}"#,
        "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates.",
    ),
];

#[test]
fn parsing_empty_or_duplicate_sets_is_a_validation_exception_with_dynamodb_message() {
    for (json, message) in BAD_SETS {
        let error = AttributeValue::from_json(json).expect_err(json);
        assert_eq!(error.exception_name(), "ValidationException", "{json}");
        assert!(
            matches!(&error, Error::Validation(m) if m == message),
            "{json}: {error}"
        );
        // The same anywhere in an item: at the top, in a map, in a list.
        for nested in [
            format!(r#"{{"pk": {{"S": "a"}}, "set": {json}}}"#),
            format!(r#"{{"m": {{"M": {{"l": {{"L": [{json}]}}}}}}}}"#),
        ] {
            let error = Item::from_json(&nested).expect_err(&nested);
            assert!(
                matches!(&error, Error::Validation(m) if m == message),
                "{nested}: {error}"
            );
        }
        // serde keeps refusing them too, with the same words.
        let serde_error = serde_json::from_str::<AttributeValue>(json).expect_err(json);
        assert!(
            serde_error.to_string().starts_with(message),
            "{serde_error}"
        );
    }
}

#[test]
fn malformed_json_is_a_validation_exception_not_a_serde_error() {
    for (bad, message) in [
        (r#"{"N": "abc"}"#, "The parameter cannot be converted to a numeric value: abc"),
        (
            r#"{"S": "a", "N": "1"}"#,
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
        ),
        (r#"{"S": "#, "EOF while parsing a value at line 1 column 6"),
    ] {
        let error = AttributeValue::from_json(bad).expect_err(bad);
        assert!(matches!(&error, Error::Validation(m) if m == message), "{bad}: {error}");
    }
    let parsed = Item::from_json(r#"{"pk": {"S": "a"}, "tags": {"SS": ["x", "y"]}}"#);
    assert_eq!(
        parsed.expect("parses"),
        attrs([("pk", s("a")), ("tags", ss(["y", "x"]))])
    );
}

#[test]
fn set_constructors_refuse_empty_and_duplicate_members_as_parsing_does() {
    let no_strings: [&str; 0] = [];
    let no_numbers: [i64; 0] = [];
    let no_binaries: [Vec<u8>; 0] = [];
    let built = [
        AttributeValue::ss(no_strings),
        AttributeValue::ns(no_numbers),
        AttributeValue::bs(no_binaries),
        AttributeValue::ss(["a", "b", "a"]),
        AttributeValue::ns([n("1"), n("1.0")].map(|v| v.as_n().expect("N").clone())),
        AttributeValue::bs([b"b".to_vec(), b"b".to_vec()]),
    ];
    for ((json, message), result) in BAD_SETS.into_iter().zip(built) {
        match result {
            Err(Error::Validation(m)) => assert_eq!(m, message, "{json}"),
            other => panic!("{json}: built {other:?}"),
        }
    }
    assert_eq!(
        AttributeValue::bs([vec![1u8], vec![0]]).expect("distinct"),
        AttributeValue::from_json(r#"{"BS": ["AQ==", "AA=="]}"#).expect("parses")
    );
}

#[test]
fn empty_sets_built_from_the_variants_are_rejected_on_write() {
    let db = db();
    pk_sk_table(&db, "T01");
    let empty = [
        AttributeValue::Ss(Default::default()),
        AttributeValue::Ns(Default::default()),
        AttributeValue::Bs(Default::default()),
    ];
    for (set, (_, message)) in empty.into_iter().zip(BAD_SETS) {
        let it = attrs([("pk", s("a")), ("sk", s("b")), ("set", set)]);
        assert_eq!(
            validation(db.put_item(PutItemInput::new("T01", it)), message),
            message
        );
    }
}

#[test]
fn write_request_json_is_the_models_write_request() {
    let request: WriteRequest =
        serde_json::from_value(json!({"PutRequest": {"Item": {"pk": {"S": "a"}}}}))
            .expect("parses");
    assert_eq!(
        request,
        WriteRequest::Put {
            item: attrs([("pk", s("a"))])
        }
    );
    let json = serde_json::to_value(&request).expect("prints");
    conforms(&model(), "WriteRequest", &json, "WriteRequest");
    let delete: WriteRequest =
        serde_json::from_value(json!({"DeleteRequest": {"Key": {"pk": {"S": "a"}}}}))
            .expect("parses");
    assert_eq!(
        delete,
        WriteRequest::Delete {
            key: attrs([("pk", s("a"))])
        }
    );
}

#[test]
fn enums_print_as_the_models_enum_values() {
    let model = model();
    let enums: [(&str, Value); 9] = [
        (
            "ReturnValue",
            serde_json::to_value([
                ReturnValue::None,
                ReturnValue::AllOld,
                ReturnValue::UpdatedOld,
                ReturnValue::AllNew,
                ReturnValue::UpdatedNew,
            ])
            .expect("json"),
        ),
        (
            "ReturnValuesOnConditionCheckFailure",
            serde_json::to_value([
                ReturnValuesOnConditionCheckFailure::None,
                ReturnValuesOnConditionCheckFailure::AllOld,
            ])
            .expect("json"),
        ),
        (
            "Select",
            serde_json::to_value([
                Select::AllAttributes,
                Select::AllProjectedAttributes,
                Select::SpecificAttributes,
                Select::Count,
            ])
            .expect("json"),
        ),
        (
            "BillingMode",
            serde_json::to_value([BillingMode::Provisioned, BillingMode::PayPerRequest])
                .expect("json"),
        ),
        (
            "ProjectionType",
            serde_json::to_value([
                ProjectionType::All,
                ProjectionType::KeysOnly,
                ProjectionType::Include,
            ])
            .expect("json"),
        ),
        (
            "StreamViewType",
            serde_json::to_value([
                StreamViewType::NewImage,
                StreamViewType::OldImage,
                StreamViewType::NewAndOldImages,
                StreamViewType::KeysOnly,
            ])
            .expect("json"),
        ),
        (
            "TableStatus",
            serde_json::to_value([
                TableStatus::Creating,
                TableStatus::Updating,
                TableStatus::Deleting,
                TableStatus::Active,
            ])
            .expect("json"),
        ),
        (
            "IndexStatus",
            serde_json::to_value([
                IndexStatus::Creating,
                IndexStatus::Updating,
                IndexStatus::Deleting,
                IndexStatus::Active,
            ])
            .expect("json"),
        ),
        (
            "ScalarAttributeType",
            serde_json::to_value([
                ScalarAttributeType::S,
                ScalarAttributeType::N,
                ScalarAttributeType::B,
            ])
            .expect("json"),
        ),
    ];
    for (shape, values) in enums {
        let choices = model["shapes"][shape]["enum"]
            .as_array()
            .expect("enum")
            .clone();
        for value in values.as_array().expect("array") {
            conforms(&model, shape, value, shape);
        }
        // Every Rust variant maps to a distinct model value.
        let distinct: std::collections::BTreeSet<String> = values
            .as_array()
            .expect("array")
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(
            distinct.len(),
            values.as_array().expect("array").len(),
            "{shape}"
        );
        assert!(distinct.len() <= choices.len());
    }
    // The selects print as the model spells them.
    assert_eq!(
        serde_json::to_value(Select::AllProjectedAttributes).expect("json"),
        "ALL_PROJECTED_ATTRIBUTES"
    );
    assert_eq!(
        serde_json::to_value(ReturnValue::UpdatedNew).expect("json"),
        "UPDATED_NEW"
    );
    assert_eq!(serde_json::to_value(KeyType::Range).expect("json"), "RANGE");
}

#[test]
fn the_model_check_rejects_what_the_model_does_not_allow() {
    let model = model();
    let fails = |shape: &str, value: Value| {
        let model = model.clone();
        let shape = shape.to_string();
        let outcome = std::panic::catch_unwind(move || conforms(&model, &shape, &value, "test"));
        assert!(outcome.is_err(), "accepted");
    };
    fails("ListTablesOutput", json!({"TableNames": [], "Bogus": 1}));
    fails("KeySchemaElement", json!({"AttributeName": "a"}));
    fails(
        "KeySchemaElement",
        json!({"AttributeName": "a", "KeyType": "SORT"}),
    );
    fails("QueryOutput", json!({"Count": "1"}));
    fails("AttributeValue", json!({"S": "a", "N": "1"}));
    fails("AttributeValue", json!({"B": "***"}));
    fails(
        "TableDescription",
        json!({"CreationDateTime": "2020-01-01"}),
    );
    conforms(
        &model,
        "KeySchemaElement",
        &json!({"AttributeName": "a", "KeyType": "HASH"}),
        "test",
    );
}

#[test]
fn tag_and_time_to_live_shapes_serialize_to_the_models_shapes() {
    let db = db();
    let create = CreateTableInput::new("Music")
        .hash_key("pk", S)
        .pay_per_request()
        .tags([Tag::new("Owner", "blueTeam")]);
    let json = check("CreateTableInput", &create);
    assert_eq!(json["Tags"], json!([{"Key": "Owner", "Value": "blueTeam"}]));
    db.create_table(create).expect("created");
    let arn = "arn:aws:dynamodb:us-east-1:000000000000:table/Music";
    check(
        "TagResourceInput",
        &TagResourceInput::new(arn, [Tag::new("Env", "")]),
    );
    check("UntagResourceInput", &UntagResourceInput::new(arn, ["Env"]));
    check(
        "ListTagsOfResourceInput",
        &ListTagsOfResourceInput::new(arn).next_token("Env"),
    );
    let listed = db
        .list_tags_of_resource(ListTagsOfResourceInput::new(arn))
        .expect("listed");
    assert_eq!(
        check("ListTagsOfResourceOutput", &listed),
        json!({"Tags": [{"Key": "Owner", "Value": "blueTeam"}]})
    );
    let update = UpdateTimeToLiveInput::enable("Music", "expires");
    check("UpdateTimeToLiveInput", &update);
    check(
        "UpdateTimeToLiveOutput",
        &db.update_time_to_live(update).expect("enabled"),
    );
    let described = db.describe_time_to_live("Music").expect("described");
    assert_eq!(
        check("DescribeTimeToLiveOutput", &described),
        json!({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}})
    );
    let statuses = serde_json::to_value([
        TimeToLiveStatus::Enabling,
        TimeToLiveStatus::Disabling,
        TimeToLiveStatus::Enabled,
        TimeToLiveStatus::Disabled,
    ])
    .expect("json");
    assert_eq!(statuses, model()["shapes"]["TimeToLiveStatus"]["enum"]);
}
