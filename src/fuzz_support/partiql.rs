//! The `partiql` harness: PartiQL statements made from the fuzzer's bytes by a grammar
//! ([`grammar`]), some damaged as raw text, sent to `ExecuteStatement`,
//! `BatchExecuteStatement` and `ExecuteTransaction` of a server in this process
//! (`server::in_process`: the model's checks and the handlers the wire runs, without HTTP)
//! over a fresh in-memory database with two tables: `one` (one key attribute: a string
//! partition key `pk`) and `two` (`pk` and a number sort key `sk`, and the global index `byG`
//! on `g` and `n`).
//!
//! One input is up to [`MAX_REQUESTS`] requests, each with its `Parameters`, sometimes
//! `Limit`, `NextToken` (one the server answered, or made up), `ConsistentRead`,
//! `ReturnConsumedCapacity` and `ReturnValuesOnConditionCheckFailure`.
//!
//! Promises checked (a panic is the fuzzer's finding; the server's own panics reach it too,
//! since nothing catches them here):
//! - every answer is a JSON object, and every error one of the names DynamoDB documents for
//!   the operation (its API model's, `ValidationException`, and `SerializationException`
//!   only for a parameter that is no attribute value's JSON), a `ValidationException` with
//!   a message; a batch's failed entry has one of `BatchStatementErrorCodeEnum`'s codes
//!   (never `InternalServerError`), a cancelled transaction one reason a statement;
//! - a model of the two tables (the items each key is known to hold, from the statements
//!   whose effect the generator knows and from `GetItem` after each write) agrees with the
//!   database: an INSERT that succeeds wrote exactly its item, where no item was; one
//!   refused as `DuplicateItemException` found an item; an UPDATE succeeds only on an item
//!   that exists; a DELETE that succeeds leaves none; a statement that fails changes
//!   nothing, and a transaction that fails changes none of its items; `RETURNING ALL OLD`
//!   answers the item as it was and `ALL NEW` as it is; a SELECT of one key answers what a
//!   consistent `GetItem` reads; a SELECT of a table or a partition, paged by `Limit` and
//!   `NextToken`, never answers an item twice, and answers every item the model holds
//!   there;
//! - a successful `ExecuteStatement` asked for `ReturnConsumedCapacity` answers it.

mod grammar;

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::documented_errors::documented_error;
use super::input::Input;
use crate::model::value::AttributeValue;
use crate::server::in_process::InProcessServer;
use crate::{CreateTableInput, Database, Item, Projection, ScalarAttributeType};
use grammar::{Grammar, Plan, Statement, INDEX, TABLES};

/// The most requests one input makes.
const MAX_REQUESTS: usize = 8;

/// The most pages a SELECT of a table is followed through.
const MAX_PAGES: usize = 64;

/// The errors `ExecuteStatement` may answer here: its API model's (less those of throttling
/// and of item collections, which these tables cannot meet) and `ValidationException`.
const STATEMENT_ERRORS: &[&str] = &[
    "ValidationException",
    "ConditionalCheckFailedException",
    "DuplicateItemException",
    "ResourceNotFoundException",
];

/// The errors `ExecuteTransaction` may answer here (its API model's, as above; no
/// `ClientRequestToken` is sent, so no `IdempotentParameterMismatchException`).
const TRANSACTION_ERRORS: &[&str] = &[
    "ValidationException",
    "ResourceNotFoundException",
    "TransactionCanceledException",
];

/// The errors a whole `BatchExecuteStatement` may answer here.
const BATCH_ERRORS: &[&str] = &["ValidationException"];

/// The codes of a batch's failed entry (`BatchStatementErrorCodeEnum`, less throttling,
/// item collections and `InternalServerError`).
const BATCH_ENTRY_CODES: &[&str] = &[
    "ValidationError",
    "ConditionalCheckFailed",
    "DuplicateItem",
    "ResourceNotFound",
];

/// The codes of a cancelled transaction's reasons.
const CANCELLATION_CODES: &[&str] = &[
    "None",
    "ConditionalCheckFailed",
    "DuplicateItem",
    "ValidationError",
];

/// Runs the statements `bytes` make (see the module's doc for the promises checked).
pub fn partiql(bytes: &[u8]) {
    let mut input = Input::new(bytes);
    let mut case = Case::new();
    let mut tokens: Vec<String> = Vec::new();
    for _ in 0..MAX_REQUESTS {
        if input.is_empty() {
            break;
        }
        match input.below(10) {
            0..=5 => case.execute_statement(&mut input, &mut tokens),
            6 | 7 => case.batch(&mut input),
            _ => case.transaction(&mut input),
        }
    }
}

/// One input's database, and what the model knows of it.
struct Case {
    server: InProcessServer,
    model: [TableModel; 2],
}

/// What the model knows of one table: the item each key holds (`None`: no item), and
/// whether it knows every key (the keys it does not list then hold no item).
#[derive(Default)]
struct TableModel {
    items: BTreeMap<Item, Option<Item>>,
    complete: bool,
}

impl TableModel {
    /// What the model knows key `key` holds: `Some(None)` for no item, `None` if unknown.
    fn known(&self, key: &Item) -> Option<Option<Item>> {
        match self.items.get(key) {
            Some(state) => Some(state.clone()),
            None => self.complete.then_some(None),
        }
    }

    /// Forgets everything: a write of unknown effect succeeded.
    fn forget(&mut self) {
        self.items.clear();
        self.complete = false;
    }
}

/// How a statement ended: its answer's `Items` (for a write, the item `RETURNING` gave),
/// or its error's code and, with `ReturnValuesOnConditionCheckFailure`, the item.
enum Outcome {
    Done(Vec<Value>),
    Failed { code: String, item: Option<Value> },
}

impl Case {
    fn new() -> Case {
        // No background worker: its thread, started and stopped for every input, would cost
        // more than the statements (nothing here needs checkpoints or expiry).
        let options = crate::Options::in_memory().background_worker(false);
        let db = Database::in_memory_with(options).expect("in-memory options are valid");
        db.create_table(
            CreateTableInput::new(TABLES[0])
                .hash_key("pk", ScalarAttributeType::S)
                .pay_per_request(),
        )
        .expect("the table one is made");
        db.create_table(
            CreateTableInput::new(TABLES[1])
                .hash_key("pk", ScalarAttributeType::S)
                .range_key("sk", ScalarAttributeType::N)
                .global_index(
                    INDEX,
                    ("g", ScalarAttributeType::S),
                    Some(("n", ScalarAttributeType::N)),
                    Projection::all(),
                )
                .pay_per_request(),
        )
        .expect("the table two is made");
        let server = InProcessServer::new(db).expect("an in-memory server starts");
        let complete = || TableModel {
            complete: true,
            ..TableModel::default()
        };
        Case {
            server,
            model: [complete(), complete()],
        }
    }

    /// One `ExecuteStatement`; a SELECT of a table or partition is followed through its
    /// pages.
    fn execute_statement(&mut self, input: &mut Input<'_>, tokens: &mut Vec<String>) {
        let statement = Grammar::new(input).statement();
        if let Plan::ReadAll { .. } | Plan::ReadPartition { .. } = statement.plan {
            return self.read_pages(input, &statement);
        }
        let mut body = json!({ "Statement": statement.text });
        if !statement.parameters.is_empty() || input.rarely(3) {
            body["Parameters"] = json!(statement.parameters);
        }
        if input.rarely(10) {
            body["Limit"] = json!(input.pick(&[0, 1, 2, 100]));
        }
        let mut plan = statement.plan.clone();
        if input.rarely(10) {
            // A token may resume this very read after its key: it then answers less than
            // GetItem does, so a read of one key is no longer compared.
            if let Plan::GetByKey { .. } = plan {
                plan = Plan::Read;
            }
            body["NextToken"] = match (tokens.is_empty(), input.below(4)) {
                (false, 0 | 1) => json!(tokens[input.below(tokens.len())]),
                (_, 2) => json!(""),
                _ => json!(input.pick(&["x", "e30=", "eyJLZXkiOnt9LCJSZXF1ZXN0IjoiIn0="])),
            };
        }
        if input.rarely(20) {
            body["ConsistentRead"] = json!(input.rarely(50));
        }
        let capacity = match input.below(4) {
            0 => Some(input.pick(&["TOTAL", "INDEXES", "NONE"])),
            _ => None,
        };
        if let Some(capacity) = capacity {
            body["ReturnConsumedCapacity"] = json!(capacity);
        }
        if input.rarely(20) {
            body["ReturnValuesOnConditionCheckFailure"] = json!(input.pick(&["ALL_OLD", "NONE"]));
        }
        let answer = self.server.call("ExecuteStatement", body);
        let outcome = match answer {
            Ok(answer) => {
                assert!(answer.is_object(), "an answer is a JSON object: {answer}");
                if let Some(token) = answer["NextToken"].as_str() {
                    tokens.push(token.to_owned());
                }
                if matches!(capacity, Some("TOTAL" | "INDEXES")) {
                    assert!(
                        answer.get("ConsumedCapacity").is_some(),
                        "{statement:?} was asked for its consumed capacity: {answer}"
                    );
                }
                let items = answer["Items"].as_array().cloned();
                Outcome::Done(items.unwrap_or_else(|| panic!("an answer without Items: {answer}")))
            }
            Err(error) => failed(&error, STATEMENT_ERRORS, &[&statement]),
        };
        self.settle(&Statement { plan, ..statement }, &outcome);
    }

    /// A SELECT of a whole table or partition, paged by `Limit` and `NextToken`: every item
    /// the model holds there, once.
    fn read_pages(&mut self, input: &mut Input<'_>, statement: &Statement) {
        let limit = input.pick(&[None, Some(1), Some(2), Some(5)]);
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        let mut finished = false;
        for _ in 0..MAX_PAGES {
            let mut body = json!({ "Statement": statement.text });
            if !statement.parameters.is_empty() {
                body["Parameters"] = json!(statement.parameters);
            }
            if let Some(limit) = limit {
                body["Limit"] = json!(limit);
            }
            if let Some(token) = &token {
                body["NextToken"] = json!(token);
            }
            match self.server.call("ExecuteStatement", body) {
                Ok(page) => {
                    let page_items = page["Items"].as_array().cloned().unwrap_or_default();
                    if let Some(limit) = limit {
                        assert!(page_items.len() <= limit, "a page past its Limit: {page}");
                    }
                    for item in page_items.iter().map(typed) {
                        assert!(
                            !items.contains(&item),
                            "{:?} paged by {limit:?} answered {item:?} twice",
                            statement.text
                        );
                        items.push(item);
                    }
                    match page["NextToken"].as_str() {
                        Some(next) => token = Some(next.to_owned()),
                        None => {
                            finished = true;
                            break;
                        }
                    }
                }
                Err(error) => {
                    failed(&error, STATEMENT_ERRORS, &[statement]);
                    return;
                }
            }
        }
        if !finished {
            // Still more pages: the read was cut short, so it is not compared.
            return;
        }
        let (model, pk) = match &statement.plan {
            Plan::ReadAll { table } => (&self.model[*table], None),
            Plan::ReadPartition { pk } => {
                match serde_json::from_value::<AttributeValue>(pk.clone()) {
                    Ok(pk) => (&self.model[1], Some(pk)),
                    Err(_) => return,
                }
            }
            _ => return,
        };
        if !model.complete {
            return;
        }
        let mut expected: Vec<Item> = (model.items.values().flatten())
            .filter(|item| pk.as_ref().is_none_or(|pk| item.get("pk") == Some(pk)))
            .cloned()
            .collect();
        expected.sort();
        items.sort();
        assert_eq!(
            items, expected,
            "{:?} paged by {limit:?} read other items than were written",
            statement.text
        );
    }

    /// A `BatchExecuteStatement` of reads or of writes (sometimes mixed, none, or too many).
    fn batch(&mut self, input: &mut Input<'_>) {
        let reads = input.rarely(40);
        let count = match input.below(20) {
            0 => 0,
            1 => 26,
            n => 1 + n % 5,
        };
        let statements = statements_of(input, reads, count);
        let mut body = json!({ "Statements": entries(&statements) });
        if input.rarely(30) {
            body["ReturnConsumedCapacity"] = json!(input.pick(&["TOTAL", "INDEXES", "NONE"]));
        }
        let before = self.before(&statements);
        let answer = match self.server.call("BatchExecuteStatement", body) {
            Ok(answer) => answer,
            Err(error) => {
                failed(&error, BATCH_ERRORS, &statements.iter().collect::<Vec<_>>());
                self.unchanged(&before);
                return;
            }
        };
        let responses = answer["Responses"]
            .as_array()
            .unwrap_or_else(|| panic!("a batch's answer without Responses: {answer}"));
        assert_eq!(
            responses.len(),
            statements.len(),
            "one response a statement: {answer}"
        );
        let mut outcomes = Vec::new();
        for (statement, response) in statements.iter().zip(responses) {
            let outcome = match response.get("Error") {
                Some(error) => {
                    let code = error["Code"].as_str().unwrap_or_default().to_owned();
                    assert!(
                        BATCH_ENTRY_CODES.contains(&code.as_str()),
                        "{:?} failed in a batch with code {code:?}: {response}",
                        statement.text
                    );
                    Outcome::Failed {
                        code,
                        item: error.get("Item").cloned(),
                    }
                }
                None => Outcome::Done(response.get("Item").cloned().into_iter().collect()),
            };
            outcomes.push(outcome);
        }
        self.settle_all(&statements, &outcomes);
    }

    /// An `ExecuteTransaction` of reads or of writes: all or nothing.
    fn transaction(&mut self, input: &mut Input<'_>) {
        let reads = input.rarely(30);
        let count = match input.below(20) {
            0 => 0,
            1 => 101,
            n => 1 + n % 4,
        };
        let statements = statements_of(input, reads, count);
        let mut body = json!({ "TransactStatements": entries(&statements) });
        if input.rarely(30) {
            body["ReturnConsumedCapacity"] = json!(input.pick(&["TOTAL", "INDEXES", "NONE"]));
        }
        let before = self.before(&statements);
        match self.server.call("ExecuteTransaction", body) {
            Ok(answer) => {
                assert!(answer.is_object(), "an answer is a JSON object: {answer}");
                let responses = answer["Responses"].as_array().cloned();
                let outcomes: Vec<Outcome> = match responses {
                    Some(responses) => {
                        assert_eq!(responses.len(), statements.len(), "{answer}");
                        (responses.iter())
                            .map(|r| Outcome::Done(r.get("Item").cloned().into_iter().collect()))
                            .collect()
                    }
                    None => statements
                        .iter()
                        .map(|_| Outcome::Done(Vec::new()))
                        .collect(),
                };
                self.settle_all(&statements, &outcomes);
            }
            Err(error) => {
                failed(
                    &error,
                    TRANSACTION_ERRORS,
                    &statements.iter().collect::<Vec<_>>(),
                );
                if let Some(reasons) = error.get("CancellationReasons") {
                    let reasons = reasons.as_array().cloned().unwrap_or_default();
                    assert_eq!(
                        reasons.len(),
                        statements.len(),
                        "one reason a statement: {error}"
                    );
                    for reason in &reasons {
                        let code = reason["Code"].as_str().unwrap_or_default();
                        assert!(
                            CANCELLATION_CODES.contains(&code),
                            "reason {reason} in {error}"
                        );
                    }
                }
                self.unchanged(&before);
            }
        }
    }

    /// What the model knows, before a batch or a transaction, of each key its statements
    /// name.
    fn before(&self, statements: &[Statement]) -> Vec<(usize, Item, Option<Item>)> {
        (statements.iter())
            .filter_map(|s| planned_key(&s.plan))
            .filter_map(|(table, key)| {
                let state = self.model[table].known(&key)?;
                Some((table, key, state))
            })
            .collect()
    }

    /// Checks that the keys of `before` still hold what they held.
    fn unchanged(&mut self, before: &[(usize, Item, Option<Item>)]) {
        for (table, key, state) in before {
            if let Some(now) = self.get(*table, key) {
                assert_eq!(
                    &now, state,
                    "a refused request changed {key:?} of {}",
                    TABLES[*table]
                );
            }
        }
    }

    /// Settles the statements of a batch or transaction that ran: a key named by one
    /// statement alone is checked as that statement's; the others are read back.
    fn settle_all(&mut self, statements: &[Statement], outcomes: &[Outcome]) {
        // A statement of unknown effect that succeeded may have written any key, those of
        // the statements before it in the request too, whose outcomes then say nothing of
        // what their keys hold now: the model forgets, and checks none of them.
        let unknown_write = (statements.iter().zip(outcomes)).any(|(s, o)| {
            matches!((&s.plan, o), (Plan::Unknown, Outcome::Done(_))) && !reads_only(&s.text)
        });
        if unknown_write {
            self.model.iter_mut().for_each(TableModel::forget);
            return;
        }
        let mut named: BTreeMap<(usize, Item), usize> = BTreeMap::new();
        for statement in statements {
            if let Some(key) = planned_key(&statement.plan) {
                *named.entry(key).or_default() += 1;
            }
        }
        for (statement, outcome) in statements.iter().zip(outcomes) {
            match planned_key(&statement.plan) {
                Some(key) if named[&key] > 1 => {
                    let now = self.get(key.0, &key.1);
                    self.record(key.0, key.1, now);
                }
                _ => self.settle(statement, outcome),
            }
        }
    }

    /// Checks one statement's outcome against the model, and updates the model.
    fn settle(&mut self, statement: &Statement, outcome: &Outcome) {
        let text = &statement.text;
        let Some((table, key)) = planned_key(&statement.plan) else {
            if let (Plan::Unknown, Outcome::Done(_)) = (&statement.plan, outcome) {
                if !reads_only(text) {
                    self.model.iter_mut().for_each(TableModel::forget);
                }
            }
            return;
        };
        let before = self.model[table].known(&key);
        let Some(now) = self.get(table, &key) else {
            // Not a key GetItem takes: the write cannot have happened.
            return;
        };
        let was = |expected: Option<bool>| {
            if let (Some(before), Some(expected)) = (&before, expected) {
                assert_eq!(
                    before.is_some(),
                    expected,
                    "{text:?} ({outcome:?}) on {key:?}, which held {before:?}"
                );
            }
        };
        match (&statement.plan, outcome) {
            (Plan::Insert { item, .. }, Outcome::Done(_)) => {
                was(Some(false));
                if let Ok(item) = serde_json::from_value::<Item>(item["M"].clone()) {
                    assert_eq!(now.as_ref(), Some(&item), "{text:?} did not write its item");
                }
            }
            (Plan::Update { returning, .. }, Outcome::Done(returned)) => {
                was(Some(true));
                assert!(now.is_some(), "{text:?} succeeded and left no item");
                let returned: Vec<Item> = returned.iter().map(typed).collect();
                match *returning {
                    Some("ALL OLD") => {
                        if let Some(before) = &before {
                            assert_eq!(returned, Vec::from_iter(before.clone()), "{text:?}");
                        }
                    }
                    Some("ALL NEW") => {
                        assert_eq!(returned, Vec::from_iter(now.clone()), "{text:?}")
                    }
                    _ => {}
                }
            }
            (Plan::Delete { returning, .. }, Outcome::Done(returned)) => {
                assert_eq!(now, None, "{text:?} succeeded and left the item");
                if let (true, Some(before)) = (returning, &before) {
                    let returned: Vec<Item> = returned.iter().map(typed).collect();
                    assert_eq!(returned, Vec::from_iter(before.clone()), "{text:?}");
                }
            }
            (Plan::GetByKey { .. }, Outcome::Done(returned)) => {
                let returned: Vec<Item> = returned.iter().map(typed).collect();
                assert_eq!(
                    returned,
                    Vec::from_iter(now.clone()),
                    "{text:?} is not GetItem's"
                );
                if let Some(before) = &before {
                    assert_eq!(before, &now, "{text:?}: the model held another item");
                }
            }
            (_, Outcome::Failed { code, item }) => {
                if let Some(before) = &before {
                    assert_eq!(before, &now, "{text:?} failed ({code}) and changed {key:?}");
                    if code.starts_with("DuplicateItem") {
                        assert!(before.is_some(), "{text:?}: a duplicate of no item");
                    }
                    if let (Some(item), Some(held)) = (item, before) {
                        assert_eq!(
                            &typed(item),
                            held,
                            "{text:?}: the item of a failed condition"
                        );
                    }
                }
            }
            _ => {}
        }
        self.record(table, key, Some(now));
    }

    fn record(&mut self, table: usize, key: Item, state: Option<Option<Item>>) {
        match state {
            Some(state) => {
                self.model[table].items.insert(key, state);
            }
            None => self.model[table].forget(),
        }
    }

    /// What a consistent `GetItem` of `key` reads, `None` if it refuses the key.
    fn get(&self, table: usize, key: &Item) -> Option<Option<Item>> {
        let body = json!({ "TableName": TABLES[table], "Key": key, "ConsistentRead": true });
        let answer = self.server.call("GetItem", body).ok()?;
        Some(answer.get("Item").map(typed))
    }
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Done(items) => write!(f, "done, {} items", items.len()),
            Outcome::Failed { code, .. } => write!(f, "failed: {code}"),
        }
    }
}

/// Whether a batch or transaction statement goes against the request's kind (reads or
/// writes): a few do, to reach the refusal of a mix.
fn grammar_mixes(input: &mut Input<'_>) -> bool {
    input.rarely(5)
}

fn grammar_read(input: &mut Input<'_>) -> Statement {
    Grammar::new(input).read()
}

fn grammar_write(input: &mut Input<'_>) -> Statement {
    Grammar::new(input).write()
}

/// The table and key (typed) a statement's plan names, if it names one.
fn planned_key(plan: &Plan) -> Option<(usize, Item)> {
    let (table, key) = match plan {
        Plan::Insert { table, item } => {
            let item = item["M"].as_object()?;
            let names: &[&str] = if *table == 1 { &["pk", "sk"] } else { &["pk"] };
            let key: serde_json::Map<String, Value> = (names.iter())
                .map(|n| Some((n.to_string(), item.get(*n)?.clone())))
                .collect::<Option<_>>()?;
            (*table, Value::Object(key))
        }
        Plan::GetByKey { table, key }
        | Plan::Update { table, key, .. }
        | Plan::Delete { table, key, .. } => (*table, key.clone()),
        _ => return None,
    };
    Some((table, serde_json::from_value::<Item>(key).ok()?))
}

/// Whether `text` can only read (its first word SELECT or EXISTS), as a batch tells reads.
fn reads_only(text: &str) -> bool {
    let word: String = (text.trim_start().chars())
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    word.eq_ignore_ascii_case("SELECT") || word.eq_ignore_ascii_case("EXISTS")
}

/// An item in DynamoDB JSON, typed (numbers compared by value).
fn typed(item: &Value) -> Item {
    serde_json::from_value(item.clone()).unwrap_or_else(|e| panic!("an answered item {item}: {e}"))
}

/// Checks a failed request's error: a JSON object whose `__type` names one of `allowed`
/// (or `SerializationException`, when a statement's parameter was malformed), with a
/// message if it is a `ValidationException`. Returns it as a statement's outcome.
fn failed(error: &Value, allowed: &[&str], statements: &[&Statement]) -> Outcome {
    let malformed = statements.iter().any(|s| s.malformed);
    let name = documented_error(error, allowed, malformed, || {
        format!(
            "{:?}",
            statements.iter().map(|s| &s.text).collect::<Vec<_>>()
        )
    });
    let code = name.trim_end_matches("Exception").to_owned();
    Outcome::Failed {
        code,
        item: error.get("Item").cloned(),
    }
}

/// `count` statements for a batch or a transaction: reads (or writes), with now and then
/// one of the other kind mixed in.
fn statements_of(input: &mut Input<'_>, reads: bool, count: usize) -> Vec<Statement> {
    (0..count)
        .map(|_| match (reads, grammar_mixes(input)) {
            (true, false) | (false, true) => grammar_read(input),
            _ => grammar_write(input),
        })
        .collect()
}

/// The statements as a batch's or a transaction's entries, each with its parameters.
fn entries(statements: &[Statement]) -> Vec<Value> {
    (statements.iter())
        .map(|s| {
            let mut entry = json!({ "Statement": s.text });
            if !s.parameters.is_empty() {
                entry["Parameters"] = json!(s.parameters);
            }
            entry
        })
        .collect()
}
