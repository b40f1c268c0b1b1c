//! Codec corner cases and every refusal reason, each as the cashier would meet it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pos_scanner::codec::{BurstCodec, BurstRules, CodecOutput, Source, Terminator};
use pos_scanner::decode::{DecodeRules, Decoded, Decoder, Symbology};
use pos_scanner::embedded::{EmbeddedKind, EmbeddedRule, EmbeddedValue};
use pos_scanner::error::{ScanError, ScanErrorKind};
use pos_scanner::key::{KeyCode, KeyEvent, parse_recording};
use pos_scanner::layout::Layout;
use pos_scanner::reader::{ReaderOutput, SimulatedScanner, key_events_for_text};
use rust_decimal_macros::dec;
use time::macros::date;

const TODAY: time::Date = date!(2026 - 11 - 25);

fn codec_outputs(rules: BurstRules, source: Source, events: &[KeyEvent]) -> Vec<CodecOutput> {
    let mut codec = BurstCodec::new(rules, source, Layout::Us);
    let mut outputs = Vec::new();
    for event in events {
        codec.handle_event(*event);
        outputs.extend(std::iter::from_fn(|| codec.poll_output()));
    }
    if let Some(deadline) = codec.poll_timeout() {
        codec.handle_timeout(deadline);
        outputs.extend(std::iter::from_fn(|| codec.poll_output()));
    }
    outputs
}

fn scanned(text: &str, gap_us: u64) -> Vec<KeyEvent> {
    key_events_for_text(Layout::Us, text, 1_000_000, std::iter::repeat(gap_us), 400).unwrap()
}

fn scan_texts(outputs: &[CodecOutput]) -> Vec<String> {
    outputs
        .iter()
        .filter_map(|output| match output {
            CodecOutput::Scan(scan) => Some(scan.text.clone()),
            _ => None,
        })
        .collect()
}

fn refusals(outputs: &[CodecOutput]) -> Vec<ScanError> {
    outputs
        .iter()
        .filter_map(|output| match output {
            CodecOutput::Rejected(error) => Some(error.clone()),
            _ => None,
        })
        .collect()
}

fn decode(text: &str) -> Result<Decoded, ScanError> {
    Decoder::new(DecodeRules::default())
        .unwrap()
        .decode(text, TODAY)
}

#[test]
fn alt_numpad_characters_and_ctrl_bracket_become_group_separators() {
    // Some scanners type every special character as Alt + keypad code: Alt 0 2 9 is GS.
    let recording = "
        1000000 KEY_RIGHTBRACE 1
        1000100 KEY_RIGHTBRACE 0
        1001000 KEY_C 1
        1001100 KEY_C 0
        1002000 KEY_1 1
        1002100 KEY_1 0
        1003000 KEY_LEFTALT 1
        1003500 KEY_KP0 1
        1003600 KEY_KP0 0
        1004000 KEY_KP2 1
        1004100 KEY_KP2 0
        1004500 KEY_KP9 1
        1004600 KEY_KP9 0
        1005000 KEY_LEFTALT 0
        1006000 KEY_1 1
        1006100 KEY_1 0
        1007000 KEY_0 1
        1007100 KEY_0 0
        1008000 KEY_LEFTCTRL 1
        1008200 KEY_RIGHTBRACE 1
        1008300 KEY_RIGHTBRACE 0
        1008400 KEY_LEFTCTRL 0
        1009000 KEY_ENTER 1
    ";
    let outputs = codec_outputs(
        BurstRules::default(),
        Source::Scanner,
        &parse_recording(recording).unwrap(),
    );
    assert_eq!(scan_texts(&outputs), vec!["]c1\u{1d}10\u{1d}".to_string()]);
}

#[test]
fn caps_lock_on_the_scanner_inverts_its_shift() {
    let mut events = vec![
        KeyEvent::press(999_000, KeyCode::KEY_CAPSLOCK),
        KeyEvent::release(999_100, KeyCode::KEY_CAPSLOCK),
    ];
    events.extend(scanned("Ab12cd\n", 5_000));
    let outputs = codec_outputs(BurstRules::default(), Source::Scanner, &events);
    assert_eq!(scan_texts(&outputs), vec!["aB12CD".to_string()]);
}

#[test]
fn tab_and_suffix_terminators() {
    let tab = BurstRules {
        terminator: Terminator::Tab,
        ..BurstRules::default()
    };
    assert_eq!(
        scan_texts(&codec_outputs(
            tab,
            Source::Scanner,
            &scanned("4006381333931\t", 5_000)
        )),
        ["4006381333931"]
    );
    let suffix = BurstRules {
        terminator: Terminator::Suffix("#!".to_string()),
        ..BurstRules::default()
    };
    let outputs = codec_outputs(
        suffix,
        Source::Scanner,
        &scanned("4006381333931#!96385074#!", 5_000),
    );
    assert_eq!(scan_texts(&outputs), ["4006381333931", "96385074"]);
}

#[test]
fn two_scans_back_to_back_stay_two_scans() {
    let outputs = codec_outputs(
        BurstRules::default(),
        Source::Scanner,
        &scanned("4006381333931\n96385074\n", 5_000),
    );
    assert_eq!(scan_texts(&outputs), ["4006381333931", "96385074"]);
}

#[test]
fn each_timing_refusal_has_its_reason() {
    let short = codec_outputs(
        BurstRules::default(),
        Source::Scanner,
        &scanned("123\n", 5_000),
    );
    assert_eq!(
        refusals(&short),
        [ScanError::TooShort {
            length: 3,
            length_min: 6
        }]
    );

    let long_rules = BurstRules {
        scan_length_max: 10,
        ..BurstRules::default()
    };
    let long = codec_outputs(
        long_rules,
        Source::Scanner,
        &scanned("123456789012\n", 5_000),
    );
    assert_eq!(
        refusals(&long).first(),
        Some(&ScanError::TooLong { length_max: 10 })
    );

    let slow_rules = BurstRules {
        scan_duration_ms_max: 100,
        ..BurstRules::default()
    };
    let slow = codec_outputs(
        slow_rules,
        Source::Scanner,
        &scanned("4006381333931\n", 40_000),
    );
    assert_eq!(
        refusals(&slow),
        [ScanError::TooSlow {
            duration_ms: 520,
            duration_ms_max: 100
        }]
    );

    let mut codec = BurstCodec::new(BurstRules::default(), Source::Scanner, Layout::Us);
    for event in scanned("40063813", 5_000) {
        codec.handle_event(event);
    }
    codec.handle_events_lost();
    assert_eq!(
        codec.poll_output(),
        Some(CodecOutput::Rejected(ScanError::EventsLost))
    );
    assert_eq!(codec.poll_timeout(), None);
}

#[test]
fn a_held_key_on_a_keyboard_is_typing_not_a_scan() {
    let recording = "
        1000000 KEY_A 1
        1250000 KEY_A 2
        1280000 KEY_A 2
        1310000 KEY_A 2
        1340000 KEY_A 2
        1370000 KEY_A 2
        1400000 KEY_A 2
        1410000 KEY_A 0
        1600000 KEY_ENTER 1
    ";
    let outputs = codec_outputs(
        BurstRules::default(),
        Source::Keyboard,
        &parse_recording(recording).unwrap(),
    );
    assert!(scan_texts(&outputs).is_empty());
    assert!(refusals(&outputs).is_empty());
    assert_eq!(outputs.len(), 8, "{outputs:?}");
}

#[test]
fn the_codec_resolves_a_burst_only_when_its_deadline_comes() {
    let mut codec = BurstCodec::new(BurstRules::default(), Source::Keyboard, Layout::Us);
    codec.handle_event(KeyEvent::press(1_000_000, KeyCode::KEY_A));
    assert_eq!(
        codec.poll_output(),
        None,
        "a key may start a scan, so it waits"
    );
    assert_eq!(codec.poll_timeout(), Some(1_050_001));
    codec.handle_timeout(1_050_000);
    assert_eq!(codec.poll_output(), None, "50 ms is still within the gap");
    codec.handle_timeout(1_050_001);
    assert!(matches!(codec.poll_output(), Some(CodecOutput::Typed(k)) if k.text == Some('a')));
}

#[test]
fn simulated_scanner_turns_fast_keyboard_text_into_a_scan_and_slow_text_into_typing() {
    let decoder = Decoder::new(DecodeRules::default()).unwrap();
    let mut simulated = SimulatedScanner::new(BurstRules::default(), Layout::Us, decoder);
    // What a UI key handler would pass on: one character per key press, 8 ms apart.
    for (index, symbol) in "4006381333931\n".chars().enumerate() {
        simulated
            .typed_text(1_000_000 + 8_000 * index as u64, &symbol.to_string())
            .unwrap();
    }
    let first = simulated.poll_output(TODAY);
    assert!(
        matches!(&first, Some(ReaderOutput::Scanned { decoded: Decoded::Gtin { gtin, .. }, .. }) if gtin.as_str() == "4006381333931"),
        "{first:?}"
    );
    simulated.typed_text(3_000_000, "q").unwrap();
    // A UI that knows key codes hands over the key event itself.
    simulated.key(KeyEvent::press(3_200_000, KeyCode::KEY_R));
    simulated.handle_timeout(simulated.poll_timeout().unwrap());
    let typed: String = std::iter::from_fn(|| simulated.poll_output(TODAY))
        .filter_map(|output| match output {
            ReaderOutput::Typed(keystroke) => keystroke.text,
            _ => None,
        })
        .collect();
    assert_eq!(typed, "qr");
    assert!(simulated.typed_text(4_000_000, "\u{263a}").is_err());
}

#[test]
fn gtin_kinds_are_recognised_by_identifier_or_length() {
    let gtin = |text: &str| match decode(text) {
        Ok(Decoded::Gtin { gtin, symbology }) => (gtin.to_string(), symbology),
        other => panic!("{text}: {other:?}"),
    };
    assert_eq!(
        gtin("]E04006381333931"),
        ("4006381333931".into(), Symbology::Ean13)
    );
    assert_eq!(gtin("]E496385074"), ("96385074".into(), Symbology::Ean8));
    assert_eq!(
        gtin("]E004252614"),
        ("042100005264".into(), Symbology::UpcE)
    );
    assert_eq!(
        gtin("036000291452"),
        ("036000291452".into(), Symbology::UpcA)
    );
    assert_eq!(gtin("04252614"), ("042100005264".into(), Symbology::UpcE));
    assert_eq!(
        gtin("10095060001347"),
        ("10095060001347".into(), Symbology::Gtin14)
    );
}

#[test]
fn free_text_and_code_128_pass_through_as_text() {
    assert_eq!(
        decode("]C0RCPT-2026-000123"),
        Ok(Decoded::Text {
            text: "RCPT-2026-000123".into(),
            symbology: Symbology::Code128
        })
    );
    assert_eq!(
        decode("1234567890"),
        Ok(Decoded::Text {
            text: "1234567890".into(),
            symbology: Symbology::Unknown
        })
    );
}

#[test]
fn gs1_forms_from_every_symbology_agree() {
    let fields = |text: &str| match decode(text) {
        Ok(Decoded::Gs1 {
            gtin,
            batch,
            expiry,
            price,
            ..
        }) => (gtin.map(|g| g.to_string()), batch, expiry, price),
        other => panic!("{text}: {other:?}"),
    };
    let expected = (
        Some("09506000134352".to_string()),
        Some("L1".to_string()),
        Some(date!(2027 - 02 - 28)),
        Some(dec!(4.5)),
    );
    assert_eq!(
        fields("]C1010950600013435217270200\u{1d}3922450\u{1d}10L1"),
        expected
    );
    assert_eq!(
        fields("]d2010950600013435217270200\u{1d}3922450\u{1d}10L1"),
        expected
    );
    assert_eq!(
        fields("\u{1d}010950600013435217270200\u{1d}3922450\u{1d}10L1"),
        expected
    );
    assert_eq!(
        fields("(01)09506000134352(17)270200(3922)450(10)L1"),
        expected
    );
}

#[test]
fn gs1_expiry_follows_the_century_rule_and_day_zero() {
    let expiry =
        |yymmdd: &str| match decode(&format!("]C10109506000134352 17{yymmdd}").replace(' ', "")) {
            Ok(Decoded::Gs1 { expiry, .. }) => expiry,
            other => panic!("{other:?}"),
        };
    assert_eq!(expiry("240229"), Some(date!(2024 - 02 - 29)));
    assert_eq!(expiry("250200"), Some(date!(2025 - 02 - 28)));
    assert_eq!(expiry("240200"), Some(date!(2024 - 02 - 29)));
    // 2077 is 51 years ahead of 2026: the last century.
    assert_eq!(expiry("770101"), Some(date!(1977 - 01 - 01)));
    assert_eq!(expiry("760101"), Some(date!(2076 - 01 - 01)));
}

#[test]
fn every_decoding_refusal_has_its_reason_and_kind() {
    let cases: [(&str, ScanError, ScanErrorKind); 8] = [
        (
            "4006381333932",
            ScanError::BadCheckDigit {
                symbology: "EAN-13",
                expected: 1,
                found: 2,
            },
            ScanErrorKind::Misread,
        ),
        (
            "]E0400638133",
            ScanError::UnknownFormat {
                reason: "an EAN/UPC code of 9 characters".into(),
            },
            ScanErrorKind::Unsupported,
        ),
        (
            "]E0",
            ScanError::UnknownFormat {
                reason: "the scan is empty".into(),
            },
            ScanErrorKind::Unsupported,
        ),
        (
            "]C19912345",
            ScanError::UnknownApplicationIdentifier { ai: "9912".into() },
            ScanErrorKind::Unsupported,
        ),
        (
            "]C101123",
            ScanError::InvalidElement {
                ai: "01".into(),
                reason: "14 characters expected".into(),
            },
            ScanErrorKind::Misread,
        ),
        (
            "]C10109506000134352171313",
            ScanError::InvalidElement {
                ai: "17".into(),
                reason: "6 characters expected".into(),
            },
            ScanErrorKind::Misread,
        ),
        (
            "]C1011234567890123417261301",
            ScanError::BadCheckDigit {
                symbology: "GTIN",
                expected: 1,
                found: 4,
            },
            ScanErrorKind::Misread,
        ),
        (
            "]C1010950600013435217261301",
            ScanError::InvalidElement {
                ai: "17".into(),
                reason: "month 13 does not exist".into(),
            },
            ScanErrorKind::Misread,
        ),
    ];
    for (text, error, kind) in cases {
        assert_eq!(decode(text), Err(error.clone()), "{text}");
        assert_eq!(error.kind(), kind, "{text}");
        assert!(error.to_string().ends_with('.'), "{error}");
    }
    assert_eq!(
        decode("]C1010950600013435217260230")
            .unwrap_err()
            .to_string(),
        "GS1 barcode field (17) is invalid: day 30 does not exist in 2026-02. Scan again or enter the item by hand."
    );
    assert_eq!(
        decode(
            "]C10109506000134352 10ABCDEFGHIJKLMNOPQRSTU"
                .replace(' ', "")
                .as_str()
        ),
        Err(ScanError::InvalidElement {
            ai: "10".into(),
            reason: "1 to 20 characters expected".into()
        })
    );
    assert_eq!(
        decode("]C1310300A250"),
        Err(ScanError::InvalidElement {
            ai: "3103".into(),
            reason: "digits expected".into()
        })
    );
}

#[test]
fn embedded_codes_follow_the_store_rules() {
    // A store where 23 means weight in grams with a price check digit style layout.
    let rules = DecodeRules {
        embedded: vec![EmbeddedRule {
            prefix: "23".into(),
            kind: EmbeddedKind::Weight,
            item_code_start: 2,
            item_code_length: 4,
            value_start: 7,
            value_length: 5,
            value_decimals: 3,
            value_check_digit_position: Some(6),
        }],
    };
    let decoder = Decoder::new(rules).unwrap();
    // 23 4711 6 14685 C: value check digit of 14685 is 6.
    let body = "234711614685";
    let code = format!("{body}{}", pos_scanner::gtin::check_digit(body));
    assert_eq!(
        decoder.decode(&code, TODAY).map(|d| match d {
            Decoded::Embedded {
                item_code, value, ..
            } => (item_code, value),
            other => panic!("{other:?}"),
        }),
        Ok((
            "4711".to_string(),
            EmbeddedValue::Weight { kg: dec!(14.685) }
        ))
    );
    let wrong_body = "234711514685";
    let wrong = format!("{wrong_body}{}", pos_scanner::gtin::check_digit(wrong_body));
    assert_eq!(
        decoder.decode(&wrong, TODAY),
        Err(ScanError::BadPriceCheckDigit {
            expected: 6,
            found: 5
        })
    );
    // Without a rule for 20, a 20-prefix code is an ordinary GTIN for the catalogue.
    assert!(matches!(
        decoder.decode("2012345012998", TODAY),
        Ok(Decoded::Gtin { .. })
    ));
}

#[test]
fn gs1_without_symbology_identifier_is_found_by_its_group_separator() {
    let decoded = decode("0109506000134352\u{1d}10LOT7\u{1d}21X");
    assert!(
        matches!(&decoded, Ok(Decoded::Gs1 { batch: Some(b), serial: Some(s), .. }) if b == "LOT7" && s == "X"),
        "{decoded:?}"
    );
}

#[test]
fn a_person_resting_on_shift_does_not_stretch_a_burst_into_a_scan() {
    // Six capitals, each 70 ms apart, with Shift pressed 35 ms before each: with Shift
    // counted as activity every gap would be 35 ms, a scanner's pace.
    let mut events = Vec::new();
    for (index, key) in [
        KeyCode::KEY_A,
        KeyCode::KEY_B,
        KeyCode::KEY_C,
        KeyCode::KEY_D,
        KeyCode::KEY_E,
        KeyCode::KEY_F,
    ]
    .into_iter()
    .enumerate()
    {
        let at = 1_000_000 + 70_000 * index as u64;
        events.push(KeyEvent::press(at, KeyCode::KEY_LEFTSHIFT));
        events.push(KeyEvent::press(at + 35_000, key));
        events.push(KeyEvent::release(at + 50_000, key));
        events.push(KeyEvent::release(at + 52_000, KeyCode::KEY_LEFTSHIFT));
    }
    events.push(KeyEvent::press(1_000_000 + 70_000 * 6, KeyCode::KEY_ENTER));
    let outputs = codec_outputs(BurstRules::default(), Source::Keyboard, &events);
    assert!(
        scan_texts(&outputs).is_empty() && refusals(&outputs).is_empty(),
        "{outputs:?}"
    );
    let typed: String = outputs
        .iter()
        .filter_map(|o| match o {
            CodecOutput::Typed(k) => k.text,
            _ => None,
        })
        .collect();
    assert_eq!(typed, "ABCDEF");
}
