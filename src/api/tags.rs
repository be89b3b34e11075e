//! The shapes of tagging — `TagResource`, `UntagResource`, `ListTagsOfResource` and
//! `CreateTable`'s `Tags` — with the API model's names, and DynamoDB's rules for a tag.
//!
//! The rules and their messages are DynamoDB's as the service applies them: a key of 1 to 128
//! characters, a value of 0 to 256, both of letters (of any script), digits, spaces and
//! `+ - = . _ : / @`; no key starting with `aws:` in any case (reserved for AWS's own tags);
//! at most 50 tags on a table, counted after the request is merged in. A request is taken
//! whole or refused whole.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::setters;
use crate::error::{Error, Result};

/// The most tags a table holds (and the most keys one `UntagResource` names).
pub const MAX_TAGS: usize = 50;
/// The longest tag key, in characters.
const MAX_KEY_CHARS: usize = 128;
/// The longest tag value, in characters.
const MAX_VALUE_CHARS: usize = 256;

/// `Tag`: a key and its value. Keys are case-sensitive, and a table has one value per key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Tag {
    /// 1 to 128 characters; not starting with `aws:`.
    pub key: String,
    /// 0 to 256 characters.
    pub value: String,
}

impl Tag {
    /// The tag `key` = `value`.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Tag {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// `TagResource`: adds tags to a table, or gives keys it has new values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct TagResourceInput {
    /// The table's ARN (`arn:aws:dynamodb:{region}:{account}:table/{name}`).
    pub resource_arn: String,
    /// At least one tag.
    pub tags: Vec<Tag>,
}

impl TagResourceInput {
    /// Tags the table `resource_arn` with `tags`.
    pub fn new(resource_arn: impl Into<String>, tags: impl IntoIterator<Item = Tag>) -> Self {
        TagResourceInput {
            resource_arn: resource_arn.into(),
            tags: tags.into_iter().collect(),
        }
    }
}

/// `UntagResource`: removes tags from a table by key. A key the table does not have is no
/// error.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct UntagResourceInput {
    /// The table's ARN.
    pub resource_arn: String,
    /// 1 to 50 keys.
    pub tag_keys: Vec<String>,
}

impl UntagResourceInput {
    /// Removes the tags `tag_keys` from the table `resource_arn`.
    pub fn new<K: Into<String>>(
        resource_arn: impl Into<String>,
        tag_keys: impl IntoIterator<Item = K>,
    ) -> Self {
        UntagResourceInput {
            resource_arn: resource_arn.into(),
            tag_keys: tag_keys.into_iter().map(Into::into).collect(),
        }
    }
}

/// `ListTagsOfResource`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ListTagsOfResourceInput {
    /// The table's ARN.
    pub resource_arn: String,
    /// Where to go on: the tags whose keys come after this one. A table's tags (at most
    /// 50) fit in one page, so no answer carries a `NextToken`; one given is honoured as
    /// the key to start after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

impl ListTagsOfResourceInput {
    /// The tags of the table `resource_arn`.
    pub fn new(resource_arn: impl Into<String>) -> Self {
        ListTagsOfResourceInput {
            resource_arn: resource_arn.into(),
            next_token: None,
        }
    }
}

setters!(ListTagsOfResourceInput {
    next_token: impl Into<String> => Some(next_token.into()),
});

/// `ListTagsOfResource`'s output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ListTagsOfResourceOutput {
    /// The table's tags, in key order (an empty list for none).
    pub tags: Vec<Tag>,
    /// Never set: every tag is in the one page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Whether DynamoDB takes `c` in a tag: a letter or digit of any script, a space, or one of
/// `+ - = . _ : / @`.
fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "+-=._:/@".contains(c)
}

/// DynamoDB's refusal of a tag key, if it has one.
fn check_key(key: &str) -> Result<()> {
    let chars = key.chars().count();
    if !(1..=MAX_KEY_CHARS).contains(&chars) || !key.chars().all(tag_char) {
        return Err(Error::validation(format!(
            "The Tag Key provided is invalid, Key: {key}"
        )));
    }
    if key.as_bytes()[..4.min(key.len())].eq_ignore_ascii_case(b"aws:") {
        return Err(Error::validation(format!(
            "Tag Key cannot be prefixed with aws:, Key: {key}"
        )));
    }
    Ok(())
}

/// The tags of a `TagResource` (or `CreateTable`) by key, checked as DynamoDB checks them:
/// each key and value, then no key twice. An empty list is refused by `TagResource` only
/// (`CreateTable` takes one), so it is the caller's to refuse.
pub(crate) fn checked_tags(tags: &[Tag]) -> Result<BTreeMap<String, String>> {
    if tags.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    let mut checked = BTreeMap::new();
    for tag in tags {
        check_key(&tag.key)?;
        let chars = tag.value.chars().count();
        if chars > MAX_VALUE_CHARS || !tag.value.chars().all(tag_char) {
            return Err(Error::validation(format!(
                "The Tag Value provided is invalid, Value: {}",
                tag.value
            )));
        }
    }
    for tag in tags {
        if checked.insert(tag.key.clone(), tag.value.clone()).is_some() {
            return Err(Error::validation(format!(
                "Duplicate Tag Keys provided as input: Duplicate Tag Key found {}",
                tag.key
            )));
        }
    }
    Ok(checked)
}

/// The keys of an `UntagResource`, checked as DynamoDB checks them.
pub(crate) fn check_tag_keys(keys: &[String]) -> Result<()> {
    if keys.is_empty() {
        return Err(Error::validation(
            "Atleast one Tag Key needs to be provided as Input.",
        ));
    }
    if keys.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    keys.iter().try_for_each(|key| check_key(key))
}

/// DynamoDB's refusal of a table's 51st tag.
pub(crate) fn too_many_tags() -> Error {
    Error::validation("Number of Tags exceed the current limit for the provided ResourceArn")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(tags: &[Tag]) -> String {
        match checked_tags(tags) {
            Err(Error::Validation(message)) => message,
            other => panic!("{tags:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn tags_are_checked_by_dynamodbs_rules_and_messages() {
        let ok = [
            Tag::new("k".repeat(128), "v".repeat(256)),
            Tag::new("Env", ""),
            Tag::new("sp ace", "a b+c-d=e.f_g:h/i@j"),
            Tag::new("ключ", "café 表\u{a0}\u{3000}"),
            Tag::new("myaws:foo", "x"),
        ];
        assert_eq!(checked_tags(&ok).expect("valid").len(), ok.len());
        let k129 = "k".repeat(129);
        assert_eq!(
            refusal(&[Tag::new(&k129, "v")]),
            format!("The Tag Key provided is invalid, Key: {k129}")
        );
        assert_eq!(
            refusal(&[Tag::new("", "v")]),
            "The Tag Key provided is invalid, Key: "
        );
        let v257 = "v".repeat(257);
        assert_eq!(
            refusal(&[Tag::new("k", &v257)]),
            format!("The Tag Value provided is invalid, Value: {v257}")
        );
        for bad in ["bad#char", "100%", "a,b", "a|b", "🔑", "~a", "tab\there"] {
            assert_eq!(
                refusal(&[Tag::new(bad, "v")]),
                format!("The Tag Key provided is invalid, Key: {bad}")
            );
            assert_eq!(
                refusal(&[Tag::new("k", bad)]),
                format!("The Tag Value provided is invalid, Value: {bad}")
            );
        }
        for reserved in ["aws:foo", "AWS:foo", "aWs:"] {
            assert_eq!(
                refusal(&[Tag::new("good", "v"), Tag::new(reserved, "v")]),
                format!("Tag Key cannot be prefixed with aws:, Key: {reserved}")
            );
        }
        assert_eq!(
            refusal(&[Tag::new("dup", "1"), Tag::new("dup", "2")]),
            "Duplicate Tag Keys provided as input: Duplicate Tag Key found dup"
        );
        let many: Vec<Tag> = (0..51).map(|i| Tag::new(format!("k{i}"), "v")).collect();
        assert_eq!(
            refusal(&many),
            "Number of Tags exceed the current limit for the provided ResourceArn"
        );
        assert_eq!(checked_tags(&many[..50]).expect("50").len(), 50);
    }

    #[test]
    fn untag_keys_are_checked_by_dynamodbs_rules_and_messages() {
        let refusal = |keys: &[String]| match check_tag_keys(keys) {
            Err(Error::Validation(message)) => message,
            other => panic!("{keys:?} was not refused: {other:?}"),
        };
        assert!(check_tag_keys(&["absent".into()]).is_ok());
        assert_eq!(
            refusal(&[]),
            "Atleast one Tag Key needs to be provided as Input."
        );
        let many: Vec<String> = (0..51).map(|i| format!("k{i}")).collect();
        assert_eq!(
            refusal(&many),
            "Number of Tags exceed the current limit for the provided ResourceArn"
        );
        assert_eq!(
            refusal(&["".into()]),
            "The Tag Key provided is invalid, Key: "
        );
        assert_eq!(
            refusal(&["aws:foo".into()]),
            "Tag Key cannot be prefixed with aws:, Key: aws:foo"
        );
    }
}
