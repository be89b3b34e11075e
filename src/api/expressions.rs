//! The string form of a request's expressions, as DynamoDB takes them, and how each input turns
//! them into its typed fields.
//!
//! Every input that DynamoDB lets carry an expression has an `expressions` field of type
//! [`Expressions`], and builder methods named after DynamoDB's parameters
//! (`condition_expression`, `expression_attribute_value`, …). Before the engine sees a
//! request, its strings are parsed against its one pair of substitution maps and land in the
//! typed fields (`condition`, `update`, `filter`, `projection`, `key_condition`); an entry of
//! the maps no expression used is refused, as DynamoDB refuses it. An input may give an
//! expression as a string or as a typed value, not both: that is a `ValidationException`,
//! as DynamoDB's for mixing an expression with its legacy parameter.

use std::collections::BTreeMap;

use crate::api::setters;
use crate::error::{Error, Result};
use crate::expr::syntax::{ExpressionKind, Substitutions};
use crate::expr::{Condition, Path, Update};
use crate::model::value::Item;

/// A request's expression strings and their `ExpressionAttributeNames` and
/// `ExpressionAttributeValues`. Which strings an operation takes is DynamoDB's rule: a string
/// an operation does not take is refused.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct Expressions {
    /// `ConditionExpression` (PutItem, UpdateItem, DeleteItem, and their transaction actions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition_expression: Option<String>,
    /// `UpdateExpression` (UpdateItem).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_expression: Option<String>,
    /// `KeyConditionExpression` (Query).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_condition_expression: Option<String>,
    /// `FilterExpression` (Query, Scan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_expression: Option<String>,
    /// `ProjectionExpression` (GetItem, Query, Scan, BatchGetItem, TransactGetItems).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection_expression: Option<String>,
    /// `ExpressionAttributeNames`: `#name` to the attribute name it stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression_attribute_names: Option<BTreeMap<String, String>>,
    /// `ExpressionAttributeValues`: `:value` to the value it stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression_attribute_values: Option<Item>,
}

/// What the strings of one request parse to.
#[derive(Default)]
pub(crate) struct Parsed {
    pub condition: Option<Condition>,
    pub update: Option<Update>,
    pub key_condition: Option<Condition>,
    pub filter: Option<Condition>,
    pub projection: Option<Vec<Path>>,
}

setters!(Expressions {
    condition_expression: impl Into<String> => Some(condition_expression.into()),
    update_expression: impl Into<String> => Some(update_expression.into()),
    key_condition_expression: impl Into<String> => Some(key_condition_expression.into()),
    filter_expression: impl Into<String> => Some(filter_expression.into()),
    projection_expression: impl Into<String> => Some(projection_expression.into()),
    expression_attribute_names: BTreeMap<String, String> => Some(expression_attribute_names),
    expression_attribute_values: Item => Some(expression_attribute_values),
});

impl Expressions {
    /// No strings and no maps: set them with the setters.
    pub fn new() -> Expressions {
        Expressions::default()
    }

    /// Whether no string and no map is given.
    pub fn is_empty(&self) -> bool {
        *self == Expressions::default()
    }

    /// Parses every string against the maps. `operation` names the request in the refusal of
    /// a string it does not take, which `takes` lists.
    pub(crate) fn parse(&self, operation: &str, takes: &[ExpressionKind]) -> Result<Parsed> {
        let mut parsed = Parsed::default();
        if self.is_empty() {
            return Ok(parsed);
        }
        let names = self.expression_attribute_names.as_ref();
        let values = self.expression_attribute_values.as_ref();
        // DynamoDB's first checks of the maps: names given with no expression, values given
        // with none of the expressions this operation takes values in (a projection takes
        // none), which it names.
        let value_strings = [
            (ExpressionKind::Update, &self.update_expression),
            (ExpressionKind::Condition, &self.condition_expression),
            (ExpressionKind::Filter, &self.filter_expression),
            (ExpressionKind::KeyCondition, &self.key_condition_expression),
        ];
        let no_value_string = value_strings.iter().all(|(_, source)| source.is_none());
        if names.is_some() && no_value_string && self.projection_expression.is_none() {
            return Err(Error::validation(
                "ExpressionAttributeNames can only be specified when using expressions",
            ));
        }
        let missing: Vec<&str> = (value_strings.iter())
            .filter(|(kind, _)| takes.contains(kind))
            .map(|(kind, _)| kind.parameter())
            .collect();
        if values.is_some() && no_value_string && !missing.is_empty() {
            let verb = if missing.len() > 1 { "are" } else { "is" };
            return Err(Error::validation(format!(
                "ExpressionAttributeValues can only be specified when using expressions: {} {verb} null",
                missing.join(" and ")
            )));
        }
        if names.is_some_and(BTreeMap::is_empty) {
            return Err(Error::validation(
                "ExpressionAttributeNames must not be empty",
            ));
        }
        if values.is_some_and(BTreeMap::is_empty) {
            return Err(Error::validation(
                "ExpressionAttributeValues must not be empty",
            ));
        }
        let mut subs = Substitutions::new(names, values)?;
        let strings = [
            (ExpressionKind::KeyCondition, &self.key_condition_expression),
            (ExpressionKind::Update, &self.update_expression),
            (ExpressionKind::Condition, &self.condition_expression),
            (ExpressionKind::Filter, &self.filter_expression),
            (ExpressionKind::Projection, &self.projection_expression),
        ];
        for (kind, source) in strings {
            let Some(source) = source else { continue };
            if !takes.contains(&kind) {
                return Err(Error::validation(format!(
                    "{operation} does not take the parameter {}",
                    kind.parameter()
                )));
            }
            match kind {
                ExpressionKind::KeyCondition => {
                    parsed.key_condition = Some(subs.condition(kind, source)?)
                }
                ExpressionKind::Update => parsed.update = Some(subs.update(source)?),
                ExpressionKind::Condition => parsed.condition = Some(subs.condition(kind, source)?),
                ExpressionKind::Filter => parsed.filter = Some(subs.condition(kind, source)?),
                ExpressionKind::Projection => parsed.projection = Some(subs.projection(source)?),
            }
        }
        subs.finish()?;
        Ok(parsed)
    }
}

/// The typed value an input ends with: the typed field or the parsed string, never both.
pub(crate) fn one_of<T>(parameter: &str, typed: Option<T>, parsed: Option<T>) -> Result<Option<T>> {
    match (typed, parsed) {
        (Some(_), Some(_)) => Err(Error::validation(format!(
            "Both a typed value and the string {parameter} were given: give one or the other"
        ))),
        (typed, parsed) => Ok(typed.or(parsed)),
    }
}

/// Generates the builder methods of the expression parameters an input takes, each setting
/// its field of the input's `expressions`.
macro_rules! expression_setters {
    ($ty:ident: $($field:ident),*) => {
        impl $ty {
            $(
                #[doc = concat!("Sets DynamoDB's `", stringify!($field), "` parameter (the string form).")]
                pub fn $field(mut self, expression: impl Into<String>) -> Self {
                    self.expressions.$field = Some(expression.into());
                    self
                }
            )*

            /// Adds an entry of `ExpressionAttributeNames`: `#placeholder` stands for `name`.
            pub fn expression_attribute_name(
                mut self,
                placeholder: impl Into<String>,
                name: impl Into<String>,
            ) -> Self {
                self.expressions
                    .expression_attribute_names
                    .get_or_insert_with(Default::default)
                    .insert(placeholder.into(), name.into());
                self
            }

            /// Sets the whole `ExpressionAttributeNames` map.
            pub fn expression_attribute_names(
                mut self,
                names: std::collections::BTreeMap<String, String>,
            ) -> Self {
                self.expressions.expression_attribute_names = Some(names);
                self
            }

            /// Adds an entry of `ExpressionAttributeValues`: `:placeholder` stands for `value`.
            pub fn expression_attribute_value(
                mut self,
                placeholder: impl Into<String>,
                value: impl Into<crate::model::value::AttributeValue>,
            ) -> Self {
                self.expressions
                    .expression_attribute_values
                    .get_or_insert_with(Default::default)
                    .insert(placeholder.into(), value.into());
                self
            }

            /// Sets the whole `ExpressionAttributeValues` map.
            pub fn expression_attribute_values(mut self, values: crate::model::value::Item) -> Self {
                self.expressions.expression_attribute_values = Some(values);
                self
            }
        }
    };
}
pub(crate) use expression_setters;
