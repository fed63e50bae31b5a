// Package safehttp is the HTTP plumbing shared by the web pages and the JSON API: the
// one table from error kinds to status codes, security headers, body limits, request
// IDs, the client's address, access logs and metrics. Handlers stay thin because the
// cross-cutting rules live here, once.
package safehttp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	cp "github.com/cardportal/cardportal"
)

// Status maps an error kind to its HTTP status. It is the only such table.
func Status(k cp.Kind) int {
	switch k {
	case cp.Invalid:
		return http.StatusUnprocessableEntity
	case cp.NotFound:
		return http.StatusNotFound
	case cp.Conflict:
		return http.StatusConflict
	case cp.Unauthenticated:
		return http.StatusUnauthorized
	case cp.Forbidden:
		return http.StatusForbidden
	case cp.Locked:
		return http.StatusLocked
	case cp.TooManyRequests:
		return http.StatusTooManyRequests
	case cp.Expired:
		return http.StatusGone
	default:
		return http.StatusInternalServerError
	}
}

// RetryAfter sets Retry-After for locked and throttled errors.
func RetryAfter(w http.ResponseWriter, err error, now time.Time) {
	if until := cp.ErrorUntil(err); until.After(now) {
		w.Header().Set("Retry-After", strconv.Itoa(int(until.Sub(now).Seconds())+1))
	}
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	clientIPKey
)

// RequestID returns the request's ID, set by Observe.
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// ClientIP returns the client's address as Observe determined it.
func ClientIP(ctx context.Context) string {
	s, _ := ctx.Value(clientIPKey).(string)
	return s
}

// Options configures Observe.
type Options struct {
	Log *slog.Logger
	// TrustForwarded takes the client address from the last X-Forwarded-For hop, for
	// instances behind a load balancer; otherwise a client could pick its own address
	// and dodge per-source throttling.
	TrustForwarded bool
	Metrics        *Metrics // may be nil
}

// Observe gives every request an ID and the client address in its context, and logs
// and counts it when done. Logs carry the route pattern and never the query string, so
// no token or code can reach them through a URL.
func Observe(o Options, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		w.Header().Set("X-Request-ID", id)
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		ctx = context.WithValue(ctx, clientIPKey, clientIP(r, o.TrustForwarded))
		r = r.WithContext(ctx)
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		d := time.Since(start)
		pattern := r.Pattern
		if pattern == "" {
			pattern = "unmatched"
		}
		if o.Metrics != nil {
			o.Metrics.observe(r.Method, pattern, rec.status, d)
		}
		lvl := slog.LevelInfo
		if rec.status >= 500 {
			lvl = slog.LevelError
		}
		o.Log.LogAttrs(ctx, lvl, "http request",
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("route", pattern),
			slog.Int("status", rec.status),
			slog.Duration("duration", d),
			slog.String("ip", ClientIP(ctx)),
		)
	})
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func clientIP(r *http.Request, trustForwarded bool) string {
	if trustForwarded {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			hops := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(hops[len(hops)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// recorder remembers the status for logs and metrics. It forwards Flush so streaming
// responses (server-sent events) keep working.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Headers sets the security headers every response carries. csp is the page policy;
// hsts is only sent when the request arrived over TLS (or the operator says the
// instance is behind TLS), since browsers ignore it on plain HTTP anyway.
func Headers(csp string, behindTLS bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if csp != "" {
			h.Set("Content-Security-Policy", csp)
		}
		if behindTLS || r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// LimitBody caps request bodies; a handler reading past the cap gets an error it
// reports as "too large" (see TooLarge).
func LimitBody(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			http.Error(w, http.StatusText(http.StatusRequestEntityTooLarge), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

// TooLarge reports whether err came from reading past LimitBody's cap.
func TooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return err != nil && asMaxBytes(err, &mbe)
}

// Secure reports whether cookies should be marked Secure for r.
func Secure(r *http.Request, behindTLS bool) bool { return behindTLS || r.TLS != nil }
