package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cardportal/cardportal/cardportaltest"
	"github.com/cardportal/cardportal/identity"
)

type ceremonyResponse struct {
	CeremonyToken string          `json:"ceremony_token"`
	Options       json.RawMessage `json:"options"`
}

func (e *env) ceremony(res response) ceremonyResponse {
	e.t.Helper()
	if res.status != http.StatusOK {
		e.t.Fatalf("ceremony: %d %s", res.status, res.body)
	}
	var c ceremonyResponse
	res.decode(e.t, &c)
	if c.CeremonyToken != "" {
		e.rememberToken(c.CeremonyToken)
	}
	return c
}

// TestPasskeys goes through enrolment, passwordless sign-in, step-up and removal as
// the app would, with bad payloads along the way.
func TestPasskeys(t *testing.T) {
	e := newEnv(t)
	const origin = "https://localhost"
	if err := e.ident.EnablePasskeys(identity.PasskeyConfig{RPID: "localhost", Origins: []string{origin}}); err != nil {
		t.Fatal(err)
	}
	const userID = "alice.passkey"
	tok := e.register(e.alice, userID, alicePassword).Token
	carol := e.register(e.carol, "carol.passkey", "Carol-Passw0rd!").Token

	res := e.do(req{method: "GET", path: "/api/v1/passkeys", token: tok})
	if res.status != http.StatusOK || !strings.Contains(string(res.body), `"passkeys":[]`) {
		t.Fatalf("list before any: %d %s", res.status, res.body)
	}
	wantError(t, "wrong password", e.do(req{method: "POST", path: "/api/v1/passkeys", token: tok,
		body: map[string]string{"password": "Wrong-Password-1"}}), http.StatusUnprocessableEntity, "invalid", "")
	c := e.ceremony(e.do(req{method: "POST", path: "/api/v1/passkeys", token: tok, body: map[string]string{"password": alicePassword}}))

	a := cardportaltest.NewAuthenticator(origin)
	cred, err := a.Create(c.Options)
	if err != nil {
		t.Fatal(err)
	}
	// Malformed and oversized credentials change nothing and say nothing.
	for name, body := range map[string]any{
		"not a credential": map[string]any{"ceremony_token": c.CeremonyToken, "credential": map[string]any{"id": "x"}},
		"null":             map[string]any{"ceremony_token": c.CeremonyToken, "credential": nil},
		"string":           map[string]any{"ceremony_token": c.CeremonyToken, "credential": "abc"},
	} {
		res := e.do(req{method: "POST", path: "/api/v1/passkeys/finish", token: tok, body: body})
		wantError(t, name, res, http.StatusUnprocessableEntity, "invalid", "")
		if !strings.Contains(string(res.body), "passkey.invalid") {
			t.Errorf("%s: %s lacks passkey.invalid", name, res.body)
		}
	}
	huge := fmt.Sprintf(`{"ceremony_token":%q,"credential":{"id":%q}}`, c.CeremonyToken, strings.Repeat("A", 17<<10))
	wantError(t, "oversized", e.do(req{method: "POST", path: "/api/v1/passkeys/finish", token: tok, body: huge}),
		http.StatusRequestEntityTooLarge, "too_large", "")

	res = e.do(req{method: "POST", path: "/api/v1/passkeys/finish", token: tok,
		body: map[string]any{"ceremony_token": c.CeremonyToken, "name": "Alice's phone", "credential": json.RawMessage(cred)}})
	if res.status != http.StatusCreated {
		t.Fatalf("finish: %d %s", res.status, res.body)
	}
	var pk passkeyJSON
	res.decode(t, &pk)
	if pk.Name != "Alice's phone" {
		t.Fatalf("passkey %+v", pk)
	}
	wantError(t, "used ceremony", e.do(req{method: "POST", path: "/api/v1/passkeys/finish", token: tok,
		body: map[string]any{"ceremony_token": c.CeremonyToken, "credential": json.RawMessage(cred)}}), http.StatusGone, "expired", "passkey.expired")
	if res := e.do(req{method: "GET", path: "/api/v1/passkeys", token: tok}); !strings.Contains(string(res.body), "Alice's phone") {
		t.Fatalf("list: %s", res.body)
	}

	// Passwordless sign-in from a new installation: a session, no step-up.
	const phone = "alices-other-phone-01"
	c = e.ceremony(e.do(req{method: "POST", path: "/api/v1/sessions/passkey", body: map[string]string{"client": "app", "device_id": phone}}))
	assertion, _ := a.Get(c.Options)
	finish := map[string]any{"ceremony_token": c.CeremonyToken, "credential": json.RawMessage(assertion), "client": "app", "device_id": phone}
	res = e.do(req{method: "POST", path: "/api/v1/sessions/passkey/finish", body: finish})
	if res.status != http.StatusCreated {
		t.Fatalf("passkey sign-in: %d %s", res.status, res.body)
	}
	var s sessionCreated
	res.decode(t, &s)
	e.rememberToken(s.Token)
	if res := e.do(req{method: "GET", path: "/api/v1/me", token: s.Token}); res.status != http.StatusOK {
		t.Fatalf("me with the passkey session: %d", res.status)
	}
	wantError(t, "replayed assertion", e.do(req{method: "POST", path: "/api/v1/sessions/passkey/finish", body: finish}),
		http.StatusGone, "expired", "passkey.expired")
	c = e.ceremony(e.do(req{method: "POST", path: "/api/v1/sessions/passkey", body: map[string]string{"client": "app", "device_id": phone}}))
	wantError(t, "malformed assertion", e.do(req{method: "POST", path: "/api/v1/sessions/passkey/finish",
		body: map[string]any{"ceremony_token": c.CeremonyToken, "credential": map[string]any{"id": "AAAA", "response": map[string]any{}}, "client": "app"}}),
		http.StatusUnauthorized, "unauthenticated", "passkey.invalid")

	// A passkey as the second factor of a stepped-up sign-in.
	const laptop = "alices-laptop-app-0001"
	st := e.stepUp(userID, alicePassword, laptop)
	if !slices.Contains(st.Factors, "passkey") {
		t.Fatalf("factors %v lack passkey", st.Factors)
	}
	c = e.ceremony(e.do(req{method: "POST", path: "/api/v1/sessions/verify/passkey", body: map[string]string{"flow_token": st.FlowToken, "device_id": laptop}}))
	assertion, _ = a.Get(c.Options)
	res = e.do(req{method: "POST", path: "/api/v1/sessions/verify", body: map[string]any{
		"flow_token": st.FlowToken, "factor": "passkey", "code": string(assertion), "client": "app", "device_id": laptop}})
	if res.status != http.StatusCreated {
		t.Fatalf("step-up with a passkey: %d %s", res.status, res.body)
	}
	res.decode(t, &s)
	e.rememberToken(s.Token)

	// Removal: the password again, and only one's own.
	path := fmt.Sprintf("/api/v1/passkeys/%d/remove", pk.ID)
	wantError(t, "remove with a wrong password", e.do(req{method: "POST", path: path, token: tok, body: map[string]string{"password": "Wrong-Password-1"}}),
		http.StatusUnprocessableEntity, "invalid", "")
	wantError(t, "remove another's", e.do(req{method: "POST", path: path, token: carol, body: map[string]string{"password": "Carol-Passw0rd!"}}),
		http.StatusNotFound, "not_found", "")
	if res := e.do(req{method: "POST", path: path, token: tok, body: map[string]string{"password": alicePassword}}); res.status != http.StatusNoContent {
		t.Fatalf("remove: %d %s", res.status, res.body)
	}
}
