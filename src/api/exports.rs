//! The shapes of `ExportTableToPointInTime`: a table as it was at a moment of its
//! point-in-time recovery window, written in DynamoDB's S3 export layout
//! ([`Database::export_table_to_point_in_time`](crate::Database::export_table_to_point_in_time)).
//! The answer has the API model's field names (`ExportDescription`).

use serde::{Deserialize, Serialize};

use crate::model::clock::Timestamp;

/// How many items one data file of an export holds at most: DynamoDB writes at least one
/// file per partition; here the files are cut by count, so that no file grows without bound.
pub const MAX_EXPORT_FILE_ITEMS: u64 = 100_000;

/// `ExportTableToPointInTime`'s request, less where the files go (a folder standing in for
/// the S3 bucket, passed beside it). Only what tidestore honours is here: a FULL_EXPORT in
/// DYNAMODB_JSON, unencrypted, of every item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ExportTableToPointInTimeInput {
    /// The table, by ARN or name (`TableNotFoundException` if there is none).
    pub table_arn: String,
    /// The moment whose state is exported: the table after exactly the writes committed at
    /// or before it. Inside the table's point-in-time recovery window
    /// (`InvalidExportTimeException` otherwise); now when `None`.
    pub export_time: Option<Timestamp>,
    /// The bucket's name, written in the manifest and the description (the files go to the
    /// folder passed beside the request).
    pub s3_bucket: String,
    /// The key prefix of every file: `{prefix}/AWSDynamoDB/{ExportId}/…`. `/`-separated
    /// segments, none of them `..`, not starting with `/`, without `\` or NUL (each segment
    /// becomes a folder); at most 1024 bytes.
    pub s3_prefix: Option<String>,
    /// The export's id, `{start ms:014}-{8 lowercase hex}` (made up when `None`): a server
    /// that answers before the export runs names it first.
    pub export_id: Option<String>,
}

impl ExportTableToPointInTimeInput {
    /// An export of `table` (name or ARN), as it is now, to the bucket `s3_bucket`.
    pub fn new(table: impl Into<String>, s3_bucket: impl Into<String>) -> Self {
        ExportTableToPointInTimeInput {
            table_arn: table.into(),
            export_time: None,
            s3_bucket: s3_bucket.into(),
            s3_prefix: None,
            export_id: None,
        }
    }
}

crate::api::setters!(ExportTableToPointInTimeInput {
    export_time: Timestamp => Some(export_time),
    s3_prefix: impl Into<String> => Some(s3_prefix.into()),
    export_id: impl Into<String> => Some(export_id.into()),
});

/// An export's state (`ExportStatus`). The library's export runs before it returns, so its
/// answer is COMPLETED; the server answers IN_PROGRESS first and FAILED for one that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ExportStatus {
    /// Being written.
    InProgress,
    /// Every file written.
    Completed,
    /// Stopped; see `FailureCode` and `FailureMessage`.
    Failed,
}

/// `ExportDescription`: what an export wrote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ExportDescription {
    /// `arn:aws:dynamodb:{region}:{account}:table/{table}/export/{ExportId}`.
    pub export_arn: String,
    /// COMPLETED.
    pub export_status: ExportStatus,
    /// When the export began.
    pub start_time: Timestamp,
    /// When its last file was written.
    pub end_time: Timestamp,
    /// The key of its `manifest-summary.json`.
    pub export_manifest: String,
    /// The table's ARN.
    pub table_arn: String,
    /// The table's id.
    pub table_id: String,
    /// The moment exported.
    pub export_time: Timestamp,
    /// The bucket.
    pub s3_bucket: String,
    /// The key prefix, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_prefix: Option<String>,
    /// `DYNAMODB_JSON`.
    pub export_format: String,
    /// `FULL_EXPORT`.
    pub export_type: String,
    /// The DynamoDB size of the items exported (DynamoDB bills an export by the table's size).
    pub billed_size_bytes: u64,
    /// The items exported.
    pub item_count: u64,
}

/// `ExportTableToPointInTime`'s output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ExportTableToPointInTimeOutput {
    /// What the export wrote.
    pub export_description: ExportDescription,
}
