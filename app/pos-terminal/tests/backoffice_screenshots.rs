//! Every back-office screen over the demo shop, rendered offscreen by the software renderer at
//! 1280×800 and 800×480 and compared with `docs/screenshots/backoffice-*.png`. An accidental
//! visual change fails here.
//!
//! After an intended change, regenerate them and look at every picture before committing:
//! `UPDATE_SCREENSHOTS=1 cargo test -p pos-terminal --test backoffice_screenshots`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::rc::Rc;

use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, RoleId, UserId};
use pos_terminal::backoffice::show_back_office;
use pos_terminal::config::TerminalConfig;
use pos_terminal::peripherals::{PeripheralService, PeripheralSettings};
use pos_terminal::ports::{hash_pin, pin_gate};
use pos_terminal::terminal::{DataDir, open_terminal};
use pos_till::view::Screen;
use pos_till::{Intent, ShiftIntent, TenderChoice, Till};
use pos_ui::{AppWindow, Products};
use slint::ComponentHandle;

/// Monday 2026-03-02 10:00 UTC, 11:00 in Berlin.
const MONDAY_10AM: i64 = 1_772_445_600_000;
const HOUR_MS: i64 = 3_600_000;
const SIZES: [(u32, u32); 2] = [(1280, 800), (800, 480)];

/// A 58 × 40 mm shelf edge at 203 dpi with most kinds of element the editor adds.
const SHELF_EDGE: &str = r#"{"name":"Shelf edge","width_mm":"58","height_mm":"40","gap_mm":"2","dpi":203,"elements":[
    {"type":"free_text","x_mm":"3","y_mm":"2","font":{"height_mm":"3"},"text":"Corner Market"},
    {"type":"product_name","x_mm":"3","y_mm":"6","font":{"height_mm":"4"}},
    {"type":"line","x_mm":"3","y_mm":"10.5","length_mm":"52","line_mm":"0.5"},
    {"type":"price","x_mm":"3","y_mm":"11.5","font":{"height_mm":"7"}},
    {"type":"unit_price","x_mm":"3","y_mm":"19.5","font":{"height_mm":"2.5"}},
    {"type":"barcode","x_mm":"3","y_mm":"24","kind":"ean13","height_mm":"10","module_dots":2,"text":"below"},
    {"type":"sku","x_mm":"40","y_mm":"35","font":{"height_mm":"2.5"}}]}"#;

fn monday() -> Timestamp {
    Timestamp::from_unix_ms(MONDAY_10AM)
}

struct Shots {
    window: AppWindow,
    width: u32,
    height: u32,
    failures: Vec<String>,
}

impl Shots {
    fn tap(&self, label: &str) {
        ElementHandle::find_by_accessible_label(&self.window, label)
            .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
            .unwrap_or_else(|| panic!("no button labelled {label:?}"))
            .invoke_accessible_default_action();
    }

    fn type_into(&self, label: &str, text: &str) {
        ElementHandle::find_by_accessible_label(&self.window, label)
            .find(|e| e.accessible_role() == Some(AccessibleRole::TextInput))
            .unwrap_or_else(|| panic!("no field labelled {label:?}"))
            .set_accessible_value(text);
    }

    fn shoot(&mut self, name: &str) {
        let file = format!("backoffice-{name}-{}x{}.png", self.width, self.height);
        if let Err(failure) = pos_screen_checks::compare_window(
            self.window.window(),
            &file,
            (self.width, self.height),
            "cargo test -p pos-terminal --test backoffice_screenshots",
        ) {
            self.failures.push(failure);
        }
    }
}

/// A morning's sales at the till, an hour apart, so the dashboard and reports have figures.
fn trade(till: &mut Till) {
    let at = |hour: i64| Timestamp::from_unix_ms(MONDAY_10AM - hour * HOUR_MS);
    till.handle(
        Intent::Login {
            user: UserId::new("anna"),
            pin: "1234".to_owned(),
        },
        at(3),
    )
    .unwrap();
    if till.view().screen == Screen::ShiftOpen {
        till.handle(
            Intent::Shift(ShiftIntent::Open {
                total: "150.00".to_owned(),
            }),
            at(3),
        )
        .unwrap();
    }
    let baskets: [(i64, &[&str], TenderChoice, &str); 4] = [
        (
            3,
            &["4006381333931", "4008452011236"],
            TenderChoice::Cash,
            "10.00",
        ),
        (
            2,
            &["4006381333931", "4006381333931", "5449000000996"],
            TenderChoice::Card,
            "4.85",
        ),
        (
            1,
            &["4008452011236", "4006581020013"],
            TenderChoice::Cash,
            "20.00",
        ),
        (0, &["4006381333931"], TenderChoice::Cash, "5.00"),
    ];
    for (hours_before, codes, tender, amount) in baskets {
        let now = at(hours_before);
        // Lena shops with her card; the last basket has a discount a manager approved.
        if hours_before == 2 {
            till.handle(
                Intent::AttachCustomer {
                    card: "9900000000017".to_owned(),
                },
                now,
            )
            .unwrap();
        }
        for code in codes {
            till.handle(Intent::Scan((*code).to_owned()), now).unwrap();
        }
        if hours_before == 0 {
            let above_limit = Intent::CartDiscount {
                kind: pos_till::CartDiscountKind::Percent,
                value: "20".to_owned(),
            };
            assert!(till.handle(above_limit, now).is_err(), "needs a manager");
            till.handle(
                Intent::Approve {
                    manager: UserId::new("marc"),
                    pin: "9999".to_owned(),
                },
                now,
            )
            .unwrap();
        }
        till.handle(Intent::StartPayment, now).unwrap();
        let total = till.view().cart.total.clone();
        let amount = if tender == TenderChoice::Card {
            total
        } else {
            amount.to_owned()
        };
        till.handle(
            Intent::AddTender {
                kind: tender,
                amount,
                reference: String::new(),
            },
            now,
        )
        .unwrap();
        till.handle(Intent::NextCustomer, now).unwrap();
        till.take_effects();
    }
}

fn walk(dir: &Path, width: u32, height: u32) -> Vec<String> {
    let peripherals = PeripheralService::start(
        PeripheralSettings::of(&DataDir::new(dir), &TerminalConfig::default()),
        |_| {},
    )
    .unwrap();
    let mut opened =
        open_terminal(dir, DeviceId::new("T1"), 20, Rc::new(peripherals), monday).unwrap();
    trade(&mut opened.till);
    let window = AppWindow::new().unwrap();
    let screen = show_back_office(
        &window,
        opened.store.clone(),
        &DeviceId::new("T1"),
        monday,
        pin_gate(opened.store.clone()),
    )
    .unwrap();
    // The desktop's simulated label printer, as the terminal sets it up without a section.
    if let Some(printer) = pos_terminal::label_printer::label_printer(
        &pos_terminal::label_printer::LabelPrinterSettings::default(),
        &DataDir::new(dir),
    ) {
        screen.set_label_printer(printer);
    }
    window
        .window()
        .set_size(slint::PhysicalSize::new(width, height));
    window.show().unwrap();
    let mut shots = Shots {
        window,
        width,
        height,
        failures: Vec::new(),
    };

    // The till's login page is where a manager enters the back office.
    shots
        .window
        .global::<pos_ui::SessionAdapter>()
        .set_page(pos_ui::Page::Login);
    shots.tap("Back office");
    shots.tap("Marc");
    shots.shoot("sign-in");
    shots.type_into("PIN", "9999");
    shots.tap("Sign in");
    shots.shoot("dashboard");

    shots.tap("Products");
    shots.shoot("products");
    shots.type_into("Search name, SKU or barcode", "tee");
    shots.tap("Search");
    shots.tap("TEE");
    shots.shoot("product");
    shots.tap("Close");

    let file = dir.join("products.csv");
    std::fs::write(
        &file,
        format!(
            "{}\n\
             jam,JAM-1,Strawberry jam 450 g,,,piece,2.49,1.20,food,,,true,,4000000000017,12\n\
             honey,HON-1,Forest honey 500 g,,,piece,-4.00,2.00,food,,,true,,,\n\
             oat,OAT-1,Oat drink 1 L,,,piece,1.99,0.90,food,,,true,,4006381333931,\n",
            pos_store::csv_io::COLUMNS.join(",")
        ),
    )
    .unwrap();
    shots.tap("Import");
    shots.type_into("File (.csv or .xlsx)", file.to_str().unwrap());
    shots.tap("Preview");
    // The temporary folder differs from run to run; the picture shows where a stick mounts.
    shots
        .window
        .global::<Products>()
        .set_import_path("/media/usb/products.csv".into());
    shots.shoot("import");

    // A shelf-edge layout as a manager would have saved it, with milk on the print list.
    opened
        .store
        .borrow_mut()
        .record(
            &UserId::new("marc"),
            monday(),
            &[pos_core::event::DomainEvent::LabelLayoutSaved {
                id: pos_core::id::LabelLayoutId::new("lbl-shelf"),
                name: "Shelf edge".into(),
                layout: SHELF_EDGE.into(),
            }],
        )
        .unwrap();
    shots.tap("Products");
    shots.tap("Labels");
    shots.type_into("Barcode or SKU", "4006381333931");
    shots.tap("Add");
    shots.shoot("labels");
    // The barcode chosen on the label: its size and its type.
    shots.tap("Barcode");
    shots.shoot("labels-barcode");

    shots.tap("Stock");
    shots.tap("Receive");
    shots.type_into("Barcode or SKU", "4006381333931");
    shots.type_into("Quantity", "24");
    shots.type_into("Lot", "L-0305");
    shots.type_into("Best before", "2026-03-05");
    shots.type_into("Order or delivery note", "PO-1001");
    shots.shoot("stock-receive");
    shots.tap("Book goods in");
    shots.tap("Levels");
    shots.type_into("Barcode or SKU", "4006381333931");
    shots.tap("Show");
    shots.shoot("stock-levels");
    shots.tap("Count");
    for (code, counted) in [("4006381333931", "60"), ("4008452011236", "37")] {
        shots.type_into("Barcode or SKU", code);
        shots.type_into("Counted", counted);
        shots.tap("Add to count");
    }
    shots.shoot("stock-count");
    shots.tap("Expiring");
    shots.shoot("stock-expiring");
    shots.tap("Reorder");
    shots.shoot("stock-reorder");
    // Orders and transfers as a manager first finds them: the ids of new ones are ULIDs,
    // different at every run, so none is made here (the flow test makes them).
    // The tenant's stores, as the fleet sends them down.
    let listed = |seq: u64, id: &str, name: &str| pos_sync::wire::Change {
        server_seq: seq,
        hlc: pos_sync::hlc::HlcTime::new(MONDAY_10AM, 0),
        body: pos_sync::wire::ChangeBody::TenantStore {
            store: pos_sync::wire::TenantStore {
                id: pos_core::id::StoreId::new(id),
                name: name.to_owned(),
            },
        },
    };
    opened
        .store
        .borrow_mut()
        .apply_pulled(
            &[
                listed(1, "berlin-mitte", "Corner Market Mitte"),
                listed(2, "str-4f2a9c01d3e5b677", "Corner Market Altona"),
                listed(3, "str-77c0e2a95b1d4f36", "Corner Market Ottensen"),
            ],
            3,
            monday(),
        )
        .unwrap();
    shots.tap("Orders");
    shots.shoot("orders");
    shots.tap("Transfers");
    shots.shoot("transfers");
    // A request put together line by line, not made yet.
    shots.tap("Ask store Corner Market Altona");
    for (code, quantity) in [("4006381333931", "12"), ("4008452011236", "6")] {
        shots.type_into("Product to transfer", code);
        shots.type_into("Quantity to transfer", quantity);
        shots.tap("Add line");
    }
    shots.shoot("transfer-request");
    // Another store's request for milk, as the fleet passes it on, opened here to send or
    // refuse.
    let milk = opened
        .store
        .borrow()
        .product_by_code("4006381333931")
        .unwrap()
        .unwrap();
    let asked = pos_core::transfer::Transfer::request(
        pos_core::id::TransferId::new("tr-altona-1"),
        pos_core::id::StoreId::new("berlin-mitte"),
        pos_core::id::StoreId::new("str-4f2a9c01d3e5b677"),
        &[(milk, pos_core::quantity::Quantity::pieces(12))],
        monday(),
        UserId::new("ole"),
    )
    .unwrap();
    opened
        .store
        .borrow_mut()
        .record(
            &UserId::new("ole"),
            monday(),
            &[pos_core::event::DomainEvent::TransferRequested(asked)],
        )
        .unwrap();
    shots.tap("Stock");
    shots.tap("Orders");
    shots.tap("Open transfer tr-altona-1");
    shots.shoot("transfer-incoming");
    shots.tap("Close transfer");
    // Goods from Altona arriving, two of them sent back as they came crushed.
    let butter = opened
        .store
        .borrow()
        .product_by_code("4008452011236")
        .unwrap()
        .unwrap();
    let altona = pos_core::id::StoreId::new("str-4f2a9c01d3e5b677");
    let mut arriving = pos_core::transfer::Transfer::request(
        pos_core::id::TransferId::new("tr-altona-2"),
        altona.clone(),
        pos_core::id::StoreId::new("berlin-mitte"),
        &[(butter.clone(), pos_core::quantity::Quantity::pieces(10))],
        monday(),
        UserId::new("marc"),
    )
    .unwrap();
    arriving
        .send(
            &altona,
            vec![(
                butter.id,
                vec![pos_core::transfer::SentLot {
                    batch: None,
                    quantity: pos_core::quantity::Quantity::pieces(10),
                }],
            )],
            monday(),
        )
        .unwrap();
    opened
        .store
        .borrow_mut()
        .apply_pulled(
            &[pos_sync::wire::Change {
                server_seq: 4,
                hlc: pos_sync::hlc::HlcTime::new(MONDAY_10AM, 0),
                body: pos_sync::wire::ChangeBody::Transfer {
                    event_id: pos_core::id::EventId::new("ev-altona-2"),
                    transfer: arriving,
                },
            }],
            4,
            monday(),
        )
        .unwrap();
    shots.tap("Stock");
    shots.tap("Orders");
    shots.tap("Open transfer tr-altona-2");
    shots.type_into("Sent back", "2");
    shots.type_into("Why sent back", "crushed boxes");
    shots.shoot("transfer-receive");
    shots.tap("Close transfer");
    shots.tap("Purchase orders");

    shots.tap("Reports");
    shots.type_into("From", "2026-03-02");
    shots.type_into("To", "2026-03-02");
    shots.tap("Report");
    shots.shoot("reports");

    shots.tap("Customers");
    shots.shoot("customers");
    shots.tap("Lena Vogel");
    shots.shoot("customer");
    shots.tap("Loyalty settings");
    shots.shoot("loyalty");

    // People and roles are an administrator's: Olga signs in after Marc.
    opened
        .store
        .borrow_mut()
        .save_user(
            &UserId::new("olga"),
            "Olga",
            &RoleId::new("admin"),
            Some(&hash_pin("2580").unwrap()),
        )
        .unwrap();
    // At 800 × 480 the menu has no "Sign out": leaving for the till signs out on both sizes.
    shots.tap("Back to the till");
    shots.tap("Back office");
    shots.tap("Olga");
    shots.type_into("PIN", "2580");
    shots.tap("Sign in");
    shots.tap("People");
    shots.tap("Anna");
    shots.shoot("people");
    shots.tap("Roles");
    shots.tap("Cashier");
    shots.shoot("roles");
    shots.tap("Override log");
    shots.shoot("overrides");
    shots.tap("Settings");
    shots.shoot("settings");
    shots.tap("Tax and rounding");
    shots.shoot("settings-tax");
    shots.failures
}

#[test]
fn every_back_office_screen_looks_as_kept() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .unwrap();
    let mut failures = Vec::new();
    for (width, height) in SIZES {
        let dir = tempfile::tempdir().unwrap();
        failures.extend(walk(dir.path(), width, height));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
