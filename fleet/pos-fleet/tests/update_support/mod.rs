//! A real fleet with its update service on loopback, bundles built and signed with the real
//! `rauc` through xtask's helpers, and a terminal's DDI calls.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use pos_bundle::BundleFormat;
use pos_core::clock::Timestamp;
use pos_fleet::postgres::PostgresStorage;
use pos_fleet::server::{self, FleetConfig, Transport};
use pos_fleet::sqlite::SqliteStorage;
use pos_fleet::storage::FleetStorage;
use pos_fleet::updates::UpdatesConfig;
use pos_fleet::updates::bundle::BundlePolicy;
use pos_fleet::updates::storage::UpdateStorage;
use pos_sync::wire::EnrolResponse;
use reqwest::StatusCode;
use serde_json::Value;
use xtask::bundle::{BundleSpec, ext4_image};
use xtask::pki::Pki;

use crate::common::{self, Backend, Fleet, Schema};

pub const COMPATIBLE: &str = "open-pos-x86_64";

/// One trusted PKI and one stranger's for all tests of a binary: making keys takes a moment.
pub fn pkis() -> &'static (tempfile::TempDir, Pki, Pki) {
    static PKIS: OnceLock<(tempfile::TempDir, Pki, Pki)> = OnceLock::new();
    PKIS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let trusted = Pki::create(&dir.path().join("trusted"), "Open POS").unwrap();
        let stranger = Pki::create(&dir.path().join("stranger"), "Someone Else").unwrap();
        (dir, trusted, stranger)
    })
}

pub fn trusted() -> &'static Pki {
    &pkis().1
}

pub fn stranger() -> &'static Pki {
    &pkis().2
}

/// A fleet on `backend` whose update service trusts [`trusted`]'s root.
pub async fn start(backend: &Backend, plain_allowed: bool) -> Fleet {
    start_configured(backend, |updates| {
        updates.policy.plain_allowed = plain_allowed
    })
    .await
}

/// A fleet as [`start`] makes it, its update service configured further by `configure`.
pub async fn start_configured(
    backend: &Backend,
    configure: impl FnOnce(&mut UpdatesConfig),
) -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let (backend, path) = (backend.clone(), dir.path().to_path_buf());
    let (storage, updates_storage, schema) = tokio::task::spawn_blocking(move || {
        let (storage, updates, schema) = open_both(&backend, &path);
        server::add_operator(
            storage.as_ref(),
            common::OPERATOR_EMAIL,
            common::OPERATOR_PASSWORD,
            Timestamp::from_unix_ms(0),
        )
        .unwrap();
        (storage, updates, schema)
    })
    .await
    .unwrap();
    let mut updates = UpdatesConfig::new(BundlePolicy {
        keyring: trusted().keyring(),
        compatible: COMPATIBLE.into(),
        plain_allowed: false,
    });
    updates.polling_sleep_secs = 300;
    configure(&mut updates);
    let config = FleetConfig {
        updates: Some(updates),
        ..FleetConfig::new(dir.path().to_path_buf(), "127.0.0.1:0".parse().unwrap())
    };
    let running =
        server::start_with_updates(&config, Transport::Plain, storage.clone(), updates_storage)
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
    fleet.operator = fleet
        .login(common::OPERATOR_EMAIL, common::OPERATOR_PASSWORD)
        .await;
    fleet
}

/// One new database for both the fleet's records and the update service's. Blocking.
fn open_both(
    backend: &Backend,
    dir: &Path,
) -> (
    Arc<dyn FleetStorage>,
    Arc<dyn UpdateStorage>,
    Option<Schema>,
) {
    match backend {
        Backend::Sqlite => {
            let storage = Arc::new(SqliteStorage::open(dir).unwrap());
            (storage.clone(), storage, None)
        }
        Backend::Postgres(url) => {
            let schema = Schema::create(url);
            let mut config: postgres::Config = url.parse().unwrap();
            config.options(&format!("-csearch_path={}", schema.name));
            let storage = Arc::new(PostgresStorage::open_config(config, 4).unwrap());
            (storage.clone(), storage, Some(schema))
        }
    }
}

/// One number from the fleet's database: `sql` run in the test's SQLite file or in its
/// PostgreSQL schema (`sql` must give a BIGINT there).
pub async fn scalar(fleet: &Fleet, sql: &'static str) -> i64 {
    match &fleet.schema {
        None => {
            let conn =
                rusqlite::Connection::open(fleet.dir.path().join(pos_fleet::sqlite::DATABASE_FILE))
                    .unwrap();
            conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap()
        }
        Some(schema) => {
            let url = std::env::var(common::POSTGRES_URL_VAR).unwrap();
            let name = schema.name.clone();
            tokio::task::spawn_blocking(move || {
                let mut config: postgres::Config = url.parse().unwrap();
                config.options(&format!("-csearch_path={name}"));
                let mut client = config.connect(postgres::NoTls).unwrap();
                client.query_one(sql, &[]).unwrap().get::<_, i64>(0)
            })
            .await
            .unwrap()
        }
    }
}

/// A signed bundle of a small root filesystem holding `version` in its os-release, with
/// enough data that squashfs cannot shrink it below RAUC's 4 KiB minimum.
pub fn bundle(
    work: &Path,
    version: &str,
    compatible: &str,
    signer: &Pki,
    format: BundleFormat,
) -> PathBuf {
    let work = work.join(format!("bundle-{version}-{compatible}"));
    std::fs::create_dir_all(&work).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let release = format!("VERSION_ID={version}\n");
    let rootfs = ext4_image(
        &[
            ("etc/os-release", release.as_bytes()),
            ("usr/lib/pos/data", &noise),
        ],
        16,
        &work,
        &work.join("rootfs.ext4"),
    )
    .unwrap();
    let spec = BundleSpec {
        rootfs: &rootfs,
        version,
        compatible,
        build: "test",
        format,
    };
    let out = work.join("update.raucb");
    xtask::bundle::build(&spec, signer, &work, &out).unwrap();
    out
}

impl Fleet {
    /// Uploads a bundle file as `token`; the status and the JSON answer.
    pub async fn upload(&self, token: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}/api/v1/bundles", self.base))
            .bearer_auth(token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Uploads a bundle the operator expects to be accepted; its record.
    pub async fn accepted_bundle(&self, path: &Path) -> Value {
        let (status, body) = self
            .upload(&self.operator, std::fs::read(path).unwrap())
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// A DDI call as a terminal: `Authorization: TargetToken <token>`.
    pub async fn ddi(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = if url.starts_with("http") {
            url.to_owned()
        } else {
            format!("{}{url}", self.base)
        };
        let mut request = match method {
            "GET" => self.client.get(url),
            "PUT" => self.client.put(url),
            _ => self.client.post(url),
        };
        if let Some(token) = token {
            request = request.header("authorization", format!("TargetToken {token}"));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(if text.is_empty() {
                Value::Null
            } else {
                Value::String(text)
            }),
        )
    }
}

/// An enrolled terminal as the DDI API sees it.
pub struct Controller {
    pub enrolled: EnrolResponse,
}

impl Controller {
    pub fn token(&self) -> &str {
        &self.enrolled.token
    }

    pub fn path(&self) -> String {
        format!(
            "/{}/controller/v1/{}",
            self.enrolled.tenant.as_str(),
            self.enrolled.device.as_str()
        )
    }

    pub async fn poll(&self, fleet: &Fleet) -> Value {
        let (status, body) = fleet
            .ddi("GET", &self.path(), Some(self.token()), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// The action id of the deployment the poll offers, if any.
    pub async fn offered(&self, fleet: &Fleet) -> Option<String> {
        let poll = self.poll(fleet).await;
        let href = poll["_links"]["deploymentBase"]["href"].as_str()?;
        let path = href.split('?').next().unwrap();
        Some(path.rsplit('/').next().unwrap().to_owned())
    }

    pub async fn feedback(
        &self,
        fleet: &Fleet,
        action: &str,
        execution: &str,
        finished: &str,
    ) -> StatusCode {
        let body = serde_json::json!({
            "id": action,
            "status": {"execution": execution, "result": {"finished": finished}, "details": [format!("{execution} {finished}")]},
        });
        let (status, answer) = fleet
            .ddi(
                "POST",
                &format!("{}/deploymentBase/{action}/feedback", self.path()),
                Some(self.token()),
                Some(body),
            )
            .await;
        assert!(
            status == StatusCode::OK || status == StatusCode::GONE,
            "{status} {answer}"
        );
        status
    }
}

pub async fn controller(fleet: &Fleet, owner: &str, store: &str, name: &str) -> Controller {
    Controller {
        enrolled: fleet.enrol(owner, store, name).await,
    }
}

/// Creates a rollout as `token`; its status.
pub async fn rollout(fleet: &Fleet, token: &str, tenant: &str, body: Value) -> Value {
    let (status, answer) = fleet
        .call(
            "POST",
            &format!("/api/v1/tenants/{tenant}/rollouts"),
            Some(token),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer
}

pub async fn rollout_status(fleet: &Fleet, token: &str, id: &str) -> Value {
    let (status, answer) = fleet
        .call("GET", &format!("/api/v1/rollouts/{id}"), Some(token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}
