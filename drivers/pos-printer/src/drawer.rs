//! The cash drawer: the kick command, when a sale opens it, and the alert for a drawer left
//! open. All pure: the terminal checks permissions and logs "no sale" openings; this module
//! only answers "open or not" and "how long has it been open".

use pos_core::tender::TenderKind;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::transport::Transport;

/// The drawer connector pin the solenoid is wired to (a two-drawer cable uses both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DrawerPin {
    Pin2,
    Pin5,
}

/// `ESC p m t1 t2`: a pulse on `pin`, `on_ms` long, then `off_ms` of rest. The printer counts
/// in units of 2 ms, from 2 to 510 ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerKick {
    pub pin: DrawerPin,
    pub on_ms: u16,
    pub off_ms: u16,
}

impl Default for DrawerKick {
    /// 100 ms on, 200 ms off on pin 2: within what common drawer solenoids (24 V) ask for.
    fn default() -> DrawerKick {
        DrawerKick {
            pin: DrawerPin::Pin2,
            on_ms: 100,
            off_ms: 200,
        }
    }
}

fn units_of_2ms(ms: u16) -> u8 {
    u8::try_from((ms / 2).clamp(1, 255)).unwrap_or(u8::MAX)
}

impl DrawerKick {
    /// All five bytes. (A three-byte `ESC p m` makes the printer take the next two bytes of
    /// the receipt as the pulse times, which swallows the command that follows.)
    pub fn bytes(self) -> [u8; 5] {
        let m = match self.pin {
            DrawerPin::Pin2 => 0,
            DrawerPin::Pin5 => 1,
        };
        [
            0x1B,
            0x70,
            m,
            units_of_2ms(self.on_ms),
            units_of_2ms(self.off_ms),
        ]
    }
}

/// How the drawer is wired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DrawerConnection {
    /// The usual RJ-11 cable into the receipt printer's drawer port.
    ThroughPrinter(DrawerKick),
    /// A drawer with its own serial interface, opened by a command its maker documents
    /// (often a single byte, such as BEL).
    Serial { open_command: Vec<u8> },
}

impl DrawerConnection {
    /// The bytes that open the drawer on its transport.
    pub fn open_bytes(&self) -> Vec<u8> {
        match self {
            DrawerConnection::ThroughPrinter(kick) => crate::encode::kick_only(*kick),
            DrawerConnection::Serial { open_command } => open_command.clone(),
        }
    }
}

/// Opens the drawer now, without printing (a "no sale" the terminal has allowed and logged,
/// or a serial drawer after a cash sale).
pub fn open_drawer(
    transport: &mut dyn Transport,
    connection: &DrawerConnection,
) -> Result<(), Error> {
    transport.write_all(&connection.open_bytes())
}

/// Which tenders open the drawer. Cash does by default: the cashier puts notes in and takes
/// change out. Card or wallet sales leave it shut, so it is not open without a reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerPolicy {
    pub opening_tenders: Vec<TenderKind>,
}

impl Default for DrawerPolicy {
    fn default() -> DrawerPolicy {
        DrawerPolicy {
            opening_tenders: vec![TenderKind::Cash],
        }
    }
}

/// Why the drawer is asked to open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DrawerRequest<'a> {
    /// A sale or refund settled with these tenders.
    Settlement(&'a [TenderKind]),
    /// "No sale": the terminal has already checked the cashier's permission and logs it.
    NoSale,
}

/// The answer: open, and why (to log), or stay shut.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DrawerDecision {
    Open(DrawerOpenReason),
    StayShut,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DrawerOpenReason {
    Tender(TenderKind),
    NoSale,
}

impl DrawerPolicy {
    pub fn decide(&self, request: &DrawerRequest<'_>) -> DrawerDecision {
        match request {
            DrawerRequest::NoSale => DrawerDecision::Open(DrawerOpenReason::NoSale),
            DrawerRequest::Settlement(tenders) => tenders
                .iter()
                .find(|kind| self.opening_tenders.contains(kind))
                .map_or(DrawerDecision::StayShut, |kind| {
                    DrawerDecision::Open(DrawerOpenReason::Tender(*kind))
                }),
        }
    }
}

/// Raised by [`DrawerWatch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DrawerAlert {
    /// Open longer than allowed: show it to the cashier (once per opening).
    LeftOpen {
        open_since_ms: i64,
        open_for_ms: i64,
    },
    /// Shut again after a [`DrawerAlert::LeftOpen`]: clear the alert.
    ClosedAgain { open_for_ms: i64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Watch {
    Shut,
    Open { since_ms: i64, alerted: Alerted },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alerted {
    No,
    Yes,
}

/// Watches the drawer sensor (from `DLE EOT 1`) and alerts when the drawer stays open longer
/// than `open_ms_max`. Fed with readings and their time; reads no clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrawerWatch {
    open_ms_max: i64,
    state: Watch,
}

impl DrawerWatch {
    pub fn new(open_ms_max: i64) -> DrawerWatch {
        DrawerWatch {
            open_ms_max,
            state: Watch::Shut,
        }
    }

    pub fn is_open(&self) -> bool {
        matches!(self.state, Watch::Open { .. })
    }

    /// One reading of the sensor at `at_ms`. Readings must come in time order; an older one
    /// counts as taken now.
    pub fn observe(&mut self, drawer_open: bool, at_ms: i64) -> Option<DrawerAlert> {
        match (self.state, drawer_open) {
            (Watch::Shut, false) => None,
            (Watch::Shut, true) => {
                self.state = Watch::Open {
                    since_ms: at_ms,
                    alerted: Alerted::No,
                };
                None
            }
            (Watch::Open { since_ms, alerted }, false) => {
                self.state = Watch::Shut;
                (alerted == Alerted::Yes).then_some(DrawerAlert::ClosedAgain {
                    open_for_ms: (at_ms - since_ms).max(0),
                })
            }
            (Watch::Open { since_ms, alerted }, true) => {
                let open_for_ms = (at_ms - since_ms).max(0);
                if alerted == Alerted::No && open_for_ms > self.open_ms_max {
                    self.state = Watch::Open {
                        since_ms,
                        alerted: Alerted::Yes,
                    };
                    Some(DrawerAlert::LeftOpen {
                        open_since_ms: since_ms,
                        open_for_ms,
                    })
                } else {
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kick_is_five_bytes_for_each_pin_and_pulse() {
        assert_eq!(DrawerKick::default().bytes(), [0x1B, 0x70, 0, 50, 100]);
        let pin5 = DrawerKick {
            pin: DrawerPin::Pin5,
            on_ms: 50,
            off_ms: 500,
        };
        assert_eq!(pin5.bytes(), [0x1B, 0x70, 1, 25, 250]);
        // Out-of-range pulses are clamped into what the printer accepts.
        let extreme = DrawerKick {
            pin: DrawerPin::Pin2,
            on_ms: 0,
            off_ms: 2_000,
        };
        assert_eq!(extreme.bytes(), [0x1B, 0x70, 0, 1, 255]);
    }

    #[test]
    fn a_no_sale_kick_through_the_printer_is_init_then_the_full_command() {
        let connection = DrawerConnection::ThroughPrinter(DrawerKick::default());
        assert_eq!(
            connection.open_bytes(),
            vec![0x1B, 0x40, 0x1B, 0x70, 0, 50, 100]
        );
        let serial = DrawerConnection::Serial {
            open_command: vec![0x07],
        };
        assert_eq!(serial.open_bytes(), vec![0x07]);
    }

    #[test]
    fn cash_opens_the_drawer_and_card_does_not() {
        let policy = DrawerPolicy::default();
        assert_eq!(
            policy.decide(&DrawerRequest::Settlement(&[
                TenderKind::Card,
                TenderKind::Cash
            ])),
            DrawerDecision::Open(DrawerOpenReason::Tender(TenderKind::Cash))
        );
        assert_eq!(
            policy.decide(&DrawerRequest::Settlement(&[TenderKind::Card])),
            DrawerDecision::StayShut
        );
        assert_eq!(
            policy.decide(&DrawerRequest::NoSale),
            DrawerDecision::Open(DrawerOpenReason::NoSale)
        );
    }

    #[test]
    fn a_store_can_make_gift_cards_open_the_drawer() {
        let policy = DrawerPolicy {
            opening_tenders: vec![TenderKind::Cash, TenderKind::GiftCard],
        };
        assert_eq!(
            policy.decide(&DrawerRequest::Settlement(&[TenderKind::GiftCard])),
            DrawerDecision::Open(DrawerOpenReason::Tender(TenderKind::GiftCard))
        );
    }

    #[test]
    fn a_drawer_left_open_alerts_once_and_clears_when_shut() {
        let mut watch = DrawerWatch::new(30_000);
        assert_eq!(watch.observe(true, 1_000), None);
        assert_eq!(watch.observe(true, 31_000), None);
        assert_eq!(
            watch.observe(true, 31_001),
            Some(DrawerAlert::LeftOpen {
                open_since_ms: 1_000,
                open_for_ms: 30_001
            })
        );
        assert_eq!(watch.observe(true, 60_000), None);
        assert_eq!(
            watch.observe(false, 61_000),
            Some(DrawerAlert::ClosedAgain {
                open_for_ms: 60_000
            })
        );
        assert!(!watch.is_open());
    }

    #[test]
    fn a_drawer_shut_in_time_raises_nothing() {
        let mut watch = DrawerWatch::new(30_000);
        assert_eq!(watch.observe(true, 0), None);
        assert_eq!(watch.observe(false, 10_000), None);
        assert_eq!(watch.observe(true, 50_000), None);
        assert_eq!(watch.observe(true, 70_000), None);
    }
}
