-- Connector changes reach every node at once, as rule changes do (0001_init.sql): each
-- node LISTENs and drops its cached connectors of the team. NOTIFY is sent at commit,
-- never for a change that rolled back.
-- Never edit this file once it has landed: add 0004_….sql instead.

CREATE FUNCTION interlock_connectors_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('interlock_connectors', OLD.team_id);
    ELSE
        PERFORM pg_notify('interlock_connectors', NEW.team_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER connectors_changed AFTER INSERT OR UPDATE OR DELETE ON connectors
    FOR EACH ROW EXECUTE FUNCTION interlock_connectors_changed();
