-- +goose Up
-- A posting the system writes itself (a payment, interest, a rewards or offer credit, a
-- dispute credit) names its text as a message of the locale catalogue and its named
-- arguments, so every surface shows it in the member's language. description keeps the
-- English text: search matches it, and older rows and merchant postings have only it.
-- text_args is a JSON object of string values; both are '' when there is no message.
ALTER TABLE postings ADD COLUMN text_id TEXT NOT NULL DEFAULT '';
ALTER TABLE postings ADD COLUMN text_args TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE postings DROP COLUMN text_args;
ALTER TABLE postings DROP COLUMN text_id;
