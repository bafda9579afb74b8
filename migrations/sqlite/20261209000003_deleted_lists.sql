-- A deleted list is kept, with its tasks and members, for DELETED_RETENTION,
-- so its owner (the only one who may delete it) can undo the deletion
-- (docs/deletion.md). While `deleted_at` is set the list is invisible:
-- every statement that reaches a list for someone leaves it out
-- (db::tasks::readable_lists! and its kin, db::lists).
ALTER TABLE lists ADD COLUMN deleted_at TEXT;
-- The purge of lists deleted long enough ago.
CREATE INDEX lists_deleted_at ON lists (deleted_at) WHERE deleted_at IS NOT NULL;
