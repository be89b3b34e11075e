//! A recursive-descent parser of DynamoDB's expression grammar, building the typed values of
//! the parent module. Precedence, loosest first: `OR`, `AND`, `NOT`, then parentheses,
//! functions, `BETWEEN`, `IN` and comparators, which all bind an operand to what follows it.
//! Recursion is bounded by [`MAX_DEPTH`], so no input can exhaust the stack.

use super::lexer::{tokenize, Kind, Token};
use super::reserved::is_reserved;
use super::{ExpressionKind, Substitutions};
use crate::error::{Error, Result};
use crate::expr::{Comparator, Condition, Operand, Path, PathElement, SetValue, Update};
use crate::expr::{UpdateAction, ValueExpr};
use crate::model::value::{AttributeValue, ValueType};

/// The deepest nesting of parentheses, `NOT`s and function calls an expression may have.
/// DynamoDB takes 300 operators, so `a<b OR (a<b OR (…))` can nest 149 levels and be valid;
/// the bound keeps a hostile expression (`NOT NOT NOT …`) from overflowing the stack. A level of
/// parentheses recurses through every precedence level, so a debug build's 2 MiB thread stack
/// overflows near 300 of them: raise this only with a cheaper recursion.
pub const MAX_DEPTH: usize = 150;

/// The update clauses, in the order the parser reports them.
const CLAUSES: [&str; 4] = ["SET", "REMOVE", "ADD", "DELETE"];

/// The words of the grammar, in any case: never an attribute name, not even a reserved one.
const KEYWORDS: [&str; 9] = [
    "AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE",
];

pub(super) struct Parser<'s, 'm, 'a> {
    source: &'s str,
    tokens: Vec<Token>,
    at: usize,
    kind: ExpressionKind,
    subs: &'m mut Substitutions<'a>,
    depth: usize,
    /// The token positions of the opening and closing parenthesis of the last group closed,
    /// to spot `((…))`.
    last_group: Option<(usize, usize)>,
}

/// An operand as written, before the context decides what it may be.
enum Written {
    Path(Path),
    Value(AttributeValue),
    Call(String, Vec<Written>),
}

impl<'s, 'm, 'a> Parser<'s, 'm, 'a> {
    pub fn new(source: &'s str, kind: ExpressionKind, subs: &'m mut Substitutions<'a>) -> Self {
        Parser {
            source,
            tokens: tokenize(source),
            at: 0,
            kind,
            subs,
            depth: 0,
            last_group: None,
        }
    }

    // ---- Entry points: each parses the whole source. ----

    pub fn condition(mut self) -> Result<Condition> {
        let condition = self.or()?;
        self.end()?;
        Ok(condition)
    }

    pub fn update(mut self) -> Result<Update> {
        let mut update = Update::new();
        let mut seen = [false; 4];
        loop {
            let token = self.peek();
            if token.kind == Kind::End && self.at > 0 {
                return Ok(update);
            }
            let text = token.text(self.source);
            let clause = match CLAUSES.iter().position(|c| c.eq_ignore_ascii_case(text)) {
                Some(i) if token.kind == Kind::Word => i,
                _ => return Err(self.syntax_error()),
            };
            if std::mem::replace(&mut seen[clause], true) {
                let name = CLAUSES[clause];
                let what = format!(
                    "The \"{name}\" section can only be used once in an update expression;"
                );
                return Err(self.invalid(what));
            }
            self.advance();
            loop {
                let action = self.update_action(clause)?;
                update.actions.push(action);
                if !self.eat_symbol(",") {
                    break;
                }
            }
        }
    }

    pub fn projection(mut self) -> Result<Vec<Path>> {
        let mut paths = vec![self.path()?];
        while self.eat_symbol(",") {
            paths.push(self.path()?);
        }
        self.end()?;
        Ok(paths)
    }

    // ---- Conditions. ----

    fn or(&mut self) -> Result<Condition> {
        let mut condition = self.and()?;
        while self.eat_word("OR") {
            condition = condition.or(self.and()?);
        }
        Ok(condition)
    }

    fn and(&mut self) -> Result<Condition> {
        let mut condition = self.not()?;
        while self.eat_word("AND") {
            condition = condition.and(self.not()?);
        }
        Ok(condition)
    }

    fn not(&mut self) -> Result<Condition> {
        if self.eat_word("NOT") {
            self.descend()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(inner.not());
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Condition> {
        let open = self.at;
        if self.eat_symbol("(") {
            self.descend()?;
            let inner = self.or()?;
            self.depth -= 1;
            if self.peek_symbol(")") && self.last_group == Some((open + 1, self.at - 1)) {
                return Err(self.invalid("The expression has redundant parentheses;"));
            }
            self.expect_symbol(")")?;
            self.last_group = Some((open, self.at - 1));
            return Ok(inner);
        }
        let left = self.operand()?;
        if let Written::Call(name, args) = left {
            if name != "size" {
                return self.function_condition(&name, args);
            }
            return self.comparison(Written::Call(name, args));
        }
        self.comparison(left)
    }

    /// What follows a condition's first operand: a comparator, `BETWEEN` or `IN`.
    fn comparison(&mut self, left: Written) -> Result<Condition> {
        const COMPARATORS: [(&str, Comparator); 6] = [
            ("=", Comparator::Eq),
            ("<>", Comparator::Ne),
            ("<", Comparator::Lt),
            ("<=", Comparator::Le),
            (">", Comparator::Gt),
            (">=", Comparator::Ge),
        ];
        let token = self.peek();
        let text = token.text(self.source);
        let comparator = COMPARATORS.iter().find(|(s, _)| *s == text);
        if let (Kind::Symbol, Some(&(_, op))) = (token.kind, comparator) {
            self.advance();
            let left = self.condition_operand(left)?;
            let right = self.operand()?;
            let right = self.condition_operand(right)?;
            return Ok(Condition::Compare { left, op, right });
        }
        if self.eat_word("BETWEEN") {
            let value = self.condition_operand(left)?;
            let low = self.operand()?;
            let low = self.condition_operand(low)?;
            self.expect_word("AND")?;
            let high = self.operand()?;
            let high = self.condition_operand(high)?;
            return Ok(Condition::Between { value, low, high });
        }
        if self.eat_word("IN") {
            let value = self.condition_operand(left)?;
            self.expect_symbol("(")?;
            let mut list = Vec::new();
            loop {
                let candidate = self.operand()?;
                list.push(self.condition_operand(candidate)?);
                if !self.eat_symbol(",") {
                    break;
                }
            }
            self.expect_symbol(")")?;
            return Ok(Condition::In { value, list });
        }
        Err(self.syntax_error())
    }

    /// A condition function: `attribute_exists(path)`, `begins_with(operand, operand)`, ….
    /// Only the two existence tests need a path: DynamoDB takes any operand (a path, a value
    /// or `size(path)`) first in `attribute_type`, `begins_with` and `contains`, though its
    /// guide names a path there.
    fn function_condition(&mut self, name: &str, args: Vec<Written>) -> Result<Condition> {
        match name {
            "attribute_exists" | "attribute_not_exists" => {
                let [Written::Path(path)] = self.arguments(name, args)? else {
                    return Err(self.needs_path(name));
                };
                return Ok(match name {
                    "attribute_exists" => Condition::AttributeExists(path),
                    _ => Condition::AttributeNotExists(path),
                });
            }
            "attribute_type" | "begins_with" | "contains" => {}
            "if_not_exists" | "list_append" => {
                let what = format!(
                    "The function is not allowed in a condition expression; function: {name}"
                );
                return Err(self.invalid(what));
            }
            _ => return Err(self.invalid(format!("Invalid function name; function: {name}"))),
        }
        let [first, second] = self.arguments(name, args)?;
        // A key condition's grammar keeps the path first (`begins_with(sk, :prefix)`): its
        // refusal comes here, where the parser meets it, so that its message does not
        // depend on what else the expression holds.
        if self.kind == ExpressionKind::KeyCondition && !matches!(first, Written::Path(_)) {
            return Err(self.needs_path(name));
        }
        let first = self.condition_operand(first)?;
        let second = self.condition_operand(second)?;
        Ok(match (name, second) {
            ("attribute_type", Operand::Value(AttributeValue::S(t))) => {
                match ValueType::from_name(&t) {
                    Some(value_type) => Condition::AttributeType(first, value_type),
                    None => {
                        let valid = "valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }";
                        let what = format!("Invalid attribute type name found; type: {t}, {valid}");
                        return Err(self.invalid(what));
                    }
                }
            }
            ("attribute_type", Operand::Value(v)) => {
                return Err(self.invalid(wrong_operand("attribute_type", &v)));
            }
            // attribute_type with a path or size() for its type.
            ("attribute_type", _) => return Err(self.misplaced_function(name)),
            ("begins_with", second) => Condition::BeginsWith(first, second),
            (_, second) => Condition::Contains(first, second),
        })
    }

    /// A written operand as a condition's [`Operand`]: a path, a value or `size(…)`.
    fn condition_operand(&self, written: Written) -> Result<Operand> {
        match written {
            Written::Path(p) => Ok(Operand::Path(p)),
            Written::Value(v) => Ok(Operand::Value(v)),
            Written::Call(name, args) if name == "size" => match self.arguments("size", args)? {
                [Written::Path(p)] => Ok(Operand::Size(p)),
                [Written::Value(v)] => {
                    Operand::size_of_value(&v).map_err(|_| self.invalid(wrong_operand("size", &v)))
                }
                [Written::Call(..)] => Err(self.needs_path("size")),
            },
            Written::Call(name, _) => Err(self.misplaced_function(&name)),
        }
    }

    // ---- Updates. ----

    fn update_action(&mut self, clause: usize) -> Result<UpdateAction> {
        let path = self.path()?;
        match CLAUSES[clause] {
            "SET" => {
                self.expect_symbol("=")?;
                let first = self.operand()?;
                let first = self.value_expr(first)?;
                let value = if self.eat_symbol("+") {
                    let second = self.operand()?;
                    SetValue::Plus(first, self.value_expr(second)?)
                } else if self.eat_symbol("-") {
                    let second = self.operand()?;
                    SetValue::Minus(first, self.value_expr(second)?)
                } else {
                    SetValue::Operand(first)
                };
                Ok(UpdateAction::Set(path, value))
            }
            "REMOVE" => Ok(UpdateAction::Remove(path)),
            add_or_delete => {
                if self.peek().kind != Kind::ValueRef {
                    return Err(self.syntax_error());
                }
                let value = self.value_ref()?;
                Ok(match add_or_delete {
                    "ADD" => UpdateAction::Add(path, value),
                    _ => UpdateAction::Delete(path, value),
                })
            }
        }
    }

    /// A written operand as a `SET` value: a path, a value, `if_not_exists` or `list_append`.
    fn value_expr(&self, written: Written) -> Result<ValueExpr> {
        match written {
            Written::Path(p) => Ok(ValueExpr::Path(p)),
            Written::Value(v) => Ok(ValueExpr::Value(v)),
            Written::Call(name, args) => {
                match name.as_str() {
                    "if_not_exists" | "list_append" => {}
                    "attribute_exists"
                    | "attribute_not_exists"
                    | "attribute_type"
                    | "begins_with"
                    | "contains"
                    | "size" => {
                        let what = format!(
                            "The function is not allowed in an update expression; function: {name}"
                        );
                        return Err(self.invalid(what));
                    }
                    _ => {
                        return Err(self.invalid(format!("Invalid function name; function: {name}")))
                    }
                }
                let [first, second] = self.arguments(&name, args)?;
                let second = self.value_expr(second)?;
                match (name.as_str(), first) {
                    ("list_append", first) => {
                        Ok(ValueExpr::list_append(self.value_expr(first)?, second))
                    }
                    (_, Written::Path(p)) => Ok(ValueExpr::if_not_exists(p, second)),
                    _ => Err(self.needs_path("if_not_exists")),
                }
            }
        }
    }

    // ---- Operands and paths. ----

    /// A path, a `:value`, or a function call `name(operand, …)`.
    fn operand(&mut self) -> Result<Written> {
        let token = self.peek();
        match token.kind {
            Kind::ValueRef => Ok(Written::Value(self.value_ref()?)),
            Kind::Word if self.peek_at(1).text(self.source) == "(" => {
                let name = token.text(self.source).to_owned();
                self.advance();
                self.advance();
                self.descend()?;
                let mut args = vec![self.operand()?];
                while self.eat_symbol(",") {
                    args.push(self.operand()?);
                }
                self.expect_symbol(")")?;
                self.depth -= 1;
                Ok(Written::Call(name, args))
            }
            _ => Ok(Written::Path(self.path()?)),
        }
    }

    /// `name`, `#ref`, then `.name`, `.#ref` and `[index]` steps.
    fn path(&mut self) -> Result<Path> {
        let mut path = Path(vec![PathElement::Attribute(self.path_name()?)]);
        loop {
            if self.eat_symbol(".") {
                path.0.push(PathElement::Attribute(self.path_name()?));
            } else if self.eat_symbol("[") {
                let token = self.peek();
                if token.kind != Kind::Digits {
                    return Err(self.syntax_error());
                }
                // DynamoDB takes indexes up to 2^32 - 2 and refuses larger ones by name.
                let text = token.text(self.source);
                let index = match text.parse::<u32>() {
                    Ok(index) if index < u32::MAX => index as usize,
                    _ => {
                        let what = "List index is not within the allowable range";
                        return Err(self.invalid(format!("{what}; index: [{text}]")));
                    }
                };
                self.advance();
                self.expect_symbol("]")?;
                path.0.push(PathElement::Index(index));
            } else {
                return Ok(path);
            }
        }
    }

    /// One name of a path: a bare word that is not reserved, or a `#ref`.
    fn path_name(&mut self) -> Result<String> {
        let token = self.peek();
        let text = token.text(self.source);
        let name = match token.kind {
            // The grammar's own words are tokens of their own: one here is out of place.
            Kind::Word if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(text)) => {
                return Err(self.syntax_error());
            }
            Kind::Word if is_reserved(text) => {
                let what =
                    format!("Attribute name is a reserved keyword; reserved keyword: {text}");
                return Err(self.invalid(what));
            }
            Kind::Word => text.to_owned(),
            Kind::NameRef => self.subs.name(text).map_err(|what| self.invalid(what))?,
            _ => return Err(self.syntax_error()),
        };
        self.advance();
        Ok(name)
    }

    fn value_ref(&mut self) -> Result<AttributeValue> {
        let text = self.peek().text(self.source);
        let value = self.subs.value(text).map_err(|what| self.invalid(what))?;
        self.advance();
        Ok(value)
    }

    // ---- Tokens. ----

    fn peek(&self) -> Token {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> Token {
        let last = self.tokens.len() - 1;
        self.tokens[(self.at + ahead).min(last)]
    }

    fn advance(&mut self) {
        self.at = (self.at + 1).min(self.tokens.len() - 1);
    }

    fn peek_symbol(&self, symbol: &str) -> bool {
        let token = self.peek();
        token.kind == Kind::Symbol && token.text(self.source) == symbol
    }

    fn eat_symbol(&mut self, symbol: &str) -> bool {
        let found = self.peek_symbol(symbol);
        if found {
            self.advance();
        }
        found
    }

    fn expect_symbol(&mut self, symbol: &str) -> Result<()> {
        match self.eat_symbol(symbol) {
            true => Ok(()),
            false => Err(self.syntax_error()),
        }
    }

    /// Consumes the keyword `word`, in any case.
    fn eat_word(&mut self, word: &str) -> bool {
        let token = self.peek();
        let found = token.kind == Kind::Word && token.text(self.source).eq_ignore_ascii_case(word);
        if found {
            self.advance();
        }
        found
    }

    fn expect_word(&mut self, word: &str) -> Result<()> {
        match self.eat_word(word) {
            true => Ok(()),
            false => Err(self.syntax_error()),
        }
    }

    fn end(&self) -> Result<()> {
        match self.peek().kind {
            Kind::End => Ok(()),
            _ => Err(self.syntax_error()),
        }
    }

    fn descend(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let what = format!("The expression is nested too deeply; the limit is {MAX_DEPTH} levels of parentheses, NOT and functions");
            return Err(self.invalid(what));
        }
        Ok(())
    }

    // ---- Errors, worded as DynamoDB words them. ----

    fn invalid(&self, what: impl std::fmt::Display) -> Error {
        Error::validation(format!("Invalid {}: {what}", self.kind.parameter()))
    }

    /// `Syntax error; token: "…", near: "…"` at the current token: `near` quotes the source
    /// from the token before it to the token after it.
    fn syntax_error(&self) -> Error {
        let token = self.peek();
        let before = self.at.checked_sub(1).map(|i| self.tokens[i]);
        let after = self.tokens.get(self.at + 1).filter(|t| t.kind != Kind::End);
        let start = before.map_or(token.start, |t| t.start);
        let end = match token.kind {
            Kind::End => before.map_or(token.end, |t| t.end),
            _ => after.map_or(token.end, |t| t.end),
        };
        let near = &self.source[start..end];
        let text = token.text(self.source);
        self.invalid(format!("Syntax error; token: \"{text}\", near: \"{near}\""))
    }

    /// The arguments of a call to `function`, which takes `N`.
    fn arguments<const N: usize>(
        &self,
        function: &str,
        args: Vec<Written>,
    ) -> Result<[Written; N]> {
        args.try_into().map_err(|args: Vec<Written>| {
            let what = "Incorrect number of operands for operator or function";
            let count = args.len();
            self.invalid(format!(
                "{what}; operator or function: {function}, number of operands: {count}"
            ))
        })
    }

    fn needs_path(&self, function: &str) -> Error {
        let what = "Operator or function requires a document path";
        self.invalid(format!("{what}; operator or function: {function}"))
    }

    fn misplaced_function(&self, function: &str) -> Error {
        let what = "The function is not allowed to be used this way in an expression";
        self.invalid(format!("{what}; function: {function}"))
    }
}

fn wrong_operand(function: &str, value: &AttributeValue) -> String {
    let what = "Incorrect operand type for operator or function";
    let type_name = value.value_type().name();
    format!("{what}; operator or function: {function}, operand type: {type_name}")
}
