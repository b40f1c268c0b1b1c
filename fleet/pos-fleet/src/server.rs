//! Configuration and start-up: where the data lives (SQLite in the data directory by default,
//! or the database a URL names), where to listen, TLS or (only on loopback, or when explicitly
//! allowed) plain HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::api::{AppState, router};
use crate::auth;
use crate::dashboard;
use crate::postgres::PostgresStorage;
use crate::sqlite::{self, SqliteStorage};
use crate::storage::{AccountRole, FleetStorage, NewAccount, StorageError};
use crate::updates::storage::UpdateStorage;
use crate::updates::{UpdatesConfig, UpdatesState};

/// Where accepted update bundles are kept, inside the data directory.
pub const BUNDLES_DIR: &str = "bundles";

/// Request bodies larger than this are refused with 413. A terminal's batches stay well
/// below (1 MiB by default).
pub const BODY_BYTES_MAX_DEFAULT: usize = 8 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
}

/// Which database the fleet keeps its records in.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file; the one in the data directory unless a path or `sqlite://` URL is given.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL, `postgres://user:password@host:port/database`.
    Postgres(String),
}

impl Database {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; `sqlite:///path/fleet.sqlite3` or a
    /// plain path is an SQLite file.
    pub fn parse(text: &str) -> Result<Database, FleetError> {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Database::Postgres(text.to_owned()));
        }
        if let Some(path) = text.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(FleetError::DatabaseUrl(format!(
                    "{text} names no file; write sqlite:///path/to/fleet.sqlite3"
                )));
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(FleetError::DatabaseUrl(format!(
                "the database URL scheme {scheme}:// is not known; use postgres://… for \
                 PostgreSQL, or sqlite:///path (or a plain path) for an SQLite file"
            )));
        }
        if text.is_empty() {
            return Err(FleetError::DatabaseUrl("the database URL is empty".into()));
        }
        Ok(Database::Sqlite(PathBuf::from(text)))
    }

    /// Where the data is, for messages: a PostgreSQL URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(path) => format!("SQLite {}", path.display()),
            Database::Postgres(url) => format!("PostgreSQL {}", without_password(url)),
        }
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// `scheme://user:secret@host/…` as `scheme://user:***@host/…`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Opens (creating and migrating if need be) the database. Blocking: call it from a plain
/// thread or `spawn_blocking`, never from an async task.
pub fn open_storage(database: &Database) -> Result<Arc<dyn FleetStorage>, StorageError> {
    Ok(match open_database(database)? {
        OpenedDatabase::Sqlite(storage) => storage,
        OpenedDatabase::Postgres(storage) => storage,
    })
}

/// A database opened, with what each backend can serve.
enum OpenedDatabase {
    Sqlite(Arc<SqliteStorage>),
    Postgres(Arc<PostgresStorage>),
}

fn open_database(database: &Database) -> Result<OpenedDatabase, StorageError> {
    Ok(match database {
        Database::Sqlite(path) => OpenedDatabase::Sqlite(Arc::new(SqliteStorage::open_file(path)?)),
        Database::Postgres(url) => OpenedDatabase::Postgres(Arc::new(PostgresStorage::open(url)?)),
    })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetConfig {
    pub data_dir: PathBuf,
    pub database: Database,
    pub listen: SocketAddr,
    pub tls: Option<TlsFiles>,
    /// Serve plain HTTP on a non-loopback address (behind a TLS-terminating proxy).
    pub plain_http_allowed: bool,
    pub body_bytes_max: usize,
    /// The update service: the keyring and compatible string bundles are checked against.
    pub updates: Option<UpdatesConfig>,
    /// Sending the receipts tills ask for by e-mail or text message; `None` sends none.
    pub receipts: Option<crate::receipts::ReceiptsConfig>,
}

impl FleetConfig {
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> FleetConfig {
        FleetConfig {
            database: Database::Sqlite(data_dir.join(sqlite::DATABASE_FILE)),
            data_dir,
            listen,
            tls: None,
            plain_http_allowed: false,
            body_bytes_max: BODY_BYTES_MAX_DEFAULT,
            updates: None,
            receipts: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error(
        "refusing to serve plain HTTP on {0}: terminal credentials and sales would cross the \
         network unencrypted. Give --tls-cert and --tls-key, listen on 127.0.0.1, or pass \
         --allow-plain-http if a TLS proxy sits in front"
    )]
    PlainHttpRefused(SocketAddr),
    #[error("cannot read the TLS {what} {path}: {detail}")]
    Tls {
        what: &'static str,
        path: PathBuf,
        detail: String,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    DatabaseUrl(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// How the server will talk, once the configuration is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    Tls(TlsFiles),
    Plain,
}

/// TLS when configured; plain HTTP only on loopback or when explicitly allowed.
pub fn transport(config: &FleetConfig) -> Result<Transport, FleetError> {
    match &config.tls {
        Some(files) => Ok(Transport::Tls(files.clone())),
        None if config.listen.ip().is_loopback() || config.plain_http_allowed => {
            Ok(Transport::Plain)
        }
        None => Err(FleetError::PlainHttpRefused(config.listen)),
    }
}

fn rustls_config(files: &TlsFiles) -> Result<RustlsConfig, FleetError> {
    let tls = |what: &'static str, path: &PathBuf, detail: String| FleetError::Tls {
        what,
        path: path.clone(),
        detail,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert_pem)
        .map_err(|e| tls("certificate", &files.cert_pem, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| tls("certificate", &files.cert_pem, e.to_string()))?;
    if certs.is_empty() {
        return Err(tls(
            "certificate",
            &files.cert_pem,
            "no certificate in the file".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key_pem)
        .map_err(|e| tls("key", &files.key_pem, e.to_string()))?;
    // The ring provider, chosen here rather than process-wide, so nothing depends on which
    // crate installed a default first.
    let mut server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| tls("certificate", &files.cert_pem, e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| tls("key", &files.key_pem, e.to_string()))?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(server)))
}

/// A running fleet server.
pub struct RunningFleet {
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Opens the configured database and starts serving; returns once listening.
pub async fn start(config: &FleetConfig) -> Result<RunningFleet, FleetError> {
    let transport = transport(config)?;
    let database = config.database.clone();
    let opened = tokio::task::spawn_blocking(move || open_database(&database))
        .await
        .map_err(|e| StorageError::Database(format!("opening the database stopped: {e}")))??;
    match opened {
        OpenedDatabase::Sqlite(storage) => {
            start_with_updates(config, transport, storage.clone(), storage).await
        }
        OpenedDatabase::Postgres(storage) => {
            start_with_updates(config, transport, storage.clone(), storage).await
        }
    }
}

/// Starts serving with `storage`, and the update service on `updates` (its bundle files in
/// the data directory's `bundles`).
pub async fn start_with_updates(
    config: &FleetConfig,
    transport: Transport,
    storage: Arc<dyn FleetStorage>,
    updates: Arc<dyn UpdateStorage>,
) -> Result<RunningFleet, FleetError> {
    spawn_receipts(config, &storage);
    let api = AppState::new(storage, matches!(transport, Transport::Tls(_)));
    let updates = UpdatesState::new(
        api.clone(),
        updates,
        config.updates.clone(),
        config.data_dir.join(BUNDLES_DIR),
        matches!(transport, Transport::Tls(_)),
    );
    let app = crate::updates::router(updates.clone())
        .merge(dashboard::router(api.clone(), Some(updates)))
        .merge(router(api, config.body_bytes_max));
    serve(config, transport, app).await
}

pub async fn start_with(
    config: &FleetConfig,
    transport: Transport,
    storage: Arc<dyn FleetStorage>,
) -> Result<RunningFleet, FleetError> {
    spawn_receipts(config, &storage);
    let api = AppState::new(storage, matches!(transport, Transport::Tls(_)));
    let app = dashboard::router(api.clone(), None).merge(router(api, config.body_bytes_max));
    serve(config, transport, app).await
}

/// The receipt sender runs beside the server when configured.
fn spawn_receipts(config: &FleetConfig, storage: &Arc<dyn FleetStorage>) {
    if let Some(receipts) = &config.receipts {
        crate::receipts::spawn_worker(Arc::clone(storage), receipts.clone());
    }
}

async fn serve(
    config: &FleetConfig,
    transport: Transport,
    app: axum::Router,
) -> Result<RunningFleet, FleetError> {
    let listen_error = |source| FleetError::Listen {
        addr: config.listen,
        source,
    };
    let listener = std::net::TcpListener::bind(config.listen).map_err(listen_error)?;
    listener.set_nonblocking(true).map_err(listen_error)?;
    let addr = listener.local_addr().map_err(listen_error)?;
    let task = match transport {
        Transport::Tls(files) => {
            let tls = rustls_config(&files)?;
            let server = axum_server::from_tcp_rustls(listener, tls);
            tokio::spawn(async move {
                server
                    .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                    .await
            })
        }
        Transport::Plain => {
            let listener = tokio::net::TcpListener::from_std(listener).map_err(listen_error)?;
            tokio::spawn(async move {
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .await
            })
        }
    };
    Ok(RunningFleet { addr, task })
}

/// Creates a fleet operator (super-admin) account.
pub fn add_operator(
    storage: &dyn FleetStorage,
    email: &str,
    password: &str,
    now: pos_core::clock::Timestamp,
) -> Result<crate::storage::Account, StorageError> {
    if password.chars().count() < 10 {
        return Err(StorageError::Invalid(
            "the password needs at least 10 characters".into(),
        ));
    }
    let password_hash = auth::hash_password(password)?;
    storage.create_account(
        NewAccount {
            email: email.trim().to_lowercase(),
            password_hash,
            role: AccountRole::SuperAdmin,
            tenant: None,
            store: None,
        },
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(listen: &str) -> FleetConfig {
        FleetConfig::new(PathBuf::from("/nonexistent"), listen.parse().unwrap())
    }

    #[test]
    fn plain_http_is_served_on_loopback_only_unless_allowed() {
        assert_eq!(
            transport(&config("127.0.0.1:8080")).unwrap(),
            Transport::Plain
        );
        assert_eq!(transport(&config("[::1]:8080")).unwrap(), Transport::Plain);
        let err = transport(&config("0.0.0.0:8080")).unwrap_err();
        assert!(err.to_string().starts_with(
            "refusing to serve plain HTTP on 0.0.0.0:8080: terminal credentials and sales"
        ));
        let allowed = FleetConfig {
            plain_http_allowed: true,
            ..config("0.0.0.0:8080")
        };
        assert_eq!(transport(&allowed).unwrap(), Transport::Plain);
    }

    #[test]
    fn the_database_is_chosen_by_its_url() {
        assert_eq!(
            Database::parse("postgres://fleet:secret@db.example:5432/fleet").unwrap(),
            Database::Postgres("postgres://fleet:secret@db.example:5432/fleet".into())
        );
        assert_eq!(
            Database::parse("postgresql://db.example/fleet").unwrap(),
            Database::Postgres("postgresql://db.example/fleet".into())
        );
        assert_eq!(
            Database::parse("sqlite:///var/lib/pos-fleet/fleet.sqlite3").unwrap(),
            Database::Sqlite(PathBuf::from("/var/lib/pos-fleet/fleet.sqlite3"))
        );
        assert_eq!(
            Database::parse("data/fleet.sqlite3").unwrap(),
            Database::Sqlite(PathBuf::from("data/fleet.sqlite3"))
        );
        let err = Database::parse("mysql://db.example/fleet").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the database URL scheme mysql:// is not known")
        );
        assert!(Database::parse("sqlite://").is_err());
        assert_eq!(
            config("127.0.0.1:8080").database,
            Database::Sqlite(PathBuf::from("/nonexistent/fleet.sqlite3"))
        );
    }

    #[test]
    fn a_database_password_is_never_shown() {
        let database = Database::parse("postgres://fleet:s3cret@db.example:5432/fleet").unwrap();
        assert_eq!(
            format!("{database:?}"),
            "PostgreSQL postgres://fleet:***@db.example:5432/fleet"
        );
        let no_password = Database::parse("postgres://fleet@db.example/fleet").unwrap();
        assert_eq!(
            no_password.describe(),
            "PostgreSQL postgres://fleet@db.example/fleet"
        );
    }

    #[test]
    fn missing_tls_files_are_named_in_the_error() {
        let files = TlsFiles {
            cert_pem: PathBuf::from("/nonexistent/cert.pem"),
            key_pem: PathBuf::from("/nonexistent/key.pem"),
        };
        let Err(err) = rustls_config(&files) else {
            panic!("missing files must fail")
        };
        assert!(
            err.to_string()
                .starts_with("cannot read the TLS certificate /nonexistent/cert.pem")
        );
    }
}
