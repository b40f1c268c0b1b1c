//! The back office's labels page driven through its screen (taps, typed fields and a finger
//! dragging on Slint's testing backend) over the till's encrypted store: an element dragged
//! on the label is saved where it was let go and is still there after the store is opened
//! again; labels of two products print on a ZPL printer on loopback and read back with their
//! names, prices and barcodes; mistakes are refused with a message and save nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::rc::Rc;

use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use pos_backoffice::{BackOfficeScreen, SharedStore};
use pos_core::clock::Timestamp;
use pos_core::id::DeviceId;
use pos_label::{Element, LabelLayout};
use pos_terminal::backoffice::show_back_office;
use pos_terminal::config::TerminalConfig;
use pos_terminal::label_printer::{LabelLine, LabelPrinterSettings, label_printer};
use pos_terminal::peripherals::{PeripheralService, PeripheralSettings};
use pos_terminal::ports::pin_gate;
use pos_terminal::terminal::{DataDir, OpenTerminal, open_terminal};
use pos_ui::{AppWindow, Labels, Office};
use rust_decimal::Decimal;
use slint::platform::{PointerEventButton, WindowEvent};
use slint::{ComponentHandle, LogicalPosition, Model};

/// Monday 2026-03-02 10:00 UTC.
const MONDAY_10AM: i64 = 1_772_445_600_000;
const MILK: &str = "4006381333931";
const COLA: &str = "5449000000996";
/// The demo's butter carries a barcode with a wrong check digit: the till finds it by the
/// code, but no EAN-13 label can print it.
const BUTTER: &str = "4008452011231";

fn monday() -> Timestamp {
    Timestamp::from_unix_ms(MONDAY_10AM)
}

struct Desk {
    window: AppWindow,
    _screen: BackOfficeScreen<SharedStore>,
    till: OpenTerminal,
}

fn platform() {
    // Once per test thread; a second call on the same thread is refused and harmless.
    let _ = slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })));
}

/// The demo shop in `dir` with the back office open on the labels page, signed in as the
/// manager; labels go to `printer`.
fn start(dir: &Path, printer: &LabelPrinterSettings) -> Desk {
    platform();
    let data = DataDir::new(dir);
    let peripherals = PeripheralService::start(
        PeripheralSettings::of(&data, &TerminalConfig::default()),
        |_| {},
    )
    .unwrap();
    let till = open_terminal(dir, DeviceId::new("T1"), 20, Rc::new(peripherals), monday).unwrap();
    let window = AppWindow::new().unwrap();
    window
        .window()
        .set_size(slint::PhysicalSize::new(1280, 800));
    let screen = show_back_office(
        &window,
        till.store.clone(),
        &DeviceId::new("T1"),
        monday,
        pin_gate(till.store.clone()),
    )
    .unwrap();
    if let Some(printer) = label_printer(printer, &data) {
        screen.set_label_printer(printer);
    }
    window.show().unwrap();
    let desk = Desk {
        window,
        _screen: screen,
        till,
    };
    desk.window
        .global::<pos_ui::SessionAdapter>()
        .set_page(pos_ui::Page::Login);
    desk.tap("Back office");
    desk.tap("Marc");
    desk.type_into("PIN", "9999");
    desk.tap("Sign in");
    desk.tap("Products");
    desk.tap("Labels");
    desk
}

impl Desk {
    fn tap(&self, label: &str) {
        ElementHandle::find_by_accessible_label(&self.window, label)
            .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
            .unwrap_or_else(|| panic!("no button labelled {label:?} on screen"))
            .invoke_accessible_default_action();
    }

    fn type_into(&self, label: &str, text: &str) {
        ElementHandle::find_by_accessible_label(&self.window, label)
            .find(|e| e.accessible_role() == Some(AccessibleRole::TextInput))
            .unwrap_or_else(|| panic!("no field labelled {label:?} on screen"))
            .set_accessible_value(text);
    }

    fn message(&self) -> String {
        self.window.global::<Office>().get_message().into()
    }

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

/// One ZPL format as printed: its text fields, its barcode's digits, its copies.
#[derive(Debug, PartialEq)]
struct Printed {
    texts: Vec<String>,
    barcode: String,
    copies: u32,
}

/// Reads the ZPL formats (`^XA` … `^XZ`) the printer received.
fn read_zpl(zpl: &str) -> Vec<Printed> {
    zpl.split("^XZ")
        .filter(|format| format.contains("^XA"))
        .map(|format| {
            let mut printed = Printed {
                texts: Vec::new(),
                barcode: String::new(),
                copies: 0,
            };
            for field in format.split("^FO").skip(1) {
                let data = field
                    .split("^FD")
                    .nth(1)
                    .and_then(|rest| rest.split("^FS").next())
                    .unwrap_or_default()
                    .to_owned();
                if field.contains("^BE") {
                    printed.barcode = data;
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

#[test]
fn labels_for_two_products_print_on_a_zpl_printer_and_read_back() {
    let printer = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = printer.local_addr().unwrap().to_string();
    let received = std::thread::spawn(move || {
        let (mut line, _) = printer.accept().unwrap();
        let mut bytes = Vec::new();
        line.read_to_end(&mut bytes).unwrap();
        String::from_utf8(bytes).unwrap()
    });
    let dir = tempfile::tempdir().unwrap();
    let desk = start(
        dir.path(),
        &LabelPrinterSettings {
            language: pos_label::Language::Zpl,
            line: LabelLine::Tcp {
                address: address.clone(),
            },
        },
    );
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
                barcode: MILK[..12].to_owned(),
                copies: 2,
            },
            Printed {
                texts: vec![cola.display_name(), cola.price.to_string()],
                barcode: COLA[..12].to_owned(),
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

    desk.type_into("Barcode or SKU", "NO-SUCH-THING");
    desk.tap("Add");
    assert_eq!(
        desk.message(),
        "no product has the barcode or SKU “NO-SUCH-THING”"
    );

    for _ in 0..4 {
        desk.tap("Larger");
    }
    desk.type_into("Barcode or SKU", MILK);
    desk.tap("Add");
    desk.type_into("Barcode or SKU", BUTTER);
    desk.tap("Add");
    desk.tap("Print labels");
    assert_eq!(
        desk.message(),
        "Butter 250 g: barcode \"4008452011231\" cannot be printed as EAN-13: the check digit should be 6"
    );
    desk.tap("Fewer of Butter 250 g");
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
