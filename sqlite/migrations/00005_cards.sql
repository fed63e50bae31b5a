-- +goose Up
-- Card servicing (SPEC AC7-AC10). A replacement card points at the card it replaced,
-- so a card's story can be followed; 0 means it replaced none.
ALTER TABLE cards ADD COLUMN replaces_id INTEGER NOT NULL DEFAULT 0;

-- One PIN verification value per card: a keyed value from the HSM, never the PIN and
-- never a plain hash of it.
CREATE TABLE card_pins (
    card_id INTEGER PRIMARY KEY REFERENCES cards(id),
    value   BLOB NOT NULL,
    set_at  INTEGER NOT NULL
);

-- +goose Down
DROP TABLE card_pins;
ALTER TABLE cards DROP COLUMN replaces_id;
