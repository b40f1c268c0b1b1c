//! The till session: everything the cashier's screen does, as a state machine with no UI and
//! no IO. A screen sends [`Intent`]s with the current time to [`Till::handle`] and draws
//! [`Till::view`]'s [`TillView`]: the page, cart lines with formatted amounts, totals with tax,
//! the payment with amount due and change, held carts with age and total, the shift and its
//! drawer count, and one message for the cashier. What the till needs from the hardware (print,
//! open the drawer, email a receipt) it queues as [`Effect`]s for [`Till::take_effects`].
//!
//! It owns no retail rule: prices, promotions, tax, tenders, permissions and held carts are all
//! `pos-core`'s, asked in the order a checkout needs them. It never touches Slint, a clock, a
//! file, a printer or the network: products, people, ids and the record of what happened come
//! through the small traits in [`port`], which the encrypted store implements on the appliance
//! and [`memory`] implements over the demo shop.
//!
//! Refunds, exchanges and returns without a receipt are a sub-state of the session in
//! [`refunding`], reading past sales through [`port::SalesHistory`].
//!
//! Key decision: intents are data and the session is the only place that turns them into
//! domain calls, so a manager's approval is just the refused intent run again with an approver,
//! and every flow can be tested by feeding intents and reading views.

pub mod effect;
pub mod error;
pub mod gate;
pub mod memory;
pub mod port;
pub mod session;
pub mod view;

pub use effect::{Effect, PrintPurpose};
pub use session::refunding;

pub use error::{TillError, TillErrorKind};
pub use session::{
    CartDiscountKind, Intent, ReceiptIntent, ShiftIntent, TenderChoice, Till, TillPorts, TillSetup,
};
pub use view::{Screen, TillView, Tone};

/// A till over the demo shop on terminal `T1` with in-memory edges: what the desktop demo
/// runs and the tests drive.
pub fn demo_till(now: pos_core::clock::Timestamp) -> Result<Till, DemoError> {
    let setup = TillSetup::demo()?;
    let ids = memory::CountingIds::new(&setup.device);
    let ports = TillPorts {
        catalogue: Box::new(memory::MemoryCatalogue::demo()?),
        staff: Box::new(memory::MemoryStaff::demo()),
        ledger: Box::new(memory::MemoryLedger::new()),
        ids: Box::new(ids),
    };
    Ok(Till::new(setup, ports, now))
}

/// The demo shop's data did not build; a programming error in `pos_core::demo`.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Tax(#[from] pos_core::tax::TaxError),
    #[error(transparent)]
    Catalog(#[from] pos_core::catalog::CatalogError),
}
