package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the tests' own connections

	"github.com/pressly/goose/v3"

	"github.com/cardportal/cardportal/postgres"
	"github.com/cardportal/cardportal/storetest"
)

// serverDSN is the database the tests use, from CARDPORTAL_TEST_POSTGRES. Without it
// they skip, except in CI, where skipping would hide that nothing was tested.
func serverDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("CARDPORTAL_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CARDPORTAL_TEST_POSTGRES must be set in CI")
		}
		t.Skip("CARDPORTAL_TEST_POSTGRES is not set")
	}
	return dsn
}

// freshSchema creates an empty schema, dropped when the test ends, and returns a DSN
// whose connections work in it: each test gets its own database in effect, and the
// tests can run in parallel on one server.
func freshSchema(t *testing.T) string {
	t.Helper()
	base := serverDSN(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	name := "t_" + hex.EncodeToString(randomBytes(t, 8))
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+name); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		// t.Context is already cancelled when cleanups run.
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return withSearchPath(t, base, name)
}

// withSearchPath adds search_path to a URL or key=value DSN; pgx passes parameters it
// does not know to the server as session settings.
func withSearchPath(t *testing.T, dsn, schema string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("CARDPORTAL_TEST_POSTGRES: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func open(t *testing.T) (storetest.Store, *sql.DB) {
	t.Helper()
	dsn := freshSchema(t)
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return s, db
}

func TestStore(t *testing.T) {
	serverDSN(t)
	storetest.Run(t, open)
}

// TestTwoInstances opens the same schema through several pools, as several instances
// of the program would, and runs the contract parts that must happen once however
// many instances try. The Opens also race through the migrations.
func TestTwoInstances(t *testing.T) {
	storetest.RunInstances(t, func(t *testing.T, n int) []storetest.Store {
		dsn := freshSchema(t)
		stores := make([]storetest.Store, n)
		errs := make(chan error, n)
		for i := range stores {
			go func() {
				s, err := postgres.Open(t.Context(), dsn)
				if err == nil {
					stores[i] = s
					t.Cleanup(func() { s.Close() })
				}
				errs <- err
			}()
		}
		for range stores {
			if err := <-errs; err != nil {
				t.Fatalf("Open: %v", err)
			}
		}
		return stores
	})
}

// TestSequencesAfterLoad checks that rows inserted after loading the issuer's records
// (which keep their own IDs) get IDs past them instead of colliding.
func TestSequencesAfterLoad(t *testing.T) {
	s, db := open(t)
	if err := s.LoadIssuer(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		table, insert string
		want          int64
	}{
		{"products", `INSERT INTO products (code, name, pan_length, currency) VALUES ('new', 'New', 16, 'USD') RETURNING id`, 3},
		{"accounts", `INSERT INTO accounts (product_id, currency, credit_limit, opened_at) VALUES (1, 'USD', 0, 0) RETURNING id`, 21},
		{"cardholders", `INSERT INTO cardholders (account_id, basic, name, birth_date, national_id_mac) VALUES (10, false, 'N', '2000-01-01', '\x00') RETURNING id`, 201},
		{"cards", `INSERT INTO cards (account_id, cardholder_id, pan_sealed, pan_key_id, pan_fingerprint, last_digits, exp_month, exp_year, state, issued_at)
			VALUES (10, 100, '\x00', 'k', '\x01', '0000', 1, 2030, 'active', 0) RETURNING id`, 2001},
		{"postings", `INSERT INTO postings (account_id, amount, kind, posted_at) VALUES (10, 1, 'fee', 0) RETURNING id`, 4},
	}
	for _, tt := range tests {
		var id int64
		if err := db.QueryRowContext(t.Context(), tt.insert).Scan(&id); err != nil {
			t.Errorf("%s: %v", tt.table, err)
			continue
		}
		if id != tt.want {
			t.Errorf("%s: new row got id %d, want %d", tt.table, id, tt.want)
		}
	}
}

func TestRewardQueueBackfill(t *testing.T) {
	db, err := sql.Open("pgx", freshSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fsys, err := fs.Sub(postgres.Migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 17); err != nil {
		t.Fatal(err)
	}
	storetest.RewardQueueBackfill(t, db, func() error {
		_, err := p.UpTo(t.Context(), 18)
		return err
	})
}
