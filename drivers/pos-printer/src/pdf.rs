//! The receipt as a PDF, for email and the back office: one page as long as the receipt, as
//! wide as the roll, laid out from the same [`Document::layout`] as the paper. Written by hand
//! (about two hundred lines) with the standard Courier fonts in WinAnsiEncoding, so it needs
//! no font files and the euro sign and Western European letters come out right; characters
//! outside Windows-1252 are transliterated as on the printer.

use pos_core::receipt::{Align, Document, Row, Weight, padded};

use crate::codepage::CodePage;
use crate::encode::PrinterProfile;
use crate::raster::Raster;
use crate::render::code39_modules;

const POINTS_PER_MM: f32 = 72.0 / 25.4;
const MARGIN_PT: f32 = 8.0;
/// Courier's advance is 0.6 em.
const COURIER_ADVANCE: f32 = 0.6;

/// The roll width, in millimetres, for a paper of `columns`.
fn roll_mm(columns: usize) -> f32 {
    if columns <= 32 { 58.0 } else { 80.0 }
}

fn pdf_string(text: &str) -> String {
    let mut out = String::from("(");
    for byte in CodePage::Wpc1252.encode(text) {
        match byte {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(char::from(byte));
            }
            0x20..=0x7E => out.push(char::from(byte)),
            _ => out.push_str(&format!("\\{byte:03o}")),
        }
    }
    out.push(')');
    out
}

struct Page {
    width_pt: f32,
    font_pt: f32,
    columns: usize,
    /// Drawing operators, with y measured down from the top; fixed up at the end.
    ops: Vec<Op>,
    y: f32,
}

enum Op {
    Text {
        x: f32,
        baseline: f32,
        scale: (f32, f32),
        bold: bool,
        text: String,
    },
    Rect {
        x: f32,
        top: f32,
        width: f32,
        height: f32,
    },
    Image {
        x: f32,
        top: f32,
        width: f32,
        height: f32,
    },
}

impl Page {
    fn line_pt(&self) -> f32 {
        self.font_pt * 1.25
    }

    fn text(&mut self, text: &str, align: Align, weight: Weight, scale: (f32, f32)) {
        let columns = if scale.0 > 1.0 {
            self.columns / 2
        } else {
            self.columns
        };
        let shown = padded(text, align, columns);
        self.y += self.line_pt() * scale.1;
        self.ops.push(Op::Text {
            x: MARGIN_PT,
            baseline: self.y - self.font_pt * 0.25,
            scale,
            bold: weight == Weight::Bold,
            text: shown.trim_end().to_owned(),
        });
    }

    fn centred_left(&self, width: f32) -> f32 {
        (self.width_pt - width) / 2.0
    }
}

/// The document as a PDF file.
pub fn to_pdf(document: &Document, profile: &PrinterProfile) -> Vec<u8> {
    let columns = profile.paper.columns;
    let width_pt = roll_mm(columns) * POINTS_PER_MM;
    let font_pt = (width_pt - 2.0 * MARGIN_PT) / (columns as f32 * COURIER_ADVANCE);
    let mut page = Page {
        width_pt,
        font_pt,
        columns,
        ops: Vec::new(),
        y: MARGIN_PT,
    };
    let mut logo: Option<&Raster> = None;
    for row in document.layout(columns) {
        match row {
            Row::Text { text, align, style } => {
                let scale = (
                    if style.size.is_double_width() {
                        2.0
                    } else {
                        1.0
                    },
                    if style.size.is_double_height() {
                        2.0
                    } else {
                        1.0
                    },
                );
                page.text(&text, align, style.weight, scale);
            }
            Row::Blank => page.y += page.line_pt(),
            Row::Logo => {
                if let Some(raster) = &profile.logo {
                    // Printer dots are 1/203 inch.
                    let dot = 72.0 / 203.0;
                    let (width, height) = (
                        f32::from(raster.width_dots) * dot,
                        f32::from(raster.height_dots) * dot,
                    );
                    let x = page.centred_left(width);
                    page.ops.push(Op::Image {
                        x,
                        top: page.y,
                        width,
                        height,
                    });
                    page.y += height + 4.0;
                    logo = Some(raster);
                }
            }
            Row::Barcode(data) => {
                let data = data.to_uppercase();
                let elements = code39_modules(&data);
                let module = 0.9;
                let total: f32 = elements.iter().map(|(_, w)| *w as f32 * module).sum();
                let mut x = page.centred_left(total);
                let top = page.y + 4.0;
                for (bar, modules) in elements {
                    let width = modules as f32 * module;
                    if bar {
                        page.ops.push(Op::Rect {
                            x,
                            top,
                            width,
                            height: 30.0,
                        });
                    }
                    x += width;
                }
                page.y = top + 30.0;
                page.text(&data, Align::Center, Weight::Regular, (1.0, 1.0));
            }
            Row::QrCode(data) => {
                if let Ok(qr) = qrcodegen::QrCode::encode_text(&data, qrcodegen::QrCodeEcc::Medium)
                {
                    let module = 2.0;
                    let size = qr.size();
                    let left = page.centred_left(size as f32 * module);
                    let top = page.y + 6.0;
                    for y in 0..size {
                        for x in 0..size {
                            if qr.get_module(x, y) {
                                page.ops.push(Op::Rect {
                                    x: left + x as f32 * module,
                                    top: top + y as f32 * module,
                                    width: module,
                                    height: module,
                                });
                            }
                        }
                    }
                    page.y = top + size as f32 * module + 6.0;
                }
            }
            Row::Cut => {}
        }
    }
    let height_pt = page.y + MARGIN_PT;
    let mut content = String::new();
    for op in &page.ops {
        match op {
            Op::Text {
                x,
                baseline,
                scale,
                bold,
                text,
            } => {
                let font = if *bold { "F2" } else { "F1" };
                content.push_str(&format!(
                    "BT /{font} {font_pt:.2} Tf {:.2} 0 0 {:.2} {x:.2} {:.2} Tm {} Tj ET\n",
                    scale.0,
                    scale.1,
                    height_pt - baseline,
                    pdf_string(text)
                ));
            }
            Op::Rect {
                x,
                top,
                width,
                height,
            } => content.push_str(&format!(
                "{x:.2} {:.2} {width:.2} {height:.2} re f\n",
                height_pt - top - height
            )),
            Op::Image {
                x,
                top,
                width,
                height,
            } => content.push_str(&format!(
                "q {width:.2} 0 0 {height:.2} {x:.2} {:.2} cm /Logo Do Q\n",
                height_pt - top - height
            )),
        }
    }
    assemble(width_pt, height_pt, &content, logo)
}

/// Numbers the objects, writes the cross-reference table with exact offsets.
fn assemble(width_pt: f32, height_pt: f32, content: &str, logo: Option<&Raster>) -> Vec<u8> {
    let xobject = if logo.is_some() {
        " /XObject << /Logo 7 0 R >>"
    } else {
        ""
    };
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt:.2} {height_pt:.2}] \
             /Resources << /Font << /F1 5 0 R /F2 6 0 R >>{xobject} >> /Contents 4 0 R >>"
        )
        .into_bytes(),
        {
            let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
            stream.extend(content.as_bytes());
            stream.extend(b"\nendstream");
            stream
        },
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier-Bold /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    ];
    if let Some(raster) = logo {
        // An image mask: set bits paint (Decode [1 0]) in the fill colour, black.
        let mut stream = format!(
            "<< /Type /XObject /Subtype /Image /Width {} /Height {} /ImageMask true \
             /BitsPerComponent 1 /Decode [1 0] /Length {} >>\nstream\n",
            raster.width_dots,
            raster.height_dots,
            raster.bits.len()
        )
        .into_bytes();
        stream.extend(&raster.bits);
        stream.extend(b"\nendstream");
        objects.push(stream);
    }
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend(object);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::pdf_string;

    #[test]
    fn pdf_strings_escape_parentheses_and_encode_the_euro_in_winansi() {
        assert_eq!(pdf_string("(5 €) \\"), "(\\(5 \\200\\) \\\\)");
    }
}
