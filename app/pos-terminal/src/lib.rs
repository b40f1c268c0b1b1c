//! The terminal: wires the domain core to the cashier.
//!
//! Today it holds the scripted demo day ([`demo_day`]): a shift at the demo store rung up
//! through `pos-core` exactly as the till will do it, printing each receipt and the Z report.
//! It owns ids and the clock (a scripted one here); the core it drives owns every rule.

pub mod demo_day;
