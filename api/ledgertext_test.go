package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
)

// A text the system wrote is described in the request's language, in the JSON list
// and the CSV download; a merchant's name is not translated.
func TestTransactionsSystemTextsTranslated(t *testing.T) {
	e := newEnv(t)
	e.postHistory()
	_, err := e.store.Post(t.Context(), account.Entry{AccountID: 1, Kind: account.Credit, Amount: -1500, Currency: "USD",
		Description: "Rewards: 1500 points redeemed", TextID: "ledger.rewards.redeemed", TextArgs: map[string]string{"points_num": "1500"},
		PostedAt: start.Add(-time.Minute), IdempotencyKey: "sys-rewards"})
	if err != nil {
		t.Fatal(err)
	}
	alice := e.register(e.alice, "alice.example", alicePassword).Token
	for _, tt := range []struct{ lang, want string }{
		{"en-US", "Rewards: 1,500 points redeemed"},
		{"es", "Recompensas: 1.500 puntos canjeados"},
		{"sv-SE,sv;q=0.9", "Bonus: 1\u00a0500 poäng inlösta"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			h := http.Header{"Accept-Language": {tt.lang}}
			res := e.do(req{method: "GET", path: "/api/v1/accounts/1/transactions", token: alice, header: h})
			var out transactionsResponse
			res.decode(t, &out)
			descs := map[string]bool{}
			for _, x := range out.Transactions {
				descs[x.Description] = true
			}
			if !descs[tt.want] || !descs["Skyline Air"] {
				t.Errorf("descriptions %v lack %q or the merchant's name", descs, tt.want)
			}
			csv := e.do(req{method: "GET", path: "/api/v1/accounts/1/transactions.csv", token: alice, header: h})
			if csv.status != http.StatusOK || !strings.Contains(string(csv.body), tt.want) {
				t.Errorf("CSV %d lacks %q:\n%s", csv.status, tt.want, csv.body)
			}
		})
	}
}
