//! The check every structure-aware server harness makes of an error answer: its name is one
//! DynamoDB documents for the operation (the API model's errors of it, and
//! `ValidationException`), or `SerializationException` when the request sent a member of
//! the wrong JSON type; and a `ValidationException` says what was wrong.

use serde_json::Value;

/// Checks the error answer `error` (`{"__type": "<namespace>#<Name>", "message": …}`)
/// against `allowed`; `malformed` says the request held a member of the wrong type.
/// `context` describes the request for the panic. Returns the error's name.
pub(super) fn documented_error<'a>(
    error: &'a Value,
    allowed: &[&str],
    malformed: bool,
    context: impl FnOnce() -> String,
) -> &'a str {
    let type_name = error["__type"].as_str().unwrap_or_default();
    let name = type_name.rsplit('#').next().unwrap_or_default();
    assert!(
        allowed.contains(&name) || (malformed && name == "SerializationException"),
        "{} failed with {error}",
        context()
    );
    if name == "ValidationException" {
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "a ValidationException without a message: {error}"
        );
    }
    name
}
