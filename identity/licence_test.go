package identity_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/identity"
)

func TestLicenceRequiredForAppSessions(t *testing.T) {
	ctx := context.Background()
	cfg := identity.Config{LicenceVersion: "2026-11"}
	e := newEnv(t, cfg)
	e.register(t, e.cards[0], "licence.member") // from a browser: not asked
	app := src
	app.Client = identity.App
	app.DeviceID = "app-installation-0001"

	if _, _, err := signIn(e.svc, ctx, "licence.member", goodPassword, src); err != nil {
		t.Fatalf("a browser was asked: %v", err)
	}
	_, err := e.svc.Login(ctx, "licence.member", goodPassword, app)
	wantMsg(t, "app before accepting", err, cp.Forbidden, "licence.required")

	// A refused sign-in costs no password try: the account is not locked by it.
	for range 5 {
		e.svc.Login(ctx, "licence.member", "wrong", app)
	}
	if _, _, err := signIn(e.svc, ctx, "licence.member", goodPassword, src); err != nil {
		t.Fatalf("licence refusals counted as failures: %v", err)
	}

	noDevice := app
	noDevice.DeviceID = ""
	tests := []struct {
		name    string
		version string
		src     identity.Source
		field   string
	}{
		{"an older version", "2025-01", app, "version"},
		{"an empty version", "", app, "version"},
		{"no installation id", "2026-11", noDevice, "device_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.svc.AcceptLicence(ctx, tt.version, tt.src)
			if cp.ErrorKind(err) != cp.Invalid || len(fieldMsgs(err, tt.field)) == 0 {
				t.Fatalf("got %v, want Invalid on %s", err, tt.field)
			}
		})
	}
	if _, err := e.svc.Login(ctx, "licence.member", goodPassword, app); !cp.IsKind(err, cp.Forbidden) {
		t.Fatalf("a refused acceptance let the app in: %v", err)
	}
	if err := e.svc.AcceptLicence(ctx, "2026-11", app); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Login(ctx, "licence.member", goodPassword, app); cp.IsKind(err, cp.Forbidden) {
		t.Fatalf("refused after accepting: %v", err)
	}

	// A new version asks again, on the same store.
	newer := identity.NewService(e.store, e.hsm, e.hasher, nil, identity.Config{LicenceVersion: "2027-03"}, e.clock.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	_, err = newer.Login(ctx, "licence.member", goodPassword, app)
	wantMsg(t, "after a new version", err, cp.Forbidden, "licence.required")
	if newer.LicenceVersion() != "2027-03" {
		t.Fatalf("LicenceVersion = %q", newer.LicenceVersion())
	}
}

func TestLicenceRequiredForAppRegistration(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, identity.Config{LicenceVersion: "2026-11"})
	app := src
	app.Client = identity.App
	app.DeviceID = "app-installation-0002"
	flow, err := e.svc.VerifyCard(ctx, details(e.cards[0]), app)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = e.svc.Register(ctx, flow, creds("licence.app"), app)
	wantMsg(t, "register from the app", err, cp.Forbidden, "licence.required")
	if err := e.svc.AcceptLicence(ctx, "2026-11", app); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := e.svc.Register(ctx, flow, creds("licence.app"), app); err != nil {
		t.Fatalf("Register after accepting: %v", err)
	}
}
