//! The back office's queries over real events: the product list and its filters, stock per
//! batch, recent sales for reordering, and who owns a code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pos_core::catalog::Product;
use pos_core::event::DomainEvent;
use pos_core::id::{Barcode, BatchId, CategoryId, MovementId, ProductId, Sku, StoreId, UserId};
use pos_core::quantity::Quantity;
use pos_core::stock::{Batch, MovementReason, StockMovement};
use pos_store::Store;
use pos_store::inventory::{ProductFilter, ProductStatus};
use pos_store::sample::product;
use support::{at, open};
use time::macros::date;

fn named(n: u64, id: &str, name: &str, category: &str) -> Product {
    let mut p = product(n);
    p.id = ProductId::new(id);
    p.sku = Sku::new(format!("SKU-{id}"));
    p.name = name.to_owned();
    p.category = Some(CategoryId::new(category));
    p
}

fn moved(
    store: &mut Store,
    id: &str,
    product: &str,
    batch: Option<&str>,
    qty: i64,
    reason: MovementReason,
) {
    let movement = StockMovement {
        id: MovementId::new(id),
        product: ProductId::new(product),
        store: StoreId::new("S1"),
        batch: batch.map(BatchId::new),
        quantity: Quantity::pieces(qty),
        reason,
        at: at(1),
        by: UserId::new("marc"),
    };
    store
        .record(
            &UserId::new("marc"),
            at(1),
            &[DomainEvent::StockMoved(movement)],
        )
        .unwrap();
}

fn names(store: &Store, filter: &ProductFilter) -> Vec<String> {
    store
        .product_list(&StoreId::new("S1"), filter, 50)
        .unwrap()
        .into_iter()
        .map(|l| l.product.name)
        .collect()
}

#[test]
fn the_product_list_filters_by_text_barcode_category_status_and_low_stock() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let mut milk = named(1, "milk", "Whole milk 1L", "dairy");
    milk.low_stock_threshold = Some(Quantity::pieces(6));
    milk.barcodes = vec![Barcode::new("4006381333931")];
    let yoghurt = named(2, "yog", "Yoghurt 50% less sugar", "dairy");
    let mut old = named(3, "old", "Milk chocolate (old)", "sweets");
    old.active = false;
    let events: Vec<DomainEvent> = [milk, yoghurt, old]
        .into_iter()
        .map(DomainEvent::ProductSaved)
        .collect();
    store.record(&UserId::new("marc"), at(0), &events).unwrap();
    moved(
        &mut store,
        "m1",
        "milk",
        None,
        4,
        MovementReason::CountCorrection,
    );
    moved(
        &mut store,
        "m2",
        "yog",
        None,
        40,
        MovementReason::CountCorrection,
    );

    let all = ProductFilter::default();
    assert_eq!(
        names(&store, &all),
        ["Whole milk 1L", "Yoghurt 50% less sugar"]
    );
    let text = |t: &str| ProductFilter {
        text: t.to_owned(),
        ..ProductFilter::default()
    };
    assert_eq!(names(&store, &text("MILK")), ["Whole milk 1L"]);
    assert_eq!(names(&store, &text("4006381333931")), ["Whole milk 1L"]);
    assert_eq!(names(&store, &text("50%")), ["Yoghurt 50% less sugar"]);
    assert_eq!(names(&store, &text("SKU-yog")), ["Yoghurt 50% less sugar"]);
    let archived = ProductFilter {
        status: ProductStatus::Archived,
        ..ProductFilter::default()
    };
    assert_eq!(names(&store, &archived), ["Milk chocolate (old)"]);
    let every = ProductFilter {
        status: ProductStatus::All,
        text: "milk".to_owned(),
        ..ProductFilter::default()
    };
    assert_eq!(
        names(&store, &every),
        ["Milk chocolate (old)", "Whole milk 1L"]
    );
    let sweets = ProductFilter {
        category: Some(CategoryId::new("sweets")),
        status: ProductStatus::All,
        ..ProductFilter::default()
    };
    assert_eq!(names(&store, &sweets), ["Milk chocolate (old)"]);
    let low = ProductFilter {
        low_stock_only: true,
        ..ProductFilter::default()
    };
    let listed = store.product_list(&StoreId::new("S1"), &low, 50).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].product.name, "Whole milk 1L");
    assert_eq!(listed[0].level, Quantity::pieces(4));
    assert!(listed[0].low);
}

#[test]
fn stock_per_batch_sold_quantities_and_code_owners() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let milk = named(1, "milk", "Whole milk 1L", "dairy");
    store
        .record(
            &UserId::new("marc"),
            at(0),
            &[DomainEvent::ProductSaved(milk.clone())],
        )
        .unwrap();
    for (id, lot, expiry) in [
        ("b-late", "L2", date!(2026 - 06 - 30)),
        ("b-soon", "L1", date!(2026 - 06 - 02)),
    ] {
        store
            .save_batch(&Batch {
                id: BatchId::new(id),
                product: milk.id.clone(),
                lot: lot.to_owned(),
                expiry: Some(expiry),
            })
            .unwrap();
    }
    let receipt = || MovementReason::GoodsReceipt { reference: None };
    moved(&mut store, "r1", "milk", Some("b-late"), 12, receipt());
    moved(&mut store, "r2", "milk", Some("b-soon"), 6, receipt());
    moved(&mut store, "r3", "milk", None, 2, receipt());
    let sale = MovementReason::Sale(pos_core::id::SaleId::new("s1"));
    moved(&mut store, "s1", "milk", Some("b-soon"), -6, sale.clone());
    moved(&mut store, "s2", "milk", None, -1, sale);

    let levels = store.stock_by_batch(&StoreId::new("S1"), &milk.id).unwrap();
    let shown: Vec<(String, Quantity)> = levels
        .iter()
        .map(|l| {
            (
                l.batch.as_ref().map_or("-".to_owned(), |b| b.lot.clone()),
                l.level,
            )
        })
        .collect();
    // The sold-out batch is gone; the unbatched rest comes last.
    assert_eq!(
        shown,
        [
            ("L2".to_owned(), Quantity::pieces(12)),
            ("-".to_owned(), Quantity::pieces(1))
        ]
    );
    assert_eq!(
        store
            .sold_since(&StoreId::new("S1"), &milk.id, at(0))
            .unwrap(),
        Quantity::pieces(7)
    );
    assert_eq!(
        store
            .sold_since(&StoreId::new("S1"), &milk.id, at(2))
            .unwrap(),
        Quantity::ZERO
    );
    assert_eq!(store.sku_owner("SKU-milk").unwrap(), Some(milk.id.clone()));
    assert_eq!(
        store.barcode_owner(milk.barcodes[0].as_str()).unwrap(),
        Some(milk.id.clone())
    );
    assert_eq!(store.barcode_owner("123").unwrap(), None);
    assert_eq!(store.highest_barcode_with_prefix("20", 13).unwrap(), None);
}
