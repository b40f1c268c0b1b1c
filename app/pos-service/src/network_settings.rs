//! The wired network's settings as a field technician chooses them: automatic (DHCP) or a
//! static IPv4 address with its gateway and DNS servers, for every wired interface or one by
//! name. [`check`] turns the typed form into [`NetworkSettings`] with messages a technician
//! understands; [`render_networkd`] writes them as a systemd-networkd `.network` file.
//!
//! The terminal runs unprivileged and cannot configure the network itself: [`save`] leaves the
//! file in `<data dir>/network/` and `network.request` beside the other requests; the image's
//! `pos-network.path` then runs `pos-network.service`, which installs the file into
//! `/run/systemd/network/` (where it overrides the image's default DHCP file) and has
//! systemd-networkd reload it. At boot the same service installs the saved file before
//! systemd-networkd starts. [`fleet_reachable`] tells the technician whether the fleet
//! answers afterwards.

use std::net::{Ipv4Addr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::complete::write_atomically;

/// The folder in the data directory that holds the saved settings.
pub const NETWORK_DIR: &str = "network";
/// The systemd-networkd file, named to sort before the image's default `80-open-pos-wired`.
pub const NETWORK_FILE: &str = "10-open-pos.network";
/// The form as the technician last applied it, with who and when, for the screens.
pub const SETTINGS_FILE: &str = "settings.json";
/// The request file in the data directory that the image's `pos-network.path` acts on.
pub const NETWORK_REQUEST: &str = "network.request";
/// The permission that changes the network settings on the service screen.
pub const NETWORK_PERMISSION: &str = "service.network";
/// The most DNS servers a static setting takes (what the resolver uses).
pub const DNS_SERVERS_MAX: usize = 3;

/// The settings as typed. Text, so the screen shows exactly what was typed next to the
/// message about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkForm {
    /// `dhcp` or `static`.
    pub mode: String,
    /// An interface name ("enp1s0"); empty for every wired interface.
    pub interface: String,
    /// The address with its prefix length, "192.168.1.20/24".
    pub address: String,
    pub gateway: String,
    /// One or more addresses, separated by commas or spaces.
    pub dns: String,
}

impl Default for NetworkForm {
    fn default() -> NetworkForm {
        NetworkForm {
            mode: "dhcp".to_owned(),
            interface: String::new(),
            address: String::new(),
            gateway: String::new(),
            dns: String::new(),
        }
    }
}

/// How the interface gets its address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Addressing {
    Dhcp,
    Static {
        address: Ipv4Addr,
        prefix: u8,
        gateway: Ipv4Addr,
        dns: Vec<Ipv4Addr>,
    },
}

/// Checked settings, ready to render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkSettings {
    /// `None`: every wired (Ethernet) interface.
    pub interface: Option<String>,
    pub addressing: Addressing,
}

/// What is wrong with the form, one thing at a time.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    #[error("Choose automatic (DHCP) or a static address, not “{0}”.")]
    ModeUnknown(String),
    #[error("“{0}” is not an interface name: up to 15 letters, digits, - or _, like enp1s0.")]
    InterfaceInvalid(String),
    #[error("Type the terminal's address with its prefix, like 192.168.1.20/24.")]
    AddressMissing,
    #[error("{0} is not an IPv4 address.")]
    NotIpv4(String),
    #[error("Give the address with its prefix length, like {0}/24.")]
    PrefixMissing(String),
    #[error("/{0} is not a prefix length this terminal takes: use 8 to 30 (24 is usual).")]
    PrefixInvalid(String),
    #[error("{0} cannot be the terminal's address; use one from the shop's network.")]
    AddressReserved(Ipv4Addr),
    #[error(
        "{address} is the network's own or broadcast address in {network}; pick another address."
    )]
    AddressNotAHost { address: Ipv4Addr, network: String },
    #[error("Type the gateway's address (the shop's router), like 192.168.1.1.")]
    GatewayMissing,
    #[error(
        "The gateway {gateway} is outside the network {network}; it must be in the same network as the address."
    )]
    GatewayOutside { gateway: Ipv4Addr, network: String },
    #[error("The gateway {0} is the terminal's own address; type the router's address.")]
    GatewayIsAddress(Ipv4Addr),
    #[error("A static address needs at least one DNS server, like 192.168.1.1.")]
    DnsMissing,
    #[error("Type at most {DNS_SERVERS_MAX} DNS servers.")]
    TooManyDns,
}

impl NetworkError {
    /// The message in `locale` ("en" or "de"; anything else is English).
    pub fn message(&self, locale: &str) -> String {
        if locale != "de" {
            return self.to_string();
        }
        use NetworkError::*;
        match self {
            ModeUnknown(mode) => format!("Wählen Sie automatisch (DHCP) oder eine feste Adresse, nicht „{mode}“."),
            InterfaceInvalid(name) => format!("„{name}“ ist kein Schnittstellenname: bis zu 15 Buchstaben, Ziffern, - oder _, etwa enp1s0."),
            AddressMissing => "Geben Sie die Adresse der Kasse mit Präfix ein, etwa 192.168.1.20/24.".to_owned(),
            NotIpv4(text) => format!("{text} ist keine IPv4-Adresse."),
            PrefixMissing(address) => format!("Geben Sie die Adresse mit Präfixlänge ein, etwa {address}/24."),
            PrefixInvalid(prefix) => format!("/{prefix} ist keine Präfixlänge, die diese Kasse nimmt: 8 bis 30 (meist 24)."),
            AddressReserved(address) => format!("{address} kann nicht die Adresse der Kasse sein; nehmen Sie eine aus dem Netz des Geschäfts."),
            AddressNotAHost { address, network } => format!("{address} ist die Netz- oder Broadcast-Adresse von {network}; wählen Sie eine andere Adresse."),
            GatewayMissing => "Geben Sie die Adresse des Gateways (des Routers im Geschäft) ein, etwa 192.168.1.1.".to_owned(),
            GatewayOutside { gateway, network } => format!("Das Gateway {gateway} liegt außerhalb des Netzes {network}; es muss im selben Netz wie die Adresse liegen."),
            GatewayIsAddress(gateway) => format!("Das Gateway {gateway} ist die Adresse der Kasse selbst; geben Sie die des Routers ein."),
            DnsMissing => "Eine feste Adresse braucht mindestens einen DNS-Server, etwa 192.168.1.1.".to_owned(),
            TooManyDns => format!("Geben Sie höchstens {DNS_SERVERS_MAX} DNS-Server ein."),
        }
    }
}

fn ipv4(text: &str) -> Result<Ipv4Addr, NetworkError> {
    text.parse::<Ipv4Addr>()
        .map_err(|_| NetworkError::NotIpv4(text.to_owned()))
}

fn network_of(address: Ipv4Addr, prefix: u8) -> (u32, u32) {
    let mask = u32::MAX << (32 - u32::from(prefix));
    (address.to_bits() & mask, mask)
}

/// Checks the form; the settings, or the first thing wrong with it.
pub fn check(form: &NetworkForm) -> Result<NetworkSettings, NetworkError> {
    let interface = form.interface.trim();
    let interface = if interface.is_empty() {
        None
    } else if interface.len() <= 15
        && interface
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        Some(interface.to_owned())
    } else {
        return Err(NetworkError::InterfaceInvalid(interface.to_owned()));
    };
    let addressing = match form.mode.trim() {
        "dhcp" => Addressing::Dhcp,
        "static" => check_static(form)?,
        other => return Err(NetworkError::ModeUnknown(other.to_owned())),
    };
    Ok(NetworkSettings {
        interface,
        addressing,
    })
}

fn check_static(form: &NetworkForm) -> Result<Addressing, NetworkError> {
    let typed = form.address.trim();
    if typed.is_empty() {
        return Err(NetworkError::AddressMissing);
    }
    let (address_text, prefix_text) = match typed.split_once('/') {
        Some((address, prefix)) => (address.trim(), prefix.trim()),
        None => {
            ipv4(typed)?;
            return Err(NetworkError::PrefixMissing(typed.to_owned()));
        }
    };
    let address = ipv4(address_text)?;
    let prefix = prefix_text
        .parse::<u8>()
        .ok()
        .filter(|p| (8..=30).contains(p))
        .ok_or_else(|| NetworkError::PrefixInvalid(prefix_text.to_owned()))?;
    if address.is_unspecified()
        || address.is_loopback()
        || address.is_multicast()
        || address.is_broadcast()
        || address.is_link_local()
        || address.octets()[0] >= 240
    {
        return Err(NetworkError::AddressReserved(address));
    }
    let (network, mask) = network_of(address, prefix);
    let network_text = format!("{}/{prefix}", Ipv4Addr::from_bits(network));
    let host = address.to_bits() & !mask;
    if host == 0 || host == !mask {
        return Err(NetworkError::AddressNotAHost {
            address,
            network: network_text,
        });
    }
    let gateway_text = form.gateway.trim();
    if gateway_text.is_empty() {
        return Err(NetworkError::GatewayMissing);
    }
    let gateway = ipv4(gateway_text)?;
    if gateway == address {
        return Err(NetworkError::GatewayIsAddress(gateway));
    }
    let gateway_host = gateway.to_bits() & !mask;
    if gateway.to_bits() & mask != network || gateway_host == 0 || gateway_host == !mask {
        return Err(NetworkError::GatewayOutside {
            gateway,
            network: network_text,
        });
    }
    let dns = form
        .dns
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .map(ipv4)
        .collect::<Result<Vec<_>, _>>()?;
    if dns.is_empty() {
        return Err(NetworkError::DnsMissing);
    }
    if dns.len() > DNS_SERVERS_MAX {
        return Err(NetworkError::TooManyDns);
    }
    Ok(Addressing::Static {
        address,
        prefix,
        gateway,
        dns,
    })
}

impl NetworkSettings {
    /// One line for the screens: "Static 192.168.1.20/24 · gateway 192.168.1.1 · DNS 192.168.1.1".
    pub fn describe(&self, locale: &str) -> String {
        let de = locale == "de";
        let on = match (&self.interface, de) {
            (Some(name), _) => name.clone(),
            (None, false) => "every wired interface".to_owned(),
            (None, true) => "alle kabelgebundenen Schnittstellen".to_owned(),
        };
        match (&self.addressing, de) {
            (Addressing::Dhcp, false) => format!("Automatic (DHCP) on {on}"),
            (Addressing::Dhcp, true) => format!("Automatisch (DHCP) auf {on}"),
            (
                Addressing::Static {
                    address,
                    prefix,
                    gateway,
                    dns,
                },
                _,
            ) => {
                let dns: Vec<String> = dns.iter().map(Ipv4Addr::to_string).collect();
                let (fixed, on_word) = if de {
                    ("Fest", "auf")
                } else {
                    ("Static", "on")
                };
                format!(
                    "{fixed} {address}/{prefix} {on_word} {on} · gateway {gateway} · DNS {}",
                    dns.join(", ")
                )
            }
        }
    }
}

/// The systemd-networkd `.network` file for `settings`.
pub fn render_networkd(settings: &NetworkSettings) -> String {
    let mut text = String::from(
        "# The terminal's network settings, chosen on its service or setup screen.\n\
         # pos-network.service installs this into /run/systemd/network.\n\
         [Match]\n",
    );
    match &settings.interface {
        Some(name) => text.push_str(&format!("Name={name}\n")),
        None => text.push_str("Type=ether\n"),
    }
    text.push_str("\n[Network]\n");
    match &settings.addressing {
        Addressing::Dhcp => text.push_str("DHCP=yes\n"),
        Addressing::Static {
            address,
            prefix,
            gateway,
            dns,
        } => {
            text.push_str(&format!("Address={address}/{prefix}\nGateway={gateway}\n"));
            for server in dns {
                text.push_str(&format!("DNS={server}\n"));
            }
        }
    }
    text
}

/// What was applied last: the form, who applied it and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedNetwork {
    pub form: NetworkForm,
    pub changed_by: String,
    pub changed_at_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("The network settings could not be saved: {0}")]
    Write(String),
}

impl SaveError {
    pub fn message(&self, locale: &str) -> String {
        match (self, locale) {
            (SaveError::Write(detail), "de") => {
                format!("Die Netzwerkeinstellungen konnten nicht gespeichert werden: {detail}")
            }
            (other, _) => other.to_string(),
        }
    }
}

/// Writes the `.network` file and the form to `<data_dir>/network/`, then the request that
/// has the image install them. The request goes last, so the image never acts on half a
/// change. Returns the path of the `.network` file.
pub fn save(
    data_dir: &Path,
    form: &NetworkForm,
    settings: &NetworkSettings,
    changed_by: &str,
    now_ms: i64,
) -> Result<PathBuf, SaveError> {
    let failed = |error: crate::complete::CompleteError| SaveError::Write(error.to_string());
    let folder = data_dir.join(NETWORK_DIR);
    let file = folder.join(NETWORK_FILE);
    // Readable by all: the image's installer reads it as the terminal's user.
    write_atomically(&file, render_networkd(settings).as_bytes(), 0o644).map_err(failed)?;
    let saved = SavedNetwork {
        form: form.clone(),
        changed_by: changed_by.to_owned(),
        changed_at_ms: now_ms,
    };
    let json =
        serde_json::to_vec_pretty(&saved).map_err(|error| SaveError::Write(error.to_string()))?;
    write_atomically(&folder.join(SETTINGS_FILE), &json, 0o600).map_err(failed)?;
    write_atomically(
        &data_dir.join(NETWORK_REQUEST),
        format!("changed_by={changed_by}\nrequested_at_ms={now_ms}\n").as_bytes(),
        0o600,
    )
    .map_err(failed)?;
    Ok(file)
}

/// What was applied last; `None` when the technician never changed the network (the image's
/// default, DHCP on every wired interface, is in force) or the record is unreadable.
pub fn load_saved(data_dir: &Path) -> Option<SavedNetwork> {
    let text = std::fs::read(data_dir.join(NETWORK_DIR).join(SETTINGS_FILE)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Where a fleet URL connects: "fleet.example.com:443".
pub fn fleet_endpoint(url: &str) -> Option<String> {
    let url = url.trim();
    let (rest, port) = if let Some(rest) = url.strip_prefix("https://") {
        (rest, 443)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (rest, 80)
    } else {
        return None;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return None;
    }
    let has_port = match authority.rsplit_once(':') {
        Some((_, p)) => !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()),
        None => false,
    };
    Some(if has_port && !authority.ends_with(']') {
        authority.to_owned()
    } else {
        format!("{authority}:{port}")
    })
}

/// Whether the fleet at `url` accepts a connection, trying `attempts` times `pause` apart
/// (the network takes a few seconds to come up with new settings). `Err` says why not.
pub fn fleet_reachable(url: &str, attempts: u32, pause: Duration) -> Result<String, String> {
    let endpoint = fleet_endpoint(url).ok_or_else(|| format!("“{url}” is not a fleet address"))?;
    let mut last = String::new();
    for attempt in 0..attempts.max(1) {
        if attempt > 0 {
            std::thread::sleep(pause);
        }
        let addresses = match endpoint.to_socket_addrs() {
            Ok(addresses) => addresses.collect::<Vec<_>>(),
            Err(error) => {
                last = error.to_string();
                continue;
            }
        };
        for address in addresses {
            match TcpStream::connect_timeout(&address, Duration::from_secs(3)) {
                Ok(_) => return Ok(endpoint),
                Err(error) => last = error.to_string(),
            }
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn static_form(address: &str, gateway: &str, dns: &str) -> NetworkForm {
        NetworkForm {
            mode: "static".to_owned(),
            interface: String::new(),
            address: address.to_owned(),
            gateway: gateway.to_owned(),
            dns: dns.to_owned(),
        }
    }

    fn refused(form: NetworkForm) -> String {
        check(&form).unwrap_err().to_string()
    }

    #[test]
    fn dhcp_on_every_wired_interface_renders_the_default() {
        let settings = check(&NetworkForm::default()).unwrap();
        assert_eq!(
            settings.describe("en"),
            "Automatic (DHCP) on every wired interface"
        );
        assert_eq!(
            render_networkd(&settings),
            "# The terminal's network settings, chosen on its service or setup screen.\n\
             # pos-network.service installs this into /run/systemd/network.\n\
             [Match]\n\
             Type=ether\n\
             \n\
             [Network]\n\
             DHCP=yes\n"
        );
    }

    #[test]
    fn a_static_address_on_a_named_interface_renders_every_dns_server() {
        let mut form = static_form(" 192.168.1.20/24 ", "192.168.1.1", "192.168.1.1, 9.9.9.9");
        form.interface = "enp1s0".to_owned();
        let settings = check(&form).unwrap();
        assert_eq!(
            render_networkd(&settings),
            "# The terminal's network settings, chosen on its service or setup screen.\n\
             # pos-network.service installs this into /run/systemd/network.\n\
             [Match]\n\
             Name=enp1s0\n\
             \n\
             [Network]\n\
             Address=192.168.1.20/24\n\
             Gateway=192.168.1.1\n\
             DNS=192.168.1.1\n\
             DNS=9.9.9.9\n"
        );
        assert_eq!(
            settings.describe("en"),
            "Static 192.168.1.20/24 on enp1s0 · gateway 192.168.1.1 · DNS 192.168.1.1, 9.9.9.9"
        );
    }

    #[test]
    fn each_mistake_gets_its_own_message() {
        assert_eq!(
            refused(static_form(
                "192.168.1.300/24",
                "192.168.1.1",
                "192.168.1.1"
            )),
            "192.168.1.300 is not an IPv4 address."
        );
        assert_eq!(
            refused(static_form("192.168.1.20", "192.168.1.1", "192.168.1.1")),
            "Give the address with its prefix length, like 192.168.1.20/24."
        );
        assert_eq!(
            refused(static_form("192.168.1.20/33", "192.168.1.1", "192.168.1.1")),
            "/33 is not a prefix length this terminal takes: use 8 to 30 (24 is usual)."
        );
        assert_eq!(
            refused(static_form("192.168.1.20/24", "10.0.0.1", "192.168.1.1")),
            "The gateway 10.0.0.1 is outside the network 192.168.1.0/24; it must be in the same network as the address."
        );
        assert_eq!(
            refused(static_form(
                "192.168.1.20/24",
                "192.168.1.20",
                "192.168.1.1"
            )),
            "The gateway 192.168.1.20 is the terminal's own address; type the router's address."
        );
        assert_eq!(
            refused(static_form("192.168.1.20/24", "192.168.1.1", "  ")),
            "A static address needs at least one DNS server, like 192.168.1.1."
        );
        assert_eq!(
            refused(static_form(
                "192.168.1.20/24",
                "192.168.1.1",
                "1.1.1.1 dns.example"
            )),
            "dns.example is not an IPv4 address."
        );
        assert_eq!(
            refused(static_form("192.168.1.20/24", "", "1.1.1.1")),
            "Type the gateway's address (the shop's router), like 192.168.1.1."
        );
        assert_eq!(
            refused(static_form("192.168.1.255/24", "192.168.1.1", "1.1.1.1")),
            "192.168.1.255 is the network's own or broadcast address in 192.168.1.0/24; pick another address."
        );
        assert_eq!(
            refused(static_form("127.0.0.2/8", "127.0.0.1", "1.1.1.1")),
            "127.0.0.2 cannot be the terminal's address; use one from the shop's network."
        );
        assert_eq!(
            refused(static_form("", "", "")),
            "Type the terminal's address with its prefix, like 192.168.1.20/24."
        );
        assert_eq!(
            refused(static_form(
                "10.0.0.5/8",
                "10.0.0.1",
                "1.1.1.1 1.0.0.1 8.8.8.8 8.8.4.4"
            )),
            "Type at most 3 DNS servers."
        );
        let mut form = NetworkForm {
            interface: "eth0; rm".to_owned(),
            ..NetworkForm::default()
        };
        assert_eq!(
            refused(form.clone()),
            "“eth0; rm” is not an interface name: up to 15 letters, digits, - or _, like enp1s0."
        );
        form.interface = String::new();
        form.mode = "wifi".to_owned();
        assert_eq!(
            refused(form),
            "Choose automatic (DHCP) or a static address, not “wifi”."
        );
    }

    #[test]
    fn german_messages_name_the_same_values() {
        let error = check(&static_form("192.168.1.20/24", "10.0.0.1", "1.1.1.1")).unwrap_err();
        assert_eq!(
            error.message("de"),
            "Das Gateway 10.0.0.1 liegt außerhalb des Netzes 192.168.1.0/24; es muss im selben Netz wie die Adresse liegen."
        );
    }

    #[test]
    fn a_small_network_keeps_its_edges_apart() {
        // /30 has two hosts: .1 and .2.
        assert!(check(&static_form("10.1.1.1/30", "10.1.1.2", "10.1.1.2")).is_ok());
        assert!(matches!(
            check(&static_form("10.1.1.1/30", "10.1.1.3", "10.1.1.2")),
            Err(NetworkError::GatewayOutside { .. })
        ));
    }

    #[test]
    fn saving_writes_the_file_the_record_and_then_the_request() {
        let data = tempfile::tempdir().unwrap();
        let form = static_form("192.168.1.20/24", "192.168.1.1", "192.168.1.1");
        let settings = check(&form).unwrap();
        let file = save(data.path(), &form, &settings, "marc", 7).unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            render_networkd(&settings)
        );
        assert_eq!(
            std::fs::read_to_string(data.path().join(NETWORK_REQUEST)).unwrap(),
            "changed_by=marc\nrequested_at_ms=7\n"
        );
        let saved = load_saved(data.path()).unwrap();
        assert_eq!(saved.form, form);
        assert_eq!(saved.changed_by, "marc");
    }

    #[test]
    fn fleet_addresses_name_their_host_and_port() {
        assert_eq!(
            fleet_endpoint("https://fleet.example.com/api").as_deref(),
            Some("fleet.example.com:443")
        );
        assert_eq!(
            fleet_endpoint("http://127.0.0.1:8080").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(fleet_endpoint("fleet.example.com"), None);
    }

    #[test]
    fn a_listening_fleet_is_reachable_and_a_closed_port_is_not() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}");
        assert_eq!(
            fleet_reachable(&url, 1, Duration::ZERO).unwrap(),
            format!("127.0.0.1:{port}")
        );
        drop(listener);
        assert!(fleet_reachable(&url, 2, Duration::from_millis(10)).is_err());
    }
}
