-- +goose Up
-- The ledger (SPEC AC1, AC2): every posting says which card it was made with (NULL for
-- account-level entries such as payments and interest), where, and whether it is still
-- a pending authorisation hold or posted. search is the lower-cased merchant and
-- description, folded in Go so that case-insensitive search behaves the same on both
-- engines (SQLite's lower() folds ASCII only).
ALTER TABLE postings ADD COLUMN card_id BIGINT REFERENCES cards(id);
ALTER TABLE postings ADD COLUMN merchant TEXT NOT NULL DEFAULT '';
ALTER TABLE postings ADD COLUMN mcc TEXT NOT NULL DEFAULT '';
ALTER TABLE postings ADD COLUMN city TEXT NOT NULL DEFAULT '';
ALTER TABLE postings ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE postings ADD COLUMN channel TEXT NOT NULL DEFAULT '';
ALTER TABLE postings ADD COLUMN status TEXT NOT NULL DEFAULT 'posted';
ALTER TABLE postings ADD COLUMN search TEXT NOT NULL DEFAULT '';
UPDATE postings SET search = lower(description);
-- The transaction list pages newest first by (posted_at, id) within an account:
-- postings_account_time is that keyset, and replaces 00001's (account_id, posted_at).
-- Merchant search is a substring match (LIKE '%...%'), which no B-tree index can
-- serve; within one account's rows it is a short scan. A card's own history (an
-- additional member's list, and velocity checks on authorisations later) has its own
-- index.
CREATE INDEX postings_account_time ON postings(account_id, posted_at, id);
DROP INDEX postings_account;
CREATE INDEX postings_card_time ON postings(card_id, posted_at, id);

-- +goose Down
DROP INDEX postings_card_time;
CREATE INDEX postings_account ON postings(account_id, posted_at);
DROP INDEX postings_account_time;
ALTER TABLE postings DROP COLUMN search;
ALTER TABLE postings DROP COLUMN status;
ALTER TABLE postings DROP COLUMN channel;
ALTER TABLE postings DROP COLUMN country;
ALTER TABLE postings DROP COLUMN city;
ALTER TABLE postings DROP COLUMN mcc;
ALTER TABLE postings DROP COLUMN merchant;
ALTER TABLE postings DROP COLUMN card_id;
