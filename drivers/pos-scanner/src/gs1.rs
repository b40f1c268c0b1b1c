//! GS1 element strings (GS1-128, GS1 DataMatrix, GS1 QR, GS1 DataBar): application
//! identifiers and their values.
//!
//! Fixed-length fields run to their length; variable-length fields end at a group separator
//! (FNC1, sent as 0x1D) or at the end of the data. An identifier this table does not know
//! cannot be delimited safely, so it refuses the whole code rather than guess.

use rust_decimal::Decimal;
use time::{Date, Month};

use crate::codec::GROUP_SEPARATOR;
use crate::error::ScanError;
use crate::gtin::Gtin;

/// One application identifier and its raw value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gs1Element {
    pub ai: String,
    pub value: String,
}

/// Field shape: fixed length or variable up to a maximum.
#[derive(Debug, Clone, Copy)]
enum Length {
    Fixed(usize),
    UpTo(usize),
}

/// Identifier prefix, identifier length, value length, numeric only.
const TABLE: &[(&str, usize, Length, bool)] = &[
    ("00", 2, Length::Fixed(18), true),
    ("01", 2, Length::Fixed(14), true),
    ("02", 2, Length::Fixed(14), true),
    ("10", 2, Length::UpTo(20), false),
    ("11", 2, Length::Fixed(6), true),
    ("12", 2, Length::Fixed(6), true),
    ("13", 2, Length::Fixed(6), true),
    ("15", 2, Length::Fixed(6), true),
    ("16", 2, Length::Fixed(6), true),
    ("17", 2, Length::Fixed(6), true),
    ("20", 2, Length::Fixed(2), true),
    ("21", 2, Length::UpTo(20), false),
    ("22", 2, Length::UpTo(20), false),
    ("240", 3, Length::UpTo(30), false),
    ("241", 3, Length::UpTo(30), false),
    ("250", 3, Length::UpTo(30), false),
    ("251", 3, Length::UpTo(30), false),
    ("254", 3, Length::UpTo(20), false),
    ("30", 2, Length::UpTo(8), true),
    // 31nn–36nn: measures, six digits, the fourth identifier digit is the decimal count.
    ("31", 4, Length::Fixed(6), true),
    ("32", 4, Length::Fixed(6), true),
    ("33", 4, Length::Fixed(6), true),
    ("34", 4, Length::Fixed(6), true),
    ("35", 4, Length::Fixed(6), true),
    ("36", 4, Length::Fixed(6), true),
    ("37", 2, Length::UpTo(8), true),
    ("390", 4, Length::UpTo(15), true),
    ("391", 4, Length::UpTo(18), true),
    ("392", 4, Length::UpTo(15), true),
    ("393", 4, Length::UpTo(18), true),
    ("400", 3, Length::UpTo(30), false),
    ("401", 3, Length::UpTo(30), false),
    ("402", 3, Length::Fixed(17), true),
    ("403", 3, Length::UpTo(30), false),
    ("41", 3, Length::Fixed(13), true),
    ("420", 3, Length::UpTo(20), false),
    ("421", 3, Length::UpTo(12), false),
    ("422", 3, Length::Fixed(3), true),
    ("7003", 4, Length::Fixed(10), true),
    ("8008", 4, Length::UpTo(12), true),
];

/// Splits an element string (no symbology identifier, no leading FNC1) into elements.
pub fn parse_element_string(data: &str) -> Result<Vec<Gs1Element>, ScanError> {
    let mut rest = data;
    let mut elements = Vec::new();
    // Each turn consumes at least the two-digit identifier, so this ends; the bound is for
    // the reader.
    while !rest.is_empty() && elements.len() < 64 {
        let (_, ai_length, length, numeric) = TABLE
            .iter()
            .copied()
            .find(|(prefix, ..)| rest.starts_with(prefix))
            .ok_or_else(|| ScanError::UnknownApplicationIdentifier {
                ai: rest.chars().take(4).collect(),
            })?;
        let ai: String = rest.chars().take(ai_length).collect();
        if ai.len() != ai_length || !ai.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ScanError::UnknownApplicationIdentifier { ai });
        }
        rest = &rest[ai_length..];
        let value: String = match length {
            Length::Fixed(count) => {
                let value: String = rest.chars().take(count).collect();
                if value.chars().count() != count || value.contains(GROUP_SEPARATOR) {
                    return Err(invalid(&ai, format!("{count} characters expected")));
                }
                value
            }
            Length::UpTo(count_max) => {
                let value: String = rest.chars().take_while(|c| *c != GROUP_SEPARATOR).collect();
                if value.is_empty() || value.chars().count() > count_max {
                    return Err(invalid(
                        &ai,
                        format!("1 to {count_max} characters expected"),
                    ));
                }
                value
            }
        };
        rest = &rest[value.len()..];
        if numeric && !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(&ai, "digits expected".to_string()));
        }
        rest = rest.strip_prefix(GROUP_SEPARATOR).unwrap_or(rest);
        elements.push(Gs1Element { ai, value });
    }
    if !rest.is_empty() {
        return Err(invalid("", "too many fields".to_string()));
    }
    Ok(elements)
}

/// Converts the human-readable form `(01)09506000134352(10)AB12` to an element string.
pub fn from_human_readable(text: &str) -> Option<String> {
    let mut element_string = String::new();
    let mut rest = text.strip_prefix('(')?;
    loop {
        let (ai, after) = rest.split_once(')')?;
        if ai.is_empty() || ai.len() > 4 || !ai.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (value, next) = match after.split_once('(') {
            Some((value, next)) => (value, Some(next)),
            None => (after, None),
        };
        element_string.push_str(ai);
        element_string.push_str(value);
        match next {
            Some(next) => {
                element_string.push(GROUP_SEPARATOR);
                rest = next;
            }
            None => return Some(element_string),
        }
    }
}

fn invalid(ai: &str, reason: String) -> ScanError {
    ScanError::InvalidElement {
        ai: ai.to_string(),
        reason,
    }
}

/// The typed fields a till uses, read from the elements.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Gs1Fields {
    pub gtin: Option<Gtin>,
    pub batch: Option<String>,
    pub expiry: Option<Date>,
    pub serial: Option<String>,
    pub net_weight_kg: Option<Decimal>,
    pub price: Option<Decimal>,
}

pub fn typed_fields(elements: &[Gs1Element], today: Date) -> Result<Gs1Fields, ScanError> {
    let mut fields = Gs1Fields::default();
    for Gs1Element { ai, value } in elements {
        match ai.as_str() {
            "01" => fields.gtin = Some(Gtin::parse(value, "GTIN")?),
            "10" => fields.batch = Some(value.clone()),
            "17" => fields.expiry = Some(gs1_date(ai, value, today)?),
            "21" => fields.serial = Some(value.clone()),
            _ if ai.starts_with("310") => {
                fields.net_weight_kg = Some(decimal_with_places(ai, value)?)
            }
            _ if ai.starts_with("392") => fields.price = Some(decimal_with_places(ai, value)?),
            _ => {}
        }
    }
    Ok(fields)
}

/// A value whose decimal count is the identifier's last digit (310x, 392x).
fn decimal_with_places(ai: &str, value: &str) -> Result<Decimal, ScanError> {
    let places = ai
        .bytes()
        .last()
        .map_or(0, |b| u32::from(b.saturating_sub(b'0')));
    let raw: i64 = value
        .parse()
        .map_err(|_| invalid(ai, "number too large".to_string()))?;
    Decimal::try_new(raw, places).map_err(|_| invalid(ai, "number out of range".to_string()))
}

/// YYMMDD with the GS1 century rule, and day 00 meaning the last day of the month.
fn gs1_date(ai: &str, value: &str, today: Date) -> Result<Date, ScanError> {
    let number =
        |range: std::ops::Range<usize>| value.get(range).and_then(|s| s.parse::<i32>().ok());
    let (Some(yy), Some(mm), Some(dd)) = (number(0..2), number(2..4), number(4..6)) else {
        return Err(invalid(ai, "date YYMMDD expected".to_string()));
    };
    // GS1 General Specifications 7.12: a two-digit year more than 50 years ahead is in the
    // last century, one 50 or more years behind is in the next.
    let this_year = today.year();
    let difference = yy - this_year % 100;
    let century = this_year - this_year % 100
        + if difference >= 51 {
            -100
        } else if difference <= -50 {
            100
        } else {
            0
        };
    let year = century + yy;
    let month = u8::try_from(mm)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(|| invalid(ai, format!("month {mm:02} does not exist")))?;
    let day = if dd == 0 {
        month.length(year)
    } else {
        u8::try_from(dd).unwrap_or(u8::MAX)
    };
    Date::from_calendar_date(year, month, day)
        .map_err(|_| invalid(ai, format!("day {dd:02} does not exist in {year}-{mm:02}")))
}
