//! The fleet server binary: parses the command line, opens the data directory and serves.
//!
//! ```text
//! pos-fleet --data-dir DIR [--listen ADDR] [--tls-cert PEM --tls-key PEM] [--allow-plain-http]
//!           [--update-keyring PEM --update-compatible NAME [--allow-plain-bundles]]
//! pos-fleet --data-dir DIR add-operator EMAIL      (password from POS_FLEET_PASSWORD)
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use pos_fleet::server::{self, FleetConfig, TlsFiles};
use pos_fleet::sqlite::SqliteStorage;
use pos_fleet::updates::UpdatesConfig;
use pos_fleet::updates::bundle::BundlePolicy;

const USAGE: &str = "\
usage: pos-fleet --data-dir DIR [--listen ADDR] [--tls-cert PEM --tls-key PEM] [--allow-plain-http]
                 [--update-keyring PEM --update-compatible NAME [--allow-plain-bundles]]
       pos-fleet --data-dir DIR add-operator EMAIL   (password from POS_FLEET_PASSWORD)

  --listen ADDR        address and port to serve on (default 127.0.0.1:8080)
  --tls-cert, --tls-key  PEM certificate chain and private key: serve HTTPS
  --allow-plain-http   serve plain HTTP on a non-loopback address (behind a TLS proxy only)
  --update-keyring PEM   the terminals' update keyring: uploaded bundles must chain to it
  --update-compatible NAME  the terminals' RAUC compatible string (open-pos-x86_64)
  --allow-plain-bundles  accept plain-format bundles too (test rigs without device-mapper)
";

enum Command {
    Serve(FleetConfig),
    AddOperator { data_dir: PathBuf, email: String },
}

fn parse(args: &[String]) -> Result<Command> {
    let mut data_dir = None;
    let mut listen: SocketAddr = "127.0.0.1:8080".parse().context("default address")?;
    let mut cert = None;
    let mut key = None;
    let mut plain_http_allowed = false;
    let mut operator = None;
    let mut keyring = None;
    let mut compatible = None;
    let mut plain_bundles = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .with_context(|| format!("{name} needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--data-dir" => data_dir = Some(PathBuf::from(value("--data-dir")?)),
            "--listen" => {
                let text = value("--listen")?;
                listen = text.parse().with_context(|| {
                    format!("--listen {text}: not an address like 127.0.0.1:8080")
                })?;
            }
            "--tls-cert" => cert = Some(PathBuf::from(value("--tls-cert")?)),
            "--tls-key" => key = Some(PathBuf::from(value("--tls-key")?)),
            "--allow-plain-http" => plain_http_allowed = true,
            "--update-keyring" => keyring = Some(PathBuf::from(value("--update-keyring")?)),
            "--update-compatible" => compatible = Some(value("--update-compatible")?),
            "--allow-plain-bundles" => plain_bundles = true,
            "add-operator" => operator = Some(value("add-operator")?),
            "-h" | "--help" => bail!("{USAGE}"),
            other => bail!("unknown argument `{other}`\n\n{USAGE}"),
        }
    }
    let data_dir = data_dir.with_context(|| format!("--data-dir is required\n\n{USAGE}"))?;
    if let Some(email) = operator {
        return Ok(Command::AddOperator { data_dir, email });
    }
    let tls = match (cert, key) {
        (Some(cert_pem), Some(key_pem)) => Some(TlsFiles { cert_pem, key_pem }),
        (None, None) => None,
        _ => bail!("--tls-cert and --tls-key go together"),
    };
    let updates = match (keyring, compatible) {
        (Some(keyring), Some(compatible)) => Some(UpdatesConfig::new(BundlePolicy {
            keyring,
            compatible,
            plain_allowed: plain_bundles,
        })),
        (None, None) => None,
        _ => bail!("--update-keyring and --update-compatible go together"),
    };
    Ok(Command::Serve(FleetConfig {
        tls,
        plain_http_allowed,
        updates,
        ..FleetConfig::new(data_dir, listen)
    }))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args)? {
        Command::AddOperator { data_dir, email } => {
            let password = std::env::var("POS_FLEET_PASSWORD")
                .context("set POS_FLEET_PASSWORD to the new operator's password")?;
            let storage = SqliteStorage::open(&data_dir).context("open the fleet database")?;
            let account = server::add_operator(&storage, &email, &password, pos_fleet::api::now())
                .context("create the operator")?;
            println!("created fleet operator {} ({})", account.email, account.id);
            Ok(())
        }
        Command::Serve(config) => {
            let running = server::start(&config).await?;
            let scheme = if config.tls.is_some() {
                "https"
            } else {
                "http"
            };
            eprintln!(
                "pos-fleet: serving {scheme}://{} with data in {}",
                running.addr,
                config.data_dir.display()
            );
            tokio::select! {
                result = running.task => {
                    result.context("the server task failed")?.context("the server stopped")?;
                }
                signal = tokio::signal::ctrl_c() => {
                    signal.context("wait for Ctrl-C")?;
                    eprintln!("pos-fleet: stopping");
                }
            }
            Ok(())
        }
    }
}
