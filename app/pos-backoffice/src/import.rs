//! Bulk product import from CSV or Excel (.xlsx), previewed row by row before anything is
//! applied. The columns are the catalogue export's (`pos_store::csv_io::COLUMNS`), and each row
//! is checked exactly as the store's CSV import checks it, then against the catalogue.
//!
//! Pure apart from reading the bytes it is given: files come from the caller (a USB stick).
//! Nothing is written here; [`ImportPreview::events`] says what applying would record.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::event::DomainEvent;
use pos_core::id::{MovementId, ProductId, StoreId, UserId};
use pos_core::money::Currency;
use pos_core::quantity::Quantity;
use pos_core::stock::{MovementReason, StockMovement};
use pos_store::csv_io::{COLUMNS, product_from_fields};

use crate::product_form::{CatalogueLookup, check_codes};

/// Rows one import may hold: a whole catalogue, not a runaway spreadsheet.
pub const IMPORT_ROWS_MAX: usize = 20_000;

/// Why a file could not be previewed at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is not CSV or Excel (.xlsx): {0}")]
    Unreadable(String),
    #[error("the file has no rows")]
    Empty,
    #[error("the header lacks the column(s) {0}; export the catalogue once to see the layout")]
    MissingColumns(String),
    #[error("the file has {0} rows; at most {IMPORT_ROWS_MAX} can be imported at once")]
    TooManyRows(usize),
}

/// Which reader a file needs, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Csv,
    Xlsx,
}

impl FileKind {
    pub fn of(name: &str) -> Option<FileKind> {
        let lower = name.to_lowercase();
        if lower.ends_with(".csv") {
            Some(FileKind::Csv)
        } else if lower.ends_with(".xlsx") {
            Some(FileKind::Xlsx)
        } else {
            None
        }
    }
}

/// One row of the file as it would be imported, or why it cannot be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewRow {
    /// The row's line in the file (1 is the header).
    pub line: u64,
    pub sku: String,
    pub name: String,
    pub outcome: Result<ImportedRow, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedRow {
    pub product: Product,
    /// The product as it is now, when the row changes an existing one.
    pub previous: Option<Product>,
    pub stock: Option<Quantity>,
}

/// The whole file checked: every row with its outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportPreview {
    pub rows: Vec<PreviewRow>,
}

impl ImportPreview {
    /// Reads `bytes` as `kind` and checks every row against the catalogue.
    pub fn read(
        bytes: &[u8],
        kind: FileKind,
        currency: Currency,
        catalogue: &impl CatalogueLookup,
    ) -> Result<ImportPreview, ImportError> {
        let grid = match kind {
            FileKind::Csv => csv_grid(bytes)?,
            FileKind::Xlsx => xlsx_grid(bytes)?,
        };
        preview(&grid, currency, catalogue)
    }

    pub fn bad_rows(&self) -> usize {
        self.rows.iter().filter(|r| r.outcome.is_err()).count()
    }

    pub fn good_rows(&self) -> usize {
        self.rows.len() - self.bad_rows()
    }

    /// What applying records: each product saved (and its price change, for an existing
    /// product), then a count correction where a `stock` count differs from `levels`.
    /// Nothing when any row is bad: a file is applied whole or not at all.
    pub fn events(
        &self,
        store: &StoreId,
        by: &UserId,
        at: Timestamp,
        mut level: impl FnMut(&ProductId) -> Quantity,
        mut next_id: impl FnMut() -> MovementId,
    ) -> Vec<DomainEvent> {
        if self.bad_rows() > 0 {
            return Vec::new();
        }
        let imported: Vec<&ImportedRow> = self
            .rows
            .iter()
            .filter_map(|r| r.outcome.as_ref().ok())
            .collect();
        // Parents first, so a variant never arrives before the product it varies.
        let mut ordered = imported.clone();
        ordered.sort_by_key(|r| r.product.parent.is_some());
        let mut events = Vec::new();
        for row in &ordered {
            events.push(DomainEvent::ProductSaved(row.product.clone()));
            if let Some(previous) = &row.previous
                && previous.price != row.product.price
            {
                events.push(DomainEvent::PriceChanged {
                    product: row.product.id.clone(),
                    old: previous.price,
                    new: row.product.price,
                    effective_at: at,
                });
            }
        }
        for row in &ordered {
            let Some(counted) = row.stock else { continue };
            let difference = counted - level(&row.product.id);
            if difference.is_zero() {
                continue;
            }
            events.push(DomainEvent::StockMoved(StockMovement {
                id: next_id(),
                product: row.product.id.clone(),
                store: store.clone(),
                batch: None,
                quantity: difference,
                reason: MovementReason::CountCorrection,
                at,
                by: by.clone(),
            }));
        }
        events
    }
}

/// A file as rows of text cells, the header first.
type Grid = Vec<Vec<String>>;

fn csv_grid(bytes: &[u8]) -> Result<Grid, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut grid = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::Unreadable(e.to_string()))?;
        grid.push(record.iter().map(str::to_owned).collect());
        if grid.len() > IMPORT_ROWS_MAX + 1 {
            return Err(ImportError::TooManyRows(grid.len() - 1));
        }
    }
    Ok(grid)
}

fn xlsx_grid(bytes: &[u8]) -> Result<Grid, ImportError> {
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| ImportError::Unreadable(e.to_string()))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or(ImportError::Empty)?
        .map_err(|e| ImportError::Unreadable(e.to_string()))?;
    if range.height() > IMPORT_ROWS_MAX + 1 {
        return Err(ImportError::TooManyRows(range.height() - 1));
    }
    Ok(range
        .rows()
        .map(|row| row.iter().map(cell_text).collect())
        .collect())
}

/// A cell as the text the person typed. A number cell holds a binary float; its shortest
/// decimal form is what was typed (`19.9`, `4006381333931`), and the import parses that text
/// into exact decimals like any CSV field.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Int(value) => value.to_string(),
        Data::Float(value) => value.to_string(),
        Data::Bool(value) => value.to_string(),
        other => other.to_string(),
    }
}

fn preview(
    grid: &Grid,
    currency: Currency,
    catalogue: &impl CatalogueLookup,
) -> Result<ImportPreview, ImportError> {
    let (header, body) = grid.split_first().ok_or(ImportError::Empty)?;
    let index: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(position, name)| (name.trim(), position))
        .collect();
    let missing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| !index.contains_key(c))
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::MissingColumns(missing.join(", ")));
    }
    let mut rows = Vec::new();
    let mut first_line_of: HashMap<String, u64> = HashMap::new();
    let file_ids: Vec<String> = body
        .iter()
        .filter_map(|row| index.get("id").and_then(|&i| row.get(i)))
        .map(|id| id.trim().to_owned())
        .collect();
    for (position, cells) in body.iter().enumerate() {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let line = position as u64 + 2;
        let cell = |name: &str| {
            index
                .get(name)
                .and_then(|&i| cells.get(i))
                .map_or("", String::as_str)
        };
        let outcome = product_from_fields(cell, currency).and_then(|(product, stock)| {
            let mut keys = vec![
                format!("product id {}", product.id),
                format!("SKU {}", product.sku),
            ];
            keys.extend(product.barcodes.iter().map(|b| format!("barcode {b}")));
            for key in keys {
                if let Some(first) = first_line_of.get(&key) {
                    return Err(format!("{key} is also on line {first}"));
                }
                first_line_of.insert(key, line);
            }
            check_codes(&product, catalogue).map_err(|e| e.to_string())?;
            if let Some(parent) = &product.parent
                && !file_ids.iter().any(|id| id == parent.as_str())
                && catalogue.product(parent).is_none()
            {
                return Err(format!(
                    "parent product {parent} is neither in the file nor in the catalogue"
                ));
            }
            Ok(ImportedRow {
                previous: catalogue.product(&product.id),
                product,
                stock,
            })
        });
        rows.push(PreviewRow {
            line,
            sku: cell("sku").trim().to_owned(),
            name: cell("name").trim().to_owned(),
            outcome,
        });
    }
    Ok(ImportPreview { rows })
}
