//! GTINs (EAN-13, EAN-8, UPC-A, UPC-E, GTIN-14): check digits and UPC-E expansion.

use std::fmt;

use crate::error::ScanError;

/// A GTIN whose check digit has been verified: 8, 12, 13 or 14 digits as printed.
/// A UPC-E code is held in its expanded 12-digit UPC-A form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Gtin(String);

impl Gtin {
    /// Validates length, digits and check digit. `symbology` names the code in messages.
    pub fn parse(digits: &str, symbology: &'static str) -> Result<Gtin, ScanError> {
        if !matches!(digits.len(), 8 | 12 | 13 | 14) || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(ScanError::UnknownFormat {
                reason: format!("{symbology} must be 8, 12, 13 or 14 digits, read {digits:?}"),
            });
        }
        let (body, check) = digits.split_at(digits.len() - 1);
        let expected = check_digit(body);
        let found = check.bytes().next().map_or(0, |b| b - b'0');
        if expected != found {
            return Err(ScanError::BadCheckDigit {
                symbology,
                expected,
                found,
            });
        }
        Ok(Gtin(digits.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 14-digit form (zero-padded), so that the same item scanned as UPC-A, as EAN-13 or
    /// inside a GS1 code matches one catalogue entry.
    pub fn to_gtin14(&self) -> String {
        format!("{:0>14}", self.0)
    }
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The GS1 mod-10 check digit of `body` (digits only): weights 3 and 1 from the right.
pub fn check_digit(body: &str) -> u8 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, byte)| {
            let digit = u32::from(byte.saturating_sub(b'0'));
            if index % 2 == 0 { digit * 3 } else { digit }
        })
        .sum();
    // The result is below 10, so the narrowing cannot lose anything.
    ((10 - sum % 10) % 10) as u8
}

/// Expands an 8-digit UPC-E code (number system, six digits, check digit) to the 12-digit
/// UPC-A it stands for, and verifies the check digit against that expansion.
pub fn expand_upc_e(upc_e: &str) -> Result<Gtin, ScanError> {
    let bytes = upc_e.as_bytes();
    if bytes.len() != 8 || !bytes.iter().all(u8::is_ascii_digit) || !matches!(bytes[0], b'0' | b'1')
    {
        return Err(ScanError::UnknownFormat {
            reason: format!("UPC-E must be 8 digits starting with 0 or 1, read {upc_e:?}"),
        });
    }
    let d = |index: usize| bytes[index] as char;
    let number_system = d(0);
    let (d1, d2, d3, d4, d5, d6) = (d(1), d(2), d(3), d(4), d(5), d(6));
    let body: String = match d6 {
        '0' | '1' | '2' => [number_system, d1, d2, d6, '0', '0', '0', '0', d3, d4, d5]
            .iter()
            .collect(),
        '3' => [number_system, d1, d2, d3, '0', '0', '0', '0', '0', d4, d5]
            .iter()
            .collect(),
        '4' => [number_system, d1, d2, d3, d4, '0', '0', '0', '0', '0', d5]
            .iter()
            .collect(),
        _ => [number_system, d1, d2, d3, d4, d5, '0', '0', '0', '0', d6]
            .iter()
            .collect(),
    };
    let expected = check_digit(&body);
    let found = bytes[7] - b'0';
    if expected != found {
        return Err(ScanError::BadCheckDigit {
            symbology: "UPC-E",
            expected,
            found,
        });
    }
    Ok(Gtin(format!("{body}{expected}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_of_published_codes() {
        // GS1's own example GTIN, a retail EAN-13 and an EAN-8.
        assert!(Gtin::parse("09506000134352", "GTIN").is_ok());
        assert!(Gtin::parse("4006381333931", "EAN-13").is_ok());
        assert!(Gtin::parse("96385074", "EAN-8").is_ok());
        assert!(Gtin::parse("036000291452", "UPC-A").is_ok());
        assert_eq!(
            Gtin::parse("4006381333932", "EAN-13"),
            Err(ScanError::BadCheckDigit {
                symbology: "EAN-13",
                expected: 1,
                found: 2
            })
        );
    }

    #[test]
    fn upc_e_expands_by_its_last_digit() {
        assert_eq!(
            expand_upc_e("04252614").map(|g| g.0),
            Ok("042100005264".to_string())
        );
        assert_eq!(
            expand_upc_e("01234565").map(|g| g.0),
            Ok("012345000065".to_string())
        );
        assert_eq!(
            expand_upc_e("01234531").map(|g| g.0),
            Ok("012300000451".to_string())
        );
        assert!(matches!(
            expand_upc_e("04252615"),
            Err(ScanError::BadCheckDigit { .. })
        ));
    }
}
