//! The HTTP side of `tidestore serve`: connections, bodies and headers, in the order DynamoDB
//! checks a request.
//!
//! ```text
//! accept ─► HTTP/1.1 keep-alive connection (header-read timeout)
//!   GET /            ─► 200 "healthy: <the Host addressed> "
//!   OPTIONS / + Origin ─► 200, empty: a browser's CORS preflight
//!   POST /           ─► body ≤ 16 MiB (413)
//!                    ─► a permit of the concurrency cap, held until the answer is encoded
//!                    ─► (above 64 KiB or compressed: from here on off the async thread)
//!                    ─► gzip/deflate decoded
//!                    ─► Content-Type (404 <UnknownOperationException/>)  ┐ a body that
//!                    ─► JSON (SerializationException)                    ┘ is not empty
//!                    ─► X-Amz-Target: DynamoDB_20120810.<Op> or
//!                       DynamoDBStreams_20120810.<Op> (UnknownOperationException)
//!                    ─► Authorization (SigV4)
//!                    ─► an empty body (SerializationException)
//!                    ─► the engine: single reads from memory on the async thread, and a
//!                       single-item write when its connection is the only one open;
//!                       the rest in block_in_place
//!   every answer     ─► gzip or deflate when asked for and above 4 KiB (JSON answers;
//!                       above 64 KiB off the async thread), x-amzn-RequestId,
//!                       x-amz-crc32 of the body as sent, and CORS headers when the
//!                       request has an Origin
//! ```

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{
    HeaderMap, HeaderValue, ACCEPT_ENCODING, ACCESS_CONTROL_ALLOW_HEADERS,
    ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS,
    ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD,
    CONTENT_ENCODING, CONTENT_TYPE, ORIGIN, SERVER,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, SemaphorePermit};

use super::auth;
use super::operations;
use super::protocol::{self, Api, WireError};
use super::streams;
use super::{Call, ServerState};

/// The largest request body DynamoDB takes; above it, 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The size above which a JSON answer is compressed (gzip or deflate, whichever the client
/// prefers) for a client that accepts it: DynamoDB compresses answers above about 4 KB and
/// leaves smaller ones as they are.
pub const GZIP_ABOVE_BYTES: usize = 4096;

/// The size above which a request's body is decoded and checked, and an answer compressed,
/// off the async thread (in `block_in_place`, which costs a thread wake-up), so that the
/// connections sharing the thread are not held up behind it. Measured here on 16 MB of
/// items' JSON: parsing it takes about 90 ms, serialising 40 ms, gzip's fastest level 65 ms.
const OFF_THREAD_ABOVE_BYTES: usize = 64 * 1024;

/// What one request's handling needs, shared by every connection.
pub(super) struct Shared {
    pub state: Arc<ServerState>,
    pub permits: Semaphore,
    /// The connections open, each counted by an [`OpenConnection`]: a single-item write
    /// runs on the async thread when its connection is the only one ([`runs_inline`]).
    pub connections: AtomicUsize,
}

/// One connection counted in [`Shared::connections`] for as long as this lives.
struct OpenConnection(Arc<Shared>);

impl OpenConnection {
    /// Counts a connection just accepted, until the value returned is dropped (when the
    /// connection's task ends, however it ends).
    fn count(shared: &Arc<Shared>) -> OpenConnection {
        shared.connections.fetch_add(1, Ordering::SeqCst);
        OpenConnection(Arc::clone(shared))
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves the connection `stream` just accepted from `peer` on a task of its own: HTTP/1.1
/// keep-alive, `header_read_timeout` for each request's headers, every request answered by
/// [`handle`], and `graceful` watching it so that a stop drains it. The connection is
/// counted in [`Shared::connections`] from this call until its task ends, however it ends
/// (the client closing, a reset in the middle of a request, the header-read timeout): a
/// count left behind would keep [`runs_inline`] off for good, and a missing one would run a
/// write inline beside another connection's requests.
pub(super) fn serve_connection(
    shared: &Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    header_read_timeout: Duration,
    graceful: &GracefulShutdown,
) {
    let _ = stream.set_nodelay(true);
    let local = stream.local_addr().ok();
    let open = OpenConnection::count(shared);
    let shared = Arc::clone(shared);
    let service = service_fn(move |request| handle(Arc::clone(&shared), peer, local, request));
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    let connection = graceful.watch(connection);
    tokio::spawn(async move {
        let _open = open;
        if let Err(e) = connection.await {
            tracing::debug!(%peer, error = %e, "connection ended");
        }
    });
}

/// Answers one HTTP request. Never fails: every problem is an HTTP answer.
pub(super) async fn handle(
    shared: Arc<Shared>,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .to_ascii_uppercase();
    let (parts, body) = request.into_parts();
    let cross_origin = parts.headers.get(ORIGIN).is_some_and(|o| !o.is_empty());
    // A request's permit of the concurrency cap is held until its answer is encoded, so
    // that the cap bounds the threads compressing answers too.
    let mut _permit = None;
    let (operation, answer) = match (&parts.method, parts.uri.path()) {
        (&Method::GET, "/") => {
            // DynamoDB names the host it was addressed as (wire.md); the trailing space is
            // DynamoDB Local's, kept for health checks written against it.
            let host = host_addressed(&parts.headers, local, &shared.state.region);
            let text = format!("healthy: {host} ");
            (None, Answer::text(StatusCode::OK, text))
        }
        (&Method::POST, "/") => {
            let target = header(&parts.headers, "x-amz-target");
            let named = protocol::operation(target.as_deref());
            let (answer, permit) = api_request(&shared, &parts.headers, named, local, body).await;
            _permit = permit;
            (named.map(|(_, op)| op.to_owned()), answer)
        }
        (&Method::OPTIONS, "/") if cross_origin => {
            (None, Answer::text(StatusCode::OK, String::new()))
        }
        _ => (None, Answer::text(StatusCode::NOT_FOUND, String::new())),
    };
    let status = answer.status;
    let coding = response_coding(&parts.headers);
    let compress_off_thread = coding.is_some() && answer.body.len() > OFF_THREAD_ABOVE_BYTES;
    let respond = || answer.into_response(&request_id, response_type(&parts.headers), coding);
    let mut response = match compress_off_thread {
        true => tokio::task::block_in_place(respond),
        false => respond(),
    };
    if cross_origin {
        let preflight = parts.method == Method::OPTIONS && parts.uri.path() == "/";
        add_cors_headers(&parts.headers, response.headers_mut(), preflight);
    }
    tracing::info!(
        %peer,
        operation = operation.as_deref().unwrap_or("-"),
        status = status.as_u16(),
        micros = started.elapsed().as_micros() as u64,
        request_id,
        "request"
    );
    Ok(response)
}

/// A `POST /`: DynamoDB's checks in DynamoDB's order, then the operation.
async fn api_request<'s>(
    shared: &'s Shared,
    headers: &HeaderMap,
    operation: Option<(Api, &str)>,
    local: Option<SocketAddr>,
    body: Incoming,
) -> (Answer, Option<SemaphorePermit<'s>>) {
    let raw = match read_body(body).await {
        Ok(raw) => raw,
        Err(answer) => return (answer, None),
    };
    // The permit is taken once the body is in (a client slow to send it holds none) and
    // before the body is checked, so that the cap bounds the threads doing that as well.
    let Ok(permit) = shared.permits.acquire().await else {
        // Defensive: the semaphore is never closed (a stop drains through hyper's graceful
        // shutdown), so this answer is for a future that closes it.
        let error = WireError::from(crate::Error::Io {
            context: "the server is shutting down".into(),
            source: std::io::Error::other("shutting down"),
        });
        return (Answer::error(error), None);
    };
    // Decoding, parsing and checking the signature of a large body takes tens of
    // milliseconds (16 MB of JSON parses in about 90 ms here): off the async thread. So
    // does a compressed one, which may decode to 16 MB.
    let large = raw.len() > OFF_THREAD_ABOVE_BYTES || content_coding(headers).is_some();
    let check = || checked_request(shared, headers, operation, raw);
    let checked = match large {
        true => tokio::task::block_in_place(check),
        false => check(),
    };
    let (api, operation, json) = match checked {
        Ok(checked) => checked,
        Err(answer) => return (answer, Some(permit)),
    };
    let state = Arc::clone(&shared.state);
    let connections = shared.connections.load(Ordering::SeqCst);
    let inline = runs_inline(api, operation, large, connections);
    let operation = operation.to_owned();
    // The answer is turned into bytes where the operation ran, so that a large one (a
    // BatchGetItem's 16 MB) is not serialised on the async thread after a write.
    let run = move || {
        let call = Call {
            state: &state,
            headers,
            local,
        };
        let result = match api {
            Api::DynamoDb => operations::call(&call, &operation, json),
            Api::Streams => streams::call(&call, &operation, json),
        };
        match result {
            Ok(body) => Answer::json(StatusCode::OK, body),
            Err(e) => Answer::error(e),
        }
    };
    let catching = |run| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).map_err(|panic| {
            let why = (panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            format!("panicked: {why}")
        })
    };
    let result = if inline {
        catching(run)
    } else {
        // The request runs on this thread while tokio hands the thread's other tasks to
        // another: no wake-up of a pool thread before the request and of this one after
        // it, which spawn_blocking costs (a durable PutItem over one connection, p50: 252
        // -> 243 us on this machine class).
        tokio::task::block_in_place(|| catching(run))
    };
    let answer = match result {
        Ok(answer) => answer,
        Err(why) => Answer::error(WireError::from(crate::Error::Io {
            context: "the request's handler stopped".into(),
            source: std::io::Error::other(why),
        })),
    };
    (answer, Some(permit))
}

/// Whether operation `operation` of `api` runs on the async thread that read its request,
/// rather than in `block_in_place`, with `connections` open (its own included); `large`: a
/// body above [`OFF_THREAD_ABOVE_BYTES`] or compressed.
///
/// A read answered from memory takes microseconds and runs here, as any async work does:
/// handing it off (spawn_blocking or block_in_place) costs thread wake-ups worth more than
/// the read (GetItem over one connection, p50: 99-105 us handed to the pool, 59-61 us in
/// block_in_place, 47 us here). The exception to the rule that engine calls run off the
/// async threads: a read waits only on the tables' map and its table's data lock, which
/// their writers hold for microseconds (an UpdateTable's index backfill reads under a read
/// lock, `Live::update_table`, and no file is read under the map's lock,
/// `drop_unneeded_log`). Everything that can wait on the disk (a durable write's log sync,
/// a backup, a restore) or answers megabytes (the batch and transaction reads, any request
/// with a large body) runs in `block_in_place`, so that the other connections are not held
/// up behind it.
///
/// With one exception: a single-item write on the only connection open runs here too. No
/// other connection can be held up then, and `block_in_place` costs this request a
/// wake-up of a pool thread to take over the worker, and the next request a hand-back:
/// over one connection, timed inside the server (everything but the operation's call,
/// p50 over 1,400 puts, twelve runs of each alternating): 82-96 us in `block_in_place`,
/// 65-74 us here in eight runs of twelve. Why not whenever no other request is in flight:
/// while a task runs on a worker, tokio polls the sockets only once a worker parks, and
/// the other worker may be asleep on its condition variable, not in the poll; so a request
/// arriving on another connection meanwhile waits for the write's log sync (measured, a
/// GetItem every millisecond beside a connection of back-to-back puts: p50 241-285 us
/// against 123-177 us with the puts in `block_in_place`). With one connection open only a
/// new connection's accept can wait, for one log sync at most.
fn runs_inline(api: Api, operation: &str, large: bool, connections: usize) -> bool {
    !large
        && api == Api::DynamoDb
        && (operations::answers_from_memory(operation)
            || (connections == 1 && operations::writes_one_item(operation)))
}

/// The body as sent, at most [`MAX_BODY_BYTES`].
async fn read_body(body: Incoming) -> Result<Bytes, Answer> {
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(too_large())
        }
        Err(_) => Err(Answer::text(StatusCode::BAD_REQUEST, String::new())),
    }
}

fn too_large() -> Answer {
    Answer::text(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Request Entity Too Large".into(),
    )
}

/// The checks of a request's body, in DynamoDB's order: its encoding, its content type,
/// its JSON, the operation, the signature. The operation and its input, or the answer.
fn checked_request<'a>(
    shared: &Shared,
    headers: &HeaderMap,
    operation: Option<(Api, &'a str)>,
    raw: Bytes,
) -> Result<(Api, &'a str, Value), Answer> {
    // The signature covers the body as sent (SigV4's payload hash), compressed or not.
    let bytes = decoded_body(headers, raw.clone())?;
    // An empty body is judged only once the target and the signature are: DynamoDB checks
    // the content type of a request "with a body" (wire.md) and answers an empty one
    // SerializationException after authentication, not before (dynalite, which reproduces
    // DynamoDB's order; Alternator's test_no_authorization_header, test_expired_signature and
    // test_signature_too_futuristic, which send no body and pass on DynamoDB).
    let json = if bytes.is_empty() {
        None
    } else {
        if !protocol::accepted_content_type(header(headers, "content-type").as_deref()) {
            // What DynamoDB answers to a body it cannot read as its protocol.
            let text = "<UnknownOperationException/>\n".to_owned();
            return Err(Answer::text(StatusCode::NOT_FOUND, text));
        }
        let Ok(json) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(Answer::error(WireError::serialization()));
        };
        Some(json)
    };
    let Some((api, operation)) = operation.filter(|(api, op)| match api {
        Api::DynamoDb => operations::is_dynamodb_operation(op),
        Api::Streams => streams::is_streams_operation(op),
    }) else {
        return Err(Answer::error(WireError::unknown_operation()));
    };
    auth::check(&shared.state, headers, &raw).map_err(Answer::error)?;
    let Some(json) = json else {
        return Err(Answer::error(WireError::serialization()));
    };
    Ok((api, operation, json))
}

/// The request body's `Content-Encoding`, lower case, or `None` when it is not encoded
/// (no header, an empty one, `identity`). A value that is not text is an encoding not
/// known, not the absence of one.
fn content_coding(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_ENCODING)?;
    let coding = value
        .to_str()
        .map_or("?".into(), |v| v.trim().to_ascii_lowercase());
    (!coding.is_empty() && coding != "identity").then_some(coding)
}

/// The body decoded as its `Content-Encoding` says, at most [`MAX_BODY_BYTES`] once decoded.
fn decoded_body(headers: &HeaderMap, raw: Bytes) -> Result<Bytes, Answer> {
    let decoded = match content_coding(headers).as_deref() {
        None => return Ok(raw),
        // Gzip allows several members one after another; the body is all of them.
        Some("gzip") => read_limited(flate2::read::MultiGzDecoder::new(&raw[..])),
        Some("deflate") => read_limited(flate2::read::ZlibDecoder::new(&raw[..])),
        Some(_) => {
            // DynamoDB answers an encoding it does not know with a 500.
            let error = crate::Error::Io {
                context: "reading the request body".into(),
                source: std::io::Error::other("unsupported Content-Encoding"),
            };
            return Err(Answer::error(WireError::from(error)));
        }
    };
    match decoded {
        Ok(Some(bytes)) => Ok(Bytes::from(bytes)),
        Ok(None) => Err(too_large()),
        // DynamoDB answers a body that is not the encoding it claims (empty, cut short,
        // corrupt) with a 500 InternalServerError, as it does an unknown encoding.
        Err(e) => Err(Answer::error(WireError::from(crate::Error::Io {
            context: "decoding the request body".into(),
            source: e,
        }))),
    }
}

/// Decompresses at most [`MAX_BODY_BYTES`]; `None` past that, so a small bomb cannot blow up.
fn read_limited(reader: impl Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    reader
        .take(MAX_BODY_BYTES as u64 + 1)
        .read_to_end(&mut out)?;
    Ok((out.len() <= MAX_BODY_BYTES).then_some(out))
}

/// The host DynamoDB names in `GET /` and `DescribeEndpoints`: the one the client addressed
/// (its `Host` header), else the address the connection came in on, so that a client is
/// never sent elsewhere (only without either, the region's endpoint).
pub(super) fn host_addressed(
    headers: &HeaderMap,
    local: Option<SocketAddr>,
    region: &str,
) -> String {
    let named = header(headers, "host");
    match named.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
        Some(host) => host.to_owned(),
        None => match local {
            Some(local) => local.to_string(),
            None => format!("dynamodb.{region}.amazonaws.com"),
        },
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

/// A compression of an answer's body that DynamoDB offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coding {
    /// `Content-Encoding: gzip` (RFC 1952).
    Gzip,
    /// `Content-Encoding: deflate`: zlib's format (RFC 1950), as HTTP means it.
    Deflate,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
        }
    }

    /// `body` compressed, or `None` if compressing failed (the answer then goes out plain).
    fn compress(self, body: &[u8]) -> Option<Vec<u8>> {
        let level = flate2::Compression::fast();
        match self {
            Coding::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
                encoder.write_all(body).ok()?;
                encoder.finish().ok()
            }
            Coding::Deflate => {
                let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), level);
                encoder.write_all(body).ok()?;
                encoder.finish().ok()
            }
        }
    }
}

/// The coding the request's `Accept-Encoding` prefers among gzip and deflate, or `None` for
/// a plain answer, read as DynamoDB reads it (Alternator's
/// `test_compressed_response_accept_encodings`, which passes on DynamoDB):
///
/// - only the last `Accept-Encoding` header counts; its entries are split at commas, and a
///   name is `gzip`, `deflate` or `*`, in any case, exactly (`x-gzip`, `"gzip"` or `gzip br`
///   name nothing DynamoDB compresses with);
/// - an entry's weight is its first `q` parameter, at most 1; a weight that is not a number
///   counts as 1, and one at or below 0 refuses the coding; a coding named more than once
///   takes its highest weight;
/// - `*` gives its weight to a coding not named;
/// - the higher weight wins; at equal weights a named coding beats one left to `*`, the one
///   named first beats the other, and gzip beats deflate when both come from `*`.
fn response_coding(headers: &HeaderMap) -> Option<Coding> {
    let accepted = headers.get_all(ACCEPT_ENCODING).iter().next_back()?;
    let accepted = accepted.to_str().ok()?;
    // (weight, position) of each named coding and the star's weight.
    let (mut gzip, mut deflate, mut star) = (None::<(f32, usize)>, None::<(f32, usize)>, None);
    for (position, entry) in accepted.split(',').enumerate() {
        let mut parts = entry.split(';');
        let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let weight = parts
            .filter_map(|p| p.split_once('='))
            .find(|(key, _)| key.trim().eq_ignore_ascii_case("q"))
            .map_or(1.0, |(_, q)| {
                q.trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| !q.is_nan())
                    .map_or(1.0, |q| q.min(1.0))
            });
        let slot = match name.as_str() {
            "gzip" => &mut gzip,
            "deflate" => &mut deflate,
            "*" => {
                star = Some(star.map_or(weight, |s: f32| s.max(weight)));
                continue;
            }
            _ => continue,
        };
        if slot.is_none_or(|(best, _)| weight > best) {
            *slot = Some((weight, position));
        }
    }
    // Each coding's weight and rank at equal weights (lower first): named ones by position,
    // after them those left to the star, gzip before deflate.
    let candidate = |named: Option<(f32, usize)>, star_rank: usize| {
        named.or_else(|| star.map(|weight| (weight, usize::MAX - 1 + star_rank)))
    };
    let candidates = [
        (Coding::Gzip, candidate(gzip, 0)),
        (Coding::Deflate, candidate(deflate, 1)),
    ];
    candidates
        .into_iter()
        .filter_map(|(coding, c)| c.filter(|(weight, _)| *weight > 0.0).map(|c| (coding, c)))
        .min_by(|(_, (w1, r1)), (_, (w2, r2))| w2.total_cmp(w1).then(r1.cmp(r2)))
        .map(|(coding, _)| coding)
}

/// The headers DynamoDB lets a browser script read from an answer (the list DynamoDB sends, as
/// recorded in Alternator's `handle_CORS`).
const CORS_EXPOSED_HEADERS: &str = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date";

/// How long a browser may cache a preflight's answer: two days, as dynalite (written against
/// DynamoDB) answers. The answer never changes, so any long time is right.
const CORS_MAX_AGE_SECS: u32 = 172_800;

/// CORS, for a request from a browser script (one with an `Origin`): every origin is allowed,
/// the answer's own headers are exposed, and a preflight (`OPTIONS`) is granted the method and
/// headers it asks for. A request without an `Origin` gets none of these headers.
fn add_cors_headers(request: &HeaderMap, response: &mut HeaderMap, preflight: bool) {
    response.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response.insert(
        ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(CORS_EXPOSED_HEADERS),
    );
    if preflight {
        response.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from(CORS_MAX_AGE_SECS));
        let echoes = [
            (ACCESS_CONTROL_REQUEST_METHOD, ACCESS_CONTROL_ALLOW_METHODS),
            (ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_ALLOW_HEADERS),
        ];
        for (asked, allowed) in echoes {
            if let Some(value) = request.get(&asked).filter(|v| !v.is_empty()) {
                response.insert(allowed, value.clone());
            }
        }
    }
}

/// The answer's content type: the request's, when it is `application/json`, as DynamoDB echoes it.
fn response_type(headers: &HeaderMap) -> &'static str {
    match header(headers, "content-type") {
        Some(t)
            if t.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json") =>
        {
            "application/json"
        }
        _ => "application/x-amz-json-1.0",
    }
}

/// An answer before its common headers.
struct Answer {
    status: StatusCode,
    body: Bytes,
    json: bool,
}

impl Answer {
    /// `value` as the body; `null` is the empty body (`TagResource`, `UntagResource`).
    fn json(status: StatusCode, value: Value) -> Answer {
        let body = match value {
            Value::Null => Vec::new(),
            value => serde_json::to_vec(&value).unwrap_or_else(|_| b"{}".to_vec()),
        };
        Answer {
            status,
            body: Bytes::from(body),
            json: true,
        }
    }

    fn error(error: WireError) -> Answer {
        let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
        Answer::json(status, error.body())
    }

    fn text(status: StatusCode, text: String) -> Answer {
        Answer {
            status,
            body: Bytes::from(text),
            json: false,
        }
    }

    /// The response with the common headers; its JSON body compressed with `coding` (the
    /// client's choice) when it is above [`GZIP_ABOVE_BYTES`]. The CRC is of the bytes sent,
    /// compressed or not, as DynamoDB's is.
    fn into_response(
        self,
        request_id: &str,
        json_type: &'static str,
        coding: Option<Coding>,
    ) -> Response<Full<Bytes>> {
        let coding = coding.filter(|_| self.json && self.body.len() > GZIP_ABOVE_BYTES);
        let compressed = coding.and_then(|c| Some((c, c.compress(&self.body)?)));
        let encoded = compressed.as_ref().map(|(c, _)| *c);
        let body = compressed.map_or(self.body, |(_, bytes)| Bytes::from(bytes));
        let crc = crc32fast::hash(&body);
        let mut response = Response::new(Full::new(body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if let Some(coding) = encoded {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static(coding.name()));
        }
        let content_type = if self.json { json_type } else { "text/plain" };
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Ok(id) = HeaderValue::from_str(request_id) {
            headers.insert("x-amzn-requestid", id);
        }
        headers.insert("x-amz-crc32", HeaderValue::from(crc));
        // DynamoDB's answers name their server (clients log it; Alternator's
        // test_server_header checks that one is named); tidestore names itself.
        headers.insert(SERVER, HeaderValue::from_static(SERVER_NAME));
        response
    }
}

/// The `Server` header of every answer.
const SERVER_NAME: &str = concat!("tidestore/", env!("CARGO_PKG_VERSION"));

#[cfg(test)]
mod tests {
    use super::*;

    fn coding(values: &[&str]) -> Option<Coding> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                ACCEPT_ENCODING,
                HeaderValue::from_str(value).expect("a value"),
            );
        }
        response_coding(&headers)
    }

    /// Every `Accept-Encoding` of Alternator's `test_compressed_response_accept_encodings`
    /// (which passes on DynamoDB) with the coding DynamoDB answers with.
    #[test]
    fn accept_encoding_picks_gzip_or_deflate_as_dynamodb_does() {
        use Coding::{Deflate, Gzip};
        for (accept, expected) in [
            ("identity", None),
            ("", None),
            ("br", None),
            ("zstd", None),
            ("compress", None),
            ("x-gzip", None),
            ("gzip", Some(Gzip)),
            ("deflate", Some(Deflate)),
            ("gzip, deflate", Some(Gzip)),
            ("br, identity, deflate, gzip", Some(Deflate)),
            ("GZIP, identity", Some(Gzip)),
            ("dog, gzip ,, cat", Some(Gzip)),
            ("gzip;q=0.8, deflate;q=0.5", Some(Gzip)),
            (
                "br, gzip;q=0, deflate; q = 0.5 , identity;q=0",
                Some(Deflate),
            ),
            ("*", Some(Gzip)),
            ("*, deflate;q=0.5", Some(Gzip)),
            ("*, deflate", Some(Deflate)),
            ("*, identity", Some(Gzip)),
            ("*, gzip;q=0.5", Some(Deflate)),
            ("gzip ;q=0", None),
            ("gzip;Q=0.0", None),
            ("identity;q=0", None),
            ("*;q=0", None),
            ("*;q=0.5,identity", Some(Gzip)),
            ("gzip;q=0.5,identity;q=0.8", Some(Gzip)),
            ("br;q=0.8,identity;q=0.5,*;q=0", None),
            ("\"gzip\"", None),
            ("gzip br", None),
            ("gzip:q=1", None),
            ("deflate;q=0.5, gzip;q=31", Some(Gzip)),
            ("gzip;q=31,deflate;q=51", Some(Gzip)),
            ("deflate;q=0.5, gzip;q=0.2", Some(Deflate)),
            ("deflate;q=0.5, gzip;q=1;q=0.2", Some(Gzip)),
            ("deflate;q=0.5,gzip;q=0.", Some(Deflate)),
            ("deflate;q=0.5,gzip;q=0.x", Some(Gzip)),
            ("deflate;q=-0.5,gzip;q=0.2", Some(Gzip)),
            ("gzip;nq=1;q=0 ", None),
            ("gzip;q=0, gzip;q=1, gzip;q=0", Some(Gzip)),
            ("br,identity;q=0.5,gzip;q=0.0001", Some(Gzip)),
        ] {
            assert_eq!(coding(&[accept]), expected, "{accept}");
        }
        assert_eq!(coding(&[]), None);
        assert_eq!(coding(&["identity", "gzip"]), Some(Gzip), "the last counts");
        assert_eq!(coding(&["gzip", "identity"]), None, "the last counts");
    }

    /// `runs_inline`'s rule: a request that can wait on the disk leaves the async thread
    /// whenever another connection could be held up behind it.
    #[test]
    fn a_single_item_write_runs_on_the_async_thread_only_on_the_only_connection_open() {
        for write in ["PutItem", "UpdateItem", "DeleteItem"] {
            assert!(runs_inline(Api::DynamoDb, write, false, 1), "{write}");
            for connections in [2, 16] {
                assert!(
                    !runs_inline(Api::DynamoDb, write, false, connections),
                    "{write}"
                );
            }
            assert!(
                !runs_inline(Api::DynamoDb, write, true, 1),
                "{write}, large"
            );
        }
        for other in [
            "BatchWriteItem",
            "TransactWriteItems",
            "BatchGetItem",
            "TransactGetItems",
            "CreateTable",
            "CreateBackup",
            "RestoreTableFromBackup",
        ] {
            assert!(!runs_inline(Api::DynamoDb, other, false, 1), "{other}");
        }
        for read in ["GetItem", "Query", "Scan", "DescribeTable"] {
            assert!(runs_inline(Api::DynamoDb, read, false, 16), "{read}");
            assert!(!runs_inline(Api::DynamoDb, read, true, 1), "{read}, large");
        }
        assert!(!runs_inline(Api::Streams, "GetRecords", false, 1));
    }

    #[test]
    fn each_coding_compresses_to_its_own_format() {
        let body = vec![b'x'; 10_000];
        let gzipped = Coding::Gzip.compress(&body).expect("gzip");
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gzipped[..])
            .read_to_end(&mut back)
            .expect("gunzip");
        assert_eq!(back, body);
        let deflated = Coding::Deflate.compress(&body).expect("deflate");
        back.clear();
        flate2::read::ZlibDecoder::new(&deflated[..])
            .read_to_end(&mut back)
            .expect("inflate");
        assert_eq!(back, body);
    }

    /// A `Shared` over an in-memory database, for the connection tests.
    fn test_shared() -> Arc<Shared> {
        let db = crate::Database::in_memory();
        let imports = super::super::imports::Imports::open(
            &db,
            None,
            "us-east-1".into(),
            "000000000000".into(),
        )
        .expect("import records");
        Arc::new(Shared {
            state: Arc::new(super::super::imports::test_state(&db, imports)),
            permits: Semaphore::new(4),
            connections: AtomicUsize::new(0),
        })
    }

    /// The count of open connections, which [`runs_inline`] reads, follows the connections
    /// themselves: up on accept, down when one ends, whether the client closes it after an
    /// answer, drops it in the middle of a request's headers or body, or sends headers too
    /// slowly and is closed by the header-read timeout. A count leaked by any of these would
    /// turn the inline write path off for good (or on beside a second connection).
    #[test]
    fn the_open_connection_count_rises_on_accept_and_falls_however_a_connection_ends() {
        use std::io::{Read as _, Write as _};
        use std::net::TcpStream as Client;

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let shared = test_shared();
        // Two listeners serving into the same count: one patient, and one whose connections
        // must send their headers within 300 ms (as an idle kept-alive one must too).
        let listen = |header_read_timeout: Duration| {
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .expect("a listener");
            let addr = listener.local_addr().expect("its address");
            let serving = Arc::clone(&shared);
            runtime.spawn(async move {
                let graceful = GracefulShutdown::new();
                while let Ok((stream, peer)) = listener.accept().await {
                    serve_connection(&serving, stream, peer, header_read_timeout, &graceful);
                }
            });
            addr
        };
        let patient = listen(Duration::from_secs(600));
        let hasty = listen(Duration::from_millis(300));
        let count = || shared.connections.load(Ordering::SeqCst);
        let wait_for = |expected: usize, after: &str| {
            let deadline = Instant::now() + Duration::from_secs(10);
            while count() != expected && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(count(), expected, "connections counted {after}");
        };
        let connect = |addr| {
            let client = Client::connect(addr).expect("connects");
            client
                .set_read_timeout(Some(Duration::from_secs(10)))
                .expect("a read timeout");
            client
        };

        // One connection, kept alive across an answered request: the only one open.
        let mut first = connect(patient);
        wait_for(1, "after one accept");
        first
            .write_all(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            .expect("sent");
        let mut answer = [0u8; 512];
        let read = first.read(&mut answer).expect("an answer");
        assert!(answer[..read].starts_with(b"HTTP/1.1 200"));
        wait_for(1, "after an answer on a kept-alive connection");
        assert!(runs_inline(Api::DynamoDb, "PutItem", false, count()));

        // A second one: the write path leaves the async thread; the client drops it in the
        // middle of a request's body.
        let mut second = connect(patient);
        wait_for(2, "after a second accept");
        assert!(!runs_inline(Api::DynamoDb, "PutItem", false, count()));
        second
            .write_all(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n{\"Ta")
            .expect("sent");
        drop(second);
        wait_for(
            1,
            "after a client dropped its connection in the middle of a body",
        );

        // One dropped in the middle of its headers.
        let mut third = connect(patient);
        wait_for(2, "after a third accept");
        third
            .write_all(b"POST / HTTP/1.1\r\nHost: h\r\nX-Amz-Tar")
            .expect("sent");
        drop(third);
        wait_for(
            1,
            "after a client dropped its connection in the middle of its headers",
        );

        // One too slow with its headers: the server closes it, and stops counting it.
        let mut slow = connect(hasty);
        wait_for(2, "after a fourth accept");
        slow.write_all(b"GET / HTTP/1.1\r\nHo").expect("sent");
        // The read ends when the server closes the connection (an answer, if any, first).
        let closed_by_server = match slow.read(&mut answer) {
            Ok(_) => true,
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        };
        assert!(
            closed_by_server,
            "a connection slow with its headers stayed open"
        );
        wait_for(1, "after a connection timed out on its headers");
        assert!(runs_inline(Api::DynamoDb, "PutItem", false, count()));

        drop(first);
        wait_for(0, "after the last connection closed");
        drop(slow);
        runtime.shutdown_background();
    }
}
