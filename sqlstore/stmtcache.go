package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"
)

// stmtPool runs statements on a connection pool through prepared statements cached
// by SQL text.
//
// modernc's SQLite driver parses a statement's text on every unprepared query, and
// for the short queries of an authenticated request that parsing was over a quarter
// of the server's CPU (perf, during `cardportal bench`); for a sign-in's writes it
// was a third of their cost. A *sql.Stmt is prepared once per connection on first
// use and kept, so each text is parsed once per connection. PostgreSQL gains less
// (pgx already caches), but it does no harm there.
type stmtPool struct {
	db *sql.DB

	mu    sync.RWMutex
	stmts map[string]*sql.Stmt

	// Tests: testHookPrepared runs after a statement is prepared and before it is
	// cached, testHookClosing before a statement that is not kept is closed.
	testHookPrepared, testHookClosing func()
}

// maxCachedStmts bounds the cache: query texts are built from a fixed set of
// fragments, so the bound is never reached in practice; past it, queries simply run
// unprepared.
const maxCachedStmts = 512

func newStmtPool(db *sql.DB) *stmtPool {
	return &stmtPool{db: db, stmts: map[string]*sql.Stmt{}}
}

// stmt returns the cached statement for query, preparing it if needed, or nil when it
// cannot be cached (the caller then runs the query plainly, so a bad query reports
// its error the same way either way).
func (p *stmtPool) stmt(ctx context.Context, query string) *sql.Stmt {
	p.mu.RLock()
	st, full := p.stmts[query], len(p.stmts) >= maxCachedStmts
	p.mu.RUnlock()
	if st != nil || full {
		return st
	}
	// Prepare without holding the lock: it waits for a connection, and on SQLite's
	// write pool the only one may belong to a transaction that needs the lock to find
	// its statements. With a background context: the statement outlives this
	// request, and a cancelled request must not leave a half-prepared entry.
	st, err := p.db.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil
	}
	if p.testHookPrepared != nil {
		p.testHookPrepared()
	}
	p.mu.Lock()
	prev := p.stmts[query]
	keep := prev == nil && len(p.stmts) < maxCachedStmts
	if keep {
		p.stmts[query] = st
	}
	p.mu.Unlock()
	if keep {
		return st
	}
	// Another caller prepared it meanwhile, or the cache filled up. Closed without
	// the lock: closing waits for the connection the statement was prepared on, and
	// a transaction may be running a statement there that waits (on PostgreSQL) for
	// a row lock held by a transaction that needs the lock to find its statements.
	// That cycle hung TestStore/RedeemConcurrent on PostgreSQL in CI (2026-11-22).
	if p.testHookClosing != nil {
		p.testHookClosing()
	}
	st.Close()
	return prev
}

func (p *stmtPool) cached(query string) *sql.Stmt {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.stmts[query]
}

func (p *stmtPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.db.QueryContext(ctx, query, args...)
}

func (p *stmtPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.db.QueryRowContext(ctx, query, args...)
}

func (p *stmtPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.db.ExecContext(ctx, query, args...)
}

// poolTx is a transaction whose statements go through the pool's prepared ones.
type poolTx struct {
	p       *stmtPool
	tx      *sql.Tx
	missing []string
}

// begin starts a transaction. Several reads in one cost one snapshot: on SQLite a
// read transaction that begins after a write drops the connection's page cache and
// takes the WAL's read locks, which was most of what a one-row read cost under load.
func (p *stmtPool) begin(ctx context.Context) (*poolTx, error) {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &poolTx{p: p, tx: tx}, nil
}

// prepared returns the transaction's copy of query's statement if the pool has one.
// It never prepares one: that takes a connection of the pool, and SQLite's write
// pool and an in-memory database have only the one this transaction holds. The
// missing statement is prepared when the transaction ends.
func (t *poolTx) prepared(ctx context.Context, query string) *sql.Stmt {
	if st := t.p.cached(query); st != nil {
		return t.tx.StmtContext(ctx, st)
	}
	if !slices.Contains(t.missing, query) {
		t.missing = append(t.missing, query)
	}
	return nil
}

func (t *poolTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *poolTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

func (t *poolTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

// commit commits the transaction and prepares the statements it lacked.
func (t *poolTx) commit(ctx context.Context) error {
	err := t.tx.Commit()
	t.prepareMissing(ctx)
	return err
}

// done ends a transaction that only read, or rolls back one that failed, and
// prepares the statements it lacked.
func (t *poolTx) done(ctx context.Context) {
	_ = t.tx.Rollback()
	t.prepareMissing(ctx)
}

func (t *poolTx) prepareMissing(ctx context.Context) {
	for _, q := range t.missing {
		t.p.stmt(ctx, q)
	}
	t.missing = nil
}

func (p *stmtPool) PingContext(ctx context.Context) error { return p.db.PingContext(ctx) }

// close closes the cached statements; the pool itself is closed by its owner. The
// statements are closed without the lock, for the reason given in stmt.
func (p *stmtPool) close() error {
	p.mu.Lock()
	stmts := p.stmts
	p.stmts = map[string]*sql.Stmt{}
	p.mu.Unlock()
	var errs []error
	for _, st := range stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}
