//! Properties of the reports over generated trading: whatever was sold, every report's
//! totals row is the sum of its rows, and the totals equal the figures on the sales and
//! refunds themselves, to the cent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pos_core::money::{Currency, Money};
use pos_core::refund::ReasonCode;
use pos_core::sale::Sale;
use pos_reports::{Cell, ColumnKind, Period, ReportData, ReportKind, Table};
use proptest::prelude::*;
use rust_decimal::Decimal;
use support::{PRODUCTS, Pay, Shop, local};
use time::macros::date;

const EUR: Currency = Currency::EUR;

#[derive(Clone, Debug)]
struct SaleSpec {
    cashier: usize,
    /// Days after 2026-03-01; the period is the 2nd and 3rd, so some fall outside.
    day: u8,
    hour: u8,
    minute: u8,
    items: Vec<(usize, i64)>,
    discount: Option<(usize, u8)>,
    pay: u8,
    refund_first_line: bool,
}

fn sale_spec() -> impl Strategy<Value = SaleSpec> {
    (
        0usize..2,
        0u8..4,
        0u8..24,
        0u8..60,
        proptest::collection::vec((0..PRODUCTS.len(), 1i64..5), 1..6),
        proptest::option::weighted(0.3, (0usize..6, 1u8..=60)),
        0u8..4,
        proptest::bool::weighted(0.2),
    )
        .prop_map(
            |(cashier, day, hour, minute, items, discount, pay, refund_first_line)| SaleSpec {
                cashier,
                day,
                hour,
                minute,
                discount: discount.map(|(line, percent)| (line % items.len(), percent)),
                items,
                pay,
                refund_first_line,
            },
        )
}

fn trade(specs: &[SaleSpec]) -> ReportData {
    let mut shop = Shop::new();
    let mut data = ReportData::empty(EUR);
    for spec in specs {
        let day = date!(2026 - 03 - 01)
            .checked_add(time::Duration::days(i64::from(spec.day)))
            .unwrap();
        let at = local(day, spec.hour, spec.minute);
        let items: Vec<(&str, i64)> = spec
            .items
            .iter()
            .map(|(product, pieces)| (PRODUCTS[*product], *pieces))
            .collect();
        let pay = match spec.pay {
            0 => Pay::Cash,
            1 => Pay::Card,
            2 => Pay::Wallet,
            _ => Pay::CardThenCash(Money::from_minor(1, EUR)),
        };
        let sale = shop.sell(spec.cashier, at, None, &items, spec.discount, pay);
        if spec.refund_first_line && sale.total.is_positive() {
            let reason = ReasonCode::new("changed-mind", "Changed mind", true);
            data.refunds
                .push(shop.refund(&sale, 1, 1, reason, at.plus_ms(60_000), None));
        }
        data.sales.push(sale);
    }
    data
}

/// Sums a column of the rows independently of the report's own totals.
fn column_sum(table: &Table, index: usize) -> Cell {
    match table.columns[index].kind {
        ColumnKind::Money => Cell::Money(
            table
                .rows
                .iter()
                .map(|row| match &row[index] {
                    Cell::Money(money) => *money,
                    _ => Money::zero(EUR),
                })
                .fold(Money::zero(EUR), |sum, m| sum.checked_add(m).unwrap()),
        ),
        ColumnKind::Count => Cell::Count(
            table
                .rows
                .iter()
                .map(|row| match &row[index] {
                    Cell::Count(count) => *count,
                    _ => 0,
                })
                .sum(),
        ),
        ColumnKind::Quantity => Cell::Quantity(
            table
                .rows
                .iter()
                .map(|row| match &row[index] {
                    Cell::Quantity(quantity) => *quantity,
                    _ => Decimal::ZERO,
                })
                .sum(),
        ),
        ColumnKind::Text | ColumnKind::Percent => Cell::Empty,
    }
}

fn total(table: &Table, title: &str) -> Money {
    table
        .money_total(title)
        .unwrap_or_else(|| panic!("{} has no total {title}", table.title))
}

fn sum<'a>(amounts: impl IntoIterator<Item = &'a Money>) -> Money {
    Money::sum(EUR, amounts).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn totals_are_the_sum_of_the_rows_and_of_what_was_sold(
        specs in proptest::collection::vec(sale_spec(), 0..25),
    ) {
        let data = trade(&specs);
        let period = Period::new(date!(2026 - 03 - 02), date!(2026 - 03 - 03), support::OFFSET).unwrap();
        let sold: Vec<&Sale> = data.sales.iter().filter(|s| period.contains(s.at)).collect();
        let refunded: Vec<_> = data.refunds.iter().filter(|r| period.contains(r.at)).collect();

        for kind in ReportKind::ALL {
            let table = kind.build(&period, &data).unwrap();
            prop_assert_eq!(table.totals.len(), table.columns.len());
            for index in 1..table.columns.len() {
                let expected = column_sum(&table, index);
                if table.totals[index] != Cell::Empty {
                    prop_assert_eq!(&table.totals[index], &expected, "{} column {}", table.title, index);
                }
            }
        }

        let total_sold = sum(sold.iter().map(|s| &s.total));
        let tax_sold = sum(sold.iter().map(|s| &s.tax));
        let net_sold = sum(sold.iter().map(|s| &s.net));
        for kind in [
            ReportKind::SalesByDay,
            ReportKind::SalesByHour,
            ReportKind::SalesByCashier,
            ReportKind::SalesByProduct,
            ReportKind::SalesByCategory,
        ] {
            let table = kind.build(&period, &data).unwrap();
            prop_assert_eq!(total(&table, "Total"), total_sold, "{}", kind.title());
            prop_assert_eq!(total(&table, "Tax"), tax_sold, "{}", kind.title());
            prop_assert_eq!(total(&table, "Net"), net_sold, "{}", kind.title());
        }
        let by_day = ReportKind::SalesByDay.build(&period, &data).unwrap();
        prop_assert_eq!(&by_day.totals[1], &Cell::Count(sold.len() as u64));

        let tenders = ReportKind::SalesByTender.build(&period, &data).unwrap();
        let due: Vec<Money> = sold.iter().map(|s| s.payment.amount_due().unwrap()).collect();
        prop_assert_eq!(total(&tenders, "Taken"), sum(&due));
        let given: Vec<&Money> = refunded.iter().flat_map(|r| &r.tenders).map(|t| &t.applied).collect();
        prop_assert_eq!(total(&tenders, "Refunded"), sum(given));

        let taxes = ReportKind::TaxesByRate.build(&period, &data).unwrap();
        prop_assert_eq!(total(&taxes, "Sales tax"), tax_sold);
        prop_assert_eq!(total(&taxes, "Sales taxable"), net_sold);
        prop_assert_eq!(total(&taxes, "Refunds tax"), sum(refunded.iter().map(|r| &r.tax)));

        let discounts = ReportKind::Discounts.build(&period, &data).unwrap();
        prop_assert_eq!(total(&discounts, "Amount"), sum(sold.iter().map(|s| &s.discount_total)));

        let refunds = ReportKind::Refunds.build(&period, &data).unwrap();
        prop_assert_eq!(refunds.rows.len(), refunded.len());
        prop_assert_eq!(total(&refunds, "Total"), sum(refunded.iter().map(|r| &r.total)));
    }
}
