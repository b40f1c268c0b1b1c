//! What a scan says: symbology identifier, GTIN, GS1 element string, embedded price or
//! weight, or plain text. Pure: text in, typed value or typed refusal out.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::codec::GROUP_SEPARATOR;
use crate::embedded::{self, EmbeddedRule, EmbeddedValue, RuleError};
use crate::error::ScanError;
use crate::gs1::{self, Gs1Element};
use crate::gtin::{self, Gtin};

/// The barcode symbology, from the AIM identifier (`]E0` …) when the scanner sends one,
/// otherwise inferred from the content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Symbology {
    Ean13,
    Ean8,
    UpcA,
    UpcE,
    Gtin14,
    Code128,
    Gs1_128,
    DataMatrix,
    Gs1DataMatrix,
    QrCode,
    Gs1QrCode,
    Gs1DataBar,
    /// Another AIM identifier, kept as sent (e.g. `]A0` Code 39).
    Other(String),
    /// No identifier and not recognisable from the content.
    Unknown,
}

impl Symbology {
    fn from_aim(identifier: &str) -> Symbology {
        match identifier {
            "]E0" => Symbology::Ean13,
            "]E4" => Symbology::Ean8,
            "]C0" => Symbology::Code128,
            "]C1" => Symbology::Gs1_128,
            "]d1" => Symbology::DataMatrix,
            "]d2" => Symbology::Gs1DataMatrix,
            "]Q1" => Symbology::QrCode,
            "]Q3" => Symbology::Gs1QrCode,
            "]e0" => Symbology::Gs1DataBar,
            other => Symbology::Other(other.to_string()),
        }
    }

    fn carries_gs1(&self) -> bool {
        matches!(
            self,
            Symbology::Gs1_128
                | Symbology::Gs1DataMatrix
                | Symbology::Gs1QrCode
                | Symbology::Gs1DataBar
        )
    }
}

/// A scan understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A retail item code with a valid check digit.
    Gtin { gtin: Gtin, symbology: Symbology },
    /// A GS1 element string: the item and what the label says about this unit.
    Gs1 {
        gtin: Option<Gtin>,
        batch: Option<String>,
        expiry: Option<Date>,
        serial: Option<String>,
        net_weight_kg: Option<Decimal>,
        price: Option<Decimal>,
        /// Every element, including those without a typed field above.
        elements: Vec<Gs1Element>,
        symbology: Symbology,
    },
    /// An in-store code with the price or weight printed by a scale.
    Embedded {
        barcode: Gtin,
        item_code: String,
        value: EmbeddedValue,
    },
    /// Anything else (Code 128, Code 39, QR text, internal codes): the catalogue decides.
    Text { text: String, symbology: Symbology },
}

/// Store configuration for decoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DecodeRules {
    pub embedded: Vec<EmbeddedRule>,
}

impl Default for DecodeRules {
    fn default() -> DecodeRules {
        DecodeRules {
            embedded: embedded::default_rules(),
        }
    }
}

/// Decodes scan text under validated store rules.
#[derive(Debug, Clone)]
pub struct Decoder {
    rules: DecodeRules,
}

impl Decoder {
    pub fn new(rules: DecodeRules) -> Result<Decoder, RuleError> {
        embedded::validate_rules(&rules.embedded)?;
        Ok(Decoder { rules })
    }

    /// `today` resolves two-digit years in GS1 dates (the GS1 century rule).
    pub fn decode(&self, scan_text: &str, today: Date) -> Result<Decoded, ScanError> {
        let (symbology, body) = match scan_text.get(..3) {
            Some(identifier) if identifier.starts_with(']') => {
                (Symbology::from_aim(identifier), &scan_text[3..])
            }
            _ => (Symbology::Unknown, scan_text),
        };
        if body.is_empty() {
            return Err(ScanError::UnknownFormat {
                reason: "the scan is empty".to_string(),
            });
        }
        // Some scanners send FNC1 in first position as a group separator.
        if let Some(element_string) = body.strip_prefix(GROUP_SEPARATOR) {
            let symbology = if symbology == Symbology::Unknown {
                Symbology::Gs1_128
            } else {
                symbology
            };
            return decode_gs1(element_string, symbology, today);
        }
        if symbology.carries_gs1() {
            return decode_gs1(body, symbology, today);
        }
        if symbology == Symbology::Unknown {
            if let Some(element_string) = gs1::from_human_readable(body) {
                return decode_gs1(&element_string, Symbology::Unknown, today);
            }
            // A group separator never occurs in ordinary text: a GS1 code from a scanner
            // that sends no symbology identifier.
            if body.contains(GROUP_SEPARATOR) {
                return decode_gs1(body, Symbology::Unknown, today);
            }
        }
        let all_digits = body.bytes().all(|b| b.is_ascii_digit());
        let gtin = match (&symbology, body.len()) {
            (Symbology::Ean13, 13) if all_digits => {
                (Gtin::parse(body, "EAN-13")?, Symbology::Ean13)
            }
            (Symbology::Ean13, 12) if all_digits => (Gtin::parse(body, "UPC-A")?, Symbology::UpcA),
            (Symbology::Ean13, 8) if all_digits => (gtin::expand_upc_e(body)?, Symbology::UpcE),
            (Symbology::Ean8, 8) if all_digits => (Gtin::parse(body, "EAN-8")?, Symbology::Ean8),
            (Symbology::Ean13 | Symbology::Ean8, _) => {
                return Err(ScanError::UnknownFormat {
                    reason: format!("an EAN/UPC code of {} characters", body.chars().count()),
                });
            }
            (Symbology::Unknown, 13) if all_digits => {
                (Gtin::parse(body, "EAN-13")?, Symbology::Ean13)
            }
            (Symbology::Unknown, 12) if all_digits => {
                (Gtin::parse(body, "UPC-A")?, Symbology::UpcA)
            }
            (Symbology::Unknown, 14) if all_digits => {
                (Gtin::parse(body, "GTIN-14")?, Symbology::Gtin14)
            }
            (Symbology::Unknown, 8) if all_digits => eight_digits(body)?,
            _ => {
                return Ok(Decoded::Text {
                    text: body.to_string(),
                    symbology,
                });
            }
        };
        let (gtin, symbology) = gtin;
        for rule in &self.rules.embedded {
            if let Some(read) = rule.read(&gtin) {
                let (item_code, value) = read?;
                return Ok(Decoded::Embedded {
                    barcode: gtin,
                    item_code,
                    value,
                });
            }
        }
        Ok(Decoded::Gtin { gtin, symbology })
    }
}

/// Eight digits without identifier are EAN-8 or UPC-E: EAN-8 when its check digit holds,
/// else UPC-E when that one holds (both together happen, and EAN-8 is then the likelier).
fn eight_digits(body: &str) -> Result<(Gtin, Symbology), ScanError> {
    match Gtin::parse(body, "EAN-8") {
        Ok(gtin) => Ok((gtin, Symbology::Ean8)),
        Err(ean8_error) => match gtin::expand_upc_e(body) {
            Ok(gtin) => Ok((gtin, Symbology::UpcE)),
            Err(_) => Err(ean8_error),
        },
    }
}

fn decode_gs1(
    element_string: &str,
    symbology: Symbology,
    today: Date,
) -> Result<Decoded, ScanError> {
    let elements = gs1::parse_element_string(element_string)?;
    let fields = gs1::typed_fields(&elements, today)?;
    Ok(Decoded::Gs1 {
        gtin: fields.gtin,
        batch: fields.batch,
        expiry: fields.expiry,
        serial: fields.serial,
        net_weight_kg: fields.net_weight_kg,
        price: fields.price,
        elements,
        symbology,
    })
}
