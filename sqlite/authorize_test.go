package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/storetest"
)

// TestTwoInstancesAuthorise races authorisations for the last of an account's credit
// through two stores on one file, as two processes would: each has its own group
// committer, and SQLite's IMMEDIATE write transactions serialise them.
func TestTwoInstancesAuthorise(t *testing.T) {
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
	storetest.ConcurrentAuthorise(t, stores...)
}
