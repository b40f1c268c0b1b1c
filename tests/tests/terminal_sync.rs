//! The terminal's sync agent against a real fleet on loopback: it enrols with a code, sends
//! the sales rung up while it was offline, applies the fleet's catalogue and prices, keeps
//! selling while the fleet is unreachable and says so in its status, and catches up after.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use pos_core::id::{ProductId, StoreId};
use pos_core::money::{Currency, Money};
use pos_store::sample::product;
use pos_terminal::config::TerminalConfig;
use pos_terminal::sync_agent::{CREDENTIAL_FILE, SyncAgent, SyncStartError};
use support::proxy::{FaultProxy, Faults};
use support::{Fleet, Terminal, now, quick_settings};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn a_terminal_enrols_sends_its_offline_sales_and_gets_the_fleets_prices() {
    let fleet_dir = tempfile::tempdir().unwrap();
    let fleet = Fleet::start(fleet_dir.path());
    let (tenant, store) = fleet.tenant("Acme");
    let products: Vec<_> = (1..=5).map(product).collect();
    for p in &products {
        fleet.save_product(&tenant, p);
    }
    let mut till = Terminal::open("T1", &store);
    // Five sales before sync is ever configured.
    for n in 1..=5 {
        let (sale, moves) = till.maker.sale(n, &products[..2], now()).unwrap();
        till.store.complete_sale(&sale, &moves).unwrap();
    }
    let started = now();
    till.start_sync(quick_settings(
        &fleet.base(),
        "Till 1",
        Some(fleet.enrolment_code(&store)),
    ));
    till.wait_caught_up(LIMIT, started);

    let status = till.status();
    assert!(status.online && status.last_error.is_none(), "{status:?}");
    let sales = fleet.sales(&store);
    assert_eq!(sales.len(), 5);
    assert_eq!(
        till.store.acknowledged_seq().unwrap(),
        till.store.outbox_last_seq().unwrap()
    );
    // The catalogue came down, and the credential is kept for the next start, private.
    assert_eq!(
        till.store.product(&products[3].id).unwrap().unwrap(),
        products[3]
    );
    let credential = till.dir.path().join(CREDENTIAL_FILE);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&credential).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A price changed at the fleet reaches the till while it runs.
    fleet.schedule_price(&tenant, products[0].id.as_str(), 1_999, now());
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        let price = till.store.product(&products[0].id).unwrap().unwrap().price;
        if price == Money::from_minor(1_999, Currency::EUR) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "price still {price}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Restarted, the till uses its stored credential (the code is used up) and goes on.
    till.stop_sync();
    let (sale, moves) = till.maker.sale(6, &products[..1], now()).unwrap();
    till.store.complete_sale(&sale, &moves).unwrap();
    let restarted = now();
    till.start_sync(quick_settings(&fleet.base(), "Till 1", None));
    till.wait_caught_up(LIMIT, restarted);
    assert_eq!(fleet.sales(&store).len(), 6);
}

#[test]
fn a_till_without_a_link_keeps_selling_shows_its_backlog_and_catches_up() {
    let fleet_dir = tempfile::tempdir().unwrap();
    let fleet = Fleet::start(fleet_dir.path());
    let (tenant, store) = fleet.tenant("Acme");
    let milk = product(1);
    fleet.save_product(&tenant, &milk);
    let proxy = FaultProxy::start(fleet.addr, 7);
    let mut till = Terminal::open("T1", &store);
    let started = now();
    till.start_sync(quick_settings(
        &proxy.url(),
        "Till 1",
        Some(fleet.enrolment_code(&store)),
    ));
    till.wait_caught_up(LIMIT, started);

    proxy.set_faults(Faults {
        down: true,
        ..Faults::CLEAN
    });
    for n in 1..=8 {
        let (sale, moves) = till
            .maker
            .sale(n, std::slice::from_ref(&milk), now())
            .unwrap();
        till.store.complete_sale(&sale, &moves).unwrap();
    }
    till.wait_for(LIMIT, "noticing the link is down", |s| {
        !s.online && s.backlog > 0 && s.last_error.is_some()
    });
    let status = till.status();
    assert!(
        status
            .last_error
            .as_deref()
            .unwrap()
            .contains("could not be reached"),
        "{status:?}"
    );
    assert!(fleet.sales(&store).is_empty());

    proxy.set_faults(Faults::CLEAN);
    let back = now();
    till.wait_caught_up(LIMIT, back);
    assert_eq!(fleet.sales(&store).len(), 8);
    let fleet_stock = fleet.stock(&store);
    assert_eq!(fleet_stock, vec![(milk.id.to_string(), "-8".to_owned())]);
    assert_eq!(
        till.store
            .stock_level(
                &StoreId::new(store.clone()),
                &ProductId::new(milk.id.as_str())
            )
            .unwrap()
            .to_string(),
        "-8"
    );
}

#[test]
fn sync_is_configured_in_terminal_toml_and_refuses_what_it_cannot_use() {
    let path = std::path::Path::new("terminal.toml");
    let none = TerminalConfig::parse("device = \"T2\"\n", path).unwrap();
    assert_eq!(none.sync, None);
    let config = TerminalConfig::parse(
        "device = \"T2\"\n[sync]\nurl = \"http://192.168.1.10:8080/\"\nenrolment_code = \"ABCD-EFGH\"\npull_interval_s = 10\n",
        path,
    )
    .unwrap();
    let sync = config.sync.unwrap();
    assert_eq!(sync.url, "http://192.168.1.10:8080");
    assert_eq!(sync.name, "T2");
    assert_eq!(sync.pull_interval, Duration::from_secs(10));
    let err = TerminalConfig::parse("[sync]\nurl = \"fleet.example.com\"\n", path).unwrap_err();
    assert!(err.to_string().contains("with its scheme"), "{err}");

    // No credential and no code: nothing to sync with, said plainly.
    let dir = tempfile::tempdir().unwrap();
    let settings = quick_settings("http://127.0.0.1:9", "Till 2", None);
    let Err(err) = SyncAgent::start(dir.path(), pos_core::id::DeviceId::new("T2"), settings) else {
        panic!("a terminal without credential or code cannot sync");
    };
    assert!(matches!(err, SyncStartError::NotEnrolled), "{err}");
    assert!(err.to_string().contains("enrolment_code"));
}

#[test]
fn a_pin_reset_and_a_roles_new_rights_on_one_till_reach_the_other_till_of_the_store() {
    use pos_core::access::Role;
    use pos_core::event::DomainEvent;
    use pos_core::id::{RoleId, UserId};
    use pos_store::pin::hash_pin;

    let fleet_dir = tempfile::tempdir().unwrap();
    let fleet = Fleet::start(fleet_dir.path());
    let (_tenant, store) = fleet.tenant("Acme");
    let anna = UserId::new("anna");
    let mut tills = Vec::new();
    for (device, name) in [("T1", "Till 1"), ("T2", "Till 2")] {
        let mut till = Terminal::open(device, &store);
        // Both tills were set up with the same people, as the seed does on each.
        till.store
            .save_role(&Role::new("cashier", "Cashier", &["sales.*"]))
            .unwrap();
        till.store
            .save_user(
                &anna,
                "Anna",
                &RoleId::new("cashier"),
                Some(&hash_pin("1111").unwrap()),
            )
            .unwrap();
        let started = now();
        till.start_sync(quick_settings(
            &fleet.base(),
            name,
            Some(fleet.enrolment_code(&store)),
        ));
        till.wait_caught_up(LIMIT, started);
        tills.push(till);
    }

    // At till 1's back office: Anna gets a new PIN, cashiers may now refund, and a point is
    // worth two cents.
    let manager = UserId::new("mia");
    let mut program = pos_core::demo::loyalty();
    program.point_value = pos_core::money::Money::from_minor(2, pos_core::money::Currency::EUR);
    let seen = tills[1].status().tenant_changes;
    tills[0]
        .store
        .record(
            &manager,
            now(),
            &[
                DomainEvent::PinReset {
                    user: anna.clone(),
                    pin_hash: hash_pin("4321").unwrap(),
                },
                DomainEvent::RoleSaved(Role::new(
                    "cashier",
                    "Cashier",
                    &["sales.*", "refunds.create"],
                )),
                DomainEvent::LoyaltyProgramSaved(program.clone()),
            ],
        )
        .unwrap();

    // At till 2, through its own connection to its store, as its login screen reads it.
    let till_2 = std::rc::Rc::new(std::cell::RefCell::new(
        pos_store::Store::open(tills[1].dir.path(), tills[1].device.clone()).unwrap(),
    ));
    let gate = pos_terminal::ports::pin_gate(till_2.clone());
    support::eventually(LIMIT, "the new PIN reaching till 2", || {
        gate.check(&anna, "4321", now()).is_ok()
    });
    let signed_in = gate.check(&anna, "4321", now()).unwrap();
    assert!(signed_in.role.allows("refunds.create"), "{signed_in:?}");
    assert!(gate.check(&anna, "1111", now()).is_err());
    // The programme came too, and the sync told till 2's screen to take it up for its next sale.
    support::eventually(LIMIT, "the loyalty programme reaching till 2", || {
        tills[1].status().tenant_changes > seen
    });
    assert_eq!(till_2.borrow().loyalty_program().unwrap(), Some(program));
    // What came down is the fleet's, not till 2's own business: nothing for it to send back.
    assert_eq!(till_2.borrow().outbox_last_seq().unwrap(), 0);
}
