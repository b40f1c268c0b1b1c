//! Every text the back office translates has a German translation: a string added to a page
//! without one would show up in English on a German terminal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The first string of every `@tr("…")`, still escaped as written.
fn translated_strings(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find("@tr(\"") {
        rest = &rest[start + 5..];
        let mut text = String::new();
        let mut chars = rest.char_indices();
        while let Some((index, ch)) = chars.next() {
            match ch {
                '\\' => {
                    text.push(ch);
                    if let Some((_, escaped)) = chars.next() {
                        text.push(escaped);
                    }
                }
                '"' => {
                    rest = &rest[index + 1..];
                    break;
                }
                _ => text.push(ch),
            }
        }
        out.push(text);
    }
    out
}

fn slint_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            slint_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slint") {
            out.push(path);
        }
    }
}

#[test]
fn every_text_on_the_back_office_has_a_german_translation() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let catalogue =
        std::fs::read_to_string(root.join("lang/de/LC_MESSAGES/pos-backoffice.po")).unwrap();
    let translated: BTreeSet<&str> = catalogue
        .lines()
        .filter_map(|l| l.strip_prefix("msgid \"")?.strip_suffix('"'))
        .collect();
    let mut files = Vec::new();
    slint_files(&root.join("ui"), &mut files);
    let mut missing = Vec::new();
    let mut seen = 0;
    for file in &files {
        for text in translated_strings(&std::fs::read_to_string(file).unwrap()) {
            seen += 1;
            if !translated.contains(text.as_str()) {
                missing.push(format!("{}: {text:?}", file.display()));
            }
        }
    }
    assert!(
        seen > 60,
        "only {seen} translated strings found; the scan is broken"
    );
    assert!(missing.is_empty(), "no German for:\n{}", missing.join("\n"));
}
