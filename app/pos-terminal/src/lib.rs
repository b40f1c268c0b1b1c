//! The terminal program: the cashier's screen over the encrypted store, with the printer,
//! drawer and scanners the configuration names (simulated on a desktop).
//!
//! It owns the runtime around the till: the data directory ([`terminal`]), the clock and ids
//! ([`ids`]), the configuration ([`config`]) and the back office's hardware settings written
//! into it and put to use at once ([`hardware`]), the demo shop a new store starts with
//! ([`seed`]), the store-backed ports the till works through ([`ports`]), the printer and
//! drawer service ([`peripherals`]), the customer's pole display ([`pole`]), the scanner
//! thread ([`scanner`]), the UI thread's wiring ([`screen`]), the sync agent ([`sync_agent`]),
//! which sends the journal to the fleet and applies what it pulls, the update agent's thread
//! ([`update_agent`]), systemd's readiness and watchdog pings ([`watchdog`]), and the first-boot setup and service screen over all of these
//! ([`service`]). Every retail rule is `pos-core`'s and every screen decision the
//! till's; nothing here computes a price or a total.
//!
//! The back office (`pos-backoffice`) opens over the till, on the same store, through
//! [`backoffice`]; a manager enters it from the login page. Its labels print on the label
//! printer `[label_printer]` names ([`label_printer`]; a simulated one files them).
//!
//! It also keeps the scripted demo day ([`demo_day`], `pos-terminal demo-day`): a shift rung
//! up through the core and printed as receipts and a Z report.

pub mod backoffice;
pub mod config;
pub mod demo_day;
pub mod hardware;
pub mod ids;
pub mod label_printer;
pub mod peripherals;
pub mod pole;
pub mod ports;
pub mod scanner;
pub mod screen;
pub mod seed;
pub mod service;
pub mod sync_agent;
pub mod terminal;
pub mod update_agent;
pub mod watchdog;
