//! Databases written by earlier builds still open (I2, I3 across a format change): each
//! fixture under `tests/fixtures/` is a database directory as that build left it, captured
//! byte for byte (not re-encoded by this build), and a test here opens a copy of it.
//!
//! `pre_policies/` was written by the last build before resource policies (commit bd472b8;
//! `tests/fixtures/pre_policies.README` has the program and how to run it again)
//! and then abandoned without a clean close, so its log still holds the settings records of
//! that build (kinds 7 and 8) and its one checkpoint a version 3 snapshot:
//!
//! 1. `CreateTable` Tagged with tag Owner=blue (kind 8), point-in-time recovery on, items
//!    k0..k2, `TagResource` Env=prod and `UpdateTimeToLive` on `expires` (kind 7 each);
//! 2. a checkpoint (Tagged's snapshot, version 3, with those settings);
//! 3. `TagResource` Stage=two (kind 7, after the snapshot), `CreateTable` Later with tag
//!    Team=red (kind 8) and one item x.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use support::TempDir;
use tidestore::*;

fn arn(table: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:000000000000:table/{table}")
}

/// A copy of fixture `name`, to open (opening writes to the directory).
fn copy_of(name: &str) -> TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    let dir = TempDir::new(name);
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
        dir.path(),
    );
    dir
}

fn tags(db: &Database, table: &str) -> Vec<(String, String)> {
    let tags = db
        .list_tags_of_resource(ListTagsOfResourceInput::new(arn(table)))
        .unwrap()
        .tags;
    tags.into_iter().map(|t| (t.key, t.value)).collect()
}

fn ttl_attribute(db: &Database, table: &str) -> Option<String> {
    db.describe_time_to_live(table)
        .unwrap()
        .time_to_live_description
        .attribute_name
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// What the pre-policy build left, as this build must read it.
fn check_pre_policy_state(db: &Database) {
    assert_eq!(
        tags(db, "Tagged"),
        pairs(&[("Env", "prod"), ("Owner", "blue"), ("Stage", "two")])
    );
    assert_eq!(ttl_attribute(db, "Tagged"), Some("expires".to_owned()));
    assert_eq!(support::scan_sorted(db, "Tagged").len(), 3);
    assert_eq!(tags(db, "Later"), pairs(&[("Team", "red")]));
    assert_eq!(ttl_attribute(db, "Later"), None);
    assert_eq!(support::scan_sorted(db, "Later").len(), 1);
}

#[test]
fn a_database_from_before_resource_policies_opens_with_its_tags_ttl_and_items() {
    let dir = copy_of("pre_policies");
    let db = Database::open(dir.path()).unwrap();
    check_pre_policy_state(&db);
    for table in ["Tagged", "Later"] {
        let none = db.get_resource_policy(GetResourcePolicyInput::new(arn(table)));
        assert!(
            matches!(&none, Err(Error::PolicyNotFound(_))),
            "{table}: {none:?}"
        );
    }
    // A point-in-time restore replays the old records too, and carries no settings.
    db.restore_table_to_point_in_time(RestoreTableToPointInTimeInput::latest("Tagged", "Back"))
        .unwrap();
    assert_eq!(support::scan_sorted(&db, "Back").len(), 3);
    assert_eq!(tags(&db, "Back"), vec![]);

    // This build's records and snapshot on top of the old ones: a policy, a checkpoint,
    // and a reopen from the new snapshot and the log after it.
    let policy = r#"{"Version": "2012-10-17", "Statement": []}"#;
    let revision = db
        .put_resource_policy(PutResourcePolicyInput::new(arn("Tagged"), policy))
        .unwrap()
        .revision_id
        .unwrap();
    drop(db);
    let db = Database::open(dir.path()).unwrap();
    check_pre_policy_state(&db);
    db.checkpoint().unwrap();
    drop(db);
    let db = Database::open(dir.path()).unwrap();
    check_pre_policy_state(&db);
    let got = db
        .get_resource_policy(GetResourcePolicyInput::new(arn("Tagged")))
        .unwrap();
    assert_eq!(
        (got.policy.as_deref(), got.revision_id),
        (Some(policy), Some(revision))
    );
}
