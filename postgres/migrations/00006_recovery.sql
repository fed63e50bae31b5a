-- +goose Up
-- Account recovery (SPEC ID9). A password reset is either a link (its token travels
-- in the email) or a one-time code sent to the registered email or phone (the token
-- stays with the browser or app that asked). The token is stored only as a SHA-256
-- hash and the code only as a keyed MAC; used_at makes each reset single use.
CREATE TABLE password_resets (
    token_hash BYTEA PRIMARY KEY,
    member_id  BIGINT NOT NULL REFERENCES members(id),
    method     TEXT NOT NULL,
    code_mac   BYTEA NOT NULL,
    code_tries BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX password_resets_member ON password_resets(member_id);

-- +goose Down
DROP TABLE password_resets;
