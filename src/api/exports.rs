//! The shapes of `ExportTableToPointInTime`: a table as it was at a moment of its
//! point-in-time recovery window, written in DynamoDB's S3 export layout
//! ([`Database::export_table_to_point_in_time`](crate::Database::export_table_to_point_in_time)).
//! The answer has the API model's field names (`ExportDescription`).

use serde::{Deserialize, Serialize};

use crate::model::clock::Timestamp;
use crate::model::value::Item;

/// How many items one data file of an export holds at most: DynamoDB writes at least one
/// file per partition; here the files are cut by count, so that no file grows without bound.
pub const MAX_EXPORT_FILE_ITEMS: u64 = 100_000;

/// `ExportTableToPointInTime`'s request, less where the files go (a folder standing in for
/// the S3 bucket, passed beside it). Only what tidestore honours is here: a FULL_EXPORT or
/// an INCREMENTAL_EXPORT in DYNAMODB_JSON or ION, unencrypted, of every item or of those a
/// [`FilterSpecification`] selects.
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
    /// FULL_EXPORT (the default) or INCREMENTAL_EXPORT, which needs
    /// `incremental_export_specification` and refuses `export_time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_type: Option<ExportType>,
    /// The window of an incremental export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental_export_specification: Option<IncrementalExportSpecification>,
    /// Which items, and which of their attributes, the export writes (every item, whole,
    /// when `None`). Checked before anything is read: a bad one is a `ValidationException`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_specification: Option<FilterSpecification>,
    /// DYNAMODB_JSON (the default) or ION: how the data files write the items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_format: Option<ExportFormat>,
}

/// `ExportFormat`: how an export's data files write the items, as DynamoDB's developer
/// guide draws them ("DynamoDB table export output format").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ExportFormat {
    /// One line of DynamoDB JSON an item, `{"Item":{…}}`, in `data/*.json.gz`.
    #[default]
    DynamodbJson,
    /// One line of Amazon Ion text an item, `$ion_1_0 {Item:{…}}`, in `data/*.ion.gz`.
    Ion,
}

impl ExportFormat {
    /// The API model's name (also the summary manifest's `outputFormat`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::DynamodbJson => "DYNAMODB_JSON",
            ExportFormat::Ion => "ION",
        }
    }

    /// The extension of its data files, before `.gz`.
    pub(crate) fn extension(self) -> &'static str {
        match self {
            ExportFormat::DynamodbJson => "json",
            ExportFormat::Ion => "ion",
        }
    }
}

/// `FilterSpecification`: which items an export writes, and which of their attributes, as
/// DynamoDB's developer guide ("Filtering a table export") gives it. Any of the three
/// expressions may be given, alone or together, sharing one pair of substitution maps:
///
/// - `KeyConditionExpression`: Query's syntax and rules: an equality on the partition key,
///   optionally a condition on the sort key; no other attribute. It narrows what the
///   export counts as read (`BilledSizeBytes`), as DynamoDB reads less; tidestore still
///   passes over the whole table's state, skipping the keys outside it.
/// - `FilterExpression`: Scan's filter syntax, on any attribute, but on no key attribute
///   when a `KeyConditionExpression` is given. An incremental export tests it on each
///   changed item's latest image, or on its old image for an item deleted.
/// - `ProjectionExpression`: the attributes kept of each item written (of each image, for
///   an incremental export, whose `Keys` stay whole).
///
/// The expressions are checked as Query's and Scan's are (syntax, undefined and unused
/// substitutions, the 4 KB size and 300 operators of any expression), with the same
/// messages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
#[non_exhaustive]
pub struct FilterSpecification {
    /// `KeyConditionExpression`: one partition, optionally part of its sort key range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_condition_expression: Option<String>,
    /// `FilterExpression`: the condition an item (or image) must meet to be written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_expression: Option<String>,
    /// `ProjectionExpression`: the attributes written of each item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection_expression: Option<String>,
    /// `ExpressionAttributeNames`: `#name` to the attribute name it stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression_attribute_names: Option<std::collections::BTreeMap<String, String>>,
    /// `ExpressionAttributeValues`: `:value` to the value it stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression_attribute_values: Option<Item>,
}

impl FilterSpecification {
    /// No expression yet: set them with the setters.
    pub fn new() -> Self {
        FilterSpecification::default()
    }

    /// Adds an entry of `ExpressionAttributeNames`: `#placeholder` stands for `name`.
    pub fn expression_attribute_name(
        mut self,
        placeholder: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        self.expression_attribute_names
            .get_or_insert_with(Default::default)
            .insert(placeholder.into(), name.into());
        self
    }

    /// Adds an entry of `ExpressionAttributeValues`: `:placeholder` stands for `value`.
    pub fn expression_attribute_value(
        mut self,
        placeholder: impl Into<String>,
        value: impl Into<crate::model::value::AttributeValue>,
    ) -> Self {
        self.expression_attribute_values
            .get_or_insert_with(Default::default)
            .insert(placeholder.into(), value.into());
        self
    }
}

crate::api::setters!(FilterSpecification {
    key_condition_expression: impl Into<String> => Some(key_condition_expression.into()),
    filter_expression: impl Into<String> => Some(filter_expression.into()),
    projection_expression: impl Into<String> => Some(projection_expression.into()),
    expression_attribute_names: std::collections::BTreeMap<String, String> => Some(expression_attribute_names),
    expression_attribute_values: Item => Some(expression_attribute_values),
});

/// `ExportType`: the table at a moment, or the changes of a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ExportType {
    /// Every item of the table at `ExportTime`.
    FullExport,
    /// Each item changed in `[ExportFromTime, ExportToTime)`, once.
    IncrementalExport,
}

impl ExportType {
    /// The API model's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportType::FullExport => "FULL_EXPORT",
            ExportType::IncrementalExport => "INCREMENTAL_EXPORT",
        }
    }
}

/// `ExportViewType`: which images of a changed item an incremental export writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ExportViewType {
    /// The item at the window's end (`NewImage`), absent if it was deleted.
    NewImage,
    /// Also the item at the window's start (`OldImage`), absent if it did not exist.
    NewAndOldImages,
}

impl ExportViewType {
    /// The API model's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportViewType::NewImage => "NEW_IMAGE",
            ExportViewType::NewAndOldImages => "NEW_AND_OLD_IMAGES",
        }
    }
}

/// The shortest window an incremental export takes (DynamoDB's: "from 15 minutes up to 24
/// hours", its announcement of incremental export), in milliseconds.
pub const MIN_INCREMENTAL_EXPORT_PERIOD_MS: u64 = 15 * 60 * 1000;
/// The longest window an incremental export takes, in milliseconds.
pub const MAX_INCREMENTAL_EXPORT_PERIOD_MS: u64 = 24 * 60 * 60 * 1000;

/// `IncrementalExportSpecification`: the window `[ExportFromTime, ExportToTime)` of an
/// incremental export, inside the table's recovery window, 15 minutes to 24 hours long.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct IncrementalExportSpecification {
    /// The window's first moment (inclusive). Required by tidestore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_from_time: Option<Timestamp>,
    /// The moment after the window (exclusive); the latest restorable moment when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_to_time: Option<Timestamp>,
    /// NEW_AND_OLD_IMAGES when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_view_type: Option<ExportViewType>,
}

impl IncrementalExportSpecification {
    /// The window `[from, to)`, both images.
    pub fn new(from: Timestamp, to: Timestamp) -> Self {
        IncrementalExportSpecification {
            export_from_time: Some(from),
            export_to_time: Some(to),
            export_view_type: None,
        }
    }
}

crate::api::setters!(IncrementalExportSpecification {
    export_from_time: Timestamp => Some(export_from_time),
    export_to_time: Timestamp => Some(export_to_time),
    export_view_type: ExportViewType => Some(export_view_type),
});

impl ExportTableToPointInTimeInput {
    /// An export of `table` (name or ARN), as it is now, to the bucket `s3_bucket`.
    pub fn new(table: impl Into<String>, s3_bucket: impl Into<String>) -> Self {
        ExportTableToPointInTimeInput {
            table_arn: table.into(),
            export_time: None,
            s3_bucket: s3_bucket.into(),
            s3_prefix: None,
            export_id: None,
            export_type: None,
            incremental_export_specification: None,
            filter_specification: None,
            export_format: None,
        }
    }

    /// An incremental export of `table` (name or ARN) over `spec`'s window, to `s3_bucket`.
    pub fn incremental(
        table: impl Into<String>,
        s3_bucket: impl Into<String>,
        spec: IncrementalExportSpecification,
    ) -> Self {
        let mut input = Self::new(table, s3_bucket);
        input.export_type = Some(ExportType::IncrementalExport);
        input.incremental_export_specification = Some(spec);
        input
    }
}

crate::api::setters!(ExportTableToPointInTimeInput {
    export_time: Timestamp => Some(export_time),
    s3_prefix: impl Into<String> => Some(s3_prefix.into()),
    export_id: impl Into<String> => Some(export_id.into()),
    export_type: ExportType => Some(export_type),
    incremental_export_specification: IncrementalExportSpecification => Some(incremental_export_specification),
    filter_specification: FilterSpecification => Some(filter_specification),
    export_format: ExportFormat => Some(export_format),
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
    /// The moment exported; for an incremental export, its window's `ExportToTime`.
    pub export_time: Timestamp,
    /// The bucket.
    pub s3_bucket: String,
    /// The key prefix, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_prefix: Option<String>,
    /// `DYNAMODB_JSON` or `ION`.
    pub export_format: String,
    /// `FULL_EXPORT` or `INCREMENTAL_EXPORT`.
    pub export_type: String,
    /// An incremental export's window and view type, all three given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental_export_specification: Option<IncrementalExportSpecification>,
    /// The filter the export was given, as it was given (its numbers in canonical form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_specification: Option<FilterSpecification>,
    /// The DynamoDB size of the items the export read (DynamoDB bills an export by the size
    /// of the data it processes); for an incremental export, of the images of its changed
    /// items. A `KeyConditionExpression` narrows it to the items of its key range; a
    /// `FilterExpression` and a `ProjectionExpression` do not, as the developer guide says
    /// of a filter: it is applied after the data is read.
    pub billed_size_bytes: u64,
    /// The items written (an incremental export's lines: one per changed item the filter
    /// kept): what a reader of the export's files finds, as the manifests count it.
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
