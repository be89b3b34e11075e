//! The shapes of `ImportTable`, DynamoDB's bulk load: a new table made from a whole set of
//! items at once. DynamoDB reads them from S3; an embedder hands them over as an iterator
//! ([`Database::import_table`](crate::Database::import_table)). The answer has the API
//! model's field names.

use serde::{Deserialize, Serialize};

use crate::api::tables::CreateTableInput;
use crate::model::clock::Timestamp;

/// The most item errors an import's answer lists ([`ImportTableDescription::item_errors`]);
/// every error is counted in `ErrorCount`.
pub const MAX_IMPORT_ITEM_ERRORS: usize = 100;

/// The longest line of DynamoDB JSON an import reads
/// ([`Database::import_table_from_dynamodb_json`](crate::Database::import_table_from_dynamodb_json)):
/// an item is at most 400 KB, and its JSON at most a few times that (base64, escapes). A
/// longer line is an item in error, and is not read whole.
pub const MAX_IMPORT_LINE_BYTES: usize = 8 << 20;

/// The deepest a value of an Amazon Ion source nests
/// ([`Database::import_table_from_ion`](crate::Database::import_table_from_ion); the
/// wrapper struct `{Item: …}` is depth 1, the item 2): past DynamoDB's
/// [`MAX_NESTING_DEPTH`](crate::MAX_NESTING_DEPTH) for the item's values, so that no item
/// DynamoDB takes is refused as Ion (validating the item refuses the rest), and bounded, so
/// that nesting cannot exhaust the stack. Deeper is a malformed source.
pub const MAX_ION_DEPTH: usize = crate::model::value::MAX_NESTING_DEPTH + 3;

/// The delimiters DynamoDB's CSV imports take (the model's `CsvDelimiter`, `[,;:|\t ]`).
pub const CSV_DELIMITERS: [char; 6] = [',', ';', ':', '|', '\t', ' '];

/// How a CSV source is read ([`Database::import_table_from_csv`](crate::Database::import_table_from_csv)):
/// DynamoDB's `InputFormatOptions.Csv`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct CsvOptions {
    /// What separates the values of a line: one of [`CSV_DELIMITERS`] (`,` by default).
    pub delimiter: char,
    /// The columns' names, the same for every file, whose first line is then data; without
    /// it the first line of each file names its columns. 1 to 255 names, each 1 to 65,536
    /// printable ASCII characters other than `"` and `,` (the model's `CsvHeader`).
    pub header_list: Option<Vec<String>>,
}

impl Default for CsvOptions {
    fn default() -> CsvOptions {
        CsvOptions {
            delimiter: ',',
            header_list: None,
        }
    }
}

impl CsvOptions {
    /// Values separated by `delimiter`.
    pub fn delimiter(mut self, delimiter: char) -> CsvOptions {
        self.delimiter = delimiter;
        self
    }

    /// Columns named `names`, in every file, whose first line is then data.
    pub fn header_list<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> CsvOptions {
        self.header_list = Some(names.into_iter().map(Into::into).collect());
        self
    }
}

/// `ImportTable`'s request, less its source (the items, passed beside it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ImportTableInput {
    /// The table to create (`TableCreationParameters`), checked as `create_table` checks
    /// it. As in DynamoDB's `TableCreationParameters`, it has no stream and no tags: a
    /// request with either is refused (add them with `update_table` and `tag_resource` once
    /// the table exists).
    pub table_creation_parameters: CreateTableInput,
    /// The new table's id, when the caller allocated it before the import began (the
    /// server's ImportTable answers `TableId` at once, as DynamoDB's does, so the table
    /// must get that id). Not public: an id is a table's file name, and one already in use
    /// would overwrite another table's snapshot; the server's ids are fresh UUIDs.
    #[serde(skip)]
    pub(crate) table_id: Option<String>,
}

impl ImportTableInput {
    /// An import into a new table defined by `table`.
    pub fn new(table: CreateTableInput) -> ImportTableInput {
        ImportTableInput {
            table_creation_parameters: table,
            table_id: None,
        }
    }
}

/// An import's state (`ImportStatus`). An import runs before
/// [`Database::import_table`](crate::Database::import_table) returns, so an answer is always
/// COMPLETED; an import that fails answers an error instead (see there).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ImportStatus {
    /// The table exists with the imported items.
    Completed,
}

/// An item an import left out, and why (DynamoDB writes these to CloudWatch Logs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ImportItemError {
    /// The item's place in the source, from 0 (for a DynamoDB JSON source, its line,
    /// blank lines not counted; for CSV, its line over all the files, header lines and
    /// blank lines not counted, but a header line in error counted as one item).
    pub item_number: u64,
    /// The exception a `PutItem` of it would have answered (`ValidationException`).
    pub error_code: String,
    /// Its message.
    pub message: String,
}

/// `ImportTableDescription`: what an import did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ImportTableDescription {
    /// `arn:aws:dynamodb:{region}:{account}:table/{table}/import/{ms:014}-{8 hex}`.
    pub import_arn: String,
    /// COMPLETED.
    pub import_status: ImportStatus,
    /// The new table's ARN.
    pub table_arn: String,
    /// The new table's id.
    pub table_id: String,
    /// The request's table definition.
    pub table_creation_parameters: CreateTableInput,
    /// When the import began.
    pub start_time: Timestamp,
    /// When the table was committed.
    pub end_time: Timestamp,
    /// Items handed over.
    pub processed_item_count: u64,
    /// The bytes of the source read, as DynamoDB counts them (uncompressed: a gzip'd file
    /// counts as its content) for the imports from DynamoDB JSON, Ion or CSV; for
    /// [`Database::import_table`](crate::Database::import_table), whose source is items,
    /// their DynamoDB size (of those that have one).
    pub processed_size_bytes: u64,
    /// Items written: those handed over less the ones in error, so that `ProcessedItemCount
    /// == ImportedItemCount + ErrorCount`. As DynamoDB counts them, an item a later one of
    /// the same key replaced counts too (it is no error): the table holds the distinct keys,
    /// perhaps fewer items than this (5 lines of 3 keys import 5, and the table holds 3).
    pub imported_item_count: u64,
    /// Items left out because they are not valid in the table: a `PutItem` of each would
    /// have been refused (a missing or mistyped key attribute, an index key attribute of
    /// the wrong type, an item over 400 KB, …).
    pub error_count: u64,
    /// The first [`MAX_IMPORT_ITEM_ERRORS`] items left out (not a member of DynamoDB's
    /// answer, which logs them to CloudWatch Logs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub item_errors: Vec<ImportItemError>,
}

/// `ImportTable`'s output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ImportTableOutput {
    /// What the import did.
    pub import_table_description: ImportTableDescription,
}
