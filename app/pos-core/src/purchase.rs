//! Purchase orders to vendors and the goods received against them.
//!
//! An order goes draft → sent → partly received → received, or is cancelled before it is
//! complete. What arrives is a [`GoodsReceipt`]: per line the quantity, and the batch (lot and
//! expiry) when the goods carry one. A receipt against an order is checked with
//! [`PurchaseOrder::receive`], which shows what came short and what came over; more than was
//! ordered is only taken when the person receiving confirms it ([`OverDelivery::Accept`]).
//! Stock itself still moves by [`StockMovement`]s, which [`GoodsReceipt::movements`] makes.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::Product;
use crate::clock::Timestamp;
use crate::id::{
    GoodsReceiptId, MovementId, ProductId, PurchaseOrderId, Sku, StoreId, UserId, VendorId,
};
use crate::money::{Money, MoneyError};
use crate::quantity::Quantity;
use crate::stock::{Batch, MovementReason, StockMovement};

/// Lines on one order at most: a screen's worth, and a bound on the event's size.
pub const ORDER_LINES_MAX: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    Draft,
    Sent,
    PartlyReceived,
    Received,
    Cancelled,
}

impl OrderState {
    pub fn code(self) -> &'static str {
        match self {
            OrderState::Draft => "draft",
            OrderState::Sent => "sent",
            OrderState::PartlyReceived => "partly_received",
            OrderState::Received => "received",
            OrderState::Cancelled => "cancelled",
        }
    }

    /// Goods can still come in against the order.
    pub fn is_open(self) -> bool {
        matches!(self, OrderState::Sent | OrderState::PartlyReceived)
    }
}

/// One product on an order: how many, at what cost each, and how many have come so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product: ProductId,
    pub sku: Sku,
    pub name: String,
    pub ordered: Quantity,
    /// Cost of one unit, as agreed with the vendor.
    pub cost: Money,
    pub received: Quantity,
}

impl OrderLine {
    pub fn new(product: &Product, ordered: Quantity, cost: Money) -> OrderLine {
        OrderLine {
            product: product.id.clone(),
            sku: product.sku.clone(),
            name: product.display_name(),
            ordered,
            cost,
            received: Quantity::ZERO,
        }
    }

    /// Still to come (never below zero).
    pub fn outstanding(&self) -> Quantity {
        Quantity::of_unchecked((self.ordered - self.received).value().max(Decimal::ZERO))
    }

    /// Received beyond what was ordered (never below zero).
    pub fn over(&self) -> Quantity {
        Quantity::of_unchecked((self.received - self.ordered).value().max(Decimal::ZERO))
    }

    pub fn amount(&self) -> Money {
        self.cost.times(self.ordered.value())
    }
}

/// An order to one vendor (`None`: products without a vendor, ordered by hand).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrder {
    pub id: PurchaseOrderId,
    pub store: StoreId,
    pub vendor: Option<VendorId>,
    pub lines: Vec<OrderLine>,
    pub state: OrderState,
    pub created_at: Timestamp,
    pub created_by: UserId,
    pub updated_at: Timestamp,
}

/// Why an order or a receipt is refused, in words for the manager at the screen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PurchaseError {
    #[error("an order needs at least one product")]
    NoLines,
    #[error("an order has at most {ORDER_LINES_MAX} lines; split it in two")]
    TooManyLines,
    #[error("the quantity of {name} must be more than zero, not {quantity}")]
    QuantityNotPositive { name: String, quantity: Quantity },
    #[error("the cost of {name} cannot be negative ({cost})")]
    NegativeCost { name: String, cost: Money },
    #[error("the costs on one order must all be in one currency: {0}")]
    Currency(#[from] MoneyError),
    #[error("order {order} is {state} and can no longer be {action}")]
    WrongState {
        order: PurchaseOrderId,
        state: &'static str,
        action: &'static str,
    },
    #[error("order {0} is still a draft: send it to the vendor before receiving goods against it")]
    NotSent(PurchaseOrderId),
    #[error("order {0} was cancelled: nothing can be received against it")]
    Cancelled(PurchaseOrderId),
    #[error("{name} is not on order {order}; receive it without an order")]
    NotOnOrder {
        name: String,
        order: PurchaseOrderId,
    },
    #[error("a received quantity cannot be below zero ({name}: {quantity})")]
    NegativeReceipt { name: String, quantity: Quantity },
    #[error("nothing was received: type a quantity for at least one line")]
    NothingReceived,
    #[error(
        "more than ordered arrived: {}. Confirm the over-delivery to take it in",
        describe_over(.0)
    )]
    OverDelivery(Vec<(String, Quantity)>),
}

fn describe_over(lines: &[(String, Quantity)]) -> String {
    lines
        .iter()
        .map(|(name, over)| format!("{over} more {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the person receiving has confirmed taking in more than was ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverDelivery {
    Refuse,
    Accept,
}

/// What one line of a receipt did to its order line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineOutcome {
    pub product: ProductId,
    pub name: String,
    pub ordered: Quantity,
    pub received_now: Quantity,
    pub received_total: Quantity,
    /// Still to come after this receipt.
    pub short: Quantity,
    /// Beyond the order after this receipt.
    pub over: Quantity,
}

impl PurchaseOrder {
    /// A new draft. Lines for the same product are added together; each needs a quantity
    /// above zero and a cost of zero or more, all in one currency.
    pub fn draft(
        id: PurchaseOrderId,
        store: StoreId,
        vendor: Option<VendorId>,
        lines: Vec<OrderLine>,
        at: Timestamp,
        by: UserId,
    ) -> Result<PurchaseOrder, PurchaseError> {
        let lines = checked_lines(lines)?;
        Ok(PurchaseOrder {
            id,
            store,
            vendor,
            lines,
            state: OrderState::Draft,
            created_at: at,
            created_by: by,
            updated_at: at,
        })
    }

    /// Replaces the lines of a draft.
    pub fn edit(&mut self, lines: Vec<OrderLine>, at: Timestamp) -> Result<(), PurchaseError> {
        if self.state != OrderState::Draft {
            return Err(self.wrong_state("edited"));
        }
        self.lines = checked_lines(lines)?;
        self.updated_at = at;
        Ok(())
    }

    /// The draft goes to the vendor.
    pub fn send(&mut self, at: Timestamp) -> Result<(), PurchaseError> {
        if self.state != OrderState::Draft {
            return Err(self.wrong_state("sent"));
        }
        self.state = OrderState::Sent;
        self.updated_at = at;
        Ok(())
    }

    /// Nothing more is expected: a draft or sent order is dropped, a partly received one is
    /// closed short (what came stays in stock).
    pub fn cancel(&mut self, at: Timestamp) -> Result<(), PurchaseError> {
        if matches!(self.state, OrderState::Received | OrderState::Cancelled) {
            return Err(self.wrong_state("cancelled"));
        }
        self.state = OrderState::Cancelled;
        self.updated_at = at;
        Ok(())
    }

    /// Takes `received` (product, quantity; zero for a line that did not come) against the
    /// order. Returns the order as it now is and each line's outcome, or refuses and changes
    /// nothing.
    pub fn receive(
        &self,
        received: &[(ProductId, Quantity)],
        over_delivery: OverDelivery,
        at: Timestamp,
    ) -> Result<(PurchaseOrder, Vec<LineOutcome>), PurchaseError> {
        match self.state {
            OrderState::Draft => return Err(PurchaseError::NotSent(self.id.clone())),
            OrderState::Cancelled => return Err(PurchaseError::Cancelled(self.id.clone())),
            OrderState::Received => return Err(self.wrong_state("received against")),
            OrderState::Sent | OrderState::PartlyReceived => {}
        }
        let mut order = self.clone();
        let mut touched: Vec<usize> = Vec::new();
        for (product, quantity) in received {
            let index = order
                .lines
                .iter()
                .position(|l| &l.product == product)
                .ok_or_else(|| PurchaseError::NotOnOrder {
                    name: product.to_string(),
                    order: self.id.clone(),
                })?;
            let line = &mut order.lines[index];
            if quantity.is_negative() {
                return Err(PurchaseError::NegativeReceipt {
                    name: line.name.clone(),
                    quantity: *quantity,
                });
            }
            line.received += *quantity;
            if !quantity.is_zero() && !touched.contains(&index) {
                touched.push(index);
            }
        }
        if touched.is_empty() {
            return Err(PurchaseError::NothingReceived);
        }
        let over: Vec<(String, Quantity)> = touched
            .iter()
            .map(|&i| &order.lines[i])
            .filter(|l| l.over().value() > self_over(self, &l.product))
            .map(|l| (l.name.clone(), l.over()))
            .collect();
        if !over.is_empty() && over_delivery == OverDelivery::Refuse {
            return Err(PurchaseError::OverDelivery(over));
        }
        let outcomes = touched
            .iter()
            .map(|&i| {
                let line = &order.lines[i];
                let before = self.lines[i].received;
                LineOutcome {
                    product: line.product.clone(),
                    name: line.name.clone(),
                    ordered: line.ordered,
                    received_now: line.received - before,
                    received_total: line.received,
                    short: line.outstanding(),
                    over: line.over(),
                }
            })
            .collect();
        order.state = if order.lines.iter().all(|l| l.outstanding().is_zero()) {
            OrderState::Received
        } else {
            OrderState::PartlyReceived
        };
        order.updated_at = at;
        Ok((order, outcomes))
    }

    /// What the order is worth at its costs.
    pub fn total(&self) -> Result<Money, MoneyError> {
        let mut lines = self.lines.iter();
        let Some(first) = lines.next() else {
            return Ok(Money::zero(crate::money::Currency::EUR));
        };
        lines.try_fold(first.amount(), |sum, line| sum.checked_add(line.amount()))
    }

    fn wrong_state(&self, action: &'static str) -> PurchaseError {
        PurchaseError::WrongState {
            order: self.id.clone(),
            state: state_words(self.state),
            action,
        }
    }
}

/// Over-delivery already accepted on an earlier receipt is not asked about again.
fn self_over(order: &PurchaseOrder, product: &ProductId) -> Decimal {
    order
        .lines
        .iter()
        .find(|l| &l.product == product)
        .map_or(Decimal::ZERO, |l| l.over().value())
}

fn state_words(state: OrderState) -> &'static str {
    match state {
        OrderState::Draft => "a draft",
        OrderState::Sent => "sent",
        OrderState::PartlyReceived => "partly received",
        OrderState::Received => "fully received",
        OrderState::Cancelled => "cancelled",
    }
}

fn checked_lines(lines: Vec<OrderLine>) -> Result<Vec<OrderLine>, PurchaseError> {
    let mut merged: Vec<OrderLine> = Vec::with_capacity(lines.len());
    for line in lines {
        if line.ordered.value() <= Decimal::ZERO {
            return Err(PurchaseError::QuantityNotPositive {
                name: line.name,
                quantity: line.ordered,
            });
        }
        if line.cost.is_negative() {
            return Err(PurchaseError::NegativeCost {
                name: line.name,
                cost: line.cost,
            });
        }
        if let Some(first) = merged.first()
            && first.cost.currency() != line.cost.currency()
        {
            return Err(PurchaseError::Currency(MoneyError::CurrencyMismatch {
                left: first.cost.currency(),
                right: line.cost.currency(),
            }));
        }
        match merged.iter_mut().find(|l| l.product == line.product) {
            Some(existing) => existing.ordered += line.ordered,
            None => merged.push(line),
        }
    }
    if merged.is_empty() {
        return Err(PurchaseError::NoLines);
    }
    if merged.len() > ORDER_LINES_MAX {
        return Err(PurchaseError::TooManyLines);
    }
    Ok(merged)
}

/// The reorder report made into one set of lines per vendor: each product with what to
/// order, at its cost. Products with nothing to order are left out.
pub fn lines_by_vendor(
    reorder: &[(Product, Quantity)],
) -> BTreeMap<Option<VendorId>, Vec<OrderLine>> {
    let mut by_vendor: BTreeMap<Option<VendorId>, Vec<OrderLine>> = BTreeMap::new();
    for (product, quantity) in reorder {
        if quantity.value() <= Decimal::ZERO {
            continue;
        }
        by_vendor
            .entry(product.vendor.clone())
            .or_default()
            .push(OrderLine::new(product, *quantity, product.cost));
    }
    by_vendor
}

/// One product taken in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedLine {
    pub product: ProductId,
    pub quantity: Quantity,
    /// Lot and expiry when the goods carry them.
    pub batch: Option<Batch>,
    /// The stock movement that put it on the shelf.
    pub movement: MovementId,
}

/// A delivery taken into stock, with or without a purchase order: what the journal keeps so
/// every terminal and the fleet know each lot and its expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsReceipt {
    pub id: GoodsReceiptId,
    pub store: StoreId,
    pub order: Option<PurchaseOrderId>,
    /// The vendor's delivery note, when there is one.
    pub reference: Option<String>,
    pub lines: Vec<ReceivedLine>,
    pub at: Timestamp,
    pub by: UserId,
}

impl GoodsReceipt {
    /// The movements that put the receipt's goods on the shelf (lines of zero move nothing).
    pub fn movements(&self) -> Vec<StockMovement> {
        let reference = self
            .reference
            .clone()
            .or_else(|| self.order.as_ref().map(|o| o.to_string()));
        self.lines
            .iter()
            .filter(|l| !l.quantity.is_zero())
            .map(|line| StockMovement {
                id: line.movement.clone(),
                product: line.product.clone(),
                store: self.store.clone(),
                batch: line.batch.as_ref().map(|b| b.id.clone()),
                quantity: line.quantity,
                reason: MovementReason::GoodsReceipt {
                    reference: reference.clone(),
                },
                at: self.at,
                by: self.by.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use proptest::prelude::*;

    fn product(id: &str, vendor: Option<&str>) -> Product {
        let mut product = crate::demo::catalog()
            .unwrap()
            .products()
            .next()
            .cloned()
            .unwrap();
        product.id = ProductId::new(id);
        product.sku = Sku::new(id);
        product.name = format!("Product {id}");
        product.vendor = vendor.map(VendorId::new);
        product.cost = Money::from_minor(150, Currency::EUR);
        product
    }

    fn order(quantities: &[(&str, i64)]) -> PurchaseOrder {
        let lines = quantities
            .iter()
            .map(|(id, q)| {
                OrderLine::new(
                    &product(id, None),
                    Quantity::pieces(*q),
                    Money::from_minor(150, Currency::EUR),
                )
            })
            .collect();
        PurchaseOrder::draft(
            PurchaseOrderId::new("po1"),
            StoreId::new("berlin"),
            Some(VendorId::new("dairy")),
            lines,
            Timestamp::from_unix_ms(1),
            UserId::new("mia"),
        )
        .unwrap()
    }

    fn got(id: &str, q: i64) -> (ProductId, Quantity) {
        (ProductId::new(id), Quantity::pieces(q))
    }

    #[test]
    fn an_order_goes_from_draft_to_sent_to_partly_received_to_received() {
        let mut po = order(&[("milk", 10), ("eggs", 6)]);
        assert_eq!(
            po.receive(
                &[got("milk", 1)],
                OverDelivery::Refuse,
                Timestamp::from_unix_ms(2)
            ),
            Err(PurchaseError::NotSent(po.id.clone()))
        );
        po.send(Timestamp::from_unix_ms(2)).unwrap();
        assert!(po.send(Timestamp::from_unix_ms(2)).is_err());
        let (po, outcomes) = po
            .receive(
                &[got("milk", 4), got("eggs", 0)],
                OverDelivery::Refuse,
                Timestamp::from_unix_ms(3),
            )
            .unwrap();
        assert_eq!(po.state, OrderState::PartlyReceived);
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].short, Quantity::pieces(6));
        let (po, _) = po
            .receive(
                &[got("milk", 6), got("eggs", 6)],
                OverDelivery::Refuse,
                Timestamp::from_unix_ms(4),
            )
            .unwrap();
        assert_eq!(po.state, OrderState::Received);
        let message = po
            .receive(
                &[got("milk", 1)],
                OverDelivery::Accept,
                Timestamp::from_unix_ms(5),
            )
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "order po1 is fully received and can no longer be received against"
        );
    }

    #[test]
    fn over_delivery_needs_confirming_and_is_shown() {
        let mut po = order(&[("milk", 10)]);
        po.send(Timestamp::from_unix_ms(2)).unwrap();
        let refused = po
            .receive(
                &[got("milk", 12)],
                OverDelivery::Refuse,
                Timestamp::from_unix_ms(3),
            )
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "more than ordered arrived: 2 more Product milk. Confirm the over-delivery to take it in"
        );
        let (after, outcomes) = po
            .receive(
                &[got("milk", 12)],
                OverDelivery::Accept,
                Timestamp::from_unix_ms(3),
            )
            .unwrap();
        assert_eq!(after.state, OrderState::Received);
        assert_eq!(outcomes[0].over, Quantity::pieces(2));
        assert_eq!(outcomes[0].short, Quantity::ZERO);
    }

    #[test]
    fn bad_receipts_and_orders_are_refused_with_their_reason() {
        let mut po = order(&[("milk", 10)]);
        po.send(Timestamp::from_unix_ms(2)).unwrap();
        assert!(matches!(
            po.receive(
                &[got("milk", -1)],
                OverDelivery::Accept,
                Timestamp::from_unix_ms(3)
            ),
            Err(PurchaseError::NegativeReceipt { .. })
        ));
        assert_eq!(
            po.receive(
                &[got("milk", 0)],
                OverDelivery::Accept,
                Timestamp::from_unix_ms(3)
            ),
            Err(PurchaseError::NothingReceived)
        );
        assert!(matches!(
            po.receive(
                &[got("beer", 1)],
                OverDelivery::Accept,
                Timestamp::from_unix_ms(3)
            ),
            Err(PurchaseError::NotOnOrder { .. })
        ));
        po.cancel(Timestamp::from_unix_ms(4)).unwrap();
        assert_eq!(
            po.receive(
                &[got("milk", 1)],
                OverDelivery::Accept,
                Timestamp::from_unix_ms(5)
            )
            .unwrap_err()
            .to_string(),
            "order po1 was cancelled: nothing can be received against it"
        );
        assert!(po.cancel(Timestamp::from_unix_ms(6)).is_err());

        let negative = OrderLine::new(
            &product("milk", None),
            Quantity::pieces(-3),
            Money::from_minor(150, Currency::EUR),
        );
        assert!(matches!(
            PurchaseOrder::draft(
                PurchaseOrderId::new("po2"),
                StoreId::new("berlin"),
                None,
                vec![negative],
                Timestamp::from_unix_ms(1),
                UserId::new("mia"),
            ),
            Err(PurchaseError::QuantityNotPositive { .. })
        ));
        assert_eq!(
            PurchaseOrder::draft(
                PurchaseOrderId::new("po3"),
                StoreId::new("berlin"),
                None,
                Vec::new(),
                Timestamp::from_unix_ms(1),
                UserId::new("mia"),
            ),
            Err(PurchaseError::NoLines)
        );
    }

    #[test]
    fn the_reorder_report_becomes_one_set_of_lines_per_vendor() {
        let reorder = vec![
            (product("milk", Some("dairy")), Quantity::pieces(12)),
            (product("yoghurt", Some("dairy")), Quantity::pieces(6)),
            (product("bread", Some("bakery")), Quantity::pieces(0)),
            (product("soap", None), Quantity::pieces(3)),
        ];
        let by_vendor = lines_by_vendor(&reorder);
        assert_eq!(by_vendor.len(), 2);
        let dairy = &by_vendor[&Some(VendorId::new("dairy"))];
        assert_eq!(dairy.len(), 2);
        assert_eq!(dairy[0].ordered, Quantity::pieces(12));
        assert_eq!(by_vendor[&None][0].sku, Sku::new("soap"));
    }

    #[test]
    fn a_receipt_moves_stock_for_each_line_with_its_batch() {
        let receipt = GoodsReceipt {
            id: GoodsReceiptId::new("gr1"),
            store: StoreId::new("berlin"),
            order: Some(PurchaseOrderId::new("po1")),
            reference: None,
            lines: vec![
                ReceivedLine {
                    product: ProductId::new("milk"),
                    quantity: Quantity::pieces(4),
                    batch: Some(Batch {
                        id: crate::id::BatchId::new("b1"),
                        product: ProductId::new("milk"),
                        lot: "L7".to_owned(),
                        expiry: Some(time::macros::date!(2026 - 12 - 01)),
                    }),
                    movement: MovementId::new("mv1"),
                },
                ReceivedLine {
                    product: ProductId::new("eggs"),
                    quantity: Quantity::ZERO,
                    batch: None,
                    movement: MovementId::new("mv2"),
                },
            ],
            at: Timestamp::from_unix_ms(9),
            by: UserId::new("mia"),
        };
        let moves = receipt.movements();
        assert_eq!(moves.len(), 1);
        assert_eq!(moves[0].batch, Some(crate::id::BatchId::new("b1")));
        assert_eq!(
            moves[0].reason,
            MovementReason::GoodsReceipt {
                reference: Some("po1".to_owned())
            }
        );
    }

    proptest! {
        /// Whatever arrives in whatever pieces: received is the sum of the receipts, short
        /// plus received minus over is what was ordered, and the order is received exactly
        /// when nothing is short.
        #[test]
        fn receipts_add_up(ordered in 1i64..50, deliveries in proptest::collection::vec(0i64..20, 1..8)) {
            let mut po = order(&[("milk", ordered)]);
            po.send(Timestamp::from_unix_ms(2)).unwrap();
            let mut total = 0;
            for (n, delivered) in deliveries.iter().enumerate() {
                let at = Timestamp::from_unix_ms(3 + n as i64);
                match po.receive(&[got("milk", *delivered)], OverDelivery::Accept, at) {
                    Ok((next, outcomes)) => {
                        total += delivered;
                        let line = &next.lines[0];
                        prop_assert_eq!(line.received, Quantity::pieces(total));
                        prop_assert_eq!(
                            line.outstanding() + line.received - line.over(),
                            Quantity::pieces(ordered)
                        );
                        prop_assert_eq!(outcomes[0].short, line.outstanding());
                        prop_assert_eq!(
                            next.state == OrderState::Received,
                            line.outstanding().is_zero()
                        );
                        po = next;
                    }
                    Err(PurchaseError::NothingReceived) => prop_assert_eq!(*delivered, 0),
                    Err(other) => {
                        prop_assert_eq!(po.state, OrderState::Received, "{}", other);
                    }
                }
            }
        }
    }
}
