package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cardportal/cardportal/passhash"
)

// bench measures, in one run, the password-hash ceiling of this machine and what the
// server achieves against it over real HTTP: logins/s, authenticated requests/s, their
// latencies and the server's peak memory. The server runs as a child process so its
// memory is its own.
func bench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cardportal bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dur := fs.Duration("duration", 10*time.Second, "length of each measured phase (the ceiling and the login storm alternate in 4 windows)")
	loginC := fs.Int("login-concurrency", 2*runtime.GOMAXPROCS(0), "concurrent login clients (at most twice the demo cards printed, see below)")
	authC := fs.Int("auth-concurrency", 32, "concurrent authenticated clients")
	dbURL := fs.String("database-url", "", "PostgreSQL DSN of an EMPTY database (default: SQLite in a temp dir)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	params := passhash.DefaultParams
	hasher, err := passhash.NewHasher(params, 0)
	if err != nil {
		return err
	}

	srv, err := startChild(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer srv.stop()
	// Registration is set-up, not measured: net/http's client will do.
	users, err := registerDemoCards(ctx, &http.Client{Timeout: 30 * time.Second}, srv.url, srv.cards)
	if err != nil {
		return fmt.Errorf("register demo cards: %w", err)
	}
	// The measured phases give each worker a connection of its own (wireConn): this
	// client shares the cores with the server, and what it spends is taken from the
	// logins measured.
	loginConns, err := wireConns(srv.url, *loginC)
	if err != nil {
		return err
	}
	defer closeWireConns(loginConns)
	logins := make([][]byte, len(users))
	for i, u := range users {
		logins[i], _ = json.Marshal(map[string]string{"user_id": u, "password": benchPassword, "client": "app", "device_id": benchDevice})
	}

	// The ceiling (argon2id with the server's parameters on all cores, here in this
	// process) and the login storm through the server take turns in short windows:
	// this machine's speed drifts by a tenth or more over a minute, and measured one
	// after the other the ratio of the two showed the drift more than the server.
	var tokens sync.Map
	var tokenN atomic.Int64
	var ceilings, storms []loadResult
	// CPU time spent in each phase: this process's in the ceiling, the server's and
	// this process's (the client's) in the storm. Per hash and per login they show
	// where a login costs more than a hash.
	var ceilingCPU, serverCPU, clientCPU time.Duration
	for range benchRounds {
		window := *dur / benchRounds
		self0 := procCPU("self")
		ceilings = append(ceilings, load(ctx, runtime.GOMAXPROCS(0), window, func(int, int) error {
			_, err := hasher.Hash(ctx, []byte(benchPassword))
			return err
		}))
		self1, srv1 := procCPU("self"), srv.cpu()
		ceilingCPU += self1 - self0
		storms = append(storms, load(ctx, *loginC, window, func(i, n int) error {
			// Each worker signs in as one user: concurrent sign-ins of the same user
			// count against its lockout reservation (3 in flight look like 3 failures
			// until they finish), which is right for an account but would test the
			// wrong thing.
			st, b, err := loginConns[i].do(ctx, "POST", "/api/v1/sessions", benchHeader, logins[i%len(logins)])
			if err != nil {
				return err
			}
			if st != http.StatusCreated {
				return fmt.Errorf("POST /api/v1/sessions: status %d: %.200s", st, b)
			}
			var out struct{ Token string }
			if err := json.Unmarshal(b, &out); err != nil {
				return err
			}
			tokens.Store(tokenN.Add(1), out.Token)
			return nil
		}))
		serverCPU += srv.cpu() - srv1
		clientCPU += procCPU("self") - self1
	}
	ceiling, signIns := merge(ceilings), merge(storms)
	if ceiling.errors > 0 {
		return fmt.Errorf("hashing failed %d times: %w", ceiling.errors, ceiling.firstErr)
	}
	fmt.Fprintf(stdout, "argon2id m=%d t=%d p=%d ceiling: %.1f hashes/s on %d cores (windows: %s)\n",
		params.Memory, params.Time, params.Threads, ceiling.rate, runtime.GOMAXPROCS(0), rates(ceilings))
	fmt.Fprintf(stdout, "logins:        %s (%.0f%% of the hash ceiling; windows: %s)\n", signIns, 100*signIns.rate/ceiling.rate, rates(storms))
	perOp := func(d time.Duration, n int) float64 { return float64(d.Microseconds()) / 1000 / float64(max(n, 1)) }
	fmt.Fprintf(stdout, "CPU: %.1f ms per hash in the ceiling; per login %.1f ms in the server, %.2f ms in this client\n",
		perOp(ceilingCPU, ceiling.ok), perOp(serverCPU, signIns.ok), perOp(clientCPU, signIns.ok))
	rssLogin := srv.peakRSS()
	fmt.Fprintf(stdout, "server peak RSS after the login storm: %.1f MiB\n", float64(rssLogin)/(1<<20))

	// 4. Authenticated requests: session lookup + account summary.
	var toks []string
	tokens.Range(func(_, v any) bool { toks = append(toks, v.(string)); return len(toks) < 1000 })
	if len(toks) == 0 {
		return errors.New("no login succeeded")
	}
	authConns, err := wireConns(srv.url, *authC)
	if err != nil {
		return err
	}
	defer closeWireConns(authConns)
	auth := load(ctx, *authC, *dur, func(i, n int) error {
		h := append(benchHeader[:len(benchHeader):len(benchHeader)], "Authorization", "Bearer "+toks[(i*7+n)%len(toks)])
		st, b, err := authConns[i].do(ctx, "GET", "/api/v1/accounts", h, nil)
		if err != nil {
			return err
		}
		if st != http.StatusOK {
			return fmt.Errorf("GET /api/v1/accounts: status %d: %.200s", st, b)
		}
		return nil
	})
	fmt.Fprintf(stdout, "authenticated: %s\n", auth)
	fmt.Fprintf(stdout, "server peak RSS overall: %.1f MiB\n", float64(srv.peakRSS())/(1<<20))
	return nil
}

const benchPassword = "Bench-Password-2026"

// benchHeader is what the bench's requests carry, as the app's would.
var benchHeader = []string{"Content-Type", "application/json", "User-Agent", "cardportal-bench"}

func wireConns(url string, n int) ([]*wireConn, error) {
	cs := make([]*wireConn, n)
	for i := range cs {
		var err error
		if cs[i], err = newWireConn(url, 30*time.Second); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

func closeWireConns(cs []*wireConn) {
	for _, c := range cs {
		c.close()
	}
}

// benchRounds is how many windows the ceiling and the login storm alternate in.
const benchRounds = 4

type loadResult struct {
	ok, errors    int
	rate          float64
	p50, p99, max time.Duration
	firstErr      error
	lat           []time.Duration // sorted
	elapsed       time.Duration
}

// merge combines runs of one load as if they were one.
func merge(runs []loadResult) loadResult {
	var m loadResult
	for _, r := range runs {
		m.errors += r.errors
		m.elapsed += r.elapsed
		m.lat = append(m.lat, r.lat...)
		if m.firstErr == nil {
			m.firstErr = r.firstErr
		}
	}
	slices.Sort(m.lat)
	m.summarise()
	return m
}

// rates lists each run's rate, to show how much the windows differ.
func rates(runs []loadResult) string {
	s := make([]string, len(runs))
	for i, r := range runs {
		s[i] = strconv.FormatFloat(r.rate, 'f', 1, 64)
	}
	return strings.Join(s, " ")
}

func (r *loadResult) summarise() {
	r.ok = len(r.lat)
	r.rate = float64(len(r.lat)) / r.elapsed.Seconds()
	if len(r.lat) > 0 {
		r.p50 = r.lat[len(r.lat)*50/100]
		r.p99 = r.lat[len(r.lat)*99/100]
		r.max = r.lat[len(r.lat)-1]
	}
}

func (r loadResult) String() string {
	s := fmt.Sprintf("%8.1f/s  p50 %v  p99 %v  max %v  (%d ok, %d errors)", r.rate,
		r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.max.Round(10*time.Microsecond), r.ok, r.errors)
	if r.firstErr != nil {
		s += " first error: " + r.firstErr.Error()
	}
	return s
}

// load runs f from c workers for dur and reports successes per second and latencies.
func load(ctx context.Context, c int, dur time.Duration, f func(worker, n int) error) loadResult {
	var mu sync.Mutex
	var lat []time.Duration
	var res loadResult
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range c {
		wg.Go(func() {
			var mine []time.Duration
			var errs int
			var first error
			for n := 0; time.Now().Before(deadline) && ctx.Err() == nil; n++ {
				t := time.Now()
				if err := f(w, n); err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(lat)
	res.lat = lat
	res.summarise()
	return res
}

func postJSON(ctx context.Context, c *http.Client, url string, body any, want int, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("POST %s: status %d: %.200s", url[strings.Index(url, "/api"):], resp.StatusCode, rb)
	}
	if out != nil {
		return json.Unmarshal(rb, out)
	}
	return nil
}

// benchCard is a printed demo card parsed back from the child's banner.
type benchCard struct{ pan, code, exp, name, born, nid, basicBorn, postcode string }

type child struct {
	cmd   *exec.Cmd
	url   string
	cards []benchCard
	dir   string
}

// startChild starts the server for the bench as a child process (startServerChild),
// with the per-address sign-in throttle out of the way of one client's login storm.
func startChild(ctx context.Context, dbURL string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "cardportal-bench-")
	if err != nil {
		return nil, err
	}
	return startServerChild(ctx, exe, dir, dbURL, nil, "-signin-per-source", "100000000")
}

// banner is what printBanner printed, parsed back: the URL and the demo cards.
type banner struct {
	url   string
	cards []benchCard
}

// readBanner parses printBanner's output and sends it on got once the blank line after
// the cards arrives; it then keeps draining r so the server never blocks on stdout.
func readBanner(r io.Reader, got chan<- banner) {
	sc := bufio.NewScanner(r)
	var b banner
	var name string
	var cur *benchCard
	sent := false
	for sc.Scan() {
		if sent {
			continue
		}
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "cardportal listening on "):
			b.url = strings.TrimPrefix(line, "cardportal listening on ")
		case strings.HasPrefix(line, "card "):
			// card PAN code CODE expires MM/YY born DATE national ID last 4 NNNN
			if f := strings.Fields(line); len(f) >= 12 {
				cur = &benchCard{pan: f[1], code: f[3], exp: f[5], born: f[7], nid: f[len(f)-1], name: name}
			}
		case strings.HasPrefix(line, "billing postcode ") && len(b.cards) > 0:
			b.cards[len(b.cards)-1].postcode = strings.TrimPrefix(line, "billing postcode ")
		case cur != nil:
			if i := strings.Index(line, "basic member born "); i >= 0 {
				cur.basicBorn = strings.TrimSuffix(line[i+len("basic member born "):], ")")
			}
			b.cards = append(b.cards, *cur)
			cur = nil
		case line == "" && b.url != "" && len(b.cards) > 0:
			sent = true
			got <- b
		default:
			name = line
		}
	}
	if !sent {
		close(got)
	}
}

func (ch *child) peakRSS() int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(ch.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (ch *child) stop() {
	if ch.cmd.Process != nil {
		_ = ch.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = ch.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = ch.cmd.Process.Kill()
		}
	}
	os.RemoveAll(ch.dir)
}

// benchDevice is the app installation the bench registers and signs in from; the
// registering device is trusted, so the login storm measures passwords, not step-up.
const benchDevice = "bench-device-000000001"

func registerDemoCards(ctx context.Context, c *http.Client, base string, cards []benchCard) ([]string, error) {
	// The app installation accepts the licence agreement before its first session
	// (SPEC ID12); the bench's server runs with the default version.
	accept := map[string]string{"version": defaultLicenceVersion, "device_id": benchDevice}
	if err := postJSON(ctx, c, base+"/api/v1/licence/accept", accept, http.StatusNoContent, nil); err != nil {
		return nil, err
	}
	var users []string
	for i, cd := range cards {
		var flow struct {
			FlowToken string `json:"flow_token"`
		}
		body := map[string]string{"card_number": cd.pan, "cid": cd.code, "expiry": cd.exp, "name": cd.name,
			"birth_date": cd.born, "national_id_last4": cd.nid}
		if cd.basicBorn != "" {
			body["basic_birth_date"] = cd.basicBorn
		}
		if err := postJSON(ctx, c, base+"/api/v1/registration/card", body, http.StatusCreated, &flow); err != nil {
			return nil, err
		}
		user := fmt.Sprintf("bench.user%d", i+1)
		complete := map[string]any{"flow_token": flow.FlowToken, "user_id": user, "password": benchPassword,
			"password_confirm": benchPassword, "client": "app", "device_id": benchDevice, "security_questions": []map[string]string{
				{"question_id": "first_pet", "answer": "Rex the dog"},
				{"question_id": "birth_city", "answer": "Springfield"},
				{"question_id": "first_school", "answer": "Lincoln Elementary"},
			}}
		if err := postJSON(ctx, c, base+"/api/v1/registration/complete", complete, http.StatusCreated, nil); err != nil {
			return nil, err
		}
		users = append(users, user)
	}
	return users, nil
}
