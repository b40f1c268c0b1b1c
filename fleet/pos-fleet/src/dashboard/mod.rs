//! The owners' web dashboard, served by the fleet binary under `/ui`: login with a session
//! cookie; the branch overview (today and a chosen period per store, compared with the period
//! before and with each other), the sales trend, the hourly heatmap, the payment mix, top
//! products, stock across stores with low-stock flags and transfer suggestions, the terminals
//! (last seen, what they still have to pull, software version), failed digital receipts;
//! catalogue and price management that publishes to the terminals through the same storage
//! calls as the API; consolidated exports as CSV, Excel and PDF; and, where the fleet serves
//! updates, the Updates page (`updates`: bundles, rollouts, store windows, each terminal's
//! version, slots and last feedback) over the operator API's own functions.
//!
//! Owns: the dashboard's summary tables and their upkeep as sales and stock movements arrive
//! (`sqlite`, `postgres`, from the pure `data::SaleFacts`), the figures (`figures`, pure), the
//! charts (`charts`, inline SVG drawn here), the markup (`html`), the exports (`export`) and
//! the handlers (`web`). The stylesheet is embedded in the binary: nothing is fetched from
//! elsewhere, so the dashboard works on a LAN without internet.
//!
//! Must not touch: what a sale means or how a push is accepted (that is `crate::sqlite` and
//! `crate::postgres` with `pos-sync`); the summary tables only add up what those stored. Every
//! handler checks the account's role and tenant before it reads anything.

use axum::Router;
use axum::routing::{get, post};

use crate::api::AppState;
use crate::updates::UpdatesState;

mod charts;
pub mod data;
pub mod export;
pub mod figures;
mod html;
pub(crate) mod postgres;
pub(crate) mod sqlite;
mod updates;
pub mod web;

/// The stylesheet, embedded in the binary.
pub const STYLE: &str = include_str!("../../dashboard/style.css");

/// The dashboard's handlers' state.
#[derive(Clone)]
pub struct Dashboard {
    pub app: AppState,
    /// A tenant's pages: with the Updates page where the fleet serves updates.
    tabs: &'static [html::Tab],
}

/// The dashboard's routes, with the Updates page when the fleet serves updates. Days and hours
/// are each store's own, on its clock.
pub fn router(app: AppState, updates: Option<UpdatesState>) -> Router {
    let dashboard = Dashboard {
        app,
        tabs: if updates.is_some() {
            html::TABS_WITH_UPDATES
        } else {
            html::TABS
        },
    };
    let pages = match updates {
        Some(updates) => updates::router(dashboard.clone(), updates),
        None => Router::new(),
    };
    Router::new()
        .route("/ui", get(web::home))
        .route("/ui/", get(web::home))
        .route("/ui/login", get(web::login_page).post(web::login))
        .route("/ui/logout", post(web::logout))
        .route("/ui/assets/style.css", get(web::style))
        .route("/ui/tenants", get(web::tenants))
        .route("/ui/t/{tenant}", get(web::overview))
        .route("/ui/t/{tenant}/overview.json", get(web::overview_json))
        .route("/ui/t/{tenant}/sales", get(web::sales))
        .route("/ui/t/{tenant}/stock", get(web::stock))
        .route("/ui/t/{tenant}/terminals", get(web::terminals))
        .route("/ui/t/{tenant}/clock", post(web::set_clock))
        .route("/ui/t/{tenant}/receipts", get(web::receipts))
        .route("/ui/t/{tenant}/catalogue", get(web::catalogue))
        .route("/ui/t/{tenant}/catalogue/products", post(web::save_product))
        .route("/ui/t/{tenant}/catalogue/prices", post(web::schedule_price))
        .route("/ui/t/{tenant}/export/{file}", get(web::export_file))
        .with_state(dashboard)
        .merge(pages)
}
