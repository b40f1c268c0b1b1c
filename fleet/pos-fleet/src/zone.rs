//! Stores' time zones: the rules of a zone (`Europe/Zurich`) read from the system's TZif files
//! (Debian's `tzdata`, `/usr/share/zoneinfo`) and interpreted by `pos_core::zone`, so a store's
//! days follow its summer time by themselves.
//!
//! A zone's file is read once and kept for the life of the process: the figures of a store are
//! counted sale by sale, and `tzdata` changes only with a package update (restart the fleet
//! after one, as after any update).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use pos_core::clock::Timestamp;
use time::UtcOffset;

/// Where Debian's `tzdata` keeps the zones.
pub const ZONEINFO: &str = "/usr/share/zoneinfo";

type Rules = Option<Arc<Vec<u8>>>;

fn rules(zone: &str) -> Rules {
    static KEPT: OnceLock<Mutex<HashMap<String, Rules>>> = OnceLock::new();
    if !pos_core::zone::is_zone_name(zone) {
        return None;
    }
    let kept = KEPT.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(kept) = kept.lock()
        && let Some(found) = kept.get(zone)
    {
        return found.clone();
    }
    let read = std::fs::read(Path::new(ZONEINFO).join(zone))
        .ok()
        .filter(|bytes| pos_core::zone::offset_at(bytes, 0).is_some())
        .map(Arc::new);
    if let Ok(mut kept) = kept.lock() {
        kept.insert(zone.to_owned(), read.clone());
    }
    read
}

/// Whether `zone` is a time zone this machine has the rules of.
pub fn is_known(zone: &str) -> bool {
    rules(zone).is_some()
}

/// The offset from UTC in `zone` at `at`; `None` for a zone this machine has no rules for.
pub fn offset_at(zone: &str, at: Timestamp) -> Option<UtcOffset> {
    let rules = rules(zone)?;
    pos_core::zone::offset_at(&rules, at.unix_ms().div_euclid(1_000))
}
