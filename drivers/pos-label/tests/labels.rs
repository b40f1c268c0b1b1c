//! Labels printed as ZPL, TSPL and ESC/POS: exact bytes snapshotted, and read back by small
//! parsers of each language to check that every element lands where the layout puts it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pos_core::money::{Currency, Money};
use pos_label::escpos::write_escpos;
use pos_label::tspl::write_tspl;
use pos_label::zpl::write_zpl;
use pos_label::{Label, LabelData};
use rust_decimal_macros::dec;
use support::{Printed, parse_escpos, parse_tspl, parse_zpl};

fn layout(name: &str) -> Label {
    let path = format!("{}/tests/layouts/{name}.json", env!("CARGO_MANIFEST_DIR"));
    Label::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn olive_oil() -> LabelData {
    LabelData {
        product_name: "Olive Oil 500 ml".to_string(),
        price: Money::new(dec!(7.49), Currency::EUR),
        barcode: "4006381333931".to_string(),
        sku: "OIL-500".to_string(),
        unit_price: "15.98 EUR / l".to_string(),
    }
}

fn notebook() -> LabelData {
    LabelData {
        product_name: "Notebook A5, dotted".to_string(),
        price: Money::new(dec!(1200), Currency::from_code("JPY").unwrap()),
        barcode: "SKU-NB-A5-{07}".to_string(),
        sku: "NB-A5".to_string(),
        unit_price: "1200 JPY / piece".to_string(),
    }
}

fn render(
    write: impl Fn(&Label, &LabelData, u32, &mut Vec<u8>) -> Result<(), pos_label::LabelError>,
    label: &Label,
    data: &LabelData,
) -> Vec<u8> {
    let mut bytes = Vec::new();
    write(label, data, 2, &mut bytes).unwrap();
    bytes
}

#[test]
fn zpl_bytes_for_the_sample_layouts() {
    let shelf = String::from_utf8(render(
        write_zpl,
        &layout("shelf_58x40_203dpi"),
        &olive_oil(),
    ))
    .unwrap();
    insta::assert_snapshot!("zpl_shelf", shelf);
    let sticker = String::from_utf8(render(
        write_zpl,
        &layout("product_50x30_300dpi"),
        &notebook(),
    ))
    .unwrap();
    insta::assert_snapshot!("zpl_sticker", sticker);
}

#[test]
fn tspl_bytes_for_the_sample_layouts() {
    let shelf = String::from_utf8(render(
        write_tspl,
        &layout("shelf_58x40_203dpi"),
        &olive_oil(),
    ))
    .unwrap();
    insta::assert_snapshot!("tspl_shelf", shelf);
    let sticker = String::from_utf8(render(
        write_tspl,
        &layout("product_50x30_300dpi"),
        &notebook(),
    ))
    .unwrap();
    insta::assert_snapshot!("tspl_sticker", sticker);
}

#[test]
fn escpos_bytes_for_the_shelf_label() {
    let bytes = render(write_escpos, &layout("shelf_58x40_203dpi"), &olive_oil());
    insta::assert_snapshot!("escpos_shelf", support::hex_dump(&bytes));
}

/// What the shelf label must show, in dots at 203 dpi (1 mm = 8 dots).
fn shelf_expected() -> Vec<Printed> {
    vec![
        Printed::Box {
            x: 8,
            y: 8,
            width: 448,
            height: 304,
            line: 4,
        },
        Printed::Text {
            x: 24,
            y: 24,
            height: 20,
            text: "Corner Shop ^_~ \"Best\"".into(),
        },
        Printed::Text {
            x: 24,
            y: 56,
            height: 32,
            text: "Olive Oil 500 ml".into(),
        },
        Printed::Bar {
            x: 24,
            y: 92,
            width: 416,
            height: 4,
        },
        Printed::Text {
            x: 24,
            y: 104,
            height: 64,
            text: "7.49 EUR".into(),
        },
        Printed::Barcode {
            x: 24,
            y: 192,
            height: 80,
            module: 2,
            kind: "EAN-13".into(),
            // The printers are sent the 12 data digits and add the check digit themselves.
            data: "400638133393".into(),
            readable: true,
        },
    ]
}

#[test]
fn zpl_reads_back_to_the_layout() {
    let zpl = String::from_utf8(render(
        write_zpl,
        &layout("shelf_58x40_203dpi"),
        &olive_oil(),
    ))
    .unwrap();
    let parsed = parse_zpl(&zpl);
    assert_eq!(parsed.width_dots, 464);
    assert_eq!(parsed.height_dots, 320);
    assert_eq!(parsed.copies, 2);
    assert_eq!(parsed.elements, shelf_expected());
}

#[test]
fn tspl_reads_back_to_the_layout() {
    let tspl = String::from_utf8(render(
        write_tspl,
        &layout("shelf_58x40_203dpi"),
        &olive_oil(),
    ))
    .unwrap();
    let parsed = parse_tspl(&tspl);
    assert_eq!(
        (
            parsed.width_mm.as_str(),
            parsed.height_mm.as_str(),
            parsed.gap_mm.as_str()
        ),
        ("58", "40", "3")
    );
    assert_eq!(parsed.copies, 2);
    // TSPL text is font 3 (24 dots) times a whole multiplier: 20 → 1×, 32 → 1×, 64 → 3×.
    let expected: Vec<Printed> = shelf_expected()
        .into_iter()
        .map(|element| match element {
            Printed::Text { x, y, height, text } => Printed::Text {
                x,
                y,
                height: 24 * ((height + 12) / 24).clamp(1, 10),
                text,
            },
            other => other,
        })
        .collect();
    assert_eq!(parsed.elements, expected);
}

#[test]
fn escpos_reads_back_to_the_layout_without_boxes_or_lines() {
    let bytes = render(write_escpos, &layout("shelf_58x40_203dpi"), &olive_oil());
    let pages = parse_escpos(&bytes);
    assert_eq!(pages.len(), 2, "two copies, two pages");
    let page = &pages[0];
    assert_eq!((page.width_dots, page.height_dots), (464, 320));
    assert!(page.cut);
    let expected: Vec<Printed> = shelf_expected()
        .into_iter()
        .filter_map(|element| match element {
            Printed::Box { .. } | Printed::Bar { .. } => None,
            Printed::Text { x, y, height, text } => {
                let scale = ((height + 12) / 24).clamp(1, 8);
                Some(Printed::Text {
                    x,
                    y,
                    height: 24 * scale,
                    text,
                })
            }
            other => Some(other),
        })
        .collect();
    assert_eq!(page.elements, expected);
}

#[test]
fn long_names_are_cut_to_the_label_and_code128_reads_back() {
    let label = layout("product_50x30_300dpi");
    let data = LabelData {
        product_name: "Organic Fair-Trade Dark Chocolate with Sea Salt 100 g".into(),
        ..notebook()
    };
    let zpl = String::from_utf8(render(write_zpl, &label, &data)).unwrap();
    let parsed = parse_zpl(&zpl);
    let Printed::Text {
        text, x, height, ..
    } = &parsed.elements[0]
    else {
        panic!()
    };
    assert!(
        text.ends_with("...") && text.starts_with("Organic Fair-Trade"),
        "{text}"
    );
    assert!(x + text.chars().count() as u32 * height * 2 / 3 <= parsed.width_dots);
    assert_eq!(
        parsed.elements[1],
        Printed::Barcode {
            x: 24,
            y: 83,
            height: 142,
            module: 2,
            kind: "Code 128".into(),
            data: "SKU-NB-A5-{07}".into(),
            readable: false
        }
    );
    assert_eq!(
        parsed.elements[2],
        Printed::Text {
            x: 24,
            y: 260,
            height: 59,
            text: "1200 JPY".into()
        }
    );
}

#[test]
fn a_line_break_in_a_product_name_cannot_inject_printer_commands() {
    let data = LabelData {
        product_name: "Tea\r\nPRINT 99,1".into(),
        ..notebook()
    };
    let tspl =
        String::from_utf8(render(write_tspl, &layout("product_50x30_300dpi"), &data)).unwrap();
    let parsed = parse_tspl(&tspl);
    assert_eq!(parsed.copies, 2);
    assert!(
        matches!(&parsed.elements[0], Printed::Text { text, .. } if text == "Tea  PRINT 99,1"),
        "{tspl}"
    );
}
