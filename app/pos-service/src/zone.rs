//! The store's UTC offset from the time zone chosen at setup: read from the system's TZif files
//! (`/usr/share/zoneinfo/Europe/Berlin`), so summer time applies without a table of our own.
//!
//! The rules are `pos_core::zone`'s (pure, the file's bytes in); [`current_offset`] reads the
//! file.

use std::path::Path;

use time::UtcOffset;

pub use pos_core::zone::{is_zone_name, offset_at};

/// The offset in force now (`unix_s`) in `zone`, from its file under `zoneinfo`. `None` when
/// the zone has no file there (an image without `tzdata`) or the file is damaged.
pub fn current_offset(zoneinfo: &Path, zone: &str, unix_s: i64) -> Option<UtcOffset> {
    if !is_zone_name(zone) {
        return None;
    }
    let bytes = std::fs::read(zoneinfo.join(zone)).ok()?;
    offset_at(&bytes, unix_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZONEINFO: &str = "/usr/share/zoneinfo";

    use time::macros::datetime;

    /// Minutes east of UTC.
    fn offset(zone: &str, at: time::OffsetDateTime) -> Option<i32> {
        current_offset(Path::new(ZONEINFO), zone, at.unix_timestamp())
            .map(|o| o.whole_seconds() / 60)
    }

    #[test]
    fn summer_and_winter_time_come_from_the_systems_zone_files() {
        assert_eq!(
            offset("Europe/Berlin", datetime!(2026-01-15 12:00:00 UTC)),
            Some(60)
        );
        assert_eq!(
            offset("Europe/Berlin", datetime!(2026-07-15 12:00:00 UTC)),
            Some(120)
        );
        // The switch in spring: 01:00 UTC on the last Sunday of March.
        assert_eq!(
            offset("Europe/Berlin", datetime!(2026-03-29 00:59:59 UTC)),
            Some(60)
        );
        assert_eq!(
            offset("Europe/Berlin", datetime!(2026-03-29 01:00:00 UTC)),
            Some(120)
        );
        assert_eq!(
            offset("Europe/London", datetime!(2026-07-15 12:00:00 UTC)),
            Some(60)
        );
        assert_eq!(
            offset("America/Toronto", datetime!(2026-01-15 12:00:00 UTC)),
            Some(-300)
        );
        assert_eq!(offset("UTC", datetime!(2026-07-15 12:00:00 UTC)), Some(0));
    }

    #[test]
    fn unknown_zones_paths_and_damaged_files_give_nothing() {
        assert_eq!(
            offset("Mars/Olympus", datetime!(2026-01-15 12:00:00 UTC)),
            None
        );
        assert_eq!(
            offset("../../etc/passwd", datetime!(2026-01-15 12:00:00 UTC)),
            None
        );
        assert_eq!(offset_at(b"not a zone file", 0), None);
        let berlin = std::fs::read(Path::new(ZONEINFO).join("Europe/Berlin")).unwrap();
        assert_eq!(offset_at(&berlin[..60], 0), None, "a cut file is refused");
    }
}
