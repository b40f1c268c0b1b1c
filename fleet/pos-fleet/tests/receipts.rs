//! Digital receipts: a till's `receipt_requested` events reach the fleet with its journal and
//! the fleet sends them: by e-mail to an SMTP server on loopback (a small sink written here
//! that keeps every message), with the receipt as a PDF attached; by text message to an HTTP
//! gateway on loopback. A gateway that keeps failing is tried a bounded number of times, and
//! the failure is listed by the API with the gateway's words.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use pos_core::event::ReceiptDestination;
use pos_core::id::{EventId, StoreId};
use pos_fleet::receipts::ReceiptsConfig;
use pos_fleet::server::{self, FleetConfig, Transport};
use pos_sync::hlc::HlcTime;
use pos_sync::sample::SampleTill;
use pos_sync::wire::JournalEntry;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use common::Backend;

backend_tests!(a_requested_receipt_is_mailed_with_its_pdf_and_texted_through_the_gateway);
backend_tests!(a_gateway_that_keeps_failing_is_retried_then_the_receipt_is_marked_failed);

/// An SMTP server that accepts every message and keeps its DATA.
async fn smtp_sink() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&messages);
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let kept = Arc::clone(&kept);
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read);
                write.write_all(b"220 sink.test ESMTP\r\n").await.unwrap();
                let mut line = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let command = line.trim_end().to_ascii_uppercase();
                    if command.starts_with("EHLO") || command.starts_with("HELO") {
                        write
                            .write_all(b"250-sink.test\r\n250 8BITMIME\r\n")
                            .await
                            .unwrap();
                    } else if command.starts_with("DATA") {
                        write.write_all(b"354 go on\r\n").await.unwrap();
                        let mut data = String::new();
                        loop {
                            line.clear();
                            lines.read_line(&mut line).await.unwrap();
                            if line == ".\r\n" {
                                break;
                            }
                            data.push_str(&line);
                        }
                        kept.lock().unwrap().push(data);
                        write.write_all(b"250 kept\r\n").await.unwrap();
                    } else if command.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else {
                        write.write_all(b"250 ok\r\n").await.unwrap();
                    }
                }
            });
        }
    });
    (addr, messages)
}

/// An SMS gateway answering `status` to every POST and keeping the bodies.
async fn sms_gateway(status: u16) -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&received);
    let app = axum::Router::new().route(
        "/send",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let kept = Arc::clone(&kept);
            async move {
                kept.lock().unwrap().push(body);
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    "gateway says: out of credit",
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/send"), received)
}

struct Rig {
    fleet: common::Fleet,
    owner: String,
    store: String,
}

/// A fleet that sends receipts with `receipts`, a tenant with a store and its owner.
async fn fleet_sending(backend: &Backend, receipts: ReceiptsConfig) -> Rig {
    let mut fleet = common::start(backend).await;
    // A second server on the same database, with the receipt sender on.
    let config = FleetConfig {
        receipts: Some(receipts),
        ..FleetConfig::new(
            fleet.dir.path().to_path_buf(),
            "127.0.0.1:0".parse().unwrap(),
        )
    };
    let running = server::start_with(&config, Transport::Plain, fleet.storage.clone())
        .await
        .unwrap();
    fleet.base = format!("http://{}", running.addr);
    let acme = fleet.tenant("Acme").await;
    fleet.add_product(&acme.owner, &acme.id, "milk").await;
    Rig {
        fleet,
        owner: acme.owner,
        store: acme.store,
    }
}

fn quick(mail_from: &str) -> ReceiptsConfig {
    ReceiptsConfig {
        attempts_max: 3,
        retry_base: Duration::from_millis(50),
        retry_max: Duration::from_millis(200),
        poll: Duration::from_millis(25),
        attempt_timeout: Duration::from_secs(5),
        ..ReceiptsConfig::new(mail_from)
    }
}

/// A till sells milk and asks for the receipt at each destination; returns the receipt number.
async fn sell_and_ask(rig: &Rig, destinations: &[ReceiptDestination]) -> String {
    let terminal = rig.fleet.enrol(&rig.owner, &rig.store, "Till 1").await;
    let mut till = SampleTill::new(terminal.device.as_str(), &StoreId::new(&rig.store));
    let milk = common::demo_product("milk");
    let mut entries = till.sell(&milk, 2, 1_780_000_000_000).unwrap();
    let sale = entries[0].domain_event().unwrap().unwrap();
    let pos_core::event::DomainEvent::SaleCompleted(sale) = sale else {
        panic!("the first entry is the sale")
    };
    for destination in destinations {
        let last = entries.last().unwrap().clone();
        let event = pos_core::event::DomainEvent::ReceiptRequested {
            sale: sale.id.clone(),
            receipt: sale.receipt_number.clone(),
            destination: destination.clone(),
        };
        entries.push(JournalEntry {
            event_id: EventId::new(format!("{}-receipt-{}", terminal.device, last.seq + 1)),
            seq: last.seq + 1,
            hlc: HlcTime::new(last.hlc.wall_ms, last.hlc.counter + 1),
            actor: last.actor.clone(),
            kind: "receipt_requested".into(),
            payload: pos_sync::wire::Payload::from_event(&event).unwrap(),
            recorded_by: None,
        });
    }
    let (status, body) = rig
        .fleet
        .call(
            "POST",
            "/sync/v1/push",
            Some(&terminal.token),
            Some(common::push_body(terminal.device.as_str(), &entries)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sale.receipt_number.to_string()
}

async fn deliveries_until(rig: &Rig, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..400 {
        let (status, body) = rig
            .fleet
            .call(
                "GET",
                &format!("/api/v1/stores/{}/receipts", rig.store),
                Some(&rig.owner),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let rows = body.as_array().unwrap().clone();
        if done(&rows) {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the receipts were not delivered in time");
}

/// The attachment of a MIME message that has this content type, decoded.
fn attachment(message: &str, content_type: &str) -> Vec<u8> {
    let start = message
        .find(&format!("Content-Type: {content_type}"))
        .unwrap_or_else(|| panic!("no {content_type} part in {message}"));
    let part = &message[start..];
    let body_start = part.find("\r\n\r\n").unwrap() + 4;
    let body: String = part[body_start..]
        .lines()
        .take_while(|line| !line.starts_with("--"))
        .collect::<Vec<_>>()
        .concat();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .unwrap()
}

async fn a_requested_receipt_is_mailed_with_its_pdf_and_texted_through_the_gateway(
    backend: Backend,
) {
    let (smtp, mailbox) = smtp_sink().await;
    let (gateway, texts) = sms_gateway(202).await;
    let rig = fleet_sending(
        &backend,
        ReceiptsConfig {
            smtp_url: Some(format!("smtp://{smtp}")),
            sms_gateway: Some(gateway),
            ..quick("Acme <receipts@acme.example>")
        },
    )
    .await;
    let receipt = sell_and_ask(
        &rig,
        &[
            ReceiptDestination::Email("anna@example.de".into()),
            ReceiptDestination::Sms("+4915112345678".into()),
        ],
    )
    .await;
    let rows = deliveries_until(&rig, |rows| {
        rows.len() == 2 && rows.iter().all(|r| r["status"] == "sent")
    })
    .await;
    assert!(rows.iter().all(|r| r["attempts"] == 1), "{rows:?}");

    let messages = mailbox.lock().unwrap().clone();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert!(message.contains("To: anna@example.de"), "{message}");
    assert!(
        message.contains(&format!("Subject: Your receipt {receipt}")),
        "{message}"
    );
    let pdf = attachment(message, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"), "the attachment is a PDF");
    let pdf_text = String::from_utf8_lossy(&pdf);
    assert!(
        pdf_text.contains(&receipt),
        "the PDF shows receipt {receipt}"
    );

    let texts = texts.lock().unwrap().clone();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0]["to"], "+4915112345678");
    assert_eq!(texts[0]["receipt"], json!(receipt));
    assert!(texts[0]["text"].as_str().unwrap().contains(&receipt));

    // Sent receipts are not sent again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(mailbox.lock().unwrap().len(), 1);
}

async fn a_gateway_that_keeps_failing_is_retried_then_the_receipt_is_marked_failed(
    backend: Backend,
) {
    let (gateway, texts) = sms_gateway(503).await;
    let rig = fleet_sending(
        &backend,
        ReceiptsConfig {
            sms_gateway: Some(gateway),
            ..quick("receipts@acme.example")
        },
    )
    .await;
    sell_and_ask(&rig, &[ReceiptDestination::Sms("+4915112345678".into())]).await;
    let rows = deliveries_until(&rig, |rows| {
        rows.len() == 1 && rows[0]["status"] == "failed"
    })
    .await;
    assert_eq!(rows[0]["attempts"], 3);
    let error = rows[0]["last_error"].as_str().unwrap();
    assert!(
        error.contains("503") && error.contains("out of credit"),
        "{error}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        texts.lock().unwrap().len(),
        3,
        "bounded: three attempts, no more"
    );

    // The owners' dashboard lists it for a person to look at.
    let store = StoreId::new(&rig.store);
    let failed = rig
        .fleet
        .with_storage(move |s| s.failed_receipts(&[store]))
        .await
        .unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].channel, "text message");
    assert_eq!(failed[0].attempts, 3);
    assert!(failed[0].reason.contains("out of credit"), "{failed:?}");
}
