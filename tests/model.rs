//! Model-based property test: tidestore against a plain `BTreeMap` model of one table.
//!
//! A generated sequence of operations — puts, conditional writes whose conditions hold and
//! fail, updates (SET with arithmetic, `if_not_exists` and copies, REMOVE, ADD, DELETE on
//! sets), deletes, gets, `BatchWriteItem`, `BatchGetItem`, `TransactWriteItems` (some of them
//! cancelled by a failing `ConditionCheck`), queries with every sort key condition in both
//! directions, and scans with filters, limits and parallel segments — runs against one table
//! with two local and three global secondary indexes (one of them with a multi-attribute key:
//! two partition and two sort attributes, queried with every left-to-right prefix of sort
//! conditions), and against the model. Each write's
//! outcome (success, `ConditionalCheckFailed`, `ValidationException`,
//! `TransactionCanceled` with its reasons, and the returned attributes) must be the model's.
//! After every step the whole table (a paged scan), every index (a paged scan of the index and
//! paged queries of each of its partitions, both directions) and `DescribeTable`'s counts and
//! sizes must equal what the model derives.
//!
//! The model does not reuse the engine's expression code: conditions and updates are small
//! enums of this file, evaluated here by their DynamoDB semantics, then translated to
//! tidestore's `Condition` and `Update`. Numbers are kept as exact hundredths (`i64`), so
//! numeric order and arithmetic are checked against integers, and every number literal is
//! sent in one of several spellings (`1.25`, `1.250`, `125e-2`, `+01.25`) that must all mean
//! the same value and key.
//!
//! Running it:
//!
//! ```text
//! cargo test --test model                          # 96 cases of 10 to 60 operations, ~20 s
//! PROPTEST_CASES=5000 cargo test --test model      # a long run
//! ```
//!
//! `PROPTEST_CASES` sets the number of cases (the default is `DEFAULT_CASES`). On failure
//! proptest prints the shrunk operation list, with the step that diverged and what each side
//! did, and records the case's seed in `tests/model.proptest-regressions`, which is committed
//! so that every later run replays it first.
//!
//! Sections: the model (values, items, indexes, conditions, updates), op generation, and the
//! harness that runs each op on both and compares.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use tidestore::expr::syntax::ExpressionWriter;
use tidestore::{
    item_size, AttributeValue, BatchGetItemInput, BatchWriteItemInput, CancellationReason,
    Comparator, Condition, ConditionCheckInput, CreateTableInput, Database, DeleteItemInput, Error,
    Expressions, GetItemInput, Item, KeyCondition, KeysAndAttributes, Number, Operand, Path,
    Projection, PutItemInput, QueryInput, QueryOutput, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, ScanInput, Select, SetValue,
    SortKeyOp, TransactWriteItem, TransactWriteItemsInput, Update, UpdateItemInput, ValueExpr,
    ValueType, WriteRequest,
};

/// Cases per run unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 96;
/// The most operations in one case.
const MAX_OPS: usize = 60;

const TABLE: &str = "Model";

// Attribute names. `pk` (S) and `sk` (N) are the table's key; `tag`, `rank`, `grp` and `color`
// are index keys; the rest are plain attributes.
const PK: &str = "pk";
const SK: &str = "sk";
const N: &str = "n";
const S: &str = "s";
const SS: &str = "ss";
const NS: &str = "ns";
const TAG: &str = "tag";
const RANK: &str = "rank";
const GRP: &str = "grp";
const COLOR: &str = "color";

const ALL_ATTRS: &[&str] = &[PK, SK, N, S, SS, NS, TAG, RANK, GRP, COLOR];
const NON_KEY_ATTRS: &[&str] = &[N, S, SS, NS, TAG, RANK, GRP, COLOR];

// Value pools: small, so that operations collide. Numbers are in hundredths.
const PKS: &[&str] = &["p0", "p1", "p2"];
const SKS: &[i64] = &[-10_000, -1_000, -150, -25, 0, 50, 125, 200, 1_000];
/// Sort key values for conditions: the stored ones and some in between or beyond.
const SK_PROBES: &[i64] = &[
    -20_000, -10_000, -1_000, -150, -50, -25, 0, 50, 75, 125, 200, 1_000, 5_000,
];
/// Ordered by UTF-8 bytes: "Z" < "a" < "ab" < "abc" < "abd" < "b" < "ba" < "é".
const TAGS: &[&str] = &["a", "ab", "abc", "abd", "b", "ba", "Z", "é"];
const TAG_PROBES: &[&str] = &[
    "A", "Z", "a", "aa", "ab", "abc", "abd", "abe", "b", "ba", "c", "é", "ê",
];
const PREFIXES: &[&str] = &["a", "ab", "abc", "b", "Z", "é", "c", "abcd"];
const RANKS: &[i64] = &[-200, -5, 0, 75, 300, 1_000];
const RANK_PROBES: &[i64] = &[-1_000, -200, -100, -5, 0, 1, 75, 300, 500, 1_000, 2_000];
const GRPS: &[&str] = &["g0", "g1", "g2"];
const COLORS: &[&str] = &["red", "green", "blue"];
/// A partition value no item has (every partition key attribute is a string).
const NO_PARTITION: &str = "none";
const STRS: &[&str] = &["", "a", "ab", "hello", "x"];
const SET_STRS: &[&str] = &["w", "x", "y", "z"];
const SET_NUMS: &[i64] = &[-100, -25, 0, 50, 100, 1_000];

// =============================================================================================
// Model
// =============================================================================================

/// A value as the model keeps it: numbers as exact hundredths.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum MVal {
    S(String),
    N(i64),
    Ss(BTreeSet<String>),
    Ns(BTreeSet<i64>),
}

type MItem = BTreeMap<&'static str, MVal>;
/// A table key: partition, and sort key in hundredths.
type MKey = (String, i64);

/// `centi` hundredths as canonical decimal text: `-0.25`, `1.5`, `10`.
fn decimal(centi: i64) -> String {
    let sign = if centi < 0 { "-" } else { "" };
    let (int, frac) = (centi.unsigned_abs() / 100, centi.unsigned_abs() % 100);
    match frac {
        0 => format!("{sign}{int}"),
        f if f % 10 == 0 => format!("{sign}{int}.{}", f / 10),
        f => format!("{sign}{int}.{f:02}"),
    }
}

fn number(text: &str) -> Number {
    Number::parse(text).unwrap_or_else(|e| panic!("{text:?} is a valid DynamoDB number: {e}"))
}

impl MVal {
    /// The engine's value (numbers from their canonical text).
    fn to_av(&self) -> AttributeValue {
        match self {
            MVal::S(s) => AttributeValue::S(s.clone()),
            MVal::N(c) => AttributeValue::N(number(&decimal(*c))),
            MVal::Ss(set) => AttributeValue::Ss(set.clone()),
            MVal::Ns(set) => AttributeValue::Ns(set.iter().map(|c| number(&decimal(*c))).collect()),
        }
    }

    fn value_type(&self) -> ValueType {
        match self {
            MVal::S(_) => ValueType::S,
            MVal::N(_) => ValueType::N,
            MVal::Ss(_) => ValueType::Ss,
            MVal::Ns(_) => ValueType::Ns,
        }
    }
}

/// DynamoDB's order of two values: numbers numerically, strings by UTF-8 bytes (which is
/// `String`'s order); other pairs are not ordered.
fn order(a: &MVal, b: &MVal) -> Option<Ordering> {
    match (a, b) {
        (MVal::S(x), MVal::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (MVal::N(x), MVal::N(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn to_item(item: &MItem) -> Item {
    item.iter()
        .map(|(k, v)| (k.to_string(), v.to_av()))
        .collect()
}

fn key_item(key: &MKey) -> MItem {
    MItem::from([(PK, MVal::S(key.0.clone())), (SK, MVal::N(key.1))])
}

/// The index key attributes and whether each is a number (else a string).
const INDEX_KEY_TYPES: &[(&str, bool)] =
    &[(TAG, false), (RANK, true), (GRP, false), (COLOR, false)];

/// Whether DynamoDB accepts the item: every index key attribute it has is of the defined type
/// and, for a string, not empty, whether or not the item has the index's other key attribute.
/// (Table keys and sets are always valid by construction.)
fn valid(item: &MItem) -> bool {
    INDEX_KEY_TYPES
        .iter()
        .all(|(attr, numeric)| match item.get(attr) {
            None => true,
            Some(MVal::N(_)) => *numeric,
            Some(MVal::S(s)) => !numeric && !s.is_empty(),
            Some(_) => false,
        })
}

/// What an index copies besides the keys.
#[derive(Clone, Copy, Debug)]
enum Proj {
    All,
    KeysOnly,
    Include(&'static [&'static str]),
}

/// A secondary index of the model table.
#[derive(Debug)]
struct IndexDef {
    name: &'static str,
    local: bool,
    /// The partition key attributes, in key order (several: a multi-attribute key).
    hash: &'static [&'static str],
    /// The sort key attributes, in key order (none, one, or several).
    range: &'static [&'static str],
    proj: Proj,
    /// The values items can have, for each partition key attribute.
    partitions: &'static [&'static [&'static str]],
}

const INDEXES: &[IndexDef] = &[
    IndexDef {
        name: "ByTag",
        local: true,
        hash: &[PK],
        range: &[TAG],
        proj: Proj::Include(&[S, NS]),
        partitions: &[PKS],
    },
    IndexDef {
        name: "ByRank",
        local: true,
        hash: &[PK],
        range: &[RANK],
        proj: Proj::KeysOnly,
        partitions: &[PKS],
    },
    IndexDef {
        name: "ByGroup",
        local: false,
        hash: &[GRP],
        range: &[TAG],
        proj: Proj::All,
        partitions: &[GRPS],
    },
    IndexDef {
        name: "ByColor",
        local: false,
        hash: &[COLOR],
        range: &[],
        proj: Proj::Include(&[N]),
        partitions: &[COLORS],
    },
    // A multi-attribute key: partition (grp, color), sorted by tag, then rank.
    IndexDef {
        name: "ByGroupColor",
        local: false,
        hash: &[GRP, COLOR],
        range: &[TAG, RANK],
        proj: Proj::KeysOnly,
        partitions: &[GRPS, COLORS],
    },
];

/// The table's key as an index of itself: the shape queries of the table have.
const TABLE_KEY: IndexDef = IndexDef {
    name: TABLE,
    local: true,
    hash: &[PK],
    range: &[SK],
    proj: Proj::All,
    partitions: &[PKS],
};

/// The table's schema, as the engine is asked to create it.
fn create_table_input() -> CreateTableInput {
    let mut input = CreateTableInput::new(TABLE)
        .hash_key(PK, ScalarAttributeType::S)
        .range_key(SK, ScalarAttributeType::N)
        .pay_per_request();
    let ty = |attr: &str| {
        if attr == RANK {
            ScalarAttributeType::N
        } else {
            ScalarAttributeType::S
        }
    };
    for ix in INDEXES {
        let projection = match ix.proj {
            Proj::All => Projection::all(),
            Proj::KeysOnly => Projection::keys_only(),
            Proj::Include(attrs) => Projection::include(attrs.iter().copied()),
        };
        input = if ix.local {
            let range = ix.range[0];
            input.local_index(ix.name, range, ty(range), projection)
        } else {
            let typed = |attrs: &[&'static str]| -> Vec<(&'static str, ScalarAttributeType)> {
                attrs.iter().map(|a| (*a, ty(a))).collect()
            };
            let (hash, range) = (typed(ix.hash), typed(ix.range));
            input.global_index_with_keys(ix.name, &hash, &range, projection)
        };
    }
    input
}

impl IndexDef {
    /// Whether the index stores `attr` (the table's and its own keys always).
    fn projects(&self, attr: &str) -> bool {
        attr == PK
            || attr == SK
            || self.hash.contains(&attr)
            || self.range.contains(&attr)
            || match self.proj {
                Proj::All => true,
                Proj::KeysOnly => false,
                Proj::Include(attrs) => attrs.contains(&attr),
            }
    }

    /// The index's copy of `item`, or `None` when the item lacks a key attribute of the index
    /// (indexes are sparse).
    fn view(&self, item: &MItem) -> Option<MItem> {
        let has_keys = (self.hash.iter().chain(self.range)).all(|a| item.contains_key(a));
        has_keys.then(|| {
            item.iter()
                .filter(|(attr, _)| self.projects(attr))
                .map(|(k, v)| (*k, v.clone()))
                .collect()
        })
    }

    /// The attribute names a `LastEvaluatedKey` of this index holds.
    fn key_attrs(&self) -> Vec<&'static str> {
        let mut attrs = vec![PK, SK];
        attrs.extend(self.hash.iter().chain(self.range));
        attrs.sort_unstable();
        attrs.dedup();
        attrs
    }
}

/// The model: the table's items by key.
#[derive(Clone, Debug, Default)]
struct Model {
    items: BTreeMap<MKey, MItem>,
}

/// Every item of index `ix`, as the index holds it.
fn index_items(model: &Model, ix: &IndexDef) -> Vec<MItem> {
    model
        .items
        .values()
        .filter_map(|item| ix.view(item))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A condition or filter over top-level attributes.
#[derive(Clone, Debug)]
enum Cond {
    Exists(&'static str),
    NotExists(&'static str),
    Compare(&'static str, Cmp, Lit),
    Between(&'static str, Lit, Lit),
    BeginsWith(&'static str, String),
    /// `begins_with(:text, a)`: the literal begins with `a`'s value.
    TextBeginsWith(String, &'static str),
    Contains(&'static str, Lit),
    /// `contains(:container, a)`: the literal holds `a`'s value.
    HeldBy(Lit, &'static str),
    In(&'static str, Vec<Lit>),
    Type(&'static str, ValueType),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

impl Cond {
    /// Whether the condition holds for `item` (`None`: no item), by DynamoDB's rules: a
    /// comparison with a missing attribute is false except `<>`; values of different types
    /// are never equal and never ordered.
    fn holds(&self, item: Option<&MItem>) -> bool {
        let get = |attr: &str| item.and_then(|i| i.get(attr));
        match self {
            Cond::Exists(a) => get(a).is_some(),
            Cond::NotExists(a) => get(a).is_none(),
            Cond::Compare(a, op, lit) => {
                let lit = lit.model();
                let ordering = get(a).and_then(|v| order(v, &lit));
                let equal = get(a) == Some(&lit);
                match op {
                    Cmp::Eq => equal,
                    Cmp::Ne => !equal,
                    Cmp::Lt => ordering == Some(Ordering::Less),
                    Cmp::Le => ordering.is_some_and(Ordering::is_le),
                    Cmp::Gt => ordering == Some(Ordering::Greater),
                    Cmp::Ge => ordering.is_some_and(Ordering::is_ge),
                }
            }
            Cond::Between(a, low, high) => get(a).is_some_and(|v| {
                order(v, &low.model()).is_some_and(Ordering::is_ge)
                    && order(v, &high.model()).is_some_and(Ordering::is_le)
            }),
            Cond::BeginsWith(a, prefix) => {
                matches!(get(a), Some(MVal::S(s)) if s.starts_with(prefix.as_str()))
            }
            Cond::TextBeginsWith(text, a) => {
                matches!(get(a), Some(MVal::S(prefix)) if text.starts_with(prefix.as_str()))
            }
            Cond::HeldBy(container, a) => match (container.model(), get(a)) {
                (MVal::S(s), Some(MVal::S(sub))) => s.contains(sub.as_str()),
                (MVal::Ss(set), Some(MVal::S(x))) => set.contains(x),
                (MVal::Ns(set), Some(MVal::N(x))) => set.contains(x),
                _ => false,
            },
            Cond::Contains(a, lit) => match (get(a), lit.model()) {
                (Some(MVal::S(s)), MVal::S(sub)) => s.contains(sub.as_str()),
                (Some(MVal::Ss(set)), MVal::S(x)) => set.contains(&x),
                (Some(MVal::Ns(set)), MVal::N(x)) => set.contains(&x),
                _ => false,
            },
            Cond::In(a, list) => get(a).is_some_and(|v| list.iter().any(|l| *v == l.model())),
            Cond::Type(a, t) => get(a).is_some_and(|v| v.value_type() == *t),
            Cond::And(x, y) => x.holds(item) && y.holds(item),
            Cond::Or(x, y) => x.holds(item) || y.holds(item),
            Cond::Not(x) => !x.holds(item),
        }
    }

    /// The engine's condition.
    fn to_engine(&self) -> Condition {
        match self {
            Cond::Exists(a) => Condition::attribute_exists(*a),
            Cond::NotExists(a) => Condition::attribute_not_exists(*a),
            Cond::Compare(a, op, lit) => {
                let op = match op {
                    Cmp::Eq => Comparator::Eq,
                    Cmp::Ne => Comparator::Ne,
                    Cmp::Lt => Comparator::Lt,
                    Cmp::Le => Comparator::Le,
                    Cmp::Gt => Comparator::Gt,
                    Cmp::Ge => Comparator::Ge,
                };
                Condition::compare(Operand::path(*a), op, lit.av())
            }
            Cond::Between(a, low, high) => Condition::between(*a, low.av(), high.av()),
            Cond::BeginsWith(a, prefix) => Condition::begins_with(*a, AttributeValue::s(prefix)),
            Cond::TextBeginsWith(text, a) => {
                Condition::BeginsWith(Operand::value(text.as_str()), Operand::path(*a))
            }
            Cond::Contains(a, lit) => Condition::contains(*a, lit.av()),
            Cond::HeldBy(container, a) => {
                Condition::Contains(Operand::value(container.av()), Operand::path(*a))
            }
            Cond::In(a, list) => Condition::is_in(*a, list.iter().map(Lit::av)),
            Cond::Type(a, t) => Condition::attribute_type(*a, *t),
            Cond::And(x, y) => x.to_engine().and(y.to_engine()),
            Cond::Or(x, y) => x.to_engine().or(y.to_engine()),
            Cond::Not(x) => x.to_engine().not(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------------------------

/// One update action on a top-level, non-key attribute.
#[derive(Clone, Debug)]
enum Act {
    /// `SET a = :v`
    Set(&'static str, Lit),
    /// `SET a = a + :v`, `SET a = a - :v` or `SET a = :v - a` (`lit_first`).
    Arith {
        attr: &'static str,
        lit: Num,
        minus: bool,
        lit_first: bool,
    },
    /// `SET a = if_not_exists(a, :d) + :v`
    IfNotExistsPlus {
        attr: &'static str,
        default: Num,
        add: Num,
    },
    /// `SET a = if_not_exists(a, :v)`
    IfNotExists(&'static str, Lit),
    /// `SET a = b`
    Copy {
        attr: &'static str,
        from: &'static str,
    },
    /// `REMOVE a`
    Remove(&'static str),
    /// `ADD a :v`
    Add(&'static str, Lit),
    /// `DELETE a :v`
    Delete(&'static str, Lit),
}

impl Act {
    fn attr(&self) -> &'static str {
        match self {
            Act::Set(a, _)
            | Act::IfNotExists(a, _)
            | Act::Remove(a)
            | Act::Add(a, _)
            | Act::Delete(a, _) => a,
            Act::Arith { attr, .. }
            | Act::IfNotExistsPlus { attr, .. }
            | Act::Copy { attr, .. } => attr,
        }
    }

    /// The engine's action, added to `update`.
    fn add_to(&self, update: Update) -> Update {
        match self {
            Act::Set(a, lit) => update.set(*a, lit.av()),
            Act::Arith {
                attr,
                lit,
                minus,
                lit_first,
            } => {
                let (x, y): (ValueExpr, ValueExpr) = if *lit_first {
                    (lit.av().into(), Path::attr(*attr).into())
                } else {
                    (Path::attr(*attr).into(), lit.av().into())
                };
                let value = if *minus {
                    SetValue::minus(x, y)
                } else {
                    SetValue::plus(x, y)
                };
                update.set_expr(*attr, value)
            }
            Act::IfNotExistsPlus { attr, default, add } => update.set_expr(
                *attr,
                SetValue::plus(ValueExpr::if_not_exists(*attr, default.av()), add.av()),
            ),
            Act::IfNotExists(a, lit) => update.set(*a, ValueExpr::if_not_exists(*a, lit.av())),
            Act::Copy { attr, from } => update.set(*attr, Path::attr(*from)),
            Act::Remove(a) => update.remove(*a),
            Act::Add(a, lit) => update.add(*a, lit.av()),
            Act::Delete(a, lit) => update.delete(*a, lit.av()),
        }
    }
}

fn to_update(acts: &[Act]) -> Update {
    acts.iter().fold(Update::new(), |u, a| a.add_to(u))
}

/// Why an update cannot apply to the item (DynamoDB's `ValidationException`).
#[derive(Debug)]
struct Invalid;

/// The item after `acts` (`Ok(None)`: no item, which happens only when the item is missing
/// and every action is a REMOVE: DynamoDB does not create an item for an update that only
/// removes). Every operand is read from the item as it was, as DynamoDB does.
fn apply_update(old: Option<&MItem>, key: &MKey, acts: &[Act]) -> Result<Option<MItem>, Invalid> {
    if old.is_none() && acts.iter().all(|a| matches!(a, Act::Remove(_))) {
        return Ok(None);
    }
    let original = old.cloned().unwrap_or_else(|| key_item(key));
    let number = |attr: &str| match original.get(attr) {
        Some(MVal::N(c)) => Ok(*c),
        _ => Err(Invalid),
    };
    let mut writes: Vec<(&'static str, Option<MVal>)> = Vec::new();
    for act in acts {
        let value = match act {
            Act::Set(_, lit) => Some(lit.model()),
            Act::Arith {
                attr,
                lit,
                minus,
                lit_first,
            } => {
                let current = number(attr)?;
                Some(MVal::N(match (minus, lit_first) {
                    (false, _) => current + lit.centi,
                    (true, false) => current - lit.centi,
                    (true, true) => lit.centi - current,
                }))
            }
            Act::IfNotExistsPlus { attr, default, add } => {
                let current = match original.get(attr) {
                    None => default.centi,
                    Some(MVal::N(c)) => *c,
                    Some(_) => return Err(Invalid),
                };
                Some(MVal::N(current + add.centi))
            }
            Act::IfNotExists(a, lit) => Some(original.get(a).cloned().unwrap_or(lit.model())),
            Act::Copy { from, .. } => Some(original.get(from).cloned().ok_or(Invalid)?),
            Act::Remove(_) => None,
            Act::Add(a, lit) => Some(match (original.get(a), lit.model()) {
                (None, v) => v,
                (Some(MVal::N(x)), MVal::N(y)) => MVal::N(x + y),
                (Some(MVal::Ss(x)), MVal::Ss(y)) => MVal::Ss(x.union(&y).cloned().collect()),
                (Some(MVal::Ns(x)), MVal::Ns(y)) => MVal::Ns(x.union(&y).cloned().collect()),
                _ => return Err(Invalid),
            }),
            Act::Delete(a, lit) => match (original.get(a), lit.model()) {
                (None, _) => None,
                (Some(MVal::Ss(x)), MVal::Ss(y)) => {
                    let rest: BTreeSet<String> = x.difference(&y).cloned().collect();
                    (!rest.is_empty()).then_some(MVal::Ss(rest))
                }
                (Some(MVal::Ns(x)), MVal::Ns(y)) => {
                    let rest: BTreeSet<i64> = x.difference(&y).cloned().collect();
                    (!rest.is_empty()).then_some(MVal::Ns(rest))
                }
                _ => return Err(Invalid),
            },
        };
        writes.push((act.attr(), value));
    }
    let mut new = original;
    for (attr, value) in writes {
        match value {
            Some(v) => new.insert(attr, v),
            None => new.remove(attr),
        };
    }
    if valid(&new) {
        Ok(Some(new))
    } else {
        Err(Invalid)
    }
}

/// What `UpdateItem` returns for `ret`, given the item before and after.
fn update_returns(
    ret: ReturnValue,
    old: Option<&MItem>,
    new: Option<&MItem>,
    acts: &[Act],
) -> Option<Item> {
    let pick = |item: Option<&MItem>, only_updated: bool| {
        let item = item?;
        let picked: MItem = item
            .iter()
            .filter(|(attr, _)| !only_updated || acts.iter().any(|a| a.attr() == **attr))
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        (!picked.is_empty()).then(|| to_item(&picked))
    };
    match ret {
        ReturnValue::None => None,
        ReturnValue::AllOld => pick(old, false),
        ReturnValue::AllNew => pick(new, false),
        ReturnValue::UpdatedOld => pick(old, true),
        ReturnValue::UpdatedNew => pick(new, true),
    }
}

// =============================================================================================
// Op generation
// =============================================================================================

/// A number literal: its value in hundredths and how it is spelled to the engine.
#[derive(Clone, Debug)]
struct Num {
    centi: i64,
    style: u8,
}

impl Num {
    /// One of four spellings of the same value: `1.25`, `1.250`, `125E-2`, `+01.25`.
    fn text(&self) -> String {
        let c = self.centi;
        let (int, frac) = (c.unsigned_abs() / 100, c.unsigned_abs() % 100);
        let sign = if c < 0 { "-" } else { "" };
        match self.style % 4 {
            0 => decimal(c),
            1 => format!("{sign}{int}.{frac:02}0"),
            2 => format!("{c}E-2"),
            _ => format!("{}0{}", if c < 0 { "-" } else { "+" }, decimal(c.abs())),
        }
    }

    fn av(&self) -> AttributeValue {
        AttributeValue::N(number(&self.text()))
    }
}

/// A literal value as sent to the engine.
#[derive(Clone, Debug)]
enum Lit {
    S(String),
    N(Num),
    Ss(Vec<String>),
    Ns(Vec<Num>),
}

impl Lit {
    fn model(&self) -> MVal {
        match self {
            Lit::S(s) => MVal::S(s.clone()),
            Lit::N(n) => MVal::N(n.centi),
            Lit::Ss(v) => MVal::Ss(v.iter().cloned().collect()),
            Lit::Ns(v) => MVal::Ns(v.iter().map(|n| n.centi).collect()),
        }
    }

    fn av(&self) -> AttributeValue {
        match self {
            Lit::S(s) => AttributeValue::S(s.clone()),
            Lit::N(n) => n.av(),
            Lit::Ss(v) => AttributeValue::Ss(v.iter().cloned().collect()),
            Lit::Ns(v) => AttributeValue::Ns(v.iter().map(|n| number(&n.text())).collect()),
        }
    }
}

/// A table key as sent to the engine.
#[derive(Clone, Debug)]
struct KeyLit {
    pk: &'static str,
    sk: Num,
}

impl KeyLit {
    fn model(&self) -> MKey {
        (self.pk.to_string(), self.sk.centi)
    }

    fn av(&self) -> Item {
        Item::from([
            (PK.to_string(), AttributeValue::s(self.pk)),
            (SK.to_string(), self.sk.av()),
        ])
    }
}

/// A whole item as sent to the engine.
#[derive(Clone, Debug)]
struct ItemLit {
    key: KeyLit,
    attrs: Vec<(&'static str, Lit)>,
}

impl ItemLit {
    fn model(&self) -> MItem {
        let mut item = key_item(&self.key.model());
        item.extend(self.attrs.iter().map(|(a, v)| (*a, v.model())));
        item
    }

    fn av(&self) -> Item {
        let mut item = self.key.av();
        item.extend(self.attrs.iter().map(|(a, v)| (a.to_string(), v.av())));
        item
    }
}

/// A sort key condition of a query.
#[derive(Clone, Debug)]
enum SortOp {
    Eq(Lit),
    Lt(Lit),
    Le(Lit),
    Gt(Lit),
    Ge(Lit),
    Between(Lit, Lit),
    BeginsWith(String),
}

impl SortOp {
    fn holds(&self, v: &MVal) -> bool {
        let cmp = |lit: &Lit| order(v, &lit.model());
        match self {
            SortOp::Eq(l) => cmp(l) == Some(Ordering::Equal),
            SortOp::Lt(l) => cmp(l) == Some(Ordering::Less),
            SortOp::Le(l) => cmp(l).is_some_and(Ordering::is_le),
            SortOp::Gt(l) => cmp(l) == Some(Ordering::Greater),
            SortOp::Ge(l) => cmp(l).is_some_and(Ordering::is_ge),
            SortOp::Between(lo, hi) => {
                cmp(lo).is_some_and(Ordering::is_ge) && cmp(hi).is_some_and(Ordering::is_le)
            }
            SortOp::BeginsWith(p) => matches!(v, MVal::S(s) if s.starts_with(p.as_str())),
        }
    }

    fn to_engine(&self) -> SortKeyOp {
        match self {
            SortOp::Eq(l) => SortKeyOp::Eq(l.av()),
            SortOp::Lt(l) => SortKeyOp::Lt(l.av()),
            SortOp::Le(l) => SortKeyOp::Le(l.av()),
            SortOp::Gt(l) => SortKeyOp::Gt(l.av()),
            SortOp::Ge(l) => SortKeyOp::Ge(l.av()),
            SortOp::Between(lo, hi) => SortKeyOp::Between(lo.av(), hi.av()),
            SortOp::BeginsWith(p) => SortKeyOp::BeginsWith(AttributeValue::s(p)),
        }
    }
}

/// What a read returns of each item.
#[derive(Clone, Debug)]
enum Sel {
    /// No `Select`: the table's items, or what the index projects.
    Default,
    /// `Select::AllAttributes`: the table's whole item (fetched from the table by a local index).
    AllAttributes,
    /// `Select::Count`.
    Count,
    /// A projection expression.
    Attrs(Vec<&'static str>),
}

#[derive(Clone, Debug)]
struct QueryOp {
    /// `None`: the table; else a position in `INDEXES`.
    index: Option<usize>,
    /// A value for each partition key attribute, in key order.
    partition: Vec<&'static str>,
    /// Conditions on the first sort key attributes, in key order: equalities, then any
    /// condition on the last one.
    sort: Vec<SortOp>,
    forward: bool,
    limit: Option<u32>,
    filter: Option<Cond>,
    select: Sel,
}

#[derive(Clone, Debug)]
struct ScanOp {
    index: Option<usize>,
    limit: Option<u32>,
    filter: Option<Cond>,
    /// 1: a plain scan; more: a parallel scan of that many segments, all of them read.
    segments: u32,
}

#[derive(Clone, Debug)]
enum BatchReq {
    Put(ItemLit),
    Delete(KeyLit),
}

#[derive(Clone, Debug)]
enum TxAct {
    Check {
        key: KeyLit,
        cond: Cond,
        return_old: bool,
    },
    Put {
        item: ItemLit,
        cond: Option<Cond>,
        return_old: bool,
    },
    Delete {
        key: KeyLit,
        cond: Option<Cond>,
    },
    Update {
        key: KeyLit,
        acts: Vec<Act>,
        cond: Option<Cond>,
    },
}

impl TxAct {
    fn key(&self) -> MKey {
        match self {
            TxAct::Check { key, .. } | TxAct::Delete { key, .. } | TxAct::Update { key, .. } => {
                key.model()
            }
            TxAct::Put { item, .. } => item.key.model(),
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Put {
        item: ItemLit,
        cond: Option<Cond>,
        return_old: bool,
        return_on_failure: bool,
    },
    Update {
        key: KeyLit,
        acts: Vec<Act>,
        cond: Option<Cond>,
        ret: ReturnValue,
        return_on_failure: bool,
    },
    Delete {
        key: KeyLit,
        cond: Option<Cond>,
        return_old: bool,
        return_on_failure: bool,
    },
    Get {
        key: KeyLit,
    },
    BatchGet {
        keys: Vec<KeyLit>,
    },
    Batch {
        reqs: Vec<BatchReq>,
    },
    Transact {
        acts: Vec<TxAct>,
    },
    Query(QueryOp),
    Scan(ScanOp),
}

fn num_in(pool: &'static [i64]) -> impl Strategy<Value = Num> {
    (select(pool), any::<u8>()).prop_map(|(centi, style)| Num { centi, style })
}

fn any_num() -> impl Strategy<Value = Num> {
    (-500i64..=500, any::<u8>()).prop_map(|(centi, style)| Num { centi, style })
}

fn str_in(pool: &'static [&'static str]) -> impl Strategy<Value = Lit> {
    select(pool).prop_map(|s| Lit::S(s.to_string()))
}

fn string_set() -> impl Strategy<Value = Lit> {
    subsequence(SET_STRS, 1..=3).prop_map(|v| Lit::Ss(v.into_iter().map(String::from).collect()))
}

fn number_set() -> impl Strategy<Value = Lit> {
    prop::collection::vec(num_in(SET_NUMS), 1..=3).prop_map(Lit::Ns)
}

fn key() -> impl Strategy<Value = KeyLit> {
    (select(PKS), num_in(SKS)).prop_map(|(pk, sk)| KeyLit { pk, sk })
}

/// A value of the type `attr` holds (for a set, a whole set).
fn value_for(attr: &'static str) -> BoxedStrategy<Lit> {
    match attr {
        PK => str_in(PKS).boxed(),
        SK => num_in(SKS).prop_map(Lit::N).boxed(),
        N => any_num().prop_map(Lit::N).boxed(),
        S => str_in(STRS).boxed(),
        SS => string_set().boxed(),
        NS => number_set().boxed(),
        TAG => str_in(TAGS).boxed(),
        RANK => num_in(RANKS).prop_map(Lit::N).boxed(),
        GRP => str_in(GRPS).boxed(),
        COLOR => str_in(COLORS).boxed(),
        other => unreachable!("no attribute {other}"),
    }
}

/// A value for `attr` in a write: usually of its type, and for an index key now and then a
/// value the index rejects (the wrong type, or an empty string).
///
/// A bad `grp` is rejected even in an item without `tag`, the other key of `ByGroup`, which
/// is therefore in no index that `grp` keys: every index key attribute an item has must be
/// valid (see `valid`). DynamoDB's documentation does not spell out this partial case.
fn written_value(attr: &'static str, allow_invalid: bool) -> BoxedStrategy<Lit> {
    let bad: Option<BoxedStrategy<Lit>> = match attr {
        TAG => Some(prop_oneof![Just(Lit::S(String::new())), any_num().prop_map(Lit::N)].boxed()),
        RANK => Some(Just(Lit::S("1".into())).boxed()),
        GRP => Some(prop_oneof![Just(Lit::S(String::new())), any_num().prop_map(Lit::N)].boxed()),
        COLOR => Some(prop_oneof![Just(Lit::S(String::new())), string_set()].boxed()),
        _ => None,
    };
    match bad.filter(|_| allow_invalid) {
        Some(bad) => prop_oneof![24 => value_for(attr), 1 => bad].boxed(),
        None => value_for(attr),
    }
}

/// A scalar value to compare `attr` with: usually one of its kind (an element for a set),
/// sometimes any string or number.
fn scalar_for(attr: &'static str) -> BoxedStrategy<Lit> {
    let own = match attr {
        SS => str_in(SET_STRS).boxed(),
        NS => num_in(SET_NUMS).prop_map(Lit::N).boxed(),
        other => value_for(other),
    };
    prop_oneof![
        4 => own,
        1 => str_in(TAGS),
        1 => any_num().prop_map(Lit::N),
    ]
    .boxed()
}

/// A literal string for `begins_with(:text, attr)`: usually one of `attr`'s values with
/// something after it (so that the condition often holds), sometimes any tag probe.
fn text_for(attr: &'static str) -> BoxedStrategy<String> {
    let extended =
        (value_for(attr), select(&["", "c", "zz"][..])).prop_map(|(start, end)| match start {
            Lit::S(s) => s + end,
            _ => end.to_owned(),
        });
    prop_oneof![3 => extended, 1 => select(TAG_PROBES).prop_map(String::from)].boxed()
}

/// A literal for `contains(:container, attr)`: usually a string or set holding one of
/// `attr`'s values (so that the condition often holds), sometimes any string or set.
fn container_for(attr: &'static str) -> BoxedStrategy<Lit> {
    let holding = (value_for(attr), any::<bool>()).prop_map(|(value, in_a_set)| match value {
        Lit::S(s) if in_a_set && !s.is_empty() => Lit::Ss(vec![s, "w".to_owned()]),
        Lit::S(s) => Lit::S(format!("<{s}>")),
        Lit::N(n) => Lit::Ns(vec![n]),
        set => set,
    });
    prop_oneof![
        3 => holding,
        1 => str_in(TAG_PROBES),
        1 => string_set(),
        1 => number_set(),
    ]
    .boxed()
}

/// Two values for `attr` in model order, for `BETWEEN`.
fn bounds_for(attr: &'static str) -> BoxedStrategy<(Lit, Lit)> {
    let own = match attr {
        SS => str_in(SET_STRS).boxed(),
        NS => num_in(SET_NUMS).prop_map(Lit::N).boxed(),
        other => value_for(other),
    };
    (own.clone(), own)
        .prop_map(|(a, b)| match order(&a.model(), &b.model()) {
            Some(Ordering::Greater) => (b, a),
            _ => (a, b),
        })
        .boxed()
}

fn comparator() -> impl Strategy<Value = Cmp> {
    select(&[Cmp::Eq, Cmp::Ne, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge][..])
}

/// Conditions over the attributes `attrs`, nested up to two levels deep.
fn cond(attrs: &'static [&'static str]) -> BoxedStrategy<Cond> {
    let attr = select(attrs);
    let types = [
        ValueType::S,
        ValueType::N,
        ValueType::Ss,
        ValueType::Ns,
        ValueType::Bool,
    ];
    let leaf = prop_oneof![
        2 => attr.clone().prop_map(Cond::Exists),
        2 => attr.clone().prop_map(Cond::NotExists),
        4 => attr
            .clone()
            .prop_flat_map(|a| (Just(a), comparator(), scalar_for(a)))
            .prop_map(|(a, op, lit)| Cond::Compare(a, op, lit)),
        2 => attr
            .clone()
            .prop_flat_map(|a| (Just(a), bounds_for(a)))
            .prop_map(|(a, (lo, hi))| Cond::Between(a, lo, hi)),
        1 => (attr.clone(), select(PREFIXES))
            .prop_map(|(a, p)| Cond::BeginsWith(a, p.to_string())),
        1 => attr
            .clone()
            .prop_flat_map(|a| (text_for(a), Just(a)))
            .prop_map(|(text, a)| Cond::TextBeginsWith(text, a)),
        1 => attr
            .clone()
            .prop_flat_map(|a| (Just(a), scalar_for(a)))
            .prop_map(|(a, lit)| Cond::Contains(a, lit)),
        1 => attr
            .clone()
            .prop_flat_map(|a| (container_for(a), Just(a)))
            .prop_map(|(container, a)| Cond::HeldBy(container, a)),
        1 => attr
            .clone()
            .prop_flat_map(|a| (Just(a), prop::collection::vec(scalar_for(a), 1..4)))
            .prop_map(|(a, list)| Cond::In(a, list)),
        1 => (attr, select(types.to_vec())).prop_map(|(a, t)| Cond::Type(a, t)),
    ];
    leaf.prop_recursive(2, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(x, y)| Cond::And(Box::new(x), Box::new(y))),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| Cond::Or(Box::new(x), Box::new(y))),
            inner.prop_map(|x| Cond::Not(Box::new(x))),
        ]
    })
    .boxed()
}

/// A condition of a write: often on whether the item exists, so that about half hold.
fn write_cond() -> BoxedStrategy<Cond> {
    prop_oneof![
        2 => Just(Cond::Exists(PK)),
        2 => Just(Cond::NotExists(PK)),
        3 => cond(ALL_ATTRS),
    ]
    .boxed()
}

/// An item with a random subset of the non-key attributes (each one present two times in
/// three, so that most items are in most indexes and some in none).
fn item(allow_invalid: bool) -> impl Strategy<Value = ItemLit> {
    let attrs: Vec<BoxedStrategy<Option<(&'static str, Lit)>>> = NON_KEY_ATTRS
        .iter()
        .map(|&a| {
            prop::option::weighted(0.65, written_value(a, allow_invalid))
                .prop_map(move |v| v.map(|v| (a, v)))
                .boxed()
        })
        .collect();
    (key(), attrs).prop_map(|(key, attrs)| ItemLit {
        key,
        attrs: attrs.into_iter().flatten().collect(),
    })
}

fn act() -> impl Strategy<Value = Act> {
    let attr = select(NON_KEY_ATTRS);
    let numeric = select(&[N, N, RANK, S][..]);
    prop_oneof![
        4 => attr
            .clone()
            .prop_flat_map(|a| (Just(a), written_value(a, true)))
            .prop_map(|(a, v)| Act::Set(a, v)),
        2 => (numeric.clone(), any_num(), any::<bool>(), any::<bool>()).prop_map(
            |(attr, lit, minus, lit_first)| Act::Arith { attr, lit, minus, lit_first }
        ),
        2 => (numeric, any_num(), any_num())
            .prop_map(|(attr, default, add)| Act::IfNotExistsPlus { attr, default, add }),
        1 => attr
            .clone()
            .prop_flat_map(|a| (Just(a), value_for(a)))
            .prop_map(|(a, v)| Act::IfNotExists(a, v)),
        1 => (attr.clone(), attr.clone()).prop_map(|(attr, from)| Act::Copy { attr, from }),
        3 => attr.prop_map(Act::Remove),
        3 => prop_oneof![
            3 => (select(&[N, RANK][..]), any_num()).prop_map(|(a, n)| Act::Add(a, Lit::N(n))),
            2 => string_set().prop_map(|v| Act::Add(SS, v)),
            2 => number_set().prop_map(|v| Act::Add(NS, v)),
            1 => number_set().prop_map(|v| Act::Add(SS, v)),
            1 => string_set().prop_map(|v| Act::Add(S, v)),
        ],
        2 => prop_oneof![
            3 => string_set().prop_map(|v| Act::Delete(SS, v)),
            3 => number_set().prop_map(|v| Act::Delete(NS, v)),
            1 => string_set().prop_map(|v| Act::Delete(NS, v)),
            1 => number_set().prop_map(|v| Act::Delete(N, v)),
        ],
    ]
}

/// One to three update actions on distinct attributes (DynamoDB rejects overlapping paths).
/// An update that only deletes from sets also gets a SET, since whether DynamoDB creates a
/// missing item for such an update is not documented (for REMOVE alone it does not).
fn acts() -> impl Strategy<Value = Vec<Act>> {
    prop::collection::vec(act(), 1..4).prop_map(|acts| {
        let mut seen = BTreeSet::new();
        let mut acts: Vec<Act> = acts.into_iter().filter(|a| seen.insert(a.attr())).collect();
        let only_deletions = acts
            .iter()
            .all(|a| matches!(a, Act::Remove(_) | Act::Delete(..)));
        if only_deletions && acts.iter().any(|a| matches!(a, Act::Delete(..))) {
            let fresh = [S, N, SS, NS].into_iter().find(|a| !seen.contains(a));
            if let Some(a) = fresh {
                let value = match a {
                    S => Lit::S("x".into()),
                    N => Lit::N(Num {
                        centi: 100,
                        style: 0,
                    }),
                    SS => Lit::Ss(vec!["x".into()]),
                    _ => Lit::Ns(vec![Num { centi: 0, style: 0 }]),
                };
                acts.push(Act::Set(a, value));
            }
        }
        acts
    })
}

fn return_value() -> impl Strategy<Value = ReturnValue> {
    select(
        &[
            ReturnValue::None,
            ReturnValue::AllOld,
            ReturnValue::AllNew,
            ReturnValue::UpdatedOld,
            ReturnValue::UpdatedNew,
        ][..],
    )
}

/// Keeps the first request per key, unless `keep_duplicates` (DynamoDB rejects those).
fn dedup_keys<T>(items: Vec<T>, keep_duplicates: bool, key: impl Fn(&T) -> MKey) -> Vec<T> {
    if keep_duplicates {
        return items;
    }
    let mut seen = BTreeSet::new();
    items.into_iter().filter(|t| seen.insert(key(t))).collect()
}

fn tx_act() -> impl Strategy<Value = TxAct> {
    prop_oneof![
        2 => (key(), write_cond(), any::<bool>())
            .prop_map(|(key, cond, return_old)| TxAct::Check { key, cond, return_old }),
        4 => (item(false), prop::option::weighted(0.2, write_cond()), any::<bool>())
            .prop_map(|(item, cond, return_old)| TxAct::Put { item, cond, return_old }),
        1 => (key(), prop::option::weighted(0.2, write_cond()))
            .prop_map(|(key, cond)| TxAct::Delete { key, cond }),
        3 => (key(), acts(), prop::option::weighted(0.2, write_cond()))
            .prop_map(|(key, acts, cond)| TxAct::Update { key, acts, cond }),
    ]
}

/// A transaction on distinct items; a fifth also carries a `ConditionCheck` that can never
/// hold, so that it must be cancelled whatever its other actions would have done.
fn transaction() -> impl Strategy<Value = Vec<TxAct>> {
    (
        prop::collection::vec(tx_act(), 1..5),
        key(),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(acts, doomed_key, doomed, keep_duplicates)| {
            let mut acts = acts;
            if doomed {
                let never = Cond::And(Box::new(Cond::Exists(PK)), Box::new(Cond::NotExists(PK)));
                acts.insert(
                    acts.len() / 2,
                    TxAct::Check {
                        key: doomed_key,
                        cond: never,
                        return_old: true,
                    },
                );
            }
            dedup_keys(acts, keep_duplicates, TxAct::key)
        })
}

fn batch() -> impl Strategy<Value = Vec<BatchReq>> {
    // Puts of items an index rejects are rarer than in single puts: one rejects the batch.
    let req = prop_oneof![
        24 => item(false).prop_map(BatchReq::Put),
        1 => item(true).prop_map(BatchReq::Put),
        8 => key().prop_map(BatchReq::Delete),
    ];
    (prop::collection::vec(req, 1..9), prop::bool::weighted(0.05)).prop_map(|(reqs, dups)| {
        dedup_keys(reqs, dups, |r| match r {
            BatchReq::Put(item) => item.key.model(),
            BatchReq::Delete(key) => key.model(),
        })
    })
}

fn limit() -> impl Strategy<Value = Option<u32>> {
    prop_oneof![2 => Just(None), 3 => (1u32..5).prop_map(Some)]
}

/// Attributes a query's filter may name: projected by the index (so that the filter reads
/// the same attributes whichever copy it reads) and not a key of what is queried (DynamoDB
/// rejects filters on the key attributes of a query).
fn query_filter_attrs(index: Option<usize>) -> &'static [&'static str] {
    match index {
        None => NON_KEY_ATTRS,
        Some(0) => &[S, NS],
        Some(1) => &[],
        Some(2) => &[N, S, SS, NS, RANK, COLOR],
        Some(3) => &[N],
        _ => &[],
    }
}

/// Attributes a scan's filter may name: those the index projects.
fn scan_filter_attrs(index: Option<usize>) -> &'static [&'static str] {
    match index {
        None | Some(2) => ALL_ATTRS,
        Some(0) => &[PK, SK, TAG, S, NS],
        Some(1) => &[PK, SK, RANK],
        Some(3) => &[PK, SK, COLOR, N],
        _ => &[PK, SK, GRP, COLOR, TAG, RANK],
    }
}

/// A sort key condition on `attr` (`sk` and `rank` are numbers, `tag` a string).
fn sort_op(attr: &'static str) -> BoxedStrategy<SortOp> {
    let value: BoxedStrategy<Lit> = match attr {
        SK => num_in(SK_PROBES).prop_map(Lit::N).boxed(),
        RANK => num_in(RANK_PROBES).prop_map(Lit::N).boxed(),
        _ => select(TAG_PROBES).prop_map(|s| Lit::S(s.into())).boxed(),
    };
    let between =
        (value.clone(), value.clone()).prop_map(|(a, b)| match order(&a.model(), &b.model()) {
            Some(Ordering::Greater) => SortOp::Between(b, a),
            _ => SortOp::Between(a, b),
        });
    let mut ops = vec![
        (2, value.clone().prop_map(SortOp::Eq).boxed()),
        (1, value.clone().prop_map(SortOp::Lt).boxed()),
        (1, value.clone().prop_map(SortOp::Le).boxed()),
        (1, value.clone().prop_map(SortOp::Gt).boxed()),
        (1, value.prop_map(SortOp::Ge).boxed()),
        (2, between.boxed()),
    ];
    if attr == TAG {
        ops.push((
            3,
            select(PREFIXES)
                .prop_map(|p| SortOp::BeginsWith(p.into()))
                .boxed(),
        ));
    }
    proptest::strategy::Union::new_weighted(ops).boxed()
}

/// A value items have for sort key attribute `attr`, for an equality before the last one.
fn stored_value(attr: &'static str) -> BoxedStrategy<Lit> {
    match attr {
        SK => num_in(SKS).prop_map(Lit::N).boxed(),
        RANK => num_in(RANKS).prop_map(Lit::N).boxed(),
        _ => select(TAGS).prop_map(|s| Lit::S(s.into())).boxed(),
    }
}

/// Conditions on a prefix of the sort key attributes `range` (none, sometimes): equalities
/// on all but the last, any sort key condition on the last.
fn sort_conditions(range: &'static [&'static str]) -> BoxedStrategy<Vec<SortOp>> {
    if range.is_empty() {
        return Just(Vec::new()).boxed();
    }
    prop_oneof![1 => Just(0), 4 => 1..=range.len()]
        .prop_flat_map(move |given| {
            let Some((last, earlier)) = range[..given].split_last() else {
                return Just(Vec::new()).boxed();
            };
            let equalities: Vec<BoxedStrategy<SortOp>> = (earlier.iter())
                .map(|attr| stored_value(attr).prop_map(SortOp::Eq).boxed())
                .collect();
            (equalities, sort_op(last))
                .prop_map(|(mut ops, last)| {
                    ops.push(last);
                    ops
                })
                .boxed()
        })
        .boxed()
}

/// Every combination of the partition values of `ix`, and one that no item has.
fn partition_keys(ix: &IndexDef) -> Vec<Vec<&'static str>> {
    let mut keys: Vec<Vec<&'static str>> = vec![Vec::new()];
    for pool in ix.partitions {
        keys = (keys.iter())
            .flat_map(|key| pool.iter().map(move |v| [key.as_slice(), &[*v]].concat()))
            .collect();
    }
    keys.push(vec![NO_PARTITION; ix.hash.len()]);
    keys
}

fn query() -> impl Strategy<Value = QueryOp> {
    prop_oneof![Just(None), (0..INDEXES.len()).prop_map(Some)].prop_flat_map(|index| {
        let def = index.map_or(&TABLE_KEY, |i| &INDEXES[i]);
        let partitions: Vec<BoxedStrategy<&'static str>> = (def.partitions.iter())
            .map(|pool| select(*pool).boxed())
            .collect();
        let sort = sort_conditions(def.range);
        let filter_attrs = query_filter_attrs(index);
        let filter = if filter_attrs.is_empty() {
            Just(None).boxed()
        } else {
            prop::option::weighted(0.3, cond(filter_attrs)).boxed()
        };
        // A projection of a global index that does not project ALL may only name what it
        // projects; a local index fetches the rest from the table.
        let projectable: &'static [&'static str] = match index {
            Some(3) => &[PK, SK, COLOR, N],
            Some(4) => &[PK, SK, GRP, COLOR, TAG, RANK],
            _ => ALL_ATTRS,
        };
        let all_attributes = !matches!(index, Some(3 | 4));
        let shown = prop_oneof![
            4 => Just(Sel::Default),
            1 => Just(if all_attributes { Sel::AllAttributes } else { Sel::Default }),
            1 => Just(Sel::Count),
            2 => subsequence(projectable, 1..=4).prop_map(Sel::Attrs),
        ];
        (partitions, sort, any::<bool>(), limit(), filter, shown).prop_map(
            move |(partition, sort, forward, limit, filter, select)| QueryOp {
                index,
                partition,
                sort,
                forward,
                limit,
                filter,
                select,
            },
        )
    })
}

fn scan() -> impl Strategy<Value = ScanOp> {
    prop_oneof![Just(None), (0..INDEXES.len()).prop_map(Some)].prop_flat_map(|index| {
        (
            limit(),
            prop::option::weighted(0.4, cond(scan_filter_attrs(index))),
            // Many segment counts, so that segment boundaries fall between all the few
            // partitions (which are spread over the key space by a hash).
            prop_oneof![4 => Just(1u32), 2 => 2u32..8, 1 => 8u32..300],
        )
            .prop_map(move |(limit, filter, segments)| ScanOp {
                index,
                limit,
                filter,
                segments,
            })
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        20 => (
            item(true),
            prop::option::weighted(0.4, write_cond()),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(item, cond, return_old, return_on_failure)| {
                // An item the indexes reject is sent without a condition: whether DynamoDB
                // checks the item or the condition first is not documented.
                let cond = cond.filter(|_| valid(&item.model()));
                Op::Put { item, cond, return_old, return_on_failure }
            }),
        14 => (
            key(),
            acts(),
            prop::option::weighted(0.4, write_cond()),
            return_value(),
            any::<bool>()
        )
            .prop_map(|(key, acts, cond, ret, return_on_failure)| Op::Update {
                key,
                acts,
                cond,
                ret,
                return_on_failure
            }),
        3 => (
            key(),
            prop::option::weighted(0.4, write_cond()),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(key, cond, return_old, return_on_failure)| Op::Delete {
                key,
                cond,
                return_old,
                return_on_failure
            }),
        1 => key().prop_map(|key| Op::Get { key }),
        1 => prop::collection::vec(key(), 1..5).prop_map(|keys| Op::BatchGet {
            keys: dedup_keys(keys, false, KeyLit::model)
        }),
        10 => batch().prop_map(|reqs| Op::Batch { reqs }),
        7 => transaction().prop_map(|acts| Op::Transact { acts }),
        10 => query().prop_map(Op::Query),
        4 => scan().prop_map(Op::Scan),
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 10..=MAX_OPS)
}

// =============================================================================================
// Harness
// =============================================================================================

fn fail(what: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(what.to_string())
}

/// What a write must do.
#[derive(Debug)]
enum Want {
    /// Succeed, returning these attributes.
    Ok(Option<Item>),
    /// Fail its condition, returning this item.
    ConditionFailed(Option<Item>),
    /// Be rejected as invalid.
    Invalid,
}

/// Checks a single write's outcome against what the model wants.
fn expect(got: tidestore::Result<Option<Item>>, want: Want) -> Result<(), TestCaseError> {
    match (got, want) {
        (Ok(attributes), Want::Ok(expected)) => {
            prop_assert_eq!(attributes, expected, "returned attributes");
        }
        (Err(Error::ConditionalCheckFailed { item, .. }), Want::ConditionFailed(expected)) => {
            prop_assert_eq!(item, expected, "item returned on condition failure");
        }
        (Err(Error::Validation(_)), Want::Invalid) => {}
        (got, want) => return Err(fail(format!("got {got:?}, the model wants {want:?}"))),
    }
    Ok(())
}

/// One page of a read, given where to start.
type Pager<'a> = dyn FnMut(Option<Item>) -> tidestore::Result<QueryOutput> + 'a;

/// What paging through a read until its end gave.
#[derive(Debug, Default)]
struct Pages {
    items: Vec<Item>,
    count: usize,
    scanned: usize,
}

/// Reads page after page, following `LastEvaluatedKey` until there is none, checking each
/// page's shape: at most `limit` items read; a page that is not the last one read exactly
/// `limit` (the items are far below 1 MB); without a filter every item read is returned;
/// and `LastEvaluatedKey` is the key (`key_attrs`) of the last item read.
fn read_all(
    next: &mut Pager<'_>,
    limit: Option<u32>,
    filtered: bool,
    count_only: bool,
    key_attrs: &[&str],
) -> Result<Pages, TestCaseError> {
    let mut pages = Pages::default();
    let mut start = None;
    for _ in 0..10_000 {
        let page = next(start.take()).map_err(|e| fail(format!("read failed: {e}")))?;
        if let Some(limit) = limit {
            prop_assert!(
                page.scanned_count <= limit,
                "page read more than Limit: {page:?}"
            );
        }
        if count_only {
            prop_assert!(page.items.is_empty(), "Select COUNT returned items");
        } else {
            prop_assert_eq!(page.count as usize, page.items.len());
        }
        if !filtered {
            prop_assert_eq!(
                page.count,
                page.scanned_count,
                "items lost without a filter"
            );
        }
        pages.count += page.count as usize;
        pages.scanned += page.scanned_count as usize;
        let Some(last_key) = page.last_evaluated_key else {
            pages.items.extend(page.items);
            return Ok(pages);
        };
        prop_assert_eq!(
            Some(page.scanned_count),
            limit,
            "a page stopped before Limit (or without one)"
        );
        if let (false, false, Some(last)) = (filtered, count_only, page.items.last()) {
            if key_attrs.iter().all(|a| last.contains_key(*a)) {
                let expected: Item = key_attrs
                    .iter()
                    .map(|a| (a.to_string(), last[*a].clone()))
                    .collect();
                prop_assert_eq!(
                    &last_key,
                    &expected,
                    "LastEvaluatedKey is not the last item's key"
                );
            }
        }
        pages.items.extend(page.items);
        start = Some(last_key);
    }
    Err(fail("paging did not end after 10000 pages"))
}

fn sorted(mut items: Vec<Item>) -> Vec<Item> {
    items.sort();
    items
}

/// Checks that `got` is `want` in order, except that items with equal sort key values (the
/// `Option<MVal>` of each wanted item) may come in any order among themselves.
fn same_in_order(
    got: &[Item],
    want: &[(Vec<MVal>, Item)],
    what: &str,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.len(), want.len(), "{}: number of items", what);
    let mut at = 0;
    while at < want.len() {
        let run = want[at..]
            .iter()
            .take_while(|(k, _)| *k == want[at].0)
            .count();
        let expected = sorted(want[at..at + run].iter().map(|(_, i)| i.clone()).collect());
        let actual = sorted(got[at..at + run].to_vec());
        prop_assert_eq!(
            actual,
            expected,
            "{}: items {}..{} differ",
            what,
            at,
            at + run
        );
        at += run;
    }
    Ok(())
}

/// Checks that a scan returned each of the model's items exactly once.
fn same_set(got: Vec<Item>, want: Vec<Item>, what: &str) -> Result<(), TestCaseError> {
    let keys: BTreeSet<(AttributeValue, AttributeValue)> = got
        .iter()
        .filter_map(|i| Some((i.get(PK)?.clone(), i.get(SK)?.clone())))
        .collect();
    prop_assert_eq!(
        keys.len(),
        got.len(),
        "{}: an item came twice (or without its key)",
        what
    );
    prop_assert_eq!(sorted(got), sorted(want), "{}", what);
    Ok(())
}

/// Scans the table or an index to its end, in `segments` parallel segments.
fn scan_all(
    db: &Database,
    index: Option<usize>,
    limit: Option<u32>,
    filter: Option<&Cond>,
    segments: u32,
) -> Result<Pages, TestCaseError> {
    let key_attrs = index.map_or(vec![PK, SK], |i| INDEXES[i].key_attrs());
    let mut all = Pages::default();
    for segment in 0..segments {
        let mut input = ScanInput::new(TABLE);
        if let Some(i) = index {
            input = input.index_name(INDEXES[i].name);
        }
        if let Some(limit) = limit {
            input = input.limit(limit);
        }
        if let Some(filter) = filter {
            input = input.filter(filter.to_engine());
        }
        if segments > 1 {
            input = input.segment((segment, segments));
        }
        let mut next = |start: Option<Item>| {
            let mut page = input.clone();
            page.exclusive_start_key = start;
            db.scan(page)
        };
        let pages = read_all(&mut next, limit, filter.is_some(), false, &key_attrs)?;
        all.items.extend(pages.items);
        all.count += pages.count;
        all.scanned += pages.scanned;
    }
    Ok(all)
}

/// The model's answer to a query: items in order with their sort key values, how many the
/// key condition selects, and how many pass the filter.
fn model_query(model: &Model, q: &QueryOp) -> (Vec<(Vec<MVal>, Item)>, usize, usize) {
    let index = q.index.map(|i| &INDEXES[i]);
    let def = index.unwrap_or(&TABLE_KEY);
    let mut rows: Vec<(Vec<MVal>, &MItem, MItem)> = model
        .items
        .values()
        .filter_map(|item| {
            let view = match index {
                Some(ix) => ix.view(item)?,
                None => item.clone(),
            };
            let in_partition = (def.hash.iter().zip(&q.partition))
                .all(|(attr, value)| view.get(attr) == Some(&MVal::S(value.to_string())));
            in_partition.then_some(())?;
            // Items sort by their sort key values, first attribute first.
            let sort_value: Vec<MVal> = def.range.iter().map(|r| view[r].clone()).collect();
            let selected = (q.sort.iter().zip(&sort_value)).all(|(op, v)| op.holds(v));
            selected.then_some((sort_value, item, view))
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    if !q.forward {
        rows.reverse();
    }
    let scanned = rows.len();
    let passing: Vec<_> = rows
        .into_iter()
        .filter(|(_, _, view)| q.filter.as_ref().is_none_or(|f| f.holds(Some(view))))
        .collect();
    let count = passing.len();
    let items = match &q.select {
        Sel::Count => Vec::new(),
        select => passing
            .into_iter()
            .map(|(sort_value, item, view)| {
                let shown = match select {
                    Sel::Default => to_item(&view),
                    Sel::AllAttributes => to_item(item),
                    Sel::Attrs(attrs) => {
                        // A global index returns only its own copy; everything else reads the
                        // table's item.
                        let source = match index {
                            Some(ix) if !ix.local => &view,
                            _ => item,
                        };
                        let projected: MItem = source
                            .iter()
                            .filter(|(a, _)| attrs.contains(a))
                            .map(|(k, v)| (*k, v.clone()))
                            .collect();
                        to_item(&projected)
                    }
                    Sel::Count => unreachable!(),
                };
                (sort_value, shown)
            })
            .collect(),
    };
    (items, scanned, count)
}

/// Every other request gives its expressions as DynamoDB strings: the typed values the model
/// made, written back by `ExpressionWriter`, so the string form is checked against the same
/// model as the typed one.
fn strings_this_time() -> bool {
    use std::cell::Cell;
    thread_local!(static TURN: Cell<bool> = const { Cell::new(false) });
    TURN.with(|turn| {
        turn.set(!turn.get());
        turn.get()
    })
}

/// The given typed expressions as one request's strings and substitution maps.
#[allow(clippy::field_reassign_with_default)] // Expressions has no builder of its own
fn written(
    condition: Option<&Condition>,
    filter: Option<&Condition>,
    update: Option<&Update>,
    projection: Option<&[Path]>,
) -> Expressions {
    let mut writer = ExpressionWriter::new();
    let mut out = Expressions::default();
    out.condition_expression = condition.map(|c| writer.condition(c));
    out.filter_expression = filter.map(|c| writer.condition(c));
    out.update_expression = update.map(|u| writer.update(u));
    out.projection_expression = projection.map(|p| writer.projection(p));
    let (names, values) = writer.into_maps();
    out.expression_attribute_names = Some(names).filter(|n| !n.is_empty());
    out.expression_attribute_values = Some(values).filter(|v| !v.is_empty());
    out
}

/// Runs a query to its end and checks it against the model.
fn check_query(db: &Database, model: &Model, q: &QueryOp) -> Result<(), TestCaseError> {
    let index = q.index.map(|i| &INDEXES[i]);
    let def = index.unwrap_or(&TABLE_KEY);
    let mut partition = def.hash.iter().zip(&q.partition);
    let (first, value) = partition.next().expect("a partition key attribute");
    let mut condition = KeyCondition::partition(*first, AttributeValue::s(*value));
    for (attr, value) in partition {
        condition = condition.and_eq(*attr, AttributeValue::s(*value));
    }
    for (attr, op) in def.range.iter().zip(&q.sort) {
        condition = condition.sort(*attr, op.to_engine());
    }
    let mut input = QueryInput::new(TABLE, condition).scan_index_forward(q.forward);
    if let Some(ix) = index {
        input = input.index_name(ix.name);
    }
    if let Some(limit) = q.limit {
        input = input.limit(limit);
    }
    if let Some(filter) = &q.filter {
        input = input.filter(filter.to_engine());
    }
    input = match &q.select {
        Sel::Default => input,
        Sel::AllAttributes => input.select(Select::AllAttributes),
        Sel::Count => input.select(Select::Count),
        Sel::Attrs(attrs) => input.projection(attrs.iter().map(|a| Path::attr(*a)).collect()),
    };
    if strings_this_time() {
        let (filter, projection) = (input.filter.take(), input.projection.take());
        input.expressions = written(None, filter.as_ref(), None, projection.as_deref());
    }
    let key_attrs = index.map_or(vec![PK, SK], |ix| ix.key_attrs());
    let mut next = |start: Option<Item>| {
        let mut page = input.clone();
        page.exclusive_start_key = start;
        db.query(page)
    };
    let count_only = matches!(q.select, Sel::Count);
    let pages = read_all(
        &mut next,
        q.limit,
        q.filter.is_some(),
        count_only,
        &key_attrs,
    )?;
    let (want, scanned, count) = model_query(model, q);
    prop_assert_eq!(pages.scanned, scanned, "items read by the query");
    prop_assert_eq!(pages.count, count, "items passing the filter");
    same_in_order(&pages.items, &want, "query")
}

/// The invariant checked after every step: the table, every index and the table's
/// description agree with the model. Page sizes vary with `step`.
fn check_state(db: &Database, model: &Model, step: usize) -> Result<(), TestCaseError> {
    let limit = [None, Some(1), Some(2), Some(3), Some(7)][step % 5];
    let table: Vec<Item> = model.items.values().map(to_item).collect();
    let got = scan_all(db, None, limit, None, 1)?;
    same_set(got.items, table, "table scan")?;
    let segments = [1, 2, 3, 4, 7, 16, 101][step % 7];
    if segments > 1 {
        let got = scan_all(db, None, limit, None, segments)?;
        let table: Vec<Item> = model.items.values().map(to_item).collect();
        same_set(got.items, table, "parallel table scan")?;
    }
    for partition in partition_keys(&TABLE_KEY) {
        for forward in [true, false] {
            let q = QueryOp {
                index: None,
                partition: partition.clone(),
                sort: Vec::new(),
                forward,
                limit,
                filter: None,
                select: Sel::Default,
            };
            check_query(db, model, &q).map_err(|e| fail(format!("{q:?}: {e}")))?;
        }
    }
    for (i, ix) in INDEXES.iter().enumerate() {
        let want: Vec<Item> = index_items(model, ix).iter().map(to_item).collect();
        let got = scan_all(db, Some(i), limit, None, 1)?;
        same_set(got.items, want.clone(), ix.name)?;
        if segments > 1 {
            let got = scan_all(db, Some(i), limit, None, segments)?;
            same_set(got.items, want, ix.name)?;
        }
        for partition in partition_keys(ix) {
            for forward in [true, false] {
                let q = QueryOp {
                    index: Some(i),
                    partition: partition.clone(),
                    sort: Vec::new(),
                    forward,
                    limit,
                    filter: None,
                    select: Sel::Default,
                };
                check_query(db, model, &q).map_err(|e| fail(format!("{q:?}: {e}")))?;
            }
        }
    }
    let description = db
        .describe_table(TABLE)
        .map_err(|e| fail(format!("describe_table: {e}")))?;
    prop_assert_eq!(
        description.item_count,
        model.items.len() as u64,
        "ItemCount"
    );
    let bytes: usize = model.items.values().map(|i| item_size(&to_item(i))).sum();
    prop_assert_eq!(description.table_size_bytes, bytes as u64, "TableSizeBytes");
    let mut indexes: Vec<(String, u64, u64)> = Vec::new();
    for lsi in description.local_secondary_indexes.unwrap_or_default() {
        indexes.push((lsi.index_name, lsi.item_count, lsi.index_size_bytes));
    }
    for gsi in description.global_secondary_indexes.unwrap_or_default() {
        indexes.push((gsi.index_name, gsi.item_count, gsi.index_size_bytes));
    }
    indexes.sort();
    let mut want: Vec<(String, u64, u64)> = INDEXES
        .iter()
        .map(|ix| {
            let items = index_items(model, ix);
            let bytes: usize = items.iter().map(|i| item_size(&to_item(i))).sum();
            (ix.name.to_string(), items.len() as u64, bytes as u64)
        })
        .collect();
    want.sort();
    prop_assert_eq!(indexes, want, "index ItemCount and IndexSizeBytes");
    Ok(())
}

fn on_failure(yes: bool) -> ReturnValuesOnConditionCheckFailure {
    if yes {
        ReturnValuesOnConditionCheckFailure::AllOld
    } else {
        ReturnValuesOnConditionCheckFailure::None
    }
}

/// What one transaction action decides against the model: its cancellation reason code
/// (with the item it returns), or the item it leaves (`None`: none).
fn decide(model: &Model, act: &TxAct) -> Result<Option<MItem>, (&'static str, Option<Item>)> {
    let old = model.items.get(&act.key());
    let check = |cond: Option<&Cond>, return_old: bool| match cond {
        Some(c) if !c.holds(old) => Err((
            "ConditionalCheckFailed",
            old.filter(|_| return_old).map(to_item),
        )),
        _ => Ok(()),
    };
    match act {
        TxAct::Check {
            cond, return_old, ..
        } => {
            check(Some(cond), *return_old)?;
            Ok(old.cloned())
        }
        TxAct::Put {
            item,
            cond,
            return_old,
        } => {
            check(cond.as_ref(), *return_old)?;
            let new = item.model();
            if valid(&new) {
                Ok(Some(new))
            } else {
                Err(("ValidationError", None))
            }
        }
        TxAct::Delete { cond, .. } => {
            check(cond.as_ref(), false)?;
            Ok(None)
        }
        TxAct::Update { key, acts, cond } => {
            check(cond.as_ref(), false)?;
            apply_update(old, &key.model(), acts).map_err(|_| ("ValidationError", None))
        }
    }
}

fn to_transact_item(act: &TxAct) -> TransactWriteItem {
    match act {
        TxAct::Check {
            key,
            cond,
            return_old,
        } => TransactWriteItem::ConditionCheck(
            ConditionCheckInput::new(TABLE, key.av())
                .condition(cond.to_engine())
                .return_values_on_condition_check_failure(on_failure(*return_old)),
        ),
        TxAct::Put {
            item,
            cond,
            return_old,
        } => {
            let mut put = PutItemInput::new(TABLE, item.av())
                .return_values_on_condition_check_failure(on_failure(*return_old));
            put.condition = cond.as_ref().map(Cond::to_engine);
            TransactWriteItem::Put(put)
        }
        TxAct::Delete { key, cond } => {
            let mut delete = DeleteItemInput::new(TABLE, key.av());
            delete.condition = cond.as_ref().map(Cond::to_engine);
            TransactWriteItem::Delete(delete)
        }
        TxAct::Update { key, acts, cond } => {
            let mut update = UpdateItemInput::new(TABLE, key.av(), to_update(acts));
            update.condition = cond.as_ref().map(Cond::to_engine);
            TransactWriteItem::Update(update)
        }
    }
}

fn has_duplicate_keys(keys: impl Iterator<Item = MKey>) -> bool {
    let mut seen = BTreeSet::new();
    keys.into_iter().any(|k| !seen.insert(k))
}

/// Runs `op` on the engine and the model and compares what each did.
fn apply(db: &Database, model: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    match op {
        Op::Put {
            item,
            cond,
            return_old,
            return_on_failure,
        } => {
            let key = item.key.model();
            let old = model.items.get(&key).cloned();
            let mut input = PutItemInput::new(TABLE, item.av())
                .return_values(if *return_old {
                    ReturnValue::AllOld
                } else {
                    ReturnValue::None
                })
                .return_values_on_condition_check_failure(on_failure(*return_on_failure));
            input.condition = cond.as_ref().map(Cond::to_engine);
            if strings_this_time() {
                input.expressions = written(input.condition.take().as_ref(), None, None, None);
            }
            let got = db.put_item(input).map(|o| o.attributes);
            let new = item.model();
            let want = if cond.as_ref().is_some_and(|c| !c.holds(old.as_ref())) {
                Want::ConditionFailed(old.as_ref().filter(|_| *return_on_failure).map(to_item))
            } else if !valid(&new) {
                Want::Invalid
            } else {
                model.items.insert(key, new);
                Want::Ok(old.as_ref().filter(|_| *return_old).map(to_item))
            };
            expect(got, want)
        }
        Op::Update {
            key,
            acts,
            cond,
            ret,
            return_on_failure,
        } => {
            let k = key.model();
            let old = model.items.get(&k).cloned();
            let mut input = UpdateItemInput::new(TABLE, key.av(), to_update(acts))
                .return_values(*ret)
                .return_values_on_condition_check_failure(on_failure(*return_on_failure));
            input.condition = cond.as_ref().map(Cond::to_engine);
            if strings_this_time() && !input.update.actions.is_empty() {
                let update = std::mem::take(&mut input.update);
                let condition = input.condition.take();
                input.expressions = written(condition.as_ref(), None, Some(&update), None);
            }
            let got = db.update_item(input).map(|o| o.attributes);
            let want = if cond.as_ref().is_some_and(|c| !c.holds(old.as_ref())) {
                Want::ConditionFailed(old.as_ref().filter(|_| *return_on_failure).map(to_item))
            } else {
                match apply_update(old.as_ref(), &k, acts) {
                    Err(Invalid) => Want::Invalid,
                    Ok(new) => {
                        let returned = update_returns(*ret, old.as_ref(), new.as_ref(), acts);
                        if let Some(new) = new {
                            model.items.insert(k, new);
                        }
                        Want::Ok(returned)
                    }
                }
            };
            expect(got, want)
        }
        Op::Delete {
            key,
            cond,
            return_old,
            return_on_failure,
        } => {
            let k = key.model();
            let old = model.items.get(&k).cloned();
            let mut input = DeleteItemInput::new(TABLE, key.av())
                .return_values(if *return_old {
                    ReturnValue::AllOld
                } else {
                    ReturnValue::None
                })
                .return_values_on_condition_check_failure(on_failure(*return_on_failure));
            input.condition = cond.as_ref().map(Cond::to_engine);
            if strings_this_time() {
                input.expressions = written(input.condition.take().as_ref(), None, None, None);
            }
            let got = db.delete_item(input).map(|o| o.attributes);
            let want = if cond.as_ref().is_some_and(|c| !c.holds(old.as_ref())) {
                Want::ConditionFailed(old.as_ref().filter(|_| *return_on_failure).map(to_item))
            } else {
                model.items.remove(&k);
                Want::Ok(old.as_ref().filter(|_| *return_old).map(to_item))
            };
            expect(got, want)
        }
        Op::Get { key } => {
            let got = db
                .get_item(GetItemInput::new(TABLE, key.av()))
                .map_err(|e| fail(format!("get_item: {e}")))?;
            prop_assert_eq!(got.item, model.items.get(&key.model()).map(to_item));
            Ok(())
        }
        Op::BatchGet { keys } => {
            let mut input = BatchGetItemInput::default();
            input.request_items.insert(
                TABLE.into(),
                KeysAndAttributes::new(keys.iter().map(KeyLit::av).collect()),
            );
            let got = db
                .batch_get_item(input)
                .map_err(|e| fail(format!("batch_get_item: {e}")))?;
            let items = got.responses.get(TABLE).cloned().unwrap_or_default();
            let want = keys
                .iter()
                .filter_map(|k| model.items.get(&k.model()).map(to_item))
                .collect();
            prop_assert_eq!(sorted(items), sorted(want));
            prop_assert!(got.unprocessed_keys.is_empty());
            Ok(())
        }
        Op::Batch { reqs } => {
            let requests = reqs
                .iter()
                .map(|r| match r {
                    BatchReq::Put(item) => WriteRequest::Put { item: item.av() },
                    BatchReq::Delete(key) => WriteRequest::Delete { key: key.av() },
                })
                .collect();
            let mut input = BatchWriteItemInput::default();
            input.request_items.insert(TABLE.into(), requests);
            let got = db.batch_write_item(input);
            if let Ok(output) = &got {
                prop_assert!(output.unprocessed_items.is_empty(), "unprocessed items");
            }
            let got = got.map(|_| None);
            let keys = reqs.iter().map(|r| match r {
                BatchReq::Put(item) => item.key.model(),
                BatchReq::Delete(key) => key.model(),
            });
            let invalid_put = reqs
                .iter()
                .any(|r| matches!(r, BatchReq::Put(item) if !valid(&item.model())));
            let want = if has_duplicate_keys(keys) || invalid_put {
                Want::Invalid
            } else {
                for r in reqs {
                    match r {
                        BatchReq::Put(item) => model.items.insert(item.key.model(), item.model()),
                        BatchReq::Delete(key) => model.items.remove(&key.model()),
                    };
                }
                Want::Ok(None)
            };
            expect(got, want)
        }
        Op::Transact { acts } => {
            let input = TransactWriteItemsInput::new(acts.iter().map(to_transact_item).collect());
            let got = db.transact_write_items(input);
            if has_duplicate_keys(acts.iter().map(TxAct::key)) {
                prop_assert!(
                    matches!(got, Err(Error::Validation(_))),
                    "a transaction with two actions on one item: {got:?}"
                );
                return Ok(());
            }
            let decisions: Vec<_> = acts.iter().map(|a| decide(model, a)).collect();
            if decisions.iter().all(Result::is_ok) {
                prop_assert!(
                    got.is_ok(),
                    "the model commits the transaction, got {got:?}"
                );
                for (act, decision) in acts.iter().zip(decisions) {
                    match decision {
                        Ok(Some(item)) => model.items.insert(act.key(), item),
                        _ => model.items.remove(&act.key()),
                    };
                }
                return Ok(());
            }
            let want: Vec<(String, Option<Item>)> = decisions
                .into_iter()
                .map(|d| match d {
                    Ok(_) => ("None".to_string(), None),
                    Err((code, item)) => (code.to_string(), item),
                })
                .collect();
            match got {
                Err(Error::TransactionCanceled { reasons }) => {
                    let got: Vec<(String, Option<Item>)> = reasons
                        .into_iter()
                        .map(|r: CancellationReason| (r.code, r.item))
                        .collect();
                    prop_assert_eq!(got, want, "cancellation reasons");
                    Ok(())
                }
                other => Err(fail(format!(
                    "the model cancels the transaction with {want:?}, got {other:?}"
                ))),
            }
        }
        Op::Query(q) => check_query(db, model, q),
        Op::Scan(s) => {
            let got = scan_all(db, s.index, s.limit, s.filter.as_ref(), s.segments)?;
            let rows: Vec<MItem> = match s.index {
                Some(i) => index_items(model, &INDEXES[i]),
                None => model.items.values().cloned().collect(),
            };
            prop_assert_eq!(got.scanned, rows.len(), "items read by the scan");
            let want: Vec<Item> = rows
                .iter()
                .filter(|r| s.filter.as_ref().is_none_or(|f| f.holds(Some(r))))
                .map(to_item)
                .collect();
            prop_assert_eq!(got.count, want.len(), "items passing the filter");
            same_set(got.items, want, "scan")
        }
    }
}

/// Runs `ops` on a fresh table and on the model, checking the whole state after each.
fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let db = Database::in_memory();
    db.create_table(create_table_input())
        .map_err(|e| fail(format!("create_table: {e}")))?;
    let mut model = Model::default();
    check_state(&db, &model, 0)?;
    for (step, op) in ops.iter().enumerate() {
        apply(&db, &mut model, op).map_err(|e| fail(format!("step {step}, {op:?}: {e}")))?;
        check_state(&db, &model, step + 1)
            .map_err(|e| fail(format!("after step {step}, {op:?}: {e}")))?;
    }
    Ok(())
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    ProptestConfig {
        cases,
        max_shrink_iters: 10_000,
        // tests/model.proptest-regressions
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every write does what the model does, with the same outcome, and afterwards the
    /// table, its four indexes (sparse, projected) and its description equal the model's.
    #[test]
    fn table_and_indexes_always_agree_with_model(ops in ops()) {
        run(&ops)?;
    }
}
