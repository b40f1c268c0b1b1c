//! The customers page: the list, a customer's card and the loyalty settings, copied into the
//! `Customers` global; its callbacks become [`BackOffice`](crate::BackOffice) actions.

use pos_core::id::CustomerId;
use pos_core::loyalty::{LoyaltyProgram, PointsReason, Tier};

use slint::ComponentHandle;

use super::{BackOfficeScreen, model, text};
use crate::books::Books;
use crate::customers::{CustomerCard, CustomerForm, LoyaltyForm, TierLine};
use pos_ui::{
    AppWindow as Window, Customers, CustomersTab, OfficeCustomerRow, PointsRow, PurchaseRow,
};

/// What the page remembers between callbacks.
#[derive(Default)]
pub(super) struct Shown {
    /// The customers listed, by row.
    listed: Vec<CustomerId>,
    /// The customer on the card; `None` while a new one is typed.
    editing: Option<CustomerId>,
}

/// The loyalty settings form's fields, tier by tier (Member, Bronze, Silver, Gold).
fn tier_fields(c: &Customers<'_>) -> [(Tier, String, String); 4] {
    [
        (
            Tier::Member,
            c.get_member_threshold().into(),
            c.get_member_rate().into(),
        ),
        (
            Tier::Bronze,
            c.get_bronze_threshold().into(),
            c.get_bronze_rate().into(),
        ),
        (
            Tier::Silver,
            c.get_silver_threshold().into(),
            c.get_silver_rate().into(),
        ),
        (
            Tier::Gold,
            c.get_gold_threshold().into(),
            c.get_gold_rate().into(),
        ),
    ]
}

impl<B: Books + 'static> BackOfficeScreen<B> {
    pub(super) fn wire_customers(&self, window: &Window) {
        let c = window.global::<Customers>();
        c.set_currency(text(self.inner.borrow().office.shop().currency.code()));
        c.on_refresh(self.on(Self::refresh_customers));
        c.on_create(self.on(Self::new_customer));
        c.on_save(self.on(Self::save_customer));
        c.on_close(self.on(Self::close_customer));
        c.on_show_loyalty(self.on(Self::show_loyalty));
        c.on_save_loyalty(self.on(Self::save_loyalty));
        let screen = self.clone();
        c.on_open(move |row| screen.open_customer(row));
    }

    /// The page opened from the navigation: the list, or the settings if they were open.
    pub(super) fn show_customers(&self) {
        let tab = self
            .window
            .upgrade()
            .map(|w| w.global::<Customers>().get_tab());
        if tab == Some(CustomersTab::Loyalty) {
            self.show_loyalty();
        } else {
            self.inner.borrow_mut().shown.customers.editing = None;
            self.refresh_customers();
        }
    }

    fn refresh_customers(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let c = window.global::<Customers>();
        c.set_tab(CustomersTab::List);
        let found = self.inner.borrow().office.customers(&c.get_search());
        match found {
            Ok(found) => {
                c.set_rows(model(
                    found
                        .iter()
                        .map(|(customer, points)| OfficeCustomerRow {
                            name: text(customer.name.as_str()),
                            card: text(customer.card.as_ref().map_or("", |c| c.as_str())),
                            phone: text(customer.phone.as_deref().unwrap_or_default()),
                            points: text(points.to_string()),
                        })
                        .collect(),
                ));
                self.inner.borrow_mut().shown.customers.listed =
                    found.into_iter().map(|(c, _)| c.id).collect();
            }
            Err(error) => {
                c.set_rows(model(Vec::new()));
                self.problem(&error);
            }
        }
    }

    fn open_customer(&self, row: i32) {
        let id = usize::try_from(row)
            .ok()
            .and_then(|i| self.inner.borrow().shown.customers.listed.get(i).cloned());
        if let Some(id) = id {
            self.say("", pos_ui::Tone::Info);
            self.show_card(&id);
        }
    }

    fn new_customer(&self) {
        let allowed = self
            .inner
            .borrow()
            .office
            .allow(crate::office::permission::CUSTOMERS_EDIT);
        if let Err(error) = allowed {
            self.problem(&error);
            return;
        }
        self.inner.borrow_mut().shown.customers.editing = None;
        self.with_window(|w| {
            let c = w.global::<Customers>();
            c.set_title(text("New customer"));
            c.set_is_new(true);
            fill_form(&c, &CustomerForm::default());
            c.set_tab(CustomersTab::Card);
        });
    }

    /// Shows a customer's card: the form, their tier, purchases and points.
    fn show_card(&self, id: &CustomerId) {
        let (card, program) = {
            let inner = self.inner.borrow();
            (
                inner.office.customer_card(id),
                inner.office.loyalty_program(),
            )
        };
        let (card, program) = match (card, program) {
            (Ok(card), Ok(program)) => (card, program),
            (Err(error), _) | (_, Err(error)) => {
                self.problem(&error);
                return;
            }
        };
        let rows = self.card_rows(&card);
        self.with_window(|w| {
            let c = w.global::<Customers>();
            c.set_title(text(card.customer.name.as_str()));
            c.set_is_new(false);
            fill_form(&c, &CustomerForm::from_customer(&card.customer));
            c.set_points(text(card.points.to_string()));
            c.set_points_value(text(card.points_value.display_amount()));
            c.set_tier(text(card.tier.name()));
            c.set_spend(text(card.spend.display_amount()));
            c.set_window_days(text(card.window_days.to_string()));
            let (next, to_next) = card.next.map_or((String::new(), String::new()), |(t, m)| {
                (t.name().to_owned(), m.display_amount())
            });
            c.set_next_tier(text(next));
            c.set_to_next(text(to_next));
            c.set_progress(card.progress(&program));
            c.set_purchases(model(rows.0));
            c.set_ledger(model(rows.1));
            c.set_tab(CustomersTab::Card);
        });
        self.inner.borrow_mut().shown.customers.editing = Some(card.customer.id);
    }

    fn card_rows(&self, card: &CustomerCard) -> (Vec<PurchaseRow>, Vec<PointsRow>) {
        let purchases = card
            .purchases
            .iter()
            .map(|sale| PurchaseRow {
                date: text(self.local_time(sale.at)),
                receipt: text(sale.receipt_number.as_str()),
                total: text(sale.total.display_amount()),
            })
            .collect();
        let receipt_of = |sale: &pos_core::id::SaleId| {
            card.purchases
                .iter()
                .find(|p| &p.id == sale)
                .map_or_else(|| sale.to_string(), |p| p.receipt_number.to_string())
        };
        let ledger = card
            .ledger
            .iter()
            .map(|movement| PointsRow {
                date: text(self.local_time(movement.at)),
                reason: text(match &movement.reason {
                    PointsReason::Earned(sale) => format!("earned on {}", receipt_of(sale)),
                    PointsReason::Redeemed(sale) => format!("redeemed on {}", receipt_of(sale)),
                    PointsReason::Refund(refund) => format!("refund {refund}"),
                    PointsReason::Adjustment(why) => why.clone(),
                }),
                points: text(format!("{:+}", movement.points)),
            })
            .collect();
        (purchases, ledger)
    }

    fn save_customer(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let c = window.global::<Customers>();
        let form = CustomerForm {
            name: c.get_name().into(),
            card: c.get_card().into(),
            phone: c.get_phone().into(),
            email: c.get_email().into(),
        };
        let editing = self.inner.borrow().shown.customers.editing.clone();
        let saved = self
            .inner
            .borrow_mut()
            .office
            .save_customer(editing.as_ref(), &form);
        match saved {
            Ok(customer) => {
                self.show_card(&customer.id);
                self.done(&format!("{} is saved", customer.name));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn close_customer(&self) {
        self.inner.borrow_mut().shown.customers.editing = None;
        self.say("", pos_ui::Tone::Info);
        self.refresh_customers();
    }

    fn show_loyalty(&self) {
        let program = self.inner.borrow().office.loyalty_program();
        match program {
            Ok(program) => self.fill_loyalty(&program),
            Err(error) => self.problem(&error),
        }
        self.with_window(|w| w.global::<Customers>().set_tab(CustomersTab::Loyalty));
    }

    fn fill_loyalty(&self, program: &LoyaltyProgram) {
        let form = LoyaltyForm::from_program(program);
        self.with_window(|w| {
            let c = w.global::<Customers>();
            for line in &form.tiers {
                let (threshold, rate) = (text(line.threshold.as_str()), text(line.rate.as_str()));
                match line.tier {
                    Tier::Member => {
                        c.set_member_threshold(threshold);
                        c.set_member_rate(rate);
                    }
                    Tier::Bronze => {
                        c.set_bronze_threshold(threshold);
                        c.set_bronze_rate(rate);
                    }
                    Tier::Silver => {
                        c.set_silver_threshold(threshold);
                        c.set_silver_rate(rate);
                    }
                    Tier::Gold => {
                        c.set_gold_threshold(threshold);
                        c.set_gold_rate(rate);
                    }
                }
            }
            c.set_point_value(text(form.point_value));
            c.set_window(text(form.window_days));
        });
    }

    fn save_loyalty(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let c = window.global::<Customers>();
        let form = LoyaltyForm {
            tiers: tier_fields(&c)
                .into_iter()
                .map(|(tier, threshold, rate)| TierLine {
                    tier,
                    threshold,
                    rate,
                })
                .collect(),
            point_value: c.get_point_value().into(),
            window_days: c.get_window().into(),
        };
        let saved = self.inner.borrow_mut().office.save_loyalty_program(&form);
        match saved {
            Ok(program) => {
                self.fill_loyalty(&program);
                self.done("the loyalty settings are saved; the till uses them from the next sale");
                self.tell_shop_saved();
            }
            Err(error) => self.problem(&error),
        }
    }
}

fn fill_form(c: &Customers<'_>, form: &CustomerForm) {
    c.set_name(text(form.name.as_str()));
    c.set_card(text(form.card.as_str()));
    c.set_phone(text(form.phone.as_str()));
    c.set_email(text(form.email.as_str()));
}
