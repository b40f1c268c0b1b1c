-- The update service's tables (bundles, rollouts, one action per terminal and rollout, the
-- feedback terminals send, what they report about themselves, each store's maintenance
-- window), the same records as the SQLite backend's `update_*` tables.

CREATE TABLE update_bundles (
    id TEXT PRIMARY KEY,
    filename TEXT NOT NULL,
    version TEXT NOT NULL,
    compatible TEXT NOT NULL,
    format TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha1 TEXT NOT NULL,
    md5 TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    uploaded_at BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL
);

CREATE TABLE update_rollouts (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    bundle TEXT NOT NULL REFERENCES update_bundles (id),
    target TEXT NOT NULL,
    plan TEXT NOT NULL,
    state TEXT NOT NULL,
    current_stage INTEGER NOT NULL,
    halt_reason TEXT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX update_rollouts_by_tenant ON update_rollouts (tenant, created_at);

CREATE TABLE update_actions (
    id BIGSERIAL PRIMARY KEY,
    rollout TEXT NOT NULL REFERENCES update_rollouts (id),
    terminal TEXT NOT NULL,
    store TEXT NOT NULL,
    stage INTEGER NOT NULL,
    status TEXT NOT NULL,
    last_feedback TEXT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX update_actions_by_rollout ON update_actions (rollout, stage);
-- A terminal is in one unfinished rollout at a time, also when two fleet processes create
-- rollouts for it at the same moment.
CREATE UNIQUE INDEX update_actions_one_open ON update_actions (terminal)
    WHERE status NOT IN ('succeeded', 'failed', 'canceled');
CREATE INDEX update_actions_by_terminal ON update_actions (terminal, status);

CREATE TABLE update_feedback (
    id BIGSERIAL PRIMARY KEY,
    action BIGINT NOT NULL REFERENCES update_actions (id),
    note TEXT NOT NULL
);
CREATE INDEX update_feedback_by_action ON update_feedback (action, id);

CREATE TABLE update_terminal_reports (
    terminal TEXT PRIMARY KEY,
    attributes TEXT NOT NULL,
    requested BOOLEAN NOT NULL,
    updated_at BIGINT
);

CREATE TABLE update_store_windows (
    store TEXT PRIMARY KEY,
    store_window TEXT NOT NULL
);
