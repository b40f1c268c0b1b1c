//! What the dashboard reads from storage, and what a pushed sale adds to its figures.
//!
//! The dashboard never adds up journal payloads at request time: every sale is turned once,
//! as it is stored, into [`SaleFacts`] (pure) that the backends add to small summary tables
//! (per store and hour, per store and day, per store and month). A page over a year of
//! twenty stores then reads tens of thousands of summary rows, not millions of sales.
//!
//! Amounts are whole minor units of the store's currency (cents for EUR), quantities whole
//! thousandths, so that the databases add integers and nothing is rounded.

use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, ProductId, StoreId};
use pos_core::money::Money;
use pos_core::quantity::Quantity;
use pos_core::sale::Sale;
use pos_core::tender::TenderKind;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::storage::TerminalRecord;

pub const HOUR_MS: i64 = 60 * 60 * 1_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// The start of the UTC hour `at` falls in.
pub fn hour_of(at: Timestamp) -> i64 {
    at.unix_ms().div_euclid(HOUR_MS) * HOUR_MS
}

/// The start of the UTC day `at` falls in.
pub fn day_of(at: Timestamp) -> i64 {
    at.unix_ms().div_euclid(DAY_MS) * DAY_MS
}

/// The start of the UTC calendar month `at` falls in.
pub fn month_of(at: Timestamp) -> i64 {
    let date = at.to_utc().date();
    let first = date.replace_day(1).unwrap_or(date);
    first.midnight().assume_utc().unix_timestamp() * 1_000
}

/// The start of the UTC month after the one starting at `month_ms`.
pub fn next_month(month_ms: i64) -> i64 {
    let date = Timestamp::from_unix_ms(month_ms).to_utc().date();
    let (year, month) = (date.year(), date.month());
    let (year, month) = match month.next() {
        time::Month::January => (year + 1, time::Month::January),
        next => (year, next),
    };
    time::Date::from_calendar_date(year, month, 1).map_or(month_ms + 31 * DAY_MS, |d| {
        d.midnight().assume_utc().unix_timestamp() * 1_000
    })
}

/// An amount as whole minor units of its currency.
pub fn minor_units(money: Money) -> i64 {
    let scale = Decimal::from(10_i64.pow(money.currency().minor_units()));
    (money.amount() * scale).round().to_i64().unwrap_or(0)
}

/// A quantity as whole thousandths (pieces × 1000, or grams for kilograms).
pub fn thousandths(quantity: Quantity) -> i64 {
    (quantity.value() * Decimal::from(1_000))
        .round()
        .to_i64()
        .unwrap_or(0)
}

pub fn from_thousandths(value: i64) -> Decimal {
    Decimal::new(value, 3).normalize()
}

pub fn tender_name(kind: TenderKind) -> &'static str {
    match kind {
        TenderKind::Cash => "cash",
        TenderKind::Card => "card",
        TenderKind::MobileWallet => "mobile_wallet",
        TenderKind::GiftCard => "gift_card",
        TenderKind::StoreCredit => "store_credit",
        TenderKind::LoyaltyPoints => "loyalty_points",
    }
}

/// One line of a sale, as the product figures count it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineFacts {
    pub product: ProductId,
    pub name: String,
    pub quantity_milli: i64,
    pub amount_minor: i64,
}

/// What one completed sale adds to the dashboard's figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleFacts {
    pub hour: i64,
    pub day: i64,
    pub month: i64,
    pub total_minor: i64,
    pub lines: Vec<LineFacts>,
    /// Tender name and the amount it paid of the sale (change given back is not counted).
    pub tenders: Vec<(&'static str, i64)>,
}

impl SaleFacts {
    pub fn of(sale: &Sale) -> SaleFacts {
        let mut lines: Vec<LineFacts> = Vec::new();
        for line in &sale.lines {
            let quantity_milli = thousandths(line.quantity);
            let amount_minor = minor_units(line.amount);
            match lines.iter_mut().find(|l| l.product == line.product.id) {
                Some(same) => {
                    same.quantity_milli += quantity_milli;
                    same.amount_minor += amount_minor;
                }
                None => lines.push(LineFacts {
                    product: line.product.id.clone(),
                    name: line.product.name.clone(),
                    quantity_milli,
                    amount_minor,
                }),
            }
        }
        let mut tenders: Vec<(&'static str, i64)> = Vec::new();
        for tender in &sale.payment.tenders {
            let name = tender_name(tender.kind);
            let amount = minor_units(tender.applied);
            match tenders.iter_mut().find(|(n, _)| *n == name) {
                Some((_, sum)) => *sum += amount,
                None => tenders.push((name, amount)),
            }
        }
        SaleFacts {
            hour: hour_of(sale.at),
            day: day_of(sale.at),
            month: month_of(sale.at),
            total_minor: minor_units(sale.total),
            lines,
            tenders,
        }
    }
}

/// How sales are added up: one bucket for the whole span, one per day of the shop's calendar,
/// or one per hour of the week (for the heatmap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    Whole,
    /// Buckets are days since 1970-01-01 on the shop's clock.
    Day,
    /// Buckets are `weekday × 24 + hour` on the shop's clock, Monday 0.
    HourOfWeek,
}

impl Grouping {
    /// The bucket as SQL over `hour` (Unix ms) and the offset in ms as parameter `offset`;
    /// both backends share it (integer arithmetic on non-negative times).
    pub fn sql(self, offset: &str) -> String {
        self.sql_over("hour", offset)
    }

    /// The summary table and time column that serve this grouping over `span` on a clock
    /// `offset_ms` from UTC: whole UTC days come from the daily rows, anything else (another
    /// clock, hours of the week) from the hourly rows.
    pub fn source(self, span: Span, offset_ms: i64) -> (&'static str, &'static str) {
        let whole_utc_days =
            offset_ms == 0 && span.from.rem_euclid(DAY_MS) == 0 && span.to.rem_euclid(DAY_MS) == 0;
        if whole_utc_days && self != Grouping::HourOfWeek {
            ("dash_daily", "day")
        } else {
            ("dash_hourly", "hour")
        }
    }

    /// As [`Grouping::sql`], over the time column `column`.
    pub fn sql_over(self, column: &str, offset: &str) -> String {
        match self {
            // The offset is bound in every grouping; here it counts for nothing.
            Grouping::Whole => format!("(0 * {offset})"),
            Grouping::Day => format!("(({column} + {offset}) / {DAY_MS})"),
            // 1970-01-01 was a Thursday: day 0 is weekday 3 counted from Monday.
            Grouping::HourOfWeek => format!(
                "(((({column} + {offset}) / {DAY_MS}) + 3) % 7) * 24 + (({column} + {offset}) / {HOUR_MS}) % 24"
            ),
        }
    }
}

/// Sales of one store in one bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesBucket {
    pub store: StoreId,
    pub bucket: i64,
    pub sales: u64,
    pub total_minor: i64,
}

/// What one tender paid in one store over a period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenderSales {
    pub store: StoreId,
    pub tender: String,
    pub amount_minor: i64,
}

/// What one product sold in one store over a period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductSales {
    pub store: StoreId,
    pub product: ProductId,
    pub name: String,
    pub quantity_milli: i64,
    pub amount_minor: i64,
}

/// A product's stock level in one store: the sum of every movement recorded there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub store: StoreId,
    pub product: ProductId,
    pub level_milli: i64,
}

/// A terminal as the dashboard shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalStatus {
    pub terminal: TerminalRecord,
    /// The last push or pull the fleet answered.
    pub last_seen: Option<Timestamp>,
    /// Changes for its store the terminal has not pulled yet.
    pub changes_waiting: u64,
    /// The software version it last reported to the update service, if it did.
    pub version: Option<String>,
}

/// A digital receipt the fleet could not send. The receipt service fills this list; until a
/// fleet sends receipts it is empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedReceipt {
    pub store: StoreId,
    pub device: Option<DeviceId>,
    pub receipt_number: String,
    pub channel: String,
    pub reason: String,
    pub attempts: u32,
    pub at: Timestamp,
}

/// A time range `[from, to)` in Unix milliseconds, on whole UTC hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub from: i64,
    pub to: i64,
}

impl Span {
    /// The whole UTC days the span touches, `[first day, day after the last)`.
    pub fn days(self) -> Span {
        Span {
            from: self.from.div_euclid(DAY_MS) * DAY_MS,
            to: (self.to + DAY_MS - 1).div_euclid(DAY_MS) * DAY_MS,
        }
    }

    /// Splits whole days into the leading days, the whole months, and the trailing days,
    /// so that product figures read monthly rows where a month is covered entirely.
    pub fn split_months(self) -> (Span, Span, Span) {
        let days = self.days();
        let mut first_month = month_of(Timestamp::from_unix_ms(days.from));
        if first_month < days.from {
            first_month = next_month(first_month);
        }
        let mut months_end = first_month;
        while next_month(months_end) <= days.to {
            months_end = next_month(months_end);
        }
        if months_end <= first_month || first_month >= days.to {
            let none = Span {
                from: days.to,
                to: days.to,
            };
            return (days, none, none);
        }
        (
            Span {
                from: days.from,
                to: first_month,
            },
            Span {
                from: first_month,
                to: months_end,
            },
            Span {
                from: months_end,
                to: days.to,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(date: &str) -> i64 {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = time::Date::parse(date, &format).unwrap();
        date.midnight().assume_utc().unix_timestamp() * 1_000
    }

    #[test]
    fn a_period_reads_whole_months_from_monthly_rows_and_the_edges_from_days() {
        let span = Span {
            from: ms("2026-01-15"),
            to: ms("2026-04-10"),
        };
        let (head, months, tail) = span.split_months();
        assert_eq!((head.from, head.to), (ms("2026-01-15"), ms("2026-02-01")));
        assert_eq!(
            (months.from, months.to),
            (ms("2026-02-01"), ms("2026-04-01"))
        );
        assert_eq!((tail.from, tail.to), (ms("2026-04-01"), ms("2026-04-10")));
    }

    #[test]
    fn a_period_inside_one_month_reads_only_days() {
        let span = Span {
            from: ms("2026-03-03"),
            to: ms("2026-03-20"),
        };
        let (head, months, tail) = span.split_months();
        assert_eq!((head.from, head.to), (ms("2026-03-03"), ms("2026-03-20")));
        assert_eq!(months.from, months.to);
        assert_eq!(tail.from, tail.to);
    }

    #[test]
    fn a_period_of_exactly_one_month_reads_the_monthly_row() {
        let span = Span {
            from: ms("2026-12-01"),
            to: ms("2027-01-01"),
        };
        let (head, months, tail) = span.split_months();
        assert_eq!(head.from, head.to);
        assert_eq!(
            (months.from, months.to),
            (ms("2026-12-01"), ms("2027-01-01"))
        );
        assert_eq!(tail.from, tail.to);
    }

    #[test]
    fn whole_utc_days_are_read_from_daily_rows_and_anything_finer_from_hourly_ones() {
        let days = Span {
            from: ms("2026-01-01"),
            to: ms("2027-01-01"),
        };
        assert_eq!(Grouping::Day.source(days, 0), ("dash_daily", "day"));
        assert_eq!(Grouping::Whole.source(days, 0), ("dash_daily", "day"));
        assert_eq!(
            Grouping::HourOfWeek.source(days, 0),
            ("dash_hourly", "hour")
        );
        assert_eq!(Grouping::Day.source(days, HOUR_MS), ("dash_hourly", "hour"));
        let hours = Span {
            from: ms("2026-01-01") + HOUR_MS,
            to: ms("2026-01-02"),
        };
        assert_eq!(Grouping::Whole.source(hours, 0), ("dash_hourly", "hour"));
    }

    #[test]
    fn amounts_become_minor_units_of_their_currency() {
        use pos_core::money::Currency;
        let eur = Money::from_minor(12_345, Currency::EUR);
        assert_eq!(minor_units(eur), 12_345);
        assert_eq!(thousandths(Quantity::pieces(3)), 3_000);
        assert_eq!(from_thousandths(1_500).to_string(), "1.5");
    }
}
