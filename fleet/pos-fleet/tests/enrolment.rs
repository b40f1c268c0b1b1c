//! Enrolment and terminal credentials, over real HTTP on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use pos_core::id::StoreId;
use pos_sync::sample::SampleTill;
use reqwest::StatusCode;

use common::Backend;

backend_tests!(
    a_terminal_exchanges_a_one_time_code_for_its_own_credential,
    an_unknown_or_missing_credential_gets_401_with_a_clear_message,
    a_revoked_terminal_is_refused_and_nothing_it_sends_is_stored,
    an_expired_enrolment_code_is_refused,
    a_terminal_that_lost_its_enrolment_answer_gets_its_credential_again_and_no_one_else_does,
);

async fn a_terminal_exchanges_a_one_time_code_for_its_own_credential(backend: Backend) {
    let fleet = common::start(&backend).await;
    let acme = fleet.tenant("Acme").await;
    let code = fleet.enrolment_code(&acme.owner, &acme.store).await;
    // Typed on the terminal in lower case with spaces: still accepted.
    let typed = code.to_lowercase().replace('-', " ");
    let enrolled = pos_sync::http::enrol(&fleet.client, &fleet.base, &typed, "Till 1")
        .await
        .unwrap();
    assert_eq!(enrolled.store.as_str(), acme.store);
    assert_eq!(enrolled.tenant.as_str(), acme.id);

    // The credential works for sync…
    let (status, ack) = fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&enrolled.token),
            Some(common::push_body(enrolled.device.as_str(), &[])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(ack["high_water_seq"], 0);
    // …the operator sees the terminal…
    let (_, terminals) = fleet
        .call(
            "GET",
            &format!("/api/v1/stores/{}/terminals", acme.store),
            Some(&acme.owner),
            None,
        )
        .await;
    assert_eq!(terminals[0]["name"], "Till 1");
    assert_eq!(terminals[0]["id"], enrolled.device.as_str());
    // …and the code cannot be used twice.
    let again = pos_sync::http::enrol(&fleet.client, &fleet.base, &code, "Till 2")
        .await
        .unwrap_err();
    assert_eq!(
        again.to_string(),
        "the fleet refused the request (401): this enrolment code is wrong, already used or expired; \
         ask the fleet operator for a new one"
    );
    // The fleet keeps only hashes: neither the code nor the token is in the database.
    let stored = fleet.everything_stored().await;
    for secret in [enrolled.token.as_bytes(), code.as_bytes()] {
        assert!(!stored.windows(secret.len()).any(|w| w == secret));
    }
}

async fn an_unknown_or_missing_credential_gets_401_with_a_clear_message(backend: Backend) {
    let fleet = common::start(&backend).await;
    let (status, body) = fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some("0123456789abcdef"),
            Some(common::push_body("T1", &[])),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthenticated");
    assert_eq!(
        body["message"],
        "this terminal's credential is unknown to the fleet; enrol it with a new code"
    );
    let (status, body) = fleet
        .call(
            "POST",
            "/sync/v1/pull",
            None,
            Some(common::pull_body("T1", 0, 10)),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["message"],
        "no terminal credential was sent; enrol the terminal with a code from the fleet"
    );
}

async fn a_revoked_terminal_is_refused_and_nothing_it_sends_is_stored(backend: Backend) {
    let fleet = common::start(&backend).await;
    let acme = fleet.tenant("Acme").await;
    let enrolled = fleet.enrol(&acme.owner, &acme.store, "Till 1").await;
    let (status, _) = fleet
        .call(
            "POST",
            &format!("/api/v1/terminals/{}/revoke", enrolled.device),
            Some(&acme.owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let mut till = SampleTill::new(enrolled.device.as_str(), &StoreId::new(acme.store.clone()));
    let entries = till.sell(&common::demo_product("milk"), 1, 1_000).unwrap();
    let (status, body) = fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&enrolled.token),
            Some(common::push_body(enrolled.device.as_str(), &entries)),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "credential_revoked");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "terminal {} (Till 1) was revoked at ",
            enrolled.device
        )),
        "{message}"
    );
    assert!(message.ends_with("its sales stay on it until it is enrolled again with a new code"));
    assert!(fleet.sales(&acme.owner, &acme.store).await.is_empty());
}

async fn an_expired_enrolment_code_is_refused(backend: Backend) {
    let fleet = common::start(&backend).await;
    let acme = fleet.tenant("Acme").await;
    let code = "7QK2-M9XD-4TPA";
    let hash = pos_fleet::auth::hash_token(&pos_fleet::auth::normalise_code(code));
    // Created yesterday, valid until an hour ago.
    let an_hour_ago = pos_core::clock::Timestamp::from_unix_ms(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap()
            - 3_600_000,
    );
    let store = StoreId::new(acme.store.clone());
    fleet
        .with_storage(move |storage| storage.create_enrolment_code(&store, &hash, an_hour_ago))
        .await
        .unwrap();
    let err = pos_sync::http::enrol(&fleet.client, &fleet.base, code, "Till 1")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("this enrolment code is wrong, already used or expired"),
        "{err}"
    );
    let (_, terminals) = fleet
        .call(
            "GET",
            &format!("/api/v1/stores/{}/terminals", acme.store),
            Some(&acme.owner),
            None,
        )
        .await;
    assert_eq!(terminals, serde_json::json!([]));
}

async fn a_terminal_that_lost_its_enrolment_answer_gets_its_credential_again_and_no_one_else_does(
    backend: Backend,
) {
    use pos_core::clock::Timestamp;
    use pos_fleet::auth;
    use serde_json::json;

    let fleet = common::start(&backend).await;
    let acme = fleet.tenant("Acme").await;
    let code = fleet.enrolment_code(&acme.owner, &acme.store).await;
    let ask = |key: Option<&str>| {
        json!({"protocol": pos_sync::wire::PROTOCOL, "code": code, "name": "Till 1",
               "enrolment_key": key})
    };
    // The fleet takes the code and answers, but the answer never reaches the till.
    let (status, lost) = fleet
        .call(
            "POST",
            "/sync/v1/enrol",
            None,
            Some(ask(Some("key-of-till-1"))),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{lost}");

    // Another terminal with the same code, with another key or none, is still refused.
    for other in [Some("key-of-someone-else"), None] {
        let (status, body) = fleet
            .call("POST", "/sync/v1/enrol", None, Some(ask(other)))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{other:?}: {body}");
    }
    // The till retries with its key: the same terminal, with a credential that works.
    let retried = pos_sync::http::enrol_with_key(
        &fleet.client,
        &fleet.base,
        &code,
        "Till 1",
        Some("key-of-till-1"),
    )
    .await
    .unwrap();
    assert_eq!(retried.device.as_str(), lost["device"].as_str().unwrap());
    let (status, ack) = fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&retried.token),
            Some(common::push_body(retried.device.as_str(), &[])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    // The lost token no longer works, and the store still has one terminal.
    let (status, _) = fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(lost["token"].as_str().unwrap()),
            Some(common::push_body(retried.device.as_str(), &[])),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, terminals) = fleet
        .call(
            "GET",
            &format!("/api/v1/stores/{}/terminals", acme.store),
            Some(&acme.owner),
            None,
        )
        .await;
    assert_eq!(terminals.as_array().unwrap().len(), 1, "{terminals}");

    // Past the short window the code is spent even for that till.
    let code_hash = auth::hash_token(&auth::normalise_code(&code));
    let later = Timestamp::from_unix_ms(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap()
            + pos_fleet::storage::ENROLMENT_RETRY_MS
            + 60_000,
    );
    let refused = fleet
        .with_storage(move |s| {
            s.redeem_enrolment_code(
                &code_hash,
                "Till 1",
                &auth::hash_token("another"),
                Some(&auth::hash_token("key-of-till-1")),
                later,
            )
        })
        .await;
    assert!(
        matches!(
            refused,
            Err(pos_fleet::storage::StorageError::EnrolmentCodeRejected)
        ),
        "{refused:?}"
    );
}
