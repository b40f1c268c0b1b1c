//! Reports made from a real encrypted store and exported: each file is written to disk as on
//! a USB stick, then read back with independent readers (the `csv` crate, `calamine` for
//! Excel, poppler's `pdftotext` for PDF), and its figures compared with what was sold.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::Command;

use calamine::{Data, Reader, Xlsx};
use pos_core::event::{DomainEvent, refund_events};
use pos_core::id::{DeviceId, MovementId, ShiftId, StoreId};
use pos_core::money::{Currency, Money};
use pos_core::refund::{ReasonCode, Refund};
use pos_core::sale::Sale;
use pos_core::shift::{self, CashCount, Shift};
use pos_core::tender::TenderKind;
use pos_reports::{Period, ReportData, ReportKind, Table, csv, load, pdf, xlsx};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use support::{Pay, Shop, local, role};
use time::macros::date;

const EUR: Currency = Currency::EUR;

fn sum<'a>(amounts: impl IntoIterator<Item = &'a Money>) -> Money {
    Money::sum(EUR, amounts).unwrap()
}

/// A report's three files, read back.
struct ReadBack {
    csv: Vec<Vec<String>>,
    xlsx: Vec<Vec<Data>>,
    pdf: String,
}

fn export(table: &Table, kind: ReportKind, usb: &Path) -> ReadBack {
    let stem = usb.join(kind.file_stem());
    let csv_path = stem.with_extension("csv");
    let xlsx_path = stem.with_extension("xlsx");
    let pdf_path = stem.with_extension("pdf");
    std::fs::write(&csv_path, csv::to_csv(table).unwrap()).unwrap();
    std::fs::write(&xlsx_path, xlsx::to_xlsx(table).unwrap()).unwrap();
    std::fs::write(&pdf_path, pdf::to_pdf(table)).unwrap();

    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(&csv_path)
        .unwrap();
    let csv = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();

    let mut workbook: Xlsx<_> = calamine::open_workbook(&xlsx_path).unwrap();
    let sheet = workbook.sheet_names()[0].clone();
    let range = workbook.worksheet_range(&sheet).unwrap();
    let xlsx = range.rows().map(<[Data]>::to_vec).collect();

    let output = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&pdf_path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) is installed");
    assert!(
        output.status.success(),
        "pdftotext refused {}",
        pdf_path.display()
    );
    let pdf = String::from_utf8(output.stdout).unwrap();
    ReadBack { csv, xlsx, pdf }
}

impl ReadBack {
    /// The CSV value in the first row holding `row` in any cell, under `heading`.
    fn csv(&self, row: &str, heading: &str) -> String {
        let column = self.csv[0]
            .iter()
            .position(|h| h == heading)
            .unwrap_or_else(|| panic!("no CSV column {heading} in {:?}", self.csv[0]));
        let found = self.csv[1..]
            .iter()
            .find(|r| r.iter().any(|c| c == row))
            .unwrap_or_else(|| panic!("no CSV row {row}"));
        found[column].clone()
    }

    /// The same from the spreadsheet, its number written at the heading's precision.
    fn xlsx(&self, row: &str, heading: &str) -> String {
        let header = self
            .xlsx
            .iter()
            .find(|r| {
                r.iter()
                    .any(|c| matches!(c, Data::String(s) if s == heading))
            })
            .unwrap_or_else(|| panic!("no spreadsheet column {heading}"));
        let column = header
            .iter()
            .position(|c| matches!(c, Data::String(s) if s == heading))
            .unwrap();
        let found = self
            .xlsx
            .iter()
            .find(|r| r.iter().any(|c| matches!(c, Data::String(s) if s == row)))
            .unwrap_or_else(|| panic!("no spreadsheet row {row}"));
        match &found[column] {
            Data::Float(value) if heading.ends_with("(EUR)") => format!("{value:.2}"),
            Data::Float(value) => value.to_string(),
            Data::String(text) => text.clone(),
            other => panic!("unexpected cell {other:?} under {heading}"),
        }
    }

    /// True when a line of the PDF's text holds `row` and `value` (a number as a whole word).
    fn pdf_shows(&self, row: &str, value: &str) -> bool {
        self.pdf.lines().any(|line| {
            line.contains(row)
                && (line.split_whitespace().any(|word| word == value)
                    || (value.contains(' ') && line.contains(value)))
        })
    }

    /// Checks one figure in all three files.
    fn check(&self, row: &str, heading: &str, expected: &str) {
        assert_eq!(self.csv(row, heading), expected, "CSV {row} / {heading}");
        assert_eq!(self.xlsx(row, heading), expected, "Excel {row} / {heading}");
        assert!(
            self.pdf_shows(row, expected),
            "PDF has no line with {row} and {expected}:\n{}",
            self.pdf
        );
    }
}

struct Day {
    in_period: Vec<Sale>,
    refund: Refund,
    shift: Shift,
}

/// Two days of trading at the demo shop, recorded through the store's write path, plus
/// sales just outside the period on either side.
fn trade(db: &mut pos_store::Store, shop: &mut Shop) -> Day {
    db.save_role(&role("cashier")).unwrap();
    db.save_role(&role("manager")).unwrap();
    for actor in shop.cashiers.iter().chain(std::iter::once(&shop.manager)) {
        db.save_user(&actor.user, &actor.name, &actor.role.id, None)
            .unwrap();
    }
    let monday = date!(2026 - 03 - 02);
    let tuesday = date!(2026 - 03 - 03);
    let opened_at = local(monday, 7, 0);
    let anna = shop.cashiers[0].user.clone();
    let mut shift = Shift::open(
        ShiftId::new("T1-shift-1"),
        StoreId::new("berlin-mitte"),
        DeviceId::new("T1"),
        anna.clone(),
        Money::from_minor(10_000, EUR),
        opened_at,
    )
    .unwrap();
    db.record(&anna, opened_at, &[DomainEvent::ShiftOpened(shift.clone())])
        .unwrap();
    let on_shift = Some(shift.id.clone());
    let s = on_shift.as_ref();

    // 23:30 on Sunday in the shop (22:30 UTC): before the period.
    let before = shop.sell(
        0,
        local(date!(2026 - 03 - 01), 23, 30),
        None,
        &[("milk", 1)],
        None,
        Pay::Cash,
    );
    let sales = vec![
        // 00:30 on Monday in the shop, still Sunday in UTC: inside the period.
        shop.sell(
            1,
            local(monday, 0, 30),
            None,
            &[("water", 2)],
            None,
            Pay::Card,
        ),
        shop.sell(
            0,
            local(monday, 9, 15),
            s,
            &[("milk", 2), ("batteries", 1)],
            None,
            Pay::Cash,
        ),
        // A 20% line discount, approved by the manager; three colas trigger "3 for 2".
        shop.sell(
            1,
            local(monday, 10, 30),
            s,
            &[("coffee", 1), ("chocolate", 2), ("cola", 3)],
            Some((1, 20)),
            Pay::Card,
        ),
        shop.sell(
            0,
            local(monday, 10, 45),
            s,
            &[("tee-s-navy", 1), ("bread", 1)],
            None,
            Pay::CardThenCash(Money::from_minor(1_000, EUR)),
        ),
        shop.sell(
            1,
            local(tuesday, 14, 0),
            None,
            &[("water", 6), ("yoghurt", 2)],
            None,
            Pay::Wallet,
        ),
    ];
    let after = shop.sell(
        1,
        local(date!(2026 - 03 - 04), 0, 0),
        None,
        &[("butter", 1)],
        None,
        Pay::Cash,
    );
    for sale in std::iter::once(&before)
        .chain(&sales)
        .chain(std::iter::once(&after))
    {
        let mut n = 0;
        let movements = pos_core::stock::movements_for_sale(
            sale,
            |_, quantity| vec![(None, quantity)],
            || {
                n += 1;
                MovementId::new(format!("{}-m{n}", sale.id))
            },
        );
        db.complete_sale(sale, &movements).unwrap();
    }

    // The coffee from the 10:30 sale comes back damaged.
    let refund_at = local(monday, 16, 0);
    let refund = shop.refund(
        &sales[2],
        1,
        1,
        ReasonCode::new("damaged", "Damaged", false),
        refund_at,
        s,
    );
    db.record(
        &shop.manager.user,
        refund_at,
        &refund_events(&refund, &[], None),
    )
    .unwrap();

    // The drawer is one euro short at the close.
    let closed_at = local(monday, 18, 0);
    let x = shift::report(
        &shift,
        &sales,
        std::slice::from_ref(&refund),
        &[],
        closed_at,
    )
    .unwrap();
    let counted_cents = (x.expected_cash.amount() * Decimal::ONE_HUNDRED)
        .to_u32()
        .unwrap()
        - 100;
    shift
        .close(
            CashCount {
                currency: EUR,
                denominations: vec![(Decimal::new(1, 2), counted_cents)],
            },
            anna.clone(),
            closed_at,
        )
        .unwrap();
    let z = shift::report(
        &shift,
        &sales,
        std::slice::from_ref(&refund),
        &[],
        closed_at,
    )
    .unwrap();
    db.record(
        &anna,
        closed_at,
        &[DomainEvent::ShiftClosed {
            shift: shift.clone(),
            report: z,
        }],
    )
    .unwrap();
    Day {
        in_period: sales,
        refund,
        shift,
    }
}

fn tender_total(sales: &[Sale], kind: TenderKind) -> Money {
    sum(sales
        .iter()
        .flat_map(|s| &s.payment.tenders)
        .filter(|t| t.kind == kind)
        .map(|t| &t.applied))
}

fn tax_of(taxes: &[pos_core::tax::RateAmount], rate: &str) -> Money {
    sum(taxes
        .iter()
        .filter(|r| r.rate_id.as_str() == rate)
        .map(|r| &r.tax))
}

#[test]
fn every_report_exported_to_csv_excel_and_pdf_reads_back_with_the_figures_sold() {
    let dir = tempfile::tempdir().unwrap();
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let mut db = pos_store::Store::open(&dir.path().join("store"), DeviceId::new("T1")).unwrap();
    let mut shop = Shop::new();
    let day = trade(&mut db, &mut shop);
    let sales = &day.in_period;

    let period = Period::new(
        date!(2026 - 03 - 02),
        date!(2026 - 03 - 03),
        shop.store.utc_offset,
    )
    .unwrap();
    let data = load::load(&db, &period, EUR).unwrap();
    assert_eq!(
        &data.sales, sales,
        "exactly the period's sales, by the shop's clock"
    );
    assert_eq!(data.refunds, vec![day.refund.clone()]);

    let read = |kind: ReportKind| {
        let table = kind.build(&period, &data).unwrap();
        assert_eq!(table.period, "2026-03-02 to 2026-03-03 (UTC+01:00)");
        let back = export(&table, kind, &usb);
        assert!(back.pdf.contains(kind.title()), "{}", back.pdf);
        assert!(back.pdf.contains(&table.period));
        back
    };
    let amount = |money: Money| money.display_amount();
    let total_sold = sum(sales.iter().map(|s| &s.total));
    let refund = &day.refund;

    let by_day = read(ReportKind::SalesByDay);
    by_day.check("Total", "Total (EUR)", &amount(total_sold));
    by_day.check("Total", "Sales", "5");
    by_day.check("2026-03-02", "Sales", "4");
    by_day.check("2026-03-03", "Total (EUR)", &amount(sales[4].total));

    let by_tender = read(ReportKind::SalesByTender);
    for kind in [TenderKind::Cash, TenderKind::Card, TenderKind::MobileWallet] {
        by_tender.check(
            kind.name(),
            "Taken (EUR)",
            &amount(tender_total(sales, kind)),
        );
    }
    by_tender.check("Card", "Refunded (EUR)", &amount(refund.total));
    by_tender.check(
        "Total",
        "Net (EUR)",
        &amount(total_sold.checked_sub(refund.total).unwrap()),
    );

    let taxes = read(ReportKind::TaxesByRate);
    let sold_taxes: Vec<_> = sales.iter().flat_map(|s| s.taxes.clone()).collect();
    for (rate, name) in [("vat19", "VAT 19%"), ("vat7", "VAT 7%")] {
        let sold = tax_of(&sold_taxes, rate);
        assert!(sold.is_positive(), "the test sells at both rates");
        taxes.check(name, "Sales tax (EUR)", &amount(sold));
        taxes.check(
            name,
            "Refunds tax (EUR)",
            &amount(tax_of(&refund.taxes, rate)),
        );
    }
    // A rate is a percentage in the CSV, a fraction formatted as a percentage in Excel.
    assert_eq!(taxes.csv("VAT 19%", "Rate (%)"), "19");
    assert_eq!(taxes.xlsx("VAT 19%", "Rate (%)"), "0.19");
    assert!(taxes.pdf_shows("VAT 19%", "19%"));
    let owed = sum(sales.iter().map(|s| &s.tax))
        .checked_sub(refund.tax)
        .unwrap();
    taxes.check("Total", "Net tax (EUR)", &amount(owed));

    let refunds = read(ReportKind::Refunds);
    let number = refund.receipt_number.as_str();
    refunds.check(number, "Reason code", "damaged");
    refunds.check(number, "Original receipt", sales[2].receipt_number.as_str());
    refunds.check(number, "Total (EUR)", &amount(refund.total));
    refunds.check("Total", "Total (EUR)", &amount(refund.total));

    let discounts = read(ReportKind::Discounts);
    let given = sum(sales.iter().map(|s| &s.discount_total));
    assert!(given.is_positive());
    discounts.check("Total", "Amount (EUR)", &amount(given));
    discounts.check("Manual, line", "Approved by a manager", "1");

    let by_cashier = read(ReportKind::SalesByCashier);
    let anna = sum(sales
        .iter()
        .filter(|s| s.cashier.as_str() == "anna")
        .map(|s| &s.total));
    by_cashier.check("Anna Schmidt", "Total (EUR)", &amount(anna));
    by_cashier.check("Total", "Total (EUR)", &amount(total_sold));

    for kind in [
        ReportKind::SalesByProduct,
        ReportKind::SalesByCategory,
        ReportKind::SalesByHour,
    ] {
        read(kind).check("Total", "Total (EUR)", &amount(total_sold));
    }
    let by_product = read(ReportKind::SalesByProduct);
    by_product.check("SKU-water", "Quantity", "8");

    let shifts = read(ReportKind::Shifts);
    shifts.check(day.shift.id.as_str(), "Discrepancy (EUR)", "-1.00");
    shifts.check(day.shift.id.as_str(), "Opened by", "Anna Schmidt");
}

#[test]
fn a_period_without_sales_exports_empty_reports_with_zero_totals() {
    let dir = tempfile::tempdir().unwrap();
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let db = pos_store::Store::open(&dir.path().join("store"), DeviceId::new("T1")).unwrap();
    let period = Period::new(
        date!(2026 - 03 - 02),
        date!(2026 - 03 - 02),
        support::OFFSET,
    )
    .unwrap();
    let data = load::load(&db, &period, EUR).unwrap();
    assert_eq!(data, ReportData::empty(EUR));
    for kind in ReportKind::ALL {
        let table = kind.build(&period, &data).unwrap();
        assert!(table.rows.is_empty(), "{}", kind.title());
        let back = export(&table, kind, &usb);
        // The header and the totals row, nothing else.
        assert_eq!(back.csv.len(), 2, "{}", kind.title());
        assert_eq!(back.csv[1][0], "Total");
        for (heading, value) in back.csv[0].iter().zip(&back.csv[1]) {
            if heading.ends_with("(EUR)") {
                assert_eq!(value, "0.00", "{} / {heading}", kind.title());
            }
        }
        assert!(
            back.pdf.contains("No sales in this period."),
            "{}",
            back.pdf
        );
    }
}

#[test]
fn a_backwards_period_is_refused_before_anything_is_read() {
    let error = Period::new(
        date!(2026 - 03 - 03),
        date!(2026 - 03 - 02),
        support::OFFSET,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the report period starts on 2026-03-03 but ends on 2026-03-02: \
         choose a start on or before the end"
    );
    // Same-day periods are fine.
    Period::new(
        date!(2026 - 03 - 02),
        date!(2026 - 03 - 02),
        support::OFFSET,
    )
    .unwrap();
}

/// The parts of the workbook a reader cannot see through calamine: formats and layout.
#[test]
fn the_spreadsheet_has_a_bold_frozen_header_currency_formats_and_set_widths() {
    let mut shop = Shop::new();
    let sale = shop.sell(
        0,
        local(date!(2026 - 03 - 02), 9, 0),
        None,
        &[("coffee", 1)],
        None,
        Pay::Card,
    );
    let mut data = ReportData::empty(EUR);
    data.sales.push(sale);
    let period = Period::new(
        date!(2026 - 03 - 02),
        date!(2026 - 03 - 02),
        support::OFFSET,
    )
    .unwrap();
    let table = ReportKind::SalesByDay.build(&period, &data).unwrap();
    let bytes = xlsx::to_xlsx(&table).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut part = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    let sheet = part("xl/worksheets/sheet1.xml");
    let styles = part("xl/styles.xml");
    // Rows 1-4 (title, period, blank, header) stay in view.
    assert!(
        sheet.contains(r#"ySplit="4""#) && sheet.contains(r#"state="frozen""#),
        "{sheet}"
    );
    assert!(
        sheet.contains("<cols>") && sheet.contains("customWidth=\"1\""),
        "{sheet}"
    );
    assert!(
        styles.contains(r##"formatCode="#,##0.00 &quot;EUR&quot;""##),
        "{styles}"
    );
    assert!(styles.contains("<b/>"), "{styles}");
}
