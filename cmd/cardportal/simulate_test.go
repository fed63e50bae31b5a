package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestServeWithSimulator is the living demo (SPEC PL7): started with the simulator
// on, the server's own card network interface receives purchases for the demo
// accounts, and a member sees new transactions arrive.
func TestServeWithSimulator(t *testing.T) {
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir(),
		"-simulate-per-minute", "6000", "-simulate-clear-after", "1s")...)
	tok := register(t, in, in.cards[0], "simulated.member")
	count := func() int {
		st, out := apiCall(t, "GET", in.url+"/api/v1/accounts", tok, nil)
		if st != http.StatusOK {
			t.Fatalf("accounts: %d %v", st, out)
		}
		id := out["accounts"].([]any)[0].(map[string]any)["account_id"]
		st, out = apiCall(t, "GET", in.url+"/api/v1/accounts/"+fmt.Sprint(id)+"/transactions?limit=100", tok, nil)
		if st != http.StatusOK {
			t.Fatalf("transactions: %d %v", st, out)
		}
		n := 0
		for _, x := range out["transactions"].([]any) {
			if at, _ := time.Parse(time.RFC3339, x.(map[string]any)["posted_at"].(string)); time.Since(at) < time.Hour {
				n++
			}
		}
		return n
	}
	// The demo's own history does not grow; only the simulator adds to it.
	base := count()
	deadline := time.Now().Add(60 * time.Second)
	for count() < base+3 {
		if time.Now().After(deadline) {
			t.Fatalf("no simulated purchases reached the member's account; log:\n%s", in.log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
