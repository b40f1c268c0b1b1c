//! The settings page: the shop's settings copied into the `Settings` global, and each of its
//! saves turned into one [`BackOffice`](crate::BackOffice) action. After a save of the shop's
//! settings the terminal is told (see [`BackOfficeScreen::on_shop_saved`]) so its till uses
//! them from the next sale.

use std::path::{Path, PathBuf};

use pos_core::id::{RoleId, TaxRateId};
use pos_core::tax::{PriceMode, TaxRounding};
use pos_core::tenant::Store as Shop;
use slint::{ComponentHandle, Model};

use super::{BackOfficeScreen, model, text};
use crate::books::Books;
use crate::settings::{FeatureSwitch, HardwareSettings, StoreDetails, TaxForm, check_logo};
use pos_ui::{
    AppWindow as Window, FeatureRow, RoleLimitRow, Settings, SettingsTab, TaxRateRow, Tone,
};

/// Header and footer lines the page offers.
const RECEIPT_FIELDS: usize = 4;

/// What the page remembers between callbacks: the rows on screen, in order.
#[derive(Default)]
pub(super) struct Shown {
    rates: Vec<TaxRateId>,
    roles: Vec<RoleId>,
    switches: Vec<FeatureSwitch>,
    /// The logo as it will be saved: the stored one, or one just checked.
    logo: Option<Vec<u8>>,
}

impl<B: Books + 'static> BackOfficeScreen<B> {
    pub(super) fn wire_settings(&self, window: &Window) {
        let s = window.global::<Settings>();
        let screen = self.clone();
        s.on_show(move |tab| screen.show_settings(tab));
        s.on_save_store(self.on(Self::save_store));
        s.on_save_tax(self.on(Self::save_tax));
        s.on_check_logo(self.on(Self::check_logo));
        s.on_save_receipt(self.on(Self::save_receipt));
        s.on_save_discounts(self.on(Self::save_discounts));
        s.on_save_features(self.on(Self::save_features));
        s.on_save_hardware(self.on(Self::save_hardware));
        let screen = self.clone();
        s.on_toggle_feature(move |row| screen.toggle_feature(row));
    }

    /// Opens a tab of the page with the settings as the store holds them now.
    pub(super) fn show_settings(&self, tab: SettingsTab) {
        self.with_window(|w| w.global::<Settings>().set_tab(tab));
        let read = self.inner.borrow_mut().office.settings();
        let shop = match read {
            Ok(shop) => shop,
            Err(error) => {
                self.problem(&error);
                return;
            }
        };
        self.fill_settings(&shop);
        if tab == SettingsTab::Hardware {
            let hardware = self.inner.borrow().office.hardware();
            match hardware {
                Ok(hardware) => self.fill_hardware(&hardware),
                Err(error) => self.problem(&error),
            }
        }
    }

    /// Copies `shop` into every tab, and the staff's roles into the discount limits.
    fn fill_settings(&self, shop: &Shop) {
        let (fixed, switches, roles) = {
            let inner = self.inner.borrow();
            let office = &inner.office;
            (
                office.currency_is_fixed().unwrap_or(true),
                office.feature_switches().unwrap_or_default(),
                office
                    .books()
                    .staff()
                    .map(|staff| staff.roles)
                    .unwrap_or_default(),
            )
        };
        let rates: Vec<_> = shop.taxes.rates().cloned().collect();
        {
            let mut inner = self.inner.borrow_mut();
            let shown = &mut inner.shown.settings;
            shown.rates = rates.iter().map(|r| r.id.clone()).collect();
            shown.roles = roles.iter().map(|r| r.id.clone()).collect();
            shown.switches = switches.clone();
            shown.logo = shop.receipt.logo_png.clone();
        }
        let line = |lines: &[String], i: usize| text(lines.get(i).cloned().unwrap_or_default());
        let logo = shop.receipt.logo_png.as_deref().and_then(png_image);
        self.with_window(|w| {
            let s = w.global::<Settings>();
            s.set_name(text(shop.name.as_str()));
            s.set_address_1(line(&shop.address, 0));
            s.set_address_2(text(shop.address.get(1..).unwrap_or_default().join(", ")));
            s.set_tax_number(text(shop.tax_number.clone().unwrap_or_default()));
            s.set_phone(text(shop.phone.clone().unwrap_or_default()));
            s.set_currency(text(shop.currency.code()));
            s.set_currency_fixed(fixed);
            s.set_rates(model(
                rates
                    .iter()
                    .map(|r| TaxRateRow {
                        name: text(r.name.as_str()),
                        percent: text(
                            (r.rate * rust_decimal::Decimal::ONE_HUNDRED)
                                .normalize()
                                .to_string(),
                        ),
                    })
                    .collect(),
            ));
            s.set_prices_include_tax(shop.tax_policy.price_mode == PriceMode::TaxInclusive);
            s.set_round_per_receipt(shop.tax_policy.rounding == TaxRounding::PerInvoice);
            s.set_cash_step(text(
                shop.cash_rounding
                    .map(|r| r.increment.normalize().to_string())
                    .unwrap_or_default(),
            ));
            let header = &shop.receipt.header;
            let footer = &shop.receipt.footer;
            s.set_header_1(line(header, 0));
            s.set_header_2(line(header, 1));
            s.set_header_3(line(header, 2));
            s.set_header_4(text(header.get(3..).unwrap_or_default().join(" ")));
            s.set_footer_1(line(footer, 0));
            s.set_footer_2(line(footer, 1));
            s.set_footer_3(line(footer, 2));
            s.set_footer_4(text(footer.get(3..).unwrap_or_default().join(" ")));
            s.set_has_logo(logo.is_some());
            if let Some(logo) = logo {
                s.set_logo(logo);
            }
            s.set_logo_note(text(""));
            s.set_store_limit(text(
                shop.discounts
                    .percent_max_without_approval
                    .normalize()
                    .to_string(),
            ));
            s.set_role_limits(model(
                roles
                    .iter()
                    .map(|role| RoleLimitRow {
                        role: text(role.name.as_str()),
                        limit: text(
                            shop.discounts
                                .per_role
                                .get(&role.id)
                                .map(|l| l.normalize().to_string())
                                .unwrap_or_default(),
                        ),
                    })
                    .collect(),
            ));
            s.set_features(model(switches.iter().map(feature_row).collect()));
        });
    }

    fn fill_hardware(&self, hardware: &HardwareSettings) {
        self.with_window(|w| {
            let s = w.global::<Settings>();
            s.set_printer_transport(text(hardware.printer_transport.as_str()));
            s.set_printer_address(text(hardware.printer_address.as_str()));
            s.set_paper(text(hardware.paper.as_str()));
            s.set_drawer_pin(text(hardware.drawer_pin.as_str()));
            s.set_drawer_pulse(text(hardware.drawer_pulse_ms.as_str()));
            s.set_scanner_enabled(hardware.scanner_enabled);
            s.set_scanner_gap(text(hardware.scanner_key_gap_ms.as_str()));
        });
    }

    /// After a save: the page shows what was stored, the message says so, and the terminal
    /// hears of it.
    fn saved(&self, result: Result<Shop, crate::BackOfficeError>, message: &str) {
        match result {
            Ok(shop) => {
                self.fill_settings(&shop);
                self.done(message);
                self.tell_shop_saved();
            }
            Err(error) => self.problem(&error),
        }
    }

    fn save_store(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let s = window.global::<Settings>();
        let details = StoreDetails {
            name: s.get_name().into(),
            address: vec![s.get_address_1().into(), s.get_address_2().into()],
            tax_number: s.get_tax_number().into(),
            phone: s.get_phone().into(),
            currency: s.get_currency().into(),
        };
        let saved = self.inner.borrow_mut().office.save_store_details(&details);
        self.saved(saved, "the store details are saved");
    }

    fn save_tax(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let s = window.global::<Settings>();
        let ids = self.inner.borrow().shown.settings.rates.clone();
        let rows = s.get_rates();
        let form = TaxForm {
            rates: ids
                .into_iter()
                .zip(rows.iter())
                .map(|(id, row)| (id, row.percent.to_string()))
                .collect(),
            price_mode: if s.get_prices_include_tax() {
                PriceMode::TaxInclusive
            } else {
                PriceMode::TaxExclusive
            },
            rounding: if s.get_round_per_receipt() {
                TaxRounding::PerInvoice
            } else {
                TaxRounding::PerLine
            },
            cash_step: s.get_cash_step().into(),
        };
        let saved = self.inner.borrow_mut().office.save_tax(&form);
        self.saved(
            saved,
            "tax and rounding are saved; the till uses them from the next sale",
        );
    }

    /// Reads the logo file from the USB stick (the reports' folder) and shows it if it fits.
    fn check_logo(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let typed: String = window.global::<Settings>().get_logo_file().into();
        let folder: String = window.global::<pos_ui::Reports>().get_folder().into();
        let path = logo_path(Path::new(folder.trim()), typed.trim());
        let checked = std::fs::read(&path)
            .map_err(|error| {
                crate::BackOfficeError::Input(format!(
                    "the logo cannot be read from {}: {error}",
                    path.display()
                ))
            })
            .and_then(|bytes| check_logo(&bytes));
        let s = window.global::<Settings>();
        match checked.and_then(|logo| {
            png_image(&logo.png)
                .map(|image| (logo, image))
                .ok_or_else(|| {
                    crate::BackOfficeError::Input(
                        "the logo is not a PNG image; save it as .png and try again".to_owned(),
                    )
                })
        }) {
            Ok((logo, image)) => {
                s.set_logo(image);
                s.set_has_logo(true);
                let note = format!(
                    "{}×{} pixels: it fits. Save the receipt to print it.",
                    logo.width, logo.height
                );
                s.set_logo_note(text(note.as_str()));
                self.inner.borrow_mut().shown.settings.logo = Some(logo.png);
                self.say(&note, Tone::Info);
            }
            Err(error) => self.problem(&error),
        }
    }

    fn save_receipt(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let s = window.global::<Settings>();
        let header: Vec<String> = [
            s.get_header_1(),
            s.get_header_2(),
            s.get_header_3(),
            s.get_header_4(),
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let footer: Vec<String> = [
            s.get_footer_1(),
            s.get_footer_2(),
            s.get_footer_3(),
            s.get_footer_4(),
        ]
        .into_iter()
        .map(String::from)
        .collect();
        debug_assert_eq!(header.len(), RECEIPT_FIELDS);
        let logo = self.inner.borrow().shown.settings.logo.clone();
        let saved = self
            .inner
            .borrow_mut()
            .office
            .save_receipt(&header, &footer, logo.as_deref());
        self.saved(
            saved,
            "the receipt is saved; the till prints it from the next sale",
        );
    }

    fn save_discounts(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let s = window.global::<Settings>();
        let ids = self.inner.borrow().shown.settings.roles.clone();
        let rows = s.get_role_limits();
        let roles: Vec<(RoleId, String)> = ids
            .into_iter()
            .zip(rows.iter())
            .map(|(id, row)| (id, row.limit.to_string()))
            .collect();
        let store: String = s.get_store_limit().into();
        let saved = self
            .inner
            .borrow_mut()
            .office
            .save_discounts(&store, &roles);
        self.saved(saved, "the discount limits are saved");
    }

    fn toggle_feature(&self, row: i32) {
        let Ok(index) = usize::try_from(row) else {
            return;
        };
        let rows = {
            let mut inner = self.inner.borrow_mut();
            let switches = &mut inner.shown.settings.switches;
            let Some(switch) = switches.get_mut(index) else {
                return;
            };
            if switch.off_by_tenant {
                return;
            }
            switch.on = !switch.on;
            switches.iter().map(feature_row).collect()
        };
        self.with_window(|w| w.global::<Settings>().set_features(model(rows)));
    }

    fn save_features(&self) {
        let off: Vec<&'static str> = self
            .inner
            .borrow()
            .shown
            .settings
            .switches
            .iter()
            .filter(|s| !s.on)
            .map(|s| s.feature)
            .collect();
        let saved = self.inner.borrow_mut().office.save_features(&off);
        self.saved(
            saved,
            "the switches are saved; the till follows them from the next sale",
        );
    }

    fn save_hardware(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let s = window.global::<Settings>();
        let settings = HardwareSettings {
            printer_transport: s.get_printer_transport().into(),
            printer_address: s.get_printer_address().into(),
            paper: s.get_paper().into(),
            drawer_pin: s.get_drawer_pin().into(),
            drawer_pulse_ms: s.get_drawer_pulse().into(),
            scanner_enabled: s.get_scanner_enabled(),
            scanner_key_gap_ms: s.get_scanner_gap().into(),
        };
        let saved = self.inner.borrow_mut().office.save_hardware(&settings);
        match saved {
            Ok(()) => self.say(
                "this terminal's hardware settings are saved and in use; asking the printer whether it answers…",
                Tone::Info,
            ),
            Err(error) => self.problem(&error),
        }
    }

    /// The fleet changed what the tenant allows: the switches on screen follow at once (one
    /// the tenant switched off shows off and locked), keeping the store's own unsaved choices
    /// for the others. Nothing to do while nobody who may see the settings is signed in.
    pub fn tenant_changed(&self) {
        let read = self.inner.borrow().office.feature_switches();
        let Ok(mut switches) = read else {
            return;
        };
        let rows = {
            let mut inner = self.inner.borrow_mut();
            let shown = &mut inner.shown.settings.switches;
            for switch in switches.iter_mut().filter(|s| !s.off_by_tenant) {
                if let Some(before) = shown.iter().find(|b| b.feature == switch.feature) {
                    switch.on = before.on;
                }
            }
            *shown = switches;
            shown.iter().map(feature_row).collect()
        };
        self.with_window(|w| w.global::<Settings>().set_features(model(rows)));
    }

    /// Shows what the terminal found when it put saved hardware settings to use (whether the
    /// printer answers), in the words of `message`.
    pub fn hardware_checked(&self, message: &str, tone: Tone) {
        self.say(message, tone);
    }
}

fn feature_row(switch: &FeatureSwitch) -> FeatureRow {
    FeatureRow {
        label: text(switch.label),
        on: switch.on,
        locked: switch.off_by_tenant,
    }
}

/// The logo file as typed: a full path, or a name on the USB stick.
fn logo_path(folder: &Path, typed: &str) -> PathBuf {
    let typed = Path::new(typed);
    if typed.is_absolute() {
        typed.to_path_buf()
    } else {
        folder.join(typed)
    }
}

/// The PNG as an image to preview; `None` when it does not decode.
fn png_image(png: &[u8]) -> Option<slint::Image> {
    let decoded = image::load_from_memory_with_format(png, image::ImageFormat::Png).ok()?;
    let rgba = decoded.to_rgba8();
    let (width, height) = rgba.dimensions();
    let buffer = slint::SharedPixelBuffer::<slint::Rgba8Pixel>::clone_from_slice(
        rgba.as_raw(),
        width,
        height,
    );
    Some(slint::Image::from_rgba8(buffer))
}
