// Package web is cardportal's browser surface: the server-rendered HTML pages a card
// member uses to register (SPEC ID1–ID3), sign in and out (ID5, ID6), see the account
// summary (AC1) and their security history and sessions (ID10, ID14), in every
// supported language (PL2), behind the browser defences of PL6.
//
// The pages work without JavaScript; app.js only adds the live password checklist and
// the reveal of the additional-member field. The server is authoritative for every
// rule. The package holds no state of its own: sessions, registration flows and
// lockout counters live in the identity service's store, so any number of instances
// can serve the same members.
package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/alerts"
	"github.com/cardportal/cardportal/cardservice"
	"github.com/cardportal/cardportal/details"
	"github.com/cardportal/cardportal/disputes"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/offers"
	"github.com/cardportal/cardportal/payment"
	"github.com/cardportal/cardportal/rewards"
	"github.com/cardportal/cardportal/safehttp"
	"github.com/cardportal/cardportal/statement"
)

// Deps is what the pages need from the rest of the program.
type Deps struct {
	Identity *identity.Service
	Accounts account.Store
	Outbox   notify.OutboxStore // nil unless the dev outbox page is enabled
	Log      *slog.Logger
	Now      func() time.Time
	// BehindTLS marks cookies Secure and sends HSTS even if r.TLS is nil, for an
	// instance whose TLS is terminated upstream.
	BehindTLS bool
	// Maintenance is an optional notice shown on the sign-in pages (SPEC PL8); empty
	// shows none.
	Maintenance string
	// Cards services cards (activation, freeze, PIN, lost); nil leaves those pages out.
	Cards *cardservice.Service
	// Ledger lists transactions (SPEC AC2); nil leaves the transaction pages and the
	// dashboard's recent transactions out.
	Ledger account.Ledger
	// Stopping is closed when the server starts shutting down, ending the live
	// streams (live.go), which would otherwise hold the shutdown until its timeout.
	Stopping <-chan struct{}
	// Statements lists and renders statements (SPEC AC3, web/statements.go); nil
	// leaves the statement pages out.
	Statements *statement.Service
	// Details, Alerts and Disputes are personal details, alert preferences and
	// disputes (SPEC AC11-AC13, web/details.go); nil leaves each one's pages out.
	Details  *details.Service
	Alerts   *alerts.Service
	Disputes *disputes.Service
	// Payments runs payments (SPEC AC4); nil leaves the payment pages out.
	Payments *payment.Service
	// Rewards and Offers are points, benefits and merchant offers (SPEC AC5, AC6,
	// web/rewards.go); nil leaves their pages and the dashboard's points out.
	Rewards *rewards.Service
	Offers  *offers.Service
}

// maxBody caps request bodies. The largest form (registration) is well under 4 KiB;
// 64 KiB leaves room for long passphrases without letting a client make us buffer
// megabytes.
const maxBody = 64 << 10

// csp allows only our own script and stylesheet: no inline code at all, so an
// injection that slipped past html/template still could not run.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"

// Cookie names.
const (
	sessionCookie  = "session"  // the session token; a browser-session cookie
	rememberCookie = "remember" // the remembered User ID (SPEC ID5), never a secret
	flowCookie     = "regflow"  // the registration flow token, scoped to /register
	langCookie     = "lang"     // the chosen locale code
)

// server carries the dependencies and the parsed templates.
type server struct {
	Deps
	pages  map[string]*pageTemplate
	assets assets
}

// NewHandler returns the browser surface. The program wraps it in safehttp.Observe,
// which supplies request IDs and the client's address.
func NewHandler(d Deps) http.Handler {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &server{Deps: d, pages: mustParsePages(), assets: mustLoadAssets()}
	mux := http.NewServeMux()
	s.routes(mux)

	// Go's CrossOriginProtection is the CSRF defence: browsers say where a request
	// came from (Sec-Fetch-Site, or Origin), so a cross-site form post is refused
	// before it reaches a handler, with no token to leak or to get stale.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOrigin))

	var h http.Handler = s.withNotFound(mux)
	h = s.limitBody(h)
	h = cop.Handler(h)
	h = safehttp.Headers(csp, d.BehindTLS, h)
	return h
}

// limitBody renders the localised "too large" page for a body that announces its
// size up front, and caps the rest with safehttp.LimitBody so a handler that reads
// past the cap gets an error it reports the same way.
func (s *server) limitBody(next http.Handler) http.Handler {
	limited := safehttp.LimitBody(maxBody, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBody {
			s.tooLarge(w, r)
			return
		}
		limited.ServeHTTP(w, r)
	})
}

// withNotFound serves the mux and replaces its plain-text 404 with the localised
// page. It only intercepts requests that match no route, so the mux's own "405 Method
// Not Allowed" (with its Allow header) and every handler's response pass untouched.
func (s *server) withNotFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		nf := &notFoundWriter{ResponseWriter: w}
		mux.ServeHTTP(nf, r)
		if nf.notFound {
			s.notFound(w, r)
		}
	})
}

// notFoundWriter swallows a 404 so the caller can write its own page; any other
// status goes straight through.
type notFoundWriter struct {
	http.ResponseWriter
	notFound bool
	wrote    bool
}

func (n *notFoundWriter) WriteHeader(code int) {
	if !n.wrote && code == http.StatusNotFound {
		n.notFound = true
	}
	n.wrote = true
	if !n.notFound {
		n.ResponseWriter.WriteHeader(code)
	}
}

func (n *notFoundWriter) Write(b []byte) (int, error) {
	if !n.wrote {
		n.WriteHeader(http.StatusOK)
	}
	if n.notFound {
		return len(b), nil
	}
	return n.ResponseWriter.Write(b)
}

// source describes the request for throttling and the security history.
func (s *server) source(r *http.Request, lang string) identity.Source {
	ip := safehttp.ClientIP(r.Context())
	if ip == "" {
		// Without safehttp.Observe (a test, or a mis-wired program) fall back to the
		// connection's address rather than throttle everyone under one empty key.
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			ip = host
		} else {
			ip = r.RemoteAddr
		}
	}
	return identity.Source{IP: ip, UserAgent: r.UserAgent(), Client: identity.Web, Locale: lang, DeviceID: cookie(r, deviceCookie)}
}

// setCookie sets an HttpOnly, SameSite=Lax cookie, Secure whenever the request came
// (or is known to come) over TLS. maxAge 0 makes a browser-session cookie.
func (s *server) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: safehttp.Secure(r, s.BehindTLS), SameSite: http.SameSiteLaxMode,
	})
}

// clearCookie deletes a cookie; path must be the one it was set with.
func (s *server) clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: path, MaxAge: -1,
		HttpOnly: true, Secure: safehttp.Secure(r, s.BehindTLS), SameSite: http.SameSiteLaxMode,
	})
}

// cookie returns a cookie's value, or "".
func cookie(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// redirect answers with 303 See Other, so a POST is followed by a GET and a reload
// never resubmits the form.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// logError logs an unexpected error with the request ID. Only the error goes in:
// never the form, whose fields may hold a password or a card number.
func (s *server) logError(ctx context.Context, r *http.Request, err error) {
	s.Log.ErrorContext(ctx, "web request failed",
		"request_id", safehttp.RequestID(ctx), "method", r.Method, "route", r.Pattern, "err", err)
}
