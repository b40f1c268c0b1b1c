//! Every text the setup and service pages translate has a German translation in the screen's
//! catalogue (`pos-ui`'s, which these pages are compiled with).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

#[test]
fn every_text_on_the_setup_and_service_pages_has_a_german_translation() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let found = pos_screen_checks::untranslated(
        &root.join("ui"),
        &root.join("../pos-ui/lang/de/LC_MESSAGES/pos-ui.po"),
    )
    .unwrap();
    assert!(
        found.seen > 60,
        "only {} translated strings found; the scan is broken",
        found.seen
    );
    assert!(
        found.missing.is_empty(),
        "no German for:\n{}",
        found.missing.join("\n")
    );
}
