//! One import, run on a thread of its own: the bucket's files under the prefix
//! ([`super::objects`]) read through the library's import of the request's input format
//! (DYNAMODB_JSON: the files chained into one source; ION and CSV: each file apart), and
//! its record ended with the outcome, durably (COMPLETED; FAILED with the error, with
//! `ItemValidationError` when items were skipped, or cancelled by a stop).

use std::io::BufReader;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use super::objects::{objects, Object, Objects, READ_BUFFER};
use super::records::now_ms;
use super::request::Format;
use super::{finish, Imports, CANCELLED};
use crate::api::imports::ImportTableInput;
use crate::api::tables::CreateTableInput;
use crate::db::Database;
use crate::error::Error;
use crate::server::compression::Compression;

/// One import, run on its own thread.
pub(super) struct Job {
    pub(super) db: Database,
    pub(super) imports: Arc<Imports>,
    pub(super) import_arn: String,
    pub(super) root: PathBuf,
    pub(super) prefix: String,
    pub(super) compression: Compression,
    pub(super) format: Format,
    pub(super) table: CreateTableInput,
    /// The table's id, allocated when the import was asked for and answered then.
    pub(super) table_id: String,
    /// The request named another account than the server's as the bucket's owner.
    pub(super) owned_by_another: bool,
    /// The server's stop: the files' reads fail once it is set.
    pub(super) stop: Arc<AtomicBool>,
}

impl Job {
    pub(super) fn run(self) {
        if self.owned_by_another {
            // S3's code and words for a bucket its owner does not let this account read,
            // which is what naming another owner gets (S3 checks `x-amz-expected-bucket-owner`).
            return self.record(Err(Failure {
                code: "S3AccessDenied".into(),
                message: "Access Denied".into(),
            }));
        }
        // (A panic, a defect, still ends the record, as FAILED, instead of leaving it
        // IN_PROGRESS, its table's name reserved, until the next start.)
        let outcome = in_bucket(
            &self.root,
            "importing",
            || self.import(),
            |e| {
                // A read the stop ended: said plainly, without the reading's context.
                match e.message().contains(CANCELLED) {
                    true => CANCELLED.to_owned(),
                    false => e.message(),
                }
            },
        );
        self.record(outcome);
    }

    /// Reads the source's files into the new table.
    fn import(&self) -> Result<crate::api::imports::ImportTableOutput, Error> {
        let files = objects(&self.root, &self.prefix)?;
        let mut input = ImportTableInput::new(self.table.clone());
        input.table_id = Some(self.table_id.clone());
        let compression = self.compression;
        let stop = &self.stop;
        // The files' decompressed bytes, as DynamoDB's `ProcessedSizeBytes` counts them
        // (the library counts what it reads, which holds the line ends put between files).
        let bytes = Arc::new(AtomicU64::new(0));
        let mut output = match &self.format {
            Format::DynamoDbJson => {
                let source = BufReader::with_capacity(
                    READ_BUFFER,
                    Objects {
                        files: files.into_iter(),
                        current: None,
                        compression,
                        stop: Arc::clone(stop),
                        bytes: Arc::clone(&bytes),
                        between: false,
                    },
                );
                self.db.import_table_from_dynamodb_json(input, source)
            }
            // Each file read apart: a value cut at a file's end must not run on into the next.
            Format::Ion => self.db.import_table_from_ion(
                input,
                (files.into_iter()).map(|path| {
                    BufReader::with_capacity(
                        READ_BUFFER,
                        Object::new(path, compression, Arc::clone(stop), Arc::clone(&bytes)),
                    )
                }),
            ),
            // Each file read apart: each has its own header line.
            Format::Csv(options) => self.db.import_table_from_csv(
                input,
                options.clone(),
                (files.into_iter()).map(|path| {
                    BufReader::with_capacity(
                        READ_BUFFER,
                        Object::new(path, compression, Arc::clone(stop), Arc::clone(&bytes)),
                    )
                }),
            ),
        }?;
        output.import_table_description.processed_size_bytes = bytes.load(Ordering::Relaxed);
        Ok(output)
    }

    /// Ends the import's record with `outcome`, durably.
    fn record(&self, outcome: Result<crate::api::imports::ImportTableOutput, Failure>) {
        let end = now_ms();
        let mut state = self.imports.lock();
        let Some(record) = (state.records.iter_mut()).find(|r| r.arn() == self.import_arn) else {
            return;
        };
        let outcome = outcome.and_then(|o| {
            serde_json::to_value(o.import_table_description).map_err(|e| Failure {
                code: "InternalServerError".into(),
                message: format!("recording the import: {e}"),
            })
        });
        match outcome {
            Ok(done) => {
                // DynamoDB's developer guide ("Import format quotas and validation", data
                // validation errors): items that fail validation are skipped and the import
                // goes on, but at its end the import is FAILED with `ItemValidationError`
                // (its table stays, with the items that were valid).
                let first_error = (done.get("ErrorCount").and_then(Value::as_u64))
                    .filter(|&n| n > 0)
                    .map(|_| &done["ItemErrors"][0]);
                match first_error {
                    None => finish(record, "COMPLETED", end),
                    Some(first) => {
                        finish(record, "FAILED", end);
                        // (No CloudWatch here: the first error is named instead.)
                        let message = format!(
                            "Some of the items failed validation checks and were not imported. The first: item {} ({}): {}",
                            first["ItemNumber"],
                            first["ErrorCode"].as_str().unwrap_or_default(),
                            first["Message"].as_str().unwrap_or_default()
                        );
                        record
                            .description
                            .insert("FailureCode".into(), json!("ItemValidationError"));
                        record
                            .description
                            .insert("FailureMessage".into(), json!(message));
                    }
                }
                for member in [
                    "TableId",
                    "ProcessedSizeBytes",
                    "ProcessedItemCount",
                    "ImportedItemCount",
                    "ErrorCount",
                ] {
                    if let Some(value) = done.get(member) {
                        record.description.insert(member.into(), value.clone());
                    }
                }
            }
            Err(Failure { code, message }) => {
                finish(record, "FAILED", end);
                record.description.insert("FailureCode".into(), json!(code));
                record
                    .description
                    .insert("FailureMessage".into(), json!(message));
            }
        }
        if let Err(e) = self.imports.persist(&mut state) {
            tracing::warn!(error = %e, import = %self.import_arn, "the import's record was not written");
        }
    }
}

/// Why an import or export failed: its record's `FailureCode` and `FailureMessage`.
pub(in crate::server) struct Failure {
    pub code: String,
    pub message: String,
}

/// Runs an import's or export's `work` over the folder `bucket` stands for, as DynamoDB
/// runs one over an S3 bucket: the job was accepted, and a bucket that does not exist
/// fails it with S3's code and words (ScyllaDB's test_import and test_export, run against
/// AWS). A failure of `work` is its exception's name and `message`'s words for it; a
/// panic (a defect) is an internal error of `doing`, so that the job's record still ends.
pub(in crate::server) fn in_bucket<T>(
    bucket: &std::path::Path,
    doing: &str,
    work: impl FnOnce() -> Result<T, Error>,
    message: impl FnOnce(&Error) -> String,
) -> Result<T, Failure> {
    // (A symbolic link is not followed: the listing refuses one.)
    if !std::fs::symlink_metadata(bucket).is_ok_and(|m| m.is_dir()) {
        return Err(Failure {
            code: "S3NoSuchBucket".into(),
            message: "The specified bucket does not exist".into(),
        });
    }
    let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|_| {
        Err(Error::Io {
            context: doing.into(),
            source: std::io::Error::other(format!("{doing} stopped on an internal error")),
        })
    });
    done.map_err(|e| Failure {
        code: e.exception_name().to_owned(),
        message: message(&e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic in an import or export becomes a failure its record can end with (FAILED),
    /// not a record left IN_PROGRESS until the next start; a bucket folder that does not
    /// exist is S3's failure, before any work.
    #[test]
    fn a_job_in_a_bucket_ends_in_a_failure_whatever_happens() {
        let bucket = std::env::temp_dir();
        let panicked = in_bucket(
            &bucket,
            "importing",
            || -> Result<(), Error> { panic!("a defect") },
            Error::message,
        );
        let failure = panicked.expect_err("a failure");
        let internal = Error::Io {
            context: String::new(),
            source: std::io::Error::other(""),
        };
        assert_eq!(failure.code, internal.exception_name());
        assert!(
            failure
                .message
                .contains("importing stopped on an internal error"),
            "{}",
            failure.message
        );
        let missing = bucket.join("no-such-bucket-folder");
        let worked = std::cell::Cell::new(false);
        let refused = in_bucket(
            &missing,
            "importing",
            || {
                worked.set(true);
                Ok(())
            },
            Error::message,
        );
        let failure = refused.expect_err("a failure");
        assert_eq!(failure.code, "S3NoSuchBucket");
        assert!(!worked.get(), "no work without a bucket");
        assert_eq!(
            in_bucket(&bucket, "importing", || Ok(5), Error::message).ok(),
            Some(5)
        );
    }
}
