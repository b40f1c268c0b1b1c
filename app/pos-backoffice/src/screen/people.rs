//! The people page: the staff list with a person's form, the roles with their permission
//! tree, and the override log, copied into the `People` global; its callbacks become
//! [`BackOffice`](crate::BackOffice) actions.
//!
//! A role's permissions are edited on a draft here and recorded only by "Save role", so a
//! role is never half-changed in the journal.

use pos_core::access::{Role, Staff};
use pos_core::id::{RoleId, UserId};

use slint::ComponentHandle;

use super::{BackOfficeScreen, model, text};
use crate::books::Books;
use crate::people::{Holding, check_pattern, permission_tree, toggle};
use pos_ui::{
    AppWindow as Window, OfficeChoice, OverrideRow, People, PeopleTab, PermissionRow, StaffRow,
};

/// What the page remembers between callbacks.
#[derive(Default)]
pub(super) struct Shown {
    staff: Staff,
    /// The person on the form; `None` while a new one is typed.
    person: Option<UserId>,
    /// The role chosen for the person on the form.
    person_role: Option<RoleId>,
    /// The role whose tree is shown, as edited so far, and whether it differs from the store.
    role: Option<Role>,
    role_changed: bool,
}

impl<B: Books + 'static> BackOfficeScreen<B> {
    pub(super) fn wire_people(&self, window: &Window) {
        let p = window.global::<People>();
        let screen = self.clone();
        p.on_show(move |tab| screen.show_people(tab));
        p.on_create(self.on(Self::new_person));
        p.on_save(self.on(Self::save_person));
        p.on_retire(self.on(Self::retire_person));
        p.on_restore(self.on(Self::restore_person));
        p.on_reset_pin(self.on(Self::reset_pin));
        p.on_add_pattern(self.on(Self::add_pattern));
        p.on_create_role(self.on(Self::create_role));
        p.on_save_role(self.on(Self::save_role));
        p.on_undo_role(self.on(Self::undo_role));
        let screen = self.clone();
        p.on_open(move |row| screen.open_person(row));
        let screen = self.clone();
        p.on_choose_role(move |row| screen.choose_person_role(row));
        let screen = self.clone();
        p.on_pick_role(move |row| screen.pick_role(row));
        let screen = self.clone();
        p.on_toggle(move |row| screen.toggle_permission(row));
    }

    /// The next person to sign in starts on the lists, with nobody's details on screen.
    pub(super) fn forget_customers_and_people(&self) {
        self.with_window(|w| {
            w.global::<pos_ui::Customers>()
                .set_tab(pos_ui::CustomersTab::List);
            let p = w.global::<People>();
            p.set_tab(PeopleTab::Staff);
            p.set_is_new(false);
            p.set_has_person(false);
        });
    }

    /// Opens a tab of the page with fresh figures.
    pub(super) fn show_people(&self, tab: PeopleTab) {
        self.with_window(|w| w.global::<People>().set_tab(tab));
        if tab == PeopleTab::Overrides {
            self.show_overrides();
            return;
        }
        let staff = self.inner.borrow().office.staff();
        match staff {
            Ok(staff) => {
                self.inner.borrow_mut().shown.people.staff = staff;
                self.show_staff();
                if tab == PeopleTab::Roles {
                    let role = self.current_role();
                    self.show_role(role, false);
                }
            }
            Err(error) => {
                self.inner.borrow_mut().shown.people = Shown::default();
                self.show_staff();
                self.show_role(None, false);
                self.problem(&error);
            }
        }
    }

    /// The staff list and the person on the form, from what was read last.
    fn show_staff(&self) {
        let inner = self.inner.borrow();
        let shown = &inner.shown.people;
        let role_name = |id: &RoleId| {
            shown
                .staff
                .role(id)
                .map_or_else(|| id.to_string(), |r| r.name.clone())
        };
        let rows: Vec<StaffRow> = shown
            .staff
            .users
            .iter()
            .map(|u| StaffRow {
                name: text(u.name.as_str()),
                role: text(role_name(&u.role)),
                retired: !u.active,
            })
            .collect();
        let roles: Vec<OfficeChoice> = shown
            .staff
            .roles
            .iter()
            .map(|r| OfficeChoice {
                name: text(r.name.as_str()),
                selected: shown.person_role.as_ref() == Some(&r.id),
            })
            .collect();
        let person = shown.person.as_ref().and_then(|id| shown.staff.user(id));
        self.with_window(|w| {
            let p = w.global::<People>();
            p.set_rows(model(rows));
            p.set_roles(model(roles));
            p.set_has_person(person.is_some() || p.get_is_new());
            if let Some(person) = person {
                p.set_retired(!person.active);
            }
        });
    }

    fn open_person(&self, row: i32) {
        let user = usize::try_from(row)
            .ok()
            .and_then(|i| self.inner.borrow().shown.people.staff.users.get(i).cloned());
        let Some(user) = user else {
            return;
        };
        self.say("", pos_ui::Tone::Info);
        {
            let mut inner = self.inner.borrow_mut();
            inner.shown.people.person = Some(user.id.clone());
            inner.shown.people.person_role = Some(user.role.clone());
        }
        self.with_window(|w| {
            let p = w.global::<People>();
            p.set_has_person(true);
            p.set_is_new(false);
            p.set_title(text(user.name.as_str()));
            p.set_name(text(user.name.as_str()));
            p.set_pin(text(""));
            p.set_pin_again(text(""));
        });
        self.show_staff();
    }

    fn new_person(&self) {
        let allowed = self
            .inner
            .borrow()
            .office
            .allow(crate::office::permission::PEOPLE_EDIT);
        if let Err(error) = allowed {
            self.problem(&error);
            return;
        }
        {
            let mut inner = self.inner.borrow_mut();
            inner.shown.people.person = None;
            inner.shown.people.person_role = None;
        }
        self.with_window(|w| {
            let p = w.global::<People>();
            p.set_has_person(true);
            p.set_is_new(true);
            p.set_retired(false);
            p.set_title(text("New person"));
            p.set_name(text(""));
            p.set_pin(text(""));
            p.set_pin_again(text(""));
        });
        self.show_staff();
    }

    fn choose_person_role(&self, row: i32) {
        let role = usize::try_from(row).ok().and_then(|i| {
            self.inner
                .borrow()
                .shown
                .people
                .staff
                .roles
                .get(i)
                .map(|r| r.id.clone())
        });
        self.inner.borrow_mut().shown.people.person_role = role;
        self.show_staff();
    }

    /// The typed name and PINs, emptying the PIN fields: a PIN stays on screen no longer
    /// than it takes to use it.
    fn person_fields(&self) -> Option<(String, String, String)> {
        let window = self.window.upgrade()?;
        let p = window.global::<People>();
        let fields = (
            p.get_name().to_string(),
            p.get_pin().to_string(),
            p.get_pin_again().to_string(),
        );
        p.set_pin(text(""));
        p.set_pin_again(text(""));
        Some(fields)
    }

    fn save_person(&self) {
        let Some((name, pin, again)) = self.person_fields() else {
            return;
        };
        let (person, role) = {
            let inner = self.inner.borrow();
            (
                inner.shown.people.person.clone(),
                inner.shown.people.person_role.clone(),
            )
        };
        let role = role.unwrap_or_else(|| RoleId::new(""));
        let saved = {
            let mut inner = self.inner.borrow_mut();
            match &person {
                Some(id) => inner.office.save_user(id, &name, &role),
                None => inner.office.add_user(&name, &role, &pin, &again),
            }
        };
        match saved {
            Ok(user) => {
                let message = if person.is_some() {
                    format!("{} is saved", user.name)
                } else {
                    format!("{} is added and can sign in with their PIN", user.name)
                };
                self.inner.borrow_mut().shown.people.person = Some(user.id.clone());
                self.with_window(|w| {
                    let p = w.global::<People>();
                    p.set_is_new(false);
                    p.set_title(text(user.name.as_str()));
                });
                self.show_people(PeopleTab::Staff);
                self.done(&message);
            }
            Err(error) => self.problem(&error),
        }
    }

    fn retire_person(&self) {
        let Some(id) = self.inner.borrow().shown.people.person.clone() else {
            return;
        };
        let retired = self.inner.borrow_mut().office.retire_user(&id);
        match retired {
            Ok(user) => {
                self.show_people(PeopleTab::Staff);
                self.done(&format!(
                    "{} is retired and can no longer sign in",
                    user.name
                ));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn restore_person(&self) {
        let Some((_, pin, again)) = self.person_fields() else {
            return;
        };
        let Some(id) = self.inner.borrow().shown.people.person.clone() else {
            return;
        };
        let restored = self
            .inner
            .borrow_mut()
            .office
            .restore_user(&id, &pin, &again);
        match restored {
            Ok(user) => {
                self.show_people(PeopleTab::Staff);
                self.done(&format!(
                    "{} is back and signs in with the new PIN",
                    user.name
                ));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn reset_pin(&self) {
        let Some((_, pin, again)) = self.person_fields() else {
            return;
        };
        let Some(id) = self.inner.borrow().shown.people.person.clone() else {
            return;
        };
        let reset = self.inner.borrow_mut().office.reset_pin(&id, &pin, &again);
        match reset {
            Ok(user) => self.done(&format!(
                "{} signs in with the new PIN from now on",
                user.name
            )),
            Err(error) => self.problem(&error),
        }
    }

    // ---- Roles ------------------------------------------------------------------------------

    /// The role on the tree: the one being edited, or the first.
    fn current_role(&self) -> Option<Role> {
        let inner = self.inner.borrow();
        let shown = &inner.shown.people;
        match &shown.role {
            Some(role) if shown.role_changed => Some(role.clone()),
            Some(role) => shown.staff.role(&role.id).cloned(),
            None => shown.staff.roles.first().cloned(),
        }
    }

    /// Shows `role` on the tree (`changed` when it differs from the store).
    fn show_role(&self, role: Option<Role>, changed: bool) {
        let choices: Vec<OfficeChoice> = self
            .inner
            .borrow()
            .shown
            .people
            .staff
            .roles
            .iter()
            .map(|r| OfficeChoice {
                name: text(r.name.as_str()),
                selected: role.as_ref().is_some_and(|shown| shown.id == r.id),
            })
            .collect();
        let rows: Vec<PermissionRow> = role
            .as_ref()
            .map(permission_tree)
            .unwrap_or_default()
            .into_iter()
            .map(|row| PermissionRow {
                pattern: text(row.pattern),
                depth: i32::from(row.depth),
                holding: match row.holding {
                    Holding::Off => 0,
                    Holding::Covered => 1,
                    Holding::Granted => 2,
                },
            })
            .collect();
        self.with_window(|w| {
            let p = w.global::<People>();
            p.set_role_list(model(choices));
            p.set_role_title(text(role.as_ref().map_or("", |r| r.name.as_str())));
            p.set_role_changed(changed);
            p.set_tree(model(rows));
        });
        let mut inner = self.inner.borrow_mut();
        inner.shown.people.role = role;
        inner.shown.people.role_changed = changed;
    }

    fn pick_role(&self, row: i32) {
        let role = usize::try_from(row)
            .ok()
            .and_then(|i| self.inner.borrow().shown.people.staff.roles.get(i).cloned());
        if self.inner.borrow().shown.people.role_changed {
            self.say(
                "the changes to the last role were not saved and are dropped",
                pos_ui::Tone::Info,
            );
        } else {
            self.say("", pos_ui::Tone::Info);
        }
        self.show_role(role, false);
    }

    /// Changes the draft of the shown role with `change`, if the person may edit roles.
    fn edit_role(&self, change: impl FnOnce(&mut Role)) {
        let allowed = self
            .inner
            .borrow()
            .office
            .allow(crate::office::permission::ROLES_EDIT);
        if let Err(error) = allowed {
            self.problem(&error);
            return;
        }
        let Some(mut role) = self.inner.borrow().shown.people.role.clone() else {
            return;
        };
        change(&mut role);
        self.say("", pos_ui::Tone::Info);
        self.show_role(Some(role), true);
    }

    fn toggle_permission(&self, row: i32) {
        let pattern = {
            let inner = self.inner.borrow();
            let role = inner.shown.people.role.as_ref();
            usize::try_from(row)
                .ok()
                .and_then(|i| role.map(permission_tree).and_then(|t| t.into_iter().nth(i)))
                .map(|r| r.pattern)
        };
        if let Some(pattern) = pattern {
            self.edit_role(|role| toggle(role, &pattern));
        }
    }

    fn add_pattern(&self) {
        let typed = self
            .window
            .upgrade()
            .map(|w| w.global::<People>().get_pattern().to_string())
            .unwrap_or_default();
        match check_pattern(&typed) {
            Ok(pattern) => {
                self.with_window(|w| w.global::<People>().set_pattern(text("")));
                self.edit_role(|role| {
                    if !role.allows(&pattern) {
                        toggle(role, &pattern);
                    }
                });
            }
            Err(error) => self.problem(&error),
        }
    }

    fn create_role(&self) {
        let name = self
            .window
            .upgrade()
            .map(|w| w.global::<People>().get_new_role().to_string())
            .unwrap_or_default();
        let made = self.inner.borrow_mut().office.blank_role(&name);
        match made {
            Ok(role) => {
                self.with_window(|w| w.global::<People>().set_new_role(text("")));
                self.show_role(Some(role), true);
                self.say(
                    "tick what the new role may do, then save it",
                    pos_ui::Tone::Info,
                );
            }
            Err(error) => self.problem(&error),
        }
    }

    fn save_role(&self) {
        let Some(role) = self.inner.borrow().shown.people.role.clone() else {
            return;
        };
        let saved = self.inner.borrow_mut().office.save_role(&role);
        match saved {
            Ok(role) => {
                self.inner.borrow_mut().shown.people.role_changed = false;
                self.show_people(PeopleTab::Roles);
                self.done(&format!(
                    "{} is saved; people with it have the new permissions from their next sign-in",
                    role.name
                ));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn undo_role(&self) {
        self.inner.borrow_mut().shown.people.role_changed = false;
        let role = self.current_role();
        self.say("", pos_ui::Tone::Info);
        self.show_role(role, false);
    }

    // ---- Override log -----------------------------------------------------------------------

    fn show_overrides(&self) {
        let log = self.inner.borrow().office.override_log();
        match log {
            Ok(lines) => {
                let rows: Vec<OverrideRow> = lines
                    .iter()
                    .map(|line| OverrideRow {
                        date: text(self.local_time(line.at)),
                        permission: text(line.permission.as_str()),
                        requested: text(line.requested_by.as_str()),
                        approved: text(line.approved_by.as_str()),
                    })
                    .collect();
                self.with_window(|w| w.global::<People>().set_overrides(model(rows)));
            }
            Err(error) => {
                self.with_window(|w| w.global::<People>().set_overrides(model(Vec::new())));
                self.problem(&error);
            }
        }
    }
}
