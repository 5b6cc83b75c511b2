-- The server's index of PINs follows scheduled conferences too: every change to one moves
-- the same counter as a change to a room (polled every 250 ms).
CREATE TRIGGER scheduled_version_insert AFTER INSERT ON scheduled_conferences
BEGIN UPDATE rooms_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER scheduled_version_update AFTER UPDATE ON scheduled_conferences
BEGIN UPDATE rooms_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER scheduled_version_delete AFTER DELETE ON scheduled_conferences
BEGIN UPDATE rooms_version SET version = version + 1 WHERE id = 1; END;
