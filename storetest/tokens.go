package storetest

import (
	"database/sql"
	"testing"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/authorize"
	"github.com/cardportal/cardportal/card"
)

// testAuthTokens: a token message is decided on the card's state and the token as
// stored, stored when approved (new or changed), remembered when declined, and
// idempotent; a token names its card; an authorisation by token reads the token's
// status and expiry in its transaction.
func testAuthTokens(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ctx := t.Context()
	fp := []byte("fingerprint-of-token-1")
	tok := authorize.Token{Fingerprint: fp, CardID: 1000, Last: "0007", Expiry: card.Expiry{Month: 3, Year: 2030},
		Status: authorize.TokenActive, Wallet: "Phone Wallet"}
	var seen authorize.TokenSnapshot
	decide := func(code authorize.Code) func(authorize.TokenSnapshot) authorize.Code {
		return func(snap authorize.TokenSnapshot) authorize.Code { seen = snap; return code }
	}

	if _, err := s.CardByToken(ctx, fp); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("CardByToken before any token: %v, want NotFound", err)
	}
	a, err := s.Token(ctx, authMsg("t0", authorize.KindToken), authorize.CardRef{}, tok, func(authorize.TokenSnapshot) authorize.Code {
		t.Error("decide called for no card")
		return authorize.Approved
	})
	if err != nil || a.Code != authorize.NoSuchCard {
		t.Errorf("token for no card = %+v, %v; want 14", a, err)
	}

	// Issued: the decision sees the card's state and no token yet.
	a, err = s.Token(ctx, authMsg("t1", authorize.KindToken), ref1000, tok, decide(authorize.Approved))
	if err != nil || a.Code != authorize.Approved || a.Replayed {
		t.Fatalf("issue = %+v, %v", a, err)
	}
	if seen.CardState != card.Active || seen.Existing.CardID != 0 {
		t.Errorf("snapshot of a new token = %+v", seen)
	}
	ref, err := s.CardByToken(ctx, fp)
	want := ref1000
	want.Expiry, want.TokenID = card.Expiry{}, ref.TokenID
	if err != nil || ref.TokenID == 0 || ref != want {
		t.Fatalf("CardByToken = %+v, %v; want %+v with a token id", ref, err, want)
	}
	called := false
	a, err = s.Token(ctx, authMsg("t1", authorize.KindToken), ref1000, tok, func(authorize.TokenSnapshot) authorize.Code {
		called = true
		return authorize.LostCard
	})
	if err != nil || !a.Replayed || a.Code != authorize.Approved || called {
		t.Errorf("resend = %+v, %v (decide called: %v)", a, err, called)
	}

	// An authorisation by the token reads its status and expiry.
	var snap authorize.Snapshot
	if _, err := s.Authorise(ctx, authMsg("p1", authorize.KindAuthorisation), ref, Base, authHold(ref, "p1", 100), approveIf(100, &snap)); err != nil {
		t.Fatal(err)
	}
	if snap.Token != authorize.TokenActive || snap.TokenExpiry != tok.Expiry || snap.State != card.Active {
		t.Errorf("authorisation snapshot by token = %+v", snap)
	}

	// Suspended (with a renewed expiry): the decision sees the stored token, and the
	// next authorisation the change.
	sus := tok
	sus.Status, sus.Expiry = authorize.TokenSuspended, card.Expiry{Month: 4, Year: 2031}
	if a, err := s.Token(ctx, authMsg("t2", authorize.KindToken), ref1000, sus, decide(authorize.Approved)); err != nil || a.Code != authorize.Approved {
		t.Fatalf("suspend = %+v, %v", a, err)
	}
	if seen.Existing.CardID != 1000 || seen.Existing.Status != authorize.TokenActive || seen.Existing.Expiry != tok.Expiry {
		t.Errorf("snapshot of a stored token = %+v", seen.Existing)
	}
	if _, err := s.Authorise(ctx, authMsg("p2", authorize.KindAuthorisation), ref, Base, authHold(ref, "p2", 100), approveIf(100, &snap)); err != nil {
		t.Fatal(err)
	}
	if snap.Token != authorize.TokenSuspended || snap.TokenExpiry != sus.Expiry {
		t.Errorf("after suspension the authorisation saw %q %v", snap.Token, snap.TokenExpiry)
	}

	// A declined message is remembered and changes nothing.
	back := tok
	if a, err := s.Token(ctx, authMsg("t3", authorize.KindToken), ref1000, back, decide(authorize.LostCard)); err != nil || a.Code != authorize.LostCard {
		t.Fatalf("declined resume = %+v, %v", a, err)
	}
	if a, err := s.Token(ctx, authMsg("t3", authorize.KindToken), ref1000, back, decide(authorize.Approved)); err != nil || !a.Replayed || a.Code != authorize.LostCard {
		t.Errorf("resent decline = %+v, %v", a, err)
	}
	if _, err := s.Authorise(ctx, authMsg("p3", authorize.KindAuthorisation), ref, Base, authHold(ref, "p3", 100), approveIf(100, &snap)); err != nil {
		t.Fatal(err)
	}
	if snap.Token != authorize.TokenSuspended {
		t.Errorf("a declined resume changed the token to %q", snap.Token)
	}

	// The same token named with another card: the decision sees whose it is.
	if _, err := s.Token(ctx, authMsg("t4", authorize.KindToken), ref2000, back, decide(authorize.InvalidTxn)); err != nil {
		t.Fatal(err)
	}
	if seen.CardState != card.Frozen || seen.Existing.CardID != 1000 {
		t.Errorf("snapshot for another card = %+v", seen)
	}
	other := authMsg("t4", authorize.KindToken)
	other.Digest = []byte("another message")
	_, err = s.Token(ctx, other, ref1000, back, decide(authorize.Approved))
	wantErr(t, "reused token message id", err, cp.Conflict, "")
}
