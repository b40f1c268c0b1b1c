//! Configuration and start-up: where the data lives, where to listen, TLS or (only on
//! loopback, or when explicitly allowed) plain HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::api::{AppState, router};
use crate::auth;
use crate::sqlite::SqliteStorage;
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub tls: Option<TlsFiles>,
    /// Serve plain HTTP on a non-loopback address (behind a TLS-terminating proxy).
    pub plain_http_allowed: bool,
    pub body_bytes_max: usize,
    /// The update service: the keyring and compatible string bundles are checked against.
    pub updates: Option<UpdatesConfig>,
}

impl FleetConfig {
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> FleetConfig {
        FleetConfig {
            data_dir,
            listen,
            tls: None,
            plain_http_allowed: false,
            body_bytes_max: BODY_BYTES_MAX_DEFAULT,
            updates: None,
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

/// Opens the storage in the data directory and starts serving; returns once listening.
pub async fn start(config: &FleetConfig) -> Result<RunningFleet, FleetError> {
    let transport = transport(config)?;
    let storage = Arc::new(SqliteStorage::open(&config.data_dir)?);
    start_with_updates(config, transport, storage.clone(), storage).await
}

/// Starts serving with `storage`, and the update service on `updates` (its bundle files in
/// the data directory's `bundles`).
pub async fn start_with_updates(
    config: &FleetConfig,
    transport: Transport,
    storage: Arc<dyn FleetStorage>,
    updates: Arc<dyn UpdateStorage>,
) -> Result<RunningFleet, FleetError> {
    let api = AppState { storage };
    let update_routes = crate::updates::router(UpdatesState::new(
        api.clone(),
        updates,
        config.updates.clone(),
        config.data_dir.join(BUNDLES_DIR),
        matches!(transport, Transport::Tls(_)),
    ));
    let app = update_routes.merge(router(api, config.body_bytes_max));
    serve(config, transport, app).await
}

pub async fn start_with(
    config: &FleetConfig,
    transport: Transport,
    storage: Arc<dyn FleetStorage>,
) -> Result<RunningFleet, FleetError> {
    serve(
        config,
        transport,
        router(AppState { storage }, config.body_bytes_max),
    )
    .await
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
            tokio::spawn(async move { server.serve(app.into_make_service()).await })
        }
        Transport::Plain => {
            let listener = tokio::net::TcpListener::from_std(listener).map_err(listen_error)?;
            tokio::spawn(async move { axum::serve(listener, app).await })
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
