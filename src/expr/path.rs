//! Document paths: [`Path`] and [`PathElement`], resolving a path in an item, and the checks
//! of a path's form and of overlapping or conflicting paths shared by every expression kind.

use std::fmt;

use super::invalid;
use crate::error::Result;
use crate::model::value::AttributeValue as V;
use crate::model::value::{AttributeValue, Item, MAX_NESTING_DEPTH};

/// A document path: a top-level attribute name, then map keys (`.b`) and list indexes (`[2]`).
/// Names are literal: a dot inside a name is part of it, as with `#name` substitution.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(pub Vec<PathElement>);

/// One step of a [`Path`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathElement {
    /// A map key; first in a path, a top-level attribute name.
    Attribute(String),
    /// A list index.
    Index(usize),
}

impl Path {
    /// The top-level attribute `name`.
    pub fn attr(name: impl Into<String>) -> Path {
        Path(vec![PathElement::Attribute(name.into())])
    }

    /// This path, then the map key `name`.
    #[must_use]
    pub fn field(mut self, name: impl Into<String>) -> Path {
        self.0.push(PathElement::Attribute(name.into()));
        self
    }

    /// This path, then the list index `i`.
    #[must_use]
    pub fn index(mut self, i: usize) -> Path {
        self.0.push(PathElement::Index(i));
        self
    }

    /// The value at this path; `None` when a step is missing, an index is past the end, or a
    /// step meets a value of the wrong kind (a key into a list, an index into a map).
    pub fn resolve<'a>(&self, item: &'a Item) -> Option<&'a AttributeValue> {
        let (PathElement::Attribute(name), rest) = self.0.split_first()? else {
            return None;
        };
        rest.iter()
            .try_fold(item.get(name)?, |value, step| match (step, value) {
                (PathElement::Attribute(key), V::M(map)) => map.get(key),
                (PathElement::Index(i), V::L(list)) => list.get(*i),
                _ => None,
            })
    }

    /// The top-level attribute name (empty for a malformed path starting with an index).
    pub fn top_level(&self) -> &str {
        match self.0.first() {
            Some(PathElement::Attribute(name)) => name,
            _ => "",
        }
    }

    /// What DynamoDB's grammar guarantees of a path, checked for typed ones.
    pub(super) fn check(&self, kind: &str) -> Result<()> {
        let problem = match self.0.first() {
            None => "The document path is empty",
            Some(PathElement::Index(_)) => "A document path must start with an attribute name",
            // DynamoDB counts the levels rather than listing a path this long.
            _ if self.0.len() > MAX_NESTING_DEPTH => {
                let levels = self.0.len();
                let problem = "The document path has too many nesting levels";
                return Err(invalid(
                    kind,
                    format!("{problem}; nesting levels: {levels}"),
                ));
            }
            _ if self.0.contains(&PathElement::Attribute(String::new())) => {
                "A document path has an empty attribute name"
            }
            _ => return Ok(()),
        };
        Err(invalid(kind, format!("{problem}; path: {self:#}")))
    }
}

impl From<&str> for Path {
    /// The top-level attribute named exactly `name` (dots are not parsed).
    fn from(name: &str) -> Path {
        Path::attr(name)
    }
}

/// `a.b[2].c`; with `{:#}`, DynamoDB's form in error messages: `[a, b, [2], c]`.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let listed = f.alternate();
        f.write_str(if listed { "[" } else { "" })?;
        for (i, step) in self.0.iter().enumerate() {
            let sep = if i == 0 {
                ""
            } else if listed {
                ", "
            } else {
                "."
            };
            match step {
                PathElement::Attribute(name) => write!(f, "{sep}{name}")?,
                PathElement::Index(n) if listed => write!(f, "{sep}[{n}]")?,
                PathElement::Index(n) => write!(f, "[{n}]")?,
            }
        }
        f.write_str(if listed { "]" } else { "" })
    }
}

/// Rejects two paths that overlap (one is a prefix of the other) or conflict (one takes a key
/// where the other takes an index). Sorting finds them in O(n log n): if any pair offends,
/// some pair of neighbours in sorted order does.
pub(super) fn check_overlaps(paths: &[&Path], kind: &str) -> Result<()> {
    let mut order: Vec<usize> = (0..paths.len()).collect();
    order.sort_by(|&a, &b| paths[a].cmp(paths[b]).then(a.cmp(&b)));
    for pair in order.windows(2) {
        let (one, two) = (paths[pair[0].min(pair[1])], paths[pair[0].max(pair[1])]);
        let problem = match one.0.iter().zip(&two.0).find(|(x, y)| x != y) {
            None => "overlap",
            Some((x, y)) if std::mem::discriminant(x) != std::mem::discriminant(y) => "conflict",
            Some(_) => continue,
        };
        let fix = "must remove or rewrite one of these paths";
        let what = format!("{fix}; path one: {one:#}, path two: {two:#}");
        return Err(invalid(
            kind,
            format!("Two document paths {problem} with each other; {what}"),
        ));
    }
    Ok(())
}
