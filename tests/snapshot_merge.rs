//! A snapshot of a multi-block table merged with a few changes: blocks no change touches
//! are copied without decoding, the others are merged item by item, and the result — and a
//! backup built the same way — must equal the table. (I3 for the block-copy path.)
#![allow(clippy::unwrap_used)] // a test: an unexpected error is a failure

mod support;

use support::{dump, sim_options};
use tidestore::fs::sim::SimFs;
use tidestore::*;

fn item(i: u64, v: u64) -> Item {
    let mut item: Item = [("pk".to_string(), AttributeValue::s(format!("k{i:06}")))].into();
    item.insert("v".into(), AttributeValue::number(v as i64));
    item.insert("pad".into(), AttributeValue::b(vec![(i % 251) as u8; 100]));
    item
}

fn load(db: &Database, range: std::ops::Range<u64>, v: u64) {
    for chunk in range.collect::<Vec<_>>().chunks(25) {
        let mut input = BatchWriteItemInput::default();
        input.request_items.insert(
            "blocks".into(),
            chunk
                .iter()
                .map(|&i| WriteRequest::Put { item: item(i, v) })
                .collect(),
        );
        db.batch_write_item(input).unwrap();
    }
}

#[test]
fn merging_a_few_changes_into_a_many_block_snapshot_keeps_every_item() {
    let fs = SimFs::new();
    let reference = Database::in_memory();
    let db = Database::open_with("/db", sim_options(&fs)).unwrap();
    for d in [&db, &reference] {
        d.create_table(
            CreateTableInput::new("blocks")
                .hash_key("pk", ScalarAttributeType::S)
                .pay_per_request(),
        )
        .unwrap();
        load(d, 0..4000, 1);
    }
    db.checkpoint().unwrap();
    // Changes that touch a few blocks only: updates in the middle, a delete, new keys.
    for d in [&db, &reference] {
        load(d, 1500..1510, 2);
        d.delete_item(DeleteItemInput::new(
            "blocks",
            [("pk".to_string(), AttributeValue::s("k000007"))].into(),
        ))
        .unwrap();
        load(d, 9000..9010, 3);
    }
    db.checkpoint().unwrap();
    let backup = db
        .create_backup("blocks", "merged")
        .unwrap()
        .backup_details
        .backup_arn;
    db.wait_for_backup(&backup, std::time::Duration::from_secs(30))
        .unwrap();
    drop(db);
    let db = Database::open_with("/db", sim_options(&fs)).unwrap();
    assert_eq!(
        dump(&db),
        dump(&reference),
        "the merged snapshot differs from the table"
    );
    db.restore_table_from_backup(RestoreTableFromBackupInput::new(&backup, "restored"))
        .unwrap();
    let mut restored = dump(&db).remove("restored").unwrap();
    let expected = dump(&reference).remove("blocks").unwrap();
    restored.indexes.clear();
    assert_eq!(restored, expected, "the backup differs from the table");
}
