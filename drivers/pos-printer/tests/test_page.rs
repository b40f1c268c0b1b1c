//! The technician's test page, written by the `escpos` crate, read back by our decoder: what a
//! technician sees on paper is what the test page meant to print.

use pos_core::receipt::{Align, Size, Weight};
use pos_printer::codepage::CodePage;
use pos_printer::decode::{self, Event};
use pos_printer::encode::{CutKind, Paper};
use pos_printer::test_page::{TEST_BARCODE, TEST_LETTERS, TestPageInfo, test_page};

fn info(paper: Paper, code_page: CodePage) -> TestPageInfo {
    TestPageInfo {
        store: "Corner Market Mitte – Café".to_owned(),
        terminal: "T1".to_owned(),
        software_version: "1.4.0".to_owned(),
        printed_at: "2026-11-29 10:42".to_owned(),
        paper,
        code_page,
    }
}

fn lines(events: &[Event]) -> Vec<&decode::PrintedLine> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Line(line) => Some(line),
            _ => None,
        })
        .collect()
}

#[test]
fn the_test_page_reads_back_with_its_styles_letters_barcode_qr_and_cut() {
    let bytes = test_page(&info(Paper::MM80_48, CodePage::Pc858)).unwrap();
    let events = decode::decode(&bytes).unwrap();
    let lines = lines(&events);
    let find = |text: &str| {
        lines
            .iter()
            .find(|line| line.text.trim() == text)
            .unwrap_or_else(|| panic!("no line `{text}` in {lines:#?}"))
    };

    let title = find("PRINTER TEST");
    assert_eq!(title.align, Align::Center);
    assert_eq!(title.style.size, Size::Double);
    assert_eq!(title.style.weight, Weight::Bold);
    // PC858 has "é" but no en dash: the dash is printed as a hyphen, not as a wrong letter.
    assert_eq!(find("Corner Market Mitte - Café").align, Align::Center);
    assert_eq!(find("Terminal  T1").align, Align::Left);
    find("Software  1.4.0");
    find("Printed   2026-11-29 10:42");
    find("Paper     48 columns, 576 dots");
    assert_eq!(find("Bold").style.weight, Weight::Bold);
    assert_eq!(find("Underlined").style.weight, Weight::Regular);
    assert_eq!(find("Double width").style.size, Size::DoubleWidth);
    assert_eq!(find("Double height").style.size, Size::DoubleHeight);
    // PC858 has every sample letter and the euro sign.
    find(TEST_LETTERS);
    let ruler = find("123456789012345678901234567890123456789012345678");
    assert_eq!(ruler.text.chars().count(), 48);

    assert!(events.contains(&Event::Cut(CutKind::Full)));
    assert!(
        events
            .iter()
            .any(|event| matches!(event, Event::Barcode { data, .. } if data == TEST_BARCODE))
    );
    assert!(events.iter().any(
        |event| matches!(event, Event::QrCode { data, .. } if data == "Open POS test page T1")
    ));
}

#[test]
fn the_ruler_matches_the_paper_and_missing_letters_are_spelled_plainer() {
    let bytes = test_page(&info(Paper::MM58, CodePage::Pc437)).unwrap();
    let events = decode::decode(&bytes).unwrap();
    let lines = lines(&events);
    assert!(
        lines
            .iter()
            .any(|line| line.text == "12345678901234567890123456789012"),
        "a 58 mm page has a 32-column ruler: {lines:#?}"
    );
    // PC437 has no euro sign: the page says EUR rather than print a wrong letter.
    let letters = lines.iter().find(|line| line.text.contains("äöü")).unwrap();
    assert!(letters.text.starts_with("EUR "), "{}", letters.text);
}
