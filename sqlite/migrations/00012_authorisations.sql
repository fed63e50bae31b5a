-- +goose Up
-- Real-time authorisations (SPEC AC15), see package authorize.
--
-- network_messages remembers every message the card network sent, once per message
-- id: a resend is answered from response and changes nothing; digest is a keyed MAC
-- of the message's contents (never the card number in clear), so a different message
-- under a used id is told apart from a resend.
CREATE TABLE network_messages (
    message_id  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    digest      BLOB NOT NULL,
    response    TEXT NOT NULL DEFAULT '',
    received_at INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per approved authorisation. Its hold is the pending posting posting_id; a
-- partial reversal replaces that posting by a smaller one, and clearing, a full
-- reversal or expiry marks it 'released' (postings never change amount).
CREATE TABLE authorisations (
    id          INTEGER PRIMARY KEY,
    message_id  TEXT NOT NULL UNIQUE,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    card_id     INTEGER NOT NULL REFERENCES cards(id),
    posting_id  INTEGER NOT NULL,
    amount      INTEGER NOT NULL,
    open_amount INTEGER NOT NULL,
    auth_code   TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
-- Velocity rules count a card's approvals in a window; the expiry sweep finds open
-- holds past their time.
CREATE INDEX authorisations_card_time ON authorisations(card_id, created_at);
CREATE INDEX authorisations_open ON authorisations(status, expires_at);

-- Wrong PINs per card, counted for the PIN whose card_pins.set_at is set_at: a new PIN
-- starts from zero without card servicing having to know about this table.
CREATE TABLE card_pin_tries (
    card_id  INTEGER PRIMARY KEY REFERENCES cards(id),
    set_at   INTEGER NOT NULL,
    failures INTEGER NOT NULL
);

-- Running totals of each account's posted and pending postings, kept by triggers so
-- that every writer (the demo load, payments, statements, authorisations) keeps them
-- right. An authorisation reads them instead of summing an account's history, which
-- grows without bound; account.Summary still sums, so the two can be compared.
CREATE TABLE account_totals (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
    posted     INTEGER NOT NULL DEFAULT 0,
    pending    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO account_totals (account_id, posted, pending)
SELECT a.id,
       COALESCE(SUM(CASE WHEN p.status = 'posted' THEN p.amount END), 0),
       COALESCE(SUM(CASE WHEN p.status = 'pending' THEN p.amount END), 0)
  FROM accounts a LEFT JOIN postings p ON p.account_id = a.id
 GROUP BY a.id;

-- +goose StatementBegin
CREATE TRIGGER postings_totals_insert AFTER INSERT ON postings BEGIN
    INSERT INTO account_totals (account_id, posted, pending)
    VALUES (NEW.account_id,
            CASE WHEN NEW.status = 'posted' THEN NEW.amount ELSE 0 END,
            CASE WHEN NEW.status = 'pending' THEN NEW.amount ELSE 0 END)
    ON CONFLICT (account_id) DO UPDATE SET posted = posted + excluded.posted, pending = pending + excluded.pending;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER postings_totals_update AFTER UPDATE OF account_id, amount, status ON postings BEGIN
    UPDATE account_totals
       SET posted = posted - CASE WHEN OLD.status = 'posted' THEN OLD.amount ELSE 0 END,
           pending = pending - CASE WHEN OLD.status = 'pending' THEN OLD.amount ELSE 0 END
     WHERE account_id = OLD.account_id;
    INSERT INTO account_totals (account_id, posted, pending)
    VALUES (NEW.account_id,
            CASE WHEN NEW.status = 'posted' THEN NEW.amount ELSE 0 END,
            CASE WHEN NEW.status = 'pending' THEN NEW.amount ELSE 0 END)
    ON CONFLICT (account_id) DO UPDATE SET posted = posted + excluded.posted, pending = pending + excluded.pending;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER postings_totals_delete AFTER DELETE ON postings BEGIN
    UPDATE account_totals
       SET posted = posted - CASE WHEN OLD.status = 'posted' THEN OLD.amount ELSE 0 END,
           pending = pending - CASE WHEN OLD.status = 'pending' THEN OLD.amount ELSE 0 END
     WHERE account_id = OLD.account_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER postings_totals_delete;
DROP TRIGGER postings_totals_update;
DROP TRIGGER postings_totals_insert;
DROP TABLE account_totals;
DROP TABLE card_pin_tries;
DROP TABLE authorisations;
DROP TABLE network_messages;
