//! Named kill points: steps of the commit and maintenance protocols where the process-crash
//! tests (`tests/process_crash.rs`) make the process die, the way RocksDB's kill points and
//! SQLite's crash tests do.
//!
//! A child process started with `TIDESTORE_KILL_POINT=<name>:<n>` aborts (no destructor, no
//! flush: like SIGKILL) the `n`th time it reaches the point `name`. Without the variable a
//! kill point costs one load of an initialised `OnceLock`.
//!
//! Kill points exist only in builds with the `testing` feature (which the crate's own tests
//! and the fuzz targets enable): in a normal build `reached` is empty, so no environment
//! variable can make an application's database abort.

#[cfg(feature = "testing")]
use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(feature = "testing")]
use std::sync::OnceLock;

/// Every kill point, in protocol order.
pub const KILL_POINTS: &[&str] = &[
    // Group commit: the group's bytes are in the file but not synced; synced but the
    // writers not yet told.
    "wal.appended",
    "wal.synced",
    // A full segment's seal (at rotation in Sync mode, at the next sync in Buffered mode):
    // the new segment exists (header synced), the full one is not sealed yet; then sealed
    // (in Sync mode no record in the new one yet).
    "wal.created",
    "wal.rotated",
    // A snapshot, backup or restored table file: complete as `.tmp`, not renamed; renamed.
    "table_file.before_rename",
    "table_file.installed",
    // A catalog replacement: the new catalog synced as `.tmp`, not renamed.
    "catalog.before_rename",
    // A snapshot became the table's current one in the catalog.
    "snapshot.installed",
    // Log truncation: one segment removed, older ones gone, the next not yet.
    "truncate.removed",
    // Retained states dropped from the catalog, their files not yet removed.
    "release.before_remove",
    // A restored table's first snapshot is on disk, its commit record not yet logged.
    "restore.before_commit",
];

/// The environment variable that arms a kill point.
pub const KILL_POINT_VAR: &str = "TIDESTORE_KILL_POINT";

#[cfg(feature = "testing")]
static ARMED: OnceLock<Option<(String, u64)>> = OnceLock::new();
#[cfg(feature = "testing")]
static HITS: AtomicU64 = AtomicU64::new(0);

/// Does nothing: kill points exist only with the `testing` feature.
#[cfg(not(feature = "testing"))]
#[inline(always)]
pub(crate) fn reached(_name: &str) {}

/// Dies here if this kill point is armed and this is its `n`th hit.
#[cfg(feature = "testing")]
pub(crate) fn reached(name: &str) {
    let armed = ARMED.get_or_init(|| {
        let value = std::env::var(KILL_POINT_VAR).ok()?;
        let (point, n) = value.split_once(':').unwrap_or((value.as_str(), "1"));
        Some((point.to_owned(), n.parse().unwrap_or(1)))
    });
    if let Some((point, n)) = armed {
        if point == name && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *n {
            eprintln!("KILLPOINT {name} hit {n}: aborting");
            std::process::abort();
        }
    }
}
