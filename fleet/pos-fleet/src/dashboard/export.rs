//! Consolidated reports of a tenant's branches as files: the same [`Table`] the back office's
//! reports use, written by `pos-reports`' CSV, Excel and PDF writers. Pure apart from those
//! writers returning bytes.

use std::collections::BTreeMap;

use pos_core::money::{Currency, Money};
use pos_reports::{Cell, Column, ColumnKind, ReportError, Table};
use rust_decimal::Decimal;

use super::data::{ProductSales, SalesBucket, TenderSales};
use super::figures::{self, Period};
use super::html::escape;
use crate::storage::StoreRecord;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    Branches,
    Daily,
    Products,
    Payments,
}

const REPORTS: [(Report, &str, &str); 4] = [
    (Report::Branches, "branches", "Branches compared"),
    (Report::Daily, "daily", "Takings by day"),
    (Report::Products, "products", "Products sold"),
    (Report::Payments, "payments", "Payment mix"),
];

impl Report {
    pub fn slug(self) -> &'static str {
        REPORTS
            .iter()
            .find(|(r, _, _)| *r == self)
            .map_or("report", |(_, slug, _)| slug)
    }

    fn title(self) -> &'static str {
        REPORTS
            .iter()
            .find(|(r, _, _)| *r == self)
            .map_or("Report", |(_, _, title)| title)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Pdf,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Pdf => "pdf",
        }
    }
}

/// `branches.csv` → the report and the format.
pub fn parse_file(file: &str) -> Option<(Report, Format)> {
    let (name, extension) = file.rsplit_once('.')?;
    let report = REPORTS.iter().find(|(_, slug, _)| *slug == name)?.0;
    let format = match extension {
        "csv" => Format::Csv,
        "xlsx" => Format::Xlsx,
        "pdf" => Format::Pdf,
        _ => return None,
    };
    Some((report, format))
}

pub fn unknown_file(file: &str) -> String {
    let names: Vec<&str> = REPORTS.iter().map(|(_, slug, _)| *slug).collect();
    format!(
        "There is no export {file}. The exports are {} as .csv, .xlsx or .pdf.",
        names.join(", ")
    )
}

/// The links to every export of a period.
pub fn links(base: &str, query: &str) -> String {
    let mut out = String::new();
    for (_, slug, title) in REPORTS {
        out.push_str(&format!("<p>{title}: "));
        for extension in ["csv", "xlsx", "pdf"] {
            out.push_str(&format!(
                r#"<a class="button" id="export-{slug}-{extension}" href="{}">{}</a>"#,
                escape(&format!("{base}/export/{slug}.{extension}?{query}")),
                extension.to_uppercase()
            ));
        }
        out.push_str("</p>");
    }
    out
}

/// What the exports are made from.
pub struct Data {
    pub during: Vec<SalesBucket>,
    pub before: Vec<SalesBucket>,
    pub daily: Vec<SalesBucket>,
    pub tenders: Vec<TenderSales>,
    pub products: Vec<ProductSales>,
}

/// A report over the stores that sell in `currency`.
pub fn table(
    report: Report,
    period: &Period,
    stores: &[StoreRecord],
    currency: Currency,
    data: &Data,
) -> Result<Table, ReportError> {
    let stores: Vec<StoreRecord> = stores
        .iter()
        .filter(|s| s.currency == currency)
        .cloned()
        .collect();
    let money = |minor: i64| Cell::Money(Money::from_minor(minor, currency));
    let fraction = |percent: Option<Decimal>| {
        percent.map_or(Cell::Empty, |p| Cell::Percent(p / Decimal::ONE_HUNDRED))
    };
    let (columns, rows) = match report {
        Report::Branches => {
            let rows = figures::overview(&stores, &[], &data.during, &data.before)
                .into_iter()
                .map(|b| {
                    vec![
                        Cell::text(b.name),
                        Cell::text(b.store.to_string()),
                        Cell::Count(b.period.sales),
                        Cell::Money(b.period.total),
                        Cell::Money(b.previous.total),
                        fraction(b.change_percent),
                        fraction(b.share_percent),
                    ]
                })
                .collect();
            (
                vec![
                    Column::new("Store", ColumnKind::Text),
                    Column::new("Store id", ColumnKind::Text),
                    Column::new("Sales", ColumnKind::Count),
                    Column::new("Takings", ColumnKind::Money),
                    Column::new("Period before", ColumnKind::Money),
                    Column::new("Change", ColumnKind::Percent),
                    Column::new("Share", ColumnKind::Percent),
                ],
                rows,
            )
        }
        Report::Daily => {
            let rows = figures::trend(period, &stores, currency, &data.daily)
                .into_iter()
                .map(|d| {
                    vec![
                        Cell::text(d.date.to_string()),
                        Cell::Count(d.sales),
                        Cell::Money(d.total),
                    ]
                })
                .collect();
            (
                vec![
                    Column::new("Date", ColumnKind::Text),
                    Column::new("Sales", ColumnKind::Count),
                    Column::new("Takings", ColumnKind::Money),
                ],
                rows,
            )
        }
        Report::Products => {
            let rows = figures::top_products(&stores, currency, &data.products, usize::MAX)
                .into_iter()
                .map(|p| {
                    vec![
                        Cell::text(p.product.to_string()),
                        Cell::text(p.name),
                        Cell::Quantity(p.quantity),
                        Cell::Money(p.amount),
                    ]
                })
                .collect();
            (
                vec![
                    Column::new("Product", ColumnKind::Text),
                    Column::new("Name", ColumnKind::Text),
                    Column::new("Quantity", ColumnKind::Quantity),
                    Column::new("Takings", ColumnKind::Money),
                ],
                rows,
            )
        }
        Report::Payments => {
            let mut by_tender: BTreeMap<String, i64> = BTreeMap::new();
            for share in figures::payment_mix(&stores, currency, &data.tenders) {
                *by_tender.entry(share.tender).or_default() +=
                    super::data::minor_units(share.amount);
            }
            let whole: i64 = by_tender.values().sum();
            let rows = by_tender
                .into_iter()
                .map(|(tender, minor)| {
                    let share = (whole != 0)
                        .then(|| Decimal::from(minor) * Decimal::ONE_HUNDRED / Decimal::from(whole))
                        .map(|p| p.round_dp(1));
                    vec![Cell::text(tender), money(minor), fraction(share)]
                })
                .collect();
            (
                vec![
                    Column::new("Tender", ColumnKind::Text),
                    Column::new("Takings", ColumnKind::Money),
                    Column::new("Share", ColumnKind::Percent),
                ],
                rows,
            )
        }
    };
    Table::summed(
        report.title(),
        period.describe(),
        currency,
        columns,
        rows,
        // Pieces and kilograms do not add up.
        report != Report::Products,
    )
}

/// The file's bytes and content type.
pub fn encode(table: &Table, format: Format) -> Result<(Vec<u8>, &'static str), ReportError> {
    Ok(match format {
        Format::Csv => (pos_reports::csv::to_csv(table)?, "text/csv; charset=utf-8"),
        Format::Xlsx => (
            pos_reports::xlsx::to_xlsx(table)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        Format::Pdf => (pos_reports::pdf::to_pdf(table), "application/pdf"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_names_are_read_and_an_unknown_one_lists_the_known() {
        assert_eq!(
            parse_file("branches.xlsx"),
            Some((Report::Branches, Format::Xlsx))
        );
        assert_eq!(parse_file("branches.doc"), None);
        assert!(unknown_file("x.csv").contains("branches, daily, products, payments"));
    }
}
