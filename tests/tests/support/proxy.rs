//! A TCP proxy that breaks the link on purpose, from a seeded random generator: it drops a
//! request before it reaches the server, holds bytes back for a while, cuts a response half
//! way through, or refuses every connection while the link is "down". Faults are drawn per
//! chunk of bytes, so one kept-alive connection can carry good requests and then break. It can
//! also lose the next answers whole: the server did the work, the client never hears of it.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How the link misbehaves, in chances per thousand chunks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Every connection is closed at once (and open ones are cut).
    pub down: bool,
    /// A request chunk is thrown away and the connection closed.
    pub drop_per_mille: u32,
    /// A chunk waits `delay_ms` before it goes on.
    pub delay_per_mille: u32,
    pub delay_ms: u64,
    /// A response is cut after half of a chunk.
    pub cut_per_mille: u32,
}

impl Faults {
    pub const CLEAN: Faults = Faults {
        down: false,
        drop_per_mille: 0,
        delay_per_mille: 0,
        delay_ms: 0,
        cut_per_mille: 0,
    };
}

/// What the proxy did, for the test's report.
#[derive(Clone, Copy, Debug, Default)]
pub struct FaultCounts {
    pub connections: u64,
    pub refused: u64,
    pub dropped: u64,
    pub delayed: u64,
    pub cut: u64,
    /// Answers thrown away whole ([`FaultProxy::lose_answers`]).
    pub lost: u64,
}

struct State {
    target: Mutex<SocketAddr>,
    faults: Mutex<Faults>,
    random: Mutex<u64>,
    /// Bumped when the link goes down, so open connections notice and close.
    generation: AtomicU64,
    /// Answers still to be thrown away whole.
    answers_to_lose: AtomicU32,
    stop: AtomicBool,
    counts: Mutex<FaultCounts>,
}

impl State {
    /// SplitMix64.
    fn roll(&self) -> u32 {
        let mut state = self.random.lock().unwrap();
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        u32::try_from((z ^ (z >> 31)) % 1000).unwrap()
    }

    fn count(&self, change: impl FnOnce(&mut FaultCounts)) {
        change(&mut self.counts.lock().unwrap());
    }
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    state: Arc<State>,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    pub fn start(target: SocketAddr, seed: u64) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            target: Mutex::new(target),
            faults: Mutex::new(Faults::CLEAN),
            random: Mutex::new(seed),
            generation: AtomicU64::new(0),
            answers_to_lose: AtomicU32::new(0),
            stop: AtomicBool::new(false),
            counts: Mutex::new(FaultCounts::default()),
        });
        let accepting = Arc::clone(&state);
        let accept = std::thread::spawn(move || accept_loop(&listener, &accepting));
        FaultProxy {
            addr,
            state,
            accept: Some(accept),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where the bytes go from now on (the server came back on another port).
    pub fn retarget(&self, target: SocketAddr) {
        *self.state.target.lock().unwrap() = target;
        self.state.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub fn set_faults(&self, faults: Faults) {
        let was_down = self.state.faults.lock().unwrap().down;
        *self.state.faults.lock().unwrap() = faults;
        if faults.down && !was_down {
            self.state.generation.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The next `count` answers reach the proxy (the server handled their requests) and go no
    /// further: each one's connection is closed instead.
    pub fn lose_answers(&self, count: u32) {
        self.state.answers_to_lose.store(count, Ordering::SeqCst);
    }

    pub fn counts(&self) -> FaultCounts {
        *self.state.counts.lock().unwrap()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            accept.join().unwrap();
        }
    }
}

fn accept_loop(listener: &TcpListener, state: &Arc<State>) {
    while !state.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                let faults = *state.faults.lock().unwrap();
                state.count(|c| c.connections += 1);
                if faults.down {
                    state.count(|c| c.refused += 1);
                    drop(client);
                    continue;
                }
                let target = *state.target.lock().unwrap();
                let Ok(server) = TcpStream::connect_timeout(&target, Duration::from_secs(1)) else {
                    drop(client);
                    continue;
                };
                let generation = state.generation.load(Ordering::SeqCst);
                for stream in [&client, &server] {
                    stream.set_nonblocking(false).unwrap();
                    stream
                        .set_read_timeout(Some(Duration::from_millis(50)))
                        .unwrap();
                    stream.set_nodelay(true).unwrap();
                }
                let (client_in, server_out) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let up = Arc::clone(state);
                std::thread::spawn(move || {
                    pump(&client_in, &server_out, &up, generation, Direction::Request);
                });
                let down = Arc::clone(state);
                std::thread::spawn(move || {
                    pump(&server, &client, &down, generation, Direction::Response);
                });
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

fn close(from: &TcpStream, to: &TcpStream) {
    // Both ends may already be gone; closing is all that is wanted.
    from.shutdown(Shutdown::Both).ok();
    to.shutdown(Shutdown::Both).ok();
}

fn pump(from: &TcpStream, to: &TcpStream, state: &State, generation: u64, direction: Direction) {
    let mut buffer = vec![0u8; 16 * 1024];
    let mut from = from;
    let mut to = to;
    loop {
        if state.stop.load(Ordering::SeqCst)
            || state.generation.load(Ordering::SeqCst) != generation
        {
            close(from, to);
            return;
        }
        let read = match from.read(&mut buffer) {
            Ok(0) => {
                close(from, to);
                return;
            }
            Ok(read) => read,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => {
                close(from, to);
                return;
            }
        };
        let faults = *state.faults.lock().unwrap();
        if faults.down {
            close(from, to);
            return;
        }
        if direction == Direction::Response
            && state
                .answers_to_lose
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    left.checked_sub(1)
                })
                .is_ok()
        {
            state.count(|c| c.lost += 1);
            close(from, to);
            return;
        }
        let roll = state.roll();
        match direction {
            Direction::Request if roll < faults.drop_per_mille => {
                state.count(|c| c.dropped += 1);
                close(from, to);
                return;
            }
            Direction::Response if roll < faults.cut_per_mille => {
                state.count(|c| c.cut += 1);
                // Half the answer arrives, then the line dies.
                to.write_all(&buffer[..read / 2]).ok();
                close(from, to);
                return;
            }
            _ => {}
        }
        if state.roll() < faults.delay_per_mille {
            state.count(|c| c.delayed += 1);
            std::thread::sleep(Duration::from_millis(faults.delay_ms));
        }
        if to.write_all(&buffer[..read]).is_err() {
            close(from, to);
            return;
        }
    }
}
