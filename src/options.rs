//! Settings of a database, fixed when it is opened.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::fs::throttle::MIN_BACKGROUND_WRITE_RATE;
use crate::fs::{StdFs, Vfs};
use crate::model::clock::{Clock, SystemClock};

/// How a write is made durable before it is acknowledged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Acknowledged once the log record is on stable storage; concurrent writers share one
    /// sync (group commit). The default.
    #[default]
    Sync,
    /// Acknowledged once the log record is written to the operating system; synced in the
    /// background every [`Options::buffered_sync_interval`]. A crash of the process loses
    /// nothing acknowledged; a crash of the machine (power, kernel) may lose the writes of
    /// the last interval — never a write in the middle, always a suffix.
    Buffered,
    /// Nothing reaches disk: for tests and caches.
    InMemory,
}

/// A function the background worker calls with a backup's ARN before building it.
pub type BackupBuildHook = Arc<dyn Fn(&str) + Send + Sync>;

/// A function the Time to Live sweeper calls with a table's name between finding a batch of
/// expired items and deleting them, holding no lock.
pub type TtlSweepHook = Arc<dyn Fn(&str) + Send + Sync>;

/// The most tables [`Options::max_tables`] allows: DynamoDB's ceiling (its quota of 2,500
/// tables per account and Region cannot be raised above 10,000).
pub(crate) const MAX_TABLES: usize = 10_000;
/// The smallest [`Options::segment_bytes`]: room for a segment's header and some records.
pub(crate) const MIN_SEGMENT_BYTES: u64 = 4096;
/// The largest [`Options::segment_bytes`]. Recovery reads a segment whole, so this bounds the
/// memory of that read; the largest segment file the format allows follows from it
/// (`format/log_segment.rs`, `MAX_SEGMENT_LEN`).
pub(crate) const MAX_SEGMENT_BYTES: u64 = 1 << 30;
/// The longest [`Options::maintenance_interval`]: expired backups and the history that
/// point-in-time windows no longer need go at least daily.
pub(crate) const MAX_MAINTENANCE_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);
/// The shortest [`Options::buffered_sync_interval`]: a shorter one would only spin.
pub(crate) const MIN_BUFFERED_SYNC_INTERVAL: Duration = Duration::from_millis(1);
/// The longest [`Options::buffered_sync_interval`]: the writes a machine crash may lose in
/// buffered mode are at most this old.
pub(crate) const MAX_BUFFERED_SYNC_INTERVAL: Duration = Duration::from_secs(60);
/// The longest [`Options::ttl_sweep_pause`]: expired items still go within hours.
pub(crate) const MAX_TTL_SWEEP_PAUSE: Duration = Duration::from_secs(60);

/// Settings of a database: start from [`Options::default`] or [`Options::in_memory`] and
/// change what differs with the setters, one per field.
///
/// ```
/// use std::time::Duration;
/// use tidestore::{Durability, Options};
///
/// let options = Options::default()
///     .durability(Durability::Buffered)
///     .buffered_sync_interval(Duration::from_millis(50));
/// assert_eq!(options.durability, Durability::Buffered);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Options {
    /// How writes are made durable.
    pub durability: Durability,
    /// The region ARNs name (`us-east-1` by default).
    pub region: String,
    /// The account ARNs name (`000000000000` by default).
    pub account: String,
    /// Where time comes from; tests pass a [`crate::ManualClock`].
    pub clock: Arc<dyn Clock>,
    /// The most tables the database holds (DynamoDB's default quota is 2,500 per region):
    /// from 1 to 10,000.
    pub max_tables: usize,
    /// The file system: the real one, or a simulated one for crash and fault tests.
    pub fs: Arc<dyn Vfs>,
    /// A log segment is closed and a new one started once it reaches this many bytes: from
    /// 4 KiB to 1 GiB (recovery reads a segment whole).
    pub segment_bytes: u64,
    /// A table is snapshotted once the log written for it since its last snapshot reaches
    /// both this many bytes and `checkpoint_log_ratio` times the table's size. Bounds
    /// recovery time and log disk use; relative to the table's size, it bounds write
    /// amplification (each byte of table is rewritten once per `ratio` bytes of log). Any
    /// value: 0 leaves it to the ratio, `u64::MAX` snapshots by size never.
    pub checkpoint_min_log_bytes: u64,
    /// See `checkpoint_min_log_bytes`: a finite number from 0.
    pub checkpoint_log_ratio: f64,
    /// How often the background worker looks for tables to snapshot and log to drop: at
    /// most a day (zero: continuously, for stress tests).
    pub maintenance_interval: Duration,
    /// How often buffered mode syncs the log: from 1 ms to 60 s.
    pub buffered_sync_interval: Duration,
    /// Run snapshots, log truncation and backup builds on a background thread (the
    /// default). Without it they happen only in `checkpoint` and `wait_for_backup`, on the
    /// caller's thread: deterministic simulation tests want exactly that.
    pub background_worker: bool,
    /// Whether a clean close (`Database::close`, or the drop of the last handle) writes a
    /// snapshot of every table whose log has grown, so that the next open reads snapshots
    /// instead of replaying the log (the default). Without it a close is quick and the next
    /// open replays the log, as after a crash — RocksDB's `avoid_flush_during_shutdown`.
    pub snapshot_on_close: bool,
    /// The most `create_backup` calls per second (DynamoDB's limit is 50); more get
    /// `LimitExceededException`. At least 1.
    pub backup_rate_limit: u32,
    /// The most bytes per second the background builds (snapshots, backups) write while
    /// writers are waiting for durable commits (a log sync on their behalf within the last
    /// 100 ms), so that their syncs do not queue behind the builds' writes; at other times,
    /// and with 0, builds write at full speed. Default 100 MB/s: on the 2-core VM this was
    /// measured on, 16 Sync writers' p99 during back-to-back backup builds was 0.92–0.93×
    /// their p99 alone at 100 MB/s (1.00–1.29× before a build's catch-up was bounded, when
    /// 200 MB/s gave 1.14–1.57×), and 1.4–2.0× unpaced (a small
    /// fdatasync's p99 beside a file written at 600 MB/s is 5× its p99 alone, unpaced 200×:
    /// `fs/throttle.rs`). 0, or at least 1 MB/s. A writer that fell behind the rate catches
    /// up by at most 10 ms of it at full speed. `Database::checkpoint`'s own builds are not
    /// paced: its caller waits for them.
    pub background_write_rate: u64,
    /// Called by the background worker before it builds a backup, with the backup's ARN:
    /// a test hook to hold a build back (and so prove that nothing waits for it).
    pub backup_build_hook: Option<BackupBuildHook>,
    /// How long after a table's Time to Live setting changed it cannot change again:
    /// DynamoDB documents one hour (the default), and refuses a change within it with a
    /// `ValidationException`. Zero lifts the limit.
    pub ttl_change_interval: Duration,
    /// The Time to Live sweeper's pace: it reads a table's items in batches of 1,000,
    /// deletes the expired ones of each batch (up to 100 per logged record), and pauses this long
    /// after each batch, holding no lock (and this long, or a second if longer, between
    /// passes over the tables). The default,
    /// 100 ms, reads at most 10,000 items and deletes at most 10,000 a second (a pass over
    /// a million items takes under two minutes); zero sweeps without pausing. At most 60 s.
    /// The sweeper runs on its own thread with the background worker
    /// ([`Options::background_worker`]); without it, only
    /// [`Database::delete_expired_items`](crate::Database::delete_expired_items) sweeps.
    pub ttl_sweep_pause: Duration,
    /// Called by the Time to Live sweeper with a table's name after it found a batch of
    /// expired items and before it deletes them, holding no lock: a test hook to race a
    /// write with the sweeper.
    pub ttl_sweep_hook: Option<TtlSweepHook>,
    /// How long a stream's records can be read: DynamoDB keeps them 24 hours (the
    /// default). The log a stream needs is kept this long (on disk, in the log's segments),
    /// and a stream disabled this long ago is gone. From one minute to 35 days.
    pub stream_retention: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            durability: Durability::Sync,
            region: "us-east-1".into(),
            account: "000000000000".into(),
            clock: Arc::new(SystemClock),
            max_tables: 2500,
            fs: Arc::new(StdFs),
            segment_bytes: 64 * 1024 * 1024,
            checkpoint_min_log_bytes: 64 * 1024 * 1024,
            checkpoint_log_ratio: 1.0,
            maintenance_interval: Duration::from_secs(1),
            buffered_sync_interval: Duration::from_millis(100),
            background_worker: true,
            snapshot_on_close: true,
            backup_rate_limit: 50,
            background_write_rate: 100_000_000,
            backup_build_hook: None,
            ttl_change_interval: Duration::from_secs(60 * 60),
            ttl_sweep_pause: Duration::from_millis(100),
            ttl_sweep_hook: None,
            stream_retention: Duration::from_secs(24 * 60 * 60),
        }
    }
}

impl Options {
    /// Options for a database that never touches disk.
    pub fn in_memory() -> Options {
        Options {
            durability: Durability::InMemory,
            ..Options::default()
        }
    }

    /// Checks the settings before a database opens with them: each number within its range,
    /// or a `ValidationException` naming the option and the range.
    pub(crate) fn validate(&self) -> Result<()> {
        let ok =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok(&self.region) {
            return Err(Error::validation(format!(
                "invalid region {:?}: expected letters, digits and '-'",
                self.region
            )));
        }
        if self.account.len() != 12 || !self.account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::validation(format!(
                "invalid account {:?}: expected 12 digits",
                self.account
            )));
        }
        within("max_tables", self.max_tables, 1, MAX_TABLES)?;
        within(
            "segment_bytes",
            self.segment_bytes,
            MIN_SEGMENT_BYTES,
            MAX_SEGMENT_BYTES,
        )?;
        // (`checkpoint_min_log_bytes`: every u64 means something.)
        if !(self.checkpoint_log_ratio.is_finite() && self.checkpoint_log_ratio >= 0.0) {
            return Err(out_of_range(
                "checkpoint_log_ratio",
                self.checkpoint_log_ratio,
                "a finite number greater than or equal to 0",
            ));
        }
        within(
            "maintenance_interval",
            self.maintenance_interval,
            Duration::ZERO,
            MAX_MAINTENANCE_INTERVAL,
        )?;
        within(
            "buffered_sync_interval",
            self.buffered_sync_interval,
            MIN_BUFFERED_SYNC_INTERVAL,
            MAX_BUFFERED_SYNC_INTERVAL,
        )?;
        within("backup_rate_limit", self.backup_rate_limit, 1, u32::MAX)?;
        if self.background_write_rate != 0 {
            within(
                "background_write_rate",
                self.background_write_rate,
                MIN_BACKGROUND_WRITE_RATE,
                u64::MAX,
            )?;
        }
        within(
            "ttl_sweep_pause",
            self.ttl_sweep_pause,
            Duration::ZERO,
            MAX_TTL_SWEEP_PAUSE,
        )?;
        within(
            "stream_retention",
            self.stream_retention,
            Duration::from_secs(60),
            Duration::from_secs(35 * 24 * 60 * 60),
        )?;
        Ok(())
    }
}

/// `Ok` if `value` of option `name` is in `min..=max`, else the `ValidationException` saying
/// so, in DynamoDB's words.
fn within<T: PartialOrd + std::fmt::Debug>(name: &str, value: T, min: T, max: T) -> Result<()> {
    if value < min || value > max {
        return Err(out_of_range(
            name,
            value,
            &format!("a value between {min:?} and {max:?}"),
        ));
    }
    Ok(())
}

fn out_of_range(name: &str, value: impl std::fmt::Debug, range: &str) -> Error {
    Error::validation(format!(
        "1 validation error detected: Value '{value:?}' at '{name}' failed to satisfy constraint: Member must have {range}"
    ))
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("durability", &self.durability)
            .field("region", &self.region)
            .field("account", &self.account)
            .field("clock", &self.clock)
            .field("max_tables", &self.max_tables)
            .field("fs", &self.fs)
            .field("segment_bytes", &self.segment_bytes)
            .field("checkpoint_min_log_bytes", &self.checkpoint_min_log_bytes)
            .field("checkpoint_log_ratio", &self.checkpoint_log_ratio)
            .field("maintenance_interval", &self.maintenance_interval)
            .field("buffered_sync_interval", &self.buffered_sync_interval)
            .field("background_worker", &self.background_worker)
            .field("snapshot_on_close", &self.snapshot_on_close)
            .field("backup_rate_limit", &self.backup_rate_limit)
            .field("background_write_rate", &self.background_write_rate)
            .field(
                "backup_build_hook",
                &self.backup_build_hook.as_ref().map(|_| "Fn"),
            )
            .field("ttl_change_interval", &self.ttl_change_interval)
            .field("ttl_sweep_pause", &self.ttl_sweep_pause)
            .field(
                "ttl_sweep_hook",
                &self.ttl_sweep_hook.as_ref().map(|_| "Fn"),
            )
            .field("stream_retention", &self.stream_retention)
            .finish()
    }
}

crate::api::setters!(Options {
    durability: Durability => durability,
    region: impl Into<String> => region.into(),
    account: impl Into<String> => account.into(),
    clock: Arc<dyn Clock> => clock,
    max_tables: usize => max_tables,
    fs: Arc<dyn Vfs> => fs,
    segment_bytes: u64 => segment_bytes,
    checkpoint_min_log_bytes: u64 => checkpoint_min_log_bytes,
    checkpoint_log_ratio: f64 => checkpoint_log_ratio,
    maintenance_interval: Duration => maintenance_interval,
    buffered_sync_interval: Duration => buffered_sync_interval,
    background_worker: bool => background_worker,
    snapshot_on_close: bool => snapshot_on_close,
    backup_rate_limit: u32 => backup_rate_limit,
    background_write_rate: u64 => background_write_rate,
    backup_build_hook: BackupBuildHook => Some(backup_build_hook),
    ttl_change_interval: Duration => ttl_change_interval,
    ttl_sweep_pause: Duration => ttl_sweep_pause,
    ttl_sweep_hook: TtlSweepHook => Some(ttl_sweep_hook),
    stream_retention: Duration => stream_retention,
});

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_background_write_rate_is_zero_or_at_least_a_megabyte_a_second() {
        for rate in [0, MIN_BACKGROUND_WRITE_RATE, u64::MAX] {
            assert!(Options::default()
                .background_write_rate(rate)
                .validate()
                .is_ok());
        }
        // At 1 byte a second a build's block would sleep for hours, and a close wait on it.
        for rate in [1, MIN_BACKGROUND_WRITE_RATE - 1] {
            let refused = Options::default()
                .background_write_rate(rate)
                .validate()
                .unwrap_err();
            assert!(
                refused.message().contains("background_write_rate"),
                "{refused}"
            );
        }
    }
}
