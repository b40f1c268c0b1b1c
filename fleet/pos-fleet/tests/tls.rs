//! The fleet over HTTPS with rustls: a terminal enrols and syncs over TLS, and a plain-HTTP
//! request to the TLS port gets no answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use pos_fleet::server::{self, FleetConfig, TlsFiles, Transport};
use serde_json::json;

use common::Backend;

backend_tests!(a_terminal_enrols_and_pushes_over_tls,);

async fn a_terminal_enrols_and_pushes_over_tls(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let cert_pem = dir.path().join("cert.pem");
    let key_pem = dir.path().join("key.pem");
    std::fs::write(&cert_pem, cert.pem()).unwrap();
    std::fs::write(&key_pem, key.serialize_pem()).unwrap();

    let (storage, _schema) = common::open_with_operator(
        &backend,
        &dir.path().join("data"),
        "ops@x.example",
        "operator-password",
    )
    .await;
    let config = FleetConfig {
        tls: Some(TlsFiles { cert_pem, key_pem }),
        ..FleetConfig::new(dir.path().join("data"), "127.0.0.1:0".parse().unwrap())
    };
    let transport = server::transport(&config).unwrap();
    assert!(matches!(transport, Transport::Tls(_)));
    let running = server::start_with(&config, transport, storage)
        .await
        .unwrap();
    let port = running.addr.port();

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.pem().as_bytes()).unwrap())
        .resolve("localhost", running.addr)
        .build()
        .unwrap();
    let base = format!("https://localhost:{port}");
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"email": "ops@x.example", "password": "operator-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap();
    let tenant: serde_json::Value = client
        .post(format!("{base}/api/v1/tenants"))
        .bearer_auth(token)
        .json(&json!({"name": "Acme"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let store: serde_json::Value = client
        .post(format!(
            "{base}/api/v1/tenants/{}/stores",
            tenant["id"].as_str().unwrap()
        ))
        .bearer_auth(token)
        .json(&json!({"name": "Acme Mitte", "currency": "EUR"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code: serde_json::Value = client
        .post(format!(
            "{base}/api/v1/stores/{}/enrolment-codes",
            store["id"].as_str().unwrap()
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let enrolled = pos_sync::http::enrol(&client, &base, code["code"].as_str().unwrap(), "Till 1")
        .await
        .unwrap();
    let ack = client
        .post(format!("{base}/sync/v1/push"))
        .bearer_auth(&enrolled.token)
        .json(&common::push_body(enrolled.device.as_str(), &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status(), reqwest::StatusCode::OK);

    // Plain HTTP on the TLS port: no HTTP answer.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}
