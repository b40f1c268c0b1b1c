//! A real fleet server on loopback (port 0) over a real database, and the calls an operator
//! and a terminal make to it.
//!
//! Every test runs once per backend ([`backend_tests!`]): on an SQLite file in a temporary
//! directory, and on PostgreSQL in a schema of its own when `POS_FLEET_POSTGRES_URL` names a
//! database (`cargo xtask test` and CI start a private cluster and set it). In CI (`CI` set)
//! the variable is required: the PostgreSQL runs fail rather than pass without a database.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::id::ProductId;
use pos_fleet::postgres::PostgresStorage;
use pos_fleet::server::{self, FleetConfig, Transport};
use pos_fleet::sqlite::SqliteStorage;
use pos_fleet::storage::FleetStorage;
use pos_sync::wire::{EnrolResponse, PROTOCOL};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const OPERATOR_EMAIL: &str = "ops@fleet.example";
pub const OPERATOR_PASSWORD: &str = "operator-password-1";

/// The PostgreSQL database the tests may use, as a URL: each test creates its own schema in it.
pub const POSTGRES_URL_VAR: &str = "POS_FLEET_POSTGRES_URL";

/// Runs each named `async fn NAME(backend: Backend)` as two tests, `NAME::sqlite` and
/// `NAME::postgres`.
#[allow(unused_macros)]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name(super::common::Backend::Sqlite).await;
                }

                #[tokio::test]
                async fn postgres() {
                    if let Some(backend) = super::common::Backend::postgres() {
                        super::$name(backend).await;
                    }
                }
            }
        )+
    };
}

/// The database under a test's fleet.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    /// The URL of a database the test may create a schema in.
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

    /// A new, empty fleet database: a file in `dir`, or a fresh schema. Blocking.
    pub fn open(&self, dir: &Path) -> (Arc<dyn FleetStorage>, Option<Schema>) {
        match self {
            Backend::Sqlite => (Arc::new(SqliteStorage::open(dir).unwrap()), None),
            Backend::Postgres(url) => {
                let schema = Schema::create(url);
                let mut config: postgres::Config = url.parse().unwrap();
                config.options(&format!("-csearch_path={}", schema.name));
                let storage = PostgresStorage::open_config(config, 4)
                    .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR}: {e}"));
                (Arc::new(storage), Some(schema))
            }
        }
    }
}

/// A PostgreSQL schema that one test owns; dropped with everything in it at the end.
pub struct Schema {
    url: String,
    pub name: String,
}

impl Schema {
    pub fn create(url: &str) -> Schema {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "fleet_test_{}_{}_{nanos}",
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
        // The client blocks, so it runs off the test's async thread.
        let (url, name) = (self.url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let mut admin = postgres::Client::connect(&url, postgres::NoTls)?;
            admin.batch_execute(&format!("DROP SCHEMA {name} CASCADE"))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("the test schema {} was not dropped: {dropped:?}", self.name);
        }
    }
}

pub struct Fleet {
    pub base: String,
    pub client: reqwest::Client,
    pub storage: Arc<dyn FleetStorage>,
    pub dir: tempfile::TempDir,
    pub operator: String,
    /// The PostgreSQL schema dropped with the fleet; `None` on SQLite.
    pub schema: Option<Schema>,
}

pub async fn start(backend: &Backend) -> Fleet {
    start_with_body_limit(backend, server::BODY_BYTES_MAX_DEFAULT).await
}

/// Opens a new database for `backend` and creates the operator account, off the async thread.
pub async fn open_with_operator(
    backend: &Backend,
    dir: &Path,
    email: &'static str,
    password: &'static str,
) -> (Arc<dyn FleetStorage>, Option<Schema>) {
    let (backend, dir) = (backend.clone(), dir.to_path_buf());
    tokio::task::spawn_blocking(move || {
        let (storage, schema) = backend.open(&dir);
        server::add_operator(
            storage.as_ref(),
            email,
            password,
            Timestamp::from_unix_ms(0),
        )
        .unwrap();
        (storage, schema)
    })
    .await
    .unwrap()
}

pub async fn start_with_body_limit(backend: &Backend, body_bytes_max: usize) -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let (storage, schema) =
        open_with_operator(backend, dir.path(), OPERATOR_EMAIL, OPERATOR_PASSWORD).await;
    let config = FleetConfig {
        body_bytes_max,
        ..FleetConfig::new(dir.path().to_path_buf(), "127.0.0.1:0".parse().unwrap())
    };
    let running = server::start_with(&config, Transport::Plain, storage.clone())
        .await
        .unwrap();
    let mut fleet = Fleet {
        base: format!("http://{}", running.addr),
        client: reqwest::Client::new(),
        storage,
        dir,
        operator: String::new(),
        schema,
    };
    fleet.operator = fleet.login(OPERATOR_EMAIL, OPERATOR_PASSWORD).await;
    fleet
}

/// A tenant with one store and its owner, as the operator sets them up.
pub struct Tenant {
    pub id: String,
    pub store: String,
    pub owner: String,
}

impl Fleet {
    /// Calls the storage directly, off the async thread, as the HTTP layer does.
    pub async fn with_storage<T: Send + 'static>(
        &self,
        call: impl FnOnce(&dyn FleetStorage) -> T + Send + 'static,
    ) -> T {
        let storage = Arc::clone(&self.storage);
        tokio::task::spawn_blocking(move || call(storage.as_ref()))
            .await
            .unwrap()
    }

    /// Every byte the database holds: the SQLite file and its log, or every row of every
    /// table of the test's PostgreSQL schema as text.
    pub async fn everything_stored(&self) -> Vec<u8> {
        let Some(schema) = &self.schema else {
            let file = self.dir.path().join(pos_fleet::sqlite::DATABASE_FILE);
            let mut bytes = std::fs::read(&file).unwrap();
            let wal = std::fs::read(file.with_extension("sqlite3-wal")).unwrap_or_default();
            bytes.extend(wal);
            return bytes;
        };
        let (url, name) = (schema.url.clone(), schema.name.clone());
        tokio::task::spawn_blocking(move || {
            let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            let tables = admin
                .query(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
                    &[&name],
                )
                .unwrap();
            assert!(tables.len() > 10, "the schema has the fleet's tables");
            let mut bytes = Vec::new();
            for table in tables {
                let table: String = table.get(0);
                for row in admin
                    .query(&format!("SELECT t::text FROM {name}.{table} t"), &[])
                    .unwrap()
                {
                    bytes.extend(row.get::<_, String>(0).into_bytes());
                }
            }
            assert!(!bytes.is_empty());
            bytes
        })
        .await
        .unwrap()
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        let mut request = match method {
            "GET" => self.client.get(url),
            "PUT" => self.client.put(url),
            _ => self.client.post(url),
        };
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn raw(&self, path: &str, token: Option<&str>, body: Vec<u8>) -> (StatusCode, Value) {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                "POST",
                "/api/v1/login",
                None,
                Some(json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// The operator creates a tenant with a store in EUR and an owner account.
    pub async fn tenant(&self, name: &str) -> Tenant {
        let (status, tenant) = self
            .call(
                "POST",
                "/api/v1/tenants",
                Some(&self.operator),
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{tenant}");
        let id = tenant["id"].as_str().unwrap().to_owned();
        let (status, store) = self
            .call(
                "POST",
                &format!("/api/v1/tenants/{id}/stores"),
                Some(&self.operator),
                Some(json!({"name": format!("{name} Mitte"), "currency": "EUR"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{store}");
        let email = format!("owner@{}.example", name.to_lowercase().replace(' ', "-"));
        let (status, account) = self
            .call(
                "POST",
                &format!("/api/v1/tenants/{id}/accounts"),
                Some(&self.operator),
                Some(
                    json!({"email": email, "password": "owner-password-1", "role": "tenant_owner"}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{account}");
        let owner = self.login(&email, "owner-password-1").await;
        Tenant {
            id,
            store: store["id"].as_str().unwrap().to_owned(),
            owner,
        }
    }

    pub async fn enrolment_code(&self, token: &str, store: &str) -> String {
        let (status, body) = self
            .call(
                "POST",
                &format!("/api/v1/stores/{store}/enrolment-codes"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["code"].as_str().unwrap().to_owned()
    }

    pub async fn enrol(&self, token: &str, store: &str, name: &str) -> EnrolResponse {
        let code = self.enrolment_code(token, store).await;
        pos_sync::http::enrol(&self.client, &self.base, &code, name)
            .await
            .unwrap()
    }

    /// Puts the demo catalogue's product into the tenant's catalogue.
    pub async fn add_product(&self, token: &str, tenant: &str, id: &str) -> Product {
        let product = demo_product(id);
        let (status, body) = self
            .call(
                "POST",
                &format!("/api/v1/tenants/{tenant}/products"),
                Some(token),
                Some(serde_json::to_value(&product).unwrap()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        product
    }

    pub async fn sales(&self, token: &str, store: &str) -> Vec<Value> {
        let (status, body) = self
            .call(
                "GET",
                &format!("/api/v1/stores/{store}/sales"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array().unwrap().clone()
    }

    pub async fn stock(&self, token: &str, store: &str, product: &str) -> String {
        let (status, body) = self
            .call(
                "GET",
                &format!("/api/v1/stores/{store}/stock"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array()
            .unwrap()
            .iter()
            .find(|row| row["product"] == product)
            .map_or("0".into(), |row| row["level"].as_str().unwrap().to_owned())
    }
}

pub fn demo_product(id: &str) -> Product {
    pos_core::demo::catalog()
        .unwrap()
        .get(&ProductId::new(id))
        .unwrap()
        .clone()
}

pub fn push_body(device: &str, entries: &[pos_sync::wire::JournalEntry]) -> Value {
    json!({"protocol": PROTOCOL, "device": device, "entries": entries})
}

pub fn pull_body(device: &str, cursor: u64, limit: u32) -> Value {
    json!({"protocol": PROTOCOL, "device": device, "cursor": cursor, "limit": limit})
}
