//! Writes a key-event recording (`<usec> <KEY_NAME> <value>` lines) for text typed with
//! given timing, for test fixtures and for replaying into a terminal.
//!
//! cargo run -p pos-scanner --example make_recording -- <layout> <gap_us_min> <gap_us_max> <hold_us> <seed> <start_us> <text>
//!
//! `text` takes `\n` (Enter), `\t` (Tab) and `\x1d` (group separator, sent as Ctrl+]).
//! Gaps are drawn evenly from the range with a fixed-seed generator, so the output is
//! reproducible. `hold_us` is how long each key stays down (a scanner: a few hundred µs; a
//! person: 60–120 ms); it is shortened to fit inside the following gap.

use std::process::ExitCode;

use pos_scanner::key::{KeyEvent, format_recording};
use pos_scanner::layout::{Layout, Level};
use pos_scanner::{KeyAction, KeyCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [layout, gap_min, gap_max, hold, seed, start, text] = args.as_slice() else {
        eprintln!(
            "usage: make_recording <us|uk|de|fr> <gap_us_min> <gap_us_max> <hold_us> <seed> <start_us> <text>"
        );
        return ExitCode::FAILURE;
    };
    let layout = match layout.as_str() {
        "us" => Layout::Us,
        "uk" => Layout::Uk,
        "de" => Layout::De,
        "fr" => Layout::Fr,
        other => {
            eprintln!("unknown layout {other}");
            return ExitCode::FAILURE;
        }
    };
    let number = |text: &str| text.parse::<u64>().unwrap_or(0);
    let (gap_min, gap_max, hold, mut state, mut at) = (
        number(gap_min),
        number(gap_max).max(number(gap_min)),
        number(hold),
        number(seed),
        number(start),
    );
    let text = text
        .replace("\\n", "\n")
        .replace("\\t", "\t")
        .replace("\\x1d", "\u{1d}");
    let mut events = Vec::new();
    for symbol in text.chars() {
        // A small linear congruential generator: reproducible, good enough for gaps.
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let gap = gap_min + (state >> 33) % (gap_max - gap_min + 1);
        let (key, modifier) = match symbol {
            '\n' => (KeyCode::KEY_ENTER, None),
            '\t' => (KeyCode::KEY_TAB, None),
            '\u{1d}' => (KeyCode::KEY_RIGHTBRACE, Some(KeyCode::KEY_LEFTCTRL)),
            _ => match layout.keystroke_for(symbol) {
                Some((key, Level::Base)) => (key, None),
                Some((key, Level::Shift)) => (key, Some(KeyCode::KEY_LEFTSHIFT)),
                Some((key, Level::AltGr)) => (key, Some(KeyCode::KEY_RIGHTALT)),
                None => {
                    eprintln!("{layout:?} cannot type {symbol:?}");
                    return ExitCode::FAILURE;
                }
            },
        };
        let hold = hold.min(gap * 6 / 10).max(2);
        if let Some(modifier) = modifier {
            events.push(KeyEvent {
                at_us: at,
                key: modifier,
                action: KeyAction::Press,
            });
        }
        let pressed = if modifier.is_some() {
            at + hold / 4
        } else {
            at
        };
        events.push(KeyEvent::press(pressed, key));
        events.push(KeyEvent::release(pressed + hold / 2, key));
        if let Some(modifier) = modifier {
            events.push(KeyEvent::release(pressed + hold / 2 + 1, modifier));
        }
        at += gap;
    }
    print!("{}", format_recording(&events));
    ExitCode::SUCCESS
}
