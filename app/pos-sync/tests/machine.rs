//! The terminal's sync state machine against the fleet's rules in memory ([`Ledger`]), with
//! the network failing on purpose. Time is simulated: nothing here sleeps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pos_core::id::{DeviceId, ProductId, StoreId};
use pos_sync::ingest::Ledger;
use pos_sync::machine::{
    Halt, HaltKind, Output, Request, RequestId, Response, ResumePoint, SyncConfig, SyncMachine,
};
use pos_sync::sample::SampleTill;
use pos_sync::wire::{ErrorBody, ErrorCode, JournalEntry, PROTOCOL, PullResponse};
use proptest::prelude::*;

fn milk() -> pos_core::catalog::Product {
    pos_core::demo::catalog()
        .unwrap()
        .get(&ProductId::new("milk"))
        .unwrap()
        .clone()
}

/// A till's outbox after `sales` sales (each sale is two entries: the sale and its movement).
fn outbox(device: &str, sales: usize) -> Vec<JournalEntry> {
    let mut till = SampleTill::new(device, &StoreId::new("berlin-mitte"));
    let product = milk();
    (0..sales)
        .flat_map(|i| {
            till.sell(&product, 1, 1_000 + i64::try_from(i).unwrap())
                .unwrap()
        })
        .collect()
}

fn config(device: &str) -> SyncConfig {
    SyncConfig {
        batch_entries_max: 10,
        ..SyncConfig::new(DeviceId::new(device), 7)
    }
}

/// How the simulated network treats one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Net {
    Deliver,
    /// The request never arrives.
    LoseRequest,
    /// The fleet stores the batch but the answer is lost: the classic double-send case.
    LoseResponse,
}

struct Sim {
    machine: SyncMachine,
    outbox: Vec<JournalEntry>,
    fleet: Ledger,
    device: DeviceId,
    now_ms: i64,
    recorded_ack: u64,
    applied_cursor: u64,
    halted: Option<Halt>,
    requests: Vec<Request>,
}

impl Sim {
    fn new(device: &str, outbox: Vec<JournalEntry>, resume: ResumePoint) -> Sim {
        Sim {
            machine: SyncMachine::new(config(device), resume),
            outbox,
            fleet: Ledger::default(),
            device: DeviceId::new(device),
            now_ms: 0,
            recorded_ack: resume.acked_seq,
            applied_cursor: resume.cursor,
            halted: None,
            requests: Vec::new(),
        }
    }

    /// Runs outputs until the machine waits, with `net` deciding each request's fate and
    /// `answer` standing in for the fleet. Bounded: at most `steps_max` outputs.
    fn run(
        &mut self,
        steps_max: usize,
        mut net: impl FnMut(usize) -> Net,
        mut answer: impl FnMut(&mut Ledger, &DeviceId, &Request) -> Response,
    ) {
        for _ in 0..steps_max {
            let Some(output) = self.machine.poll_output(self.now_ms) else {
                return;
            };
            match output {
                Output::LoadOutbox {
                    from_seq,
                    entries_max,
                } => {
                    let entries = self
                        .outbox
                        .iter()
                        .filter(|e| e.seq >= from_seq)
                        .take(entries_max)
                        .cloned()
                        .collect();
                    self.machine.handle_outbox_entries(entries);
                }
                Output::Send { id, request } => {
                    self.requests.push(request.clone());
                    match net(self.requests.len()) {
                        Net::LoseRequest => self.machine.handle_transport_error(id, self.now_ms),
                        Net::LoseResponse => {
                            answer(&mut self.fleet, &self.device, &request);
                            self.machine.handle_transport_error(id, self.now_ms);
                        }
                        Net::Deliver => {
                            let response = answer(&mut self.fleet, &self.device, &request);
                            self.machine.handle_response(id, response, self.now_ms);
                        }
                    }
                }
                Output::Acknowledged { high_water_seq } => {
                    assert!(
                        high_water_seq > self.recorded_ack,
                        "acknowledgements only move forward"
                    );
                    assert!(high_water_seq <= self.fleet.high_water(&self.device));
                    self.recorded_ack = high_water_seq;
                }
                Output::Apply { next_cursor, .. } => self.applied_cursor = next_cursor,
                Output::WaitUntil { at_ms } => {
                    if self.machine.is_caught_up() {
                        return;
                    }
                    assert!(at_ms > self.now_ms, "a wait must be in the future");
                    self.now_ms = at_ms;
                }
                Output::Halted(halt) => {
                    self.halted = Some(halt);
                    return;
                }
            }
        }
    }
}

/// The fleet as the server behaves: ingest pushes, answer pulls with nothing new.
fn fleet(ledger: &mut Ledger, device: &DeviceId, request: &Request) -> Response {
    match request {
        Request::Push(batch) => match ledger.ingest(batch, device) {
            Ok(ack) => Response::Pushed(ack),
            Err(e) => Response::Refused {
                status: 409,
                error: ErrorBody {
                    code: e.code(),
                    message: e.to_string(),
                },
            },
        },
        Request::Pull(pull) => Response::Pulled(PullResponse {
            protocol: PROTOCOL,
            changes: Vec::new(),
            next_cursor: pull.cursor,
            more: false,
        }),
    }
}

fn deliver(_: usize) -> Net {
    Net::Deliver
}

#[test]
fn a_fresh_terminal_asks_for_the_mark_then_pushes_in_bounded_batches() {
    let entries = outbox("T1", 12); // 24 entries
    let mut sim = Sim::new("T1", entries, ResumePoint::default());
    sim.machine.handle_outbox_appended(24);
    sim.run(100, deliver, fleet);
    let pushes: Vec<usize> = sim
        .requests
        .iter()
        .filter_map(|r| match r {
            Request::Push(batch) => Some(batch.entries.len()),
            Request::Pull(_) => None,
        })
        .collect();
    assert_eq!(pushes, [0, 10, 10, 4]);
    assert_eq!(sim.recorded_ack, 24);
    assert_eq!(sim.fleet.len(), 24);
    assert!(matches!(sim.requests.last(), Some(Request::Pull(_))));
}

#[test]
fn a_batch_is_also_bounded_in_bytes_but_always_carries_one_entry() {
    let entries = outbox("T1", 3);
    let one_entry_bytes = serde_json::to_vec(&entries[0]).unwrap().len();
    let mut machine = SyncMachine::new(
        SyncConfig {
            batch_bytes_max: one_entry_bytes / 2,
            ..config("T1")
        },
        ResumePoint {
            acked_seq: 0,
            outbox_last_seq: 6,
            cursor: 0,
        },
    );
    let Some(Output::Send { id, .. }) = machine.poll_output(0) else {
        panic!("expected the handshake push")
    };
    machine.handle_response(
        id,
        Response::Pushed(pos_sync::wire::PushAck {
            protocol: PROTOCOL,
            device: DeviceId::new("T1"),
            high_water_seq: 0,
            stored: 0,
            duplicates: 0,
        }),
        0,
    );
    assert!(matches!(
        machine.poll_output(0),
        Some(Output::LoadOutbox { from_seq: 1, .. })
    ));
    machine.handle_outbox_entries(entries);
    let Some(Output::Send {
        request: Request::Push(batch),
        ..
    }) = machine.poll_output(0)
    else {
        panic!("expected a push")
    };
    assert_eq!(batch.entries.len(), 1);
}

#[test]
fn after_a_restart_it_resumes_from_the_fleets_mark_not_its_own() {
    let entries = outbox("T1", 5); // 10 entries
    let mut sim = Sim::new("T1", entries.clone(), ResumePoint::default());
    sim.machine.handle_outbox_appended(10);
    // The fleet stores everything but every answer is lost, then the terminal restarts
    // having recorded nothing.
    sim.run(
        3,
        |n| {
            if n == 1 {
                Net::Deliver
            } else {
                Net::LoseResponse
            }
        },
        fleet,
    );
    assert_eq!(sim.fleet.high_water(&DeviceId::new("T1")), 10);
    assert_eq!(sim.recorded_ack, 0);

    let fleet_state = sim.fleet.clone();
    let mut restarted = Sim::new(
        "T1",
        entries,
        ResumePoint {
            acked_seq: 0,
            outbox_last_seq: 10,
            cursor: 0,
        },
    );
    restarted.fleet = fleet_state;
    restarted.run(100, deliver, fleet);
    assert_eq!(restarted.recorded_ack, 10);
    let resent: usize = restarted
        .requests
        .iter()
        .map(|r| match r {
            Request::Push(batch) => batch.entries.len(),
            Request::Pull(_) => 0,
        })
        .sum();
    assert_eq!(resent, 0, "nothing the fleet holds is sent again");
}

#[test]
fn failures_back_off_exponentially_with_jitter_up_to_a_cap() {
    let mut machine = SyncMachine::new(config("T1"), ResumePoint::default());
    let mut now_ms = 0;
    let mut waits = Vec::new();
    for _ in 0..15 {
        let Some(Output::Send { id, .. }) = machine.poll_output(now_ms) else {
            panic!("expected a request")
        };
        machine.handle_transport_error(id, now_ms);
        let Some(Output::WaitUntil { at_ms }) = machine.poll_output(now_ms) else {
            panic!("expected a wait")
        };
        waits.push(at_ms - now_ms);
        now_ms = at_ms;
    }
    // Attempt n waits between half and all of 1 s × 2^(n−1), never more than 300 s.
    for (n, wait) in waits.iter().enumerate() {
        let ceiling = (1_000i64 << n).min(300_000);
        assert!(
            (ceiling / 2..=ceiling).contains(wait),
            "wait {n} was {wait} ms, expected within {}..={ceiling}",
            ceiling / 2
        );
    }
    assert_eq!(machine.failures(), 15);
    // Two terminals with different seeds do not retry in lockstep.
    let mut other = SyncMachine::new(
        SyncConfig {
            jitter_seed: 8,
            ..config("T2")
        },
        ResumePoint::default(),
    );
    let Some(Output::Send { id, .. }) = other.poll_output(0) else {
        panic!()
    };
    other.handle_transport_error(id, 0);
    let mut first = SyncMachine::new(config("T1"), ResumePoint::default());
    let Some(Output::Send { id, .. }) = first.poll_output(0) else {
        panic!()
    };
    first.handle_transport_error(id, 0);
    let mut seven = Vec::new();
    let mut eight = Vec::new();
    for (machine, out) in [(&mut first, &mut seven), (&mut other, &mut eight)] {
        let mut now = 0;
        for _ in 0..5 {
            let Some(Output::WaitUntil { at_ms }) = machine.poll_output(now) else {
                panic!()
            };
            out.push(at_ms - now);
            now = at_ms;
            let Some(Output::Send { id, .. }) = machine.poll_output(now) else {
                panic!()
            };
            machine.handle_transport_error(id, now);
        }
    }
    assert_ne!(seven, eight);
}

#[test]
fn a_revoked_credential_halts_sync_with_the_fleets_message_and_keeps_the_journal() {
    let mut sim = Sim::new("T1", outbox("T1", 1), ResumePoint::default());
    sim.machine.handle_outbox_appended(2);
    sim.run(10, deliver, |_, _, _| Response::Refused {
        status: 401,
        error: ErrorBody {
            code: ErrorCode::CredentialRevoked,
            message: "terminal T1 was revoked on 2026-11-25; enrol it again".into(),
        },
    });
    let halt = sim.halted.clone().unwrap();
    assert_eq!(halt.kind(), HaltKind::ReEnrol);
    assert_eq!(
        halt.to_string(),
        "the fleet refused this terminal's credential: terminal T1 was revoked on 2026-11-25; enrol it again"
    );
    assert_eq!(sim.machine.poll_output(1_000_000), None);
    assert_eq!(sim.machine.acked_seq(), 0);
}

#[test]
fn a_protocol_mismatch_halts_and_says_to_update() {
    let mut sim = Sim::new("T1", Vec::new(), ResumePoint::default());
    sim.run(10, deliver, |_, _, _| Response::Refused {
        status: 400,
        error: ErrorBody {
            code: ErrorCode::ProtocolIncompatible,
            message: "the fleet speaks 2.0".into(),
        },
    });
    assert_eq!(sim.halted.unwrap().kind(), HaltKind::Update);
}

#[test]
fn a_batch_too_large_for_the_fleet_is_split_until_it_fits() {
    let mut sim = Sim::new("T1", outbox("T1", 10), ResumePoint::default());
    sim.machine.handle_outbox_appended(20);
    sim.run(100, deliver, |ledger, device, request| match request {
        Request::Push(batch) if batch.entries.len() > 3 => Response::Refused {
            status: 413,
            error: ErrorBody {
                code: ErrorCode::BodyTooLarge,
                message: "too large".into(),
            },
        },
        other => fleet(ledger, device, other),
    });
    assert_eq!(sim.halted, None);
    assert_eq!(sim.recorded_ack, 20);
    let sizes: Vec<usize> = sim
        .requests
        .iter()
        .filter_map(|r| match r {
            Request::Push(b) if !b.entries.is_empty() => Some(b.entries.len()),
            _ => None,
        })
        .collect();
    assert_eq!(&sizes[..3], [10, 5, 2]);
}

#[test]
fn a_server_overloaded_answer_is_retried_later() {
    let mut sim = Sim::new("T1", outbox("T1", 1), ResumePoint::default());
    sim.machine.handle_outbox_appended(2);
    let mut calls = 0;
    sim.run(50, deliver, |ledger, device, request| {
        calls += 1;
        if calls <= 2 {
            Response::Refused {
                status: 503,
                error: ErrorBody {
                    code: ErrorCode::Internal,
                    message: "busy".into(),
                },
            }
        } else {
            fleet(ledger, device, request)
        }
    });
    assert_eq!(sim.recorded_ack, 2);
    assert!(sim.now_ms >= 1_500, "it waited before retrying");
}

#[test]
fn a_late_answer_to_an_abandoned_request_is_ignored() {
    let mut machine = SyncMachine::new(config("T1"), ResumePoint::default());
    let Some(Output::Send { id, .. }) = machine.poll_output(0) else {
        panic!()
    };
    machine.handle_transport_error(id, 0);
    machine.handle_response(
        RequestId(id.0),
        Response::Pushed(pos_sync::wire::PushAck {
            protocol: PROTOCOL,
            device: DeviceId::new("T1"),
            high_water_seq: 99,
            stored: 0,
            duplicates: 0,
        }),
        10,
    );
    assert_eq!(machine.acked_seq(), 0);
}

#[test]
fn pulls_follow_the_cursor_until_no_more_and_apply_each_page() {
    let mut sim = Sim::new("T1", Vec::new(), ResumePoint::default());
    let mut pages = 0;
    sim.run(50, deliver, |ledger, device, request| match request {
        Request::Pull(pull) => {
            pages += 1;
            Response::Pulled(PullResponse {
                protocol: PROTOCOL,
                changes: Vec::new(),
                next_cursor: pull.cursor + 100,
                more: pull.cursor + 100 < 300,
            })
        }
        other => fleet(ledger, device, other),
    });
    assert_eq!(pages, 3);
    assert_eq!(sim.applied_cursor, 300);
    assert_eq!(sim.machine.cursor(), 300);
}

#[test]
fn a_cursor_that_goes_back_halts_instead_of_reapplying_history() {
    let mut sim = Sim::new(
        "T1",
        Vec::new(),
        ResumePoint {
            cursor: 50,
            ..ResumePoint::default()
        },
    );
    sim.run(10, deliver, |ledger, device, request| match request {
        Request::Pull(_) => Response::Pulled(PullResponse {
            protocol: PROTOCOL,
            changes: Vec::new(),
            next_cursor: 10,
            more: false,
        }),
        other => fleet(ledger, device, other),
    });
    assert_eq!(
        sim.halted,
        Some(Halt::CursorWentBack {
            asked: 50,
            next: 10
        })
    );
}

#[test]
fn a_gap_in_the_outbox_halts_rather_than_skipping_entries() {
    let mut entries = outbox("T1", 2);
    entries.remove(0);
    let mut sim = Sim::new("T1", entries, ResumePoint::default());
    sim.machine.handle_outbox_appended(4);
    sim.run(10, deliver, fleet);
    assert_eq!(sim.halted, Some(Halt::OutboxGap { expected: 1 }));
    assert!(sim.fleet.is_empty());
}

proptest! {
    /// Whatever the network loses (requests or answers), every entry reaches the fleet exactly
    /// once, the terminal's recorded mark never runs ahead of the fleet's, and in the end they
    /// agree.
    #[test]
    fn nothing_is_lost_or_doubled_whatever_the_network_does(
        sales in 1usize..20,
        faults in prop::collection::vec(prop::sample::select(vec![
            Net::Deliver, Net::Deliver, Net::LoseRequest, Net::LoseResponse,
        ]), 0..60),
    ) {
        let entries = outbox("T1", sales);
        let last = entries.last().unwrap().seq;
        let mut sim = Sim::new("T1", entries, ResumePoint::default());
        sim.machine.handle_outbox_appended(last);
        sim.run(2_000, |n| faults.get(n - 1).copied().unwrap_or(Net::Deliver), fleet);
        prop_assert_eq!(sim.halted.clone(), None);
        prop_assert_eq!(sim.fleet.len(), usize::try_from(last).unwrap());
        prop_assert_eq!(sim.fleet.high_water(&DeviceId::new("T1")), last);
        prop_assert_eq!(sim.recorded_ack, last);
        prop_assert_eq!(sim.fleet.summary().sales.len(), sales);
    }
}
