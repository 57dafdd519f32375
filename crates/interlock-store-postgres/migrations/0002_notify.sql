-- Notification channels, the outbox's per-channel sends, and cards (SPEC §7, §8, §16):
-- SQLite's 0003_notify.sql, with the conventions of 0001_init.sql.
-- Never edit this file once it has landed: add 0003_….sql instead.

-- A team's notification channels. `config` is the channel as JSON, secrets included
-- (they sign deliveries); the API never shows them.
CREATE TABLE channels (
    id          TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    team_id     TEXT   NOT NULL REFERENCES teams(id),
    kind        TEXT   NOT NULL,
    config      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX channels_team ON channels (team_id);

-- Each delivery gets a UUID (its `notify` job's subject and the receivers' idempotency
-- key) and, for agent callbacks, the URL it goes to instead of the team's channels.
ALTER TABLE deliveries ADD COLUMN uid TEXT;
ALTER TABLE deliveries ADD COLUMN callback_url TEXT;
-- Deliveries recorded before channels existed had nowhere to go: give them an id and
-- mark them done, so nothing old is sent after an upgrade.
UPDATE deliveries SET uid = gen_random_uuid()::text, state = 'done' WHERE uid IS NULL;
ALTER TABLE deliveries ALTER COLUMN uid SET NOT NULL;
CREATE UNIQUE INDEX deliveries_uid ON deliveries (uid);

-- What happened to one delivery on one target: a channel id, or 'callback'. The primary
-- key is what makes a delivery go out at most once per channel. `seq` orders sends
-- updated in the same millisecond (SQLite uses its rowid).
CREATE TABLE delivery_sends (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY,
    delivery_uid  TEXT   NOT NULL,
    target        TEXT   COLLATE "C" NOT NULL,
    state         TEXT   NOT NULL CHECK (state IN ('retrying', 'sent', 'failed', 'skipped')),
    attempts      BIGINT NOT NULL,
    answer        TEXT,
    last_error    TEXT,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (delivery_uid, target)
);
CREATE INDEX delivery_sends_target ON delivery_sends (target, updated_at, seq);

-- The cases actions are about. Rows appear when an action or plan names a card, when a
-- note is added, or when an escalation opens one.
CREATE TABLE cards (
    team_id     TEXT   NOT NULL REFERENCES teams(id),
    id          TEXT   COLLATE "C" NOT NULL,
    priority    TEXT   NOT NULL DEFAULT 'normal',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (team_id, id)
);
CREATE INDEX cards_recent ON cards (updated_at);

-- Notes on cards. `action_id` is unique, so a retried INTERNAL_NOTE adds its note once.
CREATE TABLE card_notes (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id      TEXT   NOT NULL,
    card_id      TEXT   NOT NULL,
    text         TEXT   NOT NULL,
    author_kind  TEXT   NOT NULL,
    author_id    TEXT   NOT NULL,
    action_id    TEXT   UNIQUE,
    created_at   BIGINT NOT NULL
);
CREATE INDEX card_notes_card ON card_notes (team_id, card_id, id);
CREATE INDEX plans_card ON plans (team_id, card_id) WHERE card_id IS NOT NULL;
CREATE INDEX actions_card ON actions (team_id, card_id, id) WHERE card_id IS NOT NULL;
