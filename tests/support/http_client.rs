//! A keep-alive HTTP/1.1 client for `tidestore serve`, small enough to read in one go: the
//! wire crash test and the wire bench speak raw HTTP through it, so that what they measure
//! and check is the server, not a client library. Included with `#[path]` by
//! `tests/wire_crash.rs` and `benches/wire.rs`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A well-formed SigV4 header: without `--auth` the server checks its shape only.
const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=x/20261126/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=1408677e";

/// One keep-alive connection; each call sends one request and reads its whole answer.
pub struct Connection {
    host: String,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    request: Vec<u8>,
    /// Whether to spin until an answer arrives instead of sleeping in `read` (see
    /// [`Connection::spin_for_answers`]).
    spin: bool,
}

impl Connection {
    /// Connects to `addr`; reads wait at most `timeout`.
    pub fn open(addr: SocketAddr, timeout: Duration) -> std::io::Result<Connection> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        // The request goes out in one write; Nagle would hold a second one back.
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(Connection {
            host: addr.to_string(),
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            request: Vec::new(),
            spin: false,
        })
    }

    /// From now on, waits for each answer by spinning on a non-blocking `peek` rather than
    /// sleeping in `read`: the client's own wake-up (tens of microseconds on an idle VM)
    /// is then not part of a request's latency, so what is left is the server's.
    pub fn spin_for_answers(&mut self) {
        self.spin = true;
    }

    /// `POST /` of `body` to DynamoDB's `operation`; the status and the body of the answer.
    pub fn call(&mut self, operation: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        self.request.clear();
        write!(
            self.request,
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.0\r\n\
             X-Amz-Target: DynamoDB_20120810.{operation}\r\nX-Amz-Date: 20261126T060546Z\r\n\
             Authorization: {AUTHORIZATION}\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        )?;
        self.request.extend_from_slice(body);
        self.writer.write_all(&self.request)?;
        self.read_answer()
    }

    /// `GET /`, DynamoDB's health check; the status and the body of the answer.
    pub fn health(&mut self) -> std::io::Result<(u16, Vec<u8>)> {
        self.request.clear();
        write!(
            self.request,
            "GET / HTTP/1.1\r\nHost: {}\r\n\r\n",
            self.host
        )?;
        self.writer.write_all(&self.request)?;
        self.read_answer()
    }

    /// Reads a status line, headers and a `Content-Length` body (what hyper sends for a
    /// whole body).
    fn read_answer(&mut self) -> std::io::Result<(u16, Vec<u8>)> {
        let bad =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        if self.spin && self.reader.buffer().is_empty() {
            let stream = self.reader.get_ref();
            stream.set_nonblocking(true)?;
            let mut probe = [0u8; 1];
            let arrived = loop {
                match stream.peek(&mut probe) {
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::hint::spin_loop(),
                    other => break other,
                }
            };
            stream.set_nonblocking(false)?;
            arrived?;
        }
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status line"))?;
        let mut length = None;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                }
            }
        }
        let mut body = vec![0; length.ok_or_else(|| bad("no Content-Length"))?];
        self.reader.read_exact(&mut body)?;
        Ok((status, body))
    }
}
