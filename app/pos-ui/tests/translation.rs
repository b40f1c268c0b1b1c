//! Every text the till's window translates has a German translation: a string added to a page
//! without one would show up in English on a German till. The window holds the till's pages and
//! those of the setup, the service screen and the back office, all translated in pos-ui's one
//! catalogue.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

#[test]
fn every_text_in_the_window_has_a_german_translation() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let catalogue = root.join("lang/de/LC_MESSAGES/pos-ui.po");
    // Each folder of pages, and fewer strings than these means the scan is broken.
    for (pages, seen_min) in [
        ("ui", 100),
        ("../pos-service/ui", 60),
        ("../pos-backoffice/ui", 60),
    ] {
        let found = pos_screen_checks::untranslated(&root.join(pages), &catalogue).unwrap();
        assert!(
            found.seen > seen_min,
            "only {} translated strings found in {pages}; the scan is broken",
            found.seen
        );
        assert!(
            found.missing.is_empty(),
            "no German in {pages} for:\n{}",
            found.missing.join("\n")
        );
    }
}
