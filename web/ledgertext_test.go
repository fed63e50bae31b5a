package web_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
)

// postSystemTexts posts two entries the system writes itself, with their catalogue
// messages: a payment and an interest charge.
func (e *env) postSystemTexts() {
	e.t.Helper()
	for _, en := range []account.Entry{
		{Kind: account.Payment, Amount: -5000, Description: "Payment received PAY-7Q2", TextID: "ledger.payment.received",
			TextArgs: map[string]string{"confirmation": "PAY-7Q2"}, PostedAt: start.Add(-2 * time.Hour), IdempotencyKey: "sys-1"},
		{Kind: account.Interest, Amount: 1234, Description: "Interest charge at 24.99% APR", TextID: "ledger.interest",
			TextArgs: map[string]string{"apr_num": "24.99"}, PostedAt: start.Add(-time.Hour), IdempotencyKey: "sys-2"},
	} {
		en.AccountID, en.Currency = 1, "USD"
		if _, err := e.store.Post(e.t.Context(), en); err != nil {
			e.t.Fatalf("Post %s: %v", en.IdempotencyKey, err)
		}
	}
}

// Texts the system wrote are shown in the member's language on the transactions
// page, the dashboard and the CSV download; merchant names stay as they are.
func TestTransactionsSystemTextsTranslated(t *testing.T) {
	e := newEnv(t)
	e.postHistory()
	e.postSystemTexts()
	b := e.browser(chromeUA)
	b.register(e.basic, userID)
	in := func(lang, path string) response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
		req.Header.Set("Accept-Language", lang)
		r := b.do(req)
		wantStatus(t, lang+" "+path, r, http.StatusOK)
		return r
	}

	en := in("en-US", "/accounts/1/transactions")
	wantContains(t, "en list", en.body, "Payment received PAY-7Q2", "Interest charge at 24.99% APR", "Skyline Air")

	sv := in("sv", "/accounts/1/transactions")
	wantContains(t, "sv list", sv.body, "Betalning mottagen PAY-7Q2", "Ränta, 24,99\u00a0% årsränta", "Skyline Air")
	wantLacks(t, "sv list", sv.body, "Payment received", "Interest charge")

	es := in("es", "/account")
	wantContains(t, "es dashboard", es.body, "Pago recibido PAY-7Q2", "Intereses al 24,99\u00a0% anual")
	wantLacks(t, "es dashboard", es.body, "Payment received", "Interest charge")

	// Search still finds the English text, and the Swedish page shows it translated.
	found := in("sv", "/accounts/1/transactions?q=payment+received")
	wantContains(t, "sv search", found.body, "Betalning mottagen PAY-7Q2")

	file := in("sv", "/accounts/1/transactions.csv")
	rows, err := csv.NewReader(strings.NewReader(file.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, row := range rows[1:] {
		texts = append(texts, row[2])
	}
	got := strings.Join(texts, "|")
	for _, want := range []string{"Ränta, 24,99\u00a0% årsränta", "Betalning mottagen PAY-7Q2", "Skyline Air"} {
		if !strings.Contains(got, want) {
			t.Errorf("sv CSV descriptions %q lack %q", got, want)
		}
	}
}
