//! The one error type of tidestore.
//!
//! Every variant but the last three is a DynamoDB exception, named as the service names it
//! (without the `Exception` suffix), so a caller who knows DynamoDB knows what each means and
//! what to do about it: [`Error::exception_name`] gives the wire name (`ValidationException`,
//! `ResourceNotFoundException`, …). `Corruption`, `Io` and `Poisoned` are the storage engine's
//! own: a file on disk failed its checks, the operating system refused an operation, or a
//! failed write or sync of the log stopped the database from accepting writes.
//!
//! What the caller should do, by variant:
//! - `Validation`, `ResourceNotFound`, `TableNotFound`, `BackupNotFound`, `TableAlreadyExists`:
//!   fix the request; retrying it unchanged fails the same way.
//! - `ConditionalCheckFailed`, `TransactionCanceled`: the data was not what the condition
//!   required; re-read and decide.
//! - `IdempotentParameterMismatch`: a `ClientRequestToken` was reused for another
//!   transaction; use a new token.
//! - `InvalidExportTime`: export a moment inside the table's recovery window.
//! - `ExportConflict`: export to another place, or with a new `ClientToken`.
//! - `PolicyNotFound`: the resource has no resource-based policy, or not at the
//!   `ExpectedRevisionId` given; read the policy (`GetResourcePolicy`) and decide.
//! - `ResourceInUse`, `TableInUse`, `BackupInUse`, `LimitExceeded`,
//!   `ProvisionedThroughputExceeded`, `TransactionInProgress`: retry later.
//! - `Corruption`, `Io`: the storage is damaged or unavailable; see the message.
//! - `Poisoned`: a write or sync of the write-ahead log failed, so this handle acknowledges no
//!   write any more (invariant I8: after a failed fsync the kernel may have dropped the data,
//!   and a retry could falsely succeed). Every write, sync and backup request on it fails the
//!   same way; reads still work. Reopen the database (drop every handle, then
//!   `Database::open`): recovery brings back every acknowledged write. `kind` is the operating
//!   system's error kind of the failure that poisoned it, and `source` that error itself (its
//!   `raw_os_error()` too), so a full disk can be told from a failing device:
//!
//! ```
//! # fn handle(result: tidestore::Result<()>) {
//! use std::io::ErrorKind;
//! match result {
//!     Err(tidestore::Error::Poisoned { kind: ErrorKind::StorageFull, .. }) => {
//!         // Free some space, then reopen the database.
//!     }
//!     Err(tidestore::Error::Poisoned { .. }) => { /* reopen the database */ }
//!     _ => {}
//! }
//! # }
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::value::Item;

/// A specialised `Result` whose error is tidestore's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a tidestore call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter was malformed or out of range (`ValidationException`).
    #[error("ValidationException: {0}")]
    Validation(String),
    /// The table or index does not exist (`ResourceNotFoundException`; table operations).
    #[error("ResourceNotFoundException: {0}")]
    ResourceNotFound(String),
    /// The table exists already, or is busy with another operation (`ResourceInUseException`).
    #[error("ResourceInUseException: {0}")]
    ResourceInUse(String),
    /// The source table of a backup operation does not exist (`TableNotFoundException`).
    #[error("TableNotFoundException: {0}")]
    TableNotFound(String),
    /// The table is being created, deleted or restored (`TableInUseException`).
    #[error("TableInUseException: {0}")]
    TableInUse(String),
    /// The target table of a restore exists already (`TableAlreadyExistsException`).
    #[error("TableAlreadyExistsException: {0}")]
    TableAlreadyExists(String),
    /// The backup does not exist (`BackupNotFoundException`).
    #[error("BackupNotFoundException: {0}")]
    BackupNotFound(String),
    /// The backup is being created or restored from (`BackupInUseException`).
    #[error("BackupInUseException: {0}")]
    BackupInUse(String),
    /// Too many requests of a kind, or too many of a resource (`LimitExceededException`).
    #[error("LimitExceededException: {0}")]
    LimitExceeded(String),
    /// Backups are not available for the table (`ContinuousBackupsUnavailableException`).
    #[error("ContinuousBackupsUnavailableException: {0}")]
    ContinuousBackupsUnavailable(String),
    /// Point-in-time recovery is not enabled for the table
    /// (`PointInTimeRecoveryUnavailableException`).
    #[error("PointInTimeRecoveryUnavailableException: {0}")]
    PointInTimeRecoveryUnavailable(String),
    /// The restore time is outside the recovery window (`InvalidRestoreTimeException`).
    #[error("InvalidRestoreTimeException: {0}")]
    InvalidRestoreTime(String),
    /// The export time is outside the table's point-in-time recovery window
    /// (`InvalidExportTimeException`).
    #[error("InvalidExportTimeException: {0}")]
    InvalidExportTime(String),
    /// An export's files could not be written where asked: the place holds another
    /// export's, or a `ClientToken` was reused for another export
    /// (`ExportConflictException`).
    #[error("ExportConflictException: {0}")]
    ExportConflict(String),
    /// A condition expression evaluated to false (`ConditionalCheckFailedException`).
    ///
    /// `item` holds the item as it was when the request asked for it with
    /// `ReturnValuesOnConditionCheckFailure::AllOld`.
    #[error("ConditionalCheckFailedException: {message}")]
    ConditionalCheckFailed {
        /// What failed.
        message: String,
        /// The item at the time of the check, when the request asked for it.
        item: Option<Item>,
    },
    /// The table's provisioned throughput is exhausted
    /// (`ProvisionedThroughputExceededException`).
    #[error("ProvisionedThroughputExceededException: {0}")]
    ProvisionedThroughputExceeded(String),
    /// A `TransactWriteItems` reused the `ClientRequestToken` of another request within the
    /// token's 10 minutes (`IdempotentParameterMismatchException`).
    #[error("IdempotentParameterMismatchException: {0}")]
    IdempotentParameterMismatch(String),
    /// A `TransactWriteItems` with the `ClientRequestToken` of a transaction still running
    /// (`TransactionInProgressException`).
    #[error("TransactionInProgressException: {0}")]
    TransactionInProgress(String),
    /// The resource has no resource-based policy, or not the revision the request expected
    /// (`PolicyNotFoundException`).
    #[error("PolicyNotFoundException: {0}")]
    PolicyNotFound(String),
    /// A stream's shard iterator is older than its 15 minutes (`ExpiredIteratorException`).
    #[error("ExpiredIteratorException: {0}")]
    ExpiredIterator(String),
    /// A stream read asked for records that have aged out of the stream
    /// (`TrimmedDataAccessException`).
    #[error("TrimmedDataAccessException: {0}")]
    TrimmedDataAccess(String),
    /// A transaction was cancelled; one reason per action, in request order
    /// (`TransactionCanceledException`).
    #[error("TransactionCanceledException: Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", reason_codes(.reasons))]
    TransactionCanceled {
        /// One entry per action of the request, in the same order.
        reasons: Vec<CancellationReason>,
    },
    /// A file on disk failed its integrity checks (bad magic, version, checksum or structure).
    #[error("corruption: {0}")]
    Corruption(String),
    /// The operating system refused an I/O operation.
    #[error("I/O error: {context}: {source}")]
    Io {
        /// What tidestore was doing.
        context: String,
        /// The operating system's error, kept so that `ErrorKind` is not lost.
        #[source]
        source: std::io::Error,
    },
    /// A write or sync of the write-ahead log failed, and since then this handle accepts no
    /// write: reopen the database (see the module docs). Returned by the call that met the
    /// failure and by every write, sync or backup request after it.
    #[error("the database stopped accepting writes after a failed log write or sync ({context}: {source}); reopen it to recover every acknowledged write")]
    Poisoned {
        /// The operating system's error kind of the failure, e.g. `StorageFull`.
        kind: std::io::ErrorKind,
        /// What tidestore was doing when it failed: appending to or syncing the log, or
        /// starting a log segment.
        context: String,
        /// The operating system's error (a copy for each refused call, with the same kind
        /// and, when it has one, the same `raw_os_error`).
        #[source]
        source: std::io::Error,
    },
}

/// Why one action of a cancelled transaction failed (`Code` "None" when it did not).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancellationReason {
    /// `None`, `ConditionalCheckFailed`, `ValidationError`, …
    pub code: String,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The item, when the action asked for it on a failed condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

impl CancellationReason {
    /// The reason of an action that did not fail.
    pub fn none() -> CancellationReason {
        CancellationReason {
            code: "None".into(),
            message: None,
            item: None,
        }
    }
}

fn reason_codes(reasons: &[CancellationReason]) -> String {
    let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
    codes.join(", ")
}

impl Error {
    /// The message alone, as DynamoDB's wire carries it beside the exception's name:
    /// `Display` prefixes the name (`"ValidationException: …"`).
    pub fn message(&self) -> String {
        let shown = self.to_string();
        let prefix = format!("{}: ", self.exception_name());
        match shown.strip_prefix(&prefix) {
            Some(message) => message.to_owned(),
            None => shown,
        }
    }

    /// The exception name DynamoDB uses on the wire for this error, e.g.
    /// `"ValidationException"`; `Corruption`, `Io` and `Poisoned` map to
    /// `"InternalServerError"`, as the service reports failures of its own storage.
    pub fn exception_name(&self) -> &'static str {
        match self {
            Error::Validation(_) => "ValidationException",
            Error::ResourceNotFound(_) => "ResourceNotFoundException",
            Error::ResourceInUse(_) => "ResourceInUseException",
            Error::TableNotFound(_) => "TableNotFoundException",
            Error::TableInUse(_) => "TableInUseException",
            Error::TableAlreadyExists(_) => "TableAlreadyExistsException",
            Error::BackupNotFound(_) => "BackupNotFoundException",
            Error::BackupInUse(_) => "BackupInUseException",
            Error::LimitExceeded(_) => "LimitExceededException",
            Error::ContinuousBackupsUnavailable(_) => "ContinuousBackupsUnavailableException",
            Error::PointInTimeRecoveryUnavailable(_) => "PointInTimeRecoveryUnavailableException",
            Error::InvalidRestoreTime(_) => "InvalidRestoreTimeException",
            Error::InvalidExportTime(_) => "InvalidExportTimeException",
            Error::ExportConflict(_) => "ExportConflictException",
            Error::ConditionalCheckFailed { .. } => "ConditionalCheckFailedException",
            Error::ProvisionedThroughputExceeded(_) => "ProvisionedThroughputExceededException",
            Error::TransactionCanceled { .. } => "TransactionCanceledException",
            Error::IdempotentParameterMismatch(_) => "IdempotentParameterMismatchException",
            Error::TransactionInProgress(_) => "TransactionInProgressException",
            Error::PolicyNotFound(_) => "PolicyNotFoundException",
            Error::ExpiredIterator(_) => "ExpiredIteratorException",
            Error::TrimmedDataAccess(_) => "TrimmedDataAccessException",
            Error::Corruption(_) | Error::Io { .. } | Error::Poisoned { .. } => {
                "InternalServerError"
            }
        }
    }

    /// Shorthand for a validation error with a formatted message.
    pub(crate) fn validation(message: impl fmt::Display) -> Error {
        Error::Validation(message.to_string())
    }

    /// The condition-failed error DynamoDB returns, with the item when it was asked for.
    pub(crate) fn condition_failed(item: Option<Item>) -> Error {
        Error::ConditionalCheckFailed {
            message: "The conditional request failed".into(),
            item,
        }
    }

    /// `BackupNotFoundException`, worded as DynamoDB words it.
    pub(crate) fn backup_not_found(arn: &str) -> Error {
        Error::BackupNotFound(format!("Backup not found: {arn}"))
    }

    /// `ResourceNotFoundException` for a table, worded as DynamoDB words it.
    pub(crate) fn table_not_found(name: &str) -> Error {
        Error::ResourceNotFound(format!(
            "Requested resource not found: Table: {name} not found"
        ))
    }
}

/// The constructor of an [`Error::Io`] for `map_err`: what tidestore was doing, and the
/// operating system's error.
pub(crate) fn io_error(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}
