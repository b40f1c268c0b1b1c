//! What the till's screens ask the store, answered from the read tables after real events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pos_core::cart::{AttachedCustomer, Cart, PricingContext};
use pos_core::catalog::{Product, VariantAttribute};
use pos_core::event::DomainEvent;
use pos_core::held::HeldCart;
use pos_core::id::{
    Barcode, BatchId, CategoryId, CustomerId, DeviceId, HeldCartId, MovementId, ProductId,
    ReceiptNumber, RoleId, SaleId, ShiftId, Sku, StoreId, UserId,
};
use pos_core::loyalty::{Customer, Tier};
use pos_core::money::{Currency, Money};
use pos_core::quantity::Quantity;
use pos_core::sale::{Sale, SaleContext};
use pos_core::shift::{CashCount, CashDirection, CashMovement, Shift};
use pos_core::stock::{Batch, MovementReason, StockMovement};
use pos_core::tender::Payment;
use pos_store::StoreError;
use pos_store::sample::product;
use rust_decimal::Decimal;
use support::{at, open, sale};
use time::macros::date;

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

fn milk() -> Product {
    let mut milk = product(1);
    milk.id = ProductId::new("milk");
    milk.sku = Sku::new("MLK-1L");
    milk.name = "Organic whole milk 1L".to_owned();
    milk.barcodes = vec![Barcode::new("4006381333931"), Barcode::new("4006381333948")];
    milk.category = Some(CategoryId::new("dairy"));
    milk.low_stock_threshold = Some(Quantity::pieces(6));
    milk
}

fn receive(product: &ProductId, batch: Option<&str>, pieces: i64, n: u32) -> DomainEvent {
    DomainEvent::StockMoved(StockMovement {
        id: MovementId::new(format!("rcv-{n}")),
        product: product.clone(),
        store: StoreId::new("berlin-mitte"),
        batch: batch.map(BatchId::new),
        quantity: Quantity::pieces(pieces),
        reason: MovementReason::GoodsReceipt {
            reference: Some("DN-1".to_owned()),
        },
        at: at(0),
        by: UserId::new("marc"),
    })
}

#[test]
fn a_scanned_barcode_or_typed_sku_finds_the_product() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let milk = milk();
    store
        .record(
            &UserId::new("marc"),
            at(0),
            &[DomainEvent::ProductSaved(milk.clone())],
        )
        .unwrap();
    assert_eq!(
        store.product_by_barcode("4006381333948").unwrap(),
        Some(milk.clone())
    );
    assert_eq!(
        store.product_by_barcode(" 4006381333931\n").unwrap(),
        Some(milk.clone())
    );
    assert_eq!(store.product_by_code("MLK-1L").unwrap(), Some(milk.clone()));
    assert_eq!(store.product_by_barcode("4006381333955").unwrap(), None);
    // A barcode moves only with an explicit save; stealing it is refused.
    let mut other = product(2);
    other.barcodes = vec![Barcode::new("4006381333931")];
    let error = store
        .record(
            &UserId::new("marc"),
            at(1),
            &[DomainEvent::ProductSaved(other)],
        )
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "barcode 4006381333931 of p0000002 already belongs to another product"
    );
    assert_eq!(
        store.verify_journal().unwrap().entries_checked,
        1,
        "the refused save left no entry"
    );
}

#[test]
fn search_matches_word_prefixes_and_skips_inactive_products() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let mut events: Vec<DomainEvent> = (10..300)
        .map(|n| DomainEvent::ProductSaved(product(n)))
        .collect();
    events.push(DomainEvent::ProductSaved(milk()));
    let mut old = product(5);
    old.name = "Organic milk powder (delisted)".to_owned();
    old.active = false;
    events.push(DomainEvent::ProductSaved(old));
    store.record(&UserId::new("marc"), at(0), &events).unwrap();
    fn names_in(store: &pos_store::Store, text: &str) -> Vec<String> {
        store
            .search_products(text, 20)
            .unwrap()
            .into_iter()
            .map(|h| h.name)
            .collect()
    }
    let names = |text: &str| names_in(&store, text);
    assert_eq!(names("org whol mil"), ["Organic whole milk 1L"]);
    assert_eq!(names("MLK"), ["Organic whole milk 1L"], "SKU prefix");
    assert_eq!(
        names("mil 1l\"*)"),
        ["Organic whole milk 1L"],
        "FTS syntax typed by mistake is ignored"
    );
    assert!(names("").is_empty());
    let chocolate = names("choc");
    assert!(!chocolate.is_empty() && chocolate.len() <= 20);
    assert!(chocolate.iter().all(|n| n.contains("Chocolate")));
    // Renaming updates the index.
    let mut renamed = milk();
    renamed.name = "Organic oat drink 1L".to_owned();
    store
        .record(
            &UserId::new("marc"),
            at(1),
            &[DomainEvent::ProductSaved(renamed)],
        )
        .unwrap();
    assert!(names_in(&store, "org whol mil").is_empty());
    assert_eq!(names_in(&store, "oat"), ["Organic oat drink 1L"]);
}

#[test]
fn categories_page_by_name_and_variants_list_under_their_parent() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let tee = Product {
        category: Some(CategoryId::new("fashion")),
        ..product(900)
    };
    let variant = |size: &str, n: u64| Product {
        parent: Some(tee.id.clone()),
        variant: vec![VariantAttribute::new("size", size)],
        category: Some(CategoryId::new("fashion")),
        ..product(n)
    };
    let events = [
        DomainEvent::ProductSaved(tee.clone()),
        DomainEvent::ProductSaved(variant("S", 901)),
        DomainEvent::ProductSaved(variant("M", 902)),
        DomainEvent::ProductSaved(variant("L", 903)),
    ];
    store.record(&UserId::new("marc"), at(0), &events).unwrap();
    let sizes: Vec<String> = store
        .variants_of(&tee.id)
        .unwrap()
        .iter()
        .map(|p| p.variant[0].value.clone())
        .collect();
    assert_eq!(sizes, ["S", "M", "L"]);
    let first = store
        .products_in_category(&CategoryId::new("fashion"), "", 3)
        .unwrap();
    assert_eq!(first.len(), 3);
    let rest = store
        .products_in_category(&CategoryId::new("fashion"), &first[2].name, 3)
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert!(first.iter().all(|p| p.name <= rest[0].name));
    store
        .save_category(&CategoryId::new("fashion"), "Fashion", None)
        .unwrap();
    assert_eq!(
        store.categories().unwrap(),
        [(CategoryId::new("fashion"), "Fashion".to_owned())]
    );
}

#[test]
fn sales_are_found_by_receipt_date_and_customer() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    for n in 1..=5 {
        let (sale, movements) = sale(n);
        store.complete_sale(&sale, &movements).unwrap();
    }
    let (third, _) = sale(3);
    assert_eq!(
        store.sale_by_receipt(&third.receipt_number).unwrap(),
        Some(third.clone())
    );
    assert_eq!(
        store
            .sale_by_receipt(&ReceiptNumber::new("T1-9999999"))
            .unwrap(),
        None
    );
    let between = store.sales_between(at(2), at(4), 100).unwrap();
    assert_eq!(
        between.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["T1-sale-2", "T1-sale-3"]
    );
    assert_eq!(between[1].total, third.total);
    assert_eq!(
        store
            .sales_of_shift(&ShiftId::new("T1-shift-1"))
            .unwrap()
            .len(),
        5
    );

    // A loyalty customer's sale lands in their history with its points.
    let jo = Customer {
        id: CustomerId::new("c-jo"),
        name: "Jo".to_owned(),
        email: None,
        phone: Some("+49 30 1234".to_owned()),
        card: Some(pos_core::id::LoyaltyCard::new("LC-1")),
    };
    store
        .record(
            &UserId::new("anna"),
            at(10),
            &[DomainEvent::CustomerSaved(jo.clone())],
        )
        .unwrap();
    let mut cart = Cart::new(Currency::EUR);
    cart.add(&milk(), Quantity::pieces(2)).unwrap();
    cart.attach_customer(AttachedCustomer {
        id: jo.id.clone(),
        name: "Jo".to_owned(),
        tier: Tier::default(),
        points: 0,
    });
    let demo = pos_core::demo::store().unwrap();
    let priced = cart
        .price(&PricingContext {
            taxes: &demo.taxes,
            tax_policy: &demo.tax_policy,
            promotions: &[],
            local_time: at(11).local(time::UtcOffset::UTC),
        })
        .unwrap();
    let mut payment = Payment::new(priced.total, None);
    payment.add_cash(priced.total).unwrap();
    let context = SaleContext {
        id: SaleId::new("loyal-1"),
        receipt_number: ReceiptNumber::new("T1-L1"),
        store: demo.id.clone(),
        device: DeviceId::new("T1"),
        cashier: UserId::new("anna"),
        shift: None,
        at: at(11),
    };
    let loyal = Sale::complete(
        priced,
        payment.finish().unwrap(),
        context,
        Some(&pos_core::demo::loyalty()),
    )
    .unwrap();
    let earned = loyal.loyalty.as_ref().unwrap().points_earned;
    assert!(earned > 0);
    store.complete_sale(&loyal, &[]).unwrap();
    let history = store.customer_history(&jo.id, 10).unwrap();
    assert_eq!(
        history.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["loyal-1"]
    );
    assert_eq!(store.customer(&jo.id).unwrap(), Some((jo, earned)));
}

#[test]
fn low_stock_and_batches_expiring_soon() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let milk = milk();
    let plenty = Product {
        low_stock_threshold: Some(Quantity::pieces(2)),
        ..product(7)
    };
    let marc = UserId::new("marc");
    store
        .record(
            &marc,
            at(0),
            &[
                DomainEvent::ProductSaved(milk.clone()),
                DomainEvent::ProductSaved(plenty.clone()),
            ],
        )
        .unwrap();
    store
        .save_batch(&Batch {
            id: BatchId::new("L1"),
            product: milk.id.clone(),
            lot: "L1".to_owned(),
            expiry: Some(date!(2026 - 12 - 01)),
        })
        .unwrap();
    store
        .save_batch(&Batch {
            id: BatchId::new("L2"),
            product: milk.id.clone(),
            lot: "L2".to_owned(),
            expiry: Some(date!(2027 - 01 - 15)),
        })
        .unwrap();
    store
        .record(
            &marc,
            at(1),
            &[
                receive(&milk.id, Some("L1"), 3, 1),
                receive(&milk.id, Some("L2"), 2, 2),
                receive(&plenty.id, None, 40, 3),
            ],
        )
        .unwrap();
    let berlin = StoreId::new("berlin-mitte");
    assert_eq!(
        store.stock_level(&berlin, &milk.id).unwrap(),
        Quantity::pieces(5)
    );
    let low = store.low_stock(&berlin, 50).unwrap();
    assert_eq!(low.len(), 1);
    assert_eq!(
        (low[0].product.clone(), low[0].level, low[0].threshold),
        (milk.id.clone(), Quantity::pieces(5), Quantity::pieces(6))
    );
    let soon = store
        .expiring_batches(&berlin, date!(2026 - 12 - 31), 10)
        .unwrap();
    assert_eq!(soon.len(), 1);
    assert_eq!(
        (soon[0].batch.as_str(), soon[0].level, soon[0].expiry),
        ("L1", Quantity::pieces(3), date!(2026 - 12 - 01))
    );
    assert_eq!(
        store
            .expiring_batches(&berlin, date!(2027 - 02 - 01), 10)
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn held_carts_survive_a_restart_and_resume_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut cart = Cart::new(Currency::EUR);
    cart.add(&milk(), Quantity::pieces(3)).unwrap();
    let held = HeldCart {
        id: HeldCartId::new("h1"),
        label: "Lady in red".to_owned(),
        cart,
        held_at: at(5),
        held_by: UserId::new("anna"),
        device: DeviceId::new("T1"),
    };
    open(dir.path())
        .record(
            &UserId::new("anna"),
            at(5),
            &[DomainEvent::CartHeld(held.clone())],
        )
        .unwrap();
    let mut store = open(dir.path());
    assert_eq!(store.held_carts().unwrap(), std::slice::from_ref(&held));
    let resume = DomainEvent::CartResumed {
        id: held.id.clone(),
        device: DeviceId::new("T2"),
    };
    store
        .record(&UserId::new("ben"), at(6), std::slice::from_ref(&resume))
        .unwrap();
    assert!(store.held_carts().unwrap().is_empty());
    let error = store
        .record(&UserId::new("ben"), at(7), &[resume])
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "held cart h1 is not here: it was already resumed or never held"
    );
}

#[test]
fn a_shift_opens_moves_cash_and_closes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let anna = UserId::new("anna");
    let mut shift = Shift::open(
        ShiftId::new("T1-shift-1"),
        StoreId::new("berlin-mitte"),
        DeviceId::new("T1"),
        anna.clone(),
        eur(15_000),
        at(0),
    )
    .unwrap();
    store
        .record(&anna, at(0), &[DomainEvent::ShiftOpened(shift.clone())])
        .unwrap();
    let drop_to_safe = CashMovement {
        direction: CashDirection::Out,
        amount: eur(5_000),
        reason: "safe drop".to_owned(),
        at: at(60),
        by: anna.clone(),
    };
    store
        .record(
            &anna,
            at(60),
            &[DomainEvent::CashMoved {
                shift: shift.id.clone(),
                movement: drop_to_safe.clone(),
            }],
        )
        .unwrap();
    shift.move_cash(drop_to_safe).unwrap();
    assert_eq!(
        store.open_shift(&DeviceId::new("T1")).unwrap(),
        Some(shift.clone())
    );
    shift
        .close(
            CashCount {
                currency: Currency::EUR,
                denominations: vec![(Decimal::new(50, 0), 2)],
            },
            anna.clone(),
            at(480),
        )
        .unwrap();
    let report = pos_core::shift::report(&shift, &[], &[], &[], at(480)).unwrap();
    store
        .record(
            &anna,
            at(480),
            &[DomainEvent::ShiftClosed {
                shift: shift.clone(),
                report,
            }],
        )
        .unwrap();
    assert_eq!(store.open_shift(&DeviceId::new("T1")).unwrap(), None);
    assert_eq!(store.shift(&shift.id).unwrap(), Some(shift));
}

#[test]
fn users_roles_settings_and_prices() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let roles = pos_core::access::Role::defaults();
    let cashier = roles.iter().find(|r| r.id.as_str() == "cashier").unwrap();
    let error = store
        .save_user(&UserId::new("anna"), "Anna", &cashier.id, Some("argon2:x"))
        .unwrap_err();
    assert!(matches!(error, StoreError::Refused(_)), "{error}");
    store.save_role(cashier).unwrap();
    store
        .save_user(
            &UserId::new("anna"),
            "Anna",
            &RoleId::new("cashier"),
            Some("argon2:x"),
        )
        .unwrap();
    let actor = store.actor(&UserId::new("anna")).unwrap().unwrap();
    assert_eq!(actor.role, *cashier);
    assert!(actor.role.allows("sales.sell"));
    store.set_setting("receipt.footer", "Thank you!").unwrap();
    assert_eq!(
        store.setting("receipt.footer").unwrap().as_deref(),
        Some("Thank you!")
    );
    let rate = pos_core::tax::TaxRate {
        id: pos_core::id::TaxRateId::new("vat7"),
        name: "VAT 7%".to_owned(),
        rate: Decimal::new(7, 2),
    };
    store.save_tax_rate(&rate).unwrap();
    assert_eq!(store.tax_rates().unwrap(), [rate]);

    let milk = milk();
    store
        .record(
            &UserId::new("marc"),
            at(0),
            &[DomainEvent::ProductSaved(milk.clone())],
        )
        .unwrap();
    let change = DomainEvent::PriceChanged {
        product: milk.id.clone(),
        old: milk.price,
        new: eur(129),
        effective_at: at(1),
    };
    store
        .record(&UserId::new("marc"), at(1), &[change])
        .unwrap();
    assert_eq!(store.product(&milk.id).unwrap().unwrap().price, eur(129));
}

#[test]
fn a_refund_restocks_and_limits_what_can_still_be_returned() {
    use pos_core::access::{Actor, Features, Role};
    use pos_core::cart::{Authority, LineNo};
    use pos_core::refund::{ReasonCode, RefundContext, RefundDestination, RefundRequest};

    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let (original, movements) = sale(1);
    store.complete_sale(&original, &movements).unwrap();
    let roles = Role::defaults();
    let manager = roles.iter().find(|r| r.id.as_str() == "manager").unwrap();
    let marc = Actor::new("marc", "Marc", manager.clone());
    let features = Features::all_enabled();
    let reason = ReasonCode::defaults()
        .into_iter()
        .find(|r| r.restock)
        .unwrap();
    let refund = pos_core::refund::refund(
        &original,
        &store.refunds_of_sale(&original.id).unwrap(),
        &RefundRequest {
            lines: vec![(LineNo(1), Quantity::ONE)],
            reason,
            destination: RefundDestination::OriginalTenders,
        },
        &Authority {
            features: &features,
            actor: &marc,
            approver: None,
            at: at(30),
        },
        None,
        RefundContext {
            id: pos_core::id::RefundId::new("r1"),
            receipt_number: ReceiptNumber::new("T1-R1"),
            store: original.store.clone(),
            device: DeviceId::new("T1"),
            shift: None,
            at: at(30),
        },
    )
    .unwrap();
    let mut n = 0;
    let restock = pos_core::stock::movements_for_refund(&refund, || {
        n += 1;
        MovementId::new(format!("r1-m{n}"))
    });
    let events = pos_core::event::refund_events(&refund, &restock, None);
    store.record(&marc.user, at(30), &events).unwrap();

    let refunds = store.refunds_of_sale(&original.id).unwrap();
    assert_eq!(refunds, std::slice::from_ref(&refund));
    let left = pos_core::refund::returnable(&original, &refunds).unwrap();
    assert_eq!(left[0], (LineNo(1), Quantity::ZERO));
    let product = &original.lines[0].product.id;
    assert_eq!(
        store.stock_level(&original.store, product).unwrap(),
        Quantity::ZERO
    );
    let error = store.record(&marc.user, at(31), &events).unwrap_err();
    assert_eq!(error.to_string(), "refund r1 is already recorded");
}

#[test]
fn the_back_office_reads_whole_sales_refunds_and_z_reports_of_a_period() {
    use pos_core::access::{Actor, Features, Role};
    use pos_core::cart::{Authority, LineNo};
    use pos_core::refund::{ReasonCode, RefundContext, RefundDestination, RefundRequest};

    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let sales: Vec<Sale> = (0..3)
        .map(|n| {
            // Sale n is made at minute n (see `support::sale`); spread them ten minutes apart.
            let (mut sale, movements) = sale(n * 10);
            store.complete_sale(&sale, &movements).unwrap();
            sale = store.sale(&sale.id).unwrap().unwrap();
            sale
        })
        .collect();
    // [minute 5, minute 20): only the middle sale; the end is exclusive.
    assert_eq!(
        store.sale_records_between(at(5), at(20)).unwrap(),
        vec![sales[1].clone()]
    );
    assert_eq!(store.sale_records_between(at(0), at(21)).unwrap(), sales);
    assert!(
        store
            .sale_records_between(at(21), at(99))
            .unwrap()
            .is_empty()
    );

    let manager = Role::defaults()
        .into_iter()
        .find(|r| r.id.as_str() == "manager")
        .unwrap();
    let marc = Actor::new("marc", "Marc", manager);
    let features = Features::all_enabled();
    let refund = pos_core::refund::refund(
        &sales[0],
        &[],
        &RefundRequest {
            lines: vec![(LineNo(2), Quantity::ONE)],
            reason: ReasonCode::new("damaged", "Damaged", false),
            destination: RefundDestination::OriginalTenders,
        },
        &Authority {
            features: &features,
            actor: &marc,
            approver: None,
            at: at(40),
        },
        None,
        RefundContext {
            id: pos_core::id::RefundId::new("r1"),
            receipt_number: ReceiptNumber::new("T1-R1"),
            store: sales[0].store.clone(),
            device: DeviceId::new("T1"),
            shift: None,
            at: at(40),
        },
    )
    .unwrap();
    let events = pos_core::event::refund_events(&refund, &[], None);
    store.record(&marc.user, at(40), &events).unwrap();
    assert_eq!(store.refunds_between(at(40), at(41)).unwrap(), vec![refund]);
    assert!(store.refunds_between(at(0), at(40)).unwrap().is_empty());

    let anna = UserId::new("anna");
    let mut shift = Shift::open(
        ShiftId::new("T1-shift-9"),
        StoreId::new("berlin-mitte"),
        DeviceId::new("T1"),
        anna.clone(),
        eur(10_000),
        at(0),
    )
    .unwrap();
    store
        .record(&anna, at(0), &[DomainEvent::ShiftOpened(shift.clone())])
        .unwrap();
    // An open shift has no Z report yet, so it is not in the history.
    assert!(
        store
            .closed_shifts_between(at(0), at(999))
            .unwrap()
            .is_empty()
    );
    shift
        .close(
            CashCount {
                currency: Currency::EUR,
                denominations: vec![(Decimal::new(50, 0), 2)],
            },
            anna.clone(),
            at(60),
        )
        .unwrap();
    let report = pos_core::shift::report(&shift, &[], &[], &[], at(60)).unwrap();
    store
        .record(
            &anna,
            at(60),
            &[DomainEvent::ShiftClosed {
                shift: shift.clone(),
                report: report.clone(),
            }],
        )
        .unwrap();
    assert_eq!(
        store.closed_shifts_between(at(60), at(61)).unwrap(),
        vec![(shift, report)]
    );
    assert!(
        store
            .closed_shifts_between(at(0), at(60))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn login_tiles_pins_and_loyalty_cards() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    for role in pos_core::access::Role::defaults() {
        store.save_role(&role).unwrap();
    }
    store
        .save_user(
            &UserId::new("tom"),
            "Tom",
            &RoleId::new("cashier"),
            Some("hash-tom"),
        )
        .unwrap();
    store
        .save_user(
            &UserId::new("anna"),
            "Anna",
            &RoleId::new("cashier"),
            Some("hash-anna"),
        )
        .unwrap();
    store
        .save_user(&UserId::new("marc"), "Marc", &RoleId::new("manager"), None)
        .unwrap();
    let names: Vec<String> = store.users().unwrap().into_iter().map(|a| a.name).collect();
    assert_eq!(names, ["Anna", "Marc", "Tom"]);
    assert_eq!(
        store.pin_hash(&UserId::new("anna")).unwrap().as_deref(),
        Some("hash-anna")
    );
    assert_eq!(store.pin_hash(&UserId::new("marc")).unwrap(), None);
    assert_eq!(store.pin_hash(&UserId::new("nobody")).unwrap(), None);

    let lena = Customer {
        id: CustomerId::new("c-lena"),
        name: "Lena Vogel".to_owned(),
        email: None,
        phone: None,
        card: Some(pos_core::id::LoyaltyCard::new("9900000000017")),
    };
    store
        .record(
            &UserId::new("marc"),
            at(0),
            &[DomainEvent::CustomerSaved(lena.clone())],
        )
        .unwrap();
    assert_eq!(
        store.customer_by_card(" 9900000000017 ").unwrap(),
        Some((lena, 0))
    );
    assert_eq!(store.customer_by_card("9900000000024").unwrap(), None);
    store
        .record(
            &UserId::new("marc"),
            at(1),
            &[DomainEvent::CustomerSaved(Customer {
                card: None,
                ..lena_again()
            })],
        )
        .unwrap();
    let tail = store.journal_tail(1).unwrap();
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].seq, 2);
    assert_eq!(tail[0].kind, "customer_saved");
    assert_eq!(store.journal_tail(10).unwrap().len(), 2);
}

fn lena_again() -> Customer {
    Customer {
        id: CustomerId::new("c-lena"),
        name: "Lena Vogel".to_owned(),
        email: Some("lena@example.org".to_owned()),
        phone: None,
        card: None,
    }
}

#[test]
fn a_card_payment_is_found_by_its_approval_reference_in_any_case() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let mut receipts = Vec::new();
    for n in 0..3 {
        let (sale, movements) = sale(n);
        // A completed sale cannot be changed: the reference goes in through its JSON, which
        // the core checks again on the way back.
        let mut json = serde_json::to_value(&sale).unwrap();
        if n != 0 {
            json["payment"]["tenders"][0]["reference"] = serde_json::json!("AUTH-77");
        }
        let sale: Sale = serde_json::from_value(json).unwrap();
        store.complete_sale(&sale, &movements).unwrap();
        receipts.push(sale.receipt_number.clone());
    }
    let found: Vec<_> = store
        .sales_by_tender_reference(" auth-77", 10)
        .unwrap()
        .into_iter()
        .map(|s| s.receipt_number)
        .collect();
    assert_eq!(
        found,
        vec![receipts[2].clone(), receipts[1].clone()],
        "newest first"
    );
    assert_eq!(
        store.sales_by_tender_reference("AUTH-77", 1).unwrap().len(),
        1
    );
    assert!(
        store
            .sales_by_tender_reference("AUTH-78", 10)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn customers_are_found_by_name_card_or_phone_digits() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let customer = |id: &str, name: &str, phone: Option<&str>, card: Option<&str>| Customer {
        id: CustomerId::new(id),
        name: name.to_owned(),
        email: None,
        phone: phone.map(str::to_owned),
        card: card.map(pos_core::id::LoyaltyCard::new),
    };
    let people = [
        customer(
            "c-lena",
            "Lena Vogel",
            Some("0170-555 0101"),
            Some("9900000000017"),
        ),
        customer(
            "c-jonas",
            "Jonas Weber",
            Some("(0151) 5550202"),
            Some("9900000000024"),
        ),
        customer("c-ana", "Ana 100% Organic_Shop", None, None),
    ];
    let events: Vec<DomainEvent> = people
        .iter()
        .cloned()
        .map(DomainEvent::CustomerSaved)
        .collect();
    store.record(&UserId::new("marc"), at(0), &events).unwrap();
    let names = |text: &str| -> Vec<String> {
        store
            .search_customers(text, 10)
            .unwrap()
            .into_iter()
            .map(|(c, _)| c.name)
            .collect()
    };
    assert_eq!(names("vog"), ["Lena Vogel"]);
    assert_eq!(names("WEBER"), ["Jonas Weber"]);
    assert_eq!(
        names("0170 5550"),
        ["Lena Vogel"],
        "phone digits, any punctuation"
    );
    assert_eq!(names("01515550202"), ["Jonas Weber"]);
    assert_eq!(names("000000002"), ["Jonas Weber"], "part of a card number");
    assert_eq!(
        names("a"),
        ["Ana 100% Organic_Shop", "Jonas Weber", "Lena Vogel"]
    );
    assert_eq!(
        names("100%"),
        ["Ana 100% Organic_Shop"],
        "% is a character, not a wildcard"
    );
    assert_eq!(names("c_S"), ["Ana 100% Organic_Shop"]);
    assert!(names("x_y").is_empty());
    assert!(names("  ").is_empty());
    assert!(names("nobody").is_empty());
    assert_eq!(store.search_customers("a", 1).unwrap().len(), 1);
}

#[test]
fn staff_roles_pins_and_the_loyalty_program_come_from_journalled_events() {
    use pos_core::access::{Role, User};
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let admin = UserId::new("olga");
    let kim = User {
        id: UserId::new("kim"),
        name: "Kim".to_owned(),
        role: RoleId::new("clerk"),
        active: true,
    };
    // A user whose role is not there is refused, and nothing of the batch stays.
    let orphan = store.record(&admin, at(0), &[DomainEvent::UserSaved(kim.clone())]);
    assert!(matches!(orphan, Err(StoreError::Refused(_))), "{orphan:?}");
    assert!(store.staff().unwrap().is_empty());

    let clerk = Role::new("clerk", "Stock clerk", &["inventory.*"]);
    store
        .record(
            &admin,
            at(0),
            &[
                DomainEvent::RoleSaved(clerk.clone()),
                DomainEvent::UserSaved(kim.clone()),
                DomainEvent::PinReset {
                    user: kim.id.clone(),
                    pin_hash: "hash-1".to_owned(),
                },
                DomainEvent::LoyaltyProgramSaved(pos_core::demo::loyalty()),
            ],
        )
        .unwrap();
    assert_eq!(store.roles().unwrap(), [clerk]);
    assert_eq!(store.staff().unwrap(), std::slice::from_ref(&kim));
    assert_eq!(store.pin_hash(&kim.id).unwrap().as_deref(), Some("hash-1"));
    assert_eq!(
        store.loyalty_program().unwrap(),
        Some(pos_core::demo::loyalty())
    );
    assert_eq!(
        store.actor(&kim.id).unwrap().unwrap().role.name,
        "Stock clerk"
    );

    // Retired: off the login tiles, PIN gone, still on the staff list; no PIN can be set.
    let retired = User {
        active: false,
        ..kim.clone()
    };
    store
        .record(&admin, at(1), &[DomainEvent::UserSaved(retired.clone())])
        .unwrap();
    assert_eq!(store.staff().unwrap(), [retired]);
    assert!(store.users().unwrap().is_empty());
    assert_eq!(store.pin_hash(&kim.id).unwrap(), None);
    let reset = store.record(
        &admin,
        at(2),
        &[DomainEvent::PinReset {
            user: kim.id.clone(),
            pin_hash: "hash-2".to_owned(),
        }],
    );
    assert!(matches!(reset, Err(StoreError::Refused(_))), "{reset:?}");
    assert!(store.verify_journal().unwrap().is_intact());
}
