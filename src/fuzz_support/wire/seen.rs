//! What the servers answered, remembered across requests: backup and stream ARNs, shard
//! ids and iterators, sequence numbers. A later request names one of them (or one changed a
//! little), so that the operations reading backups and streams reach their handlers'
//! depths instead of stopping at "not found".

use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// Strings the servers answered with (backup and stream ARNs, shard ids and iterators,
/// sequence numbers), so that later requests can name things that exist.
#[derive(Default)]
pub(super) struct Seen {
    strings: Vec<(String, String)>,
}

impl Seen {
    const KEPT: usize = 64;

    /// Keeps the strings of the members named above found anywhere in `value` (the last
    /// [`Seen::KEPT`]).
    pub(super) fn remember(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match value {
                        Value::String(s)
                            if matches!(
                                key.as_str(),
                                "BackupArn"
                                    | "StreamArn"
                                    | "LatestStreamArn"
                                    | "ShardId"
                                    | "ShardIterator"
                                    | "NextShardIterator"
                                    | "SequenceNumber"
                                    | "StartingSequenceNumber"
                                    | "TableArn"
                            ) =>
                        {
                            if self.strings.len() >= Self::KEPT {
                                self.strings.remove(0);
                            }
                            self.strings.push((key.clone(), s.clone()));
                        }
                        _ => self.remember(value),
                    }
                }
            }
            Value::Array(values) => values.iter().for_each(|v| self.remember(v)),
            _ => {}
        }
    }

    /// The `n`th (wrapping) string kept under one of `keys`.
    pub(super) fn get(&self, keys: &[&str], n: usize) -> Option<String> {
        let matching: Vec<&String> = (self.strings.iter())
            .filter(|(k, _)| keys.contains(&k.as_str()))
            .map(|(_, v)| v)
            .collect();
        (!matching.is_empty()).then(|| matching[n % matching.len()].clone())
    }
}

/// This process's [`Seen`].
pub(super) fn seen() -> &'static Mutex<Seen> {
    static SEEN: OnceLock<Mutex<Seen>> = OnceLock::new();
    SEEN.get_or_init(Mutex::default)
}
