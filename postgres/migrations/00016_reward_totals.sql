-- +goose Up
-- Each account's points balance, kept by a trigger like account_totals (00012): the
-- dashboard and every account summary in the app show it, and summing an account's
-- whole points history there grows with the history. Points entries are only ever
-- inserted. The rewards contract tests compare it with the sum of the entries.
CREATE TABLE reward_totals (
    account_id BIGINT PRIMARY KEY REFERENCES accounts(id),
    points     BIGINT NOT NULL DEFAULT 0
);
INSERT INTO reward_totals (account_id, points)
SELECT account_id, SUM(points) FROM reward_points GROUP BY account_id;

-- +goose StatementBegin
CREATE FUNCTION reward_points_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reward_totals AS t (account_id, points) VALUES (NEW.account_id, NEW.points)
    ON CONFLICT (account_id) DO UPDATE SET points = t.points + excluded.points;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER reward_points_totals AFTER INSERT ON reward_points FOR EACH ROW EXECUTE FUNCTION reward_points_totals();

-- +goose Down
DROP TRIGGER reward_points_totals ON reward_points;
DROP FUNCTION reward_points_totals();
DROP TABLE reward_totals;
