//! Accounts and tenants: each person sees only their own tenant's data, whatever ids they try.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use reqwest::StatusCode;
use serde_json::json;

use common::Backend;

backend_tests!(
    an_owner_cannot_reach_another_tenants_stores_catalogue_or_terminals,
    a_terminal_pulls_only_its_own_tenants_catalogue,
    wrong_passwords_and_missing_sessions_get_401,
    a_store_manager_manages_their_store_but_not_the_tenants_catalogue,
    a_bad_product_or_price_is_refused_with_the_reason,
    feature_switches_and_store_settings_reach_the_stores_terminals_only,
    an_owner_renames_a_store_and_every_till_of_the_tenant_learns_the_new_name,
    a_locked_login_stays_locked_when_the_fleet_restarts,
);

async fn an_owner_cannot_reach_another_tenants_stores_catalogue_or_terminals(backend: Backend) {
    let fleet = common::start(&backend).await;
    let acme = fleet.tenant("Acme").await;
    let bolt = fleet.tenant("Bolt").await;
    let bolt_till = fleet.enrol(&bolt.owner, &bolt.store, "Bolt till").await;

    // Acme's owner tries Bolt's ids on every route.
    let attempts = [
        ("GET", format!("/api/v1/tenants/{}/stores", bolt.id)),
        ("GET", format!("/api/v1/tenants/{}/products", bolt.id)),
        ("POST", format!("/api/v1/tenants/{}/stores", bolt.id)),
        (
            "POST",
            format!("/api/v1/stores/{}/enrolment-codes", bolt.store),
        ),
        ("GET", format!("/api/v1/stores/{}/sales", bolt.store)),
        ("GET", format!("/api/v1/stores/{}/stock", bolt.store)),
        ("GET", format!("/api/v1/stores/{}/terminals", bolt.store)),
        (
            "PUT",
            format!("/api/v1/stores/{}/settings/receipt_footer", bolt.store),
        ),
        (
            "POST",
            format!("/api/v1/terminals/{}/revoke", bolt_till.device),
        ),
    ];
    for (method, path) in &attempts {
        let body = match *method {
            "POST" if path.ends_with("/stores") => {
                Some(json!({"name": "Sneaky", "currency": "EUR"}))
            }
            "PUT" => Some(json!("hello")),
            _ => None,
        };
        let (status, answer) = fleet.call(method, path, Some(&acme.owner), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
        assert_eq!(answer["code"], "not_found");
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("among those you manage"),
            "{answer}"
        );
    }
    // Bolt's terminal still works, and Acme's owner sees only Acme.
    let (status, _) = fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&bolt_till.token),
            Some(common::push_body(bolt_till.device.as_str(), &[])),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, tenants) = fleet
        .call("GET", "/api/v1/tenants", Some(&acme.owner), None)
        .await;
    assert_eq!(tenants.as_array().unwrap().len(), 1);
    assert_eq!(tenants[0]["id"], acme.id);
    let (_, all) = fleet
        .call("GET", "/api/v1/tenants", Some(&fleet.operator), None)
        .await;
    assert_eq!(all.as_array().unwrap().len(), 2);
}

async fn a_terminal_pulls_only_its_own_tenants_catalogue(backend: Backend) {
    let fleet = common::start(&backend).await;
    let acme = fleet.tenant("Acme").await;
    let bolt = fleet.tenant("Bolt").await;
    fleet.add_product(&bolt.owner, &bolt.id, "milk").await;
    let till = fleet.enrol(&acme.owner, &acme.store, "Till 1").await;
    let (_, page) = fleet
        .call(
            "POST",
            "/sync/v1/pull",
            Some(&till.token),
            Some(common::pull_body(till.device.as_str(), 0, 100)),
        )
        .await;
    let kinds: Vec<&str> = page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"]["type"].as_str().unwrap())
        .collect();
    assert!(!kinds.contains(&"product"), "{page}");
}

async fn wrong_passwords_and_missing_sessions_get_401(backend: Backend) {
    let fleet = common::start(&backend).await;
    let (status, body) = fleet
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"email": common::OPERATOR_EMAIL, "password": "guess"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "wrong e-mail or password");
    let (status, body) = fleet
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"email": "nobody@x", "password": "guess"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "wrong e-mail or password");
    let (status, body) = fleet.call("GET", "/api/v1/tenants", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["message"],
        "log in first: POST /api/v1/login, then send `Authorization: Bearer <token>`"
    );
    let (status, body) = fleet
        .call("GET", "/api/v1/tenants", Some("not-a-session"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["message"],
        "this session is unknown or expired; log in again"
    );
}

async fn a_store_manager_manages_their_store_but_not_the_tenants_catalogue(backend: Backend) {
    let fleet = common::start(&backend).await;
    let acme = fleet.tenant("Acme").await;
    let (status, second) = fleet
        .call(
            "POST",
            &format!("/api/v1/tenants/{}/stores", acme.id),
            Some(&acme.owner),
            Some(json!({"name": "Acme Nord", "currency": "EUR"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = fleet
        .call("POST", &format!("/api/v1/tenants/{}/accounts", acme.id), Some(&acme.owner), Some(json!({"email": "kim@acme.example", "password": "manager-password", "role": "store_manager", "store": acme.store})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let manager = fleet.login("kim@acme.example", "manager-password").await;

    let (status, _) = fleet
        .call(
            "POST",
            &format!("/api/v1/stores/{}/enrolment-codes", acme.store),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = fleet
        .call(
            "POST",
            &format!(
                "/api/v1/stores/{}/enrolment-codes",
                second["id"].as_str().unwrap()
            ),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another store of the same tenant"
    );
    let (status, body) = fleet
        .call(
            "POST",
            &format!("/api/v1/tenants/{}/products", acme.id),
            Some(&manager),
            Some(serde_json::to_value(common::demo_product("milk")).unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["message"],
        "a store manager cannot change tenant-wide records; ask the tenant owner"
    );
    let (_, stores) = fleet
        .call(
            "GET",
            &format!("/api/v1/tenants/{}/stores", acme.id),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(stores.as_array().unwrap().len(), 1);
    // Only the operator creates tenants.
    let (status, _) = fleet
        .call(
            "POST",
            "/api/v1/tenants",
            Some(&acme.owner),
            Some(json!({"name": "Mine"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn a_bad_product_or_price_is_refused_with_the_reason(backend: Backend) {
    let fleet = common::start(&backend).await;
    let acme = fleet.tenant("Acme").await;
    let mut product = common::demo_product("milk");
    product.name = " ".into();
    let (status, body) = fleet
        .call(
            "POST",
            &format!("/api/v1/tenants/{}/products", acme.id),
            Some(&acme.owner),
            Some(serde_json::to_value(&product).unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "the product needs a name");
    let (status, body) = fleet
        .call("POST", &format!("/api/v1/stores/{}/prices", acme.store), Some(&acme.owner), Some(json!({"product": "milk", "price": {"amount": "1.00", "currency": "CHF"}, "effective_at": 0})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "the price is in CHF but the store sells in EUR"
    );
}

async fn feature_switches_and_store_settings_reach_the_stores_terminals_only(backend: Backend) {
    let fleet = common::start(&backend).await;
    let acme = fleet.tenant("Acme").await;
    // Another tenant's stores and switches are none of Acme's tills' business.
    let bolt = fleet.tenant("Bolt").await;
    let (status, _) = fleet
        .call(
            "PUT",
            &format!("/api/v1/tenants/{}/features", bolt.id),
            Some(&fleet.operator),
            Some(json!({"disabled": ["transfers"]})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, other) = fleet
        .call(
            "POST",
            &format!("/api/v1/tenants/{}/stores", acme.id),
            Some(&acme.owner),
            Some(json!({"name": "Acme Zürich", "currency": "CHF"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let till = fleet.enrol(&acme.owner, &acme.store, "Till 1").await;
    // Only the operator switches features; the owner sets store settings.
    let (status, _) = fleet
        .call(
            "PUT",
            &format!("/api/v1/tenants/{}/features", acme.id),
            Some(&acme.owner),
            Some(json!({"disabled": ["loyalty"]})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = fleet
        .call(
            "PUT",
            &format!("/api/v1/tenants/{}/features", acme.id),
            Some(&fleet.operator),
            Some(json!({"disabled": ["loyalty"]})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = fleet
        .call(
            "PUT",
            &format!("/api/v1/stores/{}/settings/receipt_footer", acme.store),
            Some(&acme.owner),
            Some(json!(["Danke!"])),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = fleet
        .call(
            "PUT",
            &format!(
                "/api/v1/stores/{}/settings/receipt_footer",
                other["id"].as_str().unwrap()
            ),
            Some(&acme.owner),
            Some(json!(["Merci!"])),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (_, page) = fleet
        .call(
            "POST",
            "/sync/v1/pull",
            Some(&till.token),
            Some(common::pull_body(till.device.as_str(), 0, 100)),
        )
        .await;
    let bodies_of = |kind: &str| -> Vec<serde_json::Value> {
        page["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["body"]["type"] == kind)
            .map(|c| c["body"]["data"].clone())
            .collect()
    };
    let settings: Vec<(String, serde_json::Value)> = bodies_of("setting")
        .iter()
        .map(|data| {
            (
                data["key"].as_str().unwrap().to_owned(),
                data["value"].clone(),
            )
        })
        .collect();
    assert_eq!(
        settings,
        [
            ("name".to_owned(), json!("Acme Mitte")),
            ("currency".to_owned(), json!("EUR")),
            ("receipt_footer".to_owned(), json!(["Danke!"])),
        ]
    );
    // The switches travel as a kind of their own, which no setting can pass for.
    assert_eq!(
        bodies_of("tenant_features"),
        [json!({"features": {"disabled": ["loyalty"]}})]
    );
    // Every store of the tenant, this one too, so a transfer can pick the other by name.
    assert_eq!(
        bodies_of("tenant_store"),
        [
            json!({"store": {"id": acme.store, "name": "Acme Mitte"}}),
            json!({"store": {"id": other["id"], "name": "Acme Zürich"}}),
        ]
    );
}

async fn an_owner_renames_a_store_and_every_till_of_the_tenant_learns_the_new_name(
    backend: Backend,
) {
    let fleet = common::start(&backend).await;
    let acme = fleet.tenant("Acme").await;
    let bolt = fleet.tenant("Bolt").await;
    let till = fleet.enrol(&acme.owner, &acme.store, "Till 1").await;
    let path = format!("/api/v1/stores/{}/name", acme.store);
    let rename = |by: &str, name: &str| {
        let (by, body) = (by.to_owned(), json!({ "name": name }));
        let (fleet, path) = (&fleet, &path);
        async move { fleet.call("PUT", path, Some(&by), Some(body)).await }
    };

    // A blank name, another tenant's owner and the store's own manager are refused.
    let (status, body) = rename(&acme.owner, "  ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "the store needs a name (\"Acme Mitte\")");
    let (status, _) = rename(&bolt.owner, "Bolt's now").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = fleet
        .call("POST", &format!("/api/v1/tenants/{}/accounts", acme.id), Some(&acme.owner), Some(json!({"email": "kim@acme.example", "password": "manager-password", "role": "store_manager", "store": acme.store})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let manager = fleet.login("kim@acme.example", "manager-password").await;
    let (status, body) = rename(&manager, "Kim's shop").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, renamed) = rename(&acme.owner, " Acme Mitte (Altbau) ").await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["name"], "Acme Mitte (Altbau)");
    let (_, stores) = fleet
        .call(
            "GET",
            &format!("/api/v1/tenants/{}/stores", acme.id),
            Some(&acme.owner),
            None,
        )
        .await;
    assert_eq!(stores[0]["name"], "Acme Mitte (Altbau)");

    // The till pulls the new name twice over: in the tenant's list of stores, and as its
    // store's name setting; the newest of each is the new name.
    let (_, page) = fleet
        .call(
            "POST",
            "/sync/v1/pull",
            Some(&till.token),
            Some(common::pull_body(till.device.as_str(), 0, 100)),
        )
        .await;
    let newest = |kind: &str, pick: &dyn Fn(&serde_json::Value) -> Option<serde_json::Value>| {
        page["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["body"]["type"] == kind)
            .filter_map(|c| pick(&c["body"]["data"]))
            .next_back()
    };
    assert_eq!(
        newest("tenant_store", &|data| Some(data["store"].clone())),
        Some(json!({"id": acme.store, "name": "Acme Mitte (Altbau)"}))
    );
    assert_eq!(
        newest("setting", &|data| (data["key"] == "name")
            .then(|| data["value"].clone())),
        Some(json!("Acme Mitte (Altbau)"))
    );
}

async fn a_locked_login_stays_locked_when_the_fleet_restarts(backend: Backend) {
    use pos_fleet::server::{self, FleetConfig, Transport};

    let fleet = common::start(&backend).await;
    let acme = fleet.tenant("Acme").await;
    let wrong = || json!({"email": "owner@acme.example", "password": "not the password"});
    for n in 1..=4 {
        let (status, body) = fleet
            .call("POST", "/api/v1/login", None, Some(wrong()))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {n}: {body}");
    }
    // The fleet restarts between the fourth and the fifth wrong password: a new server on
    // the same database, with nothing of the old one's memory.
    let config = FleetConfig::new(
        fleet.dir.path().to_path_buf(),
        "127.0.0.1:0".parse().unwrap(),
    );
    let restarted = server::start_with(&config, Transport::Plain, fleet.storage.clone())
        .await
        .unwrap();
    let again = common::Fleet {
        base: format!("http://{}", restarted.addr),
        ..fleet
    };
    let (status, body) = again
        .call("POST", "/api/v1/login", None, Some(wrong()))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Restarted once more while locked: even the right password waits.
    let restarted = server::start_with(&config, Transport::Plain, again.storage.clone())
        .await
        .unwrap();
    let third = common::Fleet {
        base: format!("http://{}", restarted.addr),
        ..again
    };
    let (status, body) = third
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"email": "owner@acme.example", "password": "owner-password-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Too many wrong passwords"),
        "{body}"
    );
    // Another account is not held up by it.
    assert!(!acme.owner.is_empty());
    let (status, body) = third
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"email": common::OPERATOR_EMAIL, "password": common::OPERATOR_PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
