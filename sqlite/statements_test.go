package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/storetest"
)

// TestStatementCloseTwoInstances closes the ended days from two stores on one file,
// as two processes would: each day once, each statement once.
func TestStatementCloseTwoInstances(t *testing.T) {
	path := filepath.Join(t.TempDir(), "statements.db")
	var stores []storetest.Store
	for range 2 {
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	storetest.StatementCloseOnce(t, stores...)
}
