-- A user's own settings (the window's Account page): the time zone the window shows times
-- in and the scheduling form starts from, and the window's language. NULL: not chosen (the
-- server's [schedule] time_zone; the browser's language). The form's last time zone, kept
-- until now with the form's other remembered values, becomes the setting.
CREATE TABLE user_settings (
    user        TEXT PRIMARY KEY NOT NULL REFERENCES sip_users(number) ON DELETE CASCADE,
    time_zone   TEXT,
    language    TEXT CHECK (language IN ('en', 'de'))
) STRICT;

INSERT INTO user_settings (user, time_zone)
    SELECT user, time_zone FROM schedule_preferences WHERE time_zone IS NOT NULL;

ALTER TABLE schedule_preferences DROP COLUMN time_zone;
