// Package sqlstore is the one implementation of cardportal's storage interfaces
// (identity.Store, account.Store, notify.OutboxStore and issuer.Loader) on
// database/sql. SQLite and PostgreSQL share it: every statement is written once with
// $1, $2... placeholders, which both drivers bind by position, and the few real
// differences between the engines travel in a Dialect supplied by the sqlite and
// postgres packages, which also own the drivers, the pools and the migrations.
//
// Storage conventions, so that one SQL text behaves the same on both engines:
// instants are BIGINT unix microseconds (0 for the zero time), civil dates are
// 'YYYY-MM-DD' text (” for none) and flags are BOOLEAN.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/issuer"
	"github.com/cardportal/cardportal/notify"
)

var (
	_ identity.Store     = (*Store)(nil)
	_ account.Store      = (*Store)(nil)
	_ notify.OutboxStore = (*Store)(nil)
	_ issuer.Loader      = (*Store)(nil)
)

// Dialect is what differs between the database engines behind a Store.
type Dialect struct {
	// Name names the engine in errors and logs, e.g. "sqlite" or "postgres".
	Name string
	// LockSuffix is appended to a SELECT whose rows the same transaction goes on to
	// depend on (" FOR UPDATE" on PostgreSQL). SQLite leaves it empty: its write
	// transactions begin IMMEDIATE and so already exclude every other writer.
	LockSuffix string
	// SkipLocked is appended to a SELECT that claims queue rows (" FOR UPDATE SKIP
	// LOCKED" on PostgreSQL): concurrent claimers pass over rows another transaction
	// holds instead of waiting for them, so each row goes to one claimer. SQLite
	// leaves it empty for the same reason as LockSuffix.
	SkipLocked string
	// IsUniqueViolation reports whether err is a unique-constraint violation on
	// table.column. An empty column matches any unique constraint of table (including
	// its primary key), and an empty table matches any unique violation at all.
	IsUniqueViolation func(err error, table, column string) bool
	// LastInsertID says the driver's Result reports an insert's row id (SQLite), so an
	// insert that needs it can be an Exec; otherwise it is a query with RETURNING id.
	// The Exec skips the rows that come with a query: writing an authorisation's hold
	// that way took BenchmarkAuthorise from 69 to 63 µs per decision on SQLite.
	LastInsertID bool
	// BatchParams caps the placeholders in one multi-row INSERT (0 means 1000).
	// SQLite finds each $N by a linear search of the statement's parameters, so a
	// statement's cost grows with the square of this; PostgreSQL prefers fewer, larger
	// statements, each being a round trip.
	BatchParams int
	// AfterLoad, when set, runs inside LoadIssuer's transaction after the rows are
	// written. PostgreSQL uses it to move identity sequences past the explicit IDs the
	// dataset brings, so later inserts do not collide with them.
	AfterLoad func(ctx context.Context, tx *sql.Tx) error
}

// Store implements the storage interfaces on a pair of connection pools.
type Store struct {
	// write runs every statement that changes data. SQLite allows one writer at a
	// time, so there it is a single connection whose transactions begin IMMEDIATE: a
	// writer then waits for the lock up front (busy_timeout) instead of failing
	// part-way through when it tries to upgrade a read lock.
	write   *stmtPool
	writeDB *sql.DB
	// read runs queries. On SQLite (WAL) it is a separate pool of read-only
	// connections that never queue behind the writer; on PostgreSQL it is write.
	// Both prepare their statements once and reuse them (see stmtPool).
	read   *stmtPool
	readDB *sql.DB
	d      Dialect
	// closers run first in Close: the adapter's own background work on the pools.
	closers []func() error
}

// New returns a Store that writes through write and reads through read, which may be
// the same pool. The Store owns both: Close closes them.
func New(write, read *sql.DB, d Dialect) *Store {
	if read == nil {
		read = write
	}
	if d.IsUniqueViolation == nil {
		d.IsUniqueViolation = func(error, string, string) bool { return false }
	}
	s := &Store{write: newStmtPool(write), writeDB: write, readDB: read, d: d}
	s.read = s.write
	if read != write {
		s.read = newStmtPool(read)
	}
	return s
}

// OnClose has Close call f before it closes the pools, for an adapter's background
// work on them (SQLite's checkpointer).
func (s *Store) OnClose(f func() error) { s.closers = append(s.closers, f) }

// Ping checks that both pools can reach the database, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.writeDB.PingContext(ctx); err != nil {
		return cp.E("sqlstore.Ping", cp.Internal, "", err)
	}
	if s.readDB != s.writeDB {
		if err := s.read.PingContext(ctx); err != nil {
			return cp.E("sqlstore.Ping", cp.Internal, "", err)
		}
	}
	return nil
}

// Close closes both pools.
func (s *Store) Close() error {
	s.StopCommitters() // authorisations' group commit (authorize.go)
	var err error
	for _, f := range s.closers {
		err = errors.Join(err, f())
	}
	err = errors.Join(err, s.read.close())
	if s.read != s.write {
		err = errors.Join(err, s.write.close())
	}
	err = errors.Join(err, s.writeDB.Close())
	if s.readDB != s.writeDB {
		err = errors.Join(err, s.readDB.Close())
	}
	return err
}

// inTx runs fn in a write transaction and commits it if fn succeeds. Errors from fn
// are returned as they are, so fn can choose their kind; others become Internal.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx *poolTx) error) error {
	tx, err := s.write.begin(ctx)
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if err := fn(tx); err != nil {
		tx.done(ctx) // rolls back; the error from fn is the one worth reporting
		return err
	}
	if err := tx.commit(ctx); err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	return nil
}

// limitClause is a LIMIT with n written into the text (none below zero). SQLite's
// planner reads a bound LIMIT's value, so each binding of it expires the prepared
// statement and every run parsed the query again (sqlite3Reprepare: a third of a
// sign-in's RecentEvents under perf). Limits are the program's constants or bounded
// page sizes, so the texts stay few.
func limitClause(n int) string { return " LIMIT " + strconv.Itoa(max(n, 0)) }

// notFoundOr maps sql.ErrNoRows to NotFound and anything else to Internal.
func notFoundOr(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return cp.E(op, cp.NotFound, "", err)
	}
	return cp.E(op, cp.Internal, "", err)
}

// mustAffect returns NotFound when res changed no row.
func mustAffect(op string, res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return cp.E(op, cp.Internal, "", err)
	}
	if n == 0 {
		return cp.E(op, cp.NotFound, "", nil)
	}
	return nil
}

// micros stores an instant; the zero time is 0 so "not set" needs no NULL.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros reads an instant back in UTC, so values compare equal whatever the
// process's local zone; 0 is the zero time.
func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// civilDate stores a civil date as 'YYYY-MM-DD'; the zero time is ”.
func civilDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// fromCivilDate reads a civil date as UTC midnight; ” is the zero time.
func fromCivilDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}

// floorDiv divides rounding towards minus infinity, so windows before 1970 (only
// ever seen in tests) are aligned like the rest.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
