//! Domain events: every completed business action, as a serializable fact with who, where and
//! when. The store journals them in the same transaction as its tables; sync sends them up.
//!
//! Events are the wire and disk form of the domain, so their JSON shape is part of the
//! protocol: variants are tagged by a stable snake_case `type`.

use serde::{Deserialize, Serialize};

use crate::access::Override;
use crate::cart::Void;
use crate::catalog::Product;
use crate::clock::Timestamp;
use crate::held::HeldCart;
use crate::id::{DeviceId, EventId, HeldCartId, ProductId, SaleId, ShiftId, UserId};
use crate::loyalty::{Customer, PointsMovement, PointsReason};
use crate::money::Money;
use crate::refund::Refund;
use crate::sale::Sale;
use crate::shift::{CashMovement, Shift, ShiftReport};
use crate::stock::StockMovement;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrawerReason {
    Sale(SaleId),
    Refund(crate::id::RefundId),
    /// "No sale": opened on purpose, with a permission, and logged.
    NoSale,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum DomainEvent {
    SaleCompleted(Sale),
    RefundIssued(Refund),
    StockMoved(StockMovement),
    LinesVoided(Void),
    CartHeld(HeldCart),
    CartResumed {
        id: HeldCartId,
        device: DeviceId,
    },
    ShiftOpened(Shift),
    CashMoved {
        shift: ShiftId,
        movement: CashMovement,
    },
    ShiftClosed {
        shift: Shift,
        report: ShiftReport,
    },
    OverrideApproved(Override),
    ProductSaved(Product),
    PriceChanged {
        product: ProductId,
        old: Money,
        new: Money,
        effective_at: Timestamp,
    },
    CustomerSaved(Customer),
    PointsMoved(PointsMovement),
    DrawerOpened(DrawerReason),
}

impl DomainEvent {
    /// A stable name for logs, indexes and the sync protocol.
    pub fn kind(&self) -> &'static str {
        match self {
            DomainEvent::SaleCompleted(_) => "sale_completed",
            DomainEvent::RefundIssued(_) => "refund_issued",
            DomainEvent::StockMoved(_) => "stock_moved",
            DomainEvent::LinesVoided(_) => "lines_voided",
            DomainEvent::CartHeld(_) => "cart_held",
            DomainEvent::CartResumed { .. } => "cart_resumed",
            DomainEvent::ShiftOpened(_) => "shift_opened",
            DomainEvent::CashMoved { .. } => "cash_moved",
            DomainEvent::ShiftClosed { .. } => "shift_closed",
            DomainEvent::OverrideApproved(_) => "override_approved",
            DomainEvent::ProductSaved(_) => "product_saved",
            DomainEvent::PriceChanged { .. } => "price_changed",
            DomainEvent::CustomerSaved(_) => "customer_saved",
            DomainEvent::PointsMoved(_) => "points_moved",
            DomainEvent::DrawerOpened(_) => "drawer_opened",
        }
    }
}

/// An event with its identity: unique id, the device it happened on, who did it and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub id: EventId,
    pub device: DeviceId,
    pub actor: UserId,
    pub at: Timestamp,
    pub event: DomainEvent,
}

/// Everything a completed sale records: the sale, its stock movements, the loyalty points that
/// moved, the overrides that allowed its discounts, and the drawer opening for cash.
pub fn sale_events(sale: &Sale, movements: &[StockMovement]) -> Vec<DomainEvent> {
    let mut events = vec![DomainEvent::SaleCompleted(sale.clone())];
    events.extend(movements.iter().cloned().map(DomainEvent::StockMoved));
    if let Some(loyalty) = &sale.loyalty {
        let mut points = |points: i64, reason: PointsReason| {
            if points != 0 {
                events.push(DomainEvent::PointsMoved(PointsMovement {
                    customer: loyalty.customer.id.clone(),
                    points,
                    reason,
                    at: sale.at,
                }));
            }
        };
        points(loyalty.points_earned, PointsReason::Earned(sale.id.clone()));
        points(
            -loyalty.points_redeemed,
            PointsReason::Redeemed(sale.id.clone()),
        );
    }
    // A cart discount is spread over every line with the same approval: record each once.
    let mut approvals: Vec<&Override> = Vec::new();
    for approval in sale
        .lines
        .iter()
        .flat_map(|l| &l.discounts)
        .filter_map(|d| d.approval.as_ref())
    {
        if !approvals.contains(&approval) {
            approvals.push(approval);
        }
    }
    events.extend(
        approvals
            .into_iter()
            .cloned()
            .map(DomainEvent::OverrideApproved),
    );
    if sale.opens_drawer() {
        events.push(DomainEvent::DrawerOpened(DrawerReason::Sale(
            sale.id.clone(),
        )));
    }
    events
}

/// Everything a refund records: the refund, restocking movements and loyalty points.
pub fn refund_events(
    refund: &Refund,
    movements: &[StockMovement],
    customer: Option<&crate::id::CustomerId>,
) -> Vec<DomainEvent> {
    let mut events = vec![DomainEvent::RefundIssued(refund.clone())];
    if let Some(approval) = &refund.approval {
        events.push(DomainEvent::OverrideApproved(approval.clone()));
    }
    events.extend(movements.iter().cloned().map(DomainEvent::StockMoved));
    if let Some(customer) = customer {
        let net_points = refund.points_returned - refund.points_reversed;
        if net_points != 0 {
            events.push(DomainEvent::PointsMoved(PointsMovement {
                customer: customer.clone(),
                points: net_points,
                reason: PointsReason::Refund(refund.id.clone()),
                at: refund.at,
            }));
        }
    }
    if refund.tenders.iter().any(|t| t.kind.opens_drawer()) {
        events.push(DomainEvent::DrawerOpened(DrawerReason::Refund(
            refund.id.clone(),
        )));
    }
    events
}
