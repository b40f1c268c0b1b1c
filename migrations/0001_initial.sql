-- Version 1: the terminal's first schema.
--
-- Money and quantities are exact decimal TEXT (never REAL); times are Unix milliseconds (UTC);
-- `record` columns keep the full disk form of a domain value so it can be rebuilt exactly.
-- This file is append-only history: never edit it once released; add a new version instead.

CREATE TABLE setting (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE role (
    id     TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    grants TEXT NOT NULL            -- JSON array of permission patterns
) WITHOUT ROWID;

CREATE TABLE user (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    role     TEXT NOT NULL REFERENCES role(id),
    pin_hash TEXT,
    active   INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;

CREATE TABLE tax_rate (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    rate TEXT NOT NULL              -- 0.19 for 19 %
) WITHOUT ROWID;

CREATE TABLE category (
    id     TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    parent TEXT REFERENCES category(id)
) WITHOUT ROWID;

-- A product; a variant is a product whose `parent` names the product it varies.
CREATE TABLE product (
    id                  TEXT NOT NULL UNIQUE,
    sku                 TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    parent              TEXT REFERENCES product(id),
    variant             TEXT NOT NULL DEFAULT '[]',  -- JSON [{name, value}]
    unit                TEXT NOT NULL,               -- piece | kilogram | pound
    currency            TEXT NOT NULL,
    cost                TEXT NOT NULL,
    price               TEXT NOT NULL,
    tax_category        TEXT NOT NULL,
    category            TEXT,
    vendor              TEXT,
    active              INTEGER NOT NULL,
    low_stock_threshold TEXT
);
CREATE INDEX product_by_category ON product(category, name);
CREATE INDEX product_by_parent ON product(parent) WHERE parent IS NOT NULL;

CREATE TABLE barcode (
    code    TEXT PRIMARY KEY,
    product TEXT NOT NULL REFERENCES product(id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX barcode_by_product ON barcode(product);

-- Name and SKU search with prefix indexes, so two- and three-letter prefixes stay fast.
CREATE VIRTUAL TABLE product_search USING fts5(
    name, sku,
    content = 'product', content_rowid = 'rowid',
    prefix = '2 3', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER product_search_insert AFTER INSERT ON product BEGIN
    INSERT INTO product_search(rowid, name, sku) VALUES (new.rowid, new.name, new.sku);
END;
CREATE TRIGGER product_search_delete AFTER DELETE ON product BEGIN
    INSERT INTO product_search(product_search, rowid, name, sku)
        VALUES ('delete', old.rowid, old.name, old.sku);
END;
CREATE TRIGGER product_search_update AFTER UPDATE OF name, sku ON product BEGIN
    INSERT INTO product_search(product_search, rowid, name, sku)
        VALUES ('delete', old.rowid, old.name, old.sku);
    INSERT INTO product_search(rowid, name, sku) VALUES (new.rowid, new.name, new.sku);
END;

CREATE TABLE batch (
    id      TEXT PRIMARY KEY,
    product TEXT NOT NULL REFERENCES product(id),
    lot     TEXT NOT NULL,
    expiry  TEXT                    -- YYYY-MM-DD
) WITHOUT ROWID;
CREATE INDEX batch_by_expiry ON batch(expiry) WHERE expiry IS NOT NULL;

-- Stock is the sum of movements; `stock_level` is that sum kept up to date in the same
-- transaction as each movement, per store, product and batch ('' when none).
CREATE TABLE stock_movement (
    id       TEXT PRIMARY KEY,
    product  TEXT NOT NULL,
    store    TEXT NOT NULL,
    batch    TEXT,
    quantity TEXT NOT NULL,
    reason   TEXT NOT NULL,         -- JSON of the movement reason
    at_ms    INTEGER NOT NULL,
    by_user  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX stock_movement_by_product ON stock_movement(store, product);

CREATE TABLE stock_level (
    store    TEXT NOT NULL,
    product  TEXT NOT NULL,
    batch    TEXT NOT NULL,
    quantity TEXT NOT NULL,
    PRIMARY KEY (store, product, batch)
) WITHOUT ROWID;

CREATE TABLE customer (
    id     TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    email  TEXT,
    phone  TEXT,
    card   TEXT UNIQUE,
    points INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE points_movement (
    seq      INTEGER PRIMARY KEY,
    customer TEXT NOT NULL,
    points   INTEGER NOT NULL,
    reason   TEXT NOT NULL,         -- JSON of the points reason
    at_ms    INTEGER NOT NULL
);
CREATE INDEX points_movement_by_customer ON points_movement(customer, at_ms);

CREATE TABLE shift (
    id        TEXT PRIMARY KEY,
    device    TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    closed_at INTEGER,
    record    TEXT NOT NULL,        -- JSON of the shift
    report    TEXT                  -- JSON of the Z report once closed
) WITHOUT ROWID;

CREATE TABLE sale (
    id             TEXT PRIMARY KEY,
    receipt_number TEXT NOT NULL UNIQUE,
    store          TEXT NOT NULL,
    device         TEXT NOT NULL,
    cashier        TEXT NOT NULL,
    shift          TEXT,
    at_ms          INTEGER NOT NULL,
    currency       TEXT NOT NULL,
    total          TEXT NOT NULL,
    tax            TEXT NOT NULL,
    record         TEXT NOT NULL    -- JSON of the sale, rebuilt and re-checked on read
) WITHOUT ROWID;
CREATE INDEX sale_by_time ON sale(at_ms);

CREATE TABLE sale_line (
    sale       TEXT NOT NULL REFERENCES sale(id),
    line_no    INTEGER NOT NULL,
    product    TEXT NOT NULL,
    name       TEXT NOT NULL,
    quantity   TEXT NOT NULL,
    unit_price TEXT NOT NULL,
    amount     TEXT NOT NULL,
    PRIMARY KEY (sale, line_no)
) WITHOUT ROWID;

CREATE TABLE sale_tender (
    sale      TEXT NOT NULL REFERENCES sale(id),
    seq       INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    applied   TEXT NOT NULL,
    received  TEXT NOT NULL,
    reference TEXT,
    PRIMARY KEY (sale, seq)
) WITHOUT ROWID;

CREATE TABLE refund (
    id            TEXT PRIMARY KEY,
    receipt_number TEXT NOT NULL UNIQUE,
    original_sale TEXT,
    at_ms         INTEGER NOT NULL,
    total         TEXT NOT NULL,
    record        TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE held_cart (
    id      TEXT PRIMARY KEY,
    device  TEXT NOT NULL,
    label   TEXT NOT NULL,
    held_at INTEGER NOT NULL,
    record  TEXT NOT NULL           -- JSON of the held cart, prices as scanned
) WITHOUT ROWID;

-- The journal: every business event, hash-chained, in commit order. It is also the sync
-- outbox. Entries are never changed; only entries acknowledged upstream may be deleted.
CREATE TABLE journal (
    seq         INTEGER PRIMARY KEY,  -- gapless local sequence, 1, 2, 3…
    id          TEXT NOT NULL UNIQUE, -- ULID
    device      TEXT NOT NULL,
    hlc_ms      INTEGER NOT NULL,
    hlc_counter INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    payload     BLOB NOT NULL,        -- JSON of the journal payload
    prev_hash   BLOB NOT NULL,        -- SHA-256 of the previous entry (zeros for the first)
    hash        BLOB NOT NULL
);

-- One row: how far upstream has acknowledged the journal, and where a pruned chain resumes.
CREATE TABLE outbox (
    singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
    acked_seq    INTEGER NOT NULL DEFAULT 0,
    pruned_seq   INTEGER NOT NULL DEFAULT 0,
    pruned_hash  BLOB
);
INSERT INTO outbox(singleton) VALUES (1);

CREATE TRIGGER journal_immutable BEFORE UPDATE ON journal BEGIN
    SELECT RAISE(ABORT, 'journal entries cannot be changed');
END;
CREATE TRIGGER journal_keeps_unacknowledged BEFORE DELETE ON journal
WHEN old.seq > (SELECT acked_seq FROM outbox WHERE singleton = 1) BEGIN
    SELECT RAISE(ABORT, 'journal entries not yet acknowledged upstream cannot be deleted');
END;
CREATE TRIGGER outbox_ack_only_forward BEFORE UPDATE OF acked_seq ON outbox
WHEN new.acked_seq < old.acked_seq BEGIN
    SELECT RAISE(ABORT, 'the acknowledged mark cannot move backwards');
END;
