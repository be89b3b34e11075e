//! The seeds' format: a request written out as text (an input starting `R `), so that a
//! seed for a new operation or header is written by hand, reviewed as text, and sent
//! exactly as written (signed, unless it carries an `Authorization` of its own).

use std::net::SocketAddr;

use serde_json::Value;

use super::checks::Expect;
use super::request::{deflate, gzip, now_amz_date, Request};
use super::servers::Servers;

/// A request written out, as the seeds are (an input starting `R `):
///
/// ```text
/// R open|auth [gzip|deflate]
/// X-Amz-Target: DynamoDB_20120810.PutItem
/// Other-Header: value
///
/// {"TableName": "tab", ...}
/// ```
///
/// `POST /`; the body is compressed when the first line says so (with `Content-Encoding`
/// added unless given); `Content-Type` is DynamoDB's unless given; without an
/// `Authorization` the request is signed (correctly, for the `--auth` server).
pub(super) fn written(text: &[u8], servers: &Servers) -> (SocketAddr, Request, Expect) {
    let (head, body) = match text.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&text[..at], &text[at + 2..]),
        None => (text, &b""[..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split('\n');
    let first: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let to_auth = first.first() == Some(&"auth");
    let addr = if to_auth { servers.auth } else { servers.open };
    let mut headers: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut operation = "-".to_owned();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().as_bytes().to_vec();
        let name: &'static str = match name.trim().to_ascii_lowercase().as_str() {
            "x-amz-target" => {
                let target = String::from_utf8_lossy(&value);
                operation = target.rsplit('.').next().unwrap_or_default().to_owned();
                "X-Amz-Target"
            }
            "content-type" => "Content-Type",
            "content-encoding" => "Content-Encoding",
            "accept-encoding" => "Accept-Encoding",
            "authorization" => "Authorization",
            "x-amz-date" => "X-Amz-Date",
            "origin" => "Origin",
            "host" => "Host",
            _ => "X-Other",
        };
        headers.push((name, value));
    }
    let has = |headers: &[(&str, Vec<u8>)], name: &str| headers.iter().any(|(n, _)| *n == name);
    let json = serde_json::from_slice::<Value>(body).ok();
    let body = match first.get(1).copied() {
        Some("gzip") => {
            if !has(&headers, "Content-Encoding") {
                headers.push(("Content-Encoding", b"gzip".to_vec()));
            }
            gzip(body)
        }
        Some("deflate") => {
            if !has(&headers, "Content-Encoding") {
                headers.push(("Content-Encoding", b"deflate".to_vec()));
            }
            deflate(body)
        }
        _ => body.to_vec(),
    };
    if !has(&headers, "Content-Type") {
        headers.push(("Content-Type", b"application/x-amz-json-1.0".to_vec()));
    }
    let encoded = (headers.iter())
        .filter(|(n, _)| *n == "Content-Encoding")
        .any(|(_, v)| {
            !matches!(
                v.trim_ascii().to_ascii_lowercase().as_slice(),
                b"" | b"identity"
            )
        });
    let sign = !has(&headers, "Authorization");
    // An X-Amz-Date of its own comes first, and the signature's date second.
    let dated = has(&headers, "X-Amz-Date");
    let mut request = Request {
        method: "POST",
        path: "/",
        headers,
        body,
        chunks: None,
    };
    if sign {
        let signed = [
            "content-type",
            "x-amz-date",
            "x-amz-target",
            "content-encoding",
        ];
        request.sign(&signed, &now_amz_date(), addr);
    }
    let expect = Expect {
        encoded,
        signed: sign && to_auth && !dated,
        operation,
        json,
        posted: true,
    };
    (addr, request, expect)
}
