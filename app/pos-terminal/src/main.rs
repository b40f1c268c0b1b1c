//! `pos-terminal`: the cashier's screen over the store in the data directory.
//!
//! ```text
//! pos-terminal [--data DIR] [--config FILE] [--setup]
//!                                             the till (window, or full screen with `kms`);
//!                                             `--setup`: first-boot setup when none was done;
//!                                             DIR defaults to $POS_DATA_DIR, else the user's
//!                                             data directory
//! pos-terminal demo-day [--width COLUMNS]     print the scripted demo day
//! pos-terminal check [--data DIR] [--config FILE]
//!                                             open the store, verify its journal, read every
//!                                             sale back; `key=value` lines, exit 1 on a break
//! ```

use std::path::PathBuf;

use anyhow::{Context, bail};
use pos_terminal::config::TerminalConfig;
use pos_terminal::terminal::DataDir;

const USAGE: &str = "usage: pos-terminal [--data DIR] [--config FILE] [--setup]\n       pos-terminal demo-day [--width COLUMNS]\n       pos-terminal check [--data DIR] [--config FILE]";

/// Where the data lives when `--data` does not say (`/data/pos` on the appliance).
const DATA_DIR_VARIABLE: &str = "POS_DATA_DIR";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("demo-day") {
        return demo_day(&args[1..]);
    }
    let check = args.first().map(String::as_str) == Some("check");
    let mut data = None;
    let mut config = None;
    let mut setup = false;
    let mut rest = args.iter().skip(usize::from(check));
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--data" => data = Some(PathBuf::from(value(rest.next(), "--data")?)),
            "--config" => config = Some(PathBuf::from(value(rest.next(), "--config")?)),
            "--setup" => setup = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    // The appliance's unit names its data partition in POS_DATA_DIR; a desktop uses the
    // user's data directory.
    let data = data
        .or_else(|| {
            std::env::var_os(DATA_DIR_VARIABLE)
                .filter(|dir| !dir.is_empty())
                .map(PathBuf::from)
        })
        .map(DataDir::new)
        .unwrap_or_else(DataDir::desktop_default);
    let config_file = config.unwrap_or_else(|| data.config_file());
    let config = TerminalConfig::load(&config_file)?;
    if check {
        let found = pos_terminal::terminal::check_store(
            &data,
            pos_core::id::DeviceId::new(&config.device),
        )?;
        print!("{}", found.report());
        if found.journal_break.is_some() {
            bail!("the journal in {} is broken", data.root.display());
        }
        return Ok(());
    }
    eprintln!(
        "pos-terminal: data in {}, receipts filed in {}",
        data.root.display(),
        data.receipts().display()
    );
    if args.first().map(String::as_str) == Some("back-office") {
        bail!(
            "the back office is now entered from the till's login page: run `pos-terminal` and tap Back office"
        );
    }
    pos_terminal::screen::run(&data, &config_file, &config, setup).context("the till stopped")
}

fn value<'a>(next: Option<&'a String>, flag: &str) -> anyhow::Result<&'a str> {
    match next {
        Some(value) => Ok(value),
        None => bail!("{flag} needs a value\n{USAGE}"),
    }
}

fn demo_day(args: &[String]) -> anyhow::Result<()> {
    let width = match args {
        [] => 42,
        [flag, width] if flag == "--width" => width
            .parse::<usize>()
            .context("--width takes a number of columns (32, 42 or 48)")?,
        _ => bail!("{USAGE}"),
    };
    let printout = pos_terminal::demo_day::run(width).context("the demo day failed")?;
    print!("{printout}");
    Ok(())
}
