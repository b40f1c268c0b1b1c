//! A real fleet server on loopback (port 0) with a real SQLite file in a temporary directory,
//! and the calls an operator and a terminal make to it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::id::ProductId;
use pos_fleet::server::{self, FleetConfig, Transport};
use pos_fleet::sqlite::SqliteStorage;
use pos_sync::wire::{EnrolResponse, PROTOCOL};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const OPERATOR_EMAIL: &str = "ops@fleet.example";
pub const OPERATOR_PASSWORD: &str = "operator-password-1";

pub struct Fleet {
    pub base: String,
    pub client: reqwest::Client,
    pub storage: Arc<SqliteStorage>,
    pub dir: tempfile::TempDir,
    pub operator: String,
}

pub async fn start() -> Fleet {
    start_with_body_limit(server::BODY_BYTES_MAX_DEFAULT).await
}

pub async fn start_with_body_limit(body_bytes_max: usize) -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(SqliteStorage::open(dir.path()).unwrap());
    server::add_operator(
        storage.as_ref(),
        OPERATOR_EMAIL,
        OPERATOR_PASSWORD,
        Timestamp::from_unix_ms(0),
    )
    .unwrap();
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
