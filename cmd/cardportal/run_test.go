package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/cardportal/cardportal/cardportaltest"
)

// instance is one running program started through run, as main would.
type instance struct {
	url   string
	cards []benchCard
	log   *cardportaltest.LogBuffer
}

// fastArgs keep the tests quick: cheap hashes and a small demo issuer. Everything else
// is the real program.
var fastArgs = []string{"-addr", "127.0.0.1:0", "-demo-size", "12", "-argon-memory", "64", "-argon-time", "1"}

// start runs the program with args until the test ends and waits until it is ready.
func start(t *testing.T, env map[string]string, args ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	logs := &cardportaltest.LogBuffer{}
	getenv := func(k string) string { return env[k] }
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"cardportal", "serve"}, args...), getenv, pw, logs)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("server did not stop")
		}
	})
	got := make(chan banner, 1)
	go readBanner(pr, got)
	var b banner
	select {
	case bb, ok := <-got:
		if !ok {
			t.Fatalf("server stopped before it was ready; log:\n%s", logs)
		}
		b = bb
	case err := <-done:
		t.Fatalf("run: %v; log:\n%s", err, logs)
	case <-time.After(60 * time.Second):
		t.Fatal("server did not print its address")
	}
	waitReady(t, b.url)
	return &instance{url: b.url, cards: b.cards, log: logs}
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s/readyz never answered 200", url)
}

// apiCall sends a JSON request and decodes the JSON answer.
func apiCall(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: not JSON (%d): %.300s", method, url, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, out
}

const testPassword = "Correct-Horse-42-battery"

// register registers a demo card through the API and returns the session token.
func register(t *testing.T, in *instance, c benchCard, userID string) string {
	t.Helper()
	body := map[string]any{"card_number": c.pan, "cid": c.code, "expiry": c.exp, "name": c.name,
		"birth_date": c.born, "national_id_last4": c.nid}
	if c.basicBorn != "" {
		body["basic_birth_date"] = c.basicBorn
	}
	st, out := apiCall(t, "POST", in.url+"/api/v1/registration/card", "", body)
	if st != http.StatusCreated {
		t.Fatalf("registration/card: %d %v", st, out)
	}
	acceptLicence(t, in) // licence_test.go
	st, out = apiCall(t, "POST", in.url+"/api/v1/registration/complete", "", map[string]any{
		"flow_token": out["flow_token"], "user_id": userID, "password": testPassword, "password_confirm": testPassword,
		"client": "app", "device_id": testDevice, "security_questions": []map[string]string{
			{"question_id": "first_pet", "answer": "Rex"}, {"question_id": "birth_city", "answer": "Gothenburg"},
			{"question_id": "first_job", "answer": "Bakery"}},
	})
	if st != http.StatusCreated {
		t.Fatalf("registration/complete: %d %v", st, out)
	}
	tok, _ := out["token"].(string)
	if tok == "" {
		t.Fatalf("no token in %v", out)
	}
	return tok
}

// login signs in through the API from testDevice, completing a step-up with an email
// code from the outbox when one is asked for (SPEC ID7).
func login(t *testing.T, in *instance, userID, password string) (int, map[string]any) {
	t.Helper()
	acceptLicence(t, in) // licence_test.go
	st, out := apiCall(t, "POST", in.url+"/api/v1/sessions", "", map[string]any{"user_id": userID, "password": password, "client": "app", "device_id": testDevice})
	if st == http.StatusOK {
		return passStepUp(t, in, out)
	}
	return st, out
}

// TestFullRunKeepsSecretsOutOfLogs registers, signs in, fails, gets locked and reads
// the account through the real program, then scans everything it logged for the card
// numbers, codes, passwords and tokens that went through it.
func TestFullRunKeepsSecretsOutOfLogs(t *testing.T) {
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir(), "-log-level", "debug")...)
	if len(in.cards) < 2 {
		t.Fatalf("want demo cards printed, got %d", len(in.cards))
	}
	var secrets []string
	for i, c := range in.cards[:2] {
		tok := register(t, in, c, fmt.Sprintf("member.%d", i))
		secrets = append(secrets, c.pan, tok)
		st, out := apiCall(t, "GET", in.url+"/api/v1/accounts", tok, nil)
		if st != http.StatusOK {
			t.Fatalf("accounts: %d %v", st, out)
		}
	}
	// Three wrong passwords lock the first member; the right one is then refused too.
	for i := range 3 {
		st, _ := login(t, in, "member.0", fmt.Sprintf("Wrong-Password-%d!", i))
		if i < 2 && st != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: status %d, want 401", i+1, st)
		}
		if i == 2 && st != http.StatusLocked {
			t.Fatalf("third wrong password: status %d, want 423", st)
		}
	}
	if st, _ := login(t, in, "member.0", testPassword); st != http.StatusLocked {
		t.Fatalf("right password on a locked account: status %d, want 423", st)
	}
	st, out := login(t, in, "member.1", testPassword)
	if st != http.StatusCreated {
		t.Fatalf("login: %d %v", st, out)
	}
	secrets = append(secrets, out["token"].(string), testPassword, "Wrong-Password-0!")

	logs := in.log.String()
	if !strings.Contains(logs, `"route":"POST /api/v1/sessions"`) {
		t.Fatalf("expected access logs with route patterns; got:\n%.2000s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("log output contains a secret (%d chars, starting %.4s…)", len(s), s)
		}
	}
	// The CID must not appear as a JSON value either ("code":"1234" or similar).
	for _, c := range in.cards[:2] {
		if strings.Contains(logs, `"`+c.code+`"`) {
			t.Errorf("log output contains a card code as a value")
		}
	}
}

// TestLockNoticeReachesOutbox checks that a lockout notifies the member.
func TestLockNoticeReachesOutbox(t *testing.T) {
	in := start(t, nil, append(fastArgs, "-data-dir", t.TempDir())...)
	register(t, in, in.cards[0], "outbox.member")
	for range 3 {
		login(t, in, "outbox.member", "Not-The-Password-1")
	}
	resp, err := http.Get(in.url + "/dev/outbox")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "locked") {
		t.Fatalf("outbox (%d) should list the lock notice:\n%.3000s", resp.StatusCode, b)
	}
}

// TestConfigErrors checks that bad configuration stops the program with a clear error.
func TestConfigErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"lock failures": {"-lock-failures", "0"},
		"tls half":      {"-tls-cert", "x.pem"},
		"extra arg":     {"extra"},
		"log level":     {"-log-level", "loud"},
	} {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), append([]string{"cardportal", "serve"}, args...), func(string) string { return "" }, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("want an error")
			}
		})
	}
	t.Run("env", func(t *testing.T) {
		env := map[string]string{"CARDPORTAL_LOCK_DURATION": "soon"}
		err := run(context.Background(), []string{"cardportal"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "CARDPORTAL_LOCK_DURATION") {
			t.Fatalf("got %v, want an error naming the variable", err)
		}
	})
}

// postgresDSN returns a DSN for a fresh schema on the test PostgreSQL, or skips (fails
// in CI) when there is none.
func postgresDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("CARDPORTAL_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CARDPORTAL_TEST_POSTGRES must be set in CI")
		}
		t.Skip("CARDPORTAL_TEST_POSTGRES not set")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "e2e_" + hex.EncodeToString(b[:])
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err == nil {
			_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// TestTwoInstancesSharePostgres runs two programs on one PostgreSQL database: a
// session made on one works on the other, and failed passwords on both count towards
// one lock.
func TestTwoInstancesSharePostgres(t *testing.T) {
	dsn := postgresDSN(t)
	dir := t.TempDir() // both instances share the key file, as a deployment would
	a := start(t, nil, append(fastArgs, "-data-dir", dir, "-database-url", dsn)...)
	b := start(t, nil, append(fastArgs, "-data-dir", dir, "-database-url", dsn)...)

	tok := register(t, a, a.cards[0], "shared.member")
	if st, out := apiCall(t, "GET", b.url+"/api/v1/me", tok, nil); st != http.StatusOK {
		t.Fatalf("session from instance A on instance B: %d %v", st, out)
	}
	if st, _ := apiCall(t, "DELETE", b.url+"/api/v1/sessions/current", tok, nil); st != http.StatusNoContent {
		t.Fatalf("logout on B: %d", st)
	}
	if st, _ := apiCall(t, "GET", a.url+"/api/v1/me", tok, nil); st != http.StatusUnauthorized {
		t.Fatalf("session ended on B still works on A: %d", st)
	}

	login(t, a, "shared.member", "Wrong-Password-1!")
	login(t, b, "shared.member", "Wrong-Password-2!")
	if st, _ := login(t, a, "shared.member", "Wrong-Password-3!"); st != http.StatusLocked {
		t.Fatalf("third failure across instances: %d, want 423", st)
	}
	if st, _ := login(t, b, "shared.member", testPassword); st != http.StatusLocked {
		t.Fatalf("instance B does not see the lock: %d", st)
	}
}

func TestMemoryLimit(t *testing.T) {
	none := func(string) string { return "" }
	c := config{ArgonMemory: 19456}
	if got, want := c.memoryLimit(none, 2), int64(48<<20+2*19456<<10*2); got != want {
		t.Errorf("derived limit %d, want %d", got, want)
	}
	if four := c.memoryLimit(none, 4); four <= c.memoryLimit(none, 2) {
		t.Errorf("the limit should grow with the number of concurrent hashes: %d", four)
	}
	if got := c.gcPercent(none); got != 75 {
		t.Errorf("GOGC with the derived limit %d, want 75", got)
	}
	if got := c.gcPercent(func(k string) string { return map[string]string{"GOGC": "200"}[k] }); got != 0 {
		t.Errorf("GOGC from the environment should win, got %d", got)
	}
	c.MemoryLimitMiB = 300
	if got := c.gcPercent(none); got != 0 {
		t.Errorf("an explicit limit leaves GOGC alone, got %d", got)
	}
	if got := c.memoryLimit(none, 2); got != 300<<20 {
		t.Errorf("explicit limit %d", got)
	}
	if got := c.memoryLimit(func(k string) string { return map[string]string{"GOMEMLIMIT": "1GiB"}[k] }, 2); got != 0 {
		t.Errorf("GOMEMLIMIT should win, got %d", got)
	}
	c.MemoryLimitMiB = -1
	if got := c.memoryLimit(none, 2); got != 0 {
		t.Errorf("-1 should set no limit, got %d", got)
	}
}
