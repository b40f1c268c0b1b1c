//! The product form as typed, checked into a `Product`; the size × colour matrix that makes
//! a parent's variants in one step; in-store barcodes for unbranded goods.
//!
//! Pure: the catalogue is asked only through [`CatalogueLookup`], so the same checks run against
//! the store and in tests.

use pos_core::catalog::{Product, VariantAttribute};
use pos_core::id::{Barcode, CategoryId, ProductId, Sku, TaxCategoryId, VendorId};
use pos_core::money::{Currency, Money};
use pos_core::quantity::{Quantity, Unit};

/// EAN-13 barcodes starting with 20 to 29 are for a shop's own use (GS1 "restricted
/// circulation"). The scanner's default rules read `20` as an embedded price and `21` as an
/// embedded weight, so the back office numbers its own codes under `28`.
pub const IN_STORE_PREFIX: &str = "28";
/// How many variants one matrix may make: a sizing chart, not a typo of a thousand colours.
pub const VARIANTS_MAX: usize = 100;

/// What the checks ask of the catalogue: who already holds a SKU or a barcode, and a product
/// by id. A lookup that fails reads as "nobody": the store refuses a real clash on save.
pub trait CatalogueLookup {
    fn sku_owner(&self, sku: &str) -> Option<ProductId>;
    fn barcode_owner(&self, code: &str) -> Option<ProductId>;
    fn product(&self, id: &ProductId) -> Option<Product>;
}

/// What a back-office user got wrong on the form, said so they can fix it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("{field}: “{text}” is not an amount (for example 4.99)")]
    NotAnAmount { field: &'static str, text: String },
    #[error("the low-stock threshold “{0}” is not a quantity (for example 6)")]
    NotAQuantity(String),
    #[error("the {0} cannot be empty")]
    Empty(&'static str),
    #[error("{0}")]
    Catalog(#[from] pos_core::catalog::CatalogError),
    #[error("SKU {sku} already belongs to {owner}")]
    SkuTaken { sku: String, owner: String },
    #[error("barcode {code} already belongs to {owner}")]
    BarcodeTaken { code: String, owner: String },
    #[error("barcode {0} is typed twice")]
    BarcodeTwice(String),
    #[error("barcode “{0}” may only hold digits and letters")]
    BadBarcode(String),
    #[error("a variant matrix needs at least one size or one colour")]
    NoVariantValues,
    #[error("{0} variants are too many for one matrix (at most {VARIANTS_MAX})")]
    TooManyVariants(usize),
    #[error("variant SKU {0} would be made twice: a size or colour is listed twice")]
    VariantTwice(String),
}

/// The product form's fields, as text, exactly as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductForm {
    pub sku: String,
    pub name: String,
    /// Several barcodes separated by commas, spaces or new lines.
    pub barcodes: String,
    pub cost: String,
    pub price: String,
    pub tax_category: String,
    pub category: String,
    pub vendor: String,
    pub weighed: bool,
    pub low_stock_threshold: String,
}

impl ProductForm {
    /// The form filled from a stored product, for editing.
    pub fn from_product(product: &Product) -> ProductForm {
        let barcodes: Vec<&str> = product.barcodes.iter().map(Barcode::as_str).collect();
        ProductForm {
            sku: product.sku.to_string(),
            name: product.name.clone(),
            barcodes: barcodes.join(", "),
            cost: product.cost.display_amount(),
            price: product.price.display_amount(),
            tax_category: product.tax_category.to_string(),
            category: product
                .category
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            vendor: product
                .vendor
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            weighed: product.unit.is_weighed(),
            low_stock_threshold: product
                .low_stock_threshold
                .map(|q| q.value().normalize().to_string())
                .unwrap_or_default(),
        }
    }

    /// The product this form describes: `base` keeps what the form does not show (id,
    /// parent, variant attributes, active flag). Checked for the store's currency and against
    /// every other product's SKU and barcodes.
    pub fn to_product(
        &self,
        base: &Product,
        currency: Currency,
        owners: &impl CatalogueLookup,
    ) -> Result<Product, FormError> {
        let amount = |field: &'static str, text: &str| {
            let text = text.trim().replace(',', ".");
            if text.is_empty() {
                return Err(FormError::Empty(field));
            }
            // Too many decimals is a number still; `Product::validate` names that mistake.
            text.parse::<rust_decimal::Decimal>()
                .map(|amount| Money::new(amount, currency))
                .map_err(|_| FormError::NotAnAmount {
                    field,
                    text: text.clone(),
                })
        };
        let unit = if self.weighed {
            Unit::Kilogram
        } else {
            Unit::Piece
        };
        let threshold = match self.low_stock_threshold.trim() {
            "" => None,
            text => Some(
                Quantity::parse(&text.replace(',', "."), unit)
                    .map_err(|_| FormError::NotAQuantity(text.to_owned()))?,
            ),
        };
        let tax = self.tax_category.trim();
        if tax.is_empty() {
            return Err(FormError::Empty("tax category"));
        }
        let product = Product {
            id: base.id.clone(),
            sku: Sku::new(self.sku.trim()),
            name: self.name.trim().to_owned(),
            barcodes: parse_barcodes(&self.barcodes)?,
            parent: base.parent.clone(),
            variant: base.variant.clone(),
            unit,
            cost: amount("cost", &self.cost)?,
            price: amount("price", &self.price)?,
            tax_category: TaxCategoryId::new(tax),
            category: optional(&self.category).map(CategoryId::new),
            vendor: optional(&self.vendor).map(VendorId::new),
            active: base.active,
            low_stock_threshold: threshold,
        };
        product.validate(currency)?;
        check_codes(&product, owners)?;
        Ok(product)
    }
}

fn optional(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

/// Barcodes typed into one field, in order, each once.
pub fn parse_barcodes(text: &str) -> Result<Vec<Barcode>, FormError> {
    let mut codes: Vec<Barcode> = Vec::new();
    for code in text
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|c| !c.is_empty())
    {
        if !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(FormError::BadBarcode(code.to_owned()));
        }
        if codes.iter().any(|b| b.as_str() == code) {
            return Err(FormError::BarcodeTwice(code.to_owned()));
        }
        codes.push(Barcode::new(code));
    }
    Ok(codes)
}

/// The SKU and barcodes of `product` must not belong to another product.
pub fn check_codes(product: &Product, owners: &impl CatalogueLookup) -> Result<(), FormError> {
    if let Some(owner) = owners
        .sku_owner(product.sku.as_str())
        .filter(|o| *o != product.id)
    {
        return Err(FormError::SkuTaken {
            sku: product.sku.to_string(),
            owner: owner_name(owners, &owner),
        });
    }
    for code in &product.barcodes {
        if let Some(owner) = owners
            .barcode_owner(code.as_str())
            .filter(|o| *o != product.id)
        {
            return Err(FormError::BarcodeTaken {
                code: code.to_string(),
                owner: owner_name(owners, &owner),
            });
        }
    }
    Ok(())
}

/// A product as the person knows it: "Whole milk 1L (MLK-1L)".
pub fn owner_name(owners: &impl CatalogueLookup, id: &ProductId) -> String {
    owners.product(id).map_or_else(
        || format!("product {id}"),
        |p| format!("{} ({})", p.display_name(), p.sku),
    )
}

/// The EAN-13 check digit of twelve digits.
pub fn ean13_check_digit(digits12: &str) -> Option<u32> {
    if digits12.len() != 12 {
        return None;
    }
    let mut sum = 0;
    for (position, ch) in digits12.chars().enumerate() {
        let digit = ch.to_digit(10)?;
        sum += if position % 2 == 0 { digit } else { digit * 3 };
    }
    Some((10 - sum % 10) % 10)
}

/// The in-store EAN-13 after `highest` (the highest one already given out), or the first.
pub fn next_in_store_barcode(highest: Option<&str>) -> String {
    let next = highest
        .filter(|code| code.starts_with(IN_STORE_PREFIX) && code.len() == 13)
        .and_then(|code| code[2..12].parse::<u64>().ok())
        .map_or(1, |serial| serial + 1);
    let body = format!("{IN_STORE_PREFIX}{next:010}");
    let check = ean13_check_digit(&body).unwrap_or(0);
    format!("{body}{check}")
}

/// Values typed for one axis of the matrix: "S, M, L" → ["S", "M", "L"].
pub fn axis_values(text: &str) -> Vec<String> {
    text.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The variants of `parent` for every size × colour (either axis may be empty): each its own
/// id and SKU (`TEE-M-NAVY`), no barcode yet, the parent's price and everything else.
pub fn variant_matrix(
    parent: &Product,
    sizes: &[String],
    colours: &[String],
) -> Result<Vec<Product>, FormError> {
    if sizes.is_empty() && colours.is_empty() {
        return Err(FormError::NoVariantValues);
    }
    let size_axis: Vec<Option<&String>> = if sizes.is_empty() {
        vec![None]
    } else {
        sizes.iter().map(Some).collect()
    };
    let colour_axis: Vec<Option<&String>> = if colours.is_empty() {
        vec![None]
    } else {
        colours.iter().map(Some).collect()
    };
    let count = size_axis.len() * colour_axis.len();
    if count > VARIANTS_MAX {
        return Err(FormError::TooManyVariants(count));
    }
    let mut variants: Vec<Product> = Vec::with_capacity(count);
    for size in &size_axis {
        for colour in &colour_axis {
            let mut attributes = Vec::new();
            let mut suffix = Vec::new();
            if let Some(size) = size {
                attributes.push(VariantAttribute::new("size", size));
                suffix.push(code_part(size));
            }
            if let Some(colour) = colour {
                attributes.push(VariantAttribute::new("colour", colour));
                suffix.push(code_part(colour));
            }
            let suffix = suffix.join("-");
            let sku = format!("{}-{suffix}", parent.sku);
            if variants.iter().any(|v| v.sku.as_str() == sku) {
                return Err(FormError::VariantTwice(sku));
            }
            variants.push(Product {
                id: ProductId::new(format!("{}-{}", parent.id, suffix.to_lowercase())),
                sku: Sku::new(sku),
                name: parent.name.clone(),
                barcodes: Vec::new(),
                parent: Some(parent.id.clone()),
                variant: attributes,
                ..parent.clone()
            });
        }
    }
    Ok(variants)
}

/// A value as it goes into a SKU: upper case letters and digits.
fn code_part(value: &str) -> String {
    value
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Owners(BTreeMap<String, ProductId>);

    impl CatalogueLookup for Owners {
        fn sku_owner(&self, sku: &str) -> Option<ProductId> {
            self.0.get(sku).cloned()
        }
        fn barcode_owner(&self, code: &str) -> Option<ProductId> {
            self.0.get(code).cloned()
        }
        fn product(&self, _: &ProductId) -> Option<Product> {
            None
        }
    }

    fn none() -> Owners {
        Owners(BTreeMap::new())
    }

    fn base() -> Product {
        Product {
            id: ProductId::new("tee"),
            sku: Sku::new("TEE"),
            name: String::new(),
            barcodes: Vec::new(),
            parent: None,
            variant: Vec::new(),
            unit: Unit::Piece,
            cost: Money::zero(Currency::EUR),
            price: Money::zero(Currency::EUR),
            tax_category: TaxCategoryId::new("standard"),
            category: None,
            vendor: None,
            active: true,
            low_stock_threshold: None,
        }
    }

    fn form() -> ProductForm {
        ProductForm {
            sku: "TEE".into(),
            name: "Organic tee".into(),
            barcodes: "4006381333931, 2800000000011".into(),
            cost: "6,50".into(),
            price: "19.90".into(),
            tax_category: "standard".into(),
            category: "clothing".into(),
            vendor: String::new(),
            weighed: false,
            low_stock_threshold: "3".into(),
        }
    }

    #[test]
    fn a_filled_form_becomes_a_product_and_back() {
        let product = form().to_product(&base(), Currency::EUR, &none()).unwrap();
        assert_eq!(product.price, Money::from_minor(1990, Currency::EUR));
        assert_eq!(product.cost, Money::from_minor(650, Currency::EUR));
        assert_eq!(product.barcodes.len(), 2);
        assert_eq!(product.category, Some(CategoryId::new("clothing")));
        assert_eq!(product.vendor, None);
        assert_eq!(product.low_stock_threshold, Some(Quantity::pieces(3)));
        let again = ProductForm::from_product(&product);
        assert_eq!(
            again.to_product(&base(), Currency::EUR, &none()),
            Ok(product)
        );
    }

    #[test]
    fn mistakes_are_named_for_the_person_typing() {
        let check = |change: fn(&mut ProductForm), expected: &str| {
            let mut typed = form();
            change(&mut typed);
            let error = typed
                .to_product(&base(), Currency::EUR, &none())
                .unwrap_err();
            assert_eq!(error.to_string(), expected);
        };
        check(
            |f| f.price = "-1.00".into(),
            "the price of TEE cannot be negative (-1.00 EUR)",
        );
        check(
            |f| f.price = "abc".into(),
            "price: “abc” is not an amount (for example 4.99)",
        );
        check(
            |f| f.price = "1.999".into(),
            "the price 1.999 EUR has more decimals than the currency allows",
        );
        check(|f| f.name = " ".into(), "the product needs a name");
        check(
            |f| f.barcodes = "123 123".into(),
            "barcode 123 is typed twice",
        );
        check(
            |f| f.barcodes = "12-3".into(),
            "barcode “12-3” may only hold digits and letters",
        );
        check(
            |f| f.low_stock_threshold = "few".into(),
            "the low-stock threshold “few” is not a quantity (for example 6)",
        );
        let taken = Owners(BTreeMap::from([(
            "4006381333931".to_owned(),
            ProductId::new("milk"),
        )]));
        assert_eq!(
            form()
                .to_product(&base(), Currency::EUR, &taken)
                .unwrap_err()
                .to_string(),
            "barcode 4006381333931 already belongs to product milk"
        );
    }

    #[test]
    fn in_store_barcodes_count_up_with_a_valid_check_digit() {
        assert_eq!(next_in_store_barcode(None), "2800000000011");
        assert_eq!(
            next_in_store_barcode(Some("2800000000011")),
            "2800000000028"
        );
        assert_eq!(
            next_in_store_barcode(Some("2800000009998")),
            "2800000010003"
        );
        // Another shop's code is not continued.
        assert_eq!(
            next_in_store_barcode(Some("4006381333931")),
            "2800000000011"
        );
        // The demo's first product, a real EAN-13, checks out with the same digit rule.
        assert_eq!(ean13_check_digit("400638133393"), Some(1));
    }

    #[test]
    fn a_matrix_makes_every_size_and_colour_once() {
        let parent = form().to_product(&base(), Currency::EUR, &none()).unwrap();
        let variants =
            variant_matrix(&parent, &axis_values("S, M, L"), &axis_values("navy; sand")).unwrap();
        let skus: Vec<&str> = variants.iter().map(|v| v.sku.as_str()).collect();
        assert_eq!(
            skus,
            [
                "TEE-S-NAVY",
                "TEE-S-SAND",
                "TEE-M-NAVY",
                "TEE-M-SAND",
                "TEE-L-NAVY",
                "TEE-L-SAND"
            ]
        );
        assert!(variants.iter().all(|v| v.parent == Some(parent.id.clone())));
        assert_eq!(variants[2].display_name(), "Organic tee / M / navy");
        assert_eq!(variants[2].id.as_str(), "tee-m-navy");
        assert_eq!(
            variant_matrix(&parent, &axis_values("M, m"), &[]).unwrap_err(),
            FormError::VariantTwice("TEE-M".into())
        );
        assert_eq!(
            variant_matrix(&parent, &[], &[]).unwrap_err(),
            FormError::NoVariantValues
        );
    }
}
