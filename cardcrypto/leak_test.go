package cardcrypto

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestFormattingDoesNotLeak(t *testing.T) {
	k := distinctKeys(t)
	s := newSoft(t, k)
	pin, err := ParsePIN("86420")
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{
		"Keys":  k,
		"*Keys": &k,
		"*Soft": s,
		"Soft":  *s,
		"PIN":   pin,
		"*PIN":  &pin,
		"struct": struct {
			K   Keys
			S   *Soft
			PIN PIN
		}{k, s, pin},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%30v"}
	for name, v := range values {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			checkNoKeyMaterial(t, name+" "+verb, out, k)
			if strings.Contains(out, pin.Digits()) {
				t.Errorf("%s %s leaks the PIN: %q", name, verb, out)
			}
		}
	}
	if got := fmt.Sprint(k); !strings.Contains(got, `"k1"`) || !strings.Contains(got, "redacted") {
		t.Errorf("Keys prints as %q, want ids and a redaction note", got)
	}

	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, nil))
	l.Info("hsm", "keys", k, "soft", s, "pin", pin)
	checkNoKeyMaterial(t, "slog", buf.String(), k)
	if strings.Contains(buf.String(), pin.Digits()) {
		t.Errorf("slog leaks the PIN: %s", buf.String())
	}
}
