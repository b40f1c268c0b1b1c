//! First-boot setup through the screen, as a technician does it, against a real fleet server
//! on loopback: typed, from a provisioning file, with a wrong code, an unreachable fleet and
//! PINs that differ, and offline. The terminal's own setup target writes `terminal.toml`
//! (read back by the config module) and the administrator into the real encrypted store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pos_core::id::{DeviceId, UserId};
use pos_fleet::server::{self, FleetConfig, Transport};
use pos_fleet::sqlite::SqliteStorage;
use pos_service::complete::{FleetEnroller, STATE_FILE, SetupState, enrol_later};
use pos_service::setup::SetupForm;
use pos_service::{Background, SetupScreen, SetupSettings};
use pos_store::Store;
use pos_terminal::config::{PrinterLine, TerminalConfig};
use pos_terminal::ports::verify_pin;
use pos_terminal::service::TerminalSetupTarget;
use pos_terminal::terminal::DataDir;
use pos_ui::{AppWindow, SetupAdapter, SetupStep, Tone};
use serde_json::{Value, json};
use slint::{ComponentHandle, Model};
use support::{OnScreen, testing_backend};

/// A fleet on loopback with a tenant, a store and its owner logged in.
struct Fleet {
    base: String,
    owner: String,
    store: String,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Fleet {
    fn start() -> Fleet {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(SqliteStorage::open(dir.path()).unwrap());
        server::add_operator(
            storage.as_ref(),
            "ops@fleet.example",
            "operator-password-1",
            pos_core::clock::Timestamp::from_unix_ms(0),
        )
        .unwrap();
        let config = FleetConfig::new(dir.path().to_path_buf(), "127.0.0.1:0".parse().unwrap());
        let running = runtime
            .block_on(server::start_with(&config, Transport::Plain, storage))
            .unwrap();
        let base = format!("http://{}", running.addr);
        let mut fleet = Fleet {
            base,
            owner: String::new(),
            store: String::new(),
            runtime,
            _dir: dir,
        };
        let operator = fleet.login("ops@fleet.example", "operator-password-1");
        let tenant = fleet.call(
            "/api/v1/tenants",
            &operator,
            json!({"name": "Corner Market"}),
        );
        let tenant = tenant["id"].as_str().unwrap().to_owned();
        let store = fleet.call(
            &format!("/api/v1/tenants/{tenant}/stores"),
            &operator,
            json!({"name": "Corner Market Mitte", "currency": "EUR"}),
        );
        fleet.store = store["id"].as_str().unwrap().to_owned();
        fleet.call(
            &format!("/api/v1/tenants/{tenant}/accounts"),
            &operator,
            json!({"email": "owner@corner.example", "password": "owner-password-1", "role": "tenant_owner"}),
        );
        fleet.owner = fleet.login("owner@corner.example", "owner-password-1");
        fleet
    }

    fn call(&self, path: &str, token: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let token = token.to_owned();
        self.runtime.block_on(async move {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success(), "{:?}", response.status());
            response.json::<Value>().await.unwrap()
        })
    }

    fn login(&self, email: &str, password: &str) -> String {
        let url = format!("{}/api/v1/login", self.base);
        let body = json!({"email": email, "password": password});
        let answer: Value = self.runtime.block_on(async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        answer["token"].as_str().unwrap().to_owned()
    }

    fn enrolment_code(&self) -> String {
        let url = format!("{}/api/v1/stores/{}/enrolment-codes", self.base, self.store);
        let owner = self.owner.clone();
        let answer: Value = self.runtime.block_on(async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(owner)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        answer["code"].as_str().unwrap().to_owned()
    }
}

struct Ui {
    window: AppWindow,
    screen: SetupScreen,
    data: DataDir,
    _dir: tempfile::TempDir,
}

/// The setup screen over a new data directory at `/<tmp>/pos`, the provisioning file looked for
/// at `/<tmp>/provisioning/incoming.json` as on the appliance.
fn start() -> Ui {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path().join("pos"));
    std::fs::create_dir_all(&data.root).unwrap();
    let window = AppWindow::new().unwrap();
    let settings = SetupSettings {
        data_dir: data.root.clone(),
        provisioning_file: pos_terminal::service::provisioning_file(&data),
        zoneinfo: PathBuf::from(pos_service::setup::ZONEINFO_DIR),
        enroller: Arc::new(FleetEnroller::new(&data.root)),
        background: Background::Inline,
        clock: || 1_772_445_600_000,
    };
    let screen = SetupScreen::show(
        &window,
        settings,
        Box::new(TerminalSetupTarget { data: data.clone() }),
        SetupForm::default(),
    );
    window.show().unwrap();
    Ui {
        window,
        screen,
        data,
        _dir: dir,
    }
}

impl OnScreen for Ui {
    fn window(&self) -> &AppWindow {
        &self.window
    }

    /// The setup screen's banner.
    fn message(&self) -> String {
        self.adapter().get_message().into()
    }
}

impl Ui {
    fn adapter(&self) -> SetupAdapter<'_> {
        self.window.global::<SetupAdapter>()
    }

    fn step(&self) -> SetupStep {
        self.adapter().get_step()
    }

    fn state_written(&self) -> bool {
        self.data.root.join(STATE_FILE).exists()
    }
}

#[test]
fn setup_through_the_screen() {
    testing_backend();
    let fleet = Fleet::start();
    typed_setup_enrols_with_the_fleet(&fleet);
    a_provisioning_file_fills_the_screen(&fleet);
    mistakes_are_said_and_nothing_is_half_written(&fleet);
    a_static_address_is_set_from_the_fleet_step();
    offline_setup_finishes_and_enrols_later(&fleet);
}

fn typed_setup_enrols_with_the_fleet(fleet: &Fleet) {
    let ui = start();
    assert!(ui.adapter().get_active());
    assert!(!pos_service::complete::is_set_up(&ui.data.root));
    ui.type_into("Fleet address", &fleet.base);
    ui.type_into("Enrolment code", &fleet.enrolment_code());
    ui.type_into("Terminal name in the fleet", "Till 2");
    ui.type_into("Terminal id on receipts", "T2");
    ui.tap("Next");
    assert_eq!(ui.step(), SetupStep::Store, "{}", ui.message());
    ui.type_into(
        "Store name (left empty, the fleet names it)",
        "Corner Market Mitte",
    );
    ui.tap("Next time zone");
    assert_eq!(ui.adapter().get_time_zone(), "Europe/Vienna");
    ui.tap("Previous time zone");
    ui.tap("Deutsch");
    ui.tap("English");
    ui.tap("Next");
    assert_eq!(ui.step(), SetupStep::Hardware, "{}", ui.message());
    ui.tap("Network");
    ui.type_into("Printer address (host:port)", "192.168.1.50");
    ui.tap("Next");
    assert_eq!(ui.step(), SetupStep::Hardware);
    assert!(ui.message().contains("host:port"), "{}", ui.message());
    ui.type_into("Printer address (host:port)", "192.168.1.50:9100");
    ui.tap("Pin 5");
    ui.tap("USB scanner");
    ui.tap("Next");
    assert_eq!(ui.step(), SetupStep::Admin, "{}", ui.message());
    ui.type_into("Administrator's name", "Jana Roth");
    ui.type_into("PIN (4 to 8 digits)", "4711");
    ui.type_into("The same PIN again", "4711");
    ui.tap("Finish setup");
    assert_eq!(ui.step(), SetupStep::Done, "{}", ui.message());
    assert_eq!(ui.adapter().get_message_tone(), Tone::Success);
    assert_eq!(
        ui.adapter().get_admin_pin(),
        "",
        "the PIN leaves the screen"
    );

    let state = SetupState::load(&ui.data.root).unwrap().unwrap();
    let enrolment = state.enrolment.clone().unwrap();
    assert_eq!(enrolment.store, fleet.store);
    assert!(!enrolment.token.is_empty());
    assert_eq!(state.time_zone, "Europe/Berlin");
    assert_eq!(state.admin_user, "jana-roth");
    let summary: Vec<String> = ui
        .adapter()
        .get_summary()
        .iter()
        .map(String::from)
        .collect();
    assert!(summary[0].contains("Till 2"), "{summary:?}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(ui.data.root.join(STATE_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the token is readable by its owner only");

    // The configuration as the terminal reads it back.
    let config = TerminalConfig::load(&ui.data.config_file()).unwrap();
    assert_eq!(config.device, "T2");
    assert_eq!(
        config.printer.line,
        PrinterLine::Tcp {
            address: "192.168.1.50:9100".to_owned()
        }
    );
    assert_eq!(config.drawer.pin, pos_printer::drawer::DrawerPin::Pin5);
    assert!(config.scanner.is_some());

    // The administrator, in the encrypted store, with their PIN.
    let store = Store::open(&ui.data.root, DeviceId::new("T2")).unwrap();
    let admin = store.actor(&UserId::new("jana-roth")).unwrap().unwrap();
    assert_eq!(admin.name, "Jana Roth");
    assert!(admin.role.allows("service.open"));
    let hash = store.pin_hash(&UserId::new("jana-roth")).unwrap().unwrap();
    assert!(verify_pin("4711", &hash) && !verify_pin("4712", &hash));
    drop(store);

    // The till over the set-up store: its administrator, and none of the demo staff whose
    // PINs anyone can read in the README.
    let peripherals = std::rc::Rc::new(
        pos_terminal::peripherals::PeripheralService::start(
            pos_terminal::peripherals::PeripheralSettings::of(&ui.data, &TerminalConfig::default()),
            |_| {},
        )
        .unwrap(),
    );
    let opened = pos_terminal::terminal::open_terminal(
        &ui.data.root,
        DeviceId::new("T2"),
        10,
        peripherals,
        pos_ui::system_now,
    )
    .unwrap();
    let people: Vec<String> = opened
        .store
        .borrow()
        .users()
        .unwrap()
        .into_iter()
        .map(|actor| actor.user.as_str().to_owned())
        .collect();
    assert_eq!(people, ["jana-roth"]);
    assert!(
        opened
            .store
            .borrow()
            .pin_hash(&UserId::new("marc"))
            .unwrap()
            .is_none()
    );
    // The shop's own name and ids, and none of the demo's goods or customers: nothing made up
    // is journalled to be synced up as if the shop had made it.
    let store = opened.store.borrow();
    let shop = pos_terminal::seed::shop_setup(&store, DeviceId::new("T2"))
        .unwrap()
        .store;
    assert_eq!(shop.name, state.store_name);
    assert_eq!(shop.id.as_str(), enrolment.store);
    // Berlin's offset today, summer or winter, not the template's UTC.
    let berlin = pos_service::zone::current_offset(
        std::path::Path::new("/usr/share/zoneinfo"),
        "Europe/Berlin",
        pos_ui::system_now().unix_ms() / 1000,
    )
    .unwrap();
    assert_eq!(shop.utc_offset, berlin);
    assert!([1, 2].contains(&berlin.whole_hours()));
    assert!(
        store
            .product(&pos_core::id::ProductId::new("milk"))
            .unwrap()
            .is_none()
    );
    assert!(store.search_customers("Lena", 5).unwrap().is_empty());
    assert!(
        store
            .journal_tail(u32::MAX)
            .unwrap()
            .iter()
            .all(|entry| entry.kind != "product_saved"),
        "no product was journalled"
    );
    drop(store);
    // The fleet sends down a cashier whose id a demo cashier had: after a restart she can
    // still sign in (the demo staff were retired once, at the first start after setup).
    opened
        .store
        .borrow_mut()
        .save_user(
            &UserId::new("anna"),
            "Anna",
            &pos_core::id::RoleId::new("cashier"),
            Some(&pos_store::pin::hash_pin("1357").unwrap()),
        )
        .unwrap();
    drop(opened);
    let reopened = pos_terminal::terminal::open_terminal(
        &ui.data.root,
        DeviceId::new("T2"),
        10,
        std::rc::Rc::new(
            pos_terminal::peripherals::PeripheralService::start(
                pos_terminal::peripherals::PeripheralSettings::of(
                    &ui.data,
                    &TerminalConfig::default(),
                ),
                |_| {},
            )
            .unwrap(),
        ),
        pos_ui::system_now,
    )
    .unwrap();
    let anna = reopened
        .store
        .borrow()
        .pin_hash(&UserId::new("anna"))
        .unwrap();
    assert!(anna.is_some_and(|hash| verify_pin("1357", &hash)));
    drop(reopened);

    // Sync needs no [sync] section: the fleet and the credential come from the enrolment.
    let sync = pos_terminal::service::sync_settings(&ui.data, &config).unwrap();
    assert_eq!(sync.url, fleet.base.trim_end_matches('/'));
    let credential = pos_terminal::sync_agent::Credential::load(&ui.data.root)
        .unwrap()
        .unwrap();
    assert_eq!(credential.token, enrolment.token);
    assert_eq!(credential.store.as_str(), enrolment.store);

    // The code was used once: the same code again is refused.
    let started = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = started.clone();
    ui.screen.on_start(move |_| flag.set(true));
    ui.tap("Start the till");
    assert!(started.get());
    assert!(!ui.adapter().get_active());
}

fn a_provisioning_file_fills_the_screen(fleet: &Fleet) {
    let ui = start();
    let file = pos_terminal::service::provisioning_file(&ui.data);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        json!({
            "format": 1,
            "fleet_url": fleet.base,
            "enrolment_code": fleet.enrolment_code(),
            "terminal_name": "Kasse 3",
            "device": "T3",
            "time_zone": "Europe/Vienna",
            "locale": "de",
            "printer": {"transport": "none", "paper": "58mm"},
            "drawer": {"pin": 2},
            "scanner": {"enabled": false},
            "network": {"mode": "static", "address": "10.20.0.15/16",
                        "gateway": "10.20.0.1", "dns": ["10.20.0.1", "9.9.9.9"]}
        })
        .to_string(),
    )
    .unwrap();
    ui.tap("Read provisioning file");
    // The network from the file is saved for the image at once: enrolment needs it.
    let network = ui.data.root.join("network").join("10-open-pos.network");
    let rendered = std::fs::read_to_string(&network).unwrap();
    assert!(
        rendered.ends_with("[Match]\nType=ether\n\n[Network]\nAddress=10.20.0.15/16\nGateway=10.20.0.1\nDNS=10.20.0.1\nDNS=9.9.9.9\n"),
        "{rendered}"
    );
    assert!(ui.data.root.join("network.request").exists());
    assert_eq!(
        ui.adapter().get_message_tone(),
        Tone::Success,
        "{}",
        ui.message()
    );
    assert_eq!(ui.adapter().get_device(), "T3");
    assert_eq!(ui.adapter().get_locale(), "de");
    for _ in 0..3 {
        ui.tap("Next");
    }
    assert_eq!(ui.step(), SetupStep::Admin, "{}", ui.message());
    ui.type_into("Administrator's name", "Jürgen Groß");
    ui.type_into("PIN (4 to 8 digits)", "246810");
    ui.type_into("The same PIN again", "246810");
    ui.tap("Finish setup");
    assert_eq!(ui.step(), SetupStep::Done, "{}", ui.message());
    let state = SetupState::load(&ui.data.root).unwrap().unwrap();
    assert_eq!(state.terminal_name, "Kasse 3");
    assert_eq!(state.time_zone, "Europe/Vienna");
    assert_eq!(
        state.store_name, "Corner Market Mitte",
        "no store name in the file: the fleet's name for the store, not its id"
    );
    assert_eq!(ui.message(), "Die Kasse ist eingerichtet.");
    let config = TerminalConfig::load(&ui.data.config_file()).unwrap();
    assert_eq!(config.language, "de");
    assert_eq!(config.printer.line, PrinterLine::None);
}

fn a_static_address_is_set_from_the_fleet_step() {
    let ui = start();
    let network = ui.data.root.join("network").join("10-open-pos.network");
    ui.tap("Network settings");
    assert_eq!(ui.step(), SetupStep::Network);
    ui.tap("Static");
    ui.type_into("Address/prefix", "192.168.1.20/24");
    ui.type_into("Gateway", "10.0.0.1");
    ui.type_into("DNS servers", "192.168.1.1");
    ui.tap("Apply");
    assert_eq!(
        ui.message(),
        "The gateway 10.0.0.1 is outside the network 192.168.1.0/24; it must be in the same network as the address."
    );
    assert_eq!(ui.step(), SetupStep::Network);
    assert!(!network.exists(), "nothing is written for a wrong setting");
    assert!(!ui.data.root.join("network.request").exists());
    ui.type_into("Gateway", "192.168.1.1");
    ui.tap("Apply");
    assert_eq!(ui.step(), SetupStep::Fleet, "{}", ui.message());
    assert_eq!(
        ui.message(),
        "Network set: Static 192.168.1.20/24 on every wired interface · gateway 192.168.1.1 · DNS 192.168.1.1."
    );
    assert!(
        std::fs::read_to_string(&network).unwrap().ends_with(
            "[Match]\nType=ether\n\n[Network]\nAddress=192.168.1.20/24\nGateway=192.168.1.1\nDNS=192.168.1.1\n"
        )
    );
    let request = std::fs::read_to_string(ui.data.root.join("network.request")).unwrap();
    assert!(request.starts_with("changed_by=setup\n"), "{request}");
    // Back on the network page, what is in force is shown.
    ui.tap("Network settings");
    assert!(
        ui.adapter()
            .get_net_chosen()
            .starts_with("Static 192.168.1.20/24"),
        "{}",
        ui.adapter().get_net_chosen()
    );
    ui.tap("Back");
    assert_eq!(ui.step(), SetupStep::Fleet);
}

fn mistakes_are_said_and_nothing_is_half_written(fleet: &Fleet) {
    let ui = start();
    ui.type_into("Fleet address", &fleet.base);
    ui.type_into("Enrolment code", "WRONG-CODE");
    ui.tap("Next");
    ui.tap("Next");
    ui.tap("Next");
    ui.type_into("Administrator's name", "Jana Roth");
    ui.type_into("PIN (4 to 8 digits)", "4711");
    ui.type_into("The same PIN again", "4712");
    ui.tap("Finish setup");
    assert_eq!(ui.step(), SetupStep::Admin);
    assert!(ui.message().contains("not the same"), "{}", ui.message());

    ui.type_into("The same PIN again", "4711");
    ui.tap("Finish setup");
    assert_eq!(ui.step(), SetupStep::Fleet, "back where the code is typed");
    assert!(
        ui.message().contains("refused the enrolment code"),
        "{}",
        ui.message()
    );
    assert_eq!(ui.adapter().get_message_tone(), Tone::Problem);

    // A fleet nobody answers at.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nobody = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    ui.type_into("Fleet address", &nobody);
    ui.type_into("Enrolment code", &fleet.enrolment_code());
    ui.tap("Next");
    ui.tap("Next");
    ui.tap("Next");
    ui.tap("Finish setup");
    assert!(
        ui.message().contains("cannot be reached"),
        "{}",
        ui.message()
    );
    assert!(ui.message().contains("enrol later"), "{}", ui.message());

    // Nothing of the setup is on disk.
    assert!(!ui.state_written());
    assert!(!ui.data.config_file().exists());
    assert!(!pos_service::complete::is_set_up(&ui.data.root));
    assert!(
        !ui.data.root.join("pos.db").exists()
            || Store::open(&ui.data.root, DeviceId::new("T1"))
                .unwrap()
                .users()
                .unwrap()
                .is_empty()
    );
}

fn offline_setup_finishes_and_enrols_later(fleet: &Fleet) {
    let ui = start();
    ui.type_into("Fleet address", "");
    ui.tap("Offline: enrol later");
    ui.tap("Next");
    assert_eq!(ui.step(), SetupStep::Store, "{}", ui.message());
    ui.type_into("Store name", "");
    ui.tap("Next");
    assert!(ui.message().contains("store's name"), "{}", ui.message());
    ui.type_into("Store name", "Kiosk am Bahnhof");
    ui.tap("Next");
    ui.tap("Next");
    ui.type_into("Administrator's name", "Ali Demir");
    ui.type_into("PIN (4 to 8 digits)", "9090");
    ui.type_into("The same PIN again", "9090");
    ui.tap("Finish setup");
    assert_eq!(ui.step(), SetupStep::Done, "{}", ui.message());
    let state = SetupState::load(&ui.data.root).unwrap().unwrap();
    assert_eq!(state.enrolment, None);
    let summary: Vec<String> = ui
        .adapter()
        .get_summary()
        .iter()
        .map(String::from)
        .collect();
    assert!(summary[0].contains("Not enrolled yet"), "{summary:?}");
    assert!(Path::new(&ui.data.config_file()).exists());

    // Once the network is up, the service screen enrols it; a wrong code changes nothing.
    let enroller = FleetEnroller::new(&ui.data.root);
    let refused = enrol_later(&ui.data.root, &enroller, &fleet.base, "WRONG-CODE");
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("refused the enrolment code")
    );
    assert_eq!(SetupState::load(&ui.data.root).unwrap().unwrap(), state);
    let enrolled = enrol_later(
        &ui.data.root,
        &enroller,
        &fleet.base,
        &fleet.enrolment_code(),
    )
    .unwrap();
    assert_eq!(enrolled.enrolment.as_ref().unwrap().store, fleet.store);
    assert_eq!(enrolled.store_name, "Kiosk am Bahnhof");
    assert_eq!(SetupState::load(&ui.data.root).unwrap().unwrap(), enrolled);
}
