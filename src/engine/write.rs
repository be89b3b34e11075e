//! The write path: every item write — put, delete, update, batch, transaction — goes
//! through these steps, in this order:
//!
//! ```text
//! validate ─► table gate (shared) ─► item locks ─► read current items ─► conditions ─►
//! new items, checked ─► commit (LSN, time) ─► apply to the live table ─► unlock ─► ack
//! ```
//!
//! (A put with no condition whose caller does not want the old item back skips the read:
//! see `Action::reads_current`.)
//!
//! - The *gate* of a table is taken shared by item writers and exclusively by `UpdateTable`
//!   and `DeleteTable`, so a schema change never interleaves with a write in progress.
//! - *Item locks* are striped mutexes keyed by (table, key). A writer holds its items' locks
//!   from before its read until after its apply, which makes conditional writes and
//!   transactions atomic and orders writes to an item by LSN. Writers of different items
//!   hold different stripes and only meet in the commit log (one group commit, later) and
//!   in the table's data lock, which is held for the few microseconds of an apply.
//! - Readers take the table's data lock shared, never an item lock, so they never wait for
//!   a writer's commit; they see every write that has been acknowledged.

use std::collections::BTreeSet;
use std::sync::Arc;

use parking_lot::RwLockReadGuard;

use crate::api::capacity::{ConsumedCapacity, ReturnConsumedCapacity};
use crate::api::items::*;
use crate::engine::capacity::{self, Meter, Split, Usage};
use crate::engine::collections::{self, Collection};
use crate::engine::failed_write::FailedWrite;
use crate::engine::idempotency::{self, Claim, Running};
use crate::engine::live::Live;
use crate::engine::{Engine, TableHandle};
use crate::error::{CancellationReason, Error, Result};
use crate::expr::{self, Condition, Update, UpdateAction};
use crate::format::item::StoredItem;
use crate::format::mutation::{ItemWrite, Mutation, Prior};
use crate::model::key::{EncodedKey, KeyRole};
use crate::model::schema::TableSchema;
use crate::model::value::{validate_item, Item};
use crate::state::apply::apply;

/// What one write action does to its item.
#[derive(Debug)]
enum Change {
    Put(Item),
    Delete,
    /// The update, and the key attributes a new item starts from.
    Update(Update, Item),
    Check,
}

/// One write action on one item, ready to run.
#[derive(Debug)]
struct Action {
    handle: Arc<TableHandle>,
    key: EncodedKey,
    change: Change,
    condition: Option<Condition>,
    return_item_on_failure: bool,
    /// Whether the request returns the item this action replaces (`ReturnValues`).
    returns_old: bool,
    /// The table as the request named it (a name or an ARN), when the request reports the
    /// capacity it consumed: measured on the item replaced as well as the new one.
    meter_as: Option<String>,
    /// What the request asks of `ReturnConsumedCapacity`, for a failed single write's
    /// figure (`FailedWrite`), which is reported as it is measured.
    meter_mode: ReturnConsumedCapacity,
    /// The item collection to report, when the request asks (`ReturnItemCollectionMetrics`)
    /// and the table has a local secondary index.
    collection: Option<Collection>,
}

impl Action {
    /// Whether the action must read the current item before it commits. A put with no
    /// condition whose caller does not want the old item back need not: it replaces
    /// whatever is there, and the apply finds the old item for the indexes anyway. (On a
    /// large table that read is a second search of the map per put.)
    fn reads_current(&self) -> bool {
        !matches!(self.change, Change::Put(_))
            || self.condition.is_some()
            || self.returns_old
            || self.meter_as.is_some()
    }

    /// The action, measured when the request asks for its capacity (`mode`).
    fn metered(mut self, mode: ReturnConsumedCapacity, table_name: &str) -> Action {
        if mode != ReturnConsumedCapacity::None {
            self.meter_as = Some(table_name.to_owned());
        }
        self.meter_mode = mode;
        self
    }

    /// The action, with its item collection reported when the request asks (`mode`) and
    /// the table has a local index. `key` is the request's key; a put's comes from its item.
    fn collected(
        mut self,
        mode: ReturnItemCollectionMetrics,
        table_name: &str,
        key: &Item,
    ) -> Action {
        if mode == ReturnItemCollectionMetrics::None {
            return self;
        }
        let partition = {
            let data = self.handle.data.read();
            let hash = &data.schema.key.partition().name;
            let source = match &self.change {
                Change::Put(item) => item,
                _ => key,
            };
            let value = source
                .get(hash)
                .filter(|_| !data.schema.local_indexes.is_empty());
            value.map(|v| Item::from([(hash.clone(), v.clone())]))
        };
        self.collection = partition.map(|key| Collection {
            handle: Arc::clone(&self.handle),
            table_name: table_name.to_owned(),
            key,
        });
        self
    }
}

/// The item collections `actions` report.
fn collections_of(actions: &[Action]) -> Vec<Collection> {
    actions
        .iter()
        .filter_map(|a| a.collection.clone())
        .collect()
}

/// What one action did.
#[derive(Debug)]
struct Done {
    old: Option<StoredItem>,
    new: Option<StoredItem>,
    /// What the action cost, on which table, when its request meters.
    usage: Option<(String, Usage)>,
}

/// How the actions of one request fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Atomicity {
    /// One action, whose error is the request's error.
    Single,
    /// Several actions that cannot fail individually (a batch write).
    Batch,
    /// A transaction: any failure cancels all, with one reason per action.
    Transaction,
}

impl Engine {
    /// Runs write actions atomically: locks, reads, checks conditions, commits one mutation
    /// and applies it. Returns what each action did, in order. A transaction under a
    /// `ClientRequestToken` (`token`) is logged with its token, even when it changes
    /// nothing, and completes the token once applied. A single action whose condition
    /// fails is measured before its locks are released (`FailedWrite`).
    fn run(
        &self,
        mut actions: Vec<Action>,
        atomicity: Atomicity,
        token: Option<Running<'_>>,
    ) -> Result<Vec<Done>, FailedWrite> {
        // Gates, in table id order, each once.
        let mut handles: Vec<Arc<TableHandle>> =
            actions.iter().map(|a| Arc::clone(&a.handle)).collect();
        handles.sort_by(|a, b| a.id.cmp(&b.id));
        handles.dedup_by(|a, b| a.id == b.id);
        let _gates: Vec<RwLockReadGuard<'_, ()>> = handles.iter().map(|h| h.gate.read()).collect();
        let _locks = self
            .locks
            .lock(actions.iter().map(|a| (&*a.handle.id, a.key.as_slice())));

        // Decide every action against the current items.
        let mut outcomes = Vec::with_capacity(actions.len());
        let mut failed = false;
        for action in &mut actions {
            // (The gates keep the table from changing until the writes are applied: one
            // look at its head, before any action is decided, is as good as one first.)
            let schema = {
                let head = action.handle.head();
                head.writable()?;
                Arc::clone(&head.schema)
            };
            // A stream needs to know what the write replaces.
            let streamed = schema.current_stream().is_some();
            let old = match action.reads_current() || streamed {
                true => {
                    let data = action.handle.data.read();
                    data.items.get(action.key.as_slice())?.cloned()
                }
                // A blind write reads nothing of the table (see `TableHandle::head`); it
                // must only not fail once logged.
                false => {
                    action.handle.load(action.key.as_slice())?;
                    None
                }
            };
            let outcome = decide(action, &schema, old.as_ref());
            failed |= outcome.is_err();
            outcomes.push((old, schema, outcome));
        }
        if failed {
            if atomicity != Atomicity::Transaction {
                // Single actions fail with their own error; batch actions cannot fail here.
                let failing = (actions.iter().zip(outcomes))
                    .find_map(|(action, (old, _, outcome))| Some((action, old, outcome.err()?)));
                let Some((action, old, error)) = failing else {
                    return Err(Error::validation("write failed").into());
                };
                // Measured here, still under the item's lock, at the item the condition saw.
                let consumed_capacity = match (&error, &action.meter_as) {
                    (Error::ConditionalCheckFailed { .. }, Some(table)) => {
                        let written = match &action.change {
                            Change::Put(item) => Some(crate::model::value::item_size(item)),
                            _ => None,
                        };
                        let existing = old.as_ref().map(StoredItem::size);
                        let usage = capacity::failed_condition_usage(existing, written);
                        capacity::report(action.meter_mode, table, &usage, Split::None)
                            .map(Box::new)
                    }
                    _ => None,
                };
                return Err(FailedWrite {
                    error,
                    consumed_capacity,
                });
            }
            let reasons = outcomes
                .into_iter()
                .map(|(_, _, outcome)| match outcome {
                    Ok(_) => CancellationReason::none(),
                    Err(Error::ConditionalCheckFailed { message, item }) => CancellationReason {
                        code: "ConditionalCheckFailed".into(),
                        message: Some(message),
                        item,
                    },
                    Err(other) => CancellationReason {
                        code: "ValidationError".into(),
                        message: Some(other.message()),
                        item: None,
                    },
                })
                .collect();
            return Err(Error::TransactionCanceled { reasons }.into());
        }

        // Commit the writes that change something.
        let mut writes = Vec::new();
        // What the items were, kept only when a stream records one of them: a write to
        // tables without a stream builds no list (the write path's common case).
        let streamed = outcomes
            .iter()
            .any(|(_, s, _)| s.current_stream().is_some());
        let mut prior = Vec::new();
        let mut done = Vec::with_capacity(actions.len());
        for (action, (old, schema, outcome)) in actions.iter().zip(outcomes) {
            let new = match outcome {
                Ok(new) => new,
                Err(_) => unreachable!("failed outcomes returned above"),
            };
            let usage = action.meter_as.as_ref().map(|table| {
                // A check costs as a write of the item it checks, which it leaves as it was.
                let after = match action.change {
                    Change::Check => old.as_ref(),
                    _ => new.as_ref(),
                };
                let usage = capacity::write_usage(&schema, &action.key, old.as_ref(), after);
                (table.clone(), usage)
            });
            let changes =
                !matches!(action.change, Change::Check) && (old.is_some() || new.is_some());
            if changes {
                if streamed {
                    let view = schema.current_stream().map(|s| s.view);
                    prior.push(Prior::of(view, old.as_ref(), new.as_ref()));
                }
                writes.push(ItemWrite {
                    table_id: Arc::clone(&action.handle.id),
                    key: action.key.clone(),
                    item: new.clone(),
                });
            }
            done.push(Done { old, new, usage });
        }
        let mutation = match &token {
            Some(running) => Mutation::TokenWrite {
                token: running.token().to_owned(),
                fingerprint: running.fingerprint(),
                writes,
            },
            None if writes.is_empty() => return Ok(done),
            None => Mutation::Write(writes),
        };
        let mutation = Mutation::with_prior(mutation, prior);
        let touched: Vec<&Arc<TableHandle>> = handles.iter().collect();
        let at = self.commit(&mutation, &touched)?;
        // Hold every table's data lock (in id order) across the whole apply, so that no
        // reader sees a transaction or batch applied in one table and not yet in another.
        let guards = handles.iter().map(|h| h.data.write()).collect();
        apply(at, mutation, &mut Live::new(self).with_data(guards))?;
        if let Some(running) = token {
            running.complete(at.time, at.lsn);
        }
        Ok(done)
    }

    /// Resolves a write action: its table and the encoded key of its item. The key comes
    /// from the item of a `Put`, and from `key` (which must hold exactly the key attributes)
    /// otherwise.
    fn action(
        &self,
        table_name: &str,
        key: &Item,
        change: Change,
        condition: Option<Condition>,
        return_item_on_failure: bool,
    ) -> Result<Action> {
        let handle = self.table(table_name)?;
        let key = match &change {
            Change::Put(item) => handle.key.encode(item, KeyRole::Table)?,
            _ => handle.key.encode_exact(key)?,
        };
        Self::action_at(handle, key, change, condition, return_item_on_failure)
    }

    /// A write action on a table and key already resolved.
    fn action_at(
        handle: Arc<TableHandle>,
        key: EncodedKey,
        change: Change,
        condition: Option<Condition>,
        return_item_on_failure: bool,
    ) -> Result<Action> {
        if let Some(condition) = &condition {
            condition.validate()?;
        }
        if let Change::Update(update, _) = &change {
            update.validate()?;
        }
        Ok(Action {
            handle,
            key,
            change,
            condition,
            return_item_on_failure,
            returns_old: false,
            meter_as: None,
            meter_mode: ReturnConsumedCapacity::None,
            collection: None,
        })
    }

    /// Runs the one write of a `PutItem`, `DeleteItem` or `UpdateItem` on `table_name` and
    /// answers it as the request asks (`asks`: `ReturnValues`, `ReturnConsumedCapacity`,
    /// `ReturnItemCollectionMetrics`). `key` is the request's key (a put's comes from its
    /// item); `updated` the paths an update names, for `UPDATED_OLD`/`UPDATED_NEW`.
    fn write_one(
        &self,
        action: Action,
        table_name: &str,
        key: &Item,
        asks: (
            ReturnValue,
            ReturnConsumedCapacity,
            ReturnItemCollectionMetrics,
        ),
        updated: Option<&[expr::Path]>,
    ) -> Result<WriteItemOutput, FailedWrite> {
        let (values, capacity, sizes) = asks;
        let action = (action.metered(capacity, table_name)).collected(sizes, table_name, key);
        let collection = action.collection.clone();
        let done = self.run(vec![action], Atomicity::Single, None)?.remove(0);
        Ok(WriteItemOutput {
            attributes: returned(values, &done, updated),
            consumed_capacity: consumed(capacity, &done),
            item_collection_metrics: collection.as_ref().map(collections::metrics).transpose()?,
        })
    }

    /// The engine side of [`Database::put_item`](crate::Database::put_item).
    pub(crate) fn put_item(&self, input: PutItemInput) -> Result<PutItemOutput, FailedWrite> {
        if !matches!(input.return_values, ReturnValue::None | ReturnValue::AllOld) {
            return Err(Error::validation(
                "Return values set to invalid value: PutItem accepts only NONE and ALL_OLD",
            )
            .into());
        }
        validate_item(&input.item)?;
        let on_failure = input.return_values_on_condition_check_failure
            == ReturnValuesOnConditionCheckFailure::AllOld;
        let mut action = self.action(
            &input.table_name,
            &Item::new(),
            Change::Put(input.item),
            input.condition,
            on_failure,
        )?;
        action.returns_old = input.return_values == ReturnValue::AllOld;
        let asks = (
            input.return_values,
            input.return_consumed_capacity,
            input.return_item_collection_metrics,
        );
        self.write_one(action, &input.table_name, &Item::new(), asks, None)
    }

    /// The engine side of [`Database::delete_item`](crate::Database::delete_item).
    pub(crate) fn delete_item(
        &self,
        input: DeleteItemInput,
    ) -> Result<DeleteItemOutput, FailedWrite> {
        if !matches!(input.return_values, ReturnValue::None | ReturnValue::AllOld) {
            return Err(Error::validation(
                "Return values set to invalid value: DeleteItem accepts only NONE and ALL_OLD",
            )
            .into());
        }
        let on_failure = input.return_values_on_condition_check_failure
            == ReturnValuesOnConditionCheckFailure::AllOld;
        let action = self.action(
            &input.table_name,
            &input.key,
            Change::Delete,
            input.condition,
            on_failure,
        )?;
        let asks = (
            input.return_values,
            input.return_consumed_capacity,
            input.return_item_collection_metrics,
        );
        self.write_one(action, &input.table_name, &input.key, asks, None)
    }

    /// The engine side of [`Database::update_item`](crate::Database::update_item).
    pub(crate) fn update_item(
        &self,
        input: UpdateItemInput,
    ) -> Result<UpdateItemOutput, FailedWrite> {
        let on_failure = input.return_values_on_condition_check_failure
            == ReturnValuesOnConditionCheckFailure::AllOld;
        let paths = input.update.updated_paths();
        let change = Change::Update(input.update, input.key.clone());
        let action = self.action(
            &input.table_name,
            &input.key,
            change,
            input.condition,
            on_failure,
        )?;
        let asks = (
            input.return_values,
            input.return_consumed_capacity,
            input.return_item_collection_metrics,
        );
        self.write_one(action, &input.table_name, &input.key, asks, Some(&paths))
    }

    /// The engine side of [`Database::batch_write_item`](crate::Database::batch_write_item).
    pub(crate) fn batch_write_item(
        &self,
        input: BatchWriteItemInput,
    ) -> Result<BatchWriteItemOutput> {
        // DynamoDB's words for an empty map (as dynoxide's tests against DynamoDB give them).
        if input.request_items.is_empty() {
            return Err(Error::validation(
                "The requestItems parameter is required for BatchWriteItem",
            ));
        }
        // The API model bounds the map (1 to 25 tables) and each table's list (1 to 25
        // requests), and DynamoDB checks those bounds first, in its model-constraint words
        // (the value itself, which it echoes, is left out here: it can be megabytes).
        if input.request_items.len() > MAX_BATCH_WRITE {
            return Err(Error::validation(format!(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have length less than or equal to {MAX_BATCH_WRITE}"
            )));
        }
        if input
            .request_items
            .values()
            .any(|requests| requests.is_empty() || requests.len() > MAX_BATCH_WRITE)
        {
            return Err(Error::validation(format!(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to {MAX_BATCH_WRITE}, Member must have length greater than or equal to 1]"
            )));
        }
        // Within those bounds, the whole request may still hold more than 25 over several
        // tables. DynamoDB's reference gives only the limit; this wording is the one its
        // replies are quoted with by other implementations' probes of it.
        let count: usize = input.request_items.values().map(Vec::len).sum();
        if count > MAX_BATCH_WRITE {
            return Err(Error::validation(
                "Too many items requested for the BatchWriteItem call",
            ));
        }
        let mode = input.return_consumed_capacity;
        let sizes = input.return_item_collection_metrics;
        let mut actions = Vec::with_capacity(count);
        let mut bytes = 0;
        for (table, requests) in input.request_items {
            for request in requests {
                actions.push(match request {
                    WriteRequest::Put { item } => {
                        validate_item(&item)?;
                        bytes += crate::model::value::item_size(&item);
                        self.action(&table, &Item::new(), Change::Put(item), None, false)?
                            .metered(mode, &table)
                            .collected(sizes, &table, &Item::new())
                    }
                    WriteRequest::Delete { key } => self
                        .action(&table, &key, Change::Delete, None, false)?
                        .metered(mode, &table)
                        .collected(sizes, &table, &key),
                });
            }
        }
        if bytes > MAX_BATCH_WRITE_BYTES {
            return Err(Error::validation(format!(
                "Item size to update has exceeded the maximum allowed size: the batch holds {bytes} bytes, more than {MAX_BATCH_WRITE_BYTES}"
            )));
        }
        reject_duplicate_keys(&actions, "Provided list of item keys contains duplicates")?;
        let collections = collections_of(&actions);
        let done = self.run(actions, Atomicity::Batch, None)?;
        Ok(BatchWriteItemOutput {
            unprocessed_items: Default::default(),
            consumed_capacity: meter_of(&done).report(mode, 1.0, Split::None),
            item_collection_metrics: collections::by_table(&collections)?,
        })
    }

    /// The table and encoded key of one transaction action, or why its key does not fit the
    /// table (a key attribute missing, of the wrong type, empty or too long). DynamoDB answers such an action
    /// with a `TransactionCanceledException` whose reason for it is `ValidationError`, where
    /// a problem of the request itself (an expression, a substitution, the transaction's
    /// size) is a `ValidationException` for the whole request (Alternator's
    /// `test_transact_write_cancellation_reasons_validationerror`, which passes on DynamoDB).
    /// A table that does not exist is still the request's error, and so is an empty string
    /// or binary value in the `Key` of an update, delete or condition check (moto's
    /// AWS-verified `test_transaction_with_empty_key`; a put's item keeps the cancellation,
    /// which no test here shows otherwise).
    ///
    /// So this resolves an action's table and key, and answers `Ok(Err(why))` for a key
    /// that does not fit.
    fn transact_target(
        &self,
        item: &TransactWriteItem,
    ) -> Result<std::result::Result<(Arc<TableHandle>, EncodedKey), Error>> {
        let (table, key) = match item {
            TransactWriteItem::Put(put) => (&put.table_name, &put.item),
            TransactWriteItem::ConditionCheck(check) => (&check.table_name, &check.key),
            TransactWriteItem::Delete(delete) => (&delete.table_name, &delete.key),
            TransactWriteItem::Update(update) => (&update.table_name, &update.key),
        };
        let handle = self.table(table)?;
        if !matches!(item, TransactWriteItem::Put(_)) {
            handle.key.reject_empty_values(key)?;
        }
        let encoded = match item {
            TransactWriteItem::Put(_) => handle.key.encode(key, KeyRole::Table),
            _ => handle.key.encode_exact(key),
        };
        match encoded {
            Ok(key) => Ok(Ok((handle, key))),
            Err(error @ Error::Validation(_)) => Ok(Err(error)),
            Err(other) => Err(other),
        }
    }

    /// The engine side of [`Database::transact_write_items`](crate::Database::transact_write_items).
    pub(crate) fn transact_write_items(
        &self,
        input: TransactWriteItemsInput,
    ) -> Result<TransactWriteItemsOutput> {
        let count = input.transact_items.len();
        if count == 0 || count > MAX_TRANSACT_ITEMS {
            return Err(Error::validation(format!(
                "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length between 1 and {MAX_TRANSACT_ITEMS} (got {count})"
            )));
        }
        if let Some(token) = &input.client_request_token {
            idempotency::validate_token(token)?;
        }
        // Every transaction an AWS SDK sends carries a token (botocore fills
        // `idempotencyToken` members), so this runs for nearly every wire transaction: the
        // hash streams the actions' encoding, building no copy of them.
        let fingerprint = (input.client_request_token.as_ref())
            .map(|_| idempotency::fingerprint(&input.transact_items));
        let mode = input.return_consumed_capacity;
        let sizes = input.return_item_collection_metrics;
        let mut actions = Vec::with_capacity(count);
        let mut bytes = 0;
        let on = |r: ReturnValuesOnConditionCheckFailure| {
            r == ReturnValuesOnConditionCheckFailure::AllOld
        };
        // The first action whose key does not fit its table, and why: it cancels the
        // transaction rather than refusing the request (see `misfitting_key`).
        let mut misfit = None;
        for (index, item) in input.transact_items.into_iter().enumerate() {
            let (handle, key) = match self.transact_target(&item)? {
                Ok(target) => target,
                Err(error) => {
                    misfit.get_or_insert((index, error));
                    continue;
                }
            };
            actions.push(match item {
                TransactWriteItem::ConditionCheck(check) => Self::action_at(
                    handle,
                    key,
                    Change::Check,
                    check.condition,
                    on(check.return_values_on_condition_check_failure),
                )?
                // A check modifies no collection, so it reports none.
                .metered(mode, &check.table_name),
                TransactWriteItem::Put(put) => {
                    validate_item(&put.item)?;
                    bytes += crate::model::value::item_size(&put.item);
                    let change = Change::Put(put.item);
                    Self::action_at(
                        handle,
                        key,
                        change,
                        put.condition,
                        on(put.return_values_on_condition_check_failure),
                    )?
                    .metered(mode, &put.table_name)
                    .collected(sizes, &put.table_name, &Item::new())
                }
                TransactWriteItem::Delete(delete) => Self::action_at(
                    handle,
                    key,
                    Change::Delete,
                    delete.condition,
                    on(delete.return_values_on_condition_check_failure),
                )?
                .metered(mode, &delete.table_name)
                .collected(sizes, &delete.table_name, &delete.key),
                TransactWriteItem::Update(update) => Self::action_at(
                    handle,
                    key,
                    Change::Update(update.update, update.key.clone()),
                    update.condition,
                    on(update.return_values_on_condition_check_failure),
                )?
                .metered(mode, &update.table_name)
                .collected(sizes, &update.table_name, &update.key),
            });
        }
        if bytes > MAX_TRANSACTION_BYTES {
            // DynamoDB's documentation gives only the limit ("cannot exceed 4 MB"); this
            // wording is the one its replies are quoted with elsewhere (and what ScyllaDB's
            // AWS-verified tests expect: "size cannot exceed", "transaction payload"), not
            // from its reference. It measures the request's payload; what can reach the
            // limit here is the items the Puts write, so their size (names plus values, as
            // an item's 400 KB is counted) is the one reported.
            return Err(Error::validation(format!(
                "Transaction payload size cannot exceed 4MB. Payload Size: {bytes}"
            )));
        }
        if let Some((index, error)) = misfit {
            // DynamoDB stops at the first such action: the others report `None`, even one
            // whose condition would have failed, since none of them ran.
            let mut reasons = vec![CancellationReason::none(); count];
            reasons[index] = CancellationReason {
                code: "ValidationError".into(),
                message: Some(error.message()),
                item: None,
            };
            return Err(Error::TransactionCanceled { reasons });
        }
        reject_duplicate_keys(
            &actions,
            "Transaction request cannot include multiple operations on one item",
        )?;
        let running = match (&input.client_request_token, fingerprint) {
            (Some(token), Some(fingerprint)) => {
                let now = self.options.clock.now();
                let after = self.wal.last_committed().0;
                match self.tokens.claim(token, fingerprint, now, after)? {
                    Claim::Run(running) => Some(running),
                    Claim::Replay => return self.replayed_transaction(&actions, mode),
                }
            }
            _ => None,
        };
        let collections = collections_of(&actions);
        let done = self.run(actions, Atomicity::Transaction, running)?;
        // Each item is written twice, to prepare the transaction and to commit it.
        Ok(TransactWriteItemsOutput {
            consumed_capacity: meter_of(&done).report(mode, 2.0, Split::Write),
            item_collection_metrics: collections::by_table(&collections)?,
        })
    }

    /// The answer to a transaction sent again with the token of one that committed: success,
    /// nothing written. DynamoDB then reports the read units of reading the items (the
    /// `ClientRequestToken` documentation): here one strongly consistent read of each
    /// action's item as it is now.
    fn replayed_transaction(
        &self,
        actions: &[Action],
        mode: ReturnConsumedCapacity,
    ) -> Result<TransactWriteItemsOutput> {
        let mut meter = Meter::default();
        for action in actions {
            if let Some(table) = &action.meter_as {
                let data = action.handle.data.read();
                let size = data.items.get(action.key.as_slice())?.map(StoredItem::size);
                meter.add(table, Usage::on_table(capacity::read_units(size)));
            }
        }
        Ok(TransactWriteItemsOutput {
            consumed_capacity: meter.report(mode, 1.0, Split::Read),
            item_collection_metrics: None,
        })
    }
}

/// Checks an action against the current item: the condition, then the new item. `Ok(None)`
/// deletes (or, for a check, leaves the item alone).
fn decide(
    action: &mut Action,
    schema: &TableSchema,
    old: Option<&StoredItem>,
) -> Result<Option<StoredItem>> {
    // The current item is decoded only for what reads it: a condition or an update. A plain
    // put or delete never decodes it.
    let reads_old = action.condition.is_some() || matches!(action.change, Change::Update(..));
    let old_item = old.filter(|_| reads_old).map(StoredItem::decode);
    let old = old_item.as_ref();
    if let Some(condition) = &action.condition {
        if !condition.evaluate(old)? {
            let item = if action.return_item_on_failure {
                old.cloned()
            } else {
                None
            };
            return Err(Error::condition_failed(item));
        }
    }
    let new = match &mut action.change {
        // Each action is decided once: its item moves into the write.
        Change::Put(item) => std::mem::take(item),
        Change::Delete | Change::Check => return Ok(None),
        Change::Update(update, key) => {
            for path in update.updated_paths() {
                let top = path.top_level();
                if schema.key.attributes().any(|a| a.name == top) {
                    return Err(Error::validation(format!(
                        "One or more parameter values were invalid: Cannot update attribute {top}. This attribute is part of the key"
                    )));
                }
            }
            // An update of a missing item creates it, starting from its key — unless all it
            // does is remove things, which DynamoDB does not turn into a new item. (An
            // update with no action at all creates the item of just its key.)
            let removes_only = !update.actions.is_empty()
                && (update.actions.iter())
                    .all(|a| matches!(a, UpdateAction::Remove(_) | UpdateAction::Delete(..)));
            if old.is_none() && removes_only {
                update.apply(None)?;
                return Ok(None);
            }
            let base = old.cloned().unwrap_or_else(|| key.clone());
            let new = update.apply(Some(&base))?;
            validate_item(&new)?;
            new
        }
    };
    for index in schema.indexes() {
        index
            .key
            .encode_index_entry(&index.name, &new, &action.key)?;
    }
    Ok(Some(StoredItem::new(&new)))
}

/// The attributes a write returns for `ReturnValues`.
fn returned(mode: ReturnValue, done: &Done, updated: Option<&[expr::Path]>) -> Option<Item> {
    let pick = |item: &Option<StoredItem>, paths: Option<&[expr::Path]>| -> Option<Item> {
        let item = item.as_ref()?.decode();
        let picked = match paths {
            Some(paths) => expr::project(&item, paths),
            None => item,
        };
        (!picked.is_empty()).then_some(picked)
    };
    match mode {
        ReturnValue::None => None,
        ReturnValue::AllOld => pick(&done.old, None),
        ReturnValue::AllNew => pick(&done.new, None),
        ReturnValue::UpdatedOld => pick(&done.old, updated),
        ReturnValue::UpdatedNew => pick(&done.new, updated),
    }
}

/// The capacity report of a single write.
fn consumed(mode: ReturnConsumedCapacity, done: &Done) -> Option<ConsumedCapacity> {
    let (table, usage) = done.usage.as_ref()?;
    capacity::report(mode, table, usage, Split::None)
}

/// The usages of a batch's or transaction's actions, per table.
fn meter_of(done: &[Done]) -> Meter {
    let mut meter = Meter::default();
    for (table, usage) in done.iter().filter_map(|d| d.usage.clone()) {
        meter.add(&table, usage);
    }
    meter
}

fn reject_duplicate_keys(actions: &[Action], message: &str) -> Result<()> {
    let mut seen = BTreeSet::new();
    for action in actions {
        if !seen.insert((&*action.handle.id, action.key.as_slice())) {
            return Err(Error::validation(message));
        }
    }
    Ok(())
}
