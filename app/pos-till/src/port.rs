//! The till's edges: where products, people, ids and the record of sales come from. Each is a
//! small trait so the encrypted store and the terminal service can implement it; the in-memory
//! implementations in [`crate::memory`] serve the desktop demo and the tests.
//!
//! [`SalesHistory`] reads past sales back for refunds and exchanges; its methods follow the
//! encrypted store's queries (`sale_by_receipt`, `sales_between`, `customer_history`,
//! `refunds_of_sale`) one for one.

use pos_core::access::Actor;
use pos_core::cart::AttachedCustomer;
use pos_core::cart::Void;
use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::event::EventEnvelope;
use pos_core::held::HeldCart;
use pos_core::id::{
    CustomerId, DeviceId, EventId, HeldCartId, MovementId, ProductId, ReceiptNumber, RefundId,
    SaleId, ShiftId, UserId,
};
use pos_core::loyalty::Tier;
use pos_core::money::Money;
use pos_core::refund::Refund;
use pos_core::sale::Sale;
use pos_core::shift::Shift;

/// Search results shown at once; more than a screenful helps nobody at the till.
pub const SEARCH_RESULTS_MAX: usize = 24;

/// Products and loyalty cards as the till looks them up.
pub trait Catalogue {
    /// A product by a code typed or scanned: a barcode or a SKU.
    fn product_by_code(&self, code: &str) -> Option<Product>;
    fn product(&self, id: &ProductId) -> Option<Product>;
    /// Sellable products whose name or SKU contains `text` (any case), at most `limit`.
    fn search(&self, text: &str, limit: usize) -> Vec<Product>;
    /// The products on the checkout's quick-pick grid, in the order the shop chose.
    fn favourites(&self) -> Vec<Product>;
    /// The customer a scanned or typed loyalty card belongs to.
    fn customer_by_card(&self, card: &str) -> Option<AttachedCustomer>;
    /// Loyalty customers whose name, phone number or card number contains `text` (any
    /// case), by name, at most `limit`.
    fn find_customers(&self, text: &str, limit: usize) -> Vec<CustomerMatch>;
    /// One loyalty customer with their tier, points and progress.
    fn customer(&self, id: &CustomerId) -> Option<CustomerMatch>;
}

/// A loyalty customer as the customer search lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerMatch {
    pub customer: AttachedCustomer,
    pub phone: Option<String>,
    pub card: Option<String>,
    /// The next tier and the spend still needed to reach it; `None` at the top tier.
    pub next_tier: Option<(Tier, Money)>,
}

/// Who may log in at this till, and their PINs.
pub trait Staff {
    /// People shown as tiles on the login screen, in display order.
    fn people(&self) -> Vec<Actor>;
    /// Whether `pin` is this person's PIN. Unknown people never match. The till counts
    /// failures and locks; this only answers yes or no.
    fn pin_matches(&self, user: &UserId, pin: &str) -> bool;
}

/// One past sale in a list to choose from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleSummary {
    pub id: SaleId,
    pub receipt_number: ReceiptNumber,
    pub at: Timestamp,
    pub cashier: UserId,
    pub total: Money,
}

impl SaleSummary {
    pub fn of(sale: &Sale) -> SaleSummary {
        SaleSummary {
            id: sale.id.clone(),
            receipt_number: sale.receipt_number.clone(),
            at: sale.at,
            cashier: sale.cashier.clone(),
            total: sale.total,
        }
    }
}

/// Completed sales and the refunds made against them, read back to refund or exchange.
pub trait SalesHistory {
    /// The sale printed with this receipt number (the barcode on the receipt).
    fn sale_by_receipt(&self, receipt: &ReceiptNumber) -> Result<Option<Sale>, LedgerError>;
    /// Sales made in `[from, to)`, newest first, at most `limit`.
    fn sales_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> Result<Vec<SaleSummary>, LedgerError>;
    /// A loyalty customer's purchases, newest first, at most `limit`.
    fn sales_of_customer(
        &self,
        customer: &CustomerId,
        limit: usize,
    ) -> Result<Vec<SaleSummary>, LedgerError>;
    /// Sales paid with a card or wallet approval whose reference is `reference` (any case),
    /// newest first, at most `limit`.
    fn sales_by_reference(
        &self,
        reference: &str,
        limit: usize,
    ) -> Result<Vec<SaleSummary>, LedgerError>;
    /// Refunds already made against a sale, oldest first: what `pos_core::refund::returnable`
    /// needs to know what can still be returned.
    fn refunds_of_sale(&self, sale: &SaleId) -> Result<Vec<Refund>, LedgerError>;
}

/// The record of what happened at the till: completed business actions as domain events, and
/// the carts parked for later. What it records, it can read back as [`SalesHistory`].
pub trait Ledger: SalesHistory {
    /// Appends the events of one business action, all or none.
    fn record(&mut self, events: Vec<EventEnvelope>) -> Result<(), LedgerError>;
    fn hold(&mut self, held: HeldCart) -> Result<(), LedgerError>;
    /// Takes a held cart back; it cannot be resumed twice.
    fn resume(
        &mut self,
        id: &HeldCartId,
        device: &DeviceId,
        at: Timestamp,
    ) -> Result<HeldCart, LedgerError>;
    /// Carts waiting, oldest first.
    fn held(&self) -> Vec<HeldCart>;
    /// The last `count` events recorded, oldest first: for the journal screen and checks.
    fn journal_tail(&self, count: usize) -> Vec<EventEnvelope>;
    /// The shift open on `device` with its cash movements, so an open shift survives a
    /// restart of the till.
    fn open_shift(&self, device: &DeviceId) -> Result<Option<Shift>, LedgerError>;
    /// What happened during `shift`: its sales and refunds, and the lines voided on its
    /// device since it opened. The X and Z reports are made from these.
    fn shift_activity(&self, shift: &Shift) -> Result<ShiftActivity, LedgerError>;
}

/// The business of one shift, as the shift report needs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShiftActivity {
    pub sales: Vec<Sale>,
    pub refunds: Vec<Refund>,
    pub voids: Vec<Void>,
}

/// Why the ledger could not record or hand back something.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Held(#[from] pos_core::held::HeldError),
    /// The storage underneath failed (disk full, database locked); the action did not happen.
    #[error("the till could not save this ({0}); try again, and call a technician if it repeats")]
    Storage(String),
}

/// Fresh, unique ids. The terminal makes ULIDs; tests count.
pub trait IdSource {
    fn sale(&mut self) -> SaleId;
    fn receipt_number(&mut self) -> ReceiptNumber;
    fn held_cart(&mut self) -> HeldCartId;
    fn event(&mut self) -> EventId;
    fn movement(&mut self) -> MovementId;
    fn refund(&mut self) -> RefundId;
    fn shift(&mut self) -> ShiftId;
}
