//! The `wire_request` harness: one HTTP request, built from the fuzzer's bytes, sent over
//! loopback to a `tidestore serve` running in this process.
//!
//! The input is read as a sequence of choices ([`Input`]), so that a few bytes make a request
//! that looks real and reaches the engine: the method (mostly `POST`), the path (mostly `/`),
//! `X-Amz-Target` (mostly one of the operations in the API models of `server::model`), the
//! content type and encodings, `Origin`, a SigV4 `Authorization` and `X-Amz-Date`, and a body
//! (mostly the operation's members in DynamoDB JSON: table `tab` or `num`, keys, items, and
//! expressions whose `#names` and `:values` are in the maps; sometimes raw bytes, deep
//! nesting or a body that is not its gzip). Two servers run, each over its own database under
//! `/dev/shm` (or the temporary directory), with `Buffered` durability: one accepting any
//! well-formed signature and one with `--auth` secrets, to which most requests go signed as
//! SigV4 says (over the body as sent).
//!
//! Promises checked for every request (the fuzzer reports a panic; libFuzzer's panic hook
//! also aborts on a panic caught in the server, and the replay sees one as a 500 whose
//! message says the handler stopped):
//! - an answer with a status line comes within [`ANSWER_TIMEOUT`] (no hang, no dropped
//!   connection);
//! - a 5xx is a 500 `InternalServerError` only where DynamoDB sends one: a body that is not
//!   the encoding its `Content-Encoding` names, or an encoding DynamoDB does not know;
//! - a JSON answer's `x-amz-crc32` is the CRC-32 of its body as sent, and the body (decoded
//!   as its `Content-Encoding` says) is a JSON object, with a `__type` when it is an error;
//! - a request signed correctly for the `--auth` server is never refused for its signature;
//! - an item a `PutItem` was answered 200 for is what a consistent `GetItem` reads back.
//!
//! An input starting `S3` is read instead by `transfers.rs`: exports and imports through an
//! S3 directory, called in this process without HTTP, with promises of their own.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::server::auth::{hex, hmac};
use base64::Engine as _;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::input::Input;
use crate::server::model::{OPERATIONS, STREAMS_OPERATIONS};
use crate::server::{serve_until, Config};
use crate::{Durability, Item};

/// How long an answer may take before the request counts as a hang.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

const ACCESS_KEY: &str = "AKIDFUZZ";
const SECRET: &str = "fuzz-secret-key";
const REGION: &str = "us-east-1";
const ACCOUNT: &str = "000000000000";

/// The names a request may create a table under (bounded, so that a long run does not fill
/// the disk with tables).
const CREATED_NAMES: [&str; 6] = ["tab", "num", "vvv", "www", "restored", "abc"];

/// The two servers of this process.
struct Servers {
    open: SocketAddr,
    auth: SocketAddr,
}

/// Strings the servers answered with (backup and stream ARNs, shard ids and iterators,
/// sequence numbers), so that later requests can name things that exist.
#[derive(Default)]
struct Seen {
    strings: Vec<(String, String)>,
}

impl Seen {
    const KEPT: usize = 64;

    fn remember(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match value {
                        Value::String(s)
                            if matches!(
                                key.as_str(),
                                "BackupArn"
                                    | "StreamArn"
                                    | "LatestStreamArn"
                                    | "ShardId"
                                    | "ShardIterator"
                                    | "NextShardIterator"
                                    | "SequenceNumber"
                                    | "StartingSequenceNumber"
                                    | "TableArn"
                            ) =>
                        {
                            if self.strings.len() >= Self::KEPT {
                                self.strings.remove(0);
                            }
                            self.strings.push((key.clone(), s.clone()));
                        }
                        _ => self.remember(value),
                    }
                }
            }
            Value::Array(values) => values.iter().for_each(|v| self.remember(v)),
            _ => {}
        }
    }

    fn get(&self, keys: &[&str], n: usize) -> Option<String> {
        let matching: Vec<&String> = (self.strings.iter())
            .filter(|(k, _)| keys.contains(&k.as_str()))
            .map(|(_, v)| v)
            .collect();
        (!matching.is_empty()).then(|| matching[n % matching.len()].clone())
    }
}

fn seen() -> &'static Mutex<Seen> {
    static SEEN: OnceLock<Mutex<Seen>> = OnceLock::new();
    SEEN.get_or_init(Mutex::default)
}

fn servers() -> &'static Servers {
    static SERVERS: OnceLock<Servers> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let root = scratch_dir();
        let open = start(root.join("open"), None);
        let secrets = [(ACCESS_KEY.to_owned(), SECRET.to_owned())].into();
        let auth = start(root.join("auth"), Some(secrets));
        for addr in [open, auth] {
            create_base_tables(addr);
        }
        Servers { open, auth }
    })
}

/// A fresh directory for this process's databases, under `/dev/shm` when there is one; the
/// directories of earlier fuzz processes that are gone are removed first (a fuzzer exits
/// without running destructors).
fn scratch_dir() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    let base = if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    };
    const PREFIX: &str = "tidestore-fuzz-wire-";
    if let Ok(entries) = std::fs::read_dir(&base) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name.strip_prefix(PREFIX) else {
                continue;
            };
            let alive = PathBuf::from("/proc").join(pid).exists();
            if !alive || pid == std::process::id().to_string() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    base.join(format!("{PREFIX}{}", std::process::id()))
}

fn start(dir: PathBuf, secrets: Option<std::collections::HashMap<String, String>>) -> SocketAddr {
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let mut config = Config::new(&dir);
    config.addr = SocketAddr::from(([127, 0, 0, 1], 0));
    config.durability = Durability::Buffered;
    config.secrets = secrets;
    config.region = REGION.into();
    config.account = ACCOUNT.into();
    // The sweeper at its slowest, so that an item read back right after its put is not
    // swept in between (the check skips items with the attributes Time to Live may name).
    config.ttl_sweep_pause = Duration::from_secs(60);
    let (tell, listening) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let served = serve_until(
            config,
            |addr| {
                let _ = tell.send(addr);
            },
            std::future::pending::<()>(),
        );
        panic!("the fuzzed server stopped: {served:?}");
    });
    listening
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("the server did not start listening: {e}"))
}

/// Creates the tables every request may reach (at start, and again after a `DeleteTable`):
/// `tab` with a string hash key `pk`, a number range key `sk`, an index on each and a
/// stream; `num` with a number hash key `pk` alone.
fn create_base_tables(addr: SocketAddr) {
    let tables = [
        json!({
            "TableName": "tab",
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "a", "AttributeType": "S"},
                {"AttributeName": "b", "AttributeType": "N"}
            ],
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"}
            ],
            "GlobalSecondaryIndexes": [{
                "IndexName": "byA",
                "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}
            }],
            "LocalSecondaryIndexes": [{
                "IndexName": "byB",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "b", "KeyType": "RANGE"}
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"}
            }],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        }),
        json!({
            "TableName": "num",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"
        }),
    ];
    for table in tables {
        let body = table.to_string().into_bytes();
        let request = Request::signed("CreateTable", body, addr);
        // ResourceInUseException when it is there already.
        let _ = request.send(addr);
    }
}

/// One request as the harness sends it.
struct Request {
    method: &'static str,
    path: &'static str,
    /// Header names and values; CR, LF and NUL are left out of the values when sent (they
    /// would end the header early, or be refused by hyper).
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
    /// Send the body in chunks of these sizes (`Transfer-Encoding: chunked`).
    chunks: Option<Vec<usize>>,
}

/// What the harness knows about a request it sends, for the checks.
#[derive(Default)]
struct Expect {
    /// A `Content-Encoding` other than identity was sent: a 500 for a body that is not its
    /// encoding is DynamoDB's answer.
    encoded: bool,
    /// Signed correctly for the `--auth` server.
    signed: bool,
    /// The operation, for the checks after it.
    operation: String,
    /// The JSON sent, when it was the operation's members.
    json: Option<Value>,
    /// A `POST /`: an API request, not the health check or a preflight.
    posted: bool,
}

/// An answer as read off the socket.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        (self.headers.iter())
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Request {
    /// A `POST /` of `body` to DynamoDB's `operation`, signed for the `--auth` server at
    /// `addr` (the other server takes any well-formed signature).
    fn signed(operation: &str, body: Vec<u8>, addr: SocketAddr) -> Request {
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
    fn sign(&mut self, signed: &[&str], date: &str, addr: SocketAddr) {
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
    fn send(self, addr: SocketAddr) -> Result<Option<Reply>, String> {
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
        let deadline = Instant::now() + ANSWER_TIMEOUT;
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
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "hang: no whole answer within {ANSWER_TIMEOUT:?} ({} bytes so far)",
                    answer.len()
                ));
            }
            let _ = stream.set_read_timeout(Some(left));
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
fn amz_date(offset_secs: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    crate::server::auth::format_amz_date((now + offset_secs).max(0) as u64)
}

fn now_amz_date() -> String {
    amz_date(0)
}

fn parse_reply(bytes: &[u8], head_only: bool) -> Option<Reply> {
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

/// Sends one request built from `bytes` to an in-process `tidestore serve` and checks the
/// answer (the module docs list the promises).
pub fn wire_request(bytes: &[u8]) {
    // Exports and imports are called in this process, without HTTP (`transfers.rs`).
    if let Some(rest) = bytes.strip_prefix(b"S3") {
        return super::transfers::transfers(rest);
    }
    let servers = servers();
    let (addr, request, expect) = match bytes.strip_prefix(b"R ") {
        Some(literal) => written(literal, servers),
        None => {
            let mut input = Input::new(bytes);
            let to_auth = input.chance(30);
            let addr = if to_auth { servers.auth } else { servers.open };
            let (request, expect) = build(&mut input, addr, to_auth);
            (addr, request, expect)
        }
    };
    let reply = match request.send(addr) {
        Ok(Some(reply)) => reply,
        Ok(None) => panic!(
            "no answer with a status line to {} (the connection closed)",
            expect.operation
        ),
        Err(why) => panic!("{why} ({})", expect.operation),
    };
    let json = check(&reply, &expect);
    if let Some(answer) = &json {
        if let Ok(mut seen) = seen().lock() {
            seen.remember(answer);
        }
    }
    if reply.status == 200 && expect.posted && json.is_some() {
        after(addr, &expect);
    }
}

/// The answer's promises; its JSON body, if it has one.
fn check(reply: &Reply, expect: &Expect) -> Option<Value> {
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
fn after(addr: SocketAddr, expect: &Expect) {
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
fn written(text: &[u8], servers: &Servers) -> (SocketAddr, Request, Expect) {
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

/// Builds the request and what the checks need to know of it.
fn build(input: &mut Input<'_>, addr: SocketAddr, to_auth: bool) -> (Request, Expect) {
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
fn target(input: &mut Input<'_>) -> (Option<Vec<u8>>, String, Api) {
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
enum Api {
    DynamoDb,
    Streams,
}

/// An `Authorization` of SigV4's shape with fuzzed parts, or none, or another scheme.
fn authorization(input: &mut Input<'_>, headers: &mut Vec<(&'static str, Vec<u8>)>) {
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

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

fn deflate(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

/// JSON nested deeper than any parser's recursion should go unguarded.
fn deep_json(input: &mut Input<'_>) -> Vec<u8> {
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

/// The request's members: mostly those of `operation` in its API model, with values of the
/// right shape, sometimes with a member left out, one of the wrong type, or one unknown.
fn members(input: &mut Input<'_>, operation: &str, api: Api) -> Value {
    let model = match api {
        Api::DynamoDb => OPERATIONS.iter().find(|o| o.name == operation),
        Api::Streams => STREAMS_OPERATIONS.iter().find(|o| o.name == operation),
    };
    let mut body = Map::new();
    let mut gen = Gen {
        input,
        names: BTreeSet::new(),
        values: BTreeSet::new(),
    };
    let table = gen.table();
    match model {
        None => {
            for _ in 0..gen.input.below(4) {
                let name = gen.input.text(12);
                body.insert(name, gen.any_json(2));
            }
        }
        Some(model) => {
            for &member in model.members {
                let required = model.required.contains(&member);
                let wanted = if required { 95 } else { 35 };
                if !gen.input.chance(wanted) {
                    continue;
                }
                let value = match model.enums.iter().find(|(m, _)| *m == member) {
                    Some((_, values)) if gen.input.chance(90) => json!(gen.input.pick(values)),
                    _ => gen.member(member, table),
                };
                body.insert(member.to_owned(), value);
            }
        }
    }
    // The maps of the placeholders the expressions used (sometimes one short or over).
    if !gen.names.is_empty() && gen.input.chance(95) {
        let names: Map<String, Value> = (gen.names.iter())
            .map(|n| (n.to_string(), json!(placeholder_name(n))))
            .collect();
        body.insert("ExpressionAttributeNames".into(), Value::Object(names));
    }
    if !gen.values.is_empty() && gen.input.chance(95) {
        let used: Vec<&str> = gen.values.iter().copied().collect();
        let mut values = Map::new();
        for v in used {
            let value = gen.value(2);
            values.insert(v.to_owned(), value);
        }
        body.insert("ExpressionAttributeValues".into(), Value::Object(values));
    }
    if gen.input.chance(6) {
        let name = gen.input.pick(&[
            "TableName",
            "Key",
            "Item",
            "Limit",
            "Unknown",
            "ExpressionAttributeValues",
        ]);
        let value = gen.any_json(3);
        body.insert(name.to_owned(), value);
    }
    Value::Object(body)
}

/// The attribute a `#name` placeholder stands for.
fn placeholder_name(placeholder: &str) -> &'static str {
    match placeholder {
        "#k" => "pk",
        "#s" => "sk",
        "#a" => "a",
        "#b" => "b",
        "#l" => "l",
        "#m" => "m",
        _ => "size",
    }
}

/// The generator of a body's values; it records the placeholders its expressions use.
struct Gen<'i, 'a> {
    input: &'i mut Input<'a>,
    names: BTreeSet<&'static str>,
    values: BTreeSet<&'static str>,
}

impl Gen<'_, '_> {
    fn table(&mut self) -> &'static str {
        match self.input.below(16) {
            0..=8 => "tab",
            9..=12 => "num",
            13 => "vvv",
            14 => "missing",
            _ => self.input.pick(&["", "t"]),
        }
    }

    fn created_name(&mut self) -> Value {
        if self.input.chance(95) {
            json!(self.input.pick(&CREATED_NAMES))
        } else {
            // Invalid names only: a valid fuzzed one would make a table per input.
            json!(format!("!{}", self.input.text(300)))
        }
    }

    /// The value of `member` of an operation, shaped as the model says.
    fn member(&mut self, member: &str, table: &'static str) -> Value {
        match member {
            "TableName" | "SourceTableName" => {
                if self.input.chance(95) {
                    json!(table)
                } else {
                    json!(self.input.text(260))
                }
            }
            "TargetTableName" => self.created_name(),
            "Key" | "ExclusiveStartKey" => self.key(table),
            "Item" => self.item(table),
            "ConditionExpression" | "FilterExpression" => json!(self.condition(3)),
            "KeyConditionExpression" => json!(self.key_condition()),
            "UpdateExpression" => json!(self.update()),
            "ProjectionExpression" => json!(self.projection()),
            "ExpressionAttributeNames" | "ExpressionAttributeValues" => Value::Null,
            "IndexName" => json!(self.input.pick(&["byA", "byB", "nope", ""])),
            "Limit" | "TopK" | "Segment" | "TotalSegments" | "RecoveryPeriodInDays" => {
                json!(self.input.pick(&[0i64, 1, 2, 3, 10, 100, 1000, -1, 1_000_001, i64::MAX]))
            }
            "ConsistentRead" | "ScanIndexForward" | "DeletionProtectionEnabled"
            | "UseLatestRestorableTime" => json!(self.input.chance(50)),
            "RequestItems" => self.request_items(table),
            "TransactItems" => self.transact_items(table),
            "Keys" => json!([self.key(table)]),
            "AttributesToGet" => json!(["pk", "a"]),
            "ClientRequestToken" | "ClientToken" => json!(self.input.text(40)),
            "BackupName" => json!(self.input.pick(&["b1", "b2", "", "x y"])),
            "BackupArn" | "ExclusiveStartBackupArn" => self.seen_or(&["BackupArn"], || {
                format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tab/backup/01700000000000-abcdef12")
            }),
            "StreamArn" | "ExclusiveStartStreamArn" => {
                self.seen_or(&["LatestStreamArn", "StreamArn"], || {
                    format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tab/stream/2026-01-01T00:00:00.000")
                })
            }
            "ShardId" | "ExclusiveStartShardId" => {
                self.seen_or(&["ShardId"], || "shardId-00000001700000000000-abcdef12".into())
            }
            "ShardIterator" => self.seen_or(&["NextShardIterator", "ShardIterator"], || "x".into()),
            "SequenceNumber" => self.seen_or(&["SequenceNumber", "StartingSequenceNumber"], || {
                "000000000000000000001".into()
            }),
            "ResourceArn" => {
                if self.input.chance(80) {
                    json!(format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"))
                } else {
                    json!(self.input.text(80))
                }
            }
            "Tags" => {
                let tags: Vec<Value> = (0..self.input.below(4))
                    .map(|_| json!({"Key": self.input.pick(&["k", "aws:x", "", "v"]), "Value": self.input.text(8)}))
                    .collect();
                json!(tags)
            }
            "TagKeys" => json!([self.input.pick(&["k", "v", ""])]),
            "KeySchema" => self.key_schema(),
            "AttributeDefinitions" => {
                let defs: Vec<Value> = (0..1 + self.input.below(3))
                    .map(|_| {
                        json!({
                            "AttributeName": self.input.pick(&["pk", "sk", "a", "b"]),
                            "AttributeType": self.input.pick(&["S", "N", "B", "BOOL"]),
                        })
                    })
                    .collect();
                json!(defs)
            }
            "ProvisionedThroughput" => {
                json!({"ReadCapacityUnits": self.input.pick(&[0, 1, 5]), "WriteCapacityUnits": self.input.pick(&[0, 1, 5])})
            }
            "GlobalSecondaryIndexes" | "LocalSecondaryIndexes" => {
                let key = self.key_schema();
                json!([{
                    "IndexName": self.input.pick(&["i1", "byA", "x"]),
                    "KeySchema": key,
                    "Projection": {"ProjectionType": self.input.pick(&["ALL", "KEYS_ONLY", "INCLUDE"]), "NonKeyAttributes": ["c"]},
                }])
            }
            "GlobalSecondaryIndexUpdates" => {
                let key = self.key_schema();
                let update = match self.input.below(3) {
                    0 => json!({"Create": {"IndexName": "i2", "KeySchema": key, "Projection": {"ProjectionType": "ALL"}}}),
                    1 => json!({"Delete": {"IndexName": self.input.pick(&["byA", "i2"])}}),
                    _ => json!({"Update": {"IndexName": "byA", "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}}),
                };
                json!([update])
            }
            "StreamSpecification" => json!({
                "StreamEnabled": self.input.chance(60),
                "StreamViewType": self.input.pick(&["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY", "Fisk"]),
            }),
            "SSESpecification" => json!({"Enabled": self.input.chance(50)}),
            "TimeToLiveSpecification" => json!({
                "Enabled": self.input.chance(50),
                "AttributeName": self.input.pick(&["ttl", "expires", "ttlx", ""]),
            }),
            "PointInTimeRecoverySpecification" => json!({
                "PointInTimeRecoveryEnabled": self.input.chance(60),
                "RecoveryPeriodInDays": self.input.pick(&[1, 35, 36, 0]),
            }),
            "RestoreDateTime" | "TimeRangeLowerBound" | "TimeRangeUpperBound" => {
                json!(self.input.pick(&[0.0, 1.7e9, 1.9e9, -1.0, 1e300]))
            }
            "ShardIteratorType" => json!(self.input.pick(&["TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"])),
            "Select" => json!(self.input.pick(&["ALL_ATTRIBUTES", "COUNT", "SPECIFIC_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"])),
            "ExclusiveStartTableName" => json!(self.input.pick(&["t", "a", ""])),
            _ => self.any_json(2),
        }
    }

    fn seen_or(&mut self, keys: &[&str], default: impl FnOnce() -> String) -> Value {
        let n = self.input.below(64);
        let remembered = match self.input.below(10) {
            0..=6 => seen().lock().ok().and_then(|s| s.get(keys, n)),
            _ => None,
        };
        match remembered {
            Some(s) if self.input.chance(95) => json!(s),
            Some(s) => {
                // A remembered one, changed.
                let mut s = s.into_bytes();
                if !s.is_empty() {
                    let at = self.input.below(s.len());
                    s[at] = self.input.byte();
                }
                json!(String::from_utf8_lossy(&s))
            }
            None if self.input.chance(80) => json!(default()),
            None => json!(self.input.text(80)),
        }
    }

    fn key_schema(&mut self) -> Value {
        let mut schema =
            vec![json!({"AttributeName": self.input.pick(&["pk", "a"]), "KeyType": "HASH"})];
        if self.input.chance(50) {
            schema.push(json!({"AttributeName": self.input.pick(&["sk", "b", "pk"]), "KeyType": self.input.pick(&["RANGE", "HASH"])}));
        }
        json!(schema)
    }

    fn request_items(&mut self, table: &'static str) -> Value {
        let mut items = Map::new();
        for _ in 0..1 + self.input.below(2) {
            let name = self.table();
            let entry = if self.input.chance(50) {
                // BatchWriteItem's shape.
                let writes: Vec<Value> = (0..1 + self.input.below(4))
                    .map(|_| match self.input.chance(60) {
                        true => json!({"PutRequest": {"Item": self.item(name)}}),
                        false => json!({"DeleteRequest": {"Key": self.key(name)}}),
                    })
                    .collect();
                json!(writes)
            } else {
                let keys: Vec<Value> = (0..1 + self.input.below(4))
                    .map(|_| self.key(name))
                    .collect();
                let mut get = json!({"Keys": keys});
                if self.input.chance(30) {
                    get["ProjectionExpression"] = json!(self.projection());
                }
                if self.input.chance(20) {
                    get["ConsistentRead"] = json!(true);
                }
                get
            };
            items.insert(name.to_owned(), entry);
        }
        let _ = table;
        Value::Object(items)
    }

    fn transact_items(&mut self, table: &'static str) -> Value {
        let actions: Vec<Value> = (0..1 + self.input.below(4))
            .map(|_| {
                let t = if self.input.chance(70) { table } else { self.table() };
                match self.input.below(5) {
                    0 => json!({"Put": {"TableName": t, "Item": self.item(t)}}),
                    1 => json!({"Update": {"TableName": t, "Key": self.key(t), "UpdateExpression": self.update()}}),
                    2 => json!({"Delete": {"TableName": t, "Key": self.key(t)}}),
                    3 => json!({"ConditionCheck": {"TableName": t, "Key": self.key(t), "ConditionExpression": self.condition(2)}}),
                    _ => json!({"Get": {"TableName": t, "Key": self.key(t)}}),
                }
            })
            .collect();
        json!(actions)
    }

    /// A key of `table`: mostly right, sometimes of the wrong type or shape.
    fn key(&mut self, table: &str) -> Value {
        let mut key = Map::new();
        match table {
            "num" => {
                key.insert("pk".into(), json!({"N": self.number()}));
            }
            _ => {
                key.insert("pk".into(), json!({"S": self.short_text()}));
                if self.input.chance(92) {
                    key.insert("sk".into(), json!({"N": self.number()}));
                }
            }
        }
        if self.input.chance(6) {
            let name = self.attribute_name();
            let value = self.value(1);
            key.insert(name, value);
        }
        Value::Object(key)
    }

    fn item(&mut self, table: &str) -> Value {
        let Value::Object(mut item) = self.key(table) else {
            unreachable!("a key is an object")
        };
        for _ in 0..self.input.below(6) {
            let name = self.attribute_name();
            let value = match name.as_str() {
                "a" if self.input.chance(80) => json!({"S": self.short_text()}),
                "b" if self.input.chance(80) => json!({"N": self.number()}),
                _ => self.value(3),
            };
            item.insert(name, value);
        }
        Value::Object(item)
    }

    fn attribute_name(&mut self) -> String {
        match self.input.below(16) {
            0 => self.input.text(20),
            1 => "ttl".into(),
            n => [
                "a", "b", "c", "l", "m", "n", "s", "pk", "sk", "ss", "x.y", "#a", "size", "",
            ][usize::from(n as u8 - 2)]
            .into(),
        }
    }

    fn short_text(&mut self) -> String {
        match self.input.below(8) {
            0 => String::new(),
            1 => self.input.text(40),
            2 => "x".repeat(self.input.below(3000)),
            n => ["k1", "k2", "k3", "k4", "é"][usize::from(n as u8 - 3)].into(),
        }
    }

    /// A number as DynamoDB JSON writes it: mostly small, sometimes at or past the edges.
    fn number(&mut self) -> String {
        match self.input.below(24) {
            0 => "1e125".into(),
            1 => "9.9999999999999999999999999999999999999E+125".into(),
            2 => "1E-130".into(),
            3 => "1e126".into(),
            4 => "123456789012345678901234567890123456789".into(),
            5 => "-0".into(),
            6 => "0.000000000000000000000000000000000000000000001".into(),
            7 => "1e999999999999999999".into(),
            8 => input_digits(self.input),
            9 => self
                .input
                .pick(&[
                    "NaN", "Infinity", " 1", "+1", "0x10", "", "1.", ".5", "1e", "--1",
                ])
                .into(),
            10 => format!(
                "{}e{}",
                self.input.below(1000),
                self.input.below(300) as i64 - 150
            ),
            n => (n as i64 - 16).to_string(),
        }
    }

    /// An attribute value of any type, nested at most `depth` more levels; sometimes
    /// malformed.
    fn value(&mut self, depth: usize) -> Value {
        let kind = self.input.below(if depth == 0 { 10 } else { 13 });
        match kind {
            0 | 1 => json!({"S": self.short_text()}),
            2 | 3 => json!({"N": self.number()}),
            4 => {
                let raw = self.input.bytes(24);
                if self.input.chance(90) {
                    json!({"B": base64::engine::general_purpose::STANDARD.encode(raw)})
                } else {
                    json!({"B": String::from_utf8_lossy(&raw)})
                }
            }
            5 => json!({"BOOL": self.input.chance(50)}),
            6 => json!({"NULL": self.input.chance(90)}),
            7 => {
                let set: Vec<String> = (0..self.input.below(4))
                    .map(|_| self.short_text())
                    .collect();
                json!({"SS": set})
            }
            8 => {
                let set: Vec<String> = (0..self.input.below(4)).map(|_| self.number()).collect();
                json!({"NS": set})
            }
            9 => match self.input.below(6) {
                0 => json!({}),
                1 => json!({"S": 5}),
                2 => json!({"S": "a", "N": "1"}),
                3 => json!({"X": "y"}),
                4 => json!({"BS": ["!!", "AA=="]}),
                _ => self.any_json(1),
            },
            10 | 11 => {
                let list: Vec<Value> = (0..self.input.below(4))
                    .map(|_| self.value(depth - 1))
                    .collect();
                json!({"L": list})
            }
            _ => {
                let mut map = Map::new();
                for _ in 0..self.input.below(4) {
                    let name = self.attribute_name();
                    let value = self.value(depth - 1);
                    map.insert(name, value);
                }
                json!({"M": map})
            }
        }
    }

    /// Any JSON value.
    fn any_json(&mut self, depth: usize) -> Value {
        match self.input.below(if depth == 0 { 6 } else { 8 }) {
            0 => Value::Null,
            1 => json!(self.input.chance(50)),
            2 => {
                let n: f64 = self
                    .input
                    .pick(&[0.0, -1.0, 1.5, 1e300, -0.0, 4294967296.0]);
                json!(n)
            }
            3 => serde_json::from_str(&input_digits(self.input)).unwrap_or(Value::Null),
            4 => json!(self.input.text(32)),
            5 => json!(self.input.pick(&[0i64, 1, -1, i64::MAX, i64::MIN])),
            6 => {
                let list: Vec<Value> = (0..self.input.below(4))
                    .map(|_| self.any_json(depth - 1))
                    .collect();
                json!(list)
            }
            _ => {
                let mut map = Map::new();
                for _ in 0..self.input.below(4) {
                    let name = self.input.text(8);
                    let value = self.any_json(depth - 1);
                    map.insert(name, value);
                }
                Value::Object(map)
            }
        }
    }

    /// A document path: a name or `#name`, with `.name` and `[n]` after it.
    fn path(&mut self) -> String {
        let mut path = self.path_name();
        for _ in 0..self.input.below(3) {
            if self.input.chance(50) {
                path.push('.');
                path.push_str(&self.path_name());
            } else {
                path.push_str(&format!("[{}]", self.input.pick(&[0, 1, 5, 100_000])));
            }
        }
        path
    }

    fn path_name(&mut self) -> String {
        if self.input.chance(40) {
            let name = self.input.pick(&["#k", "#s", "#a", "#b", "#l", "#m", "#z"]);
            self.names.insert(name);
            name.to_owned()
        } else {
            self.input
                .pick(&["pk", "sk", "a", "b", "c", "l", "m", "n", "size", "ttl", "x"])
                .to_owned()
        }
    }

    fn operand_value(&mut self) -> String {
        let value = self.input.pick(&[":v", ":w", ":x", ":y", ":z"]);
        self.values.insert(value);
        value.to_owned()
    }

    fn operand(&mut self) -> String {
        match self.input.below(4) {
            0 => self.operand_value(),
            1 => format!("size({})", self.path()),
            _ => self.path(),
        }
    }

    fn condition(&mut self, depth: usize) -> String {
        let choice = self.input.below(if depth == 0 { 9 } else { 13 });
        let text = match choice {
            0 => format!("attribute_exists({})", self.path()),
            1 => format!("attribute_not_exists({})", self.path()),
            2 => format!("begins_with({}, {})", self.path(), self.operand_value()),
            3 => format!("contains({}, {})", self.path(), self.operand()),
            4 => format!("attribute_type({}, {})", self.path(), self.operand_value()),
            5 => format!(
                "{} BETWEEN {} AND {}",
                self.operand(),
                self.operand(),
                self.operand()
            ),
            6 => {
                let list: Vec<String> = (0..1 + self.input.below(3))
                    .map(|_| self.operand())
                    .collect();
                format!("{} IN ({})", self.operand(), list.join(", "))
            }
            7 | 8 => {
                let op = self.input.pick(&["=", "<>", "<", "<=", ">", ">="]);
                format!("{} {op} {}", self.operand(), self.operand())
            }
            9 => format!("NOT {}", self.condition(depth - 1)),
            10 => format!("({})", self.condition(depth - 1)),
            _ => {
                let joiner = self.input.pick(&["AND", "OR", "and"]);
                format!(
                    "{} {joiner} {}",
                    self.condition(depth - 1),
                    self.condition(depth - 1)
                )
            }
        };
        self.garble(text)
    }

    fn key_condition(&mut self) -> String {
        let hash = self.input.pick(&["pk", "#k", "a"]);
        if hash.starts_with('#') {
            self.names.insert("#k");
        }
        let v = self.operand_value();
        let mut text = format!("{hash} = {v}");
        if self.input.chance(60) {
            let range = self.input.pick(&["sk", "#s", "b"]);
            if range.starts_with('#') {
                self.names.insert("#s");
            }
            let w = self.operand_value();
            let clause = match self.input.below(4) {
                0 => format!("begins_with({range}, {w})"),
                1 => format!("{range} BETWEEN {w} AND {}", self.operand_value()),
                _ => format!(
                    "{range} {} {w}",
                    self.input.pick(&["=", "<", "<=", ">", ">="])
                ),
            };
            text = format!("{text} AND {clause}");
        }
        self.garble(text)
    }

    fn update(&mut self) -> String {
        let mut clauses = Vec::new();
        for _ in 0..1 + self.input.below(3) {
            let clause = match self.input.below(4) {
                0 => {
                    let value = match self.input.below(4) {
                        0 => format!("{} + {}", self.operand(), self.operand()),
                        1 => format!("if_not_exists({}, {})", self.path(), self.operand_value()),
                        2 => format!("list_append({}, {})", self.operand(), self.operand()),
                        _ => self.operand(),
                    };
                    format!("SET {} = {value}", self.path())
                }
                1 => format!("REMOVE {}", self.path()),
                2 => format!("ADD {} {}", self.path(), self.operand_value()),
                _ => format!("DELETE {} {}", self.path(), self.operand_value()),
            };
            clauses.push(clause);
        }
        let text = clauses.join(" ");
        self.garble(text)
    }

    fn projection(&mut self) -> String {
        let paths: Vec<String> = (0..1 + self.input.below(3)).map(|_| self.path()).collect();
        let text = paths.join(", ");
        self.garble(text)
    }

    /// Sometimes damages an expression: cut, or some fuzzed text put in.
    fn garble(&mut self, mut text: String) -> String {
        match self.input.below(20) {
            0 => {
                let at = self.input.below(text.len() + 1);
                let at = (0..=at)
                    .rev()
                    .find(|&i| text.is_char_boundary(i))
                    .unwrap_or(0);
                text.truncate(at);
                text
            }
            1 => {
                let extra = self.input.text(16);
                let at = self.input.below(text.len() + 1);
                let at = (0..=at)
                    .rev()
                    .find(|&i| text.is_char_boundary(i))
                    .unwrap_or(0);
                text.insert_str(at, &extra);
                text
            }
            2 => "(".repeat(self.input.below(5000)) + &text,
            _ => text,
        }
    }
}

/// Digits (and signs, points and exponents) from the input.
fn input_digits(input: &mut Input<'_>) -> String {
    let raw = input.bytes(60);
    raw.iter()
        .map(|b| b"0123456789.-+eE"[usize::from(*b) % 15] as char)
        .collect()
}
