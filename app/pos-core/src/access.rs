//! People and what they may do: dot-notation permissions granted to roles, tenant feature
//! switches, and manager overrides that record who approved what for whom.
//!
//! A permission is a dotted path (`sales.refund`, `sales.discount.manual`). A role grants
//! patterns: an exact path, a subtree (`sales.*` grants `sales.refund` and
//! `sales.discount.manual`) or everything (`*`). A feature switch is also a path: switching off
//! `loyalty` denies every permission under it to everyone in that tenant or store, whatever
//! their role.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::id::{RoleId, UserId};

/// What makes someone an administrator: they can change people and what roles may do. A
/// store that had one always keeps one, or nobody could ever mend a role again.
pub const ADMINISTRATION: [&str; 2] = [permission::USERS_EDIT, permission::USERS_ROLES];

/// The permissions the terminal checks. Roles may grant others; these are the ones the core
/// and the terminal ask for.
pub mod permission {
    pub const SALE: &str = "sales.sell";
    pub const DISCOUNT_MANUAL: &str = "sales.discount.manual";
    pub const DISCOUNT_ABOVE_LIMIT: &str = "sales.discount.above_limit";
    pub const LINE_REMOVE_PRINTED: &str = "sales.line.remove_printed";
    pub const VOID: &str = "sales.void";
    pub const REFUND: &str = "sales.refund";
    pub const REFUND_TO_CASH: &str = "sales.refund.to_cash";
    pub const REFUND_NO_RECEIPT: &str = "sales.refund.no_receipt";
    pub const PRICE_OVERRIDE: &str = "sales.price.override";
    pub const NO_SALE: &str = "drawer.no_sale";
    pub const LOYALTY_REDEEM: &str = "loyalty.redeem";
    pub const SHIFT_OPEN: &str = "shift.open";
    pub const SHIFT_CLOSE: &str = "shift.close";
    pub const SHIFT_CASH_MOVE: &str = "shift.cash_move";
    pub const REPORT_X: &str = "reports.x";
    pub const INVENTORY_ADJUST: &str = "inventory.adjust";
    pub const INVENTORY_COUNT: &str = "inventory.count";
    pub const INVENTORY_RECEIVE: &str = "inventory.receive";
    pub const INVENTORY_TRANSFER: &str = "inventory.transfer";
    /// Making, sending and cancelling purchase orders to vendors.
    pub const INVENTORY_ORDERS: &str = "inventory.orders";
    pub const PRODUCTS_EDIT: &str = "products.edit";
    pub const CUSTOMERS_EDIT: &str = "customers.edit";
    pub const USERS_EDIT: &str = "users.edit";
    /// Changing what a role may do.
    pub const USERS_ROLES: &str = "users.roles";
    pub const SETTINGS_EDIT: &str = "settings.edit";
    /// The store's name, address, tax number and phone, and its currency.
    pub const SETTINGS_STORE: &str = "settings.store";
    /// Tax rates, inclusive or exclusive prices, tax and cash rounding.
    pub const SETTINGS_TAX: &str = "settings.tax";
    /// What is printed above and below every receipt, and the logo.
    pub const SETTINGS_RECEIPT: &str = "settings.receipt";
    /// This terminal's printer, drawer and scanners.
    pub const SETTINGS_HARDWARE: &str = "settings.hardware";
    /// How much each role may take off without a manager.
    pub const SETTINGS_DISCOUNTS: &str = "settings.discounts";
    /// Which of the capabilities the tenant allows this store uses.
    pub const SETTINGS_FEATURES: &str = "settings.features";
    pub const FLEET_ADMIN: &str = "fleet.admin";
}

/// A granted pattern: `sales.refund`, `sales.*` or `*`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Grant(String);

impl Grant {
    pub fn new(pattern: &str) -> Grant {
        Grant(pattern.trim().to_owned())
    }

    /// True when this pattern covers `permission`.
    pub fn covers(&self, permission: &str) -> bool {
        covers(&self.0, permission)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn covers(pattern: &str, permission: &str) -> bool {
    if pattern == "*" || pattern == permission {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(prefix) => permission
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.')),
        None => false,
    }
}

/// True when `permission` lies in the subtree `path` (or is `path` itself).
fn within(path: &str, permission: &str) -> bool {
    permission == path
        || permission
            .strip_prefix(path)
            .is_some_and(|rest| rest.starts_with('.'))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    pub grants: Vec<Grant>,
}

impl Role {
    pub fn new(id: &str, name: &str, grants: &[&str]) -> Role {
        Role {
            id: RoleId::new(id),
            name: name.to_owned(),
            grants: grants.iter().map(|g| Grant::new(g)).collect(),
        }
    }

    pub fn allows(&self, permission: &str) -> bool {
        self.grants.iter().any(|g| g.covers(permission))
    }

    /// The roles a new store starts with.
    pub fn defaults() -> Vec<Role> {
        use permission::*;
        vec![
            Role::new(
                "cashier",
                "Cashier",
                &[SALE, DISCOUNT_MANUAL, LOYALTY_REDEEM, SHIFT_OPEN, REPORT_X],
            ),
            Role::new(
                "supervisor",
                "Supervisor",
                &["sales.*", "drawer.*", "loyalty.*", "shift.*", "reports.x"],
            ),
            Role::new(
                "manager",
                "Manager",
                &[
                    "sales.*",
                    "drawer.*",
                    "loyalty.*",
                    "shift.*",
                    "reports.*",
                    "inventory.*",
                    "products.*",
                    "customers.*",
                    "service.*",
                    "settings.view",
                    SETTINGS_STORE,
                    SETTINGS_TAX,
                    SETTINGS_RECEIPT,
                    SETTINGS_HARDWARE,
                ],
            ),
            Role::new(
                "admin",
                "Administrator",
                &[
                    "sales.*",
                    "drawer.*",
                    "loyalty.*",
                    "shift.*",
                    "reports.*",
                    "inventory.*",
                    "products.*",
                    "customers.*",
                    "users.*",
                    "settings.*",
                    "service.*",
                ],
            ),
            Role::new("super_admin", "Fleet super-admin", &["*"]),
        ]
    }
}

/// Feature switches: subtrees of permissions switched off for a tenant or a store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Features {
    disabled: BTreeSet<String>,
}

impl Features {
    pub fn all_enabled() -> Features {
        Features::default()
    }

    pub fn disable(mut self, feature: &str) -> Features {
        self.disabled.insert(feature.to_owned());
        self
    }

    /// The switched-off feature that covers `permission`, if any.
    pub fn blocking(&self, permission: &str) -> Option<&str> {
        self.disabled
            .iter()
            .find(|f| within(f, permission))
            .map(String::as_str)
    }

    /// Whether `feature` itself is switched off here (not a wider switch covering it).
    pub fn is_off(&self, feature: &str) -> bool {
        self.disabled.contains(feature)
    }

    /// Switches `feature` back on, as far as these switches go.
    pub fn enable(mut self, feature: &str) -> Features {
        self.disabled.remove(feature);
        self
    }

    /// The switched-off features, in order.
    pub fn switched_off(&self) -> impl Iterator<Item = &str> {
        self.disabled.iter().map(String::as_str)
    }

    /// Both sets of switches: a store can only narrow what its tenant allows.
    pub fn combined(&self, other: &Features) -> Features {
        Features {
            disabled: self.disabled.union(&other.disabled).cloned().collect(),
        }
    }
}

/// The person at the till, as far as permissions go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user: UserId,
    pub name: String,
    pub role: Role,
}

impl Actor {
    pub fn new(user: &str, name: &str, role: Role) -> Actor {
        Actor {
            user: UserId::new(user),
            name: name.to_owned(),
            role,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("{user} is not allowed to do this ({permission}); a manager can approve it")]
    Denied { user: String, permission: String },
    #[error("{approver} cannot approve this ({permission}): they lack the permission themselves")]
    ApproverLacksPermission {
        approver: String,
        permission: String,
    },
    #[error("a manager override needs a second person; {0} cannot approve their own request")]
    SelfApproval(String),
    #[error("this feature ({feature}) is switched off for this store")]
    FeatureDisabled { feature: String },
}

/// A manager's approval of an action the requester could not do alone. Recorded in the override
/// log and the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub permission: String,
    pub requested_by: UserId,
    pub approved_by: UserId,
    pub at: Timestamp,
}

/// How an action was allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authorization {
    /// The actor holds the permission.
    Granted,
    /// A second person with the permission approved it.
    Overridden(Override),
}

impl Authorization {
    pub fn override_record(&self) -> Option<&Override> {
        match self {
            Authorization::Granted => None,
            Authorization::Overridden(record) => Some(record),
        }
    }
}

/// Checks `permission` for `actor` under `features`. When the actor lacks it and an `approver`
/// is given (a manager typed their PIN), the approver must hold it and be someone else.
pub fn authorize(
    features: &Features,
    actor: &Actor,
    approver: Option<&Actor>,
    permission: &str,
    at: Timestamp,
) -> Result<Authorization, AccessError> {
    if let Some(feature) = features.blocking(permission) {
        return Err(AccessError::FeatureDisabled {
            feature: feature.to_owned(),
        });
    }
    if actor.role.allows(permission) {
        return Ok(Authorization::Granted);
    }
    let Some(approver) = approver else {
        return Err(AccessError::Denied {
            user: actor.name.clone(),
            permission: permission.to_owned(),
        });
    };
    if approver.user == actor.user {
        return Err(AccessError::SelfApproval(actor.name.clone()));
    }
    if !approver.role.allows(permission) {
        return Err(AccessError::ApproverLacksPermission {
            approver: approver.name.clone(),
            permission: permission.to_owned(),
        });
    }
    Ok(Authorization::Overridden(Override {
        permission: permission.to_owned(),
        requested_by: actor.user.clone(),
        approved_by: approver.user.clone(),
        at,
    }))
}

/// A person on the staff list: who they are, their role, and whether they still work here
/// (a retired person keeps their name on past sales but cannot sign in).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub role: RoleId,
    pub active: bool,
}

/// Why a change to people or roles is refused. Nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    #[error(
        "this would take “{permission}” away from you, and you could not undo it; ask another administrator to change your own role"
    )]
    LocksYouOut { permission: String },
    #[error("you cannot retire yourself; ask another administrator")]
    RetiresYourself,
    #[error(
        "nobody would be left who can manage people and roles ({}); give someone else the Administrator role first",
        ADMINISTRATION.join(", ")
    )]
    LastAdministrator,
}

/// Everyone on the staff list with the roles they hold: the state a change to people or
/// roles is checked on, before and after.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Staff {
    pub users: Vec<User>,
    pub roles: Vec<Role>,
}

impl Staff {
    pub fn user(&self, id: &UserId) -> Option<&User> {
        self.users.iter().find(|u| &u.id == id)
    }

    pub fn role(&self, id: &RoleId) -> Option<&Role> {
        self.roles.iter().find(|r| &r.id == id)
    }

    /// Whether `user` works here and their role grants `permission`.
    pub fn allows(&self, user: &UserId, permission: &str) -> bool {
        self.user(user)
            .is_some_and(|u| u.active && self.role(&u.role).is_some_and(|r| r.allows(permission)))
    }

    /// Active people who may change people and roles.
    pub fn administrators(&self) -> impl Iterator<Item = &User> {
        self.users
            .iter()
            .filter(|u| ADMINISTRATION.iter().all(|p| self.allows(&u.id, p)))
    }

    /// Checks that going from `self` to `after`, done by `by` under `permission`, leaves them
    /// able to do it again and leaves the store an administrator if it had one.
    pub fn check_change(
        &self,
        after: &Staff,
        by: &UserId,
        permission: &str,
    ) -> Result<(), StaffError> {
        if after.user(by).is_some_and(|u| !u.active) {
            return Err(StaffError::RetiresYourself);
        }
        if self.allows(by, permission) && !after.allows(by, permission) {
            return Err(StaffError::LocksYouOut {
                permission: permission.to_owned(),
            });
        }
        if self.administrators().next().is_some() && after.administrators().next().is_none() {
            return Err(StaffError::LastAdministrator);
        }
        Ok(())
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str) -> Role {
        Role::defaults()
            .into_iter()
            .find(|r| r.id.as_str() == name)
            .unwrap()
    }

    #[test]
    fn wildcards_cover_subtrees_only() {
        let grant = Grant::new("sales.*");
        assert!(grant.covers("sales.refund"));
        assert!(grant.covers("sales.discount.manual"));
        assert!(!grant.covers("salesforce.sync"));
        assert!(!grant.covers("inventory.adjust"));
        assert!(Grant::new("*").covers("anything.at.all"));
        assert!(!Grant::new("sales.refund").covers("sales.refund.no_receipt"));
    }

    #[test]
    fn cashier_cannot_refund_but_a_manager_can_approve_it() {
        let cashier = Actor::new("u1", "Ana", role("cashier"));
        let manager = Actor::new("u2", "Marc", role("manager"));
        let at = Timestamp::from_unix_ms(1_000);
        let features = Features::all_enabled();
        let denied = authorize(&features, &cashier, None, permission::REFUND, at).unwrap_err();
        assert_eq!(
            denied.to_string(),
            "Ana is not allowed to do this (sales.refund); a manager can approve it"
        );
        let approved =
            authorize(&features, &cashier, Some(&manager), permission::REFUND, at).unwrap();
        assert_eq!(
            approved.override_record().unwrap(),
            &Override {
                permission: "sales.refund".into(),
                requested_by: UserId::new("u1"),
                approved_by: UserId::new("u2"),
                at,
            }
        );
    }

    #[test]
    fn an_approver_needs_the_permission_and_cannot_be_the_requester() {
        let cashier = Actor::new("u1", "Ana", role("cashier"));
        let other_cashier = Actor::new("u3", "Ben", role("cashier"));
        let at = Timestamp::from_unix_ms(0);
        let features = Features::all_enabled();
        assert!(matches!(
            authorize(
                &features,
                &cashier,
                Some(&other_cashier),
                permission::VOID,
                at
            ),
            Err(AccessError::ApproverLacksPermission { .. })
        ));
        assert!(matches!(
            authorize(&features, &cashier, Some(&cashier), permission::VOID, at),
            Err(AccessError::SelfApproval(_))
        ));
    }

    #[test]
    fn a_disabled_feature_blocks_even_the_super_admin() {
        let admin = Actor::new("root", "Operator", role("super_admin"));
        let features = Features::all_enabled().disable("loyalty");
        let err = authorize(
            &features,
            &admin,
            None,
            permission::LOYALTY_REDEEM,
            Timestamp::from_unix_ms(0),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "this feature (loyalty) is switched off for this store"
        );
        assert!(
            authorize(
                &features,
                &admin,
                None,
                permission::REFUND,
                Timestamp::from_unix_ms(0)
            )
            .is_ok()
        );
    }

    fn staff() -> Staff {
        let user = |id: &str, role: &str| User {
            id: UserId::new(id),
            name: id.to_owned(),
            role: RoleId::new(role),
            active: true,
        };
        Staff {
            users: vec![user("olga", "admin"), user("marc", "manager")],
            roles: Role::defaults(),
        }
    }

    #[test]
    fn a_staff_change_keeps_an_administrator_and_cannot_lock_its_author_out() {
        let before = staff();
        let olga = UserId::new("olga");
        let mut demoted = before.clone();
        demoted.users[0].role = RoleId::new("manager");
        assert_eq!(
            before.check_change(&demoted, &olga, permission::USERS_EDIT),
            Err(StaffError::LocksYouOut {
                permission: "users.edit".into()
            })
        );
        let mut stripped = before.clone();
        stripped.roles[3].grants.retain(|g| g.as_str() != "users.*");
        assert!(matches!(
            before.check_change(&stripped, &UserId::new("root"), permission::USERS_ROLES),
            Err(StaffError::LastAdministrator)
        ));
        let mut retired = before.clone();
        retired.users[0].active = false;
        assert_eq!(
            before.check_change(&retired, &olga, permission::USERS_EDIT),
            Err(StaffError::RetiresYourself)
        );
        // Making Marc an administrator too is fine, and then Olga may step down.
        let mut promoted = before.clone();
        promoted.users[1].role = RoleId::new("admin");
        assert_eq!(
            before.check_change(&promoted, &olga, permission::USERS_EDIT),
            Ok(())
        );
        let mut handed_over = promoted.clone();
        handed_over.users[0].role = RoleId::new("manager");
        assert_eq!(
            promoted.check_change(&handed_over, &UserId::new("marc"), permission::USERS_EDIT),
            Ok(())
        );
    }
}
