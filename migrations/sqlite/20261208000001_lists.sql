-- Lists. Every task belongs to exactly one list; every account (and the
-- shared list of AUTH_MODE=none, owner 0) has one default list, "Tasks",
-- which starts out holding every task it owned. `owner` is a user id, or 0.
CREATE TABLE lists (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner       INTEGER NOT NULL,
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    position    INTEGER NOT NULL,
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE UNIQUE INDEX lists_one_default ON lists (owner) WHERE is_default;
CREATE INDEX lists_owner_position ON lists (owner, position, id);

-- Who else may see a list, and whether they may change its tasks. The
-- owner is never a member: ownership is the list's `owner`.
CREATE TABLE list_members (
    list_id  INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role     TEXT    NOT NULL CHECK (role IN ('editor', 'viewer')),
    added_at TEXT    NOT NULL,
    PRIMARY KEY (list_id, user_id)
);
CREATE INDEX list_members_user ON list_members (user_id);

INSERT INTO lists (owner, name, position, is_default, created_at, updated_at)
VALUES (0, 'Tasks', 1, TRUE, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
INSERT INTO lists (owner, name, position, is_default, created_at, updated_at)
SELECT id, 'Tasks', 1, TRUE, created_at, created_at FROM users ORDER BY id;

-- SQLite adds a column only without NOT NULL (and tests a CHECK against
-- the rows already there, before the UPDATE below fills them): triggers
-- stand in for NOT NULL from here on.
ALTER TABLE tasks ADD COLUMN list_id INTEGER REFERENCES lists (id) ON DELETE CASCADE;
-- Who added the task and who completed it, for shared lists. NULL when
-- unknown (before this release, AUTH_MODE=none, or a deleted account).
ALTER TABLE tasks ADD COLUMN created_by INTEGER REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE tasks ADD COLUMN completed_by INTEGER REFERENCES users (id) ON DELETE SET NULL;

UPDATE tasks SET
    list_id = (SELECT l.id FROM lists l WHERE l.owner = tasks.owner AND l.is_default),
    created_by = (SELECT u.id FROM users u WHERE u.id = tasks.owner);

DROP INDEX tasks_owner_position;
ALTER TABLE tasks DROP COLUMN owner;
CREATE INDEX tasks_list_position ON tasks (list_id, position, id);
-- Today and Upcoming: the tasks of a list by due date.
CREATE INDEX tasks_list_due ON tasks (list_id, due) WHERE due IS NOT NULL;
CREATE INDEX tasks_created_by ON tasks (created_by);
CREATE INDEX tasks_completed_by ON tasks (completed_by);

CREATE TRIGGER tasks_list_id_on_insert BEFORE INSERT ON tasks
    WHEN NEW.list_id IS NULL
    BEGIN SELECT RAISE(ABORT, 'NOT NULL constraint failed: tasks.list_id'); END;
CREATE TRIGGER tasks_list_id_on_update BEFORE UPDATE OF list_id ON tasks
    WHEN NEW.list_id IS NULL
    BEGIN SELECT RAISE(ABORT, 'NOT NULL constraint failed: tasks.list_id'); END;
