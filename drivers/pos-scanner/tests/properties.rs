//! Properties: valid codes round-trip, misreads are caught, scans are never split or merged,
//! and people typing never make a scan.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pos_scanner::codec::{BurstCodec, BurstRules, CodecOutput, Source};
use pos_scanner::decode::{DecodeRules, Decoded, Decoder};
use pos_scanner::error::ScanError;
use pos_scanner::gtin::check_digit;
use pos_scanner::key::KeyEvent;
use pos_scanner::layout::{ALL_LAYOUTS, Layout};
use pos_scanner::reader::{ReaderOutput, ScanReader, key_events_for_text};
use proptest::prelude::*;
use time::macros::date;

fn no_embedded_rules() -> Decoder {
    Decoder::new(DecodeRules {
        embedded: Vec::new(),
    })
    .unwrap()
}

fn with_check_digit(body: &str) -> String {
    format!("{body}{}", check_digit(body))
}

fn run(codec: &mut BurstCodec, events: &[KeyEvent]) -> Vec<CodecOutput> {
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

/// Text a layout can type, as a scanner programmed for it would send.
fn typeable_text(layout: Layout, length: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::char::range(' ', '~'), length)
        .prop_map(move |chars| {
            chars
                .into_iter()
                .filter(|c| layout.keystroke_for(*c).is_some())
                .collect::<String>()
        })
        .prop_filter("long enough to be a scan", |text| text.chars().count() >= 6)
}

fn layout_strategy() -> impl Strategy<Value = Layout> {
    proptest::sample::select(ALL_LAYOUTS.to_vec())
}

proptest! {
    #[test]
    fn any_valid_ean_or_upc_round_trips(body in "[0-9]{12}", length in proptest::sample::select(vec![7usize, 11, 12])) {
        let code = with_check_digit(&body[..length]);
        let identifier = if length == 7 { "]E4" } else { "]E0" };
        let decoded = no_embedded_rules().decode(&format!("{identifier}{code}"), date!(2026 - 01 - 01));
        prop_assert!(matches!(&decoded, Ok(Decoded::Gtin { gtin, .. }) if gtin.as_str() == code), "{decoded:?}");
    }

    #[test]
    fn any_upc_e_expands_to_the_upc_a_it_stands_for(system in 0u8..2, digits in "[0-9]{6}") {
        let expanded_body = pos_scanner::gtin::expand_upc_e(&format!("{system}{digits}0"))
            .err()
            .and_then(|error| match error {
                ScanError::BadCheckDigit { expected, .. } => Some(expected),
                _ => None,
            });
        // Either 0 was the right check digit, or the refusal told us the right one.
        let check = expanded_body.unwrap_or(0);
        let upc_e = format!("{system}{digits}{check}");
        let decoder = no_embedded_rules();
        let from_upc_e = decoder.decode(&format!("]E0{upc_e}"), date!(2026 - 01 - 01));
        let Ok(Decoded::Gtin { gtin, .. }) = from_upc_e else { panic!("{upc_e}: {from_upc_e:?}") };
        let from_upc_a = decoder.decode(gtin.as_str(), date!(2026 - 01 - 01));
        let same = matches!(&from_upc_a, Ok(Decoded::Gtin { gtin: a, .. }) if a == &gtin);
        prop_assert!(same, "{:?}", from_upc_a);
    }

    #[test]
    fn any_single_digit_misread_is_caught(body in "[0-9]{12}", position in 0usize..13, shift in 1u8..10) {
        let code = with_check_digit(&body);
        let mut bytes = code.into_bytes();
        bytes[position] = b'0' + (bytes[position] - b'0' + shift) % 10;
        let misread = String::from_utf8(bytes).unwrap();
        let decoded = no_embedded_rules().decode(&format!("]E0{misread}"), date!(2026 - 01 - 01));
        prop_assert!(matches!(decoded, Err(ScanError::BadCheckDigit { .. })), "{misread}: {decoded:?}");
    }

    #[test]
    fn a_scan_at_any_speed_under_the_threshold_is_never_split(
        layout in layout_strategy(),
        text in layout_strategy().prop_flat_map(|l| typeable_text(l, 6..30)),
        // Up to 49.9 ms: Shift goes down up to 75 µs before its key, so a gap measured
        // between key presses stays within the 50 ms limit.
        gaps_us in proptest::collection::vec(1_000u64..=49_900, 40),
        from_keyboard in any::<bool>(),
    ) {
        let text: String = text.chars().filter(|c| layout.keystroke_for(*c).is_some()).collect();
        prop_assume!(text.chars().count() >= 6);
        let source = if from_keyboard { Source::Keyboard } else { Source::Scanner };
        let events = key_events_for_text(layout, &format!("{text}\n"), 5_000_000, gaps_us.into_iter(), 300).unwrap();
        let outputs = run(&mut BurstCodec::new(BurstRules::default(), source, layout), &events);
        prop_assert_eq!(outputs.len(), 1, "{:?}", outputs);
        prop_assert!(matches!(&outputs[0], CodecOutput::Scan(scan) if scan.text == text), "{:?}", outputs);
    }

    #[test]
    fn people_typing_between_scans_never_make_a_scan_and_never_merge_with_one(
        segments in proptest::collection::vec((any::<bool>(), "[a-z0-9 ]{1,12}", proptest::collection::vec(60u64..1_000, 13)), 1..6),
    ) {
        let mut events = Vec::new();
        let mut at_us = 1_000_000u64;
        let mut expected_scans = Vec::new();
        let mut expected_typing = String::new();
        for (index, (is_scan, text, human_gaps_ms)) in segments.iter().enumerate() {
            let (text, gaps, hold_us): (String, Vec<u64>, u64) = if *is_scan {
                // Scans are real codes, long enough and fast.
                let code = with_check_digit(&format!("{:0>12}", index * 7919 + text.len()));
                expected_scans.push(code.clone());
                (format!("{code}\n"), vec![8_000; 14], 300)
            } else {
                expected_typing.push_str(text);
                (text.clone(), human_gaps_ms.iter().map(|ms| ms * 1_000).collect(), 80_000)
            };
            let segment = key_events_for_text(Layout::Us, &text, at_us, gaps.into_iter(), hold_us).unwrap();
            at_us = segment.last().map_or(at_us, |e| e.at_us) + 300_000;
            events.extend(segment);
        }
        let mut reader = ScanReader::new(BurstRules::default(), Source::Keyboard, Layout::Us, no_embedded_rules());
        let outputs = reader.replay(&events, date!(2026 - 01 - 01));
        let mut scans = Vec::new();
        let mut typed = String::new();
        for output in outputs {
            match output {
                ReaderOutput::Scanned { scan, .. } => scans.push(scan.text),
                ReaderOutput::Typed(keystroke) => typed.extend(keystroke.text),
                ReaderOutput::Rejected { error, .. } => prop_assert!(false, "refused: {error}"),
            }
        }
        prop_assert_eq!(scans, expected_scans);
        prop_assert_eq!(typed, expected_typing);
    }
}
