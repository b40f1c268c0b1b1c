//! The preview the back office shows is the printed label dot for dot: its barcodes are read
//! by a real scanner program (zbar, Debian's `zbar-tools`), whichever kind each barcode element
//! chose, with boxes and lines around them; its new elements (unit price, SKU) land where the
//! layout puts them, and barcodes too small to scan are refused with a message that says what
//! to change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pos_core::money::{Currency, Money};
use pos_label::raster::render;
use pos_label::{
    BarcodeKind, BarcodeText, Direction, Element, Font, Label, LabelData, LabelLayout, Placed,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn layout(name: &str) -> Label {
    let path = format!("{}/tests/layouts/{name}.json", env!("CARGO_MANIFEST_DIR"));
    Label::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn data(barcode: &str) -> LabelData {
    LabelData {
        product_name: "Olive Oil 500 ml".into(),
        price: Money::new(dec!(7.49), Currency::EUR),
        barcode: barcode.into(),
        sku: "OIL-500".into(),
        unit_price: "14.98 EUR / l".into(),
    }
}

/// What zbar reads off `image`, one `TYPE:data` line per barcode.
fn scan(image: &image::GrayImage) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("label.png");
    image.save(&path).unwrap();
    let output = std::process::Command::new("zbarimg")
        .arg("--quiet")
        .arg(&path)
        .output()
        .expect("zbarimg (Debian package zbar-tools) must be installed");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn a_scanner_reads_the_preview_barcodes() {
    let shelf = layout("shelf_58x40_203dpi");
    let picture = render(&shelf, &shelf.place(&data("4006381333931")).unwrap());
    assert_eq!((picture.width(), picture.height()), (464, 320));
    assert_eq!(scan(&picture), "EAN-13:4006381333931");

    let sticker = layout("product_50x30_300dpi");
    let picture = render(&sticker, &sticker.place(&data("SKU-NB-A5-{07}")).unwrap());
    assert_eq!(scan(&picture), "CODE-128:SKU-NB-A5-{07}");
}

/// One product's code as both kinds on one label, each barcode element with its own kind,
/// inside a box and below a line across and beside a line down.
#[test]
fn each_barcode_element_prints_its_own_kind_among_boxes_and_lines() {
    let barcode = |y_mm, kind| Element::Barcode {
        x_mm: dec!(4),
        y_mm,
        kind,
        height_mm: dec!(9),
        module_dots: 2,
        text: BarcodeText::Hidden,
    };
    let label = Label::new(LabelLayout {
        name: "Both kinds".into(),
        width_mm: dec!(100),
        height_mm: dec!(50),
        gap_mm: dec!(2),
        dpi: 203,
        elements: vec![
            Element::Box {
                x_mm: dec!(1),
                y_mm: dec!(1),
                width_mm: dec!(98),
                height_mm: dec!(48),
                line_mm: dec!(0.5),
            },
            Element::Line {
                x_mm: dec!(3),
                y_mm: dec!(3),
                length_mm: dec!(90),
                line_mm: dec!(1),
                direction: Direction::Across,
            },
            Element::Line {
                x_mm: dec!(80),
                y_mm: dec!(6),
                length_mm: dec!(40),
                line_mm: dec!(0.5),
                direction: Direction::Down,
            },
            barcode(dec!(7), BarcodeKind::Ean13),
            barcode(dec!(27), BarcodeKind::Code128),
        ],
    })
    .unwrap();
    let placed = label.place(&data("4006381333931")).unwrap();
    // The lines are solid: 90 × 1 mm across (8 dots thick at 203 dpi), 0.5 × 40 mm down.
    assert_eq!(
        placed[1..3],
        [
            Placed::Bar {
                x: 24,
                y: 24,
                width: 719,
                height: 8
            },
            Placed::Bar {
                x: 639,
                y: 48,
                width: 4,
                height: 320
            },
        ]
    );
    let picture = render(&label, &placed);
    let ink = |x: u32, y: u32| picture.get_pixel(x, y).0[0] == 0;
    assert!(
        (24..743).all(|x| (24..32).all(|y| ink(x, y))),
        "the line across is solid"
    );
    assert!((48..368).all(|y| ink(640, y)), "the line down is solid");
    let mut read: Vec<String> = scan(&picture).lines().map(str::to_owned).collect();
    read.sort();
    assert_eq!(read, ["CODE-128:4006381333931", "EAN-13:4006381333931"]);
}

fn three_mm() -> Font {
    Font { height_mm: dec!(3) }
}

#[test]
fn unit_price_and_sku_print_where_the_layout_puts_them() {
    let label = Label::new(LabelLayout {
        name: "Unit price".into(),
        width_mm: dec!(58),
        height_mm: dec!(40),
        gap_mm: dec!(2),
        dpi: 203,
        elements: vec![
            Element::UnitPrice {
                x_mm: dec!(2),
                y_mm: dec!(30),
                font: three_mm(),
            },
            Element::Sku {
                x_mm: dec!(40),
                y_mm: dec!(35),
                font: three_mm(),
            },
        ],
    })
    .unwrap();
    let placed = label.place(&data("4006381333931")).unwrap();
    assert_eq!(
        placed,
        [
            Placed::Text {
                x: 16,
                y: 240,
                height: 24,
                text: "14.98 EUR / l".into()
            },
            Placed::Text {
                x: 320,
                y: 280,
                height: 24,
                text: "OIL-500".into()
            },
        ]
    );
    // Ink where the SKU is, none beyond the text's reserved width.
    let picture = render(&label, &placed);
    let (x, y, width, height) = placed[1].bounds();
    let inked = |x0: u32, x1: u32| {
        (x0..x1).any(|px| (y..y + height).any(|py| picture.get_pixel(px, py).0[0] == 0))
    };
    assert!(inked(x, x + width));
    assert!(!inked(x + width, picture.width()));
}

#[test]
fn barcodes_too_small_to_scan_are_refused_with_what_to_change() {
    let with_barcode = |dpi: u32, module_dots: u32, height_mm: Decimal| {
        Label::new(LabelLayout {
            name: "Tiny".into(),
            width_mm: dec!(50),
            height_mm: dec!(30),
            gap_mm: dec!(2),
            dpi,
            elements: vec![Element::Barcode {
                x_mm: dec!(2),
                y_mm: dec!(2),
                kind: BarcodeKind::Ean13,
                height_mm,
                module_dots,
                text: BarcodeText::Below,
            }],
        })
        .unwrap()
    };
    let narrow = with_barcode(300, 2, dec!(12))
        .check_scannable()
        .unwrap_err();
    assert_eq!(
        narrow.to_string(),
        "the barcode (element 0) is too small to scan: its bars are 0.17 mm wide; at 300 dpi make them at least 3 dots (0.25 mm)"
    );
    let short = with_barcode(203, 2, dec!(5)).check_scannable().unwrap_err();
    assert!(
        short
            .to_string()
            .contains("5 mm high; make them at least 8 mm"),
        "{short}"
    );
    with_barcode(203, 2, dec!(10)).check_scannable().unwrap();
    with_barcode(300, 3, dec!(10)).check_scannable().unwrap();
}
