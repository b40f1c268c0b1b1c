//! A [`Document`] as ESC/POS bytes. Written here rather than through the `escpos` crate: that
//! crate's `writeln` ends rows with `ESC d 1`, its drawer kick leaves out the pulse bytes, its
//! status query adds a NUL, its partial cut is a full one (`GS V 65`), and it offers no
//! code-page mapping; owning the few commands a
//! receipt needs keeps every byte exact and checked by the decoder in [`crate::decode`].

use pos_core::receipt::{Align, Document, Row, Size, Style, Weight};
use serde::{Deserialize, Serialize};

use crate::codepage::CodePage;
use crate::drawer::DrawerKick;
use crate::raster::Raster;

/// Paper: columns of font A (12 × 24 dots) and printable dots across.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paper {
    pub columns: usize,
    pub width_dots: u16,
}

impl Paper {
    /// 58 mm roll, 48 mm printable at 203 dpi.
    pub const MM58: Paper = Paper {
        columns: 32,
        width_dots: 384,
    };
    /// 80 mm roll on printers that print 42 columns (512 dots).
    pub const MM80_42: Paper = Paper {
        columns: 42,
        width_dots: 512,
    };
    /// 80 mm roll, 72 mm printable.
    pub const MM80_48: Paper = Paper {
        columns: 48,
        width_dots: 576,
    };
}

/// Font A cell: 12 dots wide, 24 tall.
pub const CELL_WIDTH_DOTS: u16 = 12;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CutKind {
    Full,
    /// Leaves a small tab so the receipt does not fall on the floor.
    #[default]
    Partial,
}

/// How one printer is set up: paper, code page, cut, and the logo it prints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterProfile {
    pub paper: Paper,
    pub code_page: CodePage,
    pub cut: CutKind,
    /// Lines fed before the cut, so the last row clears the cutter.
    pub feed_before_cut_lines: u8,
    /// Dots per QR module (1..=16).
    pub qr_module_dots: u8,
    pub logo: Option<Raster>,
}

impl PrinterProfile {
    pub fn new(paper: Paper) -> PrinterProfile {
        PrinterProfile {
            paper,
            code_page: CodePage::Pc858,
            cut: CutKind::Partial,
            feed_before_cut_lines: 4,
            qr_module_dots: 5,
            logo: None,
        }
    }
}

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const LF: u8 = 0x0A;

/// Barcode height in dots and narrow-bar width, as set before each barcode.
pub const BARCODE_HEIGHT_DOTS: u8 = 60;
pub const BARCODE_MODULE_DOTS: u8 = 2;

/// The characters CODE39 can carry.
pub fn is_code39(data: &str) -> bool {
    !data.is_empty()
        && data
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || " -.$/+%".contains(c))
}

struct Encoder<'a> {
    profile: &'a PrinterProfile,
    out: Vec<u8>,
    align: Align,
    style: Style,
}

impl Encoder<'_> {
    fn set_align(&mut self, align: Align) {
        if self.align != align {
            let n = match align {
                Align::Left => 0,
                Align::Center => 1,
            };
            self.out.extend([ESC, b'a', n]);
            self.align = align;
        }
    }

    fn set_style(&mut self, style: Style) {
        if self.style.weight != style.weight {
            let n = u8::from(style.weight == Weight::Bold);
            self.out.extend([ESC, b'E', n]);
        }
        if self.style.size != style.size {
            let n = match style.size {
                Size::Normal => 0x00,
                Size::DoubleHeight => 0x01,
                Size::DoubleWidth => 0x10,
                Size::Double => 0x11,
            };
            self.out.extend([GS, b'!', n]);
        }
        self.style = style;
    }

    fn text(&mut self, text: &str, align: Align, style: Style) {
        self.set_align(align);
        self.set_style(style);
        let bytes = self.profile.code_page.encode(text.trim_end());
        self.out.extend(bytes);
        self.out.push(LF);
    }

    fn raster(&mut self, raster: &Raster) {
        self.set_align(Align::Center);
        let [x_low, x_high] = u16::try_from(raster.row_bytes())
            .unwrap_or(u16::MAX)
            .to_le_bytes();
        let [y_low, y_high] = raster.height_dots.to_le_bytes();
        self.out
            .extend([GS, b'v', b'0', 0, x_low, x_high, y_low, y_high]);
        self.out.extend(&raster.bits);
    }

    fn barcode(&mut self, data: &str) {
        let data = data.to_uppercase();
        if !is_code39(&data) {
            // A number CODE39 cannot carry is printed as text rather than as a wrong barcode.
            self.text(&data, Align::Center, Style::PLAIN);
            return;
        }
        self.set_align(Align::Center);
        self.set_style(Style::PLAIN);
        self.out.extend([GS, b'H', 2]); // human-readable text below the bars
        self.out.extend([GS, b'f', 0]);
        self.out.extend([GS, b'h', BARCODE_HEIGHT_DOTS]);
        self.out.extend([GS, b'w', BARCODE_MODULE_DOTS]);
        self.out.extend([GS, b'k', 4]); // CODE39, NUL-terminated
        self.out.extend(data.bytes());
        self.out.push(0);
    }

    fn qr_code(&mut self, data: &str) {
        self.set_align(Align::Center);
        let module = self.profile.qr_module_dots.clamp(1, 16);
        // GS ( k pL pH cn fn …, cn = 49 (QR): model 2, module size, error level M, store, print.
        self.out.extend([GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
        self.out.extend([GS, b'(', b'k', 3, 0, 49, 67, module]);
        self.out.extend([GS, b'(', b'k', 3, 0, 49, 69, 49]);
        let stored = data.as_bytes();
        let [p_low, p_high] = u16::try_from(stored.len() + 3)
            .unwrap_or(u16::MAX)
            .to_le_bytes();
        self.out.extend([GS, b'(', b'k', p_low, p_high, 49, 80, 48]);
        self.out.extend(stored);
        self.out.extend([GS, b'(', b'k', 3, 0, 49, 81, 48]);
    }

    fn cut(&mut self) {
        self.set_align(Align::Left);
        self.set_style(Style::PLAIN);
        self.out
            .extend([ESC, b'd', self.profile.feed_before_cut_lines]);
        let m = match self.profile.cut {
            CutKind::Full => 0,
            CutKind::Partial => 1,
        };
        self.out.extend([GS, b'V', m]);
    }
}

/// QR payloads longer than this are left off: they would not scan from a receipt anyway.
pub const QR_BYTES_MAX: usize = 700;

/// The whole print job: initialise, select the code page, kick the drawer first (so it opens
/// while the receipt prints), then every row of `document`.
pub fn encode(document: &Document, profile: &PrinterProfile, kick: Option<DrawerKick>) -> Vec<u8> {
    let mut encoder = Encoder {
        profile,
        out: vec![ESC, b'@', ESC, b't', profile.code_page.esc_t()],
        align: Align::Left,
        style: Style::PLAIN,
    };
    if let Some(kick) = kick {
        encoder.out.extend(kick.bytes());
    }
    for row in document.layout(profile.paper.columns) {
        match row {
            Row::Text { text, align, style } => encoder.text(&text, align, style),
            Row::Blank => encoder.out.push(LF),
            Row::Logo => {
                if let Some(logo) = &profile.logo {
                    encoder.raster(logo);
                }
            }
            Row::Barcode(data) => encoder.barcode(&data),
            Row::QrCode(data) if data.len() <= QR_BYTES_MAX => encoder.qr_code(&data),
            Row::QrCode(_) => {}
            Row::Cut => encoder.cut(),
        }
    }
    encoder.out
}

/// Only the drawer kick, for "no sale" and for drawers opened without a receipt.
pub fn kick_only(kick: DrawerKick) -> Vec<u8> {
    let mut out = vec![ESC, b'@'];
    out.extend(kick.bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pos_core::receipt::Block;

    fn doc(blocks: Vec<Block>) -> Document {
        Document { blocks }
    }

    #[test]
    fn a_bold_centred_title_then_a_pair_on_58mm() {
        let document = doc(vec![
            Block::Text {
                text: "Café".to_owned(),
                align: Align::Center,
                style: Style::BOLD,
            },
            Block::Pair {
                left: "Tea".to_owned(),
                right: "2.50 €".to_owned(),
                style: Style::PLAIN,
            },
        ]);
        let bytes = encode(&document, &PrinterProfile::new(Paper::MM58), None);
        let mut expected = vec![0x1B, b'@', 0x1B, b't', 19];
        expected.extend([0x1B, b'a', 1, 0x1B, b'E', 1]);
        expected.extend(b"Caf\x82\n");
        expected.extend([0x1B, b'a', 0, 0x1B, b'E', 0]);
        expected.extend(b"Tea");
        expected.extend(vec![b' '; 32 - 3 - 6]);
        expected.extend(b"2.50 \xD5\n");
        assert_eq!(bytes, expected);
    }

    #[test]
    fn the_drawer_kick_comes_first_with_its_pulse_bytes() {
        let bytes = encode(
            &doc(vec![Block::Cut]),
            &PrinterProfile::new(Paper::MM80_48),
            Some(DrawerKick::default()),
        );
        assert_eq!(&bytes[5..10], &[0x1B, 0x70, 0, 50, 100]);
        assert!(bytes.ends_with(&[0x1B, b'd', 4, 0x1D, b'V', 1]));
    }

    #[test]
    fn a_receipt_number_code39_cannot_carry_is_printed_as_text() {
        let bytes = encode(
            &doc(vec![Block::Barcode {
                data: "T1_0001".to_owned(),
            }]),
            &PrinterProfile::new(Paper::MM58),
            None,
        );
        assert!(!bytes.windows(2).any(|w| w == [0x1D, b'k']));
        assert!(bytes.windows(7).any(|w| w == b"T1_0001"));
    }

    proptest::proptest! {
        #[test]
        fn any_document_reads_back_as_its_text(
            lines in proptest::collection::vec(("[ a-zA-Zäöüé€0-9.,:-]{0,60}", "[0-9.-]{0,10}", 0..3_u8), 1..8),
            paper in proptest::sample::select(vec![Paper::MM58, Paper::MM80_42, Paper::MM80_48]),
        ) {
            let blocks = lines
                .into_iter()
                .map(|(left, right, kind)| match kind {
                    0 => Block::Pair { left, right, style: Style::PLAIN },
                    1 => Block::Text { text: left, align: Align::Center, style: Style::BOLD },
                    _ => Block::Pair { left, right, style: Style::TOTAL },
                })
                .collect();
            let document = doc(blocks);
            let profile = PrinterProfile::new(paper);
            let events = crate::decode::decode(&encode(&document, &profile, None)).unwrap();
            let printed = crate::decode::to_text(&events, paper.columns);
            let expected: String = document
                .to_text(paper.columns)
                .lines()
                .map(|line| format!("{}\n", profile.code_page.printable(line)))
                .collect();
            proptest::prop_assert_eq!(printed, expected);
        }
    }
}
