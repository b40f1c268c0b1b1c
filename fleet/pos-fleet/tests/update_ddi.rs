//! The hawkBit-shaped device API over real HTTP on loopback with a real SQLite file: poll,
//! deploymentBase, feedback, cancel, configData, the TargetToken, and the artifact download
//! with Range, ETag and Last-Modified.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
mod update_support;

backend_tests!(
    a_terminal_without_a_valid_target_token_is_refused_with_a_reason,
    poll_deployment_feedback_and_config_data_follow_hawkbit,
    a_cancelled_rollout_is_cancelled_on_the_terminal_through_cancel_action,
    the_artifact_is_served_in_ranges_with_etag_and_last_modified
);

use pos_bundle::BundleFormat;
use reqwest::StatusCode;
use serde_json::{Value, json};
use update_support::{
    COMPATIBLE, Controller, bundle, controller, rollout, rollout_status, trusted,
};

struct Rig {
    fleet: common::Fleet,
    tenant: common::Tenant,
    bundle: Value,
    bytes: Vec<u8>,
    _work: tempfile::TempDir,
}

async fn rig(backend: common::Backend) -> Rig {
    let fleet = update_support::start(&backend, false).await;
    let tenant = fleet.tenant("Acme").await;
    let work = tempfile::tempdir().unwrap();
    let path = bundle(
        work.path(),
        "1.4.0",
        COMPATIBLE,
        trusted(),
        BundleFormat::Verity,
    );
    let bundle = fleet.accepted_bundle(&path).await;
    Rig {
        bytes: std::fs::read(&path).unwrap(),
        fleet,
        tenant,
        bundle,
        _work: work,
    }
}

async fn offer_to(rig: &Rig, terminals: &[&Controller]) -> Value {
    let ids: Vec<&str> = terminals
        .iter()
        .map(|t| t.enrolled.device.as_str())
        .collect();
    rollout(
        &rig.fleet,
        &rig.tenant.owner,
        &rig.tenant.id,
        json!({
            "bundle": rig.bundle["id"], "target": {"terminals": ids},
            "stages": [100], "failure_threshold_percent": 50,
        }),
    )
    .await
}

async fn a_terminal_without_a_valid_target_token_is_refused_with_a_reason(
    backend: common::Backend,
) {
    let rig = rig(backend).await;
    let till = controller(&rig.fleet, &rig.tenant.owner, &rig.tenant.store, "Till 1").await;
    let other = controller(&rig.fleet, &rig.tenant.owner, &rig.tenant.store, "Till 2").await;

    let (status, body) = rig.fleet.ddi("GET", &till.path(), None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthenticated");
    assert!(
        body["message"].as_str().unwrap().starts_with(
            "no target token was sent: send `Authorization: TargetToken <credential>`"
        ),
        "{body}"
    );
    let (status, body) = rig
        .fleet
        .ddi("GET", &till.path(), Some("0123456789abcdef"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["message"],
        "this target token is unknown to the fleet; enrol the terminal again"
    );
    // A bearer token (the sync API's scheme) is not a target token.
    let response = rig
        .fleet
        .client
        .get(format!("{}{}", rig.fleet.base, till.path()))
        .bearer_auth(till.token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // Another terminal's token does not open this controller.
    let (status, body) = rig
        .fleet
        .ddi("GET", &till.path(), Some(other.token()), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("this target token belongs to another controller"),
        "{body}"
    );
    // One terminal cannot read or answer another's action.
    let started = offer_to(&rig, &[&till]).await;
    assert_eq!(started["state"], "running");
    let action = till.offered(&rig.fleet).await.unwrap();
    for (method, resource) in [
        ("GET", format!("deploymentBase/{action}")),
        ("POST", format!("deploymentBase/{action}/feedback")),
        ("GET", format!("cancelAction/{action}")),
    ] {
        let body = json!({"status": {"execution": "closed", "result": {"finished": "failure"}}});
        let (status, answer) = rig
            .fleet
            .ddi(
                method,
                &format!("{}/{resource}", other.path()),
                Some(other.token()),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{resource}: {answer}");
        assert_eq!(
            answer["message"],
            format!("this terminal has no action {action}")
        );
    }
    let status = rollout_status(
        &rig.fleet,
        &rig.tenant.owner,
        started["id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status["terminals"][0]["status"], "pending");
    // A revoked terminal is told so.
    let (status, _) = rig
        .fleet
        .call(
            "POST",
            &format!(
                "/api/v1/terminals/{}/revoke",
                other.enrolled.device.as_str()
            ),
            Some(&rig.tenant.owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = rig
        .fleet
        .ddi("GET", &other.path(), Some(other.token()), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "credential_revoked", "{body}");
}

async fn poll_deployment_feedback_and_config_data_follow_hawkbit(backend: common::Backend) {
    let rig = rig(backend).await;
    let till = controller(&rig.fleet, &rig.tenant.owner, &rig.tenant.store, "Till 1").await;

    // Nothing to install yet; the fleet wants the terminal's attributes.
    let poll = till.poll(&rig.fleet).await;
    assert_eq!(poll["config"]["polling"]["sleep"], "00:05:00");
    assert!(poll["_links"]["deploymentBase"].is_null(), "{poll}");
    let config_href = poll["_links"]["configData"]["href"].as_str().unwrap();
    assert!(config_href.ends_with(&format!("{}/configData", till.path())));
    let (status, _) = rig
        .fleet
        .ddi(
            "PUT",
            config_href,
            Some(till.token()),
            Some(json!({"mode": "merge", "data": {"version": "1.3.0", "slot.rootfs.0": "booted good"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = rig
        .fleet
        .ddi(
            "PUT",
            config_href,
            Some(till.token()),
            Some(json!({"data": {"version": 13}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "config data values are strings; 'version' is not"
    );
    let poll = till.poll(&rig.fleet).await;
    assert_eq!(poll["_links"], json!({}), "{poll}");
    // The store's update view shows what the terminal reported.
    let (status, terminals) = rig
        .fleet
        .call(
            "GET",
            &format!("/api/v1/stores/{}/updates", rig.tenant.store),
            Some(&rig.tenant.owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{terminals}");
    assert_eq!(terminals[0]["terminal"], till.enrolled.device.as_str());
    assert_eq!(terminals[0]["installed_version"], "1.3.0");
    assert_eq!(terminals[0]["slots"]["slot.rootfs.0"], "booted good");
    assert_eq!(terminals[0]["rollout"], Value::Null);

    // A rollout offers the bundle.
    let started = offer_to(&rig, &[&till]).await;
    let rollout_id = started["id"].as_str().unwrap().to_owned();
    let poll = till.poll(&rig.fleet).await;
    let href = poll["_links"]["deploymentBase"]["href"].as_str().unwrap();
    assert!(
        href.contains("/deploymentBase/") && href.contains("?c="),
        "{href}"
    );
    let (status, deployment) = rig.fleet.ddi("GET", href, Some(till.token()), None).await;
    assert_eq!(status, StatusCode::OK, "{deployment}");
    let action = deployment["id"].as_str().unwrap().to_owned();
    assert_eq!(deployment["deployment"]["download"], "forced");
    assert_eq!(deployment["deployment"]["update"], "forced");
    assert!(deployment["deployment"]["maintenanceWindow"].is_null());
    let chunks = deployment["deployment"]["chunks"].as_array().unwrap();
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0]["part"], "os");
    assert_eq!(chunks[0]["version"], "1.4.0");
    let artifacts = chunks[0]["artifacts"].as_array().unwrap();
    assert_eq!(artifacts.len(), 1);
    let artifact = &artifacts[0];
    assert_eq!(artifact["filename"], "open-pos-x86_64-1.4.0.raucb");
    assert_eq!(artifact["size"], rig.bytes.len());
    for hash in ["sha1", "md5", "sha256"] {
        assert_eq!(artifact["hashes"][hash], rig.bundle[hash], "{hash}");
    }
    let download = artifact["_links"]["download-http"]["href"]
        .as_str()
        .unwrap();
    let response = rig
        .fleet
        .client
        .get(download)
        .header("authorization", format!("TargetToken {}", till.token()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        rig.bytes.as_slice()
    );

    // Feedback as the terminal goes: downloading, installed, running the new version.
    let proceeding = json!({
        "id": action, "time": "20261129T103000",
        "status": {"execution": "proceeding", "result": {"finished": "none", "progress": {"cnt": 2, "of": 5}}, "details": ["downloading"]},
    });
    let (status, _) = rig
        .fleet
        .ddi(
            "POST",
            &format!("{}/deploymentBase/{action}/feedback", till.path()),
            Some(till.token()),
            Some(proceeding),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let status_now = rollout_status(&rig.fleet, &rig.tenant.owner, &rollout_id).await;
    assert_eq!(status_now["terminals"][0]["status"], "running");
    assert_eq!(
        status_now["terminals"][0]["last_feedback"]["progress"],
        json!({"cnt": 2, "of": 5})
    );
    assert_eq!(status_now["terminals"][0]["installed_version"], "1.3.0");
    let (_, terminals) = rig
        .fleet
        .call(
            "GET",
            &format!("/api/v1/stores/{}/updates", rig.tenant.store),
            Some(&rig.tenant.owner),
            None,
        )
        .await;
    assert_eq!(terminals[0]["rollout"], rollout_id.as_str());
    assert_eq!(terminals[0]["status"], "running");
    assert_eq!(
        terminals[0]["last_feedback"]["details"],
        json!(["downloading"])
    );
    assert_eq!(
        status_now["terminals"][0]["slots"]["slot.rootfs.0"],
        "booted good"
    );
    // The deployment now carries its history.
    let (_, deployment) = rig.fleet.ddi("GET", href, Some(till.token()), None).await;
    assert_eq!(deployment["actionHistory"]["status"], "proceeding");
    assert_eq!(
        deployment["actionHistory"]["messages"],
        json!(["downloading"])
    );

    assert_eq!(
        till.feedback(&rig.fleet, &action, "closed", "success")
            .await,
        StatusCode::OK
    );
    let done = rollout_status(&rig.fleet, &rig.tenant.owner, &rollout_id).await;
    assert_eq!(done["terminals"][0]["status"], "succeeded");
    assert_eq!(done["state"], "finished");
    // The store's view still says how the terminal's last update ended.
    let (_, terminals) = rig
        .fleet
        .call(
            "GET",
            &format!("/api/v1/stores/{}/updates", rig.tenant.store),
            Some(&rig.tenant.owner),
            None,
        )
        .await;
    assert_eq!(terminals[0]["rollout"], rollout_id.as_str());
    assert_eq!(terminals[0]["status"], "succeeded");
    assert_eq!(terminals[0]["last_feedback"]["execution"], "closed");
    assert_eq!(terminals[0]["last_feedback"]["finished"], "success");
    // Nothing more to install; the fleet asks for the attributes again (the version changed).
    let poll = till.poll(&rig.fleet).await;
    assert!(poll["_links"]["deploymentBase"].is_null(), "{poll}");
    assert!(poll["_links"]["configData"]["href"].is_string(), "{poll}");
    // A closed action takes no more feedback, and is no longer offered.
    assert_eq!(
        till.feedback(&rig.fleet, &action, "closed", "failure")
            .await,
        StatusCode::GONE
    );
    let (status, _) = rig.fleet.ddi("GET", href, Some(till.token()), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let done = rollout_status(&rig.fleet, &rig.tenant.owner, &rollout_id).await;
    assert_eq!(done["terminals"][0]["status"], "succeeded");
}

async fn a_cancelled_rollout_is_cancelled_on_the_terminal_through_cancel_action(
    backend: common::Backend,
) {
    let rig = rig(backend).await;
    let busy = controller(&rig.fleet, &rig.tenant.owner, &rig.tenant.store, "Till 1").await;
    let late = controller(&rig.fleet, &rig.tenant.owner, &rig.tenant.store, "Till 2").await;
    let quiet = controller(&rig.fleet, &rig.tenant.owner, &rig.tenant.store, "Till 3").await;
    let started = offer_to(&rig, &[&busy, &late, &quiet]).await;
    let id = started["id"].as_str().unwrap();
    let busy_action = busy.offered(&rig.fleet).await.unwrap();
    let late_action = late.offered(&rig.fleet).await.unwrap();
    busy.feedback(&rig.fleet, &busy_action, "proceeding", "none")
        .await;
    late.feedback(&rig.fleet, &late_action, "proceeding", "none")
        .await;

    let (status, cancelled) = rig
        .fleet
        .call(
            "POST",
            &format!("/api/v1/rollouts/{id}/cancel"),
            Some(&rig.tenant.owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["state"], "canceled");
    // The terminal that never answered is cancelled at once and offered nothing.
    let status_of = |status: &Value, till: &Controller| {
        status["terminals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["terminal"] == till.enrolled.device.as_str())
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status_of(&cancelled, &quiet), "canceled");
    assert_eq!(
        quiet.poll(&rig.fleet).await["_links"]["cancelAction"],
        Value::Null
    );
    assert!(quiet.offered(&rig.fleet).await.is_none());

    // The others are asked to stop.
    for (till, action) in [(&busy, &busy_action), (&late, &late_action)] {
        let poll = till.poll(&rig.fleet).await;
        assert!(poll["_links"]["deploymentBase"].is_null(), "{poll}");
        let href = poll["_links"]["cancelAction"]["href"].as_str().unwrap();
        let (status, cancel) = rig.fleet.ddi("GET", href, Some(till.token()), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            cancel,
            json!({"id": action, "cancelAction": {"stopId": action}})
        );
    }
    // One stops; the other is already installing and says it is too late.
    let answer = |execution: &str, finished: &str| json!({"status": {"execution": execution, "result": {"finished": finished}, "details": []}});
    let (status, _) = rig
        .fleet
        .ddi(
            "POST",
            &format!("{}/cancelAction/{busy_action}/feedback", busy.path()),
            Some(busy.token()),
            Some(answer("closed", "success")),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = rig
        .fleet
        .ddi(
            "POST",
            &format!("{}/cancelAction/{late_action}/feedback", late.path()),
            Some(late.token()),
            Some(answer("rejected", "none")),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let after = rollout_status(&rig.fleet, &rig.tenant.owner, id).await;
    assert_eq!(status_of(&after, &busy), "canceled");
    assert_eq!(status_of(&after, &late), "running");
    // The terminal that went on finishes and reports; nothing is lost.
    late.feedback(&rig.fleet, &late_action, "closed", "success")
        .await;
    let after = rollout_status(&rig.fleet, &rig.tenant.owner, id).await;
    assert_eq!(status_of(&after, &late), "succeeded");
    // Cancelling twice is refused with a reason.
    let (status, body) = rig
        .fleet
        .call(
            "POST",
            &format!("/api/v1/rollouts/{id}/cancel"),
            Some(&rig.tenant.owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body["message"],
        format!("rollout {id} is already finished or cancelled")
    );
}

async fn get(
    rig: &Rig,
    till: &Controller,
    url: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = rig
        .fleet
        .client
        .get(url)
        .header("authorization", format!("TargetToken {}", till.token()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn count_rows(fleet: &common::Fleet) -> (i64, i64) {
    (
        update_support::scalar(
            fleet,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM update_feedback",
        )
        .await,
        update_support::scalar(
            fleet,
            "SELECT CAST(COALESCE(SUM(updated_at), 0) AS BIGINT) FROM update_actions",
        )
        .await,
    )
}

async fn the_artifact_is_served_in_ranges_with_etag_and_last_modified(backend: common::Backend) {
    let rig = rig(backend).await;
    let till = controller(&rig.fleet, &rig.tenant.owner, &rig.tenant.store, "Till 1").await;
    offer_to(&rig, &[&till]).await;
    let action = till.offered(&rig.fleet).await.unwrap();
    let (_, deployment) = rig
        .fleet
        .ddi(
            "GET",
            &format!("{}/deploymentBase/{action}", till.path()),
            Some(till.token()),
            None,
        )
        .await;
    let url =
        deployment["deployment"]["chunks"][0]["artifacts"][0]["_links"]["download-http"]["href"]
            .as_str()
            .unwrap()
            .to_owned();
    let len = rig.bytes.len();
    let before = count_rows(&rig.fleet).await;

    let whole = get(&rig, &till, &url, &[]).await;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(header(&whole, "accept-ranges"), "bytes");
    let etag = header(&whole, "etag");
    assert_eq!(
        etag,
        format!("\"{}\"", rig.bundle["sha256"].as_str().unwrap())
    );
    let last_modified = header(&whole, "last-modified");
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");
    assert_eq!(whole.bytes().await.unwrap().len(), len);

    // The file fetched in many pieces, as a resuming or streaming client does.
    let mut assembled = Vec::new();
    let piece = len / 7 + 1;
    while assembled.len() < len {
        let first = assembled.len();
        let last = (first + piece - 1).min(len - 1);
        let part = get(
            &rig,
            &till,
            &url,
            &[("range", &format!("bytes={first}-{last}"))],
        )
        .await;
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            header(&part, "content-range"),
            format!("bytes {first}-{last}/{len}")
        );
        assembled.extend_from_slice(&part.bytes().await.unwrap());
    }
    assert_eq!(assembled, rig.bytes);
    // The last bytes, and an open-ended range.
    let tail = get(&rig, &till, &url, &[("range", "bytes=-8")]).await;
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &rig.bytes[len - 8..]);
    let rest = get(
        &rig,
        &till,
        &url,
        &[
            ("range", &format!("bytes={}-", len - 100)),
            ("if-range", &etag),
        ],
    )
    .await;
    assert_eq!(rest.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        rest.bytes().await.unwrap().as_ref(),
        &rig.bytes[len - 100..]
    );
    // A range past the end.
    let past = get(&rig, &till, &url, &[("range", &format!("bytes={len}-"))]).await;
    assert_eq!(past.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&past, "content-range"), format!("bytes */{len}"));
    // A resume against another version of the file gets the whole file.
    let changed = get(
        &rig,
        &till,
        &url,
        &[("range", "bytes=100-"), ("if-range", "\"another\"")],
    )
    .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(changed.bytes().await.unwrap().len(), len);
    let by_date = get(
        &rig,
        &till,
        &url,
        &[("range", "bytes=100-"), ("if-range", &last_modified)],
    )
    .await;
    assert_eq!(by_date.status(), StatusCode::PARTIAL_CONTENT);
    // A client holding the current copy is told so.
    let cached = get(&rig, &till, &url, &[("if-none-match", &etag)]).await;
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    assert!(cached.bytes().await.unwrap().is_empty());
    // HEAD says the size and sends nothing.
    let head = rig
        .fleet
        .client
        .head(&url)
        .header("authorization", format!("TargetToken {}", till.token()))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header(&head, "content-length"), len.to_string());

    // None of those requests wrote a row.
    assert_eq!(count_rows(&rig.fleet).await, before);
    // Without a token, nothing.
    let anonymous = rig.fleet.client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let wrong = get(&rig, &till, &url.replace(".raucb", ".zip"), &[]).await;
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
}
