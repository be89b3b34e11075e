//! Behaviour tests of the table operations: `CreateTable`, `DescribeTable`, `ListTables`,
//! `UpdateTable` and `DeleteTable`, with every validation error they produce.

mod behaviour;

use behaviour::*;
use serde_json::json;
use tidestore::ScalarAttributeType::{B, N, S};
use tidestore::*;

fn gsi(
    name: &str,
    hash: &str,
    range: Option<&str>,
    projection: Projection,
) -> GlobalSecondaryIndex {
    let mut key_schema = vec![KeySchemaElement::hash(hash)];
    if let Some(range) = range {
        key_schema.push(KeySchemaElement::range(range));
    }
    GlobalSecondaryIndex::new(name, key_schema, projection)
}

fn create_gsi(
    table: &str,
    defs: Vec<AttributeDefinition>,
    index: GlobalSecondaryIndex,
) -> UpdateTableInput {
    UpdateTableInput::new(table)
        .attribute_definitions(defs)
        .global_secondary_index_updates(vec![GlobalSecondaryIndexUpdate::Create(index)])
}

fn delete_gsi(table: &str, index: &str) -> UpdateTableInput {
    UpdateTableInput::new(table).global_secondary_index_updates(vec![
        GlobalSecondaryIndexUpdate::Delete {
            index_name: index.into(),
        },
    ])
}

fn music() -> CreateTableInput {
    CreateTableInput::new("Music")
        .hash_key("Artist", S)
        .range_key("SongTitle", S)
        .pay_per_request()
}

// ---------------------------------------------------------------------------------------------
// CreateTable and DescribeTable
// ---------------------------------------------------------------------------------------------

#[test]
fn create_table_returns_an_active_description_of_the_request() {
    let db = db();
    let created = db.create_table(music()).expect("create");
    assert_eq!(created.table_name, "Music");
    assert_eq!(created.table_status, TableStatus::Active);
    assert_eq!(
        created.key_schema,
        vec![
            KeySchemaElement::hash("Artist"),
            KeySchemaElement::range("SongTitle")
        ]
    );
    assert_eq!(
        created.attribute_definitions,
        vec![
            AttributeDefinition::new("Artist", S),
            AttributeDefinition::new("SongTitle", S)
        ]
    );
    assert_eq!(
        created.table_arn,
        "arn:aws:dynamodb:us-east-1:000000000000:table/Music"
    );
    assert_eq!(
        created.billing_mode_summary.billing_mode,
        BillingMode::PayPerRequest
    );
    assert_eq!(created.provisioned_throughput.read_capacity_units, 0);
    assert_eq!(created.provisioned_throughput.write_capacity_units, 0);
    assert_eq!((created.item_count, created.table_size_bytes), (0, 0));
    assert_eq!(
        created.table_id.len(),
        36,
        "TableId is a UUID: {}",
        created.table_id
    );
    assert!(created.local_secondary_indexes.is_none());
    assert!(created.global_secondary_indexes.is_none());
    assert!(created.stream_specification.is_none());
    assert!(!created.deletion_protection_enabled);

    let described = db.describe_table("Music").expect("describe");
    assert_eq!(described, created);
    let by_arn = db
        .describe_table(&created.table_arn)
        .expect("describe by ARN");
    assert_eq!(by_arn, created);
}

#[test]
fn create_table_with_existing_name_is_resource_in_use() {
    let db = db();
    db.create_table(music()).expect("create");
    exception(db.create_table(music()), "ResourceInUseException");
}

#[test]
fn create_table_without_billing_mode_is_provisioned_and_requires_throughput() {
    let db = db();
    let mut input = CreateTableInput::new("Music").hash_key("Artist", S);
    validation(
        db.create_table(input.clone()),
        "ReadCapacityUnits and WriteCapacityUnits must both be specified",
    );
    input.provisioned_throughput = Some(ProvisionedThroughput::new(5, 7));
    let created = db.create_table(input).expect("create");
    assert_eq!(
        created.billing_mode_summary.billing_mode,
        BillingMode::Provisioned
    );
    assert_eq!(created.provisioned_throughput.read_capacity_units, 5);
    assert_eq!(created.provisioned_throughput.write_capacity_units, 7);
}

#[test]
fn create_table_with_pay_per_request_and_throughput_is_rejected() {
    let db = db();
    let mut input = music();
    input.provisioned_throughput = Some(ProvisionedThroughput::new(1, 1));
    validation(db.create_table(input), "PAY_PER_REQUEST");
    exception(db.describe_table("Music"), "ResourceNotFoundException");
}

/// DynamoDB's default encryption (a key AWS owns) changes nothing tidestore's readers see
/// and is accepted; tidestore has no key management service, so KMS is refused.
#[test]
fn create_table_accepts_the_default_encryption_and_refuses_kms() {
    let db = db();
    let kms = [
        SseSpecification::new().enabled(true),
        SseSpecification::new().enabled(false).sse_type("KMS"),
        SseSpecification::new().kms_master_key_id("alias/aws/dynamodb"),
    ];
    for sse in kms {
        validation(
            db.create_table(music().sse_specification(sse)),
            "SSESpecification may only ask for the default encryption",
        );
        exception(db.describe_table("Music"), "ResourceNotFoundException");
    }
    let sse = SseSpecification::new().enabled(false);
    let created = db
        .create_table(music().sse_specification(sse))
        .expect("create");
    assert_eq!(created, db.describe_table("Music").expect("describe"));
}

/// `UpdateTable` may ask for the default encryption on its own (as a client turning a KMS
/// table back to the default does, DynamoDB's "At least one of … SSESpecification …"), which
/// changes nothing here; KMS is refused and changes nothing either.
#[test]
fn update_table_accepts_the_default_encryption_and_refuses_kms() {
    let db = db();
    db.create_table(music()).expect("create");
    let before = db.describe_table("Music").expect("describe");
    for sse in [
        SseSpecification::new().enabled(true),
        SseSpecification::new().sse_type("KMS"),
        SseSpecification::new().kms_master_key_id("alias/aws/dynamodb"),
    ] {
        let update = UpdateTableInput::new("Music")
            .sse_specification(sse)
            .deletion_protection_enabled(true);
        validation(
            db.update_table(update),
            "SSESpecification may only ask for the default encryption",
        );
        assert_eq!(db.describe_table("Music").expect("describe"), before);
    }
    let update =
        UpdateTableInput::new("Music").sse_specification(SseSpecification::new().enabled(false));
    let logged = db.last_lsn();
    db.update_table(update).expect("the default encryption");
    assert_eq!(db.describe_table("Music").expect("describe"), before);
    assert_eq!(
        db.last_lsn(),
        logged,
        "an update that changes nothing logs nothing"
    );
}

#[test]
fn create_table_with_zero_capacity_units_is_rejected() {
    let db = db();
    for (read, write) in [(0, 1), (1, 0)] {
        let input = CreateTableInput::new("Music")
            .hash_key("Artist", S)
            .provisioned(read, write);
        validation(db.create_table(input), "at least 1");
    }
}

#[test]
fn table_names_are_3_to_255_characters_of_letters_digits_underscore_dot_and_dash() {
    let db = db();
    for good in ["abc", "A-b_c.9", &"t".repeat(255)] {
        db.create_table(
            CreateTableInput::new(good)
                .hash_key("pk", S)
                .pay_per_request(),
        )
        .unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    for bad in [
        "ab",
        "",
        &"t".repeat(256),
        "has space",
        "a/b",
        "tāble",
        "a:b",
    ] {
        validation(
            db.create_table(
                CreateTableInput::new(bad)
                    .hash_key("pk", S)
                    .pay_per_request(),
            ),
            "tableName",
        );
        // Every operation that names a table checks the name before looking it up.
        validation(db.describe_table(bad), "tableName");
        validation(db.delete_table(bad), "tableName");
        validation(
            db.get_item(GetItemInput::new(bad, key("a", "b"))),
            "tableName",
        );
    }
}

#[test]
fn table_arn_of_another_region_or_account_is_a_validation_error() {
    let db = db();
    db.create_table(music()).expect("create");
    validation(
        db.describe_table("arn:aws:dynamodb:eu-west-1:000000000000:table/Music"),
        "Invalid TableArn",
    );
    validation(
        db.describe_table("arn:aws:dynamodb:us-east-1:111111111111:table/Music"),
        "Invalid TableArn",
    );
    validation(
        db.describe_table("arn:aws:dynamodb:us-east-1:000000000000:table/Music/index/x"),
        "Invalid TableArn",
    );
}

#[test]
fn describe_table_of_a_missing_table_is_resource_not_found() {
    let db = db();
    let e = exception(db.describe_table("Nothing"), "ResourceNotFoundException");
    assert!(e.to_string().contains("Nothing"), "{e}");
}

#[test]
fn key_schema_must_be_a_hash_key_and_an_optional_range_key() {
    let db = db();
    let defs = [
        AttributeDefinition::new("a", S),
        AttributeDefinition::new("b", S),
    ];
    let with = |key_schema: Vec<KeySchemaElement>, defs: &[AttributeDefinition]| {
        CreateTableInput::new("T01")
            .key_schema(key_schema)
            .attribute_definitions(defs.to_vec())
            .billing_mode(BillingMode::PayPerRequest)
    };
    validation(db.create_table(with(vec![], &defs)), "keySchema");
    validation(
        db.create_table(with(
            vec![KeySchemaElement::range("a")],
            &[AttributeDefinition::new("a", S)],
        )),
        "The first KeySchemaElement is not a HASH key type",
    );
    validation(
        db.create_table(with(
            vec![KeySchemaElement::range("a"), KeySchemaElement::hash("b")],
            &defs,
        )),
        "The first KeySchemaElement is not a HASH key type",
    );
    validation(
        db.create_table(with(
            vec![KeySchemaElement::hash("a"), KeySchemaElement::hash("b")],
            &defs,
        )),
        "The second KeySchemaElement is not a RANGE key type",
    );
    validation(
        db.create_table(with(
            vec![KeySchemaElement::hash("a"), KeySchemaElement::range("a")],
            &[AttributeDefinition::new("a", S)],
        )),
        "same name",
    );
    let three = vec![
        KeySchemaElement::hash("a"),
        KeySchemaElement::range("b"),
        KeySchemaElement::range("c"),
    ];
    let mut three_defs = defs.to_vec();
    three_defs.push(AttributeDefinition::new("c", S));
    validation(db.create_table(with(three, &three_defs)), "keySchema");
    assert!(db
        .list_tables(ListTablesInput::default())
        .expect("list")
        .table_names
        .is_empty());
}

#[test]
fn key_attribute_names_are_1_to_255_bytes() {
    let db = db();
    let long = "k".repeat(255);
    db.create_table(
        CreateTableInput::new("Long")
            .hash_key(&long, S)
            .pay_per_request(),
    )
    .expect("255-byte key name");
    validation(
        db.create_table(
            CreateTableInput::new("TooLong")
                .hash_key(&"k".repeat(256), S)
                .pay_per_request(),
        ),
        "key attribute name",
    );
    validation(
        db.create_table(
            CreateTableInput::new("Empty")
                .hash_key("", S)
                .pay_per_request(),
        ),
        "key attribute name",
    );
}

#[test]
fn an_over_long_defined_name_is_refused_even_where_no_key_names_it() {
    let db = db();
    let long = "d".repeat(256);
    // The key names an undefined attribute, but the definition's length is what is refused.
    let mut table = CreateTableInput::new("Incoherent")
        .hash_key("pk", S)
        .pay_per_request();
    table.attribute_definitions = vec![AttributeDefinition::new(&long, S)];
    validation(db.create_table(table), "key attribute name");
    // So too when UpdateTable creates an index.
    db.create_table(music()).expect("create");
    let index = gsi("ByShort", "Short", None, Projection::all());
    validation(
        db.update_table(create_gsi(
            "Music",
            vec![AttributeDefinition::new(&long, S)],
            index,
        )),
        "key attribute name",
    );
}

#[test]
fn attribute_definitions_must_define_exactly_the_key_attributes() {
    let db = db();
    // A key attribute without a definition.
    let mut missing = music();
    missing.attribute_definitions.pop();
    validation(
        db.create_table(missing),
        "not defined in AttributeDefinitions",
    );
    // A definition no key uses.
    let mut extra = music();
    extra
        .attribute_definitions
        .push(AttributeDefinition::new("Year", N));
    validation(db.create_table(extra), "does not exactly match");
    // The same attribute defined twice.
    let mut twice = music();
    twice
        .attribute_definitions
        .push(AttributeDefinition::new("Artist", S));
    validation(db.create_table(twice), "Duplicate AttributeName");
    exception(db.describe_table("Music"), "ResourceNotFoundException");
}

#[test]
fn create_table_accepts_all_three_key_types() {
    let db = db();
    let created = db
        .create_table(
            CreateTableInput::new("Keys")
                .hash_key("h", B)
                .range_key("r", N)
                .pay_per_request(),
        )
        .expect("create");
    assert_eq!(
        created.attribute_definitions,
        vec![
            AttributeDefinition::new("h", B),
            AttributeDefinition::new("r", N)
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Secondary indexes at creation
// ---------------------------------------------------------------------------------------------

#[test]
fn create_table_describes_its_local_and_global_indexes() {
    let db = db();
    let created = db
        .create_table(
            music()
                .local_index("ByYear", "Year", N, Projection::keys_only())
                .global_index(
                    "ByGenre",
                    ("Genre", S),
                    Some(("Year", N)),
                    Projection::include(["Rating"]),
                ),
        )
        .expect("create");
    let local = created.local_secondary_indexes.expect("LSIs");
    assert_eq!(local.len(), 1);
    assert_eq!(local[0].index_name, "ByYear");
    assert_eq!(
        local[0].key_schema,
        vec![
            KeySchemaElement::hash("Artist"),
            KeySchemaElement::range("Year")
        ]
    );
    assert_eq!(local[0].projection, Projection::keys_only());
    assert_eq!(
        local[0].index_arn,
        "arn:aws:dynamodb:us-east-1:000000000000:table/Music/index/ByYear"
    );
    let global = created.global_secondary_indexes.expect("GSIs");
    assert_eq!(global.len(), 1);
    assert_eq!(global[0].index_name, "ByGenre");
    assert_eq!(global[0].index_status, IndexStatus::Active);
    assert_eq!(
        global[0].key_schema,
        vec![
            KeySchemaElement::hash("Genre"),
            KeySchemaElement::range("Year")
        ]
    );
    assert_eq!(
        global[0].projection.non_key_attributes,
        vec!["Rating".to_string()]
    );
    assert_eq!(created.attribute_definitions.len(), 4);
}

#[test]
fn local_secondary_index_on_a_hash_only_table_is_rejected() {
    let db = db();
    let input = CreateTableInput::new("HashOnly")
        .hash_key("pk", S)
        .pay_per_request()
        .local_index("ByX", "x", S, Projection::all());
    validation(db.create_table(input), "does not have a range key");
    exception(db.describe_table("HashOnly"), "ResourceNotFoundException");
}

#[test]
fn local_secondary_index_must_share_the_tables_partition_key_and_have_a_sort_key() {
    let db = db();
    let mut other_hash = music();
    other_hash
        .attribute_definitions
        .push(AttributeDefinition::new("x", S));
    other_hash
        .local_secondary_indexes
        .push(LocalSecondaryIndex::new(
            "Other",
            vec![
                KeySchemaElement::hash("x"),
                KeySchemaElement::range("SongTitle"),
            ],
            Projection::all(),
        ));
    validation(db.create_table(other_hash), "Index KeySchema");

    let mut no_range = music();
    no_range
        .local_secondary_indexes
        .push(LocalSecondaryIndex::new(
            "NoRange",
            vec![KeySchemaElement::hash("Artist")],
            Projection::all(),
        ));
    validation(db.create_table(no_range), "Index KeySchema");
}

#[test]
fn create_table_with_five_local_indexes_succeeds_and_six_is_a_validation_error() {
    let db = db();
    let with = |name: &str, count: usize| {
        (0..count).fold(
            CreateTableInput::new(name)
                .hash_key("pk", S)
                .range_key("sk", S)
                .pay_per_request(),
            |input, i| {
                input.local_index(
                    &format!("lsi{i}"),
                    &format!("a{i}"),
                    S,
                    Projection::keys_only(),
                )
            },
        )
    };
    let created = db
        .create_table(with("Five", MAX_LOCAL_INDEXES))
        .expect("5 LSIs");
    assert_eq!(created.local_secondary_indexes.map(|l| l.len()), Some(5));
    validation(
        db.create_table(with("Six", MAX_LOCAL_INDEXES + 1)),
        "LocalSecondaryIndexes",
    );
    exception(db.describe_table("Six"), "ResourceNotFoundException");
}

#[test]
fn create_table_with_twenty_global_indexes_succeeds_and_twenty_one_is_a_validation_error() {
    let db = db();
    let with = |name: &str, count: usize| {
        (0..count).fold(
            CreateTableInput::new(name)
                .hash_key("pk", S)
                .pay_per_request(),
            |input, i| {
                input.global_index(
                    &format!("gsi{i}"),
                    (&format!("g{i}"), S),
                    None,
                    Projection::keys_only(),
                )
            },
        )
    };
    let created = db
        .create_table(with("Twenty", MAX_GLOBAL_INDEXES))
        .expect("20 GSIs");
    assert_eq!(created.global_secondary_indexes.map(|g| g.len()), Some(20));
    validation(
        db.create_table(with("TwentyOne", MAX_GLOBAL_INDEXES + 1)),
        "GlobalSecondaryIndex",
    );
    exception(db.describe_table("TwentyOne"), "ResourceNotFoundException");
}

#[test]
fn include_projection_without_non_key_attributes_is_rejected() {
    let db = db();
    let input = music().global_index(
        "ByGenre",
        ("Genre", S),
        None,
        Projection::include(Vec::<String>::new()),
    );
    validation(db.create_table(input), "NonKeyAttributes");
    let input = music().local_index(
        "ByYear",
        "Year",
        N,
        Projection::include(Vec::<String>::new()),
    );
    validation(db.create_table(input), "NonKeyAttributes");
}

#[test]
fn non_key_attributes_with_keys_only_or_all_projection_are_rejected() {
    let db = db();
    for projection_type in [ProjectionType::KeysOnly, ProjectionType::All] {
        let mut projection = Projection::include(["x"]);
        projection.projection_type = projection_type;
        validation(
            db.create_table(music().global_index("G01", ("g", S), None, projection)),
            "NonKeyAttributes",
        );
    }
}

#[test]
fn duplicate_non_key_attributes_in_a_projection_are_rejected() {
    let db = db();
    let input = music().global_index("G01", ("g", S), None, Projection::include(["x", "y", "x"]));
    validation(db.create_table(input), "Duplicate");
}

#[test]
fn a_projection_names_at_most_20_non_key_attributes() {
    // NonKeyAttributeNameList: min 1, max 20 in the API model.
    let db = db();
    let names = |count: usize| (0..count).map(|i| format!("attr{i}")).collect::<Vec<_>>();
    let input = |table: &str, count: usize| {
        CreateTableInput::new(table)
            .hash_key("pk", S)
            .pay_per_request()
            .global_index("G01", ("g", S), None, Projection::include(names(count)))
    };
    db.create_table(input("Twenty", 20))
        .expect("20 non-key attributes");
    validation(db.create_table(input("TwentyOne", 21)), "20");
}

#[test]
fn non_key_attributes_summed_over_all_indexes_are_at_most_100() {
    let db = db();
    let input = |table: &str, extra: usize| {
        let mut input = CreateTableInput::new(table)
            .hash_key("pk", S)
            .pay_per_request();
        for i in 0..5 {
            let names: Vec<String> = (0..20).map(|j| format!("a{i}_{j}")).collect();
            input = input.global_index(
                &format!("gsi{i}"),
                (&format!("g{i}"), S),
                None,
                Projection::include(names),
            );
        }
        if extra > 0 {
            let names: Vec<String> = (0..extra).map(|j| format!("extra{j}")).collect();
            input = input.global_index("gsiX", ("gX", S), None, Projection::include(names));
        }
        input
    };
    db.create_table(input("Hundred", 0))
        .expect("100 projected attributes");
    let rejected = db
        .create_table(input("HundredOne", 1))
        .expect_err("101 projected attributes");
    assert!(rejected.to_string().contains("100"), "{rejected}");
    exception(db.describe_table("HundredOne"), "ResourceNotFoundException");
}

#[test]
fn index_names_must_be_unique_across_local_and_global_indexes() {
    let db = db();
    let input = music()
        .local_index("Dup", "Year", N, Projection::all())
        .global_index("Dup", ("Genre", S), None, Projection::all());
    validation(db.create_table(input), "Duplicate index name");
}

#[test]
fn index_names_follow_the_table_name_rules() {
    let db = db();
    validation(
        db.create_table(music().global_index("ab", ("g", S), None, Projection::all())),
        "indexName",
    );
    validation(
        db.create_table(music().global_index("a b c", ("g", S), None, Projection::all())),
        "indexName",
    );
    validation(
        db.create_table(music().local_index("ab", "l", S, Projection::all())),
        "indexName",
    );
}

#[test]
fn global_index_key_must_be_defined() {
    let db = db();
    let mut input = music();
    input
        .global_secondary_indexes
        .push(gsi("ByGenre", "Genre", None, Projection::all()));
    validation(
        db.create_table(input),
        "not defined in AttributeDefinitions",
    );
}

#[test]
fn global_index_throughput_follows_the_billing_mode() {
    let db = db();
    // Provisioned table: every GSI needs throughput.
    let mut provisioned = CreateTableInput::new("Prov")
        .hash_key("pk", S)
        .provisioned(1, 1);
    provisioned
        .attribute_definitions
        .push(AttributeDefinition::new("g", S));
    provisioned
        .global_secondary_indexes
        .push(gsi("G01", "g", None, Projection::all()));
    validation(db.create_table(provisioned.clone()), "ReadCapacityUnits");
    provisioned.global_secondary_indexes[0].provisioned_throughput =
        Some(ProvisionedThroughput::new(2, 3));
    let created = db.create_table(provisioned).expect("create");
    let index = &created.global_secondary_indexes.expect("GSIs")[0];
    assert_eq!(index.provisioned_throughput.read_capacity_units, 2);
    assert_eq!(index.provisioned_throughput.write_capacity_units, 3);

    // On-demand table: no GSI may have throughput.
    let mut on_demand = CreateTableInput::new("OnDemand")
        .hash_key("pk", S)
        .pay_per_request();
    on_demand
        .attribute_definitions
        .push(AttributeDefinition::new("g", S));
    let mut index = gsi("G01", "g", None, Projection::all());
    index.provisioned_throughput = Some(ProvisionedThroughput::new(1, 1));
    on_demand.global_secondary_indexes.push(index);
    validation(db.create_table(on_demand), "PAY_PER_REQUEST");
}

#[test]
fn stream_specification_needs_a_view_type_exactly_when_enabled() {
    let db = db();
    let with = |name: &str, enabled: bool, view: Option<StreamViewType>| {
        let mut input = CreateTableInput::new(name)
            .hash_key("pk", S)
            .pay_per_request();
        let mut spec = StreamSpecification::new(enabled);
        spec.stream_view_type = view;
        input.stream_specification = Some(spec);
        input
    };
    validation(db.create_table(with("S01", true, None)), "StreamViewType");
    validation(
        db.create_table(with("S02", false, Some(StreamViewType::NewImage))),
        "StreamViewType",
    );

    let off = db
        .create_table(with("Off", false, None))
        .expect("disabled stream");
    assert!(off.stream_specification.is_none());
    assert!(off.latest_stream_arn.is_none());

    let on = db
        .create_table(with(
            "Streamed",
            true,
            Some(StreamViewType::NewAndOldImages),
        ))
        .expect("stream");
    assert_eq!(
        on.stream_specification,
        Some(StreamSpecification::new(true).stream_view_type(StreamViewType::NewAndOldImages))
    );
    let label = on.latest_stream_label.expect("stream label");
    assert_eq!(
        on.latest_stream_arn.as_deref(),
        Some(
            format!("arn:aws:dynamodb:us-east-1:000000000000:table/Streamed/stream/{label}")
                .as_str()
        )
    );
}

#[test]
fn create_table_parsed_from_aws_cli_json_equals_the_builder() {
    let from_json: CreateTableInput = serde_json::from_value(json!({
        "TableName": "Music",
        "AttributeDefinitions": [
            {"AttributeName": "Artist", "AttributeType": "S"},
            {"AttributeName": "SongTitle", "AttributeType": "S"}
        ],
        "KeySchema": [
            {"AttributeName": "Artist", "KeyType": "HASH"},
            {"AttributeName": "SongTitle", "KeyType": "RANGE"}
        ],
        "BillingMode": "PAY_PER_REQUEST"
    }))
    .expect("parses");
    assert_eq!(from_json, music());
}

#[test]
fn the_table_limit_of_the_database_is_limit_exceeded() {
    let options = Options::in_memory().max_tables(2);
    let db = Database::in_memory_with(options).expect("open");
    pk_table(&db, "One");
    pk_table(&db, "Two");
    exception(
        db.create_table(
            CreateTableInput::new("Three")
                .hash_key("pk", S)
                .pay_per_request(),
        ),
        "LimitExceededException",
    );
    db.delete_table("One").expect("delete");
    pk_table(&db, "Three");
}

#[test]
fn describe_table_counts_items_and_bytes_of_the_table_and_its_indexes() {
    let db = db();
    db.create_table(
        music()
            .local_index("ByYear", "Year", N, Projection::all())
            .global_index("ByGenre", ("Genre", S), None, Projection::keys_only()),
    )
    .expect("create");
    let songs = [
        item(
            json!({"Artist": {"S": "A"}, "SongTitle": {"S": "1"}, "Year": {"N": "1999"}, "Genre": {"S": "Rock"}}),
        ),
        item(
            json!({"Artist": {"S": "A"}, "SongTitle": {"S": "2"}, "Genre": {"S": "Pop"}, "Notes": {"S": "long notes"}}),
        ),
        item(json!({"Artist": {"S": "B"}, "SongTitle": {"S": "3"}, "Year": {"N": "2001"}})),
    ];
    for song in &songs {
        put(&db, "Music", song.clone());
    }
    let described = db.describe_table("Music").expect("describe");
    assert_eq!(described.item_count, 3);
    assert_eq!(
        described.table_size_bytes,
        songs.iter().map(item_size).sum::<usize>() as u64
    );
    let local = &described.local_secondary_indexes.expect("LSIs")[0];
    assert_eq!(local.item_count, 2, "only items with Year are in ByYear");
    assert_eq!(
        local.index_size_bytes,
        (item_size(&songs[0]) + item_size(&songs[2])) as u64
    );
    let global = &described.global_secondary_indexes.expect("GSIs")[0];
    assert_eq!(global.item_count, 2, "only items with Genre are in ByGenre");
    // KEYS_ONLY: the table key and the index key of each indexed item.
    let projected = |song: &Item| {
        let keys: Item = song
            .iter()
            .filter(|(name, _)| ["Artist", "SongTitle", "Genre"].contains(&name.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        item_size(&keys) as u64
    };
    assert_eq!(
        global.index_size_bytes,
        projected(&songs[0]) + projected(&songs[1])
    );

    db.delete_item(DeleteItemInput::new(
        "Music",
        attrs([("Artist", s("A")), ("SongTitle", s("1"))]),
    ))
    .expect("delete");
    let described = db.describe_table("Music").expect("describe");
    assert_eq!(described.item_count, 2);
    assert_eq!(
        described.table_size_bytes,
        (item_size(&songs[1]) + item_size(&songs[2])) as u64
    );
    assert_eq!(
        described.local_secondary_indexes.expect("LSIs")[0].item_count,
        1
    );
    assert_eq!(
        described.global_secondary_indexes.expect("GSIs")[0].item_count,
        1
    );
}

// ---------------------------------------------------------------------------------------------
// ListTables
// ---------------------------------------------------------------------------------------------

#[test]
fn list_tables_returns_names_in_order_a_page_at_a_time() {
    let db = db();
    for name in ["delta", "alpha", "charlie", "bravo", "echo"] {
        pk_table(&db, name);
    }
    let all = db.list_tables(ListTablesInput::default()).expect("list");
    assert_eq!(
        all.table_names,
        ["alpha", "bravo", "charlie", "delta", "echo"]
    );
    assert_eq!(all.last_evaluated_table_name, None);

    let mut names = Vec::new();
    let mut input = ListTablesInput::new().limit(2);
    let mut pages = 0;
    loop {
        let page = db.list_tables(input.clone()).expect("page");
        assert!(page.table_names.len() <= 2);
        pages += 1;
        names.extend(page.table_names.clone());
        match page.last_evaluated_table_name {
            Some(last) => {
                assert_eq!(Some(&last), page.table_names.last());
                input = input.exclusive_start_table_name(last);
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, all.table_names);

    // A start name that is not a table starts after where it would be.
    let after = db
        .list_tables(ListTablesInput::new().exclusive_start_table_name("c"))
        .expect("list");
    assert_eq!(after.table_names, ["charlie", "delta", "echo"]);
}

#[test]
fn list_tables_of_an_empty_database_is_empty() {
    let listed = db().list_tables(ListTablesInput::default()).expect("list");
    assert!(listed.table_names.is_empty());
    assert!(listed.last_evaluated_table_name.is_none());
}

// ---------------------------------------------------------------------------------------------
// UpdateTable
// ---------------------------------------------------------------------------------------------

#[test]
fn update_table_with_nothing_to_update_is_a_validation_error() {
    let db = db();
    db.create_table(music()).expect("create");
    validation(
        db.update_table(UpdateTableInput::new("Music")),
        "At least one of",
    );
    // Attribute definitions alone change nothing either.
    let mut defs_only = UpdateTableInput::new("Music");
    defs_only
        .attribute_definitions
        .push(AttributeDefinition::new("x", S));
    validation(db.update_table(defs_only), "At least one of");
}

#[test]
fn update_table_of_a_missing_table_is_resource_not_found() {
    let db = db();
    let mut input = UpdateTableInput::new("Missing");
    input.billing_mode = Some(BillingMode::PayPerRequest);
    exception(db.update_table(input), "ResourceNotFoundException");
}

#[test]
fn update_table_with_the_same_throughput_is_a_validation_error() {
    let db = db();
    db.create_table(
        CreateTableInput::new("Prov")
            .hash_key("pk", S)
            .provisioned(5, 5),
    )
    .expect("create");
    let mut same = UpdateTableInput::new("Prov");
    same.provisioned_throughput = Some(ProvisionedThroughput::new(5, 5));
    validation(db.update_table(same), "will not change");

    let mut more = UpdateTableInput::new("Prov");
    more.provisioned_throughput = Some(ProvisionedThroughput::new(10, 20));
    let updated = db.update_table(more).expect("update");
    assert_eq!(updated.provisioned_throughput.read_capacity_units, 10);
    assert_eq!(updated.provisioned_throughput.write_capacity_units, 20);
    assert_eq!(db.describe_table("Prov").expect("describe"), updated);

    let mut zero = UpdateTableInput::new("Prov");
    zero.provisioned_throughput = Some(ProvisionedThroughput::new(0, 20));
    validation(db.update_table(zero), "at least 1");
}

#[test]
fn update_table_switches_billing_mode_both_ways() {
    let db = db();
    db.create_table(
        CreateTableInput::new("Prov")
            .hash_key("pk", S)
            .provisioned(5, 5),
    )
    .expect("create");
    let mut to_on_demand = UpdateTableInput::new("Prov");
    to_on_demand.billing_mode = Some(BillingMode::PayPerRequest);
    let on_demand = db.update_table(to_on_demand).expect("to on-demand");
    assert_eq!(
        on_demand.billing_mode_summary.billing_mode,
        BillingMode::PayPerRequest
    );
    assert_eq!(on_demand.provisioned_throughput.read_capacity_units, 0);

    // Throughput on an on-demand table is rejected.
    let mut throughput = UpdateTableInput::new("Prov");
    throughput.provisioned_throughput = Some(ProvisionedThroughput::new(1, 1));
    validation(db.update_table(throughput), "PAY_PER_REQUEST");

    // Back to provisioned needs throughput.
    let mut to_provisioned = UpdateTableInput::new("Prov");
    to_provisioned.billing_mode = Some(BillingMode::Provisioned);
    validation(db.update_table(to_provisioned.clone()), "ReadCapacityUnits");
    to_provisioned.provisioned_throughput = Some(ProvisionedThroughput::new(3, 4));
    let provisioned = db.update_table(to_provisioned).expect("to provisioned");
    assert_eq!(
        provisioned.billing_mode_summary.billing_mode,
        BillingMode::Provisioned
    );
    assert_eq!(provisioned.provisioned_throughput.read_capacity_units, 3);
    assert_eq!(provisioned.provisioned_throughput.write_capacity_units, 4);
}

#[test]
fn update_table_with_two_index_creates_is_limit_exceeded() {
    let db = db();
    pk_table(&db, "T01");
    let input = UpdateTableInput::new("T01")
        .attribute_definitions(vec![
            AttributeDefinition::new("a", S),
            AttributeDefinition::new("b", S),
        ])
        .global_secondary_index_updates(vec![
            GlobalSecondaryIndexUpdate::Create(gsi("ByA", "a", None, Projection::all())),
            GlobalSecondaryIndexUpdate::Create(gsi("ByB", "b", None, Projection::all())),
        ]);
    exception(db.update_table(input), "LimitExceededException");
    assert!(db
        .describe_table("T01")
        .expect("describe")
        .global_secondary_indexes
        .is_none());

    // A create and a delete together are two structural changes as well.
    db.update_table(create_gsi(
        "T01",
        vec![AttributeDefinition::new("a", S)],
        gsi("ByA", "a", None, Projection::all()),
    ))
    .expect("create ByA");
    let mixed = UpdateTableInput::new("T01")
        .attribute_definitions(vec![AttributeDefinition::new("b", S)])
        .global_secondary_index_updates(vec![
            GlobalSecondaryIndexUpdate::Delete {
                index_name: "ByA".into(),
            },
            GlobalSecondaryIndexUpdate::Create(gsi("ByB", "b", None, Projection::all())),
        ]);
    exception(db.update_table(mixed), "LimitExceededException");
    let indexes = db
        .describe_table("T01")
        .expect("describe")
        .global_secondary_indexes
        .expect("GSIs");
    assert_eq!(indexes.len(), 1);
    assert_eq!(indexes[0].index_name, "ByA");
}

#[test]
fn update_table_creates_a_global_index_backfilled_with_existing_items_sparsely() {
    let db = db();
    pk_sk_table(&db, "T01");
    for (pk, sk, genre) in [
        ("a", "1", Some("rock")),
        ("a", "2", None),
        ("b", "1", Some("rock")),
        ("c", "1", Some("jazz")),
    ] {
        let mut it = key(pk, sk);
        it.insert("v".into(), s(&format!("{pk}{sk}")));
        if let Some(genre) = genre {
            it.insert("genre".into(), s(genre));
        }
        put(&db, "T01", it);
    }
    // An item whose would-be index key has another type than the index defines.
    let mut wrong_type = key("d", "1");
    wrong_type.insert("genre".into(), AttributeValue::number(7));
    put(&db, "T01", wrong_type);

    let described = db
        .update_table(create_gsi(
            "T01",
            vec![AttributeDefinition::new("genre", S)],
            gsi("ByGenre", "genre", None, Projection::all()),
        ))
        .expect("create GSI");
    let index = &described.global_secondary_indexes.expect("GSIs")[0];
    assert_eq!(index.index_name, "ByGenre");
    assert_eq!(index.index_status, IndexStatus::Active);
    assert_eq!(
        index.item_count, 3,
        "items lacking genre, or with a non-S genre, are not indexed"
    );
    assert!(described
        .attribute_definitions
        .contains(&AttributeDefinition::new("genre", S)));

    let rock = db
        .query(
            QueryInput::new("T01", KeyCondition::partition("genre", s("rock")))
                .index_name("ByGenre"),
        )
        .expect("query GSI");
    let mut found: Vec<String> = rock
        .items
        .iter()
        .map(|i| i["v"].as_s().expect("v").to_string())
        .collect();
    found.sort();
    assert_eq!(found, ["a1", "b1"]);

    // The index now follows writes, and rejects wrong index key types.
    let mut new = key("e", "1");
    new.insert("genre".into(), s("jazz"));
    put(&db, "T01", new);
    let jazz = db
        .query(
            QueryInput::new("T01", KeyCondition::partition("genre", s("jazz")))
                .index_name("ByGenre"),
        )
        .expect("query GSI");
    assert_eq!(jazz.count, 2);
    let mut bad = key("f", "1");
    bad.insert("genre".into(), AttributeValue::number(1));
    validation(db.put_item(PutItemInput::new("T01", bad)), "ByGenre");
}

#[test]
fn update_table_creating_a_global_index_checks_its_definition() {
    let db = db();
    pk_table(&db, "T01");
    // No definition of the new key attribute.
    validation(
        db.update_table(create_gsi(
            "T01",
            vec![AttributeDefinition::new("b", S)],
            gsi("ByA", "a", None, Projection::all()),
        )),
        "not defined in AttributeDefinitions",
    );
    // A definition that contradicts the table's.
    validation(
        db.update_table(create_gsi(
            "T01",
            vec![AttributeDefinition::new("pk", N)],
            gsi("ByPk", "pk", None, Projection::all()),
        )),
        "redefined",
    );
    // Throughput on an on-demand table.
    let mut provisioned = gsi("ByA", "a", None, Projection::all());
    provisioned.provisioned_throughput = Some(ProvisionedThroughput::new(1, 1));
    validation(
        db.update_table(create_gsi(
            "T01",
            vec![AttributeDefinition::new("a", S)],
            provisioned,
        )),
        "PAY_PER_REQUEST",
    );
    // INCLUDE without attributes.
    validation(
        db.update_table(create_gsi(
            "T01",
            vec![AttributeDefinition::new("a", S)],
            gsi("ByA", "a", None, Projection::include(Vec::<String>::new())),
        )),
        "NonKeyAttributes",
    );
    // An existing name.
    db.update_table(create_gsi(
        "T01",
        vec![AttributeDefinition::new("a", S)],
        gsi("ByA", "a", None, Projection::all()),
    ))
    .expect("create");
    validation(
        db.update_table(create_gsi(
            "T01",
            vec![AttributeDefinition::new("b", S)],
            gsi("ByA", "b", None, Projection::all()),
        )),
        "already exists",
    );
    let described = db.describe_table("T01").expect("describe");
    assert_eq!(described.global_secondary_indexes.expect("GSIs").len(), 1);
    assert_eq!(
        described.attribute_definitions,
        vec![
            AttributeDefinition::new("pk", S),
            AttributeDefinition::new("a", S)
        ]
    );
}

/// An index created by `UpdateTable` needs `AttributeDefinitions` in the request, even when
/// the table already defines its key attributes (Alternator's `test_gsi_backfill_with_lsi`,
/// which passes on DynamoDB); the request's definitions need not repeat the table's others.
#[test]
fn update_table_creating_a_global_index_without_attribute_definitions_is_refused() {
    let db = db();
    pk_table(&db, "T01");
    for key in ["pk", "a"] {
        let refused = db.update_table(create_gsi(
            "T01",
            vec![],
            gsi("ByKey", key, None, Projection::all()),
        ));
        assert_eq!(
            validation(refused, "AttributeDefinitions"),
            "One or more parameter values were invalid: AttributeDefinitions is not specified for index: ByKey"
        );
    }
    db.update_table(create_gsi(
        "T01",
        vec![AttributeDefinition::new("pk", S)],
        gsi("ByPk", "pk", None, Projection::all()),
    ))
    .expect("the table's key attribute, defined again in the request");
}

/// A new index's definition of an attribute the table defines with another type is refused
/// in DynamoDB's words (Alternator's `test_gsi_key_type_conflict_on_update`, which passes on
/// DynamoDB), and nothing changes.
#[test]
fn update_table_redefining_an_attribute_type_is_refused_in_dynamodbs_words() {
    let db = db();
    pk_table(&db, "T01");
    db.update_table(create_gsi(
        "T01",
        vec![AttributeDefinition::new("xyz", S)],
        gsi("ByXyz", "xyz", None, Projection::all()),
    ))
    .expect("create ByXyz");
    let refused = db.update_table(create_gsi(
        "T01",
        vec![AttributeDefinition::new("xyz", N)],
        gsi("ByXyzAgain", "xyz", None, Projection::all()),
    ));
    assert_eq!(
        validation(refused, "redefined"),
        "One or more parameter values were invalid: Attributes cannot be redefined. Please check that your attribute has the same type as previously defined."
    );
    let described = db.describe_table("T01").expect("describe");
    assert_eq!(described.global_secondary_indexes.expect("GSIs").len(), 1);
    assert!(described
        .attribute_definitions
        .contains(&AttributeDefinition::new("xyz", S)));
}

#[test]
fn update_table_adding_a_twenty_first_global_index_is_limit_exceeded() {
    let db = db();
    let input = (0..MAX_GLOBAL_INDEXES).fold(
        CreateTableInput::new("T01")
            .hash_key("pk", S)
            .pay_per_request(),
        |input, i| {
            input.global_index(
                &format!("gsi{i}"),
                (&format!("g{i}"), S),
                None,
                Projection::keys_only(),
            )
        },
    );
    db.create_table(input).expect("20 GSIs");
    exception(
        db.update_table(create_gsi(
            "T01",
            vec![AttributeDefinition::new("x", S)],
            gsi("gsi20", "x", None, Projection::all()),
        )),
        "LimitExceededException",
    );
    assert_eq!(
        db.describe_table("T01")
            .expect("describe")
            .global_secondary_indexes
            .map(|g| g.len()),
        Some(20)
    );
}

#[test]
fn update_table_deletes_a_global_index() {
    let db = db();
    db.create_table(
        CreateTableInput::new("T01")
            .hash_key("pk", S)
            .pay_per_request()
            .global_index("ByA", ("a", S), None, Projection::all())
            .global_index("ByB", ("b", N), None, Projection::all()),
    )
    .expect("create");
    put(
        &db,
        "T01",
        attrs([
            ("pk", s("1")),
            ("a", s("x")),
            ("b", AttributeValue::number(1)),
        ]),
    );

    let described = db
        .update_table(delete_gsi("T01", "ByA"))
        .expect("delete index");
    let remaining = described.global_secondary_indexes.expect("GSIs");
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0].index_name, "ByB");
    assert_eq!(remaining[0].item_count, 1);
    assert_eq!(
        described.attribute_definitions,
        vec![
            AttributeDefinition::new("pk", S),
            AttributeDefinition::new("b", N)
        ],
        "the definition only the deleted index used is gone"
    );
    validation(
        db.query(QueryInput::new("T01", KeyCondition::partition("a", s("x"))).index_name("ByA")),
        "does not have the specified index",
    );
    // Writes no longer check the deleted index's key.
    put(
        &db,
        "T01",
        attrs([("pk", s("2")), ("a", AttributeValue::number(5))]),
    );

    exception(
        db.update_table(delete_gsi("T01", "ByA")),
        "ResourceNotFoundException",
    );
    // The name can be reused, with another key type, and is backfilled.
    let recreated = db
        .update_table(create_gsi(
            "T01",
            vec![AttributeDefinition::new("a", N)],
            gsi("ByA", "a", None, Projection::all()),
        ))
        .expect("recreate");
    let by_a = recreated
        .global_secondary_indexes
        .expect("GSIs")
        .into_iter()
        .find(|i| i.index_name == "ByA")
        .expect("ByA");
    assert_eq!(by_a.item_count, 1);
}

#[test]
fn update_table_changes_a_global_index_throughput_only_on_provisioned_tables() {
    let db = db();
    db.create_table(
        CreateTableInput::new("Prov")
            .hash_key("pk", S)
            .provisioned(1, 1)
            .global_index("ByA", ("a", S), None, Projection::all()),
    )
    .expect("create");
    let update = |table: &str, index: &str| {
        UpdateTableInput::new(table).global_secondary_index_updates(vec![
            GlobalSecondaryIndexUpdate::throughput(index, ProvisionedThroughput::new(7, 8)),
        ])
    };
    let updated = db
        .update_table(update("Prov", "ByA"))
        .expect("update index");
    let index = &updated.global_secondary_indexes.expect("GSIs")[0];
    assert_eq!(index.provisioned_throughput.read_capacity_units, 7);
    assert_eq!(index.provisioned_throughput.write_capacity_units, 8);
    exception(
        db.update_table(update("Prov", "Nope")),
        "ResourceNotFoundException",
    );

    db.create_table(
        CreateTableInput::new("OnDemand")
            .hash_key("pk", S)
            .pay_per_request()
            .global_index("ByA", ("a", S), None, Projection::all()),
    )
    .expect("create");
    validation(
        db.update_table(update("OnDemand", "ByA")),
        "PAY_PER_REQUEST",
    );
}

#[test]
fn update_table_enables_and_disables_the_stream_once_each() {
    let db = db();
    pk_table(&db, "T01");
    let stream = |enabled: bool, view: Option<StreamViewType>| {
        let mut spec = StreamSpecification::new(enabled);
        spec.stream_view_type = view;
        UpdateTableInput::new("T01").stream_specification(spec)
    };
    validation(
        db.update_table(stream(false, None)),
        "does not have a stream",
    );
    validation(db.update_table(stream(true, None)), "StreamViewType");
    let on = db
        .update_table(stream(true, Some(StreamViewType::KeysOnly)))
        .expect("enable");
    assert_eq!(
        on.stream_specification.and_then(|s| s.stream_view_type),
        Some(StreamViewType::KeysOnly)
    );
    assert!(on.latest_stream_arn.is_some());
    validation(
        db.update_table(stream(true, Some(StreamViewType::NewImage))),
        "already has an enabled stream",
    );
    let off = db.update_table(stream(false, None)).expect("disable");
    assert!(off.stream_specification.is_none());
    // The disabled stream is still the latest, readable for a day (DynamoDB's table
    // description keeps naming it; ScyllaDB's Alternator tests hold DynamoDB to this).
    assert_eq!(off.latest_stream_arn, on.latest_stream_arn);
    let again = db
        .update_table(stream(true, Some(StreamViewType::NewImage)))
        .expect("enable again");
    assert!(again.latest_stream_arn.is_some());
    assert_ne!(
        again.latest_stream_arn, on.latest_stream_arn,
        "a new stream"
    );
}

// ---------------------------------------------------------------------------------------------
// DeleteTable
// ---------------------------------------------------------------------------------------------

#[test]
fn delete_table_returns_a_deleting_description_and_the_table_is_gone() {
    let db = db();
    let created = db.create_table(music()).expect("create");
    put(
        &db,
        "Music",
        attrs([("Artist", s("A")), ("SongTitle", s("B"))]),
    );
    let deleted = db.delete_table("Music").expect("delete");
    assert_eq!(deleted.table_status, TableStatus::Deleting);
    assert_eq!(deleted.table_name, "Music");
    assert_eq!(deleted.item_count, 1);

    exception(db.describe_table("Music"), "ResourceNotFoundException");
    exception(db.delete_table("Music"), "ResourceNotFoundException");
    exception(
        db.put_item(PutItemInput::new(
            "Music",
            attrs([("Artist", s("A")), ("SongTitle", s("B"))]),
        )),
        "ResourceNotFoundException",
    );
    exception(
        db.query(QueryInput::new(
            "Music",
            KeyCondition::partition("Artist", s("A")),
        )),
        "ResourceNotFoundException",
    );
    assert!(db
        .list_tables(ListTablesInput::default())
        .expect("list")
        .table_names
        .is_empty());

    // The name can be reused: a new, empty table with a new id.
    let again = db.create_table(music()).expect("recreate");
    assert_ne!(again.table_id, created.table_id);
    assert_eq!(again.item_count, 0);
    assert_eq!(
        get(
            &db,
            "Music",
            attrs([("Artist", s("A")), ("SongTitle", s("B"))])
        ),
        None
    );
}

#[test]
fn delete_table_by_arn() {
    let db = db();
    let created = db.create_table(music()).expect("create");
    db.delete_table(&created.table_arn).expect("delete by ARN");
    exception(db.describe_table("Music"), "ResourceNotFoundException");
}

/// A blind put (no condition, no return values) decides by the table's schema without
/// reading its items (`TableHandle::head` in `engine/mod.rs`): after an index is added,
/// such a put is checked against the index's key type, and after the table is deleted it
/// finds the table gone.
#[test]
fn blind_puts_are_checked_against_the_schema_an_update_or_delete_left() {
    let db = db();
    pk_table(&db, "Blind");
    put(&db, "Blind", attrs([("pk", s("a")), ("g", s("x"))]));
    put(&db, "Blind", attrs([("pk", s("b")), ("g", n("1"))]));
    // (An item already there whose `g` is no string is left out of the index, as
    // DynamoDB's backfill leaves it.)
    db.update_table(create_gsi(
        "Blind",
        vec![AttributeDefinition::new("g", S)],
        gsi("ByG", "g", None, Projection::all()),
    ))
    .expect("the index is added");
    let refused = db.put_item(PutItemInput::new(
        "Blind",
        attrs([("pk", s("c")), ("g", n("2"))]),
    ));
    validation(refused, "Type mismatch for Index Key g");
    put(&db, "Blind", attrs([("pk", s("d")), ("g", s("y"))]));
    let indexed = db
        .scan(ScanInput::new("Blind").index_name("ByG"))
        .expect("scan the index")
        .count;
    assert_eq!(indexed, 2, "a and d");
    db.delete_table("Blind").expect("delete");
    exception(
        db.put_item(PutItemInput::new("Blind", attrs([("pk", s("e"))]))),
        "ResourceNotFoundException",
    );
}
