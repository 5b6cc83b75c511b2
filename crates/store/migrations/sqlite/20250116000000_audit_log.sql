-- Who did what (audit log): logins and failed logins, administrators' changes, hang-ups
-- and blocks, PIN and login lockouts, scheduled conferences. Never PINs or passwords.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,           -- Unix seconds
    actor       TEXT NOT NULL,              -- a user's number, 'local administrator' or 'system'
    action      TEXT NOT NULL,              -- e.g. 'login', 'user.add', 'call.block'
    subject     TEXT NOT NULL DEFAULT '',   -- what it was done to: a room, user, call …
    detail      TEXT NOT NULL DEFAULT '',   -- a short human-readable addition
    source      TEXT                        -- the request's address, when there was one
) STRICT;

CREATE INDEX audit_log_at ON audit_log (at);
