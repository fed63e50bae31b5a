package web

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"time"

	cp "github.com/cardportal/cardportal"
	"github.com/cardportal/cardportal/account"
	"github.com/cardportal/cardportal/identity"
)

// Live screens (issue 5: "a purchase appears as pending within a second"). The
// dashboard and the transaction list open a server-sent event stream for their
// account; the stream says only that the account changed (an opaque version), and the
// page's script then fetches its own URL again and swaps the parts marked data-live.
// Rendering stays on the server, in the member's language, and nothing but a version
// crosses the stream.
//
// The stream finds changes by reading the account's figures every liveEvery. That
// costs a few indexed reads per open page and works the same with one instance or many
// on PostgreSQL, where the purchase may have been approved by another instance: no
// broker, nothing to keep in step.
//
// A live page is not activity: the stream and its refreshes check the session with
// Peek, which leaves the idle clock alone, so an unattended open dashboard still
// times out. When the session ends the stream says "end" and stops.

const (
	liveEvery     = time.Second
	livePing      = 15 * time.Second // a comment line keeps proxies from closing a quiet stream
	liveMaxStream = 10 * time.Minute // then the browser reconnects, re-checking everything
	liveRetry     = 3 * time.Second  // the browser's reconnect delay

	// liveHeader marks a page refresh made by the live script, so it is checked
	// like the stream (Peek) rather than counted as the member's activity.
	liveHeader = "X-Live-Refresh"
)

// liveAccount is GET /live/accounts/{id}: the account's change stream.
func (s *server) liveAccount(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	tok := identity.Token(cookie(r, sessionCookie))
	sess, err := s.Identity.Peek(ctx, tok)
	if err != nil {
		if cp.ErrorKind(err) == cp.Internal {
			s.fail(w, r, err)
			return
		}
		// 204 tells EventSource to stop reconnecting; the page's next navigation
		// meets the sign-in page.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	m, err := s.Identity.Member(ctx, sess.MemberID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	version, err := s.accountVersion(ctx, m.CardholderID, id)
	if cp.IsKind(err, cp.NotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	write := func(format string, args ...any) bool {
		// The server's WriteTimeout would end a long stream; each write gets its own.
		_ = rc.SetWriteDeadline(time.Now().Add(livePing + 10*time.Second))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write("retry: %d\nevent: ledger\ndata: %s\n\n", liveRetry.Milliseconds(), version) {
		return
	}
	tick := time.NewTicker(liveEvery)
	defer tick.Stop()
	end := time.NewTimer(liveMaxStream)
	defer end.Stop()
	lastWrite := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.Stopping:
			return
		case <-end.C:
			return
		case <-tick.C:
		}
		if _, err := s.Identity.Peek(ctx, tok); err != nil {
			write("event: end\ndata: \n\n")
			return
		}
		v, err := s.accountVersion(ctx, m.CardholderID, id)
		if err != nil {
			if ctx.Err() == nil {
				s.logError(ctx, r, err)
			}
			return
		}
		switch {
		case v != version:
			version = v
		case time.Since(lastWrite) >= livePing:
			if !write(": ping\n\n") {
				return
			}
			lastWrite = time.Now()
			continue
		default:
			continue
		}
		if !write("event: ledger\ndata: %s\n\n", version) {
			return
		}
		lastWrite = time.Now()
	}
}

// accountVersion condenses what the live pages show of an account — balance, holds,
// the newest transaction and the cards' states — into an opaque value that changes
// when any of them does. Returns NotFound for an account the holder may not see.
func (s *server) accountVersion(ctx context.Context, holder, accountID int64) (string, error) {
	sums, err := s.Accounts.Summaries(ctx, holder)
	if err != nil {
		return "", err
	}
	h := fnv.New64a()
	found := false
	for _, a := range sums {
		if a.AccountID != accountID {
			continue
		}
		found = true
		fmt.Fprintf(h, "%d|%d|%d|%s|", a.Balance, a.Pending, a.CreditLimit, a.PaymentDue.Format(time.DateOnly))
		for _, c := range a.Cards {
			fmt.Fprintf(h, "%d:%s|", c.CardID, c.State)
		}
	}
	if !found {
		return "", cp.E("web.accountVersion", cp.NotFound, "", nil)
	}
	if s.Ledger != nil {
		page, err := s.Ledger.Transactions(ctx, holder, accountID, account.Filter{Limit: 1})
		if err != nil {
			return "", err
		}
		for _, t := range page.Transactions {
			fmt.Fprintf(h, "%d:%s", t.ID, t.Status)
		}
	}
	return strconv.FormatUint(h.Sum64(), 36), nil
}
