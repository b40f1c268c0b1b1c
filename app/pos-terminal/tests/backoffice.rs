//! The back office driven through its screen (taps and typed fields on Slint's testing
//! backend) over the same encrypted store as a real till: a product with six variants is made
//! and one is sold at the till; goods come in with a lot and expiry and show as expiring; a
//! count with a difference is posted; a report is exported and read back; bad input and a
//! missing permission change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use pos_core::access::Role;
use pos_core::clock::Timestamp;
use pos_core::id::{RoleId, UserId};
use pos_core::quantity::Quantity;
use pos_core::stock::MovementReason;
use pos_store::Store;
use pos_terminal::ports::hash_pin;
use pos_till::view::Screen;
use pos_till::{Intent, ShiftIntent, TenderChoice};
use pos_ui::{Customers, Office, People, Products, Section, Stock};
use slint::{ComponentHandle, Model};
use support::{BUTTER, Desk, MILK, OnScreen, monday, tap};

impl Desk {
    fn sell(&mut self, codes: &[&str], cash: &str) {
        self.sell_for(None, codes, cash);
    }

    /// Anna at the till with her shift open.
    fn open_till(&mut self) {
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
    }

    /// A sale at the till by Anna, to the loyalty customer whose `card` is scanned first.
    fn sell_for(&mut self, card: Option<&str>, codes: &[&str], cash: &str) {
        let now = monday();
        self.open_till();
        let till = &mut self.till.till;
        if let Some(card) = card {
            till.handle(
                Intent::AttachCustomer {
                    card: card.to_owned(),
                },
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
    let mut office = Desk::open(dir.path(), |_| {});
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
    let office = Desk::open(dir.path(), |_| {});
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
    let office = Desk::open(dir.path(), |_| {});
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
    let mut office = Desk::open(dir.path(), |_| {});
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
    let office = Desk::open(dir.path(), |store| {
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
        "Anna (Cashier) may not do this: it needs the permission “products.view, inventory.view, reports.view, customers.view, users.view or settings.view”. Ask the owner to add it to the role."
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

// ---- Customers, loyalty and people ----------------------------------------------------------

/// The demo shop with an administrator, Olga (PIN 2580), who may change people and roles.
fn with_admin(store: &mut Store) {
    store
        .save_user(
            &UserId::new("olga"),
            "Olga",
            &RoleId::new("admin"),
            Some(&hash_pin("2580").unwrap()),
        )
        .unwrap();
}

impl Desk {
    /// Ticks or unticks a permission on the role's tree.
    fn tick(&self, pattern: &str) {
        ElementHandle::find_by_accessible_label(&self.window, pattern)
            .find(|e| e.accessible_role() == Some(AccessibleRole::Checkbox))
            .unwrap_or_else(|| panic!("no permission {pattern:?} on the tree"))
            .invoke_accessible_default_action();
    }

    fn ticked(&self, pattern: &str) -> bool {
        let tree = self.window.global::<People>().get_tree();
        tree.iter()
            .find(|row| row.pattern == pattern)
            .unwrap_or_else(|| panic!("no permission {pattern:?} on the tree"))
            .holding
            > 0
    }

    fn customers(&self) -> Customers<'_> {
        self.window.global::<Customers>()
    }

    fn section(&self) -> Section {
        self.window.global::<Office>().get_section()
    }
}

#[test]
fn a_customer_made_in_the_back_office_earns_points_at_the_till_and_shows_their_tier() {
    let dir = tempfile::tempdir().unwrap();
    let mut office = Desk::open(dir.path(), |_| {});
    office.sign_in("Marc", "9999");
    office.tap("Customers");
    let listed: Vec<String> = office
        .customers()
        .get_rows()
        .iter()
        .map(|r| r.name.to_string())
        .collect();
    assert_eq!(listed, ["Jonas Weber", "Lena Vogel", "Mira Schulz"]);

    let journal = office.journal_head();
    office.tap("New customer");
    office.type_into("Name", "Eva Roth");
    office.type_into("Loyalty card", "9900000000048");
    office.type_into("Phone", "0160 5550404");
    office.type_into("Email", "eva.roth@example.de");
    office.tap("Save");
    assert_eq!(office.message(), "Eva Roth is saved");
    assert_eq!(office.kinds_since(journal), ["customer_saved"]);
    assert_eq!(office.customers().get_points(), "0");
    assert_eq!(office.customers().get_tier(), "Member");

    // Eva shops at the till with her new card: 2 × milk and butter.
    office.sell_for(Some("9900000000048"), &[MILK, MILK, BUTTER], "10.00");
    let sale = office
        .store()
        .sale_records_between(monday(), monday().plus_ms(1))
        .unwrap()
        .remove(0);
    let earned = sale.loyalty.as_ref().unwrap().points_earned;
    assert!(earned > 0, "Member earns a point per euro");

    office.tap("Customers");
    office.type_into("Search name, card or phone", "0404");
    office.tap("Search");
    office.tap("Eva Roth");
    let card = office.customers();
    assert_eq!(card.get_points(), earned.to_string());
    assert_eq!(card.get_tier(), "Member");
    assert_eq!(card.get_next_tier(), "Bronze");
    let to_bronze = rust_decimal::Decimal::from(100) - sale.total.amount();
    assert_eq!(card.get_to_next(), to_bronze.to_string());
    let purchases = card.get_purchases();
    assert_eq!(purchases.row_count(), 1);
    let purchase = purchases.row_data(0).unwrap();
    assert_eq!(purchase.receipt, sale.receipt_number.as_str());
    assert_eq!(purchase.total, sale.total.display_amount());
    assert_eq!(purchase.date, "2026-03-02 10:00");
    let ledger = card.get_ledger();
    let line = ledger.row_data(0).unwrap();
    assert_eq!(
        (line.reason.to_string(), line.points.to_string()),
        (
            format!("earned on {}", sale.receipt_number),
            format!("+{earned}")
        )
    );
    assert!(office.store().verify_journal().unwrap().is_intact());
}

#[test]
fn loyalty_settings_are_checked_and_saved_for_the_next_sale() {
    let dir = tempfile::tempdir().unwrap();
    let office = Desk::open(dir.path(), with_admin);
    let journal = office.journal_head();

    // A manager sees the program but may not change it.
    office.sign_in("Marc", "9999");
    office.tap("Customers");
    office.tap("Loyalty settings");
    assert_eq!(office.field("Bronze: spend to reach"), "100.00");
    assert_eq!(office.field("Silver: points per EUR"), "1.5");
    office.tap("Save loyalty settings");
    assert_eq!(
        office.message(),
        "Marc (Manager) may not do this: it needs the permission “settings.loyalty”. Ask the owner to add it to the role."
    );
    office.tap("Sign out");

    office.sign_in("Olga", "2580");
    office.tap("Customers");
    office.tap("Loyalty settings");
    // Silver below Bronze, a point worth nothing: refused, and nothing changes.
    office.type_into("Silver: spend to reach", "80");
    office.tap("Save loyalty settings");
    assert_eq!(
        office.message(),
        "the spend for Silver must be more than the spend for Bronze"
    );
    office.type_into("Silver: spend to reach", "500.00");
    office.type_into("A point is worth (EUR)", "0");
    office.tap("Save loyalty settings");
    assert_eq!(office.message(), "a point must be worth more than nothing");
    office.type_into("A point is worth (EUR)", "abc");
    office.tap("Save loyalty settings");
    assert_eq!(
        office.message(),
        "what a point is worth: “abc” is not a number (for example 1.5)"
    );
    assert_eq!(office.journal_head(), journal);

    office.type_into("A point is worth (EUR)", "0.02");
    office.type_into("Bronze: spend to reach", "50");
    office.type_into("Gold: points per EUR", "3");
    office.tap("Save loyalty settings");
    assert_eq!(
        office.message(),
        "the loyalty settings are saved; the till uses them from the next sale"
    );
    assert_eq!(office.kinds_since(journal), ["loyalty_program_saved"]);
    let program = office.store().loyalty_program().unwrap().unwrap();
    assert_eq!(program.tiers[1].spend_min.display_amount(), "50.00");
    assert_eq!(
        program.tiers[3].points_per_unit,
        rust_decimal::Decimal::from(3)
    );
    assert_eq!(program.point_value.display_amount(), "0.02");
    // Lena's points are worth twice as much now.
    office.tap("All customers");
    office.tap("Lena Vogel");
    assert_eq!(office.customers().get_points_value(), "25.00");
}

#[test]
fn a_role_changed_in_the_back_office_changes_what_a_cashier_may_do() {
    let dir = tempfile::tempdir().unwrap();
    let mut office = Desk::open(dir.path(), with_admin);
    let now = monday();
    let discount = |percent: &str| Intent::CartDiscount {
        kind: pos_till::CartDiscountKind::Percent,
        value: percent.to_owned(),
    };
    // Before: Anna gives 5% off on her own.
    office.open_till();
    let till = &mut office.till.till;
    till.handle(Intent::Scan(MILK.to_owned()), now).unwrap();
    till.handle(discount("5"), now).unwrap();
    till.handle(Intent::Lock, now).unwrap();

    office.sign_in("Olga", "2580");
    // Tall enough for a role's whole permission tree.
    office.tall(2400);
    office.tap("People");
    office.tap("Roles");
    office.tap("Cashier");
    assert!(office.ticked("sales.discount.manual"));
    assert!(!office.ticked("customers.view"));
    office.tick("sales.discount.manual");
    office.tick("customers.view");
    let journal = office.journal_head();
    office.tap("Save role");
    assert_eq!(
        office.message(),
        "Cashier is saved; people with it have the new permissions from their next sign-in"
    );
    assert_eq!(office.kinds_since(journal), ["role_saved"]);
    assert!(!office.ticked("sales.discount.manual"));

    // After: the till asks a manager for the same discount.
    let till = &mut office.till.till;
    till.handle(
        Intent::Login {
            user: UserId::new("anna"),
            pin: "1234".to_owned(),
        },
        now,
    )
    .unwrap();
    let refused = till.handle(discount("5"), now).unwrap_err();
    assert_eq!(refused.kind(), pos_till::TillErrorKind::Approval);
    till.handle(
        Intent::Approve {
            manager: UserId::new("marc"),
            pin: "9999".to_owned(),
        },
        now,
    )
    .unwrap();

    // And Anna may now look up customers in the back office, but nothing else there.
    office.tap("Sign out");
    office.sign_in("Anna", "1234");
    assert_eq!(office.section(), Section::Customers);
    assert_eq!(office.customers().get_rows().row_count(), 3);
    office.tap("Products");
    assert!(
        office.message().contains("“products.view”"),
        "{}",
        office.message()
    );
    office.tap("Customers");
    office.tap("New customer");
    assert!(
        office.message().contains("“customers.edit”"),
        "{}",
        office.message()
    );
}

#[test]
fn a_new_pin_signs_in_and_the_old_one_no_longer_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut office = Desk::open(dir.path(), with_admin);
    office.sign_in("Olga", "2580");
    office.tap("People");
    office.tap("Staff");
    office.tap("Marc");
    office.type_into("New PIN", "8642");
    office.type_into("PIN again", "8642");
    let journal = office.journal_head();
    office.tap("Set new PIN");
    assert_eq!(
        office.message(),
        "Marc signs in with the new PIN from now on"
    );
    assert_eq!(office.kinds_since(journal), ["pin_reset"]);
    let people = office.window.global::<pos_ui::People>();
    assert_eq!(
        (people.get_pin().as_str(), people.get_pin_again().as_str()),
        ("", ""),
        "a PIN does not stay on screen"
    );
    let entry = office.store().journal_tail(1).unwrap().remove(0);
    match entry.event().unwrap() {
        pos_core::event::DomainEvent::PinReset { user, pin_hash } => {
            assert_eq!(user, UserId::new("marc"));
            assert!(pin_hash.starts_with("$argon2id$"), "only a hash is kept");
        }
        other => panic!("expected a PIN reset, got {other:?}"),
    }

    // A new cashier, Kim, starts with a PIN of their own.
    office.tap("New person");
    office.type_into("Name", "Kim");
    office.tap("Cashier");
    office.type_into("PIN", "13579");
    office.type_into("PIN again", "13579");
    office.tap("Add person");
    assert_eq!(
        office.message(),
        "Kim is added and can sign in with their PIN"
    );
    office.tap("Sign out");

    office.sign_in("Marc", "9999");
    assert_eq!(
        office.message(),
        "wrong PIN for Marc; 4 more tries before Marc must wait 5 minutes"
    );
    office.sign_in("Marc", "8642");
    assert_eq!(office.section(), Section::Dashboard);

    // Kim signs in at the till with the PIN Olga gave them.
    let kim = office
        .store()
        .users()
        .unwrap()
        .into_iter()
        .find(|a| a.name == "Kim")
        .expect("Kim is on the staff list");
    assert_eq!(kim.role.id, RoleId::new("cashier"));
    let till = &mut office.till.till;
    till.handle(
        Intent::Login {
            user: kim.user,
            pin: "13579".to_owned(),
        },
        monday(),
    )
    .unwrap();
    assert_ne!(till.view().screen, Screen::Login);
}

#[test]
fn bad_people_and_customer_input_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Hana runs the office: she may add and change people, but not what roles may do.
    let office = Desk::open(dir.path(), |store| {
        with_admin(store);
        store
            .save_role(&Role::new(
                "office",
                "Office",
                &["users.view", "users.edit", "customers.*"],
            ))
            .unwrap();
        store
            .save_user(
                &UserId::new("hana"),
                "Hana",
                &RoleId::new("office"),
                Some(&hash_pin("3690").unwrap()),
            )
            .unwrap();
    });
    let journal = office.journal_head();

    // A manager may not see the staff list.
    office.sign_in("Marc", "9999");
    office.tap("People");
    assert_eq!(
        office.message(),
        "Marc (Manager) may not do this: it needs the permission “users.view”. Ask the owner to add it to the role."
    );
    office.tap("Sign out");

    office.sign_in("Olga", "2580");
    office.tap("Customers");
    office.tap("New customer");
    office.type_into("Name", "  ");
    office.tap("Save");
    assert_eq!(office.message(), "the name cannot be empty");
    office.type_into("Name", "Eva Roth");
    office.type_into("Loyalty card", "9900000000017");
    office.tap("Save");
    assert_eq!(
        office.message(),
        "card 9900000000017 already belongs to Lena Vogel; scan a new card"
    );

    office.tap("People");
    office.tap("Staff");
    // Olga cannot lock herself out: not by her own role, not by retiring, not by her role's
    // permissions.
    office.tap("Olga");
    office.tap("Manager");
    office.tap("Save");
    assert_eq!(
        office.message(),
        "this would take “users.edit” away from you, and you could not undo it; ask another administrator to change your own role"
    );
    office.tap("Retire");
    assert_eq!(
        office.message(),
        "you cannot retire yourself; ask another administrator"
    );
    office.tap("Tom");
    office.type_into("New PIN", "12");
    office.type_into("PIN again", "12");
    office.tap("Set new PIN");
    assert_eq!(office.message(), "a PIN has 4 to 8 digits; choose another");
    office.type_into("New PIN", "1357");
    office.type_into("PIN again", "1375");
    office.tap("Set new PIN");
    assert_eq!(
        office.message(),
        "the two PINs are not the same; type the new PIN twice"
    );
    office.tap("New person");
    office.tap("Cashier");
    office.type_into("PIN", "1357");
    office.type_into("PIN again", "1357");
    office.tap("Add person");
    assert_eq!(office.message(), "the name cannot be empty");

    // Tall enough for a role's whole permission tree.
    office.tall(2400);
    office.tap("Roles");
    office.tap("Administrator");
    office.tick("users.roles");
    office.tap("Save role");
    assert_eq!(
        office.message(),
        "this would take “users.roles” away from you, and you could not undo it; ask another administrator to change your own role"
    );
    office.tap("Undo");
    assert!(office.ticked("users.roles"));
    office.tap("Sign out");

    // Hana may change people, but not leave the shop without an administrator.
    office.sign_in("Hana", "3690");
    assert_eq!(office.section(), Section::Customers);
    office.tap("People");
    office.tap("Olga");
    office.tap("Retire");
    assert_eq!(
        office.message(),
        "nobody would be left who can manage people and roles (users.edit, users.roles); give someone else the Administrator role first"
    );
    office.tap("Roles");
    office.tap("Cashier");
    office.tick("sales.void");
    office.tap("Save role");
    assert!(
        office.message().contains("“users.roles”"),
        "{}",
        office.message()
    );
    assert_eq!(office.journal_head(), journal, "nothing was changed");
}

#[test]
fn manager_overrides_at_the_till_show_in_the_override_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut office = Desk::open(dir.path(), with_admin);
    let now = monday();
    office.open_till();
    let till = &mut office.till.till;
    till.handle(Intent::Scan(MILK.to_owned()), now).unwrap();
    let above_limit = Intent::CartDiscount {
        kind: pos_till::CartDiscountKind::Percent,
        value: "20".to_owned(),
    };
    assert!(till.handle(above_limit, now).is_err());
    till.handle(
        Intent::Approve {
            manager: UserId::new("marc"),
            pin: "9999".to_owned(),
        },
        now,
    )
    .unwrap();
    till.handle(Intent::StartPayment, now).unwrap();
    till.handle(
        Intent::AddTender {
            kind: TenderChoice::Cash,
            amount: "5.00".to_owned(),
            reference: String::new(),
        },
        now,
    )
    .unwrap();

    office.sign_in("Olga", "2580");
    office.tap("People");
    office.tap("Override log");
    let log = office.window.global::<People>().get_overrides();
    assert_eq!(log.row_count(), 1);
    let row = log.row_data(0).unwrap();
    assert_eq!(
        (
            row.date.as_str(),
            row.permission.as_str(),
            row.requested.as_str(),
            row.approved.as_str()
        ),
        (
            "2026-03-02 10:00",
            "sales.discount.above_limit",
            "Anna",
            "Marc"
        )
    );
}

#[test]
fn a_manager_makes_a_product_of_an_unknown_barcode_from_the_till() {
    let dir = tempfile::tempdir().unwrap();
    let desk = Desk::open(dir.path(), |_| {});
    desk.tap("Back to the till");
    assert!(!desk.window.global::<Office>().get_open());
    let Desk {
        window,
        screen: _back_office,
        till: opened,
    } = desk;
    let mut till = opened.till;
    for intent in [
        Intent::Login {
            user: UserId::new("marc"),
            pin: "9999".to_owned(),
        },
        Intent::Shift(ShiftIntent::Open {
            total: "150.00".to_owned(),
        }),
    ] {
        till.handle(intent, monday()).unwrap();
    }
    let _till_screen = pos_ui::TillScreen::new(&window, till, monday);

    let unknown = "4020000000059";
    window
        .global::<pos_ui::CartAdapter>()
        .invoke_scan(unknown.into());
    assert_eq!(
        window
            .global::<pos_ui::CheckoutAdapter>()
            .get_new_product_code(),
        unknown
    );
    tap(&window, "Add as new product");
    let office = window.global::<Office>();
    assert!(office.get_open());
    assert_eq!(
        office.get_message(),
        format!("Sign in to add {unknown} as a new product")
    );
    tap(&window, "Marc");
    ElementHandle::find_by_accessible_label(&window, "PIN")
        .find(|e| e.accessible_role() == Some(AccessibleRole::TextInput))
        .unwrap()
        .set_accessible_value("9999");
    tap(&window, "Sign in");
    assert_eq!(office.get_section(), pos_ui::Section::ProductEdit);
    assert_eq!(window.global::<Products>().get_barcodes(), unknown);
}

#[test]
fn the_dashboard_on_screen_shows_a_sale_rung_up_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let mut office = Desk::open(dir.path(), |_| {});
    office.sign_in("Marc", "9999");
    assert_eq!(
        office.window.global::<Office>().get_section(),
        pos_ui::Section::Dashboard
    );
    let dash = |office: &Desk| {
        office
            .window
            .global::<pos_ui::Dash>()
            .get_count()
            .to_string()
    };
    let before = dash(&office);
    office.sell(&[MILK], "5.00");
    assert_eq!(dash(&office), before, "not before the next refresh");
    i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_secs(10));
    let after: u32 = dash(&office).parse().unwrap();
    assert_eq!(after, before.parse::<u32>().unwrap() + 1);
}
