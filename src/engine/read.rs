//! Reads: `GetItem`, `Query`, `Scan`, `BatchGetItem` and `TransactGetItems`. A read takes
//! its tables' data locks shared and no item lock, so it never waits for a writer's commit.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use parking_lot::RwLockReadGuard;

use crate::api::items::*;
use crate::engine::capacity::{self, Meter, Split, Usage};
use crate::engine::query::ReadPlan;
use crate::engine::{Engine, TableHandle};
use crate::error::{Error, Result};
use crate::expr;
use crate::expr::syntax::ExpressionWriter;
use crate::format::item::StoredItem;
use crate::model::value::{item_size, Item};
use crate::state::table::TableData;

impl Engine {
    /// The engine side of [`Database::get_item`](crate::Database::get_item).
    pub(crate) fn get_item(&self, input: GetItemInput) -> Result<GetItemOutput> {
        validate_projection(input.projection.as_deref())?;
        let handle = self.table(&input.table_name)?;
        let item = {
            let data = handle.data.read();
            let key = data.schema.key.encode_exact(&input.key)?;
            data.items.get(key.as_slice())?.cloned()
        };
        let units = capacity::read_units(item.as_ref().map(StoredItem::size))
            * capacity::consistency(input.consistent_read);
        Ok(GetItemOutput {
            item: item.map(|item| project(&item, input.projection.as_deref())),
            consumed_capacity: capacity::report(
                input.return_consumed_capacity,
                &input.table_name,
                &Usage::on_table(units),
                Split::None,
            ),
        })
    }

    /// The engine side of [`Database::query`](crate::Database::query).
    pub(crate) fn query(&self, input: QueryInput) -> Result<QueryOutput> {
        let handle = self.table(&input.table_name)?;
        let data = handle.data.read();
        let (mut page, usage) = ReadPlan::query(&data.schema, &input)?.read_page(&data)?;
        page.consumed_capacity = capacity::report(
            input.return_consumed_capacity,
            &input.table_name,
            &usage,
            Split::None,
        );
        Ok(page)
    }

    /// The engine side of [`Database::scan`](crate::Database::scan).
    pub(crate) fn scan(&self, input: ScanInput) -> Result<ScanOutput> {
        let handle = self.table(&input.table_name)?;
        let data = handle.data.read();
        let (mut page, usage) = ReadPlan::scan(&data.schema, &input)?.read_page(&data)?;
        page.consumed_capacity = capacity::report(
            input.return_consumed_capacity,
            &input.table_name,
            &usage,
            Split::None,
        );
        Ok(page)
    }

    /// The engine side of [`Database::batch_get_item`](crate::Database::batch_get_item).
    pub(crate) fn batch_get_item(&self, input: BatchGetItemInput) -> Result<BatchGetItemOutput> {
        // DynamoDB's own words for these two (its model's checks, before any table is
        // read); the empty map's as dynoxide's tests against DynamoDB give it, the empty
        // list's as an AWS SDK issue (aws/aws-sdk-js#1150) quotes it.
        if input.request_items.is_empty() {
            return Err(Error::validation(
                "The requestItems parameter is required for BatchGetItem",
            ));
        }
        if let Some(table) = (input.request_items.iter())
            .find(|(_, request)| request.keys.is_empty())
            .map(|(table, _)| table)
        {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '[]' at 'requestItems.{table}.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1"
            )));
        }
        let count: usize = input.request_items.values().map(|k| k.keys.len()).sum();
        if count > MAX_BATCH_GET {
            return Err(Error::validation(format!(
                "Too many items requested for the BatchGetItem call: between 1 and {MAX_BATCH_GET} keys are allowed (got {count})"
            )));
        }
        let mut output = BatchGetItemOutput::default();
        let mut meter = Meter::default();
        // The response's size so far: once the next item would take it past 16 MB, every key
        // not yet read is left for the caller to send again (at least one item is always read,
        // so sending them again makes progress).
        let (mut bytes, mut full) = (0, false);
        for (table, request) in input.request_items {
            validate_projection(request.projection.as_deref())?;
            let handle = self.table(&table)?;
            let data = handle.data.read();
            let mut seen = BTreeSet::new();
            let mut items = Vec::new();
            let mut unprocessed = Vec::new();
            // Each key costs what a GetItem of it costs, found or not.
            let mut units = 0.0;
            for key in &request.keys {
                let encoded = data.schema.key.encode_exact(key)?;
                if !seen.insert(encoded.clone()) {
                    return Err(Error::validation(
                        "Provided list of item keys contains duplicates",
                    ));
                }
                if full {
                    unprocessed.push(key.clone());
                    continue;
                }
                let item = data.items.get(encoded.as_slice())?;
                let Some(item) = item else {
                    units += capacity::read_units(None);
                    continue;
                };
                let projected = project(item, request.projection.as_deref());
                let size = item_size(&projected);
                if bytes + size > MAX_BATCH_GET_BYTES && bytes > 0 {
                    full = true;
                    unprocessed.push(key.clone());
                    continue;
                }
                units += capacity::read_units(Some(item.size()));
                bytes += size;
                items.push(projected);
            }
            let units = units * capacity::consistency(request.consistent_read);
            meter.add(&table, Usage::on_table(units));
            if !unprocessed.is_empty() {
                output
                    .unprocessed_keys
                    .insert(table.clone(), unprocessed_keys(&request, unprocessed));
            }
            output.responses.insert(table, items);
        }
        let mode = input.return_consumed_capacity;
        output.consumed_capacity = meter.report(mode, 1.0, Split::None);
        Ok(output)
    }

    /// The engine side of [`Database::transact_get_items`](crate::Database::transact_get_items).
    pub(crate) fn transact_get_items(
        &self,
        input: TransactGetItemsInput,
    ) -> Result<TransactGetItemsOutput> {
        let reads = input.transact_items;
        if reads.is_empty() || reads.len() > MAX_TRANSACT_ITEMS {
            return Err(Error::validation(format!(
                "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length between 1 and {MAX_TRANSACT_ITEMS} (got {})",
                reads.len()
            )));
        }
        for read in &reads {
            validate_projection(read.projection.as_deref())?;
        }
        let handles = reads
            .iter()
            .map(|r| self.table(&r.table_name))
            .collect::<Result<Vec<_>>>()?;
        // Read-lock every table once, in id order, and hold them all while reading.
        let mut order: Vec<&Arc<TableHandle>> = handles.iter().collect();
        order.sort_by(|a, b| a.id.cmp(&b.id));
        order.dedup_by(|a, b| a.id == b.id);
        let guards: BTreeMap<&str, RwLockReadGuard<'_, TableData>> =
            order.iter().map(|h| (&*h.id, h.data.read())).collect();
        let mut keys = BTreeSet::new();
        let mut responses = Vec::with_capacity(reads.len());
        let mut meter = Meter::default();
        for (read, handle) in reads.iter().zip(&handles) {
            let data = &guards[&*handle.id];
            let key = data.schema.key.encode_exact(&read.key)?;
            if !keys.insert((Arc::clone(&handle.id), key.clone())) {
                return Err(Error::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            let item = data.items.get(key.as_slice())?;
            let units = capacity::read_units(item.map(StoredItem::size));
            meter.add(&read.table_name, Usage::on_table(units));
            let item = item.map(|item| project(item, read.projection.as_deref()));
            responses.push(ItemResponse { item });
        }
        // Each item is read twice, to prepare the transaction and to commit it.
        let mode = input.return_consumed_capacity;
        Ok(TransactGetItemsOutput {
            responses,
            consumed_capacity: meter.report(mode, 2.0, Split::Read),
        })
    }
}

/// The attributes of a stored item that a read returns.
fn project(item: &StoredItem, projection: Option<&[expr::Path]>) -> Item {
    let item = item.decode();
    match projection {
        Some(paths) => expr::project(&item, paths),
        None => item,
    }
}

pub(super) fn validate_projection(projection: Option<&[expr::Path]>) -> Result<()> {
    projection.map_or(Ok(()), expr::validate_projection)
}

/// The keys of `request` left unread, as a `KeysAndAttributes` that reads them the same way
/// when sent again: the projection goes back into its string form.
fn unprocessed_keys(request: &KeysAndAttributes, keys: Vec<Item>) -> KeysAndAttributes {
    let mut left = KeysAndAttributes::new(keys).consistent_read(request.consistent_read);
    if let Some(paths) = &request.projection {
        let mut writer = ExpressionWriter::new();
        left.expressions.projection_expression = Some(writer.projection(paths));
        let (names, _) = writer.into_maps();
        left.expressions.expression_attribute_names = Some(names);
    }
    left
}
