package main

import (
	"io"
	"net/http"
	"regexp"
	"testing"
)

// testDevice is the app installation the end-to-end tests register and sign in from.
const testDevice = "e2e-test-device-000001"

// outboxCode finds the newest one-time code on the development outbox page.
var outboxCode = regexp.MustCompile(`(?s)<dd>mfa\.code</dd>.*?<p class="message-body">[^<]*?\b(\d{6})\b`)

func lastOutboxCode(t *testing.T, in *instance) string {
	t.Helper()
	resp, err := http.Get(in.url + "/dev/outbox")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := outboxCode.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no one-time code on the outbox page:\n%.3000s", b)
	}
	return string(m[1])
}

// passStepUp completes a step-up answer from POST /api/v1/sessions with an email code,
// trusting testDevice.
func passStepUp(t *testing.T, in *instance, out map[string]any) (int, map[string]any) {
	t.Helper()
	su, _ := out["step_up"].(map[string]any)
	flow, _ := su["flow_token"].(string)
	if flow == "" {
		t.Fatalf("200 without a step-up: %v", out)
	}
	if st, body := apiCall(t, "POST", in.url+"/api/v1/sessions/verify/send", "", map[string]any{
		"flow_token": flow, "channel": "email", "device_id": testDevice}); st != http.StatusNoContent {
		t.Fatalf("send code: %d %v", st, body)
	}
	return apiCall(t, "POST", in.url+"/api/v1/sessions/verify", "", map[string]any{
		"flow_token": flow, "factor": "email", "code": lastOutboxCode(t, in), "trust_device": true,
		"client": "app", "device_id": testDevice})
}
