-- +goose Up
-- Monthly statements (SPEC AC3). A statement is the record of a closed billing cycle:
-- its figures are computed from the postings of the cycle when it closes and never
-- change afterwards, so a reprint always matches what the member was sent. Dates are
-- civil 'YYYY-MM-DD' text; the cycle covers postings with period_start <= date <=
-- closing_date. One statement per account and closing date, so a rerun of the close job
-- for a date adds nothing.
CREATE TABLE statements (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    period_start    TEXT NOT NULL,
    closing_date    TEXT NOT NULL,
    due_date        TEXT NOT NULL,
    currency        TEXT NOT NULL,
    opening_balance INTEGER NOT NULL,
    purchases       INTEGER NOT NULL, -- purchases and fees, positive
    credits         INTEGER NOT NULL, -- payments, refunds and credits, negative
    interest        INTEGER NOT NULL,
    closing_balance INTEGER NOT NULL,
    minimum_due     INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (account_id, closing_date)
);

-- +goose Down
DROP TABLE statements;
