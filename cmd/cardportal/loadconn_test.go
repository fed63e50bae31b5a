package main

import (
	"context"
	"crypto/hmac"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardportal/cardportal/network"
)

// TestWireConnPost checks the load generator's own client against a real HTTP
// server: the request is signed as the network interface checks it, one
// connection carries successive requests, and a server that closes the connection
// costs a new dial rather than an error.
func TestWireConnPost(t *testing.T) {
	secret := []byte("load-secret")
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "body", http.StatusBadRequest)
			return
		}
		ts, _ := strconv.ParseInt(r.Header.Get(network.HeaderTimestamp), 10, 64)
		want := network.Sign(secret, ts, r.Header.Get(network.HeaderNonce), body)
		if r.Method != "POST" || r.URL.Path != "/network/v1/authorisations" || r.Header.Get("Content-Type") != "application/json" ||
			!hmac.Equal([]byte(want), []byte(r.Header.Get(network.HeaderSignature))) {
			http.Error(w, "unsigned", http.StatusUnauthorized)
			return
		}
		if string(body) == "close" {
			w.Header().Set("Connection", "close")
		}
		w.Write(append([]byte("echo:"), body...))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	wc, err := newWireConn(srv.URL, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer wc.close()
	ctx := context.Background()
	for i, body := range []string{"one", "two", "close", "three"} {
		st, got, err := wc.post(ctx, "/network/v1/authorisations", secret, []byte(body))
		if err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
		if st != http.StatusOK || string(got) != "echo:"+body {
			t.Fatalf("post %d: status %d body %q", i, st, got)
		}
	}
	// one, two and close share the first connection; three needs a second.
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}

	st, _, err := wc.post(ctx, "/network/v1/authorisations", []byte("wrong secret"), []byte("x"))
	if err != nil || st != http.StatusUnauthorized {
		t.Errorf("wrong secret: status %d, err %v; want 401", st, err)
	}

	srv.Close()
	if _, _, err := wc.post(ctx, "/network/v1/authorisations", secret, []byte("gone")); err == nil {
		t.Error("post to a closed server: no error")
	}
	if _, err := newWireConn("ftp://example.test", time.Second); err == nil {
		t.Error("ftp URL accepted")
	}
}
