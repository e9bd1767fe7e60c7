-- Hand-written: who makes a write. Each write transaction sets the setting
-- `registry.actor` (set_config(..., true), so it ends with the transaction); columns and
-- triggers read it through this function. Writes made outside the API (migrations,
-- manual SQL) are attributed to 'system'.
CREATE OR REPLACE FUNCTION registry_actor() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('registry.actor', true), ''), 'system')
$$;
