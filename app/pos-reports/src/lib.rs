//! Back-office reports: sales by day, hour, product, category, cashier and tender; discounts;
//! refunds with their reasons; taxes by rate; the Z history of shifts with their cash
//! discrepancies. Each report is a [`Table`] that the CSV, Excel and PDF exporters share.
//!
//! Owns: adding up completed `Sale`s, `Refund`s and Z reports over a [`Period`] of the
//! shop's calendar (`report`, pure: no IO, no clock), the table model (`table`), the three
//! file formats (`csv`, `xlsx`, `pdf`: bytes out, no files), and reading a period from the
//! encrypted store (`load`, the one module that touches `pos-store`).
//!
//! Must not touch: tax or price rules. Every tax figure here is one that `pos_core::tax`
//! already put on a sale or refund; reports only add those figures up, in `Money`, never in
//! floating point (the Excel writer turns a finished figure into a spreadsheet number at the
//! very end, because that is what a spreadsheet cell holds). Writing files to a USB stick or
//! queueing an email is the caller's: exporters return bytes.

pub mod csv;
mod error;
#[cfg(feature = "store")]
pub mod load;
pub mod pdf;
mod period;
pub mod report;
mod table;
pub mod xlsx;

pub use error::ReportError;
pub use period::Period;
pub use report::{ReportData, ReportKind};
pub use table::{Cell, Column, ColumnKind, Table};
