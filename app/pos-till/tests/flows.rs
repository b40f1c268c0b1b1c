//! The checkout day as a cashier lives it, intent by intent, checked through what the screen
//! would show and what the ledger recorded.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pos_core::clock::Timestamp;
use pos_core::id::UserId;
use pos_till::{Intent, Screen, ShiftIntent, TenderChoice, Till, TillError, TillErrorKind, Tone};

/// Monday 2026-03-02 10:00 UTC, outside the drinks happy hour.
const MONDAY_10AM: i64 = 1_772_445_600_000;
const MILK: &str = "4006381333931";
const COFFEE: &str = "4006581020013";
const BUTTER: &str = "4008452011236";

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

    fn minutes_pass(&mut self, minutes: i64) {
        self.now = self.now.plus_ms(minutes * 60_000);
    }

    fn ok(&mut self, intent: Intent) {
        let result = self.till.handle(intent.clone(), self.now);
        assert!(result.is_ok(), "{intent:?} was refused: {result:?}");
    }

    fn refused(&mut self, intent: Intent) -> TillError {
        let error = self.till.handle(intent, self.now).unwrap_err();
        let shown = self.till.view().message.unwrap();
        assert_eq!(shown.tone, Tone::Problem);
        assert!(!shown.text.is_empty());
        error
    }

    fn login(&mut self, user: &str, pin: &str) {
        self.ok(Intent::Login {
            user: UserId::new(user),
            pin: pin.to_owned(),
        });
    }

    /// Opens the shift with a float typed as a total, as the first login of the day asks.
    fn open_shift(&mut self, float: &str) {
        assert_eq!(self.till.view().screen, Screen::ShiftOpen);
        self.ok(Intent::Shift(ShiftIntent::Open {
            total: float.to_owned(),
        }));
        assert_eq!(self.till.view().screen, Screen::Checkout);
    }

    fn scan(&mut self, code: &str) {
        self.ok(Intent::Scan(code.to_owned()));
    }

    fn tender(&mut self, kind: TenderChoice, amount: &str, reference: &str) {
        self.ok(Intent::AddTender {
            kind,
            amount: amount.to_owned(),
            reference: reference.to_owned(),
        });
    }

    fn message(&self) -> String {
        self.till.view().message.map(|m| m.text).unwrap_or_default()
    }
}

/// Events recorded when the day's shift opens, before anything is sold.
const OPENING: usize = 1;

/// The kinds of the events recorded since `skip`.
fn recorded(till: &Till, skip: usize) -> Vec<&'static str> {
    till.ledger()
        .journal_tail(usize::MAX)
        .iter()
        .skip(skip)
        .map(|e| e.event.kind())
        .collect()
}

#[test]
fn login_scan_and_pay_cash_with_change() {
    let mut day = Day::new();
    assert_eq!(day.till.view().screen, Screen::Login);
    day.login("anna", "1234");
    assert_eq!(day.till.view().screen, Screen::ShiftOpen);
    day.open_shift("150.00");
    let view = day.till.view();
    assert_eq!(view.cashier.as_deref(), Some("Anna"));

    day.scan(MILK);
    day.scan(MILK);
    day.scan(COFFEE);
    let cart = day.till.view().cart;
    assert_eq!(
        cart.lines.len(),
        2,
        "the second milk adds to the first line"
    );
    assert_eq!(cart.lines[0].quantity, "2");
    assert_eq!(cart.lines[0].amount, "2.38");
    assert_eq!(cart.item_count, 3);
    assert_eq!(cart.total, "17.37");
    assert_eq!(cart.taxes, vec![("VAT 7%".to_owned(), "1.14".to_owned())]);

    day.ok(Intent::StartPayment);
    let payment = day.till.view().payment.unwrap();
    assert_eq!(day.till.view().screen, Screen::Payment);
    assert_eq!(payment.due, "17.37");
    assert_eq!(payment.quick_cash, vec!["17.37", "18.00", "20.00", "50.00"]);

    day.tender(TenderChoice::Cash, "20", "");
    let view = day.till.view();
    let done = view.payment.unwrap();
    assert_eq!(done.change, "2.63");
    assert_eq!(done.due, "0.00");
    assert_eq!(done.receipt_number.as_deref(), Some("T1-00004"));
    assert_eq!(day.message(), "Paid. Give 2.63 change");
    assert!(view.cart.lines.is_empty());

    // The next customer's first scan starts the next sale.
    day.scan(BUTTER);
    let view = day.till.view();
    assert_eq!(view.screen, Screen::Checkout);
    assert_eq!(view.cart.total, "2.49");
    assert_eq!(
        recorded(&day.till, OPENING),
        vec![
            "sale_completed",
            "stock_moved",
            "stock_moved",
            "drawer_opened"
        ]
    );
    let journal = day.till.ledger().journal_tail(10);
    assert!(journal.iter().all(|e| e.actor.as_str() == "anna"));
}

#[test]
fn split_payment_card_wallet_and_cash() {
    let mut day = Day::new();
    day.login("anna", "1234");
    day.open_shift("150.00");
    day.scan(COFFEE);
    day.scan(COFFEE);
    day.ok(Intent::StartPayment);
    assert_eq!(day.till.view().payment.unwrap().due, "29.98");

    // A card cannot pay more than is owed: only cash gives change.
    let error = day.refused(Intent::AddTender {
        kind: TenderChoice::Card,
        amount: "40".to_owned(),
        reference: "A1".to_owned(),
    });
    assert!(matches!(error, TillError::Tender(_)));
    assert_eq!(
        day.message(),
        "Card cannot pay more than the 29.98 EUR still owed; only cash gives change"
    );
    let error = day.refused(Intent::AddTender {
        kind: TenderChoice::Cash,
        amount: "ten".to_owned(),
        reference: String::new(),
    });
    assert_eq!(error, TillError::BadAmount("ten".to_owned()));

    day.tender(TenderChoice::Card, "10", "AUTH-4711");
    day.tender(TenderChoice::Wallet, "12,50", "WAL-99");
    let payment = day.till.view().payment.unwrap();
    assert_eq!(payment.due, "7.48");
    assert_eq!(payment.paid, "22.50");
    assert_eq!(payment.tenders[0].reference, "AUTH-4711");
    assert_eq!(payment.tenders[1].kind, "Mobile wallet");

    // Money has been taken: going back would lose track of it.
    assert_eq!(day.refused(Intent::Back), TillError::TendersTaken);

    day.tender(TenderChoice::Cash, "10", "");
    let done = day.till.view().payment.unwrap();
    assert_eq!(done.change, "2.52");
    assert_eq!(done.tenders.len(), 3);
    assert_eq!(recorded(&day.till, OPENING)[0], "sale_completed");
}

#[test]
fn hold_serve_the_next_customer_and_resume() {
    let mut day = Day::new();
    day.login("anna", "1234");
    day.open_shift("150.00");
    day.scan(COFFEE);
    day.scan(MILK);
    day.ok(Intent::Hold {
        label: "Lady in red coat".to_owned(),
    });
    assert!(day.till.view().cart.lines.is_empty());
    assert_eq!(
        day.message(),
        "Held as “Lady in red coat”; ready for the next customer"
    );

    // The next customer pays while the first fetches her wallet.
    day.scan(BUTTER);
    day.ok(Intent::StartPayment);
    day.tender(TenderChoice::Cash, "5", "");
    day.ok(Intent::NextCustomer);

    day.minutes_pass(12);
    day.ok(Intent::ShowHeld);
    let view = day.till.view();
    assert_eq!(view.screen, Screen::Held);
    assert_eq!(view.held.len(), 1);
    let held = &view.held[0];
    assert_eq!(
        (held.label.as_str(), held.age.as_str(), held.total.as_str()),
        ("Lady in red coat", "12 min ago", "16.18")
    );
    assert_eq!(held.item_count, 2);
    assert_eq!(held.held_by, "Anna");

    let id = held.id.clone();
    day.ok(Intent::Resume(id.clone()));
    let view = day.till.view();
    assert_eq!(view.screen, Screen::Checkout);
    assert_eq!(view.cart.total, "16.18");
    assert!(view.held.is_empty());
    assert_eq!(
        recorded(&day.till, OPENING),
        vec![
            "cart_held",
            "sale_completed",
            "stock_moved",
            "drawer_opened",
            "cart_resumed"
        ]
    );

    // Another cart cannot be resumed over an open one, and a held cart comes back only once.
    let again = day.refused(Intent::Resume(id.clone()));
    assert_eq!(again, TillError::CartNotEmpty);
    day.ok(Intent::Hold {
        label: String::new(),
    });
    assert_eq!(day.till.view().held[0].label, "Held #2");
    let error = day.refused(Intent::Resume(id));
    assert!(
        day.message().contains("was already resumed on terminal T1"),
        "{error}"
    );
    day.ok(Intent::Resume(day.till.view().held[0].id.clone()));
    assert_eq!(day.till.view().cart.total, "16.18");
}

#[test]
fn a_discount_above_the_limit_waits_for_a_manager() {
    let mut day = Day::new();
    day.login("anna", "1234");
    day.open_shift("150.00");
    day.scan(BUTTER);
    let line = day.till.view().cart.lines[0].line_no;
    let discount = Intent::LineDiscount {
        line,
        percent: "20".to_owned(),
    };

    let error = day.refused(discount);
    assert_eq!(error.kind(), TillErrorKind::Approval);
    let approval = day.till.view().approval.unwrap();
    assert_eq!(approval.what, "A 20% discount on Butter 250 g");
    assert_eq!(day.till.view().cart.total, "2.49", "nothing changed yet");

    // The cashier cannot approve her own request, nor can another cashier.
    let own = day.refused(Intent::Approve {
        manager: UserId::new("anna"),
        pin: "1234".to_owned(),
    });
    assert_eq!(
        own,
        TillError::NotAnApprover {
            name: "Anna".to_owned()
        }
    );
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
    let typo = day.refused(Intent::Approve {
        manager: UserId::new("marc"),
        pin: "9998".to_owned(),
    });
    assert!(matches!(
        typo,
        TillError::WrongPin {
            attempts_left: 2,
            ..
        }
    ));
    assert!(day.till.view().approval.is_some(), "still waiting");

    day.ok(Intent::Approve {
        manager: UserId::new("marc"),
        pin: "9999".to_owned(),
    });
    let view = day.till.view();
    assert!(view.approval.is_none());
    assert_eq!(day.message(), "Approved by Marc");
    assert_eq!(view.cart.total, "1.99");
    assert_eq!(view.cart.lines[0].discounts, vec!["Discount 20% −0.50"]);

    day.ok(Intent::StartPayment);
    day.tender(TenderChoice::Card, "", "AUTH-1");
    assert_eq!(
        recorded(&day.till, OPENING),
        vec!["sale_completed", "stock_moved", "override_approved"]
    );
}

#[test]
fn approval_can_be_cancelled() {
    let mut day = Day::new();
    day.login("anna", "1234");
    day.open_shift("150.00");
    day.scan(BUTTER);
    let line = day.till.view().cart.lines[0].line_no;
    day.refused(Intent::LineDiscount {
        line,
        percent: "50%".to_owned(),
    });
    day.ok(Intent::Back);
    assert!(day.till.view().approval.is_none());
    assert_eq!(
        day.refused(Intent::Approve {
            manager: UserId::new("marc"),
            pin: "9999".to_owned()
        }),
        TillError::NotHere
    );
    assert_eq!(day.till.view().cart.total, "2.49");
}

#[test]
fn wrong_pins_lock_a_cashier_out_until_a_manager_unlocks() {
    let mut day = Day::new();
    let anna = |pin: &str| Intent::Login {
        user: UserId::new("anna"),
        pin: pin.to_owned(),
    };
    assert_eq!(
        day.refused(anna("1111")),
        TillError::WrongPin {
            name: "Anna".to_owned(),
            attempts_left: 2
        }
    );
    assert_eq!(
        day.message(),
        "Wrong PIN for Anna; 2 tries left before the till locks Anna out"
    );
    assert_eq!(day.refused(anna("12")), TillError::PinShape);
    day.refused(anna("1112"));
    assert_eq!(
        day.refused(anna("1113")),
        TillError::LockedOut {
            name: "Anna".to_owned()
        }
    );
    assert!(day.till.view().login.people[0].locked_out);
    // Even the right PIN does not open a locked account.
    assert_eq!(day.refused(anna("1234")).kind(), TillErrorKind::Locked);

    let unlock = |manager: &str, pin: &str| Intent::Unlock {
        user: UserId::new("anna"),
        manager: UserId::new(manager),
        pin: pin.to_owned(),
    };
    assert_eq!(
        day.refused(unlock("tom", "2468")),
        TillError::NotAnApprover {
            name: "Tom".to_owned()
        }
    );
    day.ok(unlock("marc", "9999"));
    assert_eq!(day.message(), "Marc unlocked Anna; log in with the PIN");
    assert!(!day.till.view().login.people[0].locked_out);
    day.login("anna", "1234");
    assert_eq!(
        day.till.view().screen,
        Screen::ShiftOpen,
        "no shift is open yet: the opening float comes first"
    );
}

#[test]
fn cashier_mistakes_are_named_and_change_nothing() {
    let mut day = Day::new();
    assert_eq!(
        day.refused(Intent::Scan(MILK.to_owned())),
        TillError::NotLoggedIn
    );
    day.login("anna", "1234");
    assert_eq!(
        day.refused(Intent::Scan(MILK.to_owned())),
        TillError::NoShift
    );
    day.open_shift("150.00");
    assert_eq!(
        day.refused(Intent::Scan("123456".to_owned())),
        TillError::UnknownCode("123456".to_owned())
    );
    assert_eq!(
        day.message(),
        "Nothing is known under the code 123456; check the barcode or search by name"
    );
    assert_eq!(day.refused(Intent::StartPayment), TillError::EmptyCart);
    assert_eq!(
        day.refused(Intent::Hold {
            label: String::new()
        }),
        TillError::EmptyCart
    );
    day.scan(MILK);
    let line = day.till.view().cart.lines[0].line_no;
    assert_eq!(
        day.refused(Intent::SetQuantity {
            line,
            quantity: "two".to_owned()
        }),
        TillError::BadQuantity("two".to_owned())
    );
    assert_eq!(
        day.refused(Intent::LineDiscount {
            line,
            percent: "lots".to_owned()
        }),
        TillError::BadPercent("lots".to_owned())
    );
    assert_eq!(day.till.view().cart.total, "1.19");
}

#[test]
fn search_quantity_weight_customer_and_removal() {
    let mut day = Day::new();
    day.login("anna", "1234");
    day.open_shift("150.00");
    day.ok(Intent::Search("choc".to_owned()));
    let results = day.till.view().search_results;
    assert_eq!(results.len(), 1);
    day.ok(Intent::AddProduct(results[0].id.clone()));
    let line = day.till.view().cart.lines[0].line_no;
    day.ok(Intent::SetQuantity {
        line,
        quantity: "3".to_owned(),
    });
    let view = day.till.view();
    assert!(view.search_results.is_empty(), "adding clears the search");
    assert_eq!(view.cart.total, "3.99", "any 3 chocolates for 3.99");

    let bananas = day
        .till
        .view()
        .favourites
        .iter()
        .find(|f| f.name == "Bananas")
        .unwrap()
        .clone();
    assert_eq!(bananas.per_unit, "kg");
    day.ok(Intent::AddProduct(bananas.id));
    assert_eq!(day.message(), "Weigh Bananas and type the weight in kg");
    day.ok(Intent::EnterWeight("0,75".to_owned()));
    let weighed = day.till.view().cart.selected.unwrap();
    let view = day.till.view();
    assert_eq!(view.cart.lines[1].quantity, "0.750");
    assert_eq!(view.cart.lines[1].amount, "1.49");

    day.scan("9900000000017");
    assert_eq!(day.message(), "Lena Vogel (Silver) is attached");
    assert!(
        day.till
            .view()
            .cart
            .customer
            .unwrap()
            .starts_with("Lena Vogel")
    );

    day.ok(Intent::RemoveLine(weighed));
    assert_eq!(day.message(), "Removed Bananas");
    assert_eq!(day.till.view().cart.total, "3.99");
    assert_eq!(recorded(&day.till, OPENING), vec!["lines_voided"]);
}

#[test]
fn switching_cashier_holds_the_open_cart_under_the_leavers_name() {
    let mut day = Day::new();
    day.login("anna", "1234");
    day.open_shift("150.00");
    day.scan(MILK);
    day.ok(Intent::Lock);
    assert_eq!(day.till.view().login.locked_by.as_deref(), Some("Anna"));
    // Anna comes back to her own cart.
    day.login("anna", "1234");
    assert_eq!(day.till.view().cart.total, "1.19");

    day.ok(Intent::SwitchCashier);
    day.login("tom", "2468");
    let view = day.till.view();
    assert_eq!(view.cashier.as_deref(), Some("Tom"));
    assert!(view.cart.lines.is_empty());
    assert_eq!(view.held[0].label, "Anna's open cart");
    assert_eq!(view.held[0].held_by, "Anna");
    assert_eq!(
        day.message(),
        "Hello Tom. Anna's cart is held as “Anna's open cart”"
    );
}

#[test]
fn an_untouched_till_locks_itself_keeping_the_cart_but_never_during_a_payment() {
    let mut day = Day::new();
    day.login("anna", "1234");
    day.open_shift("100.00");
    day.scan(MILK);
    day.minutes_pass(4);
    assert!(!day.till.lock_if_idle(day.now));
    assert_eq!(day.till.view().screen, Screen::Checkout);
    day.minutes_pass(1);
    assert!(day.till.lock_if_idle(day.now));
    assert_eq!(day.till.view().screen, Screen::Login);
    assert_eq!(
        day.message(),
        "Locked after 5 min without use; tap your name to go on"
    );
    assert_eq!(day.till.view().login.locked_by.as_deref(), Some("Anna"));
    day.login("anna", "1234");
    assert_eq!(
        day.till.view().cart.lines.len(),
        1,
        "Anna's cart waited for her"
    );

    // Half paid: the payment stays open however long it takes.
    day.ok(Intent::StartPayment);
    day.tender(TenderChoice::Cash, "0.50", "");
    day.minutes_pass(30);
    assert!(!day.till.lock_if_idle(day.now));
    assert_eq!(day.till.view().screen, Screen::Payment);

    // A shop that switched it off.
    day.till.set_auto_lock(None);
    day.minutes_pass(600);
    assert!(!day.till.lock_if_idle(day.now));
}

#[test]
fn an_unknown_barcode_is_offered_as_a_new_product_to_a_manager_only() {
    let mut day = Day::new();
    day.login("anna", "1234");
    day.open_shift("100.00");
    let unknown = "4020000000059";
    let error = day.refused(Intent::Scan(unknown.to_owned()));
    assert!(matches!(error, TillError::UnknownCode(_)));
    assert_eq!(
        day.till.view().new_product_code,
        None,
        "a cashier is not offered it"
    );
    day.ok(Intent::SwitchCashier);
    day.login("marc", "9999");
    day.refused(Intent::Scan(unknown.to_owned()));
    assert_eq!(day.till.view().new_product_code.as_deref(), Some(unknown));
    // The offer lasts until the next touch.
    day.scan(MILK);
    assert_eq!(day.till.view().new_product_code, None);
}
