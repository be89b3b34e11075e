//! A request as the harness sends it and an answer as it reads one, over a plain
//! `TcpStream` rather than an HTTP client, so that the bytes on the wire are exactly what
//! the fuzzer chose (chunk sizes, headers a client library would refuse, a body that is
//! not its `Content-Encoding`); and SigV4 signing as the AWS SDKs sign, over the body as
//! sent.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::servers::{ACCESS_KEY, REGION, SECRET};
use super::ANSWER_TIMEOUT;
use crate::fuzz_support::running_time::{RunningTime, MAX_COUNTED_GAP};
use crate::server::auth::{hex, hmac};

/// One request as the harness sends it.
pub(super) struct Request {
    pub(super) method: &'static str,
    pub(super) path: &'static str,
    /// Header names and values; CR, LF and NUL are left out of the values when sent (they
    /// would end the header early, or be refused by hyper).
    pub(super) headers: Vec<(&'static str, Vec<u8>)>,
    pub(super) body: Vec<u8>,
    /// Send the body in chunks of these sizes (`Transfer-Encoding: chunked`).
    pub(super) chunks: Option<Vec<usize>>,
}

/// An answer as read off the socket.
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Reply {
    /// The value of the header `name` (any case), if the answer has one.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        (self.headers.iter())
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Request {
    /// A `POST /` of `body` to DynamoDB's `operation`, signed for the `--auth` server at
    /// `addr` (the other server takes any well-formed signature).
    pub(super) fn signed(operation: &str, body: Vec<u8>, addr: SocketAddr) -> Request {
        let mut request = Request {
            method: "POST",
            path: "/",
            headers: vec![
                ("Content-Type", b"application/x-amz-json-1.0".to_vec()),
                (
                    "X-Amz-Target",
                    format!("DynamoDB_20120810.{operation}").into_bytes(),
                ),
            ],
            body,
            chunks: None,
        };
        request.sign(
            &["content-type", "x-amz-date", "x-amz-target"],
            &now_amz_date(),
            addr,
        );
        request
    }

    /// Adds `X-Amz-Date: date` and an `Authorization` signing the `signed` headers (and
    /// `host`) and the body as sent, for the server at `addr`.
    pub(super) fn sign(&mut self, signed: &[&str], date: &str, addr: SocketAddr) {
        // What is sent is what is signed.
        for (_, value) in &mut self.headers {
            value.retain(|b| !matches!(b, b'\r' | b'\n' | 0));
        }
        self.headers.push(("X-Amz-Date", date.as_bytes().to_vec()));
        let mut names: Vec<&str> = (signed.iter().copied())
            .filter(|name| {
                self.headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(name))
            })
            .collect();
        names.push("host");
        names.sort_unstable();
        names.dedup();
        let host = addr.to_string();
        let mut canonical = String::from("POST\n/\n\n");
        for name in &names {
            let mut values: Vec<String> = (self.headers.iter())
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| {
                    let v = String::from_utf8_lossy(v);
                    v.split_whitespace().collect::<Vec<_>>().join(" ")
                })
                .collect();
            if *name == "host" && values.is_empty() {
                values.push(host.clone());
            }
            canonical.push_str(&format!("{name}:{}\n", values.join(",")));
        }
        let names = names.join(";");
        let payload = hex(&Sha256::digest(&self.body));
        canonical.push_str(&format!("\n{names}\n{payload}"));
        let day = date.get(..8).unwrap_or(date);
        let scope = format!("{day}/{REGION}/dynamodb/aws4_request");
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let mut key = hmac(format!("AWS4{SECRET}").as_bytes(), day.as_bytes());
        for part in [REGION, "dynamodb", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex(&hmac(&key, to_sign.as_bytes()));
        let value = format!(
            "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, SignedHeaders={names}, Signature={signature}"
        );
        self.headers.push(("Authorization", value.into_bytes()));
    }

    /// Sends the request to `addr` and reads the whole answer; `None` if no answer with a
    /// status line came (the connection closed, or [`ANSWER_TIMEOUT`] passed: `Err`).
    pub(super) fn send(self, addr: SocketAddr) -> Result<Option<Reply>, String> {
        let host = addr.to_string();
        let mut wire = format!("{} {} HTTP/1.1\r\n", self.method, self.path).into_bytes();
        if !self.headers.iter().any(|(n, _)| *n == "Host") {
            wire.extend_from_slice(format!("Host: {host}\r\n").as_bytes());
        }
        for (name, value) in &self.headers {
            wire.extend_from_slice(name.as_bytes());
            wire.extend_from_slice(b": ");
            wire.extend(value.iter().filter(|&&b| !matches!(b, b'\r' | b'\n' | 0)));
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b"Connection: close\r\n");
        match &self.chunks {
            None => {
                wire.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", self.body.len()).as_bytes(),
                );
                wire.extend_from_slice(&self.body);
            }
            Some(sizes) => {
                wire.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                let mut rest = &self.body[..];
                let mut sizes = sizes.iter().copied().cycle();
                while !rest.is_empty() {
                    let n = sizes.next().unwrap_or(1).clamp(1, rest.len());
                    wire.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                    wire.extend_from_slice(&rest[..n]);
                    wire.extend_from_slice(b"\r\n");
                    rest = &rest[n..];
                }
                wire.extend_from_slice(b"0\r\n\r\n");
            }
        }
        let mut stream =
            TcpStream::connect(addr).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        // Counted as the process runs: a pause of it is no hang (`running_time.rs`).
        let mut waited = RunningTime::start();
        let _ = stream.set_write_timeout(Some(ANSWER_TIMEOUT));
        if let Err(e) = stream.write_all(&wire) {
            // The server may answer (a 413, say) and close before reading it all.
            if e.kind() == std::io::ErrorKind::WouldBlock
                || e.kind() == std::io::ErrorKind::TimedOut
            {
                return Err(format!(
                    "hang: the request was not read within {ANSWER_TIMEOUT:?}"
                ));
            }
        }
        let mut answer = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            if waited.tick() >= ANSWER_TIMEOUT {
                return Err(format!(
                    "hang: no whole answer within {ANSWER_TIMEOUT:?} ({} bytes so far)",
                    answer.len()
                ));
            }
            // Reads short enough that each wait counts in full.
            let _ = stream.set_read_timeout(Some(MAX_COUNTED_GAP / 2));
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                // A reset after the answer (the server closed with our bytes unread).
                Err(_) => break,
            }
        }
        Ok(parse_reply(&answer, self.method == "HEAD"))
    }
}

/// The current time as `X-Amz-Date` writes it, shifted by `offset_secs`.
pub(super) fn amz_date(offset_secs: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    crate::server::auth::format_amz_date((now + offset_secs).max(0) as u64)
}

/// The current time as `X-Amz-Date` writes it.
pub(super) fn now_amz_date() -> String {
    amz_date(0)
}

/// The status, headers and body of the answer in `bytes` (the body cut at its
/// `Content-Length`); `None` unless there is a whole head with a status line.
pub(super) fn parse_reply(bytes: &[u8], head_only: bool) -> Option<Reply> {
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..split]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut words = status_line.split(' ');
    if !words.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let status: u16 = words.next()?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = bytes[split + 4..].to_vec();
    if head_only {
        body.clear();
    } else if let Some(len) = (headers.iter())
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        if body.len() < len {
            return None;
        }
        body.truncate(len);
    }
    Some(Reply {
        status,
        headers,
        body,
    })
}

/// `body` gzipped (the fastest level).
pub(super) fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

/// `body` in zlib's format, which HTTP calls `deflate` (the fastest level).
pub(super) fn deflate(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}
