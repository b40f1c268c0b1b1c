//! Stock moved between two stores of a tenant: the receiving store requests goods, the
//! sending store sends them (its stock goes out, by lot, first expiry first), the receiving
//! store receives them (its stock comes in, with the same lots) and any difference between
//! what was sent and what arrived is kept on the transfer.
//!
//! Until it is sent, a request can be withdrawn by the store that made it ([`Transfer::cancel`])
//! or turned down, with a reason, by the store it asks ([`Transfer::refuse`]); nothing moves.
//!
//! A transfer is one record that only moves forward (requested → sent → received, or
//! requested → cancelled or refused); each step is journalled with the whole record, so
//! whichever store's terminal sees the steps in whatever order keeps the furthest one
//! ([`Transfer::newer_than`]).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::Product;
use crate::clock::Timestamp;
use crate::id::{BatchId, MovementId, ProductId, Sku, StoreId, TransferId, UserId};
use crate::quantity::Quantity;
use crate::stock::{Batch, MovementReason, StockMovement};

/// Lines on one transfer at most.
pub const TRANSFER_LINES_MAX: usize = 500;
/// The longest store id the fleet hands out or a person types.
pub const STORE_ID_LENGTH_MAX: usize = 64;
/// The longest reason a refusal carries.
pub const REASON_LENGTH_MAX: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferState {
    Requested,
    Sent,
    Received,
    /// Withdrawn by the store that asked, before anything was sent.
    Cancelled,
    /// Turned down by the store that was asked, before anything was sent.
    Refused,
}

impl TransferState {
    pub fn code(self) -> &'static str {
        match self {
            TransferState::Requested => "requested",
            TransferState::Sent => "sent",
            TransferState::Received => "received",
            TransferState::Cancelled => "cancelled",
            TransferState::Refused => "refused",
        }
    }

    /// Whether nothing more can happen to the transfer.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TransferState::Received | TransferState::Cancelled | TransferState::Refused
        )
    }

    /// How far along a step is, for two records of one transfer met in any order. A step
    /// that moved stock is further than one that ended the request, because the goods are on
    /// their way whatever the other store decided meanwhile; a refusal and a cancellation
    /// that cross end as refused, so both stores keep the same record.
    fn progress(self) -> u8 {
        match self {
            TransferState::Requested => 0,
            TransferState::Cancelled => 1,
            TransferState::Refused => 2,
            TransferState::Sent => 3,
            TransferState::Received => 4,
        }
    }
}

/// Part of a line sent from one lot (or from stock without a lot).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentLot {
    pub batch: Option<Batch>,
    pub quantity: Quantity,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferLine {
    pub product: ProductId,
    pub sku: Sku,
    pub name: String,
    pub requested: Quantity,
    pub sent: Vec<SentLot>,
    /// Counted in at the receiving store.
    pub received: Option<Quantity>,
}

impl TransferLine {
    pub fn sent_total(&self) -> Quantity {
        self.sent.iter().map(|l| l.quantity).sum()
    }

    /// Received minus sent: negative when goods went missing on the way.
    pub fn difference(&self) -> Option<Quantity> {
        self.received.map(|r| r - self.sent_total())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub id: TransferId,
    /// The store the goods leave.
    pub from: StoreId,
    /// The store the goods go to (the one that asked).
    pub to: StoreId,
    pub lines: Vec<TransferLine>,
    pub state: TransferState,
    pub requested_at: Timestamp,
    pub requested_by: UserId,
    pub sent_at: Option<Timestamp>,
    pub received_at: Option<Timestamp>,
    /// When the request was cancelled or refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    /// Why the store asked refused, in its words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    #[error("a store cannot transfer goods to itself ({0}); choose another store")]
    SameStore(StoreId),
    #[error("name the other store (its store id, as the fleet knows it)")]
    NoStore,
    #[error(
        "“{0}” is not a store id: type the other store's id as the fleet shows it, letters, digits and dashes only (for example str-4f2a9c01d3e5b677)"
    )]
    BadStoreId(String),
    #[error("a transfer needs at least one product")]
    NoLines,
    #[error("a transfer has at most {TRANSFER_LINES_MAX} lines; split it in two")]
    TooManyLines,
    #[error("the quantity of {name} must be more than zero, not {quantity}")]
    QuantityNotPositive { name: String, quantity: Quantity },
    #[error("a quantity cannot be below zero ({name}: {quantity})")]
    Negative { name: String, quantity: Quantity },
    #[error("{name} is not on transfer {transfer}")]
    NotOnTransfer { name: String, transfer: TransferId },
    #[error("transfer {transfer} is {state}: it cannot be {action} now")]
    WrongState {
        transfer: TransferId,
        state: &'static str,
        action: &'static str,
    },
    #[error("transfer {transfer} is for {to}; only that store can receive it")]
    NotOurs { transfer: TransferId, to: StoreId },
    #[error("transfer {transfer} is sent by {from}; only that store can send it")]
    NotSender { transfer: TransferId, from: StoreId },
    #[error("nothing would be sent: type a quantity for at least one line")]
    NothingSent,
    #[error("transfer {transfer} was asked for by {to}; only that store can cancel it")]
    NotRequester { transfer: TransferId, to: StoreId },
    #[error(
        "say why the transfer is refused, so the other store knows (for example: not in stock)"
    )]
    NoReason,
    #[error("the reason is too long; use at most {REASON_LENGTH_MAX} characters")]
    LongReason,
}

/// Checks a store id as a person typed it: what the fleet hands out is letters, digits and
/// dashes (`str-4f2a9c01d3e5b677`); anything else is a typing mistake that would send the
/// request nowhere.
pub fn check_store_id(typed: &str) -> Result<StoreId, TransferError> {
    let id = typed.trim();
    if id.is_empty() {
        return Err(TransferError::NoStore);
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if id.chars().count() > STORE_ID_LENGTH_MAX || !id.chars().all(allowed) {
        return Err(TransferError::BadStoreId(id.to_owned()));
    }
    Ok(StoreId::new(id))
}

impl Transfer {
    /// `to` asks `from` for goods.
    pub fn request(
        id: TransferId,
        from: StoreId,
        to: StoreId,
        wanted: &[(Product, Quantity)],
        at: Timestamp,
        by: UserId,
    ) -> Result<Transfer, TransferError> {
        let from = check_store_id(from.as_str())?;
        if from == to {
            return Err(TransferError::SameStore(to));
        }
        let mut lines: Vec<TransferLine> = Vec::new();
        for (product, quantity) in wanted {
            if quantity.value() <= Decimal::ZERO {
                return Err(TransferError::QuantityNotPositive {
                    name: product.display_name(),
                    quantity: *quantity,
                });
            }
            match lines.iter_mut().find(|l| l.product == product.id) {
                Some(line) => line.requested += *quantity,
                None => lines.push(TransferLine {
                    product: product.id.clone(),
                    sku: product.sku.clone(),
                    name: product.display_name(),
                    requested: *quantity,
                    sent: Vec::new(),
                    received: None,
                }),
            }
        }
        if lines.is_empty() {
            return Err(TransferError::NoLines);
        }
        if lines.len() > TRANSFER_LINES_MAX {
            return Err(TransferError::TooManyLines);
        }
        Ok(Transfer {
            id,
            from,
            to,
            lines,
            state: TransferState::Requested,
            requested_at: at,
            requested_by: by,
            sent_at: None,
            received_at: None,
            ended_at: None,
            reason: None,
        })
    }

    /// The store that asked withdraws its request before anything was sent.
    pub fn cancel(&mut self, ours: &StoreId, at: Timestamp) -> Result<(), TransferError> {
        if ours != &self.to {
            return Err(TransferError::NotRequester {
                transfer: self.id.clone(),
                to: self.to.clone(),
            });
        }
        if self.state != TransferState::Requested {
            return Err(self.wrong_state("cancelled"));
        }
        self.state = TransferState::Cancelled;
        self.ended_at = Some(at);
        Ok(())
    }

    /// The store asked turns the request down, saying why; nothing is sent.
    pub fn refuse(
        &mut self,
        ours: &StoreId,
        reason: &str,
        at: Timestamp,
    ) -> Result<(), TransferError> {
        if ours != &self.from {
            return Err(TransferError::NotSender {
                transfer: self.id.clone(),
                from: self.from.clone(),
            });
        }
        if self.state != TransferState::Requested {
            return Err(self.wrong_state("refused"));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(TransferError::NoReason);
        }
        if reason.chars().count() > REASON_LENGTH_MAX {
            return Err(TransferError::LongReason);
        }
        self.state = TransferState::Refused;
        self.ended_at = Some(at);
        self.reason = Some(reason.to_owned());
        Ok(())
    }

    /// The sending store sends: per product, the lots it takes the goods from (see
    /// [`crate::stock::pick_first_expiry`]). A product left out is not sent.
    pub fn send(
        &mut self,
        sender: &StoreId,
        sent: Vec<(ProductId, Vec<SentLot>)>,
        at: Timestamp,
    ) -> Result<(), TransferError> {
        if sender != &self.from {
            return Err(TransferError::NotSender {
                transfer: self.id.clone(),
                from: self.from.clone(),
            });
        }
        if self.state != TransferState::Requested {
            return Err(self.wrong_state("sent"));
        }
        let mut lines = self.lines.clone();
        for (product, lots) in sent {
            let line = lines
                .iter_mut()
                .find(|l| l.product == product)
                .ok_or_else(|| TransferError::NotOnTransfer {
                    name: product.to_string(),
                    transfer: self.id.clone(),
                })?;
            if let Some(lot) = lots.iter().find(|l| l.quantity.is_negative()) {
                return Err(TransferError::Negative {
                    name: line.name.clone(),
                    quantity: lot.quantity,
                });
            }
            line.sent = lots.into_iter().filter(|l| !l.quantity.is_zero()).collect();
        }
        if lines.iter().all(|l| l.sent.is_empty()) {
            return Err(TransferError::NothingSent);
        }
        self.lines = lines;
        self.state = TransferState::Sent;
        self.sent_at = Some(at);
        Ok(())
    }

    /// The receiving store counts what arrived, per product; a product left out arrived
    /// as sent.
    pub fn receive(
        &mut self,
        receiver: &StoreId,
        counted: &[(ProductId, Quantity)],
        at: Timestamp,
    ) -> Result<(), TransferError> {
        if receiver != &self.to {
            return Err(TransferError::NotOurs {
                transfer: self.id.clone(),
                to: self.to.clone(),
            });
        }
        if self.state != TransferState::Sent {
            return Err(self.wrong_state("received"));
        }
        let mut lines = self.lines.clone();
        for (product, quantity) in counted {
            let line = lines
                .iter_mut()
                .find(|l| &l.product == product)
                .ok_or_else(|| TransferError::NotOnTransfer {
                    name: product.to_string(),
                    transfer: self.id.clone(),
                })?;
            if quantity.is_negative() {
                return Err(TransferError::Negative {
                    name: line.name.clone(),
                    quantity: *quantity,
                });
            }
            line.received = Some(*quantity);
        }
        for line in &mut lines {
            if line.received.is_none() {
                line.received = Some(line.sent_total());
            }
        }
        self.lines = lines;
        self.state = TransferState::Received;
        self.received_at = Some(at);
        Ok(())
    }

    /// The stock that leaves the sending store: one movement per lot sent.
    pub fn out_movements(
        &self,
        by: &UserId,
        mut next_id: impl FnMut() -> MovementId,
    ) -> Vec<StockMovement> {
        let at = self.sent_at.unwrap_or(self.requested_at);
        self.lines
            .iter()
            .flat_map(|line| line.sent.iter().map(move |lot| (line, lot)))
            .map(|(line, lot)| StockMovement {
                id: next_id(),
                product: line.product.clone(),
                store: self.from.clone(),
                batch: lot.batch.as_ref().map(|b| b.id.clone()),
                quantity: lot.quantity.negate(),
                reason: MovementReason::TransferOut(self.id.clone()),
                at,
                by: by.clone(),
            })
            .collect()
    }

    /// The stock that arrives at the receiving store, in the lots it was sent from: what
    /// arrived fills the lots in the order they were sent; more than was sent goes to the
    /// last lot.
    pub fn in_movements(
        &self,
        by: &UserId,
        mut next_id: impl FnMut() -> MovementId,
    ) -> Vec<StockMovement> {
        let at = self.received_at.unwrap_or(self.requested_at);
        let mut out = Vec::new();
        for line in &self.lines {
            let received = line.received.unwrap_or(Quantity::ZERO);
            for (batch, quantity) in split_over_lots(&line.sent, received) {
                out.push(StockMovement {
                    id: next_id(),
                    product: line.product.clone(),
                    store: self.to.clone(),
                    batch,
                    quantity,
                    reason: MovementReason::TransferIn(self.id.clone()),
                    at,
                    by: by.clone(),
                });
            }
        }
        out
    }

    /// The lots this transfer carries, for the receiving store to know their expiry.
    pub fn batches(&self) -> impl Iterator<Item = &Batch> {
        self.lines
            .iter()
            .flat_map(|l| &l.sent)
            .filter_map(|l| l.batch.as_ref())
    }

    /// The store on the other end from `ours`.
    pub fn other_store(&self, ours: &StoreId) -> &StoreId {
        if ours == &self.from {
            &self.to
        } else {
            &self.from
        }
    }

    /// Whether this record is further along than `other` of the same transfer: steps only
    /// go forward, so the furthest wins whatever order they arrive in.
    pub fn newer_than(&self, other: &Transfer) -> bool {
        self.state.progress() > other.state.progress()
    }

    /// When the record last changed: its latest step.
    pub fn updated_at(&self) -> Timestamp {
        self.ended_at
            .or(self.received_at)
            .or(self.sent_at)
            .unwrap_or(self.requested_at)
    }

    fn wrong_state(&self, action: &'static str) -> TransferError {
        TransferError::WrongState {
            transfer: self.id.clone(),
            state: match self.state {
                TransferState::Requested => "only requested",
                TransferState::Sent => "already sent",
                TransferState::Received => "already received",
                TransferState::Cancelled => "cancelled",
                TransferState::Refused => "refused",
            },
            action,
        }
    }
}

/// `received` spread over the lots in the order they were sent, the rest on the last lot (or
/// unbatched when nothing was sent).
fn split_over_lots(sent: &[SentLot], received: Quantity) -> Vec<(Option<BatchId>, Quantity)> {
    let mut left = received.value();
    let mut out: Vec<(Option<BatchId>, Quantity)> = Vec::new();
    for lot in sent {
        if left <= Decimal::ZERO {
            break;
        }
        let take = left.min(lot.quantity.value());
        out.push((
            lot.batch.as_ref().map(|b| b.id.clone()),
            Quantity::of_unchecked(take),
        ));
        left -= take;
    }
    if left > Decimal::ZERO {
        match out.last_mut() {
            Some((_, quantity)) => *quantity += Quantity::of_unchecked(left),
            None => out.push((
                sent.last()
                    .and_then(|l| l.batch.as_ref().map(|b| b.id.clone())),
                Quantity::of_unchecked(left),
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn milk() -> Product {
        let mut product = crate::demo::catalog()
            .unwrap()
            .products()
            .next()
            .cloned()
            .unwrap();
        product.id = ProductId::new("milk");
        product.name = "Milk".to_owned();
        product
    }

    fn lot(id: &str, quantity: i64) -> SentLot {
        SentLot {
            batch: Some(Batch {
                id: BatchId::new(id),
                product: ProductId::new("milk"),
                lot: id.to_uppercase(),
                expiry: None,
            }),
            quantity: Quantity::pieces(quantity),
        }
    }

    fn requested(quantity: i64) -> Transfer {
        Transfer::request(
            TransferId::new("t1"),
            StoreId::new("berlin"),
            StoreId::new("hamburg"),
            &[(milk(), Quantity::pieces(quantity))],
            Timestamp::from_unix_ms(1),
            UserId::new("mia"),
        )
        .unwrap()
    }

    #[test]
    fn a_transfer_to_the_own_store_or_of_nothing_is_refused() {
        let own = Transfer::request(
            TransferId::new("t1"),
            StoreId::new("berlin"),
            StoreId::new("berlin"),
            &[(milk(), Quantity::pieces(1))],
            Timestamp::from_unix_ms(1),
            UserId::new("mia"),
        )
        .unwrap_err();
        assert_eq!(
            own.to_string(),
            "a store cannot transfer goods to itself (berlin); choose another store"
        );
        assert!(matches!(
            Transfer::request(
                TransferId::new("t1"),
                StoreId::new("berlin"),
                StoreId::new("hamburg"),
                &[(milk(), Quantity::pieces(-2))],
                Timestamp::from_unix_ms(1),
                UserId::new("mia"),
            ),
            Err(TransferError::QuantityNotPositive { .. })
        ));
    }

    #[test]
    fn stock_leaves_by_lot_and_arrives_in_the_same_lots_with_the_difference_kept() {
        let mut transfer = requested(10);
        let hamburg = StoreId::new("hamburg");
        let berlin = StoreId::new("berlin");
        assert!(matches!(
            transfer.send(&hamburg, vec![], Timestamp::from_unix_ms(2)),
            Err(TransferError::NotSender { .. })
        ));
        assert!(matches!(
            transfer.receive(&hamburg, &[], Timestamp::from_unix_ms(2)),
            Err(TransferError::WrongState { .. })
        ));
        transfer
            .send(
                &berlin,
                vec![(ProductId::new("milk"), vec![lot("a", 6), lot("b", 4)])],
                Timestamp::from_unix_ms(2),
            )
            .unwrap();
        let mut n = 0;
        let out = transfer.out_movements(&UserId::new("mia"), || {
            n += 1;
            MovementId::new(format!("m{n}"))
        });
        assert_eq!(out.len(), 2);
        assert!(
            out.iter()
                .all(|m| m.store == berlin && m.quantity.is_negative())
        );
        transfer
            .receive(
                &hamburg,
                &[(ProductId::new("milk"), Quantity::pieces(9))],
                Timestamp::from_unix_ms(3),
            )
            .unwrap();
        let into = transfer.in_movements(&UserId::new("tom"), || {
            n += 1;
            MovementId::new(format!("m{n}"))
        });
        let arrived: Vec<(Option<BatchId>, Quantity)> =
            into.iter().map(|m| (m.batch.clone(), m.quantity)).collect();
        assert_eq!(
            arrived,
            vec![
                (Some(BatchId::new("a")), Quantity::pieces(6)),
                (Some(BatchId::new("b")), Quantity::pieces(3)),
            ]
        );
        assert_eq!(transfer.lines[0].difference(), Some(Quantity::pieces(-1)));
        assert!(
            transfer
                .receive(&hamburg, &[], Timestamp::from_unix_ms(4))
                .is_err()
        );
    }

    #[test]
    fn a_request_is_cancelled_by_the_store_that_asked_and_refused_by_the_other_with_a_reason() {
        let (berlin, hamburg) = (StoreId::new("berlin"), StoreId::new("hamburg"));
        let at = Timestamp::from_unix_ms(5);

        let mut cancelled = requested(3);
        assert!(matches!(
            cancelled.cancel(&berlin, at),
            Err(TransferError::NotRequester { .. })
        ));
        cancelled.cancel(&hamburg, at).unwrap();
        assert_eq!(cancelled.state, TransferState::Cancelled);
        assert_eq!(cancelled.ended_at, Some(at));
        assert_eq!(
            cancelled
                .send(
                    &berlin,
                    vec![(ProductId::new("milk"), vec![lot("a", 3)])],
                    at
                )
                .unwrap_err()
                .to_string(),
            "transfer t1 is cancelled: it cannot be sent now"
        );

        let mut refused = requested(3);
        assert!(matches!(
            refused.refuse(&hamburg, "no", at),
            Err(TransferError::NotSender { .. })
        ));
        assert_eq!(
            refused.refuse(&berlin, "  ", at),
            Err(TransferError::NoReason)
        );
        refused.refuse(&berlin, " not in stock ", at).unwrap();
        assert_eq!(refused.state, TransferState::Refused);
        assert_eq!(refused.reason.as_deref(), Some("not in stock"));
        assert!(matches!(
            refused.cancel(&hamburg, at),
            Err(TransferError::WrongState { .. })
        ));
        assert!(
            refused
                .out_movements(&UserId::new("mia"), || unreachable!())
                .is_empty()
        );
    }

    #[test]
    fn both_stores_keep_the_same_record_whatever_order_crossing_steps_arrive_in() {
        let (berlin, hamburg) = (StoreId::new("berlin"), StoreId::new("hamburg"));
        let at = Timestamp::from_unix_ms(5);
        let mut cancelled = requested(3);
        cancelled.cancel(&hamburg, at).unwrap();
        let mut refused = requested(3);
        refused.refuse(&berlin, "not in stock", at).unwrap();
        let mut sent = requested(3);
        sent.send(
            &berlin,
            vec![(ProductId::new("milk"), vec![lot("a", 3)])],
            at,
        )
        .unwrap();
        // Crossing each other, a refusal wins over a cancellation, and goods already sent win
        // over either: they are on the way.
        assert!(refused.newer_than(&cancelled) && !cancelled.newer_than(&refused));
        assert!(sent.newer_than(&cancelled) && sent.newer_than(&refused));
        assert!(!cancelled.newer_than(&sent) && !refused.newer_than(&sent));
        assert!(cancelled.newer_than(&requested(3)));
    }

    #[test]
    fn a_typed_store_id_must_look_like_one() {
        assert_eq!(
            check_store_id(" str-4f2a9c01 ").unwrap(),
            StoreId::new("str-4f2a9c01")
        );
        assert_eq!(check_store_id(""), Err(TransferError::NoStore));
        for typo in ["ham burg", "hamburg/2", "Altona;", &"x".repeat(65)] {
            assert_eq!(
                check_store_id(typo),
                Err(TransferError::BadStoreId(typo.to_owned())),
                "{typo}"
            );
        }
        let message = check_store_id("ham burg").unwrap_err().to_string();
        assert!(
            message.starts_with("“ham burg” is not a store id"),
            "{message}"
        );
    }

    proptest! {
        /// What arrives is exactly what was counted, whatever the lots.
        #[test]
        fn arrivals_add_up_to_the_count(lots in proptest::collection::vec(0i64..30, 0..5), counted in 0i64..100) {
            let sent: Vec<SentLot> = lots.iter().enumerate().map(|(i, q)| lot(&format!("l{i}"), *q)).collect();
            let split = split_over_lots(&sent, Quantity::pieces(counted));
            let total: Quantity = split.iter().map(|(_, q)| *q).sum();
            prop_assert_eq!(total, Quantity::pieces(counted));
            prop_assert!(split.iter().all(|(_, q)| !q.is_negative()));
        }
    }
}
