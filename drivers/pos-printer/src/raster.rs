//! One-bit raster images: a PNG logo dithered to black and white (Floyd–Steinberg) and packed
//! as `GS v 0` expects, eight dots to a byte, most significant bit leftmost.

use image::imageops::FilterType;
use serde::{Deserialize, Serialize};

/// Black dots on white paper. `width_dots` is a multiple of 8; `bits` holds `height` rows of
/// `width_dots / 8` bytes, a set bit printing black.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Raster {
    pub width_dots: u16,
    pub height_dots: u16,
    pub bits: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum RasterError {
    #[error("the logo is not a PNG image this printer can use: {0}")]
    Decode(#[from] image::ImageError),
    #[error("the logo is {width}×{height} dots; the printer takes at most 65535×2303")]
    TooLarge { width: u32, height: u32 },
}

/// The tallest `GS v 0` image many printers accept in one command.
pub const HEIGHT_DOTS_MAX: u16 = 2303;

impl Raster {
    pub fn row_bytes(&self) -> usize {
        usize::from(self.width_dots).div_ceil(8)
    }

    pub fn is_black(&self, x: usize, y: usize) -> bool {
        let index = y * self.row_bytes() + x / 8;
        self.bits
            .get(index)
            .is_some_and(|byte| byte & (0x80 >> (x % 8)) != 0)
    }

    /// Decodes a PNG, scales it down to at most `width_dots_max` dots wide (keeping its
    /// aspect), flattens transparency onto white paper and dithers it.
    pub fn from_png(png: &[u8], width_dots_max: u16) -> Result<Raster, RasterError> {
        let image = image::load_from_memory_with_format(png, image::ImageFormat::Png)?;
        let rgba = image.to_rgba8();
        let (mut width, mut height) = rgba.dimensions();
        let mut gray: Vec<f32> = rgba
            .pixels()
            .map(|p| {
                let [r, g, b, a] = p.0;
                let luma = 0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b);
                let alpha = f32::from(a) / 255.0;
                luma * alpha + 255.0 * (1.0 - alpha)
            })
            .collect();
        if width > u32::from(width_dots_max) {
            let scaled_height =
                (u64::from(height) * u64::from(width_dots_max) / u64::from(width)).max(1);
            let scaled_height = u32::try_from(scaled_height).unwrap_or(u32::MAX);
            let buffer = image::GrayImage::from_raw(
                width,
                height,
                gray.iter().map(|v| v.clamp(0.0, 255.0) as u8).collect(),
            );
            if let Some(buffer) = buffer {
                let resized = image::imageops::resize(
                    &buffer,
                    u32::from(width_dots_max),
                    scaled_height,
                    FilterType::Triangle,
                );
                width = resized.width();
                height = resized.height();
                gray = resized.pixels().map(|p| f32::from(p.0[0])).collect();
            }
        }
        if width > u32::from(u16::MAX) || height > u32::from(HEIGHT_DOTS_MAX) {
            return Err(RasterError::TooLarge { width, height });
        }
        let (width, height) = (width as usize, height as usize);
        Ok(dither(&mut gray, width, height))
    }
}

/// Floyd–Steinberg: each dot's rounding error goes 7/16 right, 3/16 down-left, 5/16 down and
/// 1/16 down-right, so grey areas become dot patterns of the same average darkness.
fn dither(gray: &mut [f32], width: usize, height: usize) -> Raster {
    let row_bytes = width.div_ceil(8);
    let mut bits = vec![0_u8; row_bytes * height];
    for y in 0..height {
        for x in 0..width {
            let old = gray[y * width + x];
            let black = old < 128.0;
            let new = if black { 0.0 } else { 255.0 };
            if black {
                bits[y * row_bytes + x / 8] |= 0x80 >> (x % 8);
            }
            let error = old - new;
            let mut spread = |dx: isize, dy: usize, share: f32| {
                let nx = x as isize + dx;
                let ny = y + dy;
                if nx >= 0 && (nx as usize) < width && ny < height {
                    gray[ny * width + nx as usize] += error * share;
                }
            };
            spread(1, 0, 7.0 / 16.0);
            spread(-1, 1, 3.0 / 16.0);
            spread(0, 1, 5.0 / 16.0);
            spread(1, 1, 1.0 / 16.0);
        }
    }
    Raster {
        width_dots: u16::try_from(row_bytes * 8).unwrap_or(u16::MAX),
        height_dots: u16::try_from(height).unwrap_or(u16::MAX),
        bits,
    }
}

#[cfg(test)]
mod tests {
    use super::Raster;

    fn png(width: u32, height: u32, shade: impl Fn(u32, u32) -> u8) -> Vec<u8> {
        let image = image::GrayImage::from_fn(width, height, |x, y| image::Luma([shade(x, y)]));
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn black_stays_black_and_white_stays_white() {
        let raster =
            Raster::from_png(&png(16, 2, |x, _| if x < 8 { 0 } else { 255 }), 384).unwrap();
        assert_eq!((raster.width_dots, raster.height_dots), (16, 2));
        assert_eq!(raster.bits, vec![0xFF, 0x00, 0xFF, 0x00]);
    }

    #[test]
    fn mid_grey_dithers_to_about_half_the_dots() {
        let raster = Raster::from_png(&png(64, 64, |_, _| 128), 384).unwrap();
        let black = raster.bits.iter().map(|b| b.count_ones()).sum::<u32>();
        let share = f64::from(black) / (64.0 * 64.0);
        assert!((0.4..0.6).contains(&share), "{share}");
    }

    #[test]
    fn a_wide_logo_is_scaled_to_the_paper() {
        let raster = Raster::from_png(&png(1000, 200, |_, _| 0), 384).unwrap();
        assert_eq!((raster.width_dots, raster.height_dots), (384, 76));
    }

    #[test]
    fn a_file_that_is_not_a_png_is_a_clear_error() {
        let err = Raster::from_png(b"GIF89a not a png", 384).unwrap_err();
        assert!(err.to_string().contains("not a PNG image"));
    }
}
