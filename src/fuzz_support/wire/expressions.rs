//! Expressions in DynamoDB's language: document paths (names, `#name` placeholders, `.name`
//! and `[n]`), operands, conditions nested a few levels, key conditions, updates and
//! projections, sometimes damaged (cut, text put in, thousands of open parentheses). Every
//! placeholder used is recorded in [`Gen`], so that the body's maps name it.

use super::members::Gen;

impl Gen<'_, '_> {
    /// A document path: a name or `#name`, with `.name` and `[n]` after it.
    pub(super) fn path(&mut self) -> String {
        let mut path = self.path_name();
        for _ in 0..self.input.below(3) {
            if self.input.chance(50) {
                path.push('.');
                path.push_str(&self.path_name());
            } else {
                path.push_str(&format!("[{}]", self.input.pick(&[0, 1, 5, 100_000])));
            }
        }
        path
    }

    /// A path's element: a `#name` placeholder (recorded) or a plain name.
    pub(super) fn path_name(&mut self) -> String {
        if self.input.chance(40) {
            let name = self.input.pick(&["#k", "#s", "#a", "#b", "#l", "#m", "#z"]);
            self.names.insert(name);
            name.to_owned()
        } else {
            self.input
                .pick(&["pk", "sk", "a", "b", "c", "l", "m", "n", "size", "ttl", "x"])
                .to_owned()
        }
    }

    /// A `:value` placeholder (recorded).
    pub(super) fn operand_value(&mut self) -> String {
        let value = self.input.pick(&[":v", ":w", ":x", ":y", ":z"]);
        self.values.insert(value);
        value.to_owned()
    }

    /// An operand of a comparison or function: a value, a path, or `size(path)`.
    pub(super) fn operand(&mut self) -> String {
        match self.input.below(4) {
            0 => self.operand_value(),
            1 => format!("size({})", self.path()),
            _ => self.path(),
        }
    }

    /// A condition (or filter), nested at most `depth` more levels.
    pub(super) fn condition(&mut self, depth: usize) -> String {
        let choice = self.input.below(if depth == 0 { 9 } else { 13 });
        let text = match choice {
            0 => format!("attribute_exists({})", self.path()),
            1 => format!("attribute_not_exists({})", self.path()),
            2 => format!("begins_with({}, {})", self.path(), self.operand_value()),
            3 => format!("contains({}, {})", self.path(), self.operand()),
            4 => format!("attribute_type({}, {})", self.path(), self.operand_value()),
            5 => format!(
                "{} BETWEEN {} AND {}",
                self.operand(),
                self.operand(),
                self.operand()
            ),
            6 => {
                let list: Vec<String> = (0..1 + self.input.below(3))
                    .map(|_| self.operand())
                    .collect();
                format!("{} IN ({})", self.operand(), list.join(", "))
            }
            7 | 8 => {
                let op = self.input.pick(&["=", "<>", "<", "<=", ">", ">="]);
                format!("{} {op} {}", self.operand(), self.operand())
            }
            9 => format!("NOT {}", self.condition(depth - 1)),
            10 => format!("({})", self.condition(depth - 1)),
            _ => {
                let joiner = self.input.pick(&["AND", "OR", "and"]);
                format!(
                    "{} {joiner} {}",
                    self.condition(depth - 1),
                    self.condition(depth - 1)
                )
            }
        };
        self.garble(text)
    }

    /// A key condition: the hash key equal to a value, and sometimes a range clause.
    pub(super) fn key_condition(&mut self) -> String {
        let hash = self.input.pick(&["pk", "#k", "a"]);
        if hash.starts_with('#') {
            self.names.insert("#k");
        }
        let v = self.operand_value();
        let mut text = format!("{hash} = {v}");
        if self.input.chance(60) {
            let range = self.input.pick(&["sk", "#s", "b"]);
            if range.starts_with('#') {
                self.names.insert("#s");
            }
            let w = self.operand_value();
            let clause = match self.input.below(4) {
                0 => format!("begins_with({range}, {w})"),
                1 => format!("{range} BETWEEN {w} AND {}", self.operand_value()),
                _ => format!(
                    "{range} {} {w}",
                    self.input.pick(&["=", "<", "<=", ">", ">="])
                ),
            };
            text = format!("{text} AND {clause}");
        }
        self.garble(text)
    }

    /// An update expression of one to three clauses.
    pub(super) fn update(&mut self) -> String {
        let mut clauses = Vec::new();
        for _ in 0..1 + self.input.below(3) {
            let clause = match self.input.below(4) {
                0 => {
                    let value = match self.input.below(4) {
                        0 => format!("{} + {}", self.operand(), self.operand()),
                        1 => format!("if_not_exists({}, {})", self.path(), self.operand_value()),
                        2 => format!("list_append({}, {})", self.operand(), self.operand()),
                        _ => self.operand(),
                    };
                    format!("SET {} = {value}", self.path())
                }
                1 => format!("REMOVE {}", self.path()),
                2 => format!("ADD {} {}", self.path(), self.operand_value()),
                _ => format!("DELETE {} {}", self.path(), self.operand_value()),
            };
            clauses.push(clause);
        }
        let text = clauses.join(" ");
        self.garble(text)
    }

    /// A projection of one to three paths.
    pub(super) fn projection(&mut self) -> String {
        let paths: Vec<String> = (0..1 + self.input.below(3)).map(|_| self.path()).collect();
        let text = paths.join(", ");
        self.garble(text)
    }

    /// Sometimes damages an expression: cut, or some fuzzed text put in.
    pub(super) fn garble(&mut self, mut text: String) -> String {
        match self.input.below(20) {
            0 => {
                let at = char_boundary_at_or_before(&text, self.input.below(text.len() + 1));
                text.truncate(at);
                text
            }
            1 => {
                let extra = self.input.text(16);
                let at = char_boundary_at_or_before(&text, self.input.below(text.len() + 1));
                text.insert_str(at, &extra);
                text
            }
            2 => "(".repeat(self.input.below(5000)) + &text,
            _ => text,
        }
    }
}

/// The last char boundary of `text` at or before byte `at`, where an edit may cut or insert.
fn char_boundary_at_or_before(text: &str, at: usize) -> usize {
    (0..=at)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}
