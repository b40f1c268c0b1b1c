-- Version 5: the tenant's stores as the fleet sends them down, so a transfer names the other
-- store by picking it from a list. The fleet's store id is the key; the name is what people
-- read.

CREATE TABLE tenant_store (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
) WITHOUT ROWID;
