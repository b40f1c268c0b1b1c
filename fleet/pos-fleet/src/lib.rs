//! The fleet server: tenants, their stores and terminals, operator and owner accounts,
//! terminal enrolment and credentials, the sync API terminals push their journals to and
//! pull catalogue, prices, settings and other terminals' stock movements from, and the
//! catalogue and price management API.
//!
//! It owns the fleet's database and its HTTP(S) listener. It must never interpret a sale
//! differently from a terminal: the domain rules come from `pos-core`, and what a pushed batch
//! means (duplicates, conflicts, high-water marks) comes from `pos-sync`'s pure functions, which
//! a terminal and a future store hub share.
//!
//! Key decision: storage sits behind one trait, [`storage::FleetStorage`], implemented on
//! SQLite ([`sqlite::SqliteStorage`]) so that one command runs a fleet with nothing else
//! installed, and on PostgreSQL ([`postgres::PostgresStorage`]) for chains that outgrow one
//! machine, chosen by a database URL ([`server::Database`]). Every write that spans rows is one
//! transaction, so a refused or failed request changes nothing.
//!
//! The owners' web dashboard ([`dashboard`]) is served by the same binary under `/ui`, each
//! store's figures on its own clock. Logins to it and to the API share one lockout
//! ([`lockout`]) against password guessing.
//! The same binary runs as a store hub ([`hub`]): terminals sync with it on the LAN and it
//! relays to the cloud fleet when the link is there.
//!
//! Digital receipts ([`receipts`]) asked for at a till are sent from here, by e-mail with the
//! PDF attached or by text message, with bounded retries whose outcome the API lists.
//!
//! Over-the-air updates ([`updates`]: bundles, rollouts and the hawkBit-shaped device API)
//! keep their own storage trait beside `FleetStorage`, on SQLite and PostgreSQL; the
//! dashboard's Updates page drives them through the operator API's functions.

pub mod api;
pub mod auth;
pub mod dashboard;
pub mod hub;
pub mod lockout;
pub mod postgres;
pub mod receipts;
pub mod server;
mod shared_records;
pub mod sqlite;
pub mod storage;
pub mod updates;
pub mod zone;
