//! Receipts and shift reports as a structured [`Document`]: a list of blocks (logo, text,
//! left/right pairs, rules, tax rows, the receipt number as a barcode, a QR code, the cut)
//! that every output renders the same way. [`Document::to_text`] lays it out in a fixed
//! number of columns (32, 42 or 48 for 58 mm and 80 mm paper): that text is what the tests,
//! the email body and the back office show. The printer driver renders the same document to
//! ESC/POS and PDF from [`Document::layout`], so paper, PDF and text never disagree.
//!
//! Pure: building and laying out a document does no IO.

use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::refund::Refund;
use crate::sale::Sale;
use crate::shift::{ReportKind, ShiftReport};
use crate::tenant::Store;

/// Whether prices are shown. A gift receipt lists the items without any amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiptStyle {
    Normal,
    Gift,
}

/// The narrowest and widest paper the layout accepts, in columns of the printer's font A.
pub const COLUMNS_MIN: usize = 24;
pub const COLUMNS_MAX: usize = 64;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Weight {
    #[default]
    Regular,
    Bold,
}

/// Character size. Double width halves the columns a line has; double height does not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Size {
    #[default]
    Normal,
    DoubleHeight,
    DoubleWidth,
    Double,
}

impl Size {
    pub fn is_double_width(self) -> bool {
        matches!(self, Size::DoubleWidth | Size::Double)
    }

    pub fn is_double_height(self) -> bool {
        matches!(self, Size::DoubleHeight | Size::Double)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Style {
    pub weight: Weight,
    pub size: Size,
}

impl Style {
    pub const PLAIN: Style = Style {
        weight: Weight::Regular,
        size: Size::Normal,
    };
    pub const BOLD: Style = Style {
        weight: Weight::Bold,
        size: Size::Normal,
    };
    /// The store's name: bold and tall, still the paper's full width.
    pub const TITLE: Style = Style {
        weight: Weight::Bold,
        size: Size::DoubleHeight,
    };
    /// A short banner (REFUND, GIFT RECEIPT): twice as tall and twice as wide.
    pub const TITLE_WIDE: Style = Style {
        weight: Weight::Bold,
        size: Size::Double,
    };
    pub const TOTAL: Style = Style {
        weight: Weight::Bold,
        size: Size::DoubleHeight,
    };
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Align {
    #[default]
    Left,
    Center,
}

/// One element of a receipt, in printing order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Block {
    /// The store's logo; each output supplies its own image for it. Not part of the text.
    Logo,
    Text {
        text: String,
        align: Align,
        style: Style,
    },
    /// `left` and `right` on one row, `right` flush with the edge.
    Pair {
        left: String,
        right: String,
        style: Style,
    },
    /// One rate of the tax summary: the net amount it was charged on, and the tax.
    TaxRow {
        name: String,
        taxable: Money,
        tax: Money,
    },
    Rule,
    Blank,
    /// The receipt number as a CODE39 barcode, so a return scans it. Not part of the text,
    /// which already shows the number.
    Barcode {
        data: String,
    },
    /// A QR code (the receipt's reference for an electronic copy). Not part of the text.
    QrCode {
        data: String,
    },
    /// End of the document: the printer feeds and cuts. Not part of the text.
    Cut,
}

/// A receipt, refund slip or report, ready to be laid out on any width.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub blocks: Vec<Block>,
}

/// A laid-out row: what a printer prints, top to bottom. Text rows are at most as long as
/// the columns available to their size (half the paper's for double width).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Row {
    /// `text` keeps its layout padding except centring, which `align` asks for.
    Text {
        text: String,
        align: Align,
        style: Style,
    },
    /// An empty row.
    Blank,
    Logo,
    Barcode(String),
    QrCode(String),
    Cut,
}

impl Document {
    fn push(&mut self, block: Block) {
        self.blocks.push(block);
    }

    fn center(&mut self, text: &str) {
        self.center_styled(text, Style::PLAIN);
    }

    fn center_styled(&mut self, text: &str, style: Style) {
        self.push(Block::Text {
            text: text.to_owned(),
            align: Align::Center,
            style,
        });
    }

    fn line(&mut self, text: &str) {
        self.push(Block::Text {
            text: text.to_owned(),
            align: Align::Left,
            style: Style::PLAIN,
        });
    }

    fn pair(&mut self, left: &str, right: &str) {
        self.pair_styled(left, right, Style::PLAIN);
    }

    fn pair_styled(&mut self, left: &str, right: &str, style: Style) {
        self.push(Block::Pair {
            left: left.to_owned(),
            right: right.to_owned(),
            style,
        });
    }

    fn rule(&mut self) {
        self.push(Block::Rule);
    }

    fn blank(&mut self) {
        self.push(Block::Blank);
    }

    /// The rows of this document on paper `width` columns wide (clamped to
    /// [`COLUMNS_MIN`]..=[`COLUMNS_MAX`]).
    pub fn layout(&self, width: usize) -> Vec<Row> {
        let width = width.clamp(COLUMNS_MIN, COLUMNS_MAX);
        let mut rows = Vec::new();
        for block in &self.blocks {
            match block {
                Block::Logo => rows.push(Row::Logo),
                Block::Text { text, align, style } => {
                    let columns = columns_for(width, *style);
                    for row in wrap(text, columns).iter().flat_map(|r| chop(r, columns)) {
                        rows.push(text_row(row, *align, *style));
                    }
                }
                Block::Pair { left, right, style } => {
                    let columns = columns_for(width, *style);
                    for row in pair_rows(left, right, columns) {
                        rows.push(text_row(row, Align::Left, *style));
                    }
                }
                Block::TaxRow { name, taxable, tax } => {
                    let left = format!("{name} on {}", amount(*taxable));
                    for row in pair_rows(&left, &amount(*tax), width) {
                        rows.push(text_row(row, Align::Left, Style::PLAIN));
                    }
                }
                Block::Rule => rows.push(text_row("-".repeat(width), Align::Left, Style::PLAIN)),
                Block::Blank => rows.push(Row::Blank),
                Block::Barcode { data } => rows.push(Row::Barcode(data.clone())),
                Block::QrCode { data } => rows.push(Row::QrCode(data.clone())),
                Block::Cut => rows.push(Row::Cut),
            }
        }
        rows
    }

    /// The document as plain text, `width` columns wide: centred rows padded with spaces,
    /// trailing spaces trimmed, one `\n` per row. Logo, barcode, QR code and cut are left
    /// out: they are pictures and paper handling, and the text already shows the number.
    /// Text has no character sizes, so every row has the paper's full width.
    pub fn to_text(&self, width: usize) -> String {
        let width = width.clamp(COLUMNS_MIN, COLUMNS_MAX);
        let mut out = String::new();
        for row in self.normal_size().layout(width) {
            match row {
                Row::Text { text, align, style } => {
                    let columns = columns_for(width, style);
                    out.push_str(padded(&text, align, columns).trim_end());
                    out.push('\n');
                }
                Row::Blank => out.push('\n'),
                Row::Logo | Row::Barcode(_) | Row::QrCode(_) | Row::Cut => {}
            }
        }
        out
    }

    /// This document with every character at normal size, as plain text shows it.
    fn normal_size(&self) -> Document {
        let blocks = self
            .blocks
            .iter()
            .cloned()
            .map(|mut block| {
                if let Block::Text { style, .. } | Block::Pair { style, .. } = &mut block {
                    style.size = Size::Normal;
                }
                block
            })
            .collect();
        Document { blocks }
    }
}

/// A text row as it is shown: centred rows padded on the left to the middle of `columns`.
pub fn padded(text: &str, align: Align, columns: usize) -> String {
    match align {
        Align::Left => text.to_owned(),
        Align::Center => {
            let pad = columns.saturating_sub(text.chars().count()) / 2;
            format!("{}{text}", " ".repeat(pad))
        }
    }
}

/// The columns a row of `style` has on paper `width` columns wide.
pub fn columns_for(width: usize, style: Style) -> usize {
    if style.size.is_double_width() {
        width / 2
    } else {
        width
    }
}

fn text_row(text: String, align: Align, style: Style) -> Row {
    Row::Text { text, align, style }
}

/// Splits `text` into rows of at most `width` characters, hard, as a printer wraps.
fn chop(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars
        .chunks(width.max(1))
        .map(|chunk| chunk.iter().collect())
        .collect()
}

/// `left` and `right` on one row, `right` flush with the edge. A long `left` wraps at word
/// boundaries (keeping its indent) and `right` goes on the last row, or on a row of its own
/// when it does not fit there.
fn pair_rows(left: &str, right: &str, width: usize) -> Vec<String> {
    let right_len = right.chars().count();
    let mut rows = wrap(left, width);
    let last = rows.pop().unwrap_or_default();
    let last_len = last.chars().count();
    if last_len + 1 + right_len <= width {
        let gap = width - last_len - right_len;
        rows.push(format!("{last}{}{right}", " ".repeat(gap)));
    } else {
        rows.push(last);
        let gap = width.saturating_sub(right_len);
        rows.push(format!("{}{right}", " ".repeat(gap)));
    }
    rows.into_iter().flat_map(|row| chop(&row, width)).collect()
}

/// Greedy word wrap to `width` columns, keeping the leading indent on every row; a word
/// longer than a row is split.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let indent_len = text.chars().take_while(|c| *c == ' ').count();
    let indent = " ".repeat(indent_len);
    let room = width.saturating_sub(indent_len).max(1);
    let mut rows: Vec<String> = Vec::new();
    let mut row = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > room {
            if !row.is_empty() {
                rows.push(std::mem::take(&mut row));
            }
            rows.push(word.drain(..room).collect());
        }
        let word: String = word.into_iter().collect();
        let needed = row.chars().count() + usize::from(!row.is_empty()) + word.chars().count();
        if needed > room && !row.is_empty() {
            rows.push(std::mem::take(&mut row));
        }
        if !row.is_empty() {
            row.push(' ');
        }
        row.push_str(&word);
    }
    rows.push(row);
    rows.into_iter().map(|r| format!("{indent}{r}")).collect()
}

fn amount(money: Money) -> String {
    money.display_amount()
}

/// An amount taken off: `-1.90`, or `0.00` when nothing was.
fn minus(money: Money) -> String {
    if money.is_zero() {
        amount(money)
    } else {
        format!("-{}", amount(money))
    }
}

fn header(doc: &mut Document, store: &Store) {
    doc.push(Block::Logo);
    doc.center_styled(&store.name, Style::TITLE);
    for line in &store.address {
        doc.center(line);
    }
    if let Some(phone) = &store.phone {
        doc.center(&format!("Tel. {phone}"));
    }
    if let Some(tax_number) = &store.tax_number {
        doc.center(&format!("Tax no. {tax_number}"));
    }
    for line in &store.receipt.header {
        doc.center(line);
    }
    doc.rule();
}

fn footer(doc: &mut Document, store: &Store) {
    for line in &store.receipt.footer {
        doc.center(line);
    }
}

fn time_of(at: crate::clock::Timestamp, store: &Store) -> String {
    let local = at.to_utc().to_offset(store.utc_offset);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute()
    )
}

/// A sale's receipt as text, `width` columns wide.
pub fn sale(store: &Store, sale: &Sale, style: ReceiptStyle, width: usize) -> String {
    sale_document(store, sale, style).to_text(width)
}

/// What a receipt's QR code holds: a compact reference to the sale for an electronic copy
/// or a return (`POS1` is the format's version).
pub fn qr_reference(store: &Store, sale: &Sale) -> String {
    format!(
        "POS1;{};{};{};{} {}",
        store.id,
        sale.receipt_number,
        sale.at.unix_ms(),
        amount(sale.total),
        sale.currency
    )
}

/// A sale's receipt.
pub fn sale_document(store: &Store, sale: &Sale, style: ReceiptStyle) -> Document {
    let mut doc = Document::default();
    header(&mut doc, store);
    doc.pair(
        &format!("Receipt {}", sale.receipt_number),
        &time_of(sale.at, store),
    );
    doc.line(&format!("Cashier {}", sale.cashier));
    if style == ReceiptStyle::Gift {
        doc.center_styled("GIFT RECEIPT", Style::TITLE_WIDE);
    }
    doc.rule();
    for line in &sale.lines {
        let name = line.product.display_name();
        match style {
            ReceiptStyle::Gift => doc.pair(&name, &format!("x{}", line.quantity)),
            ReceiptStyle::Normal => {
                let unit = line.product.unit;
                let is_single =
                    !unit.is_weighed() && line.quantity.value() == rust_decimal::Decimal::ONE;
                if is_single {
                    doc.pair(&name, &amount(line.base));
                } else {
                    doc.line(&name);
                    let detail = if unit.is_weighed() {
                        format!(
                            "  {} {} x {}/{}",
                            line.quantity,
                            unit.symbol(),
                            amount(line.unit_price),
                            unit.symbol()
                        )
                    } else {
                        format!("  {} x {}", line.quantity, amount(line.unit_price))
                    };
                    doc.pair(&detail, &amount(line.base));
                }
                for discount in &line.discounts {
                    doc.pair(
                        &format!("  {}", discount.label),
                        &format!("-{}", amount(discount.amount)),
                    );
                }
            }
        }
        if let Some(note) = &line.note {
            doc.line(&format!("  Note: {note}"));
        }
    }
    doc.rule();
    if style == ReceiptStyle::Normal {
        if sale.discount_total.is_positive() {
            doc.pair("Subtotal", &amount(sale.subtotal));
            doc.pair("You saved", &amount(sale.discount_total));
        }
        doc.pair_styled(
            &format!("TOTAL {}", sale.currency),
            &amount(sale.total),
            Style::TOTAL,
        );
        if !sale.payment.rounding.is_zero() {
            doc.pair("Cash rounding", &amount(sale.payment.rounding));
            if let Ok(due) = sale.payment.amount_due() {
                doc.pair("To pay", &amount(due));
            }
        }
        for tender in &sale.payment.tenders {
            let label = match (&tender.reference, tender.points) {
                (_, Some(points)) => format!("{} ({points} pts)", tender.kind.name()),
                (Some(reference), None) => format!("{} {reference}", tender.kind.name()),
                (None, None) => tender.kind.name().to_owned(),
            };
            doc.pair(&label, &amount(tender.received));
        }
        if sale.payment.change.is_positive() {
            doc.pair("Change", &amount(sale.payment.change));
        }
        doc.rule();
        tax_table(&mut doc, &sale.taxes, sale.net, sale.tax);
    }
    if let Some(loyalty) = &sale.loyalty {
        doc.rule();
        doc.line(&format!(
            "{} ({})",
            loyalty.customer.name,
            loyalty.customer.tier.name()
        ));
        if loyalty.points_redeemed > 0 {
            doc.pair("Points redeemed", &format!("-{}", loyalty.points_redeemed));
        }
        doc.pair("Points earned", &format!("+{}", loyalty.points_earned));
        let balance = loyalty.customer.points - loyalty.points_redeemed + loyalty.points_earned;
        doc.pair("Points balance", &balance.to_string());
    }
    doc.rule();
    footer(&mut doc, store);
    doc.push(Block::Barcode {
        data: sale.receipt_number.to_string(),
    });
    doc.push(Block::QrCode {
        data: qr_reference(store, sale),
    });
    doc.push(Block::Cut);
    doc
}

fn tax_table(doc: &mut Document, taxes: &[crate::tax::RateAmount], net: Money, tax: Money) {
    for rate in taxes {
        doc.push(Block::TaxRow {
            name: rate.name.clone(),
            taxable: rate.taxable,
            tax: rate.tax,
        });
    }
    doc.pair("Net", &amount(net));
    doc.pair("Tax", &amount(tax));
}

/// A refund slip as text, `width` columns wide.
pub fn refund(store: &Store, refund: &Refund, width: usize) -> String {
    refund_document(store, refund).to_text(width)
}

/// A refund slip.
pub fn refund_document(store: &Store, refund: &Refund) -> Document {
    let mut doc = Document::default();
    header(&mut doc, store);
    doc.center_styled("REFUND", Style::TITLE_WIDE);
    doc.pair(
        &format!("Refund {}", refund.receipt_number),
        &time_of(refund.at, store),
    );
    match &refund.original_receipt {
        Some(original) => doc.line(&format!("For receipt {original}")),
        None => doc.line("Return without receipt"),
    }
    doc.line(&format!("Reason: {}", refund.reason.label));
    doc.rule();
    for line in &refund.lines {
        doc.pair(
            &format!("{} x{}", line.product.display_name(), line.quantity),
            &format!("-{}", amount(line.amount())),
        );
    }
    doc.rule();
    doc.pair_styled(
        &format!("REFUND {}", refund.currency),
        &format!("-{}", amount(refund.total)),
        Style::TOTAL,
    );
    if !refund.rounding.is_zero() {
        doc.pair("Cash rounding", &amount(refund.rounding));
    }
    for tender in &refund.tenders {
        let kind = tender.kind.name().to_lowercase();
        let to = match &tender.reference {
            Some(reference) => format!("To {kind} ({reference})"),
            None => format!("To {kind}"),
        };
        doc.pair(&to, &amount(tender.applied));
    }
    doc.rule();
    let returned_taxes: Vec<crate::tax::RateAmount> = refund
        .taxes
        .iter()
        .map(|rate| crate::tax::RateAmount {
            taxable: rate.taxable.negate(),
            tax: rate.tax.negate(),
            ..rate.clone()
        })
        .collect();
    tax_table(
        &mut doc,
        &returned_taxes,
        refund.net.negate(),
        refund.tax.negate(),
    );
    doc.rule();
    footer(&mut doc, store);
    doc.push(Block::Barcode {
        data: refund.receipt_number.to_string(),
    });
    doc.push(Block::Cut);
    doc
}

/// An X or Z report as text, `width` columns wide.
pub fn shift_report(store: &Store, report: &ShiftReport, width: usize) -> String {
    shift_report_document(store, report).to_text(width)
}

/// An X or Z report.
pub fn shift_report_document(store: &Store, report: &ShiftReport) -> Document {
    let mut doc = Document::default();
    doc.center_styled(&store.name, Style::TITLE);
    doc.center(match report.kind {
        ReportKind::X => "X REPORT (shift still open)",
        ReportKind::Z => "Z REPORT (shift closed)",
    });
    doc.pair("Shift", report.shift.as_str());
    doc.pair("Terminal", report.device.as_str());
    doc.pair("Opened", &time_of(report.opened_at, store));
    doc.pair(
        match report.kind {
            ReportKind::X => "Printed",
            ReportKind::Z => "Closed",
        },
        &time_of(report.at, store),
    );
    doc.rule();
    doc.pair("Sales", &report.sales_count.to_string());
    doc.pair("Customers", &report.customers.to_string());
    doc.pair("Gross sales", &amount(report.gross_sales));
    doc.pair("Discounts", &minus(report.discounts));
    doc.pair(
        &format!("Refunds ({})", report.refunds_count),
        &minus(report.refunds),
    );
    doc.pair("Net sales", &amount(report.net_sales));
    doc.pair(
        &format!("Voids ({})", report.voids_count),
        &amount(report.voids),
    );
    doc.rule();
    doc.line("Taxes");
    for rate in &report.taxes {
        doc.pair(
            &format!("  {} on {}", rate.name, amount(rate.taxable)),
            &amount(rate.tax),
        );
    }
    doc.rule();
    doc.line("Tenders");
    for (kind, total) in &report.tenders {
        doc.pair(&format!("  {}", kind.name()), &amount(*total));
    }
    if !report.cash_rounding.is_zero() {
        doc.pair("  Cash rounding", &amount(report.cash_rounding));
    }
    doc.rule();
    doc.line("Cash drawer");
    doc.pair("  Opening float", &amount(report.float));
    doc.pair("  Cash in", &amount(report.cash_in));
    doc.pair("  Cash out", &minus(report.cash_out));
    doc.pair("  Expected", &amount(report.expected_cash));
    if let (Some(counted), Some(discrepancy)) = (report.counted_cash, report.discrepancy) {
        doc.pair("  Counted", &amount(counted));
        let verdict = if discrepancy.is_zero() {
            "  Balanced".to_owned()
        } else if discrepancy.is_negative() {
            "  SHORT".to_owned()
        } else {
            "  OVER".to_owned()
        };
        doc.pair(&verdict, &amount(discrepancy));
    }
    // A report ends with a blank line, so a printed report tears cleanly.
    doc.blank();
    doc.push(Block::Cut);
    doc
}

#[cfg(test)]
mod tests {
    use super::{Block, Document, Style};

    fn pair(left: &str, right: &str) -> Document {
        Document {
            blocks: vec![Block::Pair {
                left: left.to_owned(),
                right: right.to_owned(),
                style: Style::PLAIN,
            }],
        }
    }

    #[test]
    fn a_long_name_wraps_and_keeps_its_amount_on_the_last_row() {
        let text = pair("Extra virgin olive oil, cold pressed, 750 ml", "12.49").to_text(32);
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(
            rows,
            vec![
                "Extra virgin olive oil, cold",
                "pressed, 750 ml            12.49"
            ]
        );
        assert!(rows.iter().all(|r| r.chars().count() <= 32));
    }

    #[test]
    fn an_amount_that_does_not_fit_the_last_row_gets_its_own() {
        let text = pair("  Happy hour drinks -20%", "-0.14").to_text(24);
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            vec!["  Happy hour drinks -20%", "                   -0.14"]
        );
    }

    #[test]
    fn double_width_rows_get_half_the_columns_on_paper_but_not_in_text() {
        let doc = Document {
            blocks: vec![Block::Pair {
                left: "TOTAL EUR".to_owned(),
                right: "17.30".to_owned(),
                style: Style::TITLE_WIDE,
            }],
        };
        let rows = doc.layout(32);
        assert_eq!(
            rows,
            vec![super::Row::Text {
                text: "TOTAL EUR  17.30".to_owned(),
                align: super::Align::Left,
                style: Style::TITLE_WIDE,
            }]
        );
        assert_eq!(
            doc.to_text(32),
            format!("TOTAL EUR{}17.30\n", " ".repeat(18))
        );
    }

    proptest::proptest! {
        #[test]
        fn every_row_fits_its_columns(
            text in "[ a-zA-Zé€0-9.-]{0,90}",
            right in "[0-9.-]{0,12}",
            width in super::COLUMNS_MIN..=super::COLUMNS_MAX,
            wide: bool,
        ) {
            let style = if wide { Style::TITLE_WIDE } else { Style::PLAIN };
            let doc = Document {
                blocks: vec![
                    Block::Text { text: text.clone(), align: super::Align::Center, style },
                    Block::Pair { left: text, right, style },
                ],
            };
            for row in doc.layout(width) {
                if let super::Row::Text { text, style, .. } = row {
                    proptest::prop_assert!(
                        text.chars().count() <= super::columns_for(width, style)
                    );
                }
            }
            for line in doc.to_text(width).lines() {
                proptest::prop_assert!(line.chars().count() <= width);
            }
        }
    }

    #[test]
    fn pictures_and_the_cut_are_not_text() {
        let doc = Document {
            blocks: vec![
                Block::Logo,
                Block::Barcode {
                    data: "T1-00001".to_owned(),
                },
                Block::QrCode {
                    data: "POS1".to_owned(),
                },
                Block::Cut,
            ],
        };
        assert_eq!(doc.to_text(42), "");
        assert_eq!(doc.layout(42).len(), 4);
    }
}
