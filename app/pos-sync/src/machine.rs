//! The terminal's side of sync as a state machine with no IO.
//!
//! The adapter feeds it what happened (the outbox grew, these outbox entries were read, a
//! response came, the network failed) and asks it what to do next with
//! [`SyncMachine::poll_output`]: read the outbox, send a request, record an acknowledgement,
//! apply pulled changes, or wait until a time. One request is in flight at a time, so pushes
//! reach the fleet in journal order.
//!
//! Rules it keeps:
//! - An entry is forgotten only when the fleet's high-water mark covers it; until then every
//!   failure leads to a resend from the first unacknowledged entry.
//! - After a restart it first asks the fleet for its high-water mark (a push, empty if need
//!   be) and resumes from there, so a crash between "the fleet stored it" and "the terminal
//!   recorded that" costs one resend, never a loss or a double count.
//! - Batches are bounded in entries and bytes. If the fleet still finds one too large, the
//!   machine halves its batches, down to one entry.
//! - Retries back off exponentially with jitter, capped at `backoff_ms_max`; the jitter comes
//!   from a seed the adapter passes in. Retrying never stops on its own (the entries must get
//!   through), but refusals that no retry can cure (revoked credential, protocol mismatch,
//!   a batch the fleet calls invalid) halt the machine with a message for a technician.

use std::collections::VecDeque;

use pos_core::id::DeviceId;

use crate::wire::{
    Change, ErrorBody, ErrorCode, JournalEntry, PROTOCOL, PullRequest, PullResponse, PushAck,
    PushBatch,
};

/// Limits and timings of the sync loop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncConfig {
    pub device: DeviceId,
    /// Entries per push; the fleet takes at most [`crate::ingest::BATCH_ENTRIES_MAX`].
    pub batch_entries_max: usize,
    /// Serialized size of a push's entries. One entry larger than this is sent alone.
    pub batch_bytes_max: usize,
    /// Changes per pull.
    pub pull_limit: u32,
    /// How often to pull when nothing else happens.
    pub pull_interval_ms: i64,
    pub backoff_ms_base: i64,
    pub backoff_ms_max: i64,
    /// Seeds the retry jitter, so that terminals of one store that lost the network together
    /// do not all come back in the same millisecond. Make it differ per terminal.
    pub jitter_seed: u64,
}

impl SyncConfig {
    pub fn new(device: DeviceId, jitter_seed: u64) -> SyncConfig {
        SyncConfig {
            device,
            // As many as the fleet takes at once: a terminal back from a week offline catches
            // up in a few dozen round trips and durable commits, not hundreds.
            batch_entries_max: crate::ingest::BATCH_ENTRIES_MAX,
            batch_bytes_max: 4 * 1024 * 1024,
            pull_limit: 500,
            pull_interval_ms: 30_000,
            backoff_ms_base: 1_000,
            backoff_ms_max: 300_000,
            jitter_seed,
        }
    }
}

/// Where the terminal left off, as its store recorded it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResumePoint {
    /// The fleet's high-water mark last recorded.
    pub acked_seq: u64,
    /// The last sequence number in the outbox.
    pub outbox_last_seq: u64,
    /// The pull cursor stored with the last applied changes.
    pub cursor: u64,
}

/// Tells a response to the request it answers; a late answer to an abandoned request is
/// ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Push(PushBatch),
    Pull(PullRequest),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    Pushed(PushAck),
    Pulled(PullResponse),
    /// The fleet answered with an error status and body.
    Refused {
        status: u16,
        error: ErrorBody,
    },
}

/// What the machine wants done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Read up to `entries_max` outbox entries from `from_seq` on, then call
    /// [`SyncMachine::handle_outbox_entries`].
    LoadOutbox { from_seq: u64, entries_max: usize },
    /// Send this request, then call [`SyncMachine::handle_response`] or
    /// [`SyncMachine::handle_transport_error`] with its id.
    Send { id: RequestId, request: Request },
    /// The fleet holds everything up to here: record it (entries up to it may be pruned
    /// under the store's retention rule).
    Acknowledged { high_water_seq: u64 },
    /// Apply these changes and store `next_cursor`, in one transaction.
    Apply {
        changes: Vec<Change>,
        next_cursor: u64,
    },
    /// Nothing to do before this time (Unix ms), unless an input arrives.
    WaitUntil { at_ms: i64 },
    /// Sync stopped for a reason no retry can cure; the journal is kept whole.
    Halted(Halt),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Halt {
    #[error("the fleet refused this terminal's credential: {message}")]
    Unauthorized { message: String },
    #[error("the fleet speaks another protocol version: {message}")]
    IncompatibleProtocol { message: String },
    #[error("the fleet refused a batch from sequence number {from_seq}: {message}")]
    BatchRefused {
        from_seq: u64,
        code: ErrorCode,
        message: String,
    },
    #[error("outbox entry {seq} is larger than the fleet accepts even on its own")]
    EntryTooLarge { seq: u64 },
    #[error("the outbox has no entry {expected} though later ones exist; the journal has a gap")]
    OutboxGap { expected: u64 },
    #[error("the fleet sent a pull cursor ({next}) behind the one asked for ({asked})")]
    CursorWentBack { asked: u64, next: u64 },
}

impl Halt {
    /// What a technician should do about it.
    pub fn kind(&self) -> HaltKind {
        match self {
            Halt::Unauthorized { .. } => HaltKind::ReEnrol,
            Halt::IncompatibleProtocol { .. } => HaltKind::Update,
            Halt::BatchRefused { .. }
            | Halt::EntryTooLarge { .. }
            | Halt::OutboxGap { .. }
            | Halt::CursorWentBack { .. } => HaltKind::Investigate,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HaltKind {
    /// Enrol the terminal again with a new code.
    ReEnrol,
    /// Update the terminal or the fleet so their protocol majors match.
    Update,
    /// Look at the journal and the fleet's logs.
    Investigate,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Loading { from_seq: u64 },
    Pushing { id: RequestId, from_seq: u64 },
    Pulling { id: RequestId, cursor: u64 },
    Halted(Halt),
}

/// The most outputs queued between polls: an acknowledgement or an apply, then the next
/// step. Bounded by construction; the bound is asserted.
const PENDING_MAX: usize = 4;

/// How many bytes `entry` takes in a push, counted without keeping them.
fn serialized_size(entry: &JournalEntry) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(bytes.len());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, entry) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

#[derive(Clone, Debug)]
pub struct SyncMachine {
    config: SyncConfig,
    phase: Phase,
    acked_seq: u64,
    outbox_last_seq: u64,
    cursor: u64,
    /// The fleet has told us its high-water mark since the start.
    handshake_done: bool,
    entries_max_now: usize,
    pull_due_at_ms: i64,
    retry_at_ms: Option<i64>,
    failures: u32,
    next_request: u64,
    jitter_state: u64,
    pending: VecDeque<Output>,
}

impl SyncMachine {
    pub fn new(config: SyncConfig, resume: ResumePoint) -> SyncMachine {
        let entries_max_now = config
            .batch_entries_max
            .clamp(1, crate::ingest::BATCH_ENTRIES_MAX);
        let jitter_state = config.jitter_seed;
        SyncMachine {
            config,
            phase: Phase::Idle,
            acked_seq: resume.acked_seq,
            outbox_last_seq: resume.outbox_last_seq.max(resume.acked_seq),
            cursor: resume.cursor,
            handshake_done: false,
            entries_max_now,
            pull_due_at_ms: i64::MIN,
            retry_at_ms: None,
            failures: 0,
            next_request: 1,
            jitter_state,
            pending: VecDeque::with_capacity(PENDING_MAX),
        }
    }

    /// The fleet's high-water mark as far as this machine knows.
    pub fn acked_seq(&self) -> u64 {
        self.acked_seq
    }

    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Failed attempts since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// True when there is nothing left to push and nothing is in flight.
    pub fn is_caught_up(&self) -> bool {
        self.handshake_done && self.acked_seq >= self.outbox_last_seq && self.phase == Phase::Idle
    }

    pub fn halted(&self) -> Option<&Halt> {
        match &self.phase {
            Phase::Halted(halt) => Some(halt),
            _ => None,
        }
    }

    /// The journal has entries up to `last_seq` (a sale was just committed).
    pub fn handle_outbox_appended(&mut self, last_seq: u64) {
        self.outbox_last_seq = self.outbox_last_seq.max(last_seq);
    }

    /// The next thing to do. `None` while waiting for an input (outbox entries or a response)
    /// or once halted after the halt was reported.
    pub fn poll_output(&mut self, now_ms: i64) -> Option<Output> {
        if let Some(output) = self.pending.pop_front() {
            return Some(output);
        }
        if self.phase != Phase::Idle {
            return None;
        }
        if let Some(at_ms) = self.retry_at_ms {
            if now_ms < at_ms {
                return Some(Output::WaitUntil { at_ms });
            }
            self.retry_at_ms = None;
        }
        if !self.handshake_done {
            // First ask the fleet what it holds (an empty push answers with its mark), so a
            // restart resumes from there instead of resending what already arrived.
            return Some(self.send_push(Vec::new()));
        }
        if self.outbox_last_seq > self.acked_seq {
            let from_seq = self.acked_seq + 1;
            self.phase = Phase::Loading { from_seq };
            return Some(Output::LoadOutbox {
                from_seq,
                entries_max: self.entries_max_now,
            });
        }
        if now_ms >= self.pull_due_at_ms {
            let id = self.request_id();
            self.phase = Phase::Pulling {
                id,
                cursor: self.cursor,
            };
            return Some(Output::Send {
                id,
                request: Request::Pull(PullRequest {
                    protocol: PROTOCOL,
                    device: self.config.device.clone(),
                    cursor: self.cursor,
                    limit: self.config.pull_limit,
                }),
            });
        }
        Some(Output::WaitUntil {
            at_ms: self.pull_due_at_ms,
        })
    }

    /// The outbox entries asked for by [`Output::LoadOutbox`], in sequence order.
    pub fn handle_outbox_entries(&mut self, entries: Vec<JournalEntry>) {
        let Phase::Loading { from_seq } = self.phase else {
            return;
        };
        let Some(first) = entries.first() else {
            // The store has nothing from `from_seq` on: our count was ahead of it.
            self.outbox_last_seq = self.acked_seq;
            self.phase = Phase::Idle;
            return;
        };
        if first.seq != from_seq {
            self.halt(Halt::OutboxGap { expected: from_seq });
            return;
        }
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        for (offset, entry) in entries.into_iter().enumerate() {
            let expected = from_seq + u64::try_from(offset).unwrap_or(u64::MAX);
            if entry.seq != expected || batch.len() >= self.entries_max_now {
                break;
            }
            let size = serialized_size(&entry);
            if !batch.is_empty() && bytes.saturating_add(size) > self.config.batch_bytes_max {
                break;
            }
            bytes = bytes.saturating_add(size);
            self.outbox_last_seq = self.outbox_last_seq.max(entry.seq);
            batch.push(entry);
        }
        self.phase = Phase::Idle;
        let send = self.send_push(batch);
        self.queue(send);
    }

    /// The answer to request `id`, received at `now_ms`.
    pub fn handle_response(&mut self, id: RequestId, response: Response, now_ms: i64) {
        match (&self.phase, response) {
            (Phase::Pushing { id: sent, .. }, Response::Pushed(ack)) if *sent == id => {
                self.succeeded();
                self.handshake_done = true;
                if ack.high_water_seq > self.acked_seq {
                    self.queue(Output::Acknowledged {
                        high_water_seq: ack.high_water_seq,
                    });
                }
                // The fleet is the judge of what it holds: if it holds less than we thought
                // (restored from a backup), we resend from its mark.
                self.acked_seq = ack.high_water_seq;
                self.outbox_last_seq = self.outbox_last_seq.max(self.acked_seq);
                // Pull right after pushing, so the till sees the fleet's news promptly.
                self.pull_due_at_ms = self.pull_due_at_ms.min(now_ms);
                self.phase = Phase::Idle;
            }
            (Phase::Pulling { id: sent, cursor }, Response::Pulled(pulled)) if *sent == id => {
                if pulled.next_cursor < *cursor {
                    let asked = *cursor;
                    self.halt(Halt::CursorWentBack {
                        asked,
                        next: pulled.next_cursor,
                    });
                    return;
                }
                self.succeeded();
                self.cursor = pulled.next_cursor;
                self.pull_due_at_ms = if pulled.more {
                    now_ms
                } else {
                    now_ms.saturating_add(self.config.pull_interval_ms)
                };
                self.phase = Phase::Idle;
                self.queue(Output::Apply {
                    changes: pulled.changes,
                    next_cursor: pulled.next_cursor,
                });
            }
            (Phase::Pushing { id: sent, from_seq }, Response::Refused { error, .. })
                if *sent == id =>
            {
                let from_seq = *from_seq;
                self.refused(error, Some(from_seq), now_ms);
            }
            (Phase::Pulling { id: sent, .. }, Response::Refused { error, .. }) if *sent == id => {
                self.refused(error, None, now_ms);
            }
            (Phase::Pushing { id: sent, .. } | Phase::Pulling { id: sent, .. }, _)
                if *sent == id =>
            {
                // A push answered with a pull response or the reverse: treat as a failure.
                self.failed(now_ms);
            }
            _ => {}
        }
    }

    /// Request `id` got no answer: connection refused, reset, timed out.
    pub fn handle_transport_error(&mut self, id: RequestId, now_ms: i64) {
        match self.phase {
            Phase::Pushing { id: sent, .. } | Phase::Pulling { id: sent, .. } if sent == id => {
                self.failed(now_ms);
            }
            _ => {}
        }
    }

    fn refused(&mut self, error: ErrorBody, push_from: Option<u64>, now_ms: i64) {
        match error.code {
            ErrorCode::Unauthenticated | ErrorCode::CredentialRevoked => {
                self.halt(Halt::Unauthorized {
                    message: error.message,
                });
            }
            ErrorCode::ProtocolIncompatible => self.halt(Halt::IncompatibleProtocol {
                message: error.message,
            }),
            ErrorCode::BodyTooLarge if push_from.is_some() => {
                if self.entries_max_now > 1 {
                    self.entries_max_now = (self.entries_max_now / 2).max(1);
                    self.phase = Phase::Idle;
                } else {
                    self.halt(Halt::EntryTooLarge {
                        seq: push_from.unwrap_or(0),
                    });
                }
            }
            ErrorCode::MalformedRequest
            | ErrorCode::Forbidden
            | ErrorCode::Conflict
            | ErrorCode::InvalidBatch
            | ErrorCode::NotFound
            | ErrorCode::BodyTooLarge => match push_from {
                Some(from_seq) => self.halt(Halt::BatchRefused {
                    from_seq,
                    code: error.code,
                    message: error.message,
                }),
                // A pull the fleet cannot answer will not improve by hammering it.
                None => self.failed(now_ms),
            },
            // Overloaded or broken for now (429, 5xx): try again later.
            ErrorCode::Internal | ErrorCode::Unknown => self.failed(now_ms),
        }
    }

    fn send_push(&mut self, entries: Vec<JournalEntry>) -> Output {
        let id = self.request_id();
        let from_seq = entries.first().map_or(self.acked_seq + 1, |e| e.seq);
        self.phase = Phase::Pushing { id, from_seq };
        Output::Send {
            id,
            request: Request::Push(PushBatch {
                protocol: PROTOCOL,
                device: self.config.device.clone(),
                entries,
            }),
        }
    }

    fn request_id(&mut self) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request = self.next_request.wrapping_add(1);
        id
    }

    fn queue(&mut self, output: Output) {
        debug_assert!(self.pending.len() < PENDING_MAX, "sync outputs piled up");
        self.pending.push_back(output);
    }

    fn halt(&mut self, halt: Halt) {
        self.phase = Phase::Halted(halt.clone());
        self.queue(Output::Halted(halt));
    }

    fn succeeded(&mut self) {
        self.failures = 0;
        self.retry_at_ms = None;
    }

    fn failed(&mut self, now_ms: i64) {
        self.failures = self.failures.saturating_add(1);
        self.retry_at_ms = Some(now_ms.saturating_add(self.backoff_ms()));
        self.phase = Phase::Idle;
    }

    /// Exponential backoff with "equal jitter": between half and all of
    /// `base × 2^(failures − 1)`, capped at `backoff_ms_max`.
    fn backoff_ms(&mut self) -> i64 {
        let exponent = self.failures.saturating_sub(1).min(30);
        let ceiling = self
            .config
            .backoff_ms_base
            .max(1)
            .saturating_mul(1i64 << exponent)
            .min(self.config.backoff_ms_max.max(1));
        let half = ceiling / 2;
        let spread = u64::try_from(ceiling - half).unwrap_or(0) + 1;
        let jitter = i64::try_from(self.next_random() % spread).unwrap_or(0);
        half + jitter
    }

    /// SplitMix64: a tiny, well-mixed generator, so jitter is deterministic under test.
    fn next_random(&mut self) -> u64 {
        self.jitter_state = self.jitter_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.jitter_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
