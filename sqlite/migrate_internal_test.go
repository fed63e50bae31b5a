package sqlite

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/cardportal/cardportal/storetest"
)

// provider returns a goose provider for the embedded migrations on a new database
// file, to stop at a version and fill it as an older release would have.
func provider(t *testing.T) (*sql.DB, *goose.Provider) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "old.db")+"?"+common)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	return db, p
}

func TestRewardQueueBackfill(t *testing.T) {
	db, p := provider(t)
	if _, err := p.UpTo(t.Context(), 17); err != nil {
		t.Fatal(err)
	}
	storetest.RewardQueueBackfill(t, db, func() error {
		_, err := p.UpTo(t.Context(), 18)
		return err
	})
}
