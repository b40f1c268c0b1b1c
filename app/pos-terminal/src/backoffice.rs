//! The terminal's door to the back office: the back office over the same encrypted store as
//! the till, in the till's window, signing people in at the PIN gate the service screen
//! shares.
//!
//! Owns only the wiring (store, shop settings, clock, ids); every permission is checked by
//! `pos-backoffice` against the role of whoever signs in.

use std::cell::Cell;
use std::rc::Rc;

use pos_backoffice::{BackOffice, BackOfficeScreen, SharedStore};
use pos_core::clock::Timestamp;
use pos_core::id::DeviceId;
use pos_till::gate::PinGate;
use pos_ui::AppWindow;

use crate::seed::shop_setup;
use crate::terminal::StartError;

/// The back office over `store` (the till's own, when both run), on terminal `device`.
pub fn back_office(
    store: SharedStore,
    device: &DeviceId,
    clock: fn() -> Timestamp,
) -> Result<BackOffice<SharedStore>, StartError> {
    let shop = shop_setup(&store.borrow(), device.clone())?.store;
    let device = device.clone();
    let made = Cell::new(0_u64);
    let ids = move |prefix: &str| {
        made.set(made.get() + 1);
        let now = clock().unix_ms();
        match pos_store::journal::ulid(now) {
            Ok(ulid) => format!("{prefix}-{device}-{ulid}"),
            // Without randomness, the time and this run's count still make the id new.
            Err(_) => format!("{prefix}-{device}-{now}-{}", made.get()),
        }
    };
    Ok(BackOffice::new(store, shop, clock, ids))
}

/// Wires the back office into `window` over `store`; people sign in at `gate`.
pub fn show_back_office(
    window: &AppWindow,
    store: SharedStore,
    device: &DeviceId,
    clock: fn() -> Timestamp,
    gate: Rc<PinGate>,
) -> Result<BackOfficeScreen<SharedStore>, StartError> {
    let office = back_office(store, device, clock)?;
    Ok(BackOfficeScreen::new(window, office, gate))
}
