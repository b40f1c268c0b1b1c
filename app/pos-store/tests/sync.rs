//! Sync against the real encrypted store: the journal read as the outbox in the wire's shape,
//! and pages of changes pulled from the fleet applied with their cursor: products, scheduled
//! prices, staff and PINs, settings, customers and points, other terminals' stock, the
//! tenant's feature switches and its stores.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pos_core::access::{Features, Role};
use pos_core::id::{CustomerId, DeviceId, EventId, MovementId, RoleId, StoreId, UserId};
use pos_core::loyalty::{Customer, PointsMovement, PointsReason};
use pos_core::money::{Currency, Money};
use pos_core::quantity::Quantity;
use pos_core::stock::{MovementReason, StockMovement};
use pos_store::sample::product;
use pos_sync::hlc::HlcTime;
use pos_sync::wire::{Change, ChangeBody, Scope, StaffMember, TenantStore};
use support::{at, open, sale};

fn change(server_seq: u64, body: ChangeBody) -> Change {
    Change {
        server_seq,
        hlc: HlcTime::new(support::T0_MS + i64::try_from(server_seq).unwrap(), 0),
        body,
    }
}

fn euros(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

fn movement(id: &str, product: &str, quantity: i64) -> StockMovement {
    StockMovement {
        id: MovementId::new(id),
        product: pos_core::id::ProductId::new(product),
        store: StoreId::new("S1"),
        batch: None,
        quantity: Quantity::pieces(quantity),
        reason: MovementReason::Adjustment {
            reason: "shelf count".into(),
        },
        at: at(3),
        by: UserId::new("mia"),
    }
}

#[test]
fn the_outbox_reads_the_journal_as_the_fleet_expects_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    assert_eq!(store.outbox_last_seq().unwrap(), 0);
    let (first, moves) = sale(1);
    store.complete_sale(&first, &moves).unwrap();
    let last = store.outbox_last_seq().unwrap();
    // The sale, its stock movements and the drawer opening.
    assert!(last > moves.len() as u64, "{last}");

    let entries = store.outbox_from(2, 3).unwrap();
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    let all = store.outbox_from(1, 100).unwrap();
    assert_eq!(all.len() as u64, last);
    assert_eq!(all[0].kind, "sale_completed");
    let event = all[0].domain_event().unwrap().unwrap();
    assert_eq!(event, pos_core::event::DomainEvent::SaleCompleted(first));
    assert!(store.outbox_from(last + 1, 10).unwrap().is_empty());
}

#[test]
fn a_page_of_fleet_changes_reaches_the_tills_tables_with_its_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    assert_eq!(store.sync_cursor().unwrap(), 0);
    let mut coffee = product(7);
    coffee.price = euros(499);
    let anna = Customer {
        id: CustomerId::new("c-anna"),
        name: "Anna Berg".into(),
        email: Some("anna@example.de".into()),
        phone: None,
        card: None,
    };
    let page = vec![
        change(
            3,
            ChangeBody::Product {
                scope: Scope::Tenant,
                product: coffee.clone(),
            },
        ),
        change(
            4,
            ChangeBody::Role {
                role: Role::new("cashier", "Cashier", &["sales.*"]),
            },
        ),
        change(
            5,
            ChangeBody::Staff {
                member: StaffMember {
                    id: UserId::new("lena"),
                    name: "Lena".into(),
                    role: RoleId::new("cashier"),
                    pin_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
                    active: true,
                },
            },
        ),
        change(
            6,
            ChangeBody::Setting {
                scope: Scope::Store(StoreId::new("S1")),
                key: "receipt_footer".into(),
                value: serde_json::json!("Danke!"),
            },
        ),
        change(7, ChangeBody::Customer { customer: anna }),
        change(
            8,
            ChangeBody::PointsMoved {
                event_id: EventId::new("e-points"),
                movement: PointsMovement {
                    customer: CustomerId::new("c-anna"),
                    points: 40,
                    reason: PointsReason::Adjustment("welcome".into()),
                    at: at(2),
                },
            },
        ),
        change(
            9,
            ChangeBody::StockMoved {
                event_id: EventId::new("e-t2-move"),
                device: DeviceId::new("T2"),
                movement: movement("m-t2-1", coffee.id.as_str(), -3),
            },
        ),
        change(10, ChangeBody::Unknown),
    ];
    let applied = store.apply_pulled(&page, 10, at(5)).unwrap();
    assert_eq!(applied.products, 1);
    assert_eq!(applied.staff, 1);
    assert_eq!(applied.stock_movements, 1);
    assert_eq!(applied.skipped, 1);
    assert_eq!(store.sync_cursor().unwrap(), 10);

    assert_eq!(
        store.product(&coffee.id).unwrap().unwrap().price,
        euros(499)
    );
    let lena = store.actor(&UserId::new("lena")).unwrap().unwrap();
    assert_eq!(lena.role.id, RoleId::new("cashier"));
    assert!(store.pin_hash(&UserId::new("lena")).unwrap().is_some());
    assert_eq!(
        store.setting("fleet.receipt_footer").unwrap().as_deref(),
        Some("Danke!")
    );
    let (customer, points) = store.customer(&CustomerId::new("c-anna")).unwrap().unwrap();
    assert_eq!(customer.name, "Anna Berg");
    assert_eq!(points, 40);
    assert_eq!(
        store.stock_level(&StoreId::new("S1"), &coffee.id).unwrap(),
        Quantity::pieces(-3)
    );
    // Nothing pulled went into the journal: it would travel back up.
    assert_eq!(store.outbox_last_seq().unwrap(), 0);

    // The same movement again (come back through another path) is not counted twice, and a
    // cursor behind the applied one is refused with nothing changed.
    let again = vec![change(
        11,
        ChangeBody::StockMoved {
            event_id: EventId::new("e-t2-move"),
            device: DeviceId::new("T2"),
            movement: movement("m-t2-1", coffee.id.as_str(), -3),
        },
    )];
    let applied = store.apply_pulled(&again, 11, at(6)).unwrap();
    assert_eq!(applied.stock_movements_known, 1);
    assert_eq!(
        store.stock_level(&StoreId::new("S1"), &coffee.id).unwrap(),
        Quantity::pieces(-3)
    );
    let err = store.apply_pulled(&[], 4, at(6)).unwrap_err();
    assert!(err.to_string().contains("behind"), "{err}");
    assert_eq!(store.sync_cursor().unwrap(), 11);
}

#[test]
fn a_scheduled_price_takes_effect_at_its_time_and_survives_a_catalogue_edit() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let mut tea = product(9);
    tea.price = euros(300);
    let schedule = |seq, id: &str, minor, minutes| {
        change(
            seq,
            ChangeBody::PriceScheduled {
                scope: Scope::Tenant,
                schedule_id: id.into(),
                product: tea.id.clone(),
                price: euros(minor),
                effective_at: at(minutes),
            },
        )
    };
    let page = vec![
        change(
            1,
            ChangeBody::Product {
                scope: Scope::Tenant,
                product: tea.clone(),
            },
        ),
        schedule(2, "now", 280, 0),
        schedule(3, "evening", 250, 60),
    ];
    let applied = store.apply_pulled(&page, 3, at(10)).unwrap();
    assert_eq!(applied.prices_scheduled, 2);
    assert_eq!(store.product(&tea.id).unwrap().unwrap().price, euros(280));

    // Before its time the evening price is not charged; at its time it is.
    assert_eq!(store.apply_due_prices(at(59)).unwrap(), 0);
    assert_eq!(store.apply_due_prices(at(60)).unwrap(), 1);
    assert_eq!(store.product(&tea.id).unwrap().unwrap().price, euros(250));

    // The fleet renames the tea: the record comes with its base price, the schedule in
    // effect still decides what the till charges.
    tea.name = "Green Tea 20 bags".into();
    store
        .apply_pulled(
            &[change(
                4,
                ChangeBody::Product {
                    scope: Scope::Tenant,
                    product: tea.clone(),
                },
            )],
            4,
            at(61),
        )
        .unwrap();
    let stored = store.product(&tea.id).unwrap().unwrap();
    assert_eq!(stored.name, "Green Tea 20 bags");
    assert_eq!(stored.price, euros(250));
}

#[test]
fn a_page_that_cannot_be_applied_changes_nothing_and_keeps_the_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let first = product(1);
    let mut clash = product(2);
    clash.sku = first.sku.clone();
    let page = vec![
        change(
            1,
            ChangeBody::Product {
                scope: Scope::Tenant,
                product: first.clone(),
            },
        ),
        change(
            2,
            ChangeBody::Product {
                scope: Scope::Tenant,
                product: clash,
            },
        ),
    ];
    let err = store.apply_pulled(&page, 2, at(1)).unwrap_err();
    assert!(err.to_string().contains("SKU"), "{err}");
    assert_eq!(store.sync_cursor().unwrap(), 0);
    assert!(store.product(&first.id).unwrap().is_none());
}

#[test]
fn people_pins_roles_and_the_loyalty_programme_from_other_tills_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    store
        .save_role(&Role::new("cashier", "Cashier", &["sales.*"]))
        .unwrap();
    let (anna, ben) = (UserId::new("anna"), UserId::new("ben"));
    store
        .save_user(
            &anna,
            "Anna",
            &RoleId::new("cashier"),
            Some("$argon2id$anna-here"),
        )
        .unwrap();
    store
        .save_user(
            &ben,
            "Ben",
            &RoleId::new("cashier"),
            Some("$argon2id$ben-here"),
        )
        .unwrap();
    let member =
        |id: &UserId, name: &str, pin_hash: Option<&str>, active: bool| ChangeBody::Staff {
            member: StaffMember {
                id: id.clone(),
                name: name.into(),
                role: RoleId::new("cashier"),
                pin_hash: pin_hash.map(str::to_owned),
                active,
            },
        };
    let mut program = pos_core::demo::loyalty();
    program.point_value = Money::from_minor(2, Currency::EUR);
    let page = vec![
        // Anna's PIN reset on another till, by a fleet that knows her only by that.
        change(
            1,
            ChangeBody::PinReset {
                user: anna.clone(),
                pin_hash: "$argon2id$anna-new".into(),
            },
        ),
        // Ben renamed on another till: the fleet does not know his PIN, so his stays.
        change(2, member(&ben, "Benjamin", None, true)),
        change(
            3,
            ChangeBody::Role {
                role: Role::new("cashier", "Cashier", &["sales.*", "refunds.create"]),
            },
        ),
        change(
            4,
            ChangeBody::LoyaltyProgram {
                program: program.clone(),
            },
        ),
        // A PIN for someone this till never had is nobody to sign in here.
        change(
            5,
            ChangeBody::PinReset {
                user: UserId::new("zoe"),
                pin_hash: "$argon2id$zoe".into(),
            },
        ),
    ];
    let applied = store.apply_pulled(&page, 5, at(5)).unwrap();
    assert_eq!((applied.staff, applied.roles, applied.skipped), (2, 1, 1));
    assert_eq!(
        store.pin_hash(&anna).unwrap().as_deref(),
        Some("$argon2id$anna-new")
    );
    assert_eq!(
        store.pin_hash(&ben).unwrap().as_deref(),
        Some("$argon2id$ben-here")
    );
    let ben_now = store.actor(&ben).unwrap().unwrap();
    assert_eq!(ben_now.name, "Benjamin");
    assert!(ben_now.role.allows("refunds.create"));
    assert_eq!(store.loyalty_program().unwrap(), Some(program));
    // The till earns and redeems by the new programme from its next sale.
    assert!(applied.changes_the_till());
    assert!(store.actor(&UserId::new("zoe")).unwrap().is_none());

    // Retired on another till: Ben can no longer sign in here, and his PIN is gone.
    store
        .apply_pulled(
            &[change(6, member(&ben, "Benjamin", None, false))],
            6,
            at(6),
        )
        .unwrap();
    assert!(store.actor(&ben).unwrap().is_none());
    assert_eq!(store.pin_hash(&ben).unwrap(), None);
    // People are looked up at each sign-in: the till's setup stays as it is.
    let applied = store
        .apply_pulled(&[change(7, member(&ben, "Ben", None, false))], 7, at(7))
        .unwrap();
    assert!(!applied.changes_the_till());
    // Nothing pulled went into the journal.
    assert_eq!(store.outbox_last_seq().unwrap(), 0);
}

#[test]
fn the_tenants_switches_and_stores_from_the_fleet_replace_what_the_till_knew() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    assert_eq!(
        store.tenant_features().unwrap(),
        Features::all_enabled(),
        "a tenant the fleet set nothing for allows everything"
    );
    let altona = TenantStore {
        id: StoreId::new("str-altona"),
        name: "Acme Altona".into(),
    };
    let applied = store
        .apply_pulled(
            &[
                change(
                    1,
                    ChangeBody::TenantFeatures {
                        features: Features::all_enabled().disable("loyalty"),
                    },
                ),
                change(
                    2,
                    ChangeBody::TenantStore {
                        store: altona.clone(),
                    },
                ),
                change(
                    3,
                    ChangeBody::TenantStore {
                        store: TenantStore {
                            id: StoreId::new("S1"),
                            name: "Acme Mitte".into(),
                        },
                    },
                ),
            ],
            3,
            at(4),
        )
        .unwrap();
    assert_eq!((applied.tenant_features, applied.stores), (1, 2));
    assert!(applied.changes_the_till());
    assert!(store.tenant_features().unwrap().is_off("loyalty"));

    // Switched on again and a store renamed: the newest wins.
    let applied = store
        .apply_pulled(
            &[
                change(
                    4,
                    ChangeBody::TenantFeatures {
                        features: Features::all_enabled(),
                    },
                ),
                change(
                    5,
                    ChangeBody::TenantStore {
                        store: TenantStore {
                            name: "Acme Altona (Ottensen)".into(),
                            ..altona
                        },
                    },
                ),
            ],
            5,
            at(5),
        )
        .unwrap();
    assert!(applied.changes_the_till());
    assert_eq!(store.tenant_features().unwrap(), Features::all_enabled());
    let names: Vec<(String, String)> = store
        .tenant_stores()
        .unwrap()
        .into_iter()
        .map(|s| (s.id.to_string(), s.name))
        .collect();
    assert_eq!(
        names,
        [
            ("str-altona".to_owned(), "Acme Altona (Ottensen)".to_owned()),
            ("S1".to_owned(), "Acme Mitte".to_owned()),
        ]
    );
    // A page with nothing of the tenant's leaves the till as it is.
    let applied = store.apply_pulled(&[], 5, at(6)).unwrap();
    assert!(!applied.changes_the_till());
}
