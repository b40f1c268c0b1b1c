//! Price- and weight-embedded in-store codes: EAN-13 with a restricted-circulation prefix
//! (`02`, `20`–`29`) carrying an item code and a price or weight printed by a scale.
//!
//! Which prefix means what differs by country and by store, so every rule is configuration.
//! Positions count from 0 over the 13-digit form (a UPC-A `2…` is read as `02…`).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::ScanError;
use crate::gtin::Gtin;

/// What the embedded number is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddedKind {
    /// A weight in kilograms.
    Weight,
    /// A price in the store's currency.
    Price,
}

/// The value read from an embedded code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddedValue {
    Weight { kg: Decimal },
    Price { amount: Decimal },
}

/// One store rule: codes starting with `prefix` carry an item code and a value here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddedRule {
    /// Leading digits of the 13-digit form, e.g. `"02"` or `"21"`.
    pub prefix: String,
    pub kind: EmbeddedKind,
    pub item_code_start: usize,
    pub item_code_length: usize,
    pub value_start: usize,
    /// 4 or 5 digits when a price check digit is present; up to 6 otherwise.
    pub value_length: usize,
    /// Digits after the decimal point: 2 for cents, 3 for grams in kilograms.
    pub value_decimals: u32,
    /// Position of the GS1 price/weight check digit over the value, if the scale prints one.
    pub value_check_digit_position: Option<usize>,
}

/// A rule that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("embedded-code prefix {prefix:?} must be 1 to 3 digits")]
    BadPrefix { prefix: String },
    #[error("embedded-code rule {prefix:?}: {field} must lie within the first 12 digits")]
    OutOfRange { prefix: String, field: &'static str },
    #[error("embedded-code rule {prefix:?}: a value check digit needs a 4- or 5-digit value")]
    CheckDigitNeedsFourOrFiveDigits { prefix: String },
    #[error("embedded-code rule {prefix:?}: {field} overlaps another field")]
    Overlap { prefix: String, field: &'static str },
    #[error("embedded-code rules {prefix:?} appear twice")]
    DuplicatePrefix { prefix: String },
}

impl EmbeddedRule {
    /// A rule for `prefix` with the common layout `PP IIIII VVVVV C`.
    pub fn five_digit_value(prefix: &str, kind: EmbeddedKind, value_decimals: u32) -> EmbeddedRule {
        EmbeddedRule {
            prefix: prefix.to_string(),
            kind,
            item_code_start: 2,
            item_code_length: 5,
            value_start: 7,
            value_length: 5,
            value_decimals,
            value_check_digit_position: None,
        }
    }

    pub fn validate(&self) -> Result<(), RuleError> {
        let prefix = || self.prefix.clone();
        if self.prefix.is_empty()
            || self.prefix.len() > 3
            || !self.prefix.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(RuleError::BadPrefix { prefix: prefix() });
        }
        let item = self.item_code_start..self.item_code_start + self.item_code_length;
        let value = self.value_start..self.value_start + self.value_length;
        if self.item_code_length == 0 || item.end > 12 || item.start < self.prefix.len() {
            return Err(RuleError::OutOfRange {
                prefix: prefix(),
                field: "the item code",
            });
        }
        if self.value_length == 0
            || self.value_length > 6
            || value.end > 12
            || value.start < self.prefix.len()
        {
            return Err(RuleError::OutOfRange {
                prefix: prefix(),
                field: "the value",
            });
        }
        if item.start < value.end && value.start < item.end {
            return Err(RuleError::Overlap {
                prefix: prefix(),
                field: "the value",
            });
        }
        if let Some(position) = self.value_check_digit_position {
            if !matches!(self.value_length, 4 | 5) {
                return Err(RuleError::CheckDigitNeedsFourOrFiveDigits { prefix: prefix() });
            }
            if position >= 12 || position < self.prefix.len() {
                return Err(RuleError::OutOfRange {
                    prefix: prefix(),
                    field: "the check digit",
                });
            }
            if item.contains(&position) || value.contains(&position) {
                return Err(RuleError::Overlap {
                    prefix: prefix(),
                    field: "the check digit",
                });
            }
        }
        Ok(())
    }

    /// Reads an embedded code; `None` when the prefix does not match.
    pub fn read(&self, gtin: &Gtin) -> Option<Result<(String, EmbeddedValue), ScanError>> {
        let thirteen = format!("{:0>13}", gtin.as_str());
        if thirteen.len() != 13 || !thirteen.starts_with(self.prefix.as_str()) {
            return None;
        }
        let digits =
            |start: usize, length: usize| thirteen.get(start..start + length).unwrap_or("");
        let item_code = digits(self.item_code_start, self.item_code_length).to_string();
        let value_digits = digits(self.value_start, self.value_length);
        if let Some(position) = self.value_check_digit_position {
            let expected = value_check_digit(value_digits);
            let found = thirteen
                .as_bytes()
                .get(position)
                .map_or(0, |b| b.saturating_sub(b'0'));
            if Some(found) != expected {
                return Some(Err(ScanError::BadPriceCheckDigit {
                    expected: expected.unwrap_or(0),
                    found,
                }));
            }
        }
        let raw: i64 = value_digits.parse().ok()?;
        let value = Decimal::new(raw, self.value_decimals);
        Some(Ok((
            item_code,
            match self.kind {
                EmbeddedKind::Weight => EmbeddedValue::Weight { kg: value },
                EmbeddedKind::Price => EmbeddedValue::Price { amount: value },
            },
        )))
    }
}

/// The rules a store starts with: UPC-A `2` price codes with a price check digit (US scales),
/// `20` prices in cents and `21` weights in grams (common in Europe). Stores edit them.
pub fn default_rules() -> Vec<EmbeddedRule> {
    vec![
        EmbeddedRule {
            prefix: "02".to_string(),
            kind: EmbeddedKind::Price,
            item_code_start: 2,
            item_code_length: 5,
            value_start: 8,
            value_length: 4,
            value_decimals: 2,
            value_check_digit_position: Some(7),
        },
        EmbeddedRule::five_digit_value("20", EmbeddedKind::Price, 2),
        EmbeddedRule::five_digit_value("21", EmbeddedKind::Weight, 3),
    ]
}

/// Checks a list of rules: each valid, no prefix twice.
pub fn validate_rules(rules: &[EmbeddedRule]) -> Result<(), RuleError> {
    for (index, rule) in rules.iter().enumerate() {
        rule.validate()?;
        if rules[..index]
            .iter()
            .any(|earlier| earlier.prefix == rule.prefix)
        {
            return Err(RuleError::DuplicatePrefix {
                prefix: rule.prefix.clone(),
            });
        }
    }
    Ok(())
}

// GS1 General Specifications, price/weight check digits: each digit is mapped through a
// weighting table, the products summed.
const WEIGHT_2_MINUS: [u8; 10] = [0, 2, 4, 6, 8, 9, 1, 3, 5, 7];
const WEIGHT_3: [u8; 10] = [0, 3, 6, 9, 2, 5, 8, 1, 4, 7];
const WEIGHT_5_PLUS: [u8; 10] = [0, 5, 1, 6, 2, 7, 3, 8, 4, 9];
const WEIGHT_5_MINUS: [u8; 10] = [0, 5, 9, 4, 8, 3, 7, 2, 6, 1];

/// The GS1 check digit of a 4- or 5-digit price or weight; `None` for other lengths.
pub fn value_check_digit(value_digits: &str) -> Option<u8> {
    let digits: Vec<usize> = value_digits
        .bytes()
        .map(|b| usize::from(b.saturating_sub(b'0')) % 10)
        .collect();
    match digits.as_slice() {
        [a, b, c, d] => {
            let sum = u32::from(WEIGHT_2_MINUS[*a])
                + u32::from(WEIGHT_2_MINUS[*b])
                + u32::from(WEIGHT_3[*c])
                + u32::from(WEIGHT_5_MINUS[*d]);
            u8::try_from((sum * 3) % 10).ok()
        }
        [a, b, c, d, e] => {
            let sum = u32::from(WEIGHT_5_PLUS[*a])
                + u32::from(WEIGHT_2_MINUS[*b])
                + u32::from(WEIGHT_5_MINUS[*c])
                + u32::from(WEIGHT_5_PLUS[*d])
                + u32::from(WEIGHT_2_MINUS[*e]);
            let target = u8::try_from((10 - sum % 10) % 10).ok()?;
            // The check digit is the digit whose 5- product is the target.
            WEIGHT_5_MINUS
                .iter()
                .position(|product| *product == target)
                .and_then(|d| u8::try_from(d).ok())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_check_digits_match_the_gs1_worked_examples() {
        assert_eq!(value_check_digit("2875"), Some(9));
        assert_eq!(value_check_digit("14685"), Some(6));
        assert_eq!(value_check_digit("123"), None);
    }

    #[test]
    fn every_rule_error_is_reported() {
        let good = EmbeddedRule::five_digit_value("21", EmbeddedKind::Weight, 3);
        assert_eq!(good.validate(), Ok(()));
        let bad_prefix = EmbeddedRule {
            prefix: "2x".into(),
            ..good.clone()
        };
        assert!(matches!(
            bad_prefix.validate(),
            Err(RuleError::BadPrefix { .. })
        ));
        let value_into_check_digit = EmbeddedRule {
            value_start: 8,
            ..good.clone()
        };
        assert!(matches!(
            value_into_check_digit.validate(),
            Err(RuleError::OutOfRange {
                field: "the value",
                ..
            })
        ));
        let overlapping = EmbeddedRule {
            item_code_length: 6,
            ..good.clone()
        };
        assert!(matches!(
            overlapping.validate(),
            Err(RuleError::Overlap { .. })
        ));
        let six_digit_checked = EmbeddedRule {
            value_start: 6,
            value_length: 6,
            item_code_length: 4,
            value_check_digit_position: Some(12),
            ..good.clone()
        };
        assert!(matches!(
            six_digit_checked.validate(),
            Err(RuleError::CheckDigitNeedsFourOrFiveDigits { .. })
        ));
        let check_in_value = EmbeddedRule {
            value_check_digit_position: Some(8),
            ..good.clone()
        };
        assert!(matches!(
            check_in_value.validate(),
            Err(RuleError::Overlap {
                field: "the check digit",
                ..
            })
        ));
        assert_eq!(
            validate_rules(&[good.clone(), good]).map_err(|e| e.to_string()),
            Err("embedded-code rules \"21\" appear twice".to_string())
        );
        assert_eq!(validate_rules(&default_rules()), Ok(()));
    }
}
