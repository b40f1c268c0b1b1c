//! The HTTP API: `/api/v1/…` for operators and owners (session tokens), `/sync/v1/…` for
//! terminals (their own bearer credential). Every refusal is JSON in one shape
//! ([`ErrorBody`]: a code and a sentence) with a fitting status, and no refused request
//! changes anything.
//!
//! The update service ([`crate::updates`]) adds its routes beside these on the same binary:
//! the hawkBit DDI device API under `/{tenant}/controller/v1/…` (its paths begin with a tenant,
//! so they cannot clash with `/api` and `/sync`) and bundles and rollouts under `/api/v1`; the
//! web dashboard ([`crate::dashboard`]) lives under `/ui`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use pos_core::access::Features;
use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, StoreId, TenantId};
use pos_core::money::Currency;
use pos_sync::wire::{
    self, EnrolRequest, EnrolResponse, ErrorBody, ErrorCode, PROTOCOL, PullRequest, PushBatch,
    Scope, WireError,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::auth;
use crate::lockout::{Locked, LoginGuard};
use crate::storage::{
    Account, AccountRole, FleetStorage, NewAccount, PriceSchedule, RecordKind, StorageError,
    StoreRecord, TerminalRecord,
};

/// How long an operator's or owner's login lasts (API token or dashboard cookie).
pub(crate) const SESSION_MS: i64 = 12 * 60 * 60 * 1_000;
/// How long an enrolment code can be used.
const ENROLMENT_CODE_MS: i64 = 24 * 60 * 60 * 1_000;

/// A refusal: status, code and a sentence for a person.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                code,
                message: message.into(),
            },
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::MalformedRequest,
            message,
        )
    }

    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    pub(crate) fn message(&self) -> &str {
        &self.body.message
    }

    pub(crate) fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            message,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> ApiError {
        match e {
            StorageError::NotFound(m) => ApiError::not_found(m),
            StorageError::Conflict(m) => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, m)
            }
            StorageError::Invalid(m) => ApiError::bad_request(m),
            StorageError::EnrolmentCodeRejected => ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "this enrolment code is wrong, already used or expired; \
                 ask the fleet operator for a new one",
            ),
            StorageError::Batch(e) => {
                let status = match e.code() {
                    ErrorCode::Forbidden => StatusCode::FORBIDDEN,
                    ErrorCode::Conflict => StatusCode::CONFLICT,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                ApiError::new(status, e.code(), e.to_string())
            }
            StorageError::Database(m) => {
                eprintln!("pos-fleet: storage error: {m}");
                ApiError::internal(
                    "the fleet's database failed; the request changed nothing, try again",
                )
            }
        }
    }
}

impl From<WireError> for ApiError {
    fn from(e: WireError) -> ApiError {
        match e {
            WireError::IncompatibleProtocol { .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::ProtocolIncompatible,
                e.to_string(),
            ),
            WireError::BadPayload { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidBatch,
                e.to_string(),
            ),
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

/// The shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn FleetStorage>,
    /// Wrong passwords counted per account and client address, shared by every login.
    pub logins: Arc<LoginGuard>,
    /// The fleet serves HTTPS: the dashboard's session cookie is marked `Secure`.
    pub secure_cookies: bool,
}

impl AppState {
    pub fn new(storage: Arc<dyn FleetStorage>, secure_cookies: bool) -> AppState {
        AppState {
            storage,
            logins: Arc::new(LoginGuard::default()),
            secure_cookies,
        }
    }
}

/// The address the request came from (the TCP peer: behind a proxy, the proxy's), when the
/// server recorded it.
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

/// Now, for expiry times and stamps. The HTTP edge is the only place the fleet reads a clock:
/// storage takes the time as an argument.
pub fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_unix_ms(ms)
}

/// Runs a storage call on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    call: impl FnOnce(&dyn FleetStorage) -> Result<T, StorageError> + Send + 'static,
) -> Result<T, ApiError> {
    let storage = Arc::clone(&state.storage);
    tokio::task::spawn_blocking(move || call(storage.as_ref()))
        .await
        .map_err(|e| ApiError::internal(format!("the request was interrupted: {e}")))?
        .map_err(ApiError::from)
}

/// The body, or a JSON refusal when it is too large or unreadable.
pub(crate) fn body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::BodyTooLarge,
                "the request body is larger than the fleet accepts; send smaller batches",
            )
        } else {
            ApiError::bad_request(format!("the request body could not be read: {rejection}"))
        }
    })
}

pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not valid JSON for this call: {e}"
        ))
    })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

pub(crate) async fn operator(state: &AppState, headers: &HeaderMap) -> Result<Account, ApiError> {
    let unauthenticated = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "log in first: POST /api/v1/login, then send `Authorization: Bearer <token>`",
        )
    };
    let token = bearer(headers).ok_or_else(unauthenticated)?;
    let hash = auth::hash_token(token);
    let now = now();
    blocking(state, move |s| s.session_account(&hash, now))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "this session is unknown or expired; log in again",
            )
        })
}

async fn terminal(state: &AppState, headers: &HeaderMap) -> Result<TerminalRecord, ApiError> {
    let token = bearer(headers).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "no terminal credential was sent; enrol the terminal with a code from the fleet",
        )
    })?;
    let hash = auth::hash_token(token);
    let found = blocking(state, move |s| s.terminal_by_token(&hash)).await?;
    match found {
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "this terminal's credential is unknown to the fleet; enrol it with a new code",
        )),
        Some(terminal) => match terminal.revoked_at {
            Some(at) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::CredentialRevoked,
                format!(
                    "terminal {} ({}) was revoked at {}; its sales stay on it until it is \
                     enrolled again with a new code",
                    terminal.id,
                    terminal.name,
                    at.to_utc()
                ),
            )),
            None => Ok(terminal),
        },
    }
}

fn not_yours_tenant(tenant: &TenantId) -> ApiError {
    ApiError::not_found(format!("no tenant {tenant} among those you manage"))
}

fn not_yours_store(store: &StoreId) -> ApiError {
    ApiError::not_found(format!("no store {store} among those you manage"))
}

/// The tenant, when the account manages all of it (operator or the tenant's owner).
pub(crate) async fn owned_tenant(
    state: &AppState,
    account: &Account,
    tenant: &TenantId,
) -> Result<(), ApiError> {
    let allowed = match account.role {
        AccountRole::SuperAdmin => true,
        AccountRole::TenantOwner => account.tenant.as_ref() == Some(tenant),
        AccountRole::StoreManager => false,
    };
    if !allowed {
        return Err(if account.tenant.as_ref() == Some(tenant) {
            ApiError::forbidden(
                "a store manager cannot change tenant-wide records; ask the tenant owner",
            )
        } else {
            not_yours_tenant(tenant)
        });
    }
    let id = tenant.clone();
    blocking(state, move |s| s.tenant(&id))
        .await?
        .map(|_| ())
        .ok_or_else(|| not_yours_tenant(tenant))
}

/// The store, when the account manages it.
pub(crate) async fn managed_store(
    state: &AppState,
    account: &Account,
    store: &StoreId,
) -> Result<StoreRecord, ApiError> {
    let id = store.clone();
    let record = blocking(state, move |s| s.store(&id))
        .await?
        .ok_or_else(|| not_yours_store(store))?;
    let allowed = match account.role {
        AccountRole::SuperAdmin => true,
        AccountRole::TenantOwner => account.tenant.as_ref() == Some(&record.tenant),
        AccountRole::StoreManager => account.store.as_ref() == Some(&record.id),
    };
    if allowed {
        Ok(record)
    } else {
        Err(not_yours_store(store))
    }
}

pub fn router(state: AppState, body_bytes_max: usize) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({"status": "ok", "protocol": PROTOCOL})) }),
        )
        .route("/api/v1/login", post(login))
        .route("/api/v1/me", get(me))
        .route("/api/v1/tenants", post(create_tenant).get(list_tenants))
        .route("/api/v1/tenants/{tenant}/features", put(set_features))
        .route("/api/v1/tenants/{tenant}/accounts", post(create_account))
        .route(
            "/api/v1/tenants/{tenant}/stores",
            post(create_store).get(list_stores),
        )
        .route(
            "/api/v1/tenants/{tenant}/settings/{key}",
            put(set_tenant_setting),
        )
        .route(
            "/api/v1/tenants/{tenant}/products",
            post(save_tenant_product).get(list_tenant_products),
        )
        .route(
            "/api/v1/tenants/{tenant}/prices",
            post(schedule_tenant_price),
        )
        .route(
            "/api/v1/tenants/{tenant}/tax-rates/{key}",
            put(save_tax_rate),
        )
        .route("/api/v1/tenants/{tenant}/staff/{key}", put(save_staff))
        .route("/api/v1/tenants/{tenant}/roles/{key}", put(save_role))
        .route(
            "/api/v1/stores/{store}/settings/{key}",
            put(set_store_setting),
        )
        .route("/api/v1/stores/{store}/clock", put(set_store_clock))
        .route("/api/v1/stores/{store}/name", put(rename_store))
        .route("/api/v1/stores/{store}/products", post(save_store_product))
        .route("/api/v1/stores/{store}/prices", post(schedule_store_price))
        .route(
            "/api/v1/stores/{store}/enrolment-codes",
            post(create_enrolment_code),
        )
        .route("/api/v1/stores/{store}/terminals", get(list_terminals))
        .route("/api/v1/stores/{store}/sales", get(list_sales))
        .route("/api/v1/stores/{store}/stock", get(list_stock))
        .route("/api/v1/stores/{store}/anomalies", get(list_anomalies))
        .route("/api/v1/stores/{store}/receipts", get(list_receipts))
        .route("/api/v1/terminals/{terminal}/revoke", post(revoke_terminal))
        .route("/sync/v1/enrol", post(enrol))
        .route("/sync/v1/push", post(push))
        .route("/sync/v1/pull", post(pull))
        .fallback(|| async {
            ApiError::not_found("no such path on this fleet server; see docs/sync.md for the API")
        })
        .layer(DefaultBodyLimit::max(body_bytes_max))
        .with_state(state)
}

#[derive(Deserialize)]
struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct LoginResponse {
    token: String,
    account: Account,
}

/// Why a login was refused.
pub(crate) enum LoginRefusal {
    /// No such account, or the wrong password: which of the two is not said.
    Wrong,
    /// Too many wrong passwords: refused until the lock ends, at `now` when refused.
    Locked(Locked, Timestamp),
    Failed(ApiError),
}

impl From<ApiError> for LoginRefusal {
    fn from(e: ApiError) -> LoginRefusal {
        LoginRefusal::Failed(e)
    }
}

impl IntoResponse for LoginRefusal {
    fn into_response(self) -> Response {
        match self {
            LoginRefusal::Wrong => ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "wrong e-mail or password",
            )
            .into_response(),
            LoginRefusal::Locked(locked, now) => {
                let mut response = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    ErrorCode::Unauthenticated,
                    locked.message(now),
                )
                .into_response();
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(locked.seconds_left(now)),
                );
                response
            }
            LoginRefusal::Failed(e) => e.into_response(),
        }
    }
}

/// Checks an e-mail and password and opens a session lasting [`SESSION_MS`]; returns the
/// account and the session's token. Wrong passwords count towards a lock of the account and
/// of the client address ([`crate::lockout`]); while locked, even the right password is
/// refused.
pub(crate) async fn log_in(
    state: &AppState,
    email: &str,
    password: String,
    address: Option<IpAddr>,
) -> Result<(Account, String), LoginRefusal> {
    let email = email.trim().to_lowercase();
    let (guard, checked) = (Arc::clone(&state.logins), email.clone());
    let locked = blocking(state, move |s| guard.check(s, &checked, address, now())).await?;
    if let Some(locked) = locked {
        return Err(LoginRefusal::Locked(locked, now()));
    }
    let lookup = email.clone();
    let found = blocking(state, move |s| s.account_by_email(&lookup)).await?;
    let verified = match found {
        Some((account, hash)) => {
            let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
                .await
                .map_err(|e| ApiError::internal(format!("the login was interrupted: {e}")))?;
            ok.then_some(account)
        }
        None => None,
    };
    let Some(account) = verified else {
        let at = now();
        let guard = Arc::clone(&state.logins);
        let failure = blocking(state, move |s| guard.failed(s, &email, address, at)).await?;
        return Err(match failure.locked {
            Some(locked) => LoginRefusal::Locked(locked, at),
            None => LoginRefusal::Wrong,
        });
    };
    let (guard, succeeded) = (Arc::clone(&state.logins), email.clone());
    blocking(state, move |s| {
        guard.succeeded(s, &succeeded, address, now())
    })
    .await?;
    let token = auth::random_token().map_err(|e| ApiError::internal(e.to_string()))?;
    let token_hash = auth::hash_token(&token);
    let account_id = account.id.clone();
    let expires_at = now().plus_ms(SESSION_MS);
    blocking(state, move |s| {
        s.create_session(&token_hash, &account_id, expires_at)
    })
    .await?;
    Ok((account, token))
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<LoginResponse>, LoginRefusal> {
    let request: LoginRequest = parse(&body(raw)?)?;
    let (account, token) = log_in(&state, &request.email, request.password, address).await?;
    Ok(Json(LoginResponse { token, account }))
}

async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Account>, ApiError> {
    Ok(Json(operator(&state, &headers).await?))
}

#[derive(Deserialize)]
struct NewTenant {
    name: String,
}

async fn create_tenant(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<crate::storage::TenantRecord>), ApiError> {
    let account = operator(&state, &headers).await?;
    if account.role != AccountRole::SuperAdmin {
        return Err(ApiError::forbidden(
            "only the fleet operator creates tenants",
        ));
    }
    let request: NewTenant = parse(&body(raw)?)?;
    let name = request.name.trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::bad_request("the tenant needs a name"));
    }
    let now = now();
    let tenant = blocking(&state, move |s| s.create_tenant(&name, now)).await?;
    Ok((StatusCode::CREATED, Json(tenant)))
}

async fn list_tenants(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<crate::storage::TenantRecord>>, ApiError> {
    let account = operator(&state, &headers).await?;
    let tenants = blocking(&state, |s| s.tenants()).await?;
    Ok(Json(match account.role {
        AccountRole::SuperAdmin => tenants,
        _ => tenants
            .into_iter()
            .filter(|t| Some(&t.id) == account.tenant.as_ref())
            .collect(),
    }))
}

async fn set_features(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let account = operator(&state, &headers).await?;
    let tenant = TenantId::new(tenant);
    if account.role != AccountRole::SuperAdmin {
        return Err(ApiError::forbidden(
            "only the fleet operator switches a tenant's features",
        ));
    }
    owned_tenant(&state, &account, &tenant).await?;
    let features: Features = parse(&body(raw)?)?;
    let now = now();
    blocking(&state, move |s| {
        s.set_tenant_features(&tenant, &features, now)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct NewAccountRequest {
    email: String,
    password: String,
    role: AccountRole,
    store: Option<StoreId>,
}

/// Passwords shorter than this are refused.
const PASSWORD_CHARS_MIN: usize = 10;

async fn create_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    let account = operator(&state, &headers).await?;
    let tenant = TenantId::new(tenant);
    owned_tenant(&state, &account, &tenant).await?;
    let request: NewAccountRequest = parse(&body(raw)?)?;
    if request.password.chars().count() < PASSWORD_CHARS_MIN {
        return Err(ApiError::bad_request(format!(
            "the password needs at least {PASSWORD_CHARS_MIN} characters"
        )));
    }
    let store = match (request.role, &request.store) {
        (AccountRole::SuperAdmin, _) => {
            return Err(ApiError::forbidden(
                "fleet operators are created on the server's command line",
            ));
        }
        (AccountRole::TenantOwner, _) => None,
        (AccountRole::StoreManager, None) => {
            return Err(ApiError::bad_request("a store manager needs a store"));
        }
        (AccountRole::StoreManager, Some(store)) => {
            let record = managed_store(&state, &account, store).await?;
            if record.tenant != tenant {
                return Err(not_yours_store(store));
            }
            Some(record.id)
        }
    };
    let password = request.password;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let new = NewAccount {
        email: request.email.trim().to_lowercase(),
        password_hash: hash,
        role: request.role,
        tenant: Some(tenant),
        store,
    };
    let now = now();
    let created = blocking(&state, move |s| s.create_account(new, now)).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Deserialize)]
struct NewStore {
    name: String,
    currency: Currency,
    /// The store's clock, `+02:00`; UTC when neither it nor a time zone is given.
    #[serde(default)]
    utc_offset: Option<String>,
    /// The store's time zone, `Europe/Zurich`: its days follow the zone's summer time.
    #[serde(default)]
    time_zone: Option<String>,
}

/// A store's clock as sent (a time zone, else a fixed offset, else UTC): the offset to keep
/// and the zone, or a refusal saying how to write them.
fn store_clock(
    utc_offset: Option<&str>,
    time_zone: Option<&str>,
) -> Result<(time::UtcOffset, Option<String>), ApiError> {
    if let Some(zone) = time_zone.map(str::trim).filter(|z| !z.is_empty()) {
        if !crate::zone::is_known(zone) {
            return Err(ApiError::bad_request(format!(
                "{zone:?} is not a time zone this server knows; write it as in the tz \
                 database, like Europe/Zurich or America/Toronto"
            )));
        }
        let now = now();
        let offset = crate::zone::offset_at(zone, now).unwrap_or(time::UtcOffset::UTC);
        return Ok((offset, Some(zone.to_owned())));
    }
    let Some(text) = utc_offset else {
        return Ok((time::UtcOffset::UTC, None));
    };
    let offset = crate::storage::clock_text::parse(text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "{text:?} is not a UTC offset; write the store's offset from UTC like +02:00, \
             -05:00 or +05:30, or give its time zone instead (\"time_zone\": \"Europe/Zurich\"), \
             which follows summer time by itself"
        ))
    })?;
    Ok((offset, None))
}

#[derive(Deserialize)]
struct StoreClock {
    #[serde(default)]
    utc_offset: Option<String>,
    #[serde(default)]
    time_zone: Option<String>,
}

/// A store's name as typed, trimmed; an empty one is refused.
fn store_name(typed: &str) -> Result<String, ApiError> {
    let name = typed.trim();
    if name.is_empty() {
        return Err(ApiError::bad_request(
            "the store needs a name (\"Acme Mitte\")",
        ));
    }
    Ok(name.to_owned())
}

#[derive(Deserialize)]
struct StoreName {
    name: String,
}

/// Renames a store: the dashboard, the tenant's tills (transfers name it) and the store's own
/// tills (their name setting) take the new name.
async fn rename_store(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(store): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<StoreRecord>, ApiError> {
    let account = operator(&state, &headers).await?;
    let store = managed_store(&state, &account, &StoreId::new(store)).await?;
    if account.role == AccountRole::StoreManager {
        return Err(ApiError::forbidden(
            "the tenant's owner renames its stores; a store manager cannot",
        ));
    }
    let request: StoreName = parse(&body(raw)?)?;
    let name = store_name(&request.name)?;
    let now = now();
    let renamed = blocking(&state, move |s| s.rename_store(&store.id, &name, now)).await?;
    Ok(Json(renamed))
}

/// Sets a store's clock; its dashboard figures are counted again on it.
async fn set_store_clock(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(store): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<StoreRecord>, ApiError> {
    let account = operator(&state, &headers).await?;
    let store = managed_store(&state, &account, &StoreId::new(store)).await?;
    let request: StoreClock = parse(&body(raw)?)?;
    if request.utc_offset.is_none() && request.time_zone.is_none() {
        return Err(ApiError::bad_request(
            "give the store's time zone (\"time_zone\": \"Europe/Zurich\") or its offset from \
             UTC (\"utc_offset\": \"+02:00\")"
                .to_owned(),
        ));
    }
    let (offset, zone) = store_clock(request.utc_offset.as_deref(), request.time_zone.as_deref())?;
    let updated = blocking(&state, move |s| s.set_store_clock(&store.id, offset, zone)).await?;
    Ok(Json(updated))
}

async fn create_store(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<StoreRecord>), ApiError> {
    let account = operator(&state, &headers).await?;
    let tenant = TenantId::new(tenant);
    owned_tenant(&state, &account, &tenant).await?;
    let request: NewStore = parse(&body(raw)?)?;
    let name = store_name(&request.name)?;
    let (offset, zone) = store_clock(request.utc_offset.as_deref(), request.time_zone.as_deref())?;
    let now = now();
    let store = blocking(&state, move |s| {
        s.create_store(&tenant, &name, request.currency, offset, zone, now)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(store)))
}

async fn list_stores(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<StoreRecord>>, ApiError> {
    let account = operator(&state, &headers).await?;
    let tenant = TenantId::new(tenant);
    let visible = match account.role {
        AccountRole::SuperAdmin => true,
        _ => account.tenant.as_ref() == Some(&tenant),
    };
    if !visible {
        return Err(not_yours_tenant(&tenant));
    }
    let stores = blocking(&state, move |s| s.stores(&tenant)).await?;
    Ok(Json(match (&account.role, &account.store) {
        (AccountRole::StoreManager, Some(own)) => {
            stores.into_iter().filter(|s| &s.id == own).collect()
        }
        _ => stores,
    }))
}

async fn set_tenant_setting(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((tenant, key)): Path<(String, String)>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let account = operator(&state, &headers).await?;
    let tenant = TenantId::new(tenant);
    owned_tenant(&state, &account, &tenant).await?;
    let value: serde_json::Value = parse(&body(raw)?)?;
    let now = now();
    blocking(&state, move |s| {
        s.set_setting(&tenant, &Scope::Tenant, &key, &value, now)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_store_setting(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((store, key)): Path<(String, String)>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let account = operator(&state, &headers).await?;
    let store = managed_store(&state, &account, &StoreId::new(store)).await?;
    let value: serde_json::Value = parse(&body(raw)?)?;
    let now = now();
    blocking(&state, move |s| {
        s.set_setting(
            &store.tenant,
            &Scope::Store(store.id.clone()),
            &key,
            &value,
            now,
        )
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn checked_product(product: Product, currency: Currency) -> Result<Product, ApiError> {
    product
        .validate(currency)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(product)
}

async fn save_tenant_product(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<Product>, ApiError> {
    let account = operator(&state, &headers).await?;
    let tenant = TenantId::new(tenant);
    owned_tenant(&state, &account, &tenant).await?;
    let product: Product = parse(&body(raw)?)?;
    // Tenant-wide products carry their own currency; a store checks it when it sells.
    let currency = product.price.currency();
    let product = checked_product(product, currency)?;
    let now = now();
    let saved = blocking(&state, move |s| {
        s.save_product(&tenant, &Scope::Tenant, &product, now)
    })
    .await?;
    Ok(Json(saved))
}

async fn save_store_product(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(store): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<Product>, ApiError> {
    let account = operator(&state, &headers).await?;
    let store = managed_store(&state, &account, &StoreId::new(store)).await?;
    let product = checked_product(parse(&body(raw)?)?, store.currency)?;
    let now = now();
    let saved = blocking(&state, move |s| {
        s.save_product(
            &store.tenant,
            &Scope::Store(store.id.clone()),
            &product,
            now,
        )
    })
    .await?;
    Ok(Json(saved))
}

async fn list_tenant_products(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<Product>>, ApiError> {
    let account = operator(&state, &headers).await?;
    let tenant = TenantId::new(tenant);
    if account.role != AccountRole::SuperAdmin && account.tenant.as_ref() != Some(&tenant) {
        return Err(not_yours_tenant(&tenant));
    }
    Ok(Json(
        blocking(&state, move |s| s.products(&tenant, &Scope::Tenant)).await?,
    ))
}

#[derive(Serialize)]
struct Scheduled {
    schedule_id: String,
}

fn checked_schedule(schedule: &PriceSchedule) -> Result<(), ApiError> {
    if schedule.price.is_negative() {
        return Err(ApiError::bad_request(format!(
            "a price cannot be negative ({})",
            schedule.price
        )));
    }
    if !schedule.price.is_settled() {
        return Err(ApiError::bad_request(format!(
            "the price {} has more decimals than the currency allows",
            schedule.price
        )));
    }
    Ok(())
}

async fn schedule_tenant_price(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Scheduled>), ApiError> {
    let account = operator(&state, &headers).await?;
    let tenant = TenantId::new(tenant);
    owned_tenant(&state, &account, &tenant).await?;
    let schedule: PriceSchedule = parse(&body(raw)?)?;
    checked_schedule(&schedule)?;
    let now = now();
    let schedule_id = blocking(&state, move |s| {
        s.schedule_price(&tenant, &Scope::Tenant, &schedule, now)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Scheduled { schedule_id })))
}

async fn schedule_store_price(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(store): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Scheduled>), ApiError> {
    let account = operator(&state, &headers).await?;
    let store = managed_store(&state, &account, &StoreId::new(store)).await?;
    let schedule: PriceSchedule = parse(&body(raw)?)?;
    checked_schedule(&schedule)?;
    if schedule.price.currency() != store.currency {
        return Err(ApiError::bad_request(format!(
            "the price is in {} but the store sells in {}",
            schedule.price.currency(),
            store.currency
        )));
    }
    let now = now();
    let schedule_id = blocking(&state, move |s| {
        s.schedule_price(
            &store.tenant,
            &Scope::Store(store.id.clone()),
            &schedule,
            now,
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Scheduled { schedule_id })))
}

async fn save_record(
    state: AppState,
    headers: HeaderMap,
    tenant: String,
    key: String,
    kind: RecordKind,
    raw: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let account = operator(&state, &headers).await?;
    let tenant = TenantId::new(tenant);
    owned_tenant(&state, &account, &tenant).await?;
    let fields: serde_json::Map<String, serde_json::Value> = parse(&body(raw)?)?;
    let now = now();
    blocking(&state, move |s| {
        s.save_record(&tenant, &Scope::Tenant, kind, &key, &fields, now)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn save_tax_rate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((tenant, key)): Path<(String, String)>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    save_record(state, headers, tenant, key, RecordKind::TaxRate, raw).await
}

async fn save_staff(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((tenant, key)): Path<(String, String)>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    save_record(state, headers, tenant, key, RecordKind::Staff, raw).await
}

async fn save_role(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((tenant, key)): Path<(String, String)>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    save_record(state, headers, tenant, key, RecordKind::Role, raw).await
}

#[derive(Serialize)]
struct EnrolmentCode {
    code: String,
    store: StoreId,
    expires_at: Timestamp,
}

async fn create_enrolment_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(store): Path<String>,
) -> Result<(StatusCode, Json<EnrolmentCode>), ApiError> {
    let account = operator(&state, &headers).await?;
    let store = managed_store(&state, &account, &StoreId::new(store)).await?;
    let code = auth::enrolment_code().map_err(|e| ApiError::internal(e.to_string()))?;
    let code_hash = auth::hash_token(&auth::normalise_code(&code));
    let expires_at = now().plus_ms(ENROLMENT_CODE_MS);
    let id = store.id.clone();
    blocking(&state, move |s| {
        s.create_enrolment_code(&id, &code_hash, expires_at)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(EnrolmentCode {
            code,
            store: store.id,
            expires_at,
        }),
    ))
}

async fn list_terminals(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(store): Path<String>,
) -> Result<Json<Vec<TerminalRecord>>, ApiError> {
    let account = operator(&state, &headers).await?;
    let store = managed_store(&state, &account, &StoreId::new(store)).await?;
    Ok(Json(
        blocking(&state, move |s| s.terminals(&store.id)).await?,
    ))
}

async fn revoke_terminal(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(terminal): Path<String>,
) -> Result<StatusCode, ApiError> {
    let account = operator(&state, &headers).await?;
    let id = DeviceId::new(terminal);
    let lookup = id.clone();
    let record = blocking(&state, move |s| s.terminal(&lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no terminal {id} among those you manage")))?;
    managed_store(&state, &account, &record.store)
        .await
        .map_err(|_| ApiError::not_found(format!("no terminal {id} among those you manage")))?;
    let now = now();
    blocking(&state, move |s| s.revoke_terminal(&record.id, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_sales(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(store): Path<String>,
) -> Result<Json<Vec<crate::storage::SaleRow>>, ApiError> {
    let account = operator(&state, &headers).await?;
    let store = managed_store(&state, &account, &StoreId::new(store)).await?;
    Ok(Json(blocking(&state, move |s| s.sales(&store.id)).await?))
}

async fn list_stock(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(store): Path<String>,
) -> Result<Json<Vec<crate::storage::StockRow>>, ApiError> {
    let account = operator(&state, &headers).await?;
    let store = managed_store(&state, &account, &StoreId::new(store)).await?;
    Ok(Json(blocking(&state, move |s| s.stock(&store.id)).await?))
}

async fn list_anomalies(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(store): Path<String>,
) -> Result<Json<Vec<crate::storage::AnomalyRow>>, ApiError> {
    let account = operator(&state, &headers).await?;
    let store = managed_store(&state, &account, &StoreId::new(store)).await?;
    Ok(Json(
        blocking(&state, move |s| s.anomalies(&store.id)).await?,
    ))
}

/// How sending each receipt asked for at the store's tills went, failures included.
async fn list_receipts(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(store): Path<String>,
) -> Result<Json<Vec<crate::storage::ReceiptDelivery>>, ApiError> {
    let account = operator(&state, &headers).await?;
    let store = managed_store(&state, &account, &StoreId::new(store)).await?;
    Ok(Json(
        blocking(&state, move |s| s.receipt_deliveries(&store.id)).await?,
    ))
}

/// The longest terminal name kept.
const TERMINAL_NAME_CHARS_MAX: usize = 64;

async fn enrol(
    State(state): State<AppState>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<EnrolResponse>), ApiError> {
    let request: EnrolRequest = wire::decode(&body(raw)?)?;
    let name: String = request
        .name
        .trim()
        .chars()
        .take(TERMINAL_NAME_CHARS_MAX)
        .collect();
    if name.is_empty() {
        return Err(ApiError::bad_request(
            "the terminal needs a name (\"Till 1\")",
        ));
    }
    let code_hash = auth::hash_token(&auth::normalise_code(&request.code));
    let token = auth::random_token().map_err(|e| ApiError::internal(e.to_string()))?;
    let token_hash = auth::hash_token(&token);
    let key_hash = request
        .enrolment_key
        .as_deref()
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .map(auth::hash_token);
    let now = now();
    let (terminal, store) = blocking(&state, move |s| {
        let terminal =
            s.redeem_enrolment_code(&code_hash, &name, &token_hash, key_hash.as_deref(), now)?;
        let store = s.store(&terminal.store)?;
        Ok((terminal, store))
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(EnrolResponse {
            protocol: PROTOCOL,
            device: terminal.id,
            tenant: terminal.tenant,
            store: terminal.store,
            store_name: store.map(|store| store.name),
            token,
        }),
    ))
}

/// Notes for the dashboard when a terminal was last seen. The push or pull it follows is
/// already done: a failure here is logged, not turned into a refusal the terminal would retry.
fn note_contact(
    storage: &dyn FleetStorage,
    terminal: &TerminalRecord,
    at: Timestamp,
    pulled_to: Option<u64>,
) {
    if let Err(e) = storage.note_terminal_contact(&terminal.id, at, pulled_to) {
        eprintln!(
            "pos-fleet: could not note that terminal {} was seen: {e}",
            terminal.id
        );
    }
}

async fn push(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<pos_sync::wire::PushAck>, ApiError> {
    let terminal = terminal(&state, &headers).await?;
    let batch: PushBatch = wire::decode(&body(raw)?)?;
    let now = now();
    Ok(Json(
        blocking(&state, move |s| {
            let ack = s.push(&terminal, &batch, now)?;
            note_contact(s, &terminal, now, None);
            Ok(ack)
        })
        .await?,
    ))
}

async fn pull(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<pos_sync::wire::PullResponse>, ApiError> {
    let terminal = terminal(&state, &headers).await?;
    let request: PullRequest = wire::decode(&body(raw)?)?;
    if request.device != terminal.id {
        return Err(ApiError::forbidden(format!(
            "this terminal is {} but asked for {}'s changes",
            terminal.id, request.device
        )));
    }
    Ok(Json(
        blocking(&state, move |s| {
            let changes = s.pull(&terminal, request.cursor, request.limit)?;
            note_contact(s, &terminal, now(), Some(changes.next_cursor));
            Ok(changes)
        })
        .await?,
    ))
}
