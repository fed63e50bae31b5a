-- +goose Up
-- Payments (SPEC AC4). A linked bank account keeps its number only sealed by the HSM
-- (number_sealed under number_key_id) and as a keyed MAC for finding a second link of
-- the same number; screens get last4. Unlinking sets removed_at, so the payments that
-- used it keep their history; the unique index covers linked ones only.
CREATE TABLE bank_accounts (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts(id),
    member_id      INTEGER NOT NULL REFERENCES members(id),
    nickname       TEXT NOT NULL DEFAULT '',
    routing_number TEXT NOT NULL,
    number_sealed  BLOB NOT NULL,
    number_key_id  TEXT NOT NULL,
    number_mac     BLOB NOT NULL,
    last4          TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    removed_at     INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX bank_accounts_linked ON bank_accounts(account_id, routing_number, number_mac) WHERE removed_at = 0;

-- One row per payment; status follows the machine in package payment. The client's
-- idempotency key is unique per card account, so a retried or double-submitted
-- request finds the payment it made; request is the canonical form of what was asked,
-- to tell a retry from a reused key. pay_on is a civil date; posting_id is the ledger
-- posting once posted (its key is "payment:<id>").
CREATE TABLE payments (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    member_id       INTEGER NOT NULL REFERENCES members(id),
    bank_account_id INTEGER NOT NULL REFERENCES bank_accounts(id),
    amount          INTEGER NOT NULL CHECK (amount > 0),
    currency        TEXT NOT NULL,
    pay_on          TEXT NOT NULL,
    status          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    confirmation    TEXT NOT NULL UNIQUE,
    idempotency_key TEXT NOT NULL,
    request         TEXT NOT NULL,
    posting_id      INTEGER REFERENCES postings(id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    posted_at       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, idempotency_key)
);
-- The job looks for what is due by status and date; the lists page by account.
CREATE INDEX payments_due ON payments(status, pay_on);
CREATE INDEX payments_account ON payments(account_id, pay_on);

-- Autopay: at most one setting per card account.
CREATE TABLE autopay (
    account_id      INTEGER PRIMARY KEY REFERENCES accounts(id),
    member_id       INTEGER NOT NULL REFERENCES members(id),
    bank_account_id INTEGER NOT NULL REFERENCES bank_accounts(id),
    rule            TEXT NOT NULL,
    amount          INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL
);

-- +goose Down
DROP TABLE autopay;
DROP TABLE payments;
DROP TABLE bank_accounts;
