//! The store adapter: reads a period's sales, refunds and Z reports from the terminal's
//! encrypted store, with the names of categories and people, for the pure reports.

use std::collections::BTreeMap;

use pos_core::money::Currency;
use pos_store::Store;

use crate::{Period, ReportData, ReportError};

/// Everything the reports need for `period`, in the shop's `currency`.
pub fn load(store: &Store, period: &Period, currency: Currency) -> Result<ReportData, ReportError> {
    let sales = store.sale_records_between(period.start(), period.end())?;
    let refunds = store.refunds_between(period.start(), period.end())?;
    let shifts = store.closed_shifts_between(period.start(), period.end())?;
    let category_names: BTreeMap<_, _> = store.categories()?.into_iter().collect();
    let mut people = BTreeMap::new();
    let users = sales
        .iter()
        .map(|s| &s.cashier)
        .chain(refunds.iter().map(|r| &r.cashier))
        .chain(shifts.iter().map(|(s, _)| &s.opened_by));
    for user in users {
        if !people.contains_key(user)
            && let Some(actor) = store.actor(user)?
        {
            people.insert(user.clone(), actor.name);
        }
    }
    Ok(ReportData {
        currency,
        sales,
        refunds,
        shifts,
        category_names,
        people,
    })
}
