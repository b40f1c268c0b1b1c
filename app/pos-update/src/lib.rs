//! The terminal's update agent: takes a signed update offered by the fleet from download to a
//! new version marked good, without ever interrupting a sale, and falls back when the new
//! version is not healthy.
//!
//! [`agent`] is the whole policy as a state machine with no IO, no clock and no randomness of
//! its own; [`rauc`] talks to the RAUC service over D-Bus; [`ddi`] is the adapter that drives
//! the agent against the fleet's hawkBit-shaped device API (poll, download with resume,
//! feedback) and RAUC. The program that owns the runtime gives the adapter its clock and the
//! till's state.
//!
//! This crate never writes a slot itself and never reboots on its own: RAUC writes slots and
//! the adapter reboots when the agent says so.

pub mod agent;
pub mod ddi;
pub mod rauc;
