//! The JSON messages between a terminal and the fleet, version 1.
//!
//! Every message carries `protocol: "MAJOR.MINOR"`. Within one major version messages only
//! grow: new fields are optional and ignored by older readers, new event kinds are stored
//! verbatim by an older server, new change kinds are skipped by an older terminal. A message
//! from another major version is refused by [`decode`] with [`WireError::IncompatibleProtocol`]
//! before its body is read, so neither side ever guesses at a shape it does not know.

use std::fmt;

use pos_core::catalog::Product;
use pos_core::clock::Timestamp;
use pos_core::event::{DomainEvent, EventEnvelope};
use pos_core::id::{DeviceId, EventId, ProductId, RoleId, StoreId, UserId};
use pos_core::loyalty::{Customer, LoyaltyProgram, PointsMovement};
use pos_core::money::Money;
use pos_core::stock::StockMovement;
use pos_core::tax::TaxRate;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::hlc::HlcTime;

/// The protocol this build speaks.
pub const PROTOCOL: ProtocolVersion = ProtocolVersion { major: 1, minor: 0 };

/// `MAJOR.MINOR`; on the wire a string such as `"1.0"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProtocolVersion {
    pub major: u16,
    pub minor: u16,
}

impl ProtocolVersion {
    /// Messages of `theirs` can be read by a side speaking `self` when the majors agree.
    pub fn accepts(self, theirs: ProtocolVersion) -> Result<(), WireError> {
        if self.major == theirs.major {
            Ok(())
        } else {
            Err(WireError::IncompatibleProtocol { ours: self, theirs })
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl TryFrom<String> for ProtocolVersion {
    type Error = WireError;

    fn try_from(text: String) -> Result<ProtocolVersion, WireError> {
        let bad = || WireError::BadProtocolField(text.clone());
        let (major, minor) = text.split_once('.').ok_or_else(bad)?;
        Ok(ProtocolVersion {
            major: major.parse().map_err(|_| bad())?,
            minor: minor.parse().map_err(|_| bad())?,
        })
    }
}

impl From<ProtocolVersion> for String {
    fn from(version: ProtocolVersion) -> String {
        version.to_string()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error(
        "this device speaks sync protocol {ours} but the other side speaks {theirs}; \
         update the older one (the terminal or the fleet server) to the same major version"
    )]
    IncompatibleProtocol {
        ours: ProtocolVersion,
        theirs: ProtocolVersion,
    },
    #[error("the protocol field {0:?} is not a version like \"1.0\"")]
    BadProtocolField(String),
    #[error("the message has no protocol version")]
    MissingProtocol,
    #[error("the message is not valid JSON of the expected shape: {0}")]
    Malformed(String),
    #[error("event {event_id} says it is {kind:?} but its payload does not match: {detail}")]
    BadPayload {
        event_id: EventId,
        kind: String,
        detail: String,
    },
}

/// Reads a message: first its protocol version, then (only when compatible) its body.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    #[derive(Deserialize)]
    struct Envelope {
        protocol: Option<serde_json::Value>,
    }
    let envelope: Envelope =
        serde_json::from_slice(bytes).map_err(|e| WireError::Malformed(e.to_string()))?;
    let version = match envelope.protocol {
        Some(serde_json::Value::String(text)) => ProtocolVersion::try_from(text)?,
        Some(other) => return Err(WireError::BadProtocolField(other.to_string())),
        None => return Err(WireError::MissingProtocol),
    };
    PROTOCOL.accepts(version)?;
    serde_json::from_slice(bytes).map_err(|e| WireError::Malformed(e.to_string()))
}

/// The event kinds this protocol version knows. An entry of another kind comes from a newer
/// terminal and is kept as it came.
pub const KNOWN_EVENT_KINDS: &[&str] = &[
    "sale_completed",
    "refund_issued",
    "stock_moved",
    "lines_voided",
    "cart_held",
    "cart_resumed",
    "shift_opened",
    "cash_moved",
    "shift_closed",
    "override_approved",
    "product_saved",
    "price_changed",
    "customer_saved",
    "points_moved",
    "drawer_opened",
    "label_layout_saved",
    "label_layout_deleted",
    "purchase_order_saved",
    "goods_received",
    "transfer_requested",
    "transfer_sent",
    "transfer_received",
    "transfer_cancelled",
    "transfer_refused",
    "transfer_return_sent",
    "transfer_return_received",
    "role_saved",
    "user_saved",
    "pin_reset",
    "loyalty_program_saved",
    "store_settings_saved",
];

/// One journal event as it travels up: the terminal's outbox row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Unique across the fleet (a ULID made on the terminal): the key of idempotency.
    pub event_id: EventId,
    /// The terminal's gapless sequence number, from 1.
    pub seq: u64,
    pub hlc: HlcTime,
    pub actor: UserId,
    /// The event's stable name ([`DomainEvent::kind`]).
    pub kind: String,
    /// The event as JSON: a [`DomainEvent`] for the known kinds.
    pub payload: Payload,
    /// Set only by a store hub, on the entries it relays upstream: the terminal behind the
    /// hub that recorded the entry, so the fleet attributes it to that terminal rather than
    /// to the hub. A terminal's own entries leave it out; a fleet that does not know the field
    /// ignores it and counts the entry as the hub's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<RecordedBy>,
}

/// An entry's event as JSON text, carried as it is: the terminal sends the text its journal
/// holds and the fleet stores the text it received, so a batch is not built into a tree of
/// values, printed again and freed on each side; the fleet reads it as a [`DomainEvent`] once,
/// to check it. Two payloads are equal when they hold the same JSON value, however spelled
/// (a stored entry and the same entry resent are compared that way).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Payload(Box<serde_json::value::RawValue>);

impl Payload {
    pub fn from_event(event: &DomainEvent) -> Result<Payload, WireError> {
        serde_json::value::to_raw_value(event)
            .map(Payload)
            .map_err(|e| WireError::Malformed(e.to_string()))
    }

    /// Checks that `text` is one JSON value and keeps it as it is.
    pub fn from_json(text: String) -> Result<Payload, WireError> {
        serde_json::value::RawValue::from_string(text)
            .map(Payload)
            .map_err(|e| WireError::Malformed(e.to_string()))
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    fn value(&self) -> Option<serde_json::Value> {
        serde_json::from_str(self.as_str()).ok()
    }
}

impl From<Box<serde_json::value::RawValue>> for Payload {
    fn from(json: Box<serde_json::value::RawValue>) -> Payload {
        Payload(json)
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Payload) -> bool {
        self.as_str() == other.as_str()
            || matches!((self.value(), other.value()), (Some(a), Some(b)) if a == b)
    }
}

impl Eq for Payload {}

/// A terminal behind a store hub, as the hub knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedBy {
    /// Its id at the hub, where it enrolled.
    pub device: DeviceId,
    /// Its name at the hub ("Till 2").
    pub name: String,
}

impl JournalEntry {
    /// The outbox row for a journalled event.
    pub fn from_envelope(
        seq: u64,
        hlc: HlcTime,
        envelope: &EventEnvelope,
    ) -> Result<JournalEntry, WireError> {
        Ok(JournalEntry {
            event_id: envelope.id.clone(),
            seq,
            hlc,
            actor: envelope.actor.clone(),
            kind: envelope.event.kind().to_owned(),
            payload: Payload::from_event(&envelope.event)?,
            recorded_by: None,
        })
    }

    /// The domain event, for kinds this version knows; `None` for a newer kind.
    pub fn domain_event(&self) -> Result<Option<DomainEvent>, WireError> {
        if !KNOWN_EVENT_KINDS.contains(&self.kind.as_str()) {
            return Ok(None);
        }
        let bad = |detail: String| WireError::BadPayload {
            event_id: self.event_id.clone(),
            kind: self.kind.clone(),
            detail,
        };
        let event: DomainEvent =
            serde_json::from_str(self.payload.as_str()).map_err(|e| bad(e.to_string()))?;
        if event.kind() != self.kind {
            return Err(bad(format!("the payload is a {} event", event.kind())));
        }
        Ok(Some(event))
    }
}

/// Terminal → fleet: a batch of journal entries, in sequence order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushBatch {
    pub protocol: ProtocolVersion,
    pub device: DeviceId,
    pub entries: Vec<JournalEntry>,
}

/// Fleet → terminal: what the fleet holds of this terminal's journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushAck {
    pub protocol: ProtocolVersion,
    pub device: DeviceId,
    /// The highest sequence number up to which every entry is stored: the terminal may
    /// consider everything up to here delivered.
    pub high_water_seq: u64,
    /// Entries of this batch stored now.
    pub stored: u32,
    /// Entries of this batch the fleet already had (a resent batch).
    pub duplicates: u32,
}

/// Terminal → fleet: changes after `cursor`, at most `limit` of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub protocol: ProtocolVersion,
    pub device: DeviceId,
    pub cursor: u64,
    pub limit: u32,
}

/// Fleet → terminal: changes in the fleet's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    pub protocol: ProtocolVersion,
    pub changes: Vec<Change>,
    /// Where the next pull starts. Store it in the same transaction as the changes.
    pub next_cursor: u64,
    /// More changes wait after `next_cursor`: pull again now.
    pub more: bool,
}

/// Where a catalogue or settings record applies: every store of the tenant, or one store.
/// A store's own record wins over the tenant-wide one for that store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "level", content = "store")]
pub enum Scope {
    Tenant,
    Store(StoreId),
}

/// A cashier or manager as the terminal needs them: who they are, their role and the hash of
/// their PIN (never the PIN).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: UserId,
    pub name: String,
    pub role: RoleId,
    pub pin_hash: Option<String>,
    pub active: bool,
}

/// A store of the tenant, as every terminal of the tenant knows it: where goods can be asked
/// for or sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantStore {
    pub id: StoreId,
    pub name: String,
}

/// One change for a terminal's store, in the fleet's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The fleet's sequence number: cursors are made of these.
    pub server_seq: u64,
    /// When the fleet decided this record's value, for last-writer-wins on the terminal.
    pub hlc: HlcTime,
    #[serde(deserialize_with = "change_body_or_unknown")]
    pub body: ChangeBody,
}

/// The change kinds this protocol version knows.
const KNOWN_CHANGE_KINDS: &[&str] = &[
    "product",
    "price_scheduled",
    "tax_rate",
    "staff",
    "role",
    "setting",
    "customer",
    "points_moved",
    "stock_moved",
    "transfer",
    "transfer_ended",
    "goods_received",
    "pin_reset",
    "loyalty_program",
    "tenant_features",
    "tenant_store",
    "transfer_return",
];

/// A change of a kind this version does not know (from a newer fleet) reads as
/// [`ChangeBody::Unknown`]; a known kind that does not parse is still an error.
fn change_body_or_unknown<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<ChangeBody, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    let known = value
        .get("type")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|kind| KNOWN_CHANGE_KINDS.contains(&kind));
    if !known {
        return Ok(ChangeBody::Unknown);
    }
    ChangeBody::deserialize(value).map_err(serde::de::Error::custom)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ChangeBody {
    /// The whole product as the fleet now holds it (archived products have `active: false`).
    Product {
        scope: Scope,
        product: Product,
    },
    /// A price that takes effect at `effective_at` (now or later).
    PriceScheduled {
        scope: Scope,
        schedule_id: String,
        product: ProductId,
        price: Money,
        effective_at: Timestamp,
    },
    TaxRate {
        scope: Scope,
        rate: TaxRate,
    },
    Staff {
        member: StaffMember,
    },
    Role {
        role: pos_core::access::Role,
    },
    /// A person's new PIN (its argon2id hash), for a person the fleet knows only by the PIN
    /// resets terminals sent: a person it knows whole travels as [`ChangeBody::Staff`].
    PinReset {
        user: UserId,
        pin_hash: String,
    },
    /// The loyalty programme as a manager last saved it (tiers, earn rates, point value).
    LoyaltyProgram {
        program: LoyaltyProgram,
    },
    /// A setting (store name, currency, receipt header…) by key.
    Setting {
        scope: Scope,
        key: String,
        value: serde_json::Value,
    },
    Customer {
        customer: Customer,
    },
    PointsMoved {
        event_id: EventId,
        movement: PointsMovement,
    },
    /// A stock movement recorded on another terminal of the store.
    StockMoved {
        event_id: EventId,
        device: DeviceId,
        movement: StockMovement,
    },
    /// A step of a transfer between two stores, taken by the other store: the fleet routes
    /// it to the store on the other end.
    Transfer {
        event_id: EventId,
        transfer: pos_core::transfer::Transfer,
    },
    /// A request cancelled or refused by the other store, routed like [`ChangeBody::Transfer`].
    /// A kind of its own because the record's state (`cancelled`, `refused`) is new: a
    /// terminal that does not know it skips the change and keeps the request open, rather
    /// than failing on a state it cannot read.
    TransferEnded {
        event_id: EventId,
        transfer: pos_core::transfer::Transfer,
    },
    /// Goods taken in on another terminal of the store, with their lots and expiry dates.
    GoodsReceived {
        event_id: EventId,
        receipt: pos_core::purchase::GoodsReceipt,
    },
    /// A transfer whose receiving store refused part of it (`return_sent`), or whose sending
    /// store booked the refused goods back in (`return_received`), routed like
    /// [`ChangeBody::Transfer`]. A kind of its own for the same reason as
    /// [`ChangeBody::TransferEnded`]: its states are new.
    TransferReturn {
        event_id: EventId,
        transfer: pos_core::transfer::Transfer,
    },
    /// The feature switches the fleet operator set for the whole tenant: what every store
    /// may switch on at most. Its own kind, not a [`ChangeBody::Setting`], so no setting a
    /// tenant's owner may write can pass for it.
    TenantFeatures {
        features: pos_core::access::Features,
    },
    /// A store of the tenant, new or renamed: sent to every terminal of the tenant.
    TenantStore {
        store: TenantStore,
    },
    /// A kind of change from a newer fleet: skip it. Never sent.
    #[serde(skip_serializing)]
    Unknown,
}

/// What is wrong, for a program to react to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MalformedRequest,
    BodyTooLarge,
    Unauthenticated,
    CredentialRevoked,
    Forbidden,
    NotFound,
    Conflict,
    InvalidBatch,
    ProtocolIncompatible,
    Internal,
    #[serde(other)]
    Unknown,
}

/// Every refusal, from either API, in one shape: a code and a sentence for a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

/// Terminal → fleet: a one-time enrolment code exchanged for the terminal's credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub protocol: ProtocolVersion,
    pub code: String,
    /// How the terminal calls itself (a label for the operator: "Till 2").
    pub name: String,
    /// A random key the terminal made for this enrolment and sends again when it retries
    /// after losing the answer: the fleet then hands the same terminal its credential again
    /// (a fresh token) for a short while, instead of refusing the used code. An older fleet
    /// ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolment_key: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub protocol: ProtocolVersion,
    pub device: DeviceId,
    pub tenant: pos_core::id::TenantId,
    pub store: StoreId,
    /// The store's name as the fleet lists it, so a terminal set up without typing one
    /// shows it in its header and on receipts. Absent from fleets before it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_name: Option<String>,
    /// The bearer token for every later request. Shown once; the fleet keeps only its hash.
    pub token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_travels_as_a_string() {
        let text = serde_json::to_string(&PROTOCOL).unwrap();
        assert_eq!(text, "\"1.0\"");
        let back: ProtocolVersion = serde_json::from_str("\"1.7\"").unwrap();
        assert_eq!(back, ProtocolVersion { major: 1, minor: 7 });
    }

    #[test]
    fn a_newer_minor_with_extra_fields_is_read() {
        let json = br#"{"protocol":"1.4","device":"T1","cursor":7,"limit":50,"since_hint":"x"}"#;
        let request: PullRequest = decode(json).unwrap();
        assert_eq!(request.cursor, 7);
    }

    #[test]
    fn another_major_is_refused_before_the_body_is_read() {
        // The body is of an unknown shape: the version check must speak first.
        let json = br#"{"protocol":"2.0","whatever":[1,2,3]}"#;
        let err = decode::<PullRequest>(json).unwrap_err();
        assert_eq!(
            err.to_string(),
            "this device speaks sync protocol 1.0 but the other side speaks 2.0; \
             update the older one (the terminal or the fleet server) to the same major version"
        );
    }

    #[test]
    fn a_message_without_a_version_or_with_a_bad_one_is_refused() {
        assert_eq!(
            decode::<PullRequest>(br#"{"device":"T1","cursor":0,"limit":1}"#),
            Err(WireError::MissingProtocol)
        );
        assert_eq!(
            decode::<PullRequest>(br#"{"protocol":"one","device":"T1","cursor":0,"limit":1}"#),
            Err(WireError::BadProtocolField("one".into()))
        );
        assert!(matches!(
            decode::<PullRequest>(b"{not json"),
            Err(WireError::Malformed(_))
        ));
    }

    #[test]
    fn an_unknown_change_kind_from_a_newer_fleet_is_skipped_not_fatal() {
        let json = br#"{"protocol":"1.3","changes":[
            {"server_seq":4,"hlc":{"wall_ms":1,"counter":0},"body":{"type":"gift_card_issued","data":{"x":1}}}
        ],"next_cursor":4,"more":false}"#;
        let response: PullResponse = decode(json).unwrap();
        assert_eq!(response.changes[0].body, ChangeBody::Unknown);
    }

    #[test]
    fn the_tenants_switches_and_stores_travel_as_kinds_of_their_own() {
        for body in [
            ChangeBody::TenantFeatures {
                features: pos_core::access::Features::all_enabled().disable("loyalty"),
            },
            ChangeBody::TenantStore {
                store: TenantStore {
                    id: StoreId::new("str-altona"),
                    name: "Acme Altona".into(),
                },
            },
        ] {
            let change = Change {
                server_seq: 9,
                hlc: HlcTime::new(1, 0),
                body,
            };
            let json = serde_json::to_string(&change).unwrap();
            assert_eq!(serde_json::from_str::<Change>(&json).unwrap(), change);
        }
        let json = r#"{"server_seq":9,"hlc":{"wall_ms":1,"counter":0},
            "body":{"type":"tenant_features","data":{"features":{"disabled":["loyalty"]}}}}"#;
        let change: Change = serde_json::from_str(json).unwrap();
        assert!(
            matches!(change.body, ChangeBody::TenantFeatures { features } if features.is_off("loyalty"))
        );
    }

    #[test]
    fn an_entry_of_a_newer_kind_is_kept_but_not_interpreted() {
        let entry = JournalEntry {
            event_id: EventId::new("e1"),
            seq: 1,
            hlc: HlcTime::new(1, 0),
            actor: UserId::new("anna"),
            kind: "gift_card_sold".into(),
            payload: Payload::from_json(r#"{"type":"gift_card_sold","data":{}}"#.into()).unwrap(),
            recorded_by: None,
        };
        assert_eq!(entry.domain_event(), Ok(None));
    }

    #[test]
    fn an_entry_whose_payload_does_not_match_its_kind_is_refused() {
        let entry = JournalEntry {
            event_id: EventId::new("e1"),
            seq: 1,
            hlc: HlcTime::new(1, 0),
            actor: UserId::new("anna"),
            kind: "stock_moved".into(),
            payload: Payload::from_json(r#"{"type":"drawer_opened","data":"no_sale"}"#.into())
                .unwrap(),
            recorded_by: None,
        };
        let err = entry.domain_event().unwrap_err();
        assert_eq!(
            err.to_string(),
            "event e1 says it is \"stock_moved\" but its payload does not match: \
             the payload is a drawer_opened event"
        );
    }

    #[test]
    fn a_payload_is_the_same_whatever_its_spelling() {
        let compact = Payload::from_json(r#"{"type":"drawer_opened","data":"no_sale"}"#.into());
        let spaced = Payload::from_json(r#"{ "data": "no_sale", "type": "drawer_opened" }"#.into());
        let other = Payload::from_json(r#"{"type":"drawer_opened","data":"cash_in"}"#.into());
        assert_eq!(compact, spaced);
        assert_ne!(compact, other);
        assert!(Payload::from_json("{not json".into()).is_err());
    }
}
