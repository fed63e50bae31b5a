package storetest

import (
	"bytes"
	"database/sql"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/card"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/cardservice"
)

// cardIDs returns the ids of cards.
func cardIDs(cards []cardservice.Card) []int64 {
	ids := []int64{}
	for _, c := range cards {
		ids = append(ids, c.ID)
	}
	return ids
}

// testCardScope checks who may act on which card: the basic card member on every card
// of the account, an additional member on their own only, nobody on another account's.
func testCardScope(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ada := register(t, s, 100, "ScopeAda")     // basic, account 10
	byron := register(t, s, 101, "ScopeByron") // additional, account 10
	dan := register(t, s, 200, "ScopeDan")     // basic, account 20
	ctx := t.Context()

	a, err := s.CardActor(ctx, ada.ID)
	if err != nil {
		t.Fatalf("CardActor: %v", err)
	}
	want := cardservice.Actor{MemberID: ada.ID, CardholderID: 100, AccountID: 10, Basic: true, Name: "Ada Lovelace",
		BirthDate: date(1980, 4, 2), Email: "member@example.com", Locale: "en"}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("CardActor (-want +got):\n%s", diff)
	}
	_, err = s.CardActor(ctx, 999999)
	wantErr(t, "CardActor of no member", err, cp.NotFound, "")

	tests := []struct {
		name string
		card int64
		ok   bool
	}{
		{name: "basic, own card", card: 1000, ok: true},
		{name: "basic, additional's card", card: 1001, ok: true},
		{name: "basic, lost card", card: 1002, ok: true},
		{name: "basic, other account", card: 2000},
		{name: "basic, no such card", card: 424242},
	}
	for _, tt := range tests {
		t.Run("basic/"+tt.name, func(t *testing.T) {
			c, err := s.MemberCard(ctx, ada.ID, tt.card)
			if !tt.ok {
				wantErr(t, "MemberCard", err, cp.NotFound, "")
				return
			}
			if err != nil || c.ID != tt.card {
				t.Fatalf("MemberCard = %d, %v", c.ID, err)
			}
		})
	}
	for _, tt := range []struct {
		card int64
		ok   bool
	}{{1001, true}, {1000, false}, {1002, false}, {1003, false}, {2000, false}} {
		_, err := s.MemberCard(ctx, byron.ID, tt.card)
		if tt.ok != (err == nil) {
			t.Errorf("additional member, card %d: %v, want ok=%v", tt.card, err, tt.ok)
		}
		if !tt.ok {
			wantErr(t, "additional member", err, cp.NotFound, "")
		}
	}
	c, err := s.MemberCard(ctx, ada.ID, 1001)
	if err != nil {
		t.Fatal(err)
	}
	wantCard := cardservice.Card{ID: 1001, AccountID: 10, CardholderID: 101, HolderName: "Byron Lovelace",
		HolderBirth: date(2001, 7, 15), Sealed: sealed(1001), Fingerprint: Fingerprint(1001), Last: "5678",
		Expiry: card.Expiry{Month: 6, Year: 2027}, State: card.Inactive, IssuedAt: date(2025, 1, 1)}
	if diff := cmp.Diff(wantCard, c); diff != "" {
		t.Errorf("MemberCard (-want +got):\n%s", diff)
	}

	byFP, err := s.MemberCardByFingerprint(ctx, byron.ID, Fingerprint(1001))
	if err != nil || byFP.ID != 1001 {
		t.Errorf("MemberCardByFingerprint own card = %d, %v", byFP.ID, err)
	}
	_, err = s.MemberCardByFingerprint(ctx, byron.ID, Fingerprint(1000))
	wantErr(t, "MemberCardByFingerprint of the basic member's card", err, cp.NotFound, "")
	_, err = s.MemberCardByFingerprint(ctx, dan.ID, Fingerprint(1000))
	wantErr(t, "MemberCardByFingerprint of another account's card", err, cp.NotFound, "")

	all, err := s.MemberCards(ctx, ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{1002, 1000, 1001, 1003}, cardIDs(all)); diff != "" {
		t.Errorf("MemberCards of the basic member (-want +got):\n%s", diff)
	}
	own, err := s.MemberCards(ctx, byron.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{1001}, cardIDs(own)); diff != "" {
		t.Errorf("MemberCards of the additional member (-want +got):\n%s", diff)
	}
}

func testCardState(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ada := register(t, s, 100, "StateAda")
	ctx := t.Context()
	if err := s.SetCardState(ctx, 1000, card.Active, card.Frozen); err != nil {
		t.Fatalf("active -> frozen: %v", err)
	}
	err := s.SetCardState(ctx, 1000, card.Active, card.Frozen)
	wantErr(t, "second active -> frozen", err, cp.Conflict, "")
	err = s.SetCardState(ctx, 777777, card.Active, card.Frozen)
	wantErr(t, "no such card", err, cp.NotFound, "")
	c, err := s.MemberCard(ctx, ada.ID, 1000)
	if err != nil || c.State != card.Frozen {
		t.Errorf("state after freeze = %q, %v", c.State, err)
	}
}

// testCardStateConcurrent has many callers flip one card between active and frozen
// with the optimistic check. Every successful step must have started from the state
// the previous one left, so the successes alternate and the final state is the one
// the number of successes implies.
func testCardStateConcurrent(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ada := register(t, s, 100, "RaceAda")
	const callers = 40
	var (
		start = make(chan struct{})
		wg    sync.WaitGroup
		mu    sync.Mutex
		wins  = map[card.State]int{}
	)
	for i := range callers {
		wg.Go(func() {
			from, to := card.Active, card.Frozen
			if i%2 == 1 {
				from, to = card.Frozen, card.Active
			}
			<-start
			err := s.SetCardState(t.Context(), 1000, from, to)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins[to]++
			case !cp.IsKind(err, cp.Conflict):
				t.Errorf("SetCardState: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	c, err := s.MemberCard(t.Context(), ada.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// Starting active, freezes can lead unfreezes by at most one.
	diff := wins[card.Frozen] - wins[card.Active]
	switch {
	case diff == 0 && c.State == card.Active, diff == 1 && c.State == card.Frozen:
	default:
		t.Errorf("%d freezes and %d unfreezes succeeded, card is %s: the steps did not alternate", wins[card.Frozen], wins[card.Active], c.State)
	}
	if wins[card.Frozen] == 0 {
		t.Errorf("no freeze succeeded")
	}
}

func testReplaceCard(t *testing.T, s Store, db *sql.DB) {
	mustLoad(t, s)
	ada := register(t, s, 100, "LostAda")
	byron := register(t, s, 101, "LostByron")
	ctx := t.Context()
	at := Base.Add(time.Hour)
	nc := cardservice.NewCard{Sealed: cardcrypto.Sealed{KeyID: "test-key-1", Blob: []byte("sealed-new")},
		Fingerprint: Fingerprint(9001), Last: "9001", Expiry: card.Expiry{Month: 3, Year: 2030}, IssuedAt: at}

	// Atomic: a replacement whose number is already stored leaves the old card as it was.
	clash := nc
	clash.Fingerprint = Fingerprint(2000)
	_, err := s.ReplaceCard(ctx, 1001, card.Inactive, clash)
	wantErr(t, "replacement with a taken number", err, cp.Conflict, "card.number.taken")
	if c, _ := s.MemberCard(ctx, byron.ID, 1001); c.State != card.Inactive {
		t.Errorf("old card is %q after a failed replacement, want it untouched", c.State)
	}
	// A stale state is refused and writes nothing.
	_, err = s.ReplaceCard(ctx, 1001, card.Active, nc)
	wantErr(t, "replacement from a stale state", err, cp.Conflict, "card.state.changed")
	if db != nil {
		if n := count(t, db, `SELECT COUNT(*) FROM cards WHERE account_id = 10`); n != 4 {
			t.Errorf("%d cards on the account after refused replacements, want 4", n)
		}
	}

	id, err := s.ReplaceCard(ctx, 1001, card.Inactive, nc)
	if err != nil {
		t.Fatalf("ReplaceCard: %v", err)
	}
	old, err := s.MemberCard(ctx, byron.ID, 1001)
	if err != nil || old.State != card.Lost {
		t.Errorf("old card = %q, %v; want lost", old.State, err)
	}
	nw, err := s.MemberCard(ctx, byron.ID, id)
	if err != nil {
		t.Fatalf("the holder cannot see the replacement: %v", err)
	}
	want := cardservice.Card{ID: id, AccountID: 10, CardholderID: 101, HolderName: "Byron Lovelace", HolderBirth: date(2001, 7, 15),
		Sealed: nc.Sealed, Fingerprint: nc.Fingerprint, Last: "9001", Expiry: nc.Expiry, State: card.Inactive, IssuedAt: at, ReplacesID: 1001}
	if diff := cmp.Diff(want, nw); diff != "" {
		t.Errorf("replacement (-want +got):\n%s", diff)
	}
	if _, err := s.MemberCard(ctx, ada.ID, id); err != nil {
		t.Errorf("the basic member cannot see the replacement: %v", err)
	}
	if _, err := s.ReplaceCard(ctx, 1001, card.Lost, nc); err == nil {
		t.Errorf("a lost card was replaced again")
	}
	// The holder's newest usable card is now the replacement, so identity finds it.
	ch, err := s.CardHolderByID(ctx, 101)
	if err != nil || ch.CardID != id {
		t.Errorf("CardHolderByID after replacement = card %d, %v; want %d", ch.CardID, err, id)
	}
}

func testCardPIN(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ctx := t.Context()
	_, err := s.PINValue(ctx, 1000)
	wantErr(t, "PINValue before any", err, cp.NotFound, "")
	if err := s.SetPINValue(ctx, 1000, []byte("value-1"), Base); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPINValue(ctx, 1000, []byte("value-2"), Base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	v, err := s.PINValue(ctx, 1000)
	if err != nil || !bytes.Equal(v, []byte("value-2")) {
		t.Errorf("PINValue = %q, %v; want the latest", v, err)
	}
	if _, err := s.PINValue(ctx, 1001); !cp.IsKind(err, cp.NotFound) {
		t.Errorf("another card's PIN value: %v, want NotFound: each card has its own", err)
	}
	err = s.SetPINValue(ctx, 424242, []byte("x"), Base)
	wantErr(t, "SetPINValue of no card", err, cp.NotFound, "")
	ada := register(t, s, 100, "PINAda")
	c, err := s.MemberCard(ctx, ada.ID, 1000)
	if err != nil || !c.HasPIN {
		t.Errorf("HasPIN = %v, %v after setting a PIN", c.HasPIN, err)
	}
	all, _ := s.MemberCards(ctx, ada.ID)
	if i := slices.IndexFunc(all, func(c cardservice.Card) bool { return c.ID == 1001 }); i < 0 || all[i].HasPIN {
		t.Errorf("card 1001 has a PIN it was never given")
	}
}
