package sqlstore

import (
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestStmtPoolOneConnection runs a statement pool on one connection, as SQLite's
// write pool is: a caller preparing a statement waits for the connection while a
// transaction holds it, and the transaction must still find its statements (the
// pool's lock is not held while preparing). The transaction prepares nothing itself;
// what it lacked is prepared when it ends, and the next transaction uses it.
func TestStmtPoolOneConnection(t *testing.T) {
	ctx := t.Context()
	p := sqlitePool(t)
	db := p.db
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const (
		insert = `INSERT INTO t (v) VALUES ($1)`
		count  = `SELECT count(*) FROM t`
	)
	if err := p.QueryRowContext(ctx, count).Scan(new(int)); err != nil { // count is now cached
		t.Fatal(err)
	}

	tx, err := p.begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	outside := make(chan error, 1)
	go func() {
		_, err := p.ExecContext(ctx, insert, "outside")
		outside <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); db.Stats().WaitCount == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the caller outside the transaction never waited for the connection")
		}
		time.Sleep(time.Millisecond)
	}
	inside := make(chan error, 1)
	go func() {
		var n int
		err := tx.QueryRowContext(ctx, count).Scan(&n)
		if err == nil {
			_, err = tx.ExecContext(ctx, insert, "inside")
		}
		inside <- err
	}()
	select {
	case err := <-inside:
		if err != nil {
			t.Fatalf("in the transaction: %v", err)
		}
	case <-time.After(10 * time.Second):
		_ = tx.tx.Rollback() // frees the connection, so the test can end
		t.Fatal("the transaction is stuck behind a caller preparing a statement")
	}
	if len(tx.missing) != 1 || tx.missing[0] != insert {
		t.Errorf("missing = %q, want only the insert", tx.missing)
	}
	if err := tx.commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-outside; err != nil {
		t.Fatalf("outside the transaction: %v", err)
	}
	if p.cached(insert) == nil {
		t.Fatal("insert not prepared after the transaction")
	}

	tx, err = p.begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, insert, "again"); err != nil {
		t.Fatal(err)
	}
	if len(tx.missing) != 0 {
		t.Errorf("second transaction lacked %q", tx.missing)
	}
	tx.done(ctx) // rolled back
	var n int
	if err := p.QueryRowContext(ctx, count).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d rows (%v), want 2: inside and outside, not the rolled-back one", n, err)
	}
}

// TestNoBoundLimit keeps LIMIT values out of bound parameters in this package's
// queries (limitClause says why: on SQLite each run would parse the query again).
func TestNoBoundLimit(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	bound := regexp.MustCompile(`(?i)\b(LIMIT|OFFSET)\s+(\$\d|` + "`" + `\s*\+\s*arg\()`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if bound.MatchString(line) {
				t.Errorf("%s:%d: a bound LIMIT or OFFSET; use limitClause: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// TestStmtPoolClosesWithoutTheLock races two callers preparing one statement and
// checks that the loser's copy is closed with the pool's lock free. Closing waits for
// the connection the statement was prepared on, and a transaction may be running a
// statement there that waits for a row lock held by a transaction that needs the
// pool's lock: closing under the lock hung a PostgreSQL contract test in CI.
func TestStmtPoolClosesWithoutTheLock(t *testing.T) {
	ctx := t.Context()
	p := sqlitePool(t)
	const query = `SELECT 1`
	// The other caller prepares and caches the statement while this one prepares it.
	var winner *sql.Stmt
	p.testHookPrepared = func() {
		p.testHookPrepared = nil
		winner = p.stmt(ctx, query)
	}
	closed := false
	p.testHookClosing = func() {
		closed = true
		if !p.mu.TryLock() {
			t.Error("the pool's lock is held while a statement is closed")
			return
		}
		p.mu.Unlock()
	}
	got := p.stmt(ctx, query)
	if winner == nil || got != winner || p.cached(query) != winner {
		t.Fatalf("stmt = %p, cached %p; want the first caller's statement %p", got, p.cached(query), winner)
	}
	if !closed {
		t.Fatal("the second copy of the statement was kept, not closed")
	}
	var one int
	if err := p.QueryRowContext(ctx, query).Scan(&one); err != nil || one != 1 {
		t.Errorf("the cached statement after the race: %d, %v", one, err)
	}
}

// sqlitePool returns a statement pool on a new SQLite database, closed when the test
// ends.
func sqlitePool(t *testing.T) *stmtPool {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "pool.db"))
	if err != nil {
		t.Fatal(err)
	}
	p := newStmtPool(db)
	t.Cleanup(func() {
		p.close()
		db.Close()
	})
	return p
}
