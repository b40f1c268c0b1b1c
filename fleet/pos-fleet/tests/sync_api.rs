//! The sync API's rules over real HTTP: idempotent pushes, all-or-nothing batches, the pull
//! cursor, and a clear JSON refusal for each kind of bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use pos_core::id::{DeviceId, StoreId};
use pos_sync::sample::SampleTill;
use pos_sync::wire::{PROTOCOL, PushAck, RecordedBy};
use reqwest::StatusCode;
use serde_json::{Value, json};

use common::Backend;

backend_tests!(
    a_batch_sent_twice_is_stored_once_and_acknowledged_both_times,
    a_replayed_event_id_with_other_content_is_refused_and_nothing_of_its_batch_is_stored,
    a_hub_relays_sales_under_the_till_that_made_them_once_and_cannot_name_another_till,
    a_terminal_cannot_push_or_pull_as_another,
    malformed_bodies_get_400_with_the_reason,
    an_entry_whose_payload_is_not_its_kind_is_422_and_nothing_is_stored,
    a_terminal_of_another_major_protocol_version_is_told_to_update,
    an_oversized_body_gets_413_and_nothing_is_stored,
    pull_pages_through_the_fleets_changes_by_cursor,
    an_unknown_path_is_a_json_404,
    entries_from_a_clock_far_ahead_are_kept_and_reported,
    tax_rates_staff_and_roles_reach_terminals_and_an_incomplete_record_changes_nothing,
    people_pins_and_roles_saved_on_a_till_reach_the_other_tills_of_its_store,
    a_cancelled_or_refused_transfer_reaches_the_store_at_the_other_end_only,
);

struct Setup {
    fleet: common::Fleet,
    acme: common::Tenant,
    device: String,
    token: String,
    till: SampleTill,
}

async fn setup(backend: &Backend) -> Setup {
    let fleet = common::start(backend).await;
    let acme = fleet.tenant("Acme").await;
    let enrolled = fleet.enrol(&acme.owner, &acme.store, "Till 1").await;
    let till = SampleTill::new(enrolled.device.as_str(), &StoreId::new(acme.store.clone()));
    Setup {
        device: enrolled.device.as_str().to_owned(),
        token: enrolled.token,
        fleet,
        acme,
        till,
    }
}

async fn a_batch_sent_twice_is_stored_once_and_acknowledged_both_times(backend: Backend) {
    let mut s = setup(&backend).await;
    let entries = s
        .till
        .sell(&common::demo_product("milk"), 2, 1_000)
        .unwrap();
    let body = common::push_body(&s.device, &entries);
    let (status, first) = s
        .fleet
        .call("POST", "/sync/v1/push", Some(&s.token), Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, second) = s
        .fleet
        .call("POST", "/sync/v1/push", Some(&s.token), Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let first: PushAck = serde_json::from_value(first).unwrap();
    let second: PushAck = serde_json::from_value(second).unwrap();
    assert_eq!(
        (first.high_water_seq, first.stored, first.duplicates),
        (2, 2, 0)
    );
    assert_eq!(
        (second.high_water_seq, second.stored, second.duplicates),
        (2, 0, 2)
    );
    assert_eq!(s.fleet.sales(&s.acme.owner, &s.acme.store).await.len(), 1);
    assert_eq!(
        s.fleet.stock(&s.acme.owner, &s.acme.store, "milk").await,
        "-2"
    );
}

async fn a_replayed_event_id_with_other_content_is_refused_and_nothing_of_its_batch_is_stored(
    backend: Backend,
) {
    let mut s = setup(&backend).await;
    let first = s
        .till
        .sell(&common::demo_product("milk"), 1, 1_000)
        .unwrap();
    let (status, _) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&s.token),
            Some(common::push_body(&s.device, &first)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // A new sale (new entries 3 and 4) plus entry 1 again, but altered.
    let mut next = s
        .till
        .sell(&common::demo_product("cola"), 1, 2_000)
        .unwrap();
    let mut altered = first[0].clone();
    altered.actor = "mallory".into();
    next.push(altered);
    let (status, body) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&s.token),
            Some(common::push_body(&s.device, &next)),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "conflict");
    assert_eq!(
        body["message"],
        format!(
            "event {} was already received with different content; the terminal's journal may have been reset or copied",
            first[0].event_id
        )
    );
    assert_eq!(
        s.fleet.sales(&s.acme.owner, &s.acme.store).await.len(),
        1,
        "the cola sale was not stored"
    );
    assert_eq!(
        s.fleet.stock(&s.acme.owner, &s.acme.store, "cola").await,
        "0"
    );
}

async fn a_hub_relays_sales_under_the_till_that_made_them_once_and_cannot_name_another_till(
    backend: Backend,
) {
    let s = setup(&backend).await;
    // Upstream a store hub is one terminal of its store.
    let hub = s
        .fleet
        .enrol(&s.acme.owner, &s.acme.store, "Store hub")
        .await;
    let mut behind = SampleTill::new("term-behind-hub-7", &StoreId::new(s.acme.store.clone()));
    let recorded_by = RecordedBy {
        device: DeviceId::new("term-behind-hub-7"),
        name: "Till 7".into(),
    };
    let mut entries = behind
        .sell(&common::demo_product("milk"), 2, 1_000)
        .unwrap();
    for entry in &mut entries {
        entry.recorded_by = Some(recorded_by.clone());
    }
    let body = common::push_body(hub.device.as_str(), &entries);
    for (stored, duplicates) in [(2, 0), (0, 2)] {
        let (status, ack) = s
            .fleet
            .call(
                "POST",
                "/sync/v1/push",
                Some(&hub.token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{ack}");
        let ack: PushAck = serde_json::from_value(ack).unwrap();
        assert_eq!((ack.stored, ack.duplicates), (stored, duplicates));
    }
    let sales = s.fleet.sales(&s.acme.owner, &s.acme.store).await;
    assert_eq!(sales.len(), 1);
    assert_eq!(sales[0]["device"], "term-behind-hub-7");
    let (status, terminals) = s
        .fleet
        .call(
            "GET",
            &format!("/api/v1/stores/{}/terminals", s.acme.store),
            Some(&s.acme.owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        terminals
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == "term-behind-hub-7"
                && t["name"] == "Till 7"
                && t["relayed_by"] == hub.device.as_str()),
        "{terminals}"
    );
    let (status, page) = s
        .fleet
        .call(
            "GET",
            &format!("/ui/t/{}/terminals", s.acme.id),
            Some(&s.acme.owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.as_str()
            .unwrap()
            .contains("behind hub Store hub since"),
        "{page}"
    );
    assert_eq!(
        s.fleet.stock(&s.acme.owner, &s.acme.store, "milk").await,
        "-2"
    );

    // The hub names a till enrolled with the fleet itself: refused, nothing of it stored.
    let mut next = behind
        .sell(&common::demo_product("cola"), 1, 2_000)
        .unwrap();
    for entry in &mut next {
        entry.recorded_by = Some(RecordedBy {
            device: DeviceId::new(s.device.clone()),
            name: "Till 1".into(),
        });
    }
    let (status, refused) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&hub.token),
            Some(common::push_body(hub.device.as_str(), &next)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("not behind"),
        "{refused}"
    );
    assert_eq!(s.fleet.sales(&s.acme.owner, &s.acme.store).await.len(), 1);
    assert_eq!(
        s.fleet.stock(&s.acme.owner, &s.acme.store, "cola").await,
        "0"
    );

    // Bounded: a hub relays for at most so many tills.
    let mut many = Vec::new();
    for n in 0..pos_fleet::storage::RELAYED_TERMINALS_MAX {
        let mut entries = behind
            .sell(&common::demo_product("cola"), 1, 3_000)
            .unwrap();
        for entry in &mut entries {
            entry.recorded_by = Some(RecordedBy {
                device: DeviceId::new(format!("term-many-{n}")),
                name: format!("Till {n}"),
            });
        }
        many.extend(entries);
    }
    let (status, refused) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&hub.token),
            Some(common::push_body(hub.device.as_str(), &many)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("the most a hub may"),
        "{refused}"
    );
    assert_eq!(s.fleet.sales(&s.acme.owner, &s.acme.store).await.len(), 1);
}

async fn a_terminal_cannot_push_or_pull_as_another(backend: Backend) {
    let mut s = setup(&backend).await;
    let entries = s
        .till
        .sell(&common::demo_product("milk"), 1, 1_000)
        .unwrap();
    let (status, body) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&s.token),
            Some(common::push_body("term-someone-else", &entries)),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "forbidden");
    assert_eq!(
        body["message"],
        format!(
            "this terminal is {} but the batch is for term-someone-else; a terminal pushes only its own journal",
            s.device
        )
    );
    let (status, _) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/pull",
            Some(&s.token),
            Some(common::pull_body("term-someone-else", 0, 10)),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(s.fleet.sales(&s.acme.owner, &s.acme.store).await.is_empty());
}

async fn malformed_bodies_get_400_with_the_reason(backend: Backend) {
    let s = setup(&backend).await;
    let (status, body) = s
        .fleet
        .raw(
            "/sync/v1/push",
            Some(&s.token),
            b"{\"protocol\":\"1.0\",".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "malformed_request");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("the message is not valid JSON of the expected shape")
    );

    let (status, body) = s
        .fleet
        .raw(
            "/sync/v1/push",
            Some(&s.token),
            br#"{"protocol":"1.0","device":"x"}"#.to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("missing field `entries`"),
        "{body}"
    );

    let (status, body) = s
        .fleet
        .call("POST", "/api/v1/login", None, Some(json!({"email": 5})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("the request body is not valid JSON for this call")
    );
}

async fn an_entry_whose_payload_is_not_its_kind_is_422_and_nothing_is_stored(backend: Backend) {
    let mut s = setup(&backend).await;
    let mut entries = s
        .till
        .sell(&common::demo_product("milk"), 1, 1_000)
        .unwrap();
    entries[1].kind = "sale_completed".into();
    let (status, body) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&s.token),
            Some(common::push_body(&s.device, &entries)),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "invalid_batch");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("says it is \"sale_completed\" but its payload does not match")
    );
    assert!(s.fleet.sales(&s.acme.owner, &s.acme.store).await.is_empty());
}

async fn a_terminal_of_another_major_protocol_version_is_told_to_update(backend: Backend) {
    let s = setup(&backend).await;
    let (status, body) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&s.token),
            Some(json!({"protocol": "2.0", "device": s.device, "records": []})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "protocol_incompatible");
    assert_eq!(
        body["message"],
        "this device speaks sync protocol 1.0 but the other side speaks 2.0; update the older one (the terminal or the fleet server) to the same major version"
    );
    // An older or newer minor of the same major is served.
    let (status, _) = s.fleet.call("POST", "/sync/v1/pull", Some(&s.token), Some(json!({"protocol": "1.9", "device": s.device, "cursor": 0, "limit": 5, "hint": true}))).await;
    assert_eq!(status, StatusCode::OK);
}

async fn an_oversized_body_gets_413_and_nothing_is_stored(backend: Backend) {
    let fleet = common::start_with_body_limit(&backend, 64 * 1024).await;
    let acme = fleet.tenant("Acme").await;
    let enrolled = fleet.enrol(&acme.owner, &acme.store, "Till 1").await;
    let mut till = SampleTill::new(enrolled.device.as_str(), &StoreId::new(acme.store.clone()));
    let milk = common::demo_product("milk");
    let entries: Vec<_> = (0..60)
        .flat_map(|i| till.sell(&milk, 1, 1_000 + i).unwrap())
        .collect();
    let body = serde_json::to_vec(&common::push_body(enrolled.device.as_str(), &entries)).unwrap();
    assert!(body.len() > 64 * 1024);
    let (status, answer) = fleet
        .raw("/sync/v1/push", Some(&enrolled.token), body)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer["code"], "body_too_large");
    assert_eq!(
        answer["message"],
        "the request body is larger than the fleet accepts; send smaller batches"
    );
    assert!(fleet.sales(&acme.owner, &acme.store).await.is_empty());
}

async fn pull_pages_through_the_fleets_changes_by_cursor(backend: Backend) {
    let mut s = setup(&backend).await;
    for id in ["milk", "cola", "butter", "batteries", "apples"] {
        s.fleet.add_product(&s.acme.owner, &s.acme.id, id).await;
    }
    let (status, _) = s
        .fleet
        .call("POST", &format!("/api/v1/tenants/{}/prices", s.acme.id), Some(&s.acme.owner), Some(json!({"product": "milk", "price": {"amount": "0.99", "currency": "EUR"}, "effective_at": 4_102_444_800_000i64})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // This terminal's own sale is not sent back to it.
    let entries = s
        .till
        .sell(&common::demo_product("milk"), 1, 1_000)
        .unwrap();
    s.fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&s.token),
            Some(common::push_body(&s.device, &entries)),
        )
        .await;

    let mut cursor = 0u64;
    let mut kinds = Vec::new();
    let mut pages = 0;
    loop {
        let (status, page) = s
            .fleet
            .call(
                "POST",
                "/sync/v1/pull",
                Some(&s.token),
                Some(common::pull_body(&s.device, cursor, 3)),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        let changes = page["changes"].as_array().unwrap();
        assert!(changes.len() <= 3);
        for change in changes {
            assert!(change["server_seq"].as_u64().unwrap() > cursor);
            kinds.push(change["body"]["type"].as_str().unwrap().to_owned());
        }
        let next = page["next_cursor"].as_u64().unwrap();
        assert!(next >= cursor);
        cursor = next;
        if page["more"] == false {
            break;
        }
        assert!(pages < 20, "pull must end");
    }
    // The store in the tenant's list, its name and currency, five products, one scheduled
    // price.
    assert_eq!(
        kinds,
        [
            "tenant_store",
            "setting",
            "setting",
            "product",
            "product",
            "product",
            "product",
            "product",
            "price_scheduled"
        ]
    );
    assert_eq!(pages, 3);
    let (_, empty) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/pull",
            Some(&s.token),
            Some(common::pull_body(&s.device, cursor, 3)),
        )
        .await;
    assert_eq!(empty["changes"], Value::Array(Vec::new()));
    assert_eq!(empty["next_cursor"], cursor);
    assert_eq!(empty["protocol"], serde_json::to_value(PROTOCOL).unwrap());
}

async fn an_unknown_path_is_a_json_404(backend: Backend) {
    let s = setup(&backend).await;
    let (status, body) = s.fleet.call("GET", "/sync/v2/push", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
}

async fn entries_from_a_clock_far_ahead_are_kept_and_reported(backend: Backend) {
    let mut s = setup(&backend).await;
    let tomorrow_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
        + 86_400_000;
    let entries = s
        .till
        .sell(&common::demo_product("milk"), 1, tomorrow_ms)
        .unwrap();
    let (status, ack) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&s.token),
            Some(common::push_body(&s.device, &entries)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(
        s.fleet.sales(&s.acme.owner, &s.acme.store).await.len(),
        1,
        "the sale is a fact and is kept"
    );
    let (_, anomalies) = s
        .fleet
        .call(
            "GET",
            &format!("/api/v1/stores/{}/anomalies", s.acme.store),
            Some(&s.acme.owner),
            None,
        )
        .await;
    let clock = anomalies
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "clock_ahead")
        .expect("a clock_ahead anomaly");
    assert!(
        clock["detail"]["message"]
            .as_str()
            .unwrap()
            .contains("check the date and time settings"),
        "{clock}"
    );
    assert_eq!(clock["device"], s.device);
}

async fn tax_rates_staff_and_roles_reach_terminals_and_an_incomplete_record_changes_nothing(
    backend: Backend,
) {
    let s = setup(&backend).await;
    let tenant = &s.acme.id;
    let owner = Some(s.acme.owner.as_str());
    let (status, body) = s
        .fleet
        .call(
            "PUT",
            &format!("/api/v1/tenants/{tenant}/staff/anna"),
            owner,
            Some(json!({"id": "anna", "name": "Anna"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("the staff is not complete: missing field"),
        "{body}"
    );
    for (path, record) in [
        (
            "tax-rates/vat19",
            json!({"id": "vat19", "name": "VAT 19%", "rate": "0.19"}),
        ),
        (
            "staff/anna",
            json!({"id": "anna", "name": "Anna", "role": "cashier", "pin_hash": null, "active": true}),
        ),
        (
            "roles/cashier",
            serde_json::to_value(&pos_core::access::Role::defaults()[0]).unwrap(),
        ),
    ] {
        let (status, body) = s
            .fleet
            .call(
                "PUT",
                &format!("/api/v1/tenants/{tenant}/{path}"),
                owner,
                Some(record),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{path}: {body}");
    }
    let (_, page) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/pull",
            Some(&s.token),
            Some(common::pull_body(&s.device, 0, 100)),
        )
        .await;
    let kinds: Vec<&str> = page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "tenant_store",
            "setting",
            "setting",
            "tax_rate",
            "staff",
            "role"
        ]
    );
    let staff = &page["changes"][4]["body"]["data"]["member"];
    assert_eq!(staff["role"], "cashier");
}

/// The bodies of the changes `device` pulls from the start, as JSON, its store's settings and
/// the tenant's list of stores left out.
async fn pulled(fleet: &common::Fleet, device: &str, token: &str) -> Vec<Value> {
    let (status, page) = fleet
        .call(
            "POST",
            "/sync/v1/pull",
            Some(token),
            Some(common::pull_body(device, 0, 500)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].clone())
        .filter(|b| b["type"] != "setting" && b["type"] != "tenant_store")
        .collect()
}

async fn people_pins_and_roles_saved_on_a_till_reach_the_other_tills_of_its_store(
    backend: Backend,
) {
    use pos_core::access::{Role, User};
    use pos_core::event::DomainEvent;
    use pos_core::id::{RoleId, UserId};

    let mut s = setup(&backend).await;
    let tenant = s.acme.id.clone();
    let owner = s.acme.owner.clone();
    let second = s.fleet.enrol(&owner, &s.acme.store, "Till 2").await;
    let (status, other_store) = s
        .fleet
        .call(
            "POST",
            &format!("/api/v1/tenants/{tenant}/stores"),
            Some(&owner),
            Some(json!({"name": "Acme Nord", "currency": "EUR"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{other_store}");
    let elsewhere = s
        .fleet
        .enrol(&owner, other_store["id"].as_str().unwrap(), "Nord 1")
        .await;

    // In the back office of till 1: a new cashier with a PIN, the cashier role given refunds,
    // and a PIN reset for someone seeded on every till whom the fleet never saw.
    let lena = User {
        id: UserId::new("lena"),
        name: "Lena".into(),
        role: RoleId::new("cashier"),
        active: true,
    };
    let cashier = Role::new("cashier", "Cashier", &["sales.*", "refunds.create"]);
    let events = [
        DomainEvent::RoleSaved(cashier.clone()),
        DomainEvent::UserSaved(lena.clone()),
        DomainEvent::PinReset {
            user: lena.id.clone(),
            pin_hash: "$argon2id$lena".into(),
        },
        DomainEvent::PinReset {
            user: UserId::new("otto"),
            pin_hash: "$argon2id$otto".into(),
        },
    ];
    let entries: Vec<_> = events
        .into_iter()
        .enumerate()
        .map(|(n, event)| s.till.record("mia", event, 10_000 + n as i64).unwrap())
        .collect();
    let (status, ack) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&s.token),
            Some(common::push_body(&s.device, &entries)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");

    let at_till_2 = pulled(&s.fleet, second.device.as_str(), &second.token).await;
    let kinds: Vec<&str> = at_till_2
        .iter()
        .map(|b| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["role", "staff", "staff", "pin_reset"]);
    assert_eq!(
        at_till_2[0]["data"]["role"]["grants"],
        json!(["sales.*", "refunds.create"])
    );
    // Lena arrives whole with her PIN; Otto, whom the fleet knows only by his PIN, as a PIN.
    assert_eq!(at_till_2[2]["data"]["member"]["pin_hash"], "$argon2id$lena");
    assert_eq!(at_till_2[2]["data"]["member"]["name"], "Lena");
    assert_eq!(
        at_till_2[3]["data"],
        json!({"user": "otto", "pin_hash": "$argon2id$otto"})
    );
    // Till 1 gets the merged records too; the other store's till gets nothing of them.
    assert_eq!(pulled(&s.fleet, &s.device, &s.token).await.len(), 4);
    assert!(
        pulled(&s.fleet, elsewhere.device.as_str(), &elsewhere.token)
            .await
            .is_empty()
    );

    // Till 2 saves the role from an older screen (its clock earlier): the newer edit stays.
    let mut till_2 = SampleTill::new(second.device.as_str(), &StoreId::new(s.acme.store.clone()));
    let stale = till_2
        .record(
            "mia",
            DomainEvent::RoleSaved(Role::new("cashier", "Cashier", &["sales.*"])),
            5_000,
        )
        .unwrap();
    let (status, ack) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&second.token),
            Some(common::push_body(second.device.as_str(), &[stale])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    let latest = pulled(&s.fleet, second.device.as_str(), &second.token).await;
    assert_eq!(latest.len(), 5);
    assert_eq!(
        latest[4]["data"]["role"]["grants"],
        json!(["sales.*", "refunds.create"])
    );

    // A role the tenant holds for every store takes a till's edit for every store.
    let (status, body) = s
        .fleet
        .call(
            "PUT",
            &format!("/api/v1/tenants/{tenant}/roles/supervisor"),
            Some(&owner),
            Some(
                serde_json::to_value(Role::new("supervisor", "Supervisor", &["sales.*"])).unwrap(),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // After the owner's write, by the wall clock the fleet stamped it with.
    let later = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
        + 1_000;
    let edit = s
        .till
        .record(
            "mia",
            DomainEvent::RoleSaved(Role::new(
                "supervisor",
                "Supervisor",
                &["sales.*", "discounts.*"],
            )),
            later,
        )
        .unwrap();
    let (status, ack) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&s.token),
            Some(common::push_body(&s.device, &[edit])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    let nord = pulled(&s.fleet, elsewhere.device.as_str(), &elsewhere.token).await;
    let grants: Vec<&Value> = nord.iter().map(|b| &b["data"]["role"]["grants"]).collect();
    assert_eq!(
        grants,
        [&json!(["sales.*"]), &json!(["sales.*", "discounts.*"])]
    );
}

async fn a_cancelled_or_refused_transfer_reaches_the_store_at_the_other_end_only(backend: Backend) {
    use pos_core::clock::Timestamp;
    use pos_core::event::DomainEvent;
    use pos_core::id::{TransferId, UserId};
    use pos_core::quantity::Quantity;
    use pos_core::transfer::Transfer;

    let mut s = setup(&backend).await;
    let tenant = s.acme.id.clone();
    let owner = s.acme.owner.clone();
    let (status, nord) = s
        .fleet
        .call(
            "POST",
            &format!("/api/v1/tenants/{tenant}/stores"),
            Some(&owner),
            Some(json!({"name": "Acme Nord", "currency": "EUR"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{nord}");
    let nord_id = StoreId::new(nord["id"].as_str().unwrap());
    let nord_till = s.fleet.enrol(&owner, nord_id.as_str(), "Nord 1").await;
    let mut nord_sample = SampleTill::new(nord_till.device.as_str(), &nord_id);
    let second = s.fleet.enrol(&owner, &s.acme.store, "Till 2").await;
    let here = StoreId::new(s.acme.store.clone());
    let coffee = common::demo_product("coffee");
    let request = |id: &str| {
        Transfer::request(
            TransferId::new(id),
            nord_id.clone(),
            here.clone(),
            &[(coffee.clone(), Quantity::pieces(4))],
            Timestamp::from_unix_ms(10_000),
            UserId::new("mia"),
        )
        .unwrap()
    };

    // Till 1 asks Nord twice, then withdraws the second request.
    let mut withdrawn = request("tr-2");
    withdrawn
        .cancel(&here, Timestamp::from_unix_ms(11_000))
        .unwrap();
    let entries: Vec<_> = [
        DomainEvent::TransferRequested(request("tr-1")),
        DomainEvent::TransferRequested(request("tr-2")),
        DomainEvent::TransferCancelled(withdrawn),
    ]
    .into_iter()
    .enumerate()
    .map(|(n, event)| s.till.record("mia", event, 10_000 + n as i64).unwrap())
    .collect();
    let (status, ack) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&s.token),
            Some(common::push_body(&s.device, &entries)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");

    // Nord refuses the first, saying why.
    let mut refused = request("tr-1");
    refused
        .refuse(&nord_id, "not in stock", Timestamp::from_unix_ms(12_000))
        .unwrap();
    let entry = nord_sample
        .record("ole", DomainEvent::TransferRefused(refused), 12_000)
        .unwrap();
    let (status, ack) = s
        .fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&nord_till.token),
            Some(common::push_body(nord_till.device.as_str(), &[entry])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");

    let steps = |bodies: Vec<Value>| -> Vec<(String, String, String)> {
        bodies
            .iter()
            .filter(|b| b["type"] == "transfer" || b["type"] == "transfer_ended")
            .map(|b| {
                let transfer = &b["data"]["transfer"];
                (
                    b["type"].as_str().unwrap().to_owned(),
                    transfer["id"].as_str().unwrap().to_owned(),
                    transfer["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let step =
        |kind: &str, id: &str, state: &str| (kind.to_owned(), id.to_owned(), state.to_owned());
    // Nord, at the other end, gets both requests and the cancellation, not its own refusal.
    assert_eq!(
        steps(pulled(&s.fleet, nord_till.device.as_str(), &nord_till.token).await),
        [
            step("transfer", "tr-1", "requested"),
            step("transfer", "tr-2", "requested"),
            step("transfer_ended", "tr-2", "cancelled"),
        ]
    );
    // The asking store's tills get the refusal with its reason, and nothing of their own steps.
    for (device, token) in [
        (s.device.as_str(), s.token.as_str()),
        (second.device.as_str(), second.token.as_str()),
    ] {
        let bodies = pulled(&s.fleet, device, token).await;
        assert_eq!(
            steps(bodies.clone()),
            [step("transfer_ended", "tr-1", "refused")]
        );
        let ended = bodies
            .iter()
            .find(|b| b["type"] == "transfer_ended")
            .unwrap();
        assert_eq!(ended["data"]["transfer"]["reason"], "not in stock");
    }
}
