package demo_test

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/authorize"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/cardportaltest"
	"github.com/cardportal/cardportal/demo"
	"github.com/cardportal/cardportal/network"
	"github.com/cardportal/cardportal/sqlite"
)

// TestSimulator runs the simulator against the real network interface, authorisation
// service and store, and checks that it produced what a living account shows:
// approvals and declines, pending holds, clearings and reversals in the ledger.
func TestSimulator(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sim.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keys, err := cardcrypto.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	hsm, err := cardcrypto.NewSoft(keys)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, time.November, 2, 9, 0, 0, 0, time.UTC)
	clock := cardportaltest.NewClock(start)
	const size = 20
	if _, _, err := demo.Seed(ctx, store, hsm, 1, start, size); err != nil {
		t.Fatal(err)
	}
	cards, err := demo.Cards(1, start, hsm, size)
	if err != nil {
		t.Fatal(err)
	}
	if len(cards) < size {
		t.Fatalf("Cards = %d cards for %d accounts, want at least one each", len(cards), size)
	}
	svc := authorize.New(store, hsm, authorize.DefaultConfig, clock.Now, slog.New(slog.DiscardHandler), nil)
	t.Cleanup(svc.Close)
	secret := []byte("a-test-secret-of-at-least-32-characters")
	srv := httptest.NewServer(network.NewHandler(network.Deps{Service: svc, Secret: secret, Now: clock.Now}))
	t.Cleanup(srv.Close)

	sim := &demo.Simulator{URL: srv.URL, Secret: secret, Rate: 1, ClearAfter: time.Hour, Cards: cards, Seed: 7, Now: clock.Now}
	r := rand.New(rand.NewPCG(1, 2))
	for range 600 {
		clock.Add(20 * time.Second)
		if err := sim.Step(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got := sim.Outcomes()
	t.Logf("outcomes: %v", got)
	declines := 0
	for code, n := range got {
		if len(code) == 2 && code != "00" {
			declines += n
		}
	}
	if got["00"] < 100 || declines == 0 || got["clearing:00"] == 0 || got["reversal:00"] == 0 {
		t.Errorf("outcomes %v: want many approvals, some declines, clearings and reversals", got)
	}
	// Phone wallets: the issuer was told of tokens, and purchases paid with them.
	if got["token:00"] == 0 || got["token-auth:00"] < 20 {
		t.Errorf("outcomes %v: want wallet tokens issued and many purchases by token approved", got)
	}

	// The ledger shows it: the simulated purchases, pending and posted, on the demo's
	// accounts.
	var pending, posted int
	for holder := int64(1); holder <= 3*size; holder++ {
		sums, err := store.Summaries(ctx, holder)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range sums {
			page, err := store.Transactions(ctx, holder, a.AccountID, account.Filter{From: start.Truncate(24 * time.Hour), Limit: account.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			for _, tx := range page.Transactions {
				switch {
				case tx.Kind != account.Purchase:
				case tx.Status == account.Pending:
					pending++
				case tx.Status == account.Posted:
					posted++
				}
			}
		}
	}
	if pending == 0 || posted == 0 {
		t.Errorf("ledger since the simulation began: %d pending and %d posted purchases, want both", pending, posted)
	}
}
