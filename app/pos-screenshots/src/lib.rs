//! Test support for the screenshot tests of the till, the service pages and the back office:
//! a rendered screen is compared with its kept picture with a tolerance, so an accidental visual
//! change fails while antialiasing noise does not; with `UPDATE_SCREENSHOTS` set, the picture is
//! kept anew instead.
//!
//! Owns only the comparison and the files it writes; it renders nothing itself.

use std::path::Path;

/// A pixel counts as changed when one of its channels moved by more than this.
pub const CHANNEL_DIFF_MAX: u8 = 48;
/// The share of changed pixels a screen may have before it counts as changed.
pub const CHANGED_PIXELS_FRACTION_MAX: f64 = 0.001;

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
