//! Attribute values in DynamoDB JSON: names, strings, numbers at and past DynamoDB's edges
//! (38 digits, exponents of ±125/130, forms JSON takes and DynamoDB does not), binaries,
//! sets, lists and maps nested a few levels, and sometimes a value of no type or of two;
//! and any JSON at all, for members of the wrong type.

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::members::Gen;
use crate::fuzz_support::input::Input;

impl Gen<'_, '_> {
    /// An attribute name: mostly one the base tables or expressions use, sometimes an
    /// empty, odd or fuzzed one.
    pub(super) fn attribute_name(&mut self) -> String {
        match self.input.below(16) {
            0 => self.input.text(20),
            1 => "ttl".into(),
            n => [
                "a", "b", "c", "l", "m", "n", "s", "pk", "sk", "ss", "x.y", "#a", "size", "",
            ][usize::from(n as u8 - 2)]
            .into(),
        }
    }

    /// A string value: a few fixed ones, empty, fuzzed text, or up to 3,000 bytes.
    pub(super) fn short_text(&mut self) -> String {
        match self.input.below(8) {
            0 => String::new(),
            1 => self.input.text(40),
            2 => "x".repeat(self.input.below(3000)),
            n => ["k1", "k2", "k3", "k4", "é"][usize::from(n as u8 - 3)].into(),
        }
    }

    /// A number as DynamoDB JSON writes it: mostly small, sometimes at or past the edges.
    pub(super) fn number(&mut self) -> String {
        match self.input.below(24) {
            0 => "1e125".into(),
            1 => "9.9999999999999999999999999999999999999E+125".into(),
            2 => "1E-130".into(),
            3 => "1e126".into(),
            4 => "123456789012345678901234567890123456789".into(),
            5 => "-0".into(),
            6 => "0.000000000000000000000000000000000000000000001".into(),
            7 => "1e999999999999999999".into(),
            8 => input_digits(self.input),
            9 => self
                .input
                .pick(&[
                    "NaN", "Infinity", " 1", "+1", "0x10", "", "1.", ".5", "1e", "--1",
                ])
                .into(),
            10 => format!(
                "{}e{}",
                self.input.below(1000),
                self.input.below(300) as i64 - 150
            ),
            n => (n as i64 - 16).to_string(),
        }
    }

    /// An attribute value of any type, nested at most `depth` more levels; sometimes
    /// malformed.
    pub(super) fn value(&mut self, depth: usize) -> Value {
        let kind = self.input.below(if depth == 0 { 10 } else { 13 });
        match kind {
            0 | 1 => json!({"S": self.short_text()}),
            2 | 3 => json!({"N": self.number()}),
            4 => {
                let raw = self.input.bytes(24);
                if self.input.chance(90) {
                    json!({"B": base64::engine::general_purpose::STANDARD.encode(raw)})
                } else {
                    json!({"B": String::from_utf8_lossy(&raw)})
                }
            }
            5 => json!({"BOOL": self.input.chance(50)}),
            6 => json!({"NULL": self.input.chance(90)}),
            7 => {
                let set: Vec<String> = (0..self.input.below(4))
                    .map(|_| self.short_text())
                    .collect();
                json!({"SS": set})
            }
            8 => {
                let set: Vec<String> = (0..self.input.below(4)).map(|_| self.number()).collect();
                json!({"NS": set})
            }
            9 => match self.input.below(6) {
                0 => json!({}),
                1 => json!({"S": 5}),
                2 => json!({"S": "a", "N": "1"}),
                3 => json!({"X": "y"}),
                4 => json!({"BS": ["!!", "AA=="]}),
                _ => self.any_json(1),
            },
            10 | 11 => {
                let list: Vec<Value> = (0..self.input.below(4))
                    .map(|_| self.value(depth - 1))
                    .collect();
                json!({"L": list})
            }
            _ => {
                let mut map = Map::new();
                for _ in 0..self.input.below(4) {
                    let name = self.attribute_name();
                    let value = self.value(depth - 1);
                    map.insert(name, value);
                }
                json!({"M": map})
            }
        }
    }

    /// Any JSON value.
    pub(super) fn any_json(&mut self, depth: usize) -> Value {
        match self.input.below(if depth == 0 { 6 } else { 8 }) {
            0 => Value::Null,
            1 => json!(self.input.chance(50)),
            2 => {
                let n: f64 = self
                    .input
                    .pick(&[0.0, -1.0, 1.5, 1e300, -0.0, 4294967296.0]);
                json!(n)
            }
            3 => serde_json::from_str(&input_digits(self.input)).unwrap_or(Value::Null),
            4 => json!(self.input.text(32)),
            5 => json!(self.input.pick(&[0i64, 1, -1, i64::MAX, i64::MIN])),
            6 => {
                let list: Vec<Value> = (0..self.input.below(4))
                    .map(|_| self.any_json(depth - 1))
                    .collect();
                json!(list)
            }
            _ => {
                let mut map = Map::new();
                for _ in 0..self.input.below(4) {
                    let name = self.input.text(8);
                    let value = self.any_json(depth - 1);
                    map.insert(name, value);
                }
                Value::Object(map)
            }
        }
    }
}

/// Digits (and signs, points and exponents) from the input.
pub(super) fn input_digits(input: &mut Input<'_>) -> String {
    let raw = input.bytes(60);
    raw.iter()
        .map(|b| b"0123456789.-+eE"[usize::from(*b) % 15] as char)
        .collect()
}
