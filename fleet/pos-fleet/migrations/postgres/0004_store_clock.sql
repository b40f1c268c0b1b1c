-- Version 4: each store's clock (seconds east of UTC), for its days and hours on the
-- dashboard.
ALTER TABLE stores ADD COLUMN utc_offset_seconds INTEGER NOT NULL DEFAULT 0;
