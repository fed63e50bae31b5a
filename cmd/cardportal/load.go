package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cardportal/cardportal/network"
)

// loadCmd measures the card network's interface (SPEC AC15, issue 5): signed
// authorisation requests through real HTTP at rising target rates, each step reporting
// decisions/s, approvals/s, p50/p99/p999 latency and the server's RSS. Requests are
// sent open-loop: request i of a step is due at start + i/rate, and its latency is
// counted from when it was due, so a server that falls behind shows it in the tail
// instead of silently slowing the sender (no coordinated omission).
//
// By default it starts the server itself on a fresh SQLite database (or on -postgres,
// an empty PostgreSQL database) with velocity rules off, and uses the printed demo
// cards; -url targets a running server instead, with -network-secret and -card.
// Amounts are 1-3 cents, so the demo accounts' credit lasts for some hundred
// thousand approvals and the run measures approvals, not declines for lack of credit.
func loadCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cardportal load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rates := fs.String("rates", "500,1000,2000,3000,4000,5000", "target requests/s of each step")
	dur := fs.Duration("duration", 5*time.Second, "length of each step")
	conc := fs.Int("concurrency", 64, "most requests in flight")
	warm := fs.Duration("warmup", 2*time.Second, "unreported warm-up at up to 500/s before the steps")
	pg := fs.String("postgres", "", "PostgreSQL DSN of an EMPTY database (default: SQLite in a temp dir)")
	url := fs.String("url", "", "target a running server instead of starting one")
	secret := fs.String("network-secret", getenv("CARDPORTAL_NETWORK_SECRET"), "the server's network secret (with -url)")
	var cardsFlag multiFlag
	fs.Var(&cardsFlag, "card", "card number and expiry as PAN:MM/YY (with -url; repeat)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var steps []int
	for f := range strings.SplitSeq(*rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return fmt.Errorf("-rates: %q is not a positive integer", f)
		}
		steps = append(steps, n)
	}

	var (
		target loadTarget
		srv    *child
	)
	if *url == "" {
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		target.secret = []byte(hex.EncodeToString(raw))
		var err error
		srv, err = startLoadChild(ctx, *pg, string(target.secret))
		if err != nil {
			return err
		}
		defer srv.stop()
		target.url = srv.url
		for _, c := range srv.cards {
			target.cards = append(target.cards, loadCard{pan: c.pan, exp: c.exp})
		}
	} else {
		target.url, target.secret = strings.TrimRight(*url, "/"), []byte(*secret)
		for _, c := range cardsFlag {
			pan, exp, ok := strings.Cut(c, ":")
			if !ok {
				return fmt.Errorf("-card wants PAN:MM/YY")
			}
			target.cards = append(target.cards, loadCard{pan: pan, exp: exp})
		}
	}
	if len(target.cards) == 0 || len(target.secret) == 0 {
		return errors.New("no cards or no network secret to send with")
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc + 8, MaxConnsPerHost: *conc + 8}, Timeout: 10 * time.Second}
	engine := "sqlite"
	if *pg != "" {
		engine = "postgres"
	}
	fmt.Fprintf(stdout, "authorisations through %s/network/v1 (%s, %d cards, %d in flight at most)\n", target.url, engine, len(target.cards), *conc)
	var seq atomic.Int64
	// Cards that decline a first small purchase (the demo shows a card not yet
	// activated) would only measure declines; they are left out.
	var usable []loadCard
	for _, cd := range target.cards {
		one := loadTarget{url: target.url, secret: target.secret, cards: []loadCard{cd}}
		code, err := one.authorise(ctx, client, mrand.New(mrand.NewPCG(1, 2)), fmt.Sprintf("load-probe-%d-%s", time.Now().UnixNano(), cd.pan[len(cd.pan)-4:]))
		if err != nil {
			return fmt.Errorf("probe: %w", err)
		}
		if code == "00" {
			usable = append(usable, cd)
		}
	}
	if len(usable) == 0 {
		return errors.New("no card approves a small purchase")
	}
	fmt.Fprintf(stdout, "%d of %d cards approve; sending with those\n", len(usable), len(target.cards))
	target.cards = usable
	// Warm up (connections, caches, prepared statements) without reporting it.
	if *warm > 0 {
		target.step(ctx, min(500, steps[0]), *warm, *conc, &seq)
	}
	for _, rate := range steps {
		cpu0, self0 := srv.cpu(), procCPU("self")
		h0, _ := serverHistogram(ctx, client, target.url) // best effort: a -url server may not expose it
		res := target.step(ctx, rate, *dur, *conc, &seq)
		h1, _ := serverHistogram(ctx, client, target.url)
		perDecision := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(max(res.decided, 1)) }
		rss := ""
		if srv != nil {
			rss = fmt.Sprintf("  server RSS %.0f MiB (peak %.0f), CPU %.0f µs/decision", float64(srv.rss("VmRSS:"))/(1<<20), float64(srv.rss("VmHWM:"))/(1<<20),
				perDecision(srv.cpu()-cpu0))
		}
		// The generator's own CPU: on one machine it is taken from the server's.
		rss += fmt.Sprintf(", load generator CPU %.0f µs/decision", perDecision(procCPU("self")-self0))
		fmt.Fprintf(stdout, "target %5d/s: %s%s%s\n", rate, res, serverLatency(h1, h0), rss)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

type loadCard struct{ pan, exp string }

type loadTarget struct {
	url    string
	secret []byte
	cards  []loadCard
}

type stepResult struct {
	codes                           map[string]int
	sent, decided, approved, errors int
	elapsed                         time.Duration
	p50, p99, p999, max             time.Duration
	firstErr                        error
}

func (r stepResult) String() string {
	s := fmt.Sprintf("%7.0f decisions/s %7.0f approvals/s  p50 %v  p99 %v  p999 %v  max %v  (%d errors)",
		float64(r.decided)/r.elapsed.Seconds(), float64(r.approved)/r.elapsed.Seconds(),
		r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.p999.Round(10*time.Microsecond), r.max.Round(10*time.Microsecond), r.errors)
	codes := slices.Sorted(maps.Keys(r.codes))
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%s:%d", c, r.codes[c]))
	}
	s += "  codes " + strings.Join(parts, " ")
	if r.firstErr != nil {
		s += " first error: " + r.firstErr.Error()
	}
	return s
}

// step sends rate requests/s for dur, open-loop, from at most conc workers.
func (t *loadTarget) step(ctx context.Context, rate int, dur time.Duration, conc int, seq *atomic.Int64) stepResult {
	total := int(float64(rate) * dur.Seconds())
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	var (
		next     atomic.Int64
		mu       sync.Mutex
		lat      []time.Duration
		res      stepResult
		wg       sync.WaitGroup
		approved atomic.Int64
	)
	res.codes = map[string]int{}
	for range conc {
		wg.Go(func() {
			wc, err := newWireConn(t.url, 10*time.Second)
			if err != nil {
				mu.Lock()
				res.firstErr = err
				mu.Unlock()
				return
			}
			defer wc.close()
			var mine []time.Duration
			codes := map[string]int{}
			var errs int
			var first error
			rnd := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 1))
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(total) {
					break
				}
				due := start.Add(time.Duration(i) * interval)
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				}
				code, err := t.sendOn(ctx, wc, t.body(rnd, fmt.Sprintf("load-%d-%d", start.UnixNano(), seq.Add(1))))
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				mine = append(mine, time.Since(due))
				codes[code]++
				if code == "00" {
					approved.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			res.errors += errs
			for k, v := range codes {
				res.codes[k] += v
			}
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.decided, res.approved, res.sent = len(lat), int(approved.Load()), total
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		res.p50, res.p99, res.p999, res.max = lat[n*50/100], lat[n*99/100], lat[n*999/1000], lat[n-1]
	}
	return res
}

// authorise sends one signed authorisation request and returns its response code.
func (t *loadTarget) authorise(ctx context.Context, c *http.Client, rnd *mrand.Rand, id string) (string, error) {
	return t.send(ctx, c, t.body(rnd, id))
}

// body is an authorisation request of 1-3 cents at a random merchant with a random
// card of the target's.
func (t *loadTarget) body(rnd *mrand.Rand, id string) []byte {
	cd := t.cards[rnd.IntN(len(t.cards))]
	m := loadMerchants[rnd.IntN(len(loadMerchants))]
	body, _ := json.Marshal(network.AuthorisationRequest{
		MessageID: id, CardNumber: cd.pan, Expiry: cd.exp, Amount: 1 + rnd.Int64N(3), Currency: "USD",
		Channel: "in_person", Merchant: m,
	})
	return body
}

// send posts an authorisation request and returns its response code.
func (t *loadTarget) send(ctx context.Context, c *http.Client, body []byte) (string, error) {
	var r network.Response
	st, err := signedPost(ctx, c, t.url+"/network/v1/authorisations", t.secret, body, &r)
	return responseCode(st, err, r)
}

// sendOn is send through a worker's own connection.
func (t *loadTarget) sendOn(ctx context.Context, wc *wireConn, body []byte) (string, error) {
	st, b, err := wc.post(ctx, "/network/v1/authorisations", t.secret, body)
	var r network.Response
	if err == nil && st == http.StatusOK {
		err = json.Unmarshal(b, &r)
	}
	return responseCode(st, err, r)
}

func responseCode(status int, err error, r network.Response) (string, error) {
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("status %d", status)
	}
	return r.ResponseCode, nil
}

// signedPost posts body signed for the network interface and decodes a 200 answer.
func signedPost(ctx context.Context, c *http.Client, url string, secret, body []byte, out any) (int, error) {
	ts := time.Now().Unix()
	nonce := rand.Text()
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(network.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(network.HeaderNonce, nonce)
	req.Header.Set(network.HeaderSignature, network.Sign(secret, ts, nonce, body))
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode == http.StatusOK && out != nil {
		return resp.StatusCode, json.Unmarshal(b, out)
	}
	return resp.StatusCode, nil
}

var loadMerchants = []network.Merchant{
	{Name: "Corner Grocery", MCC: "5411", City: "Seattle", Country: "US"},
	{Name: "Blue Bottle Coffee", MCC: "5814", City: "Oakland", Country: "US"},
	{Name: "Metro Transit", MCC: "4111", City: "Portland", Country: "US"},
	{Name: "Fuel Stop", MCC: "5541", City: "Boise", Country: "US"},
	{Name: "Book Nook", MCC: "5942", City: "Austin", Country: "US"},
}

// startLoadChild starts the server as a child process, like bench's, with the
// network secret in its environment (never on its command line, which ps shows) and
// velocity rules off.
func startLoadChild(ctx context.Context, dbURL, secret string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "cardportal-load-")
	if err != nil {
		return nil, err
	}
	return startServerChild(ctx, exe, dir, dbURL, []string{"CARDPORTAL_NETWORK_SECRET=" + secret},
		"-velocity-count", "0", "-velocity-amount", "0")
}

// startServerChild starts exe serve on the data directory dir and waits for its
// banner. The child's stop removes dir.
func startServerChild(ctx context.Context, exe, dir, dbURL string, env []string, extra ...string) (*child, error) {
	args := append([]string{"serve", "-addr", "127.0.0.1:0", "-data-dir", dir, "-demo-size", "50", "-log-level", "error"}, extra...)
	if dbURL != "" {
		args = append(args, "-database-url", dbURL)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GODEBUG", "GOMAXPROCS"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ch := &child{cmd: cmd, dir: dir}
	got := make(chan banner, 1)
	go readBanner(out, got)
	select {
	case b, ok := <-got:
		if !ok {
			ch.stop()
			return nil, errors.New("server exited before printing its address and demo cards")
		}
		ch.url, ch.cards = b.url, b.cards
	case <-time.After(60 * time.Second):
		ch.stop()
		return nil, errors.New("server did not start in 60s")
	}
	return ch, nil
}

// rss reads a memory line (VmRSS:, VmHWM:) of the child's /proc status, in bytes.
func (ch *child) rss(field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(ch.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, field) {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpu is the child's user+system CPU time so far (0 for no child).
func (ch *child) cpu() time.Duration {
	if ch == nil {
		return 0
	}
	return procCPU(strconv.Itoa(ch.cmd.Process.Pid))
}

// procCPU is a process's user+system CPU time so far, from /proc/<pid>/stat ("self"
// for this one); 0 where there is no /proc.
func procCPU(pid string) time.Duration {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name in parentheses; utime and stime are the 12th and
	// 13th of them, in clock ticks (100 per second on Linux).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}
