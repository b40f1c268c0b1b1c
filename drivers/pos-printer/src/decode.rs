//! An ESC/POS decoder: bytes back into what a printer would do with them (printed lines with
//! their style, images, barcodes, QR codes, cuts, drawer kicks, status queries). It reads
//! exactly the commands [`crate::encode`] writes, plus the harmless ones printers commonly
//! get (CR, `ESC 2`, `ESC 3 n`, `ESC M n`, `ESC -`); anything else is a typed error, so an
//! encoder bug shows instead of printing garbage.
//!
//! It is incremental: [`Decoder::feed`] takes bytes as they arrive and keeps an unfinished
//! command for the next call, which is how the simulated printer and the TCP emulator answer
//! status queries in the middle of a stream.

use pos_core::receipt::{Align, Size, Style, Weight};

use crate::codepage::CodePage;
use crate::drawer::{DrawerKick, DrawerPin};
use crate::encode::CutKind;
use crate::raster::Raster;
use crate::status::StatusKind;

/// A printed text line; an empty `text` is a blank line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintedLine {
    pub text: String,
    pub align: Align,
    pub style: Style,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Init,
    Line(PrintedLine),
    Raster {
        raster: Raster,
        align: Align,
    },
    Barcode {
        symbology: Symbology,
        data: String,
        height_dots: u8,
        module_dots: u8,
    },
    QrCode {
        data: String,
        module_dots: u8,
    },
    Cut(CutKind),
    DrawerKick(DrawerKick),
    StatusQuery(StatusKind),
}

/// The barcode system `GS k m` names, the same in function A (`m` 0–6, data ends with NUL)
/// and function B (`m` 65–73, data length first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symbology {
    UpcA,
    UpcE,
    Ean13,
    Ean8,
    Code39,
    Itf,
    Codabar,
    Code93,
    Code128,
}

impl Symbology {
    fn from_gs_k(m: u8) -> Option<Symbology> {
        let function_a = if m >= 65 { m - 65 } else { m };
        Some(match function_a {
            0 => Symbology::UpcA,
            1 => Symbology::UpcE,
            2 => Symbology::Ean13,
            3 => Symbology::Ean8,
            4 => Symbology::Code39,
            5 => Symbology::Itf,
            6 => Symbology::Codabar,
            7 if m >= 65 => Symbology::Code93,
            8 if m >= 65 => Symbology::Code128,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unsupported ESC/POS command {bytes:02x?} at byte {offset}")]
    Unsupported { offset: usize, bytes: Vec<u8> },
    #[error("the data ends inside a command ({pending} bytes unfinished)")]
    Truncated { pending: usize },
    #[error("a command at byte {offset} announces {needed} bytes; at most {limit} are accepted")]
    TooLong {
        offset: usize,
        needed: usize,
        limit: usize,
    },
}

/// The most a single command may carry (a full-width logo 2303 dots tall is 166 KB).
pub const COMMAND_BYTES_MAX: usize = 256 * 1024;

#[derive(Clone, Debug)]
struct State {
    align: Align,
    style: Style,
    code_page: CodePage,
    barcode_height_dots: u8,
    barcode_module_dots: u8,
    qr_module_dots: u8,
    qr_data: Vec<u8>,
}

impl Default for State {
    fn default() -> State {
        State {
            align: Align::Left,
            style: Style::PLAIN,
            code_page: CodePage::Pc437,
            barcode_height_dots: 162,
            barcode_module_dots: 3,
            qr_module_dots: 3,
            qr_data: Vec::new(),
        }
    }
}

/// Reads a stream of ESC/POS bytes. Keeps the printer's modes between calls.
#[derive(Clone, Debug, Default)]
pub struct Decoder {
    state: State,
    pending: Vec<u8>,
    line: String,
    line_style: Option<(Align, Style)>,
    consumed: usize,
}

enum Step {
    /// The command is not complete yet.
    More,
    /// `usize` bytes form a command, which produced these events.
    Done(usize, Vec<Event>),
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Decodes `bytes` and returns the events they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Event>, DecodeError> {
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut start = 0;
        let outcome = loop {
            if start >= pending.len() {
                break Ok(());
            }
            match self.step(&pending[start..]) {
                Ok(Step::More) => break Ok(()),
                Ok(Step::Done(used, produced)) => {
                    start += used;
                    self.consumed += used;
                    events.extend(produced);
                }
                Err(e) => break Err(e),
            }
        };
        pending.drain(..start);
        self.pending = pending;
        outcome.map(|()| events)
    }

    /// Bytes held back because their command is not complete.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    fn flush_line(&mut self) -> Event {
        let (align, style) = self
            .line_style
            .take()
            .unwrap_or((self.state.align, self.state.style));
        Event::Line(PrintedLine {
            text: std::mem::take(&mut self.line),
            align,
            style,
        })
    }

    fn unsupported(&self, bytes: &[u8]) -> DecodeError {
        DecodeError::Unsupported {
            offset: self.consumed,
            bytes: bytes.iter().take(4).copied().collect(),
        }
    }

    fn step(&mut self, buf: &[u8]) -> Result<Step, DecodeError> {
        let Some(&first) = buf.first() else {
            return Ok(Step::More);
        };
        let at = |i: usize| buf.get(i).copied();
        match first {
            0x0A => Ok(Step::Done(1, vec![self.flush_line()])),
            0x0D => Ok(Step::Done(1, Vec::new())),
            0x10 => {
                let (Some(second), Some(n)) = (at(1), at(2)) else {
                    return Ok(Step::More);
                };
                match (second, StatusKind::from_n(n)) {
                    (0x04, Some(kind)) => Ok(Step::Done(3, vec![Event::StatusQuery(kind)])),
                    _ => Err(self.unsupported(buf)),
                }
            }
            0x1B => self.esc(buf),
            0x1D => self.gs(buf),
            byte if byte >= 0x20 && byte != 0x7F => {
                if self.line.is_empty() {
                    self.line_style = Some((self.state.align, self.state.style));
                }
                self.line.push(self.state.code_page.decode_byte(byte));
                Ok(Step::Done(1, Vec::new()))
            }
            _ => Err(self.unsupported(buf)),
        }
    }

    fn esc(&mut self, buf: &[u8]) -> Result<Step, DecodeError> {
        let at = |i: usize| buf.get(i).copied();
        let Some(command) = at(1) else {
            return Ok(Step::More);
        };
        match command {
            b'@' => {
                self.state = State::default();
                self.line.clear();
                self.line_style = None;
                return Ok(Step::Done(2, vec![Event::Init]));
            }
            b'2' => return Ok(Step::Done(2, Vec::new())),
            b't' | b'a' | b'E' | b'3' | b'M' | b'-' | b'd' | b'p' => {}
            _ => return Err(self.unsupported(buf)),
        }
        let Some(n) = at(2) else {
            return Ok(Step::More);
        };
        match command {
            b't' => match CodePage::from_esc_t(n) {
                Some(page) => {
                    self.state.code_page = page;
                    Ok(Step::Done(3, Vec::new()))
                }
                None => Err(self.unsupported(buf)),
            },
            b'a' => {
                self.state.align = match n {
                    0 | b'0' => Align::Left,
                    1 | b'1' => Align::Center,
                    _ => return Err(self.unsupported(buf)),
                };
                Ok(Step::Done(3, Vec::new()))
            }
            b'E' => {
                self.state.style.weight = if n & 1 == 1 {
                    Weight::Bold
                } else {
                    Weight::Regular
                };
                Ok(Step::Done(3, Vec::new()))
            }
            b'3' | b'M' | b'-' => Ok(Step::Done(3, Vec::new())),
            b'd' => {
                let mut events = Vec::new();
                let mut feeds = usize::from(n);
                if !self.line.is_empty() && feeds > 0 {
                    events.push(self.flush_line());
                    feeds -= 1;
                }
                for _ in 0..feeds {
                    events.push(self.flush_line());
                }
                Ok(Step::Done(3, events))
            }
            b'p' => {
                let (Some(t1), Some(t2)) = (at(3), at(4)) else {
                    return Ok(Step::More);
                };
                let pin = match n {
                    0 | b'0' => DrawerPin::Pin2,
                    1 | b'1' => DrawerPin::Pin5,
                    _ => return Err(self.unsupported(buf)),
                };
                Ok(Step::Done(
                    5,
                    vec![Event::DrawerKick(DrawerKick {
                        pin,
                        on_ms: u16::from(t1) * 2,
                        off_ms: u16::from(t2) * 2,
                    })],
                ))
            }
            _ => Err(self.unsupported(buf)),
        }
    }

    fn gs(&mut self, buf: &[u8]) -> Result<Step, DecodeError> {
        let at = |i: usize| buf.get(i).copied();
        let (Some(command), Some(n)) = (at(1), at(2)) else {
            return Ok(Step::More);
        };
        match command {
            b'!' => {
                let wide = n & 0x70 != 0;
                let tall = n & 0x07 != 0;
                self.state.style.size = match (wide, tall) {
                    (false, false) => Size::Normal,
                    (false, true) => Size::DoubleHeight,
                    (true, false) => Size::DoubleWidth,
                    (true, true) => Size::Double,
                };
                Ok(Step::Done(3, Vec::new()))
            }
            b'H' | b'f' => Ok(Step::Done(3, Vec::new())),
            b'h' => {
                self.state.barcode_height_dots = n;
                Ok(Step::Done(3, Vec::new()))
            }
            b'w' => {
                self.state.barcode_module_dots = n;
                Ok(Step::Done(3, Vec::new()))
            }
            b'V' => {
                let (used, kind) = match n {
                    0 | 48 => (3, CutKind::Full),
                    1 | 49 => (3, CutKind::Partial),
                    65 => (4, CutKind::Full),
                    66 => (4, CutKind::Partial),
                    _ => return Err(self.unsupported(buf)),
                };
                if buf.len() < used {
                    return Ok(Step::More);
                }
                let mut events = Vec::new();
                if !self.line.is_empty() {
                    events.push(self.flush_line());
                }
                events.push(Event::Cut(kind));
                Ok(Step::Done(used, events))
            }
            b'k' => self.barcode(buf, n),
            b'v' if n == b'0' => self.raster(buf),
            b'(' if n == b'k' => self.qr(buf),
            _ => Err(self.unsupported(buf)),
        }
    }

    fn barcode(&mut self, buf: &[u8], m: u8) -> Result<Step, DecodeError> {
        let Some(symbology) = Symbology::from_gs_k(m) else {
            return Err(self.unsupported(buf));
        };
        let (data, used) = if m <= 6 {
            let Some(end) = buf.iter().skip(3).position(|b| *b == 0) else {
                return self.need(buf.len() + 1);
            };
            (&buf[3..3 + end], 3 + end + 1)
        } else {
            let Some(len) = buf.get(3).map(|n| usize::from(*n)) else {
                return Ok(Step::More);
            };
            if buf.len() < 4 + len {
                return Ok(Step::More);
            }
            (&buf[4..4 + len], 4 + len)
        };
        let event = Event::Barcode {
            symbology,
            data: data.iter().map(|b| char::from(*b)).collect(),
            height_dots: self.state.barcode_height_dots,
            module_dots: self.state.barcode_module_dots,
        };
        Ok(Step::Done(used, vec![event]))
    }

    fn raster(&mut self, buf: &[u8]) -> Result<Step, DecodeError> {
        if buf.len() < 8 {
            return Ok(Step::More);
        }
        let row_bytes = usize::from(u16::from_le_bytes([buf[4], buf[5]]));
        let height = u16::from_le_bytes([buf[6], buf[7]]);
        let size = row_bytes * usize::from(height);
        if buf.len() < 8 + size {
            return self.need(8 + size);
        }
        let raster = Raster {
            width_dots: u16::try_from(row_bytes * 8).unwrap_or(u16::MAX),
            height_dots: height,
            bits: buf[8..8 + size].to_vec(),
        };
        Ok(Step::Done(
            8 + size,
            vec![Event::Raster {
                raster,
                align: self.state.align,
            }],
        ))
    }

    fn qr(&mut self, buf: &[u8]) -> Result<Step, DecodeError> {
        if buf.len() < 7 {
            return Ok(Step::More);
        }
        let len = usize::from(u16::from_le_bytes([buf[3], buf[4]]));
        if buf.len() < 5 + len {
            return self.need(5 + len);
        }
        let body = &buf[5..5 + len];
        let used = 5 + len;
        match (body.first(), body.get(1), body.get(2)) {
            (Some(49), Some(65 | 69), _) => Ok(Step::Done(used, Vec::new())),
            (Some(49), Some(67), Some(size)) => {
                self.state.qr_module_dots = *size;
                Ok(Step::Done(used, Vec::new()))
            }
            (Some(49), Some(80), Some(48)) => {
                self.state.qr_data = body[3..].to_vec();
                Ok(Step::Done(used, Vec::new()))
            }
            (Some(49), Some(81), Some(48)) => {
                let data = String::from_utf8_lossy(&self.state.qr_data).into_owned();
                Ok(Step::Done(
                    used,
                    vec![Event::QrCode {
                        data,
                        module_dots: self.state.qr_module_dots,
                    }],
                ))
            }
            _ => Err(self.unsupported(buf)),
        }
    }

    fn need(&self, needed: usize) -> Result<Step, DecodeError> {
        if needed > COMMAND_BYTES_MAX {
            return Err(DecodeError::TooLong {
                offset: self.consumed,
                needed,
                limit: COMMAND_BYTES_MAX,
            });
        }
        Ok(Step::More)
    }
}

/// Decodes a whole job at once.
pub fn decode(bytes: &[u8]) -> Result<Vec<Event>, DecodeError> {
    let mut decoder = Decoder::new();
    let mut events = decoder.feed(bytes)?;
    if decoder.pending_len() > 0 {
        return Err(DecodeError::Truncated {
            pending: decoder.pending_len(),
        });
    }
    // Text left without a line feed still reached the paper on a real printer at the cut;
    // here it is simply shown.
    if !decoder.line.is_empty() {
        events.push(decoder.flush_line());
    }
    Ok(events)
}

/// The events as text: each line laid out in `columns` (half for double width), centred
/// lines padded, trailing spaces trimmed; pictures, cuts and kicks as bracketed notes.
pub fn to_text(events: &[Event], columns: usize) -> String {
    let mut out = String::new();
    for event in events {
        match event {
            Event::Line(line) => {
                let columns = pos_core::receipt::columns_for(columns, line.style);
                let shown = pos_core::receipt::padded(&line.text, line.align, columns);
                out.push_str(shown.trim_end());
                out.push('\n');
            }
            Event::Raster { raster, .. } => out.push_str(&format!(
                "[image {}x{} dots]\n",
                raster.width_dots, raster.height_dots
            )),
            Event::Barcode { data, .. } => out.push_str(&format!("[barcode {data}]\n")),
            Event::QrCode { data, .. } => out.push_str(&format!("[qr {data}]\n")),
            Event::Cut(CutKind::Full) => out.push_str("[cut]\n"),
            Event::Cut(CutKind::Partial) => out.push_str("[partial cut]\n"),
            Event::DrawerKick(kick) => out.push_str(&format!(
                "[drawer kick {:?} {} ms on {} ms off]\n",
                kick.pin, kick.on_ms, kick.off_ms
            )),
            Event::Init | Event::StatusQuery(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_split_across_reads_is_decoded_once_complete() {
        let mut decoder = Decoder::new();
        assert_eq!(decoder.feed(&[0x1B]).unwrap(), vec![]);
        assert_eq!(decoder.feed(&[0x70, 0x00]).unwrap(), vec![]);
        assert_eq!(decoder.pending_len(), 3);
        assert_eq!(
            decoder.feed(&[50, 100, 0x10, 0x04]).unwrap(),
            vec![Event::DrawerKick(DrawerKick::default())]
        );
        assert_eq!(
            decoder.feed(&[4]).unwrap(),
            vec![Event::StatusQuery(StatusKind::Paper)]
        );
    }

    #[test]
    fn the_three_byte_drawer_kick_of_other_libraries_eats_the_cut() {
        // ESC p 0 without t1 t2, then GS V 1: the printer reads GS and V as pulse times.
        let events = decode(&[0x1B, 0x70, 0x00, 0x1D, 0x56, 0x01]).unwrap_err();
        assert!(matches!(events, DecodeError::Unsupported { offset: 5, .. }));
    }

    #[test]
    fn unknown_commands_are_a_clear_error() {
        let err = decode(b"ok\x1b\x99").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported ESC/POS command [1b, 99] at byte 2"
        );
    }

    #[test]
    fn text_is_read_in_the_selected_code_page() {
        let events = decode(b"\x1bt\x13\xd5 \x82\n\x1bt\x10\x80\n").unwrap();
        let text = to_text(&events, 32);
        assert_eq!(text, "\u{20ac} \u{e9}\n\u{20ac}\n");
    }
}
