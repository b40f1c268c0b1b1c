//! The terminal's store: one SQLCipher-encrypted SQLite database on the data partition holding
//! the catalogue, stock, customers, users, shifts, held carts and sales, plus the journal of
//! every business event, which is both the audit trail and the sync outbox.
//!
//! It owns the database file, the device secret its key is derived from, the schema and its
//! migrations. It never decides business rules (that is `pos-core`, whose values it stores
//! as given) and never talks to the network (sync reads [`Store::pending_upload`]).
//!
//! Key decision: every change goes through [`Store::record`], which appends hash-chained
//! journal entries *and* updates the read tables in the same transaction, durably committed
//! (WAL with `synchronous = FULL`): a sale is whole or absent after a power cut, and the read
//! tables can never disagree with the journal.
//!
//! # Durability
//! WAL mode with `synchronous = FULL`: SQLite syncs the WAL at every commit, so a sale that
//! [`Store::record`] returned survives a power cut. `NORMAL` would only survive a crash of the
//! program and could lose the last sales on power loss; the price of FULL is about one fsync
//! per sale (see `docs/benchmarks.md`).
//!
//! # Key
//! See [`key`]: a raw 256-bit key derived by HMAC-SHA-256 from a 32-byte device secret that
//! is made on first start in the data directory (mode 0600). Opening never overwrites a file
//! it cannot read: a wrong or missing key, a truncated or a plain file, or a newer schema is
//! a typed [`StoreError`] and the file stays as it was.
//!
//! # Journal and clock
//! [`journal`]: entries carry a ULID, the device, a hybrid logical clock time ([`hlc`], pure:
//! wall time is passed in), the actor, the event's disk form and the SHA-256 of the previous
//! entry; [`Store::verify_journal`] walks the chain. The journal is the sync outbox:
//! [`Store::pending_upload`], [`Store::acknowledge`], and [`Store::prune_acknowledged`], which
//! (like a trigger in the schema) never deletes an entry upstream has not acknowledged.
//!
//! # CSV
//! See [`csv_io`] for the product/stock column set (also in `docs/csv-format.md`).

pub mod csv_io;
pub mod error;
pub mod hlc;
pub mod inventory;
pub mod journal;
pub mod key;
pub mod migrate;
pub mod orders;
pub mod pin;
pub mod read;
pub mod sample;
mod store;
pub mod sync;

pub use error::{ErrorKind, StoreError};
pub use journal::{ChainBreak, ChainReport, JournalEntry};
pub use store::{DATABASE_FILE, Encryption, Store};
