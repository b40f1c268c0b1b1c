//! Refunds, exchanges and returns without a receipt as a cashier lives them, intent by intent,
//! checked through what the screen shows and what the ledger recorded.
//!
//! A simple refund is four actions: scan the receipt's barcode (the refund screen opens on
//! its sale, and a one-line sale has its line chosen already), tap the line (only when the
//! receipt has several), tap the reason, tap Refund. See `a_simple_refund_is_four_actions`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pos_core::clock::Timestamp;
use pos_core::event::DomainEvent;
use pos_core::id::{ReceiptNumber, StoreId, UserId};
use pos_core::refund::RefundDestination;
use pos_core::tender::TenderKind;
use pos_till::memory::{CountingIds, MemoryCatalogue, MemoryLedger, MemoryStaff};
use pos_till::port::Ledger;
use pos_till::refunding::{RefundStep, RefundView};
use pos_till::{
    Intent, Screen, ShiftIntent, TenderChoice, Till, TillError, TillErrorKind, TillPorts,
    TillSetup, Tone,
};

/// Monday 2026-03-02 10:00 UTC, the shop's time too.
const MONDAY_10AM: i64 = 1_772_445_600_000;
const MILK: &str = "4006381333931";
const COFFEE: &str = "4006581020013";
const BUTTER: &str = "4008452011236";
const BATTERIES: &str = "5000394023031";
const TEE_M_NAVY: &str = "4260000000035";
const TEE_L_NAVY: &str = "4260000000059";
const LENA_CARD: &str = "9900000000017";

struct Day {
    till: Till,
    now: Timestamp,
}

impl Day {
    fn new() -> Day {
        let now = Timestamp::from_unix_ms(MONDAY_10AM);
        Day {
            till: pos_till::demo_till(now).unwrap(),
            now,
        }
    }

    fn ok(&mut self, intent: Intent) {
        let result = self.till.handle(intent.clone(), self.now);
        assert!(
            result.is_ok(),
            "{intent:?} was refused: {result:?} ({})",
            self.message()
        );
    }

    fn refused(&mut self, intent: Intent) -> TillError {
        let error = self.till.handle(intent, self.now).unwrap_err();
        let shown = self.till.view().message.unwrap();
        assert_eq!(shown.tone, Tone::Problem);
        error
    }

    /// Logs in; the first login of the day opens the shift with a 100.00 float.
    fn login(&mut self, user: &str, pin: &str) {
        self.ok(Intent::Login {
            user: UserId::new(user),
            pin: pin.to_owned(),
        });
        if self.till.view().screen == Screen::ShiftOpen {
            self.ok(Intent::Shift(ShiftIntent::Open {
                total: "100.00".to_owned(),
            }));
        }
    }

    fn switch_to(&mut self, user: &str, pin: &str) {
        self.ok(Intent::SwitchCashier);
        self.login(user, pin);
    }

    fn scan(&mut self, code: &str) {
        self.ok(Intent::Scan(code.to_owned()));
    }

    /// Rings up `codes` and pays: by card with `reference`, or in cash when it is empty.
    /// Returns the receipt number.
    fn sell(&mut self, codes: &[&str], reference: &str) -> String {
        for code in codes {
            self.scan(code);
        }
        self.ok(Intent::StartPayment);
        let kind = if reference.is_empty() {
            TenderChoice::Cash
        } else {
            TenderChoice::Card
        };
        self.ok(Intent::AddTender {
            kind,
            amount: String::new(),
            reference: reference.to_owned(),
        });
        let receipt = self.till.view().payment.unwrap().receipt_number.unwrap();
        self.ok(Intent::NextCustomer);
        receipt
    }

    fn refund(&self) -> RefundView {
        self.till.view().refund.expect("the refund screen is open")
    }

    fn message(&self) -> String {
        self.till.view().message.map(|m| m.text).unwrap_or_default()
    }

    fn recorded_since(&self, skip: usize) -> Vec<&'static str> {
        self.till
            .ledger()
            .journal_tail(usize::MAX)
            .iter()
            .skip(skip)
            .map(|e| e.event.kind())
            .collect()
    }

    fn journal_len(&self) -> usize {
        self.till.ledger().journal_tail(usize::MAX).len()
    }

    fn reason(&mut self, code: &str) {
        self.ok(Intent::ReturnReason(code.to_owned()));
    }
}

#[test]
fn a_simple_refund_is_four_actions() {
    let mut day = Day::new();
    day.login("sara", "5555");
    let receipt = day.sell(&[COFFEE], "AUTH-7");
    let before = day.journal_len();

    // 1. The receipt's barcode, scanned on the checkout.
    day.scan(&receipt);
    let view = day.till.view();
    assert_eq!(view.screen, Screen::Refund);
    let refund = view.refund.unwrap();
    assert_eq!(refund.step, RefundStep::Lines);
    assert_eq!(refund.lines.len(), 1);
    assert_eq!(
        refund.lines[0].chosen, "1",
        "the only line is chosen at once"
    );
    assert_eq!(refund.total, "14.99");
    assert!(!refund.ready, "a reason is still missing");
    // 2. (the line: already chosen) 3. The reason.
    day.reason("changed_mind");
    let refund = day.refund();
    assert!(refund.ready);
    assert_eq!(refund.tenders[0].kind, "Card");
    assert_eq!(refund.tenders[0].reference, "AUTH-7");
    // 4. Refund.
    day.ok(Intent::ConfirmRefund);
    let refund = day.refund();
    assert_eq!(refund.step, RefundStep::Done);
    assert_eq!(refund.receipt_number.as_deref(), Some("T1-00009"));
    assert_eq!(day.message(), "Refund T1-00009 made: 14.99 back to Card");
    // What is done stays as it was made.
    let line = refund.lines[0].line_no;
    assert_eq!(day.refused(Intent::ToggleReturn(line)), TillError::NotHere);
    assert_eq!(day.refund().lines[0].chosen, "1");
    assert_eq!(
        day.recorded_since(before),
        vec!["refund_issued", "stock_moved"],
        "a card refund opens no drawer; the coffee goes back on the shelf"
    );

    // The next scan is the next customer's first item.
    day.scan(MILK);
    let view = day.till.view();
    assert_eq!(view.screen, Screen::Checkout);
    assert_eq!(view.cart.total, "1.19");
    assert!(view.refund.is_none());
}

#[test]
fn find_the_sale_by_number_date_customer_or_card_reference() {
    let mut day = Day::new();
    day.login("sara", "5555");
    let coffee = day.sell(&[COFFEE], "AUTH-4711");
    day.scan(LENA_CARD);
    let lena = day.sell(&[MILK], "");

    day.ok(Intent::StartRefund);
    let found: Vec<String> = day
        .refund()
        .found
        .iter()
        .map(|s| s.receipt_number.to_string())
        .collect();
    assert_eq!(
        found,
        vec![lena.clone(), coffee.clone()],
        "today's, newest first"
    );
    assert_eq!(day.refund().found[1].when, "2026-03-02 10:00");
    assert_eq!(day.refund().found[1].total, "14.99");
    assert_eq!(day.refund().found[1].cashier, "Sara");

    day.ok(Intent::FindSale("02.03.2026".to_owned()));
    assert_eq!(day.refund().found.len(), 2);
    assert_eq!(day.message(), "2 sales on 2026-03-02; tap one to open");
    day.ok(Intent::FindSale("2026-03-01".to_owned()));
    assert!(day.refund().found.is_empty());
    assert_eq!(day.message(), "No sales on 2026-03-01");

    day.ok(Intent::FindSale(LENA_CARD.to_owned()));
    assert_eq!(day.refund().found.len(), 1);
    assert_eq!(day.refund().found[0].receipt_number.to_string(), lena);
    assert_eq!(day.message(), "1 sale for Lena Vogel; tap it to open");

    day.ok(Intent::FindSale("auth-4711".to_owned()));
    assert_eq!(day.refund().found[0].receipt_number.to_string(), coffee);

    // A number nothing was sold under, and a word that finds nothing, say what to try.
    let unknown = day.refused(Intent::FindSale("T1-99999".to_owned()));
    assert_eq!(unknown, TillError::UnknownReceipt("T1-99999".to_owned()));
    assert_eq!(
        day.message(),
        "No sale has the receipt number T1-99999; check the number, or find the sale by date, customer or card"
    );
    assert!(matches!(
        day.refused(Intent::FindSale("red coat".to_owned())),
        TillError::NoSaleFound(_)
    ));

    day.ok(Intent::OpenSale(ReceiptNumber::new(&coffee)));
    let refund = day.refund();
    assert_eq!(refund.step, RefundStep::Lines);
    let sale = refund.sale.unwrap();
    assert_eq!(sale.receipt_number, coffee);
    assert_eq!(sale.paid_with[0].reference, "AUTH-4711");
    // Back goes to the list, then to the checkout.
    day.ok(Intent::Back);
    assert_eq!(day.refund().step, RefundStep::Find);
    assert_eq!(day.refund().found.len(), 1, "the last search is kept");
    day.ok(Intent::Back);
    assert_eq!(day.till.view().screen, Screen::Checkout);
}

#[test]
fn a_partial_refund_then_the_rest_adds_up_to_what_was_paid() {
    let mut day = Day::new();
    day.login("sara", "5555");
    // Three butters and a milk: 10% off four dairy items, butters 7.47 − 0.75 = 6.72, paid
    // in cash.
    let receipt = day.sell(&[BUTTER, BUTTER, BUTTER, MILK], "");
    day.ok(Intent::StartRefund);
    day.ok(Intent::FindSale(receipt.clone()));
    let refund = day.refund();
    assert!(refund.lines.iter().all(|l| l.chosen.is_empty()));
    let butter = refund.lines[0].clone();
    assert_eq!(butter.name, "Butter 250 g");
    assert_eq!(butter.paid, "6.72");
    assert_eq!(butter.full_price, "7.47");

    // One butter comes back: its share of what was paid.
    day.ok(Intent::ReturnQuantity {
        line: butter.line_no,
        quantity: "1".to_owned(),
    });
    day.reason("damaged");
    assert_eq!(day.refund().lines[0].refund, "2.24");
    assert_eq!(day.refund().total, "2.24");
    let before = day.journal_len();
    day.ok(Intent::ConfirmRefund);
    assert_eq!(
        day.recorded_since(before),
        vec!["refund_issued", "drawer_opened"],
        "damaged goods do not go back on the shelf; cash opens the drawer"
    );
    assert!(day.message().ends_with("give 2.24 back in cash"));

    // The receipt again: two are left, and no more than two can come back.
    day.ok(Intent::Back);
    day.ok(Intent::StartRefund);
    day.ok(Intent::FindSale(receipt.clone()));
    let butter = day.refund().lines[0].clone();
    assert_eq!(butter.returnable, "2");
    let error = day.refused(Intent::ReturnQuantity {
        line: butter.line_no,
        quantity: "3".to_owned(),
    });
    assert_eq!(
        error,
        TillError::MoreThanReturnable {
            name: "Butter 250 g".to_owned(),
            returnable: "2".to_owned()
        }
    );
    assert_eq!(
        day.message(),
        "Only 2 of Butter 250 g can still be returned"
    );
    // A tap takes all that is left, the milk too; the reason puts them back on the shelf.
    day.ok(Intent::ToggleReturn(butter.line_no));
    day.ok(Intent::ToggleReturn(day.refund().lines[1].line_no));
    day.reason("changed_mind");
    assert_eq!(
        day.refund().lines[0].refund,
        "4.48",
        "6.72 − 2.24 to the cent"
    );
    // The milk had its share of the dairy discount too: 1.19 − 0.12.
    assert_eq!(day.refund().lines[1].paid, "1.07");
    assert_eq!(day.refund().total, "5.55", "2.24 + 5.55 is the 7.79 paid");
    let before = day.journal_len();
    day.ok(Intent::ConfirmRefund);
    let events = day.till.ledger().journal_tail(usize::MAX);
    let restocked: Vec<String> = events[before..]
        .iter()
        .filter_map(|e| match &e.event {
            DomainEvent::StockMoved(m) => Some(format!("{} {}", m.product, m.quantity)),
            _ => None,
        })
        .collect();
    assert_eq!(restocked, vec!["butter 2", "milk 1"]);

    // Everything is back now.
    day.ok(Intent::Back);
    day.ok(Intent::StartRefund);
    let error = day.refused(Intent::FindSale(receipt.clone()));
    assert_eq!(error, TillError::FullyRefunded(receipt.clone()));
    assert_eq!(
        day.message(),
        format!("Everything on receipt {receipt} has already been returned")
    );
}

#[test]
fn a_discounted_line_refunds_what_was_paid_for_it() {
    let mut day = Day::new();
    day.login("sara", "5555");
    day.scan(BUTTER);
    let line = day.till.view().cart.lines[0].line_no;
    day.ok(Intent::LineDiscount {
        line,
        percent: "20".to_owned(),
    });
    assert_eq!(day.till.view().cart.total, "1.99");
    day.ok(Intent::StartPayment);
    day.ok(Intent::AddTender {
        kind: TenderChoice::Card,
        amount: String::new(),
        reference: "AUTH-9".to_owned(),
    });
    let receipt = day.till.view().payment.unwrap().receipt_number.unwrap();
    day.ok(Intent::NextCustomer);

    day.scan(&receipt);
    let line = day.refund().lines[0].clone();
    assert_eq!(line.full_price, "2.49");
    assert_eq!(line.paid, "1.99");
    assert_eq!(line.discounts, vec!["Discount 20% −0.50"]);
    assert_eq!(line.refund, "1.99");
    day.reason("defective");
    day.ok(Intent::ConfirmRefund);
    let refunded = day
        .till
        .ledger()
        .journal_tail(usize::MAX)
        .into_iter()
        .find_map(|e| match e.event {
            DomainEvent::RefundIssued(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(refunded.total.display_amount(), "1.99");
    assert_eq!(refunded.tenders[0].kind, TenderKind::Card);
    assert_eq!(refunded.tenders[0].applied.display_amount(), "1.99");
}

#[test]
fn a_cashier_refund_waits_for_a_manager() {
    let mut day = Day::new();
    day.login("anna", "1234");
    let receipt = day.sell(&[COFFEE], "AUTH-1");
    day.scan(&receipt);
    day.reason("wrong_size");
    let before = day.journal_len();

    let error = day.refused(Intent::ConfirmRefund);
    assert_eq!(error.kind(), TillErrorKind::Approval);
    assert_eq!(
        day.message(),
        "Anna is not allowed to do this (sales.refund); a manager can approve it"
    );
    assert_eq!(
        day.till.view().approval.unwrap().what,
        format!("A refund of 14.99 for receipt {receipt}")
    );
    assert_eq!(day.journal_len(), before, "nothing recorded yet");

    // Another cashier cannot approve; the manager can.
    let peer = day.refused(Intent::Approve {
        manager: UserId::new("tom"),
        pin: "2468".to_owned(),
    });
    assert_eq!(
        peer,
        TillError::NotAnApprover {
            name: "Tom".to_owned()
        }
    );
    day.ok(Intent::Approve {
        manager: UserId::new("marc"),
        pin: "9999".to_owned(),
    });
    assert!(day.till.view().approval.is_none());
    assert_eq!(day.refund().step, RefundStep::Done);
    assert!(
        day.message().starts_with("Approved by Marc. Refund T1-"),
        "{}",
        day.message()
    );
    assert_eq!(
        day.recorded_since(before),
        vec!["refund_issued", "override_approved", "stock_moved"]
    );
    let refund = day
        .till
        .ledger()
        .journal_tail(3)
        .into_iter()
        .find_map(|e| match e.event {
            DomainEvent::RefundIssued(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(refund.cashier.as_str(), "anna");
    assert_eq!(refund.approval.unwrap().approved_by.as_str(), "marc");
}

#[test]
fn cash_back_for_a_card_sale_needs_its_own_permission() {
    let mut day = Day::new();
    day.login("anna", "1234");
    let receipt = day.sell(&[COFFEE], "AUTH-1");
    day.scan(&receipt);
    day.reason("changed_mind");
    day.ok(Intent::RefundTo(RefundDestination::Cash));
    assert_eq!(day.refund().tenders[0].kind, "Cash");
    day.refused(Intent::ConfirmRefund);
    assert_eq!(
        day.till.view().approval.unwrap().what,
        format!("A refund of 14.99 in cash for receipt {receipt}")
    );
    day.ok(Intent::Approve {
        manager: UserId::new("sara"),
        pin: "5555".to_owned(),
    });
    assert!(day.message().ends_with("give 14.99 back in cash"));
    assert_eq!(
        day.recorded_since(day.journal_len() - 4),
        vec![
            "refund_issued",
            "override_approved",
            "stock_moved",
            "drawer_opened"
        ]
    );
}

#[test]
fn an_exchange_pays_the_difference() {
    let mut day = Day::new();
    day.login("sara", "5555");
    let receipt = day.sell(&[TEE_M_NAVY], "AUTH-2");
    let before = day.journal_len();

    // The tee is too small: it comes back for a large one, which costs 2.00 more.
    day.scan(&receipt);
    day.reason("wrong_size");
    day.ok(Intent::StartExchange);
    let view = day.till.view();
    assert_eq!(view.screen, Screen::Checkout);
    let exchange = view.exchange.unwrap();
    assert_eq!(exchange.credit, "24.90");
    assert_eq!(exchange.receipt_number, receipt);
    assert_eq!(
        day.message(),
        format!("Exchange: 24.90 credit from receipt {receipt}. Scan the new items, then pay")
    );
    // Nothing else can start until the exchange is paid or cancelled.
    assert_eq!(day.refused(Intent::Lock), TillError::ExchangeOpen);

    day.scan(TEE_L_NAVY);
    day.ok(Intent::StartPayment);
    let payment = day.till.view().payment.unwrap();
    assert_eq!(payment.total, "26.90");
    assert_eq!(payment.tenders[0].kind, "Store credit");
    assert_eq!(payment.tenders[0].amount, "24.90");
    assert_eq!(payment.due, "2.00");
    // The credit cannot be taken off, and going back keeps the exchange.
    assert_eq!(
        day.refused(Intent::RemoveTender(0)),
        TillError::ExchangeOpen
    );
    day.ok(Intent::Back);
    assert!(day.till.view().exchange.is_some());
    day.ok(Intent::StartPayment);
    day.ok(Intent::AddTender {
        kind: TenderChoice::Cash,
        amount: "5".to_owned(),
        reference: String::new(),
    });
    let done = day.till.view().payment.unwrap();
    assert_eq!(done.change, "3.00");
    assert!(day.till.view().exchange.is_none());
    assert_eq!(
        day.recorded_since(before),
        vec![
            "refund_issued",
            "stock_moved",
            "sale_completed",
            "stock_moved",
            "drawer_opened"
        ],
        "one record: the returned tee back on the shelf, the new one sold, one drawer opening"
    );
    let events = day.till.ledger().journal_tail(5);
    let (DomainEvent::RefundIssued(refund), DomainEvent::SaleCompleted(sale)) =
        (&events[0].event, &events[2].event)
    else {
        panic!("refund then sale");
    };
    assert_eq!(refund.total.display_amount(), "24.90");
    assert_eq!(refund.tenders.len(), 1);
    assert_eq!(refund.tenders[0].kind, TenderKind::StoreCredit);
    assert_eq!(
        sale.payment.tenders[0].reference.as_deref(),
        Some(format!("exchange {}", refund.receipt_number).as_str()),
        "the credit on the sale names the refund"
    );
}

#[test]
fn an_exchange_for_less_gives_the_rest_back_to_the_card() {
    let mut day = Day::new();
    day.login("sara", "5555");
    let receipt = day.sell(&[TEE_L_NAVY], "AUTH-3");
    day.scan(&receipt);
    day.reason("wrong_size");
    day.ok(Intent::StartExchange);
    day.scan(TEE_M_NAVY);
    // 24.90 of the 26.90 credit pays the new tee: it is paid at once, 2.00 go back to the card.
    day.ok(Intent::StartPayment);
    let done = day.till.view().payment.unwrap();
    assert!(done.receipt_number.is_some());
    assert_eq!(done.due, "0.00");
    assert!(
        day.message().ends_with(": 2.00 back to Card"),
        "{}",
        day.message()
    );
    let refund = day
        .till
        .ledger()
        .journal_tail(usize::MAX)
        .into_iter()
        .find_map(|e| match e.event {
            DomainEvent::RefundIssued(r) => Some(r),
            _ => None,
        })
        .unwrap();
    let back: Vec<(TenderKind, String)> = refund
        .tenders
        .iter()
        .map(|t| (t.kind, t.applied.display_amount()))
        .collect();
    assert_eq!(
        back,
        vec![
            (TenderKind::StoreCredit, "24.90".to_owned()),
            (TenderKind::Card, "2.00".to_owned())
        ]
    );
}

#[test]
fn an_exchange_can_be_cancelled_before_it_is_paid() {
    let mut day = Day::new();
    day.login("sara", "5555");
    let receipt = day.sell(&[TEE_M_NAVY], "AUTH-2");
    let before = day.journal_len();
    day.scan(&receipt);
    day.reason("wrong_size");
    day.ok(Intent::StartExchange);
    day.scan(TEE_L_NAVY);
    day.ok(Intent::CancelExchange);
    assert_eq!(day.message(), "Exchange cancelled; nothing was refunded");
    assert!(day.till.view().exchange.is_none());
    assert_eq!(day.till.view().cart.total, "26.90", "the new item stays");
    assert_eq!(day.journal_len(), before);
}

#[test]
fn a_return_without_receipt_needs_its_permission() {
    let mut day = Day::new();
    day.login("anna", "1234");
    day.ok(Intent::StartRefund);
    day.ok(Intent::NoReceiptReturn);
    assert_eq!(day.refund().step, RefundStep::NoReceipt);
    assert_eq!(
        day.refund().destinations,
        vec![RefundDestination::Cash, RefundDestination::StoreCredit]
    );
    day.scan(BATTERIES);
    day.scan(BATTERIES);
    day.reason("changed_mind");
    let refund = day.refund();
    assert_eq!(refund.lines[0].chosen, "2");
    assert_eq!(refund.total, "11.98");
    let before = day.journal_len();

    let error = day.refused(Intent::ConfirmRefund);
    assert_eq!(error.kind(), TillErrorKind::Approval);
    assert_eq!(
        day.message(),
        "Anna is not allowed to do this (sales.refund.no_receipt); a manager can approve it"
    );
    assert_eq!(
        day.till.view().approval.unwrap().what,
        "A return without a receipt: 11.98 in cash"
    );
    day.ok(Intent::Back);
    assert!(day.till.view().approval.is_none());
    assert_eq!(day.journal_len(), before, "refused: nothing recorded");

    // A supervisor may, and takes store credit instead of cash.
    day.ok(Intent::Back);
    day.ok(Intent::Back);
    day.switch_to("sara", "5555");
    day.ok(Intent::StartRefund);
    day.ok(Intent::NoReceiptReturn);
    day.scan(BATTERIES);
    day.reason("changed_mind");
    day.ok(Intent::RefundTo(RefundDestination::StoreCredit));
    let before = day.journal_len();
    day.ok(Intent::ConfirmRefund);
    assert!(day.message().ends_with("5.99 as store credit"));
    assert_eq!(
        day.recorded_since(before),
        vec!["refund_issued", "stock_moved"]
    );
}

#[test]
fn mistakes_on_the_refund_screen_are_named_and_change_nothing() {
    let mut day = Day::new();
    day.login("sara", "5555");
    let receipt = day.sell(&[COFFEE, MILK], "");

    // A refund starts from an empty cart.
    day.scan(BUTTER);
    assert_eq!(day.refused(Intent::StartRefund), TillError::CartNotEmpty);
    day.ok(Intent::RemoveLine(day.till.view().cart.lines[0].line_no));

    day.scan(&receipt);
    assert_eq!(day.refused(Intent::ConfirmRefund), TillError::ChooseReason);
    day.reason("changed_mind");
    assert!(matches!(
        day.refused(Intent::ConfirmRefund),
        TillError::Refund(pos_core::refund::RefundError::NothingToReturn)
    ));
    assert_eq!(day.message(), "Choose at least one item to return");
    // A product that was not on the receipt, and one that was.
    assert_eq!(
        day.refused(Intent::Scan(BUTTER.to_owned())),
        TillError::NotOnReceipt("Butter 250 g".to_owned())
    );
    assert_eq!(day.message(), "Butter 250 g is not on this receipt");
    day.scan(MILK);
    assert_eq!(day.refund().lines[1].chosen, "1");
    assert_eq!(
        day.refused(Intent::Scan(MILK.to_owned())),
        TillError::LineFullyReturned {
            name: "Whole milk 1 L".to_owned()
        }
    );
    assert!(matches!(
        day.refused(Intent::ReturnQuantity {
            line: day.refund().lines[0].line_no,
            quantity: "half".to_owned()
        }),
        TillError::BadQuantity(_)
    ));
    assert_eq!(day.refund().total, "1.19");
}

#[test]
fn a_sale_from_another_store_is_refunded_there() {
    // A sale made at another store of the tenant, known to this till's ledger.
    let now = Timestamp::from_unix_ms(MONDAY_10AM);
    let ports = || TillPorts {
        catalogue: Box::new(MemoryCatalogue::demo().unwrap()),
        staff: Box::new(MemoryStaff::demo()),
        ledger: Box::new(MemoryLedger::new()),
        ids: Box::new(CountingIds::new(&pos_core::id::DeviceId::new("T7"))),
    };
    let mut elsewhere = TillSetup::demo().unwrap();
    elsewhere.store.id = StoreId::new("store-harbour");
    let mut other = Day {
        till: Till::new(elsewhere, ports(), now),
        now,
    };
    other.login("sara", "5555");
    let receipt = other.sell(&[COFFEE], "AUTH-5");
    let mut ledger = MemoryLedger::new();
    ledger
        .record(other.till.ledger().journal_tail(usize::MAX))
        .unwrap();

    let mut day = Day {
        till: Till::new(
            TillSetup::demo().unwrap(),
            TillPorts {
                ledger: Box::new(ledger),
                ..ports()
            },
            now,
        ),
        now,
    };
    day.login("sara", "5555");
    day.ok(Intent::StartRefund);
    let error = day.refused(Intent::FindSale(receipt.clone()));
    assert_eq!(
        day.message(),
        format!(
            "Receipt {receipt} is from another store (store-harbour); it can only be refunded there"
        ),
        "{error:?}"
    );
    assert_eq!(day.refund().step, RefundStep::Find);
}

#[test]
fn a_cashier_exchange_is_approved_once_and_recorded_with_the_approval() {
    let mut day = Day::new();
    day.login("anna", "1234");
    let receipt = day.sell(&[TEE_M_NAVY], "AUTH-2");
    day.scan(&receipt);
    day.reason("wrong_size");
    let error = day.refused(Intent::StartExchange);
    assert_eq!(error.kind(), TillErrorKind::Approval);
    assert_eq!(
        day.till.view().approval.unwrap().what,
        format!("An exchange of 24.90 against receipt {receipt}")
    );
    day.ok(Intent::Approve {
        manager: UserId::new("sara"),
        pin: "5555".to_owned(),
    });
    assert!(day.till.view().exchange.is_some());
    day.scan(TEE_L_NAVY);
    day.ok(Intent::StartPayment);
    day.ok(Intent::AddTender {
        kind: TenderChoice::Card,
        amount: String::new(),
        reference: "AUTH-3".to_owned(),
    });
    let refund = day
        .till
        .ledger()
        .journal_tail(usize::MAX)
        .into_iter()
        .find_map(|e| match e.event {
            DomainEvent::RefundIssued(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(refund.cashier.as_str(), "anna");
    assert_eq!(refund.approval.unwrap().approved_by.as_str(), "sara");
}

#[test]
fn a_loyalty_customer_gives_back_the_points_earned_on_what_returns() {
    let mut day = Day::new();
    day.login("sara", "5555");
    day.scan(LENA_CARD);
    let receipt = day.sell(&[COFFEE], "AUTH-8");
    let earned = day
        .till
        .ledger()
        .journal_tail(usize::MAX)
        .into_iter()
        .find_map(|e| match e.event {
            DomainEvent::PointsMoved(p) => Some(p.points),
            _ => None,
        })
        .unwrap();
    assert!(earned > 0);

    // A receipt scanned over an open cart waits until the cart is done.
    day.scan(MILK);
    assert_eq!(
        day.refused(Intent::Scan(receipt.clone())),
        TillError::CartNotEmpty
    );
    day.ok(Intent::RemoveLine(day.till.view().cart.lines[0].line_no));

    day.scan(&receipt);
    assert_eq!(
        day.refund().sale.unwrap().customer.as_deref(),
        Some("Lena Vogel")
    );
    day.reason("changed_mind");
    let before = day.journal_len();
    day.ok(Intent::ConfirmRefund);
    let taken_back = day.till.ledger().journal_tail(usize::MAX)[before..]
        .iter()
        .find_map(|e| match &e.event {
            DomainEvent::PointsMoved(p) => Some((p.customer.to_string(), p.points)),
            _ => None,
        })
        .unwrap();
    assert_eq!(taken_back, ("c-lena".to_owned(), -earned));
}

/// A cash refund asks for the drawer and prints the customer's copy, in that order; a card
/// refund prints without opening the drawer.
#[test]
fn a_refund_prints_its_receipt_and_opens_the_drawer_only_for_cash() {
    use pos_till::{Effect, PrintPurpose};
    let mut day = Day::new();
    day.login("marc", "9999");
    let cash_receipt = day.sell(&[MILK], "");
    let card_receipt = day.sell(&[COFFEE], "AUTH-31");
    day.till.take_effects();

    day.scan(&cash_receipt);
    day.reason("changed_mind");
    day.ok(Intent::ConfirmRefund);
    let refund_number = day.refund().receipt_number.unwrap();
    let effects = day.till.take_effects();
    assert_eq!(effects.first(), Some(&Effect::OpenDrawer), "{effects:?}");
    let Some(Effect::Print { document, purpose }) = effects.get(1) else {
        panic!("no refund receipt in {effects:?}");
    };
    assert_eq!(*purpose, PrintPurpose::Refund);
    let text = document.to_text(42);
    assert!(text.contains(&refund_number), "{text}");
    assert!(
        text.contains(&cash_receipt),
        "the original receipt is named: {text}"
    );
    assert_eq!(effects.len(), 2);

    day.ok(Intent::Back);
    day.ok(Intent::Back);
    day.scan(&card_receipt);
    day.reason("changed_mind");
    day.ok(Intent::ConfirmRefund);
    let effects = day.till.take_effects();
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::Print {
                purpose: PrintPurpose::Refund,
                ..
            }]
        ),
        "a card refund opens no drawer: {effects:?}"
    );
}
