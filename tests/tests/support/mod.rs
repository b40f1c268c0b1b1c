//! Shared by the sync tests: a real fleet server on loopback over a real SQLite file (or, for
//! the tests that run on both, PostgreSQL in a schema of its own), that can be restarted in the
//! middle of anything; a fault-injecting TCP proxy to put between a terminal and the fleet; and
//! a terminal made of a real encrypted store and the real sync agent.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod proxy;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, StoreId};
use pos_fleet::postgres::PostgresStorage;
use pos_fleet::server::{self, FleetConfig, Transport};
use pos_fleet::sqlite::SqliteStorage;
use pos_fleet::storage::FleetStorage;
use pos_store::Store;
use pos_store::sample::SaleMaker;
use pos_terminal::sync_agent::{SyncAgent, SyncSettings, SyncStatus};
use serde_json::{Value, json};

pub const OPERATOR_EMAIL: &str = "ops@fleet.example";
pub const OPERATOR_PASSWORD: &str = "operator-password-1";

pub fn now() -> Timestamp {
    Timestamp::from_unix_ms(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap(),
    )
}

/// The PostgreSQL database a fleet may run on, as a URL: each fleet makes a schema of its own
/// in it. `cargo xtask test` and CI start a private cluster and set it.
pub const POSTGRES_URL_VAR: &str = "POS_FLEET_POSTGRES_URL";

/// Runs each named `fn NAME(backend: Backend)` as two tests, `NAME::sqlite` and
/// `NAME::postgres`, as the fleet's own tests do.
#[allow(unused_macros)]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name(super::support::Backend::Sqlite);
                }

                #[test]
                fn postgres() {
                    if let Some(backend) = super::support::Backend::postgres() {
                        super::$name(backend);
                    }
                }
            }
        )+
    };
}

/// The database under a fleet.
#[derive(Clone, Debug)]
pub enum Backend {
    /// A file in the fleet's directory.
    Sqlite,
    /// The URL of a database the fleet may make a schema in.
    Postgres(String),
}

impl Backend {
    /// PostgreSQL when [`POSTGRES_URL_VAR`] is set. Without it the PostgreSQL run is left out
    /// on a developer's machine, and fails in CI.
    pub fn postgres() -> Option<Backend> {
        match std::env::var(POSTGRES_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => Some(Backend::Postgres(url)),
            _ if std::env::var_os("CI").is_some() => panic!(
                "CI must run the fleet tests on PostgreSQL too: {POSTGRES_URL_VAR} is not set \
                 (`cargo xtask ci` starts a cluster and sets it)"
            ),
            _ => {
                eprintln!("{POSTGRES_URL_VAR} is not set: the PostgreSQL run is left out");
                None
            }
        }
    }
}

/// Where a fleet keeps its data, opened again at each (re)start.
enum Database {
    Sqlite,
    Postgres {
        config: Box<postgres::Config>,
        schema: Schema,
    },
}

impl Database {
    fn new(backend: &Backend) -> Database {
        match backend {
            Backend::Sqlite => Database::Sqlite,
            Backend::Postgres(url) => {
                let schema = Schema::create(url);
                let mut config: postgres::Config = url.parse().unwrap();
                config.options(&format!("-csearch_path={}", schema.name));
                Database::Postgres {
                    config: Box::new(config),
                    schema,
                }
            }
        }
    }

    fn open(&self, dir: &Path) -> Arc<dyn FleetStorage> {
        match self {
            Database::Sqlite => Arc::new(SqliteStorage::open(dir).unwrap()),
            Database::Postgres { config, .. } => Arc::new(
                PostgresStorage::open_config(config.as_ref().clone(), 4)
                    .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR}: {e}")),
            ),
        }
    }
}

/// A PostgreSQL schema that one fleet owns; dropped with everything in it at the end.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn create(url: &str) -> Schema {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "tests_fleet_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = postgres::Client::connect(url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR} names no reachable database: {e}"));
        admin
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .unwrap();
        Schema {
            url: url.to_owned(),
            name,
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let dropped =
            postgres::Client::connect(&self.url, postgres::NoTls).and_then(|mut admin| {
                admin.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name))
            });
        if let Err(e) = dropped {
            eprintln!("the test schema {} was not dropped: {e}", self.name);
        }
    }
}

/// A fleet server on its own runtime, so that a restart really stops every connection.
pub struct Fleet {
    pub dir: PathBuf,
    runtime: Option<tokio::runtime::Runtime>,
    pub addr: SocketAddr,
    pub storage: Arc<dyn FleetStorage>,
    /// The runtime API calls of the test run on.
    client_runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    pub operator: String,
    /// Last, so a PostgreSQL schema is dropped after the server stopped using it.
    database: Database,
}

fn fleet_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn add_operator(storage: &dyn FleetStorage) {
    server::add_operator(
        storage,
        OPERATOR_EMAIL,
        OPERATOR_PASSWORD,
        Timestamp::from_unix_ms(0),
    )
    .unwrap();
}

fn serve(
    dir: &Path,
    storage: Arc<dyn FleetStorage>,
) -> (tokio::runtime::Runtime, SocketAddr, Arc<dyn FleetStorage>) {
    let runtime = fleet_runtime();
    let config = FleetConfig::new(dir.to_path_buf(), "127.0.0.1:0".parse().unwrap());
    let running = runtime
        .block_on(server::start_with(
            &config,
            Transport::Plain,
            storage.clone(),
        ))
        .unwrap();
    (runtime, running.addr, storage)
}

impl Fleet {
    /// A new fleet in `dir` on SQLite with its operator logged in.
    pub fn start(dir: &Path) -> Fleet {
        Fleet::start_on(dir, &Backend::Sqlite)
    }

    /// A new fleet in `dir` on `backend` with its operator logged in.
    pub fn start_on(dir: &Path, backend: &Backend) -> Fleet {
        let database = Database::new(backend);
        let storage = database.open(dir);
        add_operator(storage.as_ref());
        let (runtime, addr, storage) = serve(dir, storage);
        Fleet::logged_in(dir, runtime, addr, storage, database)
    }

    /// A new fleet in `dir` on SQLite that also serves updates as `updates` says.
    pub fn start_with_updates(dir: &Path, updates: pos_fleet::updates::UpdatesConfig) -> Fleet {
        let sqlite = Arc::new(SqliteStorage::open(dir).unwrap());
        add_operator(sqlite.as_ref());
        let runtime = fleet_runtime();
        let config = FleetConfig {
            updates: Some(updates),
            ..FleetConfig::new(dir.to_path_buf(), "127.0.0.1:0".parse().unwrap())
        };
        let running = runtime
            .block_on(server::start_with_updates(
                &config,
                Transport::Plain,
                sqlite.clone(),
                sqlite.clone(),
            ))
            .unwrap();
        Fleet::logged_in(dir, runtime, running.addr, sqlite, Database::Sqlite)
    }

    fn logged_in(
        dir: &Path,
        runtime: tokio::runtime::Runtime,
        addr: SocketAddr,
        storage: Arc<dyn FleetStorage>,
        database: Database,
    ) -> Fleet {
        let mut fleet = Fleet {
            dir: dir.to_path_buf(),
            runtime: Some(runtime),
            addr,
            storage,
            client_runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: reqwest::Client::new(),
            operator: String::new(),
            database,
        };
        fleet.operator = fleet.login(OPERATOR_EMAIL, OPERATOR_PASSWORD);
        fleet
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server with whatever it was doing (connections cut, answers lost) and starts
    /// it again on the same database, on a new port.
    pub fn restart(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_millis(50));
        }
        let (runtime, addr, storage) = serve(&self.dir, self.database.open(&self.dir));
        self.runtime = Some(runtime);
        self.addr = addr;
        self.storage = storage;
    }

    pub fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base());
        let mut request = match method {
            "GET" => self.client.get(url),
            "PUT" => self.client.put(url),
            _ => self.client.post(url),
        };
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.client_runtime.block_on(async {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            let value = if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            };
            (status, value)
        })
    }

    /// Uploads the bundle file at `path` as the operator: the status and the fleet's answer.
    pub fn upload_bundle(&self, path: &Path) -> (u16, Value) {
        let bytes = std::fs::read(path).unwrap();
        let request = self
            .client
            .post(format!("{}/api/v1/bundles", self.base()))
            .bearer_auth(&self.operator)
            .header("content-type", "application/octet-stream")
            .body(bytes);
        self.client_runtime.block_on(async {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        })
    }

    pub fn ok(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, token, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {value}"
        );
        value
    }

    pub fn login(&self, email: &str, password: &str) -> String {
        let body = self.ok(
            "POST",
            "/api/v1/login",
            "",
            Some(json!({"email": email, "password": password})),
        );
        body["token"].as_str().unwrap().to_owned()
    }

    /// A tenant with one store in EUR; returns (tenant, store).
    pub fn tenant(&self, name: &str) -> (String, String) {
        let tenant = self.ok(
            "POST",
            "/api/v1/tenants",
            &self.operator,
            Some(json!({"name": name})),
        );
        let tenant = tenant["id"].as_str().unwrap().to_owned();
        let store = self.add_store(&tenant, &format!("{name} Mitte"));
        (tenant, store)
    }

    /// Another store of `tenant`, in EUR; returns its id.
    pub fn add_store(&self, tenant: &str, name: &str) -> String {
        let store = self.ok(
            "POST",
            &format!("/api/v1/tenants/{tenant}/stores"),
            &self.operator,
            Some(json!({"name": name, "currency": "EUR"})),
        );
        store["id"].as_str().unwrap().to_owned()
    }

    pub fn enrolment_code(&self, store: &str) -> String {
        let body = self.ok(
            "POST",
            &format!("/api/v1/stores/{store}/enrolment-codes"),
            &self.operator,
            None,
        );
        body["code"].as_str().unwrap().to_owned()
    }

    pub fn save_product(&self, tenant: &str, product: &pos_core::catalog::Product) {
        self.ok(
            "POST",
            &format!("/api/v1/tenants/{tenant}/products"),
            &self.operator,
            Some(serde_json::to_value(product).unwrap()),
        );
    }

    pub fn schedule_price(&self, tenant: &str, product: &str, minor: i64, at: Timestamp) {
        self.ok(
            "POST",
            &format!("/api/v1/tenants/{tenant}/prices"),
            &self.operator,
            Some(json!({
                "product": product,
                "price": pos_core::money::Money::from_minor(minor, pos_core::money::Currency::EUR),
                "effective_at": at,
            })),
        );
    }

    /// The store's terminals as (id, name), tills behind a hub included.
    pub fn terminals(&self, store: &str) -> Vec<(String, String)> {
        terminal_names(&self.ok(
            "GET",
            &format!("/api/v1/stores/{store}/terminals"),
            &self.operator,
            None,
        ))
    }

    pub fn sales(&self, store: &str) -> Vec<Value> {
        self.ok(
            "GET",
            &format!("/api/v1/stores/{store}/sales"),
            &self.operator,
            None,
        )
        .as_array()
        .unwrap()
        .clone()
    }

    /// The store's stock per product, as the fleet computes it.
    pub fn stock(&self, store: &str) -> Vec<(String, String)> {
        self.ok(
            "GET",
            &format!("/api/v1/stores/{store}/stock"),
            &self.operator,
            None,
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["product"].as_str().unwrap().to_owned(),
                row["level"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        // Waits for the server's tasks to be dropped, so the last handle on the storage is
        // this one, dropped here: a PostgreSQL connection cannot be closed from inside the
        // server's runtime.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

/// Sync settings fast enough for a test: quick pulls, short timeouts, short backoff.
pub fn quick_settings(url: &str, name: &str, code: Option<String>) -> SyncSettings {
    SyncSettings {
        enrolment_code: code,
        pull_interval: Duration::from_millis(300),
        request_timeout: Duration::from_secs(3),
        backoff_base: Duration::from_millis(50),
        backoff_max: Duration::from_millis(400),
        ..SyncSettings::new(url, name)
    }
}

/// A terminal: its data directory, its encrypted store (the till's connection) and, while it
/// syncs, the sync agent with its own connection.
pub struct Terminal {
    pub dir: tempfile::TempDir,
    pub device: DeviceId,
    pub store: Store,
    pub maker: SaleMaker,
    pub agent: Option<SyncAgent>,
}

impl Terminal {
    pub fn open(device: &str, store: &str) -> Terminal {
        let dir = tempfile::tempdir().unwrap();
        let device = DeviceId::new(device);
        let opened = Store::open(dir.path(), device.clone()).unwrap();
        let mut maker = SaleMaker::new(device.as_str()).unwrap();
        maker.store = StoreId::new(store);
        Terminal {
            dir,
            device,
            store: opened,
            maker,
            agent: None,
        }
    }

    pub fn start_sync(&mut self, settings: SyncSettings) {
        self.agent =
            Some(SyncAgent::start(self.dir.path(), self.device.clone(), settings).unwrap());
    }

    pub fn stop_sync(&mut self) {
        if let Some(agent) = self.agent.take() {
            agent.stop();
        }
    }

    pub fn status(&self) -> SyncStatus {
        self.agent.as_ref().unwrap().status().snapshot()
    }

    /// Waits until the agent reports `done`, or panics after `limit` with the last status.
    pub fn wait_for(&self, limit: Duration, what: &str, done: impl Fn(&SyncStatus) -> bool) {
        let started = Instant::now();
        loop {
            let status = self.status();
            if done(&status) {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "{}: {what} did not happen within {limit:?}; status {status:?}",
                self.device
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the whole journal is acknowledged and a pull came back since `after`.
    pub fn wait_caught_up(&self, limit: Duration, after: Timestamp) {
        self.wait_for(limit, "catching up", |s| {
            s.backlog == 0 && s.last_success.is_some_and(|at| at > after)
        });
    }
}

/// A terminal of `store` set up as a shop's own (its settings under the fleet's store id) with
/// an administrator, Marc, syncing with `fleet`.
pub fn set_up_till(
    fleet: &Fleet,
    device: &str,
    tenant: &str,
    store: &str,
    limit: Duration,
) -> Terminal {
    let mut till = Terminal::open(device, store);
    let setup = pos_service::complete::SetupState {
        completed_at_ms: now().unix_ms(),
        terminal_name: device.to_owned(),
        device: device.to_owned(),
        store_name: store.to_owned(),
        time_zone: "UTC".to_owned(),
        locale: "en".to_owned(),
        fleet_url: fleet.base(),
        enrolment: Some(pos_service::complete::Enrolment {
            device: device.to_owned(),
            tenant: tenant.to_owned(),
            store: store.to_owned(),
            store_name: None,
            token: String::new(),
        }),
        admin_user: "marc".to_owned(),
    };
    pos_terminal::seed::seed_set_up_shop(&mut till.store, now(), &setup).unwrap();
    till.store
        .save_user(
            &pos_core::id::UserId::new("marc"),
            "Marc",
            &pos_core::id::RoleId::new("admin"),
            Some(&pos_terminal::ports::hash_pin("9999").unwrap()),
        )
        .unwrap();
    let started = now();
    till.start_sync(quick_settings(
        &fleet.base(),
        device,
        Some(fleet.enrolment_code(store)),
    ));
    till.wait_caught_up(limit, started);
    till
}

/// The back office of `till`, on a connection of its own to the till's store, with Marc
/// signed in.
pub fn back_office(till: &Terminal) -> pos_backoffice::BackOffice<pos_backoffice::SharedStore> {
    let store: pos_backoffice::SharedStore = std::rc::Rc::new(std::cell::RefCell::new(
        Store::open(till.dir.path(), till.device.clone()).unwrap(),
    ));
    let mut office = pos_terminal::backoffice::back_office(store, &till.device, now).unwrap();
    let admin = pos_core::access::Role::defaults()
        .into_iter()
        .find(|role| role.id.as_str() == "admin")
        .unwrap();
    office
        .sign_in(pos_core::access::Actor::new("marc", "Marc", admin))
        .unwrap();
    office
}

/// Calls to any fleet server's API (a cloud fleet or a hub), with a session token.
pub struct Api {
    pub base: String,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    pub token: String,
}

impl Api {
    pub fn login(base: &str, email: &str, password: &str) -> Api {
        let mut api = Api {
            base: base.to_owned(),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: reqwest::Client::new(),
            token: String::new(),
        };
        let body = api.ok(
            "POST",
            "/api/v1/login",
            Some(json!({"email": email, "password": password})),
        );
        api.token = body["token"].as_str().unwrap().to_owned();
        api
    }

    pub fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let mut request = match method {
            "GET" => self.client.get(url),
            _ => self.client.post(url),
        };
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.runtime.block_on(async {
            let response = request.send().await.unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            assert!(status.is_success(), "{method} {path}: {status} {text}");
            serde_json::from_str(&text).unwrap_or(Value::Null)
        })
    }
}

/// A store hub on its own runtime: its own operator for the shop's LAN, enrolled upstream with
/// a code from the cloud, relaying to `upstream` (a proxy in front of the cloud, usually).
pub struct Hub {
    pub dir: tempfile::TempDir,
    pub running: pos_fleet::hub::RunningHub,
    pub url: String,
    pub api: Api,
    runtime: tokio::runtime::Runtime,
}

impl Hub {
    pub fn start(upstream: &str, enrolment_code: String) -> Hub {
        let dir = tempfile::tempdir().unwrap();
        {
            let storage = SqliteStorage::open(dir.path()).unwrap();
            server::add_operator(
                &storage,
                OPERATOR_EMAIL,
                OPERATOR_PASSWORD,
                Timestamp::from_unix_ms(0),
            )
            .unwrap();
        }
        let runtime = fleet_runtime();
        let config = FleetConfig::new(dir.path().to_path_buf(), "127.0.0.1:0".parse().unwrap());
        let settings = pos_fleet::hub::HubConfig {
            enrolment_code: Some(enrolment_code),
            pull_interval: Duration::from_millis(200),
            backoff_base: Duration::from_millis(50),
            backoff_max: Duration::from_millis(300),
            request_timeout: Duration::from_secs(3),
            ..pos_fleet::hub::HubConfig::new(upstream)
        };
        let running = runtime
            .block_on(pos_fleet::hub::start(&config, settings))
            .unwrap();
        let url = format!("http://{}", running.fleet.addr);
        let api = Api::login(&url, OPERATOR_EMAIL, OPERATOR_PASSWORD);
        Hub {
            dir,
            running,
            url,
            api,
            runtime,
        }
    }

    /// A one-time code for a terminal to enrol with the hub.
    pub fn enrolment_code(&self, store: &str) -> String {
        let code = self.api.ok(
            "POST",
            &format!("/api/v1/stores/{store}/enrolment-codes"),
            None,
        );
        code["code"].as_str().unwrap().to_owned()
    }

    /// The hub's terminals as (id, name).
    pub fn terminals(&self, store: &str) -> Vec<(String, String)> {
        terminal_names(
            &self
                .api
                .ok("GET", &format!("/api/v1/stores/{store}/terminals"), None),
        )
    }
}

/// (id, name) of each terminal in an API list of terminals.
pub fn terminal_names(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_owned(),
                t["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Polls `check` until it holds, or panics after `limit` saying `what`.
pub fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < limit,
            "{what} did not happen within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
