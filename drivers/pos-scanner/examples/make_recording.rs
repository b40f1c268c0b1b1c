//! Writes a key-event recording (`<usec> <KEY_NAME> <value>` lines) for text typed with
//! given timing, for test fixtures and for replaying into a terminal.
//!
//! cargo run -p pos-scanner --example make_recording -- <layout> <gap_us_min> <gap_us_max> <hold_us> <seed> <start_us> <text>
//!
//! `text` takes `\n` (Enter), `\t` (Tab) and `\x1d` (group separator, sent as Ctrl+]).
//! Gaps are drawn evenly from the range with a fixed-seed generator, so the output is
//! reproducible. `hold_us` is how long each key stays down (a scanner: a few hundred µs; a
//! person: 60–120 ms).

use std::process::ExitCode;

use pos_scanner::key::format_recording;
use pos_scanner::layout::Layout;
use pos_scanner::reader::key_events_for_text;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [layout, gap_min, gap_max, hold, seed, start, text] = args.as_slice() else {
        eprintln!(
            "usage: make_recording <us|uk|de|fr> <gap_us_min> <gap_us_max> <hold_us> <seed> <start_us> <text>"
        );
        return ExitCode::FAILURE;
    };
    let layout: Layout = match serde_json::from_str(&format!("\"{layout}\"")) {
        Ok(layout) => layout,
        Err(_) => {
            eprintln!("unknown layout {layout}: use us, uk, de or fr");
            return ExitCode::FAILURE;
        }
    };
    let number = |text: &str| text.parse::<u64>().unwrap_or(0);
    let (gap_min, gap_max, mut state) = (
        number(gap_min),
        number(gap_max).max(number(gap_min)),
        number(seed),
    );
    let gaps = std::iter::repeat_with(move || {
        // A small linear congruential generator: reproducible, good enough for gaps.
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        gap_min + (state >> 33) % (gap_max - gap_min + 1)
    });
    let text = text
        .replace("\\n", "\n")
        .replace("\\t", "\t")
        .replace("\\x1d", "\u{1d}");
    match key_events_for_text(layout, &text, number(start), gaps, number(hold)) {
        Ok(events) => {
            print!("{}", format_recording(&events));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{layout:?} cannot type it: {error}");
            ExitCode::FAILURE
        }
    }
}
