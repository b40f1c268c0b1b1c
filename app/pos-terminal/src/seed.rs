//! The demo shop put into a new store on first start: the shop's settings (store, tax,
//! promotions, loyalty program), staff with PINs, loyalty customers, and a catalogue of a few
//! hundred products with categories, weighed goods, variants, quick-pick favourites and
//! opening stock. A store that was seeded once is left as it is.
//!
//! Owns what the demo shop looks like in the store and the settings the terminal reads its
//! shop from ([`shop_setup`]). Writes only through the store's write paths.

use std::collections::BTreeMap;

use pos_core::access::{Features, Role};
use pos_core::catalog::{Product, VariantAttribute};
use pos_core::clock::Timestamp;
use pos_core::event::DomainEvent;
use pos_core::id::{
    Barcode, CategoryId, CustomerId, DeviceId, LoyaltyCard, MovementId, ProductId, RoleId, Sku,
    TaxCategoryId, UserId, VendorId,
};
use pos_core::loyalty::{Customer, LoyaltyProgram, PointsMovement, PointsReason};
use pos_core::money::{Currency, Money};
use pos_core::promotion::Promotion;
use pos_core::quantity::{Quantity, Unit};
use pos_core::stock::{MovementReason, StockMovement};
use pos_store::sample;
use pos_store::{Store, StoreError};
use pos_till::TillSetup;

use crate::ports::{FAVOURITES_SETTING, PinError, hash_pin};

/// Set once the demo shop is in the store; its value is the time of seeding.
pub const SEEDED_SETTING: &str = "terminal.seeded_at";
/// When the demo staff were retired from a store set up after it ran the demo.
pub const DEMO_STAFF_RETIRED_SETTING: &str = "terminal.demo_staff_retired_at";
pub use pos_store::read::STORE_SETTING;
pub const PROMOTIONS_SETTING: &str = "shop.promotions";
pub use pos_store::read::LOYALTY_SETTING;
/// Generated products in the demo catalogue besides the hand-made ones.
pub const GENERATED_PRODUCTS: u64 = 400;
/// Who the seeding is journalled as.
pub const SETUP_USER: &str = "setup";

/// The demo staff: (id, name, role, PIN). Olga is the administrator, so people, roles and
/// settings can be changed in the demo's back office.
pub const DEMO_STAFF: [(&str, &str, &str, &str); 5] = [
    ("anna", "Anna", "cashier", "1234"),
    ("tom", "Tom", "cashier", "2468"),
    ("sara", "Sara", "supervisor", "5555"),
    ("marc", "Marc", "manager", "9999"),
    ("olga", "Olga", "admin", "2580"),
];

/// The demo loyalty customers: (id, name, card, phone, opening points).
pub const DEMO_CUSTOMERS: [(&str, &str, &str, &str, i64); 3] = [
    (
        "c-lena",
        "Lena Vogel",
        "9900000000017",
        "0170 5550101",
        1_250,
    ),
    (
        "c-jonas",
        "Jonas Weber",
        "9900000000024",
        "0151 5550202",
        320,
    ),
    ("c-mira", "Mira Schulz", "9900000000031", "030 5550303", 0),
];

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the demo shop could not be saved: {0}")]
    Store(#[from] StoreError),
    #[error("the demo shop's data is wrong: {0}")]
    Demo(String),
    #[error(transparent)]
    Pin(#[from] PinError),
    #[error("a shop setting is damaged ({0}); restore it from the fleet or a backup")]
    Setting(String),
}

/// Whether this start seeded the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seeded {
    Now { products: usize },
    Already,
}

/// Puts the demo shop with `generated` generated products into `store`, unless it was done.
/// Safe to repeat after a crash half-way: settings and staff are overwritten with the same
/// values, and the catalogue, customers and stock are written in one transaction.
pub fn seed_demo_shop(
    store: &mut Store,
    now: Timestamp,
    generated: u64,
) -> Result<Seeded, SeedError> {
    if store.setting(SEEDED_SETTING)?.is_some() {
        return Ok(Seeded::Already);
    }
    let demo = |e: &dyn std::fmt::Display| SeedError::Demo(e.to_string());
    let shop = pos_core::demo::store().map_err(|e| demo(&e))?;
    seed_shop_settings(store, &shop, &pos_core::demo::promotions())?;
    for (id, name, role, pin) in DEMO_STAFF {
        store.save_user(
            &UserId::new(id),
            name,
            &RoleId::new(role),
            Some(&hash_pin(pin)?),
        )?;
    }
    let products = catalogue(generated).map_err(|e| demo(&e))?;
    for (id, name) in categories(&products) {
        store.save_category(&CategoryId::new(&id), &name, None)?;
    }
    let first_demo = ProductId::new("milk");
    let count = products.len();
    if store.product(&first_demo)?.is_none() {
        let events = catalogue_events(&products, &shop.id, now);
        store.record(&UserId::new(SETUP_USER), now, &events)?;
    }
    store.set_setting(FAVOURITES_SETTING, &json(&favourites())?)?;
    store.set_setting(SEEDED_SETTING, &now.unix_ms().to_string())?;
    Ok(Seeded::Now { products: count })
}

/// What a terminal set up on its screen starts with: the shop's settings (the demo shop's tax
/// rates, currency and receipt layout under the store's own name and ids, until the fleet or
/// the back office change them), the default roles and no promotions. None of the demo's
/// people, customers or goods: the shop's own come from the fleet or the back office, and
/// nothing made up is ever synced up as if the shop had made it.
pub fn seed_set_up_shop(
    store: &mut Store,
    now: Timestamp,
    setup: &pos_service::complete::SetupState,
) -> Result<Seeded, SeedError> {
    if store.setting(SEEDED_SETTING)?.is_some() {
        return Ok(Seeded::Already);
    }
    let mut shop = pos_core::demo::store().map_err(|e| SeedError::Demo(e.to_string()))?;
    shop.name = setup.store_name.clone();
    shop.address.clear();
    shop.tax_number = None;
    // The receipt prints the shop's name above its header lines; a manager adds their own.
    shop.receipt.header.clear();
    if let Some(enrolment) = &setup.enrolment {
        shop.id = pos_core::id::StoreId::new(&enrolment.store);
        shop.tenant = pos_core::id::TenantId::new(&enrolment.tenant);
    }
    seed_shop_settings(store, &shop, &[])?;
    store.set_setting(FAVOURITES_SETTING, &json(&Vec::<String>::new())?)?;
    store.set_setting(SEEDED_SETTING, &now.unix_ms().to_string())?;
    Ok(Seeded::Now { products: 0 })
}

/// Keeps the shop's UTC offset in step with the time zone chosen at setup (summer time
/// included), read from the zone files under `zoneinfo`. Without the zone's file the offset
/// stays as it is. Returns whether it changed.
pub fn follow_time_zone(
    store: &mut Store,
    zoneinfo: &std::path::Path,
    zone: &str,
    now: Timestamp,
) -> Result<bool, SeedError> {
    let Some(offset) =
        pos_service::zone::current_offset(zoneinfo, zone, now.unix_ms().div_euclid(1000))
    else {
        return Ok(false);
    };
    let mut shop: pos_core::tenant::Store = read_setting(store, STORE_SETTING)?;
    if shop.utc_offset == offset {
        return Ok(false);
    }
    shop.utc_offset = offset;
    store.set_setting(STORE_SETTING, &json(&shop)?)?;
    Ok(true)
}

/// The settings every shop needs before its till can start: the store, its promotions, the
/// loyalty programme, the default roles and the tax rates.
fn seed_shop_settings(
    store: &mut Store,
    shop: &pos_core::tenant::Store,
    promotions: &[Promotion],
) -> Result<(), SeedError> {
    store.set_setting(STORE_SETTING, &json(shop)?)?;
    store.set_setting(PROMOTIONS_SETTING, &json(&promotions)?)?;
    store.set_setting(LOYALTY_SETTING, &json(&pos_core::demo::loyalty())?)?;
    for role in Role::defaults() {
        store.save_role(&role)?;
    }
    for rate in shop.taxes.rates() {
        store.save_tax_rate(rate)?;
    }
    Ok(())
}

/// The shop the till sells for, as the store holds it: its switches are the tenant's,
/// narrowed by the store's own.
pub fn shop_setup(store: &Store, device: DeviceId) -> Result<TillSetup, SeedError> {
    let shop: pos_core::tenant::Store = read_setting(store, STORE_SETTING)?;
    let promotions: Vec<Promotion> = read_setting(store, PROMOTIONS_SETTING)?;
    let loyalty: LoyaltyProgram = read_setting(store, LOYALTY_SETTING)?;
    let tenant: Features = store.tenant_features().map_err(|e| {
        SeedError::Setting(format!("{}: {e}", pos_store::read::TENANT_FEATURES_SETTING))
    })?;
    Ok(TillSetup {
        features: tenant.combined(&shop.features),
        store: shop,
        device,
        promotions,
        loyalty,
    })
}

/// A setting the shop cannot run without, read back from its JSON.
fn read_setting<T: serde::de::DeserializeOwned>(store: &Store, key: &str) -> Result<T, SeedError> {
    let text = store
        .setting(key)?
        .ok_or_else(|| SeedError::Setting(format!("{key} is missing")))?;
    serde_json::from_str(&text).map_err(|e| SeedError::Setting(format!("{key}: {e}")))
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, SeedError> {
    serde_json::to_string(value).map_err(|e| SeedError::Demo(e.to_string()))
}

/// The quick-pick grid: everyday items, weighed fruit and a tee.
pub fn favourites() -> Vec<&'static str> {
    vec![
        "milk",
        "bread",
        "butter",
        "yoghurt",
        "apples",
        "bananas",
        "coffee",
        "cola",
        "water",
        "chocolate",
        "tomatoes-loose",
        "tee-m-navy",
    ]
}

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

/// An EAN-13 from twelve digits, with its check digit.
fn ean13_of(body: &str) -> String {
    let check = sample::ean13_check_digit(body).unwrap_or(0);
    format!("{body}{check}")
}

/// Every product of the demo catalogue, parents before their variants.
pub fn catalogue(generated: u64) -> Result<Vec<Product>, pos_core::catalog::CatalogError> {
    let demo = pos_core::demo::catalog()?;
    let mut products: Vec<Product> = demo
        .products()
        .filter(|p| p.parent.is_none())
        .cloned()
        .collect();
    products.extend(demo.products().filter(|p| p.parent.is_some()).cloned());
    products.extend(weighed_goods());
    products.extend(hoodies());
    products.extend((1..=generated).map(sample::product));
    Ok(products)
}

/// Loose produce and deli counter goods sold by the kilogram, with in-store codes (prefix 22):
/// a shelf code `2200000 NNNNN C`, and the price look-up code `22 NNNNN 00000 C` under which the
/// scale's labels (`22 NNNNN WWWWW C`, the weight in grams) find the product.
fn weighed_goods() -> Vec<Product> {
    let items = [
        ("tomatoes-loose", "Vine tomatoes, loose", 349, "produce"),
        ("carrots-loose", "Carrots, loose", 129, "produce"),
        ("potatoes-loose", "Potatoes, waxy", 189, "produce"),
        ("grapes-loose", "Green grapes", 449, "produce"),
        (
            "gouda-deli",
            "Gouda, aged, from the counter",
            1_590,
            "cheese",
        ),
        (
            "olives-deli",
            "Kalamata olives, from the counter",
            1_290,
            "deli",
        ),
        ("nuts-loose", "Mixed nuts, by weight", 1_990, "deli"),
        ("coffee-loose", "Espresso beans, by weight", 2_490, "coffee"),
    ];
    items
        .iter()
        .enumerate()
        .map(|(index, (id, name, price, category))| Product {
            id: ProductId::new(*id),
            sku: Sku::new(format!("KG-{}", id.to_uppercase())),
            name: (*name).to_owned(),
            barcodes: vec![
                Barcode::new(ean13_of(&format!("2200000{:05}", index + 1))),
                Barcode::new(ean13_of(&format!("22{:05}00000", index + 1))),
            ],
            parent: None,
            variant: Vec::new(),
            unit: Unit::Kilogram,
            cost: eur(price * 55 / 100),
            price: eur(*price),
            tax_category: TaxCategoryId::new("food"),
            category: Some(CategoryId::new(*category)),
            vendor: Some(VendorId::new("market-hall")),
            active: true,
            low_stock_threshold: Some(Quantity::pieces(5)),
        })
        .collect()
}

/// A hoodie in three sizes and two colours: a parent and six variants.
fn hoodies() -> Vec<Product> {
    let parent = Product {
        id: ProductId::new("hoodie"),
        sku: Sku::new("HOODIE"),
        name: "Heavy cotton hoodie".to_owned(),
        barcodes: Vec::new(),
        parent: None,
        variant: Vec::new(),
        unit: Unit::Piece,
        cost: eur(1_800),
        price: eur(4_990),
        tax_category: TaxCategoryId::new("standard"),
        category: Some(CategoryId::new("apparel")),
        vendor: Some(VendorId::new("fairwear")),
        active: true,
        low_stock_threshold: Some(Quantity::pieces(2)),
    };
    let mut products = vec![parent.clone()];
    let mut code = 0;
    for size in ["S", "M", "L"] {
        for colour in ["grey", "black"] {
            code += 1;
            let mut variant = parent.clone();
            variant.id = ProductId::new(format!("hoodie-{}-{colour}", size.to_lowercase()));
            variant.sku = Sku::new(format!("HOODIE-{size}-{}", colour.to_uppercase()));
            variant.parent = Some(parent.id.clone());
            variant.variant = vec![
                VariantAttribute::new("size", size),
                VariantAttribute::new("colour", colour),
            ];
            variant.barcodes = vec![Barcode::new(ean13_of(&format!("42600001{code:04}")))];
            products.push(variant);
        }
    }
    products
}

/// Category ids and the names shown for them.
fn categories(products: &[Product]) -> BTreeMap<String, String> {
    products
        .iter()
        .filter_map(|p| p.category.as_ref())
        .map(|id| {
            let mut name: Vec<char> = id.as_str().replace('-', " ").chars().collect();
            if let Some(first) = name.first_mut() {
                *first = first.to_ascii_uppercase();
            }
            (id.as_str().to_owned(), name.into_iter().collect())
        })
        .collect()
}

/// Products, opening stock for everything sellable, customers and their opening points.
fn catalogue_events(
    products: &[Product],
    store: &pos_core::id::StoreId,
    now: Timestamp,
) -> Vec<DomainEvent> {
    let mut events: Vec<DomainEvent> = products
        .iter()
        .cloned()
        .map(DomainEvent::ProductSaved)
        .collect();
    let parents: Vec<&ProductId> = products.iter().filter_map(|p| p.parent.as_ref()).collect();
    for product in products.iter().filter(|p| !parents.contains(&&p.id)) {
        let quantity = if product.unit.is_weighed() {
            Quantity::of(rust_decimal::Decimal::new(25, 0), product.unit).unwrap_or(Quantity::ZERO)
        } else {
            Quantity::pieces(40)
        };
        events.push(DomainEvent::StockMoved(StockMovement {
            id: MovementId::new(format!("opening-{}", product.id)),
            product: product.id.clone(),
            store: store.clone(),
            batch: None,
            quantity,
            reason: MovementReason::GoodsReceipt {
                reference: Some("opening stock".to_owned()),
            },
            at: now,
            by: UserId::new(SETUP_USER),
        }));
    }
    for (id, name, card, phone, points) in DEMO_CUSTOMERS {
        events.push(DomainEvent::CustomerSaved(Customer {
            id: CustomerId::new(id),
            name: name.to_owned(),
            email: None,
            phone: Some(phone.to_owned()),
            card: Some(LoyaltyCard::new(card)),
        }));
        if points != 0 {
            events.push(DomainEvent::PointsMoved(PointsMovement {
                customer: CustomerId::new(id),
                points,
                reason: PointsReason::Adjustment("opening balance".to_owned()),
                at: now,
            }));
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-15 and 2026-07-15, 12:00 UTC.
    const WINTER: i64 = 1_768_478_400_000;
    const SUMMER: i64 = 1_784_116_800_000;

    fn offset_hours(store: &Store) -> i8 {
        shop_setup(store, pos_core::id::DeviceId::new("T1"))
            .unwrap()
            .store
            .utc_offset
            .whole_hours()
    }

    #[test]
    fn the_shops_clock_follows_its_time_zone_into_summer_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), pos_core::id::DeviceId::new("T1")).unwrap();
        let winter = Timestamp::from_unix_ms(WINTER);
        seed_demo_shop(&mut store, winter, 0).unwrap();
        let zoneinfo = std::path::Path::new(pos_service::setup::ZONEINFO_DIR);
        assert!(follow_time_zone(&mut store, zoneinfo, "Europe/Berlin", winter).unwrap());
        assert_eq!(offset_hours(&store), 1);
        assert!(!follow_time_zone(&mut store, zoneinfo, "Europe/Berlin", winter).unwrap());
        let summer = Timestamp::from_unix_ms(SUMMER);
        assert!(follow_time_zone(&mut store, zoneinfo, "Europe/Berlin", summer).unwrap());
        assert_eq!(offset_hours(&store), 2);
        // A zone without a file leaves the clock alone.
        assert!(!follow_time_zone(&mut store, zoneinfo, "Mars/Olympus", winter).unwrap());
        assert_eq!(offset_hours(&store), 2);
    }
}
