//! The core's worked examples as receipt documents: the same shop, carts and payments as its
//! scenario tests (`app/pos-core/tests/common/worked.rs`), so the printed receipts match the
//! core's text snapshots.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../../../app/pos-core/tests/common/mod.rs"]
mod till;

use pos_core::quantity::Quantity;
use pos_core::receipt::{self, Document, ReceiptStyle};
use till::{Till, eur, worked};

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

    let mut till = Till::new();
    let (_, sale) = worked::supermarket_basket(&mut till);
    out.push(sale_example("supermarket", &till, &sale));
    out.push(Example {
        name: "supermarket-gift",
        document: receipt::sale_document(&till.store, &sale, ReceiptStyle::Gift),
        text_42: receipt::sale(&till.store, &sale, ReceiptStyle::Gift, 42),
    });

    let mut till = Till::new();
    let sale = worked::boutique_with_points(&mut till);
    out.push(sale_example("boutique", &till, &sale));

    let mut till = Till::new();
    let (_, refund) = worked::refund_of_a_discounted_line(&mut till);
    out.push(Example {
        name: "refund",
        document: receipt::refund_document(&till.store, &refund),
        text_42: receipt::refund(&till.store, &refund, 42),
    });

    let mut till = Till::new();
    let (_, z) = worked::shift_with_a_discrepancy(&mut till);
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
