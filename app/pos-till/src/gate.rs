//! The PIN check at the doors beside the till: the service screen and the back office. Like the
//! login, it counts wrong PINs per person; unlike the login, where a manager is at hand to
//! unlock a cashier, the doors are for managers and technicians themselves, so a person who
//! gets the PIN wrong too often is refused for a while and then may try again.
//!
//! One gate serves both doors, so guessing cannot switch from one to the other. The time is
//! passed in, as everywhere in the till.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use pos_core::access::Actor;
use pos_core::clock::Timestamp;
use pos_core::id::UserId;

use crate::port::Staff;

/// Wrong PINs in a row before a person must wait.
pub const GATE_PIN_TRIES_MAX: u32 = 5;
/// How long a person waits after too many wrong PINs.
pub const GATE_LOCKOUT_MS: i64 = 5 * 60 * 1000;

/// Why the door stays shut, in words for the person in front of it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GateRefusal {
    #[error("wrong PIN for {name}; {tries_left} more tries before {name} must wait 5 minutes")]
    WrongPin { name: String, tries_left: u32 },
    #[error("too many wrong PINs for {name}; try again in {minutes_left} min")]
    LockedOut { name: String, minutes_left: i64 },
    #[error("no one called {0} works here")]
    UnknownPerson(String),
}

#[derive(Clone, Copy, Debug, Default)]
struct Tries {
    failures: u32,
    locked_until: Option<Timestamp>,
}

/// The people who may sign in and the wrong PINs counted against them. Shared (on the UI
/// thread) by every door that asks for a PIN.
pub struct PinGate {
    staff: Rc<dyn Staff>,
    tries: RefCell<BTreeMap<UserId, Tries>>,
}

impl PinGate {
    pub fn new(staff: Rc<dyn Staff>) -> PinGate {
        PinGate {
            staff,
            tries: RefCell::new(BTreeMap::new()),
        }
    }

    /// Everyone with a PIN, in the order the login shows them.
    pub fn people(&self) -> Vec<Actor> {
        self.staff.people()
    }

    /// `user` with `pin` at `now`: the person, or why not. A right PIN clears the count; a
    /// locked-out person is refused without the PIN being looked at.
    pub fn check(&self, user: &UserId, pin: &str, now: Timestamp) -> Result<Actor, GateRefusal> {
        let person = self
            .people()
            .into_iter()
            .find(|person| person.user == *user)
            .ok_or_else(|| GateRefusal::UnknownPerson(user.to_string()))?;
        let mut all = self.tries.borrow_mut();
        let tries = all.entry(user.clone()).or_default();
        if let Some(until) = tries.locked_until {
            if now < until {
                let ms_left = until.unix_ms() - now.unix_ms();
                return Err(GateRefusal::LockedOut {
                    name: person.name,
                    minutes_left: (ms_left + 59_999) / 60_000,
                });
            }
            *tries = Tries::default();
        }
        if self.staff.pin_matches(user, pin.trim()) {
            all.remove(user);
            return Ok(person);
        }
        tries.failures += 1;
        if tries.failures >= GATE_PIN_TRIES_MAX {
            tries.locked_until = Some(now.plus_ms(GATE_LOCKOUT_MS));
            return Err(GateRefusal::LockedOut {
                name: person.name,
                minutes_left: GATE_LOCKOUT_MS / 60_000,
            });
        }
        Err(GateRefusal::WrongPin {
            name: person.name,
            tries_left: GATE_PIN_TRIES_MAX - tries.failures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStaff;

    const ANNA: &str = "anna";

    fn gate() -> PinGate {
        PinGate::new(Rc::new(MemoryStaff::demo()))
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_ms(1_800_000_000_000 + ms)
    }

    const ANNA_PIN: &str = "1234";

    #[test]
    fn five_wrong_pins_shut_the_door_for_five_minutes_even_for_the_right_pin() {
        let gate = gate();
        let anna = UserId::new(ANNA);
        for left in (1..GATE_PIN_TRIES_MAX).rev() {
            let refused = gate.check(&anna, "0000", at(0));
            assert!(
                matches!(refused, Err(GateRefusal::WrongPin { tries_left, .. }) if tries_left == left),
                "{refused:?}"
            );
        }
        let locked = gate.check(&anna, "0000", at(0));
        assert!(matches!(
            locked,
            Err(GateRefusal::LockedOut {
                minutes_left: 5,
                ..
            })
        ));
        let still = gate.check(&anna, ANNA_PIN, at(GATE_LOCKOUT_MS - 61_000));
        assert!(
            matches!(
                still,
                Err(GateRefusal::LockedOut {
                    minutes_left: 2,
                    ..
                })
            ),
            "{still:?}"
        );
        assert_eq!(
            still.err().map(|e| e.to_string()).as_deref(),
            Some("too many wrong PINs for Anna; try again in 2 min")
        );
        let person = gate.check(&anna, ANNA_PIN, at(GATE_LOCKOUT_MS));
        assert_eq!(person.map(|p| p.user), Ok(anna));
    }

    #[test]
    fn a_right_pin_clears_the_count_and_people_are_counted_apart() {
        let gate = gate();
        let anna = UserId::new(ANNA);
        for _ in 1..GATE_PIN_TRIES_MAX {
            assert!(gate.check(&anna, "0000", at(0)).is_err());
        }
        assert!(gate.check(&anna, ANNA_PIN, at(1)).is_ok());
        let again = gate.check(&anna, "0000", at(2));
        assert!(
            matches!(again, Err(GateRefusal::WrongPin { tries_left, .. }) if tries_left == GATE_PIN_TRIES_MAX - 1)
        );
        let someone = gate.people().into_iter().find(|p| p.user != anna);
        let other = someone.map(|p| p.user);
        assert!(matches!(
            other.map(|user| gate.check(&user, "0000", at(3))),
            Some(Err(GateRefusal::WrongPin { tries_left, .. })) if tries_left == GATE_PIN_TRIES_MAX - 1
        ));
        assert_eq!(
            gate.check(&UserId::new("nobody"), "1234", at(4)).err(),
            Some(GateRefusal::UnknownPerson("nobody".to_owned()))
        );
    }
}
