//! A shift at the till as the people at it live it: the opening float, sales, cash out, the X
//! report, a "no sale", receipts printed, emailed and as gifts, and the close with a drawer
//! that is short; checked through the screen, the journal and what the till asked the printer
//! and the drawer to do.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pos_core::clock::Timestamp;
use pos_core::event::{DomainEvent, DrawerReason};
use pos_core::id::UserId;
use pos_core::shift::CashDirection;
use pos_core::tender::TenderKind;
use pos_till::memory::{CountingIds, MemoryCatalogue, MemoryLedger, MemoryStaff};
use pos_till::view::{Balance, Screen};
use pos_till::{
    Effect, Intent, PrintPurpose, ReceiptIntent, ShiftIntent, TenderChoice, Till, TillError,
    TillPorts, TillSetup,
};

/// Monday 2026-03-02 10:00 UTC.
const MONDAY_10AM: i64 = 1_772_445_600_000;
const MILK: &str = "4006381333931";
const COFFEE: &str = "4006581020013";
/// Paper width of the tests' printouts, in columns.
const COLUMNS: usize = 42;

/// Indexes of the euro count: 200, 100, 50, 20, 10, 5 notes, then 2, 1, 0.50 … 0.01 coins.
const EUR_100: usize = 1;
const EUR_50: usize = 2;
const EUR_20: usize = 3;
const EUR_10: usize = 4;
const EUR_5: usize = 5;
const EUR_2: usize = 6;
const EUR_0_01: usize = 13;

struct Day {
    till: Till,
    now: Timestamp,
}

fn ports(setup: &TillSetup) -> TillPorts {
    TillPorts {
        catalogue: Box::new(MemoryCatalogue::demo().unwrap()),
        staff: Box::new(MemoryStaff::demo()),
        ledger: Box::new(MemoryLedger::new()),
        ids: Box::new(CountingIds::new(&setup.device)),
    }
}

impl Day {
    fn new() -> Day {
        Day::with(TillSetup::demo().unwrap())
    }

    fn with(setup: TillSetup) -> Day {
        let now = Timestamp::from_unix_ms(MONDAY_10AM);
        let ports = ports(&setup);
        Day {
            till: Till::new(setup, ports, now),
            now,
        }
    }

    fn ok(&mut self, intent: Intent) {
        self.now = self.now.plus_ms(60_000);
        let result = self.till.handle(intent.clone(), self.now);
        assert!(result.is_ok(), "{intent:?} was refused: {result:?}");
    }

    fn refused(&mut self, intent: Intent) -> TillError {
        self.till.handle(intent, self.now).unwrap_err()
    }

    fn shift(&mut self, intent: ShiftIntent) {
        self.ok(Intent::Shift(intent));
    }

    fn login(&mut self, user: &str, pin: &str) {
        self.ok(Intent::Login {
            user: UserId::new(user),
            pin: pin.to_owned(),
        });
    }

    fn count(&mut self, index: usize, pieces: u32) {
        self.shift(ShiftIntent::Count {
            index,
            count: pieces.to_string(),
        });
    }

    fn approve_as_marc(&mut self) {
        self.ok(Intent::Approve {
            manager: UserId::new("marc"),
            pin: "9999".to_owned(),
        });
    }

    fn open_with_150(&mut self) {
        self.login("anna", "1234");
        self.shift(ShiftIntent::Open {
            total: "150".to_owned(),
        });
        self.till.take_effects();
    }

    /// Two milks and a coffee, 17.37, paid with `kind`.
    fn sell(&mut self, kind: TenderChoice, amount: &str) {
        self.ok(Intent::Scan(MILK.to_owned()));
        self.ok(Intent::Scan(MILK.to_owned()));
        self.ok(Intent::Scan(COFFEE.to_owned()));
        self.ok(Intent::StartPayment);
        self.ok(Intent::AddTender {
            kind,
            amount: amount.to_owned(),
            reference: "AUTH-1".to_owned(),
        });
    }

    fn message(&self) -> String {
        self.till.view().message.map(|m| m.text).unwrap_or_default()
    }

    fn kinds(&self) -> Vec<&'static str> {
        self.till
            .ledger()
            .journal_tail(usize::MAX)
            .iter()
            .map(|e| e.event.kind())
            .collect()
    }
}

/// The printed text of every print effect, with what it was for.
fn printed(effects: &[Effect]) -> Vec<(PrintPurpose, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Print { document, purpose } => Some((*purpose, document.to_text(COLUMNS))),
            _ => None,
        })
        .collect()
}

fn row<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} row in\n{text}"))
}

#[test]
fn a_shift_from_the_float_counted_by_denomination_to_a_z_report_036_short() {
    let mut day = Day::new();
    day.login("anna", "1234");
    let view = day.till.view();
    assert_eq!(view.screen, Screen::ShiftOpen);
    assert_eq!(
        day.message(),
        "Hello Anna. Count the opening float to open the shift"
    );
    assert_eq!(view.shift.count.len(), 14, "euro notes and coins");
    assert_eq!(view.shift.count[EUR_50].value, "50");
    assert!(view.shift.count[EUR_50].is_note);
    assert_eq!(view.shift.count[EUR_0_01].value, "0.01");

    // The float counted: 2 × 50, 2 × 20, 1 × 10, with the running total.
    day.count(EUR_50, 2);
    day.count(EUR_20, 2);
    assert_eq!(day.till.view().shift.counted, "140.00");
    day.count(EUR_10, 1);
    let view = day.till.view();
    assert_eq!(view.shift.counted, "150.00");
    assert_eq!(view.shift.count[EUR_20].amount, "40.00");
    assert_eq!(
        day.refused(Intent::Shift(ShiftIntent::Count {
            index: EUR_5,
            count: "two".to_owned()
        })),
        TillError::BadCount("two".to_owned())
    );
    day.shift(ShiftIntent::Open {
        total: String::new(),
    });
    assert_eq!(day.till.view().screen, Screen::Checkout);
    assert_eq!(
        day.message(),
        "Shift open with a float of 150.00; put it in the drawer"
    );
    assert_eq!(day.till.take_effects(), vec![Effect::OpenDrawer]);

    // A cash sale opens the drawer; a card sale does not.
    day.sell(TenderChoice::Cash, "20");
    assert_eq!(day.till.view().payment.unwrap().change, "2.63");
    assert_eq!(day.till.take_effects(), vec![Effect::OpenDrawer]);
    day.ok(Intent::NextCustomer);
    day.sell(TenderChoice::Card, "");
    assert_eq!(day.till.take_effects(), vec![]);
    day.ok(Intent::NextCustomer);

    // Cash out needs a manager: Anna asks, Marc approves.
    let cash_out = Intent::Shift(ShiftIntent::CashMove {
        direction: CashDirection::Out,
        amount: "50".to_owned(),
        reason: "Bank drop".to_owned(),
    });
    day.ok(Intent::Shift(ShiftIntent::Show));
    assert_eq!(day.till.view().screen, Screen::Shift);
    let error = day.refused(cash_out);
    assert_eq!(
        error,
        TillError::ApprovalNeeded {
            what: "Cash out 50.00".to_owned()
        }
    );
    assert_eq!(day.till.view().approval.unwrap().what, "Cash out 50.00");
    assert!(day.till.take_effects().is_empty(), "the drawer stays shut");
    day.approve_as_marc();
    assert_eq!(day.message(), "Approved by Marc. Cash out 50.00: Bank drop");
    assert_eq!(day.till.take_effects(), vec![Effect::OpenDrawer]);

    // The X report on screen and on paper: 150 + 17.37 cash − 50 out = 117.37 expected.
    let view = day.till.view();
    let expected = view
        .shift
        .report
        .iter()
        .find(|r| r.label == "Expected")
        .unwrap();
    assert_eq!(expected.value, "117.37");
    assert!(expected.indented);
    assert!(
        view.shift
            .report
            .iter()
            .any(|r| r.label == "Sales" && r.value == "2")
    );
    day.shift(ShiftIntent::PrintX);
    let x = printed(&day.till.take_effects());
    assert_eq!(x.len(), 1);
    assert_eq!(x[0].0, PrintPurpose::XReport);
    assert!(x[0].1.contains("X REPORT (shift still open)"));
    assert!(row(&x[0].1, "Cash out").ends_with("-50.00"));

    // Close: the drawer holds 117.01, 0.36 less than it should.
    day.shift(ShiftIntent::StartClose);
    assert_eq!(day.till.view().screen, Screen::ShiftClose);
    for (index, pieces) in [
        (EUR_100, 1),
        (EUR_10, 1),
        (EUR_5, 1),
        (EUR_2, 1),
        (EUR_0_01, 1),
    ] {
        day.count(index, pieces);
    }
    let counting = day.till.view().shift;
    assert_eq!(
        (
            counting.counted.as_str(),
            counting.expected.as_str(),
            counting.difference.as_str()
        ),
        ("117.01", "117.37", "-0.36")
    );
    assert_eq!(counting.balance, Balance::Short);

    // A cashier may not close: the manager approves the count.
    assert_eq!(
        day.refused(Intent::Shift(ShiftIntent::Close)),
        TillError::ApprovalNeeded {
            what: "Closing the shift".to_owned()
        }
    );
    day.approve_as_marc();
    assert_eq!(
        day.message(),
        "Approved by Marc. Shift closed: counted 117.01, expected 117.37, 0.36 short. \
         The Z report is printing"
    );
    let journal = day.till.ledger().journal_tail(2);
    let DomainEvent::ShiftClosed { shift, report } = &journal[0].event else {
        panic!("the close is recorded: {journal:?}");
    };
    assert!(!shift.is_open());
    assert_eq!(report.discrepancy.unwrap().display_amount(), "-0.36");
    assert_eq!(journal[1].event.kind(), "override_approved");

    let z = printed(&day.till.take_effects());
    assert_eq!(z.len(), 1);
    let (purpose, text) = &z[0];
    assert_eq!(*purpose, PrintPurpose::ZReport);
    assert!(text.contains("Z REPORT (shift closed)"));
    assert!(row(text, "Opening float").ends_with("150.00"));
    assert!(row(text, "Expected").ends_with("117.37"));
    assert!(row(text, "Counted").ends_with("117.01"));
    assert!(row(text, "SHORT").ends_with("-0.36"));

    // No shift, no sale: the next one starts with its float.
    assert_eq!(day.till.view().screen, Screen::ShiftOpen);
    assert_eq!(
        day.refused(Intent::Scan(MILK.to_owned())),
        TillError::NoShift
    );
}

#[test]
fn no_sale_is_refused_for_a_cashier_and_recorded_when_a_manager_approves() {
    let mut day = Day::new();
    day.open_with_150();
    let before = day.kinds().len();
    assert_eq!(
        day.refused(Intent::Shift(ShiftIntent::NoSale)),
        TillError::ApprovalNeeded {
            what: "Opening the drawer (no sale)".to_owned()
        }
    );
    assert_eq!(
        day.till.view().approval.unwrap().what,
        "Opening the drawer (no sale)"
    );
    assert!(day.till.take_effects().is_empty());
    assert_eq!(day.kinds().len(), before, "nothing recorded yet");

    // Another cashier cannot approve it.
    assert_eq!(
        day.refused(Intent::Approve {
            manager: UserId::new("tom"),
            pin: "2468".to_owned()
        }),
        TillError::NotAnApprover {
            name: "Tom".to_owned()
        }
    );
    day.approve_as_marc();
    assert_eq!(day.till.take_effects(), vec![Effect::OpenDrawer]);
    let journal = day.till.ledger().journal_tail(2);
    assert_eq!(
        journal[0].event,
        DomainEvent::DrawerOpened(DrawerReason::NoSale)
    );
    let DomainEvent::OverrideApproved(approval) = &journal[1].event else {
        panic!("the approval is recorded: {journal:?}");
    };
    assert_eq!(approval.permission, "drawer.no_sale");
    assert_eq!(approval.approved_by.as_str(), "marc");

    // A manager opens it without asking anyone.
    day.ok(Intent::Lock);
    day.login("marc", "9999");
    day.shift(ShiftIntent::NoSale);
    assert_eq!(day.till.take_effects(), vec![Effect::OpenDrawer]);
}

#[test]
fn receipts_print_as_gifts_without_prices_go_by_email_and_print_again_as_copies() {
    let mut day = Day::new();
    day.open_with_150();
    day.sell(TenderChoice::Cash, "20");
    day.till.take_effects();
    assert!(!day.till.view().receipt.printed, "the cashier chooses");

    day.ok(Intent::Receipt(ReceiptIntent::Gift));
    let gift = printed(&day.till.take_effects());
    assert_eq!(gift[0].0, PrintPurpose::GiftReceipt);
    let text = &gift[0].1;
    assert!(text.contains("GIFT RECEIPT"));
    assert!(text.contains("Whole milk 1 L"));
    assert!(text.contains("Coffee beans 1 kg"));
    for price in ["1.19", "14.99", "17.37", "20.00", "2.63", "TOTAL"] {
        assert!(
            !text.contains(price),
            "{price} is on the gift receipt:\n{text}"
        );
    }
    assert!(day.till.view().receipt.gift_printed);
    assert_eq!(
        day.till.view().screen,
        Screen::Payment,
        "still on the change"
    );

    // An email address with a typo is refused; a good one is queued for the outbox.
    assert_eq!(
        day.refused(Intent::Receipt(ReceiptIntent::Email {
            address: "lena.example.com".to_owned()
        })),
        TillError::BadEmail("lena.example.com".to_owned())
    );
    day.ok(Intent::Receipt(ReceiptIntent::Email {
        address: "lena@example.com".to_owned(),
    }));
    let sale = match &day.till.ledger().journal_tail(usize::MAX)[1].event {
        DomainEvent::SaleCompleted(sale) => sale.id.clone(),
        other => panic!("the sale comes after the shift opened: {other:?}"),
    };
    assert_eq!(
        day.till.take_effects(),
        vec![Effect::EmailReceipt {
            sale,
            address: "lena@example.com".to_owned()
        }]
    );
    assert_eq!(day.till.view().screen, Screen::Checkout);
    assert!(day.message().contains("goes to lena@example.com"));

    // The next sale's receipt printed with one tap, then a copy from the checkout.
    day.sell(TenderChoice::Card, "");
    let number = day.till.view().payment.unwrap().receipt_number.unwrap();
    day.ok(Intent::Receipt(ReceiptIntent::Print));
    let receipt = printed(&day.till.take_effects());
    assert_eq!(receipt[0].0, PrintPurpose::Receipt);
    assert!(row(&receipt[0].1, "TOTAL EUR").ends_with("17.37"));
    assert!(!receipt[0].1.contains("COPY"));
    assert_eq!(day.till.view().screen, Screen::Checkout);
    day.ok(Intent::Receipt(ReceiptIntent::ReprintLast));
    let copy = printed(&day.till.take_effects());
    assert_eq!(copy[0].0, PrintPurpose::Copy);
    assert!(copy[0].1.contains("COPY"));
    assert!(copy[0].1.contains(&format!("Receipt {number}")));

    // No receipt to choose once the next sale has begun.
    day.ok(Intent::Scan(MILK.to_owned()));
    assert_eq!(
        day.refused(Intent::Receipt(ReceiptIntent::Print)),
        TillError::NotHere
    );
}

#[test]
fn the_shop_decides_which_tenders_open_the_drawer_and_whether_receipts_print_at_once() {
    let mut setup = TillSetup::demo().unwrap();
    setup.store.drawer.opening_tenders = vec![TenderKind::Cash, TenderKind::Card];
    setup.store.receipt.printing = pos_core::tenant::ReceiptPrinting::Always;
    let mut day = Day::with(setup);
    day.open_with_150();
    day.sell(TenderChoice::Card, "");
    let effects = day.till.take_effects();
    assert_eq!(effects[0], Effect::OpenDrawer);
    assert_eq!(printed(&effects)[0].0, PrintPurpose::Receipt);
    assert!(day.till.view().receipt.printed);
    assert_eq!(day.kinds().last(), Some(&"drawer_opened"));

    // With the default settings a wallet payment leaves the drawer shut and records no opening.
    let mut day = Day::new();
    day.open_with_150();
    day.sell(TenderChoice::Wallet, "");
    assert!(day.till.take_effects().is_empty());
    assert!(!day.kinds().contains(&"drawer_opened"));
}

#[test]
fn the_open_shift_survives_a_restart_of_the_till() {
    let mut day = Day::new();
    day.open_with_150();
    day.sell(TenderChoice::Cash, "20");
    day.ok(Intent::NextCustomer);

    // The terminal restarts: a new session over the same ledger.
    let Day { till, now } = day;
    let mut day = Day {
        till: Till::new(TillSetup::demo().unwrap(), till.into_ports(), now),
        now,
    };
    day.login("tom", "2468");
    assert_eq!(
        day.till.view().screen,
        Screen::Checkout,
        "no float asked: the shift is still open"
    );
    assert!(
        day.till
            .view()
            .shift
            .summary
            .contains("by Anna · float 150.00")
    );
    day.ok(Intent::Shift(ShiftIntent::Show));
    let report = day.till.view().shift.report;
    let expected = report.iter().find(|r| r.label == "Expected").unwrap();
    assert_eq!(expected.value, "167.37");

    // The last receipt is still there to print again.
    day.ok(Intent::Receipt(ReceiptIntent::ReprintLast));
    let copy = printed(&day.till.take_effects());
    assert!(row(&copy[0].1, "TOTAL EUR").ends_with("17.37"));
}
