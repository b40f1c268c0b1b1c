//! Generated data at supermarket scale for benchmarks and fault tests: products with
//! realistic names and valid EAN-13 barcodes, and sales made through the domain core exactly
//! as the till makes them. Deterministic: product `n` is always the same product.
//! [`import_catalogue`] puts a catalogue of them into a store through the CSV import, the
//! fast way to a million products.

use pos_core::cart::{Cart, PricingContext};
use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::id::{
    Barcode, CategoryId, DeviceId, MovementId, ProductId, ReceiptNumber, SaleId, ShiftId, Sku,
    StoreId, TaxCategoryId, UserId, VendorId,
};
use pos_core::money::{Currency, Money};
use pos_core::quantity::{Quantity, Unit};
use pos_core::sale::{Sale, SaleContext};
use pos_core::stock::{StockMovement, movements_for_sale};
use pos_core::tax::{TaxPolicy, TaxTable};
use pos_core::tender::Payment;

use std::ops::Range;
use std::time::{Duration, Instant};

use crate::Store;
use crate::csv_io::{COLUMNS, ImportOptions, product_row};
use crate::error::{Result, StoreError};

const BRANDS_A: &[&str] = &[
    "Alpen", "Bio", "Nord", "Sonnen", "Gold", "Berg", "Land", "Frisch", "Kali", "Mira", "Oro",
    "Vita", "Terra", "Lumi", "Hansa", "Riva", "Nova", "Prima", "Fjord", "Sola",
];
const BRANDS_B: &[&str] = &[
    "hof", "gut", "land", "markt", "quell", "wald", "feld", "see", "tal", "mühle", "garten",
    "haus", "brunn", "stern", "kraft", "blick", "werk", "bach", "au", "ring",
];
const ADJECTIVES: &[&str] = &[
    "Organic",
    "Classic",
    "Light",
    "Whole",
    "Smoked",
    "Crunchy",
    "Creamy",
    "Spicy",
    "Sweet",
    "Salted",
    "Fresh",
    "Roasted",
    "Wholegrain",
    "Mild",
    "Extra",
    "Mini",
    "Family",
    "Premium",
    "Natural",
    "Dark",
];
const NOUNS: &[&str] = &[
    "Milk",
    "Yoghurt",
    "Butter",
    "Cheese",
    "Chocolate",
    "Coffee",
    "Tea",
    "Muesli",
    "Pasta",
    "Rice",
    "Tomatoes",
    "Olive Oil",
    "Crisps",
    "Cookies",
    "Juice",
    "Water",
    "Cola",
    "Beer",
    "Bread",
    "Ham",
    "Salami",
    "Tuna",
    "Soup",
    "Ketchup",
    "Mustard",
    "Honey",
    "Jam",
    "Flour",
    "Sugar",
    "Detergent",
    "Shampoo",
    "Toothpaste",
    "Tissues",
    "Cat Food",
    "Dog Food",
];
const SIZES: &[&str] = &[
    "100g", "150g", "200g", "250g", "400g", "500g", "750g", "1kg", "2kg", "330ml", "500ml", "1L",
    "1.5L", "6x1.5L", "4-pack",
];

/// The EAN-13 check digit of 12 digits (GS1: weights 1,3 from the left).
pub fn ean13_check_digit(digits12: &str) -> Option<u32> {
    if digits12.len() != 12 {
        return None;
    }
    let mut sum = 0;
    for (position, c) in digits12.chars().enumerate() {
        let digit = c.to_digit(10)?;
        sum += if position % 2 == 0 { digit } else { 3 * digit };
    }
    Some((10 - sum % 10) % 10)
}

/// A valid EAN-13 for product `n`, in the in-store range (prefix 20–29 is reserved for
/// in-store numbering; 400–440 is Germany: we use 40).
pub fn ean13(n: u64) -> String {
    let body = format!("40{:010}", n % 10_000_000_000);
    let check = ean13_check_digit(&body).unwrap_or(0);
    format!("{body}{check}")
}

/// A small deterministic mixer (SplitMix64), so product `n` is always the same.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn pick<'a>(list: &[&'a str], seed: u64) -> &'a str {
    list[(seed % list.len() as u64) as usize]
}

/// Product `n` of a generated catalogue: "Kalihof Organic Chocolate 100g", EUR price.
pub fn product(n: u64) -> Product {
    let seed = mix(n);
    let brand = format!("{}{}", pick(BRANDS_A, seed), pick(BRANDS_B, seed >> 8));
    let noun = pick(NOUNS, seed >> 16);
    let name = format!(
        "{brand} {} {noun} {}",
        pick(ADJECTIVES, seed >> 24),
        pick(SIZES, seed >> 32)
    );
    let price_minor = 29 + (seed >> 40) % 1_970;
    let food = !matches!(
        noun,
        "Detergent" | "Shampoo" | "Toothpaste" | "Tissues" | "Beer"
    );
    Product {
        id: ProductId::new(format!("p{n:07}")),
        sku: Sku::new(format!("SKU{n:07}")),
        name,
        barcodes: vec![Barcode::new(ean13(n))],
        parent: None,
        variant: Vec::new(),
        unit: Unit::Piece,
        cost: Money::from_minor(
            i64::try_from(price_minor * 6 / 10).unwrap_or(0),
            Currency::EUR,
        ),
        price: Money::from_minor(i64::try_from(price_minor).unwrap_or(0), Currency::EUR),
        tax_category: TaxCategoryId::new(if food { "food" } else { "standard" }),
        category: Some(CategoryId::new(noun.to_lowercase().replace(' ', "-"))),
        vendor: Some(VendorId::new(format!("v{}", seed % 200))),
        active: true,
        low_stock_threshold: Some(Quantity::pieces(5)),
    }
}

/// Products per import file (and transaction) in [`import_catalogue`].
pub const IMPORT_CHUNK: u64 = 100_000;

/// Products `numbers` as a CSV import file, each with `stock` in the shop when given.
pub fn catalogue_csv(numbers: Range<u64>, stock: Option<Quantity>) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(
        (numbers.end - numbers.start) as usize * 150,
    ));
    let refused = |error: csv::Error| StoreError::Refused(format!("the sample file: {error}"));
    writer.write_record(COLUMNS).map_err(refused)?;
    for n in numbers {
        writer
            .write_record(product_row(&product(n), stock))
            .map_err(refused)?;
    }
    writer
        .into_inner()
        .map_err(|error| StoreError::Refused(format!("the sample file: {error}")))
}

/// Imports products `numbers` into `store` through [`Store::import_products_csv`],
/// [`IMPORT_CHUNK`] products per file and transaction, as a shop's catalogue files would
/// arrive, each with `stock` in `options.store` when given; returns how long each import took
/// (making its file not counted).
pub fn import_catalogue(
    store: &mut Store,
    numbers: Range<u64>,
    stock: Option<Quantity>,
    options: &ImportOptions,
) -> Result<Vec<Duration>> {
    let mut took = Vec::new();
    let mut from = numbers.start;
    while from < numbers.end {
        let to = (from + IMPORT_CHUNK).min(numbers.end);
        let file = catalogue_csv(from..to, stock)?;
        let started = Instant::now();
        store.import_products_csv(file.as_slice(), options)?;
        took.push(started.elapsed());
        from = to;
    }
    Ok(took)
}

/// Everything needed to ring up generated sales.
pub struct SaleMaker {
    taxes: TaxTable,
    policy: TaxPolicy,
    pub store: StoreId,
    pub device: DeviceId,
    pub cashier: UserId,
    pub shift: ShiftId,
}

impl SaleMaker {
    pub fn new(device: &str) -> Result<SaleMaker> {
        let store = pos_core::demo::store().map_err(|e| StoreError::Refused(e.to_string()))?;
        Ok(SaleMaker {
            taxes: store.taxes,
            policy: store.tax_policy,
            store: store.id,
            device: DeviceId::new(device),
            cashier: UserId::new("cashier-1"),
            shift: ShiftId::new(format!("{device}-shift-1")),
        })
    }

    /// Sale number `n` of the given products (one piece each, paid in cash) and its stock
    /// movements, as the till would make them.
    pub fn sale(
        &self,
        n: u64,
        products: &[Product],
        at: Timestamp,
    ) -> Result<(Sale, Vec<StockMovement>)> {
        let refuse = |step: &str, error: String| StoreError::Refused(format!("{step}: {error}"));
        let mut cart = Cart::new(Currency::EUR);
        for product in products {
            cart.add(product, Quantity::ONE)
                .map_err(|e| refuse("scan", e.to_string()))?;
        }
        let priced = cart
            .price(&PricingContext {
                taxes: &self.taxes,
                tax_policy: &self.policy,
                promotions: &[],
                local_time: at.local(time::UtcOffset::UTC),
            })
            .map_err(|e| refuse("price", e.to_string()))?;
        let mut payment = Payment::new(priced.total, None);
        payment
            .add_cash(priced.total)
            .map_err(|e| refuse("pay", e.to_string()))?;
        let summary = payment.finish().map_err(|e| refuse("pay", e.to_string()))?;
        let context = SaleContext {
            id: SaleId::new(format!("{}-sale-{n}", self.device)),
            receipt_number: ReceiptNumber::new(format!("{}-{n:07}", self.device)),
            store: self.store.clone(),
            device: self.device.clone(),
            cashier: self.cashier.clone(),
            shift: Some(self.shift.clone()),
            at,
        };
        let sale = Sale::complete(priced, summary, context, None)
            .map_err(|e| refuse("complete", e.to_string()))?;
        let mut counter = 0;
        let movements = movements_for_sale(
            &sale,
            |_, quantity| vec![(None, quantity)],
            || {
                counter += 1;
                MovementId::new(format!("{}-sale-{n}-m{counter}", self.device))
            },
        );
        Ok((sale, movements))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barcodes_carry_valid_check_digits() {
        // A real EAN-13 from a German shelf: 4006381333931.
        assert_eq!(ean13_check_digit("400638133393"), Some(1));
        for n in [0, 1, 42, 999_999] {
            let code = ean13(n);
            assert_eq!(code.len(), 13);
            let check = ean13_check_digit(&code[..12]).unwrap();
            assert_eq!(code[12..].parse::<u32>().unwrap(), check);
        }
        assert_ne!(ean13(1), ean13(2));
    }

    #[test]
    fn generated_products_are_valid_and_stable() {
        let product = product(7);
        product.validate(Currency::EUR).unwrap();
        assert_eq!(product, super::product(7));
        assert!(product.name.split(' ').count() >= 4, "{}", product.name);
    }
}
