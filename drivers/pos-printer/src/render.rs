//! Decoded ESC/POS events drawn as the paper would look: font A cells of 12 × 24 dots (an
//! 8 × 8 public-domain bitmap font drawn 1 × 2 inside them), bold as a doubled stroke,
//! double width and height as 2× scaling, rasters, CODE39 barcodes and QR codes dot for dot.
//! The picture is what the snapshot tests compare and what the simulated printer saves.

use font8x8::UnicodeFonts;
use pos_core::receipt::{Align, Weight};

use crate::decode::{Event, Symbology};
use crate::encode::{CELL_WIDTH_DOTS, Paper};

/// Dots from one text line's top to the next one's (24-dot font plus the default spacing).
pub const LINE_HEIGHT_DOTS: usize = 30;
const CELL_HEIGHT_DOTS: usize = 24;
/// The longest receipt drawn, in dots (about 5 m of paper): a limit on a runaway stream.
pub const HEIGHT_DOTS_MAX: usize = 40_000;

/// A white strip of paper `width` dots wide that grows as it prints.
struct Strip {
    width: usize,
    dots: Vec<bool>,
    y: usize,
}

impl Strip {
    fn grow_to(&mut self, height: usize) {
        let height = height.min(HEIGHT_DOTS_MAX);
        if self.dots.len() < height * self.width {
            self.dots.resize(height * self.width, false);
        }
    }

    fn set(&mut self, x: usize, y: usize) {
        self.fill(x, y, 1, 1);
    }

    /// Blackens a rectangle, clipped to the paper.
    fn fill(&mut self, x: usize, y: usize, width: usize, height: usize) {
        let bottom = (y + height).min(HEIGHT_DOTS_MAX);
        let right = (x + width).min(self.width);
        if x >= right || y >= bottom {
            return;
        }
        self.grow_to(bottom);
        for row in y..bottom {
            let start = row * self.width;
            self.dots[start + x..start + right].fill(true);
        }
    }

    fn advance(&mut self, dots: usize) {
        self.y = (self.y + dots).min(HEIGHT_DOTS_MAX);
        self.grow_to(self.y);
    }

    fn left_for(&self, width: usize, align: Align) -> usize {
        match align {
            Align::Left => 0,
            Align::Center => self.width.saturating_sub(width) / 2,
        }
    }
}

/// The 8 × 8 glyph of `ch`: bit `x` of row `y` is the dot at column `x`.
fn glyph(ch: char) -> [u8; 8] {
    const EURO: [u8; 8] = [0x38, 0x44, 0x1F, 0x04, 0x1F, 0x44, 0x38, 0x00];
    const UNKNOWN: [u8; 8] = [0x7E, 0x42, 0x42, 0x42, 0x42, 0x42, 0x7E, 0x00];
    if ch == '€' {
        return EURO;
    }
    font8x8::BASIC_FONTS
        .get(ch)
        .or_else(|| font8x8::LATIN_FONTS.get(ch))
        .or_else(|| font8x8::BOX_FONTS.get(ch))
        .or_else(|| font8x8::BLOCK_FONTS.get(ch))
        .or_else(|| font8x8::GREEK_FONTS.get(ch))
        .unwrap_or(UNKNOWN)
}

/// CODE39 patterns: nine elements, bar first, `1` wide, `0` narrow.
const CODE39: &[(char, &str)] = &[
    ('0', "000110100"),
    ('1', "100100001"),
    ('2', "001100001"),
    ('3', "101100000"),
    ('4', "000110001"),
    ('5', "100110000"),
    ('6', "001110000"),
    ('7', "000100101"),
    ('8', "100100100"),
    ('9', "001100100"),
    ('A', "100001001"),
    ('B', "001001001"),
    ('C', "101001000"),
    ('D', "000011001"),
    ('E', "100011000"),
    ('F', "001011000"),
    ('G', "000001101"),
    ('H', "100001100"),
    ('I', "001001100"),
    ('J', "000011100"),
    ('K', "100000011"),
    ('L', "001000011"),
    ('M', "101000010"),
    ('N', "000010011"),
    ('O', "100010010"),
    ('P', "001010010"),
    ('Q', "000000111"),
    ('R', "100000110"),
    ('S', "001000110"),
    ('T', "000010110"),
    ('U', "110000001"),
    ('V', "011000001"),
    ('W', "111000000"),
    ('X', "010010001"),
    ('Y', "110010000"),
    ('Z', "011010000"),
    ('-', "010000101"),
    ('.', "110000100"),
    (' ', "011000100"),
    ('*', "010010100"),
    ('$', "010101000"),
    ('/', "010100010"),
    ('+', "010001010"),
    ('%', "000101010"),
];

/// Bar and space widths of `data` in CODE39 with start and stop `*`, in narrow modules
/// (wide = 3 modules, one narrow gap between characters).
pub fn code39_modules(data: &str) -> Vec<(bool, usize)> {
    let mut elements = Vec::new();
    let framed = format!("*{data}*");
    for ch in framed.chars() {
        let Some((_, pattern)) = CODE39.iter().find(|(c, _)| *c == ch) else {
            continue;
        };
        for (i, wide) in pattern.chars().enumerate() {
            elements.push((i % 2 == 0, if wide == '1' { 3 } else { 1 }));
        }
        elements.push((false, 1));
    }
    elements
}

/// EAN-13's left-hand digits in odd parity (L); even parity (G) is R reversed, and R is L with
/// bars and spaces swapped.
const EAN_L: [&str; 10] = [
    "0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011",
    "0110111", "0001011",
];
/// Which of the six left-hand digits are in even parity (G), chosen by the first digit.
const EAN13_PARITY: [&str; 10] = [
    "LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL",
    "LGGLGL",
];

/// Bar and space widths of the 13 digits of an EAN-13, guards included, in modules; `None`
/// when `data` is not 13 digits.
pub fn ean13_modules(data: &str) -> Option<Vec<(bool, usize)>> {
    let digits: Vec<usize> = data
        .chars()
        .map(|c| c.to_digit(10).map(|d| d as usize))
        .collect::<Option<_>>()?;
    if digits.len() != 13 {
        return None;
    }
    let mut bits = String::from("101");
    for (i, digit) in digits[1..7].iter().enumerate() {
        let odd = EAN_L[*digit];
        if EAN13_PARITY[digits[0]].as_bytes()[i] == b'G' {
            bits.extend(odd.chars().rev().map(|b| if b == '0' { '1' } else { '0' }));
        } else {
            bits.push_str(odd);
        }
    }
    bits.push_str("01010");
    for digit in &digits[7..] {
        bits.extend(
            EAN_L[*digit]
                .chars()
                .map(|b| if b == '0' { '1' } else { '0' }),
        );
    }
    bits.push_str("101");
    let mut runs: Vec<(bool, usize)> = Vec::new();
    for bar in bits.chars().map(|b| b == '1') {
        match runs.last_mut() {
            Some((last, width)) if *last == bar => *width += 1,
            _ => runs.push((bar, 1)),
        }
    }
    Some(runs)
}

fn draw_text(strip: &mut Strip, text: &str, align: Align, weight: Weight, scale: (usize, usize)) {
    let (sx, sy) = scale;
    let cell = usize::from(CELL_WIDTH_DOTS) * sx;
    let width = text.chars().count() * cell;
    let left = strip.left_for(width, align);
    let top = strip.y;
    for (i, ch) in text.chars().enumerate() {
        let rows = glyph(ch);
        for (gy, row) in rows.iter().enumerate() {
            for gx in 0..8 {
                if row & (1 << gx) == 0 {
                    continue;
                }
                // The 8 × 8 glyph sits 2 dots in and 4 down in its 12 × 24 cell, drawn 1 × 2.
                let x = left + i * cell + (2 + gx) * sx;
                let y = top + (4 + gy * 2) * sy;
                let stroke = if weight == Weight::Bold { sx + 1 } else { sx };
                strip.fill(x, y, stroke, 2 * sy);
            }
        }
    }
    strip.advance(LINE_HEIGHT_DOTS * sy);
}

/// Draws the events on paper `paper.width_dots` wide; returns an 8-bit grey image, black
/// dots on white.
pub fn render(events: &[Event], paper: Paper) -> image::GrayImage {
    let mut strip = Strip {
        width: usize::from(paper.width_dots),
        dots: Vec::new(),
        y: 0,
    };
    for event in events {
        match event {
            Event::Line(line) => {
                let scale = (
                    if line.style.size.is_double_width() {
                        2
                    } else {
                        1
                    },
                    if line.style.size.is_double_height() {
                        2
                    } else {
                        1
                    },
                );
                draw_text(&mut strip, &line.text, line.align, line.style.weight, scale);
            }
            Event::Raster { raster, align } => {
                let left = strip.left_for(usize::from(raster.width_dots), *align);
                let top = strip.y;
                for y in 0..usize::from(raster.height_dots) {
                    for x in 0..usize::from(raster.width_dots) {
                        if raster.is_black(x, y) {
                            strip.set(left + x, top + y);
                        }
                    }
                }
                strip.advance(usize::from(raster.height_dots));
            }
            Event::Barcode {
                symbology,
                data,
                height_dots,
                module_dots,
            } => {
                let module = usize::from(*module_dots).max(1);
                // Receipts print CODE39; the other systems are drawn as CODE39 too, except
                // EAN-13, which the test page and shelf codes use.
                let elements = match symbology {
                    Symbology::Ean13 => ean13_modules(data).unwrap_or_else(|| code39_modules(data)),
                    _ => code39_modules(data),
                };
                let width: usize = elements.iter().map(|(_, w)| w * module).sum();
                let mut x = strip.left_for(width, Align::Center);
                let top = strip.y;
                for (bar, modules) in elements {
                    if bar {
                        strip.fill(x, top, modules * module, usize::from(*height_dots));
                    }
                    x += modules * module;
                }
                strip.advance(usize::from(*height_dots) + 4);
                draw_text(&mut strip, data, Align::Center, Weight::Regular, (1, 1));
            }
            Event::QrCode { data, module_dots } => {
                let module = usize::from(*module_dots).max(1);
                if let Ok(qr) = qrcodegen::QrCode::encode_text(data, qrcodegen::QrCodeEcc::Medium) {
                    let size = usize::try_from(qr.size()).unwrap_or(0);
                    let left = strip.left_for(size * module, Align::Center);
                    let top = strip.y;
                    for y in 0..size {
                        for x in 0..size {
                            let (qx, qy) = (i32::try_from(x), i32::try_from(y));
                            if let (Ok(qx), Ok(qy)) = (qx, qy)
                                && qr.get_module(qx, qy)
                            {
                                strip.fill(left + x * module, top + y * module, module, module);
                            }
                        }
                    }
                    strip.advance(size * module + 8);
                }
            }
            Event::Cut(_) => {
                // A dashed line where the paper is cut.
                let y = strip.y + CELL_HEIGHT_DOTS / 2;
                for x in (0..strip.width).step_by(8) {
                    strip.fill(x, y, 4, 1);
                }
                strip.advance(CELL_HEIGHT_DOTS);
            }
            Event::Init | Event::DrawerKick(_) | Event::StatusQuery(_) => {}
        }
    }
    let height = strip.y.max(1);
    strip.grow_to(height);
    let width = strip.width;
    let pixels: Vec<u8> = strip.dots[..width * height]
        .iter()
        .map(|black| if *black { 0 } else { 255 })
        .collect();
    let (width, height) = (
        u32::try_from(width).unwrap_or(0),
        u32::try_from(height).unwrap_or(0),
    );
    image::GrayImage::from_raw(width, height, pixels)
        .unwrap_or_else(|| image::GrayImage::new(width, height))
}

/// The picture as PNG bytes.
pub fn to_png(image: &image::GrayImage) -> Result<Vec<u8>, image::ImageError> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {

    /// Bits of runs, for checking EAN structure.
    fn bits(runs: &[(bool, usize)]) -> String {
        runs.iter()
            .flat_map(|(bar, width)| std::iter::repeat_n(if *bar { '1' } else { '0' }, *width))
            .collect()
    }

    #[test]
    fn an_ean13_has_95_modules_its_guards_and_the_first_digit_in_its_parities() {
        for data in ["4006381333931", "5901234123457", "0000000000000"] {
            let bits = bits(&ean13_modules(data).unwrap());
            assert_eq!(bits.len(), 95, "{data}");
            assert!(bits.starts_with("101") && bits.ends_with("101"));
            assert_eq!(&bits[45..50], "01010");
            // L codes have an odd number of bars' modules, G codes an even one: the pattern of
            // the six left digits spells the first digit.
            let parity: String = (0..6)
                .map(|i| &bits[3 + 7 * i..10 + 7 * i])
                .map(|code| {
                    if code.matches('1').count() % 2 == 1 {
                        'L'
                    } else {
                        'G'
                    }
                })
                .collect();
            let first = usize::from(data.as_bytes()[0] - b'0');
            assert_eq!(parity, EAN13_PARITY[first], "{data}");
            // Every right-hand code starts with a bar and ends with a space.
            for i in 0..6 {
                let code = &bits[50 + 7 * i..57 + 7 * i];
                assert!(
                    code.starts_with('1') && code.ends_with('0'),
                    "{data}: {code}"
                );
            }
        }
        assert!(ean13_modules("400638133393").is_none());
        assert!(ean13_modules("40063813339X1").is_none());
    }

    use super::*;

    #[test]
    fn every_code39_character_has_three_wide_elements_of_nine() {
        for (ch, pattern) in CODE39 {
            assert_eq!(pattern.len(), 9, "{ch}");
            assert_eq!(pattern.matches('1').count(), 3, "{ch}");
        }
    }

    #[test]
    fn a_printed_line_leaves_black_dots_where_its_letters_are() {
        let events = crate::decode::decode(b"\x1ba\x01I\n").unwrap();
        let image = render(&events, Paper::MM58);
        assert_eq!(image.dimensions(), (384, 30));
        let black: Vec<u32> = image
            .enumerate_pixels()
            .filter(|(_, _, p)| p.0[0] == 0)
            .map(|(x, _, _)| x)
            .collect();
        assert!(!black.is_empty());
        // One centred letter: all its dots within the middle cell.
        assert!(black.iter().all(|x| (186..198).contains(x)), "{black:?}");
    }
}
