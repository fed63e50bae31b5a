package api

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// lastCode reads the newest one-time code from the outbox, as the member would.
func (e *env) lastCode() string {
	e.t.Helper()
	msgs, err := e.store.ListOutbox(context.Background(), 10)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Kind == "mfa.code" {
			return sixDigits.FindString(m.Body)
		}
	}
	e.t.Fatal("no code in the outbox")
	return ""
}

// stepUp signs in from device and expects a step-up.
func (e *env) stepUp(userID, password, device string) stepUpJSON {
	e.t.Helper()
	res := e.do(req{method: "POST", path: "/api/v1/sessions", body: map[string]string{
		"user_id": userID, "password": password, "client": "app", "device_id": device}})
	if res.status != http.StatusOK {
		e.t.Fatalf("sign-in from %s: %d %s, want 200 step_up", device, res.status, res.body)
	}
	var out stepUpResponse
	res.decode(e.t, &out)
	e.rememberToken(out.StepUp.FlowToken)
	return out.StepUp
}

func wantError(t *testing.T, what string, res response, status int, code, msgID string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("%s: %d %s, want %d", what, res.status, res.body, status)
	}
	if gotCode, gotMsg := res.errorCode(t); gotCode != code || (msgID != "" && gotMsg != msgID) {
		t.Fatalf("%s: error %s/%s, want %s/%s", what, gotCode, gotMsg, code, msgID)
	}
}

func TestStepUpSignIn(t *testing.T) {
	e := newEnv(t)
	e.register(e.alice, "alice.example", alicePassword)
	const phone = "alices-new-phone-0001"
	su := e.stepUp("alice.example", alicePassword, phone)
	if !slices.Contains(su.Reasons, "new_device") || !slices.Contains(su.Factors, "email") || su.Question == nil {
		t.Fatalf("step-up %+v", su)
	}
	verify := func(factor, code string, trust bool, device string) response {
		return e.do(req{method: "POST", path: "/api/v1/sessions/verify", body: map[string]any{
			"flow_token": su.FlowToken, "factor": factor, "code": code, "trust_device": trust, "client": "app", "device_id": device}})
	}
	send := func(channel string) response {
		return e.do(req{method: "POST", path: "/api/v1/sessions/verify/send", body: map[string]any{
			"flow_token": su.FlowToken, "channel": channel, "device_id": phone}})
	}
	wantError(t, "bad channel", send("totp"), http.StatusUnprocessableEntity, "invalid", "")
	if res := send("email"); res.status != http.StatusNoContent {
		t.Fatalf("send: %d %s", res.status, res.body)
	}
	code := e.lastCode()
	wantError(t, "quick resend", send("email"), http.StatusTooManyRequests, "too_many_requests", "mfa.send.throttled")
	wantError(t, "no factor", e.do(req{method: "POST", path: "/api/v1/sessions/verify", body: map[string]any{
		"flow_token": su.FlowToken, "factor": "", "code": "", "client": "app"}}), http.StatusUnprocessableEntity, "invalid", "")
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	wantError(t, "wrong code", verify("email", wrong, false, phone), http.StatusUnauthorized, "unauthenticated", "mfa.invalid")
	wantError(t, "other device", verify("email", code, false, "someone-elses-device1"), http.StatusUnauthorized, "unauthenticated", "mfa.invalid")
	res := verify("email", code, true, phone)
	if res.status != http.StatusCreated {
		t.Fatalf("verify: %d %s", res.status, res.body)
	}
	var s sessionCreated
	res.decode(t, &s)
	e.rememberToken(s.Token)
	if me := e.do(req{method: "GET", path: "/api/v1/me", token: s.Token}); me.status != http.StatusOK {
		t.Fatalf("session from step-up: %d", me.status)
	}
	wantError(t, "flow reused", verify("email", code, false, phone), http.StatusGone, "expired", "mfa.expired")
	// Trusted now: no step-up from that device.
	res = e.do(req{method: "POST", path: "/api/v1/sessions", body: map[string]string{
		"user_id": "alice.example", "password": alicePassword, "client": "app", "device_id": phone}})
	if res.status != http.StatusCreated {
		t.Fatalf("trusted device: %d %s", res.status, res.body)
	}
	res.decode(t, &s)
	e.rememberToken(s.Token)

	// "Always ask": even the trusted device is stepped up, then not again once unset.
	setReq := func(on bool) {
		t.Helper()
		res := e.do(req{method: "POST", path: "/api/v1/factors/required", token: s.Token, body: map[string]any{"password": alicePassword, "required": on}})
		if res.status != http.StatusNoContent {
			t.Fatalf("required=%v: %d %s", on, res.status, res.body)
		}
	}
	setReq(true)
	if su := e.stepUp("alice.example", alicePassword, phone); !slices.Equal(su.Reasons, []string{"member_requires_mfa"}) {
		t.Fatalf("reasons %v, want member_requires_mfa only", su.Reasons)
	}
	wantError(t, "wrong password", e.do(req{method: "POST", path: "/api/v1/factors/required", token: s.Token,
		body: map[string]any{"password": "Not-The-Password-1", "required": false}}), http.StatusUnprocessableEntity, "invalid", "")
	setReq(false)
	e.signIn("alice.example", alicePassword, "app")

	// Devices: both listed and trusted; another member cannot forget them.
	var devs struct {
		Devices []deviceJSON `json:"devices"`
	}
	e.do(req{method: "GET", path: "/api/v1/devices", token: s.Token}).decode(t, &devs)
	if len(devs.Devices) != 2 || devs.Devices[0].TrustedUntil == nil {
		t.Fatalf("devices %+v", devs)
	}
	carol := e.register(e.carol, "carol.other", carolPassword)
	id := strconv.FormatInt(devs.Devices[0].ID, 10)
	wantError(t, "another member's device", e.do(req{method: "DELETE", path: "/api/v1/devices/" + id, token: carol.Token}), http.StatusNotFound, "not_found", "")
	wantError(t, "bad id", e.do(req{method: "DELETE", path: "/api/v1/devices/x", token: s.Token}), http.StatusNotFound, "not_found", "")
	if res := e.do(req{method: "DELETE", path: "/api/v1/devices/" + id, token: s.Token}); res.status != http.StatusNoContent {
		t.Fatalf("forget: %d %s", res.status, res.body)
	}
	e.stepUp("alice.example", alicePassword, phone) // forgotten: new again

	// An expired flow is gone.
	su = e.stepUp("alice.example", alicePassword, phone)
	e.clock.Add(11 * time.Minute)
	wantError(t, "expired flow", verify("email", code, false, phone), http.StatusGone, "expired", "mfa.expired")
}

func TestFactorsEnrolment(t *testing.T) {
	e := newEnv(t)
	s := e.register(e.alice, "alice.example", alicePassword)
	post := func(path string, body any) response {
		return e.do(req{method: "POST", path: path, body: body, token: s.Token})
	}
	var st factorsJSON
	e.do(req{method: "GET", path: "/api/v1/factors", token: s.Token}).decode(t, &st)
	if st.TOTP || st.RecoveryLeft != 0 || st.Email == "" {
		t.Fatalf("factors %+v", st)
	}
	wantError(t, "wrong password", post("/api/v1/factors/totp", map[string]string{"password": "Not-The-Password-1"}), http.StatusUnprocessableEntity, "invalid", "")
	wantError(t, "no password", post("/api/v1/factors/totp", map[string]string{"password": ""}), http.StatusUnprocessableEntity, "invalid", "")
	wantError(t, "confirm before start", post("/api/v1/factors/totp/confirm", map[string]string{"code": "123456"}), http.StatusGone, "expired", "")
	res := post("/api/v1/factors/totp", map[string]string{"password": alicePassword})
	if res.status != http.StatusCreated {
		t.Fatalf("start: %d %s", res.status, res.body)
	}
	var en struct {
		Secret string `json:"secret"`
		URL    string `json:"otpauth_url"`
	}
	res.decode(t, &en)
	code, _ := totp.GenerateCode(en.Secret, e.clock.Now())
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	wantError(t, "wrong first code", post("/api/v1/factors/totp/confirm", map[string]string{"code": wrong}), http.StatusUnprocessableEntity, "invalid", "")
	if res := post("/api/v1/factors/totp/confirm", map[string]string{"code": code}); res.status != http.StatusNoContent {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	wantError(t, "second enrolment", post("/api/v1/factors/totp", map[string]string{"password": alicePassword}), http.StatusConflict, "conflict", "mfa.totp.exists")

	// Sign in with TOTP from a new device; the same code again is refused.
	e.clock.Add(30 * time.Second)
	code, _ = totp.GenerateCode(en.Secret, e.clock.Now())
	for i, want := range []int{http.StatusCreated, http.StatusUnauthorized} {
		dev := "totp-device-00000000" + strconv.Itoa(i)
		su := e.stepUp("alice.example", alicePassword, dev)
		if su.Factors[0] != "totp" {
			t.Fatalf("factors %v: totp should come first", su.Factors)
		}
		res := e.do(req{method: "POST", path: "/api/v1/sessions/verify", body: map[string]any{
			"flow_token": su.FlowToken, "factor": "totp", "code": code, "client": "browser", "device_id": dev}})
		if res.status != want {
			t.Fatalf("TOTP sign-in %d: %d %s, want %d", i, res.status, res.body, want)
		}
		if want == http.StatusCreated {
			var sc sessionCreated
			res.decode(t, &sc)
			e.rememberToken(sc.Token)
		}
	}

	res = post("/api/v1/factors/recovery-codes", map[string]string{"password": alicePassword})
	if res.status != http.StatusCreated {
		t.Fatalf("recovery codes: %d %s", res.status, res.body)
	}
	var rc struct {
		Codes []string `json:"codes"`
	}
	res.decode(t, &rc)
	if len(rc.Codes) != 10 {
		t.Fatalf("%d codes", len(rc.Codes))
	}
	e.do(req{method: "GET", path: "/api/v1/factors", token: s.Token}).decode(t, &st)
	if !st.TOTP || st.RecoveryLeft != 10 {
		t.Fatalf("factors after enrolment %+v", st)
	}
	if res := post("/api/v1/factors/totp/remove", map[string]string{"password": alicePassword}); res.status != http.StatusNoContent {
		t.Fatalf("remove: %d %s", res.status, res.body)
	}
	wantError(t, "remove twice", post("/api/v1/factors/totp/remove", map[string]string{"password": alicePassword}), http.StatusNotFound, "not_found", "")
	// The password re-entry is throttled separately from sign-in: 10 per 15 minutes.
	for range 4 {
		post("/api/v1/factors/recovery-codes", map[string]string{"password": "Not-The-Password-1"})
	}
	wantError(t, "reauth throttled", post("/api/v1/factors/recovery-codes", map[string]string{"password": alicePassword}), http.StatusTooManyRequests, "too_many_requests", "mfa.reauth.throttled")
	// The sign-in lockout is untouched by those wrong passwords.
	e.signIn("alice.example", alicePassword, "app")
}
