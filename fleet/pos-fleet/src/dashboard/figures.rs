//! The dashboard's figures, pure: the chosen period on the shop's clock, the branch overview
//! (today, the period, the period before, compared), the daily trend, the hourly heatmap, the
//! payment mix, the top products, and stock across stores with low-stock flags and transfer
//! suggestions. Rows from storage in, values for the pages and exports out; no IO, no clock.
//!
//! Amounts stay in one currency: a tenant whose stores sell in several currencies sees its
//! charts for one currency at a time (the one most of its stores use, unless it picks another).

use std::collections::BTreeMap;

use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::id::{ProductId, StoreId};
use pos_core::money::{Currency, Money};
use rust_decimal::Decimal;
use serde::Serialize;
use time::{Date, Duration};

use super::data::{DAY_MS, ProductSales, SalesBucket, Span, StockLevel, TenderSales};
use crate::storage::StoreRecord;

/// The longest period a page or export covers.
pub const PERIOD_DAYS_MAX: i64 = 731;

/// Whole days `from` to `to` inclusive, each store's own days: in a store at UTC+02:00 the
/// period starts at its midnight, two hours before a store on UTC starts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("`{0}` is not a date like 2026-03-31")]
    NotADate(String),
    #[error("the period starts on {from} but ends on {to}: choose a start on or before the end")]
    Backwards { from: Date, to: Date },
    #[error("the period is {days} days long; choose at most {PERIOD_DAYS_MAX} days")]
    TooLong { days: i64 },
}

pub fn parse_date(text: &str) -> Result<Date, PeriodError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format).map_err(|_| PeriodError::NotADate(text.to_owned()))
}

/// The start of `date` on a store's clock, as [`super::data::LocalMs`].
fn midnight_ms(date: Date) -> i64 {
    date.midnight().assume_utc().unix_timestamp() * 1_000
}

/// The date `now` falls on in the store.
pub fn store_date(now: Timestamp, store: &StoreRecord) -> Date {
    now.to_utc().to_offset(store.offset_at(now)).date()
}

/// The latest of the stores' dates at `now` (the date on UTC when there is no store): a
/// period ending then holds every store's today.
pub fn latest_date(now: Timestamp, stores: &[StoreRecord]) -> Date {
    stores
        .iter()
        .map(|store| store_date(now, store))
        .max()
        .unwrap_or_else(|| now.to_utc().date())
}

impl Period {
    pub fn new(from: Date, to: Date) -> Result<Period, PeriodError> {
        if from > to {
            return Err(PeriodError::Backwards { from, to });
        }
        let days = (to - from).whole_days() + 1;
        if days > PERIOD_DAYS_MAX {
            return Err(PeriodError::TooLong { days });
        }
        Ok(Period { from, to })
    }

    /// The last `days` days up to and including `today`.
    pub fn last_days(today: Date, days: i64) -> Period {
        Period {
            from: today - Duration::days(days.max(1) - 1),
            to: today,
        }
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).whole_days() + 1
    }

    /// The period of the same length that ends the day before this one starts.
    pub fn previous(&self) -> Period {
        let length = Duration::days(self.days());
        Period {
            from: self.from - length,
            to: self.to - length,
        }
    }

    /// The period on the stores' clocks.
    pub fn span(&self) -> Span {
        Span {
            from: midnight_ms(self.from),
            to: midnight_ms(self.to) + DAY_MS,
        }
    }

    /// The day number (days since 1970-01-01) of a date, as [`Grouping::Day`] buckets count.
    ///
    /// [`Grouping::Day`]: super::data::Grouping::Day
    pub fn day_number(date: Date) -> i64 {
        midnight_ms(date).div_euclid(DAY_MS)
    }

    pub fn describe(&self) -> String {
        if self.from == self.to {
            format!("{} (each store's own day)", self.from)
        } else {
            format!("{} to {} (each store's own days)", self.from, self.to)
        }
    }
}

/// The currency most of the stores sell in (the first store's when tied), if any store.
pub fn main_currency(stores: &[StoreRecord]) -> Option<Currency> {
    let mut counts: Vec<(Currency, usize)> = Vec::new();
    for store in stores {
        match counts.iter_mut().find(|(c, _)| *c == store.currency) {
            Some((_, n)) => *n += 1,
            None => counts.push((store.currency, 1)),
        }
    }
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(c, _)| c)
}

/// Sales count and amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Takings {
    pub sales: u64,
    pub total: Money,
}

impl Takings {
    fn zero(currency: Currency) -> Takings {
        Takings {
            sales: 0,
            total: Money::zero(currency),
        }
    }
}

/// One branch of the overview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BranchRow {
    pub store: StoreId,
    pub name: String,
    pub currency: Currency,
    pub today: Takings,
    pub period: Takings,
    pub previous: Takings,
    /// The period against the period before, in percent; none when there was nothing before.
    pub change_percent: Option<Decimal>,
    /// The branch's part of the period's takings of all branches in its currency, in percent.
    pub share_percent: Option<Decimal>,
    /// The average sale of the period.
    pub average_sale: Option<Money>,
}

fn takings(buckets: &[SalesBucket], store: &StoreId, currency: Currency) -> Takings {
    buckets
        .iter()
        .filter(|b| &b.store == store)
        .fold(Takings::zero(currency), |sum, b| Takings {
            sales: sum.sales + b.sales,
            total: Money::from_minor(
                super::data::minor_units(sum.total) + b.total_minor,
                currency,
            ),
        })
}

fn percent(part: Decimal, whole: Decimal) -> Option<Decimal> {
    if whole.is_zero() {
        None
    } else {
        Some((part * Decimal::ONE_HUNDRED / whole).round_dp(1))
    }
}

/// The branch overview: one row per store, from whole-span buckets of today, the period and
/// the period before.
pub fn overview(
    stores: &[StoreRecord],
    today: &[SalesBucket],
    period: &[SalesBucket],
    previous: &[SalesBucket],
) -> Vec<BranchRow> {
    let mut rows: Vec<BranchRow> = stores
        .iter()
        .map(|store| {
            let period = takings(period, &store.id, store.currency);
            let previous = takings(previous, &store.id, store.currency);
            let change_percent = percent(
                period.total.amount() - previous.total.amount(),
                previous.total.amount(),
            );
            let average_sale = (period.sales > 0).then(|| {
                Money::new(
                    period.total.amount() / Decimal::from(period.sales),
                    store.currency,
                )
                .round(pos_core::money::RoundingMode::HalfUp)
            });
            BranchRow {
                store: store.id.clone(),
                name: store.name.clone(),
                currency: store.currency,
                today: takings(today, &store.id, store.currency),
                period,
                previous,
                change_percent,
                share_percent: None,
                average_sale,
            }
        })
        .collect();
    let mut by_currency: BTreeMap<String, Decimal> = BTreeMap::new();
    for row in &rows {
        *by_currency
            .entry(row.currency.code().to_owned())
            .or_default() += row.period.total.amount();
    }
    for row in &mut rows {
        let whole = by_currency
            .get(row.currency.code())
            .copied()
            .unwrap_or_default();
        row.share_percent = percent(row.period.total.amount(), whole);
    }
    rows
}

/// Each store's sales of its own today, from day buckets over a span holding every store's
/// today (stores ahead of UTC may be on a later date than those behind).
pub fn todays(now: Timestamp, stores: &[StoreRecord], daily: &[SalesBucket]) -> Vec<SalesBucket> {
    stores
        .iter()
        .filter_map(|store| {
            let today = Period::day_number(store_date(now, store));
            daily
                .iter()
                .find(|b| b.store == store.id && b.bucket == today)
                .cloned()
        })
        .collect()
}

/// Buckets of any grouping added up per store, as one whole-span bucket each.
pub fn whole(buckets: &[SalesBucket]) -> Vec<SalesBucket> {
    let mut out: Vec<SalesBucket> = Vec::new();
    for bucket in buckets {
        match out.iter_mut().find(|b| b.store == bucket.store) {
            Some(sum) => {
                sum.sales += bucket.sales;
                sum.total_minor += bucket.total_minor;
            }
            None => out.push(SalesBucket {
                bucket: 0,
                ..bucket.clone()
            }),
        }
    }
    out
}

/// One day of the trend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrendDay {
    pub date: Date,
    pub sales: u64,
    pub total: Money,
}

/// The period's takings day by day over the stores selling in `currency` (days without a
/// sale are there, at zero).
pub fn trend(
    period: &Period,
    stores: &[StoreRecord],
    currency: Currency,
    daily: &[SalesBucket],
) -> Vec<TrendDay> {
    let counted: Vec<&StoreId> = stores
        .iter()
        .filter(|s| s.currency == currency)
        .map(|s| &s.id)
        .collect();
    let mut days = Vec::new();
    let mut date = period.from;
    while date <= period.to {
        let number = Period::day_number(date);
        let (sales, minor) = daily
            .iter()
            .filter(|b| b.bucket == number && counted.contains(&&b.store))
            .fold((0, 0), |(n, m), b| (n + b.sales, m + b.total_minor));
        days.push(TrendDay {
            date,
            sales,
            total: Money::from_minor(minor, currency),
        });
        match date.next_day() {
            Some(next) => date = next,
            None => break,
        }
    }
    days
}

/// Number of sales by weekday (Monday first) and hour of the day, over every store.
pub fn heatmap(hour_of_week: &[SalesBucket]) -> [[u64; 24]; 7] {
    let mut grid = [[0u64; 24]; 7];
    for bucket in hour_of_week {
        let (day, hour) = (bucket.bucket.div_euclid(24), bucket.bucket.rem_euclid(24));
        if let (Ok(day), Ok(hour)) = (usize::try_from(day), usize::try_from(hour))
            && let Some(cell) = grid.get_mut(day).and_then(|row| row.get_mut(hour))
        {
            *cell += bucket.sales;
        }
    }
    grid
}

/// One tender's part of the takings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TenderShare {
    pub tender: String,
    pub amount: Money,
    pub share_percent: Option<Decimal>,
}

pub fn payment_mix(
    stores: &[StoreRecord],
    currency: Currency,
    tenders: &[TenderSales],
) -> Vec<TenderShare> {
    let mut sums: BTreeMap<&str, i64> = BTreeMap::new();
    for row in tenders {
        if stores
            .iter()
            .any(|s| s.id == row.store && s.currency == currency)
        {
            *sums.entry(row.tender.as_str()).or_default() += row.amount_minor;
        }
    }
    let whole: i64 = sums.values().sum();
    let mut mix: Vec<TenderShare> = sums
        .into_iter()
        .map(|(tender, minor)| TenderShare {
            tender: tender.to_owned(),
            amount: Money::from_minor(minor, currency),
            share_percent: percent(Decimal::from(minor), Decimal::from(whole)),
        })
        .collect();
    mix.sort_by_key(|share| std::cmp::Reverse(share.amount.amount()));
    mix
}

/// A product's sales over the stores selling in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopProduct {
    pub product: ProductId,
    pub name: String,
    pub quantity: Decimal,
    pub amount: Money,
}

pub fn top_products(
    stores: &[StoreRecord],
    currency: Currency,
    sold: &[ProductSales],
    limit: usize,
) -> Vec<TopProduct> {
    let mut sums: BTreeMap<&ProductId, (&str, i64, i64)> = BTreeMap::new();
    for row in sold {
        if stores
            .iter()
            .any(|s| s.id == row.store && s.currency == currency)
        {
            let entry = sums.entry(&row.product).or_insert((&row.name, 0, 0));
            entry.1 += row.quantity_milli;
            entry.2 += row.amount_minor;
        }
    }
    let mut top: Vec<TopProduct> = sums
        .into_iter()
        .map(|(product, (name, quantity, amount))| TopProduct {
            product: product.clone(),
            name: name.to_owned(),
            quantity: super::data::from_thousandths(quantity),
            amount: Money::from_minor(amount, currency),
        })
        .collect();
    top.sort_by(|a, b| {
        b.amount
            .amount()
            .cmp(&a.amount.amount())
            .then_with(|| a.product.cmp(&b.product))
    });
    top.truncate(limit);
    top
}

/// A product's level in each store, with the stores where it is low.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StockRow {
    pub product: ProductId,
    pub name: String,
    pub threshold: Option<Decimal>,
    /// One level per store, in the order of the stores given.
    pub levels: Vec<Decimal>,
    pub low_in: Vec<StoreId>,
}

/// Move `quantity` of a product from one store to another, where it is low.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Transfer {
    pub product: ProductId,
    pub name: String,
    pub from: StoreId,
    pub to: StoreId,
    pub quantity: Decimal,
}

/// Stock across stores. A product is low in a store at or below its low-stock threshold. A
/// transfer is suggested from the store with the most to spare (above twice the threshold)
/// to a low store, of what brings the low store up to twice the threshold without taking the
/// giver below twice the threshold, in whole units.
pub fn stock(
    stores: &[StoreRecord],
    catalogue: &[Product],
    levels: &[StockLevel],
) -> (Vec<StockRow>, Vec<Transfer>) {
    let mut products: BTreeMap<&ProductId, Vec<i64>> = BTreeMap::new();
    for level in levels {
        if let Some(index) = stores.iter().position(|s| s.id == level.store) {
            let row = products
                .entry(&level.product)
                .or_insert_with(|| vec![0; stores.len()]);
            if let Some(cell) = row.get_mut(index) {
                *cell += level.level_milli;
            }
        }
    }
    let mut rows = Vec::new();
    let mut transfers = Vec::new();
    for (product, mut levels) in products {
        let as_they_are: Vec<Decimal> = levels
            .iter()
            .map(|l| super::data::from_thousandths(*l))
            .collect();
        let listed = catalogue.iter().find(|p| &p.id == product);
        let name = listed.map_or_else(|| product.to_string(), |p| p.name.clone());
        let threshold = listed
            .and_then(|p| p.low_stock_threshold)
            .map(super::data::thousandths);
        let low_in: Vec<StoreId> = match threshold {
            Some(t) => stores
                .iter()
                .zip(&levels)
                .filter(|(_, level)| **level <= t)
                .map(|(s, _)| s.id.clone())
                .collect(),
            None => Vec::new(),
        };
        if let Some(t) = threshold {
            let target = 2 * t;
            for (low_index, store) in stores.iter().enumerate() {
                let Some(&level) = levels.get(low_index) else {
                    continue;
                };
                if level > t {
                    continue;
                }
                let spare = |l: i64| (l - target).max(0);
                let giver = levels
                    .iter()
                    .enumerate()
                    .filter(|(i, l)| *i != low_index && spare(**l) >= 1_000)
                    .max_by_key(|(_, l)| spare(**l))
                    .map(|(i, _)| i);
                let Some(giver) = giver else { continue };
                let Some(&giver_level) = levels.get(giver) else {
                    continue;
                };
                let wanted = target - level;
                let moved = wanted.min(spare(giver_level)) / 1_000 * 1_000;
                if moved <= 0 {
                    continue;
                }
                if let Some(from) = stores.get(giver) {
                    transfers.push(Transfer {
                        product: product.clone(),
                        name: name.clone(),
                        from: from.id.clone(),
                        to: store.id.clone(),
                        quantity: super::data::from_thousandths(moved),
                    });
                }
                // Later suggestions see the levels after this transfer.
                if let Some(cell) = levels.get_mut(giver) {
                    *cell -= moved;
                }
                if let Some(cell) = levels.get_mut(low_index) {
                    *cell += moved;
                }
            }
        }
        rows.push(StockRow {
            product: product.clone(),
            name,
            threshold: threshold.map(super::data::from_thousandths),
            levels: as_they_are,
            low_in,
        });
    }
    (rows, transfers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(id: &str, currency: Currency) -> StoreRecord {
        StoreRecord {
            id: StoreId::new(id),
            tenant: pos_core::id::TenantId::new("t"),
            name: format!("Store {id}"),
            currency,
            utc_offset: time::UtcOffset::UTC,
            time_zone: None,
        }
    }

    fn bucket(store: &str, bucket: i64, sales: u64, minor: i64) -> SalesBucket {
        SalesBucket {
            store: StoreId::new(store),
            bucket,
            sales,
            total_minor: minor,
        }
    }

    #[test]
    fn branches_are_compared_with_the_period_before_and_with_each_other() {
        let stores = [store("a", Currency::EUR), store("b", Currency::EUR)];
        let rows = overview(
            &stores,
            &[bucket("a", 0, 2, 1_000)],
            &[bucket("a", 0, 10, 30_000), bucket("b", 0, 5, 10_000)],
            &[bucket("a", 0, 8, 20_000)],
        );
        assert_eq!(rows[0].today.total, Money::from_minor(1_000, Currency::EUR));
        assert_eq!(rows[0].change_percent, Some(Decimal::new(500, 1)));
        assert_eq!(rows[0].share_percent, Some(Decimal::new(750, 1)));
        assert_eq!(
            rows[0].average_sale,
            Some(Money::from_minor(3_000, Currency::EUR))
        );
        assert_eq!(rows[1].change_percent, None, "nothing sold before");
        assert_eq!(rows[1].today.sales, 0);
    }

    #[test]
    fn today_is_each_store_own_date() {
        // 2026-03-31 23:30 UTC: still the 31st on UTC, already 1 April at UTC+02:00.
        let now = Timestamp::from_unix_ms(
            Period::day_number(parse_date("2026-03-31").unwrap()) * DAY_MS
                + 23 * super::super::data::HOUR_MS
                + 30 * 60_000,
        );
        let mut berlin = store("b", Currency::EUR);
        berlin.utc_offset = time::UtcOffset::from_hms(2, 0, 0).unwrap();
        let london = store("l", Currency::EUR);
        let stores = [berlin, london];
        assert_eq!(latest_date(now, &stores), parse_date("2026-04-01").unwrap());
        let march_31 = Period::day_number(parse_date("2026-03-31").unwrap());
        let daily = [
            bucket("b", march_31, 1, 100),
            bucket("b", march_31 + 1, 2, 200),
            bucket("l", march_31, 3, 300),
            bucket("l", march_31 + 1, 4, 400),
        ];
        let today = todays(now, &stores, &daily);
        assert_eq!(today, vec![daily[1].clone(), daily[2].clone()]);
    }

    #[test]
    fn the_period_before_has_the_same_length_and_ends_the_day_before() {
        let period = Period::new(
            parse_date("2026-03-10").unwrap(),
            parse_date("2026-03-16").unwrap(),
        )
        .unwrap();
        let before = period.previous();
        assert_eq!(before.from, parse_date("2026-03-03").unwrap());
        assert_eq!(before.to, parse_date("2026-03-09").unwrap());
        assert_eq!(period.span().to - period.span().from, 7 * DAY_MS);
    }

    #[test]
    fn a_backwards_or_endless_period_is_refused_with_the_reason() {
        let from = parse_date("2026-03-10").unwrap();
        let to = parse_date("2026-03-01").unwrap();
        assert!(
            Period::new(from, to)
                .unwrap_err()
                .to_string()
                .contains("on or before the end")
        );
        let far = parse_date("2030-01-01").unwrap();
        assert!(matches!(
            Period::new(to, far),
            Err(PeriodError::TooLong { .. })
        ));
        assert_eq!(
            parse_date("31.03.2026").unwrap_err().to_string(),
            "`31.03.2026` is not a date like 2026-03-31"
        );
    }

    #[test]
    fn the_heatmap_puts_a_monday_morning_in_the_first_row() {
        // 2026-03-02 was a Monday; 09:00 on the store's clock.
        let monday_nine = Period::new(
            parse_date("2026-03-02").unwrap(),
            parse_date("2026-03-02").unwrap(),
        )
        .unwrap()
        .span()
        .from
            + 9 * super::super::data::HOUR_MS;
        let sql_bucket = (((monday_nine / DAY_MS) + 3) % 7) * 24 + (monday_nine / 3_600_000) % 24;
        let grid = heatmap(&[bucket("a", sql_bucket, 4, 0)]);
        assert_eq!(grid[0][9], 4);
    }

    #[test]
    fn a_low_store_gets_a_transfer_from_the_store_with_most_to_spare() {
        let stores = [
            store("a", Currency::EUR),
            store("b", Currency::EUR),
            store("c", Currency::EUR),
        ];
        let mut milk = pos_core::demo::catalog()
            .unwrap()
            .products()
            .next()
            .unwrap()
            .clone();
        milk.low_stock_threshold = Some(pos_core::quantity::Quantity::pieces(5));
        let level = |s: &str, n: i64| StockLevel {
            store: StoreId::new(s),
            product: milk.id.clone(),
            level_milli: n * 1_000,
        };
        let (rows, transfers) = stock(
            &stores,
            std::slice::from_ref(&milk),
            &[level("a", 2), level("b", 40), level("c", 12)],
        );
        assert_eq!(rows[0].low_in, vec![StoreId::new("a")]);
        assert_eq!(
            rows[0].levels,
            vec![Decimal::from(2), Decimal::from(40), Decimal::from(12)]
        );
        assert_eq!(transfers.len(), 1);
        assert_eq!(transfers[0].from, StoreId::new("b"));
        assert_eq!(transfers[0].to, StoreId::new("a"));
        assert_eq!(transfers[0].quantity, Decimal::from(8));
    }

    #[test]
    fn charts_add_up_only_the_stores_of_one_currency() {
        let stores = [store("a", Currency::EUR), store("b", Currency::USD)];
        let mix = payment_mix(
            &stores,
            Currency::EUR,
            &[
                TenderSales {
                    store: StoreId::new("a"),
                    tender: "cash".into(),
                    amount_minor: 2_500,
                },
                TenderSales {
                    store: StoreId::new("a"),
                    tender: "card".into(),
                    amount_minor: 7_500,
                },
                TenderSales {
                    store: StoreId::new("b"),
                    tender: "cash".into(),
                    amount_minor: 99_999,
                },
            ],
        );
        assert_eq!(mix[0].tender, "card");
        assert_eq!(mix[0].share_percent, Some(Decimal::new(750, 1)));
        assert_eq!(mix[1].amount, Money::from_minor(2_500, Currency::EUR));
        assert_eq!(main_currency(&stores), Some(Currency::EUR));
    }
}
