//! A live table: its items in key order and its secondary indexes beside them.
//!
//! [`TableData::apply_write`] is the one item mutation: live writes and log replay both go
//! through it, so the state a write produces and the state replay rebuilds cannot differ
//! (invariant I3). It cannot fail: everything that could make a write invalid (key types,
//! sizes, index key types) is checked before the write is logged.
//!
//! Invariants, kept by `apply_write` and checked by the model tests:
//! - every item is stored under the encoding of its own key;
//! - an index holds exactly one entry per item that has all of the index's key attributes
//!   with valid values, keyed by index key then table key, with the table key's length;
//! - `size_bytes` and each index's `size_bytes` are the sums of item and projected sizes;
//! - on a table with a local secondary index, `collections` holds each partition's item
//!   collection size (each item's [`IndexEntries::collection_bytes`] summed), and no
//!   partition without items.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::api::tables::{Counts, TableStatus};
use crate::error::Result;
use crate::format::item::StoredItem;
use crate::format::table_file::RawBlock;
use crate::model::key::EncodedKey;
use crate::model::schema::{IndexKind, IndexSchema, KeyShape, ProjectionType, TableSchema};
use crate::model::settings::TableSettings;
use crate::model::value::{item_size, Item};
use crate::state::items::Items;

/// One secondary index's entries.
#[derive(Debug, Default, Clone)]
pub(crate) struct IndexData {
    /// Index key ++ table key → the table key's length: the entry ends with the table key
    /// ([`IndexData::table_key`]), so a copy of it would be a second allocation per entry.
    pub entries: BTreeMap<Box<[u8]>, u32>,
    /// Sum of the projected sizes of the indexed items.
    pub size_bytes: u64,
}

/// The live contents of one table.
#[derive(Debug)]
pub(crate) struct TableData {
    pub schema: Arc<TableSchema>,
    pub status: TableStatus,
    /// Set when the table is deleted, so that a writer that looked the table up just before
    /// the delete finds out once it holds the table's gate.
    pub deleted: bool,
    pub items: Items,
    /// Its tags, Time to Live setting and resource policies: state of the table, logged and
    /// snapshotted with it, though no restore carries them over (`model/settings.rs`).
    pub settings: Arc<TableSettings>,
    /// One per index, in `schema.indexes()` order.
    pub indexes: Vec<IndexData>,
    pub size_bytes: u64,
    /// Bytes of each item collection, by partition prefix (`key::partition_prefix`), on a
    /// table with a local secondary index only: `ReturnItemCollectionMetrics` reads it
    /// instead of walking a partition (up to 10 GB) under the data lock.
    pub collections: BTreeMap<EncodedKey, u64>,
}

/// What one item puts in one index: its entry (index key ++ table key) and the bytes the
/// index is charged for it (its projected attributes).
#[derive(Debug, PartialEq)]
struct IndexEntry {
    key: EncodedKey,
    projected: u64,
}

impl IndexEntry {
    /// `None` when the item lacks one of the index's key attributes (an index is sparse),
    /// or has an invalid value for one: a live write cannot (it is refused before it is
    /// logged), and a backfill skips it, as DynamoDB skips index key violations.
    fn of(index: &IndexSchema, table_key: &KeyShape, key: &[u8], item: &Item) -> Option<Self> {
        let entry = index
            .key
            .encode_index_entry(&index.name, item, key)
            .ok()??;
        let projected = match index.projection.projection_type {
            ProjectionType::All => item_size(item),
            // The projected attributes' sizes, without building the projected item.
            _ => (item.iter())
                .filter(|(name, _)| index.projects(table_key, name))
                .map(|(name, value)| name.len() + value.size())
                .sum(),
        };
        Some(IndexEntry {
            key: entry,
            projected: projected as u64,
        })
    }
}

/// Bytes DynamoDB counts for each local secondary index entry beyond its attributes.
const INDEX_ENTRY_OVERHEAD: u64 = 100;

/// What one item puts in each of its table's indexes, computed once per write for both
/// the indexes and the item collection sizes.
struct IndexEntries {
    /// One per index, in `schema.indexes()` order.
    entries: Vec<Option<IndexEntry>>,
    /// What the item adds to its item collection, on a table with a local index: its
    /// size, plus the size of its entry in each local index. DynamoDB's developer guide,
    /// "Storage considerations for local secondary indexes": an index item is the size of
    /// the table's primary key, plus the index key attribute, plus the projected
    /// attributes, plus 100 bytes of overhead. An item without an index's sort key has no
    /// entry in it.
    collection_bytes: u64,
}

impl IndexEntries {
    fn of(schema: &TableSchema, key: &[u8], item: &Item, size: usize) -> IndexEntries {
        let mut collection_bytes = size as u64;
        let entries = (schema.indexes())
            .map(|index| {
                let entry = IndexEntry::of(index, &schema.key, key, item);
                if let (IndexKind::Local, Some(entry)) = (index.kind, &entry) {
                    collection_bytes += entry.projected + INDEX_ENTRY_OVERHEAD;
                }
                entry
            })
            .collect();
        IndexEntries {
            entries,
            collection_bytes,
        }
    }
}

/// Adds (`grows`) or takes away `bytes` from the size of the item collection of the
/// partition `item` belongs to.
fn count_in_collection(
    collections: &mut BTreeMap<EncodedKey, u64>,
    schema: &TableSchema,
    item: &Item,
    bytes: u64,
    grows: bool,
) {
    let Some(partition) = item.get(&schema.key.partition().name) else {
        return;
    };
    let prefix = crate::model::key::partition_prefix(&[partition]);
    if grows {
        *collections.entry(prefix).or_default() += bytes;
    } else if let Some(total) = collections.get_mut(&prefix) {
        *total = total.saturating_sub(bytes);
        if *total == 0 {
            collections.remove(&prefix);
        }
    }
}

impl TableData {
    /// An empty table.
    pub fn new(schema: Arc<TableSchema>, status: TableStatus) -> TableData {
        let indexes = schema.indexes().map(|_| IndexData::default()).collect();
        TableData {
            items: Items::new(schema.key.clone()),
            schema,
            status,
            deleted: false,
            settings: Arc::default(),
            indexes,
            size_bytes: 0,
            collections: BTreeMap::new(),
        }
    }

    /// A table holding the items of a table file's blocks, read in file order — how a
    /// snapshot is loaded. The items stay undecoded until read ([`Items`]) unless the
    /// table has indexes, which are built from every item here.
    pub fn from_blocks(
        schema: Arc<TableSchema>,
        status: TableStatus,
        blocks: Vec<RawBlock>,
    ) -> Result<TableData> {
        let mut data = TableData::new(schema, status);
        data.size_bytes = blocks.iter().map(RawBlock::item_bytes).sum();
        data.items = Items::from_blocks(data.schema.key.clone(), blocks);
        if !data.indexes.is_empty() {
            let schema = Arc::clone(&data.schema);
            for entry in data.items.iter() {
                let (key, stored) = entry?;
                let (key, item) = (key.as_bytes(), stored.decode());
                let entries = IndexEntries::of(&schema, key, &item, stored.size());
                for (index, entry) in data.indexes.iter_mut().zip(entries.entries) {
                    if let Some(entry) = entry {
                        index.insert(key, entry);
                    }
                }
                if !schema.local_indexes.is_empty() {
                    let bytes = entries.collection_bytes;
                    count_in_collection(&mut data.collections, &schema, &item, bytes, true);
                }
            }
        }
        Ok(data)
    }

    /// Puts (`Some`) or deletes (`None`) the item at `key`, keeping every index in step;
    /// returns the item it replaced. Fails only on a leaf of the table file the table was
    /// loaded from that does not decode, which a live writer has found out before logging
    /// ([`Items::load`]).
    pub fn apply_write(
        &mut self,
        key: EncodedKey,
        new: Option<StoredItem>,
    ) -> Result<Option<StoredItem>> {
        // The key moves into the map unless an index needs it after the insert.
        let (old, key) = match &new {
            Some(item) if self.indexes.is_empty() => {
                (self.items.insert(key.into(), item.clone())?, None)
            }
            Some(item) => (
                self.items.insert(key.as_slice().into(), item.clone())?,
                Some(key),
            ),
            None => (self.items.remove(key.as_slice())?, Some(key)),
        };
        if let Some(old) = &old {
            self.size_bytes -= old.size() as u64;
        }
        if let Some(new) = &new {
            self.size_bytes += new.size() as u64;
        }
        let Some(key) = key.filter(|_| !self.indexes.is_empty()) else {
            return Ok(old);
        };
        // NB: an indexed table pays a decode of the old and new item per write; a table
        // without indexes (the common case) never decodes on the write path.
        let schema = Arc::clone(&self.schema);
        let entries_of = |stored: &StoredItem| {
            let item = stored.decode();
            let entries = IndexEntries::of(&schema, &key, &item, stored.size());
            (item, entries)
        };
        let (mut old_entries, mut new_entries) =
            (old.as_ref().map(entries_of), new.map(|n| entries_of(&n)));
        for (i, data) in self.indexes.iter_mut().enumerate() {
            let take = |entries: &mut Option<(Item, IndexEntries)>| {
                entries.as_mut().and_then(|(_, e)| e.entries[i].take())
            };
            let (old_entry, new_entry) = (take(&mut old_entries), take(&mut new_entries));
            // An overwrite that leaves the index's attributes as they were (the usual
            // update) leaves the index alone.
            if old_entry == new_entry {
                continue;
            }
            if let Some(entry) = old_entry {
                data.remove(entry);
            }
            if let Some(entry) = new_entry {
                data.insert(&key, entry);
            }
        }
        if !schema.local_indexes.is_empty() {
            let collections = &mut self.collections;
            if let Some((item, entries)) = &old_entries {
                let bytes = entries.collection_bytes;
                count_in_collection(collections, &schema, item, bytes, false);
            }
            if let Some((item, entries)) = &new_entries {
                let bytes = entries.collection_bytes;
                count_in_collection(collections, &schema, item, bytes, true);
            }
        }
        Ok(old)
    }

    /// Switches to a new schema (`UpdateTable`), building any index that is new from the
    /// existing items and dropping any index that is gone. Fails (changing nothing) only
    /// on items of the loaded table file that do not decode. (Local indexes are fixed at
    /// creation, so the item collections' sizes stay as they are.)
    pub fn set_schema(&mut self, schema: Arc<TableSchema>) -> Result<()> {
        let built = self.build_new_indexes(&schema)?;
        self.install_schema(schema, built);
        Ok(())
    }

    /// The indexes `schema` has and this table's schema has not, built from the items, in
    /// `schema.indexes()` order: [`Self::set_schema`]'s long part, which only reads, so a
    /// live `UpdateTable` runs it under a read lock while its table's gate holds writers
    /// back, and readers go on.
    pub fn build_new_indexes(&self, schema: &TableSchema) -> Result<Vec<IndexData>> {
        let mut built = Vec::new();
        for index in schema.indexes() {
            if self.schema.indexes().any(|old| old.same_entries_as(index)) {
                continue;
            }
            let mut data = IndexData::default();
            for entry in self.items.iter() {
                let (key, item) = entry?;
                let key = key.as_bytes();
                if let Some(entry) = IndexEntry::of(index, &schema.key, key, &item.decode()) {
                    data.insert(key, entry);
                }
            }
            built.push(data);
        }
        Ok(built)
    }

    /// Switches to `schema`, with `built` its new indexes as [`Self::build_new_indexes`]
    /// made them from the items the table still holds.
    pub fn install_schema(&mut self, schema: Arc<TableSchema>, built: Vec<IndexData>) {
        let mut built = built.into_iter();
        let mut indexes = Vec::new();
        for index in schema.indexes() {
            let kept = self
                .schema
                .indexes()
                .position(|old| old.same_entries_as(index))
                .map(|i| std::mem::take(&mut self.indexes[i]));
            indexes.push(kept.or_else(|| built.next()).unwrap_or_default());
        }
        self.indexes = indexes;
        self.schema = schema;
    }

    /// Item count and size of the table and of each index, for `DescribeTable`.
    pub fn counts(&self) -> (Counts, Vec<Counts>) {
        let table = Counts {
            items: self.items.len(),
            bytes: self.size_bytes,
        };
        let indexes = self
            .indexes
            .iter()
            .map(|i| Counts {
                items: i.entries.len() as u64,
                bytes: i.size_bytes,
            })
            .collect();
        (table, indexes)
    }
}

impl IndexData {
    /// The table key an entry of this index points at: its last `len` bytes.
    pub fn table_key(entry: &[u8], len: u32) -> &[u8] {
        &entry[entry.len().saturating_sub(len as usize)..]
    }

    fn insert(&mut self, table_key: &[u8], entry: IndexEntry) {
        // A table key is at most a few kilobytes (DynamoDB's 2,048-byte partition and
        // 1,024-byte sort keys, encoded).
        let len = u32::try_from(table_key.len()).unwrap_or(u32::MAX);
        self.size_bytes += entry.projected;
        self.entries.insert(entry.key.into_boxed_slice(), len);
    }

    fn remove(&mut self, entry: IndexEntry) {
        if self.entries.remove(entry.key.as_slice()).is_some() {
            self.size_bytes -= entry.projected;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::tables::CreateTableInput;
    use crate::format::table_file::{TableFileReader, TableFileWriter, SNAPSHOT_MAGIC};
    use crate::fs::sim::SimFs;
    use crate::model::clock::Timestamp;
    use crate::model::key::KeyRole;
    use crate::model::schema::{Projection, ScalarAttributeType::N, ScalarAttributeType::S};
    use crate::model::value::AttributeValue;

    #[test]
    fn a_table_loaded_from_a_table_file_equals_one_written_item_by_item() {
        let schema = CreateTableInput::new("loaded")
            .hash_key("pk", S)
            .range_key("sk", N)
            .global_index("by_g", ("g", S), Some(("sk", N)), Projection::all())
            .local_index("by_v", "v", N, Projection::keys_only())
            .pay_per_request()
            .to_schema(Timestamp(0))
            .expect("schema");
        let schema = Arc::new(schema);
        let mut written = TableData::new(Arc::clone(&schema), TableStatus::Active);
        for i in 0..500i64 {
            let mut item = Item::new();
            item.insert("pk".into(), AttributeValue::s(format!("p{}", i % 17)));
            item.insert("sk".into(), AttributeValue::number(i));
            // Some items lack an index's key: sparse indexes must stay sparse.
            if i % 3 != 0 {
                item.insert("g".into(), AttributeValue::s(format!("g{}", i % 5)));
            }
            if i % 4 != 0 {
                item.insert("v".into(), AttributeValue::number(i * 7));
            }
            // Big enough for the file to have several blocks.
            item.insert("pad".into(), AttributeValue::B(vec![0; 1000]));
            let key = schema.key.encode(&item, KeyRole::Table).expect("key");
            written
                .apply_write(key, Some(StoredItem::new(&item)))
                .expect("write");
        }
        let fs = SimFs::new();
        let path = std::path::Path::new("/loaded.snap");
        let mut writer =
            TableFileWriter::create(&fs, path, SNAPSHOT_MAGIC, b"meta").expect("create");
        written.items.write_to(&mut writer).expect("write");
        writer.finish().expect("finish");
        let mut reader = TableFileReader::open(&fs, path, SNAPSHOT_MAGIC).expect("open");
        let mut blocks = Vec::new();
        while let Some(block) = reader.next_raw().expect("block") {
            blocks.push(block);
        }
        assert!(blocks.len() > 1);
        let loaded = TableData::from_blocks(schema, TableStatus::Active, blocks).expect("loads");
        let all = |data: &TableData| {
            data.items
                .iter()
                .map(|entry| entry.expect("decodes").clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(all(&loaded), all(&written));
        assert_eq!(loaded.items.len(), 500);
        assert_eq!(loaded.size_bytes, written.size_bytes);
        assert_eq!(loaded.indexes.len(), 2);
        for (a, b) in loaded.indexes.iter().zip(&written.indexes) {
            assert_eq!(a.entries, b.entries);
            assert_eq!(a.size_bytes, b.size_bytes);
        }
        assert_eq!(loaded.collections.len(), 17, "one per partition");
        assert_eq!(loaded.collections, written.collections);
    }

    #[test]
    fn a_change_of_an_index_throughput_settings_keeps_its_entries_without_a_rebuild() {
        use crate::model::schema::{
            OnDemandThroughput, ProvisionedThroughput, TableSchema, WarmThroughput,
        };
        let schema = CreateTableInput::new("settings")
            .hash_key("pk", S)
            .global_index("by_g", ("g", S), None, Projection::all())
            .pay_per_request()
            .to_schema(Timestamp(0))
            .expect("schema");
        let schema = Arc::new(schema);
        let mut data = TableData::new(Arc::clone(&schema), TableStatus::Active);
        for i in 0..10i64 {
            let mut item = Item::new();
            item.insert("pk".into(), AttributeValue::s(format!("p{i}")));
            item.insert("g".into(), AttributeValue::s(format!("g{}", i % 3)));
            let key = schema.key.encode(&item, KeyRole::Table).expect("key");
            data.apply_write(key, Some(StoredItem::new(&item)))
                .expect("write");
        }
        let entries = data.indexes[0].entries.clone();
        assert_eq!(entries.len(), 10);
        let changed = |change: &dyn Fn(&mut TableSchema)| {
            let mut next = (*schema).clone();
            change(&mut next);
            next
        };
        let settings: [&dyn Fn(&mut TableSchema); 3] = [
            &|s| {
                s.global_indexes[0].on_demand =
                    Some(OnDemandThroughput::new().max_read_request_units(5))
            },
            &|s| {
                s.global_indexes[0].warm = Some(WarmThroughput::new().read_units_per_second(20_000))
            },
            &|s| s.global_indexes[0].throughput = Some(ProvisionedThroughput::new(3, 4)),
        ];
        for change in settings {
            let next = changed(change);
            assert!(
                data.build_new_indexes(&next).expect("builds").is_empty(),
                "nothing to build for a change of settings"
            );
            data.install_schema(Arc::new(next), Vec::new());
            assert_eq!(data.indexes[0].entries, entries, "the entries are kept");
        }
        // A new index (another projection under the same name) is still built.
        let next = changed(&|s| s.global_indexes[0].projection = Projection::keys_only());
        assert_eq!(data.build_new_indexes(&next).expect("builds").len(), 1);
    }

    #[test]
    fn an_item_collection_counts_its_items_and_100_bytes_more_per_local_index_entry() {
        let schema = CreateTableInput::new("collections")
            .hash_key("pk", S)
            .range_key("sk", N)
            .local_index("by_v", "v", N, Projection::keys_only())
            .local_index("by_w", "w", S, Projection::include(["x"]))
            .global_index("by_g", ("v", N), None, Projection::all())
            .pay_per_request()
            .to_schema(Timestamp(0))
            .expect("schema");
        let schema = Arc::new(schema);
        let mut data = TableData::new(Arc::clone(&schema), TableStatus::Active);
        let item = |pairs: &[(&str, AttributeValue)]| -> Item {
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.clone()))
                .collect()
        };
        let pk = |p: &str| ("pk", AttributeValue::s(p));
        let sk = |n: i64| ("sk", AttributeValue::number(n));
        let (v, w, x) = (
            ("v", AttributeValue::number(5)),
            ("w", AttributeValue::s("ww")),
            ("x", AttributeValue::s("xxx")),
        );
        let pad = ("pad", AttributeValue::B(vec![0; 300]));
        let write = |data: &mut TableData, item: &Item, put: bool| {
            let key = schema.key.encode(item, KeyRole::Table).expect("key");
            let stored = put.then(|| StoredItem::new(item));
            data.apply_write(key, stored).expect("write");
        };
        let bytes = |data: &TableData, p: &str| {
            let prefix = crate::model::key::partition_prefix(&[&AttributeValue::s(p)]);
            data.collections.get(&prefix).copied()
        };
        let size = |i: &Item| item_size(i) as u64;
        // In both local indexes: KEYS_ONLY holds the table key and the index key, INCLUDE
        // those and `x`; each entry costs 100 bytes more.
        let full = item(&[pk("p"), sk(1), v.clone(), w.clone(), x.clone(), pad.clone()]);
        let by_v = item(&[pk("p"), sk(1), v.clone()]);
        let by_w = item(&[pk("p"), sk(1), w.clone(), x.clone()]);
        // In no local index (sparse), whatever the global index does.
        let bare = item(&[pk("p"), sk(2), pad.clone()]);
        write(&mut data, &full, true);
        write(&mut data, &bare, true);
        write(&mut data, &item(&[pk("q"), sk(1)]), true);
        let expected = size(&full) + size(&by_v) + 100 + size(&by_w) + 100 + size(&bare);
        assert_eq!(bytes(&data, "p"), Some(expected));
        assert_eq!(bytes(&data, "q"), Some(size(&item(&[pk("q"), sk(1)]))));
        // A replaced item counts once, as it is now; a deleted one not at all.
        let smaller = item(&[pk("p"), sk(1), v.clone()]);
        write(&mut data, &smaller, true);
        assert_eq!(
            bytes(&data, "p"),
            Some(size(&smaller) + size(&smaller) + 100 + size(&bare))
        );
        write(&mut data, &smaller, false);
        write(&mut data, &bare, false);
        assert_eq!(bytes(&data, "p"), None, "an empty partition is forgotten");
    }
}
