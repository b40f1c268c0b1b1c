//! The HTTP adapter: drives a [`SyncMachine`] against a fleet server with reqwest, and enrols a
//! terminal. The terminal's journal is reached through the small [`Journal`] trait, so the
//! adapter knows nothing of SQLite.
//!
//! Paths: `POST /sync/v1/enrol`, `POST /sync/v1/push`, `POST /sync/v1/pull`, JSON bodies, the
//! terminal's credential as `Authorization: Bearer <token>`.
//!
//! It also keeps the terminal's enrolment key in its data directory ([`enrolment_key`]), the
//! one file this crate writes, so that every way a terminal enrols (the setup screen, the
//! service screen, the sync agent) sends the same key.

use std::path::Path;
use std::time::Duration;

use crate::machine::{Halt, Output, Request, Response, SyncMachine};
use crate::wire::{
    self, Change, EnrolRequest, EnrolResponse, ErrorBody, ErrorCode, JournalEntry, PROTOCOL,
};

/// What the adapter needs from the terminal's store.
pub trait Journal {
    type Error: std::error::Error + Send + Sync + 'static;
    /// Entries with `seq >= from_seq`, in order, at most `entries_max`.
    fn load(&mut self, from_seq: u64, entries_max: usize)
    -> Result<Vec<JournalEntry>, Self::Error>;
    /// The fleet holds everything up to `high_water_seq`.
    fn acknowledged(&mut self, high_water_seq: u64) -> Result<(), Self::Error>;
    /// Apply pulled changes and store the cursor, in one transaction.
    fn apply(&mut self, changes: Vec<Change>, next_cursor: u64) -> Result<(), Self::Error>;
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("the fleet server could not be reached: {0}")]
    Unreachable(#[source] reqwest::Error),
    #[error("the fleet refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("the fleet's answer could not be read: {0}")]
    BadAnswer(#[from] wire::WireError),
    #[error("the terminal's journal failed: {0}")]
    Journal(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("sync did not settle within {0} steps")]
    StepsExhausted(usize),
}

/// A fleet server and this terminal's credential.
#[derive(Clone, Debug)]
pub struct FleetClient {
    client: reqwest::Client,
    base_url: String,
    token: String,
}

/// The file in a terminal's data directory that holds its enrolment key (mode 0600).
pub const ENROLMENT_KEY_FILE: &str = "sync-enrolment-key";

/// This terminal's enrolment key, made and kept in `data_dir` on first use: sent with an
/// enrolment code, it lets a retry after a lost answer, even after a restart and from another
/// screen, get this terminal its credential (see [`enrol_with_key`]). `None` when it cannot be
/// kept: the enrolment then goes without, and a lost answer costs the code.
pub fn enrolment_key(data_dir: &Path) -> Option<String> {
    let path = data_dir.join(ENROLMENT_KEY_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let key = text.trim();
        if !key.is_empty() {
            return Some(key.to_owned());
        }
    }
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).ok()?;
    let key: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&path).and_then(|mut file| {
        use std::io::Write;
        file.write_all(key.as_bytes())?;
        file.sync_all()
    });
    written.ok().map(|()| key)
}

/// Exchanges a one-time enrolment code for the terminal's own credential.
pub async fn enrol(
    client: &reqwest::Client,
    base_url: &str,
    code: &str,
    name: &str,
) -> Result<EnrolResponse, HttpError> {
    enrol_with_key(client, base_url, code, name, None).await
}

/// As [`enrol`], with the terminal's enrolment key: sent again with the same code after a
/// lost answer, it gets this terminal its credential instead of a refusal of the used code.
pub async fn enrol_with_key(
    client: &reqwest::Client,
    base_url: &str,
    code: &str,
    name: &str,
    enrolment_key: Option<&str>,
) -> Result<EnrolResponse, HttpError> {
    let response = client
        .post(format!("{base_url}/sync/v1/enrol"))
        .json(&EnrolRequest {
            protocol: PROTOCOL,
            code: code.to_owned(),
            name: name.to_owned(),
            enrolment_key: enrolment_key.map(str::to_owned),
        })
        .send()
        .await
        .map_err(HttpError::Unreachable)?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(HttpError::Unreachable)?;
    if (200..300).contains(&status) {
        Ok(wire::decode(&body)?)
    } else {
        let error = refusal(status, &body);
        Err(HttpError::Refused {
            status,
            message: error.message,
        })
    }
}

fn refusal(status: u16, body: &[u8]) -> ErrorBody {
    serde_json::from_slice(body).unwrap_or_else(|_| ErrorBody {
        code: match status {
            401 => ErrorCode::Unauthenticated,
            413 => ErrorCode::BodyTooLarge,
            _ => ErrorCode::Unknown,
        },
        message: format!("HTTP {status}: {}", String::from_utf8_lossy(body)),
    })
}

impl FleetClient {
    pub fn new(client: reqwest::Client, base_url: &str, token: &str) -> FleetClient {
        FleetClient {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    /// Sends one request. `Err` only when no HTTP answer came.
    pub async fn send(&self, request: &Request) -> Result<Response, reqwest::Error> {
        let (path, body) = match request {
            Request::Push(batch) => ("push", serde_json::to_vec(batch)),
            Request::Pull(pull) => ("pull", serde_json::to_vec(pull)),
        };
        let post = self
            .client
            .post(format!("{}/sync/v1/{path}", self.base_url))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.unwrap_or_default());
        // The body is shared, not copied: a bytes body clones by reference.
        let again = post.try_clone();
        let response = match (post.send().await, again) {
            // Sent on a kept-alive connection that the fleet, or a router on the way, had
            // already closed: once more at once, on a new connection, rather than after the
            // backoff. Pushes and pulls are idempotent.
            (Err(error), Some(again))
                if error.is_request() && !error.is_connect() && !error.is_timeout() =>
            {
                again.send().await?
            }
            (answered, _) => answered?,
        };
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        if !(200..300).contains(&status) {
            return Ok(Response::Refused {
                status,
                error: refusal(status, &bytes),
            });
        }
        let decoded = match request {
            Request::Push(_) => wire::decode(&bytes).map(Response::Pushed),
            Request::Pull(_) => wire::decode(&bytes).map(Response::Pulled),
        };
        Ok(decoded.unwrap_or_else(|e| Response::Refused {
            status,
            error: ErrorBody {
                code: match e {
                    wire::WireError::IncompatibleProtocol { .. } => ErrorCode::ProtocolIncompatible,
                    _ => ErrorCode::Unknown,
                },
                message: e.to_string(),
            },
        }))
    }
}

/// How a [`run_until_caught_up`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// Everything in the outbox is acknowledged and the last pull had no more.
    CaughtUp,
    Halted(Halt),
}

/// Drives the machine until the outbox is acknowledged and pulls are done, or it halts.
/// Waits (backoff) are really slept. `now_ms` reads the wall clock; at most `steps_max`
/// outputs are handled.
pub async fn run_until_caught_up<J: Journal>(
    machine: &mut SyncMachine,
    journal: &mut J,
    fleet: &FleetClient,
    now_ms: impl Fn() -> i64,
    steps_max: usize,
) -> Result<RunOutcome, HttpError> {
    let journal_error = |e: J::Error| HttpError::Journal(Box::new(e));
    for _ in 0..steps_max {
        let now = now_ms();
        let Some(output) = machine.poll_output(now) else {
            return Ok(match machine.halted() {
                Some(halt) => RunOutcome::Halted(halt.clone()),
                None => RunOutcome::CaughtUp,
            });
        };
        match output {
            Output::LoadOutbox {
                from_seq,
                entries_max,
            } => {
                let entries = journal.load(from_seq, entries_max).map_err(journal_error)?;
                machine.handle_outbox_entries(entries);
            }
            Output::Send { id, request } => match fleet.send(&request).await {
                Ok(response) => machine.handle_response(id, response, now_ms()),
                Err(_) => machine.handle_transport_error(id, now_ms()),
            },
            Output::Acknowledged { high_water_seq } => {
                journal
                    .acknowledged(high_water_seq)
                    .map_err(journal_error)?;
            }
            Output::Apply {
                changes,
                next_cursor,
            } => journal.apply(changes, next_cursor).map_err(journal_error)?,
            Output::WaitUntil { at_ms } => {
                if machine.is_caught_up() {
                    return Ok(RunOutcome::CaughtUp);
                }
                let wait_ms = u64::try_from(at_ms.saturating_sub(now)).unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(wait_ms)).await;
            }
            Output::Halted(halt) => return Ok(RunOutcome::Halted(halt)),
        }
    }
    Err(HttpError::StepsExhausted(steps_max))
}
