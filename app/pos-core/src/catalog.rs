//! Products: what can be sold, how it is counted, priced and taxed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::id::{Barcode, CategoryId, ProductId, Sku, TaxCategoryId, VendorId};
use crate::money::{Currency, Money};
use crate::quantity::{Quantity, Unit};

/// One axis value of a variant: `size = M`, `colour = navy`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VariantAttribute {
    pub name: String,
    pub value: String,
}

impl VariantAttribute {
    pub fn new(name: &str, value: &str) -> VariantAttribute {
        VariantAttribute {
            name: name.to_owned(),
            value: value.to_owned(),
        }
    }
}

/// A sellable item. A variant is a product whose `parent` names the product it varies, with
/// its own SKU, barcodes and (optionally different) price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub sku: Sku,
    pub name: String,
    pub barcodes: Vec<Barcode>,
    pub parent: Option<ProductId>,
    pub variant: Vec<VariantAttribute>,
    pub unit: Unit,
    pub cost: Money,
    /// Price per piece or per kilogram/pound, in the store's price mode (tax included or not).
    pub price: Money,
    pub tax_category: TaxCategoryId,
    pub category: Option<CategoryId>,
    pub vendor: Option<VendorId>,
    pub active: bool,
    pub low_stock_threshold: Option<Quantity>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("the product needs a name")]
    MissingName,
    #[error("the product needs a SKU")]
    MissingSku,
    #[error("the price of {sku} cannot be negative ({price})")]
    NegativePrice { sku: Sku, price: Money },
    #[error("the cost of {sku} cannot be negative ({cost})")]
    NegativeCost { sku: Sku, cost: Money },
    #[error("the price of {sku} is in {found}, but the store sells in {expected}")]
    WrongCurrency {
        sku: Sku,
        expected: Currency,
        found: Currency,
    },
    #[error("the price {price} has more decimals than the currency allows")]
    TooPrecise { price: Money },
    #[error("barcode {barcode} already belongs to {owner}")]
    DuplicateBarcode { barcode: Barcode, owner: Sku },
    #[error("SKU {0} is already used by another product")]
    DuplicateSku(Sku),
    #[error("product {0} is a variant of a product that is not in the catalogue")]
    UnknownParent(ProductId),
}

impl Product {
    /// A product for sale in `currency`, checked for the mistakes a back-office user can make.
    pub fn validate(&self, currency: Currency) -> Result<(), CatalogError> {
        if self.name.trim().is_empty() {
            return Err(CatalogError::MissingName);
        }
        if self.sku.as_str().trim().is_empty() {
            return Err(CatalogError::MissingSku);
        }
        for amount in [self.price, self.cost] {
            if amount.currency() != currency {
                return Err(CatalogError::WrongCurrency {
                    sku: self.sku.clone(),
                    expected: currency,
                    found: amount.currency(),
                });
            }
            if !amount.is_settled() {
                return Err(CatalogError::TooPrecise { price: amount });
            }
        }
        if self.price.is_negative() {
            return Err(CatalogError::NegativePrice {
                sku: self.sku.clone(),
                price: self.price,
            });
        }
        if self.cost.is_negative() {
            return Err(CatalogError::NegativeCost {
                sku: self.sku.clone(),
                cost: self.cost,
            });
        }
        Ok(())
    }

    /// The name shown on a receipt: a variant adds its attribute values, `Tee / M / navy`.
    pub fn display_name(&self) -> String {
        if self.variant.is_empty() {
            return self.name.clone();
        }
        let values: Vec<&str> = self.variant.iter().map(|a| a.value.as_str()).collect();
        format!("{} / {}", self.name, values.join(" / "))
    }
}

/// Finds a product by a code typed or scanned at the till: a barcode or a SKU.
///
/// The in-memory [`Catalog`] implements it for tests and demos; the terminal's store implements
/// it over its indexed tables.
pub trait ProductLookup {
    fn product_by_code(&self, code: &str) -> Option<Product>;
}

/// An in-memory catalogue that keeps barcodes and SKUs unique.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    currency: Option<Currency>,
    products: BTreeMap<ProductId, Product>,
    by_code: BTreeMap<String, ProductId>,
}

impl Catalog {
    pub fn new(currency: Currency) -> Catalog {
        Catalog {
            currency: Some(currency),
            ..Catalog::default()
        }
    }

    /// Adds or replaces a product. Barcodes and SKUs must not belong to another product.
    pub fn upsert(&mut self, product: Product) -> Result<(), CatalogError> {
        if let Some(currency) = self.currency {
            product.validate(currency)?;
        }
        if let Some(parent) = &product.parent
            && !self.products.contains_key(parent)
        {
            return Err(CatalogError::UnknownParent(product.id.clone()));
        }
        if let Some(owner) = self.owner_of(product.sku.as_str())
            && owner.id != product.id
        {
            return Err(CatalogError::DuplicateSku(product.sku.clone()));
        }
        for barcode in &product.barcodes {
            if let Some(owner) = self.owner_of(barcode.as_str())
                && owner.id != product.id
            {
                return Err(CatalogError::DuplicateBarcode {
                    barcode: barcode.clone(),
                    owner: owner.sku.clone(),
                });
            }
        }
        if let Some(previous) = self.products.remove(&product.id) {
            self.by_code.remove(previous.sku.as_str());
            for barcode in &previous.barcodes {
                self.by_code.remove(barcode.as_str());
            }
        }
        self.by_code
            .insert(product.sku.as_str().to_owned(), product.id.clone());
        for barcode in &product.barcodes {
            self.by_code
                .insert(barcode.as_str().to_owned(), product.id.clone());
        }
        self.products.insert(product.id.clone(), product);
        Ok(())
    }

    fn owner_of(&self, code: &str) -> Option<&Product> {
        self.by_code.get(code).and_then(|id| self.products.get(id))
    }

    pub fn get(&self, id: &ProductId) -> Option<&Product> {
        self.products.get(id)
    }

    pub fn variants_of<'a>(&'a self, parent: &'a ProductId) -> impl Iterator<Item = &'a Product> {
        self.products
            .values()
            .filter(move |p| p.parent.as_ref() == Some(parent))
    }

    pub fn products(&self) -> impl Iterator<Item = &Product> {
        self.products.values()
    }
}

impl ProductLookup for Catalog {
    fn product_by_code(&self, code: &str) -> Option<Product> {
        self.owner_of(code.trim()).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{eur, product};

    #[test]
    fn barcodes_are_unique_across_products() {
        let mut catalog = Catalog::new(Currency::EUR);
        let mut milk = product("milk", "Milk 1L", "1.19");
        milk.barcodes = vec![Barcode::new("4006381333931"), Barcode::new("4006381333948")];
        catalog.upsert(milk).unwrap();
        let mut other = product("other", "Oat drink", "2.49");
        other.barcodes = vec![Barcode::new("4006381333948")];
        assert_eq!(
            catalog.upsert(other).unwrap_err().to_string(),
            "barcode 4006381333948 already belongs to SKU-milk"
        );
        let found = catalog.product_by_code("4006381333948").unwrap();
        assert_eq!(found.name, "Milk 1L");
        assert_eq!(catalog.product_by_code("SKU-milk").unwrap().name, "Milk 1L");
    }

    #[test]
    fn negative_price_and_wrong_currency_are_refused() {
        let mut catalog = Catalog::new(Currency::EUR);
        let mut bad = product("bad", "Broken", "1.00");
        bad.price = eur("-1.00");
        assert_eq!(
            catalog.upsert(bad).unwrap_err().to_string(),
            "the price of SKU-bad cannot be negative (-1.00 EUR)"
        );
        let mut usd = product("usd", "Imported", "1.00");
        usd.price = Money::parse("1.00", Currency::USD).unwrap();
        assert!(matches!(
            catalog.upsert(usd),
            Err(CatalogError::WrongCurrency { .. })
        ));
    }

    #[test]
    fn variants_name_their_attributes() {
        let mut catalog = Catalog::new(Currency::EUR);
        catalog.upsert(product("tee", "Tee", "19.90")).unwrap();
        let mut medium = product("tee-m-navy", "Tee", "19.90");
        medium.parent = Some(ProductId::new("tee"));
        medium.variant = vec![
            VariantAttribute::new("size", "M"),
            VariantAttribute::new("colour", "navy"),
        ];
        catalog.upsert(medium).unwrap();
        let variants: Vec<String> = catalog
            .variants_of(&ProductId::new("tee"))
            .map(Product::display_name)
            .collect();
        assert_eq!(variants, vec!["Tee / M / navy"]);
    }
}
