package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/storetest"
)

// open gives each test its own database file, and a plain connection to it for the
// suite's direct checks.
func open(t *testing.T) (storetest.Store, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cardportal.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return s, db
}

func TestStore(t *testing.T) {
	storetest.Run(t, open)
}

// TestMemory runs the suite on in-memory databases, the path tests and trials use.
func TestMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (storetest.Store, *sql.DB) {
		s, err := sqlite.Open(t.Context(), sqlite.Memory)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s, nil
	})
}

// TestTwoInstances opens one file several times, as several processes would, and
// runs the contract parts that must happen once however many instances try.
func TestTwoInstances(t *testing.T) {
	storetest.RunInstances(t, func(t *testing.T, n int) []storetest.Store {
		path := filepath.Join(t.TempDir(), "shared.db")
		stores := make([]storetest.Store, n)
		for i := range stores {
			s, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			stores[i] = s
		}
		return stores
	})
}

// TestReopen checks that opening an existing database finds its data and migrates
// nothing twice.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reopen.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.LoadIssuer(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if has, err := s.HasIssuerData(t.Context()); err != nil || !has {
		t.Errorf("HasIssuerData after reopening = %v, %v; want true", has, err)
	}
}
