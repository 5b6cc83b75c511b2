-- The conference window (issue 10): rooms get an owner and may be shared with other users;
-- browser sessions, API tokens and invitees' personal links. Session ids and API tokens are
-- stored only as SHA-256 hashes (they are long random strings, so a fast hash suffices);
-- a personal link's token is kept as it is, like a room's PIN, because the window shows it.
ALTER TABLE rooms ADD COLUMN owner TEXT REFERENCES sip_users(number) ON DELETE SET NULL;
-- A user's personal room is the room with their own number.
UPDATE rooms SET owner = number WHERE number IN (SELECT number FROM sip_users);

CREATE TABLE room_shares (
    room    TEXT NOT NULL REFERENCES rooms(number) ON DELETE CASCADE,
    user    TEXT NOT NULL REFERENCES sip_users(number) ON DELETE CASCADE,
    PRIMARY KEY (room, user)
);
CREATE INDEX room_shares_user ON room_shares (user);

CREATE TABLE web_sessions (
    id_hash     BLOB PRIMARY KEY NOT NULL,
    user        TEXT NOT NULL REFERENCES sip_users(number) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user         TEXT NOT NULL REFERENCES sip_users(number) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);

CREATE TABLE invitee_links (
    token       TEXT PRIMARY KEY NOT NULL,
    room        TEXT NOT NULL REFERENCES rooms(number) ON DELETE CASCADE,
    number      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
-- One live link per invitee and room; a revoked one stays for the record.
CREATE UNIQUE INDEX invitee_links_live ON invitee_links (room, number) WHERE revoked_at IS NULL;

-- A user added after their room: the room becomes theirs unless someone owns it.
CREATE TRIGGER sip_users_own_room AFTER INSERT ON sip_users BEGIN
    UPDATE rooms SET owner = NEW.number WHERE number = NEW.number AND owner IS NULL;
END;
