//! The back office's edge to the store: [`Books`] is what it reads and how it records, and
//! the one implementation is over the terminal's encrypted store, shared with the till on
//! the UI thread (`Rc<RefCell<Store>>`).
//!
//! Every write is [`Books::record`] with domain events (product saved, price changed, stock
//! moved, goods received, purchase orders and transfers, customer saved, role and user saved,
//! PIN reset, loyalty program saved, label layout saved or deleted, store settings saved), so
//! it lands in the journal and syncs.

use std::cell::RefCell;
use std::rc::Rc;

use pos_core::access::{Override, Staff};
use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::event::DomainEvent;
use pos_core::id::{
    CategoryId, CustomerId, LabelLayoutId, ProductId, PurchaseOrderId, StoreId, TransferId, UserId,
};
use pos_core::loyalty::{Customer, LoyaltyProgram, PointsMovement};
use pos_core::money::Currency;
use pos_core::purchase::PurchaseOrder;
use pos_core::quantity::Quantity;
use pos_core::transfer::Transfer;
use pos_reports::{Period, ReportData, ReportError};
use pos_store::inventory::{BatchLevel, ProductFilter, ProductListing};
use pos_store::orders::TenantStore;
use pos_store::read::{ExpiringBatch, LowStock, SaleSummary};
use pos_store::{Store, StoreError};
use time::Date;

use crate::product_form::CatalogueLookup;

/// Reads and writes of the back office, over the store.
pub trait Books {
    fn product_list(
        &self,
        store: &StoreId,
        filter: &ProductFilter,
        limit: u32,
    ) -> Result<Vec<ProductListing>, StoreError>;
    fn product(&self, id: &ProductId) -> Result<Option<Product>, StoreError>;
    fn product_by_code(&self, code: &str) -> Result<Option<Product>, StoreError>;
    fn variants_of(&self, parent: &ProductId) -> Result<Vec<Product>, StoreError>;
    fn sku_owner(&self, sku: &str) -> Result<Option<ProductId>, StoreError>;
    fn barcode_owner(&self, code: &str) -> Result<Option<ProductId>, StoreError>;
    fn highest_barcode_with_prefix(
        &self,
        prefix: &str,
        length: u32,
    ) -> Result<Option<String>, StoreError>;
    fn categories(&self) -> Result<Vec<(CategoryId, String)>, StoreError>;
    fn stock_level(&self, store: &StoreId, product: &ProductId) -> Result<Quantity, StoreError>;
    fn stock_by_batch(
        &self,
        store: &StoreId,
        product: &ProductId,
    ) -> Result<Vec<BatchLevel>, StoreError>;
    fn expiring_batches(
        &self,
        store: &StoreId,
        by: Date,
        limit: u32,
    ) -> Result<Vec<ExpiringBatch>, StoreError>;
    fn low_stock(&self, store: &StoreId, limit: u32) -> Result<Vec<LowStock>, StoreError>;
    fn sold_since(
        &self,
        store: &StoreId,
        product: &ProductId,
        since: Timestamp,
    ) -> Result<Quantity, StoreError>;
    fn report_data(&self, period: &Period, currency: Currency) -> Result<ReportData, ReportError>;
    /// Customers by name, or those whose name, card or phone has `text`, with their points.
    fn customers(&self, text: &str, limit: u32) -> Result<Vec<(Customer, i64)>, StoreError>;
    fn customer(&self, id: &CustomerId) -> Result<Option<(Customer, i64)>, StoreError>;
    fn customer_by_card(&self, card: &str) -> Result<Option<(Customer, i64)>, StoreError>;
    /// A customer's sales, newest first.
    fn customer_sales(&self, id: &CustomerId, limit: u32) -> Result<Vec<SaleSummary>, StoreError>;
    /// A customer's points movements, newest first.
    fn points_ledger(&self, id: &CustomerId, limit: u32)
    -> Result<Vec<PointsMovement>, StoreError>;
    fn loyalty_program(&self) -> Result<Option<LoyaltyProgram>, StoreError>;
    /// The shop's settings as saved.
    fn store_settings(&self) -> Result<Option<pos_core::tenant::Store>, StoreError>;
    /// What the tenant switched off for all its stores.
    fn tenant_features(&self) -> Result<pos_core::access::Features, StoreError>;
    /// Whether the store has recorded any sale.
    fn has_sales(&self) -> Result<bool, StoreError>;
    /// Everyone on the staff list, retired people too, and every role.
    fn staff(&self) -> Result<Staff, StoreError>;
    /// Manager overrides recorded since `since`, oldest first.
    fn overrides_since(&self, since: Timestamp) -> Result<Vec<Override>, StoreError>;
    /// The saved label layouts by name: (id, name, the label driver's JSON).
    fn label_layouts(&self) -> Result<Vec<(LabelLayoutId, String, String)>, StoreError>;
    fn purchase_orders(
        &self,
        store: &StoreId,
        limit: u32,
    ) -> Result<Vec<PurchaseOrder>, StoreError>;
    fn purchase_order(&self, id: &PurchaseOrderId) -> Result<Option<PurchaseOrder>, StoreError>;
    /// Transfers from or to `store`, unfinished ones first.
    fn transfers(&self, store: &StoreId, limit: u32) -> Result<Vec<Transfer>, StoreError>;
    fn transfer(&self, id: &TransferId) -> Result<Option<Transfer>, StoreError>;
    /// The tenant's stores as the fleet sent them, by name (this one among them).
    fn tenant_stores(&self) -> Result<Vec<TenantStore>, StoreError>;
    /// Journals `events` and applies them, all or nothing.
    fn record(
        &self,
        actor: &UserId,
        now: Timestamp,
        events: &[DomainEvent],
    ) -> Result<(), StoreError>;
}

/// The terminal's store, shared with the till on the UI thread.
pub type SharedStore = Rc<RefCell<Store>>;

impl Books for SharedStore {
    fn product_list(
        &self,
        store: &StoreId,
        filter: &ProductFilter,
        limit: u32,
    ) -> Result<Vec<ProductListing>, StoreError> {
        self.borrow().product_list(store, filter, limit)
    }

    fn product(&self, id: &ProductId) -> Result<Option<Product>, StoreError> {
        self.borrow().product(id)
    }

    fn product_by_code(&self, code: &str) -> Result<Option<Product>, StoreError> {
        self.borrow().product_by_code(code)
    }

    fn variants_of(&self, parent: &ProductId) -> Result<Vec<Product>, StoreError> {
        self.borrow().variants_of(parent)
    }

    fn sku_owner(&self, sku: &str) -> Result<Option<ProductId>, StoreError> {
        self.borrow().sku_owner(sku)
    }

    fn barcode_owner(&self, code: &str) -> Result<Option<ProductId>, StoreError> {
        self.borrow().barcode_owner(code)
    }

    fn highest_barcode_with_prefix(
        &self,
        prefix: &str,
        length: u32,
    ) -> Result<Option<String>, StoreError> {
        self.borrow().highest_barcode_with_prefix(prefix, length)
    }

    fn categories(&self) -> Result<Vec<(CategoryId, String)>, StoreError> {
        self.borrow().categories()
    }

    fn stock_level(&self, store: &StoreId, product: &ProductId) -> Result<Quantity, StoreError> {
        self.borrow().stock_level(store, product)
    }

    fn stock_by_batch(
        &self,
        store: &StoreId,
        product: &ProductId,
    ) -> Result<Vec<BatchLevel>, StoreError> {
        self.borrow().stock_by_batch(store, product)
    }

    fn expiring_batches(
        &self,
        store: &StoreId,
        by: Date,
        limit: u32,
    ) -> Result<Vec<ExpiringBatch>, StoreError> {
        self.borrow().expiring_batches(store, by, limit)
    }

    fn low_stock(&self, store: &StoreId, limit: u32) -> Result<Vec<LowStock>, StoreError> {
        self.borrow().low_stock(store, limit)
    }

    fn sold_since(
        &self,
        store: &StoreId,
        product: &ProductId,
        since: Timestamp,
    ) -> Result<Quantity, StoreError> {
        self.borrow().sold_since(store, product, since)
    }

    fn report_data(&self, period: &Period, currency: Currency) -> Result<ReportData, ReportError> {
        pos_reports::load::load(&self.borrow(), period, currency)
    }

    fn customers(&self, text: &str, limit: u32) -> Result<Vec<(Customer, i64)>, StoreError> {
        self.borrow().customer_list(text, limit)
    }

    fn customer(&self, id: &CustomerId) -> Result<Option<(Customer, i64)>, StoreError> {
        self.borrow().customer(id)
    }

    fn customer_by_card(&self, card: &str) -> Result<Option<(Customer, i64)>, StoreError> {
        self.borrow().customer_by_card(card)
    }

    fn customer_sales(&self, id: &CustomerId, limit: u32) -> Result<Vec<SaleSummary>, StoreError> {
        self.borrow().customer_history(id, limit)
    }

    fn points_ledger(
        &self,
        id: &CustomerId,
        limit: u32,
    ) -> Result<Vec<PointsMovement>, StoreError> {
        self.borrow().points_ledger(id, limit)
    }

    fn loyalty_program(&self) -> Result<Option<LoyaltyProgram>, StoreError> {
        self.borrow().loyalty_program()
    }

    fn store_settings(&self) -> Result<Option<pos_core::tenant::Store>, StoreError> {
        self.borrow().store_settings()
    }

    fn tenant_features(&self) -> Result<pos_core::access::Features, StoreError> {
        self.borrow().tenant_features()
    }

    fn has_sales(&self) -> Result<bool, StoreError> {
        self.borrow().has_sales()
    }

    fn staff(&self) -> Result<Staff, StoreError> {
        let store = self.borrow();
        Ok(Staff {
            users: store.staff()?,
            roles: store.roles()?,
        })
    }

    fn overrides_since(&self, since: Timestamp) -> Result<Vec<Override>, StoreError> {
        let entries = self
            .borrow()
            .journal_events_since("override_approved", since)?;
        let mut overrides = Vec::with_capacity(entries.len());
        for entry in entries {
            if let DomainEvent::OverrideApproved(approval) = entry.event()? {
                overrides.push(approval);
            }
        }
        Ok(overrides)
    }

    fn label_layouts(&self) -> Result<Vec<(LabelLayoutId, String, String)>, StoreError> {
        self.borrow().label_layouts()
    }

    fn purchase_orders(
        &self,
        store: &StoreId,
        limit: u32,
    ) -> Result<Vec<PurchaseOrder>, StoreError> {
        self.borrow().purchase_orders(store, limit)
    }

    fn purchase_order(&self, id: &PurchaseOrderId) -> Result<Option<PurchaseOrder>, StoreError> {
        self.borrow().purchase_order(id)
    }

    fn transfers(&self, store: &StoreId, limit: u32) -> Result<Vec<Transfer>, StoreError> {
        self.borrow().transfers(store, limit)
    }

    fn transfer(&self, id: &TransferId) -> Result<Option<Transfer>, StoreError> {
        self.borrow().transfer(id)
    }

    fn tenant_stores(&self) -> Result<Vec<TenantStore>, StoreError> {
        self.borrow().tenant_stores()
    }

    fn record(
        &self,
        actor: &UserId,
        now: Timestamp,
        events: &[DomainEvent],
    ) -> Result<(), StoreError> {
        self.borrow_mut().record(actor, now, events).map(|_| ())
    }
}

/// The catalogue checks over [`Books`]; a failed read counts as "nobody", and the store's
/// own constraints still refuse a real clash when the product is saved.
pub(crate) struct Lookup<'a, B: Books>(pub &'a B);

impl<B: Books> CatalogueLookup for Lookup<'_, B> {
    fn sku_owner(&self, sku: &str) -> Option<ProductId> {
        self.0.sku_owner(sku).ok().flatten()
    }

    fn barcode_owner(&self, code: &str) -> Option<ProductId> {
        self.0.barcode_owner(code).ok().flatten()
    }

    fn product(&self, id: &ProductId) -> Option<Product> {
        self.0.product(id).ok().flatten()
    }
}
