//! How the fleet takes in a pushed batch: the checks a batch must pass as a whole, the fate
//! of each entry against what is already stored, and the high-water mark. Pure functions, so
//! the SQLite server, a future PostgreSQL one and the in-memory [`Ledger`] agree by
//! construction.
//!
//! A batch is all or nothing: if one entry is refused, none is stored. An entry already stored
//! with the same content is a duplicate (a resent batch) and is acknowledged, never stored
//! twice. The same event id or the same sequence number with *different* content is a
//! conflict: it means a terminal's journal was reset or copied, which a person must look at.

use std::collections::{BTreeMap, BTreeSet};

use pos_core::event::DomainEvent;
use pos_core::id::{DeviceId, EventId, SaleId};
use pos_core::loyalty::PointsMovement;
use pos_core::stock::{StockLevels, StockMovement};

use crate::wire::{ErrorCode, JournalEntry, PROTOCOL, PushAck, PushBatch, WireError};

/// The most entries the fleet takes in one batch.
pub const BATCH_ENTRIES_MAX: usize = 2_000;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error(
        "this terminal is {authenticated} but the batch is for {claimed}; a terminal pushes only its own journal"
    )]
    WrongDevice {
        claimed: DeviceId,
        authenticated: DeviceId,
    },
    #[error("the batch has {count} entries; at most {max} are taken at once")]
    TooManyEntries { count: usize, max: usize },
    #[error("event {event_id} has sequence number 0; sequence numbers start at 1")]
    SeqZero { event_id: EventId },
    #[error("sequence number {seq} appears twice in the batch")]
    DuplicateSeqInBatch { seq: u64 },
    #[error("event {event_id} appears twice in the batch")]
    DuplicateEventInBatch { event_id: EventId },
    #[error(transparent)]
    BadPayload(WireError),
    #[error(
        "event {event_id} was already received with different content; \
         the terminal's journal may have been reset or copied"
    )]
    EventIdReused { event_id: EventId },
    #[error(
        "sequence number {seq} was already received as event {existing}, not {event_id}; \
         the terminal's journal may have been reset or copied"
    )]
    SeqReused {
        seq: u64,
        event_id: EventId,
        existing: EventId,
    },
}

impl BatchError {
    pub fn code(&self) -> ErrorCode {
        match self {
            BatchError::WrongDevice { .. } => ErrorCode::Forbidden,
            BatchError::EventIdReused { .. } | BatchError::SeqReused { .. } => ErrorCode::Conflict,
            BatchError::TooManyEntries { .. }
            | BatchError::SeqZero { .. }
            | BatchError::DuplicateSeqInBatch { .. }
            | BatchError::DuplicateEventInBatch { .. }
            | BatchError::BadPayload(_) => ErrorCode::InvalidBatch,
        }
    }
}

/// Checks a batch on its own, before anything is looked up: it is the authenticated
/// terminal's, bounded, its entries unique, numbered from 1 and with payloads that match their
/// kinds. Returns the decoded domain events (`None` for kinds from a newer terminal), in
/// entry order.
pub fn check_batch(
    batch: &PushBatch,
    authenticated: &DeviceId,
) -> Result<Vec<Option<DomainEvent>>, BatchError> {
    if &batch.device != authenticated {
        return Err(BatchError::WrongDevice {
            claimed: batch.device.clone(),
            authenticated: authenticated.clone(),
        });
    }
    if batch.entries.len() > BATCH_ENTRIES_MAX {
        return Err(BatchError::TooManyEntries {
            count: batch.entries.len(),
            max: BATCH_ENTRIES_MAX,
        });
    }
    let mut seqs = BTreeSet::new();
    let mut ids = BTreeSet::new();
    let mut events = Vec::with_capacity(batch.entries.len());
    for entry in &batch.entries {
        if entry.seq == 0 {
            return Err(BatchError::SeqZero {
                event_id: entry.event_id.clone(),
            });
        }
        if !seqs.insert(entry.seq) {
            return Err(BatchError::DuplicateSeqInBatch { seq: entry.seq });
        }
        if !ids.insert(&entry.event_id) {
            return Err(BatchError::DuplicateEventInBatch {
                event_id: entry.event_id.clone(),
            });
        }
        events.push(entry.domain_event().map_err(BatchError::BadPayload)?);
    }
    Ok(events)
}

/// An entry as the fleet stores it: with the terminal it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEntry {
    pub device: DeviceId,
    pub entry: JournalEntry,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Not seen before: store it.
    New,
    /// Already stored with the same content: acknowledge, do not store again.
    Duplicate,
}

/// The same entry, whichever way it came: which terminal a store hub says recorded it is how
/// it travelled, not what it is (a hub or fleet of an older version leaves it out).
fn same_entry(a: &JournalEntry, b: &JournalEntry) -> bool {
    a.event_id == b.event_id
        && a.seq == b.seq
        && a.hlc == b.hlc
        && a.actor == b.actor
        && a.kind == b.kind
        && a.payload == b.payload
}

/// What to do with one entry, given what is stored under its event id and under its
/// terminal's sequence number.
pub fn fate(
    device: &DeviceId,
    entry: &JournalEntry,
    stored_with_id: Option<&StoredEntry>,
    stored_id_at_seq: Option<&EventId>,
) -> Result<Fate, BatchError> {
    if let Some(stored) = stored_with_id {
        return if &stored.device == device && same_entry(&stored.entry, entry) {
            Ok(Fate::Duplicate)
        } else {
            Err(BatchError::EventIdReused {
                event_id: entry.event_id.clone(),
            })
        };
    }
    if let Some(existing) = stored_id_at_seq {
        return Err(BatchError::SeqReused {
            seq: entry.seq,
            event_id: entry.event_id.clone(),
            existing: existing.clone(),
        });
    }
    Ok(Fate::New)
}

/// The new high-water mark: from `current`, as far as the stored sequence numbers above it
/// (`stored_above`, ascending) run without a gap.
pub fn advance_high_water(current: u64, stored_above: impl IntoIterator<Item = u64>) -> u64 {
    let mut high = current;
    for seq in stored_above {
        if seq <= high {
            continue;
        }
        if seq != high + 1 {
            break;
        }
        high = seq;
    }
    high
}

/// The fleet's state in memory: every entry once, and what follows from them. The reference
/// the SQLite server is tested against, and the model for convergence properties.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    entries: BTreeMap<EventId, StoredEntry>,
    at_seq: BTreeMap<(DeviceId, u64), EventId>,
    high_water: BTreeMap<DeviceId, u64>,
}

/// What a person reading fleet reports sees; equal summaries mean equal reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerSummary {
    pub event_ids: BTreeSet<EventId>,
    pub high_water: BTreeMap<DeviceId, u64>,
    pub sales: BTreeSet<SaleId>,
    pub stock: StockLevels,
    pub points: Vec<(EventId, PointsMovement)>,
}

impl Ledger {
    /// Takes in a batch: all of it or, on any error, none of it.
    pub fn ingest(
        &mut self,
        batch: &PushBatch,
        authenticated: &DeviceId,
    ) -> Result<PushAck, BatchError> {
        check_batch(batch, authenticated)?;
        let mut fresh = Vec::new();
        let mut duplicates = 0u32;
        for entry in &batch.entries {
            let at_seq = self.at_seq.get(&(batch.device.clone(), entry.seq));
            match fate(
                &batch.device,
                entry,
                self.entries.get(&entry.event_id),
                at_seq,
            )? {
                Fate::New => fresh.push(entry),
                Fate::Duplicate => duplicates = duplicates.saturating_add(1),
            }
        }
        let stored = u32::try_from(fresh.len()).unwrap_or(u32::MAX);
        for entry in fresh {
            self.at_seq
                .insert((batch.device.clone(), entry.seq), entry.event_id.clone());
            self.entries.insert(
                entry.event_id.clone(),
                StoredEntry {
                    device: batch.device.clone(),
                    entry: entry.clone(),
                },
            );
        }
        let current = self.high_water(&batch.device);
        let above = self
            .at_seq
            .range((batch.device.clone(), current + 1)..=(batch.device.clone(), u64::MAX))
            .map(|((_, seq), _)| *seq);
        let high = advance_high_water(current, above);
        if high > 0 {
            self.high_water.insert(batch.device.clone(), high);
        }
        Ok(PushAck {
            protocol: PROTOCOL,
            device: batch.device.clone(),
            high_water_seq: high,
            stored,
            duplicates,
        })
    }

    pub fn high_water(&self, device: &DeviceId) -> u64 {
        self.high_water.get(device).copied().unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sales, stock and points as they follow from the entries: a function of the set of
    /// entries alone, whatever order they came in.
    pub fn summary(&self) -> LedgerSummary {
        let mut sales = BTreeSet::new();
        let mut movements: Vec<StockMovement> = Vec::new();
        let mut points = Vec::new();
        for (id, stored) in &self.entries {
            match stored.entry.domain_event() {
                Ok(Some(DomainEvent::SaleCompleted(sale))) => {
                    sales.insert(sale.id.clone());
                }
                Ok(Some(DomainEvent::StockMoved(movement))) => movements.push(movement),
                Ok(Some(DomainEvent::PointsMoved(movement))) => {
                    points.push((id.clone(), movement));
                }
                _ => {}
            }
        }
        LedgerSummary {
            event_ids: self.entries.keys().cloned().collect(),
            high_water: self.high_water.clone(),
            sales,
            stock: StockLevels::from_movements(&movements),
            points,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::HlcTime;
    use pos_core::id::UserId;

    fn entry(id: &str, seq: u64) -> JournalEntry {
        JournalEntry {
            event_id: EventId::new(id),
            seq,
            hlc: HlcTime::new(1_000 + i64::try_from(seq).unwrap(), 0),
            actor: UserId::new("anna"),
            kind: "drawer_opened".into(),
            payload: crate::wire::Payload::from_json(
                r#"{"type": "drawer_opened", "data": "no_sale"}"#.into(),
            )
            .unwrap(),
            recorded_by: None,
        }
    }

    fn batch(device: &str, entries: Vec<JournalEntry>) -> PushBatch {
        PushBatch {
            protocol: PROTOCOL,
            device: DeviceId::new(device),
            entries,
        }
    }

    #[test]
    fn high_water_stops_at_the_first_gap() {
        assert_eq!(advance_high_water(0, [1, 2, 3, 5, 6]), 3);
        assert_eq!(advance_high_water(3, [5, 6]), 3);
        assert_eq!(advance_high_water(3, [4, 5, 6]), 6);
        assert_eq!(advance_high_water(2, []), 2);
    }

    #[test]
    fn a_resent_batch_is_acknowledged_and_stored_once() {
        let mut ledger = Ledger::default();
        let t1 = DeviceId::new("T1");
        let sent = batch("T1", vec![entry("a", 1), entry("b", 2)]);
        let first = ledger.ingest(&sent, &t1).unwrap();
        let again = ledger.ingest(&sent, &t1).unwrap();
        assert_eq!(
            (first.stored, first.duplicates, first.high_water_seq),
            (2, 0, 2)
        );
        assert_eq!(
            (again.stored, again.duplicates, again.high_water_seq),
            (0, 2, 2)
        );
        assert_eq!(ledger.len(), 2);
    }

    #[test]
    fn an_entry_a_hub_resends_naming_its_recorder_is_still_a_duplicate() {
        let mut ledger = Ledger::default();
        let hub = DeviceId::new("HUB");
        let first = ledger
            .ingest(&batch("HUB", vec![entry("a", 1)]), &hub)
            .unwrap();
        assert_eq!(first.stored, 1);
        let mut relayed = entry("a", 1);
        relayed.recorded_by = Some(crate::wire::RecordedBy {
            device: DeviceId::new("T1"),
            name: "Till 1".into(),
        });
        let again = ledger.ingest(&batch("HUB", vec![relayed]), &hub).unwrap();
        assert_eq!((again.stored, again.duplicates), (0, 1));
        let mut changed = entry("a", 1);
        changed.actor = UserId::new("bob");
        assert!(ledger.ingest(&batch("HUB", vec![changed]), &hub).is_err());
    }

    #[test]
    fn entries_after_a_gap_are_kept_but_not_acknowledged_until_it_fills() {
        let mut ledger = Ledger::default();
        let t1 = DeviceId::new("T1");
        let ack = ledger
            .ingest(&batch("T1", vec![entry("c", 3), entry("d", 4)]), &t1)
            .unwrap();
        assert_eq!(ack.high_water_seq, 0);
        let ack = ledger
            .ingest(&batch("T1", vec![entry("a", 1), entry("b", 2)]), &t1)
            .unwrap();
        assert_eq!(ack.high_water_seq, 4);
    }

    #[test]
    fn a_batch_with_one_bad_entry_stores_nothing() {
        let mut ledger = Ledger::default();
        let t1 = DeviceId::new("T1");
        ledger
            .ingest(&batch("T1", vec![entry("a", 1)]), &t1)
            .unwrap();
        // "b" is new, but "a" comes back with another sequence number: a reset journal.
        let err = ledger
            .ingest(&batch("T1", vec![entry("b", 2), entry("a", 3)]), &t1)
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Conflict);
        assert_eq!(ledger.len(), 1);
        assert_eq!(ledger.high_water(&t1), 1);
    }

    #[test]
    fn a_sequence_number_reused_by_another_event_is_a_conflict() {
        let mut ledger = Ledger::default();
        let t1 = DeviceId::new("T1");
        ledger
            .ingest(&batch("T1", vec![entry("a", 1)]), &t1)
            .unwrap();
        let err = ledger
            .ingest(&batch("T1", vec![entry("z", 1)]), &t1)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "sequence number 1 was already received as event a, not z; \
             the terminal's journal may have been reset or copied"
        );
    }

    #[test]
    fn a_terminal_cannot_push_for_another() {
        let mut ledger = Ledger::default();
        let err = ledger
            .ingest(&batch("T2", vec![entry("a", 1)]), &DeviceId::new("T1"))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Forbidden);
        assert!(ledger.is_empty());
    }

    #[test]
    fn malformed_batches_are_refused_with_a_reason() {
        let t1 = DeviceId::new("T1");
        let check = |entries: Vec<JournalEntry>, expected: &str| {
            let err = check_batch(&batch("T1", entries), &t1).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidBatch);
            assert_eq!(err.to_string(), expected);
        };
        check(
            vec![entry("a", 0)],
            "event a has sequence number 0; sequence numbers start at 1",
        );
        check(
            vec![entry("a", 1), entry("b", 1)],
            "sequence number 1 appears twice in the batch",
        );
        check(
            vec![entry("a", 1), entry("a", 2)],
            "event a appears twice in the batch",
        );
        let too_many = (1..=BATCH_ENTRIES_MAX as u64 + 1)
            .map(|seq| entry(&format!("e{seq}"), seq))
            .collect();
        check(
            too_many,
            "the batch has 2001 entries; at most 2000 are taken at once",
        );
    }
}
