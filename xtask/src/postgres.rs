//! A private PostgreSQL cluster for the test run: Debian's server binaries, a data directory
//! under the system's temporary directory, listening only on 127.0.0.1 at a free port, with a
//! password made for the run. `cargo xtask test` (and so CI) starts one, hands its URL to the
//! tests as `POS_FLEET_POSTGRES_URL`, and stops and removes it afterwards.
//!
//! PostgreSQL refuses to run as root, so when the run is root, the server's commands run as the
//! `postgres` user that Debian's package creates.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::run_quiet;

/// The role the cluster is created with; it owns the cluster.
const USER: &str = "pos_fleet";

/// A running cluster. [`Cluster::stop`] stops it; dropping it stops it too.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    as_postgres_user: bool,
    stopped: bool,
    /// `postgres://pos_fleet:PASSWORD@127.0.0.1:PORT/postgres`
    pub url: String,
}

/// The directory with `initdb`, `pg_ctl` and `postgres` of the newest installed server.
pub fn server_bin_dir() -> Result<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .with_context(|| {
            format!(
                "no PostgreSQL server in {}: install Debian's postgresql package \
                 (`cargo xtask deps`)",
                root.display()
            )
        })?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).with_context(|| {
        format!(
            "no initdb under {}: install Debian's postgresql package",
            root.display()
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn random_hex() -> Result<String> {
    let mut bytes = [0u8; 16];
    let mut urandom = std::fs::File::open("/dev/urandom").context("opening /dev/urandom")?;
    std::io::Read::read_exact(&mut urandom, &mut bytes).context("reading /dev/urandom")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

impl Cluster {
    /// Creates and starts a cluster; returns once it accepts connections.
    pub fn start() -> Result<Cluster> {
        let bin = server_bin_dir()?;
        let as_postgres_user = is_root();
        let dir = std::env::temp_dir().join(format!("pos-fleet-postgres-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("removing the old {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let password = random_hex()?;
        let password_file = dir.join("password");
        std::fs::write(&password_file, &password)
            .with_context(|| format!("writing {}", password_file.display()))?;
        if as_postgres_user {
            run_quiet(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&dir),
            )?;
        }
        let port = free_port()?;
        let mut cluster = Cluster {
            bin,
            dir,
            as_postgres_user,
            stopped: false,
            url: format!("postgres://{USER}:{password}@127.0.0.1:{port}/postgres"),
        };
        let data = cluster.dir.join("data");
        let mut initdb = cluster.server_command("initdb");
        initdb
            .args(["--username", USER, "--auth", "scram-sha-256", "--no-locale"])
            .args(["--encoding", "UTF8"])
            .arg(format!("--pwfile={}", password_file.display()))
            .arg("--pgdata")
            .arg(&data);
        run_quiet(&mut initdb).context("creating the test cluster")?;
        let mut start = cluster.server_command("pg_ctl");
        start
            .arg("start")
            .arg("--wait")
            .arg("--pgdata")
            .arg(&data)
            .arg("--log")
            .arg(cluster.dir.join("server.log"))
            .arg("-o")
            .arg(format!(
                "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={} \
                 -c max_connections=200",
                cluster.dir.display()
            ));
        if let Err(e) = run_quiet(&mut start) {
            let log = std::fs::read_to_string(cluster.dir.join("server.log")).unwrap_or_default();
            cluster.stopped = true;
            bail!("starting the test cluster failed: {e:#}\n{log}");
        }
        Ok(cluster)
    }

    /// Where the cluster's files are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// One of the server's programs, run as the `postgres` user when we are root.
    fn server_command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    /// Stops the server and removes its files.
    pub fn stop(mut self) -> Result<()> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        let mut stop = self.server_command("pg_ctl");
        stop.arg("stop")
            .arg("--wait")
            .args(["--mode", "fast"])
            .arg("--pgdata")
            .arg(self.dir.join("data"));
        run_quiet(&mut stop).context("stopping the test cluster")?;
        std::fs::remove_dir_all(&self.dir)
            .with_context(|| format!("removing {}", self.dir.display()))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Err(e) = self.shut_down() {
            eprintln!(
                "the test cluster in {} was not stopped: {e:#}",
                self.dir.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn psql(url: &str, sql: &str) -> std::process::Output {
        Command::new("psql")
            .args([
                "--no-psqlrc",
                "--tuples-only",
                "--no-align",
                "--command",
                sql,
            ])
            .arg(url)
            .output()
            .unwrap()
    }

    #[test]
    fn a_cluster_serves_its_url_with_its_password_only_and_is_gone_after_stop() {
        let cluster = Cluster::start().unwrap();
        let answer = psql(&cluster.url, "SELECT current_user");
        assert!(answer.status.success(), "{answer:?}");
        assert_eq!(String::from_utf8_lossy(&answer.stdout).trim(), USER);

        let wrong = cluster
            .url
            .replacen(&format!("{USER}:"), &format!("{USER}:wrong"), 1);
        let refused = psql(&wrong, "SELECT 1");
        assert!(
            !refused.status.success(),
            "a wrong password must be refused"
        );
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("password authentication failed"),
            "{refused:?}"
        );

        let dir = cluster.dir().to_path_buf();
        let url = cluster.url.clone();
        cluster.stop().unwrap();
        assert!(!dir.exists(), "the cluster's files are removed");
        assert!(
            !psql(&url, "SELECT 1").status.success(),
            "the server is down"
        );
    }
}
