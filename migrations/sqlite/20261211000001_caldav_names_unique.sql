-- A resource name addresses one task of a collection: two tasks at one
-- name (two PUTs of a new name racing on PostgreSQL) would make GET, PUT
-- and DELETE pick one. Any such pair found is parted first: the later task
-- takes a name of its own, as tasks arriving at a taken name do (db::caldav).
UPDATE tasks SET caldav_name = CAST(id AS TEXT) || '-' || caldav_name
 WHERE EXISTS (SELECT 1 FROM tasks e
                WHERE e.list_id = tasks.list_id AND e.caldav_name = tasks.caldav_name
                  AND e.id < tasks.id);
DROP INDEX tasks_list_caldav_name;
CREATE UNIQUE INDEX tasks_list_caldav_name ON tasks (list_id, caldav_name);
