//! The capacity units a request consumes, by DynamoDB's rules (developer guide, "Item sizes
//! and capacity unit consumption", and the throughput sections of the local and global
//! secondary index pages). The write and read paths measure each item as they touch it;
//! this module turns those sizes into units and the units into the reported
//! [`ConsumedCapacity`].
//!
//! | request | units |
//! |---|---|
//! | `GetItem` | ⌈size / 4 KB⌉, at least 1 (a missing item costs 1); half for an eventually consistent read |
//! | `BatchGetItem` | each key as a `GetItem`, summed per table |
//! | `Query`, `Scan` | ⌈sum of the sizes read / 4 KB⌉, at least 1, before the filter and projection; an index is read at the size of its entries, and a local index's fetch from the table costs each fetched item as a `GetItem` |
//! | `PutItem`, `UpdateItem`, `DeleteItem` | ⌈larger of the old and new item / 1 KB⌉, at least 1, plus the index writes |
//! | `BatchWriteItem` | each request as a `PutItem` or `DeleteItem`, summed per table |
//! | a write whose condition failed | 1 where no item exists, else ⌈larger of the existing item and the one written / 1 KB⌉; no index is written |
//! | transactions | twice the units of the same reads or writes (prepare and commit); a `ConditionCheck` costs as a write of its item |
//!
//! A write costs an index, at the size of the index's entries in 1 KB units: a put of the
//! entry when the item enters the index, a delete when it leaves, both when its index key
//! changes, one write when the entry's projected attributes change in place, and nothing
//! when the entry stays as it was (an index write only happens when the write changes what
//! the index stores).

use std::collections::BTreeMap;

use crate::api::capacity::{Capacity, ConsumedCapacity, ReturnConsumedCapacity};
use crate::format::item::StoredItem;
use crate::model::schema::{IndexKind, IndexSchema, TableSchema};
use crate::model::value::{item_size, Item};

/// Bytes per read capacity unit.
pub(crate) const READ_UNIT_BYTES: usize = 4096;
/// Bytes per write capacity unit.
const WRITE_UNIT_BYTES: usize = 1024;

/// The units `size` bytes take at `unit` bytes each: rounded up, and at least one, since
/// even reading a missing item or writing an empty one costs a unit.
fn units(size: usize, unit: usize) -> f64 {
    size.div_ceil(unit).max(1) as f64
}

/// A strongly consistent read of `size` bytes (`None`: a missing item).
pub(crate) fn read_units(size: Option<usize>) -> f64 {
    units(size.unwrap_or(0), READ_UNIT_BYTES)
}

/// A write of an item of `size` bytes (the larger of the item replaced and the one
/// written), or of none.
pub(crate) fn write_units(size: usize) -> f64 {
    units(size, WRITE_UNIT_BYTES)
}

/// The share of a strongly consistent read that a read with this consistency costs.
pub(crate) fn consistency(consistent_read: bool) -> f64 {
    if consistent_read {
        1.0
    } else {
        0.5
    }
}

/// The units one request consumed on one table and its indexes.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Usage {
    /// On the table itself.
    pub table: f64,
    /// On each index the request cost something, by name.
    pub indexes: BTreeMap<String, (IndexKind, f64)>,
}

impl Usage {
    /// `units` on the table.
    pub fn on_table(units: f64) -> Usage {
        Usage {
            table: units,
            indexes: BTreeMap::new(),
        }
    }

    /// Adds `units` on `index`.
    pub fn on_index(&mut self, index: &IndexSchema, units: f64) {
        let entry = (self.indexes)
            .entry(index.name.clone())
            .or_insert((index.kind, 0.0));
        entry.1 += units;
    }

    /// Adds another request's (or action's) usage to this one.
    pub fn add(&mut self, other: Usage) {
        self.table += other.table;
        for (name, (kind, units)) in other.indexes {
            self.indexes.entry(name).or_insert((kind, 0.0)).1 += units;
        }
    }

    /// This usage with every part multiplied by `factor`.
    pub fn scaled(mut self, factor: f64) -> Usage {
        self.table *= factor;
        for (_, units) in self.indexes.values_mut() {
            *units *= factor;
        }
        self
    }

    fn total(&self) -> f64 {
        self.table + self.indexes.values().map(|(_, u)| u).sum::<f64>()
    }
}

/// Which split of the units a request reports beside their total: DynamoDB gives read and
/// write units for transactions only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Split {
    None,
    Read,
    Write,
}

/// The `ConsumedCapacity` of `usage` on `table_name` that `mode` asks for.
pub(crate) fn report(
    mode: ReturnConsumedCapacity,
    table_name: &str,
    usage: &Usage,
    split: Split,
) -> Option<ConsumedCapacity> {
    let capacity = |units: f64| Capacity {
        capacity_units: units,
        read_capacity_units: (split == Split::Read).then_some(units),
        write_capacity_units: (split == Split::Write).then_some(units),
    };
    let total = capacity(usage.total());
    let mut consumed = ConsumedCapacity {
        table_name: table_name.to_string(),
        capacity_units: total.capacity_units,
        read_capacity_units: total.read_capacity_units,
        write_capacity_units: total.write_capacity_units,
        ..ConsumedCapacity::default()
    };
    match mode {
        ReturnConsumedCapacity::None => return None,
        ReturnConsumedCapacity::Total => {}
        ReturnConsumedCapacity::Indexes => {
            consumed.table = Some(capacity(usage.table));
            let arms = |kind: IndexKind| {
                let arm: BTreeMap<String, Capacity> = (usage.indexes.iter())
                    .filter(|(_, (k, _))| *k == kind)
                    .map(|(name, (_, units))| (name.clone(), capacity(*units)))
                    .collect();
                (!arm.is_empty()).then_some(arm)
            };
            consumed.local_secondary_indexes = arms(IndexKind::Local);
            consumed.global_secondary_indexes = arms(IndexKind::Global);
        }
    }
    Some(consumed)
}

/// The usages of one request, per table as the request named it.
#[derive(Debug, Default)]
pub(crate) struct Meter(BTreeMap<String, Usage>);

impl Meter {
    /// Adds `usage` on `table_name`.
    pub fn add(&mut self, table_name: &str, usage: Usage) {
        self.0.entry(table_name.to_string()).or_default().add(usage);
    }

    /// One `ConsumedCapacity` per table, in name order, as `mode` asks; `None` for NONE.
    pub fn report(
        self,
        mode: ReturnConsumedCapacity,
        factor: f64,
        split: Split,
    ) -> Option<Vec<ConsumedCapacity>> {
        (mode != ReturnConsumedCapacity::None).then(|| {
            (self.0.into_iter())
                .filter_map(|(table, usage)| report(mode, &table, &usage.scaled(factor), split))
                .collect()
        })
    }
}

/// What a write whose condition failed consumed: DynamoDB's developer guide ("Capacity
/// units consumed by conditional writes") charges one write unit "if the item does not
/// currently exist in the table", else by the size of the item, "an existing item in the
/// table or a new one you're attempting to create or update" — the larger of the two
/// ("Capacity unit consumption for write operations": an existing 300 KB item and a new
/// 310 KB one cost the 310 KB). `existing` is the size of the item the condition was
/// checked against (`None`: no item); `written` that of the item a put would have written
/// (an update's new item is never made, and a delete writes none). No index entry is
/// written, so only the table is charged.
pub(crate) fn failed_condition_usage(existing: Option<usize>, written: Option<usize>) -> Usage {
    let size = match existing {
        None => 0,
        Some(existing) => existing.max(written.unwrap_or(0)),
    };
    Usage::on_table(write_units(size))
}

/// What a write of one item costs: the table write, at the larger of the old and new item,
/// and each index write (see the module doc). `old` and `new` are the item before and after
/// (`None`: absent); `key` is the item's encoded table key. A condition check passes the
/// current item as both.
pub(crate) fn write_usage(
    schema: &TableSchema,
    key: &[u8],
    old: Option<&StoredItem>,
    new: Option<&StoredItem>,
) -> Usage {
    let size = |item: Option<&StoredItem>| item.map_or(0, StoredItem::size);
    let mut usage = Usage::on_table(write_units(size(old).max(size(new))));
    if schema.indexes().next().is_none() {
        return usage;
    }
    let old = old.map(StoredItem::decode);
    let new = new.map(StoredItem::decode);
    for index in schema.indexes() {
        // The entry the index holds for an item: its position and its projected attributes.
        let entry = |item: Option<&Item>| {
            let item = item?;
            let position = (index.key)
                .encode_index_entry(&index.name, item, key)
                .ok()??;
            Some((position, index.project(&schema.key, item)))
        };
        let write = |entry: &Item| write_units(item_size(entry));
        let cost = match (entry(old.as_ref()), entry(new.as_ref())) {
            (None, None) => 0.0,
            (Some((_, gone)), None) => write(&gone),
            (None, Some((_, added))) => write(&added),
            // The index key changed: a delete of the old entry and a put of the new one.
            (Some((from, before)), Some((to, after))) if from != to => {
                write(&before) + write(&after)
            }
            (Some((_, before)), Some((_, after))) if before == after => 0.0,
            (Some((_, before)), Some((_, after))) => write(&before).max(write(&after)),
        };
        if cost > 0.0 {
            usage.on_index(index, cost);
        }
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_round_up_and_never_fall_below_one() {
        assert_eq!(units(0, WRITE_UNIT_BYTES), 1.0);
        assert_eq!(units(1024, WRITE_UNIT_BYTES), 1.0);
        assert_eq!(units(1025, WRITE_UNIT_BYTES), 2.0);
        assert_eq!(read_units(Some(4096)), 1.0);
        assert_eq!(read_units(Some(4097)), 2.0);
        assert_eq!(read_units(None), 1.0);
    }

    #[test]
    fn a_failed_condition_costs_one_unit_without_an_item_else_the_larger_item() {
        let units = |existing, written| failed_condition_usage(existing, written).table;
        assert_eq!(units(None, None), 1.0);
        // No item: one unit, however large the item the put would have written.
        assert_eq!(units(None, Some(5000)), 1.0);
        assert_eq!(units(Some(100), None), 1.0);
        assert_eq!(units(Some(2500), Some(10)), 3.0);
        assert_eq!(units(Some(10), Some(2500)), 3.0);
        assert!(failed_condition_usage(Some(9000), None).indexes.is_empty());
    }

    #[test]
    fn total_reports_no_parts_and_indexes_reports_only_the_indexes_charged() {
        let mut usage = Usage::on_table(1.0);
        usage.indexes.insert("g".into(), (IndexKind::Global, 2.0));
        let total = report(ReturnConsumedCapacity::Total, "T", &usage, Split::None);
        let total = total.expect("a report");
        assert_eq!((total.capacity_units, total.table), (3.0, None));
        let parts = report(ReturnConsumedCapacity::Indexes, "T", &usage, Split::Write);
        let parts = parts.expect("a report");
        assert_eq!(parts.write_capacity_units, Some(3.0));
        assert_eq!(parts.table.map(|t| t.capacity_units), Some(1.0));
        assert_eq!(parts.local_secondary_indexes, None);
        let global = parts.global_secondary_indexes.expect("the global index");
        assert_eq!(global["g"].write_capacity_units, Some(2.0));
        assert_eq!(
            report(ReturnConsumedCapacity::None, "T", &usage, Split::None),
            None
        );
    }
}
