//! DynamoDB Streams, read from the log.
//!
//! In tidestore every change already has a place in one durable, totally ordered log, so a
//! stream is that log, exposed: it keeps no copy of its records. A write to a table with a
//! stream is logged with what its items were before it (`Mutation::WithPrior`,
//! `format/mutation.rs`), and a stream's records are made from those log records when they
//! are read (`changes.rs`), in LSN order. That gives, by construction:
//! - commit order, each change once: one record per item write, named by its LSN and its
//!   index in the record (`position.rs`), so the same record reads the same after a
//!   restart or a crash;
//! - only acknowledged changes: a write that failed its condition is never logged, and a
//!   reader sees only records as durable as an acknowledged write (`Wal::readable_lsn`),
//!   so no crash takes back a record a reader saw;
//! - what DynamoDB shows: INSERT, MODIFY or REMOVE from whether the item was there, no
//!   record for a write that changed nothing, images as the view type says, and Time to
//!   Live's deletes made by the service.
//!
//! Each time a table's stream is enabled it is a new stream (`StreamEpoch`: its label, and
//! the LSN of the record that enabled it); its records are the table's writes after that
//! record and before the one that disabled it, if any. Each stream has one shard, open
//! while it is enabled. Records are kept at least `Options::stream_retention` (24 hours by
//! default): the log segments holding them are not removed before (`engine/maintenance.rs`),
//! and a reader may find records somewhat older while their segment is still there. A
//! deleted table's streams end with it and stay readable as long, DISABLED, as DynamoDB's
//! do: its deletion is logged with its schema (`Mutation::DeleteStreamedTable`), which the
//! engine keeps (`Engine::deleted_streams`) and recovery finds again in the log those
//! streams keep.
//!
//! Reading costs the records read, not the log: a shard iterator remembers where in which
//! segment its next record is (`storage/follow.rs`), and one call reads at most a few
//! megabytes of log, so a stream of a quiet table in a busy database answers with no
//! records and an iterator further on, as DynamoDB may.

pub(crate) mod changes;
pub(crate) mod position;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use crate::api::streams::*;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::model::clock::Timestamp;
use crate::model::schema::{KeyShape, StreamEpoch, TableSchema};
use crate::model::Lsn;
use crate::storage::follow::{self, Place};
use changes::{changes_of, Shown};
use position::{parse_sequence_number, sequence_number, shard_id, ShardIterator};

/// The most records one `GetRecords` returns, and its default.
const MAX_RECORDS: usize = 1000;
/// About the most record bytes one `GetRecords` returns: DynamoDB's 1 MB.
const MAX_RECORD_BYTES: u64 = 1 << 20;
/// About the most log bytes one read goes through looking for the stream's records.
const MAX_SCAN_BYTES: usize = 8 << 20;
/// The shortest and longest `StreamArn` the API accepts.
const STREAM_ARN_LEN: (usize, usize) = (37, 1024);

/// A stream found by its ARN: its table and which of the table's streams.
#[derive(Debug)]
struct Found {
    /// Its table's id (a deleted table's too).
    table_id: Arc<str>,
    arn: String,
    table_name: String,
    key: KeyShape,
    stream: StreamEpoch,
    key_schema: Vec<crate::model::schema::KeySchemaElement>,
}

impl Found {
    /// The first LSN the stream can hold a record of.
    fn first(&self) -> Lsn {
        self.stream.enabled + 1
    }

    /// The LSN past the last record the stream can hold, once it is disabled.
    fn end(&self) -> Option<Lsn> {
        self.stream.disabled.map(|(lsn, _)| lsn)
    }
}

/// Checks a `StreamArn` parameter: the model's length, in DynamoDB's words, then the shape
/// of a stream's ARN, `arn:<partition>:dynamodb:<region>:<account>:table/<name>/stream/<label>`
/// — a malformed one is a `ValidationException`, as DynamoDB answers (ScyllaDB's
/// Alternator tests, which pass on DynamoDB, hold it to this); one well formed that names
/// no stream is `ResourceNotFoundException`.
fn validate_stream_arn(arn: &str) -> Result<()> {
    let len = arn.chars().count();
    let (min, max) = STREAM_ARN_LEN;
    let bound = if len < min {
        format!("greater than or equal to {min}")
    } else if len > max {
        format!("less than or equal to {max}")
    } else {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let well_formed = match parts[..] {
            ["arn", partition, "dynamodb", region, account, resource] => {
                let stream =
                    (resource.strip_prefix("table/")).and_then(|r| r.split_once("/stream/"));
                !partition.is_empty()
                    && !region.is_empty()
                    && account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && stream.is_some_and(|(table, label)| {
                        crate::model::names::validate_table_name(table).is_ok()
                            && Timestamp::from_iso8601(label).is_some()
                    })
            }
            _ => false,
        };
        if well_formed {
            return Ok(());
        }
        return Err(Error::validation(format!(
            "Invalid StreamArn: '{arn}' is not a stream ARN (arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>)"
        )));
    };
    Err(Error::validation(format!(
        "1 validation error detected: Value '{arn}' at 'streamArn' failed to satisfy constraint: Member must have length {bound}"
    )))
}

/// The schemas of the tables whose streams can be read: every live table, and the deleted
/// tables whose streams have not aged out yet.
fn schemas(engine: &Engine) -> Vec<Arc<TableSchema>> {
    let mut schemas: Vec<Arc<TableSchema>> = (engine.tables.read().values())
        .filter_map(|h| {
            let data = h.data.read();
            (!data.deleted).then(|| Arc::clone(&data.schema))
        })
        .collect();
    let now = engine.options.clock.now();
    let retention = engine.options.stream_retention;
    schemas.extend(
        (engine.deleted_streams.lock().iter())
            .filter(|s| s.streams.iter().any(|s| s.readable_at(now, retention)))
            .cloned(),
    );
    schemas
}

/// The stream `arn` names: of a live table, or of a deleted one still readable.
fn find(engine: &Engine, arn: &str) -> Result<Found> {
    validate_stream_arn(arn)?;
    let now = engine.options.clock.now();
    let retention = engine.options.stream_retention;
    for schema in schemas(engine) {
        let stream = (schema.streams.iter())
            .filter(|s| s.readable_at(now, retention))
            .find(|s| engine.scope.stream_arn(&schema.name, &s.label) == arn);
        if let Some(stream) = stream {
            return Ok(Found {
                table_id: schema.id.as_str().into(),
                arn: arn.to_owned(),
                table_name: schema.name.clone(),
                key: schema.key.clone(),
                stream: stream.clone(),
                key_schema: schema.key.key_schema(),
            });
        }
    }
    Err(Error::ResourceNotFound(format!(
        "Requested resource not found: Stream: {arn} not found"
    )))
}

/// The oldest LSN the log can still be read from.
fn oldest_readable(engine: &Engine) -> Result<Lsn> {
    match &engine.store {
        // The segment the catalog names: if it is missing, a read says so.
        Some(store) => Ok(store.log_start().max(1)),
        None => Ok(engine.wal.forgotten() + 1),
    }
}

/// `ListStreams`.
pub(crate) fn list_streams(engine: &Engine, input: ListStreamsInput) -> Result<ListStreamsOutput> {
    let limit = match input.limit {
        None => 100,
        Some(n @ 1..=100) => n as usize,
        Some(n) => {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value {}",
                if n < 1 { "greater than or equal to 1" } else { "less than or equal to 100" }
            )))
        }
    };
    if let Some(start) = &input.exclusive_start_stream_arn {
        validate_stream_arn(start)?;
    }
    // A table's name only, not its ARN (the Streams model's `TableName`).
    if let Some(name) = &input.table_name {
        crate::model::names::validate_table_name(name)?;
    }
    let now = engine.options.clock.now();
    let retention = engine.options.stream_retention;
    let mut all = Vec::new();
    let mut table_found = false;
    for schema in schemas(engine) {
        if input.table_name.as_ref().is_some_and(|o| *o != schema.name) {
            continue;
        }
        table_found = true;
        for stream in schema
            .streams
            .iter()
            .filter(|s| s.readable_at(now, retention))
        {
            all.push(StreamSummary {
                stream_arn: engine.scope.stream_arn(&schema.name, &stream.label),
                table_name: schema.name.clone(),
                stream_label: stream.label.clone(),
            });
        }
    }
    if let (Some(name), false) = (&input.table_name, table_found) {
        return Err(Error::table_not_found(name));
    }
    all.sort_by(|a, b| (&a.table_name, &a.stream_label).cmp(&(&b.table_name, &b.stream_label)));
    // The streams are in (table name, label) order; a page starts after where the
    // previous one's last stream sorts, whether or not it is still there (its table may
    // have been deleted between the pages).
    let start = match &input.exclusive_start_stream_arn {
        Some(after) => {
            let place = after
                .rsplit_once("/stream/")
                .and_then(|(table, label)| Some((engine.scope.table_name_of(table).ok()?, label)));
            let Some((table, label)) = place else {
                return Err(Error::validation(format!(
                    "Invalid ExclusiveStartStreamArn: '{after}' is not a stream ARN"
                )));
            };
            all.partition_point(|s| {
                (s.table_name.as_str(), s.stream_label.as_str()) <= (table, label)
            })
        }
        None => 0,
    };
    let streams: Vec<StreamSummary> = all.iter().skip(start).take(limit).cloned().collect();
    let more = start + streams.len() < all.len();
    Ok(ListStreamsOutput {
        last_evaluated_stream_arn: streams
            .last()
            .filter(|_| more)
            .map(|s| s.stream_arn.clone()),
        streams,
    })
}

/// `DescribeStream`.
pub(crate) fn describe_stream(
    engine: &Engine,
    input: DescribeStreamInput,
) -> Result<DescribeStreamOutput> {
    let found = find(engine, &input.stream_arn)?;
    if let Some(n) = input.limit.filter(|n| !(1..=100).contains(n)) {
        return Err(Error::validation(format!(
            "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100"
        )));
    }
    let id = shard_id(&found.table_id, &found.stream);
    // Shards after the start, in id order (a start that names no shard still orders).
    let listed = input
        .exclusive_start_shard_id
        .as_ref()
        .is_none_or(|start| id > *start);
    let shard = Shard {
        shard_id: id,
        sequence_number_range: SequenceNumberRange {
            starting_sequence_number: Some(sequence_number(found.first(), 0)),
            // The last place a record of it can have; a stream disabled before any write
            // ends where it starts.
            ending_sequence_number: found.end().map(|end| match end > found.first() {
                true => sequence_number(end - 1, (position::MAX_WRITES - 1) as u32),
                false => sequence_number(found.first(), 0),
            }),
        },
        parent_shard_id: None,
    };
    let created = Timestamp::from_iso8601(&found.stream.label).unwrap_or_default();
    Ok(DescribeStreamOutput {
        stream_description: StreamDescription {
            stream_arn: found.arn.clone(),
            stream_label: found.stream.label.clone(),
            stream_status: match found.end() {
                None => StreamStatus::Enabled,
                Some(_) => StreamStatus::Disabled,
            },
            stream_view_type: found.stream.view,
            creation_request_date_time: created,
            table_name: found.table_name.clone(),
            key_schema: found.key_schema.clone(),
            shards: if listed { vec![shard] } else { Vec::new() },
            last_evaluated_shard_id: None,
        },
    })
}

/// `GetShardIterator`.
pub(crate) fn get_shard_iterator(
    engine: &Engine,
    input: GetShardIteratorInput,
) -> Result<GetShardIteratorOutput> {
    let found = find(engine, &input.stream_arn)?;
    let id = shard_id(&found.table_id, &found.stream);
    if input.shard_id != id {
        return Err(Error::ResourceNotFound(format!(
            "Requested resource not found: Shard does not exist: {}",
            input.shard_id
        )));
    }
    let (lsn, index) = start_of(
        engine,
        &found,
        input.shard_iterator_type,
        input.sequence_number.as_deref(),
    )?;
    let iterator = ShardIterator {
        stream_arn: found.arn,
        place: Place::at(lsn),
        index,
        issued: engine.options.clock.now(),
    };
    Ok(GetShardIteratorOutput {
        shard_iterator: Some(iterator.encode()),
    })
}

/// Where an iterator of `kind` (at or after `sequence_number`) starts: an LSN and the
/// first item write of it to read.
fn start_of(
    engine: &Engine,
    found: &Found,
    kind: ShardIteratorType,
    sequence: Option<&str>,
) -> Result<(Lsn, u32)> {
    let needs_number = matches!(
        kind,
        ShardIteratorType::AtSequenceNumber | ShardIteratorType::AfterSequenceNumber
    );
    let sequence = match (needs_number, sequence) {
        (true, Some(text)) => Some(parse_sequence_number(text)?),
        (true, None) => {
            return Err(Error::validation(
                "SequenceNumber is required for ShardIteratorType AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER",
            ))
        }
        (false, Some(_)) => {
            return Err(Error::validation(
                "SequenceNumber may only be given for ShardIteratorType AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER",
            ))
        }
        (false, None) => None,
    };
    let oldest = oldest_readable(engine)?;
    let end = found.end().unwrap_or(Lsn::MAX);
    Ok(match (kind, sequence) {
        (ShardIteratorType::TrimHorizon, _) => (found.first().max(oldest), 0),
        (ShardIteratorType::Latest, _) => {
            ((engine.wal.readable_lsn() + 1).clamp(found.first(), end), 0)
        }
        (_, Some((lsn, index))) => {
            if lsn < found.first() || lsn >= end {
                return Err(Error::validation(format!(
                    "Invalid SequenceNumber: {} is not in the range of shard {}",
                    sequence_number(lsn, index),
                    shard_id(&found.table_id, &found.stream)
                )));
            }
            if lsn < oldest {
                return Err(Error::TrimmedDataAccess(format!(
                    "Requested sequence number {} is beyond the trim horizon of the stream",
                    sequence_number(lsn, index)
                )));
            }
            match kind {
                ShardIteratorType::AfterSequenceNumber => (lsn, index + 1),
                _ => (lsn, index),
            }
        }
        (_, None) => unreachable!("a sequence number was required above"),
    })
}

/// `GetRecords`.
pub(crate) fn get_records(engine: &Engine, input: GetRecordsInput) -> Result<GetRecordsOutput> {
    let limit = match input.limit {
        None => MAX_RECORDS,
        Some(n @ 1..=1000) => n as usize,
        Some(n) => {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value between 1 and {MAX_RECORDS}"
            )))
        }
    };
    let iterator = ShardIterator::decode(&input.shard_iterator)?;
    let now = engine.options.clock.now();
    if now.0
        > iterator
            .issued
            .0
            .saturating_add(position::ITERATOR_LIFETIME_MS)
    {
        return Err(Error::ExpiredIterator(format!(
            "Iterator expired. The iterator was created at time {} while right now it is {}.",
            iterator.issued.to_iso8601(),
            now.to_iso8601()
        )));
    }
    let found = find(engine, &iterator.stream_arn)?;
    let batch = read(engine, &found, (iterator.place, iterator.index), limit)?;
    let closed = found.end().is_some_and(|end| batch.next.0.lsn >= end);
    let next = ShardIterator {
        place: batch.next.0,
        index: batch.next.1,
        // Each answer's iterator lives its own 15 minutes, as DynamoDB's do.
        issued: now,
        ..iterator
    };
    Ok(GetRecordsOutput {
        records: batch.records,
        next_shard_iterator: (!closed).then(|| next.encode()),
    })
}

/// What one read of a stream found, and where the next read starts.
#[derive(Debug)]
struct Batch {
    records: Vec<Record>,
    next: (Place, u32),
}

/// Reads the stream's records from `from` (a log place and the first item write of it
/// still to read) on: up to `limit` of them, about `MAX_RECORD_BYTES`, and no more than
/// about `MAX_SCAN_BYTES` of log.
fn read(engine: &Engine, found: &Found, from: (Place, u32), limit: usize) -> Result<Batch> {
    let (mut place, mut index) = from;
    if place.lsn < found.first() {
        (place, index) = (Place::at(found.first()), 0);
    }
    let mut last = engine.wal.readable_lsn();
    if let Some(end) = found.end() {
        last = last.min(end - 1);
    }
    let region = engine.options.region.clone();
    let shown = Shown {
        table_id: &found.table_id,
        key: &found.key,
        view: found.stream.view,
        region: &region,
    };
    let trimmed = |lsn: Lsn| {
        Error::TrimmedDataAccess(format!(
            "The requested records at sequence number {} are beyond the trim horizon of the stream",
            sequence_number(lsn, 0)
        ))
    };
    let mut records = Vec::new();
    let (mut bytes, mut scanned) = (0u64, 0usize);
    while place.lsn <= last
        && records.len() < limit
        && bytes < MAX_RECORD_BYTES
        && scanned < MAX_SCAN_BYTES
    {
        let read = match &engine.store {
            Some(store) => {
                let from = (store.log_start(), place);
                follow::follow(&*store.fs, &store.dir, store.db_id, from, last)?
            }
            None => engine.wal.followed(place.lsn, 1024).map(|kept| {
                let records: Vec<_> = kept.into_iter().filter(|r| r.lsn <= last).collect();
                let next = records.last().map_or(last + 1, |r| r.lsn + 1);
                follow::Read {
                    records,
                    next: Place::at(next),
                }
            }),
        };
        let Some(read) = read else {
            return Err(trimmed(place.lsn));
        };
        if read.records.is_empty() {
            if read.next == place {
                break;
            }
            // Past records no stream reads (in memory), or on to the next segment.
            if read.next.lsn != place.lsn {
                index = 0;
            }
            place = read.next;
            continue;
        }
        for record in read.records {
            scanned += record.payload.len();
            let from = if record.lsn == place.lsn { index } else { 0 };
            for change in changes_of(&shown, record.lsn, record.time, &record.payload, from)? {
                if records.len() >= limit || bytes >= MAX_RECORD_BYTES {
                    // The rest of this log record is the next read's.
                    return Ok(Batch {
                        records,
                        next: (record.place, change.index),
                    });
                }
                bytes += change.record.dynamodb.size_bytes;
                records.push(change.record);
            }
            (place, index) = (Place::at(record.lsn + 1), 0);
        }
        // Where the next record starts, as the read found it.
        place = read.next;
    }
    Ok(Batch {
        records,
        next: (place, index),
    })
}

/// Where a reader of a stream is, for [`StreamSubscription`](crate::StreamSubscription): the
/// next place to read, and the records read but not yet handed out.
#[derive(Debug)]
pub(crate) struct Cursor {
    stream_arn: String,
    next: (Place, u32),
    ready: VecDeque<Record>,
    /// The stream was disabled and read to its end.
    ended: bool,
}

impl Cursor {
    /// A reader of `stream_arn` from where `kind` (and `sequence_number`, for the
    /// `*_SEQUENCE_NUMBER` kinds) says.
    pub(crate) fn new(
        engine: &Engine,
        stream_arn: &str,
        kind: ShardIteratorType,
        sequence_number: Option<&str>,
    ) -> Result<Cursor> {
        let found = find(engine, stream_arn)?;
        let (lsn, index) = start_of(engine, &found, kind, sequence_number)?;
        Ok(Cursor {
            stream_arn: found.arn,
            next: (Place::at(lsn), index),
            ready: VecDeque::new(),
            ended: false,
        })
    }

    /// Whether a disabled stream has been read to its end.
    pub(crate) fn ended(&self) -> bool {
        self.ended && self.ready.is_empty()
    }

    /// The next record, waiting up to `timeout` for one to be committed: `Ok(None)` if
    /// none came (or the stream was disabled and all of it read).
    pub(crate) fn next_timeout(
        &mut self,
        engine: &Engine,
        timeout: Duration,
    ) -> Result<Option<Record>> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(record) = self.ready.pop_front() {
                return Ok(Some(record));
            }
            if self.ended {
                return Ok(None);
            }
            let found = find(engine, &self.stream_arn)?;
            let batch = read(engine, &found, self.next, MAX_RECORDS)?;
            self.next = batch.next;
            self.ready.extend(batch.records);
            self.ended =
                self.ready.is_empty() && found.end().is_some_and(|end| self.next.0.lsn >= end);
            if !self.ready.is_empty() || self.ended {
                continue;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            // Nothing to read until the log has more: sleep until it does.
            engine.wal.wait_readable(self.next.0.lsn, left);
        }
    }

    /// The sequence number the next record will have at least: where a reader that stops
    /// now starts again (with `AT_SEQUENCE_NUMBER`) without missing or repeating one.
    pub(crate) fn position(&self) -> String {
        match self.ready.front() {
            Some(record) => record.dynamodb.sequence_number.clone(),
            None => sequence_number(self.next.0.lsn, self.next.1),
        }
    }
}
