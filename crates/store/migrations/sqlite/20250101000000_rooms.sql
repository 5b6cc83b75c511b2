-- Conference rooms: the numbers callers dial.
CREATE TABLE rooms (
    number     TEXT    PRIMARY KEY NOT NULL,
    name       TEXT,
    created_at INTEGER NOT NULL
) STRICT;
