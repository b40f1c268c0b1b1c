//! Purchase orders, goods receipts against them, and transfers between stores in the back
//! office: requested from another store picked by name, sent, received with part refused and
//! sent back, and the return booked in.
//!
//! The rules are `pos-core`'s (`purchase` for orders and receipts, `transfer` for transfers,
//! `stock::pick_first_expiry` for which lots leave); this module reads what was typed, asks
//! the books, and records each step as events in one journal transaction: a receipt is a
//! `goods_received` event with every line's lot and expiry, its `stock_moved` events and the
//! order as it now is.

use std::path::PathBuf;

use pos_core::catalog::Product;
use pos_core::event::DomainEvent;
use pos_core::id::{
    BatchId, GoodsReceiptId, MovementId, ProductId, PurchaseOrderId, StoreId, TransferId, VendorId,
};
use pos_core::money::Money;
use pos_core::purchase::{
    GoodsReceipt, LineOutcome, OrderLine, OverDelivery, PurchaseOrder, ReceivedLine,
    lines_by_vendor,
};
use pos_core::quantity::Quantity;
use pos_core::stock::{Batch, pick_first_expiry};
use pos_core::transfer::{Arrival, SentLot, Transfer, TransferState};
use pos_reports::{Cell, Column, ColumnKind, Table};
use pos_store::orders::TenantStore;

use crate::books::Books;
use crate::export::{ExportFormat, ExportTarget};
use crate::office::{BackOffice, BackOfficeError, LIST_ROWS, parse_date, permission};

type Result<T> = std::result::Result<T, BackOfficeError>;

/// One line of a delivery as typed at the screen: how many came, and the lot and expiry
/// printed on the goods (both may be empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryLine {
    pub product: ProductId,
    pub quantity: String,
    pub lot: String,
    pub expiry: String,
}

impl<B: Books> BackOffice<B> {
    // ---- Purchase orders --------------------------------------------------------------------

    /// The store's orders, open ones first.
    pub fn purchase_orders(&self) -> Result<Vec<PurchaseOrder>> {
        self.allow(permission::STOCK_VIEW)?;
        Ok(self.books().purchase_orders(&self.shop().id, LIST_ROWS)?)
    }

    pub fn purchase_order(&self, id: &PurchaseOrderId) -> Result<PurchaseOrder> {
        self.allow(permission::STOCK_VIEW)?;
        self.books()
            .purchase_order(id)?
            .ok_or_else(|| BackOfficeError::Input(format!("there is no purchase order {id}")))
    }

    /// The reorder report made into draft orders in one step: one per vendor, each product
    /// at what the report says to order and at its cost.
    pub fn orders_from_reorder(&mut self) -> Result<Vec<PurchaseOrder>> {
        let by = self.allow(permission::ORDERS)?;
        let mut wanted: Vec<(Product, Quantity)> = Vec::new();
        for line in self.reorder()? {
            if let Some(product) = self.books().product_by_code(line.sku.as_str())? {
                wanted.push((product, line.order));
            }
        }
        let by_vendor = lines_by_vendor(&wanted);
        if by_vendor.is_empty() {
            return Err(BackOfficeError::Input(
                "nothing needs ordering: every product is above its threshold".to_owned(),
            ));
        }
        let mut orders = Vec::with_capacity(by_vendor.len());
        for (vendor, lines) in by_vendor {
            let id = PurchaseOrderId::new(self.new_id("po"));
            orders.push(PurchaseOrder::draft(
                id,
                self.shop().id.clone(),
                vendor,
                lines,
                self.now(),
                by.clone(),
            )?);
        }
        let events: Vec<DomainEvent> = orders
            .iter()
            .cloned()
            .map(DomainEvent::PurchaseOrderSaved)
            .collect();
        self.record(&by, &events)?;
        Ok(orders)
    }

    /// A draft by hand: `quantity` of the product with `code` from `vendor` (empty for none),
    /// at `cost` each (empty for the product's cost). With `order`, the line is added to that
    /// draft instead.
    pub fn order_by_hand(
        &mut self,
        order: Option<&PurchaseOrderId>,
        vendor: &str,
        code: &str,
        quantity: &str,
        cost: &str,
    ) -> Result<PurchaseOrder> {
        let by = self.allow(permission::ORDERS)?;
        let product = self.product_for_code(code)?;
        let quantity = self.typed_quantity(quantity, &product)?;
        let cost = match cost.trim() {
            "" => product.cost,
            text => Money::parse(&text.replace(',', "."), self.shop().currency).map_err(|_| {
                BackOfficeError::Input(format!("“{text}” is not an amount (for example 1.25)"))
            })?,
        };
        let line = OrderLine::new(&product, quantity, cost);
        let now = self.now();
        let order = match order {
            Some(id) => {
                let mut order = self.purchase_order(id)?;
                let mut lines = order.lines.clone();
                lines.push(line);
                order.edit(lines, now)?;
                order
            }
            None => {
                let vendor = Some(vendor.trim())
                    .filter(|v| !v.is_empty())
                    .map(VendorId::new)
                    .or_else(|| product.vendor.clone());
                let id = PurchaseOrderId::new(self.new_id("po"));
                PurchaseOrder::draft(
                    id,
                    self.shop().id.clone(),
                    vendor,
                    vec![line],
                    now,
                    by.clone(),
                )?
            }
        };
        self.record(&by, &[DomainEvent::PurchaseOrderSaved(order.clone())])?;
        Ok(order)
    }

    /// The draft goes to the vendor.
    pub fn send_order(&mut self, id: &PurchaseOrderId) -> Result<PurchaseOrder> {
        let by = self.allow(permission::ORDERS)?;
        let mut order = self.purchase_order(id)?;
        order.send(self.now())?;
        self.record(&by, &[DomainEvent::PurchaseOrderSaved(order.clone())])?;
        Ok(order)
    }

    pub fn cancel_order(&mut self, id: &PurchaseOrderId) -> Result<PurchaseOrder> {
        let by = self.allow(permission::ORDERS)?;
        let mut order = self.purchase_order(id)?;
        order.cancel(self.now())?;
        self.record(&by, &[DomainEvent::PurchaseOrderSaved(order.clone())])?;
        Ok(order)
    }

    /// Goods in against an order: some or all lines, each with its lot and expiry. More than
    /// ordered is refused unless `over_delivery` accepts it. Returns each line's outcome
    /// (what is still short, what came over).
    pub fn receive_order(
        &mut self,
        id: &PurchaseOrderId,
        delivered: &[DeliveryLine],
        reference: &str,
        over_delivery: OverDelivery,
    ) -> Result<(PurchaseOrder, Vec<LineOutcome>)> {
        let by = self.allow(permission::STOCK_RECEIVE)?;
        let order = self.purchase_order(id)?;
        let mut typed: Vec<(ProductId, Quantity, Option<Batch>)> = Vec::new();
        for line in delivered {
            if line.quantity.trim().is_empty() {
                continue;
            }
            let product = self.books().product(&line.product)?.ok_or_else(|| {
                BackOfficeError::Input(format!("product {} is gone", line.product))
            })?;
            let quantity = self.typed_quantity(&line.quantity, &product)?;
            let batch = self.batch_of(&product, &line.lot, &line.expiry)?;
            typed.push((product.id, quantity, batch));
        }
        let received: Vec<(ProductId, Quantity)> =
            typed.iter().map(|(p, q, _)| (p.clone(), *q)).collect();
        let (order, outcomes) = order.receive(&received, over_delivery, self.now())?;
        let lines = typed
            .into_iter()
            .map(|(product, quantity, batch)| ReceivedLine {
                product,
                quantity,
                batch,
                movement: MovementId::new(self.new_id("mv")),
            })
            .collect();
        let receipt = self.goods_receipt(Some(order.id.clone()), reference, lines, &by);
        let mut events = vec![DomainEvent::GoodsReceived(receipt.clone())];
        events.extend(receipt.movements().into_iter().map(DomainEvent::StockMoved));
        events.push(DomainEvent::PurchaseOrderSaved(order.clone()));
        self.record(&by, &events)?;
        Ok((order, outcomes))
    }

    pub(crate) fn goods_receipt(
        &mut self,
        order: Option<PurchaseOrderId>,
        reference: &str,
        lines: Vec<ReceivedLine>,
        by: &pos_core::id::UserId,
    ) -> GoodsReceipt {
        GoodsReceipt {
            id: GoodsReceiptId::new(self.new_id("gr")),
            store: self.shop().id.clone(),
            order,
            reference: Some(reference.trim().to_owned()).filter(|r| !r.is_empty()),
            lines,
            at: self.now(),
            by: by.clone(),
        }
    }

    /// The lot typed for a delivery line, or none when neither lot nor expiry was typed.
    pub(crate) fn batch_of(
        &mut self,
        product: &Product,
        lot: &str,
        expiry: &str,
    ) -> Result<Option<Batch>> {
        let expiry = match expiry.trim() {
            "" => None,
            text => Some(parse_date(text)?),
        };
        let lot = lot.trim();
        if lot.is_empty() && expiry.is_none() {
            return Ok(None);
        }
        Ok(Some(Batch {
            id: BatchId::new(self.new_id("batch")),
            product: product.id.clone(),
            lot: if lot.is_empty() {
                expiry.map(|d| d.to_string()).unwrap_or_default()
            } else {
                lot.to_owned()
            },
            expiry,
        }))
    }

    fn typed_quantity(&self, text: &str, product: &Product) -> Result<Quantity> {
        let quantity =
            Quantity::parse(&text.trim().replace(',', "."), product.unit).map_err(|_| {
                BackOfficeError::Input(format!(
                    "“{}” is not a quantity of {} (for example 12)",
                    text.trim(),
                    product.display_name()
                ))
            })?;
        if quantity.is_negative() {
            return Err(BackOfficeError::Input(format!(
                "a quantity cannot be below zero ({}: {quantity})",
                product.display_name()
            )));
        }
        Ok(quantity)
    }

    /// An order as a table: for printing, a PDF to send the vendor, or a spreadsheet.
    pub fn order_table(&self, id: &PurchaseOrderId) -> Result<Table> {
        let order = self.purchase_order(id)?;
        let currency = order
            .lines
            .first()
            .map_or(self.shop().currency, |l| l.cost.currency());
        let rows = order
            .lines
            .iter()
            .map(|line| {
                vec![
                    Cell::text(line.sku.as_str()),
                    Cell::text(line.name.clone()),
                    Cell::Quantity(line.ordered.value()),
                    Cell::Money(line.cost),
                    Cell::Money(line.amount()),
                    Cell::Quantity(line.received.value()),
                ]
            })
            .collect();
        let vendor = order
            .vendor
            .as_ref()
            .map_or_else(|| "no vendor".to_owned(), |v| v.to_string());
        Ok(Table::summed(
            &format!("Purchase order {} to {vendor}", order.id),
            format!(
                "{} · {} · {}",
                self.shop().name,
                order.created_at.local(self.shop().utc_offset).date,
                order.state.code()
            ),
            currency,
            vec![
                Column::new("SKU", ColumnKind::Text),
                Column::new("Product", ColumnKind::Text),
                Column::new("Ordered", ColumnKind::Quantity),
                Column::new("Cost", ColumnKind::Money),
                Column::new("Amount", ColumnKind::Money),
                Column::new("Received", ColumnKind::Quantity),
            ],
            rows,
            false,
        )?)
    }

    /// Writes an order as `format` to `target` (a USB stick): the file's path.
    pub fn export_order(
        &self,
        id: &PurchaseOrderId,
        format: ExportFormat,
        target: &dyn ExportTarget,
    ) -> Result<PathBuf> {
        self.allow(permission::ORDERS)?;
        let table = self.order_table(id)?;
        let bytes = format.bytes(&table)?;
        let name = format!("purchase-order-{id}.{}", format.extension());
        target
            .write(&name, &bytes)
            .map_err(|error| BackOfficeError::Export {
                place: target.describe(),
                reason: error.to_string(),
            })
    }

    // ---- Transfers --------------------------------------------------------------------------

    /// Transfers from and to this store, unfinished ones first.
    pub fn transfers(&self) -> Result<Vec<Transfer>> {
        self.allow(permission::STOCK_VIEW)?;
        Ok(self.books().transfers(&self.shop().id, LIST_ROWS)?)
    }

    /// One transfer, as the list opens it.
    pub fn transfer(&self, id: &TransferId) -> Result<Transfer> {
        self.allow(permission::STOCK_VIEW)?;
        self.stored_transfer(id)
    }

    /// A transfer an action of this module works on, its own permission already checked.
    fn stored_transfer(&self, id: &TransferId) -> Result<Transfer> {
        self.books()
            .transfer(id)?
            .ok_or_else(|| BackOfficeError::Input(format!("there is no transfer {id}")))
    }

    /// A line for a transfer request, as typed: the product with `code` and a quantity of
    /// it above zero. Nothing is recorded until the request is made.
    pub fn transfer_line(&self, code: &str, quantity: &str) -> Result<(Product, Quantity)> {
        self.allow(permission::TRANSFER)?;
        let product = self.product_for_code(code)?;
        let quantity = self.typed_quantity(quantity, &product)?;
        if quantity.is_zero() {
            return Err(pos_core::transfer::TransferError::QuantityNotPositive {
                name: product.display_name(),
                quantity,
            }
            .into());
        }
        Ok((product, quantity))
    }

    /// The tenant's other stores, by name: the ones a transfer can ask. The fleet sends the
    /// list down; a terminal that has not synced yet knows none.
    pub fn other_stores(&self) -> Result<Vec<TenantStore>> {
        self.allow(permission::STOCK_VIEW)?;
        let ours = &self.shop().id;
        Ok(self
            .books()
            .tenant_stores()?
            .into_iter()
            .filter(|store| &store.id != ours)
            .collect())
    }

    /// This store asks the store `from`, one of [`BackOffice::other_stores`], for the
    /// `wanted` goods, one line per product. The fleet passes the request on.
    pub fn request_transfer(
        &mut self,
        from: Option<&StoreId>,
        wanted: &[(Product, Quantity)],
    ) -> Result<Transfer> {
        let by = self.allow(permission::TRANSFER)?;
        let from = from.ok_or(pos_core::transfer::TransferError::NoStore)?;
        if from == &self.shop().id {
            return Err(pos_core::transfer::TransferError::SameStore(from.clone()).into());
        }
        if !self.other_stores()?.iter().any(|store| &store.id == from) {
            return Err(BackOfficeError::Input(format!(
                "store {from} is not one of the tenant's stores this terminal knows; \
                 choose one from the list"
            )));
        }
        let transfer = Transfer::request(
            TransferId::new(self.new_id("tr")),
            from.clone(),
            self.shop().id.clone(),
            wanted,
            self.now(),
            by.clone(),
        )?;
        self.record(&by, &[DomainEvent::TransferRequested(transfer.clone())])?;
        Ok(transfer)
    }

    /// This store withdraws a request it made, before the other store sent anything.
    pub fn cancel_transfer(&mut self, id: &TransferId) -> Result<Transfer> {
        let by = self.allow(permission::TRANSFER)?;
        let mut transfer = self.stored_transfer(id)?;
        transfer.cancel(&self.shop().id, self.now())?;
        self.record(&by, &[DomainEvent::TransferCancelled(transfer.clone())])?;
        Ok(transfer)
    }

    /// This store turns down another's request, saying why; nothing leaves its stock.
    pub fn refuse_transfer(&mut self, id: &TransferId, reason: &str) -> Result<Transfer> {
        let by = self.allow(permission::TRANSFER)?;
        let mut transfer = self.stored_transfer(id)?;
        transfer.refuse(&self.shop().id, reason, self.now())?;
        self.record(&by, &[DomainEvent::TransferRefused(transfer.clone())])?;
        Ok(transfer)
    }

    /// This store sends what another asked for: each line as requested, taken from its lots
    /// first expiry first. The stock goes out now.
    pub fn send_transfer(&mut self, id: &TransferId) -> Result<Transfer> {
        let by = self.allow(permission::TRANSFER)?;
        let mut transfer = self.stored_transfer(id)?;
        let mut sent = Vec::with_capacity(transfer.lines.len());
        for line in &transfer.lines {
            let in_stock: Vec<(Batch, Quantity)> = self
                .books()
                .stock_by_batch(&self.shop().id, &line.product)?
                .into_iter()
                .filter_map(|level| level.batch.map(|b| (b, level.level)))
                .collect();
            let lots = pick_first_expiry(&in_stock, line.requested)
                .into_iter()
                .map(|(batch, quantity)| SentLot {
                    batch: batch.and_then(|id| {
                        in_stock
                            .iter()
                            .find(|(b, _)| b.id == id)
                            .map(|(b, _)| b.clone())
                    }),
                    quantity,
                })
                .collect();
            sent.push((line.product.clone(), lots));
        }
        transfer.send(&self.shop().id, sent, self.now())?;
        let out = transfer.out_movements(&by, || MovementId::new(self.new_id("mv")));
        let mut events = vec![DomainEvent::TransferSent(transfer.clone())];
        events.extend(out.into_iter().map(DomainEvent::StockMoved));
        self.record(&by, &events)?;
        Ok(transfer)
    }

    /// This store takes in a transfer sent to it, line by line as typed: what it accepts
    /// (empty: what was sent, less what is refused) comes into its stock now, in the lots it
    /// was sent from; what it refuses, with a reason, goes back to the sending store.
    /// Differences stay on the transfer.
    pub fn receive_transfer(&mut self, id: &TransferId, typed: &[ArrivalLine]) -> Result<Transfer> {
        let by = self.allow(permission::TRANSFER)?;
        let mut transfer = self.stored_transfer(id)?;
        let mut arrivals = Vec::new();
        for line in typed {
            if [&line.accepted, &line.refused, &line.reason]
                .iter()
                .all(|text| text.trim().is_empty())
            {
                continue;
            }
            let product = self.transfer_product(&line.product)?;
            let refused = match line.refused.trim() {
                "" => Quantity::ZERO,
                text => self.typed_quantity(text, &product)?,
            };
            let sent = transfer
                .lines
                .iter()
                .find(|l| l.product == product.id)
                .map_or(Quantity::ZERO, |l| l.sent_total());
            let accepted = match line.accepted.trim() {
                "" => (sent - refused).max(Quantity::ZERO),
                text => self.typed_quantity(text, &product)?,
            };
            arrivals.push(Arrival {
                product: product.id.clone(),
                accepted,
                refused,
                reason: line.reason.clone(),
            });
        }
        transfer.receive_with_returns(&self.shop().id, &arrivals, self.now())?;
        let into = transfer.in_movements(&by, || MovementId::new(self.new_id("mv")));
        let step = if transfer.state == TransferState::ReturnSent {
            DomainEvent::TransferReturnSent(transfer.clone())
        } else {
            DomainEvent::TransferReceived(transfer.clone())
        };
        let mut events = vec![step];
        events.extend(into.into_iter().map(DomainEvent::StockMoved));
        self.record(&by, &events)?;
        Ok(transfer)
    }

    /// This store books in what the other store refused and sent back: `counted` per product
    /// as typed (empty: all that was refused). The stock comes back now, into the lots it
    /// left from.
    pub fn book_transfer_return(
        &mut self,
        id: &TransferId,
        counted: &[(ProductId, String)],
    ) -> Result<Transfer> {
        let by = self.allow(permission::TRANSFER)?;
        let mut transfer = self.stored_transfer(id)?;
        let mut quantities = Vec::new();
        for (product_id, text) in counted {
            if text.trim().is_empty() {
                continue;
            }
            let product = self.transfer_product(product_id)?;
            quantities.push((product.id.clone(), self.typed_quantity(text, &product)?));
        }
        transfer.book_return(&self.shop().id, &quantities, self.now())?;
        let back = transfer.return_movements(&by, || MovementId::new(self.new_id("mv")));
        let mut events = vec![DomainEvent::TransferReturnReceived(transfer.clone())];
        events.extend(back.into_iter().map(DomainEvent::StockMoved));
        self.record(&by, &events)?;
        Ok(transfer)
    }

    fn transfer_product(&self, id: &ProductId) -> Result<Product> {
        self.books()
            .product(id)?
            .ok_or_else(|| BackOfficeError::Input(format!("product {id} is not in the catalogue")))
    }
}

/// One line of a transfer as typed on arrival: how many are taken in, how many are refused
/// and why (each may be empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArrivalLine {
    pub product: ProductId,
    pub accepted: String,
    pub refused: String,
    pub reason: String,
}

/// Bad orders and transfers are input mistakes, told as they are.
impl From<pos_core::purchase::PurchaseError> for BackOfficeError {
    fn from(error: pos_core::purchase::PurchaseError) -> BackOfficeError {
        BackOfficeError::Input(error.to_string())
    }
}

impl From<pos_core::transfer::TransferError> for BackOfficeError {
    fn from(error: pos_core::transfer::TransferError) -> BackOfficeError {
        BackOfficeError::Input(error.to_string())
    }
}
