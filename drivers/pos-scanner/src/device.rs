//! Which input devices are scanners. Pure: a device identity in, a role out.

use serde::{Deserialize, Serialize};

use crate::codec::BurstRules;
use crate::decode::DecodeRules;
use crate::layout::Layout;

/// What the kernel tells us about an input device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceIdentity {
    pub name: String,
    pub vendor_id: u16,
    pub product_id: u16,
    /// Whether it has the keys a scanner types with (digits and Enter). Mice, power
    /// buttons and lid switches do not, and are left alone.
    pub types_digits: bool,
}

/// A device the configuration names as a scanner, by USB or Bluetooth vendor/product id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredScanner {
    pub vendor_id: u16,
    pub product_id: u16,
    /// The layout the scanner is programmed for.
    #[serde(default)]
    pub layout: Layout,
}

/// What to do with keyboards that are not known scanners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum KeyboardPolicy {
    /// Read them without taking them from the UI, and report bursts at scanner speed as
    /// scans: catches an unconfigured wedge scanner. The UI sees those keys too and must
    /// drop text that arrived as part of a reported scan.
    #[default]
    Watch,
    /// Leave them to the UI entirely.
    Ignore,
}

/// The scanner part of the terminal configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScannerConfig {
    pub declared: Vec<DeclaredScanner>,
    /// Case-insensitive name fragments that mark a device as a scanner.
    pub scanner_name_patterns: Vec<String>,
    /// Layout for scanners found by name and for watched keyboards.
    pub default_layout: Layout,
    pub keyboards: KeyboardPolicy,
    pub burst: BurstRules,
    pub decode: DecodeRules,
}

impl Default for ScannerConfig {
    fn default() -> ScannerConfig {
        let patterns = [
            "barcode",
            "scanner",
            "honeywell",
            "datalogic",
            "zebra",
            "symbol tech",
            "metrologic",
            "newland",
            "opticon",
            "hand held products",
        ];
        ScannerConfig {
            declared: Vec::new(),
            scanner_name_patterns: patterns.iter().map(|p| p.to_string()).collect(),
            default_layout: Layout::Us,
            keyboards: KeyboardPolicy::Watch,
            burst: BurstRules::default(),
            decode: DecodeRules::default(),
        }
    }
}

/// Why a device counts as a scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScannerEvidence {
    DeclaredId,
    Name,
}

/// What the terminal does with a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceRole {
    /// Grabbed exclusively; every burst is a scan attempt.
    Scanner {
        layout: Layout,
        evidence: ScannerEvidence,
    },
    /// Read alongside the UI; only scanner-speed bursts are reported.
    WatchedKeyboard {
        layout: Layout,
    },
    Ignored,
}

impl ScannerConfig {
    pub fn classify(&self, device: &DeviceIdentity) -> DeviceRole {
        if let Some(declared) = self
            .declared
            .iter()
            .find(|d| d.vendor_id == device.vendor_id && d.product_id == device.product_id)
        {
            return DeviceRole::Scanner {
                layout: declared.layout,
                evidence: ScannerEvidence::DeclaredId,
            };
        }
        if !device.types_digits {
            return DeviceRole::Ignored;
        }
        let name = device.name.to_lowercase();
        if self
            .scanner_name_patterns
            .iter()
            .any(|p| !p.is_empty() && name.contains(&p.to_lowercase()))
        {
            return DeviceRole::Scanner {
                layout: self.default_layout,
                evidence: ScannerEvidence::Name,
            };
        }
        match self.keyboards {
            KeyboardPolicy::Watch => DeviceRole::WatchedKeyboard {
                layout: self.default_layout,
            },
            KeyboardPolicy::Ignore => DeviceRole::Ignored,
        }
    }
}
