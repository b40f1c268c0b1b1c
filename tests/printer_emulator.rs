//! A receipt printer on a loopback TCP port, as a network printer listens on port 9100: it
//! consumes ESC/POS through the real decoder, answers `DLE EOT` status queries, and can play
//! paper out, cover open and a dropped connection. Test scaffolding: it runs one thread and
//! shares its state with the test through a mutex.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use pos_printer::decode::{Decoder, Event};
use pos_printer::status::{DrawerSense, PrinterStatus};

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

pub struct PrinterEmulator {
    addr: SocketAddr,
    state: Arc<Mutex<PrinterState>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
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
            std::thread::spawn(move || serve(&listener, &state, &stop))
        };
        Ok(PrinterEmulator {
            addr,
            state,
            stop,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> MutexGuard<'_, PrinterState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for PrinterEmulator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
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
            Ok((stream, _)) => {
                served += 1;
                lock(state).connections += 1;
                let _ = talk(stream, state, stop);
            }
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

/// One connection: decode what arrives, answer status queries, drop the line when told to.
fn talk(
    mut stream: TcpStream,
    state: &Mutex<PrinterState>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(POLL))?;
    let mut decoder = Decoder::new();
    let mut buf = [0_u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let n = match stream.read(&mut buf) {
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
            return stream.shutdown(std::net::Shutdown::Both);
        }
        stream.write_all(&answers)?;
    }
    Ok(())
}
