//! The key-burst codec: timestamped key events in, scans, refusals and typed keys out.
//!
//! A scanner types a whole code in one burst, a few milliseconds per key, and ends it with a
//! terminator. A person never keeps up a burst that fast for long. The codec collects
//! characters while the gap between key presses stays within `key_gap_ms_max`, and decides
//! when the terminator arrives, when another key interrupts, or when the gap deadline passes
//! ([`BurstCodec::poll_timeout`] / [`BurstCodec::handle_timeout`]). It reads no clock: time
//! comes in with the events and the timeouts, so recorded streams replay exactly.
//!
//! Two kinds of source:
//! - [`Source::Scanner`]: a device known to be a scanner (grabbed, so nobody else sees its
//!   keys). Every burst is a scan attempt; anything wrong is a typed refusal.
//! - [`Source::Keyboard`]: a keyboard a person may type on, also used for the simulated
//!   scanner. Short or slow input is handed back as [`CodecOutput::Typed`] keys in order;
//!   only a burst at scanner speed of at least `scan_length_min` characters becomes a scan
//!   (or a refusal). Typed keys are delayed by at most `key_gap_ms_max`.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::error::ScanError;
use crate::key::{KeyAction, KeyCode, KeyEvent};
use crate::layout::{Layout, Modifiers};

/// ASCII group separator: how scanners send GS1's FNC1 between variable-length fields.
pub const GROUP_SEPARATOR: char = '\u{1d}';

/// What ends a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Terminator {
    /// Enter or keypad Enter: the factory default of nearly every scanner.
    #[default]
    Enter,
    Tab,
    /// A configured suffix string, removed from the scan text.
    Suffix(String),
    /// No suffix at all: the scan ends when the key gap deadline passes.
    Silence,
}

/// Timing and shape rules that tell a scan from typing. Part of the terminal configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BurstRules {
    /// Largest gap between two key presses inside one scan.
    pub key_gap_ms_max: u64,
    /// Fewest characters a scan may have (EAN-8 and UPC-E have 8; 6 leaves room for codes
    /// without check digit). No person types this many keys at scanner speed.
    pub scan_length_min: usize,
    /// Most characters a scan may have; bounds the buffer.
    pub scan_length_max: usize,
    /// Longest time from the first character to the terminator.
    pub scan_duration_ms_max: u64,
    pub terminator: Terminator,
}

impl Default for BurstRules {
    fn default() -> BurstRules {
        BurstRules {
            key_gap_ms_max: 50,
            scan_length_min: 6,
            scan_length_max: 512,
            scan_duration_ms_max: 2_000,
            terminator: Terminator::Enter,
        }
    }
}

/// Where the key events come from; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Scanner,
    Keyboard,
}

/// A complete scan: the text the scanner typed, without its terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    pub text: String,
    pub started_at_us: u64,
    pub duration_us: u64,
}

/// A key a person typed, handed back in order (only from [`Source::Keyboard`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keystroke {
    pub at_us: u64,
    pub key: KeyCode,
    /// The character it typed under the layout, if it types one.
    pub text: Option<char>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodecOutput {
    Scan(Scan),
    Rejected(ScanError),
    Typed(Keystroke),
}

#[derive(Debug)]
struct Burst {
    first_us: u64,
    last_us: u64,
    text: String,
    keys: Vec<Keystroke>,
}

/// The sans-IO state machine. Feed it with [`handle_event`](Self::handle_event) and
/// [`handle_timeout`](Self::handle_timeout); drain it with [`poll_output`](Self::poll_output)
/// after each call (it MUST be drained: its queue holds at most one burst's worth).
#[derive(Debug)]
pub struct BurstCodec {
    rules: BurstRules,
    source: Source,
    layout: Layout,
    modifiers: Modifiers,
    /// Decimal code being entered with Alt held on the keypad (some scanners type every
    /// character as Alt+numpad, e.g. Alt+0+2+9 for the group separator).
    alt_code: Option<u32>,
    burst: Option<Burst>,
    outputs: VecDeque<CodecOutput>,
}

impl BurstCodec {
    pub fn new(rules: BurstRules, source: Source, layout: Layout) -> BurstCodec {
        BurstCodec {
            rules,
            source,
            layout,
            modifiers: Modifiers::default(),
            alt_code: None,
            burst: None,
            outputs: VecDeque::new(),
        }
    }

    fn key_gap_us_max(&self) -> u64 {
        self.rules.key_gap_ms_max.saturating_mul(1_000)
    }

    /// The instant (event clock, µs) at which the current burst is over unless another key
    /// arrives first. `None` when nothing is pending.
    pub fn poll_timeout(&self) -> Option<u64> {
        let burst = self.burst.as_ref()?;
        Some(
            burst
                .last_us
                .saturating_add(self.key_gap_us_max())
                .saturating_add(1),
        )
    }

    /// Tells the codec that time `now_us` has come without a new key.
    pub fn handle_timeout(&mut self, now_us: u64) {
        if self
            .poll_timeout()
            .is_some_and(|deadline| now_us >= deadline)
        {
            self.resolve_after_silence();
        }
    }

    /// The next result, in the order the keys were pressed.
    pub fn poll_output(&mut self) -> Option<CodecOutput> {
        self.outputs.pop_front()
    }

    /// The kernel dropped events (SYN_DROPPED): whatever was being collected is incomplete.
    pub fn handle_events_lost(&mut self) {
        if self.burst.take().is_some() {
            self.outputs
                .push_back(CodecOutput::Rejected(ScanError::EventsLost));
        }
        self.modifiers = Modifiers {
            caps_lock: self.modifiers.caps_lock,
            ..Modifiers::default()
        };
        self.alt_code = None;
    }

    pub fn handle_event(&mut self, event: KeyEvent) {
        self.handle_timeout(event.at_us);
        if self.track_modifier(event) {
            return;
        }
        match event.action {
            KeyAction::Release => {}
            // People hold keys; scanners never do. A repeat ends any burst and is typing.
            KeyAction::Repeat => self.interrupt(event),
            KeyAction::Press => self.handle_press(event),
        }
    }

    /// Updates modifier state; true when the event was a modifier key.
    fn track_modifier(&mut self, event: KeyEvent) -> bool {
        let down = event.action != KeyAction::Release;
        match event.key {
            KeyCode::KEY_LEFTSHIFT | KeyCode::KEY_RIGHTSHIFT => self.modifiers.shift = down,
            KeyCode::KEY_LEFTCTRL | KeyCode::KEY_RIGHTCTRL => self.modifiers.control = down,
            KeyCode::KEY_RIGHTALT => self.modifiers.alt_gr = down,
            KeyCode::KEY_LEFTALT => {
                self.modifiers.alt = down;
                if event.action == KeyAction::Press {
                    self.alt_code = Some(0);
                    // An Alt+keypad character takes several presses; each keeps the burst
                    // alive, or a slow unit's codes would be cut off.
                    self.touch(event.at_us);
                } else if event.action == KeyAction::Release {
                    self.finish_alt_code(event.at_us);
                }
            }
            KeyCode::KEY_CAPSLOCK => {
                if event.action == KeyAction::Press {
                    self.modifiers.caps_lock = !self.modifiers.caps_lock;
                }
            }
            _ => return false,
        }
        // Other modifiers do not count as activity: a person resting on Shift must not
        // stretch a burst, and a scanner's gaps are measured between its characters anyway.
        true
    }

    fn finish_alt_code(&mut self, at_us: u64) {
        let Some(code) = self.alt_code.take() else {
            return;
        };
        // Alt pressed and released without digits types nothing.
        if let Some(symbol) = (code > 0).then(|| char::from_u32(code)).flatten() {
            self.push_char(Keystroke {
                at_us,
                key: KeyCode::KEY_LEFTALT,
                text: Some(symbol),
            });
        }
    }

    fn touch(&mut self, at_us: u64) {
        if let Some(burst) = self.burst.as_mut() {
            burst.last_us = at_us;
        }
    }

    fn handle_press(&mut self, event: KeyEvent) {
        let at_us = event.at_us;
        if let (true, Some(code), Some(digit)) = (
            self.modifiers.alt && !self.modifiers.alt_gr,
            self.alt_code,
            keypad_digit(event.key),
        ) {
            // Bounded: a code above 0x10FFFF is no character and stops growing.
            self.alt_code = Some(code.saturating_mul(10).saturating_add(digit).min(0x11_0000));
            self.touch(at_us);
            return;
        }
        if self.modifiers.control && event.key == KeyCode::KEY_RIGHTBRACE {
            // Ctrl+] is ASCII 0x1D, the usual way scanners send GS1's FNC1.
            self.push_char(Keystroke {
                at_us,
                key: event.key,
                text: Some(GROUP_SEPARATOR),
            });
            return;
        }
        if self.is_terminator_key(event.key) {
            self.finish(Keystroke {
                at_us,
                key: event.key,
                text: None,
            });
            return;
        }
        if self.modifiers.control || (self.modifiers.alt && !self.modifiers.alt_gr) {
            // Shortcuts are not scan text.
            self.interrupt(event);
            return;
        }
        match self.layout.char_for(event.key, self.modifiers) {
            Some(symbol) => self.push_char(Keystroke {
                at_us,
                key: event.key,
                text: Some(symbol),
            }),
            None => self.interrupt(event),
        }
    }

    fn is_terminator_key(&self, key: KeyCode) -> bool {
        match self.rules.terminator {
            Terminator::Enter => key == KeyCode::KEY_ENTER || key == KeyCode::KEY_KPENTER,
            Terminator::Tab => key == KeyCode::KEY_TAB,
            Terminator::Suffix(_) | Terminator::Silence => false,
        }
    }

    fn push_char(&mut self, keystroke: Keystroke) {
        let at_us = keystroke.at_us;
        let burst = self.burst.get_or_insert_with(|| Burst {
            first_us: at_us,
            last_us: at_us,
            text: String::new(),
            keys: Vec::new(),
        });
        burst.last_us = at_us;
        if let Some(symbol) = keystroke.text {
            burst.text.push(symbol);
        }
        burst.keys.push(keystroke);
        let length = burst.text.chars().count();
        if length > self.rules.scan_length_max {
            self.burst = None;
            let length_max = self.rules.scan_length_max;
            self.outputs
                .push_back(CodecOutput::Rejected(ScanError::TooLong { length_max }));
            return;
        }
        let suffix_length = match &self.rules.terminator {
            Terminator::Suffix(suffix)
                if !suffix.is_empty() && burst.text.ends_with(suffix.as_str()) =>
            {
                suffix.len()
            }
            _ => return,
        };
        let kept = burst.text.len() - suffix_length;
        burst.text.truncate(kept);
        self.finish(keystroke);
    }

    /// A terminator arrived within the gap limit.
    fn finish(&mut self, terminator: Keystroke) {
        let Some(burst) = self.burst.take() else {
            if self.source == Source::Keyboard && terminator.text.is_none() {
                self.outputs.push_back(CodecOutput::Typed(terminator));
            }
            return;
        };
        let length = burst.text.chars().count();
        if length < self.rules.scan_length_min {
            match self.source {
                Source::Scanner => {
                    let length_min = self.rules.scan_length_min;
                    self.outputs
                        .push_back(CodecOutput::Rejected(ScanError::TooShort {
                            length,
                            length_min,
                        }));
                }
                Source::Keyboard => {
                    self.hand_back(burst);
                    if terminator.text.is_none() {
                        self.outputs.push_back(CodecOutput::Typed(terminator));
                    }
                }
            }
            return;
        }
        self.emit_scan(burst, terminator.at_us);
    }

    fn emit_scan(&mut self, burst: Burst, finished_at_us: u64) {
        let duration_us = finished_at_us.saturating_sub(burst.first_us);
        let duration_ms_max = self.rules.scan_duration_ms_max;
        if duration_us > duration_ms_max.saturating_mul(1_000) {
            let duration_ms = duration_us / 1_000;
            self.outputs
                .push_back(CodecOutput::Rejected(ScanError::TooSlow {
                    duration_ms,
                    duration_ms_max,
                }));
            return;
        }
        self.outputs.push_back(CodecOutput::Scan(Scan {
            text: burst.text,
            started_at_us: burst.first_us,
            duration_us,
        }));
    }

    /// The gap deadline passed with no terminator.
    fn resolve_after_silence(&mut self) {
        let Some(burst) = self.burst.take() else {
            return;
        };
        let length = burst.text.chars().count();
        if length >= self.rules.scan_length_min {
            if self.rules.terminator == Terminator::Silence {
                let last_us = burst.last_us;
                self.emit_scan(burst, last_us);
            } else {
                self.outputs
                    .push_back(CodecOutput::Rejected(ScanError::Unterminated { length }));
            }
            return;
        }
        match self.source {
            Source::Scanner => {
                if self.rules.terminator == Terminator::Silence {
                    let length_min = self.rules.scan_length_min;
                    self.outputs
                        .push_back(CodecOutput::Rejected(ScanError::TooShort {
                            length,
                            length_min,
                        }));
                } else {
                    self.outputs
                        .push_back(CodecOutput::Rejected(ScanError::Unterminated { length }));
                }
            }
            Source::Keyboard => self.hand_back(burst),
        }
    }

    /// A key that is neither scan text nor terminator arrived.
    fn interrupt(&mut self, event: KeyEvent) {
        if let Some(burst) = self.burst.take() {
            let long_enough = burst.text.chars().count() >= self.rules.scan_length_min;
            if self.source == Source::Scanner || long_enough {
                let key = format!("{:?}", event.key);
                self.outputs
                    .push_back(CodecOutput::Rejected(ScanError::Interrupted { key }));
            } else {
                self.hand_back(burst);
            }
        }
        if self.source == Source::Keyboard {
            let text = self.layout.char_for(event.key, self.modifiers);
            self.outputs.push_back(CodecOutput::Typed(Keystroke {
                at_us: event.at_us,
                key: event.key,
                text,
            }));
        }
    }

    fn hand_back(&mut self, burst: Burst) {
        self.outputs
            .extend(burst.keys.into_iter().map(CodecOutput::Typed));
    }
}

fn keypad_digit(key: KeyCode) -> Option<u32> {
    let digits = [
        KeyCode::KEY_KP0,
        KeyCode::KEY_KP1,
        KeyCode::KEY_KP2,
        KeyCode::KEY_KP3,
        KeyCode::KEY_KP4,
        KeyCode::KEY_KP5,
        KeyCode::KEY_KP6,
        KeyCode::KEY_KP7,
        KeyCode::KEY_KP8,
        KeyCode::KEY_KP9,
    ];
    digits
        .iter()
        .position(|digit| *digit == key)
        .and_then(|index| u32::try_from(index).ok())
}
