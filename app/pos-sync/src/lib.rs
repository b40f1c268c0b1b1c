//! The sync protocol between terminals and the fleet server: the versioned wire messages
//! ([`wire`]), the terminal's sync state machine ([`machine`]), the fleet's rules for taking
//! in pushed batches ([`ingest`]), the conflict rules ([`rules`]) and a hybrid logical clock
//! ([`hlc`]).
//!
//! This crate does no IO, reads no clock and draws no random numbers: the state machine takes
//! time and responses as inputs and gives requests, changes to apply and wake-up times as
//! outputs (the sans-IO style of quinn-proto and str0m). It never touches SQLite, sockets or
//! the terminal's journal; an adapter does (the optional `http` feature holds one over
//! reqwest, with the terminal's enrolment key: a random key kept in its data directory). That
//! keeps every sync rule testable in microseconds and deterministic under property tests, and
//! lets the terminal, a store hub and the fleet share one implementation.
//!
//! Key decision: the terminal's journal is an ordered, append-only outbox numbered 1, 2, 3…
//! per terminal; the fleet acknowledges the highest *contiguous* number it holds, and every
//! entry is idempotent by its event id. Nothing unacknowledged is ever forgotten, and nothing
//! resent is ever counted twice.

pub mod hlc;
#[cfg(feature = "http")]
pub mod http;
pub mod ingest;
pub mod machine;
pub mod rules;
pub mod sample;
pub mod wire;
