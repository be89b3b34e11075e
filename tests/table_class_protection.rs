//! A table's class (`TableClass`) and deletion protection (`DeletionProtectionEnabled`):
//! set by `CreateTable` and `UpdateTable`, reported by `DescribeTable`, deletion refused
//! with DynamoDB's message while protected, kept durably with the table's definition (the
//! log, a checkpoint's snapshot, a clean close), and not carried over by a restore.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::sim_options;
use tidestore::fs::sim::SimFs;
use tidestore::ScalarAttributeType::S;
use tidestore::*;

const DIR: &str = "/db";
const PROTECTED: &str =
    "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.";

fn table(name: &str) -> CreateTableInput {
    CreateTableInput::new(name)
        .hash_key("pk", S)
        .pay_per_request()
}

/// (class reported, when last changed, protected) of `DescribeTable`.
fn state(db: &Database, name: &str) -> (Option<TableClass>, bool, bool) {
    let d = db.describe_table(name).unwrap();
    let summary = d.table_class_summary;
    (
        summary.map(|s| s.table_class),
        summary.is_some_and(|s| s.last_update_date_time.is_some()),
        d.deletion_protection_enabled,
    )
}

#[test]
fn a_protected_table_cannot_be_deleted_until_protection_is_turned_off() {
    let db = Database::in_memory();
    let created = db
        .create_table(table("Music").deletion_protection_enabled(true))
        .unwrap();
    assert!(created.deletion_protection_enabled);
    let refused = db.delete_table("Music").expect_err("protected");
    assert_eq!(refused.exception_name(), "ValidationException");
    assert!(
        matches!(&refused, Error::Validation(m) if m == PROTECTED),
        "{refused}"
    );
    assert!(db.describe_table("Music").is_ok(), "still there");
    let updated = db
        .update_table(UpdateTableInput::new("Music").deletion_protection_enabled(false))
        .unwrap();
    assert!(!updated.deletion_protection_enabled);
    db.delete_table("Music").unwrap();
    // Off by default; an update may turn it on.
    db.create_table(table("Other")).unwrap();
    assert_eq!(state(&db, "Other"), (None, false, false));
    db.update_table(UpdateTableInput::new("Other").deletion_protection_enabled(true))
        .unwrap();
    assert!(db.delete_table("Other").is_err());
}

#[test]
fn the_table_class_is_reported_once_set_with_the_time_of_its_last_change() {
    let db = Database::in_memory();
    db.create_table(table("Plain")).unwrap();
    assert_eq!(
        state(&db, "Plain"),
        (None, false, false),
        "STANDARD goes unsaid"
    );
    db.create_table(table("Rare").table_class(TableClass::StandardInfrequentAccess))
        .unwrap();
    assert_eq!(
        state(&db, "Rare"),
        (Some(TableClass::StandardInfrequentAccess), false, false)
    );
    db.update_table(UpdateTableInput::new("Rare").table_class(TableClass::Standard))
        .unwrap();
    assert_eq!(
        state(&db, "Rare"),
        (Some(TableClass::Standard), true, false)
    );
    let json = serde_json::to_value(db.describe_table("Rare").unwrap()).unwrap();
    assert_eq!(json["TableClassSummary"]["TableClass"], "STANDARD");
    assert!(json["TableClassSummary"]["LastUpdateDateTime"].is_number());
    assert_eq!(json["DeletionProtectionEnabled"], false);
}

#[test]
fn asking_for_the_class_a_table_already_has_keeps_its_last_change_time() {
    let db = Database::in_memory();
    db.create_table(table("Plain")).unwrap();
    db.update_table(UpdateTableInput::new("Plain").table_class(TableClass::Standard))
        .unwrap();
    assert_eq!(
        state(&db, "Plain"),
        (None, false, false),
        "a table that never set a class is STANDARD already"
    );
    db.update_table(
        UpdateTableInput::new("Plain").table_class(TableClass::StandardInfrequentAccess),
    )
    .unwrap();
    let changed = db.describe_table("Plain").unwrap().table_class_summary;
    db.update_table(
        UpdateTableInput::new("Plain").table_class(TableClass::StandardInfrequentAccess),
    )
    .unwrap();
    let again = db.describe_table("Plain").unwrap().table_class_summary;
    assert_eq!(
        again.map(|s| s.last_update_date_time),
        changed.map(|s| s.last_update_date_time)
    );
}

/// Every table's (name, class, protected).
fn all(db: &Database) -> Vec<(String, Option<TableClass>, bool)> {
    let names = db.list_tables(ListTablesInput::new()).unwrap().table_names;
    names
        .into_iter()
        .map(|name| {
            let (class, _, protected) = state(db, &name);
            (name, class, protected)
        })
        .collect()
}

#[test]
fn class_and_protection_survive_reopen_checkpoint_and_clean_close() {
    let fs = SimFs::new();
    let open = |snapshot_on_close: bool| {
        Database::open_with(DIR, sim_options(&fs).snapshot_on_close(snapshot_on_close)).unwrap()
    };
    let db = open(false);
    db.create_table(
        table("Created")
            .table_class(TableClass::StandardInfrequentAccess)
            .deletion_protection_enabled(true),
    )
    .unwrap();
    db.create_table(table("Updated")).unwrap();
    db.update_table(UpdateTableInput::new("Updated").deletion_protection_enabled(true))
        .unwrap();
    db.create_table(table("Plain")).unwrap();
    let expected = all(&db);
    // From the log alone.
    drop(db);
    let db = open(false);
    assert_eq!(all(&db), expected);
    // From a checkpoint's snapshot.
    db.checkpoint().unwrap();
    drop(db);
    let db = open(false);
    assert_eq!(all(&db), expected);
    // A change after the snapshot, then a clean close that writes the live tables.
    db.update_table(
        UpdateTableInput::new("Updated").table_class(TableClass::StandardInfrequentAccess),
    )
    .unwrap();
    let expected = all(&db);
    drop(db);
    let db = open(true);
    db.close().unwrap();
    let db = open(false);
    assert_eq!(all(&db), expected);
}

#[test]
fn restores_carry_over_neither_class_nor_protection() {
    let fs = SimFs::new();
    let db = Database::open_with(DIR, sim_options(&fs)).unwrap();
    db.create_table(
        table("Music")
            .table_class(TableClass::StandardInfrequentAccess)
            .deletion_protection_enabled(true),
    )
    .unwrap();
    db.put_item(PutItemInput::new("Music", Item::new().with("pk", "a")))
        .unwrap();
    support::enable_pitr(&db, "Music", None);
    let backup = db.create_backup("Music", "MusicBackup").unwrap();
    let arn = backup.backup_details.backup_arn;
    db.wait_for_backup(&arn, Duration::from_secs(10)).unwrap();
    db.restore_table_from_backup(RestoreTableFromBackupInput::new(&arn, "FromBackup"))
        .unwrap();
    db.restore_table_to_point_in_time(RestoreTableToPointInTimeInput::latest("Music", "FromPitr"))
        .unwrap();
    for restored in ["FromBackup", "FromPitr"] {
        assert_eq!(support::scan_sorted(&db, restored).len(), 1, "{restored}");
        assert_eq!(state(&db, restored), (None, false, false), "{restored}");
    }
    drop(db);
    let db = Database::open_with(DIR, sim_options(&fs)).unwrap();
    for restored in ["FromBackup", "FromPitr"] {
        assert_eq!(state(&db, restored), (None, false, false), "{restored}");
    }
    assert_eq!(
        state(&db, "Music"),
        (Some(TableClass::StandardInfrequentAccess), false, true)
    );
}

/// The steps of the crash test: each one changes a class, a protection, or items.
fn crash_steps(db: &Database, step: usize) -> Result<()> {
    let update = |input: UpdateTableInput| db.update_table(input).map(|_| ());
    match step {
        0 => db
            .create_table(
                table("Music")
                    .table_class(TableClass::StandardInfrequentAccess)
                    .deletion_protection_enabled(true),
            )
            .map(|_| ()),
        1 => update(UpdateTableInput::new("Music").deletion_protection_enabled(false)),
        2 => db.checkpoint(),
        3 => update(UpdateTableInput::new("Music").table_class(TableClass::Standard)),
        4 => {
            for i in 0..40u32 {
                let item = Item::new()
                    .with("pk", format!("{i}"))
                    .with("pad", "x".repeat(64));
                db.put_item(PutItemInput::new("Music", item))?;
            }
            Ok(())
        }
        5 => update(UpdateTableInput::new("Music").deletion_protection_enabled(true)),
        6 => db.checkpoint(),
        _ => {
            update(UpdateTableInput::new("Music").table_class(TableClass::StandardInfrequentAccess))
        }
    }
}

const CRASH_STEPS: usize = 8;

/// I1 and I2 for a table's class and protection: after a crash at any I/O operation, under
/// every crash policy, the table has those of every acknowledged step (and of the one in
/// flight, or not).
#[test]
fn class_and_protection_survive_a_crash_at_every_io_operation() {
    let states =
        support::states_after_each_step(CRASH_STEPS, Database::in_memory, crash_steps, all);
    support::crash_at_every_io_operation(
        DIR,
        CRASH_STEPS,
        sim_options,
        crash_steps,
        |acked, db, context| {
            support::assert_acknowledged_or_in_flight(&states, acked, &all(db), context)
        },
    );
}
