//! Receipts and shift reports as plain text, in a fixed number of columns (32, 42 or 48 for
//! 58 mm and 80 mm paper). The printer drivers lay out the same content in ESC/POS; this text
//! is what the tests, the email body and the back office show.

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

struct Paper {
    width: usize,
    out: String,
}

impl Paper {
    fn new(width: usize) -> Paper {
        Paper {
            width: width.clamp(24, 64),
            out: String::new(),
        }
    }

    fn line(&mut self, text: &str) {
        let mut row = String::new();
        for ch in text.chars() {
            if row.chars().count() == self.width {
                self.push_row(&row);
                row.clear();
            }
            row.push(ch);
        }
        self.push_row(&row);
    }

    fn push_row(&mut self, row: &str) {
        self.out.push_str(row.trim_end());
        self.out.push('\n');
    }

    fn center(&mut self, text: &str) {
        let len = text.chars().count();
        let pad = self.width.saturating_sub(len) / 2;
        self.line(&format!("{}{text}", " ".repeat(pad)));
    }

    /// `left` and `right` on one row, `right` flush with the edge. A long `left` wraps at
    /// word boundaries (keeping its indent) and `right` goes on the last row, or on a row of
    /// its own when it does not fit there.
    fn pair(&mut self, left: &str, right: &str) {
        let right_len = right.chars().count();
        let mut rows = wrap(left, self.width);
        let last = rows.pop().unwrap_or_default();
        for row in &rows {
            self.line(row);
        }
        let last_len = last.chars().count();
        if last_len + 1 + right_len <= self.width {
            let gap = self.width - last_len - right_len;
            self.line(&format!("{last}{}{right}", " ".repeat(gap)));
        } else {
            self.line(&last);
            let gap = self.width.saturating_sub(right_len);
            self.line(&format!("{}{right}", " ".repeat(gap)));
        }
    }

    fn rule(&mut self) {
        self.line(&"-".repeat(self.width));
    }

    fn blank(&mut self) {
        self.out.push('\n');
    }
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

fn header(paper: &mut Paper, store: &Store) {
    paper.center(&store.name);
    for line in &store.address {
        paper.center(line);
    }
    if let Some(tax_number) = &store.tax_number {
        paper.center(&format!("Tax no. {tax_number}"));
    }
    for line in &store.receipt.header {
        paper.center(line);
    }
    paper.rule();
}

fn footer(paper: &mut Paper, store: &Store) {
    for line in &store.receipt.footer {
        paper.center(line);
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

/// A sale's receipt.
pub fn sale(store: &Store, sale: &Sale, style: ReceiptStyle, width: usize) -> String {
    let mut paper = Paper::new(width);
    header(&mut paper, store);
    paper.pair(
        &format!("Receipt {}", sale.receipt_number),
        &time_of(sale.at, store),
    );
    paper.line(&format!("Cashier {}", sale.cashier));
    if style == ReceiptStyle::Gift {
        paper.center("GIFT RECEIPT");
    }
    paper.rule();
    for line in &sale.lines {
        let name = line.product.display_name();
        match style {
            ReceiptStyle::Gift => paper.pair(&name, &format!("x{}", line.quantity)),
            ReceiptStyle::Normal => {
                let unit = line.product.unit;
                let is_single =
                    !unit.is_weighed() && line.quantity.value() == rust_decimal::Decimal::ONE;
                if is_single {
                    paper.pair(&name, &amount(line.base));
                } else {
                    paper.line(&name);
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
                    paper.pair(&detail, &amount(line.base));
                }
                for discount in &line.discounts {
                    paper.pair(
                        &format!("  {}", discount.label),
                        &format!("-{}", amount(discount.amount)),
                    );
                }
            }
        }
        if let Some(note) = &line.note {
            paper.line(&format!("  Note: {note}"));
        }
    }
    paper.rule();
    if style == ReceiptStyle::Normal {
        if sale.discount_total.is_positive() {
            paper.pair("Subtotal", &amount(sale.subtotal));
            paper.pair("You saved", &amount(sale.discount_total));
        }
        paper.pair(&format!("TOTAL {}", sale.currency), &amount(sale.total));
        if !sale.payment.rounding.is_zero() {
            paper.pair("Cash rounding", &amount(sale.payment.rounding));
            if let Ok(due) = sale.payment.amount_due() {
                paper.pair("To pay", &amount(due));
            }
        }
        for tender in &sale.payment.tenders {
            let label = match (&tender.reference, tender.points) {
                (_, Some(points)) => format!("{} ({points} pts)", tender.kind.name()),
                (Some(reference), None) => format!("{} {reference}", tender.kind.name()),
                (None, None) => tender.kind.name().to_owned(),
            };
            paper.pair(&label, &amount(tender.received));
        }
        if sale.payment.change.is_positive() {
            paper.pair("Change", &amount(sale.payment.change));
        }
        paper.rule();
        tax_table(&mut paper, &sale.taxes, sale.net, sale.tax);
    }
    if let Some(loyalty) = &sale.loyalty {
        paper.rule();
        paper.line(&format!(
            "{} ({})",
            loyalty.customer.name,
            loyalty.customer.tier.name()
        ));
        if loyalty.points_redeemed > 0 {
            paper.pair("Points redeemed", &format!("-{}", loyalty.points_redeemed));
        }
        paper.pair("Points earned", &format!("+{}", loyalty.points_earned));
        let balance = loyalty.customer.points - loyalty.points_redeemed + loyalty.points_earned;
        paper.pair("Points balance", &balance.to_string());
    }
    paper.rule();
    footer(&mut paper, store);
    paper.out
}

fn tax_table(paper: &mut Paper, taxes: &[crate::tax::RateAmount], net: Money, tax: Money) {
    for rate in taxes {
        paper.pair(
            &format!("{} on {}", rate.name, amount(rate.taxable)),
            &amount(rate.tax),
        );
    }
    paper.pair("Net", &amount(net));
    paper.pair("Tax", &amount(tax));
}

/// A refund slip.
pub fn refund(store: &Store, refund: &Refund, width: usize) -> String {
    let mut paper = Paper::new(width);
    header(&mut paper, store);
    paper.center("REFUND");
    paper.pair(
        &format!("Refund {}", refund.receipt_number),
        &time_of(refund.at, store),
    );
    match &refund.original_receipt {
        Some(original) => paper.line(&format!("For receipt {original}")),
        None => paper.line("Return without receipt"),
    }
    paper.line(&format!("Reason: {}", refund.reason.label));
    paper.rule();
    for line in &refund.lines {
        paper.pair(
            &format!("{} x{}", line.product.display_name(), line.quantity),
            &format!("-{}", amount(line.amount())),
        );
    }
    paper.rule();
    paper.pair(
        &format!("REFUND {}", refund.currency),
        &format!("-{}", amount(refund.total)),
    );
    if !refund.rounding.is_zero() {
        paper.pair("Cash rounding", &amount(refund.rounding));
    }
    for tender in &refund.tenders {
        let kind = tender.kind.name().to_lowercase();
        let to = match &tender.reference {
            Some(reference) => format!("To {kind} ({reference})"),
            None => format!("To {kind}"),
        };
        paper.pair(&to, &amount(tender.applied));
    }
    paper.rule();
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
        &mut paper,
        &returned_taxes,
        refund.net.negate(),
        refund.tax.negate(),
    );
    paper.rule();
    footer(&mut paper, store);
    paper.out
}

/// An X or Z report.
pub fn shift_report(store: &Store, report: &ShiftReport, width: usize) -> String {
    let mut paper = Paper::new(width);
    paper.center(&store.name);
    paper.center(match report.kind {
        ReportKind::X => "X REPORT (shift still open)",
        ReportKind::Z => "Z REPORT (shift closed)",
    });
    paper.pair("Shift", report.shift.as_str());
    paper.pair("Terminal", report.device.as_str());
    paper.pair("Opened", &time_of(report.opened_at, store));
    paper.pair(
        match report.kind {
            ReportKind::X => "Printed",
            ReportKind::Z => "Closed",
        },
        &time_of(report.at, store),
    );
    paper.rule();
    paper.pair("Sales", &report.sales_count.to_string());
    paper.pair("Customers", &report.customers.to_string());
    paper.pair("Gross sales", &amount(report.gross_sales));
    paper.pair("Discounts", &minus(report.discounts));
    paper.pair(
        &format!("Refunds ({})", report.refunds_count),
        &minus(report.refunds),
    );
    paper.pair("Net sales", &amount(report.net_sales));
    paper.pair(
        &format!("Voids ({})", report.voids_count),
        &amount(report.voids),
    );
    paper.rule();
    paper.line("Taxes");
    for rate in &report.taxes {
        paper.pair(
            &format!("  {} on {}", rate.name, amount(rate.taxable)),
            &amount(rate.tax),
        );
    }
    paper.rule();
    paper.line("Tenders");
    for (kind, total) in &report.tenders {
        paper.pair(&format!("  {}", kind.name()), &amount(*total));
    }
    if !report.cash_rounding.is_zero() {
        paper.pair("  Cash rounding", &amount(report.cash_rounding));
    }
    paper.rule();
    paper.line("Cash drawer");
    paper.pair("  Opening float", &amount(report.float));
    paper.pair("  Cash in", &amount(report.cash_in));
    paper.pair("  Cash out", &minus(report.cash_out));
    paper.pair("  Expected", &amount(report.expected_cash));
    if let (Some(counted), Some(discrepancy)) = (report.counted_cash, report.discrepancy) {
        paper.pair("  Counted", &amount(counted));
        let verdict = if discrepancy.is_zero() {
            "  Balanced".to_owned()
        } else if discrepancy.is_negative() {
            "  SHORT".to_owned()
        } else {
            "  OVER".to_owned()
        };
        paper.pair(&verdict, &amount(discrepancy));
    }
    // A report ends with a blank line, so a printed report tears cleanly.
    paper.blank();
    paper.out
}

#[cfg(test)]
mod tests {
    use super::Paper;

    #[test]
    fn a_long_name_wraps_and_keeps_its_amount_on_the_last_row() {
        let mut paper = Paper::new(32);
        paper.pair("Extra virgin olive oil, cold pressed, 750 ml", "12.49");
        let rows: Vec<&str> = paper.out.lines().collect();
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
        let mut paper = Paper::new(24);
        paper.pair("  Happy hour drinks -20%", "-0.14");
        assert_eq!(
            paper.out.lines().collect::<Vec<_>>(),
            vec!["  Happy hour drinks -20%", "                   -0.14"]
        );
    }
}
