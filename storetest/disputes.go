package storetest

import (
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/disputes"
	"github.com/cardportal/cardportal/identity"
)

func newDispute(member identity.MemberID, posting, amount int64) *disputes.Dispute {
	return &disputes.Dispute{AccountID: 10, PostingID: posting, MemberID: member, Reason: disputes.Duplicate, Detail: "twice",
		Status: disputes.Open, Amount: amount, Currency: "USD", CreatedAt: Base, UpdatedAt: Base}
}

func testDisputes(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ctx := t.Context()
	ada := register(t, s, 100, "DispAda")
	byron := register(t, s, 101, "DispByron")
	dan := register(t, s, 200, "DispDan")
	byronsTx, err := s.Post(ctx, account.Entry{AccountID: 10, CardID: 1001, Kind: account.Purchase, Amount: 1999, Currency: "USD",
		Description: "Game", Merchant: "Arcade", PostedAt: Base, IdempotencyKey: "disp-byron"})
	if err != nil {
		t.Fatal(err)
	}

	// Who sees which transaction: as the transaction list scopes them.
	for _, tt := range []struct {
		name    string
		member  identity.MemberID
		posting int64
		ok      bool
	}{
		{"basic, account-level purchase", ada.ID, 1, true},
		{"basic, additional's card", ada.ID, byronsTx.ID, true},
		{"additional, own card", byron.ID, byronsTx.ID, true},
		{"additional, not their card", byron.ID, 1, false},
		{"other account", dan.ID, 1, false},
		{"no such posting", ada.ID, 424242, false},
	} {
		got, err := s.MemberTransaction(ctx, tt.member, tt.posting)
		if !tt.ok {
			wantErr(t, "MemberTransaction "+tt.name, err, cp.NotFound, "")
			continue
		}
		if err != nil || got.ID != tt.posting {
			t.Errorf("MemberTransaction %s = %d, %v", tt.name, got.ID, err)
		}
	}
	tx, _ := s.MemberTransaction(ctx, ada.ID, 1)
	if tx.Kind != account.Purchase || tx.Amount != 5000 || tx.Currency != "USD" || tx.Status != account.Posted {
		t.Errorf("MemberTransaction(1) = %+v", tx)
	}

	d := newDispute(ada.ID, 1, 5000)
	if err := s.CreateDispute(ctx, d); err != nil || d.ID == 0 {
		t.Fatalf("CreateDispute = %d, %v", d.ID, err)
	}
	err = s.CreateDispute(ctx, newDispute(ada.ID, 1, 5000))
	wantErr(t, "a second open dispute", err, cp.Conflict, "dispute.exists")
	bd := newDispute(byron.ID, byronsTx.ID, 1999)
	if err := s.CreateDispute(ctx, bd); err != nil {
		t.Fatal(err)
	}

	if err := s.SetDisputeCredit(ctx, d.ID, 3, Base.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "SetDisputeCredit of no dispute", s.SetDisputeCredit(ctx, 424242, 3, Base), cp.NotFound, "")
	got, err := s.Dispute(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := disputes.Dispute{ID: d.ID, AccountID: 10, PostingID: 1, MemberID: ada.ID, Reason: disputes.Duplicate, Detail: "twice",
		Status: disputes.Open, Amount: 5000, Currency: "USD", CreditPostingID: 3, CreatedAt: Base, UpdatedAt: Base.Add(time.Second), Transaction: tx}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Dispute (-want +got):\n%s", diff)
	}

	// Scope of the dispute reads.
	if _, err := s.MemberDispute(ctx, ada.ID, bd.ID); err != nil {
		t.Errorf("the basic member cannot see the additional member's dispute: %v", err)
	}
	_, err = s.MemberDispute(ctx, byron.ID, d.ID)
	wantErr(t, "additional member, dispute of a transaction not theirs", err, cp.NotFound, "")
	_, err = s.MemberDispute(ctx, dan.ID, d.ID)
	wantErr(t, "other account's dispute", err, cp.NotFound, "")
	ids := func(ds []disputes.Dispute, err error) []int64 {
		if err != nil {
			t.Fatal(err)
		}
		out := []int64{}
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	if diff := cmp.Diff([]int64{bd.ID, d.ID}, ids(s.MemberDisputes(ctx, ada.ID))); diff != "" {
		t.Errorf("MemberDisputes(basic) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{bd.ID}, ids(s.MemberDisputes(ctx, byron.ID))); diff != "" {
		t.Errorf("MemberDisputes(additional) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{}, ids(s.MemberDisputes(ctx, dan.ID))); diff != "" {
		t.Errorf("MemberDisputes(other account) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{}, ids(s.PostingDisputes(ctx, byron.ID, 1))); diff != "" {
		t.Errorf("PostingDisputes of a transaction not the member's (-want +got):\n%s", diff)
	}

	// The optimistic status change.
	err = s.SetDisputeStatus(ctx, d.ID, disputes.UnderReview, disputes.ResolvedMember, 0, Base)
	wantErr(t, "SetDisputeStatus from a stale status", err, cp.Conflict, "")
	wantErr(t, "SetDisputeStatus of no dispute", s.SetDisputeStatus(ctx, 424242, disputes.Open, disputes.UnderReview, 0, Base), cp.NotFound, "")
	if err := s.SetDisputeStatus(ctx, d.ID, disputes.Open, disputes.ResolvedMerchant, 0, Base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDisputeStatus(ctx, d.ID, disputes.ResolvedMerchant, disputes.ResolvedMerchant, 77, Base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.MemberDispute(ctx, ada.ID, d.ID)
	if got.Status != disputes.ResolvedMerchant || got.ReversalPostingID != 77 || got.CreditPostingID != 3 || !got.UpdatedAt.Equal(Base.Add(time.Hour)) {
		t.Errorf("after resolution: %+v", got)
	}
	// Resolved, the transaction may be disputed again.
	again := newDispute(ada.ID, 1, 5000)
	if err := s.CreateDispute(ctx, again); err != nil {
		t.Errorf("a new dispute after the last was resolved: %v", err)
	}
	if diff := cmp.Diff([]int64{again.ID, d.ID}, ids(s.PostingDisputes(ctx, ada.ID, 1))); diff != "" {
		t.Errorf("PostingDisputes (-want +got):\n%s", diff)
	}
}

// testDisputeOneOpen: of many simultaneous disputes of one transaction, one is stored.
func testDisputeOneOpen(t *testing.T, s Store, _ *sql.DB) {
	mustLoad(t, s)
	ada := register(t, s, 100, "OneOpenAda")
	const callers = 20
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wins  int
		start = make(chan struct{})
	)
	for range callers {
		wg.Go(func() {
			<-start
			err := s.CreateDispute(t.Context(), newDispute(ada.ID, 1, 5000))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !cp.IsKind(err, cp.Conflict):
				t.Errorf("CreateDispute: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d of %d concurrent disputes of one transaction were stored, want 1", wins, callers)
	}
}
