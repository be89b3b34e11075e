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

/// DynamoDB's refusal of a string member whose length (in characters) is outside the service
/// model's `min..=max`, in the model's words: `1 validation error detected: Value '…' at
/// 'member' failed to satisfy constraint: Member must have length …`.
pub(crate) fn check_length(value: &str, member: &str, min: usize, max: usize) -> Result<()> {
    let len = value.chars().count();
    let bound = if len < min {
        format!("greater than or equal to {min}")
    } else if len > max {
        format!("less than or equal to {max}")
    } else {
        return Ok(());
    };
    Err(Error::validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must have length {bound}"
    )))
}

/// The shortest backup ARN the API accepts (the service model's `BackupArn`).
pub const MIN_BACKUP_ARN_LEN: usize = 37;
/// The longest backup ARN the API accepts.
pub const MAX_BACKUP_ARN_LEN: usize = 1024;

/// The longest `ResourceArn` the API accepts (the service model's `ResourceArnString`).
pub const MAX_RESOURCE_ARN_LEN: usize = 1283;

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

    /// Checks a `BackupArn` parameter: the service model's length (37–1024) and the shape of
    /// this scope's backup ARNs, `{table ARN}/backup/{14 digits}-{8 lowercase hex}`. A
    /// malformed ARN is a validation error, as in DynamoDB, not a lookup that cannot succeed
    /// (`BackupNotFound` is for a well-formed ARN of no backup).
    pub fn validate_backup_arn(&self, arn: &str) -> Result<()> {
        check_length(arn, "backupArn", MIN_BACKUP_ARN_LEN, MAX_BACKUP_ARN_LEN)?;
        let well_formed = arn
            .rsplit_once("/backup/")
            .and_then(|(table_arn, id)| Some((self.table_name_of(table_arn).ok()?, id)))
            .is_some_and(|(_, id)| {
                let id = id.as_bytes();
                id.len() == 23
                    && id[..14].iter().all(u8::is_ascii_digit)
                    && id[14] == b'-'
                    && id[15..]
                        .iter()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            });
        if !well_formed || !arn.starts_with("arn:") {
            return Err(Error::validation(format!(
                "Invalid BackupArn: '{arn}' is not a backup ARN of region {} and account {} (arn:aws:dynamodb:{}:{}:table/<table>/backup/<14 digits>-<8 hex>)",
                self.region, self.account, self.region, self.account
            )));
        }
        Ok(())
    }

    /// The table a `ResourceArn` parameter (of the tagging operations) names: the service
    /// model's length (1–1283), then this scope's table ARN, worded as DynamoDB words each
    /// refusal. Only a table's ARN names a resource that has tags: an index's or a stream's
    /// is an invalid table ARN, a backup's no resource ARN at all.
    pub fn table_name_of_resource<'a>(&self, arn: &'a str) -> Result<&'a str> {
        check_length(arn, "resourceArn", 1, MAX_RESOURCE_ARN_LEN)?;
        if !arn.starts_with("arn:") {
            // A table's name (or any other word) is no ARN at all, which DynamoDB says
            // before it looks for a table.
            return Err(Error::validation(format!(
                "One or more parameter values were invalid: ARNs must start with 'arn:': {arn}"
            )));
        }
        if arn.contains("/backup/") && self.validate_backup_arn(arn).is_ok() {
            return Err(Error::validation(format!(
                "One or more parameter values were invalid: Provided Arn is not a DynamoDB resource arn: {arn}"
            )));
        }
        match arn.strip_prefix(&self.table_arn("")) {
            Some(name) if validate_table_name(name).is_ok() => Ok(name),
            _ => Err(Error::validation(format!(
                "Invalid TableArn: Invalid ResourceArn provided as input {arn}"
            ))),
        }
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
    fn backup_arns_are_checked_for_length_and_shape() {
        let scope = ArnScope {
            region: "us-east-1".into(),
            account: "000000000000".into(),
        };
        let good =
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/backup/01576616366715-b4e58d3a";
        assert!(scope.validate_backup_arn(good).is_ok());
        let long = format!(
            "{}/backup/01576616366715-b4e58d3a",
            scope.table_arn(&"t".repeat(255))
        );
        assert!(scope.validate_backup_arn(&long).is_ok());
        for bad in [
            "",
            "not-an-arn",
            "short",
            &"x".repeat(1025),
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/backup/0157661636671-b4e58d3a",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/backup/01576616366715-B4E58D3A",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/backup/01576616366715_b4e58d3a",
            "arn:aws:dynamodb:eu-west-1:000000000000:table/Music/backup/01576616366715-b4e58d3a",
            "arn:aws:dynamodb:us-east-1:000000000000:table/a/backup/01576616366715-b4e58d3a",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/stream/01576616366715-b4e58d3a",
        ] {
            let error = scope.validate_backup_arn(bad).expect_err(bad);
            assert_eq!(error.exception_name(), "ValidationException", "{bad}");
        }
    }

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

    #[test]
    fn resource_arns_are_table_arns_of_the_scope_refused_in_dynamodbs_words() {
        let scope = ArnScope {
            region: "us-east-1".into(),
            account: "000000000000".into(),
        };
        let arn = scope.table_arn("Music");
        assert_eq!(scope.table_name_of_resource(&arn).ok(), Some("Music"));
        let refusal = |arn: &str| match scope.table_name_of_resource(arn) {
            Err(Error::Validation(message)) => message,
            other => panic!("{arn} was not refused: {other:?}"),
        };
        // No ARN at all, as DynamoDB answers a bare name or any word.
        for bad in ["Music", "a:b:c:d:e:f/g"] {
            assert_eq!(
                refusal(bad),
                format!(
                    "One or more parameter values were invalid: ARNs must start with 'arn:': {bad}"
                )
            );
        }
        for bad in [
            "arn:aws:dynamodb:us-east-1:000000000000:table/ab",
            "arn:aws:dynamodb:eu-west-1:000000000000:table/Music",
            "arn:aws:dynamodb:us-east-1:000000000000:table/Music/index/gsi",
        ] {
            assert_eq!(
                refusal(bad),
                format!("Invalid TableArn: Invalid ResourceArn provided as input {bad}")
            );
        }
        let backup = format!("{arn}/backup/01576616366715-b4e58d3a");
        assert_eq!(
            refusal(&backup),
            format!("One or more parameter values were invalid: Provided Arn is not a DynamoDB resource arn: {backup}")
        );
        assert!(refusal("").ends_with("Member must have length greater than or equal to 1"));
        let long = format!("{arn}{}", "x".repeat(1283));
        assert!(refusal(&long).ends_with("Member must have length less than or equal to 1283"));
    }
}
