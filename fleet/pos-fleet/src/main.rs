//! The fleet server binary: parses the command line, opens the database and serves.
//!
//! ```text
//! pos-fleet --data-dir DIR [--database URL] [--listen ADDR] [--tls-cert PEM --tls-key PEM]
//!           [--allow-plain-http]
//!           [--update-keyring PEM --update-compatible NAME [--allow-plain-bundles]]
//!           [--mail-from ADDR [--smtp-url URL] [--sms-gateway URL]]
//! pos-fleet --data-dir DIR [--listen ADDR] hub --upstream URL [--enrolment-code CODE]
//!           [--hub-name NAME]
//! pos-fleet --data-dir DIR [--database URL] add-operator EMAIL  (password from POS_FLEET_PASSWORD)
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use pos_fleet::hub::HubConfig;
use pos_fleet::server::{self, Database, FleetConfig, TlsFiles};
use pos_fleet::updates::UpdatesConfig;
use pos_fleet::updates::bundle::BundlePolicy;

const USAGE: &str = "\
usage: pos-fleet --data-dir DIR [--database URL] [--listen ADDR] [--tls-cert PEM --tls-key PEM]
                 [--allow-plain-http]
                 [--update-keyring PEM --update-compatible NAME [--allow-plain-bundles]]
                 [--mail-from ADDR [--smtp-url URL] [--sms-gateway URL]]
       pos-fleet --data-dir DIR [--listen ADDR] hub --upstream URL [--enrolment-code CODE]
                 [--hub-name NAME]
       pos-fleet --data-dir DIR [--database URL] add-operator EMAIL
                 (the password comes from POS_FLEET_PASSWORD)

  --database URL       where the records live: postgres://user:password@host:5432/db for
                       PostgreSQL, sqlite:///path/fleet.sqlite3 or a plain path for SQLite
                       (default DIR/fleet.sqlite3)
  --listen ADDR        address and port to serve on (default 127.0.0.1:8080)
  --tls-cert, --tls-key  PEM certificate chain and private key: serve HTTPS
  --allow-plain-http   serve plain HTTP on a non-loopback address (behind a TLS proxy only)
  --update-keyring PEM   the terminals' update keyring: uploaded bundles must chain to it
  --update-compatible NAME  the terminals' RAUC compatible string (open-pos-x86_64)
  --allow-plain-bundles  accept plain-format bundles too (test rigs without device-mapper)
  --mail-from ADDR     send the receipts tills ask for, from this address
  --smtp-url URL       the mail server: smtps://user:password@host, smtp://host:587?tls=required,
                       or smtp://127.0.0.1:25 for a relay on this host
  hub                  run as the store's hub: terminals on the LAN sync here, and the hub
                       relays to the cloud fleet at --upstream URL when the link is there
  --enrolment-code CODE  the cloud's code for this store (first start of a hub only)
  --hub-name NAME      how the cloud lists the hub (default \"Store hub\")
  --sms-gateway URL    text-message receipts are POSTed as JSON {to, text, receipt} to this URL
";

enum Command {
    Serve(Box<FleetConfig>),
    AddOperator { database: Database, email: String },
    Hub(Box<FleetConfig>, HubConfig),
}

fn parse(args: &[String]) -> Result<Command> {
    let mut data_dir = None;
    let mut database = None;
    let mut listen: SocketAddr = "127.0.0.1:8080".parse().context("default address")?;
    let mut cert = None;
    let mut key = None;
    let mut plain_http_allowed = false;
    let mut operator = None;
    let mut keyring = None;
    let mut compatible = None;
    let mut plain_bundles = false;
    let mut mail_from = None;
    let mut smtp_url = None;
    let mut sms_gateway = None;
    let mut hub = false;
    let mut upstream = None;
    let mut hub_code = None;
    let mut hub_name = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .with_context(|| format!("{name} needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--data-dir" => data_dir = Some(PathBuf::from(value("--data-dir")?)),
            "--database" => database = Some(Database::parse(&value("--database")?)?),
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
            "--mail-from" => mail_from = Some(value("--mail-from")?),
            "--smtp-url" => smtp_url = Some(value("--smtp-url")?),
            "--sms-gateway" => sms_gateway = Some(value("--sms-gateway")?),
            "hub" => hub = true,
            "--upstream" => upstream = Some(value("--upstream")?),
            "--enrolment-code" => hub_code = Some(value("--enrolment-code")?),
            "--hub-name" => hub_name = Some(value("--hub-name")?),
            "add-operator" => operator = Some(value("add-operator")?),
            "-h" | "--help" => bail!("{USAGE}"),
            other => bail!("unknown argument `{other}`\n\n{USAGE}"),
        }
    }
    let data_dir = data_dir.with_context(|| format!("--data-dir is required\n\n{USAGE}"))?;
    let defaults = FleetConfig::new(data_dir, listen);
    let database = database.unwrap_or_else(|| defaults.database.clone());
    if let Some(email) = operator {
        return Ok(Command::AddOperator { database, email });
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
    let receipts = match mail_from {
        Some(from) => Some(pos_fleet::receipts::ReceiptsConfig {
            smtp_url,
            sms_gateway,
            ..pos_fleet::receipts::ReceiptsConfig::new(&from)
        }),
        None if smtp_url.is_some() || sms_gateway.is_some() => {
            bail!("--smtp-url and --sms-gateway need --mail-from (the receipts' sender)")
        }
        None => None,
    };
    let config = Box::new(FleetConfig {
        database,
        receipts,
        tls,
        plain_http_allowed,
        updates,
        ..defaults
    });
    if hub {
        let upstream = upstream.with_context(|| format!("hub needs --upstream URL\n\n{USAGE}"))?;
        let mut settings = HubConfig::new(&upstream);
        settings.enrolment_code = hub_code;
        if let Some(name) = hub_name {
            settings.name = name;
        }
        return Ok(Command::Hub(config, settings));
    }
    Ok(Command::Serve(config))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args)? {
        Command::AddOperator { database, email } => {
            let password = std::env::var("POS_FLEET_PASSWORD")
                .context("set POS_FLEET_PASSWORD to the new operator's password")?;
            // Storage blocks: it runs off the async threads.
            let account = tokio::task::spawn_blocking(move || -> Result<_> {
                let storage = server::open_storage(&database).with_context(|| {
                    format!("open the fleet database ({})", database.describe())
                })?;
                server::add_operator(storage.as_ref(), &email, &password, pos_fleet::api::now())
                    .context("create the operator")
            })
            .await
            .context("creating the operator stopped")??;
            println!("created fleet operator {} ({})", account.email, account.id);
            Ok(())
        }
        Command::Hub(config, settings) => {
            let upstream = settings.upstream.clone();
            let mut running = pos_fleet::hub::start(&config, settings).await?;
            eprintln!(
                "pos-fleet: store hub serving http://{} and relaying to {upstream}",
                running.fleet.addr
            );
            signal_or_stop(&mut running.fleet.task).await
        }
        Command::Serve(config) => {
            let mut running = server::start(&config).await?;
            let scheme = if config.tls.is_some() {
                "https"
            } else {
                "http"
            };
            eprintln!(
                "pos-fleet: serving {scheme}://{} with records in {}",
                running.addr,
                config.database.describe()
            );
            signal_or_stop(&mut running.task).await
        }
    }
}

/// Serves until the server stops or Ctrl-C.
async fn signal_or_stop(task: &mut tokio::task::JoinHandle<std::io::Result<()>>) -> Result<()> {
    tokio::select! {
        result = task => {
            result.context("the server task failed")?.context("the server stopped")?;
        }
        signal = tokio::signal::ctrl_c() => {
            signal.context("wait for Ctrl-C")?;
            eprintln!("pos-fleet: stopping");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn the_database_defaults_to_sqlite_in_the_data_directory() {
        let Ok(Command::Serve(config)) = parse(&args("--data-dir /srv/fleet")) else {
            panic!("a data directory alone serves")
        };
        assert_eq!(
            config.database,
            Database::Sqlite(PathBuf::from("/srv/fleet/fleet.sqlite3"))
        );
    }

    #[test]
    fn a_database_url_is_used_to_serve_and_to_add_an_operator() {
        let url = "postgres://fleet:secret@db.internal:5432/fleet";
        let Ok(Command::Serve(config)) = parse(&args(&format!(
            "--data-dir /srv/fleet --database {url} --listen 127.0.0.1:9000"
        ))) else {
            panic!("serves")
        };
        assert_eq!(config.database, Database::Postgres(url.into()));
        assert_eq!(config.data_dir, PathBuf::from("/srv/fleet"));
        let Ok(Command::AddOperator { database, email }) = parse(&args(&format!(
            "--data-dir /srv/fleet --database {url} add-operator ops@example.com"
        ))) else {
            panic!("adds an operator")
        };
        assert_eq!(database, Database::Postgres(url.into()));
        assert_eq!(email, "ops@example.com");
    }

    #[test]
    fn an_unknown_database_scheme_is_refused_with_the_choices() {
        let Err(err) = parse(&args("--data-dir /srv/fleet --database redis://cache/0")) else {
            panic!("an unknown scheme must be refused")
        };
        assert!(
            err.to_string()
                .contains("use postgres://… for PostgreSQL, or sqlite:///path"),
            "{err}"
        );
    }
}
