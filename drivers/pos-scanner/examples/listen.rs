//! Watches input devices and prints what the scanner side reports: devices connected and
//! their role, scans decoded, scans refused, devices gone. For a technician checking a
//! scanner on the service bench, and for the appliance test in QEMU.
//!
//! cargo run -p pos-scanner --example listen -- [directory] [config.json]
//!
//! `directory` defaults to `/dev/input`; the optional JSON file is a `ScannerConfig`.
//! Needs read access to the device nodes (root, or the `input` group).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use pos_scanner::device::ScannerConfig;
use pos_scanner::transport::watch_devices;
use pos_scanner::{Decoder, ScannerEvent};
use tokio::sync::mpsc;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let directory = PathBuf::from(args.next().unwrap_or_else(|| "/dev/input".to_string()));
    let config = match args.next().map(std::fs::read_to_string) {
        None => ScannerConfig::default(),
        Some(Ok(json)) => match serde_json::from_str(&json) {
            Ok(config) => config,
            Err(error) => {
                eprintln!("configuration: {error}");
                return ExitCode::FAILURE;
            }
        },
        Some(Err(error)) => {
            eprintln!("configuration: {error}");
            return ExitCode::FAILURE;
        }
    };
    let decoder = match Decoder::new(config.decode.clone()) {
        Ok(decoder) => decoder,
        Err(error) => {
            eprintln!("configuration: {error}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let (sender, mut receiver) = mpsc::channel(64);
        let watching = tokio::spawn(async move {
            watch_devices(
                &directory,
                Duration::from_millis(500),
                config,
                decoder,
                sender,
            )
            .await
        });
        while let Some(event) = receiver.recv().await {
            match event {
                ScannerEvent::Connected {
                    path,
                    identity,
                    role,
                } => println!(
                    "connected {} \"{}\" {:04x}:{:04x} as {role:?}",
                    path.display(),
                    identity.name,
                    identity.vendor_id,
                    identity.product_id
                ),
                ScannerEvent::Disconnected { path } => println!("disconnected {}", path.display()),
                ScannerEvent::Scanned {
                    path,
                    scan,
                    decoded,
                } => {
                    println!(
                        "scanned {} {:?} in {} ms: {decoded:?}",
                        path.display(),
                        scan.text,
                        scan.duration_us / 1_000
                    );
                }
                ScannerEvent::Rejected { path, error, text } => {
                    println!("refused {} {text:?}: {error}", path.display());
                }
                ScannerEvent::DeviceFailed { path, error } => {
                    println!("device {}: {error}", path.display())
                }
            }
        }
        match watching.await {
            Ok(Err(error)) => {
                eprintln!("{error}");
                ExitCode::FAILURE
            }
            _ => ExitCode::SUCCESS,
        }
    })
}
