package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/demo"
	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/sqlstore"
)

func seedDemo(tb testing.TB, size int) *sqlstore.Store {
	tb.Helper()
	keys, err := cardcrypto.GenerateKeys()
	if err != nil {
		tb.Fatal(err)
	}
	hsm, err := cardcrypto.NewSoft(keys)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "demo.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	_, loaded, err := demo.Seed(tb.Context(), s, hsm, 1, time.Now(), size)
	if err != nil || !loaded {
		tb.Fatalf("Seed: loaded %v, %v", loaded, err)
	}
	return s
}

// TestDemoFirstStart loads a demo with a year of history into a new database file, as
// the program's first start does, and reads it back through the ledger.
func TestDemoFirstStart(t *testing.T) {
	s := seedDemo(t, 30)
	// The first printed card's account lists its history through the ledger.
	sums, err := s.Summaries(t.Context(), 1)
	if err != nil || len(sums) != 1 {
		t.Fatalf("Summaries: %v, %v", sums, err)
	}
	page, err := s.Transactions(t.Context(), 1, sums[0].AccountID, account.Filter{Limit: account.MaxPageSize})
	if err != nil || len(page.Transactions) == 0 || page.Next == nil {
		t.Fatalf("Transactions: %d, next %v, %v", len(page.Transactions), page.Next, err)
	}
}

// BenchmarkDemoFirstStart measures the program's first start with the default demo
// size: 300 accounts with a year of postings each, into a new SQLite file.
//
//	go test -run x -bench DemoFirstStart -benchtime 3x ./sqlite/
func BenchmarkDemoFirstStart(b *testing.B) {
	for b.Loop() {
		seedDemo(b, 300)
	}
}
