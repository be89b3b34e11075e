//! Names of places in a stream: sequence numbers, shard ids and shard iterators.
//!
//! A stream record is the item write at index `i` of the log record at LSN `n`, so its
//! sequence number is `n × 1,000,000 + i` in at least 21 decimal digits (the SDKs check
//! 21 to 40): stable across restarts and crashes, growing in commit order, and readable
//! back into the place to read from. A shard iterator is text the caller hands back:
//!
//! ```text
//! {stream ARN}|1|{lsn}|{index}|{segment}|{offset}|{issued ms}
//! ```
//!
//! the next change to read (item write `index` of record `lsn` on), where that record was
//! found in the log (a hint, checked before use: `storage/follow.rs`) and when the iterator
//! was made (it expires 15 minutes later). It is untrusted input: anything else is a
//! `ValidationException`.

use crate::error::{Error, Result};
use crate::model::clock::Timestamp;
use crate::model::schema::StreamEpoch;
use crate::model::Lsn;
use crate::storage::follow::Place;

/// The most item writes one log record can hold for its sequence numbers to stay apart:
/// a transaction has at most 100, a batch 25, a Time to Live delete 100.
pub(crate) const MAX_WRITES: usize = 1_000_000;
/// How long a shard iterator can be used: DynamoDB's 15 minutes.
pub(crate) const ITERATOR_LIFETIME_MS: u64 = 15 * 60 * 1000;
/// The iterator layout's version.
const ITERATOR_VERSION: &str = "1";

/// The sequence number of item write `index` of the log record `lsn`.
pub(crate) fn sequence_number(lsn: Lsn, index: u32) -> String {
    format!(
        "{:021}",
        u128::from(lsn) * MAX_WRITES as u128 + u128::from(index)
    )
}

/// The place a `SequenceNumber` parameter names: the LSN and item write index.
pub(crate) fn parse_sequence_number(text: &str) -> Result<(Lsn, u32)> {
    let invalid = || {
        Error::validation(format!(
            "Invalid SequenceNumber: '{text}' is not a sequence number of this stream (21 to 40 digits)"
        ))
    };
    if !(21..=40).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let past = || {
        Error::validation(format!(
            "Invalid SequenceNumber: '{text}' is past every sequence number of this stream"
        ))
    };
    // (Only numbers of 39 or 40 digits can overflow.)
    let n: u128 = text.parse().map_err(|_| past())?;
    let lsn = Lsn::try_from(n / MAX_WRITES as u128).map_err(|_| past())?;
    Ok((lsn, (n % MAX_WRITES as u128) as u32))
}

/// The id of a stream's one shard: `shardId-` and 29 more characters, within the 28 to
/// 65 the SDKs check.
pub(crate) fn shard_id(table_id: &str, stream: &StreamEpoch) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for &byte in table_id.as_bytes().iter().chain(stream.label.as_bytes()) {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    format!("shardId-{:020}-{hash:08x}", stream.enabled)
}

/// A decoded shard iterator: which stream, where, and since when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ShardIterator {
    pub stream_arn: String,
    /// The next record to read and where it was found.
    pub place: Place,
    /// The first item write of that record still to read.
    pub index: u32,
    pub issued: Timestamp,
}

impl ShardIterator {
    /// The iterator as text (see the module docs).
    pub fn encode(&self) -> String {
        let p = &self.place;
        format!(
            "{}|{ITERATOR_VERSION}|{}|{}|{}|{}|{}",
            self.stream_arn, p.lsn, self.index, p.segment, p.offset, self.issued.0
        )
    }

    /// Reads a `ShardIterator` parameter.
    pub fn decode(text: &str) -> Result<ShardIterator> {
        let invalid = || Error::validation("Invalid ShardIterator");
        if text.is_empty() || text.len() > 2048 {
            return Err(invalid());
        }
        let mut fields = text.rsplitn(7, '|');
        let mut number = || -> Result<u64> {
            let field = fields.next().ok_or_else(invalid)?;
            if field.is_empty() || field.len() > 20 || !field.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            field.parse().map_err(|_| invalid())
        };
        let issued = Timestamp(number()?);
        let offset = number()?;
        let segment = number()?;
        let index = u32::try_from(number()?).map_err(|_| invalid())?;
        let lsn = number()?;
        if fields.next() != Some(ITERATOR_VERSION) || index as usize >= MAX_WRITES {
            return Err(invalid());
        }
        let stream_arn = fields.next().ok_or_else(invalid)?.to_owned();
        Ok(ShardIterator {
            stream_arn,
            place: Place {
                lsn,
                segment,
                offset,
            },
            index,
            issued,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_read_back_to_their_place_and_sort_in_commit_order() {
        let places = [(1, 0), (1, 99), (2, 0), (999_999_999_999, 5)];
        let numbers: Vec<String> = places.iter().map(|&(l, i)| sequence_number(l, i)).collect();
        for (text, place) in numbers.iter().zip(places) {
            assert!(text.len() >= 21, "{text}");
            assert_eq!(parse_sequence_number(text).expect("reads"), place);
        }
        // Same length, so text order is number order.
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
        for bad in ["", "12", "0000000000000000000001x", &"9".repeat(41)] {
            assert!(parse_sequence_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_iterator_reads_back_and_anything_else_is_refused() {
        let iterator = ShardIterator {
            stream_arn:
                "arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2026-01-01T00:00:00.000"
                    .into(),
            place: Place {
                lsn: 42,
                segment: 40,
                offset: 4096,
            },
            index: 3,
            issued: Timestamp(1_700_000_000_000),
        };
        let text = iterator.encode();
        assert_eq!(ShardIterator::decode(&text).expect("reads"), iterator);
        for cut in 0..text.len() {
            if let Ok(read) = ShardIterator::decode(&text[..cut]) {
                // Only a cut inside the last number can still read, as another time.
                assert_eq!(read.place, iterator.place, "cut at {cut}");
            }
        }
        for bad in ["", "x", "|1|1|1|1|1|1", "a|2|1|1|1|1|1", "a|1|1|-1|1|1|1"] {
            if bad.starts_with('|') {
                continue;
            }
            assert!(ShardIterator::decode(bad).is_err(), "{bad}");
        }
    }
}
