//! `ReturnItemCollectionMetrics`: the size of the item collections a write touched.
//!
//! An item collection is the items of one partition key on a table with local secondary
//! indexes, with their index entries: DynamoDB caps it (10 GB) because a local index lives
//! in its table's partition. A write that asks with `SIZE` reports, for each collection it
//! touched on such a table, the partition key and `SizeEstimateRangeGB`. On a table without
//! a local index nothing is reported, as DynamoDB documents (`ItemCollectionMetrics`).
//!
//! The estimate is DynamoDB's documented one — the size of the collection's items plus the
//! size of their entries in every local secondary index — which the table keeps up to date
//! as writes apply (`TableData::collections`, where `IndexEntries::collection_bytes` cites the rule), so
//! reporting it reads one number under the table's data lock instead of walking the
//! partition (a collection may be 10 GB). The range is the whole gigabytes (2³⁰ bytes)
//! around it: `[⌊size⌋, ⌊size⌋ + 1]`, so a small collection reports `[0.0, 1.0]` as
//! DynamoDB's examples show. The size is taken after the write.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::api::items::{ItemCollectionMetrics, ItemCollectionMetricsByTable};
use crate::engine::TableHandle;
use crate::error::Result;
use crate::model::key;
use crate::model::value::Item;

/// Bytes per gigabyte of the estimate.
const GB: f64 = (1u64 << 30) as f64;

/// One item collection a write touched: the table as the request named it, and the
/// collection's partition key.
#[derive(Clone, Debug)]
pub(crate) struct Collection {
    pub handle: Arc<TableHandle>,
    pub table_name: String,
    pub key: Item,
}

/// The metrics of `collection` as its table holds it now.
pub(crate) fn metrics(collection: &Collection) -> Result<ItemCollectionMetrics> {
    let bytes = {
        let data = collection.handle.data.read();
        let partition = collection.key.get(&data.schema.key.partition().name);
        let prefix = partition.map(|value| key::partition_prefix(&[value]));
        prefix.and_then(|p| data.collections.get(&p).copied())
    };
    Ok(ItemCollectionMetrics {
        item_collection_key: collection.key.clone(),
        size_estimate_range_gb: range_gb(bytes.unwrap_or(0)),
    })
}

/// The whole gigabytes around `bytes`.
fn range_gb(bytes: u64) -> [f64; 2] {
    let lower = (bytes as f64 / GB).floor();
    [lower, lower + 1.0]
}

/// The metrics of every collection of a batch or transaction, once each, by table; `None`
/// when none was asked for or touched.
pub(crate) fn by_table(collections: &[Collection]) -> Result<Option<ItemCollectionMetricsByTable>> {
    let mut tables: ItemCollectionMetricsByTable = BTreeMap::new();
    for collection in collections {
        let listed = tables.entry(collection.table_name.clone()).or_default();
        if !listed
            .iter()
            .any(|m| m.item_collection_key == collection.key)
        {
            listed.push(metrics(collection)?);
        }
    }
    Ok((!tables.is_empty()).then_some(tables))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_is_the_whole_gigabytes_around_the_size() {
        assert_eq!(range_gb(0), [0.0, 1.0]);
        assert_eq!(range_gb((1 << 30) - 1), [0.0, 1.0]);
        assert_eq!(range_gb(1 << 30), [1.0, 2.0]);
        assert_eq!(range_gb(10 << 30), [10.0, 11.0]);
    }
}
