//! Domain events: every completed business action, as a serializable fact with who, where and
//! when. The store journals them in the same transaction as its tables; sync sends them up.
//!
//! Events are the wire and disk form of the domain, so their JSON shape is part of the
//! protocol: variants are tagged by a stable snake_case `type`.

use serde::{Deserialize, Serialize};

use crate::access::{Override, Role, User};
use crate::cart::Void;
use crate::catalog::Product;
use crate::clock::Timestamp;
use crate::held::HeldCart;
use crate::id::{
    DeviceId, EventId, HeldCartId, LabelLayoutId, ProductId, ReceiptNumber, SaleId, ShiftId, UserId,
};
use crate::loyalty::{Customer, LoyaltyProgram, PointsMovement, PointsReason};
use crate::money::Money;
use crate::purchase::{GoodsReceipt, PurchaseOrder};
use crate::refund::Refund;
use crate::sale::Sale;
use crate::shift::{CashMovement, Shift, ShiftReport};
use crate::stock::StockMovement;
use crate::tenant::Store;
use crate::transfer::Transfer;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrawerReason {
    Sale(SaleId),
    Refund(crate::id::RefundId),
    /// "No sale": opened on purpose, with a permission, and logged.
    NoSale,
}

/// Where a customer asked for their receipt to be sent. The fleet sends it once the event has
/// synced, so asking works offline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptDestination {
    Email(String),
    /// A phone number in international form, "+4915112345678".
    Sms(String),
}

/// Why an address typed at the till cannot take a receipt.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    #[error("“{0}” is not an email address; check it with the customer (name@example.com)")]
    NotAnEmail(String),
    #[error(
        "“{0}” is not a mobile number; type it with the country code, for example +49 151 1234567"
    )]
    NotAPhoneNumber(String),
}

/// Longest address or number accepted: more is a typing accident, and fits no receipt.
pub const DESTINATION_CHARS_MAX: usize = 254;

impl ReceiptDestination {
    /// An email address as the cashier typed it, trimmed. Checks the shape a typo breaks
    /// (one `@`, a dot in the domain, no spaces), not deliverability.
    pub fn email(text: &str) -> Result<ReceiptDestination, DestinationError> {
        let address = text.trim();
        let refused = || DestinationError::NotAnEmail(address.to_owned());
        let (local, domain) = address.split_once('@').ok_or_else(refused)?;
        let well_formed = !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && address.chars().count() <= DESTINATION_CHARS_MAX
            && !address.chars().any(char::is_whitespace);
        if well_formed {
            Ok(ReceiptDestination::Email(address.to_owned()))
        } else {
            Err(refused())
        }
    }

    /// A mobile number as the cashier typed it: spaces, dashes and brackets are dropped; it
    /// must start with `+` and a country code and have 8 to 15 digits (ITU E.164).
    pub fn sms(text: &str) -> Result<ReceiptDestination, DestinationError> {
        let refused = || DestinationError::NotAPhoneNumber(text.trim().to_owned());
        let compact: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '/'))
            .collect();
        let digits = compact.strip_prefix('+').ok_or_else(refused)?;
        let well_formed = (8..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0');
        if well_formed {
            Ok(ReceiptDestination::Sms(compact))
        } else {
            Err(refused())
        }
    }
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
    /// The customer asked for the receipt of `sale` by email or text message.
    ReceiptRequested {
        sale: SaleId,
        receipt: ReceiptNumber,
        destination: ReceiptDestination,
    },
    /// A role and everything it grants, as it now is.
    RoleSaved(Role),
    /// A person added, renamed, given another role, or retired.
    UserSaved(User),
    /// A person's PIN replaced. Only the argon2id hash travels, never the PIN.
    PinReset {
        user: UserId,
        pin_hash: String,
    },
    /// The loyalty program: tiers, their bars and earn rates, what a point is worth.
    LoyaltyProgramSaved(LoyaltyProgram),
    /// A label layout made, changed or renamed in the back office. `layout` is the label
    /// driver's JSON document (size, resolution, elements), kept as written: the core knows
    /// nothing of printers.
    LabelLayoutSaved {
        id: LabelLayoutId,
        name: String,
        layout: String,
    },
    /// A label layout removed from the back office's list.
    LabelLayoutDeleted {
        id: LabelLayoutId,
    },
    /// A purchase order as it now is (drafted, edited, sent, received against, cancelled).
    PurchaseOrderSaved(PurchaseOrder),
    /// Goods taken in, with each line's lot and expiry. The stock itself moves by the
    /// `stock_moved` events recorded with it.
    GoodsReceived(GoodsReceipt),
    /// A store asked another for goods. The fleet passes the transfer to the other store.
    TransferRequested(Transfer),
    /// The sending store sent them (its stock went out by `stock_moved`).
    TransferSent(Transfer),
    /// The receiving store took them in, with any difference to what was sent.
    TransferReceived(Transfer),
    /// The store that asked withdrew its request before anything was sent.
    TransferCancelled(Transfer),
    /// The store asked turned the request down, with its reason; nothing was sent.
    TransferRefused(Transfer),
    /// The receiving store took in part of what was sent (its stock came in by
    /// `stock_moved`) and refused the rest, with a reason per line: it goes back.
    TransferReturnSent(Transfer),
    /// The sending store booked the refused goods back in (its stock came back by
    /// `stock_moved`).
    TransferReturnReceived(Transfer),
    /// The store's settings as they now are: details, currency, taxes, rounding, receipt
    /// text, discount limits and feature switches.
    StoreSettingsSaved(Store),
}

impl DomainEvent {
    /// The transfer a transfer step carries.
    pub fn transfer(&self) -> Option<&Transfer> {
        match self {
            DomainEvent::TransferRequested(t)
            | DomainEvent::TransferSent(t)
            | DomainEvent::TransferReceived(t)
            | DomainEvent::TransferCancelled(t)
            | DomainEvent::TransferRefused(t)
            | DomainEvent::TransferReturnSent(t)
            | DomainEvent::TransferReturnReceived(t) => Some(t),
            _ => None,
        }
    }

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
            DomainEvent::ReceiptRequested { .. } => "receipt_requested",
            DomainEvent::RoleSaved(_) => "role_saved",
            DomainEvent::UserSaved(_) => "user_saved",
            DomainEvent::PinReset { .. } => "pin_reset",
            DomainEvent::LoyaltyProgramSaved(_) => "loyalty_program_saved",
            DomainEvent::LabelLayoutSaved { .. } => "label_layout_saved",
            DomainEvent::LabelLayoutDeleted { .. } => "label_layout_deleted",
            DomainEvent::PurchaseOrderSaved(_) => "purchase_order_saved",
            DomainEvent::GoodsReceived(_) => "goods_received",
            DomainEvent::TransferRequested(_) => "transfer_requested",
            DomainEvent::TransferSent(_) => "transfer_sent",
            DomainEvent::TransferReceived(_) => "transfer_received",
            DomainEvent::TransferCancelled(_) => "transfer_cancelled",
            DomainEvent::TransferRefused(_) => "transfer_refused",
            DomainEvent::TransferReturnSent(_) => "transfer_return_sent",
            DomainEvent::TransferReturnReceived(_) => "transfer_return_received",
            DomainEvent::StoreSettingsSaved(_) => "store_settings_saved",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_destinations_take_what_customers_dictate_and_refuse_typos() {
        assert_eq!(
            ReceiptDestination::email("  anna.schmidt@example.de "),
            Ok(ReceiptDestination::Email(
                "anna.schmidt@example.de".to_owned()
            ))
        );
        for typo in [
            "anna.schmidt",
            "anna@example",
            "anna@@example.de",
            "an na@example.de",
            "@example.de",
            "anna@example.",
        ] {
            assert_eq!(
                ReceiptDestination::email(typo),
                Err(DestinationError::NotAnEmail(typo.to_owned())),
                "{typo}"
            );
        }
        assert_eq!(
            ReceiptDestination::sms("+49 (151) 123-4567"),
            Ok(ReceiptDestination::Sms("+491511234567".to_owned()))
        );
        for typo in [
            "0151 1234567",
            "+49 151",
            "+49 151 12345678901234",
            "+49 151 1234x567",
        ] {
            assert!(ReceiptDestination::sms(typo).is_err(), "{typo}");
        }
        let message = ReceiptDestination::sms("0151 1234567")
            .unwrap_err()
            .to_string();
        assert!(message.contains("country code"), "{message}");
    }

    #[test]
    fn a_receipt_request_keeps_its_wire_shape() {
        let event = DomainEvent::ReceiptRequested {
            sale: SaleId::new("S1"),
            receipt: ReceiptNumber::new("T1-000042"),
            destination: ReceiptDestination::Email("anna@example.de".to_owned()),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "receipt_requested",
                "data": {
                    "sale": "S1",
                    "receipt": "T1-000042",
                    "destination": { "email": "anna@example.de" }
                }
            })
        );
        assert_eq!(event.kind(), "receipt_requested");
        assert_eq!(serde_json::from_value::<DomainEvent>(json).unwrap(), event);
    }
}
