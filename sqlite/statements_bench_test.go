package sqlite_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/issuer"
	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/statement"
)

// closeBenchDay is the closing date the benchmark closes: every account closes on
// the 15th and has a year of history and eleven statements behind it.
var closeBenchDay = time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)

// statementHistory is n accounts with a year of history each: per month 8 purchases
// and a payment (half the accounts pay in full, the others a part, so they are
// charged interest), and the eleven statements closed before closeBenchDay, as the
// close job would have stored them.
func statementHistory(n int) issuer.Dataset {
	rules := statement.DefaultRules
	d := issuer.Dataset{Products: []issuer.Product{{ID: 1, Code: "classic", Name: "Classic", PANLength: 16, Currency: "USD"}}}
	opened := closeBenchDay.AddDate(-1, 0, 0)
	for i := range n {
		id := int64(i + 1)
		d.Accounts = append(d.Accounts, issuer.Account{ID: id, ProductCode: "classic", Currency: "USD", CreditLimit: 1_000_000,
			OpenedAt: opened, CycleDay: 15})
		d.CardHolders = append(d.CardHolders, issuer.CardHolder{ID: id, AccountID: id, Basic: true, Name: "Holder",
			BirthDate: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), NationalIDMAC: []byte{byte(i)}})
		var (
			prev  int64
			start = opened
			owed  int64 // the last statement's balance
		)
		for m := range 12 {
			closing := opened.AddDate(0, m+1, 0)
			sums := map[account.Kind]int64{}
			add := func(kind account.Kind, amount int64, at time.Time) {
				d.Postings = append(d.Postings, issuer.Posting{ID: int64(len(d.Postings) + 1), AccountID: id, Amount: amount,
					Kind: string(kind), Description: "Shop", PostedAt: at, IdempotencyKey: fmt.Sprintf("b-%d", len(d.Postings)+1)})
				sums[kind] += amount
			}
			if owed > 0 {
				pay := owed
				if i%2 == 1 {
					pay = owed / 3
				}
				add(account.Payment, -pay, start.AddDate(0, 0, 10))
			}
			for k := range 8 {
				add(account.Purchase, int64(500+(i*7+k*131+m*17)%20_000), start.AddDate(0, 0, 1+k*3).Add(time.Duration(k)*time.Hour))
			}
			if m == 11 {
				break // the cycle the benchmark closes
			}
			if m > 0 && i%2 == 1 {
				// What the close job would have charged for the part left unpaid.
				add(account.Interest, rules.InterestDue(owed, owed/3), statement.EndOfDay(closing))
			}
			st, _ := rules.Compute(statement.Cycle{AccountID: id, Currency: "USD", PeriodStart: start, ClosingDate: closing, Opening: prev, Sums: sums})
			d.Statements = append(d.Statements, issuer.Statement{ID: int64(len(d.Statements) + 1), AccountID: id,
				PeriodStart: st.PeriodStart, ClosingDate: st.ClosingDate, DueDate: st.DueDate, Currency: "USD", Opening: st.Opening,
				Purchases: st.Purchases, Credits: st.Credits, Interest: st.Interest, Closing: st.Closing, MinimumDue: st.MinimumDue,
				Delivery: string(st.Delivery), CreatedAt: closing})
			prev, owed, start = st.Closing, st.Closing, closing.AddDate(0, 0, 1)
		}
	}
	return d
}

// BenchmarkStatementClose closes one day's cycles for 1,000 and 10,000 accounts with
// a year of history each, on a SQLite file, through statement.Service as the job
// runs it (interest through the ledger, statements in batches, no notices). Each
// iteration starts from a copy of the same database, so every run closes them all.
//
//	go test -run x -bench StatementClose -benchtime 1x -benchmem ./sqlite/
func BenchmarkStatementClose(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := b.TempDir()
			base := filepath.Join(dir, "base.db")
			s, err := sqlite.Open(b.Context(), base)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.LoadIssuer(b.Context(), statementHistory(n)); err != nil {
				b.Fatal(err)
			}
			s.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				path := filepath.Join(dir, fmt.Sprintf("run-%d.db", i))
				copyFile(b, base, path)
				s, err := sqlite.Open(context.Background(), path)
				if err != nil {
					b.Fatal(err)
				}
				svc := statement.New(s, s, nil, statement.DefaultRules, func() time.Time { return closeBenchDay.AddDate(0, 0, 1) }, nil)
				b.StartTimer()
				res, err := svc.Close(b.Context(), closeBenchDay)
				b.StopTimer()
				if err != nil || res.Statements != n || res.Interest != n/2 {
					b.Fatalf("Close: %+v, %v", res, err)
				}
				s.Close()
				os.Remove(path)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/account")
		})
	}
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}
