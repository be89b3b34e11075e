//! Time to Live expiry: the sweeper that deletes the items whose expiry time has passed, in
//! the tables with Time to Live enabled.
//!
//! An item expires when its Time to Live attribute is a top-level Number of epoch seconds
//! before the engine's clock (`Options::clock`, so tests are deterministic), and not more
//! than five years before it (DynamoDB leaves those alone). Any other value, or none, is
//! never deleted.
//!
//! A table whose pass fails (an item that does not decode, a failed commit) is reported and
//! skipped: the pass goes on with the next table, so one broken table does not stop expiry
//! in every table after it.
//!
//! A pass reads each table in batches of [`SWEEP_BATCH`] items, in key order, under the
//! table's data lock taken shared (as a read is). The expired items of a batch are then
//! deleted, up to [`MAX_EXPIRED_PER_RECORD`] per logged [`Mutation::ExpireItems`], under
//! the same locks as any write: the
//! table's gate shared, then the items' locks, and each item is checked again under them,
//! so a write that raced with the sweeper (a later expiry time, the attribute removed or
//! made a String, the item deleted) wins. Between batches the sweeper holds no lock and
//! pauses for `Options::ttl_sweep_pause`: a table of expired items is deleted at a bounded
//! pace, never in one long hold.
//!
//! The sweeper runs on a thread of its own, not in the maintenance worker's round, because:
//! a round can spend seconds building a backup or a snapshot, which would stall expiry for
//! as long (and a pass over a large table would stall the round); a round holds the lock
//! `Database::checkpoint` takes, which a pass has no reason to hold; and the worker runs
//! only for a database on disk, while items expire in memory too. It keeps the default
//! priority, unlike the worker: it holds item locks across its commit, and writers of those
//! items must not wait for a thread the scheduler holds back.

use std::ops::Bound;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::api::tables::TableStatus;
use crate::engine::live::Live;
use crate::engine::maintenance::Signal;
use crate::engine::{Engine, TableHandle};
use crate::error::{Error, Result};
use crate::format::item::{scan, StoredItem};
use crate::format::mutation::{Mutation, Prior};
use crate::model::clock::Timestamp;
use crate::model::key::{EncodedKey, StoredKeyValue};
use crate::model::number::Number;
use crate::model::value::AttributeValue;
use crate::state::apply::apply;
use crate::state::item_key::ItemKey;

/// The items a batch reads under the table's data lock: about a millisecond of a shared
/// hold, which a writer's apply waits out at most once per batch.
const SWEEP_BATCH: usize = 1000;

/// The most items one logged delete removes: the items of a batch are deleted a record at
/// a time, so that the sweeper holds at most this many item locks across a commit (as a
/// transaction does at most), not a whole batch's.
const MAX_EXPIRED_PER_RECORD: usize = 100;

/// The shortest wait between two passes, whatever `Options::ttl_sweep_pause` says: with
/// nothing to expire, a zero pause would spin.
const MIN_PASS_INTERVAL: Duration = Duration::from_secs(1);

/// The oldest expiry time DynamoDB acts on, before now. Its developer guide ("Using DynamoDB
/// Time to Live (TTL)", docs.aws.amazon.com/amazondynamodb/latest/developerguide/
/// time-to-live-ttl-before-you-start.html): "The TTL attribute value must be a
/// datetimestamp with an expiration of no more than five years in the past. For example, if
/// you set the value of the attribute to 1171734022, that is February 17, 2007 17:40:22
/// (GMT) and older than five years. As a result, the TTL processes will not expire that
/// item." It does not say how long a year is: 365 days here.
const MAX_EXPIRED_AGE_MS: u64 = 5 * 365 * 24 * 60 * 60 * 1000;

/// The expiry times that have passed at a moment, in epoch seconds: `oldest..now`.
struct ExpiryWindow {
    oldest: Number,
    now: Number,
}

impl ExpiryWindow {
    /// At `now`, to the millisecond (compared as exact decimals, as DynamoDB's Numbers are).
    fn at(now: Timestamp) -> ExpiryWindow {
        ExpiryWindow {
            oldest: Number::from_millis(now.0.saturating_sub(MAX_EXPIRED_AGE_MS)),
            now: Number::from_millis(now.0),
        }
    }
}

/// Whether `item` has expired by its Time to Live `attribute`.
fn has_expired(item: &StoredItem, attribute: &str, window: &ExpiryWindow) -> bool {
    // The attribute is read without decoding the item when its encoding scans (nearly
    // always); a pass reads every item of the table.
    let value = match scan(item.encoding(), [Some(attribute), None]) {
        Some(scanned) => match scanned.values[0] {
            Some(StoredKeyValue::N(bytes)) => Number::decode_ordered(bytes).ok().map(|(n, _)| n),
            _ => None,
        },
        None => match item.decode().get(attribute) {
            Some(AttributeValue::N(n)) => Some(n.clone()),
            _ => None,
        },
    };
    value.is_some_and(|seconds| window.oldest <= seconds && seconds < window.now)
}

/// What one batch of a pass found.
struct Batch {
    /// The table's name, for the hook.
    table: String,
    /// The expired items' keys.
    keys: Vec<EncodedKey>,
    /// The last key read, if the table may hold more after it.
    last: Option<ItemKey>,
}

/// What a pass of the sweeper did.
pub(crate) struct Sweep {
    /// How many items it deleted.
    pub deleted: u64,
    /// The tables whose pass failed, with why, in the order they were swept.
    pub failed: Vec<(String, Error)>,
}

impl Engine {
    /// One pass of the sweeper over every table with Time to Live enabled. A table whose
    /// pass fails is noted and the pass goes on with the next. With `pace`, it pauses
    /// `Options::ttl_sweep_pause` after each batch and returns early once `pace` is
    /// stopped; without, it runs straight through.
    pub(crate) fn delete_expired_items(&self, pace: Option<&Signal>) -> Sweep {
        let handles: Vec<Arc<TableHandle>> = self.tables.read().values().cloned().collect();
        let mut sweep = Sweep {
            deleted: 0,
            failed: Vec::new(),
        };
        for handle in handles {
            match self.sweep_table(&handle, pace, &mut sweep.deleted) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let table = handle.data.read().schema.name.clone();
                    sweep.failed.push((table, e));
                }
            }
        }
        sweep
    }

    /// Deletes the expired items of `handle`'s table, a batch at a time, adding them to
    /// `deleted`; returns false if `pace` was stopped.
    fn sweep_table(
        &self,
        handle: &Arc<TableHandle>,
        pace: Option<&Signal>,
        deleted: &mut u64,
    ) -> Result<bool> {
        let mut after = None;
        while let Some(batch) = self.expired_batch(handle, after.as_ref())? {
            if !batch.keys.is_empty() {
                if let Some(hook) = &self.options.ttl_sweep_hook {
                    hook(&batch.table);
                }
                for keys in batch.keys.chunks(MAX_EXPIRED_PER_RECORD) {
                    *deleted += self.delete_if_still_expired(handle, keys)?;
                }
            }
            if let Some(pace) = pace {
                if !pace.wait(self.options.ttl_sweep_pause) {
                    return Ok(false);
                }
            }
            match batch.last {
                Some(last) => after = Some(last),
                None => break,
            }
        }
        Ok(true)
    }

    /// The expired items among the next [`SWEEP_BATCH`] of `handle`'s table after `after`;
    /// `None` if the table has Time to Live disabled or is going.
    fn expired_batch(
        &self,
        handle: &TableHandle,
        after: Option<&ItemKey>,
    ) -> Result<Option<Batch>> {
        let data = handle.data.read();
        let Some(attribute) = data.settings.ttl_attribute.as_deref() else {
            return Ok(None);
        };
        if data.deleted {
            return Ok(None);
        }
        let window = ExpiryWindow::at(self.options.clock.now());
        let lower = after.map_or(Bound::Unbounded, |key| Bound::Excluded(key.as_bytes()));
        let mut keys = Vec::new();
        let mut read = 0;
        let mut last = None;
        for entry in data.items.range(lower, Bound::Unbounded).take(SWEEP_BATCH) {
            let (key, item) = entry?;
            if has_expired(item, attribute, &window) {
                keys.push(key.as_bytes().to_vec());
            }
            read += 1;
            last = Some(key);
        }
        Ok(Some(Batch {
            table: data.schema.name.clone(),
            keys,
            last: last.filter(|_| read == SWEEP_BATCH).cloned(),
        }))
    }

    /// Deletes the items of `keys` that are still expired, checked under the locks a write
    /// takes, as one logged [`Mutation::ExpireItems`]; returns how many.
    fn delete_if_still_expired(
        &self,
        handle: &Arc<TableHandle>,
        keys: &[EncodedKey],
    ) -> Result<u64> {
        let _gate = handle.gate.read();
        let _locks = self
            .locks
            .lock(keys.iter().map(|key| (&*handle.id, key.as_slice())));
        let keys = {
            let data = handle.data.read();
            let Some(attribute) = data.settings.ttl_attribute.as_deref() else {
                return Ok(0);
            };
            if data.deleted || data.status != TableStatus::Active {
                return Ok(0);
            }
            let window = ExpiryWindow::at(self.options.clock.now());
            let view = data.schema.current_stream().map(|s| s.view);
            let mut still = Vec::with_capacity(keys.len());
            let mut prior = Vec::new();
            for key in keys {
                let item = data.items.get(key)?;
                if let Some(item) = item.filter(|i| has_expired(i, attribute, &window)) {
                    still.push(key.clone());
                    prior.push(Prior::of(view, Some(item), None));
                }
            }
            (still, prior)
        };
        let (keys, prior) = keys;
        if keys.is_empty() {
            return Ok(0);
        }
        let count = keys.len() as u64;
        let expire = Mutation::ExpireItems {
            table_id: Arc::clone(&handle.id),
            keys,
        };
        let mutation = Mutation::with_prior(expire, prior);
        let at = self.commit(&mutation, &[handle])?;
        apply(
            at,
            mutation,
            &mut Live::new(self).with_data(vec![handle.data.write()]),
        )?;
        Ok(count)
    }
}

/// The sweeper's thread: a pass, then a pause (at least [`MIN_PASS_INTERVAL`]), until
/// stopped. The tables a pass failed on are reported in the sweeper's own error slot
/// (`Engine::ttl_error`, which `Database::maintenance_error` reports with the worker's),
/// set or cleared by each pass, and retried by the next.
pub(crate) fn sweep_loop(engine: Weak<Engine>, stop: Arc<Signal>) {
    let pause = match engine.upgrade() {
        Some(e) => e.options.ttl_sweep_pause.max(MIN_PASS_INTERVAL),
        None => return,
    };
    loop {
        let Some(engine) = engine.upgrade() else {
            return;
        };
        let sweep = engine.delete_expired_items(Some(&stop));
        *engine.ttl_error.lock() = sweep.describe_failures();
        drop(engine);
        if !stop.wait(pause) {
            return;
        }
    }
}

impl Sweep {
    /// The failed tables and why, as `maintenance_error` reports them; `None` if none failed.
    pub(crate) fn describe_failures(&self) -> Option<String> {
        let failed = self
            .failed
            .iter()
            .map(|(table, e)| format!("table {table}: {e}"));
        let failed: Vec<String> = failed.collect();
        (!failed.is_empty()).then(|| format!("Time to Live sweep: {}", failed.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use crate::format::mutation::Mutation;
    use crate::fs::sim::SimFs;
    use crate::model::value::ItemExt;
    use crate::storage::replay::{decode_mutation, read_log, Until};
    use crate::storage::store::Store;
    use crate::*;

    /// After a reopen and a checkpoint (a table with point-in-time recovery keeps its log),
    /// the log still tells the delete Time to Live made from the one its user made: what a
    /// stream will read to report the service as its maker. Each record deletes at most
    /// [`MAX_EXPIRED_PER_RECORD`] items.
    #[test]
    fn the_log_tells_ttl_deletes_from_user_deletes_after_a_reopen_and_a_checkpoint() {
        let fs = SimFs::new();
        let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
        let open = || {
            let options = Options::default()
                .fs(Arc::new(fs.clone()))
                .clock(clock.clone())
                .background_worker(false)
                .snapshot_on_close(false);
            Database::open_with("/db", options).expect("opens")
        };
        let db = open();
        let table = CreateTableInput::new("Sessions")
            .hash_key("pk", ScalarAttributeType::S)
            .pay_per_request();
        db.create_table(table).expect("created");
        db.update_time_to_live(UpdateTimeToLiveInput::enable("Sessions", "expires"))
            .expect("enabled");
        let pitr = UpdateContinuousBackupsInput::new("Sessions", true);
        db.update_continuous_backups(pitr).expect("pitr");
        let expired_pks = (0..150).map(|i| format!("expired{i:03}"));
        for pk in expired_pks.chain(["deleted".to_owned()]) {
            let item = Item::new()
                .with("pk", pk)
                .with("expires", AttributeValue::number(1_600_000_000));
            db.put_item(PutItemInput::new("Sessions", item))
                .expect("put");
        }
        let key = Item::new().with("pk", "deleted");
        db.delete_item(DeleteItemInput::new("Sessions", key))
            .expect("deleted");
        assert_eq!(db.delete_expired_items().expect("swept"), 150);
        drop(db);
        let db = open();
        db.checkpoint().expect("checkpoint");
        drop(db);

        let db_id = Store::open(Arc::new(fs.clone()), Path::new("/db"))
            .expect("recovers")
            .store
            .db_id;
        let (mut records, mut expired, mut deleted) = (Vec::new(), Vec::new(), 0);
        read_log(
            &fs,
            Path::new("/db"),
            db_id,
            0,
            Until::default(),
            |lsn, _, payload| {
                match decode_mutation(lsn, payload)? {
                    Mutation::ExpireItems { keys, .. } => {
                        records.push(keys.len());
                        expired.extend(keys);
                    }
                    Mutation::Write(writes) => {
                        deleted += writes.iter().filter(|w| w.item.is_none()).count();
                    }
                    _ => {}
                }
                Ok(())
            },
        )
        .expect("reads the log");
        assert_eq!((records, deleted), (vec![100, 50], 1));
        for key in expired {
            assert!(key.windows(7).any(|w| w == b"expired"), "{key:?}");
        }
    }
}
