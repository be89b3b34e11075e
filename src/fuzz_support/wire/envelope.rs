//! The HTTP envelope of a generated request: method, path, `X-Amz-Target`, content type,
//! the body's kind (the operation's members, or raw bytes, deep nesting, JSON that is no
//! object) and its `Content-Encoding` (true, false or unknown), `Accept-Encoding`, CORS
//! headers, chunking, and `Authorization`: signed as SigV4 says, signed and then broken,
//! or of SigV4's shape with fuzzed parts. Each choice is mostly the usual one, so that most
//! requests pass the HTTP checks and reach the engine.

use std::net::SocketAddr;

use serde_json::json;

use super::checks::Expect;
use super::members::members;
use super::request::{amz_date, deflate, gzip, now_amz_date, Request};
use super::servers::{ACCESS_KEY, REGION};
use crate::fuzz_support::input::Input;
use crate::server::model::{OPERATIONS, STREAMS_OPERATIONS};

/// Builds the request and what the checks need to know of it.
pub(super) fn build(input: &mut Input<'_>, addr: SocketAddr, to_auth: bool) -> (Request, Expect) {
    let method = if input.chance(92) {
        "POST"
    } else {
        input.pick(&["GET", "OPTIONS", "PUT", "HEAD", "DELETE", "PATCH"])
    };
    let path = if input.chance(95) {
        "/"
    } else {
        input.pick(&["/x", "/?Action=ListTables", "//", "/%2F", "/a/b"])
    };
    let (target, operation, api_ops) = target(input);
    let mut headers: Vec<(&'static str, Vec<u8>)> = Vec::new();
    if let Some(target) = target {
        headers.push(("X-Amz-Target", target));
    }
    let content_type: Option<Vec<u8>> = match input.below(20) {
        0 => None,
        1 => Some(b"application/json".to_vec()),
        2 => Some(b"application/json; charset=utf-8".to_vec()),
        3 => Some(b"application/x-amz-json-1.1".to_vec()),
        4 => Some(b"text/plain".to_vec()),
        5 => Some(input.bytes(40)),
        6 => Some(b"APPLICATION/X-AMZ-JSON-1.0 ; q=1".to_vec()),
        _ => Some(b"application/x-amz-json-1.0".to_vec()),
    };
    if let Some(content_type) = content_type {
        headers.push(("Content-Type", content_type));
    }
    // The body: mostly the operation's members.
    let mut expect = Expect {
        operation: operation.clone(),
        posted: method == "POST" && path == "/",
        ..Expect::default()
    };
    let body = match input.below(32) {
        0 => input.rest(),
        1 => Vec::new(),
        2 => deep_json(input),
        3 => input
            .pick(&[
                &b"[]"[..],
                b"1",
                b"\"x\"",
                b"null",
                b"{",
                b"{}x",
                b"{\"a\":}",
            ])
            .to_vec(),
        _ => {
            let value = members(input, &operation, api_ops);
            let text = value.to_string().into_bytes();
            expect.json = Some(value);
            text
        }
    };
    // Content-Encoding: mostly none; sometimes a real gzip or deflate of the body, sometimes
    // a body that is not what the header says.
    let (body, encoding): (Vec<u8>, Option<Vec<u8>>) = match input.below(24) {
        0 | 1 => (gzip(&body), Some(b"gzip".to_vec())),
        2 => (deflate(&body), Some(b"deflate".to_vec())),
        3 => (body, Some(b"identity".to_vec())),
        4 => (body, Some(b"gzip".to_vec())),
        5 => {
            let mut zipped = gzip(&body);
            let cut = input.below(zipped.len() + 1);
            zipped.truncate(cut);
            (zipped, Some(b"gzip".to_vec()))
        }
        6 => {
            let at = input.below(body.len() + 1);
            let mut zipped = gzip(&body[..at]);
            zipped.extend(gzip(&body[at..]));
            (zipped, Some(b" GZIP ".to_vec()))
        }
        7 => (
            body,
            Some(
                input
                    .pick(&[&b"br"[..], b"zstd", b"x-gzip", b"gzip, identity", b""])
                    .to_vec(),
            ),
        ),
        8 => {
            let mut zipped = gzip(&body);
            if !zipped.is_empty() {
                let at = input.below(zipped.len());
                zipped[at] ^= 1 << (input.byte() % 8);
            }
            (zipped, Some(b"gzip".to_vec()))
        }
        9 => (body, Some(input.bytes(16))),
        _ => (body, None),
    };
    if let Some(encoding) = encoding {
        let named = String::from_utf8_lossy(&encoding)
            .trim()
            .to_ascii_lowercase();
        expect.encoded = !(named.is_empty() || named == "identity");
        headers.push(("Content-Encoding", encoding));
    }
    if input.chance(20) {
        let accept = match input.below(8) {
            0 => b"gzip".to_vec(),
            1 => b"deflate".to_vec(),
            2 => b"gzip, deflate".to_vec(),
            3 => b"*".to_vec(),
            4 => b"identity".to_vec(),
            5 => b"deflate;q=0.5, gzip;q=0.x".to_vec(),
            _ => input.bytes(32),
        };
        headers.push(("Accept-Encoding", accept));
    }
    if input.chance(8) {
        headers.push(("Origin", b"https://example.com".to_vec()));
        if input.chance(50) {
            headers.push(("Access-Control-Request-Method", b"POST".to_vec()));
            headers.push(("Access-Control-Request-Headers", input.bytes(24)));
        }
    }
    if input.chance(3) {
        headers.push(("Host", input.bytes(24)));
    }
    let mut request = Request {
        method,
        path,
        headers,
        body,
        chunks: None,
    };
    if input.chance(8) {
        let sizes: Vec<usize> = (0..1 + input.below(4))
            .map(|_| 1 + input.below(4096))
            .collect();
        request.chunks = Some(sizes);
    }
    // Authorization: to the --auth server mostly signed as SigV4 says; otherwise a header of
    // SigV4's shape with fuzzed parts, or something else.
    if to_auth && input.chance(75) {
        let mut signed = vec!["x-amz-date"];
        for name in [
            "content-type",
            "x-amz-target",
            "content-encoding",
            "accept-encoding",
        ] {
            if input.chance(80)
                && request
                    .headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                signed.push(name);
            }
        }
        let correct = input.chance(85);
        let offset = if correct {
            0
        } else {
            input.pick(&[-1200, 1200, -86_400 * 400, 0])
        };
        request.sign(&signed, &amz_date(offset), addr);
        if !correct {
            // Break one part of it.
            if let Some((_, value)) = request
                .headers
                .iter_mut()
                .find(|(n, _)| *n == "Authorization")
            {
                if !value.is_empty() {
                    let at = value.len() - 1 - input.below(value.len().min(64));
                    value[at] = input.byte();
                }
            }
        }
        expect.signed = correct && method == "POST" && path == "/" && offset == 0;
    } else {
        authorization(input, &mut request.headers);
    }
    (request, expect)
}

/// `X-Amz-Target`: mostly one of DynamoDB's operations, sometimes Streams', sometimes
/// neither. The header's value, the operation's name, and the model's operations.
pub(super) fn target(input: &mut Input<'_>) -> (Option<Vec<u8>>, String, Api) {
    let (prefix, name, api) = match input.below(20) {
        0..=15 => {
            let op = &OPERATIONS[input.below(OPERATIONS.len())];
            ("DynamoDB_20120810.", op.name.to_owned(), Api::DynamoDb)
        }
        16 | 17 => {
            let op = &STREAMS_OPERATIONS[input.below(STREAMS_OPERATIONS.len())];
            (
                "DynamoDBStreams_20120810.",
                op.name.to_owned(),
                Api::Streams,
            )
        }
        18 => {
            // The other API's prefix, no operation, or another version.
            let op = &OPERATIONS[input.below(OPERATIONS.len())];
            let prefix = input.pick(&[
                "DynamoDBStreams_20120810.",
                "DynamoDB_20111205.",
                "dynamodb_20120810.",
                "",
            ]);
            (prefix, op.name.to_owned(), Api::DynamoDb)
        }
        _ => {
            if input.chance(30) {
                return (None, "-".into(), Api::DynamoDb);
            }
            let text = input.text(48);
            ("DynamoDB_20120810.", text, Api::DynamoDb)
        }
    };
    (Some(format!("{prefix}{name}").into_bytes()), name, api)
}

/// Which model a target's operation comes from.
#[derive(Clone, Copy)]
pub(super) enum Api {
    /// DynamoDB's operations (`DynamoDB_20120810.`).
    DynamoDb,
    /// DynamoDB Streams' operations (`DynamoDBStreams_20120810.`).
    Streams,
}

/// An `Authorization` of SigV4's shape with fuzzed parts, or none, or another scheme.
pub(super) fn authorization(input: &mut Input<'_>, headers: &mut Vec<(&'static str, Vec<u8>)>) {
    if input.chance(50) {
        headers.push((
            "X-Amz-Date",
            match input.below(4) {
                0 => input.bytes(20),
                1 => b"20261126T060546Z".to_vec(),
                _ => now_amz_date().into_bytes(),
            },
        ));
    }
    let value = match input.below(16) {
        0 => return,
        1 => input.bytes(80),
        2 => b"Basic dXNlcjpwYXNz".to_vec(),
        _ => {
            let part = |input: &mut Input<'_>, normal: &str| {
                if input.chance(85) {
                    normal.to_owned()
                } else {
                    input.text(24)
                }
            };
            let key = part(input, ACCESS_KEY);
            let day = part(input, &now_amz_date()[..8]);
            let region = part(input, REGION);
            let service = part(input, "dynamodb");
            let terminal = part(input, "aws4_request");
            let signed = part(input, "content-type;host;x-amz-date;x-amz-target");
            let signature = part(input, "1408677e");
            let sep = input.pick(&[", ", ",", " "]);
            format!("AWS4-HMAC-SHA256 Credential={key}/{day}/{region}/{service}/{terminal}{sep}SignedHeaders={signed}{sep}Signature={signature}").into_bytes()
        }
    };
    headers.push(("Authorization", value));
}

/// JSON nested deeper than any parser's recursion should go unguarded.
pub(super) fn deep_json(input: &mut Input<'_>) -> Vec<u8> {
    let depth = input.below(20_000);
    match input.below(3) {
        0 => {
            let mut s = "[".repeat(depth);
            s.push_str(&"]".repeat(depth));
            s.into_bytes()
        }
        1 => {
            // An item nested past DynamoDB's 32 levels.
            let mut value = json!({"S": "x"});
            for _ in 0..depth.min(200) {
                value = json!({"L": [value]});
            }
            json!({"TableName": "tab", "Item": {"pk": {"S": "deep"}, "sk": {"N": "1"}, "d": value}})
                .to_string()
                .into_bytes()
        }
        _ => {
            let mut s = "{\"TableName\":\"tab\",\"Key\":".to_owned();
            s.push_str(&"{\"a\":".repeat(depth));
            s.push('1');
            s.push_str(&"}".repeat(depth));
            s.push('}');
            s.into_bytes()
        }
    }
}
