-- CalDAV (docs/caldav.md). Each task keeps the VTODO a client sent
-- (`ical`, NULL for a task only ever made or changed in the pages or the
-- API), its UID and the name of its resource in the list's collection.
-- Tasks made elsewhere get a random UID and name once, here or when they
-- are inserted, and keep them: clients find them by those for good.
ALTER TABLE tasks ADD COLUMN caldav_uid TEXT;
ALTER TABLE tasks ADD COLUMN caldav_name TEXT;
ALTER TABLE tasks ADD COLUMN ical TEXT;
-- The change number of the task's last change: the id of the transaction
-- that made it. Sync tokens are change numbers ("everything from this one
-- on"), handed out only below every transaction still running
-- (pg_snapshot_xmin), so a change that commits late is never skipped.
ALTER TABLE tasks ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deleted_tasks ADD COLUMN caldav_uid TEXT;
ALTER TABLE deleted_tasks ADD COLUMN caldav_name TEXT;
ALTER TABLE deleted_tasks ADD COLUMN ical TEXT;
-- Tokens older than this are refused (RFC 6578 valid-sync-token): the
-- departures that would answer them were purged.
ALTER TABLE lists ADD COLUMN sync_floor BIGINT NOT NULL DEFAULT 0;
-- Apple's calendar-color and calendar-order, as a client set them.
ALTER TABLE lists ADD COLUMN color TEXT;
-- The name of the list's collection when a client made it (MKCALENDAR);
-- lists made elsewhere are named by their id.
ALTER TABLE lists ADD COLUMN caldav_name TEXT;
ALTER TABLE lists ADD COLUMN caldav_order BIGINT;

UPDATE tasks SET caldav_uid = gen_random_uuid()::text,
                 caldav_name = gen_random_uuid()::text || '.ics',
                 change_seq = pg_current_xact_id()::text::bigint;

-- Every way a task leaves a list (deleted, moved to another list, cleared
-- by an import, purged with its list) leaves a row here: the tombstones of
-- sync-collection. Purged after DELETED_RETENTION, raising the list's
-- sync_floor.
CREATE TABLE task_departures (
    list_id     BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    task_id     BIGINT NOT NULL,
    caldav_name TEXT   NOT NULL,
    departed_at BIGINT NOT NULL,
    change_seq  BIGINT NOT NULL
);
CREATE INDEX task_departures_list ON task_departures (list_id, change_seq);
CREATE INDEX task_departures_departed_at ON task_departures (departed_at);
CREATE INDEX tasks_list_change ON tasks (list_id, change_seq);
CREATE INDEX tasks_list_caldav_name ON tasks (list_id, caldav_name);
CREATE INDEX tasks_list_caldav_uid ON tasks (list_id, caldav_uid);

CREATE FUNCTION stamp_task_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := pg_current_xact_id()::text::bigint;
    IF TG_OP = 'INSERT' THEN
        NEW.caldav_uid := COALESCE(NEW.caldav_uid, gen_random_uuid()::text);
        NEW.caldav_name := COALESCE(NEW.caldav_name, gen_random_uuid()::text || '.ics');
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tasks_stamp_change BEFORE INSERT OR UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION stamp_task_change();

-- Deletions are noted per statement (a bulk delete of thousands of tasks
-- is one INSERT), moves per row (they are rare, one task at a time).
CREATE FUNCTION note_task_deletions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A list purged with its tasks takes its departures with it, and
    -- imports stage tasks in lists no account owns (owner < 0), which
    -- nobody syncs.
    INSERT INTO task_departures (list_id, task_id, caldav_name, departed_at, change_seq)
    SELECT o.list_id, o.id, o.caldav_name, extract(epoch FROM now())::bigint,
           pg_current_xact_id()::text::bigint
      FROM gone o
     WHERE EXISTS (SELECT 1 FROM lists l WHERE l.id = o.list_id AND l.owner >= 0);
    RETURN NULL;
END
$$;
CREATE TRIGGER tasks_note_deletions AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION note_task_deletions();

CREATE FUNCTION note_task_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_departures (list_id, task_id, caldav_name, departed_at, change_seq)
    SELECT OLD.list_id, OLD.id, OLD.caldav_name, extract(epoch FROM now())::bigint,
           pg_current_xact_id()::text::bigint
     WHERE EXISTS (SELECT 1 FROM lists l WHERE l.id = OLD.list_id AND l.owner >= 0);
    RETURN NULL;
END
$$;
CREATE TRIGGER tasks_note_move AFTER UPDATE OF list_id ON tasks
    FOR EACH ROW WHEN (OLD.list_id IS DISTINCT FROM NEW.list_id)
    EXECUTE FUNCTION note_task_move();
