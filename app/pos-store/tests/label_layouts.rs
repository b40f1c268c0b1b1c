//! The back office's label layouts in the store: saved through the journal, renamed, listed
//! by name, still there after the store is closed and opened again, and deleted; two
//! layouts with one name are refused and change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pos_core::event::DomainEvent;
use pos_core::id::{LabelLayoutId, UserId};
use pos_store::StoreError;
use support::{at, open};

fn saved(id: &str, name: &str) -> DomainEvent {
    DomainEvent::LabelLayoutSaved {
        id: LabelLayoutId::new(id),
        name: name.into(),
        layout: format!(
            r#"{{"name":"{name}","width_mm":"58","height_mm":"40","dpi":203,"elements":[]}}"#
        ),
    }
}

fn names(store: &pos_store::Store) -> Vec<String> {
    store
        .label_layouts()
        .unwrap()
        .into_iter()
        .map(|(_, name, _)| name)
        .collect()
}

#[test]
fn layouts_are_journalled_renamed_kept_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let manager = UserId::new("marc");
    {
        let mut store = open(dir.path());
        store
            .record(
                &manager,
                at(0),
                &[saved("l1", "Shelf edge"), saved("l2", "Bakery")],
            )
            .unwrap();
        store
            .record(&manager, at(1), &[saved("l1", "Shelf edge 58 mm")])
            .unwrap();
        let refused = store
            .record(&manager, at(2), &[saved("l3", "bakery")])
            .unwrap_err();
        assert!(
            matches!(&refused, StoreError::Refused(m) if m.contains("another label layout is called “bakery”")),
            "{refused}"
        );
        assert_eq!(
            store
                .journal_events_since("label_layout_saved", at(0))
                .unwrap()
                .len(),
            3
        );
    }
    let mut store = open(dir.path());
    assert_eq!(names(&store), ["Bakery", "Shelf edge 58 mm"]);
    let (id, _, layout) = store.label_layouts().unwrap().pop().unwrap();
    assert_eq!(id, LabelLayoutId::new("l1"));
    assert!(layout.contains("\"width_mm\":\"58\""));
    store
        .record(
            &manager,
            at(3),
            &[DomainEvent::LabelLayoutDeleted {
                id: LabelLayoutId::new("l2"),
            }],
        )
        .unwrap();
    assert_eq!(names(&store), ["Shelf edge 58 mm"]);
    assert!(
        store
            .record(
                &manager,
                at(4),
                &[DomainEvent::LabelLayoutDeleted {
                    id: LabelLayoutId::new("l2")
                }]
            )
            .is_err()
    );
}
