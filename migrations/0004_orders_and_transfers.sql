-- Version 3: purchase orders to vendors, goods receipts with their lots, and transfers of
-- stock between stores. Each keeps the whole record as JSON (the journal's event as it was
-- last saved) beside the columns the back office lists and filters by.

CREATE TABLE purchase_order (
    id         TEXT PRIMARY KEY,
    store      TEXT NOT NULL,
    vendor     TEXT,
    state      TEXT NOT NULL,          -- draft, sent, partly_received, received, cancelled
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    record     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX purchase_order_by_state ON purchase_order(store, state, updated_ms);

CREATE TABLE goods_receipt (
    id             TEXT PRIMARY KEY,
    store          TEXT NOT NULL,
    purchase_order TEXT,
    at_ms          INTEGER NOT NULL,
    record         TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX goods_receipt_by_order ON goods_receipt(purchase_order) WHERE purchase_order IS NOT NULL;

CREATE TABLE stock_transfer (
    id         TEXT PRIMARY KEY,
    from_store TEXT NOT NULL,
    to_store   TEXT NOT NULL,
    state      TEXT NOT NULL,          -- requested, sent, received
    updated_ms INTEGER NOT NULL,
    record     TEXT NOT NULL
) WITHOUT ROWID;
