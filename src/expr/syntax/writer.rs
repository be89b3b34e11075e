//! Writes typed expressions back as DynamoDB expression strings, with their
//! `ExpressionAttributeNames` and `ExpressionAttributeValues`: for logs, for error messages,
//! and for sending a typed expression to a DynamoDB endpoint.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::expr::ValueExpr;
use crate::expr::{Condition, Operand, Path, PathElement, SetValue, Update, UpdateAction};
use crate::model::value::{AttributeValue, Item};

/// Writes expressions that share one pair of substitution maps, as the expressions of one
/// request do. Every attribute name becomes a `#nN` placeholder (so reserved words and names
/// with dots need no care) and every literal a `:vN` placeholder. Parsing what it writes gives
/// back the same typed value, with update actions grouped by clause.
///
/// ```
/// use tidestore::expr::syntax::ExpressionWriter;
/// use tidestore::expr::Condition;
/// use tidestore::AttributeValue;
///
/// let mut writer = ExpressionWriter::new();
/// let cond = Condition::attribute_not_exists("Artist")
///     .or(Condition::lt("Year", AttributeValue::number(2000)));
/// assert_eq!(writer.condition(&cond), "attribute_not_exists(#n0) OR #n1 < :v0");
/// let (names, values) = writer.into_maps();
/// assert_eq!(names["#n1"], "Year");
/// assert_eq!(values[":v0"], AttributeValue::number(2000));
/// ```
#[derive(Debug, Default)]
pub struct ExpressionWriter {
    names: BTreeMap<String, String>,
    placeholder_of: BTreeMap<String, String>,
    values: Item,
}

/// How tightly a condition binds, to know when it needs parentheses.
fn precedence(condition: &Condition) -> u8 {
    match condition {
        Condition::Or(..) => 1,
        Condition::And(..) => 2,
        Condition::Not(..) => 3,
        _ => 4,
    }
}

impl ExpressionWriter {
    /// A writer with empty maps.
    pub fn new() -> ExpressionWriter {
        ExpressionWriter::default()
    }

    /// A `ConditionExpression`, `FilterExpression` or `KeyConditionExpression`.
    pub fn condition(&mut self, condition: &Condition) -> String {
        let mut out = String::new();
        self.write_condition(&mut out, condition, 1);
        out
    }

    /// An `UpdateExpression`: its `SET`, `REMOVE`, `ADD` and `DELETE` clauses in the order their
    /// first action appears.
    pub fn update(&mut self, update: &Update) -> String {
        let clause = |a: &UpdateAction| match a {
            UpdateAction::Set(..) => "SET",
            UpdateAction::Remove(..) => "REMOVE",
            UpdateAction::Add(..) => "ADD",
            UpdateAction::Delete(..) => "DELETE",
        };
        let mut clauses: Vec<&str> = Vec::new();
        for action in &update.actions {
            if !clauses.contains(&clause(action)) {
                clauses.push(clause(action));
            }
        }
        let mut out = String::new();
        for name in clauses {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(name);
            let actions = update.actions.iter().filter(|a| clause(a) == name);
            for (i, action) in actions.enumerate() {
                out.push_str(if i == 0 { " " } else { ", " });
                self.write_path(&mut out, action.path());
                match action {
                    UpdateAction::Set(_, value) => {
                        out.push_str(" = ");
                        self.write_set_value(&mut out, value);
                    }
                    UpdateAction::Remove(_) => {}
                    UpdateAction::Add(_, v) | UpdateAction::Delete(_, v) => {
                        out.push(' ');
                        self.write_value(&mut out, v);
                    }
                }
            }
        }
        out
    }

    /// A `ProjectionExpression`.
    pub fn projection(&mut self, paths: &[Path]) -> String {
        let mut out = String::new();
        for (i, path) in paths.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.write_path(&mut out, path);
        }
        out
    }

    /// The `ExpressionAttributeNames` and `ExpressionAttributeValues` of everything written.
    pub fn into_maps(self) -> (BTreeMap<String, String>, Item) {
        (self.names, self.values)
    }

    fn write_condition(&mut self, out: &mut String, condition: &Condition, at_least: u8) {
        let wrap = precedence(condition) < at_least;
        if wrap {
            out.push('(');
        }
        match condition {
            // Both operators are left-associative: a right operand of the same operator
            // needs parentheses to stay where it is.
            Condition::Or(a, b) => {
                self.write_condition(out, a, 1);
                out.push_str(" OR ");
                self.write_condition(out, b, 2);
            }
            Condition::And(a, b) => {
                self.write_condition(out, a, 2);
                out.push_str(" AND ");
                self.write_condition(out, b, 3);
            }
            Condition::Not(a) => {
                out.push_str("NOT ");
                self.write_condition(out, a, 3);
            }
            Condition::Compare { left, op, right } => {
                self.write_operand(out, left);
                let _ = write!(out, " {} ", op.symbol());
                self.write_operand(out, right);
            }
            Condition::Between { value, low, high } => {
                self.write_operand(out, value);
                out.push_str(" BETWEEN ");
                self.write_operand(out, low);
                out.push_str(" AND ");
                self.write_operand(out, high);
            }
            Condition::In { value, list } => {
                self.write_operand(out, value);
                out.push_str(" IN (");
                for (i, candidate) in list.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.write_operand(out, candidate);
                }
                out.push(')');
            }
            Condition::AttributeExists(p) => {
                self.write_call(out, "attribute_exists", &[&Operand::Path(p.clone())])
            }
            Condition::AttributeNotExists(p) => {
                self.write_call(out, "attribute_not_exists", &[&Operand::Path(p.clone())])
            }
            Condition::AttributeType(o, t) => {
                let name = Operand::Value(AttributeValue::S(t.name().to_owned()));
                self.write_call(out, "attribute_type", &[o, &name])
            }
            Condition::BeginsWith(a, b) => self.write_call(out, "begins_with", &[a, b]),
            Condition::Contains(a, b) => self.write_call(out, "contains", &[a, b]),
        }
        if wrap {
            out.push(')');
        }
    }

    /// `function(a, b, …)`, operands in order: placeholders are numbered as they are written,
    /// so a path-first call reads as it always has (`begins_with(#n0, :v0)`), which the
    /// fingerprints of logged `ClientRequestToken`s depend on.
    fn write_call(&mut self, out: &mut String, function: &str, args: &[&Operand]) {
        out.push_str(function);
        out.push('(');
        for (i, arg) in args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.write_operand(out, arg);
        }
        out.push(')');
    }

    fn write_operand(&mut self, out: &mut String, operand: &Operand) {
        match operand {
            Operand::Path(p) => self.write_path(out, p),
            Operand::Value(v) => self.write_value(out, v),
            Operand::Size(p) => {
                out.push_str("size(");
                self.write_path(out, p);
                out.push(')');
            }
        }
    }

    fn write_set_value(&mut self, out: &mut String, value: &SetValue) {
        match value {
            SetValue::Operand(e) => self.write_value_expr(out, e),
            SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
                self.write_value_expr(out, a);
                out.push_str(if matches!(value, SetValue::Plus(..)) {
                    " + "
                } else {
                    " - "
                });
                self.write_value_expr(out, b);
            }
        }
    }

    fn write_value_expr(&mut self, out: &mut String, expr: &ValueExpr) {
        match expr {
            ValueExpr::Path(p) => self.write_path(out, p),
            ValueExpr::Value(v) => self.write_value(out, v),
            ValueExpr::IfNotExists(p, default) => {
                out.push_str("if_not_exists(");
                self.write_path(out, p);
                out.push_str(", ");
                self.write_value_expr(out, default);
                out.push(')');
            }
            ValueExpr::ListAppend(a, b) => {
                out.push_str("list_append(");
                self.write_value_expr(out, a);
                out.push_str(", ");
                self.write_value_expr(out, b);
                out.push(')');
            }
        }
    }

    fn write_path(&mut self, out: &mut String, path: &Path) {
        for (i, step) in path.0.iter().enumerate() {
            match step {
                PathElement::Attribute(name) => {
                    if i > 0 {
                        out.push('.');
                    }
                    let next = format!("#n{}", self.names.len());
                    let placeholder = self.placeholder_of.entry(name.clone()).or_insert(next);
                    self.names.insert(placeholder.clone(), name.clone());
                    out.push_str(placeholder);
                }
                PathElement::Index(n) => {
                    let _ = write!(out, "[{n}]");
                }
            }
        }
    }

    fn write_value(&mut self, out: &mut String, value: &AttributeValue) {
        let placeholder = format!(":v{}", self.values.len());
        out.push_str(&placeholder);
        self.values.insert(placeholder, value.clone());
    }
}
