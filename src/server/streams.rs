//! DynamoDB Streams on the wire: `ListStreams`, `DescribeStream`, `GetShardIterator` and
//! `GetRecords` under `X-Amz-Target: DynamoDBStreams_20120810.<Op>`, on DynamoDB's port.
//!
//! A Streams request passes the checks every request passes (`http`: content type, JSON,
//! target, signature — Streams sign as service `dynamodb`), then its members are checked
//! against the Streams API model ([`super::model::STREAMS_OPERATIONS`]) as DynamoDB's are
//! against DynamoDB's ([`super::operations::dispatch`]): `DescribeStream`'s `ShardFilter`,
//! which tidestore does not honour, is refused by name. The library's errors keep their
//! exception names (`ExpiredIteratorException`, `TrimmedDataAccessException`,
//! `ResourceNotFoundException`, `ValidationException`) and protocol.rs's namespaces.
//!
//! A DynamoDB operation under the Streams prefix, or a Streams operation under DynamoDB's, is
//! an `UnknownOperationException`, as on DynamoDB: the two APIs share a port, not a model.

use serde_json::Value;

use super::model;
use super::operations::{dispatch, input, output, Served};
use super::protocol::WireError;
use super::Call;
use crate::api::streams::{
    DescribeStreamInput, GetRecordsInput, GetShardIteratorInput, ListStreamsInput,
};

/// Every Streams operation served, sorted by name.
const SERVED: &[Served] = &[
    Served {
        name: "DescribeStream",
        honours: &["ExclusiveStartShardId", "Limit", "StreamArn"],
        handler: describe_stream,
    },
    Served {
        name: "GetRecords",
        honours: &["Limit", "ShardIterator"],
        handler: get_records,
    },
    Served {
        name: "GetShardIterator",
        honours: &[
            "SequenceNumber",
            "ShardId",
            "ShardIteratorType",
            "StreamArn",
        ],
        handler: get_shard_iterator,
    },
    Served {
        name: "ListStreams",
        honours: &["ExclusiveStartStreamArn", "Limit", "TableName"],
        handler: list_streams,
    },
];

/// Whether `name` is one of DynamoDB Streams' operations.
pub(super) fn is_streams_operation(name: &str) -> bool {
    model::streams_operation(name).is_some()
}

/// Runs the Streams operation `name` on `body`; the answer's JSON body, or the error to send.
pub(super) fn call(call: &Call<'_>, name: &str, body: Value) -> Result<Value, WireError> {
    dispatch(model::streams_operation(name), SERVED, call, name, body)
}

fn list_streams(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let request: ListStreamsInput = input(body)?;
    output(state.db.list_streams(request))
}

fn describe_stream(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let request: DescribeStreamInput = input(body)?;
    output(state.db.describe_stream(request))
}

fn get_shard_iterator(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let request: GetShardIteratorInput = input(body)?;
    output(state.db.get_shard_iterator(request))
}

fn get_records(state: &Call<'_>, body: Value) -> Result<Value, WireError> {
    let request: GetRecordsInput = input(body)?;
    output(state.db.get_records(request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_operation_is_in_the_streams_model_and_honours_only_its_members() {
        assert!(SERVED.windows(2).all(|w| w[0].name < w[1].name), "sorted");
        assert_eq!(SERVED.len(), model::STREAMS_OPERATIONS.len(), "all four");
        for served in SERVED {
            let model = model::streams_operation(served.name).expect("a Streams operation");
            assert!(model::operation(served.name).is_none(), "not DynamoDB's");
            for member in served.honours {
                assert!(model.members.contains(member), "{}: {member}", served.name);
            }
            for required in model.required {
                assert!(
                    served.honours.contains(required),
                    "{} needs {required}",
                    served.name
                );
            }
        }
    }
}
