//! Test support for the Slint screens of the till, the service pages and the back office:
//! - [`compare_or_keep`]: a rendered screen is compared with its kept picture with a tolerance,
//!   so an accidental visual change fails while antialiasing noise does not; with
//!   `UPDATE_SCREENSHOTS` set, the picture is kept anew instead; [`compare_window`] does it for
//!   a window's snapshot against `docs/screenshots/`;
//! - [`untranslated`]: every `@tr("…")` text of a UI folder is looked up in a gettext catalogue,
//!   so a string added without its German fails.
//!
//! Owns only these checks and the files they write; it renders nothing itself.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A pixel counts as changed when one of its channels moved by more than this.
pub const CHANNEL_DIFF_MAX: u8 = 48;
/// The share of changed pixels a screen may have before it counts as changed.
pub const CHANGED_PIXELS_FRACTION_MAX: f64 = 0.001;

/// Compares a snapshot of `window`, which must be `size` (width, height) pixels, with
/// `docs/screenshots/<file>`, as [`compare_or_keep`] does.
pub fn compare_window(
    window: &slint::Window,
    file: &str,
    size: (u32, u32),
    rerun: &str,
) -> Result<(), String> {
    let kept = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/screenshots")
        .join(file);
    let snapshot = window
        .take_snapshot()
        .map_err(|error| format!("{file}: no snapshot of the window: {error}"))?;
    let (width, height) = (snapshot.width(), snapshot.height());
    assert_eq!((width, height), size, "{file}: window size");
    compare_or_keep(&kept, snapshot.as_bytes(), width, height, rerun)
}

/// Compares the RGBA `pixels` of a `width` × `height` screen with the picture at `kept`, or
/// writes them there when `UPDATE_SCREENSHOTS` is set. A difference is returned in words, with
/// the new picture saved to the temporary directory; `rerun` is the command that keeps the
/// pictures anew, named when one is missing.
pub fn compare_or_keep(
    kept: &Path,
    pixels: &[u8],
    width: u32,
    height: u32,
    rerun: &str,
) -> Result<(), String> {
    let file = kept
        .file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    let save = |path: &Path| {
        image::save_buffer(path, pixels, width, height, image::ExtendedColorType::Rgba8)
            .map_err(|error| format!("{file}: cannot write {}: {error}", path.display()))
    };
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        return save(kept);
    }
    let Ok(picture) = image::open(kept) else {
        return Err(format!(
            "{file} is missing; run UPDATE_SCREENSHOTS=1 {rerun}"
        ));
    };
    let picture = picture.to_rgba8();
    if picture.dimensions() != (width, height) {
        return Err(format!(
            "{file}: kept picture is {:?}",
            picture.dimensions()
        ));
    }
    let changed = picture
        .as_raw()
        .chunks_exact(4)
        .zip(pixels.chunks_exact(4))
        .filter(|(a, b)| {
            a.iter()
                .zip(b.iter())
                .any(|(x, y)| x.abs_diff(*y) > CHANNEL_DIFF_MAX)
        })
        .count();
    let fraction = changed as f64 / f64::from(width * height);
    if fraction > CHANGED_PIXELS_FRACTION_MAX {
        let actual = std::env::temp_dir().join(&file);
        save(&actual)?;
        return Err(format!(
            "{file}: {changed} pixels ({:.3}%) changed; now looks like {}",
            fraction * 100.0,
            actual.display()
        ));
    }
    Ok(())
}

/// What [`untranslated`] found: how many translated texts the `.slint` files hold (a scan that
/// finds few is broken), and each one the catalogue lacks, as `file: "text"`.
#[derive(Debug)]
pub struct Untranslated {
    pub seen: usize,
    pub missing: Vec<String>,
}

/// Every `@tr("…")` text in the `.slint` files under `ui_dir` that the gettext `catalogue`
/// (a `.po` file) has no `msgid` for.
pub fn untranslated(ui_dir: &Path, catalogue: &Path) -> std::io::Result<Untranslated> {
    let catalogue = std::fs::read_to_string(catalogue)?;
    let known: BTreeSet<&str> = catalogue
        .lines()
        .filter_map(|l| l.strip_prefix("msgid \"")?.strip_suffix('"'))
        .collect();
    let mut files = Vec::new();
    slint_files(ui_dir, &mut files)?;
    let mut found = Untranslated {
        seen: 0,
        missing: Vec::new(),
    };
    for file in &files {
        for text in translated_strings(&std::fs::read_to_string(file)?) {
            found.seen += 1;
            if !known.contains(text.as_str()) {
                found.missing.push(format!("{}: {text:?}", file.display()));
            }
        }
    }
    Ok(found)
}

/// The first string of every `@tr("…")` (the singular of a plural), still escaped as written,
/// as gettext's `msgid` holds it.
pub fn translated_strings(source: &str) -> Vec<String> {
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

fn slint_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            slint_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "slint") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_reads_escapes_and_plurals() {
        let source = r#"text: @tr("a \"b\"\nc"); x: @tr("{n} item" | "{n} items" % n);"#;
        assert_eq!(
            translated_strings(source),
            vec![r#"a \"b\"\nc"#.to_owned(), "{n} item".to_owned()]
        );
    }
}
