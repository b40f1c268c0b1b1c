//! A receipt printer on a loopback TCP port, as a network printer listens on port 9100, or
//! on a pseudo-terminal, as a serial printer hangs off `/dev/ttyS0`: it consumes ESC/POS
//! through the real decoder, answers `DLE EOT` status queries, and can play paper out, cover
//! open and a dropped connection. Test scaffolding: it runs one thread and shares its state
//! with the test through a mutex.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use pos_printer::decode::{Decoder, Event};
use pos_printer::status::{DrawerSense, PrinterStatus};
use serialport::{SerialPort, TTYPort};

/// What the emulated printer is doing and has done.
#[derive(Debug)]
pub struct PrinterState {
    pub status: PrinterStatus,
    /// Close the connection once this many more bytes have arrived (a pulled cable).
    pub drop_after_bytes: Option<usize>,
    /// Every event decoded, in order, over all connections.
    pub events: Vec<Event>,
    pub connections: usize,
    /// Decoder errors: the encoder sent something a printer would not understand.
    pub errors: Vec<String>,
}

impl PrinterState {
    /// The paper cuts decoded so far: one a receipt.
    pub fn cuts(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, Event::Cut(_)))
            .count()
    }
}

pub struct PrinterEmulator {
    addr: SocketAddr,
    running: Running,
}

/// The emulated printer's thread and what it shares with the test.
struct Running {
    state: Arc<Mutex<PrinterState>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    /// A ready printer that `serve` plays on its own thread until the test ends.
    fn start(serve: impl FnOnce(&Mutex<PrinterState>, &AtomicBool) + Send + 'static) -> Running {
        let state = Arc::new(Mutex::new(PrinterState {
            status: PrinterStatus::READY,
            drop_after_bytes: None,
            events: Vec::new(),
            connections: 0,
            errors: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || serve(&state, &stop))
        };
        Running {
            state,
            stop,
            thread: Some(thread),
        }
    }
}

impl Running {
    /// Whether `done` came true of the printer's state within `within`.
    fn wait_until(&self, within: Duration, done: impl Fn(&PrinterState) -> bool) -> bool {
        let deadline = std::time::Instant::now() + within;
        while !done(&lock(&self.state)) {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Connections served before the emulator stops by itself.
const CONNECTIONS_MAX: usize = 64;
/// How long a read waits before checking whether the test has finished.
const POLL: Duration = Duration::from_millis(20);

impl PrinterEmulator {
    pub fn start() -> std::io::Result<PrinterEmulator> {
        PrinterEmulator::start_on("127.0.0.1:0".parse().map_err(std::io::Error::other)?)
    }

    /// Listens on `addr`: a printer switched back on keeps its address.
    pub fn start_on(addr: SocketAddr) -> std::io::Result<PrinterEmulator> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let running = Running::start(move |state, stop| serve(&listener, state, stop));
        Ok(PrinterEmulator { addr, running })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> MutexGuard<'_, PrinterState> {
        lock(&self.running.state)
    }

    /// Whether `done` came true of the printer's state within `within`.
    pub fn wait_until(&self, within: Duration, done: impl Fn(&PrinterState) -> bool) -> bool {
        self.running.wait_until(within, done)
    }
}

/// The same printer on a serial line: the driver opens the pseudo-terminal's slave side by
/// its path as it would open `/dev/ttyS0`, and the emulator plays the printer on the master.
pub struct SerialPrinterEmulator {
    path: String,
    running: Running,
    /// Held open so the master sees no hang-up between the driver's opens.
    _slave: TTYPort,
}

impl SerialPrinterEmulator {
    pub fn start() -> std::io::Result<SerialPrinterEmulator> {
        let (mut master, slave, path) = pty()?;
        master.set_timeout(POLL)?;
        let running = Running::start(move |state, stop| {
            // The line ends with the test; a pulled cable is played by a hang-up.
            let _ = talk(&mut master, state, stop, |_| Ok(()));
        });
        Ok(SerialPrinterEmulator {
            path,
            running,
            _slave: slave,
        })
    }

    /// The serial port's path, for the printer's configuration.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn state(&self) -> MutexGuard<'_, PrinterState> {
        lock(&self.running.state)
    }

    /// Whether `done` came true of the printer's state within `within`.
    pub fn wait_until(&self, within: Duration, done: impl Fn(&PrinterState) -> bool) -> bool {
        self.running.wait_until(within, done)
    }
}

/// A pseudo-terminal pair: the master, the slave and the slave's path.
pub fn pty() -> std::io::Result<(TTYPort, TTYPort, String)> {
    // `TTYPort::pair` asks the system for the slave's name in a way that is not thread-safe.
    static PAIRING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = PAIRING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (master, slave) = TTYPort::pair()?;
    let path = slave
        .name()
        .ok_or_else(|| std::io::Error::other("the pseudo-terminal has no name"))?;
    Ok((master, slave, path))
}

fn lock(state: &Mutex<PrinterState>) -> MutexGuard<'_, PrinterState> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn serve(listener: &TcpListener, state: &Mutex<PrinterState>, stop: &AtomicBool) {
    let mut served = 0;
    while !stop.load(Ordering::Relaxed) && served < CONNECTIONS_MAX {
        match listener.accept() {
            Ok((mut stream, _)) => {
                served += 1;
                lock(state).connections += 1;
                let blocking = stream
                    .set_nonblocking(false)
                    .and_then(|()| stream.set_read_timeout(Some(POLL)));
                if blocking.is_ok() {
                    let _ = talk(&mut stream, state, stop, |stream| {
                        stream.shutdown(std::net::Shutdown::Both)
                    });
                }
            }
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

/// One connection, its reads waiting at most [`POLL`]: decode what arrives, answer status
/// queries, `hang_up` when told to drop the line.
fn talk<L: Read + Write>(
    line: &mut L,
    state: &Mutex<PrinterState>,
    stop: &AtomicBool,
    hang_up: impl FnOnce(&mut L) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut decoder = Decoder::new();
    let mut buf = [0_u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let n = match line.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut guard = lock(state);
        let mut take = n;
        let mut drop_now = false;
        if let Some(left) = guard.drop_after_bytes {
            if n >= left {
                take = left;
                drop_now = true;
                guard.drop_after_bytes = None;
            } else {
                guard.drop_after_bytes = Some(left - n);
            }
        }
        let mut answers = Vec::new();
        match decoder.feed(&buf[..take]) {
            Ok(events) => {
                for event in events {
                    if let Event::StatusQuery(kind) = event {
                        let bytes = guard.status.to_bytes(DrawerSense::OpenWhenHigh);
                        answers.push(bytes[kind as usize - 1]);
                    } else {
                        guard.events.push(event);
                    }
                }
            }
            Err(e) => guard.errors.push(e.to_string()),
        }
        drop(guard);
        if drop_now {
            return hang_up(line);
        }
        line.write_all(&answers)?;
        line.flush()?;
    }
    Ok(())
}
