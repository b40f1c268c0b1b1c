//! The shift at the till: the opening float (counted by denomination or typed as a total),
//! cash in and out with a reason, a permitted "no sale", the X report on screen and on paper,
//! and the close with a counted drawer, its discrepancy and the Z report. Every figure is
//! `pos_core::shift`'s; every permission is `pos_core::access`'s, and a missing one becomes the
//! manager approval prompt like any other refused intent.
//!
//! Owns the shift's part of the session state; must not touch the cart or the payment.

use pos_core::access::{self, AccessError, Actor, Override, permission};
use pos_core::event::{DomainEvent, DrawerReason};
use pos_core::money::Money;
use pos_core::receipt::{self, Block};
use pos_core::shift::{self, CashCount, CashDirection, CashMovement, Piece, Shift, ShiftReport};
use rust_decimal::Decimal;

use super::{Till, info};
use crate::effect::{Effect, PrintPurpose};
use crate::error::TillError;
use crate::view::{Balance, CountRow, Message, ReportRow, Screen, ShiftView, Tone};

/// What the cashier asks of the shift.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShiftIntent {
    /// How many notes or coins of one denomination are in the drawer (its index in the
    /// view's count); empty means none.
    Count {
        index: usize,
        count: String,
    },
    /// Opens the shift with `total` as the float, or with the counted drawer when `total`
    /// is empty.
    Open {
        total: String,
    },
    /// The shift screen with the X figures.
    Show,
    CashMove {
        direction: CashDirection,
        amount: String,
        reason: String,
    },
    /// Opens the drawer without a sale: needs its permission, and is recorded.
    NoSale,
    PrintX,
    /// Starts counting the drawer to close.
    StartClose,
    /// Closes the shift with the drawer as counted; prints the Z report.
    Close,
}

/// The shift's part of the session.
#[derive(Default)]
pub(super) struct ShiftDesk {
    pub(super) shift: Option<Shift>,
    /// Counted pieces per denomination of the store's currency.
    count: Vec<u32>,
    /// The X report shown on the shift screen, made when it opens and after each change.
    x_report: Option<ShiftReport>,
}

impl ShiftDesk {
    pub(super) fn shift_id(&self) -> Option<&pos_core::id::ShiftId> {
        self.shift.as_ref().map(|s| &s.id)
    }
}

impl Till {
    pub(super) fn shift_intent(
        &mut self,
        intent: ShiftIntent,
        cashier: &Actor,
        approver: Option<&Actor>,
    ) -> Result<Option<Message>, TillError> {
        match intent {
            ShiftIntent::Count { index, count } => {
                if !matches!(self.screen, Screen::ShiftOpen | Screen::ShiftClose) {
                    return Err(TillError::NotHere);
                }
                let pieces = shift::denominations(self.setup.store.currency).len();
                if index >= pieces {
                    return Err(TillError::NotHere);
                }
                let trimmed = count.trim();
                let parsed = if trimmed.is_empty() {
                    0
                } else {
                    trimmed
                        .parse::<u32>()
                        .map_err(|_| TillError::BadCount(trimmed.to_owned()))?
                };
                self.desk.count.resize(pieces, 0);
                self.desk.count[index] = parsed;
                Ok(None)
            }
            ShiftIntent::Open { total } => self.open_shift(cashier, approver, &total),
            ShiftIntent::Show => {
                self.leave_checkout()?;
                let shift = self.open_shift_now()?;
                self.permit(cashier, approver, permission::REPORT_X, "The X report")?;
                self.desk.x_report = Some(self.shift_report(&shift)?);
                self.screen = Screen::Shift;
                Ok(None)
            }
            ShiftIntent::CashMove {
                direction,
                amount,
                reason,
            } => self.move_cash(cashier, approver, direction, &amount, &reason),
            ShiftIntent::NoSale => {
                self.leave_checkout()?;
                let approval = self.permit(
                    cashier,
                    approver,
                    permission::NO_SALE,
                    "Opening the drawer (no sale)",
                )?;
                let mut events = vec![DomainEvent::DrawerOpened(DrawerReason::NoSale)];
                events.extend(approval.map(DomainEvent::OverrideApproved));
                self.record(cashier, events)?;
                self.effects.push(Effect::OpenDrawer);
                Ok(Some(info("Drawer open (no sale)".to_owned())))
            }
            ShiftIntent::PrintX => {
                let shift = self.open_shift_now()?;
                self.permit(cashier, approver, permission::REPORT_X, "The X report")?;
                let report = self.shift_report(&shift)?;
                self.effects.push(Effect::Print {
                    document: receipt::shift_report_document(&self.setup.store, &report),
                    purpose: PrintPurpose::XReport,
                });
                self.desk.x_report = Some(report);
                Ok(Some(info("The X report is printing".to_owned())))
            }
            ShiftIntent::StartClose => {
                self.leave_checkout()?;
                let shift = self.open_shift_now()?;
                if !self.cart.is_empty() {
                    return Err(TillError::CartNotEmpty);
                }
                self.desk.x_report = Some(self.shift_report(&shift)?);
                self.desk.count.clear();
                self.screen = Screen::ShiftClose;
                Ok(Some(info(
                    "Count the drawer: type how many of each note and coin".to_owned(),
                )))
            }
            ShiftIntent::Close => self.close_shift(cashier, approver),
        }
    }

    /// The screens that may lead to the shift's actions: not while a payment is open; from
    /// the change screen the sale is done and the next customer's turn begins.
    fn leave_checkout(&mut self) -> Result<(), TillError> {
        match self.screen {
            Screen::Payment if self.completed.is_none() => Err(TillError::PaymentOpen),
            Screen::Payment => {
                self.next_customer();
                Ok(())
            }
            Screen::Login => Err(TillError::NotLoggedIn),
            _ => Ok(()),
        }
    }

    fn open_shift_now(&self) -> Result<Shift, TillError> {
        self.desk.shift.clone().ok_or(TillError::NoShift)
    }

    /// Checks `permission`; without it the intent waits for a manager's approval of `what`.
    /// An approval is returned to be recorded with the action.
    fn permit(
        &self,
        cashier: &Actor,
        approver: Option<&Actor>,
        permission: &str,
        what: &str,
    ) -> Result<Option<Override>, TillError> {
        match access::authorize(
            &self.setup.features,
            cashier,
            approver,
            permission,
            self.now,
        ) {
            Ok(authorization) => Ok(authorization.override_record().cloned()),
            Err(AccessError::Denied { .. }) => Err(TillError::ApprovalNeeded {
                what: what.to_owned(),
            }),
            Err(other) => Err(TillError::Access(other)),
        }
    }

    /// The screen after a login: the checkout when a shift is open on this till (also one
    /// opened before a restart), else the opening float.
    pub(super) fn screen_after_login(&mut self) -> Result<Screen, TillError> {
        if self.desk.shift.is_none() {
            self.desk.shift = self.ports.ledger.open_shift(&self.setup.device)?;
        }
        Ok(if self.desk.shift.is_some() {
            Screen::Checkout
        } else {
            self.desk.count.clear();
            Screen::ShiftOpen
        })
    }

    pub(super) fn shift_report(&self, shift: &Shift) -> Result<ShiftReport, TillError> {
        let activity = self.ports.ledger.shift_activity(shift)?;
        Ok(shift::report(
            shift,
            &activity.sales,
            &activity.refunds,
            &activity.voids,
            self.now,
        )?)
    }

    fn counted(&self) -> CashCount {
        let currency = self.setup.store.currency;
        CashCount {
            currency,
            denominations: shift::denominations(currency)
                .into_iter()
                .zip(self.desk.count.iter().copied())
                .filter(|(_, count)| *count > 0)
                .map(|((value, _), count)| (value, count))
                .collect(),
        }
    }

    fn open_shift(
        &mut self,
        cashier: &Actor,
        approver: Option<&Actor>,
        total: &str,
    ) -> Result<Option<Message>, TillError> {
        if self.screen != Screen::ShiftOpen || self.desk.shift.is_some() {
            return Err(TillError::NotHere);
        }
        let currency = self.setup.store.currency;
        let float = if total.trim().is_empty() {
            self.counted().total()
        } else {
            Money::parse(&total.trim().replace(',', "."), currency)
                .map_err(|_| TillError::BadAmount(total.trim().to_owned()))?
        };
        let approval = self.permit(
            cashier,
            approver,
            permission::SHIFT_OPEN,
            "Opening the shift",
        )?;
        let opened = Shift::open(
            self.ports.ids.shift(),
            self.setup.store.id.clone(),
            self.setup.device.clone(),
            cashier.user.clone(),
            float,
            self.now,
        )?;
        let mut events = vec![DomainEvent::ShiftOpened(opened.clone())];
        events.extend(approval.map(DomainEvent::OverrideApproved));
        self.record(cashier, events)?;
        self.desk.shift = Some(opened);
        self.desk.count.clear();
        self.effects.push(Effect::OpenDrawer);
        self.screen = Screen::Checkout;
        Ok(Some(Message {
            text: format!(
                "Shift open with a float of {}; put it in the drawer",
                float.display_amount()
            ),
            tone: Tone::Success,
        }))
    }

    fn move_cash(
        &mut self,
        cashier: &Actor,
        approver: Option<&Actor>,
        direction: CashDirection,
        amount: &str,
        reason: &str,
    ) -> Result<Option<Message>, TillError> {
        self.leave_checkout()?;
        let mut shift = self.open_shift_now()?;
        let amount = Money::parse(&amount.trim().replace(',', "."), self.setup.store.currency)
            .map_err(|_| TillError::BadAmount(amount.trim().to_owned()))?;
        let movement = CashMovement {
            direction,
            amount,
            reason: reason.trim().to_owned(),
            at: self.now,
            by: cashier.user.clone(),
        };
        // Checked before asking for a manager, so a manager is not called for a typo.
        shift.move_cash(movement.clone())?;
        let what = match direction {
            CashDirection::In => format!("Cash in {}", amount.display_amount()),
            CashDirection::Out => format!("Cash out {}", amount.display_amount()),
        };
        let approval = self.permit(cashier, approver, permission::SHIFT_CASH_MOVE, &what)?;
        let mut events = vec![DomainEvent::CashMoved {
            shift: shift.id.clone(),
            movement,
        }];
        events.extend(approval.map(DomainEvent::OverrideApproved));
        self.record(cashier, events)?;
        self.desk.x_report = Some(self.shift_report(&shift)?);
        self.desk.shift = Some(shift);
        self.effects.push(Effect::OpenDrawer);
        Ok(Some(info(format!("{what}: {}", reason.trim()))))
    }

    fn close_shift(
        &mut self,
        cashier: &Actor,
        approver: Option<&Actor>,
    ) -> Result<Option<Message>, TillError> {
        if self.screen != Screen::ShiftClose {
            return Err(TillError::NotHere);
        }
        let mut shift = self.open_shift_now()?;
        let approval = self.permit(
            cashier,
            approver,
            permission::SHIFT_CLOSE,
            "Closing the shift",
        )?;
        shift.close(self.counted(), cashier.user.clone(), self.now)?;
        let report = self.shift_report(&shift)?;
        let document = receipt::shift_report_document(&self.setup.store, &report);
        let mut events = vec![DomainEvent::ShiftClosed {
            shift,
            report: report.clone(),
        }];
        events.extend(approval.map(DomainEvent::OverrideApproved));
        self.record(cashier, events)?;
        self.effects.push(Effect::Print {
            document,
            purpose: PrintPurpose::ZReport,
        });
        self.desk = ShiftDesk::default();
        self.screen = Screen::ShiftOpen;
        let counted = report.counted_cash.unwrap_or(report.expected_cash);
        let discrepancy = report
            .discrepancy
            .unwrap_or_else(|| Money::zero(counted.currency()));
        let verdict = if discrepancy.is_zero() {
            "the drawer is right".to_owned()
        } else if discrepancy.is_negative() {
            format!("{} short", discrepancy.abs().display_amount())
        } else {
            format!("{} over", discrepancy.display_amount())
        };
        Ok(Some(Message {
            text: format!(
                "Shift closed: counted {}, expected {}, {verdict}. The Z report is printing",
                counted.display_amount(),
                report.expected_cash.display_amount()
            ),
            tone: if discrepancy.is_zero() {
                Tone::Success
            } else {
                Tone::Problem
            },
        }))
    }

    /// What the approval prompt says for a shift intent that needs a manager.
    pub(super) fn shift_approval_subject(&self, intent: &ShiftIntent) -> Option<String> {
        match intent {
            ShiftIntent::Open { .. } => Some("Opening the shift".to_owned()),
            ShiftIntent::Close => Some("Closing the shift".to_owned()),
            ShiftIntent::NoSale => Some("Opening the drawer (no sale)".to_owned()),
            ShiftIntent::Show | ShiftIntent::PrintX => Some("The X report".to_owned()),
            ShiftIntent::CashMove {
                direction, amount, ..
            } => {
                let amount =
                    Money::parse(&amount.trim().replace(',', "."), self.setup.store.currency)
                        .map(|m| m.display_amount())
                        .unwrap_or_else(|_| amount.trim().to_owned());
                Some(match direction {
                    CashDirection::In => format!("Cash in {amount}"),
                    CashDirection::Out => format!("Cash out {amount}"),
                })
            }
            ShiftIntent::Count { .. } | ShiftIntent::StartClose => None,
        }
    }

    pub(super) fn shift_view(&self) -> ShiftView {
        let currency = self.setup.store.currency;
        let count = self.counted();
        let counted = count.total();
        let rows = shift::denominations(currency)
            .into_iter()
            .enumerate()
            .map(|(index, (value, piece))| {
                let pieces = self.desk.count.get(index).copied().unwrap_or(0);
                CountRow {
                    value: face_value(value),
                    is_note: piece == Piece::Note,
                    count: pieces,
                    amount: Money::new(value * Decimal::from(pieces), currency)
                        .round(pos_core::money::RoundingMode::HalfUp)
                        .display_amount(),
                }
            })
            .collect();
        let summary = self
            .desk
            .shift
            .as_ref()
            .map(|s| {
                let local = s.opened_at.local(self.setup.store.utc_offset);
                format!(
                    "Shift {} · opened {:02}:{:02} by {} · float {}",
                    s.id,
                    local.minute_of_day / 60,
                    local.minute_of_day % 60,
                    self.name_of(&s.opened_by),
                    s.float.display_amount()
                )
            })
            .unwrap_or_default();
        let report = match (&self.desk.x_report, self.screen) {
            (Some(report), Screen::Shift) => {
                report_rows(&receipt::shift_report_document(&self.setup.store, report))
            }
            _ => Vec::new(),
        };
        let (expected, difference, balance) = match (&self.desk.x_report, self.screen) {
            (Some(report), Screen::ShiftClose) => {
                let difference = counted
                    .checked_sub(report.expected_cash)
                    .unwrap_or_else(|_| Money::zero(currency));
                let balance = if difference.is_zero() {
                    Balance::Balanced
                } else if difference.is_negative() {
                    Balance::Short
                } else {
                    Balance::Over
                };
                (
                    report.expected_cash.display_amount(),
                    difference.display_amount(),
                    balance,
                )
            }
            _ => (String::new(), String::new(), Balance::Balanced),
        };
        ShiftView {
            summary,
            report,
            count: rows,
            counted: counted.display_amount(),
            expected,
            difference,
            balance,
        }
    }
}

/// "50", "2", "0.20": notes and whole coins without decimals, small coins with them.
fn face_value(value: Decimal) -> String {
    let normal = value.normalize();
    if normal.fract().is_zero() {
        normal.trunc().to_string()
    } else {
        let mut cents = normal;
        cents.rescale(cents.scale().max(2));
        cents.to_string()
    }
}

/// The report's rows as the printed report has them, for a screen: headings and figures. The
/// store's name heads the paper; the screen already shows it.
fn report_rows(document: &receipt::Document) -> Vec<ReportRow> {
    document
        .blocks
        .iter()
        .skip(1)
        .filter_map(|block| match block {
            Block::Text { text, .. } => Some(ReportRow {
                indented: text.starts_with("  "),
                label: text.trim().to_owned(),
                value: String::new(),
            }),
            Block::Pair { left, right, .. } => Some(ReportRow {
                indented: left.starts_with("  "),
                label: left.trim().to_owned(),
                value: right.clone(),
            }),
            _ => None,
        })
        .collect()
}
