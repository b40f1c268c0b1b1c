//! The zone rules over the system's own TZif files (Debian's `tzdata`), the bytes read here
//! at the edge as the terminal and the fleet read them.
#![allow(clippy::unwrap_used)]

use pos_core::zone::{is_zone_name, offset_at};

use time::macros::datetime;

fn zurich() -> Vec<u8> {
    std::fs::read("/usr/share/zoneinfo/Europe/Zurich").unwrap()
}

fn minutes(tzif: &[u8], at: time::OffsetDateTime) -> Option<i32> {
    offset_at(tzif, at.unix_timestamp()).map(|o| o.whole_seconds() / 60)
}

#[test]
fn the_offset_follows_the_zones_summer_time_at_the_instant() {
    let zurich = zurich();
    assert_eq!(
        minutes(&zurich, datetime!(2026-03-28 22:30:00 UTC)),
        Some(60)
    );
    assert_eq!(
        minutes(&zurich, datetime!(2026-03-29 00:59:59 UTC)),
        Some(60)
    );
    assert_eq!(
        minutes(&zurich, datetime!(2026-03-29 01:00:00 UTC)),
        Some(120)
    );
    assert_eq!(
        minutes(&zurich, datetime!(2026-10-25 00:59:59 UTC)),
        Some(120)
    );
    assert_eq!(
        minutes(&zurich, datetime!(2026-10-25 01:00:00 UTC)),
        Some(60)
    );
}

#[test]
fn only_names_inside_the_zone_folder_are_zone_names_and_other_bytes_give_nothing() {
    assert!(is_zone_name("Europe/Zurich"));
    assert!(is_zone_name("UTC"));
    for wrong in [
        "",
        "/etc/passwd",
        "../x",
        "Europe//Zurich",
        "Europe/./Zurich",
    ] {
        assert!(!is_zone_name(wrong), "{wrong}");
    }
    assert_eq!(offset_at(b"TZif but cut", 0), None);
    assert_eq!(offset_at(&zurich()[..50], 0), None);
}
