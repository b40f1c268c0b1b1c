//! The setup and service pages, rendered offscreen by the software renderer at 1280×800 and
//! 800×480 (and the setup in German), compared with the pictures in `docs/screenshots/`.
//!
//! After an intended change, regenerate them and look at every picture before committing:
//! `UPDATE_SCREENSHOTS=1 cargo test -p pos-service --test screenshots`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use pos_core::clock::Timestamp;
use pos_printer::encode::Paper;
use pos_scanner::decode::{DecodeRules, Decoder};
use pos_service::complete::{EnrolError, Enroller, Enrolment, SetupTarget};
use pos_service::diagnose::SyncStatus;
use pos_service::logs::FileLog;
use pos_service::maintenance::SlotControl;
use pos_service::setup::{AdminAccount, SetupForm};
use pos_service::{
    Background, ServiceData, ServiceHardware, ServiceScreen, ServiceSettings, SetupScreen,
    SetupSettings,
};
use pos_ui::{AppWindow, ServiceAdapter, SetupAdapter};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

const MONDAY_10AM: i64 = 1_772_445_600_000;
const SIZES: [(u32, u32); 2] = [(1280, 800), (800, 480)];

/// The fleet's answer, for the picture of the last step.
struct PictureFleet;

impl Enroller for PictureFleet {
    fn enrol(&self, _url: &str, _code: &str, _name: &str) -> Result<Enrolment, EnrolError> {
        Ok(Enrolment {
            device: "01KB7ZQ4X8".to_owned(),
            tenant: "corner-market".to_owned(),
            store: "str-5f1c".to_owned(),
            store_name: Some("Corner Market Mitte".to_owned()),
            token: "picture".to_owned(),
        })
    }
}

struct NoWrites;

impl SetupTarget for NoWrites {
    fn write_config(&mut self, _text: &str) -> Result<(), String> {
        Ok(())
    }
    fn create_admin(&mut self, _admin: &AdminAccount) -> Result<(), String> {
        Ok(())
    }
}

struct ReadyPrinter;

impl ServiceHardware for ReadyPrinter {
    fn print_raw(&self, _job: &str, _bytes: Vec<u8>) -> Result<(), String> {
        Ok(())
    }
    fn kick_drawer(&self) -> Result<(), String> {
        Ok(())
    }
    fn printer_status(&self) -> String {
        "Printer ready · drawer closed".to_owned()
    }
}

struct Backlog;

impl ServiceData for Backlog {
    fn sync_status(&self) -> Result<SyncStatus, String> {
        Ok(SyncStatus {
            backlog: 12,
            last_sync_ms: Some(MONDAY_10AM - 60_000),
            enrolled: true,
        })
    }
}

struct TwoSlots;

impl SlotControl for TwoSlots {
    fn status(&self) -> Result<(Option<String>, Vec<String>), String> {
        Ok((
            Some("A".to_owned()),
            vec![
                "rootfs.0 (A): booted, good, 0.0.0".to_owned(),
                "rootfs.1 (B): inactive, good, 0.0.0".to_owned(),
            ],
        ))
    }
    fn activate_other(&self) -> Result<String, String> {
        Ok("activated slot rootfs.1".to_owned())
    }
}

struct Shots {
    window: AppWindow,
    width: u32,
    height: u32,
    failures: Vec<String>,
}

impl Shots {
    fn tap(&self, label: &str) {
        let button = ElementHandle::find_by_accessible_label(&self.window, label)
            .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
            .unwrap_or_else(|| panic!("no button labelled {label:?}"));
        button.invoke_accessible_default_action();
    }

    fn shoot(&mut self, name: &str) {
        let file = format!("{name}-{}x{}.png", self.width, self.height);
        if let Err(failure) = pos_screen_checks::compare_window(
            self.window.window(),
            &file,
            (self.width, self.height),
            "cargo test -p pos-service --test screenshots",
        ) {
            self.failures.push(failure);
        }
    }
}

fn setup_screen(window: &AppWindow, dir: &std::path::Path) -> SetupScreen {
    SetupScreen::show(
        window,
        SetupSettings {
            data_dir: dir.to_path_buf(),
            provisioning_file: PathBuf::from("/data/provisioning/incoming.json"),
            zoneinfo: PathBuf::from("/nonexistent"),
            enroller: Arc::new(PictureFleet),
            background: Background::Inline,
            clock: || MONDAY_10AM,
        },
        Box::new(NoWrites),
        SetupForm {
            fleet_url: "https://fleet.example.com".to_owned(),
            enrolment_code: "K7Q2-PX9M".to_owned(),
            store_name: "Corner Market Mitte".to_owned(),
            printer_transport: "tcp".to_owned(),
            printer_address: "192.168.1.50:9100".to_owned(),
            scanner: true,
            admin_name: "Jana Roth".to_owned(),
            admin_pin: "4711".to_owned(),
            admin_pin_again: "4712".to_owned(),
            ..SetupForm::default()
        },
    )
}

fn service_screen(window: &AppWindow, dir: &std::path::Path, locale: &str) -> ServiceScreen {
    let log = dir.join("terminal.log");
    std::fs::write(&log, "pos-terminal: started\n").unwrap();
    ServiceScreen::new(
        window,
        ServiceSettings {
            data_dir: dir.to_path_buf(),
            store_name: "Corner Market Mitte".to_owned(),
            terminal: "T1".to_owned(),
            paper: Paper::MM80_42,
            locale: locale.to_owned(),
            decoder: Decoder::new(DecodeRules::default()).unwrap(),
            gate: Rc::new(pos_till::gate::PinGate::new(Rc::new(
                pos_till::memory::MemoryStaff::demo(),
            ))),
            hardware: Rc::new(ReadyPrinter),
            data: Rc::new(Backlog),
            slots: Box::new(TwoSlots),
            enroller: Arc::new(PictureFleet),
            background: Background::Inline,
            log: Box::new(FileLog(log)),
            config_files: Vec::new(),
            clock: || Timestamp::from_unix_ms(MONDAY_10AM),
            software_version: pos_service::VERSION.to_owned(),
        },
    )
}

fn walk(width: u32, height: u32, failures: &mut Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let window = AppWindow::new().unwrap();
    window
        .window()
        .set_size(slint::PhysicalSize::new(width, height));
    let _setup = setup_screen(&window, dir.path());
    window.show().unwrap();
    let mut shots = Shots {
        window,
        width,
        height,
        failures: Vec::new(),
    };
    shots.shoot("setup-fleet");
    shots.tap("Network settings");
    let setup = shots.window.global::<SetupAdapter>();
    setup.set_net_mode("static".into());
    setup.set_net_address("192.168.1.20/24".into());
    setup.set_net_gateway("192.168.1.1".into());
    setup.set_net_dns("192.168.1.1".into());
    shots.shoot("setup-network");
    shots.tap("Back");
    shots.tap("Next");
    shots.shoot("setup-store");
    shots.tap("Next");
    shots.shoot("setup-hardware");
    shots.tap("Next");
    shots.tap("Finish setup");
    shots.shoot("setup-pins-differ");
    shots
        .window
        .global::<SetupAdapter>()
        .set_admin_pin_again("4711".into());
    shots.tap("Finish setup");
    shots.shoot("setup-done");
    shots.tap("Start the till");

    let service = service_screen(&shots.window, dir.path(), "en");
    service.open();
    shots.shoot("service-gate");
    shots
        .window
        .global::<ServiceAdapter>()
        .invoke_unlock("marc".into(), "9999".into());
    service.test_scan("]C101040063813339311726123110LOT42");
    shots.shoot("service-hardware");
    shots.tap("Network");
    let interfaces: Vec<SharedString> = vec![
        "enp1s0 · up · 192.168.1.20/24, fe80::5054:ff:fe12:3456/64".into(),
        "wlp2s0 · down · no address".into(),
    ];
    shots
        .window
        .global::<ServiceAdapter>()
        .set_interfaces(ModelRc::new(VecModel::from(interfaces)));
    // As after a technician applied a static address and the fleet answered.
    let adapter = shots.window.global::<ServiceAdapter>();
    adapter.set_net_mode("static".into());
    adapter.set_net_address("192.168.1.20/24".into());
    adapter.set_net_gateway("192.168.1.1".into());
    adapter.set_net_dns("192.168.1.1, 9.9.9.9".into());
    adapter.set_net_chosen(
        "Static 192.168.1.20/24 on every wired interface · gateway 192.168.1.1 · DNS 192.168.1.1, 9.9.9.9".into(),
    );
    adapter.set_net_reach("The fleet answers at fleet.example.com:443.".into());
    adapter.set_net_reach_ok(true);
    shots.shoot("service-network");
    shots.tap("Software");
    shots.shoot("service-software");
    shots.tap("Maintenance");
    shots.tap("Erase this terminal");
    shots.shoot("service-maintenance");
    failures.append(&mut shots.failures);
    shots.window.hide().unwrap();
}

#[test]
fn the_setup_and_service_pages_look_as_kept() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .unwrap();
    let mut failures = Vec::new();
    for (width, height) in SIZES {
        walk(width, height, &mut failures);
    }

    // The small panel in German: the longest words on the fixed layout.
    pos_ui::select_language("de").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let window = AppWindow::new().unwrap();
    window.window().set_size(slint::PhysicalSize::new(800, 480));
    let _setup = setup_screen(&window, dir.path());
    window.show().unwrap();
    let mut shots = Shots {
        window,
        width: 800,
        height: 480,
        failures: Vec::new(),
    };
    shots.shoot("setup-fleet-de");
    shots.tap("Weiter");
    shots.tap("Weiter");
    shots.shoot("setup-hardware-de");
    shots.window.global::<SetupAdapter>().set_active(false);
    let service = service_screen(&shots.window, dir.path(), "de");
    service.open();
    shots
        .window
        .global::<ServiceAdapter>()
        .invoke_unlock("marc".into(), "9999".into());
    shots.tap("Netzwerk");
    let interfaces: Vec<SharedString> = vec!["enp1s0 · up · 192.168.1.20/24".into()];
    shots
        .window
        .global::<ServiceAdapter>()
        .set_interfaces(ModelRc::new(VecModel::from(interfaces)));
    shots.shoot("service-network-de");
    shots.tap("Wartung");
    shots.shoot("service-maintenance-de");
    failures.append(&mut shots.failures);
    assert!(failures.is_empty(), "{failures:#?}");
}
