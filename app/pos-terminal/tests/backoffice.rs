//! The back office driven through its screen (taps and typed fields on Slint's testing
//! backend) over the same encrypted store as a real till: a product with six variants is made
//! and one is sold at the till; goods come in with a lot and expiry and show as expiring; a
//! count with a difference is posted; a report is exported and read back; bad input and a
//! missing permission change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::rc::Rc;

use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use pos_backoffice::{BackOfficeScreen, SharedStore};
use pos_core::access::Role;
use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, ProductId, RoleId, StoreId, UserId};
use pos_core::quantity::Quantity;
use pos_core::stock::MovementReason;
use pos_store::Store;
use pos_terminal::backoffice::show_back_office;
use pos_terminal::config::PrinterLine;
use pos_terminal::peripherals::{PeripheralService, PeripheralSettings};
use pos_terminal::ports::StoreStaff;
use pos_terminal::ports::hash_pin;
use pos_terminal::terminal::{OpenTerminal, open_terminal};
use pos_till::gate::PinGate;
use pos_till::view::Screen;
use pos_till::{Intent, ShiftIntent, TenderChoice};
use pos_ui::{AppWindow, Office, Products, Stock};
use slint::{ComponentHandle, Model};

/// Monday 2026-03-02 10:00 UTC, 11:00 in Berlin.
const MONDAY_10AM: i64 = 1_772_445_600_000;
const MILK: &str = "4006381333931";
const BUTTER: &str = "4008452011231";
const GENERATED: u64 = 20;

fn monday() -> Timestamp {
    Timestamp::from_unix_ms(MONDAY_10AM)
}

fn shop_id() -> StoreId {
    StoreId::new("berlin-mitte")
}

struct Desk {
    window: AppWindow,
    _screen: BackOfficeScreen<SharedStore>,
    till: OpenTerminal,
}

/// The demo shop in `dir`, its till, and the back office over the same store.
fn start(dir: &Path) -> Desk {
    start_with(dir, |_| {})
}

/// As [`start`], with `setup` done to the store before the back office opens.
fn start_with(dir: &Path, setup: impl FnOnce(&mut Store)) -> Desk {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .unwrap();
    let peripherals = PeripheralService::start(
        PeripheralSettings {
            queue_dir: dir.join("print-queue"),
            receipts_dir: dir.join("receipts"),
            line: PrinterLine::Simulated { folder: None },
            paper: pos_printer::encode::Paper::MM80_42,
            drawer: pos_printer::drawer::DrawerKick::default(),
            drawer_watch: pos_terminal::config::DrawerWatchSettings::default(),
        },
        |_| {},
    )
    .unwrap();
    let till = open_terminal(
        dir,
        DeviceId::new("T1"),
        GENERATED,
        Rc::new(peripherals),
        monday,
    )
    .unwrap();
    setup(&mut till.store.borrow_mut());
    let window = AppWindow::new().unwrap();
    let screen = show_back_office(
        &window,
        till.store.clone(),
        &DeviceId::new("T1"),
        monday,
        Rc::new(PinGate::new(Rc::new(StoreStaff::new(till.store.clone())))),
    )
    .unwrap();
    window.show().unwrap();
    let desk = Desk {
        window,
        _screen: screen,
        till,
    };
    // A manager enters from the till's login page.
    desk.window
        .global::<pos_ui::SessionAdapter>()
        .set_page(pos_ui::Page::Login);
    desk.tap("Back office");
    desk
}

impl Desk {
    fn tap(&self, label: &str) {
        let found: Vec<ElementHandle> =
            ElementHandle::find_by_accessible_label(&self.window, label)
                .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
                .collect();
        assert!(!found.is_empty(), "no button labelled {label:?} on screen");
        found[0].invoke_accessible_default_action();
    }

    fn type_into(&self, label: &str, text: &str) {
        let field = ElementHandle::find_by_accessible_label(&self.window, label)
            .find(|e| e.accessible_role() == Some(AccessibleRole::TextInput))
            .unwrap_or_else(|| panic!("no field labelled {label:?} on screen"));
        field.set_accessible_value(text);
    }

    fn field(&self, label: &str) -> String {
        ElementHandle::find_by_accessible_label(&self.window, label)
            .find(|e| e.accessible_role() == Some(AccessibleRole::TextInput))
            .and_then(|e| e.accessible_value())
            .map(String::from)
            .unwrap_or_else(|| panic!("no field labelled {label:?} on screen"))
    }

    fn message(&self) -> String {
        self.window.global::<Office>().get_message().into()
    }

    fn sign_in(&self, person: &str, pin: &str) {
        self.tap(person);
        self.type_into("PIN", pin);
        self.tap("Sign in");
    }

    fn store(&self) -> std::cell::Ref<'_, Store> {
        self.till.store.borrow()
    }

    /// The newest journal entry's number: every recorded change moves it.
    fn journal_head(&self) -> u64 {
        self.store().journal_tail(1).unwrap()[0].seq
    }

    fn level(&self, product: &str) -> Quantity {
        self.store()
            .stock_level(&shop_id(), &ProductId::new(product))
            .unwrap()
    }

    fn sell(&mut self, codes: &[&str], cash: &str) {
        let now = monday();
        let till = &mut self.till.till;
        if till.view().screen == Screen::Login {
            till.handle(
                Intent::Login {
                    user: UserId::new("anna"),
                    pin: "1234".to_owned(),
                },
                now,
            )
            .unwrap();
        }
        if till.view().screen == Screen::ShiftOpen {
            till.handle(
                Intent::Shift(ShiftIntent::Open {
                    total: "150.00".to_owned(),
                }),
                now,
            )
            .unwrap();
        }
        for code in codes {
            till.handle(Intent::Scan((*code).to_owned()), now).unwrap();
        }
        till.handle(Intent::StartPayment, now).unwrap();
        till.handle(
            Intent::AddTender {
                kind: TenderChoice::Cash,
                amount: cash.to_owned(),
                reference: String::new(),
            },
            now,
        )
        .unwrap();
        assert!(
            till.view().payment.unwrap().receipt_number.is_some(),
            "the sale completed"
        );
        till.handle(Intent::NextCustomer, now).unwrap();
        till.take_effects();
    }
}

#[test]
fn a_product_with_six_variants_is_made_and_one_sells_at_the_till() {
    let dir = tempfile::tempdir().unwrap();
    let mut office = start(dir.path());
    office.sign_in("Marc", "9999");
    assert_eq!(office.message(), "");
    office.tap("Products");
    office.tap("New product");
    office.type_into("SKU", "TEE-ORG");
    office.type_into("Name", "Organic tee");
    office.type_into("Cost", "6.50");
    office.type_into("Sell price", "19.90");
    office.type_into("Category", "clothing");
    office.type_into("Low-stock threshold", "2");
    office.tap("New barcode");
    assert_eq!(office.field("Barcodes"), "2800000000011");
    office.tap("Save");
    assert_eq!(office.message(), "Organic tee is saved");

    office.type_into("Sizes", "S, M, L");
    office.type_into("Colours", "navy, sand");
    office.tap("Make variants");
    assert_eq!(office.message(), "Organic tee has 6 variants");
    let variants = office.window.global::<Products>().get_variants();
    let skus: Vec<String> = variants.iter().map(|r| r.sku.to_string()).collect();
    assert_eq!(
        skus,
        [
            "TEE-ORG-L-NAVY",
            "TEE-ORG-L-SAND",
            "TEE-ORG-M-NAVY",
            "TEE-ORG-M-SAND",
            "TEE-ORG-S-NAVY",
            "TEE-ORG-S-SAND"
        ]
    );

    // Medium navy sells for less: a price of its own.
    office.tap("TEE-ORG-M-NAVY");
    assert_eq!(office.field("Sell price"), "19.90");
    office.type_into("Sell price", "17.90");
    office.tap("Save");
    assert_eq!(office.message(), "Organic tee / M / navy is saved");

    let variant = office
        .store()
        .product_by_code("TEE-ORG-M-NAVY")
        .unwrap()
        .expect("the variant is in the catalogue");
    assert_eq!(
        variant.barcodes.len(),
        1,
        "each variant has its own barcode"
    );
    let barcode = variant.barcodes[0].to_string();
    assert!(barcode.starts_with("28"), "{barcode}");
    let price_changes = office
        .store()
        .journal_events_since("price_changed", Timestamp::from_unix_ms(0))
        .unwrap();
    assert_eq!(
        price_changes.len(),
        1,
        "the price override is journalled for sync"
    );

    office.sell(&[&barcode], "20.00");
    let store = office.store();
    let sales = store
        .sale_records_between(monday(), monday().plus_ms(1))
        .unwrap();
    assert_eq!(sales.len(), 1);
    assert_eq!(
        sales[0].lines[0].product.display_name(),
        "Organic tee / M / navy"
    );
    assert_eq!(sales[0].total.display_amount(), "17.90");
    drop(store);
    assert_eq!(office.level(variant.id.as_str()), Quantity::pieces(-1));
    assert!(office.store().verify_journal().unwrap().is_intact());
}

#[test]
fn goods_received_with_a_lot_and_expiry_show_as_expiring_and_can_be_written_off() {
    let dir = tempfile::tempdir().unwrap();
    let office = start(dir.path());
    office.sign_in("Marc", "9999");
    let before = office.level("milk");
    office.tap("Stock");
    office.tap("Receive");
    office.type_into("Barcode or SKU", MILK);
    office.type_into("Quantity", "24");
    office.type_into("Lot", "L-0305");
    office.type_into("Best before", "05.03.2026");
    office.type_into("Order or delivery note", "PO-1001");
    office.tap("Book goods in");
    assert_eq!(office.message(), "24 received into stock");
    assert_eq!(office.level("milk"), before + Quantity::pieces(24));

    office.tap("Levels");
    office.type_into("Barcode or SKU", MILK);
    office.tap("Show");
    let batches = office.window.global::<Stock>().get_batches();
    let lots: Vec<(String, String, String)> = batches
        .iter()
        .map(|b| (b.lot.to_string(), b.expiry.to_string(), b.level.to_string()))
        .collect();
    assert_eq!(
        lots[0],
        (
            "L-0305".to_owned(),
            "2026-03-05".to_owned(),
            "24".to_owned()
        )
    );

    office.tap("Expiring");
    office.type_into("Within days", "7");
    office.tap("Show");
    let expiring = office.window.global::<Stock>().get_expiring();
    let row = expiring
        .iter()
        .find(|r| r.lot == "L-0305")
        .expect("the new lot is in the expiring list");
    assert_eq!(row.level, "24");
    assert!(!row.expired);

    office.tap("Write off L-0305");
    assert_eq!(
        office.message(),
        "24 of Whole milk 1 L (lot L-0305) written off"
    );
    assert_eq!(office.level("milk"), before);
    assert!(
        !office
            .window
            .global::<Stock>()
            .get_expiring()
            .iter()
            .any(|r| r.lot == "L-0305")
    );
    let moved = office.store().journal_tail(1).unwrap();
    assert_eq!(moved[0].kind, "stock_moved");
    match moved[0].event().unwrap() {
        pos_core::event::DomainEvent::StockMoved(movement) => {
            assert_eq!(movement.reason, MovementReason::ExpiryWriteOff);
            assert_eq!(movement.quantity, Quantity::pieces(-24));
        }
        other => panic!("expected a stock movement, got {other:?}"),
    }
}

#[test]
fn a_count_shows_its_difference_before_it_is_posted() {
    let dir = tempfile::tempdir().unwrap();
    let office = start(dir.path());
    office.sign_in("Marc", "9999");
    let milk = office.level("milk");
    let butter = office.level("butter");
    office.tap("Stock");
    office.tap("Count");
    office.type_into("Barcode or SKU", MILK);
    office.type_into("Counted", "37");
    office.tap("Add to count");
    office.type_into("Barcode or SKU", BUTTER);
    office.type_into("Counted", &butter.value().to_string());
    office.tap("Add to count");
    let counted = office.window.global::<Stock>().get_counted();
    let rows: Vec<(String, String, String, String)> = counted
        .iter()
        .map(|r| {
            (
                r.name.to_string(),
                r.expected.to_string(),
                r.counted.to_string(),
                r.difference.to_string(),
            )
        })
        .collect();
    assert_eq!(rows[0].1, milk.value().to_string());
    assert_eq!(rows[0].2, "37");
    assert_eq!(rows[0].3, (Quantity::pieces(37) - milk).value().to_string());
    assert_eq!(rows[1].3, "0");
    // Nothing is booked before the count is posted.
    assert_eq!(office.level("milk"), milk);

    office.tap("Post count");
    assert_eq!(office.message(), "count posted: 1 correction(s) booked");
    assert_eq!(office.level("milk"), Quantity::pieces(37));
    assert_eq!(office.level("butter"), butter);
    let entry = office.store().journal_tail(1).unwrap().remove(0);
    match entry.event().unwrap() {
        pos_core::event::DomainEvent::StockMoved(movement) => {
            assert_eq!(movement.reason, MovementReason::CountCorrection);
            assert_eq!(movement.by, UserId::new("marc"));
        }
        other => panic!("expected a stock movement, got {other:?}"),
    }
}

#[test]
fn a_report_exported_to_a_stick_reads_back_with_the_figures_sold() {
    let dir = tempfile::tempdir().unwrap();
    let stick = tempfile::tempdir().unwrap();
    let mut office = start(dir.path());
    office.sell(&[MILK, MILK, BUTTER], "10.00");
    office.sell(&[BUTTER], "5.00");
    let sold: Vec<_> = office
        .store()
        .sale_records_between(monday(), monday().plus_ms(1))
        .unwrap();
    let total = sold
        .iter()
        .map(|s| s.total.amount())
        .sum::<rust_decimal::Decimal>()
        .to_string();

    office.sign_in("Marc", "9999");
    office.tap("Reports");
    office.type_into("From", "2026-03-02");
    office.type_into("To", "2026-03-02");
    office.tap("Show");
    let reports = office.window.global::<pos_ui::Reports>();
    let totals: Vec<String> = reports.get_totals().iter().map(String::from).collect();
    assert_eq!(totals.last().unwrap(), &total, "the table on screen");

    office.type_into("Export to folder", stick.path().to_str().unwrap());
    for format in ["CSV", "Excel", "PDF"] {
        office.tap(format);
        assert!(
            office.message().starts_with("saved as "),
            "{}",
            office.message()
        );
    }
    let stem = stick.path().join("sales-by-day-2026-03-02-2026-03-02");

    let mut csv = csv::Reader::from_path(stem.with_extension("csv")).unwrap();
    let headers = csv.headers().unwrap().clone();
    let column = headers.iter().position(|h| h.starts_with("Total")).unwrap();
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(&rows[0][column], total.as_str());
    assert_eq!(&rows[0][1], "2", "two sales");

    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(stem.with_extension("xlsx")).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let cells: Vec<String> = range.rows().flatten().map(ToString::to_string).collect();
    assert!(cells.iter().any(|c| c == &total), "{cells:?}");

    let pdf = std::process::Command::new("pdftotext")
        .args(["-layout", stem.with_extension("pdf").to_str().unwrap(), "-"])
        .output()
        .unwrap();
    let text = String::from_utf8(pdf.stdout).unwrap();
    assert!(text.contains("Sales by day"), "{text}");
    assert!(text.contains(&total), "{text}");

    // A stick that is not there is said so, and nothing is written anywhere.
    office.type_into("Export to folder", "/media/no-stick");
    office.tap("CSV");
    assert!(
        office.message().contains("is the USB stick plugged in?"),
        "{}",
        office.message()
    );
}

#[test]
fn bad_imports_duplicate_barcodes_negative_prices_and_missing_permissions_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A stock clerk may count and receive, but not touch the catalogue.
    let office = start_with(dir.path(), |store| {
        store
            .save_role(&Role::new("clerk", "Stock clerk", &["inventory.*"]))
            .unwrap();
        store
            .save_user(
                &UserId::new("kim"),
                "Kim",
                &RoleId::new("clerk"),
                Some(&hash_pin("4321").unwrap()),
            )
            .unwrap();
    });
    let journal = office.journal_head();

    // A cashier has no business in the back office.
    office.sign_in("Anna", "1234");
    assert_eq!(
        office.message(),
        "Anna (Cashier) may not do this: it needs the permission “products.view, inventory.view or reports.view”. Ask the owner to add it to the role."
    );
    assert_eq!(
        office.window.global::<Office>().get_section(),
        pos_ui::Section::SignIn
    );
    office.sign_in("Marc", "0000");
    assert_eq!(
        office.message(),
        "wrong PIN for Marc; 4 more tries before Marc must wait 5 minutes"
    );
    // Guessing stops after five wrong PINs: then even the right one waits.
    for _ in 0..5 {
        office.sign_in("Sara", "0000");
    }
    office.sign_in("Sara", "5555");
    assert_eq!(
        office.message(),
        "too many wrong PINs for Sara; try again in 5 min"
    );
    assert_eq!(
        office.window.global::<Office>().get_section(),
        pos_ui::Section::SignIn
    );

    // Kim gets in for stock, but cannot make a product.
    office.sign_in("Kim", "4321");
    office.tap("Products");
    assert_eq!(
        office.message(),
        "Kim (Stock clerk) may not do this: it needs the permission “products.view”. Ask the owner to add it to the role."
    );
    office.tap("New product");
    assert!(
        office.message().contains("“products.edit”"),
        "{}",
        office.message()
    );
    assert_eq!(office.journal_head(), journal);
    office.tap("Sign out");

    // Marc types a negative price, then a barcode milk already has.
    office.sign_in("Marc", "9999");
    office.tap("Products");
    office.tap("New product");
    office.type_into("SKU", "JAM-1");
    office.type_into("Name", "Strawberry jam");
    office.type_into("Cost", "1.20");
    office.type_into("Sell price", "-2.49");
    office.tap("Save");
    assert_eq!(
        office.message(),
        "the price of JAM-1 cannot be negative (-2.49 EUR)"
    );
    office.type_into("Sell price", "2.49");
    office.type_into("Barcodes", MILK);
    office.tap("Save");
    assert_eq!(
        office.message(),
        "barcode 4006381333931 already belongs to Whole milk 1 L (SKU-milk)"
    );
    assert_eq!(office.journal_head(), journal);
    assert!(office.store().product_by_code("JAM-1").unwrap().is_none());

    // An import with bad rows is previewed row by row and cannot be applied.
    let columns = pos_store::csv_io::COLUMNS.join(",");
    let file = dir.path().join("products.csv");
    std::fs::write(
        &file,
        format!(
            "{columns}\n\
             jam,JAM-1,Strawberry jam,,,piece,2.49,1.20,food,,,true,,4000000000017,12\n\
             honey,HON-1,Honey,,,piece,-4.00,2.00,food,,,true,,,\n\
             oat,OAT-1,Oat drink,,,piece,1.99,0.90,food,,,true,,{MILK},\n"
        ),
    )
    .unwrap();
    office.tap("Close");
    office.tap("Import");
    office.type_into("File (.csv or .xlsx)", file.to_str().unwrap());
    office.tap("Preview");
    let rows = office.window.global::<Products>().get_import_rows();
    let problems: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.line.to_string(), r.problem.to_string()))
        .collect();
    assert_eq!(
        problems,
        [
            ("2".to_owned(), String::new()),
            (
                "3".to_owned(),
                "the price of HON-1 cannot be negative (-4.00 EUR)".to_owned()
            ),
            (
                "4".to_owned(),
                "barcode 4006381333931 already belongs to Whole milk 1 L (SKU-milk)".to_owned()
            ),
        ]
    );
    assert!(!office.window.global::<Products>().get_import_ready());
    office.tap("Apply");
    assert_eq!(office.journal_head(), journal, "nothing was imported");
    assert!(office.store().product_by_code("JAM-1").unwrap().is_none());

    // The same products, right this time and as a spreadsheet, go in whole.
    let xlsx = dir.path().join("products.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (column, name) in pos_store::csv_io::COLUMNS.iter().enumerate() {
        sheet.write_string(0, column as u16, *name).unwrap();
    }
    let rows: [[&str; 15]; 2] = [
        [
            "jam",
            "JAM-1",
            "Strawberry jam",
            "",
            "",
            "piece",
            "",
            "",
            "food",
            "",
            "",
            "true",
            "",
            "4000000000017",
            "",
        ],
        [
            "honey", "HON-1", "Honey", "", "", "piece", "", "", "food", "", "", "true", "", "", "",
        ],
    ];
    for (row, cells) in rows.iter().enumerate() {
        let row = row as u32 + 1;
        for (column, cell) in cells.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(row, column as u16, *cell).unwrap();
            }
        }
        // Prices and the count typed as numbers, as a spreadsheet keeps them.
        sheet
            .write_number(row, 6, if row == 1 { 2.49 } else { 4.0 })
            .unwrap();
        sheet.write_number(row, 7, 1.2).unwrap();
        sheet.write_number(row, 14, 12.0).unwrap();
    }
    book.save(&xlsx).unwrap();
    office.type_into("File (.csv or .xlsx)", xlsx.to_str().unwrap());
    office.tap("Preview");
    assert!(
        office.window.global::<Products>().get_import_ready(),
        "{}",
        office.message()
    );
    office.tap("Apply");
    assert_eq!(office.message(), "2 product(s) imported");
    let jam = office
        .store()
        .product_by_code("4000000000017")
        .unwrap()
        .unwrap();
    assert_eq!(jam.price.display_amount(), "2.49");
    assert_eq!(office.level("jam"), Quantity::pieces(12));
    assert_eq!(office.level("honey"), Quantity::pieces(12));
    // Two products saved and two counts, each journalled.
    assert_eq!(office.journal_head(), journal + 4);
}
