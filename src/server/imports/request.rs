//! `ImportTable`'s parameters, read and checked before anything is recorded: the bucket
//! and key prefix (neither may reach outside the S3 directory), the input format and its
//! CSV options, the compression, and `TableCreationParameters` read as `CreateTable`'s
//! members. A bad one is a `ValidationException` with the model's or DynamoDB's words.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::api::imports::CsvOptions;
use crate::api::tables::CreateTableInput;
use crate::server::indexes::{self, TableRequest};
use crate::server::operations::input;
use crate::server::protocol::WireError;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct S3BucketSource {
    pub(super) s3_bucket: Option<String>,
    pub(super) s3_key_prefix: Option<String>,
    pub(super) s3_bucket_owner: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ImportTableRequest {
    pub(super) client_token: Option<String>,
    pub(super) s3_bucket_source: S3BucketSource,
    pub(super) input_format: String,
    pub(super) input_format_options: Option<InputFormatOptions>,
    pub(super) input_compression_type: Option<String>,
    pub(super) table_creation_parameters: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct InputFormatOptions {
    csv: Option<CsvRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CsvRequest {
    delimiter: Option<String>,
    header_list: Option<Vec<String>>,
}

/// How the files of an import are read.
#[derive(Clone)]
pub(super) enum Format {
    DynamoDbJson,
    Ion,
    Csv(CsvOptions),
}

/// The request's `InputFormat` and `InputFormatOptions` as a [`Format`], or DynamoDB's
/// refusal.
pub(super) fn format(request: &ImportTableRequest) -> Result<Format, WireError> {
    let csv = (request.input_format_options.as_ref()).and_then(|o| o.csv.as_ref());
    match (request.input_format.as_str(), csv) {
        ("DYNAMODB_JSON", None) => Ok(Format::DynamoDbJson),
        ("ION", None) => Ok(Format::Ion),
        ("CSV", csv) => {
            let mut options = CsvOptions::default();
            if let Some(delimiter) = csv.and_then(|c| c.delimiter.as_deref()) {
                // The model's `CsvDelimiter`: one character.
                let bound = match delimiter.chars().count() {
                    0 => Some("greater than or equal to 1"),
                    1 => None,
                    _ => Some("less than or equal to 1"),
                };
                if let Some(bound) = bound {
                    return Err(WireError::validation(format!(
                        "1 validation error detected: Value '{delimiter}' at 'inputFormatOptions.csv.delimiter' failed to satisfy constraint: Member must have length {bound}"
                    )));
                }
                options = options.delimiter(delimiter.chars().next().unwrap_or(','));
            }
            if let Some(names) = csv.and_then(|c| c.header_list.clone()) {
                options = options.header_list(names);
            }
            crate::import::validate_csv_options(&options)?;
            Ok(Format::Csv(options))
        }
        (format @ ("DYNAMODB_JSON" | "ION"), Some(_)) => Err(WireError::validation(format!(
            "One or more parameter values were invalid: InputFormatOptions.Csv is for the InputFormat CSV only, not {format}"
        ))),
        (other, _) => Err(WireError::validation(format!(
            "tidestore does not support the InputFormat {other}: only DYNAMODB_JSON, ION and CSV"
        ))),
    }
}

/// The model's pattern for `S3Bucket` (`\w` ASCII, as in the service's regular expressions).
const S3_BUCKET_PATTERN: &str = r"^[a-z0-9A-Z]+[\.\-\w]*[a-z0-9A-Z]+$";
/// The model's longest `S3Bucket`.
const MAX_S3_BUCKET_LEN: usize = 255;

/// Why a bucket name is refused, if it is: outside the model's `S3Bucket` (its pattern or
/// length), worded as DynamoDB words the model's checks (ScyllaDB's test_export, run against
/// AWS, for an empty one: "Value '' at 's3Bucket' failed to satisfy constraint"), `path`
/// the member's (`s3Bucket` in an export, `s3BucketSource.s3Bucket` in an import); or with
/// `..`, which the pattern allows but could reach outside the S3 directory.
pub(in crate::server) fn bucket_refusal(bucket: &str, path: &str) -> Option<String> {
    // The pattern: no separator, drive (`C:`), NUL or other character a file system could
    // read otherwise.
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let pattern = bucket.len() >= 2
        && edge(bucket.chars().next())
        && edge(bucket.chars().last())
        && (bucket.chars()).all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    let mut broken = Vec::new();
    if !pattern {
        broken.push(format!(
            "Member must satisfy regular expression pattern: {S3_BUCKET_PATTERN}"
        ));
    }
    if bucket.len() > MAX_S3_BUCKET_LEN {
        broken.push(format!(
            "Member must have length less than or equal to {MAX_S3_BUCKET_LEN}"
        ));
    }
    if !broken.is_empty() {
        let plural = if broken.len() == 1 { "" } else { "s" };
        let errors: Vec<String> = (broken.iter())
            .map(|c| format!("Value '{bucket}' at '{path}' failed to satisfy constraint: {c}"))
            .collect();
        return Some(format!(
            "{} validation error{plural} detected: {}",
            broken.len(),
            errors.join("; ")
        ));
    }
    bucket.contains("..").then(|| {
        format!("One or more parameter values were invalid: S3Bucket {bucket:?} has '..', which tidestore refuses: the bucket is a folder of its S3 directory")
    })
}

/// Why a key prefix could reach outside its bucket, if it could.
pub(super) fn prefix_refusal(prefix: &str) -> Option<String> {
    let bad = prefix.starts_with(['/', '\\'])
        || prefix.contains(['\0', '\\'])
        || prefix.split('/').any(|part| part == "..")
        || prefix.len() > 1024;
    bad.then(|| format!("One or more parameter values were invalid: S3KeyPrefix {prefix:?} is not a key prefix tidestore can read (no '..' segment, leading '/', backslash or NUL)"))
}

/// A request's members without its `ClientToken`: what a request repeated with the token must
/// match for it to be answered with the import or export the token started.
pub(in crate::server) fn without_client_token(body: &Value) -> Value {
    let mut request = body.clone();
    if let Value::Object(members) = &mut request {
        members.remove("ClientToken");
    }
    request
}

/// The members of the model's `TableCreationParameters`.
const TABLE_CREATION_PARAMETERS: [&str; 9] = [
    "TableName",
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "OnDemandThroughput",
    "SSESpecification",
    "GlobalSecondaryIndexes",
    "VectorIndexes",
];

/// `TableCreationParameters` read as `CreateTable`'s members (which hold its shapes).
pub(super) fn table_creation_parameters(
    mut members: Map<String, Value>,
) -> Result<CreateTableInput, WireError> {
    // CreateTable's other members (LocalSecondaryIndexes, Tags, StreamSpecification, …) are
    // not the model's `TableCreationParameters`: ignored, as the service ignores members
    // its model does not define, rather than honoured.
    members.retain(|member, _| TABLE_CREATION_PARAMETERS.contains(&member.as_str()));
    let missing: Vec<String> = ["TableName", "AttributeDefinitions", "KeySchema"]
        .iter()
        .filter(|m| members.get(**m).is_none_or(Value::is_null))
        .map(|m| {
            let mut chars = m.chars();
            let first = chars.next().map(|c| c.to_ascii_lowercase().to_string());
            format!(
                "Value null at 'tableCreationParameters.{}{}' failed to satisfy constraint: Member must not be null",
                first.unwrap_or_default(),
                chars.as_str()
            )
        })
        .collect();
    if !missing.is_empty() {
        let plural = if missing.len() == 1 { "" } else { "s" };
        return Err(WireError::validation(format!(
            "{} validation error{plural} detected: {}",
            missing.len(),
            missing.join("; ")
        )));
    }
    if members.get("VectorIndexes").is_some_and(|v| !v.is_null()) {
        return Err(WireError::validation(
            "tidestore does not support the parameter VectorIndexes of TableCreationParameters",
        ));
    }
    let mut body = Value::Object(members);
    let refusal = indexes::settle(TableRequest::CreateTable, &mut body);
    let table = input::<CreateTableInput>(body)?;
    match refusal {
        Some(refusal) => Err(refusal),
        None => Ok(table),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_prefixes_that_could_escape_are_refused() {
        for bucket in [
            "..",
            "a/b",
            "a\\b",
            "a\0b",
            "",
            ".",
            "x..y",
            "C:",
            "c:x",
            "a:b",
            "a\u{2215}b",
            "\u{ff0e}\u{ff0e}",
            "a b",
            "-a",
            "a.",
        ] {
            assert!(bucket_refusal(bucket, "s3Bucket").is_some(), "{bucket:?}");
        }
        for bucket in ["exports-1.b", "My_Bucket.2", "ab"] {
            assert!(bucket_refusal(bucket, "s3Bucket").is_none(), "{bucket:?}");
        }
        // In the model's words (DynamoDB's, as ScyllaDB's test_export quotes them).
        assert_eq!(
            bucket_refusal("", "s3Bucket").as_deref(),
            Some("1 validation error detected: Value '' at 's3Bucket' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$")
        );
        let long = "b".repeat(256);
        assert_eq!(
            bucket_refusal(&long, "s3BucketSource.s3Bucket").as_deref(),
            Some(format!("1 validation error detected: Value '{long}' at 's3BucketSource.s3Bucket' failed to satisfy constraint: Member must have length less than or equal to 255").as_str())
        );
        let both = bucket_refusal(&format!("-{long}"), "s3Bucket").expect("refused");
        assert!(both.starts_with("2 validation errors detected: "), "{both}");
        assert!(bucket_refusal("x..y", "s3Bucket").is_some_and(|r| r.contains("'..'")));
        for prefix in ["/etc", "../x", "a/../../x", "a\0", "a\\b", "a/.."] {
            assert!(prefix_refusal(prefix).is_some(), "{prefix:?}");
        }
        for prefix in ["", "AWSDynamoDB/0123/data/", "a..b/c", "data"] {
            assert!(prefix_refusal(prefix).is_none(), "{prefix:?}");
        }
    }
}
