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

// TestTwoInstances opens one file twice, as two processes would, and checks that the
// lockout still admits exactly the allowed number of attempts between them.
func TestTwoInstances(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	var stores []storetest.Store
	for range 2 {
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	storetest.ConcurrentLockout(t, stores...)
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

// TestTwoInstancePayments runs the payment job from two stores on one file, as two
// processes would: each due payment posts once (storetest/payments.go).
func TestTwoInstancePayments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "payments.db")
	var stores []storetest.Store
	for range 2 {
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	storetest.ConcurrentPaymentRuns(t, stores...)
}
