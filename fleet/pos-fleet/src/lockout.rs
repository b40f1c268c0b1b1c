//! Login lockout: after too many wrong passwords for one account, or from one client address,
//! further logins there are refused for a while, whether the password is right or not, so a
//! password cannot be guessed by trying many.
//!
//! [`Lockout`] is pure (time comes in as an argument, nothing is read or written elsewhere) and
//! bounded: it tracks at most [`TRACKED_MAX`] accounts and addresses, forgetting the stalest
//! first. [`LoginGuard`] shares one between the API's and the dashboard's login handlers.
//!
//! Accounts are keyed by the e-mail as typed (normalised), whether an account has it or not,
//! so the answer does not tell which e-mails exist. The counts live in the fleet's database
//! ([`FailureRow`]s, through [`FleetStorage`]): a lock survives a restart of the fleet, and
//! several fleet processes on one database count together.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use pos_core::clock::Timestamp;

use crate::storage::{FleetStorage, StorageError};

/// Wrong passwords for one account, within [`WINDOW_MS`], that lock it.
pub const ACCOUNT_FAILURES_MAX: u32 = 5;
/// Wrong passwords from one client address that lock the address: higher than an account's,
/// as several people may log in from behind one office router.
pub const ADDRESS_FAILURES_MAX: u32 = 20;
/// Failures older than this are forgotten.
pub const WINDOW_MS: i64 = 15 * 60 * 1_000;
/// How long a lock lasts.
pub const LOCK_MS: i64 = 5 * 60 * 1_000;
/// The most accounts (and, separately, addresses) tracked at once.
pub const TRACKED_MAX: usize = 10_000;

/// What is locked, and until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locked {
    pub what: LockedWhat,
    pub until: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockedWhat {
    Account,
    Address,
}

impl Locked {
    /// Whole seconds until the lock ends, at least 1 (for `Retry-After`).
    pub fn seconds_left(&self, now: Timestamp) -> i64 {
        ((self.until.unix_ms() - now.unix_ms() + 999) / 1_000).max(1)
    }

    /// The sentence for the person at the login form.
    pub fn message(&self, now: Timestamp) -> String {
        let utc = self.until.to_utc();
        let minutes = (self.seconds_left(now) + 59) / 60;
        let whom = match self.what {
            LockedWhat::Account => "this account",
            LockedWhat::Address => "this computer's network address",
        };
        format!(
            "Too many wrong passwords for {whom}: logging in is paused until {:02}:{:02} UTC \
             (in {minutes} minute{}). Try again then, or ask your fleet operator to check the \
             account.",
            utc.hour(),
            utc.minute(),
            if minutes == 1 { "" } else { "s" }
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Failures {
    count: u32,
    /// When the first failure counted fell.
    first_ms: i64,
    last_ms: i64,
    locked_until_ms: Option<i64>,
}

impl Failures {
    fn stale(&self, now_ms: i64) -> bool {
        let lock_over = self.locked_until_ms.is_none_or(|until| until <= now_ms);
        lock_over && now_ms - self.last_ms >= WINDOW_MS
    }

    fn locked_until(&self, now_ms: i64) -> Option<i64> {
        self.locked_until_ms.filter(|until| *until > now_ms)
    }
}

/// Failure counts per key, bounded.
#[derive(Debug)]
struct Counts<K> {
    failures: HashMap<K, Failures>,
    max: u32,
}

impl<K: std::hash::Hash + Eq + Clone> Counts<K> {
    fn new(max: u32) -> Counts<K> {
        Counts {
            failures: HashMap::new(),
            max,
        }
    }

    fn locked_until(&self, key: &K, now_ms: i64) -> Option<i64> {
        self.failures.get(key)?.locked_until(now_ms)
    }

    /// Counts a failure; returns the failures counted and whether this one locked the key.
    fn fail(&mut self, key: &K, now_ms: i64) -> (u32, bool) {
        if !self.failures.contains_key(key) && self.failures.len() >= TRACKED_MAX {
            self.failures.retain(|_, f| !f.stale(now_ms));
            if self.failures.len() >= TRACKED_MAX
                && let Some(oldest) = self
                    .failures
                    .iter()
                    .filter(|(_, f)| f.locked_until(now_ms).is_none())
                    .min_by_key(|(_, f)| f.last_ms)
                    .map(|(k, _)| k.clone())
            {
                self.failures.remove(&oldest);
            }
        }
        let entry = self.failures.entry(key.clone()).or_insert(Failures {
            count: 0,
            first_ms: now_ms,
            last_ms: now_ms,
            locked_until_ms: None,
        });
        if entry.locked_until_ms.is_some_and(|until| until <= now_ms)
            || now_ms - entry.first_ms >= WINDOW_MS
        {
            // A lock served or a window passed: counting starts again.
            *entry = Failures {
                count: 0,
                first_ms: now_ms,
                last_ms: now_ms,
                locked_until_ms: None,
            };
        }
        entry.count += 1;
        entry.last_ms = now_ms;
        let locks = entry.count >= self.max && entry.locked_until_ms.is_none();
        if locks {
            entry.locked_until_ms = Some(now_ms + LOCK_MS);
        }
        (entry.count, locks)
    }

    fn forget(&mut self, key: &K) {
        self.failures.remove(key);
    }
}

/// The failures counted against one account or address, as the database keeps them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureRow {
    /// [`account_key`] or [`address_key`].
    pub key: String,
    pub count: u32,
    pub first_ms: i64,
    pub last_ms: i64,
    pub locked_until_ms: Option<i64>,
}

impl FailureRow {
    /// Whether the row can be forgotten at `now_ms`: no lock in force and no failure within
    /// [`WINDOW_MS`].
    pub fn stale(&self, now_ms: i64) -> bool {
        self.failures().stale(now_ms)
    }

    fn failures(&self) -> Failures {
        Failures {
            count: self.count,
            first_ms: self.first_ms,
            last_ms: self.last_ms,
            locked_until_ms: self.locked_until_ms,
        }
    }

    fn of(key: String, f: &Failures) -> FailureRow {
        FailureRow {
            key,
            count: f.count,
            first_ms: f.first_ms,
            last_ms: f.last_ms,
            locked_until_ms: f.locked_until_ms,
        }
    }
}

/// The key of an account's failures.
pub fn account_key(email: &str) -> String {
    format!("account:{email}")
}

/// The key of a client address's failures.
pub fn address_key(address: IpAddr) -> String {
    format!("address:{address}")
}

/// What a failed login did, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Wrong passwords for the account in the current window.
    pub account_failures: u32,
    /// This failure locked the account or the address, until then.
    pub locked: Option<Locked>,
}

/// The lockout's state. See the module documentation.
#[derive(Debug)]
pub struct Lockout {
    accounts: Counts<String>,
    addresses: Counts<IpAddr>,
}

impl Default for Lockout {
    fn default() -> Lockout {
        Lockout {
            accounts: Counts::new(ACCOUNT_FAILURES_MAX),
            addresses: Counts::new(ADDRESS_FAILURES_MAX),
        }
    }
}

impl Lockout {
    /// The counts kept in `rows` (rows of other shapes are ignored).
    pub fn from_rows(rows: &[FailureRow]) -> Lockout {
        let mut lockout = Lockout::default();
        for row in rows {
            if let Some(email) = row.key.strip_prefix("account:") {
                lockout
                    .accounts
                    .failures
                    .insert(email.to_owned(), row.failures());
            } else if let Some(address) = row
                .key
                .strip_prefix("address:")
                .and_then(|a| a.parse::<IpAddr>().ok())
            {
                lockout.addresses.failures.insert(address, row.failures());
            }
        }
        lockout
    }

    /// Every count, as rows to keep.
    pub fn rows(&self) -> Vec<FailureRow> {
        let accounts = self
            .accounts
            .failures
            .iter()
            .map(|(email, f)| FailureRow::of(account_key(email), f));
        let addresses = self
            .addresses
            .failures
            .iter()
            .map(|(address, f)| FailureRow::of(address_key(*address), f));
        accounts.chain(addresses).collect()
    }

    /// The lock a login for `email` from `address` meets at `now`, if any.
    pub fn check(&self, email: &str, address: Option<IpAddr>, now: Timestamp) -> Option<Locked> {
        let now_ms = now.unix_ms();
        let account = self
            .accounts
            .locked_until(&email.to_owned(), now_ms)
            .map(|until| (LockedWhat::Account, until));
        let address = address
            .and_then(|a| self.addresses.locked_until(&a, now_ms))
            .map(|until| (LockedWhat::Address, until));
        account
            .into_iter()
            .chain(address)
            .max_by_key(|(_, until)| *until)
            .map(|(what, until)| Locked {
                what,
                until: Timestamp::from_unix_ms(until),
            })
    }

    /// A wrong password for `email` from `address`.
    pub fn failed(&mut self, email: &str, address: Option<IpAddr>, now: Timestamp) -> Failure {
        let now_ms = now.unix_ms();
        let (account_failures, account_locked) = self.accounts.fail(&email.to_owned(), now_ms);
        let address_locked = address.is_some_and(|a| self.addresses.fail(&a, now_ms).1);
        let what = if account_locked {
            Some(LockedWhat::Account)
        } else if address_locked {
            Some(LockedWhat::Address)
        } else {
            None
        };
        Failure {
            account_failures,
            locked: what.map(|what| Locked {
                what,
                until: Timestamp::from_unix_ms(now_ms + LOCK_MS),
            }),
        }
    }

    /// A right password: the account's count starts again (the address's does not, so one
    /// known password does not clear the way for guessing others).
    pub fn succeeded(&mut self, email: &str) {
        self.accounts.forget(&email.to_owned());
    }
}

/// The login handlers' lockout over the fleet's database: each check reads the counts of the
/// account and the address, each failure writes them back, and each line goes to the fleet's
/// log (standard error) as an audit line. The mutex keeps one process's read-and-write of the
/// counts whole; methods block (call them on the blocking pool).
#[derive(Debug, Default)]
pub struct LoginGuard {
    writing: Mutex<()>,
}

fn keys(email: &str, address: Option<IpAddr>) -> Vec<String> {
    let mut keys = vec![account_key(email)];
    keys.extend(address.map(address_key));
    keys
}

impl LoginGuard {
    /// Loads the counts of `email` and `address`, lets `f` change them and, when `save`,
    /// writes them back.
    fn with<T>(
        &self,
        storage: &dyn FleetStorage,
        email: &str,
        address: Option<IpAddr>,
        now: Timestamp,
        save: bool,
        f: impl FnOnce(&mut Lockout) -> T,
    ) -> Result<T, StorageError> {
        // A panic while holding the lock leaves counts that are still counts.
        let _writing = self
            .writing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let keys = keys(email, address);
        let mut lockout = Lockout::from_rows(&storage.login_failures(&keys)?);
        let answer = f(&mut lockout);
        if save {
            storage.save_login_failures(&keys, &lockout.rows(), now)?;
        }
        Ok(answer)
    }

    pub fn check(
        &self,
        storage: &dyn FleetStorage,
        email: &str,
        address: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<Option<Locked>, StorageError> {
        let locked = self.with(storage, email, address, now, false, |l| {
            l.check(email, address, now)
        })?;
        if let Some(locked) = &locked {
            eprintln!(
                "pos-fleet audit: login refused for {email:?} from {}: {:?} locked until {}",
                address_text(address),
                locked.what,
                locked.until.to_utc()
            );
        }
        Ok(locked)
    }

    pub fn failed(
        &self,
        storage: &dyn FleetStorage,
        email: &str,
        address: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<Failure, StorageError> {
        let failure = self.with(storage, email, address, now, true, |l| {
            l.failed(email, address, now)
        })?;
        eprintln!(
            "pos-fleet audit: wrong password for {email:?} from {} ({} in a row){}",
            address_text(address),
            failure.account_failures,
            failure
                .locked
                .as_ref()
                .map_or_else(String::new, |l| format!(
                    "; {:?} locked until {}",
                    l.what,
                    l.until.to_utc()
                ))
        );
        Ok(failure)
    }

    pub fn succeeded(
        &self,
        storage: &dyn FleetStorage,
        email: &str,
        address: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        self.with(storage, email, address, now, true, |l| l.succeeded(email))?;
        eprintln!(
            "pos-fleet audit: login for {email:?} from {}",
            address_text(address)
        );
        Ok(())
    }
}

fn address_text(address: Option<IpAddr>) -> String {
    address.map_or_else(|| "an unknown address".to_owned(), |a| a.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_780_000_000_000;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_ms(T0 + ms)
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn five_wrong_passwords_lock_the_account_for_five_minutes_from_any_address() {
        let mut lockout = Lockout::default();
        for n in 0..4 {
            let failure = lockout.failed("ann@x.example", ip("10.0.0.1"), at(n * 1_000));
            assert_eq!(failure.locked, None);
            assert_eq!(lockout.check("ann@x.example", ip("10.0.0.1"), at(n)), None);
        }
        let failure = lockout.failed("ann@x.example", ip("10.0.0.1"), at(4_000));
        let locked = failure.locked.unwrap();
        assert_eq!(locked.what, LockedWhat::Account);
        assert_eq!(locked.until, at(4_000 + LOCK_MS));
        let elsewhere = lockout.check("ann@x.example", ip("10.0.0.9"), at(5_000));
        assert_eq!(elsewhere, Some(locked.clone()));
        assert!(
            locked.message(at(5_000)).contains("Try again then"),
            "{}",
            locked.message(at(5_000))
        );
        assert_eq!(locked.seconds_left(at(5_000)), LOCK_MS / 1_000 - 1);
        // Another account is not locked, and the lock ends.
        assert_eq!(
            lockout.check("bob@x.example", ip("10.0.0.1"), at(5_000)),
            None
        );
        assert_eq!(
            lockout.check("ann@x.example", ip("10.0.0.1"), at(4_000 + LOCK_MS)),
            None
        );
    }

    #[test]
    fn failures_spread_over_more_than_the_window_do_not_lock() {
        let mut lockout = Lockout::default();
        for n in 0..10 {
            let failure = lockout.failed("ann@x.example", None, at(n * WINDOW_MS / 4));
            assert_eq!(failure.locked, None, "failure {n}");
        }
    }

    #[test]
    fn a_right_password_starts_the_account_count_again() {
        let mut lockout = Lockout::default();
        for n in 0..4 {
            lockout.failed("ann@x.example", None, at(n));
        }
        lockout.succeeded("ann@x.example");
        for n in 0..4 {
            assert_eq!(
                lockout.failed("ann@x.example", None, at(10 + n)).locked,
                None
            );
        }
    }

    #[test]
    fn one_address_trying_many_accounts_is_locked() {
        let mut lockout = Lockout::default();
        for n in 0..ADDRESS_FAILURES_MAX - 1 {
            let failure = lockout.failed(&format!("guess{n}@x.example"), ip("192.0.2.7"), at(0));
            assert_eq!(failure.locked, None);
        }
        let failure = lockout.failed("last@x.example", ip("192.0.2.7"), at(0));
        assert_eq!(failure.locked.unwrap().what, LockedWhat::Address);
        let locked = lockout
            .check("someone@x.example", ip("192.0.2.7"), at(1))
            .unwrap();
        assert_eq!(locked.what, LockedWhat::Address);
        assert!(locked.message(at(1)).contains("network address"));
        assert_eq!(
            lockout.check("someone@x.example", ip("192.0.2.8"), at(1)),
            None
        );
    }

    #[test]
    fn tracking_is_bounded_and_keeps_the_locks() {
        let mut lockout = Lockout::default();
        for _ in 0..ACCOUNT_FAILURES_MAX {
            lockout.failed("locked@x.example", None, at(0));
        }
        for n in 0..TRACKED_MAX + 50 {
            lockout.failed(&format!("{n}@x.example"), None, at(1));
        }
        assert!(lockout.accounts.failures.len() <= TRACKED_MAX);
        assert!(lockout.check("locked@x.example", None, at(2)).is_some());
    }
}
