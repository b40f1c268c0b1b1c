//! Bundle upload: a bundle built and signed with the real `rauc` is accepted with its version,
//! size and hashes; tampered, unsigned, untrusted, foreign and plain bundles are refused with a
//! sentence that says why, and leave nothing behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
mod update_support;

backend_tests!(
    a_signed_bundle_is_accepted_with_its_version_size_and_hashes,
    tampered_unsigned_untrusted_foreign_and_plain_bundles_are_refused,
    only_the_fleet_operator_uploads_bundles
);

use md5::Md5;
use pos_bundle::BundleFormat;
use reqwest::StatusCode;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use update_support::{COMPATIBLE, bundle, stranger, trusted};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn signature_len(bytes: &[u8]) -> usize {
    let trailer: [u8; 8] = bytes[bytes.len() - 8..].try_into().unwrap();
    usize::try_from(u64::from_be_bytes(trailer)).unwrap()
}

/// The files in the fleet's bundle directory.
fn stored_files(fleet: &common::Fleet) -> Vec<String> {
    let dir = fleet.dir.path().join(pos_fleet::server::BUNDLES_DIR);
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

async fn a_signed_bundle_is_accepted_with_its_version_size_and_hashes(backend: common::Backend) {
    let fleet = update_support::start(&backend, false).await;
    let work = tempfile::tempdir().unwrap();
    let path = bundle(
        work.path(),
        "1.4.0",
        COMPATIBLE,
        trusted(),
        BundleFormat::Verity,
    );
    let bytes = std::fs::read(&path).unwrap();
    let record = fleet.accepted_bundle(&path).await;
    assert_eq!(record["version"], "1.4.0");
    assert_eq!(record["compatible"], COMPATIBLE);
    assert_eq!(record["format"], "verity");
    assert_eq!(record["size"], bytes.len());
    assert_eq!(record["sha256"], hex(&Sha256::digest(&bytes)));
    assert_eq!(record["sha1"], hex(&Sha1::digest(&bytes)));
    assert_eq!(record["md5"], hex(&Md5::digest(&bytes)));
    assert_eq!(record["filename"], "open-pos-x86_64-1.4.0.raucb");
    // Kept once, named by its content.
    assert_eq!(
        stored_files(&fleet),
        vec![format!("{}.raucb", hex(&Sha256::digest(&bytes)))]
    );
    let (status, list) = fleet
        .call("GET", "/api/v1/bundles", Some(&fleet.operator), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["id"], record["id"]);
    // The same bytes again are named as the bundle they already are.
    let (status, again) = fleet.upload(&fleet.operator, bytes).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        again["message"],
        format!(
            "this bundle was uploaded already, as {}",
            record["id"].as_str().unwrap()
        )
    );
}

async fn tampered_unsigned_untrusted_foreign_and_plain_bundles_are_refused(
    backend: common::Backend,
) {
    let fleet = update_support::start(&backend, false).await;
    let work = tempfile::tempdir().unwrap();
    let good = std::fs::read(bundle(
        work.path(),
        "1.4.0",
        COMPATIBLE,
        trusted(),
        BundleFormat::Verity,
    ))
    .unwrap();
    let refusal = |expected: &'static str| {
        move |(status, body): (StatusCode, serde_json::Value)| {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            let message = body["message"].as_str().unwrap().to_owned();
            assert!(message.contains(expected), "{message}");
            message
        }
    };

    // One payload byte changed, well inside the squashfs data.
    let mut tampered = good.clone();
    let at = tampered.len() / 3;
    tampered[at] ^= 0x01;
    let message = refusal("the bundle was changed after it was signed")(
        fleet.upload(&fleet.operator, tampered).await,
    );
    assert!(message.contains("contents were changed"), "{message}");

    // A byte of the signature changed: RAUC's verification fails.
    let mut forged = good.clone();
    let at = forged.len() - 8 - signature_len(&forged) / 2;
    forged[at] ^= 0x01;
    refusal("the bundle's signature was not accepted")(fleet.upload(&fleet.operator, forged).await);

    // The signature cut off.
    let mut unsigned = good.clone();
    let signed_len = unsigned.len() - 8 - signature_len(&unsigned);
    unsigned.truncate(signed_len);
    unsigned.extend_from_slice(&0u64.to_be_bytes());
    refusal("this file is not an update bundle: the bundle is not signed")(
        fleet.upload(&fleet.operator, unsigned).await,
    );

    // Not a bundle at all.
    refusal("this file is not an update bundle")(
        fleet
            .upload(&fleet.operator, b"PK\x03\x04 a zip file".repeat(100))
            .await,
    );

    // Signed by someone the terminals do not trust.
    let untrusted = std::fs::read(bundle(
        work.path(),
        "1.4.1",
        COMPATIBLE,
        stranger(),
        BundleFormat::Verity,
    ))
    .unwrap();
    refusal("the bundle's signature was not accepted: signature verification failed")(
        fleet.upload(&fleet.operator, untrusted).await,
    );

    // For another device.
    let foreign = std::fs::read(bundle(
        work.path(),
        "1.4.2",
        "coffee-machine-arm64",
        trusted(),
        BundleFormat::Verity,
    ))
    .unwrap();
    refusal(
        "the bundle is for 'coffee-machine-arm64', but this fleet's terminals are 'open-pos-x86_64'",
    )(fleet.upload(&fleet.operator, foreign).await);

    // The old plain format, which terminals refuse.
    let plain = std::fs::read(bundle(
        work.path(),
        "1.4.3",
        COMPATIBLE,
        trusted(),
        BundleFormat::Plain,
    ))
    .unwrap();
    refusal("old 'plain' format")(fleet.upload(&fleet.operator, plain).await);

    // Nothing was kept of any of them.
    assert_eq!(stored_files(&fleet), Vec::<String>::new());
    let (_, list) = fleet
        .call("GET", "/api/v1/bundles", Some(&fleet.operator), None)
        .await;
    assert_eq!(list, serde_json::json!([]));
}

async fn only_the_fleet_operator_uploads_bundles(backend: common::Backend) {
    let fleet = update_support::start(&backend, false).await;
    let acme = fleet.tenant("Acme").await;
    let (status, body) = fleet.upload(&acme.owner, b"hsqs".repeat(2000)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["message"],
        "only the fleet operator (super-admin) uploads update bundles"
    );
    let (status, body) = fleet.upload("not-a-session", b"hsqs".to_vec()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(stored_files(&fleet), Vec::<String>::new());
}
