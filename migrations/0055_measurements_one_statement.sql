-- A batch of measurements as ONE statement: the readings, the site's totals, the limit check and the
-- batch's audit event commit together without BEGIN and COMMIT round trips, so a batch holds its
-- site's lock only while the database works on it, never while the server is busy with other
-- requests (docs/benchmarks.md, "One statement per batch").

-- The one mapping of an audit event (AuditEvent.ts, as JSON) to its row. Every writer of the log
-- inserts through it: the server's AuditRepo and the statements that write their own event. It stores
-- what it is given: pass only events AuditLog built (`record`, `prepare`), which scrub emails and secrets.
CREATE FUNCTION audit_events_append(p_event JSONB) RETURNS VOID
LANGUAGE sql AS $$
    INSERT INTO audit_events (event_id, occurred_at, category, action, actor_user_id, actor_email_hash, actor_role,
      actor_service, object_type, object_id, correlation_id, trace_id, parent_event_id, outcome_status,
      outcome_error_code, outcome_message, context, details, schema_version)
    VALUES ((p_event->>'event_id')::uuid, (p_event->>'timestamp')::timestamptz, p_event->>'category', p_event->>'action',
      (p_event->'actor'->>'user_id')::uuid, p_event->'actor'->>'email_hash', p_event->'actor'->>'role',
      p_event->'actor'->>'service', p_event->'object'->>'type', p_event->'object'->>'id',
      p_event->'correlation'->>'correlation_id', p_event->'correlation'->>'trace_id',
      (p_event->'correlation'->>'parent_event_id')::uuid, p_event->'outcome'->>'status',
      p_event->'outcome'->>'error_code', p_event->'outcome'->>'message', p_event->'context',
      coalesce(p_event->'details', '{}'::jsonb), (p_event->>'schema_version')::int)
$$;

-- measurements_record (migration 0054) with the batch's audit event. With `p_audit` (the event as
-- AuditLog prepared it, and `p_items` the number of items the request sent) the call is the whole
-- write: the event is stored with the batch's counts, unless the batch raised an alert. Alerts have
-- events and webhook deliveries of their own, written by the server in a transaction, so then the
-- call refuses with SQLSTATE SLA01 and the batch's work is rolled back with it; the server sends the
-- batch again, in a transaction, to 0054's function.
CREATE FUNCTION measurements_record(
    p_site UUID, p_device TEXT[], p_gas TEXT[], p_at TIMESTAMPTZ[], p_quantity NUMERIC[], p_unit TEXT[],
    p_method TEXT[], p_gwp NUMERIC[], p_gwp_ref TEXT[], p_by TEXT, p_thresholds INTEGER[],
    p_audit JSONB, p_items INTEGER,
    OUT site_found BOOLEAN, OUT site_code TEXT, OUT inserted INTEGER[], OUT periods TEXT[], OUT alerts JSON)
LANGUAGE plpgsql AS $$
BEGIN
    IF p_audit IS NULL OR p_items IS NULL THEN
        RAISE EXCEPTION 'measurements_record: the audit event and the item count are required' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT r.site_found, r.site_code, r.inserted, r.periods, r.alerts
    INTO site_found, site_code, inserted, periods, alerts
    FROM measurements_record(p_site, p_device, p_gas, p_at, p_quantity, p_unit, p_method, p_gwp, p_gwp_ref, p_by, p_thresholds) r;
    IF NOT site_found THEN
        RETURN;
    END IF;
    IF json_array_length(alerts) > 0 THEN
        RAISE EXCEPTION 'the batch raised % alert(s): record it in a transaction with their events', json_array_length(alerts)
            USING ERRCODE = 'SLA01';
    END IF;
    PERFORM audit_events_append(jsonb_set(p_audit, '{details}', coalesce(p_audit->'details', '{}'::jsonb) || jsonb_build_object(
        'accepted', cardinality(inserted), 'duplicates', p_items - cardinality(inserted),
        'periods', to_jsonb(periods), 'alerts', '[]'::jsonb)));
END
$$;
