//! DynamoDB's JSON 1.0 protocol above HTTP: which API (DynamoDB's or DynamoDB Streams') and
//! operation a request names, and how an answer or an error is written, as the AWS SDKs read
//! them.
//!
//! An error is a JSON body `{"__type": "<namespace>#<Name>", "message": "…"}` with a status
//! code. The namespace is the one real DynamoDB uses for the name: `com.amazon.coral.validate`
//! for validation, `com.amazon.coral.service` for the protocol's own errors (serialization,
//! unknown operation, authentication), `com.amazonaws.dynamodb.v20120810` for the rest. Every
//! client error is 400; only `InternalServerError` is 500, since the SDKs retry a 500.

use serde_json::{Map, Value};

use crate::error::Error;

/// The prefix of `X-Amz-Target` for DynamoDB's operations.
pub const TARGET_PREFIX: &str = "DynamoDB_20120810.";
/// The prefix of `X-Amz-Target` for DynamoDB Streams' operations, served on the same port
/// (a local `--endpoint-url` points both clients at it; Streams sign as `dynamodb` too).
pub const STREAMS_TARGET_PREFIX: &str = "DynamoDBStreams_20120810.";

/// Which of the two APIs a target's prefix names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// DynamoDB's (`DynamoDB_20120810.`).
    DynamoDb,
    /// DynamoDB Streams' (`DynamoDBStreams_20120810.`).
    Streams,
}

const DYNAMODB: &str = "com.amazonaws.dynamodb.v20120810";
const CORAL_SERVICE: &str = "com.amazon.coral.service";
const CORAL_VALIDATE: &str = "com.amazon.coral.validate";

/// An error as the wire carries it.
#[derive(Debug)]
pub struct WireError {
    /// HTTP status.
    pub status: u16,
    /// `__type`: namespace, `#`, exception name.
    pub type_name: String,
    /// `message`, left out where DynamoDB leaves it out.
    pub message: Option<String>,
    /// Members beside the message (`Item`, `CancellationReasons`).
    pub extra: Map<String, Value>,
}

impl WireError {
    fn new(status: u16, namespace: &str, name: &str, message: Option<String>) -> WireError {
        WireError {
            status,
            type_name: format!("{namespace}#{name}"),
            message,
            extra: Map::new(),
        }
    }

    /// The body was not JSON (no message, as DynamoDB sends none).
    pub fn serialization() -> WireError {
        WireError::new(400, CORAL_SERVICE, "SerializationException", None)
    }

    /// `X-Amz-Target` is missing or names no operation of the API its prefix names (no
    /// message).
    pub fn unknown_operation() -> WireError {
        WireError::new(400, CORAL_SERVICE, "UnknownOperationException", None)
    }

    /// An operation of DynamoDB's API that tidestore does not implement.
    pub fn not_implemented(operation: &str) -> WireError {
        let message = format!("tidestore does not implement the operation {operation}");
        WireError::new(
            400,
            CORAL_SERVICE,
            "UnknownOperationException",
            Some(message),
        )
    }

    /// DynamoDB's exception `name` (one the library's `Error` does not have, as
    /// `ImportNotFoundException`), with `message`.
    pub fn dynamodb(name: &str, message: impl Into<String>) -> WireError {
        WireError::new(400, DYNAMODB, name, Some(message.into()))
    }

    /// A request without an `Authorization` header.
    pub fn missing_authentication() -> WireError {
        let message = "Request is missing Authentication Token".to_owned();
        WireError::new(
            400,
            CORAL_SERVICE,
            "MissingAuthenticationTokenException",
            Some(message),
        )
    }

    /// An `Authorization` header that is not a well-formed SigV4 one.
    pub fn incomplete_signature(message: String) -> WireError {
        WireError::new(
            400,
            CORAL_SERVICE,
            "IncompleteSignatureException",
            Some(message),
        )
    }

    /// A signature that does not match (`--auth` mode).
    pub fn invalid_signature(message: String) -> WireError {
        WireError::new(
            400,
            CORAL_SERVICE,
            "InvalidSignatureException",
            Some(message),
        )
    }

    /// An access key the server does not know (`--auth` mode).
    pub fn unrecognized_client() -> WireError {
        let message = "The security token included in the request is invalid.".to_owned();
        WireError::new(400, DYNAMODB, "UnrecognizedClientException", Some(message))
    }

    /// A request field that is malformed on the wire (a wrong JSON type, a missing member).
    pub fn validation(message: impl Into<String>) -> WireError {
        WireError::from(Error::validation(message.into()))
    }

    /// The JSON body of the error.
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("__type".into(), Value::String(self.type_name.clone()));
        if let Some(message) = &self.message {
            body.insert("message".into(), Value::String(message.clone()));
        }
        body.extend(self.extra.clone());
        Value::Object(body)
    }
}

impl From<Error> for WireError {
    fn from(error: Error) -> WireError {
        let name = error.exception_name();
        let (status, namespace) = match name {
            "ValidationException" => (400, CORAL_VALIDATE),
            "InternalServerError" => (500, DYNAMODB),
            _ => (400, DYNAMODB),
        };
        let mut wire = WireError::new(status, namespace, name, Some(error.message()));
        match error {
            Error::ConditionalCheckFailed {
                item: Some(item), ..
            } => {
                // NB: with the item, DynamoDB names the message `Message`, and `message`
                // without it (moto's AWS-verified `TestReturnValuesOnConditionCheckFailure`).
                if let Some(message) = wire.message.take() {
                    wire.extra.insert("Message".into(), Value::String(message));
                }
                let item = serde_json::to_value(item).unwrap_or(Value::Null);
                wire.extra.insert("Item".into(), item);
            }
            Error::TransactionCanceled { reasons } => {
                let reasons = serde_json::to_value(reasons).unwrap_or(Value::Null);
                wire.extra.insert("CancellationReasons".into(), reasons);
            }
            _ => {}
        }
        wire
    }
}

/// The API and operation `X-Amz-Target` names, if its prefix is DynamoDB's or DynamoDB
/// Streams'. Whether that API has the operation is the caller's to check: a DynamoDB
/// operation under the Streams prefix, or the reverse, is an unknown operation.
pub fn operation(target: Option<&str>) -> Option<(Api, &str)> {
    let target = target?;
    let (api, op) = match target.strip_prefix(TARGET_PREFIX) {
        Some(op) => (Api::DynamoDb, op),
        None => (Api::Streams, target.strip_prefix(STREAMS_TARGET_PREFIX)?),
    };
    (!op.is_empty()).then_some((api, op))
}

/// Whether a `Content-Type` is one the protocol takes: `application/x-amz-json-1.0` or
/// `application/json`, with any parameters.
pub fn accepted_content_type(content_type: Option<&str>) -> bool {
    let base = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    matches!(
        base.as_deref(),
        Some("application/x-amz-json-1.0" | "application/json")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_dynamodbs_namespace_status_and_members() {
        let validation = WireError::from(Error::validation("bad"));
        assert_eq!(validation.status, 400);
        assert_eq!(
            validation.body(),
            serde_json::json!({"__type": "com.amazon.coral.validate#ValidationException", "message": "bad"})
        );
        let storage = WireError::from(Error::Corruption("bad block".into()));
        assert_eq!(storage.status, 500);
        assert_eq!(
            storage.type_name,
            "com.amazonaws.dynamodb.v20120810#InternalServerError"
        );
        let missing = WireError::from(Error::ResourceNotFound(
            "Requested resource not found".into(),
        ));
        assert_eq!(
            missing.body(),
            serde_json::json!({"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "message": "Requested resource not found"})
        );
        assert_eq!(
            WireError::unknown_operation().body(),
            serde_json::json!({"__type": "com.amazon.coral.service#UnknownOperationException"})
        );
    }

    #[test]
    fn the_target_and_content_type_are_read_as_dynamodb_reads_them() {
        assert_eq!(
            operation(Some("DynamoDB_20120810.PutItem")),
            Some((Api::DynamoDb, "PutItem"))
        );
        assert_eq!(operation(Some("DynamoDB_20120810.")), None);
        assert_eq!(
            operation(Some("DynamoDBStreams_20120810.ListStreams")),
            Some((Api::Streams, "ListStreams"))
        );
        assert_eq!(operation(Some("DynamoDBStreams_20120810.")), None);
        assert_eq!(
            operation(Some("DynamoDBStreams_20111205.ListStreams")),
            None
        );
        assert_eq!(operation(None), None);
        assert!(accepted_content_type(Some("application/x-amz-json-1.0")));
        assert!(accepted_content_type(Some(
            "application/json; charset=utf-8"
        )));
        assert!(!accepted_content_type(Some("application/x-amz-json-1.1")));
        assert!(!accepted_content_type(Some("text/plain")));
        assert!(!accepted_content_type(None));
    }
}
