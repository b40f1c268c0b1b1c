//! The fleet server on the host that the QEMU suite's appliance enrols with and syncs to: the
//! `qemu_fleet` example of the `tests` crate (a real fleet on SQLite, seeded with the demo
//! catalogue), run as a child process and asked about what it holds over its standard input.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The address the guest reaches the fleet at: QEMU's user network forwards it to the host.
pub const GUEST_FLEET_URL: &str = "http://10.0.2.100";

pub struct HostFleet {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    pub addr: SocketAddr,
    /// A one-time enrolment code for the store.
    pub code: String,
}

impl HostFleet {
    /// Builds and starts the fleet with its data in `dir` (emptied first); its update service
    /// trusts bundles that chain to `keyring` and carry `compatible`.
    pub fn start(dir: &Path, keyring: &Path, compatible: &str) -> Result<HostFleet> {
        let root = crate::workspace_root();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        // The workspace's examples, as `cargo test --workspace` builds them: the same features,
        // so nothing is built twice.
        crate::run_quiet(Command::new(cargo).current_dir(&root).args([
            "build",
            "--locked",
            "--workspace",
            "--examples",
        ]))?;
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| root.join("target"), std::path::PathBuf::from);
        crate::empty_dir(dir)?;
        // Its own log (requests, audit lines) beside its data, out of the suite's output.
        let log = std::fs::File::create(dir.join("fleet.log"))?;
        let mut child = Command::new(target.join("debug/examples/qemu_fleet"))
            .arg(dir)
            .arg(keyring)
            .arg(compatible)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .context("starting the host's fleet (qemu_fleet)")?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            bail!("the host's fleet has no pipes");
        };
        // Made before its first answer, so that a fleet that answers nothing sensible is
        // stopped on the way out.
        let mut fleet = HostFleet {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            code: String::new(),
        };
        let ready = fleet.read_answer()?;
        let field = |name: &str| {
            ready[name]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("the host's fleet did not say its {name}: {ready}"))
        };
        fleet.addr = field("addr")?.parse()?;
        fleet.code = field("code")?;
        eprintln!(
            "the host's fleet serves on {} (its log: {})",
            fleet.addr,
            dir.join("fleet.log").display()
        );
        Ok(fleet)
    }

    fn read_answer(&mut self) -> Result<Value> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            bail!("the host's fleet stopped");
        }
        serde_json::from_str(&line).with_context(|| format!("the host's fleet said {line:?}"))
    }

    fn ask(&mut self, command: &str) -> Result<Value> {
        writeln!(self.stdin, "{command}")?;
        self.stdin.flush()?;
        self.read_answer()
    }

    /// The store's sales as `(receipt number, total)`.
    pub fn sales(&mut self) -> Result<Vec<(String, String)>> {
        let sales = self.ask("sales")?;
        let rows = sales.as_array().context("the fleet's sales are no list")?;
        Ok(rows
            .iter()
            .map(|sale| {
                let amount = &sale["total"]["amount"];
                let amount = amount
                    .as_str()
                    .map_or_else(|| amount.to_string(), str::to_owned);
                (
                    sale["receipt_number"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    amount,
                )
            })
            .collect())
    }

    /// The store's terminals as `(id, name)`.
    pub fn terminals(&mut self) -> Result<Vec<(String, String)>> {
        let terminals = self.ask("terminals")?;
        Ok(terminals
            .as_array()
            .context("the fleet's terminals are no list")?
            .iter()
            .map(|pair| {
                (
                    pair[0].as_str().unwrap_or_default().to_owned(),
                    pair[1].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect())
    }

    /// Uploads the bundle at `bundle` and rolls it out to every terminal at once, as a fleet
    /// operator would.
    pub fn roll_out(&mut self, bundle: &Path) -> Result<()> {
        let rollout = self.ask(&format!("roll-out {}", bundle.display()))?;
        if let Some(error) = rollout.get("error") {
            bail!(
                "the host's fleet refused the rollout of {}: {error}",
                bundle.display()
            );
        }
        Ok(())
    }

    /// The store's terminals as the update service sees them: `installed_version`, `slots`,
    /// and the last action's `status` and `last_feedback`.
    pub fn updates(&mut self) -> Result<Vec<Value>> {
        let updates = self.ask("updates")?;
        if let Some(error) = updates.get("error") {
            bail!("the host's fleet cannot say the store's updates: {error}");
        }
        updates
            .as_array()
            .cloned()
            .with_context(|| format!("the fleet's updates are no list: {updates}"))
    }

    /// The provisioning file a technician would bring on the stick for this fleet's store.
    pub fn provisioning_file(&self) -> String {
        format!(
            "{{\"format\":1,\"fleet_url\":\"{GUEST_FLEET_URL}\",\"enrolment_code\":\"{}\",\
             \"terminal_name\":\"Till 1\",\"device\":\"T1\",\"time_zone\":\"Europe/Berlin\"}}\n",
            self.code
        )
    }
}

impl Drop for HostFleet {
    fn drop(&mut self) {
        // Closing its input ends it; a fleet that hangs is stopped.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
