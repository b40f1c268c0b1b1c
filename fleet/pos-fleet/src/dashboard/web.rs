//! The dashboard's HTTP side: login with a session cookie, the pages, the catalogue forms, the
//! JSON overview and the exports. Every handler finds the account from its cookie first and
//! then the tenant and stores that account may see; another tenant's id is answered as if it
//! did not exist.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::id::{Barcode, CategoryId, ProductId, Sku, StoreId, TaxCategoryId, TenantId};
use pos_core::money::{Currency, Money};
use pos_core::quantity::{Quantity, Unit};
use pos_sync::wire::Scope;
use serde::{Deserialize, Serialize};
use time::UtcOffset;

use super::data::{Grouping, Span, minor_units};
use super::figures::{self, BranchRow, Period};
use super::html::{self, Tab, escape, money, url_part};
use super::{Dashboard, charts, export};
use crate::api::{self, ApiError, ClientAddr, LoginRefusal, blocking, now};
use crate::auth;
use crate::storage::{
    Account, AccountRole, PriceSchedule, StorageError, StoreRecord, TenantRecord, clock_text,
};

/// The session cookie's name.
pub const COOKIE: &str = "pos_session";
/// How long a dashboard login lasts, in seconds: as long as an API session.
const SESSION_SECONDS: i64 = api::SESSION_MS / 1_000;
/// Products shown in the top list.
const TOP_PRODUCTS: usize = 10;

/// Why a request is refused, and how to say it: a page, JSON, or the login page.
pub struct Refusal {
    status: StatusCode,
    message: String,
    json: bool,
}

impl Refusal {
    fn page(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
            json: false,
        }
    }

    fn in_json(mut self) -> Refusal {
        self.json = true;
        self
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Refusal {
        Refusal::page(e.status(), e.message())
    }
}

impl From<StorageError> for Refusal {
    fn from(e: StorageError) -> Refusal {
        ApiError::from(e).into()
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        if self.status == StatusCode::UNAUTHORIZED && !self.json {
            return Redirect::to("/ui/login").into_response();
        }
        if self.json {
            let code = match self.status {
                StatusCode::UNAUTHORIZED => pos_sync::wire::ErrorCode::Unauthenticated,
                StatusCode::FORBIDDEN => pos_sync::wire::ErrorCode::Forbidden,
                StatusCode::NOT_FOUND => pos_sync::wire::ErrorCode::NotFound,
                StatusCode::BAD_REQUEST => pos_sync::wire::ErrorCode::MalformedRequest,
                _ => pos_sync::wire::ErrorCode::Internal,
            };
            return ApiError::new(self.status, code, self.message).into_response();
        }
        (
            self.status,
            Html(html::refusal(self.status.as_u16(), &self.message)),
        )
            .into_response()
    }
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, token)| token.to_owned())
}

/// The logged-in account, from the session cookie (or an API bearer token, for scripts).
async fn viewer(dash: &Dashboard, headers: &HeaderMap) -> Result<Account, Refusal> {
    let Some(token) = session_token(headers) else {
        return Ok(api::operator(&dash.app, headers).await?);
    };
    let hash = auth::hash_token(&token);
    let now = now();
    blocking(&dash.app, move |s| s.session_account(&hash, now))
        .await?
        .ok_or_else(|| {
            Refusal::page(
                StatusCode::UNAUTHORIZED,
                "this session is unknown or expired; log in again",
            )
        })
}

/// What a page may show: the tenant, and the stores of it the account may see.
pub struct Visible {
    pub account: Account,
    pub tenant: TenantRecord,
    pub stores: Vec<StoreRecord>,
    /// The tenant's pages, for the navigation.
    tabs: &'static [Tab],
}

impl Visible {
    pub(super) fn store_ids(&self) -> Vec<StoreId> {
        self.stores.iter().map(|s| s.id.clone()).collect()
    }

    pub(super) fn may_edit_tenant(&self) -> bool {
        self.account.role != AccountRole::StoreManager
    }

    /// One of the tenant's pages, `here` in the navigation.
    pub(super) fn page(&self, title: &str, here: Tab, body: &str) -> String {
        html::page(
            title,
            &self.account,
            Some((&self.tenant, self.tabs)),
            here,
            body,
        )
    }
}

fn no_such_tenant(tenant: &TenantId) -> Refusal {
    Refusal::page(
        StatusCode::NOT_FOUND,
        format!("No tenant {tenant} among those you manage."),
    )
}

/// The tenant and stores `account` may see, or 404 as if the tenant did not exist.
async fn visible(dash: &Dashboard, account: Account, tenant: &str) -> Result<Visible, Refusal> {
    let tenant = TenantId::new(tenant);
    let allowed = match account.role {
        AccountRole::SuperAdmin => true,
        AccountRole::TenantOwner | AccountRole::StoreManager => {
            account.tenant.as_ref() == Some(&tenant)
        }
    };
    if !allowed {
        return Err(no_such_tenant(&tenant));
    }
    let id = tenant.clone();
    let (record, stores) =
        blocking(&dash.app, move |s| Ok((s.tenant(&id)?, s.stores(&id)?))).await?;
    let record = record.ok_or_else(|| no_such_tenant(&tenant))?;
    let stores = match (&account.role, &account.store) {
        (AccountRole::StoreManager, Some(own)) => {
            stores.into_iter().filter(|s| &s.id == own).collect()
        }
        (AccountRole::StoreManager, None) => Vec::new(),
        _ => stores,
    };
    Ok(Visible {
        account,
        tenant: record,
        stores,
        tabs: dash.tabs,
    })
}

pub(super) async fn visible_for(
    dash: &Dashboard,
    headers: &HeaderMap,
    tenant: &str,
) -> Result<Visible, Refusal> {
    let account = viewer(dash, headers).await?;
    visible(dash, account, tenant).await
}

// ---------------------------------------------------------------------------------------------
// Login and logout

pub async fn home(State(dash): State<Dashboard>, headers: HeaderMap) -> Response {
    match viewer(&dash, &headers).await {
        Ok(account) => match (&account.role, &account.tenant) {
            (AccountRole::SuperAdmin, _) | (_, None) => Redirect::to("/ui/tenants").into_response(),
            (_, Some(tenant)) => {
                Redirect::to(&format!("/ui/t/{}", url_part(tenant.as_str()))).into_response()
            }
        },
        Err(refusal) => refusal.into_response(),
    }
}

pub async fn login_page() -> Html<String> {
    Html(html::login(None, ""))
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

/// Whether the session cookie is marked `Secure`: the fleet serves HTTPS itself, or a
/// TLS-terminating proxy in front says the browser came over HTTPS. (A client that claims so
/// falsely only gets a cookie its browser will not send back over plain HTTP.)
fn secure_cookie(dash: &Dashboard, headers: &HeaderMap) -> bool {
    dash.app.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

pub async fn login(
    State(dash): State<Dashboard>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let email = form.email.trim().to_lowercase();
    let token = match api::log_in(&dash.app, &email, form.password, address).await {
        Ok((_, token)) => token,
        Err(LoginRefusal::Wrong) => {
            return (
                StatusCode::UNAUTHORIZED,
                Html(html::login(Some("Wrong e-mail or password."), &email)),
            )
                .into_response();
        }
        Err(LoginRefusal::Locked(locked, now)) => {
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                Html(html::login(Some(&locked.message(now)), &email)),
            )
                .into_response();
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(locked.seconds_left(now)),
            );
            return response;
        }
        Err(LoginRefusal::Failed(e)) => return Refusal::from(e).into_response(),
    };
    let cookie = format!(
        "{COOKIE}={token}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}{}",
        if secure_cookie(&dash, &headers) {
            "; Secure"
        } else {
            ""
        }
    );
    let mut response = Redirect::to("/ui").into_response();
    match HeaderValue::from_str(&cookie) {
        Ok(value) => {
            response.headers_mut().insert(header::SET_COOKIE, value);
            response
        }
        Err(e) => Refusal::page(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

pub async fn logout(State(dash): State<Dashboard>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        let hash = auth::hash_token(&token);
        if let Err(e) = blocking(&dash.app, move |s| s.end_session(&hash)).await {
            return Refusal::from(e).into_response();
        }
    }
    let mut response = Redirect::to("/ui/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(if secure_cookie(&dash, &headers) {
            "pos_session=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0; Secure"
        } else {
            "pos_session=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0"
        }),
    );
    response
}

pub async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        super::STYLE,
    )
        .into_response()
}

/// The operator's list of tenants.
pub async fn tenants(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
) -> Result<Html<String>, Refusal> {
    let account = viewer(&dash, &headers).await?;
    let list = match (&account.role, &account.tenant) {
        (AccountRole::SuperAdmin, _) => blocking(&dash.app, |s| s.tenants()).await?,
        (_, Some(own)) => {
            let own = own.clone();
            blocking(&dash.app, move |s| s.tenant(&own))
                .await?
                .into_iter()
                .collect()
        }
        (_, None) => Vec::new(),
    };
    let mut rows = String::new();
    for tenant in &list {
        rows.push_str(&format!(
            r#"<tr><td><a href="/ui/t/{}">{}</a></td><td class="muted">{}</td></tr>"#,
            url_part(tenant.id.as_str()),
            escape(&tenant.name),
            escape(tenant.id.as_str())
        ));
    }
    let body = format!(
        r#"<section class="card"><table><thead><tr><th>Tenant</th><th>Id</th></tr></thead><tbody>{rows}</tbody></table></section>"#
    );
    Ok(Html(html::page(
        "Tenants",
        &account,
        None,
        Tab::Tenants,
        &body,
    )))
}

// ---------------------------------------------------------------------------------------------
// Figures

#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
    currency: Option<String>,
    saved: Option<String>,
}

/// The period a page shows: the one asked for, or the last seven days up to the latest of the
/// stores' todays.
fn period(query: &PeriodQuery, visible: &Visible, now: Timestamp) -> Result<Period, Refusal> {
    let bad = |e: figures::PeriodError| Refusal::page(StatusCode::BAD_REQUEST, e.to_string());
    match (&query.from, &query.to) {
        (Some(from), Some(to)) if !from.is_empty() && !to.is_empty() => Period::new(
            figures::parse_date(from).map_err(bad)?,
            figures::parse_date(to).map_err(bad)?,
        )
        .map_err(bad),
        _ => Ok(Period::last_days(
            figures::latest_date(now, &visible.stores),
            7,
        )),
    }
}

/// The currency the charts add up: the one asked for if a visible store sells in it, else the
/// one most stores use.
fn chart_currency(visible: &Visible, query: &PeriodQuery) -> Option<Currency> {
    query
        .currency
        .as_deref()
        .and_then(|code| {
            visible
                .stores
                .iter()
                .map(|s| s.currency)
                .find(|c| c.code() == code)
        })
        .or_else(|| figures::main_currency(&visible.stores))
}

fn currencies(visible: &Visible) -> Vec<String> {
    let mut codes: Vec<String> = visible
        .stores
        .iter()
        .map(|s| s.currency.code().to_owned())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

/// The branch overview's figures.
#[derive(Serialize)]
pub struct OverviewFigures {
    pub period: String,
    pub branches: Vec<BranchRow>,
    pub trend: Vec<figures::TrendDay>,
}

async fn overview_figures(
    dash: &Dashboard,
    visible: &Visible,
    period: Period,
    currency: Option<Currency>,
) -> Result<OverviewFigures, Refusal> {
    let stores = visible.store_ids();
    // The stores' todays are one or two dates, after the earliest store's yesterday.
    let now = now();
    let latest = figures::latest_date(now, &visible.stores);
    let todays = Period::last_days(latest, 2).span();
    let (span, previous) = (period.span(), period.previous().span());
    let (today, before, daily) = blocking(&dash.app, move |s| {
        Ok((
            s.dashboard_sales(&stores, todays, Grouping::Day)?,
            s.dashboard_sales(&stores, previous, Grouping::Whole)?,
            s.dashboard_sales(&stores, span, Grouping::Day)?,
        ))
    })
    .await?;
    let today = figures::todays(now, &visible.stores, &today);
    // The period's totals are its days added up: one pass over the period, not two.
    let during = figures::whole(&daily);
    Ok(OverviewFigures {
        period: period.describe(),
        branches: figures::overview(&visible.stores, &today, &during, &before),
        trend: currency.map_or_else(Vec::new, |c| {
            figures::trend(&period, &visible.stores, c, &daily)
        }),
    })
}

pub(super) fn tenant_path(visible: &Visible) -> String {
    format!("/ui/t/{}", url_part(visible.tenant.id.as_str()))
}

fn period_query(period: &Period) -> String {
    format!("from={}&to={}", period.from, period.to)
}

pub async fn overview(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Html<String>, Refusal> {
    let visible = visible_for(&dash, &headers, &tenant).await?;
    let period = period(&query, &visible, now())?;
    let currency = chart_currency(&visible, &query);
    let figures = overview_figures(&dash, &visible, period, currency).await?;
    let base = tenant_path(&visible);
    let mut body = html::period_form(
        &base,
        &period,
        &currencies(&visible),
        &currency.map(|c| c.code().to_owned()).unwrap_or_default(),
    );
    if let Some(currency) = currency {
        let in_currency = figures.branches.iter().filter(|b| b.currency == currency);
        let today: i64 = in_currency
            .clone()
            .map(|b| minor_units(b.today.total))
            .sum();
        let during: i64 = in_currency
            .clone()
            .map(|b| minor_units(b.period.total))
            .sum();
        let sales: u64 = in_currency.map(|b| b.period.sales).sum();
        body.push_str(&format!(
            r#"<div class="kpis"><div class="kpi"><div class="label">Today</div><div class="value" id="kpi-today">{}</div></div>
<div class="kpi"><div class="label">Period</div><div class="value" id="kpi-period">{}</div></div>
<div class="kpi"><div class="label">Sales in period</div><div class="value" id="kpi-sales">{sales}</div></div>
<div class="kpi"><div class="label">Branches</div><div class="value">{}</div></div></div>"#,
            money(&Money::from_minor(today, currency)),
            money(&Money::from_minor(during, currency)),
            visible.stores.len()
        ));
    }
    let mut rows = String::new();
    for branch in &figures.branches {
        rows.push_str(&format!(
            r#"<tr data-store="{}"><td>{}</td><td class="num">{}</td><td class="num today">{}</td><td class="num">{}</td><td class="num period">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            escape(branch.store.as_str()),
            escape(&branch.name),
            branch.today.sales,
            money(&branch.today.total),
            branch.period.sales,
            money(&branch.period.total),
            money(&branch.previous.total),
            html::change(branch.change_percent),
            html::percent(branch.share_percent),
            branch.average_sale.as_ref().map_or_else(|| "–".to_owned(), money),
        ));
    }
    body.push_str(&format!(
        r#"<section class="card"><h2>Branches compared</h2><table id="branches"><thead><tr><th>Store</th><th class="num">Sales today</th><th class="num">Today</th><th class="num">Sales</th><th class="num">Period</th><th class="num">Period before</th><th class="num">Change</th><th class="num">Share</th><th class="num">Average sale</th></tr></thead><tbody>{rows}</tbody></table></section>"#
    ));
    if let Some(currency) = currency {
        let labels: Vec<String> = figures
            .trend
            .iter()
            .map(|d| format!("{:02}-{:02}", u8::from(d.date.month()), d.date.day()))
            .collect();
        let values: Vec<i64> = figures.trend.iter().map(|d| minor_units(d.total)).collect();
        let shown: Vec<String> = figures
            .trend
            .iter()
            .map(|d| format!("{} ({} sales)", money(&d.total), d.sales))
            .collect();
        body.push_str(&format!(
            r#"<section class="card"><h2>Sales trend ({})</h2>{}</section>"#,
            currency.code(),
            charts::bars("Takings per day", &labels, &values, &shown)
        ));
    }
    let query = period_query(&period);
    body.push_str(&format!(
        r#"<section class="card exports"><h2>Exports</h2>{}</section>"#,
        export::links(&base, &query)
    ));
    Ok(Html(visible.page("Branches", Tab::Overview, &body)))
}

pub async fn overview_json(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<axum::Json<OverviewFigures>, Refusal> {
    let visible = visible_for(&dash, &headers, &tenant)
        .await
        .map_err(Refusal::in_json)?;
    let period = period(&query, &visible, now()).map_err(Refusal::in_json)?;
    let currency = chart_currency(&visible, &query);
    Ok(axum::Json(
        overview_figures(&dash, &visible, period, currency)
            .await
            .map_err(Refusal::in_json)?,
    ))
}

pub async fn sales(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Html<String>, Refusal> {
    let visible = visible_for(&dash, &headers, &tenant).await?;
    let period = period(&query, &visible, now())?;
    let currency = chart_currency(&visible, &query);
    let stores = visible.store_ids();
    let span = period.span();
    let (hours, tenders, products) = blocking(&dash.app, move |s| {
        Ok((
            s.dashboard_sales(&stores, span, Grouping::HourOfWeek)?,
            s.dashboard_tenders(&stores, span)?,
            s.dashboard_products(&stores, span)?,
        ))
    })
    .await?;
    let base = tenant_path(&visible);
    let mut body = html::period_form(
        &format!("{base}/sales"),
        &period,
        &currencies(&visible),
        &currency.map(|c| c.code().to_owned()).unwrap_or_default(),
    );
    body.push_str(&format!(
        r#"<section class="card"><h2>Sales by hour of the week</h2>{}<p class="muted">Number of sales, all branches; hours on each store's own clock ({}).</p></section>"#,
        charts::heatmap("Sales by weekday and hour", &figures::heatmap(&hours)),
        escape(&period.describe())
    ));
    if let Some(currency) = currency {
        let mix = figures::payment_mix(&visible.stores, currency, &tenders);
        let mix_rows: Vec<(String, i64, String)> = mix
            .iter()
            .map(|t| {
                (
                    t.tender.replace('_', " "),
                    minor_units(t.amount),
                    format!("{} · {}", money(&t.amount), html::percent(t.share_percent)),
                )
            })
            .collect();
        let top = figures::top_products(&visible.stores, currency, &products, TOP_PRODUCTS);
        let top_rows: Vec<(String, i64, String)> = top
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    minor_units(p.amount),
                    format!("{} · {} sold", money(&p.amount), p.quantity),
                )
            })
            .collect();
        body.push_str(&format!(
            r#"<div class="grid2"><section class="card" id="payment-mix"><h2>Payment mix</h2>{}</section><section class="card" id="top-products"><h2>Top products</h2>{}</section></div>"#,
            charts::shares("Payment mix", &mix_rows),
            charts::shares("Top products", &top_rows),
        ));
    }
    body.push_str(
        r#"<p class="muted">Payments and products are counted by each store's own days.</p>"#,
    );
    Ok(Html(visible.page("Sales", Tab::Sales, &body)))
}

pub async fn stock(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
) -> Result<Html<String>, Refusal> {
    let visible = visible_for(&dash, &headers, &tenant).await?;
    let stores = visible.store_ids();
    let tenant_id = visible.tenant.id.clone();
    let (levels, catalogue) = blocking(&dash.app, move |s| {
        Ok((
            s.dashboard_stock(&stores)?,
            s.products(&tenant_id, &Scope::Tenant)?,
        ))
    })
    .await?;
    let (rows, transfers) = figures::stock(&visible.stores, &catalogue, &levels);
    let mut head = String::from("<th>Product</th><th class=\"num\">Low at</th>");
    for store in &visible.stores {
        head.push_str(&format!(r#"<th class="num">{}</th>"#, escape(&store.name)));
    }
    let mut body_rows = String::new();
    for row in &rows {
        let mut cells = String::new();
        for (store, level) in visible.stores.iter().zip(&row.levels) {
            let low = row.low_in.contains(&store.id);
            cells.push_str(&format!(
                r#"<td class="num{}">{level}</td>"#,
                if low { " low" } else { "" }
            ));
        }
        body_rows.push_str(&format!(
            r#"<tr><td>{}</td><td class="num">{}</td>{cells}</tr>"#,
            escape(&row.name),
            row.threshold
                .map_or_else(|| "–".to_owned(), |t| t.to_string())
        ));
    }
    let name_of = |id: &StoreId| {
        visible
            .stores
            .iter()
            .find(|s| &s.id == id)
            .map_or_else(|| id.to_string(), |s| s.name.clone())
    };
    let mut suggestions = String::new();
    for transfer in &transfers {
        suggestions.push_str(&format!(
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&transfer.name),
            transfer.quantity,
            escape(&name_of(&transfer.from)),
            escape(&name_of(&transfer.to))
        ));
    }
    if transfers.is_empty() {
        suggestions.push_str(r#"<tr><td colspan="4" class="muted">No store is low on a product another store has to spare.</td></tr>"#);
    }
    let body = format!(
        r#"<section class="card"><h2>Transfer suggestions</h2><table id="transfers"><thead><tr><th>Product</th><th class="num">Quantity</th><th>From</th><th>To</th></tr></thead><tbody>{suggestions}</tbody></table></section>
<section class="card"><h2>Stock across stores</h2><p class="muted">Each level is the sum of every movement the store's terminals recorded; red is at or below the product's low-stock threshold.</p><table id="stock"><thead><tr>{head}</tr></thead><tbody>{body_rows}</tbody></table></section>"#
    );
    Ok(Html(visible.page("Stock", Tab::Stock, &body)))
}

/// A time on a store's clock, with the clock named: `2026-04-01 01:30 (UTC+02:00)`.
pub(super) fn when(at: Option<Timestamp>, clock: UtcOffset) -> String {
    at.map_or_else(
        || "never".to_owned(),
        |t| {
            let local = t.to_utc().to_offset(clock);
            format!(
                "{} {:02}:{:02} ({})",
                local.date(),
                local.hour(),
                local.minute(),
                clock_name(clock)
            )
        },
    )
}

/// The clock of a store among those visible; UTC for one the account cannot see.
pub(super) fn clock_of(visible: &Visible, store: &StoreId) -> UtcOffset {
    visible
        .stores
        .iter()
        .find(|s| &s.id == store)
        .map_or(UtcOffset::UTC, |s| s.offset_at(now()))
}

pub async fn terminals(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Html<String>, Refusal> {
    let visible = visible_for(&dash, &headers, &tenant).await?;
    let stores = visible.store_ids();
    let list = blocking(&dash.app, move |s| s.dashboard_terminals(&stores)).await?;
    let mut rows = String::new();
    for status in &list {
        let store = visible
            .stores
            .iter()
            .find(|s| s.id == status.terminal.store)
            .map_or_else(String::new, |s| s.name.clone());
        let clock = clock_of(&visible, &status.terminal.store);
        let hub = status
            .terminal
            .relayed_by
            .as_ref()
            .and_then(|hub| list.iter().find(|s| &s.terminal.id == hub));
        let waiting = if status.changes_waiting > super::sqlite::CHANGES_WAITING_COUNTED_MAX {
            format!("more than {}", super::sqlite::CHANGES_WAITING_COUNTED_MAX)
        } else {
            status.changes_waiting.to_string()
        };
        rows.push_str(&format!(
            r#"<tr data-terminal="{}"><td>{}</td><td>{}</td><td>{}</td><td class="last-seen">{}</td><td class="num">{}</td><td class="num waiting">{waiting}</td><td>{}</td></tr>"#,
            escape(status.terminal.id.as_str()),
            escape(&status.terminal.name),
            escape(&store),
            match (status.terminal.revoked_at, &hub) {
                (Some(at), _) => format!("revoked {}", when(Some(at), clock)),
                (None, Some(hub)) => format!(
                    "behind hub {} since {}",
                    escape(&hub.terminal.name),
                    when(Some(status.terminal.enrolled_at), clock)
                ),
                (None, None) => {
                    format!("enrolled {}", when(Some(status.terminal.enrolled_at), clock))
                }
            },
            // A till behind a hub is heard of through the hub.
            hub.map_or_else(
                || when(status.last_seen, clock),
                |hub| format!("hub: {}", when(hub.last_seen, clock)),
            ),
            status.terminal.high_water_seq,
            escape(status.version.as_deref().unwrap_or("not reported")),
        ));
    }
    if list.is_empty() {
        rows.push_str(
            r#"<tr><td colspan="7" class="muted">No terminal is enrolled yet.</td></tr>"#,
        );
    }
    let notice = query
        .saved
        .map_or_else(String::new, |m| html::notice(true, &m));
    let mut clocks = String::new();
    for store in &visible.stores {
        clocks.push_str(&format!(
            r#"<option value="{}">{} ({})</option>"#,
            escape(store.id.as_str()),
            escape(&store.name),
            escape(&store_clock_name(store))
        ));
    }
    let body = format!(
        r#"{notice}<section class="card"><table id="terminals"><thead><tr><th>Terminal</th><th>Store</th><th>Enrolment</th><th>Last seen</th><th class="num">Entries stored</th><th class="num">Changes to pull</th><th>Software</th></tr></thead><tbody>{rows}</tbody></table>
<p class="muted">Entries stored: the terminal's journal up to this number is at the fleet. Changes to pull: catalogue, price, setting and stock changes the terminal has not fetched yet.</p></section>
<section class="card"><h2>Store clock</h2><p class="muted">Each store's days and hours are on its own clock: its time zone, which follows summer time by itself, or a fixed offset from UTC. The store's figures are counted again on the new clock.</p>
<form method="post" action="{}/clock" id="clock-form" class="form-grid">
<label>Store<select name="store">{clocks}</select></label>
<label>Time zone<input name="time_zone" placeholder="Europe/Zurich"></label>
<label>or offset from UTC<input name="utc_offset" placeholder="+02:00"></label>
<button type="submit" id="set-clock">Set clock</button></form></section>"#,
        tenant_path(&visible)
    );
    Ok(Html(visible.page("Terminals", Tab::Terminals, &body)))
}

pub async fn receipts(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
) -> Result<Html<String>, Refusal> {
    let visible = visible_for(&dash, &headers, &tenant).await?;
    let stores = visible.store_ids();
    let failed = blocking(&dash.app, move |s| s.failed_receipts(&stores)).await?;
    let mut rows = String::new();
    for receipt in &failed {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&receipt.receipt_number),
            escape(&receipt.channel),
            escape(&receipt.reason),
            receipt.attempts,
            when(Some(receipt.at), clock_of(&visible, &receipt.store))
        ));
    }
    if failed.is_empty() {
        rows.push_str(
            r#"<tr><td colspan="5" class="muted">No digital receipt has failed to send.</td></tr>"#,
        );
    }
    let body = format!(
        r#"<section class="card"><h2>Digital receipts that could not be sent</h2><table id="failed-receipts"><thead><tr><th>Receipt</th><th>Channel</th><th>Reason</th><th class="num">Attempts</th><th>Last attempt</th></tr></thead><tbody>{rows}</tbody></table></section>"#
    );
    Ok(Html(visible.page("Receipts", Tab::Receipts, &body)))
}

#[derive(Deserialize)]
pub struct ClockForm {
    store: String,
    #[serde(default)]
    utc_offset: String,
    #[serde(default)]
    time_zone: String,
}

/// Sets a store's clock from the terminals page.
pub async fn set_clock(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Form(form): Form<ClockForm>,
) -> Result<Response, Refusal> {
    let visible = visible_for(&dash, &headers, &tenant).await?;
    let store = visible
        .stores
        .iter()
        .find(|s| s.id.as_str() == form.store)
        .ok_or_else(|| {
            Refusal::page(
                StatusCode::NOT_FOUND,
                format!("No store {} among those you manage.", form.store),
            )
        })?;
    let zone = form.time_zone.trim();
    let (offset, zone) = if zone.is_empty() {
        let offset = clock_text::parse(&form.utc_offset).ok_or_else(|| {
            Refusal::page(
                StatusCode::BAD_REQUEST,
                format!(
                    "Nothing was changed: {} is not an offset from UTC. Write it like +02:00, \
                     -05:00 or +05:30, or give the store's time zone instead.",
                    form.utc_offset.trim()
                ),
            )
        })?;
        (offset, None)
    } else {
        let offset = crate::zone::offset_at(zone, now()).ok_or_else(|| {
            Refusal::page(
                StatusCode::BAD_REQUEST,
                format!(
                    "Nothing was changed: {zone} is not a time zone this server knows. Write \
                     it as in the tz database, like Europe/Zurich or America/Toronto."
                ),
            )
        })?;
        (offset, Some(zone.to_owned()))
    };
    let id = store.id.clone();
    let saved = blocking(&dash.app, move |s| s.set_store_clock(&id, offset, zone)).await?;
    let message = format!(
        "{} is now on {}; its figures were counted again.",
        saved.name,
        store_clock_name(&saved)
    );
    Ok(Redirect::to(&format!(
        "{}/terminals?saved={}",
        tenant_path(&visible),
        url_part(&message)
    ))
    .into_response())
}

// ---------------------------------------------------------------------------------------------
// Catalogue

/// Where a catalogue form writes: the whole tenant, or one store.
fn form_scope(visible: &Visible, scope: &str) -> Result<(Scope, Option<Currency>), Refusal> {
    if scope.is_empty() || scope == "tenant" {
        if !visible.may_edit_tenant() {
            return Err(Refusal::page(
                StatusCode::FORBIDDEN,
                "A store manager cannot change the tenant-wide catalogue; choose your store, or \
                 ask the owner.",
            ));
        }
        return Ok((Scope::Tenant, None));
    }
    let store = visible
        .stores
        .iter()
        .find(|s| s.id.as_str() == scope)
        .ok_or_else(|| {
            Refusal::page(
                StatusCode::NOT_FOUND,
                format!("No store {scope} among those you manage."),
            )
        })?;
    Ok((Scope::Store(store.id.clone()), Some(store.currency)))
}

fn scope_options(visible: &Visible, chosen: &str) -> String {
    let mut options = String::new();
    if visible.may_edit_tenant() {
        options.push_str(&format!(
            r#"<option value="tenant"{}>Every store</option>"#,
            if chosen == "tenant" { " selected" } else { "" }
        ));
    }
    for store in &visible.stores {
        options.push_str(&format!(
            r#"<option value="{}"{}>{} only</option>"#,
            escape(store.id.as_str()),
            if chosen == store.id.as_str() {
                " selected"
            } else {
                ""
            },
            escape(&store.name)
        ));
    }
    options
}

async fn catalogue_page(
    dash: &Dashboard,
    visible: &Visible,
    notice: Option<(bool, String)>,
    status: StatusCode,
) -> Result<Response, Refusal> {
    let tenant = visible.tenant.id.clone();
    let stores = visible.store_ids();
    let lists = blocking(&dash.app, move |s| {
        let mut lists = vec![(
            "Every store".to_owned(),
            s.products(&tenant, &Scope::Tenant)?,
        )];
        for store in stores {
            let products = s.products(&tenant, &Scope::Store(store.clone()))?;
            if !products.is_empty() {
                lists.push((store.to_string(), products));
            }
        }
        Ok(lists)
    })
    .await?;
    let base = tenant_path(visible);
    let mut body = notice.map_or_else(String::new, |(ok, m)| html::notice(ok, &m));
    let mut product_options = String::new();
    let mut tables = String::new();
    for (scope, products) in &lists {
        let scope_name = visible
            .stores
            .iter()
            .find(|s| s.id.as_str() == scope)
            .map_or_else(|| scope.clone(), |s| format!("{} only", s.name));
        let mut rows = String::new();
        for product in products {
            if scope == "Every store" {
                product_options.push_str(&format!(
                    r#"<option value="{}">{} ({})</option>"#,
                    escape(product.id.as_str()),
                    escape(&product.name),
                    escape(product.sku.as_str())
                ));
            }
            rows.push_str(&format!(
                r#"<tr data-product="{}"><td>{}</td><td>{}</td><td class="num price">{}</td><td>{}</td><td>{}</td></tr>"#,
                escape(product.id.as_str()),
                escape(product.sku.as_str()),
                escape(&product.name),
                money(&product.price),
                escape(
                    &product
                        .barcodes
                        .iter()
                        .map(|b| b.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                if product.active { "active" } else { "archived" }
            ));
        }
        tables.push_str(&format!(
            r#"<h2>{}</h2><table class="products"><thead><tr><th>SKU</th><th>Name</th><th class="num">Price</th><th>Barcodes</th><th></th></tr></thead><tbody>{rows}</tbody></table>"#,
            escape(&scope_name)
        ));
    }
    let scopes = scope_options(visible, "tenant");
    let currency = figures::main_currency(&visible.stores)
        .map_or_else(|| "EUR".to_owned(), |c| c.code().to_owned());
    body.push_str(&format!(
        r#"<div class="grid2"><section class="card"><h2>Product</h2><p class="muted">A SKU that exists is edited; a new one is created. The change reaches the terminals at their next pull.</p>
<form method="post" action="{base}/catalogue/products" id="product-form" class="form-grid">
<label>Where<select name="scope">{scopes}</select></label>
<label>SKU<input name="sku" required></label>
<label>Name<input name="name"></label>
<label>Price<input name="price" inputmode="decimal" placeholder="2.49"></label>
<label>Currency<input name="currency" value="{currency}" size="3"></label>
<label>Barcode<input name="barcode" inputmode="numeric"></label>
<label>Tax category<input name="tax_category" value="standard"></label>
<label>Category<input name="category"></label>
<label>Low stock at<input name="low_stock" inputmode="decimal"></label>
<label>Sold by<select name="unit"><option value="piece">piece</option><option value="kilogram">kilogram</option></select></label>
<button type="submit" id="save-product">Save product</button></form></section>
<section class="card"><h2>Price change</h2><p class="muted">Terminals switch to the new price at the time given: on the store's clock for one store, on {clock} for every store.</p>
<form method="post" action="{base}/catalogue/prices" id="price-form" class="form-grid">
<label>Where<select name="scope">{scopes}</select></label>
<label>Product<select name="product" id="price-product">{product_options}</select></label>
<label>New price<input name="price" id="price-value" inputmode="decimal" required></label>
<label>From<input type="datetime-local" name="effective_at" id="price-at" required></label>
<button type="submit" id="schedule-price">Schedule</button></form></section></div>
<section class="card">{tables}</section>"#,
        clock = escape(&clock_name(tenant_clock(visible))),
    ));
    let page = visible.page("Catalogue", Tab::Catalogue, &body);
    Ok((status, Html(page)).into_response())
}

/// `UTC`, `UTC+02:00`.
/// A store's clock in words: its time zone with the offset it has now, or its fixed offset.
pub(super) fn store_clock_name(store: &StoreRecord) -> String {
    match &store.time_zone {
        Some(zone) => format!("{zone}, {}", clock_name(store.offset_at(now()))),
        None => clock_name(store.utc_offset),
    }
}

pub(super) fn clock_name(offset: UtcOffset) -> String {
    if offset.is_utc() {
        "UTC".to_owned()
    } else {
        format!("UTC{}", clock_text::format(offset))
    }
}

/// The clock a tenant-wide time is read on: the stores' clock when they all share one, else
/// UTC.
pub(super) fn tenant_clock(visible: &Visible) -> UtcOffset {
    let at = now();
    let mut clocks = visible.stores.iter().map(|s| s.offset_at(at));
    match clocks.next() {
        Some(first) if clocks.all(|c| c == first) => first,
        _ => UtcOffset::UTC,
    }
}

pub async fn catalogue(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, Refusal> {
    let visible = visible_for(&dash, &headers, &tenant).await?;
    let notice = query.saved.map(|m| (true, m));
    catalogue_page(&dash, &visible, notice, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct ProductForm {
    #[serde(default)]
    scope: String,
    sku: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    barcode: String,
    #[serde(default)]
    tax_category: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    low_stock: String,
    #[serde(default)]
    unit: String,
}

fn optional(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

/// The product the form describes: the existing one with the fields filled in changed, or a
/// new one. Errors are sentences for the person at the form.
pub fn product_from_form(
    form: &ProductForm,
    existing: Option<Product>,
    store_currency: Option<Currency>,
) -> Result<Product, String> {
    let sku = form.sku.trim();
    if sku.is_empty() {
        return Err("The product needs a SKU.".into());
    }
    if existing.is_none() && optional(&form.name).is_none() {
        return Err("A new product needs a name.".into());
    }
    let currency = match (store_currency, optional(&form.currency)) {
        (Some(currency), _) => currency,
        (None, Some(code)) => Currency::from_code(&code.to_uppercase())
            .map_err(|_| format!("{code} is not a currency this fleet knows (EUR, USD, …)."))?,
        (None, None) => existing
            .as_ref()
            .map(|p| p.price.currency())
            .ok_or("Give the price's currency.")?,
    };
    let price = match optional(&form.price) {
        Some(text) => Some(
            Money::parse(text, currency)
                .map_err(|_| format!("{text} is not a price in {currency} (write 2.49)."))?,
        ),
        None => None,
    };
    let unit = match form.unit.as_str() {
        "kilogram" => Unit::Kilogram,
        _ => Unit::Piece,
    };
    let mut product = match existing {
        Some(product) => product,
        None => {
            let name = optional(&form.name).ok_or("A new product needs a name.")?;
            let price = price.ok_or("A new product needs a price.")?;
            Product {
                id: ProductId::new(sku),
                sku: Sku::new(sku),
                name: name.to_owned(),
                barcodes: Vec::new(),
                parent: None,
                variant: Vec::new(),
                unit,
                cost: Money::zero(currency),
                price,
                tax_category: TaxCategoryId::new(
                    optional(&form.tax_category).unwrap_or("standard"),
                ),
                category: None,
                vendor: None,
                active: true,
                low_stock_threshold: None,
            }
        }
    };
    if let Some(name) = optional(&form.name) {
        name.clone_into(&mut product.name);
    }
    if let Some(price) = price {
        product.price = price;
        if product.cost.currency() != price.currency() {
            product.cost = Money::zero(price.currency());
        }
    }
    if let Some(barcode) = optional(&form.barcode) {
        if !barcode.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("The barcode {barcode} should be digits only."));
        }
        let barcode = Barcode::new(barcode);
        if !product.barcodes.contains(&barcode) {
            product.barcodes.push(barcode);
        }
    }
    if let Some(tax) = optional(&form.tax_category) {
        product.tax_category = TaxCategoryId::new(tax);
    }
    if let Some(category) = optional(&form.category) {
        product.category = Some(CategoryId::new(category));
    }
    if let Some(low) = optional(&form.low_stock) {
        product.low_stock_threshold = Some(
            Quantity::parse(low, product.unit)
                .map_err(|_| format!("{low} is not a quantity for the low-stock threshold."))?,
        );
    }
    let currency = product.price.currency();
    product.validate(currency).map_err(|e| {
        let text = e.to_string();
        let mut chars = text.chars();
        chars.next().map_or_else(String::new, |first| {
            format!("{}{}.", first.to_uppercase(), chars.as_str())
        })
    })?;
    Ok(product)
}

pub async fn save_product(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Form(form): Form<ProductForm>,
) -> Result<Response, Refusal> {
    let visible = visible_for(&dash, &headers, &tenant).await?;
    let (scope, store_currency) = form_scope(&visible, &form.scope)?;
    let tenant_id = visible.tenant.id.clone();
    let sku = form.sku.trim().to_owned();
    let lookup_scope = scope.clone();
    let existing = blocking(&dash.app, move |s| {
        Ok(s.products(&tenant_id, &lookup_scope)?
            .into_iter()
            .find(|p| p.sku.as_str() == sku))
    })
    .await?;
    let product = match product_from_form(&form, existing, store_currency) {
        Ok(product) => product,
        Err(message) => {
            return catalogue_page(
                &dash,
                &visible,
                Some((false, format!("Nothing was saved: {message}"))),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let tenant_id = visible.tenant.id.clone();
    let now = now();
    let saved = blocking(&dash.app, move |s| {
        s.save_product(&tenant_id, &scope, &product, now)
    })
    .await?;
    let message = format!(
        "Saved {} ({}) at {}.",
        saved.name,
        saved.sku,
        money(&saved.price)
    );
    Ok(Redirect::to(&format!(
        "{}/catalogue?saved={}",
        tenant_path(&visible),
        url_part(&message)
    ))
    .into_response())
}

#[derive(Deserialize)]
pub struct PriceForm {
    #[serde(default)]
    scope: String,
    product: String,
    price: String,
    effective_at: String,
}

/// `2026-03-31T18:00` on a clock `offset` from UTC.
fn local_time(text: &str, offset: UtcOffset) -> Option<Timestamp> {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let seconds =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let at = time::PrimitiveDateTime::parse(text.trim(), &format)
        .or_else(|_| time::PrimitiveDateTime::parse(text.trim(), &seconds))
        .ok()?;
    Some(Timestamp::from_unix_ms(
        at.assume_offset(offset).unix_timestamp() * 1_000,
    ))
}

/// A change scheduled more than this far in the past is refused as a mistake.
const PAST_TOLERANCE_MS: i64 = 5 * 60 * 1_000;

pub async fn schedule_price(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Form(form): Form<PriceForm>,
) -> Result<Response, Refusal> {
    let visible = visible_for(&dash, &headers, &tenant).await?;
    let (scope, store_currency) = form_scope(&visible, &form.scope)?;
    let tenant_id = visible.tenant.id.clone();
    let product_id = ProductId::new(form.product.trim());
    let lookup = product_id.clone();
    let product = blocking(&dash.app, move |s| {
        Ok(s.products(&tenant_id, &Scope::Tenant)?
            .into_iter()
            .find(|p| p.id == lookup))
    })
    .await?;
    let now = now();
    let clock = match &scope {
        Scope::Store(store) => clock_of(&visible, store),
        Scope::Tenant => tenant_clock(&visible),
    };
    let checked = (|| {
        let product = product.ok_or_else(|| format!("there is no product {product_id}"))?;
        let currency = store_currency.unwrap_or(product.price.currency());
        let price = Money::parse(form.price.trim(), currency).map_err(|_| {
            format!(
                "{} is not a price in {currency} (write 2.49)",
                form.price.trim()
            )
        })?;
        if price.is_negative() {
            return Err(format!("a price cannot be negative ({price})"));
        }
        let effective_at = local_time(&form.effective_at, clock)
            .ok_or_else(|| format!("{} is not a date and time", form.effective_at.trim()))?;
        if effective_at.unix_ms() < now.unix_ms() - PAST_TOLERANCE_MS {
            return Err("the time is in the past; choose now or a later time".to_owned());
        }
        Ok(PriceSchedule {
            product: product.id,
            price,
            effective_at,
        })
    })();
    let schedule = match checked {
        Ok(schedule) => schedule,
        Err(message) => {
            return catalogue_page(
                &dash,
                &visible,
                Some((false, format!("Nothing was scheduled: {message}."))),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let tenant_id = visible.tenant.id.clone();
    let message = format!(
        "{} goes to {} on {}.",
        schedule.product,
        money(&schedule.price),
        when(Some(schedule.effective_at), clock)
    );
    blocking(&dash.app, move |s| {
        s.schedule_price(&tenant_id, &scope, &schedule, now)
    })
    .await?;
    Ok(Redirect::to(&format!(
        "{}/catalogue?saved={}",
        tenant_path(&visible),
        url_part(&message)
    ))
    .into_response())
}

// ---------------------------------------------------------------------------------------------
// Exports

pub async fn export_file(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Path((tenant, file)): Path<(String, String)>,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, Refusal> {
    let visible = visible_for(&dash, &headers, &tenant).await?;
    let (report, format) = export::parse_file(&file)
        .ok_or_else(|| Refusal::page(StatusCode::NOT_FOUND, export::unknown_file(&file)))?;
    let period = period(&query, &visible, now())?;
    let currency = chart_currency(&visible, &query)
        .ok_or_else(|| Refusal::page(StatusCode::NOT_FOUND, "This tenant has no store yet."))?;
    let stores = visible.store_ids();
    let (span, previous): (Span, Span) = (period.span(), period.previous().span());
    let data = blocking(&dash.app, move |s| {
        Ok(export::Data {
            during: s.dashboard_sales(&stores, span, Grouping::Whole)?,
            before: s.dashboard_sales(&stores, previous, Grouping::Whole)?,
            daily: s.dashboard_sales(&stores, span, Grouping::Day)?,
            tenders: s.dashboard_tenders(&stores, span)?,
            products: s.dashboard_products(&stores, span)?,
        })
    })
    .await?;
    let table = export::table(report, &period, &visible.stores, currency, &data)
        .map_err(|e| Refusal::page(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let (bytes, content_type) = export::encode(&table, format)
        .map_err(|e| Refusal::page(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let name = format!(
        "{}-{}-{}-{}.{}",
        report.slug(),
        url_part(&visible.tenant.name.to_lowercase().replace(' ', "-")),
        period.from,
        period.to,
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(sku: &str, name: &str, price: &str) -> ProductForm {
        ProductForm {
            scope: "tenant".into(),
            sku: sku.into(),
            name: name.into(),
            price: price.into(),
            currency: "EUR".into(),
            barcode: String::new(),
            tax_category: String::new(),
            category: String::new(),
            low_stock: String::new(),
            unit: String::new(),
        }
    }

    #[test]
    fn a_new_product_needs_a_name_and_a_price_in_its_currency() {
        assert_eq!(
            product_from_form(&form("BR-1", "", "2.49"), None, None).unwrap_err(),
            "A new product needs a name."
        );
        assert_eq!(
            product_from_form(&form("BR-1", "Bread", "2,49"), None, None).unwrap_err(),
            "2,49 is not a price in EUR (write 2.49)."
        );
        let bread = product_from_form(&form("BR-1", "Bread", "2.49"), None, None).unwrap();
        assert_eq!(bread.price, Money::from_minor(249, Currency::EUR));
        assert_eq!(bread.id, ProductId::new("BR-1"));
    }

    #[test]
    fn an_edit_changes_only_the_fields_filled_in() {
        let bread = product_from_form(&form("BR-1", "Bread", "2.49"), None, None).unwrap();
        let mut edit = form("BR-1", "", "2.99");
        edit.low_stock = "4".into();
        let edited = product_from_form(&edit, Some(bread), None).unwrap();
        assert_eq!(edited.name, "Bread");
        assert_eq!(edited.price, Money::from_minor(299, Currency::EUR));
        assert_eq!(edited.low_stock_threshold, Some(Quantity::pieces(4)));
    }

    #[test]
    fn a_store_price_is_in_the_store_currency() {
        let mut negative = form("BR-1", "Bread", "-1.00");
        negative.currency = "USD".into();
        assert_eq!(
            product_from_form(&negative, None, Some(Currency::EUR)).unwrap_err(),
            "The price of BR-1 cannot be negative (-1.00 EUR)."
        );
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; pos_session=abc123; x=y"),
        );
        assert_eq!(session_token(&headers).as_deref(), Some("abc123"));
    }

    #[test]
    fn a_local_time_is_read_on_the_dashboard_clock() {
        let at = local_time("2026-03-31T18:00", UtcOffset::from_hms(2, 0, 0).unwrap()).unwrap();
        assert_eq!(at.to_utc().hour(), 16);
        assert!(local_time("tomorrow", UtcOffset::UTC).is_none());
    }
}
