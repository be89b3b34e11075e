//! Parsing and validating expression strings: what the string form costs on top of the typed
//! one, per request. Each case checks the substitution maps, parses a typical expression of
//! its kind and makes its static checks; only the unused-entry check is left out, as the maps
//! serve every case.
//!
//! Run: `cargo bench --bench expressions`. Compare with a put's or update's own cost in
//! `cargo bench --bench items` to see whether parsing matters on the write path.
#![allow(missing_docs)] // criterion_group! generates an undocumented `pub fn`

use std::collections::BTreeMap;

use criterion::{criterion_group, criterion_main, Criterion};
use tidestore::expr::syntax::{ExpressionKind, Substitutions};
use tidestore::{AttributeValue, Item};

fn maps() -> (BTreeMap<String, String>, Item) {
    let names = [("#st", "status"), ("#yr", "year")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let values = [
        (":one", AttributeValue::number(1)),
        (":zero", AttributeValue::number(0)),
        (":active", AttributeValue::s("active")),
        (":from", AttributeValue::number(1990)),
        (":to", AttributeValue::number(2000)),
        (":pk", AttributeValue::s("p000000000000001")),
        (":prefix", AttributeValue::s("s0000")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    (names, values)
}

fn parse(c: &mut Criterion) {
    let (names, values) = maps();
    let mut group = c.benchmark_group("expression_parse");
    let cases: [(&str, ExpressionKind, &str); 5] = [
        (
            "condition",
            ExpressionKind::Condition,
            "attribute_not_exists(pk) OR (#st = :active AND #yr BETWEEN :from AND :to)",
        ),
        (
            "key_condition",
            ExpressionKind::KeyCondition,
            "pk = :pk AND begins_with(sk, :prefix)",
        ),
        (
            "update",
            ExpressionKind::Update,
            "SET Plays = if_not_exists(Plays, :zero) + :one, #st = :active REMOVE Tmp",
        ),
        (
            "projection",
            ExpressionKind::Projection,
            "pk, sk, Albums[0].Title, #yr",
        ),
        (
            "filter",
            ExpressionKind::Filter,
            "#st IN (:active, :pk) AND size(Tags) > :one AND NOT contains(Tags, :prefix)",
        ),
    ];
    for (name, kind, source) in cases {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut subs = Substitutions::new(Some(&names), Some(&values)).expect("valid maps");
                let parsed = match kind {
                    ExpressionKind::Update => subs.update(source).map(|u| u.actions.len()),
                    ExpressionKind::Projection => subs.projection(source).map(|p| p.len()),
                    _ => subs.condition(kind, source).map(|_| 1),
                };
                parsed.expect("a valid expression")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
