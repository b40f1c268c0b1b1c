//! Every worked-example receipt, at 32, 42 and 48 columns, encoded to ESC/POS and read back
//! by the decoder: the text it prints (insta snapshots), the picture on the paper (PNG
//! snapshots in `tests/snapshots/receipts/`, compared dot for dot; `UPDATE_SNAPSHOTS=1`
//! rewrites them), and the PDF of the same document read back by `pdftotext`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod worked;

use std::path::PathBuf;

use pos_core::receipt::Block;
use pos_printer::codepage::CodePage;
use pos_printer::decode::{decode, to_text};
use pos_printer::drawer::DrawerKick;
use pos_printer::encode::{Paper, PrinterProfile, encode};
use pos_printer::raster::Raster;
use pos_printer::render::render;

const PAPERS: [Paper; 3] = [Paper::MM58, Paper::MM80_42, Paper::MM80_48];

/// A shop logo: a shaded disc, so the dithering shows.
fn logo(paper: Paper) -> Raster {
    let size = 160_u32;
    let image = image::GrayImage::from_fn(size, size / 2, |x, y| {
        let (dx, dy) = (x as f32 - 80.0, (y as f32 - 40.0) * 2.0);
        let r = (dx * dx + dy * dy).sqrt();
        let shade = if r < 76.0 {
            (r / 76.0 * 230.0) as u8
        } else {
            255
        };
        image::Luma([shade])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    image.write_to(&mut png, image::ImageFormat::Png).unwrap();
    Raster::from_png(&png.into_inner(), paper.width_dots / 2).unwrap()
}

fn profile(paper: Paper) -> PrinterProfile {
    PrinterProfile {
        logo: Some(logo(paper)),
        ..PrinterProfile::new(paper)
    }
}

/// Text lines without the bracketed notes for pictures and cuts, and without the padding
/// that centring adds (double-width lines centre in half the columns).
fn words_by_line(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .filter(|line| !line.starts_with('['))
        .map(|line| line.trim().to_owned())
        .collect();
    // The feed before the cut.
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// `text` as a printer with `page` prints it, line by line.
fn printable(page: CodePage, text: &str) -> String {
    text.lines()
        .map(|line| format!("{}\n", page.printable(line)))
        .collect()
}

fn snapshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots/receipts")
}

fn assert_png_snapshot(name: &str, image: &image::GrayImage) {
    let path = snapshot_dir().join(format!("{name}.png"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(snapshot_dir()).unwrap();
        image.save(&path).unwrap();
        return;
    }
    let Ok(expected) = image::open(&path) else {
        panic!(
            "no snapshot {}; run with UPDATE_SNAPSHOTS=1 and review it",
            path.display()
        );
    };
    let expected = expected.to_luma8();
    let new_path = std::env::temp_dir().join(format!("{name}.new.png"));
    if expected.dimensions() != image.dimensions() {
        image.save(&new_path).unwrap();
        panic!(
            "{name}: {:?} dots, snapshot has {:?}; see {}",
            image.dimensions(),
            expected.dimensions(),
            new_path.display()
        );
    }
    let differing = expected
        .pixels()
        .zip(image.pixels())
        .filter(|(a, b)| a != b)
        .count();
    if differing > 0 {
        image.save(&new_path).unwrap();
        panic!(
            "{name}: {differing} dots differ from the snapshot; see {}",
            new_path.display()
        );
    }
}

#[test]
fn the_core_keeps_its_plain_text_receipts() {
    for example in worked::examples() {
        assert_eq!(
            example.document.to_text(42),
            example.text_42,
            "{}",
            example.name
        );
    }
}

/// What a real barcode reader (zbar, from Debian's `zbar-tools`) reads off the paper, as
/// "TYPE:data" lines, sorted.
fn scanned(name: &str, image: &image::GrayImage) -> Vec<String> {
    let path = std::env::temp_dir().join(format!("scan-{}-{name}.png", std::process::id()));
    image.save(&path).unwrap();
    let output = std::process::Command::new("zbarimg")
        .args([
            "--quiet",
            "-Sdisable",
            "-Sean13.enable",
            "-Scode39.enable",
            "-Sqrcode.enable",
        ])
        .arg(&path)
        .output()
        .expect("zbarimg (Debian package zbar-tools) must be installed");
    std::fs::remove_file(&path).unwrap();
    let mut symbols: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    symbols.sort();
    symbols
}

/// Every barcode and QR code on a receipt scans as what the core put there: the receipt
/// number's barcode is what the refund screen scans.
#[test]
fn the_barcodes_on_paper_scan_as_the_core_wrote_them() {
    let mut codes_checked = 0;
    for example in worked::examples() {
        let mut expected: Vec<String> = example
            .document
            .blocks
            .iter()
            .filter_map(|block| match block {
                Block::Barcode { data } => Some(format!("CODE-39:{data}")),
                Block::QrCode { data } => Some(format!("QR-Code:{data}")),
                _ => None,
            })
            .collect();
        expected.sort();
        codes_checked += expected.len();
        for paper in [Paper::MM58, Paper::MM80_48] {
            let events = decode(&encode(&example.document, &profile(paper), None)).unwrap();
            let name = format!("{}-{}", example.name, paper.columns);
            assert_eq!(scanned(&name, &render(&events, paper)), expected, "{name}");
        }
    }
    assert!(
        codes_checked >= 4,
        "the worked examples lost their barcodes"
    );
}

#[test]
fn every_worked_example_prints_and_reads_back_as_the_same_receipt() {
    let profiles = PAPERS.map(profile);
    for example in worked::examples() {
        for profile in &profiles {
            let paper = profile.paper;
            let kick = example
                .name
                .starts_with("supermarket")
                .then(DrawerKick::default);
            let bytes = encode(&example.document, profile, kick);
            let events = decode(&bytes).unwrap();
            let printed = to_text(&events, paper.columns);
            let name = format!("{}-{}", example.name, paper.columns);

            // The paper says what the core's text says, in the printer's code page.
            let expected = printable(profile.code_page, &example.document.to_text(paper.columns));
            assert_eq!(words_by_line(&printed), words_by_line(&expected), "{name}");
            for line in printed.lines().filter(|l| !l.starts_with('[')) {
                assert!(line.chars().count() <= paper.columns, "{name}: `{line}`");
            }
            insta::assert_snapshot!(name.clone(), printed);
            if paper != Paper::MM80_42 {
                assert_png_snapshot(&name, &render(&events, paper));
            }
        }
    }
}

#[test]
fn the_pdf_receipt_says_what_the_paper_says() {
    let dir = tempfile::tempdir().unwrap();
    let paper = Paper::MM80_48;
    let profile = profile(paper);
    for example in worked::examples() {
        let pdf = pos_printer::pdf::to_pdf(&example.document, &profile);
        let path = dir.path().join(format!("{}.pdf", example.name));
        std::fs::write(&path, &pdf).unwrap();
        let output = std::process::Command::new("pdftotext")
            .args(["-layout", "-enc", "UTF-8"])
            .arg(&path)
            .arg("-")
            .output()
            .expect("pdftotext (Debian package poppler-utils) must be installed");
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "{}: pdftotext says {}",
            example.name,
            String::from_utf8_lossy(&output.stderr)
        );
        let extracted = String::from_utf8(output.stdout).unwrap();
        let mut expected = printable(CodePage::Wpc1252, &example.document.to_text(paper.columns));
        // The barcode's number is printed under its bars.
        for block in &example.document.blocks {
            if let Block::Barcode { data } = block {
                expected.push_str(data);
            }
        }
        let extracted_words: Vec<&str> = extracted.split_whitespace().collect();
        let expected_words: Vec<&str> = expected.split_whitespace().collect();
        assert_eq!(extracted_words, expected_words, "{}", example.name);
    }
}

#[test]
fn the_euro_sign_and_accents_reach_paper_and_pdf() {
    let accents = worked::examples()
        .into_iter()
        .find(|e| e.name == "accents")
        .unwrap();
    let paper = Paper::MM80_48;
    let printed = to_text(
        &decode(&encode(&accents.document, &profile(paper), None)).unwrap(),
        48,
    );
    // PC858 has é, à, ô and €; ł, ą, ś, ż lose their marks.
    assert!(printed.contains("Kawiarnia Laka"), "{printed}");
    assert!(printed.contains("ul. Swietej Zywii 5"));
    assert!(printed.contains("Dziekujemy! Merci, à bientôt. €"));

    let without_euro = PrinterProfile {
        code_page: CodePage::Pc437,
        ..profile(paper)
    };
    let printed = to_text(
        &decode(&encode(&accents.document, &without_euro, None)).unwrap(),
        48,
    );
    assert!(printed.contains("à bientôt. EUR"), "{printed}");
}

#[test]
fn every_receipt_of_the_demo_day_prints_and_reads_back() {
    let documents = pos_terminal::demo_day::documents().unwrap();
    assert_eq!(
        documents.len(),
        6,
        "three sales, a refund, an X and a Z report"
    );
    for profile in PAPERS.map(profile) {
        let paper = profile.paper;
        for (index, document) in documents.iter().enumerate() {
            let events = decode(&encode(document, &profile, None)).unwrap();
            let printed = to_text(&events, paper.columns);
            let expected = printable(profile.code_page, &document.to_text(paper.columns));
            assert_eq!(
                words_by_line(&printed),
                words_by_line(&expected),
                "receipt {index} at {} columns",
                paper.columns
            );
        }
    }
}

/// The technician's test page, written by the `escpos` crate, as it comes out of the printer.
#[test]
fn the_test_page_prints_as_its_snapshot() {
    use pos_printer::test_page::{TestPageInfo, test_page};
    let info = TestPageInfo {
        store: "Corner Market Mitte".to_owned(),
        terminal: "T1".to_owned(),
        software_version: "1.4.0".to_owned(),
        printed_at: "2026-11-29 10:42".to_owned(),
        paper: Paper::MM80_48,
        code_page: CodePage::Pc858,
    };
    let events = decode(&test_page(&info).unwrap()).unwrap();
    let paper = render(&events, Paper::MM80_48);
    assert_png_snapshot("test-page-48", &paper);
    assert_eq!(
        scanned("test-page-48", &paper),
        [
            "EAN-13:4006381333931".to_owned(),
            "QR-Code:Open POS test page T1".to_owned()
        ]
    );
}
