//! The receipt printer, the cash drawer and the customer display.
//!
//! Owns: rendering a [`pos_core::receipt::Document`] to ESC/POS bytes ([`encode`]) and back
//! ([`decode`], [`render`]) — the same decoder drives the simulated printer and the tests —,
//! code pages ([`codepage`]), raster logos ([`raster`]), real-time status ([`status`]), the
//! transports a printer hangs off ([`transport`]: USB, serial, TCP 9100, device file), a
//! persistent print queue that never loses nor doubles a receipt ([`queue`]), the drawer kick
//! and its policy ([`drawer`]), the pole display ([`display`]), PDF receipts ([`pdf`]), the
//! technician's test page ([`test_page`]) and the simulated hardware for a desktop demo
//! ([`simulated`]).
//!
//! Never touches: prices, totals, taxes or permissions. The document arrives finished from
//! the core; "no sale" permission and its log live with the terminal.
//!
//! Key decision: the codec is pure (bytes in, bytes out, no IO) and every device is a
//! [`transport::Transport`], so the real drivers, the simulated printer and the tests share
//! every line of code from the encoder down to the bytes on the wire.

pub mod codepage;
pub mod decode;
pub mod display;
pub mod drawer;
pub mod encode;
pub mod error;
pub mod pdf;
pub mod queue;
pub mod raster;
pub mod render;
pub mod simulated;
pub mod status;
pub mod test_page;
pub mod transport;
