//! Real journal entries for tests, examples and benchmarks: sales made through `pos-core`
//! exactly as a till makes them (cart, tax, payment, stock movements, events), numbered and
//! stamped as the terminal's journal numbers and stamps them.

use pos_core::cart::{Cart, PricingContext};
use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::event::{DomainEvent, EventEnvelope, sale_events};
use pos_core::id::{DeviceId, EventId, MovementId, ReceiptNumber, SaleId, StoreId, UserId};
use pos_core::quantity::Quantity;
use pos_core::sale::{Sale, SaleContext};
use pos_core::stock::movements_for_sale;
use pos_core::tender::{Payment, TenderKind};

use crate::hlc::HlcClock;
use crate::wire::JournalEntry;

#[derive(Debug, thiserror::Error)]
#[error("could not make a sample sale: {0}")]
pub struct SampleError(String);

fn step<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, SampleError> {
    result.map_err(|e| SampleError(e.to_string()))
}

/// A till's journal as it fills up: one card sale after another, in a given store.
#[derive(Clone, Debug)]
pub struct SampleTill {
    pub device: DeviceId,
    pub store: StoreId,
    pub cashier: UserId,
    clock: HlcClock,
    next_seq: u64,
    next_sale: u64,
}

impl SampleTill {
    pub fn new(device: &str, store: &StoreId) -> SampleTill {
        SampleTill {
            device: DeviceId::new(device),
            store: store.clone(),
            cashier: UserId::new("anna"),
            clock: HlcClock::new(60_000),
            next_seq: 1,
            next_sale: 1,
        }
    }

    /// Sells `quantity` pieces of `product` for card at `now_ms`: the journal entries of the
    /// sale (the sale itself, then one stock movement per line).
    pub fn sell(
        &mut self,
        product: &Product,
        quantity: i64,
        now_ms: i64,
    ) -> Result<Vec<JournalEntry>, SampleError> {
        self.sell_paid(product, quantity, TenderKind::Card, now_ms)
    }

    /// The journal entry of any other event `actor` recorded at `now_ms` (a role or a PIN
    /// saved in the back office, a customer, …).
    pub fn record(
        &mut self,
        actor: &str,
        event: DomainEvent,
        now_ms: i64,
    ) -> Result<JournalEntry, SampleError> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let hlc = step(self.clock.tick(now_ms))?;
        let envelope = EventEnvelope {
            id: EventId::new(format!("{}-ev-{seq}", self.device)),
            device: self.device.clone(),
            actor: UserId::new(actor),
            at: Timestamp::from_unix_ms(now_ms),
            event,
        };
        step(JournalEntry::from_envelope(seq, hlc, &envelope))
    }

    /// As [`SampleTill::sell`], paid in full with `tender` (cash is handed over exactly).
    pub fn sell_paid(
        &mut self,
        product: &Product,
        quantity: i64,
        tender: TenderKind,
        now_ms: i64,
    ) -> Result<Vec<JournalEntry>, SampleError> {
        let store = step(pos_core::demo::store())?;
        let mut cart = Cart::new(product.price.currency());
        step(cart.add(product, Quantity::pieces(quantity)))?;
        let at = Timestamp::from_unix_ms(now_ms);
        let priced = step(cart.price(&PricingContext {
            taxes: &store.taxes,
            tax_policy: &store.tax_policy,
            promotions: &[],
            local_time: at.local(store.utc_offset),
        }))?;
        let mut payment = Payment::new(priced.total, None);
        match tender {
            // Handed over exactly: no change.
            TenderKind::Cash => {
                step(payment.add_cash(priced.total))?;
            }
            other => step(payment.add_electronic(other, priced.total, None))?,
        }
        let n = self.next_sale;
        self.next_sale += 1;
        let context = SaleContext {
            id: SaleId::new(format!("{}-sale-{n}", self.device)),
            receipt_number: ReceiptNumber::new(format!("{}-{n:06}", self.device)),
            store: self.store.clone(),
            device: self.device.clone(),
            cashier: self.cashier.clone(),
            shift: None,
            at,
        };
        let sale = step(Sale::complete(
            priced,
            step(payment.finish())?,
            context,
            None,
        ))?;
        let mut line = 0u32;
        let movements = movements_for_sale(
            &sale,
            |_, wanted| vec![(None, wanted)],
            || {
                line += 1;
                MovementId::new(format!("{}-mv-{line}", sale.id))
            },
        );
        sale_events(&sale, &movements)
            .into_iter()
            .map(|event| {
                let seq = self.next_seq;
                self.next_seq += 1;
                let hlc = step(self.clock.tick(now_ms))?;
                let envelope = EventEnvelope {
                    id: EventId::new(format!("{}-ev-{seq}", self.device)),
                    device: self.device.clone(),
                    actor: self.cashier.clone(),
                    at,
                    event,
                };
                step(JournalEntry::from_envelope(seq, hlc, &envelope))
            })
            .collect()
    }
}
