-- Interlock's schema on PostgreSQL: the SQLite schema's tables (its 0001 and 0002) with
-- the same conventions, so one row mapping serves both databases (interlock-store-sql):
--   times   BIGINT unix milliseconds (Interlock time unless a comment says "real")
--   ids     TEXT, UUIDs hyphenated lower-case (text order = time order for UUIDv7)
--   JSON    TEXT, written once and read back byte for byte (the audit trail hashes it)
--   enums   their wire strings; money: amount TEXT + currency TEXT
--   text that is sorted or paged by (ids, slugs, emails) is COLLATE "C": byte order,
--   as in SQLite, whatever the database's locale
-- Never edit this file once it has landed: add 0002_….sql instead.

CREATE TABLE teams (
    id          TEXT   NOT NULL PRIMARY KEY,
    slug        TEXT   COLLATE "C" NOT NULL UNIQUE,
    name        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE rules_versions (
    team_id          TEXT   NOT NULL REFERENCES teams(id),
    version          BIGINT NOT NULL CHECK (version >= 1),
    rules            TEXT   NOT NULL,
    created_at       BIGINT NOT NULL,
    created_by_kind  TEXT   NOT NULL,
    created_by_id    TEXT   NOT NULL,
    PRIMARY KEY (team_id, version)
);

CREATE TABLE api_keys (
    id            TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    kind          TEXT   NOT NULL,
    team_id       TEXT   REFERENCES teams(id),
    user_id       TEXT,
    name          TEXT,
    secret_hash   TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    expires_at    BIGINT,
    revoked_at    BIGINT
);

CREATE TABLE plans (
    id                TEXT   NOT NULL PRIMARY KEY,
    team_id           TEXT   NOT NULL REFERENCES teams(id),
    card_id           TEXT,
    summary           TEXT   NOT NULL,
    proposed_by_kind  TEXT   NOT NULL,
    proposed_by_id    TEXT   NOT NULL,
    created_at        BIGINT NOT NULL
);

CREATE TABLE actions (
    id                TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    team_id           TEXT   NOT NULL REFERENCES teams(id),
    category          TEXT   NOT NULL,
    title             TEXT   NOT NULL,
    rationale         TEXT   NOT NULL,
    payload           TEXT   NOT NULL,
    original_payload  TEXT,
    amount            TEXT,
    currency          TEXT,
    tags              TEXT   NOT NULL,
    card_id           TEXT,
    plan_id           TEXT   REFERENCES plans(id),
    plan_step         BIGINT,
    depends_on        TEXT   NOT NULL,
    level             TEXT   NOT NULL,
    status            TEXT   NOT NULL,
    version           BIGINT NOT NULL,
    decision          TEXT   NOT NULL,
    rule_set_version  BIGINT NOT NULL,
    armed_at          BIGINT,
    deadline          BIGINT,
    reminders         TEXT   NOT NULL,
    last_reminder_at  BIGINT,
    proposed_by_kind  TEXT   NOT NULL,
    proposed_by_id    TEXT   NOT NULL,
    idempotency_key   TEXT,
    callback_url      TEXT,
    decided_by_kind   TEXT,
    decided_by_id     TEXT,
    reason            TEXT,
    comment           TEXT,
    attempts          BIGINT NOT NULL DEFAULT 0,
    last_error        TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    executed_at       BIGINT,
    CHECK ((amount IS NULL) = (currency IS NULL))
);

CREATE UNIQUE INDEX actions_idempotency ON actions (team_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX actions_team ON actions (team_id, id);
CREATE INDEX actions_status ON actions (status, id);
CREATE INDEX actions_plan ON actions (plan_id, plan_step) WHERE plan_id IS NOT NULL;

-- Durable timers and executions, claimed with leases (FOR UPDATE SKIP LOCKED).
-- run_at is Interlock time; lease_until is real time.
CREATE TABLE jobs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT   NOT NULL,
    subject      TEXT   NOT NULL,
    run_at       BIGINT NOT NULL,
    state        TEXT   NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'running', 'done')),
    attempt      BIGINT NOT NULL DEFAULT 0,
    claimed_by   TEXT,
    lease_until  BIGINT,
    created_at   BIGINT NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT
);

-- Only unfinished jobs are indexed: done ones pile up and are never claimed again.
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state = 'ready';
CREATE INDEX jobs_running ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_subject ON jobs (subject, kind) WHERE state <> 'done';

CREATE TABLE deliveries (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id     TEXT   NOT NULL,
    action_id   TEXT,
    event       TEXT   NOT NULL,
    reminder    TEXT,
    payload     TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    state       TEXT   NOT NULL DEFAULT 'pending'
);

CREATE INDEX deliveries_action ON deliveries (action_id, id) WHERE action_id IS NOT NULL;
CREATE INDEX deliveries_pending ON deliveries (state, id);

CREATE TABLE connectors (
    team_id     TEXT   NOT NULL REFERENCES teams(id),
    category    TEXT   NOT NULL,
    config      TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (team_id, category)
);

-- One hash chain per (team or deployment, node): nodes never wait for each other's heads.
CREATE TABLE audit (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chain       TEXT   NOT NULL,
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    team_id     TEXT,
    actor_kind  TEXT   NOT NULL,
    actor_id    TEXT   NOT NULL,
    subject     TEXT,
    event       TEXT   NOT NULL,
    data        TEXT   NOT NULL,
    prev_hash   TEXT   NOT NULL,
    hash        TEXT   NOT NULL,
    UNIQUE (chain, seq)
);

CREATE INDEX audit_team ON audit (team_id, id);
CREATE INDEX audit_subject ON audit (subject, id) WHERE subject IS NOT NULL;

CREATE TABLE audit_heads (
    chain  TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    seq    BIGINT NOT NULL,
    hash   TEXT   NOT NULL
);

CREATE TABLE meta (
    key    TEXT NOT NULL PRIMARY KEY,
    value  TEXT NOT NULL
);

CREATE TABLE users (
    id             TEXT   NOT NULL PRIMARY KEY,
    email          TEXT   COLLATE "C" NOT NULL UNIQUE,
    role           TEXT   NOT NULL,
    password_hash  TEXT,
    created_at     BIGINT NOT NULL,
    failed_logins  BIGINT NOT NULL DEFAULT 0,
    locked_until   BIGINT
);

CREATE TABLE memberships (
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id  TEXT COLLATE "C" NOT NULL REFERENCES teams(id),
    PRIMARY KEY (user_id, team_id)
);

CREATE TABLE sessions (
    id_hash     TEXT   NOT NULL PRIMARY KEY,
    user_id     TEXT   NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token  TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Rule changes reach every node at once: each node LISTENs and drops its cached rules.
-- A trigger, so that changes made from the CLI are announced too; NOTIFY is sent at
-- commit, never for a change that rolled back.
CREATE FUNCTION interlock_rules_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('interlock_rules', NEW.team_id);
    RETURN NULL;
END $$;
CREATE TRIGGER rules_changed AFTER INSERT ON rules_versions
    FOR EACH ROW EXECUTE FUNCTION interlock_rules_changed();
