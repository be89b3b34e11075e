//! The shapes of resource-based policies — `PutResourcePolicy`, `GetResourcePolicy`,
//! `DeleteResourcePolicy` and `CreateTable`'s `ResourcePolicy` — with the API model's names,
//! and DynamoDB's rules for a policy document and its revisions.
//!
//! tidestore stores a policy and gives it back; it does not evaluate it. There are no
//! principals and no IAM here (a library call has no caller to authorise, and `tidestore
//! serve` does not check who signs), so a policy allows and denies nothing: it is kept so
//! that code and tools that manage policies through DynamoDB's API find them as they left
//! them.
//!
//! A policy is attached to a table (its ARN) or to one of its streams (the stream's ARN), as
//! in DynamoDB; an index has none of its own (its permissions are statements of its table's
//! policy). Each put that changes the document gives it a new `RevisionId`: decimal epoch
//! milliseconds, as DynamoDB's are, and above the one before, so that revisions compare
//! in the order they were made (moto's AWS-verified `test_put_resource_policy_multiple_times`
//! relies on it). A put of the document already attached changes nothing and answers its
//! revision. An `ExpectedRevisionId` makes a put or delete conditional on the revision
//! attached (`NO_POLICY` for a put: on there being none), and a mismatch is DynamoDB's
//! `PolicyNotFoundException`, in its words.
//!
//! Unlike DynamoDB, where a policy is applied asynchronously (a `GetResourcePolicy` just after
//! a put may not see it, and a second put within 15 seconds is refused), a policy here is
//! logged like any write and is in force when the call returns.

use serde::{Deserialize, Serialize};

use crate::api::setters;
use crate::error::{Error, Result};

/// The largest policy document, in bytes: DynamoDB's 20 KB, whitespace included.
pub const MAX_POLICY_BYTES: usize = 20 * 1024;
/// The `ExpectedRevisionId` of a put that must find no policy attached.
pub const NO_POLICY: &str = "NO_POLICY";
/// The longest `RevisionId` the API model allows (`PolicyRevisionId`).
const MAX_REVISION_CHARS: usize = 255;

/// `PutResourcePolicy`: attaches a policy document to a table or stream, replacing any.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct PutResourcePolicyInput {
    /// The table's ARN (`arn:aws:dynamodb:{region}:{account}:table/{name}`) or one of its
    /// streams' (`…/stream/{label}`).
    pub resource_arn: String,
    /// The policy: a JSON document of at most 20 KB. Stored as given, not evaluated.
    pub policy: String,
    /// Put only if this is the attached policy's revision, or, as [`NO_POLICY`], if none is
    /// attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_revision_id: Option<String>,
    /// DynamoDB's confirmation that a policy may lock its author out. Accepted and of no
    /// effect: tidestore evaluates no policy, so none locks anyone out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_remove_self_resource_access: Option<bool>,
}

impl PutResourcePolicyInput {
    /// Attaches `policy` to the table or stream `resource_arn`.
    pub fn new(resource_arn: impl Into<String>, policy: impl Into<String>) -> Self {
        PutResourcePolicyInput {
            resource_arn: resource_arn.into(),
            policy: policy.into(),
            expected_revision_id: None,
            confirm_remove_self_resource_access: None,
        }
    }
}

setters!(PutResourcePolicyInput {
    expected_revision_id: impl Into<String> => Some(expected_revision_id.into()),
    confirm_remove_self_resource_access: bool => Some(confirm_remove_self_resource_access),
});

/// `PutResourcePolicy`'s output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct PutResourcePolicyOutput {
    /// The revision of the policy now attached (always set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
}

/// `GetResourcePolicy`: the policy attached to a table or stream.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GetResourcePolicyInput {
    /// The table's or stream's ARN.
    pub resource_arn: String,
}

impl GetResourcePolicyInput {
    /// The policy of the table or stream `resource_arn`.
    pub fn new(resource_arn: impl Into<String>) -> Self {
        GetResourcePolicyInput {
            resource_arn: resource_arn.into(),
        }
    }
}

/// `GetResourcePolicy`'s output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GetResourcePolicyOutput {
    /// The document, byte for byte as it was put.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Its revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
}

/// `DeleteResourcePolicy`: detaches the policy of a table or stream.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DeleteResourcePolicyInput {
    /// The table's or stream's ARN.
    pub resource_arn: String,
    /// Delete only if this is the attached policy's revision. Without it, deleting where no
    /// policy is attached is no error (DynamoDB's delete is idempotent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_revision_id: Option<String>,
}

impl DeleteResourcePolicyInput {
    /// Detaches the policy of the table or stream `resource_arn`.
    pub fn new(resource_arn: impl Into<String>) -> Self {
        DeleteResourcePolicyInput {
            resource_arn: resource_arn.into(),
            expected_revision_id: None,
        }
    }
}

setters!(DeleteResourcePolicyInput {
    expected_revision_id: impl Into<String> => Some(expected_revision_id.into()),
});

/// `DeleteResourcePolicy`'s output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DeleteResourcePolicyOutput {
    /// The revision of the policy deleted; `None` when there was none (as DynamoDB leaves it
    /// empty then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
}

/// Refuses a policy document DynamoDB would: over 20 KB (whitespace counts), or not a JSON
/// object. (DynamoDB also checks the policy's grammar and action names against IAM's; with
/// no IAM here, tidestore checks only that it is a JSON document.) The message starts as
/// DynamoDB's refusals of a policy do (`One or more parameter values were invalid: Invalid
/// policy document: …`); what follows is tidestore's own account of the fault.
pub(crate) fn check_policy(document: &str) -> Result<()> {
    let invalid = |why: String| {
        Error::validation(format!(
            "One or more parameter values were invalid: Invalid policy document: {why}"
        ))
    };
    if document.len() > MAX_POLICY_BYTES {
        return Err(invalid(format!(
            "the document is {} bytes, over the limit of {MAX_POLICY_BYTES}",
            document.len()
        )));
    }
    match serde_json::from_str::<serde_json::Value>(document) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err(invalid("the document is not a JSON object".into())),
        Err(e) => Err(invalid(format!("the document is not valid JSON ({e})"))),
    }
}

/// Refuses an `ExpectedRevisionId` outside the model's length (1 to 255 characters), in
/// DynamoDB's validation words.
pub(crate) fn check_revision(revision: Option<&str>) -> Result<()> {
    let Some(revision) = revision else {
        return Ok(());
    };
    let chars = revision.chars().count();
    if (1..=MAX_REVISION_CHARS).contains(&chars) {
        return Ok(());
    }
    let bound = if chars == 0 {
        "greater than or equal to 1".to_owned()
    } else {
        format!("less than or equal to {MAX_REVISION_CHARS}")
    };
    Err(Error::validation(format!(
        "1 validation error detected: Value '{revision}' at 'expectedRevisionId' failed to satisfy constraint: Member must have length {bound}"
    )))
}

/// The revision of a policy put at `now_ms` (epoch milliseconds) over one of revision
/// `previous`, when the highest revision given out so far is `issued`: `now_ms`, or one more
/// than the higher of those two if that is not earlier — so that two puts within a
/// millisecond, or after the clock stepped back, still give increasing, distinct revisions,
/// and a policy put after one was deleted never takes its revision (a conditional request
/// meant for the deleted one must not act on its successor). All have 13 digits until the
/// year 2286, so they compare as strings too, as DynamoDB's documentation tells clients to
/// compare them.
pub(crate) fn next_revision(now_ms: u64, previous: Option<&str>, issued: u64) -> u64 {
    let previous = previous.and_then(|p| p.parse::<u64>().ok()).unwrap_or(0);
    let after = previous.max(issued);
    match after {
        0 => now_ms,
        after => now_ms.max(after.saturating_add(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(document: &str) -> String {
        match check_policy(document) {
            Err(Error::Validation(message)) => message,
            other => panic!("{document:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn a_policy_must_be_a_json_object_of_at_most_20_kb_whitespace_included() {
        assert!(check_policy(r#"{"Version": "2012-10-17", "Statement": []}"#).is_ok());
        let padded = format!("{{{}}}", " ".repeat(MAX_POLICY_BYTES - 2));
        assert_eq!(padded.len(), 20 * 1024);
        assert!(check_policy(&padded).is_ok());
        let over = format!("{{{}}}", " ".repeat(MAX_POLICY_BYTES - 1));
        assert_eq!(
            refusal(&over),
            "One or more parameter values were invalid: Invalid policy document: the document is 20481 bytes, over the limit of 20480"
        );
        for bad in ["", "{", "not json", "{\"a\": 1} trailing"] {
            assert!(
                refusal(bad).starts_with("One or more parameter values were invalid: Invalid policy document: the document is not valid JSON"),
                "{bad:?}"
            );
        }
        for not_object in ["[]", "\"policy\"", "1", "null"] {
            assert!(refusal(not_object).ends_with("the document is not a JSON object"));
        }
    }

    #[test]
    fn revisions_increase_even_within_a_millisecond_or_when_the_clock_steps_back() {
        const T: u64 = 1_700_000_000_000;
        assert_eq!(next_revision(T, None, 0), T);
        assert_eq!(next_revision(T + 5, Some("1700000000000"), T), T + 5);
        assert_eq!(next_revision(T, Some("1700000000000"), T), T + 1);
        assert_eq!(next_revision(T - 100, Some("1700000000000"), T), T + 1);
        // After a delete: no policy attached, but the deleted one's revision was given out.
        assert_eq!(next_revision(T, None, T), T + 1);
        assert_eq!(next_revision(T - 100, None, T), T + 1);
    }

    #[test]
    fn an_expected_revision_outside_the_models_length_is_refused() {
        assert!(check_revision(None).is_ok());
        assert!(check_revision(Some(NO_POLICY)).is_ok());
        assert!(check_revision(Some(&"9".repeat(255))).is_ok());
        let long = "9".repeat(256);
        assert!(
            matches!(check_revision(Some(&long)), Err(Error::Validation(m)) if m.contains("less than or equal to 255"))
        );
        assert!(
            matches!(check_revision(Some("")), Err(Error::Validation(m)) if m.contains("greater than or equal to 1"))
        );
    }
}
