//! Global secondary indexes with multi-attribute keys (DynamoDB, November 2025): up to four
//! partition (`HASH`) and four sort (`RANGE`) attributes. An item is in the index only with
//! every one of them; a query gives an equality on every partition attribute, then
//! conditions on a prefix of the sort attributes, left to right; items sort by the sort
//! attributes in turn; a page's `LastEvaluatedKey` holds every key attribute. The key
//! survives a reopen, a backup and restore, and an `UpdateTable` that adds such an index
//! backfills it. (tests/model.rs checks such an index against a model; moto's AWS-verified
//! tests of the feature run against `tidestore serve` in tests/wire.rs.)

mod behaviour;
mod support;

use behaviour::*;
use tidestore::ScalarAttributeType::{N, S};
use tidestore::*;

const TABLE: &str = "Matches";
const INDEX: &str = "ByTournamentRegion";

/// Table key `id`; index partition (tournament, region), sort (round, score).
fn create(db: &Database) {
    db.create_table(
        CreateTableInput::new(TABLE)
            .hash_key("id", S)
            .pay_per_request()
            .global_index_with_keys(
                INDEX,
                &[("tournament", S), ("region", S)],
                &[("round", S), ("score", N)],
                Projection::all(),
            ),
    )
    .expect("create table");
}

fn put_matches(db: &Database) {
    let rows = [
        ("1", "w24", "eu", "final", "10"),
        ("2", "w24", "eu", "semi", "30"),
        ("3", "w24", "eu", "semi", "20"),
        ("4", "w24", "eu", "final", "5"),
        ("5", "w24", "na", "final", "7"),
        ("6", "s25", "eu", "final", "1"),
    ];
    for (id, tournament, region, round, score) in rows {
        put(
            db,
            TABLE,
            attrs([
                ("id", s(id)),
                ("tournament", s(tournament)),
                ("region", s(region)),
                ("round", s(round)),
                ("score", n(score)),
            ]),
        );
    }
    // Missing one sort attribute, or one partition attribute: not in the index.
    put(
        db,
        TABLE,
        attrs([
            ("id", s("7")),
            ("tournament", s("w24")),
            ("region", s("eu")),
            ("round", s("final")),
        ]),
    );
    put(
        db,
        TABLE,
        attrs([
            ("id", s("8")),
            ("tournament", s("w24")),
            ("round", s("final")),
            ("score", n("1")),
        ]),
    );
}

fn in_partition(tournament: &str, region: &str) -> KeyCondition {
    KeyCondition::partition("tournament", s(tournament)).and_eq("region", s(region))
}

fn ids(db: &Database, condition: KeyCondition) -> Vec<String> {
    let output = db
        .query(QueryInput::new(TABLE, condition).index_name(INDEX))
        .expect("query");
    output
        .items
        .iter()
        .map(|i| format!("{:?}", i["id"]))
        .collect()
}

fn id_list(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| format!("{:?}", s(id))).collect()
}

/// The index's answers to queries of every allowed shape, in (round, score) order.
fn assert_queries_answer(db: &Database) {
    let eu = || in_partition("w24", "eu");
    assert_eq!(ids(db, eu()), id_list(&["4", "1", "3", "2"]));
    assert_eq!(ids(db, in_partition("w24", "na")), id_list(&["5"]));
    let round = |op| eu().sort("round", op);
    assert_eq!(
        ids(db, round(SortKeyOp::Eq(s("semi")))),
        id_list(&["3", "2"])
    );
    assert_eq!(
        ids(db, round(SortKeyOp::Gt(s("final")))),
        id_list(&["3", "2"])
    );
    assert_eq!(
        ids(db, round(SortKeyOp::BeginsWith(s("fi")))),
        id_list(&["4", "1"])
    );
    let final_score = |op| eu().and_eq("round", s("final")).sort("score", op);
    assert_eq!(
        ids(db, final_score(SortKeyOp::Eq(n("10")))),
        id_list(&["1"])
    );
    assert_eq!(
        ids(db, final_score(SortKeyOp::Lt(n("10")))),
        id_list(&["4"])
    );
    assert_eq!(
        ids(db, final_score(SortKeyOp::Between(n("5"), n("10")))),
        id_list(&["4", "1"])
    );
    assert_eq!(
        ids(db, final_score(SortKeyOp::Ge(n("11")))),
        Vec::<String>::new()
    );
}

#[test]
fn a_multi_attribute_index_holds_items_with_every_key_attribute_in_key_order() {
    let db = db();
    create(&db);
    put_matches(&db);
    let description = db.describe_table(TABLE).expect("describe");
    let gsi = &description.global_secondary_indexes.expect("a GSI")[0];
    let schema: Vec<(&str, KeyType)> = (gsi.key_schema.iter())
        .map(|e| (e.attribute_name.as_str(), e.key_type))
        .collect();
    assert_eq!(
        schema,
        [
            ("tournament", KeyType::Hash),
            ("region", KeyType::Hash),
            ("round", KeyType::Range),
            ("score", KeyType::Range)
        ]
    );
    assert_eq!(gsi.item_count, 6, "items 7 and 8 lack a key attribute");
    assert_queries_answer(&db);
    // Backward too.
    let output = db
        .query(
            QueryInput::new(TABLE, in_partition("w24", "eu"))
                .index_name(INDEX)
                .scan_index_forward(false),
        )
        .expect("query");
    let backward: Vec<String> = output
        .items
        .iter()
        .map(|i| format!("{:?}", i["id"]))
        .collect();
    assert_eq!(backward, id_list(&["2", "3", "1", "4"]));
}

#[test]
fn a_page_of_a_multi_attribute_index_ends_at_a_key_holding_every_key_attribute() {
    let db = db();
    create(&db);
    put_matches(&db);
    let mut start = None;
    let mut seen = Vec::new();
    loop {
        let mut input = QueryInput::new(TABLE, in_partition("w24", "eu"))
            .index_name(INDEX)
            .limit(1);
        input.exclusive_start_key = start.take();
        let page = db.query(input).expect("query");
        seen.extend(page.items.iter().map(|i| format!("{:?}", i["id"])));
        let Some(last) = page.last_evaluated_key else {
            break;
        };
        let mut names: Vec<&str> = last.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["id", "region", "round", "score", "tournament"]);
        start = Some(last);
    }
    assert_eq!(seen, id_list(&["4", "1", "3", "2"]));
}

#[test]
fn a_multi_attribute_key_condition_needs_every_partition_attribute_and_a_sort_prefix() {
    let db = db();
    create(&db);
    let query = |condition| db.query(QueryInput::new(TABLE, condition).index_name(INDEX));
    let only_tournament = KeyCondition::partition("tournament", s("w24"));
    validation(
        query(only_tournament.clone()),
        "Query condition missed key schema element: region",
    );
    validation(
        query(only_tournament.sort("region", SortKeyOp::Gt(s("e")))),
        "Query key condition not supported",
    );
    validation(
        query(in_partition("w24", "eu").sort("score", SortKeyOp::Gt(n("1")))),
        "RANGE key attributes round must have equality conditions specified in the query because a condition is present on key attribute score",
    );
    validation(
        query(
            in_partition("w24", "eu")
                .sort("round", SortKeyOp::Gt(s("a")))
                .and_eq("score", n("1")),
        ),
        "Query key condition not supported",
    );
    validation(
        query(in_partition("w24", "eu").and_eq("round", n("1"))),
        "Condition parameter type does not match schema type",
    );
    validation(
        query(in_partition("w24", "eu").and_eq("other", s("x"))),
        "Query condition missed key schema element: round",
    );
}

#[test]
fn multi_attribute_keys_are_refused_on_tables_and_local_indexes_and_past_four() {
    let db = db();
    let two_hashes = CreateTableInput::new("Tbl")
        .hash_key("a", S)
        .pay_per_request()
        .global_index("Gsi", ("g", S), None, Projection::all());
    let mut table_key = two_hashes.clone();
    table_key.key_schema.push(KeySchemaElement::hash("g"));
    validation(
        db.create_table(table_key),
        "Invalid KeySchema of table: The second KeySchemaElement is not a RANGE key type",
    );
    let mut local = CreateTableInput::new("Tbl")
        .hash_key("a", S)
        .range_key("b", S)
        .pay_per_request()
        .local_index("Loc", "l", S, Projection::all());
    local
        .attribute_definitions
        .push(AttributeDefinition::new("m", S));
    (local.local_secondary_indexes[0].key_schema).push(KeySchemaElement::range("m"));
    validation(
        db.create_table(local),
        "1 validation error detected: Value at 'keySchema' of index Loc failed to satisfy constraint: Member must have length less than or equal to 2",
    );
    let named = |prefix: &str, count: usize| -> Vec<(String, ScalarAttributeType)> {
        (0..count).map(|i| (format!("{prefix}{i}"), S)).collect()
    };
    let gsi = |hash: &[(String, ScalarAttributeType)], range: &[(String, ScalarAttributeType)]| {
        let hash: Vec<(&str, ScalarAttributeType)> =
            hash.iter().map(|(a, t)| (a.as_str(), *t)).collect();
        let range: Vec<(&str, ScalarAttributeType)> =
            range.iter().map(|(a, t)| (a.as_str(), *t)).collect();
        CreateTableInput::new("Tbl")
            .hash_key("a", S)
            .pay_per_request()
            .global_index_with_keys("Gsi", &hash, &range, Projection::all())
    };
    validation(
        db.create_table(gsi(&named("h", 5), &named("r", 0))),
        "Invalid KeySchema of index Gsi: The number of HASH key elements exceeds the limit of 4",
    );
    validation(
        db.create_table(gsi(&named("h", 4), &named("r", 5))),
        "Member must have length less than or equal to 8",
    );
    validation(
        db.create_table(gsi(&named("h", 1), &named("r", 5))),
        "Invalid KeySchema of index Gsi: The number of RANGE key elements exceeds the limit of 4",
    );
    let mut hash_after_range = gsi(&named("h", 2), &named("r", 1));
    let keys = &mut hash_after_range.global_secondary_indexes[0].key_schema;
    keys.swap(1, 2);
    validation(
        db.create_table(hash_after_range),
        "Invalid KeySchema of index Gsi: A HASH key element follows a RANGE key element",
    );
    let mut twice = gsi(&named("h", 2), &named("r", 1));
    twice.global_secondary_indexes[0].key_schema[2] = KeySchemaElement::range("h0");
    validation(
        db.create_table(twice),
        "Invalid KeySchema of index Gsi: Duplicate attribute name in the KeySchema: h0",
    );
    db.create_table(gsi(&named("h", 4), &named("r", 4)))
        .expect("four and four");
}

#[test]
fn a_multi_attribute_index_survives_reopen_checkpoint_and_backup_restore() {
    let dir = support::TempDir::new("multi_attribute");
    {
        let db = Database::open(dir.path()).expect("open");
        create(&db);
        put_matches(&db);
        db.close().expect("close");
    }
    // Reopened from the log, then from a snapshot.
    let db = Database::open(dir.path()).expect("reopen");
    assert_queries_answer(&db);
    db.checkpoint().expect("checkpoint");
    db.close().expect("close");
    let db = Database::open(dir.path()).expect("reopen");
    assert_queries_answer(&db);
    let arn = db
        .create_backup(TABLE, "bak")
        .expect("backup")
        .backup_details
        .backup_arn;
    let built = db
        .wait_for_backup(&arn, std::time::Duration::from_secs(30))
        .expect("built");
    assert_eq!(built.backup_details.backup_status, BackupStatus::Available);
    db.delete_table(TABLE).expect("delete");
    db.restore_table_from_backup(RestoreTableFromBackupInput::new(&arn, TABLE))
        .expect("restore");
    assert_queries_answer(&db);
}

#[test]
fn an_update_table_that_adds_a_multi_attribute_index_backfills_it() {
    let db = db();
    db.create_table(
        CreateTableInput::new(TABLE)
            .hash_key("id", S)
            .pay_per_request(),
    )
    .expect("create table");
    put_matches(&db);
    let index = GlobalSecondaryIndex::new(
        INDEX,
        vec![
            KeySchemaElement::hash("tournament"),
            KeySchemaElement::hash("region"),
            KeySchemaElement::range("round"),
            KeySchemaElement::range("score"),
        ],
        Projection::all(),
    );
    let definitions = vec![
        AttributeDefinition::new("id", S),
        AttributeDefinition::new("tournament", S),
        AttributeDefinition::new("region", S),
        AttributeDefinition::new("round", S),
        AttributeDefinition::new("score", N),
    ];
    db.update_table(
        UpdateTableInput::new(TABLE)
            .attribute_definitions(definitions)
            .global_secondary_index_updates(vec![GlobalSecondaryIndexUpdate::Create(index)]),
    )
    .expect("update table");
    assert_queries_answer(&db);
}

#[test]
fn a_start_key_missing_a_key_attribute_is_refused_in_one_plain_message() {
    let db = db();
    create(&db);
    put_matches(&db);
    // Every key attribute but the index's second partition attribute.
    let start = attrs([
        ("id", s("1")),
        ("tournament", s("w24")),
        ("round", s("final")),
        ("score", n("10")),
    ]);
    let input = QueryInput::new(TABLE, in_partition("w24", "eu"))
        .index_name(INDEX)
        .exclusive_start_key(start);
    let message = validation(db.query(input), "The provided starting key is invalid: ");
    // The reason is the message of the error beneath, not that error shown with its name.
    assert!(
        !message.contains("ValidationException"),
        "the exception's name inside its own message: {message:?}"
    );
    assert!(message.contains("region"), "{message:?}");
}

/// A start key resumes reading after itself, but never outside the key condition: one
/// outside the range an equality on an earlier sort attribute selects (a hand-made start
/// key, or one from another query) must not let items of another `round` in.
#[test]
fn a_start_key_outside_the_sort_condition_reads_only_what_the_condition_selects() {
    let db = db();
    create(&db);
    put_matches(&db);
    let start = |id: &str, round: &str, score: &str| {
        attrs([
            ("id", s(id)),
            ("tournament", s("w24")),
            ("region", s("eu")),
            ("round", s(round)),
            ("score", n(score)),
        ])
    };
    let read = |condition: KeyCondition, forward: bool, from: Item| {
        let input = QueryInput::new(TABLE, condition)
            .index_name(INDEX)
            .scan_index_forward(forward)
            .exclusive_start_key(from);
        let output = db.query(input).expect("query");
        (output.items.iter())
            .map(|i| format!("{:?}", i["id"]))
            .collect::<Vec<_>>()
    };
    let semi = || in_partition("w24", "eu").and_eq("round", s("semi"));
    let finals = || in_partition("w24", "eu").and_eq("round", s("final"));
    // Forward from before the semis (at final/5): the semis only, not final/10.
    assert_eq!(
        read(semi(), true, start("4", "final", "5")),
        id_list(&["3", "2"])
    );
    // Backward from after the finals (at semi/30): the finals only, not semi/20.
    assert_eq!(
        read(finals(), false, start("2", "semi", "30")),
        id_list(&["1", "4"])
    );
    // Within the range it resumes right after the start key, as ever.
    assert_eq!(
        read(semi(), true, start("3", "semi", "20")),
        id_list(&["2"])
    );
    let below_score = || finals().sort("score", SortKeyOp::Lt(n("10")));
    assert_eq!(
        read(below_score(), false, start("1", "final", "10")),
        id_list(&["4"])
    );
}

/// `begins_with` on a number sort attribute is refused as such, whatever its operand's
/// type (ScyllaDB's Alternator tests, checked against DynamoDB, expect `begins_with` in
/// the refusal of `begins_with(r1, :p)` with `r1` a number attribute and `:p` a string).
#[test]
fn begins_with_on_a_number_sort_attribute_is_refused_naming_begins_with() {
    let db = db();
    create(&db);
    let condition = in_partition("w24", "eu")
        .and_eq("round", s("final"))
        .sort("score", SortKeyOp::BeginsWith(s("1")));
    validation(
        db.query(QueryInput::new(TABLE, condition).index_name(INDEX)),
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
    );
}
