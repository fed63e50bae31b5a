package storetest

import (
	"crypto/sha256"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

// The contract of identity.MFAStore: devices, step-up flows, TOTP enrolments, recovery
// codes and the member's second-factor setting.

func hash32(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// saveDevice saves d as a sign-in from it does: with a session of its own.
func saveDevice(t *testing.T, s Store, d *identity.Device) error {
	t.Helper()
	sess := identity.Session{
		TokenHash: hash32(fmt.Sprint("device-session-", deviceSessions.Add(1))), MemberID: d.MemberID,
		Client: identity.App, CreatedAt: d.LastSeen, LastSeenAt: d.LastSeen, ExpiresAt: d.LastSeen.Add(time.Hour), IdleTimeout: 5 * time.Minute,
	}
	return s.StartSession(t.Context(), identity.SessionStart{Session: &sess, Device: d})
}

// deviceSessions numbers saveDevice's sessions, so their tokens differ.
var deviceSessions atomic.Int64

func testDevices(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	a := register(t, s, 100, "device.alice")
	b := register(t, s, 200, "device.bob")
	h := hash32("device-1")

	if _, err := s.DeviceByHash(ctx, a.ID, h); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("DeviceByHash before any: %v, want NotFound", err)
	}
	d := identity.Device{MemberID: a.ID, IDHash: h, Label: "Firefox", FirstSeen: Base, LastSeen: Base, TrustedUntil: Base.Add(time.Hour)}
	if err := saveDevice(t, s, &d); err != nil || d.ID == 0 {
		t.Fatalf("saving a device: id %d, %v", d.ID, err)
	}
	// The same hash on another member's account is another device.
	if _, err := s.DeviceByHash(ctx, b.ID, h); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("Alice's device found on Bob's account: %v", err)
	}
	db := identity.Device{MemberID: b.ID, IDHash: h, Label: "Bob's", FirstSeen: Base, LastSeen: Base}
	if err := saveDevice(t, s, &db); err != nil || db.ID == d.ID {
		t.Fatalf("saving Bob's device: id %d (Alice's %d), %v", db.ID, d.ID, err)
	}
	// Saving again updates in place and keeps the first-seen time.
	later := Base.Add(time.Minute)
	again := identity.Device{MemberID: a.ID, IDHash: h, Label: "Firefox 2", FirstSeen: later, LastSeen: later}
	if err := saveDevice(t, s, &again); err != nil || again.ID != d.ID {
		t.Fatalf("saving it again: id %d want %d, %v", again.ID, d.ID, err)
	}
	got, err := s.DeviceByHash(ctx, a.ID, h)
	if err != nil {
		t.Fatal(err)
	}
	want := identity.Device{ID: d.ID, MemberID: a.ID, IDHash: h, Label: "Firefox 2", FirstSeen: Base, LastSeen: later}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("device after update (-want +got):\n%s", diff)
	}
	second := identity.Device{MemberID: a.ID, IDHash: hash32("device-2"), Label: "App", FirstSeen: Base, LastSeen: Base.Add(2 * time.Minute)}
	if err := saveDevice(t, s, &second); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListDevices(ctx, a.ID)
	if err != nil || len(list) != 2 || list[0].ID != second.ID {
		t.Fatalf("ListDevices = %+v, %v; want 2, most recent first", list, err)
	}
	// Revoking: not someone else's, then once.
	if err := s.RevokeDevice(ctx, b.ID, d.ID, later); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("Bob revoking Alice's device: %v, want NotFound", err)
	}
	if err := s.RevokeDevice(ctx, a.ID, d.ID, later); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeDevice(ctx, a.ID, d.ID, later); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("revoking twice: %v, want NotFound", err)
	}
	got, _ = s.DeviceByHash(ctx, a.ID, h)
	if !got.RevokedAt.Equal(later) || !got.TrustedUntil.IsZero() {
		t.Errorf("revoked device: %+v", got)
	}
	if list, _ := s.ListDevices(ctx, a.ID); len(list) != 1 {
		t.Errorf("ListDevices after revoke: %d, want 1", len(list))
	}
	// Signing in from it again un-revokes it.
	if err := saveDevice(t, s, &again); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.DeviceByHash(ctx, a.ID, h); !got.RevokedAt.IsZero() {
		t.Errorf("saved device still revoked: %+v", got)
	}
}

func testStepUps(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	m := register(t, s, 100, "stepup.member")
	f := identity.StepUp{
		TokenHash: hash32("flow"), MemberID: m.ID, DeviceHash: hash32("dev"),
		Reasons:    []identity.Reason{identity.ReasonNewDevice, identity.ReasonUnusualNetwork},
		QuestionID: "first_pet", CreatedAt: Base, ExpiresAt: Base.Add(10 * time.Minute),
		Purpose: "card-pin:1000",
	}
	if err := s.CreateStepUp(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateStepUp(ctx, f); !cp.IsKind(err, cp.Conflict) {
		t.Fatalf("duplicate CreateStepUp: %v, want Conflict", err)
	}
	got, err := s.StepUpByTokenHash(ctx, f.TokenHash)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f, got); diff != "" {
		t.Errorf("flow (-want +got):\n%s", diff)
	}
	// A flow without a device keeps nil.
	nd := identity.StepUp{TokenHash: hash32("nodevice"), MemberID: m.ID, CreatedAt: Base, ExpiresAt: Base.Add(time.Minute)}
	if err := s.CreateStepUp(ctx, nd); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.StepUpByTokenHash(ctx, nd.TokenHash); got.DeviceHash != nil || got.Reasons != nil {
		t.Errorf("flow without device: %+v", got)
	}
	// A flow stored without a purpose is a sign-in's.
	if got, _ := s.StepUpByTokenHash(ctx, nd.TokenHash); got.Purpose != identity.PurposeSignIn {
		t.Errorf("flow without purpose has purpose %q, want %q", got.Purpose, identity.PurposeSignIn)
	}
	// Purge removes a step-up flow once it has expired, and not before.
	if _, err := s.Purge(ctx, Base.Add(30*time.Second), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StepUpByTokenHash(ctx, nd.TokenHash); err != nil {
		t.Fatalf("a live flow was purged: %v", err)
	}
	if _, err := s.Purge(ctx, Base.Add(time.Minute), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StepUpByTokenHash(ctx, nd.TokenHash); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("an expired flow survived Purge: %v", err)
	}

	// Tries are counted only with a code, up to max, and reset by a new code.
	mac := hash32("code")
	if err := s.SetStepUpCode(ctx, f.TokenHash, mac, identity.FactorEmail, Base.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 20 {
		wg.Go(func() {
			ok, err := s.ReserveCodeTry(ctx, f.TokenHash, 5)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 5 {
		t.Fatalf("ReserveCodeTry allowed %d of 20 concurrent tries, want 5", allowed)
	}
	got, _ = s.StepUpByTokenHash(ctx, f.TokenHash)
	if got.CodeTries != 5 || got.CodeChannel != identity.FactorEmail || !got.CodeExpiresAt.Equal(Base.Add(5*time.Minute)) || string(got.CodeMAC) != string(mac) {
		t.Errorf("flow with code: %+v", got)
	}
	if err := s.SetStepUpCode(ctx, f.TokenHash, hash32("code2"), identity.FactorSMS, Base.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.ReserveCodeTry(ctx, f.TokenHash, 5); !ok || err != nil {
		t.Fatalf("ReserveCodeTry after a new code: %v, %v", ok, err)
	}
	// Consuming: once.
	var wins int
	for range 5 {
		wg.Go(func() {
			if err := s.ConsumeStepUp(ctx, f.TokenHash); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !cp.IsKind(err, cp.NotFound) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent ConsumeStepUp succeeded, want 1", wins)
	}
	for name, err := range map[string]error{
		"StepUpByTokenHash": func() error { _, err := s.StepUpByTokenHash(ctx, f.TokenHash); return err }(),
		"SetStepUpCode":     s.SetStepUpCode(ctx, f.TokenHash, mac, identity.FactorEmail, Base),
		"ReserveCodeTry":    func() error { _, err := s.ReserveCodeTry(ctx, f.TokenHash, 5); return err }(),
	} {
		if !cp.IsKind(err, cp.NotFound) {
			t.Errorf("%s on a consumed flow: %v, want NotFound", name, err)
		}
	}
}

func testTOTPStore(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	m := register(t, s, 100, "totp.member")
	if _, err := s.TOTP(ctx, m.ID); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("TOTP before enrolment: %v", err)
	}
	if err := s.AdvanceTOTP(ctx, m.ID, 10, Base); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("AdvanceTOTP before enrolment: %v", err)
	}
	f := identity.TOTPFactor{MemberID: m.ID, SecretKeyID: "k1", Secret: []byte("sealed"), CreatedAt: Base}
	if err := s.SaveTOTP(ctx, f); err != nil {
		t.Fatal(err)
	}
	got, err := s.TOTP(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f, got); diff != "" {
		t.Errorf("TOTP (-want +got):\n%s", diff)
	}
	// The first accepted step confirms; a step at or before the last is a replay.
	if err := s.AdvanceTOTP(ctx, m.ID, 100, Base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, step := range []int64{100, 99} {
		if err := s.AdvanceTOTP(ctx, m.ID, step, Base.Add(2*time.Minute)); !cp.IsKind(err, cp.Conflict) {
			t.Errorf("AdvanceTOTP(%d) after 100: %v, want Conflict", step, err)
		}
	}
	// Of many concurrent uses of one step, exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 10 {
		wg.Go(func() {
			if err := s.AdvanceTOTP(ctx, m.ID, 101, Base.Add(3*time.Minute)); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent AdvanceTOTP(101) succeeded, want 1", wins)
	}
	got, _ = s.TOTP(ctx, m.ID)
	if got.LastStep != 101 || !got.ConfirmedAt.Equal(Base.Add(time.Minute)) {
		t.Errorf("after advances: %+v", got)
	}
	// Saving replaces (a new enrolment starts unconfirmed).
	f2 := identity.TOTPFactor{MemberID: m.ID, SecretKeyID: "k2", Secret: []byte("sealed2"), CreatedAt: Base.Add(time.Hour)}
	if err := s.SaveTOTP(ctx, f2); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.TOTP(ctx, m.ID); !cmp.Equal(f2, got) {
		t.Errorf("after replace: %+v", got)
	}
	if err := s.DeleteTOTP(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTOTP(ctx, m.ID); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if _, err := s.TOTP(ctx, m.ID); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("TOTP after delete: %v", err)
	}
}

func testRecoveryCodes(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	a := register(t, s, 100, "recovery.a")
	b := register(t, s, 200, "recovery.b")
	var macs [][]byte
	for i := range 10 {
		macs = append(macs, hash32(fmt.Sprint("code", i)))
	}
	if err := s.ReplaceRecoveryCodes(ctx, a.ID, macs, Base); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RecoveryCodesLeft(ctx, a.ID); n != 10 || err != nil {
		t.Fatalf("RecoveryCodesLeft = %d, %v", n, err)
	}
	if err := s.UseRecoveryCode(ctx, b.ID, macs[0], Base); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("another member using a code: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 10 {
		wg.Go(func() {
			if err := s.UseRecoveryCode(ctx, a.ID, macs[0], Base); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent uses of one code succeeded, want 1", wins)
	}
	if n, _ := s.RecoveryCodesLeft(ctx, a.ID); n != 9 {
		t.Fatalf("left after one use = %d", n)
	}
	if err := s.ReplaceRecoveryCodes(ctx, a.ID, macs[5:], Base); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.RecoveryCodesLeft(ctx, a.ID); n != 5 {
		t.Fatalf("left after replace = %d, want 5", n)
	}
	if err := s.UseRecoveryCode(ctx, a.ID, macs[1], Base); !cp.IsKind(err, cp.NotFound) {
		t.Fatalf("a replaced code still works: %v", err)
	}
}

func testMFASettings(t *testing.T, s Store, _ *sql.DB) {
	ctx := t.Context()
	mustLoad(t, s)
	m := register(t, s, 100, "settings.member")
	if req, err := s.MFARequired(ctx, m.ID); req || err != nil {
		t.Fatalf("MFARequired never set = %v, %v", req, err)
	}
	for _, want := range []bool{true, false, true} {
		if err := s.SetMFARequired(ctx, m.ID, want); err != nil {
			t.Fatal(err)
		}
		if got, err := s.MFARequired(ctx, m.ID); got != want || err != nil {
			t.Fatalf("MFARequired = %v, %v; want %v", got, err, want)
		}
	}
	// Security answers as registration stored them.
	answers := []identity.SecurityAnswer{{QuestionID: "birth_city", AnswerHash: "h2"}, {QuestionID: "first_pet", AnswerHash: "h1"}}
	w, err := s.CreateMember(ctx, identity.NewMember{
		UserID: "with.answers", CardholderID: 200, Name: "Dan", PasswordHash: "x", Answers: answers, CreatedAt: Base,
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.SecurityAnswers(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(answers, got); diff != "" {
		t.Errorf("SecurityAnswers (-want +got):\n%s", diff)
	}
	if got, _ := s.SecurityAnswers(ctx, m.ID); len(got) != 0 {
		t.Errorf("member without answers has %d", len(got))
	}
}
