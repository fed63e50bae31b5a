-- +goose Up
-- The rewards sweep's work queue: a posted purchase or refund waiting for its points
-- entry. Looking for postings without an entry (00011's anti-join) costs a walk over the
-- whole history on every sweep, idle or not. A watermark would be cheaper but wrong
-- here, where a lower id can commit after a higher one was swept; these triggers queue
-- a posting in the transaction that makes it rewardable, whatever wrote it, so the
-- queue is right whatever order transactions commit in. The sweep deletes a row in the
-- transaction that writes (or finds) its posting's entry. Nothing else looks for
-- rewardable postings, so 00011's postings_rewardable goes.
CREATE TABLE reward_queue (
    posting_id BIGINT PRIMARY KEY REFERENCES postings(id)
);

-- +goose StatementBegin
CREATE FUNCTION postings_reward_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reward_queue (posting_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER postings_reward_queue_insert AFTER INSERT ON postings FOR EACH ROW
    WHEN (NEW.kind IN ('purchase', 'refund') AND NEW.status = 'posted')
    EXECUTE FUNCTION postings_reward_queue();
CREATE TRIGGER postings_reward_queue_update AFTER UPDATE OF kind, status ON postings FOR EACH ROW
    WHEN (NEW.kind IN ('purchase', 'refund') AND NEW.status = 'posted'
          AND NOT (OLD.kind IN ('purchase', 'refund') AND OLD.status = 'posted'))
    EXECUTE FUNCTION postings_reward_queue();

INSERT INTO reward_queue (posting_id)
SELECT p.id FROM postings p
 WHERE p.kind IN ('purchase', 'refund') AND p.status = 'posted'
   AND NOT EXISTS (SELECT 1 FROM reward_points r WHERE r.posting_id = p.id);

DROP INDEX postings_rewardable;

-- +goose Down
CREATE INDEX postings_rewardable ON postings(id) WHERE kind IN ('purchase', 'refund') AND status = 'posted';
DROP TRIGGER postings_reward_queue_update ON postings;
DROP TRIGGER postings_reward_queue_insert ON postings;
DROP FUNCTION postings_reward_queue();
DROP TABLE reward_queue;
