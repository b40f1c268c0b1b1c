-- The fleet's schema on PostgreSQL, version 1: the tables of the SQLite backend, with the
-- same columns and meanings, plus one clock row per tenant. Append-only: a file that has
-- shipped is never edited; a change is the next numbered file.
--
-- Times are Unix milliseconds (BIGINT). Money, quantities, features and documents are the
-- JSON text the SQLite backend stores, byte for byte, so both backends read them with the
-- same code.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    features TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE stores (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX stores_by_tenant ON stores (tenant);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    tenant TEXT REFERENCES tenants (id),
    store TEXT REFERENCES stores (id),
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts (id),
    expires_at BIGINT NOT NULL
);

CREATE TABLE enrolment_codes (
    code_hash TEXT PRIMARY KEY,
    store TEXT NOT NULL REFERENCES stores (id),
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE terminals (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL REFERENCES tenants (id),
    store TEXT NOT NULL REFERENCES stores (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    enrolled_at BIGINT NOT NULL,
    revoked_at BIGINT,
    high_water_seq BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX terminals_by_store ON terminals (store, enrolled_at);

CREATE TABLE journal (
    event_id TEXT PRIMARY KEY,
    device TEXT NOT NULL REFERENCES terminals (id),
    seq BIGINT NOT NULL,
    hlc_ms BIGINT NOT NULL,
    hlc_counter BIGINT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    UNIQUE (device, seq)
);

CREATE TABLE sales (
    sale_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES journal (event_id),
    tenant TEXT NOT NULL,
    store TEXT NOT NULL,
    device TEXT NOT NULL,
    receipt_number TEXT NOT NULL,
    total TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX sales_by_store ON sales (store, at);

-- A level is the sum of these rows: no stock level is stored as a number to overwrite.
CREATE TABLE stock_movements (
    movement_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES journal (event_id),
    store TEXT NOT NULL,
    product TEXT NOT NULL,
    quantity TEXT NOT NULL,
    device TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX stock_by_store ON stock_movements (store, product);

-- Last-writer-wins documents (products, settings, customers, ...); `store` is '' for a
-- tenant-wide record.
CREATE TABLE records (
    tenant TEXT NOT NULL,
    store TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (tenant, store, kind, key)
);

-- What terminals pull, in `server_seq` order. A tenant's writes hold its clock row until
-- they commit, so within a tenant a change committed later always has a larger number and
-- a pull cursor never steps over one.
CREATE TABLE changes (
    server_seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant TEXT NOT NULL,
    store TEXT,
    origin_device TEXT,
    hlc_ms BIGINT NOT NULL,
    hlc_counter BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX changes_by_tenant ON changes (tenant, server_seq);

CREATE TABLE anomalies (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant TEXT NOT NULL,
    store TEXT,
    device TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX anomalies_by_store ON anomalies (store, id);

-- The hybrid logical clock of each tenant's data, and the lock that orders the tenant's
-- writes: every write to a tenant's records or change feed takes this row FOR UPDATE first.
CREATE TABLE tenant_clocks (
    tenant TEXT PRIMARY KEY,
    wall_ms BIGINT NOT NULL,
    counter BIGINT NOT NULL
);
