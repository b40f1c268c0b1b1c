//! What a scan at the checkout becomes. Every code goes through `pos_scanner`'s [`Decoder`]
//! under the store's rules first, so a misread is refused with its reason before anything is
//! looked up, and what the barcode says about this one item (a scale's weight or price, a
//! GS1 label's batch, expiry, net weight or price) reaches the cart line.
//!
//! Resolution order, and why:
//! - a code the catalogue knows exactly wins (a store may give its own goods fixed codes in
//!   the in-store `2x` range, and those carry no value);
//! - a scale label (`Embedded`) finds its product under the same code with the value digits
//!   zeroed, the way stores register price look-up items;
//! - GS1 element strings find their product by GTIN (01), in any of its printed lengths;
//! - anything else is a SKU, a loyalty card or a receipt number, as typed.
//!
//! A weighed product scanned or picked without a weight opens the weight prompt
//! ([`crate::view::WeighingView`]) instead of guessing a kilogram.

use pos_core::catalog::Product;
use pos_core::id::ReceiptNumber;
use pos_core::money::Money;
use pos_core::quantity::{Quantity, Unit};
use pos_scanner::embedded::EmbeddedValue;
use pos_scanner::{DecodeRules, Decoded, EmbeddedKind, EmbeddedRule, Gtin, ScanError};
use rust_decimal::Decimal;
use time::Date;

use super::{Till, info};
use crate::error::TillError;
use crate::view::{Message, Tone, WeighingView};

/// Decimals a typed weight may have: grams in kilograms.
pub const WEIGHT_DECIMALS_MAX: u32 = 3;
/// The heaviest weight a cashier can type for one line, in kilograms: a typo guard.
pub const WEIGHT_KG_MAX: Decimal = Decimal::from_parts(99_999, 0, 0, false, 3);

/// The rules a store starts with: the scanner's defaults (`02` US scale prices with a price
/// check digit, `20` prices in cents, `21` weights in grams) and `22`–`29` as weights in
/// grams with a five-digit item code, the way the demo shop's scale labels its loose goods.
pub fn default_rules() -> DecodeRules {
    let mut rules = DecodeRules::default();
    for prefix in 22..=29 {
        let prefix = prefix.to_string();
        if rules.embedded.iter().all(|rule| rule.prefix != prefix) {
            rules.embedded.push(EmbeddedRule::five_digit_value(
                &prefix,
                EmbeddedKind::Weight,
                3,
            ));
        }
    }
    rules
}

/// A product and what the label said about this item of it.
struct Labelled {
    product: Product,
    weight_kg: Option<Decimal>,
    price: Option<Decimal>,
    batch: Option<String>,
    expiry: Option<Date>,
}

impl Labelled {
    fn plain(product: Product) -> Labelled {
        Labelled {
            product,
            weight_kg: None,
            price: None,
            batch: None,
            expiry: None,
        }
    }
}

impl Till {
    pub(super) fn scan(&mut self, code: &str) -> Result<Option<Message>, TillError> {
        self.checkout_only()?;
        if code.is_empty() {
            return Ok(None);
        }
        let today = self.now.local(self.setup.store.utc_offset).date;
        let Some(decoder) = &self.decoder else {
            return self.scan_text(code);
        };
        let decoded = match decoder.decode(code, today) {
            Ok(decoded) => decoded,
            Err(refusal) => {
                // A code the shop registered as it is printed is known, whatever its digits.
                if let Some(product) = self.ports.catalogue.product_by_code(code) {
                    return self.add_labelled(Labelled::plain(product));
                }
                if let Some(customer) = self.ports.catalogue.customer_by_card(code) {
                    return Ok(Some(self.attach(customer)));
                }
                return Err(TillError::Scan(refusal));
            }
        };
        match decoded {
            Decoded::Gtin { gtin, .. } => match self.product_by_gtin(&gtin) {
                Some(product) => self.add_labelled(Labelled::plain(product)),
                None => self.scan_text(gtin.as_str()),
            },
            Decoded::Embedded { barcode, value, .. } => {
                if let Some(product) = self.product_by_gtin(&barcode) {
                    return self.add_labelled(Labelled::plain(product));
                }
                let product = self
                    .product_by_look_up_code(&barcode)
                    .ok_or_else(|| TillError::UnknownCode(barcode.to_string()))?;
                let (weight_kg, price) = match value {
                    EmbeddedValue::Weight { kg } => (Some(kg), None),
                    EmbeddedValue::Price { amount } => (None, Some(amount)),
                };
                self.add_labelled(Labelled {
                    product,
                    weight_kg,
                    price,
                    batch: None,
                    expiry: None,
                })
            }
            Decoded::Gs1 {
                gtin,
                batch,
                expiry,
                net_weight_kg,
                price,
                ..
            } => {
                let gtin = gtin.ok_or_else(|| {
                    TillError::Scan(ScanError::UnknownFormat {
                        reason: "the GS1 code names no item (01)".to_owned(),
                    })
                })?;
                let product = self
                    .product_by_gtin(&gtin)
                    .ok_or_else(|| TillError::UnknownCode(gtin.to_string()))?;
                self.add_labelled(Labelled {
                    product,
                    weight_kg: net_weight_kg,
                    price,
                    batch,
                    expiry,
                })
            }
            Decoded::Text { text, .. } => self.scan_text(&text),
        }
    }

    /// A product picked from the grid or the search results.
    pub(super) fn add_product(&mut self, product: Product) -> Result<Option<Message>, TillError> {
        self.add_labelled(Labelled::plain(product))
    }

    /// A code that is no retail barcode: a SKU, a loyalty card or a receipt number.
    fn scan_text(&mut self, code: &str) -> Result<Option<Message>, TillError> {
        if let Some(product) = self.ports.catalogue.product_by_code(code) {
            return self.add_labelled(Labelled::plain(product));
        }
        if let Some(customer) = self.ports.catalogue.customer_by_card(code) {
            return Ok(Some(self.attach(customer)));
        }
        // A receipt's barcode: the customer is bringing something back.
        if self
            .ports
            .ledger
            .sale_by_receipt(&ReceiptNumber::new(code))?
            .is_some()
        {
            self.start_refund()?;
            return self.refund_entry(code);
        }
        Err(TillError::UnknownCode(code.to_owned()))
    }

    /// The product under a GTIN as printed, or under its 8-, 12-, 13- or 14-digit forms.
    fn product_by_gtin(&self, gtin: &Gtin) -> Option<Product> {
        let printed = gtin.as_str();
        let fourteen = gtin.to_gtin14();
        let significant = fourteen.trim_start_matches('0');
        let mut forms = vec![printed.to_owned(), fourteen.clone()];
        for length in [8, 12, 13] {
            if significant.len() <= length {
                forms.push(format!("{significant:0>length$}"));
            }
        }
        forms.dedup();
        forms
            .iter()
            .find_map(|form| self.ports.catalogue.product_by_code(form))
    }

    /// A scale label's product: registered under the label's code with the value (and its
    /// price check digit) zeroed, as the rule that read it places them.
    fn product_by_look_up_code(&self, barcode: &Gtin) -> Option<Product> {
        let thirteen = format!("{:0>13}", barcode.as_str());
        let rule = self
            .decoder_rules
            .embedded
            .iter()
            .find(|rule| thirteen.starts_with(rule.prefix.as_str()))?;
        let mut digits: Vec<u8> = thirteen.bytes().take(12).collect();
        let zeroed = (rule.value_start..rule.value_start + rule.value_length)
            .chain(rule.value_check_digit_position);
        for position in zeroed {
            if let Some(digit) = digits.get_mut(position) {
                *digit = b'0';
            }
        }
        let body = String::from_utf8(digits).ok()?;
        let check = pos_scanner::gtin::check_digit(&body);
        let code = Gtin::parse(&format!("{body}{check}"), "EAN-13").ok()?;
        self.product_by_gtin(&code)
    }

    /// Puts a product on the cart as its label says: with the label's weight, at the label's
    /// price, with its batch and expiry on the line; a weighed product without a weight asks
    /// for one first.
    fn add_labelled(&mut self, labelled: Labelled) -> Result<Option<Message>, TillError> {
        let Labelled {
            mut product,
            weight_kg,
            price,
            batch,
            expiry,
        } = labelled;
        let name = product.display_name();
        let currency = self.setup.store.currency;
        let mut quantity = Quantity::ONE;
        // What the pack takes off the shelf when it sells as one piece.
        let mut shelf_each = None;
        if let Some(price) = price {
            // The label's price is what the customer pays for this item: the line sells one
            // piece at that price (a weighed product's per-kilo price no longer applies), but
            // the shelf loses the pack's weight: the label's, or what its price buys per kilo.
            if product.unit.is_weighed() {
                let per_unit = product.price.amount();
                let kg = weight_kg
                    .or_else(|| (!per_unit.is_zero()).then(|| (price / per_unit).round_dp(3)));
                shelf_each = kg.and_then(|kg| Quantity::positive(kg, product.unit).ok());
            }
            product.price = Money::settled(price, currency).map_err(|_| {
                TillError::Scan(ScanError::UnknownFormat {
                    reason: format!("the label's price {price} has too many decimals"),
                })
            })?;
            product.unit = Unit::Piece;
        } else if product.unit.is_weighed() {
            match weight_kg {
                Some(kg) => quantity = weight(kg, &name)?,
                None => {
                    self.weighing = Some(product);
                    self.search_text.clear();
                    self.search_results.clear();
                    return Ok(Some(info(format!(
                        "Weigh {name} and type the weight in kg"
                    ))));
                }
            }
        }
        let note = lot_note(batch.as_deref(), expiry);
        let line = match &note {
            Some(note) => self.add_separate_line(&product, quantity, note)?,
            None => self.cart.add(&product, quantity)?,
        };
        if let Some(batch) = batch {
            self.cart.set_lot(line, &batch)?;
        }
        if let Some(each) = shelf_each {
            self.cart.set_shelf_quantity_each(line, each)?;
        }
        self.selected = Some(line);
        self.search_text.clear();
        self.search_results.clear();
        let today = self.now.local(self.setup.store.utc_offset).date;
        Ok(match expiry {
            Some(expiry) if expiry < today => Some(Message {
                text: format!(
                    "{name} expired on {}: check the pack and take it off the shelf",
                    day_text(expiry)
                ),
                tone: Tone::Problem,
            }),
            _ => None,
        })
    }

    /// A line of its own for an item with a batch or an expiry; the same batch scanned again
    /// adds to its line. The cart merges equal plain lines, so plain lines of the product are
    /// marked for the moment of adding.
    fn add_separate_line(
        &mut self,
        product: &Product,
        quantity: Quantity,
        note: &str,
    ) -> Result<pos_core::cart::LineNo, TillError> {
        if !product.unit.is_weighed()
            && let Some(same) = self.cart.lines().iter().find(|l| {
                l.product == *product
                    && l.note.as_deref() == Some(note)
                    && l.discount.is_none()
                    && !l.printed
            })
        {
            let line_no = same.line_no;
            let total = same.quantity + quantity;
            self.cart.set_quantity(line_no, total)?;
            return Ok(line_no);
        }
        let plain: Vec<_> = self
            .cart
            .lines()
            .iter()
            .filter(|l| l.product == *product && l.note.is_none())
            .map(|l| l.line_no)
            .collect();
        for line in &plain {
            self.cart.set_note(*line, note)?;
        }
        let added = self.cart.add(product, quantity);
        for line in &plain {
            self.cart.set_note(*line, "")?;
        }
        let line = added?;
        self.cart.set_note(line, note)?;
        Ok(line)
    }

    /// The cashier typed the weight the prompt asked for.
    pub(super) fn enter_weight(&mut self, typed: &str) -> Result<Option<Message>, TillError> {
        self.checkout_only()?;
        let product = self.weighing.clone().ok_or(TillError::NotHere)?;
        let kg = parse_weight(typed)?;
        let quantity = weight(kg, &product.display_name())?;
        let line = self.cart.add(&product, quantity)?;
        self.weighing = None;
        self.selected = Some(line);
        Ok(None)
    }

    pub(super) fn weighing_view(&self) -> Option<WeighingView> {
        self.weighing.as_ref().map(|product| WeighingView {
            name: product.display_name(),
            unit_price: product.price.display_amount(),
            unit: product.unit.symbol().to_owned(),
        })
    }
}

/// A typed weight in kilograms: more than zero, at most three decimals ("0,75" is fine).
fn parse_weight(typed: &str) -> Result<Decimal, TillError> {
    let text = typed.trim().trim_end_matches("kg").trim().replace(',', ".");
    let bad = || TillError::BadWeight(typed.trim().to_owned());
    let kg: Decimal = text.parse().map_err(|_| bad())?;
    if kg <= Decimal::ZERO || kg.normalize().scale() > WEIGHT_DECIMALS_MAX || kg > WEIGHT_KG_MAX {
        return Err(bad());
    }
    Ok(kg)
}

fn weight(kg: Decimal, name: &str) -> Result<Quantity, TillError> {
    if kg <= Decimal::ZERO {
        return Err(TillError::ZeroWeight(name.to_owned()));
    }
    Quantity::positive(kg.round_dp(WEIGHT_DECIMALS_MAX), Unit::Kilogram)
        .map_err(|_| TillError::BadWeight(kg.to_string()))
}

/// "Batch L42 · use by 01.12.2026": what the label says, on the line and the receipt.
fn lot_note(batch: Option<&str>, expiry: Option<Date>) -> Option<String> {
    let parts: Vec<String> = batch
        .map(|b| format!("Batch {b}"))
        .into_iter()
        .chain(expiry.map(|e| format!("use by {}", day_text(e))))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

fn day_text(date: Date) -> String {
    format!(
        "{:02}.{:02}.{}",
        date.day(),
        u8::from(date.month()),
        date.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_weights_are_positive_with_at_most_grams() {
        assert_eq!(parse_weight("0,75").unwrap().to_string(), "0.75");
        assert_eq!(parse_weight(" 1.235 kg").unwrap().to_string(), "1.235");
        for bad in ["0", "-1", "1.2345", "abc", "", "100"] {
            assert!(
                matches!(parse_weight(bad), Err(TillError::BadWeight(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_default_rules_read_the_demo_scale_labels() {
        let rules = default_rules();
        let prefixes: Vec<&str> = rules.embedded.iter().map(|r| r.prefix.as_str()).collect();
        assert_eq!(
            prefixes,
            [
                "02", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29"
            ]
        );
        assert!(pos_scanner::Decoder::new(rules).is_ok());
    }
}
