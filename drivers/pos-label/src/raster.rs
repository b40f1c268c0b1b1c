//! The label as a picture, dot for dot: what [`Label::place`] resolved, drawn black on white
//! at the printer's resolution, for the back office's live preview. The barcodes are real
//! (EAN-13, and Code 128 in code set B, the set [`barcode::width_modules`] counts), so a
//! scanner reads the preview as it reads the printed label; text uses an 8 × 8 bitmap font
//! scaled to the placed height and to two thirds of it per character, the width
//! [`text_width_dots`](crate::layout::text_width_dots) reserves.

use image::{GrayImage, Luma};

use crate::barcode::{self, BarcodeKind};
use crate::layout::{BarcodeText, Label, Placed, text_width_dots};

const INK: Luma<u8> = Luma([0]);
const PAPER: Luma<u8> = Luma([255]);

/// Draws `placed` (the result of `label.place`) on a label-sized image.
pub fn render(label: &Label, placed: &[Placed]) -> GrayImage {
    let mut image = GrayImage::from_pixel(label.width_dots(), label.height_dots(), PAPER);
    for element in placed {
        match element {
            Placed::Text { x, y, height, text } => draw_text(&mut image, *x, *y, *height, text),
            Placed::Barcode {
                x,
                y,
                kind,
                height,
                module,
                text,
                data,
            } => {
                let runs = match kind {
                    BarcodeKind::Ean13 => ean13_runs(data),
                    BarcodeKind::Code128 => code128_runs(data),
                };
                let mut left = *x;
                for (is_bar, modules) in runs {
                    let width = modules * module;
                    if is_bar {
                        fill(&mut image, left, *y, width, *height);
                    }
                    left += width;
                }
                if *text == BarcodeText::Below {
                    // The digits under the bars, as the printers put them.
                    let digits_height = (module * 9).max(8);
                    let width = text_width_dots(data, digits_height);
                    let bars = barcode::width_modules(*kind, data) * module;
                    let start = x + bars.saturating_sub(width) / 2;
                    draw_text(&mut image, start, y + height + 2, digits_height, data);
                }
            }
            Placed::Box {
                x,
                y,
                width,
                height,
                line,
            } => {
                fill(&mut image, *x, *y, *width, *line);
                fill(
                    &mut image,
                    *x,
                    (y + height).saturating_sub(*line),
                    *width,
                    *line,
                );
                fill(&mut image, *x, *y, *line, *height);
                fill(
                    &mut image,
                    (x + width).saturating_sub(*line),
                    *y,
                    *line,
                    *height,
                );
            }
            Placed::Bar {
                x,
                y,
                width,
                height,
            } => fill(&mut image, *x, *y, *width, *height),
        }
    }
    image
}

/// Blackens a rectangle; what falls off the label is not drawn, as on the printer.
fn fill(image: &mut GrayImage, x: u32, y: u32, width: u32, height: u32) {
    let right = x.saturating_add(width).min(image.width());
    let bottom = y.saturating_add(height).min(image.height());
    for row in y..bottom {
        for column in x..right {
            image.put_pixel(column, row, INK);
        }
    }
}

fn glyph(symbol: char) -> [u8; 8] {
    use font8x8::UnicodeFonts;
    const EURO: [u8; 8] = [0x38, 0x44, 0x1F, 0x04, 0x1F, 0x44, 0x38, 0x00];
    const UNKNOWN: [u8; 8] = [0x7E, 0x42, 0x42, 0x42, 0x42, 0x42, 0x7E, 0x00];
    if symbol == '€' {
        return EURO;
    }
    font8x8::BASIC_FONTS
        .get(symbol)
        .or_else(|| font8x8::LATIN_FONTS.get(symbol))
        .unwrap_or(UNKNOWN)
}

/// Each character in a cell `height` high and two thirds of it wide, the glyph scaled to fill
/// it (nearest dot).
fn draw_text(image: &mut GrayImage, x: u32, y: u32, height: u32, text: &str) {
    let cell_width = height.saturating_mul(2).div_ceil(3).max(1);
    let height = height.max(1);
    for (index, symbol) in (0_u32..).zip(text.chars()) {
        let rows = glyph(symbol);
        let left = x.saturating_add(index.saturating_mul(cell_width));
        for dy in 0..height {
            let row = rows[usize::try_from(dy * 8 / height).unwrap_or(0).min(7)];
            for dx in 0..cell_width {
                let bit = dx * 8 / cell_width;
                if row & (1 << bit) != 0 {
                    let (px, py) = (left + dx, y + dy);
                    if px < image.width() && py < image.height() {
                        image.put_pixel(px, py, INK);
                    }
                }
            }
        }
    }
}

/// EAN-13 as runs of (bar?, modules), from 13 digits: 95 modules with the guards.
pub fn ean13_runs(digits: &str) -> Vec<(bool, u32)> {
    const LEFT_ODD: [u8; 10] = [
        0b0001101, 0b0011001, 0b0010011, 0b0111101, 0b0100011, 0b0110001, 0b0101111, 0b0111011,
        0b0110111, 0b0001011,
    ];
    const LEFT_EVEN: [u8; 10] = [
        0b0100111, 0b0110011, 0b0011011, 0b0100001, 0b0011101, 0b0111001, 0b0000101, 0b0010001,
        0b0001001, 0b0010111,
    ];
    // Which of digits 2–7 use the even set, by the first digit: bit 5 is digit 2.
    const PARITY: [u8; 10] = [
        0b000000, 0b001011, 0b001101, 0b001110, 0b010011, 0b011001, 0b011100, 0b010101, 0b010110,
        0b011010,
    ];
    let values: Vec<usize> = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| usize::from(b - b'0'))
        .collect();
    let mut bits: Vec<bool> = Vec::with_capacity(95);
    let mut push = |pattern: u8, width: u32| {
        for shift in (0..width).rev() {
            bits.push(pattern >> shift & 1 == 1);
        }
    };
    if values.len() != 13 {
        return Vec::new();
    }
    push(0b101, 3);
    for (position, value) in values[1..7].iter().enumerate() {
        let even = PARITY[values[0]] >> (5 - position) & 1 == 1;
        push(if even { LEFT_EVEN } else { LEFT_ODD }[*value], 7);
    }
    push(0b01010, 5);
    for value in &values[7..] {
        // The right-hand set is the odd set with bars and spaces swapped.
        push(!LEFT_ODD[*value] & 0x7F, 7);
    }
    push(0b101, 3);
    runs(&bits)
}

fn runs(bits: &[bool]) -> Vec<(bool, u32)> {
    let mut out: Vec<(bool, u32)> = Vec::new();
    for &bit in bits {
        match out.last_mut() {
            Some((last, count)) if *last == bit => *count += 1,
            _ => out.push((bit, 1)),
        }
    }
    out
}

/// Code 128 symbol widths (bar, space, bar, space, bar, space) for values 0–105, then stop.
const CODE128: [&str; 107] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
];
const CODE128_START_B: usize = 104;
const CODE128_STOP: usize = 106;

/// Code 128 in code set B as runs of (bar?, modules): start, data, check symbol, stop.
/// `data` is printable ASCII (checked by [`barcode::validate`]).
pub fn code128_runs(data: &str) -> Vec<(bool, u32)> {
    let values: Vec<usize> = data
        .bytes()
        .map(|b| usize::from(b.saturating_sub(b' ')).min(94))
        .collect();
    let check = values
        .iter()
        .zip(1..)
        .fold(CODE128_START_B, |sum, (value, weight)| sum + value * weight)
        % 103;
    let mut symbols = vec![CODE128_START_B];
    symbols.extend(values);
    symbols.push(check);
    symbols.push(CODE128_STOP);
    let mut out = Vec::new();
    for symbol in symbols {
        for (index, width) in CODE128[symbol].bytes().enumerate() {
            out.push((index % 2 == 0, u32::from(width - b'0')));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code128_symbol_is_eleven_modules_and_the_stop_thirteen() {
        for (value, pattern) in CODE128.iter().enumerate() {
            let modules: u32 = pattern.bytes().map(|b| u32::from(b - b'0')).sum();
            let expected = if value == CODE128_STOP { 13 } else { 11 };
            assert_eq!(modules, expected, "symbol {value}");
        }
    }

    #[test]
    fn bar_widths_match_what_placement_reserves() {
        let width = |runs: Vec<(bool, u32)>| runs.iter().map(|(_, m)| m).sum::<u32>();
        assert_eq!(width(ean13_runs("4006381333931")), 95);
        for data in ["A", "SKU-NB-A5-{07}", "1234567890"] {
            assert_eq!(
                width(code128_runs(data)),
                barcode::width_modules(BarcodeKind::Code128, data)
            );
        }
    }
}
