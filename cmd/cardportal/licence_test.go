package main

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// acceptLicence accepts the default licence agreement for testDevice (SPEC ID12), as
// the app does before its first session.
func acceptLicence(t *testing.T, in *instance) {
	t.Helper()
	st, out := apiCall(t, "POST", in.url+"/api/v1/licence/accept", "", map[string]any{"version": defaultLicenceVersion, "device_id": testDevice})
	if st != http.StatusNoContent {
		t.Fatalf("licence/accept: %d %v", st, out)
	}
}

func TestAppSignInNeedsTheLicence(t *testing.T) {
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir())...)
	register(t, in, in.cards[0], "licence.member")
	st, out := apiCall(t, "GET", in.url+"/api/v1/licence", "", nil)
	if st != http.StatusOK || out["version"] != defaultLicenceVersion {
		t.Fatalf("licence: %d %v", st, out)
	}
	const fresh = "e2e-new-installation-01"
	signIn := func() (int, map[string]any) {
		return apiCall(t, "POST", in.url+"/api/v1/sessions", "", map[string]any{"user_id": "licence.member", "password": testPassword, "client": "app", "device_id": fresh})
	}
	st, out = signIn()
	if errObj, _ := out["error"].(map[string]any); st != http.StatusForbidden || errObj["message_id"] != "licence.required" {
		t.Fatalf("sign-in before accepting: %d %v", st, out)
	}
	if st, out := apiCall(t, "POST", in.url+"/api/v1/licence/accept", "", map[string]any{"version": defaultLicenceVersion, "device_id": fresh}); st != http.StatusNoContent {
		t.Fatalf("accept: %d %v", st, out)
	}
	if st, out := signIn(); st == http.StatusForbidden {
		t.Fatalf("sign-in after accepting: %d %v", st, out)
	}
}

func TestAccountSecurityConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		ok   bool
	}{
		{"max age from a flag", []string{"-password-max-age", "2160h"}, nil, true},
		{"max age from the environment", nil, map[string]string{"CARDPORTAL_PASSWORD_MAX_AGE": "720h"}, true},
		{"negative max age", []string{"-password-max-age", "-1h"}, nil, false},
		{"licence version", []string{"-licence-version", "2027-03"}, nil, true},
		{"licence off", []string{"-licence-version", ""}, nil, true},
		{"licence version with a space", []string{"-licence-version", "2027 03"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig("cardportal", tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if err == nil && tt.name == "max age from the environment" && c.PasswordMaxAge != 720*time.Hour {
				t.Fatalf("PasswordMaxAge = %v", c.PasswordMaxAge)
			}
		})
	}
	c, err := parseConfig("cardportal", nil, func(string) string { return "" }, io.Discard)
	if err != nil || c.LicenceVersion != defaultLicenceVersion || c.PasswordMaxAge != 0 {
		t.Fatalf("defaults: %q %v %v", c.LicenceVersion, c.PasswordMaxAge, err)
	}
}
