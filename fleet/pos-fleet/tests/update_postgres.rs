//! What the update service needs of PostgreSQL beyond what the HTTP suites check on both
//! backends: several fleet processes on one database never put a terminal in two rollouts,
//! and never lose one of two reports a terminal sends at once. Runs in a schema of its own
//! when `POS_FLEET_POSTGRES_URL` is set (required in CI).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, StoreId, TenantId};
use pos_fleet::postgres::PostgresStorage;
use pos_fleet::storage::StorageError;
use pos_fleet::updates::rollout::Plan;
use pos_fleet::updates::storage::{
    BundleRecord, ConfigMode, RolloutRecord, RolloutState, Target, UpdateStorage,
};
use serde_json::json;

use common::Backend;

/// Four fleet processes on one new schema. `None` without PostgreSQL.
fn processes() -> Option<(common::Schema, Vec<PostgresStorage>)> {
    let Backend::Postgres(url) = Backend::postgres()? else {
        return None;
    };
    let schema = common::Schema::create(&url);
    let mut config: postgres::Config = url.parse().unwrap();
    config.options(&format!("-csearch_path={}", schema.name));
    let opened = (0..4)
        .map(|_| PostgresStorage::open_config(config.clone(), 2).unwrap())
        .collect();
    Some((schema, opened))
}

fn rollout(id: &str) -> RolloutRecord {
    RolloutRecord {
        id: id.into(),
        tenant: TenantId::new("tenant-1"),
        bundle: "bundle-1".into(),
        target: Target::Terminals(vec![DeviceId::new("till-1")]),
        plan: Plan {
            canary_store: None,
            stages: vec![100],
            failure_threshold_percent: 20,
        },
        state: RolloutState::Running,
        current_stage: 0,
        halt_reason: None,
        created_at: Timestamp::from_unix_ms(1_000),
        created_by: "owner".into(),
    }
}

#[test]
fn two_processes_creating_rollouts_for_one_terminal_at_once_put_it_in_one() {
    let Some((_schema, fleets)) = processes() else {
        return;
    };
    fleets[0]
        .save_bundle(&BundleRecord {
            id: "bundle-1".into(),
            filename: "update.raucb".into(),
            version: "1.4.0".into(),
            compatible: "open-pos-x86_64".into(),
            format: "verity".into(),
            size: 4096,
            sha1: "a".repeat(40),
            md5: "b".repeat(32),
            sha256: "c".repeat(64),
            uploaded_at: Timestamp::from_unix_ms(500),
            uploaded_by: "ops".into(),
        })
        .unwrap();
    let till = (DeviceId::new("till-1"), StoreId::new("store-1"), 0_u32);
    let results: Vec<Result<(), StorageError>> = std::thread::scope(|scope| {
        let creations: Vec<_> = fleets
            .iter()
            .enumerate()
            .map(|(n, fleet)| {
                let till = till.clone();
                scope.spawn(move || {
                    fleet.create_rollout(
                        &rollout(&format!("rollout-{n}")),
                        &[till],
                        Timestamp::from_unix_ms(2_000),
                    )
                })
            })
            .collect();
        creations.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let created: Vec<usize> = (0..results.len()).filter(|n| results[*n].is_ok()).collect();
    assert_eq!(created.len(), 1, "{results:?}");
    let winner = format!("rollout-{}", created[0]);
    for refusal in results.iter().filter_map(|r| r.as_ref().err()) {
        let StorageError::Conflict(message) = refusal else {
            panic!("a lost race must be a conflict, not {refusal:?}");
        };
        assert!(
            message.contains(&format!("terminal till-1 is still in rollout {winner}")),
            "{message}"
        );
    }
    let open = fleets[3].open_actions(&DeviceId::new("till-1")).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].1.id, winner);
}

#[test]
fn reports_merged_by_several_processes_at_once_all_count() {
    let Some((_schema, fleets)) = processes() else {
        return;
    };
    let till = DeviceId::new("till-1");
    std::thread::scope(|scope| {
        for (n, fleet) in fleets.iter().enumerate() {
            let till = till.clone();
            scope.spawn(move || {
                for round in 0..5 {
                    let data = json!({format!("key-{n}-{round}"): "value"});
                    fleet
                        .save_config_data(
                            &till,
                            ConfigMode::Merge,
                            data.as_object().unwrap(),
                            Timestamp::from_unix_ms(1_000),
                        )
                        .unwrap();
                }
            });
        }
    });
    let report = fleets[0].terminal_report(&till).unwrap();
    assert_eq!(report.attributes.len(), 20, "{:?}", report.attributes);
    assert!(!report.requested);
}
