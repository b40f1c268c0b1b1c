//! What the fleet keeps, behind one trait: [`FleetStorage`]. The HTTP layer speaks only to
//! this trait; [`crate::sqlite::SqliteStorage`] and, for chains that outgrow one machine,
//! [`crate::postgres::PostgresStorage`] implement it, chosen at start-up from the database URL
//! ([`crate::server::Database`]), and the same HTTP tests run against both.
//!
//! Methods are synchronous and may block; the HTTP layer calls them on tokio's blocking pool.
//! Every method that changes several rows does so in one transaction: a push, an enrolment,
//! a catalogue edit is whole or absent.

use pos_core::access::Features;
use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::event::ReceiptDestination;
use pos_core::id::{DeviceId, EventId, ProductId, ReceiptNumber, SaleId, StoreId, TenantId};
use pos_core::money::{Currency, Money};
use pos_core::quantity::Quantity;
use pos_core::sale::Sale;
use pos_sync::ingest::BatchError;
use pos_sync::wire::{
    ChangeBody, JournalEntry, PullResponse, PushAck, PushBatch, RecordedBy, Scope, TenantStore,
};
use serde::{Deserialize, Serialize};
use time::UtcOffset;

use crate::dashboard::data::{
    FailedReceipt, Grouping, ProductSales, SalesBucket, Span, StockLevel, TenderSales,
    TerminalStatus,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRecord {
    pub id: TenantId,
    pub name: String,
    pub features: Features,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreRecord {
    pub id: StoreId,
    pub tenant: TenantId,
    pub name: String,
    pub currency: Currency,
    /// The store's fixed clock, used when it has no time zone (stores set up before zones
    /// existed) or this machine has no rules for its zone; for a store with a zone, the
    /// zone's offset when the clock was set.
    #[serde(with = "clock_text", default = "clock_text::utc")]
    pub utc_offset: UtcOffset,
    /// The store's time zone (`Europe/Zurich`): its days and hours follow the zone's summer
    /// time by the zone's rules at each instant.
    #[serde(default)]
    pub time_zone: Option<String>,
}

impl StoreRecord {
    /// The store's offset from UTC at `at`: its zone's, or its fixed one.
    pub fn offset_at(&self, at: Timestamp) -> UtcOffset {
        clock_at(self.utc_offset, self.time_zone.as_deref(), at)
    }
}

/// A store's offset from UTC at `at`, from its zone when it has one this machine knows, else
/// its fixed offset.
pub fn clock_at(utc_offset: UtcOffset, time_zone: Option<&str>, at: Timestamp) -> UtcOffset {
    time_zone
        .and_then(|zone| crate::zone::offset_at(zone, at))
        .unwrap_or(utc_offset)
}

/// A store's clock as people write it: `+02:00`, `-05:30`, `UTC`.
pub mod clock_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::UtcOffset;

    pub fn utc() -> UtcOffset {
        UtcOffset::UTC
    }

    /// `+02:00`; UTC is `+00:00`.
    pub fn format(offset: UtcOffset) -> String {
        let (h, m, _) = offset.as_hms();
        let sign = if offset.is_negative() { '-' } else { '+' };
        format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
    }

    /// `+02:00`, `-05:30`, `+2`, `UTC+01:00` or `UTC`; whole minutes, at most 14 hours either
    /// way (the offsets places use).
    pub fn parse(text: &str) -> Option<UtcOffset> {
        let text = text.trim();
        let text = text
            .strip_prefix("UTC")
            .or_else(|| text.strip_prefix("utc"))
            .unwrap_or(text);
        if text.is_empty() {
            return Some(UtcOffset::UTC);
        }
        let (sign, rest) = match text.as_bytes().first()? {
            b'+' => (1, &text[1..]),
            b'-' => (-1, &text[1..]),
            _ => return None,
        };
        let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
        let all_digits =
            |t: &str| !t.is_empty() && t.len() <= 2 && t.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(hours) || !all_digits(minutes) {
            return None;
        }
        let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
        if minutes >= 60 || hours * 60 + minutes > 14 * 60 {
            return None;
        }
        UtcOffset::from_whole_seconds(sign * (hours * 3_600 + minutes * 60)).ok()
    }

    pub fn serialize<S: Serializer>(offset: &UtcOffset, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*offset))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UtcOffset, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("{text} is not a UTC offset like +02:00"))
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn offsets_read_as_people_write_them_and_back() {
            for (text, seconds, written) in [
                ("+02:00", 7_200, "+02:00"),
                ("-05:30", -19_800, "-05:30"),
                ("UTC", 0, "+00:00"),
                ("UTC+01:00", 3_600, "+01:00"),
                ("+2", 7_200, "+02:00"),
                ("+05:45", 20_700, "+05:45"),
            ] {
                let offset = parse(text).unwrap();
                assert_eq!(offset.whole_seconds(), seconds, "{text}");
                assert_eq!(format(offset), written);
            }
            for wrong in ["02:00", "+15:00", "+02:60", "Europe/Berlin", "+1:2:3", "+"] {
                assert_eq!(parse(wrong), None, "{wrong}");
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountRole {
    /// The fleet operator: manages tenants.
    SuperAdmin,
    /// A client of the operator: manages its stores, catalogue and terminals.
    TenantOwner,
    /// Manages one store's terminals and settings.
    StoreManager,
}

impl AccountRole {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountRole::SuperAdmin => "super_admin",
            AccountRole::TenantOwner => "tenant_owner",
            AccountRole::StoreManager => "store_manager",
        }
    }

    pub fn parse(text: &str) -> Option<AccountRole> {
        match text {
            "super_admin" => Some(AccountRole::SuperAdmin),
            "tenant_owner" => Some(AccountRole::TenantOwner),
            "store_manager" => Some(AccountRole::StoreManager),
            _ => None,
        }
    }
}

/// A person who logs in to the fleet. A super-admin has no tenant; an owner has a tenant; a
/// store manager has a tenant and a store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub role: AccountRole,
    pub tenant: Option<TenantId>,
    pub store: Option<StoreId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAccount {
    pub email: String,
    pub password_hash: String,
    pub role: AccountRole,
    pub tenant: Option<TenantId>,
    pub store: Option<StoreId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalRecord {
    pub id: DeviceId,
    pub tenant: TenantId,
    pub store: StoreId,
    pub name: String,
    pub enrolled_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// Every journal entry up to here is stored.
    pub high_water_seq: u64,
    /// The store hub this terminal syncs through, for a terminal the fleet knows from the
    /// entries the hub relays (it has no credential of its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relayed_by: Option<DeviceId>,
}

/// How long after using a code the terminal that used it may ask again with its enrolment
/// key (its answer was lost on the way).
pub const ENROLMENT_RETRY_MS: i64 = 15 * 60 * 1_000;

/// The most tills one store hub may relay for: a hub naming more is refused rather than
/// filling the fleet's list of terminals.
pub const RELAYED_TERMINALS_MAX: u64 = 256;

/// Why a hub naming one till too many is refused.
pub(crate) fn too_many_relayed(hub: &TerminalRecord) -> String {
    format!(
        "{} ({}) already relays for {RELAYED_TERMINALS_MAX} tills, the most a hub may; \
         nothing of the batch was stored",
        hub.id, hub.name
    )
}

/// A terminal behind a store hub, as the fleet records it from the first entry the hub relays
/// for it: in the hub's tenant and store, enrolled when first heard of.
pub(crate) fn relayed_terminal(
    hub: &TerminalRecord,
    by: &RecordedBy,
    now: Timestamp,
) -> TerminalRecord {
    TerminalRecord {
        id: by.device.clone(),
        tenant: hub.tenant.clone(),
        store: hub.store.clone(),
        name: by.name.clone(),
        enrolled_at: now,
        revoked_at: None,
        high_water_seq: 0,
        relayed_by: Some(hub.id.clone()),
    }
}

/// What a relayed terminal has for a credential hash: text no token hashes to (a token's hash
/// is 64 hex digits), unique per terminal, so it can never sync directly.
pub(crate) fn no_credential(hub: &TerminalRecord, by: &RecordedBy) -> String {
    format!("relayed by {}: {}", hub.id, by.device)
}

/// Why a hub's batch naming a terminal that is not behind it is refused.
pub(crate) fn relayed_elsewhere(entry: &JournalEntry, hub: &TerminalRecord) -> String {
    format!(
        "entry {} names terminal {} as its recorder, but that terminal is not behind {} ({}); \
         nothing of the batch was stored",
        entry.event_id,
        entry
            .recorded_by
            .as_ref()
            .map_or_else(String::new, |by| by.device.to_string()),
        hub.id,
        hub.name
    )
}

/// A sale as the fleet lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleRow {
    pub sale: SaleId,
    pub receipt_number: String,
    pub device: DeviceId,
    pub total: Money,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockRow {
    pub product: ProductId,
    /// The sum of every movement of every terminal of the store.
    pub level: Quantity,
}

/// Something for a manager to look at: negative stock, an archived product sold, a clock
/// far ahead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnomalyRow {
    pub kind: String,
    pub detail: serde_json::Value,
    pub device: Option<DeviceId>,
    pub at: Timestamp,
}

/// A price change the fleet scheduled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceSchedule {
    pub product: ProductId,
    pub price: Money,
    pub effective_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("enrolment code not recognised: it is wrong, already used or expired")]
    EnrolmentCodeRejected,
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error("the fleet database failed: {0}")]
    Database(String),
}

/// The fleet's storage. See the module documentation.
pub trait FleetStorage: Send + Sync + 'static {
    fn create_account(&self, account: NewAccount, now: Timestamp) -> Result<Account, StorageError>;
    /// The account with this e-mail and its password hash.
    fn account_by_email(&self, email: &str) -> Result<Option<(Account, String)>, StorageError>;
    fn create_session(
        &self,
        token_hash: &str,
        account: &str,
        expires_at: Timestamp,
    ) -> Result<(), StorageError>;
    /// The account of a live session.
    fn session_account(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Account>, StorageError>;

    fn create_tenant(&self, name: &str, now: Timestamp) -> Result<TenantRecord, StorageError>;
    fn tenants(&self) -> Result<Vec<TenantRecord>, StorageError>;
    fn tenant(&self, id: &TenantId) -> Result<Option<TenantRecord>, StorageError>;
    /// Sets the tenant's feature switches and publishes them to its terminals.
    fn set_tenant_features(
        &self,
        id: &TenantId,
        features: &Features,
        now: Timestamp,
    ) -> Result<(), StorageError>;
    fn create_store(
        &self,
        tenant: &TenantId,
        name: &str,
        currency: Currency,
        utc_offset: UtcOffset,
        time_zone: Option<String>,
        now: Timestamp,
    ) -> Result<StoreRecord, StorageError>;
    /// Renames the store and tells the tenant's terminals (the transfer screen's list) and
    /// the store's own (its name setting), in one transaction.
    fn rename_store(
        &self,
        store: &StoreId,
        name: &str,
        now: Timestamp,
    ) -> Result<StoreRecord, StorageError>;
    /// Sets the store's clock (a fixed offset, or a time zone with its current offset) and
    /// counts its dashboard figures again on it, in one transaction.
    fn set_store_clock(
        &self,
        store: &StoreId,
        utc_offset: UtcOffset,
        time_zone: Option<String>,
    ) -> Result<StoreRecord, StorageError>;
    fn stores(&self, tenant: &TenantId) -> Result<Vec<StoreRecord>, StorageError>;
    fn store(&self, id: &StoreId) -> Result<Option<StoreRecord>, StorageError>;
    /// Sets a tenant-wide or store setting (last writer wins per key) and publishes it.
    fn set_setting(
        &self,
        tenant: &TenantId,
        scope: &Scope,
        key: &str,
        value: &serde_json::Value,
        now: Timestamp,
    ) -> Result<(), StorageError>;

    fn create_enrolment_code(
        &self,
        store: &StoreId,
        code_hash: &str,
        expires_at: Timestamp,
    ) -> Result<(), StorageError>;
    /// Uses up a code and creates the terminal with its credential, in one transaction.
    /// A code already used by a terminal that sent the same enrolment key (its hash,
    /// `key_hash`) within [`ENROLMENT_RETRY_MS`] gives that terminal `token_hash` as its new
    /// credential instead: its first answer was lost.
    fn redeem_enrolment_code(
        &self,
        code_hash: &str,
        name: &str,
        token_hash: &str,
        key_hash: Option<&str>,
        now: Timestamp,
    ) -> Result<TerminalRecord, StorageError>;
    fn terminal_by_token(&self, token_hash: &str) -> Result<Option<TerminalRecord>, StorageError>;
    fn terminal(&self, id: &DeviceId) -> Result<Option<TerminalRecord>, StorageError>;
    fn terminals(&self, store: &StoreId) -> Result<Vec<TerminalRecord>, StorageError>;
    fn revoke_terminal(&self, id: &DeviceId, now: Timestamp) -> Result<(), StorageError>;

    /// Takes in a terminal's batch: all of it or nothing.
    fn push(
        &self,
        terminal: &TerminalRecord,
        batch: &PushBatch,
        now: Timestamp,
    ) -> Result<PushAck, StorageError>;
    /// Changes for the terminal's store after `cursor`.
    fn pull(
        &self,
        terminal: &TerminalRecord,
        cursor: u64,
        limit: u32,
    ) -> Result<PullResponse, StorageError>;

    /// Creates or edits a product (field by field, last writer wins) and publishes the result.
    fn save_product(
        &self,
        tenant: &TenantId,
        scope: &Scope,
        product: &Product,
        now: Timestamp,
    ) -> Result<Product, StorageError>;
    fn products(&self, tenant: &TenantId, scope: &Scope) -> Result<Vec<Product>, StorageError>;
    /// Schedules a price change and publishes it; returns the schedule's id.
    fn schedule_price(
        &self,
        tenant: &TenantId,
        scope: &Scope,
        schedule: &PriceSchedule,
        now: Timestamp,
    ) -> Result<String, StorageError>;
    /// Publishes another kind of record (tax rate, staff member, role) by kind and key.
    fn save_record(
        &self,
        tenant: &TenantId,
        scope: &Scope,
        kind: RecordKind,
        key: &str,
        fields: &serde_json::Map<String, serde_json::Value>,
        now: Timestamp,
    ) -> Result<(), StorageError>;

    /// Receipts asked for at a till (`receipt_requested` journal entries) that were never
    /// tried, or whose retry is due at `now`; oldest first, at most `limit`.
    fn receipt_requests_due(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<ReceiptJob>, StorageError>;
    /// A sale of the store as its till recorded it, for its receipt.
    fn receipt_sale(&self, store: &StoreId, sale: &SaleId) -> Result<Option<Sale>, StorageError>;
    /// Records how sending a receipt went; `next_at` is when to try again (retrying only).
    fn record_receipt_delivery(
        &self,
        delivery: &ReceiptDelivery,
        next_at: Option<Timestamp>,
    ) -> Result<(), StorageError>;
    /// The store's receipt deliveries, failures included, newest first.
    fn receipt_deliveries(&self, store: &StoreId) -> Result<Vec<ReceiptDelivery>, StorageError>;

    /// The login failures counted under `keys` ([`crate::lockout`]).
    fn login_failures(
        &self,
        keys: &[String],
    ) -> Result<Vec<crate::lockout::FailureRow>, StorageError>;
    /// Replaces the counts under `keys` with `rows` and forgets every count stale at `now`,
    /// in one transaction.
    fn save_login_failures(
        &self,
        keys: &[String],
        rows: &[crate::lockout::FailureRow],
        now: Timestamp,
    ) -> Result<(), StorageError>;

    fn sales(&self, store: &StoreId) -> Result<Vec<SaleRow>, StorageError>;
    fn stock(&self, store: &StoreId) -> Result<Vec<StockRow>, StorageError>;
    fn anomalies(&self, store: &StoreId) -> Result<Vec<AnomalyRow>, StorageError>;

    // The owners' dashboard (`crate::dashboard`): logout, terminal contact, and figures read
    // from its summary tables.
    /// Ends a session (logout); an unknown token is already ended.
    fn end_session(&self, token_hash: &str) -> Result<(), StorageError>;
    /// A terminal pushed or pulled at `at`; a pull has read changes up to `pulled_to`.
    fn note_terminal_contact(
        &self,
        device: &DeviceId,
        at: Timestamp,
        pulled_to: Option<u64>,
    ) -> Result<(), StorageError>;
    /// Sales of each store over `span` on the store's own clock, added up by `grouping`.
    fn dashboard_sales(
        &self,
        stores: &[StoreId],
        span: Span,
        grouping: Grouping,
    ) -> Result<Vec<SalesBucket>, StorageError>;
    fn dashboard_tenders(
        &self,
        stores: &[StoreId],
        span: Span,
    ) -> Result<Vec<TenderSales>, StorageError>;
    fn dashboard_products(
        &self,
        stores: &[StoreId],
        span: Span,
    ) -> Result<Vec<ProductSales>, StorageError>;
    fn dashboard_stock(&self, stores: &[StoreId]) -> Result<Vec<StockLevel>, StorageError>;
    fn dashboard_terminals(&self, stores: &[StoreId]) -> Result<Vec<TerminalStatus>, StorageError>;
    /// Digital receipts the fleet gave up sending after every allowed attempt, newest first.
    fn failed_receipts(&self, stores: &[StoreId]) -> Result<Vec<FailedReceipt>, StorageError> {
        let mut failed = Vec::new();
        for store in stores {
            for delivery in self.receipt_deliveries(store)? {
                if delivery.status != DeliveryStatus::Failed {
                    continue;
                }
                let channel = match &delivery.destination {
                    ReceiptDestination::Email(_) => "e-mail",
                    ReceiptDestination::Sms(_) => "text message",
                };
                failed.push(FailedReceipt {
                    store: delivery.store,
                    device: None,
                    receipt_number: delivery.receipt.as_str().to_owned(),
                    channel: channel.to_owned(),
                    reason: delivery.last_error.unwrap_or_default(),
                    attempts: delivery.attempts,
                    at: delivery.updated_at,
                });
            }
        }
        failed.sort_by_key(|receipt| std::cmp::Reverse(receipt.at));
        Ok(failed)
    }
}

/// A receipt a till asked for, waiting to be sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptJob {
    /// The `receipt_requested` journal entry: one delivery per request.
    pub event_id: EventId,
    pub tenant: TenantId,
    pub store: StoreId,
    pub sale: SaleId,
    pub receipt: ReceiptNumber,
    pub destination: ReceiptDestination,
    /// Attempts made so far.
    pub attempts: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Sent,
    /// Failed; another attempt is scheduled.
    Retrying,
    /// Failed on every allowed attempt: for a person to look at.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryStatus> {
        match text {
            "sent" => Some(DeliveryStatus::Sent),
            "retrying" => Some(DeliveryStatus::Retrying),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// How sending one requested receipt went, as the API lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptDelivery {
    pub event_id: EventId,
    pub tenant: TenantId,
    pub store: StoreId,
    pub sale: SaleId,
    pub receipt: ReceiptNumber,
    pub destination: ReceiptDestination,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub updated_at: Timestamp,
}

/// Records published to terminals besides products and settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    TaxRate,
    Staff,
    Role,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::TaxRate => "tax_rate",
            RecordKind::Staff => "staff",
            RecordKind::Role => "role",
        }
    }
}

/// What every terminal of the tenant is sent of a store: its id and name, for the transfer
/// screen's list of stores.
pub fn store_change(store: &StoreRecord) -> ChangeBody {
    ChangeBody::TenantStore {
        store: TenantStore {
            id: store.id.clone(),
            name: store.name.clone(),
        },
    }
}

/// What the store at the other end is sent of a transfer step: the record as the step left
/// it; a cancelled or refused request (`transfer_ended`) and a return (`transfer_return`) as
/// change kinds of their own, which a terminal that does not know those states skips instead
/// of failing on them.
pub fn transfer_change(transfer: &pos_core::transfer::Transfer, event_id: EventId) -> ChangeBody {
    use pos_core::transfer::TransferState;
    let transfer = transfer.clone();
    match transfer.state {
        TransferState::Cancelled | TransferState::Refused => {
            ChangeBody::TransferEnded { event_id, transfer }
        }
        TransferState::ReturnSent | TransferState::ReturnReceived => {
            ChangeBody::TransferReturn { event_id, transfer }
        }
        TransferState::Requested | TransferState::Sent | TransferState::Received => {
            ChangeBody::Transfer { event_id, transfer }
        }
    }
}

/// The store a transfer step taken in `ours` goes to: the other end, when `ours` is one of
/// its two stores (a terminal cannot route goods between two other stores).
pub fn transfer_destination<'a>(
    transfer: &'a pos_core::transfer::Transfer,
    ours: &StoreId,
) -> Option<&'a StoreId> {
    if &transfer.from == ours {
        Some(&transfer.to)
    } else if &transfer.to == ours {
        Some(&transfer.from)
    } else {
        None
    }
}
