//! Every text the back office translates has a German translation: a string added to a page
//! without one would show up in English on a German terminal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

#[test]
fn every_text_on_the_back_office_has_a_german_translation() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let found = pos_screen_checks::untranslated(
        &root.join("ui"),
        // Compiled into the till's window, so translated in its catalogue.
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
