//! The conflict rules, as pure functions. Which rule applies depends on what the data is:
//!
//! - **Facts** (sales, refunds, shifts, any journal event) never conflict: they are appended
//!   under unique ids, and a fact seen twice is the same fact ([`crate::ingest::fate`]).
//! - **Counters** (stock, loyalty points) are sums of movements from every terminal, never an
//!   overwritten number: two offline tills selling the last item both record the sale and the
//!   level shows −1 with an alert ([`stock_alerts`]), rather than one sale being lost.
//! - **Records** (catalogue, prices, settings) are last-writer-wins per field by hybrid
//!   logical clock ([`LwwDocument`]); on a tie the fleet wins, because the fleet is where the
//!   catalogue is authored. A terminal applies what the fleet sends as it comes.
//! - **A sale of something the catalogue no longer sells** (archived while the till was
//!   offline) is still a sale: it is kept and reported for a manager ([`sale_anomalies`]).

use std::collections::BTreeMap;

use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, EventId, ProductId, StoreId};
use pos_core::loyalty::PointsMovement;
use pos_core::money::Money;
use pos_core::quantity::Quantity;
use pos_core::sale::Sale;
use pos_core::stock::StockLevels;
use serde::{Deserialize, Serialize};

use crate::hlc::HlcTime;

/// Who wrote a value. On equal clocks the fleet wins over a terminal, and terminals are
/// ordered by id so that every replica picks the same winner.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by", content = "device")]
pub enum Origin {
    Device(DeviceId),
    Fleet,
}

/// When and by whom a field was written: the key of last-writer-wins.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Stamp {
    pub hlc: HlcTime,
    pub origin: Origin,
}

/// A record (a product, a store's settings) as fields, each with the stamp of its last write.
/// Merging keeps, per field, the value with the greatest stamp, so merges commute and a
/// replica can take writes in any order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LwwDocument {
    fields: BTreeMap<String, (serde_json::Value, Stamp)>,
}

impl LwwDocument {
    /// Writes every top-level field of `document` with `stamp`; fields with a newer stamp
    /// stay. Returns the names of the fields that changed.
    pub fn write(
        &mut self,
        document: &serde_json::Map<String, serde_json::Value>,
        stamp: &Stamp,
    ) -> Vec<String> {
        let mut changed = Vec::new();
        for (name, value) in document {
            let newer = match self.fields.get(name) {
                // Equal stamps should not happen (a clock never issues one twice), but if a
                // copied device does it, the greater value wins so replicas still agree.
                Some((current_value, current)) => {
                    stamp > current
                        || (stamp == current && canonical(value) > canonical(current_value))
                }
                None => true,
            };
            if newer {
                let previous = self
                    .fields
                    .insert(name.clone(), (value.clone(), stamp.clone()));
                if previous.is_none_or(|(old, _)| &old != value) {
                    changed.push(name.clone());
                }
            }
        }
        changed
    }

    /// Takes in every field of another replica of the same record.
    pub fn merge(&mut self, other: &LwwDocument) {
        for (name, (value, stamp)) in &other.fields {
            let mut single = serde_json::Map::new();
            single.insert(name.clone(), value.clone());
            self.write(&single, stamp);
        }
    }

    /// The record as it now reads.
    pub fn document(&self) -> serde_json::Map<String, serde_json::Value> {
        self.fields
            .iter()
            .map(|(name, (value, _))| (name.clone(), value.clone()))
            .collect()
    }

    /// The greatest stamp of any field: when the record as a whole last changed.
    pub fn latest(&self) -> Option<&Stamp> {
        self.fields.values().map(|(_, stamp)| stamp).max()
    }
}

/// A value's JSON text: keys sorted, so equal values read equal.
fn canonical(value: &serde_json::Value) -> String {
    value.to_string()
}

/// A price that takes effect at a time, possibly in the future.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledPrice {
    pub price: Money,
    pub effective_at: Timestamp,
    pub stamp: Stamp,
}

/// The price to charge at `now`: the latest scheduled price already in effect (two
/// schedules for the same moment: the later-written one), else the product's own price.
pub fn effective_price(base: Money, schedule: &[ScheduledPrice], now: Timestamp) -> Money {
    schedule
        .iter()
        .filter(|s| s.effective_at <= now)
        .max_by(|a, b| {
            a.effective_at
                .cmp(&b.effective_at)
                .then_with(|| a.stamp.cmp(&b.stamp))
        })
        .map_or(base, |s| s.price)
}

/// A store's own record wins over the tenant-wide one.
pub fn effective_for_store<T>(tenant_wide: Option<T>, store_own: Option<T>) -> Option<T> {
    store_own.or(tenant_wide)
}

/// Something a manager should look at. Never a reason to refuse a sale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Anomaly {
    /// Stock went below zero: more was sold (on one or several tills) than the books held.
    NegativeStock {
        store: StoreId,
        product: ProductId,
        level: Quantity,
    },
    /// A product archived in the catalogue was sold (the till was offline, or had not pulled
    /// the change yet).
    SoldWhileArchived { product: ProductId },
    /// A product the fleet does not know was sold (added on the till, or deleted).
    SoldUnknownProduct { product: ProductId },
}

/// Products whose level in `store` is below zero.
pub fn stock_alerts<'a>(
    levels: &StockLevels,
    store: &StoreId,
    products: impl IntoIterator<Item = &'a ProductId>,
) -> Vec<Anomaly> {
    products
        .into_iter()
        .filter_map(|product| {
            let level = levels.level(store, product);
            level.is_negative().then(|| Anomaly::NegativeStock {
                store: store.clone(),
                product: product.clone(),
                level,
            })
        })
        .collect()
}

/// What is unusual about an accepted sale, given the catalogue as the fleet holds it.
pub fn sale_anomalies<'a>(
    sale: &Sale,
    catalogue: impl Fn(&ProductId) -> Option<&'a Product>,
) -> Vec<Anomaly> {
    let mut found = Vec::new();
    for line in &sale.lines {
        let id = &line.product.id;
        let anomaly = match catalogue(id) {
            None => Anomaly::SoldUnknownProduct {
                product: id.clone(),
            },
            Some(product) if !product.active => Anomaly::SoldWhileArchived {
                product: id.clone(),
            },
            Some(_) => continue,
        };
        if !found.contains(&anomaly) {
            found.push(anomaly);
        }
    }
    found
}

/// A customer's points: the sum of their movements, each event counted once however often it
/// arrived.
pub fn points_balance(
    movements: &[(EventId, PointsMovement)],
    customer: &pos_core::id::CustomerId,
) -> i64 {
    let unique: BTreeMap<&EventId, &PointsMovement> =
        movements.iter().map(|(id, m)| (id, m)).collect();
    unique
        .values()
        .filter(|m| &m.customer == customer)
        .map(|m| m.points)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pos_core::id::CustomerId;
    use pos_core::loyalty::PointsReason;
    use pos_core::money::Currency;
    use proptest::prelude::*;
    use serde_json::json;

    fn stamp(wall_ms: i64, origin: Origin) -> Stamp {
        Stamp {
            hlc: HlcTime::new(wall_ms, 0),
            origin,
        }
    }

    fn fields(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        value.as_object().unwrap().clone()
    }

    fn till(id: &str) -> Origin {
        Origin::Device(DeviceId::new(id))
    }

    #[test]
    fn the_later_write_wins_per_field_not_per_record() {
        let mut product = LwwDocument::default();
        product.write(
            &fields(json!({"name": "Milk", "price": "1.09"})),
            &stamp(10, Origin::Fleet),
        );
        // A manager's till renamed it offline at 20; the fleet repriced it at 30.
        product.write(
            &fields(json!({"name": "Whole milk"})),
            &stamp(20, till("T1")),
        );
        product.write(&fields(json!({"price": "1.19"})), &stamp(30, Origin::Fleet));
        assert_eq!(
            product.document(),
            fields(json!({"name": "Whole milk", "price": "1.19"}))
        );
    }

    #[test]
    fn an_older_write_arriving_late_changes_nothing() {
        let mut product = LwwDocument::default();
        product.write(&fields(json!({"price": "1.19"})), &stamp(30, Origin::Fleet));
        let changed = product.write(&fields(json!({"price": "0.99"})), &stamp(20, till("T1")));
        assert!(changed.is_empty());
        assert_eq!(product.document(), fields(json!({"price": "1.19"})));
    }

    #[test]
    fn on_equal_clocks_the_fleet_wins() {
        let mut product = LwwDocument::default();
        product.write(&fields(json!({"price": "1.19"})), &stamp(30, Origin::Fleet));
        product.write(&fields(json!({"price": "0.99"})), &stamp(30, till("T1")));
        assert_eq!(product.document(), fields(json!({"price": "1.19"})));
    }

    /// Found by `lww_converges_whatever_the_order`: two writes with the very same stamp
    /// (a copied device) must still give every replica the same value.
    #[test]
    fn equal_stamps_with_different_values_still_converge() {
        let tie = stamp(5, till("T1"));
        let mut a = LwwDocument::default();
        a.write(&fields(json!({"name": 0})), &tie);
        a.write(&fields(json!({"name": 1})), &tie);
        let mut b = LwwDocument::default();
        b.write(&fields(json!({"name": 1})), &tie);
        b.write(&fields(json!({"name": 0})), &tie);
        assert_eq!(a.document(), b.document());
    }

    #[test]
    fn a_scheduled_price_applies_from_its_time_on() {
        let eur = |minor| Money::from_minor(minor, Currency::EUR);
        let schedule = vec![
            ScheduledPrice {
                price: eur(99),
                effective_at: Timestamp::from_unix_ms(1_000),
                stamp: stamp(5, Origin::Fleet),
            },
            ScheduledPrice {
                price: eur(89),
                effective_at: Timestamp::from_unix_ms(2_000),
                stamp: stamp(6, Origin::Fleet),
            },
            // Written later for the same moment: it replaces the 0.89.
            ScheduledPrice {
                price: eur(79),
                effective_at: Timestamp::from_unix_ms(2_000),
                stamp: stamp(7, Origin::Fleet),
            },
        ];
        let at = Timestamp::from_unix_ms;
        assert_eq!(effective_price(eur(109), &schedule, at(999)), eur(109));
        assert_eq!(effective_price(eur(109), &schedule, at(1_000)), eur(99));
        assert_eq!(effective_price(eur(109), &schedule, at(5_000)), eur(79));
    }

    #[test]
    fn a_store_record_wins_over_the_tenant_record() {
        assert_eq!(effective_for_store(Some("EUR"), Some("CHF")), Some("CHF"));
        assert_eq!(effective_for_store(Some("EUR"), None), Some("EUR"));
        assert_eq!(effective_for_store::<&str>(None, None), None);
    }

    #[test]
    fn points_count_each_event_once() {
        let anna = CustomerId::new("c-anna");
        let earned = |points, sale: &str| PointsMovement {
            customer: anna.clone(),
            points,
            reason: PointsReason::Earned(sale.into()),
            at: Timestamp::from_unix_ms(0),
        };
        let movements = vec![
            (EventId::new("e1"), earned(10, "s1")),
            (EventId::new("e2"), earned(5, "s2")),
            // The same event delivered twice.
            (EventId::new("e1"), earned(10, "s1")),
        ];
        assert_eq!(points_balance(&movements, &anna), 15);
    }

    fn write_strategy() -> impl Strategy<Value = (String, i64, Stamp)> {
        (
            prop::sample::select(vec!["name", "price", "active"]),
            0i64..1_000,
            0i64..20,
            prop::option::of(prop::sample::select(vec!["T1", "T2", "T3"])),
        )
            .prop_map(|(field, value, wall, device)| {
                let origin = device.map_or(Origin::Fleet, till);
                (field.to_owned(), value, stamp(wall, origin))
            })
    }

    proptest! {
        /// Replicas that take the same writes in any order read the same.
        #[test]
        fn lww_converges_whatever_the_order(
            writes in prop::collection::vec(write_strategy(), 0..30),
            seed in any::<u64>(),
        ) {
            let mut shuffled = writes.clone();
            let mut state = seed;
            for i in (1..shuffled.len()).rev() {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let j = usize::try_from(state >> 33).unwrap() % (i + 1);
                shuffled.swap(i, j);
            }
            let apply = |writes: &[(String, i64, Stamp)]| {
                let mut doc = LwwDocument::default();
                for (field, value, stamp) in writes {
                    let mut single = serde_json::Map::new();
                    single.insert(field.clone(), json!(value));
                    doc.write(&single, stamp);
                }
                doc
            };
            let in_order = apply(&writes);
            let reordered = apply(&shuffled);
            prop_assert_eq!(in_order.document(), reordered.document());
            // Merging replicas is the same as writing everything into one.
            let (left, right) = writes.split_at(writes.len() / 2);
            let mut merged = apply(left);
            merged.merge(&apply(right));
            prop_assert_eq!(merged.document(), in_order.document());
        }
    }
}
