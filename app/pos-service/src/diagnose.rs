//! What the service screen says about a scan, the sync backlog and the update state, as lines
//! of text. Pure: values in, text out.

use pos_scanner::decode::{Decoded, Decoder, Symbology};
use pos_scanner::embedded::EmbeddedValue;

/// A scan as the technician sees it on the scanner test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanReport {
    /// The scan was understood.
    pub ok: bool,
    /// One line: what kind of code it is, or why it was refused.
    pub title: String,
    /// The details, one per line.
    pub details: Vec<String>,
}

/// Decodes `scan` (the text the scanner typed, with its AIM identifier if it sends one).
pub fn scan_report(decoder: &Decoder, scan: &str, today: time::Date) -> ScanReport {
    let shown = scan.replace('\u{1d}', "<GS>");
    match decoder.decode(scan, today) {
        Err(error) => ScanReport {
            ok: false,
            title: error.to_string(),
            details: vec![format!("Read: {shown}")],
        },
        Ok(Decoded::Gtin { gtin, symbology }) => ScanReport {
            ok: true,
            title: format!("{} · GTIN {gtin}", symbology_name(&symbology)),
            details: vec![format!("Read: {shown}")],
        },
        Ok(Decoded::Gs1 {
            gtin,
            batch,
            expiry,
            serial,
            net_weight_kg,
            price,
            elements,
            symbology,
        }) => {
            let mut details = Vec::new();
            if let Some(gtin) = gtin {
                details.push(format!("GTIN {gtin}"));
            }
            if let Some(batch) = batch {
                details.push(format!("Batch {batch}"));
            }
            if let Some(expiry) = expiry {
                details.push(format!("Expiry {expiry}"));
            }
            if let Some(serial) = serial {
                details.push(format!("Serial {serial}"));
            }
            if let Some(kg) = net_weight_kg {
                details.push(format!("Net weight {kg} kg"));
            }
            if let Some(price) = price {
                details.push(format!("Price {price}"));
            }
            let ais: Vec<String> = elements
                .iter()
                .map(|e| format!("({}) {}", e.ai, e.value))
                .collect();
            details.push(format!("AIs {}", ais.join(" ")));
            ScanReport {
                ok: true,
                title: format!("{} · GS1 element string", symbology_name(&symbology)),
                details,
            }
        }
        Ok(Decoded::Embedded {
            barcode,
            item_code,
            value,
        }) => {
            let value = match value {
                EmbeddedValue::Weight { kg } => format!("Embedded weight {kg} kg"),
                EmbeddedValue::Price { amount } => format!("Embedded price {amount}"),
            };
            ScanReport {
                ok: true,
                title: format!("In-store code · item {item_code}"),
                details: vec![value, format!("Barcode {barcode}")],
            }
        }
        Ok(Decoded::Text { text, symbology }) => ScanReport {
            ok: true,
            title: format!("{} · text", symbology_name(&symbology)),
            details: vec![format!("Read: {}", text.replace('\u{1d}', "<GS>"))],
        },
    }
}

fn symbology_name(symbology: &Symbology) -> String {
    match symbology {
        Symbology::Ean13 => "EAN-13".to_owned(),
        Symbology::Ean8 => "EAN-8".to_owned(),
        Symbology::UpcA => "UPC-A".to_owned(),
        Symbology::UpcE => "UPC-E".to_owned(),
        Symbology::Gtin14 => "GTIN-14".to_owned(),
        Symbology::Code128 => "Code 128".to_owned(),
        Symbology::Gs1_128 => "GS1-128".to_owned(),
        Symbology::DataMatrix => "Data Matrix".to_owned(),
        Symbology::Gs1DataMatrix => "GS1 DataMatrix".to_owned(),
        Symbology::QrCode => "QR Code".to_owned(),
        Symbology::Gs1QrCode => "GS1 QR Code".to_owned(),
        Symbology::Gs1DataBar => "GS1 DataBar".to_owned(),
        Symbology::Other(aim) => format!("Symbology {aim}"),
        Symbology::Unknown => "Unknown symbology".to_owned(),
    }
}

/// The journal's state towards the fleet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncStatus {
    /// Journal entries the fleet has not acknowledged.
    pub backlog: u64,
    /// When the fleet last acknowledged something, when known.
    pub last_sync_ms: Option<i64>,
    pub enrolled: bool,
}

impl SyncStatus {
    /// The backlog from the journal's last sequence number and the acknowledged one.
    pub fn from_journal(last_seq: u64, acknowledged_seq: u64, enrolled: bool) -> SyncStatus {
        SyncStatus {
            backlog: last_seq.saturating_sub(acknowledged_seq),
            last_sync_ms: None,
            enrolled,
        }
    }

    /// The status bar's short form: "Sync ✓" or "Sync 12".
    pub fn compact(&self) -> String {
        if self.backlog == 0 {
            "Sync ✓".to_owned()
        } else {
            format!("Sync {}", self.backlog)
        }
    }
}

/// The installed software and the slots, as the service screen shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateStatus {
    pub installed_version: String,
    /// The slot running now ("A", "B"), when the terminal runs from a slot.
    pub booted_slot: Option<String>,
    /// One line per slot: "rootfs.1 (B): inactive, good, 1.4.0".
    pub slots: Vec<String>,
    /// What the update agent is doing, or why slot status is unknown.
    pub state: String,
}

impl UpdateStatus {
    /// The status bar's short form.
    pub fn compact(&self) -> String {
        match &self.booted_slot {
            Some(slot) => format!("v{} · {slot}", self.installed_version),
            None => format!("v{}", self.installed_version),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pos_scanner::decode::DecodeRules;

    fn today() -> time::Date {
        time::macros::date!(2026 - 03 - 02)
    }

    #[test]
    fn a_gs1_scan_shows_its_elements() {
        let decoder = Decoder::new(DecodeRules::default()).unwrap();
        let report = scan_report(&decoder, "]C101040063813339311726123110LOT42", today());
        assert!(report.ok, "{report:?}");
        assert_eq!(report.title, "GS1-128 · GS1 element string");
        assert!(
            report.details.contains(&"GTIN 04006381333931".to_owned()),
            "{report:?}"
        );
        assert!(
            report.details.contains(&"Batch LOT42".to_owned()),
            "{report:?}"
        );
        assert!(
            report.details.contains(&"Expiry 2026-12-31".to_owned()),
            "{report:?}"
        );
    }

    #[test]
    fn a_misread_ean_says_so() {
        let decoder = Decoder::new(DecodeRules::default()).unwrap();
        let report = scan_report(&decoder, "4006381333932", today());
        assert!(!report.ok);
        assert!(report.title.contains("check digit"), "{report:?}");
    }

    #[test]
    fn a_weighed_item_shows_its_weight() {
        let decoder = Decoder::new(DecodeRules::default()).unwrap();
        let report = scan_report(&decoder, "2112345012346", today());
        assert!(report.ok, "{report:?}");
        assert!(
            report.details[0].starts_with("Embedded weight"),
            "{report:?}"
        );
    }

    #[test]
    fn the_backlog_is_what_the_fleet_has_not_acknowledged() {
        let status = SyncStatus::from_journal(42, 30, true);
        assert_eq!(status.backlog, 12);
        assert_eq!(status.compact(), "Sync 12");
        assert_eq!(SyncStatus::from_journal(30, 30, true).compact(), "Sync ✓");
    }
}
