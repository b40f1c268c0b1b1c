//! Typed reasons a scan is refused, and what can go wrong with a device.
//!
//! `ScanError` messages are shown to the cashier as they are: they say what happened and what
//! to do, in words. Nothing is ever added to the cart for a refused scan.

use std::io;
use std::path::PathBuf;

/// Why a key burst or its content was not accepted as a scan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("Scan too short ({length} characters, at least {length_min} expected). Scan again.")]
    TooShort { length: usize, length_min: usize },

    #[error("Scan too long (more than {length_max} characters). Scan again.")]
    TooLong { length_max: usize },

    #[error("Scan incomplete: the scanner stopped before the end of the code. Scan again.")]
    Unterminated { length: usize },

    #[error("Scan too slow ({duration_ms} ms, at most {duration_ms_max} ms). Scan again.")]
    TooSlow {
        duration_ms: u64,
        duration_ms_max: u64,
    },

    #[error("Scan interrupted by another key ({key}). Scan again.")]
    Interrupted { key: String },

    #[error("Scan lost: the terminal missed some of the scanner's keys. Scan again.")]
    EventsLost,

    #[error(
        "Barcode misread: {symbology} check digit should be {expected}, read {found}. Scan again."
    )]
    BadCheckDigit {
        symbology: &'static str,
        expected: u8,
        found: u8,
    },

    #[error("Barcode misread: price check digit should be {expected}, read {found}. Scan again.")]
    BadPriceCheckDigit { expected: u8, found: u8 },

    #[error("Barcode not recognised ({reason}). Enter the item by hand.")]
    UnknownFormat { reason: String },

    #[error(
        "GS1 barcode has an application identifier this till does not know ({ai}). Enter the item by hand."
    )]
    UnknownApplicationIdentifier { ai: String },

    #[error("GS1 barcode field ({ai}) is invalid: {reason}. Scan again or enter the item by hand.")]
    InvalidElement { ai: String, reason: String },
}

/// How the caller should react to a refused scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanErrorKind {
    /// The scanner or the label was misread: ask for another scan.
    Misread,
    /// The code was read correctly but is not one the till understands: key the item in.
    Unsupported,
}

impl ScanError {
    pub fn kind(&self) -> ScanErrorKind {
        match self {
            ScanError::UnknownFormat { .. } | ScanError::UnknownApplicationIdentifier { .. } => {
                ScanErrorKind::Unsupported
            }
            _ => ScanErrorKind::Misread,
        }
    }
}

/// A recording in the `<usec> <KEY_NAME> <value>` text format could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordingError {
    #[error("line {line_number}: expected `<usec> <KEY_NAME> <value>`, found `{line}`")]
    BadLine { line_number: usize, line: String },
    #[error("line {line_number}: unknown key name `{name}`")]
    UnknownKey { line_number: usize, name: String },
}

/// A scanner device could not be used. Messages are for a technician.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("cannot open input device {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot take exclusive use of scanner {path} (another program holds it?): {source}")]
    Grab { path: PathBuf, source: io::Error },
    #[error("reading input device {path} failed: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("input device {path} was unplugged")]
    Unplugged { path: PathBuf },
    #[error("cannot list input devices in {path}: {source}")]
    Watch { path: PathBuf, source: io::Error },
    #[error("too many input devices (limit {limit}); {path} is not watched")]
    TooManyDevices { path: PathBuf, limit: usize },
}

/// errno for "no such device": what reading an unplugged evdev node returns.
pub(crate) const ENODEV: i32 = 19;

/// How the caller should react to a device problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceErrorKind {
    /// The device went away; hotplug picks it up again when it returns.
    Gone,
    /// The node of a device just plugged in is not readable yet: the kernel makes it for root
    /// alone and udev gives it to the input group a moment later. Worth opening again.
    NotReady,
    /// Permissions, another owner, or a kernel error: a technician must look.
    Failed,
}

impl DeviceError {
    pub fn kind(&self) -> DeviceErrorKind {
        match self {
            DeviceError::Unplugged { .. } => DeviceErrorKind::Gone,
            DeviceError::Read { source, .. } if source.raw_os_error() == Some(ENODEV) => {
                DeviceErrorKind::Gone
            }
            DeviceError::Open { source, .. }
                if source.kind() == io::ErrorKind::PermissionDenied =>
            {
                DeviceErrorKind::NotReady
            }
            _ => DeviceErrorKind::Failed,
        }
    }
}
