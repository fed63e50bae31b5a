package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// readPool runs read-only queries through prepared statements cached by SQL text.
//
// modernc's SQLite driver parses a statement's text on every unprepared query, and
// for the short queries of an authenticated request that parsing was over a quarter
// of the server's CPU (perf, during `cardportal bench`). A *sql.Stmt is prepared once
// per connection on first use and kept, so each text is parsed once per connection.
// PostgreSQL gains less (pgx already caches), but it does no harm there.
type readPool struct {
	db *sql.DB

	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

// maxCachedStmts bounds the cache: query texts are built from a fixed set of
// fragments, so the bound is never reached in practice; past it, queries simply run
// unprepared.
const maxCachedStmts = 512

func newReadPool(db *sql.DB) *readPool {
	return &readPool{db: db, stmts: map[string]*sql.Stmt{}}
}

// stmt returns the cached statement for query, preparing it if needed, or nil when it
// cannot be cached (the caller then runs the query plainly, so a bad query reports
// its error the same way either way).
func (p *readPool) stmt(ctx context.Context, query string) *sql.Stmt {
	p.mu.RLock()
	st := p.stmts[query]
	p.mu.RUnlock()
	if st != nil {
		return st
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if st = p.stmts[query]; st != nil || len(p.stmts) >= maxCachedStmts {
		return st
	}
	// Prepare with a background context: the statement outlives this request, and a
	// cancelled request must not leave a half-prepared entry.
	st, err := p.db.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil
	}
	p.stmts[query] = st
	return st
}

func (p *readPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.db.QueryContext(ctx, query, args...)
}

func (p *readPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.db.QueryRowContext(ctx, query, args...)
}

// readTx is a read transaction whose queries go through the pool's statements.
type readTx struct {
	p       *readPool
	tx      *sql.Tx
	missing []string
}

// begin starts a read transaction. Several reads in one cost one snapshot: on SQLite
// a read transaction that begins after a write drops the connection's page cache and
// takes the WAL's read locks, which was most of what a one-row read cost under load.
func (p *readPool) begin(ctx context.Context) (*readTx, error) {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &readTx{p: p, tx: tx}, nil
}

// QueryContext runs query through its statement if it is prepared already. It never
// prepares one: that takes a connection of the pool, and an in-memory SQLite
// database has only the one this transaction holds. done prepares it instead.
func (t *readTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	t.p.mu.RLock()
	st := t.p.stmts[query]
	t.p.mu.RUnlock()
	if st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	t.missing = append(t.missing, query)
	return t.tx.QueryContext(ctx, query, args...)
}

// done ends the transaction, which only read, and prepares the statements it lacked.
func (t *readTx) done(ctx context.Context) {
	_ = t.tx.Rollback()
	for _, q := range t.missing {
		t.p.stmt(ctx, q)
	}
}

func (p *readPool) PingContext(ctx context.Context) error { return p.db.PingContext(ctx) }

// close closes the cached statements; the pool itself is closed by its owner.
func (p *readPool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for q, st := range p.stmts {
		errs = append(errs, st.Close())
		delete(p.stmts, q)
	}
	return errors.Join(errs...)
}
