//! DynamoDB's legacy conditional parameters, which older SDK code and many CLI scripts still
//! send: `Expected` with `ConditionalOperator`, `KeyConditions`, `QueryFilter`, `ScanFilter`,
//! `AttributesToGet` and `AttributeUpdates`. Each maps onto the typed form the expression
//! strings map onto (a [`Condition`], a [`KeyCondition`], projection paths, an [`Update`]), so
//! the engine has one evaluation path; an input may not mix a legacy parameter with its
//! expression counterpart, as in DynamoDB.
//!
//! How each maps, from the developer guide's pages on the legacy parameters:
//!
//! | Legacy | Typed form |
//! |---|---|
//! | `EQ`, `NE`, `LT`, `LE`, `GT`, `GE` | `a = v`, `a <> v`, … |
//! | `NULL` / `NOT_NULL` | `attribute_not_exists(a)` / `attribute_exists(a)` |
//! | `CONTAINS` / `NOT_CONTAINS` | `contains(a, v)` / `attribute_exists(a) AND NOT contains(a, v)` |
//! | `BEGINS_WITH`, `BETWEEN`, `IN` | `begins_with(a, v)`, `a BETWEEN v1 AND v2`, `a IN (v…)` |
//! | `Expected` `{Value: v}` / `{Exists: false}` | `a = v` / `attribute_not_exists(a)` |
//! | several conditions | joined by `ConditionalOperator` (`AND` by default) |
//! | `AttributeUpdates` `PUT v` / `DELETE` / `DELETE set` | `SET a = v` / `REMOVE a` / `DELETE a set` |
//! | `AttributeUpdates` `ADD` a number or set / a list | `ADD a v` / `SET a = list_append(if_not_exists(a, []), v)` |
//! | `AttributesToGet` | one top-level path per name |

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::items::{KeyCondition, SortKeyOp};
use crate::error::{Error, Result};
use crate::expr::{
    Comparator, Condition, Operand, Path, SetValue, Update, UpdateAction, ValueExpr,
};
use crate::model::value::{check_attribute_name_size, AttributeValue};

/// A legacy comparison (`ComparisonOperator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ComparisonOperator {
    /// Equal to the one value.
    Eq,
    /// Not equal to the one value (true when the attribute is missing).
    Ne,
    /// Less than or equal to the one value.
    Le,
    /// Less than the one value.
    Lt,
    /// Greater than or equal to the one value.
    Ge,
    /// Greater than the one value.
    Gt,
    /// The attribute exists.
    NotNull,
    /// The attribute does not exist.
    Null,
    /// A substring, subsequence or set member.
    Contains,
    /// Not a substring, subsequence or set member.
    NotContains,
    /// Starts with the one value.
    BeginsWith,
    /// Equal to one of the values.
    In,
    /// Between the two values, inclusive.
    Between,
}

impl ComparisonOperator {
    fn name(self) -> &'static str {
        use ComparisonOperator::*;
        match self {
            Eq => "EQ",
            Ne => "NE",
            Le => "LE",
            Lt => "LT",
            Ge => "GE",
            Gt => "GT",
            NotNull => "NOT_NULL",
            Null => "NULL",
            Contains => "CONTAINS",
            NotContains => "NOT_CONTAINS",
            BeginsWith => "BEGINS_WITH",
            In => "IN",
            Between => "BETWEEN",
        }
    }

    /// Whether `count` values suit the operator.
    fn takes(self, count: usize) -> bool {
        use ComparisonOperator::*;
        match self {
            NotNull | Null => count == 0,
            In => count > 0,
            Between => count == 2,
            _ => count == 1,
        }
    }
}

/// One legacy condition on an attribute (`Condition` in the API model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct LegacyCondition {
    /// The comparison.
    pub comparison_operator: ComparisonOperator,
    /// Its values: none, one, two or several, as the operator takes.
    #[serde(default)]
    pub attribute_value_list: Vec<AttributeValue>,
}

impl LegacyCondition {
    /// `comparison_operator` with `values`.
    pub fn new(
        comparison_operator: ComparisonOperator,
        values: impl IntoIterator<Item = AttributeValue>,
    ) -> LegacyCondition {
        LegacyCondition {
            comparison_operator,
            attribute_value_list: values.into_iter().collect(),
        }
    }
}

/// One entry of `Expected`: the old `Value`/`Exists` form or a [`LegacyCondition`]'s fields.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ExpectedAttributeValue {
    /// The value the attribute must equal (with `Exists` true or absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<AttributeValue>,
    /// `false`: the attribute must not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    /// A comparison instead of `Value`/`Exists`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison_operator: Option<ComparisonOperator>,
    /// The comparison's values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_value_list: Option<Vec<AttributeValue>>,
}

impl ExpectedAttributeValue {
    /// `{Value: value}`: the attribute equals `value`.
    pub fn value(value: AttributeValue) -> ExpectedAttributeValue {
        ExpectedAttributeValue {
            value: Some(value),
            ..Default::default()
        }
    }

    /// `{Exists: false}`: the attribute does not exist. (`{Exists: true}` needs a `Value`.)
    pub fn exists(exists: bool) -> ExpectedAttributeValue {
        ExpectedAttributeValue {
            exists: Some(exists),
            ..Default::default()
        }
    }

    /// `{ComparisonOperator, AttributeValueList}`.
    pub fn compare(
        op: ComparisonOperator,
        values: impl IntoIterator<Item = AttributeValue>,
    ) -> ExpectedAttributeValue {
        ExpectedAttributeValue {
            comparison_operator: Some(op),
            attribute_value_list: Some(values.into_iter().collect()),
            ..Default::default()
        }
    }
}

/// How several legacy conditions combine (`ConditionalOperator`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ConditionalOperator {
    /// Every condition holds (the default).
    #[default]
    And,
    /// At least one holds.
    Or,
}

/// What an `AttributeUpdates` entry does (`AttributeAction`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AttributeAction {
    /// Set the attribute to the value (the default).
    #[default]
    Put,
    /// Add a number, set members, or list elements.
    Add,
    /// Remove the attribute, or the given members from its set.
    Delete,
}

/// One entry of `AttributeUpdates`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct AttributeValueUpdate {
    /// The value; absent only with `DELETE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<AttributeValue>,
    /// What to do.
    #[serde(default)]
    pub action: AttributeAction,
}

impl AttributeValueUpdate {
    /// `action` with `value` (`None` only for `DELETE`, which then removes the attribute).
    pub fn new(action: AttributeAction, value: Option<AttributeValue>) -> AttributeValueUpdate {
        AttributeValueUpdate { value, action }
    }
}

fn invalid(what: impl std::fmt::Display) -> Error {
    Error::validation(format!("One or more parameter values were invalid: {what}"))
}

/// DynamoDB's refusal of a legacy parameter beside its expression counterpart.
pub(crate) fn mixed(legacy: &str, expression: &str) -> Error {
    Error::validation(format!(
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{legacy}}} Expression parameters: {{{expression}}}"
    ))
}

/// DynamoDB's refusal of an `AttributeValueList` whose length `op` does not take. Every
/// legacy parameter (`Expected`, `KeyConditions`, `QueryFilter`, `ScanFilter`) names the
/// operator, even for an empty list (Alternator's `test_query_filter_between_needs_two` and
/// `test_key_conditions_partition_one`, which pass on DynamoDB).
fn argument_count(op: ComparisonOperator) -> Error {
    invalid(format!(
        "Invalid number of argument(s) for the {} ComparisonOperator",
        op.name()
    ))
}

/// Refuses values of mixed types, or of a type `op` cannot compare.
fn check_operands(op: ComparisonOperator, values: &[AttributeValue]) -> Result<()> {
    use ComparisonOperator as Op;
    // Ordered comparisons, BEGINS_WITH, BETWEEN, IN and CONTAINS take a string, number or
    // binary. EQ and NE take any value: the guide's own example compares with a BOOL.
    let scalar = |v: &&AttributeValue| {
        matches!(
            v,
            AttributeValue::S(_) | AttributeValue::N(_) | AttributeValue::B(_)
        )
    };
    if values
        .windows(2)
        .any(|w| w[0].value_type() != w[1].value_type())
    {
        return Err(invalid(
            "AttributeValues inside AttributeValueList must be of same type",
        ));
    }
    // BEGINS_WITH takes a string or binary only, as its expression form does.
    let refused = |v: &&AttributeValue| match op {
        Op::Eq | Op::Ne => false,
        Op::BeginsWith => !matches!(v, AttributeValue::S(_) | AttributeValue::B(_)),
        _ => !scalar(v),
    };
    if let Some(v) = values.iter().find(refused) {
        let (name, type_name) = (op.name(), v.value_type().name());
        return Err(invalid(format!(
            "ComparisonOperator {name} is not valid for {type_name} AttributeValue type"
        )));
    }
    Ok(())
}

/// The typed condition of one legacy comparison on `name`.
fn compare(name: &str, op: ComparisonOperator, values: Vec<AttributeValue>) -> Result<Condition> {
    use ComparisonOperator as Op;
    let path = Path::attr(name);
    check_operands(op, &values)?;
    // The caller checked the count against the operator.
    let mut values = values.into_iter().map(Operand::Value);
    let mut one = || {
        values
            .next()
            .unwrap_or(Operand::Value(AttributeValue::Null))
    };
    let at = Operand::Path(path.clone());
    Ok(match op {
        Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let comparator = match op {
                Op::Eq => Comparator::Eq,
                Op::Ne => Comparator::Ne,
                Op::Lt => Comparator::Lt,
                Op::Le => Comparator::Le,
                Op::Gt => Comparator::Gt,
                _ => Comparator::Ge,
            };
            Condition::Compare {
                left: at,
                op: comparator,
                right: one(),
            }
        }
        Op::NotNull => Condition::AttributeExists(path),
        Op::Null => Condition::AttributeNotExists(path),
        Op::Contains => Condition::Contains(at, one()),
        // DynamoDB's NOT_CONTAINS fails on a missing attribute, as CONTAINS does.
        Op::NotContains => {
            Condition::AttributeExists(path).and(Condition::Contains(at, one()).not())
        }
        Op::BeginsWith => Condition::BeginsWith(at, one()),
        Op::Between => {
            let (low, high) = (one(), one());
            Condition::Between {
                value: at,
                low,
                high,
            }
        }
        Op::In => Condition::In {
            value: at,
            list: values.collect(),
        },
    })
}

/// `QueryFilter` or `ScanFilter`: its conditions joined by `operator`, in name order.
pub(crate) fn filter(
    conditions: &BTreeMap<String, LegacyCondition>,
    operator: Option<ConditionalOperator>,
) -> Result<Option<Condition>> {
    let mut terms = Vec::new();
    for (name, condition) in conditions {
        let op = condition.comparison_operator;
        if !op.takes(condition.attribute_value_list.len()) {
            return Err(argument_count(op));
        }
        terms.push(compare(name, op, condition.attribute_value_list.clone())?);
    }
    Ok(join(terms, operator))
}

/// `Expected`: each entry's condition, joined by `operator`.
pub(crate) fn expected(
    entries: &BTreeMap<String, ExpectedAttributeValue>,
    operator: Option<ConditionalOperator>,
) -> Result<Option<Condition>> {
    let mut terms = Vec::new();
    for (name, entry) in entries {
        let term = match (entry.comparison_operator, &entry.attribute_value_list) {
            (Some(_), _) if entry.exists.is_some() => {
                return Err(invalid(format!(
                    "Exists and ComparisonOperator cannot be used together for Attribute: {name}"
                )));
            }
            (Some(_), Some(_)) if entry.value.is_some() => {
                return Err(invalid(format!(
                    "Value and AttributeValueList cannot be used together for Attribute: {name}"
                )));
            }
            (Some(op), list) => {
                let values: Vec<AttributeValue> = match (list, &entry.value) {
                    (Some(list), _) => list.clone(),
                    (None, Some(v)) => vec![v.clone()],
                    (None, None) => Vec::new(),
                };
                if !op.takes(values.len()) {
                    return Err(argument_count(op));
                }
                compare(name, op, values)?
            }
            (None, Some(_)) => {
                return Err(invalid(format!(
                    "AttributeValueList can only be used with a ComparisonOperator for Attribute: {name}"
                )));
            }
            (None, None) => match (entry.exists, &entry.value) {
                (Some(false), Some(_)) => {
                    return Err(invalid(format!(
                        "Value cannot be used when Exists is false for Attribute: {name}"
                    )));
                }
                (Some(false), None) => Condition::AttributeNotExists(Path::attr(name.as_str())),
                (exists, None) => {
                    let shown = exists.map_or("null".to_owned(), |e| e.to_string());
                    return Err(invalid(format!(
                        "Value must be provided when Exists is {shown} for Attribute: {name}"
                    )));
                }
                (_, Some(v)) => compare(name, ComparisonOperator::Eq, vec![v.clone()])?,
            },
        };
        terms.push(term);
    }
    Ok(join(terms, operator))
}

/// Joins conditions left to right, as DynamoDB evaluates them.
fn join(terms: Vec<Condition>, operator: Option<ConditionalOperator>) -> Option<Condition> {
    let or = operator == Some(ConditionalOperator::Or);
    terms
        .into_iter()
        .reduce(|a, b| if or { a.or(b) } else { a.and(b) })
}

/// `KeyConditions`: one condition per key attribute; only the operators a key can use.
pub(crate) fn key_conditions(
    conditions: &BTreeMap<String, LegacyCondition>,
) -> Result<KeyCondition> {
    use ComparisonOperator as Op;
    let mut out = KeyCondition::default();
    for (name, condition) in conditions {
        let op = condition.comparison_operator;
        if !op.takes(condition.attribute_value_list.len()) {
            return Err(argument_count(op));
        }
        // The legacy operand check, as for a filter: BEGINS_WITH on a number is refused
        // naming the operator and the type, before the key's own type is looked at.
        check_operands(op, &condition.attribute_value_list)?;
        let mut values = condition.attribute_value_list.iter().cloned();
        let mut one = || values.next().unwrap_or(AttributeValue::Null);
        let key_op = match op {
            Op::Eq => SortKeyOp::Eq(one()),
            Op::Lt => SortKeyOp::Lt(one()),
            Op::Le => SortKeyOp::Le(one()),
            Op::Gt => SortKeyOp::Gt(one()),
            Op::Ge => SortKeyOp::Ge(one()),
            Op::BeginsWith => SortKeyOp::BeginsWith(one()),
            Op::Between => {
                let low = one();
                SortKeyOp::Between(low, one())
            }
            _ => {
                return Err(Error::validation(
                    "Attempted conditional constraint is not an indexable operation",
                ))
            }
        };
        out.conditions.push((name.clone(), key_op));
    }
    Ok(out)
}

/// `AttributesToGet`: one top-level path per name; at least one name, none twice.
pub(crate) fn attributes_to_get(names: &[String]) -> Result<Vec<Path>> {
    if names.is_empty() {
        return Err(Error::validation("1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1"));
    }
    for name in names {
        check_attribute_name_size(name)?;
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = names.iter().find(|n| !seen.insert(*n)) {
        return Err(invalid(format!(
            "Duplicate value in attribute name: {twice}"
        )));
    }
    Ok(names.iter().map(|n| Path::attr(n.as_str())).collect())
}

/// `AttributeUpdates`: one update action per attribute.
pub(crate) fn attribute_updates(
    updates: &BTreeMap<String, AttributeValueUpdate>,
) -> Result<Update> {
    use AttributeValue as V;
    let mut update = Update::new();
    for (name, entry) in updates {
        let path = Path::attr(name.as_str());
        let action = match (entry.action, &entry.value) {
            (AttributeAction::Delete, None) => UpdateAction::Remove(path),
            (_, None) => {
                return Err(invalid(
                    "Only DELETE action is allowed when no attribute value is specified",
                ))
            }
            (AttributeAction::Put, Some(v)) => {
                UpdateAction::Set(path, SetValue::Operand(ValueExpr::Value(v.clone())))
            }
            (AttributeAction::Delete, Some(v @ (V::Ss(_) | V::Ns(_) | V::Bs(_)))) => {
                UpdateAction::Delete(path, v.clone())
            }
            (AttributeAction::Delete, Some(v)) => {
                let type_name = v.value_type().name();
                return Err(invalid(format!(
                    "DELETE action with value is not supported for the type {type_name}"
                )));
            }
            (AttributeAction::Add, Some(v @ V::L(_))) => {
                let existing = ValueExpr::if_not_exists(path.clone(), V::L(Vec::new()));
                let appended = ValueExpr::list_append(existing, v.clone());
                UpdateAction::Set(path, SetValue::Operand(appended))
            }
            (AttributeAction::Add, Some(v @ (V::N(_) | V::Ss(_) | V::Ns(_) | V::Bs(_)))) => {
                UpdateAction::Add(path, v.clone())
            }
            (AttributeAction::Add, Some(v)) => {
                let type_name = v.value_type().name();
                return Err(invalid(format!(
                    "ADD action is not supported for the type {type_name}"
                )));
            }
        };
        update.actions.push(action);
    }
    Ok(update)
}

/// An update from `AttributeUpdates` failing as its expression counterpart would, worded as
/// DynamoDB words it for `AttributeUpdates`: an `ADD` or `DELETE` whose value does not fit the
/// attribute's type (a number added to a set, a set deleted from a map) is "Type mismatch for
/// attribute to update", not the update expression's "incorrect data type".
pub(crate) fn attribute_updates_error(error: Error) -> Error {
    match error {
        Error::Validation(message) if message == crate::expr::BAD_TYPE => {
            Error::validation("Type mismatch for attribute to update")
        }
        other => other,
    }
}

/// The legacy parameters of a request. Which an operation takes is DynamoDB's rule: one it does
/// not take is refused.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct LegacyParameters {
    /// `Expected` (PutItem, UpdateItem, DeleteItem): conditions on the existing item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<BTreeMap<String, ExpectedAttributeValue>>,
    /// `ConditionalOperator`: how `Expected`, `QueryFilter` or `ScanFilter` entries combine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditional_operator: Option<ConditionalOperator>,
    /// `KeyConditions` (Query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_conditions: Option<BTreeMap<String, LegacyCondition>>,
    /// `QueryFilter` (Query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_filter: Option<BTreeMap<String, LegacyCondition>>,
    /// `ScanFilter` (Scan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_filter: Option<BTreeMap<String, LegacyCondition>>,
    /// `AttributesToGet` (GetItem, Query, Scan, BatchGetItem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes_to_get: Option<Vec<String>>,
    /// `AttributeUpdates` (UpdateItem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_updates: Option<BTreeMap<String, AttributeValueUpdate>>,
}

/// One legacy parameter, to say which an operation takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Legacy {
    Expected,
    KeyConditions,
    QueryFilter,
    ScanFilter,
    AttributesToGet,
    AttributeUpdates,
}

/// What the legacy parameters of one request map to.
#[derive(Default)]
pub(crate) struct LegacyParsed {
    pub condition: Option<Condition>,
    pub update: Option<Update>,
    pub key_condition: Option<KeyCondition>,
    pub filter: Option<Condition>,
    pub projection: Option<Vec<Path>>,
}

impl LegacyParameters {
    /// Whether no legacy parameter is given.
    pub fn is_empty(&self) -> bool {
        *self == LegacyParameters::default()
    }

    /// Maps every parameter given. `operation` names the request in the refusal of one it
    /// does not take (`takes`); one given beside an expression string of `expressions` is
    /// DynamoDB's "Can not use both" refusal.
    pub(crate) fn parse(
        &self,
        operation: &str,
        takes: &[Legacy],
        expressions: &crate::api::expressions::Expressions,
    ) -> Result<LegacyParsed> {
        let mut out = LegacyParsed::default();
        if *self == LegacyParameters::default() {
            return Ok(out);
        }
        let given = [
            (Legacy::Expected, "Expected", self.expected.is_some()),
            (
                Legacy::KeyConditions,
                "KeyConditions",
                self.key_conditions.is_some(),
            ),
            (
                Legacy::QueryFilter,
                "QueryFilter",
                self.query_filter.is_some(),
            ),
            (Legacy::ScanFilter, "ScanFilter", self.scan_filter.is_some()),
            (
                Legacy::AttributesToGet,
                "AttributesToGet",
                self.attributes_to_get.is_some(),
            ),
            (
                Legacy::AttributeUpdates,
                "AttributeUpdates",
                self.attribute_updates.is_some(),
            ),
        ];
        for (legacy, name, is_given) in given {
            if is_given && !takes.contains(&legacy) {
                return Err(Error::validation(format!(
                    "{operation} does not take the parameter {name}"
                )));
            }
        }
        // DynamoDB refuses any legacy parameter beside any expression string, not only beside
        // its counterpart (KeyConditions only beside a KeyConditionExpression), and names
        // every one of both sides, in its own order.
        let with_key_expression = expressions.key_condition_expression.is_some();
        let legacy: Vec<&str> = [
            ("AttributesToGet", self.attributes_to_get.is_some()),
            ("AttributeUpdates", self.attribute_updates.is_some()),
            ("Expected", self.expected.is_some()),
            ("QueryFilter", self.query_filter.is_some()),
            ("ScanFilter", self.scan_filter.is_some()),
            ("ConditionalOperator", self.conditional_operator.is_some()),
            (
                "KeyConditions",
                self.key_conditions.is_some() && with_key_expression,
            ),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect();
        let strings: Vec<&str> = [
            ("ProjectionExpression", &expressions.projection_expression),
            ("FilterExpression", &expressions.filter_expression),
            (
                "KeyConditionExpression",
                &expressions.key_condition_expression,
            ),
            ("UpdateExpression", &expressions.update_expression),
            ("ConditionExpression", &expressions.condition_expression),
        ]
        .into_iter()
        .filter_map(|(name, string)| string.is_some().then_some(name))
        .collect();
        if !legacy.is_empty() && !strings.is_empty() {
            return Err(mixed(&legacy.join(", "), &strings.join(", ")));
        }
        if self.conditional_operator.is_some() {
            let conditions = [
                self.expected.as_ref().map(BTreeMap::len),
                self.query_filter.as_ref().map(BTreeMap::len),
                self.scan_filter.as_ref().map(BTreeMap::len),
            ];
            let conditions = conditions.into_iter().flatten().max().unwrap_or(0);
            match conditions {
                0 => {
                    return Err(Error::validation(
                        "ConditionalOperator cannot be used without Filter or Expected",
                    ))
                }
                1 => return Err(Error::validation(
                    "ConditionalOperator can only be used when Filter or Expected has two or more elements",
                )),
                _ => {}
            }
        }
        let operator = self.conditional_operator;
        if let Some(entries) = &self.expected {
            out.condition = expected(entries, operator)?;
        }
        if let Some(conditions) = self.query_filter.as_ref().or(self.scan_filter.as_ref()) {
            out.filter = filter(conditions, operator)?;
        }
        if let Some(conditions) = &self.key_conditions {
            out.key_condition = Some(key_conditions(conditions)?);
        }
        if let Some(names) = &self.attributes_to_get {
            out.projection = Some(attributes_to_get(names)?);
        }
        if let Some(updates) = &self.attribute_updates {
            out.update = Some(attribute_updates(updates)?);
        }
        Ok(out)
    }
}

/// Generates the builder methods of the legacy parameters an input takes, each setting its
/// field of the input's `legacy`.
macro_rules! legacy_setters {
    ($ty:ident: $($field:ident: $arg:ty),*) => {
        impl $ty {
            $(
                #[doc = concat!("Sets DynamoDB's legacy `", stringify!($field), "` parameter.")]
                pub fn $field(mut self, $field: $arg) -> Self {
                    self.legacy.$field = Some($field);
                    self
                }
            )*
        }
    };
}
pub(crate) use legacy_setters;
