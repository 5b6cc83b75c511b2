-- A room's own on-hold music (a WAV path on the server; NULL = the configured default) and
-- whether its callers may switch the prompt language (NULL = the configured default).
ALTER TABLE rooms ADD COLUMN music TEXT;
ALTER TABLE rooms ADD COLUMN language_switch INTEGER;
