-- Version 8: an enrolment code remembers the terminal it made and a hash of the key that
-- terminal sent, so the same terminal retrying after a lost answer gets its credential.
ALTER TABLE enrolment_codes ADD COLUMN enrolment_key_hash TEXT;
ALTER TABLE enrolment_codes ADD COLUMN terminal TEXT;
