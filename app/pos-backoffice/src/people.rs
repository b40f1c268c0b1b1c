//! People in the back office: the staff list (add, rename, change role, retire), PIN resets,
//! roles with their permission tree, and the log of manager overrides.
//!
//! Permissions are `pos-core`'s dot-notation with wildcards, and every change is checked with
//! `pos_core::access::Staff::check_change` before it is recorded: nobody locks themselves out
//! and the last administrator stays. PINs are kept only as argon2id hashes (`pos_store::pin`).

use pos_core::access::{Grant, Override, Role, Staff, User, permission as core};
use pos_core::clock::Timestamp;
use pos_core::event::DomainEvent;
use pos_core::id::{RoleId, UserId};
use pos_till::session::{PIN_DIGITS_MAX, PIN_DIGITS_MIN};

use crate::books::Books;
use crate::office::{BackOffice, BackOfficeError, LIST_ROWS, permission};
use crate::product_form::FormError;

type Result<T> = std::result::Result<T, BackOfficeError>;

/// Days of manager overrides the log shows.
pub const OVERRIDE_LOG_DAYS: i64 = 90;

/// Every permission the terminal asks for, in the order the permission tree shows them:
/// `pos-core`'s, the back office's, and the service screen's. A role may grant other
/// patterns; the tree lists those after these.
pub const KNOWN_PERMISSIONS: &[&str] = &[
    core::SALE,
    core::DISCOUNT_MANUAL,
    core::DISCOUNT_ABOVE_LIMIT,
    core::LINE_REMOVE_PRINTED,
    core::VOID,
    core::REFUND,
    core::REFUND_TO_CASH,
    core::REFUND_NO_RECEIPT,
    core::PRICE_OVERRIDE,
    core::NO_SALE,
    core::LOYALTY_REDEEM,
    core::SHIFT_OPEN,
    core::SHIFT_CLOSE,
    core::SHIFT_CASH_MOVE,
    core::REPORT_X,
    // Postponing an update, asked by the terminal's update agent.
    "reports.z",
    permission::REPORTS_VIEW,
    permission::REPORTS_EXPORT,
    permission::OVERRIDES_VIEW,
    permission::STOCK_VIEW,
    core::INVENTORY_RECEIVE,
    core::INVENTORY_ADJUST,
    core::INVENTORY_COUNT,
    permission::STOCK_WRITE_OFF,
    core::INVENTORY_TRANSFER,
    permission::PRODUCTS_VIEW,
    core::PRODUCTS_EDIT,
    permission::PRODUCTS_IMPORT,
    permission::LABELS,
    permission::CUSTOMERS_VIEW,
    core::CUSTOMERS_EDIT,
    permission::PEOPLE_VIEW,
    core::USERS_EDIT,
    core::USERS_ROLES,
    permission::SETTINGS_VIEW,
    core::SETTINGS_STORE,
    core::SETTINGS_TAX,
    core::SETTINGS_RECEIPT,
    core::SETTINGS_DISCOUNTS,
    permission::LOYALTY_SETTINGS,
    core::SETTINGS_FEATURES,
    core::SETTINGS_HARDWARE,
    // The service screen's.
    "service.open",
    "service.reset",
    "service.network",
    core::FLEET_ADMIN,
];

/// Whether a role holds a permission, as the tree shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holding {
    /// Not granted.
    Off,
    /// Granted by a wider pattern (`sales.*` covers `sales.refund`).
    Covered,
    /// Granted as written.
    Granted,
}

/// A row of the permission tree: `*`, then each area (`sales.*`) with its permissions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeRow {
    pub pattern: String,
    /// 0 for `*` and for patterns the tree does not know, 1 for an area, 2 for a permission.
    pub depth: u8,
    pub holding: Holding,
}

/// The first segment of a permission: its area (`sales` of `sales.refund`).
fn area(permission: &str) -> &str {
    permission.split('.').next().unwrap_or(permission)
}

/// The areas of [`KNOWN_PERMISSIONS`], in order, as wildcards.
fn areas() -> Vec<String> {
    let mut areas: Vec<String> = Vec::new();
    for permission in KNOWN_PERMISSIONS {
        let wildcard = format!("{}.*", area(permission));
        if !areas.contains(&wildcard) {
            areas.push(wildcard);
        }
    }
    areas
}

/// What a wildcard stands for one level down: `*` for the areas, `sales.*` for the known
/// permissions under it.
fn children(pattern: &str) -> Vec<String> {
    if pattern == "*" {
        return areas();
    }
    if pattern.ends_with(".*") {
        let grant = Grant::new(pattern);
        return KNOWN_PERMISSIONS
            .iter()
            .filter(|p| grant.covers(p))
            .map(|p| (*p).to_owned())
            .collect();
    }
    Vec::new()
}

fn holding(role: &Role, pattern: &str) -> Holding {
    if role.grants.iter().any(|g| g.as_str() == pattern) {
        Holding::Granted
    } else if role.grants.iter().any(|g| g.covers(pattern)) {
        Holding::Covered
    } else {
        Holding::Off
    }
}

/// The permission tree of `role`: everything, each area, each known permission, then the
/// patterns the role grants that the tree does not know.
pub fn permission_tree(role: &Role) -> Vec<TreeRow> {
    let row = |pattern: &str, depth: u8| TreeRow {
        pattern: pattern.to_owned(),
        depth,
        holding: holding(role, pattern),
    };
    let mut rows = vec![row("*", 0)];
    for area_pattern in areas() {
        rows.push(row(&area_pattern, 1));
        rows.extend(children(&area_pattern).iter().map(|p| row(p, 2)));
    }
    let extras: Vec<TreeRow> = role
        .grants
        .iter()
        .filter(|g| !rows.iter().any(|r| r.pattern == g.as_str()))
        .map(|g| row(g.as_str(), 0))
        .collect();
    rows.extend(extras);
    rows
}

/// Ticks or unticks `pattern` for `role`. Unticking a permission a wider pattern grants
/// replaces that pattern by what it stands for, less `pattern`; ticking a pattern drops the
/// grants it now covers.
pub fn toggle(role: &mut Role, pattern: &str) {
    if holding(role, pattern) == Holding::Off {
        let grant = Grant::new(pattern);
        role.grants.retain(|g| !grant.covers(g.as_str()));
        role.grants.push(grant);
        return;
    }
    // Each pass takes away one grant covering `pattern`: those there were, and at most one
    // opened wildcard per level of `pattern`.
    let passes_max = role.grants.len() + pattern.split('.').count() + 1;
    for _ in 0..passes_max {
        let Some(index) = role.grants.iter().position(|g| g.covers(pattern)) else {
            return;
        };
        let wider = role.grants.remove(index);
        if wider.as_str() == pattern {
            continue;
        }
        for child in children(wider.as_str()) {
            if holding(role, &child) == Holding::Off {
                role.grants.push(Grant::new(&child));
            }
        }
    }
}

/// A pattern as typed: dotted lower-case words, the last one may be `*`.
pub fn check_pattern(text: &str) -> Result<String> {
    let pattern = text.trim().to_lowercase();
    let words: Vec<&str> = pattern.split('.').collect();
    let well_formed = words.iter().enumerate().all(|(i, word)| {
        (*word == "*" && i == words.len() - 1)
            || (!word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    });
    if pattern.is_empty() || !well_formed {
        return Err(BackOfficeError::Input(format!(
            "“{}” is not a permission; write it like sales.refund or sales.*",
            text.trim()
        )));
    }
    Ok(pattern)
}

/// A PIN as typed, twice: 4 to 8 digits, the same both times.
fn check_pin(pin: &str, again: &str) -> Result<String> {
    let pin = pin.trim();
    if !(PIN_DIGITS_MIN..=PIN_DIGITS_MAX).contains(&pin.len())
        || !pin.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(BackOfficeError::Input(format!(
            "a PIN has {PIN_DIGITS_MIN} to {PIN_DIGITS_MAX} digits; choose another"
        )));
    }
    if pin != again.trim() {
        return Err(BackOfficeError::Input(
            "the two PINs are not the same; type the new PIN twice".to_owned(),
        ));
    }
    Ok(pin.to_owned())
}

/// An override as the log shows it, with names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverrideLine {
    pub at: Timestamp,
    pub permission: String,
    pub requested_by: String,
    pub approved_by: String,
}

impl<B: Books> BackOffice<B> {
    /// Everyone on the staff list and every role.
    pub fn staff(&self) -> Result<Staff> {
        self.allow(permission::PEOPLE_VIEW)?;
        Ok(self.books().staff()?)
    }

    /// Records `events` that change the staff list from `before` to `after`, once
    /// `pos-core` finds that the change leaves its author and the store an administrator.
    fn change_staff(
        &mut self,
        needed: &str,
        before: &Staff,
        after: &Staff,
        events: &[DomainEvent],
    ) -> Result<()> {
        let by = self.allow(needed)?;
        before.check_change(after, &by, needed)?;
        self.record(&by, events)
    }

    /// Adds a person with a role and a PIN (typed twice): a user-saved and a PIN-reset event.
    pub fn add_user(&mut self, name: &str, role: &RoleId, pin: &str, again: &str) -> Result<User> {
        self.allow(permission::PEOPLE_EDIT)?;
        let user = User {
            id: UserId::new(self.new_id("u")),
            name: name.trim().to_owned(),
            role: role.clone(),
            active: true,
        };
        let before = self.staff()?;
        check_user(&before, &user)?;
        let pin = check_pin(pin, again)?;
        let pin_hash = hash(&pin)?;
        let mut after = before.clone();
        after.users.push(user.clone());
        self.change_staff(
            permission::PEOPLE_EDIT,
            &before,
            &after,
            &[
                DomainEvent::UserSaved(user.clone()),
                DomainEvent::PinReset {
                    user: user.id.clone(),
                    pin_hash,
                },
            ],
        )?;
        Ok(user)
    }

    /// Renames a person or gives them another role.
    pub fn save_user(&mut self, id: &UserId, name: &str, role: &RoleId) -> Result<User> {
        self.allow(permission::PEOPLE_EDIT)?;
        let before = self.staff()?;
        let mut user = known_user(&before, id)?.clone();
        user.name = name.trim().to_owned();
        user.role = role.clone();
        check_user(&before, &user)?;
        let after = with_user(&before, &user);
        self.change_staff(
            permission::PEOPLE_EDIT,
            &before,
            &after,
            &[DomainEvent::UserSaved(user.clone())],
        )?;
        Ok(user)
    }

    /// Takes a person off the till: they can no longer sign in, and their PIN is cleared.
    /// Their sales keep their name.
    pub fn retire_user(&mut self, id: &UserId) -> Result<User> {
        self.allow(permission::PEOPLE_EDIT)?;
        let before = self.staff()?;
        let mut user = known_user(&before, id)?.clone();
        if !user.active {
            return Err(BackOfficeError::Input(format!(
                "{} is retired already",
                user.name
            )));
        }
        user.active = false;
        let after = with_user(&before, &user);
        self.change_staff(
            permission::PEOPLE_EDIT,
            &before,
            &after,
            &[DomainEvent::UserSaved(user.clone())],
        )?;
        Ok(user)
    }

    /// Brings a retired person back with a new PIN (typed twice: retiring cleared the old
    /// one): a user-saved and a PIN-reset event.
    pub fn restore_user(&mut self, id: &UserId, pin: &str, again: &str) -> Result<User> {
        self.allow(permission::PEOPLE_EDIT)?;
        let before = self.staff()?;
        let mut user = known_user(&before, id)?.clone();
        if user.active {
            return Err(BackOfficeError::Input(format!(
                "{} works here already",
                user.name
            )));
        }
        let pin = check_pin(pin, again).map_err(|_| {
            BackOfficeError::Input(format!(
                "type a new PIN for {} twice (4 to 8 digits): the old one was cleared when they were retired",
                user.name
            ))
        })?;
        let pin_hash = hash(&pin)?;
        user.active = true;
        let after = with_user(&before, &user);
        self.change_staff(
            permission::PEOPLE_EDIT,
            &before,
            &after,
            &[
                DomainEvent::UserSaved(user.clone()),
                DomainEvent::PinReset {
                    user: user.id.clone(),
                    pin_hash,
                },
            ],
        )?;
        Ok(user)
    }

    /// Gives a person a new PIN, typed twice.
    pub fn reset_pin(&mut self, id: &UserId, pin: &str, again: &str) -> Result<User> {
        let by = self.allow(permission::PEOPLE_EDIT)?;
        let staff = self.staff()?;
        let user = known_user(&staff, id)?.clone();
        if !user.active {
            return Err(BackOfficeError::Input(format!(
                "{} is retired and cannot sign in; add them again instead",
                user.name
            )));
        }
        let pin = check_pin(pin, again)?;
        let pin_hash = hash(&pin)?;
        self.record(
            &by,
            &[DomainEvent::PinReset {
                user: user.id.clone(),
                pin_hash,
            }],
        )?;
        Ok(user)
    }

    /// A new role named `name` that grants nothing yet.
    pub fn blank_role(&mut self, name: &str) -> Result<Role> {
        self.allow(permission::ROLES_EDIT)?;
        let name = name.trim();
        if name.is_empty() {
            return Err(FormError::Empty("role's name").into());
        }
        let staff = self.staff()?;
        if staff
            .roles
            .iter()
            .any(|r| r.name.eq_ignore_ascii_case(name))
        {
            return Err(BackOfficeError::Input(format!(
                "there is a role called {name} already"
            )));
        }
        Ok(Role::new(&self.new_id("role"), name, &[]))
    }

    /// Saves a role with its grants: a role-saved event.
    pub fn save_role(&mut self, role: &Role) -> Result<Role> {
        self.allow(permission::ROLES_EDIT)?;
        if role.name.trim().is_empty() {
            return Err(FormError::Empty("role's name").into());
        }
        let before = self.staff()?;
        let mut after = before.clone();
        match after.roles.iter_mut().find(|r| r.id == role.id) {
            Some(stored) => *stored = role.clone(),
            None => after.roles.push(role.clone()),
        }
        self.change_staff(
            permission::ROLES_EDIT,
            &before,
            &after,
            &[DomainEvent::RoleSaved(role.clone())],
        )?;
        Ok(role.clone())
    }

    /// Manager overrides of the last [`OVERRIDE_LOG_DAYS`] days, newest first, with names.
    pub fn override_log(&self) -> Result<Vec<OverrideLine>> {
        self.allow(permission::OVERRIDES_VIEW)?;
        let since = self.now().minus_days(OVERRIDE_LOG_DAYS);
        let users = self.books().staff()?.users;
        let name = |id: &UserId| {
            users
                .iter()
                .find(|u| &u.id == id)
                .map_or_else(|| id.to_string(), |u| u.name.clone())
        };
        let overrides: Vec<Override> = self.books().overrides_since(since)?;
        Ok(overrides
            .iter()
            .rev()
            .take(LIST_ROWS as usize)
            .map(|o| OverrideLine {
                at: o.at,
                permission: o.permission.clone(),
                requested_by: name(&o.requested_by),
                approved_by: name(&o.approved_by),
            })
            .collect())
    }
}

fn hash(pin: &str) -> Result<String> {
    pos_store::pin::hash_pin(pin).map_err(|error| BackOfficeError::Input(error.to_string()))
}

fn known_user<'a>(staff: &'a Staff, id: &UserId) -> Result<&'a User> {
    staff
        .user(id)
        .ok_or_else(|| BackOfficeError::Input(format!("{id} is not on the staff list")))
}

/// A name is needed and the role must exist.
fn check_user(staff: &Staff, user: &User) -> Result<()> {
    if user.name.is_empty() {
        return Err(FormError::Empty("name").into());
    }
    if staff.role(&user.role).is_none() {
        return Err(BackOfficeError::Input(format!(
            "choose a role for {}",
            user.name
        )));
    }
    Ok(())
}

fn with_user(staff: &Staff, user: &User) -> Staff {
    let mut after = staff.clone();
    for stored in &mut after.users {
        if stored.id == user.id {
            *stored = user.clone();
        }
    }
    after
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(role: &Role) -> Vec<&str> {
        let mut grants: Vec<&str> = role.grants.iter().map(Grant::as_str).collect();
        grants.sort_unstable();
        grants
    }

    #[test]
    fn the_tree_shows_what_a_role_grants_and_how() {
        let cashier = Role::new("cashier", "Cashier", &["sales.*", "shift.open"]);
        let tree = permission_tree(&cashier);
        let find = |p: &str| tree.iter().find(|r| r.pattern == p).unwrap();
        assert_eq!(find("*").holding, Holding::Off);
        assert_eq!(find("sales.*").holding, Holding::Granted);
        assert_eq!(find("sales.refund").holding, Holding::Covered);
        assert_eq!(find("shift.open").holding, Holding::Granted);
        assert_eq!(find("shift.*").holding, Holding::Off);
        assert_eq!(find("customers.edit").depth, 2);

        let odd = Role::new("odd", "Odd", &["labels.print"]);
        let last = permission_tree(&odd).pop().unwrap();
        assert_eq!(
            (last.pattern.as_str(), last.depth, last.holding),
            ("labels.print", 0, Holding::Granted)
        );
    }

    #[test]
    fn unticking_a_covered_permission_opens_its_wildcard_and_ticking_tidies_up() {
        let mut role = Role::new("cashier", "Cashier", &["sales.*", "shift.open"]);
        toggle(&mut role, "sales.refund");
        assert!(!role.allows("sales.refund"));
        assert!(role.allows("sales.sell") && role.allows("sales.refund.to_cash"));
        assert!(!role.grants.iter().any(|g| g.as_str() == "sales.*"));

        toggle(&mut role, "sales.*");
        assert_eq!(grants(&role), ["sales.*", "shift.open"]);

        let mut everything = Role::new("root", "Root", &["*"]);
        toggle(&mut everything, "users.roles");
        assert!(!everything.allows("users.roles"));
        assert!(everything.allows("users.edit") && everything.allows("sales.void"));
        toggle(&mut everything, "shift.open");
        assert!(!everything.allows("shift.open") && everything.allows("shift.close"));
    }

    #[test]
    fn typed_patterns_and_pins_are_checked() {
        assert_eq!(check_pattern(" Labels.* ").unwrap(), "labels.*");
        assert!(check_pattern("sales..refund").is_err());
        assert!(check_pattern("*.refund").is_err());
        assert!(check_pattern("").is_err());
        assert_eq!(
            check_pin("12", "12").unwrap_err().to_string(),
            "a PIN has 4 to 8 digits; choose another"
        );
        assert!(check_pin("12a4", "12a4").is_err());
        assert!(check_pin("1234", "1243").is_err());
        assert_eq!(check_pin(" 4711 ", "4711").unwrap(), "4711");
    }
}
