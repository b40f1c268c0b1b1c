//! Recorded key-event streams through the reader: what the cashier would see for each.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;

use pos_scanner::codec::{BurstRules, Source, Terminator};
use pos_scanner::decode::{DecodeRules, Decoded, Decoder};
use pos_scanner::embedded::EmbeddedValue;
use pos_scanner::key::parse_recording;
use pos_scanner::layout::Layout;
use pos_scanner::reader::{ReaderOutput, ScanReader};
use time::macros::date;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/{name}.events",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// One line per output, in the words a log would use.
fn summarise(outputs: &[ReaderOutput]) -> String {
    let mut summary = String::new();
    let mut typed = String::new();
    let flush_typed = |summary: &mut String, typed: &mut String| {
        if !typed.is_empty() {
            writeln!(summary, "typed {typed:?}").unwrap();
            typed.clear();
        }
    };
    for output in outputs {
        match output {
            ReaderOutput::Typed(keystroke) => match keystroke.text {
                Some(symbol) => typed.push(symbol),
                None => typed.push_str(&format!("<{:?}>", keystroke.key)),
            },
            ReaderOutput::Scanned { decoded, .. } => {
                flush_typed(&mut summary, &mut typed);
                let line = match decoded {
                    Decoded::Gtin { gtin, symbology } => format!("gtin {gtin} {symbology:?}"),
                    Decoded::Text { text, symbology } => format!("text {text:?} {symbology:?}"),
                    Decoded::Embedded {
                        item_code,
                        value: EmbeddedValue::Price { amount },
                        ..
                    } => {
                        format!("item {item_code} price {amount}")
                    }
                    Decoded::Embedded {
                        item_code,
                        value: EmbeddedValue::Weight { kg },
                        ..
                    } => {
                        format!("item {item_code} weight {kg} kg")
                    }
                    Decoded::Gs1 {
                        gtin,
                        batch,
                        expiry,
                        serial,
                        net_weight_kg,
                        price,
                        ..
                    } => format!(
                        "gs1 gtin {} batch {batch:?} expiry {expiry:?} serial {serial:?} net {net_weight_kg:?} kg price {price:?}",
                        gtin.as_ref().map(|g| g.to_string()).unwrap_or_default()
                    ),
                };
                writeln!(summary, "{line}").unwrap();
            }
            ReaderOutput::Rejected { error, .. } => {
                flush_typed(&mut summary, &mut typed);
                writeln!(summary, "refused: {error}").unwrap();
            }
        }
    }
    flush_typed(&mut summary, &mut typed);
    summary
}

fn check(name: &str, source: Source, layout: Layout, expected: &str) {
    let events = parse_recording(&fixture(name)).unwrap();
    let decoder = Decoder::new(DecodeRules::default()).unwrap();
    let mut reader = ScanReader::new(BurstRules::default(), source, layout, decoder);
    let outputs = reader.replay(&events, date!(2026 - 11 - 25));
    assert_eq!(summarise(&outputs), expected, "{name}");
}

#[test]
fn a_scanner_burst_is_one_scan_from_a_scanner_or_a_keyboard() {
    check(
        "scanner_ean13_us",
        Source::Scanner,
        Layout::Us,
        "gtin 4006381333931 Ean13\n",
    );
    check(
        "scanner_ean13_us",
        Source::Keyboard,
        Layout::Us,
        "gtin 4006381333931 Ean13\n",
    );
}

#[test]
fn people_typing_fast_or_slowly_are_handed_back_as_typing() {
    check(
        "fast_typist",
        Source::Keyboard,
        Layout::Us,
        "typed \"Olive Oil 500ml x2<KEY_ENTER>\"\n",
    );
    check(
        "slow_person",
        Source::Keyboard,
        Layout::Us,
        "typed \"4006381333931<KEY_ENTER>\"\n",
    );
}

#[test]
fn a_person_typing_on_a_declared_scanner_is_refused_not_scanned() {
    let events = parse_recording(&fixture("fast_typist")).unwrap();
    let decoder = Decoder::new(DecodeRules::default()).unwrap();
    let mut reader = ScanReader::new(BurstRules::default(), Source::Scanner, Layout::Us, decoder);
    let outputs = reader.replay(&events, date!(2026 - 11 - 25));
    assert!(!outputs.is_empty());
    assert!(
        outputs
            .iter()
            .all(|output| matches!(output, ReaderOutput::Rejected { .. })),
        "{outputs:?}"
    );
}

#[test]
fn layouts_decode_what_the_scanner_was_programmed_for() {
    check(
        "scanner_de_text",
        Source::Scanner,
        Layout::De,
        "text \"Yogurt-Zucker/7\" Unknown\n",
    );
    check(
        "scanner_fr_ean13",
        Source::Scanner,
        Layout::Fr,
        "gtin 3017620422003 Ean13\n",
    );
    check(
        "scanner_uk_text",
        Source::Scanner,
        Layout::Uk,
        "text \"REF@12#\\\"AB\\\"\" Unknown\n",
    );
    // Read with the wrong layout, the German label comes out garbled: the layout matters.
    check(
        "scanner_de_text",
        Source::Scanner,
        Layout::Us,
        "text \"Zogurt/Yucker&7\" Unknown\n",
    );
}

#[test]
fn gs1_datamatrix_with_group_separators() {
    check(
        "scanner_gs1_datamatrix",
        Source::Scanner,
        Layout::Us,
        "gs1 gtin 09506000134352 batch Some(\"ABC123\") expiry Some(2026-05-31) serial Some(\"SN42\") net Some(1.250) kg price None\n",
    );
}

#[test]
fn price_and_weight_embedded_codes() {
    check(
        "scanner_price_embedded",
        Source::Scanner,
        Layout::Us,
        "item 12345 price 12.99\n",
    );
    check(
        "scanner_weight_embedded",
        Source::Scanner,
        Layout::Us,
        "item 12345 weight 1.250 kg\n",
    );
    check(
        "scanner_upca_price_check",
        Source::Scanner,
        Layout::Us,
        "item 12345 price 28.75\n",
    );
}

#[test]
fn garbled_and_broken_scans_are_refused_with_a_reason() {
    check(
        "scanner_bad_check_digit",
        Source::Scanner,
        Layout::Us,
        "refused: Barcode misread: EAN-13 check digit should be 1, read 2. Scan again.\n",
    );
    check(
        "scan_interrupted_by_pause",
        Source::Scanner,
        Layout::Us,
        "refused: Scan incomplete: the scanner stopped before the end of the code. Scan again.\n\
         refused: Scan too short (5 characters, at least 6 expected). Scan again.\n",
    );
    check(
        "scan_interrupted_by_key",
        Source::Keyboard,
        Layout::Us,
        "refused: Scan interrupted by another key (KEY_ESC). Scan again.\ntyped \"<KEY_ESC>931<KEY_ENTER>\"\n",
    );
}

#[test]
fn a_scanner_without_suffix_ends_its_scan_by_silence() {
    let text = fixture("scanner_ean13_us");
    let without_enter: String = text
        .lines()
        .filter(|line| !line.contains("KEY_ENTER"))
        .map(|l| format!("{l}\n"))
        .collect();
    let events = parse_recording(&without_enter).unwrap();
    let decoder = Decoder::new(DecodeRules::default()).unwrap();
    let rules = BurstRules {
        terminator: Terminator::Silence,
        ..BurstRules::default()
    };
    let mut reader = ScanReader::new(rules, Source::Scanner, Layout::Us, decoder);
    assert_eq!(
        summarise(&reader.replay(&events, date!(2026 - 11 - 25))),
        "gtin 4006381333931 Ean13\n"
    );
    // The same stream with Enter expected is incomplete.
    let decoder = Decoder::new(DecodeRules::default()).unwrap();
    let mut reader = ScanReader::new(BurstRules::default(), Source::Scanner, Layout::Us, decoder);
    assert_eq!(
        summarise(&reader.replay(&events, date!(2026 - 11 - 25))),
        "refused: Scan incomplete: the scanner stopped before the end of the code. Scan again.\n"
    );
}
