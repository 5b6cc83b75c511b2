-- A room's PIN (digits; NULL = no PIN) and its prompt language (NULL = the configured default).
-- PINs of rooms are unique so a PIN entered on a shared dial-in number selects one room.
ALTER TABLE rooms ADD COLUMN pin TEXT;
ALTER TABLE rooms ADD COLUMN language TEXT;
CREATE UNIQUE INDEX rooms_pin_unique ON rooms (pin) WHERE pin IS NOT NULL;
