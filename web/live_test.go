package web_test

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardportal/cardportal/account"
)

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

// openStream opens a live stream with the browser's cookies and returns its events as
// they arrive; the channel closes when the stream ends.
func (b *browser) openStream(path string) (status int, events <-chan sseEvent) {
	b.e.t.Helper()
	req, err := http.NewRequestWithContext(b.e.t.Context(), http.MethodGet, b.e.url+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	ch := make(chan sseEvent, 16)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return resp.StatusCode, ch
}

// next waits for the stream's next event; the long guard only stops a broken
// stream from hanging the test, the stream itself looks every second.
func next(t *testing.T, events <-chan sseEvent) (sseEvent, bool) {
	t.Helper()
	select {
	case ev, ok := <-events:
		return ev, ok
	case <-time.After(30 * time.Second):
		t.Fatal("no event from the live stream")
		return sseEvent{}, false
	}
}

func TestLiveStreamReportsChanges(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	b.register(e.basic, userID)

	status, events := b.openStream("/live/accounts/1")
	if status != http.StatusOK {
		t.Fatalf("stream status = %d, want 200", status)
	}
	first, ok := next(t, events)
	if !ok || first.name != "ledger" || first.data == "" {
		t.Fatalf("first event = %+v (open %v), want a ledger version", first, ok)
	}

	// A purchase authorised elsewhere: the stream says the account changed.
	if _, err := e.store.Post(t.Context(), account.Entry{AccountID: 1, CardID: 1, Kind: account.Purchase, Amount: 2599,
		Currency: "USD", Description: "Harbor Books", Merchant: "Harbor Books", Channel: account.Online,
		Status: account.Pending, PostedAt: start, IdempotencyKey: "live-1"}); err != nil {
		t.Fatal(err)
	}
	changed, ok := next(t, events)
	if !ok || changed.name != "ledger" || changed.data == first.data {
		t.Fatalf("after a purchase: %+v (open %v), want a new ledger version than %q", changed, ok, first.data)
	}

	// The session idles out while the page is open: the stream is not activity, so
	// it ends rather than keeping the session alive.
	e.clock.Add(16 * time.Minute)
	for {
		ev, ok := next(t, events)
		if !ok {
			t.Fatal("stream closed without an end event")
		}
		if ev.name == "end" {
			break
		}
	}
	wantRedirect(t, "dashboard after the idle timeout", b.get("/account"), "/login?m=expired")
}

func TestLiveIsNotActivity(t *testing.T) {
	e := newEnv(t)
	b := e.browser(chromeUA)
	b.register(e.basic, userID)

	// 14 minutes into the 15-minute idle window, a stream opens and the page refreshes
	// itself; neither may restart the window.
	e.clock.Add(14 * time.Minute)
	status, events := b.openStream("/live/accounts/1")
	if status != http.StatusOK {
		t.Fatalf("stream status = %d, want 200", status)
	}
	if ev, ok := next(t, events); !ok || ev.name != "ledger" {
		t.Fatalf("first event = %+v", ev)
	}
	req, _ := http.NewRequest(http.MethodGet, e.url+"/account", nil)
	req.Header.Set("X-Live-Refresh", "1")
	wantStatus(t, "live refresh", b.do(req), http.StatusOK)

	e.clock.Add(2 * time.Minute)
	wantRedirect(t, "dashboard after the idle timeout", b.get("/account"), "/login?m=expired")
}

func TestLiveStreamScope(t *testing.T) {
	e := newEnv(t)
	anon := e.browser(chromeUA)
	if status, _ := anon.openStream("/live/accounts/1"); status != http.StatusNoContent {
		t.Errorf("without a session: status %d, want 204 (EventSource stops retrying)", status)
	}
	b := e.browser(chromeUA)
	b.register(e.basic, userID)
	for _, path := range []string{"/live/accounts/2", "/live/accounts/x", "/live/accounts/-1"} {
		if status, _ := b.openStream(path); status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, status)
		}
	}
	dash := b.get("/account")
	wantContains(t, "dashboard", dash.body, `data-live-src="/live/accounts/1"`)
}
