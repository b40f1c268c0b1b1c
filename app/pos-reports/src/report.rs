//! The reports themselves, pure: completed sales, refunds and Z reports in, [`Table`]s out.
//! Anything outside the [`Period`] is left out, whatever the caller passed in. Amounts are
//! added as `Money`, so a mixed currency is an error rather than a wrong figure, and every tax
//! figure is one `pos_core::tax` already put on the sale or refund.

use std::collections::BTreeMap;

use pos_core::id::{CategoryId, UserId};
use pos_core::money::{Currency, Money};
use pos_core::promotion::DiscountSource;
use pos_core::refund::Refund;
use pos_core::sale::Sale;
use pos_core::shift::{Shift, ShiftReport};
use pos_core::tax::LineTax;
use pos_core::tender::TenderKind;
use rust_decimal::Decimal;

use crate::period::local_minute;
use crate::{Cell, Column, ColumnKind, Period, ReportError, Table};

/// What the reports are made from: a period's completed sales, refunds and closed shifts with
/// their Z reports, and the names to show for category and user ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportData {
    pub currency: Currency,
    pub sales: Vec<Sale>,
    pub refunds: Vec<Refund>,
    pub shifts: Vec<(Shift, ShiftReport)>,
    pub category_names: BTreeMap<CategoryId, String>,
    pub people: BTreeMap<UserId, String>,
}

impl ReportData {
    /// Nothing sold: every report is empty with zero totals.
    pub fn empty(currency: Currency) -> ReportData {
        ReportData {
            currency,
            sales: Vec::new(),
            refunds: Vec::new(),
            shifts: Vec::new(),
            category_names: BTreeMap::new(),
            people: BTreeMap::new(),
        }
    }

    fn person(&self, user: &UserId) -> String {
        self.people
            .get(user)
            .cloned()
            .unwrap_or_else(|| user.to_string())
    }
}

/// Every report the back office offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReportKind {
    SalesByDay,
    SalesByHour,
    SalesByProduct,
    SalesByCategory,
    SalesByCashier,
    SalesByTender,
    Discounts,
    Refunds,
    TaxesByRate,
    Shifts,
}

impl ReportKind {
    pub const ALL: [ReportKind; 10] = [
        ReportKind::SalesByDay,
        ReportKind::SalesByHour,
        ReportKind::SalesByProduct,
        ReportKind::SalesByCategory,
        ReportKind::SalesByCashier,
        ReportKind::SalesByTender,
        ReportKind::Discounts,
        ReportKind::Refunds,
        ReportKind::TaxesByRate,
        ReportKind::Shifts,
    ];

    pub fn title(self) -> &'static str {
        match self {
            ReportKind::SalesByDay => "Sales by day",
            ReportKind::SalesByHour => "Sales by hour of day",
            ReportKind::SalesByProduct => "Sales by product",
            ReportKind::SalesByCategory => "Sales by category",
            ReportKind::SalesByCashier => "Sales by cashier",
            ReportKind::SalesByTender => "Payments by tender",
            ReportKind::Discounts => "Discounts given",
            ReportKind::Refunds => "Refunds",
            ReportKind::TaxesByRate => "Taxes by rate",
            ReportKind::Shifts => "Shifts (Z reports)",
        }
    }

    /// A file name without extension: `sales-by-day`.
    pub fn file_stem(self) -> &'static str {
        match self {
            ReportKind::SalesByDay => "sales-by-day",
            ReportKind::SalesByHour => "sales-by-hour",
            ReportKind::SalesByProduct => "sales-by-product",
            ReportKind::SalesByCategory => "sales-by-category",
            ReportKind::SalesByCashier => "sales-by-cashier",
            ReportKind::SalesByTender => "payments-by-tender",
            ReportKind::Discounts => "discounts",
            ReportKind::Refunds => "refunds",
            ReportKind::TaxesByRate => "taxes-by-rate",
            ReportKind::Shifts => "shifts",
        }
    }

    pub fn build(self, period: &Period, data: &ReportData) -> Result<Table, ReportError> {
        match self {
            ReportKind::SalesByDay => sales_by_day(period, data),
            ReportKind::SalesByHour => sales_by_hour(period, data),
            ReportKind::SalesByProduct => sales_by_product(period, data),
            ReportKind::SalesByCategory => sales_by_category(period, data),
            ReportKind::SalesByCashier => sales_by_cashier(period, data),
            ReportKind::SalesByTender => sales_by_tender(period, data),
            ReportKind::Discounts => discounts(period, data),
            ReportKind::Refunds => refunds(period, data),
            ReportKind::TaxesByRate => taxes_by_rate(period, data),
            ReportKind::Shifts => shifts(period, data),
        }
    }
}

/// Count, net, tax and total of a group of sales or lines.
#[derive(Clone, Copy)]
struct Figures {
    count: u64,
    net: Money,
    tax: Money,
    total: Money,
}

impl Figures {
    fn zero(currency: Currency) -> Figures {
        Figures {
            count: 0,
            net: Money::zero(currency),
            tax: Money::zero(currency),
            total: Money::zero(currency),
        }
    }

    fn add(&mut self, net: Money, tax: Money, total: Money) -> Result<(), ReportError> {
        self.count += 1;
        self.net = self.net.checked_add(net)?;
        self.tax = self.tax.checked_add(tax)?;
        self.total = self.total.checked_add(total)?;
        Ok(())
    }

    fn add_sale(&mut self, sale: &Sale) -> Result<(), ReportError> {
        self.add(sale.net, sale.tax, sale.total)
    }

    /// A line's share of its sale's tax, as the tax engine allocated it.
    fn add_line(&mut self, tax: &LineTax) -> Result<(), ReportError> {
        self.add(tax.net, tax.tax, tax.gross)
    }

    fn cells(&self) -> [Cell; 4] {
        [
            Cell::Count(self.count),
            Cell::Money(self.net),
            Cell::Money(self.tax),
            Cell::Money(self.total),
        ]
    }
}

fn figure_columns(count_title: &str) -> [Column; 4] {
    [
        Column::new(count_title, ColumnKind::Count),
        Column::new("Net", ColumnKind::Money),
        Column::new("Tax", ColumnKind::Money),
        Column::new("Total", ColumnKind::Money),
    ]
}

fn sales_in<'a>(period: &'a Period, data: &'a ReportData) -> impl Iterator<Item = &'a Sale> {
    data.sales.iter().filter(|sale| period.contains(sale.at))
}

fn refunds_in<'a>(period: &'a Period, data: &'a ReportData) -> impl Iterator<Item = &'a Refund> {
    data.refunds
        .iter()
        .filter(|refund| period.contains(refund.at))
}

fn with_figures<const N: usize>(head: [Column; N], count_title: &str) -> Vec<Column> {
    head.into_iter()
        .chain(figure_columns(count_title))
        .collect()
}

/// One row per local day with sales: how many, net, tax, total.
pub fn sales_by_day(period: &Period, data: &ReportData) -> Result<Table, ReportError> {
    let mut days = BTreeMap::new();
    for sale in sales_in(period, data) {
        days.entry(period.local(sale.at).date)
            .or_insert_with(|| Figures::zero(data.currency))
            .add_sale(sale)?;
    }
    let rows = days
        .into_iter()
        .map(|(day, figures)| {
            let mut row = vec![Cell::text(day.to_string())];
            row.extend(figures.cells());
            row
        })
        .collect();
    Table::summed(
        ReportKind::SalesByDay.title(),
        period.label(),
        data.currency,
        with_figures([Column::new("Day", ColumnKind::Text)], "Sales"),
        rows,
        true,
    )
}

/// One row per hour of the shop's day with sales, over the whole period: when the shop is
/// busy.
pub fn sales_by_hour(period: &Period, data: &ReportData) -> Result<Table, ReportError> {
    let mut hours = BTreeMap::new();
    for sale in sales_in(period, data) {
        hours
            .entry(period.local(sale.at).hour())
            .or_insert_with(|| Figures::zero(data.currency))
            .add_sale(sale)?;
    }
    let rows = hours
        .into_iter()
        .map(|(hour, figures)| {
            let mut row = vec![Cell::text(format!("{hour:02}:00-{hour:02}:59"))];
            row.extend(figures.cells());
            row
        })
        .collect();
    Table::summed(
        ReportKind::SalesByHour.title(),
        period.label(),
        data.currency,
        with_figures([Column::new("Hour", ColumnKind::Text)], "Sales"),
        rows,
        true,
    )
}

/// One row per product sold, best seller (by total) first: quantity, and the net, tax and
/// total of its lines after discounts.
pub fn sales_by_product(period: &Period, data: &ReportData) -> Result<Table, ReportError> {
    struct ProductRow<'a> {
        sku: &'a str,
        name: &'a str,
        unit: &'static str,
        quantity: Decimal,
        figures: Figures,
    }
    let mut products: BTreeMap<&str, ProductRow<'_>> = BTreeMap::new();
    for line in sales_in(period, data).flat_map(|sale| &sale.lines) {
        let product = &line.product;
        let row = products
            .entry(product.id.as_str())
            .or_insert_with(|| ProductRow {
                sku: product.sku.as_str(),
                name: &product.name,
                unit: product.unit.symbol(),
                quantity: Decimal::ZERO,
                figures: Figures::zero(data.currency),
            });
        row.quantity += line.quantity.value();
        row.figures.add_line(&line.tax)?;
    }
    let mut sorted: Vec<ProductRow<'_>> = products.into_values().collect();
    sorted.sort_by(|a, b| {
        b.figures
            .total
            .amount()
            .cmp(&a.figures.total.amount())
            .then_with(|| a.sku.cmp(b.sku))
    });
    let rows = sorted
        .into_iter()
        .map(|row| {
            let mut cells = vec![
                Cell::text(row.sku),
                Cell::text(row.name),
                Cell::Quantity(row.quantity),
                Cell::text(row.unit),
            ];
            cells.extend(row.figures.cells());
            cells
        })
        .collect();
    Table::summed(
        ReportKind::SalesByProduct.title(),
        period.label(),
        data.currency,
        with_figures(
            [
                Column::new("SKU", ColumnKind::Text),
                Column::new("Product", ColumnKind::Text),
                Column::new("Quantity", ColumnKind::Quantity),
                Column::new("Unit", ColumnKind::Text),
            ],
            "Lines",
        ),
        rows,
        // Pieces and kilograms do not add up.
        false,
    )
}

/// One row per category, with the lines sold in it.
pub fn sales_by_category(period: &Period, data: &ReportData) -> Result<Table, ReportError> {
    let mut categories: BTreeMap<Option<&CategoryId>, Figures> = BTreeMap::new();
    for line in sales_in(period, data).flat_map(|sale| &sale.lines) {
        categories
            .entry(line.product.category.as_ref())
            .or_insert_with(|| Figures::zero(data.currency))
            .add_line(&line.tax)?;
    }
    let rows = categories
        .into_iter()
        .map(|(category, figures)| {
            let name = match category {
                Some(id) => data
                    .category_names
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| id.to_string()),
                None => "(no category)".to_owned(),
            };
            let mut row = vec![Cell::text(name)];
            row.extend(figures.cells());
            row
        })
        .collect();
    Table::summed(
        ReportKind::SalesByCategory.title(),
        period.label(),
        data.currency,
        with_figures([Column::new("Category", ColumnKind::Text)], "Lines"),
        rows,
        true,
    )
}

/// One row per cashier: sales rung up, their figures and the discounts they gave.
pub fn sales_by_cashier(period: &Period, data: &ReportData) -> Result<Table, ReportError> {
    let mut cashiers: BTreeMap<&UserId, (Figures, Money)> = BTreeMap::new();
    for sale in sales_in(period, data) {
        let (figures, discounts) = cashiers
            .entry(&sale.cashier)
            .or_insert_with(|| (Figures::zero(data.currency), Money::zero(data.currency)));
        figures.add_sale(sale)?;
        *discounts = discounts.checked_add(sale.discount_total)?;
    }
    let rows = cashiers
        .into_iter()
        .map(|(cashier, (figures, discounts))| {
            let mut row = vec![Cell::text(data.person(cashier))];
            row.extend(figures.cells());
            row.push(Cell::Money(discounts));
            row
        })
        .collect();
    let mut columns = with_figures([Column::new("Cashier", ColumnKind::Text)], "Sales");
    columns.push(Column::new("Discounts", ColumnKind::Money));
    Table::summed(
        ReportKind::SalesByCashier.title(),
        period.label(),
        data.currency,
        columns,
        rows,
        true,
    )
}

/// One row per tender kind used: what was taken on sales, given back on refunds, and the
/// difference that should be in the drawer or the bank.
pub fn sales_by_tender(period: &Period, data: &ReportData) -> Result<Table, ReportError> {
    let zero = Money::zero(data.currency);
    let mut tenders: BTreeMap<usize, (u64, Money, Money)> = BTreeMap::new();
    let position = |kind: TenderKind| TenderKind::ALL.iter().position(|k| *k == kind);
    for tender in sales_in(period, data).flat_map(|sale| &sale.payment.tenders) {
        let index = position(tender.kind).unwrap_or(usize::MAX);
        let (count, taken, _) = tenders.entry(index).or_insert((0, zero, zero));
        *count += 1;
        *taken = taken.checked_add(tender.applied)?;
    }
    for tender in refunds_in(period, data).flat_map(|refund| &refund.tenders) {
        let index = position(tender.kind).unwrap_or(usize::MAX);
        let (_, _, given) = tenders.entry(index).or_insert((0, zero, zero));
        *given = given.checked_add(tender.applied)?;
    }
    let mut rows = Vec::with_capacity(tenders.len());
    for (index, (count, taken, given)) in tenders {
        let name = TenderKind::ALL.get(index).map_or("Other", |k| k.name());
        rows.push(vec![
            Cell::text(name),
            Cell::Count(count),
            Cell::Money(taken),
            Cell::Money(given),
            Cell::Money(taken.checked_sub(given)?),
        ]);
    }
    Table::summed(
        ReportKind::SalesByTender.title(),
        period.label(),
        data.currency,
        vec![
            Column::new("Tender", ColumnKind::Text),
            Column::new("Payments", ColumnKind::Count),
            Column::new("Taken", ColumnKind::Money),
            Column::new("Refunded", ColumnKind::Money),
            Column::new("Net", ColumnKind::Money),
        ],
        rows,
        true,
    )
}

/// One row per discount (promotion or manual), largest first: how often and how much.
pub fn discounts(period: &Period, data: &ReportData) -> Result<Table, ReportError> {
    let mut given: BTreeMap<(&'static str, &str), (u64, u64, Money)> = BTreeMap::new();
    for sale in sales_in(period, data) {
        for line in &sale.lines {
            for discount in &line.discounts {
                let kind = match discount.source {
                    DiscountSource::Promotion(_) => "Promotion",
                    DiscountSource::ManualLine => "Manual, line",
                    DiscountSource::ManualCart => "Manual, whole sale",
                };
                let (lines, approved, amount) = given
                    .entry((kind, discount.label.as_str()))
                    .or_insert((0, 0, Money::zero(data.currency)));
                *lines += 1;
                *approved += u64::from(discount.approval.is_some());
                *amount = amount.checked_add(discount.amount)?;
            }
        }
    }
    let mut sorted: Vec<_> = given.into_iter().collect();
    sorted.sort_by(|a, b| b.1.2.amount().cmp(&a.1.2.amount()).then(a.0.cmp(&b.0)));
    let rows = sorted
        .into_iter()
        .map(|((kind, label), (lines, approved, amount))| {
            vec![
                Cell::text(label),
                Cell::text(kind),
                Cell::Count(lines),
                Cell::Count(approved),
                Cell::Money(amount),
            ]
        })
        .collect();
    Table::summed(
        ReportKind::Discounts.title(),
        period.label(),
        data.currency,
        vec![
            Column::new("Discount", ColumnKind::Text),
            Column::new("Kind", ColumnKind::Text),
            Column::new("Lines", ColumnKind::Count),
            Column::new("Approved by a manager", ColumnKind::Count),
            Column::new("Amount", ColumnKind::Money),
        ],
        rows,
        true,
    )
}

/// One row per refund, oldest first, with its reason and the receipt it returns against.
pub fn refunds(period: &Period, data: &ReportData) -> Result<Table, ReportError> {
    let mut refunds: Vec<&Refund> = refunds_in(period, data).collect();
    refunds.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));
    let rows = refunds
        .into_iter()
        .map(|refund| {
            vec![
                Cell::text(local_minute(period.local(refund.at))),
                Cell::text(refund.receipt_number.as_str()),
                Cell::text(
                    refund
                        .original_receipt
                        .as_ref()
                        .map_or("(no receipt)", |r| r.as_str()),
                ),
                Cell::text(refund.reason.code.as_str()),
                Cell::text(refund.reason.label.as_str()),
                Cell::text(data.person(&refund.cashier)),
                Cell::Count(u64::try_from(refund.lines.len()).unwrap_or(u64::MAX)),
                Cell::Money(refund.net),
                Cell::Money(refund.tax),
                Cell::Money(refund.total),
            ]
        })
        .collect();
    Table::summed(
        ReportKind::Refunds.title(),
        period.label(),
        data.currency,
        vec![
            Column::new("Time", ColumnKind::Text),
            Column::new("Refund receipt", ColumnKind::Text),
            Column::new("Original receipt", ColumnKind::Text),
            Column::new("Reason code", ColumnKind::Text),
            Column::new("Reason", ColumnKind::Text),
            Column::new("Cashier", ColumnKind::Text),
            Column::new("Lines", ColumnKind::Count),
            Column::new("Net", ColumnKind::Money),
            Column::new("Tax", ColumnKind::Money),
            Column::new("Total", ColumnKind::Money),
        ],
        rows,
        true,
    )
}

/// One row per tax rate: the taxable amount and tax of sales, of refunds, and what is owed.
/// The figures are the per-rate rows `pos_core::tax` put on each sale and refund.
pub fn taxes_by_rate(period: &Period, data: &ReportData) -> Result<Table, ReportError> {
    struct RateRow<'a> {
        name: &'a str,
        rate: Decimal,
        /// Taxable and tax of sales, then of refunds.
        sums: [Money; 4],
    }
    let zero = Money::zero(data.currency);
    let mut rates: BTreeMap<&str, RateRow<'_>> = BTreeMap::new();
    let sold = sales_in(period, data).flat_map(|s| s.taxes.iter().map(|r| (r, 0)));
    let refunded = refunds_in(period, data).flat_map(|r| r.taxes.iter().map(|t| (t, 2)));
    for (amount, offset) in sold.chain(refunded) {
        let row = rates
            .entry(amount.rate_id.as_str())
            .or_insert_with(|| RateRow {
                name: &amount.name,
                rate: amount.rate,
                sums: [zero; 4],
            });
        row.sums[offset] = row.sums[offset].checked_add(amount.taxable)?;
        row.sums[offset + 1] = row.sums[offset + 1].checked_add(amount.tax)?;
    }
    let mut rows = Vec::with_capacity(rates.len());
    for row in rates.into_values() {
        let [sold_taxable, sold_tax, refunded_taxable, refunded_tax] = row.sums;
        rows.push(vec![
            Cell::text(row.name),
            Cell::Percent(row.rate),
            Cell::Money(sold_taxable),
            Cell::Money(sold_tax),
            Cell::Money(refunded_taxable),
            Cell::Money(refunded_tax),
            Cell::Money(sold_taxable.checked_sub(refunded_taxable)?),
            Cell::Money(sold_tax.checked_sub(refunded_tax)?),
        ]);
    }
    Table::summed(
        ReportKind::TaxesByRate.title(),
        period.label(),
        data.currency,
        vec![
            Column::new("Tax", ColumnKind::Text),
            Column::new("Rate", ColumnKind::Percent),
            Column::new("Sales taxable", ColumnKind::Money),
            Column::new("Sales tax", ColumnKind::Money),
            Column::new("Refunds taxable", ColumnKind::Money),
            Column::new("Refunds tax", ColumnKind::Money),
            Column::new("Net taxable", ColumnKind::Money),
            Column::new("Net tax", ColumnKind::Money),
        ],
        rows,
        true,
    )
}

/// The Z history: one row per shift closed in the period, with the cash counted against what
/// was expected. A negative discrepancy is cash missing from the drawer.
pub fn shifts(period: &Period, data: &ReportData) -> Result<Table, ReportError> {
    let mut closed: Vec<&(Shift, ShiftReport)> = data
        .shifts
        .iter()
        .filter(|(_, z)| period.contains(z.at))
        .collect();
    closed.sort_by(|a, b| a.1.at.cmp(&b.1.at).then(a.0.id.cmp(&b.0.id)));
    let optional = |money: Option<Money>| money.map_or(Cell::Empty, Cell::Money);
    let rows = closed
        .into_iter()
        .map(|(shift, z)| {
            vec![
                Cell::text(shift.id.as_str()),
                Cell::text(shift.device.as_str()),
                Cell::text(data.person(&shift.opened_by)),
                Cell::text(local_minute(period.local(z.opened_at))),
                Cell::text(local_minute(period.local(z.at))),
                Cell::Count(u64::from(z.sales_count)),
                Cell::Money(z.net_sales),
                Cell::Money(z.refunds),
                Cell::Money(z.expected_cash),
                optional(z.counted_cash),
                optional(z.discrepancy),
            ]
        })
        .collect();
    Table::summed(
        ReportKind::Shifts.title(),
        period.label(),
        data.currency,
        vec![
            Column::new("Shift", ColumnKind::Text),
            Column::new("Terminal", ColumnKind::Text),
            Column::new("Opened by", ColumnKind::Text),
            Column::new("Opened", ColumnKind::Text),
            Column::new("Closed", ColumnKind::Text),
            Column::new("Sales", ColumnKind::Count),
            Column::new("Net sales", ColumnKind::Money),
            Column::new("Refunds", ColumnKind::Money),
            Column::new("Expected cash", ColumnKind::Money),
            Column::new("Counted cash", ColumnKind::Money),
            Column::new("Discrepancy", ColumnKind::Money),
        ],
        rows,
        true,
    )
}
