//! TSPL/TSPL2 for TSC printers and the many low-cost label printers that copy it.
//!
//! Text uses the built-in bitmap font 3 (16 × 24 dots) scaled by a whole multiplier to the
//! nearest requested height: every TSPL printer has it, unlike scalable fonts.

use std::io::Write;

use crate::barcode::BarcodeKind;
use crate::copies_in_range;
use crate::error::LabelError;
use crate::layout::{BarcodeText, Label, LabelData, Placed};

/// Height of TSPL font 3 in dots.
pub const FONT_3_HEIGHT_DOTS: u32 = 24;

/// Writes one TSPL job printing `copies` labels.
pub fn write_tspl(
    label: &Label,
    data: &LabelData,
    copies: u32,
    out: &mut impl Write,
) -> Result<(), LabelError> {
    copies_in_range(copies)?;
    let placed = label.place(data)?;
    let layout = label.layout();
    let mut tspl = String::new();
    tspl.push_str(&format!(
        "SIZE {} mm,{} mm\r\n",
        layout.width_mm.normalize(),
        layout.height_mm.normalize()
    ));
    tspl.push_str(&format!("GAP {} mm,0 mm\r\n", layout.gap_mm.normalize()));
    tspl.push_str("DIRECTION 1\r\nREFERENCE 0,0\r\nCODEPAGE UTF-8\r\nCLS\r\n");
    for element in &placed {
        match element {
            Placed::Text { x, y, height, text } => {
                let scale = font_scale(*height);
                tspl.push_str(&format!(
                    "TEXT {x},{y},\"3\",0,{scale},{scale},\"{}\"\r\n",
                    escape(text)
                ));
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
                let readable = u8::from(*text == BarcodeText::Below);
                let (code_type, content) = match kind {
                    BarcodeKind::Ean13 => ("EAN13", data[..12].to_string()),
                    BarcodeKind::Code128 => ("128", escape(data)),
                };
                tspl.push_str(&format!(
                    "BARCODE {x},{y},\"{code_type}\",{height},{readable},0,{module},{module},\"{content}\"\r\n"
                ));
            }
            Placed::Box {
                x,
                y,
                width,
                height,
                line,
            } => {
                tspl.push_str(&format!(
                    "BOX {x},{y},{},{},{line}\r\n",
                    x + width,
                    y + height
                ));
            }
            Placed::Bar {
                x,
                y,
                width,
                height,
            } => tspl.push_str(&format!("BAR {x},{y},{width},{height}\r\n")),
        }
    }
    tspl.push_str(&format!("PRINT {copies},1\r\n"));
    out.write_all(tspl.as_bytes())?;
    Ok(())
}

/// The whole multiplier (1–10) of font 3 nearest to `height_dots`.
pub fn font_scale(height_dots: u32) -> u32 {
    ((height_dots + FONT_3_HEIGHT_DOTS / 2) / FONT_3_HEIGHT_DOTS).clamp(1, 10)
}

/// TSPL writes a double quote inside a string as `\["]`.
fn escape(text: &str) -> String {
    text.replace('"', "\\[\"]")
}
