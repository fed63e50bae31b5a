-- +goose Up
-- Times are unix microseconds (INTEGER) and civil dates are 'YYYY-MM-DD' text, in both
-- engines, so one SQL text serves SQLite and PostgreSQL and ordering is exact.
CREATE TABLE products (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    pan_length INTEGER NOT NULL,
    currency   TEXT NOT NULL
);

CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY,
    product_id   INTEGER NOT NULL REFERENCES products(id),
    currency     TEXT NOT NULL,
    credit_limit INTEGER NOT NULL,
    payment_due  TEXT NOT NULL DEFAULT '',
    minimum_due  INTEGER NOT NULL DEFAULT 0,
    opened_at    INTEGER NOT NULL
);

CREATE TABLE cardholders (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    basic           BOOLEAN NOT NULL,
    name            TEXT NOT NULL,
    birth_date      TEXT NOT NULL,
    national_id_mac BLOB NOT NULL,
    email           TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX cardholders_account ON cardholders(account_id);

CREATE TABLE cards (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    cardholder_id   INTEGER NOT NULL REFERENCES cardholders(id),
    pan_sealed      BLOB NOT NULL,
    pan_key_id      TEXT NOT NULL,
    pan_fingerprint BLOB NOT NULL UNIQUE,
    last_digits     TEXT NOT NULL,
    exp_month       INTEGER NOT NULL,
    exp_year        INTEGER NOT NULL,
    state           TEXT NOT NULL,
    issued_at       INTEGER NOT NULL
);
CREATE INDEX cards_account ON cards(account_id);
CREATE INDEX cards_cardholder ON cards(cardholder_id);

CREATE TABLE postings (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    amount          INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    posted_at       INTEGER NOT NULL,
    idempotency_key TEXT UNIQUE
);
CREATE INDEX postings_account ON postings(account_id, posted_at);

CREATE TABLE members (
    id                  INTEGER PRIMARY KEY,
    user_id             TEXT NOT NULL,
    user_id_key         TEXT NOT NULL UNIQUE,
    cardholder_id       INTEGER NOT NULL UNIQUE REFERENCES cardholders(id),
    name                TEXT NOT NULL,
    email               TEXT NOT NULL DEFAULT '',
    phone               TEXT NOT NULL DEFAULT '',
    locale              TEXT NOT NULL DEFAULT '',
    created_at          INTEGER NOT NULL,
    password_hash       TEXT NOT NULL,
    password_changed_at INTEGER NOT NULL,
    failed_count        INTEGER NOT NULL DEFAULT 0,
    locked_until        INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE password_history (
    id         INTEGER PRIMARY KEY,
    member_id  INTEGER NOT NULL REFERENCES members(id),
    hash       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX password_history_member ON password_history(member_id, id);

CREATE TABLE security_answers (
    member_id   INTEGER NOT NULL REFERENCES members(id),
    question_id TEXT NOT NULL,
    answer_hash TEXT NOT NULL,
    PRIMARY KEY (member_id, question_id)
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE,
    member_id    INTEGER NOT NULL REFERENCES members(id),
    client       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    idle_seconds INTEGER NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    revoked_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_member ON sessions(member_id, created_at);

CREATE TABLE security_events (
    id         INTEGER PRIMARY KEY,
    member_id  INTEGER NOT NULL DEFAULT 0,
    kind       TEXT NOT NULL,
    at         INTEGER NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX security_events_member ON security_events(member_id, id);

CREATE TABLE throttle (
    key          TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    window_end   INTEGER NOT NULL,
    count        INTEGER NOT NULL
);

CREATE TABLE flows (
    token_hash    BLOB PRIMARY KEY,
    kind          TEXT NOT NULL,
    cardholder_id INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);

CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    member_id  INTEGER NOT NULL DEFAULT 0,
    channel    TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE outbox;
DROP TABLE flows;
DROP TABLE throttle;
DROP TABLE security_events;
DROP TABLE sessions;
DROP TABLE security_answers;
DROP TABLE password_history;
DROP TABLE members;
DROP TABLE postings;
DROP TABLE cards;
DROP TABLE cardholders;
DROP TABLE accounts;
DROP TABLE products;
