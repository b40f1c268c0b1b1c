//! The thin IO edge: evdev devices (or any stream of `struct input_event` records) driven
//! through a [`ScanReader`], and hotplug over a directory of device nodes.
//!
//! The loop in [`run_session`] is the only place that waits: on the next event or on the
//! codec's deadline, whichever comes first. Event timestamps come from the kernel; the
//! deadline is turned into a tokio instant relative to the arrival of the latest event.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use time::{Date, OffsetDateTime};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::codec::{Scan, Source};
use crate::decode::{Decoded, Decoder};
use crate::device::{DeviceIdentity, DeviceRole, ScannerConfig};
use crate::discovery::{DeviceChange, DirectoryWatcher};
use crate::error::{DeviceError, DeviceErrorKind, ENODEV, ScanError};
use crate::key::{KeyAction, KeyCode, KeyEvent};
use crate::reader::{ReaderOutput, ScanReader};

const EV_SYN: u16 = 0;
const EV_KEY: u16 = 1;
const SYN_DROPPED: u16 = 3;

/// Most input devices watched at once (keyboards, scanners, buttons together).
pub const DEVICE_COUNT_MAX: usize = 32;

/// Size of one `struct input_event` on 64-bit Linux: `timeval` (two i64), u16 type,
/// u16 code, i32 value.
pub const INPUT_EVENT_RECORD_BYTES: usize = 24;

/// One input event as the kernel delivers it, timestamp in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawInputEvent {
    pub at_us: u64,
    pub event_type: u16,
    pub code: u16,
    pub value: i32,
}

impl RawInputEvent {
    /// Reads one record in the host's byte order, as `read(2)` on `/dev/input/event*` gives it.
    pub fn from_record(record: &[u8; INPUT_EVENT_RECORD_BYTES]) -> RawInputEvent {
        let i64_at = |at: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&record[at..at + 8]);
            i64::from_ne_bytes(bytes)
        };
        let seconds = u64::try_from(i64_at(0)).unwrap_or(0);
        let microseconds = u64::try_from(i64_at(8)).unwrap_or(0);
        RawInputEvent {
            at_us: seconds
                .saturating_mul(1_000_000)
                .saturating_add(microseconds),
            event_type: u16::from_ne_bytes([record[16], record[17]]),
            code: u16::from_ne_bytes([record[18], record[19]]),
            value: i32::from_ne_bytes([record[20], record[21], record[22], record[23]]),
        }
    }

    /// The record the kernel would write for this event.
    pub fn to_record(&self) -> [u8; INPUT_EVENT_RECORD_BYTES] {
        let mut record = [0u8; INPUT_EVENT_RECORD_BYTES];
        let seconds = i64::try_from(self.at_us / 1_000_000).unwrap_or(i64::MAX);
        let microseconds = i64::try_from(self.at_us % 1_000_000).unwrap_or(0);
        record[0..8].copy_from_slice(&seconds.to_ne_bytes());
        record[8..16].copy_from_slice(&microseconds.to_ne_bytes());
        record[16..18].copy_from_slice(&self.event_type.to_ne_bytes());
        record[18..20].copy_from_slice(&self.code.to_ne_bytes());
        record[20..24].copy_from_slice(&self.value.to_ne_bytes());
        record
    }

    pub fn from_key_event(event: &KeyEvent) -> RawInputEvent {
        RawInputEvent {
            at_us: event.at_us,
            event_type: EV_KEY,
            code: event.key.code(),
            value: event.action.evdev_value(),
        }
    }

    fn from_evdev(event: &evdev::InputEvent) -> RawInputEvent {
        let at_us = event
            .timestamp()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
            });
        RawInputEvent {
            at_us,
            event_type: event.event_type().0,
            code: event.code(),
            value: event.value(),
        }
    }
}

/// Where raw events come from. `next_event` MUST be cancel-safe: the session drops it
/// when the codec's deadline comes first.
pub trait EventSource {
    fn next_event(&mut self) -> impl Future<Output = io::Result<RawInputEvent>> + Send;
}

impl EventSource for evdev::EventStream {
    async fn next_event(&mut self) -> io::Result<RawInputEvent> {
        evdev::EventStream::next_event(self)
            .await
            .map(|event| RawInputEvent::from_evdev(&event))
    }
}

/// `struct input_event` records from any byte stream (a pipe, a file, a socket). Partial
/// records are kept between calls, so it is cancel-safe.
#[derive(Debug)]
pub struct RecordStream<R> {
    reader: R,
    pending: Vec<u8>,
}

impl<R: AsyncRead + Unpin + Send> RecordStream<R> {
    pub fn new(reader: R) -> RecordStream<R> {
        RecordStream {
            reader,
            pending: Vec::with_capacity(INPUT_EVENT_RECORD_BYTES * 64),
        }
    }
}

impl<R: AsyncRead + Unpin + Send> EventSource for RecordStream<R> {
    async fn next_event(&mut self) -> io::Result<RawInputEvent> {
        loop {
            if let Some(record) = self.pending.get(..INPUT_EVENT_RECORD_BYTES) {
                let mut bytes = [0u8; INPUT_EVENT_RECORD_BYTES];
                bytes.copy_from_slice(record);
                self.pending.drain(..INPUT_EVENT_RECORD_BYTES);
                return Ok(RawInputEvent::from_record(&bytes));
            }
            let mut chunk = [0u8; INPUT_EVENT_RECORD_BYTES * 16];
            let count = self.reader.read(&mut chunk).await?;
            if count == 0 {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
            }
            self.pending.extend_from_slice(&chunk[..count]);
        }
    }
}

/// What the scanner side tells the rest of the terminal.
#[derive(Debug)]
pub enum ScannerEvent {
    Connected {
        path: PathBuf,
        identity: DeviceIdentity,
        role: DeviceRole,
    },
    Disconnected {
        path: PathBuf,
    },
    Scanned {
        path: PathBuf,
        scan: Scan,
        decoded: Decoded,
    },
    Rejected {
        path: PathBuf,
        error: ScanError,
        text: Option<String>,
    },
    DeviceFailed {
        path: PathBuf,
        error: DeviceError,
    },
}

/// One device's reader and what to do with its keys.
#[derive(Debug)]
pub struct DeviceSession {
    path: PathBuf,
    reader: ScanReader,
}

impl DeviceSession {
    /// `None` for devices that are not read at all.
    pub fn new(
        path: &Path,
        role: DeviceRole,
        config: &ScannerConfig,
        decoder: Decoder,
    ) -> Option<DeviceSession> {
        let (source, layout) = match role {
            DeviceRole::Scanner { layout, .. } => (Source::Scanner, layout),
            DeviceRole::WatchedKeyboard { layout } => (Source::Keyboard, layout),
            DeviceRole::Ignored => return None,
        };
        let reader = ScanReader::new(config.burst.clone(), source, layout, decoder);
        Some(DeviceSession {
            path: path.to_path_buf(),
            reader,
        })
    }

    pub fn handle_raw(&mut self, event: RawInputEvent) {
        match event.event_type {
            EV_KEY => {
                if let Some(action) = KeyAction::from_evdev_value(event.value) {
                    let key = KeyCode::new(event.code);
                    self.reader.handle_event(KeyEvent {
                        at_us: event.at_us,
                        key,
                        action,
                    });
                }
            }
            EV_SYN if event.code == SYN_DROPPED => self.reader.handle_events_lost(),
            _ => {}
        }
    }

    /// The next event for the terminal. Keys a person typed on a watched keyboard are not
    /// forwarded: the UI receives them itself.
    pub fn poll_event(&mut self, today: Date) -> Option<ScannerEvent> {
        loop {
            let path = self.path.clone();
            match self.reader.poll_output(today)? {
                ReaderOutput::Scanned { scan, decoded } => {
                    return Some(ScannerEvent::Scanned {
                        path,
                        scan,
                        decoded,
                    });
                }
                ReaderOutput::Rejected { error, text } => {
                    return Some(ScannerEvent::Rejected { path, error, text });
                }
                ReaderOutput::Typed(_) => {}
            }
        }
    }
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// Reads `source` until it ends, sending scans and refusals. Returns when the source ends
/// (after resolving what was pending) or when nobody listens any more.
pub async fn run_session<S: EventSource>(
    source: &mut S,
    session: &mut DeviceSession,
    sender: &mpsc::Sender<ScannerEvent>,
) -> Result<(), DeviceError> {
    // The kernel clock of the latest event and when it arrived here, to place deadlines.
    let mut anchor: Option<(u64, Instant)> = None;
    loop {
        let deadline = session.reader.poll_timeout();
        let next = match (deadline, anchor) {
            (Some(deadline_us), Some((anchor_us, arrived))) => {
                let wake = arrived + Duration::from_micros(deadline_us.saturating_sub(anchor_us));
                tokio::select! {
                    event = source.next_event() => Some(event),
                    () = tokio::time::sleep_until(wake) => None,
                }
            }
            _ => Some(source.next_event().await),
        };
        let mut ended = None;
        match next {
            None => session.reader.handle_timeout(deadline.unwrap_or(0)),
            Some(Ok(event)) => {
                anchor = Some((event.at_us, Instant::now()));
                session.handle_raw(event);
            }
            Some(Err(error)) => {
                // The stream is over: whatever was pending is resolved as if time ran out.
                if let Some(deadline_us) = deadline {
                    session.reader.handle_timeout(deadline_us);
                }
                ended = Some(error);
            }
        }
        while let Some(event) = session.poll_event(today()) {
            if sender.send(event).await.is_err() {
                return Ok(());
            }
        }
        match ended {
            None => {}
            Some(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            // ENODEV: the device was unplugged while being read.
            Some(error) if error.raw_os_error() == Some(ENODEV) => {
                return Err(DeviceError::Unplugged {
                    path: session.path.clone(),
                });
            }
            Some(source) => {
                return Err(DeviceError::Read {
                    path: session.path.clone(),
                    source,
                });
            }
        }
    }
}

fn identity_of(device: &evdev::Device) -> DeviceIdentity {
    let input_id = device.input_id();
    let types_digits = device
        .supported_keys()
        .is_some_and(|keys| keys.contains(KeyCode::KEY_1) && keys.contains(KeyCode::KEY_ENTER));
    DeviceIdentity {
        name: device.name().unwrap_or("").to_string(),
        vendor_id: input_id.vendor(),
        product_id: input_id.product(),
        types_digits,
    }
}

/// Opens one device node, classifies it, grabs it if it is a scanner, and reads it until
/// it goes away. Dropping the device releases the grab.
/// A node that is not ready yet is opened again at this many listings before it counts as a
/// failure (udev takes milliseconds; a loaded or emulated machine, longer).
const NOT_READY_RETRIES: u32 = 10;

async fn run_device(
    path: PathBuf,
    config: ScannerConfig,
    decoder: Decoder,
    sender: mpsc::Sender<ScannerEvent>,
    last_try: bool,
) -> DeviceTaskEnd {
    match read_device(&path, &config, decoder, &sender).await {
        Ok(()) => DeviceTaskEnd::Done,
        Err(error) => {
            let end = match error.kind() {
                DeviceErrorKind::Gone => DeviceTaskEnd::DeviceGone,
                DeviceErrorKind::NotReady if !last_try => return DeviceTaskEnd::NotReady,
                DeviceErrorKind::NotReady | DeviceErrorKind::Failed => DeviceTaskEnd::Done,
            };
            // A failed send means nobody listens any more, so there is nobody left to tell.
            sender
                .send(ScannerEvent::DeviceFailed { path, error })
                .await
                .ok();
            end
        }
    }
}

/// How a device's task ended: only a device that went away, or whose node udev had not
/// handed over yet, is worth opening again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceTaskEnd {
    Done,
    DeviceGone,
    NotReady,
}

async fn read_device(
    path: &Path,
    config: &ScannerConfig,
    decoder: Decoder,
    sender: &mpsc::Sender<ScannerEvent>,
) -> Result<(), DeviceError> {
    let mut device = evdev::Device::open(path).map_err(|source| DeviceError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let identity = identity_of(&device);
    let role = config.classify(&identity);
    let connected = ScannerEvent::Connected {
        path: path.to_path_buf(),
        identity,
        role,
    };
    if sender.send(connected).await.is_err() {
        return Ok(());
    }
    let Some(mut session) = DeviceSession::new(path, role, config, decoder) else {
        return Ok(());
    };
    if matches!(role, DeviceRole::Scanner { .. }) {
        // EVIOCGRAB: the scanner's keys no longer reach libinput, so they never type into
        // the UI. Released when the device is dropped.
        device.grab().map_err(|source| DeviceError::Grab {
            path: path.to_path_buf(),
            source,
        })?;
    }
    let mut stream = device
        .into_event_stream()
        .map_err(|source| DeviceError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    run_session(&mut stream, &mut session, sender).await
}

/// Watches `directory` (normally `/dev/input`) every `poll_interval`, reading each device
/// that appears on its own task and stopping it when its node disappears. A node that cannot
/// be opened for want of permission yet (udev still setting it up) is tried again at the next
/// listings before it is reported. Returns when the receiver is dropped, or with an error when
/// the directory cannot be listed.
pub async fn watch_devices(
    directory: &Path,
    poll_interval: Duration,
    config: ScannerConfig,
    decoder: Decoder,
    sender: mpsc::Sender<ScannerEvent>,
) -> Result<(), DeviceError> {
    let mut watcher = DirectoryWatcher::new(directory, DEVICE_COUNT_MAX);
    let mut tasks: HashMap<PathBuf, JoinHandle<DeviceTaskEnd>> = HashMap::new();
    // Nodes found not ready, and how often.
    let mut not_ready: HashMap<PathBuf, u32> = HashMap::new();
    let mut interval = tokio::time::interval(poll_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let result = loop {
        interval.tick().await;
        if sender.is_closed() {
            break Ok(());
        }
        // A device that went away while its node stayed (unplugged and plugged back between
        // two listings) is opened again: forget it so this listing adds it anew.
        let finished: Vec<PathBuf> = tasks
            .iter()
            .filter(|(_, task)| task.is_finished())
            .map(|(path, _)| path.clone())
            .collect();
        for path in finished {
            let Some(task) = tasks.remove(&path) else {
                continue;
            };
            match task.await.ok() {
                Some(DeviceTaskEnd::DeviceGone) => {
                    not_ready.remove(&path);
                    watcher.forget(&path);
                }
                Some(DeviceTaskEnd::NotReady) => {
                    *not_ready.entry(path.clone()).or_default() += 1;
                    watcher.forget(&path);
                }
                _ => {
                    not_ready.remove(&path);
                }
            }
        }
        let (changes, refused) = match watcher.poll() {
            Ok(found) => found,
            Err(error) => break Err(error),
        };
        let mut notices: Vec<ScannerEvent> = refused
            .into_iter()
            .map(|error| ScannerEvent::DeviceFailed {
                path: directory.to_path_buf(),
                error,
            })
            .collect();
        for change in changes {
            match change {
                DeviceChange::Added(path) => {
                    let tries = not_ready.get(&path).copied().unwrap_or(0);
                    let task = tokio::spawn(run_device(
                        path.clone(),
                        config.clone(),
                        decoder.clone(),
                        sender.clone(),
                        tries >= NOT_READY_RETRIES,
                    ));
                    tasks.insert(path, task);
                }
                DeviceChange::Removed(path) => {
                    not_ready.remove(&path);
                    if let Some(task) = tasks.remove(&path) {
                        task.abort();
                    }
                    notices.push(ScannerEvent::Disconnected { path });
                }
            }
        }
        for notice in notices {
            if sender.send(notice).await.is_err() {
                break;
            }
        }
    };
    for task in tasks.into_values() {
        task.abort();
    }
    result
}
