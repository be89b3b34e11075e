//! Names and ARNs.
//!
//! DynamoDB's naming rules (tables, indexes and backups: 3–255 characters of
//! `[a-zA-Z0-9_.-]`; key attribute names 1–255 bytes) and the ARN formats of tables, indexes,
//! streams and backups. The rules also keep file names safe: nothing that passes
//! [`validate_table_name`] can contain a path separator, and `.`/`..` are too short to pass.

use crate::error::{Error, Result};

/// The shortest table, index or backup name.
pub const MIN_NAME_LEN: usize = 3;
/// The longest table, index or backup name.
pub const MAX_NAME_LEN: usize = 255;
/// The longest key attribute name, in bytes.
pub const MAX_KEY_ATTRIBUTE_NAME_LEN: usize = 255;

fn validate_resource_name(kind: &str, field: &str, name: &str) -> Result<()> {
    let len = name.chars().count();
    if !(MIN_NAME_LEN..=MAX_NAME_LEN).contains(&len) {
        return Err(Error::validation(format!(
            "1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: Member must have length between {MIN_NAME_LEN} and {MAX_NAME_LEN} ({kind} names are {len} characters here)"
        )));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(Error::validation(format!(
            "1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )));
    }
    Ok(())
}

/// Checks a table name: 3–255 characters of `[a-zA-Z0-9_.-]`.
pub fn validate_table_name(name: &str) -> Result<()> {
    validate_resource_name("table", "tableName", name)
}

/// Checks an index name: same rules as a table name.
pub fn validate_index_name(name: &str) -> Result<()> {
    validate_resource_name("index", "indexName", name)
}

/// Checks a backup name: same rules as a table name.
pub fn validate_backup_name(name: &str) -> Result<()> {
    validate_resource_name("backup", "backupName", name)
}

/// Checks the name of a key attribute (table or index key, or a projected attribute):
/// 1–255 bytes.
pub fn validate_key_attribute_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_KEY_ATTRIBUTE_NAME_LEN {
        return Err(Error::validation(format!(
            "One or more parameter values were invalid: key attribute name '{name}' must be between 1 and {MAX_KEY_ATTRIBUTE_NAME_LEN} bytes long"
        )));
    }
    Ok(())
}

/// The region and account that ARNs name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ArnScope {
    pub region: String,
    pub account: String,
}

impl ArnScope {
    /// `arn:aws:dynamodb:{region}:{account}:table/{name}`.
    pub fn table_arn(&self, table: &str) -> String {
        format!(
            "arn:aws:dynamodb:{}:{}:table/{table}",
            self.region, self.account
        )
    }

    /// `…:table/{table}/index/{index}`.
    pub fn index_arn(&self, table: &str, index: &str) -> String {
        format!("{}/index/{index}", self.table_arn(table))
    }

    /// `…:table/{table}/stream/{label}`.
    pub fn stream_arn(&self, table: &str, label: &str) -> String {
        format!("{}/stream/{label}", self.table_arn(table))
    }

    /// The table name a request names, given either a name or this scope's table ARN.
    /// An ARN of another region or account, or of something other than a table, is a
    /// validation error rather than a lookup of a table that cannot exist here.
    pub fn table_name_of<'a>(&self, name_or_arn: &'a str) -> Result<&'a str> {
        if !name_or_arn.starts_with("arn:") {
            validate_table_name(name_or_arn)?;
            return Ok(name_or_arn);
        }
        let prefix = format!("arn:aws:dynamodb:{}:{}:table/", self.region, self.account);
        match name_or_arn.strip_prefix(&prefix) {
            Some(name) if validate_table_name(name).is_ok() => Ok(name),
            _ => Err(Error::validation(format!(
                "Invalid TableArn: '{name_or_arn}' is not a table ARN of region {} and account {}",
                self.region, self.account
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_follow_dynamodb_rules() {
        for ok in ["abc", "Music_Collection-1.0", &"a".repeat(255)] {
            assert!(validate_table_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "a\0b",
            "%2e%2e",
            "ta ble",
            "tāble",
            &"a".repeat(256),
        ] {
            assert!(
                matches!(validate_table_name(bad), Err(Error::Validation(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn table_arns_resolve_to_names_only_in_their_scope() {
        let scope = ArnScope {
            region: "us-east-1".into(),
            account: "000000000000".into(),
        };
        let arn = scope.table_arn("Music");
        assert_eq!(arn, "arn:aws:dynamodb:us-east-1:000000000000:table/Music");
        assert_eq!(scope.table_name_of(&arn).ok(), Some("Music"));
        assert_eq!(scope.table_name_of("Music").ok(), Some("Music"));
        assert!(scope
            .table_name_of("arn:aws:dynamodb:eu-west-1:000000000000:table/Music")
            .is_err());
        assert!(scope.table_name_of(&format!("{arn}/index/i")).is_err());
    }
}
