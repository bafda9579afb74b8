-- A counter that every committed change to `tasks` raises, so an instance can
-- tell with one cheap read whether a list it built earlier is still current,
-- whoever made the change (another instance, an import, psql).
--
-- The count is spread over slots chosen by the writing backend, and readers
-- add them up: a single row would be locked by each writer until it commits,
-- making concurrent writes wait for each other's fsync. The sum only grows,
-- and it grows exactly when a change commits, in the same transaction.
CREATE TABLE task_revisions (
    slot     SMALLINT PRIMARY KEY,
    revision BIGINT   NOT NULL
);

CREATE FUNCTION count_task_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_revisions (slot, revision) VALUES (pg_backend_pid() % 128, 1)
    ON CONFLICT (slot) DO UPDATE SET revision = task_revisions.revision + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_count_revision
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tasks
    FOR EACH STATEMENT EXECUTE FUNCTION count_task_revision();
