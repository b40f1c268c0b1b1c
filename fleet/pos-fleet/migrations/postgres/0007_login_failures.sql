-- Version 7: wrong passwords counted per account and client address, so a login lock
-- survives a restart and several fleet processes count together.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    first_ms BIGINT NOT NULL,
    last_ms BIGINT NOT NULL,
    locked_until_ms BIGINT
);
CREATE INDEX login_failures_by_last ON login_failures (last_ms);
