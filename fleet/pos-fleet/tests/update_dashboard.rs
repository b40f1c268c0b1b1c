//! The dashboard's Updates page over real HTTP on loopback, with bundles built and signed with
//! the real `rauc`: the operator uploads a bundle through the page's form and starts a rollout
//! from it; simulated terminals poll the DDI API and report; the page shows each stage's
//! terminals by phase and each terminal's version, slots and last feedback, and cancels.
//! Bad bundles through the form are refused with their reason and leave nothing behind; a
//! tenant owner and a store manager see and change only what the operator API lets them.
//! The HTTP tests run on SQLite and PostgreSQL; the browser test drives headless Chromium
//! through the same forms and writes `docs/screenshots/fleet-updates.png` when
//! `POS_UPDATE_SCREENSHOTS` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
mod browser;
mod update_support;

backend_tests!(
    a_bundle_uploaded_and_rolled_out_from_the_page_shows_each_terminal_and_stage,
    bad_bundles_through_the_form_are_refused_with_their_reason_and_nothing_is_kept,
    owners_and_managers_see_and_change_only_what_the_api_lets_them,
);

use pos_bundle::BundleFormat;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use update_support::{COMPATIBLE, Controller, bundle, controller, stranger, trusted};

/// A person logged in to the dashboard: the session cookie, and a client that shows redirects.
struct Session {
    base: String,
    cookie: String,
    client: reqwest::Client,
}

impl Session {
    async fn log_in(fleet: &common::Fleet, email: &str, password: &str) -> Session {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = client
            .post(format!("{}/ui/login", fleet.base))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let cookie = response.headers()["set-cookie"].to_str().unwrap();
        Session {
            base: fleet.base.clone(),
            cookie: cookie.split(';').next().unwrap().to_owned(),
            client,
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        self.answer(self.client.get(format!("{}{path}", self.base)))
            .await
    }

    /// The status of the request, and the page it shows: after a change, the page it sends
    /// the browser back to.
    async fn answer(&self, request: reqwest::RequestBuilder) -> (StatusCode, String) {
        let response = request.header("cookie", &self.cookie).send().await.unwrap();
        let status = response.status();
        if status == StatusCode::SEE_OTHER {
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            let (_, page) = Box::pin(self.get(&location)).await;
            return (status, page);
        }
        (status, response.text().await.unwrap())
    }

    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        self.answer(self.client.post(format!("{}{path}", self.base)).form(form))
            .await
    }

    /// Sends `bytes` as the upload form's file, as a browser does (`multipart/form-data`).
    async fn upload(&self, tenant: &str, file_name: &str, bytes: &[u8]) -> (StatusCode, String) {
        let boundary = "----open-pos-test-7d1f5e";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"bundle\"; \
             filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.answer(
            self.client
                .post(format!("{}/ui/t/{tenant}/updates/bundles", self.base))
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body),
        )
        .await
    }
}

fn unescape(html: &str) -> String {
    html.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The text of the notice at the top of the page.
fn notice(page: &str) -> String {
    let start = page
        .find(r#"id="notice">"#)
        .unwrap_or_else(|| panic!("no notice: {page}"));
    let text = &page[start + r#"id="notice">"#.len()..];
    unescape(&text[..text.find("</p>").unwrap()])
}

/// The table row carrying `data-{what}="{id}"`.
fn row<'a>(page: &'a str, what: &str, id: &str) -> &'a str {
    let marker = format!(r#"data-{what}="{id}""#);
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no row {marker} in {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</tr>").unwrap()]
}

/// The text of the row's cell of class `class`.
fn cell(row: &str, class: &str) -> String {
    let marker = format!(r#"class="{class}">"#);
    let start = row
        .find(&marker)
        .unwrap_or_else(|| panic!("no cell {class} in {row}"));
    let text = &row[start + marker.len()..];
    unescape(&text[..text.find("</td>").unwrap()])
}

/// The part of the page about one rollout.
fn rollout_card<'a>(page: &'a str, id: &str) -> &'a str {
    let marker = format!(r#"data-rollout="{id}""#);
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no rollout {id} in {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</article>").unwrap()]
}

/// Stage `stage`'s counts in a rollout card: terminals, then each phase.
fn stage_counts(card: &str, stage: u32) -> Vec<u32> {
    let row = row(card, "stage", &stage.to_string());
    [
        "total",
        "pending",
        "downloading",
        "installing",
        "installed",
        "failed",
        "cancelled",
    ]
    .iter()
    .map(|class| cell(row, &format!("num {class}")).parse().unwrap())
    .collect()
}

async fn report(fleet: &common::Fleet, till: &Controller, data: Value) {
    let (status, body) = fleet
        .ddi(
            "PUT",
            &format!("{}/configData", till.path()),
            Some(till.token()),
            Some(json!({"mode": "merge", "data": data})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn feedback(
    fleet: &common::Fleet,
    till: &Controller,
    action: &str,
    execution: &str,
    finished: &str,
    progress: Option<(u64, u64)>,
    detail: &str,
) {
    let mut result = json!({"finished": finished});
    if let Some((cnt, of)) = progress {
        result["progress"] = json!({"cnt": cnt, "of": of});
    }
    let (status, body) = fleet
        .ddi(
            "POST",
            &format!("{}/deploymentBase/{action}/feedback", till.path()),
            Some(till.token()),
            Some(
                json!({"status": {"execution": execution, "result": result, "details": [detail]}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The files in the fleet's bundle directory.
fn stored_files(fleet: &common::Fleet) -> Vec<String> {
    let dir = fleet.dir.path().join(pos_fleet::server::BUNDLES_DIR);
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

async fn bundle_ids(fleet: &common::Fleet) -> Vec<String> {
    let (status, list) = fleet
        .call("GET", "/api/v1/bundles", Some(&fleet.operator), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_second_store(fleet: &common::Fleet, tenant: &common::Tenant, name: &str) -> String {
    let (status, store) = fleet
        .call(
            "POST",
            &format!("/api/v1/tenants/{}/stores", tenant.id),
            Some(&tenant.owner),
            Some(json!({"name": name, "currency": "EUR"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{store}");
    store["id"].as_str().unwrap().to_owned()
}

async fn a_bundle_uploaded_and_rolled_out_from_the_page_shows_each_terminal_and_stage(
    backend: common::Backend,
) {
    let fleet = update_support::start(&backend, false).await;
    let acme = fleet.tenant("Acme").await;
    let hafen = a_second_store(&fleet, &acme, "Acme Hafen").await;
    let canary = controller(&fleet, &acme.owner, &acme.store, "Till Mitte").await;
    let mut others = vec![
        controller(&fleet, &acme.owner, &hafen, "Till Hafen 1").await,
        controller(&fleet, &acme.owner, &hafen, "Till Hafen 2").await,
    ];
    let ops = Session::log_in(&fleet, common::OPERATOR_EMAIL, common::OPERATOR_PASSWORD).await;
    let updates = format!("/ui/t/{}/updates", acme.id);

    // The page before anything: the terminals, none reported; no bundle; no rollout.
    let (status, page) = ops.get(&updates).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"href="/ui/t/"#) && page.contains(">Updates</a>"));
    assert!(page.contains("No bundle has been uploaded yet."));
    assert!(page.contains("No rollout yet."));
    let till = row(&page, "terminal", canary.enrolled.device.as_str());
    assert_eq!(cell(till, "version"), "not reported");
    assert_eq!(cell(till, "update"), "no update yet");

    // The canary reports what it runs: version and slots.
    report(
        &fleet,
        &canary,
        json!({"version": "1.9.0", "slot.rootfs.0": "booted good 1.9.0", "slot.rootfs.1": "inactive good 1.8.2", "shift": "open"}),
    )
    .await;

    // The operator uploads a bundle through the form.
    let work = tempfile::tempdir().unwrap();
    let path = bundle(
        work.path(),
        "2.0.0",
        COMPATIBLE,
        trusted(),
        BundleFormat::Verity,
    );
    let bytes = std::fs::read(&path).unwrap();
    let (status, page) = ops.upload(&acme.id, "update.raucb", &bytes).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert!(
        notice(&page).starts_with("Bundle 2.0.0 for open-pos-x86_64 was checked and stored ("),
        "{}",
        notice(&page)
    );
    let ids = bundle_ids(&fleet).await;
    assert_eq!(ids.len(), 1);
    let listed = row(&page, "bundle", &ids[0]);
    assert_eq!(cell(listed, "version"), "2.0.0");
    assert!(listed.contains(&hex(&Sha256::digest(&bytes))), "{listed}");
    assert!(listed.contains("verity") && listed.contains(COMPATIBLE));
    let till = row(&page, "terminal", canary.enrolled.device.as_str());
    assert_eq!(cell(till, "version"), "1.9.0");
    assert_eq!(cell(till, "booted"), "rootfs.0 · good · 1.9.0");
    assert_eq!(cell(till, "other-slots"), "rootfs.1 · good · 1.8.2");

    // A rollout from the form: the canary store first, then half of the others, then all.
    let (status, page) = ops
        .post_form(
            &format!("{updates}/rollouts"),
            &[
                ("bundle", &ids[0]),
                ("canary_store", &acme.store),
                ("stages", "50, 100"),
                ("failure_threshold_percent", "40"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let started = notice(&page);
    assert!(
        started.ends_with("started: 3 terminals in 3 stages."),
        "{started}"
    );
    let rollout = started
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches(':')
        .to_owned();
    let card = rollout_card(&page, &rollout);
    assert!(card.contains(r#"<span class="state running">running</span>"#));
    assert!(card.contains("Canary: Acme Mitte (now)"), "{card}");
    assert!(card.contains("Bundle 2.0.0 to every terminal"), "{card}");
    assert_eq!(stage_counts(card, 0), vec![1, 1, 0, 0, 0, 0, 0]);
    assert_eq!(stage_counts(card, 1), vec![1, 1, 0, 0, 0, 0, 0]);
    assert_eq!(stage_counts(card, 2), vec![1, 1, 0, 0, 0, 0, 0]);

    // The canary polls, downloads and installs; the page follows each step.
    let action = canary.offered(&fleet).await.unwrap();
    assert!(others[0].offered(&fleet).await.is_none());
    feedback(
        &fleet,
        &canary,
        &action,
        "proceeding",
        "none",
        Some((2, 5)),
        "downloading",
    )
    .await;
    let (_, page) = ops.get(&updates).await;
    assert_eq!(
        stage_counts(rollout_card(&page, &rollout), 0),
        vec![1, 0, 1, 0, 0, 0, 0]
    );
    let till = row(&page, "terminal", canary.enrolled.device.as_str());
    assert_eq!(cell(till, "update"), format!("downloading ({rollout})"));
    assert!(
        cell(till, "feedback").starts_with("proceeding · 40%: downloading — "),
        "{till}"
    );
    feedback(
        &fleet,
        &canary,
        &action,
        "downloaded",
        "none",
        None,
        "downloaded and verified; installing",
    )
    .await;
    let (_, page) = ops.get(&updates).await;
    assert_eq!(
        stage_counts(rollout_card(&page, &rollout), 0),
        vec![1, 0, 0, 1, 0, 0, 0]
    );
    feedback(
        &fleet,
        &canary,
        &action,
        "closed",
        "success",
        None,
        "running 2.0.0, slot marked good",
    )
    .await;
    // After the restart the terminal reports its new version and slots, as the fleet asks.
    assert!(canary.poll(&fleet).await["_links"]["configData"].is_object());
    report(
        &fleet,
        &canary,
        json!({"version": "2.0.0", "slot.rootfs.1": "booted good 2.0.0", "slot.rootfs.0": "inactive good 1.9.0"}),
    )
    .await;
    let (_, page) = ops.get(&updates).await;
    let till = row(&page, "terminal", canary.enrolled.device.as_str());
    assert_eq!(cell(till, "version"), "2.0.0");
    assert_eq!(cell(till, "booted"), "rootfs.1 · good · 2.0.0");
    assert_eq!(cell(till, "other-slots"), "rootfs.0 · good · 1.9.0");
    assert_eq!(cell(till, "update"), format!("installed ({rollout})"));
    let last = cell(till, "feedback");
    assert!(
        last.starts_with("closed · success: running 2.0.0, slot marked good — "),
        "{last}"
    );
    assert!(last.ends_with("(UTC)"), "{last}");
    let card = rollout_card(&page, &rollout);
    assert_eq!(stage_counts(card, 0), vec![1, 0, 0, 0, 1, 0, 0]);
    assert!(card.contains("50% of the others (now)"), "{card}");

    // Stage 2: one of the two others. It fails: above the 40% threshold, the rollout halts.
    let mut offered = Vec::new();
    for till in &others {
        offered.push(till.offered(&fleet).await);
    }
    let first = offered.iter().position(Option::is_some).unwrap();
    assert_eq!(offered.iter().filter(|o| o.is_some()).count(), 1);
    let failing = others.remove(first);
    let action = offered[first].clone().unwrap();
    feedback(
        &fleet,
        &failing,
        &action,
        "closed",
        "failure",
        None,
        "not enough free space: 300 MiB needed, 120 MiB free",
    )
    .await;
    let (_, page) = ops.get(&updates).await;
    let card = rollout_card(&page, &rollout);
    assert!(card.contains(r#"<span class="state halted">halted</span>"#));
    assert!(
        unescape(card)
            .contains("Halted: stage 2 failed on 1 of 1 terminals, above the 40% threshold."),
        "{card}"
    );
    assert_eq!(stage_counts(card, 1), vec![1, 0, 0, 0, 0, 1, 0]);
    let till = row(&page, "terminal", failing.enrolled.device.as_str());
    assert_eq!(cell(till, "update"), format!("failed ({rollout})"));
    assert!(
        cell(till, "feedback").starts_with(
            "closed · failure: not enough free space: 300 MiB needed, 120 MiB free — "
        ),
        "{till}"
    );
    assert_eq!(
        cell(
            row(&page, "terminal", others[0].enrolled.device.as_str()),
            "update"
        ),
        format!("pending ({rollout})")
    );

    // Cancelled from the page: the last terminal is never offered the update.
    let (status, page) = ops
        .post_form(&format!("{updates}/rollouts/{rollout}/cancel"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert!(notice(&page).starts_with(&format!("Rollout {rollout} was cancelled")));
    let card = rollout_card(&page, &rollout);
    assert!(card.contains(r#"<span class="state cancelled">cancelled</span>"#));
    assert!(!card.contains("Cancel rollout"));
    assert_eq!(stage_counts(card, 2), vec![1, 0, 0, 0, 0, 0, 1]);
    assert!(others[0].offered(&fleet).await.is_none());
    let status = update_support::rollout_status(&fleet, &fleet.operator, &rollout).await;
    assert_eq!(status["state"], "canceled");
    // Cancelling again says why nothing happened.
    let (status, page) = ops
        .post_form(&format!("{updates}/rollouts/{rollout}/cancel"), &[])
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        notice(&page),
        format!("Nothing was cancelled: Rollout {rollout} is already finished or cancelled.")
    );
}

async fn bad_bundles_through_the_form_are_refused_with_their_reason_and_nothing_is_kept(
    backend: common::Backend,
) {
    let fleet = update_support::start_configured(&backend, |u| u.bundle_bytes_max = 1 << 20).await;
    let acme = fleet.tenant("Acme").await;
    let ops = Session::log_in(&fleet, common::OPERATOR_EMAIL, common::OPERATOR_PASSWORD).await;
    let work = tempfile::tempdir().unwrap();
    let foreign = std::fs::read(bundle(
        work.path(),
        "2.0.1",
        "coffee-machine-arm64",
        trusted(),
        BundleFormat::Verity,
    ))
    .unwrap();
    let untrusted = std::fs::read(bundle(
        work.path(),
        "2.0.2",
        COMPATIBLE,
        stranger(),
        BundleFormat::Verity,
    ))
    .unwrap();
    assert!(foreign.len() < 1 << 20, "a test bundle fits the limit");
    let cases: [(&str, &[u8], StatusCode, &str); 4] = [
        (
            "coffee.raucb",
            &foreign,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Nothing was stored: The bundle is for 'coffee-machine-arm64', but this fleet's \
             terminals are 'open-pos-x86_64'.",
        ),
        (
            "stranger.raucb",
            &untrusted,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Nothing was stored: The bundle's signature was not accepted: signature \
             verification failed",
        ),
        (
            "photos.zip",
            &b"PK\x03\x04 a zip file".repeat(100),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Nothing was stored: This file is not an update bundle:",
        ),
        (
            "disk.img",
            &vec![0u8; 3 << 19],
            StatusCode::PAYLOAD_TOO_LARGE,
            "Nothing was stored: The file is larger than the fleet accepts for a bundle (1 MiB).",
        ),
    ];
    for (name, bytes, expected_status, expected) in cases {
        let (status, page) = ops.upload(&acme.id, name, bytes).await;
        assert_eq!(status, expected_status, "{name}: {page}");
        let said = notice(&page);
        assert!(said.starts_with(expected), "{name}: {said}");
        assert!(page.contains(r#"class="notice error""#));
        assert!(page.contains("No bundle has been uploaded yet."), "{name}");
    }
    // The form sent without a file.
    let (status, page) = ops.upload(&acme.id, "", b"").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        notice(&page),
        "Nothing was stored: Choose a bundle file (.raucb) to upload."
    );
    // Nothing was kept of any of them: no file, no record.
    assert_eq!(stored_files(&fleet), Vec::<String>::new());
    assert!(bundle_ids(&fleet).await.is_empty());
}

async fn owners_and_managers_see_and_change_only_what_the_api_lets_them(backend: common::Backend) {
    let fleet = update_support::start(&backend, false).await;
    let acme = fleet.tenant("Acme").await;
    let bolt = fleet.tenant("Bolt").await;
    let hafen = a_second_store(&fleet, &acme, "Acme Hafen").await;
    let acme_till = controller(&fleet, &acme.owner, &acme.store, "Acme Till").await;
    let hafen_till = controller(&fleet, &acme.owner, &hafen, "Hafen Till").await;
    let bolt_till = controller(&fleet, &bolt.owner, &bolt.store, "Bolt Till").await;
    let work = tempfile::tempdir().unwrap();
    let path = bundle(
        work.path(),
        "2.1.0",
        COMPATIBLE,
        trusted(),
        BundleFormat::Verity,
    );
    let bytes = std::fs::read(&path).unwrap();
    let bundle_id = fleet.accepted_bundle(&path).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bolt_rollout = update_support::rollout(
        &fleet,
        &bolt.owner,
        &bolt.id,
        json!({"bundle": bundle_id, "target": "tenant", "stages": [100], "failure_threshold_percent": 10}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner = Session::log_in(&fleet, "owner@acme.example", "owner-password-1").await;
    let updates = format!("/ui/t/{}/updates", acme.id);

    // Another tenant's page, and changes through it, are as if the tenant did not exist.
    let refusal = format!("No tenant {} among those you manage.", bolt.id);
    let (status, page) = owner.get(&format!("/ui/t/{}/updates", bolt.id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        page.contains(&refusal) && !page.contains("Bolt Till"),
        "{page}"
    );
    let (status, page) = owner
        .post_form(
            &format!("/ui/t/{}/updates/rollouts", bolt.id),
            &[
                ("bundle", &bundle_id),
                ("stages", "100"),
                ("failure_threshold_percent", "10"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains(&refusal));

    // The owner's own page: its terminals only, the bundles but no upload form.
    let (status, page) = owner.get(&updates).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Acme Till") && page.contains("Hafen Till"));
    assert!(!page.contains("Bolt Till") && !page.contains(bolt_till.enrolled.device.as_str()));
    assert!(
        !page.contains(&bolt_rollout),
        "Bolt's rollout is not Acme's"
    );
    assert!(page.contains(&format!(r#"data-bundle="{bundle_id}""#)));
    assert!(!page.contains(r#"id="bundle-form""#));
    assert!(page.contains("Bundles are uploaded by the fleet operator."));
    assert!(page.contains(r#"id="rollout-form""#));
    // An upload sent all the same is refused, and nothing is kept.
    let (status, page) = owner.upload(&acme.id, "update.raucb", &bytes).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        notice(&page),
        "Nothing was stored: Only the fleet operator (super-admin) uploads update bundles."
    );
    assert_eq!(bundle_ids(&fleet).await, vec![bundle_id.clone()]);
    // Bolt's terminal cannot be put in Acme's rollout, nor Bolt's rollout cancelled.
    let (status, page) = owner
        .post_form(
            &format!("{updates}/rollouts"),
            &[
                ("bundle", &bundle_id),
                ("terminal", bolt_till.enrolled.device.as_str()),
                ("stages", "100"),
                ("failure_threshold_percent", "10"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        notice(&page),
        format!(
            "Nothing was started: No enrolled terminal {} in tenant {}.",
            bolt_till.enrolled.device, acme.id
        )
    );
    let (status, page) = owner
        .post_form(&format!("{updates}/rollouts/{bolt_rollout}/cancel"), &[])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        notice(&page),
        format!("Nothing was cancelled: No rollout {bolt_rollout} among those you manage.")
    );
    let status = update_support::rollout_status(&fleet, &bolt.owner, &bolt_rollout).await;
    assert_eq!(status["state"], "running");
    assert!(bolt_till.offered(&fleet).await.is_some());
    // A plan the rollout rules refuse is refused with their reason.
    let (status, page) = owner
        .post_form(
            &format!("{updates}/rollouts"),
            &[
                ("bundle", &bundle_id),
                ("stages", "50, 20, 100"),
                ("failure_threshold_percent", "10"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        notice(&page),
        "Nothing was started: Stage percentages must rise and stay between 1 and 100; got \
         [50, 20, 100]."
    );
    // The owner may roll out to one of its stores (the API lets owners).
    let (status, page) = owner
        .post_form(
            &format!("{updates}/rollouts"),
            &[
                ("bundle", &bundle_id),
                ("store", &hafen),
                ("stages", "100"),
                ("failure_threshold_percent", "10"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert!(notice(&page).ends_with("started: 1 terminal in 1 stage."));
    assert!(page.contains("Bundle 2.1.0 to the terminals of Acme Hafen"));
    assert!(hafen_till.offered(&fleet).await.is_some());
    assert!(acme_till.offered(&fleet).await.is_none());

    // A store manager: their store's terminals and window, no rollouts.
    let (status, body) = fleet
        .call(
            "POST",
            &format!("/api/v1/tenants/{}/accounts", acme.id),
            Some(&acme.owner),
            Some(json!({"email": "kim@acme.example", "password": "manager-password", "role": "store_manager", "store": acme.store})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let manager = Session::log_in(&fleet, "kim@acme.example", "manager-password").await;
    let (status, page) = manager.get(&updates).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Acme Till") && !page.contains("Hafen Till"));
    assert!(!page.contains(r#"id="rollouts""#) && !page.contains(r#"id="rollout-form""#));
    let (status, page) = manager
        .post_form(
            &format!("{updates}/rollouts"),
            &[
                ("bundle", &bundle_id),
                ("stages", "100"),
                ("failure_threshold_percent", "10"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        notice(&page),
        "Nothing was started: A store manager cannot change tenant-wide records; ask the \
         tenant owner."
    );
    assert!(acme_till.offered(&fleet).await.is_none());
    // The manager sets their store's window (the API lets them), not another store's.
    let (status, page) = manager
        .post_form(
            &format!("{updates}/windows"),
            &[
                ("store", &acme.store),
                ("window", "daily"),
                ("start", "02:00"),
                ("end", "05:00"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert_eq!(
        notice(&page),
        "Acme Mitte now takes updates every day from 02:00 to 05:00 (UTC)."
    );
    assert_eq!(
        cell(row(&page, "store", &acme.store), "window"),
        "every day from 02:00 to 05:00 (UTC)"
    );
    let (status, page) = manager
        .post_form(
            &format!("{updates}/windows"),
            &[("store", &hafen), ("window", "after_z_close")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        notice(&page),
        format!("Nothing was changed: No store {hafen} among those you manage.")
    );
    // The owner sees the window the manager set, and the one left as it was.
    let (_, page) = owner.get(&updates).await;
    assert_eq!(cell(row(&page, "store", &hafen), "window"), "at any time");
}

/// The Updates page as the operator uses it, in headless Chromium: a bundle chosen in the file
/// dialog and uploaded, a bad one refused, a rollout started; screenshot on request.
#[tokio::test]
async fn the_updates_page_in_a_browser() {
    let fleet = update_support::start(&common::Backend::Sqlite, false).await;
    let acme = fleet.tenant("Acme").await;
    let till = controller(&fleet, &acme.owner, &acme.store, "Till 1").await;
    report(
        &fleet,
        &till,
        json!({"version": "1.9.0", "slot.rootfs.0": "booted good 1.9.0", "slot.rootfs.1": "inactive good 1.8.2"}),
    )
    .await;
    let work = tempfile::tempdir().unwrap();
    let good = bundle(
        work.path(),
        "2.0.0",
        COMPATIBLE,
        trusted(),
        BundleFormat::Verity,
    );
    let foreign = bundle(
        work.path(),
        "2.0.1",
        "coffee-machine-arm64",
        trusted(),
        BundleFormat::Verity,
    );
    let base = fleet.base.clone();
    let tenant = acme.id.clone();
    let device = till.enrolled.device.as_str().to_owned();
    let (shot, rollout) = tokio::task::spawn_blocking(move || {
        let mut browser = browser::Browser::start(1280, 1100);
        browser.open(&format!("{base}/ui/login"));
        browser.fill("#email", common::OPERATOR_EMAIL);
        browser.fill("#password", common::OPERATOR_PASSWORD);
        browser.submit("#login");
        browser.open(&format!("{base}/ui/t/{tenant}/updates"));

        browser.choose_file("#bundle-file", &foreign);
        browser.submit("#upload-bundle");
        let refused = browser.text("#notice");
        assert!(
            refused.contains("The bundle is for 'coffee-machine-arm64'"),
            "{refused}"
        );

        browser.choose_file("#bundle-file", &good);
        browser.submit("#upload-bundle");
        let stored = browser.text("#notice");
        assert!(
            stored.starts_with("Bundle 2.0.0 for open-pos-x86_64"),
            "{stored}"
        );

        browser.fill("#rollout-stages", "100");
        browser.submit("#start-rollout");
        let started = browser.text("#notice");
        assert!(
            started.ends_with("started: 1 terminal in 1 stage."),
            "{started}"
        );
        let rollout = started
            .split_whitespace()
            .nth(1)
            .unwrap()
            .trim_end_matches(':')
            .to_owned();
        let line = browser.text(&format!("tr[data-terminal='{device}']"));
        assert!(line.contains("1.9.0") && line.contains("pending"), "{line}");
        (browser.screenshot(), rollout)
    })
    .await
    .unwrap();
    assert!(
        till.offered(&fleet).await.is_some(),
        "{rollout} offers the update"
    );
    assert!(shot.starts_with(b"\x89PNG") && shot.len() > 10_000);
    if std::env::var_os("POS_UPDATE_SCREENSHOTS").is_some() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
        std::fs::write(dir.join("fleet-updates.png"), shot).unwrap();
    }
}
