-- Tasks. Timestamps are RFC 3339 text (UTC); `due` is a YYYY-MM-DD day.
-- `version` is bumped on every change and backs the HTTP ETag / If-Match.
-- AUTOINCREMENT keeps ids of deleted tasks from being reused, so a stale URL
-- never points at a different task.
CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
    priority    INTEGER NOT NULL DEFAULT 1 CHECK (priority BETWEEN 1 AND 5),
    completed   BOOLEAN NOT NULL DEFAULT FALSE,
    position    INTEGER NOT NULL,
    due         TEXT,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

CREATE INDEX tasks_position ON tasks (position, id);
