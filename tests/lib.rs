//! Cross-crate tests live in `tests/`. This library holds what several of them share: a
//! network receipt printer emulator.

pub mod printer_emulator;
