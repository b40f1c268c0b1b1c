//! Shelf and product labels: a layout the back office edits (label size, resolution, and
//! elements at positions: product name, price, free text, barcode, boxes and lines), checked
//! once,
//! then printed for any product as ZPL, TSPL or ESC/POS into any `std::io::Write`.
//!
//! Owns: the layout type and its validation ([`layout`]), barcode data rules ([`barcode`]),
//! the three output languages ([`zpl`], [`tspl`], [`escpos`]), and the label drawn dot for
//! dot as a picture ([`raster`]) for the back office's live preview.
//! Never touches: printer transports (USB, serial, network are the receipt-printer crate's),
//! the catalogue or prices beyond formatting the `Money` it is given.
//!
//! Key design decision: one placement step ([`Label::place`]) resolves a layout and a
//! product into elements in printer dots, refusing barcode data that is invalid for its
//! kind and prices that would run off the label; the writers only spell those placements in
//! their language, so all three print the same label, and the preview draws the same
//! placements.

pub mod barcode;
pub mod error;
pub mod escpos;
pub mod layout;
pub mod raster;
pub mod tspl;
pub mod zpl;

pub use barcode::BarcodeKind;
pub use error::{LabelError, LabelErrorKind};
pub use layout::{BarcodeText, Direction, Element, Font, Label, LabelData, LabelLayout, Placed};

/// The language a label printer speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Zpl,
    Tspl,
    EscPos,
}

impl Language {
    pub fn name(self) -> &'static str {
        match self {
            Language::Zpl => "ZPL",
            Language::Tspl => "TSPL",
            Language::EscPos => "ESC/POS",
        }
    }

    /// Writes `copies` of one product's label in this language.
    pub fn write(
        self,
        label: &Label,
        data: &LabelData,
        copies: u32,
        out: &mut impl std::io::Write,
    ) -> Result<(), LabelError> {
        match self {
            Language::Zpl => zpl::write_zpl(label, data, copies, out),
            Language::Tspl => tspl::write_tspl(label, data, copies, out),
            Language::EscPos => escpos::write_escpos(label, data, copies, out),
        }
    }
}

/// Most labels one job may print.
pub const COPIES_MAX: u32 = 999;

fn copies_in_range(copies: u32) -> Result<(), LabelError> {
    if (1..=COPIES_MAX).contains(&copies) {
        Ok(())
    } else {
        Err(LabelError::BadCopies { copies })
    }
}
