//! Every text the setup and service pages translate has a German translation in the screen's
//! catalogue (`pos-ui`'s, which these pages are compiled with).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

#[test]
fn every_text_on_the_setup_and_service_pages_has_a_german_translation() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let catalogue =
        std::fs::read_to_string(root.join("../pos-ui/lang/de/LC_MESSAGES/pos-ui.po")).unwrap();
    let translated: BTreeSet<&str> = catalogue
        .lines()
        .filter_map(|l| l.strip_prefix("msgid \"")?.strip_suffix('"'))
        .collect();
    let mut missing = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(root.join("ui")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "slint") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let mut rest = source.as_str();
        while let Some(start) = rest.find("@tr(\"") {
            rest = &rest[start + 5..];
            let end = rest.find('"').unwrap();
            let text = &rest[..end];
            seen += 1;
            if !translated.contains(text) {
                missing.push(format!("{}: {text}", path.display()));
            }
            rest = &rest[end..];
        }
    }
    assert!(seen > 60, "only {seen} texts found");
    assert!(missing.is_empty(), "no German for: {missing:#?}");
}
