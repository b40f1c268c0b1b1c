//! The terminal's door to the back office: the back office over the same encrypted store as
//! the till, signing people in with the PINs the till checks, and `pos-terminal back-office`
//! opening it on its own screen.
//!
//! Owns only the wiring (store, shop settings, clock, ids); every permission is checked by
//! `pos-backoffice` against the role of whoever signs in.

use std::cell::Cell;
use std::rc::Rc;

use pos_backoffice::{BackOffice, BackOfficeScreen, BackOfficeWindow, SharedStore};
use pos_core::clock::Timestamp;
use pos_core::id::DeviceId;
use pos_store::Store;
use slint::ComponentHandle;

use crate::ports::StoreStaff;
use crate::screen::ScreenError;
use crate::seed::{GENERATED_PRODUCTS, seed_demo_shop, shop_setup};
use crate::terminal::{DataDir, StartError};

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

/// Shows the back office in `window` over `store`; people sign in with their till PIN.
pub fn show_back_office(
    window: &BackOfficeWindow,
    store: SharedStore,
    device: &DeviceId,
    clock: fn() -> Timestamp,
) -> Result<BackOfficeScreen<SharedStore>, StartError> {
    let office = back_office(store.clone(), device, clock)?;
    Ok(BackOfficeScreen::new(
        window,
        office,
        Box::new(StoreStaff::new(store)),
    ))
}

/// `pos-terminal back-office`: the back office on its own screen over the store in `data`.
pub fn run(data: &DataDir, device: &DeviceId, language: &str) -> Result<(), ScreenError> {
    if language != "en"
        && let Err(error) = slint::select_bundled_translation(language)
    {
        eprintln!("pos-terminal: no {language} translation for the back office ({error})");
    }
    let store_error = |source| StartError::Store {
        dir: data.root.clone(),
        source,
    };
    let mut store = Store::open(&data.root, device.clone()).map_err(store_error)?;
    seed_demo_shop(&mut store, pos_ui::system_now(), GENERATED_PRODUCTS)
        .map_err(StartError::from)?;
    let store: SharedStore = Rc::new(std::cell::RefCell::new(store));
    let window = BackOfficeWindow::new()?;
    let screen = show_back_office(&window, store, device, pos_ui::system_now)?;
    window.run()?;
    drop(screen);
    Ok(())
}
