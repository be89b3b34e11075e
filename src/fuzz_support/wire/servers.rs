//! The two servers every request goes to, started once per process: one that takes any
//! well-formed signature and one with `--auth` secrets, each over its own database in a
//! scratch directory, with the base tables (`tab`, `num`) every generated request may name.
//! A fuzzer never exits cleanly, so the databases of fuzz processes that are gone are
//! removed here too.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::json;

use super::request::Request;
use crate::server::{serve_until, Config};
use crate::Durability;

/// The access key and secret the `--auth` server knows, and the region and account both
/// servers use.
pub(super) const ACCESS_KEY: &str = "AKIDFUZZ";
pub(super) const SECRET: &str = "fuzz-secret-key";
pub(super) const REGION: &str = "us-east-1";
pub(super) const ACCOUNT: &str = "000000000000";

/// The names a request may create a table under (bounded, so that a long run does not fill
/// the disk with tables).
pub(super) const CREATED_NAMES: [&str; 6] = ["tab", "num", "vvv", "www", "restored", "abc"];

/// The two servers of this process.
pub(super) struct Servers {
    /// Takes any well-formed signature.
    pub(super) open: SocketAddr,
    /// Verifies signatures against [`ACCESS_KEY`] and [`SECRET`].
    pub(super) auth: SocketAddr,
}

/// The servers of this process, started (with their base tables) on first use.
pub(super) fn servers() -> &'static Servers {
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
pub(super) fn scratch_dir() -> PathBuf {
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

/// Starts a server over a database in `dir` on a thread of its own; the address it
/// listens on (a free port).
pub(super) fn start(
    dir: PathBuf,
    secrets: Option<std::collections::HashMap<String, String>>,
) -> SocketAddr {
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
pub(super) fn create_base_tables(addr: SocketAddr) {
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
