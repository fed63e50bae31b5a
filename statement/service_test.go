package statement_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/jobs"
	"github.com/cardportal/cardportal/locale"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/sqlstore"
	"github.com/cardportal/cardportal/statement"
	"github.com/cardportal/cardportal/storetest"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// notices records what the service sends.
type notices struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (n *notices) Notify(_ context.Context, m notify.Message) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.msgs = append(n.msgs, m)
	return nil
}

// setup is storetest's fixture on SQLite, with the basic member of account 10
// registered in Swedish, and a service over it.
func setup(t *testing.T) (*sqlstore.Store, *statement.Service, *notices) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.LoadIssuer(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateMember(t.Context(), identity.NewMember{UserID: "ada", CardholderID: 100, Name: "Ada",
		Email: "ada@example.com", Locale: "sv", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedAt: storetest.Base}); err != nil {
		t.Fatal(err)
	}
	n := &notices{}
	now := func() time.Time { return date(2026, 4, 2) }
	return s, statement.New(s, s, n, statement.DefaultRules, now, nil), n
}

func post(t *testing.T, s *sqlstore.Store, key string, kind account.Kind, amount int64, at time.Time, merchant string, card int64) {
	t.Helper()
	_, err := s.Post(t.Context(), account.Entry{AccountID: 10, CardID: card, Kind: kind, Amount: amount, Currency: "USD",
		Description: merchant, Merchant: merchant, PostedAt: at, IdempotencyKey: key})
	if err != nil {
		t.Fatalf("Post %s: %v", key, err)
	}
}

func TestCloseJob(t *testing.T) {
	s, svc, n := setup(t)
	ctx := t.Context()
	svc.Batch = 1 // every account its own batch: the paging must not skip any

	res, err := svc.Close(ctx, date(2026, 2, 1))
	if err != nil {
		t.Fatal(err)
	}
	if res != (statement.Result{Accounts: 2, Statements: 1}) {
		t.Errorf("first close: %+v", res)
	}
	// 1000 of the 5000 paid by 26 Feb (the fixture's payment), the rest a day late:
	// interest on 4000 × 24.99% / 12 = 83.3 → 83.
	post(t, s, "late", account.Payment, -5000, date(2026, 2, 27), "Payment", 0)
	res, err = svc.Close(ctx, date(2026, 3, 1))
	if err != nil {
		t.Fatal(err)
	}
	if res != (statement.Result{Accounts: 2, Statements: 1, Interest: 1}) {
		t.Errorf("second close: %+v", res)
	}
	// A rerun (say another instance's job) changes nothing.
	if res, err = svc.Close(ctx, date(2026, 3, 1)); err != nil || res.Statements != 0 {
		t.Errorf("rerun: %+v, %v", res, err)
	}
	sts, err := svc.List(ctx, 100)
	if err != nil || len(sts) != 2 {
		t.Fatalf("List = %v, %v", sts, err)
	}
	if got := sts[0]; got.Interest != 83 || got.Opening != 5000 || got.Purchases != 2500 || got.Credits != -6000 || got.Closing != 1583 {
		t.Errorf("second statement %+v", got)
	}
	if sum, _ := s.Summaries(ctx, 100); sum[0].Balance != sts[0].Closing {
		t.Errorf("balance %d, statement %d: the statement does not match the ledger", sum[0].Balance, sts[0].Closing)
	}
	if len(n.msgs) != 2 {
		t.Fatalf("%d notices, want one per statement", len(n.msgs))
	}
	m := n.msgs[1]
	sv := locale.Negotiate("sv", "")
	if m.To != "ada@example.com" || m.Kind != "statement_ready" || m.Subject != sv.T("notice.statement_ready.subject") ||
		!strings.Contains(m.Body, sv.Money(1583, "USD")) || !strings.Contains(m.Body, "papperskopia") {
		t.Errorf("notice %+v", m)
	}

	// Another member's statement is not found, as is an additional member's view.
	for _, holder := range []int64{101, 200} {
		if _, _, err := svc.Detail(ctx, holder, sts[0].ID); !cp.IsKind(err, cp.NotFound) {
			t.Errorf("Detail by holder %d: err = %v, want NotFound", holder, err)
		}
	}
}

func TestScheduleOnce(t *testing.T) {
	s, svc, _ := setup(t)
	now := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	// Two instances schedule the same days: each day is one job.
	for range 2 {
		if err := statement.Schedule(t.Context(), s, now); err != nil {
			t.Fatal(err)
		}
	}
	r := &jobs.Runner{Store: s, Handlers: map[string]jobs.Handler{statement.CloseKind: svc.Handle}, Now: func() time.Time { return now }, Batch: 100}
	n, err := r.RunOnce(t.Context())
	if err != nil || n != statement.CatchUpDays {
		t.Errorf("RunOnce ran %d jobs (%v), want %d", n, err, statement.CatchUpDays)
	}
	sts, _ := svc.List(t.Context(), 100)
	if len(sts) != 1 || sts[0].ClosingDate != date(2026, 3, 1) {
		t.Errorf("after the catch-up: %+v, want the 1 March statement", sts)
	}
	if n, _ := r.RunOnce(t.Context()); n != 0 {
		t.Errorf("second RunOnce ran %d jobs", n)
	}
}

// TestPDFText renders a statement and reads it back with pdftotext: every figure,
// every transaction and the letters of each language must be there, as the ledger
// has them.
func TestPDFText(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext (poppler-utils) is missing")
		}
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	s, svc, _ := setup(t)
	ctx := t.Context()
	post(t, s, "p1", account.Purchase, 12_345, date(2026, 1, 20), "Café Åre Ölstuga", 1000)
	post(t, s, "p2", account.Purchase, 99_999, date(2026, 1, 25), "Niño € Tienda", 1000)
	post(t, s, "r1", account.Refund, -2_000, date(2026, 1, 28), "Refund: Café Åre Ölstuga", 1000)
	if _, err := svc.Close(ctx, date(2026, 2, 1)); err != nil {
		t.Fatal(err)
	}
	sts, err := svc.List(ctx, 100)
	if err != nil || len(sts) != 1 {
		t.Fatalf("List = %v, %v", sts, err)
	}
	st, txs, err := svc.Detail(ctx, 100, sts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) != 4 { // the fixture's purchase on 1 Feb and the three above
		t.Fatalf("%d transactions, want 4", len(txs))
	}
	var sum int64
	for _, tx := range txs {
		sum += tx.Amount
	}
	if st.Opening+sum != st.Closing {
		t.Errorf("opening %d + transactions %d != closing %d", st.Opening, sum, st.Closing)
	}
	for _, code := range []string{"en-US", "en-IN", "es", "sv"} {
		loc, ok := locale.Parse(code)
		if !ok {
			t.Fatalf("locale %s", code)
		}
		b, err := statement.RenderPDF(statement.Document{Loc: loc, Issuer: "Northwind Card Services", Product: "Gold Card",
			Holder: "Ada Lovelace", Statement: st, Transactions: txs})
		if err != nil {
			t.Fatal(err)
		}
		text := pdfText(t, b)
		want := []string{"Northwind Card Services", "Ada Lovelace", "Café Åre Ölstuga", "Niño € Tienda", "•••• 1234",
			loc.T("stmt.pdf.title"), loc.T("stmt.closing"), loc.Date(st.ClosingDate), loc.Date(st.DueDate)}
		for _, v := range []int64{st.Opening, st.Purchases, st.Credits, st.Interest, st.Closing, st.MinimumDue} {
			want = append(want, loc.Money(v, "USD"))
		}
		for _, tx := range txs {
			want = append(want, loc.Money(tx.Amount, "USD"), loc.Date(tx.PostedAt))
		}
		for _, w := range want {
			if w = out2text(w); !strings.Contains(text, w) {
				t.Errorf("%s: PDF text lacks %q:\n%s", code, w, text)
			}
		}
	}
}

// pdfText extracts a PDF's text, spaces normalised (pdftotext may render the
// narrow no-break space of a grouped amount as a plain one).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", pdf[:min(len(pdf), 20)])
	}
	cmd := exec.Command("pdftotext", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return out2text(string(out))
}

func out2text(s string) string {
	return strings.NewReplacer("\u202f", " ", "\u00a0", " ").Replace(s)
}

// TestReadyPreferences: the member's alert preferences decide the email notice.
func TestReadyPreferences(t *testing.T) {
	for _, wants := range []bool{false, true} {
		s, svc, n := setup(t)
		var heard []int64
		svc.SetReady(func(_ context.Context, member identity.MemberID, st statement.Statement) bool {
			heard = append(heard, st.AccountID)
			return wants
		})
		post(t, s, "buy", account.Purchase, 1000, date(2026, 1, 20), "Books", 1000)
		if _, err := svc.Close(t.Context(), date(2026, 2, 1)); err != nil {
			t.Fatal(err)
		}
		if len(heard) != 1 || heard[0] != 10 {
			t.Errorf("wants email %v: the hook heard of %v, want account 10's statement", wants, heard)
		}
		if got := len(n.msgs); (got == 1) != wants {
			t.Errorf("wants email %v: %d notices sent", wants, got)
		}
	}
}

// TestLedgerTexts: the interest the close job posts carries its catalogue message, and
// the statement PDF and CSV show the texts the system wrote in the reader's language.
func TestLedgerTexts(t *testing.T) {
	s, svc, _ := setup(t)
	ctx := t.Context()
	if _, err := svc.Close(ctx, date(2026, 2, 1)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Post(ctx, account.Entry{AccountID: 10, Kind: account.Payment, Amount: -5000, Currency: "USD",
		Description: "Payment received PAY-LATE1", TextID: "ledger.payment.received", TextArgs: map[string]string{"confirmation": "PAY-LATE1"},
		PostedAt: date(2026, 2, 27), IdempotencyKey: "late"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, date(2026, 3, 1)); err != nil {
		t.Fatal(err)
	}
	sts, err := svc.List(ctx, 100)
	if err != nil || len(sts) != 2 {
		t.Fatalf("List = %v, %v", sts, err)
	}
	st, txs, err := svc.Detail(ctx, 100, sts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var interest *account.Transaction
	for i := range txs {
		if txs[i].Kind == account.Interest {
			interest = &txs[i]
		}
	}
	if interest == nil || interest.TextID != "ledger.interest" || interest.TextArgs["apr_num"] != "24.99" ||
		interest.Description != "Interest charge at 24.99% APR" {
		t.Fatalf("interest posting %+v", interest)
	}
	if got, want := interest.Text(locale.Spanish), "Intereses al 24,99\u00a0% anual"; got != want {
		t.Errorf("interest in es = %q, want %q", got, want)
	}

	var csv bytes.Buffer
	if err := statement.WriteCSV(&csv, locale.Swedish, txs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Ränta, 24,99\u00a0% årsränta", "Betalning mottagen PAY-LATE1"} {
		if !strings.Contains(csv.String(), want) {
			t.Errorf("sv CSV lacks %q:\n%s", want, csv.String())
		}
	}
	if strings.Contains(csv.String(), "Interest charge") {
		t.Errorf("sv CSV has the English interest text:\n%s", csv.String())
	}

	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext (poppler-utils) is missing")
		}
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	b, err := statement.RenderPDF(statement.Document{Loc: locale.Spanish, Issuer: "Northwind Card Services", Product: "Gold Card",
		Holder: "Ada Lovelace", Statement: st, Transactions: txs})
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, b)
	for _, want := range []string{"Intereses al 24,99 % anual", "Pago recibido PAY-LATE1"} {
		if !strings.Contains(text, want) {
			t.Errorf("es PDF text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Payment received") || strings.Contains(text, "Interest charge") {
		t.Errorf("es PDF has English system texts:\n%s", text)
	}
}
