//! The update agent's rules, driven through its inputs as the adapter would drive it.
#![allow(clippy::unwrap_used)]

use pos_update::agent::{
    Agent, DOWNLOAD_ATTEMPTS_MAX, Deployment, Execution, HEALTH_CHECK_MS_MAX, Input,
    MaintenanceWindow, Notice, Now, Outcome, Output, Phase,
};
use proptest::prelude::*;

const MIB: u64 = 1 << 20;

fn deployment(window: Option<MaintenanceWindow>) -> Deployment {
    Deployment {
        action_id: "42".into(),
        version: "1.4.0".into(),
        url: "https://fleet.example/artifacts/1.4.0.raucb".into(),
        size_bytes: 80 * MIB,
        sha256: [7; 32],
        window,
    }
}

fn at(unix_ms: u64) -> Now {
    Now {
        unix_ms,
        local_minute: 14 * 60,
    }
}

fn feedbacks(out: &[Output]) -> Vec<(Execution, Outcome, String)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Feedback(f) => Some((f.execution, f.result, f.details.clone())),
            _ => None,
        })
        .collect()
}

fn has(out: &[Output], wanted: &Output) -> bool {
    out.contains(wanted)
}

/// An agent with `deployment` downloaded, verified and installed, waiting to restart.
fn installed(deployment: &Deployment) -> Agent {
    let mut agent = Agent::new(Phase::Idle, 1);
    agent.handle(at(0), Input::Offered(deployment.clone()));
    agent.handle(
        at(1),
        Input::FreeSpace {
            available_bytes: 4096 * MIB,
        },
    );
    agent.handle(
        at(2),
        Input::DownloadComplete {
            size_bytes: deployment.size_bytes,
            sha256: deployment.sha256,
        },
    );
    let out = agent.handle(at(3), Input::InstallFinished { error: None });
    assert!(has(
        &out,
        &Output::Notice(Notice::UpdateReady {
            version: "1.4.0".into()
        })
    ));
    agent
}

#[test]
fn an_update_goes_from_offer_to_marked_good_and_reports_every_step() {
    let d = deployment(None);
    let mut agent = Agent::new(Phase::Idle, 1);
    let out = agent.handle(at(0), Input::Offered(d.clone()));
    assert!(has(
        &out,
        &Output::CheckFreeSpace {
            needed_bytes: 80 * MIB + 256 * MIB
        }
    ));
    let out = agent.handle(
        at(1),
        Input::FreeSpace {
            available_bytes: 4096 * MIB,
        },
    );
    assert!(has(
        &out,
        &Output::Download {
            url: d.url.clone(),
            from_byte: 0
        }
    ));
    let out = agent.handle(
        at(2),
        Input::Downloaded {
            bytes_so_far: 40 * MIB,
        },
    );
    assert_eq!(feedbacks(&out)[0].2, "downloading");
    let out = agent.handle(
        at(3),
        Input::DownloadComplete {
            size_bytes: d.size_bytes,
            sha256: d.sha256,
        },
    );
    assert!(has(&out, &Output::Install));
    agent.handle(at(4), Input::InstallFinished { error: None });
    // The cashier is in the middle of a sale: no restart.
    let out = agent.handle(at(5), Input::Till { busy: true });
    assert!(!has(&out, &Output::Reboot));
    let out = agent.handle(at(6), Input::Till { busy: false });
    assert!(has(&out, &Output::Reboot));
    let out = agent.handle(
        at(100),
        Input::Started {
            version: "1.4.0".into(),
        },
    );
    assert!(has(&out, &Output::RunHealthCheck));
    let out = agent.handle(at(200), Input::HealthChecked { problems: vec![] });
    assert!(has(&out, &Output::MarkBootedGood));
    assert_eq!(
        feedbacks(&out),
        [(
            Execution::Closed,
            Outcome::Success,
            "running 1.4.0".to_owned()
        )]
    );
    assert_eq!(agent.record(), &Phase::Idle);
}

#[test]
fn a_download_that_differs_from_the_offer_is_never_installed() {
    let d = deployment(None);
    for (size_bytes, sha256, reason) in [
        (
            d.size_bytes - 1,
            d.sha256,
            "the download is 83886079 bytes, the fleet announced 83886080",
        ),
        (
            d.size_bytes,
            [8; 32],
            "the download's SHA-256 differs from the fleet's",
        ),
    ] {
        let mut agent = Agent::new(Phase::Idle, 1);
        agent.handle(at(0), Input::Offered(d.clone()));
        agent.handle(
            at(1),
            Input::FreeSpace {
                available_bytes: 4096 * MIB,
            },
        );
        let out = agent.handle(at(2), Input::DownloadComplete { size_bytes, sha256 });
        assert!(!has(&out, &Output::Install));
        assert!(has(&out, &Output::DiscardDownload));
        assert_eq!(
            feedbacks(&out),
            [(Execution::Closed, Outcome::Failure, reason.to_owned())]
        );
    }
}

#[test]
fn a_dropped_download_resumes_where_it_stopped_and_gives_up_after_the_limit() {
    let d = deployment(None);
    let mut agent = Agent::new(Phase::Idle, 9);
    agent.handle(at(0), Input::Offered(d.clone()));
    agent.handle(
        at(0),
        Input::FreeSpace {
            available_bytes: 4096 * MIB,
        },
    );
    let mut now = 0;
    let mut have = 0;
    for attempt in 1..=DOWNLOAD_ATTEMPTS_MAX {
        have += MIB;
        let out = agent.handle(
            at(now),
            Input::DownloadFailed {
                bytes_so_far: have,
                reason: "connection reset".into(),
            },
        );
        if attempt == DOWNLOAD_ATTEMPTS_MAX {
            assert!(has(&out, &Output::DiscardDownload));
            let (execution, outcome, details) = feedbacks(&out).remove(0);
            assert_eq!((execution, outcome), (Execution::Closed, Outcome::Failure));
            assert_eq!(details, "download failed 8 times, last: connection reset");
            break;
        }
        // Nothing is fetched again before the backoff has passed ...
        assert!(agent.handle(at(now + 1), Input::Tick).is_empty());
        // ... and then it continues from the bytes already there.
        now += 16 * 60_000;
        let out = agent.handle(at(now), Input::Tick);
        assert_eq!(
            out,
            [Output::Download {
                url: d.url.clone(),
                from_byte: have
            }]
        );
    }
    assert_eq!(agent.record(), &Phase::Idle);
}

#[test]
fn not_enough_space_is_reported_without_downloading() {
    let mut agent = Agent::new(Phase::Idle, 1);
    agent.handle(at(0), Input::Offered(deployment(None)));
    let out = agent.handle(
        at(1),
        Input::FreeSpace {
            available_bytes: 200 * MIB,
        },
    );
    assert!(!out.iter().any(|o| matches!(o, Output::Download { .. })));
    assert_eq!(
        feedbacks(&out)[0].2,
        "not enough free space: 336 MiB needed, 200 MiB free"
    );
}

#[test]
fn a_failed_health_check_marks_the_slot_bad_and_boots_the_old_version() {
    let d = deployment(None);
    let mut agent = installed(&d);
    agent.handle(at(10), Input::Till { busy: false });
    agent.handle(
        at(20),
        Input::Started {
            version: "1.4.0".into(),
        },
    );
    let out = agent.handle(
        at(30),
        Input::HealthChecked {
            problems: vec!["the store did not open".into()],
        },
    );
    assert!(has(&out, &Output::MarkBootedBad));
    assert!(has(&out, &Output::Reboot));
    assert!(!has(&out, &Output::MarkBootedGood));
    let out = agent.handle(
        at(40),
        Input::Started {
            version: "1.3.2".into(),
        },
    );
    assert_eq!(
        feedbacks(&out),
        [(
            Execution::Closed,
            Outcome::Failure,
            "health check failed: the store did not open; running 1.3.2".to_owned()
        )]
    );
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Notice(Notice::RolledBack { .. })))
    );
}

#[test]
fn a_health_check_that_never_answers_rolls_back() {
    let d = deployment(None);
    let mut agent = installed(&d);
    agent.handle(at(10), Input::Till { busy: false });
    agent.handle(
        at(20),
        Input::Started {
            version: "1.4.0".into(),
        },
    );
    assert!(
        agent
            .handle(at(20 + HEALTH_CHECK_MS_MAX - 1), Input::Tick)
            .is_empty()
    );
    let out = agent.handle(at(20 + HEALTH_CHECK_MS_MAX), Input::Tick);
    assert!(has(&out, &Output::MarkBootedBad));
    assert!(has(&out, &Output::Reboot));
}

#[test]
fn a_version_that_does_not_boot_is_reported_as_failed() {
    let d = deployment(None);
    let mut agent = installed(&d);
    agent.handle(at(10), Input::Till { busy: false });
    // The bootloader gave the new slot its one try and fell back.
    let out = agent.handle(
        at(20),
        Input::Started {
            version: "1.3.2".into(),
        },
    );
    assert_eq!(feedbacks(&out)[0].1, Outcome::Failure);
    assert!(!has(&out, &Output::RunHealthCheck));
}

#[test]
fn cancelling_works_until_the_install_starts() {
    let d = deployment(None);
    let mut agent = Agent::new(Phase::Idle, 1);
    agent.handle(at(0), Input::Offered(d.clone()));
    agent.handle(
        at(1),
        Input::FreeSpace {
            available_bytes: 4096 * MIB,
        },
    );
    let out = agent.handle(
        at(2),
        Input::CancelRequested {
            action_id: "42".into(),
        },
    );
    assert!(has(&out, &Output::DiscardDownload));
    assert_eq!(feedbacks(&out)[0].0, Execution::Canceled);

    let mut agent = installed(&d);
    let out = agent.handle(
        at(5),
        Input::CancelRequested {
            action_id: "42".into(),
        },
    );
    assert_eq!(feedbacks(&out)[0].0, Execution::Rejected);
    assert!(matches!(agent.record(), Phase::AwaitingReboot { .. }));
}

#[test]
fn a_second_offer_during_an_update_is_rejected_and_a_repeated_one_ignored() {
    let d = deployment(None);
    let mut agent = Agent::new(Phase::Idle, 1);
    agent.handle(at(0), Input::Offered(d.clone()));
    assert!(agent.handle(at(1), Input::Offered(d.clone())).is_empty());
    let other = Deployment {
        action_id: "43".into(),
        ..d
    };
    let out = agent.handle(at(2), Input::Offered(other));
    assert_eq!(feedbacks(&out)[0].0, Execution::Rejected);
}

#[test]
fn the_persisted_phase_resumes_a_download_after_a_power_cut() {
    let d = deployment(None);
    let mut agent = Agent::new(Phase::Idle, 1);
    agent.handle(at(0), Input::Offered(d.clone()));
    agent.handle(
        at(1),
        Input::FreeSpace {
            available_bytes: 4096 * MIB,
        },
    );
    agent.handle(
        at(2),
        Input::Downloaded {
            bytes_so_far: 30 * MIB,
        },
    );
    let saved = serde_json::to_string(agent.record()).unwrap();

    let mut restarted = Agent::new(serde_json::from_str(&saved).unwrap(), 1);
    let out = restarted.handle(
        at(3),
        Input::Started {
            version: "1.3.2".into(),
        },
    );
    assert_eq!(
        out,
        [Output::Download {
            url: d.url,
            from_byte: 30 * MIB
        }]
    );
}

#[test]
fn power_cut_after_install_boots_the_new_version_and_checks_it() {
    let d = deployment(None);
    let agent = installed(&d);
    let saved = serde_json::to_string(agent.record()).unwrap();
    let mut restarted = Agent::new(serde_json::from_str(&saved).unwrap(), 1);
    let out = restarted.handle(
        at(50),
        Input::Started {
            version: "1.4.0".into(),
        },
    );
    assert!(has(&out, &Output::RunHealthCheck));
}

#[derive(Clone, Debug)]
enum Event {
    Till(bool),
    Postpone(u64),
    Tick,
}

fn event() -> impl Strategy<Value = (u64, u16, Event)> {
    (
        0u64..50_000,
        0u16..1440,
        prop_oneof![
            any::<bool>().prop_map(Event::Till),
            (0u64..200_000).prop_map(Event::Postpone),
            Just(Event::Tick),
        ],
    )
}

proptest! {
    /// Whatever the till, the manager and the clock do, the agent reboots only when the till
    /// is idle, the restart is not postponed, and the shop is inside the maintenance window.
    #[test]
    fn it_never_reboots_during_a_sale_a_postponement_or_outside_the_window(
        events in proptest::collection::vec(event(), 1..40),
    ) {
        let window = MaintenanceWindow { start_minute: 22 * 60, end_minute: 6 * 60 };
        let mut agent = installed(&deployment(Some(window)));
        let mut busy = true;
        let mut postponed_until = 0;
        let mut now = 10;
        for (advance, minute, event) in events {
            now += advance;
            let clock = Now { unix_ms: now, local_minute: minute };
            let input = match event {
                Event::Till(b) => { busy = b; Input::Till { busy: b } }
                Event::Postpone(by) => { postponed_until = now + by; Input::Postponed { until_unix_ms: now + by } }
                Event::Tick => Input::Tick,
            };
            let was_waiting = matches!(agent.record(), Phase::AwaitingReboot { .. });
            let out = agent.handle(clock, input);
            if out.contains(&Output::Reboot) {
                prop_assert!(was_waiting);
                prop_assert!(!busy, "rebooted during a sale");
                prop_assert!(now >= postponed_until, "rebooted while postponed");
                prop_assert!(window.contains(minute), "rebooted outside the window at minute {}", minute);
            }
        }
    }
}

#[test]
fn windows_may_wrap_past_midnight() {
    let night = MaintenanceWindow {
        start_minute: 22 * 60,
        end_minute: 6 * 60,
    };
    assert!(night.contains(23 * 60));
    assert!(night.contains(0));
    assert!(!night.contains(6 * 60));
    assert!(!night.contains(12 * 60));
    let lunch = MaintenanceWindow {
        start_minute: 12 * 60,
        end_minute: 13 * 60,
    };
    assert!(lunch.contains(12 * 60 + 30));
    assert!(!lunch.contains(13 * 60));
}
