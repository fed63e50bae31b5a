-- +goose Up
-- A persistent job queue for background work (notification delivery now; statement
-- close and scheduled payments later). A pending job is claimable from run_at; a
-- claimed (running) job whose lease_until has passed is claimable again, so work held
-- by an instance that died is not lost. dedupe_key is NULL for jobs that need none.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      BLOB NOT NULL,
    run_at       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    state        TEXT NOT NULL,
    last_error   TEXT NOT NULL DEFAULT '',
    dedupe_key   TEXT UNIQUE,
    lease_until  INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs(state, run_at);

-- Delivery state of each notification, for the outbox page and operators. An empty
-- delivery_state is a message kept in the development outbox and never sent.
ALTER TABLE outbox ADD COLUMN delivery_state TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN delivered_at INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE outbox DROP COLUMN delivered_at;
ALTER TABLE outbox DROP COLUMN last_error;
ALTER TABLE outbox DROP COLUMN attempts;
ALTER TABLE outbox DROP COLUMN delivery_state;
DROP TABLE jobs;
