-- The room-wide mute ("mute all"), kept with the room so it also applies to later joiners
-- and survives a restart; and a version counter that every change to rooms bumps (from
-- any process), so a running server notices `konferenz room ...` within a poll.
ALTER TABLE rooms ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;

CREATE TABLE rooms_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO rooms_version (id, version) VALUES (1, 0);

CREATE TRIGGER rooms_version_insert AFTER INSERT ON rooms
BEGIN UPDATE rooms_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER rooms_version_update AFTER UPDATE ON rooms
BEGIN UPDATE rooms_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER rooms_version_delete AFTER DELETE ON rooms
BEGIN UPDATE rooms_version SET version = version + 1 WHERE id = 1; END;

-- The history API pages a room's past calls.
CREATE INDEX participant_events_room_call ON participant_events (room, call);
