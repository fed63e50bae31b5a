package card

import (
	"bytes"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"testing"
)

// Chosen so that no code's digits occur in a PAN's last four, which the
// masked forms show.
const (
	leakPAN16 = "4929 8765 4321 0069"
	leakPAN15 = "3787 654321 98762"
	leakCode3 = "987"
	leakCode4 = "9876"
)

func mustPAN(t *testing.T, s string) PAN {
	t.Helper()
	p, err := ParsePAN(s)
	if err != nil {
		t.Fatalf("ParsePAN(%q): %v", s, err)
	}
	return p
}

func mustCode(t *testing.T, s string) Code {
	t.Helper()
	c, err := ParseCode(s, len(s))
	if err != nil {
		t.Fatalf("ParseCode: %v", err)
	}
	return c
}

// checkNoLeak fails if out holds a full card number, the digits of a PAN
// that its masked form hides, or a security code.
func checkNoLeak(t *testing.T, what, out string, pans []PAN, codes []Code) {
	t.Helper()
	for _, p := range pans {
		if strings.Contains(out, p.Digits()) || strings.Contains(out, p.Digits()[:p.Len()-4]) {
			t.Errorf("%s leaks a card number: %q", what, out)
		}
	}
	for _, c := range codes {
		if strings.Contains(out, c.Digits()) {
			t.Errorf("%s leaks a security code: %q", what, out)
		}
	}
}

func TestFormattingDoesNotLeak(t *testing.T) {
	p16, p15 := mustPAN(t, leakPAN16), mustPAN(t, leakPAN15)
	c3, c4 := mustCode(t, leakCode3), mustCode(t, leakCode4)
	pans, codes := []PAN{p16, p15}, []Code{c3, c4}

	type exported struct {
		PAN  PAN
		Code Code
		Ptr  *PAN
	}
	values := map[string]any{
		"PAN16":          p16,
		"PAN15":          p15,
		"*PAN":           &p16,
		"Code3":          c3,
		"Code4":          c4,
		"*Code":          &c4,
		"[]PAN":          []PAN{p16, p15},
		"[]Code":         []Code{c3, c4},
		"map":            map[PAN]Code{p16: c3},
		"exported field": exported{PAN: p15, Code: c4, Ptr: &p16},
		"pointer to struct": &exported{
			PAN: p16, Code: c3, Ptr: &p15,
		},
	}
	// A variable format keeps vet from rejecting verbs that make no sense
	// for the type; a careless caller can still write them.
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%20v", "%-8s|", "%.3s", "%T %v"}
	for name, v := range values {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			checkNoLeak(t, name+" "+verb, out, pans, codes)
		}
		checkNoLeak(t, name+" Sprint", fmt.Sprint(v), pans, codes)
		checkNoLeak(t, name+" Sprintln", fmt.Sprintln(v), pans, codes)
	}

	if got := fmt.Sprintf("%v|%s|%#v|%+v", p16, p16, p16, p16); got != "•••• 0069|•••• 0069|•••• 0069|•••• 0069" {
		t.Errorf("PAN formats as %q", got)
	}
	if got := fmt.Sprintf("%v|%s|%#v|%q", c4, c4, c4, c4); got != `•••|•••|•••|"•••"` {
		t.Errorf("Code formats as %q", got)
	}
	if got := fmt.Sprintf("[%12v]", p16); got != "[   •••• 0069]" {
		t.Errorf("width is not honoured: %q", got)
	}
}

func TestLoggingDoesNotLeak(t *testing.T) {
	p16, p15 := mustPAN(t, leakPAN16), mustPAN(t, leakPAN15)
	c3, c4 := mustCode(t, leakCode3), mustCode(t, leakCode4)
	pans, codes := []PAN{p16, p15}, []Code{c3, c4}

	// Without the time: a timestamp's milliseconds can be the test's security code
	// ("...03.987Z"), which made the check fail one run in a few hundred.
	noTime := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	var buf bytes.Buffer
	for name, h := range map[string]slog.Handler{
		"json": slog.NewJSONHandler(&buf, &slog.HandlerOptions{AddSource: true, ReplaceAttr: noTime}),
		"text": slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: noTime}),
	} {
		buf.Reset()
		l := slog.New(h)
		l.Info("card", "pan", p16, "code", c3, slog.Any("ptr", &p15), slog.Group("g", "code", c4))
		l.With("pan", p15).Info("with", "codes", []Code{c3, c4})
		l.LogAttrs(t.Context(), slog.LevelWarn, "attrs", slog.Any("pan", p16), slog.String("s", p15.String()))
		checkNoLeak(t, name, buf.String(), pans, codes)
		if !strings.Contains(buf.String(), "•••• 0069") {
			t.Errorf("%s output lacks the masked PAN: %s", name, buf.String())
		}
	}

	buf.Reset()
	logger := log.New(&buf, "", 0)
	logger.Printf("pan=%v code=%v", p16, c3)
	logger.Println(p15, c4)
	checkNoLeak(t, "log.Logger", buf.String(), pans, codes)
}
