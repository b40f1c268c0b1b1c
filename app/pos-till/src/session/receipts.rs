//! The receipt after a sale: printed, emailed, a gift receipt without prices, or none; and
//! the last receipt printed again as a copy. The documents are `pos_core::receipt`'s; this
//! module only decides which one goes to which effect.
//!
//! Owns what was done with the current sale's receipt; must not touch the cart or the shift.

use pos_core::receipt::{self, Align, Block, Document, ReceiptStyle, Style};
use pos_core::sale::Sale;
use pos_core::tenant::ReceiptPrinting;

use super::{Till, info};
use crate::effect::{Effect, PrintPurpose};
use crate::error::TillError;
use crate::view::{Message, ReceiptView, Screen, Tone};

/// The longest email address accepted (the limit of the address format).
pub const EMAIL_CHARS_MAX: usize = 254;

/// What the cashier does with a receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptIntent {
    /// Prints the receipt of the sale just paid, then the till is ready for the next customer.
    Print,
    /// Prints a receipt without prices for the sale just paid; the change screen stays.
    Gift,
    /// Sends the receipt of the sale just paid to `address`, then the next customer.
    Email { address: String },
    /// Prints the last receipt again, marked as a copy.
    ReprintLast,
}

/// The receipt's part of the session.
#[derive(Default)]
pub(super) struct ReceiptDesk {
    /// The last sale completed at this till since it started.
    pub(super) last_sale: Option<Sale>,
    printed: bool,
    gift_printed: bool,
}

impl Till {
    pub(super) fn receipt_intent(
        &mut self,
        intent: ReceiptIntent,
    ) -> Result<Option<Message>, TillError> {
        match intent {
            ReceiptIntent::Print => {
                let sale = self.just_paid()?;
                let purpose = if self.receipts.printed {
                    PrintPurpose::Copy
                } else {
                    PrintPurpose::Receipt
                };
                let document = match purpose {
                    PrintPurpose::Copy => copy_of(&self.setup.store, &sale),
                    _ => receipt::sale_document(&self.setup.store, &sale, ReceiptStyle::Normal),
                };
                self.effects.push(Effect::Print { document, purpose });
                self.next_customer();
                Ok(Some(info(format!(
                    "Receipt {} is printing",
                    sale.receipt_number
                ))))
            }
            ReceiptIntent::Gift => {
                let sale = self.just_paid()?;
                self.effects.push(Effect::Print {
                    document: receipt::sale_document(&self.setup.store, &sale, ReceiptStyle::Gift),
                    purpose: PrintPurpose::GiftReceipt,
                });
                self.receipts.gift_printed = true;
                Ok(Some(info("The gift receipt is printing".to_owned())))
            }
            ReceiptIntent::Email { address } => {
                let sale = self.just_paid()?;
                let address = checked_email(&address)?;
                self.effects.push(Effect::EmailReceipt {
                    sale: sale.id.clone(),
                    address: address.clone(),
                });
                self.next_customer();
                Ok(Some(Message {
                    text: format!(
                        "Receipt {} goes to {address}, also when the till is offline",
                        sale.receipt_number
                    ),
                    tone: Tone::Success,
                }))
            }
            ReceiptIntent::ReprintLast => {
                if matches!(self.screen, Screen::Login | Screen::ShiftOpen)
                    || (self.screen == Screen::Payment && self.completed.is_none())
                {
                    return Err(TillError::NotHere);
                }
                let sale = self.last_sale()?.ok_or(TillError::NoReceipt)?;
                self.effects.push(Effect::Print {
                    document: copy_of(&self.setup.store, &sale),
                    purpose: PrintPurpose::Copy,
                });
                Ok(Some(info(format!(
                    "A copy of receipt {} is printing",
                    sale.receipt_number
                ))))
            }
        }
    }

    /// The sale on the change screen.
    fn just_paid(&self) -> Result<Sale, TillError> {
        if self.completed.is_none() {
            return Err(TillError::NotHere);
        }
        self.receipts.last_sale.clone().ok_or(TillError::NoReceipt)
    }

    /// The last sale of this till: the one kept since it started, or after a restart the
    /// open shift's last sale.
    fn last_sale(&self) -> Result<Option<Sale>, TillError> {
        if let Some(sale) = &self.receipts.last_sale {
            return Ok(Some(sale.clone()));
        }
        let Some(shift) = &self.desk.shift else {
            return Ok(None);
        };
        let activity = self.ports.ledger.shift_activity(shift)?;
        Ok(activity.sales.into_iter().max_by_key(|s| s.at.unix_ms()))
    }

    /// A sale was just completed: keep it for its receipt, and print it at once when the shop
    /// prints every receipt.
    pub(super) fn sale_completed(&mut self, sale: Sale) {
        let print = self.setup.store.receipt.printing == ReceiptPrinting::Always;
        if print {
            self.effects.push(Effect::Print {
                document: receipt::sale_document(&self.setup.store, &sale, ReceiptStyle::Normal),
                purpose: PrintPurpose::Receipt,
            });
        }
        self.receipts = ReceiptDesk {
            last_sale: Some(sale),
            printed: print,
            gift_printed: false,
        };
    }

    /// Leaves the change screen for the next sale.
    pub(super) fn next_customer(&mut self) {
        self.completed = None;
        self.receipts.printed = false;
        self.receipts.gift_printed = false;
        self.screen = Screen::Checkout;
    }

    pub(super) fn receipt_view(&self) -> ReceiptView {
        ReceiptView {
            printed: self.receipts.printed,
            gift_printed: self.receipts.gift_printed,
            can_reprint: self.receipts.last_sale.is_some() || self.desk.shift.is_some(),
        }
    }
}

/// A sale's receipt with a COPY banner under the header, so a reprint is never taken for a
/// second sale.
fn copy_of(store: &pos_core::tenant::Store, sale: &Sale) -> Document {
    let mut document = receipt::sale_document(store, sale, ReceiptStyle::Normal);
    let after_header = document
        .blocks
        .iter()
        .position(|b| *b == Block::Rule)
        .map_or(0, |rule| rule + 1);
    document.blocks.insert(
        after_header,
        Block::Text {
            text: "COPY".to_owned(),
            align: Align::Center,
            style: Style::TITLE_WIDE,
        },
    );
    document
}

/// An address a receipt can be sent to: one `@`, something before it, a dotted domain after
/// it, no spaces.
fn checked_email(address: &str) -> Result<String, TillError> {
    let address = address.trim();
    let bad = || TillError::BadEmail(address.to_owned());
    if address.is_empty() || address.chars().count() > EMAIL_CHARS_MAX {
        return Err(bad());
    }
    let (local, domain) = address.split_once('@').ok_or_else(bad)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty()
        || !domain_ok
        || domain.contains('@')
        || address.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    Ok(address.to_owned())
}

#[cfg(test)]
mod tests {
    use super::checked_email;

    #[test]
    fn email_addresses_are_checked_for_shape_only() {
        assert_eq!(
            checked_email(" lena@example.com ").unwrap(),
            "lena@example.com"
        );
        for bad in [
            "",
            "lena",
            "lena@",
            "@example.com",
            "lena@example",
            "lena@@example.com",
            "le na@example.com",
            "lena@example..com",
            "lena@.example.com",
        ] {
            assert!(checked_email(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
