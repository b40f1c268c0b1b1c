//! The wires a printer or display hangs off: raw TCP (port 9100), serial ports, device files
//! such as `/dev/usb/lp0`, and USB bulk endpoints through libusb. One small trait, so the
//! queue, the status reader and the display do not care which.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::error::Error;
use crate::status::{DrawerSense, PrinterStatus, StatusKind};

/// Whether the connection carries answers back from the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnChannel {
    /// Status queries are answered.
    Bidirectional,
    /// Bytes only go out (parallel-style device files, some USB printers): no status.
    WriteOnly,
}

pub trait Transport {
    /// A short name for messages: `tcp 10.0.0.5:9100`, `/dev/ttyUSB0`.
    fn name(&self) -> String;

    fn return_channel(&self) -> ReturnChannel;

    /// Writes every byte or fails.
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error>;

    /// Reads what has arrived, waiting at most `timeout`; never returns 0 bytes: nothing in
    /// time is [`Error::Timeout`], a closed line [`Error::Disconnected`].
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, Error>;
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn return_channel(&self) -> ReturnChannel {
        (**self).return_channel()
    }
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        (**self).write_all(bytes)
    }
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, Error> {
        (**self).read(buf, timeout)
    }
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Asks `DLE EOT 1..=4` and decodes the four answers. `None` when the connection cannot
/// answer, so the caller knows status is unknown rather than fine.
pub fn query_status(
    transport: &mut dyn Transport,
    sense: DrawerSense,
    timeout: Duration,
) -> Result<Option<PrinterStatus>, Error> {
    if transport.return_channel() == ReturnChannel::WriteOnly {
        return Ok(None);
    }
    let mut answers = [0_u8; 4];
    for (answer, kind) in answers.iter_mut().zip(StatusKind::ALL) {
        transport.write_all(&kind.query())?;
        let mut byte = [0_u8; 1];
        transport.read(&mut byte, timeout)?;
        *answer = byte[0];
    }
    Ok(Some(PrinterStatus::parse(answers, sense)?))
}

/// A transport that opens its connection when first needed and again after the device
/// went away, so a printer switched off or unplugged prints the queue once it is back
/// without the terminal doing anything. `connect` opens the underlying transport.
pub struct Reconnecting<T, F> {
    connect: F,
    current: Option<T>,
    name: String,
    channel: ReturnChannel,
}

impl<T: Transport, F: FnMut() -> Result<T, Error>> Reconnecting<T, F> {
    /// `name` and `channel` describe the device while it is not connected.
    pub fn new(name: &str, channel: ReturnChannel, connect: F) -> Reconnecting<T, F> {
        Reconnecting {
            connect,
            current: None,
            name: name.to_owned(),
            channel,
        }
    }

    pub fn is_connected(&self) -> bool {
        self.current.is_some()
    }

    /// Runs `op` on the connection, opening it first if needed; a broken connection is
    /// dropped so the next call opens a new one.
    fn with_line<R>(&mut self, op: impl FnOnce(&mut T) -> Result<R, Error>) -> Result<R, Error> {
        let line = match &mut self.current {
            Some(line) => line,
            None => self.current.insert((self.connect)()?),
        };
        let result = op(line);
        if let Err(e) = &result
            && matches!(
                e.kind(),
                crate::error::ErrorKind::Disconnected | crate::error::ErrorKind::NotFound
            )
        {
            self.current = None;
        }
        result
    }
}

impl<T: Transport, F: FnMut() -> Result<T, Error>> Transport for Reconnecting<T, F> {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn return_channel(&self) -> ReturnChannel {
        self.channel
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.with_line(|line| line.write_all(bytes))
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, Error> {
        self.with_line(|line| line.read(buf, timeout))
    }
}

/// A network printer's raw port (9100 on nearly all of them).
pub struct TcpTransport {
    stream: TcpStream,
    peer: SocketAddr,
    write_timeout: Duration,
}

impl TcpTransport {
    pub const PORT: u16 = 9100;

    pub fn connect(peer: SocketAddr, timeout: Duration) -> Result<TcpTransport, Error> {
        let name = format!("tcp {peer}");
        let stream = TcpStream::connect_timeout(&peer, timeout).map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused => Error::Disconnected {
                device: name.clone(),
            },
            _ => Error::from_io(&name, e, ms(timeout)),
        })?;
        stream
            .set_write_timeout(Some(timeout))
            .and_then(|()| stream.set_nodelay(true))
            .map_err(|e| Error::from_io(&name, e, ms(timeout)))?;
        Ok(TcpTransport {
            stream,
            peer,
            write_timeout: timeout,
        })
    }
}

impl Transport for TcpTransport {
    fn name(&self) -> String {
        format!("tcp {}", self.peer)
    }

    fn return_channel(&self) -> ReturnChannel {
        ReturnChannel::Bidirectional
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush())
            .map_err(|e| Error::from_io(&self.name(), e, ms(self.write_timeout)))
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, Error> {
        let name = self.name();
        self.stream
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .map_err(|e| Error::from_io(&name, e, ms(timeout)))?;
        match self.stream.read(buf) {
            Ok(0) => Err(Error::Disconnected { device: name }),
            Ok(n) => Ok(n),
            Err(e) => Err(Error::from_io(&name, e, ms(timeout))),
        }
    }
}

/// A serial (RS-232 or USB-serial) printer, drawer or display.
pub struct SerialTransport {
    port: Box<dyn serialport::SerialPort>,
    name: String,
}

impl SerialTransport {
    /// Opens `path` at `baud` (most receipt printers: 9600 or 19200, 8N1).
    pub fn open(path: &str, baud: u32) -> Result<SerialTransport, Error> {
        let port = serialport::new(path, baud)
            .timeout(Duration::from_millis(500))
            .open()
            .map_err(|e| serial_error(path, e))?;
        Ok(SerialTransport {
            port,
            name: path.to_owned(),
        })
    }

    /// Wraps a port opened elsewhere (a pseudo-terminal in tests).
    pub fn from_port(port: Box<dyn serialport::SerialPort>, name: &str) -> SerialTransport {
        SerialTransport {
            port,
            name: name.to_owned(),
        }
    }
}

fn serial_error(path: &str, e: serialport::Error) -> Error {
    match e.kind() {
        serialport::ErrorKind::NoDevice => Error::NotFound {
            device: path.to_owned(),
            detail: e.to_string(),
        },
        serialport::ErrorKind::Io(kind) => {
            Error::from_io(path, std::io::Error::new(kind, e.description), 0)
        }
        _ => Error::NotFound {
            device: path.to_owned(),
            detail: e.to_string(),
        },
    }
}

impl Transport for SerialTransport {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn return_channel(&self) -> ReturnChannel {
        ReturnChannel::Bidirectional
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let timeout = self.port.timeout();
        // No flush: serialport's flush is tcdrain, which blocks until the UART has shifted
        // out every byte; the status read that follows waits for the printer anyway.
        self.port
            .write_all(bytes)
            .map_err(|e| Error::from_io(&self.name, e, ms(timeout)))
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, Error> {
        self.port
            .set_timeout(timeout)
            .map_err(|e| serial_error(&self.name, e))?;
        match self.port.read(buf) {
            Ok(0) => Err(Error::Timeout {
                waited_ms: ms(timeout),
            }),
            Ok(n) => Ok(n),
            Err(e) => Err(Error::from_io(&self.name, e, ms(timeout))),
        }
    }
}

/// A printer behind a device file (`/dev/usb/lp0` from the kernel's usblp driver). Written
/// to only: usblp's read blocks without a timeout, so status comes from another transport or
/// not at all.
pub struct DeviceFileTransport {
    file: std::fs::File,
    path: String,
}

impl DeviceFileTransport {
    pub fn open(path: &str) -> Result<DeviceFileTransport, Error> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::from_io(path, e, 0))?;
        Ok(DeviceFileTransport {
            file,
            path: path.to_owned(),
        })
    }
}

impl Transport for DeviceFileTransport {
    fn name(&self) -> String {
        self.path.clone()
    }

    fn return_channel(&self) -> ReturnChannel {
        ReturnChannel::WriteOnly
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.file
            .write_all(bytes)
            .and_then(|()| self.file.flush())
            .map_err(|e| Error::from_io(&self.path, e, 0))
    }

    fn read(&mut self, _buf: &mut [u8], timeout: Duration) -> Result<usize, Error> {
        Err(Error::Timeout {
            waited_ms: ms(timeout),
        })
    }
}

pub mod usb {
    //! USB printers through libusb: found by the printer interface class (7) or a configured
    //! VID:PID, written through the interface's bulk OUT endpoint, status read from bulk IN.

    use std::time::Duration;

    use rusb::UsbContext;

    use super::{ReturnChannel, Transport, ms};
    use crate::error::Error;

    /// The USB interface class of printers.
    pub const PRINTER_CLASS: u8 = 7;

    /// Which device to use.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum UsbSelector {
        /// The first device with a printer-class interface.
        AnyPrinter,
        /// A configured vendor and product id (for printers that claim a vendor class).
        VidPid { vendor_id: u16, product_id: u16 },
    }

    /// An endpoint of an interface, as its descriptor says.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct EndpointInfo {
        pub address: u8,
        pub bulk: bool,
    }

    /// An interface of a device, as its descriptor says.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct InterfaceInfo {
        pub number: u8,
        pub class: u8,
        pub endpoints: Vec<EndpointInfo>,
    }

    /// The interface to claim and its bulk OUT and (if any) bulk IN endpoint addresses.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Route {
        pub interface: u8,
        pub out_endpoint: u8,
        pub in_endpoint: Option<u8>,
    }

    /// Picks the route: a printer-class interface first (any interface when `selector` named
    /// the device), with a bulk OUT endpoint.
    pub fn pick_route(interfaces: &[InterfaceInfo], selector: UsbSelector) -> Option<Route> {
        let usable =
            |i: &&InterfaceInfo| i.endpoints.iter().any(|e| e.bulk && e.address & 0x80 == 0);
        let chosen = interfaces
            .iter()
            .filter(usable)
            .find(|i| i.class == PRINTER_CLASS)
            .or_else(|| match selector {
                UsbSelector::VidPid { .. } => interfaces.iter().find(usable),
                UsbSelector::AnyPrinter => None,
            })?;
        let out_endpoint = chosen
            .endpoints
            .iter()
            .find(|e| e.bulk && e.address & 0x80 == 0)?
            .address;
        let in_endpoint = chosen
            .endpoints
            .iter()
            .find(|e| e.bulk && e.address & 0x80 != 0)
            .map(|e| e.address);
        Some(Route {
            interface: chosen.number,
            out_endpoint,
            in_endpoint,
        })
    }

    fn interfaces_of(device: &rusb::Device<rusb::Context>) -> Vec<InterfaceInfo> {
        let Ok(config) = device.active_config_descriptor() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for interface in config.interfaces() {
            if let Some(setting) = interface.descriptors().next() {
                out.push(InterfaceInfo {
                    number: setting.interface_number(),
                    class: setting.class_code(),
                    endpoints: setting
                        .endpoint_descriptors()
                        .map(|e| EndpointInfo {
                            address: e.address(),
                            bulk: e.transfer_type() == rusb::TransferType::Bulk,
                        })
                        .collect(),
                });
            }
        }
        out
    }

    pub struct UsbTransport {
        handle: rusb::DeviceHandle<rusb::Context>,
        route: Route,
        name: String,
        write_timeout: Duration,
    }

    impl UsbTransport {
        pub fn open(selector: UsbSelector, write_timeout: Duration) -> Result<UsbTransport, Error> {
            let wanted = match selector {
                UsbSelector::AnyPrinter => "a USB printer".to_owned(),
                UsbSelector::VidPid {
                    vendor_id,
                    product_id,
                } => format!("USB {vendor_id:04x}:{product_id:04x}"),
            };
            let not_found = |detail: String| Error::NotFound {
                device: wanted.clone(),
                detail,
            };
            let context = rusb::Context::new().map_err(|e| not_found(e.to_string()))?;
            let devices = context.devices().map_err(|e| not_found(e.to_string()))?;
            for device in devices.iter() {
                let Ok(descriptor) = device.device_descriptor() else {
                    continue;
                };
                if let UsbSelector::VidPid {
                    vendor_id,
                    product_id,
                } = selector
                    && (descriptor.vendor_id(), descriptor.product_id()) != (vendor_id, product_id)
                {
                    continue;
                }
                let Some(route) = pick_route(&interfaces_of(&device), selector) else {
                    continue;
                };
                let handle = device.open().map_err(|e| not_found(e.to_string()))?;
                // usblp may hold the interface; libusb hands it back when we release it.
                let _ = handle.set_auto_detach_kernel_driver(true);
                handle
                    .claim_interface(route.interface)
                    .map_err(|e| not_found(e.to_string()))?;
                return Ok(UsbTransport {
                    handle,
                    route,
                    name: format!(
                        "USB {:04x}:{:04x}",
                        descriptor.vendor_id(),
                        descriptor.product_id()
                    ),
                    write_timeout,
                });
            }
            Err(not_found(
                "no such device is plugged in; check the cable and that it is switched on"
                    .to_owned(),
            ))
        }

        fn usb_error(&self, e: rusb::Error, timeout: Duration) -> Error {
            match e {
                rusb::Error::Timeout => Error::Timeout {
                    waited_ms: ms(timeout),
                },
                rusb::Error::NoDevice | rusb::Error::Io | rusb::Error::Pipe => {
                    Error::Disconnected {
                        device: self.name.clone(),
                    }
                }
                other => Error::Io {
                    device: self.name.clone(),
                    source: std::io::Error::other(other),
                },
            }
        }
    }

    impl Transport for UsbTransport {
        fn name(&self) -> String {
            self.name.clone()
        }

        fn return_channel(&self) -> ReturnChannel {
            match self.route.in_endpoint {
                Some(_) => ReturnChannel::Bidirectional,
                None => ReturnChannel::WriteOnly,
            }
        }

        fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
            let mut sent = 0;
            // Each bulk write moves at least one byte or fails, so this ends.
            while sent < bytes.len() {
                let n = self
                    .handle
                    .write_bulk(self.route.out_endpoint, &bytes[sent..], self.write_timeout)
                    .map_err(|e| self.usb_error(e, self.write_timeout))?;
                if n == 0 {
                    return Err(Error::Timeout {
                        waited_ms: ms(self.write_timeout),
                    });
                }
                sent += n;
            }
            Ok(())
        }

        fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, Error> {
            let Some(endpoint) = self.route.in_endpoint else {
                return Err(Error::Timeout {
                    waited_ms: ms(timeout),
                });
            };
            match self.handle.read_bulk(endpoint, buf, timeout) {
                Ok(0) => Err(Error::Timeout {
                    waited_ms: ms(timeout),
                }),
                Ok(n) => Ok(n),
                Err(e) => Err(self.usb_error(e, timeout)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::usb::{EndpointInfo, InterfaceInfo, Route, UsbSelector, pick_route};
    use super::*;
    use crate::error::ErrorKind;

    fn interface(number: u8, class: u8, addresses: &[u8]) -> InterfaceInfo {
        InterfaceInfo {
            number,
            class,
            endpoints: addresses
                .iter()
                .map(|a| EndpointInfo {
                    address: *a,
                    bulk: true,
                })
                .collect(),
        }
    }

    #[test]
    fn the_printer_class_interface_and_its_bulk_endpoints_are_chosen() {
        let interfaces = [interface(0, 3, &[0x81]), interface(1, 7, &[0x02, 0x82])];
        assert_eq!(
            pick_route(&interfaces, UsbSelector::AnyPrinter),
            Some(Route {
                interface: 1,
                out_endpoint: 0x02,
                in_endpoint: Some(0x82)
            })
        );
    }

    #[test]
    fn a_vendor_class_printer_is_used_only_when_configured_by_id() {
        let interfaces = [interface(0, 0xFF, &[0x01])];
        assert_eq!(pick_route(&interfaces, UsbSelector::AnyPrinter), None);
        let route = pick_route(
            &interfaces,
            UsbSelector::VidPid {
                vendor_id: 0x04b8,
                product_id: 0x0202,
            },
        )
        .unwrap();
        assert_eq!((route.out_endpoint, route.in_endpoint), (0x01, None));
    }

    #[test]
    fn a_usb_printer_that_is_not_plugged_in_is_not_found() {
        let err = usb::UsbTransport::open(
            UsbSelector::VidPid {
                vendor_id: 0x04b8,
                product_id: 0x0e27,
            },
            Duration::from_millis(100),
        )
        .err()
        .unwrap();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("USB 04b8:0e27"), "{err}");
    }

    #[test]
    fn a_missing_device_file_is_not_found() {
        let err = DeviceFileTransport::open("/dev/usb/lp-missing")
            .err()
            .unwrap();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn a_device_file_receives_the_bytes_and_reports_no_status() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lp0");
        std::fs::write(&path, b"").unwrap();
        let mut file = DeviceFileTransport::open(path.to_str().unwrap()).unwrap();
        file.write_all(b"\x1b@hello\n").unwrap();
        let status = query_status(&mut file, DrawerSense::OpenWhenHigh, Duration::ZERO).unwrap();
        assert_eq!(status, None);
        assert_eq!(std::fs::read(&path).unwrap(), b"\x1b@hello\n");
    }

    #[test]
    fn nobody_listening_on_the_printer_port_is_disconnected() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = TcpTransport::connect(addr, Duration::from_millis(200))
            .err()
            .unwrap();
        assert_eq!(err.kind(), ErrorKind::Disconnected);
        assert!(err.to_string().contains("Plug it back in"));
    }
}
