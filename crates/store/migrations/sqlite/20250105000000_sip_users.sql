-- Users of the built-in registrar: internal numbers with digest hashes (HA1 per
-- algorithm, never the password), and the phones' current bindings.
CREATE TABLE sip_users (
    number      TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    realm       TEXT NOT NULL,
    ha1_md5     TEXT NOT NULL,
    ha1_sha256  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE sip_bindings (
    number      TEXT NOT NULL REFERENCES sip_users(number) ON DELETE CASCADE,
    contact     TEXT NOT NULL,
    source      TEXT NOT NULL,
    transport   TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (number, contact)
);
