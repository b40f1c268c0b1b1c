//! A hybrid logical clock (Kulkarni et al., 2014): wall-clock milliseconds plus a counter, so
//! journal times never go backwards on this terminal (even when its wall clock does) and an
//! event received from another terminal orders after the events that caused it.
//!
//! Pure: physical time is passed in. A remote time too far ahead of our wall clock is refused
//! rather than adopted, so one terminal with a wrong clock cannot drag the others' forward.

use std::fmt;

use pos_core::clock::Timestamp;

/// One instant of the hybrid clock. Orders by wall time, then counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HlcTime {
    pub wall_ms: i64,
    pub counter: u32,
}

impl HlcTime {
    pub const ZERO: HlcTime = HlcTime {
        wall_ms: 0,
        counter: 0,
    };
}

impl fmt::Display for HlcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:05}", self.wall_ms, self.counter)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HlcError {
    #[error(
        "a remote time {remote} is {ahead_ms} ms ahead of this terminal's clock (at most \
         {drift_ms_max} ms allowed); check the clocks"
    )]
    TooFarAhead {
        remote: HlcTime,
        ahead_ms: i64,
        drift_ms_max: i64,
    },
    #[error("the clock counter overflowed at {0}")]
    CounterOverflow(HlcTime),
}

/// The clock state of one terminal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hlc {
    last: HlcTime,
    drift_ms_max: i64,
}

/// Default largest accepted lead of a remote clock over ours: one minute.
pub const DRIFT_MS_MAX: i64 = 60_000;

impl Hlc {
    /// Resumes from the last time this terminal issued (read back from the journal).
    pub fn resume(last: HlcTime, drift_ms_max: i64) -> Hlc {
        Hlc { last, drift_ms_max }
    }

    pub fn last(&self) -> HlcTime {
        self.last
    }

    /// The time for a local event at wall time `now`.
    pub fn tick(&mut self, now: Timestamp) -> Result<HlcTime, HlcError> {
        let wall_ms = now.unix_ms();
        self.last = if wall_ms > self.last.wall_ms {
            HlcTime {
                wall_ms,
                counter: 0,
            }
        } else {
            self.bumped(self.last)?
        };
        Ok(self.last)
    }

    /// Merges a time received from another terminal at local wall time `now`.
    pub fn observe(&mut self, remote: HlcTime, now: Timestamp) -> Result<HlcTime, HlcError> {
        let wall_ms = now.unix_ms();
        let ahead_ms = remote.wall_ms.saturating_sub(wall_ms);
        if ahead_ms > self.drift_ms_max {
            return Err(HlcError::TooFarAhead {
                remote,
                ahead_ms,
                drift_ms_max: self.drift_ms_max,
            });
        }
        let top = self.last.max(remote);
        self.last = if wall_ms > top.wall_ms {
            HlcTime {
                wall_ms,
                counter: 0,
            }
        } else {
            self.bumped(top)?
        };
        Ok(self.last)
    }

    fn bumped(&self, time: HlcTime) -> Result<HlcTime, HlcError> {
        let counter = time
            .counter
            .checked_add(1)
            .ok_or(HlcError::CounterOverflow(time))?;
        Ok(HlcTime {
            wall_ms: time.wall_ms,
            counter,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_ms(ms)
    }

    #[test]
    fn a_clock_stepping_back_does_not_reorder_events() {
        let mut hlc = Hlc::resume(HlcTime::ZERO, DRIFT_MS_MAX);
        let first = hlc.tick(at(10_000)).unwrap();
        let second = hlc.tick(at(4_000)).unwrap();
        assert!(second > first);
        assert_eq!(second.wall_ms, 10_000);
        assert_eq!(second.counter, 1);
        assert_eq!(hlc.tick(at(10_001)).unwrap().counter, 0);
    }

    #[test]
    fn a_remote_event_orders_before_what_it_caused() {
        let mut hlc = Hlc::resume(HlcTime::ZERO, DRIFT_MS_MAX);
        let remote = HlcTime {
            wall_ms: 20_000,
            counter: 7,
        };
        let merged = hlc.observe(remote, at(19_000)).unwrap();
        assert!(merged > remote);
        assert!(hlc.tick(at(19_500)).unwrap() > merged);
    }

    #[test]
    fn a_remote_clock_far_ahead_is_refused() {
        let mut hlc = Hlc::resume(HlcTime::ZERO, 1_000);
        let remote = HlcTime {
            wall_ms: 50_000,
            counter: 0,
        };
        let error = hlc.observe(remote, at(10_000)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "a remote time 50000.00000 is 40000 ms ahead of this terminal's clock (at most 1000 ms allowed); check the clocks"
        );
        assert_eq!(hlc.last(), HlcTime::ZERO);
    }

    proptest! {
        #[test]
        fn times_strictly_increase_whatever_the_wall_clock_does(
            walls in proptest::collection::vec(0i64..1_000_000, 1..200)
        ) {
            let mut hlc = Hlc::resume(HlcTime::ZERO, DRIFT_MS_MAX);
            let mut previous = HlcTime::ZERO;
            for wall in walls {
                let next = hlc.tick(at(wall)).unwrap();
                prop_assert!(next > previous);
                prop_assert!(next.wall_ms >= wall);
                previous = next;
            }
        }
    }
}
