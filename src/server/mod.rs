//! `tidestore serve`: DynamoDB's wire protocol over HTTP, so that the AWS CLI and every AWS SDK
//! drive a tidestore database — backups, point-in-time restores and DynamoDB Streams (on the
//! same port) included. Built only with the `server` feature; embedding the library pulls in
//! no HTTP stack.
//!
//! | Module | Owns |
//! |---|---|
//! | `http` | connections, bodies, headers, DynamoDB's order of checks |
//! | `protocol` | the JSON 1.0 protocol: the target (DynamoDB's or Streams'), the error body and its status |
//! | `auth` | SigV4: its shape by default, the full signature with `--auth` |
//! | `operations` | each operation: request JSON to the library's input, the call, the answer |
//! | `partiql` | ExecuteStatement: a PartiQL statement parsed and translated into the Query, Scan, PutItem, UpdateItem or DeleteItem it stands for |
//! | `exports` | ExportTableToPointInTime, DescribeExport and ListExports, to a directory standing in for S3, and their durable records |
//! | `imports/` | ImportTable, DescribeImport and ListImports, from a directory standing in for S3 (operations, request, job, objects), and the durable records and list pages imports and exports share (records, paging) |
//! | `indexes` | `CreateTable`'s and `UpdateTable`'s index members read as DynamoDB reads them, with its refusals |
//! | `streams` | DynamoDB Streams' four operations, on the same port, through the same checks |
//! | `in_process` | (feature `testing`) the operations called without HTTP, for the `partiql` fuzz harness |
//! | `model` | every operation's members in DynamoDB's and DynamoDB Streams' API models (generated) |
//!
//! Engine calls that may wait on the disk run in `block_in_place`, off the async threads
//! (reads answered from memory run on them, and so does a single-item write on the only
//! connection open: `http.rs`, `runs_inline`, says why), and at most
//! [`Config::max_concurrent_requests`] at once: the rest wait for a permit on their
//! connection, so a burst is back-pressure, not an unbounded queue. On SIGTERM or Ctrl-C the
//! server stops accepting, lets the requests in flight finish, and closes the database
//! cleanly.

pub(crate) mod auth;
pub(crate) mod compression;
mod exports;
mod http;
mod imports;
#[cfg(feature = "testing")]
pub(crate) mod in_process;
mod indexes;
pub(crate) mod model;
mod operations;
mod partiql;
mod protocol;
mod streams;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::db::Database;
use crate::options::{Durability, Options};

pub use http::{GZIP_ABOVE_BYTES, MAX_BODY_BYTES};

/// How `tidestore serve` runs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The database directory.
    pub dir: PathBuf,
    /// Where to listen.
    pub addr: SocketAddr,
    /// What a 200 on a write promises: `Sync` (on stable storage, the default) or `Buffered`.
    pub durability: Durability,
    /// The region in ARNs and the health answer, and the one signatures must be scoped to.
    pub region: String,
    /// The account in ARNs.
    pub account: String,
    /// With `Some`, signatures are verified against these access keys and secrets; with
    /// `None`, any well-formed SigV4 header is accepted (as DynamoDB Local does).
    pub secrets: Option<HashMap<String, String>>,
    /// The most requests in the engine at once.
    pub max_concurrent_requests: usize,
    /// How long to wait for requests in flight when stopping.
    pub drain_timeout: Duration,
    /// How long a connection may take to send a request's headers, counted (as hyper counts
    /// it) from the end of its previous answer: so also how long a keep-alive connection may
    /// sit idle. Two minutes by default: tests written against DynamoDB reuse a connection
    /// left idle for 30 seconds, and a server that closes an idle connection first races
    /// the client reusing it (a request lost to a closed socket).
    pub header_read_timeout: Duration,
    /// [`Options::ttl_change_interval`]: one hour, DynamoDB's, by default.
    pub ttl_change_interval: Duration,
    /// [`Options::ttl_sweep_pause`]: the Time to Live sweeper's pace.
    pub ttl_sweep_pause: Duration,
    /// [`Options::stream_retention`]: how long streams' records can be read (24 hours,
    /// DynamoDB's, by default).
    pub stream_retention: Duration,
    /// The directory standing in for S3 (`--s3-dir`): `ImportTable` reads the files under
    /// `{s3_dir}/{S3Bucket}` whose keys start with `S3KeyPrefix`, and
    /// `ExportTableToPointInTime` writes under `{s3_dir}/{S3Bucket}/{S3Prefix}`. With `None`,
    /// both are refused.
    pub s3_dir: Option<PathBuf>,
}

impl Config {
    /// Serve the database in `dir` on `127.0.0.1:8000`, DynamoDB Local's port.
    pub fn new(dir: impl Into<PathBuf>) -> Config {
        Config {
            dir: dir.into(),
            addr: SocketAddr::from(([127, 0, 0, 1], 8000)),
            durability: Durability::Sync,
            region: "us-east-1".into(),
            account: "000000000000".into(),
            secrets: None,
            max_concurrent_requests: 64,
            drain_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(120),
            ttl_change_interval: Options::default().ttl_change_interval,
            ttl_sweep_pause: Options::default().ttl_sweep_pause,
            stream_retention: Options::default().stream_retention,
            s3_dir: None,
        }
    }
}

/// What every request's handling shares.
pub(crate) struct ServerState {
    pub db: Database,
    pub region: String,
    pub secrets: Option<HashMap<String, String>>,
    /// The imports: their source directory, records and running threads.
    pub imports: Arc<imports::Imports>,
    /// The exports: their target directory, records and running threads.
    pub exports: Arc<exports::Exports>,
}

/// One request's call of an operation: what every request shares, and where the client
/// sent the request.
pub(crate) struct Call<'a> {
    pub state: &'a ServerState,
    /// The request's headers.
    pub headers: &'a hyper::HeaderMap,
    /// The address the connection came in on.
    pub local: Option<SocketAddr>,
}

impl Call<'_> {
    /// The host the client addressed, as DynamoDB names itself in `DescribeEndpoints`
    /// (worked out only by the operations that name it).
    pub(crate) fn host(&self) -> String {
        http::host_addressed(self.headers, self.local, &self.state.region)
    }
}

impl std::ops::Deref for Call<'_> {
    type Target = ServerState;

    fn deref(&self) -> &ServerState {
        self.state
    }
}

/// Opens the database and serves it until SIGTERM or Ctrl-C, then drains and closes it.
/// `on_listening` is told the bound address (port 0 picks a free one).
pub fn serve(config: Config, on_listening: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    serve_until(config, on_listening, stop_signal())
}

/// [`serve`], stopping when `stop` completes instead of on a signal (for tests and for
/// applications that run the server beside other work).
pub fn serve_until(
    config: Config,
    on_listening: impl FnOnce(SocketAddr),
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let options = Options::default()
        .durability(config.durability)
        .region(config.region.clone())
        .account(config.account.clone())
        .ttl_change_interval(config.ttl_change_interval)
        .ttl_sweep_pause(config.ttl_sweep_pause)
        .stream_retention(config.stream_retention);
    let db = Database::open_with(&config.dir, options).map_err(std::io::Error::other)?;
    let imports = imports::Imports::open(
        &db,
        config.s3_dir.clone(),
        config.region.clone(),
        config.account.clone(),
    )?;
    let exports = exports::Exports::open(&db, config.s3_dir.clone(), config.account.clone())?;
    let state = Arc::new(ServerState {
        imports: Arc::new(imports),
        exports: Arc::new(exports),
        db,
        region: config.region.clone(),
        secrets: config.secrets.clone(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(accept_until_stopped(
        &config,
        Arc::clone(&state),
        on_listening,
        stop,
    ))?;
    drop(runtime);
    // The imports still running hold the database: they are cancelled, and their records
    // written FAILED, before it closes.
    state.imports.finish_running();
    // So do the exports: each removes its files and is recorded FAILED.
    state.exports.finish_running();
    match Arc::try_unwrap(state) {
        Ok(state) => state.db.close().map_err(std::io::Error::other),
        // A request still running past the drain timeout holds the database; it closes
        // when that request ends and drops it.
        Err(_) => Ok(()),
    }
}

async fn accept_until_stopped(
    config: &Config,
    state: Arc<ServerState>,
    on_listening: impl FnOnce(SocketAddr),
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(config.addr).await?;
    on_listening(listener.local_addr()?);
    let shared = Arc::new(http::Shared {
        state,
        permits: Semaphore::new(config.max_concurrent_requests.max(1)),
        connections: std::sync::atomic::AtomicUsize::new(0),
    });
    let header_read_timeout = config.header_read_timeout;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                http::serve_connection(&shared, stream, peer, header_read_timeout, &graceful);
            }
            () = &mut stop => break,
        }
    }
    drop(listener);
    tracing::info!("stopping: draining the requests in flight");
    if tokio::time::timeout(config.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after the drain timeout");
    }
    Ok(())
}

/// SIGTERM or Ctrl-C.
async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
