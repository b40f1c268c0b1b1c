//! ESC/POS page mode, for printing labels on a receipt printer (or an ESC/POS label
//! printer): each element is placed at its absolute position in a page the size of the
//! label, then the page is printed and cut.
//!
//! Page mode has no drawing command, so boxes and lines are left out here; layouts meant for receipt
//! printers should not rely on them. Text is sent as ASCII (others become `?`): choosing a
//! code page is the receipt printer driver's business.

use std::io::Write;

use crate::barcode::BarcodeKind;
use crate::copies_in_range;
use crate::error::LabelError;
use crate::layout::{BarcodeText, Label, LabelData, Placed};

const ESC: u8 = 0x1b;
const GS: u8 = 0x1d;
/// Height of ESC/POS font A in dots.
pub const FONT_A_HEIGHT_DOTS: u32 = 24;

/// Writes `copies` labels as ESC/POS page-mode pages, each followed by a cut.
pub fn write_escpos(
    label: &Label,
    data: &LabelData,
    copies: u32,
    out: &mut impl Write,
) -> Result<(), LabelError> {
    copies_in_range(copies)?;
    let dpi =
        u8::try_from(label.dpi()).map_err(|_| LabelError::EscPosResolution { dpi: label.dpi() })?;
    let placed = label.place(data)?;
    let mut page = Vec::new();
    // Motion units of one dot, so that every position below is in dots.
    page.extend_from_slice(&[GS, b'P', dpi, dpi]);
    page.extend_from_slice(&[ESC, b'L']);
    page.extend_from_slice(&[ESC, b'T', 0]);
    page.extend_from_slice(&[ESC, b'W', 0, 0, 0, 0]);
    push_u16(&mut page, label.width_dots());
    push_u16(&mut page, label.height_dots());
    for element in &placed {
        match element {
            Placed::Text { x, y, height, text } => {
                let scale = font_scale(*height);
                // n = (width multiplier - 1) << 4 | (height multiplier - 1); scale is 1–8.
                let size = u8::try_from(((scale - 1) << 4) | (scale - 1)).unwrap_or(0);
                page.extend_from_slice(&[GS, b'!', size]);
                // Characters print with their baseline at the vertical position.
                move_to(&mut page, *x, y + FONT_A_HEIGHT_DOTS * scale);
                page.extend(text.chars().map(|c| {
                    if c.is_ascii() && !c.is_ascii_control() {
                        c as u8
                    } else {
                        b'?'
                    }
                }));
            }
            Placed::Barcode {
                x,
                y,
                kind,
                height,
                module,
                text,
                data,
            } => {
                // GS h takes 1–255 dots and GS w 2–6: taller or wider is printed at the limit.
                let bar_height = u8::try_from(*height).unwrap_or(u8::MAX).max(1);
                let bar_module = u8::try_from(*module).unwrap_or(6).clamp(2, 6);
                let readable = if *text == BarcodeText::Below { 2 } else { 0 };
                page.extend_from_slice(&[
                    GS, b'h', bar_height, GS, b'w', bar_module, GS, b'H', readable,
                ]);
                // Barcodes print with their bottom at the vertical position.
                move_to(&mut page, *x, y + u32::from(bar_height));
                match kind {
                    BarcodeKind::Ean13 => {
                        page.extend_from_slice(&[GS, b'k', 67, 12]);
                        page.extend_from_slice(&data.as_bytes()[..12]);
                    }
                    BarcodeKind::Code128 => {
                        // `{B` selects code set B; a literal `{` is written `{{`.
                        let content = format!("{{B{}", data.replace('{', "{{"));
                        page.extend_from_slice(&[
                            GS,
                            b'k',
                            73,
                            u8::try_from(content.len()).unwrap_or(u8::MAX),
                        ]);
                        page.extend_from_slice(content.as_bytes());
                    }
                }
            }
            Placed::Box { .. } | Placed::Bar { .. } => {}
        }
    }
    page.push(0x0c);
    // Feed to the cutter and cut.
    page.extend_from_slice(&[GS, b'V', 66, 0]);
    out.write_all(&[ESC, b'@'])?;
    for _ in 0..copies {
        out.write_all(&page)?;
    }
    Ok(())
}

/// The whole multiplier (1–8) of font A nearest to `height_dots`.
pub fn font_scale(height_dots: u32) -> u32 {
    ((height_dots + FONT_A_HEIGHT_DOTS / 2) / FONT_A_HEIGHT_DOTS).clamp(1, 8)
}

fn move_to(page: &mut Vec<u8>, x: u32, y: u32) {
    page.extend_from_slice(&[GS, b'$']);
    push_u16(page, y);
    page.extend_from_slice(&[ESC, b'$']);
    push_u16(page, x);
}

fn push_u16(page: &mut Vec<u8>, value: u32) {
    let value = u16::try_from(value).unwrap_or(u16::MAX);
    page.extend_from_slice(&value.to_le_bytes());
}
