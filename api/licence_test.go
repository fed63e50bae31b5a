package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cardportal/cardportal/identity"
)

func TestLicenceBeforeFirstAppSession(t *testing.T) {
	e := newEnv(t, withIdentity(func(c *identity.Config) { c.LicenceVersion = "2026-11" }))
	// Registration from the app needs the licence too; accept it for the test device.
	accept := func(version, device string) response {
		return e.do(req{method: "POST", path: "/api/v1/licence/accept", body: map[string]string{"version": version, "device_id": device}})
	}
	if res := accept("2026-11", testDevice); res.status != http.StatusNoContent {
		t.Fatalf("accept: %d %s", res.status, res.body)
	}
	e.register(e.alice, "alice.example", alicePassword)

	for _, lang := range []struct{ accept, want string }{{"en", "Licence agreement, version 2026-11"}, {"es", "Acuerdo de licencia, versión 2026-11"}, {"sv", "Licensavtal, version 2026-11"}} {
		res := e.do(req{method: "GET", path: "/api/v1/licence", header: http.Header{"Accept-Language": {lang.accept}}})
		var l struct{ Version, Text string }
		res.decode(t, &l)
		if res.status != http.StatusOK || l.Version != "2026-11" || !strings.HasPrefix(l.Text, lang.want) {
			t.Fatalf("%s licence: %d %+v", lang.accept, res.status, l)
		}
	}

	const newDevice = "api-test-device-0002"
	signIn := func(client, device string) response {
		return e.do(req{method: "POST", path: "/api/v1/sessions", body: map[string]string{"user_id": "alice.example", "password": alicePassword, "client": client, "device_id": device}})
	}
	tests := []struct {
		name           string
		version, devID string
		status         int
		field          string
	}{
		{"an older version", "2025-01", newDevice, http.StatusUnprocessableEntity, "version"},
		{"no installation id", "2026-11", "", http.StatusUnprocessableEntity, "device_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, tt.name, accept(tt.version, tt.devID), tt.status, "invalid", "")
			wantError(t, "sign-in after "+tt.name, signIn("app", newDevice), http.StatusForbidden, "forbidden", "licence.required")
		})
	}
	// A browser is not asked.
	if res := signIn("browser", newDevice); res.status == http.StatusForbidden {
		t.Fatalf("a browser was asked for the licence: %s", res.body)
	}
	if res := accept("2026-11", newDevice); res.status != http.StatusNoContent {
		t.Fatalf("accept: %d %s", res.status, res.body)
	}
	if res := signIn("app", newDevice); res.status == http.StatusForbidden {
		t.Fatalf("refused after accepting: %s", res.body)
	}
}

func TestNoLicenceConfigured(t *testing.T) {
	e := newEnv(t)
	wantError(t, "no agreement configured", e.do(req{method: "GET", path: "/api/v1/licence"}), http.StatusNotFound, "not_found", "")
}
