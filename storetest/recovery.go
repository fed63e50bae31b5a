package storetest

import (
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// The contract of identity.RecoveryStore: password resets are single use, expire,
// count code tries atomically, and completing one sets the password, adds it to the
// history and lifts a lock in one go.

func testPasswordResets(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	a := register(t, s, 100, "reset.alice")
	b := register(t, s, 200, "reset.bob")
	h := hash32("reset-1")

	if _, err := s.PasswordResetByTokenHash(ctx, h); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("PasswordResetByTokenHash before any: %v, want NotFound", err)
	}
	r := identity.PasswordReset{TokenHash: h, MemberID: a.ID, Method: identity.ResetEmailCode, CodeMAC: hash32("mac"),
		CreatedAt: Base, ExpiresAt: Base.Add(time.Hour)}
	if err := s.CreatePasswordReset(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePasswordReset(ctx, r); !cp.IsKind(err, cp.Conflict) {
		t.Fatalf("CreatePasswordReset twice: %v, want Conflict", err)
	}
	got, err := s.PasswordResetByTokenHash(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("reset (-want +got):\n%s", diff)
	}
	link := identity.PasswordReset{TokenHash: hash32("link"), MemberID: a.ID, Method: identity.ResetLink, CreatedAt: Base, ExpiresAt: Base.Add(time.Hour)}
	if err := s.CreatePasswordReset(ctx, link); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PasswordResetByTokenHash(ctx, link.TokenHash); err != nil || got.CodeMAC != nil || got.Method != identity.ResetLink {
		t.Fatalf("link reset: %+v, %v", got, err)
	}

	// Code tries: exactly max of many concurrent tries are admitted.
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for range 20 {
		wg.Go(func() {
			ok, err := s.ReserveResetTry(ctx, h, 5)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if admitted != 5 {
		t.Errorf("ReserveResetTry admitted %d of 20, want 5", admitted)
	}
	if _, err := s.ReserveResetTry(ctx, hash32("none"), 5); !cp.IsKind(err, cp.NotFound) {
		t.Errorf("ReserveResetTry unknown: %v, want NotFound", err)
	}

	// Lock Alice, then complete: new hash, history, no lock, other resets gone.
	for range maxFailures {
		if _, err := s.BeginPasswordAttempt(ctx, a.ID, Base, maxFailures, lockFor); err != nil {
			t.Fatal(err)
		}
	}
	if att, _ := s.BeginPasswordAttempt(ctx, a.ID, Base, maxFailures, lockFor); att.Allowed {
		t.Fatal("not locked before the reset")
	}
	at := Base.Add(time.Minute)
	if err := s.CompletePasswordReset(ctx, h, b.ID, "$bob", at); !cp.IsKind(err, cp.NotFound) {
		t.Errorf("completing Alice's reset as Bob: %v, want NotFound", err)
	}
	if err := s.CompletePasswordReset(ctx, h, a.ID, "$new", at); err != nil {
		t.Fatalf("CompletePasswordReset: %v", err)
	}
	if err := s.CompletePasswordReset(ctx, h, a.ID, "$again", at); !cp.IsKind(err, cp.Expired) {
		t.Errorf("second CompletePasswordReset: %v, want Expired", err)
	}
	if got, err := s.PasswordResetByTokenHash(ctx, h); err != nil || !got.UsedAt.Equal(at) {
		t.Errorf("used reset: used at %v, %v; want %v", got.UsedAt, err, at)
	}
	if _, err := s.PasswordResetByTokenHash(ctx, link.TokenHash); !cp.IsKind(err, cp.NotFound) {
		t.Errorf("other pending reset after completion: %v, want NotFound", err)
	}
	_, cred, err := s.MemberByUserID(ctx, "reset.alice")
	if err != nil || cred.PasswordHash != "$new" || !cred.ChangedAt.Equal(at) {
		t.Errorf("credential after reset: %+v, %v", cred, err)
	}
	hist, err := s.PasswordHistory(ctx, a.ID, 4)
	if err != nil || len(hist) != 2 || hist[0] != "$new" {
		t.Errorf("history after reset: %q, %v", hist, err)
	}
	if att, err := s.BeginPasswordAttempt(ctx, a.ID, at, maxFailures, lockFor); err != nil || !att.Allowed || att.Failures != 1 {
		t.Errorf("attempt after reset: %+v, %v; want allowed, 1 failure", att, err)
	}
	_, bcred, _ := s.MemberByUserID(ctx, "reset.bob")
	if bcred.PasswordHash == "$bob" {
		t.Error("Bob's password changed by a reset of Alice's")
	}

	// An expired reset cannot be completed; nothing changes.
	old := identity.PasswordReset{TokenHash: hash32("old"), MemberID: b.ID, Method: identity.ResetLink, CreatedAt: Base, ExpiresAt: Base.Add(time.Hour)}
	if err := s.CreatePasswordReset(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := s.CompletePasswordReset(ctx, old.TokenHash, b.ID, "$late", Base.Add(time.Hour)); !cp.IsKind(err, cp.Expired) {
		t.Errorf("expired CompletePasswordReset: %v, want Expired", err)
	}
	if _, c, _ := s.MemberByUserID(ctx, "reset.bob"); c.PasswordHash == "$late" {
		t.Error("expired reset changed the password")
	}
	if err := s.CompletePasswordReset(ctx, hash32("never"), b.ID, "$x", at); !cp.IsKind(err, cp.NotFound) {
		t.Errorf("unknown CompletePasswordReset: %v, want NotFound", err)
	}
}
