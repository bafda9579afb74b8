-- Accounts: every task belongs to one owner. Owner 0 is the one shared list
-- of AUTH_MODE=none (and where tasks from before accounts wait until the
-- first account claims them). It is a plain column rather than a foreign key
-- so that 0 needs no user row; deleting an account deletes its tasks in the
-- same transaction.
ALTER TABLE tasks ADD COLUMN owner INTEGER NOT NULL DEFAULT 0;
DROP INDEX tasks_position;
CREATE INDEX tasks_owner_position ON tasks (owner, position, id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL,
    -- Lower-cased: names are unique regardless of case.
    username_key  TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- Sessions and API tokens are stored as SHA-256 hashes of the secret the
-- client holds: a copy of this table logs nobody in.
CREATE TABLE sessions (
    token_hash   BLOB    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT    NOT NULL,
    last_seen_at TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   BLOB    NOT NULL UNIQUE,
    created_at   TEXT    NOT NULL,
    last_used_at TEXT,
    expires_at   TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Failed logins (and signups, token requests) per client address and per
-- username, shared by every instance.
CREATE TABLE auth_throttle (
    key           TEXT    PRIMARY KEY,
    failures      INTEGER NOT NULL,
    last_failure  TEXT    NOT NULL,
    blocked_until TEXT    NOT NULL
);

-- Raised by every import that keeps ids: imported tasks start at version
-- epoch * 2^32 + 1, so an ETag is never issued twice for one task id.
CREATE TABLE import_epoch (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    epoch    INTEGER NOT NULL
);
INSERT INTO import_epoch (epoch) VALUES (0);
