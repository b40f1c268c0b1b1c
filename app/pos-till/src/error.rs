//! What can go wrong at the till, in words a cashier understands, with what to do next.

use pos_core::cart::CartError;
use pos_core::held::HeldError;
use pos_core::money::MoneyError;
use pos_core::refund::RefundError;
use pos_core::sale::SaleError;
use pos_core::tender::TenderError;

use crate::port::LedgerError;

/// Everything an intent can be refused for. The till also shows it as the cashier's message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TillError {
    #[error("wrong PIN for {name}; {attempts_left} tries left before the till locks {name} out")]
    WrongPin { name: String, attempts_left: u32 },
    #[error("{name} is locked out after too many wrong PINs; a manager must unlock")]
    LockedOut { name: String },
    #[error("a PIN has 4 to 8 digits")]
    PinShape,
    #[error("no one called {0} works at this till")]
    UnknownPerson(String),
    #[error("{name} cannot unlock or approve here; ask a manager or supervisor")]
    NotAnApprover { name: String },
    #[error("nothing is known under the code {0}; check the barcode or search by name")]
    UnknownCode(String),
    #[error("that product is no longer in the catalogue; search for it again")]
    UnknownProduct,
    #[error("`{0}` is not an amount; type it like 12.50")]
    BadAmount(String),
    #[error("`{0}` is not a quantity; type a number like 2 or 0.75")]
    BadQuantity(String),
    #[error("a discount of {0}% is not possible; enter between 0 and 100")]
    BadPercent(String),
    #[error(transparent)]
    Scan(pos_scanner::ScanError),
    #[error(
        "`{0}` is not a weight; type the kilograms like 0.750 (more than 0, at most 3 decimals, under 100 kg)"
    )]
    BadWeight(String),
    #[error("the label of {0} shows no weight; weigh it and type the weight")]
    ZeroWeight(String),
    #[error("that customer is no longer in the loyalty program ({0}); search again")]
    UnknownCustomer(String),
    #[error("no customer is attached to this sale")]
    NoCustomer,
    #[error("a discount of {amount} is more than the cart's {total}")]
    DiscountAboveTotal { amount: String, total: String },
    #[error("the cart is empty; scan an item first")]
    EmptyCart,
    #[error("{what} needs a manager's approval; a manager enters their PIN, or press Back")]
    ApprovalNeeded { what: String },
    #[error("log in first")]
    NotLoggedIn,
    #[error("finish or cancel the payment first")]
    PaymentOpen,
    #[error("money has been taken; remove those payments first, then go back")]
    TendersTaken,
    #[error("finish or hold the cart on the till first")]
    CartNotEmpty,
    #[error("not possible on this screen")]
    NotHere,
    #[error(
        "no sale has the receipt number {0}; check the number, or find the sale by date, customer or card"
    )]
    UnknownReceipt(String),
    #[error(
        "no sale found for “{0}”; try the receipt number, a date like 2026-03-02, a loyalty card or the card payment's reference"
    )]
    NoSaleFound(String),
    #[error("receipt {receipt} is from another store ({store}); it can only be refunded there")]
    OtherStore { receipt: String, store: String },
    #[error("everything on receipt {0} has already been returned")]
    FullyRefunded(String),
    #[error("{name} has already been returned")]
    LineFullyReturned { name: String },
    #[error("only {returnable} of {name} can still be returned")]
    MoreThanReturnable { name: String, returnable: String },
    #[error("choose why the items come back")]
    ChooseReason,
    #[error("{0} is not on this receipt")]
    NotOnReceipt(String),
    #[error("finish or cancel the exchange first")]
    ExchangeOpen,
    #[error(transparent)]
    Refund(RefundError),
    #[error("no shift is open; count the opening float and open the shift first")]
    NoShift,
    #[error("`{0}` is not a number of notes or coins; type a whole number like 3")]
    BadCount(String),
    #[error("`{0}` is not an email address; type it like name@example.com")]
    BadEmail(String),
    #[error("there is no receipt to print yet")]
    NoReceipt,
    #[error(transparent)]
    Shift(#[from] pos_core::shift::ShiftError),
    #[error(transparent)]
    Access(#[from] pos_core::access::AccessError),
    #[error(transparent)]
    Cart(#[from] CartError),
    #[error(transparent)]
    Tender(#[from] TenderError),
    #[error(transparent)]
    Sale(#[from] SaleError),
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// How the screen should react to an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TillErrorKind {
    /// The cashier typed or scanned something wrong: say so and let them try again.
    Input,
    /// The cashier may not do this alone: a manager can approve.
    Approval,
    /// Someone is locked out: a manager must unlock.
    Locked,
    /// Saving failed: nothing happened; try again or call a technician.
    Storage,
}

impl TillError {
    pub fn kind(&self) -> TillErrorKind {
        match self {
            TillError::ApprovalNeeded { .. }
            | TillError::Cart(CartError::ApprovalRequired { .. })
            | TillError::Cart(CartError::Access(_)) => TillErrorKind::Approval,
            TillError::LockedOut { .. } => TillErrorKind::Locked,
            TillError::Ledger(LedgerError::Storage(_)) => TillErrorKind::Storage,
            _ => TillErrorKind::Input,
        }
    }
}

impl From<RefundError> for TillError {
    /// Permission refusals stay `Cart` errors, so a refund waits for a manager's approval
    /// exactly like a discount does.
    fn from(error: RefundError) -> TillError {
        match error {
            RefundError::Cart(cart) => TillError::Cart(cart),
            RefundError::Money(money) => TillError::Money(money),
            RefundError::Tender(tender) => TillError::Tender(tender),
            other => TillError::Refund(other),
        }
    }
}

impl From<HeldError> for TillError {
    fn from(error: HeldError) -> TillError {
        TillError::Ledger(LedgerError::Held(error))
    }
}
