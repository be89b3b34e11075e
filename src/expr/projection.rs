//! Projections (`ProjectionExpression`): [`project`] an item on a set of paths, and
//! [`validate_projection`].

use std::collections::BTreeMap;

use super::path::{check_overlaps, Path, PathElement};
use crate::error::Result;
use crate::model::value::AttributeValue as V;
use crate::model::value::{AttributeValue, Item};

/// A projection being built: the whole value, or the chosen keys or indexes of it.
enum Projected<'a> {
    Whole(&'a AttributeValue),
    Map(BTreeMap<&'a str, Projected<'a>>),
    List(BTreeMap<usize, Projected<'a>>),
}

impl<'a> Projected<'a> {
    fn before(next: Option<&PathElement>) -> Projected<'a> {
        match next {
            Some(PathElement::Index(_)) => Projected::List(BTreeMap::new()),
            _ => Projected::Map(BTreeMap::new()),
        }
    }

    fn insert(&mut self, rest: &'a [PathElement], value: &'a AttributeValue) {
        let mut node = self;
        for (k, step) in rest.iter().enumerate() {
            let next = || Projected::before(rest.get(k + 1));
            node = match (node, step) {
                (Projected::Map(m), PathElement::Attribute(key)) => {
                    m.entry(key).or_insert_with(next)
                }
                (Projected::List(l), PathElement::Index(i)) => l.entry(*i).or_insert_with(next),
                _ => return, // already projected whole by a shorter path
            };
        }
        *node = Projected::Whole(value);
    }

    fn build(self) -> AttributeValue {
        match self {
            Projected::Whole(v) => v.clone(),
            Projected::Map(m) => V::M(m.into_iter().map(|(k, v)| (k.into(), v.build())).collect()),
            // Picked elements come back compacted, in index order, as DynamoDB returns them.
            Projected::List(l) => V::L(l.into_values().map(Projected::build).collect()),
        }
    }
}

/// `ProjectionExpression` semantics: a sparse copy of `item` with only the elements at `paths`
/// (nesting kept, missing paths skipped). List elements picked by index come back compacted in
/// index order: `l[2], l[0]` of `[x, y, z]` gives `[x, z]`. Overlapping paths are merged here;
/// [`validate_projection`] rejects them, as DynamoDB does.
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut root: BTreeMap<&str, Projected> = BTreeMap::new();
    for path in paths {
        let (Some(value), Some((PathElement::Attribute(name), rest))) =
            (path.resolve(item), path.0.split_first())
        else {
            continue;
        };
        let top = root
            .entry(name)
            .or_insert_with(|| Projected::before(rest.first()));
        top.insert(rest, value);
    }
    root.into_iter()
        .map(|(name, p)| (name.into(), p.build()))
        .collect()
}

/// The static checks DynamoDB makes of a `ProjectionExpression`: well-formed paths, pairwise
/// neither overlapping nor conflicting.
pub fn validate_projection(paths: &[Path]) -> Result<()> {
    const KIND: &str = "ProjectionExpression";
    paths.iter().try_for_each(|p| p.check(KIND))?;
    check_overlaps(&paths.iter().collect::<Vec<_>>(), KIND)
}
