//! ZPL II for Zebra printers (and the many that speak ZPL).
//!
//! Field data goes through `^FH` hex escapes so that `^`, `~` and `_` in a product name can
//! never be read as commands; `^CI28` makes the printer read UTF-8.

use std::io::Write;

use crate::barcode::BarcodeKind;
use crate::copies_in_range;
use crate::error::LabelError;
use crate::layout::{BarcodeText, Label, LabelData, Placed};

/// Writes one ZPL format printing `copies` labels.
pub fn write_zpl(
    label: &Label,
    data: &LabelData,
    copies: u32,
    out: &mut impl Write,
) -> Result<(), LabelError> {
    copies_in_range(copies)?;
    let placed = label.place(data)?;
    let mut zpl = String::new();
    zpl.push_str("^XA\n^CI28\n");
    zpl.push_str(&format!(
        "^PW{}\n^LL{}\n^LH0,0\n",
        label.width_dots(),
        label.height_dots()
    ));
    for element in &placed {
        match element {
            Placed::Text { x, y, height, text } => {
                zpl.push_str(&format!(
                    "^FO{x},{y}^A0N,{height},{height}^FH^FD{}^FS\n",
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
                let interpretation = if *text == BarcodeText::Below {
                    'Y'
                } else {
                    'N'
                };
                match kind {
                    // ^BE takes the 12 data digits and prints its own check digit.
                    BarcodeKind::Ean13 => zpl.push_str(&format!(
                        "^FO{x},{y}^BY{module}^BEN,{height},{interpretation},N^FD{}^FS\n",
                        &data[..12]
                    )),
                    BarcodeKind::Code128 => zpl.push_str(&format!(
                        "^FO{x},{y}^BY{module}^BCN,{height},{interpretation},N,N,A^FH^FD{}^FS\n",
                        escape(data)
                    )),
                }
            }
            Placed::Box {
                x,
                y,
                width,
                height,
                line,
            } => {
                zpl.push_str(&format!("^FO{x},{y}^GB{width},{height},{line}^FS\n"));
            }
            // A box whose border is as thick as its narrow side is solid.
            Placed::Bar {
                x,
                y,
                width,
                height,
            } => {
                let line = (*width).min(*height);
                zpl.push_str(&format!("^FO{x},{y}^GB{width},{height},{line}^FS\n"));
            }
        }
    }
    zpl.push_str(&format!("^PQ{copies}\n^XZ\n"));
    out.write_all(zpl.as_bytes())?;
    Ok(())
}

/// Hex-escapes the characters ZPL would take as commands, and the escape character itself.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for symbol in text.chars() {
        match symbol {
            '^' | '~' | '_' => escaped.push_str(&format!("_{:02X}", u32::from(symbol))),
            _ => escaped.push(symbol),
        }
    }
    escaped
}
