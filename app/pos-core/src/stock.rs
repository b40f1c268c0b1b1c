//! Stock as movements. A level is never stored as a number that can be overwritten: it is the
//! sum of movements (sales, refunds, receipts, adjustments, transfers, count corrections,
//! write-offs), so movements recorded on several terminals offline all count when they meet.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::clock::Timestamp;
use crate::id::{BatchId, MovementId, ProductId, RefundId, SaleId, StoreId, TransferId, UserId};
use crate::quantity::Quantity;
use crate::refund::Refund;
use crate::sale::Sale;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementReason {
    Sale(SaleId),
    Refund(RefundId),
    GoodsReceipt { reference: Option<String> },
    Adjustment { reason: String },
    TransferOut(TransferId),
    TransferIn(TransferId),
    CountCorrection,
    ExpiryWriteOff,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockMovement {
    pub id: MovementId,
    pub product: ProductId,
    pub store: StoreId,
    pub batch: Option<BatchId>,
    /// Positive in, negative out.
    pub quantity: Quantity,
    pub reason: MovementReason,
    pub at: Timestamp,
    pub by: UserId,
}

/// A batch (lot) of a product with its expiry date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub id: BatchId,
    pub product: ProductId,
    pub lot: String,
    pub expiry: Option<Date>,
}

/// Levels derived from movements.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StockLevels {
    by_batch: BTreeMap<(StoreId, ProductId, Option<BatchId>), Quantity>,
}

impl StockLevels {
    pub fn from_movements<'a>(
        movements: impl IntoIterator<Item = &'a StockMovement>,
    ) -> StockLevels {
        let mut levels = StockLevels::default();
        for movement in movements {
            levels.apply(movement);
        }
        levels
    }

    pub fn apply(&mut self, movement: &StockMovement) {
        *self
            .by_batch
            .entry((
                movement.store.clone(),
                movement.product.clone(),
                movement.batch.clone(),
            ))
            .or_insert(Quantity::ZERO) += movement.quantity;
    }

    /// The level of a product in a store, all batches together.
    pub fn level(&self, store: &StoreId, product: &ProductId) -> Quantity {
        self.by_batch
            .iter()
            .filter(|((s, p, _), _)| s == store && p == product)
            .map(|(_, q)| *q)
            .sum()
    }

    pub fn batch_level(&self, store: &StoreId, product: &ProductId, batch: &BatchId) -> Quantity {
        self.by_batch
            .get(&(store.clone(), product.clone(), Some(batch.clone())))
            .copied()
            .unwrap_or(Quantity::ZERO)
    }

    /// The batches of a product in a store that still hold stock.
    pub fn batches_in_stock(
        &self,
        store: &StoreId,
        product: &ProductId,
    ) -> Vec<(BatchId, Quantity)> {
        self.by_batch
            .iter()
            .filter_map(|((s, p, b), q)| match b {
                Some(batch) if s == store && p == product && q.value() > Decimal::ZERO => {
                    Some((batch.clone(), *q))
                }
                _ => None,
            })
            .collect()
    }
}

/// Picks `wanted` from batches, first expiry first out (batches without a date last, then by
/// id). Whatever no batch covers is returned unbatched (`None`), so a sale is never refused for
/// want of batch records.
pub fn pick_first_expiry(
    in_stock: &[(Batch, Quantity)],
    wanted: Quantity,
) -> Vec<(Option<BatchId>, Quantity)> {
    let mut ordered: Vec<&(Batch, Quantity)> = in_stock
        .iter()
        .filter(|(_, q)| q.value() > Decimal::ZERO)
        .collect();
    ordered.sort_by(|(a, _), (b, _)| match (a.expiry, b.expiry) {
        (Some(x), Some(y)) => x.cmp(&y).then(a.id.cmp(&b.id)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.id.cmp(&b.id),
    });
    let mut left = wanted.value();
    let mut picks = Vec::new();
    for (batch, available) in ordered {
        if left <= Decimal::ZERO {
            break;
        }
        let take = left.min(available.value());
        picks.push((Some(batch.id.clone()), Quantity::of_unchecked(take)));
        left -= take;
    }
    if left > Decimal::ZERO {
        picks.push((None, Quantity::of_unchecked(left)));
    }
    picks
}

/// The movements a completed sale makes: one out per line, split over batches by
/// `pick` (for example [`pick_first_expiry`] over the store's batches).
pub fn movements_for_sale(
    sale: &Sale,
    mut pick: impl FnMut(&ProductId, Quantity) -> Vec<(Option<BatchId>, Quantity)>,
    mut next_id: impl FnMut() -> MovementId,
) -> Vec<StockMovement> {
    let mut out = Vec::new();
    for line in &sale.lines {
        for (batch, quantity) in pick(&line.product.id, line.quantity) {
            out.push(StockMovement {
                id: next_id(),
                product: line.product.id.clone(),
                store: sale.store.clone(),
                batch,
                quantity: quantity.negate(),
                reason: MovementReason::Sale(sale.id.clone()),
                at: sale.at,
                by: sale.cashier.clone(),
            });
        }
    }
    out
}

/// The movements a refund makes: returned goods go back on the shelf unless the reason says
/// they cannot be sold (damaged, defective, expired).
pub fn movements_for_refund(
    refund: &Refund,
    mut next_id: impl FnMut() -> MovementId,
) -> Vec<StockMovement> {
    refund
        .lines
        .iter()
        .filter(|line| line.restock)
        .map(|line| StockMovement {
            id: next_id(),
            product: line.product.id.clone(),
            store: refund.store.clone(),
            batch: None,
            quantity: line.quantity,
            reason: MovementReason::Refund(refund.id.clone()),
            at: refund.at,
            by: refund.cashier.clone(),
        })
        .collect()
}

/// One counted item in a stock count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedItem {
    pub product: ProductId,
    pub batch: Option<BatchId>,
    pub counted: Quantity,
}

/// Expected against counted, before the count is posted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variance {
    pub product: ProductId,
    pub batch: Option<BatchId>,
    pub expected: Quantity,
    pub counted: Quantity,
    pub difference: Quantity,
}

/// The variance report of a (full or partial) count: only the items counted are compared.
pub fn count_variances(
    levels: &StockLevels,
    store: &StoreId,
    counted: &[CountedItem],
) -> Vec<Variance> {
    counted
        .iter()
        .map(|item| {
            let expected = match &item.batch {
                Some(batch) => levels.batch_level(store, &item.product, batch),
                None => levels.level(store, &item.product),
            };
            Variance {
                product: item.product.clone(),
                batch: item.batch.clone(),
                expected,
                counted: item.counted,
                difference: item.counted - expected,
            }
        })
        .collect()
}

/// Posts a count: one correction movement per item whose count differs from the books.
pub fn post_count(
    variances: &[Variance],
    store: &StoreId,
    by: &UserId,
    at: Timestamp,
    mut next_id: impl FnMut() -> MovementId,
) -> Vec<StockMovement> {
    variances
        .iter()
        .filter(|v| !v.difference.is_zero())
        .map(|v| StockMovement {
            id: next_id(),
            product: v.product.clone(),
            store: store.clone(),
            batch: v.batch.clone(),
            quantity: v.difference,
            reason: MovementReason::CountCorrection,
            at,
            by: by.clone(),
        })
        .collect()
}

/// True when a product's level is at or below its threshold.
pub fn is_low(level: Quantity, threshold: Option<Quantity>) -> bool {
    threshold.is_some_and(|t| level <= t)
}

/// How much to order so that stock covers `cover_days` of recent sales after the supplier's
/// lead time, and never ends below the low-stock threshold:
/// `max(0, threshold + daily_sales × (lead_days + cover_days) − level)`, rounded up to whole
/// units.
pub fn reorder_quantity(
    level: Quantity,
    threshold: Quantity,
    sold_recently: Quantity,
    recent_days: u32,
    lead_days: u32,
    cover_days: u32,
) -> Quantity {
    let daily = if recent_days == 0 {
        Decimal::ZERO
    } else {
        sold_recently.value() / Decimal::from(recent_days)
    };
    let target = threshold.value() + daily * Decimal::from(lead_days + cover_days);
    let order = (target - level.value()).ceil();
    Quantity::of_unchecked(order.max(Decimal::ZERO))
}

/// Batches expiring on or before `today + within_days` (already expired ones included), with
/// stock left, soonest first.
pub fn expiring(
    batches: &[(Batch, Quantity)],
    today: Date,
    within_days: i64,
) -> Vec<&(Batch, Quantity)> {
    let limit = today.saturating_add(time::Duration::days(within_days));
    let mut out: Vec<&(Batch, Quantity)> = batches
        .iter()
        .filter(|(b, q)| q.value() > Decimal::ZERO && b.expiry.is_some_and(|e| e <= limit))
        .collect();
    out.sort_by_key(|(b, _)| (b.expiry, b.id.clone()));
    out
}
