//! `ImportTable`, `DescribeImport` and `ListImports`: DynamoDB's import from S3, read from a
//! local directory standing in for S3 (`tidestore serve --s3-dir DIR`).
//!
//! An `S3BucketSource {S3Bucket: B, S3KeyPrefix: P}` names the regular files under `DIR/B`
//! whose path relative to `DIR/B` (with `/` separators) starts with `P`, read in key order as
//! DynamoDB reads the objects under a prefix. Symbolic links are not followed, a bucket
//! outside the model's pattern (ASCII letters, digits, `.`, `-`, `_`; so no separator, drive
//! or NUL) or with `..` is refused at once, and so is a prefix with a `..` segment, a leading
//! separator or NUL (the prefix is only ever compared with keys, never joined to a path).
//!
//! Status flow, as DynamoDB's: the request is checked, its record written durably as
//! IN_PROGRESS, and the answer sent at once; the import runs on a thread of its own through
//! [`Database::import_table_from_dynamodb_json`] (`InputFormat` DYNAMODB_JSON: the files
//! chained into one source), [`Database::import_table_from_ion`] (ION: each file a stream
//! of Ion values, read apart) or [`Database::import_table_from_csv`] (CSV, with
//! `InputFormatOptions.Csv`, which no other format takes: each file read apart, as each has
//! its own header line), each file's GZIP or ZSTD decoded apart (`compression.rs`), and its
//! record becomes COMPLETED
//! (with the library's counts) or
//! FAILED (`FailureCode`, the exception's name; `FailureMessage`, its message; or, as
//! DynamoDB's guide says, `ItemValidationError` when some items were skipped as invalid, the
//! table kept with the others, the counts given). Unlike
//! DynamoDB, whose table is CREATING meanwhile, the table appears only when the import
//! commits it, ACTIVE (the library commits it whole, atomically); a second import, a
//! `CreateTable` or a restore to the name meanwhile is `ResourceInUseException`
//! ([`Imports::reserve_name`]).
//!
//! Records live in `IMPORTS` in the database directory ([`records`], which draws its
//! layout and keeps the export records too, in `EXPORTS`). A stop cancels the imports still
//! running ([`Records::finish_running`]): each stops reading, makes no table and ends its
//! record FAILED before the database closes. A record left IN_PROGRESS all the same (a
//! crash, or a stop whose write of the record failed) is settled on the next start
//! ([`Imports::open`]): COMPLETED if its table exists with the id allocated at its
//! request (for a record without one, created after the import began), else FAILED.
//!
//! The modules, one concept each:
//!
//! - [`operations`]: `ImportTable`, `DescribeImport` and `ListImports` as the wire calls
//!   them: the request checked, the record written, the job started or the records read.
//! - [`request`]: `ImportTable`'s parameters and their checks (the bucket, the prefix, the
//!   input format and its options, `TableCreationParameters`).
//! - [`job`]: one import run on its own thread, through the library, and its record ended.
//! - [`objects`]: the bucket's files under the prefix, listed in key order and read
//!   (decompressed, stoppable) as each input format's reader takes them.
//! - [`records`]: the durable records of imports and exports (`IMPORTS`, `EXPORTS`).
//! - [`paging`]: `ListImports`' and `ListExports`' pages and `NextToken`s.
//!
//! This module owns what ties them together: the server's [`Imports`] (its S3 directory,
//! its records, the names of the tables being imported) and how an import's record ends.

mod job;
mod objects;
mod operations;
mod paging;
mod records;
mod request;

use std::path::PathBuf;
use std::sync::MutexGuard;

use serde_json::json;

use super::protocol::WireError;
use crate::db::Database;
use crate::error::Error;

pub(super) use job::{in_bucket, Failure};
pub(super) use operations::{describe_import, import_table, list_imports};
pub(super) use paging::{next_token, page, paging};
#[cfg(test)]
pub(super) use records::load_or_set_aside;
pub(super) use records::{now_ms, prune, seconds, Record, Records, RecordsFile, State};
pub(super) use request::{bucket_refusal, without_client_token};

/// The file of import records, in the database directory.
pub(crate) const IMPORTS_FILE: &str = "IMPORTS";
/// The import records.
const IMPORTS: RecordsFile = RecordsFile {
    name: IMPORTS_FILE,
    magic: b"TSIMPORT",
    arn: "ImportArn",
    status: "ImportStatus",
    // (Every build has written import records in one form.)
    upgrade: |_| {},
};
/// The most imports running at once (each holds its items in memory until it commits).
pub const MAX_RUNNING_IMPORTS: usize = 8;
/// The most files one import reads.
pub const MAX_IMPORT_OBJECTS: usize = 50_000;
/// Why an import a stop cancelled failed (its record says it, written by the import itself
/// before the database closed; no table was made).
const CANCELLED: &str = "the server stopped: the import was cancelled before its table was made";
/// Why an import a stop or a crash left IN_PROGRESS failed (its record, settled on the next
/// start, says it).
const STOPPED: &str = "the server stopped before the import finished";

/// The server's imports: the directory standing in for S3, the records, the running threads.
pub(crate) struct Imports {
    s3_dir: Option<PathBuf>,
    region: String,
    account: String,
    records: Records,
}

/// The records, threads and stop of the imports.
impl std::ops::Deref for Imports {
    type Target = Records;

    fn deref(&self) -> &Records {
        &self.records
    }
}

impl Imports {
    /// Loads the records of the database `db` and settles those a stop left IN_PROGRESS.
    pub(crate) fn open(
        db: &Database,
        s3_dir: Option<PathBuf>,
        region: String,
        account: String,
    ) -> std::io::Result<Imports> {
        let settle = |record: &mut Record| {
            let table = db.describe_table(record.table_name()).ok();
            // The import's table is the one of the id allocated at its request; a record
            // written before ids were allocated then has none, and its table is one made
            // after its start.
            let made = table.filter(|t| match record.description.get("TableId") {
                Some(id) => id.as_str() == Some(t.table_id.as_str()),
                None => t.creation_date_time.0 >= record.start_ms,
            });
            match made {
                Some(table) => {
                    finish(record, "COMPLETED", table.creation_date_time.0);
                    record
                        .description
                        .insert("TableId".into(), json!(table.table_id));
                    // What the import counted went with the stop: not the first answer's
                    // zeros.
                    for counter in ["ProcessedItemCount", "ImportedItemCount", "ErrorCount"] {
                        record.description.remove(counter);
                    }
                }
                _ => {
                    finish(record, "FAILED", now_ms());
                    record
                        .description
                        .insert("FailureCode".into(), json!("InternalServerError"));
                    record
                        .description
                        .insert("FailureMessage".into(), json!(STOPPED));
                }
            }
        };
        Ok(Imports {
            s3_dir,
            region,
            account,
            records: Records::open(db, &IMPORTS, settle)?,
        })
    }

    /// Refuses a new table named `name` while an import of that name runs (DynamoDB's table
    /// is CREATING meanwhile: `ResourceInUseException`), else holds the records' lock, which
    /// the caller keeps until its table is made, so that no import of the name starts
    /// between this check and the table's creation.
    pub(crate) fn reserve_name(&self, name: &str) -> Result<MutexGuard<'_, State>, WireError> {
        let state = self.lock();
        if (state.records.iter()).any(|r| r.status() == "IN_PROGRESS" && r.table_name() == name) {
            return Err(Error::ResourceInUse(format!(
                "Table is being created by an import: {name}"
            ))
            .into());
        }
        Ok(state)
    }
}

fn finish(record: &mut Record, status: &str, end_ms: u64) {
    record.end_ms = Some(end_ms);
    record
        .description
        .insert("ImportStatus".into(), json!(status));
    record.description.insert("EndTime".into(), seconds(end_ms));
}

/// A directory of its own under the system's temporary one, for one test (of imports or
/// exports).
#[cfg(test)]
pub(super) fn scratch_dir(kind: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "tidestore-{kind}-{}-{}",
        std::process::id(),
        now_ms()
    ))
}

/// A server's state over `db` with `imports`, and export records without an S3 directory:
/// what the imports' tests call operations on.
#[cfg(test)]
pub(super) fn test_state(db: &Database, imports: Imports) -> super::ServerState {
    super::ServerState {
        db: db.clone(),
        region: "us-east-1".into(),
        secrets: None,
        imports: std::sync::Arc::new(imports),
        exports: std::sync::Arc::new(
            super::exports::Exports::open(db, None, "000000000000".into()).expect("export records"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::records::record;
    use super::*;
    use crate::server::Call;

    /// The engine opens a database with an `IMPORTS` file (and a stale `IMPORTS.tmp`)
    /// beside its own, and an import a stop left IN_PROGRESS whose table never appeared is
    /// FAILED on the next start, durably, and one past 90 days is dropped.
    #[test]
    fn a_database_with_import_records_reopens_and_a_stopped_import_is_settled() {
        let dir = scratch_dir("imports-records");
        let open = |dir: &Path| {
            let db = Database::open(dir).expect("opens");
            let imports = Imports::open(&db, None, "us-east-1".into(), "000000000000".into())
                .expect("the records load");
            (db, imports)
        };
        let (db, imports) = open(&dir);
        {
            let mut state = imports.lock();
            // One past DynamoDB's 90 days, which a start drops.
            state.records.push(record(1, "COMPLETED"));
            state.records.push(record(now_ms(), "IN_PROGRESS"));
            imports.persist(&mut state).expect("written");
        }
        std::fs::write(dir.join("IMPORTS.tmp"), b"torn").expect("a stale temp file");
        drop(imports);
        db.close().expect("closes");
        for _ in 0..2 {
            let (db, imports) = open(&dir);
            let state = imports.lock();
            assert_eq!(state.records.len(), 1);
            assert_eq!(state.records[0].status(), "FAILED");
            assert!(state.records[0].description.contains_key("FailureMessage"));
            assert!(state.records[0].end_ms.is_some());
            drop(state);
            drop(imports);
            db.close().expect("closes");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// An import a crash left IN_PROGRESS after it made its table is settled COMPLETED by
    /// the table of the id allocated at its request, without the first answer's zero
    /// counters (what it counted is not known); a table of its name and another id is no
    /// proof, and that import is FAILED.
    #[test]
    fn a_crashed_import_is_settled_by_its_table_id_without_zero_counts() {
        let dir = scratch_dir("imports-settled-by-id");
        let db = Database::open(&dir).expect("opens");
        db.create_table(
            crate::CreateTableInput::new("Tab")
                .hash_key("p", crate::ScalarAttributeType::S)
                .pay_per_request(),
        )
        .expect("the table");
        let id = db.describe_table("Tab").expect("described").table_id;
        let imports = Imports::open(&db, None, "us-east-1".into(), "000000000000".into())
            .expect("the records load");
        {
            let mut state = imports.lock();
            for (start, table_id) in [(1_000, id.as_str()), (2_000, "another-id")] {
                let mut left = record(now_ms() - start, "IN_PROGRESS");
                left.request = json!({"TableCreationParameters": {"TableName": "Tab"}});
                for (member, value) in [
                    ("TableId", json!(table_id)),
                    ("ProcessedItemCount", json!(0)),
                    ("ImportedItemCount", json!(0)),
                    ("ErrorCount", json!(0)),
                ] {
                    left.description.insert(member.into(), value);
                }
                state.records.push(left);
            }
            imports.persist(&mut state).expect("written");
        }
        drop(imports);
        let imports = Imports::open(&db, None, "us-east-1".into(), "000000000000".into())
            .expect("the records load again");
        let state = imports.lock();
        let settled: Vec<_> = (state.records.iter())
            .map(|r| (r.description["TableId"].clone(), r.status().to_owned()))
            .collect();
        assert_eq!(
            settled,
            [
                (json!(id), "COMPLETED".to_owned()),
                (json!("another-id"), "FAILED".to_owned())
            ]
        );
        let completed = &state.records[0].description;
        assert!(
            ["ProcessedItemCount", "ImportedItemCount", "ErrorCount"]
                .iter()
                .all(|c| !completed.contains_key(*c)),
            "{completed:?}"
        );
        drop(state);
        drop(imports);
        db.close().expect("closes");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// While an import of a name runs, no other table of that name can be made: CreateTable
    /// and the restores are `ResourceInUseException` (they ask [`Imports::reserve_name`]);
    /// once it is settled, they can.
    #[test]
    fn a_running_import_reserves_its_table_name() {
        let db = Database::in_memory();
        let imports =
            Imports::open(&db, None, "us-east-1".into(), "000000000000".into()).expect("opens");
        let mut running = record(now_ms(), "IN_PROGRESS");
        running.request = json!({"TableCreationParameters": {"TableName": "Tab"}});
        imports.lock().records.push(running);
        let refused = imports.reserve_name("Tab").err().expect("refused");
        assert!(
            format!("{refused:?}").contains("ResourceInUse"),
            "{refused:?}"
        );
        assert!(imports.reserve_name("T").is_ok());
        // CreateTable and the restores ask it.
        let state = test_state(&db, imports);
        let headers = hyper::HeaderMap::new();
        let call = Call {
            state: &state,
            headers: &headers,
            local: None,
        };
        let table = json!({
            "TableName": "Tab",
            "AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        });
        let restore = json!({
            "TargetTableName": "Tab",
            "BackupArn": "arn:aws:dynamodb:us-east-1:000000000000:table/S/backup/01700000000000-00000000",
        });
        for (operation, body) in [
            ("CreateTable", table.clone()),
            ("RestoreTableFromBackup", restore),
        ] {
            let refused = crate::server::operations::call(&call, operation, body).err();
            assert!(
                format!("{refused:?}").contains("ResourceInUse"),
                "{operation}: {refused:?}"
            );
        }
        finish(&mut state.imports.lock().records[0], "FAILED", now_ms());
        assert!(state.imports.reserve_name("Tab").is_ok());
        crate::server::operations::call(&call, "CreateTable", table).expect("created");
    }
}
