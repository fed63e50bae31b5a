package main

import (
	"context"
	"database/sql"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardportal/cardportal/network"
)

// TestApprovalsSurviveSIGKILL is issue 5's durability proof: it builds the program,
// runs it as a child process on SQLite, sends signed authorisations from many
// clients, kills the child with SIGKILL in the middle of the stream, starts it again
// on the same data directory, and checks that every message answered "approved" before
// the kill has its hold in the ledger and its answer stored, and answers the same on a
// resend. (SIGKILL is a crash of the process, not of the machine: with SQLite's
// synchronous=NORMAL a power cut could still lose the last commits; that is the
// engine's setting, not this test's subject.)
func TestApprovalsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	bin := buildProgram(t)
	dir := t.TempDir()
	env := []string{"CARDPORTAL_NETWORK_SECRET=" + testNetworkSecret}
	args := []string{"-demo-size", "12", "-velocity-count", "0", "-velocity-amount", "0"}
	ctx := t.Context()
	srv, err := startServerChild(ctx, bin, dir, "", env, args...)
	if err != nil {
		t.Fatal(err)
	}
	target := loadTarget{url: srv.url, secret: []byte(testNetworkSecret)}
	for _, c := range srv.cards {
		target.cards = append(target.cards, loadCard{pan: c.pan, exp: c.exp})
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 5 * time.Second}

	var (
		mu        sync.Mutex
		approved  = map[string][]byte{} // message id -> the request answered approved
		afterKill int                   // requests that failed once the server was gone
		wg        sync.WaitGroup
		stop      = make(chan struct{})
	)
	for w := range 32 {
		wg.Go(func() {
			rnd := mrand.New(mrand.NewPCG(uint64(w), 7))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("kill-%d-%d", w, n)
				body := target.body(rnd, id)
				code, err := target.send(context.Background(), client, body)
				mu.Lock()
				if err != nil {
					afterKill++
				} else if code == "00" {
					approved[id] = body
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	// Kill once a good number of approvals were answered, while requests are in flight.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(approved)
		mu.Unlock()
		if n >= 2000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = srv.cmd.Wait()
	close(stop)
	wg.Wait()
	mu.Lock()
	t.Logf("%d approvals answered before SIGKILL; %d requests failed after it", len(approved), afterKill)
	if len(approved) < 100 || afterKill == 0 {
		mu.Unlock()
		t.Fatalf("the kill did not land in the middle of a busy stream (%d approved, %d failed)", len(approved), afterKill)
	}
	mu.Unlock()

	// Restart on the same directory; the database must open and hold every approval.
	srv2, err := startServerChild(ctx, bin, dir, "", env, args...)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer srv2.stop()
	db, err := sql.Open("sqlite", filepath.Join(dir, "cardportal.db")+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	held := map[string]bool{}
	rows, err := db.QueryContext(ctx, `
SELECT m.message_id FROM network_messages m
  JOIN authorisations a ON a.message_id = m.message_id
  JOIN postings p ON p.id = a.posting_id AND p.idempotency_key = 'auth:' || m.message_id AND p.status = 'pending'
 WHERE m.response LIKE '%"response_code":"00"%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		held[id] = true
	}
	rows.Close()
	var lost []string
	for id := range approved {
		if !held[id] {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		t.Fatalf("%d of %d answered approvals are not in the ledger after the restart, e.g. %s", len(lost), len(approved), strings.Join(lost[:min(5, len(lost))], ", "))
	}
	t.Logf("all %d answered approvals are held in the ledger (%d approvals stored in all)", len(approved), len(held))

	// And the restarted server answers a resend of them from what it stored.
	target.url = srv2.url
	n := 0
	for id, body := range approved {
		if n++; n > 20 {
			break
		}
		var r network.Response
		st, err := signedPost(ctx, client, target.url+"/network/v1/authorisations", target.secret, body, &r)
		if err != nil || st != http.StatusOK || !r.Approved || r.MessageID != id {
			t.Errorf("resend of %s after restart: %d %+v %v", id, st, r, err)
		}
	}
}
