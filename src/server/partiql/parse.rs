//! The PartiQL statements DynamoDB accepts, read into a syntax tree: no table is looked at
//! here, so every refusal is about the text alone.
//!
//! The subset read (DynamoDB's "PartiQL select / insert / update / delete statements"):
//!
//! ```text
//! statement ::= SELECT projection FROM target [WHERE condition]
//!             | INSERT INTO table VALUE value
//!             | UPDATE table (SET path = data (, path = data)* | REMOVE path (, path)*)+ WHERE condition
//!               [RETURNING (ALL | MODIFIED) (OLD | NEW) *]
//!             | DELETE FROM table WHERE condition [RETURNING ALL OLD *]
//!             | EXISTS ( SELECT projection FROM table WHERE condition )  -- in a transaction
//! data      ::= term | term (+ | -) term | list_append(term, term)
//!             | set_add(path, value) | set_delete(path, value)  -- path: the one assigned
//! term      ::= path | value
//! projection ::= * | path (, path)*
//! target    ::= name [. name]                 -- a table, or a table's index
//! name      ::= "double quoted" | bare        -- bare: letters, digits, _ and -
//! condition ::= condition OR condition | condition AND condition | NOT condition | ( condition )
//!             | operand (= | <> | != | < | <= | > | >=) operand
//!             | operand BETWEEN operand AND operand | operand IN [ value, … ]
//!             | path IS [NOT] MISSING | path IS [NOT] NULL
//!             | begins_with(path, operand) | contains(path, operand) | attribute_type(path, operand)
//!             | attribute_exists(path) | attribute_not_exists(path)
//! operand   ::= path | value | size(path)
//! value     ::= 'string' | number | TRUE | FALSE | NULL | ? | { 'k': value, … } | [ value, … ]
//!             | << value, … >>                 -- a set
//! path      ::= name (. name | [ index ])*
//! ```
//!
//! Keywords are case-insensitive. Anything else is refused with a message naming it; the
//! parser never panics on any input, and its nesting depth is capped so that hostile input
//! cannot exhaust the stack.

use std::fmt;

/// The deepest nesting of parentheses, `NOT`s and literal values the parser follows.
const MAX_DEPTH: usize = 64;

/// The longest statement, in characters (DynamoDB's `PartiQLStatement`: 1 to 8192). It also
/// bounds the work of translating: placeholders are looked up by a linear search, so a
/// statement of 40,000 distinct names took 38 s (debug build), and a 16 MB body holds 2M.
pub const MAX_STATEMENT_LENGTH: usize = 8192;

/// The most `AND`s and `OR`s one statement joins (DynamoDB's limit on the operators of an
/// expression). A chain of them is read in a loop, not by recursion, but it makes a tree as
/// deep as it is long, which translating (and dropping) the tree then walks recursively.
const MAX_OPERATORS: usize = 300;

/// A parsed statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    /// `SELECT projection FROM target [WHERE condition]`.
    Select {
        /// The paths asked for; `None` for `*`.
        projection: Option<Vec<Path>>,
        /// The table read.
        table: String,
        /// The index read, if any (`FROM "table"."index"`).
        index: Option<String>,
        /// The condition, if any.
        condition: Option<Condition>,
        /// `ORDER BY`'s attributes, in the order given (none without it).
        order: Vec<OrderBy>,
    },
    /// `INSERT INTO table VALUE item`.
    Insert {
        /// The table written.
        table: String,
        /// The item, a map literal.
        item: Literal,
    },
    /// `UPDATE table SET … REMOVE … WHERE condition [RETURNING …]`.
    Update {
        /// The table written.
        table: String,
        /// The `SET` assignments, in order.
        set: Vec<(Path, Data)>,
        /// The `REMOVE`d paths, in order.
        remove: Vec<Path>,
        /// The condition (it must pin the item's key).
        condition: Condition,
        /// What the statement answers with, if anything.
        returning: Option<Returning>,
    },
    /// `DELETE FROM table WHERE condition`.
    Delete {
        /// The table written.
        table: String,
        /// The condition (it must pin the item's key).
        condition: Condition,
        /// `RETURNING ALL OLD *`: the item as it was.
        returning: Option<Returning>,
    },
    /// `EXISTS(SELECT … FROM table WHERE condition)`: a transaction's condition check that
    /// the item the condition names by its key exists and meets the rest of it.
    Exists {
        /// The table read.
        table: String,
        /// The condition (it must pin the item's key).
        condition: Condition,
    },
}

impl Statement {
    /// What a write statement answers with (`RETURNING`), if anything.
    pub fn returning(&self) -> Option<Returning> {
        match self {
            Statement::Update { returning, .. } | Statement::Delete { returning, .. } => *returning,
            Statement::Select { .. } | Statement::Insert { .. } | Statement::Exists { .. } => None,
        }
    }
}

/// One attribute of a SELECT's `ORDER BY`.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderBy {
    /// The attribute.
    pub path: Path,
    /// `DESC` (`ASC`, the default, is `false`).
    pub descending: bool,
}

/// The value a `SET` of an UPDATE assigns.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// A value, or another attribute's.
    Term(Operand),
    /// `a + b` or `a - b` (numbers).
    Arithmetic(Operand, Sign, Operand),
    /// `list_append(a, b)`: the lists joined.
    ListAppend(Operand, Operand),
    /// `set_add(path, value)`: the set with the value's members added.
    SetAdd(Path, Literal),
    /// `set_delete(path, value)`: the set without the value's members.
    SetDelete(Path, Literal),
}

/// The operator of [`Data::Arithmetic`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sign {
    /// `+`.
    Plus,
    /// `-`.
    Minus,
}

/// What an UPDATE or a DELETE answers with: DynamoDB's `ReturnValues` of the request it
/// stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returning {
    /// `RETURNING ALL OLD *`.
    AllOld,
    /// `RETURNING MODIFIED OLD *`.
    ModifiedOld,
    /// `RETURNING ALL NEW *`.
    AllNew,
    /// `RETURNING MODIFIED NEW *`.
    ModifiedNew,
}

impl Returning {
    /// The `ReturnValues` of the UpdateItem or DeleteItem.
    pub fn return_values(self) -> &'static str {
        match self {
            Returning::AllOld => "ALL_OLD",
            Returning::ModifiedOld => "UPDATED_OLD",
            Returning::AllNew => "ALL_NEW",
            Returning::ModifiedNew => "UPDATED_NEW",
        }
    }
}

/// A document path: an attribute and its members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    /// The top-level attribute's name.
    pub name: String,
    /// Members below it.
    pub members: Vec<Member>,
}

/// A step into a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Member {
    /// `.name`.
    Name(String),
    /// `[index]`.
    Index(u32),
}

/// A value written in the statement, or a `?` to be filled from `Parameters`.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `'text'`.
    String(String),
    /// A number, as written.
    Number(String),
    /// `TRUE` or `FALSE`.
    Bool(bool),
    /// `NULL`.
    Null,
    /// The `n`th `?` (from 0), in reading order.
    Parameter(usize),
    /// `{ 'k': v, … }`.
    Map(Vec<(String, Literal)>),
    /// `[ v, … ]`.
    List(Vec<Literal>),
    /// `<< v, … >>`.
    Set(Vec<Literal>),
}

/// One side of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// An attribute.
    Path(Path),
    /// A value.
    Value(Literal),
    /// `size(path)`.
    Size(Path),
}

/// A comparison operator: the expression language's (`!=` is read as `<>`).
pub use crate::expr::Comparator;

/// A function of a condition, with a path and a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    /// `begins_with(path, v)`.
    BeginsWith,
    /// `contains(path, v)`.
    Contains,
    /// `attribute_type(path, t)`.
    AttributeType,
}

/// A `WHERE` condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// `a AND b`.
    And(Box<Condition>, Box<Condition>),
    /// `a OR b`.
    Or(Box<Condition>, Box<Condition>),
    /// `NOT a`.
    Not(Box<Condition>),
    /// `a op b`.
    Compare(Operand, Comparator, Operand),
    /// `a BETWEEN low AND high`.
    Between(Operand, Operand, Operand),
    /// `a IN [v, …]`.
    In(Operand, Vec<Operand>),
    /// `path IS NOT MISSING`, `attribute_exists(path)`.
    Exists(Path),
    /// `path IS MISSING`, `attribute_not_exists(path)`.
    NotExists(Path),
    /// `begins_with`, `contains`, `attribute_type`.
    Function(Function, Path, Operand),
}

/// Why a statement could not be read: DynamoDB's ValidationException message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError(pub String);

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn error<T>(message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError(message.into()))
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    /// A bare word (keywords too).
    Word(String),
    /// A `"double quoted"` name.
    Quoted(String),
    /// A `'single quoted'` string.
    Str(String),
    /// A number.
    Number(String),
    /// Punctuation and operators.
    Symbol(&'static str),
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(w) => f.write_str(w),
            Token::Quoted(q) => write!(f, "\"{q}\""),
            Token::Str(s) => write!(f, "'{s}'"),
            Token::Number(n) => f.write_str(n),
            Token::Symbol(s) => f.write_str(s),
        }
    }
}

/// Longest first, so that `<=` is not read as `<` then `=`.
const SYMBOLS: [&str; 20] = [
    "<<", ">>", "<=", ">=", "<>", "!=", "=", "<", ">", "(", ")", "[", "]", "{", "}", ",", ".", ":",
    "+", "-",
];

fn lex(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' {
            // A quote inside is written twice, as in SQL.
            let mut value = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return error(format!("Unexpected end of statement: unterminated {c}")),
                    Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                        value.push(c);
                        i += 2;
                    }
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some(&other) => {
                        value.push(other);
                        i += 1;
                    }
                }
            }
            tokens.push(match c {
                '"' => Token::Quoted(value),
                _ => Token::Str(value),
            });
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            i += 1;
            while let Some(&d) = chars.get(i) {
                let exponent_sign =
                    (d == '+' || d == '-') && matches!(chars.get(i - 1), Some('e' | 'E'));
                if d.is_ascii_digit() || d == '.' || d == 'e' || d == 'E' || exponent_sign {
                    i += 1;
                } else {
                    break;
                }
            }
            tokens.push(Token::Number(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|&w| w.is_alphanumeric() || w == '_' || w == '-')
            {
                i += 1;
            }
            tokens.push(Token::Word(chars[start..i].iter().collect()));
        } else if c == '?' {
            tokens.push(Token::Symbol("?"));
            i += 1;
        } else if c == '*' {
            tokens.push(Token::Symbol("*"));
            i += 1;
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let Some(symbol) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) else {
                return error(format!("Unexpected character in statement: {c}"));
            };
            tokens.push(Token::Symbol(symbol));
            i += symbol.len();
        }
    }
    Ok(tokens)
}

/// Reads `text` as one statement; with it, how many `?` it holds.
pub fn parse(text: &str) -> Result<(Statement, usize), SyntaxError> {
    if text.chars().nth(MAX_STATEMENT_LENGTH).is_some() {
        return error(format!(
            "1 validation error detected: Value at 'statement' failed to satisfy constraint: Member must have length less than or equal to {MAX_STATEMENT_LENGTH}"
        ));
    }
    let mut parser = Parser {
        tokens: lex(text)?,
        at: 0,
        parameters: 0,
        depth: 0,
        operators: 0,
    };
    let statement = parser.statement()?;
    match parser.peek() {
        None => Ok((statement, parser.parameters)),
        Some(token) => error(format!("Unexpected token in statement: {token}")),
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    parameters: usize,
    depth: usize,
    operators: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Result<Token, SyntaxError> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token.map_or_else(|| error("Unexpected end of statement"), Ok)
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = self.is_keyword(keyword);
        self.at += usize::from(found);
        found
    }

    fn keyword(&mut self, keyword: &str) -> Result<(), SyntaxError> {
        match self.eat_keyword(keyword) {
            true => Ok(()),
            false => self.unexpected(&format!("expected {keyword}")),
        }
    }

    fn eat_symbol(&mut self, symbol: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Symbol(s)) if *s == symbol);
        self.at += usize::from(found);
        found
    }

    fn symbol(&mut self, symbol: &str) -> Result<(), SyntaxError> {
        match self.eat_symbol(symbol) {
            true => Ok(()),
            false => self.unexpected(&format!("expected {symbol}")),
        }
    }

    fn unexpected<T>(&self, expected: &str) -> Result<T, SyntaxError> {
        match self.peek() {
            Some(token) => error(format!(
                "Unexpected token in statement: {token}, {expected}"
            )),
            None => error(format!("Unexpected end of statement, {expected}")),
        }
    }

    /// Enters one level of nesting, refusing past [`MAX_DEPTH`].
    fn deeper(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        match self.depth > MAX_DEPTH {
            true => error(format!("Statement nests deeper than {MAX_DEPTH} levels")),
            false => Ok(()),
        }
    }

    /// Counts one more `AND` or `OR`, refusing past [`MAX_OPERATORS`].
    fn operator(&mut self) -> Result<(), SyntaxError> {
        self.operators += 1;
        match self.operators > MAX_OPERATORS {
            true => error(format!(
                "Statement joins more than {MAX_OPERATORS} conditions with AND or OR"
            )),
            false => Ok(()),
        }
    }

    fn statement(&mut self) -> Result<Statement, SyntaxError> {
        if self.eat_keyword("SELECT") {
            return self.select();
        }
        if self.eat_keyword("INSERT") {
            self.keyword("INTO")?;
            let table = self.name()?;
            self.keyword("VALUE")?;
            let item = self.literal()?;
            return Ok(Statement::Insert { table, item });
        }
        if self.eat_keyword("UPDATE") {
            return self.update();
        }
        if self.eat_keyword("EXISTS") {
            self.symbol("(")?;
            self.keyword("SELECT")?;
            let Statement::Select {
                table,
                index,
                condition,
                order,
                ..
            } = self.select()?
            else {
                return error("EXISTS takes a SELECT statement");
            };
            self.symbol(")")?;
            if !order.is_empty() {
                // (Our wording: an EXISTS checks one item, which has no order to ask for.)
                return error("The SELECT of an EXISTS takes no ORDER BY");
            }
            return match (index, condition) {
                (None, Some(condition)) => Ok(Statement::Exists { table, condition }),
                (Some(_), _) => error("The SELECT of an EXISTS reads a table, not an index"),
                (None, None) => {
                    error("The SELECT of an EXISTS must name one item by its key in a WHERE")
                }
            };
        }
        if self.eat_keyword("DELETE") {
            self.keyword("FROM")?;
            let table = self.name()?;
            self.keyword("WHERE")?;
            let condition = self.condition()?;
            let returning = self.returning()?;
            if returning.is_some_and(|r| r != Returning::AllOld) {
                return error("A DELETE statement supports only RETURNING ALL OLD *");
            }
            return Ok(Statement::Delete {
                table,
                condition,
                returning,
            });
        }
        match self.peek() {
            Some(Token::Word(w)) => error(format!(
                "Statement wasn't well formed: tidestore supports SELECT, INSERT, UPDATE, DELETE and EXISTS, not {w}"
            )),
            _ => self.unexpected("expected SELECT, INSERT, UPDATE, DELETE or EXISTS"),
        }
    }

    fn select(&mut self) -> Result<Statement, SyntaxError> {
        let projection = match self.eat_symbol("*") {
            true => None,
            false => {
                let mut paths = vec![self.path()?];
                while self.eat_symbol(",") {
                    paths.push(self.path()?);
                }
                Some(paths)
            }
        };
        self.keyword("FROM")?;
        let table = self.name()?;
        let index = match self.eat_symbol(".") {
            true => Some(self.name()?),
            false => None,
        };
        let condition = match self.eat_keyword("WHERE") {
            true => Some(self.condition()?),
            false => None,
        };
        let mut order = Vec::new();
        if self.eat_keyword("ORDER") {
            self.keyword("BY")?;
            loop {
                let path = self.path()?;
                let descending = self.eat_keyword("DESC");
                if !descending {
                    self.eat_keyword("ASC");
                }
                order.push(OrderBy { path, descending });
                if !self.eat_symbol(",") {
                    break;
                }
            }
        }
        Ok(Statement::Select {
            projection,
            table,
            index,
            condition,
            order,
        })
    }

    fn update(&mut self) -> Result<Statement, SyntaxError> {
        let table = self.name()?;
        let (mut set, mut remove) = (Vec::new(), Vec::new());
        loop {
            if self.eat_keyword("SET") {
                loop {
                    let path = self.path()?;
                    self.symbol("=")?;
                    let data = self.data()?;
                    set.push((path, data));
                    if !self.eat_symbol(",") {
                        break;
                    }
                }
            } else if self.eat_keyword("REMOVE") {
                remove.push(self.path()?);
                while self.eat_symbol(",") {
                    remove.push(self.path()?);
                }
            } else {
                break;
            }
        }
        if set.is_empty() && remove.is_empty() {
            return self.unexpected("expected SET or REMOVE");
        }
        self.keyword("WHERE")?;
        let condition = self.condition()?;
        let returning = self.returning()?;
        Ok(Statement::Update {
            table,
            set,
            remove,
            condition,
            returning,
        })
    }

    /// What a `SET` assigns: a term, two joined by `+` or `-`, or one of the functions
    /// DynamoDB's UPDATE supports.
    fn data(&mut self) -> Result<Data, SyntaxError> {
        if let (Some(Token::Word(word)), Some(Token::Symbol("("))) =
            (self.peek(), self.tokens.get(self.at + 1))
        {
            let word = word.to_ascii_lowercase();
            self.at += 2;
            let data = match word.as_str() {
                "list_append" => {
                    let first = self.term()?;
                    self.symbol(",")?;
                    Data::ListAppend(first, self.term()?)
                }
                "set_add" | "set_delete" => {
                    let path = self.path()?;
                    self.symbol(",")?;
                    if !self.starts_literal() {
                        return self.unexpected("expected a set value or ?");
                    }
                    let value = self.literal()?;
                    match word.as_str() {
                        "set_add" => Data::SetAdd(path, value),
                        _ => Data::SetDelete(path, value),
                    }
                }
                other => {
                    return error(format!(
                        "tidestore does not support the function {other} in a PartiQL UPDATE's SET"
                    ))
                }
            };
            self.symbol(")")?;
            return Ok(data);
        }
        let first = self.term()?;
        let sign = match self.peek() {
            Some(Token::Symbol("+")) => Sign::Plus,
            Some(Token::Symbol("-")) => Sign::Minus,
            // `a -1` is read as `a` and the number `-1`: a subtraction all the same.
            Some(Token::Number(n)) if n.starts_with('-') => {
                let number = n[1..].to_string();
                self.at += 1;
                return Ok(Data::Arithmetic(
                    first,
                    Sign::Minus,
                    Operand::Value(Literal::Number(number)),
                ));
            }
            _ => return Ok(Data::Term(first)),
        };
        self.at += 1;
        Ok(Data::Arithmetic(first, sign, self.term()?))
    }

    /// A value or an attribute's path, as an update's operand.
    fn term(&mut self) -> Result<Operand, SyntaxError> {
        match self.starts_literal() {
            true => Ok(Operand::Value(self.literal()?)),
            false => Ok(Operand::Path(self.path()?)),
        }
    }

    /// `RETURNING (ALL | MODIFIED) (OLD | NEW) *`, if it follows.
    fn returning(&mut self) -> Result<Option<Returning>, SyntaxError> {
        if !self.eat_keyword("RETURNING") {
            return Ok(None);
        }
        let all = match () {
            _ if self.eat_keyword("ALL") => true,
            _ if self.eat_keyword("MODIFIED") => false,
            _ => return self.unexpected("expected ALL or MODIFIED"),
        };
        let old = match () {
            _ if self.eat_keyword("OLD") => true,
            _ if self.eat_keyword("NEW") => false,
            _ => return self.unexpected("expected OLD or NEW"),
        };
        self.symbol("*")?;
        Ok(Some(match (all, old) {
            (true, true) => Returning::AllOld,
            (false, true) => Returning::ModifiedOld,
            (true, false) => Returning::AllNew,
            (false, false) => Returning::ModifiedNew,
        }))
    }

    /// A table's or an attribute's name: quoted, or a bare word.
    fn name(&mut self) -> Result<String, SyntaxError> {
        match self.next()? {
            Token::Quoted(name) | Token::Word(name) => Ok(name),
            token => error(format!(
                "Unexpected token in statement: {token}, expected a name"
            )),
        }
    }

    fn path(&mut self) -> Result<Path, SyntaxError> {
        let name = self.name()?;
        let mut members = Vec::new();
        loop {
            if self.eat_symbol(".") {
                members.push(Member::Name(self.name()?));
            } else if self.eat_symbol("[") {
                let index = match self.next()? {
                    Token::Number(n) => n.parse::<u32>().ok(),
                    _ => None,
                };
                let Some(index) = index else {
                    return error("A list index in a path must be a non-negative integer");
                };
                self.symbol("]")?;
                members.push(Member::Index(index));
            } else {
                return Ok(Path { name, members });
            }
        }
    }

    fn condition(&mut self) -> Result<Condition, SyntaxError> {
        let mut left = self.conjunction()?;
        while self.eat_keyword("OR") {
            self.operator()?;
            let right = self.conjunction()?;
            left = Condition::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn conjunction(&mut self) -> Result<Condition, SyntaxError> {
        let mut left = self.negation()?;
        while self.eat_keyword("AND") {
            self.operator()?;
            let right = self.negation()?;
            left = Condition::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn negation(&mut self) -> Result<Condition, SyntaxError> {
        self.deeper()?;
        let condition = match self.eat_keyword("NOT") {
            true => Condition::Not(Box::new(self.negation()?)),
            false => self.predicate()?,
        };
        self.depth -= 1;
        Ok(condition)
    }

    fn predicate(&mut self) -> Result<Condition, SyntaxError> {
        if self.eat_symbol("(") {
            let condition = self.condition()?;
            self.symbol(")")?;
            return Ok(condition);
        }
        if let Some(condition) = self.function()? {
            return Ok(condition);
        }
        let left = self.operand()?;
        if self.eat_keyword("BETWEEN") {
            let low = self.operand()?;
            self.keyword("AND")?;
            let high = self.operand()?;
            return Ok(Condition::Between(left, low, high));
        }
        if self.eat_keyword("IN") {
            let close = match self.next()? {
                Token::Symbol("[") => "]",
                Token::Symbol("(") => ")",
                token => {
                    return error(format!(
                        "Unexpected token in statement: {token}, expected ["
                    ))
                }
            };
            let mut values = vec![self.operand()?];
            while self.eat_symbol(",") {
                values.push(self.operand()?);
            }
            self.symbol(close)?;
            return Ok(Condition::In(left, values));
        }
        if self.eat_keyword("IS") {
            let negated = self.eat_keyword("NOT");
            let Operand::Path(path) = left else {
                return error("IS MISSING and IS NULL apply to an attribute's path");
            };
            if self.eat_keyword("MISSING") {
                return Ok(match negated {
                    true => Condition::Exists(path),
                    false => Condition::NotExists(path),
                });
            }
            if self.eat_keyword("NULL") {
                // DynamoDB keeps NULL and MISSING apart: `a IS NULL` holds for an attribute
                // of DynamoDB's type NULL, not for one the item lacks (that is `IS MISSING`),
                // so it is `attribute_type(a, 'NULL')`, and `IS NOT NULL` its negation, as
                // in SQL (true for an attribute the item lacks, too).
                let is_null = Condition::Function(
                    Function::AttributeType,
                    path,
                    Operand::Value(Literal::String("NULL".into())),
                );
                return Ok(match negated {
                    true => Condition::Not(Box::new(is_null)),
                    false => is_null,
                });
            }
            return error(
                "tidestore supports IS [NOT] MISSING and IS [NOT] NULL only, not IS <type>",
            );
        }
        let comparator = match self.next()? {
            Token::Symbol("=") => Comparator::Eq,
            Token::Symbol("<>" | "!=") => Comparator::Ne,
            Token::Symbol("<") => Comparator::Lt,
            Token::Symbol("<=") => Comparator::Le,
            Token::Symbol(">") => Comparator::Gt,
            Token::Symbol(">=") => Comparator::Ge,
            token => {
                return error(format!(
                    "Unexpected token in statement: {token}, expected a comparison"
                ))
            }
        };
        let right = self.operand()?;
        Ok(Condition::Compare(left, comparator, right))
    }

    /// A function call that is a whole condition, if one starts here.
    fn function(&mut self) -> Result<Option<Condition>, SyntaxError> {
        let Some(Token::Word(word)) = self.peek() else {
            return Ok(None);
        };
        let word = word.to_ascii_lowercase();
        if self.tokens.get(self.at + 1) != Some(&Token::Symbol("(")) || word == "size" {
            return Ok(None);
        }
        self.at += 2;
        let path = self.path()?;
        let condition = match word.as_str() {
            "attribute_exists" => Condition::Exists(path),
            "attribute_not_exists" => Condition::NotExists(path),
            "begins_with" | "contains" | "attribute_type" => {
                self.symbol(",")?;
                let function = match word.as_str() {
                    "begins_with" => Function::BeginsWith,
                    "contains" => Function::Contains,
                    _ => Function::AttributeType,
                };
                Condition::Function(function, path, self.operand()?)
            }
            other => {
                return error(format!(
                    "tidestore does not support the function {other} in PartiQL statements"
                ))
            }
        };
        self.symbol(")")?;
        Ok(Some(condition))
    }

    fn operand(&mut self) -> Result<Operand, SyntaxError> {
        if self.starts_literal() {
            return Ok(Operand::Value(self.literal()?));
        }
        if self.is_keyword("size") && self.tokens.get(self.at + 1) == Some(&Token::Symbol("(")) {
            self.at += 2;
            let path = self.path()?;
            self.symbol(")")?;
            return Ok(Operand::Size(path));
        }
        if matches!(self.peek(), Some(Token::Word(_) | Token::Quoted(_))) {
            return Ok(Operand::Path(self.path()?));
        }
        self.unexpected("expected an attribute or a value")
    }

    fn starts_literal(&self) -> bool {
        match self.peek() {
            Some(Token::Str(_) | Token::Number(_)) => true,
            Some(Token::Symbol(s)) => matches!(*s, "?" | "{" | "[" | "<<"),
            Some(Token::Word(w)) => ["TRUE", "FALSE", "NULL"]
                .iter()
                .any(|k| w.eq_ignore_ascii_case(k)),
            _ => false,
        }
    }

    fn literal(&mut self) -> Result<Literal, SyntaxError> {
        self.deeper()?;
        let literal = match self.next()? {
            Token::Str(s) => Literal::String(s),
            Token::Number(n) => Literal::Number(n),
            Token::Word(w) if w.eq_ignore_ascii_case("TRUE") => Literal::Bool(true),
            Token::Word(w) if w.eq_ignore_ascii_case("FALSE") => Literal::Bool(false),
            Token::Word(w) if w.eq_ignore_ascii_case("NULL") => Literal::Null,
            Token::Symbol("?") => {
                self.parameters += 1;
                Literal::Parameter(self.parameters - 1)
            }
            Token::Symbol("{") => {
                let mut entries = Vec::new();
                if !self.eat_symbol("}") {
                    loop {
                        let key = match self.next()? {
                            Token::Str(key) => key,
                            token => {
                                return error(format!(
                                "Unexpected token in statement: {token}, expected a 'quoted' key"
                            ))
                            }
                        };
                        self.symbol(":")?;
                        entries.push((key, self.literal()?));
                        if !self.eat_symbol(",") {
                            break;
                        }
                    }
                    self.symbol("}")?;
                }
                Literal::Map(entries)
            }
            Token::Symbol(open @ ("[" | "<<")) => {
                let close = if open == "[" { "]" } else { ">>" };
                let mut values = Vec::new();
                if !self.eat_symbol(close) {
                    loop {
                        values.push(self.literal()?);
                        if !self.eat_symbol(",") {
                            break;
                        }
                    }
                    self.symbol(close)?;
                }
                match open {
                    "[" => Literal::List(values),
                    _ => Literal::Set(values),
                }
            }
            token => {
                return error(format!(
                    "Unexpected token in statement: {token}, expected a value"
                ))
            }
        };
        self.depth -= 1;
        Ok(literal)
    }
}
