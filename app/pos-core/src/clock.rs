//! Time as data. The core never reads a clock: every operation that needs the time takes a
//! [`Timestamp`] (and, for rules that follow the shop's wall clock, a [`LocalTime`]).

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, UtcOffset, Weekday};

/// A point in time, in milliseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

pub const MS_PER_DAY: i64 = 86_400_000;

impl Timestamp {
    pub const fn from_unix_ms(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    pub const fn unix_ms(self) -> i64 {
        self.0
    }

    pub fn plus_ms(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }

    pub fn minus_days(self, days: i64) -> Timestamp {
        Timestamp(self.0.saturating_sub(days.saturating_mul(MS_PER_DAY)))
    }

    /// The UTC date and time, for printing. Out-of-range values clamp to the epoch.
    pub fn to_utc(self) -> OffsetDateTime {
        let nanos = i128::from(self.0) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The shop's wall-clock time at this instant, given its UTC offset.
    pub fn local(self, offset: UtcOffset) -> LocalTime {
        let local = self.to_utc().to_offset(offset);
        LocalTime {
            date: local.date(),
            minute_of_day: u16::from(local.hour()) * 60 + u16::from(local.minute()),
        }
    }
}

/// The shop's wall-clock date and minute of the day, for time-windowed promotions, expiry
/// checks and reports by day or hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LocalTime {
    pub date: Date,
    /// 0..1440.
    pub minute_of_day: u16,
}

impl LocalTime {
    pub fn weekday(&self) -> Weekday {
        self.date.weekday()
    }

    pub fn hour(&self) -> u8 {
        // minute_of_day < 1440, so the hour fits in a u8.
        u8::try_from(self.minute_of_day / 60).unwrap_or(23)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, offset};

    #[test]
    fn local_time_follows_the_shop_offset() {
        // 2026-03-06 23:30 UTC is Saturday 00:30 in Berlin (UTC+1 in March).
        let at = Timestamp::from_unix_ms(1_772_839_800_000);
        let local = at.local(offset!(+1));
        assert_eq!(local.date, date!(2026 - 03 - 07));
        assert_eq!(local.minute_of_day, 30);
        assert_eq!(local.weekday(), Weekday::Saturday);
    }
}
