//! The whole terminal booted in QEMU: the test image on a virtual q35 PC with UEFI firmware
//! (OVMF), a standard VGA display, two serial ports recorded into files and a QMP socket.
//!
//! Nobody logs into the guest: it has no getty and no shell. The test image instead runs
//! `pos-diagnostics.service`, which writes one report of `key=value` lines to the second
//! serial port after boot; this module reads that report, takes screenshots over QMP, and
//! reads and writes GRUB's environment on the disk file between boots (the way RAUC would
//! inside). It owns nothing on the disk; `image` says where things are.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::host_fleet::HostFleet;
use crate::image;
use crate::qemu_till::{self, PrinterEmulator, Rect};

/// The lines around the guest's report on its second serial port.
pub const REPORT_BEGIN: &str = "=== open-pos report begin ===";
pub const REPORT_END: &str = "=== open-pos report end ===";

/// What GRUB prints on the firmware console when it starts a slot (see `image/grub/grub.cfg`).
pub const GRUB_BOOTING: &str = "Open POS: booting slot ";

const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

/// How long a boot to the report may take: TCG emulation on a busy 2-core machine is slow.
const TCG_BOOT_TIMEOUT: Duration = Duration::from_secs(420);
/// KVM boots in seconds; a guest that has not reported by then is one of the hangs seen with
/// KVM on this kind of host, and the boot is done again under TCG.
const KVM_BOOT_TIMEOUT: Duration = Duration::from_secs(90);
/// How much bigger than the image the suite's box's drive is (a sparse file: it costs
/// nothing). The update downloads onto the data partition, which grows into it.
const BOX_DISK_ROOM_MIB: u64 = 2048;

/// The guest's report: its `key=value` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report(pub BTreeMap<String, String>);

impl Report {
    /// The value of `key`, or "" when the guest did not report it.
    pub fn get(&self, key: &str) -> &str {
        self.0.get(key).map_or("", String::as_str)
    }
}

/// The last complete report in the text of a serial port, if there is one.
pub fn parse_report(serial: &str) -> Option<Report> {
    let begin = serial.rfind(REPORT_BEGIN)?;
    parse_reports(&serial[begin..]).pop()
}

/// Every complete report in the text of a serial port, one per boot that got to its report,
/// in order: a guest that restarts by itself stays in the same QEMU and writes on.
pub fn parse_reports(serial: &str) -> Vec<Report> {
    serial
        .split(REPORT_BEGIN)
        .skip(1)
        .filter_map(|body| {
            let end = body.find(REPORT_END)?;
            Some(Report(
                body[..end]
                    .lines()
                    .map(|line| line.trim_end_matches('\r'))
                    .filter_map(|line| line.split_once('='))
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .collect(),
            ))
        })
        .collect()
}

/// Everything about a booted terminal that is not as the product promises, in words; empty
/// when the boot is right. `slot` is the slot that should be running (`A` or `B`); with
/// `expect_ui` the terminal program must be running, otherwise (the scripted demo day) it must
/// have run to its end without an error.
pub fn boot_problems(report: &Report, slot: &str, expect_ui: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expect = |ok: bool, problem: String| {
        if !ok {
            problems.push(problem);
        }
    };
    let cmdline = report.get("cmdline");
    let label = format!("root=PARTLABEL=root-{}", slot.to_lowercase());
    expect(
        cmdline
            .split_whitespace()
            .any(|arg| arg == format!("rauc.slot={slot}"))
            && cmdline.split_whitespace().any(|arg| arg == label),
        format!("the kernel command line does not name slot {slot}: {cmdline}"),
    );
    expect(
        report.get("rauc_booted") == slot,
        format!(
            "RAUC says the booted slot is `{}`, not {slot}",
            report.get("rauc_booted")
        ),
    );
    expect(
        report.get("root_options").split(',').any(|o| o == "ro")
            && report.get("root_writable") == "no",
        format!(
            "the root filesystem is not read-only ({}, writable: {})",
            report.get("root_options"),
            report.get("root_writable")
        ),
    );
    expect(
        report.get("data_writable") == "yes"
            && report.get("data_options").split(',').any(|o| o == "rw"),
        format!(
            "/data is not a writable filesystem ({} {}, writable: {})",
            report.get("data_source"),
            report.get("data_options"),
            report.get("data_writable")
        ),
    );
    if expect_ui {
        // Active only once the program said READY=1 (Type=notify).
        expect(
            report.get("terminal_state") == "active",
            format!(
                "the terminal service is {} ({})",
                report.get("terminal_state"),
                report.get("terminal_result")
            ),
        );
        expect(
            report.get("terminal_watchdog") == "1min",
            format!(
                "systemd does not watch the terminal program (WatchdogSec {:?})",
                report.get("terminal_watchdog")
            ),
        );
    } else {
        expect(
            report.get("terminal_result") == "success"
                && report.get("terminal_exit_status") == "0"
                && !matches!(report.get("terminal_started_us"), "" | "0"),
            format!(
                "the terminal program did not run cleanly: {} {}, exit status {}",
                report.get("terminal_state"),
                report.get("terminal_result"),
                report.get("terminal_exit_status")
            ),
        );
    }
    expect(
        report.get("getty_units").is_empty() && report.get("getty_processes") == "0",
        format!(
            "a login prompt is running: units `{}`, {} getty/login processes",
            report.get("getty_units"),
            report.get("getty_processes")
        ),
    );
    expect(
        matches!(report.get("rauc_io_class"), "idle" | "3")
            && report.get("disk_scheduler").contains("[bfq]"),
        format!(
            "RAUC could slow a sale: its I/O class is {:?} and the disk's scheduler {:?} (idle and bfq expected)",
            report.get("rauc_io_class"),
            report.get("disk_scheduler")
        ),
    );
    expect(
        report.get("sysrq") == "0",
        format!("magic SysRq is {}, not 0", report.get("sysrq")),
    );
    expect(
        report.get("console_keys") == "active" && report.get("vt_switch_keys") == "0",
        format!(
            "virtual terminal switching is still on the keyboard ({} key actions left)",
            report.get("vt_switch_keys")
        ),
    );
    // QEMU gives the guest an i6300esb watchdog; systemd must be feeding it.
    expect(
        report.get("watchdog") == "30s /dev/watchdog0",
        format!(
            "systemd does not feed the hardware watchdog: {}",
            report.get("watchdog")
        ),
    );
    expect(
        report.get("health") == "active" && report.get("mark_good") == "active",
        format!(
            "the boot was not found healthy and marked good (health {}, mark-good {})",
            report.get("health"),
            report.get("mark_good")
        ),
    );
    expect(
        report.get("failed_units").is_empty(),
        format!("units failed: {}", report.get("failed_units")),
    );
    problems
}

/// How QEMU runs the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    Kvm,
    Tcg,
}

impl Accel {
    fn qemu_args(self) -> [&'static str; 4] {
        match self {
            Accel::Kvm => ["-accel", "kvm", "-cpu", "host"],
            Accel::Tcg => ["-accel", "tcg", "-cpu", "max"],
        }
    }

    fn boot_timeout(self) -> Duration {
        match self {
            Accel::Kvm => KVM_BOOT_TIMEOUT,
            Accel::Tcg => TCG_BOOT_TIMEOUT,
        }
    }
}

/// A running QEMU with the disk file attached.
pub struct Machine {
    child: Child,
    pub console: PathBuf,
    pub report_port: PathBuf,
    qmp: PathBuf,
    pub started: Instant,
    pub accel: Accel,
    /// The receipt printer on the third serial port.
    pub printer: PrinterEmulator,
    /// How it was started, to start it again when the guest restarts itself.
    relaunch: Relaunch,
}

/// What [`Machine::launch`] needs to start the same machine again.
#[derive(Clone)]
struct Relaunch {
    disk: PathBuf,
    work: PathBuf,
    name: String,
    fleet: Option<SocketAddr>,
    /// Restarts so far.
    restarts: u32,
}

impl Machine {
    /// Starts the guest. `name` keeps each boot's serial logs apart in `work`.
    /// `usb_stick` is a disk file plugged in as a USB mass-storage device.
    pub fn start(
        disk: &Path,
        work: &Path,
        name: &str,
        accel: Accel,
        usb_stick: Option<&Path>,
        fleet: Option<SocketAddr>,
    ) -> Result<Machine> {
        Self::launch(
            disk,
            work,
            name,
            accel,
            usb_stick.map(|stick| (stick, false)),
            fleet,
        )
    }

    /// Starts the guest from the USB stick at `stick`, as a technician picks it in the
    /// firmware's boot menu, whatever the internal disk holds.
    pub fn start_from_stick(
        disk: &Path,
        work: &Path,
        name: &str,
        accel: Accel,
        stick: &Path,
    ) -> Result<Machine> {
        Self::launch(disk, work, name, accel, Some((stick, true)), None)
    }

    fn launch(
        disk: &Path,
        work: &Path,
        name: &str,
        accel: Accel,
        usb_stick: Option<(&Path, bool)>,
        fleet: Option<SocketAddr>,
    ) -> Result<Machine> {
        std::fs::create_dir_all(work)?;
        let vars = work.join("OVMF_VARS.fd");
        if !vars.exists() {
            std::fs::copy(OVMF_VARS, &vars)
                .with_context(|| format!("copying {OVMF_VARS} (package ovmf)"))?;
        }
        let console = work.join(format!("{name}-console.log"));
        let report_port = work.join(format!("{name}-report.log"));
        let qmp = work.join("qmp.sock");
        let printer_socket = work.join("printer.sock");
        let printer_capture = work.join(format!("{name}-printer.bin"));
        for file in [&console, &report_port, &qmp, &printer_socket] {
            if file.exists() {
                std::fs::remove_file(file)?;
            }
        }
        let mut command = Command::new("qemu-system-x86_64");
        command
            .args(["-machine", "q35", "-smp", "2", "-m", "1024"])
            .args(accel.qemu_args())
            .args(["-nodefaults", "-no-user-config", "-display", "none"])
            // A restart of the guest ends QEMU; `wait_for_later_report` starts it again. A
            // reset inside one QEMU under TCG was seen to leave the serial ports silent.
            .arg("-no-reboot")
            .args(["-vga", "std"])
            .args(["-device", "i6300esb"])
            .arg("-drive")
            .arg(format!(
                "if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}"
            ))
            .arg("-drive")
            .arg(format!(
                "if=pflash,format=raw,unit=1,file={}",
                vars.display()
            ))
            // Fixed PCI addresses, and the USB controller always there: the firmware's boot
            // entries (kept in the vars file across boots, as on a real board) stay valid
            // whether a stick is plugged in or not.
            .arg("-drive")
            .arg(format!(
                "if=none,id=disk,format=raw,file={}",
                disk.display()
            ))
            .args(["-device", "virtio-blk-pci,drive=disk,addr=0x5"])
            .args(["-device", "qemu-xhci,id=usb,addr=0x6"])
            .arg("-serial")
            .arg(format!("file:{}", console.display()))
            .arg("-serial")
            .arg(format!("file:{}", report_port.display()))
            // The receipt printer: /dev/ttyS2 in the guest, the emulator on the host.
            .arg("-chardev")
            .arg(format!(
                "socket,id=printer,path={},server=on,wait=off",
                printer_socket.display()
            ))
            .args(["-serial", "chardev:printer"])
            // A touch screen's stand-in: taps arrive as absolute pointer events. Not QEMU's
            // USB tablet: it has the USB keyboard's vendor and product id (0627:0001), which
            // the test image declares a scanner.
            .args(["-device", "virtio-tablet-pci,id=tablet,addr=0x7"])
            .arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", qmp.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        match fleet {
            // One wired port whose only way out is the fleet on the host: DHCP from QEMU, and
            // the fleet's guest address forwarded to it; nothing else leaves the machine.
            // `cmd:` starts socat for each connection the guest opens; a chardev target
            // (`tcp:HOST:PORT`) would be one connection made once and shared by all of them,
            // which breaks as soon as the sync and the update agent talk at once.
            Some(fleet) => {
                let guest = crate::host_fleet::GUEST_FLEET_URL.trim_start_matches("http://");
                command
                    .arg("-netdev")
                    .arg(format!(
                        "user,id=wired,restrict=on,guestfwd=tcp:{guest}:80-cmd:socat - TCP:{fleet}"
                    ))
                    .args(["-device", "virtio-net-pci,netdev=wired,addr=0x8"]);
            }
            None => {
                command.args(["-net", "none"]);
            }
        }
        if let Some((stick, boot)) = usb_stick {
            command
                .arg("-drive")
                .arg(format!(
                    "if=none,id=stick,format=raw,file={}",
                    stick.display()
                ))
                .arg("-device")
                .arg(if boot {
                    "usb-storage,bus=usb.0,drive=stick,bootindex=0"
                } else {
                    "usb-storage,bus=usb.0,drive=stick"
                });
        }
        eprintln!("$ {command:?}");
        let child = command
            .spawn()
            .context("could not start qemu-system-x86_64 (package qemu-system-x86)")?;
        Ok(Machine {
            child,
            console,
            report_port,
            qmp,
            started: Instant::now(),
            accel,
            printer: PrinterEmulator::start(printer_socket, printer_capture),
            relaunch: Relaunch {
                disk: disk.to_path_buf(),
                work: work.to_path_buf(),
                name: name.to_owned(),
                fleet,
                restarts: 0,
            },
        })
    }

    /// After the guest restarted itself (QEMU ran with `-no-reboot`, so it ended): the same
    /// machine started again, as a box's reset would; its serial logs get the boot's number.
    /// A USB stick is not plugged in again. `started` stays that of the first start.
    fn start_again(&mut self) -> Result<()> {
        let mut relaunch = self.relaunch.clone();
        relaunch.restarts += 1;
        let name = format!("{}-restart-{}", relaunch.name, relaunch.restarts);
        let started = self.started;
        let mut again = Self::launch(
            &relaunch.disk,
            &relaunch.work,
            &name,
            self.accel,
            None,
            relaunch.fleet,
        )?;
        again.started = started;
        again.relaunch = relaunch;
        // The old QEMU has ended; dropping it reaps it and stops its printer emulator.
        *self = again;
        Ok(())
    }

    fn read(path: &Path) -> String {
        std::fs::read(path)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }

    /// Waits until `found` returns a value for the text of the serial port at `port`.
    fn wait_for<T>(
        &mut self,
        port: &Path,
        timeout: Duration,
        what: &str,
        found: impl Fn(&str) -> Option<T>,
    ) -> Result<T> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(value) = found(&Self::read(port)) {
                return Ok(value);
            }
            if let Some(status) = self.child.try_wait()? {
                return Err(self.stopped(status, what));
            }
            if Instant::now() >= deadline {
                return Err(self.timed_out(what, timeout));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// QEMU ended (`status`) while `what` was awaited: its own words and the console's last.
    fn stopped(&mut self, status: std::process::ExitStatus, what: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "QEMU stopped ({status}) before {what}: {}\nconsole:\n{}",
            self.stderr_text(),
            tail(&Self::read(&self.console), 3000)
        )
    }

    /// `what` did not come within `timeout`: the console's last words.
    fn timed_out(&self, what: &str, timeout: Duration) -> anyhow::Error {
        anyhow::anyhow!(
            "no {what} after {} s; the console ended with:\n{}",
            timeout.as_secs(),
            tail(&Self::read(&self.console), 3000)
        )
    }

    fn stderr_text(&mut self) -> String {
        let mut text = String::new();
        if let Some(stderr) = self.child.stderr.as_mut() {
            let mut reader = BufReader::new(stderr);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                text.push_str(&line);
                line.clear();
            }
        }
        text
    }

    /// Waits for the guest's report on the second serial port.
    pub fn wait_for_report(&mut self) -> Result<Report> {
        let timeout = self.accel.boot_timeout();
        let port = self.report_port.clone();
        self.wait_for(&port, timeout, "report from the guest", parse_report)
    }

    /// How many reports the guest has written since QEMU started.
    pub fn reports_so_far(&self) -> usize {
        parse_reports(&Self::read(&self.report_port)).len()
    }

    /// Waits for a report after the first `seen` for which `wanted` is true, the guest
    /// restarting itself as often as it does on the way (an update it installed, a slot it
    /// gave up): each restart ends QEMU (`-no-reboot`) and the machine is started again. The
    /// reports of the boots passed over are returned too, for a failure's story.
    pub fn wait_for_later_report(
        &mut self,
        seen: usize,
        timeout: Duration,
        what: &str,
        wanted: impl Fn(&Report) -> bool,
    ) -> Result<(Report, Vec<Report>)> {
        let deadline = Instant::now() + timeout;
        let mut seen = seen;
        let mut passed = Vec::new();
        loop {
            // Whether QEMU has ended is asked before the port is read, so that the last words
            // of a boot that ended are read before the machine starts again.
            let ended = self.child.try_wait()?;
            for report in parse_reports(&Self::read(&self.report_port))
                .into_iter()
                .skip(seen)
            {
                seen += 1;
                if wanted(&report) {
                    return Ok((report, passed));
                }
                passed.push(report);
            }
            match ended {
                Some(status) if status.success() => {
                    self.start_again()?;
                    seen = 0;
                }
                Some(status) => return Err(self.stopped(status, what)),
                None => {}
            }
            if Instant::now() >= deadline {
                return Err(self.timed_out(what, timeout));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits until GRUB says which slot it starts, and returns that slot.
    pub fn wait_for_grub(&mut self, timeout: Duration) -> Result<String> {
        let console = self.console.clone();
        self.wait_for(&console, timeout, "slot chosen by GRUB", |text| {
            let at = text.rfind(GRUB_BOOTING)?;
            text[at + GRUB_BOOTING.len()..]
                .chars()
                .next()
                .filter(char::is_ascii_uppercase)
                .map(String::from)
        })
    }

    /// Runs QMP commands (JSON objects) in order; each must succeed.
    pub fn qmp(&self, commands: &[String]) -> Result<()> {
        self.qmp_paced(commands, Duration::ZERO)
    }

    /// Runs QMP commands in order over one connection, `gap` apart (key presses at a
    /// scanner's pace); each must succeed.
    pub fn qmp_paced(&self, commands: &[String], gap: Duration) -> Result<()> {
        let stream = UnixStream::connect(&self.qmp)
            .with_context(|| format!("connecting to QMP at {}", self.qmp.display()))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut writer = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if !line.contains("\"QMP\"") {
            bail!("QEMU did not greet with QMP: {line}");
        }
        let all = std::iter::once(r#"{"execute":"qmp_capabilities"}"#.to_owned())
            .chain(commands.iter().cloned());
        for command in all {
            writer.write_all(command.as_bytes())?;
            writer.write_all(b"\n")?;
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    bail!("QMP closed while running {command}");
                }
                if line.contains("\"return\"") {
                    break;
                }
                if line.contains("\"error\"") {
                    bail!("QMP refused {command}: {}", line.trim());
                }
                // Anything else is an asynchronous event; the answer is still to come.
            }
            if !gap.is_zero() {
                std::thread::sleep(gap);
            }
        }
        Ok(())
    }

    /// Saves what the virtual display shows as a PNG.
    pub fn screendump(&self, png: &Path) -> Result<()> {
        let path = png
            .to_str()
            .context("the screenshot path is not valid UTF-8")?;
        if path.contains(['"', '\\']) {
            bail!("the screenshot path {path} cannot be passed to QMP");
        }
        self.qmp(&[format!(
            r#"{{"execute":"screendump","arguments":{{"filename":"{path}","format":"png"}}}}"#
        )])
    }

    /// Taps the screen at `(x, y)` of the 1280×800 display with the USB tablet.
    pub fn tap(&self, point: (u32, u32)) -> Result<()> {
        self.press_and_release(point)?;
        // Under TCG the guest takes its time to read the tablet and redraw.
        std::thread::sleep(Duration::from_millis(700));
        Ok(())
    }

    /// The tablet's press and release at `(x, y)`, without waiting for the guest after it.
    fn press_and_release(&self, (x, y): (u32, u32)) -> Result<()> {
        let (width, height) = SCREEN;
        self.qmp_paced(
            &qemu_till::tap_commands(x, y, width, height),
            // A press and release the loaded guest reads together is a bounce to libinput.
            Duration::from_millis(300),
        )
    }

    /// Taps `point` and waits until the screen shows it was taken; taps again when nothing
    /// changed (at most three times): a loaded TCG guest may read a tap's press and release
    /// as a bounce and drop it. Only for taps that change what is shown.
    pub fn tap_and_see(&self, work: &Path, point: (u32, u32)) -> Result<()> {
        let before = work.join("tap-before.png");
        let after = work.join("tap-after.png");
        self.screendump(&before)?;
        for attempt in 1..=3 {
            self.tap(point)?;
            let deadline = Instant::now() + TAP_SEEN_TIMEOUT;
            loop {
                self.screendump(&after)?;
                if qemu_till::screens_differ(
                    &before,
                    &after,
                    &[qemu_till::HEADER],
                    qemu_till::TAP_CHANGED_PIXELS_MIN,
                )? {
                    return Ok(());
                }
                if Instant::now() >= deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            eprintln!(
                "the tap at {point:?} changed nothing on the screen in {} s (try {attempt}); tapping again",
                TAP_SEEN_TIMEOUT.as_secs()
            );
        }
        bail!(
            "three taps at {point:?} changed nothing on the screen; the last screenshot is {}; {}",
            after.display(),
            self.log_tail()
        )
    }

    /// Taps `point` until the screen shows `name` (at most three taps, each given
    /// [`TAP_SEEN_TIMEOUT`]): for a tap whose result may already be on the screen, or that may
    /// come before the screen is up.
    pub fn tap_until_screen(
        &self,
        work: &Path,
        point: (u32, u32),
        name: &str,
        ignore: &[qemu_till::Rect],
    ) -> Result<PathBuf> {
        let mut attempt = 1;
        loop {
            self.tap(point)?;
            match self.wait_for_screen(work, name, ignore, TAP_SEEN_TIMEOUT) {
                Ok(shot) => return Ok(shot),
                Err(error) if attempt == 3 => return Err(error),
                Err(_) => {
                    eprintln!(
                        "the tap at {point:?} did not lead to {name} (try {attempt}); tapping again"
                    );
                    attempt += 1;
                }
            }
        }
    }

    /// Plugs QEMU's USB keyboard in as `scanner` and waits until the terminal has said it took
    /// a scanner for the `nth` time in this boot; returns how long that took.
    pub fn plug_scanner(&mut self, nth: usize) -> Result<Duration> {
        const PICKED_UP: &str = "USB Keyboard at /dev/input/";
        // The terminal may list the new node before udev has given it to the input group;
        // the released terminal then leaves that node alone until it goes away, so the
        // keyboard is plugged in again (at most twice), as a person would.
        const REFUSED: &str = "Permission denied";
        for attempt in 1..=3 {
            let refused_before = self.log_lines(REFUSED);
            let plugged = Instant::now();
            self.qmp(&[
                r#"{"execute":"device_add","arguments":{"driver":"usb-kbd","id":"scanner","bus":"usb.0"}}"#
                    .to_owned(),
            ])?;
            let deadline = plugged + HOTPLUG_TIMEOUT;
            loop {
                if self.log_lines(PICKED_UP) >= nth {
                    return Ok(plugged.elapsed());
                }
                if self.log_lines(REFUSED) > refused_before && attempt < 3 {
                    eprintln!(
                        "the terminal opened the keyboard's node before udev let it (attempt {attempt}); plugging it in again"
                    );
                    self.qmp(&[
                        r#"{"execute":"device_del","arguments":{"id":"scanner"}}"#.to_owned()
                    ])?;
                    std::thread::sleep(Duration::from_secs(3));
                    break;
                }
                if Instant::now() >= deadline {
                    bail!(
                        "the terminal did not take the USB keyboard as a scanner within {} s (plug #{nth})",
                        HOTPLUG_TIMEOUT.as_secs()
                    );
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        }
        bail!("the terminal could not open the USB keyboard in three plugs")
    }

    /// How many of the terminal's log lines after the report contain `needle`.
    fn log_lines(&self, needle: &str) -> usize {
        let text = Self::read(&self.report_port);
        let after = text.rfind(REPORT_END).map_or(&text[..], |at| &text[at..]);
        after
            .lines()
            .filter(|line| line.starts_with("terminal-log: ") && line.contains(needle))
            .count()
    }

    /// The terminal's last log lines in this boot, to say what it did when a screen is not
    /// the one expected (a refused scan, a failed print).
    fn log_tail(&self) -> String {
        const LINES: usize = 20;
        let text = Self::read(&self.report_port);
        let after = text.rfind(REPORT_END).map_or(&text[..], |at| &text[at..]);
        let lines: Vec<&str> = after
            .lines()
            .filter(|line| line.starts_with("terminal-log: "))
            .collect();
        let tail = &lines[lines.len().saturating_sub(LINES)..];
        format!("the terminal's last log lines:\n{}", tail.join("\n"))
    }

    /// Types `code` and Enter on the USB keyboard at a scanner's pace, and waits until the
    /// terminal has logged the scan as taken. A TCG guest that stalls can stretch the gap
    /// between two keys beyond a scanner's (the terminal says "scan incomplete"), or let QEMU's
    /// queue of 16 key events overflow so that keys are lost (a misread, or a shorter code);
    /// either way the code is scanned again, as a cashier would, at most [`SCAN_ATTEMPTS`]
    /// times.
    pub fn scan(&self, code: &str) -> Result<()> {
        let taken = format!("pos-terminal: scanned {code} on ");
        // A refusal, or a code that lost keys and was taken as another one: this scan is over.
        let others = || {
            self.log_lines(" refused (") + self.log_lines("pos-terminal: scanned ")
                - self.log_lines(&taken)
        };
        for attempt in 1..=SCAN_ATTEMPTS {
            let (taken_before, others_before) = (self.log_lines(&taken), others());
            self.qmp_paced(&qemu_till::barcode_commands(code)?, SCANNER_KEY_GAP)?;
            let deadline = Instant::now() + TAP_SEEN_TIMEOUT;
            loop {
                if self.log_lines(&taken) > taken_before {
                    return Ok(());
                }
                if others() > others_before {
                    // A burst cut in two logs its tail too: let it arrive before the next scan.
                    std::thread::sleep(Duration::from_secs(1));
                    break;
                }
                if Instant::now() >= deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            eprintln!("the terminal did not take scan {attempt} of {code}; scanning again");
        }
        bail!(
            "{SCAN_ATTEMPTS} scans of {code} were not taken; {}",
            self.log_tail()
        )
    }

    /// Waits until the terminal's log, which the test image follows on the second serial port
    /// after its report, has `nth` lines containing `needle`.
    pub fn wait_for_log(&mut self, needle: &str, nth: usize, timeout: Duration) -> Result<()> {
        let port = self.report_port.clone();
        let what = format!("terminal log line `{needle}` (#{nth})");
        self.wait_for(&port, timeout, &what, |text| {
            let after = text.rfind(REPORT_END).map_or(text, |at| &text[at..]);
            let seen = after
                .lines()
                .filter(|line| line.starts_with("terminal-log: ") && line.contains(needle))
                .count();
            (seen >= nth).then_some(())
        })
    }

    /// Waits until the display shows what `docs/screenshots/<name>-1280x800.png` shows (the
    /// `ignore` rectangles left out), and returns the screenshot. With `UPDATE_SCREENSHOTS`
    /// set, or when there is no such picture yet (a screen new to the suite), the screen is
    /// given time to settle and kept as the picture instead, to be looked at and committed.
    pub fn wait_for_screen(
        &self,
        work: &Path,
        name: &str,
        ignore: &[Rect],
        timeout: Duration,
    ) -> Result<PathBuf> {
        let expected = qemu_till::kept_picture(name);
        let shot = work.join(format!("{name}.png"));
        if qemu_till::updating_pictures() || !expected.exists() {
            std::thread::sleep(Duration::from_secs(20));
            self.screendump(&shot)?;
            std::fs::copy(&shot, &expected)
                .with_context(|| format!("keeping {}", expected.display()))?;
            eprintln!("kept {}", expected.display());
            return Ok(shot);
        }
        let deadline = Instant::now() + timeout;
        loop {
            self.screendump(&shot)?;
            match qemu_till::compare_screen(&shot, &expected, ignore) {
                Ok(()) => return Ok(shot),
                Err(error) if Instant::now() >= deadline => {
                    return Err(error.context(format!(
                        "the screen did not show {name} within {} s; {}",
                        timeout.as_secs(),
                        self.log_tail()
                    )));
                }
                Err(_) => std::thread::sleep(Duration::from_secs(2)),
            }
        }
    }

    /// Shuts the guest down as the power button would, and waits for QEMU to end; pulls the
    /// plug if the guest has not stopped within `timeout`.
    pub fn power_off(mut self, timeout: Duration) -> Result<()> {
        self.qmp(&[r#"{"execute":"system_powerdown"}"#.to_owned()])?;
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        bail!(
            "the guest did not power off within {} s; console:\n{}",
            timeout.as_secs(),
            tail(&Self::read(&self.console), 2000)
        )
    }

    /// Waits until the guest switches itself off.
    pub fn wait_for_power_off(mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        bail!(
            "the guest did not switch itself off within {} s; console:\n{}",
            timeout.as_secs(),
            tail(&Self::read(&self.console), 2000)
        )
    }

    /// Waits for the installer on the console to say it finished (`Ok`), or why it stopped
    /// (`Err` with its words).
    pub fn wait_for_installer(&mut self, timeout: Duration) -> Result<Result<String, String>> {
        let console = self.console.clone();
        self.wait_for(&console, timeout, "installer's outcome", installer_outcome)
    }

    /// Pulls the plug: QEMU is killed at once, as in a power cut.
    pub fn power_cut(mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            if let Err(error) = self.child.kill() {
                eprintln!("could not stop QEMU: {error}");
            }
            if let Err(error) = self.child.wait() {
                eprintln!("could not wait for QEMU: {error}");
            }
        }
    }
}

fn tail(text: &str, bytes: usize) -> &str {
    let mut start = text.len().saturating_sub(bytes);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// What the suite runs on.
pub struct SuiteSpec<'a> {
    /// The test image (`cargo xtask image --test`); it is copied, never changed.
    pub disk: &'a Path,
    pub work: &'a Path,
    /// The terminal program has the full-screen UI, so it must stay up, and the screenshot
    /// shows it.
    pub expect_ui: bool,
    /// Where to keep the screenshot of the first boot.
    pub screenshot: Option<&'a Path>,
    /// The signing PKI whose keyring the image trusts (`cargo xtask image --pki`), to sign the
    /// update bundle on the USB stick.
    pub pki: &'a Path,
}

/// The files on the USB stick plugged in at the first boot. It holds no bundle the terminal
/// trusts: the enrolled terminal would install it at once (the USB import of a signed bundle
/// is tested in `app/pos-terminal/tests/usb_updates.rs`; the update here comes from the fleet).
pub const STICK_FOREIGN_BUNDLE: &str = "forged-9.9.1.raucb";
pub const STICK_PROVISIONING: &str = "open-pos-provisioning.json";
pub const STICK_OTHER: &str = "autorun.sh";

/// A FAT USB stick with a bundle signed by a stranger's PKI, the `provisioning` file a
/// technician brings, and a script.
fn make_usb_stick(suite: &SuiteSpec<'_>, provisioning: &str) -> Result<PathBuf> {
    let work = suite.work.join("usb");
    crate::empty_dir(&work)?;
    let stranger = crate::pki::Pki::create(&work.join("stranger-pki"), "Someone Else")?;
    // Enough data that squashfs cannot shrink the payload to one block (RAUC needs more).
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let rootfs = crate::bundle::ext4_image(
        &[
            ("etc/os-release", b"NAME=Open POS\n"),
            ("usr/lib/pos/data", &noise),
        ],
        16,
        &work,
        &work.join("rootfs.ext4"),
    )?;
    let compatible = crate::bundle::terminals_compatible()?;
    let spec = crate::bundle::BundleSpec {
        rootfs: &rootfs,
        version: "9.9.1",
        compatible: &compatible,
        build: "qemu-test",
        format: pos_bundle::BundleFormat::Verity,
    };
    crate::bundle::build(&spec, &stranger, &work, &work.join(STICK_FOREIGN_BUNDLE))?;
    std::fs::write(work.join(STICK_PROVISIONING), provisioning)?;
    std::fs::write(work.join(STICK_OTHER), "#!/bin/sh\necho pwned\n")?;
    let stick = work.join("stick.img");
    crate::run_quiet(
        Command::new("mkfs.vfat")
            .args(["-C", "-n", "STICK"])
            .arg(&stick)
            .arg((64 * 1024).to_string()),
    )?;
    let mut mcopy = Command::new("mcopy");
    mcopy.arg("-i").arg(&stick);
    for name in [STICK_FOREIGN_BUNDLE, STICK_PROVISIONING, STICK_OTHER] {
        mcopy.arg(work.join(name));
    }
    crate::run_quiet(mcopy.arg("::"))?;
    Ok(stick)
}

/// What the terminal did wrong with the USB stick of `make_usb_stick`; empty when it kept the
/// provisioning file and nothing else.
pub fn usb_problems(report: &Report) -> Vec<String> {
    let mut problems = Vec::new();
    let kept: Vec<&str> = report.get("usb_updates").split_whitespace().collect();
    if !kept.is_empty() {
        problems.push(format!(
            "/data/updates holds {kept:?}, which no terminal may take from this stick"
        ));
    }
    if report.get("usb_provisioning") != "yes" {
        problems.push("the provisioning file was not taken".to_owned());
    }
    let log = report.get("usb_log");
    for expected in [
        format!("refused {STICK_FOREIGN_BUNDLE}"),
        format!("ignored {STICK_OTHER}"),
    ] {
        if !log.contains(&expected) {
            problems.push(format!("the import log does not say `{expected}`: {log}"));
        }
    }
    problems
}

/// One boot's figures.
#[derive(Debug, Clone)]
pub struct BootFigures {
    pub name: String,
    pub slot: String,
    pub accel: Accel,
    /// From QEMU's start to the guest's report (firmware, GRUB, kernel, userspace).
    pub to_report: Duration,
    /// From the kernel's start to the terminal program's first start (the guest's monotonic
    /// clock, from its journal).
    pub kernel_to_terminal: Option<Duration>,
}

/// What the suite found.
pub struct Summary {
    /// The `cargo xtask` task that ran.
    pub suite: &'static str,
    pub boots: Vec<BootFigures>,
    /// The sale through the till's screen, when the image has the full-screen UI.
    pub till: Option<TillFigures>,
    /// The updates through the host's fleet, with the till.
    pub update: Option<crate::qemu_update::UpdateFigures>,
    pub total: Duration,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} passed in {} s:", self.suite, self.total.as_secs())?;
        for boot in &self.boots {
            write!(
                f,
                "  {:<28} slot {} ({:?}): report after {:.1} s",
                boot.name,
                boot.slot,
                boot.accel,
                boot.to_report.as_secs_f64()
            )?;
            if let Some(terminal) = boot.kernel_to_terminal {
                write!(
                    f,
                    ", terminal started {:.1} s after the kernel",
                    terminal.as_secs_f64()
                )?;
            }
            writeln!(f)?;
        }
        if let Some(till) = &self.till {
            writeln!(
                f,
                "  sale through the screen: {:.1} s; scanner picked up {:.1} s after plugging in, \
                 released {:.1} s after unplugging; receipt on the host {:.1} s after Print",
                till.total.as_secs_f64(),
                till.scanner_pickup.as_secs_f64(),
                till.scanner_release.as_secs_f64(),
                till.receipt.as_secs_f64()
            )?;
            if let Some(setup) = till.setup {
                writeln!(
                    f,
                    "  first-boot setup through the screen (provisioning file read to the till started, enrolled): {:.1} s",
                    setup.as_secs_f64()
                )?;
            }
            if let Some(to_fleet) = till.to_fleet {
                writeln!(
                    f,
                    "  the fleet on the host held the sale {:.1} s after the receipt came out (0: before it)",
                    to_fleet.as_secs_f64()
                )?;
            }
        }
        if let Some(update) = &self.update {
            writeln!(
                f,
                "  update from the fleet ({} MiB bundle): running in slot B {:.0} s after the boot \
                 that found it, the fleet knew {:.0} s later; a broken update given up and the \
                 box back on B {:.0} s after its rollout",
                update.bundle_mib,
                update.newer_running.as_secs_f64(),
                update.newer_in_fleet.as_secs_f64(),
                update.broken_rolled_back.as_secs_f64()
            )?;
        }
        Ok(())
    }
}

/// GRUB's environment right after RAUC installed an update into `slot`: it first, good and
/// untried; `other` as it was.
fn installed_into(
    mut env: BTreeMap<String, String>,
    slot: &str,
    other: &str,
) -> BTreeMap<String, String> {
    env.insert("ORDER".to_owned(), format!("{slot} {other}"));
    env.insert(format!("{slot}_OK"), "1".to_owned());
    env.insert(format!("{slot}_TRY"), "0".to_owned());
    env
}

fn expect_env(disk: &Path, expected: &[(&str, &str)], when: &str) -> Result<()> {
    let env = image::read_grubenv(disk)?;
    for (key, value) in expected {
        let actual = env.get(*key).map_or("(unset)", String::as_str);
        if actual != *value {
            bail!("{when}: grubenv has {key}={actual}, expected {value} (all: {env:?})");
        }
    }
    Ok(())
}

/// Boots until the report, checking that `slot` runs as the product promises.
fn boot_and_check(
    suite: &SuiteSpec<'_>,
    disk: &Path,
    name: &str,
    slot: &str,
    accel: &mut Accel,
    usb_stick: Option<&Path>,
    fleet: Option<SocketAddr>,
) -> Result<(Machine, Report, BootFigures)> {
    let env_before = image::read_grubenv(disk)?;
    let mut machine = Machine::start(disk, suite.work, name, *accel, usb_stick, fleet)?;
    let report = match machine.wait_for_report() {
        Ok(report) => report,
        Err(error) if *accel == Accel::Kvm => {
            eprintln!("KVM boot did not report ({error:#}); booting again with TCG");
            KVM_HANGS.store(true, Ordering::Relaxed);
            machine.power_cut()?;
            // The aborted boot spent a try in grubenv; the TCG boot starts where it started.
            image::write_grubenv(disk, &env_before, suite.work)?;
            *accel = Accel::Tcg;
            machine = Machine::start(disk, suite.work, name, *accel, usb_stick, fleet)?;
            machine.wait_for_report()?
        }
        Err(error) => return Err(error),
    };
    let problems = boot_problems(&report, slot, suite.expect_ui);
    if !problems.is_empty() {
        bail!(
            "{name}: the booted terminal is not as it must be:\n  - {}\nreport: {:?}",
            problems.join("\n  - "),
            report.0
        );
    }
    let figures = BootFigures {
        name: name.to_owned(),
        slot: slot.to_owned(),
        accel: *accel,
        to_report: machine.started.elapsed(),
        kernel_to_terminal: report
            .get("terminal_first_start_s")
            .parse::<f64>()
            .ok()
            .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
            .map(Duration::from_secs_f64),
    };
    eprintln!(
        "{name}: slot {slot} checked after {:.1} s",
        figures.to_report.as_secs_f64()
    );
    Ok((machine, report, figures))
}

/// Boots the test image on a copy of it, on a drive 2 GiB bigger, with a fleet on the host:
/// 1. the factory state: slot A runs, locked down, and is marked good; it is set up and
///    enrolled through the screen, sells, the sale reaches the fleet, and the power is cut
///    during the next sale;
/// 2. A again, the cut sale whole or absent; the fleet rolls out a newer version, which the
///    box installs into B, restarts into when idle, marks good and reports; then a broken
///    version, which the box installs into A, starts once, gives up after its health check
///    and reports, back on B with every sale (`qemu_update`);
/// 3. as if another update had gone into A, the power fails while A starts: A has had its try;
/// 4. GRUB starts B instead.
pub fn run_suite(suite: &SuiteSpec<'_>) -> Result<Summary> {
    let started = Instant::now();
    std::fs::create_dir_all(suite.work)?;
    for name in ["OVMF_VARS.fd", "disk.img"] {
        let path = suite.work.join(name);
        if path.exists() {
            std::fs::remove_file(&path)?;
        }
    }
    let disk = suite.work.join("disk.img");
    crate::run_quiet(
        Command::new("cp")
            .arg("--sparse=always")
            .arg(suite.disk)
            .arg(&disk),
    )?;
    // The box's drive is bigger than the image, as any drive is: the data partition grows.
    let disk_bytes = std::fs::metadata(&disk)?.len() + BOX_DISK_ROOM_MIB * image::MIB;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&disk)?
        .set_len(disk_bytes)?;
    let mut accel = if kvm_usable() { Accel::Kvm } else { Accel::Tcg };
    let mut boots = Vec::new();
    let power_off_timeout = Duration::from_secs(120);

    // 1. Factory state.
    expect_env(
        &disk,
        &[("ORDER", "A B"), ("A_TRY", "0")],
        "the factory image",
    )?;
    // The fleet the box is provisioned for, on the host; the till's screens need the UI.
    let compatible = crate::bundle::terminals_compatible()?;
    let mut fleet = if suite.expect_ui {
        Some(HostFleet::start(
            &suite.work.join("fleet"),
            &crate::pki::Pki::open(suite.pki)?.keyring(),
            &compatible,
        )?)
    } else {
        None
    };
    let fleet_addr = fleet.as_ref().map(|fleet| fleet.addr);
    let provisioning = fleet.as_ref().map_or_else(
        || OFFLINE_PROVISIONING.to_owned(),
        HostFleet::provisioning_file,
    );
    let stick = make_usb_stick(suite, &provisioning)?;
    let (machine, report, figures) = boot_and_check(
        suite,
        &disk,
        "1-factory-slot-a",
        "A",
        &mut accel,
        Some(&stick),
        fleet_addr,
    )?;
    let data_mib: u64 = report.get("data_mib").parse().unwrap_or(0);
    if data_mib < BOX_DISK_ROOM_MIB {
        bail!(
            "the data partition did not grow into the {BOX_DISK_ROOM_MIB} MiB behind the image: /data has {data_mib} MiB"
        );
    }
    let usb = usb_problems(&report);
    if !usb.is_empty() {
        bail!(
            "the USB stick was not handled as it must be:\n  - {}",
            usb.join("\n  - ")
        );
    }
    let mut machine = machine;
    let setup = if suite.expect_ui {
        Some(set_up_through_the_screen(suite, &mut machine)?)
    } else {
        None
    };
    let shot = machine.wait_for_screen(
        suite.work,
        "qemu-boot",
        &[qemu_till::LOGIN_STATUS],
        SCREEN_TIMEOUT,
    )?;
    if let Some(keep) = suite.screenshot {
        if let Some(dir) = keep.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(&shot, keep)?;
    }
    // A cashier's sale through the screen, then the next one cut off by a power cut.
    let till = match fleet.as_mut() {
        Some(fleet) => {
            let mut till = sell_through_the_till(suite, &mut machine)?;
            till.setup = setup;
            till.to_fleet = Some(wait_for_sale_in_fleet(fleet, FIRST_RECEIPT, SALE_TOTAL)?);
            let terminals = fleet.terminals()?;
            if terminals.len() != 1 || terminals[0].1 != "Till 1" {
                bail!(
                    "the fleet on the host lists {terminals:?}, not the one box set up as Till 1"
                );
            }
            cut_power_during_a_sale(suite, machine)?;
            Some(till)
        }
        None => {
            machine.power_off(power_off_timeout)?;
            None
        }
    };
    boots.push(figures);
    expect_env(
        &disk,
        &[("ORDER", "A B"), ("A_OK", "1"), ("A_TRY", "0")],
        "after slot A was marked good",
    )?;

    let Some(fleet) = fleet.as_mut() else {
        // A terminal without the full-screen UI has no till to update.
        return Ok(Summary {
            suite: "qemu-test",
            boots,
            till,
            update: None,
            total: started.elapsed(),
        });
    };

    // 2. The fleet offers a newer version; the box boots A after the power cut, with the cut
    // sale whole or absent, then installs the update into B, restarts into it when idle, and
    // falls back from a broken one.
    let bundles =
        crate::qemu_update::make(&disk, suite.pki, &compatible, &suite.work.join("updates"))?;
    fleet.roll_out(&bundles.newer.bundle)?;
    let (mut machine, report, figures) =
        boot_and_check(suite, &disk, "2-updates", "A", &mut accel, None, fleet_addr)?;
    let store = store_after_cut_problems(&report);
    if !store.is_empty() {
        bail!(
            "after the power cut during a sale, the store is not right:\n  - {}",
            store.join("\n  - ")
        );
    }
    let boots_logged: u32 = report.get("journal_boots").parse().unwrap_or(0);
    if boots_logged < 2 {
        bail!(
            "the journal on /data holds {boots_logged} boot(s) after the second boot: logs were lost"
        );
    }
    boots.push(figures);
    let seen = machine.reports_so_far();
    let (report, update) =
        crate::qemu_update::update_and_roll_back(&mut machine, fleet, &bundles, suite.work, seen)?;
    // No sale was lost on the way.
    let store = store_after_cut_problems(&report);
    if !store.is_empty() {
        bail!(
            "after the updates, the store is not right:\n  - {}",
            store.join("\n  - ")
        );
    }
    machine.power_off(power_off_timeout)?;
    expect_env(
        &disk,
        &[("A_OK", "0"), ("B_OK", "1"), ("B_TRY", "0")],
        "after the broken update in A was given up for B",
    )?;

    // 3. As if another update had gone into A: the power fails while A starts, before it
    // could be found healthy, so it has had its one try.
    image::write_grubenv(
        &disk,
        &installed_into(image::read_grubenv(&disk)?, "A", "B"),
        suite.work,
    )?;
    let mut machine = Machine::start(
        &disk,
        suite.work,
        "3-power-cut-slot-a",
        accel,
        None,
        fleet_addr,
    )?;
    let chosen = machine.wait_for_grub(accel.boot_timeout())?;
    machine.power_cut()?;
    if chosen != "A" {
        bail!("GRUB chose slot {chosen} for a fresh update in A");
    }
    expect_env(
        &disk,
        &[("ORDER", "A B"), ("A_TRY", "1")],
        "after a boot of A that never became healthy",
    )?;

    // 4. A has had its try and was never marked good: GRUB starts B (which the updates above
    // already showed boots whole).
    let mut machine = Machine::start(
        &disk,
        suite.work,
        "4-fallback-slot-b",
        accel,
        None,
        fleet_addr,
    )?;
    let chosen = machine.wait_for_grub(accel.boot_timeout())?;
    machine.power_cut()?;
    if chosen != "B" {
        bail!("GRUB chose slot {chosen} after A had its try, not B");
    }
    expect_env(
        &disk,
        &[("A_TRY", "1"), ("B_OK", "1"), ("B_TRY", "1")],
        "after falling back to B",
    )?;

    Ok(Summary {
        suite: "qemu-test",
        boots,
        till,
        update: Some(update),
        total: started.elapsed(),
    })
}

/// The technician's first boot: the provisioning file from the stick read on the setup screen,
/// the steps it filled in confirmed, the first administrator typed on a USB keyboard plugged in
/// for that, and the till started. Enrolment with the host's fleet happens at Finish.
fn set_up_through_the_screen(suite: &SuiteSpec<'_>, machine: &mut Machine) -> Result<Duration> {
    let started = Instant::now();
    // The import may have finished after the screen opened: read the file again, as a
    // technician would tap it (the screen looks the same if it had read it already).
    machine.tap_until_screen(
        suite.work,
        SETUP_READ_PROVISIONING,
        "qemu-setup-fleet",
        &[SETUP_CODE],
    )?;
    machine.tap_and_see(suite.work, SETUP_NEXT)?; // the store
    machine.tap_and_see(suite.work, SETUP_NEXT)?; // printer, drawer and scanner
    machine.tap_and_see(suite.work, SETUP_NEXT)?; // the first administrator
    machine.qmp(&[
        r#"{"execute":"device_add","arguments":{"driver":"usb-kbd","id":"keyboard","bus":"usb.0"}}"#
            .to_owned(),
    ])?;
    // A keyboard is not typed on before the guest has taken it.
    std::thread::sleep(Duration::from_secs(5));
    for (field, text) in [
        (SETUP_ADMIN_NAME, ADMIN_NAME),
        (SETUP_ADMIN_PIN, ADMIN_PIN),
        (SETUP_ADMIN_PIN_AGAIN, ADMIN_PIN),
    ] {
        machine.tap(field)?;
        std::thread::sleep(Duration::from_secs(1));
        machine.qmp_paced(&qemu_till::typing_commands(text)?, TYPING_KEY_GAP)?;
    }
    machine.wait_for_screen(suite.work, "qemu-setup-admin", &[], SCREEN_TIMEOUT)?;
    machine.qmp(&[r#"{"execute":"device_del","arguments":{"id":"keyboard"}}"#.to_owned()])?;
    machine.tap_and_see(suite.work, SETUP_FINISH)?;
    machine.wait_for_screen(
        suite.work,
        "qemu-setup-done",
        &[SETUP_FLEET_ID],
        SCREEN_TIMEOUT,
    )?;
    machine.tap_and_see(suite.work, SETUP_START_TILL)?;
    Ok(started.elapsed())
}

/// Waits until the host's fleet holds the sale with receipt `number` and `total`, which the
/// terminal pushed up on its own; returns how long that took.
fn wait_for_sale_in_fleet(fleet: &mut HostFleet, number: &str, total: &str) -> Result<Duration> {
    let started = Instant::now();
    loop {
        let sales = fleet.sales()?;
        if sales.iter().any(|(n, t)| n == number && t == total) {
            return Ok(started.elapsed());
        }
        if started.elapsed() > SCREEN_TIMEOUT {
            bail!(
                "the fleet on the host does not hold sale {number} ({total}) {} s after the receipt; it holds {sales:?}",
                SCREEN_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The provisioning file of a run without the till's screens, which enrols nowhere.
const OFFLINE_PROVISIONING: &str = "{\"format\":1,\"terminal_name\":\"Till 1\",\"device\":\"T1\",\
     \"store_name\":\"Corner Market Mitte\",\"time_zone\":\"Europe/Berlin\"}\n";
/// The first sale's receipt number.
const FIRST_RECEIPT: &str = "T1-000001";
/// The demo shop's whole milk, 1.19 (see `pos_terminal::seed`).
const MILK_BARCODE: &str = "4006381333931";
const MILK_NAME: &str = "Whole milk";
/// Two scans of the milk.
const SALE_TOTAL: &str = "2.38";
/// How long the screen may take to show what a step leads to, under TCG.
const SCREEN_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a tap may take to show on the screen before it counts as lost.
const TAP_SEEN_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the terminal may take to pick up or let go of a scanner plugged in or out.
const HOTPLUG_TIMEOUT: Duration = Duration::from_secs(60);
/// Between two keys of a scan: a scanner types a 13-digit code in well under half a second.
const SCANNER_KEY_GAP: Duration = Duration::from_millis(15);
/// How often a scan is made before the suite gives up on it.
const SCAN_ATTEMPTS: u32 = 5;
/// Where the till's buttons are on the 1280×800 screen (docs/screenshots/*-1280x800.png).
const SCREEN: (u32, u32) = (1280, 800);
const LOGIN_ANNA: (u32, u32) = (237, 245);
const LOGIN_KEYS: [(u32, u32); 10] = [
    (926, 485), // 0
    (806, 263), // 1
    (926, 263), // 2
    (1047, 263),
    (806, 337),
    (926, 337),
    (1047, 337),
    (806, 411),
    (926, 411),
    (1047, 411), // 9
];
const LOGIN_LOG_IN: (u32, u32) = (1047, 485);
const SHIFT_OPEN: (u32, u32) = (1058, 751);
const CHECKOUT_PAY: (u32, u32) = (1155, 747);
const PAYMENT_TAKE_CASH: (u32, u32) = (1062, 747);
const CHANGE_PRINT: (u32, u32) = (852, 455);
/// Anna's PIN, as the host's fleet sends her down (`tests/examples/qemu_fleet.rs`).
const ANNA_PIN: &str = "1234";
/// Where the setup screen's buttons and fields are (docs/screenshots/setup-*-1280x800.png).
const SETUP_READ_PROVISIONING: (u32, u32) = (344, 324);
const SETUP_NEXT: (u32, u32) = (1168, 760);
const SETUP_ADMIN_NAME: (u32, u32) = (640, 142);
const SETUP_ADMIN_PIN: (u32, u32) = (325, 218);
const SETUP_ADMIN_PIN_AGAIN: (u32, u32) = (945, 218);
const SETUP_FINISH: (u32, u32) = (1148, 760);
const SETUP_START_TILL: (u32, u32) = (1148, 760);
/// The enrolment code, new in every run.
const SETUP_CODE: qemu_till::Rect = qemu_till::Rect::new(726, 92, 530, 48);
/// The summary's first line, with the terminal's fleet id, new in every run.
const SETUP_FLEET_ID: qemu_till::Rect = qemu_till::Rect::new(12, 64, 1256, 32);
/// The first administrator the technician types in.
const ADMIN_NAME: &str = "Jana Roth";
pub(crate) const ADMIN_PIN: &str = "2580";
/// Between two keys a person types on the USB keyboard.
const TYPING_KEY_GAP: Duration = Duration::from_millis(60);

/// What the sale through the till's screen measured.
#[derive(Debug, Clone)]
pub struct TillFigures {
    /// From `device_add` of the USB keyboard to the terminal saying it took it as a scanner.
    pub scanner_pickup: Duration,
    /// From `device_del` to the terminal saying the scanner is gone.
    pub scanner_release: Duration,
    /// From the Print tap to the whole receipt on the host.
    pub receipt: Duration,
    /// The whole scenario, login to receipt.
    pub total: Duration,
    /// From the whole receipt to the sale in the fleet on the host.
    pub to_fleet: Option<Duration>,
    /// The first-boot setup through the screen, reading the provisioning file to the till.
    pub setup: Option<Duration>,
}

/// A cashier's sale in the booted terminal, through its screen and peripherals: Anna logs in
/// with taps on the tablet, opens the shift, scans the milk with a USB keyboard plugged in at
/// run time (declared a scanner in the test image's `terminal.toml`), unplugs and plugs it
/// again and scans once more, pays in cash and prints the receipt, which the host decodes.
fn sell_through_the_till(suite: &SuiteSpec<'_>, machine: &mut Machine) -> Result<TillFigures> {
    let started = Instant::now();
    let till = [qemu_till::TILL_STATUS];
    machine.tap_and_see(suite.work, LOGIN_ANNA)?;
    for digit in ANNA_PIN.chars() {
        let key = digit.to_digit(10).context("the PIN is digits")? as usize;
        machine.tap_and_see(suite.work, LOGIN_KEYS[key])?;
    }
    machine.tap_and_see(suite.work, LOGIN_LOG_IN)?;
    machine.wait_for_screen(suite.work, "qemu-shift-open", &till, SCREEN_TIMEOUT)?;
    machine.tap_and_see(suite.work, SHIFT_OPEN)?;
    machine.wait_for_screen(suite.work, "qemu-till", &till, SCREEN_TIMEOUT)?;

    let scanner_pickup = machine.plug_scanner(1)?;
    machine.scan(MILK_BARCODE)?;
    let unplugged = Instant::now();
    machine.qmp(&[r#"{"execute":"device_del","arguments":{"id":"scanner"}}"#.to_owned()])?;
    machine.wait_for_log("unplugged", 1, HOTPLUG_TIMEOUT)?;
    let scanner_release = unplugged.elapsed();
    machine.plug_scanner(2)?;
    machine.scan(MILK_BARCODE)?;
    machine.wait_for_screen(suite.work, "qemu-scan", &till, SCREEN_TIMEOUT)?;

    machine.tap_and_see(suite.work, CHECKOUT_PAY)?;
    machine.wait_for_screen(suite.work, "qemu-payment", &till, SCREEN_TIMEOUT)?;
    machine.tap_and_see(suite.work, PAYMENT_TAKE_CASH)?;
    machine.wait_for_screen(suite.work, "qemu-change", &till, SCREEN_TIMEOUT)?;
    let printing = Instant::now();
    machine.tap(CHANGE_PRINT)?;
    let expected = qemu_till::ReceiptExpectation {
        item: MILK_NAME,
        total: SALE_TOTAL,
    };
    let deadline = Instant::now() + SCREEN_TIMEOUT;
    let mut print_taps = 1;
    let lines = loop {
        let bytes = machine.printer.received();
        match qemu_till::check_receipt(&bytes, &expected) {
            Ok(lines) => break lines,
            Err(error) if Instant::now() >= deadline => {
                return Err(error.context(format!(
                    "no whole receipt {} s after Print was tapped",
                    SCREEN_TIMEOUT.as_secs()
                )));
            }
            Err(_) => {
                // Nothing at all on the printer a while after the tap: the tap was lost (see
                // `tap_and_see`); a second receipt would do no harm.
                if bytes.is_empty()
                    && print_taps < 3
                    && printing.elapsed() > TAP_SEEN_TIMEOUT * print_taps
                {
                    eprintln!(
                        "nothing printed {} s after Print; tapping it again",
                        printing.elapsed().as_secs()
                    );
                    machine.tap(CHANGE_PRINT)?;
                    print_taps += 1;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    };
    let receipt = printing.elapsed();
    eprintln!("the receipt, as the host decoded it:\n{}", lines.join("\n"));
    Ok(TillFigures {
        scanner_pickup,
        scanner_release,
        receipt,
        total: started.elapsed(),
        to_fleet: None,
        setup: None,
    })
}

/// The second sale: one milk scanned on the change screen of the first (which starts the next
/// sale), paid in cash, and the power cut the moment the cash is taken, while the terminal
/// records the sale.
fn cut_power_during_a_sale(suite: &SuiteSpec<'_>, machine: Machine) -> Result<()> {
    let till = [qemu_till::TILL_STATUS];
    machine.scan(MILK_BARCODE)?;
    machine.wait_for_screen(suite.work, "qemu-next-sale", &till, SCREEN_TIMEOUT)?;
    machine.tap_and_see(suite.work, CHECKOUT_PAY)?;
    machine.press_and_release(PAYMENT_TAKE_CASH)?;
    machine.power_cut()
}

/// The sales the store must hold after `cut_power_during_a_sale`: the first sale (two milks)
/// alone, or with the second (one milk) whole.
const SALES_AFTER_THE_CUT: [(&str, &str); 2] = [("1", "2.38"), ("2", "3.57")];

/// What the boot after the power cut found wrong with the store (`pos-terminal check` in the
/// report); empty when it opened, its journal verified and the sales are as
/// [`SALES_AFTER_THE_CUT`] allows.
pub fn store_after_cut_problems(report: &Report) -> Vec<String> {
    let mut problems = Vec::new();
    if report.get("store_check_status") != "0" {
        problems.push(format!(
            "`pos-terminal check` did not pass (status {:?}; its output is in the report)",
            report.get("store_check_status")
        ));
    }
    if report.get("store_journal_intact") != "yes" {
        problems.push(format!(
            "the journal does not verify: {}",
            report.get("store_journal_intact")
        ));
    }
    let found = (report.get("store_sales"), report.get("store_sales_total"));
    if !SALES_AFTER_THE_CUT.contains(&found) {
        problems.push(format!(
            "the store holds {} sale(s) totalling {}; expected the first sale (1, 2.38) or both whole (2, 3.57)",
            found.0, found.1
        ));
    }
    problems
}

/// What the installer printed on the console: `Ok` with its last line once it installed and
/// checked the disk, `Err` with its reason once it failed, `None` while it is still going.
pub fn installer_outcome(console: &str) -> Option<Result<String, String>> {
    const PREFIX: &str = "open-pos-installer: ";
    let mut lines = console
        .lines()
        .filter_map(|line| line.split_once(PREFIX).map(|(_, said)| said.trim_end()));
    lines.find_map(|said| {
        if let Some(reason) = said.strip_prefix("FAILED: ") {
            Some(Err(reason.to_owned()))
        } else if said.starts_with("installed and checked") {
            Some(Ok(said.to_owned()))
        } else {
            None
        }
    })
}

/// How long the installer may take to write and read back the image under TCG.
const TCG_INSTALL_TIMEOUT: Duration = Duration::from_secs(1200);

/// The USB installer booted on a box with a blank internal disk.
pub struct InstallerSuiteSpec<'a> {
    /// The installer stick (`cargo xtask installer --test`).
    pub stick: &'a Path,
    /// The disk image it carries, to compare the internal disk with afterwards.
    pub image: &'a Path,
    pub work: &'a Path,
    pub expect_ui: bool,
    pub pki: &'a Path,
}

/// Boots the installer stick on a box whose only disk is too small (it must refuse and write
/// nothing), then on one whose disk is blank: waits until it wrote the image, checked it and
/// switched the box off, compares the disk with the image, and boots the box from its disk as
/// a factory-fresh terminal.
pub fn run_installer_suite(spec: &InstallerSuiteSpec<'_>) -> Result<Summary> {
    let started = Instant::now();
    let work = spec.work;
    std::fs::create_dir_all(work)?;
    let image_bytes = std::fs::metadata(spec.image)?.len();
    let internal = work.join("internal-disk.img");
    let mut accel = if kvm_usable() { Accel::Kvm } else { Accel::Tcg };

    // A box whose disk is too small: the installer says so and writes nothing.
    let small_bytes = 1024 * image::MIB;
    let (machine, outcome) = install(
        spec,
        &internal,
        small_bytes,
        "installer-small-disk",
        &mut accel,
    )?;
    machine.power_cut()?;
    match outcome {
        Err(reason) if reason.contains("no disk is big enough") => {}
        other => bail!("the installer on a box with a 1 GiB disk should refuse, but: {other:?}"),
    }
    if image::allocated_bytes(&internal)? != 0 {
        bail!("the installer wrote to a disk it refused");
    }

    // A box that served a shop before, its drive somewhat bigger than the image.
    let (machine, outcome) = install(
        spec,
        &internal,
        image_bytes + 512 * image::MIB,
        "installer",
        &mut accel,
    )?;
    let said = outcome.map_err(|reason| anyhow::anyhow!("the installer failed: {reason}"))?;
    let install = machine.started.elapsed();
    eprintln!("installer: {said} ({:.1} s)", install.as_secs_f64());
    machine.wait_for_power_off(Duration::from_secs(120))?;
    let layout = image::partitions();
    let data = image::partition(&layout, "data")?;
    same_prefix(&internal, spec.image, data.start_mib * image::MIB)?;
    let left = filesystems_in(&internal, data, work)?;
    if !left.is_empty() {
        bail!("the previous shop's data partition survived the install: blkid finds {left}");
    }

    // The stick was picked for that one boot, as from the firmware's boot menu; QEMU's
    // `bootindex` would otherwise leave OVMF's boot order holding nothing but the stick.
    std::fs::remove_file(work.join("OVMF_VARS.fd"))?;
    let suite = SuiteSpec {
        disk: spec.image,
        work,
        expect_ui: spec.expect_ui,
        screenshot: None,
        pki: spec.pki,
    };
    let (machine, _, mut figures) = boot_and_check(
        &suite,
        &internal,
        "installed-slot-a",
        "A",
        &mut accel,
        None,
        None,
    )?;
    machine.power_off(Duration::from_secs(120))?;
    figures.name = format!("installed-slot-a (install {:.0} s)", install.as_secs_f64());
    Ok(Summary {
        suite: "qemu-installer-test",
        boots: vec![figures],
        till: None,
        update: None,
        total: started.elapsed(),
    })
}

/// Boots the installer stick on a box with a disk of `disk_bytes` (made afresh at `disk`) until
/// the installer says how it ended. A disk big enough for the image is a used box's: an older
/// copy of the image whose data partition holds a shop's files.
fn install(
    spec: &InstallerSuiteSpec<'_>,
    disk: &Path,
    disk_bytes: u64,
    name: &str,
    accel: &mut Accel,
) -> Result<(Machine, Result<String, String>)> {
    loop {
        for file in [disk, &spec.work.join("OVMF_VARS.fd")] {
            if file.exists() {
                std::fs::remove_file(file)?;
            }
        }
        if disk_bytes >= std::fs::metadata(spec.image)?.len() {
            used_box_disk(spec.image, disk, spec.work)?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(disk)?
            .set_len(disk_bytes)?;
        let mut machine = Machine::start_from_stick(disk, spec.work, name, *accel, spec.stick)?;
        // Under KVM the installer must at least have started by the boot timeout; a guest
        // that has not is one of this host's KVM hangs.
        if *accel == Accel::Kvm {
            let console = machine.console.clone();
            let started = machine.wait_for(&console, KVM_BOOT_TIMEOUT, "installer", |text| {
                text.contains("open-pos-installer: ").then_some(())
            });
            if let Err(error) = started {
                eprintln!("KVM installer boot did not start ({error:#}); again with TCG");
                KVM_HANGS.store(true, Ordering::Relaxed);
                machine.power_cut()?;
                *accel = Accel::Tcg;
                continue;
            }
        }
        let outcome = machine.wait_for_installer(TCG_INSTALL_TIMEOUT)?;
        return Ok((machine, outcome));
    }
}

/// Makes `disk` a box that sold with `image` before: the image, its data partition formatted
/// and holding a shop's database.
fn used_box_disk(image: &Path, disk: &Path, work: &Path) -> Result<()> {
    crate::run_quiet(
        Command::new("cp")
            .arg("--sparse=always")
            .arg(image)
            .arg(disk),
    )?;
    let layout = image::partitions();
    let data = image::partition(&layout, "data")?;
    let shop = work.join("previous-shop");
    std::fs::create_dir_all(shop.join("open-pos"))?;
    std::fs::write(shop.join("open-pos/store.db"), "a previous shop's sales\n")?;
    let filesystem = work.join("previous-shop.ext4");
    crate::run_quiet(
        Command::new("mkfs.ext4")
            .args(["-q", "-F", "-L", "data", "-d"])
            .arg(&shop)
            .arg(&filesystem)
            .arg(format!("{}M", data.size_mib)),
    )?;
    crate::run_quiet(
        Command::new("dd")
            .arg(format!("if={}", filesystem.display()))
            .arg(format!("of={}", disk.display()))
            .args(["bs=1M", "conv=notrunc,sparse", "status=none"])
            .arg(format!("seek={}", data.start_mib)),
    )?;
    std::fs::remove_file(&filesystem)?;
    if filesystems_in(disk, data, work)?.is_empty() {
        bail!("the used box's data partition was not formatted");
    }
    Ok(())
}

/// What `blkid` finds on `partition` of `disk` (empty when nothing).
fn filesystems_in(disk: &Path, partition: &image::Partition, work: &Path) -> Result<String> {
    let copy = work.join("partition.img");
    crate::run_quiet(
        Command::new("dd")
            .arg(format!("if={}", disk.display()))
            .arg(format!("of={}", copy.display()))
            .args(["bs=1M", "conv=sparse", "status=none"])
            .arg(format!("skip={}", partition.start_mib))
            .arg(format!("count={}", partition.size_mib)),
    )?;
    let probed = Command::new("blkid")
        .arg("-p")
        .arg(&copy)
        .output()
        .context("could not start blkid")?;
    std::fs::remove_file(&copy)?;
    match probed.status.code() {
        Some(0) => Ok(String::from_utf8_lossy(&probed.stdout).trim().to_owned()),
        Some(2) => Ok(String::new()),
        _ => bail!(
            "blkid -p on partition {}: {}",
            partition.name,
            String::from_utf8_lossy(&probed.stderr).trim()
        ),
    }
}

/// Checks that the first `bytes` of `disk` are `image`, byte for byte.
fn same_prefix(disk: &Path, image: &Path, bytes: u64) -> Result<()> {
    use std::io::Read;
    let mut a = std::fs::File::open(disk)?.take(bytes);
    let mut b = std::fs::File::open(image)?;
    let mut left = vec![0u8; 4 * image::MIB as usize];
    let mut right = vec![0u8; 4 * image::MIB as usize];
    let mut offset = 0u64;
    loop {
        let n = a.read(&mut left)?;
        if n == 0 {
            break;
        }
        b.read_exact(&mut right[..n])
            .context("the image is shorter than the installed disk")?;
        if left[..n] != right[..n] {
            let at = left[..n]
                .iter()
                .zip(&right[..n])
                .position(|(x, y)| x != y)
                .unwrap_or(0) as u64;
            bail!(
                "the internal disk differs from the image at byte {}",
                offset + at
            );
        }
        offset += n as u64;
    }
    if offset != bytes {
        bail!("the internal disk holds {offset} bytes of the image's {bytes}");
    }
    Ok(())
}

/// Set once a KVM guest hung on this host, so later boots go straight to TCG.
static KVM_HANGS: AtomicBool = AtomicBool::new(false);

/// Whether this host offers KVM to us at all, and it has not hung yet (see `boot_and_check`).
fn kvm_usable() -> bool {
    !KVM_HANGS.load(Ordering::Relaxed)
        && std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good_report(slot: &str) -> String {
        format!(
            "BdsDxe: noise\n{REPORT_BEGIN}\r\n\
             cmdline=BOOT_IMAGE=(hd0,gpt2)/vmlinuz root=PARTLABEL=root-{} ro rauc.slot={slot} quiet\r\n\
             root_options=ro,noatime\nroot_writable=no\n\
             data_source=/dev/vda4\ndata_options=rw,nosuid,nodev,noatime\ndata_writable=yes\n\
             terminal_state=active\nterminal_result=success\nterminal_exit_status=0\n\
             terminal_started_us=35708884\nterminal_restarts=0\nterminal_watchdog=1min\n\
             health=active\nmark_good=active\nrauc=active\nrauc_booted={slot}\n\
             rauc_io_class=idle\ndisk_scheduler=mq-deadline kyber [bfq] none\n\
             getty_units=\ngetty_processes=0\nsysrq=0\nconsole_keys=active\nvt_switch_keys=0\n\
             watchdog=30s /dev/watchdog0\nfailed_units=\n\
             journal_boots=1\nterminal_first_start_s=35.7\n{REPORT_END}\n",
            slot.to_lowercase()
        )
    }

    #[test]
    fn a_right_boot_has_no_problems() {
        let report = parse_report(&good_report("A")).unwrap();
        assert_eq!(boot_problems(&report, "A", true), Vec::<String>::new());
        assert_eq!(report.get("data_source"), "/dev/vda4");
    }

    #[test]
    fn an_update_that_could_slow_a_sale_is_reported() {
        let report = good_report("A").replace("[bfq] none", "bfq [none]");
        let problems = boot_problems(&parse_report(&report).unwrap(), "A", true);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("RAUC could slow a sale"));
    }

    #[test]
    fn the_wrong_slot_is_reported() {
        let report = parse_report(&good_report("A")).unwrap();
        let problems = boot_problems(&report, "B", true);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("does not name slot B"));
    }

    #[test]
    fn a_login_prompt_a_writable_root_and_sysrq_are_each_reported() {
        let text = good_report("A")
            .replace("getty_units=\n", "getty_units=serial-getty@ttyS0.service\n")
            .replace("root_options=ro,noatime", "root_options=rw,noatime")
            .replace("sysrq=0", "sysrq=1");
        let problems = boot_problems(&parse_report(&text).unwrap(), "A", true);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("login prompt")));
        assert!(problems.iter().any(|p| p.contains("read-only")));
        assert!(problems.iter().any(|p| p.contains("SysRq")));
    }

    #[test]
    fn the_demo_day_may_end_but_not_fail() {
        let ended = good_report("A").replace("terminal_state=active", "terminal_state=activating");
        let report = parse_report(&ended).unwrap();
        assert!(boot_problems(&report, "A", false).is_empty());
        assert_eq!(boot_problems(&report, "A", true).len(), 1);
        let failed = ended.replace("terminal_exit_status=0", "terminal_exit_status=101");
        assert_eq!(
            boot_problems(&parse_report(&failed).unwrap(), "A", false).len(),
            1
        );
    }

    #[test]
    fn an_unfinished_report_is_no_report_and_the_last_one_counts() {
        let text = good_report("A");
        let cut = &text[..text.len() - REPORT_END.len() - 2];
        assert_eq!(parse_report(cut), None);
        let two = format!("{}{}", good_report("A"), good_report("B"));
        assert_eq!(parse_report(&two).unwrap().get("rauc_booted"), "B");
    }

    #[test]
    fn only_the_provisioning_file_may_be_taken_from_the_stick() {
        let good = format!(
            "{REPORT_BEGIN}\nusb_updates=\nusb_provisioning=yes\n\
             usb_log=usb-import: accepted provisioning file;\
             usb-import: refused {STICK_FOREIGN_BUNDLE}: not signed;usb-import: ignored {STICK_OTHER};\n\
             {REPORT_END}\n"
        );
        assert!(usb_problems(&parse_report(&good).unwrap()).is_empty());
        let forged_kept = good.replace(
            "usb_updates=\n",
            &format!("usb_updates={STICK_FOREIGN_BUNDLE} \n"),
        );
        assert_eq!(usb_problems(&parse_report(&forged_kept).unwrap()).len(), 1);
        let nothing = format!("{REPORT_BEGIN}\nusb_updates=\n{REPORT_END}\n");
        assert_eq!(usb_problems(&parse_report(&nothing).unwrap()).len(), 3);
    }

    #[test]
    fn after_the_cut_the_first_sale_stays_and_the_second_is_whole_or_absent() {
        let report = |lines: &str| {
            parse_report(&format!("{REPORT_BEGIN}\n{lines}\n{REPORT_END}\n")).unwrap()
        };
        let checked = |sales: &str, total: &str| {
            report(&format!(
                "store_journal_entries=40\nstore_journal_intact=yes\nstore_sales={sales}\n\
                 store_sales_total={total}\nstore_check_status=0"
            ))
        };
        assert!(store_after_cut_problems(&checked("1", "2.38")).is_empty());
        assert!(store_after_cut_problems(&checked("2", "3.57")).is_empty());
        // The first sale lost, or the second half there.
        assert_eq!(store_after_cut_problems(&checked("0", "0")).len(), 1);
        assert_eq!(store_after_cut_problems(&checked("2", "3.38")).len(), 1);
        let broken = report(
            "store_journal_intact=no: journal entry 7 was changed after it was written\n\
             store_sales=1\nstore_sales_total=2.38\nstore_check_status=1",
        );
        assert_eq!(store_after_cut_problems(&broken).len(), 2);
        assert_eq!(
            store_after_cut_problems(&report("store_check_status=none")).len(),
            3
        );
    }

    #[test]
    fn the_installer_outcome_is_read_from_its_console_lines() {
        let going = "BdsDxe: boot\n[  3.1] open-pos-installer: writing 2370 MiB to /dev/vda\n";
        assert_eq!(installer_outcome(going), None);
        let done =
            format!("{going}open-pos-installer: installed and checked. Remove the stick; …\r\n");
        assert!(installer_outcome(&done).unwrap().is_ok());
        let failed = format!(
            "{going}open-pos-installer: FAILED: this box has several disks ( vda vdb): unplug all\n"
        );
        assert_eq!(
            installer_outcome(&failed),
            Some(Err(
                "this box has several disks ( vda vdb): unplug all".to_owned()
            ))
        );
    }

    #[test]
    fn an_update_into_a_slot_puts_it_first_and_leaves_the_other_alone() {
        let env = installed_into(image::factory_grubenv(), "B", "A");
        assert_eq!(env["ORDER"], "B A");
        assert_eq!(env["B_TRY"], "0");
        assert_eq!(env["A_OK"], "1");
        let mut given_up = image::factory_grubenv();
        given_up.insert("A_OK".to_owned(), "0".to_owned());
        let env = installed_into(given_up, "A", "B");
        assert_eq!((env["ORDER"].as_str(), env["A_OK"].as_str()), ("A B", "1"));
    }

    #[test]
    fn every_boot_of_one_machine_has_its_report_in_order() {
        let serial = format!(
            "{REPORT_BEGIN}\nrauc_booted=A\n{REPORT_END}\nnoise\n{REPORT_BEGIN}\nrauc_booted=B\n{REPORT_END}\n{REPORT_BEGIN}\nrauc_booted=A\n"
        );
        let booted: Vec<String> = parse_reports(&serial)
            .iter()
            .map(|report| report.get("rauc_booted").to_owned())
            .collect();
        assert_eq!(booted, ["A", "B"]);
    }
}
