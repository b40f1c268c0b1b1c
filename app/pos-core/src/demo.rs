//! A demo store: a small supermarket-and-boutique with realistic products, taxes, promotions
//! and a loyalty program. Used by the demo command, the desktop terminal's demo mode and the
//! tests, so that examples everywhere speak about the same shop.

use rust_decimal::Decimal;
use time::{UtcOffset, Weekday};

use crate::access::Features;
use crate::catalog::{Catalog, CatalogError, Product, VariantAttribute};
use crate::id::{
    Barcode, CategoryId, ProductId, PromotionId, Sku, StoreId, TaxCategoryId, TenantId, VendorId,
};
use crate::loyalty::{LoyaltyProgram, Tier, TierRule};
use crate::money::{Currency, Money, RoundingMode};
use crate::promotion::{ProductGroup, Promotion, PromotionKind, QuantityTier, TimeWindow};
use crate::quantity::{Quantity, Unit};
use crate::tax::{PriceMode, TaxError, TaxPolicy, TaxRounding, TaxTable};
use crate::tenant::{
    DiscountPolicy, DrawerSettings, ReceiptPrinting, ReceiptSettings, Store, Tenant,
};

fn money(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

/// The EAN-13 of a 12-digit `body`: the body and its GS1 mod-10 check digit, so that every
/// demo code scans and prints as a real one.
fn ean13(body: u64) -> String {
    let digits = format!("{body:012}");
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, b)| u32::from(b - b'0') * if index % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

pub fn tenant() -> Tenant {
    Tenant {
        id: TenantId::new("demo"),
        name: "Demo Retail GmbH".to_owned(),
        features: Features::all_enabled(),
    }
}

/// Standard 19% and reduced 7% VAT, prices include tax, rounded per invoice.
pub fn taxes() -> Result<TaxTable, TaxError> {
    TaxTable::default()
        .with_rate("vat19", "VAT 19%", Decimal::new(19, 2))?
        .with_rate("vat7", "VAT 7%", Decimal::new(7, 2))?
        .with_category("standard", "Standard", &["vat19"])?
        .with_category("food", "Food", &["vat7"])
}

pub fn store() -> Result<Store, TaxError> {
    Store {
        id: StoreId::new("berlin-mitte"),
        tenant: TenantId::new("demo"),
        name: "Corner Market Mitte".to_owned(),
        address: vec!["Torstrasse 12".to_owned(), "10119 Berlin".to_owned()],
        tax_number: Some("DE123456789".to_owned()),
        phone: None,
        currency: Currency::EUR,
        utc_offset: UtcOffset::UTC,
        taxes: taxes()?,
        tax_policy: TaxPolicy {
            price_mode: PriceMode::TaxInclusive,
            rounding: TaxRounding::PerInvoice,
            rounding_mode: RoundingMode::HalfUp,
        },
        cash_rounding: None,
        discounts: DiscountPolicy {
            percent_max_without_approval: Decimal::new(10, 0),
            per_role: std::collections::BTreeMap::new(),
        },
        receipt: ReceiptSettings {
            header: vec!["Open daily 7-22".to_owned()],
            footer: vec![
                "Thank you for shopping with us!".to_owned(),
                "Returns within 30 days with receipt.".to_owned(),
            ],
            printing: ReceiptPrinting::Ask,
            logo_png: None,
        },
        drawer: DrawerSettings::default(),
        features: Features::all_enabled(),
    }
    .pipe(Ok)
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl<T> Pipe for T {}

struct Item<'a> {
    id: &'a str,
    name: &'a str,
    barcode: &'a str,
    price_minor: i64,
    cost_minor: i64,
    unit: Unit,
    tax: &'a str,
    category: &'a str,
    vendor: &'a str,
}

const GROCERIES: &[Item<'static>] = &[
    Item {
        id: "milk",
        name: "Whole milk 1 L",
        barcode: "4006381333931",
        price_minor: 119,
        cost_minor: 79,
        unit: Unit::Piece,
        tax: "food",
        category: "dairy",
        vendor: "alpenhof",
    },
    Item {
        id: "butter",
        name: "Butter 250 g",
        barcode: "4008452011236",
        price_minor: 249,
        cost_minor: 160,
        unit: Unit::Piece,
        tax: "food",
        category: "dairy",
        vendor: "alpenhof",
    },
    Item {
        id: "yoghurt",
        name: "Greek yoghurt 500 g",
        barcode: "4014400901238",
        price_minor: 199,
        cost_minor: 110,
        unit: Unit::Piece,
        tax: "food",
        category: "dairy",
        vendor: "alpenhof",
    },
    Item {
        id: "bread",
        name: "Sourdough loaf",
        barcode: "2000000000015",
        price_minor: 389,
        cost_minor: 150,
        unit: Unit::Piece,
        tax: "food",
        category: "bakery",
        vendor: "backstube",
    },
    Item {
        id: "apples",
        name: "Apples Elstar",
        barcode: "2100000000012",
        price_minor: 299,
        cost_minor: 140,
        unit: Unit::Kilogram,
        tax: "food",
        category: "produce",
        vendor: "obsthof",
    },
    Item {
        id: "bananas",
        name: "Bananas",
        barcode: "2100000000029",
        price_minor: 199,
        cost_minor: 90,
        unit: Unit::Kilogram,
        tax: "food",
        category: "produce",
        vendor: "obsthof",
    },
    Item {
        id: "coffee",
        name: "Coffee beans 1 kg",
        barcode: "4006581020013",
        price_minor: 1499,
        cost_minor: 900,
        unit: Unit::Piece,
        tax: "food",
        category: "pantry",
        vendor: "roesterei",
    },
    Item {
        id: "cola",
        name: "Cola 0.5 L",
        barcode: "5449000000996",
        price_minor: 129,
        cost_minor: 55,
        unit: Unit::Piece,
        tax: "standard",
        category: "drinks",
        vendor: "getraenke",
    },
    Item {
        id: "water",
        name: "Sparkling water 1.5 L",
        barcode: "4005906003236",
        price_minor: 69,
        cost_minor: 25,
        unit: Unit::Piece,
        tax: "standard",
        category: "drinks",
        vendor: "getraenke",
    },
    Item {
        id: "chocolate",
        name: "Dark chocolate 100 g",
        barcode: "4000417025005",
        price_minor: 149,
        cost_minor: 70,
        unit: Unit::Piece,
        tax: "food",
        category: "sweets",
        vendor: "suesswaren",
    },
    Item {
        id: "batteries",
        name: "AA batteries 4-pack",
        barcode: "5000394023031",
        price_minor: 599,
        cost_minor: 300,
        unit: Unit::Piece,
        tax: "standard",
        category: "household",
        vendor: "haushalt",
    },
];

fn product_of(item: &Item<'_>) -> Product {
    Product {
        id: ProductId::new(item.id),
        sku: Sku::new(format!("SKU-{}", item.id)),
        name: item.name.to_owned(),
        barcodes: vec![Barcode::new(item.barcode)],
        parent: None,
        variant: Vec::new(),
        unit: item.unit,
        cost: money(item.cost_minor),
        price: money(item.price_minor),
        tax_category: TaxCategoryId::new(item.tax),
        category: Some(CategoryId::new(item.category)),
        vendor: Some(VendorId::new(item.vendor)),
        active: true,
        low_stock_threshold: Some(Quantity::pieces(5)),
    }
}

/// The demo catalogue: groceries (two weighed) and a T-shirt in sizes × colours.
pub fn catalog() -> Result<Catalog, CatalogError> {
    let mut catalog = Catalog::new(Currency::EUR);
    for item in GROCERIES {
        catalog.upsert(product_of(item))?;
    }
    let tee = Product {
        id: ProductId::new("tee"),
        sku: Sku::new("TEE"),
        name: "Organic tee".to_owned(),
        barcodes: Vec::new(),
        parent: None,
        variant: Vec::new(),
        unit: Unit::Piece,
        cost: money(800),
        price: money(2490),
        tax_category: TaxCategoryId::new("standard"),
        category: Some(CategoryId::new("apparel")),
        vendor: Some(VendorId::new("fairwear")),
        active: true,
        low_stock_threshold: Some(Quantity::pieces(2)),
    };
    catalog.upsert(tee.clone())?;
    let mut code = 426_000_000_000_u64;
    for size in ["S", "M", "L"] {
        for colour in ["navy", "sand"] {
            code += 1;
            let mut variant = tee.clone();
            variant.id = ProductId::new(format!("tee-{}-{colour}", size.to_lowercase()));
            variant.sku = Sku::new(format!("TEE-{size}-{}", colour.to_uppercase()));
            variant.parent = Some(tee.id.clone());
            variant.variant = vec![
                VariantAttribute::new("size", size),
                VariantAttribute::new("colour", colour),
            ];
            variant.barcodes = vec![Barcode::new(ean13(code))];
            if size == "L" {
                // Large sizes cost a little more.
                variant.price = money(2690);
            }
            catalog.upsert(variant)?;
        }
    }
    Ok(catalog)
}

/// Buy two colas get one free, 10% off three or more dairy items, any three chocolates for
/// 3.99, and a weekday happy hour on drinks.
pub fn promotions() -> Vec<Promotion> {
    vec![
        Promotion {
            id: PromotionId::new("cola-3for2"),
            name: "Cola 3 for 2".to_owned(),
            group: ProductGroup::Products(vec![ProductId::new("cola")]),
            kind: PromotionKind::BuyXGetY {
                buy: 2,
                get: 1,
                percent_off: Decimal::ONE_HUNDRED,
            },
            window: None,
        },
        Promotion {
            id: PromotionId::new("dairy-3plus"),
            name: "Dairy: 10% off 3+".to_owned(),
            group: ProductGroup::Categories(vec![CategoryId::new("dairy")]),
            kind: PromotionKind::QuantityBreak {
                tiers: vec![QuantityTier {
                    quantity_min: Decimal::from(3),
                    percent_off: Decimal::from(10),
                }],
            },
            window: None,
        },
        Promotion {
            id: PromotionId::new("choc-mix"),
            name: "Any 3 chocolates 3.99".to_owned(),
            group: ProductGroup::Categories(vec![CategoryId::new("sweets")]),
            kind: PromotionKind::MixAndMatch {
                quantity: 3,
                bundle_price: money(399),
            },
            window: None,
        },
        Promotion {
            id: PromotionId::new("happy-hour"),
            name: "Happy hour drinks -20%".to_owned(),
            group: ProductGroup::Categories(vec![CategoryId::new("drinks")]),
            kind: PromotionKind::PercentOff {
                percent: Decimal::from(20),
            },
            window: Some(TimeWindow {
                weekdays: vec![
                    Weekday::Monday,
                    Weekday::Tuesday,
                    Weekday::Wednesday,
                    Weekday::Thursday,
                    Weekday::Friday,
                ],
                start_minute: 17 * 60,
                end_minute: 19 * 60,
            }),
        },
    ]
}

/// Member / Bronze / Silver / Gold by spend over a year; one point is worth one cent.
pub fn loyalty() -> LoyaltyProgram {
    LoyaltyProgram {
        tiers: vec![
            TierRule {
                tier: Tier::Member,
                spend_min: money(0),
                points_per_unit: Decimal::ONE,
            },
            TierRule {
                tier: Tier::Bronze,
                spend_min: money(10_000),
                points_per_unit: Decimal::new(125, 2),
            },
            TierRule {
                tier: Tier::Silver,
                spend_min: money(50_000),
                points_per_unit: Decimal::new(15, 1),
            },
            TierRule {
                tier: Tier::Gold,
                spend_min: money(100_000),
                points_per_unit: Decimal::TWO,
            },
        ],
        window_days: 365,
        point_value: money(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_barcode_is_an_ean13_with_its_check_digit() {
        let catalog = catalog().unwrap();
        let codes: Vec<String> = catalog
            .products()
            .flat_map(|p| p.barcodes.iter().map(ToString::to_string))
            .collect();
        assert!(codes.len() > 10, "{codes:?}");
        for code in codes {
            let body: u64 = code[..12].parse().unwrap();
            assert_eq!(ean13(body), code, "{code} has a wrong check digit");
        }
        // Published codes keep their published check digits.
        assert_eq!(ean13(400_638_133_393), "4006381333931");
        assert_eq!(ean13(544_900_000_099), "5449000000996");
    }
}
