-- +goose Up
-- Rewards, offers and benefits (SPEC AC5, AC6). The issuer's programme (earn rates,
-- catalogue, offers, benefits) is reference data loaded by the issuer (the demo seeds
-- it); the rest is what members and the sweep do with it.

-- Earn rates per product: points per 100 minor units of a posted purchase. The row with
-- mcc '' is the product's base rate; a row with an MCC is a bonus category.
CREATE TABLE reward_rates (
    product_id     INTEGER NOT NULL REFERENCES products(id),
    mcc            TEXT NOT NULL,
    points_per_100 INTEGER NOT NULL,
    PRIMARY KEY (product_id, mcc)
);

-- The catalogue. points is the price of a fixed item, or the minimum of an item with a
-- step (the member chooses any multiple of step from points up). value is what a
-- statement credit is worth: minor units of currency per 100 points.
CREATE TABLE reward_items (
    id       INTEGER PRIMARY KEY,
    code     TEXT NOT NULL UNIQUE,
    kind     TEXT NOT NULL,
    points   INTEGER NOT NULL,
    step     INTEGER NOT NULL,
    value    INTEGER NOT NULL,
    currency TEXT NOT NULL,
    position INTEGER NOT NULL
);

-- One row per account that has redeemed: its version is bumped by every redemption,
-- a conditional UPDATE that serialises the account's redemptions on both engines.
CREATE TABLE reward_accounts (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
    version    INTEGER NOT NULL
);

CREATE TABLE reward_redemptions (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    cardholder_id   INTEGER NOT NULL REFERENCES cardholders(id),
    item_id         INTEGER NOT NULL REFERENCES reward_items(id),
    points          INTEGER NOT NULL,
    credit          INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    posting_id      INTEGER REFERENCES postings(id),
    idempotency_key TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (account_id, idempotency_key)
);

-- The points ledger: the account's balance is SUM(points). A purchase or refund has at
-- most one row (posting_id unique), so the sweep that fills it is idempotent; matched
-- is the purchase a refund's reversal takes back from (0 when none matched).
CREATE TABLE reward_points (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    kind          TEXT NOT NULL,
    points        INTEGER NOT NULL,
    posting_id    INTEGER UNIQUE REFERENCES postings(id),
    matched_id    INTEGER NOT NULL DEFAULT 0,
    redemption_id INTEGER UNIQUE REFERENCES reward_redemptions(id),
    description   TEXT NOT NULL,
    at            INTEGER NOT NULL
);
CREATE INDEX reward_points_account ON reward_points(account_id, at);
CREATE INDEX reward_points_matched ON reward_points(matched_id);
-- The sweep looks for earning postings without an entry; this index holds only those
-- postings, so the look walks a narrow index rather than every wide posting row.
CREATE INDEX postings_rewardable ON postings(id) WHERE kind IN ('purchase', 'refund') AND status = 'posted';

-- Benefits per product: text is a message ID, so the list is translated.
CREATE TABLE benefits (
    product_id INTEGER NOT NULL REFERENCES products(id),
    position   INTEGER NOT NULL,
    text_id    TEXT NOT NULL,
    PRIMARY KEY (product_id, position)
);

-- Merchant offers: a posted purchase on an enrolled card, at the merchant (exact name,
-- '' for any) and/or in the MCC ('' for any), of at least min_spend, between starts_on
-- and ends_on (civil dates, inclusive) earns credit once.
CREATE TABLE offers (
    id        INTEGER PRIMARY KEY,
    code      TEXT NOT NULL UNIQUE,
    merchant  TEXT NOT NULL,
    mcc       TEXT NOT NULL,
    min_spend INTEGER NOT NULL,
    credit    INTEGER NOT NULL,
    currency  TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on   TEXT NOT NULL
);

CREATE TABLE offer_enrolments (
    id          INTEGER PRIMARY KEY,
    offer_id    INTEGER NOT NULL REFERENCES offers(id),
    card_id     INTEGER NOT NULL REFERENCES cards(id),
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    enrolled_at INTEGER NOT NULL,
    posting_id  INTEGER REFERENCES postings(id),
    UNIQUE (offer_id, card_id)
);
CREATE INDEX offer_enrolments_open ON offer_enrolments(offer_id) WHERE posting_id IS NULL;

-- +goose Down
DROP INDEX postings_rewardable;
DROP TABLE offer_enrolments;
DROP TABLE offers;
DROP TABLE benefits;
DROP TABLE reward_points;
DROP TABLE reward_redemptions;
DROP TABLE reward_accounts;
DROP TABLE reward_items;
DROP TABLE reward_rates;
