//! The worked examples of the core's scenario tests, as receipt documents: the same shop,
//! carts and payments, so the printed receipts match the core's text snapshots.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../../../app/pos-core/tests/common/mod.rs"]
mod till;

use pos_core::cart::{AttachedCustomer, DiscountKind};
use pos_core::id::{CustomerId, ProductId, ShiftId, UserId};
use pos_core::loyalty::Tier;
use pos_core::quantity::{Quantity, Unit};
use pos_core::receipt::{self, Document, ReceiptStyle};
use pos_core::refund::{self, ReasonCode, RefundDestination, RefundRequest};
use pos_core::shift::{self, CashCount, CashDirection, CashMovement, Shift};
use pos_core::tender::TenderKind;
use rust_decimal_macros::dec;
use till::{Till, eur};

/// A receipt and the name its snapshots go by.
pub struct Example {
    pub name: &'static str,
    pub document: Document,
    /// The core's plain text at 42 columns, as its own snapshot has it.
    pub text_42: String,
}

fn sale_example(name: &'static str, till: &Till, sale: &pos_core::sale::Sale) -> Example {
    Example {
        name,
        document: receipt::sale_document(&till.store, sale, ReceiptStyle::Normal),
        text_42: till.receipt(sale),
    }
}

pub fn examples() -> Vec<Example> {
    let mut out = Vec::new();

    // Supermarket basket: milk ×3, butter, weighed apples and bananas, colas 3 for 2, bread.
    let mut till = Till::new();
    let mut cart = till.cart();
    for code in [
        "4006381333931",
        "4006381333931",
        "4006381333931",
        "4008452011231",
    ] {
        cart.add_by_code(&till.catalog, code, Quantity::ONE)
            .unwrap();
    }
    let apples = till.catalog.get(&ProductId::new("apples")).unwrap().clone();
    cart.add(&apples, Quantity::parse("1.235", Unit::Kilogram).unwrap())
        .unwrap();
    let bananas = till
        .catalog
        .get(&ProductId::new("bananas"))
        .unwrap()
        .clone();
    cart.add(&bananas, Quantity::parse("0.85", Unit::Kilogram).unwrap())
        .unwrap();
    for _ in 0..3 {
        cart.add_by_code(&till.catalog, "5449000000996", Quantity::ONE)
            .unwrap();
    }
    cart.add_by_code(&till.catalog, "SKU-bread", Quantity::ONE)
        .unwrap();
    let sale = till.sell(&cart, |payment| {
        payment.add_cash(eur("30.00")).unwrap();
    });
    out.push(sale_example("supermarket", &till, &sale));
    out.push(Example {
        name: "supermarket-gift",
        document: receipt::sale_document(&till.store, &sale, ReceiptStyle::Gift),
        text_42: receipt::sale(&till.store, &sale, ReceiptStyle::Gift, 42),
    });

    // Boutique: two tees, a loyalty customer paying partly with points.
    let mut till = Till::new();
    let mut cart = till.cart();
    for id in ["tee-m-navy", "tee-l-sand"] {
        let tee = till.catalog.get(&ProductId::new(id)).unwrap().clone();
        cart.add(&tee, Quantity::ONE).unwrap();
    }
    cart.attach_customer(AttachedCustomer {
        id: CustomerId::new("c-42"),
        name: "Lena Fischer".to_owned(),
        tier: Tier::Silver,
        points: 1_200,
    });
    let program = till.loyalty.clone();
    let sale = till.sell(&cart, |payment| {
        let value = program.redeem(500, 1_200).unwrap();
        payment.add_points(500, value).unwrap();
        let rest = payment.remaining();
        payment
            .add_electronic(TenderKind::Card, rest, Some("AUTH 4411".to_owned()))
            .unwrap();
    });
    out.push(sale_example("boutique", &till, &sale));

    // Refund of one unit of a discounted line.
    let mut till = Till::new();
    let mut cart = till.cart();
    let coffee = till.catalog.get(&ProductId::new("coffee")).unwrap().clone();
    let line = cart.add(&coffee, Quantity::pieces(3)).unwrap();
    let policy = till.store.discounts;
    cart.set_line_discount(
        line,
        Some((DiscountKind::Percent(dec!(15)), Some("Damaged box".into()))),
        &policy,
        &till.approved_by_manager(),
    )
    .unwrap();
    cart.add_by_code(&till.catalog, "4000417025005", Quantity::ONE)
        .unwrap();
    let sale = till.sell(&cart, |payment| {
        let due = payment.remaining();
        payment
            .add_electronic(TenderKind::Card, due, Some("AUTH 1234".into()))
            .unwrap();
    });
    let context = till.refund_context();
    let refund = refund::refund(
        &sale,
        &[],
        &RefundRequest {
            lines: vec![(line, Quantity::ONE)],
            reason: ReasonCode::new("changed_mind", "Changed mind", true),
            destination: RefundDestination::OriginalTenders,
        },
        &till.manager_authority(),
        None,
        context,
    )
    .unwrap();
    out.push(Example {
        name: "refund",
        document: receipt::refund_document(&till.store, &refund),
        text_42: receipt::refund(&till.store, &refund, 42),
    });

    // Shift close with a cash discrepancy: the Z report.
    let mut till = Till::new();
    let shift_id = ShiftId::new("shift-1");
    till.shift = Some(shift_id.clone());
    let mut shift = Shift::open(
        shift_id,
        till.store.id.clone(),
        pos_core::id::DeviceId::new("T1"),
        UserId::new("anna"),
        eur("150.00"),
        till.now,
    )
    .unwrap();
    let mut sales = Vec::new();
    let mut cart = till.cart();
    cart.add_by_code(&till.catalog, "4006581020013", Quantity::ONE)
        .unwrap();
    sales.push(till.sell(&cart, |p| {
        p.add_cash(eur("20.00")).unwrap();
    }));
    let mut cart = till.cart();
    cart.add_by_code(&till.catalog, "5000394023031", Quantity::pieces(2))
        .unwrap();
    sales.push(till.sell(&cart, |p| {
        let due = p.remaining();
        p.add_electronic(TenderKind::Card, due, None).unwrap();
    }));
    let context = till.refund_context();
    let refunds = vec![
        refund::refund(
            &sales[0],
            &[],
            &RefundRequest {
                lines: vec![(sales[0].lines[0].line_no, Quantity::ONE)],
                reason: ReasonCode::new("defective", "Defective", false),
                destination: RefundDestination::OriginalTenders,
            },
            &till.manager_authority(),
            None,
            context,
        )
        .unwrap(),
    ];
    shift
        .move_cash(CashMovement {
            direction: CashDirection::Out,
            amount: eur("50.00"),
            reason: "Bank drop".into(),
            at: till.now,
            by: UserId::new("marc"),
        })
        .unwrap();
    let count = CashCount {
        currency: till.store.currency,
        denominations: vec![
            (dec!(50), 1),
            (dec!(20), 2),
            (dec!(5), 1),
            (dec!(2), 1),
            (dec!(0.5), 1),
            (dec!(0.1), 1),
            (dec!(0.05), 1),
        ],
    };
    shift.close(count, UserId::new("marc"), till.now).unwrap();
    let z = shift::report(&shift, &sales, &refunds, &[], till.now).unwrap();
    out.push(Example {
        name: "z-report",
        document: receipt::shift_report_document(&till.store, &z),
        text_42: receipt::shift_report(&till.store, &z, 42),
    });

    // A café in Kraków with a euro price list: letters the code page has (é, ü), letters it
    // lacks (ł, ż), and the euro sign.
    let mut till = Till::new();
    till.store.name = "Kawiarnia Łąka".to_owned();
    till.store.address = vec!["ul. Świętej Żywii 5".to_owned(), "Kraków".to_owned()];
    till.store.receipt.footer = vec!["Dziękujemy! Merci, à bientôt. €".to_owned()];
    let mut cart = till.cart();
    cart.add_by_code(&till.catalog, "4006381333931", Quantity::ONE)
        .unwrap();
    let sale = till.sell(&cart, |payment| {
        payment.add_cash(eur("5.00")).unwrap();
    });
    out.push(sale_example("accents", &till, &sale));
    out
}
