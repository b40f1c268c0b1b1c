//! Small helpers for the crate's own tests.

use crate::catalog::Product;
use crate::id::{Barcode, CategoryId, ProductId, Sku, TaxCategoryId};
use crate::loyalty::LoyaltyProgram;
use crate::money::{Currency, Money};
use crate::quantity::Unit;

pub fn eur(text: &str) -> Money {
    Money::parse(text, Currency::EUR).expect("test amount")
}

/// A piece product in the standard tax category.
pub fn product(id: &str, name: &str, price: &str) -> Product {
    Product {
        id: ProductId::new(id),
        sku: Sku::new(format!("SKU-{id}")),
        name: name.to_owned(),
        barcodes: vec![Barcode::new(format!("BC-{id}"))],
        parent: None,
        variant: Vec::new(),
        unit: Unit::Piece,
        cost: eur("0.00"),
        price: eur(price),
        tax_category: TaxCategoryId::new("standard"),
        category: Some(CategoryId::new("general")),
        vendor: None,
        active: true,
        low_stock_threshold: None,
    }
}

pub fn loyalty_program() -> LoyaltyProgram {
    crate::demo::loyalty()
}
