//! Update expressions: [`Update`] and its [`UpdateAction`]s, the `SET` right-hand sides
//! [`SetValue`] and [`ValueExpr`], their static validation, and applying them to an item.

use std::collections::BTreeSet;

use super::path::{check_overlaps, Path, PathElement};
use super::{check_literal, check_operator_count, invalid, wrong_operand, WRONG_OPERAND};
use crate::error::{Error, Result};
use crate::model::number::NumberError;
use crate::model::value::AttributeValue as V;
use crate::model::value::{AttributeValue, Item, Number, ValueType};

pub(super) const NONEXISTENT: &str =
    "The provided expression refers to an attribute that does not exist in the item";
pub(crate) const BAD_TYPE: &str = "An operand in the update expression has an incorrect data type";
pub(super) const BAD_PATH: &str =
    "The document path provided in the update expression is invalid for update";

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
            (V::N(x), V::N(y)) => op(&x, &y).map(V::N).map_err(arithmetic_error),
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
        // (No action at all is an `UpdateItem` without an expression, which DynamoDB takes:
        // it makes the item of just its key if there is none. An expression string that is
        // empty is refused where it is parsed.)
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

/// DynamoDB's refusal of a sum or difference it cannot hold. It words a result that needs
/// more than 38 digits (`1E50 - 1`) with its overflow message, as for one out of range
/// (ScyllaDB Alternator's `test_update_expression_plus_imprecise`, which passes on DynamoDB),
/// not with the "significant digits" message it gives such a number written in a request.
fn arithmetic_error(error: NumberError) -> Error {
    match error {
        NumberError::TooPrecise => Error::validation(NumberError::Overflow),
        other => Error::validation(other),
    }
}

fn add(existing: Option<&AttributeValue>, value: &AttributeValue) -> Result<AttributeValue> {
    match (existing, value) {
        (None, V::N(_) | V::Ss(_) | V::Ns(_) | V::Bs(_)) => Ok(value.clone()),
        (Some(V::N(a)), V::N(b)) => a.checked_add(b).map(V::N).map_err(arithmetic_error),
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
