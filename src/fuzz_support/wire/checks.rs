//! The promises checked of every answer (the parent module lists them), and the model the
//! answers are checked against: an item a `PutItem` was answered 200 for is what a
//! consistent `GetItem` reads back, and a base table deleted is created again so that the
//! next inputs find it.

use std::io::Read;
use std::net::SocketAddr;

use serde_json::{json, Map, Value};

use super::request::{Reply, Request};
use super::servers::create_base_tables;
use crate::Item;

/// What the harness knows about a request it sends, for the checks.
#[derive(Default)]
pub(super) struct Expect {
    /// A `Content-Encoding` other than identity was sent: a 500 for a body that is not its
    /// encoding is DynamoDB's answer.
    pub(super) encoded: bool,
    /// Signed correctly for the `--auth` server.
    pub(super) signed: bool,
    /// The operation, for the checks after it.
    pub(super) operation: String,
    /// The JSON sent, when it was the operation's members.
    pub(super) json: Option<Value>,
    /// A `POST /`: an API request, not the health check or a preflight.
    pub(super) posted: bool,
}

/// The answer's promises; its JSON body, if it has one.
pub(super) fn check(reply: &Reply, expect: &Expect) -> Option<Value> {
    let op = &expect.operation;
    let shown = || String::from_utf8_lossy(&reply.body).into_owned();
    assert!(
        (100..600).contains(&reply.status),
        "{op}: status {} is no HTTP status",
        reply.status
    );
    let content_type = reply.header("content-type").unwrap_or_default();
    let is_json = content_type.starts_with("application/x-amz-json-1.0")
        || content_type.starts_with("application/json");
    let mut json = None;
    if is_json {
        let crc: Option<u32> = reply.header("x-amz-crc32").and_then(|c| c.parse().ok());
        assert_eq!(
            crc,
            Some(crc32fast::hash(&reply.body)),
            "{op}: x-amz-crc32 is not the CRC-32 of the body as sent"
        );
        let body = match reply.header("content-encoding") {
            None => reply.body.clone(),
            Some(coding) => {
                let mut out = Vec::new();
                let decoded = match coding {
                    "gzip" => flate2::read::GzDecoder::new(&reply.body[..]).read_to_end(&mut out),
                    "deflate" => {
                        flate2::read::ZlibDecoder::new(&reply.body[..]).read_to_end(&mut out)
                    }
                    other => panic!("{op}: an answer in an encoding not asked for: {other}"),
                };
                decoded.unwrap_or_else(|e| panic!("{op}: the answer is not its {coding}: {e}"));
                out
            }
        };
        if !(body.is_empty() && reply.status == 200) {
            let value: Value = serde_json::from_slice(&body)
                .unwrap_or_else(|e| panic!("{op}: a JSON answer that is not JSON ({e})"));
            assert!(value.is_object(), "{op}: a JSON answer that is no object");
            if reply.status != 200 {
                assert!(
                    value["__type"].is_string(),
                    "{op}: an error without __type: {value}"
                );
            }
            json = Some(value);
        }
    }
    let error_type = json
        .as_ref()
        .and_then(|j| j["__type"].as_str())
        .unwrap_or_default();
    let message = json
        .as_ref()
        .and_then(|j| j["message"].as_str())
        .unwrap_or_default();
    if reply.status >= 500 {
        let body_500 = reply.status == 500
            && expect.encoded
            && error_type.ends_with("#InternalServerError")
            && message.contains("request body");
        assert!(
            body_500,
            "{op}: a {} DynamoDB would not send: {}",
            reply.status,
            shown()
        );
    }
    if expect.signed {
        for refusal in [
            "#InvalidSignatureException",
            "#IncompleteSignatureException",
            "#UnrecognizedClientException",
            "#MissingAuthenticationTokenException",
        ] {
            assert!(
                !error_type.ends_with(refusal),
                "{op}: a correctly signed request was refused: {}",
                shown()
            );
        }
    }
    json
}

/// The checks after a request answered 200: an item put reads back as put; a deleted base
/// table is created again, so that the next inputs find it.
pub(super) fn after(addr: SocketAddr, expect: &Expect) {
    match expect.operation.as_str() {
        "DeleteTable" => create_base_tables(addr),
        "PutItem" => {
            let Some(sent) = &expect.json else { return };
            let (Some(table), Some(item)) = (sent["TableName"].as_str(), sent.get("Item")) else {
                return;
            };
            let Ok(item) = serde_json::from_value::<Item>(item.clone()) else {
                return;
            };
            let key_names: &[&str] = match table {
                "tab" => &["pk", "sk"],
                "num" => &["pk"],
                _ => return,
            };
            // Time to Live may name these, and sweep the item between the put and the read.
            if item.keys().any(|k| k.starts_with("ttl") || k == "expires") {
                return;
            }
            let key: Map<String, Value> = key_names
                .iter()
                .filter_map(|k| Some((k.to_string(), serde_json::to_value(item.get(*k)?).ok()?)))
                .collect();
            let body = json!({"TableName": table, "Key": key, "ConsistentRead": true});
            let reply =
                match Request::signed("GetItem", body.to_string().into_bytes(), addr).send(addr) {
                    Ok(Some(reply)) => reply,
                    Ok(None) => panic!("no answer to the GetItem after a PutItem"),
                    Err(why) => panic!("{why} (the GetItem after a PutItem)"),
                };
            let answer = check(
                &reply,
                &Expect {
                    signed: true,
                    operation: "GetItem".into(),
                    ..Expect::default()
                },
            );
            assert_eq!(reply.status, 200, "the GetItem after a PutItem: {answer:?}");
            let read = answer
                .and_then(|a| a.get("Item").cloned())
                .and_then(|i| serde_json::from_value::<Item>(i).ok());
            assert_eq!(
                read.as_ref(),
                Some(&item),
                "an item put (answered 200) does not read back as put"
            );
        }
        _ => {}
    }
}
