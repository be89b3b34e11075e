//! The members of the backup, restore and stream operations: backup names, and ARNs, shard
//! ids, iterators and sequence numbers, mostly ones the servers answered earlier (`seen.rs`),
//! sometimes one of those changed a little or one made up, and the times and iterator types
//! they take.

use serde_json::{json, Value};

use super::members::Gen;
use super::seen::seen;
use super::servers::{ACCOUNT, REGION};

impl Gen<'_, '_> {
    /// The value of `member` when a backup or stream operation defines it; `None` for any
    /// other.
    pub(super) fn backup_or_stream_member(&mut self, member: &str) -> Option<Value> {
        let value = match member {
            "BackupName" => json!(self.input.pick(&["b1", "b2", "", "x y"])),
            "BackupArn" | "ExclusiveStartBackupArn" => self.seen_or(&["BackupArn"], || {
                format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tab/backup/01700000000000-abcdef12")
            }),
            "StreamArn" | "ExclusiveStartStreamArn" => {
                self.seen_or(&["LatestStreamArn", "StreamArn"], || {
                    format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tab/stream/2026-01-01T00:00:00.000")
                })
            }
            "ShardId" | "ExclusiveStartShardId" => {
                self.seen_or(&["ShardId"], || "shardId-00000001700000000000-abcdef12".into())
            }
            "ShardIterator" => self.seen_or(&["NextShardIterator", "ShardIterator"], || "x".into()),
            "SequenceNumber" => self.seen_or(&["SequenceNumber", "StartingSequenceNumber"], || {
                "000000000000000000001".into()
            }),
            "RestoreDateTime" | "TimeRangeLowerBound" | "TimeRangeUpperBound" => {
                json!(self.input.pick(&[0.0, 1.7e9, 1.9e9, -1.0, 1e300]))
            }
            "ShardIteratorType" => json!(self.input.pick(&["TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"])),
            _ => return None,
        };
        Some(value)
    }

    /// Mostly a string of one of `keys` the servers answered (sometimes changed a little),
    /// else `default()` or fuzzed text.
    pub(super) fn seen_or(&mut self, keys: &[&str], default: impl FnOnce() -> String) -> Value {
        let n = self.input.below(64);
        let remembered = match self.input.below(10) {
            0..=6 => seen().lock().ok().and_then(|s| s.get(keys, n)),
            _ => None,
        };
        match remembered {
            Some(s) if self.input.chance(95) => json!(s),
            Some(s) => {
                // A remembered one, changed.
                let mut s = s.into_bytes();
                if !s.is_empty() {
                    let at = self.input.below(s.len());
                    s[at] = self.input.byte();
                }
                json!(String::from_utf8_lossy(&s))
            }
            None if self.input.chance(80) => json!(default()),
            None => json!(self.input.text(80)),
        }
    }
}
