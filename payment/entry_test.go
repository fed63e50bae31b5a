package payment

import (
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/locale"
)

// A payment's posting names its text as a catalogue message, so the member reads it
// in their language; its English is the stored description.
func TestEntryText(t *testing.T) {
	p := Payment{ID: 7, AccountID: 1, Amount: 2500, Currency: "USD", Confirmation: "PAY-7Q2K-M4XD",
		CreatedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e := p.Entry()
	if err := e.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for _, tt := range []struct {
		loc  locale.Locale
		want string
	}{
		{locale.EnglishUS, "Payment received PAY-7Q2K-M4XD"},
		{locale.Spanish, "Pago recibido PAY-7Q2K-M4XD"},
		{locale.Swedish, "Betalning mottagen PAY-7Q2K-M4XD"},
	} {
		if got := account.Text(tt.loc, e.TextID, e.TextArgs, ""); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.loc, got, tt.want)
		}
	}
	if e.Description != "Payment received PAY-7Q2K-M4XD" {
		t.Errorf("description %q", e.Description)
	}
}
