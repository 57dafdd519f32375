-- People, their teams, and console sessions (SPEC §12).
-- Never edit this file once it has landed: add 0003_….sql instead.

CREATE TABLE users (
    id             TEXT    NOT NULL PRIMARY KEY,
    email          TEXT    NOT NULL UNIQUE,     -- lower-case
    role           TEXT    NOT NULL,            -- viewer | manager | admin | owner
    password_hash  TEXT,                        -- argon2id PHC string
    created_at     INTEGER NOT NULL,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   INTEGER                      -- real time
);

CREATE TABLE memberships (
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id  TEXT NOT NULL REFERENCES teams(id),
    PRIMARY KEY (user_id, team_id)
);

-- Only the SHA-256 of a session token is stored.
CREATE TABLE sessions (
    id_hash     TEXT    NOT NULL PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,               -- real time
    expires_at  INTEGER NOT NULL                -- real time
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
