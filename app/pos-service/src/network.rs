//! The terminal's network interfaces and their addresses, read from the system
//! (`getifaddrs`), for the service screen. The loopback interface is left out.

use std::collections::BTreeMap;

/// One interface as the service screen lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub up: bool,
    /// IPv4 and IPv6 addresses with their prefix length ("192.168.1.20/24").
    pub addresses: Vec<String>,
}

impl Interface {
    /// "eth0 · up · 192.168.1.20/24, fe80::1/64"
    pub fn line(&self) -> String {
        let state = if self.up { "up" } else { "down" };
        if self.addresses.is_empty() {
            format!("{} · {state} · no address", self.name)
        } else {
            format!("{} · {state} · {}", self.name, self.addresses.join(", "))
        }
    }
}

/// The system's interfaces, by name.
pub fn interfaces() -> Result<Vec<Interface>, std::io::Error> {
    use nix::net::if_::InterfaceFlags;
    let mut found: BTreeMap<String, Interface> = BTreeMap::new();
    for entry in nix::ifaddrs::getifaddrs().map_err(std::io::Error::from)? {
        if entry.flags.contains(InterfaceFlags::IFF_LOOPBACK) {
            continue;
        }
        let interface = found
            .entry(entry.interface_name.clone())
            .or_insert_with(|| Interface {
                name: entry.interface_name.clone(),
                up: false,
                addresses: Vec::new(),
            });
        interface.up |= entry.flags.contains(InterfaceFlags::IFF_UP)
            && entry.flags.contains(InterfaceFlags::IFF_RUNNING);
        let Some(address) = entry.address else {
            continue;
        };
        let prefix = |mask: Option<u32>| mask.map(|m| format!("/{m}")).unwrap_or_default();
        if let Some(v4) = address.as_sockaddr_in() {
            let bits = entry
                .netmask
                .as_ref()
                .and_then(|m| m.as_sockaddr_in())
                .map(|m| m.ip().to_bits().count_ones());
            interface
                .addresses
                .push(format!("{}{}", v4.ip(), prefix(bits)));
        } else if let Some(v6) = address.as_sockaddr_in6() {
            let bits = entry
                .netmask
                .as_ref()
                .and_then(|m| m.as_sockaddr_in6())
                .map(|m| m.ip().to_bits().count_ones());
            interface
                .addresses
                .push(format!("{}{}", v6.ip(), prefix(bits)));
        }
    }
    Ok(found.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interfaces_match_the_kernels_list() {
        let listed = interfaces().unwrap();
        let kernel: Vec<String> = std::fs::read_dir("/sys/class/net")
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name != "lo")
            .collect();
        for interface in &listed {
            assert!(
                kernel.contains(&interface.name),
                "{interface:?} not in {kernel:?}"
            );
            assert!(interface.line().starts_with(&interface.name));
        }
    }
}
