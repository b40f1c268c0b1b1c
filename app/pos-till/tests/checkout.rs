//! What a cashier meets at the checkout beyond scan and pay: every kind of barcode decoded
//! onto the right line (EAN, UPC, GS1 with batch, expiry, weight and price, scale labels),
//! garbled scans refused with their reason, weights typed for loose goods, customers found
//! by name, phone or card, and a discount on the whole cart within the cashier's limit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::event::DomainEvent;
use pos_core::id::{Barcode, CustomerId, ProductId, Sku, UserId};
use pos_core::money::{Currency, Money};
use pos_core::quantity::Unit;
use pos_scanner::ScanError;
use pos_till::memory::{CountingIds, MemoryCatalogue, MemoryLedger, MemoryStaff};
use pos_till::{
    CartDiscountKind, Intent, Screen, ShiftIntent, TenderChoice, Till, TillError, TillPorts,
    TillSetup, Tone,
};

/// Monday 2026-03-02 10:00 UTC.
const MONDAY_10AM: i64 = 1_772_445_600_000;
const MILK: &str = "4006381333931";
const COFFEE: &str = "4006581020013";
const GROUP_SEPARATOR: char = '\u{1d}';

/// Goods with the shorter retail codes the demo shop lacks.
fn extra_products() -> Vec<Product> {
    let milk = pos_core::demo::catalog()
        .unwrap()
        .get(&ProductId::new("milk"))
        .cloned()
        .unwrap();
    let like_milk = |id: &str, name: &str, code: &str| Product {
        id: ProductId::new(id),
        sku: Sku::new(id.to_uppercase()),
        name: name.to_owned(),
        barcodes: vec![Barcode::new(code)],
        price: Money::from_minor(99, Currency::EUR),
        unit: Unit::Piece,
        // Outside the dairy deal.
        category: None,
        ..milk.clone()
    };
    vec![
        like_milk("gum", "Chewing gum", "96385074"),
        like_milk("soup", "Tomato soup (US)", "0036000291452"),
        like_milk("mints", "Peppermints (US)", "042100005264"),
    ]
}

fn till() -> Till {
    let setup = TillSetup::demo().unwrap();
    let mut catalog = pos_core::demo::catalog().unwrap();
    for product in extra_products() {
        catalog.upsert(product).unwrap();
    }
    let demo = MemoryCatalogue::demo().unwrap();
    // The demo's look-up codes and customers over a catalogue with the extra goods.
    let catalogue = {
        let mut with_codes = catalog;
        for id in ["apples", "bananas", "bread"] {
            let product = pos_till::port::Catalogue::product(&demo, &ProductId::new(id)).unwrap();
            with_codes.upsert(product).unwrap();
        }
        let mut catalogue = MemoryCatalogue::new(with_codes, Vec::new());
        for id in ["c-lena", "c-jonas"] {
            let found = pos_till::port::Catalogue::customer(&demo, &CustomerId::new(id)).unwrap();
            catalogue = catalogue.with_customer(found);
        }
        catalogue
    };
    let ids = CountingIds::new(&setup.device);
    let now = Timestamp::from_unix_ms(MONDAY_10AM);
    let mut till = Till::new(
        setup,
        TillPorts {
            catalogue: Box::new(catalogue),
            staff: Box::new(MemoryStaff::demo()),
            ledger: Box::new(MemoryLedger::new()),
            ids: Box::new(ids),
        },
        now,
    );
    let at = Timestamp::from_unix_ms(MONDAY_10AM);
    till.handle(
        Intent::Login {
            user: UserId::new("anna"),
            pin: "1234".to_owned(),
        },
        at,
    )
    .unwrap();
    till.handle(
        Intent::Shift(ShiftIntent::Open {
            total: "100.00".to_owned(),
        }),
        at,
    )
    .unwrap();
    assert_eq!(till.view().screen, Screen::Checkout);
    till
}

fn now() -> Timestamp {
    Timestamp::from_unix_ms(MONDAY_10AM)
}

fn ok(till: &mut Till, intent: Intent) {
    let result = till.handle(intent.clone(), now());
    assert!(result.is_ok(), "{intent:?} was refused: {result:?}");
}

fn scan(till: &mut Till, code: &str) {
    ok(till, Intent::Scan(code.to_owned()));
}

fn message(till: &Till) -> (String, Tone) {
    let message = till.view().message.unwrap();
    (message.text, message.tone)
}

/// (name, quantity, amount, detail) of every line.
fn lines(till: &Till) -> Vec<(String, String, String, String)> {
    till.view()
        .cart
        .lines
        .into_iter()
        .map(|l| (l.name, l.quantity, l.amount, l.detail))
        .collect()
}

fn line(
    name: &str,
    quantity: &str,
    amount: &str,
    detail: &str,
) -> (String, String, String, String) {
    (
        name.to_owned(),
        quantity.to_owned(),
        amount.to_owned(),
        detail.to_owned(),
    )
}

#[test]
fn every_retail_code_finds_its_product() {
    let mut till = till();
    scan(&mut till, MILK); // EAN-13
    scan(&mut till, "96385074"); // EAN-8
    scan(&mut till, "036000291452"); // UPC-A, registered in its 13-digit form
    scan(&mut till, "04252614"); // UPC-E, expanded to UPC-A 042100005264
    scan(&mut till, "]E0036000291452"); // UPC-A again, with its symbology identifier
    assert_eq!(
        lines(&till),
        vec![
            line("Whole milk 1 L", "1", "1.19", ""),
            line("Chewing gum", "1", "0.99", ""),
            line("Tomato soup (US)", "2", "1.98", ""),
            line("Peppermints (US)", "1", "0.99", ""),
        ]
    );
}

#[test]
fn garbled_scans_say_why_and_add_nothing() {
    let mut till = till();
    scan(&mut till, MILK);
    let cases = [
        (
            "4006381333932",
            "Barcode misread: EAN-13 check digit should be 1, read 2. Scan again.",
        ),
        (
            "]E012345",
            "Barcode not recognised (an EAN/UPC code of 5 characters). Enter the item by hand.",
        ),
        (
            "4000000000006",
            "Nothing is known under the code 4000000000006; check the barcode or search by name",
        ),
    ];
    for (code, said) in cases {
        let refused = till.handle(Intent::Scan(code.to_owned()), now());
        assert!(refused.is_err(), "{code}");
        assert_eq!(message(&till), (said.to_owned(), Tone::Problem), "{code}");
    }
    let refused = till
        .handle(
            Intent::ScanRefused(ScanError::TooShort {
                length: 3,
                length_min: 6,
            }),
            now(),
        )
        .unwrap_err();
    assert!(matches!(refused, TillError::Scan(_)));
    assert_eq!(
        message(&till).0,
        "Scan too short (3 characters, at least 6 expected). Scan again."
    );
    assert_eq!(lines(&till), vec![line("Whole milk 1 L", "1", "1.19", "")]);
}

#[test]
fn scale_labels_put_their_weight_or_price_on_the_line() {
    let mut till = till();
    // 21 00001 01235 9: apples, 1.235 kg at 2.99/kg.
    scan(&mut till, "2100001012359");
    // 21 00002 00750 7: bananas, 0.750 kg at 1.99/kg.
    scan(&mut till, "2100002007507");
    // 20 00003 00195 8: a bread priced 1.95 by the scale.
    scan(&mut till, "2000003001958");
    // A code registered as it is printed is the product at its own price.
    scan(&mut till, "2000000000015");
    assert_eq!(
        lines(&till),
        vec![
            line("Apples Elstar", "1.235", "3.69", ""),
            line("Bananas", "0.750", "1.49", ""),
            line("Sourdough loaf", "1", "1.95", ""),
            line("Sourdough loaf", "1", "3.89", ""),
        ]
    );
    // A label for an item code the shop does not have.
    let refused = till.handle(Intent::Scan("2100009012351".to_owned()), now());
    assert!(matches!(refused, Err(TillError::UnknownCode(_))));
    assert_eq!(lines(&till).len(), 4);
}

#[test]
fn gs1_labels_carry_batch_expiry_weight_and_price() {
    let mut till = till();
    // GS1 DataMatrix: milk, use by 31.03.2026, batch L42.
    let milk_l42 = "]d201040063813339311726033110L42";
    scan(&mut till, milk_l42);
    assert_eq!(till.view().message, None);
    scan(&mut till, milk_l42);
    // The same milk without a label goes on a line of its own.
    scan(&mut till, MILK);
    // GS1-128 with FNC1 as a group separator: apples with a net weight of 0.750 kg (3103).
    scan(
        &mut till,
        &format!("{GROUP_SEPARATOR}0102100001000004{GROUP_SEPARATOR}3103000750"),
    );
    // Coffee with a price on the label (3922: two decimals).
    scan(&mut till, "]C101040065810200133922999");
    assert_eq!(
        lines(&till),
        vec![
            // Three milks: the dairy deal's 10% off.
            line(
                "Whole milk 1 L",
                "2",
                "2.14",
                "Batch L42 · use by 31.03.2026"
            ),
            line("Whole milk 1 L", "1", "1.07", ""),
            line("Apples Elstar", "0.750", "2.24", ""),
            line("Coffee beans 1 kg", "1", "9.99", ""),
        ]
    );

    // Past its date: the line is added and the cashier is warned.
    scan(&mut till, "]d201040063813339311726022810L17");
    assert_eq!(
        message(&till),
        (
            "Whole milk 1 L expired on 28.02.2026: check the pack and take it off the shelf"
                .to_owned(),
            Tone::Problem
        )
    );
    assert_eq!(lines(&till).len(), 5);

    // The batches reach the sale's stock movements.
    ok(&mut till, Intent::StartPayment);
    ok(
        &mut till,
        Intent::AddTender {
            kind: TenderChoice::Card,
            amount: String::new(),
            reference: "A1".to_owned(),
        },
    );
    let batches: Vec<Option<String>> = stock_moves(&till)
        .into_iter()
        .map(|(_, batch, _)| batch)
        .collect();
    assert_eq!(
        batches,
        vec![
            Some("milk:L42".to_owned()),
            None,
            None,
            None,
            Some("milk:L17".to_owned())
        ]
    );
}

/// (product, batch, quantity) of every stock movement the journal holds.
fn stock_moves(till: &Till) -> Vec<(String, Option<String>, String)> {
    till.ledger()
        .journal_tail(usize::MAX)
        .into_iter()
        .filter_map(|e| match e.event {
            DomainEvent::StockMoved(m) => Some((
                m.product.to_string(),
                m.batch.map(|b| b.to_string()),
                m.quantity.value().to_string(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_held_cart_keeps_its_batches_and_price_labelled_packs_take_their_weight_off_the_shelf() {
    let mut till = till();
    scan(&mut till, "]d201040063813339311726033110L42");
    // Apples (2.99/kg) packed and priced 5.98 by the scale: 2 kg leave the shelf.
    scan(&mut till, "]C101021000010000043922598");
    // A pack labelled with both: 0.750 kg for 2.24.
    scan(
        &mut till,
        &format!("]C10102100001000004{GROUP_SEPARATOR}3103000750{GROUP_SEPARATOR}3922224"),
    );
    // A second 5.98 pack is a line of its own, so each keeps its weight.
    scan(&mut till, "]C101021000010000043922598");
    ok(
        &mut till,
        Intent::Hold {
            label: "Lena".to_owned(),
        },
    );
    assert!(lines(&till).is_empty());
    let held = till.view().held[0].id.clone();
    ok(&mut till, Intent::Resume(held));
    assert_eq!(
        lines(&till),
        vec![
            line(
                "Whole milk 1 L",
                "1",
                "1.19",
                "Batch L42 · use by 31.03.2026"
            ),
            line("Apples Elstar", "1", "5.98", ""),
            line("Apples Elstar", "1", "2.24", ""),
            line("Apples Elstar", "1", "5.98", ""),
        ]
    );
    ok(&mut till, Intent::StartPayment);
    ok(
        &mut till,
        Intent::AddTender {
            kind: TenderChoice::Card,
            amount: String::new(),
            reference: "A2".to_owned(),
        },
    );
    assert_eq!(
        stock_moves(&till),
        vec![
            (
                "milk".to_owned(),
                Some("milk:L42".to_owned()),
                "-1".to_owned()
            ),
            ("apples".to_owned(), None, "-2".to_owned()),
            ("apples".to_owned(), None, "-0.75".to_owned()),
            ("apples".to_owned(), None, "-2".to_owned()),
        ]
    );
}

#[test]
fn weighed_goods_without_a_label_ask_for_the_weight() {
    let mut till = till();
    ok(&mut till, Intent::AddProduct(ProductId::new("bananas")));
    let weighing = till.view().weighing.unwrap();
    assert_eq!(weighing.name, "Bananas");
    assert_eq!(weighing.unit_price, "1.99");
    assert!(
        lines(&till).is_empty(),
        "nothing is added before the weight"
    );
    for bad in ["0", "-0.5", "1.2345", "two", "150"] {
        let refused = till.handle(Intent::EnterWeight(bad.to_owned()), now());
        assert!(matches!(refused, Err(TillError::BadWeight(_))), "{bad}");
        assert!(message(&till).0.contains("is not a weight"), "{bad}");
        assert!(till.view().weighing.is_some(), "the prompt stays open");
    }
    ok(&mut till, Intent::EnterWeight("0,75".to_owned()));
    assert_eq!(till.view().weighing, None);
    assert_eq!(lines(&till), vec![line("Bananas", "0.750", "1.49", "")]);

    // The apples' own barcode has no weight in it: the prompt again; Back cancels it.
    scan(&mut till, "2100000000012");
    assert_eq!(till.view().weighing.unwrap().name, "Apples Elstar");
    ok(&mut till, Intent::Back);
    assert_eq!(till.view().weighing, None);
    assert_eq!(lines(&till).len(), 1);
    let refused = till.handle(Intent::EnterWeight("1".to_owned()), now());
    assert!(matches!(refused, Err(TillError::NotHere)));
}

#[test]
fn customers_are_found_by_name_phone_or_card_attached_and_detached() {
    let mut till = till();
    scan(&mut till, COFFEE);
    ok(&mut till, Intent::SearchCustomers("l".to_owned()));
    assert!(
        till.view().customer_results.is_empty(),
        "one letter finds everybody"
    );
    ok(&mut till, Intent::SearchCustomers("vog".to_owned()));
    let found = till.view().customer_results;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, "Lena Vogel");
    assert_eq!(
        found[0].detail,
        "Silver · 1250 points · 0170 5550101 · 9900000000017"
    );
    ok(&mut till, Intent::SearchCustomers("0151555".to_owned()));
    assert_eq!(till.view().customer_results[0].name, "Jonas Weber");
    ok(&mut till, Intent::SearchCustomers("00000000".to_owned()));
    assert_eq!(till.view().customer_results.len(), 2, "both cards");
    ok(&mut till, Intent::SearchCustomers("nobody".to_owned()));
    assert!(till.view().customer_results.is_empty());

    ok(&mut till, Intent::SearchCustomers("lena".to_owned()));
    let lena = till.view().customer_results[0].id.clone();
    ok(&mut till, Intent::AttachCustomerId(lena));
    assert_eq!(
        message(&till),
        ("Lena Vogel (Silver) is attached".to_owned(), Tone::Success)
    );
    let view = till.view();
    assert!(view.customer_results.is_empty());
    let shown = view.cart.customer_detail.unwrap();
    assert_eq!(shown.name, "Lena Vogel");
    assert_eq!(shown.tier, "Silver");
    assert_eq!(shown.points, "1250");
    assert_eq!(shown.progress, "155.40 more to Gold");
    // Silver starts at 500.00 and Gold at 1000.00: 344.60 of 500.00 is 69%.
    assert_eq!(shown.progress_percent, 69);

    ok(&mut till, Intent::DetachCustomer);
    assert_eq!(message(&till).0, "Lena Vogel is no longer on this sale");
    assert_eq!(till.view().cart.customer_detail, None);
    assert!(matches!(
        till.handle(Intent::DetachCustomer, now()),
        Err(TillError::NoCustomer)
    ));
    // A loyalty card scanned attaches too, with the same detail.
    scan(&mut till, "9900000000024");
    let shown = till.view().cart.customer_detail.unwrap();
    assert_eq!(
        (shown.name.as_str(), shown.progress.as_str()),
        ("Jonas Weber", "23.10 more to Bronze")
    );
}

#[test]
fn a_cart_discount_within_the_limit_then_above_it_with_a_manager() {
    let mut till = till();
    scan(&mut till, COFFEE); // 14.99
    scan(&mut till, MILK); // 1.19
    assert_eq!(till.view().cart.total, "16.18");
    let percent = |value: &str| Intent::CartDiscount {
        kind: CartDiscountKind::Percent,
        value: value.to_owned(),
    };
    ok(&mut till, percent("10"));
    let cart = till.view().cart;
    assert_eq!(cart.cart_discount, "10%");
    assert_eq!(cart.total, "14.56");
    assert_eq!(message(&till).0, "10% is taken off the cart");

    // Above the cashier's 10%: a manager approves it.
    let refused = till.handle(percent("20%"), now()).unwrap_err();
    assert_eq!(refused.kind(), pos_till::TillErrorKind::Approval);
    assert_eq!(
        till.view().approval.unwrap().what,
        "A 20% discount on the whole cart"
    );
    assert_eq!(till.view().cart.total, "14.56", "unchanged until approved");
    ok(
        &mut till,
        Intent::Approve {
            manager: UserId::new("marc"),
            pin: "9999".to_owned(),
        },
    );
    let cart = till.view().cart;
    assert_eq!(cart.cart_discount, "20%");
    assert_eq!(cart.total, "12.94");

    // An amount off the cart, then none.
    let amount = |value: &str| Intent::CartDiscount {
        kind: CartDiscountKind::Amount,
        value: value.to_owned(),
    };
    ok(&mut till, amount("1,00"));
    let cart = till.view().cart;
    assert_eq!(
        (cart.cart_discount.as_str(), cart.total.as_str()),
        ("1.00", "15.18")
    );
    for (bad, error) in [("abc", "is not an amount"), ("20.00", "more than the cart")] {
        assert!(till.handle(amount(bad), now()).is_err());
        assert!(
            message(&till).0.contains(error),
            "{bad}: {:?}",
            message(&till)
        );
    }
    ok(&mut till, amount("0"));
    assert_eq!(till.view().cart.cart_discount, "");
    assert_eq!(till.view().cart.total, "16.18");
}
