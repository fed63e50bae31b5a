-- +goose Up
-- Each account's points balance, kept by a trigger like account_totals (00012): the
-- dashboard and every account summary in the app show it, and summing an account's
-- whole points history there grows with the history. Points entries are only ever
-- inserted. The rewards contract tests compare it with the sum of the entries.
CREATE TABLE reward_totals (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
    points     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO reward_totals (account_id, points)
SELECT account_id, SUM(points) FROM reward_points GROUP BY account_id;

-- +goose StatementBegin
CREATE TRIGGER reward_points_totals AFTER INSERT ON reward_points BEGIN
    INSERT INTO reward_totals (account_id, points) VALUES (NEW.account_id, NEW.points)
    ON CONFLICT (account_id) DO UPDATE SET points = points + excluded.points;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER reward_points_totals;
DROP TABLE reward_totals;
