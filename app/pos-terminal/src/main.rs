//! `pos-terminal`: runs the demo day at the demo store and prints what the printer would.

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    let width = std::env::args()
        .skip_while(|arg| arg != "--width")
        .nth(1)
        .map(|w| {
            w.parse::<usize>()
                .context("--width takes a number of columns (32, 42 or 48)")
        })
        .transpose()?
        .unwrap_or(42);
    let printout = pos_terminal::demo_day::run(width).context("the demo day failed")?;
    print!("{printout}");
    Ok(())
}
