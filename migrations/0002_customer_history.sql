-- Version 2: a customer's purchase history. Sales learn which customer they were for, filled
-- in from the stored sale record for sales made before this version, with an index so the
-- history screen does not scan every sale.

ALTER TABLE sale ADD COLUMN customer TEXT;
UPDATE sale SET customer = json_extract(record, '$.loyalty.customer.id')
    WHERE json_extract(record, '$.loyalty.customer.id') IS NOT NULL;
CREATE INDEX sale_by_customer ON sale(customer, at_ms) WHERE customer IS NOT NULL;
