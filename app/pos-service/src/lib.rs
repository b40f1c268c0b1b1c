//! The terminal's first-boot setup and its service screen.
//!
//! Setup ([`setup`], [`provision`], [`complete`]): the fleet address and enrolment code,
//! typed or read from a provisioning file; the store, time zone and language; the printer,
//! drawer and scanner (written as `terminal.toml`); the first administrator's PIN. Enrolment
//! talks to the fleet with the sync protocol's exchange; without a network setup finishes
//! offline. The setup state is written last and atomically, so a setup that fails half-way is
//! shown again.
//!
//! Service ([`diagnose`], [`network`], [`logs`], [`maintenance`]): the scanner test, the
//! printer test page and drawer kick, network and sync status, version and slots, log export,
//! factory reset and starting the other slot.
//!
//! [`zone`]: the store's UTC offset from the time zone chosen at setup, read from the
//! system's zone files.
//!
//! The pages are `ui/*.slint` here; they are compiled into `pos-ui`'s one window (the
//! appliance's full-screen backend drives a single window) and shown over the till.
//! [`SetupScreen`] and [`ServiceScreen`] are the only code that touches their globals.
//!
//! Owns none of the terminal's data: configuration, store, printer and RAUC are reached
//! through small traits the terminal implements ([`complete::SetupTarget`],
//! [`ServiceHardware`], [`ServiceData`], [`maintenance::SlotControl`],
//! [`logs::LogSource`]). Holds no retail rule.

pub mod complete;
pub mod diagnose;
pub mod logs;
pub mod maintenance;
pub mod network;
pub mod network_settings;
pub mod provision;
pub mod setup;
pub mod zone;

mod service_screen;
mod setup_screen;

pub use service_screen::{ServiceData, ServiceHardware, ServiceScreen, ServiceSettings};
pub use setup_screen::{Background, SetupScreen, SetupSettings};

/// The permission that opens the service screen.
pub const SERVICE_PERMISSION: &str = "service.open";

/// The version of this build: what the service screen shows where no system version is known.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
