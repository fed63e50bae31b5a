package authorize_test

import (
	"slices"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/authorize"
	"github.com/cardportal/cardportal/card"
)

// luhn completes body with its check digit into a number ParsePAN accepts.
func luhn(t testing.TB, body string) card.PAN {
	t.Helper()
	p, err := card.ParsePAN(body + string(card.LuhnCheckDigit(body)))
	if err != nil {
		t.Fatalf("luhn(%s): %v", body, err)
	}
	return p
}

func TestDecideToken(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ref := authorize.CardRef{CardID: 1, Expiry: card.Expiry{Month: 12, Year: 2028}}
	issue := authorize.TokenMessage{Status: authorize.TokenActive, TokenExpiry: card.Expiry{Month: 6, Year: 2029}, Expiry: ref.Expiry}
	with := func(m authorize.TokenMessage, f func(*authorize.TokenMessage)) authorize.TokenMessage {
		f(&m)
		return m
	}
	suspend := with(issue, func(m *authorize.TokenMessage) { m.Status = authorize.TokenSuspended })
	del := with(issue, func(m *authorize.TokenMessage) { m.Status = authorize.TokenDeleted })
	stored := func(status authorize.TokenStatus) authorize.Token { return authorize.Token{CardID: 1, Status: status} }
	for _, tt := range []struct {
		name string
		m    authorize.TokenMessage
		snap authorize.TokenSnapshot
		want authorize.Code
	}{
		{"issue", issue, authorize.TokenSnapshot{CardState: card.Active}, authorize.Approved},
		{"issue on a frozen card", issue, authorize.TokenSnapshot{CardState: card.Frozen}, authorize.Approved},
		{"issue on a card not yet activated", issue, authorize.TokenSnapshot{CardState: card.Inactive}, authorize.Approved},
		{"issue on a lost card", issue, authorize.TokenSnapshot{CardState: card.Lost}, authorize.LostCard},
		{"issue on a closed card", issue, authorize.TokenSnapshot{CardState: card.Closed}, authorize.DoNotHonour},
		{"issue with the wrong card expiry", with(issue, func(m *authorize.TokenMessage) { m.Expiry.Year++ }),
			authorize.TokenSnapshot{CardState: card.Active}, authorize.ExpiredCard},
		{"issue an expired token", with(issue, func(m *authorize.TokenMessage) { m.TokenExpiry = card.Expiry{Month: 10, Year: 2026} }),
			authorize.TokenSnapshot{CardState: card.Active}, authorize.ExpiredCard},
		{"suspend with a card expiry since renewed", with(suspend, func(m *authorize.TokenMessage) { m.Expiry.Year-- }),
			authorize.TokenSnapshot{CardState: card.Active, Existing: stored(authorize.TokenActive)}, authorize.Approved},
		{"resume with the wrong card expiry", with(issue, func(m *authorize.TokenMessage) { m.Expiry.Year-- }),
			authorize.TokenSnapshot{CardState: card.Active, Existing: stored(authorize.TokenSuspended)}, authorize.ExpiredCard},
		{"suspend on a lost card", suspend, authorize.TokenSnapshot{CardState: card.Lost, Existing: stored(authorize.TokenActive)}, authorize.Approved},
		{"resume", issue, authorize.TokenSnapshot{CardState: card.Active, Existing: stored(authorize.TokenSuspended)}, authorize.Approved},
		{"resume on a lost card", issue, authorize.TokenSnapshot{CardState: card.Lost, Existing: stored(authorize.TokenSuspended)}, authorize.LostCard},
		{"another card's token", issue, authorize.TokenSnapshot{CardState: card.Active, Existing: authorize.Token{CardID: 2, Status: authorize.TokenActive}}, authorize.InvalidTxn},
		{"resume a deleted token", issue, authorize.TokenSnapshot{CardState: card.Active, Existing: stored(authorize.TokenDeleted)}, authorize.InvalidTxn},
		{"suspend a deleted token", suspend, authorize.TokenSnapshot{CardState: card.Active, Existing: stored(authorize.TokenDeleted)}, authorize.InvalidTxn},
		{"delete a deleted token", del, authorize.TokenSnapshot{CardState: card.Active, Existing: stored(authorize.TokenDeleted)}, authorize.Approved},
	} {
		if got := authorize.DecideToken(tt.m, ref, now, tt.snap); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestTokens runs a token's life through the service and the SQLite store: issued,
// paid with (its own expiry, no CID online), suspended, resumed, used for
// reversals and clearings, deleted; and the card's own rules still apply to it.
func TestTokens(t *testing.T) {
	f := newFixture(t, authorize.Config{})
	ctx := t.Context()
	token := luhn(t, "489537000000123")
	tokExp := card.Expiry{Month: 6, Year: 2029}
	n := 0
	lifecycle := func(status authorize.TokenStatus) authorize.TokenMessage {
		n++
		return authorize.TokenMessage{MessageID: "tok-" + string(rune('a'+n)), Token: token, TokenExpiry: tokExp, Status: status,
			Wallet: "Phone Wallet", PAN: f.pan, Expiry: f.exp}
	}
	send := func(m authorize.TokenMessage) authorize.Code {
		t.Helper()
		a, err := f.svc.Token(ctx, m)
		if err != nil {
			t.Fatalf("Token(%s): %v", m.Status, err)
		}
		return a.Code
	}
	byToken := func(channel account.Channel, amount int64) authorize.Request {
		r := f.req(channel, amount)
		r.PAN, r.Token, r.Expiry = card.PAN{}, token, tokExp
		return r
	}

	// Before the token service told us of it, the token names no card.
	if c := f.decide(byToken(account.InPerson, 100)); c != authorize.NoSuchCard {
		t.Errorf("unknown token: %s", c)
	}
	// Malformed token messages are the network's bug.
	for name, m := range map[string]authorize.TokenMessage{
		"no token":      func() authorize.TokenMessage { m := lifecycle(authorize.TokenActive); m.Token = card.PAN{}; return m }(),
		"token is card": func() authorize.TokenMessage { m := lifecycle(authorize.TokenActive); m.Token = f.pan; return m }(),
		"bad status":    lifecycle("paused"),
		"no card":       func() authorize.TokenMessage { m := lifecycle(authorize.TokenActive); m.PAN = card.PAN{}; return m }(),
		"bad wallet":    func() authorize.TokenMessage { m := lifecycle(authorize.TokenActive); m.Wallet = "a\nb"; return m }(),
	} {
		if _, err := f.svc.Token(ctx, m); !cp.IsKind(err, cp.Invalid) {
			t.Errorf("%s: %v, want Invalid", name, err)
		}
	}
	wrongExp := lifecycle(authorize.TokenActive)
	wrongExp.Expiry = tokExp
	if c := send(wrongExp); c != authorize.ExpiredCard {
		t.Errorf("issue with the token's expiry as the card's: %s", c)
	}
	issue := lifecycle(authorize.TokenActive)
	if c := send(issue); c != authorize.Approved {
		t.Fatalf("issue: %s", c)
	}
	if a, err := f.svc.Token(ctx, issue); err != nil || !a.Replayed || a.Code != authorize.Approved {
		t.Errorf("resent issue = %+v, %v", a, err)
	}

	// Paying with it: the token's expiry, not the card's; online without a CID.
	if c := f.decide(byToken(account.InPerson, 100)); c != authorize.Approved {
		t.Errorf("in person by token: %s", c)
	}
	if c := f.decide(byToken(account.Online, 200)); c != authorize.Approved {
		t.Errorf("online by token: %s", c)
	}
	cardExp := byToken(account.InPerson, 100)
	cardExp.Expiry = f.exp
	if c := f.decide(cardExp); c != authorize.ExpiredCard {
		t.Errorf("by token with the card's expiry: %s", c)
	}
	for name, r := range map[string]authorize.Request{
		"CID with a token":       func() authorize.Request { r := byToken(account.Online, 1); r.CID = f.cid(); return r }(),
		"PIN with a token":       func() authorize.Request { r := byToken(account.InPerson, 1); r.PINBlock = make([]byte, 8); return r }(),
		"both number and token":  func() authorize.Request { r := byToken(account.InPerson, 1); r.PAN = f.pan; return r }(),
		"neither number nor one": func() authorize.Request { r := byToken(account.InPerson, 1); r.Token = card.PAN{}; return r }(),
	} {
		if _, err := f.svc.Authorise(ctx, r); !cp.IsKind(err, cp.Invalid) {
			t.Errorf("%s: %v, want Invalid", name, err)
		}
	}

	// Reversal and clearing may name the card by its token.
	held := byToken(account.InPerson, 1000)
	f.decide(held)
	before := f.pending()
	if a, err := f.svc.Reverse(ctx, authorize.Reversal{MessageID: "rev-t", OriginalID: held.MessageID, Token: token, Amount: 400}); err != nil ||
		a.Code != authorize.Approved || f.pending() != before-400 {
		t.Errorf("reversal by token = %+v, %v; pending %d, want %d", a, err, f.pending(), before-400)
	}
	if a, err := f.svc.Clear(ctx, authorize.Presentment{MessageID: "clr-t", OriginalID: held.MessageID, Token: token, Amount: 600,
		Currency: "USD", Merchant: held.Merchant, Channel: account.InPerson}); err != nil || a.Code != authorize.Approved || f.pending() != before-1000 {
		t.Errorf("clearing by token = %+v, %v; pending %d, want %d", a, err, f.pending(), before-1000)
	}

	// The card's own rules apply: a frozen card declines by token too, and is observed.
	if err := f.store.SetCardState(ctx, 1, card.Active, card.Frozen); err != nil {
		t.Fatal(err)
	}
	if c := f.decide(byToken(account.InPerson, 700)); c != authorize.RestrictedCard {
		t.Errorf("frozen card by token: %s", c)
	}
	if err := f.store.SetCardState(ctx, 1, card.Frozen, card.Active); err != nil {
		t.Fatal(err)
	}

	// Suspended: the token declines at once, the card number still pays, and the
	// decline is not a frozen card's (no alert).
	if c := send(lifecycle(authorize.TokenSuspended)); c != authorize.Approved {
		t.Fatalf("suspend: %s", c)
	}
	if c := f.decide(byToken(account.InPerson, 800)); c != authorize.RestrictedCard {
		t.Errorf("suspended token: %s", c)
	}
	if c := f.decide(f.req(account.InPerson, 900)); c != authorize.Approved {
		t.Errorf("card number while its token is suspended: %s", c)
	}
	if c := send(lifecycle(authorize.TokenActive)); c != authorize.Approved {
		t.Fatalf("resume: %s", c)
	}
	if c := f.decide(byToken(account.InPerson, 1100)); c != authorize.Approved {
		t.Errorf("resumed token: %s", c)
	}

	// Deleted for good.
	if c := send(lifecycle(authorize.TokenDeleted)); c != authorize.Approved {
		t.Fatalf("delete: %s", c)
	}
	if c := f.decide(byToken(account.InPerson, 1200)); c != authorize.ClosedAccount {
		t.Errorf("deleted token: %s", c)
	}
	if c := send(lifecycle(authorize.TokenActive)); c != authorize.InvalidTxn {
		t.Errorf("resume a deleted token: %s", c)
	}

	f.svc.Close()
	var observed []int64
	for _, e := range f.obs.events {
		observed = append(observed, e.Amount)
	}
	want := []int64{100, 200, 1000, 700, 900, 1100}
	if !slices.Equal(observed, want) {
		t.Errorf("observed %v, want %v", observed, want)
	}
}
