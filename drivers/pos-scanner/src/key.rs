//! Timestamped key events, the codec's only input, and the text format recordings use.
//!
//! Recording format (`tests/fixtures/*.events`): one event per line, `<usec> <KEY_NAME> <value>`,
//! where `usec` is the event timestamp in microseconds (any monotonic origin), `KEY_NAME` is the
//! Linux name (`KEY_4`, `KEY_LEFTSHIFT`, `KEY_ENTER`) and `value` is 1 press, 0 release,
//! 2 autorepeat, exactly as evdev reports them. `#` starts a comment; blank lines are skipped.

use std::fmt;
use std::str::FromStr;

pub use evdev::KeyCode;

use crate::error::RecordingError;

/// What happened to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAction {
    Release,
    Press,
    /// Autorepeat: a key held down. Scanners never hold keys; people do.
    Repeat,
}

impl KeyAction {
    /// The evdev `value` field of a key event (0, 1, 2); anything else is not a key action.
    pub fn from_evdev_value(value: i32) -> Option<KeyAction> {
        match value {
            0 => Some(KeyAction::Release),
            1 => Some(KeyAction::Press),
            2 => Some(KeyAction::Repeat),
            _ => None,
        }
    }

    pub fn evdev_value(self) -> i32 {
        match self {
            KeyAction::Release => 0,
            KeyAction::Press => 1,
            KeyAction::Repeat => 2,
        }
    }
}

/// One key event with the time the kernel stamped on it, in microseconds.
///
/// The origin of `at_us` is the caller's business (evdev uses the wall clock, a simulated
/// keyboard may use process start); only differences between events of one source matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyEvent {
    pub at_us: u64,
    pub key: KeyCode,
    pub action: KeyAction,
}

impl KeyEvent {
    pub fn press(at_us: u64, key: KeyCode) -> KeyEvent {
        KeyEvent {
            at_us,
            key,
            action: KeyAction::Press,
        }
    }

    pub fn release(at_us: u64, key: KeyCode) -> KeyEvent {
        KeyEvent {
            at_us,
            key,
            action: KeyAction::Release,
        }
    }
}

impl fmt::Display for KeyEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:?} {}",
            self.at_us,
            self.key,
            self.action.evdev_value()
        )
    }
}

/// Parses a recording in the `<usec> <KEY_NAME> <value>` format.
pub fn parse_recording(text: &str) -> Result<Vec<KeyEvent>, RecordingError> {
    let mut events = Vec::new();
    for (index, raw_line) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = raw_line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let bad_line = || RecordingError::BadLine {
            line_number,
            line: line.to_string(),
        };
        let mut fields = line.split_whitespace();
        let (Some(at), Some(name), Some(value), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(bad_line());
        };
        let at_us: u64 = at.parse().map_err(|_| bad_line())?;
        let key = KeyCode::from_str(name).map_err(|_| RecordingError::UnknownKey {
            line_number,
            name: name.to_string(),
        })?;
        let action = value
            .parse::<i32>()
            .ok()
            .and_then(KeyAction::from_evdev_value)
            .ok_or_else(bad_line)?;
        events.push(KeyEvent { at_us, key, action });
    }
    Ok(events)
}

/// Writes events in the recording format, one per line.
pub fn format_recording(events: &[KeyEvent]) -> String {
    let mut text = String::new();
    for event in events {
        text.push_str(&event.to_string());
        text.push('\n');
    }
    text
}
