//! The till's edges over the encrypted store: products, loyalty cards, staff and PINs are read
//! from it, and every business event is written through its journal, so what the cashier does
//! survives a restart or a power cut.
//!
//! Owns the mapping between the till's `port` traits and the store's queries and write paths.
//! Never decides a retail rule (the till and `pos-core` do) and never touches a device.
//!
//! Key decision: held carts and their resumption are written by [`Ledger::record`] with the
//! events the till sends right after `hold`/`resume`, so the journal names the cashier who
//! acted; until then they wait here, so a cart is never on the till and held at once.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use pos_core::access::Actor;
use pos_core::cart::AttachedCustomer;
use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::event::{DomainEvent, EventEnvelope, sale_events};
use pos_core::held::{HeldCart, HeldCarts, HeldError};
use pos_core::id::{CustomerId, ReceiptNumber, SaleId};
use pos_core::id::{DeviceId, HeldCartId, ProductId, UserId};
use pos_core::loyalty::{Customer, LoyaltyProgram, Purchase};
use pos_core::refund::Refund;
use pos_core::sale::Sale;
use pos_core::shift::Shift;
use pos_core::stock::StockMovement;
pub use pos_store::pin::{PinError, hash_pin, verify_pin};
use pos_store::{Store, StoreError};
use pos_till::port::{
    Catalogue, CustomerMatch, Ledger, LedgerError, SaleSummary, SalesHistory, ShiftActivity, Staff,
};

/// The store, shared by the till's ports on the UI thread.
pub type SharedStore = Rc<RefCell<Store>>;

/// The store setting listing the checkout's quick-pick products, a JSON array of ids.
pub const FAVOURITES_SETTING: &str = "till.favourites";
/// Purchases read to work out a loyalty tier; more than a year of weekly shopping.
const HISTORY_ROWS: u32 = 1_000;

/// A read that failed is shown as "not found" by the till's port contract, so it is at least
/// written where a technician looks.
fn log_read(what: &str, error: &StoreError) {
    eprintln!("pos-terminal: reading {what} from the store failed: {error}");
}

/// Products and loyalty cards from the store.
pub struct StoreCatalogue {
    store: SharedStore,
    /// The programme the till started with, for when the store's cannot be read.
    loyalty: LoyaltyProgram,
    /// The shop's clock, for the rolling spend that sets a customer's tier.
    clock: Box<dyn Fn() -> Timestamp>,
}

impl StoreCatalogue {
    pub fn new(
        store: SharedStore,
        loyalty: LoyaltyProgram,
        clock: impl Fn() -> Timestamp + 'static,
    ) -> StoreCatalogue {
        StoreCatalogue {
            store,
            loyalty,
            clock: Box::new(clock),
        }
    }

    /// A parent whose variants are sold is not itself put in a cart.
    fn sellable(&self, product: Product) -> Option<Product> {
        if !product.active {
            return None;
        }
        match self.store.borrow().variants_of(&product.id) {
            Ok(variants) if variants.is_empty() => Some(product),
            Ok(_) => None,
            Err(error) => {
                log_read("variants", &error);
                None
            }
        }
    }
}

impl Catalogue for StoreCatalogue {
    fn product_by_code(&self, code: &str) -> Option<Product> {
        let found = self.store.borrow().product_by_code(code);
        match found {
            Ok(product) => product.and_then(|p| self.sellable(p)),
            Err(error) => {
                log_read("a product by code", &error);
                None
            }
        }
    }

    fn product(&self, id: &ProductId) -> Option<Product> {
        let found = self.store.borrow().product(id);
        found
            .map_err(|error| log_read("a product", &error))
            .ok()
            .flatten()
    }

    fn search(&self, text: &str, limit: usize) -> Vec<Product> {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let hits = self.store.borrow().search_products(text, limit);
        let hits = match hits {
            Ok(hits) => hits,
            Err(error) => {
                log_read("search results", &error);
                return Vec::new();
            }
        };
        hits.iter()
            .filter_map(|hit| self.product(&hit.id))
            .filter_map(|product| self.sellable(product))
            .collect()
    }

    fn favourites(&self) -> Vec<Product> {
        let setting = self.store.borrow().setting(FAVOURITES_SETTING);
        let ids: Vec<String> = match setting {
            Ok(Some(json)) => match serde_json::from_str(&json) {
                Ok(ids) => ids,
                Err(error) => {
                    eprintln!(
                        "pos-terminal: the setting {FAVOURITES_SETTING} is not a list of product ids: {error}"
                    );
                    Vec::new()
                }
            },
            Ok(None) => Vec::new(),
            Err(error) => {
                log_read("the favourites", &error);
                Vec::new()
            }
        };
        ids.into_iter()
            .filter_map(|id| self.product(&ProductId::new(id)))
            .filter(|p| p.active)
            .collect()
    }

    fn customer_by_card(&self, card: &str) -> Option<AttachedCustomer> {
        let found = self.store.borrow().customer_by_card(card);
        match found {
            Ok(found) => found.map(|(customer, points)| self.matched(customer, points).customer),
            Err(error) => {
                log_read("a loyalty card", &error);
                None
            }
        }
    }

    fn find_customers(&self, text: &str, limit: usize) -> Vec<CustomerMatch> {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let found = self.store.borrow().search_customers(text, limit);
        match found {
            Ok(found) => found
                .into_iter()
                .map(|(customer, points)| self.matched(customer, points))
                .collect(),
            Err(error) => {
                log_read("customers", &error);
                Vec::new()
            }
        }
    }

    fn customer(&self, id: &CustomerId) -> Option<CustomerMatch> {
        let found = self.store.borrow().customer(id);
        match found {
            Ok(found) => found.map(|(customer, points)| self.matched(customer, points)),
            Err(error) => {
                log_read("a customer", &error);
                None
            }
        }
    }
}

impl StoreCatalogue {
    /// A customer with the tier their rolling spend earns and how far the next tier is.
    fn matched(&self, customer: Customer, points: i64) -> CustomerMatch {
        let history: Vec<Purchase> = match self
            .store
            .borrow()
            .customer_history(&customer.id, HISTORY_ROWS)
        {
            Ok(sales) => sales
                .into_iter()
                .map(|sale| Purchase {
                    at: sale.at,
                    receipt: sale.receipt_number,
                    amount: sale.total,
                })
                .collect(),
            Err(error) => {
                log_read("a customer's purchases", &error);
                Vec::new()
            }
        };
        // Read afresh: a programme saved in the back office counts from the next customer.
        let loyalty = match self.store.borrow().loyalty_program() {
            Ok(Some(program)) => program,
            Ok(None) => self.loyalty.clone(),
            Err(error) => {
                log_read("the loyalty programme", &error);
                self.loyalty.clone()
            }
        };
        let spend = loyalty.rolling_spend(&history, (self.clock)()).ok();
        let tier = spend
            .map(|spend| loyalty.tier_for(spend))
            .unwrap_or(pos_core::loyalty::Tier::Member);
        CustomerMatch {
            customer: AttachedCustomer {
                id: customer.id,
                name: customer.name,
                tier,
                points,
            },
            phone: customer.phone,
            card: customer.card.map(|card| card.as_str().to_owned()),
            next_tier: spend.and_then(|spend| loyalty.progress(spend)),
        }
    }
}

/// The PIN gate of the doors beside the till (service screen, back office) over the store's
/// people: one count of wrong PINs for all of them.
pub fn pin_gate(store: SharedStore) -> Rc<pos_till::gate::PinGate> {
    Rc::new(pos_till::gate::PinGate::new(Rc::new(StoreStaff::new(
        store,
    ))))
}

/// The people of the store and their PINs, kept as argon2id hashes.
pub struct StoreStaff {
    store: SharedStore,
}

impl StoreStaff {
    pub fn new(store: SharedStore) -> StoreStaff {
        StoreStaff { store }
    }
}

impl Staff for StoreStaff {
    fn people(&self) -> Vec<Actor> {
        let people = self.store.borrow().users();
        people
            .map_err(|error| log_read("the staff list", &error))
            .unwrap_or_default()
    }

    fn pin_matches(&self, user: &UserId, pin: &str) -> bool {
        let hash = self.store.borrow().pin_hash(user);
        match hash {
            Ok(Some(hash)) => verify_pin(pin, &hash),
            Ok(None) => false,
            Err(error) => {
                log_read("a PIN", &error);
                false
            }
        }
    }
}

/// The journal, past sales and shifts, and held carts.
pub struct StoreLedger {
    store: SharedStore,
    /// Carts accepted by `hold` whose `CartHeld` event has not been recorded yet.
    holding: Vec<HeldCart>,
    /// Carts handed back by `resume`: hidden from the list and never handed back again in
    /// this run, even if recording the resumption failed (the cart is on the till then).
    resumed: BTreeSet<HeldCartId>,
}

impl StoreLedger {
    pub fn new(store: SharedStore) -> StoreLedger {
        StoreLedger {
            store,
            holding: Vec::new(),
            resumed: BTreeSet::new(),
        }
    }

    fn stored_held(&self) -> Result<Vec<HeldCart>, LedgerError> {
        self.store.borrow().held_carts().map_err(storage)
    }

    /// The held carts as the rules see them: stored ones not yet resumed, and those waiting
    /// to be recorded.
    fn held_carts(&self) -> Result<HeldCarts, LedgerError> {
        let mut carts = HeldCarts::default();
        for held in self.stored_held()?.into_iter().chain(self.holding.clone()) {
            if !self.resumed.contains(&held.id) {
                carts.hold(held)?;
            }
        }
        Ok(carts)
    }

    fn write(
        &mut self,
        actor: &UserId,
        at: Timestamp,
        events: &[DomainEvent],
    ) -> Result<(), StoreError> {
        let mut store = self.store.borrow_mut();
        if let Some((sale, movements)) = as_sale(events) {
            store.complete_sale(sale, &movements)?;
        } else {
            store.record(actor, at, events)?;
        }
        Ok(())
    }
}

/// The sale and its stock movements when `events` are exactly what a completed sale records.
fn as_sale(events: &[DomainEvent]) -> Option<(&pos_core::sale::Sale, Vec<StockMovement>)> {
    let DomainEvent::SaleCompleted(sale) = events.first()? else {
        return None;
    };
    let movements: Vec<StockMovement> = events
        .iter()
        .filter_map(|event| match event {
            DomainEvent::StockMoved(movement) => Some(movement.clone()),
            _ => None,
        })
        .collect();
    (sale_events(sale, &movements) == events).then_some((sale, movements))
}

/// A store failure as the cashier reads it; the store's own words say what broke.
fn storage(error: StoreError) -> LedgerError {
    use pos_store::ErrorKind;
    let what = match error.kind() {
        ErrorKind::DiskFull => "the disk is full".to_owned(),
        ErrorKind::ReadOnly => "the data disk cannot be written".to_owned(),
        ErrorKind::Key | ErrorKind::Corrupt | ErrorKind::SchemaTooNew => {
            "the database cannot be used".to_owned()
        }
        ErrorKind::Refused | ErrorKind::Import | ErrorKind::Io => error.to_string(),
    };
    LedgerError::Storage(what)
}

/// Sales and refunds read back for the refund screen, one store query each.
impl SalesHistory for StoreLedger {
    fn sale_by_receipt(&self, receipt: &ReceiptNumber) -> Result<Option<Sale>, LedgerError> {
        self.store
            .borrow()
            .sale_by_receipt(receipt)
            .map_err(storage)
    }

    fn sales_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> Result<Vec<SaleSummary>, LedgerError> {
        let sales = self
            .store
            .borrow()
            .sale_records_between(from, to)
            .map_err(storage)?;
        Ok(newest_first(sales.iter().map(SaleSummary::of), limit))
    }

    fn sales_of_customer(
        &self,
        customer: &CustomerId,
        limit: usize,
    ) -> Result<Vec<SaleSummary>, LedgerError> {
        let rows = u32::try_from(limit).unwrap_or(u32::MAX);
        let history = self
            .store
            .borrow()
            .customer_history(customer, rows)
            .map_err(storage)?;
        Ok(newest_first(history.into_iter().map(till_summary), limit))
    }

    fn sales_by_reference(
        &self,
        reference: &str,
        limit: usize,
    ) -> Result<Vec<SaleSummary>, LedgerError> {
        if reference.trim().is_empty() {
            return Ok(Vec::new());
        }
        let rows = u32::try_from(limit).unwrap_or(u32::MAX);
        let found = self
            .store
            .borrow()
            .sales_by_tender_reference(reference, rows)
            .map_err(storage)?;
        Ok(found.into_iter().map(till_summary).collect())
    }

    fn refunds_of_sale(&self, sale: &SaleId) -> Result<Vec<Refund>, LedgerError> {
        self.store.borrow().refunds_of_sale(sale).map_err(storage)
    }
}

/// The store's row of a sale as the till's port has it.
fn till_summary(row: pos_store::read::SaleSummary) -> SaleSummary {
    SaleSummary {
        id: row.id,
        receipt_number: row.receipt_number,
        at: row.at,
        cashier: row.cashier,
        total: row.total,
    }
}

fn newest_first(summaries: impl Iterator<Item = SaleSummary>, limit: usize) -> Vec<SaleSummary> {
    let mut summaries: Vec<SaleSummary> = summaries.collect();
    summaries.sort_by_key(|s| std::cmp::Reverse(s.at));
    summaries.truncate(limit);
    summaries
}

impl Ledger for StoreLedger {
    fn record(&mut self, envelopes: Vec<EventEnvelope>) -> Result<(), LedgerError> {
        let Some(first) = envelopes.first() else {
            return Ok(());
        };
        let (actor, at) = (first.actor.clone(), first.at);
        let events: Vec<DomainEvent> = envelopes.into_iter().map(|e| e.event).collect();
        let held_here: Vec<HeldCartId> = events
            .iter()
            .filter_map(|event| match event {
                DomainEvent::CartHeld(held) => Some(held.id.clone()),
                _ => None,
            })
            .collect();
        let result = self.write(&actor, at, &events);
        // Recorded or not, these carts no longer wait here: recorded they are in the store,
        // refused they stay on the till.
        self.holding.retain(|held| !held_here.contains(&held.id));
        result.map_err(storage)
    }

    fn hold(&mut self, held: HeldCart) -> Result<(), LedgerError> {
        let mut carts = self.held_carts()?;
        let id = held.id.clone();
        carts.hold(held)?;
        let named = carts
            .list()
            .into_iter()
            .find(|h| h.id == id)
            .cloned()
            .ok_or(LedgerError::Held(HeldError::NotFound(id)))?;
        self.holding.push(named);
        Ok(())
    }

    fn resume(
        &mut self,
        id: &HeldCartId,
        device: &DeviceId,
        at: Timestamp,
    ) -> Result<HeldCart, LedgerError> {
        if self.resumed.contains(id) {
            return Err(LedgerError::Held(HeldError::AlreadyResumed {
                id: id.clone(),
                device: device.clone(),
            }));
        }
        let held = self.held_carts()?.resume(id, device, at)?;
        self.resumed.insert(id.clone());
        Ok(held)
    }

    fn held(&self) -> Vec<HeldCart> {
        match self.held_carts() {
            Ok(carts) => carts.list().into_iter().cloned().collect(),
            Err(error) => {
                eprintln!("pos-terminal: reading held carts failed: {error}");
                Vec::new()
            }
        }
    }

    fn journal_tail(&self, count: usize) -> Vec<EventEnvelope> {
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        let entries = match self.store.borrow().journal_tail(count) {
            Ok(entries) => entries,
            Err(error) => {
                log_read("the journal", &error);
                return Vec::new();
            }
        };
        entries
            .into_iter()
            .filter_map(|entry| {
                let event = entry
                    .event()
                    .map_err(|error| log_read("a journal entry", &error))
                    .ok()?;
                Some(EventEnvelope {
                    id: entry.id,
                    device: entry.device,
                    actor: entry.actor,
                    at: Timestamp::from_unix_ms(entry.hlc.wall_ms),
                    event,
                })
            })
            .collect()
    }

    fn open_shift(&self, device: &DeviceId) -> Result<Option<Shift>, LedgerError> {
        self.store.borrow().open_shift(device).map_err(storage)
    }

    fn shift_activity(&self, shift: &Shift) -> Result<ShiftActivity, LedgerError> {
        let store = self.store.borrow();
        let sales = store.sales_of_shift(&shift.id).map_err(storage)?;
        let until = Timestamp::from_unix_ms(i64::MAX);
        let refunds = store
            .refunds_between(shift.opened_at, until)
            .map_err(storage)?
            .into_iter()
            .filter(|refund| refund.shift.as_ref() == Some(&shift.id))
            .collect();
        let voids = store
            .journal_events_since("lines_voided", shift.opened_at)
            .map_err(storage)?
            .into_iter()
            .filter(|entry| entry.device == shift.device)
            .filter_map(|entry| match entry.event() {
                Ok(DomainEvent::LinesVoided(void)) => Some(void),
                Ok(_) => None,
                Err(error) => {
                    log_read("a voided line", &error);
                    None
                }
            })
            .collect();
        Ok(ShiftActivity {
            sales,
            refunds,
            voids,
        })
    }
}
