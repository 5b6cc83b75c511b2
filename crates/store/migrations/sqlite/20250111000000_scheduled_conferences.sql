-- Scheduled conferences (issue 11): a PIN valid in a window (opens = start − dial-in
-- minutes, closes = end + grace; Unix seconds), the invitees, each user's remembered form
-- values, and the mail outbox — every mail is written here in the same transaction as the
-- change that causes it, and a worker sends it (at least once).
CREATE TABLE scheduled_conferences (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    owner               TEXT NOT NULL REFERENCES sip_users(number) ON DELETE CASCADE,
    uid                 TEXT NOT NULL UNIQUE,
    title               TEXT NOT NULL,
    description         TEXT NOT NULL,
    location            TEXT NOT NULL,
    starts_at           INTEGER NOT NULL,
    ends_at             INTEGER NOT NULL,
    opens_at            INTEGER NOT NULL,
    closes_at           INTEGER NOT NULL,
    time_zone           TEXT NOT NULL,
    dial_in_minutes     INTEGER NOT NULL,
    pin                 TEXT NOT NULL,
    reply_to            TEXT,
    language            TEXT NOT NULL,
    sequence            INTEGER NOT NULL DEFAULT 0,
    cancelled_at        INTEGER,
    created_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX scheduled_conferences_window ON scheduled_conferences (closes_at, opens_at);

CREATE TABLE conference_invitees (
    conference      INTEGER NOT NULL REFERENCES scheduled_conferences(id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    phone           TEXT,
    call_at_start   INTEGER NOT NULL DEFAULT 0,
    added_at        INTEGER NOT NULL,
    PRIMARY KEY (conference, email)
) STRICT;

CREATE TABLE schedule_preferences (
    user            TEXT PRIMARY KEY NOT NULL REFERENCES sip_users(number) ON DELETE CASCADE,
    time_zone       TEXT,
    reply_to        TEXT,
    participants    TEXT NOT NULL DEFAULT '[]'
) STRICT;

CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conference      INTEGER REFERENCES scheduled_conferences(id) ON DELETE SET NULL,
    recipient       TEXT NOT NULL,
    sender          TEXT NOT NULL,
    message         BLOB NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
) STRICT;
CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at);
