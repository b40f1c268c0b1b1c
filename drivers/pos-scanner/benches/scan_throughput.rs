//! How long the codec and decoder take per scan, measured over recorded-style streams.
//!
//! cargo bench -p pos-scanner --bench scan_throughput
//!
//! Prints the mean time per scan for an EAN-13 and a GS1 DataMatrix, and per typed key for
//! a person typing on a watched keyboard. A scanner delivers at most a few scans a second,
//! so anything in microseconds leaves the till's sub-second budget to the rest.

use std::hint::black_box;
use std::time::Instant;

use pos_scanner::codec::{BurstRules, Source};
use pos_scanner::decode::{DecodeRules, Decoder};
use pos_scanner::key::KeyEvent;
use pos_scanner::layout::Layout;
use pos_scanner::reader::{ScanReader, key_events_for_text};
use time::macros::date;

const ROUNDS: usize = 20_000;

fn stream(text: &str, gap_us: u64, repeats: usize) -> Vec<KeyEvent> {
    let mut events = Vec::new();
    for round in 0..repeats {
        let start = 1_000_000 + round as u64 * 2_000_000;
        match key_events_for_text(Layout::Us, text, start, std::iter::repeat(gap_us), 400) {
            Ok(segment) => events.extend(segment),
            Err(error) => panic!("{error}"),
        }
    }
    events
}

fn measure(label: &str, events: &[KeyEvent], source: Source, units: usize, unit: &str) {
    let decoder = match Decoder::new(DecodeRules::default()) {
        Ok(decoder) => decoder,
        Err(error) => panic!("{error}"),
    };
    let mut reader = ScanReader::new(BurstRules::default(), source, Layout::Us, decoder);
    let started = Instant::now();
    let outputs = reader.replay(black_box(events), date!(2026 - 01 - 01));
    let elapsed = started.elapsed();
    black_box(&outputs);
    println!(
        "{label:<40} {:>8.0} ns per {unit} ({} events, {} outputs, {:.1} ms total)",
        elapsed.as_nanos() as f64 / units as f64,
        events.len(),
        outputs.len(),
        elapsed.as_secs_f64() * 1_000.0
    );
}

fn main() {
    measure(
        "EAN-13 scan, declared scanner",
        &stream("4006381333931\n", 8_000, ROUNDS),
        Source::Scanner,
        ROUNDS,
        "scan",
    );
    let gs1 = "]d201095060001343521726050010ABC123\u{1d}3103001250\u{1d}21SN42\n";
    measure(
        "GS1 DataMatrix scan, declared scanner",
        &stream(gs1, 5_000, ROUNDS),
        Source::Scanner,
        ROUNDS,
        "scan",
    );
    let typing = "olive oil 2x\n";
    let keys = ROUNDS * typing.chars().count();
    measure(
        "person typing, watched keyboard",
        &stream(typing, 120_000, ROUNDS),
        Source::Keyboard,
        keys,
        "key",
    );
}
