//! The update agent's host rules from the till's side: what a cashier does on a real till
//! session is read as the terminal reads it (`TillActivity::of` its view) and handed to the
//! agent, which holds an installed update. It never restarts while a sale, a payment, a
//! refund, an approval or a drawer count is under way, nor outside the store's window; it
//! restarts when the till is idle inside the window, and a manager's postponement holds it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pos_core::clock::Timestamp;
use pos_core::id::UserId;
use pos_terminal::update_agent::{TillActivity, parse_window};
use pos_till::memory::{CountingIds, MemoryCatalogue, MemoryLedger, MemoryStaff};
use pos_till::{Intent, ShiftIntent, TenderChoice, Till, TillPorts, TillSetup};
use pos_update::agent::{Agent, Deployment, Input, Now, Output, Phase};

const MONDAY_10AM: i64 = 1_772_445_600_000;
const MILK: &str = "4006381333931";
const COFFEE: &str = "4006581020013";
/// 03:00 and 14:00 in the shop, in and out of the 02:00-05:00 window.
const IN_WINDOW: u16 = 3 * 60;
const OUT_OF_WINDOW: u16 = 14 * 60;

struct Counter {
    till: Till,
    now: Timestamp,
    agent: Agent,
}

impl Counter {
    fn new() -> Counter {
        let setup = TillSetup::demo().unwrap();
        let ports = TillPorts {
            catalogue: Box::new(MemoryCatalogue::demo().unwrap()),
            staff: Box::new(MemoryStaff::demo()),
            ledger: Box::new(MemoryLedger::new()),
            ids: Box::new(CountingIds::new(&setup.device)),
        };
        let now = Timestamp::from_unix_ms(MONDAY_10AM);
        // An update downloaded, verified and installed, waiting for its restart.
        let deployment = Deployment {
            action_id: "usb:update.raucb".into(),
            version: "1.5.0".into(),
            url: "file:///data/updates/update.raucb".into(),
            size_bytes: 1 << 20,
            sha256: [7; 32],
            window: parse_window("02:00-05:00"),
        };
        Counter {
            till: Till::new(setup, ports, now),
            now,
            agent: Agent::new(
                Phase::AwaitingReboot {
                    deployment,
                    postponed_until_unix_ms: None,
                },
                1,
            ),
        }
    }

    fn act(&mut self, intent: Intent) {
        self.now = self.now.plus_ms(1_000);
        let result = self.till.handle(intent.clone(), self.now);
        assert!(result.is_ok(), "{intent:?} was refused: {result:?}");
    }

    fn activity(&self) -> TillActivity {
        TillActivity::of(&self.till.view())
    }

    /// Hands the till's activity to the agent at `local_minute`; whether it restarted.
    fn agent_restarts(&mut self, local_minute: u16) -> bool {
        let now = Now {
            unix_ms: u64::try_from(self.now.unix_ms()).unwrap(),
            local_minute,
        };
        let busy = self.activity().busy;
        let out = self.agent.handle(now, Input::Till { busy });
        out.contains(&Output::Reboot)
    }
}

#[test]
fn the_agent_never_restarts_during_a_sale_and_restarts_when_idle_in_the_window() {
    let mut counter = Counter::new();
    // Before the screen has said anything, the agent counts the till as busy.
    let before = counter.agent.handle(
        Now {
            unix_ms: u64::try_from(counter.now.unix_ms()).unwrap(),
            local_minute: IN_WINDOW,
        },
        Input::Tick,
    );
    assert!(!before.contains(&Output::Reboot));
    counter.act(Intent::Login {
        user: UserId::new("anna"),
        pin: "1234".into(),
    });
    counter.act(Intent::Shift(ShiftIntent::Open {
        total: "150".into(),
    }));
    assert!(!counter.activity().shift_closed);

    counter.act(Intent::Scan(MILK.into()));
    assert!(counter.activity().busy, "an open cart is a sale");
    assert!(!counter.agent_restarts(IN_WINDOW));
    counter.act(Intent::Scan(COFFEE.into()));
    counter.act(Intent::StartPayment);
    assert!(counter.activity().busy, "taking payment");
    assert!(!counter.agent_restarts(IN_WINDOW));
    counter.act(Intent::AddTender {
        kind: TenderChoice::Card,
        amount: "5".into(),
        reference: "AUTH-1".into(),
    });
    assert!(counter.activity().busy, "part paid");
    assert!(!counter.agent_restarts(IN_WINDOW));
    counter.act(Intent::AddTender {
        kind: TenderChoice::Cash,
        amount: "50".into(),
        reference: String::new(),
    });

    // Paid: the change on screen is a finished sale, so the till is idle; but 14:00 is
    // outside the store's window.
    assert!(
        !counter.activity().busy,
        "{:?}",
        counter.till.view().payment
    );
    assert!(!counter.agent_restarts(OUT_OF_WINDOW));
    assert!(matches!(
        counter.agent.record(),
        Phase::AwaitingReboot { .. }
    ));
    // Idle inside the window: the restart happens.
    assert!(counter.agent_restarts(IN_WINDOW));
    assert!(matches!(counter.agent.record(), Phase::Rebooting { .. }));
}

#[test]
fn a_managers_postponement_holds_the_restart_even_when_idle_in_the_window() {
    let mut counter = Counter::new();
    counter.act(Intent::Login {
        user: UserId::new("anna"),
        pin: "1234".into(),
    });
    counter.act(Intent::Shift(ShiftIntent::Open {
        total: "150".into(),
    }));
    let until = u64::try_from(counter.now.plus_ms(3_600_000).unix_ms()).unwrap();
    let now = Now {
        unix_ms: u64::try_from(counter.now.unix_ms()).unwrap(),
        local_minute: IN_WINDOW,
    };
    // The agent still counts the till busy (nothing reported yet), so only the postponement
    // is recorded.
    let out = counter.agent.handle(
        now,
        Input::Postponed {
            until_unix_ms: until,
        },
    );
    assert!(!out.contains(&Output::Reboot));
    assert!(!counter.activity().busy);
    assert!(!counter.agent_restarts(IN_WINDOW), "postponed for an hour");
    counter.now = counter.now.plus_ms(3_600_001);
    assert!(counter.agent_restarts(IN_WINDOW), "the hour is over");
}
