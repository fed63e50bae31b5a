-- +goose Up
-- Personal details (SPEC AC11): the card holder's billing address, as the issuer's
-- records hold it and as the member changes it. postcode_key is the postcode folded
-- (upper case, no spaces or hyphens) so "Forgot User ID" (SPEC ID8) compares what the
-- member types with what is stored the same way on both engines.
CREATE TABLE billing_addresses (
    cardholder_id INTEGER PRIMARY KEY REFERENCES cardholders(id),
    line1         TEXT NOT NULL,
    line2         TEXT NOT NULL DEFAULT '',
    city          TEXT NOT NULL,
    region        TEXT NOT NULL DEFAULT '',
    postcode      TEXT NOT NULL,
    postcode_key  TEXT NOT NULL,
    country       TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
);
-- "Forgot User ID" by email finds members by their email address regardless of
-- (ASCII) case.
CREATE INDEX members_email ON members(lower(email));

-- Alert preferences (SPEC AC12): one row per member and alert the member has set;
-- an alert with no row has its default. amount is a threshold in the account's minor
-- units, days a lead time.
CREATE TABLE alert_prefs (
    member_id  INTEGER NOT NULL REFERENCES members(id),
    kind       TEXT NOT NULL,
    email      BOOLEAN NOT NULL,
    sms        BOOLEAN NOT NULL,
    push       BOOLEAN NOT NULL,
    amount     INTEGER NOT NULL DEFAULT 0,
    days       INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (member_id, kind)
);

-- Alerts raised by jobs, one row per member, alert and subject (e.g. the statement a
-- payment-due alert is about): the primary key makes "send once" hold with any number
-- of instances running the job.
CREATE TABLE alert_log (
    member_id INTEGER NOT NULL REFERENCES members(id),
    kind      TEXT NOT NULL,
    ref       TEXT NOT NULL,
    sent_at   INTEGER NOT NULL,
    PRIMARY KEY (member_id, kind, ref)
);

-- Disputes and reports of suspicious activity (SPEC AC13). credit_posting_id and
-- reversal_posting_id are the provisional credit and its reversal in the ledger (0
-- for none). At most one dispute per posting is not yet resolved.
CREATE TABLE disputes (
    id                  INTEGER PRIMARY KEY,
    account_id          INTEGER NOT NULL REFERENCES accounts(id),
    posting_id          INTEGER NOT NULL REFERENCES postings(id),
    member_id           INTEGER NOT NULL REFERENCES members(id),
    reason              TEXT NOT NULL,
    detail              TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL,
    amount              INTEGER NOT NULL,
    currency            TEXT NOT NULL,
    credit_posting_id   INTEGER NOT NULL DEFAULT 0,
    reversal_posting_id INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX disputes_account ON disputes(account_id, created_at);
CREATE UNIQUE INDEX disputes_one_open ON disputes(posting_id) WHERE status IN ('open', 'under_review');

-- +goose Down
DROP TABLE disputes;
DROP TABLE alert_log;
DROP TABLE alert_prefs;
DROP INDEX members_email;
DROP TABLE billing_addresses;
