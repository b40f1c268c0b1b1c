//! Stock moved between two stores of a tenant: the receiving store requests goods, the
//! sending store sends them (its stock goes out, by lot, first expiry first), the receiving
//! store receives them (its stock comes in, with the same lots) and any difference between
//! what was sent and what arrived is kept on the transfer.
//!
//! Until it is sent, a request can be withdrawn by the store that made it ([`Transfer::cancel`])
//! or turned down, with a reason, by the store it asks ([`Transfer::refuse`]); nothing moves.
//!
//! Goods that arrive damaged or wrong need not be taken: the receiving store accepts part of a
//! line into its stock and refuses the rest with a reason ([`Transfer::receive_with_returns`]).
//! The refused goods go back on the road; the sending store's stock gets them back only when it
//! books the return in ([`Transfer::book_return`]), counting what came back, because until then
//! they are on a van, not on its shelf. What neither store took in (lost on the way there or
//! back) stays on the record as a difference.
//!
//! A transfer is one record that only moves forward (requested → sent → received, or
//! requested → cancelled or refused, or sent → return sent → return received); each step is
//! journalled with the whole record, so whichever store's terminal sees the steps in whatever
//! order keeps the furthest one ([`Transfer::newer_than`]).

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
    /// Received with part of it refused: the refused goods are on their way back.
    ReturnSent,
    /// The sending store booked the refused goods back into its stock.
    ReturnReceived,
}

impl TransferState {
    pub fn code(self) -> &'static str {
        match self {
            TransferState::Requested => "requested",
            TransferState::Sent => "sent",
            TransferState::Received => "received",
            TransferState::Cancelled => "cancelled",
            TransferState::Refused => "refused",
            TransferState::ReturnSent => "return_sent",
            TransferState::ReturnReceived => "return_received",
        }
    }

    /// Whether nothing more can happen to the transfer.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TransferState::Received
                | TransferState::Cancelled
                | TransferState::Refused
                | TransferState::ReturnReceived
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
            // Only the receiving store receives, once: the two never cross.
            TransferState::Received | TransferState::ReturnSent => 4,
            TransferState::ReturnReceived => 5,
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
    /// Counted in at the receiving store and taken into its stock.
    pub received: Option<Quantity>,
    /// Refused on arrival and sent back to the sending store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<Quantity>,
    /// Why the receiving store refused them, in its words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal_reason: Option<String>,
    /// Counted back in at the sending store, from what was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned: Option<Quantity>,
}

impl TransferLine {
    pub fn sent_total(&self) -> Quantity {
        self.sent.iter().map(|l| l.quantity).sum()
    }

    /// What was refused on arrival; nothing when all was taken.
    pub fn refused_total(&self) -> Quantity {
        self.refused.unwrap_or(Quantity::ZERO)
    }

    /// What arrived (taken in and refused) minus what was sent: negative when goods went
    /// missing on the way.
    pub fn difference(&self) -> Option<Quantity> {
        self.received
            .map(|r| r + self.refused_total() - self.sent_total())
    }

    /// What came back minus what was refused: negative when goods went missing on the way
    /// back.
    pub fn return_difference(&self) -> Option<Quantity> {
        self.returned.map(|r| r - self.refused_total())
    }
}

/// What the receiving store counted of one line on arrival.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrival {
    pub product: ProductId,
    /// Taken into the receiving store's stock.
    pub accepted: Quantity,
    /// Refused (damaged, wrong goods) and sent back.
    pub refused: Quantity,
    /// Why, when anything is refused.
    pub reason: String,
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
    /// When the sending store booked the refused goods back in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_received_at: Option<Timestamp>,
    /// Why the store asked refused, in its words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    #[error("a store cannot transfer goods to itself ({0}); choose another store")]
    SameStore(StoreId),
    #[error("choose the store to ask for the goods")]
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
    #[error(
        "say why {name} is refused, so the sending store knows (for example: damaged, wrong goods)"
    )]
    NoRefusalReason { name: String },
    #[error("only {sent} of {name} were sent, so no more than that can be refused, not {refused}")]
    RefusedMoreThanSent {
        name: String,
        sent: Quantity,
        refused: Quantity,
    },
    #[error("nothing of {name} was refused, so nothing of it comes back")]
    NothingRefused { name: String },
    #[error("{name} appears twice; count each product once")]
    CountedTwice { name: String },
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
                    refused: None,
                    refusal_reason: None,
                    returned: None,
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
            return_received_at: None,
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

    /// The receiving store counts what arrived, per product, and takes it all in; a product
    /// left out arrived as sent.
    pub fn receive(
        &mut self,
        receiver: &StoreId,
        counted: &[(ProductId, Quantity)],
        at: Timestamp,
    ) -> Result<(), TransferError> {
        let arrivals: Vec<Arrival> = counted
            .iter()
            .map(|(product, quantity)| Arrival {
                product: product.clone(),
                accepted: *quantity,
                refused: Quantity::ZERO,
                reason: String::new(),
            })
            .collect();
        self.receive_with_returns(receiver, &arrivals, at)
    }

    /// The receiving store counts what arrived, per product: what it accepts goes into its
    /// stock ([`Transfer::in_movements`]), what it refuses (at most what was sent, with a
    /// reason) goes back to the sending store. A product left out arrived as sent and is
    /// accepted. With anything refused the transfer is [`TransferState::ReturnSent`], else
    /// [`TransferState::Received`].
    pub fn receive_with_returns(
        &mut self,
        receiver: &StoreId,
        arrivals: &[Arrival],
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
        for arrival in arrivals {
            let line = self.line_of(&mut lines, &arrival.product)?;
            if line.received.is_some() {
                return Err(TransferError::CountedTwice {
                    name: line.name.clone(),
                });
            }
            for quantity in [arrival.accepted, arrival.refused] {
                if quantity.is_negative() {
                    return Err(TransferError::Negative {
                        name: line.name.clone(),
                        quantity,
                    });
                }
            }
            if arrival.refused > line.sent_total() {
                return Err(TransferError::RefusedMoreThanSent {
                    name: line.name.clone(),
                    sent: line.sent_total(),
                    refused: arrival.refused,
                });
            }
            line.received = Some(arrival.accepted);
            if !arrival.refused.is_zero() {
                let reason = arrival.reason.trim();
                if reason.is_empty() {
                    return Err(TransferError::NoRefusalReason {
                        name: line.name.clone(),
                    });
                }
                if reason.chars().count() > REASON_LENGTH_MAX {
                    return Err(TransferError::LongReason);
                }
                line.refused = Some(arrival.refused);
                line.refusal_reason = Some(reason.to_owned());
            }
        }
        for line in &mut lines {
            if line.received.is_none() {
                line.received = Some(line.sent_total());
            }
        }
        let any_refused = lines.iter().any(|l| !l.refused_total().is_zero());
        self.lines = lines;
        self.state = if any_refused {
            TransferState::ReturnSent
        } else {
            TransferState::Received
        };
        self.received_at = Some(at);
        Ok(())
    }

    /// The sending store books in the goods the other store refused, counting what came back
    /// per product; a refused product left out came back whole. Its stock gets them back
    /// ([`Transfer::return_movements`]).
    pub fn book_return(
        &mut self,
        sender: &StoreId,
        counted: &[(ProductId, Quantity)],
        at: Timestamp,
    ) -> Result<(), TransferError> {
        if sender != &self.from {
            return Err(TransferError::NotSender {
                transfer: self.id.clone(),
                from: self.from.clone(),
            });
        }
        if self.state != TransferState::ReturnSent {
            return Err(self.wrong_state("booked back in"));
        }
        let mut lines = self.lines.clone();
        for (product, quantity) in counted {
            let line = self.line_of(&mut lines, product)?;
            if line.refused_total().is_zero() {
                return Err(TransferError::NothingRefused {
                    name: line.name.clone(),
                });
            }
            if line.returned.is_some() {
                return Err(TransferError::CountedTwice {
                    name: line.name.clone(),
                });
            }
            if quantity.is_negative() {
                return Err(TransferError::Negative {
                    name: line.name.clone(),
                    quantity: *quantity,
                });
            }
            line.returned = Some(*quantity);
        }
        for line in &mut lines {
            if line.returned.is_none() && !line.refused_total().is_zero() {
                line.returned = line.refused;
            }
        }
        self.lines = lines;
        self.state = TransferState::ReturnReceived;
        self.return_received_at = Some(at);
        Ok(())
    }

    fn line_of<'a>(
        &self,
        lines: &'a mut [TransferLine],
        product: &ProductId,
    ) -> Result<&'a mut TransferLine, TransferError> {
        lines
            .iter_mut()
            .find(|l| &l.product == product)
            .ok_or_else(|| TransferError::NotOnTransfer {
                name: product.to_string(),
                transfer: self.id.clone(),
            })
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

    /// The refused goods back into the sending store's stock, as counted when it booked them
    /// in. They go back to the lots they left from, the last sent first (the first lots are
    /// the ones the receiving store took). They move as `TransferIn` of this transfer at the
    /// sending store: the record tells a return from an arrival, and fleets that know no
    /// other reason take the movement as it is.
    pub fn return_movements(
        &self,
        by: &UserId,
        mut next_id: impl FnMut() -> MovementId,
    ) -> Vec<StockMovement> {
        let at = self.return_received_at.unwrap_or(self.requested_at);
        let mut out = Vec::new();
        for line in &self.lines {
            let returned = line.returned.unwrap_or(Quantity::ZERO);
            let last_first: Vec<SentLot> = line.sent.iter().rev().cloned().collect();
            for (batch, quantity) in split_over_lots(&last_first, returned) {
                out.push(StockMovement {
                    id: next_id(),
                    product: line.product.clone(),
                    store: self.from.clone(),
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
            .or(self.return_received_at)
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
                TransferState::ReturnSent => "already received, its return on the way",
                TransferState::ReturnReceived => "already returned",
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

    fn sent_in_two_lots() -> Transfer {
        let mut transfer = requested(10);
        transfer
            .send(
                &StoreId::new("berlin"),
                vec![(ProductId::new("milk"), vec![lot("a", 6), lot("b", 4)])],
                Timestamp::from_unix_ms(2),
            )
            .unwrap();
        transfer
    }

    fn arrival(accepted: i64, refused: i64, reason: &str) -> Arrival {
        Arrival {
            product: ProductId::new("milk"),
            accepted: Quantity::pieces(accepted),
            refused: Quantity::pieces(refused),
            reason: reason.to_owned(),
        }
    }

    fn ids() -> impl FnMut() -> MovementId {
        let mut n = 0;
        move || {
            n += 1;
            MovementId::new(format!("m{n}"))
        }
    }

    #[test]
    fn goods_refused_on_arrival_go_back_and_return_to_the_sending_stores_lots_when_booked_in() {
        let (berlin, hamburg) = (StoreId::new("berlin"), StoreId::new("hamburg"));
        let mut transfer = sent_in_two_lots();
        // Hamburg takes 7, refuses 2 broken ones; one never arrived.
        transfer
            .receive_with_returns(
                &hamburg,
                &[arrival(7, 2, " broken on the way ")],
                Timestamp::from_unix_ms(3),
            )
            .unwrap();
        assert_eq!(transfer.state, TransferState::ReturnSent);
        assert!(!transfer.state.is_finished());
        let line = &transfer.lines[0];
        assert_eq!(line.refusal_reason.as_deref(), Some("broken on the way"));
        assert_eq!(line.difference(), Some(Quantity::pieces(-1)));
        let into: Vec<Quantity> = transfer
            .in_movements(&UserId::new("tom"), ids())
            .iter()
            .map(|m| m.quantity)
            .collect();
        assert_eq!(into, [Quantity::pieces(6), Quantity::pieces(1)]);

        // Only Berlin books the return in; both refused pieces came back, into lot b.
        assert!(matches!(
            transfer.book_return(&hamburg, &[], Timestamp::from_unix_ms(4)),
            Err(TransferError::NotSender { .. })
        ));
        transfer
            .book_return(&berlin, &[], Timestamp::from_unix_ms(4))
            .unwrap();
        assert_eq!(transfer.state, TransferState::ReturnReceived);
        assert!(transfer.state.is_finished());
        assert_eq!(transfer.updated_at(), Timestamp::from_unix_ms(4));
        assert_eq!(transfer.lines[0].return_difference(), Some(Quantity::ZERO));
        let back = transfer.return_movements(&UserId::new("mia"), ids());
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].store, berlin);
        assert_eq!(back[0].batch, Some(BatchId::new("b")));
        assert_eq!(back[0].quantity, Quantity::pieces(2));
        assert_eq!(
            back[0].reason,
            MovementReason::TransferIn(TransferId::new("t1"))
        );
        assert_eq!(
            transfer
                .book_return(&berlin, &[], Timestamp::from_unix_ms(5))
                .unwrap_err()
                .to_string(),
            "transfer t1 is already returned: it cannot be booked back in now"
        );
    }

    #[test]
    fn a_refusal_needs_a_reason_and_cannot_exceed_what_was_sent() {
        let hamburg = StoreId::new("hamburg");
        let at = Timestamp::from_unix_ms(3);
        let mut transfer = sent_in_two_lots();
        for (arrivals, message) in [
            (
                vec![arrival(8, 2, "  ")],
                "say why Milk is refused, so the sending store knows (for example: damaged, wrong goods)",
            ),
            (
                vec![arrival(0, 11, "wrong goods")],
                "only 10 of Milk were sent, so no more than that can be refused, not 11",
            ),
            (
                vec![arrival(8, -1, "wrong goods")],
                "a quantity cannot be below zero (Milk: -1)",
            ),
            (
                vec![arrival(8, 2, &"x".repeat(201))],
                "the reason is too long; use at most 200 characters",
            ),
            (
                vec![arrival(8, 0, ""), arrival(1, 0, "")],
                "Milk appears twice; count each product once",
            ),
        ] {
            let error = transfer.receive_with_returns(&hamburg, &arrivals, at);
            assert_eq!(error.unwrap_err().to_string(), message);
            assert_eq!(transfer.state, TransferState::Sent, "{message}");
            assert_eq!(transfer.lines[0].received, None, "{message}");
        }
        // Nothing refused is an ordinary receipt.
        transfer
            .receive_with_returns(&hamburg, &[arrival(10, 0, "")], at)
            .unwrap();
        assert_eq!(transfer.state, TransferState::Received);
        assert_eq!(transfer.lines[0].refused, None);
        assert!(matches!(
            transfer.book_return(&StoreId::new("berlin"), &[], at),
            Err(TransferError::WrongState { .. })
        ));
    }

    #[test]
    fn a_return_short_on_the_way_back_is_counted_and_the_shortfall_kept() {
        let (berlin, hamburg) = (StoreId::new("berlin"), StoreId::new("hamburg"));
        let mut transfer = sent_in_two_lots();
        transfer
            .receive_with_returns(
                &hamburg,
                &[arrival(5, 5, "wrong size")],
                Timestamp::from_unix_ms(3),
            )
            .unwrap();
        let milk = ProductId::new("milk");
        assert_eq!(
            transfer
                .book_return(
                    &berlin,
                    &[(ProductId::new("tea"), Quantity::pieces(1))],
                    Timestamp::from_unix_ms(4)
                )
                .unwrap_err()
                .to_string(),
            "tea is not on transfer t1"
        );
        transfer
            .book_return(
                &berlin,
                &[(milk, Quantity::pieces(4))],
                Timestamp::from_unix_ms(4),
            )
            .unwrap();
        assert_eq!(
            transfer.lines[0].return_difference(),
            Some(Quantity::pieces(-1))
        );
        // Back from the last lot first: all 4 of lot b.
        let back: Vec<(Option<BatchId>, Quantity)> = transfer
            .return_movements(&UserId::new("mia"), ids())
            .into_iter()
            .map(|m| (m.batch, m.quantity))
            .collect();
        assert_eq!(back, [(Some(BatchId::new("b")), Quantity::pieces(4))]);
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

        /// Whatever is sent, accepted, refused and counted back: the sending store is down by
        /// what it sent less what came back, the receiving store up by what it accepted, and
        /// what neither holds is exactly the differences the record shows.
        #[test]
        fn stock_on_both_sides_adds_up_with_returns(
            lots in proptest::collection::vec(1i64..30, 1..4),
            accepted in 0i64..40,
            refused_share in 0u8..=100,
            back_share in 0u8..=100,
        ) {
            let (berlin, hamburg) = (StoreId::new("berlin"), StoreId::new("hamburg"));
            let sent_total: i64 = lots.iter().sum();
            let mut transfer = requested(sent_total);
            let sent: Vec<SentLot> = lots.iter().enumerate().map(|(i, q)| lot(&format!("l{i}"), *q)).collect();
            transfer.send(&berlin, vec![(ProductId::new("milk"), sent)], Timestamp::from_unix_ms(2)).unwrap();
            let refused = sent_total * i64::from(refused_share) / 100;
            transfer.receive_with_returns(&hamburg, &[arrival(accepted, refused, "damaged")], Timestamp::from_unix_ms(3)).unwrap();
            let mut movements = transfer.out_movements(&UserId::new("mia"), ids());
            movements.extend(transfer.in_movements(&UserId::new("tom"), ids()));
            if refused > 0 {
                let back = refused * i64::from(back_share) / 100;
                transfer.book_return(&berlin, &[(ProductId::new("milk"), Quantity::pieces(back))], Timestamp::from_unix_ms(4)).unwrap();
                movements.extend(transfer.return_movements(&UserId::new("mia"), ids()));
            }
            let level = |store: &StoreId| -> Quantity {
                movements.iter().filter(|m| &m.store == store).map(|m| m.quantity).sum()
            };
            let line = &transfer.lines[0];
            let returned = line.returned.unwrap_or(Quantity::ZERO);
            prop_assert_eq!(level(&berlin), returned - Quantity::pieces(sent_total));
            prop_assert_eq!(level(&hamburg), Quantity::pieces(accepted));
            prop_assert!(movements.iter().all(|m| !m.quantity.is_zero()));
            let lost = line.difference().unwrap() + line.return_difference().unwrap_or(Quantity::ZERO);
            prop_assert_eq!(level(&berlin) + level(&hamburg), lost);
        }
    }
}
