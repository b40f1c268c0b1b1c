-- Version 2: how sending each receipt asked for at a till went. The requests themselves are
-- the `receipt_requested` entries of the journal.
CREATE TABLE receipt_deliveries (
    event_id TEXT PRIMARY KEY REFERENCES journal (event_id),
    tenant TEXT NOT NULL,
    store TEXT NOT NULL,
    sale TEXT NOT NULL,
    receipt TEXT NOT NULL,
    destination TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_at BIGINT,
    last_error TEXT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX receipt_deliveries_by_store ON receipt_deliveries (store, updated_at);
CREATE INDEX journal_by_kind ON journal (kind, received_at);
