-- Version 6: a store's time zone (`Europe/Zurich`), whose rules give its offset at each
-- instant. Stores set up before keep their fixed offset, which stays the fallback.
ALTER TABLE stores ADD COLUMN time_zone TEXT;
