-- The scheduling form's default texts as an administrator set them in the window (per
-- language); without a row the configured defaults ([schedule] default_*) apply.
CREATE TABLE schedule_defaults (
    lang        TEXT PRIMARY KEY NOT NULL CHECK (lang IN ('en', 'de')),
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    location    TEXT NOT NULL
) STRICT;
