//! A hybrid logical clock (Kulkarni et al., 2014): physical milliseconds plus a logical
//! counter, so that every event a device records is ordered after everything it has seen,
//! while staying close to wall time.
//!
//! The clock reads no time itself: the caller passes the wall clock in. A remote timestamp
//! further ahead of our wall clock than `drift_ms_max` is refused, so one terminal with a
//! clock set to next year cannot drag every other clock (and every last-writer-wins decision)
//! with it.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A point on the hybrid logical clock. Ordered by wall time, then counter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HlcTime {
    /// Milliseconds since the Unix epoch, UTC: the largest wall time seen so far.
    pub wall_ms: i64,
    /// Events within the same `wall_ms`, in the order they were made or seen.
    pub counter: u32,
}

impl HlcTime {
    pub const ZERO: HlcTime = HlcTime {
        wall_ms: 0,
        counter: 0,
    };

    pub const fn new(wall_ms: i64, counter: u32) -> HlcTime {
        HlcTime { wall_ms, counter }
    }
}

impl Ord for HlcTime {
    fn cmp(&self, other: &HlcTime) -> Ordering {
        self.wall_ms
            .cmp(&other.wall_ms)
            .then(self.counter.cmp(&other.counter))
    }
}

impl PartialOrd for HlcTime {
    fn partial_cmp(&self, other: &HlcTime) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for HlcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.wall_ms, self.counter)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HlcError {
    #[error(
        "a clock is {ahead_ms} ms ahead of this one (at most {drift_ms_max} ms is accepted); \
         check the date and time settings of the device that sent it"
    )]
    DriftTooLarge { ahead_ms: i64, drift_ms_max: i64 },
    #[error("the logical clock counter overflowed within one millisecond")]
    CounterOverflow,
}

/// The clock of one device (a terminal or the fleet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HlcClock {
    last: HlcTime,
    drift_ms_max: i64,
}

impl HlcClock {
    /// A clock that has seen nothing yet. Resume a clock after a restart with
    /// [`HlcClock::resume`] so that it never goes back.
    pub fn new(drift_ms_max: i64) -> HlcClock {
        HlcClock::resume(HlcTime::ZERO, drift_ms_max)
    }

    /// A clock that continues after `last`, the largest time it had issued or seen.
    pub fn resume(last: HlcTime, drift_ms_max: i64) -> HlcClock {
        HlcClock {
            last,
            drift_ms_max: drift_ms_max.max(0),
        }
    }

    pub fn last(&self) -> HlcTime {
        self.last
    }

    /// The time of a new local event (or of a message about to be sent).
    pub fn tick(&mut self, now_ms: i64) -> Result<HlcTime, HlcError> {
        let next = if now_ms > self.last.wall_ms {
            HlcTime::new(now_ms, 0)
        } else {
            HlcTime::new(
                self.last.wall_ms,
                self.last
                    .counter
                    .checked_add(1)
                    .ok_or(HlcError::CounterOverflow)?,
            )
        };
        self.last = next;
        Ok(next)
    }

    /// Takes in a time seen from another device, so that what happens here next is ordered
    /// after it. Refused, leaving the clock untouched, when it is too far ahead of `now_ms`.
    pub fn observe(&mut self, remote: HlcTime, now_ms: i64) -> Result<HlcTime, HlcError> {
        let ahead_ms = remote.wall_ms.saturating_sub(now_ms);
        if ahead_ms > self.drift_ms_max {
            return Err(HlcError::DriftTooLarge {
                ahead_ms,
                drift_ms_max: self.drift_ms_max,
            });
        }
        let wall_ms = now_ms.max(self.last.wall_ms).max(remote.wall_ms);
        let counter = if wall_ms == self.last.wall_ms && wall_ms == remote.wall_ms {
            self.last.counter.max(remote.counter).checked_add(1)
        } else if wall_ms == self.last.wall_ms {
            self.last.counter.checked_add(1)
        } else if wall_ms == remote.wall_ms {
            remote.counter.checked_add(1)
        } else {
            Some(0)
        };
        let next = HlcTime::new(wall_ms, counter.ok_or(HlcError::CounterOverflow)?);
        self.last = next;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DRIFT_MS_MAX: i64 = 60_000;

    #[test]
    fn follows_the_wall_clock_when_it_moves_forward() {
        let mut clock = HlcClock::new(DRIFT_MS_MAX);
        assert_eq!(clock.tick(1_000), Ok(HlcTime::new(1_000, 0)));
        assert_eq!(clock.tick(1_005), Ok(HlcTime::new(1_005, 0)));
    }

    #[test]
    fn never_goes_back_when_the_wall_clock_does() {
        let mut clock = HlcClock::new(DRIFT_MS_MAX);
        clock.tick(5_000).unwrap();
        // Someone set the terminal's clock back by two seconds: events still move forward.
        assert_eq!(clock.tick(3_000), Ok(HlcTime::new(5_000, 1)));
        assert_eq!(clock.tick(3_001), Ok(HlcTime::new(5_000, 2)));
    }

    #[test]
    fn orders_local_events_after_a_remote_one_from_a_faster_clock() {
        let mut clock = HlcClock::new(DRIFT_MS_MAX);
        clock.tick(1_000).unwrap();
        let seen = clock.observe(HlcTime::new(2_000, 7), 1_100).unwrap();
        assert_eq!(seen, HlcTime::new(2_000, 8));
        assert!(clock.tick(1_200).unwrap() > HlcTime::new(2_000, 7));
    }

    #[test]
    fn refuses_a_remote_clock_too_far_ahead_and_stays_put() {
        let mut clock = HlcClock::new(DRIFT_MS_MAX);
        clock.tick(1_000).unwrap();
        let err = clock
            .observe(HlcTime::new(1_000 + DRIFT_MS_MAX + 1, 0), 1_000)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "a clock is 60001 ms ahead of this one (at most 60000 ms is accepted); \
             check the date and time settings of the device that sent it"
        );
        assert_eq!(clock.last(), HlcTime::new(1_000, 0));
    }

    #[test]
    fn a_resumed_clock_continues_after_what_it_had_issued() {
        let mut clock = HlcClock::resume(HlcTime::new(9_000, 3), DRIFT_MS_MAX);
        assert_eq!(clock.tick(8_000), Ok(HlcTime::new(9_000, 4)));
    }

    #[test]
    fn a_full_counter_is_an_error_not_a_wrap() {
        let mut clock = HlcClock::resume(HlcTime::new(9_000, u32::MAX), DRIFT_MS_MAX);
        assert_eq!(clock.tick(9_000), Err(HlcError::CounterOverflow));
    }

    #[derive(Clone, Debug)]
    enum Step {
        Tick(i64),
        Observe(i64, u32, i64),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0i64..100_000).prop_map(Step::Tick),
            (0i64..100_000, 0u32..5, 0i64..100_000).prop_map(|(w, c, n)| Step::Observe(w, c, n)),
        ]
    }

    proptest! {
        /// Whatever the wall clock does, times issued are strictly increasing, and every time
        /// after an accepted observation is greater than the observed one.
        #[test]
        fn times_strictly_increase_and_follow_what_was_seen(steps in prop::collection::vec(step(), 1..200)) {
            let mut clock = HlcClock::new(DRIFT_MS_MAX);
            let mut previous = clock.last();
            for step in steps {
                let issued = match step {
                    Step::Tick(now) => clock.tick(now),
                    Step::Observe(wall, counter, now) => {
                        let remote = HlcTime::new(wall, counter);
                        let result = clock.observe(remote, now);
                        if let Ok(time) = result {
                            prop_assert!(time > remote);
                        }
                        result
                    }
                };
                if let Ok(time) = issued {
                    prop_assert!(time > previous);
                    previous = time;
                }
                prop_assert_eq!(clock.last(), previous);
            }
        }
    }
}
