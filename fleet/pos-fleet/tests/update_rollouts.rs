//! Rollouts against the real server with many simulated terminals polling the DDI API: the
//! canary store first, then percentages of the rest; a halt when a stage fails too often;
//! store maintenance windows; the status an operator reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
mod update_support;

backend_tests!(
    the_canary_store_goes_first_then_stages_and_a_failing_stage_halts_the_rollout,
    a_rollout_through_every_stage_finishes_and_shows_each_terminal,
    maintenance_windows_hold_the_install_until_the_store_is_ready,
    rollouts_are_refused_with_a_reason_and_kept_to_their_tenant
);

use pos_bundle::BundleFormat;
use reqwest::StatusCode;
use serde_json::{Value, json};
use update_support::{
    COMPATIBLE, Controller, bundle, controller, rollout, rollout_status, trusted,
};

struct Chain {
    fleet: common::Fleet,
    tenant: common::Tenant,
    /// The stores, the first being the tenant's first store.
    stores: Vec<String>,
    /// The terminals of each store.
    tills: Vec<Vec<Controller>>,
    bundle: Value,
    _work: tempfile::TempDir,
}

/// A tenant with `per_store.len()` stores and that many terminals in each.
async fn chain(backend: common::Backend, per_store: &[usize]) -> Chain {
    let fleet = update_support::start(&backend, false).await;
    let tenant = fleet.tenant("Acme").await;
    let mut stores = vec![tenant.store.clone()];
    for index in 1..per_store.len() {
        let (status, store) = fleet
            .call(
                "POST",
                &format!("/api/v1/tenants/{}/stores", tenant.id),
                Some(&tenant.owner),
                Some(json!({"name": format!("Branch {index}"), "currency": "EUR"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{store}");
        stores.push(store["id"].as_str().unwrap().to_owned());
    }
    let mut tills = Vec::new();
    for (store, count) in stores.iter().zip(per_store) {
        let mut here = Vec::new();
        for n in 0..*count {
            here.push(controller(&fleet, &tenant.owner, store, &format!("Till {n}")).await);
        }
        tills.push(here);
    }
    let work = tempfile::tempdir().unwrap();
    let path = bundle(
        work.path(),
        "2.0.0",
        COMPATIBLE,
        trusted(),
        BundleFormat::Verity,
    );
    let bundle = fleet.accepted_bundle(&path).await;
    Chain {
        fleet,
        tenant,
        stores,
        tills,
        bundle,
        _work: work,
    }
}

impl Chain {
    fn all(&self) -> impl Iterator<Item = &Controller> {
        self.tills.iter().flatten()
    }

    /// The terminals that are offered a deployment now, with their action ids.
    async fn offered(&self) -> Vec<(&Controller, String)> {
        let mut out = Vec::new();
        for till in self.all() {
            if let Some(action) = till.offered(&self.fleet).await {
                out.push((till, action));
            }
        }
        out
    }
}

async fn the_canary_store_goes_first_then_stages_and_a_failing_stage_halts_the_rollout(
    backend: common::Backend,
) {
    // A canary store with 3 terminals, and 12 terminals in three other stores.
    let chain = chain(backend, &[3, 4, 4, 4]).await;
    let started = rollout(
        &chain.fleet,
        &chain.tenant.owner,
        &chain.tenant.id,
        json!({
            "bundle": chain.bundle["id"], "target": "tenant",
            "canary_store": chain.stores[0], "stages": [25, 100], "failure_threshold_percent": 30,
        }),
    )
    .await;
    let id = started["id"].as_str().unwrap().to_owned();
    assert_eq!(started["state"], "running");
    assert_eq!(started["current_stage"], 0);
    let totals: Vec<u64> = started["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["total"].as_u64().unwrap())
        .collect();
    assert_eq!(totals, vec![3, 3, 9]);

    // Only the canary store's terminals are offered the update.
    let offered = chain.offered().await;
    assert_eq!(offered.len(), 3);
    for (till, _) in &offered {
        assert_eq!(till.enrolled.store.as_str(), chain.stores[0]);
    }
    // Two succeed; the stage is not done until the third reports.
    for (till, action) in &offered[..2] {
        till.feedback(&chain.fleet, action, "closed", "success")
            .await;
    }
    assert_eq!(chain.offered().await.len(), 1);
    let (till, action) = &offered[2];
    till.feedback(&chain.fleet, action, "proceeding", "none")
        .await;
    till.feedback(&chain.fleet, action, "closed", "success")
        .await;

    // Stage 2: a quarter of the other 12, rounded up.
    let offered = chain.offered().await;
    assert_eq!(offered.len(), 3);
    assert!(
        offered
            .iter()
            .all(|(t, _)| t.enrolled.store.as_str() != chain.stores[0])
    );
    let status = rollout_status(&chain.fleet, &chain.tenant.owner, &id).await;
    assert_eq!(status["current_stage"], 1);

    // One failure in three is above 30%: the rollout halts at once.
    let (first, first_action) = &offered[0];
    first
        .feedback(&chain.fleet, first_action, "closed", "failure")
        .await;
    let status = rollout_status(&chain.fleet, &chain.tenant.owner, &id).await;
    assert_eq!(status["state"], "halted", "{status}");
    assert_eq!(
        status["halt_reason"],
        "stage 2 failed on 1 of 3 terminals, above the 30% threshold"
    );
    // The terminals of the halted stage that had not started are not offered it any more;
    // no terminal of the last stage ever was.
    let offered = chain.offered().await;
    assert!(offered.is_empty(), "{}", offered.len());
    let pending = status["terminals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "pending")
        .count();
    assert_eq!(pending, 11);
    // A halted rollout blocks its terminals until it is cancelled.
    let (status_code, body) = chain
        .fleet
        .call(
            "POST",
            &format!("/api/v1/tenants/{}/rollouts", chain.tenant.id),
            Some(&chain.tenant.owner),
            Some(json!({"bundle": chain.bundle["id"], "target": "tenant", "stages": [100], "failure_threshold_percent": 10})),
        )
        .await;
    assert_eq!(status_code, StatusCode::CONFLICT);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains(&format!("is still in rollout {id}"))
    );
    let (status_code, cancelled) = chain
        .fleet
        .call(
            "POST",
            &format!("/api/v1/rollouts/{id}/cancel"),
            Some(&chain.tenant.owner),
            None,
        )
        .await;
    assert_eq!(status_code, StatusCode::OK);
    assert_eq!(cancelled["state"], "canceled");
    assert_eq!(
        cancelled["terminals"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["status"] == "canceled")
            .count(),
        11
    );
}

async fn a_rollout_through_every_stage_finishes_and_shows_each_terminal(backend: common::Backend) {
    let chain = chain(backend, &[2, 5, 5]).await;
    let stores = json!([chain.stores[1], chain.stores[2]]);
    let started = rollout(
        &chain.fleet,
        &chain.tenant.owner,
        &chain.tenant.id,
        json!({
            "bundle": chain.bundle["id"], "target": {"stores": stores},
            "stages": [10, 50, 100], "failure_threshold_percent": 20,
        }),
    )
    .await;
    let id = started["id"].as_str().unwrap().to_owned();
    let mut waves = Vec::new();
    loop {
        let offered = chain.offered().await;
        if offered.is_empty() {
            break;
        }
        waves.push(offered.len());
        for (till, action) in &offered {
            // The first store's terminals are not in this rollout.
            assert_ne!(till.enrolled.store.as_str(), chain.stores[0]);
            till.feedback(&chain.fleet, action, "closed", "success")
                .await;
        }
    }
    // 10% of 10 is 1, 50% is 5, then the rest.
    assert_eq!(waves, vec![1, 4, 5]);
    let status = rollout_status(&chain.fleet, &chain.tenant.owner, &id).await;
    assert_eq!(status["state"], "finished");
    assert_eq!(status["terminals"].as_array().unwrap().len(), 10);
    assert!(
        status["terminals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["status"] == "succeeded" && t["last_feedback"]["execution"] == "closed")
    );
}

async fn deployment(fleet: &common::Fleet, till: &Controller) -> Value {
    let action = till.offered(fleet).await.unwrap();
    let (status, body) = fleet
        .ddi(
            "GET",
            &format!("{}/deploymentBase/{action}", till.path()),
            Some(till.token()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    body["deployment"].clone()
}

async fn maintenance_windows_hold_the_install_until_the_store_is_ready(backend: common::Backend) {
    let chain = chain(backend, &[1, 1]).await;
    let night_till = &chain.tills[0][0];
    let z_till = &chain.tills[1][0];
    // The first store installs only in a window that is closed now; the second after its Z.
    let now_minute = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 60
        % 1440) as u16;
    let at = |m: u16| format!("{:02}:{:02}", (m % 1440) / 60, m % 60);
    let closed_window = json!({"daily": {"start": at(now_minute + 120), "end": at(now_minute + 180), "utc_offset_minutes": 0}});
    let open_window = json!({"daily": {"start": at(now_minute + 1439), "end": at(now_minute + 60), "utc_offset_minutes": 0}});
    for (store, window) in [
        (&chain.stores[0], closed_window),
        (&chain.stores[1], json!("after_z_close")),
    ] {
        let (status, body) = chain
            .fleet
            .call(
                "PUT",
                &format!("/api/v1/stores/{store}/update-window"),
                Some(&chain.tenant.owner),
                Some(window),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let (status, body) = chain
        .fleet
        .call(
            "PUT",
            &format!("/api/v1/stores/{}/update-window", chain.stores[0]),
            Some(&chain.tenant.owner),
            Some(json!({"daily": {"start": "2:00", "end": "05:00", "utc_offset_minutes": 0}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "'2:00' is not a time of day like 02:00");
    rollout(
        &chain.fleet,
        &chain.tenant.owner,
        &chain.tenant.id,
        json!({"bundle": chain.bundle["id"], "target": "tenant", "stages": [100], "failure_threshold_percent": 0}),
    )
    .await;

    // Both may download; neither may install yet.
    for till in [night_till, z_till] {
        let d = deployment(&chain.fleet, till).await;
        assert_eq!(d["download"], "forced");
        assert_eq!(d["update"], "skip");
        assert_eq!(d["maintenanceWindow"], "unavailable");
    }
    // The shift closes on the second store's terminal: it may install now.
    let (status, _) = chain
        .fleet
        .ddi(
            "PUT",
            &format!("{}/configData", z_till.path()),
            Some(z_till.token()),
            Some(json!({"data": {"shift": "closed"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let d = deployment(&chain.fleet, z_till).await;
    assert_eq!(
        (d["update"].as_str(), d["maintenanceWindow"].as_str()),
        (Some("forced"), Some("available"))
    );
    // The first store's window is moved to now.
    let (status, _) = chain
        .fleet
        .call(
            "PUT",
            &format!("/api/v1/stores/{}/update-window", chain.stores[0]),
            Some(&chain.tenant.owner),
            Some(open_window),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let d = deployment(&chain.fleet, night_till).await;
    assert_eq!(
        (d["update"].as_str(), d["maintenanceWindow"].as_str()),
        (Some("forced"), Some("available"))
    );
}

async fn rollouts_are_refused_with_a_reason_and_kept_to_their_tenant(backend: common::Backend) {
    let chain = chain(backend, &[1]).await;
    let other = chain.fleet.tenant("Rival").await;
    let create = |token: &str, tenant: &str, body: Value| {
        let fleet = &chain.fleet;
        let (token, tenant) = (token.to_owned(), tenant.to_owned());
        async move {
            fleet
                .call(
                    "POST",
                    &format!("/api/v1/tenants/{tenant}/rollouts"),
                    Some(&token),
                    Some(body),
                )
                .await
        }
    };
    let plan = |target: Value| json!({"bundle": chain.bundle["id"], "target": target, "stages": [100], "failure_threshold_percent": 10});
    // Another tenant's owner cannot roll out to this tenant, nor name its terminals.
    let (status, _) = create(&other.owner, &chain.tenant.id, plan(json!("tenant"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mine = chain.tills[0][0].enrolled.device.as_str();
    let (status, body) = create(&other.owner, &other.id, plan(json!({"terminals": [mine]}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["message"],
        format!("no enrolled terminal {mine} in tenant {}", other.id)
    );
    // A tenant without terminals, bad stages, an unknown bundle.
    let (status, body) = create(&other.owner, &other.id, plan(json!("tenant"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "the rollout targets no terminal");
    let (status, body) = create(
        &chain.tenant.owner,
        &chain.tenant.id,
        json!({"bundle": chain.bundle["id"], "target": "tenant", "stages": [50], "failure_threshold_percent": 10}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "the last stage must reach 100% of the terminals; it reaches 50%"
    );
    let (status, body) = create(
        &chain.tenant.owner,
        &chain.tenant.id,
        json!({"bundle": "bundle-nope", "target": "tenant", "stages": [100], "failure_threshold_percent": 10}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "no bundle bundle-nope");
    // Nothing was created by any of them.
    let (_, list) = chain
        .fleet
        .call(
            "GET",
            &format!("/api/v1/tenants/{}/rollouts", chain.tenant.id),
            Some(&chain.tenant.owner),
            None,
        )
        .await;
    assert_eq!(list, json!([]));
    assert!(chain.tills[0][0].offered(&chain.fleet).await.is_none());
}
