//! Bad environments on a real file system (issue #6, part 4): a disk that fills up (a
//! size-limited tmpfs) and a directory that turns read-only (a read-only bind mount), under
//! a live database and at open. Each must give a clear error (`Error::Io` naming what it was
//! doing, with the OS error, or `Error::Poisoned` with the OS error's kind once a log write
//! failed), acknowledge nothing it did not make durable, poison the handle after a failed
//! log write (I8), and leave a database that opens again with every
//! acknowledged write once the disk has room or is writable again.
//!
//! Mounting needs root. Without it (or where mounting is not allowed) each test prints
//! `SKIPPED` and returns: the simulated file system covers the same errors in
//! `tests/crash.rs` (`a_failed_write_or_sync_poisons…`).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use tidestore::ScalarAttributeType::{N, S};
use tidestore::*;

/// A mount made by a test, unmounted when dropped.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn run(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "tidestore-disk-{tag}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn options() -> Options {
    Options::default()
        .segment_bytes(64 * 1024)
        .checkpoint_min_log_bytes(128 * 1024)
        .maintenance_interval(Duration::from_millis(20))
}

fn create(db: &Database) {
    db.create_table(
        CreateTableInput::new("items")
            .hash_key("pk", S)
            .range_key("n", N)
            .pay_per_request(),
    )
    .unwrap();
}

fn item(n: u64) -> Item {
    Item::from([
        ("pk".to_string(), AttributeValue::s("p")),
        ("n".to_string(), AttributeValue::number(n as i64)),
        ("pad".to_string(), AttributeValue::b(vec![7; 1000])),
    ])
}

/// Puts items 1, 2, … until one fails; returns the last acknowledged and the error.
fn fill(db: &Database, from: u64, limit: u64) -> (u64, Option<Error>) {
    for n in from..from + limit {
        if let Err(e) = db.put_item(PutItemInput::new("items", item(n))) {
            return (n - 1, Some(e));
        }
    }
    (from + limit - 1, None)
}

/// Every `n` of the table's items.
fn numbers(db: &Database) -> Vec<u64> {
    let mut input = QueryInput::new(
        "items",
        KeyCondition::partition("pk", AttributeValue::s("p")),
    );
    let mut out = Vec::new();
    loop {
        let page = db.query(input.clone()).unwrap();
        for item in &page.items {
            out.push(item["n"].as_n().unwrap().to_string().parse().unwrap());
        }
        match page.last_evaluated_key {
            Some(start) => input.exclusive_start_key = Some(start),
            None => return out,
        }
    }
}

fn assert_io(error: &Error, what: &str) {
    let text = error.to_string();
    assert!(
        matches!(error, Error::Io { .. }),
        "{what}: expected an I/O error, got {text}"
    );
    println!("{what}: {text}");
}

#[test]
fn a_full_disk_gives_a_clear_error_loses_nothing_acknowledged_and_the_database_opens_again() {
    if !is_root() {
        println!("SKIPPED a_full_disk…: mounting a tmpfs needs root");
        return;
    }
    let dir = temp_dir("full");
    if !run(&[
        "mount",
        "-t",
        "tmpfs",
        "-o",
        "size=1m",
        "tmpfs",
        dir.to_str().unwrap(),
    ]) {
        println!("SKIPPED a_full_disk…: this machine does not allow mounting a tmpfs");
        return;
    }
    let mount = Mount(dir.clone());
    let db_dir = dir.join("db");
    let db = Database::open_with(&db_dir, options()).unwrap();
    create(&db);
    let (acked, error) = fill(&db, 1, 100_000);
    let error = error.expect("a 1 MiB disk must fill up");
    // The log's write failed: the handle is poisoned, and says why with the OS's kind.
    assert!(
        matches!(
            error,
            Error::Poisoned {
                kind: std::io::ErrorKind::StorageFull,
                ..
            }
        ),
        "the write that found the disk full: expected Poisoned with kind StorageFull, got {error}"
    );
    println!("the write that found the disk full: {error}");
    assert!(acked > 100, "only {acked} items fitted");
    // I8: after a failed log write nothing more is acknowledged.
    assert!(db
        .put_item(PutItemInput::new("items", item(acked + 10)))
        .is_err());
    let backup = db.create_backup("items", "on-a-full-disk");
    assert!(
        backup.is_err(),
        "a backup was acknowledged on a poisoned log"
    );
    drop(db);

    // Still full: opening may fail, but clearly, and must not lose anything.
    match Database::open_with(&db_dir, options()) {
        Ok(db) => assert!(numbers(&db).len() as u64 >= acked),
        Err(e) => assert_io(&e, "opening on the full disk"),
    }
    // Room again: everything acknowledged is there, and writing goes on.
    assert!(run(&[
        "mount",
        "-o",
        "remount,size=8m",
        dir.to_str().unwrap()
    ]));
    let db = Database::open_with(&db_dir, options()).unwrap();
    let found = numbers(&db);
    assert!(
        found.len() as u64 >= acked && found.iter().copied().take(acked as usize).eq(1..=acked),
        "acknowledged items 1..={acked}, found {} items",
        found.len()
    );
    db.put_item(PutItemInput::new("items", item(1_000_000)))
        .unwrap();
    let arn = db
        .create_backup("items", "after-the-disk-had-room")
        .unwrap()
        .backup_details
        .backup_arn;
    db.wait_for_backup(&arn, Duration::from_secs(30)).unwrap();
    drop(db);
    drop(mount);
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "DISKFULL acknowledged={acked} recovered={} lost=0",
        found.len()
    );
}

#[test]
fn opening_a_read_only_directory_is_a_clear_error_and_loses_nothing() {
    if !is_root() {
        println!("SKIPPED opening_a_read_only_directory…: a bind mount needs root");
        return;
    }
    let source = temp_dir("rw");
    let view = temp_dir("ro");
    if !run(&[
        "mount",
        "--bind",
        source.to_str().unwrap(),
        view.to_str().unwrap(),
    ]) {
        println!("SKIPPED opening_a_read_only_directory…: this machine does not allow bind mounts");
        return;
    }
    let mount = Mount(view.clone());
    let db_dir = view.join("db");
    let db = Database::open_with(&db_dir, options()).unwrap();
    create(&db);
    let (acked, error) = fill(&db, 1, 300);
    assert!(error.is_none());
    db.checkpoint().unwrap();
    let (acked, _) = fill(&db, acked + 1, 50);
    drop(db);

    // The kernel refuses to make a mount read-only while a file is open for writing on it,
    // so the directory turns read-only between two runs (a live database meeting EROFS is
    // covered on the simulated file system, `tests/crash.rs`).
    assert!(run(&[
        "mount",
        "-o",
        "remount,ro,bind",
        view.to_str().unwrap()
    ]));
    match Database::open_with(&db_dir, options()) {
        Ok(_) => panic!("opened a database in a read-only directory for writing"),
        Err(e) => {
            assert_io(&e, "opening a read-only directory");
            let text = e.to_string();
            assert!(
                text.contains("Read-only file system") || text.contains("os error 30"),
                "{text}"
            );
        }
    }

    // Writable again: every acknowledged write is there.
    assert!(run(&[
        "mount",
        "-o",
        "remount,rw,bind",
        view.to_str().unwrap()
    ]));
    let db = Database::open_with(&db_dir, options()).unwrap();
    let found = numbers(&db);
    assert!(
        found.iter().copied().eq(1..=acked),
        "acknowledged 1..={acked}, found {} items",
        found.len()
    );
    drop(db);
    drop(mount);
    let _ = std::fs::remove_dir_all(&view);
    let _ = std::fs::remove_dir_all(&source);
    println!(
        "READONLY acknowledged={acked} recovered={} lost=0",
        found.len()
    );
}
