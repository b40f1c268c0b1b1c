use pos_core::clock::{LocalTime, Timestamp};
use time::{Date, PrimitiveDateTime, Time, UtcOffset};

use crate::ReportError;

/// Whole days of the shop's calendar, `from` to `to` inclusive, in the shop's UTC offset: a
/// report for "1 to 31 March" covers every sale rung up on those days as the shop's clock
/// showed them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    from: Date,
    to: Date,
    offset: UtcOffset,
    start: Timestamp,
    end: Timestamp,
}

impl Period {
    /// A period of whole local days. `from` after `to` is refused; `from == to` is one day.
    pub fn new(from: Date, to: Date, offset: UtcOffset) -> Result<Period, ReportError> {
        if from > to {
            return Err(ReportError::BackwardsPeriod { from, to });
        }
        let after = to.next_day().ok_or(ReportError::PeriodOutOfRange)?;
        Ok(Period {
            from,
            to,
            offset,
            start: midnight(from, offset),
            end: midnight(after, offset),
        })
    }

    pub fn from(&self) -> Date {
        self.from
    }

    pub fn to(&self) -> Date {
        self.to
    }

    pub fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// The first instant of the period.
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// The first instant after the period (exclusive).
    pub fn end(&self) -> Timestamp {
        self.end
    }

    pub fn contains(&self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }

    /// The shop's wall clock at `at`.
    pub fn local(&self, at: Timestamp) -> LocalTime {
        at.local(self.offset)
    }

    /// `2026-03-01 to 2026-03-31 (UTC+01:00)`, or one date for a single day.
    pub fn label(&self) -> String {
        let (hours, minutes, _) = self.offset.as_hms();
        let sign = if self.offset.is_negative() { '-' } else { '+' };
        let zone = format!("UTC{sign}{:02}:{:02}", hours.abs(), minutes.abs());
        if self.from == self.to {
            format!("{} ({zone})", self.from)
        } else {
            format!("{} to {} ({zone})", self.from, self.to)
        }
    }
}

fn midnight(date: Date, offset: UtcOffset) -> Timestamp {
    let instant = PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_offset(offset);
    let ms = instant.unix_timestamp_nanos() / 1_000_000;
    // Every `Date` is within a few hundred thousand years of 1970, far inside i64 ms.
    Timestamp::from_unix_ms(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// `2026-03-02 10:05` on the shop's clock.
pub(crate) fn local_minute(local: LocalTime) -> String {
    format!(
        "{} {:02}:{:02}",
        local.date,
        local.minute_of_day / 60,
        local.minute_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, offset};

    #[test]
    fn a_day_runs_from_local_midnight_to_local_midnight() {
        let day = Period::new(date!(2026 - 03 - 02), date!(2026 - 03 - 02), offset!(+1)).unwrap();
        // Midnight in Berlin (UTC+1) is 23:00 UTC the evening before.
        assert_eq!(day.start().unix_ms(), 1_772_406_000_000);
        assert_eq!(day.end().unix_ms() - day.start().unix_ms(), 86_400_000);
        assert!(day.contains(day.start()));
        assert!(!day.contains(day.end()));
        assert!(!day.contains(day.start().plus_ms(-1)));
        assert_eq!(day.label(), "2026-03-02 (UTC+01:00)");
    }

    #[test]
    fn a_period_that_ends_before_it_starts_is_refused_with_a_clear_message() {
        let error =
            Period::new(date!(2026 - 03 - 31), date!(2026 - 03 - 01), offset!(+1)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the report period starts on 2026-03-31 but ends on 2026-03-01: \
             choose a start on or before the end"
        );
    }

    #[test]
    fn labels_show_the_range_and_a_negative_offset() {
        let week =
            Period::new(date!(2026 - 03 - 02), date!(2026 - 03 - 08), offset!(-5:30)).unwrap();
        assert_eq!(week.label(), "2026-03-02 to 2026-03-08 (UTC-05:30)");
    }
}
