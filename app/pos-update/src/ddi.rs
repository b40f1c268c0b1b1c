//! The agent's IO against the fleet's hawkBit-shaped device API (DDI): it polls
//! `/{tenant}/controller/v1/{controllerId}` with `Authorization: TargetToken <credential>`,
//! turns a `deploymentBase` into an [`Offered`](crate::agent::Input::Offered) deployment, and
//! carries out what the [`Agent`] asks: the free-space check, the download (resumed with an
//! HTTP Range after a drop), the install through RAUC, the reboot, the health check, the slot
//! marking, and every feedback. It answers `cancelAction` and sends `configData` (the running
//! version and the slots) when the fleet asks.
//!
//! The policy stays in the agent: this module decides nothing about when to retry, what to
//! verify or when to reboot. Time and the till's state come from a [`Host`], so a test can run
//! it against a virtual clock.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::agent::{
    Agent, Deployment, Execution, Feedback, Input, MaintenanceWindow, Notice, Now, Outcome, Output,
    Phase,
};
use crate::rauc::{Mark, Rauc, RaucError};

/// Where the adapter talks to and keeps its files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DdiConfig {
    /// The fleet's base URL, `https://fleet.example.com`.
    pub server: String,
    pub tenant: String,
    /// The terminal's id, as enrolment gave it.
    pub controller_id: String,
    /// The terminal's credential from enrolment.
    pub token: String,
    /// The bundle being downloaded; on the data partition.
    pub download_path: PathBuf,
    /// The agent's persisted phase.
    pub state_path: PathBuf,
    /// The store's daily window for restarting into a new version; `None` restarts whenever
    /// the till is idle.
    pub window: Option<MaintenanceWindow>,
}

/// Action ids of updates that came from a USB stick rather than the fleet: their feedback
/// stays on the terminal.
pub const LOCAL_ACTION_PREFIX: &str = "usb:";

/// A bundle taken from a USB stick, as the import recorded it after `rauc info` verified its
/// signature: the install checks the file against this record as it checks a download
/// against the fleet's offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalBundle {
    /// The bundle in the import directory.
    pub path: PathBuf,
    /// The name it had on the stick.
    pub name: String,
    pub version: String,
    pub compatible: String,
    pub size_bytes: u64,
    pub sha256: [u8; 32],
}

/// Why a bundle from a USB stick is not installed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocalRefusal {
    #[error("another update is in progress; try the stick again when it has finished")]
    Busy,
    #[error("the update on the stick is for '{bundle}', but this terminal is '{system}'")]
    WrongCompatible { bundle: String, system: String },
    #[error("the update on the stick was refused: {0}")]
    Failed(String),
}

/// What the adapter needs from the terminal program.
pub trait Host: Send {
    fn now(&self) -> Now;
    /// Waits `ms` milliseconds (a test's host moves a virtual clock instead).
    fn wait(&mut self, ms: u64) -> impl std::future::Future<Output = ()> + Send;
    /// Whether a cart is open or a payment is in progress.
    fn till_busy(&self) -> bool;
    /// Whether the till's shift is closed (the Z report printed): stores whose updates wait
    /// for the close read it from the attributes the adapter sends.
    fn shift_closed(&self) -> bool;
    /// The version the running system is (`VERSION_ID` of os-release).
    fn running_version(&self) -> String;
    /// Restart the terminal (after the agent asked, with the till idle).
    fn reboot(&mut self);
    /// Checks the running system after an update; the problems found.
    fn health_check(&mut self) -> Vec<String>;
    fn notice(&mut self, notice: Notice);
    /// The agent moved on (a download's progress too): told after every step it takes, so
    /// the screen follows a long one (a download of minutes, an install) while it runs.
    fn phase_changed(&mut self, _phase: &Phase) {}
}

#[derive(Debug, thiserror::Error)]
pub enum DdiError {
    #[error("the fleet cannot be reached: {0}")]
    Unreachable(#[from] reqwest::Error),
    #[error("the fleet refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("the fleet's answer could not be read: {0}")]
    BadAnswer(String),
    #[error("the update state file {path} cannot be used: {detail}")]
    State { path: PathBuf, detail: String },
    #[error(transparent)]
    Rauc(#[from] RaucError),
}

/// What one poll found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Polled {
    /// How long the fleet asks the terminal to wait before the next poll.
    pub sleep_secs: u64,
    /// The action offered, if any (also when its install must wait for the window).
    pub offered: Option<String>,
    /// Whether the offer may be installed now (`update` is not `skip`).
    pub installable: bool,
    pub cancel: Option<String>,
}

#[derive(Deserialize)]
struct Href {
    href: String,
}

#[derive(Deserialize, Default)]
struct Links {
    #[serde(rename = "deploymentBase")]
    deployment_base: Option<Href>,
    #[serde(rename = "cancelAction")]
    cancel_action: Option<Href>,
    #[serde(rename = "configData")]
    config_data: Option<Href>,
}

#[derive(Deserialize)]
struct PollAnswer {
    config: PollConfig,
    #[serde(rename = "_links", default)]
    links: Links,
}

#[derive(Deserialize)]
struct PollConfig {
    polling: Polling,
}

#[derive(Deserialize)]
struct Polling {
    sleep: String,
}

#[derive(Deserialize)]
struct DeploymentAnswer {
    id: String,
    deployment: DeploymentBody,
}

#[derive(Deserialize)]
struct DeploymentBody {
    #[serde(default)]
    update: Option<String>,
    chunks: Vec<Chunk>,
}

#[derive(Deserialize)]
struct Chunk {
    version: String,
    artifacts: Vec<Artifact>,
}

#[derive(Deserialize)]
struct Artifact {
    size: u64,
    hashes: Hashes,
    #[serde(rename = "_links")]
    links: ArtifactLinks,
}

#[derive(Deserialize)]
struct Hashes {
    sha256: String,
}

#[derive(Deserialize)]
struct ArtifactLinks {
    download: Option<Href>,
    #[serde(rename = "download-http")]
    download_http: Option<Href>,
}

#[derive(Deserialize)]
struct CancelAnswer {
    #[serde(rename = "cancelAction")]
    cancel_action: CancelBody,
}

#[derive(Deserialize)]
struct CancelBody {
    #[serde(rename = "stopId")]
    stop_id: String,
}

/// `hh:mm:ss` in seconds.
fn parse_sleep(text: &str) -> Option<u64> {
    let mut parts = text.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    Some(h * 3600 + m * 60 + s)
}

fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Where a feedback goes: the deployment's or the cancellation's resource.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Deployment,
    Cancel,
}

pub struct DdiAdapter<H: Host> {
    http: reqwest::Client,
    config: DdiConfig,
    agent: Agent,
    rauc: Rauc,
    host: H,
    /// Feedback not yet delivered, oldest first; sent again before anything new.
    unsent: VecDeque<(Route, Feedback)>,
    /// The ETag of the file being downloaded, for `If-Range` when resuming.
    etag: Option<String>,
    /// Feedback the agent produced so far, to tell whether an input was answered.
    feedback_count: u64,
    /// The last feedback of an update from a USB stick, which has no fleet to go to.
    local_feedback: Option<Feedback>,
}

impl<H: Host> DdiAdapter<H> {
    /// An adapter resuming from the persisted phase, if there is one.
    pub fn new(config: DdiConfig, rauc: Rauc, host: H, jitter_seed: u64) -> Result<Self, DdiError> {
        let phase = match std::fs::read(&config.state_path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| DdiError::State {
                path: config.state_path.clone(),
                detail: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Phase::Idle,
            Err(e) => {
                return Err(DdiError::State {
                    path: config.state_path.clone(),
                    detail: e.to_string(),
                });
            }
        };
        Ok(DdiAdapter {
            // A transfer that stalls (a link that stays up but carries nothing) fails after a
            // minute and is resumed, rather than hanging the update for good.
            http: reqwest::Client::builder()
                .connect_timeout(std::time::Duration::from_secs(10))
                .read_timeout(std::time::Duration::from_secs(60))
                .build()?,
            agent: Agent::new(phase, jitter_seed),
            config,
            rauc,
            host,
            unsent: VecDeque::new(),
            etag: None,
            feedback_count: 0,
            local_feedback: None,
        })
    }

    pub fn phase(&self) -> &Phase {
        self.agent.record()
    }

    pub fn host(&self) -> &H {
        &self.host
    }

    pub fn host_mut(&mut self) -> &mut H {
        &mut self.host
    }

    /// The last step of the latest update from a USB stick, for the terminal's screens.
    pub fn local_feedback(&self) -> Option<&Feedback> {
        self.local_feedback.as_ref()
    }

    /// A manager put the restart into an installed update off until `until_unix_ms`. False
    /// when no installed update is waiting to restart.
    pub async fn postpone(&mut self, until_unix_ms: u64) -> Result<bool, DdiError> {
        if !matches!(self.agent.record(), Phase::AwaitingReboot { .. }) {
            return Ok(false);
        }
        self.feed(Input::Postponed { until_unix_ms }, Route::Deployment)
            .await?;
        Ok(true)
    }

    /// Installs a bundle taken from a USB stick through the same steps as a fleet update: the
    /// free-space check, the copy onto the data partition checked against the import's size
    /// and SHA-256, RAUC's install (which checks the signature and the compatible string
    /// again), then the wait for an idle till. Returns once the bundle is installed and waits
    /// for its restart, or with the reason it was refused.
    pub async fn install_local(&mut self, bundle: LocalBundle) -> Result<(), LocalRefusal> {
        if !matches!(self.agent.record(), Phase::Idle) {
            return Err(LocalRefusal::Busy);
        }
        let system = self
            .rauc
            .compatible()
            .await
            .map_err(|e| LocalRefusal::Failed(e.to_string()))?;
        if bundle.compatible != system {
            return Err(LocalRefusal::WrongCompatible {
                bundle: bundle.compatible,
                system,
            });
        }
        let deployment = Deployment {
            action_id: format!("{LOCAL_ACTION_PREFIX}{}", bundle.name),
            version: bundle.version,
            url: format!("file://{}", bundle.path.display()),
            size_bytes: bundle.size_bytes,
            sha256: bundle.sha256,
            window: self.config.window,
        };
        self.local_feedback = None;
        self.feed(Input::Offered(deployment), Route::Deployment)
            .await
            .map_err(|e| LocalRefusal::Failed(e.to_string()))?;
        self.run()
            .await
            .map_err(|e| LocalRefusal::Failed(e.to_string()))?;
        match &self.local_feedback {
            Some(last)
                if matches!(last.execution, Execution::Closed)
                    && last.result == Outcome::Failure =>
            {
                // The agent words the size and hash check for the fleet's offer; here the
                // offer is the import's record of the stick.
                let changed = last.details.starts_with("the download is ")
                    || last.details.starts_with("the download's SHA-256");
                Err(LocalRefusal::Failed(if changed {
                    format!(
                        "the bundle changed after the stick was checked ({})",
                        last.details
                    )
                } else {
                    last.details.clone()
                }))
            }
            _ => Ok(()),
        }
    }

    /// Tells the agent the program started on the running version, and carries on from the
    /// persisted phase (health check after an update, resumed download, …).
    pub async fn start(&mut self) -> Result<(), DdiError> {
        let version = self.host.running_version();
        self.feed(Input::Started { version }, Route::Deployment)
            .await
    }

    fn controller_url(&self) -> String {
        format!(
            "{}/{}/controller/v1/{}",
            self.config.server.trim_end_matches('/'),
            self.config.tenant,
            self.config.controller_id
        )
    }

    fn authorised(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.header(
            reqwest::header::AUTHORIZATION,
            format!("TargetToken {}", self.config.token),
        )
    }

    async fn checked(response: reqwest::Response) -> Result<reqwest::Response, DdiError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body: Value = response.json().await.unwrap_or(Value::Null);
        Err(DdiError::Refused {
            status: status.as_u16(),
            message: body["message"]
                .as_str()
                .map_or_else(|| status.to_string(), str::to_owned),
        })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, DdiError> {
        let response = Self::checked(self.authorised(self.http.get(url)).send().await?).await?;
        let bytes = response.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| DdiError::BadAnswer(e.to_string()))
    }

    /// One poll: sends what the fleet asked for, answers a cancellation, and offers a new
    /// deployment to the agent. Then carries out whatever the agent asks.
    pub async fn poll(&mut self) -> Result<Polled, DdiError> {
        self.flush_feedback().await?;
        let answer: PollAnswer = self.get_json(&self.controller_url()).await?;
        let mut polled = Polled {
            sleep_secs: parse_sleep(&answer.config.polling.sleep).unwrap_or(300),
            ..Polled::default()
        };
        if answer.links.config_data.is_some() {
            self.send_attributes().await?;
        }
        if let Some(link) = &answer.links.cancel_action {
            let cancel: CancelAnswer = self.get_json(&link.href).await?;
            let action_id = cancel.cancel_action.stop_id;
            polled.cancel = Some(action_id.clone());
            let before = self.feedback_count;
            self.feed(
                Input::CancelRequested {
                    action_id: action_id.clone(),
                },
                Route::Cancel,
            )
            .await?;
            if self.feedback_count == before {
                // The agent has no such action (it finished or never started): confirm.
                self.send_now(
                    Route::Cancel,
                    Feedback {
                        action_id,
                        execution: Execution::Canceled,
                        result: Outcome::Success,
                        progress: None,
                        details: "nothing to cancel on this terminal".into(),
                    },
                )
                .await?;
            }
        }
        if let Some(link) = &answer.links.deployment_base {
            let deployment: DeploymentAnswer = self.get_json(&link.href).await?;
            polled.offered = Some(deployment.id.clone());
            polled.installable = deployment.deployment.update.as_deref() != Some("skip");
            if polled.installable {
                match offer(deployment) {
                    Ok(offer) => {
                        let offer = Deployment {
                            window: self.config.window,
                            ..offer
                        };
                        self.feed(Input::Offered(offer), Route::Deployment).await?
                    }
                    Err((action_id, details)) => {
                        self.send_now(
                            Route::Deployment,
                            Feedback {
                                action_id,
                                execution: Execution::Closed,
                                result: Outcome::Failure,
                                progress: None,
                                details,
                            },
                        )
                        .await?;
                    }
                }
            }
        }
        self.run().await?;
        Ok(polled)
    }

    /// Sends the terminal's attributes (config data): the running version, the slots and the
    /// shift. The fleet asks for them on first contact and after an update; the terminal
    /// program also calls this when the shift closes.
    pub async fn send_attributes(&mut self) -> Result<(), DdiError> {
        let url = format!("{}/configData", self.controller_url());
        let mut data = serde_json::Map::new();
        data.insert("version".into(), json!(self.host.running_version()));
        let shift = if self.host.shift_closed() {
            "closed"
        } else {
            "open"
        };
        data.insert("shift".into(), json!(shift));
        for slot in self.rauc.slots().await? {
            let text = format!(
                "{} {} {}",
                slot.state,
                slot.boot_status.as_deref().unwrap_or("unknown"),
                slot.bundle_version.as_deref().unwrap_or("-")
            );
            data.insert(format!("slot.{}", slot.name), json!(text));
        }
        let body = json!({"mode": "merge", "data": data});
        Self::checked(
            self.authorised(self.http.put(url))
                .json(&body)
                .send()
                .await?,
        )
        .await?;
        Ok(())
    }

    /// Carries out the agent's outputs until it waits for something outside: a poll, the till,
    /// the window, a reboot. Waits out retry delays through the host.
    pub async fn run(&mut self) -> Result<(), DdiError> {
        loop {
            let busy = self.host.till_busy();
            self.feed(Input::Till { busy }, Route::Deployment).await?;
            let Phase::Downloading {
                retry_at_unix_ms: Some(retry_at),
                ..
            } = self.agent.record()
            else {
                return Ok(());
            };
            let wait = retry_at.saturating_sub(self.host.now().unix_ms);
            self.host.wait(wait).await;
            self.feed(Input::Tick, Route::Deployment).await?;
        }
    }

    /// Hands one input to the agent and carries out everything that follows from it.
    async fn feed(&mut self, input: Input, route: Route) -> Result<(), DdiError> {
        let mut inputs = VecDeque::from([(input, route)]);
        while let Some((input, route)) = inputs.pop_front() {
            let outputs = self.agent.handle(self.host.now(), input);
            self.host.phase_changed(self.agent.record());
            self.persist()?;
            for output in outputs {
                if matches!(output, Output::Download { .. } | Output::Install) {
                    // The fleet hears of a long step when it starts, not once it is over.
                    self.flush_feedback_or_keep().await;
                }
                if let Some(next) = self.carry_out(output, route).await? {
                    inputs.extend(next.into_iter().map(|i| (i, Route::Deployment)));
                }
            }
        }
        self.flush_feedback().await
    }

    fn persist(&self) -> Result<(), DdiError> {
        let state = |detail: String| DdiError::State {
            path: self.config.state_path.clone(),
            detail,
        };
        let text = serde_json::to_vec(self.agent.record()).map_err(|e| state(e.to_string()))?;
        let temporary = self.config.state_path.with_extension("tmp");
        std::fs::write(&temporary, text).map_err(|e| state(e.to_string()))?;
        std::fs::rename(&temporary, &self.config.state_path).map_err(|e| state(e.to_string()))
    }

    async fn carry_out(
        &mut self,
        output: Output,
        route: Route,
    ) -> Result<Option<Vec<Input>>, DdiError> {
        Ok(match output {
            Output::CheckFreeSpace { .. } => Some(vec![Input::FreeSpace {
                available_bytes: free_bytes(&self.config.download_path),
            }]),
            Output::Download { url, from_byte } => Some(self.download(&url, from_byte).await),
            Output::DiscardDownload => {
                self.etag = None;
                match tokio::fs::remove_file(&self.config.download_path).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => eprintln!("pos-update: cannot remove the download: {e}"),
                }
                None
            }
            Output::Install => {
                let error = self
                    .rauc
                    .install(&self.config.download_path)
                    .await
                    .err()
                    .map(|e| e.to_string());
                Some(vec![Input::InstallFinished { error }])
            }
            Output::Reboot => {
                self.host.reboot();
                None
            }
            Output::RunHealthCheck => Some(vec![Input::HealthChecked {
                problems: self.host.health_check(),
            }]),
            Output::MarkBootedGood => {
                self.rauc.mark(Mark::Good, "booted").await?;
                None
            }
            Output::MarkBootedBad => {
                self.rauc.mark(Mark::Bad, "booted").await?;
                None
            }
            Output::Feedback(feedback) => {
                self.feedback_count += 1;
                if feedback.action_id.starts_with(LOCAL_ACTION_PREFIX) {
                    self.local_feedback = Some(feedback);
                } else {
                    self.unsent.push_back((route, feedback));
                }
                None
            }
            Output::Notice(notice) => {
                self.host.notice(notice);
                None
            }
        })
    }

    /// Fetches `url` into the download file from `from_byte` on; the inputs for the agent.
    async fn download(&mut self, url: &str, from_byte: u64) -> Vec<Input> {
        let failed = |bytes_so_far: u64, reason: String| {
            vec![Input::DownloadFailed {
                bytes_so_far,
                reason,
            }]
        };
        let path = self.config.download_path.clone();
        // What is on disk is what counts: never append after a gap.
        let on_disk = tokio::fs::metadata(&path).await.map_or(0, |m| m.len());
        let mut from = from_byte.min(on_disk);
        if let Some(source) = url.strip_prefix("file://") {
            return copy_local(Path::new(source), &path, from).await;
        }
        let mut request = self.authorised(self.http.get(url));
        if from > 0 {
            request = request.header(reqwest::header::RANGE, format!("bytes={from}-"));
            if let Some(etag) = &self.etag {
                request = request.header(reqwest::header::IF_RANGE, etag.clone());
            }
        }
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) => return failed(from, format!("the fleet cannot be reached: {e}")),
        };
        match response.status().as_u16() {
            206 => {}
            // The fleet sent the whole file (it changed, or ignored the range): start afresh.
            200 => from = 0,
            // Everything was already here (the program stopped after the last byte was written):
            // check what is on disk.
            416 if from > 0 && total_len(&response) == Some(from) => {
                return match file_sha256(&path).await {
                    Ok((size_bytes, sha256)) => {
                        vec![Input::DownloadComplete { size_bytes, sha256 }]
                    }
                    Err(e) => failed(from, format!("the download cannot be read back: {e}")),
                };
            }
            416 => return failed(from, "the fleet refused the resume range".into()),
            status => return failed(from, format!("the fleet answered {status}")),
        }
        self.etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut file = match tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .await
        {
            Ok(file) => file,
            Err(e) => return failed(from, format!("the download file cannot be written: {e}")),
        };
        if let Err(e) = file.set_len(from).await {
            return failed(from, format!("the download file cannot be written: {e}"));
        }
        if let Err(e) =
            tokio::io::AsyncSeekExt::seek(&mut file, std::io::SeekFrom::Start(from)).await
        {
            return failed(from, format!("the download file cannot be written: {e}"));
        }
        let mut inputs = Vec::new();
        let mut so_far = from;
        let total = self.offered_size().unwrap_or(0).max(1);
        let mut percent_reported = so_far.saturating_mul(100) / total;
        loop {
            match response.chunk().await {
                Ok(Some(bytes)) => {
                    if let Err(e) = file.write_all(&bytes).await {
                        inputs.extend(failed(
                            so_far,
                            format!("the download file cannot be written: {e}"),
                        ));
                        return inputs;
                    }
                    so_far += bytes.len() as u64;
                    let percent = so_far.saturating_mul(100) / total;
                    if percent > percent_reported {
                        percent_reported = percent;
                        self.report_progress(so_far).await;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    if let Err(e) = file.flush().await {
                        eprintln!("pos-update: cannot flush the download: {e}");
                    }
                    inputs.extend(failed(so_far, format!("the transfer broke off: {e}")));
                    return inputs;
                }
            }
        }
        if let Err(e) = file.sync_all().await {
            inputs.extend(failed(
                so_far,
                format!("the download file cannot be written: {e}"),
            ));
            return inputs;
        }
        drop(file);
        match file_sha256(&path).await {
            Ok((size_bytes, sha256)) => inputs.push(Input::DownloadComplete { size_bytes, sha256 }),
            Err(e) => inputs.extend(failed(
                so_far,
                format!("the download cannot be read back: {e}"),
            )),
        }
        inputs
    }

    /// The size of the bundle being downloaded, as the fleet offered it.
    fn offered_size(&self) -> Option<u64> {
        match self.agent.record() {
            Phase::Downloading { deployment, .. } => Some(deployment.size_bytes),
            _ => None,
        }
    }

    /// Sends what feedback it can now; what does not go stays queued for the next flush.
    async fn flush_feedback_or_keep(&mut self) {
        if let Err(e) = self.flush_feedback().await {
            eprintln!("pos-update: feedback waits for the next contact: {e}");
        }
    }

    /// Tells the agent how far a running download is, so that the screen and the fleet see it
    /// move. Only feedback follows from progress.
    async fn report_progress(&mut self, bytes_so_far: u64) {
        let outputs = self
            .agent
            .handle(self.host.now(), Input::Downloaded { bytes_so_far });
        self.host.phase_changed(self.agent.record());
        if let Err(e) = self.persist() {
            // Only progress is lost: a resumed download starts from what is on disk.
            eprintln!("pos-update: {e}");
        }
        for output in outputs {
            match output {
                Output::Feedback(feedback) => {
                    self.feedback_count += 1;
                    self.unsent.push_back((Route::Deployment, feedback));
                }
                other => eprintln!("pos-update: not expected during a download: {other:?}"),
            }
        }
        self.flush_feedback_or_keep().await;
    }

    async fn flush_feedback(&mut self) -> Result<(), DdiError> {
        while let Some((route, feedback)) = self.unsent.front().cloned() {
            self.send_now(route, feedback).await?;
            self.unsent.pop_front();
        }
        Ok(())
    }

    async fn send_now(&self, route: Route, feedback: Feedback) -> Result<(), DdiError> {
        let resource = match route {
            Route::Deployment => "deploymentBase",
            Route::Cancel => "cancelAction",
        };
        let url = format!(
            "{}/{resource}/{}/feedback",
            self.controller_url(),
            feedback.action_id
        );
        let execution = match feedback.execution {
            Execution::Proceeding => "proceeding",
            Execution::Scheduled => "scheduled",
            Execution::Downloaded => "downloaded",
            Execution::Closed => "closed",
            Execution::Canceled => "canceled",
            Execution::Rejected => "rejected",
        };
        let finished = match feedback.result {
            Outcome::None => "none",
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        };
        let mut result = json!({"finished": finished});
        if let Some((cnt, of)) = feedback.progress {
            result["progress"] = json!({"cnt": cnt, "of": of});
        }
        let body = json!({
            "id": feedback.action_id,
            "status": {"execution": execution, "result": result, "details": [feedback.details]},
        });
        let response = self
            .authorised(self.http.post(&url))
            .json(&body)
            .send()
            .await?;
        // The fleet closed the action already: the feedback has nowhere to go, and retrying
        // it forever would only load the fleet.
        if response.status() == reqwest::StatusCode::GONE {
            return Ok(());
        }
        Self::checked(response).await?;
        Ok(())
    }
}

/// The deployment the agent is offered, or the action id and why it cannot be.
fn offer(answer: DeploymentAnswer) -> Result<Deployment, (String, String)> {
    let action_id = answer.id;
    let refuse = |details: String| (action_id.clone(), details);
    let [chunk] = answer.deployment.chunks.as_slice() else {
        return Err(refuse(format!(
            "the fleet offered {} chunks; this terminal installs exactly one",
            answer.deployment.chunks.len()
        )));
    };
    let [artifact] = chunk.artifacts.as_slice() else {
        return Err(refuse(format!(
            "the fleet offered {} artifacts; this terminal installs exactly one bundle",
            chunk.artifacts.len()
        )));
    };
    let sha256 = parse_sha256(&artifact.hashes.sha256)
        .ok_or_else(|| refuse("the fleet's SHA-256 of the bundle is not valid".into()))?;
    let url = artifact
        .links
        .download
        .as_ref()
        .or(artifact.links.download_http.as_ref())
        .map(|link| link.href.clone())
        .ok_or_else(|| refuse("the fleet gave no download link".into()))?;
    Ok(Deployment {
        action_id: action_id.clone(),
        version: chunk.version.clone(),
        url,
        size_bytes: artifact.size,
        sha256,
        window: None,
    })
}

/// The file's length from a `Content-Range: bytes */<len>` (or `bytes a-b/<len>`) header.
fn total_len(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get(reqwest::header::CONTENT_RANGE)?
        .to_str()
        .ok()?
        .rsplit('/')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Free bytes for an unprivileged writer on the file system of `path`'s directory.
fn free_bytes(path: &Path) -> u64 {
    let dir = path.parent().unwrap_or(Path::new("/"));
    rustix::fs::statvfs(dir).map_or(0, |stat| stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Copies a bundle from the import directory onto the download path from byte `from` on;
/// the inputs for the agent, as a download gives them.
async fn copy_local(source: &Path, path: &Path, from: u64) -> Vec<Input> {
    let copied = async {
        let mut reader = tokio::fs::File::open(source).await?;
        tokio::io::AsyncSeekExt::seek(&mut reader, std::io::SeekFrom::Start(from)).await?;
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(path)
            .await?;
        file.set_len(from).await?;
        tokio::io::AsyncSeekExt::seek(&mut file, std::io::SeekFrom::Start(from)).await?;
        let copied = tokio::io::copy(&mut reader, &mut file).await?;
        file.sync_all().await?;
        Ok::<u64, std::io::Error>(from + copied)
    }
    .await;
    match copied {
        Ok(bytes_so_far) => match file_sha256(path).await {
            Ok((size_bytes, sha256)) => vec![
                Input::Downloaded { bytes_so_far },
                Input::DownloadComplete { size_bytes, sha256 },
            ],
            Err(e) => vec![Input::DownloadFailed {
                bytes_so_far,
                reason: format!("the copy cannot be read back: {e}"),
            }],
        },
        Err(e) => vec![Input::DownloadFailed {
            bytes_so_far: from,
            reason: format!("the bundle cannot be copied from the import directory: {e}"),
        }],
    }
}

async fn file_sha256(path: &Path) -> std::io::Result<(u64, [u8; 32])> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&path)?;
        let mut hasher = Sha256::new();
        let size = std::io::copy(&mut file, &mut hasher)?;
        Ok((size, hasher.finalize().into()))
    })
    .await
    .map_err(std::io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_interval_and_hashes_are_read_as_hawkbit_writes_them() {
        assert_eq!(parse_sleep("00:05:00"), Some(300));
        assert_eq!(parse_sleep("01:00:30"), Some(3630));
        assert_eq!(parse_sleep("5 minutes"), None);
        assert_eq!(parse_sha256(&"ab".repeat(32)), Some([0xab; 32]));
        assert_eq!(parse_sha256("abc"), None);
    }

    #[test]
    fn an_offer_with_several_chunks_or_artifacts_is_refused_with_a_reason() {
        let answer = |chunks: Value| -> DeploymentAnswer {
            serde_json::from_value(json!({"id": "7", "deployment": {"download": "forced", "update": "forced", "chunks": chunks}})).unwrap()
        };
        let artifact = json!({"filename": "a.raucb", "size": 10, "hashes": {"sha1": "x", "md5": "y", "sha256": "ab".repeat(32)}, "_links": {"download-http": {"href": "http://fleet/a"}}});
        let one = offer(answer(
            json!([{"part": "os", "version": "1.4.0", "name": "os", "artifacts": [artifact]}]),
        ))
        .unwrap();
        assert_eq!(one.url, "http://fleet/a");
        assert_eq!(one.size_bytes, 10);
        let two = offer(answer(json!([
            {"part": "os", "version": "1", "name": "os", "artifacts": [artifact]},
            {"part": "app", "version": "1", "name": "app", "artifacts": [artifact]},
        ])))
        .unwrap_err();
        assert_eq!(
            two,
            (
                "7".into(),
                "the fleet offered 2 chunks; this terminal installs exactly one".into()
            )
        );
        let none = offer(answer(
            json!([{"part": "os", "version": "1", "name": "os", "artifacts": []}]),
        ))
        .unwrap_err();
        assert!(none.1.contains("0 artifacts"));
    }
}
