package rewards

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
)

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestPoints(t *testing.T) {
	tests := []struct {
		name         string
		amount, rate int64
		want         int64
	}{
		{"whole units", 5000, 1, 50},
		{"rounds down", 4567, 3, 137},
		{"under one unit earns nothing", 99, 1, 0},
		{"zero rate", 100_000, 0, 0},
		{"refund mirrors the purchase", -4567, 3, -137},
		{"refund under one unit", -99, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Points(tt.amount, tt.rate); got != tt.want {
				t.Errorf("Points(%d, %d) = %d, want %d", tt.amount, tt.rate, got, tt.want)
			}
		})
	}
}

func TestRate(t *testing.T) {
	r := Rates{Base: 1, Bonus: map[string]int64{"5411": 3}}
	if r.Rate("5411") != 3 || r.Rate("5812") != 1 || (Rates{}).Rate("5411") != 0 {
		t.Errorf("rates: grocer %d, restaurant %d, none %d; want 3, 1, 0", r.Rate("5411"), r.Rate("5812"), (Rates{}).Rate("5411"))
	}
}

func TestReversal(t *testing.T) {
	rates := Rates{Base: 1, Bonus: map[string]int64{"5814": 2}}
	refund := func(amount int64, at time.Time) Posting {
		return Posting{ID: 99, Kind: account.Refund, Amount: -amount, MCC: "5814", PostedAt: at}
	}
	purchase := func(id, amount, points, reversed int64, at time.Time) Earned {
		return Earned{PostingID: id, Amount: amount, MCC: "5814", Points: points, Reversed: reversed, PostedAt: at}
	}
	tests := []struct {
		name        string
		refund      Posting
		cands       []Earned
		wantMatched int64
		wantPoints  int64
	}{
		{"full refund takes back all", refund(5000, base), []Earned{purchase(1, 5000, 100, 0, base.Add(-time.Hour))}, 1, -100},
		{"partial refund, pro rata", refund(2000, base), []Earned{purchase(1, 5000, 100, 0, base.Add(-time.Hour))}, 1, -40},
		{"capped at what is left", refund(4000, base), []Earned{purchase(1, 5000, 100, 40, base.Add(-time.Hour))}, 1, -60},
		{"the purchase's own rate, not today's", refund(5000, base), []Earned{purchase(1, 5000, 250, 0, base.Add(-time.Hour))}, 1, -250},
		{"newest purchase first", refund(1000, base), []Earned{
			purchase(1, 1000, 20, 0, base.Add(-2*time.Hour)), purchase(2, 1000, 20, 0, base.Add(-time.Hour)),
		}, 2, -20},
		{"skips a purchase already fully refunded", refund(1000, base), []Earned{
			purchase(1, 1000, 20, 0, base.Add(-2*time.Hour)), purchase(2, 1000, 20, 20, base.Add(-time.Hour)),
		}, 1, -20},
		{"every purchase refunded already: nothing", refund(1000, base), []Earned{
			purchase(1, 1000, 20, 20, base.Add(-2*time.Hour)), purchase(2, 1000, 20, 20, base.Add(-time.Hour)),
		}, 2, 0},
		{"ignores a later purchase", refund(1000, base), []Earned{purchase(1, 1000, 20, 0, base.Add(time.Hour))}, 0, -20},
		{"no match: refund's own MCC rate", refund(1000, base), nil, 0, -20},
		{"refund bigger than the purchase", refund(9000, base), []Earned{purchase(1, 5000, 100, 0, base.Add(-time.Hour))}, 1, -100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, p := Reversal(tt.refund, tt.cands, rates)
			if m != tt.wantMatched || p != tt.wantPoints {
				t.Errorf("Reversal = %d, %d; want %d, %d", m, p, tt.wantMatched, tt.wantPoints)
			}
		})
	}
}

func TestItemCost(t *testing.T) {
	credit := Item{Kind: StatementCredit, Points: 2500, Step: 500, Value: 100, Currency: "USD"}
	voucher := Item{Kind: Voucher, Points: 5000}
	tests := []struct {
		name   string
		it     Item
		points int64
		want   int64
		msg    string
	}{
		{"credit at the minimum", credit, 0, 2500, ""},
		{"credit above, on the step", credit, 4000, 4000, ""},
		{"credit below the minimum", credit, 2000, 0, "rewards.error.minimum"},
		{"credit off the step", credit, 2600, 0, "rewards.error.step"},
		{"credit beyond any balance", credit, MaxPoints + 500, 0, "rewards.error.points"},
		{"voucher at its price", voucher, 5000, 5000, ""},
		{"voucher at another price", voucher, 6000, 0, "rewards.error.points"},
		{"negative", credit, -2500, 0, "rewards.error.minimum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.it.Cost(tt.points)
			if tt.msg == "" {
				if err != nil || got != tt.want {
					t.Errorf("Cost(%d) = %d, %v; want %d", tt.points, got, err, tt.want)
				}
				return
			}
			fs := cp.ErrorFields(err)
			if !cp.IsKind(err, cp.Invalid) || len(fs) != 1 || fs[0].Msg != tt.msg {
				t.Errorf("Cost(%d) error %v, want Invalid %s", tt.points, err, tt.msg)
			}
		})
	}
	if c := credit.Credit(2500); c != 2500 {
		t.Errorf("credit for 2500 points = %d, want 2500 cents", c)
	}
	if c := voucher.Credit(5000); c != 0 {
		t.Errorf("a voucher credits %d, want 0", c)
	}
}

func TestCheckKey(t *testing.T) {
	for key, ok := range map[string]bool{
		"abc-123": true, "": false, "has space": false, "tab\tkey": false,
		string(make([]byte, MaxKeyLen)): false, fmt.Sprintf("%064d", 1): true, fmt.Sprintf("%065d", 1): false,
	} {
		if err := CheckKey(key); (err == nil) != ok {
			t.Errorf("CheckKey(%q) = %v, want ok %v", key, err, ok)
		}
	}
	if k := LedgerKey(1<<62, fmt.Sprintf("%064d", 1)); len(k) > account.MaxKeyLen {
		t.Errorf("the longest ledger key is %d bytes, over account.MaxKeyLen", len(k))
	}
}

// TestBalanceProperty runs random sequences of purchases, refunds (matched and not) and
// redemptions through the rules and checks that the balance (the sum of entries)
// equals earned − reversed − redeemed, that no purchase is reversed by more than it
// earned, and that redemptions never take the balance below zero.
func TestBalanceProperty(t *testing.T) {
	rates := Rates{Base: 1, Bonus: map[string]int64{"5411": 3, "5814": 2}}
	mccs := []string{"5411", "5814", "5999"}
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 7))
		var (
			entries                    []Entry
			purchases                  []Posting
			earned, reversed, redeemed int64
			taken                      = map[int64]int64{}
			at                         = base
		)
		sum := func() int64 {
			var b int64
			for _, e := range entries {
				b += e.Points
			}
			return b
		}
		for i := range 60 {
			at = at.Add(time.Hour)
			id := int64(i + 1)
			switch op := r.IntN(10); {
			case op < 6 || len(purchases) == 0:
				p := Posting{ID: id, Kind: account.Purchase, Amount: 1 + r.Int64N(50_000), MCC: mccs[r.IntN(len(mccs))],
					Merchant: fmt.Sprint("m", r.IntN(3)), PostedAt: at}
				pts := Points(p.Amount, rates.Rate(p.MCC))
				entries = append(entries, Entry{Kind: Earn, PostingID: id, Points: pts})
				purchases = append(purchases, p)
				earned += pts
			case op < 8:
				of := purchases[r.IntN(len(purchases))]
				ref := Posting{ID: id, Kind: account.Refund, Amount: -(1 + r.Int64N(of.Amount)), MCC: of.MCC, Merchant: of.Merchant, PostedAt: at}
				if r.IntN(4) == 0 {
					ref.Merchant = "elsewhere"
				}
				var cands []Earned
				for _, p := range purchases {
					if p.Merchant == ref.Merchant && p.MCC == ref.MCC {
						cands = append(cands, Earned{PostingID: p.ID, Amount: p.Amount, MCC: p.MCC,
							Points: Points(p.Amount, rates.Rate(p.MCC)), Reversed: taken[p.ID], PostedAt: p.PostedAt})
					}
				}
				m, pts := Reversal(ref, cands, rates)
				if pts > 0 {
					t.Fatalf("seed %d: a reversal of %d points adds to the balance", seed, pts)
				}
				if m != 0 {
					taken[m] += -pts
					for _, c := range cands {
						if c.PostingID == m && taken[m] > c.Points {
							t.Fatalf("seed %d: purchase %d reversed by %d, more than the %d it earned", seed, m, taken[m], c.Points)
						}
					}
				}
				entries = append(entries, Entry{Kind: Reverse, PostingID: id, MatchedID: m, Points: pts})
				reversed += -pts
			default:
				it := Item{Kind: StatementCredit, Points: 100, Step: 10, Value: 100}
				want := 100 + 10*r.Int64N(50)
				cost, err := it.Cost(want)
				if err != nil {
					t.Fatalf("seed %d: Cost(%d): %v", seed, want, err)
				}
				if sum() < cost { // the store refuses it
					continue
				}
				entries = append(entries, Entry{Kind: Redeem, Points: -cost})
				redeemed += cost
				if sum() < 0 {
					t.Fatalf("seed %d: a redemption took the balance to %d", seed, sum())
				}
			}
			if got, want := sum(), earned-reversed-redeemed; got != want {
				t.Fatalf("seed %d step %d: balance %d, want earned %d − reversed %d − redeemed %d = %d",
					seed, i, got, earned, reversed, redeemed, want)
			}
		}
	}
}
