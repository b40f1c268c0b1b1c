//! Barcode scanners for the terminal: keyboard-wedge scanners (USB HID and Bluetooth HID,
//! both evdev keyboards) read, told apart from people typing, and decoded into what the
//! cart needs: a GTIN, a GS1 element string with batch, expiry and weight, an in-store code
//! with an embedded price or weight, or plain text.
//!
//! Owns: key-burst timing ([`codec`]), keyboard layouts ([`layout`]), barcode content
//! ([`decode`], [`gtin`], [`gs1`], [`embedded`]), which devices are scanners ([`device`]),
//! hotplug ([`discovery`]) and the evdev edge ([`transport`]).
//! Never touches: the cart, the catalogue, the UI or storage. It reports scans; what they
//! mean for a sale is decided elsewhere.
//!
//! Key design decision: everything but [`transport`] is sans-IO. Key events arrive with the
//! kernel's timestamps and deadlines are inputs ([`codec::BurstCodec::poll_timeout`]), so
//! recorded event streams replay exactly, property tests run faster than real time, and the
//! simulated scanner on a desktop ([`reader::SimulatedScanner`]) runs the very same rules.
//! Declared scanners are grabbed (EVIOCGRAB) so their keys never type into the UI; timing
//! is the safety net that catches everything else.

pub mod codec;
pub mod decode;
pub mod device;
pub mod discovery;
pub mod embedded;
pub mod error;
pub mod gs1;
pub mod gtin;
pub mod key;
pub mod layout;
pub mod reader;
pub mod transport;

pub use codec::{BurstCodec, BurstRules, CodecOutput, Keystroke, Scan, Source, Terminator};
pub use decode::{DecodeRules, Decoded, Decoder, Symbology};
pub use device::{DeviceIdentity, DeviceRole, ScannerConfig};
pub use embedded::{EmbeddedKind, EmbeddedRule, EmbeddedValue};
pub use error::{DeviceError, DeviceErrorKind, RecordingError, ScanError, ScanErrorKind};
pub use gtin::Gtin;
pub use key::{KeyAction, KeyCode, KeyEvent};
pub use layout::Layout;
pub use reader::{ReaderOutput, ScanReader, SimulatedScanner};
pub use transport::ScannerEvent;
