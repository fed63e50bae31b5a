package storetest

import (
	"database/sql"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// testStartSession checks that a sign-in's writes land together: the session, its
// events, its device and the cleared lockout counter, or, when one of them fails,
// none of them.
func testStartSession(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	m := register(t, s, 100, "start.session")
	fail := func(n int) {
		t.Helper()
		for range n {
			if _, err := s.BeginPasswordAttempt(ctx, m.ID, Base, maxFailures, lockFor); err != nil {
				t.Fatal(err)
			}
		}
	}
	// failures is the count the next attempt reports, less that attempt.
	failures := func() int {
		t.Helper()
		att, err := s.BeginPasswordAttempt(ctx, m.ID, Base, 100, lockFor)
		if err != nil || !att.Allowed {
			t.Fatalf("BeginPasswordAttempt: %+v, %v", att, err)
		}
		return att.Failures - 1
	}
	session := func(token string) *identity.Session {
		return &identity.Session{
			TokenHash: []byte(token), MemberID: m.ID, Client: identity.App, CreatedAt: Base, LastSeenAt: Base,
			ExpiresAt: Base.Add(time.Hour), IdleTimeout: 5 * time.Minute, IP: "192.0.2.9", UserAgent: "app/1",
		}
	}
	event := func(kind identity.EventKind, detail string) *identity.Event {
		return &identity.Event{MemberID: m.ID, Kind: kind, At: Base, IP: "192.0.2.9", UserAgent: "app/1", Detail: detail}
	}
	device := func(name string) *identity.Device {
		return &identity.Device{MemberID: m.ID, IDHash: hash32(name), Label: "app/1", FirstSeen: Base, LastSeen: Base,
			TrustedUntil: Base.Add(24 * time.Hour)}
	}
	history := func() []identity.Event {
		t.Helper()
		ev, err := s.ListEvents(ctx, m.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}

	fail(2)
	sess := session("start-1")
	expired, ok := event(identity.EventPasswordExpired, ""), event(identity.EventSignInOK, "passkey")
	dev := device("start-device-1")
	if err := s.StartSession(ctx, identity.SessionStart{Session: sess, Events: []*identity.Event{expired, ok}, Device: dev, ResetAttempts: true}); err != nil {
		t.Fatalf("StartSession: %v", err)
	}
	if sess.ID == 0 || expired.ID == 0 || ok.ID <= expired.ID || dev.ID == 0 {
		t.Errorf("IDs not set in order: session %d, events %d and %d, device %d", sess.ID, expired.ID, ok.ID, dev.ID)
	}
	got, err := s.SessionByTokenHash(ctx, sess.TokenHash)
	if err != nil || got.ID != sess.ID || got.MemberID != m.ID {
		t.Errorf("SessionByTokenHash = %+v, %v; want session %d", got, err, sess.ID)
	}
	if diff := cmp.Diff([]identity.Event{*ok, *expired}, history()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if d, err := s.DeviceByHash(ctx, m.ID, dev.IDHash); err != nil || d.ID != dev.ID || !d.TrustedUntil.Equal(dev.TrustedUntil) {
		t.Errorf("DeviceByHash = %+v, %v; want device %d trusted until %v", d, err, dev.ID, dev.TrustedUntil)
	}
	if n := failures(); n != 0 {
		t.Errorf("%d failures after a reset, want 0", n)
	}

	// Nothing of a start whose session cannot be stored (its token is taken).
	fail(1)
	before := history()
	err = s.StartSession(ctx, identity.SessionStart{Session: session("start-1"), Events: []*identity.Event{event(identity.EventSignInOK, "again")},
		Device: device("start-device-2"), ResetAttempts: true})
	wantErr(t, "StartSession with a token in use", err, cp.Conflict, "")
	if diff := cmp.Diff(before, history()); diff != "" {
		t.Errorf("events after a failed start (-before +after):\n%s", diff)
	}
	if _, err := s.DeviceByHash(ctx, m.ID, hash32("start-device-2")); !cp.IsKind(err, cp.NotFound) {
		t.Errorf("device of a failed start: %v, want NotFound", err)
	}
	if n := failures(); n != 2 { // the one above and the one failures made
		t.Errorf("%d failures after a failed start, want 2 (not reset)", n)
	}

	// An unknown member's reset fails the whole start.
	stranger := session("start-stranger")
	stranger.MemberID = m.ID + 1000
	err = s.StartSession(ctx, identity.SessionStart{Session: stranger, ResetAttempts: true})
	wantErr(t, "StartSession resetting an unknown member", err, cp.NotFound, "")
	if _, err := s.SessionByTokenHash(ctx, stranger.TokenHash); !cp.IsKind(err, cp.NotFound) {
		t.Errorf("session of a failed start: %v, want NotFound", err)
	}

	wantErr(t, "StartSession without a session", s.StartSession(ctx, identity.SessionStart{}), cp.Invalid, "")
}
