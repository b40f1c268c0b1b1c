//! Tenants (the fleet operator's clients) and their stores, each with its own currency, tax
//! setup, rounding, receipt text and printing, drawer tenders and feature switches.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::UtcOffset;

use crate::access::Features;
use crate::id::{StoreId, TenantId};
use crate::money::{Currency, Money, RoundingMode};
use crate::tax::{TaxPolicy, TaxTable};
use crate::tender::TenderKind;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub features: Features,
}

/// Cash rounding: the cash part of a payment is rounded to a multiple of `increment` (0.05 in
/// Switzerland, 1 in many currencies without small coins). Card payments are never rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashRounding {
    pub increment: Decimal,
    pub mode: RoundingMode,
}

impl CashRounding {
    pub fn apply(&self, amount: Money) -> Money {
        amount.round_to_increment(self.increment, self.mode)
    }
}

/// What is printed around every receipt, and whether a sale prints one without asking.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptSettings {
    pub header: Vec<String>,
    pub footer: Vec<String>,
    #[serde(default)]
    pub printing: ReceiptPrinting,
}

/// When a sale's receipt is printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptPrinting {
    /// The cashier chooses after each sale: print, email, gift receipt or none.
    #[default]
    Ask,
    /// Every sale prints its receipt as it completes.
    Always,
}

/// Which tenders open the cash drawer when a sale or refund is settled with them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerSettings {
    pub opening_tenders: Vec<TenderKind>,
}

impl Default for DrawerSettings {
    /// Cash only: the cashier puts notes in and takes change out; a card sale leaves the
    /// drawer shut, so it is never open without a reason.
    fn default() -> DrawerSettings {
        DrawerSettings {
            opening_tenders: vec![TenderKind::Cash],
        }
    }
}

impl DrawerSettings {
    /// Whether settling with `tenders` opens the drawer.
    pub fn opens_for(&self, tenders: impl IntoIterator<Item = TenderKind>) -> bool {
        tenders
            .into_iter()
            .any(|kind| self.opening_tenders.contains(&kind))
    }
}

/// Limits on manual discounts: above `percent_max_without_approval` a manager must approve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscountPolicy {
    pub percent_max_without_approval: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Store {
    pub id: StoreId,
    pub tenant: TenantId,
    pub name: String,
    pub address: Vec<String>,
    pub tax_number: Option<String>,
    pub currency: Currency,
    /// The store's wall-clock offset, for happy hours, reports by day and expiry dates.
    #[serde(with = "offset_seconds")]
    pub utc_offset: UtcOffset,
    pub taxes: TaxTable,
    pub tax_policy: TaxPolicy,
    pub cash_rounding: Option<CashRounding>,
    pub discounts: DiscountPolicy,
    pub receipt: ReceiptSettings,
    #[serde(default)]
    pub drawer: DrawerSettings,
    pub features: Features,
}

impl Store {
    /// The switches in force: the tenant's, narrowed by the store's own.
    pub fn effective_features(&self, tenant: &Tenant) -> Features {
        tenant.features.combined(&self.features)
    }
}

mod offset_seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::UtcOffset;

    pub fn serialize<S: Serializer>(offset: &UtcOffset, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(offset.whole_seconds())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UtcOffset, D::Error> {
        let seconds = i32::deserialize(d)?;
        UtcOffset::from_whole_seconds(seconds).map_err(serde::de::Error::custom)
    }
}
