//! An export's `FilterSpecification`, checked and ready to apply: which items an export
//! writes and which of their attributes.
//!
//! The expressions go through the one parser behind Query and Scan
//! ([`Expressions::parse`]), so their syntax, their substitutions (undefined, unused) and
//! their limits (4 KB an expression, 300 operators) are checked as a Query's are, with its
//! messages. The key condition is then matched to the table's key by Query's own rules
//! ([`key_condition_range`]) and kept as the range of encoded keys it selects; a filter
//! beside it may not read a key attribute ([`check_filter_on_non_keys`], Query's message).
//!
//! Applied per item, in three steps, the order DynamoDB's guide gives:
//!
//! ```text
//!   encoded key ── in the key condition's range? ──► item (or image) ── filter true? ──► projected ──► a line
//!        (no key condition: every key)                  (no filter: every item)   (no projection: whole)
//! ```

use std::borrow::Cow;

use crate::api::exports::FilterSpecification;
use crate::api::expressions::Expressions;
use crate::api::items::KeyCondition;
use crate::engine::query::{check_filter_on_non_keys, contains, key_condition_range, KeyRange};
use crate::error::{Error, Result};
use crate::expr::syntax::ExpressionKind;
use crate::expr::{project, Condition, Path, PathElement};
use crate::model::schema::KeyShape;
use crate::model::value::Item;

/// The longest attribute name an export's expressions may name, in bytes: the developer
/// guide's limit for a filtered export ("Attribute names can be up to 250 bytes"). The
/// `#name` placeholders themselves are held to 255 bytes by the shared parser, as in every
/// expression; this bounds the names they, or the expression's own words, stand for.
pub const MAX_EXPORT_FILTER_NAME_BYTES: usize = 250;
/// The largest value an export's `ExpressionAttributeValues` may hold, in bytes of
/// DynamoDB's size: the developer guide's limit for a filtered export.
pub const MAX_EXPORT_FILTER_VALUE_BYTES: usize = 2 * 1024 * 1024;

/// The operation named where a refusal names the request.
const OPERATION: &str = "ExportTableToPointInTime";

/// A `FilterSpecification`, parsed and matched to a table's key.
#[derive(Debug, Default)]
pub(crate) struct ExportFilter {
    /// The keys the key condition selects; every key when `None`.
    range: Option<KeyRange>,
    /// The condition an item must meet to be written.
    filter: Option<Condition>,
    /// The attributes written of each item; all when `None`.
    projection: Option<Vec<Path>>,
}

impl ExportFilter {
    /// `spec` checked against the table's key `key`: a `ValidationException` with Query's
    /// and Scan's messages where they apply.
    pub(crate) fn new(spec: &FilterSpecification, key: &KeyShape) -> Result<ExportFilter> {
        check_values(spec)?;
        let expressions = Expressions {
            key_condition_expression: spec.key_condition_expression.clone(),
            filter_expression: spec.filter_expression.clone(),
            projection_expression: spec.projection_expression.clone(),
            expression_attribute_names: spec.expression_attribute_names.clone(),
            expression_attribute_values: spec.expression_attribute_values.clone(),
            ..Expressions::default()
        };
        use ExpressionKind::{Filter, KeyCondition as K, Projection};
        let parsed = expressions.parse(OPERATION, &[K, Filter, Projection])?;
        let mut paths: Vec<&Path> = Vec::new();
        if let Some(c) = &parsed.key_condition {
            paths.extend(c.paths());
        }
        if let Some(c) = &parsed.filter {
            paths.extend(c.paths());
        }
        paths.extend(parsed.projection.iter().flatten());
        check_names(&paths)?;
        let range = match &parsed.key_condition {
            Some(condition) => {
                let condition = KeyCondition::from_condition(condition)?;
                Some(key_condition_range(key, &condition)?.0)
            }
            None => None,
        };
        if let (Some(filter), Some(_)) = (&parsed.filter, &range) {
            check_filter_on_non_keys(filter, key)?;
        }
        Ok(ExportFilter {
            range,
            filter: parsed.filter,
            projection: parsed.projection,
        })
    }

    /// Whether the item with the encoded key `key` is one the key condition selects.
    pub(crate) fn selects_key(&self, key: &[u8]) -> bool {
        self.range.as_ref().is_none_or(|range| contains(range, key))
    }

    /// Whether `item` meets the filter (an incremental export passes a changed item's
    /// latest image, or the old image of one deleted).
    pub(crate) fn passes(&self, item: &Item) -> Result<bool> {
        match &self.filter {
            Some(filter) => filter.evaluate(Some(item)),
            None => Ok(true),
        }
    }

    /// What is written of `item`: the projection's attributes, or all of it.
    pub(crate) fn project<'a>(&self, item: &'a Item) -> Cow<'a, Item> {
        match &self.projection {
            Some(paths) => Cow::Owned(project(item, paths)),
            None => Cow::Borrowed(item),
        }
    }
}

/// Refuses a value of `ExpressionAttributeValues` over [`MAX_EXPORT_FILTER_VALUE_BYTES`].
/// (DynamoDB's message for it was not found; the wording is tidestore's, in the style of its
/// other refusals of a substitution.)
fn check_values(spec: &FilterSpecification) -> Result<()> {
    for (key, value) in spec.expression_attribute_values.iter().flatten() {
        if value.size() > MAX_EXPORT_FILTER_VALUE_BYTES {
            return Err(Error::validation(format!(
                "ExpressionAttributeValues contains invalid value: The value is larger than {MAX_EXPORT_FILTER_VALUE_BYTES} bytes for key {key}"
            )));
        }
    }
    Ok(())
}

/// Refuses an attribute name over [`MAX_EXPORT_FILTER_NAME_BYTES`] in any of the
/// expressions' paths. (DynamoDB's message for it was not found; the wording is
/// tidestore's.)
fn check_names(paths: &[&Path]) -> Result<()> {
    let names = paths.iter().flat_map(|p| p.0.iter());
    for element in names {
        if let PathElement::Attribute(name) = element {
            if name.len() > MAX_EXPORT_FILTER_NAME_BYTES {
                return Err(Error::validation(format!(
                    "One or more parameter values were invalid: FilterSpecification names an attribute longer than {MAX_EXPORT_FILTER_NAME_BYTES} bytes: {} bytes",
                    name.len()
                )));
            }
        }
    }
    Ok(())
}
