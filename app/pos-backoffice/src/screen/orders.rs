//! The purchase orders and transfers page: orders and transfers copied into the `Orders`
//! global, its callbacks turned into [`BackOffice`](crate::BackOffice) actions. A transfer
//! request is put together here line by line, to a store chosen from the tenant's others by
//! name, and recorded whole when it is made.

use pos_core::catalog::Product;
use pos_core::id::{PurchaseOrderId, StoreId, TransferId};
use pos_core::purchase::{OrderState, OverDelivery, PurchaseOrder};
use pos_core::quantity::Quantity;
use pos_core::transfer::{Transfer, TransferState};
use slint::{ComponentHandle, Model};

use super::{BackOfficeScreen, model, quantity_text, text};
use crate::books::Books;
use crate::export::{Directory, ExportFormat};
use crate::orders::{ArrivalLine, DeliveryLine};
use pos_store::orders::TenantStore;
use pos_ui::{
    AppWindow as Window, OrderLineRow, OrderRow, Orders, StoreChoice, TransferDraftRow,
    TransferLineRow, TransferRow,
};

/// What the page remembers between callbacks.
#[derive(Default)]
pub(super) struct Shown {
    orders: Vec<PurchaseOrderId>,
    open: Option<PurchaseOrder>,
    transfers: Vec<TransferId>,
    open_transfer: Option<Transfer>,
    /// The request being put together: each product once, with how many are asked for.
    transfer_draft: Vec<(Product, Quantity)>,
    /// The tenant's other stores as listed, to ask one of them.
    stores: Vec<StoreId>,
}

fn order_row(order: &PurchaseOrder) -> OrderRow {
    OrderRow {
        id: text(order.id.as_str()),
        vendor: text(order.vendor.as_ref().map_or("–", |v| v.as_str())),
        state: text(order.state.code()),
        lines: text(order.lines.len().to_string()),
        total: text(
            order
                .total()
                .map(|t| t.display_amount())
                .unwrap_or_default(),
        ),
    }
}

impl<B: Books + 'static> BackOfficeScreen<B> {
    pub(super) fn wire_orders(&self, window: &Window) {
        let o = window.global::<Orders>();
        o.on_from_reorder(self.on(Self::orders_from_reorder));
        o.on_add_line(self.on(Self::add_order_line));
        o.on_send(self.on(Self::send_order));
        o.on_cancel(self.on(Self::cancel_order));
        o.on_receive(self.on(Self::receive_order));
        o.on_close(self.on(Self::close_order));
        o.on_add_transfer_line(self.on(Self::add_transfer_line));
        let screen = self.clone();
        o.on_remove_transfer_line(move |row| screen.remove_transfer_line(row));
        o.on_request(self.on(Self::request_transfer));
        o.on_send_transfer(self.on(Self::send_transfer));
        o.on_receive_transfer(self.on(Self::receive_transfer));
        o.on_book_return(self.on(Self::book_return));
        o.on_cancel_transfer(self.on(Self::cancel_transfer));
        o.on_refuse_transfer(self.on(Self::refuse_transfer));
        o.on_close_transfer(self.on(|s| s.show_open_transfer(None)));
        let screen = self.clone();
        o.on_open(move |row| screen.open_order_row(row));
        let screen = self.clone();
        o.on_open_transfer(move |row| screen.open_transfer_row(row));
        let screen = self.clone();
        o.on_export(move |format| screen.export_order(format));
    }

    /// The page opened from the navigation, with fresh lists.
    pub(super) fn show_orders(&self) {
        self.refresh_orders();
        self.refresh_stores();
        self.refresh_transfers();
        self.show_transfer_draft();
    }

    fn refresh_orders(&self) {
        let listed = self.inner.borrow().office.purchase_orders();
        match listed {
            Ok(orders) => {
                let rows = orders.iter().map(order_row).collect();
                self.inner.borrow_mut().shown.orders.orders =
                    orders.into_iter().map(|o| o.id).collect();
                self.with_window(|w| w.global::<Orders>().set_orders(model(rows)));
            }
            Err(error) => self.problem(&error),
        }
        let open = self.inner.borrow().shown.orders.open.clone();
        self.show_open_order(open.as_ref());
    }

    fn show_open_order(&self, order: Option<&PurchaseOrder>) {
        self.with_window(|w| {
            let o = w.global::<Orders>();
            o.set_is_open(order.is_some());
            let Some(order) = order else {
                o.set_lines(model(Vec::new()));
                return;
            };
            o.set_title(text(format!(
                "{} · {}",
                order.id,
                order.vendor.as_ref().map_or("–", |v| v.as_str())
            )));
            o.set_state(text(order.state.code()));
            o.set_can_send(order.state == OrderState::Draft);
            o.set_can_receive(order.state.is_open());
            o.set_can_cancel(!matches!(
                order.state,
                OrderState::Received | OrderState::Cancelled
            ));
            o.set_accept_over(false);
            o.set_lines(model(
                order
                    .lines
                    .iter()
                    .map(|line| OrderLineRow {
                        sku: text(line.sku.as_str()),
                        name: text(line.name.clone()),
                        ordered: text(quantity_text(line.ordered)),
                        cost: text(line.cost.display_amount()),
                        received: text(quantity_text(line.received)),
                        short: text(quantity_text(line.outstanding())),
                        over: text(quantity_text(line.over())),
                        quantity: text(""),
                        lot: text(""),
                        expiry: text(""),
                    })
                    .collect(),
            ));
        });
        self.inner.borrow_mut().shown.orders.open = order.cloned();
    }

    fn open_order_row(&self, row: i32) {
        let id = usize::try_from(row)
            .ok()
            .and_then(|i| self.inner.borrow().shown.orders.orders.get(i).cloned());
        let Some(id) = id else {
            return;
        };
        let found = self.inner.borrow().office.purchase_order(&id);
        match found {
            Ok(order) => self.show_open_order(Some(&order)),
            Err(error) => self.problem(&error),
        }
    }

    fn close_order(&self) {
        self.show_open_order(None);
    }

    /// After an action on the open order: it, the list and a message.
    fn order_done(&self, result: Result<PurchaseOrder, crate::BackOfficeError>, what: &str) {
        match result {
            Ok(order) => {
                self.show_open_order(Some(&order));
                self.refresh_orders();
                self.done(&format!("order {} {what}", order.id));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn orders_from_reorder(&self) {
        let made = self.inner.borrow_mut().office.orders_from_reorder();
        match made {
            Ok(orders) => {
                let first = orders.first().cloned();
                self.show_open_order(first.as_ref());
                self.refresh_orders();
                let lines: usize = orders.iter().map(|o| o.lines.len()).sum();
                let count = match orders.len() {
                    1 => "1 draft order".to_owned(),
                    n => format!("{n} draft orders"),
                };
                self.done(&format!(
                    "{count} made from the reorder report ({lines} lines)"
                ));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn add_order_line(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let o = window.global::<Orders>();
        let draft = self
            .inner
            .borrow()
            .shown
            .orders
            .open
            .as_ref()
            .filter(|order| order.state == OrderState::Draft)
            .map(|order| order.id.clone());
        let saved = self.inner.borrow_mut().office.order_by_hand(
            draft.as_ref(),
            &o.get_vendor(),
            &o.get_code(),
            &o.get_quantity(),
            &o.get_cost(),
        );
        if saved.is_ok() {
            o.set_code(text(""));
            o.set_quantity(text(""));
            o.set_cost(text(""));
        }
        self.order_done(saved, "saved");
    }

    fn open_order_id(&self) -> Option<PurchaseOrderId> {
        self.inner
            .borrow()
            .shown
            .orders
            .open
            .as_ref()
            .map(|o| o.id.clone())
    }

    fn send_order(&self) {
        let Some(id) = self.open_order_id() else {
            return;
        };
        let sent = self.inner.borrow_mut().office.send_order(&id);
        self.order_done(sent, "sent to the vendor");
    }

    fn cancel_order(&self) {
        let Some(id) = self.open_order_id() else {
            return;
        };
        let cancelled = self.inner.borrow_mut().office.cancel_order(&id);
        self.order_done(cancelled, "cancelled");
    }

    fn receive_order(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let Some(order) = self.inner.borrow().shown.orders.open.clone() else {
            return;
        };
        let o = window.global::<Orders>();
        let rows = o.get_lines();
        let delivered: Vec<DeliveryLine> = order
            .lines
            .iter()
            .zip(rows.iter())
            .map(|(line, row)| DeliveryLine {
                product: line.product.clone(),
                quantity: row.quantity.to_string(),
                lot: row.lot.to_string(),
                expiry: row.expiry.to_string(),
            })
            .collect();
        let over = if o.get_accept_over() {
            OverDelivery::Accept
        } else {
            OverDelivery::Refuse
        };
        let received = self.inner.borrow_mut().office.receive_order(
            &order.id,
            &delivered,
            &o.get_reference(),
            over,
        );
        match received {
            Ok((order, outcomes)) => {
                o.set_reference(text(""));
                self.show_open_order(Some(&order));
                self.refresh_orders();
                let short: Vec<String> = outcomes
                    .iter()
                    .filter(|l| !l.short.is_zero())
                    .map(|l| format!("{} {}", quantity_text(l.short), l.name))
                    .collect();
                let over: Vec<String> = outcomes
                    .iter()
                    .filter(|l| !l.over.is_zero())
                    .map(|l| format!("{} {}", quantity_text(l.over), l.name))
                    .collect();
                let mut message = format!("delivery booked against order {}", order.id);
                if !short.is_empty() {
                    message.push_str(&format!("; still to come: {}", short.join(", ")));
                }
                if !over.is_empty() {
                    message.push_str(&format!("; more than ordered: {}", over.join(", ")));
                }
                self.done(&message);
            }
            Err(error) => self.problem(&error),
        }
    }

    fn export_order(&self, format: i32) {
        let Some(id) = self.open_order_id() else {
            return;
        };
        let format = ExportFormat::from_choice(format);
        let folder = self
            .window
            .upgrade()
            .map(|w| w.global::<Orders>().get_folder().to_string())
            .unwrap_or_default();
        let written =
            self.inner
                .borrow()
                .office
                .export_order(&id, format, &Directory::new(folder.trim()));
        match written {
            Ok(path) => self.done(&format!("saved as {}", path.display())),
            Err(error) => self.problem(&error),
        }
    }

    // ---- Transfers --------------------------------------------------------------------------

    /// The tenant's other stores to ask, the one chosen kept when it is still there.
    fn refresh_stores(&self) {
        let listed = self.inner.borrow().office.other_stores();
        match listed {
            Ok(stores) => {
                let chosen = self.chosen_store();
                let rows = stores
                    .iter()
                    .map(|store| StoreChoice {
                        name: text(store.name.clone()),
                    })
                    .collect();
                let position = chosen
                    .and_then(|id| stores.iter().position(|store| store.id == id))
                    .and_then(|i| i32::try_from(i).ok())
                    .unwrap_or(-1);
                self.inner.borrow_mut().shown.orders.stores =
                    stores.into_iter().map(|store| store.id).collect();
                self.with_window(|w| {
                    let o = w.global::<Orders>();
                    o.set_stores(model(rows));
                    o.set_chosen_store(position);
                });
            }
            Err(error) => self.problem(&error),
        }
    }

    /// The store chosen to ask, if any.
    fn chosen_store(&self) -> Option<StoreId> {
        let index = self
            .window
            .upgrade()
            .and_then(|w| usize::try_from(w.global::<Orders>().get_chosen_store()).ok())?;
        self.inner.borrow().shown.orders.stores.get(index).cloned()
    }

    /// The tenant's stores, to name them; none when they cannot be read (ids are shown).
    fn tenant_stores(&self) -> Vec<TenantStore> {
        self.inner
            .borrow()
            .office
            .books()
            .tenant_stores()
            .unwrap_or_default()
    }

    fn refresh_transfers(&self) {
        let listed = self.inner.borrow().office.transfers();
        let ours = self.inner.borrow().office.shop().id.clone();
        let stores = self.tenant_stores();
        match listed {
            Ok(transfers) => {
                let rows = transfers
                    .iter()
                    .map(|t| TransferRow {
                        id: text(t.id.as_str()),
                        direction: text(if t.to == ours { "in" } else { "out" }),
                        other: text(store_name(&stores, t.other_store(&ours))),
                        state: text(t.state.code()),
                        lines: text(t.lines.len().to_string()),
                    })
                    .collect();
                self.inner.borrow_mut().shown.orders.transfers =
                    transfers.into_iter().map(|t| t.id).collect();
                self.with_window(|w| w.global::<Orders>().set_transfers(model(rows)));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn show_open_transfer(&self, transfer: Option<&Transfer>) {
        let ours = self.inner.borrow().office.shop().id.clone();
        let stores = self.tenant_stores();
        let route = transfer.map(|t| {
            format!(
                "{} → {}",
                store_name(&stores, &t.from),
                store_name(&stores, &t.to)
            )
        });
        self.with_window(|w| {
            let o = w.global::<Orders>();
            o.set_transfer_open(transfer.is_some());
            let Some(transfer) = transfer else {
                o.set_transfer_lines(model(Vec::new()));
                return;
            };
            o.set_transfer_title(text(format!("{} · {}", transfer.id, transfer.state.code())));
            o.set_transfer_route(text(route.unwrap_or_default()));
            o.set_transfer_note(text(transfer_note(transfer, &ours)));
            // What this store may do depends on which end it is; whether this person may is
            // checked when they try, and the refusal says why.
            let open = transfer.state == TransferState::Requested;
            o.set_can_send_transfer(open && transfer.from == ours);
            o.set_can_refuse_transfer(open && transfer.from == ours);
            o.set_can_cancel_transfer(open && transfer.to == ours);
            o.set_can_receive_transfer(
                transfer.state == TransferState::Sent && transfer.to == ours,
            );
            o.set_can_book_return(
                transfer.state == TransferState::ReturnSent && transfer.from == ours,
            );
            o.set_refusal(text(""));
            o.set_transfer_lines(model(
                transfer
                    .lines
                    .iter()
                    .map(|line| TransferLineRow {
                        sku: text(line.sku.as_str()),
                        name: text(line.name.clone()),
                        requested: text(quantity_text(line.requested)),
                        sent: text(quantity_text(line.sent_total())),
                        received: text(line.received.map(quantity_text).unwrap_or_default()),
                        refused: text(match (line.refused, line.returned) {
                            (None, _) => String::new(),
                            (Some(refused), None) => quantity_text(refused),
                            (Some(refused), Some(back)) => {
                                format!("{} ({} back)", quantity_text(refused), quantity_text(back))
                            }
                        }),
                        difference: text(line.difference().map(quantity_text).unwrap_or_default()),
                        accepted: text(""),
                        refused_now: text(""),
                        reason: text(""),
                        returned: text(""),
                    })
                    .collect(),
            ));
        });
        self.inner.borrow_mut().shown.orders.open_transfer = transfer.cloned();
    }

    fn open_transfer_row(&self, row: i32) {
        let id = usize::try_from(row)
            .ok()
            .and_then(|i| self.inner.borrow().shown.orders.transfers.get(i).cloned());
        let Some(id) = id else {
            return;
        };
        let found = self.inner.borrow().office.transfer(&id);
        match found {
            Ok(transfer) => self.show_open_transfer(Some(&transfer)),
            Err(error) => self.problem(&error),
        }
    }

    fn transfer_done(&self, result: Result<Transfer, crate::BackOfficeError>, what: &str) {
        match result {
            Ok(transfer) => {
                self.show_open_transfer(Some(&transfer));
                self.refresh_transfers();
                self.done(&format!("transfer {} {what}", transfer.id));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn show_transfer_draft(&self) {
        let rows = self
            .inner
            .borrow()
            .shown
            .orders
            .transfer_draft
            .iter()
            .map(|(product, quantity)| TransferDraftRow {
                name: text(product.display_name()),
                quantity: text(quantity_text(*quantity)),
            })
            .collect();
        self.with_window(|w| w.global::<Orders>().set_transfer_draft(model(rows)));
    }

    /// The product and quantity typed, as a line of the request; a product already on it is
    /// asked for once, with the quantities added.
    fn add_transfer_line(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let o = window.global::<Orders>();
        let line = self
            .inner
            .borrow()
            .office
            .transfer_line(&o.get_transfer_code(), &o.get_transfer_quantity());
        match line {
            Ok((product, quantity)) => {
                let name = product.display_name();
                {
                    let mut inner = self.inner.borrow_mut();
                    let draft = &mut inner.shown.orders.transfer_draft;
                    match draft.iter_mut().find(|(p, _)| p.id == product.id) {
                        Some((_, asked)) => *asked += quantity,
                        None => draft.push((product, quantity)),
                    }
                }
                o.set_transfer_code(text(""));
                o.set_transfer_quantity(text(""));
                self.show_transfer_draft();
                self.done(&format!(
                    "{} × {name} added to the request",
                    quantity_text(quantity)
                ));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn remove_transfer_line(&self, row: i32) {
        if let Ok(index) = usize::try_from(row) {
            let mut inner = self.inner.borrow_mut();
            let draft = &mut inner.shown.orders.transfer_draft;
            if index < draft.len() {
                draft.remove(index);
            }
        }
        self.show_transfer_draft();
    }

    fn request_transfer(&self) {
        let from = self.chosen_store();
        let requested = {
            let mut inner = self.inner.borrow_mut();
            let draft = inner.shown.orders.transfer_draft.clone();
            inner.office.request_transfer(from.as_ref(), &draft)
        };
        if requested.is_ok() {
            self.inner.borrow_mut().shown.orders.transfer_draft.clear();
            self.show_transfer_draft();
        }
        self.transfer_done(requested, "requested");
    }

    fn open_transfer_id(&self) -> Option<TransferId> {
        self.inner
            .borrow()
            .shown
            .orders
            .open_transfer
            .as_ref()
            .map(|t| t.id.clone())
    }

    fn cancel_transfer(&self) {
        let Some(id) = self.open_transfer_id() else {
            return;
        };
        let cancelled = self.inner.borrow_mut().office.cancel_transfer(&id);
        self.transfer_done(cancelled, "cancelled");
    }

    fn refuse_transfer(&self) {
        let Some(id) = self.open_transfer_id() else {
            return;
        };
        let reason = self
            .window
            .upgrade()
            .map(|w| w.global::<Orders>().get_refusal().to_string())
            .unwrap_or_default();
        let refused = self.inner.borrow_mut().office.refuse_transfer(&id, &reason);
        self.transfer_done(refused, "refused");
    }

    fn send_transfer(&self) {
        let Some(id) = self.open_transfer_id() else {
            return;
        };
        let sent = self.inner.borrow_mut().office.send_transfer(&id);
        self.transfer_done(sent, "sent");
    }

    fn receive_transfer(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let Some(transfer) = self.inner.borrow().shown.orders.open_transfer.clone() else {
            return;
        };
        let rows = window.global::<Orders>().get_transfer_lines();
        let typed: Vec<ArrivalLine> = transfer
            .lines
            .iter()
            .zip(rows.iter())
            .map(|(line, row)| ArrivalLine {
                product: line.product.clone(),
                accepted: row.accepted.to_string(),
                refused: row.refused_now.to_string(),
                reason: row.reason.to_string(),
            })
            .collect();
        let received = self
            .inner
            .borrow_mut()
            .office
            .receive_transfer(&transfer.id, &typed);
        let what = match &received {
            Ok(t) if t.state == TransferState::ReturnSent => "received, the rest sent back",
            _ => "received",
        };
        self.transfer_done(received, what);
    }

    fn book_return(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let Some(transfer) = self.inner.borrow().shown.orders.open_transfer.clone() else {
            return;
        };
        let rows = window.global::<Orders>().get_transfer_lines();
        let counted: Vec<(pos_core::id::ProductId, String)> = transfer
            .lines
            .iter()
            .zip(rows.iter())
            .filter(|(line, _)| line.refused.is_some())
            .map(|(line, row)| (line.product.clone(), row.returned.to_string()))
            .collect();
        let booked = self
            .inner
            .borrow_mut()
            .office
            .book_transfer_return(&transfer.id, &counted);
        self.transfer_done(booked, "return booked in");
    }
}

/// A store's name as people know it, or its id when the fleet has not sent it.
fn store_name(stores: &[TenantStore], id: &StoreId) -> String {
    stores
        .iter()
        .find(|store| &store.id == id)
        .map_or_else(|| id.to_string(), |store| store.name.clone())
}

/// What the open transfer's page says beside its lines: why it ended, or what was sent back
/// and why and who books it in.
fn transfer_note(transfer: &Transfer, ours: &StoreId) -> String {
    let sent_back = || {
        transfer
            .lines
            .iter()
            .filter_map(|line| {
                let refused = line.refused?;
                let reason = line.refusal_reason.as_deref().unwrap_or_default();
                Some(format!(
                    "{} × {} ({reason})",
                    quantity_text(refused),
                    line.name
                ))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (&transfer.state, &transfer.reason) {
        (TransferState::Refused, Some(reason)) => format!("Refused: {reason}"),
        (TransferState::Cancelled, _) => "Cancelled by the store that asked".to_owned(),
        (TransferState::ReturnSent, _) if &transfer.from == ours => {
            format!("Sent back: {}. Book them in when they arrive.", sent_back())
        }
        (TransferState::ReturnSent, _) => format!(
            "Sent back: {}. The sending store books them in when they arrive.",
            sent_back()
        ),
        (TransferState::ReturnReceived, _) => format!("Sent back and booked in: {}.", sent_back()),
        _ => String::new(),
    }
}
