//! The back office's labels page driven through its screen (taps, typed fields and a finger
//! dragging on Slint's testing backend) over the till's encrypted store: an element dragged
//! on the label is saved where it was let go and is still there after the store is opened
//! again; labels of two products print on a ZPL printer on loopback and read back with their
//! names, prices and barcodes; mistakes are refused with a message and save nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;

use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use pos_label::{Element, LabelLayout};
use pos_terminal::label_printer::{LabelLine, LabelPrinterSettings, label_printer};
use pos_terminal::terminal::DataDir;
use pos_ui::Labels;
use rust_decimal::Decimal;
use slint::platform::{PointerEventButton, WindowEvent};
use slint::{ComponentHandle, LogicalPosition, Model};
use support::{COLA, Desk, MILK, OnScreen};

/// The demo shop in `dir` with the back office open on the labels page, signed in as the
/// manager; labels go to `printer`.
fn start(dir: &Path, printer: &LabelPrinterSettings) -> Desk {
    let desk = Desk::open(dir, |_| {});
    desk.window
        .window()
        .set_size(slint::PhysicalSize::new(1280, 800));
    if let Some(printer) = label_printer(printer, &DataDir::new(dir)) {
        desk.screen.set_label_printer(printer);
    }
    desk.sign_in("Marc", "9999");
    desk.tap("Products");
    desk.tap("Labels");
    desk
}

impl Desk {
    /// The frame of the element named `name` on the label: (centre x, centre y, width) in
    /// logical pixels.
    fn frame(&self, name: &str) -> (f32, f32, f32) {
        let frame = ElementHandle::find_by_accessible_label(&self.window, name)
            .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
            .unwrap_or_else(|| panic!("no element {name:?} on the label"));
        let (at, size) = (frame.absolute_position(), frame.size());
        (
            at.x + size.width / 2.0,
            at.y + size.height / 2.0,
            size.width,
        )
    }

    /// Presses on `name`'s frame, drags it by (`dx`, `dy`) pixels in small steps as a
    /// finger does, and lets go.
    fn drag(&self, name: &str, dx: f32, dy: f32) {
        let (x, y, _) = self.frame(name);
        let window = self.window.window();
        let button = PointerEventButton::Left;
        window.dispatch_event(WindowEvent::PointerPressed {
            position: LogicalPosition::new(x, y),
            button,
        });
        for step in 1..=10 {
            let part = step as f32 / 10.0;
            window.dispatch_event(WindowEvent::PointerMoved {
                position: LogicalPosition::new(x + dx * part, y + dy * part),
            });
        }
        window.dispatch_event(WindowEvent::PointerReleased {
            position: LogicalPosition::new(x + dx, y + dy),
            button,
        });
    }

    /// Pixels per millimetre on screen, from an element's frame and its size in millimetres.
    fn scale(&self, name: &str) -> f32 {
        let (_, _, width_px) = self.frame(name);
        let elements = self.window.global::<Labels>().get_elements();
        let width_mm = elements
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.width)
            .unwrap();
        width_px / width_mm
    }

    fn saved(&self) -> Vec<LabelLayout> {
        self.till
            .store
            .borrow()
            .label_layouts()
            .unwrap()
            .into_iter()
            .map(|(_, _, json)| serde_json::from_str(&json).unwrap())
            .collect()
    }
}

/// `mm` snapped to the editor's half-millimetre grid, as the editor does.
fn snapped(mm: f32) -> Decimal {
    let mm = Decimal::try_from(mm).unwrap();
    (mm * Decimal::TWO).round() / Decimal::TWO
}

#[test]
fn an_element_dragged_on_the_label_is_saved_where_it_was_let_go_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let desk = start(dir.path(), &LabelPrinterSettings::default());
    desk.type_into("Layout name", "Shelf edge");
    desk.tap("+ Price");
    let scale = desk.scale("Price");
    assert!(
        scale > 5.0,
        "the 58 mm label is drawn large enough to place by finger: {scale}"
    );
    desk.drag("Price", 20.0 * scale, 15.0 * scale);
    desk.tap("+ Barcode");
    desk.drag("Barcode", 3.0 * scale, 26.0 * scale);
    desk.tap("+ Product name");
    desk.tap("Save layout");
    assert_eq!(desk.message(), "Layout “Shelf edge” saved");

    let saved = desk.saved();
    assert_eq!(saved.len(), 1);
    let layout = &saved[0];
    assert_eq!(layout.name, "Shelf edge");
    assert_eq!(
        (layout.width_mm, layout.height_mm, layout.dpi),
        (Decimal::from(58), Decimal::from(40), 203)
    );
    // Elements start at (2, 2) mm and move by what the finger moved, on a half-mm grid.
    let positions: Vec<(&str, (Decimal, Decimal))> = layout
        .elements
        .iter()
        .map(|e| (e.name(), e.position()))
        .collect();
    assert_eq!(
        positions,
        [
            ("price", (snapped(22.0), snapped(17.0))),
            ("barcode", (snapped(5.0), snapped(28.0))),
            ("product name", (Decimal::TWO, Decimal::TWO)),
        ]
    );
    // The frame on screen is where the label now has it.
    let frames = desk.window.global::<Labels>().get_elements();
    let price = frames.iter().find(|e| e.name == "Price").unwrap();
    assert!(
        (price.x - 22.0).abs() < 0.3 && (price.y - 17.0).abs() < 0.3,
        "{price:?}"
    );

    // The store is closed and opened again: the layout is listed and opens as saved.
    drop(desk);
    let desk = start(dir.path(), &LabelPrinterSettings::default());
    let labels = desk.window.global::<Labels>();
    assert_eq!(
        labels
            .get_layouts()
            .iter()
            .map(String::from)
            .collect::<Vec<_>>(),
        ["Shelf edge"]
    );
    assert_eq!(labels.get_name(), "Shelf edge");
    assert_eq!(labels.get_elements().row_count(), 3);
    assert_eq!(desk.saved()[0], *layout);
}

/// One ZPL format as printed: its text fields, its barcodes (type and data), its boxes and
/// lines, its copies.
#[derive(Debug, PartialEq)]
struct Printed {
    texts: Vec<String>,
    barcodes: Vec<String>,
    /// `^GB` graphics as (width, height, border) in dots: a border as thick as the narrow side
    /// is a solid line.
    graphics: Vec<(u32, u32, u32)>,
    copies: u32,
}

/// Reads the ZPL formats (`^XA` … `^XZ`) the printer received.
fn read_zpl(zpl: &str) -> Vec<Printed> {
    zpl.split("^XZ")
        .filter(|format| format.contains("^XA"))
        .map(|format| {
            let mut printed = Printed {
                texts: Vec::new(),
                barcodes: Vec::new(),
                graphics: Vec::new(),
                copies: 0,
            };
            for field in format.split("^FO").skip(1) {
                if let Some(graphic) = field.split("^GB").nth(1) {
                    let n: Vec<u32> = graphic
                        .trim_end_matches(|c: char| !c.is_ascii_digit())
                        .split(',')
                        .map(|n| n.parse().unwrap())
                        .collect();
                    printed.graphics.push((n[0], n[1], n[2]));
                    continue;
                }
                let data = field
                    .split("^FD")
                    .nth(1)
                    .and_then(|rest| rest.split("^FS").next())
                    .unwrap_or_default()
                    .to_owned();
                if field.contains("^BE") {
                    printed.barcodes.push(format!("EAN-13 {data}"));
                } else if field.contains("^BC") {
                    printed.barcodes.push(format!("Code 128 {data}"));
                } else {
                    printed.texts.push(data);
                }
            }
            printed.copies = format
                .split("^PQ")
                .nth(1)
                .and_then(|rest| rest.lines().next())
                .and_then(|n| n.trim().parse().ok())
                .unwrap();
            printed
        })
        .collect()
}

/// A ZPL printer on loopback: its address, and the bytes of the one job it takes.
fn zpl_printer() -> (LabelPrinterSettings, std::thread::JoinHandle<String>) {
    let printer = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = printer.local_addr().unwrap().to_string();
    let received = std::thread::spawn(move || {
        let (mut line, _) = printer.accept().unwrap();
        let mut bytes = Vec::new();
        line.read_to_end(&mut bytes).unwrap();
        String::from_utf8(bytes).unwrap()
    });
    let settings = LabelPrinterSettings {
        language: pos_label::Language::Zpl,
        line: LabelLine::Tcp { address },
    };
    (settings, received)
}

#[test]
fn labels_for_two_products_print_on_a_zpl_printer_and_read_back() {
    let (printer, received) = zpl_printer();
    let LabelLine::Tcp { address } = printer.line.clone() else {
        unreachable!()
    };
    let dir = tempfile::tempdir().unwrap();
    let desk = start(dir.path(), &printer);
    assert_eq!(
        desk.window.global::<Labels>().get_printer(),
        format!("Label printer at {address} (ZPL)")
    );
    desk.tap("+ Product name");
    desk.tap("+ Price");
    let scale = desk.scale("Price");
    desk.drag("Price", 0.0, 6.0 * scale);
    desk.tap("+ Barcode");
    desk.drag("Barcode", 0.0, 14.0 * scale);

    let product = |code: &str| {
        desk.till
            .store
            .borrow()
            .product_by_code(code)
            .unwrap()
            .unwrap()
    };
    let (milk, cola) = (product(MILK), product(COLA));
    desk.tap("Print");
    desk.type_into("Barcode or SKU", MILK);
    desk.tap("Add");
    desk.type_into("Barcode or SKU", COLA);
    desk.tap("Add");
    desk.tap(&format!("More of {}", milk.display_name()));
    // The preview shows the first product to print.
    assert_eq!(
        desk.window.global::<Labels>().get_sample(),
        milk.display_name()
    );
    desk.tap("Print labels");
    assert_eq!(desk.message(), format!("3 label(s) sent to tcp {address}"));

    let zpl = received.join().unwrap();
    assert_eq!(
        read_zpl(&zpl),
        [
            Printed {
                texts: vec![milk.display_name(), milk.price.to_string()],
                barcodes: vec![format!("EAN-13 {}", &MILK[..12])],
                graphics: Vec::new(),
                copies: 2,
            },
            Printed {
                texts: vec![cola.display_name(), cola.price.to_string()],
                barcodes: vec![format!("EAN-13 {}", &COLA[..12])],
                graphics: Vec::new(),
                copies: 1,
            },
        ]
    );
    // Printing from an unsaved layout saves nothing, and the list is cleared for the next job.
    assert!(desk.saved().is_empty());
    assert_eq!(
        desk.window.global::<Labels>().get_print_rows().row_count(),
        0
    );
}

#[test]
fn a_barcode_switched_to_code_128_prints_a_code_ean_13_cannot_inside_a_box_under_a_line() {
    let (printer, received) = zpl_printer();
    let dir = tempfile::tempdir().unwrap();
    let desk = start(dir.path(), &printer);
    desk.type_into("Layout name", "Crate");
    desk.tap("+ Product name");
    // A line under the name, made longer and thicker.
    desk.tap("+ Line");
    let scale = desk.scale("Line");
    desk.drag("Line", 0.0, 4.5 * scale);
    desk.tap("Larger");
    desk.tap("Thicker");
    assert_eq!(
        desk.window.global::<Labels>().get_part_size(),
        "31 mm across, 0.75 mm thick"
    );
    // A box around the label's edge, made larger.
    desk.tap("+ Box");
    desk.drag("Box", -1.5 * scale, -1.5 * scale);
    for _ in 0..28 {
        desk.tap("Larger");
    }
    desk.tap("+ Barcode");
    desk.drag("Barcode", 1.0 * scale, 12.0 * scale);
    assert_eq!(
        desk.window.global::<Labels>().get_part_size(),
        "EAN-13, bars 10 mm high"
    );

    // The tee has no barcode of its own: its label carries its SKU, which EAN-13 cannot print.
    desk.tap("Print");
    desk.type_into("Barcode or SKU", "TEE");
    desk.tap("Add");
    assert_eq!(
        desk.message(),
        "barcode \"TEE\" cannot be printed as EAN-13: EAN-13 is digits only; choose Code 128 for this barcode"
    );
    desk.tap("Print labels");
    assert_eq!(
        desk.message(),
        "Organic tee: barcode \"TEE\" cannot be printed as EAN-13: EAN-13 is digits only; choose Code 128 for this barcode"
    );
    desk.tap("Barcode");
    desk.tap("Code 128");
    assert_eq!(desk.message(), "", "the preview places the SKU as Code 128");
    assert_eq!(
        desk.window.global::<Labels>().get_part_size(),
        "Code 128, bars 10 mm high"
    );
    desk.tap("Save layout");
    assert_eq!(desk.message(), "Layout “Crate” saved");
    desk.tap("Print");
    desk.type_into("Barcode or SKU", MILK);
    desk.tap("Add");
    desk.tap("Print labels");
    assert!(
        desk.message().starts_with("2 label(s) sent"),
        "{}",
        desk.message()
    );

    let printed = read_zpl(&received.join().unwrap());
    let barcodes: Vec<&str> = printed
        .iter()
        .flat_map(|p| p.barcodes.iter().map(String::as_str))
        .collect();
    assert_eq!(barcodes, ["Code 128 TEE", &format!("Code 128 {MILK}")]);
    // At 203 dpi (8 dots a millimetre): the line 31 mm long and 0.75 mm (6 dots) thick, solid;
    // the box 48 × 38 mm with a border of 0.5 mm (4 dots).
    assert_eq!(printed[0].graphics, [(248, 6, 6), (384, 304, 4)]);

    let saved = &desk.saved()[0];
    let kinds: Vec<&str> = saved.elements.iter().map(Element::name).collect();
    assert_eq!(kinds, ["product name", "line", "box", "barcode"]);
    assert!(matches!(
        saved.elements[3],
        Element::Barcode {
            kind: pos_label::BarcodeKind::Code128,
            ..
        }
    ));
}

#[test]
fn mistakes_are_refused_with_a_message_and_save_or_print_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A printer that is not there: the port is taken and closed again.
    let gone = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let desk = start(
        dir.path(),
        &LabelPrinterSettings {
            language: pos_label::Language::Tspl,
            line: LabelLine::Tcp {
                address: gone.to_string(),
            },
        },
    );
    desk.tap("+ Price");
    desk.tap("Save layout");
    assert_eq!(desk.message(), "give the layout a name");

    desk.type_into("Layout name", "Too far");
    let scale = desk.scale("Price");
    desk.drag("Price", 0.0, 36.0 * scale);
    assert!(
        desk.message().contains("does not fit on the label"),
        "{}",
        desk.message()
    );
    desk.tap("Save layout");
    assert!(
        desk.message().contains("does not fit on the label"),
        "{}",
        desk.message()
    );
    desk.drag("Price", 0.0, -30.0 * scale);
    assert_eq!(desk.message(), "");

    desk.tap("+ Barcode");
    desk.drag("Barcode", 0.0, 14.0 * scale);
    for _ in 0..4 {
        desk.tap("Smaller");
    }
    desk.tap("Save layout");
    assert_eq!(
        desk.message(),
        "the barcode (element 1) is too small to scan: its bars are 6 mm high; make them at least 8 mm"
    );
    assert!(desk.saved().is_empty(), "nothing was saved");

    desk.tap("Print");
    desk.type_into("Barcode or SKU", "NO-SUCH-THING");
    desk.tap("Add");
    assert_eq!(
        desk.message(),
        "no product has the barcode or SKU “NO-SUCH-THING”"
    );

    desk.tap("Barcode");
    for _ in 0..4 {
        desk.tap("Larger");
    }
    desk.tap("Print");
    desk.type_into("Barcode or SKU", MILK);
    desk.tap("Add");
    desk.type_into("Barcode or SKU", "TEE");
    desk.tap("Add");
    desk.tap("Print labels");
    assert_eq!(
        desk.message(),
        "Organic tee: barcode \"TEE\" cannot be printed as EAN-13: EAN-13 is digits only; choose Code 128 for this barcode"
    );
    desk.tap("Fewer of Organic tee");
    desk.tap("Print labels");
    assert!(
        desk.message()
            .starts_with("the label printer did not take the job:")
            && desk.message().ends_with("Nothing was printed; try again."),
        "{}",
        desk.message()
    );
    // The list stays for the next try.
    assert_eq!(
        desk.window.global::<Labels>().get_print_rows().row_count(),
        1
    );

    desk.tap("Save layout");
    assert_eq!(desk.message(), "Layout “Too far” saved");
    desk.tap("Layouts");
    desk.tap("New layout");
    desk.type_into("Layout name", "too FAR");
    desk.tap("+ Price");
    desk.tap("Save layout");
    assert_eq!(
        desk.message(),
        "“too FAR” is already the name of another layout"
    );
    assert_eq!(desk.saved().len(), 1);
    assert!(matches!(
        desk.saved()[0].elements[1],
        Element::Barcode { .. }
    ));
}

/// Every button on screen that is not an element's frame on the label.
fn controls(desk: &Desk) -> Vec<ElementHandle> {
    let frames: Vec<String> = desk
        .window
        .global::<Labels>()
        .get_elements()
        .iter()
        .map(|e| e.name.to_string())
        .collect();
    let page = ElementHandle::find_by_element_type_name(&desk.window, "LabelsPage")
        .next()
        .expect("the labels page is open");
    page.query_descendants()
        .match_accessible_role(AccessibleRole::Button)
        .find_all()
        .into_iter()
        .filter(|e| {
            e.accessible_label()
                .is_some_and(|label| !frames.contains(&label.to_string()))
        })
        .collect()
}

#[test]
fn at_800_by_480_every_control_of_the_editor_is_on_screen_a_finger_high_and_apart() {
    let dir = tempfile::tempdir().unwrap();
    let desk = start(dir.path(), &LabelPrinterSettings::default());
    desk.window
        .window()
        .set_size(slint::PhysicalSize::new(800, 480));
    desk.type_into("Layout name", "Small screen");
    for kind in ["+ Text", "+ Box", "+ Line", "+ Barcode"] {
        desk.tap(kind);
    }
    // A message over the page takes room too: the worst case.
    desk.tap("Save layout");
    assert_eq!(desk.message(), "Layout “Small screen” saved");
    let scale = desk.scale("Barcode");
    assert!(
        scale > 4.0,
        "the label is drawn large enough to place by finger: {scale}"
    );
    let panels: [(&str, Option<&str>); 7] = [
        ("the label's own size and resolution", None),
        ("a text", Some("Text")),
        ("a box", Some("Box")),
        ("a line", Some("Line")),
        ("a barcode", Some("Barcode")),
        ("the products to print", Some("Print")),
        ("the saved layouts", Some("Layouts")),
    ];
    for (what, tap) in panels {
        match tap {
            None => desk.window.global::<Labels>().invoke_select(-1),
            Some(label) => desk.tap(label),
        }
        let controls = controls(&desk);
        assert!(controls.len() > 12, "{what}: {} controls", controls.len());
        let boxes: Vec<(String, f32, f32, f32, f32)> = controls
            .iter()
            .map(|e| {
                let (at, size) = (e.absolute_position(), e.size());
                let label = e.accessible_label().unwrap().to_string();
                (label, at.x, at.y, size.width, size.height)
            })
            .collect();
        for (label, x, y, width, height) in &boxes {
            assert!(
                *x >= 0.0 && *y >= 0.0 && x + width <= 800.5 && y + height <= 480.5,
                "{what}: “{label}” at ({x}, {y}) {width} × {height} runs off the screen"
            );
            assert!(*height >= 44.0, "{what}: “{label}” is {height} px high");
        }
        for (n, (a, ax, ay, aw, ah)) in boxes.iter().enumerate() {
            for (b, bx, by, bw, bh) in &boxes[n + 1..] {
                let apart = ax + aw <= bx + 0.5
                    || bx + bw <= ax + 0.5
                    || ay + ah <= by + 0.5
                    || by + bh <= ay + 0.5;
                assert!(apart, "{what}: “{a}” and “{b}” overlap");
            }
        }
    }
}
