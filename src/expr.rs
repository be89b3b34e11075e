//! DynamoDB's condition expressions, update expressions and projections, as typed values.
//!
//! DynamoDB takes `ConditionExpression`/`FilterExpression`, `UpdateExpression` and
//! `ProjectionExpression` as strings. Here they are Rust values shaped after DynamoDB's grammar
//! — [`Condition`], [`Update`] and lists of [`Path`]s — so that a parser of the string syntax
//! only has to resolve `#name`/`:value` substitutions and build these values, and so that Rust
//! callers can skip strings altogether. Evaluation follows the service:
//!
//! - a comparison involving a missing attribute is false, except `<>` which is true; values of
//!   different types are never equal and never ordered; only numbers, strings (by UTF-8 bytes)
//!   and binaries (by unsigned bytes) are ordered;
//! - every operand of an update is read from the item *before* the update, then the actions
//!   are applied; list indexes in `REMOVE` and `SET` name positions in that original item.
//!
//! Call `validate` once per request: it makes the static checks DynamoDB makes before reading
//! any item (operand types of literals, `BETWEEN` bounds, overlapping update paths, limits),
//! while `evaluate`/`apply` report only what depends on the item.
//!
//! ```
//! use tidestore::expr::{project, Condition, Path, SetValue, Update, ValueExpr};
//! use tidestore::{AttributeValue, Item};
//!
//! let item: Item = serde_json::from_str(r#"{"Year": {"N": "1985"}, "Tags": {"SS": ["rock"]}}"#)?;
//! // attribute_exists(Year) AND Year < :limit
//! let cond = Condition::attribute_exists("Year").and(Condition::lt("Year", AttributeValue::number(2000)));
//! cond.validate()?;
//! assert!(cond.evaluate(Some(&item))?);
//!
//! // SET Plays = if_not_exists(Plays, :zero) + :one, Info.Genre = :g REMOVE Year
//! let plays = ValueExpr::if_not_exists("Plays", AttributeValue::number(0));
//! let update = Update::new()
//!     .set_expr("Plays", SetValue::plus(plays, AttributeValue::number(1)))
//!     .remove("Year");
//! let new = update.apply(Some(&item))?;
//! assert_eq!(new["Plays"], AttributeValue::number(1));
//! assert!(!new.contains_key("Year"));
//!
//! // ProjectionExpression: Plays
//! assert_eq!(project(&new, &[Path::from("Plays")]).len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::error::{Error, Result};
use crate::value::{validate_value, AttributeValue, Item, Number, ValueType, MAX_NESTING_DEPTH};

/// The most operators and functions one expression may hold (DynamoDB's limit).
pub const MAX_OPERATORS: usize = 300;
/// The most operands the list of an `IN` may hold (DynamoDB's limit).
pub const MAX_IN_OPERANDS: usize = 100;

const NONEXISTENT: &str =
    "The provided expression refers to an attribute that does not exist in the item";
const BAD_TYPE: &str = "An operand in the update expression has an incorrect data type";
const BAD_PATH: &str = "The document path provided in the update expression is invalid for update";

/// `Invalid <ConditionExpression|UpdateExpression|…>: <what>`, as DynamoDB words static errors.
fn invalid(kind: &str, what: impl fmt::Display) -> Error {
    Error::validation(format!("Invalid {kind}: {what}"))
}

fn wrong_operand(kind: &str, function: &str, value_type: &str) -> Error {
    invalid(kind, format!("Incorrect operand type for operator or function; operator or function: {function}, operand type: {value_type}"))
}

/// Checks a literal the way DynamoDB checks `ExpressionAttributeValues` (no empty sets, nesting).
fn check_literal(value: &AttributeValue) -> Result<()> {
    validate_value(value, 1).map_err(|e| match e {
        Error::Validation(m) => Error::Validation(format!(
            "ExpressionAttributeValues contains invalid value: {m}"
        )),
        other => other,
    })
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

/// A document path: a top-level attribute name, then map keys (`.b`) and list indexes (`[2]`),
/// as in `a.b[2].c`. Names are literal: a dot inside a name is part of it, as with `#name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(pub Vec<PathElement>);

/// One step of a [`Path`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathElement {
    /// A map key; first in a path, a top-level attribute name.
    Attribute(String),
    /// A list index.
    Index(usize),
}

impl Path {
    /// The top-level attribute `name`.
    pub fn attr(name: impl Into<String>) -> Path {
        Path(vec![PathElement::Attribute(name.into())])
    }

    /// This path followed by the map key `name` (`path.name`).
    #[must_use]
    pub fn field(mut self, name: impl Into<String>) -> Path {
        self.0.push(PathElement::Attribute(name.into()));
        self
    }

    /// This path followed by the list index `i` (`path[i]`).
    #[must_use]
    pub fn index(mut self, i: usize) -> Path {
        self.0.push(PathElement::Index(i));
        self
    }

    /// The value at this path, if the item has one: `None` when any step is missing, an index
    /// is past the end, or a step meets a value of the wrong kind (a key into a list, …).
    pub fn resolve<'a>(&self, item: &'a Item) -> Option<&'a AttributeValue> {
        let (PathElement::Attribute(name), rest) = self.0.split_first()? else {
            return None;
        };
        rest.iter()
            .try_fold(item.get(name)?, |value, element| match (element, value) {
                (PathElement::Attribute(key), AttributeValue::M(map)) => map.get(key),
                (PathElement::Index(i), AttributeValue::L(list)) => list.get(*i),
                _ => None,
            })
    }

    /// The top-level attribute name (empty for a malformed path that starts with an index).
    pub fn top_level(&self) -> &str {
        match self.0.first() {
            Some(PathElement::Attribute(name)) => name,
            _ => "",
        }
    }

    /// What DynamoDB's grammar guarantees of a path: it starts with a non-empty name, has no
    /// empty names and is at most as deep as an item may be.
    fn check(&self, kind: &str) -> Result<()> {
        match self.0.first() {
            None => Err(invalid(kind, "The document path is empty")),
            Some(PathElement::Index(_)) => Err(invalid(
                kind,
                format!("A document path must start with an attribute name; path: {self}"),
            )),
            Some(_) if self.0.len() > MAX_NESTING_DEPTH => Err(invalid(
                kind,
                format!(
                    "The document path has too many nesting levels; nesting levels: {}, maximum: {MAX_NESTING_DEPTH}",
                    self.0.len()
                ),
            )),
            Some(_) if self.0.iter().any(|e| matches!(e, PathElement::Attribute(n) if n.is_empty())) => {
                Err(invalid(kind, format!("Empty attribute name in document path: {self}")))
            }
            Some(_) => Ok(()),
        }
    }
}

impl From<&str> for Path {
    /// The top-level attribute named exactly `name` (dots are not parsed).
    fn from(name: &str) -> Path {
        Path::attr(name)
    }
}

/// `a.b[2].c`; with `{:#}`, DynamoDB's form in error messages: `[a, b, [2], c]`.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let listed = f.alternate();
        f.write_str(if listed { "[" } else { "" })?;
        for (i, element) in self.0.iter().enumerate() {
            let sep = match (i, listed) {
                (0, _) => "",
                (_, true) => ", ",
                (_, false) => ".",
            };
            match element {
                PathElement::Attribute(name) => write!(f, "{sep}{name}")?,
                PathElement::Index(n) if listed => write!(f, "{sep}[{n}]")?,
                PathElement::Index(n) => write!(f, "[{n}]")?,
            }
        }
        f.write_str(if listed { "]" } else { "" })
    }
}

/// Reports the first pair of paths that overlap (one is a prefix of the other) or conflict
/// (one takes a key where the other takes an index), in DynamoDB's words. Sorting makes this
/// O(n log n): any offending pair implies an offending pair of neighbours in sorted order.
fn check_overlaps(paths: &[&Path], kind: &str) -> Result<()> {
    let mut order: Vec<usize> = (0..paths.len()).collect();
    order.sort_by(|&a, &b| paths[a].cmp(paths[b]).then(a.cmp(&b)));
    for pair in order.windows(2) {
        let (one, two) = (paths[pair[0].min(pair[1])], paths[pair[0].max(pair[1])]);
        let first_difference = one.0.iter().zip(&two.0).find(|(x, y)| x != y);
        let problem = match first_difference {
            None => "overlap",
            Some((x, y)) if std::mem::discriminant(x) != std::mem::discriminant(y) => "conflict",
            Some(_) => continue,
        };
        return Err(invalid(
            kind,
            format!(
                "Two document paths {problem} with each other; must remove or rewrite one of these paths; path one: {:#}, path two: {:#}",
                one, two
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------

/// An operand of a condition: a path into the item, a literal (`:value`), or `size(path)`.
///
/// A `&str` converts to a [`Path`], never to a string value: write `AttributeValue::s("…")`.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// The value at a document path (missing when the item has none).
    Path(Path),
    /// A literal value.
    Value(AttributeValue),
    /// `size(path)`: the length of a string, binary, set, list or map, as a number; no value
    /// for other types or a missing attribute.
    Size(Path),
}

impl Operand {
    /// `size(path)`.
    pub fn size(path: impl Into<Path>) -> Operand {
        Operand::Size(path.into())
    }

    /// `size(:value)`, which DynamoDB accepts though its grammar names a path: the size as a
    /// literal number, or the `ValidationException` DynamoDB gives for a number, boolean or null.
    pub fn size_of_value(value: &AttributeValue) -> Result<Operand> {
        match size_of(value) {
            Some(n) => Ok(Operand::Value(AttributeValue::N(Number::from(n as u64)))),
            None => Err(wrong_operand(
                "ConditionExpression",
                "size",
                value.value_type().name(),
            )),
        }
    }

    fn path(&self) -> Option<&Path> {
        match self {
            Operand::Path(p) | Operand::Size(p) => Some(p),
            Operand::Value(_) => None,
        }
    }

    fn check(&self, kind: &str) -> Result<()> {
        match self {
            Operand::Path(p) | Operand::Size(p) => p.check(kind),
            Operand::Value(v) => check_literal(v),
        }
    }

    fn resolve<'a>(&'a self, item: &'a Item) -> Option<Cow<'a, AttributeValue>> {
        match self {
            Operand::Path(p) => p.resolve(item).map(Cow::Borrowed),
            Operand::Value(v) => Some(Cow::Borrowed(v)),
            Operand::Size(p) => p
                .resolve(item)
                .and_then(size_of)
                .map(|n| Cow::Owned(AttributeValue::N(Number::from(n as u64)))),
        }
    }
}

impl From<Path> for Operand {
    fn from(path: Path) -> Operand {
        Operand::Path(path)
    }
}

impl From<&str> for Operand {
    /// The top-level attribute named `name` (a path, not a string value).
    fn from(name: &str) -> Operand {
        Operand::Path(Path::attr(name))
    }
}

impl From<AttributeValue> for Operand {
    fn from(value: AttributeValue) -> Operand {
        Operand::Value(value)
    }
}

/// `size()` as DynamoDB counts: strings in UTF-16 code units (as the service does, so "é𝄞"
/// is 3), binaries in bytes, sets, lists and maps in elements; nothing for N, BOOL and NULL.
fn size_of(value: &AttributeValue) -> Option<usize> {
    Some(match value {
        AttributeValue::S(s) => s.encode_utf16().count(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::L(l) => l.len(),
        AttributeValue::M(m) => m.len(),
        AttributeValue::Ss(s) => s.len(),
        AttributeValue::Ns(s) => s.len(),
        AttributeValue::Bs(s) => s.len(),
        AttributeValue::N(_) | AttributeValue::Bool(_) | AttributeValue::Null => return None,
    })
}

/// The order of two values, if DynamoDB orders them: same type, and N, S or B.
fn order(left: &AttributeValue, right: &AttributeValue) -> Option<Ordering> {
    match (left, right) {
        (AttributeValue::S(a), AttributeValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (AttributeValue::N(a), AttributeValue::N(b)) => Some(a.cmp(b)),
        (AttributeValue::B(a), AttributeValue::B(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

fn orderable(value: &AttributeValue) -> bool {
    matches!(
        value,
        AttributeValue::S(_) | AttributeValue::N(_) | AttributeValue::B(_)
    )
}

/// `{N:5}`, as DynamoDB shows a literal in `BETWEEN` errors.
fn short_value(value: &AttributeValue) -> String {
    let json = serde_json::to_value(value).unwrap_or_default();
    let text = json
        .as_object()
        .and_then(|m| m.values().next())
        .map(|v| v.as_str().map_or(v.to_string(), str::to_owned));
    format!("{{{}:{}}}", value.value_type(), text.unwrap_or_default())
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Comparator {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Comparator {
    /// The operator as DynamoDB writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::Eq => "=",
            Comparator::Ne => "<>",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
        }
    }

    fn accepts(self, ordering: Ordering) -> bool {
        match self {
            Comparator::Eq => ordering.is_eq(),
            Comparator::Ne => ordering.is_ne(),
            Comparator::Lt => ordering.is_lt(),
            Comparator::Le => ordering.is_le(),
            Comparator::Gt => ordering.is_gt(),
            Comparator::Ge => ordering.is_ge(),
        }
    }
}

/// One constructor per comparator (`Condition::eq(left, right)`, …).
macro_rules! comparisons {
    ($($name:ident $op:ident $doc:literal),* $(,)?) => {$(
        #[doc = $doc]
        pub fn $name(left: impl Into<Operand>, right: impl Into<Operand>) -> Condition {
            Condition::compare(left, Comparator::$op, right)
        }
    )*};
}

/// A condition (`ConditionExpression`, `FilterExpression`), shaped after DynamoDB's grammar.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// `left op right`.
    Compare {
        /// Left operand.
        left: Operand,
        /// The comparator.
        op: Comparator,
        /// Right operand.
        right: Operand,
    },
    /// `value BETWEEN low AND high`, bounds included.
    Between {
        /// The value tested.
        value: Operand,
        /// Lower bound.
        low: Operand,
        /// Upper bound.
        high: Operand,
    },
    /// `value IN (list…)`: equal to one of at most 100 operands.
    In {
        /// The value tested.
        value: Operand,
        /// The candidates.
        list: Vec<Operand>,
    },
    /// `attribute_exists(path)`.
    AttributeExists(Path),
    /// `attribute_not_exists(path)`.
    AttributeNotExists(Path),
    /// `attribute_type(path, type)`.
    AttributeType(Path, ValueType),
    /// `begins_with(path, prefix)`: a string or binary prefix.
    BeginsWith(Path, Operand),
    /// `contains(path, operand)`: a substring, a set member or a list element.
    Contains(Path, Operand),
    /// `a AND b`.
    And(Box<Condition>, Box<Condition>),
    /// `a OR b`.
    Or(Box<Condition>, Box<Condition>),
    /// `NOT a`.
    Not(Box<Condition>),
}

impl Condition {
    /// `attribute_exists(path)`.
    pub fn attribute_exists(path: impl Into<Path>) -> Condition {
        Condition::AttributeExists(path.into())
    }
    /// `attribute_not_exists(path)`.
    pub fn attribute_not_exists(path: impl Into<Path>) -> Condition {
        Condition::AttributeNotExists(path.into())
    }
    /// `attribute_type(path, type)`.
    pub fn attribute_type(path: impl Into<Path>, value_type: ValueType) -> Condition {
        Condition::AttributeType(path.into(), value_type)
    }
    /// `left op right`.
    pub fn compare(
        left: impl Into<Operand>,
        op: Comparator,
        right: impl Into<Operand>,
    ) -> Condition {
        Condition::Compare {
            left: left.into(),
            op,
            right: right.into(),
        }
    }
    comparisons! {
        eq Eq "`left = right`.", ne Ne "`left <> right`.", lt Lt "`left < right`.",
        le Le "`left <= right`.", gt Gt "`left > right`.", ge Ge "`left >= right`.",
    }
    /// `value BETWEEN low AND high`.
    pub fn between(
        value: impl Into<Operand>,
        low: impl Into<Operand>,
        high: impl Into<Operand>,
    ) -> Condition {
        Condition::Between {
            value: value.into(),
            low: low.into(),
            high: high.into(),
        }
    }
    /// `value IN (list…)`.
    pub fn is_in<O: Into<Operand>>(
        value: impl Into<Operand>,
        list: impl IntoIterator<Item = O>,
    ) -> Condition {
        Condition::In {
            value: value.into(),
            list: list.into_iter().map(Into::into).collect(),
        }
    }
    /// `begins_with(path, prefix)`.
    pub fn begins_with(path: impl Into<Path>, prefix: impl Into<Operand>) -> Condition {
        Condition::BeginsWith(path.into(), prefix.into())
    }
    /// `contains(path, operand)`.
    pub fn contains(path: impl Into<Path>, operand: impl Into<Operand>) -> Condition {
        Condition::Contains(path.into(), operand.into())
    }
    /// `self AND other`.
    #[must_use]
    pub fn and(self, other: Condition) -> Condition {
        Condition::And(Box::new(self), Box::new(other))
    }
    /// `self OR other`.
    #[must_use]
    pub fn or(self, other: Condition) -> Condition {
        Condition::Or(Box::new(self), Box::new(other))
    }
    /// `NOT self`.
    #[must_use]
    #[allow(clippy::should_implement_trait)] // reads like the grammar; `!` would hide the keyword
    pub fn not(self) -> Condition {
        Condition::Not(Box::new(self))
    }

    /// The direct children of a logical node (walked with explicit stacks so that absurdly deep
    /// conditions cannot overflow the stack before the operator limit rejects them).
    fn children(&self) -> Vec<&Condition> {
        match self {
            Condition::And(a, b) | Condition::Or(a, b) => vec![a, b],
            Condition::Not(a) => vec![a],
            _ => Vec::new(),
        }
    }

    /// Every node, depth first, left to right.
    fn nodes(&self) -> Vec<&Condition> {
        let (mut out, mut stack) = (Vec::new(), vec![self]);
        while let Some(c) = stack.pop() {
            out.push(c);
            stack.extend(c.children().into_iter().rev());
        }
        out
    }

    /// The path a function tests (`attribute_exists(path)`, `contains(path, …)`, …).
    fn function_path(&self) -> Option<&Path> {
        match self {
            Condition::AttributeExists(p) | Condition::AttributeNotExists(p) => Some(p),
            Condition::AttributeType(p, _)
            | Condition::BeginsWith(p, _)
            | Condition::Contains(p, _) => Some(p),
            _ => None,
        }
    }

    fn operands(&self) -> Vec<&Operand> {
        match self {
            Condition::Compare { left, right, .. } => vec![left, right],
            Condition::Between { value, low, high } => vec![value, low, high],
            Condition::In { value, list } => std::iter::once(value).chain(list).collect(),
            Condition::BeginsWith(_, o) | Condition::Contains(_, o) => vec![o],
            _ => Vec::new(),
        }
    }

    /// Operators and functions, counted as DynamoDB counts them toward its limit of 300.
    fn operator_count(nodes: &[&Condition]) -> usize {
        let sizes = nodes
            .iter()
            .flat_map(|c| c.operands())
            .filter(|o| matches!(o, Operand::Size(_)));
        nodes.len() + sizes.count()
    }

    /// The static checks DynamoDB makes of a `ConditionExpression` before reading any item.
    pub fn validate(&self) -> Result<()> {
        self.validate_as("ConditionExpression")
    }

    /// [`validate`](Condition::validate), naming `expression` (e.g. `"FilterExpression"`) in
    /// messages. Checks: at most 300 operators; paths well formed; literals valid (no empty
    /// sets, nesting); ordering operands and `BETWEEN` operands that are literals are N, S or B;
    /// `BETWEEN` literal bounds of one type and in order; `IN` with 1 to 100 operands;
    /// `begins_with` prefixes that are literals are S or B; a function or comparison does not
    /// take the same path twice.
    pub fn validate_as(&self, expression: &str) -> Result<()> {
        let kind = expression;
        let nodes = self.nodes();
        let count = Self::operator_count(&nodes);
        if count > MAX_OPERATORS {
            return Err(invalid(
                kind,
                format!("The expression contains too many operators; operator count: {count}"),
            ));
        }
        for node in nodes {
            for operand in node.operands() {
                operand.check(kind)?;
            }
            if let Some(p) = node.function_path() {
                p.check(kind)?;
            }
            let distinct = |function: &str, first: &Path, second: &Operand| {
                match second {
                Operand::Path(p) if p == first => Err(invalid(kind, format!(
                    "The first operand must be distinct from the remaining operands for this operator or function; operator: {function}, first operand: {first:#}"
                ))),
                _ => Ok(()),
            }
            };
            let ordered = |function: &str, operands: &[&Operand]| {
                for operand in operands {
                    if let Operand::Value(v) = operand {
                        if !orderable(v) {
                            return Err(wrong_operand(kind, function, v.value_type().name()));
                        }
                    }
                }
                Ok(())
            };
            match node {
                Condition::Compare { left, op, right } => {
                    if !matches!(op, Comparator::Eq | Comparator::Ne) {
                        ordered(op.symbol(), &[left, right])?;
                    }
                    if let Operand::Path(p) = left {
                        distinct(op.symbol(), p, right)?;
                    }
                }
                Condition::Between { value, low, high } => {
                    ordered("BETWEEN", &[value, low, high])?;
                    if let (Operand::Value(l), Operand::Value(h)) = (low, high) {
                        let bounds = format!(
                            "lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                            short_value(l),
                            short_value(h)
                        );
                        if l.value_type() != h.value_type() {
                            return Err(invalid(kind, format!("The BETWEEN operator requires same data type for lower and upper bounds; {bounds}")));
                        }
                        if order(l, h) == Some(Ordering::Greater) {
                            return Err(invalid(kind, format!("The BETWEEN operator requires upper bound to be greater than or equal to lower bound; {bounds}")));
                        }
                    }
                }
                Condition::In { list, .. } if list.is_empty() => {
                    return Err(invalid(kind, "Incorrect number of operands for operator or function; operator or function: IN, number of operands: 0"));
                }
                Condition::In { list, .. } if list.len() > MAX_IN_OPERANDS => {
                    return Err(invalid(kind, format!("The IN operator is provided with too many operands; number of operands: {}", list.len())));
                }
                Condition::BeginsWith(p, prefix) => match prefix {
                    Operand::Value(v)
                        if !matches!(v, AttributeValue::S(_) | AttributeValue::B(_)) =>
                    {
                        return Err(wrong_operand(kind, "begins_with", v.value_type().name()));
                    }
                    Operand::Size(_) => return Err(wrong_operand(kind, "begins_with", "N")),
                    _ => distinct("begins_with", p, prefix)?,
                },
                Condition::Contains(p, operand) => distinct("contains", p, operand)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether `item` satisfies the condition; `None` means no item exists (as for a put,
    /// update or delete of a new key), where only `attribute_not_exists` and `<>` can hold.
    ///
    /// Literal operands of types DynamoDB rejects are not errors here (they just compare
    /// false): [`validate`](Condition::validate) first. The only error is a condition beyond
    /// the operator limit, refused rather than risking the stack.
    pub fn evaluate(&self, item: Option<&Item>) -> Result<bool> {
        let count = Self::operator_count(&self.nodes());
        if count > MAX_OPERATORS {
            return Err(Error::validation(format!(
                "The expression contains too many operators; operator count: {count}"
            )));
        }
        let empty = Item::new();
        Ok(self.holds(item.unwrap_or(&empty)))
    }

    fn holds(&self, item: &Item) -> bool {
        let at = |p: &Path| p.resolve(item);
        match self {
            Condition::Compare { left, op, right } => {
                match (left.resolve(item), right.resolve(item)) {
                    (Some(l), Some(r)) => match op {
                        Comparator::Eq => l == r,
                        Comparator::Ne => l != r,
                        _ => order(&l, &r).is_some_and(|o| op.accepts(o)),
                    },
                    // A missing operand equals nothing, is ordered with nothing, differs from all.
                    _ => *op == Comparator::Ne,
                }
            }
            Condition::Between { value, low, high } => {
                match (value.resolve(item), low.resolve(item), high.resolve(item)) {
                    (Some(v), Some(l), Some(h)) => {
                        order(&v, &l).is_some_and(Ordering::is_ge)
                            && order(&v, &h).is_some_and(Ordering::is_le)
                    }
                    _ => false,
                }
            }
            Condition::In { value, list } => value
                .resolve(item)
                .is_some_and(|v| list.iter().any(|o| o.resolve(item).is_some_and(|c| c == v))),
            Condition::AttributeExists(p) => at(p).is_some(),
            Condition::AttributeNotExists(p) => at(p).is_none(),
            Condition::AttributeType(p, t) => at(p).is_some_and(|v| v.value_type() == *t),
            Condition::BeginsWith(p, prefix) => match (at(p), prefix.resolve(item).as_deref()) {
                (Some(AttributeValue::S(s)), Some(AttributeValue::S(pre))) => {
                    s.starts_with(pre.as_str())
                }
                (Some(AttributeValue::B(b)), Some(AttributeValue::B(pre))) => b.starts_with(pre),
                _ => false,
            },
            Condition::Contains(p, operand) => match (at(p), operand.resolve(item).as_deref()) {
                (Some(container), Some(needle)) => contains(container, needle),
                _ => false,
            },
            Condition::And(a, b) => a.holds(item) && b.holds(item),
            Condition::Or(a, b) => a.holds(item) || b.holds(item),
            Condition::Not(a) => !a.holds(item),
        }
    }

    /// Every document path the condition reads (including those inside `size()`), left to
    /// right, for ExpressionAttributeNames bookkeeping and key-attribute checks.
    pub fn paths(&self) -> Vec<&Path> {
        let mut out = Vec::new();
        for node in self.nodes() {
            out.extend(node.function_path());
            out.extend(node.operands().into_iter().filter_map(Operand::path));
        }
        out
    }
}

/// `contains`: substring of S or B, member of a set (of the set's element type), element of
/// a list (any type).
fn contains(container: &AttributeValue, needle: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (container, needle) {
        (V::S(s), V::S(sub)) => s.contains(sub.as_str()),
        (V::B(b), V::B(sub)) => sub.is_empty() || b.windows(sub.len()).any(|w| w == sub.as_slice()),
        (V::Ss(set), V::S(x)) => set.contains(x),
        (V::Ns(set), V::N(x)) => set.contains(x),
        (V::Bs(set), V::B(x)) => set.contains(x),
        (V::L(list), x) => list.contains(x),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------------------------

/// An operand of a `SET` action's value.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueExpr {
    /// The value at a path of the original item (a missing one is a `ValidationException`).
    Path(Path),
    /// A literal value.
    Value(AttributeValue),
    /// `if_not_exists(path, default)`: the value at `path`, or `default` when missing.
    IfNotExists(Path, Box<ValueExpr>),
    /// `list_append(a, b)`: the elements of list `a` followed by those of list `b`.
    ListAppend(Box<ValueExpr>, Box<ValueExpr>),
}

impl ValueExpr {
    /// `if_not_exists(path, default)`.
    pub fn if_not_exists(path: impl Into<Path>, default: impl Into<ValueExpr>) -> ValueExpr {
        ValueExpr::IfNotExists(path.into(), Box::new(default.into()))
    }
    /// `list_append(a, b)`.
    pub fn list_append(a: impl Into<ValueExpr>, b: impl Into<ValueExpr>) -> ValueExpr {
        ValueExpr::ListAppend(Box::new(a.into()), Box::new(b.into()))
    }

    fn eval(&self, item: &Item) -> Result<AttributeValue> {
        match self {
            ValueExpr::Path(p) => p
                .resolve(item)
                .cloned()
                .ok_or_else(|| Error::validation(NONEXISTENT)),
            ValueExpr::Value(v) => Ok(v.clone()),
            ValueExpr::IfNotExists(p, default) => match p.resolve(item) {
                Some(v) => Ok(v.clone()),
                None => default.eval(item),
            },
            ValueExpr::ListAppend(a, b) => match (a.eval(item)?, b.eval(item)?) {
                (AttributeValue::L(mut a), AttributeValue::L(b)) => {
                    a.extend(b);
                    Ok(AttributeValue::L(a))
                }
                _ => Err(Error::validation(BAD_TYPE)),
            },
        }
    }
}

impl From<AttributeValue> for ValueExpr {
    fn from(value: AttributeValue) -> ValueExpr {
        ValueExpr::Value(value)
    }
}

impl From<Path> for ValueExpr {
    fn from(path: Path) -> ValueExpr {
        ValueExpr::Path(path)
    }
}

/// The right-hand side of `SET path = …`.
#[derive(Clone, Debug, PartialEq)]
pub enum SetValue {
    /// A single operand.
    Operand(ValueExpr),
    /// `a + b` (numbers).
    Plus(ValueExpr, ValueExpr),
    /// `a - b` (numbers).
    Minus(ValueExpr, ValueExpr),
}

impl SetValue {
    /// `a + b`.
    pub fn plus(a: impl Into<ValueExpr>, b: impl Into<ValueExpr>) -> SetValue {
        SetValue::Plus(a.into(), b.into())
    }
    /// `a - b`.
    pub fn minus(a: impl Into<ValueExpr>, b: impl Into<ValueExpr>) -> SetValue {
        SetValue::Minus(a.into(), b.into())
    }

    fn eval(&self, item: &Item) -> Result<AttributeValue> {
        let (a, b, add) = match self {
            SetValue::Operand(e) => return e.eval(item),
            SetValue::Plus(a, b) => (a, b, true),
            SetValue::Minus(a, b) => (a, b, false),
        };
        match (a.eval(item)?, b.eval(item)?) {
            (AttributeValue::N(x), AttributeValue::N(y)) => {
                let op = if add {
                    Number::checked_add
                } else {
                    Number::checked_sub
                };
                op(&x, &y).map(AttributeValue::N).map_err(Error::validation)
            }
            _ => Err(Error::validation(BAD_TYPE)),
        }
    }
}

impl From<ValueExpr> for SetValue {
    fn from(expr: ValueExpr) -> SetValue {
        SetValue::Operand(expr)
    }
}

/// One action of an update expression.
#[derive(Clone, Debug, PartialEq)]
pub enum UpdateAction {
    /// `SET path = value`; a list index past the end appends.
    Set(Path, SetValue),
    /// `REMOVE path`; removing what is not there does nothing.
    Remove(Path),
    /// `ADD path value`: adds a number (missing counts as 0) or unions a set.
    Add(Path, AttributeValue),
    /// `DELETE path value`: removes the elements of a set; an emptied set is removed.
    Delete(Path, AttributeValue),
}

impl UpdateAction {
    /// The path the action writes.
    pub fn path(&self) -> &Path {
        match self {
            UpdateAction::Set(p, _)
            | UpdateAction::Remove(p)
            | UpdateAction::Add(p, _)
            | UpdateAction::Delete(p, _) => p,
        }
    }
}

/// An update expression: its actions, in any order (DynamoDB's clauses are unordered).
/// `ADD` and `DELETE` also take nested paths, which DynamoDB does not document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Update {
    /// The actions.
    pub actions: Vec<UpdateAction>,
}

/// DynamoDB's name of a type in `ADD`/`DELETE` operand errors.
fn long_type_name(value: &AttributeValue) -> &'static str {
    match value.value_type() {
        ValueType::S => "STRING",
        ValueType::N => "NUMBER",
        ValueType::B => "BINARY",
        ValueType::Bool => "BOOLEAN",
        ValueType::L => "LIST",
        ValueType::M => "MAP",
        other => other.name(), // NULL; sets are always accepted
    }
}

fn is_set(value: &AttributeValue) -> bool {
    matches!(
        value,
        AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)
    )
}

impl Update {
    /// An update with no actions (not valid until one is added).
    pub fn new() -> Update {
        Update::default()
    }
    /// Adds `SET path = value`.
    #[must_use]
    pub fn set(self, path: impl Into<Path>, value: impl Into<ValueExpr>) -> Update {
        self.set_expr(path, SetValue::Operand(value.into()))
    }
    /// Adds `SET path = value` with any right-hand side (`+`, `-`, functions).
    #[must_use]
    pub fn set_expr(mut self, path: impl Into<Path>, value: impl Into<SetValue>) -> Update {
        self.actions
            .push(UpdateAction::Set(path.into(), value.into()));
        self
    }
    /// Adds `REMOVE path`.
    #[must_use]
    pub fn remove(mut self, path: impl Into<Path>) -> Update {
        self.actions.push(UpdateAction::Remove(path.into()));
        self
    }
    /// Adds `ADD path value`.
    #[must_use]
    pub fn add(mut self, path: impl Into<Path>, value: AttributeValue) -> Update {
        self.actions.push(UpdateAction::Add(path.into(), value));
        self
    }
    /// Adds `DELETE path value`.
    #[must_use]
    pub fn delete(mut self, path: impl Into<Path>, value: AttributeValue) -> Update {
        self.actions.push(UpdateAction::Delete(path.into(), value));
        self
    }

    /// The static checks DynamoDB makes of an `UpdateExpression`: not empty; paths well formed
    /// and pairwise neither overlapping nor conflicting; literals valid; at most 300 operators
    /// and functions; literal operands of `+`/`-` numbers and of `list_append` lists;
    /// `list_append` not directly inside `list_append`; `ADD` takes a number or a set and
    /// `DELETE` a set.
    pub fn validate(&self) -> Result<()> {
        const KIND: &str = "UpdateExpression";
        if self.actions.is_empty() {
            return Err(invalid(KIND, "The expression can not be empty;"));
        }
        let mut operators = 0usize;
        for action in &self.actions {
            action.path().check(KIND)?;
            match action {
                UpdateAction::Set(_, value) => operators += check_set_value(value, KIND)?,
                UpdateAction::Remove(_) => {}
                UpdateAction::Add(_, v) | UpdateAction::Delete(_, v) => {
                    check_literal(v)?;
                    let (name, ok) = match action {
                        UpdateAction::Add(..) => {
                            ("ADD", is_set(v) || matches!(v, AttributeValue::N(_)))
                        }
                        _ => ("DELETE", is_set(v)),
                    };
                    if !ok {
                        return Err(invalid(KIND, format!("Incorrect operand type for operator or function; operator: {name}, operand type: {}", long_type_name(v))));
                    }
                }
            }
        }
        if operators > MAX_OPERATORS {
            return Err(invalid(
                KIND,
                format!("The expression contains too many operators; operator count: {operators}"),
            ));
        }
        let targets: Vec<&Path> = self.actions.iter().map(UpdateAction::path).collect();
        check_overlaps(&targets, KIND)
    }

    /// The item after the update: [`validate`](Update::validate)s, evaluates every operand
    /// against the original `item` (`None`: no item yet, as DynamoDB creates one), then writes
    /// the results — `SET`/`ADD`/`DELETE` in path order, so that appends past the end of a list
    /// land in index order, then removals from the last position backwards, so that list
    /// indexes keep naming the original elements. The result is not checked against item
    /// limits (size, nesting, keys): the caller does that with the table's schema.
    pub fn apply(&self, item: Option<&Item>) -> Result<Item> {
        self.validate()?;
        let empty = Item::new();
        let original = item.unwrap_or(&empty);
        let mut writes: Vec<(&Path, AttributeValue)> = Vec::new();
        let mut removals: Vec<&Path> = Vec::new();
        for action in &self.actions {
            match action {
                UpdateAction::Set(path, value) => writes.push((path, value.eval(original)?)),
                UpdateAction::Add(path, value) => {
                    writes.push((path, add(path.resolve(original), value)?))
                }
                UpdateAction::Delete(path, value) => match delete(path.resolve(original), value)? {
                    Some(rest) => writes.push((path, rest)),
                    None => removals.push(path),
                },
                UpdateAction::Remove(path) => removals.push(path),
            }
        }
        // Whether a removal does anything is decided on the original item, where its indexes
        // point. A missing target is a no-op, but a missing parent is an error — except when the
        // whole item is missing, where DynamoDB ignores the removal.
        let mut targets = Vec::new();
        for path in removals {
            if path.resolve(original).is_some() {
                targets.push(path);
            } else if item.is_some() && !parent_accepts(original, path) {
                return Err(Error::validation(BAD_PATH));
            }
        }
        let mut new = original.clone();
        writes.sort_by(|a, b| a.0.cmp(b.0));
        for (path, value) in writes {
            write(&mut new, path, value)?;
        }
        targets.sort_by(|a, b| b.cmp(a));
        for path in targets {
            remove(&mut new, path);
        }
        Ok(new)
    }

    /// The paths the update writes, in action order: project the old and new items on these
    /// for `ReturnValues` `UPDATED_OLD` and `UPDATED_NEW`.
    pub fn updated_paths(&self) -> Vec<Path> {
        self.actions.iter().map(|a| a.path().clone()).collect()
    }
}

/// Checks a `SET` right-hand side and returns its operator count (`+`, `-`, functions).
fn check_set_value(value: &SetValue, kind: &str) -> Result<usize> {
    let (exprs, operator) = match value {
        SetValue::Operand(e) => (vec![e], None),
        SetValue::Plus(a, b) => (vec![a, b], Some("+")),
        SetValue::Minus(a, b) => (vec![a, b], Some("-")),
    };
    let mut count = usize::from(operator.is_some());
    if let Some(op) = operator {
        for e in &exprs {
            if let ValueExpr::Value(v) = e {
                if !matches!(v, AttributeValue::N(_)) {
                    return Err(wrong_operand(kind, op, v.value_type().name()));
                }
            }
        }
    }
    // (expression, whether its parent is list_append); explicit stack: nesting is unbounded.
    let mut stack: Vec<(&ValueExpr, bool)> = exprs.into_iter().map(|e| (e, false)).collect();
    while let Some((expr, in_list_append)) = stack.pop() {
        match expr {
            ValueExpr::Path(p) => p.check(kind)?,
            ValueExpr::Value(v) => check_literal(v)?,
            ValueExpr::IfNotExists(p, default) => {
                count += 1;
                p.check(kind)?;
                stack.push((default, false));
            }
            ValueExpr::ListAppend(a, b) => {
                count += 1;
                if in_list_append {
                    return Err(invalid(kind, "The function is not allowed to be used this way in an expression; function: list_append"));
                }
                for e in [a, b] {
                    if let ValueExpr::Value(v) = &**e {
                        if !matches!(v, AttributeValue::L(_)) {
                            return Err(wrong_operand(kind, "list_append", v.value_type().name()));
                        }
                    }
                    stack.push((e, true));
                }
            }
        }
    }
    Ok(count)
}

fn add(existing: Option<&AttributeValue>, value: &AttributeValue) -> Result<AttributeValue> {
    use AttributeValue as V;
    match (existing, value) {
        (None, v) if is_set(v) || matches!(v, V::N(_)) => Ok(v.clone()),
        (Some(V::N(a)), V::N(b)) => a.checked_add(b).map(V::N).map_err(Error::validation),
        (Some(V::Ss(a)), V::Ss(b)) => Ok(V::Ss(a.union(b).cloned().collect())),
        (Some(V::Ns(a)), V::Ns(b)) => Ok(V::Ns(a.union(b).cloned().collect())),
        (Some(V::Bs(a)), V::Bs(b)) => Ok(V::Bs(a.union(b).cloned().collect())),
        _ => Err(Error::validation(BAD_TYPE)),
    }
}

/// What remains of a set after `DELETE`; `None` when nothing remains (or nothing was there),
/// since DynamoDB has no empty sets.
fn delete(
    existing: Option<&AttributeValue>,
    value: &AttributeValue,
) -> Result<Option<AttributeValue>> {
    fn rest<T: Ord + Clone>(
        a: &BTreeSet<T>,
        b: &BTreeSet<T>,
        wrap: fn(BTreeSet<T>) -> AttributeValue,
    ) -> Option<AttributeValue> {
        let left: BTreeSet<T> = a.difference(b).cloned().collect();
        (!left.is_empty()).then(|| wrap(left))
    }
    use AttributeValue as V;
    match (existing, value) {
        (None, _) => Ok(None),
        (Some(V::Ss(a)), V::Ss(b)) => Ok(rest(a, b, V::Ss)),
        (Some(V::Ns(a)), V::Ns(b)) => Ok(rest(a, b, V::Ns)),
        (Some(V::Bs(a)), V::Bs(b)) => Ok(rest(a, b, V::Bs)),
        _ => Err(Error::validation(BAD_TYPE)),
    }
}

/// Whether the parent of `path` is a container its last step can address (the item for a
/// top-level name, a map for a key, a list for an index).
fn parent_accepts(item: &Item, path: &Path) -> bool {
    let Some((last, init)) = path.0.split_last() else {
        return false;
    };
    if init.is_empty() {
        return true;
    }
    match (Path(init.to_vec()).resolve(item), last) {
        (Some(AttributeValue::M(_)), PathElement::Attribute(_)) => true,
        (Some(AttributeValue::L(_)), PathElement::Index(_)) => true,
        _ => false,
    }
}

/// The value holding the last step of `path`, mutably.
fn parent_mut<'a>(
    item: &'a mut Item,
    path: &'a Path,
) -> Option<(&'a mut AttributeValue, &'a PathElement)> {
    let (PathElement::Attribute(name), rest) = path.0.split_first()? else {
        return None;
    };
    let (last, middle) = rest.split_last()?;
    let mut node = item.get_mut(name)?;
    for element in middle {
        node = match (element, node) {
            (PathElement::Attribute(key), AttributeValue::M(map)) => map.get_mut(key)?,
            (PathElement::Index(i), AttributeValue::L(list)) => list.get_mut(*i)?,
            _ => return None,
        };
    }
    Some((node, last))
}

fn write(item: &mut Item, path: &Path, value: AttributeValue) -> Result<()> {
    if let [PathElement::Attribute(name)] = path.0.as_slice() {
        item.insert(name.clone(), value);
        return Ok(());
    }
    match parent_mut(item, path) {
        Some((AttributeValue::M(map), PathElement::Attribute(key))) => {
            map.insert(key.clone(), value);
        }
        Some((AttributeValue::L(list), PathElement::Index(i))) => match list.get_mut(*i) {
            Some(slot) => *slot = value,
            None => list.push(value),
        },
        _ => return Err(Error::validation(BAD_PATH)),
    }
    Ok(())
}

fn remove(item: &mut Item, path: &Path) {
    if let [PathElement::Attribute(name)] = path.0.as_slice() {
        item.remove(name);
        return;
    }
    match parent_mut(item, path) {
        Some((AttributeValue::M(map), PathElement::Attribute(key))) => {
            map.remove(key);
        }
        Some((AttributeValue::L(list), PathElement::Index(i))) if *i < list.len() => {
            list.remove(*i);
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Projections
// ---------------------------------------------------------------------------------------------

/// A projection under construction: the whole value, or the chosen keys or indexes of it.
enum Projected<'a> {
    Whole(&'a AttributeValue),
    Map(BTreeMap<&'a str, Projected<'a>>),
    List(BTreeMap<usize, Projected<'a>>),
}

impl<'a> Projected<'a> {
    fn for_next(next: Option<&PathElement>) -> Projected<'a> {
        match next {
            Some(PathElement::Index(_)) => Projected::List(BTreeMap::new()),
            _ => Projected::Map(BTreeMap::new()),
        }
    }

    fn insert(&mut self, rest: &'a [PathElement], value: &'a AttributeValue) {
        let mut node = self;
        for (k, element) in rest.iter().enumerate() {
            let next = rest.get(k + 1);
            node = match (node, element) {
                (Projected::Map(m), PathElement::Attribute(key)) => m
                    .entry(key.as_str())
                    .or_insert_with(|| Projected::for_next(next)),
                (Projected::List(l), PathElement::Index(i)) => {
                    l.entry(*i).or_insert_with(|| Projected::for_next(next))
                }
                // Already projected whole by a shorter path.
                _ => return,
            };
        }
        *node = Projected::Whole(value);
    }

    fn build(self) -> AttributeValue {
        match self {
            Projected::Whole(v) => v.clone(),
            Projected::Map(m) => AttributeValue::M(
                m.into_iter()
                    .map(|(k, v)| (k.to_owned(), v.build()))
                    .collect(),
            ),
            // Picked list elements come back compacted, in index order, as DynamoDB returns them.
            Projected::List(l) => {
                AttributeValue::L(l.into_values().map(Projected::build).collect())
            }
        }
    }
}

/// `ProjectionExpression` semantics: a sparse copy of `item` with only the elements at
/// `paths`, nested structure kept, missing paths skipped; list elements picked by index come
/// back compacted in index order (`l[2], l[0]` of `[x, y, z]` gives `[x, z]`). Overlapping
/// paths are merged here; [`validate_projection`] rejects them as DynamoDB does.
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut root: BTreeMap<&str, Projected> = BTreeMap::new();
    for path in paths {
        let (Some(value), Some((PathElement::Attribute(name), rest))) =
            (path.resolve(item), path.0.split_first())
        else {
            continue;
        };
        root.entry(name.as_str())
            .or_insert_with(|| Projected::for_next(rest.first()))
            .insert(rest, value);
    }
    root.into_iter()
        .map(|(name, p)| (name.to_owned(), p.build()))
        .collect()
}

/// The static checks DynamoDB makes of a `ProjectionExpression`: paths well formed and
/// pairwise neither overlapping nor conflicting.
pub fn validate_projection(paths: &[Path]) -> Result<()> {
    const KIND: &str = "ProjectionExpression";
    for path in paths {
        path.check(KIND)?;
    }
    check_overlaps(&paths.iter().collect::<Vec<_>>(), KIND)
}
