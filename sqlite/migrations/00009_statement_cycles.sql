-- +goose Up
-- Statement cycles (SPEC AC3). Each account closes its cycle on one day of the month,
-- 1 to 28 (the day it was opened, capped so every month has it); the close job finds
-- the accounts due on a date by it. paperless is the basic card member's choice; a
-- statement records how it went out (online only, or mailed on paper as well).
ALTER TABLE accounts ADD COLUMN cycle_day INTEGER NOT NULL DEFAULT 1;
ALTER TABLE accounts ADD COLUMN paperless BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE accounts SET cycle_day = MIN(28, CAST(strftime('%d', opened_at / 1000000, 'unixepoch') AS INTEGER));
CREATE INDEX accounts_cycle_day ON accounts(cycle_day, id);
ALTER TABLE statements ADD COLUMN delivery TEXT NOT NULL DEFAULT 'online';

-- +goose Down
ALTER TABLE statements DROP COLUMN delivery;
DROP INDEX accounts_cycle_day;
ALTER TABLE accounts DROP COLUMN paperless;
ALTER TABLE accounts DROP COLUMN cycle_day;
