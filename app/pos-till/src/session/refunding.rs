//! Refunds, exchanges and returns without a receipt: a sub-state of the till session.
//!
//! The cashier finds the sale (the receipt's barcode, its number, a date, a loyalty card or a
//! card payment's reference), taps the lines that come back or types how many, picks a reason,
//! and the money goes back to the original tenders. An exchange takes the same lines back as
//! credit for new items rung up on the checkout, and the difference is paid or refunded with
//! the sale. A return without a receipt is priced at today's price, in cash or store credit.
//!
//! It owns what the refund screen shows and which step comes next. Every figure, the order of
//! the tenders money goes back to, and every permission are `pos_core::refund`'s; the refund's
//! events (the refund, stock back on the shelf for restockable reasons, points, the drawer
//! opening for cash) go to the ledger like a sale's. It does not change how a cart is priced
//! or a payment taken: an exchange only hands the payment its credit.

use std::collections::BTreeMap;

use pos_core::access::{Actor, Role, permission};
use pos_core::cart::{Authority, LineNo};
use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::event::{self, DomainEvent};
use pos_core::id::{ReceiptNumber, RefundId};
use pos_core::money::Money;
use pos_core::quantity::Quantity;
use pos_core::receipt;
use pos_core::refund::{self, ReasonCode, Refund, RefundContext, RefundDestination, RefundRequest};
use pos_core::sale::Sale;
use pos_core::stock;
use pos_core::tender::{Payment, TenderKind};
use time::{Date, Month};

use super::{Intent, Till, info, quantity_text, tender_view};
use crate::effect::{Effect, PrintPurpose};
use crate::error::TillError;
use crate::port::{SEARCH_RESULTS_MAX, SaleSummary};
use crate::view::{Message, Screen, TenderView, Tone};

/// The refund screen's state while it is open, and an exchange waiting for its new items.
#[derive(Default)]
pub(super) struct Returns {
    open: Option<Refunding>,
    exchange: Option<Exchange>,
}

impl Returns {
    /// True while returned lines wait to pay for new items.
    pub(super) fn exchanging(&self) -> bool {
        self.exchange.is_some()
    }

    /// Leaves the refund screen; an exchange in progress stays.
    pub(super) fn close(&mut self) {
        self.open = None;
    }
}

struct Refunding {
    step: RefundStep,
    query: String,
    found: Vec<SaleSummary>,
    sale: Option<OpenSale>,
    /// Goods brought back without a receipt, in the order scanned.
    items: Vec<(Product, Quantity)>,
    reason: Option<ReasonCode>,
    destination: RefundDestination,
    done: Option<Refund>,
}

impl Refunding {
    fn new() -> Refunding {
        Refunding {
            step: RefundStep::Find,
            query: String::new(),
            found: Vec::new(),
            sale: None,
            items: Vec::new(),
            reason: None,
            destination: RefundDestination::OriginalTenders,
            done: None,
        }
    }
}

/// The sale being refunded, what earlier refunds took back, and what comes back now.
struct OpenSale {
    sale: Sale,
    previous: Vec<Refund>,
    returnable: Vec<(LineNo, Quantity)>,
    chosen: BTreeMap<LineNo, Quantity>,
}

impl OpenSale {
    fn returnable(&self, line: LineNo) -> Quantity {
        self.returnable
            .iter()
            .find(|(no, _)| *no == line)
            .map_or(Quantity::ZERO, |(_, q)| *q)
    }

    fn chosen(&self) -> Vec<(LineNo, Quantity)> {
        self.chosen.iter().map(|(l, q)| (*l, *q)).collect()
    }
}

/// Returned lines that pay for the new items on the checkout.
struct Exchange {
    sale: Sale,
    previous: Vec<Refund>,
    returned: Vec<(LineNo, Quantity)>,
    reason: ReasonCode,
    /// Who approved it when the cashier could not refund alone; asked once, at the start.
    approver: Option<Actor>,
    /// What the returned lines are worth.
    credit: Money,
    /// The refund's id and receipt number, taken when the payment first opens so the credit
    /// on the payment and the refund name the same receipt.
    ids: Option<(RefundId, ReceiptNumber)>,
}

/// Where the refund screen is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundStep {
    /// Finding the sale: a search field and the sales found.
    Find,
    /// The sale's lines, what is still returnable, the reason and where the money goes.
    Lines,
    /// Scanning goods brought back without a receipt.
    NoReceipt,
    /// The refund is made: its receipt number and where the money went.
    Done,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundView {
    pub step: RefundStep,
    /// What was last searched for and the sales it found, newest first.
    pub query: String,
    pub found: Vec<SaleRow>,
    /// The sale being refunded; `None` for a return without a receipt.
    pub sale: Option<SaleHeader>,
    pub lines: Vec<ReturnLineView>,
    pub reasons: Vec<ReasonView>,
    /// The chosen reason's code.
    pub reason: Option<String>,
    /// Where the money can go, the default first.
    pub destinations: Vec<RefundDestination>,
    pub destination: RefundDestination,
    /// What the customer gets back for the chosen lines ("0.00" before any is chosen).
    pub total: String,
    /// Where that money goes: each original tender and its share, or cash, or store credit.
    pub tenders: Vec<TenderView>,
    /// Set once the refund is made.
    pub receipt_number: Option<String>,
    /// True when lines and a reason are chosen, so the refund can be confirmed.
    pub ready: bool,
}

/// A sale in the list of sales found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleRow {
    pub receipt_number: ReceiptNumber,
    /// The shop's local date and time, "2026-03-02 10:00".
    pub when: String,
    pub total: String,
    pub cashier: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleHeader {
    pub receipt_number: String,
    pub when: String,
    pub total: String,
    /// How the customer paid.
    pub paid_with: Vec<TenderView>,
    pub customer: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnLineView {
    pub line_no: LineNo,
    pub name: String,
    /// "pc" or "kg".
    pub unit: String,
    pub sold: String,
    /// What can still come back after earlier refunds.
    pub returnable: String,
    /// What comes back now; empty when the line is not chosen.
    pub chosen: String,
    /// What the customer paid for the whole line, after its discounts.
    pub paid: String,
    /// The line's price before discounts; empty when it had none.
    pub full_price: String,
    pub discounts: Vec<String>,
    /// What the chosen quantity gives back; empty when the line is not chosen.
    pub refund: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReasonView {
    pub code: String,
    pub label: String,
    /// The goods go back on the shelf.
    pub restock: bool,
}

/// Returned lines waiting as credit for the new items on the checkout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeView {
    /// The receipt the goods came back from.
    pub receipt_number: String,
    pub credit: String,
}

impl Till {
    /// The refund screen's intents, and a scan while it is open.
    pub(super) fn refund_act(
        &mut self,
        intent: Intent,
        cashier: &Actor,
        approver: Option<&Actor>,
    ) -> Result<Option<Message>, TillError> {
        match intent {
            Intent::StartRefund => self.start_refund(),
            Intent::CancelExchange => {
                if self.payment.is_some() {
                    return Err(TillError::PaymentOpen);
                }
                match self.returns.exchange.take() {
                    Some(_) => Ok(Some(info(
                        "Exchange cancelled; nothing was refunded".to_owned(),
                    ))),
                    None => Err(TillError::NotHere),
                }
            }
            other => {
                if self.screen != Screen::Refund || self.returns.open.is_none() {
                    return Err(TillError::NotHere);
                }
                let choosing = matches!(
                    self.refunding()?.step,
                    RefundStep::Lines | RefundStep::NoReceipt
                );
                let changes_the_choice = matches!(
                    other,
                    Intent::ToggleReturn(_)
                        | Intent::ReturnQuantity { .. }
                        | Intent::ReturnReason(_)
                        | Intent::RefundTo(_)
                );
                if changes_the_choice && !choosing {
                    return Err(TillError::NotHere);
                }
                match other {
                    Intent::FindSale(text) | Intent::Scan(text) => self.refund_entry(text.trim()),
                    Intent::OpenSale(receipt) => {
                        let sale = self
                            .ports
                            .ledger
                            .sale_by_receipt(&receipt)?
                            .ok_or_else(|| TillError::UnknownReceipt(receipt.to_string()))?;
                        self.open_sale(sale)
                    }
                    Intent::ToggleReturn(line) => self.toggle_return(line),
                    Intent::ReturnQuantity { line, quantity } => {
                        self.return_quantity(line, &quantity)
                    }
                    Intent::ReturnReason(code) => {
                        let reason = refund_reasons()
                            .into_iter()
                            .find(|r| r.code == code)
                            .ok_or(TillError::NotHere)?;
                        self.refunding()?.reason = Some(reason);
                        Ok(None)
                    }
                    Intent::RefundTo(destination) => {
                        if !self.destinations().contains(&destination) {
                            return Err(TillError::NotHere);
                        }
                        self.refunding()?.destination = destination;
                        Ok(None)
                    }
                    Intent::NoReceiptReturn => {
                        let open = self.refunding()?;
                        if open.step == RefundStep::Done {
                            return Err(TillError::NotHere);
                        }
                        *open = Refunding {
                            step: RefundStep::NoReceipt,
                            destination: RefundDestination::Cash,
                            ..Refunding::new()
                        };
                        Ok(Some(info(
                            "Scan the items brought back without a receipt".to_owned(),
                        )))
                    }
                    Intent::ConfirmRefund => self.confirm_refund(cashier, approver).map(Some),
                    Intent::StartExchange => self.start_exchange(cashier, approver).map(Some),
                    _ => Err(TillError::NotHere),
                }
            }
        }
    }

    fn refunding(&mut self) -> Result<&mut Refunding, TillError> {
        self.returns.open.as_mut().ok_or(TillError::NotHere)
    }

    pub(super) fn start_refund(&mut self) -> Result<Option<Message>, TillError> {
        self.checkout_only()?;
        if self.returns.exchanging() {
            return Err(TillError::ExchangeOpen);
        }
        if !self.cart.is_empty() {
            return Err(TillError::CartNotEmpty);
        }
        let mut open = Refunding::new();
        open.found = self.sales_of_day(self.now.local(self.setup.store.utc_offset).date)?;
        self.returns.open = Some(open);
        self.screen = Screen::Refund;
        Ok(Some(info(
            "Scan the receipt, or find the sale by number, date, loyalty card or card reference"
                .to_owned(),
        )))
    }

    /// Back on the refund screen: from the lines to the search, from the search to the
    /// checkout; a finished refund goes to the next customer.
    pub(super) fn refund_back(&mut self) -> Result<Option<Message>, TillError> {
        let open = self.refunding()?;
        match open.step {
            RefundStep::Lines | RefundStep::NoReceipt => {
                let query = std::mem::take(&mut open.query);
                let found = std::mem::take(&mut open.found);
                *open = Refunding {
                    query,
                    found,
                    ..Refunding::new()
                };
            }
            RefundStep::Find | RefundStep::Done => {
                self.returns.open = None;
                self.screen = Screen::Checkout;
            }
        }
        Ok(None)
    }

    /// A code scanned or typed on the refund screen: a receipt opens its sale; a product
    /// brought back is chosen on the open sale (or added to a return without receipt);
    /// otherwise it is searched as a date, a loyalty card or a card reference. After a finished
    /// refund, the next scan starts the next sale.
    pub(super) fn refund_entry(&mut self, code: &str) -> Result<Option<Message>, TillError> {
        let step = self.refunding()?.step;
        if step == RefundStep::Done && !code.is_empty() {
            self.returns.open = None;
            self.screen = Screen::Checkout;
            return self.scan(code);
        }
        if code.is_empty() && step != RefundStep::Find {
            return Ok(None);
        }
        if let Some(sale) = self
            .ports
            .ledger
            .sale_by_receipt(&ReceiptNumber::new(code))?
        {
            return self.open_sale(sale);
        }
        if step != RefundStep::Find {
            let product = self
                .ports
                .catalogue
                .product_by_code(code)
                .ok_or_else(|| TillError::UnknownCode(code.to_owned()))?;
            return self.choose_product(&product);
        }
        self.find_sales(code)
    }

    fn find_sales(&mut self, text: &str) -> Result<Option<Message>, TillError> {
        let (found, what) = if text.is_empty() {
            let today = self.now.local(self.setup.store.utc_offset).date;
            (self.sales_of_day(today)?, "today".to_owned())
        } else if let Some(day) = parse_date(text) {
            (self.sales_of_day(day)?, format!("on {day}"))
        } else if let Some(customer) = self.ports.catalogue.customer_by_card(text) {
            let found = self
                .ports
                .ledger
                .sales_of_customer(&customer.id, SEARCH_RESULTS_MAX)?;
            (found, format!("for {}", customer.name))
        } else {
            let found = self
                .ports
                .ledger
                .sales_by_reference(text, SEARCH_RESULTS_MAX)?;
            if found.is_empty() {
                let looks_like_a_number = !text.contains(char::is_whitespace)
                    && text.contains(|c: char| c.is_ascii_digit());
                return Err(if looks_like_a_number {
                    TillError::UnknownReceipt(text.to_owned())
                } else {
                    TillError::NoSaleFound(text.to_owned())
                });
            }
            (found, format!("paid with reference {text}"))
        };
        let count = found.len();
        let open = self.refunding()?;
        open.query = text.to_owned();
        open.found = found;
        Ok(Some(info(match count {
            0 => format!("No sales {what}"),
            1 => format!("1 sale {what}; tap it to open"),
            n => format!("{n} sales {what}; tap one to open"),
        })))
    }

    fn sales_of_day(&self, day: Date) -> Result<Vec<SaleSummary>, TillError> {
        let offset = self.setup.store.utc_offset;
        let start = |d: Date| {
            Timestamp::from_unix_ms(d.midnight().assume_offset(offset).unix_timestamp() * 1_000)
        };
        let Some(next) = day.next_day() else {
            return Ok(Vec::new());
        };
        Ok(self
            .ports
            .ledger
            .sales_between(start(day), start(next), SEARCH_RESULTS_MAX)?)
    }

    fn open_sale(&mut self, sale: Sale) -> Result<Option<Message>, TillError> {
        if self.refunding()?.step == RefundStep::NoReceipt {
            // The customer found the receipt after all.
            self.refunding()?.step = RefundStep::Find;
        }
        if sale.store != self.setup.store.id {
            return Err(TillError::OtherStore {
                receipt: sale.receipt_number.to_string(),
                store: sale.store.to_string(),
            });
        }
        let previous = self.ports.ledger.refunds_of_sale(&sale.id)?;
        let returnable = refund::returnable(&sale, &previous)?;
        if returnable.iter().all(|(_, q)| q.is_zero()) {
            return Err(TillError::FullyRefunded(sale.receipt_number.to_string()));
        }
        let mut chosen = BTreeMap::new();
        // One line left to return: it is the one coming back.
        if let [(line, left)] = returnable
            .iter()
            .filter(|(_, q)| !q.is_zero())
            .copied()
            .collect::<Vec<_>>()
            .as_slice()
        {
            chosen.insert(*line, *left);
        }
        let text = format!(
            "Receipt {} from {}: tap what comes back, then the reason",
            sale.receipt_number,
            self.when(sale.at)
        );
        let open = self.refunding()?;
        open.step = RefundStep::Lines;
        open.reason = None;
        open.destination = RefundDestination::OriginalTenders;
        open.sale = Some(OpenSale {
            sale,
            previous,
            returnable,
            chosen,
        });
        Ok(Some(info(text)))
    }

    fn open_sale_mut(&mut self) -> Result<&mut OpenSale, TillError> {
        self.refunding()?.sale.as_mut().ok_or(TillError::NotHere)
    }

    fn toggle_return(&mut self, line: LineNo) -> Result<Option<Message>, TillError> {
        if self.refunding()?.step == RefundStep::NoReceipt {
            let index = usize::try_from(line.0).unwrap_or(0);
            let items = &mut self.refunding()?.items;
            if index == 0 || index > items.len() {
                return Err(TillError::NotHere);
            }
            items.remove(index - 1);
            return Ok(None);
        }
        let open = self.open_sale_mut()?;
        if open.chosen.remove(&line).is_some() {
            return Ok(None);
        }
        let name = line_name(&open.sale, line)?;
        let left = open.returnable(line);
        if left.is_zero() {
            return Err(TillError::LineFullyReturned { name });
        }
        open.chosen.insert(line, left);
        Ok(None)
    }

    fn return_quantity(&mut self, line: LineNo, text: &str) -> Result<Option<Message>, TillError> {
        let bad = || TillError::BadQuantity(text.trim().to_owned());
        if self.refunding()?.step == RefundStep::NoReceipt {
            let index = usize::try_from(line.0).unwrap_or(0);
            let items = &mut self.refunding()?.items;
            let Some((product, quantity)) = index.checked_sub(1).and_then(|i| items.get_mut(i))
            else {
                return Err(TillError::NotHere);
            };
            let parsed =
                Quantity::parse(&text.replace(',', "."), product.unit).map_err(|_| bad())?;
            if parsed.is_zero() || parsed.is_negative() {
                return Err(bad());
            }
            *quantity = parsed;
            return Ok(None);
        }
        let open = self.open_sale_mut()?;
        let sold = open
            .sale
            .lines
            .iter()
            .find(|l| l.line_no == line)
            .ok_or(TillError::NotHere)?;
        let unit = sold.product.unit;
        let name = sold.product.display_name();
        let parsed = Quantity::parse(&text.replace(',', "."), unit).map_err(|_| bad())?;
        if parsed.is_negative() {
            return Err(bad());
        }
        if parsed.is_zero() {
            open.chosen.remove(&line);
            return Ok(None);
        }
        let left = open.returnable(line);
        if parsed > left {
            return Err(if left.is_zero() {
                TillError::LineFullyReturned { name }
            } else {
                TillError::MoreThanReturnable {
                    name,
                    returnable: quantity_text(left, unit),
                }
            });
        }
        open.chosen.insert(line, parsed);
        Ok(None)
    }

    /// A product scanned while goods come back: one more of its line on the sale, or one more
    /// item returned without a receipt.
    fn choose_product(&mut self, product: &Product) -> Result<Option<Message>, TillError> {
        let open = self.refunding()?;
        if open.step == RefundStep::NoReceipt {
            let same = open.items.iter().position(|(p, _)| p.id == product.id);
            match same {
                Some(index) if !product.unit.is_weighed() => open.items[index].1 += Quantity::ONE,
                _ => open.items.push((product.clone(), Quantity::ONE)),
            }
            return Ok(None);
        }
        let sale = self.open_sale_mut()?;
        let line = sale
            .sale
            .lines
            .iter()
            .filter(|l| l.product.id == product.id)
            .map(|l| l.line_no)
            .find(|line| {
                let chosen = sale.chosen.get(line).copied().unwrap_or(Quantity::ZERO);
                chosen + Quantity::ONE <= sale.returnable(*line)
            });
        let Some(line) = line else {
            let name = product.display_name();
            return Err(
                if sale.sale.lines.iter().any(|l| l.product.id == product.id) {
                    TillError::LineFullyReturned { name }
                } else {
                    TillError::NotOnReceipt(name)
                },
            );
        };
        let chosen = sale.chosen.entry(line).or_insert(Quantity::ZERO);
        *chosen += Quantity::ONE;
        Ok(None)
    }

    fn destinations(&self) -> Vec<RefundDestination> {
        match self.returns.open.as_ref().map(|o| o.step) {
            Some(RefundStep::NoReceipt) => {
                vec![RefundDestination::Cash, RefundDestination::StoreCredit]
            }
            _ => vec![
                RefundDestination::OriginalTenders,
                RefundDestination::Cash,
                RefundDestination::StoreCredit,
            ],
        }
    }

    /// The refund as the core would make it for `authority`, with ids still to be taken.
    fn draft(&self, authority: &Authority<'_>) -> Result<Refund, TillError> {
        let open = self.returns.open.as_ref().ok_or(TillError::NotHere)?;
        let reason = open.reason.clone().ok_or(TillError::ChooseReason)?;
        self.draft_for(authority, reason)
    }

    fn draft_for(
        &self,
        authority: &Authority<'_>,
        reason: ReasonCode,
    ) -> Result<Refund, TillError> {
        let open = self.returns.open.as_ref().ok_or(TillError::NotHere)?;
        let context = self.refund_context(RefundId::new("draft"), ReceiptNumber::new("draft"));
        let store = &self.setup.store;
        if open.step == RefundStep::NoReceipt {
            return Ok(refund::no_receipt_return(
                &open.items,
                reason,
                open.destination,
                &store.taxes,
                &store.tax_policy,
                authority,
                store.cash_rounding.as_ref(),
                context,
            )?);
        }
        let sale = open.sale.as_ref().ok_or(TillError::NotHere)?;
        Ok(refund::refund(
            &sale.sale,
            &sale.previous,
            &RefundRequest {
                lines: sale.chosen(),
                reason,
                destination: open.destination,
            },
            authority,
            store.cash_rounding.as_ref(),
            context,
        )?)
    }

    fn refund_context(&self, id: RefundId, receipt_number: ReceiptNumber) -> RefundContext {
        RefundContext {
            id,
            receipt_number,
            store: self.setup.store.id.clone(),
            device: self.setup.device.clone(),
            // The open shift's X and Z reports count the refund and the cash it gave back.
            shift: self.desk.shift_id().cloned(),
            at: self.now,
        }
    }

    /// The refund the cashier is about to make, worked out by the same rule as the refund
    /// itself but as someone allowed to make it, so the customer sees the figures before a
    /// manager is asked. The permission is checked when the refund is confirmed.
    fn preview(&self) -> Option<Refund> {
        let cashier = self.cashier.as_ref()?;
        let allowed = Actor {
            role: Role::new(
                "refund-preview",
                "Refund preview",
                &[
                    permission::REFUND,
                    permission::REFUND_TO_CASH,
                    permission::REFUND_NO_RECEIPT,
                ],
            ),
            ..cashier.clone()
        };
        let features = &self.setup.features;
        let authority = Authority {
            features,
            actor: &allowed,
            approver: None,
            at: self.now,
        };
        // Before a reason is chosen the money is the same for any reason.
        let reason = match &self.returns.open.as_ref()?.reason {
            Some(reason) => reason.clone(),
            None => refund_reasons().into_iter().next()?,
        };
        self.draft_for(&authority, reason).ok()
    }

    fn confirm_refund(
        &mut self,
        cashier: &Actor,
        approver: Option<&Actor>,
    ) -> Result<Message, TillError> {
        let step = self.refunding()?.step;
        if step != RefundStep::Lines && step != RefundStep::NoReceipt {
            return Err(TillError::NotHere);
        }
        let features = self.setup.features.clone();
        let authority = Authority {
            features: &features,
            actor: cashier,
            approver,
            at: self.now,
        };
        // Every check first, so a refused refund takes no receipt number.
        let mut made = self.draft(&authority)?;
        made.id = self.ports.ids.refund();
        made.receipt_number = self.ports.ids.receipt_number();
        let customer = self
            .returns
            .open
            .as_ref()
            .and_then(|o| o.sale.as_ref())
            .and_then(|s| s.sale.loyalty.as_ref())
            .map(|l| l.customer.id.clone());
        let ids = &mut self.ports.ids;
        let movements = stock::movements_for_refund(&made, || ids.movement());
        // The drawer opens for the tenders the store configured, as for a sale.
        let mut events: Vec<DomainEvent> =
            event::refund_events(&made, &movements, customer.as_ref())
                .into_iter()
                .filter(|e| !matches!(e, DomainEvent::DrawerOpened(_)))
                .collect();
        let opens_drawer = self
            .setup
            .store
            .drawer
            .opens_for(made.tenders.iter().map(|t| t.kind));
        if opens_drawer {
            events.push(DomainEvent::DrawerOpened(event::DrawerReason::Refund(
                made.id.clone(),
            )));
        }
        self.record(cashier, events)?;
        if opens_drawer {
            self.effects.push(Effect::OpenDrawer);
        }
        self.effects.push(Effect::Print {
            document: receipt::refund_document(&self.setup.store, &made),
            purpose: PrintPurpose::Refund,
        });
        let text = format!(
            "Refund {} made: {}",
            made.receipt_number,
            money_going_back(&made)
        );
        let open = self.refunding()?;
        open.step = RefundStep::Done;
        open.done = Some(made);
        Ok(Message {
            text,
            tone: Tone::Success,
        })
    }

    fn start_exchange(
        &mut self,
        cashier: &Actor,
        approver: Option<&Actor>,
    ) -> Result<Message, TillError> {
        let open = self.returns.open.as_ref().ok_or(TillError::NotHere)?;
        if open.step != RefundStep::Lines {
            return Err(TillError::NotHere);
        }
        let reason = open.reason.clone().ok_or(TillError::ChooseReason)?;
        let sale = open.sale.as_ref().ok_or(TillError::NotHere)?;
        let returned = sale.chosen();
        let features = self.setup.features.clone();
        let authority = Authority {
            features: &features,
            actor: cashier,
            approver,
            at: self.now,
        };
        let context = self.refund_context(RefundId::new("draft"), ReceiptNumber::new("draft"));
        let (draft, _) = refund::exchange(
            &sale.sale,
            &sale.previous,
            &returned,
            reason.clone(),
            Money::zero(sale.sale.currency),
            &authority,
            self.setup.store.cash_rounding.as_ref(),
            context,
        )?;
        let exchange = Exchange {
            sale: sale.sale.clone(),
            previous: sale.previous.clone(),
            returned,
            reason,
            approver: approver.cloned(),
            credit: draft.total,
            ids: None,
        };
        let text = format!(
            "Exchange: {} credit from receipt {}. Scan the new items, then pay",
            exchange.credit.display_amount(),
            exchange.sale.receipt_number
        );
        self.returns.exchange = Some(exchange);
        self.returns.open = None;
        self.screen = Screen::Checkout;
        Ok(info(text))
    }

    /// The exchange's refund against a new sale of `new_total`, and the payment with the
    /// credit already taken. `None` when no exchange waits.
    fn settle_exchange(
        &mut self,
        cashier: &Actor,
        new_total: Money,
    ) -> Result<Option<(Refund, Payment)>, TillError> {
        if self.returns.exchange.is_none() {
            return Ok(None);
        }
        if self
            .returns
            .exchange
            .as_ref()
            .is_some_and(|e| e.ids.is_none())
        {
            let ids = (self.ports.ids.refund(), self.ports.ids.receipt_number());
            if let Some(exchange) = self.returns.exchange.as_mut() {
                exchange.ids = Some(ids);
            }
        }
        let Some(exchange) = self.returns.exchange.as_ref() else {
            return Ok(None);
        };
        let Some((id, receipt)) = exchange.ids.clone() else {
            return Ok(None);
        };
        let features = self.setup.features.clone();
        let authority = Authority {
            features: &features,
            actor: cashier,
            approver: exchange.approver.as_ref(),
            at: self.now,
        };
        let settled = refund::exchange(
            &exchange.sale,
            &exchange.previous,
            &exchange.returned,
            exchange.reason.clone(),
            new_total,
            &authority,
            self.setup.store.cash_rounding.as_ref(),
            self.refund_context(id, receipt),
        )?;
        Ok(Some(settled))
    }

    /// The payment for the cart: with the exchange credit already taken when one waits.
    pub(super) fn payment_for(
        &mut self,
        cashier: &Actor,
        total: Money,
    ) -> Result<Payment, TillError> {
        Ok(match self.settle_exchange(cashier, total)? {
            Some((_, payment)) => payment,
            None => Payment::new(total, self.setup.store.cash_rounding),
        })
    }

    /// How many tenders on the payment are the exchange credit, which the cashier cannot take
    /// off (cancelling the exchange does).
    pub(super) fn credit_tenders(&self) -> usize {
        match (&self.returns.exchange, &self.payment) {
            (Some(_), Some(payment)) => payment
                .tenders()
                .iter()
                .take_while(|t| {
                    t.kind == TenderKind::StoreCredit
                        && t.reference
                            .as_deref()
                            .is_some_and(|r| r.starts_with("exchange "))
                })
                .count(),
            _ => 0,
        }
    }

    /// The exchange's refund events to record with the new sale, and what the cashier is told
    /// about money going back. Empty when no exchange waits.
    pub(super) fn exchange_events(
        &mut self,
        cashier: &Actor,
        sale: &Sale,
    ) -> Result<(Vec<DomainEvent>, Option<String>), TillError> {
        let Some((made, _)) = self.settle_exchange(cashier, sale.total)? else {
            return Ok((Vec::new(), None));
        };
        let customer = self
            .returns
            .exchange
            .as_ref()
            .and_then(|e| e.sale.loyalty.as_ref())
            .map(|l| l.customer.id.clone());
        let ids = &mut self.ports.ids;
        let movements = stock::movements_for_refund(&made, || ids.movement());
        let mut events = event::refund_events(&made, &movements, customer.as_ref());
        if sale.opens_drawer() {
            // The sale opens the drawer once for both.
            events.retain(|e| !matches!(e, DomainEvent::DrawerOpened(_)));
        }
        let back: Vec<_> = made
            .tenders
            .iter()
            .filter(|t| t.kind != TenderKind::StoreCredit || t.reference.is_none())
            .collect();
        let note = (!back.is_empty()).then(|| {
            let parts: Vec<String> = back.iter().map(|t| going_back(t.kind, t.applied)).collect();
            format!("Exchange {}: {}", made.receipt_number, parts.join(", "))
        });
        Ok((events, note))
    }

    /// Called once the exchange's sale is recorded.
    pub(super) fn exchange_done(&mut self) {
        self.returns.exchange = None;
    }

    /// What the approval prompt names for a refund waiting for a manager.
    pub(super) fn refund_approval_subject(&self, intent: &Intent) -> Option<String> {
        let open = self.returns.open.as_ref()?;
        let total = self
            .preview()
            .map(|r| r.total.display_amount())
            .unwrap_or_default();
        let receipt = open
            .sale
            .as_ref()
            .map(|s| s.sale.receipt_number.to_string());
        Some(match (intent, receipt) {
            (Intent::StartExchange, Some(receipt)) => {
                format!("An exchange of {total} against receipt {receipt}")
            }
            (Intent::ConfirmRefund, Some(receipt)) => {
                let destination = match open.destination {
                    RefundDestination::OriginalTenders => String::new(),
                    RefundDestination::Cash => " in cash".to_owned(),
                    RefundDestination::StoreCredit => " as store credit".to_owned(),
                };
                format!("A refund of {total}{destination} for receipt {receipt}")
            }
            (Intent::ConfirmRefund, None) => {
                let destination = match open.destination {
                    RefundDestination::StoreCredit => "as store credit",
                    _ => "in cash",
                };
                format!("A return without a receipt: {total} {destination}")
            }
            _ => return None,
        })
    }

    fn when(&self, at: Timestamp) -> String {
        let local = at.local(self.setup.store.utc_offset);
        format!(
            "{} {:02}:{:02}",
            local.date,
            local.minute_of_day / 60,
            local.minute_of_day % 60
        )
    }

    pub(super) fn refund_view(&self) -> Option<RefundView> {
        if self.screen != Screen::Refund {
            return None;
        }
        let open = self.returns.open.as_ref()?;
        let currency = self.setup.store.currency;
        let zero = Money::zero(currency).display_amount();
        let made = match &open.done {
            Some(done) => Some(done.clone()),
            None => self.preview(),
        };
        let refund_of = |line: LineNo| {
            made.as_ref()
                .and_then(|r| r.lines.iter().find(|l| l.line_no == Some(line)))
                .map(|l| l.amount().display_amount())
                .unwrap_or_default()
        };
        let lines = match (&open.sale, open.step) {
            (_, RefundStep::NoReceipt) => open
                .items
                .iter()
                .enumerate()
                .map(|(index, (product, quantity))| {
                    let refund = made
                        .as_ref()
                        .and_then(|r| r.lines.get(index))
                        .map(|l| l.amount().display_amount())
                        .unwrap_or_default();
                    ReturnLineView {
                        line_no: LineNo(u32::try_from(index + 1).unwrap_or(u32::MAX)),
                        name: product.display_name(),
                        unit: product.unit.symbol().to_owned(),
                        sold: String::new(),
                        returnable: String::new(),
                        chosen: quantity_text(*quantity, product.unit),
                        paid: product.price.display_amount(),
                        full_price: String::new(),
                        discounts: Vec::new(),
                        refund,
                    }
                })
                .collect(),
            (Some(sale), _) => sale
                .sale
                .lines
                .iter()
                .map(|l| {
                    let unit = l.product.unit;
                    let chosen = sale.chosen.get(&l.line_no);
                    ReturnLineView {
                        line_no: l.line_no,
                        name: l.product.display_name(),
                        unit: unit.symbol().to_owned(),
                        sold: quantity_text(l.quantity, unit),
                        returnable: quantity_text(sale.returnable(l.line_no), unit),
                        chosen: chosen.map(|q| quantity_text(*q, unit)).unwrap_or_default(),
                        paid: l.tax.gross.display_amount(),
                        full_price: if l.discounts.is_empty() {
                            String::new()
                        } else {
                            l.base.display_amount()
                        },
                        discounts: l
                            .discounts
                            .iter()
                            .map(|d| format!("{} −{}", d.label, d.amount.display_amount()))
                            .collect(),
                        refund: if chosen.is_some() {
                            refund_of(l.line_no)
                        } else {
                            String::new()
                        },
                    }
                })
                .collect(),
            (None, _) => Vec::new(),
        };
        let chosen_any = match open.step {
            RefundStep::NoReceipt => !open.items.is_empty(),
            _ => open.sale.as_ref().is_some_and(|s| !s.chosen.is_empty()),
        };
        Some(RefundView {
            step: open.step,
            query: open.query.clone(),
            found: open
                .found
                .iter()
                .map(|s| SaleRow {
                    receipt_number: s.receipt_number.clone(),
                    when: self.when(s.at),
                    total: s.total.display_amount(),
                    cashier: self.name_of(&s.cashier),
                })
                .collect(),
            sale: open.sale.as_ref().map(|s| SaleHeader {
                receipt_number: s.sale.receipt_number.to_string(),
                when: self.when(s.sale.at),
                total: s.sale.total.display_amount(),
                paid_with: s.sale.payment.tenders.iter().map(tender_view).collect(),
                customer: s.sale.loyalty.as_ref().map(|l| l.customer.name.clone()),
            }),
            lines,
            reasons: refund_reasons()
                .into_iter()
                .map(|r| ReasonView {
                    code: r.code,
                    label: r.label,
                    restock: r.restock,
                })
                .collect(),
            reason: open.reason.as_ref().map(|r| r.code.clone()),
            destinations: self.destinations(),
            destination: open.destination,
            total: made
                .as_ref()
                .filter(|_| chosen_any || open.done.is_some())
                .map(given_back)
                .unwrap_or(zero),
            tenders: made
                .as_ref()
                .filter(|_| chosen_any || open.done.is_some())
                .map(|r| r.tenders.iter().map(refund_tender_view).collect())
                .unwrap_or_default(),
            receipt_number: open.done.as_ref().map(|r| r.receipt_number.to_string()),
            ready: chosen_any && open.reason.is_some() && open.done.is_none(),
        })
    }

    pub(super) fn exchange_view(&self) -> Option<ExchangeView> {
        self.returns.exchange.as_ref().map(|e| ExchangeView {
            receipt_number: e.sale.receipt_number.to_string(),
            credit: e.credit.display_amount(),
        })
    }
}

/// The reasons a cashier chooses from.
fn refund_reasons() -> Vec<ReasonCode> {
    ReasonCode::defaults()
}

/// What the customer gets back, after cash rounding.
fn given_back(refund: &Refund) -> String {
    Money::sum(refund.currency, refund.tenders.iter().map(|t| &t.applied))
        .map(|m| m.display_amount())
        .unwrap_or_else(|_| refund.total.display_amount())
}

fn refund_tender_view(tender: &pos_core::tender::Tender) -> TenderView {
    TenderView {
        kind: tender.kind.name().to_owned(),
        amount: tender.applied.display_amount(),
        reference: tender.reference.clone().unwrap_or_default(),
    }
}

fn going_back(kind: TenderKind, amount: Money) -> String {
    match kind {
        TenderKind::Cash => format!("give {} back in cash", amount.display_amount()),
        TenderKind::StoreCredit => format!("{} as store credit", amount.display_amount()),
        other => format!("{} back to {}", amount.display_amount(), other.name()),
    }
}

fn money_going_back(refund: &Refund) -> String {
    refund
        .tenders
        .iter()
        .map(|t| going_back(t.kind, t.applied))
        .collect::<Vec<_>>()
        .join(", ")
}

fn line_name(sale: &Sale, line: LineNo) -> Result<String, TillError> {
    sale.lines
        .iter()
        .find(|l| l.line_no == line)
        .map(|l| l.product.display_name())
        .ok_or(TillError::NotHere)
}

/// "2026-03-02" or "02.03.2026" (also "2.3.2026").
fn parse_date(text: &str) -> Option<Date> {
    let numbers = |separator: char| -> Option<Vec<i32>> {
        let parts: Vec<&str> = text.split(separator).collect();
        if parts.len() != 3
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        parts.iter().map(|p| p.parse().ok()).collect()
    };
    let (year, month, day) = match (numbers('-'), numbers('.')) {
        (Some(ymd), _) => (ymd[0], ymd[1], ymd[2]),
        (None, Some(dmy)) => (dmy[2], dmy[1], dmy[0]),
        _ => return None,
    };
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_the_two_ways_shops_write_them() {
        let march_2 = Date::from_calendar_date(2026, Month::March, 2).unwrap();
        assert_eq!(parse_date("2026-03-02"), Some(march_2));
        assert_eq!(parse_date("02.03.2026"), Some(march_2));
        assert_eq!(parse_date("2.3.2026"), Some(march_2));
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("T1-00002"), None);
        assert_eq!(parse_date("1.2"), None);
    }
}
