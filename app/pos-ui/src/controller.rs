//! The one bridge between the till session and the Slint globals: views in, intents out.

use std::cell::RefCell;
use std::rc::Rc;

use pos_core::cart::LineNo;
use pos_core::clock::Timestamp;
use pos_core::id::{HeldCartId, ProductId, ReceiptNumber, UserId};
use pos_core::refund::RefundDestination;
use pos_till::refunding::RefundStep as TillRefundStep;
use pos_till::view::{Screen, TillView, Tone as TillTone};
use pos_till::{Effect, Intent, TenderChoice, Till, TillError};
use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};

use crate::{
    AppWindow, CartAdapter, CartLine, HeldAdapter, HeldTile, Page, PaymentAdapter, PersonTile,
    ProductTile, ReasonTile, RefundAdapter, RefundStep, RefundTo, ReturnLine, SaleRow,
    SessionAdapter, StatusAdapter, TaxLine, TenderKind, TenderLine, Tone,
};

/// What the status bar says about the world outside the till; the terminal service sets it
/// from the sync agent and the printer driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceStatus {
    pub online: bool,
    pub printer_ready: bool,
    /// "Printer ready", "Paper out", "No printer".
    pub printer: String,
}

impl Default for DeviceStatus {
    fn default() -> DeviceStatus {
        DeviceStatus {
            online: false,
            printer_ready: false,
            printer: "No printer".to_owned(),
        }
    }
}

/// The till session shown on an [`AppWindow`]. Cheap to clone; every clone drives the same
/// session. Lives on the UI thread only.
#[derive(Clone)]
pub struct TillScreen {
    inner: Rc<Inner>,
}

struct Inner {
    window: slint::Weak<AppWindow>,
    till: RefCell<Till>,
    clock: Box<dyn Fn() -> Timestamp>,
    status: RefCell<DeviceStatus>,
    last_error: RefCell<Option<TillError>>,
    /// Where print, drawer and email requests go after each intent; without one they wait
    /// for [`TillScreen::take_effects`].
    effects: RefCell<Option<EffectHandler>>,
    /// Set by the terminal while the cash drawer is left open; empty otherwise.
    drawer_alert: RefCell<String>,
    /// Told each view drawn: the terminal drives the customer display from it.
    views: RefCell<Option<ViewHandler>>,
}

/// Follows what the screen shows, for a second screen such as the customer display.
type ViewHandler = Box<dyn Fn(&TillView)>;

/// Takes one print, drawer or email request to the device or outbox that serves it.
type EffectHandler = Box<dyn Fn(Effect)>;

impl TillScreen {
    /// Connects `till` to `window`'s adapters and shows its current view. `clock` gives the
    /// time for each intent: the system clock in the terminal, a fixed one in tests.
    pub fn new(
        window: &AppWindow,
        till: Till,
        clock: impl Fn() -> Timestamp + 'static,
    ) -> TillScreen {
        let screen = TillScreen {
            inner: Rc::new(Inner {
                window: window.as_weak(),
                till: RefCell::new(till),
                clock: Box::new(clock),
                status: RefCell::new(DeviceStatus::default()),
                last_error: RefCell::new(None),
                effects: RefCell::new(None),
                drawer_alert: RefCell::new(String::new()),
                views: RefCell::new(None),
            }),
        };
        screen.connect(window);
        screen.refresh();
        screen
    }

    /// Applies `intent` now and redraws. A refusal is also on screen as the cashier's message.
    pub fn send(&self, intent: Intent) -> Result<(), TillError> {
        let now = (self.inner.clock)();
        let result = self.inner.till.borrow_mut().handle(intent, now);
        if let Some(handler) = self.inner.effects.borrow().as_ref() {
            let effects = self.inner.till.borrow_mut().take_effects();
            effects.into_iter().for_each(handler);
        }
        self.refresh();
        result
    }

    /// Hands every print, drawer and email request to `handler` as the intent that caused it
    /// completes: the terminal connects its printer queue, drawer and outbox here.
    pub fn on_effects(&self, handler: impl Fn(Effect) + 'static) {
        *self.inner.effects.borrow_mut() = Some(Box::new(handler));
    }

    /// The requests waiting when no handler is connected, oldest first.
    pub fn take_effects(&self) -> Vec<Effect> {
        self.inner.till.borrow_mut().take_effects()
    }

    /// The last intent the till refused, for the terminal's log.
    pub fn take_last_error(&self) -> Option<TillError> {
        self.inner.last_error.borrow_mut().take()
    }

    /// Shows `alert` on the checkout (the drawer left open, in words), or clears it.
    pub fn set_drawer_alert(&self, alert: Option<String>) {
        *self.inner.drawer_alert.borrow_mut() = alert.unwrap_or_default();
        self.refresh();
    }

    /// The shop's settings as saved since the till started: the next sale uses them (see
    /// `Till::update_shop`).
    pub fn update_shop(&self, setup: pos_till::TillSetup) {
        self.inner.till.borrow_mut().update_shop(setup);
        self.refresh();
    }

    /// Hands every view drawn to `handler`, after it is drawn.
    pub fn on_view(&self, handler: impl Fn(&TillView) + 'static) {
        *self.inner.views.borrow_mut() = Some(Box::new(handler));
    }

    pub fn set_status(&self, status: DeviceStatus) {
        *self.inner.status.borrow_mut() = status;
        self.refresh();
    }

    /// Whether the fleet answers: kept with the rest of the status, which every redraw shows.
    pub fn set_online(&self, online: bool) {
        self.inner.status.borrow_mut().online = online;
        self.refresh();
    }

    /// The till's current view, for the terminal's readers outside the screen (the update
    /// agent asks whether a sale is under way).
    pub fn view(&self) -> TillView {
        self.inner.till.borrow().view()
    }

    /// Redraws from the till's current view, after locking the till if it was left
    /// untouched for its auto-lock time. The terminal calls it every second.
    pub fn refresh(&self) {
        let Some(window) = self.inner.window.upgrade() else {
            return;
        };
        let now = (self.inner.clock)();
        self.inner.till.borrow_mut().lock_if_idle(now);
        let view = self.inner.till.borrow().view();
        render(&window, &view, &self.inner.status.borrow());
        crate::checkout_bridge::render(&window, &view, &self.inner.drawer_alert.borrow());
        if let Some(handler) = self.inner.views.borrow().as_ref() {
            handler(&view);
        }
    }

    fn connect(&self, window: &AppWindow) {
        let session = window.global::<SessionAdapter>();
        session.on_login(
            self.sender(|user: SharedString, pin: SharedString| Intent::Login {
                user: user_id(&user),
                pin: pin.into(),
            }),
        );
        session.on_unlock({
            let screen = self.clone();
            move |user, manager, pin| {
                screen.dispatch(Intent::Unlock {
                    user: user_id(&user),
                    manager: user_id(&manager),
                    pin: pin.into(),
                })
            }
        });
        session.on_approve(self.sender(|manager: SharedString, pin: SharedString| {
            Intent::Approve {
                manager: user_id(&manager),
                pin: pin.into(),
            }
        }));
        session.on_back(self.sender0(|| Intent::Back));
        session.on_lock(self.sender0(|| Intent::Lock));

        let cart = window.global::<CartAdapter>();
        cart.on_scan(self.sender1(|code: SharedString| Intent::Scan(code.into())));
        cart.on_search(self.sender1(|text: SharedString| Intent::Search(text.into())));
        cart.on_add_product(
            self.sender1(|id: SharedString| Intent::AddProduct(ProductId::new(id.as_str()))),
        );
        cart.on_select_line(self.sender1(|line: i32| Intent::SelectLine(line_no(line))));
        cart.on_set_quantity(self.sender(|line: i32, quantity: SharedString| {
            Intent::SetQuantity {
                line: line_no(line),
                quantity: quantity.into(),
            }
        }));
        cart.on_remove_line(self.sender1(|line: i32| Intent::RemoveLine(line_no(line))));
        cart.on_line_discount(self.sender(|line: i32, percent: SharedString| {
            Intent::LineDiscount {
                line: line_no(line),
                percent: percent.into(),
            }
        }));
        cart.on_hold(self.sender1(|label: SharedString| Intent::Hold {
            label: label.into(),
        }));
        cart.on_show_held(self.sender0(|| Intent::ShowHeld));
        cart.on_start_payment(self.sender0(|| Intent::StartPayment));

        let payment = window.global::<PaymentAdapter>();
        payment.on_add_tender({
            let screen = self.clone();
            move |kind, amount, reference| {
                screen.dispatch(Intent::AddTender {
                    kind: match kind {
                        TenderKind::Cash => TenderChoice::Cash,
                        TenderKind::Card => TenderChoice::Card,
                        TenderKind::Wallet => TenderChoice::Wallet,
                    },
                    amount: amount.into(),
                    reference: reference.into(),
                })
            }
        });
        payment.on_remove_tender(self.sender1(|index: i32| {
            Intent::RemoveTender(usize::try_from(index).unwrap_or(usize::MAX))
        }));
        payment.on_complete(self.sender0(|| Intent::Complete));
        payment.on_next_customer(self.sender0(|| Intent::NextCustomer));

        window.global::<HeldAdapter>().on_resume(
            self.sender1(|id: SharedString| Intent::Resume(HeldCartId::new(id.as_str()))),
        );

        let refund = window.global::<RefundAdapter>();
        refund.on_start(self.sender0(|| Intent::StartRefund));
        refund.on_find(self.sender1(|text: SharedString| Intent::FindSale(text.into())));
        refund.on_open(self.sender1(|receipt: SharedString| {
            Intent::OpenSale(ReceiptNumber::new(receipt.as_str()))
        }));
        refund.on_toggle(self.sender1(|line: i32| Intent::ToggleReturn(line_no(line))));
        refund.on_quantity(self.sender(|line: i32, quantity: SharedString| {
            Intent::ReturnQuantity {
                line: line_no(line),
                quantity: quantity.into(),
            }
        }));
        refund
            .on_reason_chosen(self.sender1(|code: SharedString| Intent::ReturnReason(code.into())));
        refund.on_refund_to(self.sender1(|place: RefundTo| {
            Intent::RefundTo(match place {
                RefundTo::Original => RefundDestination::OriginalTenders,
                RefundTo::Cash => RefundDestination::Cash,
                RefundTo::StoreCredit => RefundDestination::StoreCredit,
            })
        }));
        refund.on_no_receipt(self.sender0(|| Intent::NoReceiptReturn));
        refund.on_confirm(self.sender0(|| Intent::ConfirmRefund));
        refund.on_exchange(self.sender0(|| Intent::StartExchange));
        refund.on_cancel_exchange(self.sender0(|| Intent::CancelExchange));
        crate::shift_bridge::connect(self, window);
        crate::checkout_bridge::connect(self, window);
    }

    /// Applies an intent from a tap or a key; a refusal is kept for the log and is already on
    /// screen as the message.
    pub(crate) fn dispatch(&self, intent: Intent) {
        if let Err(error) = self.send(intent) {
            *self.inner.last_error.borrow_mut() = Some(error);
        }
    }

    fn sender0(&self, make: impl Fn() -> Intent + 'static) -> impl Fn() + 'static {
        let screen = self.clone();
        move || screen.dispatch(make())
    }

    fn sender1<A>(&self, make: impl Fn(A) -> Intent + 'static) -> impl Fn(A) + 'static {
        let screen = self.clone();
        move |a| screen.dispatch(make(a))
    }

    fn sender<A, B>(&self, make: impl Fn(A, B) -> Intent + 'static) -> impl Fn(A, B) + 'static {
        let screen = self.clone();
        move |a, b| screen.dispatch(make(a, b))
    }
}

fn user_id(text: &SharedString) -> UserId {
    UserId::new(text.as_str())
}

fn line_no(line: i32) -> LineNo {
    LineNo(u32::try_from(line).unwrap_or(0))
}

/// `items` as the rows of the model `current`, when it is one this screen made: a row that
/// did not change stays as it is, so Slint neither builds its elements again nor redraws
/// it, and after a scan only the new line and what depends on it are drawn (a new model
/// would have every row of every list built, laid out and painted anew). The first time,
/// over the `.slint` file's sample rows, a new model.
pub(crate) fn rows<T: Clone + PartialEq + 'static>(
    current: ModelRc<T>,
    items: Vec<T>,
) -> ModelRc<T> {
    let Some(kept) = current.as_any().downcast_ref::<VecModel<T>>() else {
        return ModelRc::from(Rc::new(VecModel::from(items)));
    };
    let count = items.len();
    for (row, item) in items.into_iter().enumerate() {
        if row >= kept.row_count() {
            kept.push(item);
        } else if kept.row_data(row).as_ref() != Some(&item) {
            kept.set_row_data(row, item);
        }
    }
    while kept.row_count() > count {
        kept.remove(kept.row_count() - 1);
    }
    current
}

fn render(window: &AppWindow, view: &TillView, status: &DeviceStatus) {
    let bar = window.global::<StatusAdapter>();
    bar.set_store_name(view.store_name.as_str().into());
    bar.set_device(view.device.as_str().into());
    bar.set_cashier(view.cashier.clone().unwrap_or_default().into());
    bar.set_time(view.time.as_str().into());
    bar.set_online(status.online);
    bar.set_printer_ready(status.printer_ready);
    bar.set_printer(status.printer.as_str().into());

    let session = window.global::<SessionAdapter>();
    session.set_page(match view.screen {
        Screen::Login => Page::Login,
        Screen::Checkout => Page::Checkout,
        Screen::Payment => Page::Payment,
        Screen::Held => Page::Held,
        Screen::Refund => Page::Refund,
        Screen::ShiftOpen => Page::ShiftOpen,
        Screen::Shift => Page::Shift,
        Screen::ShiftClose => Page::ShiftClose,
    });
    session.set_people(rows(
        session.get_people(),
        view.login
            .people
            .iter()
            .map(|p| PersonTile {
                user: p.user.as_str().into(),
                initial: p
                    .name
                    .chars()
                    .next()
                    .map(String::from)
                    .unwrap_or_default()
                    .into(),
                name: p.name.as_str().into(),
                role: p.role.as_str().into(),
                locked: p.locked_out,
            })
            .collect(),
    ));
    session.set_locked_by(view.login.locked_by.clone().unwrap_or_default().into());
    let (message, tone) = match &view.message {
        Some(message) => (
            message.text.as_str(),
            match message.tone {
                TillTone::Info => Tone::Info,
                TillTone::Success => Tone::Success,
                TillTone::Problem => Tone::Problem,
            },
        ),
        None => ("", Tone::Info),
    };
    session.set_message(message.into());
    session.set_message_tone(tone);
    session.set_approval(
        view.approval
            .as_ref()
            .map(|a| a.what.as_str())
            .unwrap_or_default()
            .into(),
    );

    let cart = window.global::<CartAdapter>();
    cart.set_lines(rows(
        cart.get_lines(),
        view.cart
            .lines
            .iter()
            .map(|l| CartLine {
                line: i32::try_from(l.line_no.0).unwrap_or(i32::MAX),
                name: l.name.as_str().into(),
                quantity: l.quantity.as_str().into(),
                unit: l.unit.as_str().into(),
                unit_price: l.unit_price.as_str().into(),
                amount: l.amount.as_str().into(),
                discounts: l.discounts.join(" · ").into(),
                detail: l.detail.as_str().into(),
            })
            .collect(),
    ));
    cart.set_selected_line(
        view.cart
            .selected
            .and_then(|l| i32::try_from(l.0).ok())
            .unwrap_or(0),
    );
    cart.set_item_count(i32::try_from(view.cart.item_count).unwrap_or(i32::MAX));
    cart.set_subtotal(view.cart.subtotal.as_str().into());
    cart.set_discount_total(view.cart.discount_total.as_str().into());
    cart.set_taxes(rows(
        cart.get_taxes(),
        view.cart
            .taxes
            .iter()
            .map(|(label, amount)| TaxLine {
                label: label.as_str().into(),
                amount: amount.as_str().into(),
            })
            .collect(),
    ));
    cart.set_total(view.cart.total.as_str().into());
    cart.set_currency(view.cart.currency.as_str().into());
    cart.set_customer(view.cart.customer.clone().unwrap_or_default().into());
    let tiles = |tiles: &[pos_till::view::ProductTile]| {
        tiles
            .iter()
            .map(|t| ProductTile {
                id: t.id.as_str().into(),
                name: t.name.as_str().into(),
                price: t.price.as_str().into(),
                per_unit: t.per_unit.as_str().into(),
            })
            .collect()
    };
    cart.set_favourites(rows(cart.get_favourites(), tiles(&view.favourites)));
    cart.set_search_results(rows(cart.get_search_results(), tiles(&view.search_results)));
    cart.set_search_text(view.search_text.as_str().into());
    cart.set_held_count(i32::try_from(view.held.len()).unwrap_or(i32::MAX));

    let payment = window.global::<PaymentAdapter>();
    if let Some(p) = &view.payment {
        payment.set_total(p.total.as_str().into());
        payment.set_paid(p.paid.as_str().into());
        payment.set_due(p.due.as_str().into());
        payment.set_change(p.change.as_str().into());
        payment.set_tenders(rows(
            payment.get_tenders(),
            p.tenders
                .iter()
                .map(|t| TenderLine {
                    kind: t.kind.as_str().into(),
                    amount: t.amount.as_str().into(),
                    reference: t.reference.as_str().into(),
                })
                .collect(),
        ));
        payment.set_quick_cash(rows(
            payment.get_quick_cash(),
            p.quick_cash.iter().map(|a| a.as_str().into()).collect(),
        ));
        payment.set_receipt_number(p.receipt_number.clone().unwrap_or_default().into());
    } else {
        payment.set_receipt_number(SharedString::new());
        payment.set_tenders(rows(payment.get_tenders(), Vec::new()));
    }

    crate::shift_bridge::render(window, view);

    let held = window.global::<HeldAdapter>();
    held.set_carts(rows(
        held.get_carts(),
        view.held
            .iter()
            .map(|h| HeldTile {
                id: h.id.as_str().into(),
                label: h.label.as_str().into(),
                age: h.age.as_str().into(),
                total: h.total.as_str().into(),
                items: i32::try_from(h.item_count).unwrap_or(i32::MAX),
                held_by: h.held_by.as_str().into(),
            })
            .collect(),
    ));

    render_refund(window, view);
}

fn tender_lines(tenders: &[pos_till::view::TenderView]) -> Vec<TenderLine> {
    tenders
        .iter()
        .map(|t| TenderLine {
            kind: t.kind.as_str().into(),
            amount: t.amount.as_str().into(),
            reference: t.reference.as_str().into(),
        })
        .collect()
}

fn render_refund(window: &AppWindow, view: &TillView) {
    let adapter = window.global::<RefundAdapter>();
    let (credit, from) = view
        .exchange
        .as_ref()
        .map(|e| (e.credit.as_str(), e.receipt_number.as_str()))
        .unwrap_or_default();
    adapter.set_exchange_credit(credit.into());
    adapter.set_exchange_receipt(from.into());
    let Some(refund) = &view.refund else {
        return;
    };
    adapter.set_step(match refund.step {
        TillRefundStep::Find => RefundStep::Find,
        TillRefundStep::Lines => RefundStep::Lines,
        TillRefundStep::NoReceipt => RefundStep::NoReceipt,
        TillRefundStep::Done => RefundStep::Done,
    });
    adapter.set_query(refund.query.as_str().into());
    adapter.set_found(rows(
        adapter.get_found(),
        refund
            .found
            .iter()
            .map(|s| SaleRow {
                receipt: s.receipt_number.as_str().into(),
                when: s.when.as_str().into(),
                total: s.total.as_str().into(),
                cashier: s.cashier.as_str().into(),
            })
            .collect(),
    ));
    let sale = refund.sale.as_ref();
    adapter.set_receipt(
        sale.map(|s| s.receipt_number.as_str())
            .unwrap_or_default()
            .into(),
    );
    adapter.set_when(sale.map(|s| s.when.as_str()).unwrap_or_default().into());
    adapter.set_sale_total(sale.map(|s| s.total.as_str()).unwrap_or_default().into());
    adapter.set_paid_with(
        sale.map(|s| {
            s.paid_with
                .iter()
                .map(|t| match t.reference.as_str() {
                    "" => format!("{} {}", t.kind, t.amount),
                    reference => format!("{} {} ({reference})", t.kind, t.amount),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
        .into(),
    );
    adapter.set_customer(
        sale.and_then(|s| s.customer.clone())
            .unwrap_or_default()
            .into(),
    );
    adapter.set_lines(rows(
        adapter.get_lines(),
        refund
            .lines
            .iter()
            .map(|l| ReturnLine {
                line: i32::try_from(l.line_no.0).unwrap_or(i32::MAX),
                name: l.name.as_str().into(),
                unit: l.unit.as_str().into(),
                sold: l.sold.as_str().into(),
                returnable: l.returnable.as_str().into(),
                chosen: l.chosen.as_str().into(),
                paid: l.paid.as_str().into(),
                full_price: l.full_price.as_str().into(),
                discounts: l.discounts.join(" · ").into(),
                refund: l.refund.as_str().into(),
            })
            .collect(),
    ));
    adapter.set_reasons(rows(
        adapter.get_reasons(),
        refund
            .reasons
            .iter()
            .map(|r| ReasonTile {
                code: r.code.as_str().into(),
                label: r.label.as_str().into(),
                restock: r.restock,
            })
            .collect(),
    ));
    adapter.set_reason(refund.reason.clone().unwrap_or_default().into());
    let place = |destination: &RefundDestination| match destination {
        RefundDestination::OriginalTenders => RefundTo::Original,
        RefundDestination::Cash => RefundTo::Cash,
        RefundDestination::StoreCredit => RefundTo::StoreCredit,
    };
    adapter.set_destinations(rows(
        adapter.get_destinations(),
        refund.destinations.iter().map(place).collect(),
    ));
    adapter.set_destination(place(&refund.destination));
    adapter.set_total(refund.total.as_str().into());
    adapter.set_tenders(rows(adapter.get_tenders(), tender_lines(&refund.tenders)));
    adapter.set_refund_receipt(refund.receipt_number.clone().unwrap_or_default().into());
    adapter.set_ready(refund.ready);
}
