package storetest

import (
	"database/sql"
	"fmt"
	"slices"
	"testing"
)

// RewardQueueBackfill checks migration 00018 on a database with history, where the
// contract suite only ever sees it on an empty one. db is at version 17; up migrates
// it to 18. Postings already posted as purchases or refunds without a points entry
// must be queued by the migration, and nothing else; after it, the triggers queue
// what becomes rewardable.
func RewardQueueBackfill(t *testing.T, db *sql.DB, up func() error) {
	t.Helper()
	ctx := t.Context()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO products (id, code, name, pan_length, currency) VALUES (1, 'green', 'Green', 15, 'USD')`)
	exec(`INSERT INTO accounts (id, product_id, currency, credit_limit, opened_at) VALUES (1, 1, 'USD', 100000, 0)`)
	for _, p := range []struct {
		id             int64
		kind, status   string
		amount, points int64 // points 0: no entry
	}{
		{1, "purchase", "posted", 1000, 0}, // queued
		{2, "refund", "posted", -300, 0},   // queued
		{3, "purchase", "posted", 500, 5},  // has its entry
		{4, "purchase", "pending", 700, 0}, // a hold
		{5, "payment", "posted", -900, 0},  // earns nothing
		{6, "purchase", "released", 200, 0},
	} {
		exec(`INSERT INTO postings (id, account_id, amount, kind, posted_at, status, idempotency_key) VALUES ($1, 1, $2, $3, $4, $5, $6)`,
			p.id, p.amount, p.kind, p.id*1000, p.status, fmt.Sprint("backfill-", p.id))
		if p.points != 0 {
			exec(`INSERT INTO reward_points (account_id, kind, points, posting_id, description, at) VALUES (1, 'earned', $1, $2, 'earned', $3)`,
				p.points, p.id, p.id*1000)
		}
	}
	if err := up(); err != nil {
		t.Fatalf("migrate to 18: %v", err)
	}
	queued := func() []int64 {
		t.Helper()
		rows, err := db.QueryContext(ctx, `SELECT posting_id FROM reward_queue ORDER BY posting_id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := queued(); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("queued by the migration: %v, want [1 2]", got)
	}
	// The hold clears, and a new purchase is posted: both queued by the triggers.
	exec(`UPDATE postings SET status = 'posted' WHERE id = 4`)
	exec(`INSERT INTO postings (id, account_id, amount, kind, posted_at, status, idempotency_key) VALUES (7, 1, 100, 'purchase', 7000, 'posted', 'backfill-new')`)
	if got := queued(); !slices.Equal(got, []int64{1, 2, 4, 7}) {
		t.Errorf("queued after the migration: %v, want [1 2 4 7]", got)
	}
}
