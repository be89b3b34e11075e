//! Invariant I4 under concurrency, on the real file system with the background worker:
//! writer threads run while backups and snapshots are taken back to back; every backup must
//! hold, for each writer, exactly a prefix of its writes that contains every write
//! acknowledged before `create_backup` was called and none begun after it returned — and
//! each two-item transaction entirely or not at all.
//!
//! `TIDESTORE_LONG=1` runs longer.
#![allow(clippy::unwrap_used)] // a test: an unexpected error is a failure

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tidestore::*;

const WRITERS: u64 = 4;
const SLOTS: u64 = 20;

fn key(w: u64, slot: u64) -> Item {
    [("pk".to_string(), AttributeValue::s(format!("w{w}-{slot}")))].into()
}

fn put(db: &Database, w: u64, i: u64) {
    let mut item = key(w, i % SLOTS);
    item.insert("v".into(), AttributeValue::number(i as i64));
    db.put_item(PutItemInput::new("songs", item)).unwrap();
}

/// Both items of a pair always carry the same value: one transaction writes both.
fn put_pair(db: &Database, v: u64) {
    let action = |name: &str| {
        let mut item: Item = [("pk".to_string(), AttributeValue::s(name))].into();
        item.insert("v".into(), AttributeValue::number(v as i64));
        TransactWriteItem::Put(PutItemInput::new("songs", item))
    };
    db.transact_write_items(TransactWriteItemsInput::new(vec![
        action("pair-a"),
        action("pair-b"),
    ]))
    .unwrap();
}

struct Taken {
    arn: String,
    acked_before: Vec<u64>,
    started_after: Vec<u64>,
}

#[test]
fn every_backup_is_an_exact_cut_while_writers_and_snapshots_run() {
    exact_cuts_under_load(true);
}

/// Without snapshots, every backup is replayed from the log up to its marker (with them,
/// most are built from a snapshot capped exactly at the marker).
#[test]
fn every_backup_replayed_from_the_log_is_an_exact_cut_while_writers_run() {
    exact_cuts_under_load(false);
}

fn exact_cuts_under_load(snapshots: bool) {
    let long = std::env::var("TIDESTORE_LONG").is_ok_and(|v| v == "1");
    let dir = std::env::temp_dir().join(format!(
        "tidestore-concurrent-backups-{}-{snapshots}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let options = Options::default()
        .segment_bytes(if snapshots {
            64 * 1024
        } else {
            64 * 1024 * 1024
        })
        .checkpoint_min_log_bytes(if snapshots { 32 * 1024 } else { u64::MAX / 2 })
        .maintenance_interval(Duration::from_millis(5));
    let db = Database::open_with(&dir, options).unwrap();
    db.create_table(
        CreateTableInput::new("songs")
            .hash_key("pk", ScalarAttributeType::S)
            .pay_per_request(),
    )
    .unwrap();
    let acked: Vec<AtomicU64> = (0..=WRITERS).map(|_| AtomicU64::new(0)).collect();
    let started: Vec<AtomicU64> = (0..=WRITERS).map(|_| AtomicU64::new(0)).collect();
    let stop = AtomicBool::new(false);
    let backups_wanted = if long { 200 } else { 25 };
    let mut taken = Vec::new();
    std::thread::scope(|s| {
        for w in 0..=WRITERS {
            let (db, acked, started, stop) = (&db, &acked[w as usize], &started[w as usize], &stop);
            s.spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    started.store(i + 1, Ordering::SeqCst);
                    if w == WRITERS {
                        put_pair(db, i);
                    } else {
                        put(db, w, i);
                    }
                    acked.store(i + 1, Ordering::SeqCst);
                    i += 1;
                }
            });
        }
        s.spawn(|| {
            while snapshots && !stop.load(Ordering::Relaxed) {
                db.checkpoint().unwrap();
                std::thread::sleep(Duration::from_millis(3));
            }
        });
        for n in 0..backups_wanted {
            std::thread::sleep(Duration::from_millis(2 + n % 7));
            let acked_before: Vec<u64> = acked.iter().map(|a| a.load(Ordering::SeqCst)).collect();
            let out = loop {
                match db.create_backup("songs", &format!("cut-{n}")) {
                    Ok(out) => break out,
                    Err(Error::LimitExceeded(_)) => std::thread::sleep(Duration::from_millis(20)),
                    Err(e) => panic!("create_backup: {e}"),
                }
            };
            let started_after: Vec<u64> =
                started.iter().map(|a| a.load(Ordering::SeqCst)).collect();
            taken.push(Taken {
                arn: out.backup_details.backup_arn,
                acked_before,
                started_after,
            });
        }
        stop.store(true, Ordering::Relaxed);
    });

    let mut cut_writes = 0;
    for (n, cut) in taken.iter().enumerate() {
        let built = db
            .wait_for_backup(&cut.arn, Duration::from_secs(60))
            .unwrap();
        assert_eq!(
            built.backup_details.backup_status,
            BackupStatus::Available,
            "backup {n}"
        );
        let target = format!("cut-{n}");
        db.restore_table_from_backup(RestoreTableFromBackupInput::new(&cut.arn, &target))
            .unwrap();
        let items = support::scan_all(&db, &target);
        let value = |pk: &str| {
            items
                .iter()
                .find(|i| i["pk"] == AttributeValue::s(pk))
                .map(|i| i["v"].as_n().unwrap().to_i64().unwrap() as u64)
        };
        for w in 0..WRITERS {
            // The writer's prefix in the backup: one more than the highest value it holds.
            let count = (0..SLOTS)
                .filter_map(|slot| value(&format!("w{w}-{slot}")))
                .max()
                .map_or(0, |v| v + 1);
            let (low, high) = (cut.acked_before[w as usize], cut.started_after[w as usize]);
            assert!(low <= count && count <= high, "backup {n}, writer {w}: holds {count} writes, acknowledged before {low}, started after {high}");
            for slot in 0..SLOTS {
                let expected = (0..count).rev().find(|i| i % SLOTS == slot);
                assert_eq!(
                    value(&format!("w{w}-{slot}")),
                    expected,
                    "backup {n}, writer {w}, slot {slot}: not a prefix"
                );
            }
            cut_writes += count;
        }
        assert_eq!(
            value("pair-a"),
            value("pair-b"),
            "backup {n}: a transaction is half in"
        );
        db.delete_table(&target).unwrap();
    }
    println!("CONCURRENT snapshots={snapshots} backups={} writes_in_cuts={cut_writes} snapshot_error={:?}", taken.len(), db.maintenance_error());
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}
