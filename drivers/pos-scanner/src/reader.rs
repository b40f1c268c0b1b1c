//! The codec and the decoder joined: key events in, decoded scans out. The evdev transport
//! and the simulated scanner both drive this one type, so a scan on a desktop keyboard goes
//! through exactly the rules a real scanner does.

use time::Date;

use crate::codec::{BurstCodec, BurstRules, CodecOutput, Keystroke, Scan, Source};
use crate::decode::{Decoded, Decoder};
use crate::error::{RecordingError, ScanError};
use crate::key::{KeyCode, KeyEvent};
use crate::layout::{Layout, Level};

/// What a reader produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderOutput {
    Scanned {
        scan: Scan,
        decoded: Decoded,
    },
    /// A refused scan; `text` is what was read, for the log (not for the cashier).
    Rejected {
        error: ScanError,
        text: Option<String>,
    },
    /// A key typed by a person (keyboard sources only).
    Typed(Keystroke),
}

#[derive(Debug)]
pub struct ScanReader {
    codec: BurstCodec,
    decoder: Decoder,
}

impl ScanReader {
    pub fn new(rules: BurstRules, source: Source, layout: Layout, decoder: Decoder) -> ScanReader {
        ScanReader {
            codec: BurstCodec::new(rules, source, layout),
            decoder,
        }
    }

    pub fn handle_event(&mut self, event: KeyEvent) {
        self.codec.handle_event(event);
    }

    pub fn handle_timeout(&mut self, now_us: u64) {
        self.codec.handle_timeout(now_us);
    }

    pub fn handle_events_lost(&mut self) {
        self.codec.handle_events_lost();
    }

    pub fn poll_timeout(&self) -> Option<u64> {
        self.codec.poll_timeout()
    }

    /// The next result; `today` resolves two-digit years in GS1 dates.
    pub fn poll_output(&mut self, today: Date) -> Option<ReaderOutput> {
        Some(match self.codec.poll_output()? {
            CodecOutput::Typed(keystroke) => ReaderOutput::Typed(keystroke),
            CodecOutput::Rejected(error) => ReaderOutput::Rejected { error, text: None },
            CodecOutput::Scan(scan) => match self.decoder.decode(&scan.text, today) {
                Ok(decoded) => ReaderOutput::Scanned { scan, decoded },
                Err(error) => ReaderOutput::Rejected {
                    error,
                    text: Some(scan.text),
                },
            },
        })
    }

    /// Feeds a whole recording, resolving gaps between events as the transport would, and
    /// returns everything produced (including the final timeout).
    pub fn replay(&mut self, events: &[KeyEvent], today: Date) -> Vec<ReaderOutput> {
        let mut outputs = Vec::new();
        for event in events {
            self.handle_event(*event);
            outputs.extend(std::iter::from_fn(|| self.poll_output(today)));
        }
        if let Some(deadline) = self.poll_timeout() {
            self.handle_timeout(deadline);
            outputs.extend(std::iter::from_fn(|| self.poll_output(today)));
        }
        outputs
    }
}

/// A keyboard acting as a scanner, for a desktop PC without one: the UI hands over what it
/// typed and when, and scans come out of the same codec and decoder as on the appliance.
/// Text typed slowly comes back as [`ReaderOutput::Typed`] keys for the UI to use as typing.
#[derive(Debug)]
pub struct SimulatedScanner {
    reader: ScanReader,
    layout: Layout,
}

impl SimulatedScanner {
    pub fn new(rules: BurstRules, layout: Layout, decoder: Decoder) -> SimulatedScanner {
        SimulatedScanner {
            reader: ScanReader::new(rules, Source::Keyboard, layout, decoder),
            layout,
        }
    }

    /// A key event from any source (the UI's key handler, a recording, a test).
    pub fn key(&mut self, event: KeyEvent) {
        self.reader.handle_event(event);
    }

    /// Text the UI received for one key press at `at_us` (`"\n"` for Enter). Characters the
    /// layout cannot type are refused with `RecordingError::UnknownKey`.
    pub fn typed_text(&mut self, at_us: u64, text: &str) -> Result<(), RecordingError> {
        for event in key_events_for_text(self.layout, text, at_us, std::iter::repeat(0), 2)? {
            self.reader.handle_event(event);
        }
        Ok(())
    }

    pub fn handle_timeout(&mut self, now_us: u64) {
        self.reader.handle_timeout(now_us);
    }

    pub fn poll_timeout(&self) -> Option<u64> {
        self.reader.poll_timeout()
    }

    pub fn poll_output(&mut self, today: Date) -> Option<ReaderOutput> {
        self.reader.poll_output(today)
    }
}

/// The key events that type `text` on a keyboard or scanner programmed for `layout`: one
/// character, then the next gap from `gaps_us` (`'\n'` is Enter, `'\t'` Tab, 0x1D Ctrl+]).
/// Shift or AltGr go down just before the key and up just after it, as scanners and most
/// people do. Each key is held `hold_us` (a scanner: well under a millisecond; a person:
/// 60–120 ms), cut to 60% of the following gap so that a key is up before the next one.
pub fn key_events_for_text(
    layout: Layout,
    text: &str,
    start_us: u64,
    mut gaps_us: impl Iterator<Item = u64>,
    hold_us: u64,
) -> Result<Vec<KeyEvent>, RecordingError> {
    let mut events = Vec::new();
    let mut at_us = start_us;
    for (index, symbol) in text.chars().enumerate() {
        let (key, modifier) = match symbol {
            '\n' => (KeyCode::KEY_ENTER, None),
            '\t' => (KeyCode::KEY_TAB, None),
            crate::codec::GROUP_SEPARATOR => (KeyCode::KEY_RIGHTBRACE, Some(KeyCode::KEY_LEFTCTRL)),
            _ => match layout.keystroke_for(symbol) {
                Some((key, Level::Base)) => (key, None),
                Some((key, Level::Shift)) => (key, Some(KeyCode::KEY_LEFTSHIFT)),
                Some((key, Level::AltGr)) => (key, Some(KeyCode::KEY_RIGHTALT)),
                None => {
                    return Err(RecordingError::UnknownKey {
                        line_number: index + 1,
                        name: symbol.escape_unicode().to_string(),
                    });
                }
            },
        };
        let gap_us = gaps_us.next().unwrap_or(10_000);
        let hold_us = hold_us.min(gap_us * 6 / 10).max(2);
        let pressed_us = if modifier.is_some() {
            at_us + hold_us / 4
        } else {
            at_us
        };
        if let Some(modifier) = modifier {
            events.push(KeyEvent::press(at_us, modifier));
        }
        events.push(KeyEvent::press(pressed_us, key));
        events.push(KeyEvent::release(pressed_us + hold_us / 2, key));
        if let Some(modifier) = modifier {
            events.push(KeyEvent::release(pressed_us + hold_us / 2 + 1, modifier));
        }
        at_us += gap_us;
    }
    Ok(events)
}
