//! The terminal program: the cashier's screen over the encrypted store, with the printer,
//! drawer and scanners the configuration names (simulated on a desktop).
//!
//! It owns the runtime around the till: the data directory ([`terminal`]), the clock and ids
//! ([`ids`]), the configuration ([`config`]), the demo shop a new store starts with
//! ([`seed`]), the store-backed ports the till works through ([`ports`]), the printer and
//! drawer service ([`peripherals`]), the scanner thread ([`scanner`]) and the UI thread's
//! wiring ([`screen`]). Every retail rule is `pos-core`'s and every screen decision the
//! till's; nothing here computes a price or a total.
//!
//! The back office (`pos-backoffice`) opens over the same store through [`backoffice`]
//! (`pos-terminal back-office`).
//!
//! It also keeps the scripted demo day ([`demo_day`], `pos-terminal demo-day`): a shift rung
//! up through the core and printed as receipts and a Z report.

pub mod backoffice;
pub mod config;
pub mod demo_day;
pub mod ids;
pub mod peripherals;
pub mod ports;
pub mod scanner;
pub mod screen;
pub mod seed;
pub mod terminal;
