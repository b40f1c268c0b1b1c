//! Bulk import and export of products, variants, barcodes and stock as CSV.
//!
//! # Columns
//! One product per row, with a header row naming the columns (any order; all must be present):
//!
//! | column | content | example |
//! |---|---|---|
//! | `id` | product id, unique | `p-000042` |
//! | `sku` | SKU, unique | `MLK-1L` |
//! | `name` | name | `Organic whole milk 1L` |
//! | `parent` | id of the product this is a variant of, or empty | `tee` |
//! | `variant` | variant attributes `name=value` joined by `;`, or empty | `size=M;colour=navy` |
//! | `unit` | `piece`, `kilogram` or `pound` | `piece` |
//! | `price` | price in the store's currency, at most its minor units | `1.19` |
//! | `cost` | cost price, same rule | `0.80` |
//! | `tax_category` | tax category id | `food` |
//! | `category` | category id, or empty | `dairy` |
//! | `vendor` | vendor id, or empty | `v-12` |
//! | `active` | `true` or `false` | `true` |
//! | `low_stock_threshold` | quantity, or empty for none | `6` |
//! | `barcodes` | barcodes joined by `\|`, or empty | `4006381333931\|4006381333948` |
//! | `stock` | counted stock in the importing store, or empty to leave stock alone | `24` |
//!
//! A `stock` value is a count: the import records a count-correction stock movement for the
//! difference from the current level (journaled like any movement), so stock stays the sum of
//! movements. Export writes the same columns, `stock` being the current level.
//!
//! A bad row is reported with its line number and reason. [`ImportMode::AllOrNothing`]
//! imports nothing when any row is bad; [`ImportMode::GoodRowsOnly`] imports the good rows
//! and reports the others. Either way the import is one transaction.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{Read, Write};

use pos_core::catalog::{Product, VariantAttribute};
use pos_core::clock::Timestamp;
use pos_core::event::DomainEvent;
use pos_core::id::{
    Barcode, CategoryId, MovementId, ProductId, Sku, StoreId, TaxCategoryId, UserId, VendorId,
};
use pos_core::money::{Currency, Money};
use pos_core::quantity::{Quantity, Unit};
use pos_core::stock::{MovementReason, StockMovement};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::Store;
use crate::error::{Result, StoreError};
use crate::journal::{self, NewEntry};
use crate::store::{
    insert_movement, money_from, quantity_from, unit_from, unit_text, upsert_product,
};

pub const COLUMNS: [&str; 15] = [
    "id",
    "sku",
    "name",
    "parent",
    "variant",
    "unit",
    "price",
    "cost",
    "tax_category",
    "category",
    "vendor",
    "active",
    "low_stock_threshold",
    "barcodes",
    "stock",
];

/// What to do when some rows are bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportMode {
    AllOrNothing,
    GoodRowsOnly,
}

/// Who imports, into which store, in which currency, and when.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub currency: Currency,
    pub store: StoreId,
    pub actor: UserId,
    pub now: Timestamp,
    pub mode: ImportMode,
}

/// A bad row: its line in the file (1 is the header) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub products: u64,
    pub stock_movements: u64,
    pub rejected: Vec<RowError>,
}

struct ParsedRow {
    line: u64,
    product: Product,
    stock: Option<Quantity>,
}

impl Store {
    /// Imports products (with variants and barcodes) and stock counts from CSV.
    pub fn import_products_csv(
        &mut self,
        input: impl Read,
        options: &ImportOptions,
    ) -> Result<ImportReport> {
        let (rows, mut rejected) = parse(input, options.currency)?;
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Variants may come before their parent in the file: check links at commit.
        transaction.execute_batch("PRAGMA defer_foreign_keys = ON")?;
        let file_ids: HashSet<&str> = rows.iter().map(|r| r.product.id.as_str()).collect();
        let mut good = Vec::with_capacity(rows.len());
        for row in &rows {
            match check_against_catalogue(&transaction, row, &file_ids)? {
                Some(reason) => rejected.push(RowError {
                    line: row.line,
                    reason,
                }),
                None => good.push(row),
            }
        }
        rejected.sort_by_key(|e| e.line);
        if !rejected.is_empty() && options.mode == ImportMode::AllOrNothing {
            return Err(StoreError::Import(rejected));
        }
        let mut head = journal::head(&transaction)?;
        let mut report = ImportReport::default();
        for row in good {
            upsert_product(&transaction, &row.product)?;
            report.products += 1;
            let Some(counted) = row.stock else { continue };
            let level = level_in(&transaction, &options.store, &row.product.id)?;
            let difference = counted.value() - level.value();
            if difference.is_zero() {
                continue;
            }
            let hlc = self
                .hlc
                .tick(options.now)
                .map_err(|error| StoreError::Refused(error.to_string()))?;
            let movement = StockMovement {
                id: MovementId::new(format!("count-{}", journal::ulid(hlc.wall_ms)?)),
                product: row.product.id.clone(),
                store: options.store.clone(),
                batch: None,
                quantity: Quantity::of(difference, Unit::Kilogram)
                    .map_err(|error| StoreError::Decode(error.to_string()))?,
                reason: MovementReason::CountCorrection,
                at: options.now,
                by: options.actor.clone(),
            };
            insert_movement(&transaction, &movement)?;
            journal::append(
                &transaction,
                &mut head,
                NewEntry {
                    device: &self.device,
                    actor: &options.actor,
                    hlc,
                    event: &DomainEvent::StockMoved(movement),
                },
            )?;
            report.stock_movements += 1;
        }
        transaction.commit()?;
        report.rejected = rejected;
        Ok(report)
    }

    /// Writes every product with its barcodes and its stock in `store`, in the import format.
    pub fn export_products_csv(&self, output: impl Write, store: &StoreId) -> Result<u64> {
        let mut writer = csv::Writer::from_writer(output);
        writer.write_record(COLUMNS).map_err(csv_error)?;
        let mut statement = self.connection.prepare(
            "SELECT p.id, p.sku, p.name, p.parent, p.variant, p.unit, p.price, p.cost, \
             p.currency, p.tax_category, p.category, p.vendor, p.active, p.low_stock_threshold, \
             (SELECT group_concat(code, '|') FROM (SELECT code FROM barcode b WHERE b.product = p.id ORDER BY code)), \
             (SELECT group_concat(quantity, ' ') FROM stock_level l WHERE l.store = ?1 AND l.product = p.id) \
             FROM product p ORDER BY p.rowid",
        )?;
        let mut rows = statement.query([store.as_str()])?;
        let mut count = 0;
        while let Some(row) = rows.next()? {
            let variant: Vec<VariantAttribute> = serde_json::from_str(&row.get::<_, String>(4)?)?;
            let currency: String = row.get(8)?;
            let price = money_from(&row.get::<_, String>(6)?, &currency)?.display_amount();
            let cost = money_from(&row.get::<_, String>(7)?, &currency)?.display_amount();
            let variant: Vec<String> = variant
                .iter()
                .map(|a| format!("{}={}", a.name, a.value))
                .collect();
            let mut stock = Quantity::ZERO;
            for part in row
                .get::<_, Option<String>>(15)?
                .unwrap_or_default()
                .split_whitespace()
            {
                stock += quantity_from(part)?;
            }
            let text = |index: usize| -> rusqlite::Result<String> {
                Ok(row.get::<_, Option<String>>(index)?.unwrap_or_default())
            };
            writer
                .write_record([
                    text(0)?,
                    text(1)?,
                    text(2)?,
                    text(3)?,
                    variant.join(";"),
                    text(5)?,
                    price,
                    cost,
                    text(9)?,
                    text(10)?,
                    text(11)?,
                    if row.get::<_, bool>(12)? {
                        "true"
                    } else {
                        "false"
                    }
                    .to_owned(),
                    text(13)?,
                    text(14)?,
                    stock.value().normalize().to_string(),
                ])
                .map_err(csv_error)?;
            count += 1;
        }
        writer
            .flush()
            .map_err(|error| StoreError::Refused(format!("writing the export failed: {error}")))?;
        Ok(count)
    }
}

fn csv_error(error: csv::Error) -> StoreError {
    StoreError::Refused(format!("writing the export failed: {error}"))
}

fn level_in(
    transaction: &rusqlite::Transaction<'_>,
    store: &StoreId,
    product: &ProductId,
) -> Result<Quantity> {
    let mut statement = transaction
        .prepare_cached("SELECT quantity FROM stock_level WHERE store = ?1 AND product = ?2")?;
    let mut rows = statement.query(params![store.as_str(), product.as_str()])?;
    let mut level = Quantity::ZERO;
    while let Some(row) = rows.next()? {
        level += quantity_from(&row.get::<_, String>(0)?)?;
    }
    Ok(level)
}

/// Checks a row against products already in the catalogue: its SKU and barcodes must not
/// belong to another product, its parent must exist.
fn check_against_catalogue(
    transaction: &rusqlite::Transaction<'_>,
    row: &ParsedRow,
    file_ids: &HashSet<&str>,
) -> Result<Option<String>> {
    let product = &row.product;
    let sku_owner: Option<String> = transaction
        .prepare_cached("SELECT id FROM product WHERE sku = ?1")?
        .query_row([product.sku.as_str()], |r| r.get(0))
        .optional()?;
    if let Some(owner) = sku_owner.filter(|owner| owner != product.id.as_str()) {
        return Ok(Some(format!(
            "SKU {} already belongs to product {owner}",
            product.sku
        )));
    }
    for barcode in &product.barcodes {
        let owner: Option<String> = transaction
            .prepare_cached("SELECT product FROM barcode WHERE code = ?1")?
            .query_row([barcode.as_str()], |r| r.get(0))
            .optional()?;
        if let Some(owner) = owner.filter(|owner| owner != product.id.as_str()) {
            return Ok(Some(format!(
                "barcode {barcode} already belongs to product {owner}"
            )));
        }
    }
    if let Some(parent) = &product.parent
        && !file_ids.contains(parent.as_str())
    {
        let exists: Option<i64> = transaction
            .prepare_cached("SELECT 1 FROM product WHERE id = ?1")?
            .query_row([parent.as_str()], |r| r.get(0))
            .optional()?;
        if exists.is_none() {
            return Ok(Some(format!(
                "parent product {parent} is neither in the file nor in the catalogue"
            )));
        }
    }
    Ok(None)
}

fn parse(input: impl Read, currency: Currency) -> Result<(Vec<ParsedRow>, Vec<RowError>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|error| header_error(error.to_string()))?
        .clone();
    let mut index = HashMap::new();
    for (position, name) in headers.iter().enumerate() {
        index.insert(name.trim().to_owned(), position);
    }
    let missing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| !index.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        return Err(header_error(format!(
            "the header lacks the column(s) {}",
            missing.join(", ")
        )));
    }
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    let mut seen_ids = HashMap::new();
    let mut seen_skus = HashMap::new();
    let mut seen_barcodes = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                rejected.push(RowError {
                    line,
                    reason: error.to_string(),
                });
                continue;
            }
        }
        let line = record.position().map_or(line, csv::Position::line);
        match parse_row(&record, &index, currency) {
            Ok((product, stock)) => {
                let mut duplicate = None;
                if let Some(first) = seen_ids.insert(product.id.to_string(), line) {
                    duplicate = Some(format!("product id {} is also on line {first}", product.id));
                } else if let Some(first) = seen_skus.insert(product.sku.to_string(), line) {
                    duplicate = Some(format!("SKU {} is also on line {first}", product.sku));
                } else {
                    for barcode in &product.barcodes {
                        if let Some(first) = seen_barcodes.insert(barcode.to_string(), line) {
                            duplicate = Some(format!("barcode {barcode} is also on line {first}"));
                            break;
                        }
                    }
                }
                match duplicate {
                    Some(reason) => rejected.push(RowError { line, reason }),
                    None => rows.push(ParsedRow {
                        line,
                        product,
                        stock,
                    }),
                }
            }
            Err(reason) => rejected.push(RowError { line, reason }),
        }
    }
    Ok((rows, rejected))
}

fn header_error(reason: String) -> StoreError {
    StoreError::Import(vec![RowError { line: 1, reason }])
}

fn parse_row(
    record: &csv::StringRecord,
    index: &HashMap<String, usize>,
    currency: Currency,
) -> std::result::Result<(Product, Option<Quantity>), String> {
    product_from_fields(
        |name| index.get(name).and_then(|&i| record.get(i)).unwrap_or(""),
        currency,
    )
}

/// One product row given by its named [`COLUMNS`] (a CSV record or a spreadsheet's cells),
/// checked exactly as the CSV import checks it: the product and its `stock` count, or the
/// reason the row is bad, written for the person who made the file.
pub fn product_from_fields<'a>(
    cell: impl Fn(&str) -> &'a str,
    currency: Currency,
) -> std::result::Result<(Product, Option<Quantity>), String> {
    let field = |name: &str| cell(name).trim();
    let required = |name: &str| -> std::result::Result<String, String> {
        let value = field(name);
        if value.is_empty() {
            Err(format!("`{name}` is empty"))
        } else {
            Ok(value.to_owned())
        }
    };
    let optional = |name: &str| {
        Some(field(name))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let unit_text = required("unit")?;
    let unit = unit_from(&unit_text)
        .ok_or_else(|| format!("unit `{unit_text}` is not piece, kilogram or pound"))?;
    let money = |name: &str| -> std::result::Result<Money, String> {
        Money::parse(&required(name)?, currency).map_err(|error| format!("`{name}`: {error}"))
    };
    let active = match field("active") {
        "true" | "1" | "yes" => true,
        "false" | "0" | "no" => false,
        other => return Err(format!("`active` must be true or false, not `{other}`")),
    };
    let mut variant = Vec::new();
    for pair in field("variant").split(';').filter(|p| !p.trim().is_empty()) {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("variant attribute `{pair}` is not name=value"))?;
        variant.push(VariantAttribute::new(name.trim(), value.trim()));
    }
    let quantity = |name: &str| -> std::result::Result<Option<Quantity>, String> {
        optional(name)
            .map(|text| Quantity::parse(&text, unit).map_err(|error| format!("`{name}`: {error}")))
            .transpose()
    };
    let product = Product {
        id: ProductId::new(required("id")?),
        sku: Sku::new(required("sku")?),
        name: required("name")?,
        barcodes: field("barcodes")
            .split('|')
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(Barcode::new)
            .collect(),
        parent: optional("parent").map(ProductId::new),
        variant,
        unit,
        cost: money("cost")?,
        price: money("price")?,
        tax_category: TaxCategoryId::new(required("tax_category")?),
        category: optional("category").map(CategoryId::new),
        vendor: optional("vendor").map(VendorId::new),
        active,
        low_stock_threshold: quantity("low_stock_threshold")?,
    };
    product
        .validate(currency)
        .map_err(|error| error.to_string())?;
    if product.parent.as_ref() == Some(&product.id) {
        return Err("a product cannot be a variant of itself".to_owned());
    }
    Ok((product, quantity("stock")?))
}

/// The CSV form of a product row, for tests and tools that write import files.
pub fn product_row(product: &Product, stock: Option<Quantity>) -> Vec<String> {
    let variant: Vec<String> = product
        .variant
        .iter()
        .map(|a| format!("{}={}", a.name, a.value))
        .collect();
    let barcodes: Vec<&str> = product.barcodes.iter().map(Barcode::as_str).collect();
    vec![
        product.id.to_string(),
        product.sku.to_string(),
        product.name.clone(),
        product
            .parent
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        variant.join(";"),
        unit_text(product.unit).to_owned(),
        product.price.display_amount(),
        product.cost.display_amount(),
        product.tax_category.to_string(),
        product
            .category
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        product
            .vendor
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        product.active.to_string(),
        product
            .low_stock_threshold
            .map(|q| q.value().to_string())
            .unwrap_or_default(),
        barcodes.join("|"),
        stock.map(|q| q.value().to_string()).unwrap_or_default(),
    ]
}
