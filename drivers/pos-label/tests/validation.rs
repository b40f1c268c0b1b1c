//! Every way a layout or a product can be refused, with the message the back office shows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pos_core::money::{Currency, Money};
use pos_label::zpl::write_zpl;
use pos_label::{
    BarcodeKind, BarcodeText, Direction, Element, Font, Label, LabelData, LabelError,
    LabelErrorKind, LabelLayout,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn layout_with(elements: Vec<Element>) -> LabelLayout {
    LabelLayout {
        name: "test".into(),
        width_mm: dec!(58),
        height_mm: dec!(40),
        gap_mm: dec!(2),
        dpi: 203,
        elements,
    }
}

fn text_at(x_mm: Decimal, y_mm: Decimal, height_mm: Decimal) -> Element {
    Element::FreeText {
        x_mm,
        y_mm,
        font: Font { height_mm },
        text: "Shop".into(),
    }
}

fn ean13_at(x_mm: Decimal, module_dots: u32) -> Element {
    Element::Barcode {
        x_mm,
        y_mm: dec!(20),
        kind: BarcodeKind::Ean13,
        height_mm: dec!(10),
        module_dots,
        text: BarcodeText::Below,
    }
}

fn refused(layout: LabelLayout) -> String {
    let error = Label::new(layout).unwrap_err();
    assert_eq!(error.kind(), LabelErrorKind::Layout);
    error.to_string()
}

fn data(barcode: &str, price: Decimal) -> LabelData {
    LabelData {
        product_name: "Tea".into(),
        price: Money::new(price, Currency::EUR),
        barcode: barcode.into(),
        sku: "SKU-1".into(),
        unit_price: String::new(),
    }
}

fn print_error(label: &Label, data: &LabelData) -> LabelError {
    let mut out = Vec::new();
    let error = write_zpl(label, data, 1, &mut out).unwrap_err();
    assert!(out.is_empty(), "nothing is sent for a refused label");
    error
}

#[test]
fn label_size_and_resolution() {
    assert_eq!(
        refused(LabelLayout {
            width_mm: dec!(5),
            ..layout_with(vec![])
        }),
        "label size 5 × 40 mm is outside what label printers take (10–200 mm each way)"
    );
    assert_eq!(
        refused(LabelLayout {
            dpi: 150,
            ..layout_with(vec![])
        }),
        "printer resolution 150 dpi is not supported; use 203, 300 or 600"
    );
    assert_eq!(
        refused(layout_with(vec![text_at(dec!(1), dec!(1), dec!(3)); 65])),
        "the label layout has 65 elements; at most 64 are allowed"
    );
}

#[test]
fn elements_must_lie_inside_the_label() {
    assert_eq!(
        refused(layout_with(vec![
            text_at(dec!(1), dec!(1), dec!(3)),
            text_at(dec!(60), dec!(1), dec!(3))
        ])),
        "element 1 (free text) does not fit on the label: it reaches x = 60 mm, the label is 58 mm wide"
    );
    assert_eq!(
        refused(layout_with(vec![text_at(dec!(1), dec!(38), dec!(3))])),
        "element 0 (free text) does not fit on the label: it reaches y = 41 mm, the label is 40 mm high"
    );
    assert_eq!(
        refused(layout_with(vec![text_at(dec!(-1), dec!(1), dec!(3))])),
        "element 0 (free text) does not fit on the label: position (-1, 1) mm is negative"
    );
    let wide_box = Element::Box {
        x_mm: dec!(10),
        y_mm: dec!(1),
        width_mm: dec!(50),
        height_mm: dec!(10),
        line_mm: dec!(0.5),
    };
    assert_eq!(
        refused(layout_with(vec![wide_box])),
        "element 0 (box) does not fit on the label: it reaches x = 60 mm, the label is 58 mm wide"
    );
    // A line down the label reaches as far down as it is long.
    let long_line = Element::Line {
        x_mm: dec!(30),
        y_mm: dec!(5),
        length_mm: dec!(36),
        line_mm: dec!(0.5),
        direction: Direction::Down,
    };
    assert_eq!(
        refused(layout_with(vec![long_line])),
        "element 0 (line) does not fit on the label: it reaches y = 41 mm, the label is 40 mm high"
    );
}

#[test]
fn sizes_must_be_printable() {
    assert_eq!(
        refused(layout_with(vec![text_at(dec!(1), dec!(1), dec!(1))])),
        "element 0 (free text): font height 1 mm must be 1.5 to 50 mm"
    );
    assert_eq!(
        refused(layout_with(vec![ean13_at(dec!(1), 0)])),
        "element 0 (barcode): bar width 0 dots must be 1 to 10"
    );
    let short = Element::Barcode {
        x_mm: dec!(1),
        y_mm: dec!(1),
        kind: BarcodeKind::Code128,
        height_mm: dec!(2),
        module_dots: 2,
        text: BarcodeText::Hidden,
    };
    assert_eq!(
        refused(layout_with(vec![short])),
        "element 0 (barcode): barcode height 2 mm is below 3 mm, too short to scan"
    );
    let thick = Element::Box {
        x_mm: dec!(1),
        y_mm: dec!(1),
        width_mm: dec!(4),
        height_mm: dec!(4),
        line_mm: dec!(3),
    };
    assert_eq!(
        refused(layout_with(vec![thick])),
        "element 0 (box): line 3 mm must be positive and fit inside the box"
    );
    let line = |length_mm, line_mm| Element::Line {
        x_mm: dec!(1),
        y_mm: dec!(1),
        length_mm,
        line_mm,
        direction: Direction::Across,
    };
    assert_eq!(
        refused(layout_with(vec![line(dec!(20), dec!(0))])),
        "element 0 (line): line 0 mm must be 0.1 to 5 mm thick"
    );
    assert_eq!(
        refused(layout_with(vec![line(dec!(20), dec!(6))])),
        "element 0 (line): line 6 mm must be 0.1 to 5 mm thick"
    );
    assert_eq!(
        refused(layout_with(vec![line(dec!(0.5), dec!(0.2))])),
        "element 0 (line): a line 0.5 mm long is too short; make it at least 1 mm and longer than it is thick"
    );
    let empty = Element::FreeText {
        x_mm: dec!(1),
        y_mm: dec!(1),
        font: Font { height_mm: dec!(3) },
        text: "  ".into(),
    };
    assert_eq!(
        refused(layout_with(vec![empty])),
        "element 0 (free text) has no text"
    );
}

#[test]
fn unknown_barcode_types_and_broken_json_are_refused() {
    let json = r#"{ "name": "x", "width_mm": "58", "height_mm": "40", "dpi": 203,
        "elements": [ { "type": "barcode", "x_mm": "1", "y_mm": "1", "kind": "qr", "height_mm": "10", "module_dots": 2 } ] }"#;
    let error = Label::from_json(json).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("unknown variant `qr`, expected `ean13` or `code128`"),
        "{error}"
    );
    assert!(matches!(
        Label::from_json("{"),
        Err(LabelError::Malformed { .. })
    ));
}

#[test]
fn barcode_data_must_suit_its_kind() {
    let label = Label::new(layout_with(vec![ean13_at(dec!(1), 2)])).unwrap();
    let cases = [
        (
            "40063813339",
            "barcode \"40063813339\" cannot be printed as EAN-13: EAN-13 has 13 digits, this has 11; choose Code 128 for this barcode",
        ),
        // Twelve digits are not completed with a guessed check digit: a UPC-A's twelfth
        // digit is its own check digit, and the guess would print another product's code.
        (
            "036000291452",
            "barcode \"036000291452\" cannot be printed as EAN-13: EAN-13 has 13 digits, this has 12; choose Code 128 for this barcode",
        ),
        (
            "4006381333932",
            "barcode \"4006381333932\" cannot be printed as EAN-13: its check digit should be 1; correct the product's barcode",
        ),
        (
            "40063813339A",
            "barcode \"40063813339A\" cannot be printed as EAN-13: EAN-13 is digits only; choose Code 128 for this barcode",
        ),
        (
            "SKU-milk",
            "barcode \"SKU-milk\" cannot be printed as EAN-13: EAN-13 is digits only; choose Code 128 for this barcode",
        ),
    ];
    for (barcode, message) in cases {
        let error = print_error(&label, &data(barcode, dec!(1)));
        assert_eq!(error.kind(), LabelErrorKind::Data);
        assert_eq!(error.to_string(), message);
    }
    let code128 = Element::Barcode {
        x_mm: dec!(1),
        y_mm: dec!(1),
        kind: BarcodeKind::Code128,
        height_mm: dec!(10),
        module_dots: 1,
        text: BarcodeText::Hidden,
    };
    let label = Label::new(layout_with(vec![code128])).unwrap();
    assert_eq!(
        print_error(&label, &data("Tee–Blätter", dec!(1))).to_string(),
        "barcode \"Tee–Blätter\" cannot be printed as Code 128: '–' is not printable ASCII"
    );
    assert_eq!(
        print_error(&label, &data(&"A".repeat(49), dec!(1))).to_string(),
        format!(
            "barcode \"{}\" cannot be printed as Code 128: 1 to 48 characters are needed",
            "A".repeat(49)
        )
    );
}

#[test]
fn barcodes_and_prices_that_run_off_the_label_are_refused() {
    // 95 modules of 3 dots from x = 30 mm (240 dots) on a 464-dot label.
    let label = Label::new(layout_with(vec![ean13_at(dec!(30), 3)])).unwrap();
    assert_eq!(
        print_error(&label, &data("4006381333931", dec!(1))).to_string(),
        "element 0 (barcode): \"4006381333931\" is too wide for the label (285 dots from x=240, label is 464 dots wide)"
    );
    let price = Element::Price {
        x_mm: dec!(20),
        y_mm: dec!(1),
        font: Font {
            height_mm: dec!(10),
        },
    };
    let label = Label::new(layout_with(vec![price])).unwrap();
    let error = print_error(&label, &data("4006381333931", dec!(1234.5)));
    assert_eq!(
        error.to_string(),
        "element 0 (price): \"1234.50 EUR\" is too wide for the label (587 dots from x=160, label is 464 dots wide)"
    );
}

#[test]
fn copies_are_bounded() {
    let label = Label::new(layout_with(vec![text_at(dec!(1), dec!(1), dec!(3))])).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        write_zpl(&label, &data("4006381333931", dec!(1)), 0, &mut out)
            .unwrap_err()
            .to_string(),
        "0 copies requested; print 1 to 999 at a time"
    );
    let escpos_at_300 = Label::new(LabelLayout {
        dpi: 300,
        ..layout_with(vec![])
    })
    .unwrap();
    assert_eq!(
        pos_label::escpos::write_escpos(
            &escpos_at_300,
            &data("4006381333931", dec!(1)),
            1,
            &mut out
        )
        .unwrap_err()
        .to_string(),
        "ESC/POS printers take resolutions up to 255 dpi; this layout is 300 dpi"
    );
}

#[test]
fn a_printer_that_goes_away_is_reported_as_an_output_error() {
    // A pipe whose reading end is closed: the write fails as it does when a printer's
    // connection drops.
    let (reader, mut writer) = std::io::pipe().unwrap();
    drop(reader);
    let label = Label::new(layout_with(vec![text_at(dec!(1), dec!(1), dec!(3))])).unwrap();
    let error = write_zpl(&label, &data("4006381333931", dec!(1)), 1, &mut writer).unwrap_err();
    assert_eq!(error.kind(), LabelErrorKind::Output);
    assert!(
        error
            .to_string()
            .starts_with("writing the label to the printer failed: Broken pipe"),
        "{error}"
    );
}
