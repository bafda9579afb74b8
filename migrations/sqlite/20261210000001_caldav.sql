-- CalDAV (docs/caldav.md). Each task keeps the VTODO a client sent
-- (`ical`, NULL for a task only ever made or changed in the pages or the
-- API), its UID and the name of its resource in the list's collection.
-- Tasks made elsewhere get a random UID and name once, here or when they
-- are inserted, and keep them: clients find them by those for good.
ALTER TABLE tasks ADD COLUMN caldav_uid TEXT;
ALTER TABLE tasks ADD COLUMN caldav_name TEXT;
ALTER TABLE tasks ADD COLUMN ical TEXT;
-- The change number of the task's last change: sync tokens are change
-- numbers ("everything from this one on").
ALTER TABLE tasks ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deleted_tasks ADD COLUMN caldav_uid TEXT;
ALTER TABLE deleted_tasks ADD COLUMN caldav_name TEXT;
ALTER TABLE deleted_tasks ADD COLUMN ical TEXT;
-- Tokens older than this are refused (RFC 6578 valid-sync-token): the
-- departures that would answer them were purged.
ALTER TABLE lists ADD COLUMN sync_floor INTEGER NOT NULL DEFAULT 0;
-- Apple's calendar-color and calendar-order, as a client set them.
ALTER TABLE lists ADD COLUMN color TEXT;
-- The name of the list's collection when a client made it (MKCALENDAR);
-- lists made elsewhere are named by their id.
ALTER TABLE lists ADD COLUMN caldav_name TEXT;
ALTER TABLE lists ADD COLUMN caldav_order INTEGER;

-- SQLite has one writer at a time, so one counter row orders every change
-- exactly as it commits.
CREATE TABLE change_counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO change_counter (id, value) VALUES (1, 0);

UPDATE tasks SET caldav_uid = lower(hex(randomblob(16))),
                 caldav_name = lower(hex(randomblob(16))) || '.ics';

-- Every way a task leaves a list (deleted, moved to another list, cleared
-- by an import, purged with its list) leaves a row here: the tombstones of
-- sync-collection. Purged after DELETED_RETENTION, raising the list's
-- sync_floor.
CREATE TABLE task_departures (
    list_id     INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    task_id     INTEGER NOT NULL,
    caldav_name TEXT    NOT NULL,
    departed_at INTEGER NOT NULL,
    change_seq  INTEGER NOT NULL
);
CREATE INDEX task_departures_list ON task_departures (list_id, change_seq);
CREATE INDEX task_departures_departed_at ON task_departures (departed_at);
CREATE INDEX tasks_list_change ON tasks (list_id, change_seq);
CREATE INDEX tasks_list_caldav_name ON tasks (list_id, caldav_name);
CREATE INDEX tasks_list_caldav_uid ON tasks (list_id, caldav_uid);

-- A new task takes the next change number and, unless it came with them,
-- a UID and a resource name. Setting change_seq keeps the trigger below
-- from firing for this update.
CREATE TRIGGER tasks_caldav_on_insert AFTER INSERT ON tasks
BEGIN
    UPDATE change_counter SET value = value + 1;
    UPDATE tasks SET change_seq = (SELECT value FROM change_counter),
                     caldav_uid = COALESCE(caldav_uid, lower(hex(randomblob(16)))),
                     caldav_name = COALESCE(caldav_name, lower(hex(randomblob(16))) || '.ics')
     WHERE id = NEW.id;
END;
CREATE TRIGGER tasks_caldav_on_update AFTER UPDATE ON tasks
    WHEN NEW.change_seq = OLD.change_seq
BEGIN
    UPDATE change_counter SET value = value + 1;
    UPDATE tasks SET change_seq = (SELECT value FROM change_counter) WHERE id = NEW.id;
END;
-- Imports stage tasks in lists no account owns (owner < 0): nobody syncs
-- those, so what leaves them is not noted.
CREATE TRIGGER tasks_caldav_on_move AFTER UPDATE OF list_id ON tasks
    WHEN NEW.list_id <> OLD.list_id
     AND (SELECT owner FROM lists WHERE id = OLD.list_id) >= 0
BEGIN
    UPDATE change_counter SET value = value + 1;
    INSERT INTO task_departures (list_id, task_id, caldav_name, departed_at, change_seq)
    VALUES (OLD.list_id, OLD.id, OLD.caldav_name, CAST(strftime('%s', 'now') AS INTEGER),
            (SELECT value FROM change_counter));
END;
CREATE TRIGGER tasks_caldav_on_delete AFTER DELETE ON tasks
BEGIN
    UPDATE change_counter SET value = value + 1;
    INSERT INTO task_departures (list_id, task_id, caldav_name, departed_at, change_seq)
    SELECT OLD.list_id, OLD.id, OLD.caldav_name, CAST(strftime('%s', 'now') AS INTEGER),
           (SELECT value FROM change_counter)
     WHERE EXISTS (SELECT 1 FROM lists WHERE id = OLD.list_id AND owner >= 0);
END;
