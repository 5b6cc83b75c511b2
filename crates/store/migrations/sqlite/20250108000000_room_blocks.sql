-- Callers barred from a room by "hang up and block": the invited number of an invitation
-- (kind 'invited', trusted: we dialled it) or the caller ID of a dial-in (kind 'caller-id',
-- best effort: caller IDs can be forged). `until` is Unix seconds, NULL for good.
CREATE TABLE room_blocks (
    room    TEXT    NOT NULL,
    who     TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    until   INTEGER,
    created INTEGER NOT NULL,
    PRIMARY KEY (room, who)
) STRICT;
