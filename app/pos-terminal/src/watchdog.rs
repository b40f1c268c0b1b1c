//! Telling systemd the terminal is up and still answering (`sd_notify`): `READY=1` once the
//! window exists, then `WATCHDOG=1` from a timer on the UI thread. A UI thread that hangs
//! stops the pings, and systemd (`WatchdogSec=` in `pos-terminal.service`) restarts the
//! program, as it does when it crashes.
//!
//! Owns the notification socket and nothing else; outside systemd (no `NOTIFY_SOCKET`, as on
//! a desktop) it does nothing.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::Duration;

/// The socket systemd listens on, from `NOTIFY_SOCKET`.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    target: Target,
}

#[derive(Debug)]
enum Target {
    Path(PathBuf),
    /// `@name`: a Linux abstract socket.
    Abstract(Vec<u8>),
}

impl Notifier {
    /// The notifier for `NOTIFY_SOCKET`, or `None` when the program was not started by
    /// systemd with notification access.
    pub fn from_env() -> Option<Notifier> {
        Notifier::for_socket(&std::env::var_os("NOTIFY_SOCKET")?.to_string_lossy())
    }

    /// The notifier for a socket written as systemd writes `NOTIFY_SOCKET`: a path, or `@name`.
    pub fn for_socket(address: &str) -> Option<Notifier> {
        let target = match address.strip_prefix('@') {
            Some(name) if !name.is_empty() => Target::Abstract(name.as_bytes().to_vec()),
            Some(_) => return None,
            None if address.starts_with('/') => Target::Path(PathBuf::from(address)),
            None => return None,
        };
        let socket = UnixDatagram::unbound().ok()?;
        Some(Notifier { socket, target })
    }

    /// Sends one notification (`READY=1`, `WATCHDOG=1`, `STATUS=…`).
    pub fn notify(&self, state: &str) -> std::io::Result<()> {
        match &self.target {
            Target::Path(path) => self.socket.send_to(state.as_bytes(), path).map(drop),
            Target::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                let address = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                self.socket
                    .send_to_addr(state.as_bytes(), &address)
                    .map(drop)
            }
        }
    }
}

/// How often the UI thread pings: systemd's `WatchdogSec` divided by three (the usual
/// margin), from `WATCHDOG_USEC`; `None` when systemd watches nothing.
pub fn ping_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 3))
}

/// Says `READY=1` and starts the pings on the UI thread's event loop; keep the timer as long
/// as the window runs. Nothing happens outside systemd.
pub fn start() -> Option<slint::Timer> {
    let notifier = Notifier::from_env()?;
    if let Err(error) = notifier.notify("READY=1") {
        eprintln!("pos-terminal: systemd was not told the terminal is up: {error}");
    }
    let interval = ping_interval()?;
    let timer = slint::Timer::default();
    timer.start(slint::TimerMode::Repeated, interval, move || {
        if let Err(error) = notifier.notify("WATCHDOG=1") {
            eprintln!("pos-terminal: the watchdog ping did not reach systemd: {error}");
        }
    });
    Some(timer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_reach_a_socket_at_a_path_and_an_abstract_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        let notifier = Notifier::for_socket(path.to_str().unwrap()).unwrap();
        notifier.notify("READY=1").unwrap();
        notifier.notify("WATCHDOG=1").unwrap();
        let mut buffer = [0_u8; 64];
        let n = listener.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], b"READY=1");
        let n = listener.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], b"WATCHDOG=1");

        use std::os::linux::net::SocketAddrExt;
        let name = format!("pos-terminal-test-{}", std::process::id());
        let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixDatagram::bind_addr(&address).unwrap();
        Notifier::for_socket(&format!("@{name}"))
            .unwrap()
            .notify("WATCHDOG=1")
            .unwrap();
        let n = listener.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], b"WATCHDOG=1");
    }

    #[test]
    fn only_a_path_or_an_abstract_name_is_a_notification_socket() {
        assert!(Notifier::for_socket("").is_none());
        assert!(Notifier::for_socket("@").is_none());
        assert!(Notifier::for_socket("relative/notify").is_none());
        assert!(Notifier::for_socket("/run/systemd/notify").is_some());
    }
}
