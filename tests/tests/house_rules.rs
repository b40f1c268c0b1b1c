//! The rules `ARCHITECTURE.md` states as absences, checked over the source tree so that a change
//! that breaks one fails CI instead of waiting for a reviewer to notice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Every crate folder: a directory holding a `Cargo.toml` with a `[package]`.
fn crate_dirs() -> Vec<PathBuf> {
    let root = workspace_root();
    let mut dirs = Vec::new();
    for group in ["app", "drivers", "fleet"] {
        let Ok(entries) = fs::read_dir(root.join(group)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.join("Cargo.toml").is_file() {
                dirs.push(path);
            }
        }
    }
    dirs.push(root.join("xtask"));
    dirs.push(root.join("tests"));
    dirs.sort();
    dirs
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_crate_says_what_it_owns_in_its_first_lines() {
    for dir in crate_dirs() {
        let roots: Vec<PathBuf> = ["src/lib.rs", "src/main.rs", "lib.rs"]
            .iter()
            .map(|p| dir.join(p))
            .filter(|p| p.is_file())
            .collect();
        assert!(!roots.is_empty(), "{}: no crate root found", dir.display());
        for root in roots {
            assert!(
                read(&root).starts_with("//!"),
                "{} must open with a `//!` comment saying what the crate owns and must not touch",
                root.display()
            );
        }
    }
}

#[test]
fn folder_names_are_crate_names_and_crates_are_unpublished() {
    for dir in crate_dirs() {
        let manifest = read(&dir.join("Cargo.toml"));
        let folder = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            manifest.contains(&format!("name = \"{folder}\"")),
            "{}: the package must be named after its folder",
            dir.display()
        );
        assert!(
            manifest.contains("publish.workspace = true"),
            "{}: internal crates take `publish = false` from the workspace",
            dir.display()
        );
        assert!(
            manifest.contains("[lints]") && manifest.contains("workspace = true"),
            "{}: every crate follows the workspace lints",
            dir.display()
        );
    }
}

#[test]
fn no_test_is_ignored_or_expected_to_panic() {
    let mut files = Vec::new();
    for dir in crate_dirs() {
        rust_files(&dir, &mut files);
    }
    // Spelled in two pieces so that this file does not match itself.
    let banned = [concat!("#[", "ignore"), concat!("#[", "should_panic")];
    for file in files {
        let text = read(&file);
        for word in banned {
            assert!(
                !text.contains(word),
                "{} uses {word}]: gate slow tests on an environment variable instead",
                file.display()
            );
        }
    }
}

#[test]
fn the_core_does_no_io_reads_no_clock_and_draws_no_random_numbers() {
    let core = workspace_root().join("app/pos-core");
    let mut files = Vec::new();
    rust_files(&core.join("src"), &mut files);
    let banned = [
        "std::fs",
        "std::net",
        "std::process",
        "std::thread",
        "std::env",
        "Instant::now",
        "SystemTime",
        "OffsetDateTime::now",
        "rand::",
        "rusqlite",
        "slint",
        "tokio",
        "f64",
        "f32",
    ];
    for file in files {
        let text = read(&file);
        for word in banned {
            assert!(
                !text.contains(word),
                "{} mentions `{word}`: pos-core must stay pure (no IO, clock, randomness or floats)",
                file.display()
            );
        }
    }
    // Its dependencies are the pure ones; anything else needs a reason and this list to change.
    let manifest = read(&core.join("Cargo.toml"));
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap();
    let names: Vec<&str> = dependencies
        .lines()
        .filter_map(|line| line.split(['.', ' ', '=']).next())
        .filter(|name| !name.is_empty())
        .collect();
    assert_eq!(names, ["rust_decimal", "serde", "thiserror", "time"]);
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                markdown_files(&path, out);
            }
        } else if name.ends_with(".md") {
            out.push(path);
        }
    }
}

/// The local targets of a Markdown text's links and images: `](target)` and `src="target"`.
fn local_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    for (open, close) in [("](", ')'), ("src=\"", '"')] {
        let mut rest = text;
        while let Some(at) = rest.find(open) {
            rest = &rest[at + open.len()..];
            let Some(end) = rest.find(close) else { break };
            let target = rest[..end].split('#').next().unwrap_or("").trim();
            let remote = target.contains("://") || target.starts_with("mailto:");
            if !target.is_empty() && !remote && !target.contains(char::is_whitespace) {
                links.push(target.to_owned());
            }
        }
    }
    links
}

#[test]
fn every_link_and_picture_in_the_docs_is_there() {
    let root = workspace_root();
    let mut files = Vec::new();
    markdown_files(&root, &mut files);
    assert!(files.iter().any(|f| f.ends_with("docs/manual/cashier.md")));
    let mut missing = Vec::new();
    for file in &files {
        let dir = file.parent().unwrap();
        for link in local_links(&read(file)) {
            if !dir.join(&link).exists() {
                missing.push(format!(
                    "{}: {link}",
                    file.strip_prefix(&root).unwrap().display()
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "links to nothing:\n{}",
        missing.join("\n")
    );
}

#[test]
fn local_links_are_found_and_web_links_left_alone() {
    let text = "See [the guide](manual/README.md#top), <img src=\"shots/a.png\" width=\"9\">, \
                [rustup](https://rustup.rs) and [x](#anchor).";
    assert_eq!(local_links(text), ["manual/README.md", "shots/a.png"]);
}
