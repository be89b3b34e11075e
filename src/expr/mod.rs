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
//!
//! The module is split by concept:
//!
//! | Submodule | Owns |
//! |---|---|
//! | `path` | [`Path`], [`PathElement`], resolving a path in an item, path and overlap checks |
//! | `condition` | [`Condition`], [`Comparator`], [`Operand`]: validation and evaluation |
//! | `update` | [`Update`], [`UpdateAction`], [`SetValue`], [`ValueExpr`]: validation and `apply` |
//! | `projection` | [`project`] and [`validate_projection`] |
//! | [`syntax`] | the expression strings: parsing them into these values, writing them back |
//!
//! This file keeps the limits ([`MAX_OPERATORS`], [`MAX_IN_OPERANDS`]) and the error helpers
//! the submodules share.

mod condition;
mod path;
mod projection;
pub mod syntax;
mod update;

use std::fmt;

use crate::error::{Error, Result};
use crate::model::value::{validate_value, AttributeValue};

pub use condition::{Comparator, Condition, Operand};
pub use path::{Path, PathElement};
pub use projection::{project, validate_projection};
/// The message of an `ADD`, `DELETE` or operator given an operand of the wrong type.
pub(crate) use update::BAD_TYPE;
pub use update::{SetValue, Update, UpdateAction, ValueExpr};

/// The most operators and functions one expression may hold (DynamoDB's limit).
pub const MAX_OPERATORS: usize = 300;
/// The most operands the list of an `IN` may hold (DynamoDB's limit).
pub const MAX_IN_OPERANDS: usize = 100;

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

#[cfg(test)]
mod tests;
