//! Conditions (`ConditionExpression`, `FilterExpression`): [`Condition`], its [`Comparator`]s
//! and [`Operand`]s, their static validation and their evaluation against an item.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::path::Path;
use super::{check_literal, check_operator_count, invalid, wrong_operand, MAX_IN_OPERANDS};
use crate::error::Result;
use crate::model::value::AttributeValue as V;
use crate::model::value::{AttributeValue, Item, Number, ValueType};

/// An operand of a condition: a path into the item, a literal (`:value`), or `size(path)`.
///
/// A `&str` is not an operand: it could mean an attribute or a string, and DynamoDB's
/// `#name`/`:value` syntax tells them apart where Rust cannot. Say which with
/// [`Operand::path`] or [`Operand::value`]; the shorthands of [`Condition`] (`eq`, `between`,
/// …) take a path first and values after, the common case.
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
    /// The value at `path` in the item (`"Genre"` is the attribute named Genre).
    pub fn path(path: impl Into<Path>) -> Operand {
        Operand::Path(path.into())
    }

    /// A literal value (`"Rock"` is the string Rock).
    pub fn value(value: impl Into<AttributeValue>) -> Operand {
        Operand::Value(value.into())
    }

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

    /// The comparator with its operands swapped: `a < b` is `b > a`.
    pub fn flipped(self) -> Comparator {
        use Comparator::*;
        match self {
            Lt => Gt,
            Le => Ge,
            Gt => Lt,
            Ge => Le,
            same => same,
        }
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
///
/// The shorthands take the attribute's path first and literal values after, as most
/// conditions read (`Genre = :rock`); anything else (two attributes, `size(path)`, a literal
/// on the left) is spelled with [`Operand`]s, so a string is never taken for an attribute.
///
/// ```
/// use tidestore::{Comparator, Condition, Item, ItemExt, Operand};
/// let song = Item::new().with("Genre", "Rock").with("Year", 1985).with("Was", "Rock");
/// assert!(Condition::eq("Genre", "Rock").evaluate(Some(&song))?);
/// assert!(Condition::between("Year", 1980, 1989).evaluate(Some(&song))?);
/// // Genre = Was: two attributes.
/// let unchanged = Condition::compare(Operand::path("Genre"), Comparator::Eq, Operand::path("Was"));
/// assert!(unchanged.evaluate(Some(&song))?);
/// # Ok::<(), tidestore::Error>(())
/// ```
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
    /// `attribute_type(operand, type)`: whether the operand's value is of that type.
    /// DynamoDB's guide names a path, but the service takes any operand: a `:value`
    /// (`attribute_type(:v, :type)` tests the literal) or `size(path)` (always `N`).
    AttributeType(Operand, ValueType),
    /// `begins_with(operand, prefix)`: the first operand's string or binary value begins with
    /// the second's. Either may be a path or a literal, as DynamoDB takes them:
    /// `begins_with(:text, a)` holds when the literal begins with attribute `a`'s value.
    BeginsWith(Operand, Operand),
    /// `contains(container, operand)`: the first operand's value is a string holding the
    /// second as a substring, a binary holding it as a byte run, a set holding it as a member
    /// or a list holding it as an element. Either may be a path or a literal:
    /// `contains(:set, a)` holds when the literal set has attribute `a`'s value as a member.
    Contains(Operand, Operand),
    /// `a AND b`.
    And(Box<Condition>, Box<Condition>),
    /// `a OR b`.
    Or(Box<Condition>, Box<Condition>),
    /// `NOT a`.
    Not(Box<Condition>),
}

/// One constructor per comparator: `Condition::eq(path, value)`, ….
macro_rules! comparisons {
    ($($name:ident $op:ident $symbol:literal),*) => {$(
        #[doc = concat!("`path ", $symbol, " :value`: the attribute at `path` against a literal")]
        #[doc = "(a `&str` is a string here). Two paths, or `size(path)`: [`Condition::compare`]."]
        pub fn $name(path: impl Into<Path>, value: impl Into<AttributeValue>) -> Condition {
            let (path, value) = (Operand::Path(path.into()), Operand::Value(value.into()));
            Condition::compare(path, Comparator::$op, value)
        }
    )*};
}

impl Condition {
    comparisons!(eq Eq "=", ne Ne "<>", lt Lt "<", le Le "<=", gt Gt ">", ge Ge ">=");

    /// `left op right`, any operands: [`Operand::path`], [`Operand::value`],
    /// [`Operand::size`], or a [`Path`] or [`AttributeValue`] as they are.
    ///
    /// ```
    /// use tidestore::{AttributeValue, Comparator, Condition, Item, ItemExt, Operand};
    /// let song = Item::new().with("Plays", 10).with("Skips", 3).with("Tags", AttributeValue::ss(["a"])?);
    /// // Plays > Skips: two attributes.
    /// let more_played = Condition::compare(Operand::path("Plays"), Comparator::Gt, Operand::path("Skips"));
    /// assert!(more_played.evaluate(Some(&song))?);
    /// // size(Tags) >= :three
    /// let tagged = Condition::compare(Operand::size("Tags"), Comparator::Ge, Operand::value(3));
    /// assert!(!tagged.evaluate(Some(&song))?);
    /// # Ok::<(), tidestore::Error>(())
    /// ```
    pub fn compare(left: impl Into<Operand>, op: Comparator, right: impl Into<Operand>) -> Self {
        let (left, right) = (left.into(), right.into());
        Condition::Compare { left, op, right }
    }
    /// `path BETWEEN :low AND :high`, bounds included. Other operands: [`Condition::Between`].
    pub fn between(
        path: impl Into<Path>,
        low: impl Into<AttributeValue>,
        high: impl Into<AttributeValue>,
    ) -> Condition {
        let value = Operand::Path(path.into());
        let (low, high) = (Operand::Value(low.into()), Operand::Value(high.into()));
        Condition::Between { value, low, high }
    }
    /// `path IN (:v1, :v2, …)`. Other operands: [`Condition::In`].
    pub fn is_in<V: Into<AttributeValue>>(
        path: impl Into<Path>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let list = values
            .into_iter()
            .map(|v| Operand::Value(v.into()))
            .collect();
        let value = Operand::Path(path.into());
        Condition::In { value, list }
    }
    /// `attribute_exists(path)`.
    pub fn attribute_exists(path: impl Into<Path>) -> Condition {
        Condition::AttributeExists(path.into())
    }
    /// `attribute_not_exists(path)`.
    pub fn attribute_not_exists(path: impl Into<Path>) -> Condition {
        Condition::AttributeNotExists(path.into())
    }
    /// `attribute_type(path, type)`. A literal or `size(path)` tested:
    /// [`Condition::AttributeType`].
    pub fn attribute_type(path: impl Into<Path>, value_type: ValueType) -> Condition {
        Condition::AttributeType(Operand::Path(path.into()), value_type)
    }
    /// `begins_with(path, :prefix)`. Other operands (a path as the prefix, a literal
    /// tested): [`Condition::BeginsWith`].
    ///
    /// ```
    /// use tidestore::{Condition, Item, ItemExt, Operand};
    /// let song = Item::new().with("Title", "Hello").with("Short", "He");
    /// assert!(Condition::begins_with("Title", "Hel").evaluate(Some(&song))?);
    /// // begins_with(Title, Short): two attributes.
    /// let two = Condition::BeginsWith(Operand::path("Title"), Operand::path("Short"));
    /// assert!(two.evaluate(Some(&song))?);
    /// // begins_with(:text, Title): the literal begins with the attribute's value.
    /// let reversed = Condition::BeginsWith(Operand::value("Hello, world"), Operand::path("Title"));
    /// assert!(reversed.evaluate(Some(&song))?);
    /// # Ok::<(), tidestore::Error>(())
    /// ```
    pub fn begins_with(path: impl Into<Path>, prefix: impl Into<AttributeValue>) -> Condition {
        Condition::BeginsWith(Operand::Path(path.into()), Operand::Value(prefix.into()))
    }
    /// `contains(path, :value)`. Other operands (a path as the operand, a literal
    /// container): [`Condition::Contains`].
    pub fn contains(path: impl Into<Path>, value: impl Into<AttributeValue>) -> Condition {
        Condition::Contains(Operand::Path(path.into()), Operand::Value(value.into()))
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

    /// The path `attribute_exists` and `attribute_not_exists` test: the only functions that
    /// take nothing but a path.
    fn function_path(&self) -> Option<&Path> {
        match self {
            Condition::AttributeExists(p) | Condition::AttributeNotExists(p) => Some(p),
            _ => None,
        }
    }

    fn operands(&self) -> Vec<&Operand> {
        match self {
            Condition::Compare { left, right, .. } => vec![left, right],
            Condition::Between { value, low, high } => vec![value, low, high],
            Condition::In { value, list } => std::iter::once(value).chain(list).collect(),
            Condition::AttributeType(o, _) => vec![o],
            Condition::BeginsWith(a, b) | Condition::Contains(a, b) => vec![a, b],
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
    /// with 1 to 100 operands; a literal or `size()` operand of `begins_with`, in either
    /// place, is S or B (so `size()` never is); no function or comparison takes the same path
    /// twice.
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
        let distinct = |function: &str, first: &Operand, second: &Operand| match (first, second) {
            (Operand::Path(first), Operand::Path(p)) if p == first => {
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
                distinct(op.symbol(), left, right)
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
            Condition::BeginsWith(text, prefix) => {
                // DynamoDB checks the type of a literal operand, wherever it stands; an
                // attribute's type is only known at evaluation, where a wrong one is false.
                for operand in [text, prefix] {
                    match operand {
                        Operand::Value(V::S(_) | V::B(_)) | Operand::Path(_) => {}
                        Operand::Value(v) => {
                            let type_name = v.value_type().name();
                            return Err(wrong_operand(kind, "begins_with", type_name));
                        }
                        Operand::Size(_) => return Err(wrong_operand(kind, "begins_with", "N")),
                    }
                }
                distinct("begins_with", text, prefix)
            }
            Condition::Contains(container, operand) => distinct("contains", container, operand),
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
            Condition::AttributeType(o, t) => o.resolve(item).is_some_and(|v| v.value_type() == *t),
            Condition::BeginsWith(text, prefix) => {
                let (text, prefix) = (text.resolve(item), prefix.resolve(item));
                match (text.as_deref(), prefix.as_deref()) {
                    (Some(V::S(s)), Some(V::S(pre))) => s.starts_with(pre.as_str()),
                    (Some(V::B(b)), Some(V::B(pre))) => b.starts_with(pre),
                    _ => false,
                }
            }
            Condition::Contains(container, needle) => {
                let (container, needle) = (container.resolve(item), needle.resolve(item));
                match (container.as_deref(), needle.as_deref()) {
                    (Some(container), Some(needle)) => contains(container, needle),
                    _ => false,
                }
            }
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
