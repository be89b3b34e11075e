//! A stream's records, made from the log's: one [`Record`] per item write of a
//! `Mutation::WithPrior` to the stream's table, from what the write left and what the
//! item was before it (`format/mutation.rs`).

use crate::api::streams::{Identity, OperationType, Record, StreamRecord};
use crate::error::{Error, Result};
use crate::format::codec;
use crate::format::mutation::{ItemWrite, Mutation, Prior};
use crate::model::clock::Timestamp;
use crate::model::schema::{KeyShape, StreamViewType};
use crate::model::value::{item_size, Item};
use crate::model::Lsn;
use crate::streams::position::sequence_number;

/// The record format's version, as DynamoDB reports it.
const EVENT_VERSION: &str = "1.1";

/// One change of a stream, with its place in the record that logged it.
#[derive(Debug)]
pub(crate) struct Change {
    /// Its item write's index in the logged record.
    pub index: u32,
    pub record: Record,
}

/// What a stream shows of its table's writes.
#[derive(Debug)]
pub(crate) struct Shown<'a> {
    pub table_id: &'a str,
    pub key: &'a KeyShape,
    pub view: StreamViewType,
    pub region: &'a str,
}

/// The changes to the stream's table that the logged record `lsn` (committed at `time`,
/// `payload` a `Mutation::WithPrior`) made, from its item write `from` on, in order.
/// A record of another kind has none.
pub(crate) fn changes_of(
    shown: &Shown<'_>,
    lsn: Lsn,
    time: Timestamp,
    payload: &[u8],
    from: u32,
) -> Result<Vec<Change>> {
    if !Mutation::has_prior(payload) {
        return Ok(Vec::new());
    }
    let corrupt = |what: &str| Error::Corruption(format!("log record {lsn}: {what}"));
    let Mutation::WithPrior { mutation, prior } =
        codec::decode(payload, format_args!("log record {lsn}"))?
    else {
        return Err(corrupt("not a write with prior items"));
    };
    let (writes, by_service) = match *mutation.0 {
        Mutation::Write(writes) | Mutation::TokenWrite { writes, .. } => (writes, false),
        Mutation::ExpireItems { table_id, keys } => {
            let writes = keys.into_iter().map(|key| ItemWrite {
                table_id: std::sync::Arc::clone(&table_id),
                key,
                item: None,
            });
            (writes.collect(), true)
        }
        _ => return Err(corrupt("prior items of a change that is not a write")),
    };
    if writes.len() != prior.len() || writes.len() > crate::streams::position::MAX_WRITES {
        return Err(corrupt("as many prior items as item writes"));
    }
    let shows_new = matches!(
        shown.view,
        StreamViewType::NewImage | StreamViewType::NewAndOldImages
    );
    let mut changes = Vec::new();
    for (index, (write, prior)) in writes.into_iter().zip(prior).enumerate() {
        let index = index as u32;
        if index < from || *write.table_id != *shown.table_id {
            continue;
        }
        let (event, old_image) = match (prior, &write.item) {
            (Prior::Unstreamed | Prior::Unchanged, _) | (Prior::Absent, None) => continue,
            (Prior::Absent, Some(_)) => (OperationType::Insert, None),
            (Prior::Present, Some(_)) => (OperationType::Modify, None),
            (Prior::Present, None) => (OperationType::Remove, None),
            (Prior::Image(old), Some(_)) => (OperationType::Modify, Some(old.decode())),
            (Prior::Image(old), None) => (OperationType::Remove, Some(old.decode())),
        };
        let keys = shown.key.decode(&write.key)?;
        let new_image = write.item.filter(|_| shows_new).map(|i| i.decode());
        let size = |image: &Option<Item>| image.as_ref().map_or(0, item_size);
        let size_bytes = item_size(&keys) + size(&new_image) + size(&old_image);
        let record = Record {
            event_id: event_id(shown.table_id, lsn, index),
            event_name: event,
            event_version: EVENT_VERSION.into(),
            event_source: "aws:dynamodb".into(),
            aws_region: shown.region.into(),
            dynamodb: StreamRecord {
                // The commit time, rounded down to the second as the Streams API says.
                approximate_creation_date_time: Timestamp(time.0 - time.0 % 1000),
                keys,
                new_image,
                old_image,
                sequence_number: sequence_number(lsn, index),
                size_bytes: size_bytes as u64,
                stream_view_type: shown.view,
            },
            user_identity: by_service.then(|| Identity {
                principal_id: "dynamodb.amazonaws.com".into(),
                kind: "Service".into(),
            }),
        };
        changes.push(Change { index, record });
    }
    Ok(changes)
}

/// A record's `eventID`: 32 hex digits, unique to the table's incarnation and the change,
/// and the same on every read of it.
fn event_id(table_id: &str, lsn: Lsn, index: u32) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for &byte in table_id.as_bytes() {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    format!("{hash:08x}{lsn:016x}{index:08x}")
}
