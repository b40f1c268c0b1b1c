//! The retail domain of the terminal: money, catalogue, cart and pricing, tax, tenders, sales,
//! refunds and exchanges, held carts, stock, loyalty, shifts and X/Z reports, people and
//! permissions, tenants and stores, and the domain events that record all of it.
//!
//! This crate does no IO, reads no clock and draws no random numbers: time and ids are passed
//! in, results come out as values. It knows nothing of SQLite, Slint, printers or HTTP. That
//! keeps every rule a retailer relies on testable in microseconds and identical on the
//! terminal, the store hub and the fleet server.
//!
//! Key decision: money is `rust_decimal` tied to a currency, and every figure on a receipt,
//! an invoice or a report is produced by one tax engine ([`tax::compute`]) from settled line
//! amounts, so documents can never disagree by a cent.

pub mod access;
pub mod cart;
pub mod catalog;
pub mod clock;
pub mod demo;
pub mod event;
pub mod held;
pub mod id;
pub mod loyalty;
pub mod money;
pub mod promotion;
pub mod purchase;
pub mod quantity;
pub mod receipt;
pub mod refund;
pub mod sale;
pub mod shift;
pub mod stock;
pub mod tax;
pub mod tenant;
pub mod tender;
pub mod transfer;
pub mod zone;

#[cfg(test)]
mod testing;
