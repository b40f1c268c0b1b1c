//! Opening the terminal: the data directory, the encrypted store (seeded on first start: with
//! the shop's settings alone on a terminal set up on its screen, with the demo shop on a
//! desktop), the shop read back from it, and a till over the store-backed ports.
//!
//! Owns where things live in the data directory and the order the terminal starts in. Holds
//! no rule and draws nothing.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use pos_core::clock::Timestamp;
use pos_core::id::DeviceId;
use pos_store::{Store, StoreError};
use pos_till::{Till, TillPorts};

use crate::ids::StoreIds;
use crate::peripherals::{EffectRunner, Peripherals};
use crate::ports::{SharedStore, StoreCatalogue, StoreLedger, StoreStaff};
use crate::seed::{SeedError, Seeded, seed_demo_shop, seed_set_up_shop, shop_setup};

/// Where the appliance keeps its data.
pub const APPLIANCE_DATA_DIR: &str = "/data/pos";

/// Why the terminal could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the store in {dir} cannot be opened: {source}")]
    Store { dir: PathBuf, source: StoreError },
    #[error(transparent)]
    Seed(#[from] SeedError),
}

/// What `pos-terminal check` found in a terminal's store: it opened (and migrated), its
/// journal's hash chain, and its sales, each read whole (a sale whose figures do not add up
/// fails to read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreCheck {
    pub journal_entries: u64,
    pub journal_last_seq: u64,
    /// Where the chain breaks, in words; `None` when it is intact.
    pub journal_break: Option<String>,
    pub sales: usize,
    /// The sales' totals added up (one store, one currency).
    pub sales_total: rust_decimal::Decimal,
}

impl StoreCheck {
    /// `key=value` lines, for the technician and for scripts.
    pub fn report(&self) -> String {
        format!(
            "journal_entries={}\njournal_last_seq={}\njournal_intact={}\nsales={}\nsales_total={}\n",
            self.journal_entries,
            self.journal_last_seq,
            match &self.journal_break {
                None => "yes".to_owned(),
                Some(at) => format!("no: {at}"),
            },
            self.sales,
            self.sales_total,
        )
    }
}

/// Opens the store in `data` as the terminal would (migrating it), walks the journal and reads
/// every sale back.
pub fn check_store(data: &DataDir, device: DeviceId) -> Result<StoreCheck, StartError> {
    let failed = |source: StoreError| StartError::Store {
        dir: data.root.clone(),
        source,
    };
    let store = Store::open(&data.root, device).map_err(failed)?;
    let chain = store.verify_journal().map_err(failed)?;
    let sales = store
        .sale_records_between(
            Timestamp::from_unix_ms(0),
            Timestamp::from_unix_ms(i64::MAX),
        )
        .map_err(failed)?;
    let sales_total = sales.iter().map(|sale| sale.total.amount()).sum();
    Ok(StoreCheck {
        journal_entries: chain.entries_checked,
        journal_last_seq: chain.last_seq,
        journal_break: chain.first_break.map(|at| at.to_string()),
        sales: sales.len(),
        sales_total,
    })
}

/// The files and folders of a terminal's data directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    pub root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    /// `$XDG_DATA_HOME/open-pos`, else `~/.local/share/open-pos`, else `./open-pos-data`.
    pub fn desktop_default() -> DataDir {
        let from_env = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let root = from_env("XDG_DATA_HOME")
            .or_else(|| from_env("HOME").map(|home| home.join(".local/share")))
            .map(|base| base.join("open-pos"))
            .unwrap_or_else(|| PathBuf::from("open-pos-data"));
        DataDir::new(root)
    }

    /// Receipts the simulated printer filed, as PNG and text.
    pub fn receipts(&self) -> PathBuf {
        self.root.join("receipts")
    }

    /// The persistent print queue.
    pub fn print_queue(&self) -> PathBuf {
        self.root.join("print-queue")
    }

    /// The configuration file read when `--config` is not given.
    pub fn config_file(&self) -> PathBuf {
        self.root.join(crate::config::CONFIG_FILE)
    }
}

/// A till running on the store, and the store for whoever else needs to read it.
pub struct OpenTerminal {
    pub till: Till,
    /// Carries out what the till asks of the printer, the drawer and the outbox.
    pub effects: EffectRunner,
    pub store: SharedStore,
    pub seeded: Seeded,
}

impl OpenTerminal {
    /// Carries out every effect the till has asked for since the last call, oldest first.
    pub fn run_effects(&mut self) {
        for effect in self.till.take_effects() {
            self.effects.run(effect);
        }
    }
}

/// The shop's receipt logo in the store in `data`, read before the till opens so that the
/// printer has it for the receipts left in its queue from the last run; `None` for a store
/// not made yet or a shop without a logo.
pub fn stored_logo(data: &Path, device: DeviceId) -> Option<Vec<u8>> {
    if !data.join(pos_store::DATABASE_FILE).exists() {
        return None;
    }
    let read = Store::open(data, device.clone())
        .map_err(|error| error.to_string())
        .and_then(|store| {
            // A store the first-boot setup made holds its administrator, not the shop yet.
            match store.setting(crate::seed::SEEDED_SETTING) {
                Ok(Some(_)) => shop_setup(&store, device)
                    .map(Some)
                    .map_err(|error| error.to_string()),
                Ok(None) => Ok(None),
                Err(error) => Err(error.to_string()),
            }
        });
    match read {
        Ok(setup) => setup.and_then(|setup| setup.store.receipt.logo_png),
        Err(error) => {
            eprintln!("pos-terminal: the receipt logo is not read yet: {error}");
            None
        }
    }
}

/// Opens (or creates and seeds with `generated` generated products) the store in `data`,
/// and builds the till over it for terminal `device`. `clock` is the shop's time.
pub fn open_terminal(
    data: &Path,
    device: DeviceId,
    generated: u64,
    peripherals: Rc<dyn Peripherals>,
    clock: fn() -> Timestamp,
) -> Result<OpenTerminal, StartError> {
    let store_error = |source| StartError::Store {
        dir: data.to_path_buf(),
        source,
    };
    let mut store = Store::open(data, device.clone()).map_err(store_error)?;
    // A terminal set up on its screen belongs to a shop and starts without the demo's
    // people and goods; any other store (a desktop demo) gets the demo shop.
    let set_up = pos_service::complete::SetupState::load(data).ok().flatten();
    let seeded = match &set_up {
        Some(state) => seed_set_up_shop(&mut store, clock(), state)?,
        None => seed_demo_shop(&mut store, clock(), generated)?,
    };
    if let Some(state) = &set_up {
        crate::seed::follow_time_zone(
            &mut store,
            Path::new(pos_service::setup::ZONEINFO_DIR),
            &state.time_zone,
            clock(),
        )?;
    }
    // Stores seeded with the demo before they were set up: the demo staff, whose PINs are in
    // the README, must not open them. Their own administrator stays, whatever their name.
    // Once only: the fleet may later send down real staff under the same ids.
    if let Some(state) = &set_up
        && store
            .setting(crate::seed::DEMO_STAFF_RETIRED_SETTING)
            .map_err(store_error)?
            .is_none()
    {
        for (id, ..) in crate::seed::DEMO_STAFF {
            if id != state.admin_user {
                store
                    .retire_user(&pos_core::id::UserId::new(id))
                    .map_err(store_error)?;
            }
        }
        store
            .set_setting(
                crate::seed::DEMO_STAFF_RETIRED_SETTING,
                &clock().unix_ms().to_string(),
            )
            .map_err(store_error)?;
    }
    let setup = shop_setup(&store, device.clone())?;
    let store: SharedStore = Rc::new(RefCell::new(store));
    let ids = StoreIds::new(store.clone(), device).map_err(store_error)?;
    let ports = TillPorts {
        catalogue: Box::new(StoreCatalogue::new(
            store.clone(),
            setup.loyalty.clone(),
            clock,
        )),
        staff: Box::new(StoreStaff::new(store.clone())),
        ledger: Box::new(StoreLedger::new(store.clone())),
        ids: Box::new(ids),
    };
    Ok(OpenTerminal {
        till: Till::new(setup, ports, clock()),
        effects: EffectRunner::new(peripherals, store.clone(), clock),
        store,
        seeded,
    })
}
