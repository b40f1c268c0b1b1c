//! What the dashboard reads from storage, and what a pushed sale adds to its figures.
//!
//! The dashboard never adds up journal payloads at request time: every sale is turned once,
//! as it is stored, into [`SaleFacts`] (pure) that the backends add to small summary tables
//! (per store and hour, per store and day, per store and month). A page over a year of
//! twenty stores then reads tens of thousands of summary rows, not millions of sales.
//!
//! Amounts are whole minor units of the store's currency (cents for EUR), quantities whole
//! thousandths, so that the databases add integers and nothing is rounded.
//!
//! Hours, days and months are the store's own, on its clock (its UTC offset, a store
//! setting): a sale at 23:30 UTC in a store at UTC+02:00 is counted on the next day, in the
//! hour from 01:00. They are kept as [`LocalMs`], the wall time read as if it were UTC, so one
//! span of dates selects each store's own days. When a store's clock changes, its rows are
//! counted again from its sales.

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

/// A time on a store's wall clock, as Unix milliseconds read as if the wall clock were UTC.
pub type LocalMs = i64;

/// A store's clock as stored: seconds east of UTC. Only offsets `time` accepts are ever
/// written, so another number (a hand-edited row) reads as UTC rather than failing a push.
pub fn store_clock(seconds: i32) -> time::UtcOffset {
    time::UtcOffset::from_whole_seconds(seconds).unwrap_or(time::UtcOffset::UTC)
}

/// `at` on the wall clock `offset` from UTC.
pub fn local_ms(at: Timestamp, offset: time::UtcOffset) -> LocalMs {
    at.unix_ms() + i64::from(offset.whole_seconds()) * 1_000
}

/// The start of the hour `at` falls in.
pub fn hour_of(at: LocalMs) -> LocalMs {
    at.div_euclid(HOUR_MS) * HOUR_MS
}

/// The start of the day `at` falls in.
pub fn day_of(at: LocalMs) -> LocalMs {
    at.div_euclid(DAY_MS) * DAY_MS
}

/// The start of the calendar month `at` falls in.
pub fn month_of(at: LocalMs) -> LocalMs {
    let date = Timestamp::from_unix_ms(at).to_utc().date();
    let first = date.replace_day(1).unwrap_or(date);
    first.midnight().assume_utc().unix_timestamp() * 1_000
}

/// The start of the month after the one starting at `month_ms`.
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
    /// The hour, day and month of the sale on its store's clock.
    pub hour: LocalMs,
    pub day: LocalMs,
    pub month: LocalMs,
    pub total_minor: i64,
    pub lines: Vec<LineFacts>,
    /// Tender name and the amount it paid of the sale (change given back is not counted).
    pub tenders: Vec<(&'static str, i64)>,
}

impl SaleFacts {
    /// The facts of `sale`, made in a store whose clock is `offset` from UTC.
    pub fn of(sale: &Sale, offset: time::UtcOffset) -> SaleFacts {
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
        let at = local_ms(sale.at, offset);
        SaleFacts {
            hour: hour_of(at),
            day: day_of(at),
            month: month_of(at),
            total_minor: minor_units(sale.total),
            lines,
            tenders,
        }
    }
}

/// How sales are added up: one bucket for the whole span, one per day of the shop's calendar,
/// or one per hour of the week (for the heatmap), each on the store's own clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    Whole,
    /// Buckets are days since 1970-01-01 on the shop's clock.
    Day,
    /// Buckets are `weekday × 24 + hour` on the shop's clock, Monday 0.
    HourOfWeek,
}

impl Grouping {
    /// The summary table and time column that serve this grouping over `span`: whole days
    /// come from the daily rows, anything else (hours of the week, part days) from the
    /// hourly rows.
    pub fn source(self, span: Span) -> (&'static str, &'static str) {
        let whole_days = span.from.rem_euclid(DAY_MS) == 0 && span.to.rem_euclid(DAY_MS) == 0;
        if whole_days && self != Grouping::HourOfWeek {
            ("dash_daily", "day")
        } else {
            ("dash_hourly", "hour")
        }
    }

    /// The bucket as SQL over the time column `column` ([`LocalMs`]); both backends share it
    /// (integer arithmetic on non-negative times).
    pub fn sql_over(self, column: &str) -> String {
        match self {
            Grouping::Whole => "CAST(0 AS BIGINT)".to_owned(),
            Grouping::Day => format!("({column} / {DAY_MS})"),
            // 1970-01-01 was a Thursday: day 0 is weekday 3 counted from Monday.
            Grouping::HourOfWeek => {
                format!("((({column} / {DAY_MS}) + 3) % 7) * 24 + ({column} / {HOUR_MS}) % 24")
            }
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

/// A time range `[from, to)` on the stores' own clocks ([`LocalMs`]), on whole hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub from: LocalMs,
    pub to: LocalMs,
}

impl Span {
    /// The whole days the span touches, `[first day, day after the last)`.
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
        let mut first_month = month_of(days.from);
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
    fn whole_days_are_read_from_daily_rows_and_anything_finer_from_hourly_ones() {
        let days = Span {
            from: ms("2026-01-01"),
            to: ms("2027-01-01"),
        };
        assert_eq!(Grouping::Day.source(days), ("dash_daily", "day"));
        assert_eq!(Grouping::Whole.source(days), ("dash_daily", "day"));
        assert_eq!(Grouping::HourOfWeek.source(days), ("dash_hourly", "hour"));
        let hours = Span {
            from: ms("2026-01-01") + HOUR_MS,
            to: ms("2026-01-02"),
        };
        assert_eq!(Grouping::Whole.source(hours), ("dash_hourly", "hour"));
    }

    #[test]
    fn a_sale_late_in_the_utc_evening_is_the_next_morning_on_a_clock_ahead_of_utc() {
        let at = Timestamp::from_unix_ms(ms("2026-03-31") + 23 * HOUR_MS + 30 * 60_000);
        let berlin_summer = time::UtcOffset::from_hms(2, 0, 0).unwrap();
        let local = local_ms(at, berlin_summer);
        assert_eq!(day_of(local), ms("2026-04-01"));
        assert_eq!(hour_of(local), ms("2026-04-01") + HOUR_MS);
        assert_eq!(month_of(local), ms("2026-04-01"));
        let utc = local_ms(at, time::UtcOffset::UTC);
        assert_eq!(day_of(utc), ms("2026-03-31"));
        assert_eq!(month_of(utc), ms("2026-03-01"));
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
