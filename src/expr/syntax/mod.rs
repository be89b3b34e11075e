//! DynamoDB's expression strings: parsing them into the typed values of [`crate::expr`], and
//! writing typed values back as strings.
//!
//! One request may carry several expressions (an `UpdateExpression` and a
//! `ConditionExpression`, a `KeyConditionExpression` and a `FilterExpression`, …) that share
//! one `ExpressionAttributeNames` and one `ExpressionAttributeValues` map. [`Substitutions`]
//! holds the two maps for the request, parses each expression against them, and at the end
//! ([`Substitutions::finish`]) refuses entries no expression used, as DynamoDB does.
//!
//! ```
//! use std::collections::BTreeMap;
//! use tidestore::expr::syntax::{ExpressionKind, Substitutions};
//! use tidestore::{AttributeValue, Item};
//!
//! let names = BTreeMap::from([("#y".to_owned(), "Year".to_owned())]);
//! let values = Item::from([(":limit".to_owned(), AttributeValue::number(2000))]);
//! let mut subs = Substitutions::new(Some(&names), Some(&values))?;
//! let condition = subs.condition(ExpressionKind::Condition, "attribute_exists(#y) AND #y < :limit")?;
//! subs.finish()?;
//!
//! let item: Item = serde_json::from_str(r#"{"Year": {"N": "1985"}}"#)?;
//! assert!(condition.evaluate(Some(&item))?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every message is DynamoDB's, prefixed `Invalid <parameter>: ` where the service prefixes
//! it: syntax errors quote the offending token and the text around it, bare reserved words,
//! undefined and unused substitutions, redundant parentheses, the 4 KB size limit. Where
//! DynamoDB documents no wording (the nesting bound, malformed map keys), the message follows
//! its style.

mod lexer;
mod parser;
mod reserved;
mod writer;

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};
use crate::expr::{Comparator, Condition, Operand, Path, Update};
use crate::model::value::{check_attribute_name_size, validate_value, AttributeValue, Item};

pub use parser::MAX_DEPTH;
pub use writer::ExpressionWriter;

/// The longest expression string DynamoDB accepts, in bytes.
pub const MAX_EXPRESSION_BYTES: usize = 4096;
/// The longest `#name` or `:value` placeholder DynamoDB accepts, in bytes.
pub const MAX_PLACEHOLDER_BYTES: usize = 255;

/// Which request parameter an expression is: it decides the grammar and names the parameter in
/// error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExpressionKind {
    /// `ConditionExpression` of a write.
    Condition,
    /// `FilterExpression` of a query or scan.
    Filter,
    /// `KeyConditionExpression` of a query: comparisons (no `<>`), `BETWEEN` and
    /// `begins_with`, joined by `AND`.
    KeyCondition,
    /// `UpdateExpression`.
    Update,
    /// `ProjectionExpression`.
    Projection,
}

impl ExpressionKind {
    /// The request parameter's name, e.g. `"ConditionExpression"`.
    pub fn parameter(self) -> &'static str {
        match self {
            ExpressionKind::Condition => "ConditionExpression",
            ExpressionKind::Filter => "FilterExpression",
            ExpressionKind::KeyCondition => "KeyConditionExpression",
            ExpressionKind::Update => "UpdateExpression",
            ExpressionKind::Projection => "ProjectionExpression",
        }
    }
}

/// The `ExpressionAttributeNames` and `ExpressionAttributeValues` of one request, and which of
/// their entries the request's expressions used so far.
#[derive(Debug)]
pub struct Substitutions<'a> {
    names: Option<&'a BTreeMap<String, String>>,
    values: Option<&'a Item>,
    used_names: BTreeSet<&'a str>,
    used_values: BTreeSet<&'a str>,
    expressions: usize,
}

impl<'a> Substitutions<'a> {
    /// Checks the two maps as DynamoDB does before reading any expression: neither given empty,
    /// every key a well-formed placeholder, every name non-empty and within 65535 bytes, every
    /// value valid.
    pub fn new(
        names: Option<&'a BTreeMap<String, String>>,
        values: Option<&'a Item>,
    ) -> Result<Substitutions<'a>> {
        if let Some(names) = names {
            check_keys("ExpressionAttributeNames", '#', names.keys())?;
            if let Some((key, _)) = names.iter().find(|(_, name)| name.is_empty()) {
                return Err(Error::validation(format!(
                    "ExpressionAttributeNames contains invalid value: Empty attribute name; key: \"{key}\""
                )));
            }
            for name in names.values() {
                check_attribute_name_size(name)?;
            }
        }
        if let Some(values) = values {
            check_keys("ExpressionAttributeValues", ':', values.keys())?;
            for (key, value) in values {
                validate_value(value, 1).map_err(|e| match e {
                    Error::Validation(m) => Error::validation(format!(
                        "ExpressionAttributeValues contains invalid value: {m} for key {key}"
                    )),
                    other => other,
                })?;
            }
        }
        Ok(Substitutions {
            names,
            values,
            used_names: BTreeSet::new(),
            used_values: BTreeSet::new(),
            expressions: 0,
        })
    }

    /// Parses a `ConditionExpression`, `FilterExpression` or `KeyConditionExpression` and makes
    /// the static checks of [`Condition::validate_as`]. A key condition is also held to its
    /// narrower grammar; matching it to the key schema is the query's business.
    pub fn condition(&mut self, kind: ExpressionKind, source: &str) -> Result<Condition> {
        self.check_source(kind, source)?;
        let condition = parser::Parser::new(source, kind, self).condition()?;
        if kind == ExpressionKind::KeyCondition {
            check_key_condition(&condition)?;
        }
        condition.validate_as(kind.parameter())?;
        Ok(condition)
    }

    /// Parses an `UpdateExpression` and makes the static checks of [`Update::validate`].
    pub fn update(&mut self, source: &str) -> Result<Update> {
        self.check_source(ExpressionKind::Update, source)?;
        let update = parser::Parser::new(source, ExpressionKind::Update, self).update()?;
        update.validate()?;
        Ok(update)
    }

    /// Parses a `ProjectionExpression` and checks it as
    /// [`validate_projection`](crate::expr::validate_projection) does.
    pub fn projection(&mut self, source: &str) -> Result<Vec<Path>> {
        self.check_source(ExpressionKind::Projection, source)?;
        let paths = parser::Parser::new(source, ExpressionKind::Projection, self).projection()?;
        crate::expr::validate_projection(&paths)?;
        Ok(paths)
    }

    /// Refuses the request if a map was given with no expression to use it, or holds an entry
    /// that no expression used. Call once, after every expression of the request is parsed.
    pub fn finish(self) -> Result<()> {
        for (parameter, keys, used) in [
            (
                "ExpressionAttributeNames",
                self.names.map(|m| m.keys().collect::<Vec<_>>()),
                &self.used_names,
            ),
            (
                "ExpressionAttributeValues",
                self.values.map(|m| m.keys().collect::<Vec<_>>()),
                &self.used_values,
            ),
        ] {
            let Some(keys) = keys else { continue };
            if self.expressions == 0 {
                return Err(Error::validation(format!(
                    "{parameter} can only be specified when using expressions"
                )));
            }
            let unused: Vec<&str> = keys
                .into_iter()
                .map(String::as_str)
                .filter(|k| !used.contains(k))
                .collect();
            if !unused.is_empty() {
                let keys = unused.join(", ");
                return Err(Error::validation(format!(
                    "Value provided in {parameter} unused in expressions: keys: {{{keys}}}"
                )));
            }
        }
        Ok(())
    }

    fn check_source(&mut self, kind: ExpressionKind, source: &str) -> Result<()> {
        self.expressions += 1;
        let parameter = kind.parameter();
        if source.len() > MAX_EXPRESSION_BYTES {
            let size = source.len();
            return Err(Error::validation(format!(
                "Invalid {parameter}: Expression size has exceeded the maximum allowed size; expression size: {size}"
            )));
        }
        if source.trim().is_empty() {
            return Err(Error::validation(format!(
                "Invalid {parameter}: The expression can not be empty;"
            )));
        }
        Ok(())
    }

    /// The attribute name `#placeholder` stands for (the parser calls this).
    fn name(&mut self, placeholder: &str) -> std::result::Result<String, String> {
        let entry = self.names.and_then(|m| m.get_key_value(placeholder));
        let Some((key, name)) = entry else {
            return Err(format!("An expression attribute name used in the document path is not defined; attribute name: {placeholder}"));
        };
        self.used_names.insert(key);
        Ok(name.clone())
    }

    /// The value `:placeholder` stands for (the parser calls this).
    fn value(&mut self, placeholder: &str) -> std::result::Result<AttributeValue, String> {
        let entry = self.values.and_then(|m| m.get_key_value(placeholder));
        let Some((key, value)) = entry else {
            return Err(format!("An expression attribute value used in expression is not defined; attribute value: {placeholder}"));
        };
        self.used_values.insert(key);
        Ok(value.clone())
    }
}

/// Every key of a substitution map is its sigil, then 1 to 254 letters, digits or `_`.
fn check_keys<'k>(
    parameter: &str,
    sigil: char,
    keys: impl Iterator<Item = &'k String>,
) -> Result<()> {
    for key in keys {
        let body = key.strip_prefix(sigil).unwrap_or("");
        let well_formed =
            !body.is_empty() && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !well_formed {
            return Err(Error::validation(format!(
                "{parameter} contains invalid key: Syntax error; key: \"{key}\""
            )));
        }
        if key.len() > MAX_PLACEHOLDER_BYTES {
            return Err(Error::validation(format!(
                "{parameter} contains invalid key: The key is longer than {MAX_PLACEHOLDER_BYTES} bytes; key: \"{key}\""
            )));
        }
    }
    Ok(())
}

/// A key condition may only compare (not with `<>`), test `BETWEEN` or `begins_with` (of a
/// path), and join those with `AND`: DynamoDB names the first operator outside that. Its paths
/// are top-level attribute names.
fn check_key_condition(condition: &Condition) -> Result<()> {
    let mut stack = vec![condition];
    while let Some(c) = stack.pop() {
        let joint = matches!(
            c,
            Condition::And(..) | Condition::Or(..) | Condition::Not(..)
        );
        if !joint && c.paths().iter().any(|p| p.0.len() > 1) {
            return Err(Error::validation(
                "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested attributes",
            ));
        }
        let operator = match c {
            Condition::And(a, b) => {
                stack.extend([&**b, &**a]);
                continue;
            }
            Condition::Compare { left, op, right } => {
                let sized = [left, right].iter().any(|o| matches!(o, Operand::Size(_)));
                match (op, sized) {
                    (_, true) => "size",
                    (Comparator::Ne, _) => "<>",
                    _ => continue,
                }
            }
            Condition::Between { value, low, high } => {
                let sized = [value, low, high]
                    .iter()
                    .any(|o| matches!(o, Operand::Size(_)));
                match sized {
                    true => "size",
                    false => continue,
                }
            }
            // The sort key first: the service takes no other operand there.
            Condition::BeginsWith(Operand::Path(_), _) => continue,
            Condition::BeginsWith(..) => {
                return Err(Error::validation(
                    "Invalid KeyConditionExpression: Operator or function requires a document path; operator or function: begins_with",
                ));
            }
            Condition::Or(..) => "OR",
            Condition::Not(..) => "NOT",
            Condition::In { .. } => "IN",
            Condition::AttributeExists(_) => "attribute_exists",
            Condition::AttributeNotExists(_) => "attribute_not_exists",
            Condition::AttributeType(..) => "attribute_type",
            Condition::Contains(..) => "contains",
        };
        return Err(Error::validation(format!(
            "Invalid operator used in KeyConditionExpression: {operator}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
