package main

import (
	"encoding/json"
	"net"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cardportal/cardportal/cardportaltest"
	"github.com/cardportal/cardportal/identity"
)

func TestPasskeyConfig(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	tests := []struct {
		name string
		cfg  config
		want identity.PasskeyConfig
	}{
		{"an IP address becomes localhost", config{},
			identity.PasskeyConfig{RPID: "localhost", Origins: []string{"http://localhost:8080"}}},
		{"TLS", config{TLSCert: "c", TLSKey: "k"},
			identity.PasskeyConfig{RPID: "localhost", Origins: []string{"https://localhost:8080"}}},
		{"the public URL", config{PublicURL: "https://cards.example.com/"},
			identity.PasskeyConfig{RPID: "cards.example.com", Origins: []string{"https://cards.example.com"}}},
		{"explicit", config{PublicURL: "https://cards.example.com", Passkey: passkeyFlags{RPID: "example.com", Origins: "https://cards.example.com, https://app.example.com/"}},
			identity.PasskeyConfig{RPID: "example.com", Origins: []string{"https://cards.example.com", "https://app.example.com"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.cfg.passkeyConfig(addr)); diff != "" {
				t.Errorf("passkeyConfig (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []passkeyFlags{{Origins: "cards.example.com"}, {Origins: "https://x.example/path"}, {RPID: "https://example.com"}} {
		if bad.validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}

// TestPasskeyTwoInstances runs each passkey ceremony across two programs on one
// PostgreSQL database: begun on one, finished on the other, because the challenge
// lives in the database. The relying party is configured, as behind a proxy.
func TestPasskeyTwoInstances(t *testing.T) {
	dsn := postgresDSN(t)
	dir := t.TempDir()
	const origin = "https://cards.example.com"
	args := append(fastArgs, "-data-dir", dir, "-database-url", dsn, "-passkey-rp-id", "cards.example.com", "-passkey-origins", origin)
	a := start(t, nil, args...)
	b := start(t, nil, args...)
	tok := register(t, a, a.cards[0], "passkey.shared")

	options := func(out map[string]any) []byte {
		t.Helper()
		o, err := json.Marshal(out["options"])
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	st, out := apiCall(t, "POST", a.url+"/api/v1/passkeys", tok, map[string]any{"password": testPassword})
	if st != http.StatusOK {
		t.Fatalf("begin enrolment on A: %d %v", st, out)
	}
	auth := cardportaltest.NewAuthenticator(origin)
	cred, err := auth.Create(options(out))
	if err != nil {
		t.Fatal(err)
	}
	st, got := apiCall(t, "POST", b.url+"/api/v1/passkeys/finish", tok, map[string]any{
		"ceremony_token": out["ceremony_token"], "name": "Phone", "credential": json.RawMessage(cred)})
	if st != http.StatusCreated {
		t.Fatalf("finish enrolment on B: %d %v", st, got)
	}

	st, out = apiCall(t, "POST", b.url+"/api/v1/sessions/passkey", "", map[string]any{"client": "app", "device_id": testDevice})
	if st != http.StatusOK {
		t.Fatalf("begin sign-in on B: %d %v", st, out)
	}
	assertion, err := auth.Get(options(out))
	if err != nil {
		t.Fatal(err)
	}
	st, got = apiCall(t, "POST", a.url+"/api/v1/sessions/passkey/finish", "", map[string]any{
		"ceremony_token": out["ceremony_token"], "credential": json.RawMessage(assertion), "client": "app", "device_id": testDevice})
	if st != http.StatusCreated {
		t.Fatalf("finish sign-in on A: %d %v", st, got)
	}
	if st, _ := apiCall(t, "GET", b.url+"/api/v1/me", got["token"].(string), nil); st != http.StatusOK {
		t.Fatalf("the passkey session on B: %d", st)
	}
}
