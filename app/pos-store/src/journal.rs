//! The journal: every business event, in commit order, each entry holding the SHA-256 of the
//! one before, so a changed, removed or inserted entry is found by [`verify`]. It is also the
//! sync outbox: upstream acknowledges a sequence number, and only acknowledged entries may
//! ever be deleted (a database trigger enforces it too).

use pos_core::event::DomainEvent;
use pos_core::id::{DeviceId, EventId, UserId};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::hlc::HlcTime;

pub type Hash = [u8; 32];
const GENESIS: Hash = [0; 32];

/// The disk and wire form of an entry's payload. Its JSON shape is part of the sync
/// protocol; `format` says how to read `event` when the shape changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalPayload {
    pub format: u16,
    pub event: DomainEvent,
}

pub const PAYLOAD_FORMAT: u16 = 1;

impl JournalPayload {
    pub fn from_event(event: &DomainEvent) -> JournalPayload {
        JournalPayload {
            format: PAYLOAD_FORMAT,
            event: event.clone(),
        }
    }

    pub fn into_event(self) -> Result<DomainEvent> {
        known_format(self.format)?;
        Ok(self.event)
    }
}

fn known_format(format: u16) -> Result<()> {
    if format == PAYLOAD_FORMAT {
        Ok(())
    } else {
        Err(StoreError::Decode(format!(
            "journal payload format {format} is not known to this software"
        )))
    }
}

/// One stored entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalEntry {
    /// Gapless local sequence: 1, 2, 3…
    pub seq: u64,
    pub id: EventId,
    pub device: DeviceId,
    pub hlc: HlcTime,
    pub actor: UserId,
    pub kind: String,
    pub payload: Vec<u8>,
    pub prev_hash: Hash,
    pub hash: Hash,
}

impl JournalEntry {
    pub fn event(&self) -> Result<DomainEvent> {
        serde_json::from_slice::<JournalPayload>(&self.payload)?.into_event()
    }

    /// The event's JSON as it was written, not parsed into a [`DomainEvent`]: what sync sends
    /// upstream, so a backlog of thousands of entries is not decoded and encoded again.
    pub fn event_json(&self) -> Result<&serde_json::value::RawValue> {
        #[derive(Deserialize)]
        struct Stored<'a> {
            format: u16,
            #[serde(borrow)]
            event: &'a serde_json::value::RawValue,
        }
        let stored: Stored<'_> = serde_json::from_slice(&self.payload)?;
        known_format(stored.format)?;
        Ok(stored.event)
    }

    fn computed_hash(&self) -> Hash {
        let mut hasher = Sha256::new();
        hasher.update(b"pos-store journal v1");
        let fields: [&[u8]; 9] = [
            &self.seq.to_le_bytes(),
            self.id.as_str().as_bytes(),
            self.device.as_str().as_bytes(),
            &self.hlc.wall_ms.to_le_bytes(),
            &self.hlc.counter.to_le_bytes(),
            self.actor.as_str().as_bytes(),
            self.kind.as_bytes(),
            &self.payload,
            &self.prev_hash,
        ];
        // Length-prefixed, so no two different entries hash the same bytes.
        for field in fields {
            hasher.update((field.len() as u64).to_le_bytes());
            hasher.update(field);
        }
        hasher.finalize().into()
    }
}

/// Where the next entry goes: after the newest entry, or after the pruned prefix.
pub(crate) struct Head {
    pub next_seq: u64,
    pub prev_hash: Hash,
}

pub(crate) fn head(connection: &Connection) -> Result<Head> {
    let newest: Option<(i64, Vec<u8>)> = connection
        .query_row(
            "SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let (seq, hash) = match newest {
        Some(newest) => newest,
        None => pruned_anchor(connection)?,
    };
    Ok(Head {
        next_seq: to_seq(seq)? + 1,
        prev_hash: to_hash(&hash)?,
    })
}

fn pruned_anchor(connection: &Connection) -> Result<(i64, Vec<u8>)> {
    let (seq, hash): (i64, Option<Vec<u8>>) = connection.query_row(
        "SELECT pruned_seq, pruned_hash FROM outbox WHERE singleton = 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok((seq, hash.unwrap_or_else(|| GENESIS.to_vec())))
}

/// The newest clock time in the journal, so the clock resumes after a restart.
pub(crate) fn last_hlc(connection: &Connection) -> Result<HlcTime> {
    let last: Option<(i64, u32)> = connection
        .query_row(
            "SELECT hlc_ms, hlc_counter FROM journal ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(last.map_or(HlcTime::ZERO, |(wall_ms, counter)| HlcTime {
        wall_ms,
        counter,
    }))
}

pub(crate) struct NewEntry<'a> {
    pub device: &'a DeviceId,
    pub actor: &'a UserId,
    pub hlc: HlcTime,
    pub event: &'a DomainEvent,
}

pub(crate) fn append(
    transaction: &Transaction<'_>,
    head: &mut Head,
    new: NewEntry<'_>,
) -> Result<JournalEntry> {
    let payload = serde_json::to_vec(&JournalPayload::from_event(new.event))
        .map_err(|error| StoreError::Decode(error.to_string()))?;
    let mut entry = JournalEntry {
        seq: head.next_seq,
        id: EventId::new(ulid(new.hlc.wall_ms)?),
        device: new.device.clone(),
        hlc: new.hlc,
        actor: new.actor.clone(),
        kind: new.event.kind().to_owned(),
        payload,
        prev_hash: head.prev_hash,
        hash: GENESIS,
    };
    entry.hash = entry.computed_hash();
    transaction
        .prepare_cached(
            "INSERT INTO journal (seq, id, device, hlc_ms, hlc_counter, actor, kind, payload, \
             prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            from_seq(entry.seq)?,
            entry.id.as_str(),
            entry.device.as_str(),
            entry.hlc.wall_ms,
            entry.hlc.counter,
            entry.actor.as_str(),
            entry.kind,
            entry.payload,
            entry.prev_hash.as_slice(),
            entry.hash.as_slice(),
        ])?;
    head.next_seq += 1;
    head.prev_hash = entry.hash;
    Ok(entry)
}

/// Where and how the chain is broken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("journal entry {expected} is missing (the next entry is {found})")]
    Gap { expected: u64, found: u64 },
    #[error(
        "journal entry {seq} does not follow the entry before it: an entry was removed or replaced"
    )]
    Unlinked { seq: u64 },
    #[error("journal entry {seq} was changed after it was written")]
    Altered { seq: u64 },
}

/// The result of walking the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainReport {
    pub entries_checked: u64,
    pub last_seq: u64,
    pub first_break: Option<ChainBreak>,
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Walks the whole journal from the pruned anchor (or the start) and reports the first break.
pub fn verify(connection: &Connection) -> Result<ChainReport> {
    let (anchor_seq, anchor_hash) = pruned_anchor(connection)?;
    let mut expected_seq = to_seq(anchor_seq)? + 1;
    let mut prev_hash = to_hash(&anchor_hash)?;
    let mut report = ChainReport {
        entries_checked: 0,
        last_seq: expected_seq - 1,
        first_break: None,
    };
    let mut statement = connection.prepare(
        "SELECT seq, id, device, hlc_ms, hlc_counter, actor, kind, payload, prev_hash, hash \
         FROM journal ORDER BY seq",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let entry = entry_from_row(row)?;
        let found_break = if entry.seq != expected_seq {
            Some(ChainBreak::Gap {
                expected: expected_seq,
                found: entry.seq,
            })
        } else if entry.computed_hash() != entry.hash {
            Some(ChainBreak::Altered { seq: entry.seq })
        } else if entry.prev_hash != prev_hash {
            Some(ChainBreak::Unlinked { seq: entry.seq })
        } else {
            None
        };
        if found_break.is_some() {
            report.first_break = found_break;
            return Ok(report);
        }
        report.entries_checked += 1;
        report.last_seq = entry.seq;
        expected_seq = entry.seq + 1;
        prev_hash = entry.hash;
    }
    Ok(report)
}

pub(crate) fn entry_from_row(row: &rusqlite::Row<'_>) -> Result<JournalEntry> {
    Ok(JournalEntry {
        seq: to_seq(row.get(0)?)?,
        id: EventId::new(row.get::<_, String>(1)?),
        device: DeviceId::new(row.get::<_, String>(2)?),
        hlc: HlcTime {
            wall_ms: row.get(3)?,
            counter: row.get(4)?,
        },
        actor: UserId::new(row.get::<_, String>(5)?),
        kind: row.get(6)?,
        payload: row.get(7)?,
        prev_hash: to_hash(&row.get::<_, Vec<u8>>(8)?)?,
        hash: to_hash(&row.get::<_, Vec<u8>>(9)?)?,
    })
}

/// Entries after `after_seq`, oldest first, at most `limit`: the next batch to send upstream.
pub(crate) fn entries_after(
    connection: &Connection,
    after_seq: u64,
    limit: u32,
) -> Result<Vec<JournalEntry>> {
    let mut statement = connection.prepare_cached(
        "SELECT seq, id, device, hlc_ms, hlc_counter, actor, kind, payload, prev_hash, hash \
         FROM journal WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let mut rows = statement.query(params![from_seq(after_seq)?, limit])?;
    let mut entries = Vec::new();
    while let Some(row) = rows.next()? {
        entries.push(entry_from_row(row)?);
    }
    Ok(entries)
}

/// Entries of `kind` whose clock time is at or after `since_ms`, oldest first, at most `limit`.
pub(crate) fn entries_of_kind_since(
    connection: &Connection,
    kind: &str,
    since_ms: i64,
    limit: u32,
) -> Result<Vec<JournalEntry>> {
    let mut statement = connection.prepare_cached(
        "SELECT seq, id, device, hlc_ms, hlc_counter, actor, kind, payload, prev_hash, hash \
         FROM journal WHERE kind = ?1 AND hlc_ms >= ?2 ORDER BY seq LIMIT ?3",
    )?;
    let mut rows = statement.query(params![kind, since_ms, limit])?;
    let mut entries = Vec::new();
    while let Some(row) = rows.next()? {
        entries.push(entry_from_row(row)?);
    }
    Ok(entries)
}

fn to_hash(bytes: &[u8]) -> Result<Hash> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Decode(format!("a journal hash has {} bytes", bytes.len())))
}

pub(crate) fn to_seq(value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| StoreError::Decode(format!("journal sequence {value}")))
}

pub(crate) fn from_seq(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| StoreError::Decode(format!("journal sequence {value}")))
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID: 48 bits of milliseconds then 80 random bits, 26 Crockford base-32 characters,
/// sorting by time. The terminal makes its sale, cart and movement ids with it too.
pub fn ulid(wall_ms: i64) -> Result<String> {
    let mut random = [0u8; 10];
    getrandom::fill(&mut random)
        .map_err(|error| StoreError::Refused(format!("no randomness for an event id: {error}")))?;
    let ms = u128::from(u64::try_from(wall_ms).unwrap_or(0) & 0xFFFF_FFFF_FFFF);
    let mut value = ms << 80;
    for (index, byte) in random.iter().enumerate() {
        value |= u128::from(*byte) << (8 * (9 - index));
    }
    let mut text = String::with_capacity(26);
    for position in (0..26).rev() {
        let digit = (value >> (5 * position)) & 0x1F;
        text.push(char::from(CROCKFORD[digit as usize]));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulids_sort_by_time_and_differ() {
        let a = ulid(1_700_000_000_000).unwrap();
        let b = ulid(1_700_000_000_000).unwrap();
        let c = ulid(1_700_000_000_001).unwrap();
        assert_eq!(a.len(), 26);
        assert_ne!(a, b);
        assert!(a[..10] == b[..10] && c > a && c > b);
        // The spec's example time prefix: 1469918176385 ms is "01ARYZ6S41".
        assert_eq!(&ulid(1_469_918_176_385).unwrap()[..10], "01ARYZ6S41");
    }
}
