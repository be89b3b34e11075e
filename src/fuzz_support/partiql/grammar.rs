//! PartiQL statements made from the fuzzer's bytes by a grammar: each byte or two picks the
//! next production, so a few bytes make a statement `server::partiql` reads, and a mutation
//! of one byte changes one choice. The grammar follows the one `server/partiql/parse.rs`
//! draws, and more (functions it does not know, odd literals, keys of the wrong type, names
//! of missing tables and indexes), so that refusals are reached as well as the requests the
//! statements stand for.
//!
//! Beside its text, a statement carries what the harness needs to check it against a model
//! ([`Plan`]): the table and key it names and the item an INSERT writes, in DynamoDB JSON,
//! each only where the generator knows it for sure. The `?`s' values are in
//! [`Statement::parameters`], in order. A statement may then be damaged as raw text (bytes
//! flipped, cut, inserted): its plan is then [`Plan::Unknown`].

use serde_json::{json, Map, Value};

use super::super::input::Input;

/// The tables of the harness's database: `one` with a string partition key `pk`; `two` with
/// `pk` and a number sort key `sk`, and the global index `byG` on `g` (S) and `n` (N).
pub(super) const TABLES: [&str; 2] = ["one", "two"];

/// The global index of `two`.
pub(super) const INDEX: &str = "byG";

/// A statement to send, and what it is known to do.
#[derive(Clone, Debug)]
pub(super) struct Statement {
    /// The statement's text.
    pub text: String,
    /// The values of its `?`s, in DynamoDB JSON (some deliberately malformed).
    pub parameters: Vec<Value>,
    /// Whether a parameter is not an attribute value's JSON at all (a request holding one
    /// may be refused as a `SerializationException`).
    pub malformed: bool,
    /// What the statement does, where the generator knows it.
    pub plan: Plan,
}

/// What a statement does, for the model's checks.
#[derive(Clone, Debug)]
pub(super) enum Plan {
    /// `SELECT * FROM table WHERE` the whole key by `=` and nothing else: at most one item,
    /// the one GetItem reads.
    GetByKey { table: usize, key: Value },
    /// `SELECT * FROM table` (no WHERE, no index, no ORDER BY): every item of the table.
    ReadAll { table: usize },
    /// `SELECT * FROM two WHERE pk = v`: every item of the partition.
    ReadPartition { pk: Value },
    /// Another read: it changes nothing.
    Read,
    /// `INSERT INTO table VALUE item`, the item in DynamoDB JSON (`{"M": …}`).
    Insert { table: usize, item: Value },
    /// `UPDATE table … WHERE key [AND …]`.
    Update {
        table: usize,
        key: Value,
        returning: Option<&'static str>,
    },
    /// `DELETE FROM table WHERE key [AND …]`.
    Delete {
        table: usize,
        key: Value,
        returning: bool,
    },
    /// `EXISTS(SELECT … WHERE key …)`: a transaction's condition check, which writes
    /// nothing.
    Exists,
    /// A statement damaged as text, or one the generator made without knowing its effect:
    /// if it succeeds, it may have written anything.
    Unknown,
}

/// Attribute names the statements use: the keys, the index's, and others.
const NAMES: [&str; 9] = ["pk", "sk", "g", "n", "a", "b", "l", "s", "m"];

/// Strings the statements use; some are no valid key (empty, too long for a partition key).
const STRINGS: [&str; 8] = ["a", "b", "c", "it's", "é\u{1F600}", "", "a''b", "\\"];

/// Numbers as written in statements: equal ones written differently, the 38-digit edge,
/// exponents at and past DynamoDB's range, and text the lexer takes as a number that is not
/// one.
const NUMBERS: [&str; 18] = [
    "1",
    "2",
    "1.0",
    "10E-1",
    "-3",
    "0",
    "0.000",
    "12345678901234567890123456789012345678",
    "123456789012345678901234567890123456789",
    "1e125",
    "9.9999999999999999999999999999999999999E+125",
    "1e126",
    "-1e-130",
    "1e-131",
    "1e",
    "1.2.3",
    "00012",
    "1E+2",
];

/// Makes statements from an input's choices.
pub(super) struct Grammar<'i, 'a> {
    input: &'i mut Input<'a>,
    parameters: Vec<Value>,
    malformed: bool,
}

/// A value as written in a statement, and its DynamoDB JSON if the generator knows it.
struct Literal {
    text: String,
    json: Value,
}

impl<'i, 'a> Grammar<'i, 'a> {
    /// A grammar reading its choices from `input`.
    pub(super) fn new(input: &'i mut Input<'a>) -> Self {
        Grammar {
            input,
            parameters: Vec::new(),
            malformed: false,
        }
    }

    /// One statement: mostly SELECT, INSERT, UPDATE and DELETE as `server::partiql` reads
    /// them, sometimes `EXISTS`, sometimes raw text; some are damaged as text afterwards.
    pub(super) fn statement(&mut self) -> Statement {
        let choice = self.input.below(20);
        self.make(choice)
    }

    /// A read for a batch or a transaction: mostly a SELECT of one item by its key.
    pub(super) fn read(&mut self) -> Statement {
        match self.input.below(8) {
            0 => self.make(0),
            1 => self.make(17),
            _ => self.make(21),
        }
    }

    /// A write for a batch or a transaction: an INSERT, UPDATE or DELETE, sometimes an
    /// `EXISTS` (a transaction's condition check) or raw text.
    pub(super) fn write(&mut self) -> Statement {
        let choice = 5 + self.input.below(13);
        self.make(choice)
    }

    /// The statement of production `choice` (see [`Grammar::statement`]).
    fn make(&mut self, choice: usize) -> Statement {
        self.parameters.clear();
        self.malformed = false;
        let (text, plan) = match choice {
            0..=4 => self.select(),
            5..=8 => self.insert(),
            9..=12 => self.update(),
            13..=15 => self.delete(),
            16 => self.exists(),
            17 => (self.input.text(250), Plan::Unknown),
            18 | 19 => self.scan_or_partition(),
            _ => self.get_by_key(),
        };
        let mut statement = Statement {
            text,
            parameters: std::mem::take(&mut self.parameters),
            malformed: self.malformed,
            plan,
        };
        if self.input.rarely(12) {
            self.damage(&mut statement);
        }
        statement
    }

    /// Damages the statement's text as bytes: a few flips, cuts, insertions or doubled spans,
    /// or its parameters dropped or doubled; its plan is then unknown.
    fn damage(&mut self, statement: &mut Statement) {
        let mut bytes = statement.text.clone().into_bytes();
        for _ in 0..1 + self.input.below(3) {
            let at = self.input.below(bytes.len() + 1);
            match self.input.below(7) {
                0 if at < bytes.len() => bytes[at] ^= 1 << self.input.below(8),
                1 => bytes.truncate(at),
                2 => {
                    let insert = self.input.pick(&[
                        "'", "\"", "(", ")", "[", "<<", ">>", "?", ".", ",", " NOT ", " AND ", "{",
                        "}", "-", "e", "\u{0}", "*",
                    ]);
                    bytes.splice(at..at, insert.bytes());
                }
                3 => {
                    let end = (at + self.input.below(16)).min(bytes.len());
                    let span = bytes[at..end].to_vec();
                    bytes.splice(at..at, span);
                }
                4 => statement.parameters.truncate(self.input.below(3)),
                5 => statement.parameters.push(json!({ "S": "extra" })),
                _ => {
                    let raw = self.input.bytes(8);
                    bytes.splice(at..at, raw);
                }
            }
        }
        statement.text = String::from_utf8_lossy(&bytes).into_owned();
        statement.plan = Plan::Unknown;
    }

    fn table(&mut self) -> (usize, String) {
        match self.input.below(16) {
            0..=6 => (0, self.table_name(TABLES[0])),
            7..=14 => (1, self.table_name(TABLES[1])),
            _ => (
                0,
                self.input
                    .pick(&["missing", "\"\"", "\"one\"\"\"", "ONE"])
                    .into(),
            ),
        }
    }

    /// A table's name, bare or quoted.
    fn table_name(&mut self, name: &str) -> String {
        match self.input.rarely(50) {
            true => format!("\"{name}\""),
            false => name.into(),
        }
    }

    fn select(&mut self) -> (String, Plan) {
        let (table, name) = self.table();
        let star = !self.input.rarely(40);
        let projection = match star {
            true => "*".to_string(),
            false => {
                let paths: Vec<String> =
                    (0..1 + self.input.below(3)).map(|_| self.path()).collect();
                paths.join(", ")
            }
        };
        let index = match self.input.below(10) {
            0 => Some(format!(".\"{INDEX}\"")),
            1 => Some(self.input.pick(&[".byG", ".\"nope\"", ".\"\""]).to_string()),
            _ => None,
        };
        let mut text = format!(
            "SELECT {projection} FROM {name}{}",
            index.as_deref().unwrap_or("")
        );
        let mut plan = Plan::Read;
        let named = names_table(&name, table);
        match self.input.below(6) {
            0 => {
                if star && index.is_none() && named {
                    plan = Plan::ReadAll { table };
                }
            }
            1 | 2 => {
                let (condition, key) = self.key_condition(table);
                let extra = self.input.rarely(30);
                text += &format!(" WHERE {condition}");
                if extra {
                    text += &format!(" AND {}", self.condition(2));
                }
                if let (true, true, None, false, Some(key)) = (named, star, &index, extra, key) {
                    plan = Plan::GetByKey { table, key };
                }
            }
            3 if index.is_some() => {
                let g = self.string_literal();
                text += &format!(" WHERE g = {}", g.text);
                if self.input.rarely(50) {
                    text += &format!(
                        " AND n {} {}",
                        self.comparator(),
                        self.number_literal().text
                    );
                }
            }
            _ => text += &format!(" WHERE {}", self.condition(3)),
        }
        if self.input.rarely(10) {
            let by = self.input.pick(&[
                "sk",
                "pk",
                "sk DESC",
                "sk ASC",
                "pk, sk DESC",
                "a",
                "n DESC",
            ]);
            text += &format!(" ORDER BY {by}");
            if matches!(plan, Plan::ReadAll { .. }) {
                plan = Plan::Read;
            }
        }
        (text, plan)
    }

    /// `SELECT * FROM t WHERE` its whole key (sometimes with a projection instead of `*`).
    fn get_by_key(&mut self) -> (String, Plan) {
        let (table, name) = self.table();
        let (condition, key) = self.key_condition(table);
        let star = !self.input.rarely(20);
        let projection = match star {
            true => "*".to_string(),
            false => self.path(),
        };
        let text = format!("SELECT {projection} FROM {name} WHERE {condition}");
        match (key, star, names_table(&name, table)) {
            (Some(key), true, true) => (text, Plan::GetByKey { table, key }),
            _ => (text, Plan::Read),
        }
    }

    /// `SELECT * FROM t` or `SELECT * FROM two WHERE pk = v`: reads the model can answer
    /// whole, paged by the harness.
    fn scan_or_partition(&mut self) -> (String, Plan) {
        if self.input.rarely(50) {
            let (table, name) = self.table();
            return match names_table(&name, table) {
                true => (format!("SELECT * FROM {name}"), Plan::ReadAll { table }),
                false => (format!("SELECT * FROM {name}"), Plan::Read),
            };
        }
        let pk = self.partition_value();
        let text = format!("SELECT * FROM \"two\" WHERE pk = {}", pk.text);
        (text, Plan::ReadPartition { pk: pk.json })
    }

    fn insert(&mut self) -> (String, Plan) {
        let (table, name) = self.table();
        let mut item = Map::new();
        let mut entries = Vec::new();
        let outer_parameters = self.parameters.len();
        let mut keys = vec![("pk", self.partition_value())];
        if table == 1 || self.input.rarely(5) {
            keys.push(("sk", self.sort_value()));
        }
        for (name, value) in keys {
            if self.input.rarely(4) {
                // A key attribute left out, and its `?`'s value with it.
                if value.text == "?" {
                    self.parameters.pop();
                }
                continue;
            }
            entries.push(format!("'{name}': {}", value.text));
            item.insert(name.into(), value.json);
        }
        for _ in 0..self.input.below(5) {
            let name = self.input.pick(&NAMES[2..]);
            let value = self.value(3);
            entries.push(format!("'{name}': {}", value.text));
            item.insert(name.into(), value.json);
        }
        // Shuffled a little: the key need not come first (unless that would take the `?`s out
        // of the order their values were pushed in).
        let shuffle = self.parameters.len() == outer_parameters;
        if entries.len() > 1 && self.input.rarely(30) && shuffle {
            entries.rotate_left(1);
        }
        let item = json!({ "M": item });
        let value = match self.input.below(12) {
            0 => {
                // The whole item as one parameter (whose values are in it, not `?`s).
                self.parameters.truncate(outer_parameters);
                self.parameters.push(item.clone());
                "?".to_string()
            }
            1 => format!("[{}]", entries.join(", ")),
            _ => format!("{{{}}}", entries.join(", ")),
        };
        let keyword = self
            .input
            .pick(&["VALUE", "VALUE", "VALUE", "value", "VALUES"]);
        let text = format!("INSERT INTO {name} {keyword} {value}");
        let plan = match names_table(&name, table)
            && !value.starts_with('[')
            && keyword.eq_ignore_ascii_case("VALUE")
        {
            true => Plan::Insert { table, item },
            false => Plan::Unknown,
        };
        (text, plan)
    }

    fn update(&mut self) -> (String, Plan) {
        let (table, name) = self.table();
        let mut clauses = Vec::new();
        for _ in 0..1 + self.input.below(3) {
            if !self.input.rarely(25) {
                let sets: Vec<String> = (0..1 + self.input.below(3))
                    .map(|_| self.assignment())
                    .collect();
                clauses.push(format!("SET {}", sets.join(", ")));
            } else {
                let paths: Vec<String> =
                    (0..1 + self.input.below(2)).map(|_| self.path()).collect();
                clauses.push(format!("REMOVE {}", paths.join(", ")));
            }
        }
        let (condition, key) = self.key_condition(table);
        let mut text = format!("UPDATE {name} {} WHERE {condition}", clauses.join(" "));
        if self.input.rarely(30) {
            text += &format!(" AND {}", self.condition(2));
        }
        let returning = match self.input.below(8) {
            0 => Some("ALL OLD"),
            1 => Some("MODIFIED OLD"),
            2 => Some("ALL NEW"),
            3 => Some("MODIFIED NEW"),
            _ => None,
        };
        if let Some(returning) = returning {
            text += &format!(" RETURNING {returning} *");
        }
        let plan = match (key, names_table(&name, table)) {
            (Some(key), true) => Plan::Update {
                table,
                key,
                returning,
            },
            _ => Plan::Unknown,
        };
        (text, plan)
    }

    /// One `SET` assignment: a value, arithmetic, `list_append`, `set_add` or `set_delete`.
    fn assignment(&mut self) -> String {
        let target = self.path();
        let data = match self.input.below(8) {
            0 | 1 => self.value(3).text,
            2 => format!("{} + {}", self.term(), self.term()),
            3 => format!("{} - {}", self.term(), self.number_literal().text),
            4 => format!("list_append({}, {})", self.term(), self.term()),
            5 | 6 => {
                let function = self.input.pick(&["set_add", "set_delete"]);
                let of = match !self.input.rarely(15) {
                    true => target.clone(),
                    false => self.path(),
                };
                format!("{function}({of}, {})", self.set_literal().text)
            }
            _ => self.path(),
        };
        format!("{target} = {data}")
    }

    fn term(&mut self) -> String {
        match self.input.rarely(50) {
            true => self.path(),
            false => self.value(2).text,
        }
    }

    fn delete(&mut self) -> (String, Plan) {
        let (table, name) = self.table();
        let (condition, key) = self.key_condition(table);
        let mut text = format!("DELETE FROM {name} WHERE {condition}");
        if self.input.rarely(30) {
            text += &format!(" AND {}", self.condition(2));
        }
        let returning = self.input.rarely(25);
        if returning {
            text += match !self.input.rarely(10) {
                true => " RETURNING ALL OLD *",
                false => " RETURNING ALL NEW *",
            };
        }
        let plan = match (key, names_table(&name, table)) {
            (Some(key), true) if !text.ends_with("NEW *") => Plan::Delete {
                table,
                key,
                returning,
            },
            _ => Plan::Unknown,
        };
        (text, plan)
    }

    fn exists(&mut self) -> (String, Plan) {
        let (table, name) = self.table();
        let (condition, _) = self.key_condition(table);
        let mut text = format!("EXISTS(SELECT * FROM {name} WHERE {condition}");
        if self.input.rarely(50) {
            text += &format!(" AND {}", self.condition(2));
        }
        text.push(')');
        (text, Plan::Exists)
    }

    /// A WHERE naming one item by its key with `=` (in either order, either side), and the
    /// key in DynamoDB JSON; sometimes a key attribute is left out or compared otherwise,
    /// and then the key is `None`.
    fn key_condition(&mut self, table: usize) -> (String, Option<Value>) {
        let outer_parameters = self.parameters.len();
        let mut parts = Vec::new();
        let mut key = Map::new();
        let mut whole = true;
        let mut attributes = vec![("pk", self.partition_value())];
        if table == 1 {
            attributes.push(("sk", self.sort_value()));
        }
        for (name, value) in attributes {
            match self.input.below(20) {
                0 => whole = false,
                1 => {
                    whole = false;
                    parts.push(format!("{name} > {}", value.text));
                }
                2 | 3 => {
                    parts.push(format!("{} = {name}", value.text));
                    key.insert(name.into(), value.json);
                }
                _ => {
                    parts.push(format!("{name} = {}", value.text));
                    key.insert(name.into(), value.json);
                }
            }
        }
        // The other order, unless that would take the `?`s out of the order of their values.
        if parts.len() > 1 && self.input.rarely(30) && self.parameters.len() == outer_parameters {
            parts.reverse();
        }
        if parts.is_empty() {
            parts.push(self.condition(1));
        }
        (parts.join(" AND "), whole.then_some(Value::Object(key)))
    }

    /// A condition of the grammar, at most `depth` levels of AND, OR, NOT and parentheses.
    fn condition(&mut self, depth: usize) -> String {
        let choices = if depth == 0 { 9 } else { 13 };
        match self.input.below(choices) {
            0 | 1 => format!(
                "{} {} {}",
                self.operand(),
                self.comparator(),
                self.operand()
            ),
            2 => format!(
                "{} BETWEEN {} AND {}",
                self.operand(),
                self.operand(),
                self.operand()
            ),
            3 => {
                let values: Vec<String> = (0..1 + self.input.below(4))
                    .map(|_| self.value(1).text)
                    .collect();
                let (open, close) = self.input.pick(&[("[", "]"), ("(", ")")]);
                format!("{} IN {open}{}{close}", self.operand(), values.join(", "))
            }
            4 => {
                let function = self
                    .input
                    .pick(&["begins_with", "contains", "attribute_type"]);
                let argument = match function {
                    "attribute_type" => {
                        let t = self
                            .input
                            .pick(&["S", "N", "NULL", "M", "L", "SS", "X", ""]);
                        format!("'{t}'")
                    }
                    _ => self.operand(),
                };
                format!("{function}({}, {argument})", self.path())
            }
            5 => {
                let function = self.input.pick(&[
                    "attribute_exists",
                    "attribute_not_exists",
                    "size",
                    "exists",
                    "missing_function",
                ]);
                format!("{function}({})", self.path())
            }
            6 => {
                let what =
                    self.input
                        .pick(&["MISSING", "NOT MISSING", "NULL", "NOT NULL", "STRING"]);
                format!("{} IS {what}", self.path())
            }
            7 => format!(
                "size({}) {} {}",
                self.path(),
                self.comparator(),
                self.number_literal().text
            ),
            8 => format!("{} = {}", self.path(), self.value(2).text),
            9 => format!("NOT {}", self.condition(depth - 1)),
            10 => format!("({})", self.condition(depth - 1)),
            11 => format!(
                "{} AND {}",
                self.condition(depth - 1),
                self.condition(depth - 1)
            ),
            _ => format!(
                "{} OR {}",
                self.condition(depth - 1),
                self.condition(depth - 1)
            ),
        }
    }

    fn comparator(&mut self) -> &'static str {
        self.input
            .pick(&["=", "<>", "!=", "<", "<=", ">", ">=", "=="])
    }

    fn operand(&mut self) -> String {
        match self.input.below(5) {
            0 | 1 => self.path(),
            2 => format!("size({})", self.path()),
            _ => self.value(1).text,
        }
    }

    /// A document path: a name, then members and list indexes.
    fn path(&mut self) -> String {
        let mut path = match self.input.below(12) {
            0 => "\"a b\"".to_string(),
            1 => "\"it\"\"s\"".to_string(),
            2 => "\"\"".to_string(),
            n => self.input.pick(&NAMES[n % 3..]).to_string(),
        };
        for _ in 0..self.input.below(4).saturating_sub(1) {
            match self.input.below(6) {
                0 => {
                    path += &format!(
                        "[{}]",
                        self.input.pick(&["0", "1", "3", "4294967296", "-1", "'x'"])
                    )
                }
                1 => path += "[0]",
                _ => path += &format!(".{}", self.input.pick(&NAMES)),
            }
        }
        path
    }

    /// A partition key value: mostly a string (a few are no valid key), as a literal or a
    /// `?`; sometimes a number or a map (the wrong type).
    fn partition_value(&mut self) -> Literal {
        match self.input.below(20) {
            0 => self.number_literal(),
            1 => Literal {
                text: format!("'{}'", "k".repeat(2049)),
                json: json!({ "S": "k".repeat(2049) }),
            },
            2..=5 => {
                let s = self.input.pick(&STRINGS[..5]);
                self.parameter(json!({ "S": s }))
            }
            _ => self.string_literal(),
        }
    }

    /// A sort key value: mostly a number, as a literal or a `?`, sometimes a string.
    fn sort_value(&mut self) -> Literal {
        match self.input.below(20) {
            0 => self.string_literal(),
            1..=4 => {
                let n = self.input.pick(&NUMBERS[..7]);
                self.parameter(json!({ "N": n }))
            }
            _ => {
                let n = self.input.pick(&NUMBERS[..9]);
                Literal {
                    text: n.into(),
                    json: json!({ "N": n }),
                }
            }
        }
    }

    /// A `?` whose parameter is `value`.
    fn parameter(&mut self, value: Value) -> Literal {
        self.parameters.push(value.clone());
        Literal {
            text: "?".into(),
            json: value,
        }
    }

    fn string_literal(&mut self) -> Literal {
        let s = match !self.input.rarely(20) {
            true => self.input.pick(&STRINGS).to_string(),
            false => self.input.text(12),
        };
        Literal {
            text: format!("'{}'", s.replace('\'', "''")),
            json: json!({ "S": s }),
        }
    }

    fn number_literal(&mut self) -> Literal {
        let n = self.input.pick(&NUMBERS);
        Literal {
            text: n.into(),
            json: json!({ "N": n }),
        }
    }

    /// A set literal `<< … >>` of strings or numbers (sometimes empty or mixed: refused).
    fn set_literal(&mut self) -> Literal {
        let numbers = self.input.rarely(50);
        let count = self.input.below(4);
        let members: Vec<Literal> = (0..count)
            .map(|_| match (numbers, self.input.rarely(5)) {
                (true, false) | (false, true) => self.number_literal(),
                _ => self.string_literal(),
            })
            .collect();
        let text = format!(
            "<<{}>>",
            members
                .iter()
                .map(|m| m.text.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let set_type = if numbers { "N" } else { "S" };
        let json_members: Vec<Value> = members
            .iter()
            .map(|m| m.json.get(set_type).cloned().unwrap_or(Value::Null))
            .collect();
        // A member of the other type has no place in the set's JSON: as a parameter, the set
        // would be no attribute value.
        self.malformed |= json_members.contains(&Value::Null);
        Literal {
            text,
            json: json!({ format!("{set_type}S"): json_members }),
        }
    }

    /// Any value: a string, number, boolean, NULL, map, list, set or `?`, nested at most
    /// `depth` levels (sometimes far deeper, as text only).
    fn value(&mut self, depth: usize) -> Literal {
        let choices = if depth == 0 { 6 } else { 10 };
        match self.input.below(choices) {
            0 | 1 => self.string_literal(),
            2 | 3 => self.number_literal(),
            4 => {
                let (text, json) = match self.input.below(3) {
                    0 => ("TRUE", json!({ "BOOL": true })),
                    1 => ("false", json!({ "BOOL": false })),
                    _ => ("NULL", json!({ "NULL": true })),
                };
                Literal {
                    text: text.into(),
                    json,
                }
            }
            5 => {
                let value = self.parameter_value();
                self.parameter(value)
            }
            6 => {
                let mut map = Map::new();
                let mut entries = Vec::new();
                for _ in 0..self.input.below(4) {
                    let key = self.input.pick(&["a", "b", "x", "pk", "", "it's"]);
                    let value = self.value(depth - 1);
                    entries.push(format!("'{}': {}", key.replace('\'', "''"), value.text));
                    map.insert(key.into(), value.json);
                }
                Literal {
                    text: format!("{{{}}}", entries.join(", ")),
                    json: json!({ "M": map }),
                }
            }
            7 => {
                let values: Vec<Literal> = (0..self.input.below(4))
                    .map(|_| self.value(depth - 1))
                    .collect();
                Literal {
                    text: format!(
                        "[{}]",
                        values
                            .iter()
                            .map(|v| v.text.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    json: json!({ "L": values.into_iter().map(|v| v.json).collect::<Vec<_>>() }),
                }
            }
            8 => self.set_literal(),
            _ => {
                // Deep nesting, as text: past the parser's depth limit and DynamoDB's 32.
                let depth = self.input.below(100);
                let (open, close) = self
                    .input
                    .pick(&[("[", "]"), ("{'a': ", "}"), ("<<", ">>")]);
                let text = format!("{}1{}", open.repeat(depth), close.repeat(depth));
                // Its JSON is not worked out: as a parameter it would be no attribute value.
                self.malformed = true;
                Literal {
                    text,
                    json: Value::Null,
                }
            }
        }
    }

    /// A parameter's JSON: mostly an attribute value of any type, sometimes one DynamoDB
    /// refuses (no type, two types, a number that is none, bad base64), sometimes JSON that
    /// is no attribute value at all.
    fn parameter_value(&mut self) -> Value {
        match self.input.below(16) {
            0 => json!({ "S": self.input.pick(&STRINGS) }),
            1 => json!({ "N": self.input.pick(&NUMBERS) }),
            2 => json!({ "B": self.input.pick(&["AAEC", "", "not base64!"]) }),
            3 => json!({ "BOOL": true }),
            4 => json!({ "NULL": true }),
            5 => json!({ "SS": ["a", "b"] }),
            6 => json!({ "NS": ["1", "1.0"] }),
            7 => json!({ "BS": ["AAEC"] }),
            8 => json!({ "L": [{ "S": "a" }, { "N": "1" }] }),
            9 => json!({ "M": { "a": { "S": "x" }, "b": { "L": [] } } }),
            10 => json!({ "SS": [] }),
            11 => json!({ "S": "a", "N": "1" }),
            12 => json!({}),
            13 => json!({ "NULL": false }),
            _ => {
                self.malformed = true;
                match self.input.below(6) {
                    0 => json!("text"),
                    1 => json!(5),
                    2 => json!({ "S": 5 }),
                    3 => json!({ "X": "y" }),
                    4 => json!([]),
                    _ => Value::Null,
                }
            }
        }
    }
}

/// Whether `name`, as written in a statement, names table `table` of [`TABLES`] (bare or
/// quoted; `"one"""` names the table `one"`).
fn names_table(name: &str, table: usize) -> bool {
    name == TABLES[table] || name == format!("\"{}\"", TABLES[table])
}
