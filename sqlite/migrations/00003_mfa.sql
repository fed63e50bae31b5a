-- +goose Up
-- Second factors and step-up at sign-in (SPEC ID7). Device ids, flow tokens, one-time
-- codes and recovery codes are stored only as hashes or keyed MACs; the TOTP seed is
-- sealed under the HSM's seal key.
CREATE TABLE devices (
    id            INTEGER PRIMARY KEY,
    member_id     INTEGER NOT NULL REFERENCES members(id),
    id_hash       BLOB NOT NULL,
    label         TEXT NOT NULL DEFAULT '',
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    trusted_until INTEGER NOT NULL DEFAULT 0,
    revoked_at    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (member_id, id_hash)
);

CREATE TABLE stepup_flows (
    token_hash      BLOB PRIMARY KEY,
    member_id       INTEGER NOT NULL REFERENCES members(id),
    device_hash     BLOB NOT NULL,
    reasons         TEXT NOT NULL,
    question_id     TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    code_mac        BLOB NOT NULL,
    code_channel    TEXT NOT NULL DEFAULT '',
    code_expires_at INTEGER NOT NULL DEFAULT 0,
    code_tries      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX stepup_flows_member ON stepup_flows(member_id);

CREATE TABLE totp_factors (
    member_id    INTEGER PRIMARY KEY REFERENCES members(id),
    key_id       TEXT NOT NULL,
    secret       BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER NOT NULL DEFAULT 0,
    last_step    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY,
    member_id  INTEGER NOT NULL REFERENCES members(id),
    mac        BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (member_id, mac)
);

CREATE TABLE mfa_settings (
    member_id INTEGER PRIMARY KEY REFERENCES members(id),
    required  BOOLEAN NOT NULL
);

-- +goose Down
DROP TABLE mfa_settings;
DROP TABLE recovery_codes;
DROP TABLE totp_factors;
DROP TABLE stepup_flows;
DROP TABLE devices;
