//! First-boot setup enrolling with a real fleet through a link that loses the fleet's answer:
//! the fleet took the code and made the terminal, the terminal never heard. Setup asks again
//! with the same code and the enrolment key the terminal keeps, gets its credential, and the
//! fleet lists one terminal, not two; the terminal then syncs with it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::time::Duration;

use pos_core::id::DeviceId;
use pos_service::complete::{EnrolError, FleetEnroller, complete_setup, enrol};
use pos_service::setup::{self, SetupForm, ZONEINFO_DIR};
use pos_store::Store;
use pos_store::sample::{SaleMaker, product};
use pos_terminal::config::TerminalConfig;
use pos_terminal::service::{TerminalSetupTarget, sync_settings};
use pos_terminal::sync_agent::SyncAgent;
use pos_terminal::terminal::DataDir;
use support::proxy::FaultProxy;
use support::{Fleet, eventually, now};

const LIMIT: Duration = Duration::from_secs(30);

/// A data directory like the appliance's, and the setup form a technician fills in for the
/// fleet behind `url`.
fn terminal(url: &str, code: String) -> (tempfile::TempDir, DataDir, setup::SetupPlan) {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path().join("pos"));
    std::fs::create_dir_all(&data.root).unwrap();
    let form = SetupForm {
        fleet_url: url.to_owned(),
        enrolment_code: code,
        admin_name: "Jana Roth".to_owned(),
        admin_pin: "2468".to_owned(),
        admin_pin_again: "2468".to_owned(),
        ..SetupForm::default()
    };
    let plan = setup::plan(&form, Path::new(ZONEINFO_DIR)).unwrap();
    (dir, data, plan)
}

#[test]
fn a_setup_whose_enrolment_answer_was_lost_ends_enrolled_as_one_terminal() {
    let fleet_dir = tempfile::tempdir().unwrap();
    let fleet = Fleet::start(fleet_dir.path());
    let (tenant, store) = fleet.tenant("Acme");
    let coffee = product(1);
    fleet.save_product(&tenant, &coffee);
    let proxy = FaultProxy::start(fleet.addr, 7);
    let (_dir, data, plan) = terminal(&proxy.url(), fleet.enrolment_code(&store));

    proxy.lose_answers(1);
    let state = complete_setup(
        &plan,
        &data.root,
        &FleetEnroller::new(&data.root),
        &mut TerminalSetupTarget { data: data.clone() },
        now().unix_ms(),
    )
    .unwrap();
    assert_eq!(
        proxy.counts().lost,
        1,
        "the fleet's first answer never arrived"
    );
    let enrolment = state.enrolment.clone().unwrap();
    assert_eq!(enrolment.store, store);
    assert_eq!(
        state.store_name, "Acme Mitte",
        "no store name was typed: the fleet's name for the store, not its id"
    );
    let terminals = fleet.terminals(&store);
    assert_eq!(terminals.len(), 1, "{terminals:?}");
    assert_eq!(terminals[0].0, enrolment.device);
    assert_eq!(terminals[0].1, "Till 1");

    // The terminal sells and syncs with the credential setup got.
    let config = TerminalConfig::load(&data.config_file()).unwrap();
    let device = DeviceId::new(&config.device);
    let sold = {
        let mut till = Store::open(&data.root, device.clone()).unwrap();
        let mut maker = SaleMaker::new(device.as_str()).unwrap();
        maker.store = pos_core::id::StoreId::new(store.as_str());
        let (sale, moves) = maker.sale(1, std::slice::from_ref(&coffee), now()).unwrap();
        till.complete_sale(&sale, &moves).unwrap();
        sale.id.clone()
    };
    let settings = sync_settings(&data, &config).unwrap();
    let agent = SyncAgent::start(&data.root, device, settings).unwrap();
    eventually(LIMIT, "the sale reaching the fleet", || {
        fleet
            .sales(&store)
            .iter()
            .any(|s| s["sale"] == sold.as_str())
    });
    assert_eq!(
        agent.status().snapshot().device.unwrap().as_str(),
        enrolment.device
    );
    agent.stop();
    assert_eq!(fleet.terminals(&store).len(), 1);
}

#[test]
fn a_setup_whose_answers_keep_getting_lost_can_be_finished_again_with_the_same_code() {
    let fleet_dir = tempfile::tempdir().unwrap();
    let fleet = Fleet::start(fleet_dir.path());
    let (_, store) = fleet.tenant("Acme");
    let proxy = FaultProxy::start(fleet.addr, 11);
    let (_dir, data, plan) = terminal(&proxy.url(), fleet.enrolment_code(&store));
    let enroller = FleetEnroller::new(&data.root);

    // Both tries of the first tap lose their answers: the technician is told the fleet cannot
    // be reached, though it has made the terminal.
    proxy.lose_answers(2);
    let failed = enrol(&plan, &enroller).unwrap_err();
    assert!(
        matches!(failed, EnrolError::Unreachable { .. }),
        "{failed:?}"
    );
    assert_eq!(proxy.counts().lost, 2);
    assert_eq!(fleet.terminals(&store).len(), 1);

    // Tapping again with the same code gets that terminal, not a refusal of the used code.
    let enrolment = enrol(&plan, &enroller).unwrap().unwrap();
    let terminals = fleet.terminals(&store);
    assert_eq!(terminals.len(), 1, "{terminals:?}");
    assert_eq!(terminals[0].0, enrolment.device);
}
