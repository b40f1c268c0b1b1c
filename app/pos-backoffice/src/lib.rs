//! The back office on the terminal: products (search, filters, the form, variants made as a
//! size × colour matrix, in-store barcodes, CSV and Excel imports with a preview), stock
//! (levels per batch, goods receipts with lot and expiry, adjustments with reason codes,
//! counts with their variance, expiring batches and write-offs, reorder quantities, purchase
//! orders to vendors received against with lot and expiry, transfers between stores requested
//! line by line, sent, received, cancelled or refused), reports
//! on screen and exported, today's dashboard, customers and loyalty (the customer's card with
//! tier, purchases and points ledger; the loyalty settings), people (staff, roles with
//! their permission tree, PIN resets, the override log), shelf labels (layouts of texts,
//! barcodes of either type, boxes and lines dragged into place on a preview of the printed
//! label, saved by name, printed for chosen products),
//! and the shop's settings (store details and currency, taxes and rounding, receipt text and
//! logo, discount limits per role, feature switches, and this terminal's hardware through
//! `settings::TerminalHardware`).
//!
//! It owns the back office's checks and screens. Retail rules are `pos-core`'s (product
//! validation, count corrections, reorder quantities, loyalty tiers and earn rates,
//! permissions and who may change them), report figures are `pos-reports`', and storage is
//! reached only through [`Books`], implemented over the terminal's store: every change is a
//! domain event recorded in the journal, so it syncs. It never touches a device (labels reach
//! the printer through the [`LabelPrinter`] the terminal hands it) and holds no price or tax
//! rule of its own.
//!
//! Key decision: like the till, the `.slint` pages bind only to a few globals (`Office`,
//! `Products`, `Stock`, `Orders`, `Reports`, `Dash`, `Customers`, `People`, `Labels`,
//! `Settings`) with sample defaults; [`BackOfficeScreen`] is the one bridge that copies views into them and turns their
//! callbacks into [`BackOffice`] actions, each checked against the signed-in person's role
//! first. The pages are `ui/*.slint` here but compiled into `pos-ui`'s one window (the
//! appliance's full-screen backend drives a single window): a manager enters from the till's
//! login page, signs in with a PIN at the door the service screen shares, and goes back to the
//! till.

pub mod books;
pub mod customers;
pub mod export;
pub mod import;
pub mod labels;
pub mod office;
pub mod orders;
pub mod people;
pub mod product_form;
mod screen;
pub mod settings;

pub use books::{Books, SharedStore};
pub use labels::LabelPrinter;
pub use office::{BackOffice, BackOfficeError};
pub use screen::BackOfficeScreen;
