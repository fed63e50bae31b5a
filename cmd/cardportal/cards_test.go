package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var verificationCode = regexp.MustCompile(`Your verification code is (\d{6})`)

// TestCardServicingEndToEnd freezes a card, chooses a PIN and reports the card lost
// through the real program, then checks the notices went out and that no card number,
// security code or PIN reached the logs.
func TestCardServicingEndToEnd(t *testing.T) {
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir(), "-log-level", "debug")...)
	c := in.cards[0]
	tok := register(t, in, c, "cards.member")
	st, out := apiCall(t, "GET", in.url+"/api/v1/accounts", tok, nil)
	if st != http.StatusOK {
		t.Fatalf("accounts: %d %v", st, out)
	}
	var id string
	for _, a := range out["accounts"].([]any) {
		for _, k := range a.(map[string]any)["cards"].([]any) {
			k := k.(map[string]any)
			if strings.HasSuffix(c.pan, k["last_digits"].(string)) {
				id = fmt.Sprint(k["card_id"])
			}
		}
	}
	if id == "" {
		t.Fatalf("registered card not listed: %v", out)
	}
	base := in.url + "/api/v1/cards/" + id
	if st, out := apiCall(t, "POST", base+"/freeze", tok, nil); st != http.StatusOK || out["state"] != "frozen" {
		t.Fatalf("freeze: %d %v", st, out)
	}
	if st, out := apiCall(t, "POST", base+"/unfreeze", tok, nil); st != http.StatusOK || out["state"] != "active" {
		t.Fatalf("unfreeze: %d %v", st, out)
	}
	// "Your PIN": a challenge, answered once with the security question and once with a
	// code from the email, as the member's choice.
	const pin = "5082"
	st, ch := apiCall(t, "POST", base+"/pin/challenge", tok, nil)
	if st != http.StatusOK || ch["fallback"] != false || ch["flow_token"] == nil || ch["question"] == nil {
		t.Fatalf("pin/challenge: %d %v", st, ch)
	}
	answers := map[string]string{"first_pet": "Rex", "birth_city": "Gothenburg", "first_job": "Bakery"} // run_test.go's register
	answer := answers[ch["question"].(map[string]any)["question_id"].(string)]
	body := map[string]string{"flow_token": ch["flow_token"].(string), "factor": "question", "answer": answer, "pin": pin, "pin_confirm": pin}
	if st, out := apiCall(t, "POST", base+"/pin", tok, body); st != http.StatusNoContent {
		t.Fatalf("pin: %d %v", st, out)
	}
	if st, out := apiCall(t, "POST", base+"/pin", tok, body); st != http.StatusGone {
		t.Errorf("the same challenge again: %d %v, want 410", st, out)
	}
	st, ch = apiCall(t, "POST", base+"/pin/challenge", tok, nil)
	if st != http.StatusOK {
		t.Fatalf("pin/challenge: %d %v", st, ch)
	}
	flow := ch["flow_token"].(string)
	if st, out := apiCall(t, "POST", base+"/pin/send", tok, map[string]string{"flow_token": flow, "channel": "email"}); st != http.StatusNoContent {
		t.Fatalf("pin/send: %d %v", st, out)
	}
	m := verificationCode.FindStringSubmatch(waitOutbox(t, in, "Your verification code is"))
	if m == nil {
		t.Fatal("no code in the outbox")
	}
	code := m[1]
	if st, out := apiCall(t, "POST", base+"/pin", tok, map[string]string{"flow_token": flow, "factor": "email", "answer": code, "pin": pin, "pin_confirm": pin}); st != http.StatusNoContent {
		t.Fatalf("pin with a code: %d %v", st, out)
	}
	st, out = apiCall(t, "POST", base+"/report-lost", tok, nil)
	if st != http.StatusCreated {
		t.Fatalf("report-lost: %d %v", st, out)
	}
	if r := out["replacement"].(map[string]any); r["state"] != "inactive" {
		t.Errorf("replacement %v", r)
	}

	resp, err := http.Get(in.url + "/dev/outbox")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"Your PIN was changed", "Your card has been blocked", "Your card is frozen"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("outbox lacks %q", want)
		}
	}
	logs := in.log.String()
	if strings.Contains(logs, c.pan) {
		t.Errorf("the card number reached the logs")
	}
	for _, v := range []string{c.code, pin, code} {
		if strings.Contains(logs, `"`+v+`"`) || strings.Contains(logs, "="+v) {
			t.Errorf("a code or PIN (%d digits) reached the logs", len(v))
		}
	}
}
