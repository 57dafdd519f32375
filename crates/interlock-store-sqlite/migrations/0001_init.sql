-- Interlock's first schema. Conventions (the PostgreSQL backend copies them):
--   times       INTEGER unix milliseconds (Interlock time unless a comment says "real")
--   ids         TEXT (UUIDs in their hyphenated lower-case form, so text order = time
--               order for UUIDv7)
--   JSON        TEXT, written once and read back as is
--   enums       their wire strings (`Status::as_str`, `Category::as_str`, ...)
--   money       amount TEXT (exactly the currency's decimals) + currency TEXT
--   actors      <name>_kind TEXT + <name>_id TEXT
-- Never edit this file once it has landed: add 0002_….sql instead.

CREATE TABLE teams (
    id          TEXT    NOT NULL PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Every saved version of a team's rules, as canonical JSON; the newest is in force.
CREATE TABLE rules_versions (
    team_id          TEXT    NOT NULL REFERENCES teams(id),
    version          INTEGER NOT NULL CHECK (version >= 1),
    rules            TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    created_by_kind  TEXT    NOT NULL,
    created_by_id    TEXT    NOT NULL,
    PRIMARY KEY (team_id, version)
);

-- API keys: only the SHA-256 of the secret is kept.
CREATE TABLE api_keys (
    id            TEXT    NOT NULL PRIMARY KEY,
    kind          TEXT    NOT NULL,
    team_id       TEXT    REFERENCES teams(id),
    user_id       TEXT,
    name          TEXT,
    secret_hash   TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    expires_at    INTEGER,
    revoked_at    INTEGER
);

CREATE TABLE plans (
    id                TEXT    NOT NULL PRIMARY KEY,
    team_id           TEXT    NOT NULL REFERENCES teams(id),
    card_id           TEXT,
    summary           TEXT    NOT NULL,
    proposed_by_kind  TEXT    NOT NULL,
    proposed_by_id    TEXT    NOT NULL,
    created_at        INTEGER NOT NULL
);

CREATE TABLE actions (
    id                TEXT    NOT NULL PRIMARY KEY,
    team_id           TEXT    NOT NULL REFERENCES teams(id),
    category          TEXT    NOT NULL,
    title             TEXT    NOT NULL,
    rationale         TEXT    NOT NULL,
    payload           TEXT    NOT NULL,
    original_payload  TEXT,
    amount            TEXT,
    currency          TEXT,
    tags              TEXT    NOT NULL,   -- JSON array of strings
    card_id           TEXT,
    plan_id           TEXT    REFERENCES plans(id),
    plan_step         INTEGER,
    depends_on        TEXT    NOT NULL,   -- JSON array of action ids (`after`)
    level             TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    decision          TEXT    NOT NULL,
    rule_set_version  INTEGER NOT NULL,
    armed_at          INTEGER,
    deadline          INTEGER,
    reminders         TEXT    NOT NULL,   -- JSON array of {"kind": "half", "at": <ms>}
    last_reminder_at  INTEGER,
    proposed_by_kind  TEXT    NOT NULL,
    proposed_by_id    TEXT    NOT NULL,
    idempotency_key   TEXT,
    callback_url      TEXT,
    decided_by_kind   TEXT,
    decided_by_id     TEXT,
    reason            TEXT,
    comment           TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    executed_at       INTEGER,
    CHECK ((amount IS NULL) = (currency IS NULL))
);

-- A second proposal with the same key returns the first action (SPEC §10a).
CREATE UNIQUE INDEX actions_idempotency ON actions (team_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- Listing a team's actions newest first (ids are UUIDv7, so id order is time order).
CREATE INDEX actions_team ON actions (team_id, id);
CREATE INDEX actions_status ON actions (status, id);
CREATE INDEX actions_plan ON actions (plan_id, plan_step) WHERE plan_id IS NOT NULL;

-- Durable timers and executions, claimed with leases like a job queue.
-- run_at is Interlock time; lease_until is real time (leases must not shrink when
-- Interlock time is sped up); created_at is real time, for diagnostics only.
CREATE TABLE jobs (
    id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    run_at       INTEGER NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'running', 'done')),
    attempt      INTEGER NOT NULL DEFAULT 0,
    claimed_by   TEXT,
    lease_until  INTEGER,
    created_at   INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER))
);

CREATE INDEX jobs_due ON jobs (state, run_at);
-- Ending an action's timer when it leaves `armed`.
CREATE INDEX jobs_subject ON jobs (subject, kind) WHERE state <> 'done';

-- The notification outbox: written with the change that causes it, delivered later.
CREATE TABLE deliveries (
    id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    team_id     TEXT    NOT NULL,
    action_id   TEXT,
    event       TEXT    NOT NULL,
    reminder    TEXT,
    payload     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending'
);

CREATE INDEX deliveries_action ON deliveries (action_id, id) WHERE action_id IS NOT NULL;
CREATE INDEX deliveries_pending ON deliveries (state, id);

CREATE TABLE connectors (
    team_id     TEXT    NOT NULL REFERENCES teams(id),
    category    TEXT    NOT NULL,
    config      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (team_id, category)
);

-- The append-only audit trail, one hash chain per (team or deployment, node).
-- `data` is the exact JSON text that was hashed.
CREATE TABLE audit (
    id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    chain       TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    team_id     TEXT,
    actor_kind  TEXT    NOT NULL,
    actor_id    TEXT    NOT NULL,
    subject     TEXT,
    event       TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    UNIQUE (chain, seq)
);

CREATE INDEX audit_team ON audit (team_id, id);
CREATE INDEX audit_subject ON audit (subject, id) WHERE subject IS NOT NULL;

-- Each chain's last entry, written in the same transaction as the entry, so removing
-- entries from the end of a chain is detected.
CREATE TABLE audit_heads (
    chain  TEXT    NOT NULL PRIMARY KEY,
    seq    INTEGER NOT NULL,
    hash   TEXT    NOT NULL
);

-- Deployment-wide settings that must agree across starts (the clock agreement).
CREATE TABLE meta (
    key    TEXT NOT NULL PRIMARY KEY,
    value  TEXT NOT NULL
);
