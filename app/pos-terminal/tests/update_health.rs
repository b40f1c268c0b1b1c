//! The health check after a restart into a new version asks the receipt printer, through the
//! printer worker as the terminal runs it, with the real protocol (`DLE EOT n`): a serial
//! printer on a pseudo-terminal and a network printer on loopback pass once they answer, with
//! whatever they answer; one that never answers fails the check in a technician's words; a
//! terminal without a printer passes and says so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use pos_core::id::DeviceId;
use pos_printer::status::PrinterStatus;
use pos_terminal::config::TerminalConfig;
use pos_terminal::peripherals::{PeripheralService, PeripheralSettings};
use pos_terminal::terminal::DataDir;
use pos_terminal::update_agent::{
    HealthGrace, HealthParts, PrinterHealth, health_check, printer_health,
};
use tests::printer_emulator::{PrinterEmulator, SerialPrinterEmulator, pty};

/// The terminal's data directory and its printer worker on the `[printer]` section `printer`.
struct Terminal {
    data: DataDir,
    peripherals: PeripheralService,
    _dir: tempfile::TempDir,
}

impl Terminal {
    fn with_printer(printer: &str) -> Terminal {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let config =
            TerminalConfig::parse(&format!("[printer]\n{printer}"), Path::new("terminal.toml"))
                .unwrap();
        let peripherals =
            PeripheralService::start(PeripheralSettings::of(&data, &config), |_| {}).unwrap();
        Terminal {
            data,
            peripherals,
            _dir: dir,
        }
    }

    /// The whole check, with `printer_grace` for the printer and no fleet: its problems.
    fn check(&self, printer_grace: Duration) -> Vec<String> {
        health_check(
            HealthParts {
                data: self.data.clone(),
                device: DeviceId::new("T1"),
                printer: self.peripherals.probe(),
                sync: None,
            },
            HealthGrace {
                printer: printer_grace,
                fleet: Duration::ZERO,
            },
        )()
    }

    /// What the check finds out about the printer, in the words it logs.
    fn printer(&self, grace: Duration) -> (PrinterHealth, String) {
        let found = printer_health(&self.peripherals.probe(), grace);
        let said = found.to_string();
        (found, said)
    }
}

#[test]
fn a_serial_printer_that_answers_passes_even_out_of_paper_and_says_so() {
    let printer = SerialPrinterEmulator::start().unwrap();
    printer.state().status = PrinterStatus {
        paper_out: true,
        paper_near_end: true,
        ..PrinterStatus::READY
    };
    let terminal = Terminal::with_printer(&format!(
        "transport = \"serial\"\npath = \"{}\"\n",
        printer.path()
    ));
    let (found, said) = terminal.printer(Duration::from_secs(10));
    assert!(found.passed(), "{said}");
    assert_eq!(
        said,
        format!(
            "The receipt printer at {} answered: paper out",
            printer.path()
        )
    );
    assert_eq!(
        terminal.check(Duration::from_secs(10)),
        Vec::<String>::new()
    );
}

#[test]
fn a_network_printer_still_powering_up_passes_once_it_answers() {
    // An address to come up on: free now, taken by the printer a moment after the check began.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let terminal =
        Terminal::with_printer(&format!("transport = \"tcp\"\naddress = \"{address}\"\n"));
    let started = Instant::now();
    let switched_on = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        PrinterEmulator::start_on(address).unwrap()
    });
    let (found, said) = terminal.printer(Duration::from_secs(20));
    let printer = switched_on.join().unwrap();
    assert_eq!(
        said,
        format!("The receipt printer at {address} answered: printer ready")
    );
    assert!(found.passed());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "asked again soon"
    );
    assert!(printer.state().connections >= 1);
    assert!(
        printer.state().errors.is_empty(),
        "{:?}",
        printer.state().errors
    );
}

#[test]
fn a_printer_that_never_answers_fails_the_check_in_a_technicians_words() {
    // A serial line with nobody on its far end.
    let (_master, _slave, path) = pty().unwrap();
    let terminal = Terminal::with_printer(&format!("transport = \"serial\"\npath = \"{path}\"\n"));
    let started = Instant::now();
    let problems = terminal.check(Duration::from_secs(2));
    assert_eq!(
        problems,
        [format!(
            "The receipt printer at {path} did not answer in 2 s; check that it is switched on and its cable is in"
        )]
    );
    // Bounded: the grace, and one question's wait at most.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(8),
        "{took:?}"
    );
}

#[test]
fn a_terminal_without_a_printer_passes_that_part_and_says_so() {
    let terminal = Terminal::with_printer("transport = \"none\"\n");
    let (found, said) = terminal.printer(Duration::from_secs(10));
    assert_eq!(found, PrinterHealth::NotConfigured);
    assert_eq!(said, "no receipt printer is configured");
    assert_eq!(
        terminal.check(Duration::from_secs(10)),
        Vec::<String>::new()
    );
}
