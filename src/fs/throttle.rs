//! Background writes give way to durable commits: while writers are waiting for the log to
//! be synced, the files the background builds (snapshots, backups) are written at most at
//! a set rate (RocksDB's rate limiter, applied only while it matters).
//!
//! A log sync is a small write and a flush of the disk's cache, and the flush waits for
//! every write queued before it. Measured on this project's 2-core VM class, a small
//! append+fdatasync loop (p99 0.19–0.24 ms alone) beside a 125 MB file written with
//! writeback every 256 KiB: p99 0.27–0.35 ms at 100–300 MB/s, 0.49 ms at 400 MB/s, 1.1 ms
//! at 600 MB/s, and 42 ms unthrottled (the page cache takes the file at memory speed and
//! the disk's queue fills). A build reads and encodes at 700 MB/s or more on an idle
//! machine, so without a limit it hands the disk writes faster than a commit can get
//! past them. With no durable commit in the last [`ACTIVE_FOR`], a build writes at full
//! speed: a backup taken beside buffered writers, or none, is not slowed. Only a writer's
//! records count (`Mutation::paces_builds`): a backup's own request is a durable commit
//! too, and counted, it paced every backup of an idle database for its first 100 ms.
//!
//! The same signal sets how often a build starts the writeback of what it wrote
//! ([`Pacer::writeback_span`]): in small spans while commits are made, so that their syncs
//! queue behind little, and in larger ones otherwise, so that the disk's completion
//! interrupts, which land on one CPU, stop a running writer less often.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// How many written bytes a background build lets pile up before it starts their writeback
/// (`VfsFile::start_writeback`) while durable commits are being made. (Measured here, a
/// small fdatasync's p99 beside a file written at 300 MB/s: 0.6 ms with writeback started
/// every 1 MiB, 0.29 ms every 256 KiB, against 0.19–0.24 ms alone.)
pub(crate) const WRITEBACK_WHILE_COMMITTING: u64 = 256 << 10;

/// The same with no durable commit being made: every writeback ends in an interrupt, and
/// on this project's VM class all of the disk's interrupts go to one CPU. A Buffered writer
/// that runs on that CPU beside a build writing at 450 MB/s had 1.0–1.4 % of its puts take
/// 12 µs or more (p99 18–30 µs against 5–7 µs before) with writeback every 256 KiB, about
/// 1,800 interrupts a second; 0.20–0.35 % (its rate with nothing beside it, p99 5–6 µs)
/// every 1 or 4 MiB. On the other CPU it was not slowed either way.
pub(crate) const WRITEBACK_OTHERWISE: u64 = 1 << 20;

/// How long after a durable commit's sync began or ended background writes stay paced
/// (and they are, all the while a sync is in progress).
pub(crate) const ACTIVE_FOR: Duration = Duration::from_millis(100);

/// How far behind the rate a paced writer may fall and then catch up at full speed: a
/// build slowed for a while (by the CPU, by reading) does not earn a burst beyond this.
const MAX_CREDIT: Duration = Duration::from_millis(10);

/// The slowest rate `Options::background_write_rate` accepts, but 0: at 1 MB/s a 64 KiB
/// block waits 66 ms (at 1 B/s it would wait 18 hours, uninterrupted by a close).
pub(crate) const MIN_BACKGROUND_WRITE_RATE: u64 = 1_000_000;

/// What background writers consult: the rate, and when a durable commit last began.
#[derive(Debug)]
pub(crate) struct Throttle {
    /// Bytes per second while commits are being made; 0: no limit.
    rate: u64,
    epoch: Instant,
    /// Microseconds from `epoch` to the last durable commit's start or end, plus one (0:
    /// none yet).
    last_commit: AtomicU64,
    /// The durable commits' syncs in progress ([`Throttle::syncing`]).
    syncing: AtomicUsize,
}

impl Default for Throttle {
    /// No limit.
    fn default() -> Throttle {
        Throttle::new(0)
    }
}

impl Throttle {
    /// Paces background writes at `rate` bytes per second while commits are made (0: never).
    pub fn new(rate: u64) -> Throttle {
        Throttle {
            rate,
            epoch: Instant::now(),
            last_commit: AtomicU64::new(0),
            syncing: AtomicUsize::new(0),
        }
    }

    /// Records that writers wait for a log sync until the guard is dropped: taken as a group
    /// commit that syncs begins, so that the first commit after a quiet spell is protected
    /// too, and held to its end, so that a slow sync — the case pacing is for — keeps the
    /// builds paced for as long as it lasts, and [`ACTIVE_FOR`] after. (Marked only at its
    /// start and end, a sync of 200 ms left builds unpaced from its 100th ms: they handed
    /// the disk tens of MB, and the flush it was waiting for waited for them.)
    pub fn syncing(&self) -> Syncing<'_> {
        self.syncing.fetch_add(1, Relaxed);
        self.mark_commit_at(Instant::now());
        Syncing(self)
    }

    fn mark_commit_at(&self, at: Instant) {
        let at = at.saturating_duration_since(self.epoch).as_micros() as u64 + 1;
        self.last_commit.store(at, Relaxed);
    }

    /// Whether a durable commit's sync is in progress, or began or ended within
    /// [`ACTIVE_FOR`] before `now`.
    pub(crate) fn committing(&self, now: Instant) -> bool {
        if self.syncing.load(Relaxed) > 0 {
            return true;
        }
        match self.last_commit.load(Relaxed) {
            0 => false,
            at => {
                let last = self.epoch + Duration::from_micros(at - 1);
                now.saturating_duration_since(last) < ACTIVE_FOR
            }
        }
    }

    /// A pacer for one file's writes.
    pub fn pacer(&self) -> Pacer<'_> {
        Pacer {
            throttle: self,
            due: None,
        }
    }
}

/// A durable commit's sync in progress, from [`Throttle::syncing`]; its end is recorded
/// when dropped, whether the sync succeeded, failed or panicked.
#[derive(Debug)]
#[must_use = "the sync counts as in progress only while the guard lives"]
pub(crate) struct Syncing<'a>(&'a Throttle);

impl Drop for Syncing<'_> {
    fn drop(&mut self) {
        self.0.mark_commit_at(Instant::now());
        self.0.syncing.fetch_sub(1, Relaxed);
    }
}

/// Paces the writes of one file (see the module docs).
#[derive(Debug)]
pub(crate) struct Pacer<'a> {
    throttle: &'a Throttle,
    /// While paced: when the bytes written so far are due at the rate.
    due: Option<Instant>,
}

impl Pacer<'_> {
    /// Called after `bytes` more were written: sleeps until they are within the rate, if
    /// commits are being made.
    pub fn wrote(&mut self, bytes: u64) {
        if let Some(wait) = self.wait(bytes, Instant::now()) {
            std::thread::sleep(wait);
        }
    }

    /// How many written bytes to let pile up before starting their writeback: few while
    /// durable commits are being made, so that their syncs queue behind little; more when
    /// none are, so that the disk's completions interrupt a running writer less often.
    pub fn writeback_span(&self) -> u64 {
        match self.throttle.committing(Instant::now()) {
            true => WRITEBACK_WHILE_COMMITTING,
            false => WRITEBACK_OTHERWISE,
        }
    }

    /// How long to wait at `now` after `bytes` more were written.
    fn wait(&mut self, bytes: u64, now: Instant) -> Option<Duration> {
        let rate = self.throttle.rate;
        if rate == 0 || !self.throttle.committing(now) {
            // Paced again from the next write on, not for what was written meanwhile.
            self.due = None;
            return None;
        }
        let nanos = u128::from(bytes) * 1_000_000_000 / u128::from(rate);
        let cost = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        // Behind by more than the credit allowed, the writer is paced from the credit on.
        let floor = now.checked_sub(MAX_CREDIT).unwrap_or(now);
        let due = self.due.unwrap_or(now).max(floor) + cost;
        self.due = Some(due);
        due.checked_duration_since(now).filter(|w| !w.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1_000_000;

    #[test]
    fn writes_are_paced_at_the_rate_only_while_commits_are_made() {
        let throttle = Throttle::new(100 * MB);
        let now = Instant::now();
        let mut pacer = throttle.pacer();
        // No commit yet: full speed.
        assert_eq!(pacer.wait(MB, now), None);
        throttle.mark_commit_at(now);
        // 1 MB at 100 MB/s is due 10 ms after the pacing began.
        assert_eq!(pacer.wait(MB, now), Some(Duration::from_millis(10)));
        // Another 1 MB 15 ms later is due at 20 ms: 5 ms more.
        let t = now + Duration::from_millis(15);
        assert_eq!(pacer.wait(MB, t), Some(Duration::from_millis(5)));
        // Once the commits stop for ACTIVE_FOR, writes go at full speed again...
        let later = now + ACTIVE_FOR + Duration::from_millis(1);
        assert_eq!(pacer.wait(MB, later), None);
        // ...and pacing resumes afresh, not owing what was written unpaced.
        throttle.mark_commit_at(later);
        assert_eq!(pacer.wait(MB, later), Some(Duration::from_millis(10)));
    }

    /// A sync that lasts longer than ACTIVE_FOR keeps the builds paced to its end: the disk
    /// flush it waits for waits for every write queued before it, so writes let through
    /// at full speed then make it slower still. (Found by `perf sched`: a one-writer commit
    /// of 200 ms beside a build, 196 ms of it in the device's flush, the build unpaced from
    /// the 100th ms.)
    #[test]
    fn a_sync_longer_than_active_for_keeps_builds_paced_to_its_end() {
        let throttle = Throttle::new(100 * MB);
        let mut pacer = throttle.pacer();
        let sync = throttle.syncing();
        let long_after = Instant::now() + 3 * ACTIVE_FOR;
        assert!(throttle.committing(long_after), "unpaced during a sync");
        assert!(pacer.wait(MB, long_after).is_some());
        drop(sync);
        let ended = Instant::now();
        assert!(
            throttle.committing(ended + ACTIVE_FOR / 2),
            "unpaced just after it"
        );
        assert!(!throttle.committing(ended + ACTIVE_FOR + Duration::from_millis(1)));
        // A guard dropped by a panicking sync ends it too.
        let unwound = std::panic::catch_unwind(|| {
            let _sync = throttle.syncing();
            panic!("a failed sync");
        });
        assert!(unwound.is_err());
        assert!(!throttle.committing(Instant::now() + ACTIVE_FOR + Duration::from_millis(1)));
    }

    #[test]
    fn a_writer_that_fell_behind_catches_up_by_at_most_the_credit() {
        let throttle = Throttle::new(100 * MB);
        let now = Instant::now();
        throttle.mark_commit_at(now);
        let mut pacer = throttle.pacer();
        assert_eq!(pacer.wait(MB, now), Some(Duration::from_millis(10)));
        // The writer was slow for 90 ms while commits went on: it may write 10 ms of its
        // rate (1 MB, in 64 KiB blocks) at once, not the 8 MB it fell behind.
        let t = now + Duration::from_millis(100);
        throttle.mark_commit_at(t);
        let mut unpaced = 0;
        while pacer.wait(64 << 10, t).is_none() {
            unpaced += 64 << 10;
            assert!(unpaced <= 2 * MB, "credit unbounded");
        }
        assert!(unpaced <= MB, "{unpaced} bytes unpaced");
    }

    #[test]
    fn writeback_is_started_in_small_spans_only_while_commits_are_made() {
        let throttle = Throttle::new(100 * MB);
        let pacer = throttle.pacer();
        assert_eq!(pacer.writeback_span(), WRITEBACK_OTHERWISE);
        drop(throttle.syncing());
        assert_eq!(pacer.writeback_span(), WRITEBACK_WHILE_COMMITTING);
        // A throttle without a rate paces nothing, yet commits still want small spans.
        let unpaced = Throttle::default();
        drop(unpaced.syncing());
        assert_eq!(unpaced.pacer().writeback_span(), WRITEBACK_WHILE_COMMITTING);
    }

    #[test]
    fn a_throttle_without_a_rate_never_waits() {
        let throttle = Throttle::default();
        let now = Instant::now();
        throttle.mark_commit_at(now);
        let mut pacer = throttle.pacer();
        assert_eq!(pacer.wait(u64::MAX / 2, now), None);
    }
}
