package statement

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestCycleDay(t *testing.T) {
	tests := []struct {
		opened time.Time
		want   int
	}{
		{date(2020, 1, 1), 1},
		{date(2020, 1, 28), 28},
		{date(2020, 1, 29), 28},
		{date(2020, 1, 31), 28},
		{time.Date(2020, 3, 14, 23, 59, 0, 0, time.UTC), 14},
		// The day is the UTC one, whatever zone the time comes in.
		{time.Date(2020, 3, 15, 1, 0, 0, 0, time.FixedZone("CET", 3600)), 15},
		{time.Date(2020, 3, 15, 0, 30, 0, 0, time.FixedZone("CET", 3600)), 14},
	}
	for _, tt := range tests {
		if got := CycleDay(tt.opened); got != tt.want {
			t.Errorf("CycleDay(%s) = %d, want %d", tt.opened, got, tt.want)
		}
	}
}

func TestNextClosing(t *testing.T) {
	tests := []struct {
		name  string
		after time.Time
		day   int
		want  time.Time
	}{
		{"later this month", date(2026, 1, 10), 15, date(2026, 1, 15)},
		{"on the day: next month", date(2026, 1, 15), 15, date(2026, 2, 15)},
		{"past the day", date(2026, 1, 20), 15, date(2026, 2, 15)},
		{"February has the 28th", date(2026, 1, 31), 28, date(2026, 2, 28)},
		{"year end", date(2026, 12, 2), 1, date(2027, 1, 1)},
		{"time of day ignored", time.Date(2026, 1, 14, 23, 0, 0, 0, time.UTC), 15, date(2026, 1, 15)},
	}
	for _, tt := range tests {
		if got := NextClosing(tt.after, tt.day); !got.Equal(tt.want) {
			t.Errorf("%s: NextClosing = %s, want %s", tt.name, got.Format(time.DateOnly), tt.want.Format(time.DateOnly))
		}
	}
}

func TestDueDate(t *testing.T) {
	if got := DefaultRules.DueDate(time.Date(2026, 2, 10, 23, 30, 0, 0, time.UTC)); !got.Equal(date(2026, 3, 7)) {
		t.Errorf("DueDate = %s, want 2026-03-07 (25 days on, across February)", got.Format(time.DateOnly))
	}
}

func TestMinimumDue(t *testing.T) {
	tests := []struct {
		name                    string
		closing, interest, fees int64
		currency                string
		want                    int64
	}{
		{"nothing owed", 0, 0, 0, "USD", 0},
		{"in credit", -5000, 0, 0, "USD", 0},
		{"under the floor: all of it", 1800, 0, 0, "USD", 1800},
		{"the floor", 100_000, 0, 0, "USD", 2500},
		{"1% over the floor", 500_000, 0, 0, "USD", 5000},
		{"1% rounds half up", 300_050, 0, 0, "USD", 3001},
		{"1% rounds down under half", 300_049, 0, 0, "USD", 3000},
		{"plus interest and fees", 300_000, 4000, 2500, "USD", 3000 + 4000 + 2500},
		{"interest lifts it over the floor", 100_000, 2000, 0, "USD", 3000},
		{"never more than the balance", 9000, 4000, 6000, "USD", 9000},
		{"floor in a zero-decimal currency", 100_000, 0, 0, "JPY", 1000},
		{"floor is 25 yen", 1000, 0, 0, "JPY", 25},
	}
	for _, tt := range tests {
		if got := DefaultRules.MinimumDue(tt.closing, tt.interest, tt.fees, tt.currency); got != tt.want {
			t.Errorf("%s: MinimumDue = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestInterestDue(t *testing.T) {
	tests := []struct {
		name              string
		prevClosing, paid int64
		want              int64
	}{
		{"paid in full", 50_000, 50_000, 0},
		{"overpaid", 50_000, 60_000, 0},
		{"no previous debt", 0, 0, 0},
		{"previous in credit", -2000, 0, 0},
		// 100000 × 0.2499 / 12 = 2082.5 → half up.
		{"nothing paid", 100_000, 0, 2083},
		{"part paid", 100_000, 40_000, 1250},    // 60000 × 0.2499 / 12 = 1249.5 → 1250
		{"rounds down under half", 4000, 0, 83}, // 83.3
		{"one cent unpaid", 10_001, 10_000, 0},  // 0.02 → 0
		{"smallest that charges", 25, 0, 1},     // 0.52 → 1
		{"just under a half cent", 24, 0, 0},    // 0.4998 → 0
		{"large balance, no overflow", 1 << 40, 0, 22_897_329_648},
	}
	for _, tt := range tests {
		if got := DefaultRules.InterestDue(tt.prevClosing, tt.paid); got != tt.want {
			t.Errorf("%s: InterestDue = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestCompute(t *testing.T) {
	c := Cycle{AccountID: 7, Currency: "USD", PeriodStart: date(2026, 1, 16), ClosingDate: date(2026, 2, 15), Opening: 10_000,
		Sums: Sums{account.Purchase: 20_000, account.Fee: 2500, account.Refund: -1500, account.Payment: -10_000,
			account.Credit: -500, account.Interest: 300}}
	st, ok := DefaultRules.Compute(c)
	want := Statement{AccountID: 7, Currency: "USD", PeriodStart: date(2026, 1, 16), ClosingDate: date(2026, 2, 15),
		DueDate: date(2026, 3, 12), Opening: 10_000, Purchases: 22_500, Credits: -12_000, Interest: 300, Closing: 20_800,
		// 1% of 20800, plus the interest and the fee.
		MinimumDue: 208 + 300 + 2500, Delivery: Mailed}
	if !ok || st != want {
		t.Errorf("Compute = %+v, %v;\nwant %+v", st, ok, want)
	}
	c.Paperless = true
	if st, _ := DefaultRules.Compute(c); st.Delivery != Online {
		t.Errorf("paperless delivery = %q", st.Delivery)
	}
	if _, ok := DefaultRules.Compute(Cycle{AccountID: 7, Currency: "USD", ClosingDate: date(2026, 2, 15), Sums: Sums{}}); ok {
		t.Error("Compute of an empty cycle with no balance made a statement")
	}
	if st, ok := DefaultRules.Compute(Cycle{AccountID: 7, Currency: "USD", ClosingDate: date(2026, 2, 15), Opening: -300}); !ok || st.Closing != -300 || st.MinimumDue != 0 {
		t.Errorf("a credit balance with no activity: %+v, %v; want a statement of -300 with nothing due", st, ok)
	}
}

// TestReconcileProperty closes random sequences of postings over many cycles, as the
// close job does (interest by the rule, posted before the close), and checks that
// every statement adds up, that each opens with the last one's closing balance and
// that the last closing balance is the sum of every posting: the statement figures
// never drift from the ledger.
func TestReconcileProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	kinds := []account.Kind{account.Purchase, account.Purchase, account.Purchase, account.Refund, account.Payment, account.Fee, account.Credit}
	for run := range 500 {
		var (
			ledger   int64 // the sum of every posting so far
			prev     *Statement
			paidDue  int64
			day      = 1 + r.IntN(28)
			closing  = NextClosing(date(2024, 1, 1), day)
			start    = date(2024, 1, 1)
			opening  int64
			cycles   = 1 + r.IntN(18)
			stated   int
			previous int64
		)
		for range cycles {
			sums := Sums{}
			post := func(k account.Kind, amount int64) {
				sums[k] += amount
				ledger += amount
			}
			if prev != nil {
				if in := DefaultRules.InterestDue(prev.Closing, paidDue); in > 0 {
					post(account.Interest, in)
				}
			}
			paidDue = 0
			for range r.IntN(30) {
				k := kinds[r.IntN(len(kinds))]
				amount := 1 + r.Int64N(200_000)
				if !k.Debit() {
					amount = -amount
				}
				post(k, amount)
				if k == account.Payment && r.IntN(3) > 0 {
					paidDue -= amount // dated by the due date
				}
			}
			st, ok := DefaultRules.Compute(Cycle{AccountID: 1, Currency: "USD", PeriodStart: start, ClosingDate: closing, Opening: opening, Sums: sums})
			if ok {
				stated++
				if !st.Reconciles() {
					t.Fatalf("run %d: %+v does not reconcile", run, st)
				}
				if st.Opening != previous {
					t.Fatalf("run %d: opening %d, previous closing %d", run, st.Opening, previous)
				}
				if st.Purchases < 0 || st.Credits > 0 || st.Interest < 0 {
					t.Fatalf("run %d: signs wrong in %+v", run, st)
				}
				if st.MinimumDue < 0 || st.MinimumDue > max(0, st.Closing) {
					t.Fatalf("run %d: minimum %d of closing %d", run, st.MinimumDue, st.Closing)
				}
				if !st.DueDate.After(st.ClosingDate) || st.DueDate.Sub(st.ClosingDate) != 25*24*time.Hour {
					t.Fatalf("run %d: due %s after closing %s", run, st.DueDate, st.ClosingDate)
				}
				opening, previous = st.Closing, st.Closing
				prev = &st
				start = closing.AddDate(0, 0, 1)
			}
			next := NextClosing(closing, day)
			if next.Day() != day || next.Sub(closing) < 28*24*time.Hour {
				t.Fatalf("run %d: next closing %s after %s for day %d", run, next, closing, day)
			}
			closing = next
		}
		if stated > 0 && previous != ledger {
			t.Fatalf("run %d: last closing balance %d, ledger %d", run, previous, ledger)
		}
	}
}

func TestInterestKey(t *testing.T) {
	a := InterestKey(42, time.Date(2026, 2, 15, 23, 0, 0, 0, time.UTC))
	if a != "statement-interest-42-2026-02-15" {
		t.Errorf("InterestKey = %q", a)
	}
	if a != InterestKey(42, date(2026, 2, 15)) || a == InterestKey(43, date(2026, 2, 15)) || a == InterestKey(42, date(2026, 3, 15)) {
		t.Error("InterestKey is not a function of account and closing date alone")
	}
	if len(a) > account.MaxKeyLen {
		t.Errorf("key of %d bytes is over the ledger's limit", len(a))
	}
}

func TestMinimumRemaining(t *testing.T) {
	st := Statement{MinimumDue: 3000}
	for _, tt := range []struct{ paid, want int64 }{{0, 3000}, {1000, 2000}, {3000, 0}, {9000, 0}, {-50, 3000}} {
		if got := MinimumRemaining(st, tt.paid); got != tt.want {
			t.Errorf("MinimumRemaining(paid %d) = %d, want %d", tt.paid, got, tt.want)
		}
	}
}
