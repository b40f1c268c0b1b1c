//! The one error type of this crate. Every variant reads as a sentence the cashier or the
//! technician can act on; [`Error::kind`] is what the terminal branches on.

use crate::status::{PrinterProblem, StatusByteError};

/// What the caller must react to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Offline,
    PaperOut,
    CoverOpen,
    /// Cutter jam or another fault the printer reports.
    Fault,
    Timeout,
    Disconnected,
    NotFound,
    /// The print queue's folder could not be read or written.
    Storage,
    /// The caller asked for something that does not exist or is not allowed (unknown job).
    Request,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Printer(PrinterProblem),
    #[error("The receipt printer did not answer within {waited_ms} ms. Check its cable and power.")]
    Timeout { waited_ms: u64 },
    #[error(
        "The receipt printer was disconnected ({device}). Plug it back in; the receipt prints then."
    )]
    Disconnected { device: String },
    #[error("No printer found at {device}: {detail}")]
    NotFound { device: String, detail: String },
    #[error("The receipt printer sent an unreadable status: {0}")]
    Status(#[from] StatusByteError),
    #[error("Printer connection {device} failed: {source}")]
    Io {
        device: String,
        source: std::io::Error,
    },
    #[error("The print queue in {path} cannot be used: {detail}")]
    Storage { path: String, detail: String },
    #[error("{0}")]
    Request(String),
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Printer(PrinterProblem::PaperOut) => ErrorKind::PaperOut,
            Error::Printer(PrinterProblem::CoverOpen) => ErrorKind::CoverOpen,
            Error::Printer(PrinterProblem::Offline) => ErrorKind::Offline,
            Error::Printer(PrinterProblem::CutterJammed | PrinterProblem::Broken)
            | Error::Status(_) => ErrorKind::Fault,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Disconnected { .. } | Error::Io { .. } => ErrorKind::Disconnected,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Storage { .. } => ErrorKind::Storage,
            Error::Request(_) => ErrorKind::Request,
        }
    }

    /// Sorts an IO error from a device into what the cashier can do about it.
    pub fn from_io(device: &str, source: std::io::Error, waited_ms: u64) -> Error {
        use std::io::ErrorKind as Io;
        match source.kind() {
            Io::TimedOut | Io::WouldBlock => Error::Timeout { waited_ms },
            Io::BrokenPipe
            | Io::ConnectionReset
            | Io::ConnectionAborted
            | Io::NotConnected
            | Io::UnexpectedEof => Error::Disconnected {
                device: device.to_owned(),
            },
            Io::NotFound => Error::NotFound {
                device: device.to_owned(),
                detail: source.to_string(),
            },
            // ENODEV and EIO: a USB printer pulled out while its device file is open.
            _ if matches!(source.raw_os_error(), Some(5 | 19)) => Error::Disconnected {
                device: device.to_owned(),
            },
            _ => Error::Io {
                device: device.to_owned(),
                source,
            },
        }
    }
}
