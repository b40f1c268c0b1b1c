//! Character code pages. ESC/POS printers print bytes, not Unicode: `ESC t n` selects a table
//! and every character outside ASCII must be mapped into it. Characters the table lacks are
//! transliterated ("ł" → "l", "€" → "EUR") so a receipt never prints a wrong letter, only a
//! plainer one.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The code pages this driver can select. PC858 is PC850 with the euro sign at 0xD5; WPC1252
/// is Windows-1252. Both are on nearly every Epson-compatible printer sold in Europe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodePage {
    /// The printer's power-on table, without the euro sign.
    Pc437,
    Pc858,
    Wpc1252,
}

const PC437_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";
const PC858_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø×ƒáíóúñÑªº¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ðÐÊËÈ€ÍÎÏ┘┌█▄¦Ì▀ÓßÔÒõÕµþÞÚÛÙýÝ¯´\u{ad}±‗¾¶§÷¸°¨·¹³²■\u{a0}";
/// 0x80..=0x9F of Windows-1252; 0xA0..=0xFF are Latin-1. Unassigned bytes are U+FFFD.
const WPC1252_80_9F: &str = "€\u{fffd}‚ƒ„…†‡ˆ‰Š‹Œ\u{fffd}Ž\u{fffd}\u{fffd}‘’“”•–—˜™š›œ\u{fffd}žŸ";

impl CodePage {
    /// `n` of `ESC t n` on Epson-compatible printers.
    pub fn esc_t(self) -> u8 {
        match self {
            CodePage::Pc437 => 0,
            CodePage::Wpc1252 => 16,
            CodePage::Pc858 => 19,
        }
    }

    pub fn from_esc_t(n: u8) -> Option<CodePage> {
        [CodePage::Pc437, CodePage::Wpc1252, CodePage::Pc858]
            .into_iter()
            .find(|page| page.esc_t() == n)
    }

    /// The 128 characters of bytes 0x80..=0xFF, decoded once.
    fn high_half(self) -> &'static [char; 128] {
        static TABLES: OnceLock<[[char; 128]; 3]> = OnceLock::new();
        let tables = TABLES.get_or_init(|| {
            let fill = |chars: &mut dyn Iterator<Item = char>| {
                let mut table = ['\u{fffd}'; 128];
                for (slot, ch) in table.iter_mut().zip(chars) {
                    *slot = ch;
                }
                table
            };
            let latin1 = (0xA0..=0xFF_u32).filter_map(char::from_u32);
            [
                fill(&mut PC437_HIGH.chars()),
                fill(&mut PC858_HIGH.chars()),
                fill(&mut WPC1252_80_9F.chars().chain(latin1)),
            ]
        });
        match self {
            CodePage::Pc437 => &tables[0],
            CodePage::Pc858 => &tables[1],
            CodePage::Wpc1252 => &tables[2],
        }
    }

    /// The character byte `byte` prints as in this table.
    pub fn decode_byte(self, byte: u8) -> char {
        match byte.checked_sub(0x80) {
            None => char::from(byte),
            Some(index) => self.high_half()[usize::from(index)],
        }
    }

    fn encode_char(self, ch: char) -> Option<u8> {
        if ch.is_ascii() {
            return u8::try_from(u32::from(ch)).ok();
        }
        if ch == '\u{fffd}' {
            return None;
        }
        let index = self.high_half().iter().position(|c| *c == ch)?;
        u8::try_from(index + 0x80).ok()
    }

    /// `text` in this table's bytes. Control characters become spaces (they would be
    /// commands to the printer); characters the table lacks are transliterated, and what has
    /// no transliteration prints as `?`.
    pub fn encode(self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len());
        for ch in text.chars() {
            if ch.is_control() {
                out.push(b' ');
            } else if let Some(byte) = self.encode_char(ch) {
                out.push(byte);
            } else if let Some(plain) = transliterate(ch) {
                for plain_ch in plain.chars() {
                    out.push(self.encode_char(plain_ch).unwrap_or(b'?'));
                }
            } else {
                out.push(b'?');
            }
        }
        out
    }

    /// How `text` will look on paper: what [`CodePage::encode`] makes of it, read back.
    pub fn printable(self, text: &str) -> String {
        self.encode(text)
            .into_iter()
            .map(|byte| self.decode_byte(byte))
            .collect()
    }
}

/// A plainer spelling of `ch` in ASCII, for tables that lack it.
pub fn transliterate(ch: char) -> Option<&'static str> {
    let plain = match ch {
        '€' => "EUR",
        '£' => "GBP",
        '¥' => "JPY",
        '₧' => "Pts",
        'ß' => "ss",
        'Æ' => "AE",
        'æ' => "ae",
        'Œ' => "OE",
        'œ' => "oe",
        'Ø' => "O",
        'ø' => "o",
        'Ł' => "L",
        'ł' => "l",
        'Đ' | 'Ð' => "D",
        'đ' | 'ð' => "d",
        'Þ' => "Th",
        'þ' => "th",
        'ı' => "i",
        '‘' | '’' | '‚' | '´' | '`' => "'",
        '“' | '”' | '„' | '«' | '»' => "\"",
        '–' | '—' | '‐' | '−' => "-",
        '…' => "...",
        '•' | '·' => "*",
        '×' => "x",
        '÷' => "/",
        '\u{a0}' | '\u{2009}' | '\u{202f}' => " ",
        '©' => "(c)",
        '®' => "(R)",
        '™' => "TM",
        '°' => "o",
        '½' => "1/2",
        '¼' => "1/4",
        '¾' => "3/4",
        _ => return strip_accent(ch),
    };
    Some(plain)
}

/// The base letter of a Latin letter with a diacritic.
fn strip_accent(ch: char) -> Option<&'static str> {
    const GROUPS: &[(&str, &str)] = &[
        ("ÀÁÂÃÄÅĀĂĄ", "A"),
        ("àáâãäåāăą", "a"),
        ("ÇĆĈĊČ", "C"),
        ("çćĉċč", "c"),
        ("ĎĐ", "D"),
        ("ďđ", "d"),
        ("ÈÉÊËĒĔĖĘĚ", "E"),
        ("èéêëēĕėęě", "e"),
        ("ĜĞĠĢ", "G"),
        ("ĝğġģ", "g"),
        ("ÌÍÎÏĨĪĬĮİ", "I"),
        ("ìíîïĩīĭį", "i"),
        ("ĹĻĽĿ", "L"),
        ("ĺļľŀ", "l"),
        ("ÑŃŅŇ", "N"),
        ("ñńņň", "n"),
        ("ÒÓÔÕÖŌŎŐ", "O"),
        ("òóôõöōŏő", "o"),
        ("ŔŖŘ", "R"),
        ("ŕŗř", "r"),
        ("ŚŜŞŠȘ", "S"),
        ("śŝşšș", "s"),
        ("ŢŤȚ", "T"),
        ("ţťț", "t"),
        ("ÙÚÛÜŨŪŬŮŰŲ", "U"),
        ("ùúûüũūŭůűų", "u"),
        ("ÝŸŶ", "Y"),
        ("ýÿŷ", "y"),
        ("ŹŻŽ", "Z"),
        ("źżž", "z"),
    ];
    GROUPS
        .iter()
        .find(|(letters, _)| letters.contains(ch))
        .map(|(_, base)| *base)
}

#[cfg(test)]
mod tests {
    use super::CodePage;

    #[test]
    fn the_euro_sign_has_its_byte_in_pc858_and_wpc1252() {
        assert_eq!(CodePage::Pc858.encode("€"), vec![0xD5]);
        assert_eq!(CodePage::Wpc1252.encode("€"), vec![0x80]);
    }

    #[test]
    fn without_a_euro_sign_the_printer_prints_eur() {
        assert_eq!(CodePage::Pc437.encode("12,50 €"), b"12,50 EUR".to_vec());
    }

    #[test]
    fn accented_letters_map_into_the_table_or_lose_their_accent() {
        assert_eq!(CodePage::Pc858.printable("Crème brûlée"), "Crème brûlée");
        assert_eq!(CodePage::Pc858.printable("Łódź"), "Lódz");
        assert_eq!(CodePage::Pc437.printable("Ångström Ça"), "Ångström Ça");
        assert_eq!(CodePage::Pc437.printable("Ãõ"), "Ao");
        assert_eq!(CodePage::Wpc1252.printable("Żółć"), "Zólc");
    }

    #[test]
    fn control_characters_never_reach_the_printer_as_commands() {
        assert_eq!(CodePage::Pc858.encode("a\u{1b}@b\n"), b"a @b ".to_vec());
    }

    #[test]
    fn every_table_has_128_high_characters() {
        assert_eq!(super::PC437_HIGH.chars().count(), 128);
        assert_eq!(super::PC858_HIGH.chars().count(), 128);
        assert_eq!(super::WPC1252_80_9F.chars().count(), 32);
    }

    proptest::proptest! {
        #[test]
        fn encoding_never_emits_a_control_byte(text in "\\PC{0,40}") {
            for page in [CodePage::Pc437, CodePage::Pc858, CodePage::Wpc1252] {
                let bytes = page.encode(&text);
                proptest::prop_assert!(bytes.iter().all(|b| *b >= 0x20 && *b != 0x7F));
            }
        }
    }
}
