//! The journal: one entry per event in the same transaction as the read tables, hash-chained,
//! and an outbox that never loses what upstream has not acknowledged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pos_core::event::DomainEvent;
use pos_store::{ChainBreak, ErrorKind, StoreError};
use support::{open, raw, sale};

#[test]
fn a_sale_writes_its_journal_entries_and_read_tables_together() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let (sale, movements) = sale(1);
    let entries = store.complete_sale(&sale, &movements).unwrap();
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "sale_completed",
            "stock_moved",
            "stock_moved",
            "stock_moved",
            "stock_moved",
            "stock_moved",
            "drawer_opened"
        ]
    );
    assert_eq!(
        entries[0].event().unwrap(),
        DomainEvent::SaleCompleted(sale.clone())
    );
    assert_eq!(entries[0].device.as_str(), "T1");
    assert_eq!(entries[0].actor, sale.cashier);
    assert!(
        entries
            .windows(2)
            .all(|w| w[1].hlc > w[0].hlc && w[1].prev_hash == w[0].hash)
    );
    let level = store
        .stock_level(&sale.store, &sale.lines[0].product.id)
        .unwrap();
    assert_eq!(level.value(), -sale.lines[0].quantity.value());
    let report = store.verify_journal().unwrap();
    assert!(report.is_intact());
    assert_eq!(report.entries_checked, 7);
}

#[test]
fn a_sale_recorded_twice_is_refused_and_not_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let (sale, movements) = sale(1);
    store.complete_sale(&sale, &movements).unwrap();
    let error = store.complete_sale(&sale, &movements).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Refused);
    assert_eq!(
        error.to_string(),
        format!(
            "sale {} is already recorded; it was not recorded twice",
            sale.id
        )
    );
    let product = &sale.lines[0].product.id;
    assert_eq!(
        store.stock_level(&sale.store, product).unwrap().value(),
        -sale.lines[0].quantity.value()
    );
    assert_eq!(store.verify_journal().unwrap().entries_checked, 7);
}

#[test]
fn a_changed_entry_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    for n in 1..=3 {
        let (sale, movements) = sale(n);
        store.complete_sale(&sale, &movements).unwrap();
    }
    drop(store);
    let connection = raw(dir.path());
    // The database refuses changes outright…
    let refused = connection
        .execute("UPDATE journal SET actor = 'mallory' WHERE seq = 9", [])
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("journal entries cannot be changed")
    );
    // …so someone holding the key must drop the guard first; the chain still tells.
    connection
        .execute_batch(
            "DROP TRIGGER journal_immutable; UPDATE journal SET actor = 'mallory' WHERE seq = 9;",
        )
        .unwrap();
    let report = open(dir.path()).verify_journal().unwrap();
    assert_eq!(report.first_break, Some(ChainBreak::Altered { seq: 9 }));
    assert_eq!(report.entries_checked, 8);
    assert_eq!(
        report.first_break.unwrap().to_string(),
        "journal entry 9 was changed after it was written"
    );
}

#[test]
fn a_removed_or_rewritten_entry_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    for n in 1..=2 {
        let (sale, movements) = sale(n);
        store.complete_sale(&sale, &movements).unwrap();
    }
    drop(store);
    let connection = raw(dir.path());
    let refused = connection
        .execute("DELETE FROM journal WHERE seq = 4", [])
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("not yet acknowledged upstream")
    );
    connection
        .execute_batch(
            "DROP TRIGGER journal_keeps_unacknowledged; DELETE FROM journal WHERE seq = 4;",
        )
        .unwrap();
    let report = open(dir.path()).verify_journal().unwrap();
    assert_eq!(
        report.first_break,
        Some(ChainBreak::Gap {
            expected: 4,
            found: 5
        })
    );
    // Renumbering to hide the gap breaks the link instead.
    connection
        .execute_batch(
            "DROP TRIGGER journal_immutable; UPDATE journal SET seq = seq - 1 WHERE seq > 4;",
        )
        .unwrap();
    let report = open(dir.path()).verify_journal().unwrap();
    assert!(matches!(
        report.first_break,
        Some(ChainBreak::Altered { seq: 4 })
    ));
}

#[test]
fn the_outbox_keeps_unacknowledged_entries_and_prunes_acknowledged_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    for n in 1..=3 {
        let (sale, movements) = sale(n);
        store.complete_sale(&sale, &movements).unwrap();
    }
    assert_eq!(
        store
            .pending_upload(5)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert!(matches!(store.acknowledge(99), Err(StoreError::Refused(_))));
    store.acknowledge(10).unwrap();
    assert!(
        store
            .acknowledge(9)
            .unwrap_err()
            .to_string()
            .contains("cannot move back")
    );
    assert_eq!(
        store.pending_upload(100).unwrap().first().map(|e| e.seq),
        Some(11)
    );
    assert_eq!(store.prune_acknowledged().unwrap(), 10);
    assert_eq!(store.prune_acknowledged().unwrap(), 0);
    // The rest of the chain still verifies from the pruned anchor, and keeps growing.
    let (sale, movements) = sale(4);
    store.complete_sale(&sale, &movements).unwrap();
    let report = store.verify_journal().unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!((report.entries_checked, report.last_seq), (18, 28));
    drop(store);
    let refused = raw(dir.path())
        .execute("DELETE FROM journal WHERE seq = 11", [])
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("not yet acknowledged upstream")
    );
    let refused = raw(dir.path())
        .execute("UPDATE outbox SET acked_seq = 1", [])
        .unwrap_err();
    assert!(refused.to_string().contains("cannot move backwards"));
    // Everything acknowledged: the newest entry stays, so the clock resumes after it.
    let mut store = open(dir.path());
    store.acknowledge(28).unwrap();
    assert_eq!(store.prune_acknowledged().unwrap(), 17);
    assert!(store.pending_upload(10).unwrap().is_empty());
    drop(store);
    let mut store = open(dir.path());
    // Sale 0 carries an earlier wall time than sale 4, the newest entry.
    let (next, next_moves) = support::sale(0);
    let entries = store.complete_sale(&next, &next_moves).unwrap();
    assert_eq!(entries[0].seq, 29);
    assert_eq!(entries[0].hlc.wall_ms, support::T0_MS + 4 * 60_000);
    assert!(store.verify_journal().unwrap().is_intact());
}

#[test]
fn clock_times_keep_rising_across_a_restart_with_a_clock_set_back() {
    let dir = tempfile::tempdir().unwrap();
    let (later, later_moves) = sale(50);
    let last = open(dir.path())
        .complete_sale(&later, &later_moves)
        .unwrap()
        .pop()
        .unwrap();
    // The next sale carries an earlier wall-clock time (the clock was set back).
    let (earlier, earlier_moves) = sale(1);
    let first = open(dir.path())
        .complete_sale(&earlier, &earlier_moves)
        .unwrap()
        .remove(0);
    assert!(first.hlc > last.hlc);
    assert!(open(dir.path()).verify_journal().unwrap().is_intact());
}
