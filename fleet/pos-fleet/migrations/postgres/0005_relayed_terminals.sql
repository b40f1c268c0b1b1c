-- Version 5: an entry a store hub relays keeps the terminal behind the hub that recorded it,
-- and the fleet knows that terminal (relayed by the hub, with no credential of its own).
ALTER TABLE journal ADD COLUMN recorded_by TEXT;
ALTER TABLE journal ADD COLUMN recorded_by_name TEXT;
ALTER TABLE terminals ADD COLUMN relayed_by TEXT REFERENCES terminals (id);
