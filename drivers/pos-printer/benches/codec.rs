//! How long the codec takes per receipt: encode to ESC/POS, decode back, draw the paper, and
//! write the PDF. Run with `cargo bench -p pos-printer`. A 40-line receipt with a logo,
//! barcode and QR code, on 80 mm paper (48 columns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use pos_core::receipt::{Align, Block, Document, Style};
use pos_printer::decode::decode;
use pos_printer::encode::{Paper, PrinterProfile, encode};
use pos_printer::raster::Raster;
use pos_printer::render::render;

fn receipt() -> Document {
    let mut blocks = vec![
        Block::Logo,
        Block::Text {
            text: "Corner Market Mitte".to_owned(),
            align: Align::Center,
            style: Style::TITLE,
        },
        Block::Rule,
    ];
    for i in 0..40 {
        blocks.push(Block::Pair {
            left: format!("Article number {i} with a longer name, 500 g"),
            right: format!("{}.{:02}", i % 20, i % 100),
            style: Style::PLAIN,
        });
    }
    blocks.extend([
        Block::Rule,
        Block::Pair {
            left: "TOTAL EUR".to_owned(),
            right: "123.45".to_owned(),
            style: Style::TOTAL,
        },
        Block::Barcode {
            data: "T1-00042".to_owned(),
        },
        Block::QrCode {
            data: "POS1;berlin-mitte;T1-00042;1772445660000;123.45 EUR".to_owned(),
        },
        Block::Cut,
    ]);
    Document { blocks }
}

fn time<T>(label: &str, rounds: u32, mut f: impl FnMut() -> T) {
    // One warm-up round, then the measured ones.
    black_box(f());
    let start = Instant::now();
    for _ in 0..rounds {
        black_box(f());
    }
    let per_round = start.elapsed() / rounds;
    println!(
        "{label:<28} {:>9.1} µs per receipt",
        per_round.as_secs_f64() * 1e6
    );
}

fn main() {
    let image = image::GrayImage::from_fn(256, 96, |x, y| image::Luma([((x + y) % 256) as u8]));
    let mut png = std::io::Cursor::new(Vec::new());
    image.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let png = png.into_inner();
    let profile = PrinterProfile {
        logo: Some(Raster::from_png(&png, 288).unwrap()),
        ..PrinterProfile::new(Paper::MM80_48)
    };
    let document = receipt();
    let bytes = encode(&document, &profile, None);
    let events = decode(&bytes).unwrap();
    println!("receipt: {} ESC/POS bytes", bytes.len());
    time("logo PNG -> dithered raster", 200, || {
        Raster::from_png(&png, 288).unwrap()
    });
    time("document -> ESC/POS", 2_000, || {
        encode(&document, &profile, None)
    });
    time("ESC/POS -> events", 2_000, || decode(&bytes).unwrap());
    time("events -> paper image", 100, || {
        render(&events, Paper::MM80_48)
    });
    time("document -> PDF", 1_000, || {
        pos_printer::pdf::to_pdf(&document, &profile)
    });
}
