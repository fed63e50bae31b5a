-- +goose Up
-- The ledger (SPEC AC1, AC2): every posting says which card it was made with (NULL for
-- account-level entries such as payments and interest), where, and whether it is still
-- a pending authorisation hold or posted. search is the lower-cased merchant and
-- description, folded in Go so that case-insensitive search behaves the same on both
-- engines (SQLite's lower() folds ASCII only).
ALTER TABLE postings ADD COLUMN card_id INTEGER REFERENCES cards(id);
ALTER TABLE postings ADD COLUMN merchant TEXT NOT NULL DEFAULT '';
ALTER TABLE postings ADD COLUMN mcc TEXT NOT NULL DEFAULT '';
ALTER TABLE postings ADD COLUMN city TEXT NOT NULL DEFAULT '';
ALTER TABLE postings ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE postings ADD COLUMN channel TEXT NOT NULL DEFAULT '';
ALTER TABLE postings ADD COLUMN status TEXT NOT NULL DEFAULT 'posted';
ALTER TABLE postings ADD COLUMN search TEXT NOT NULL DEFAULT '';
UPDATE postings SET search = lower(description);
-- The transaction list pages newest first by (posted_at, id) within an account. In
-- SQLite every index ends with the rowid (here id), so 00001's postings_account
-- (account_id, posted_at) already is that keyset. Merchant search is a substring
-- match (LIKE '%...%'), which no B-tree index can serve; within one account's rows,
-- found by postings_account, it is a short scan. Each index slows the demo's first
-- load, so there is none for it. A card's own history (an additional member's list,
-- and velocity checks on authorisations later) has its own index.
CREATE INDEX postings_card_time ON postings(card_id, posted_at, id);

-- +goose Down
-- SQLite cannot drop a column that is part of a foreign key, so the table is rebuilt
-- as 00001 made it.
DROP INDEX postings_card_time;
DROP INDEX postings_account;
CREATE TABLE postings_v1 (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    amount          INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    posted_at       INTEGER NOT NULL,
    idempotency_key TEXT UNIQUE
);
INSERT INTO postings_v1 (id, account_id, amount, kind, description, posted_at, idempotency_key)
    SELECT id, account_id, amount, kind, description, posted_at, idempotency_key FROM postings;
DROP TABLE postings;
ALTER TABLE postings_v1 RENAME TO postings;
CREATE INDEX postings_account ON postings(account_id, posted_at);
