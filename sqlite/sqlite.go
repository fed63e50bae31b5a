// Package sqlite opens cardportal's store on an SQLite database file, the
// zero-set-up default for a single instance. It uses modernc.org/sqlite, which is pure
// Go, so the binary builds with CGO_ENABLED=0. The queries themselves live in
// sqlstore; this package owns the driver, the connection pools, the migrations and
// the reading of SQLite's errors.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cardportal/cardportal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Memory is the path of a private in-memory database, for tests and trials.
const Memory = ":memory:"

// readConns is the size of the read pool. WAL lets readers run alongside the one
// writer; a handful covers a single instance's concurrent page loads.
const readConns = 8

// Pragmas for every connection. busy_timeout makes a connection wait for a lock held
// by another connection (or another process) instead of failing at once; foreign_keys
// is off by default in SQLite; synchronous=NORMAL is durable enough in WAL mode (a
// power cut can lose the last transactions, never corrupt the file) and much faster.
const common = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_pragma=synchronous(NORMAL)"

// busyTimeout is common's busy_timeout, in milliseconds.
const busyTimeout = 10000

// Option adjusts Open.
type Option func(*options)

type options struct{ log *slog.Logger }

// WithLogger has the store's background work (the WAL checkpointer) log to l rather
// than to slog's default logger.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Open opens (creating if needed) the database at path, brings its schema up to date
// and returns the store. Path Memory gives a private in-memory database.
//
// Writes go through one connection whose transactions begin IMMEDIATE, because SQLite
// has one writer at a time: queueing writers in the pool, and taking the write lock at
// BEGIN, avoids the SQLITE_BUSY a deferred transaction gets when it tries to upgrade
// its read lock. Reads use a separate pool of query-only connections, which WAL mode
// lets run while a write is in progress. Several processes may open the same file;
// busy_timeout makes them take turns.
func Open(ctx context.Context, path string, opts ...Option) (*sqlstore.Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if path == Memory {
		return openMemory(ctx)
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&" // a file: URI with parameters of its own
	}
	if err := registerWALVFS(); err != nil {
		return nil, err
	}
	write, err := sql.Open("sqlite", path+sep+common+"&_pragma=journal_mode(WAL)&_txlock=immediate"+
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", safetyPages)+ // see checkpoint.go
		"&vfs="+walVFSName) // see walvfs.go
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	// The write pool connects and migrates first, so the file is in WAL mode and has
	// its tables before any reader opens it.
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", path+sep+common+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	read.SetMaxOpenConns(readConns)
	read.SetMaxIdleConns(readConns)
	if err := read.PingContext(ctx); err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	own, err := sql.Open("sqlite", path+sep+common)
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	own.SetMaxOpenConns(1)
	st := sqlstore.New(write, read, dialect)
	st.OnClose(startCheckpointer(write, own, o.log).close)
	return st, nil
}

// openMemory serves reads and writes from one connection: an in-memory database
// lives and dies with its connection, and sharing one between connections (shared
// cache) brings table-level locking errors that busy_timeout does not cover. The pool
// is told never to retire the connection, which would lose the data.
func openMemory(ctx context.Context) (*sqlstore.Store, error) {
	db, err := sql.Open("sqlite", Memory+"?"+common+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return sqlstore.New(db, db, dialect), nil
}

// migrate applies the embedded migrations. Two processes starting on a new file can
// both find a migration pending; the second then fails inside its transaction and
// rolls back, which is fine as long as nothing is pending any more.
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		if pending, perr := p.HasPending(ctx); perr != nil || pending {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
	}
	return nil
}

var dialect = sqlstore.Dialect{
	Name:              "sqlite",
	IsUniqueViolation: isUniqueViolation,
	LastInsertID:      true,
	// Measured on the storetest.Large dataset: 100 loads it in about a quarter of a
	// second, 8000 took three seconds (see BatchParams).
	BatchParams: 100,
}

// isUniqueViolation reads the constraint from SQLite's message, which names the
// columns as "table.column" ("UNIQUE constraint failed: members.user_id_key"), one
// per column of the index.
func isUniqueViolation(err error, table, column string) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	if e.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE && e.Code() != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return false
	}
	if table == "" {
		return true
	}
	_, list, ok := strings.Cut(e.Error(), "UNIQUE constraint failed: ")
	if !ok {
		return false
	}
	if i := strings.LastIndex(list, " ("); i >= 0 {
		list = list[:i] // the trailing " (2067)"
	}
	for col := range strings.SplitSeq(list, ", ") {
		t, c, _ := strings.Cut(col, ".")
		if t == table && (column == "" || c == column) {
			return true
		}
	}
	return false
}
