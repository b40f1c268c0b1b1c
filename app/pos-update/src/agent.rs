//! The update agent as a state machine: an offered deployment goes through free-space check,
//! download (resumed after a drop, retried with bounded backoff), size and hash check, install
//! into the other slot, a wait for a moment when the till is idle, reboot, and a health check
//! that marks the new slot good or bad. Every step reports feedback for the fleet.
//!
//! No IO and no clock: the adapter feeds [`Input`]s with the time and carries out [`Output`]s
//! (download, install through RAUC, reboot, mark, send feedback). It persists [`Agent::record`]
//! after every step, so a reboot (planned or a power cut) resumes where it was.
//!
//! Rules the state machine keeps, each covered by a test:
//! - it MUST NOT reboot while a cart is open or a payment is in progress, outside the
//!   maintenance window, or while a manager has postponed the restart;
//! - it MUST NOT install a download whose size or SHA-256 differs from the offer;
//! - it MUST NOT retry a download more than [`DOWNLOAD_ATTEMPTS_MAX`] times;
//! - it MUST mark the new slot bad and reboot into the old one when the health check fails
//!   or does not answer within [`HEALTH_CHECK_MS_MAX`].

use serde::{Deserialize, Serialize};

/// Downloads tried per deployment before it is reported as failed.
pub const DOWNLOAD_ATTEMPTS_MAX: u32 = 8;
/// The first retry waits this long; each next one twice as long, up to [`RETRY_DELAY_MS_MAX`].
pub const RETRY_DELAY_MS_MIN: u64 = 5_000;
pub const RETRY_DELAY_MS_MAX: u64 = 15 * 60_000;
/// How long the new version has to prove itself after the reboot.
pub const HEALTH_CHECK_MS_MAX: u64 = 5 * 60_000;
/// Free space kept beyond the bundle itself, so that a download never fills the data partition
/// the sales database lives on.
pub const FREE_SPACE_MARGIN_BYTES: u64 = 256 * 1024 * 1024;
/// Progress feedback is sent at most this often, in tenths of the download.
const PROGRESS_STEPS: u64 = 10;

/// An update offered by the fleet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The fleet's action id: every feedback names it.
    pub action_id: String,
    pub version: String,
    pub url: String,
    pub size_bytes: u64,
    pub sha256: [u8; 32],
    /// Restart only inside this daily window, in the shop's local time.
    pub window: Option<MaintenanceWindow>,
}

/// A daily window, `start_minute..end_minute` after local midnight; it may wrap past midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    pub start_minute: u16,
    pub end_minute: u16,
}

impl MaintenanceWindow {
    pub fn contains(&self, minute_of_day: u16) -> bool {
        if self.start_minute <= self.end_minute {
            (self.start_minute..self.end_minute).contains(&minute_of_day)
        } else {
            minute_of_day >= self.start_minute || minute_of_day < self.end_minute
        }
    }
}

/// The time as the adapter reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    pub unix_ms: u64,
    /// Minutes since local midnight in the shop.
    pub local_minute: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Time passed.
    Tick,
    Offered(Deployment),
    /// The fleet cancelled an action.
    CancelRequested {
        action_id: String,
    },
    FreeSpace {
        available_bytes: u64,
    },
    Downloaded {
        bytes_so_far: u64,
    },
    DownloadFailed {
        bytes_so_far: u64,
        reason: String,
    },
    DownloadComplete {
        size_bytes: u64,
        sha256: [u8; 32],
    },
    InstallFinished {
        error: Option<String>,
    },
    /// Whether a cart is open or a payment is in progress.
    Till {
        busy: bool,
    },
    /// A manager put the restart off.
    Postponed {
        until_unix_ms: u64,
    },
    /// The agent started (after a boot, or after the program restarted), on a system running
    /// `version`.
    Started {
        version: String,
    },
    HealthChecked {
        problems: Vec<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    CheckFreeSpace {
        needed_bytes: u64,
    },
    /// Fetch `url` into the download file, appending from `from_byte` (0 starts afresh).
    Download {
        url: String,
        from_byte: u64,
    },
    /// Delete the download file.
    DiscardDownload,
    /// Install the download file into the other slot.
    Install,
    Reboot,
    RunHealthCheck,
    MarkBootedGood,
    MarkBootedBad,
    Feedback(Feedback),
    Notice(Notice),
}

/// What the till shows the cashier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Installed; the till restarts when idle (and inside the window, if there is one).
    UpdateReady {
        version: String,
    },
    Restarting {
        version: String,
    },
    Updated {
        version: String,
    },
    RolledBack {
        version: String,
        reason: String,
    },
}

/// Feedback in the shape of hawkBit's DDI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    pub action_id: String,
    pub execution: Execution,
    pub result: Outcome,
    /// Done and total, in the unit of the step (bytes while downloading).
    pub progress: Option<(u64, u64)>,
    pub details: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Execution {
    Proceeding,
    Scheduled,
    Downloaded,
    Closed,
    Canceled,
    Rejected,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    None,
    Success,
    Failure,
}

/// Where the agent is. Persisted after every step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    Idle,
    CheckingSpace {
        deployment: Deployment,
    },
    Downloading {
        deployment: Deployment,
        bytes_so_far: u64,
        attempts: u32,
        /// Set while waiting to retry.
        retry_at_unix_ms: Option<u64>,
        progress_step: u64,
    },
    Installing {
        deployment: Deployment,
    },
    AwaitingReboot {
        deployment: Deployment,
        postponed_until_unix_ms: Option<u64>,
    },
    Rebooting {
        deployment: Deployment,
    },
    Confirming {
        deployment: Deployment,
        deadline_unix_ms: u64,
    },
    RollingBack {
        deployment: Deployment,
        reason: String,
    },
}

pub struct Agent {
    phase: Phase,
    till_busy: bool,
    /// xorshift state for retry jitter; seeded by the adapter.
    jitter_state: u64,
}

impl Agent {
    /// A fresh agent, or one restored from its last persisted phase.
    pub fn new(phase: Phase, jitter_seed: u64) -> Agent {
        Agent {
            phase,
            // The till counts as busy until it says otherwise: never reboot on a guess.
            till_busy: true,
            jitter_state: jitter_seed | 1,
        }
    }

    /// What to persist.
    pub fn record(&self) -> &Phase {
        &self.phase
    }

    pub fn handle(&mut self, now: Now, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Till { busy } => self.till_busy = busy,
            input => {
                let phase = std::mem::replace(&mut self.phase, Phase::Idle);
                self.phase = self.transition(phase, now, input, &mut out);
            }
        }
        self.reboot_if_allowed(now, &mut out);
        out
    }

    fn transition(&mut self, phase: Phase, now: Now, input: Input, out: &mut Vec<Output>) -> Phase {
        use Input as I;
        use Phase as P;
        match (phase, input) {
            (P::Idle, I::Offered(deployment)) => {
                out.push(feedback(
                    &deployment,
                    Execution::Proceeding,
                    Outcome::None,
                    None,
                    "accepted",
                ));
                out.push(Output::CheckFreeSpace {
                    needed_bytes: deployment.size_bytes + FREE_SPACE_MARGIN_BYTES,
                });
                P::CheckingSpace { deployment }
            }
            (P::CheckingSpace { deployment }, I::FreeSpace { available_bytes }) => {
                let needed = deployment.size_bytes + FREE_SPACE_MARGIN_BYTES;
                if available_bytes < needed {
                    let details = format!(
                        "not enough free space: {} MiB needed, {} MiB free",
                        needed.div_ceil(1 << 20),
                        available_bytes >> 20
                    );
                    out.push(feedback(
                        &deployment,
                        Execution::Closed,
                        Outcome::Failure,
                        None,
                        &details,
                    ));
                    return P::Idle;
                }
                out.push(Output::Download {
                    url: deployment.url.clone(),
                    from_byte: 0,
                });
                P::Downloading {
                    deployment,
                    bytes_so_far: 0,
                    attempts: 1,
                    retry_at_unix_ms: None,
                    progress_step: 0,
                }
            }
            (
                P::Downloading {
                    deployment,
                    attempts,
                    progress_step,
                    ..
                },
                I::Downloaded { bytes_so_far },
            ) => {
                let total = deployment.size_bytes.max(1);
                let step = bytes_so_far.min(total) * PROGRESS_STEPS / total;
                if step > progress_step {
                    out.push(feedback(
                        &deployment,
                        Execution::Proceeding,
                        Outcome::None,
                        Some((bytes_so_far, deployment.size_bytes)),
                        "downloading",
                    ));
                }
                P::Downloading {
                    deployment,
                    bytes_so_far,
                    attempts,
                    retry_at_unix_ms: None,
                    progress_step: step.max(progress_step),
                }
            }
            (
                P::Downloading {
                    deployment,
                    attempts,
                    progress_step,
                    ..
                },
                I::DownloadFailed {
                    bytes_so_far,
                    reason,
                },
            ) => {
                if attempts >= DOWNLOAD_ATTEMPTS_MAX {
                    let details = format!("download failed {attempts} times, last: {reason}");
                    out.push(Output::DiscardDownload);
                    out.push(feedback(
                        &deployment,
                        Execution::Closed,
                        Outcome::Failure,
                        None,
                        &details,
                    ));
                    return P::Idle;
                }
                let delay = self.retry_delay_ms(attempts);
                out.push(feedback(
                    &deployment,
                    Execution::Proceeding,
                    Outcome::None,
                    Some((bytes_so_far, deployment.size_bytes)),
                    &format!(
                        "download interrupted ({reason}); retrying in {} s",
                        delay / 1000
                    ),
                ));
                P::Downloading {
                    deployment,
                    bytes_so_far,
                    attempts,
                    retry_at_unix_ms: Some(now.unix_ms + delay),
                    progress_step,
                }
            }
            (
                P::Downloading {
                    deployment,
                    bytes_so_far,
                    attempts,
                    retry_at_unix_ms: Some(retry_at),
                    progress_step,
                },
                I::Tick,
            ) if now.unix_ms >= retry_at => {
                out.push(Output::Download {
                    url: deployment.url.clone(),
                    from_byte: bytes_so_far,
                });
                P::Downloading {
                    deployment,
                    bytes_so_far,
                    attempts: attempts + 1,
                    retry_at_unix_ms: None,
                    progress_step,
                }
            }
            (P::Downloading { deployment, .. }, I::DownloadComplete { size_bytes, sha256 }) => {
                if size_bytes != deployment.size_bytes || sha256 != deployment.sha256 {
                    let details = if size_bytes != deployment.size_bytes {
                        format!(
                            "the download is {size_bytes} bytes, the fleet announced {}",
                            deployment.size_bytes
                        )
                    } else {
                        "the download's SHA-256 differs from the fleet's".to_owned()
                    };
                    out.push(Output::DiscardDownload);
                    out.push(feedback(
                        &deployment,
                        Execution::Closed,
                        Outcome::Failure,
                        None,
                        &details,
                    ));
                    return P::Idle;
                }
                out.push(feedback(
                    &deployment,
                    Execution::Downloaded,
                    Outcome::None,
                    None,
                    "downloaded and verified; installing",
                ));
                out.push(Output::Install);
                P::Installing { deployment }
            }
            (P::Installing { deployment }, I::InstallFinished { error }) => {
                out.push(Output::DiscardDownload);
                if let Some(error) = error {
                    out.push(feedback(
                        &deployment,
                        Execution::Closed,
                        Outcome::Failure,
                        None,
                        &error,
                    ));
                    return P::Idle;
                }
                out.push(feedback(
                    &deployment,
                    Execution::Scheduled,
                    Outcome::None,
                    None,
                    "installed in the other slot; restarting when the till is idle",
                ));
                out.push(Output::Notice(Notice::UpdateReady {
                    version: deployment.version.clone(),
                }));
                P::AwaitingReboot {
                    deployment,
                    postponed_until_unix_ms: None,
                }
            }
            (P::AwaitingReboot { deployment, .. }, I::Postponed { until_unix_ms }) => {
                out.push(feedback(
                    &deployment,
                    Execution::Scheduled,
                    Outcome::None,
                    None,
                    "restart postponed by a manager",
                ));
                P::AwaitingReboot {
                    deployment,
                    postponed_until_unix_ms: Some(until_unix_ms),
                }
            }
            (P::Rebooting { deployment }, I::Started { version }) => {
                if version == deployment.version {
                    out.push(Output::RunHealthCheck);
                    P::Confirming {
                        deadline_unix_ms: now.unix_ms + HEALTH_CHECK_MS_MAX,
                        deployment,
                    }
                } else {
                    let reason = format!(
                        "{} did not start; the box went back to the other slot",
                        deployment.version
                    );
                    rolled_back(&deployment, &version, &reason, out);
                    P::Idle
                }
            }
            (P::Confirming { deployment, .. }, I::HealthChecked { problems }) => {
                if problems.is_empty() {
                    out.push(Output::MarkBootedGood);
                    out.push(feedback(
                        &deployment,
                        Execution::Closed,
                        Outcome::Success,
                        None,
                        &format!("running {}", deployment.version),
                    ));
                    out.push(Output::Notice(Notice::Updated {
                        version: deployment.version.clone(),
                    }));
                    P::Idle
                } else {
                    roll_back(
                        deployment,
                        format!("health check failed: {}", problems.join("; ")),
                        out,
                    )
                }
            }
            (
                P::Confirming {
                    deployment,
                    deadline_unix_ms,
                },
                I::Tick,
            ) => {
                if now.unix_ms >= deadline_unix_ms {
                    roll_back(
                        deployment,
                        "health check did not answer in time".to_owned(),
                        out,
                    )
                } else {
                    P::Confirming {
                        deployment,
                        deadline_unix_ms,
                    }
                }
            }
            (P::RollingBack { deployment, reason }, I::Started { version }) => {
                if version == deployment.version {
                    // The bootloader still chose the bad slot: mark it again and retry once more
                    // through the same path rather than run an unhealthy version.
                    roll_back(deployment, reason, out)
                } else {
                    rolled_back(&deployment, &version, &reason, out);
                    P::Idle
                }
            }
            (phase, I::CancelRequested { action_id }) => cancel(phase, &action_id, out),
            (P::CheckingSpace { deployment }, I::Started { .. }) => {
                out.push(Output::CheckFreeSpace {
                    needed_bytes: deployment.size_bytes + FREE_SPACE_MARGIN_BYTES,
                });
                P::CheckingSpace { deployment }
            }
            (
                P::Downloading {
                    deployment,
                    bytes_so_far,
                    attempts,
                    progress_step,
                    ..
                },
                I::Started { .. },
            ) => {
                // The transfer in flight died with the program; pick it up where it was.
                out.push(Output::Download {
                    url: deployment.url.clone(),
                    from_byte: bytes_so_far,
                });
                P::Downloading {
                    deployment,
                    bytes_so_far,
                    attempts,
                    retry_at_unix_ms: None,
                    progress_step,
                }
            }
            (P::Installing { deployment }, I::Started { .. }) => {
                // RAUC marks the target slot bad before writing it, so an interrupted install
                // never boots; the fleet offers the update again.
                out.push(Output::DiscardDownload);
                out.push(feedback(
                    &deployment,
                    Execution::Closed,
                    Outcome::Failure,
                    None,
                    "the install was interrupted by a restart",
                ));
                P::Idle
            }
            (
                P::AwaitingReboot {
                    deployment,
                    postponed_until_unix_ms,
                },
                I::Started { version },
            ) => {
                if version == deployment.version {
                    // Power was cut after the install: the bootloader already chose the new slot.
                    out.push(Output::RunHealthCheck);
                    P::Confirming {
                        deadline_unix_ms: now.unix_ms + HEALTH_CHECK_MS_MAX,
                        deployment,
                    }
                } else {
                    P::AwaitingReboot {
                        deployment,
                        postponed_until_unix_ms,
                    }
                }
            }
            (
                P::Confirming {
                    deployment,
                    deadline_unix_ms,
                },
                I::Started { version },
            ) => {
                if version == deployment.version {
                    out.push(Output::RunHealthCheck);
                    P::Confirming {
                        deployment,
                        deadline_unix_ms,
                    }
                } else {
                    let reason = "the new version stopped before its health check".to_owned();
                    rolled_back(&deployment, &version, &reason, out);
                    P::Idle
                }
            }
            (phase, I::Offered(offer)) => {
                // One deployment at a time; the same offer again (a repeated poll) is no news.
                if current(&phase).is_some_and(|d| d.action_id != offer.action_id) {
                    out.push(feedback(
                        &offer,
                        Execution::Rejected,
                        Outcome::None,
                        None,
                        "another update is in progress",
                    ));
                }
                phase
            }
            // Anything else (a late download event, a tick with nothing due) changes nothing.
            (phase, _) => phase,
        }
    }

    fn reboot_if_allowed(&mut self, now: Now, out: &mut Vec<Output>) {
        let Phase::AwaitingReboot {
            deployment,
            postponed_until_unix_ms,
        } = &self.phase
        else {
            return;
        };
        let postponed = postponed_until_unix_ms.is_some_and(|until| now.unix_ms < until);
        let outside_window = deployment
            .window
            .is_some_and(|window| !window.contains(now.local_minute));
        if self.till_busy || postponed || outside_window {
            return;
        }
        let deployment = deployment.clone();
        out.push(Output::Notice(Notice::Restarting {
            version: deployment.version.clone(),
        }));
        out.push(feedback(
            &deployment,
            Execution::Proceeding,
            Outcome::None,
            None,
            "restarting into the new version",
        ));
        out.push(Output::Reboot);
        self.phase = Phase::Rebooting { deployment };
    }

    /// Exponential backoff with up to 25% jitter, so a fleet of terminals that lost the same
    /// link does not come back in step.
    fn retry_delay_ms(&mut self, attempts: u32) -> u64 {
        let base = RETRY_DELAY_MS_MIN
            .saturating_mul(1 << attempts.saturating_sub(1).min(20))
            .min(RETRY_DELAY_MS_MAX);
        self.jitter_state ^= self.jitter_state << 13;
        self.jitter_state ^= self.jitter_state >> 7;
        self.jitter_state ^= self.jitter_state << 17;
        base + self.jitter_state % (base / 4 + 1)
    }
}

fn current(phase: &Phase) -> Option<&Deployment> {
    match phase {
        Phase::Idle => None,
        Phase::CheckingSpace { deployment }
        | Phase::Downloading { deployment, .. }
        | Phase::Installing { deployment }
        | Phase::AwaitingReboot { deployment, .. }
        | Phase::Rebooting { deployment }
        | Phase::Confirming { deployment, .. }
        | Phase::RollingBack { deployment, .. } => Some(deployment),
    }
}

fn cancel(phase: Phase, action_id: &str, out: &mut Vec<Output>) -> Phase {
    let Some(deployment) = current(&phase)
        .filter(|d| d.action_id == action_id)
        .cloned()
    else {
        return phase;
    };
    match phase {
        Phase::CheckingSpace { .. } | Phase::Downloading { .. } => {
            out.push(Output::DiscardDownload);
            out.push(feedback(
                &deployment,
                Execution::Canceled,
                Outcome::Success,
                None,
                "cancelled before install",
            ));
            Phase::Idle
        }
        phase => {
            out.push(feedback(
                &deployment,
                Execution::Rejected,
                Outcome::None,
                None,
                "too late to cancel: the update is already installed or installing",
            ));
            phase
        }
    }
}

fn roll_back(deployment: Deployment, reason: String, out: &mut Vec<Output>) -> Phase {
    out.push(Output::MarkBootedBad);
    out.push(feedback(
        &deployment,
        Execution::Proceeding,
        Outcome::None,
        None,
        &format!("{reason}; rolling back"),
    ));
    out.push(Output::Reboot);
    Phase::RollingBack { deployment, reason }
}

fn rolled_back(deployment: &Deployment, running: &str, reason: &str, out: &mut Vec<Output>) {
    out.push(feedback(
        deployment,
        Execution::Closed,
        Outcome::Failure,
        None,
        &format!("{reason}; running {running}"),
    ));
    out.push(Output::Notice(Notice::RolledBack {
        version: running.to_owned(),
        reason: reason.to_owned(),
    }));
}

fn feedback(
    deployment: &Deployment,
    execution: Execution,
    result: Outcome,
    progress: Option<(u64, u64)>,
    details: &str,
) -> Output {
    Output::Feedback(Feedback {
        action_id: deployment.action_id.clone(),
        execution,
        result,
        progress,
        details: details.to_owned(),
    })
}
