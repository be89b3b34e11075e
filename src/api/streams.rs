//! The shapes of DynamoDB Streams (`ListStreams`, `DescribeStream`, `GetShardIterator`,
//! `GetRecords`), with the names of the Streams API model (`streams-dynamodb-2012-08-10`).
//!
//! A table with `StreamSpecification {StreamEnabled: true, StreamViewType}` has a stream:
//! every item write that changes an item is one record, in commit order, once, with what
//! the view type shows (`streams/` tells how it is read from the log). Each stream has one
//! shard, open while the stream is enabled and closed by disabling it.

use serde::{Deserialize, Serialize};

use crate::model::clock::Timestamp;
use crate::model::schema::{KeySchemaElement, StreamViewType};
use crate::model::value::Item;

/// `ListStreams`: the streams of one table, or of all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ListStreamsInput {
    /// Only this table's streams (3 to 255 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_name: Option<String>,
    /// At most this many (1 to 100; 100 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Continue after this stream (a previous answer's `LastEvaluatedStreamArn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_start_stream_arn: Option<String>,
}

impl ListStreamsInput {
    /// The streams of every table.
    pub fn new() -> ListStreamsInput {
        ListStreamsInput::default()
    }
}

crate::api::setters!(ListStreamsInput {
    table_name: impl Into<String> => Some(table_name.into()),
    limit: i64 => Some(limit),
    exclusive_start_stream_arn: impl Into<String> => Some(exclusive_start_stream_arn.into()),
});

/// One stream in a `ListStreams` answer (`Stream`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct StreamSummary {
    /// Its ARN: the table's ARN, `/stream/` and its label.
    pub stream_arn: String,
    /// Its table.
    pub table_name: String,
    /// When it was enabled, in ISO 8601 (not unique across tables).
    pub stream_label: String,
}

/// `ListStreams`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ListStreamsOutput {
    /// The streams, in table name order, each table's oldest first.
    pub streams: Vec<StreamSummary>,
    /// Where the next page starts, when there may be one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluated_stream_arn: Option<String>,
}

/// `DescribeStream`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DescribeStreamInput {
    /// The stream.
    pub stream_arn: String,
    /// At most this many shards (1 to 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Continue after this shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_start_shard_id: Option<String>,
}

impl DescribeStreamInput {
    /// Describes `stream_arn`.
    pub fn new(stream_arn: impl Into<String>) -> DescribeStreamInput {
        DescribeStreamInput {
            stream_arn: stream_arn.into(),
            ..DescribeStreamInput::default()
        }
    }
}

crate::api::setters!(DescribeStreamInput {
    limit: i64 => Some(limit),
    exclusive_start_shard_id: impl Into<String> => Some(exclusive_start_shard_id.into()),
});

/// `StreamStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum StreamStatus {
    /// Being enabled (never reported: a stream is enabled with the record that enables it).
    Enabling,
    /// Recording the table's writes.
    Enabled,
    /// Being disabled (never reported, likewise).
    Disabling,
    /// Disabled: its records can still be read until they age out.
    Disabled,
}

/// A shard's `SequenceNumberRange`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct SequenceNumberRange {
    /// The first sequence number the shard can hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_sequence_number: Option<String>,
    /// Its last, once the shard is closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ending_sequence_number: Option<String>,
}

/// A `Shard` of a stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Shard {
    /// Its id (28 to 65 characters).
    pub shard_id: String,
    /// The sequence numbers it spans.
    pub sequence_number_range: SequenceNumberRange,
    /// The shard before it (never: each stream has one shard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_shard_id: Option<String>,
}

/// A stream as `DescribeStream` tells it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct StreamDescription {
    /// Its ARN.
    pub stream_arn: String,
    /// Its label.
    pub stream_label: String,
    /// Enabled or disabled.
    pub stream_status: StreamStatus,
    /// What its records show.
    pub stream_view_type: StreamViewType,
    /// When it was enabled.
    pub creation_request_date_time: Timestamp,
    /// Its table.
    pub table_name: String,
    /// Its table's key.
    pub key_schema: Vec<KeySchemaElement>,
    /// Its shards.
    pub shards: Vec<Shard>,
    /// Where the next page of shards starts, when there may be one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_evaluated_shard_id: Option<String>,
}

/// `DescribeStream`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DescribeStreamOutput {
    /// The stream.
    pub stream_description: StreamDescription,
}

/// Where a shard iterator starts (`ShardIteratorType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShardIteratorType {
    /// At the oldest record kept.
    TrimHorizon,
    /// After the newest record: only records written from now on.
    Latest,
    /// At the record `SequenceNumber`.
    AtSequenceNumber,
    /// Just after the record `SequenceNumber`.
    AfterSequenceNumber,
}

/// `GetShardIterator`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GetShardIteratorInput {
    /// The stream.
    pub stream_arn: String,
    /// The shard.
    pub shard_id: String,
    /// Where the iterator starts.
    pub shard_iterator_type: ShardIteratorType,
    /// The record it starts at or after, for the `*_SEQUENCE_NUMBER` types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
}

impl GetShardIteratorInput {
    /// An iterator of `shard_id` of `stream_arn`, starting as `kind` says.
    pub fn new(
        stream_arn: impl Into<String>,
        shard_id: impl Into<String>,
        kind: ShardIteratorType,
    ) -> GetShardIteratorInput {
        GetShardIteratorInput {
            stream_arn: stream_arn.into(),
            shard_id: shard_id.into(),
            shard_iterator_type: kind,
            sequence_number: None,
        }
    }
}

crate::api::setters!(GetShardIteratorInput {
    sequence_number: impl Into<String> => Some(sequence_number.into()),
});

/// `GetShardIterator`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GetShardIteratorOutput {
    /// The iterator, for `GetRecords`; it expires 15 minutes after it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_iterator: Option<String>,
}

/// `GetRecords`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GetRecordsInput {
    /// Where to read.
    pub shard_iterator: String,
    /// At most this many records (1 to 1,000; 1,000 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

impl GetRecordsInput {
    /// Reads from `shard_iterator`.
    pub fn new(shard_iterator: impl Into<String>) -> GetRecordsInput {
        GetRecordsInput {
            shard_iterator: shard_iterator.into(),
            limit: None,
        }
    }
}

crate::api::setters!(GetRecordsInput {
    limit: i64 => Some(limit),
});

/// What kind of change a record is (`OperationType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum OperationType {
    /// An item was created.
    Insert,
    /// An item was replaced or updated.
    Modify,
    /// An item was deleted.
    Remove,
}

/// Who made a change, when it was not a request (`Identity`): Time to Live's deletes are
/// made by the service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Identity {
    /// `dynamodb.amazonaws.com`.
    pub principal_id: String,
    /// `Service`.
    #[serde(rename = "Type")]
    pub kind: String,
}

/// The change itself (`StreamRecord`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct StreamRecord {
    /// When the change was committed.
    pub approximate_creation_date_time: Timestamp,
    /// The item's key attributes.
    pub keys: Item,
    /// The item after the change, when the view type shows it and there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_image: Option<Item>,
    /// The item before the change, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_image: Option<Item>,
    /// The record's place in its shard: 21 digits, growing in commit order.
    pub sequence_number: String,
    /// The size of the keys and images, by DynamoDB's item sizes.
    pub size_bytes: u64,
    /// The stream's view type.
    pub stream_view_type: StreamViewType,
}

/// One record of a stream (`Record`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Record {
    /// Unique to the record.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// INSERT, MODIFY or REMOVE.
    #[serde(rename = "eventName")]
    pub event_name: OperationType,
    /// The record format's version (`1.1`).
    #[serde(rename = "eventVersion")]
    pub event_version: String,
    /// `aws:dynamodb`.
    #[serde(rename = "eventSource")]
    pub event_source: String,
    /// The database's region.
    #[serde(rename = "awsRegion")]
    pub aws_region: String,
    /// The change.
    pub dynamodb: StreamRecord,
    /// Who made it, for a delete by Time to Live.
    #[serde(
        rename = "userIdentity",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub user_identity: Option<Identity>,
}

/// `GetRecords`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GetRecordsOutput {
    /// The records, in commit order.
    pub records: Vec<Record>,
    /// Where to read next; absent once a closed shard has been read to its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_shard_iterator: Option<String>,
}
