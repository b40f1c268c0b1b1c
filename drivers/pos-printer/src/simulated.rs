//! Simulated hardware for a terminal running on a PC: a receipt printer that is a
//! [`Transport`] like any other, so jobs go through the real encoder, the queue and the status
//! queries, then through the real decoder, and land in a folder as text and PNG, one pair per
//! cut. The drawer kick becomes a [`HardwareEvent`] for the UI to show.
//!
//! Tests use it to play a printer that runs out of paper, has its cover open or is unplugged.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::decode::{Decoder, Event, to_text};
use crate::drawer::DrawerKick;
use crate::encode::Paper;
use crate::error::Error;
use crate::render::{render, to_png};
use crate::status::{DrawerSense, PrinterStatus};
use crate::transport::{ReturnChannel, Transport};

/// What the UI shows about the simulated hardware.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HardwareEvent {
    DrawerKicked(DrawerKick),
    /// A receipt was cut off; its text and picture are in these files.
    ReceiptPrinted {
        text: PathBuf,
        png: PathBuf,
    },
}

/// Events kept until the UI takes them; older ones are dropped past this.
pub const EVENTS_KEPT_MAX: usize = 256;
/// Status answers not yet read; a host that never reads does not grow memory.
const ANSWERS_MAX: usize = 64;

/// Whether the simulated printer is plugged in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cable {
    Plugged,
    Unplugged,
}

pub struct SimulatedPrinter {
    decoder: Decoder,
    paper: Paper,
    sense: DrawerSense,
    status: PrinterStatus,
    cable: Cable,
    answers: VecDeque<u8>,
    current: Vec<Event>,
    out_dir: PathBuf,
    receipts: usize,
    events: VecDeque<HardwareEvent>,
}

impl SimulatedPrinter {
    /// A ready printer with `paper` that files receipts in `out_dir` (created if needed).
    pub fn new(out_dir: &Path, paper: Paper) -> Result<SimulatedPrinter, Error> {
        let storage = |e: std::io::Error| Error::Storage {
            path: out_dir.display().to_string(),
            detail: e.to_string(),
        };
        std::fs::create_dir_all(out_dir).map_err(storage)?;
        let receipts = std::fs::read_dir(out_dir)
            .map_err(storage)?
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".png"))
            .count();
        Ok(SimulatedPrinter {
            decoder: Decoder::new(),
            paper,
            sense: DrawerSense::OpenWhenHigh,
            status: PrinterStatus::READY,
            cable: Cable::Plugged,
            answers: VecDeque::new(),
            current: Vec::new(),
            out_dir: out_dir.to_owned(),
            receipts,
            events: VecDeque::new(),
        })
    }

    pub fn status(&self) -> PrinterStatus {
        self.status
    }

    /// Plays a state: paper out, cover open, drawer shut again.
    pub fn set_status(&mut self, status: PrinterStatus) {
        self.status = status;
    }

    pub fn set_cable(&mut self, cable: Cable) {
        self.cable = cable;
    }

    /// Receipts cut and filed since the folder was first used.
    pub fn receipts_filed(&self) -> usize {
        self.receipts
    }

    /// Takes the events the UI has not shown yet.
    pub fn take_events(&mut self) -> Vec<HardwareEvent> {
        self.events.drain(..).collect()
    }

    fn note(&mut self, event: HardwareEvent) {
        if self.events.len() == EVENTS_KEPT_MAX {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    fn file_receipt(&mut self) -> Result<(), Error> {
        let events = std::mem::take(&mut self.current);
        self.receipts += 1;
        let stem = self.out_dir.join(format!("receipt-{:05}", self.receipts));
        let text_path = stem.with_extension("txt");
        let png_path = stem.with_extension("png");
        let storage = |e: &dyn std::fmt::Display| Error::Storage {
            path: self.out_dir.display().to_string(),
            detail: e.to_string(),
        };
        std::fs::write(&text_path, to_text(&events, self.paper.columns))
            .map_err(|e| storage(&e))?;
        let png = to_png(&render(&events, self.paper)).map_err(|e| storage(&e))?;
        std::fs::write(&png_path, png).map_err(|e| storage(&e))?;
        self.note(HardwareEvent::ReceiptPrinted {
            text: text_path,
            png: png_path,
        });
        Ok(())
    }

    fn unplugged(&self) -> Error {
        Error::Disconnected {
            device: self.name(),
        }
    }
}

impl Transport for SimulatedPrinter {
    fn name(&self) -> String {
        format!("simulated printer in {}", self.out_dir.display())
    }

    fn return_channel(&self) -> ReturnChannel {
        ReturnChannel::Bidirectional
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if self.cable == Cable::Unplugged {
            return Err(self.unplugged());
        }
        let events = self.decoder.feed(bytes).map_err(|e| Error::Io {
            device: self.name(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        for event in events {
            match event {
                Event::StatusQuery(kind) => {
                    if self.answers.len() < ANSWERS_MAX {
                        let bytes = self.status.to_bytes(self.sense);
                        self.answers.push_back(bytes[kind as usize - 1]);
                    }
                }
                Event::DrawerKick(kick) => {
                    self.status.drawer_open = true;
                    self.current.push(event);
                    self.note(HardwareEvent::DrawerKicked(kick));
                }
                Event::Cut(_) => {
                    self.current.push(event);
                    self.file_receipt()?;
                }
                Event::Init => {}
                other => self.current.push(other),
            }
        }
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, Error> {
        if self.cable == Cable::Unplugged {
            return Err(self.unplugged());
        }
        let mut n = 0;
        while n < buf.len() {
            let Some(byte) = self.answers.pop_front() else {
                break;
            };
            buf[n] = byte;
            n += 1;
        }
        if n == 0 {
            return Err(Error::Timeout {
                waited_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            });
        }
        Ok(n)
    }
}
