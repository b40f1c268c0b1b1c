//! The owners' dashboard over real HTTP on loopback: sales pushed by terminals through the
//! sync API show up in the branch overview, a price scheduled on the dashboard reaches a
//! terminal's pull, one tenant's owner cannot see another's, and the exports read back.
//! The HTTP tests run on SQLite and PostgreSQL; the browser test drives Debian's headless
//! Chromium over the DevTools protocol through the same pages a person uses, and writes the
//! screenshots in `docs/screenshots/fleet-*.png` when `POS_UPDATE_SCREENSHOTS` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
mod browser;

use std::collections::BTreeMap;

use pos_core::event::DomainEvent;
use pos_core::id::StoreId;
use pos_core::money::{Currency, Money};
use pos_core::tender::TenderKind;
use pos_sync::sample::SampleTill;
use pos_sync::wire::JournalEntry;
use reqwest::StatusCode;
use serde_json::{Value, json};

use common::Backend;
use pos_fleet::lockout;

backend_tests!(
    the_overview_shows_the_sales_the_terminals_pushed,
    an_owner_cannot_see_or_change_another_tenant,
    a_price_scheduled_on_the_dashboard_reaches_the_terminals_pull,
    a_wrong_price_is_refused_with_the_reason_and_nothing_is_published,
    exports_read_back_with_the_figures_sold,
    logging_out_ends_the_session,
    five_wrong_passwords_lock_the_account_and_say_when_to_try_again,
    days_and_hours_are_on_each_store_own_clock,
    a_store_in_a_time_zone_counts_its_days_across_the_summer_time_change,
    stock_and_terminals_show_what_the_terminals_reported,
);

const OWNER_PASSWORD: &str = "owner-password-1";

struct Till {
    device: String,
    token: String,
    store: String,
    till: SampleTill,
}

/// A chain: Acme with two stores and a till in each, Bolt with one store; sales pushed.
struct Chain {
    fleet: common::Fleet,
    acme: common::Tenant,
    harbour: String,
    bolt: common::Tenant,
    tills: Vec<Till>,
    /// What the tills sold today, per store, in cents.
    sold: BTreeMap<String, i64>,
    /// Sale count per store.
    sales: BTreeMap<String, u64>,
    /// Pieces sold per store and product.
    pieces: BTreeMap<(String, String), i64>,
}

fn now_ms() -> i64 {
    pos_fleet::api::now().unix_ms()
}

impl Chain {
    async fn new(backend: &Backend) -> Chain {
        let fleet = common::start(backend).await;
        let acme = fleet.tenant("Acme").await;
        let bolt = fleet.tenant("Bolt").await;
        let (status, harbour) = fleet
            .call(
                "POST",
                &format!("/api/v1/tenants/{}/stores", acme.id),
                Some(&acme.owner),
                Some(json!({"name": "Acme Hafen", "currency": "EUR"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{harbour}");
        let harbour = harbour["id"].as_str().unwrap().to_owned();
        for product in ["milk", "bread", "coffee"] {
            fleet.add_product(&acme.owner, &acme.id, product).await;
        }
        fleet.add_product(&bolt.owner, &bolt.id, "cola").await;
        let mut tills = Vec::new();
        for (store, owner, name) in [
            (&acme.store, &acme.owner, "Till 1"),
            (&harbour, &acme.owner, "Till 2"),
            (&bolt.store, &bolt.owner, "Bolt Till"),
        ] {
            let enrolled = fleet.enrol(owner, store, name).await;
            tills.push(Till {
                device: enrolled.device.as_str().to_owned(),
                token: enrolled.token,
                store: store.clone(),
                till: SampleTill::new(enrolled.device.as_str(), &StoreId::new(store.clone())),
            });
        }
        let mut chain = Chain {
            fleet,
            acme,
            harbour,
            bolt,
            tills,
            sold: BTreeMap::new(),
            sales: BTreeMap::new(),
            pieces: BTreeMap::new(),
        };
        chain
            .sell(0, &[("milk", 2), ("bread", 1), ("coffee", 1)])
            .await;
        chain.sell(1, &[("coffee", 3), ("milk", 1)]).await;
        chain.sell(2, &[("cola", 6)]).await;
        chain
    }

    /// Till `index` sells each product once (one sale each, by card, now) and pushes the sales.
    async fn sell(&mut self, index: usize, items: &[(&str, i64)]) {
        let now = now_ms();
        let sales: Vec<(&str, i64, TenderKind, i64)> = items
            .iter()
            .map(|(product, quantity)| (*product, *quantity, TenderKind::Card, now))
            .collect();
        self.sell_at(index, &sales).await;
    }

    /// The week before today at both Acme stores: sales through the day, paid in several ways.
    async fn week_before(&mut self) {
        let today = now_ms() / 86_400_000 * 86_400_000;
        let products = ["milk", "bread", "coffee"];
        let tenders = [TenderKind::Card, TenderKind::Cash, TenderKind::MobileWallet];
        for index in [0, 1] {
            let mut sales = Vec::new();
            for day in 1..=6i64 {
                for n in 0..(4 + day * (index as i64 + 1)) {
                    let hour = 8 + (n * 5 + day) % 11;
                    let at = today - day * 86_400_000 + hour * 3_600_000 + n * 60_000;
                    let pick = usize::try_from(n + day).unwrap();
                    sales.push((
                        products[pick % 3],
                        1 + (n % 3),
                        tenders[(pick + index) % 3],
                        at,
                    ));
                }
            }
            self.sell_at(index, &sales).await;
        }
    }

    async fn sell_at(&mut self, index: usize, sales: &[(&str, i64, TenderKind, i64)]) {
        let mut entries: Vec<JournalEntry> = Vec::new();
        let till = &mut self.tills[index];
        for (product, quantity, tender, at) in sales {
            let made = till
                .till
                .sell_paid(&common::demo_product(product), *quantity, *tender, *at)
                .unwrap();
            for entry in &made {
                let event: DomainEvent = entry.domain_event().unwrap().unwrap();
                if let DomainEvent::SaleCompleted(sale) = event {
                    *self.sold.entry(till.store.clone()).or_default() +=
                        pos_fleet::dashboard::data::minor_units(sale.total);
                    *self.sales.entry(till.store.clone()).or_default() += 1;
                    *self
                        .pieces
                        .entry((till.store.clone(), (*product).to_owned()))
                        .or_default() += quantity;
                }
            }
            entries.extend(made);
        }
        let (status, ack) = self
            .fleet
            .call(
                "POST",
                "/sync/v1/push",
                Some(&till.token),
                Some(common::push_body(&till.device, &entries)),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{ack}");
    }

    fn euros(&self, store: &str) -> String {
        format!(
            "{} EUR",
            Money::from_minor(self.sold[store], Currency::EUR).display_amount()
        )
    }

    /// A client that keeps redirects for the test to see.
    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Logs in through the login form; returns the session cookie.
    async fn login(&self, email: &str) -> String {
        let response = Chain::client()
            .post(format!("{}/ui/login", self.fleet.base))
            .form(&[("email", email), ("password", OWNER_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let cookie = response
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Strict"), "{cookie}");
        // Plain HTTP (on loopback): a `Secure` cookie would never come back.
        assert!(!cookie.contains("Secure"), "{cookie}");
        cookie.split(';').next().unwrap().to_owned()
    }

    async fn get(&self, cookie: &str, path: &str) -> (StatusCode, String) {
        let response = Chain::client()
            .get(format!("{}{path}", self.fleet.base))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    async fn get_bytes(&self, cookie: &str, path: &str) -> (StatusCode, Vec<u8>) {
        let response = Chain::client()
            .get(format!("{}{path}", self.fleet.base))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.bytes().await.unwrap().to_vec())
    }

    async fn post_form(
        &self,
        cookie: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let response = Chain::client()
            .post(format!("{}{path}", self.fleet.base))
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    /// Everything the till pulls from the start.
    async fn pull_all(&self, index: usize) -> Vec<Value> {
        let till = &self.tills[index];
        let (status, body) = self
            .fleet
            .call(
                "POST",
                "/sync/v1/pull",
                Some(&till.token),
                Some(common::pull_body(&till.device, 0, 1_000)),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["changes"].as_array().unwrap().clone()
    }
}

fn price_schedules(changes: &[Value]) -> Vec<&Value> {
    changes
        .iter()
        .map(|c| &c["body"])
        .filter(|b| b["type"] == "price_scheduled")
        .collect()
}

/// An hour from now, as a `datetime-local` field holds it (the test's stores are on UTC).
fn in_an_hour() -> (String, i64) {
    let at = now_ms() / 60_000 * 60_000 + 3_600_000;
    let utc = pos_core::clock::Timestamp::from_unix_ms(at).to_utc();
    (
        format!("{}T{:02}:{:02}", utc.date(), utc.hour(), utc.minute()),
        at,
    )
}

async fn the_overview_shows_the_sales_the_terminals_pushed(backend: Backend) {
    let chain = Chain::new(&backend).await;
    let cookie = chain.login("owner@acme.example").await;
    let (status, body) = chain
        .get(&cookie, &format!("/ui/t/{}/overview.json", chain.acme.id))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let figures: Value = serde_json::from_str(&body).unwrap();
    let branches = figures["branches"].as_array().unwrap();
    assert_eq!(branches.len(), 2, "Acme's two stores, not Bolt's");
    for store in [&chain.acme.store, &chain.harbour] {
        let row = branches.iter().find(|b| b["store"] == **store).unwrap();
        let sold = Money::from_minor(chain.sold[store.as_str()], Currency::EUR);
        assert_eq!(row["today"]["total"], serde_json::to_value(sold).unwrap());
        assert_eq!(row["period"]["total"], serde_json::to_value(sold).unwrap());
        assert_eq!(row["today"]["sales"], json!(chain.sales[store.as_str()]));
    }
    let trend = figures["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 7, "the last seven days by default");
    let all: i64 = chain
        .sold
        .iter()
        .filter(|(s, _)| **s != chain.bolt.store)
        .map(|(_, v)| v)
        .sum();
    assert_eq!(
        trend.last().unwrap()["total"],
        serde_json::to_value(Money::from_minor(all, Currency::EUR)).unwrap()
    );

    let (status, page) = chain
        .get(&cookie, &format!("/ui/t/{}", chain.acme.id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&chain.euros(&chain.acme.store)), "{page}");
    assert!(page.contains("Acme Hafen"));
    assert!(!page.contains("Bolt"), "another tenant's store on the page");

    let (status, page) = chain
        .get(&cookie, &format!("/ui/t/{}/sales", chain.acme.id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<svg"), "charts are drawn on the server");
    assert!(page.contains("Payment mix") && page.contains("card"));

    let (status, page) = chain
        .get(
            &cookie,
            &format!("/ui/t/{}?from=2026-03-10&to=2026-03-01", chain.acme.id),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("choose a start on or before the end"),
        "{page}"
    );
}

async fn an_owner_cannot_see_or_change_another_tenant(backend: Backend) {
    let chain = Chain::new(&backend).await;
    let cookie = chain.login("owner@acme.example").await;
    let bolt = &chain.bolt.id;
    let message = format!("No tenant {bolt} among those you manage.");
    for path in [
        format!("/ui/t/{bolt}"),
        format!("/ui/t/{bolt}/sales"),
        format!("/ui/t/{bolt}/stock"),
        format!("/ui/t/{bolt}/terminals"),
        format!("/ui/t/{bolt}/catalogue"),
        format!("/ui/t/{bolt}/export/branches.csv"),
    ] {
        let (status, page) = chain.get(&cookie, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.contains(&message), "{path}: {page}");
        assert!(!page.contains("Bolt Mitte"), "{path} shows Bolt's store");
    }
    let (status, body) = chain
        .get(&cookie, &format!("/ui/t/{bolt}/overview.json"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["message"], json!(message));

    let (status, _) = chain
        .post_form(
            &cookie,
            &format!("/ui/t/{bolt}/catalogue/products"),
            &[
                ("scope", "tenant"),
                ("sku", "cola"),
                ("name", "Free cola"),
                ("price", "0.00"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let changes = chain.pull_all(2).await;
    assert!(
        !changes.iter().any(|c| c.to_string().contains("Free cola")),
        "the refused edit reached Bolt's till"
    );

    // Without a session: the pages send to the login, the JSON says why.
    let (status, _) = chain.get("", &format!("/ui/t/{}", chain.acme.id)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, body) = chain
        .get(
            "pos_session=forged",
            &format!("/ui/t/{}/overview.json", chain.acme.id),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("log in again"), "{body}");
}

async fn a_price_scheduled_on_the_dashboard_reaches_the_terminals_pull(backend: Backend) {
    let chain = Chain::new(&backend).await;
    let cookie = chain.login("owner@acme.example").await;
    let (at_text, at_ms) = in_an_hour();
    let (status, body) = chain
        .post_form(
            &cookie,
            &format!("/ui/t/{}/catalogue/prices", chain.acme.id),
            &[
                ("scope", "tenant"),
                ("product", "milk"),
                ("price", "1.29"),
                ("effective_at", &at_text),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    for till in [0, 1] {
        let changes = chain.pull_all(till).await;
        let schedules = price_schedules(&changes);
        assert_eq!(schedules.len(), 1, "{changes:?}");
        let schedule = &schedules[0]["data"];
        assert_eq!(schedule["product"], "milk");
        assert_eq!(
            schedule["price"],
            serde_json::to_value(Money::from_minor(129, Currency::EUR)).unwrap()
        );
        assert_eq!(schedule["effective_at"], json!(at_ms));
    }
    assert!(
        price_schedules(&chain.pull_all(2).await).is_empty(),
        "Bolt's till got Acme's price"
    );

    // A new product for one store only, created on the dashboard.
    let (status, body) = chain
        .post_form(
            &cookie,
            &format!("/ui/t/{}/catalogue/products", chain.acme.id),
            &[
                ("scope", chain.harbour.as_str()),
                ("sku", "fish-1"),
                ("name", "Smoked fish"),
                ("price", "4.50"),
                ("barcode", "4000000000017"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let has_fish = |changes: &[Value]| {
        changes.iter().any(|c| {
            c["body"]["type"] == "product" && c["body"]["data"]["product"]["name"] == "Smoked fish"
        })
    };
    assert!(
        has_fish(&chain.pull_all(1).await),
        "the harbour's till has the fish"
    );
    assert!(
        !has_fish(&chain.pull_all(0).await),
        "the other store's till has it too"
    );
    let (_, page) = chain
        .get(&cookie, &format!("/ui/t/{}/catalogue", chain.acme.id))
        .await;
    assert!(
        page.contains("Smoked fish") && page.contains("4.50 EUR"),
        "{page}"
    );
}

async fn a_wrong_price_is_refused_with_the_reason_and_nothing_is_published(backend: Backend) {
    let chain = Chain::new(&backend).await;
    let cookie = chain.login("owner@acme.example").await;
    let before = chain.pull_all(0).await.len();
    let (at_text, _) = in_an_hour();
    let (status, page) = chain
        .post_form(
            &cookie,
            &format!("/ui/t/{}/catalogue/prices", chain.acme.id),
            &[
                ("scope", "tenant"),
                ("product", "milk"),
                ("price", "1,29"),
                ("effective_at", &at_text),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("Nothing was scheduled: 1,29 is not a price in EUR (write 2.49)."),
        "{page}"
    );
    let (status, page) = chain
        .post_form(
            &cookie,
            &format!("/ui/t/{}/catalogue/prices", chain.acme.id),
            &[
                ("scope", "tenant"),
                ("product", "milk"),
                ("price", "1.29"),
                ("effective_at", "2020-01-01T10:00"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("the time is in the past"), "{page}");
    let (status, page) = chain
        .post_form(
            &cookie,
            &format!("/ui/t/{}/catalogue/products", chain.acme.id),
            &[("scope", "tenant"), ("sku", "new-1"), ("price", "3.00")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("Nothing was saved: A new product needs a name."),
        "{page}"
    );
    assert_eq!(
        chain.pull_all(0).await.len(),
        before,
        "a refused form published a change"
    );
}

async fn exports_read_back_with_the_figures_sold(backend: Backend) {
    let chain = Chain::new(&backend).await;
    let cookie = chain.login("owner@acme.example").await;
    let (status, bytes) = chain
        .get_bytes(
            &cookie,
            &format!("/ui/t/{}/export/branches.csv", chain.acme.id),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().unwrap().clone();
    let takings = headers.iter().position(|h| h == "Takings (EUR)").unwrap();
    let id = headers.iter().position(|h| h == "Store id").unwrap();
    let mut rows = 0;
    for record in reader.records() {
        let record = record.unwrap();
        let store = &record[id];
        if record[0].starts_with("Total") {
            continue;
        }
        rows += 1;
        let sold = Money::from_minor(chain.sold[store], Currency::EUR);
        assert_eq!(&record[takings], sold.display_amount(), "{record:?}");
    }
    assert_eq!(rows, 2);

    let (status, bytes) = chain
        .get_bytes(
            &cookie,
            &format!("/ui/t/{}/export/products.csv", chain.acme.id),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(bytes).unwrap();
    let coffee = text.lines().find(|l| l.starts_with("coffee,")).unwrap();
    assert!(coffee.contains(",4,"), "3 + 1 coffees sold: {coffee}");

    let (status, bytes) = chain
        .get_bytes(
            &cookie,
            &format!("/ui/t/{}/export/daily.xlsx", chain.acme.id),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes.starts_with(b"PK"), "an .xlsx is a zip file");
    let (status, bytes) = chain
        .get_bytes(
            &cookie,
            &format!("/ui/t/{}/export/payments.pdf", chain.acme.id),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes.starts_with(b"%PDF-"));
    let (status, page) = chain
        .get(
            &cookie,
            &format!("/ui/t/{}/export/everything.zip", chain.acme.id),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        page.contains("The exports are branches, daily, products, payments"),
        "{page}"
    );
}

async fn logging_out_ends_the_session(backend: Backend) {
    let chain = Chain::new(&backend).await;
    let cookie = chain.login("owner@acme.example").await;
    let (status, _) = chain.post_form(&cookie, "/ui/logout", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = chain
        .get(&cookie, &format!("/ui/t/{}", chain.acme.id))
        .await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the old cookie still opens pages"
    );
    let response = Chain::client()
        .post(format!("{}/ui/login", chain.fleet.base))
        .form(&[("email", "owner@acme.example"), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get("set-cookie").is_none());
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Wrong e-mail or password.")
    );
}

async fn five_wrong_passwords_lock_the_account_and_say_when_to_try_again(backend: Backend) {
    let chain = Chain::new(&backend).await;
    let attempt = |password: &'static str| {
        Chain::client()
            .post(format!("{}/ui/login", chain.fleet.base))
            .form(&[("email", "Owner@Acme.example"), ("password", password)])
            .send()
    };
    for n in 1..lockout::ACCOUNT_FAILURES_MAX {
        let response = attempt("wrong").await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    let fifth = attempt("wrong").await.unwrap();
    assert_eq!(fifth.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: i64 = fifth.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (lockout::LOCK_MS / 1_000 - 5..=lockout::LOCK_MS / 1_000).contains(&retry_after),
        "{retry_after}"
    );
    let page = fifth.text().await.unwrap();
    assert!(
        page.contains("Too many wrong passwords for this account"),
        "{page}"
    );
    assert!(page.contains("Try again then"), "{page}");

    // The right password is refused too while the lock lasts, on the form and the API, and
    // no session is opened.
    let right = attempt(OWNER_PASSWORD).await.unwrap();
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(right.headers().get("set-cookie").is_none());
    let (status, body) = chain
        .fleet
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"email": "owner@acme.example", "password": OWNER_PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("minutes"),
        "{body}"
    );

    // Another account from the same address still logs in, and the owner's open sessions
    // keep working.
    chain.login("owner@bolt.example").await;
    // Behind a TLS-terminating proxy the cookie is `Secure` too.
    let proxied = Chain::client()
        .post(format!("{}/ui/login", chain.fleet.base))
        .header("x-forwarded-proto", "https")
        .form(&[
            ("email", "owner@bolt.example"),
            ("password", OWNER_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), StatusCode::SEE_OTHER);
    let cookie = proxied.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    let (status, _) = chain
        .fleet
        .call("GET", "/api/v1/me", Some(&chain.acme.owner), None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// Takings of each Acme store over one day on the overview: (sales, total).
async fn day_figures(chain: &Chain, cookie: &str, date: &str) -> BTreeMap<String, (u64, Value)> {
    let (status, body) = chain
        .get(
            cookie,
            &format!(
                "/ui/t/{}/overview.json?from={date}&to={date}",
                chain.acme.id
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let figures: Value = serde_json::from_str(&body).unwrap();
    figures["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["store"].as_str().unwrap().to_owned(),
                (
                    b["period"]["sales"].as_u64().unwrap(),
                    b["period"]["total"].clone(),
                ),
            )
        })
        .collect()
}

async fn days_and_hours_are_on_each_store_own_clock(backend: Backend) {
    let mut chain = Chain::new(&backend).await;
    // The harbour store is on summer time in Berlin, set after its first sale was stored.
    let (status, store) = chain
        .fleet
        .call(
            "PUT",
            &format!("/api/v1/stores/{}/clock", chain.harbour),
            Some(&chain.acme.owner),
            Some(json!({"utc_offset": "+02:00"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{store}");
    assert_eq!(store["utc_offset"], "+02:00");
    let (status, refused) = chain
        .fleet
        .call(
            "PUT",
            &format!("/api/v1/stores/{}/clock", chain.harbour),
            Some(&chain.acme.owner),
            Some(json!({"utc_offset": "Europe/Berlin"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        refused["message"].as_str().unwrap().contains("+02:00"),
        "{refused}"
    );

    // Tuesday 2026-03-31 23:30 UTC: one coffee in each Acme store.
    let late = 1_774_999_800_000;
    assert_eq!(
        time::OffsetDateTime::from_unix_timestamp(late / 1_000)
            .unwrap()
            .to_string(),
        "2026-03-31 23:30:00.0 +00:00:00"
    );
    chain
        .sell_at(0, &[("coffee", 1, TenderKind::Cash, late)])
        .await;
    chain
        .sell_at(1, &[("coffee", 1, TenderKind::Cash, late)])
        .await;
    let cookie = chain.login("owner@acme.example").await;
    let price = common::demo_product("coffee").price;
    let coffee = serde_json::to_value(price).unwrap();
    let march_31 = day_figures(&chain, &cookie, "2026-03-31").await;
    let april_1 = day_figures(&chain, &cookie, "2026-04-01").await;
    assert_eq!(
        march_31[&chain.acme.store],
        (1, coffee.clone()),
        "UTC store"
    );
    assert_eq!(march_31[&chain.harbour].0, 0, "at UTC+2 it was 1 April");
    assert_eq!(april_1[&chain.harbour], (1, coffee.clone()));
    assert_eq!(april_1[&chain.acme.store].0, 0);

    // The heatmap: Tuesday 23:00 for the UTC store, Wednesday 01:00 for the harbour.
    let (status, page) = chain
        .get(
            &cookie,
            &format!(
                "/ui/t/{}/sales?from=2026-03-30&to=2026-04-02",
                chain.acme.id
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<title>Tue 23:00 1 sales</title>"), "{page}");
    assert!(page.contains("<title>Wed 01:00 1 sales</title>"), "{page}");
    assert!(page.contains("<title>Wed 00:00 0 sales</title>"));

    // Payments (and products) count the same days: the export's payment rows for 1 April
    // hold the harbour's cash only.
    let (status, csv) = chain
        .get(
            &cookie,
            &format!(
                "/ui/t/{}/export/payments.csv?from=2026-04-01&to=2026-04-01",
                chain.acme.id
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    let cash_row = csv
        .lines()
        .find(|l| l.to_lowercase().starts_with("cash"))
        .unwrap();
    assert!(cash_row.contains(&price.display_amount()), "{csv}");
    assert!(!csv.to_lowercase().contains("card"), "{csv}");

    // Terminals' last contact is shown on their store's clock.
    let (_, page) = chain
        .get(&cookie, &format!("/ui/t/{}/terminals", chain.acme.id))
        .await;
    assert!(page.contains("(UTC+02:00)"), "{page}");
    assert!(page.contains("(UTC)"), "{page}");

    // Back on UTC (set on the dashboard), the harbour's figures are counted again on it.
    let (status, page) = chain
        .post_form(
            &cookie,
            &format!("/ui/t/{}/clock", chain.acme.id),
            &[
                ("store", chain.harbour.as_str()),
                ("utc_offset", "nonsense"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("is not an offset from UTC"), "{page}");
    let (status, _) = chain
        .post_form(
            &cookie,
            &format!("/ui/t/{}/clock", chain.acme.id),
            &[("store", chain.harbour.as_str()), ("utc_offset", "UTC")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let march_31 = day_figures(&chain, &cookie, "2026-03-31").await;
    assert_eq!(march_31[&chain.harbour], (1, coffee));
}

/// The harbour's sales on 28, 29 and 30 March 2026, on its clock.
async fn harbour_days(chain: &Chain, cookie: &str) -> Vec<u64> {
    let mut days = Vec::new();
    for date in ["2026-03-28", "2026-03-29", "2026-03-30"] {
        days.push(day_figures(chain, cookie, date).await[&chain.harbour].0);
    }
    days
}

async fn a_store_in_a_time_zone_counts_its_days_across_the_summer_time_change(backend: Backend) {
    let mut chain = Chain::new(&backend).await;
    let clock = format!("/api/v1/stores/{}/clock", chain.harbour);
    let (status, refused) = chain
        .fleet
        .call(
            "PUT",
            &clock,
            Some(&chain.acme.owner),
            Some(json!({"time_zone": "Europe/Nowhere"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("not a time zone this server knows"),
        "{refused}"
    );
    let (status, store) = chain
        .fleet
        .call(
            "PUT",
            &clock,
            Some(&chain.acme.owner),
            Some(json!({"time_zone": "Europe/Zurich"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{store}");
    assert_eq!(store["time_zone"], "Europe/Zurich");

    // Zurich moves from UTC+1 to UTC+2 at 01:00 UTC on Sunday 29 March 2026. One coffee at
    // 23:30 on the Saturday (22:30 UTC), one at 23:30 on the Sunday (21:30 UTC) and one at
    // 00:30 on the Monday (22:30 UTC on the Sunday): one a day, whichever fixed offset would
    // have put two on one day.
    let saturday_late = 1_774_737_000_000;
    let sunday_late = 1_774_819_800_000;
    let monday_early = 1_774_823_400_000;
    for (ms, utc) in [
        (saturday_late, "2026-03-28 22:30:00.0 +00:00:00"),
        (sunday_late, "2026-03-29 21:30:00.0 +00:00:00"),
        (monday_early, "2026-03-29 22:30:00.0 +00:00:00"),
    ] {
        assert_eq!(
            time::OffsetDateTime::from_unix_timestamp(ms / 1_000)
                .unwrap()
                .to_string(),
            utc
        );
        chain
            .sell_at(1, &[("coffee", 1, TenderKind::Cash, ms)])
            .await;
    }
    let cookie = chain.login("owner@acme.example").await;
    assert_eq!(harbour_days(&chain, &cookie).await, [1, 1, 1]);

    // On a fixed summer offset two land on the Sunday; back on the zone, one a day again.
    let (status, _) = chain
        .fleet
        .call(
            "PUT",
            &clock,
            Some(&chain.acme.owner),
            Some(json!({"utc_offset": "+02:00"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(harbour_days(&chain, &cookie).await, [0, 2, 1]);
    let (status, page) = chain
        .post_form(
            &cookie,
            &format!("/ui/t/{}/clock", chain.acme.id),
            &[
                ("store", chain.harbour.as_str()),
                ("time_zone", "Europe/Zurich"),
                ("utc_offset", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert_eq!(harbour_days(&chain, &cookie).await, [1, 1, 1]);
    let (_, page) = chain
        .get(&cookie, &format!("/ui/t/{}/terminals", chain.acme.id))
        .await;
    assert!(page.contains("Europe/Zurich, UTC+0"), "{page}");
}

async fn stock_and_terminals_show_what_the_terminals_reported(backend: Backend) {
    let chain = Chain::new(&backend).await;
    chain.pull_all(0).await;
    let cookie = chain.login("owner@acme.example").await;
    let (status, page) = chain
        .get(&cookie, &format!("/ui/t/{}/stock", chain.acme.id))
        .await;
    assert_eq!(status, StatusCode::OK);
    // No opening stock was counted: the levels are what was sold, negative.
    let milk = page
        .split("<tr>")
        .find(|row| row.to_lowercase().contains("milk"))
        .unwrap();
    assert!(milk.contains(">-2<") && milk.contains(">-1<"), "{milk}");
    let (status, page) = chain
        .get(&cookie, &format!("/ui/t/{}/terminals", chain.acme.id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Till 1") && page.contains("Till 2"), "{page}");
    assert!(!page.contains("Bolt Till"));
    let till_1 = page
        .split("<tr ")
        .find(|row| row.contains(&chain.tills[0].device))
        .unwrap();
    assert!(!till_1.contains(">never<"), "pushed and pulled: {till_1}");
    assert!(
        till_1.contains(r#"class="num waiting">0<"#),
        "pulled everything: {till_1}"
    );
}

/// The dashboard as a person uses it, in headless Chromium; screenshots on request.
#[tokio::test]
async fn the_dashboard_in_a_browser() {
    let chain = Chain::new(&Backend::Sqlite).await;
    let base = chain.fleet.base.clone();
    let acme = chain.acme.id.clone();
    let bolt = chain.bolt.id.clone();
    let mut chain = chain;
    let expected_today = chain.euros(&chain.acme.store);
    chain.week_before().await;
    let mitte = chain.acme.store.clone();
    let (at_text, _) = in_an_hour();
    let sold = chain.sold.clone();
    let harbour = chain.harbour.clone();
    let shots = tokio::task::spawn_blocking(move || {
        let mut shots: Vec<(&str, Vec<u8>)> = Vec::new();
        let mut browser = browser::Browser::start(1280, 900);
        browser.open(&format!("{base}/ui"));
        browser.wait_for("location.pathname === '/ui/login'");
        shots.push(("fleet-login", browser.screenshot()));
        browser.fill("#email", "owner@acme.example");
        browser.fill("#password", OWNER_PASSWORD);
        browser.submit("#login");
        browser.wait_for("document.querySelector('#branches')");
        let today = browser.text(&format!("tr[data-store='{mitte}'] .today"));
        assert_eq!(today, expected_today);
        shots.push(("fleet-overview", browser.screenshot()));

        browser.open(&format!("{base}/ui/t/{acme}/sales"));
        assert!(browser.text("#top-products").contains("Coffee"));
        shots.push(("fleet-sales", browser.screenshot()));
        browser.open(&format!("{base}/ui/t/{acme}/stock"));
        shots.push(("fleet-stock", browser.screenshot()));
        browser.open(&format!("{base}/ui/t/{acme}/terminals"));
        assert!(browser.text("#terminals").contains("Till 2"));
        shots.push(("fleet-terminals", browser.screenshot()));

        browser.open(&format!("{base}/ui/t/{acme}/catalogue"));
        browser.eval("document.querySelector('#price-product').value = 'milk'");
        browser.fill("#price-value", "1.19");
        browser.fill("#price-at", &at_text);
        browser.submit("#schedule-price");
        let notice = browser.text("#notice");
        assert!(notice.contains("milk goes to 1.19 EUR"), "{notice}");
        shots.push(("fleet-catalogue", browser.screenshot()));

        browser.open(&format!("{base}/ui/t/{bolt}"));
        assert_eq!(
            browser.text("#refusal"),
            format!("No tenant {bolt} among those you manage.")
        );
        let status = browser.eval(&format!(
            "fetch('/ui/t/{bolt}/overview.json').then(r => r.status)"
        ));
        assert_eq!(status, json!(404));

        browser.open(&format!("{base}/ui/t/{acme}"));
        let csv_text = browser.eval(
            "fetch(document.querySelector('#export-branches-csv').getAttribute('href')).then(r => r.text())",
        );
        let mut reader = csv::Reader::from_reader(csv_text.as_str().unwrap().as_bytes());
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        for store in [&mitte, &harbour] {
            let row = records.iter().find(|r| &r[1] == store.as_str()).unwrap();
            assert_eq!(
                &row[3],
                Money::from_minor(sold[store.as_str()], Currency::EUR).display_amount()
            );
        }
        shots
    })
    .await
    .unwrap();

    let changes = chain.pull_all(0).await;
    let schedules = price_schedules(&changes);
    assert_eq!(
        schedules.len(),
        1,
        "the price set in the browser reached the till"
    );
    assert_eq!(
        schedules[0]["data"]["price"],
        serde_json::to_value(Money::from_minor(119, Currency::EUR)).unwrap()
    );

    let update = std::env::var_os("POS_UPDATE_SCREENSHOTS").is_some();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    for (name, png) in shots {
        assert!(png.starts_with(b"\x89PNG"), "{name} is not a PNG");
        assert!(
            png.len() > 10_000,
            "{name} looks empty ({} bytes)",
            png.len()
        );
        if update {
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
    }
}
