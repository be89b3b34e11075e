//! How long a harness has waited for the server, counting only time this process ran.
//!
//! The harnesses wait for answers and for imports and exports to settle, and call a wait
//! past a deadline a hang. Measured on the wall clock, a pause of the whole process — a
//! SIGSTOP while another job has the machine, a debugger, a suspended VM — reads as a hang,
//! though the server's threads were paused with it (the first 600-second run of
//! `wire_request` on a shared machine stopped on exactly that). So a wait counts the time
//! between its polls, each gap at most [`MAX_COUNTED_GAP`]: a poll every few milliseconds
//! counts in full, and a pause of a minute counts as one long gap.

use std::time::{Duration, Instant};

/// The most one gap between two polls counts for: well above a poll's interval and a
/// request's time on a busy machine, well below any pause of the process.
pub(super) const MAX_COUNTED_GAP: Duration = Duration::from_millis(100);

/// The time a wait has run, counted as the module's doc says.
pub(super) struct RunningTime {
    counted: Duration,
    last: Instant,
}

impl RunningTime {
    /// A wait starting now.
    pub(super) fn start() -> RunningTime {
        RunningTime {
            counted: Duration::ZERO,
            last: Instant::now(),
        }
    }

    /// Counts the gap since the last poll (at most [`MAX_COUNTED_GAP`]); the time counted.
    pub(super) fn tick(&mut self) -> Duration {
        let now = Instant::now();
        self.counted += now
            .saturating_duration_since(self.last)
            .min(MAX_COUNTED_GAP);
        self.last = now;
        self.counted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_of_the_process_counts_as_one_gap_not_as_a_hang() {
        let mut waited = RunningTime::start();
        // A pause four times the cap, then polls a few milliseconds apart.
        std::thread::sleep(4 * MAX_COUNTED_GAP);
        assert!(waited.tick() <= MAX_COUNTED_GAP, "a pause counted in full");
        for _ in 0..5 {
            std::thread::sleep(Duration::from_millis(10));
            waited.tick();
        }
        let counted = waited.tick();
        assert!(
            counted >= MAX_COUNTED_GAP + Duration::from_millis(50),
            "short gaps must count in full: {counted:?}"
        );
        // Below the pause counted in full with the polls after it (the polls may be slow
        // on a loaded machine, so no tighter bound).
        assert!(
            counted < 4 * MAX_COUNTED_GAP + Duration::from_millis(50),
            "the pause counted in full: {counted:?}"
        );
    }
}
