//! A report as a PDF: A4 pages (turned to landscape when the table is wide), the title and
//! period on every page, the column headings repeated, numbers right-aligned, the totals row
//! at the end and "page n of m" at the foot. Written by hand, like the receipt PDF of the
//! printer driver: the standard Courier fonts in WinAnsiEncoding need no font file, keep the
//! columns aligned, and print the euro sign and Western European letters; any other
//! character becomes `?`.

use crate::{Cell, ColumnKind, Table};

/// A4 in points.
const A4_SHORT: f32 = 595.28;
const A4_LONG: f32 = 841.89;
const MARGIN: f32 = 40.0;
/// Courier's advance is 0.6 em.
const COURIER_ADVANCE: f32 = 0.6;
const BODY_MAX_PT: f32 = 9.0;
const BODY_MIN_PT: f32 = 5.0;
const TITLE_PT: f32 = 14.0;
const GAP: usize = 2;
/// The widest a text column gets before its text is cut short.
const TEXT_COLUMN_MAX: usize = 36;

pub fn to_pdf(table: &Table) -> Vec<u8> {
    let headings: Vec<String> = table
        .columns
        .iter()
        .map(|c| c.heading(table.currency))
        .collect();
    let mut widths: Vec<usize> = headings.iter().map(|h| h.chars().count()).collect();
    for row in table.rows.iter().chain(std::iter::once(&table.totals)) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.shown().chars().count());
        }
    }
    for (width, column) in widths.iter_mut().zip(&table.columns) {
        if column.kind == ColumnKind::Text {
            *width = (*width).min(TEXT_COLUMN_MAX);
        }
    }
    let line_chars = widths.iter().sum::<usize>() + GAP * widths.len().saturating_sub(1);

    let portrait_pt = (A4_SHORT - 2.0 * MARGIN) / (line_chars.max(1) as f32 * COURIER_ADVANCE);
    let (page_width, page_height) = if portrait_pt >= BODY_MAX_PT.min(7.0) {
        (A4_SHORT, A4_LONG)
    } else {
        (A4_LONG, A4_SHORT)
    };
    let font_pt = ((page_width - 2.0 * MARGIN) / (line_chars.max(1) as f32 * COURIER_ADVANCE))
        .clamp(BODY_MIN_PT, BODY_MAX_PT);
    let line_pt = font_pt * 1.3;

    let aligned = |cells: &[String]| -> String {
        let mut line = String::new();
        for (index, (text, width)) in cells.iter().zip(&widths).enumerate() {
            if index > 0 {
                line.push_str(&" ".repeat(GAP));
            }
            let text = cut(text, *width);
            let padding = " ".repeat(width.saturating_sub(text.chars().count()));
            let right = table
                .columns
                .get(index)
                .is_some_and(|c| c.kind != ColumnKind::Text);
            if right {
                line.push_str(&padding);
                line.push_str(&text);
            } else {
                line.push_str(&text);
                line.push_str(&padding);
            }
        }
        line.trim_end().to_owned()
    };
    let shown = |row: &Vec<Cell>| -> Vec<String> { row.iter().map(Cell::shown).collect() };

    // Page furniture: title, period, a blank, the headings and a rule above the rows; the
    // foot line below.
    let top_of_rows = MARGIN + TITLE_PT * 1.4 + line_pt * 3.0 + 4.0;
    let rows_per_page = (((page_height - MARGIN - line_pt * 2.0) - top_of_rows) / line_pt)
        .floor()
        .max(1.0) as usize;
    let mut lines: Vec<(String, bool)> = table
        .rows
        .iter()
        .map(|row| (aligned(&shown(row)), false))
        .collect();
    if table.rows.is_empty() {
        lines.push(("No sales in this period.".to_owned(), false));
    }
    let totals_at = lines.len();
    lines.push((aligned(&shown(&table.totals)), true));
    let pages: Vec<&[(String, bool)]> = lines.chunks(rows_per_page).collect();
    let page_count = pages.len();
    let heading_line = aligned(&headings);
    let rule_width = (line_chars as f32 * COURIER_ADVANCE * font_pt).min(page_width - 2.0 * MARGIN);

    let mut contents = Vec::with_capacity(page_count);
    let mut first_line = 0;
    for (page_index, page_lines) in pages.iter().enumerate() {
        let mut ops = String::new();
        let mut y = MARGIN + TITLE_PT;
        text(
            &mut ops,
            "F2",
            TITLE_PT,
            MARGIN,
            page_height - y,
            &table.title,
        );
        y += TITLE_PT * 0.4 + line_pt;
        text(
            &mut ops,
            "F1",
            font_pt,
            MARGIN,
            page_height - y,
            &table.period,
        );
        y += line_pt * 2.0;
        text(
            &mut ops,
            "F2",
            font_pt,
            MARGIN,
            page_height - y,
            &heading_line,
        );
        rule(
            &mut ops,
            MARGIN,
            page_height - y - font_pt * 0.4,
            rule_width,
        );
        y = top_of_rows;
        for (offset, (line, bold)) in page_lines.iter().enumerate() {
            y += line_pt;
            if first_line + offset == totals_at {
                rule(
                    &mut ops,
                    MARGIN,
                    page_height - y + font_pt * 1.0,
                    rule_width,
                );
            }
            let font = if *bold { "F2" } else { "F1" };
            text(&mut ops, font, font_pt, MARGIN, page_height - y, line);
        }
        first_line += page_lines.len();
        let foot = format!("Page {} of {page_count}", page_index + 1);
        text(&mut ops, "F1", font_pt, MARGIN, MARGIN * 0.75, &foot);
        contents.push(ops);
    }
    assemble(page_width, page_height, &contents)
}

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(width.saturating_sub(1)).collect();
        short.push('\u{2026}');
        short
    }
}

fn text(ops: &mut String, font: &str, size: f32, x: f32, y: f32, content: &str) {
    ops.push_str(&format!(
        "BT /{font} {size:.2} Tf {x:.2} {y:.2} Td {} Tj ET\n",
        pdf_string(content)
    ));
}

fn rule(ops: &mut String, x: f32, y: f32, width: f32) {
    ops.push_str(&format!(
        "0.5 w {x:.2} {y:.2} m {:.2} {y:.2} l S\n",
        x + width
    ));
}

/// A PDF literal string in WinAnsiEncoding (Windows-1252).
fn pdf_string(text: &str) -> String {
    let mut out = String::from("(");
    for byte in text.chars().map(win_ansi) {
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

fn win_ansi(c: char) -> u8 {
    const HIGH: [(char, u8); 27] = [
        ('\u{20AC}', 0x80),
        ('\u{201A}', 0x82),
        ('\u{0192}', 0x83),
        ('\u{201E}', 0x84),
        ('\u{2026}', 0x85),
        ('\u{2020}', 0x86),
        ('\u{2021}', 0x87),
        ('\u{02C6}', 0x88),
        ('\u{2030}', 0x89),
        ('\u{0160}', 0x8A),
        ('\u{2039}', 0x8B),
        ('\u{0152}', 0x8C),
        ('\u{017D}', 0x8E),
        ('\u{2018}', 0x91),
        ('\u{2019}', 0x92),
        ('\u{201C}', 0x93),
        ('\u{201D}', 0x94),
        ('\u{2022}', 0x95),
        ('\u{2013}', 0x96),
        ('\u{2014}', 0x97),
        ('\u{02DC}', 0x98),
        ('\u{2122}', 0x99),
        ('\u{0161}', 0x9A),
        ('\u{203A}', 0x9B),
        ('\u{0153}', 0x9C),
        ('\u{017E}', 0x9E),
        ('\u{0178}', 0x9F),
    ];
    match u32::from(c) {
        0x20..=0x7E | 0xA0..=0xFF => u8::try_from(u32::from(c)).unwrap_or(b'?'),
        _ => HIGH
            .iter()
            .find(|(known, _)| *known == c)
            .map_or(b'?', |(_, byte)| *byte),
    }
}

/// Numbers the objects and writes the cross-reference table with exact offsets.
fn assemble(width: f32, height: f32, contents: &[String]) -> Vec<u8> {
    let fonts = "/Font << /F1 3 0 R /F2 4 0 R >>";
    let first_page = 5;
    let kids: Vec<String> = (0..contents.len())
        .map(|i| format!("{} 0 R", first_page + 2 * i))
        .collect();
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            contents.len()
        )
        .into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier-Bold /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    ];
    for (index, content) in contents.iter().enumerate() {
        let content_id = first_page + 2 * index + 1;
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width:.2} {height:.2}] \
                 /Resources << {fonts} >> /Contents {content_id} 0 R >>"
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content.as_bytes());
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    let mut pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", index + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_written_in_win_ansi_with_pdf_escapes() {
        assert_eq!(pdf_string("12.50 \u{20AC}"), "(12.50 \\200)");
        assert_eq!(pdf_string("Gr\u{FC}n (M)"), "(Gr\\374n \\(M\\))");
        assert_eq!(pdf_string("\u{65E5}"), "(?)");
    }
}
