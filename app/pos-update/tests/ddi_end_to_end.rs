//! The whole update path with real parts: the fleet server (real HTTP on loopback, real SQLite)
//! takes a bundle built and signed with the real `rauc`, a rollout offers it, and the agent's
//! DDI adapter downloads it through a TCP proxy that drops the connection mid-transfer,
//! resumes with a Range request, verifies it, installs it through the real `rauc service` on a
//! private D-Bus, restarts into it and reports success. A corrupted and a truncated bundle on
//! the fleet are refused by the terminal and reported as failures. A download held halfway shows
//! its progress on the terminal's screen and at the fleet while it runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use pos_core::clock::Timestamp;
use pos_fleet::server::{self, FleetConfig, Transport};
use pos_fleet::sqlite::SqliteStorage;
use pos_fleet::updates::UpdatesConfig;
use pos_fleet::updates::bundle::BundlePolicy;
use pos_update::agent::{Deployment, Notice, Now, Phase};
use pos_update::ddi::{DdiAdapter, DdiConfig, Host};
use serde_json::{Value, json};
use support::{Service, compatible, contains, slot_image};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A terminal's surroundings with a clock that jumps instead of waiting.
struct TestHost {
    unix_ms: u64,
    version: String,
    reboots: u32,
    notices: Vec<Notice>,
    shift_closed: bool,
    /// The most bytes of a running download the host was told of (for the screen).
    downloaded: Arc<AtomicU64>,
}

impl Host for TestHost {
    fn now(&self) -> Now {
        Now {
            unix_ms: self.unix_ms,
            local_minute: 180,
        }
    }

    fn wait(&mut self, ms: u64) -> impl std::future::Future<Output = ()> + Send {
        self.unix_ms += ms;
        std::future::ready(())
    }

    fn till_busy(&self) -> bool {
        false
    }

    fn shift_closed(&self) -> bool {
        self.shift_closed
    }

    fn running_version(&self) -> String {
        self.version.clone()
    }

    fn reboot(&mut self) {
        self.reboots += 1;
    }

    fn health_check(&mut self) -> Vec<String> {
        Vec::new()
    }

    fn notice(&mut self, notice: Notice) {
        self.notices.push(notice);
    }

    fn phase_changed(&mut self, phase: &Phase) {
        if let Phase::Downloading { bytes_so_far, .. } = phase {
            self.downloaded.fetch_max(*bytes_so_far, Ordering::SeqCst);
        }
    }
}

/// A TCP proxy in front of the fleet that, once armed, cuts the first connection that has
/// carried more than `cut_after` bytes towards the terminal; and, when `hold_after` is set,
/// holds the first connection that has carried more than that until `release`.
struct Proxy {
    addr: SocketAddr,
    armed: Arc<AtomicBool>,
    cuts: Arc<AtomicU64>,
    hold_after: Arc<AtomicU64>,
    holding: Arc<AtomicBool>,
    release: Arc<tokio::sync::Notify>,
}

const CUT_AFTER_BYTES: u64 = 64 * 1024;

async fn proxy(upstream: SocketAddr) -> Proxy {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let armed = Arc::new(AtomicBool::new(false));
    let cuts = Arc::new(AtomicU64::new(0));
    let hold_after = Arc::new(AtomicU64::new(0));
    let holding = Arc::new(AtomicBool::new(false));
    let release = Arc::new(tokio::sync::Notify::new());
    let (armed_task, cuts_task) = (armed.clone(), cuts.clone());
    let (hold_task, holding_task, release_task) =
        (hold_after.clone(), holding.clone(), release.clone());
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let (armed, cuts) = (armed_task.clone(), cuts_task.clone());
            let (hold_after, holding, release) = (
                hold_task.clone(),
                holding_task.clone(),
                release_task.clone(),
            );
            tokio::spawn(async move {
                let server = tokio::net::TcpStream::connect(upstream).await.unwrap();
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let upward = tokio::spawn(async move {
                    tokio::io::copy(&mut client_read, &mut server_write)
                        .await
                        .ok();
                });
                let mut sent = 0u64;
                let mut buffer = vec![0u8; 8192];
                loop {
                    let n = match server_read.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    sent += n as u64;
                    if sent > CUT_AFTER_BYTES && armed.swap(false, Ordering::SeqCst) {
                        cuts.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    let hold = hold_after.load(Ordering::SeqCst);
                    if hold > 0 && sent > hold && hold_after.swap(0, Ordering::SeqCst) > 0 {
                        holding.store(true, Ordering::SeqCst);
                        release.notified().await;
                    }
                    if client_write.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                }
                upward.abort();
            });
        }
    });
    Proxy {
        addr,
        armed,
        cuts,
        hold_after,
        holding,
        release,
    }
}

struct Rig {
    service: Service,
    fleet_dir: tempfile::TempDir,
    base: String,
    client: reqwest::Client,
    operator: String,
    owner: String,
    tenant: String,
    store: String,
    terminal: Value,
    proxy: Proxy,
    terminal_dir: tempfile::TempDir,
}

async fn call(rig: &Rig, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    let url = format!("{}{path}", rig.base);
    let mut request = match method {
        "GET" => rig.client.get(url),
        _ => rig.client.post(url),
    }
    .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{method} {path}: {status} {body}");
    body
}

async fn login(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let body: Value = client
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().unwrap().to_owned()
}

async fn rig() -> Rig {
    let service = Service::start().await;
    let fleet_dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(SqliteStorage::open(fleet_dir.path()).unwrap());
    server::add_operator(
        storage.as_ref(),
        "ops@fleet.example",
        "operator-password-1",
        Timestamp::from_unix_ms(0),
    )
    .unwrap();
    // The fleet trusts what the terminal's RAUC trusts; plain bundles, as this host's kernel
    // cannot open verity ones.
    let config = FleetConfig {
        updates: Some(UpdatesConfig::new(BundlePolicy {
            keyring: service.pki.keyring(),
            compatible: compatible(),
            plain_allowed: true,
        })),
        ..FleetConfig::new(
            fleet_dir.path().to_path_buf(),
            "127.0.0.1:0".parse().unwrap(),
        )
    };
    let running = server::start_with_updates(&config, Transport::Plain, storage.clone(), storage)
        .await
        .unwrap();
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    let operator = login(&client, &base, "ops@fleet.example", "operator-password-1").await;
    let mut rig = Rig {
        service,
        fleet_dir,
        proxy: proxy(running.addr).await,
        base,
        client,
        operator,
        owner: String::new(),
        tenant: String::new(),
        store: String::new(),
        terminal: Value::Null,
        terminal_dir: tempfile::tempdir().unwrap(),
    };
    let tenant = call(
        &rig,
        "POST",
        "/api/v1/tenants",
        &rig.operator,
        Some(json!({"name": "Acme"})),
    )
    .await;
    rig.tenant = tenant["id"].as_str().unwrap().to_owned();
    let store = call(
        &rig,
        "POST",
        &format!("/api/v1/tenants/{}/stores", rig.tenant),
        &rig.operator,
        Some(json!({"name": "Acme Mitte", "currency": "EUR"})),
    )
    .await;
    call(
        &rig,
        "POST",
        &format!("/api/v1/tenants/{}/accounts", rig.tenant),
        &rig.operator,
        Some(json!({"email": "owner@acme.example", "password": "owner-password-1", "role": "tenant_owner"})),
    )
    .await;
    rig.owner = login(
        &rig.client,
        &rig.base,
        "owner@acme.example",
        "owner-password-1",
    )
    .await;
    rig.store = store["id"].as_str().unwrap().to_owned();
    let code = call(
        &rig,
        "POST",
        &format!(
            "/api/v1/stores/{}/enrolment-codes",
            store["id"].as_str().unwrap()
        ),
        &rig.owner,
        None,
    )
    .await;
    rig.terminal = rig
        .client
        .post(format!("{}/sync/v1/enrol", rig.base))
        .json(
            &json!({"protocol": pos_sync::wire::PROTOCOL, "code": code["code"], "name": "Till 1"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    rig
}

impl Rig {
    fn adapter_config(&self) -> DdiConfig {
        DdiConfig {
            server: format!("http://{}", self.proxy.addr),
            tenant: self.tenant.clone(),
            controller_id: self.terminal["device"].as_str().unwrap().to_owned(),
            token: self.terminal["token"].as_str().unwrap().to_owned(),
            download_path: self.terminal_dir.path().join("update.raucb"),
            state_path: self.terminal_dir.path().join("update-state.json"),
            window: None,
        }
    }

    async fn adapter(&self, version: &str) -> DdiAdapter<TestHost> {
        let host = TestHost {
            unix_ms: 1_800_000_000_000,
            version: version.into(),
            reboots: 0,
            notices: Vec::new(),
            shift_closed: false,
            downloaded: Arc::new(AtomicU64::new(0)),
        };
        let rauc = self.service.client().await.unwrap();
        DdiAdapter::new(self.adapter_config(), rauc, host, 7).unwrap()
    }

    async fn upload(&self, bundle: &Path) -> Value {
        let response = self
            .client
            .post(format!("{}/api/v1/bundles", self.base))
            .bearer_auth(&self.operator)
            .body(std::fs::read(bundle).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
        response.json().await.unwrap()
    }

    async fn roll_out(&self, bundle: &Value) -> String {
        let started = call(
            self,
            "POST",
            &format!("/api/v1/tenants/{}/rollouts", self.tenant),
            &self.owner,
            Some(json!({
                "bundle": bundle["id"], "target": {"terminals": [self.terminal["device"]]},
                "stages": [100], "failure_threshold_percent": 0,
            })),
        )
        .await;
        started["id"].as_str().unwrap().to_owned()
    }

    async fn status(&self, rollout: &str) -> Value {
        call(
            self,
            "GET",
            &format!("/api/v1/rollouts/{rollout}"),
            &self.owner,
            None,
        )
        .await
    }

    fn stored_bundle(&self, bundle: &Value) -> std::path::PathBuf {
        self.fleet_dir
            .path()
            .join(server::BUNDLES_DIR)
            .join(format!("{}.raucb", bundle["sha256"].as_str().unwrap()))
    }
}

#[tokio::test]
async fn an_update_survives_a_dropped_download_installs_and_is_reported_good() {
    let rig = rig().await;
    let bundle = rig.service.bundle("1.4.0", &compatible(), &rig.service.pki);
    let uploaded = rig.upload(&bundle).await;
    assert_eq!(uploaded["format"], "plain");
    // The store takes updates only after its Z report.
    let response = rig
        .client
        .put(format!(
            "{}/api/v1/stores/{}/update-window",
            rig.base, rig.store
        ))
        .bearer_auth(&rig.owner)
        .json(&json!("after_z_close"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::NO_CONTENT);
    let rollout = rig.roll_out(&uploaded).await;

    let mut adapter = rig.adapter("1.3.0").await;
    adapter.start().await.unwrap();
    // The shift is open: the update is offered but not installed.
    let polled = adapter.poll().await.unwrap();
    assert!(polled.offered.is_some());
    assert!(!polled.installable);
    assert_eq!(adapter.phase(), &Phase::Idle);
    // The Z report is printed; the terminal says so and the next poll installs.
    adapter.host_mut().shift_closed = true;
    adapter.send_attributes().await.unwrap();
    rig.proxy.armed.store(true, Ordering::SeqCst);
    let polled = adapter.poll().await.unwrap();
    assert_eq!(polled.sleep_secs, 300);
    assert!(polled.installable);

    // The connection was cut once mid-transfer; the adapter waited out the backoff on its
    // clock, resumed from where it was, verified and installed.
    assert_eq!(rig.proxy.cuts.load(Ordering::SeqCst), 1);
    assert!(
        matches!(adapter.phase(), Phase::Rebooting { .. }),
        "{:?}",
        adapter.phase()
    );
    assert_eq!(adapter.host().reboots, 1);
    assert!(adapter.host().unix_ms > 1_800_000_000_000 + 5_000);
    assert!(
        !rig.adapter_config().download_path.exists(),
        "the download is removed once installed"
    );
    let rauc = rig.service.client().await.unwrap();
    let slots = rauc.slots().await.unwrap();
    let b = slots
        .iter()
        .find(|s| s.bootname.as_deref() == Some("B"))
        .unwrap();
    assert_eq!(b.bundle_version.as_deref(), Some("1.4.0"));
    assert_eq!(rauc.primary().await.unwrap(), "rootfs.1");
    assert!(contains(
        &slot_image(&rig.service, "slot-b.img"),
        b"VERSION_ID=1.4.0"
    ));

    // The fleet saw every step: the interruption, the download, the install.
    let status = rig.status(&rollout).await;
    let line = &status["terminals"][0];
    assert_eq!(line["status"], "running");
    assert_eq!(line["installed_version"], "1.3.0");
    assert_eq!(
        line["last_feedback"]["details"][0],
        "restarting into the new version"
    );

    // The terminal restarts on the new version: the health check passes, the slot is marked
    // good, and the fleet hears success and then the new version.
    drop(adapter);
    let mut restarted = rig.adapter("1.4.0").await;
    restarted.start().await.unwrap();
    assert_eq!(restarted.phase(), &Phase::Idle);
    assert!(restarted.host().notices.contains(&Notice::Updated {
        version: "1.4.0".into()
    }));
    let status = rig.status(&rollout).await;
    assert_eq!(status["state"], "finished");
    let line = &status["terminals"][0];
    assert_eq!(line["status"], "succeeded");
    assert_eq!(line["last_feedback"]["execution"], "closed");
    assert_eq!(line["last_feedback"]["finished"], "success");
    let polled = restarted.poll().await.unwrap();
    assert_eq!(polled.offered, None);
    let status = rig.status(&rollout).await;
    assert_eq!(status["terminals"][0]["installed_version"], "1.4.0");
    // The fleet sees what RAUC reports of slot B. This rig's service stays booted in A, so B
    // keeps the boot status RAUC gave it while writing; on a terminal the restart boots B.
    let slot_b = status["terminals"][0]["slots"]["slot.rootfs.1"]
        .as_str()
        .unwrap();
    assert!(
        slot_b.starts_with("inactive ") && slot_b.ends_with(" 1.4.0"),
        "{slot_b}"
    );
}

#[tokio::test]
async fn a_corrupted_or_truncated_bundle_is_refused_and_reported_as_a_failure() {
    let rig = rig().await;
    let bundle = rig.service.bundle("1.5.0", &compatible(), &rig.service.pki);
    let uploaded = rig.upload(&bundle).await;
    let stored = rig.stored_bundle(&uploaded);
    let good = std::fs::read(&stored).unwrap();

    // One byte of the fleet's copy rots on disk.
    let mut rotten = good.clone();
    let at = rotten.len() / 2;
    rotten[at] ^= 0x40;
    std::fs::write(&stored, &rotten).unwrap();
    let rollout = rig.roll_out(&uploaded).await;
    let mut adapter = rig.adapter("1.3.0").await;
    adapter.start().await.unwrap();
    adapter.poll().await.unwrap();
    assert_eq!(adapter.phase(), &Phase::Idle);
    let status = rig.status(&rollout).await;
    let line = &status["terminals"][0];
    assert_eq!(line["status"], "failed");
    assert_eq!(line["last_feedback"]["finished"], "failure");
    assert_eq!(
        line["last_feedback"]["details"][0],
        "the download's SHA-256 differs from the fleet's"
    );
    assert!(!rig.adapter_config().download_path.exists());

    // The copy is cut short: the terminal gets fewer bytes than the fleet announced.
    std::fs::write(&stored, &good[..good.len() - 4096]).unwrap();
    let rollout = rig.roll_out(&uploaded).await;
    adapter.poll().await.unwrap();
    assert_eq!(adapter.phase(), &Phase::Idle);
    let status = rig.status(&rollout).await;
    let line = &status["terminals"][0];
    assert_eq!(line["status"], "failed");
    assert_eq!(
        line["last_feedback"]["details"][0],
        format!(
            "the download is {} bytes, the fleet announced {}",
            good.len() - 4096,
            good.len()
        )
    );
    // Nothing reached the other slot, and nothing was restarted.
    assert!(
        slot_image(&rig.service, "slot-b.img")
            .iter()
            .all(|b| *b == 0)
    );
    assert_eq!(adapter.host().reboots, 0);
}

#[tokio::test]
async fn a_download_finished_just_before_a_power_cut_is_verified_and_installed_after_it() {
    let rig = rig().await;
    let bundle = rig.service.bundle("1.6.0", &compatible(), &rig.service.pki);
    let uploaded = rig.upload(&bundle).await;
    let rollout = rig.roll_out(&uploaded).await;
    // The offer, as the terminal read it before the power cut.
    let controller = format!(
        "{}/{}/controller/v1/{}",
        rig.base,
        rig.tenant,
        rig.terminal["device"].as_str().unwrap()
    );
    let token = format!("TargetToken {}", rig.terminal["token"].as_str().unwrap());
    let get = |url: String| {
        let request = rig.client.get(url).header("authorization", token.clone());
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let poll = get(controller.clone()).await;
    let offer = get(poll["_links"]["deploymentBase"]["href"]
        .as_str()
        .unwrap()
        .to_owned())
    .await;
    let artifact = &offer["deployment"]["chunks"][0]["artifacts"][0];
    let sha256: Vec<u8> = (0..32)
        .map(|i| {
            u8::from_str_radix(
                &artifact["hashes"]["sha256"].as_str().unwrap()[2 * i..2 * i + 2],
                16,
            )
            .unwrap()
        })
        .collect();
    let size = artifact["size"].as_u64().unwrap();
    // Every byte had reached the disk; the agent had not yet been told.
    let config = rig.adapter_config();
    std::fs::copy(&bundle, &config.download_path).unwrap();
    let phase = Phase::Downloading {
        deployment: Deployment {
            action_id: offer["id"].as_str().unwrap().to_owned(),
            version: "1.6.0".into(),
            url: artifact["_links"]["download-http"]["href"]
                .as_str()
                .unwrap()
                .to_owned(),
            size_bytes: size,
            sha256: sha256.try_into().unwrap(),
            window: None,
        },
        bytes_so_far: size,
        attempts: 1,
        retry_at_unix_ms: None,
        progress_step: 10,
    };
    std::fs::write(&config.state_path, serde_json::to_vec(&phase).unwrap()).unwrap();

    // After the restart the resume asks for the bytes after the end; the fleet answers 416
    // with the length, and the file on disk is checked and installed.
    let mut adapter = rig.adapter("1.3.0").await;
    adapter.start().await.unwrap();
    adapter.run().await.unwrap();
    assert!(
        matches!(adapter.phase(), Phase::Rebooting { .. }),
        "{:?}",
        adapter.phase()
    );
    let slots = rig.service.client().await.unwrap().slots().await.unwrap();
    let b = slots
        .iter()
        .find(|s| s.bootname.as_deref() == Some("B"))
        .unwrap();
    assert_eq!(b.bundle_version.as_deref(), Some("1.6.0"));
    let status = rig.status(&rollout).await;
    assert_eq!(status["terminals"][0]["status"], "running");
}

#[tokio::test]
async fn a_download_shows_its_progress_on_the_screen_and_at_the_fleet_while_it_runs() {
    let rig = rig().await;
    let bundle = rig.service.bundle("1.7.0", &compatible(), &rig.service.pki);
    let size = std::fs::metadata(&bundle).unwrap().len();
    let uploaded = rig.upload(&bundle).await;
    let rollout = rig.roll_out(&uploaded).await;
    let mut adapter = rig.adapter("1.3.0").await;
    adapter.start().await.unwrap();
    let downloaded = adapter.host().downloaded.clone();
    // The shop's line stalls halfway through the bundle.
    rig.proxy.hold_after.store(size / 2, Ordering::SeqCst);

    let watch = async {
        // Held, the terminal has what the proxy let through: close to half of the bundle,
        // certainly two fifths. The screen was told, and so was the fleet: before the end.
        let started = std::time::Instant::now();
        let mut last_feedback = Value::Null;
        loop {
            let shown = downloaded.load(Ordering::SeqCst);
            if rig.proxy.holding.load(Ordering::SeqCst) && shown >= size * 2 / 5 {
                assert!(shown < size, "{shown} of {size}");
                last_feedback = rig.status(&rollout).await["terminals"][0]["last_feedback"].clone();
                if last_feedback["details"][0] == "downloading"
                    && last_feedback["progress"]["cnt"].as_u64() >= Some(size * 2 / 5)
                {
                    break;
                }
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "no progress while the download is held: the screen saw {shown} of {size} \
                 bytes, the fleet's last feedback is {last_feedback}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(last_feedback["progress"]["of"].as_u64(), Some(size));
        assert!(last_feedback["progress"]["cnt"].as_u64() < Some(size));
        rig.proxy.release.notify_one();
    };
    let (polled, ()) = tokio::join!(adapter.poll(), watch);
    polled.unwrap();
    assert!(
        matches!(adapter.phase(), Phase::Rebooting { .. }),
        "{:?}",
        adapter.phase()
    );
    assert_eq!(downloaded.load(Ordering::SeqCst), size);
}
