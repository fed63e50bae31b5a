package storetest

import (
	"database/sql"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// The contract of identity.PasskeyStore: passkeys and begun WebAuthn ceremonies.

func testPasskeys(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	a := register(t, s, 100, "passkey.alice")
	b := register(t, s, 200, "passkey.bob")

	if list, err := s.ListPasskeys(ctx, a.ID); err != nil || len(list) != 0 {
		t.Fatalf("ListPasskeys before any = %v, %v", list, err)
	}
	if _, err := s.PasskeyByCredentialID(ctx, []byte("cred-1")); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("PasskeyByCredentialID before any: %v, want NotFound", err)
	}
	p := identity.Passkey{MemberID: a.ID, CredentialID: []byte("cred-1"), UserHandle: hash32("alice"), Name: "Phone",
		Credential: []byte(`{"id":"Y3JlZC0x"}`), SignCount: 5, CreatedAt: Base}
	if err := s.CreatePasskey(ctx, &p); err != nil || p.ID == 0 {
		t.Fatalf("CreatePasskey: id %d, %v", p.ID, err)
	}
	// One authenticator credential belongs to one member: the same id again, even for
	// another member, is a conflict and writes nothing.
	dup := identity.Passkey{MemberID: b.ID, CredentialID: []byte("cred-1"), UserHandle: hash32("bob"), Name: "Stolen",
		Credential: []byte(`{}`), CreatedAt: Base}
	if err := s.CreatePasskey(ctx, &dup); !cp.IsKind(err, cp.Conflict) {
		t.Fatalf("CreatePasskey with a taken credential id: %v, want Conflict", err)
	}
	if list, _ := s.ListPasskeys(ctx, b.ID); len(list) != 0 {
		t.Fatalf("Bob has %d passkeys after a conflict, want 0", len(list))
	}
	p2 := identity.Passkey{MemberID: a.ID, CredentialID: []byte("cred-2"), UserHandle: hash32("alice"), Name: "Laptop",
		Credential: []byte(`{}`), CreatedAt: Base.Add(time.Minute)}
	if err := s.CreatePasskey(ctx, &p2); err != nil {
		t.Fatal(err)
	}
	got, err := s.PasskeyByCredentialID(ctx, []byte("cred-1"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("PasskeyByCredentialID (-want +got):\n%s", diff)
	}
	list, err := s.ListPasskeys(ctx, a.ID)
	if err != nil || len(list) != 2 || list[0].ID != p.ID || list[1].ID != p2.ID {
		t.Fatalf("ListPasskeys = %+v, %v; want cred-1 then cred-2", list, err)
	}

	// A use is compare-and-set on the sign count.
	used := Base.Add(time.Hour)
	if err := s.UsePasskey(ctx, p.ID, 4, 6, []byte(`{"n":6}`), used); !cp.IsKind(err, cp.Conflict) {
		t.Fatalf("UsePasskey from a stale count: %v, want Conflict", err)
	}
	if err := s.UsePasskey(ctx, p.ID, 5, 6, []byte(`{"n":6}`), used); err != nil {
		t.Fatalf("UsePasskey: %v", err)
	}
	if err := s.UsePasskey(ctx, p.ID, 5, 7, []byte(`{"n":7}`), used); !cp.IsKind(err, cp.Conflict) {
		t.Fatalf("UsePasskey twice from the same count: %v, want Conflict", err)
	}
	got, _ = s.PasskeyByCredentialID(ctx, []byte("cred-1"))
	if got.SignCount != 6 || string(got.Credential) != `{"n":6}` || !got.LastUsedAt.Equal(used) {
		t.Errorf("after use: count %d, record %s, last used %v", got.SignCount, got.Credential, got.LastUsedAt)
	}
	if err := s.UsePasskey(ctx, 1<<40, 0, 1, []byte(`{}`), used); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("UsePasskey of no passkey: %v, want NotFound", err)
	}

	// Deleting: not someone else's, then once.
	if err := s.DeletePasskey(ctx, b.ID, p.ID); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("Bob deleting Alice's passkey: %v, want NotFound", err)
	}
	if err := s.DeletePasskey(ctx, a.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePasskey(ctx, a.ID, p.ID); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("deleting twice: %v, want NotFound", err)
	}
	if _, err := s.PasskeyByCredentialID(ctx, []byte("cred-1")); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("deleted passkey still found: %v", err)
	}
	// A deleted credential id may be enrolled again.
	again := identity.Passkey{MemberID: b.ID, CredentialID: []byte("cred-1"), UserHandle: hash32("bob"), Name: "Phone",
		Credential: []byte(`{}`), CreatedAt: used}
	if err := s.CreatePasskey(ctx, &again); err != nil {
		t.Fatalf("CreatePasskey after delete: %v", err)
	}
}

func testWebAuthnChallenges(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	a := register(t, s, 100, "challenge.alice")
	h := hash32("ceremony-1")

	if _, err := s.TakeWebAuthnChallenge(ctx, h, "enrol"); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("Take before any: %v, want NotFound", err)
	}
	c := identity.WebAuthnChallenge{TokenHash: h, Purpose: "enrol", MemberID: a.ID, Session: []byte(`{"challenge":"x"}`),
		CreatedAt: Base, ExpiresAt: Base.Add(5 * time.Minute)}
	if err := s.SaveWebAuthnChallenge(ctx, c); err != nil {
		t.Fatal(err)
	}
	// Saving under the same hash replaces (a step-up page asked again).
	c.Session, c.ExpiresAt = []byte(`{"challenge":"y"}`), Base.Add(10*time.Minute)
	if err := s.SaveWebAuthnChallenge(ctx, c); err != nil {
		t.Fatal(err)
	}
	// Another purpose does not see it, and does not consume it.
	if _, err := s.TakeWebAuthnChallenge(ctx, h, "signin"); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("Take with another purpose: %v, want NotFound", err)
	}
	got, err := s.TakeWebAuthnChallenge(ctx, h, "enrol")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("Take (-want +got):\n%s", diff)
	}
	if _, err := s.TakeWebAuthnChallenge(ctx, h, "enrol"); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("Take twice: %v, want NotFound", err)
	}

	// A passwordless ceremony has no member; of many concurrent takers exactly one
	// gets it.
	h2 := hash32("ceremony-2")
	if err := s.SaveWebAuthnChallenge(ctx, identity.WebAuthnChallenge{TokenHash: h2, Purpose: "signin",
		Session: []byte(`{}`), CreatedAt: Base, ExpiresAt: Base.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			c, err := s.TakeWebAuthnChallenge(ctx, h2, "signin")
			switch {
			case err == nil && c.MemberID == 0:
				wins.Add(1)
			case err != nil && !cp.IsKind(err, cp.NotFound):
				t.Errorf("concurrent Take: %v", err)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("%d concurrent takers got the challenge, want 1", n)
	}

	// Purge removes expired ceremonies.
	h3 := hash32("ceremony-3")
	if err := s.SaveWebAuthnChallenge(ctx, identity.WebAuthnChallenge{TokenHash: h3, Purpose: "signin",
		Session: []byte(`{}`), CreatedAt: Base, ExpiresAt: Base.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Purge(ctx, Base.Add(2*time.Minute), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeWebAuthnChallenge(ctx, h3, "signin"); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("expired challenge survived Purge: %v", err)
	}
}
