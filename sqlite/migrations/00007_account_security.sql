-- +goose Up
-- A session signed in with an expired password (SPEC ID11) may only change it: the
-- flag is on the session, so every instance enforces it from the shared store.
ALTER TABLE sessions ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;

-- The licence agreement each app installation accepted (SPEC ID12), per version: a
-- new version asks again. The installation's id is a bearer secret, kept hashed.
CREATE TABLE licence_acceptances (
    device_hash BLOB NOT NULL,
    version     TEXT NOT NULL,
    accepted_at INTEGER NOT NULL,
    ip          TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (device_hash, version)
);

-- Contact confirmation (SPEC ID4): when the member proved the phone number and the
-- email address by a code; 0 while unconfirmed.
ALTER TABLE members ADD COLUMN phone_verified_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN email_verified_at INTEGER NOT NULL DEFAULT 0;

-- The code last sent to confirm a contact, one per member and channel, kept as a
-- keyed MAC with its tries counted so guesses are bounded.
CREATE TABLE contact_codes (
    member_id  INTEGER NOT NULL REFERENCES members(id),
    channel    TEXT NOT NULL,
    address    TEXT NOT NULL,
    code_mac   BLOB NOT NULL,
    tries      INTEGER NOT NULL DEFAULT 0,
    is_change  BOOLEAN NOT NULL DEFAULT FALSE, -- a new address waiting to replace the old
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (member_id, channel)
);

-- +goose Down
DROP TABLE contact_codes;
ALTER TABLE members DROP COLUMN email_verified_at;
ALTER TABLE members DROP COLUMN phone_verified_at;
DROP TABLE licence_acceptances;
ALTER TABLE sessions DROP COLUMN must_change_password;
