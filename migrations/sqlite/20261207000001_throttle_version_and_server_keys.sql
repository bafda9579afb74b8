-- Login throttle entries are changed by compare-and-swap on this counter,
-- so concurrent attempts each see the one before them: a burst cannot get
-- more guesses than the same attempts made one after another.
ALTER TABLE auth_throttle ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

-- Keys every instance of one deployment must share (the CSRF key): made
-- once by whichever instance starts first, then read by all.
CREATE TABLE server_keys (
    name  TEXT  PRIMARY KEY,
    value BLOB NOT NULL
);
