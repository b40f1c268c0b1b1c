//! The till session: the state machine behind the cashier's screen. Intents go in through
//! [`Till::handle`] with the current time; [`Till::view`] says what to show. Every rule (prices,
//! promotions, tax, tenders, permissions, held carts) is `pos-core`'s; this module only decides
//! which rule to ask and what the cashier sees next.

pub mod refunding;

use std::collections::{BTreeMap, BTreeSet};

mod customers;
mod receipts;
mod scanning;
mod shift;

pub use customers::{CUSTOMER_SEARCH_CHARS_MIN, CartDiscountKind};
pub use scanning::{WEIGHT_DECIMALS_MAX, WEIGHT_KG_MAX, default_rules};

pub use receipts::{EMAIL_CHARS_MAX, ReceiptIntent};
pub use shift::ShiftIntent;

use pos_core::access::{Actor, Features, permission};
use pos_core::cart::{
    Authority, Cart, CartError, DiscountKind, LineNo, PricedCart, PricingContext,
};
use pos_core::clock::Timestamp;
use pos_core::event::{self, DomainEvent, EventEnvelope};
use pos_core::held::HeldCart;
use pos_core::id::{CustomerId, DeviceId, HeldCartId, ProductId, ReceiptNumber, UserId};
use pos_core::loyalty::{LoyaltyProgram, Tier};
use pos_core::money::Money;
use pos_core::promotion::Promotion;
use pos_core::quantity::Quantity;
use pos_core::refund::RefundDestination;
use pos_core::sale::{Sale, SaleContext};
use pos_core::stock;
use pos_core::tenant::Store;
use pos_core::tender::{Payment, TenderKind};
use pos_scanner::embedded::RuleError;
use pos_scanner::{DecodeRules, Decoder, ScanError};
use rust_decimal::Decimal;

use crate::effect::{Effect, EffectQueue};
use crate::error::TillError;
use crate::port::{Catalogue, CustomerMatch, IdSource, Ledger, SEARCH_RESULTS_MAX, Staff};
use crate::view::{
    ApprovalView, CartView, HeldView, LineView, LoginView, Message, PaymentView, PersonTile,
    ProductTile, Screen, TenderView, TillView, Tone,
};

/// A till untouched this long locks itself (a cashier who walked away leaves no open till).
pub const AUTO_LOCK_AFTER_MS_DEFAULT: i64 = 5 * 60 * 1000;
/// Wrong PINs in a row before a person is locked out until a manager unlocks them.
pub const PIN_ATTEMPTS_MAX: u32 = 3;
/// PIN length in digits.
pub const PIN_DIGITS_MIN: usize = 4;
pub const PIN_DIGITS_MAX: usize = 8;
/// Cash suggestions on the payment screen besides the exact amount.
pub const QUICK_CASH_NOTES_MAX: usize = 3;
/// Unlocking a locked-out cashier is trusted to whoever may close a shift and count the
/// drawer (supervisors and managers in the default roles).
pub const UNLOCK_PERMISSION: &str = permission::SHIFT_CLOSE;

/// What the cashier asks the till to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intent {
    Login {
        user: UserId,
        pin: String,
    },
    /// A manager unlocks a person locked out after wrong PINs.
    Unlock {
        user: UserId,
        manager: UserId,
        pin: String,
    },
    /// A code from the scanner or typed in the scan field: a barcode (decoded under the
    /// store's rules: EAN/UPC, GS1, scale labels), a SKU, a loyalty card or a receipt number.
    Scan(String),
    /// The scanner read something it could not make a code of (too short, interrupted): the
    /// cashier sees why, and nothing is added.
    ScanRefused(ScanError),
    /// The weight in kg of the weighed product the prompt asks about, like "0.750".
    EnterWeight(String),
    /// Loyalty customers whose name, phone or card contains the text, as the cashier types.
    SearchCustomers(String),
    /// Attach one of the customers found.
    AttachCustomerId(CustomerId),
    /// Take the customer off the sale.
    DetachCustomer,
    /// A discount on the whole cart, as a percentage or an amount; "0" takes it away.
    CartDiscount {
        kind: CartDiscountKind,
        value: String,
    },
    Search(String),
    AddProduct(ProductId),
    SelectLine(LineNo),
    SetQuantity {
        line: LineNo,
        quantity: String,
    },
    RemoveLine(LineNo),
    /// A percentage off one line; "0" takes the discount away.
    LineDiscount {
        line: LineNo,
        percent: String,
    },
    AttachCustomer {
        card: String,
    },
    Hold {
        label: String,
    },
    ShowHeld,
    Resume(HeldCartId),
    StartPayment,
    /// A tender; an empty amount means "the rest". Card and wallet payments are approved on
    /// the external terminal and `reference` is its approval code.
    AddTender {
        kind: TenderChoice,
        amount: String,
        reference: String,
    },
    RemoveTender(usize),
    /// Finishes a fully paid sale again after saving it failed.
    Complete,
    /// A manager approves what is waiting for approval.
    Approve {
        manager: UserId,
        pin: String,
    },
    /// Cancel what is open: the approval prompt, the payment (before money is taken), the held
    /// list, the search.
    Back,
    /// Leave the change screen for the next sale.
    NextCustomer,
    /// Lock the till for a break; the same person logs back in and carries on.
    Lock,
    /// Hand the till over; the next person's login holds any open cart under the leaver's name.
    SwitchCashier,
    /// Open the refund screen from the checkout (with an empty cart), listing today's sales.
    /// Scanning a receipt's barcode on the checkout opens its sale directly.
    StartRefund,
    /// Find the sale to refund: a receipt number, a date (2026-03-02 or 02.03.2026), a loyalty
    /// card or a card payment's reference; empty lists today's sales.
    FindSale(String),
    /// Open one of the sales found.
    OpenSale(ReceiptNumber),
    /// A tap on a line of the sale: all of it that is still returnable comes back, or, if it
    /// was chosen, none of it.
    ToggleReturn(LineNo),
    /// How many of a line come back; "0" puts it back.
    ReturnQuantity {
        line: LineNo,
        quantity: String,
    },
    /// Why the goods come back, by reason code.
    ReturnReason(String),
    /// Where the money goes: the original tenders (the default), cash, or store credit.
    RefundTo(RefundDestination),
    /// Goods brought back without a receipt: scan them; needs its permission to confirm.
    NoReceiptReturn,
    /// Make the refund of what is chosen.
    ConfirmRefund,
    /// Take what is chosen back as credit for new items, rung up on the checkout.
    StartExchange,
    /// Drop a waiting exchange; nothing is refunded.
    CancelExchange,
    /// The shift: float, cash in and out, no sale, X report, close.
    Shift(ShiftIntent),
    /// The receipt of the sale just paid, or a copy of the last one.
    Receipt(ReceiptIntent),
}

/// The tenders the checkout offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenderChoice {
    Cash,
    Card,
    Wallet,
}

impl TenderChoice {
    fn kind(self) -> TenderKind {
        match self {
            TenderChoice::Cash => TenderKind::Cash,
            TenderChoice::Card => TenderKind::Card,
            TenderChoice::Wallet => TenderKind::MobileWallet,
        }
    }
}

/// The shop the till sells for.
pub struct TillSetup {
    pub store: Store,
    pub device: DeviceId,
    pub promotions: Vec<Promotion>,
    pub loyalty: LoyaltyProgram,
    pub features: Features,
}

impl TillSetup {
    /// The demo shop's store, promotions and loyalty program on terminal `T1`.
    pub fn demo() -> Result<TillSetup, pos_core::tax::TaxError> {
        Ok(TillSetup {
            store: pos_core::demo::store()?,
            device: DeviceId::new("T1"),
            promotions: pos_core::demo::promotions(),
            loyalty: pos_core::demo::loyalty(),
            features: Features::all_enabled(),
        })
    }
}

/// The edges the till works through.
pub struct TillPorts {
    pub catalogue: Box<dyn Catalogue>,
    pub staff: Box<dyn Staff>,
    pub ledger: Box<dyn Ledger>,
    pub ids: Box<dyn IdSource>,
}

/// A sale just completed, shown until the next customer.
struct Completed {
    receipt_number: String,
    total: Money,
    paid: Money,
    change: Money,
    tenders: Vec<TenderView>,
}

/// An intent waiting for a manager's approval, with what the prompt says.
struct Pending {
    intent: Intent,
    what: String,
}

pub struct Till {
    setup: TillSetup,
    ports: TillPorts,
    now: Timestamp,
    screen: Screen,
    cashier: Option<Actor>,
    /// Who locked the till or left it; their open cart is held when someone else logs in.
    left_by: Option<Actor>,
    cart: Cart,
    selected: Option<LineNo>,
    payment: Option<Payment>,
    completed: Option<Completed>,
    search_text: String,
    search_results: Vec<ProductTile>,
    pin_failures: BTreeMap<UserId, u32>,
    locked_out: BTreeSet<UserId>,
    pending: Option<Pending>,
    message: Option<Message>,
    returns: refunding::Returns,
    desk: shift::ShiftDesk,
    receipts: receipts::ReceiptDesk,
    effects: EffectQueue,
    decoder: Option<Decoder>,
    decoder_rules: DecodeRules,
    /// The weighed product waiting for its weight to be typed.
    weighing: Option<pos_core::catalog::Product>,
    customer_search: String,
    customer_results: Vec<CustomerMatch>,
    /// The attached customer's next tier and the spend still needed for it.
    customer_progress: Option<(Tier, Money)>,
    /// How long the till may go untouched before it locks itself; `None`: never.
    auto_lock_after_ms: Option<i64>,
    /// The unknown code just scanned, for a manager's "add as new product".
    new_product_code: Option<String>,
    /// The shop's settings saved while a sale was under way, for the next sale.
    next_setup: Option<TillSetup>,
}

impl Till {
    pub fn new(setup: TillSetup, ports: TillPorts, now: Timestamp) -> Till {
        let cart = Cart::new(setup.store.currency);
        let decoder_rules = scanning::default_rules();
        // The built-in rules are valid (a test says so); were they not, codes would be
        // looked up as typed.
        let decoder = Decoder::new(decoder_rules.clone()).ok();
        Till {
            setup,
            ports,
            now,
            screen: Screen::Login,
            cashier: None,
            left_by: None,
            cart,
            selected: None,
            payment: None,
            completed: None,
            search_text: String::new(),
            search_results: Vec::new(),
            pin_failures: BTreeMap::new(),
            locked_out: BTreeSet::new(),
            pending: None,
            message: None,
            returns: refunding::Returns::default(),
            desk: shift::ShiftDesk::default(),
            receipts: receipts::ReceiptDesk::default(),
            effects: EffectQueue::default(),
            decoder,
            decoder_rules,
            weighing: None,
            customer_search: String::new(),
            customer_results: Vec::new(),
            auto_lock_after_ms: Some(AUTO_LOCK_AFTER_MS_DEFAULT),
            new_product_code: None,
            customer_progress: None,
            next_setup: None,
        }
    }

    /// The shop's settings as saved since the till started (in the back office, or pulled
    /// from the fleet): taxes, rounding, receipt text, discount limits, switches, loyalty.
    /// A sale under way finishes with the settings it started with; the next one prices,
    /// rounds and prints with these. The terminal stays the one it is.
    pub fn update_shop(&mut self, setup: TillSetup) {
        self.next_setup = Some(setup);
        self.take_next_setup();
    }

    /// Puts the settings saved meanwhile in force once no sale is under way.
    fn take_next_setup(&mut self) {
        let between_sales =
            self.cart.is_empty() && self.payment.is_none() && self.completed.is_none();
        if !between_sales {
            return;
        }
        let Some(setup) = self.next_setup.take() else {
            return;
        };
        let device = self.setup.device.clone();
        self.setup = TillSetup { device, ..setup };
        if self.cart.currency() != self.setup.store.currency {
            self.cart = Cart::new(self.setup.store.currency);
        }
    }

    /// The store's rules for reading scale labels (`terminal.toml`'s `[barcodes]`), replacing
    /// [`default_rules`]. Rules that cannot work are refused and the old ones stay.
    /// Locks the till after `after_ms` without a touch (`None`: never), instead of
    /// [`AUTO_LOCK_AFTER_MS_DEFAULT`].
    pub fn set_auto_lock(&mut self, after_ms: Option<i64>) {
        self.auto_lock_after_ms = after_ms;
    }

    /// Time passing without a touch: a till left untouched for the auto-lock time locks as
    /// if its cashier had tapped Lock (their cart waits for them), unless a payment is under
    /// way. Returns whether it locked. The screen calls it on its clock tick.
    pub fn lock_if_idle(&mut self, now: Timestamp) -> bool {
        let Some(after_ms) = self.auto_lock_after_ms else {
            return false;
        };
        let idle_ms = now.unix_ms().saturating_sub(self.now.unix_ms());
        if self.cashier.is_none() || idle_ms < after_ms {
            return false;
        }
        let minutes = after_ms / 60_000;
        let shown = self.message.clone();
        match self.handle(Intent::Lock, now) {
            Ok(()) => {
                self.message = Some(info(format!(
                    "Locked after {minutes} min without use; tap your name to go on"
                )));
                true
            }
            // A payment with tenders or an exchange stays open: the cashier must finish it.
            Err(_) => {
                self.message = shown;
                false
            }
        }
    }

    pub fn set_scan_rules(&mut self, rules: DecodeRules) -> Result<(), RuleError> {
        self.decoder = Some(Decoder::new(rules.clone())?);
        self.decoder_rules = rules;
        Ok(())
    }

    /// What the till asks of the printer, the drawer and the outbox since the last call,
    /// oldest first. The terminal calls it after every intent.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        self.effects.take()
    }

    /// Effects dropped because nobody took them, for the terminal's log.
    pub fn effects_dropped(&self) -> u64 {
        self.effects.dropped()
    }

    /// The edges back, as when the terminal stops: a new `Till` over them carries on with the
    /// shift that is open.
    pub fn into_ports(self) -> TillPorts {
        self.ports
    }

    /// Applies one intent at time `now`. On success the message says what happened; on
    /// failure nothing changed except the message, which says why and what to do next.
    pub fn handle(&mut self, intent: Intent, now: Timestamp) -> Result<(), TillError> {
        self.now = now;
        self.new_product_code = None;
        let result = self.dispatch_and_say(intent);
        self.take_next_setup();
        result
    }

    /// Runs `intent` and leaves its message (or why it was refused) for the cashier.
    fn dispatch_and_say(&mut self, intent: Intent) -> Result<(), TillError> {
        match self.dispatch(intent.clone(), None) {
            Ok(message) => {
                self.message = message;
                Ok(())
            }
            Err(error) => {
                if let (Intent::Scan(_), TillError::UnknownCode(code)) = (&intent, &error)
                    && self
                        .cashier
                        .as_ref()
                        .is_some_and(|c| c.role.allows(permission::PRODUCTS_EDIT))
                {
                    self.new_product_code = Some(code.clone());
                }
                if error.kind() == crate::error::TillErrorKind::Approval
                    && let Some(what) = self.approval_subject(&intent)
                {
                    self.pending = Some(Pending { intent, what });
                }
                self.message = Some(Message {
                    text: capitalised(&error.to_string()),
                    tone: Tone::Problem,
                });
                Err(error)
            }
        }
    }

    fn dispatch(
        &mut self,
        intent: Intent,
        approver: Option<&Actor>,
    ) -> Result<Option<Message>, TillError> {
        match intent {
            Intent::Login { user, pin } => self.login(&user, &pin),
            Intent::Unlock { user, manager, pin } => self.unlock(&user, &manager, &pin),
            Intent::Approve { manager, pin } => self.approve(&manager, &pin),
            other => {
                let Some(cashier) = self.cashier.clone() else {
                    return Err(TillError::NotLoggedIn);
                };
                self.act(other, &cashier, approver)
            }
        }
    }

    fn act(
        &mut self,
        intent: Intent,
        cashier: &Actor,
        approver: Option<&Actor>,
    ) -> Result<Option<Message>, TillError> {
        // A copy, so the authority does not hold the till borrowed while the cart changes.
        let features = self.setup.features.clone();
        let authority = Authority {
            features: &features,
            actor: cashier,
            approver,
            at: self.now,
        };
        // The weight prompt is answered or cancelled; anything else moves on without it.
        if !matches!(intent, Intent::EnterWeight(_) | Intent::Back) {
            self.weighing = None;
        }
        match intent {
            Intent::Login { .. } | Intent::Unlock { .. } | Intent::Approve { .. } => {
                Err(TillError::NotHere)
            }
            Intent::Scan(code) if self.screen == Screen::Refund => {
                self.refund_act(Intent::Scan(code), cashier, approver)
            }
            Intent::Scan(code) => self.scan(code.trim()),
            Intent::ScanRefused(refusal) => {
                self.checkout_only()?;
                Err(TillError::Scan(refusal))
            }
            Intent::EnterWeight(typed) => self.enter_weight(&typed),
            Intent::SearchCustomers(text) => self.search_customers(&text),
            Intent::AttachCustomerId(id) => self.attach_by_id(&id),
            Intent::DetachCustomer => self.detach(),
            Intent::CartDiscount { kind, value } => self.cart_discount(kind, &value, &authority),
            Intent::StartRefund
            | Intent::FindSale(_)
            | Intent::OpenSale(_)
            | Intent::ToggleReturn(_)
            | Intent::ReturnQuantity { .. }
            | Intent::ReturnReason(_)
            | Intent::RefundTo(_)
            | Intent::NoReceiptReturn
            | Intent::ConfirmRefund
            | Intent::StartExchange
            | Intent::CancelExchange => self.refund_act(intent, cashier, approver),
            Intent::Search(text) => {
                self.checkout_only()?;
                self.search_results = self
                    .ports
                    .catalogue
                    .search(&text, SEARCH_RESULTS_MAX)
                    .iter()
                    .map(tile)
                    .collect();
                self.search_text = text;
                Ok(None)
            }
            Intent::AddProduct(id) => {
                self.checkout_only()?;
                let product = self
                    .ports
                    .catalogue
                    .product(&id)
                    .ok_or(TillError::UnknownProduct)?;
                self.add_product(product)
            }
            Intent::SelectLine(line) => {
                self.cart.line(line)?;
                self.selected = Some(line);
                Ok(None)
            }
            Intent::SetQuantity { line, quantity } => {
                self.checkout_only()?;
                let unit = self.cart.line(line)?.product.unit;
                let parsed = Quantity::parse(&quantity.replace(',', "."), unit)
                    .map_err(|_| TillError::BadQuantity(quantity.trim().to_owned()))?;
                self.cart.set_quantity(line, parsed)?;
                self.selected = Some(line);
                Ok(None)
            }
            Intent::RemoveLine(line) => {
                self.checkout_only()?;
                let void = self.cart.remove(line, &authority)?;
                let name = void
                    .lines
                    .first()
                    .map(|l| l.product.display_name())
                    .unwrap_or_default();
                let mut events = vec![DomainEvent::LinesVoided(void.clone())];
                events.extend(void.approval.map(DomainEvent::OverrideApproved));
                self.record(cashier, events)?;
                self.selected = self.cart.lines().last().map(|l| l.line_no);
                Ok(Some(info(format!("Removed {name}"))))
            }
            Intent::LineDiscount { line, percent } => {
                self.checkout_only()?;
                let value: Decimal = percent
                    .trim()
                    .trim_end_matches('%')
                    .replace(',', ".")
                    .parse()
                    .map_err(|_| TillError::BadPercent(percent.trim().to_owned()))?;
                let discount = (!value.is_zero()).then_some((DiscountKind::Percent(value), None));
                self.cart.set_line_discount(
                    line,
                    discount,
                    &self.setup.store.discounts,
                    &authority,
                )?;
                self.selected = Some(line);
                Ok(None)
            }
            Intent::AttachCustomer { card } => {
                self.checkout_only()?;
                let customer = self
                    .ports
                    .catalogue
                    .customer_by_card(&card)
                    .ok_or_else(|| TillError::UnknownCode(card.trim().to_owned()))?;
                Ok(Some(self.attach(customer)))
            }
            Intent::Hold { label } => {
                self.checkout_only()?;
                let label = self.hold_cart(cashier, label.trim())?;
                Ok(Some(info(format!(
                    "Held as “{label}”; ready for the next customer"
                ))))
            }
            Intent::ShowHeld => {
                self.checkout_only()?;
                self.screen = Screen::Held;
                Ok(None)
            }
            Intent::Resume(id) => {
                if self.screen != Screen::Held && self.screen != Screen::Checkout {
                    return Err(TillError::NotHere);
                }
                if !self.cart.is_empty() {
                    return Err(TillError::CartNotEmpty);
                }
                let held = self
                    .ports
                    .ledger
                    .resume(&id, &self.setup.device, self.now)?;
                let label = held.label.clone();
                self.cart = held.cart;
                self.customer_progress = self
                    .cart
                    .customer()
                    .and_then(|c| self.ports.catalogue.customer(&c.id))
                    .and_then(|m| m.next_tier);
                self.selected = self.cart.lines().last().map(|l| l.line_no);
                self.screen = Screen::Checkout;
                self.record(
                    cashier,
                    vec![DomainEvent::CartResumed {
                        id,
                        device: self.setup.device.clone(),
                    }],
                )?;
                Ok(Some(info(format!("Resumed “{label}”"))))
            }
            Intent::StartPayment => {
                self.checkout_only()?;
                if self.cart.is_empty() {
                    return Err(TillError::EmptyCart);
                }
                let priced = self.price()?;
                let payment = self.payment_for(cashier, priced.total)?;
                let paid_by_exchange = payment.is_complete();
                self.payment = Some(payment);
                self.screen = Screen::Payment;
                if paid_by_exchange {
                    return self.finish(cashier).map(Some);
                }
                Ok(None)
            }
            Intent::AddTender {
                kind,
                amount,
                reference,
            } => self.tender(cashier, kind, &amount, &reference),
            Intent::RemoveTender(index) => {
                if index < self.credit_tenders() {
                    return Err(TillError::ExchangeOpen);
                }
                let payment = self.payment.as_mut().ok_or(TillError::NotHere)?;
                payment.remove(index)?;
                Ok(None)
            }
            Intent::Complete => {
                if self.payment.as_ref().is_none_or(|p| !p.is_complete()) {
                    return Err(TillError::NotHere);
                }
                self.finish(cashier).map(Some)
            }
            Intent::Back => {
                if self.pending.take().is_some() {
                    return Ok(Some(info("Approval cancelled".to_owned())));
                }
                if self.weighing.take().is_some() {
                    return Ok(None);
                }
                self.customer_search.clear();
                self.customer_results.clear();
                match self.screen {
                    Screen::Refund => return self.refund_back(),
                    Screen::Payment if self.completed.is_none() => {
                        if self
                            .payment
                            .as_ref()
                            .is_some_and(|p| p.tenders().len() > self.credit_tenders())
                        {
                            return Err(TillError::TendersTaken);
                        }
                        self.payment = None;
                        self.screen = Screen::Checkout;
                    }
                    Screen::Held | Screen::Shift | Screen::ShiftClose => {
                        self.screen = Screen::Checkout;
                    }
                    _ => {
                        self.search_text.clear();
                        self.search_results.clear();
                    }
                }
                Ok(None)
            }
            Intent::NextCustomer => {
                self.returns.close();
                self.next_customer();
                Ok(None)
            }
            Intent::Shift(intent) => self.shift_intent(intent, cashier, approver),
            Intent::Receipt(intent) => self.receipt_intent(intent),
            Intent::Lock | Intent::SwitchCashier => {
                if self
                    .payment
                    .as_ref()
                    .is_some_and(|p| !p.tenders().is_empty())
                {
                    return Err(TillError::PaymentOpen);
                }
                if self.returns.exchanging() {
                    return Err(TillError::ExchangeOpen);
                }
                self.returns.close();
                self.payment = None;
                self.completed = None;
                self.pending = None;
                self.left_by = Some(cashier.clone());
                self.cashier = None;
                self.screen = Screen::Login;
                Ok(None)
            }
        }
    }

    fn checkout_only(&mut self) -> Result<(), TillError> {
        match self.screen {
            Screen::Checkout => Ok(()),
            Screen::Held | Screen::Shift | Screen::ShiftClose => {
                self.screen = Screen::Checkout;
                Ok(())
            }
            Screen::Payment if self.completed.is_some() => {
                // The next customer's first touch starts the next sale.
                self.next_customer();
                Ok(())
            }
            Screen::Payment => Err(TillError::PaymentOpen),
            Screen::Login => Err(TillError::NotLoggedIn),
            Screen::Refund => Err(TillError::NotHere),
            Screen::ShiftOpen => Err(TillError::NoShift),
        }
    }

    fn hold_cart(&mut self, by: &Actor, label: &str) -> Result<String, TillError> {
        if self.cart.is_empty() {
            return Err(TillError::EmptyCart);
        }
        let held = HeldCart {
            id: self.ports.ids.held_cart(),
            label: label.to_owned(),
            cart: self.cart.clone(),
            held_at: self.now,
            held_by: by.user.clone(),
            device: self.setup.device.clone(),
        };
        let id = held.id.clone();
        self.ports.ledger.hold(held)?;
        // The ledger names an unlabelled cart; the event records the cart as it was stored.
        let stored = self.ports.ledger.held().into_iter().find(|h| h.id == id);
        let label = stored
            .as_ref()
            .map(|h| h.label.clone())
            .unwrap_or_else(|| label.to_owned());
        if let Some(stored) = stored {
            self.record(by, vec![DomainEvent::CartHeld(stored)])?;
        }
        self.cart = Cart::new(self.setup.store.currency);
        self.customer_progress = None;
        self.selected = None;
        Ok(label)
    }

    fn tender(
        &mut self,
        cashier: &Actor,
        choice: TenderChoice,
        amount: &str,
        reference: &str,
    ) -> Result<Option<Message>, TillError> {
        if self.completed.is_some() {
            return Err(TillError::NotHere);
        }
        let currency = self.setup.store.currency;
        let payment = self.payment.as_mut().ok_or(TillError::NotHere)?;
        let amount = if amount.trim().is_empty() {
            match choice {
                TenderChoice::Cash => payment.remaining_in_cash(),
                TenderChoice::Card | TenderChoice::Wallet => payment.remaining(),
            }
        } else {
            Money::parse(&amount.trim().replace(',', "."), currency)
                .map_err(|_| TillError::BadAmount(amount.trim().to_owned()))?
        };
        match choice {
            TenderChoice::Cash => {
                payment.add_cash(amount)?;
            }
            TenderChoice::Card | TenderChoice::Wallet => {
                let reference = Some(reference.trim().to_owned()).filter(|r| !r.is_empty());
                payment.add_electronic(choice.kind(), amount, reference)?;
            }
        }
        if payment.is_complete() {
            return self.finish(cashier).map(Some);
        }
        Ok(None)
    }

    /// Records the paid sale with its stock movements, points, overrides and drawer opening.
    /// If recording fails the payment stays open and `Complete` tries again.
    fn finish(&mut self, cashier: &Actor) -> Result<Message, TillError> {
        let payment = self.payment.clone().ok_or(TillError::NotHere)?;
        let summary = payment.finish()?;
        let priced = self.price()?;
        let context = SaleContext {
            id: self.ports.ids.sale(),
            receipt_number: self.ports.ids.receipt_number(),
            store: self.setup.store.id.clone(),
            device: self.setup.device.clone(),
            cashier: cashier.user.clone(),
            shift: Some(self.desk.shift_id().ok_or(TillError::NoShift)?.clone()),
            at: self.now,
        };
        let sale = Sale::complete(priced, summary, context, Some(&self.setup.loyalty))?;
        let ids = &mut self.ports.ids;
        // Sale lines come in cart order; each takes the batch it was scanned with and what
        // it takes off the shelf.
        let mut shelf = sale
            .lines
            .iter()
            .map(|l| {
                let line = self.cart.line(l.line_no).ok();
                let batch = line
                    .and_then(|line| line.lot.as_ref())
                    .map(|lot| pos_core::id::BatchId::new(format!("{}:{lot}", l.product.id)));
                (batch, line.map(|line| line.shelf_quantity()))
            })
            .collect::<Vec<_>>()
            .into_iter();
        let movements = stock::movements_for_sale(
            &sale,
            |_, sold| {
                let (batch, taken) = shelf.next().unwrap_or((None, None));
                vec![(batch, taken.unwrap_or(sold))]
            },
            || ids.movement(),
        );
        let (mut events, exchanged) = self.exchange_events(cashier, &sale)?;
        // The drawer opens for the tenders the store configured, and the journal says so.
        events.extend(
            event::sale_events(&sale, &movements)
                .into_iter()
                .filter(|e| !matches!(e, DomainEvent::DrawerOpened(_))),
        );
        let opens_drawer = self
            .setup
            .store
            .drawer
            .opens_for(sale.payment.tenders.iter().map(|t| t.kind));
        if opens_drawer {
            events.push(DomainEvent::DrawerOpened(event::DrawerReason::Sale(
                sale.id.clone(),
            )));
        }
        self.record(cashier, events)?;
        self.exchange_done();
        if opens_drawer {
            self.effects.push(Effect::OpenDrawer);
        }
        let currency = sale.currency;
        let paid = Money::sum(currency, sale.payment.tenders.iter().map(|t| &t.received))?;
        let completed = Completed {
            receipt_number: sale.receipt_number.to_string(),
            total: sale.total,
            paid,
            change: sale.payment.change,
            tenders: sale.payment.tenders.iter().map(tender_view).collect(),
        };
        let mut message = if completed.change.is_positive() {
            format!("Paid. Give {} change", completed.change.display_amount())
        } else {
            "Paid".to_owned()
        };
        if let Some(exchanged) = exchanged {
            message = format!("{message}. {exchanged}");
        }
        self.completed = Some(completed);
        self.sale_completed(sale);
        self.payment = None;
        self.cart = Cart::new(currency);
        self.customer_progress = None;
        self.selected = None;
        Ok(Message {
            text: message,
            tone: Tone::Success,
        })
    }

    fn record(&mut self, actor: &Actor, events: Vec<DomainEvent>) -> Result<(), TillError> {
        let envelopes = events
            .into_iter()
            .map(|event| EventEnvelope {
                id: self.ports.ids.event(),
                device: self.setup.device.clone(),
                actor: actor.user.clone(),
                at: self.now,
                event,
            })
            .collect();
        Ok(self.ports.ledger.record(envelopes)?)
    }

    fn login(&mut self, user: &UserId, pin: &str) -> Result<Option<Message>, TillError> {
        if self.screen != Screen::Login {
            return Err(TillError::NotHere);
        }
        let person = self.check_pin(user, pin)?;
        let mut message = format!("Hello {}", person.name);
        if let Some(left_by) = self.left_by.take()
            && left_by.user != person.user
            && !self.cart.is_empty()
        {
            let label = self.hold_cart(&left_by, &format!("{}'s open cart", left_by.name))?;
            message = format!("{message}. {}'s cart is held as “{label}”", left_by.name);
        }
        self.screen = self.screen_after_login()?;
        if self.screen == Screen::ShiftOpen {
            message = format!("{message}. Count the opening float to open the shift");
        }
        self.cashier = Some(person);
        Ok(Some(Message {
            text: message,
            tone: Tone::Info,
        }))
    }

    /// Checks a PIN, counting wrong ones and locking the person out at the limit.
    fn check_pin(&mut self, user: &UserId, pin: &str) -> Result<Actor, TillError> {
        let person = self
            .ports
            .staff
            .people()
            .into_iter()
            .find(|p| p.user == *user)
            .ok_or_else(|| TillError::UnknownPerson(user.to_string()))?;
        if self.locked_out.contains(user) {
            return Err(TillError::LockedOut { name: person.name });
        }
        let pin = pin.trim();
        if !(PIN_DIGITS_MIN..=PIN_DIGITS_MAX).contains(&pin.len())
            || !pin.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(TillError::PinShape);
        }
        if self.ports.staff.pin_matches(user, pin) {
            self.pin_failures.remove(user);
            return Ok(person);
        }
        let failures = self.pin_failures.entry(user.clone()).or_insert(0);
        *failures += 1;
        if *failures >= PIN_ATTEMPTS_MAX {
            self.pin_failures.remove(user);
            self.locked_out.insert(user.clone());
            return Err(TillError::LockedOut { name: person.name });
        }
        Err(TillError::WrongPin {
            name: person.name,
            attempts_left: PIN_ATTEMPTS_MAX - *failures,
        })
    }

    fn unlock(
        &mut self,
        user: &UserId,
        manager: &UserId,
        pin: &str,
    ) -> Result<Option<Message>, TillError> {
        let approver = self.check_pin(manager, pin)?;
        if approver.user == *user || !approver.role.allows(UNLOCK_PERMISSION) {
            return Err(TillError::NotAnApprover {
                name: approver.name,
            });
        }
        self.locked_out.remove(user);
        self.pin_failures.remove(user);
        Ok(Some(info(format!(
            "{} unlocked {}; log in with the PIN",
            approver.name,
            self.name_of(user)
        ))))
    }

    fn approve(&mut self, manager: &UserId, pin: &str) -> Result<Option<Message>, TillError> {
        let Some(cashier) = self.cashier.clone() else {
            return Err(TillError::NotLoggedIn);
        };
        let Some(pending) = self.pending.take() else {
            return Err(TillError::NotHere);
        };
        let approver = match self.check_pin(manager, pin) {
            Ok(approver) => approver,
            Err(error) => {
                self.pending = Some(pending);
                return Err(error);
            }
        };
        match self.act(pending.intent.clone(), &cashier, Some(&approver)) {
            Ok(message) => Ok(Some(Message {
                text: match message {
                    Some(m) => format!("Approved by {}. {}", approver.name, m.text),
                    None => format!("Approved by {}", approver.name),
                },
                tone: Tone::Success,
            })),
            Err(
                TillError::Cart(CartError::Access(
                    pos_core::access::AccessError::ApproverLacksPermission { .. }
                    | pos_core::access::AccessError::SelfApproval(_),
                ))
                | TillError::Access(
                    pos_core::access::AccessError::ApproverLacksPermission { .. }
                    | pos_core::access::AccessError::SelfApproval(_),
                ),
            ) => {
                self.pending = Some(pending);
                Err(TillError::NotAnApprover {
                    name: approver.name,
                })
            }
            Err(other) => Err(other),
        }
    }

    /// What the approval prompt names, for intents a manager can approve.
    fn approval_subject(&self, intent: &Intent) -> Option<String> {
        let name = |line: &LineNo| {
            self.cart
                .line(*line)
                .map(|l| l.product.display_name())
                .unwrap_or_default()
        };
        match intent {
            Intent::LineDiscount { line, percent } => Some(format!(
                "A {}% discount on {}",
                percent.trim().trim_end_matches('%'),
                name(line)
            )),
            Intent::RemoveLine(line) => Some(format!("Removing {} (already printed)", name(line))),
            Intent::CartDiscount {
                kind: CartDiscountKind::Percent,
                value,
            } => Some(format!(
                "A {}% discount on the whole cart",
                value.trim().trim_end_matches('%')
            )),
            Intent::CartDiscount {
                kind: CartDiscountKind::Amount,
                value,
            } => Some(format!("{} off the whole cart", value.trim())),
            Intent::ConfirmRefund | Intent::StartExchange => self.refund_approval_subject(intent),
            Intent::Shift(intent) => self.shift_approval_subject(intent),
            _ => None,
        }
    }

    fn name_of(&self, user: &UserId) -> String {
        self.ports
            .staff
            .people()
            .into_iter()
            .find(|p| p.user == *user)
            .map(|p| p.name)
            .unwrap_or_else(|| user.to_string())
    }

    fn price(&self) -> Result<PricedCart, TillError> {
        price(&self.setup, &self.cart, self.now)
    }

    /// What the screen shows now.
    pub fn view(&self) -> TillView {
        let currency = self.setup.store.currency;
        let people = self
            .ports
            .staff
            .people()
            .into_iter()
            .map(|p| PersonTile {
                locked_out: self.locked_out.contains(&p.user),
                user: p.user,
                name: p.name,
                role: p.role.name,
            })
            .collect();
        let held = self
            .ports
            .ledger
            .held()
            .into_iter()
            .map(|h| HeldView {
                total: price(&self.setup, &h.cart, self.now)
                    .map(|p| p.total.display_amount())
                    .unwrap_or_default(),
                item_count: item_count(&h.cart),
                age: age_text(self.now.unix_ms() - h.held_at.unix_ms()),
                held_by: self.name_of(&h.held_by),
                label: h.label,
                id: h.id,
            })
            .collect();
        TillView {
            screen: self.screen,
            store_name: self.setup.store.name.clone(),
            device: self.setup.device.to_string(),
            time: {
                let local = self.now.local(self.setup.store.utc_offset);
                format!(
                    "{:02}:{:02}",
                    local.minute_of_day / 60,
                    local.minute_of_day % 60
                )
            },
            cashier: self.cashier.as_ref().map(|c| c.name.clone()),
            message: self.message.clone(),
            new_product_code: self.new_product_code.clone(),
            login: LoginView {
                people,
                locked_by: self.left_by.as_ref().map(|p| p.name.clone()),
            },
            cart: self.cart_view(),
            search_text: self.search_text.clone(),
            search_results: self.search_results.clone(),
            favourites: self.ports.catalogue.favourites().iter().map(tile).collect(),
            held,
            payment: self.payment_view(currency),
            approval: self.pending.as_ref().map(|p| ApprovalView {
                what: p.what.clone(),
            }),
            refund: self.refund_view(),
            exchange: self.exchange_view(),
            shift: self.shift_view(),
            receipt: self.receipt_view(),
            weighing: self.weighing_view(),
            customer_search: self.customer_search.clone(),
            customer_results: self.customer_tiles(),
        }
    }

    fn cart_view(&self) -> CartView {
        let currency = self.setup.store.currency;
        let zero = Money::zero(currency).display_amount();
        let priced = self.price().ok();
        let lines = priced
            .as_ref()
            .map(|p| {
                p.lines
                    .iter()
                    .map(|l| LineView {
                        line_no: l.line_no,
                        name: l.product.display_name(),
                        quantity: quantity_text(l.quantity, l.product.unit),
                        unit: l.product.unit.symbol().to_owned(),
                        unit_price: l.unit_price.display_amount(),
                        amount: l.amount.display_amount(),
                        discounts: l
                            .discounts
                            .iter()
                            .map(|d| format!("{} −{}", d.label, d.amount.display_amount()))
                            .collect(),
                        detail: l.note.clone().unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let figure = |pick: fn(&PricedCart) -> Money| {
            priced
                .as_ref()
                .map(|p| pick(p).display_amount())
                .unwrap_or_else(|| zero.clone())
        };
        CartView {
            lines,
            selected: self.selected,
            item_count: item_count(&self.cart),
            subtotal: figure(|p| p.subtotal),
            discount_total: figure(|p| p.discount_total),
            taxes: priced
                .as_ref()
                .map(|p| {
                    p.taxes
                        .iter()
                        .map(|t| (t.name.clone(), t.tax.display_amount()))
                        .collect()
                })
                .unwrap_or_default(),
            tax: figure(|p| p.tax),
            total: figure(|p| p.total),
            currency: currency.code().to_owned(),
            customer: self
                .cart
                .customer()
                .map(|c| format!("{} · {} · {} points", c.name, c.tier.name(), c.points)),
            customer_detail: self.customer_view(),
            cart_discount: self.cart_discount_text(),
        }
    }

    fn payment_view(&self, currency: pos_core::money::Currency) -> Option<PaymentView> {
        if let Some(done) = &self.completed {
            return Some(PaymentView {
                total: done.total.display_amount(),
                paid: done.paid.display_amount(),
                due: Money::zero(currency).display_amount(),
                change: done.change.display_amount(),
                tenders: done.tenders.clone(),
                quick_cash: Vec::new(),
                receipt_number: Some(done.receipt_number.clone()),
            });
        }
        let payment = self.payment.as_ref()?;
        let received = Money::sum(currency, payment.tenders().iter().map(|t| &t.received)).ok()?;
        let change = Money::sum(
            currency,
            payment
                .tenders()
                .iter()
                .filter_map(|t| t.received.checked_sub(t.applied).ok())
                .collect::<Vec<_>>()
                .iter(),
        )
        .ok()?;
        Some(PaymentView {
            total: payment.total().display_amount(),
            paid: received.display_amount(),
            due: payment.remaining().display_amount(),
            change: change.display_amount(),
            tenders: payment.tenders().iter().map(tender_view).collect(),
            quick_cash: quick_cash(payment.remaining_in_cash())
                .iter()
                .map(Money::display_amount)
                .collect(),
            receipt_number: None,
        })
    }

    /// The ledger the till records to, for the terminal to read back.
    pub fn ledger(&self) -> &dyn Ledger {
        self.ports.ledger.as_ref()
    }
}

fn price(setup: &TillSetup, cart: &Cart, now: Timestamp) -> Result<PricedCart, TillError> {
    Ok(cart.price(&PricingContext {
        taxes: &setup.store.taxes,
        tax_policy: &setup.store.tax_policy,
        promotions: &setup.promotions,
        local_time: now.local(setup.store.utc_offset),
    })?)
}

fn info(text: String) -> Message {
    Message {
        text,
        tone: Tone::Info,
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn tile(product: &pos_core::catalog::Product) -> ProductTile {
    ProductTile {
        id: product.id.clone(),
        name: product.display_name(),
        price: product.price.display_amount(),
        per_unit: if product.unit.is_weighed() {
            product.unit.symbol().to_owned()
        } else {
            String::new()
        },
    }
}

fn tender_view(tender: &pos_core::tender::Tender) -> TenderView {
    TenderView {
        kind: tender.kind.name().to_owned(),
        amount: tender.received.display_amount(),
        reference: tender.reference.clone().unwrap_or_default(),
    }
}

/// Pieces count one each; a weighed line counts as one item.
fn item_count(cart: &Cart) -> u32 {
    cart.lines()
        .iter()
        .map(|l| {
            if l.product.unit.is_weighed() {
                1
            } else {
                u32::try_from(l.quantity.value().trunc().mantissa()).unwrap_or(u32::MAX)
            }
        })
        .fold(0_u32, u32::saturating_add)
}

fn quantity_text(quantity: Quantity, unit: pos_core::quantity::Unit) -> String {
    if unit.is_weighed() {
        let mut value = quantity.value();
        value.rescale(3);
        value.to_string()
    } else {
        quantity.value().normalize().to_string()
    }
}

/// "just now", "12 min ago", "2 h 05 min ago".
fn age_text(age_ms: i64) -> String {
    let minutes = age_ms.max(0) / 60_000;
    match minutes {
        0 => "just now".to_owned(),
        1..=59 => format!("{minutes} min ago"),
        _ => format!("{} h {:02} min ago", minutes / 60, minutes % 60),
    }
}

/// The exact amount, then the next round amounts a customer is likely to hand over: the next
/// whole unit (when there are cents) and the next 5, 10, 20, 50 and 100 above it, at most
/// three of them.
fn quick_cash(due: Money) -> Vec<Money> {
    let mut out = vec![due];
    if !due.is_positive() {
        return out;
    }
    for step in [1_i64, 5, 10, 20, 50, 100] {
        let step = Decimal::from(step);
        if step == Decimal::ONE && due.amount().fract().is_zero() {
            continue;
        }
        let next = (due.amount() / step).floor() * step + step;
        let candidate = Money::new(next, due.currency());
        if out.iter().all(|m| m.amount() != next) {
            out.push(candidate);
        }
        if out.len() > QUICK_CASH_NOTES_MAX {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(text: &str) -> Money {
        Money::parse(text, pos_core::money::Currency::EUR).unwrap()
    }

    #[test]
    fn quick_cash_offers_exact_then_next_notes() {
        let shown: Vec<String> = quick_cash(eur("13.47"))
            .iter()
            .map(Money::display_amount)
            .collect();
        assert_eq!(shown, vec!["13.47", "14.00", "15.00", "20.00"]);
        let round: Vec<String> = quick_cash(eur("20.00"))
            .iter()
            .map(Money::display_amount)
            .collect();
        assert_eq!(round, vec!["20.00", "25.00", "30.00", "40.00"]);
    }

    #[test]
    fn ages_read_like_a_person_says_them() {
        assert_eq!(age_text(20_000), "just now");
        assert_eq!(age_text(12 * 60_000), "12 min ago");
        assert_eq!(age_text(125 * 60_000), "2 h 05 min ago");
    }
}
