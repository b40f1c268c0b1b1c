//! In-memory edges over the demo shop: a real catalogue search, a real ledger of events and
//! held carts (the open shift and its activity replayed from those events), a staff list with
//! PINs, and counting ids. The desktop demo runs on them and the
//! tests drive them; the encrypted store replaces them on the appliance.

use pos_core::access::{Actor, Role};
use pos_core::cart::AttachedCustomer;
use pos_core::catalog::{Catalog, Product, ProductLookup};
use pos_core::clock::Timestamp;
use pos_core::event::{DomainEvent, EventEnvelope};
use pos_core::held::{HeldCart, HeldCarts};
use pos_core::id::{
    Barcode, CustomerId, DeviceId, EventId, HeldCartId, MovementId, ProductId, ReceiptNumber,
    RefundId, SaleId, ShiftId, UserId,
};
use pos_core::loyalty::Tier;
use pos_core::money::{Currency, Money};
use pos_core::refund::Refund;
use pos_core::sale::Sale;
use pos_core::shift::Shift;

use crate::port::{
    Catalogue, CustomerMatch, IdSource, Ledger, LedgerError, SaleSummary, SalesHistory,
    ShiftActivity, Staff,
};

/// Events kept in memory before the oldest are dropped: a day of a busy till, bounded.
pub const MEMORY_EVENTS_MAX: usize = 100_000;

/// A catalogue held in memory, with a quick-pick list and loyalty cards.
pub struct MemoryCatalogue {
    catalog: Catalog,
    favourites: Vec<ProductId>,
    customers: Vec<CustomerMatch>,
}

impl MemoryCatalogue {
    pub fn new(catalog: Catalog, favourites: Vec<ProductId>) -> MemoryCatalogue {
        MemoryCatalogue {
            catalog,
            favourites,
            customers: Vec::new(),
        }
    }

    pub fn with_card(self, card: &str, customer: AttachedCustomer) -> MemoryCatalogue {
        self.with_customer(CustomerMatch {
            customer,
            phone: None,
            card: Some(card.to_owned()),
            next_tier: None,
        })
    }

    pub fn with_customer(mut self, customer: CustomerMatch) -> MemoryCatalogue {
        self.customers.push(customer);
        self
    }

    /// The demo shop's catalogue, its everyday items on the grid and one loyalty card.
    pub fn demo() -> Result<MemoryCatalogue, pos_core::catalog::CatalogError> {
        let favourites = [
            "milk",
            "bread",
            "butter",
            "yoghurt",
            "apples",
            "bananas",
            "coffee",
            "cola",
            "water",
            "chocolate",
            "batteries",
            "tee-m-navy",
        ]
        .into_iter()
        .map(ProductId::new)
        .collect();
        let mut catalog = pos_core::demo::catalog()?;
        // Price look-up codes for scale labels: `21 00001 WWWWW C` carries the apples' weight
        // in grams, `20 00003 PPPPP C` a bread's price in cents.
        for (id, look_up) in [
            ("apples", "2100001000004"),
            ("bananas", "2100002000003"),
            ("bread", "2000003000005"),
        ] {
            if let Some(mut product) = catalog.get(&ProductId::new(id)).cloned() {
                product.barcodes.push(Barcode::new(look_up));
                catalog.upsert(product)?;
            }
        }
        let euros = |cents| Money::from_minor(cents, Currency::EUR);
        Ok(MemoryCatalogue::new(catalog, favourites)
            .with_customer(CustomerMatch {
                customer: AttachedCustomer {
                    id: CustomerId::new("c-lena"),
                    name: "Lena Vogel".to_owned(),
                    tier: Tier::Silver,
                    points: 1_250,
                },
                phone: Some("0170 5550101".to_owned()),
                card: Some("9900000000017".to_owned()),
                next_tier: Some((Tier::Gold, euros(15_540))),
            })
            .with_customer(CustomerMatch {
                customer: AttachedCustomer {
                    id: CustomerId::new("c-jonas"),
                    name: "Jonas Weber".to_owned(),
                    tier: Tier::Member,
                    points: 320,
                },
                phone: Some("0151 5550202".to_owned()),
                card: Some("9900000000024".to_owned()),
                next_tier: Some((Tier::Bronze, euros(2_310))),
            }))
    }

    /// Products a cashier can put in a cart: active, and not a parent whose variants are sold.
    fn sellable(&self) -> impl Iterator<Item = &Product> {
        self.catalog
            .products()
            .filter(|p| p.active && self.catalog.variants_of(&p.id).next().is_none())
    }
}

impl Catalogue for MemoryCatalogue {
    fn product_by_code(&self, code: &str) -> Option<Product> {
        self.catalog.product_by_code(code)
    }

    fn product(&self, id: &ProductId) -> Option<Product> {
        self.catalog.get(id).cloned()
    }

    fn search(&self, text: &str, limit: usize) -> Vec<Product> {
        let needle = text.trim().to_lowercase();
        if needle.is_empty() {
            return Vec::new();
        }
        self.sellable()
            .filter(|p| {
                p.display_name().to_lowercase().contains(&needle)
                    || p.sku.as_str().to_lowercase().contains(&needle)
            })
            .take(limit)
            .cloned()
            .collect()
    }

    fn favourites(&self) -> Vec<Product> {
        self.favourites
            .iter()
            .filter_map(|id| self.catalog.get(id))
            .filter(|p| p.active)
            .cloned()
            .collect()
    }

    fn customer_by_card(&self, card: &str) -> Option<AttachedCustomer> {
        self.customers
            .iter()
            .find(|c| c.card.as_deref() == Some(card.trim()))
            .map(|c| c.customer.clone())
    }

    fn find_customers(&self, text: &str, limit: usize) -> Vec<CustomerMatch> {
        let needle = text.trim().to_lowercase();
        let digits: String = needle.chars().filter(char::is_ascii_digit).collect();
        if needle.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<CustomerMatch> = self
            .customers
            .iter()
            .filter(|c| {
                c.customer.name.to_lowercase().contains(&needle)
                    || c.card.as_deref().is_some_and(|card| card.contains(&needle))
                    || (!digits.is_empty()
                        && c.phone.as_deref().is_some_and(|phone| {
                            phone
                                .chars()
                                .filter(char::is_ascii_digit)
                                .collect::<String>()
                                .contains(&digits)
                        }))
            })
            .cloned()
            .collect();
        found.sort_by(|a, b| a.customer.name.cmp(&b.customer.name));
        found.truncate(limit);
        found
    }

    fn customer(&self, id: &CustomerId) -> Option<CustomerMatch> {
        self.customers
            .iter()
            .find(|c| c.customer.id == *id)
            .cloned()
    }
}

/// The people of the till with their PINs, held in memory.
pub struct MemoryStaff {
    people: Vec<(Actor, String)>,
}

impl MemoryStaff {
    pub fn new(people: Vec<(Actor, String)>) -> MemoryStaff {
        MemoryStaff { people }
    }

    /// Anna and Tom (cashiers, PINs 1234 and 2468), Sara (supervisor, 5555) and Marc
    /// (manager, 9999).
    pub fn demo() -> MemoryStaff {
        let role = |id: &str| {
            Role::defaults()
                .into_iter()
                .find(|r| r.id.as_str() == id)
                .unwrap_or_else(|| Role::new(id, id, &[]))
        };
        MemoryStaff::new(vec![
            (
                Actor::new("anna", "Anna", role("cashier")),
                "1234".to_owned(),
            ),
            (Actor::new("tom", "Tom", role("cashier")), "2468".to_owned()),
            (
                Actor::new("sara", "Sara", role("supervisor")),
                "5555".to_owned(),
            ),
            (
                Actor::new("marc", "Marc", role("manager")),
                "9999".to_owned(),
            ),
        ])
    }
}

impl Staff for MemoryStaff {
    fn people(&self) -> Vec<Actor> {
        self.people.iter().map(|(actor, _)| actor.clone()).collect()
    }

    fn pin_matches(&self, user: &UserId, pin: &str) -> bool {
        self.people
            .iter()
            .find(|(actor, _)| actor.user == *user)
            .is_some_and(|(_, expected)| same_text(expected, pin))
    }
}

/// Compares every byte so the time taken does not tell how many digits were right.
fn same_text(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    let mut difference = a.len() ^ b.len();
    for (index, byte) in a.iter().enumerate() {
        difference |= usize::from(byte ^ b.get(index).copied().unwrap_or(0));
    }
    difference == 0
}

/// Events and held carts in memory.
#[derive(Default)]
pub struct MemoryLedger {
    events: Vec<EventEnvelope>,
    held: HeldCarts,
}

impl MemoryLedger {
    pub fn new() -> MemoryLedger {
        MemoryLedger::default()
    }
}

impl MemoryLedger {
    /// Completed sales, newest first.
    fn sales(&self) -> impl Iterator<Item = &Sale> {
        self.events.iter().rev().filter_map(|e| match &e.event {
            DomainEvent::SaleCompleted(sale) => Some(sale),
            _ => None,
        })
    }

    fn newest(
        &self,
        limit: usize,
        keep: impl Fn(&Sale) -> bool,
    ) -> Result<Vec<SaleSummary>, LedgerError> {
        Ok(self
            .sales()
            .filter(|s| keep(s))
            .take(limit)
            .map(SaleSummary::of)
            .collect())
    }
}

impl SalesHistory for MemoryLedger {
    fn sale_by_receipt(&self, receipt: &ReceiptNumber) -> Result<Option<Sale>, LedgerError> {
        Ok(self.sales().find(|s| s.receipt_number == *receipt).cloned())
    }

    fn sales_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> Result<Vec<SaleSummary>, LedgerError> {
        self.newest(limit, |s| s.at >= from && s.at < to)
    }

    fn sales_of_customer(
        &self,
        customer: &CustomerId,
        limit: usize,
    ) -> Result<Vec<SaleSummary>, LedgerError> {
        self.newest(limit, |s| {
            s.loyalty
                .as_ref()
                .is_some_and(|l| l.customer.id == *customer)
        })
    }

    fn sales_by_reference(
        &self,
        reference: &str,
        limit: usize,
    ) -> Result<Vec<SaleSummary>, LedgerError> {
        let wanted = reference.trim();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        self.newest(limit, |s| {
            s.payment.tenders.iter().any(|t| {
                t.reference
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(wanted))
            })
        })
    }

    fn refunds_of_sale(&self, sale: &SaleId) -> Result<Vec<Refund>, LedgerError> {
        Ok(self
            .events
            .iter()
            .filter_map(|e| match &e.event {
                DomainEvent::RefundIssued(refund)
                    if refund.original_sale.as_ref() == Some(sale) =>
                {
                    Some(refund.clone())
                }
                _ => None,
            })
            .collect())
    }
}

impl Ledger for MemoryLedger {
    fn record(&mut self, events: Vec<EventEnvelope>) -> Result<(), LedgerError> {
        if self.events.len() + events.len() > MEMORY_EVENTS_MAX {
            return Err(LedgerError::Storage(format!(
                "the in-memory journal holds at most {MEMORY_EVENTS_MAX} events"
            )));
        }
        self.events.extend(events);
        Ok(())
    }

    fn hold(&mut self, held: HeldCart) -> Result<(), LedgerError> {
        Ok(self.held.hold(held)?)
    }

    fn resume(
        &mut self,
        id: &HeldCartId,
        device: &DeviceId,
        at: Timestamp,
    ) -> Result<HeldCart, LedgerError> {
        Ok(self.held.resume(id, device, at)?)
    }

    fn held(&self) -> Vec<HeldCart> {
        self.held.list().into_iter().cloned().collect()
    }

    fn journal_tail(&self, count: usize) -> Vec<EventEnvelope> {
        let start = self.events.len().saturating_sub(count);
        self.events[start..].to_vec()
    }

    /// Replays the journal: the last shift opened on `device` that has not closed since, with
    /// the cash moved in and out of it.
    fn open_shift(&self, device: &DeviceId) -> Result<Option<Shift>, LedgerError> {
        let mut open: Option<Shift> = None;
        for envelope in &self.events {
            match &envelope.event {
                DomainEvent::ShiftOpened(shift) if shift.device == *device => {
                    open = Some(shift.clone());
                }
                DomainEvent::CashMoved { shift, movement } => {
                    if let Some(current) = open.as_mut().filter(|s| s.id == *shift) {
                        current.cash_movements.push(movement.clone());
                    }
                }
                DomainEvent::ShiftClosed { shift, .. }
                    if open.as_ref().is_some_and(|s| s.id == shift.id) =>
                {
                    open = None;
                }
                _ => {}
            }
        }
        Ok(open)
    }

    fn shift_activity(&self, shift: &Shift) -> Result<ShiftActivity, LedgerError> {
        let mut activity = ShiftActivity::default();
        for envelope in &self.events {
            match &envelope.event {
                DomainEvent::SaleCompleted(sale) if sale.shift.as_ref() == Some(&shift.id) => {
                    activity.sales.push(sale.clone());
                }
                DomainEvent::RefundIssued(refund) if refund.shift.as_ref() == Some(&shift.id) => {
                    activity.refunds.push(refund.clone());
                }
                DomainEvent::LinesVoided(void)
                    if envelope.device == shift.device && void.at >= shift.opened_at =>
                {
                    activity.voids.push(void.clone());
                }
                _ => {}
            }
        }
        Ok(activity)
    }
}

/// Ids made by counting, prefixed with the device: deterministic for tests and the demo.
pub struct CountingIds {
    device: String,
    next: u64,
}

impl CountingIds {
    pub fn new(device: &DeviceId) -> CountingIds {
        CountingIds {
            device: device.as_str().to_owned(),
            next: 0,
        }
    }

    fn bump(&mut self) -> u64 {
        self.next += 1;
        self.next
    }
}

impl IdSource for CountingIds {
    fn sale(&mut self) -> SaleId {
        let n = self.bump();
        SaleId::new(format!("{}-sale-{n}", self.device))
    }

    fn receipt_number(&mut self) -> ReceiptNumber {
        let n = self.bump();
        ReceiptNumber::new(format!("{}-{n:05}", self.device))
    }

    fn held_cart(&mut self) -> HeldCartId {
        let n = self.bump();
        HeldCartId::new(format!("{}-held-{n}", self.device))
    }

    fn event(&mut self) -> EventId {
        let n = self.bump();
        EventId::new(format!("{}-event-{n}", self.device))
    }

    fn movement(&mut self) -> MovementId {
        let n = self.bump();
        MovementId::new(format!("{}-move-{n}", self.device))
    }

    fn refund(&mut self) -> RefundId {
        let n = self.bump();
        RefundId::new(format!("{}-refund-{n}", self.device))
    }

    fn shift(&mut self) -> ShiftId {
        let n = self.bump();
        ShiftId::new(format!("{}-shift-{n}", self.device))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_finds_by_name_and_sku_and_skips_parents() {
        let catalogue = MemoryCatalogue::demo().unwrap();
        let names: Vec<String> = catalogue
            .search("MILK", 10)
            .iter()
            .map(Product::display_name)
            .collect();
        assert_eq!(names, vec!["Whole milk 1 L"]);
        let tees = catalogue.search("tee", 10);
        assert_eq!(tees.len(), 6, "six variants, not the parent");
        assert_eq!(catalogue.search("TEE-L", 10).len(), 2);
        assert!(catalogue.search("  ", 10).is_empty());
        assert_eq!(catalogue.search("e", 3).len(), 3);
    }

    #[test]
    fn pins_must_match_exactly() {
        let staff = MemoryStaff::demo();
        let anna = UserId::new("anna");
        assert!(staff.pin_matches(&anna, "1234"));
        assert!(!staff.pin_matches(&anna, "123"));
        assert!(!staff.pin_matches(&anna, "12345"));
        assert!(!staff.pin_matches(&anna, "9999"));
        assert!(!staff.pin_matches(&UserId::new("nobody"), "1234"));
    }
}
