//! Customers and loyalty in the back office: the list with search, the customer form, a
//! customer's card (purchases, points ledger, tier and how far the next one is) and the
//! loyalty program's settings.
//!
//! Tiers, rolling spend, earn rates and the program's checks are `pos-core`'s `loyalty`
//! rules, the same the till uses; this module only reads forms and asks the books.

use pos_core::event::{DomainEvent, ReceiptDestination};
use pos_core::id::{CustomerId, LoyaltyCard};
use pos_core::loyalty::{Customer, LoyaltyProgram, PointsMovement, Tier, TierRule};
use pos_core::money::{Currency, Money};
use pos_store::read::SaleSummary;
use rust_decimal::Decimal;

use crate::books::Books;
use crate::office::{BackOffice, BackOfficeError, LIST_ROWS, permission};
use crate::product_form::FormError;

type Result<T> = std::result::Result<T, BackOfficeError>;

/// Purchases read to work out a customer's rolling spend: more than a year of weekly
/// shopping, as on the till.
pub const SPEND_HISTORY_ROWS: u32 = 1_000;

/// The customer form as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerForm {
    pub name: String,
    pub card: String,
    pub phone: String,
    pub email: String,
}

impl CustomerForm {
    pub fn from_customer(customer: &Customer) -> CustomerForm {
        CustomerForm {
            name: customer.name.clone(),
            card: customer
                .card
                .as_ref()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
            phone: customer.phone.clone().unwrap_or_default(),
            email: customer.email.clone().unwrap_or_default(),
        }
    }

    /// The customer `id` this form describes: a name is needed, an email address must look
    /// like one, and empty fields are left out.
    fn to_customer(&self, id: CustomerId) -> Result<Customer> {
        let optional = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        let name = self.name.trim();
        if name.is_empty() {
            return Err(FormError::Empty("name").into());
        }
        let email = match optional(&self.email) {
            None => None,
            // The same shape check as an emailed receipt's address.
            Some(text) => match ReceiptDestination::email(&text)
                .map_err(|error| BackOfficeError::Input(error.to_string()))?
            {
                ReceiptDestination::Email(address) | ReceiptDestination::Sms(address) => {
                    Some(address)
                }
            },
        };
        let card = optional(&self.card);
        if let Some(card) = &card
            && !card.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(BackOfficeError::Input(format!(
                "the card number “{card}” may only hold digits and letters; scan the card"
            )));
        }
        Ok(Customer {
            id,
            name: name.to_owned(),
            email,
            phone: optional(&self.phone),
            card: card.map(LoyaltyCard::new),
        })
    }
}

/// A customer as the back office shows them: the points they hold, their tier by rolling
/// spend and the way to the next, what they bought and how their points moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerCard {
    pub customer: Customer,
    pub points: i64,
    /// What the points are worth when redeemed.
    pub points_value: Money,
    /// Spend over the program's rolling window.
    pub spend: Money,
    pub tier: Tier,
    /// The next tier and the spend still needed, or `None` at the top.
    pub next: Option<(Tier, Money)>,
    pub window_days: i64,
    /// Newest first.
    pub purchases: Vec<SaleSummary>,
    /// Newest first.
    pub ledger: Vec<PointsMovement>,
}

impl CustomerCard {
    /// How far from the current tier's bar to the next one, 0–1, for a progress bar.
    pub fn progress(&self, program: &LoyaltyProgram) -> f32 {
        let Some((next, _)) = self.next else {
            return 1.0;
        };
        let bar = |tier: Tier| {
            program
                .tiers
                .iter()
                .find(|rule| rule.tier == tier)
                .map_or(Decimal::ZERO, |rule| rule.spend_min.amount())
        };
        let (from, to) = (bar(self.tier), bar(next));
        if to <= from {
            return 0.0;
        }
        let share = (self.spend.amount() - from) / (to - from);
        rust_decimal::prelude::ToPrimitive::to_f32(&share)
            .unwrap_or(0.0)
            .clamp(0.0, 1.0)
    }
}

/// One tier's line of the loyalty settings form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierLine {
    pub tier: Tier,
    /// Spend over the window that reaches the tier.
    pub threshold: String,
    /// Points per whole currency unit spent.
    pub rate: String,
}

/// The loyalty settings form as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoyaltyForm {
    pub tiers: Vec<TierLine>,
    pub point_value: String,
    pub window_days: String,
}

impl LoyaltyForm {
    pub fn from_program(program: &LoyaltyProgram) -> LoyaltyForm {
        LoyaltyForm {
            tiers: program
                .tiers
                .iter()
                .map(|rule| TierLine {
                    tier: rule.tier,
                    threshold: rule.spend_min.display_amount(),
                    rate: rule.points_per_unit.normalize().to_string(),
                })
                .collect(),
            point_value: program.point_value.amount().normalize().to_string(),
            window_days: program.window_days.to_string(),
        }
    }

    /// The program this form describes, checked by `pos-core`'s rules.
    pub fn to_program(&self, currency: Currency) -> Result<LoyaltyProgram> {
        let number = |field: String, text: &str| -> Result<Decimal> {
            let text = text.trim().replace(',', ".");
            if text.is_empty() {
                return Err(BackOfficeError::Input(format!("{field} cannot be empty")));
            }
            text.parse::<Decimal>().map_err(|_| {
                BackOfficeError::Input(format!(
                    "{field}: “{text}” is not a number (for example 1.5)"
                ))
            })
        };
        let mut tiers = Vec::with_capacity(self.tiers.len());
        for line in &self.tiers {
            let name = line.tier.name();
            tiers.push(TierRule {
                tier: line.tier,
                spend_min: Money::new(
                    number(format!("the spend for {name}"), &line.threshold)?,
                    currency,
                ),
                points_per_unit: number(format!("the points per unit for {name}"), &line.rate)?,
            });
        }
        let point_value = Money::new(
            number("what a point is worth".to_owned(), &self.point_value)?,
            currency,
        );
        let window = self.window_days.trim();
        let window_days = window.parse().map_err(|_| {
            BackOfficeError::Input(format!(
                "“{window}” is not a number of days (for example 365)"
            ))
        })?;
        let program = LoyaltyProgram {
            tiers,
            window_days,
            point_value,
        };
        program.check()?;
        Ok(program)
    }
}

impl<B: Books> BackOffice<B> {
    /// Customers by name, or those whose name, card or phone number has `text`, with their
    /// points.
    pub fn customers(&self, text: &str) -> Result<Vec<(Customer, i64)>> {
        self.allow(permission::CUSTOMERS_VIEW)?;
        Ok(self.books().customers(text, LIST_ROWS)?)
    }

    /// The loyalty program the shop runs.
    pub fn loyalty_program(&self) -> Result<LoyaltyProgram> {
        self.allow(permission::CUSTOMERS_VIEW)?;
        self.books().loyalty_program()?.ok_or_else(|| {
            BackOfficeError::Input(
                "the shop has no loyalty program yet; an administrator sets it up under Loyalty settings"
                    .to_owned(),
            )
        })
    }

    /// A customer with their tier, purchases and points ledger.
    pub fn customer_card(&self, id: &CustomerId) -> Result<CustomerCard> {
        self.allow(permission::CUSTOMERS_VIEW)?;
        let (customer, points) = self
            .books()
            .customer(id)?
            .ok_or_else(|| BackOfficeError::Input(format!("customer {id} is not on file")))?;
        let program = self.loyalty_program()?;
        let sales = self.books().customer_sales(id, SPEND_HISTORY_ROWS)?;
        let history: Vec<pos_core::loyalty::Purchase> = sales
            .iter()
            .map(|sale| pos_core::loyalty::Purchase {
                at: sale.at,
                receipt: sale.receipt_number.clone(),
                amount: sale.total,
            })
            .collect();
        let spend = program
            .rolling_spend(&history, self.now())
            .map_err(pos_core::loyalty::LoyaltyError::from)?;
        let mut purchases = sales;
        purchases.truncate(LIST_ROWS as usize);
        Ok(CustomerCard {
            points_value: program.value_of(points),
            tier: program.tier_for(spend),
            next: program.progress(spend),
            window_days: program.window_days,
            spend,
            customer,
            points,
            purchases,
            ledger: self.books().points_ledger(id, LIST_ROWS)?,
        })
    }

    /// Saves the customer `id` (a new one when `None`) from `form`: a customer-saved event.
    /// A loyalty card another customer holds is refused.
    pub fn save_customer(
        &mut self,
        id: Option<&CustomerId>,
        form: &CustomerForm,
    ) -> Result<Customer> {
        let by = self.allow(permission::CUSTOMERS_EDIT)?;
        let id = match id {
            Some(id) => id.clone(),
            None => CustomerId::new(self.new_id("c")),
        };
        let customer = form.to_customer(id)?;
        if let Some(card) = &customer.card
            && let Some((owner, _)) = self.books().customer_by_card(card.as_str())?
            && owner.id != customer.id
        {
            return Err(BackOfficeError::Input(format!(
                "card {card} already belongs to {}; scan a new card",
                owner.name
            )));
        }
        self.record(&by, &[DomainEvent::CustomerSaved(customer.clone())])?;
        Ok(customer)
    }

    /// Saves the loyalty program from `form`, once `pos-core` finds it sound.
    pub fn save_loyalty_program(&mut self, form: &LoyaltyForm) -> Result<LoyaltyProgram> {
        let by = self.allow(permission::LOYALTY_SETTINGS)?;
        let program = form.to_program(self.shop().currency)?;
        self.record(&by, &[DomainEvent::LoyaltyProgramSaved(program.clone())])?;
        Ok(program)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loyalty_form_reads_back_what_it_shows_and_names_mistakes() {
        let program = pos_core::demo::loyalty();
        let form = LoyaltyForm::from_program(&program);
        assert_eq!(form.tiers[2].threshold, "500.00");
        assert_eq!(form.tiers[2].rate, "1.5");
        assert_eq!(form.to_program(Currency::EUR).unwrap(), program);

        let mut typo = form.clone();
        typo.tiers[1].rate = "lots".to_owned();
        assert_eq!(
            typo.to_program(Currency::EUR).unwrap_err().to_string(),
            "the points per unit for Bronze: “lots” is not a number (for example 1.5)"
        );
        let mut backwards = form;
        backwards.tiers[3].threshold = "400,00".to_owned();
        assert_eq!(
            backwards.to_program(Currency::EUR).unwrap_err().to_string(),
            "the spend for Gold must be more than the spend for Silver"
        );
    }

    #[test]
    fn a_customer_needs_a_name_and_a_real_email_address() {
        let form = CustomerForm {
            name: "  ".to_owned(),
            ..CustomerForm::default()
        };
        assert_eq!(
            form.to_customer(CustomerId::new("c1"))
                .unwrap_err()
                .to_string(),
            "the name cannot be empty"
        );
        let form = CustomerForm {
            name: "Eva Roth".to_owned(),
            email: "eva.roth@".to_owned(),
            card: " 9900000000048 ".to_owned(),
            phone: String::new(),
        };
        assert!(
            form.to_customer(CustomerId::new("c1"))
                .unwrap_err()
                .to_string()
                .contains("is not an email address")
        );
        let form = CustomerForm {
            email: "eva.roth@example.de".to_owned(),
            ..form
        };
        let customer = form.to_customer(CustomerId::new("c1")).unwrap();
        assert_eq!(customer.card, Some(LoyaltyCard::new("9900000000048")));
        assert_eq!(customer.phone, None);
        assert_eq!(CustomerForm::from_customer(&customer).card, "9900000000048");
    }
}
