//! A request's body: the members of its operation in the API model (`server::model`), each
//! required one mostly there and each optional one sometimes, an enum's value mostly one of
//! the model's, then the placeholder maps its expressions need. [`Gen`] is the generator
//! every family shares; its values come from the family that owns the member: item
//! operations (`items.rs`), table definitions (`tables.rs`), backups and streams
//! (`backups_streams.rs`); attribute values from `values.rs` and expressions from
//! `expressions.rs`.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::envelope::Api;
use crate::fuzz_support::input::Input;
use crate::server::model::{OPERATIONS, STREAMS_OPERATIONS};

/// The request's members: mostly those of `operation` in its API model, with values of the
/// right shape, sometimes with a member left out, one of the wrong type, or one unknown.
pub(super) fn members(input: &mut Input<'_>, operation: &str, api: Api) -> Value {
    let model = match api {
        Api::DynamoDb => OPERATIONS.iter().find(|o| o.name == operation),
        Api::Streams => STREAMS_OPERATIONS.iter().find(|o| o.name == operation),
    };
    let mut body = Map::new();
    let mut gen = Gen {
        input,
        names: BTreeSet::new(),
        values: BTreeSet::new(),
    };
    let table = gen.table();
    match model {
        None => {
            for _ in 0..gen.input.below(4) {
                let name = gen.input.text(12);
                body.insert(name, gen.any_json(2));
            }
        }
        Some(model) => {
            for &member in model.members {
                let required = model.required.contains(&member);
                let wanted = if required { 95 } else { 35 };
                if !gen.input.chance(wanted) {
                    continue;
                }
                let value = match model.enums.iter().find(|(m, _)| *m == member) {
                    Some((_, values)) if gen.input.chance(90) => json!(gen.input.pick(values)),
                    _ => gen.member(member, table),
                };
                body.insert(member.to_owned(), value);
            }
        }
    }
    // The maps of the placeholders the expressions used (sometimes one short or over).
    if !gen.names.is_empty() && gen.input.chance(95) {
        let names: Map<String, Value> = (gen.names.iter())
            .map(|n| (n.to_string(), json!(placeholder_name(n))))
            .collect();
        body.insert("ExpressionAttributeNames".into(), Value::Object(names));
    }
    if !gen.values.is_empty() && gen.input.chance(95) {
        let used: Vec<&str> = gen.values.iter().copied().collect();
        let mut values = Map::new();
        for v in used {
            let value = gen.value(2);
            values.insert(v.to_owned(), value);
        }
        body.insert("ExpressionAttributeValues".into(), Value::Object(values));
    }
    if gen.input.chance(6) {
        let name = gen.input.pick(&[
            "TableName",
            "Key",
            "Item",
            "Limit",
            "Unknown",
            "ExpressionAttributeValues",
        ]);
        let value = gen.any_json(3);
        body.insert(name.to_owned(), value);
    }
    Value::Object(body)
}

/// The attribute a `#name` placeholder stands for.
pub(super) fn placeholder_name(placeholder: &str) -> &'static str {
    match placeholder {
        "#k" => "pk",
        "#s" => "sk",
        "#a" => "a",
        "#b" => "b",
        "#l" => "l",
        "#m" => "m",
        _ => "size",
    }
}

/// The generator of a body's values; it records the placeholders its expressions use.
pub(super) struct Gen<'i, 'a> {
    /// The fuzzer's choices.
    pub(super) input: &'i mut Input<'a>,
    /// The `#name` placeholders used so far.
    pub(super) names: BTreeSet<&'static str>,
    /// The `:value` placeholders used so far.
    pub(super) values: BTreeSet<&'static str>,
}

impl Gen<'_, '_> {
    /// The table a request names: mostly a base table, sometimes one that may not exist.
    pub(super) fn table(&mut self) -> &'static str {
        match self.input.below(16) {
            0..=8 => "tab",
            9..=12 => "num",
            13 => "vvv",
            14 => "missing",
            _ => self.input.pick(&["", "t"]),
        }
    }

    /// The value of `member` of an operation, shaped as the model says: each family of
    /// operations' members has its generator, and a member none of them knows gets any JSON.
    pub(super) fn member(&mut self, member: &str, table: &'static str) -> Value {
        if let Some(value) = self.item_member(member, table) {
            return value;
        }
        if let Some(value) = self.table_member(member, table) {
            return value;
        }
        if let Some(value) = self.backup_or_stream_member(member) {
            return value;
        }
        self.any_json(2)
    }
}
