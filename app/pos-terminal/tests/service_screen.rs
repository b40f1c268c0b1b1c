//! The service screen over a real terminal: the demo shop's encrypted store, the printer
//! service on a network printer emulated on loopback, and the status bar's service button.
//! Only a manager gets in; the scanner test decodes a GS1 scan and refuses a misread one; the
//! test page and the drawer kick reach the printer as ESC/POS and decode back; the sync backlog
//! comes from the journal; logs go to a folder; a factory reset is refused without the typed
//! word and a manager's PIN, and asked for with both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::cell::RefCell;
use std::net::TcpListener;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use pos_printer::decode::{Event, to_text};
use pos_printer::drawer::DrawerPin;
use pos_service::ServiceScreen;
use pos_service::logs::FileLog;
use pos_service::maintenance::{FACTORY_RESET_REQUEST, RaucSlots};
use pos_terminal::config::TerminalConfig;
use pos_terminal::peripherals::PeripheralService;
use pos_terminal::terminal::DataDir;
use pos_ui::{AppWindow, ServiceAdapter, StatusAdapter, Tone};
use slint::platform::WindowEvent;
use slint::{ComponentHandle, Model};
use support::{MONDAY_10AM, OnScreen, monday, open_till, printed, testing_backend};
use tests::printer_emulator::PrinterEmulator;

struct Ui {
    window: AppWindow,
    _service: ServiceScreen,
    data: DataDir,
    stick: tempfile::TempDir,
    printer: PrinterEmulator,
    _peripherals: Rc<PeripheralService>,
    _dir: tempfile::TempDir,
}

impl OnScreen for Ui {
    fn window(&self) -> &AppWindow {
        &self.window
    }

    /// The service screen's banner.
    fn message(&self) -> String {
        self.adapter().get_message().into()
    }
}

fn start() -> Ui {
    testing_backend();
    let printer = PrinterEmulator::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let text = format!(
        "device = \"T7\"\n[printer]\ntransport = \"tcp\"\naddress = \"{}\"\npaper = \"58mm\"\n[drawer]\npin = 5\n",
        printer.addr()
    );
    std::fs::write(data.config_file(), &text).unwrap();
    let config = TerminalConfig::parse(&text, Path::new("terminal.toml")).unwrap();
    let (peripherals, opened) = open_till(&data.root, &config);
    let window = AppWindow::new().unwrap();
    let log = dir.path().join("terminal.log");
    std::fs::write(&log, "pos-terminal: data in /data/pos\n").unwrap();
    let mut settings = pos_terminal::service::service_settings(
        &data,
        &config,
        opened.store.clone(),
        peripherals.clone(),
        Rc::new(RefCell::new("Printer ready".to_owned())),
        None,
        pos_terminal::ports::pin_gate(opened.store.clone()),
    )
    .unwrap();
    // No RAUC here: a bus address nobody listens on, as on a desktop without it.
    settings.slots = Box::new(RaucSlots {
        bus_address: Some(format!("unix:path={}", dir.path().join("no-bus").display())),
    });
    settings.log = Box::new(FileLog(log));
    settings.clock = monday;
    // No event loop runs in these tests: slow work (the fleet check) runs right away.
    settings.background = pos_service::Background::Inline;
    let service = ServiceScreen::new(&window, settings);
    window.show().unwrap();
    Ui {
        window,
        _service: service,
        data,
        stick: tempfile::tempdir().unwrap(),
        printer,
        _peripherals: peripherals,
        _dir: dir,
    }
}

impl Ui {
    fn adapter(&self) -> ServiceAdapter<'_> {
        self.window.global::<ServiceAdapter>()
    }
}

/// The image's installer, run on the data directory as `pos-network.service` does, into a
/// runtime folder of the test's own.
fn install_network(data: &Path, runtime: &Path) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../image/rootfs/usr/lib/open-pos/network-apply");
    std::process::Command::new("sh")
        .arg(script)
        .arg(data)
        .arg(runtime)
        .output()
        .unwrap()
}

#[test]
fn a_technician_sets_a_static_address_and_the_image_installs_it() {
    let ui = start();
    ui.tap("Service");
    ui.adapter().invoke_unlock("marc".into(), "9999".into());
    assert!(ui.adapter().get_unlocked(), "{}", ui.message());
    ui.tap("Network");
    assert!(
        ui.adapter()
            .get_net_chosen()
            .starts_with("Automatic (DHCP) on every wired interface"),
        "{}",
        ui.adapter().get_net_chosen()
    );
    let folder = ui.data.root.join("network");
    let request = ui.data.root.join("network.request");

    ui.tap("Static");
    ui.type_into("Address/prefix", "192.168.1.300/24");
    ui.type_into("Gateway", "192.168.1.1");
    ui.type_into("DNS servers", "192.168.1.1");
    ui.tap("Apply network settings");
    assert_eq!(ui.message(), "192.168.1.300 is not an IPv4 address.");
    assert_eq!(ui.adapter().get_message_tone(), Tone::Problem);
    ui.type_into("Address/prefix", "192.168.1.20/24");
    ui.type_into("DNS servers", "");
    ui.tap("Apply network settings");
    assert_eq!(
        ui.message(),
        "A static address needs at least one DNS server, like 192.168.1.1."
    );
    assert!(
        !folder.exists() && !request.exists(),
        "nothing is written for bad input"
    );

    // The fleet the terminal was set up with answers on loopback.
    let fleet = TcpListener::bind("127.0.0.1:0").unwrap();
    let fleet_url = format!("http://{}", fleet.local_addr().unwrap());
    let state = serde_json::json!({
        "completed_at_ms": MONDAY_10AM, "terminal_name": "Till 7", "device": "T7",
        "store_name": "Corner Market", "time_zone": "Europe/Berlin", "locale": "en",
        "fleet_url": fleet_url, "enrolment": null, "admin_user": "marc"
    });
    std::fs::write(
        ui.data.root.join(pos_service::complete::STATE_FILE),
        state.to_string(),
    )
    .unwrap();
    ui.type_into("DNS servers", "192.168.1.1, 9.9.9.9");
    ui.tap("Apply network settings");
    assert_eq!(
        ui.message(),
        "Network settings applied: Static 192.168.1.20/24 on every wired interface · gateway 192.168.1.1 · DNS 192.168.1.1, 9.9.9.9."
    );
    assert_eq!(ui.adapter().get_message_tone(), Tone::Success);
    let written = std::fs::read_to_string(folder.join("10-open-pos.network")).unwrap();
    assert_eq!(
        written,
        "# The terminal's network settings, chosen on its service or setup screen.\n\
         # pos-network.service installs this into /run/systemd/network.\n\
         [Match]\n\
         Type=ether\n\
         \n\
         [Network]\n\
         Address=192.168.1.20/24\n\
         Gateway=192.168.1.1\n\
         DNS=192.168.1.1\n\
         DNS=9.9.9.9\n"
    );
    assert_eq!(
        std::fs::read_to_string(&request).unwrap(),
        format!("changed_by=marc\nrequested_at_ms={MONDAY_10AM}\n")
    );
    assert!(ui.adapter().get_net_reach_ok());
    assert_eq!(
        ui.adapter().get_net_reach(),
        format!("The fleet answers at {}.", fleet.local_addr().unwrap())
    );
    assert!(
        ui.adapter()
            .get_net_chosen()
            .starts_with("Static 192.168.1.20/24")
    );

    // The image takes the request: the file goes to systemd-networkd's runtime folder.
    let runtime = tempfile::tempdir().unwrap();
    let installed = install_network(&ui.data.root, runtime.path());
    assert!(installed.status.success(), "{installed:?}");
    assert_eq!(
        std::fs::read_to_string(runtime.path().join("10-open-pos.network")).unwrap(),
        written
    );
    assert!(!request.exists(), "the request is used up");

    // With the fleet gone, the screen says so after the next change.
    drop(fleet);
    ui.tap("Automatic (DHCP)");
    ui.tap("Apply network settings");
    assert!(
        ui.message()
            .starts_with("Network settings applied: Automatic (DHCP)"),
        "{}",
        ui.message()
    );
    assert!(!ui.adapter().get_net_reach_ok());
    assert!(
        ui.adapter().get_net_reach().contains("does not answer"),
        "{}",
        ui.adapter().get_net_reach()
    );
    // Opened again, the page shows what was applied last.
    ui.tap("Close");
    ui.tap("Service");
    ui.adapter().invoke_unlock("marc".into(), "9999".into());
    assert_eq!(ui.adapter().get_net_mode(), "dhcp");
    assert_eq!(ui.adapter().get_net_address(), "192.168.1.20/24");
}

#[test]
fn a_manager_tests_the_hardware_and_resets_the_terminal() {
    let ui = start();
    assert!(!ui.adapter().get_open());
    // The status bar's button opens the PIN gate.
    ui.tap("Service");
    assert!(ui.adapter().get_open());
    assert!(!ui.adapter().get_unlocked());
    let people: Vec<String> = ui
        .adapter()
        .get_people()
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    assert_eq!(
        people,
        ["Marc", "Olga"],
        "only the manager and the administrator may service the till"
    );
    ui.adapter().invoke_unlock("anna".into(), "1234".into());
    assert!(!ui.adapter().get_unlocked());
    assert!(
        ui.message().contains("manager or technician"),
        "{}",
        ui.message()
    );
    ui.tap("Marc");
    ui.adapter().invoke_unlock("marc".into(), "1111".into());
    assert_eq!(
        ui.message(),
        "wrong PIN for Marc; 4 more tries before Marc must wait 5 minutes"
    );
    // Tapping a name puts the PIN pad's keyboard focus on; the manager types the PIN.
    for key in ["9", "9", "9", "9", "\n"] {
        let window = ui.window.window();
        window.dispatch_event(WindowEvent::KeyPressed { text: key.into() });
        window.dispatch_event(WindowEvent::KeyReleased { text: key.into() });
    }
    assert!(ui.adapter().get_unlocked(), "{}", ui.message());

    // Scanner test: what the evdev scanner types arrives as a test scan.
    ui.adapter()
        .invoke_test_scan("]C101040063813339311726123110LOT42".into());
    assert!(ui.adapter().get_scan_ok());
    assert_eq!(
        ui.adapter().get_scan_title(),
        "GS1-128 · GS1 element string"
    );
    let details: Vec<String> = ui
        .adapter()
        .get_scan_details()
        .iter()
        .map(String::from)
        .collect();
    assert!(details.contains(&"Batch LOT42".to_owned()), "{details:?}");
    assert!(
        details.contains(&"Expiry 2026-12-31".to_owned()),
        "{details:?}"
    );
    // A keyboard-wedge scanner types into the focused scan field and ends with Return.
    for key in "4006381333932\n".chars() {
        let window = ui.window.window();
        window.dispatch_event(WindowEvent::KeyPressed { text: key.into() });
        window.dispatch_event(WindowEvent::KeyReleased { text: key.into() });
    }
    assert!(!ui.adapter().get_scan_ok());
    assert!(
        ui.adapter().get_scan_title().contains("check digit"),
        "{}",
        ui.adapter().get_scan_title()
    );

    // The test page, through the printer service to the network printer.
    ui.tap("Print test page");
    assert_eq!(
        ui.adapter().get_message_tone(),
        Tone::Success,
        "{}",
        ui.message()
    );
    let page = printed(&ui.printer, 1).remove(0);
    assert!(
        !page.iter().any(|e| matches!(e, Event::DrawerKick(_))),
        "a kick with the test page"
    );
    let text = to_text(&page, 32);
    assert!(text.contains("PRINTER TEST"), "{text}");
    assert!(text.contains("Corner Market"), "{text}");
    assert!(text.contains("Terminal  T7"), "{text}");
    assert!(text.contains("Printed   2026-03-02 10:00 UTC"), "{text}");
    let barcodes: Vec<&str> = page
        .iter()
        .filter_map(|event| match event {
            Event::Barcode { data, .. } => Some(data.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(barcodes, [pos_printer::test_page::TEST_BARCODE]);

    // The drawer kick, on the pin the configuration names.
    ui.tap("Open the drawer");
    let kicks = |state: &tests::printer_emulator::PrinterState| -> Vec<DrawerPin> {
        state
            .events
            .iter()
            .filter_map(|event| match event {
                Event::DrawerKick(kick) => Some(kick.pin),
                _ => None,
            })
            .collect()
    };
    assert!(
        ui.printer
            .wait_until(Duration::from_secs(10), |state| !kicks(state).is_empty()),
        "the printer never saw the drawer kick"
    );
    assert_eq!(kicks(&ui.printer.state()), [DrawerPin::Pin5]);

    // Network and sync: the demo shop's journal has not gone to any fleet.
    ui.tap("Network");
    let backlog = ui.adapter().get_sync_backlog().to_string();
    assert!(backlog.ends_with("events wait for the fleet"), "{backlog}");
    let bar = ui.window.global::<StatusAdapter>();
    assert!(bar.get_sync_behind());
    assert!(bar.get_sync().starts_with("Sync "), "{}", bar.get_sync());
    assert_eq!(
        ui.adapter().get_fleet(),
        "No fleet: this terminal works on its own"
    );

    // Software: without RAUC, the slots are unknown and the switch is refused with the reason.
    ui.tap("Software");
    assert!(
        ui.adapter()
            .get_update_state()
            .starts_with("Slot status unknown"),
        "{}",
        ui.adapter().get_update_state()
    );
    ui.tap("Start the other slot");
    assert_eq!(ui.adapter().get_message_tone(), Tone::Problem);
    assert!(
        ui.message().contains("cannot be started"),
        "{}",
        ui.message()
    );
    assert!(!ui.data.root.join("reboot.request").exists());

    // The update agent's news reaches the software page, and the status bar in short.
    ui._service
        .show_update_activity("Downloading update 9.9.0 (40%)", Some("Update 9.9.0 · 40%"));
    ui._service.show_status_bar();
    assert_eq!(
        ui.window.global::<pos_ui::StatusAdapter>().get_update(),
        "Update 9.9.0 · 40%"
    );
    ui.tap("Network");
    ui.tap("Software");
    assert!(
        ui.adapter()
            .get_update_state()
            .starts_with("Downloading update 9.9.0 (40%) · Slot status unknown"),
        "{}",
        ui.adapter().get_update_state()
    );

    // Log export to the stick, with the configuration redacted.
    ui.tap("Maintenance");
    let stick = ui.stick.path().display().to_string();
    ui.type_into("Folder on the USB stick", &stick);
    ui.tap("Export logs");
    assert_eq!(
        ui.adapter().get_message_tone(),
        Tone::Success,
        "{}",
        ui.message()
    );
    let exported: Vec<_> = std::fs::read_dir(ui.stick.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(exported.len(), 2, "{exported:?}");
    let config = exported
        .iter()
        .find(|name| name.starts_with("pos-config-"))
        .unwrap();
    let config = std::fs::read_to_string(ui.stick.path().join(config)).unwrap();
    assert!(config.contains("transport = \"tcp\""), "{config}");
    assert!(config.contains("device = \"T7\""), "{config}");
    ui.type_into("Folder on the USB stick", "/nonexistent/usb");
    ui.tap("Export logs");
    assert!(
        ui.message().contains("plug in the USB stick"),
        "{}",
        ui.message()
    );

    // Factory reset: refused without the word, without a manager, with a wrong PIN.
    let marker = ui.data.root.join(FACTORY_RESET_REQUEST);
    ui.type_into("Type RESET", "RESET");
    ui.tap("Erase this terminal");
    assert!(
        ui.message().contains("manager must approve"),
        "{}",
        ui.message()
    );
    ui.tap("Marc");
    ui.type_into("Manager's PIN", "1234");
    ui.tap("Erase this terminal");
    assert!(
        ui.message().contains("manager must approve"),
        "{}",
        ui.message()
    );
    ui.type_into("Type RESET", "reset");
    ui.type_into("Manager's PIN", "9999");
    ui.tap("Erase this terminal");
    assert!(ui.message().contains("Type RESET"), "{}", ui.message());
    assert!(!marker.exists(), "nothing asked for yet");
    ui.type_into("Type RESET", "RESET");
    ui.type_into("Manager's PIN", "9999");
    ui.tap("Erase this terminal");
    assert_eq!(
        ui.adapter().get_message_tone(),
        Tone::Success,
        "{}",
        ui.message()
    );
    let request = std::fs::read_to_string(&marker).unwrap();
    assert!(request.starts_with("approved_by=marc\n"), "{request}");

    ui.tap("Close");
    assert!(!ui.adapter().get_open());
}
