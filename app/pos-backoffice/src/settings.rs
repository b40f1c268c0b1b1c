//! The shop's settings in the back office: store details and currency, tax rates with
//! inclusive or exclusive prices and where tax is rounded, cash rounding, the receipt's
//! header, footer and logo, discount limits per role, and the feature switches the tenant
//! allows. Also this terminal's own hardware (printer, drawer, scanners) behind
//! [`TerminalHardware`].
//!
//! The split: what the whole shop shares is `pos_core::tenant::Store`, saved as one
//! `store_settings_saved` event so it is journalled, synced and read by every till of the
//! store; what belongs to one box (where its printer hangs, its paper, its drawer pin, how
//! fast its scanner types) is that terminal's `terminal.toml`, written through
//! [`TerminalHardware`], never synced, and put to use by the terminal as soon as it is
//! written. Every save checks its own permission under
//! `settings.*` and `pos_core::tenant::Store::check` before anything is recorded.

use pos_core::access::{Features, permission as core};
use pos_core::event::DomainEvent;
use pos_core::id::{RoleId, TaxRateId};
use pos_core::money::{Currency, RoundingMode};
use pos_core::tax::{PriceMode, TaxRounding};
use pos_core::tenant::{CashRounding, SettingsError, Store as Shop};
use rust_decimal::Decimal;

use crate::books::Books;
use crate::office::{BackOffice, BackOfficeError, permission};

type Result<T> = std::result::Result<T, BackOfficeError>;

/// The capabilities a store may switch off for itself, with what the screen calls them. A
/// switch is a permission subtree (`pos_core::access::Features`).
pub const SWITCHABLE_FEATURES: [(&str, &str); 6] = [
    ("loyalty", "Loyalty points"),
    ("sales.discount.manual", "Manual discounts"),
    ("sales.price.override", "Changing a price at the till"),
    ("sales.refund", "Refunds"),
    ("sales.refund.no_receipt", "Returns without a receipt"),
    ("drawer.no_sale", "Opening the drawer without a sale"),
];

/// The widest logo a receipt printer takes: 576 dots on 80 mm paper.
pub const LOGO_WIDTH_DOTS_MAX: u32 = 576;
/// The tallest logo that still leaves the receipt readable on the first tear.
pub const LOGO_HEIGHT_DOTS_MAX: u32 = 400;

/// The store's details as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreDetails {
    pub name: String,
    pub address: Vec<String>,
    pub tax_number: String,
    pub phone: String,
    /// An ISO 4217 code (EUR, CHF, JPY).
    pub currency: String,
}

/// Tax and rounding as typed: each rate's percentage by its id, the price mode, where tax is
/// rounded, and the cash rounding step (empty or "none" for no cash rounding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxForm {
    pub rates: Vec<(TaxRateId, String)>,
    pub price_mode: PriceMode,
    pub rounding: TaxRounding,
    pub cash_step: String,
}

/// A feature switch as the settings show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureSwitch {
    pub feature: &'static str,
    pub label: &'static str,
    /// Switched off by the tenant for every store: the store cannot switch it on.
    pub off_by_tenant: bool,
    /// Whether the store uses it (never while the tenant has it off).
    pub on: bool,
}

/// A PNG logo that fits the receipt, with its size in dots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedLogo {
    pub width: u32,
    pub height: u32,
    pub png: Vec<u8>,
}

/// This terminal's hardware as the settings show and save it: what `terminal.toml` holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HardwareSettings {
    /// simulated, tcp, serial, usb, device-file or none.
    pub printer_transport: String,
    /// host:port for tcp, the device path for serial and device-file, vendor:product for
    /// usb, the folder receipts are filed in for simulated (empty: the terminal's own).
    pub printer_address: String,
    /// 58mm, 80mm or 80mm-48.
    pub paper: String,
    /// 2 or 5.
    pub drawer_pin: String,
    pub drawer_pulse_ms: String,
    pub scanner_enabled: bool,
    /// The largest gap between two keys of one scan, in milliseconds.
    pub scanner_key_gap_ms: String,
}

/// Why the terminal's hardware settings could not be read or saved; the file is unchanged.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HardwareError(pub String);

/// Where this terminal's hardware settings live: `terminal.toml`, implemented by the
/// terminal, which alone knows the file, its checks and its devices.
pub trait TerminalHardware {
    fn read(&self) -> std::result::Result<HardwareSettings, HardwareError>;
    /// Checks and writes `settings`; a setting the terminal cannot use is refused with what
    /// is wrong, and the file stays as it was.
    fn write(&self, settings: &HardwareSettings) -> std::result::Result<(), HardwareError>;
    /// Puts the settings just written to use without a restart: the printer's line opened
    /// anew, scanners looked for again. Returns once that is under way; whether the printer
    /// answers, the terminal tells the screen later.
    fn apply(&self) -> std::result::Result<(), HardwareError>;
}

/// Checks that `bytes` are a PNG image small enough for the receipt, from its header.
pub fn check_logo(bytes: &[u8]) -> Result<CheckedLogo> {
    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let not_png = || {
        BackOfficeError::Input(
            "the logo is not a PNG image; save it as .png and try again".to_owned(),
        )
    };
    if bytes.len() < 24 || bytes[..8] != SIGNATURE || &bytes[12..16] != b"IHDR" {
        return Err(not_png());
    }
    let number = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .ok_or_else(not_png)
    };
    let (width, height) = (number(16)?, number(20)?);
    if width == 0 || height == 0 {
        return Err(not_png());
    }
    if width > LOGO_WIDTH_DOTS_MAX || height > LOGO_HEIGHT_DOTS_MAX {
        return Err(BackOfficeError::Input(format!(
            "the logo is {width}×{height} pixels; a receipt takes at most {LOGO_WIDTH_DOTS_MAX}×{LOGO_HEIGHT_DOTS_MAX}. Make it smaller and try again"
        )));
    }
    Ok(CheckedLogo {
        width,
        height,
        png: bytes.to_vec(),
    })
}

/// A percentage as typed ("19", "7,5", "19 %"), as a fraction (0.19).
fn percent(what: &str, text: &str) -> Result<Decimal> {
    let cleaned = text.trim().trim_end_matches('%').trim().replace(',', ".");
    let value: Decimal = cleaned.parse().map_err(|_| {
        BackOfficeError::Input(format!(
            "{what}: “{}” is not a percentage (for example 19 or 7.5)",
            text.trim()
        ))
    })?;
    Ok(value / Decimal::ONE_HUNDRED)
}

/// A decimal as typed, with a comma or a point.
fn decimal(what: &str, text: &str) -> Result<Decimal> {
    text.trim().replace(',', ".").parse().map_err(|_| {
        BackOfficeError::Input(format!(
            "{what}: “{}” is not a number (for example 0.05)",
            text.trim()
        ))
    })
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// Lines as typed, blank ones dropped.
fn lines(typed: &[String]) -> Vec<String> {
    typed
        .iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

impl From<SettingsError> for BackOfficeError {
    fn from(error: SettingsError) -> BackOfficeError {
        BackOfficeError::Input(error.to_string())
    }
}

impl<B: Books> BackOffice<B> {
    /// The shop's settings as the store holds them now.
    pub fn settings(&mut self) -> Result<Shop> {
        self.allow(permission::SETTINGS_VIEW)?;
        if let Some(shop) = self.books().store_settings()? {
            self.replace_shop(shop);
        }
        Ok(self.shop().clone())
    }

    /// Whether the currency may still change: only while the store has recorded no sale.
    pub fn currency_is_fixed(&self) -> Result<bool> {
        Ok(self.books().has_sales()?)
    }

    /// Checks `shop` and records it as the store's settings under `needed`.
    fn save_shop(&mut self, needed: &str, shop: Shop) -> Result<Shop> {
        let by = self.allow(needed)?;
        shop.check()?;
        self.record(&by, &[DomainEvent::StoreSettingsSaved(shop.clone())])?;
        self.replace_shop(shop.clone());
        Ok(shop)
    }

    /// Name, address, tax number, phone and currency.
    pub fn save_store_details(&mut self, details: &StoreDetails) -> Result<Shop> {
        self.allow(core::SETTINGS_STORE)?;
        let mut shop = self.shop().clone();
        let code = details.currency.trim().to_uppercase();
        if code != shop.currency.code() {
            let currency = Currency::from_code(&code).map_err(|_| {
                BackOfficeError::Input(format!(
                    "“{code}” is not a currency the till knows; type its ISO code, such as EUR or CHF"
                ))
            })?;
            if self.currency_is_fixed()? {
                return Err(BackOfficeError::Input(format!(
                    "the currency stays {}: this store has recorded sales in it. A store changes currency only before its first sale",
                    shop.currency.code()
                )));
            }
            shop.currency = currency;
            // A step of the old currency may be no coin of the new one: the manager sets it again.
            shop.cash_rounding = None;
        }
        shop.name = details.name.trim().to_owned();
        shop.address = lines(&details.address);
        shop.tax_number = optional(&details.tax_number);
        shop.phone = optional(&details.phone);
        self.save_shop(core::SETTINGS_STORE, shop)
    }

    /// Tax rates, inclusive or exclusive prices, tax rounding and cash rounding.
    pub fn save_tax(&mut self, form: &TaxForm) -> Result<Shop> {
        self.allow(core::SETTINGS_TAX)?;
        let mut shop = self.shop().clone();
        for (id, typed) in &form.rates {
            let name = shop
                .taxes
                .rate(id)
                .map_or_else(|| id.to_string(), |r| r.name.clone());
            let rate = percent(&format!("the tax rate {name}"), typed)?;
            shop.taxes
                .change_rate(id, rate)
                .map_err(|e| BackOfficeError::Input(e.to_string()))?;
        }
        shop.tax_policy.price_mode = form.price_mode;
        shop.tax_policy.rounding = form.rounding;
        let step = form.cash_step.trim();
        shop.cash_rounding = if step.is_empty() || step.eq_ignore_ascii_case("none") {
            None
        } else {
            Some(CashRounding {
                increment: decimal("the cash rounding step", step)?,
                mode: shop.cash_rounding.map_or(RoundingMode::HalfUp, |r| r.mode),
            })
        };
        self.save_shop(core::SETTINGS_TAX, shop)
    }

    /// The lines printed above and below every receipt, and the logo (a PNG, checked again).
    pub fn save_receipt(
        &mut self,
        header: &[String],
        footer: &[String],
        logo: Option<&[u8]>,
    ) -> Result<Shop> {
        self.allow(core::SETTINGS_RECEIPT)?;
        let mut shop = self.shop().clone();
        shop.receipt.header = lines(header);
        shop.receipt.footer = lines(footer);
        shop.receipt.logo_png = logo.map(check_logo).transpose()?.map(|logo| logo.png);
        self.save_shop(core::SETTINGS_RECEIPT, shop)
    }

    /// The store's discount limit and each role's own (an empty one follows the store's).
    pub fn save_discounts(&mut self, store: &str, roles: &[(RoleId, String)]) -> Result<Shop> {
        self.allow(core::SETTINGS_DISCOUNTS)?;
        let mut shop = self.shop().clone();
        shop.discounts.percent_max_without_approval = decimal(
            "the discount limit without approval",
            store.trim_end_matches('%'),
        )?;
        shop.discounts.per_role.clear();
        for (role, typed) in roles {
            let typed = typed.trim().trim_end_matches('%');
            if typed.trim().is_empty() {
                continue;
            }
            let limit = decimal(&format!("the discount limit of {role}"), typed)?;
            shop.discounts.per_role.insert(role.clone(), limit);
        }
        self.save_shop(core::SETTINGS_DISCOUNTS, shop)
    }

    /// The switches as the store sees them: the tenant's off ones locked off.
    pub fn feature_switches(&self) -> Result<Vec<FeatureSwitch>> {
        self.allow(permission::SETTINGS_VIEW)?;
        let tenant = self.books().tenant_features()?;
        Ok(switches(&tenant, &self.shop().features))
    }

    /// Switches the store's features: `off` are those the store does without. One the tenant
    /// has switched off cannot be switched on here.
    pub fn save_features(&mut self, off: &[&str]) -> Result<Shop> {
        self.allow(core::SETTINGS_FEATURES)?;
        let tenant = self.books().tenant_features()?;
        let mut features = Features::all_enabled();
        for (feature, label) in SWITCHABLE_FEATURES {
            let wanted_off = off.contains(&feature);
            if !wanted_off && tenant.blocking(feature).is_some() {
                return Err(BackOfficeError::Input(format!(
                    "{label} is switched off for every store by the tenant; only the fleet can switch it on"
                )));
            }
            if wanted_off {
                features = features.disable(feature);
            }
        }
        // Switches the screen does not offer (set by the fleet) stay as they are.
        for other in self.shop().features.switched_off() {
            if !SWITCHABLE_FEATURES.iter().any(|(f, _)| *f == other) {
                features = features.disable(other);
            }
        }
        let mut shop = self.shop().clone();
        shop.features = features;
        self.save_shop(core::SETTINGS_FEATURES, shop)
    }

    /// This terminal's printer, drawer and scanner settings.
    pub fn hardware(&self) -> Result<HardwareSettings> {
        self.allow(permission::SETTINGS_VIEW)?;
        let hardware = self.hardware_place()?;
        hardware
            .read()
            .map_err(|e| BackOfficeError::Input(e.to_string()))
    }

    /// Saves this terminal's hardware settings and puts them to use at once.
    pub fn save_hardware(&mut self, settings: &HardwareSettings) -> Result<()> {
        self.allow(core::SETTINGS_HARDWARE)?;
        let hardware = self.hardware_place()?;
        hardware
            .write(settings)
            .map_err(|e| BackOfficeError::Input(e.to_string()))?;
        hardware.apply().map_err(|e| {
            BackOfficeError::Input(format!(
                "the hardware settings are saved, but the terminal uses them only after a restart: {e}"
            ))
        })
    }
}

/// Each switchable feature: off by the tenant (and so off here), or on or off for the store.
pub fn switches(tenant: &Features, store: &Features) -> Vec<FeatureSwitch> {
    SWITCHABLE_FEATURES
        .iter()
        .map(|(feature, label)| {
            let off_by_tenant = tenant.blocking(feature).is_some();
            FeatureSwitch {
                feature,
                label,
                off_by_tenant,
                on: !off_by_tenant && store.blocking(feature).is_none(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
        bytes.extend_from_slice(b"IHDR");
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 6, 0, 0, 0]);
        bytes
    }

    #[test]
    fn a_logo_must_be_a_png_that_fits_the_paper() {
        assert_eq!(check_logo(&png(384, 120)).unwrap().width, 384);
        assert_eq!(
            check_logo(b"GIF89a not a png at all, really")
                .unwrap_err()
                .to_string(),
            "the logo is not a PNG image; save it as .png and try again"
        );
        assert_eq!(
            check_logo(&png(1200, 300)).unwrap_err().to_string(),
            "the logo is 1200×300 pixels; a receipt takes at most 576×400. Make it smaller and try again"
        );
    }

    #[test]
    fn a_switch_the_tenant_turned_off_is_off_and_locked() {
        let tenant = Features::all_enabled().disable("loyalty");
        let store = Features::all_enabled().disable("sales.refund.no_receipt");
        let shown = switches(&tenant, &store);
        let loyalty = shown.iter().find(|s| s.feature == "loyalty").unwrap();
        assert!(loyalty.off_by_tenant && !loyalty.on);
        let returns = shown
            .iter()
            .find(|s| s.feature == "sales.refund.no_receipt")
            .unwrap();
        assert!(!returns.off_by_tenant && !returns.on);
        let refunds = shown.iter().find(|s| s.feature == "sales.refund").unwrap();
        assert!(refunds.on);
    }

    #[test]
    fn percentages_are_read_as_typed() {
        assert_eq!(percent("VAT", "19").unwrap(), Decimal::new(19, 2));
        assert_eq!(percent("VAT", " 7,5 % ").unwrap(), Decimal::new(75, 3));
        assert_eq!(
            percent("the tax rate VAT", "abc").unwrap_err().to_string(),
            "the tax rate VAT: “abc” is not a percentage (for example 19 or 7.5)"
        );
    }
}
