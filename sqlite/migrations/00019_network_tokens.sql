-- +goose Up
-- Network tokens (see authorize/token.go): numbers a wallet or a merchant holds in
-- place of the card number, issued by the card network's token service, which tells
-- the issuer of each token, its expiry and its status changes. A token is found by
-- its keyed fingerprint, like a card; the token number itself is not kept, only its
-- last digits to name it. A token stands for one card for its whole life.
CREATE TABLE network_tokens (
    id                INTEGER PRIMARY KEY,
    token_fingerprint BLOB NOT NULL UNIQUE,
    card_id           INTEGER NOT NULL REFERENCES cards(id),
    last_digits       TEXT NOT NULL,
    exp_month         INTEGER NOT NULL,
    exp_year          INTEGER NOT NULL,
    status            TEXT NOT NULL,
    wallet            TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX network_tokens_card ON network_tokens(card_id);

-- +goose Down
DROP TABLE network_tokens;
