package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/payment"
	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/sqlstore"
	"github.com/cardportal/cardportal/storetest"
)

// BenchmarkPaymentRun measures the payment job on SQLite: one run executes a scheduled
// payment on each of 1,000 accounts (claim, ledger posting, status), and reports
// payments per second.
func BenchmarkPaymentRun(b *testing.B) {
	const accounts = 1000
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.LoadIssuer(ctx, storetest.Large(accounts, accounts*5)); err != nil {
		b.Fatal(err)
	}
	members, banks := benchPayers(b, s, accounts)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := base
	svc := payment.New(s, s, nil, nil, payment.Config{}, func() time.Time { return now }, nil)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		day := base.AddDate(0, 0, i)
		for a := range accounts {
			p := payment.Payment{AccountID: int64(10000 + a), MemberID: members[a], BankAccountID: banks[a], Amount: 1,
				Currency: "EUR", On: day, Status: payment.Scheduled, Kind: payment.OneTime,
				Confirmation: fmt.Sprintf("B%03d-%04d-%04d", i%1000, a/10000, a%10000), IdempotencyKey: fmt.Sprintf("bench-%d", i),
				Request: "bench", CreatedAt: now, UpdatedAt: now}
			if _, err := s.CreatePayment(ctx, &p); err != nil {
				b.Fatal(err)
			}
		}
		now = day.Add(time.Hour)
		b.StartTimer()
		rep, err := svc.RunDue(ctx, day)
		if err != nil || rep.Posted != accounts {
			b.Fatalf("RunDue = %+v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(accounts*b.N)/b.Elapsed().Seconds(), "payments/s")
}

// benchPayers registers the basic card member of each of Large's accounts and links
// a bank account for them.
func benchPayers(b *testing.B, s *sqlstore.Store, accounts int) (members, banks []int64) {
	ctx := context.Background()
	holder := int64(100000)
	for i := range accounts {
		basic := holder + 1
		holder += int64(1 + (i+1)%2) // Large gives every other account an additional holder
		m, err := s.CreateMember(ctx, identity.NewMember{UserID: fmt.Sprintf("bench%d", i), CardholderID: basic, Name: "Bench",
			Email: "bench@example.com", Locale: "en", PasswordHash: "$argon2id$x", CreatedAt: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		bank := payment.BankAccount{AccountID: int64(10000 + i), MemberID: int64(m.ID), Routing: "011000015", Last4: "6789",
			Sealed: cardcrypto.Sealed{KeyID: "k1", Blob: []byte{1}}, MAC: []byte(fmt.Sprint(i))}
		if _, err := s.LinkBankAccount(ctx, &bank, time.Now()); err != nil {
			b.Fatal(err)
		}
		members, banks = append(members, int64(m.ID)), append(banks, bank.ID)
	}
	return members, banks
}
