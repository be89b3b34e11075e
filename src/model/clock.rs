//! Time: the [`Timestamp`] every record and description carries, and the [`Clock`] it comes
//! from.
//!
//! Tests move time with a [`ManualClock`] instead of sleeping (point-in-time windows of 35
//! days, backup expiry, rate limits). Commit times must never go backwards even when the
//! wall clock steps back, so the database keeps its own high-water mark on top of whatever
//! the clock says (see `Database`'s commit path).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A moment, in milliseconds since the Unix epoch.
///
/// In JSON it is what DynamoDB sends: epoch seconds as a number with the milliseconds as a
/// fraction (`1576616366.715`).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    bincode::Encode,
    bincode::Decode,
)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The timestamp `millis` milliseconds after the epoch.
    pub fn from_millis(millis: u64) -> Timestamp {
        Timestamp(millis)
    }

    /// Milliseconds since the epoch.
    pub fn millis(self) -> u64 {
        self.0
    }

    /// Seconds since the epoch, with the milliseconds as a fraction.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// This moment plus `days` days.
    pub fn plus_days(self, days: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(days.saturating_mul(86_400_000)))
    }

    /// The ISO 8601 form DynamoDB uses in stream labels: `2019-11-30T12:00:00.000`.
    pub fn to_iso8601(self) -> String {
        let secs = self.0 / 1000;
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (year, month, day) = civil_from_days(days as i64);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            self.0 % 1000
        )
    }
}

impl Timestamp {
    /// Reads [`Timestamp::to_iso8601`]'s form back (`2019-11-30T12:00:00.000`); `None` for
    /// anything else.
    pub(crate) fn from_iso8601(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        let shape = b.len() == 23
            && [4, 7].iter().all(|&i| b[i] == b'-')
            && b[10] == b'T'
            && [13, 16].iter().all(|&i| b[i] == b':')
            && b[19] == b'.';
        if !shape {
            return None;
        }
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let digits = text.get(range)?;
            digits
                .bytes()
                .all(|d| d.is_ascii_digit())
                .then(|| digits.parse().ok())?
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second, ms) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return None;
        }
        // Days from civil (the inverse of `civil_from_days`).
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (month + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let ms = ((days * 86_400 + hour * 3600 + minute * 60 + second) * 1000) + ms;
        let time = Timestamp(u64::try_from(ms).ok()?);
        (time.to_iso8601() == text).then_some(time)
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_secs_f64())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let secs = f64::deserialize(deserializer)?;
        if !(0.0..=1.0e13).contains(&secs) {
            return Err(serde::de::Error::custom(format!(
                "timestamp {secs} is out of range"
            )));
        }
        Ok(Timestamp((secs * 1000.0).round() as u64))
    }
}

/// Where tidestore reads the time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time. May go backwards (the database guards against that).
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(since.as_millis() as u64)
    }
}

/// A clock that moves only when told to, for deterministic tests.
#[derive(Debug, Default)]
pub struct ManualClock {
    millis: AtomicU64,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock {
            millis: AtomicU64::new(start.0),
        }
    }

    /// Moves the clock to `to` (backwards too, to test that commit times stay monotonic).
    pub fn set(&self, to: Timestamp) {
        self.millis.store(to.0, Ordering::SeqCst);
    }

    /// Moves the clock forward by `millis`.
    pub fn advance(&self, millis: u64) {
        self.millis.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.millis.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_as_epoch_seconds_with_milliseconds() {
        let t = Timestamp(1_576_616_366_715);
        assert_eq!(
            serde_json::to_string(&t).expect("serializes"),
            "1576616366.715"
        );
        let back: Timestamp = serde_json::from_str("1576616366.715").expect("parses");
        assert_eq!(back, t);
    }

    #[test]
    fn iso8601_matches_known_dates() {
        assert_eq!(Timestamp(0).to_iso8601(), "1970-01-01T00:00:00.000");
        assert_eq!(
            Timestamp(1_576_616_366_715).to_iso8601(),
            "2019-12-17T20:59:26.715"
        );
        assert_eq!(
            Timestamp(951_782_400_000).to_iso8601(),
            "2000-02-29T00:00:00.000"
        );
    }
}
