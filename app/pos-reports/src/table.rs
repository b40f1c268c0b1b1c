use pos_core::money::{Currency, Money};
use rust_decimal::Decimal;

use crate::ReportError;

/// What a column holds, so each exporter can show it right: amounts in the report's currency,
/// quantities (pieces or weights), counts, and rates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    Money,
    Quantity,
    Count,
    Percent,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub title: String,
    pub kind: ColumnKind,
}

impl Column {
    pub fn new(title: &str, kind: ColumnKind) -> Column {
        Column {
            title: title.to_owned(),
            kind,
        }
    }

    /// The title with its unit where a bare number would be ambiguous: `Total (EUR)`,
    /// `Rate (%)`.
    pub fn heading(&self, currency: Currency) -> String {
        match self.kind {
            ColumnKind::Money => format!("{} ({})", self.title, currency.code()),
            ColumnKind::Percent => format!("{} (%)", self.title),
            ColumnKind::Text | ColumnKind::Quantity | ColumnKind::Count => self.title.clone(),
        }
    }
}

/// One value of a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Money(Money),
    /// Pieces or a weight; the unit is in a neighbouring column where it matters.
    Quantity(Decimal),
    Count(u64),
    /// A fraction: 0.19 is 19%.
    Percent(Decimal),
    Empty,
}

impl Cell {
    pub fn text(value: impl Into<String>) -> Cell {
        Cell::Text(value.into())
    }

    /// The value as plain text with a decimal point and no thousands separator: `1234.50`,
    /// `1.235`, `19` (for 19%). What the CSV file holds.
    pub fn plain(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Money(money) => money.display_amount(),
            Cell::Quantity(quantity) => quantity.normalize().to_string(),
            Cell::Count(count) => count.to_string(),
            Cell::Percent(fraction) => (fraction * Decimal::ONE_HUNDRED).normalize().to_string(),
            Cell::Empty => String::new(),
        }
    }

    /// The value as a reader sees it on paper: amounts with their precision, rates with `%`.
    pub fn shown(&self) -> String {
        match self {
            Cell::Percent(_) => format!("{}%", self.plain()),
            _ => self.plain(),
        }
    }
}

/// A finished report: what the screens show and every exporter writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub title: String,
    /// The period as a reader sees it, e.g. `2026-03-01 to 2026-03-31 (UTC+01:00)`.
    pub period: String,
    pub currency: Currency,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// The sum of every money, quantity and count column over the rows; `Total` in the
    /// first column.
    pub totals: Vec<Cell>,
}

impl Table {
    /// A table whose totals row is the sum of its rows, column by column. Text and rate
    /// columns have no total; a column that sums quantities of different units passes
    /// `sum_quantities = false` and shows none either.
    pub fn summed(
        title: &str,
        period: String,
        currency: Currency,
        columns: Vec<Column>,
        rows: Vec<Vec<Cell>>,
        sum_quantities: bool,
    ) -> Result<Table, ReportError> {
        let mut totals = Vec::with_capacity(columns.len());
        for (index, column) in columns.iter().enumerate() {
            let cells = rows.iter().filter_map(|row| row.get(index));
            let total = match column.kind {
                ColumnKind::Money => {
                    let mut sum = Money::zero(currency);
                    for cell in cells {
                        if let Cell::Money(amount) = cell {
                            sum = sum.checked_add(*amount)?;
                        }
                    }
                    Cell::Money(sum)
                }
                ColumnKind::Count => Cell::Count(
                    cells
                        .map(|cell| match cell {
                            Cell::Count(count) => *count,
                            _ => 0,
                        })
                        .sum(),
                ),
                ColumnKind::Quantity if sum_quantities => Cell::Quantity(
                    cells
                        .map(|cell| match cell {
                            Cell::Quantity(quantity) => *quantity,
                            _ => Decimal::ZERO,
                        })
                        .sum(),
                ),
                ColumnKind::Quantity | ColumnKind::Text | ColumnKind::Percent => Cell::Empty,
            };
            totals.push(total);
        }
        if let Some(first) = totals.first_mut() {
            *first = Cell::text("Total");
        }
        Ok(Table {
            title: title.to_owned(),
            period,
            currency,
            columns,
            rows,
            totals,
        })
    }

    /// The index of the column titled `title`.
    pub fn column(&self, title: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.title == title)
    }

    /// The total of the money column titled `title`.
    pub fn money_total(&self, title: &str) -> Option<Money> {
        match self.totals.get(self.column(title)?)? {
            Cell::Money(money) => Some(*money),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_plain_decimals_with_a_point() {
        let eur = |minor| Cell::Money(Money::from_minor(minor, Currency::EUR));
        assert_eq!(eur(123_450).plain(), "1234.50");
        assert_eq!(eur(-5).plain(), "-0.05");
        assert_eq!(Cell::Quantity(Decimal::new(1_235, 3)).plain(), "1.235");
        assert_eq!(Cell::Percent(Decimal::new(19, 2)).plain(), "19");
        assert_eq!(Cell::Percent(Decimal::new(55, 3)).shown(), "5.5%");
        assert_eq!(
            Cell::Money(Money::from_minor(1_200, Currency::JPY)).plain(),
            "1200"
        );
    }

    #[test]
    fn totals_add_up_money_and_counts_and_leave_text_and_rates_empty() {
        let eur = |minor| Cell::Money(Money::from_minor(minor, Currency::EUR));
        let table = Table::summed(
            "Test",
            String::new(),
            Currency::EUR,
            vec![
                Column::new("Name", ColumnKind::Text),
                Column::new("Rate", ColumnKind::Percent),
                Column::new("Sales", ColumnKind::Count),
                Column::new("Amount", ColumnKind::Money),
            ],
            vec![
                vec![
                    Cell::text("a"),
                    Cell::Percent(Decimal::ONE),
                    Cell::Count(2),
                    eur(101),
                ],
                vec![
                    Cell::text("b"),
                    Cell::Percent(Decimal::ONE),
                    Cell::Count(3),
                    eur(-1),
                ],
            ],
            true,
        )
        .unwrap();
        assert_eq!(
            table.totals,
            vec![Cell::text("Total"), Cell::Empty, Cell::Count(5), eur(100)]
        );
        assert_eq!(
            table.money_total("Amount"),
            Some(Money::from_minor(100, Currency::EUR))
        );
        assert_eq!(table.columns[3].heading(Currency::EUR), "Amount (EUR)");
    }

    #[test]
    fn amounts_in_another_currency_are_refused_not_added() {
        let error = Table::summed(
            "Test",
            String::new(),
            Currency::EUR,
            vec![Column::new("Amount", ColumnKind::Money)],
            vec![vec![Cell::Money(Money::from_minor(1, Currency::USD))]],
            true,
        )
        .unwrap_err();
        assert!(matches!(error, ReportError::Money(_)), "{error}");
    }
}
