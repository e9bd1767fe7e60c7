-- Hand-written: the changes feed and value history are recorded by triggers, so that every
-- write path (single writes, target tables, bulk upserts, cascading deletes, manual SQL)
-- is covered by one mechanism. Statement-level triggers with transition tables write one
-- set-based INSERT per statement, not one per row, which keeps bulk imports fast.
-- (PostgreSQL allows a transition table on a trigger of a single event only: hence three
-- triggers per table sharing one function.)

CREATE FUNCTION record_region_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO changes (entity, key, op, revision) SELECT 'region', code, 'delete', revision FROM old_rows;
  ELSE
    INSERT INTO changes (entity, key, op, revision) SELECT 'region', code, 'upsert', revision FROM new_rows;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER regions_changes_insert AFTER INSERT ON regions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION record_region_changes();
--> statement-breakpoint
CREATE TRIGGER regions_changes_update AFTER UPDATE ON regions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION record_region_changes();
--> statement-breakpoint
CREATE TRIGGER regions_changes_delete AFTER DELETE ON regions REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION record_region_changes();
--> statement-breakpoint

CREATE FUNCTION record_indicator_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO changes (entity, key, op, revision) SELECT 'indicator', code, 'delete', revision FROM old_rows;
  ELSE
    INSERT INTO changes (entity, key, op, revision) SELECT 'indicator', code, 'upsert', revision FROM new_rows;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER indicators_changes_insert AFTER INSERT ON indicators REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION record_indicator_changes();
--> statement-breakpoint
CREATE TRIGGER indicators_changes_update AFTER UPDATE ON indicators REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION record_indicator_changes();
--> statement-breakpoint
CREATE TRIGGER indicators_changes_delete AFTER DELETE ON indicators REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION record_indicator_changes();
--> statement-breakpoint

CREATE FUNCTION record_plan_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO changes (entity, key, op, revision) SELECT 'plan', id, 'delete', revision FROM old_rows;
  ELSE
    INSERT INTO changes (entity, key, op, revision) SELECT 'plan', id, 'upsert', revision FROM new_rows;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER plans_changes_insert AFTER INSERT ON plans REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION record_plan_changes();
--> statement-breakpoint
CREATE TRIGGER plans_changes_update AFTER UPDATE ON plans REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION record_plan_changes();
--> statement-breakpoint
CREATE TRIGGER plans_changes_delete AFTER DELETE ON plans REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION record_plan_changes();
--> statement-breakpoint

-- Yearly values: targets and actuals are separate entities of the feed; an update or
-- delete also moves the superseded revision into value_history. Decimals are kept as text
-- in the JSON snapshot (to_jsonb would turn numeric into a JSON number, i.e. a float).
CREATE FUNCTION value_state(v yearly_values) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT to_jsonb(v) || jsonb_build_object(
    'value', v.value::text, 'numerator', v.numerator::text, 'denominator', v.denominator::text,
    'baseline_value', v.baseline_value::text)
$$;
--> statement-breakpoint
CREATE FUNCTION record_value_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO changes (entity, key, op, revision)
      SELECT (CASE WHEN kind = 'target' THEN 'target' ELSE 'value' END)::change_entity, id::text, 'delete', revision FROM old_rows;
    INSERT INTO value_history (value_id, revision, state, superseded_op, superseded_by, superseded_at)
      SELECT o.id, o.revision, value_state(o), 'delete', registry_actor(), now() FROM old_rows o;
  ELSE
    INSERT INTO changes (entity, key, op, revision)
      SELECT (CASE WHEN kind = 'target' THEN 'target' ELSE 'value' END)::change_entity, id::text, 'upsert', revision FROM new_rows;
    IF TG_OP = 'UPDATE' THEN
      INSERT INTO value_history (value_id, revision, state, superseded_op, superseded_by, superseded_at)
        SELECT o.id, o.revision, value_state(o), 'upsert', registry_actor(), now() FROM old_rows o;
    END IF;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER yearly_values_changes_insert AFTER INSERT ON yearly_values REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION record_value_changes();
--> statement-breakpoint
CREATE TRIGGER yearly_values_changes_update AFTER UPDATE ON yearly_values REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION record_value_changes();
--> statement-breakpoint
CREATE TRIGGER yearly_values_changes_delete AFTER DELETE ON yearly_values REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION record_value_changes();
