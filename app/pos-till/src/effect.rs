//! What the till asks of the hardware and services around it: print a document, open the cash
//! drawer, email a receipt. The till never does these itself; it queues them as [`Effect`]s and
//! the terminal takes them with [`crate::Till::take_effects`] after each intent and hands each
//! to its driver (the print queue, the drawer, the sync outbox for email).
//!
//! Owns the effect values and the bounded queue; must not touch a driver, a file or the clock.

use std::collections::VecDeque;

use pos_core::id::SaleId;
use pos_core::receipt::Document;

/// Effects kept before the oldest is dropped. The terminal drains the queue after every
/// intent, so a full queue means nobody is draining it; the bound keeps memory flat.
pub const EFFECTS_MAX: usize = 64;

/// What a printed document is for, so the terminal can log it and a print queue can name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrintPurpose {
    /// The customer's receipt of a sale just completed.
    Receipt,
    /// A receipt without prices, for a present.
    GiftReceipt,
    /// A receipt printed again later, marked as a copy.
    Copy,
    /// The X report: the shift's figures so far.
    XReport,
    /// The Z report: the shift's figures at close, with the count.
    ZReport,
    /// The customer's copy of a refund.
    Refund,
}

/// One request to the world outside the till.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Print `document` on the receipt printer.
    Print {
        document: Document,
        purpose: PrintPurpose,
    },
    /// Open the cash drawer (a cash tender, a cash movement, or a permitted "no sale").
    OpenDrawer,
    /// Send the receipt of `sale` to `address`. The terminal puts it in the outbox the fleet
    /// delivers from, so it works offline and goes out once the till is back online.
    EmailReceipt { sale: SaleId, address: String },
}

/// Effects waiting for the terminal, oldest first, at most [`EFFECTS_MAX`].
#[derive(Debug, Default)]
pub struct EffectQueue {
    waiting: VecDeque<Effect>,
    dropped: u64,
}

impl EffectQueue {
    pub fn push(&mut self, effect: Effect) {
        if self.waiting.len() >= EFFECTS_MAX {
            self.waiting.pop_front();
            self.dropped += 1;
        }
        self.waiting.push_back(effect);
    }

    /// Everything waiting, oldest first; the queue is empty afterwards.
    pub fn take(&mut self) -> Vec<Effect> {
        self.waiting.drain(..).collect()
    }

    /// How many effects were dropped because nobody took them: for the terminal's log.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_nobody_drains_keeps_the_newest_and_counts_the_rest() {
        let mut queue = EffectQueue::default();
        for n in 0..EFFECTS_MAX + 3 {
            queue.push(Effect::EmailReceipt {
                sale: SaleId::new(format!("s{n}")),
                address: "a@b.de".to_owned(),
            });
        }
        assert_eq!(queue.dropped(), 3);
        let taken = queue.take();
        assert_eq!(taken.len(), EFFECTS_MAX);
        assert_eq!(
            taken[0],
            Effect::EmailReceipt {
                sale: SaleId::new("s3"),
                address: "a@b.de".to_owned()
            }
        );
        assert!(queue.take().is_empty());
    }
}
