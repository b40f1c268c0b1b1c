//! The fleet over HTTPS with rustls: a terminal enrols and syncs over TLS, a plain-HTTP
//! request to the TLS port gets no answer, and the dashboard's session cookie is only ever
//! sent back over HTTPS (`Secure`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use pos_fleet::server::{self, FleetConfig, TlsFiles, Transport};
use serde_json::json;

use common::Backend;

backend_tests!(
    a_terminal_enrols_and_pushes_over_tls,
    the_dashboard_cookie_is_secure_over_tls,
);

/// A fleet serving HTTPS with a fresh self-signed certificate for `localhost`, and a client
/// that trusts it.
struct TlsFleet {
    _dir: tempfile::TempDir,
    _schema: Option<common::Schema>,
    running: server::RunningFleet,
    client: reqwest::Client,
    base: String,
}

async fn tls_fleet(backend: &Backend) -> TlsFleet {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let cert_pem = dir.path().join("cert.pem");
    let key_pem = dir.path().join("key.pem");
    std::fs::write(&cert_pem, cert.pem()).unwrap();
    std::fs::write(&key_pem, key.serialize_pem()).unwrap();

    let (storage, schema) = common::open_with_operator(
        backend,
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

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.pem().as_bytes()).unwrap())
        .resolve("localhost", running.addr)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("https://localhost:{}", running.addr.port());
    TlsFleet {
        _dir: dir,
        _schema: schema,
        running,
        client,
        base,
    }
}

async fn a_terminal_enrols_and_pushes_over_tls(backend: Backend) {
    let fleet = tls_fleet(&backend).await;
    let (client, base) = (&fleet.client, &fleet.base);
    let port = fleet.running.addr.port();
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
    let enrolled = pos_sync::http::enrol(client, base, code["code"].as_str().unwrap(), "Till 1")
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

async fn the_dashboard_cookie_is_secure_over_tls(backend: Backend) {
    let fleet = tls_fleet(&backend).await;
    let response = fleet
        .client
        .post(format!("{}/ui/login", fleet.base))
        .form(&[
            ("email", "ops@x.example"),
            ("password", "operator-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(
            cookie.split("; ").any(|a| a == attribute),
            "{attribute} missing from {cookie}"
        );
    }
    // The cookie opens the dashboard, and logging out clears it as securely.
    let session = cookie.split(';').next().unwrap().to_owned();
    let page = fleet
        .client
        .get(format!("{}/ui/tenants", fleet.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    let out = fleet
        .client
        .post(format!("{}/ui/logout", fleet.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let cleared = out.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(
        cleared.contains("Max-Age=0") && cleared.contains("Secure"),
        "{cleared}"
    );
}
