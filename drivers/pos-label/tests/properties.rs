//! Any valid layout and product print, and read back from ZPL and TSPL to exactly the
//! placements the layout defines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pos_core::money::{Currency, Money};
use pos_label::tspl::{font_scale, write_tspl};
use pos_label::zpl::write_zpl;
use pos_label::{
    BarcodeKind, BarcodeText, Direction, Element, Font, Label, LabelData, LabelLayout, Placed,
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use support::{Printed, parse_tspl, parse_zpl};

fn mm(tenths: u32) -> Decimal {
    Decimal::new(i64::from(tenths), 1)
}

/// Elements near the top left, small enough to fit any label of 60 × 30 mm or more.
fn element() -> impl Strategy<Value = Element> {
    let at = (0u32..150, 0u32..100);
    prop_oneof![
        (at.clone(), 15u32..60).prop_map(|((x, y), h)| Element::ProductName {
            x_mm: mm(x),
            y_mm: mm(y),
            font: Font { height_mm: mm(h) }
        }),
        (
            at.clone(),
            15u32..60,
            "[A-Za-z0-9^_~\"äé€][A-Za-z0-9 ^_~\"äé€]{0,11}"
        )
            .prop_map(|((x, y), h, text)| Element::FreeText {
                x_mm: mm(x),
                y_mm: mm(y),
                font: Font { height_mm: mm(h) },
                text
            }),
        (
            at.clone(),
            30u32..150,
            1u32..3,
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|((x, y), h, module, ean, readable)| {
                Element::Barcode {
                    x_mm: mm(x),
                    y_mm: mm(y),
                    kind: if ean {
                        BarcodeKind::Ean13
                    } else {
                        BarcodeKind::Code128
                    },
                    height_mm: mm(h),
                    module_dots: module,
                    text: if readable {
                        BarcodeText::Below
                    } else {
                        BarcodeText::Hidden
                    },
                }
            }),
        (at.clone(), 20u32..150, 20u32..150, 1u32..5).prop_map(|((x, y), w, h, line)| {
            Element::Box {
                x_mm: mm(x),
                y_mm: mm(y),
                width_mm: mm(w),
                height_mm: mm(h),
                line_mm: mm(line),
            }
        }),
        (at, 10u32..150, 1u32..10, any::<bool>()).prop_map(|((x, y), length, line, down)| {
            Element::Line {
                x_mm: mm(x),
                y_mm: mm(y),
                length_mm: mm(length),
                line_mm: mm(line),
                direction: if down {
                    Direction::Down
                } else {
                    Direction::Across
                },
            }
        }),
    ]
}

fn expected(placed: &[Placed], text_height: impl Fn(u32) -> u32) -> Vec<Printed> {
    placed
        .iter()
        .map(|p| match p {
            Placed::Text { x, y, height, text } => Printed::Text {
                x: *x,
                y: *y,
                height: text_height(*height),
                text: text.clone(),
            },
            Placed::Barcode {
                x,
                y,
                kind,
                height,
                module,
                text,
                data,
            } => Printed::Barcode {
                x: *x,
                y: *y,
                height: *height,
                module: *module,
                kind: kind.label().to_string(),
                data: if *kind == BarcodeKind::Ean13 {
                    data[..12].to_string()
                } else {
                    data.clone()
                },
                readable: *text == BarcodeText::Below,
            },
            Placed::Box {
                x,
                y,
                width,
                height,
                line,
            } => Printed::Box {
                x: *x,
                y: *y,
                width: *width,
                height: *height,
                line: *line,
            },
            Placed::Bar {
                x,
                y,
                width,
                height,
            } => Printed::Bar {
                x: *x,
                y: *y,
                width: *width,
                height: *height,
            },
        })
        .collect()
}

proptest! {
    #[test]
    fn every_valid_label_reads_back_from_zpl_and_tspl(
        elements in proptest::collection::vec(element(), 0..8),
        size in (600u32..1000, 300u32..800),
        dpi in proptest::sample::select(vec![203u32, 300]),
        name in "[A-Za-z0-9 ^_~\"ß]{1,30}",
        barcode_body in "[0-9]{12}",
        code_text in "[ -~]{1,8}",
        cents in 1i64..100_000,
    ) {
        let layout = LabelLayout { name: "p".into(), width_mm: mm(size.0), height_mm: mm(size.1), gap_mm: Decimal::TWO, dpi, elements };
        let label = Label::new(layout).unwrap();
        let has_ean = label.layout().elements.iter().any(|e| matches!(e, Element::Barcode { kind: BarcodeKind::Ean13, .. }));
        let data = LabelData {
            product_name: name,
            price: Money::from_minor(cents, Currency::EUR),
            barcode: if has_ean {
                format!("{barcode_body}{}", pos_label::barcode::ean_check_digit(&barcode_body))
            } else {
                code_text
            },
            sku: "P-1".into(),
            unit_price: String::new(),
        };
        // Every element, price and barcode fits: the strategies keep them within bounds.
        let placed = label.place(&data).unwrap();
        let mut zpl = Vec::new();
        write_zpl(&label, &data, 1, &mut zpl).unwrap();
        let zpl = parse_zpl(&String::from_utf8(zpl).unwrap());
        prop_assert_eq!((zpl.width_dots, zpl.height_dots), (label.width_dots(), label.height_dots()));
        prop_assert_eq!(zpl.elements, expected(&placed, |h| h));
        let mut tspl = Vec::new();
        write_tspl(&label, &data, 1, &mut tspl).unwrap();
        let tspl = parse_tspl(&String::from_utf8(tspl).unwrap());
        prop_assert_eq!(tspl.elements, expected(&placed, |h| 24 * font_scale(h)));
    }
}
