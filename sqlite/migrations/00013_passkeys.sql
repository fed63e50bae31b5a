-- +goose Up
-- Passkeys (WebAuthn, SPEC ID7). A credential id is globally unique: one authenticator
-- credential belongs to one member. The credential record is go-webauthn's JSON (public
-- key, flags, transports); the sign count sits beside it so a use can compare-and-set.
CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY,
    member_id     INTEGER NOT NULL REFERENCES members(id),
    credential_id BLOB NOT NULL UNIQUE,
    user_handle   BLOB NOT NULL,
    name          TEXT NOT NULL,
    credential    BLOB NOT NULL,
    sign_count    INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX passkeys_member ON passkeys(member_id);

-- Begun WebAuthn ceremonies: go-webauthn's session data (the challenge) kept on the
-- server, keyed by a hash of the ceremony's token, single use, with an expiry.
CREATE TABLE webauthn_challenges (
    token_hash BLOB PRIMARY KEY,
    purpose    TEXT NOT NULL,
    member_id  INTEGER NOT NULL DEFAULT 0,
    session    BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges(expires_at);

-- +goose Down
DROP TABLE webauthn_challenges;
DROP TABLE passkeys;
