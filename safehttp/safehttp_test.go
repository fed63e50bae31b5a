package safehttp

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestStatus(t *testing.T) {
	for k, want := range map[cp.Kind]int{
		cp.Internal: 500, cp.Invalid: 422, cp.NotFound: 404, cp.Conflict: 409, cp.Unauthenticated: 401,
		cp.Forbidden: 403, cp.Locked: 423, cp.TooManyRequests: 429, cp.Expired: 410, cp.Kind(200): 500,
	} {
		if got := Status(k); got != want {
			t.Errorf("Status(%v) = %d, want %d", k, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := httptest.NewRecorder()
	RetryAfter(w, &cp.Error{Kind: cp.Locked, Until: now.Add(90 * time.Second)}, now)
	if got := w.Header().Get("Retry-After"); got != "91" {
		t.Errorf("Retry-After = %q, want 91", got)
	}
	w = httptest.NewRecorder()
	RetryAfter(w, errors.New("plain"), now)
	if got := w.Header().Get("Retry-After"); got != "" {
		t.Errorf("Retry-After for an error without an end = %q", got)
	}
}

// TestObserveLogsRouteNotQuery checks the access log names the route pattern and
// never the raw path or query string, where a careless client might put a secret.
func TestObserveLogsRouteNotQuery(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	mux := http.NewServeMux()
	var seenIP, seenID string
	mux.HandleFunc("GET /cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		seenIP, seenID = ClientIP(r.Context()), RequestID(r.Context())
		w.WriteHeader(http.StatusTeapot)
	})
	h := Observe(Options{Log: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: m}, mux)
	req := httptest.NewRequest("GET", "/cards/12345?token=s3cr3t-value", nil)
	req.RemoteAddr = "203.0.113.9:5555"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)

	out := logs.String()
	if !strings.Contains(out, `"route":"GET /cards/{id}"`) || !strings.Contains(out, `"status":418`) {
		t.Errorf("log lacks route or status: %s", out)
	}
	if strings.Contains(out, "s3cr3t") || strings.Contains(out, "12345") {
		t.Errorf("log contains the raw path or query: %s", out)
	}
	if seenIP != "203.0.113.9" || seenID == "" || w.Header().Get("X-Request-ID") != seenID {
		t.Errorf("ip %q, request id %q, header %q", seenIP, seenID, w.Header().Get("X-Request-ID"))
	}
	if n := testutil.ToFloat64(m.requests.WithLabelValues("GET", "GET /cards/{id}", "418")); n != 1 {
		t.Errorf("request counter = %v, want 1", n)
	}
}

func TestClientIPForwarded(t *testing.T) {
	cases := []struct {
		name    string
		trust   bool
		xff     string
		want    string
		comment string
	}{
		{"untrusted header ignored", false, "198.51.100.1", "192.0.2.1", ""},
		{"trusted last hop", true, "10.0.0.1, 198.51.100.1", "198.51.100.1", ""},
		{"garbage falls back", true, "not-an-ip", "192.0.2.1", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "192.0.2.1:1234"
			r.Header.Set("X-Forwarded-For", c.xff)
			if got := clientIP(r, c.trust); got != c.want {
				t.Errorf("clientIP = %q, want %q", got, c.want)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	w := httptest.NewRecorder()
	Headers("default-src 'none'", false, ok).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	h := w.Header()
	if h.Get("Content-Security-Policy") != "default-src 'none'" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
		t.Errorf("missing security headers: %v", h)
	}
	if h.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain HTTP")
	}
	w = httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	r.TLS = &tls.ConnectionState{}
	Headers("", false, ok).ServeHTTP(w, r)
	if w.Header().Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS over TLS")
	}
}

func TestLimitBody(t *testing.T) {
	var readErr error
	h := LimitBody(10, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, readErr = io.ReadAll(r.Body)
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 11))))
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("declared oversize: status %d", w.Code)
	}
	// A body of unknown length is cut off while it is read.
	r := httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader(strings.Repeat("x", 11))))
	r.ContentLength = -1
	h.ServeHTTP(httptest.NewRecorder(), r)
	if !TooLarge(readErr) {
		t.Errorf("read past the limit: %v, want a too-large error", readErr)
	}
	r = httptest.NewRequest("POST", "/", strings.NewReader("small"))
	h.ServeHTTP(httptest.NewRecorder(), r)
	if readErr != nil {
		t.Errorf("small body: %v", readErr)
	}
}
