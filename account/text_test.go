package account

import (
	"testing"
	"time"

	"github.com/cardportal/cardportal/locale"
)

func TestTransactionText(t *testing.T) {
	pay := Transaction{Description: "Payment received PAY-1", TextID: "ledger.payment.received",
		TextArgs: map[string]string{"confirmation": "PAY-1"}}
	interest := Transaction{Description: "Interest charge at 1234.50% APR", TextID: "ledger.interest",
		TextArgs: map[string]string{"apr_num": "1234.50"}}
	for _, tt := range []struct {
		name string
		loc  locale.Locale
		t    Transaction
		want string
	}{
		{"merchant text as stored", locale.Swedish, Transaction{Description: "Blue Harbor Coffee"}, "Blue Harbor Coffee"},
		{"english", locale.EnglishUS, pay, "Payment received PAY-1"},
		{"spanish", locale.Spanish, pay, "Pago recibido PAY-1"},
		{"swedish", locale.Swedish, pay, "Betalning mottagen PAY-1"},
		{"number in en-US", locale.EnglishUS, interest, "Interest charge at 1,234.50% APR"},
		{"number in es", locale.Spanish, interest, "Intereses al 1.234,50\u00a0% anual"},
		{"number in sv", locale.Swedish, interest, "Ränta, 1\u00a0234,50\u00a0% årsränta"},
		{"number argument that is not one stays as written", locale.Spanish,
			Transaction{TextID: "ledger.rewards.redeemed", TextArgs: map[string]string{"points_num": "1x"}}, "Recompensas: 1x puntos canjeados"},
		{"integer number", locale.Swedish,
			Transaction{TextID: "ledger.rewards.redeemed", TextArgs: map[string]string{"points_num": "12500"}}, "Bonus: 12\u00a0500 poäng inlösta"},
		{"message the catalogue lacks", locale.Spanish,
			Transaction{Description: "Cashback", TextID: "ledger.no.such.message"}, "Cashback"},
		{"argument values are not expanded", locale.Spanish,
			Transaction{TextID: "ledger.offer.credit.merchant", TextArgs: map[string]string{"merchant": "{merchant} & Co"}}, "Abono por oferta: {merchant} & Co"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.t.Text(tt.loc); got != tt.want {
				t.Errorf("Text(%v) = %q, want %q", tt.loc, got, tt.want)
			}
		})
	}
}

func TestEntryValidateText(t *testing.T) {
	base := Entry{AccountID: 1, Kind: Payment, Amount: -100, Currency: "USD", Description: "Payment received",
		PostedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), IdempotencyKey: "k"}
	for _, tt := range []struct {
		name string
		id   string
		args map[string]string
		ok   bool
	}{
		{"none", "", nil, true},
		{"message without arguments", "ledger.payment.thanks", nil, true},
		{"message with arguments", "ledger.interest", map[string]string{"apr_num": "-24.99"}, true},
		{"arguments without a message", "", map[string]string{"a": "b"}, false},
		{"id with a space", "ledger payment", nil, false},
		{"argument name with a capital", "ledger.x", map[string]string{"Name": "b"}, false},
		{"number that is not", "ledger.x", map[string]string{"n_num": "1.2.3"}, false},
		{"value with a newline", "ledger.x", map[string]string{"name": "a\nb"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := base
			e.TextID, e.TextArgs = tt.id, tt.args
			if err := e.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
