//! Real-time status: `DLE EOT n` (n = 1..=4) and the one status byte each query answers,
//! decoded per the ESC/POS specification. Every status byte has bit 1 and bit 4 set and bits
//! 0 and 7 clear; a byte that does not is noise on the line and is refused.

use serde::{Deserialize, Serialize};

/// Which status `DLE EOT n` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusKind {
    /// n = 1: online or offline, drawer connector pin 3.
    Printer = 1,
    /// n = 2: why the printer is offline: cover open, paper end, error.
    Offline = 2,
    /// n = 3: error causes: cutter, unrecoverable, auto-recoverable.
    Error = 3,
    /// n = 4: roll paper sensors: near end, end.
    Paper = 4,
}

impl StatusKind {
    pub const ALL: [StatusKind; 4] = [
        StatusKind::Printer,
        StatusKind::Offline,
        StatusKind::Error,
        StatusKind::Paper,
    ];

    /// The query's bytes: `DLE EOT n`, without the trailing NUL some libraries add.
    pub fn query(self) -> [u8; 3] {
        [0x10, 0x04, self as u8]
    }

    pub fn from_n(n: u8) -> Option<StatusKind> {
        StatusKind::ALL.into_iter().find(|kind| *kind as u8 == n)
    }
}

const FIXED_MASK: u8 = 0b1001_0011;
const FIXED_BITS: u8 = 0b0001_0010;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the printer answered {byte:#04x} to a status query, which is not a status byte")]
pub struct StatusByteError {
    pub byte: u8,
}

fn checked(byte: u8) -> Result<u8, StatusByteError> {
    if byte & FIXED_MASK == FIXED_BITS {
        Ok(byte)
    } else {
        Err(StatusByteError { byte })
    }
}

/// Which level of the drawer connector's pin 3 means "open": it depends on the drawer's switch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DrawerSense {
    #[default]
    OpenWhenHigh,
    OpenWhenLow,
}

/// The printer's state from all four status bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterStatus {
    pub online: bool,
    pub drawer_open: bool,
    pub cover_open: bool,
    pub paper_near_end: bool,
    pub paper_out: bool,
    pub cutter_error: bool,
    pub unrecoverable_error: bool,
}

impl PrinterStatus {
    /// All is well: online, paper in, cover shut.
    pub const READY: PrinterStatus = PrinterStatus {
        online: true,
        drawer_open: false,
        cover_open: false,
        paper_near_end: false,
        paper_out: false,
        cutter_error: false,
        unrecoverable_error: false,
    };

    /// Decodes the answers to `DLE EOT 1`, `2`, `3` and `4`, in that order.
    pub fn parse(bytes: [u8; 4], sense: DrawerSense) -> Result<PrinterStatus, StatusByteError> {
        let printer = checked(bytes[0])?;
        let offline = checked(bytes[1])?;
        let error = checked(bytes[2])?;
        let paper = checked(bytes[3])?;
        let pin3_high = printer & 0x04 != 0;
        Ok(PrinterStatus {
            online: printer & 0x08 == 0,
            drawer_open: match sense {
                DrawerSense::OpenWhenHigh => pin3_high,
                DrawerSense::OpenWhenLow => !pin3_high,
            },
            cover_open: offline & 0x04 != 0,
            // Paper end shows in two places: "printing stopped for paper end" (n=2 bit 5)
            // and the roll sensor (n=4 bits 5 and 6).
            paper_out: offline & 0x20 != 0 || paper & 0x60 == 0x60,
            paper_near_end: paper & 0x0C == 0x0C,
            cutter_error: error & 0x08 != 0,
            unrecoverable_error: error & 0x20 != 0,
        })
    }

    /// The bytes a printer in this state answers to the four queries (the emulators use it).
    pub fn to_bytes(self, sense: DrawerSense) -> [u8; 4] {
        let mut printer = FIXED_BITS;
        let pin3_high = match sense {
            DrawerSense::OpenWhenHigh => self.drawer_open,
            DrawerSense::OpenWhenLow => !self.drawer_open,
        };
        if pin3_high {
            printer |= 0x04;
        }
        if !self.online {
            printer |= 0x08;
        }
        let mut offline = FIXED_BITS;
        if self.cover_open {
            offline |= 0x04;
        }
        if self.paper_out {
            offline |= 0x20;
        }
        if self.cover_open || self.paper_out || self.cutter_error || self.unrecoverable_error {
            offline |= 0x40;
        }
        let mut error = FIXED_BITS;
        if self.cutter_error {
            error |= 0x08;
        }
        if self.unrecoverable_error {
            error |= 0x20;
        }
        let mut paper = FIXED_BITS;
        if self.paper_near_end || self.paper_out {
            paper |= 0x0C;
        }
        if self.paper_out {
            paper |= 0x60;
        }
        [printer, offline, error, paper]
    }

    /// What the cashier should know although printing goes on.
    pub fn warning(&self) -> Option<&'static str> {
        (self.paper_near_end && !self.paper_out)
            .then_some("The receipt roll is nearly used up. Have a new roll ready.")
    }

    /// What stops printing now, most specific first; `None` when a receipt can print.
    pub fn problem(&self) -> Option<PrinterProblem> {
        if self.cover_open {
            Some(PrinterProblem::CoverOpen)
        } else if self.paper_out {
            Some(PrinterProblem::PaperOut)
        } else if self.cutter_error {
            Some(PrinterProblem::CutterJammed)
        } else if self.unrecoverable_error {
            Some(PrinterProblem::Broken)
        } else if !self.online {
            Some(PrinterProblem::Offline)
        } else {
            None
        }
    }
}

/// Why the printer cannot print, in the words the cashier sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PrinterProblem {
    #[error("The receipt printer is out of paper. Load a new roll; the receipt prints then.")]
    PaperOut,
    #[error("The receipt printer's cover is open. Close it; the receipt prints then.")]
    CoverOpen,
    #[error("The receipt printer's cutter is jammed. Open the cover, clear the paper, close it.")]
    CutterJammed,
    #[error("The receipt printer reports a fault. Switch it off and on; call support if it stays.")]
    Broken,
    #[error("The receipt printer is offline. Check that it is switched on.")]
    Offline,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ready_printer_answers_the_fixed_bits_only() {
        let bytes = [0x12, 0x12, 0x12, 0x12];
        let status = PrinterStatus::parse(bytes, DrawerSense::OpenWhenHigh).unwrap();
        assert_eq!(status, PrinterStatus::READY);
        assert_eq!(status.problem(), None);
    }

    #[test]
    fn paper_out_is_read_from_the_roll_sensor_and_explained() {
        // Roll sensor: near end (bits 2,3) and end (bits 5,6).
        let status =
            PrinterStatus::parse([0x12, 0x12, 0x12, 0x7E], DrawerSense::OpenWhenHigh).unwrap();
        assert!(status.paper_out && status.paper_near_end);
        assert_eq!(status.problem(), Some(PrinterProblem::PaperOut));
        assert!(
            status
                .problem()
                .unwrap()
                .to_string()
                .contains("out of paper")
        );
    }

    #[test]
    fn paper_near_end_warns_but_still_prints() {
        let status =
            PrinterStatus::parse([0x12, 0x12, 0x12, 0x1E], DrawerSense::OpenWhenHigh).unwrap();
        assert!(status.paper_near_end && !status.paper_out);
        assert_eq!(status.problem(), None);
        assert!(status.warning().unwrap().contains("nearly used up"));
    }

    #[test]
    fn cover_open_and_offline_come_from_status_one_and_two() {
        let status =
            PrinterStatus::parse([0x1A, 0x56, 0x12, 0x12], DrawerSense::OpenWhenHigh).unwrap();
        assert!(!status.online && status.cover_open);
        assert_eq!(status.problem(), Some(PrinterProblem::CoverOpen));
    }

    #[test]
    fn the_drawer_bit_follows_the_configured_sense() {
        let high = [0x16, 0x12, 0x12, 0x12];
        assert!(
            PrinterStatus::parse(high, DrawerSense::OpenWhenHigh)
                .unwrap()
                .drawer_open
        );
        assert!(
            !PrinterStatus::parse(high, DrawerSense::OpenWhenLow)
                .unwrap()
                .drawer_open
        );
    }

    #[test]
    fn a_byte_without_the_fixed_bits_is_refused() {
        let err =
            PrinterStatus::parse([0x12, 0xFF, 0x12, 0x12], DrawerSense::OpenWhenHigh).unwrap_err();
        assert_eq!(err.byte, 0xFF);
    }

    proptest::proptest! {
        #[test]
        fn status_bytes_round_trip(online: bool, drawer_open: bool, cover_open: bool,
                                   paper_near_end: bool, paper_out: bool, cutter_error: bool,
                                   unrecoverable_error: bool, low: bool) {
            let sense = if low { DrawerSense::OpenWhenLow } else { DrawerSense::OpenWhenHigh };
            let status = PrinterStatus { online, drawer_open, cover_open,
                paper_near_end: paper_near_end || paper_out, paper_out, cutter_error,
                unrecoverable_error };
            proptest::prop_assert_eq!(PrinterStatus::parse(status.to_bytes(sense), sense).unwrap(), status);
        }
    }
}
