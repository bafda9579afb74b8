-- A due date may carry a time of day. `due_time` is a wall-clock time with
-- no zone ("floating", as iCalendar's DUE without TZID): 09:00 is nine in
-- the morning wherever the reader is. A time needs a date, here too.
ALTER TABLE tasks ADD COLUMN due_time TIME CHECK (due_time IS NULL OR due IS NOT NULL);
