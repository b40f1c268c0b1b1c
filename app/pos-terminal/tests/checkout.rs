//! The till over a real SQLCipher store in a temporary data directory, with the simulated
//! printer on its worker thread: what a cashier does is in the store after a restart, stock
//! moves, the journal verifies, and the receipt is filed where the desktop demo files it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pos_core::id::{DeviceId, ProductId, ReceiptNumber, StoreId, UserId};
use pos_core::quantity::Quantity;
use pos_store::Store;
use pos_store::sample::ean13_check_digit;
use pos_terminal::config::TerminalConfig;
use pos_terminal::peripherals::{PeripheralService, PeripheralSettings, PrinterReport};
use pos_terminal::seed::{Seeded, seed_demo_shop};
use pos_terminal::terminal::{DataDir, OpenTerminal, open_terminal};
use pos_till::view::Screen;
use pos_till::{Intent, ReceiptIntent, ShiftIntent, TenderChoice, TillError};

const MILK: &str = "4006381333931";
const BUTTER: &str = "4008452011236";
/// Generated products for the tests' store: the demo shop's own plus a few.
const GENERATED: u64 = 20;

struct Shop {
    data: DataDir,
    reports: mpsc::Receiver<PrinterReport>,
    peripherals: Rc<PeripheralService>,
}

fn shop(dir: &Path) -> Shop {
    let data = DataDir::new(dir);
    let (sender, reports) = mpsc::channel();
    let peripherals = PeripheralService::start(
        PeripheralSettings::of(&data, &TerminalConfig::default()),
        move |report| {
            // The test may have stopped listening; the worker goes on regardless.
            sender.send(report).ok();
        },
    )
    .unwrap();
    Shop {
        data,
        reports,
        peripherals: Rc::new(peripherals),
    }
}

impl Shop {
    fn open(&self) -> OpenTerminal {
        open_terminal(
            &self.data.root,
            DeviceId::new("T1"),
            GENERATED,
            self.peripherals.clone(),
            pos_ui::system_now,
        )
        .unwrap()
    }

    /// Waits for the printer worker's report that satisfies `wanted`.
    fn wait_for(&self, what: &str, wanted: impl Fn(&PrinterReport) -> bool) -> PrinterReport {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.reports.recv_timeout(left) {
                Ok(report) if wanted(&report) => return report,
                Ok(_) => {}
                Err(_) => panic!("the printer never reported {what}"),
            }
        }
    }
}

fn send(open: &mut OpenTerminal, intent: Intent) -> Result<(), TillError> {
    open.till.handle(intent, pos_ui::system_now())
}

/// Logs in; the first login of the day opens the shift with a 150.00 float. The float's
/// drawer opening is left out: these tests look at what sales print and kick.
fn login(open: &mut OpenTerminal, user: &str, pin: &str) {
    send(
        open,
        Intent::Login {
            user: UserId::new(user),
            pin: pin.to_owned(),
        },
    )
    .unwrap();
    if open.till.view().screen == Screen::ShiftOpen {
        send(
            open,
            Intent::Shift(ShiftIntent::Open {
                total: "150.00".to_owned(),
            }),
        )
        .unwrap();
        open.till.take_effects();
    }
}

/// The cashier taps Print on the change screen, and the terminal carries it out.
fn print_receipt(open: &mut OpenTerminal) {
    send(open, Intent::Receipt(ReceiptIntent::Print)).unwrap();
    open.run_effects();
}

/// The report in which the `nth` job (from 0) whose id starts with `kind` was printed, counting
/// from the first report read by this call.
fn printed_job(shop: &Shop, kind: &str, nth: usize) -> PrinterReport {
    let seen = std::cell::Cell::new(0);
    shop.wait_for(kind, |r| {
        seen.set(seen.get() + r.printed.iter().filter(|job| job.starts_with(kind)).count());
        seen.get() > nth
    })
}

fn stock(store: &Store, product: &str) -> Quantity {
    store
        .stock_level(&StoreId::new("berlin-mitte"), &ProductId::new(product))
        .unwrap()
}

#[test]
fn a_cash_sale_is_stored_moves_stock_verifies_and_prints_its_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let shop = shop(dir.path());
    let receipt = {
        let mut open = shop.open();
        assert_eq!(open.seeded, Seeded::Now { products: 53 });
        let milk_before = stock(&open.store.borrow(), "milk");
        assert_eq!(milk_before, Quantity::pieces(40));
        login(&mut open, "anna", "1234");
        send(&mut open, Intent::Scan(MILK.to_owned())).unwrap();
        send(&mut open, Intent::Scan(BUTTER.to_owned())).unwrap();
        assert_eq!(open.till.view().cart.total, "3.68");
        send(&mut open, Intent::StartPayment).unwrap();
        send(
            &mut open,
            Intent::AddTender {
                kind: TenderChoice::Cash,
                amount: "10.00".to_owned(),
                reference: String::new(),
            },
        )
        .unwrap();
        let view = open.till.view();
        let payment = view.payment.unwrap();
        assert_eq!(payment.change, "6.32");
        assert_eq!(view.message.unwrap().text, "Paid. Give 6.32 change");
        print_receipt(&mut open);
        payment.receipt_number.unwrap()
    };
    assert_eq!(receipt, "T1-000001");

    // After closing and reopening the store, everything is there.
    let store = Store::open(dir.path(), DeviceId::new("T1")).unwrap();
    let sale = store
        .sale_by_receipt(&ReceiptNumber::new(&receipt))
        .unwrap()
        .expect("the sale is stored");
    assert_eq!(sale.total.display_amount(), "3.68");
    assert_eq!(sale.cashier, UserId::new("anna"));
    assert_eq!(stock(&store, "milk"), Quantity::pieces(39));
    assert_eq!(stock(&store, "butter"), Quantity::pieces(39));
    assert!(store.verify_journal().unwrap().is_intact());
    let kinds: Vec<String> = store
        .journal_tail(3)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["stock_moved", "stock_moved", "drawer_opened"]);

    // The cash tender kicked the drawer, and the receipt was filed on paper.
    let printed = printed_job(&shop, "sale-", 0);
    assert!(printed.state.is_ready(), "{printed:?}");
    let text_file = printed
        .filed
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "txt"))
        .expect("a text file for the receipt");
    assert!(text_file.starts_with(dir.path().join("receipts")));
    assert!(dir.path().join("receipts/receipt-00001.png").exists());
    let text = std::fs::read_to_string(text_file).unwrap();
    assert!(text.contains(&receipt), "{text}");
    assert!(text.contains("3.68"), "{text}");
    assert!(text.contains("Corner Market Mitte"), "{text}");

    // What a technician (and the appliance's boot report) reads: the store opens, the chain
    // holds, and the one sale reads back whole.
    drop(store);
    let checked = std::process::Command::new(env!("CARGO_BIN_EXE_pos-terminal"))
        .arg("check")
        .arg("--data")
        .arg(dir.path())
        .arg("--config")
        .arg(dir.path().join("no-such.toml"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{report}");
    for line in ["journal_intact=yes", "sales=1", "sales_total=3.68"] {
        assert!(report.lines().any(|l| l == line), "{line} in {report}");
    }
}

#[test]
fn the_drawer_opens_for_cash_and_stays_shut_for_a_card() {
    let dir = tempfile::tempdir().unwrap();
    let shop = shop(dir.path());
    let mut open = shop.open();
    login(&mut open, "tom", "2468");
    for (kind, reference) in [(TenderChoice::Card, "AUTH-1"), (TenderChoice::Cash, "")] {
        send(&mut open, Intent::Scan(MILK.to_owned())).unwrap();
        send(&mut open, Intent::StartPayment).unwrap();
        send(
            &mut open,
            Intent::AddTender {
                kind,
                amount: String::new(),
                reference: reference.to_owned(),
            },
        )
        .unwrap();
        print_receipt(&mut open);
    }
    let card = printed_job(&shop, "sale-", 0);
    assert!(!card.drawer_open, "no drawer for a card sale: {card:?}");
    let cash = shop.wait_for("the drawer", |r| r.drawer_open);
    assert_eq!(
        cash.status_text().split(" · ").next(),
        Some("Cash drawer open")
    );
    // The cash sale's receipt follows its drawer kick.
    printed_job(&shop, "sale-", 0);
}

#[test]
fn a_held_cart_survives_reopening_and_resumes_once() {
    let dir = tempfile::tempdir().unwrap();
    let shop = shop(dir.path());
    {
        let mut open = shop.open();
        login(&mut open, "anna", "1234");
        send(&mut open, Intent::Scan(MILK.to_owned())).unwrap();
        send(&mut open, Intent::Scan(MILK.to_owned())).unwrap();
        send(
            &mut open,
            Intent::Hold {
                label: "Lady with the dog".to_owned(),
            },
        )
        .unwrap();
        assert!(open.till.view().cart.lines.is_empty());
        assert_eq!(open.till.view().held.len(), 1);
    }
    let held_id = {
        let mut open = shop.open();
        assert_eq!(open.seeded, Seeded::Already);
        login(&mut open, "tom", "2468");
        let held = open.till.view().held;
        assert_eq!(
            held.len(),
            1,
            "the held cart is still there after a restart"
        );
        assert_eq!(held[0].label, "Lady with the dog");
        assert_eq!(held[0].held_by, "Anna");
        assert_eq!(held[0].total, "2.38");
        send(&mut open, Intent::ShowHeld).unwrap();
        send(&mut open, Intent::Resume(held[0].id.clone())).unwrap();
        let view = open.till.view();
        assert_eq!(view.screen, Screen::Checkout);
        assert_eq!(view.cart.total, "2.38");
        assert!(view.held.is_empty());
        // The same cart cannot come back a second time, here or after a restart.
        send(
            &mut open,
            Intent::Hold {
                label: String::new(),
            },
        )
        .unwrap();
        let again = send(&mut open, Intent::Resume(held[0].id.clone())).unwrap_err();
        assert!(again.to_string().contains("already resumed"), "{again}");
        held[0].id.clone()
    };
    let mut open = shop.open();
    login(&mut open, "anna", "1234");
    let error = send(&mut open, Intent::Resume(held_id)).unwrap_err();
    assert!(error.to_string().contains("no held cart"), "{error}");
    let held = open.till.view().held;
    assert_eq!(held.len(), 1, "only the second hold is waiting");
    assert_eq!(held[0].label, "Held #1");
    let store = open.store.borrow();
    assert!(store.verify_journal().unwrap().is_intact());
}

#[test]
fn a_wrong_pin_is_refused_and_the_third_locks_out() {
    let dir = tempfile::tempdir().unwrap();
    let shop = shop(dir.path());
    let mut open = shop.open();
    let wrong = |open: &mut OpenTerminal| {
        send(
            open,
            Intent::Login {
                user: UserId::new("anna"),
                pin: "4321".to_owned(),
            },
        )
        .unwrap_err()
    };
    assert_eq!(
        wrong(&mut open),
        TillError::WrongPin {
            name: "Anna".to_owned(),
            attempts_left: 2
        }
    );
    let view = open.till.view();
    assert_eq!(view.screen, Screen::Login);
    assert_eq!(view.cashier, None);
    assert_eq!(
        view.message.unwrap().text,
        "Wrong PIN for Anna; 2 tries left before the till locks Anna out"
    );
    wrong(&mut open);
    assert!(matches!(wrong(&mut open), TillError::LockedOut { .. }));
    let refused = send(
        &mut open,
        Intent::Login {
            user: UserId::new("anna"),
            pin: "1234".to_owned(),
        },
    );
    assert!(matches!(refused, Err(TillError::LockedOut { .. })));
    // The login tiles come from the store's staff list.
    let names: Vec<String> = open
        .till
        .view()
        .login
        .people
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["Anna", "Marc", "Olga", "Sara", "Tom"]);
}

#[test]
fn an_unknown_barcode_tells_the_cashier_and_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let shop = shop(dir.path());
    let mut open = shop.open();
    login(&mut open, "anna", "1234");
    send(&mut open, Intent::Scan(MILK.to_owned())).unwrap();
    let error = send(&mut open, Intent::Scan("5901234123457".to_owned())).unwrap_err();
    assert_eq!(error, TillError::UnknownCode("5901234123457".to_owned()));
    let view = open.till.view();
    assert_eq!(
        view.message.unwrap().text,
        "Nothing is known under the code 5901234123457; check the barcode or search by name"
    );
    assert_eq!(view.cart.lines.len(), 1);
    assert_eq!(view.cart.total, "1.19");
}

#[test]
fn loyalty_cards_weighed_goods_and_variants_come_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let shop = shop(dir.path());
    let mut open = shop.open();
    login(&mut open, "anna", "1234");
    send(&mut open, Intent::Scan("9900000000017".to_owned())).unwrap();
    let view = open.till.view();
    assert_eq!(
        view.message.unwrap().text,
        "Lena Vogel (Member) is attached"
    );
    assert_eq!(
        view.cart.customer.as_deref(),
        Some("Lena Vogel · Member · 1250 points")
    );
    send(&mut open, Intent::Search("vine tom".to_owned())).unwrap();
    let found = open.till.view().search_results;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].per_unit, "kg");
    send(&mut open, Intent::AddProduct(found[0].id.clone())).unwrap();
    assert_eq!(
        open.till.view().weighing.map(|w| w.name),
        Some("Vine tomatoes, loose".to_owned())
    );
    send(&mut open, Intent::EnterWeight("0.5".to_owned())).unwrap();
    assert_eq!(open.till.view().cart.total, "1.75");
    // The scale's label for the same tomatoes: 22 00001 00500 C, half a kilo.
    send(&mut open, Intent::Scan("2200001005006".to_owned())).unwrap();
    let lines = open.till.view().cart.lines;
    assert_eq!(
        (lines[1].name.as_str(), lines[1].quantity.as_str()),
        ("Vine tomatoes, loose", "0.500")
    );
    assert_eq!(open.till.view().cart.total, "3.50");
    // Customers are found in the store by their phone number's digits.
    send(&mut open, Intent::SearchCustomers("0151 555".to_owned())).unwrap();
    let found = open.till.view().customer_results;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, "Jonas Weber");
    send(&mut open, Intent::AttachCustomerId(found[0].id.clone())).unwrap();
    let shown = open.till.view().cart.customer_detail.unwrap();
    assert_eq!(
        (
            shown.tier.as_str(),
            shown.points.as_str(),
            shown.progress.as_str()
        ),
        ("Member", "320", "100.00 more to Bronze")
    );
    // A parent with variants is not sold itself; its variants are.
    send(&mut open, Intent::Search("hoodie".to_owned())).unwrap();
    let hoodies = open.till.view().search_results;
    assert_eq!(hoodies.len(), 6, "{hoodies:?}");
    assert!(
        hoodies
            .iter()
            .all(|h| h.name.starts_with("Heavy cotton hoodie /"))
    );
    let favourites = open.till.view().favourites;
    assert_eq!(favourites.len(), 12);
    assert_eq!(favourites[0].name, "Whole milk 1 L");
}

#[test]
fn seeding_twice_adds_nothing_and_the_catalogue_has_300_valid_ean13_products() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), DeviceId::new("T1")).unwrap();
    let now = pos_ui::system_now();
    let generated = pos_terminal::seed::GENERATED_PRODUCTS;
    assert!(matches!(
        seed_demo_shop(&mut store, now, generated).unwrap(),
        Seeded::Now { products } if products >= 400
    ));
    let first = export(&store);
    assert_eq!(
        seed_demo_shop(&mut store, now, generated).unwrap(),
        Seeded::Already
    );
    drop(store);
    let store = Store::open(dir.path(), DeviceId::new("T1")).unwrap();
    let second = export(&store);
    assert_eq!(first, second, "a second seeding changed the catalogue");

    let valid_ean13 = |code: &str| {
        code.len() == 13
            && code.bytes().all(|b| b.is_ascii_digit())
            && ean13_check_digit(&code[..12]) == code[12..].parse().ok()
    };
    let with_valid_code = second
        .iter()
        .filter(|row| row.barcodes.split('|').any(valid_ean13))
        .count();
    assert!(
        with_valid_code >= 300,
        "{with_valid_code} products with a valid EAN-13"
    );
    assert!(second.iter().any(|row| row.unit == "kilogram"));
    assert!(second.iter().any(|row| !row.parent.is_empty()));
    let categories = store.categories().unwrap();
    assert!(categories.len() >= 10, "{categories:?}");
}

#[derive(Debug, PartialEq, Eq)]
struct Row {
    id: String,
    parent: String,
    unit: String,
    barcodes: String,
    stock: String,
}

/// Every product as the CSV export writes it.
fn export(store: &Store) -> Vec<Row> {
    let mut bytes = Vec::new();
    store
        .export_products_csv(&mut bytes, &StoreId::new("berlin-mitte"))
        .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (id, parent, unit, barcodes, stock) = (
        column("id"),
        column("parent"),
        column("unit"),
        column("barcodes"),
        column("stock"),
    );
    lines
        .map(|line| {
            let fields = split_csv(line);
            Row {
                id: fields[id].clone(),
                parent: fields[parent].clone(),
                unit: fields[unit].clone(),
                barcodes: fields[barcodes].clone(),
                stock: fields[stock].clone(),
            }
        })
        .collect()
}

/// Splits one CSV line, honouring double quotes (names may hold commas).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            other => fields.last_mut().unwrap().push(other),
        }
    }
    fields
}

#[test]
fn a_sale_the_store_refuses_stays_open_and_completes_on_retry_without_losing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let shop = shop(dir.path());
    {
        let mut open = shop.open();
        login(&mut open, "anna", "1234");
        send(&mut open, Intent::Scan(MILK.to_owned())).unwrap();
        send(&mut open, Intent::StartPayment).unwrap();
        send(
            &mut open,
            Intent::AddTender {
                kind: TenderChoice::Card,
                amount: String::new(),
                reference: "AUTH-1".to_owned(),
            },
        )
        .unwrap();
    }
    // The receipt counter is set back (a restored backup, say): the next number is taken.
    {
        let mut store = Store::open(dir.path(), DeviceId::new("T1")).unwrap();
        store
            .set_setting(
                &pos_terminal::ids::receipt_counter_setting(&DeviceId::new("T1")),
                "0",
            )
            .unwrap();
    }
    let mut open = shop.open();
    login(&mut open, "tom", "2468");
    send(&mut open, Intent::Scan(MILK.to_owned())).unwrap();
    send(&mut open, Intent::StartPayment).unwrap();
    let refused = send(
        &mut open,
        Intent::AddTender {
            kind: TenderChoice::Card,
            amount: String::new(),
            reference: "AUTH-2".to_owned(),
        },
    )
    .unwrap_err();
    assert_eq!(refused.kind(), pos_till::TillErrorKind::Storage);
    let view = open.till.view();
    assert_eq!(
        view.message.unwrap().text,
        "The till could not save this (receipt number T1-000001 is already used by another sale); \
         try again, and call a technician if it repeats"
    );
    assert_eq!(view.screen, Screen::Payment, "the paid sale is still open");
    assert_eq!(open.till.view().payment.unwrap().due, "0.00");

    send(&mut open, Intent::Complete).unwrap();
    let receipt = open.till.view().payment.unwrap().receipt_number.unwrap();
    assert_eq!(receipt, "T1-000002");
    let store = open.store.borrow();
    let sale = store
        .sale_by_receipt(&ReceiptNumber::new(&receipt))
        .unwrap()
        .unwrap();
    assert_eq!(sale.cashier, UserId::new("tom"));
    assert_eq!(
        stock(&store, "milk"),
        Quantity::pieces(38),
        "each sale moved stock once, the refused attempt not at all"
    );
    assert!(store.verify_journal().unwrap().is_intact());
}

/// A day's close over the real store: an emailed receipt waits in the journal for the fleet, a
/// cash sale is refunded by scanning its receipt (found through the store), the refund prints
/// and opens the drawer, and the shift, still open after a restart, closes with the refund in
/// its expected cash and the Z report printed.
#[test]
fn email_receipt_refund_and_shift_close_go_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let shop = shop(dir.path());
    let receipt = {
        let mut open = shop.open();
        login(&mut open, "marc", "9999");
        send(&mut open, Intent::Scan(MILK.to_owned())).unwrap();
        send(&mut open, Intent::StartPayment).unwrap();
        send(
            &mut open,
            Intent::AddTender {
                kind: TenderChoice::Cash,
                amount: String::new(),
                reference: String::new(),
            },
        )
        .unwrap();
        let receipt = open.till.view().payment.unwrap().receipt_number.unwrap();
        send(
            &mut open,
            Intent::Receipt(ReceiptIntent::Email {
                address: "lena@example.org".to_owned(),
            }),
        )
        .unwrap();
        open.run_effects();
        let requested = open
            .store
            .borrow()
            .journal_events_since(
                "receipt_requested",
                pos_core::clock::Timestamp::from_unix_ms(0),
            )
            .unwrap();
        assert_eq!(
            requested.len(),
            1,
            "the request waits in the journal for the fleet"
        );
        let pos_core::event::DomainEvent::ReceiptRequested {
            receipt: asked,
            destination,
            ..
        } = requested[0].event().unwrap()
        else {
            panic!("not a receipt request")
        };
        assert_eq!(asked.as_str(), receipt);
        assert_eq!(
            destination,
            pos_core::event::ReceiptDestination::Email("lena@example.org".to_owned())
        );
        receipt
    };

    // After a restart the shift is still open; the receipt's barcode opens its sale.
    let mut open = shop.open();
    login(&mut open, "marc", "9999");
    assert_eq!(
        open.till.view().screen,
        Screen::Checkout,
        "the shift survived"
    );
    send(&mut open, Intent::Scan(receipt.clone())).unwrap();
    assert_eq!(open.till.view().screen, Screen::Refund);
    send(&mut open, Intent::ReturnReason("changed_mind".to_owned())).unwrap();
    send(&mut open, Intent::ConfirmRefund).unwrap();
    let refund_number = open.till.view().refund.unwrap().receipt_number.unwrap();
    open.run_effects();
    let refund = printed_job(&shop, "refund-", 0);
    let text = refund
        .filed
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "txt"))
        .map(|f| std::fs::read_to_string(f).unwrap())
        .unwrap();
    assert!(text.contains(&refund_number), "{text}");
    let sale = open
        .store
        .borrow()
        .sale_by_receipt(&ReceiptNumber::new(&receipt))
        .unwrap()
        .unwrap();
    assert_eq!(
        open.store.borrow().refunds_of_sale(&sale.id).unwrap().len(),
        1
    );

    // The close: 150.00 float + 1.19 sold - 1.19 refunded = 150.00 expected.
    send(&mut open, Intent::Back).unwrap();
    send(&mut open, Intent::Back).unwrap();
    send(&mut open, Intent::Shift(ShiftIntent::StartClose)).unwrap();
    assert_eq!(open.till.view().shift.expected, "150.00");
    send(&mut open, Intent::Shift(ShiftIntent::Close)).unwrap();
    open.run_effects();
    let z = printed_job(&shop, "z-report-", 0);
    assert!(z.state.is_ready(), "{z:?}");
    assert!(
        open.store
            .borrow()
            .open_shift(&DeviceId::new("T1"))
            .unwrap()
            .is_none()
    );
}
