//! Opening the store and the write path: every change goes through [`Store::record`], which
//! appends journal entries and updates the read tables in one durable transaction.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pos_core::access::{Grant, Role, User};
use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::event::{DomainEvent, sale_events};
use pos_core::held::HeldCart;
use pos_core::id::{DeviceId, UserId};
use pos_core::loyalty::{Customer, PointsMovement};
use pos_core::money::{Currency, Money};
use pos_core::quantity::{Quantity, Unit};
use pos_core::refund::Refund;
use pos_core::sale::Sale;
use pos_core::shift::{Shift, ShiftReport};
use pos_core::stock::{Batch, StockMovement};
use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};
use rust_decimal::Decimal;

use crate::error::{Result, StoreError};
use crate::hlc::{DRIFT_MS_MAX, Hlc};
use crate::journal::{self, ChainReport, JournalEntry, NewEntry};
use crate::key::{RawKey, Secrets, writable_error};
use crate::migrate::{self, MIGRATIONS};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "pos.db";
/// SQLCipher's page size (its default), used to spot a truncated file.
const PAGE_BYTES: u64 = 4096;
/// 64 MiB of page cache: the hot catalogue stays decrypted in memory.
const CACHE_KIB: i64 = 65_536;
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The terminal's store: one open connection, owned by one writer.
pub struct Store {
    pub(crate) connection: Connection,
    pub(crate) device: DeviceId,
    pub(crate) hlc: Hlc,
    data_dir: PathBuf,
    encryption: Encryption,
}

/// Whether the file is encrypted. Only benchmarks use [`Encryption::None`], to show what
/// encryption costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encryption {
    DeviceKey,
    None,
}

impl Store {
    /// Opens (or, on a new terminal, creates) the encrypted store in `data_dir`: makes the
    /// device secret on first start, decrypts, refuses a newer schema, upgrades an older one.
    /// Never creates a new database over an existing file it cannot read.
    pub fn open(data_dir: &Path, device: DeviceId) -> Result<Store> {
        Store::open_with(data_dir, device, Encryption::DeviceKey)
    }

    /// As [`Store::open`], choosing the encryption: the terminal always uses
    /// [`Encryption::DeviceKey`]; [`Encryption::None`] exists to measure what encryption costs.
    pub fn open_with(data_dir: &Path, device: DeviceId, encryption: Encryption) -> Result<Store> {
        fs::create_dir_all(data_dir)
            .map_err(|source| writable_error(&data_dir.join("."), source))?;
        probe_writable(data_dir)?;
        let path = data_dir.join(DATABASE_FILE);
        let existing = existing_file(&path, encryption)?;
        let connection = match encryption {
            Encryption::None => open_plain(&path)?,
            Encryption::DeviceKey => open_encrypted(data_dir, &path, existing)?,
        };
        if existing {
            check_not_truncated(&connection, &path)?;
        }
        let found = migrate::schema_version(&connection)?;
        let supported = migrate::latest_version();
        if found > supported {
            return Err(StoreError::SchemaTooNew { found, supported });
        }
        configure(&connection, &path)?;
        let mut connection = connection;
        migrate::apply(&mut connection, MIGRATIONS)?;
        let hlc = Hlc::resume(journal::last_hlc(&connection)?, DRIFT_MS_MAX);
        Ok(Store {
            connection,
            device,
            hlc,
            data_dir: data_dir.to_path_buf(),
            encryption,
        })
    }

    pub fn device(&self) -> &DeviceId {
        &self.device
    }

    /// Records business events: each is appended to the journal and applied to the read
    /// tables, all in one transaction that is on disk when this returns. `now` is the
    /// terminal's wall clock; the journal orders by a hybrid clock built on it.
    pub fn record(
        &mut self,
        actor: &UserId,
        now: Timestamp,
        events: &[DomainEvent],
    ) -> Result<Vec<JournalEntry>> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut head = journal::head(&transaction)?;
        let mut entries = Vec::with_capacity(events.len());
        for event in events {
            let hlc = self
                .hlc
                .tick(now)
                .map_err(|error| StoreError::Refused(error.to_string()))?;
            apply(&transaction, event)?;
            entries.push(journal::append(
                &transaction,
                &mut head,
                NewEntry {
                    device: &self.device,
                    actor,
                    hlc,
                    event,
                },
            )?);
        }
        transaction.commit()?;
        Ok(entries)
    }

    /// Records a completed sale with its stock movements, points and drawer opening.
    pub fn complete_sale(
        &mut self,
        sale: &Sale,
        movements: &[StockMovement],
    ) -> Result<Vec<JournalEntry>> {
        let cashier = sale.cashier.clone();
        self.record(&cashier, sale.at, &sale_events(sale, movements))
    }

    /// Walks the journal's hash chain.
    pub fn verify_journal(&self) -> Result<ChainReport> {
        journal::verify(&self.connection)
    }

    /// The next entries to send upstream: those after the acknowledged mark.
    pub fn pending_upload(&self, limit: u32) -> Result<Vec<JournalEntry>> {
        journal::entries_after(&self.connection, self.acknowledged_seq()?, limit)
    }

    /// The newest `count` journal entries (at most [`crate::read::LIST_ROWS_MAX`]), oldest
    /// first: what the till shows as its recent activity.
    pub fn journal_tail(&self, count: u32) -> Result<Vec<JournalEntry>> {
        let count = count.min(crate::read::LIST_ROWS_MAX);
        let newest = journal::head(&self.connection)?.next_seq - 1;
        journal::entries_after(
            &self.connection,
            newest.saturating_sub(u64::from(count)),
            count,
        )
    }

    /// Journal entries of one `kind` ("lines_voided", …) recorded at or after `since`, oldest
    /// first, at most [`crate::read::LIST_ROWS_MAX`]: what the journal alone keeps, such as
    /// voided lines for a shift's report.
    pub fn journal_events_since(&self, kind: &str, since: Timestamp) -> Result<Vec<JournalEntry>> {
        journal::entries_of_kind_since(
            &self.connection,
            kind,
            since.unix_ms(),
            crate::read::LIST_ROWS_MAX,
        )
    }

    pub fn acknowledged_seq(&self) -> Result<u64> {
        let seq: i64 = self.connection.query_row(
            "SELECT acked_seq FROM outbox WHERE singleton = 1",
            [],
            |row| row.get(0),
        )?;
        journal::to_seq(seq)
    }

    /// Upstream has stored every entry up to `seq`. The mark only moves forward and never
    /// past the newest entry.
    pub fn acknowledge(&mut self, seq: u64) -> Result<()> {
        let newest = journal::head(&self.connection)?.next_seq - 1;
        if seq > newest {
            return Err(StoreError::Refused(format!(
                "cannot acknowledge journal entry {seq}: the newest entry is {newest}"
            )));
        }
        if seq < self.acknowledged_seq()? {
            return Err(StoreError::Refused(format!(
                "journal entries up to {} are already acknowledged; the mark cannot move back to {seq}",
                self.acknowledged_seq()?
            )));
        }
        self.connection.execute(
            "UPDATE outbox SET acked_seq = ?1 WHERE singleton = 1",
            [journal::from_seq(seq)?],
        )?;
        Ok(())
    }

    /// Deletes acknowledged entries (never others), keeping the chain verifiable from the
    /// last deleted entry's hash. The newest entry always stays, so the clock resumes from it
    /// after a restart. Returns how many were deleted.
    pub fn prune_acknowledged(&mut self) -> Result<u64> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let acked: i64 = transaction.query_row(
            "SELECT min(o.acked_seq, coalesce((SELECT max(seq) FROM journal), 0) - 1) \
             FROM outbox o WHERE o.singleton = 1",
            [],
            |r| r.get(0),
        )?;
        let anchor: Option<Vec<u8>> = transaction
            .query_row("SELECT hash FROM journal WHERE seq = ?1", [acked], |r| {
                r.get(0)
            })
            .optional()?;
        let Some(anchor) = anchor else {
            return Ok(0);
        };
        let deleted = transaction.execute("DELETE FROM journal WHERE seq <= ?1", [acked])?;
        transaction.execute(
            "UPDATE outbox SET pruned_seq = ?1, pruned_hash = ?2 WHERE singleton = 1",
            params![acked, anchor],
        )?;
        transaction.commit()?;
        Ok(deleted as u64)
    }

    /// Replaces the database key with one derived from a new device secret. A power cut at
    /// any step leaves a secret that opens the database.
    pub fn rekey(&mut self) -> Result<()> {
        if self.encryption == Encryption::None {
            return Err(StoreError::Refused(
                "this store is not encrypted".to_owned(),
            ));
        }
        let secrets = Secrets::new(&self.data_dir);
        let next = secrets.prepare_next()?;
        self.connection
            .execute_batch(&format!("PRAGMA rekey = {};", next.pragma_literal()))?;
        secrets.promote_next()
    }

    /// Records a batch (lot) with its expiry date, so stock can be kept and sold per batch.
    pub fn save_batch(&mut self, batch: &Batch) -> Result<()> {
        self.connection.execute(
            "INSERT INTO batch (id, product, lot, expiry) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(id) DO UPDATE SET lot = excluded.lot, expiry = excluded.expiry",
            params![
                batch.id.as_str(),
                batch.product.as_str(),
                batch.lot,
                batch.expiry.map(|d| d.to_string())
            ],
        )?;
        Ok(())
    }
}

fn probe_writable(dir: &Path) -> Result<()> {
    let probe = dir.join(".write-probe");
    fs::write(&probe, b"").map_err(|source| writable_error(&probe, source))?;
    fs::remove_file(&probe).map_err(|source| writable_error(&probe, source))
}

/// Whether a database file with content exists. A file that is not a whole number of pages
/// was cut short; a plain SQLite file is not ours.
fn existing_file(path: &Path, encryption: Encryption) -> Result<bool> {
    let length = match fs::metadata(path) {
        Ok(metadata) => metadata.len(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => {
            return Err(StoreError::File {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if length == 0 {
        return Ok(false);
    }
    let mut header = Vec::with_capacity(SQLITE_HEADER.len());
    fs::File::open(path)
        .and_then(|file| {
            file.take(SQLITE_HEADER.len() as u64)
                .read_to_end(&mut header)
        })
        .map_err(|source| StoreError::File {
            path: path.to_path_buf(),
            source,
        })?;
    if header.as_slice() == SQLITE_HEADER && encryption == Encryption::DeviceKey {
        return Err(StoreError::NotEncrypted {
            path: path.to_path_buf(),
        });
    }
    if length % PAGE_BYTES != 0 {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: format!(
                "the file is {length} bytes, not a whole number of {PAGE_BYTES}-byte pages: it was cut short"
            ),
        });
    }
    Ok(true)
}

fn open_plain(path: &Path) -> Result<Connection> {
    Ok(Connection::open(path)?)
}

fn open_encrypted(data_dir: &Path, path: &Path, existing: bool) -> Result<Connection> {
    let secrets = Secrets::new(data_dir);
    let candidates = secrets.candidates()?;
    if candidates.is_empty() {
        if existing {
            return Err(StoreError::KeyMissing {
                path: path.to_path_buf(),
                secret: secrets.current_path(),
            });
        }
        let key = secrets.create()?;
        return keyed_connection(path, &key, OpenFlags::SQLITE_OPEN_CREATE);
    }
    for (index, (_, key)) in candidates.iter().enumerate() {
        let flags = if existing {
            OpenFlags::empty()
        } else {
            OpenFlags::SQLITE_OPEN_CREATE
        };
        let connection = keyed_connection(path, key, flags)?;
        match connection.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
            row.get::<_, i64>(0)
        }) {
            Ok(_) => {
                // The current secret opens it: a next secret is from a rekey that never
                // happened. The next secret opens it: the rekey happened, finish it.
                if index == 0 {
                    secrets.discard_next()?;
                } else {
                    secrets.promote_next()?;
                }
                return Ok(connection);
            }
            Err(error) if error.sqlite_error_code() == Some(ErrorCode::NotADatabase) => continue,
            Err(error) if error.sqlite_error_code() == Some(ErrorCode::DatabaseCorrupt) => {
                return Err(StoreError::Corrupt {
                    path: path.to_path_buf(),
                    reason: error.to_string(),
                });
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(StoreError::WrongKey {
        path: path.to_path_buf(),
    })
}

fn keyed_connection(path: &Path, key: &RawKey, create: OpenFlags) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI
        | create;
    let connection = Connection::open_with_flags(path, flags)?;
    // A wrong key is an error we report ourselves; SQLCipher's own log lines on stderr would
    // only alarm whoever reads the console.
    connection.execute_batch(&format!(
        "PRAGMA cipher_log_level = NONE; PRAGMA key = {};",
        key.pragma_literal()
    ))?;
    Ok(connection)
}

/// A file shorter than its header says lost pages, unless they still sit in the WAL.
fn check_not_truncated(connection: &Connection, path: &Path) -> Result<()> {
    let page_count: i64 = connection.pragma_query_value(None, "page_count", |row| row.get(0))?;
    let page_count = u64::try_from(page_count).unwrap_or(0);
    let length = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_bytes = fs::metadata(PathBuf::from(wal))
        .map(|m| m.len())
        .unwrap_or(0);
    if wal_bytes == 0 && length < page_count * PAGE_BYTES {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: format!(
                "the file is {length} bytes but holds {page_count} pages ({} bytes): it was cut short",
                page_count * PAGE_BYTES
            ),
        });
    }
    Ok(())
}

/// Durability: WAL with `synchronous = FULL` syncs the WAL on every commit, so a sale that
/// `record` returned survives a power cut (NORMAL would only survive a crash of the
/// program). Measured cost: about one fsync per sale.
fn configure(connection: &Connection, path: &Path) -> Result<()> {
    let mode: String = connection
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(|error| match error.sqlite_error_code() {
            Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen) => StoreError::ReadOnly {
                path: path.parent().unwrap_or(path).to_path_buf(),
                reason: error.to_string(),
            },
            _ => error.into(),
        })?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Refused(format!(
            "the store could not switch to write-ahead logging (journal mode {mode})"
        )));
    }
    connection.execute_batch(&format!(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -{CACHE_KIB};
         PRAGMA busy_timeout = 5000;"
    ))?;
    Ok(())
}

// ---- Domain values to rows ------------------------------------------------------------------

pub(crate) fn money_text(money: &Money) -> String {
    money.amount().to_string()
}

pub(crate) fn money_from(text: &str, currency: &str) -> Result<Money> {
    let currency =
        Currency::from_code(currency).map_err(|error| StoreError::Decode(error.to_string()))?;
    Ok(Money::new(decimal_from(text)?, currency))
}

pub(crate) fn decimal_from(text: &str) -> Result<Decimal> {
    Decimal::from_str(text).map_err(|_| StoreError::Decode(format!("`{text}` is not a number")))
}

/// A stored quantity: signed, at most three decimals (the rule for weights, which also
/// holds for whole pieces).
pub(crate) fn quantity_from(text: &str) -> Result<Quantity> {
    Quantity::of(decimal_from(text)?, Unit::Kilogram)
        .map_err(|error| StoreError::Decode(error.to_string()))
}

pub(crate) fn unit_text(unit: Unit) -> &'static str {
    match unit {
        Unit::Piece => "piece",
        Unit::Kilogram => "kilogram",
        Unit::Pound => "pound",
    }
}

pub(crate) fn unit_from(text: &str) -> Option<Unit> {
    match text {
        "piece" => Some(Unit::Piece),
        "kilogram" => Some(Unit::Kilogram),
        "pound" => Some(Unit::Pound),
        _ => None,
    }
}

fn is_constraint(error: &rusqlite::Error) -> bool {
    error.sqlite_error_code() == Some(ErrorCode::ConstraintViolation)
}

/// Applies one event to the read tables, inside the caller's transaction.
fn apply(transaction: &Transaction<'_>, event: &DomainEvent) -> Result<()> {
    match event {
        DomainEvent::SaleCompleted(sale) => insert_sale(transaction, sale),
        DomainEvent::RefundIssued(refund) => insert_refund(transaction, refund),
        DomainEvent::StockMoved(movement) => insert_movement(transaction, movement),
        DomainEvent::CartHeld(held) => insert_held(transaction, held),
        DomainEvent::CartResumed { id, .. } => {
            let removed =
                transaction.execute("DELETE FROM held_cart WHERE id = ?1", [id.as_str()])?;
            if removed == 0 {
                return Err(StoreError::Refused(format!(
                    "held cart {id} is not here: it was already resumed or never held"
                )));
            }
            Ok(())
        }
        DomainEvent::ShiftOpened(shift) => {
            transaction
                .execute(
                    "INSERT INTO shift (id, device, opened_by, opened_at, record) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        shift.id.as_str(),
                        shift.device.as_str(),
                        shift.opened_by.as_str(),
                        shift.opened_at.unix_ms(),
                        serde_json::to_string(shift)?
                    ],
                )
                .map_err(|error| refuse_constraint(error, format!("shift {} is already open", shift.id)))?;
            Ok(())
        }
        DomainEvent::CashMoved { shift, movement } => {
            let mut stored = load_shift(transaction, shift.as_str())?;
            stored.cash_movements.push(movement.clone());
            save_shift(transaction, &stored, None)
        }
        DomainEvent::ShiftClosed { shift, report } => save_shift(transaction, shift, Some(report)),
        DomainEvent::ProductSaved(product) => upsert_product(transaction, product),
        DomainEvent::PriceChanged { product, new, .. } => {
            let changed = transaction.execute(
                "UPDATE product SET price = ?2, currency = ?3 WHERE id = ?1",
                params![product.as_str(), money_text(new), new.currency().code()],
            )?;
            if changed == 0 {
                return Err(StoreError::Refused(format!(
                    "product {product} is not in the catalogue"
                )));
            }
            Ok(())
        }
        DomainEvent::CustomerSaved(customer) => upsert_customer(transaction, customer),
        DomainEvent::PointsMoved(movement) => insert_points(transaction, movement),
        // Kept in the journal only: the audit trail is where voids, approvals and drawer
        // openings are read from, and the fleet sends requested receipts from the synced journal.
        DomainEvent::RoleSaved(role) => upsert_role(transaction, role),
        DomainEvent::UserSaved(user) => upsert_user(transaction, user),
        DomainEvent::PinReset { user, pin_hash } => {
            let changed = transaction.execute(
                "UPDATE user SET pin_hash = ?2 WHERE id = ?1 AND active",
                params![user.as_str(), pin_hash],
            )?;
            if changed == 0 {
                return Err(StoreError::Refused(format!(
                    "{user} is not on the staff list, or was retired"
                )));
            }
            Ok(())
        }
        DomainEvent::LoyaltyProgramSaved(program) => {
            transaction.execute(
                "INSERT INTO setting (key, value) VALUES (?1, ?2) \
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![
                    crate::read::LOYALTY_SETTING,
                    serde_json::to_string(program)?
                ],
            )?;
            Ok(())
        }
        DomainEvent::LabelLayoutSaved { id, name, layout } => transaction
            .execute(
                "INSERT INTO label_layout (id, name, layout) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(id) DO UPDATE SET name = excluded.name, layout = excluded.layout",
                params![id.as_str(), name, layout],
            )
            .map(|_| ())
            .map_err(|error| {
                refuse_constraint(
                    error,
                    format!("another label layout is called “{name}”; choose another name"),
                )
            }),
        DomainEvent::LabelLayoutDeleted { id } => {
            let removed =
                transaction.execute("DELETE FROM label_layout WHERE id = ?1", [id.as_str()])?;
            if removed == 0 {
                return Err(StoreError::Refused(format!(
                    "label layout {id} is not here: it was already deleted"
                )));
            }
            Ok(())
        }
        DomainEvent::PurchaseOrderSaved(order) => crate::orders::save_order(transaction, order),
        DomainEvent::GoodsReceived(receipt) => {
            crate::orders::save_receipt(transaction, receipt, crate::orders::Pulled::No).map(|_| ())
        }
        DomainEvent::TransferRequested(transfer)
        | DomainEvent::TransferSent(transfer)
        | DomainEvent::TransferReceived(transfer)
        | DomainEvent::TransferCancelled(transfer)
        | DomainEvent::TransferRefused(transfer)
        | DomainEvent::TransferReturnSent(transfer)
        | DomainEvent::TransferReturnReceived(transfer) => {
            crate::orders::save_transfer(transaction, transfer).map(|_| ())
        }
        DomainEvent::StoreSettingsSaved(shop) => {
            transaction.execute(
                "INSERT INTO setting (key, value) VALUES (?1, ?2) \
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![crate::read::STORE_SETTING, serde_json::to_string(shop)?],
            )?;
            for rate in shop.taxes.rates() {
                transaction.execute(
                    "INSERT INTO tax_rate (id, name, rate) VALUES (?1, ?2, ?3) \
                     ON CONFLICT(id) DO UPDATE SET name = excluded.name, rate = excluded.rate",
                    params![rate.id.as_str(), rate.name, rate.rate.to_string()],
                )?;
            }
            Ok(())
        }
        DomainEvent::LinesVoided(_)
        | DomainEvent::OverrideApproved(_)
        | DomainEvent::DrawerOpened(_)
        | DomainEvent::ReceiptRequested { .. } => Ok(()),
    }
}

fn refuse_constraint(error: rusqlite::Error, message: String) -> StoreError {
    if is_constraint(&error) {
        StoreError::Refused(message)
    } else {
        error.into()
    }
}

fn insert_sale(transaction: &Transaction<'_>, sale: &Sale) -> Result<()> {
    let exists: Option<i64> = transaction
        .prepare_cached("SELECT 1 FROM sale WHERE id = ?1")?
        .query_row([sale.id.as_str()], |row| row.get(0))
        .optional()?;
    if exists.is_some() {
        return Err(StoreError::DuplicateSale(sale.id.to_string()));
    }
    let customer = sale.loyalty.as_ref().map(|l| l.customer.id.as_str());
    transaction
        .prepare_cached(
            "INSERT INTO sale (id, receipt_number, store, device, cashier, shift, at_ms, currency, \
             total, tax, record, customer) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            sale.id.as_str(),
            sale.receipt_number.as_str(),
            sale.store.as_str(),
            sale.device.as_str(),
            sale.cashier.as_str(),
            sale.shift.as_ref().map(|s| s.as_str()),
            sale.at.unix_ms(),
            sale.currency.code(),
            money_text(&sale.total),
            money_text(&sale.tax),
            serde_json::to_string(sale)?,
            customer,
        ])
        .map_err(|error| {
            if is_constraint(&error) {
                StoreError::DuplicateReceipt(sale.receipt_number.to_string())
            } else {
                error.into()
            }
        })?;
    let mut line_insert = transaction.prepare_cached(
        "INSERT INTO sale_line (sale, line_no, product, name, quantity, unit_price, amount) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for line in &sale.lines {
        line_insert.execute(params![
            sale.id.as_str(),
            line.line_no.0,
            line.product.id.as_str(),
            line.product.display_name(),
            line.quantity.value().to_string(),
            money_text(&line.unit_price),
            money_text(&line.amount),
        ])?;
    }
    let mut tender_insert = transaction.prepare_cached(
        "INSERT INTO sale_tender (sale, seq, kind, applied, received, reference) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (seq, tender) in sale.payment.tenders.iter().enumerate() {
        tender_insert.execute(params![
            sale.id.as_str(),
            i64::try_from(seq).unwrap_or(i64::MAX),
            tender.kind.name(),
            money_text(&tender.applied),
            money_text(&tender.received),
            tender.reference,
        ])?;
    }
    Ok(())
}

fn insert_refund(transaction: &Transaction<'_>, refund: &Refund) -> Result<()> {
    transaction
        .execute(
            "INSERT INTO refund (id, receipt_number, original_sale, at_ms, total, record) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                refund.id.as_str(),
                refund.receipt_number.as_str(),
                refund.original_sale.as_ref().map(|s| s.as_str()),
                refund.at.unix_ms(),
                money_text(&refund.total),
                serde_json::to_string(refund)?,
            ],
        )
        .map_err(|error| {
            refuse_constraint(error, format!("refund {} is already recorded", refund.id))
        })?;
    Ok(())
}

pub(crate) fn insert_movement(
    transaction: &Transaction<'_>,
    movement: &StockMovement,
) -> Result<()> {
    transaction
        .prepare_cached(
            "INSERT INTO stock_movement (id, product, store, batch, quantity, reason, at_ms, by_user) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            movement.id.as_str(),
            movement.product.as_str(),
            movement.store.as_str(),
            movement.batch.as_ref().map(|b| b.as_str()),
            movement.quantity.value().to_string(),
            serde_json::to_string(&movement.reason)?,
            movement.at.unix_ms(),
            movement.by.as_str(),
        ])
        .map_err(|error| {
            refuse_constraint(error, format!("stock movement {} is already recorded", movement.id))
        })?;
    let batch = movement.batch.as_ref().map_or("", |b| b.as_str());
    let current: Option<String> = transaction
        .prepare_cached(
            "SELECT quantity FROM stock_level WHERE store = ?1 AND product = ?2 AND batch = ?3",
        )?
        .query_row(
            params![movement.store.as_str(), movement.product.as_str(), batch],
            |row| row.get(0),
        )
        .optional()?;
    let level = match current {
        Some(text) => decimal_from(&text)? + movement.quantity.value(),
        None => movement.quantity.value(),
    };
    transaction
        .prepare_cached(
            "INSERT INTO stock_level (store, product, batch, quantity) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(store, product, batch) DO UPDATE SET quantity = excluded.quantity",
        )?
        .execute(params![
            movement.store.as_str(),
            movement.product.as_str(),
            batch,
            level.normalize().to_string()
        ])?;
    Ok(())
}

fn insert_held(transaction: &Transaction<'_>, held: &HeldCart) -> Result<()> {
    transaction
        .execute(
            "INSERT INTO held_cart (id, device, label, held_at, record) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                held.id.as_str(),
                held.device.as_str(),
                held.label,
                held.held_at.unix_ms(),
                serde_json::to_string(held)?
            ],
        )
        .map_err(|error| refuse_constraint(error, format!("cart {} is already held", held.id)))?;
    Ok(())
}

fn load_shift(transaction: &Transaction<'_>, id: &str) -> Result<Shift> {
    let record: Option<String> = transaction
        .query_row("SELECT record FROM shift WHERE id = ?1", [id], |row| {
            row.get(0)
        })
        .optional()?;
    let record =
        record.ok_or_else(|| StoreError::Refused(format!("shift {id} was never opened here")))?;
    Ok(serde_json::from_str(&record)?)
}

fn save_shift(
    transaction: &Transaction<'_>,
    shift: &Shift,
    report: Option<&ShiftReport>,
) -> Result<()> {
    let report = report.map(serde_json::to_string).transpose()?;
    let changed = transaction.execute(
        "UPDATE shift SET record = ?2, closed_at = ?3, report = coalesce(?4, report) WHERE id = ?1",
        params![
            shift.id.as_str(),
            serde_json::to_string(shift)?,
            shift.closing.as_ref().map(|c| c.at.unix_ms()),
            report
        ],
    )?;
    if changed == 0 {
        return Err(StoreError::Refused(format!(
            "shift {} was never opened here",
            shift.id
        )));
    }
    Ok(())
}

pub(crate) fn upsert_product(transaction: &Transaction<'_>, product: &Product) -> Result<()> {
    transaction
        .prepare_cached(
            "INSERT INTO product (id, sku, name, parent, variant, unit, currency, cost, price, \
             tax_category, category, vendor, active, low_stock_threshold) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
             ON CONFLICT(id) DO UPDATE SET sku = excluded.sku, name = excluded.name, \
             parent = excluded.parent, variant = excluded.variant, unit = excluded.unit, \
             currency = excluded.currency, cost = excluded.cost, price = excluded.price, \
             tax_category = excluded.tax_category, category = excluded.category, \
             vendor = excluded.vendor, active = excluded.active, \
             low_stock_threshold = excluded.low_stock_threshold",
        )?
        .execute(params![
            product.id.as_str(),
            product.sku.as_str(),
            product.name,
            product.parent.as_ref().map(|p| p.as_str()),
            serde_json::to_string(&product.variant)?,
            unit_text(product.unit),
            product.price.currency().code(),
            money_text(&product.cost),
            money_text(&product.price),
            product.tax_category.as_str(),
            product.category.as_ref().map(|c| c.as_str()),
            product.vendor.as_ref().map(|v| v.as_str()),
            product.active,
            product.low_stock_threshold.map(|q| q.value().to_string()),
        ])
        .map_err(|error| {
            refuse_constraint(
                error,
                format!(
                    "product {} cannot be saved: its SKU {} belongs to another product, or its parent is not in the catalogue",
                    product.id, product.sku
                ),
            )
        })?;
    transaction
        .prepare_cached("DELETE FROM barcode WHERE product = ?1")?
        .execute([product.id.as_str()])?;
    let mut insert =
        transaction.prepare_cached("INSERT INTO barcode (code, product) VALUES (?1, ?2)")?;
    for barcode in &product.barcodes {
        insert
            .execute(params![barcode.as_str(), product.id.as_str()])
            .map_err(|error| {
                refuse_constraint(
                    error,
                    format!(
                        "barcode {barcode} of {} already belongs to another product",
                        product.id
                    ),
                )
            })?;
    }
    Ok(())
}

/// A role and its grants, kept as a JSON array of patterns.
pub(crate) fn upsert_role(connection: &Connection, role: &Role) -> Result<()> {
    let grants: Vec<&str> = role.grants.iter().map(Grant::as_str).collect();
    connection.execute(
        "INSERT INTO role (id, name, grants) VALUES (?1, ?2, ?3) \
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, grants = excluded.grants",
        params![role.id.as_str(), role.name, serde_json::to_string(&grants)?],
    )?;
    Ok(())
}

/// A person as the staff list keeps them; retiring someone also clears their PIN.
fn upsert_user(transaction: &Transaction<'_>, user: &User) -> Result<()> {
    transaction
        .execute(
            "INSERT INTO user (id, name, role, active) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, role = excluded.role, \
             active = excluded.active, \
             pin_hash = CASE WHEN excluded.active THEN pin_hash END",
            params![user.id.as_str(), user.name, user.role.as_str(), user.active],
        )
        .map_err(|error| {
            refuse_constraint(
                error,
                format!("role {} does not exist; save it before the user", user.role),
            )
        })?;
    Ok(())
}

pub(crate) fn upsert_customer(transaction: &Transaction<'_>, customer: &Customer) -> Result<()> {
    transaction
        .execute(
            "INSERT INTO customer (id, name, email, phone, card) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email, \
             phone = excluded.phone, card = excluded.card",
            params![
                customer.id.as_str(),
                customer.name,
                customer.email,
                customer.phone,
                customer.card.as_ref().map(|c| c.as_str()),
            ],
        )
        .map_err(|error| {
            refuse_constraint(
                error,
                format!(
                    "loyalty card of {} belongs to another customer",
                    customer.id
                ),
            )
        })?;
    Ok(())
}

pub(crate) fn insert_points(
    transaction: &Transaction<'_>,
    movement: &PointsMovement,
) -> Result<()> {
    transaction
        .prepare_cached(
            "INSERT INTO points_movement (customer, points, reason, at_ms) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            movement.customer.as_str(),
            movement.points,
            serde_json::to_string(&movement.reason)?,
            movement.at.unix_ms(),
        ])?;
    transaction
        .prepare_cached("UPDATE customer SET points = points + ?2 WHERE id = ?1")?
        .execute(params![movement.customer.as_str(), movement.points])?;
    Ok(())
}
