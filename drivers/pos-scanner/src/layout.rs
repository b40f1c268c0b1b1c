//! Key codes to characters for the keyboard layout a scanner is programmed for.
//!
//! A keyboard-wedge scanner sends the key positions that would type its text on a keyboard
//! of the layout it was configured for. The terminal must decode with that layout, not with
//! the layout the cashier's keyboard uses: a scanner set to German sends `KEY_Y` for `z`.
//! Dead keys (German `^` and `´`, French `^` and `¨`) produce nothing, as they need a second
//! key to compose and scanners avoid them.

use serde::{Deserialize, Serialize};

use crate::key::KeyCode;

/// Keyboard layouts a scanner can be programmed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// US English (QWERTY). What almost every scanner ships with.
    #[default]
    Us,
    /// UK English (QWERTY, ISO: `"` on Shift+2, `@` on Shift+').
    Uk,
    /// German (QWERTZ: Y and Z swapped, `@` on AltGr+Q).
    De,
    /// French (AZERTY: digits need Shift, `@` on AltGr+0).
    Fr,
}

/// Which shift level a key press selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Base,
    Shift,
    AltGr,
}

/// Modifier state as tracked from the key stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Modifiers {
    pub shift: bool,
    pub caps_lock: bool,
    pub alt_gr: bool,
    pub control: bool,
    pub alt: bool,
}

/// One row of a layout table: key, then the character at base, shift and AltGr level
/// (`'\0'` where the level types nothing).
type Row = (KeyCode, char, char, char);

const N: char = '\0';

/// Keys that type the same everywhere (numeric keypad, space).
const SHARED: &[Row] = &[
    (KeyCode::KEY_SPACE, ' ', ' ', N),
    (KeyCode::KEY_KP0, '0', N, N),
    (KeyCode::KEY_KP1, '1', N, N),
    (KeyCode::KEY_KP2, '2', N, N),
    (KeyCode::KEY_KP3, '3', N, N),
    (KeyCode::KEY_KP4, '4', N, N),
    (KeyCode::KEY_KP5, '5', N, N),
    (KeyCode::KEY_KP6, '6', N, N),
    (KeyCode::KEY_KP7, '7', N, N),
    (KeyCode::KEY_KP8, '8', N, N),
    (KeyCode::KEY_KP9, '9', N, N),
    (KeyCode::KEY_KPDOT, '.', N, N),
    (KeyCode::KEY_KPSLASH, '/', N, N),
    (KeyCode::KEY_KPASTERISK, '*', N, N),
    (KeyCode::KEY_KPMINUS, '-', N, N),
    (KeyCode::KEY_KPPLUS, '+', N, N),
];

const US: &[Row] = &[
    (KeyCode::KEY_GRAVE, '`', '~', N),
    (KeyCode::KEY_1, '1', '!', N),
    (KeyCode::KEY_2, '2', '@', N),
    (KeyCode::KEY_3, '3', '#', N),
    (KeyCode::KEY_4, '4', '$', N),
    (KeyCode::KEY_5, '5', '%', N),
    (KeyCode::KEY_6, '6', '^', N),
    (KeyCode::KEY_7, '7', '&', N),
    (KeyCode::KEY_8, '8', '*', N),
    (KeyCode::KEY_9, '9', '(', N),
    (KeyCode::KEY_0, '0', ')', N),
    (KeyCode::KEY_MINUS, '-', '_', N),
    (KeyCode::KEY_EQUAL, '=', '+', N),
    (KeyCode::KEY_LEFTBRACE, '[', '{', N),
    (KeyCode::KEY_RIGHTBRACE, ']', '}', N),
    (KeyCode::KEY_BACKSLASH, '\\', '|', N),
    (KeyCode::KEY_SEMICOLON, ';', ':', N),
    (KeyCode::KEY_APOSTROPHE, '\'', '"', N),
    (KeyCode::KEY_COMMA, ',', '<', N),
    (KeyCode::KEY_DOT, '.', '>', N),
    (KeyCode::KEY_SLASH, '/', '?', N),
    (KeyCode::KEY_102ND, '\\', '|', N),
];

const UK: &[Row] = &[
    (KeyCode::KEY_GRAVE, '`', '¬', '¦'),
    (KeyCode::KEY_1, '1', '!', N),
    (KeyCode::KEY_2, '2', '"', N),
    (KeyCode::KEY_3, '3', '£', N),
    (KeyCode::KEY_4, '4', '$', '€'),
    (KeyCode::KEY_5, '5', '%', N),
    (KeyCode::KEY_6, '6', '^', N),
    (KeyCode::KEY_7, '7', '&', N),
    (KeyCode::KEY_8, '8', '*', N),
    (KeyCode::KEY_9, '9', '(', N),
    (KeyCode::KEY_0, '0', ')', N),
    (KeyCode::KEY_MINUS, '-', '_', N),
    (KeyCode::KEY_EQUAL, '=', '+', N),
    (KeyCode::KEY_LEFTBRACE, '[', '{', N),
    (KeyCode::KEY_RIGHTBRACE, ']', '}', N),
    (KeyCode::KEY_BACKSLASH, '#', '~', N),
    (KeyCode::KEY_SEMICOLON, ';', ':', N),
    (KeyCode::KEY_APOSTROPHE, '\'', '@', N),
    (KeyCode::KEY_COMMA, ',', '<', N),
    (KeyCode::KEY_DOT, '.', '>', N),
    (KeyCode::KEY_SLASH, '/', '?', N),
    (KeyCode::KEY_102ND, '\\', '|', N),
];

const DE: &[Row] = &[
    // KEY_GRAVE (^ °) and KEY_EQUAL (´ `) are dead keys.
    (KeyCode::KEY_1, '1', '!', N),
    (KeyCode::KEY_2, '2', '"', '²'),
    (KeyCode::KEY_3, '3', '§', '³'),
    (KeyCode::KEY_4, '4', '$', N),
    (KeyCode::KEY_5, '5', '%', N),
    (KeyCode::KEY_6, '6', '&', N),
    (KeyCode::KEY_7, '7', '/', '{'),
    (KeyCode::KEY_8, '8', '(', '['),
    (KeyCode::KEY_9, '9', ')', ']'),
    (KeyCode::KEY_0, '0', '=', '}'),
    (KeyCode::KEY_MINUS, 'ß', '?', '\\'),
    (KeyCode::KEY_Q, 'q', 'Q', '@'),
    (KeyCode::KEY_E, 'e', 'E', '€'),
    (KeyCode::KEY_Y, 'z', 'Z', N),
    (KeyCode::KEY_Z, 'y', 'Y', N),
    (KeyCode::KEY_LEFTBRACE, 'ü', 'Ü', N),
    (KeyCode::KEY_RIGHTBRACE, '+', '*', '~'),
    (KeyCode::KEY_SEMICOLON, 'ö', 'Ö', N),
    (KeyCode::KEY_APOSTROPHE, 'ä', 'Ä', N),
    (KeyCode::KEY_BACKSLASH, '#', '\'', N),
    (KeyCode::KEY_102ND, '<', '>', '|'),
    (KeyCode::KEY_COMMA, ',', ';', N),
    (KeyCode::KEY_DOT, '.', ':', N),
    (KeyCode::KEY_SLASH, '-', '_', N),
];

const FR: &[Row] = &[
    (KeyCode::KEY_GRAVE, '²', N, N),
    (KeyCode::KEY_1, '&', '1', N),
    (KeyCode::KEY_2, 'é', '2', N),
    (KeyCode::KEY_3, '"', '3', '#'),
    (KeyCode::KEY_4, '\'', '4', '{'),
    (KeyCode::KEY_5, '(', '5', '['),
    (KeyCode::KEY_6, '-', '6', '|'),
    (KeyCode::KEY_7, 'è', '7', '`'),
    (KeyCode::KEY_8, '_', '8', '\\'),
    (KeyCode::KEY_9, 'ç', '9', '^'),
    (KeyCode::KEY_0, 'à', '0', '@'),
    (KeyCode::KEY_MINUS, ')', '°', ']'),
    (KeyCode::KEY_EQUAL, '=', '+', '}'),
    (KeyCode::KEY_Q, 'a', 'A', N),
    (KeyCode::KEY_W, 'z', 'Z', N),
    (KeyCode::KEY_E, 'e', 'E', '€'),
    (KeyCode::KEY_A, 'q', 'Q', N),
    (KeyCode::KEY_SEMICOLON, 'm', 'M', N),
    (KeyCode::KEY_Z, 'w', 'W', N),
    // KEY_LEFTBRACE (^ ¨) is a dead key.
    (KeyCode::KEY_RIGHTBRACE, '$', '£', '¤'),
    (KeyCode::KEY_APOSTROPHE, 'ù', '%', N),
    (KeyCode::KEY_BACKSLASH, '*', 'µ', N),
    (KeyCode::KEY_102ND, '<', '>', N),
    (KeyCode::KEY_M, ',', '?', N),
    (KeyCode::KEY_COMMA, ';', '.', N),
    (KeyCode::KEY_DOT, ':', '/', N),
    (KeyCode::KEY_SLASH, '!', '§', N),
];

/// The 26 letter keys in US positions, each typing its own letter unless a layout says otherwise.
const LETTER_KEYS: [(KeyCode, char); 26] = [
    (KeyCode::KEY_A, 'a'),
    (KeyCode::KEY_B, 'b'),
    (KeyCode::KEY_C, 'c'),
    (KeyCode::KEY_D, 'd'),
    (KeyCode::KEY_E, 'e'),
    (KeyCode::KEY_F, 'f'),
    (KeyCode::KEY_G, 'g'),
    (KeyCode::KEY_H, 'h'),
    (KeyCode::KEY_I, 'i'),
    (KeyCode::KEY_J, 'j'),
    (KeyCode::KEY_K, 'k'),
    (KeyCode::KEY_L, 'l'),
    (KeyCode::KEY_M, 'm'),
    (KeyCode::KEY_N, 'n'),
    (KeyCode::KEY_O, 'o'),
    (KeyCode::KEY_P, 'p'),
    (KeyCode::KEY_Q, 'q'),
    (KeyCode::KEY_R, 'r'),
    (KeyCode::KEY_S, 's'),
    (KeyCode::KEY_T, 't'),
    (KeyCode::KEY_U, 'u'),
    (KeyCode::KEY_V, 'v'),
    (KeyCode::KEY_W, 'w'),
    (KeyCode::KEY_X, 'x'),
    (KeyCode::KEY_Y, 'y'),
    (KeyCode::KEY_Z, 'z'),
];

pub const ALL_LAYOUTS: [Layout; 4] = [Layout::Us, Layout::Uk, Layout::De, Layout::Fr];

impl Layout {
    fn table(self) -> &'static [Row] {
        match self {
            Layout::Us => US,
            Layout::Uk => UK,
            Layout::De => DE,
            Layout::Fr => FR,
        }
    }

    /// The row for a key: the layout's own table first, then letters, then shared keys.
    fn row(self, key: KeyCode) -> Option<Row> {
        if let Some(row) = self.table().iter().find(|row| row.0 == key) {
            return Some(*row);
        }
        if let Some((_, letter)) = LETTER_KEYS.iter().find(|(code, _)| *code == key) {
            return Some((key, *letter, letter.to_ascii_uppercase(), N));
        }
        SHARED.iter().find(|row| row.0 == key).copied()
    }

    /// The character a key types at a shift level, if any.
    pub fn symbol(self, key: KeyCode, level: Level) -> Option<char> {
        let (_, base, shift, alt_gr) = self.row(key)?;
        let symbol = match level {
            Level::Base => base,
            Level::Shift => shift,
            Level::AltGr => alt_gr,
        };
        (symbol != N).then_some(symbol)
    }

    /// The character a key press types under the given modifiers.
    ///
    /// Caps Lock inverts Shift for keys whose base character is a letter (including `é`, `ü`
    /// …); digits and punctuation ignore it. On AZERTY that makes Caps Lock + `é` type `2`,
    /// the shift-lock behaviour French keyboards and scanners set to French follow.
    pub fn char_for(self, key: KeyCode, modifiers: Modifiers) -> Option<char> {
        if modifiers.alt_gr {
            return self.symbol(key, Level::AltGr);
        }
        let base = self.symbol(key, Level::Base)?;
        let base_is_letter = base.is_alphabetic() && base.to_uppercase().next() != Some(base);
        let shifted = if base_is_letter {
            modifiers.shift != modifiers.caps_lock
        } else {
            modifiers.shift
        };
        if !shifted {
            return Some(base);
        }
        if base_is_letter && self.symbol(key, Level::Shift).is_none() {
            // A letter with nothing on its Shift level still has a capital.
            return base.to_uppercase().next();
        }
        self.symbol(key, Level::Shift)
    }

    /// The key and level that type `symbol` on this layout: how a scanner programmed for this
    /// layout sends it, and how a simulated scanner turns text back into key events.
    pub fn keystroke_for(self, symbol: char) -> Option<(KeyCode, Level)> {
        // The main block first, so digits come from the top row as scanners send them,
        // not from the keypad.
        let candidates = self
            .table()
            .iter()
            .copied()
            .chain(
                LETTER_KEYS
                    .iter()
                    .map(|(code, letter)| (*code, *letter, letter.to_ascii_uppercase(), N)),
            )
            .filter(|row| self.row(row.0) == Some(*row))
            .chain(SHARED.iter().copied());
        for (key, base, shift, alt_gr) in candidates {
            if base == symbol {
                return Some((key, Level::Base));
            }
            if shift == symbol {
                return Some((key, Level::Shift));
            }
            if alt_gr == symbol {
                return Some((key, Level::AltGr));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(layout: Layout, key: KeyCode, shift: bool) -> Option<char> {
        layout.char_for(
            key,
            Modifiers {
                shift,
                ..Modifiers::default()
            },
        )
    }

    #[test]
    fn qwertz_swaps_y_and_z_and_azerty_puts_digits_on_shift() {
        assert_eq!(typed(Layout::De, KeyCode::KEY_Y, false), Some('z'));
        assert_eq!(typed(Layout::De, KeyCode::KEY_Z, true), Some('Y'));
        assert_eq!(typed(Layout::Fr, KeyCode::KEY_2, false), Some('é'));
        assert_eq!(typed(Layout::Fr, KeyCode::KEY_2, true), Some('2'));
        assert_eq!(typed(Layout::Fr, KeyCode::KEY_Q, false), Some('a'));
        assert_eq!(typed(Layout::Uk, KeyCode::KEY_2, true), Some('"'));
        assert_eq!(typed(Layout::Us, KeyCode::KEY_2, true), Some('@'));
    }

    #[test]
    fn caps_lock_capitalises_letters_but_not_digits() {
        let caps = Modifiers {
            caps_lock: true,
            ..Modifiers::default()
        };
        assert_eq!(Layout::Us.char_for(KeyCode::KEY_A, caps), Some('A'));
        assert_eq!(Layout::Us.char_for(KeyCode::KEY_1, caps), Some('1'));
        assert_eq!(Layout::Fr.char_for(KeyCode::KEY_2, caps), Some('2'));
        assert_eq!(Layout::Fr.char_for(KeyCode::KEY_1, caps), Some('&'));
        assert_eq!(Layout::De.char_for(KeyCode::KEY_Y, caps), Some('Z'));
        let caps_and_shift = Modifiers {
            caps_lock: true,
            shift: true,
            ..Modifiers::default()
        };
        assert_eq!(
            Layout::Us.char_for(KeyCode::KEY_A, caps_and_shift),
            Some('a')
        );
    }

    #[test]
    fn every_printable_ascii_character_round_trips_on_every_layout_that_has_it() {
        for layout in ALL_LAYOUTS {
            for symbol in (' '..='~').chain("£€éèçàùäöüß".chars()) {
                let Some((key, level)) = layout.keystroke_for(symbol) else {
                    continue;
                };
                assert_eq!(
                    layout.symbol(key, level),
                    Some(symbol),
                    "{layout:?} {symbol:?}"
                );
            }
            for digit in '0'..='9' {
                assert!(
                    layout.keystroke_for(digit).is_some(),
                    "{layout:?} cannot type {digit}"
                );
            }
        }
    }
}
