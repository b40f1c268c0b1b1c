//! Cross-crate tests live in `tests/`. This library holds what several of them, and the
//! terminal's own tests, share: a receipt printer emulator on the network and on a serial line.

pub mod printer_emulator;
