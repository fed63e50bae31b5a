package storetest

import (
	"database/sql"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// testContactCodes checks identity.ContactStore (SPEC ID4).
func testContactCodes(t *testing.T, s Store, db *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	a := register(t, s, 100, "contact.alice")
	b := register(t, s, 200, "contact.bob")

	if ph, em, err := s.ContactVerified(ctx, a.ID); err != nil || !ph.IsZero() || !em.IsZero() {
		t.Fatalf("ContactVerified after registration: %v %v %v", ph, em, err)
	}
	if _, _, err := s.ContactVerified(ctx, 999999); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("ContactVerified of an unknown member: %v", err)
	}
	if _, err := s.ContactCode(ctx, a.ID, identity.ContactEmail); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("ContactCode before any: %v", err)
	}
	if _, err := s.ReserveContactTry(ctx, a.ID, identity.ContactEmail, 5); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("ReserveContactTry without a code: %v", err)
	}
	c := identity.ContactCode{MemberID: a.ID, Channel: identity.ContactEmail, Address: a.Email, CodeMAC: []byte("mac-1"), ExpiresAt: Base.Add(10 * time.Minute)}
	if err := s.SaveContactCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	// Exactly max of many concurrent tries are admitted.
	var admitted atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			ok, err := s.ReserveContactTry(ctx, a.ID, identity.ContactEmail, 5)
			if err != nil {
				t.Error(err)
			}
			if ok {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if admitted.Load() != 5 {
		t.Fatalf("admitted %d tries, want 5", admitted.Load())
	}
	// A new code replaces the old one and its tries.
	c.CodeMAC, c.ExpiresAt = []byte("mac-2"), Base.Add(20*time.Minute)
	if err := s.SaveContactCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.ContactCode(ctx, a.ID, identity.ContactEmail)
	if err != nil || string(got.CodeMAC) != "mac-2" || got.Tries != 0 || !got.ExpiresAt.Equal(c.ExpiresAt) || got.Address != a.Email {
		t.Fatalf("replaced code: %+v %v", got, err)
	}
	if _, err := s.ContactCode(ctx, b.ID, identity.ContactEmail); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("bob sees alice's code: %v", err)
	}
	if err := s.ConfirmContact(ctx, b.ID, identity.ContactEmail, Base); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("ConfirmContact without a code: %v", err)
	}
	at := Base.Add(time.Minute)
	if err := s.ConfirmContact(ctx, a.ID, identity.ContactEmail, at); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmContact(ctx, a.ID, identity.ContactEmail, at); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("ConfirmContact twice: %v", err)
	}
	ph, em, err := s.ContactVerified(ctx, a.ID)
	if err != nil || !ph.IsZero() || !em.Equal(at) {
		t.Fatalf("after confirming the email: %v %v %v", ph, em, err)
	}
	if ph, em, _ := s.ContactVerified(ctx, b.ID); !ph.IsZero() || !em.IsZero() {
		t.Fatal("bob confirmed with alice")
	}
	// A code sent to an address the member no longer has confirms nothing.
	stale := identity.ContactCode{MemberID: b.ID, Channel: identity.ContactPhone, Address: "+10000000000", CodeMAC: []byte("m"), ExpiresAt: Base.Add(time.Hour)}
	if err := s.SaveContactCode(ctx, stale); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmContact(ctx, b.ID, identity.ContactPhone, at); err != nil {
		t.Fatal(err)
	}
	if ph, _, _ := s.ContactVerified(ctx, b.ID); !ph.IsZero() {
		t.Fatal("a code for another number confirmed the member's phone")
	}
	// A change code makes its address the member's.
	change := identity.ContactCode{MemberID: b.ID, Channel: identity.ContactPhone, Address: "+46701234567", CodeMAC: []byte("m"), Change: true, ExpiresAt: Base.Add(time.Hour)}
	if err := s.SaveContactCode(ctx, change); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ContactCode(ctx, b.ID, identity.ContactPhone); err != nil || !got.Change {
		t.Fatalf("change code: %+v %v", got, err)
	}
	if err := s.ConfirmContact(ctx, b.ID, identity.ContactPhone, at); err != nil {
		t.Fatal(err)
	}
	if m, err := s.MemberByID(ctx, b.ID); err != nil || m.Phone != "+46701234567" {
		t.Fatalf("phone after a change: %q %v", m.Phone, err)
	}
	if ph, _, _ := s.ContactVerified(ctx, b.ID); !ph.Equal(at) {
		t.Fatalf("changed phone not confirmed: %v", ph)
	}
	if m, _ := s.MemberByID(ctx, a.ID); m.Phone != a.Phone {
		t.Fatal("alice's phone changed with bob's")
	}
}
