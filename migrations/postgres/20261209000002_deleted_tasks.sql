-- Deleted tasks are kept whole for a while (DELETED_RETENTION, 30 days by
-- default) instead of vanishing: Undo puts back the same task (its id,
-- history, list and place), and CalDAV's sync-collection will report them
-- as tombstones (docs/deletion.md). A row leaves this table when the task
-- is restored, when it is purged, or with its list. `id` is the task's
-- own: task ids are never reused, so it names one task for good.
CREATE TABLE deleted_tasks (
    id           BIGINT      PRIMARY KEY,
    list_id      BIGINT      NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    title        TEXT        NOT NULL,
    priority     SMALLINT    NOT NULL,
    completed    BOOLEAN     NOT NULL,
    position     BIGINT      NOT NULL,
    due          DATE,
    due_time     TIME,
    version      BIGINT      NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    created_by   BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    completed_by BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    deleted_at   TIMESTAMPTZ NOT NULL,
    deleted_by   BIGINT      REFERENCES users (id) ON DELETE SET NULL
);
-- A list's deletions since a moment (sync), and the purge of old ones.
CREATE INDEX deleted_tasks_list ON deleted_tasks (list_id, deleted_at);
CREATE INDEX deleted_tasks_deleted_at ON deleted_tasks (deleted_at);
-- An account's deletion clears these without reading the whole table.
CREATE INDEX deleted_tasks_created_by ON deleted_tasks (created_by);
CREATE INDEX deleted_tasks_completed_by ON deleted_tasks (completed_by);
CREATE INDEX deleted_tasks_deleted_by ON deleted_tasks (deleted_by);
