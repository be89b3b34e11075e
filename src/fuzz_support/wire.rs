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
//!
//! The modules, one concept each: [`servers`](mod@servers) (the servers under test),
//! [`request`] (a request and an answer on the wire, SigV4), [`envelope`] (a generated
//! request's HTTP side), [`members`] and the families it draws on ([`items`], [`tables`],
//! [`backups_streams`], [`values`], [`expressions`]) for the body, [`written`](mod@written)
//! (the seeds' text format), [`seen`](mod@seen) (what the servers answered) and [`checks`]
//! (the promises).

mod backups_streams;
mod checks;
mod envelope;
mod expressions;
mod items;
mod members;
mod request;
mod seen;
mod servers;
mod tables;
mod values;
mod written;

use std::time::Duration;

use super::input::Input;
use checks::{after, check};
use envelope::build;
use seen::seen;
use servers::servers;
use written::written;

/// How long an answer may take before the request counts as a hang.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

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
