-- A due date may carry a time of day. `due_time` is a wall-clock time with
-- no zone ("floating", as iCalendar's DUE without TZID): 09:00 is nine in
-- the morning wherever the reader is. Stored as sqlx writes a time
-- ("09:00:00"), so text order is time order. A time needs a date, here
-- too; the column is new, so every existing row passes the check.
ALTER TABLE tasks ADD COLUMN due_time TEXT CHECK (due_time IS NULL OR due IS NOT NULL);
