-- The registrar's users become the product's accounts (issue 10): an e-mail address to log
-- in with, the web password (an argon2id PHC string; NULL until one is set) and the flags
-- `admin` and `organiser`. Every existing user and binding stays as it is.
ALTER TABLE sip_users ADD COLUMN email TEXT;
ALTER TABLE sip_users ADD COLUMN web_password TEXT;
ALTER TABLE sip_users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sip_users ADD COLUMN organiser INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX sip_users_email ON sip_users (lower(email)) WHERE email IS NOT NULL;
