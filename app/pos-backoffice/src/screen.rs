//! The bridge between the back office's Slint globals and [`BackOffice`]: every callback
//! becomes one action, and what it returns (or why it was refused) is copied back into the
//! globals. Only the UI thread calls in here. The customers and people pages have their own
//! submodules.

mod customers;
mod labels;
mod orders;
mod people;
mod settings;

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use pos_core::catalog::Product;
use pos_core::id::{CategoryId, UserId};
use pos_core::quantity::Quantity;
use pos_reports::{ReportKind, Table};
use pos_store::inventory::{ProductFilter, ProductListing, ProductStatus};
use pos_store::read::ExpiringBatch;
use pos_till::gate::PinGate;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::books::Books;
use crate::export::{Directory, ExportFormat};
use crate::import::{FileKind, ImportPreview};
use crate::office::{AdjustReason, BackOffice, BackOfficeError};
use crate::product_form::ProductForm;
use pos_ui::{
    AppWindow as Window, Bar, BatchRow, Dash, ExpiryRow, ImportRow, Office, OfficePerson, People,
    PeopleTab, ProductRow, Products, ReorderRow, Reports, Section, Stock, StockCountRow, StockTab,
    Tone, TopRow,
};

/// What the screen remembers between callbacks: the rows on screen, so a tap on row `i`
/// finds its product.
#[derive(Default)]
struct Shown {
    listing: Vec<ProductListing>,
    categories: Vec<CategoryId>,
    editing: Option<Product>,
    variants: Vec<Product>,
    preview: Option<ImportPreview>,
    expiring: Vec<ExpiringBatch>,
    customers: customers::Shown,
    orders: orders::Shown,
    people: people::Shown,
    labels: labels::Shown,
    settings: settings::Shown,
}

struct Inner<B: Books> {
    office: BackOffice<B>,
    gate: Rc<PinGate>,
    shown: Shown,
    /// An unknown barcode brought from the till, for the product form after sign-in.
    new_product_code: Option<String>,
    /// Refreshes the dashboard while it is on screen.
    live: slint::Timer,
    /// Told when the shop's settings or loyalty programme are saved.
    shop_saved: Option<Box<dyn Fn()>>,
}

/// How often the dashboard on screen is filled afresh, so sales rung up meanwhile (here or,
/// once synced, at the store's other tills) show without a tap.
const DASHBOARD_REFRESH: std::time::Duration = std::time::Duration::from_secs(10);

/// The back office's window wired to a [`BackOffice`]. Cheap to clone; clones share it.
pub struct BackOfficeScreen<B: Books + 'static> {
    window: slint::Weak<Window>,
    inner: Rc<RefCell<Inner<B>>>,
}

impl<B: Books + 'static> Clone for BackOfficeScreen<B> {
    fn clone(&self) -> Self {
        BackOfficeScreen {
            window: self.window.clone(),
            inner: self.inner.clone(),
        }
    }
}

fn text(value: impl Into<SharedString>) -> SharedString {
    value.into()
}

fn model<T: Clone + 'static>(rows: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(rows))
}

fn quantity_text(quantity: Quantity) -> String {
    quantity.value().normalize().to_string()
}

fn product_row(product: &Product, level: Option<Quantity>, low: bool) -> ProductRow {
    ProductRow {
        sku: text(product.sku.as_str()),
        name: text(product.display_name()),
        price: text(product.price.display_amount()),
        stock: text(level.map(quantity_text).unwrap_or_default()),
        low,
        archived: !product.active,
    }
}

impl<B: Books + 'static> BackOfficeScreen<B> {
    /// Labels are printed on `printer` (the terminal's configured label printer).
    pub fn set_label_printer(&self, printer: Box<dyn crate::labels::LabelPrinter>) {
        self.inner.borrow_mut().office.set_label_printer(printer);
    }

    /// Wires `window` to `office`; people sign in with their PINs at `gate`, the door the
    /// service screen shares.
    pub fn new(window: &Window, office: BackOffice<B>, gate: Rc<PinGate>) -> Self {
        let screen = BackOfficeScreen {
            window: window.as_weak(),
            inner: Rc::new(RefCell::new(Inner {
                office,
                gate,
                shown: Shown::default(),
                new_product_code: None,
                live: slint::Timer::default(),
                shop_saved: None,
            })),
        };
        screen.wire(window);
        screen.show_sign_in();
        screen.keep_dashboard_live();
        screen
    }

    fn wire(&self, window: &Window) {
        let office = window.global::<Office>();
        let on = |f: fn(&Self)| {
            let screen = self.clone();
            move || f(&screen)
        };
        office.on_sign_in(on(Self::sign_in));
        office.on_sign_out(on(Self::sign_out));
        office.on_enter(on(Self::enter));
        office.on_leave(on(Self::leave));
        let screen = self.clone();
        office.on_scanned(move |code| screen.scanned(&code));
        let screen = self.clone();
        office.on_add_product(move |code| screen.add_product(&code));
        let screen = self.clone();
        office.on_go(move |section| screen.go(section));

        let products = window.global::<Products>();
        products.on_refresh(on(Self::refresh_products));
        products.on_create(on(Self::create_product));
        products.on_save(on(Self::save_product));
        products.on_archive(on(Self::archive_product));
        products.on_close(on(Self::close_product));
        products.on_generate_barcode(on(Self::generate_barcode));
        products.on_make_variants(on(Self::make_variants));
        products.on_preview(on(Self::preview_import));
        products.on_apply_import(on(Self::apply_import));
        let screen = self.clone();
        products.on_open(move |row| screen.open_listed(row));
        let screen = self.clone();
        products.on_open_variant(move |row| screen.open_variant(row));

        let stock = window.global::<Stock>();
        stock.set_reasons(model(
            ["Damaged", "Theft", "Found", "Own use", "Correction"]
                .into_iter()
                .map(text)
                .collect(),
        ));
        stock.on_look_up(on(Self::look_up_stock));
        stock.on_receive(on(Self::receive));
        stock.on_adjust(on(Self::adjust));
        stock.on_add_count(on(Self::add_count));
        stock.on_post_count(on(Self::post_count));
        stock.on_clear_count(on(Self::clear_count));
        stock.on_show_expiring(on(Self::show_expiring));
        stock.on_show_reorder(on(Self::show_reorder));
        let screen = self.clone();
        stock.on_write_off(move |row| screen.write_off(row));

        let reports = window.global::<Reports>();
        reports.set_kinds(model(
            ReportKind::ALL.iter().map(|k| text(k.title())).collect(),
        ));
        reports.on_show(on(Self::show_report));
        let screen = self.clone();
        reports.on_export(move |format| screen.export(format));
        window.global::<Dash>().on_refresh(on(Self::show_dashboard));
        self.wire_customers(window);
        self.wire_orders(window);
        self.wire_people(window);
        self.wire_labels(window);
        self.wire_settings(window);
    }

    /// Lets the settings page edit this terminal's hardware through `hardware`.
    pub fn attach_hardware(&self, hardware: impl crate::settings::TerminalHardware + 'static) {
        self.inner.borrow_mut().office.set_hardware(hardware);
    }

    /// Calls `handler` after every save of the shop's settings or loyalty programme: the
    /// terminal hands them to its till, which uses them from the next sale.
    pub fn on_shop_saved(&self, handler: impl Fn() + 'static) {
        self.inner.borrow_mut().shop_saved = Some(Box::new(handler));
    }

    fn tell_shop_saved(&self) {
        // Taken out while it runs: the handler may read the store the back office shares.
        let handler = self.inner.borrow_mut().shop_saved.take();
        if let Some(handler) = handler {
            handler();
            self.inner.borrow_mut().shop_saved = Some(handler);
        }
    }

    /// A callback that runs `f` on this screen.
    fn on(&self, f: fn(&Self)) -> impl Fn() + 'static {
        let screen = self.clone();
        move || f(&screen)
    }

    /// A time on the shop's clock, as lists show it: `2026-03-02 11:00`.
    fn local_time(&self, at: pos_core::clock::Timestamp) -> String {
        let local = at.local(self.inner.borrow().office.shop().utc_offset);
        format!(
            "{} {:02}:{:02}",
            local.date,
            local.minute_of_day / 60,
            local.minute_of_day % 60
        )
    }

    fn with_window(&self, f: impl FnOnce(&Window)) {
        if let Some(window) = self.window.upgrade() {
            f(&window);
        }
    }

    fn say(&self, message: &str, tone: Tone) {
        self.with_window(|w| {
            let office = w.global::<Office>();
            office.set_message(text(message));
            office.set_tone(tone);
        });
    }

    fn problem(&self, error: &BackOfficeError) {
        self.say(&error.to_string(), Tone::Problem);
    }

    fn done(&self, message: &str) {
        self.say(message, Tone::Success);
    }

    // ---- Sign-in and navigation -------------------------------------------------------------

    fn show_sign_in(&self) {
        let people = self.inner.borrow().gate.people();
        self.with_window(|w| {
            let office = w.global::<Office>();
            office.set_people(model(
                people
                    .iter()
                    .map(|a| OfficePerson {
                        id: text(a.user.as_str()),
                        name: text(a.name.as_str()),
                        role: text(a.role.name.as_str()),
                    })
                    .collect(),
            ));
            office.set_person(text(""));
            office.set_pin(text(""));
            office.set_section(Section::SignIn);
            office.set_shop(text(self.inner.borrow().office.shop().name.as_str()));
        });
    }

    fn sign_in(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let office_global = window.global::<Office>();
        let user = UserId::new(office_global.get_person().as_str());
        let pin = office_global.get_pin().to_string();
        office_global.set_pin(text(""));
        let result = {
            let mut inner = self.inner.borrow_mut();
            let now = inner.office.now();
            match inner.gate.check(&user, &pin, now) {
                Ok(actor) => {
                    let label = format!("{} · {}", actor.name, actor.role.name);
                    inner.office.sign_in(actor).map(|()| label)
                }
                Err(refused) => Err(BackOfficeError::Input(refused.to_string())),
            }
        };
        match result {
            Ok(label) => {
                office_global.set_user(text(label));
                // The first section this person may see.
                let first = {
                    use crate::office::permission::{
                        CUSTOMERS_VIEW, PRODUCTS_VIEW, REPORTS_VIEW, STOCK_VIEW,
                    };
                    let inner = self.inner.borrow();
                    let may = |permission| inner.office.allow(permission).is_ok();
                    if may(REPORTS_VIEW) {
                        Section::Dashboard
                    } else if may(PRODUCTS_VIEW) {
                        Section::Products
                    } else if may(STOCK_VIEW) {
                        Section::Stock
                    } else if may(CUSTOMERS_VIEW) {
                        Section::Customers
                    } else {
                        Section::People
                    }
                };
                self.go(first);
                let brought = self.inner.borrow_mut().new_product_code.take();
                if let Some(code) = brought {
                    self.create_product();
                    self.with_window(|w| {
                        if w.global::<Office>().get_section() == Section::ProductEdit {
                            w.global::<Products>().set_barcodes(text(code));
                        }
                    });
                }
            }
            Err(error) => self.problem(&error),
        }
    }

    /// From the till: a manager makes a product of the unknown barcode just scanned, in the
    /// product form once they have signed in.
    fn add_product(&self, code: &str) {
        self.enter();
        self.inner.borrow_mut().new_product_code = Some(code.trim().to_owned());
        self.say(
            &format!("Sign in to add {} as a new product", code.trim()),
            Tone::Info,
        );
    }

    fn keep_dashboard_live(&self) {
        // Weak: the timer lives in what it refreshes.
        let inner = Rc::downgrade(&self.inner);
        let window = self.window.clone();
        self.inner
            .borrow()
            .live
            .start(slint::TimerMode::Repeated, DASHBOARD_REFRESH, move || {
                let (Some(inner), Some(shown)) = (inner.upgrade(), window.upgrade()) else {
                    return;
                };
                let office = shown.global::<Office>();
                if office.get_open() && office.get_section() == Section::Dashboard {
                    let window = window.clone();
                    BackOfficeScreen { window, inner }.show_dashboard();
                }
            });
    }

    /// Opens the back office over the till at its sign-in, with today's people.
    fn enter(&self) {
        self.sign_out();
        self.with_window(|w| w.global::<Office>().set_open(true));
    }

    /// Back to the till: whoever was signed in here is signed out.
    fn leave(&self) {
        self.inner.borrow_mut().new_product_code = None;
        self.sign_out();
        self.with_window(|w| w.global::<Office>().set_open(false));
    }

    /// A scan while the back office is open looks the code up in the product list, for
    /// whoever is signed in; before sign-in it is ignored, never rung up on the till beneath.
    fn scanned(&self, code: &str) {
        if self.inner.borrow().office.actor().is_none() {
            return;
        }
        self.with_window(|w| w.global::<Products>().set_search(text(code)));
        self.go(Section::Products);
    }

    fn sign_out(&self) {
        self.inner.borrow_mut().office.sign_out();
        self.inner.borrow_mut().shown = Shown::default();
        self.forget_customers_and_people();
        self.with_window(|w| {
            let o = w.global::<pos_ui::Orders>();
            o.set_is_open(false);
            o.set_transfer_open(false);
        });
        self.say("", Tone::Info);
        self.show_sign_in();
    }

    /// Opens a section, filled with fresh figures.
    pub fn go(&self, section: Section) {
        self.say("", Tone::Info);
        self.with_window(|w| w.global::<Office>().set_section(section));
        match section {
            Section::Products => self.refresh_products(),
            Section::Dashboard => self.show_dashboard(),
            Section::Reports => self.show_report(),
            Section::Import => {
                self.with_window(|w| {
                    let products = w.global::<Products>();
                    products.set_import_rows(model(Vec::new()));
                    products.set_import_summary(text(""));
                    products.set_import_ready(false);
                });
            }
            Section::Stock => {
                let tab = self.window.upgrade().map(|w| w.global::<Stock>().get_tab());
                match tab {
                    Some(StockTab::Expiring) => self.show_expiring(),
                    Some(StockTab::Reorder) => self.show_reorder(),
                    _ => {}
                }
            }
            Section::Orders => self.show_orders(),
            Section::Customers => self.show_customers(),
            Section::Labels => self.show_labels(),
            Section::People => {
                let tab = self
                    .window
                    .upgrade()
                    .map(|w| w.global::<People>().get_tab());
                self.show_people(tab.unwrap_or(PeopleTab::Staff));
            }
            Section::Settings => {
                let tab = self
                    .window
                    .upgrade()
                    .map(|w| w.global::<pos_ui::Settings>().get_tab());
                self.show_settings(tab.unwrap_or(pos_ui::SettingsTab::Store));
            }
            Section::SignIn | Section::ProductEdit => {}
        }
    }

    // ---- Products ---------------------------------------------------------------------------

    fn refresh_products(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let products = window.global::<Products>();
        let mut inner = self.inner.borrow_mut();
        if inner.shown.categories.is_empty() {
            let categories = inner.office.books().categories().unwrap_or_default();
            let mut names = vec![text("All categories")];
            names.extend(categories.iter().map(|(_, name)| text(name.as_str())));
            products.set_categories(model(names));
            inner.shown.categories = categories.into_iter().map(|(id, _)| id).collect();
        }
        let category_index = usize::try_from(products.get_category()).unwrap_or(0);
        let filter = ProductFilter {
            text: products.get_search().to_string(),
            category: category_index
                .checked_sub(1)
                .and_then(|i| inner.shown.categories.get(i).cloned()),
            status: match products.get_status() {
                1 => ProductStatus::Archived,
                2 => ProductStatus::All,
                _ => ProductStatus::Active,
            },
            low_stock_only: products.get_low_only(),
        };
        match inner.office.products(&filter) {
            Ok(listing) => {
                products.set_rows(model(
                    listing
                        .iter()
                        .map(|l| product_row(&l.product, Some(l.level), l.low))
                        .collect(),
                ));
                inner.shown.listing = listing;
            }
            Err(error) => {
                drop(inner);
                products.set_rows(model(Vec::new()));
                self.problem(&error);
            }
        }
    }

    fn open_listed(&self, row: i32) {
        let product = usize::try_from(row)
            .ok()
            .and_then(|i| self.inner.borrow().shown.listing.get(i).cloned())
            .map(|l| l.product);
        if let Some(product) = product {
            self.edit(product, false);
        }
    }

    fn open_variant(&self, row: i32) {
        let product = usize::try_from(row)
            .ok()
            .and_then(|i| self.inner.borrow().shown.variants.get(i).cloned());
        if let Some(product) = product {
            self.edit(product, false);
        }
    }

    fn create_product(&self) {
        let allowed = {
            let inner = self.inner.borrow();
            inner
                .office
                .allow(crate::office::permission::PRODUCTS_EDIT)
                .map(|_| ())
        };
        if let Err(error) = allowed {
            self.problem(&error);
            return;
        }
        let blank = self.inner.borrow_mut().office.blank_product();
        self.edit(blank, true);
    }

    /// Shows `product` in the form, with its variants.
    fn edit(&self, product: Product, is_new: bool) {
        let variants = if is_new || product.parent.is_some() {
            Vec::new()
        } else {
            self.inner
                .borrow()
                .office
                .variants_of(&product.id)
                .unwrap_or_default()
        };
        let form = ProductForm::from_product(&product);
        self.with_window(|w| {
            let p = w.global::<Products>();
            p.set_title(text(if is_new {
                "New product".to_owned()
            } else {
                product.display_name()
            }));
            p.set_is_new(is_new);
            p.set_is_variant(product.parent.is_some());
            p.set_archived(!product.active);
            p.set_sku(text(form.sku));
            p.set_name(text(form.name));
            p.set_barcodes(text(form.barcodes));
            p.set_cost(text(if is_new { String::new() } else { form.cost }));
            p.set_price(text(if is_new { String::new() } else { form.price }));
            p.set_tax(text(form.tax_category));
            p.set_category_id(text(form.category));
            p.set_vendor(text(form.vendor));
            p.set_weighed(form.weighed);
            p.set_threshold(text(form.low_stock_threshold));
            p.set_variants(model(
                variants
                    .iter()
                    .map(|v| product_row(v, None, false))
                    .collect(),
            ));
            w.global::<Office>().set_section(Section::ProductEdit);
        });
        let mut inner = self.inner.borrow_mut();
        inner.shown.editing = Some(product);
        inner.shown.variants = variants;
    }

    fn form(&self) -> Option<ProductForm> {
        let window = self.window.upgrade()?;
        let p = window.global::<Products>();
        Some(ProductForm {
            sku: p.get_sku().to_string(),
            name: p.get_name().to_string(),
            barcodes: p.get_barcodes().to_string(),
            cost: p.get_cost().to_string(),
            price: p.get_price().to_string(),
            tax_category: p.get_tax().to_string(),
            category: p.get_category_id().to_string(),
            vendor: p.get_vendor().to_string(),
            weighed: p.get_weighed(),
            low_stock_threshold: p.get_threshold().to_string(),
        })
    }

    fn save_product(&self) {
        let (Some(form), Some(base)) = (self.form(), self.inner.borrow().shown.editing.clone())
        else {
            return;
        };
        let saved = self.inner.borrow_mut().office.save_product(&base, &form);
        match saved {
            Ok(product) => {
                self.edit(product.clone(), false);
                self.done(&format!("{} is saved", product.display_name()));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn archive_product(&self) {
        let Some(base) = self.inner.borrow().shown.editing.clone() else {
            return;
        };
        let changed = self
            .inner
            .borrow_mut()
            .office
            .set_active(&base.id, !base.active);
        match changed {
            Ok(product) => {
                let message = if product.active {
                    format!("{} is back on sale", product.display_name())
                } else {
                    format!("{} is archived: it no longer sells", product.display_name())
                };
                self.edit(product, false);
                self.done(&message);
            }
            Err(error) => self.problem(&error),
        }
    }

    fn close_product(&self) {
        self.inner.borrow_mut().shown.editing = None;
        self.go(Section::Products);
    }

    fn generate_barcode(&self) {
        let generated = self.inner.borrow().office.generate_barcode();
        match generated {
            Ok(code) => self.with_window(|w| {
                let p = w.global::<Products>();
                let typed = p.get_barcodes().to_string();
                let joined = if typed.trim().is_empty() {
                    code
                } else {
                    format!("{}, {code}", typed.trim())
                };
                p.set_barcodes(text(joined));
            }),
            Err(error) => self.problem(&error),
        }
    }

    fn make_variants(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let p = window.global::<Products>();
        let Some(parent) = self.inner.borrow().shown.editing.clone() else {
            return;
        };
        let made = self.inner.borrow_mut().office.make_variants(
            &parent.id,
            &p.get_sizes(),
            &p.get_colours(),
        );
        match made {
            Ok(variants) => {
                p.set_variants(model(
                    variants
                        .iter()
                        .map(|v| product_row(v, None, false))
                        .collect(),
                ));
                let count = variants.len();
                self.inner.borrow_mut().shown.variants = variants;
                self.done(&format!("{} has {count} variants", parent.name));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn preview_import(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let p = window.global::<Products>();
        let path = p.get_import_path().to_string();
        let read = FileKind::of(&path)
            .ok_or_else(|| BackOfficeError::Input(format!("{path} is not a .csv or .xlsx file")))
            .and_then(|kind| {
                let bytes = std::fs::read(Path::new(path.trim())).map_err(|error| {
                    BackOfficeError::Input(format!("{path} cannot be read: {error}"))
                })?;
                self.inner.borrow().office.preview_import(&bytes, kind)
            });
        match read {
            Ok(preview) => {
                p.set_import_rows(model(
                    preview
                        .rows
                        .iter()
                        .map(|row| ImportRow {
                            line: text(row.line.to_string()),
                            sku: text(row.sku.as_str()),
                            name: text(row.name.as_str()),
                            problem: text(row.outcome.as_ref().err().cloned().unwrap_or_default()),
                        })
                        .collect(),
                ));
                let (good, bad) = (preview.good_rows(), preview.bad_rows());
                p.set_import_summary(text(format!("{good} row(s) ready, {bad} with a mistake")));
                p.set_import_ready(bad == 0 && good > 0);
                if bad > 0 {
                    self.say(
                        &format!("{bad} row(s) have mistakes; correct the file and preview it again. Nothing is imported until every row is right."),
                        Tone::Problem,
                    );
                } else {
                    self.say(&format!("{good} row(s) are ready to apply"), Tone::Info);
                }
                self.inner.borrow_mut().shown.preview = Some(preview);
            }
            Err(error) => {
                p.set_import_ready(false);
                self.inner.borrow_mut().shown.preview = None;
                self.problem(&error);
            }
        }
    }

    fn apply_import(&self) {
        let Some(preview) = self.inner.borrow_mut().shown.preview.take() else {
            return;
        };
        let applied = self.inner.borrow_mut().office.apply_import(&preview);
        match applied {
            Ok(count) => {
                self.with_window(|w| w.global::<Products>().set_import_ready(false));
                self.done(&format!("{count} product(s) imported"));
            }
            Err(error) => {
                self.inner.borrow_mut().shown.preview = Some(preview);
                self.problem(&error);
            }
        }
    }

    // ---- Stock ------------------------------------------------------------------------------

    fn stock_fields(&self) -> Option<(String, String)> {
        let window = self.window.upgrade()?;
        let s = window.global::<Stock>();
        Some((s.get_code().to_string(), s.get_quantity().to_string()))
    }

    fn look_up_stock(&self) {
        let Some((code, _)) = self.stock_fields() else {
            return;
        };
        let found = self.inner.borrow().office.stock_of(&code);
        match found {
            Ok((product, levels)) => self.with_window(|w| {
                let s = w.global::<Stock>();
                s.set_product(text(product.display_name()));
                s.set_batches(model(
                    levels
                        .iter()
                        .map(|l| BatchRow {
                            lot: text(l.batch.as_ref().map_or("–".to_owned(), |b| b.lot.clone())),
                            expiry: text(
                                l.batch
                                    .as_ref()
                                    .and_then(|b| b.expiry)
                                    .map(|d| d.to_string())
                                    .unwrap_or_default(),
                            ),
                            level: text(quantity_text(l.level)),
                        })
                        .collect(),
                ));
            }),
            Err(error) => self.problem(&error),
        }
    }

    fn clear_stock_inputs(&self) {
        self.with_window(|w| {
            let s = w.global::<Stock>();
            s.set_quantity(text(""));
            s.set_lot(text(""));
            s.set_expiry(text(""));
            s.set_reference(text(""));
        });
    }

    fn receive(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let s = window.global::<Stock>();
        let received = self.inner.borrow_mut().office.receive(
            &s.get_code(),
            &s.get_quantity(),
            &s.get_lot(),
            &s.get_expiry(),
            &s.get_reference(),
        );
        match received {
            Ok(movement) => {
                self.clear_stock_inputs();
                self.done(&format!(
                    "{} received into stock",
                    quantity_text(movement.quantity)
                ));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn adjust(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let s = window.global::<Stock>();
        let reason = usize::try_from(s.get_reason())
            .ok()
            .and_then(|i| AdjustReason::ALL.get(i).copied())
            .unwrap_or(AdjustReason::Correction);
        let adjusted =
            self.inner
                .borrow_mut()
                .office
                .adjust(&s.get_code(), &s.get_quantity(), reason);
        match adjusted {
            Ok(movement) => {
                self.clear_stock_inputs();
                self.done(&format!(
                    "stock adjusted by {} ({})",
                    quantity_text(movement.quantity),
                    reason.code()
                ));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn show_count(&self) {
        let rows: Vec<StockCountRow> = self
            .inner
            .borrow()
            .office
            .count_lines()
            .iter()
            .map(|line| StockCountRow {
                name: text(line.product.display_name()),
                expected: text(quantity_text(line.expected)),
                counted: text(quantity_text(line.counted)),
                difference: text(quantity_text(line.difference)),
            })
            .collect();
        self.with_window(|w| w.global::<Stock>().set_counted(model(rows)));
    }

    fn add_count(&self) {
        let Some((code, counted)) = self.stock_fields() else {
            return;
        };
        let added = self
            .inner
            .borrow_mut()
            .office
            .count(&code, &counted)
            .map(|lines| lines.len());
        match added {
            Ok(count) => {
                self.with_window(|w| {
                    let s = w.global::<Stock>();
                    s.set_code(text(""));
                    s.set_quantity(text(""));
                });
                self.show_count();
                self.say(
                    &format!(
                        "{count} product(s) counted; check the differences, then post the count"
                    ),
                    Tone::Info,
                );
            }
            Err(error) => self.problem(&error),
        }
    }

    fn post_count(&self) {
        let posted = self.inner.borrow_mut().office.post_count();
        match posted {
            Ok(corrections) => {
                self.show_count();
                self.done(&format!(
                    "count posted: {} correction(s) booked",
                    corrections.len()
                ));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn clear_count(&self) {
        self.inner.borrow_mut().office.clear_count();
        self.show_count();
    }

    fn show_expiring(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let s = window.global::<Stock>();
        let listed = self.inner.borrow().office.expiring(&s.get_days());
        let today = self.inner.borrow().office.today();
        match listed {
            Ok(batches) => {
                s.set_expiring(model(
                    batches
                        .iter()
                        .map(|b| ExpiryRow {
                            name: text(b.name.as_str()),
                            lot: text(b.lot.as_str()),
                            expiry: text(b.expiry.to_string()),
                            level: text(quantity_text(b.level)),
                            expired: b.expiry < today,
                        })
                        .collect(),
                ));
                self.inner.borrow_mut().shown.expiring = batches;
            }
            Err(error) => self.problem(&error),
        }
    }

    fn write_off(&self, row: i32) {
        let Some(batch) = usize::try_from(row)
            .ok()
            .and_then(|i| self.inner.borrow().shown.expiring.get(i).cloned())
        else {
            return;
        };
        let written = self.inner.borrow_mut().office.write_off(&batch);
        match written {
            Ok(movement) => {
                self.show_expiring();
                self.done(&format!(
                    "{} of {} (lot {}) written off",
                    quantity_text(movement.quantity.negate()),
                    batch.name,
                    batch.lot
                ));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn show_reorder(&self) {
        let lines = self.inner.borrow().office.reorder();
        match lines {
            Ok(lines) => self.with_window(|w| {
                w.global::<Stock>().set_reorder(model(
                    lines
                        .iter()
                        .map(|l| ReorderRow {
                            sku: text(l.sku.as_str()),
                            name: text(l.name.as_str()),
                            level: text(quantity_text(l.level)),
                            threshold: text(quantity_text(l.threshold)),
                            sold: text(quantity_text(l.sold_recently)),
                            order: text(quantity_text(l.order)),
                        })
                        .collect(),
                ));
            }),
            Err(error) => self.problem(&error),
        }
    }

    // ---- Reports and dashboard --------------------------------------------------------------

    fn report_choice(&self) -> Option<(ReportKind, String, String)> {
        let window = self.window.upgrade()?;
        let r = window.global::<Reports>();
        let kind = usize::try_from(r.get_kind())
            .ok()
            .and_then(|i| ReportKind::ALL.get(i).copied())
            .unwrap_or(ReportKind::SalesByDay);
        Some((kind, r.get_from().to_string(), r.get_to().to_string()))
    }

    fn show_table(&self, table: &Table) {
        self.with_window(|w| {
            let r = w.global::<Reports>();
            r.set_title(text(table.title.as_str()));
            r.set_period(text(table.period.as_str()));
            r.set_columns(model(
                table
                    .columns
                    .iter()
                    .map(|c| text(c.heading(table.currency)))
                    .collect(),
            ));
            r.set_rows(model(
                table
                    .rows
                    .iter()
                    .map(|row| model(row.iter().map(|c| text(c.shown())).collect()))
                    .collect(),
            ));
            r.set_totals(model(
                table.totals.iter().map(|c| text(c.shown())).collect(),
            ));
        });
    }

    fn show_report(&self) {
        let Some((kind, from, to)) = self.report_choice() else {
            return;
        };
        let made = {
            let inner = self.inner.borrow();
            inner
                .office
                .period(&from, &to)
                .and_then(|period| inner.office.report(kind, &period))
        };
        match made {
            Ok(table) => self.show_table(&table),
            Err(error) => self.problem(&error),
        }
    }

    fn export(&self, format: i32) {
        let Some((kind, from, to)) = self.report_choice() else {
            return;
        };
        let format = ExportFormat::from_choice(format);
        let folder = self
            .window
            .upgrade()
            .map(|w| w.global::<Reports>().get_folder().to_string())
            .unwrap_or_default();
        let written = {
            let inner = self.inner.borrow();
            inner.office.period(&from, &to).and_then(|period| {
                inner
                    .office
                    .export(kind, &period, format, &Directory::new(folder.trim()))
            })
        };
        match written {
            Ok(path) => self.done(&format!("saved as {}", path.display())),
            Err(error) => self.problem(&error),
        }
    }

    fn show_dashboard(&self) {
        let figures = self.inner.borrow().office.dashboard();
        match figures {
            Ok(d) => self.with_window(|w| {
                let dash = w.global::<Dash>();
                dash.set_sales(text(d.sales.to_string()));
                dash.set_count(text(d.sale_count.to_string()));
                dash.set_low_stock(text(d.low_stock.to_string()));
                let bars = |rows: &[(String, pos_core::money::Money, f32)], short: bool| {
                    model(
                        rows.iter()
                            .map(|(label, amount, share)| Bar {
                                label: text(if short {
                                    label.chars().take(2).collect::<String>()
                                } else {
                                    label.clone()
                                }),
                                amount: text(amount.display_amount()),
                                share: *share,
                            })
                            .collect(),
                    )
                };
                dash.set_hours(bars(&d.hours, true));
                dash.set_payments(bars(&d.payments, false));
                dash.set_top(model(
                    d.top_products
                        .iter()
                        .map(|(name, quantity, total)| TopRow {
                            name: text(name.as_str()),
                            quantity: text(quantity.as_str()),
                            total: text(total.display_amount()),
                        })
                        .collect(),
                ));
            }),
            Err(error) => self.problem(&error),
        }
    }
}
