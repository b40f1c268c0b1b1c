//! The RAUC client against the real RAUC service (Debian's `rauc`), on a private D-Bus, with
//! files as the A and B slots and a bootloader backend that keeps its state in files.
//!
//! The host kernel here has no device-mapper, which verity bundles need to be opened, so these
//! bundles are plain; the D-Bus calls, the checks and the slot handling are the same. Verity
//! installs are exercised by the appliance tests, inside a VM with the terminal's own kernel.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pos_update::rauc::{Bus, Mark, Rauc, RaucError};
use support::{Service, compatible, contains, slot_image};
use xtask::pki::Pki;

#[tokio::test]
async fn an_update_is_installed_into_the_other_slot_and_made_primary() {
    let service = Service::start().await;
    let rauc = service.client().await.unwrap();
    assert_eq!(rauc.compatible().await.unwrap(), "open-pos-x86_64");
    assert_eq!(rauc.boot_slot().await.unwrap(), "A");

    let bundle = service.bundle("1.4.0", &compatible(), &service.pki);
    rauc.install(&bundle).await.unwrap();

    let slots = rauc.slots().await.unwrap();
    let b = slots
        .iter()
        .find(|s| s.bootname.as_deref() == Some("B"))
        .unwrap();
    assert_eq!(b.bundle_version.as_deref(), Some("1.4.0"));
    assert_eq!(b.bundle_compatible.as_deref(), Some("open-pos-x86_64"));
    let a = slots
        .iter()
        .find(|s| s.bootname.as_deref() == Some("A"))
        .unwrap();
    assert_eq!(a.state, "booted");
    assert_eq!(rauc.primary().await.unwrap(), "rootfs.1");
    // The new root filesystem is in slot B, and the running slot A was not touched.
    assert!(contains(
        &slot_image(&service, "slot-b.img"),
        b"VERSION_ID=1.4.0"
    ));
    assert!(slot_image(&service, "slot-a.img").iter().all(|b| *b == 0));

    // The health check of the new version failed: mark it bad, so the next boot is A again.
    rauc.mark(Mark::Bad, "other").await.unwrap();
    rauc.mark(Mark::Active, "booted").await.unwrap();
    assert_eq!(rauc.primary().await.unwrap(), "rootfs.0");
}

#[tokio::test]
async fn a_bundle_for_another_device_or_from_an_untrusted_signer_is_refused() {
    let service = Service::start().await;
    let rauc = service.client().await.unwrap();

    let foreign = service.bundle("1.4.0", "coffee-machine-arm64", &service.pki);
    let error = rauc.install(&foreign).await.unwrap_err();
    assert!(
        matches!(&error, RaucError::InstallFailed(reason) if reason.contains("Compatible mismatch")),
        "{error}"
    );

    let stranger = Pki::create(&service.dir.path().join("stranger"), "Someone Else").unwrap();
    let untrusted = service.bundle("1.4.1", &compatible(), &stranger);
    let error = rauc.install(&untrusted).await.unwrap_err();
    assert!(
        matches!(&error, RaucError::InstallFailed(reason) if reason.contains("signature")),
        "{error}"
    );
    // Neither touched the other slot.
    assert!(slot_image(&service, "slot-b.img").iter().all(|b| *b == 0));
}

#[tokio::test]
async fn an_unreachable_service_is_a_clear_error() {
    let error = Rauc::connect(Bus::Address("unix:path=/nonexistent/bus"))
        .await
        .err()
        .unwrap();
    assert!(
        error
            .to_string()
            .starts_with("the update service (RAUC) cannot be reached"),
        "{error}"
    );
}
