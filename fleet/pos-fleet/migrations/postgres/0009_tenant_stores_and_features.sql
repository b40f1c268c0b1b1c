-- Version 9: the tenant's stores and feature switches travel down as changes of their own
-- kinds (`tenant_store`, `tenant_features`). Tenants and stores made before are published
-- once here, as they are now, so their terminals learn them too.
INSERT INTO changes (tenant, store, origin_device, hlc_ms, hlc_counter, body)
    SELECT tenant, NULL, NULL, created_at, 0,
           json_build_object('type', 'tenant_store',
                             'data', json_build_object('store',
                                 json_build_object('id', id, 'name', name)))::text
    FROM stores ORDER BY created_at, id;
INSERT INTO changes (tenant, store, origin_device, hlc_ms, hlc_counter, body)
    SELECT id, NULL, NULL, created_at, 0,
           json_build_object('type', 'tenant_features',
                             'data', json_build_object('features', features::json))::text
    FROM tenants ORDER BY created_at, id;
