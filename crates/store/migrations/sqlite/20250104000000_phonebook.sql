-- The phone book: people and lines that can be invited by name. Numbers are E.164 and
-- unique across the book, so one number always means one entry (imports merge on it).
CREATE TABLE phonebook_entries (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    company    TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- An entry's numbers in the order they were given; `position` keeps that order.
CREATE TABLE phonebook_numbers (
    entry_id INTEGER NOT NULL REFERENCES phonebook_entries (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    label    TEXT    NOT NULL CHECK (label IN ('work', 'mobile', 'home', 'other')),
    number   TEXT    NOT NULL UNIQUE,
    PRIMARY KEY (entry_id, position)
) STRICT;
