//! DynamoDB's condition expressions, update expressions and projections, as typed values.
//!
//! DynamoDB takes `ConditionExpression`/`FilterExpression`, `UpdateExpression` and
//! `ProjectionExpression` as strings; here they are values shaped after its grammar
//! ([`Condition`], [`Update`], [`Path`]), so a parser of the string syntax only has to
//! substitute `#name`/`:value` and build them. Evaluation follows the service: a comparison
//! with a missing operand is false except `<>`, which is true; values of different types are
//! never equal; only N, S (by UTF-8 bytes) and B (unsigned bytes) are ordered. Every operand of
//! an update is read from the item as it was before the update.
//!
//! `validate` makes the static checks DynamoDB makes before reading any item (literal operand
//! types, `BETWEEN` bounds, overlapping paths, limits); call it once per request.
//!
//! ```
//! use tidestore::expr::{project, Condition, Path, SetValue, Update, ValueExpr};
//! use tidestore::{AttributeValue, Item};
//!
//! let item: Item = serde_json::from_str(r#"{"Year": {"N": "1985"}}"#)?;
//! // attribute_exists(Year) AND Year < :limit
//! let year = AttributeValue::number(2000);
//! let cond = Condition::attribute_exists("Year").and(Condition::lt("Year", year));
//! cond.validate()?;
//! assert!(cond.evaluate(Some(&item))?);
//!
//! // SET Plays = if_not_exists(Plays, :zero) + :one REMOVE Year
//! let plays = ValueExpr::if_not_exists("Plays", AttributeValue::number(0));
//! let update = Update::new()
//!     .set_expr("Plays", SetValue::plus(plays, AttributeValue::number(1)))
//!     .remove("Year");
//! let new = update.apply(Some(&item))?;
//! assert_eq!(new["Plays"], AttributeValue::number(1));
//! assert!(!new.contains_key("Year"));
//!
//! // ProjectionExpression: Plays, Missing
//! let paths = [Path::from("Plays"), Path::from("Missing")];
//! assert_eq!(project(&new, &paths).len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::error::{Error, Result};
use crate::value::AttributeValue as V;
use crate::value::{validate_value, AttributeValue, Item, Number, ValueType, MAX_NESTING_DEPTH};

/// The most operators and functions one expression may hold (DynamoDB's limit).
pub const MAX_OPERATORS: usize = 300;
/// The most operands the list of an `IN` may hold (DynamoDB's limit).
pub const MAX_IN_OPERANDS: usize = 100;

const NONEXISTENT: &str =
    "The provided expression refers to an attribute that does not exist in the item";
const BAD_TYPE: &str = "An operand in the update expression has an incorrect data type";
const BAD_PATH: &str = "The document path provided in the update expression is invalid for update";
const WRONG_OPERAND: &str = "Incorrect operand type for operator or function; operator";

/// `Invalid ConditionExpression: …`: DynamoDB names the faulty parameter.
fn invalid(kind: &str, what: impl fmt::Display) -> Error {
    Error::validation(format!("Invalid {kind}: {what}"))
}

fn wrong_operand(kind: &str, function: &str, type_name: &str) -> Error {
    let what = format!("{WRONG_OPERAND} or function: {function}, operand type: {type_name}");
    invalid(kind, what)
}

fn check_operator_count(kind: &str, count: usize) -> Result<()> {
    if count <= MAX_OPERATORS {
        return Ok(());
    }
    let what = "The expression contains too many operators; operator count";
    Err(invalid(kind, format!("{what}: {count}")))
}

/// Checks a literal as DynamoDB checks `ExpressionAttributeValues` (no empty sets, nesting).
fn check_literal(value: &AttributeValue) -> Result<()> {
    validate_value(value, 1).map_err(|e| match e {
        Error::Validation(m) => Error::validation(format!(
            "ExpressionAttributeValues contains invalid value: {m}"
        )),
        other => other,
    })
}

/// A document path: a top-level attribute name, then map keys (`.b`) and list indexes (`[2]`).
/// Names are literal: a dot inside a name is part of it, as with `#name` substitution.
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

    /// This path, then the map key `name`.
    #[must_use]
    pub fn field(mut self, name: impl Into<String>) -> Path {
        self.0.push(PathElement::Attribute(name.into()));
        self
    }

    /// This path, then the list index `i`.
    #[must_use]
    pub fn index(mut self, i: usize) -> Path {
        self.0.push(PathElement::Index(i));
        self
    }

    /// The value at this path; `None` when a step is missing, an index is past the end, or a
    /// step meets a value of the wrong kind (a key into a list, an index into a map).
    pub fn resolve<'a>(&self, item: &'a Item) -> Option<&'a AttributeValue> {
        let (PathElement::Attribute(name), rest) = self.0.split_first()? else {
            return None;
        };
        rest.iter()
            .try_fold(item.get(name)?, |value, step| match (step, value) {
                (PathElement::Attribute(key), V::M(map)) => map.get(key),
                (PathElement::Index(i), V::L(list)) => list.get(*i),
                _ => None,
            })
    }

    /// The top-level attribute name (empty for a malformed path starting with an index).
    pub fn top_level(&self) -> &str {
        match self.0.first() {
            Some(PathElement::Attribute(name)) => name,
            _ => "",
        }
    }

    /// What DynamoDB's grammar guarantees of a path, checked for typed ones.
    fn check(&self, kind: &str) -> Result<()> {
        let problem = match self.0.first() {
            None => "The document path is empty",
            Some(PathElement::Index(_)) => "A document path must start with an attribute name",
            _ if self.0.len() > MAX_NESTING_DEPTH => "The document path is nested too deeply",
            _ if self.0.contains(&PathElement::Attribute(String::new())) => {
                "A document path has an empty attribute name"
            }
            _ => return Ok(()),
        };
        Err(invalid(kind, format!("{problem}; path: {self:#}")))
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
        for (i, step) in self.0.iter().enumerate() {
            let sep = if i == 0 {
                ""
            } else if listed {
                ", "
            } else {
                "."
            };
            match step {
                PathElement::Attribute(name) => write!(f, "{sep}{name}")?,
                PathElement::Index(n) if listed => write!(f, "{sep}[{n}]")?,
                PathElement::Index(n) => write!(f, "[{n}]")?,
            }
        }
        f.write_str(if listed { "]" } else { "" })
    }
}

/// Rejects two paths that overlap (one is a prefix of the other) or conflict (one takes a key
/// where the other takes an index). Sorting finds them in O(n log n): if any pair offends,
/// some pair of neighbours in sorted order does.
fn check_overlaps(paths: &[&Path], kind: &str) -> Result<()> {
    let mut order: Vec<usize> = (0..paths.len()).collect();
    order.sort_by(|&a, &b| paths[a].cmp(paths[b]).then(a.cmp(&b)));
    for pair in order.windows(2) {
        let (one, two) = (paths[pair[0].min(pair[1])], paths[pair[0].max(pair[1])]);
        let problem = match one.0.iter().zip(&two.0).find(|(x, y)| x != y) {
            None => "overlap",
            Some((x, y)) if std::mem::discriminant(x) != std::mem::discriminant(y) => "conflict",
            Some(_) => continue,
        };
        let fix = "must remove or rewrite one of these paths";
        let what = format!("{fix}; path one: {one:#}, path two: {two:#}");
        return Err(invalid(
            kind,
            format!("Two document paths {problem} with each other; {what}"),
        ));
    }
    Ok(())
}

/// An operand of a condition: a path into the item, a literal (`:value`), or `size(path)`.
/// A `&str` converts to a [`Path`], never to a string value (write `AttributeValue::s`).
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// The value at a document path (none when the item has none).
    Path(Path),
    /// A literal value.
    Value(AttributeValue),
    /// `size(path)`: a number, or no value for N, BOOL, NULL and missing attributes.
    Size(Path),
}

impl Operand {
    /// `size(path)`.
    pub fn size(path: impl Into<Path>) -> Operand {
        Operand::Size(path.into())
    }

    /// `size(:value)`, which DynamoDB accepts though its grammar names a path: the size as a
    /// literal, or DynamoDB's `ValidationException` for a number, boolean or null.
    pub fn size_of_value(value: &AttributeValue) -> Result<Operand> {
        let type_name = value.value_type().name();
        size_of(value)
            .map(|n| Operand::Value(V::N(Number::from(n as u64))))
            .ok_or_else(|| wrong_operand("ConditionExpression", "size", type_name))
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
            Operand::Size(p) => {
                let n = size_of(p.resolve(item)?)?;
                Some(Cow::Owned(V::N(Number::from(n as u64))))
            }
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

/// `size()`: strings in UTF-16 code units, as the service counts (`"é𝄞"` is 3), binaries in
/// bytes, sets, lists and maps in elements; nothing for N, BOOL and NULL.
fn size_of(value: &AttributeValue) -> Option<usize> {
    Some(match value {
        V::S(s) => s.encode_utf16().count(),
        V::B(b) => b.len(),
        V::L(l) => l.len(),
        V::M(m) => m.len(),
        V::Ss(s) => s.len(),
        V::Ns(s) => s.len(),
        V::Bs(s) => s.len(),
        V::N(_) | V::Bool(_) | V::Null => return None,
    })
}

/// The order of two values, if DynamoDB orders them: both N, both S or both B.
fn order(left: &AttributeValue, right: &AttributeValue) -> Option<Ordering> {
    match (left, right) {
        (V::S(a), V::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (V::N(a), V::N(b)) => Some(a.cmp(b)),
        (V::B(a), V::B(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// `{N:5}`, as DynamoDB shows a literal in `BETWEEN` errors.
fn short_value(value: &AttributeValue) -> String {
    let json = serde_json::to_value(value).unwrap_or_default();
    let inner = json.as_object().and_then(|tagged| tagged.values().next());
    let text = inner.map_or(String::new(), |v| {
        v.as_str().map_or(v.to_string(), str::to_owned)
    });
    format!("{{{}:{text}}}", value.value_type())
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
        // In declaration order.
        ["=", "<>", "<", "<=", ">", ">="][self as usize]
    }

    fn accepts(self, o: Ordering) -> bool {
        use {Comparator::*, Ordering::*};
        matches!(
            (self, o),
            (Eq | Le | Ge, Equal) | (Ne | Lt | Le, Less) | (Ne | Gt | Ge, Greater)
        )
    }
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
    /// `value IN (list…)`: equal to one of 1 to 100 operands.
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

/// One constructor per comparator: `Condition::eq(left, right)`, ….
macro_rules! comparisons {
    ($($name:ident $op:ident $doc:literal),*) => {$(
        #[doc = $doc]
        pub fn $name(left: impl Into<Operand>, right: impl Into<Operand>) -> Condition {
            Condition::compare(left, Comparator::$op, right)
        }
    )*};
}

impl Condition {
    comparisons!(eq Eq "`left = right`.", ne Ne "`left <> right`.", lt Lt "`left < right`.",
        le Le "`left <= right`.", gt Gt "`left > right`.", ge Ge "`left >= right`.");

    /// `left op right`.
    pub fn compare(left: impl Into<Operand>, op: Comparator, right: impl Into<Operand>) -> Self {
        let (left, right) = (left.into(), right.into());
        Condition::Compare { left, op, right }
    }
    /// `value BETWEEN low AND high`.
    pub fn between(
        value: impl Into<Operand>,
        low: impl Into<Operand>,
        high: impl Into<Operand>,
    ) -> Condition {
        let (value, low, high) = (value.into(), low.into(), high.into());
        Condition::Between { value, low, high }
    }
    /// `value IN (list…)`.
    pub fn is_in<O: Into<Operand>>(
        value: impl Into<Operand>,
        list: impl IntoIterator<Item = O>,
    ) -> Self {
        let list = list.into_iter().map(Into::into).collect();
        Condition::In {
            value: value.into(),
            list,
        }
    }
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
    #[allow(clippy::should_implement_trait)] // reads like the grammar's keyword
    pub fn not(self) -> Condition {
        Condition::Not(Box::new(self))
    }

    /// Every node, depth first, left to right. An explicit stack, not recursion, so that an
    /// absurdly deep condition is refused by the operator limit instead of overflowing.
    fn nodes(&self) -> Vec<&Condition> {
        let (mut out, mut stack) = (Vec::new(), vec![self]);
        while let Some(c) = stack.pop() {
            out.push(c);
            match c {
                Condition::And(a, b) | Condition::Or(a, b) => stack.extend([&**b, &**a]),
                Condition::Not(a) => stack.push(a),
                _ => {}
            }
        }
        out
    }

    /// The path a function tests (`attribute_exists(path)`, `contains(path, …)`, …).
    fn function_path(&self) -> Option<&Path> {
        match self {
            Condition::AttributeExists(p) | Condition::AttributeNotExists(p) => Some(p),
            Condition::AttributeType(p, _) => Some(p),
            Condition::BeginsWith(p, _) | Condition::Contains(p, _) => Some(p),
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

    /// Operators and functions (`size` included), as DynamoDB counts toward its limit.
    fn operator_count(nodes: &[&Condition]) -> usize {
        let operands = nodes.iter().flat_map(|c| c.operands());
        nodes.len() + operands.filter(|o| matches!(o, Operand::Size(_))).count()
    }

    /// The static checks DynamoDB makes of a `ConditionExpression`; see
    /// [`validate_as`](Condition::validate_as).
    pub fn validate(&self) -> Result<()> {
        self.validate_as("ConditionExpression")
    }

    /// The static checks, naming `kind` (e.g. `"FilterExpression"`) in messages: at most 300
    /// operators; well-formed paths; valid literals; literals ordered by `<`, `<=`, `>`, `>=`
    /// and `BETWEEN` are N, S or B; literal `BETWEEN` bounds of one type and in order; `IN`
    /// with 1 to 100 operands; a literal `begins_with` prefix is S or B; no function or
    /// comparison takes the same path twice.
    pub fn validate_as(&self, kind: &str) -> Result<()> {
        let nodes = self.nodes();
        check_operator_count(kind, Self::operator_count(&nodes))?;
        nodes.into_iter().try_for_each(|node| node.check(kind))
    }

    fn check(&self, kind: &str) -> Result<()> {
        self.operands()
            .into_iter()
            .try_for_each(|o| o.check(kind))?;
        self.function_path().map_or(Ok(()), |p| p.check(kind))?;
        let unordered = |function: &str, operands: &[&Operand]| {
            let literals = operands.iter().filter_map(|o| match o {
                Operand::Value(v) => Some(v),
                _ => None,
            });
            match literals.into_iter().find(|v| order(v, v).is_none()) {
                Some(v) => Err(wrong_operand(kind, function, v.value_type().name())),
                None => Ok(()),
            }
        };
        let distinct = |function: &str, first: &Path, second: &Operand| match second {
            Operand::Path(p) if p == first => {
                let what = "The first operand must be distinct from the remaining operands";
                let rest = format!("operator: {function}, first operand: {first:#}");
                let what = format!("{what} for this operator or function; {rest}");
                Err(invalid(kind, what))
            }
            _ => Ok(()),
        };
        match self {
            Condition::Compare { left, op, right } => {
                if !matches!(op, Comparator::Eq | Comparator::Ne) {
                    unordered(op.symbol(), &[left, right])?;
                }
                match left {
                    Operand::Path(p) => distinct(op.symbol(), p, right),
                    _ => Ok(()),
                }
            }
            Condition::Between { value, low, high } => {
                unordered("BETWEEN", &[value, low, high])?;
                let (Operand::Value(l), Operand::Value(h)) = (low, high) else {
                    return Ok(());
                };
                let problem = match order(l, h) {
                    None => "operator requires same data type for lower and upper bounds",
                    Some(Ordering::Greater) => {
                        "operator requires upper bound to be greater than or equal to lower bound"
                    }
                    Some(_) => return Ok(()),
                };
                let (l, h) = (short_value(l), short_value(h));
                let bounds = format!("lower bound operand: AttributeValue: {l}, upper bound operand: AttributeValue: {h}");
                Err(invalid(kind, format!("The BETWEEN {problem}; {bounds}")))
            }
            Condition::In { list, .. } if list.is_empty() || list.len() > MAX_IN_OPERANDS => {
                let (count, many) = (list.len(), "is provided with too many operands");
                let what = if count == 0 { "needs operands" } else { many };
                let what = format!("The IN operator {what}; number of operands: {count}");
                Err(invalid(kind, what))
            }
            Condition::BeginsWith(p, prefix) => match prefix {
                Operand::Value(V::S(_) | V::B(_)) => Ok(()),
                Operand::Value(v) => Err(wrong_operand(kind, "begins_with", v.value_type().name())),
                Operand::Size(_) => Err(wrong_operand(kind, "begins_with", "N")),
                Operand::Path(_) => distinct("begins_with", p, prefix),
            },
            Condition::Contains(p, operand) => distinct("contains", p, operand),
            _ => Ok(()),
        }
    }

    /// Whether `item` satisfies the condition; `None` means no item exists (a put, update or
    /// delete of a new key), where every path is missing. Literals of types DynamoDB rejects
    /// just compare false here: [`validate`](Condition::validate) first. The only error is a
    /// condition beyond the operator limit, refused to protect the stack.
    pub fn evaluate(&self, item: Option<&Item>) -> Result<bool> {
        check_operator_count("ConditionExpression", Self::operator_count(&self.nodes()))?;
        Ok(self.holds(item.unwrap_or(&Item::new())))
    }

    fn holds(&self, item: &Item) -> bool {
        let at = |p: &Path| p.resolve(item);
        match self {
            Condition::Compare { left, op, right } => {
                match (left.resolve(item), right.resolve(item)) {
                    (Some(l), Some(r)) if *op == Comparator::Eq => l == r,
                    (Some(l), Some(r)) if *op == Comparator::Ne => l != r,
                    (Some(l), Some(r)) => order(&l, &r).is_some_and(|o| op.accepts(o)),
                    // Nothing equals a missing operand, nor is ordered with it.
                    _ => *op == Comparator::Ne,
                }
            }
            Condition::Between { value, low, high } => {
                let resolved = (value.resolve(item), low.resolve(item), high.resolve(item));
                let (Some(v), Some(l), Some(h)) = resolved else {
                    return false;
                };
                order(&v, &l).is_some_and(Ordering::is_ge)
                    && order(&v, &h).is_some_and(Ordering::is_le)
            }
            Condition::In { value, list } => value
                .resolve(item)
                .is_some_and(|v| list.iter().any(|o| o.resolve(item).is_some_and(|c| c == v))),
            Condition::AttributeExists(p) => at(p).is_some(),
            Condition::AttributeNotExists(p) => at(p).is_none(),
            Condition::AttributeType(p, t) => at(p).is_some_and(|v| v.value_type() == *t),
            Condition::BeginsWith(p, prefix) => match (at(p), prefix.resolve(item).as_deref()) {
                (Some(V::S(s)), Some(V::S(pre))) => s.starts_with(pre.as_str()),
                (Some(V::B(b)), Some(V::B(pre))) => b.starts_with(pre),
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

    /// Every document path the condition reads (`size()` arguments included), left to right.
    pub fn paths(&self) -> Vec<&Path> {
        let mut out = Vec::new();
        for node in self.nodes() {
            out.extend(node.function_path());
            out.extend(node.operands().into_iter().filter_map(|o| match o {
                Operand::Path(p) | Operand::Size(p) => Some(p),
                Operand::Value(_) => None,
            }));
        }
        out
    }
}

/// `contains`: a substring of S or B, a member of a set of the operand's type, an element of a
/// list (any type).
fn contains(container: &AttributeValue, needle: &AttributeValue) -> bool {
    match (container, needle) {
        (V::S(s), V::S(sub)) => s.contains(sub.as_str()),
        (V::B(b), V::B(sub)) => sub.is_empty() || b.windows(sub.len()).any(|w| w == sub),
        (V::Ss(set), V::S(x)) => set.contains(x),
        (V::Ns(set), V::N(x)) => set.contains(x),
        (V::Bs(set), V::B(x)) => set.contains(x),
        (V::L(list), x) => list.contains(x),
        _ => false,
    }
}

/// An operand of a `SET` action's value.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueExpr {
    /// The value at a path of the original item (a missing one is a `ValidationException`).
    Path(Path),
    /// A literal value.
    Value(AttributeValue),
    /// `if_not_exists(path, default)`: the value at `path`, or `default` when missing.
    IfNotExists(Path, Box<ValueExpr>),
    /// `list_append(a, b)`: the elements of list `a`, then those of list `b`.
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
                (V::L(a), V::L(b)) => Ok(V::L(a.into_iter().chain(b).collect())),
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
        let (a, b, op): (_, _, fn(&Number, &Number) -> _) = match self {
            SetValue::Operand(e) => return e.eval(item),
            SetValue::Plus(a, b) => (a, b, Number::checked_add),
            SetValue::Minus(a, b) => (a, b, Number::checked_sub),
        };
        match (a.eval(item)?, b.eval(item)?) {
            (V::N(x), V::N(y)) => op(&x, &y).map(V::N).map_err(Error::validation),
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
    /// `DELETE path value`: removes elements of a set; an emptied set is removed.
    Delete(Path, AttributeValue),
}

impl UpdateAction {
    /// The path the action writes.
    pub fn path(&self) -> &Path {
        match self {
            UpdateAction::Set(p, _) | UpdateAction::Remove(p) => p,
            UpdateAction::Add(p, _) | UpdateAction::Delete(p, _) => p,
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
    pub fn set_expr(self, path: impl Into<Path>, value: impl Into<SetValue>) -> Update {
        self.with(UpdateAction::Set(path.into(), value.into()))
    }
    /// Adds `REMOVE path`.
    #[must_use]
    pub fn remove(self, path: impl Into<Path>) -> Update {
        self.with(UpdateAction::Remove(path.into()))
    }
    /// Adds `ADD path value`.
    #[must_use]
    pub fn add(self, path: impl Into<Path>, value: AttributeValue) -> Update {
        self.with(UpdateAction::Add(path.into(), value))
    }
    /// Adds `DELETE path value`.
    #[must_use]
    pub fn delete(self, path: impl Into<Path>, value: AttributeValue) -> Update {
        self.with(UpdateAction::Delete(path.into(), value))
    }
    fn with(mut self, action: UpdateAction) -> Update {
        self.actions.push(action);
        self
    }

    /// The static checks DynamoDB makes of an `UpdateExpression`: not empty; well-formed paths,
    /// pairwise neither overlapping nor conflicting; valid literals; at most 300 operators and
    /// functions; literal operands of `+`/`-` are N and of `list_append` L; no `list_append`
    /// directly inside `list_append`; `ADD` takes N or a set, `DELETE` a set.
    pub fn validate(&self) -> Result<()> {
        const KIND: &str = "UpdateExpression";
        if self.actions.is_empty() {
            return Err(invalid(KIND, "The expression can not be empty;"));
        }
        let mut operators = 0;
        for action in &self.actions {
            action.path().check(KIND)?;
            let (name, value, accepted) = match action {
                UpdateAction::Set(_, value) => {
                    operators += check_set_value(value, KIND)?;
                    continue;
                }
                UpdateAction::Remove(_) => continue,
                UpdateAction::Add(_, v) => (
                    "ADD",
                    v,
                    matches!(v, V::N(_) | V::Ss(_) | V::Ns(_) | V::Bs(_)),
                ),
                UpdateAction::Delete(_, v) => {
                    ("DELETE", v, matches!(v, V::Ss(_) | V::Ns(_) | V::Bs(_)))
                }
            };
            check_literal(value)?;
            if !accepted {
                let type_name = match value.value_type() {
                    ValueType::S => "STRING",
                    ValueType::N => "NUMBER",
                    ValueType::B => "BINARY",
                    ValueType::Bool => "BOOLEAN",
                    ValueType::L => "LIST",
                    ValueType::M => "MAP",
                    other => other.name(),
                };
                let what = format!("{WRONG_OPERAND}: {name}, operand type: {type_name}");
                return Err(invalid(KIND, what));
            }
        }
        check_operator_count(KIND, operators)?;
        let targets: Vec<&Path> = self.actions.iter().map(UpdateAction::path).collect();
        check_overlaps(&targets, KIND)
    }

    /// The item after the update. [`validate`](Update::validate)s, evaluates every operand
    /// against the original `item` (`None`: no item yet; the update creates one), then writes:
    /// `SET`/`ADD`/`DELETE` results in path order, so that appends past the end of a list land
    /// in index order, then removals from the last position backwards, so that indexes keep
    /// naming the original elements. Item limits (size, nesting, keys) are the caller's to check.
    pub fn apply(&self, item: Option<&Item>) -> Result<Item> {
        self.validate()?;
        let original = item.cloned().unwrap_or_default();
        let (mut writes, mut removals) = (Vec::new(), Vec::new());
        for action in &self.actions {
            let (path, old) = (action.path(), action.path().resolve(&original));
            match action {
                UpdateAction::Set(_, value) => writes.push((path, value.eval(&original)?)),
                UpdateAction::Add(_, value) => writes.push((path, add(old, value)?)),
                UpdateAction::Delete(_, value) => match delete(old, value)? {
                    Some(rest) => writes.push((path, rest)),
                    None => removals.push(path),
                },
                UpdateAction::Remove(_) => removals.push(path),
            }
        }
        // A removal is decided on the original item, where its indexes point: a missing target
        // is a no-op, a missing parent an error — unless the whole item is missing, where
        // DynamoDB ignores it.
        let mut targets = Vec::new();
        for path in removals {
            if path.resolve(&original).is_some() {
                targets.push(path);
            } else if item.is_some() && !parent_accepts(&original, path) {
                return Err(Error::validation(BAD_PATH));
            }
        }
        let mut new = original;
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

    /// The paths the update writes, in action order: project the old or new item on them for
    /// `ReturnValues` `UPDATED_OLD`/`UPDATED_NEW`.
    pub fn updated_paths(&self) -> Vec<Path> {
        self.actions.iter().map(|a| a.path().clone()).collect()
    }
}

/// Checks a `SET` right-hand side; returns its operator count (`+`, `-`, functions).
fn check_set_value(value: &SetValue, kind: &str) -> Result<usize> {
    let (exprs, operator) = match value {
        SetValue::Operand(e) => (vec![e], None),
        SetValue::Plus(a, b) => (vec![a, b], Some("+")),
        SetValue::Minus(a, b) => (vec![a, b], Some("-")),
    };
    let literal = |e: &&&ValueExpr| matches!(e, ValueExpr::Value(v) if !matches!(v, V::N(_)));
    if let (Some(op), Some(ValueExpr::Value(v))) = (operator, exprs.iter().find(literal)) {
        return Err(wrong_operand(kind, op, v.value_type().name()));
    }
    let mut count = usize::from(operator.is_some());
    // (expression, is it an argument of list_append); a stack because nesting is unbounded.
    let mut stack: Vec<(&ValueExpr, bool)> = exprs.into_iter().map(|e| (e, false)).collect();
    while let Some((expr, in_list_append)) = stack.pop() {
        match expr {
            ValueExpr::Path(p) => p.check(kind)?,
            ValueExpr::Value(v) if in_list_append && !matches!(v, V::L(_)) => {
                return Err(wrong_operand(kind, "list_append", v.value_type().name()));
            }
            ValueExpr::Value(v) => check_literal(v)?,
            ValueExpr::IfNotExists(p, default) => {
                p.check(kind)?;
                stack.push((default, false));
            }
            ValueExpr::ListAppend(..) if in_list_append => {
                let what = "The function is not allowed to be used this way in an expression";
                return Err(invalid(kind, format!("{what}; function: list_append")));
            }
            ValueExpr::ListAppend(a, b) => stack.extend([(&**a, true), (&**b, true)]),
        }
        count += usize::from(matches!(
            expr,
            ValueExpr::IfNotExists(..) | ValueExpr::ListAppend(..)
        ));
    }
    Ok(count)
}

fn add(existing: Option<&AttributeValue>, value: &AttributeValue) -> Result<AttributeValue> {
    match (existing, value) {
        (None, V::N(_) | V::Ss(_) | V::Ns(_) | V::Bs(_)) => Ok(value.clone()),
        (Some(V::N(a)), V::N(b)) => a.checked_add(b).map(V::N).map_err(Error::validation),
        (Some(V::Ss(a)), V::Ss(b)) => Ok(V::Ss(a | b)),
        (Some(V::Ns(a)), V::Ns(b)) => Ok(V::Ns(a | b)),
        (Some(V::Bs(a)), V::Bs(b)) => Ok(V::Bs(a | b)),
        _ => Err(Error::validation(BAD_TYPE)),
    }
}

/// What remains of a set after `DELETE`; `None` when nothing remains (DynamoDB has no empty
/// sets) or nothing was there.
fn delete(existing: Option<&AttributeValue>, value: &AttributeValue) -> Result<Option<V>> {
    fn rest<T: Ord + Clone>(
        a: &BTreeSet<T>,
        b: &BTreeSet<T>,
        f: fn(BTreeSet<T>) -> V,
    ) -> Option<V> {
        Some(a - b).filter(|r| !r.is_empty()).map(f)
    }
    match (existing, value) {
        (None, _) => Ok(None),
        (Some(V::Ss(a)), V::Ss(b)) => Ok(rest(a, b, V::Ss)),
        (Some(V::Ns(a)), V::Ns(b)) => Ok(rest(a, b, V::Ns)),
        (Some(V::Bs(a)), V::Bs(b)) => Ok(rest(a, b, V::Bs)),
        _ => Err(Error::validation(BAD_TYPE)),
    }
}

/// Whether the parent of `path` can hold its last step: the item for a top-level name, a map
/// for a key, a list for an index.
fn parent_accepts(item: &Item, path: &Path) -> bool {
    match path.0.split_last() {
        Some((_, [])) => true,
        Some((last, init)) => matches!(
            (Path(init.to_vec()).resolve(item), last),
            (Some(V::M(_)), PathElement::Attribute(_)) | (Some(V::L(_)), PathElement::Index(_))
        ),
        None => false,
    }
}

/// The value holding the last step of a nested `path`, and that step.
fn parent_mut<'a>(item: &'a mut Item, path: &'a Path) -> Option<(&'a mut V, &'a PathElement)> {
    let (PathElement::Attribute(name), rest) = path.0.split_first()? else {
        return None;
    };
    let (last, middle) = rest.split_last()?;
    let mut node = item.get_mut(name)?;
    for step in middle {
        node = match (step, node) {
            (PathElement::Attribute(key), V::M(map)) => map.get_mut(key)?,
            (PathElement::Index(i), V::L(list)) => list.get_mut(*i)?,
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
        Some((V::M(map), PathElement::Attribute(key))) => drop(map.insert(key.clone(), value)),
        Some((V::L(list), PathElement::Index(i))) => match list.get_mut(*i) {
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
        Some((V::M(map), PathElement::Attribute(key))) => drop(map.remove(key)),
        Some((V::L(list), PathElement::Index(i))) if *i < list.len() => drop(list.remove(*i)),
        _ => {}
    }
}

/// A projection being built: the whole value, or the chosen keys or indexes of it.
enum Projected<'a> {
    Whole(&'a AttributeValue),
    Map(BTreeMap<&'a str, Projected<'a>>),
    List(BTreeMap<usize, Projected<'a>>),
}

impl<'a> Projected<'a> {
    fn before(next: Option<&PathElement>) -> Projected<'a> {
        match next {
            Some(PathElement::Index(_)) => Projected::List(BTreeMap::new()),
            _ => Projected::Map(BTreeMap::new()),
        }
    }

    fn insert(&mut self, rest: &'a [PathElement], value: &'a AttributeValue) {
        let mut node = self;
        for (k, step) in rest.iter().enumerate() {
            let next = || Projected::before(rest.get(k + 1));
            node = match (node, step) {
                (Projected::Map(m), PathElement::Attribute(key)) => {
                    m.entry(key).or_insert_with(next)
                }
                (Projected::List(l), PathElement::Index(i)) => l.entry(*i).or_insert_with(next),
                _ => return, // already projected whole by a shorter path
            };
        }
        *node = Projected::Whole(value);
    }

    fn build(self) -> AttributeValue {
        match self {
            Projected::Whole(v) => v.clone(),
            Projected::Map(m) => V::M(m.into_iter().map(|(k, v)| (k.into(), v.build())).collect()),
            // Picked elements come back compacted, in index order, as DynamoDB returns them.
            Projected::List(l) => V::L(l.into_values().map(Projected::build).collect()),
        }
    }
}

/// `ProjectionExpression` semantics: a sparse copy of `item` with only the elements at `paths`
/// (nesting kept, missing paths skipped). List elements picked by index come back compacted in
/// index order: `l[2], l[0]` of `[x, y, z]` gives `[x, z]`. Overlapping paths are merged here;
/// [`validate_projection`] rejects them, as DynamoDB does.
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut root: BTreeMap<&str, Projected> = BTreeMap::new();
    for path in paths {
        let (Some(value), Some((PathElement::Attribute(name), rest))) =
            (path.resolve(item), path.0.split_first())
        else {
            continue;
        };
        let top = root
            .entry(name)
            .or_insert_with(|| Projected::before(rest.first()));
        top.insert(rest, value);
    }
    root.into_iter()
        .map(|(name, p)| (name.into(), p.build()))
        .collect()
}

/// The static checks DynamoDB makes of a `ProjectionExpression`: well-formed paths, pairwise
/// neither overlapping nor conflicting.
pub fn validate_projection(paths: &[Path]) -> Result<()> {
    const KIND: &str = "ProjectionExpression";
    paths.iter().try_for_each(|p| p.check(KIND))?;
    check_overlaps(&paths.iter().collect::<Vec<_>>(), KIND)
}

#[cfg(test)]
#[path = "expr_tests.rs"]
mod tests;
