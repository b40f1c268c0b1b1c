//! Barcode kinds a label can carry, and what data each accepts.

use serde::{Deserialize, Serialize};

use crate::error::LabelError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BarcodeKind {
    /// Retail item codes, including in-store codes with prefix 20–29.
    Ean13,
    /// Any printable ASCII: SKUs, internal codes.
    Code128,
}

impl BarcodeKind {
    pub fn label(self) -> &'static str {
        match self {
            BarcodeKind::Ean13 => "EAN-13",
            BarcodeKind::Code128 => "Code 128",
        }
    }
}

/// Longest Code 128 content printed on a label; longer codes do not fit any shelf label.
pub const CODE128_LENGTH_MAX: usize = 48;

/// Checks `data` for `kind` and returns what to encode: for EAN-13 exactly 13 digits whose
/// last is the right check digit (a code of another length or with letters is not an EAN-13,
/// and guessing a check digit for it would print another product's code); for Code 128 the
/// text itself.
pub fn validate(kind: BarcodeKind, data: &str) -> Result<String, LabelError> {
    let refuse = |reason: String| LabelError::BarcodeData {
        kind: kind.label(),
        data: data.to_string(),
        reason,
    };
    match kind {
        BarcodeKind::Ean13 => {
            if !data.bytes().all(|b| b.is_ascii_digit()) {
                return Err(refuse(
                    "EAN-13 is digits only; choose Code 128 for this barcode".to_string(),
                ));
            }
            if data.len() != 13 {
                return Err(refuse(format!(
                    "EAN-13 has 13 digits, this has {}; choose Code 128 for this barcode",
                    data.len()
                )));
            }
            let expected = ean_check_digit(&data[..12]);
            if data.as_bytes()[12] - b'0' != expected {
                return Err(refuse(format!(
                    "its check digit should be {expected}; correct the product's barcode"
                )));
            }
            Ok(data.to_string())
        }
        BarcodeKind::Code128 => {
            if data.is_empty() || data.len() > CODE128_LENGTH_MAX {
                return Err(refuse(format!(
                    "1 to {CODE128_LENGTH_MAX} characters are needed"
                )));
            }
            if let Some(bad) = data.chars().find(|c| !(' '..='~').contains(c)) {
                return Err(refuse(format!("{bad:?} is not printable ASCII")));
            }
            Ok(data.to_string())
        }
    }
}

/// Width in modules (narrow bars), for checking that a barcode fits: EAN-13 is 95 modules;
/// Code 128 is counted in code set B (11 per character plus start, check and stop), which
/// is never narrower than what a printer's automatic code-set choice produces.
pub fn width_modules(kind: BarcodeKind, data: &str) -> u32 {
    match kind {
        BarcodeKind::Ean13 => 95,
        BarcodeKind::Code128 => {
            u32::try_from(data.len())
                .unwrap_or(u32::MAX)
                .saturating_add(3)
                .saturating_mul(11)
                + 2
        }
    }
}

/// The GS1 mod-10 check digit of 12 digits.
pub fn ean_check_digit(body: &str) -> u8 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, b)| u32::from(b - b'0') * if index % 2 == 0 { 3 } else { 1 })
        .sum();
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}
