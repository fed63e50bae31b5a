package storetest

import (
	"database/sql"
	"slices"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// testPasswordChange checks identity.PasswordStore and the session flag of SPEC ID11.
func testPasswordChange(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	a := register(t, s, 100, "pw.alice")
	b := register(t, s, 200, "pw.bob")

	c, err := s.Credential(ctx, a.ID)
	if err != nil || c.MemberID != a.ID || !c.ChangedAt.Equal(Base) || c.PasswordHash == "" {
		t.Fatalf("Credential after registration: %+v %v", c, err)
	}
	if _, err := s.Credential(ctx, 999999); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("Credential of an unknown member: %v, want NotFound", err)
	}
	first := c.PasswordHash

	// A lock is cleared by a change: the member proved who they are.
	if _, err := s.BeginPasswordAttempt(ctx, a.ID, Base, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	for i, h := range []string{"h1", "h2", "h3"} {
		at := Base.Add(time.Duration(i+1) * time.Hour)
		if err := s.ChangePassword(ctx, a.ID, h, at); err != nil {
			t.Fatalf("ChangePassword %s: %v", h, err)
		}
	}
	if err := s.ChangePassword(ctx, 999999, "x", Base); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("ChangePassword of an unknown member: %v, want NotFound", err)
	}
	c, err = s.Credential(ctx, a.ID)
	if err != nil || c.PasswordHash != "h3" || !c.ChangedAt.Equal(Base.Add(3*time.Hour)) {
		t.Fatalf("Credential after changes: %+v %v", c, err)
	}
	att, err := s.BeginPasswordAttempt(ctx, a.ID, Base.Add(3*time.Hour), 3, time.Hour)
	if err != nil || !att.Allowed || att.Failures != 1 {
		t.Fatalf("attempt after a change: %+v %v (the lock and counter should be cleared)", att, err)
	}

	tests := []struct {
		name   string
		member identity.MemberID
		n      int
		want   []string
	}{
		{"newest first, limited", a.ID, 2, []string{"h3", "h2"}},
		{"all including registration", a.ID, 10, []string{"h3", "h2", "h1", first}},
		{"another member's history is theirs", b.ID, 10, []string{first}},
		{"unknown member has none", 999999, 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.PasswordHistory(ctx, tt.member, tt.n)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("PasswordHistory = %q %v, want %q", got, err, tt.want)
			}
		})
	}
	if c, err := s.Credential(ctx, b.ID); err != nil || c.PasswordHash != first {
		t.Fatalf("bob's password changed with alice's: %+v %v", c, err)
	}

	// The session flag survives the round trip.
	for _, must := range []bool{true, false} {
		sess := identity.Session{
			TokenHash: []byte("pw-session-" + map[bool]string{true: "held", false: "full"}[must]), MemberID: a.ID,
			Client: identity.Web, CreatedAt: Base, LastSeenAt: Base, ExpiresAt: Base.Add(time.Hour),
			IdleTimeout: 15 * time.Minute, MustChangePassword: must,
		}
		if err := s.StartSession(ctx, identity.SessionStart{Session: &sess}); err != nil {
			t.Fatal(err)
		}
		got, err := s.SessionByTokenHash(ctx, sess.TokenHash)
		if err != nil || got.MustChangePassword != must {
			t.Fatalf("MustChangePassword = %v (%v), want %v", got.MustChangePassword, err, must)
		}
	}
}

// testLicence checks identity.LicenceStore (SPEC ID12).
func testLicence(t *testing.T, s Store, db *sql.DB) {
	ctx := t.Context()
	phone := []byte("0123456789abcdef0123456789abcdef")
	tablet := []byte("fedcba9876543210fedcba9876543210")
	if ok, err := s.LicenceAccepted(ctx, phone, "2026-11"); err != nil || ok {
		t.Fatalf("accepted before accepting: %v %v", ok, err)
	}
	first := identity.LicenceAcceptance{DeviceHash: phone, Version: "2026-11", AcceptedAt: Base, IP: "192.0.2.7"}
	if err := s.AcceptLicence(ctx, first); err != nil {
		t.Fatal(err)
	}
	again := first
	again.AcceptedAt, again.IP = Base.Add(time.Hour), "192.0.2.8"
	if err := s.AcceptLicence(ctx, again); err != nil {
		t.Fatalf("accepting twice: %v", err)
	}
	tests := []struct {
		name    string
		device  []byte
		version string
		want    bool
	}{
		{"the accepted version", phone, "2026-11", true},
		{"a newer version asks again", phone, "2027-03", false},
		{"another installation", tablet, "2026-11", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ok, err := s.LicenceAccepted(ctx, tt.device, tt.version); err != nil || ok != tt.want {
				t.Fatalf("LicenceAccepted = %v %v, want %v", ok, err, tt.want)
			}
		})
	}
	if db == nil { // a backend tested without SQL access
		return
	}
	var at int64
	var ip string
	if err := db.QueryRowContext(ctx, `SELECT accepted_at, ip FROM licence_acceptances WHERE device_hash = $1 AND version = $2`,
		phone, "2026-11").Scan(&at, &ip); err != nil || at != Base.UnixMicro() || ip != "192.0.2.7" {
		t.Fatalf("the first acceptance is the record: %d %q %v", at, ip, err)
	}
}
