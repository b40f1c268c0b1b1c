//! What a terminal's own edits of the records every till of a store shares become at the
//! fleet: people (`user_saved`), their PINs (`pin_reset`), roles (`role_saved`) and the loyalty
//! programme (`loyalty_program_saved`). Pure: the backends load and save the records and
//! publish the changes.
//!
//! Each edit is merged field by field into the fleet's record by last-writer-wins on the
//! entry's HLC, like a product edited on a till. Where it lands: a record the tenant already
//! holds tenant-wide (the operator authored it for every store) takes the edit tenant-wide, and
//! every store's terminals get the merged result; otherwise the record is the store's own, and
//! only that store's terminals get it. The terminal that made the edit gets the merged record
//! too, so every till of the store ends on the same value whatever order edits arrived in.

use pos_core::event::DomainEvent;
use pos_sync::wire::{ChangeBody, StaffMember};
use serde_json::{Map, Value};

use crate::storage::StorageError;

/// The record kind of people (the same record the operator API's staff members are).
pub(crate) const STAFF: &str = "staff";
/// The record kind of roles (the same record the operator API's roles are).
pub(crate) const ROLE: &str = "role";
/// The record kind of the loyalty programme; a store or tenant has one, under
/// [`LOYALTY_PROGRAM_KEY`].
pub(crate) const LOYALTY_PROGRAM: &str = "loyalty_program";
pub(crate) const LOYALTY_PROGRAM_KEY: &str = "program";

/// Fields to merge into one record.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RecordEdit {
    pub kind: &'static str,
    pub key: String,
    pub fields: Map<String, Value>,
}

fn fields_of<T: serde::Serialize>(value: &T) -> Result<Map<String, Value>, StorageError> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(StorageError::Invalid(
            "a record must be a JSON object".into(),
        )),
        Err(e) => Err(StorageError::Invalid(e.to_string())),
    }
}

/// The edit a journalled event makes to a shared record; `None` for every other event.
pub(crate) fn edit_of(event: &DomainEvent) -> Result<Option<RecordEdit>, StorageError> {
    let edit = match event {
        DomainEvent::UserSaved(user) => {
            let mut fields = fields_of(user)?;
            // A retired person loses their PIN, as on the till that retired them.
            if !user.active {
                fields.insert("pin_hash".into(), Value::Null);
            }
            RecordEdit {
                kind: STAFF,
                key: user.id.as_str().to_owned(),
                fields,
            }
        }
        DomainEvent::PinReset { user, pin_hash } => {
            let mut fields = Map::new();
            fields.insert("id".into(), Value::String(user.as_str().to_owned()));
            fields.insert("pin_hash".into(), Value::String(pin_hash.clone()));
            RecordEdit {
                kind: STAFF,
                key: user.as_str().to_owned(),
                fields,
            }
        }
        DomainEvent::RoleSaved(role) => RecordEdit {
            kind: ROLE,
            key: role.id.as_str().to_owned(),
            fields: fields_of(role)?,
        },
        DomainEvent::LoyaltyProgramSaved(program) => RecordEdit {
            kind: LOYALTY_PROGRAM,
            key: LOYALTY_PROGRAM_KEY.to_owned(),
            fields: fields_of(program)?,
        },
        _ => return Ok(None),
    };
    Ok(Some(edit))
}

/// What the terminals are sent for a merged record of `kind`; `None` while the record is not
/// whole enough to send (a role or programme missing fields, which a complete edit fills).
///
/// A person the fleet knows only from PIN resets (people seeded on each till, never saved
/// through the back office) travels as the PIN alone: the tills already have the person.
pub(crate) fn change_of(kind: &str, merged: Value) -> Option<ChangeBody> {
    match kind {
        STAFF => {
            if let Ok(member) = serde_json::from_value::<StaffMember>(merged.clone()) {
                return Some(ChangeBody::Staff { member });
            }
            let user = merged.get("id")?.as_str()?;
            let pin_hash = merged.get("pin_hash")?.as_str()?;
            Some(ChangeBody::PinReset {
                user: pos_core::id::UserId::new(user),
                pin_hash: pin_hash.to_owned(),
            })
        }
        ROLE => serde_json::from_value(merged)
            .ok()
            .map(|role| ChangeBody::Role { role }),
        LOYALTY_PROGRAM => serde_json::from_value(merged)
            .ok()
            .map(|program| ChangeBody::LoyaltyProgram { program }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use pos_core::access::{Role, User};
    use pos_core::id::{RoleId, UserId};
    use pos_sync::hlc::HlcTime;
    use pos_sync::rules::{LwwDocument, Origin, Stamp};

    use super::*;

    fn merge(doc: &mut LwwDocument, event: &DomainEvent, wall_ms: i64) -> Option<ChangeBody> {
        let edit = edit_of(event).unwrap().unwrap();
        doc.write(
            &edit.fields,
            &Stamp {
                hlc: HlcTime::new(wall_ms, 0),
                origin: Origin::Device(pos_core::id::DeviceId::new("T1")),
            },
        );
        change_of(edit.kind, Value::Object(doc.document()))
    }

    fn anna(active: bool) -> User {
        User {
            id: UserId::new("anna"),
            name: "Anna".into(),
            role: RoleId::new("cashier"),
            active,
        }
    }

    #[test]
    fn a_pin_reset_of_a_person_the_fleet_never_saw_travels_as_the_pin_alone() {
        let mut doc = LwwDocument::default();
        let reset = DomainEvent::PinReset {
            user: UserId::new("anna"),
            pin_hash: "$argon2id$new".into(),
        };
        assert_eq!(
            merge(&mut doc, &reset, 10),
            Some(ChangeBody::PinReset {
                user: UserId::new("anna"),
                pin_hash: "$argon2id$new".into()
            })
        );
        // Once the person is saved whole, they travel whole, with the PIN.
        let Some(ChangeBody::Staff { member }) =
            merge(&mut doc, &DomainEvent::UserSaved(anna(true)), 11)
        else {
            panic!("a whole person travels as staff");
        };
        assert_eq!(member.pin_hash.as_deref(), Some("$argon2id$new"));
    }

    #[test]
    fn retiring_someone_takes_their_pin_and_an_older_reset_does_not_bring_it_back() {
        let mut doc = LwwDocument::default();
        merge(&mut doc, &DomainEvent::UserSaved(anna(true)), 10);
        let retired = merge(&mut doc, &DomainEvent::UserSaved(anna(false)), 20);
        let Some(ChangeBody::Staff { member }) = retired else {
            panic!("staff expected");
        };
        assert!(!member.active);
        assert_eq!(member.pin_hash, None);
        // A reset made offline before the retirement arrives late: the retirement wins.
        let late = DomainEvent::PinReset {
            user: UserId::new("anna"),
            pin_hash: "$argon2id$old".into(),
        };
        let Some(ChangeBody::Staff { member }) = merge(&mut doc, &late, 15) else {
            panic!("staff expected");
        };
        assert_eq!(member.pin_hash, None);
    }

    #[test]
    fn roles_and_the_loyalty_programme_travel_as_saved_and_other_events_are_not_records() {
        let mut doc = LwwDocument::default();
        let role = Role::new("cashier", "Cashier", &["sales.*", "refunds.create"]);
        assert_eq!(
            merge(&mut doc, &DomainEvent::RoleSaved(role.clone()), 5),
            Some(ChangeBody::Role { role })
        );
        let mut doc = LwwDocument::default();
        let program = pos_core::demo::loyalty();
        assert_eq!(
            merge(
                &mut doc,
                &DomainEvent::LoyaltyProgramSaved(program.clone()),
                5
            ),
            Some(ChangeBody::LoyaltyProgram { program })
        );
        let drawer = DomainEvent::DrawerOpened(pos_core::event::DrawerReason::NoSale);
        assert_eq!(edit_of(&drawer).unwrap(), None);
    }
}
