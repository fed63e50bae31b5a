-- +goose Up
-- A stored step-up flow is either a sign-in's second factor or the re-identification
-- of a member who is already signed in (the PIN flow, SPEC AC8). The purpose keeps
-- the two apart: a re-identification flow must never finish a sign-in (it was started
-- without a password), and a sign-in flow must never stand in for a re-identification.
ALTER TABLE stepup_flows ADD COLUMN purpose TEXT NOT NULL DEFAULT 'signin';

-- +goose Down
ALTER TABLE stepup_flows DROP COLUMN purpose;
