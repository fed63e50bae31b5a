// Package postgres opens cardportal's store on PostgreSQL, which any number of
// stateless instances can share: lockout counters, sessions, flows and throttles all
// live in the database. The queries themselves live in sqlstore; this package owns
// the pgx driver, the pool, the migrations and the reading of PostgreSQL's errors.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/cardportal/cardportal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// maxConns bounds each instance's connections, so that several instances stay within
// the server's max_connections (100 by default).
const maxConns = 20

// Open connects to the database named by dsn (a URL or key=value string as libpq
// takes it; extra parameters such as search_path become session settings), brings
// its schema up to date and returns the store. Reads and writes share one pool:
// PostgreSQL has no single-writer limit to work around.
func Open(ctx context.Context, dsn string) (*sqlstore.Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns / 2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return sqlstore.New(db, db, dialect), nil
}

// migrate applies the embedded migrations under a session-level advisory lock, so
// that instances starting together take turns instead of racing to apply the same
// migration. The lock is per schema (the schema the tables go to), because separate
// schemas on one server, as the tests use, have nothing to wait for each other about.
func migrate(ctx context.Context, db *sql.DB) error {
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("cardportal migrations " + schema.String))
	// Poll every second rather than goose's default five: migrations here take
	// milliseconds, and a second instance should not idle for long behind the first.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64())), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

var dialect = sqlstore.Dialect{
	Name:              "postgres",
	LockSuffix:        " FOR UPDATE",
	SkipLocked:        " FOR UPDATE SKIP LOCKED",
	IsUniqueViolation: isUniqueViolation,
	AfterLoad:         advanceSequences,
	BatchParams:       8000,
}

// uniqueViolation is SQLSTATE unique_violation.
const uniqueViolation = "23505"

// isUniqueViolation matches constraints by PostgreSQL's default names: a column's
// UNIQUE constraint is table_column_key. Renaming one in a migration means updating
// its caller in sqlstore.
func isUniqueViolation(err error, table, column string) bool {
	var e *pgconn.PgError
	if !errors.As(err, &e) || e.Code != uniqueViolation {
		return false
	}
	if table == "" {
		return true
	}
	return e.TableName == table && (column == "" || e.ConstraintName == table+"_"+column+"_key")
}

// identityTables are the tables LoadIssuer fills with the dataset's own IDs.
var identityTables = []string{"products", "accounts", "cardholders", "cards", "postings", "statements"}

// advanceSequences moves each identity sequence past the highest loaded ID. Inserting
// explicit IDs does not advance a sequence, so without this the next generated ID
// would collide with a loaded row. is_called=false makes MAX(id)+1 the next value.
func advanceSequences(ctx context.Context, tx *sql.Tx) error {
	for _, t := range identityTables {
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%[1]s', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM %[1]s`, t)
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("advance %s id sequence: %w", t, err)
		}
	}
	return nil
}
