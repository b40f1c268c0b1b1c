//! Digital receipts: a receipt asked for at a till travels up as a `receipt_requested` journal
//! entry (so it works offline), and the fleet sends it: by e-mail over SMTP (lettre) with the
//! PDF receipt attached, or as a text message through an HTTP gateway (a JSON POST). A failed
//! send is tried again a bounded number of times with growing pauses, then marked failed;
//! every outcome is kept (`receipt_deliveries`) and listed at `GET /api/v1/stores/{s}/receipts`.
//!
//! It owns the sending worker and its configuration. It never changes a sale: the receipt is
//! made from the sale as the till recorded it, with the same `pos_core::receipt` document the
//! printer and the till's PDF use.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use pos_core::event::{DomainEvent, ReceiptDestination};
use pos_core::id::{EventId, StoreId, TenantId};
use pos_core::receipt::{ReceiptStyle, sale_document};
use pos_core::sale::Sale;
use pos_printer::encode::{Paper, PrinterProfile};

use crate::storage::{DeliveryStatus, FleetStorage, ReceiptDelivery, ReceiptJob, StorageError};

/// How receipts leave the fleet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptsConfig {
    /// `smtp://host:port` (plain, for a relay on the same host or in tests),
    /// `smtp://host:port?tls=required` (STARTTLS) or `smtps://user:password@host` (TLS).
    pub smtp_url: Option<String>,
    /// The sender, `Shop <receipts@shop.example>`.
    pub mail_from: String,
    /// The SMS gateway: receives `POST {"to", "text", "receipt"}` and answers 2xx when it took it.
    pub sms_gateway: Option<String>,
    /// Attempts per receipt before it is marked failed.
    pub attempts_max: u32,
    /// The pause after the first failure; doubles after each next one, up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// How often the outbox is looked at.
    pub poll: Duration,
    /// One attempt (connect, send, answer) may take this long.
    pub attempt_timeout: Duration,
}

impl ReceiptsConfig {
    pub fn new(mail_from: &str) -> ReceiptsConfig {
        ReceiptsConfig {
            smtp_url: None,
            mail_from: mail_from.to_owned(),
            sms_gateway: None,
            attempts_max: 5,
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(30 * 60),
            poll: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(30),
        }
    }
}

/// The pause before attempt `attempts + 1`, or `None` when `attempts` were all there may be.
pub fn retry_after(config: &ReceiptsConfig, attempts: u32) -> Option<Duration> {
    if attempts >= config.attempts_max {
        return None;
    }
    let doubling = attempts.saturating_sub(1).min(20);
    Some(
        config
            .retry_base
            .saturating_mul(1u32 << doubling)
            .min(config.retry_max),
    )
}

pub(crate) fn status_text(status: DeliveryStatus) -> &'static str {
    status.as_str()
}

/// A stored `receipt_requested` entry as a job.
pub(crate) fn job_from_entry(
    event_id: EventId,
    tenant: TenantId,
    store: StoreId,
    payload: &serde_json::Value,
    attempts: u32,
) -> Result<ReceiptJob, StorageError> {
    match serde_json::from_value::<DomainEvent>(payload.clone()) {
        Ok(DomainEvent::ReceiptRequested {
            sale,
            receipt,
            destination,
        }) => Ok(ReceiptJob {
            event_id,
            tenant,
            store,
            sale,
            receipt,
            destination,
            attempts,
        }),
        Ok(other) => Err(StorageError::Database(format!(
            "journal entry {event_id} is kept as a receipt request but holds a {} event",
            other.kind()
        ))),
        Err(e) => Err(StorageError::Database(format!(
            "journal entry {event_id} is not a readable receipt request: {e}"
        ))),
    }
}

/// The sale in a stored `sale_completed` entry.
pub(crate) fn sale_from_payload(payload: &serde_json::Value) -> Result<Sale, StorageError> {
    match serde_json::from_value::<DomainEvent>(payload.clone()) {
        Ok(DomainEvent::SaleCompleted(sale)) => Ok(sale),
        Ok(other) => Err(StorageError::Database(format!(
            "a sale's journal entry holds a {} event",
            other.kind()
        ))),
        Err(e) => Err(StorageError::Database(format!(
            "a sale's journal entry is not readable: {e}"
        ))),
    }
}

/// What the customer receives: the receipt as text and as a PDF.
pub struct RenderedReceipt {
    pub text: String,
    pub pdf: Vec<u8>,
}

/// The receipt of `sale` for the store the fleet knows by `store_name`.
pub fn render(sale: &Sale, tenant: &TenantId, store_name: &str) -> Result<RenderedReceipt, String> {
    // The fleet keeps no full shop profile yet; the receipt's figures all come from the sale,
    // the header from the fleet's store record.
    let mut store = pos_core::demo::store().map_err(|e| e.to_string())?;
    store.id = sale.store.clone();
    store.tenant = tenant.clone();
    store.name = store_name.to_owned();
    store.currency = sale.currency;
    store.address = Vec::new();
    let document = sale_document(&store, sale, ReceiptStyle::Normal);
    let profile = PrinterProfile::new(Paper::MM80_42);
    Ok(RenderedReceipt {
        text: document.to_text(profile.paper.columns),
        pdf: pos_printer::pdf::to_pdf(&document, &profile),
    })
}

/// Runs the sending worker until the server stops.
pub fn spawn_worker(
    storage: Arc<dyn FleetStorage>,
    config: ReceiptsConfig,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let sender = match Sender::new(&config) {
            Ok(sender) => sender,
            Err(message) => {
                eprintln!("pos-fleet: receipts will not be sent: {message}");
                return;
            }
        };
        loop {
            if let Err(e) = sender.send_due(&storage).await {
                eprintln!("pos-fleet: the receipt outbox could not be read: {e}");
            }
            tokio::time::sleep(config.poll).await;
        }
    })
}

struct Sender {
    config: ReceiptsConfig,
    mailer: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    http: reqwest::Client,
}

async fn blocking<T: Send + 'static>(
    storage: &Arc<dyn FleetStorage>,
    call: impl FnOnce(&dyn FleetStorage) -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    let storage = Arc::clone(storage);
    tokio::task::spawn_blocking(move || call(storage.as_ref()))
        .await
        .map_err(|e| StorageError::Database(format!("the storage call stopped: {e}")))?
}

impl Sender {
    fn new(config: &ReceiptsConfig) -> Result<Sender, String> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e| format!("the sender {:?} is not an address: {e}", config.mail_from))?;
        let mailer = config
            .smtp_url
            .as_deref()
            .map(|url| {
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map(|builder| builder.timeout(Some(config.attempt_timeout)).build())
                    .map_err(|e| format!("the SMTP URL cannot be used: {e}"))
            })
            .transpose()?;
        let http = reqwest::Client::builder()
            .timeout(config.attempt_timeout)
            .build()
            .map_err(|e| format!("the HTTP client could not be built: {e}"))?;
        Ok(Sender {
            config: config.clone(),
            mailer,
            from,
            http,
        })
    }

    async fn send_due(&self, storage: &Arc<dyn FleetStorage>) -> Result<(), StorageError> {
        let now = crate::api::now();
        let jobs = blocking(storage, move |s| s.receipt_requests_due(now, 50)).await?;
        for job in jobs {
            let outcome = self.deliver(storage, &job).await;
            let attempts = job.attempts.saturating_add(1);
            let now = crate::api::now();
            let (status, next_at, last_error) = match outcome {
                Ok(()) => (DeliveryStatus::Sent, None, None),
                Err(message) => match retry_after(&self.config, attempts) {
                    Some(pause) => (
                        DeliveryStatus::Retrying,
                        Some(now.plus_ms(i64::try_from(pause.as_millis()).unwrap_or(i64::MAX))),
                        Some(message),
                    ),
                    None => (DeliveryStatus::Failed, None, Some(message)),
                },
            };
            let delivery = ReceiptDelivery {
                event_id: job.event_id,
                tenant: job.tenant,
                store: job.store,
                sale: job.sale,
                receipt: job.receipt,
                destination: job.destination,
                status,
                attempts,
                last_error,
                updated_at: now,
            };
            blocking(storage, move |s| {
                s.record_receipt_delivery(&delivery, next_at)
            })
            .await?;
        }
        Ok(())
    }

    async fn deliver(
        &self,
        storage: &Arc<dyn FleetStorage>,
        job: &ReceiptJob,
    ) -> Result<(), String> {
        let (store, sale) = (job.store.clone(), job.sale.clone());
        let found = blocking(storage, move |s| {
            let record = s.store(&store)?;
            Ok((record, s.receipt_sale(&store, &sale)?))
        })
        .await
        .map_err(|e| e.to_string())?;
        let (Some(record), Some(sale)) = found else {
            return Err(format!(
                "sale {} of receipt {} is not at the fleet yet",
                job.sale, job.receipt
            ));
        };
        let rendered = render(&sale, &job.tenant, &record.name)?;
        match &job.destination {
            ReceiptDestination::Email(address) => {
                self.email(address, &record.name, &job.receipt.to_string(), rendered)
                    .await
            }
            ReceiptDestination::Sms(number) => {
                let text = format!(
                    "{}: receipt {} of {}, total {}",
                    record.name,
                    job.receipt,
                    sale.at.to_utc(),
                    sale.total
                );
                self.sms(number, &text, &job.receipt.to_string()).await
            }
        }
    }

    async fn email(
        &self,
        address: &str,
        shop: &str,
        receipt: &str,
        rendered: RenderedReceipt,
    ) -> Result<(), String> {
        let Some(mailer) = &self.mailer else {
            return Err("no SMTP server is configured (--smtp-url)".to_owned());
        };
        let to: Mailbox = address
            .parse()
            .map_err(|e| format!("{address:?} is not an e-mail address: {e}"))?;
        let pdf_type = ContentType::parse("application/pdf").map_err(|e| e.to_string())?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("Your receipt {receipt} from {shop}"))
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(rendered.text))
                    .singlepart(
                        Attachment::new(format!("receipt-{receipt}.pdf"))
                            .body(rendered.pdf, pdf_type),
                    ),
            )
            .map_err(|e| format!("the e-mail could not be built: {e}"))?;
        mailer
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("the mail server did not take the receipt: {e}"))
    }

    async fn sms(&self, number: &str, text: &str, receipt: &str) -> Result<(), String> {
        let Some(gateway) = &self.config.sms_gateway else {
            return Err("no SMS gateway is configured (--sms-gateway)".to_owned());
        };
        let response = self
            .http
            .post(gateway)
            .json(&serde_json::json!({"to": number, "text": text, "receipt": receipt}))
            .send()
            .await
            .map_err(|e| format!("the SMS gateway could not be reached: {e}"))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            let body = response.text().await.unwrap_or_default();
            Err(format!(
                "the SMS gateway refused the message ({status}): {}",
                body.chars().take(200).collect::<String>()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_bounded_and_pauses_grow_to_a_cap() {
        let config = ReceiptsConfig {
            attempts_max: 4,
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(25),
            ..ReceiptsConfig::new("shop@example.com")
        };
        assert_eq!(retry_after(&config, 1), Some(Duration::from_secs(10)));
        assert_eq!(retry_after(&config, 2), Some(Duration::from_secs(20)));
        assert_eq!(retry_after(&config, 3), Some(Duration::from_secs(25)));
        assert_eq!(retry_after(&config, 4), None);
    }
}
