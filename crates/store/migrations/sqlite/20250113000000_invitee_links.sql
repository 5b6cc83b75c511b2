-- Every invitee of a scheduled conference gets a personal link (its token kept as it is,
-- like a room's PIN: the mails carry it), with the conference's details and "Call me".
ALTER TABLE conference_invitees ADD COLUMN link_token TEXT;
CREATE UNIQUE INDEX conference_invitees_link ON conference_invitees (link_token)
    WHERE link_token IS NOT NULL;
