package account

import (
	"strings"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
)

func validEntry() Entry {
	return Entry{
		AccountID: 1, CardID: 2, Kind: Purchase, Amount: 100, Currency: "USD", Description: "Shop",
		Merchant: "Shop", MCC: "5411", City: "Portland", Country: "US", Channel: InPerson,
		PostedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), IdempotencyKey: "k",
	}
}

func TestEntryValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Entry)
		field string // "" = valid
	}{
		{"valid", func(*Entry) {}, ""},
		{"refund is a credit", func(e *Entry) { e.Kind, e.Amount = Refund, -100 }, ""},
		{"payment without card", func(e *Entry) { e.Kind, e.Amount, e.CardID, e.Channel, e.MCC = Payment, -100, 0, NoChannel, "" }, ""},
		{"pending", func(e *Entry) { e.Status = Pending }, ""},
		{"purchase as a credit", func(e *Entry) { e.Amount = -100 }, "amount"},
		{"interest as a credit", func(e *Entry) { e.Kind, e.Amount = Interest, -1 }, "amount"},
		{"credit as a debit", func(e *Entry) { e.Kind = Credit }, "amount"},
		{"zero", func(e *Entry) { e.Amount = 0 }, "amount"},
		{"unknown kind", func(e *Entry) { e.Kind = "bonus" }, "kind"},
		{"no account", func(e *Entry) { e.AccountID = 0 }, "account_id"},
		{"lower-case currency", func(e *Entry) { e.Currency = "usd" }, "currency"},
		{"unknown status", func(e *Entry) { e.Status = "held" }, "status"},
		{"unknown channel", func(e *Entry) { e.Channel = "fax" }, "channel"},
		{"short MCC", func(e *Entry) { e.MCC = "541" }, "mcc"},
		{"country", func(e *Entry) { e.Country = "USA" }, "country"},
		{"no time", func(e *Entry) { e.PostedAt = time.Time{} }, "posted_at"},
		{"no key", func(e *Entry) { e.IdempotencyKey = "" }, "idempotency_key"},
		{"long key", func(e *Entry) { e.IdempotencyKey = strings.Repeat("k", MaxKeyLen+1) }, "idempotency_key"},
		{"control in merchant", func(e *Entry) { e.Merchant = "a\x00b" }, "merchant"},
		{"invalid UTF-8", func(e *Entry) { e.City = "\xff" }, "city"},
		{"long description", func(e *Entry) { e.Description = strings.Repeat("é", MaxTextLen+1) }, "description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEntry()
			tt.edit(&e)
			err := e.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !cp.IsKind(err, cp.Invalid) {
				t.Fatalf("Validate: %v, want Invalid", err)
			}
			fs := cp.ErrorFields(err)
			if len(fs) != 1 || fs[0].Field != tt.field {
				t.Errorf("fields %v, want just %s", fs, tt.field)
			}
		})
	}
}

func TestFilterValidate(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name  string
		f     Filter
		field string
	}{
		{"empty", Filter{}, ""},
		{"same day", Filter{From: day(2), To: day(2)}, ""},
		{"dates reversed", Filter{From: day(3), To: day(2)}, "to"},
		{"amounts equal", Filter{Min: n(5), Max: n(5)}, ""},
		{"amounts reversed", Filter{Min: n(5), Max: n(4)}, "max"},
		{"long query", Filter{Query: strings.Repeat("a", MaxQueryLen+1)}, "q"},
		{"control in query", Filter{Query: "a\nb"}, "q"},
		{"max page", Filter{Limit: MaxPageSize}, ""},
		{"page too large", Filter{Limit: MaxPageSize + 1}, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := cp.ErrorFields(tt.f.Validate())
			switch {
			case tt.field == "" && len(fs) > 0:
				t.Errorf("fields %v, want none", fs)
			case tt.field != "" && (len(fs) != 1 || fs[0].Field != tt.field):
				t.Errorf("fields %v, want just %s", fs, tt.field)
			}
		})
	}
	if got := (Filter{}).PageSize(); got != DefaultPageSize {
		t.Errorf("default page size %d", got)
	}
}

func TestCursor(t *testing.T) {
	c := Cursor{PostedAt: time.Date(2026, 3, 1, 12, 0, 0, 123000, time.UTC), ID: 42}
	got, err := ParseCursor(c.String())
	if err != nil || !got.PostedAt.Equal(c.PostedAt) || got.ID != c.ID {
		t.Errorf("round trip: %v, %v", got, err)
	}
	for _, bad := range []string{"", "1", "a.b", "1.0", "1.-2", "1.2.3", strings.Repeat("9", 41)} {
		if _, err := ParseCursor(bad); !cp.IsKind(err, cp.Invalid) {
			t.Errorf("ParseCursor(%q): %v, want Invalid", bad, err)
		}
	}
}
