package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/demo"
	"github.com/cardportal/cardportal/sqlite"
)

// TestDemoFirstStart loads the default demo (300 accounts with a year of history each)
// into a new database file, as the first start of the program does, and reports how
// long it took. The bound is loose, for slow CI machines; the log line is the figure.
func TestDemoFirstStart(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the whole demo")
	}
	keys, err := cardcrypto.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	hsm, err := cardcrypto.NewSoft(keys)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, loaded, err := demo.Seed(t.Context(), s, hsm, 1, time.Now(), 300)
	if err != nil || !loaded {
		t.Fatalf("Seed: loaded %v, %v", loaded, err)
	}
	took := time.Since(start)
	t.Logf("demo first start (300 accounts, a year of postings): %v", took)
	if took > 30*time.Second {
		t.Errorf("loading the demo took %v", took)
	}
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
