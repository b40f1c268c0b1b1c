//! Property tests where stock and parsing rules invite them: stock is the sum of whatever
//! movements were recorded, and any product survives a CSV export and re-import unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pos_core::event::DomainEvent;
use pos_core::id::{BatchId, MovementId, ProductId, StoreId, UserId};
use pos_core::money::{Currency, Money};
use pos_core::quantity::{Quantity, Unit};
use pos_core::stock::{MovementReason, StockMovement};
use pos_store::csv_io::{ImportMode, ImportOptions};
use pos_store::sample::product;
use proptest::prelude::*;
use rust_decimal::Decimal;
use support::{at, open};

fn movement(n: usize, product: u8, batch: Option<u8>, grams: i64) -> StockMovement {
    StockMovement {
        id: MovementId::new(format!("m{n}")),
        product: ProductId::new(format!("p{product}")),
        store: StoreId::new("berlin-mitte"),
        batch: batch.map(|b| BatchId::new(format!("b{b}"))),
        quantity: Quantity::of(Decimal::new(grams, 3), Unit::Kilogram).unwrap(),
        reason: MovementReason::Adjustment {
            reason: "test".to_owned(),
        },
        at: at(0),
        by: UserId::new("marc"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn stock_is_the_sum_of_recorded_movements(
        moves in proptest::collection::vec((0u8..3, proptest::option::of(0u8..2), -5_000i64..5_000), 1..40),
        split in 1usize..5,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path());
        let events: Vec<DomainEvent> = moves
            .iter()
            .enumerate()
            .map(|(n, (p, b, g))| DomainEvent::StockMoved(movement(n, *p, *b, *g)))
            .collect();
        for chunk in events.chunks(split) {
            store.record(&UserId::new("marc"), at(0), chunk).unwrap();
        }
        drop(store);
        let store = open(dir.path());
        for p in 0u8..3 {
            let expected: i64 = moves.iter().filter(|(mp, _, _)| *mp == p).map(|(_, _, g)| g).sum();
            let level = store.stock_level(&StoreId::new("berlin-mitte"), &ProductId::new(format!("p{p}"))).unwrap();
            prop_assert_eq!(level.value(), Decimal::new(expected, 3));
        }
        prop_assert!(store.verify_journal().unwrap().is_intact());
    }

    #[test]
    fn any_product_survives_export_and_import(
        name in "[a-zA-Z0-9äöüß ,;\"'|=&*()-]{1,40}",
        cents in 0i64..1_000_000,
        variant in proptest::option::of("[a-z]{1,6}"),
    ) {
        prop_assume!(!name.trim().is_empty());
        let mut original = product(3);
        original.name = name.trim().to_owned();
        original.price = Money::from_minor(cents, Currency::EUR);
        if let Some(value) = &variant {
            original.variant = vec![pos_core::catalog::VariantAttribute::new("size", value)];
        }
        let options = ImportOptions {
            currency: Currency::EUR,
            store: StoreId::new("berlin-mitte"),
            actor: UserId::new("marc"),
            now: at(0),
            mode: ImportMode::AllOrNothing,
        };
        let source = tempfile::tempdir().unwrap();
        let mut store = open(source.path());
        store.record(&UserId::new("marc"), at(0), &[DomainEvent::ProductSaved(original.clone())]).unwrap();
        let mut file = Vec::new();
        store.export_products_csv(&mut file, &options.store).unwrap();
        let target = tempfile::tempdir().unwrap();
        let mut copy = open(target.path());
        copy.import_products_csv(file.as_slice(), &options).unwrap();
        prop_assert_eq!(copy.product(&original.id).unwrap(), Some(original));
    }
}
