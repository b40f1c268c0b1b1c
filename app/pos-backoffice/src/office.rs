//! The back-office session: who is signed in, what they may do, and every action of the
//! products, stock and reports screens, carried out through [`Books`].
//!
//! Each action checks its permission first (a role lacking it gets a [`BackOfficeError::Denied`]
//! that names the permission and changes nothing), builds its events with `pos-core`'s rules,
//! and records them in one journal transaction. Time and ids come in from the caller.

use std::path::PathBuf;

use pos_core::access::{AccessError, Actor, authorize};
use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::event::DomainEvent;
use pos_core::id::{BatchId, MovementId, ProductId, Sku, TaxCategoryId, UserId};
use pos_core::money::Money;
use pos_core::quantity::{Quantity, Unit};
use pos_core::stock::{MovementReason, StockMovement, Variance, post_count, reorder_quantity};
use pos_core::tenant::Store as Shop;
use pos_reports::{Cell, Period, ReportKind, Table};
use pos_store::inventory::{BatchLevel, ProductFilter, ProductListing};
use pos_store::read::ExpiringBatch;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use time::Date;

use crate::books::{Books, Lookup};
use crate::export::{ExportFormat, ExportTarget};
use crate::import::{FileKind, ImportError, ImportPreview};
use crate::product_form::{
    FormError, IN_STORE_PREFIX, ProductForm, axis_values, next_in_store_barcode, variant_matrix,
};

/// The permissions the back office asks for. Managers hold them all through `products.*`,
/// `inventory.*` and `reports.*`.
pub mod permission {
    pub const PRODUCTS_VIEW: &str = "products.view";
    pub const PRODUCTS_EDIT: &str = pos_core::access::permission::PRODUCTS_EDIT;
    pub const PRODUCTS_IMPORT: &str = "products.import";
    pub const STOCK_VIEW: &str = "inventory.view";
    pub const STOCK_RECEIVE: &str = pos_core::access::permission::INVENTORY_RECEIVE;
    pub const STOCK_ADJUST: &str = pos_core::access::permission::INVENTORY_ADJUST;
    pub const STOCK_COUNT: &str = pos_core::access::permission::INVENTORY_COUNT;
    pub const STOCK_WRITE_OFF: &str = "inventory.write_off";
    /// Purchase orders to vendors: make, send, cancel, export.
    pub const ORDERS: &str = pos_core::access::permission::INVENTORY_ORDERS;
    /// Transfers of stock to and from the tenant's other stores.
    pub const TRANSFER: &str = pos_core::access::permission::INVENTORY_TRANSFER;
    pub const REPORTS_VIEW: &str = "reports.view";
    pub const REPORTS_EXPORT: &str = "reports.export";
    /// The log of manager overrides, an audit report.
    pub const OVERRIDES_VIEW: &str = "reports.overrides";
    pub const CUSTOMERS_VIEW: &str = "customers.view";
    pub const CUSTOMERS_EDIT: &str = pos_core::access::permission::CUSTOMERS_EDIT;
    /// Tiers, earn rates and what a point is worth: a shop setting.
    pub const LOYALTY_SETTINGS: &str = "settings.loyalty";
    /// Label layouts and printing shelf labels.
    pub const LABELS: &str = "products.labels";
    pub const PEOPLE_VIEW: &str = "users.view";
    pub const PEOPLE_EDIT: &str = pos_core::access::permission::USERS_EDIT;
    pub const ROLES_EDIT: &str = pos_core::access::permission::USERS_ROLES;
    /// Seeing the shop's settings; each save asks for its own `settings.*` permission.
    pub const SETTINGS_VIEW: &str = "settings.view";
    /// Any one of these lets a person into the back office.
    pub const ENTRY: [&str; 6] = [
        PRODUCTS_VIEW,
        STOCK_VIEW,
        REPORTS_VIEW,
        CUSTOMERS_VIEW,
        PEOPLE_VIEW,
        SETTINGS_VIEW,
    ];
}

/// How many rows the lists on screen show.
pub const LIST_ROWS: u32 = 200;
/// Recent sales a reorder quantity is based on.
pub const REORDER_HISTORY_DAYS: u32 = 28;
/// Days a supplier takes to deliver, and days an order should then last.
pub const REORDER_LEAD_DAYS: u32 = 2;
pub const REORDER_COVER_DAYS: u32 = 7;

/// What went wrong, in words for the person at the screen. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum BackOfficeError {
    #[error("nobody is signed in to the back office")]
    SignedOut,
    #[error(
        "{name} ({role}) may not do this: it needs the permission “{permission}”. Ask the owner to add it to the role."
    )]
    Denied {
        name: String,
        role: String,
        permission: String,
    },
    #[error("this is switched off for the store ({0}); a manager can switch it on in Settings")]
    FeatureOff(String),
    #[error(
        "this is switched off for every store of the business ({0}); only the fleet's operator can switch it on"
    )]
    FeatureOffByTenant(String),
    #[error("{0}")]
    Form(#[from] FormError),
    #[error("{0}")]
    Import(#[from] ImportError),
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Label(#[from] crate::labels::LabelProblem),
    #[error("{0}")]
    Staff(#[from] pos_core::access::StaffError),
    #[error("{0}")]
    Loyalty(#[from] pos_core::loyalty::LoyaltyError),
    #[error("the store refused: {0}")]
    Store(#[from] pos_store::StoreError),
    #[error("the report could not be made: {0}")]
    Report(#[from] pos_reports::ReportError),
    #[error("the report could not be saved to {place}: {reason}")]
    Export { place: String, reason: String },
}

type Result<T> = std::result::Result<T, BackOfficeError>;

/// Why stock is adjusted by hand; the code is what the journal and reports keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdjustReason {
    Damaged,
    Theft,
    Found,
    OwnUse,
    Correction,
}

impl AdjustReason {
    pub const ALL: [AdjustReason; 5] = [
        AdjustReason::Damaged,
        AdjustReason::Theft,
        AdjustReason::Found,
        AdjustReason::OwnUse,
        AdjustReason::Correction,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AdjustReason::Damaged => "damaged",
            AdjustReason::Theft => "theft",
            AdjustReason::Found => "found",
            AdjustReason::OwnUse => "own_use",
            AdjustReason::Correction => "correction",
        }
    }
}

/// A product counted so far, with the books' figure, before the count is posted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountLine {
    pub product: Product,
    pub expected: Quantity,
    pub counted: Quantity,
    pub difference: Quantity,
}

/// A low-stock product with what to order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReorderLine {
    pub sku: Sku,
    pub name: String,
    pub level: Quantity,
    pub threshold: Quantity,
    pub sold_recently: Quantity,
    pub order: Quantity,
}

/// Today at a glance.
#[derive(Clone, Debug, PartialEq)]
pub struct Dashboard {
    pub sales: Money,
    pub sale_count: u64,
    /// (hour label, total, share of the busiest hour 0–1 for the bar).
    pub hours: Vec<(String, Money, f32)>,
    /// (tender, net taken, share of all takings 0–1).
    pub payments: Vec<(String, Money, f32)>,
    /// (product, quantity, total), best first.
    pub top_products: Vec<(String, String, Money)>,
    pub low_stock: u64,
}

/// The back office over `books` for one shop.
pub struct BackOffice<B: Books> {
    books: B,
    shop: Shop,
    clock: Box<dyn Fn() -> Timestamp>,
    ids: Box<dyn FnMut(&str) -> String>,
    actor: Option<Actor>,
    count: Vec<CountLine>,
    pub(crate) label_printer: Option<Box<dyn crate::labels::LabelPrinter>>,
    /// This terminal's `terminal.toml`, when the terminal lets the back office edit it.
    hardware: Option<Box<dyn crate::settings::TerminalHardware>>,
}

impl<B: Books> BackOffice<B> {
    /// `ids` makes a fresh id with the given prefix ("p", "mv", "batch") each call.
    pub fn new(
        books: B,
        shop: Shop,
        clock: impl Fn() -> Timestamp + 'static,
        ids: impl FnMut(&str) -> String + 'static,
    ) -> BackOffice<B> {
        BackOffice {
            books,
            shop,
            clock: Box::new(clock),
            ids: Box::new(ids),
            actor: None,
            count: Vec::new(),
            label_printer: None,
            hardware: None,
        }
    }

    /// The label printer labels are printed on (the terminal's configured one).
    pub fn set_label_printer(&mut self, printer: Box<dyn crate::labels::LabelPrinter>) {
        self.label_printer = Some(printer);
    }

    /// Lets the settings edit this terminal's hardware through `hardware`.
    pub fn set_hardware(&mut self, hardware: impl crate::settings::TerminalHardware + 'static) {
        self.hardware = Some(Box::new(hardware));
    }

    pub(crate) fn hardware_place(&self) -> Result<&dyn crate::settings::TerminalHardware> {
        self.hardware.as_deref().ok_or_else(|| {
            BackOfficeError::Input(
                "this terminal's hardware is set in its configuration file, not here".to_owned(),
            )
        })
    }

    /// The shop's settings as just saved or read back.
    pub(crate) fn replace_shop(&mut self, shop: Shop) {
        self.shop = shop;
    }

    pub fn shop(&self) -> &Shop {
        &self.shop
    }

    pub fn books(&self) -> &B {
        &self.books
    }

    pub fn actor(&self) -> Option<&Actor> {
        self.actor.as_ref()
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// The shop's calendar day now.
    pub fn today(&self) -> Date {
        self.now().local(self.shop.utc_offset).date
    }

    /// Signs `actor` in, if their role lets them into any back-office screen.
    pub fn sign_in(&mut self, actor: Actor) -> Result<()> {
        let allowed = permission::ENTRY.iter().any(|p| actor.role.allows(p));
        if !allowed {
            return Err(BackOfficeError::Denied {
                name: actor.name.clone(),
                role: actor.role.name.clone(),
                permission: entry_permissions(),
            });
        }
        self.actor = Some(actor);
        self.count.clear();
        Ok(())
    }

    pub fn sign_out(&mut self) {
        self.actor = None;
        self.count.clear();
    }

    /// The signed-in person, if they hold `permission` and both the tenant and the store have
    /// it switched on. The tenant's switches are read at each action: the fleet may have
    /// changed them since the back office opened.
    pub fn allow(&self, permission: &str) -> Result<UserId> {
        let actor = self.actor.as_ref().ok_or(BackOfficeError::SignedOut)?;
        let tenant = self.books.tenant_features()?;
        let features = tenant.combined(&self.shop.features);
        match authorize(&features, actor, None, permission, self.now()) {
            Ok(_) => Ok(actor.user.clone()),
            Err(AccessError::FeatureDisabled { feature }) if tenant.is_off(&feature) => {
                Err(BackOfficeError::FeatureOffByTenant(feature))
            }
            Err(AccessError::FeatureDisabled { feature }) => {
                Err(BackOfficeError::FeatureOff(feature))
            }
            Err(_) => Err(BackOfficeError::Denied {
                name: actor.name.clone(),
                role: actor.role.name.clone(),
                permission: permission.to_owned(),
            }),
        }
    }

    pub(crate) fn record(&self, by: &UserId, events: &[DomainEvent]) -> Result<()> {
        Ok(self.books.record(by, self.now(), events)?)
    }

    /// A fresh id with `prefix`.
    pub(crate) fn new_id(&mut self, prefix: &str) -> String {
        (self.ids)(prefix)
    }

    // ---- Products ---------------------------------------------------------------------------

    pub fn products(&self, filter: &ProductFilter) -> Result<Vec<ProductListing>> {
        self.allow(permission::PRODUCTS_VIEW)?;
        Ok(self.books.product_list(&self.shop.id, filter, LIST_ROWS)?)
    }

    pub fn product(&self, id: &ProductId) -> Result<Option<Product>> {
        self.allow(permission::PRODUCTS_VIEW)?;
        Ok(self.books.product(id)?)
    }

    pub fn variants_of(&self, id: &ProductId) -> Result<Vec<Product>> {
        self.allow(permission::PRODUCTS_VIEW)?;
        Ok(self.books.variants_of(id)?)
    }

    /// A new, empty product with a fresh id, sold by the piece at the standard tax rate.
    pub fn blank_product(&mut self) -> Product {
        let currency = self.shop.currency;
        Product {
            id: ProductId::new((self.ids)("p")),
            sku: Sku::new(""),
            name: String::new(),
            barcodes: Vec::new(),
            parent: None,
            variant: Vec::new(),
            unit: Unit::Piece,
            cost: Money::zero(currency),
            price: Money::zero(currency),
            tax_category: TaxCategoryId::new("standard"),
            category: None,
            vendor: None,
            active: true,
            low_stock_threshold: None,
        }
    }

    /// The next free in-store barcode, for goods without one of their own.
    pub fn generate_barcode(&self) -> Result<String> {
        self.allow(permission::PRODUCTS_EDIT)?;
        let highest = self
            .books
            .highest_barcode_with_prefix(IN_STORE_PREFIX, 13)?;
        Ok(next_in_store_barcode(highest.as_deref()))
    }

    /// Saves `form` over `base` (a stored product or a blank one): a product-saved event, and
    /// a price-changed event when an existing product's price moves.
    pub fn save_product(&mut self, base: &Product, form: &ProductForm) -> Result<Product> {
        let by = self.allow(permission::PRODUCTS_EDIT)?;
        let product = form.to_product(base, self.shop.currency, &Lookup(&self.books))?;
        let mut events = vec![DomainEvent::ProductSaved(product.clone())];
        if let Some(previous) = self.books.product(&product.id)?
            && previous.price != product.price
        {
            events.push(DomainEvent::PriceChanged {
                product: product.id.clone(),
                old: previous.price,
                new: product.price,
                effective_at: self.now(),
            });
        }
        self.record(&by, &events)?;
        Ok(product)
    }

    /// Archives a product (it no longer sells or lists) or brings it back.
    pub fn set_active(&mut self, id: &ProductId, active: bool) -> Result<Product> {
        let by = self.allow(permission::PRODUCTS_EDIT)?;
        let mut product = self.books.product(id)?.ok_or_else(|| {
            BackOfficeError::Input(format!("product {id} is not in the catalogue"))
        })?;
        product.active = active;
        self.record(&by, &[DomainEvent::ProductSaved(product.clone())])?;
        Ok(product)
    }

    /// Makes the variants of a saved parent for every size × colour typed, each with its own
    /// SKU and in-store barcode, in one step. Variants that exist already are kept as they are.
    pub fn make_variants(
        &mut self,
        parent: &ProductId,
        sizes: &str,
        colours: &str,
    ) -> Result<Vec<Product>> {
        let by = self.allow(permission::PRODUCTS_EDIT)?;
        let parent = self.books.product(parent)?.ok_or_else(|| {
            BackOfficeError::Input("save the product before making its variants".to_owned())
        })?;
        if parent.parent.is_some() {
            return Err(BackOfficeError::Input(
                "a variant cannot have variants of its own; open the main product".to_owned(),
            ));
        }
        let made = variant_matrix(&parent, &axis_values(sizes), &axis_values(colours))?;
        let mut highest = self
            .books
            .highest_barcode_with_prefix(IN_STORE_PREFIX, 13)?;
        let mut events = Vec::new();
        for mut variant in made {
            if self.books.product(&variant.id)?.is_some() {
                continue;
            }
            crate::product_form::check_codes(&variant, &Lookup(&self.books))?;
            let code = next_in_store_barcode(highest.as_deref());
            variant.barcodes = vec![pos_core::id::Barcode::new(code.clone())];
            highest = Some(code);
            events.push(DomainEvent::ProductSaved(variant));
        }
        if events.is_empty() {
            return Err(BackOfficeError::Input(
                "every one of these variants exists already".to_owned(),
            ));
        }
        self.record(&by, &events)?;
        Ok(self.books.variants_of(&parent.id)?)
    }

    /// Reads an import file and checks every row; nothing is changed.
    pub fn preview_import(&self, bytes: &[u8], kind: FileKind) -> Result<ImportPreview> {
        self.allow(permission::PRODUCTS_IMPORT)?;
        Ok(ImportPreview::read(
            bytes,
            kind,
            self.shop.currency,
            &Lookup(&self.books),
        )?)
    }

    /// Applies a previewed file, all rows in one transaction; refused while any row is bad.
    /// Returns how many products were saved.
    pub fn apply_import(&mut self, preview: &ImportPreview) -> Result<usize> {
        let by = self.allow(permission::PRODUCTS_IMPORT)?;
        let bad = preview.bad_rows();
        if bad > 0 {
            return Err(BackOfficeError::Input(format!(
                "{bad} row(s) have mistakes; correct the file and preview it again. Nothing was imported."
            )));
        }
        if preview.rows.is_empty() {
            return Err(BackOfficeError::Import(ImportError::Empty));
        }
        let store = self.shop.id.clone();
        let mut level_error = None;
        let books = &self.books;
        let ids = &mut self.ids;
        let events = preview.events(
            &store,
            &by,
            (self.clock)(),
            |product| {
                books.stock_level(&store, product).unwrap_or_else(|error| {
                    level_error = Some(error);
                    Quantity::ZERO
                })
            },
            || MovementId::new(ids("mv")),
        );
        if let Some(error) = level_error {
            return Err(error.into());
        }
        self.record(&by, &events)?;
        Ok(preview.good_rows())
    }

    // ---- Stock ------------------------------------------------------------------------------

    pub(crate) fn product_for_code(&self, code: &str) -> Result<Product> {
        let code = code.trim();
        if code.is_empty() {
            return Err(BackOfficeError::Input(
                "scan or type a barcode or SKU first".to_owned(),
            ));
        }
        self.books
            .product_by_code(code)?
            .ok_or_else(|| BackOfficeError::Input(format!("no product has the code {code}")))
    }

    fn quantity(text: &str, unit: Unit) -> Result<Quantity> {
        Quantity::parse(&text.trim().replace(',', "."), unit).map_err(|_| {
            BackOfficeError::Input(format!(
                "“{}” is not a quantity (for example 12)",
                text.trim()
            ))
        })
    }

    /// A product's stock per batch.
    pub fn stock_of(&self, code: &str) -> Result<(Product, Vec<BatchLevel>)> {
        self.allow(permission::STOCK_VIEW)?;
        let product = self.product_for_code(code)?;
        let levels = self.books.stock_by_batch(&self.shop.id, &product.id)?;
        Ok((product, levels))
    }

    /// Goods in: `quantity` of the product, with a lot and expiry when the goods have them,
    /// against a purchase order or delivery note `reference` when there is one.
    pub fn receive(
        &mut self,
        code: &str,
        quantity: &str,
        lot: &str,
        expiry: &str,
        reference: &str,
    ) -> Result<StockMovement> {
        let by = self.allow(permission::STOCK_RECEIVE)?;
        let product = self.product_for_code(code)?;
        let quantity = Self::quantity(quantity, product.unit)?;
        if !quantity.value().is_sign_positive() || quantity.is_zero() {
            return Err(BackOfficeError::Input(
                "a goods receipt needs a quantity above zero".to_owned(),
            ));
        }
        // The lot and expiry travel in the journal with the receipt, so the store's other
        // tills and the fleet know them too.
        let batch = self.batch_of(&product, lot, expiry)?;
        let line = pos_core::purchase::ReceivedLine {
            product: product.id.clone(),
            quantity,
            batch,
            movement: MovementId::new((self.ids)("mv")),
        };
        let receipt = self.goods_receipt(None, reference, vec![line], &by);
        let movements = receipt.movements();
        let mut events = vec![DomainEvent::GoodsReceived(receipt)];
        events.extend(movements.iter().cloned().map(DomainEvent::StockMoved));
        self.record(&by, &events)?;
        movements.into_iter().next().ok_or_else(|| {
            BackOfficeError::Input("a goods receipt needs a quantity above zero".to_owned())
        })
    }

    fn movement(
        &mut self,
        product: &Product,
        batch: Option<BatchId>,
        quantity: Quantity,
        reason: MovementReason,
        by: &UserId,
    ) -> StockMovement {
        StockMovement {
            id: MovementId::new((self.ids)("mv")),
            product: product.id.clone(),
            store: self.shop.id.clone(),
            batch,
            quantity,
            reason,
            at: (self.clock)(),
            by: by.clone(),
        }
    }

    /// Stock in or out by hand (`-2` for two broken), with a reason code.
    pub fn adjust(
        &mut self,
        code: &str,
        quantity: &str,
        reason: AdjustReason,
    ) -> Result<StockMovement> {
        let by = self.allow(permission::STOCK_ADJUST)?;
        let product = self.product_for_code(code)?;
        let quantity = Self::quantity(quantity, product.unit)?;
        if quantity.is_zero() {
            return Err(BackOfficeError::Input(
                "an adjustment of zero changes nothing; type how many came in (12) or went out (-2)"
                    .to_owned(),
            ));
        }
        let movement = self.movement(
            &product,
            None,
            quantity,
            MovementReason::Adjustment {
                reason: reason.code().to_owned(),
            },
            &by,
        );
        self.record(&by, &[DomainEvent::StockMoved(movement.clone())])?;
        Ok(movement)
    }

    /// Adds a counted product to the count in progress (counting it again replaces it).
    pub fn count(&mut self, code: &str, counted: &str) -> Result<&[CountLine]> {
        self.allow(permission::STOCK_COUNT)?;
        let product = self.product_for_code(code)?;
        let counted = Self::quantity(counted, product.unit)?;
        if counted.is_negative() {
            return Err(BackOfficeError::Input(
                "a count cannot be below zero".to_owned(),
            ));
        }
        self.count.retain(|line| line.product.id != product.id);
        let expected = self.books.stock_level(&self.shop.id, &product.id)?;
        self.count.push(CountLine {
            difference: counted - expected,
            product,
            expected,
            counted,
        });
        Ok(&self.count)
    }

    /// The count in progress: expected against counted, before anything is posted.
    pub fn count_lines(&self) -> &[CountLine] {
        &self.count
    }

    pub fn clear_count(&mut self) {
        self.count.clear();
    }

    /// Posts the count: a correction for every product whose count differs from the books
    /// as they are now (a sale since counting is taken into account). Returns the corrections.
    pub fn post_count(&mut self) -> Result<Vec<StockMovement>> {
        let by = self.allow(permission::STOCK_COUNT)?;
        if self.count.is_empty() {
            return Err(BackOfficeError::Input(
                "nothing has been counted yet".to_owned(),
            ));
        }
        let mut variances = Vec::with_capacity(self.count.len());
        for line in &self.count {
            let expected = self.books.stock_level(&self.shop.id, &line.product.id)?;
            variances.push(Variance {
                product: line.product.id.clone(),
                batch: None,
                expected,
                counted: line.counted,
                difference: line.counted - expected,
            });
        }
        let ids = &mut self.ids;
        let corrections = post_count(&variances, &self.shop.id, &by, (self.clock)(), || {
            MovementId::new(ids("mv"))
        });
        let events: Vec<DomainEvent> = corrections
            .iter()
            .cloned()
            .map(DomainEvent::StockMoved)
            .collect();
        self.record(&by, &events)?;
        self.count.clear();
        Ok(corrections)
    }

    /// Batches in stock expiring within `days` (already expired ones included), soonest first.
    pub fn expiring(&self, days: &str) -> Result<Vec<ExpiringBatch>> {
        self.allow(permission::STOCK_VIEW)?;
        let days: i64 = days
            .trim()
            .parse()
            .ok()
            .filter(|d| (0..=3650).contains(d))
            .ok_or_else(|| {
                BackOfficeError::Input(format!(
                    "“{}” is not a number of days (0 to 3650)",
                    days.trim()
                ))
            })?;
        let by = self.today().saturating_add(time::Duration::days(days));
        Ok(self.books.expiring_batches(&self.shop.id, by, LIST_ROWS)?)
    }

    /// Writes off what is left of a batch.
    pub fn write_off(&mut self, batch: &ExpiringBatch) -> Result<StockMovement> {
        let by = self.allow(permission::STOCK_WRITE_OFF)?;
        let product = self
            .books
            .product(&batch.product)?
            .ok_or_else(|| BackOfficeError::Input(format!("product {} is gone", batch.product)))?;
        let left = self
            .books
            .stock_by_batch(&self.shop.id, &product.id)?
            .into_iter()
            .find(|l| l.batch.as_ref().is_some_and(|b| b.id == batch.batch))
            .map_or(Quantity::ZERO, |l| l.level);
        if left.value() <= Decimal::ZERO {
            return Err(BackOfficeError::Input(format!(
                "lot {} of {} has no stock left to write off",
                batch.lot, product.name
            )));
        }
        let movement = self.movement(
            &product,
            Some(batch.batch.clone()),
            left.negate(),
            MovementReason::ExpiryWriteOff,
            &by,
        );
        self.record(&by, &[DomainEvent::StockMoved(movement.clone())])?;
        Ok(movement)
    }

    /// Products at or below their threshold, with what to order to last
    /// [`REORDER_COVER_DAYS`] after a [`REORDER_LEAD_DAYS`] delivery at recent sales.
    pub fn reorder(&self) -> Result<Vec<ReorderLine>> {
        self.allow(permission::STOCK_VIEW)?;
        let since = self.now().minus_days(i64::from(REORDER_HISTORY_DAYS));
        let mut lines = Vec::new();
        for low in self.books.low_stock(&self.shop.id, LIST_ROWS)? {
            let sold = self.books.sold_since(&self.shop.id, &low.product, since)?;
            lines.push(ReorderLine {
                order: reorder_quantity(
                    low.level,
                    low.threshold,
                    sold,
                    REORDER_HISTORY_DAYS,
                    REORDER_LEAD_DAYS,
                    REORDER_COVER_DAYS,
                ),
                sku: low.sku,
                name: low.name,
                level: low.level,
                threshold: low.threshold,
                sold_recently: sold,
            });
        }
        Ok(lines)
    }

    // ---- Reports ----------------------------------------------------------------------------

    /// The period of whole shop days typed as `from` and `to` (YYYY-MM-DD or DD.MM.YYYY).
    pub fn period(&self, from: &str, to: &str) -> Result<Period> {
        Ok(Period::new(
            parse_date(from)?,
            parse_date(to)?,
            self.shop.utc_offset,
        )?)
    }

    pub fn report(&self, kind: ReportKind, period: &Period) -> Result<Table> {
        self.allow(permission::REPORTS_VIEW)?;
        let data = self.books.report_data(period, self.shop.currency)?;
        Ok(kind.build(period, &data)?)
    }

    /// Writes a report as `format` to `target`; the file's path or name on success.
    pub fn export(
        &self,
        kind: ReportKind,
        period: &Period,
        format: ExportFormat,
        target: &dyn ExportTarget,
    ) -> Result<PathBuf> {
        self.allow(permission::REPORTS_EXPORT)?;
        let table = self.report(kind, period)?;
        let bytes = format.bytes(&table)?;
        let name = format!(
            "{}-{}-{}.{}",
            kind.file_stem(),
            period.from(),
            period.to(),
            format.extension()
        );
        target
            .write(&name, &bytes)
            .map_err(|error| BackOfficeError::Export {
                place: target.describe(),
                reason: error.to_string(),
            })
    }

    /// Today's figures from the same reports.
    pub fn dashboard(&self) -> Result<Dashboard> {
        self.allow(permission::REPORTS_VIEW)?;
        let today = self.today();
        let period = Period::new(today, today, self.shop.utc_offset)?;
        let data = self.books.report_data(&period, self.shop.currency)?;
        let by_day = ReportKind::SalesByDay.build(&period, &data)?;
        let by_hour = ReportKind::SalesByHour.build(&period, &data)?;
        let by_tender = ReportKind::SalesByTender.build(&period, &data)?;
        let by_product = ReportKind::SalesByProduct.build(&period, &data)?;
        let zero = Money::zero(self.shop.currency);
        let sales = by_day.money_total("Total").unwrap_or(zero);
        let sale_count = count_total(&by_day, "Sales");
        let hours = shares(&by_hour, "Total", Share::OfLargest);
        let payments = shares(&by_tender, "Net", Share::OfSum);
        let quantity = by_product.column("Quantity");
        let total = by_product.column("Total");
        let name = by_product.column("Product");
        let top_products = by_product
            .rows
            .iter()
            .take(5)
            .map(|row| {
                let text = |i: Option<usize>| {
                    i.and_then(|i| row.get(i))
                        .map(Cell::shown)
                        .unwrap_or_default()
                };
                let amount = total
                    .and_then(|i| row.get(i))
                    .and_then(|c| match c {
                        Cell::Money(m) => Some(*m),
                        _ => None,
                    })
                    .unwrap_or(zero);
                (text(name), text(quantity), amount)
            })
            .collect();
        let low_stock = self.books.low_stock(&self.shop.id, LIST_ROWS)?.len() as u64;
        Ok(Dashboard {
            sales,
            sale_count,
            hours,
            payments,
            top_products,
            low_stock,
        })
    }
}

/// "products.view, inventory.view … or users.view": what lets a person in, for the refusal.
fn entry_permissions() -> String {
    match permission::ENTRY.split_last() {
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn count_total(table: &Table, column: &str) -> u64 {
    match table.column(column).and_then(|i| table.totals.get(i)) {
        Some(Cell::Count(count)) => *count,
        _ => 0,
    }
}

enum Share {
    OfLargest,
    OfSum,
}

/// (first column, money in `column`, share for a bar): a bar's length is a drawing, so the
/// exact share in decimals ends as a float only here.
fn shares(table: &Table, column: &str, share: Share) -> Vec<(String, Money, f32)> {
    let Some(index) = table.column(column) else {
        return Vec::new();
    };
    let rows: Vec<(String, Money)> = table
        .rows
        .iter()
        .filter_map(|row| match (row.first(), row.get(index)) {
            (Some(label), Some(Cell::Money(amount))) => Some((label.shown(), *amount)),
            _ => None,
        })
        .collect();
    let base = match share {
        Share::OfLargest => rows
            .iter()
            .map(|(_, m)| m.amount())
            .max()
            .unwrap_or(Decimal::ZERO),
        Share::OfSum => rows.iter().map(|(_, m)| m.amount()).sum(),
    };
    rows.into_iter()
        .map(|(label, amount)| {
            let fraction = if base > Decimal::ZERO {
                (amount.amount() / base)
                    .to_f32()
                    .unwrap_or(0.0)
                    .clamp(0.0, 1.0)
            } else {
                0.0
            };
            (label, amount, fraction)
        })
        .collect()
}

/// A date as typed: `2026-06-30` or `30.06.2026`.
pub fn parse_date(text: &str) -> Result<Date> {
    let text = text.trim();
    let bad = || {
        BackOfficeError::Input(format!(
            "“{text}” is not a date; type it as 2026-06-30 or 30.06.2026"
        ))
    };
    let (year, month, day) = if let Some((d, rest)) = text.split_once('.') {
        let (m, y) = rest.split_once('.').ok_or_else(bad)?;
        (y, m, d)
    } else {
        let mut parts = text.splitn(3, '-');
        let y = parts.next().ok_or_else(bad)?;
        let m = parts.next().ok_or_else(bad)?;
        let d = parts.next().ok_or_else(bad)?;
        (y, m, d)
    };
    let year: i32 = year.parse().map_err(|_| bad())?;
    let month: u8 = month.parse().map_err(|_| bad())?;
    let day: u8 = day.parse().map_err(|_| bad())?;
    let month = time::Month::try_from(month).map_err(|_| bad())?;
    if !(2000..=2100).contains(&year) {
        return Err(bad());
    }
    Date::from_calendar_date(year, month, day).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_both_ways_and_nonsense_is_named() {
        let expected = time::macros::date!(2026 - 06 - 30);
        assert_eq!(parse_date("2026-06-30").unwrap(), expected);
        assert_eq!(parse_date(" 30.06.2026 ").unwrap(), expected);
        assert_eq!(
            parse_date("31.02.2026").unwrap_err().to_string(),
            "“31.02.2026” is not a date; type it as 2026-06-30 or 30.06.2026"
        );
        assert!(parse_date("soon").is_err());
        assert!(parse_date("30.06.26").is_err());
    }
}
