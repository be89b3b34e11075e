//! The commit path: every change to the database is one [`Mutation`], given a log sequence
//! number (LSN) and a commit time by the write-ahead log (`storage/wal.rs`), then applied
//! (`state/apply.rs`).
//!
//! The LSN order is the database's one total order. Two writes to the same item are ordered
//! by the item's lock, which the writer holds from before its LSN is assigned until its
//! change is applied, so applying changes in lock order and replaying them in LSN order give
//! the same state (invariant I3). Commit times are assigned with the LSN under one lock, so
//! they never go backwards along the LSN order, even when the clock does.

use std::sync::Arc;

use crate::format::backup::BackupRecord;
use crate::format::item::{Scanner, StoredItem};
use crate::model::key::EncodedKey;
use crate::model::schema::TableSchema;

/// One item put (`Some`) or deleted (`None`) in a table.
#[derive(Clone, Debug, bincode::Encode, bincode::Decode)]
pub(crate) struct ItemWrite {
    pub table_id: Arc<str>,
    pub key: EncodedKey,
    pub item: Option<StoredItem>,
}

/// One atomic change to the database; the unit of logging and of replay.
#[derive(Clone, Debug, bincode::Encode, bincode::Decode)]
pub(crate) enum Mutation {
    /// A new, empty table.
    CreateTable(Arc<TableSchema>),
    /// A table's definition changed (indexes added or dropped, throughput, stream).
    UpdateTable(Arc<TableSchema>),
    /// A table and its items are gone. A table with point-in-time recovery leaves a SYSTEM
    /// backup of its last state, whose marker is this record's LSN.
    DeleteTable {
        table_id: Arc<str>,
        system_backup: Option<Arc<BackupRecord>>,
    },
    /// Item writes, all applied or none: one put or delete, a batch, or a transaction.
    Write(Vec<ItemWrite>),
    /// A backup was requested: its marker is this record's LSN (the backup holds exactly the
    /// writes logged before it).
    CreateBackup(Arc<BackupRecord>),
    /// A backup was deleted.
    DeleteBackup { arn: String },
    /// A table was restored: it starts as the contents of a snapshot file written (and
    /// synced) before this record.
    RestoreTable {
        schema: Arc<TableSchema>,
        snapshot: String,
    },
}

impl Mutation {
    /// Whether a logged mutation's bytes are a [`Mutation::Write`], without decoding them:
    /// the codec writes a variant's index first, as one byte below 251. Recovery skips the
    /// writes no table needs without paying for their decoding.
    pub(crate) fn is_write(payload: &[u8]) -> bool {
        payload.first() == Some(&WRITE_VARIANT)
    }

    /// The writes to table `table_id` of a logged [`Mutation::Write`], read straight from
    /// its bytes: keys as they are, items checked by a scan (`item::scan`), the other
    /// tables' writes skipped. A build replays one table, and decoding whole records
    /// (allocating every table id, key and write list, and walking each item through the
    /// decoder) was most of its time. `None` if the bytes are not a write or do not read
    /// this way (`each` may have been called for some writes by then); the caller then
    /// decodes them as a `Mutation`, which says what is wrong.
    ///
    /// ```text
    /// Write := 3:u8  count:varint  ItemWrite*count
    /// ItemWrite := table_id:string  key:bytes  (0:u8 | 1:u8 item)
    /// ```
    pub(crate) fn table_writes(
        payload: &[u8],
        table_id: &str,
        mut each: impl FnMut(&[u8], Option<StoredItem>),
    ) -> Option<()> {
        let mut bytes = Scanner::new(payload);
        if bytes.byte()? != WRITE_VARIANT {
            return None;
        }
        for _ in 0..bytes.container::<ItemWrite>()? {
            let ours = bytes.string()? == table_id.as_bytes();
            let key = bytes.bytes()?;
            let item = match bytes.byte()? {
                0 => None,
                1 => Some(bytes.item()?),
                _ => return None,
            };
            if ours {
                each(key, item);
            }
        }
        // As the item scan does: all claims at once within the decode limit, so what is
        // read here the full decode reads too (`item::scan`).
        let within =
            payload.len().saturating_add(bytes.claims) <= crate::format::codec::MAX_DECODE_BYTES;
        (bytes.is_done() && within).then_some(())
    }
}

/// The index of [`Mutation::Write`] among the variants.
const WRITE_VARIANT: u8 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_write_tells_writes_from_every_other_mutation() {
        let write = Mutation::Write(Vec::new());
        assert!(Mutation::is_write(&crate::format::codec::encode(&write)));
        let others = [
            Mutation::DeleteTable {
                table_id: "t".into(),
                system_backup: None,
            },
            Mutation::DeleteBackup { arn: "a".into() },
        ];
        for other in others {
            assert!(
                !Mutation::is_write(&crate::format::codec::encode(&other)),
                "{other:?}"
            );
        }
    }

    #[test]
    fn table_writes_are_the_decoded_writes_of_that_table_and_nothing_else_reads() {
        use crate::model::value::{AttributeValue, Item};
        let item = |i: u8| {
            let mut item = Item::new();
            item.insert("k".into(), AttributeValue::B(vec![i; 3]));
            item.insert(
                "s".into(),
                AttributeValue::Ss(["a".into(), "b".into()].into()),
            );
            StoredItem::new(&item)
        };
        let write = |table: &str, i: u8, put: bool| ItemWrite {
            table_id: table.into(),
            key: vec![i, 0, i],
            item: put.then(|| item(i)),
        };
        let mutation = Mutation::Write(vec![
            write("one", 1, true),
            write("another", 2, true),
            write("one", 3, false),
            write("one", 300u16 as u8, true),
        ]);
        let bytes = crate::format::codec::encode(&mutation);
        let Mutation::Write(decoded) =
            crate::format::codec::decode(&bytes, "write").expect("decodes")
        else {
            unreachable!("a write")
        };
        let expected: Vec<_> = decoded
            .into_iter()
            .filter(|w| &*w.table_id == "one")
            .map(|w| (w.key, w.item))
            .collect();
        let writes = |bytes: &[u8], table: &str| {
            let mut writes = Vec::new();
            Mutation::table_writes(bytes, table, |key, item| writes.push((key.to_vec(), item)))
                .map(|()| writes)
        };
        assert_eq!(writes(&bytes, "one"), Some(expected));
        assert_eq!(writes(&bytes, "none"), Some(Vec::new()));
        // Anything else is left to the full decode: other mutations, a trailing byte, every
        // cut short, and an item that does not check.
        let other = crate::format::codec::encode(&Mutation::DeleteBackup { arn: "a".into() });
        assert_eq!(writes(&other, "one"), None);
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(writes(&trailing, "one"), None);
        for cut in 0..bytes.len() {
            assert_eq!(writes(&bytes[..cut], "one"), None, "cut at {cut}");
        }
        let set = bytes
            .windows(4)
            .rposition(|w| w == [1, b'a', 1, b'b'])
            .expect("the set's members");
        let mut unordered = bytes.clone();
        unordered.swap(set + 1, set + 3);
        assert_eq!(writes(&unordered, "one"), None);
    }
}
