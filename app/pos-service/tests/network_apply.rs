//! The image's installer of network settings (`image/rootfs/usr/lib/open-pos/network-apply`)
//! run on what the terminal saves: the file lands in the runtime folder as rendered and the
//! request is used up; a file with lines the terminal never writes is refused and what was in
//! force stays; with nothing saved, the image's default applies again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use pos_service::network_settings::{
    self, NETWORK_DIR, NETWORK_FILE, NETWORK_REQUEST, NetworkForm,
};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../image/rootfs/usr/lib/open-pos/network-apply")
}

fn run(data: &Path, runtime: &Path) -> (bool, String) {
    let output = Command::new("sh")
        .arg(script())
        .arg(data)
        .arg(runtime)
        .output()
        .unwrap();
    let mut said = String::from_utf8_lossy(&output.stdout).into_owned();
    said.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), said)
}

#[test]
fn saved_settings_are_installed_and_foreign_lines_are_refused() {
    let data = tempfile::tempdir().unwrap();
    let runtime = tempfile::tempdir().unwrap();
    let installed = runtime.path().join(NETWORK_FILE);

    let form = NetworkForm {
        mode: "static".to_owned(),
        interface: "enp1s0".to_owned(),
        address: "192.168.1.20/24".to_owned(),
        gateway: "192.168.1.1".to_owned(),
        dns: "192.168.1.1 9.9.9.9".to_owned(),
    };
    let settings = network_settings::check(&form).unwrap();
    network_settings::save(data.path(), &form, &settings, "marc", 1).unwrap();
    let (ok, said) = run(data.path(), runtime.path());
    assert!(ok, "{said}");
    assert_eq!(
        std::fs::read_to_string(&installed).unwrap(),
        network_settings::render_networkd(&settings)
    );
    assert!(
        !data.path().join(NETWORK_REQUEST).exists(),
        "the request is used up"
    );
    assert!(said.contains("Address=192.168.1.20/24"), "{said}");

    let saved = data.path().join(NETWORK_DIR).join(NETWORK_FILE);
    std::fs::write(
        &saved,
        "[Match]\nType=ether\n[Network]\nDHCP=yes\n[Link]\nMTUBytes=9000\n",
    )
    .unwrap();
    let (ok, said) = run(data.path(), runtime.path());
    assert!(!ok);
    assert!(said.contains("does not write"), "{said}");
    assert_eq!(
        std::fs::read_to_string(&installed).unwrap(),
        network_settings::render_networkd(&settings),
        "what was in force stays"
    );

    std::fs::write(&saved, "").unwrap();
    let (ok, said) = run(data.path(), runtime.path());
    assert!(!ok, "an empty file would match every link: {said}");
    assert_eq!(
        std::fs::read_to_string(&installed).unwrap(),
        network_settings::render_networkd(&settings)
    );

    std::fs::remove_file(&saved).unwrap();
    let (ok, said) = run(data.path(), runtime.path());
    assert!(ok, "{said}");
    assert!(!installed.exists(), "the image's default applies again");
}
