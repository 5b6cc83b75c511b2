-- Every state change of every participant (invited or dialled in), so the timelines
-- outlive a restart. `call` ids are unique across restarts (the server continues after
-- the highest one stored).
CREATE TABLE participant_events (
    id      INTEGER PRIMARY KEY,
    call    INTEGER NOT NULL,
    room    TEXT    NOT NULL,
    number  TEXT    NOT NULL,
    state   TEXT    NOT NULL,
    status  INTEGER,
    reason  TEXT,
    at      INTEGER NOT NULL
) STRICT;

CREATE INDEX participant_events_call ON participant_events (call, id);
