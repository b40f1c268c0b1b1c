//! The IO edge without hardware: device classification, hotplug over a real directory, and
//! kernel-format `struct input_event` records read from a real pipe through the same session
//! loop that reads `/dev/input/event*`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use pos_scanner::decode::{DecodeRules, Decoded, Decoder};
use pos_scanner::device::{
    DeclaredScanner, DeviceIdentity, DeviceRole, KeyboardPolicy, ScannerConfig, ScannerEvidence,
};
use pos_scanner::discovery::{DeviceChange, DirectoryWatcher};
use pos_scanner::error::{DeviceError, DeviceErrorKind, ScanError};
use pos_scanner::key::parse_recording;
use pos_scanner::layout::Layout;
use pos_scanner::transport::{
    DeviceSession, RawInputEvent, RecordStream, ScannerEvent, run_session, watch_devices,
};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

fn identity(name: &str, vendor_id: u16, product_id: u16, types_digits: bool) -> DeviceIdentity {
    DeviceIdentity {
        name: name.to_string(),
        vendor_id,
        product_id,
        types_digits,
    }
}

#[test]
fn devices_are_scanners_by_declared_id_or_name_and_keyboards_otherwise() {
    let config = ScannerConfig {
        declared: vec![DeclaredScanner {
            vendor_id: 0x0c2e,
            product_id: 0x0b61,
            layout: Layout::De,
        }],
        ..ScannerConfig::default()
    };
    assert_eq!(
        config.classify(&identity("HID 0c2e:0b61", 0x0c2e, 0x0b61, true)),
        DeviceRole::Scanner {
            layout: Layout::De,
            evidence: ScannerEvidence::DeclaredId
        }
    );
    assert_eq!(
        config.classify(&identity(
            "Honeywell Imaging & Mobility 1900",
            0x0c2e,
            0x0901,
            true
        )),
        DeviceRole::Scanner {
            layout: Layout::Us,
            evidence: ScannerEvidence::Name
        }
    );
    assert_eq!(
        config.classify(&identity("Logitech USB Keyboard", 0x046d, 0xc31c, true)),
        DeviceRole::WatchedKeyboard { layout: Layout::Us }
    );
    assert_eq!(
        config.classify(&identity("Power Button", 0, 0, false)),
        DeviceRole::Ignored
    );
    let leave_keyboards = ScannerConfig {
        keyboards: KeyboardPolicy::Ignore,
        ..ScannerConfig::default()
    };
    assert_eq!(
        leave_keyboards.classify(&identity("Logitech USB Keyboard", 0x046d, 0xc31c, true)),
        DeviceRole::Ignored
    );
}

#[test]
fn the_configuration_reads_from_json_with_defaults_for_what_is_missing() {
    let config: ScannerConfig = serde_json::from_str(
        r#"{ "declared": [ { "vendor_id": 3118, "product_id": 2913, "layout": "fr" } ],
             "burst": { "key_gap_ms_max": 40, "terminator": "tab" } }"#,
    )
    .unwrap();
    assert_eq!(config.declared[0].layout, Layout::Fr);
    assert_eq!(config.burst.key_gap_ms_max, 40);
    assert_eq!(config.burst.scan_length_min, 6);
    assert_eq!(config.decode, DecodeRules::default());
}

#[test]
fn the_watcher_reports_event_nodes_coming_and_going() {
    let directory = tempfile::tempdir().unwrap();
    let node = |name: &str| directory.path().join(name);
    let mut watcher = DirectoryWatcher::new(directory.path(), 2);
    assert_eq!(watcher.poll().unwrap().0, vec![]);

    std::fs::write(node("event3"), b"").unwrap();
    std::fs::write(node("event7"), b"").unwrap();
    std::fs::write(node("mouse0"), b"").unwrap();
    assert_eq!(
        watcher.poll().unwrap().0,
        vec![
            DeviceChange::Added(node("event3")),
            DeviceChange::Added(node("event7"))
        ]
    );
    assert_eq!(watcher.poll().unwrap().0, vec![], "nothing changed");

    // A third device is over the limit of two: reported once, not watched.
    std::fs::write(node("event9"), b"").unwrap();
    let (changes, refused) = watcher.poll().unwrap();
    assert_eq!(changes, vec![]);
    assert!(matches!(
        &refused[..],
        [DeviceError::TooManyDevices { limit: 2, .. }]
    ));
    assert!(watcher.poll().unwrap().1.is_empty(), "reported once");

    // Unplugging one makes room for the waiting one.
    std::fs::remove_file(node("event3")).unwrap();
    assert_eq!(
        watcher.poll().unwrap().0,
        vec![
            DeviceChange::Removed(node("event3")),
            DeviceChange::Added(node("event9"))
        ]
    );

    // A device that failed while its node stayed is offered again once forgotten.
    watcher.forget(&node("event7"));
    assert_eq!(
        watcher.poll().unwrap().0,
        vec![DeviceChange::Added(node("event7"))]
    );

    drop(directory);
    let error = DirectoryWatcher::new("/nonexistent/input", 2)
        .poll()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot list input devices in /nonexistent/input"),
        "{error}"
    );
}

fn fixture_records(name: &str, shift_us: u64) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/{name}.events",
        env!("CARGO_MANIFEST_DIR")
    );
    let events = parse_recording(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut bytes = Vec::new();
    for event in events {
        let mut raw = RawInputEvent::from_key_event(&event);
        raw.at_us += shift_us;
        bytes.extend_from_slice(&raw.to_record());
        // The kernel ends each report with EV_SYN/SYN_REPORT; the reader must skip it.
        bytes.extend_from_slice(
            &RawInputEvent {
                at_us: raw.at_us,
                event_type: 0,
                code: 0,
                value: 0,
            }
            .to_record(),
        );
    }
    bytes
}

fn session(role: DeviceRole) -> DeviceSession {
    let config = ScannerConfig::default();
    DeviceSession::new(
        Path::new("/dev/input/event5"),
        role,
        &config,
        Decoder::new(DecodeRules::default()).unwrap(),
    )
    .unwrap()
}

const SCANNER: DeviceRole = DeviceRole::Scanner {
    layout: Layout::Us,
    evidence: ScannerEvidence::DeclaredId,
};

#[tokio::test]
async fn kernel_event_records_from_a_pipe_become_scans() {
    let (mut writer, reader) = tokio::net::unix::pipe::pipe().unwrap();
    let mut bytes = fixture_records("scanner_ean13_us", 0);
    bytes.extend(fixture_records("scanner_bad_check_digit", 1_000_000));
    // A SYN_DROPPED in the middle of a third scan: the kernel lost events.
    bytes.extend(
        fixture_records("scanner_ean13_us", 2_000_000)
            .iter()
            .take(24 * 2 * 8),
    );
    bytes.extend_from_slice(
        &RawInputEvent {
            at_us: 3_100_000,
            event_type: 0,
            code: 3,
            value: 0,
        }
        .to_record(),
    );
    // Written in odd-sized pieces, so records arrive split across reads.
    let writing = tokio::spawn(async move {
        for piece in bytes.chunks(37) {
            writer.write_all(piece).await.unwrap();
        }
    });
    let (sender, mut receiver) = mpsc::channel(16);
    let mut session = session(SCANNER);
    run_session(&mut RecordStream::new(reader), &mut session, &sender)
        .await
        .unwrap();
    writing.await.unwrap();
    drop(sender);
    let mut events = Vec::new();
    while let Some(event) = receiver.recv().await {
        events.push(event);
    }
    assert!(
        matches!(&events[0], ScannerEvent::Scanned { decoded: Decoded::Gtin { gtin, .. }, path, .. }
            if gtin.as_str() == "4006381333931" && path == Path::new("/dev/input/event5")),
        "{events:?}"
    );
    assert!(
        matches!(&events[1], ScannerEvent::Rejected { error: ScanError::BadCheckDigit { .. }, text: Some(t), .. } if t == "4006381333932")
    );
    assert!(
        matches!(
            &events[2],
            ScannerEvent::Rejected {
                error: ScanError::EventsLost,
                ..
            }
        ),
        "{events:?}"
    );
    assert_eq!(events.len(), 3, "{events:?}");
}

#[tokio::test]
async fn a_stalled_scan_is_refused_when_its_deadline_passes_not_when_the_next_key_comes() {
    let (mut writer, reader) = tokio::net::unix::pipe::pipe().unwrap();
    let (sender, mut receiver) = mpsc::channel(16);
    let reading = tokio::spawn(async move {
        let mut session = session(SCANNER);
        run_session(&mut RecordStream::new(reader), &mut session, &sender).await
    });
    let all = fixture_records("scanner_ean13_us", 0);
    // Eight characters (press, release, each with its SYN) and then nothing.
    writer.write_all(&all[..24 * 4 * 8]).await.unwrap();
    let refusal = tokio::time::timeout(Duration::from_secs(5), receiver.recv())
        .await
        .unwrap();
    assert!(
        matches!(
            refusal,
            Some(ScannerEvent::Rejected {
                error: ScanError::Unterminated { length: 8 },
                ..
            })
        ),
        "{refusal:?}"
    );
    drop(writer);
    assert_eq!(reading.await.unwrap().ok(), Some(()));
}

#[tokio::test]
async fn watched_keyboards_report_only_scans_and_keep_typing_for_the_ui() {
    let (mut writer, reader) = tokio::net::unix::pipe::pipe().unwrap();
    let mut bytes = fixture_records("fast_typist", 0);
    bytes.extend(fixture_records("scanner_price_embedded", 10_000_000));
    writer.write_all(&bytes).await.unwrap();
    drop(writer);
    let (sender, mut receiver) = mpsc::channel(64);
    let mut session = session(DeviceRole::WatchedKeyboard { layout: Layout::Us });
    run_session(&mut RecordStream::new(reader), &mut session, &sender)
        .await
        .unwrap();
    drop(sender);
    let event = receiver.recv().await;
    assert!(
        matches!(
            event,
            Some(ScannerEvent::Scanned {
                decoded: Decoded::Embedded { .. },
                ..
            })
        ),
        "{event:?}"
    );
    assert!(receiver.recv().await.is_none());
}

async fn next(receiver: &mut mpsc::Receiver<ScannerEvent>) -> ScannerEvent {
    tokio::time::timeout(Duration::from_secs(5), receiver.recv())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn hotplug_opens_new_nodes_and_reports_unplugging() {
    let directory = tempfile::tempdir().unwrap();
    let (sender, mut receiver) = mpsc::channel(16);
    let watched = directory.path().to_path_buf();
    let watching = tokio::spawn(async move {
        let decoder = Decoder::new(DecodeRules::default()).unwrap();
        watch_devices(
            &watched,
            Duration::from_millis(10),
            ScannerConfig::default(),
            decoder,
            sender,
        )
        .await
    });
    // A node that is not an input device (a plain file): opening it as one fails, and the
    // technician is told which node and why.
    let node: PathBuf = directory.path().join("event4");
    std::fs::write(&node, b"").unwrap();
    let failed = next(&mut receiver).await;
    let ScannerEvent::DeviceFailed { path, error } = &failed else {
        panic!("{failed:?}")
    };
    assert_eq!(path, &node);
    assert!(
        matches!(error, DeviceError::Open { .. }) && error.kind() == DeviceErrorKind::Failed,
        "{error}"
    );
    std::fs::remove_file(&node).unwrap();
    let gone = next(&mut receiver).await;
    assert!(
        matches!(&gone, ScannerEvent::Disconnected { path } if path == &node),
        "{gone:?}"
    );
    drop(receiver);
    assert!(watching.await.unwrap().is_ok());
}

/// Two scanners at one till (a hand scanner and a counter scanner) scanning at the same moment:
/// their key events interleave in time, yet each scan comes out whole and from its own device.
#[tokio::test]
async fn two_scanners_at_once_never_mix_their_scans() {
    let (sender, mut receiver) = mpsc::channel(16);
    let mut readings = Vec::new();
    let mut writers = Vec::new();
    for (node, fixture) in [
        ("event5", "scanner_ean13_us"),
        ("event6", "scanner_upca_price_check"),
    ] {
        let (writer, reader) = tokio::net::unix::pipe::pipe().unwrap();
        writers.push((writer, fixture_records(fixture, 0)));
        let sender = sender.clone();
        let path = PathBuf::from(format!("/dev/input/{node}"));
        readings.push(tokio::spawn(async move {
            let mut session = DeviceSession::new(
                &path,
                SCANNER,
                &ScannerConfig::default(),
                Decoder::new(DecodeRules::default()).unwrap(),
            )
            .unwrap();
            run_session(&mut RecordStream::new(reader), &mut session, &sender).await
        }));
    }
    drop(sender);
    // One key record (with its SYN) from each scanner in turn.
    let record = 24 * 2;
    let longest = writers.iter().map(|(_, bytes)| bytes.len()).max().unwrap();
    for offset in (0..longest).step_by(record) {
        for (writer, bytes) in &mut writers {
            if offset < bytes.len() {
                writer
                    .write_all(&bytes[offset..(offset + record).min(bytes.len())])
                    .await
                    .unwrap();
            }
        }
    }
    drop(writers);
    for reading in readings {
        assert!(reading.await.unwrap().is_ok());
    }
    let mut scans = Vec::new();
    while let Some(event) = receiver.recv().await {
        match event {
            ScannerEvent::Scanned { scan, path, .. } => scans.push((path, scan.text)),
            other => panic!("only whole scans are expected: {other:?}"),
        }
    }
    scans.sort();
    assert_eq!(
        scans,
        [
            (
                PathBuf::from("/dev/input/event5"),
                "4006381333931".to_owned()
            ),
            (
                PathBuf::from("/dev/input/event6"),
                "212345928752".to_owned()
            ),
        ]
    );
}

/// A scanner plugged in at run time: the kernel makes its node for root alone and udev hands
/// it to the input group a moment later. Opening it in between is refused; that is a node to
/// open again at the next listing, not a failure for a technician.
#[test]
fn a_node_udev_has_not_handed_over_yet_is_not_ready_and_other_open_errors_fail() {
    let refused = DeviceError::Open {
        path: PathBuf::from("/dev/input/event5"),
        source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
    };
    assert_eq!(refused.kind(), DeviceErrorKind::NotReady);
    let not_input = DeviceError::Open {
        path: PathBuf::from("/dev/input/event5"),
        source: std::io::Error::from_raw_os_error(25),
    };
    assert_eq!(not_input.kind(), DeviceErrorKind::Failed);
}
