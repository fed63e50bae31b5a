package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cardportal/cardportal/alerts"
	"github.com/cardportal/cardportal/api"
	"github.com/cardportal/cardportal/authorize"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/cardservice"
	"github.com/cardportal/cardportal/demo"
	"github.com/cardportal/cardportal/details"
	"github.com/cardportal/cardportal/disputes"
	"github.com/cardportal/cardportal/identity"
	"github.com/cardportal/cardportal/notify"
	"github.com/cardportal/cardportal/offers"
	"github.com/cardportal/cardportal/passhash"
	"github.com/cardportal/cardportal/payment"
	"github.com/cardportal/cardportal/postgres"
	"github.com/cardportal/cardportal/rewards"
	"github.com/cardportal/cardportal/safehttp"
	"github.com/cardportal/cardportal/sqlite"
	"github.com/cardportal/cardportal/sqlstore"
	"github.com/cardportal/cardportal/statement"
	"github.com/cardportal/cardportal/web"
)

// app is the wired program: what serve runs and what bench measures.
type app struct {
	cfg     config
	log     *slog.Logger
	store   *sqlstore.Store
	hsm     cardcrypto.HSM
	hasher  *passhash.Hasher
	ident   *identity.Service
	handler http.Handler
	cards   []demo.DemoCard

	// delivery runs the notification queue; nil when notices stay in the outbox.
	delivery *delivery
	// stopping is closed when shutdown begins, to end the web's live streams.
	stopping chan struct{}
	// payments runs payments and the payment job (SPEC AC4).
	payments *payment.Service
	// alerts keeps alert preferences and runs the payment-due job (SPEC AC12).
	alerts *alerts.Service
	// disputes opens and resolves disputes (SPEC AC13; disputes.go resolves them).
	disputes *disputes.Service
	// statements closes cycles and serves statements (SPEC AC3, statements.go).
	statements *statement.Service
	// auth decides the card network's messages (SPEC AC15, network.go); networkSecret
	// says where its secret came from.
	auth          *authorize.Service
	networkSecret string
	// rewards and offers run points, offers and benefits (SPEC AC5, AC6, rewards.go).
	rewards *rewards.Service
	offers  *offers.Service
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// build opens storage, loads keys and demo data and wires the surfaces.
func build(ctx context.Context, c config, log *slog.Logger) (*app, error) {
	a := &app{cfg: c, log: log, stopping: make(chan struct{})}
	var err error
	if c.DatabaseURL != "" {
		a.store, err = postgres.Open(ctx, c.DatabaseURL)
	} else {
		if err = os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		a.store, err = sqlite.Open(ctx, filepath.Join(c.DataDir, "cardportal.db"), sqlite.WithLogger(log))
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	fail := func(err error) (*app, error) { a.store.Close(); return nil, err }

	hasData, err := a.store.HasIssuerData(ctx)
	if err != nil {
		return fail(fmt.Errorf("inspect database: %w", err))
	}
	keys, err := loadKeys(c.KeysFile, !hasData, log)
	if err != nil {
		return fail(err)
	}
	if a.hsm, err = cardcrypto.NewSoft(keys); err != nil {
		return fail(fmt.Errorf("keys: %w", err))
	}
	now := time.Now
	if c.Demo {
		cards, loaded, err := demo.Seed(ctx, a.store, a.hsm, c.DemoSeed, now(), c.DemoSize)
		if err != nil {
			return fail(fmt.Errorf("demo data: %w", err))
		}
		if loaded {
			log.Info("loaded demo issuer", "accounts", c.DemoSize)
		}
		a.cards = cards
	}
	params := passhash.Params{Memory: uint32(c.ArgonMemory), Time: uint32(c.ArgonTime), Threads: uint8(c.ArgonThreads), SaltLen: 16, KeyLen: 32}
	if a.hasher, err = passhash.NewHasher(params, c.HashConcurrency); err != nil {
		return fail(fmt.Errorf("password hashing: %w", err))
	}
	// Without a configured transport every notice goes to the outbox; -dev-outbox
	// only decides whether the outbox page is served.
	notifier, queue, err := newDelivery(c.Delivery, a.store, log, now)
	if err != nil {
		return fail(err)
	}
	a.delivery = queue
	icfg := identity.DefaultConfig
	icfg.Password.MinLength = c.PasswordMinChars
	icfg.Password.MaxAge = c.PasswordMaxAge
	icfg.LicenceVersion = c.LicenceVersion
	icfg.MaxFailures = c.MaxFailures
	icfg.LockFor = c.LockFor
	icfg.WebIdle, icfg.AppIdle, icfg.SessionLife = c.WebIdle, c.AppIdle, c.SessionLife
	icfg.SignInPerSource = c.SignInLimit
	icfg.MFA.TrustFor = c.TrustDeviceFor
	icfg.MFA.NoQuestionFallback = !c.QuestionFallback
	icfg.Recovery.PublicURL = c.publicURL()
	a.ident = identity.NewService(a.store, a.hsm, a.hasher, notifier, icfg, now, log)
	cards := cardservice.New(a.store, a.hsm, a.ident, notifier, cardservice.DefaultConfig, now, log)
	// Personal details, alerts and disputes (SPEC AC11-AC13).
	personal := details.New(a.store, a.ident, notifier, now, log)
	a.alerts = alerts.New(a.store, notifier, now, log)
	a.disputes = disputes.New(a.store, a.store, a.store, a.ident, notifier, now, log)
	a.payments = payment.New(a.store, a.store, a.hsm, notifier, payment.DefaultConfig, now, log)
	paymentAlerts(a.payments, a.alerts, log) // payments.go
	a.statements = statement.New(a.store, a.store, notifier, statement.DefaultRules, now, log)
	statementAlerts(a.statements, a.alerts, log) // statements.go
	if a.rewards, a.offers, err = buildRewards(ctx, c, a.store, now, log); err != nil {
		return fail(fmt.Errorf("rewards: %w", err))
	}

	var outbox notify.OutboxStore
	if c.outboxPage() {
		outbox = a.store
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := safehttp.NewMetrics(reg)
	a.delivery.register(reg)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.store.Ping(ctx); err != nil {
			log.ErrorContext(ctx, "readiness", "err", err)
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/api/", safehttp.Headers("default-src 'none'; frame-ancestors 'none'", c.BehindTLS,
		api.NewHandler(api.Deps{Identity: a.ident, Accounts: a.store, Ledger: a.store, Log: log, Now: now, Cards: cards,
			Payments: a.payments, Details: personal, Alerts: a.alerts, Disputes: a.disputes, Statements: a.statements,
			Rewards: a.rewards, Offers: a.offers})))
	mux.Handle("/", web.NewHandler(web.Deps{
		Identity: a.ident, Accounts: a.store, Ledger: a.store, Outbox: outbox, Log: log, Now: now,
		BehindTLS: c.BehindTLS || c.TLSCert != "", Maintenance: c.Maintenance,
		Cards: cards, Payments: a.payments, Stopping: a.stopping,
		Details: personal, Alerts: a.alerts, Disputes: a.disputes, Statements: a.statements,
		Rewards: a.rewards, Offers: a.offers,
	}))
	// The card network's interface: its own handler and credentials (network.go).
	if a.auth, a.networkSecret, err = buildNetwork(c, a.store, a.hsm, purchaseAlerts{&alerts.Purchases{Alerts: a.alerts, Cards: a.store, Log: log}}, now, log, mux); err != nil {
		return fail(err)
	}
	a.handler = safehttp.Observe(safehttp.Options{Log: log, TrustForwarded: c.TrustForwarded, Metrics: metrics}, mux)
	return a, nil
}

// loadKeys reads the HSM key file, creating it only when the database holds no card
// data yet: new keys for existing data would make every card unreadable.
func loadKeys(path string, mayCreate bool, log *slog.Logger) (cardcrypto.Keys, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := cardcrypto.DecodeKeys(b)
		if err != nil {
			return cardcrypto.Keys{}, fmt.Errorf("keys file %s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return cardcrypto.Keys{}, fmt.Errorf("keys file: %w", err)
	}
	if !mayCreate {
		return cardcrypto.Keys{}, fmt.Errorf("keys file %s is missing but the database already holds card data sealed with other keys", path)
	}
	k, err := cardcrypto.GenerateKeys()
	if err != nil {
		return cardcrypto.Keys{}, err
	}
	b, err = cardcrypto.EncodeKeys(k)
	if err != nil {
		return cardcrypto.Keys{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return cardcrypto.Keys{}, fmt.Errorf("keys file: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return cardcrypto.Keys{}, fmt.Errorf("keys file: %w", err)
	}
	log.Warn("generated new development keys; production keys belong in an HSM", "file", path)
	return k, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseConfig("cardportal serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, c.LogLevel)
	if limit := c.memoryLimit(getenv, runtime.GOMAXPROCS(0)); limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	if p := c.gcPercent(getenv); p > 0 {
		debug.SetGCPercent(p)
	}
	a, err := build(ctx, c, log)
	if err != nil {
		return err
	}
	defer a.store.Close()
	defer a.auth.Close() // before the store closes: hands the last decisions to the observer
	// Deferred after Close, so it runs first: the runner finishes its job in hand
	// before the database goes away.
	defer a.delivery.start(ctx)()
	// Once before listening, so the demo's year of history has its points from the
	// first page on; then every rewardsSweepEvery.
	sweepRewards(ctx, a.rewards, a.offers, log)

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(func() { close(a.stopping) })
	// Passkeys are bound to the origin, which with port 0 is known only now.
	if !c.Passkey.Off {
		if err := a.ident.EnablePasskeys(c.passkeyConfig(ln.Addr())); err != nil {
			ln.Close()
			return err
		}
	}
	printBanner(stdout, scheme+"://"+ln.Addr().String(), a.cards)
	log.Info("listening", "addr", ln.Addr().String())
	go purgeEvery(ctx, a.store, 10*time.Minute, log)
	go runRewardsEvery(ctx, a.rewards, a.offers, rewardsSweepEvery, log) // rewards.go
	fmt.Fprintf(stdout, "card network interface at %s/network/v1 (openapi at /network/openapi.json; secret: %s)\n",
		scheme+"://"+ln.Addr().String(), a.networkSecret)
	go a.auth.Sweep(ctx, c.Network.SweepEvery)               // authorisation holds past their time
	go runPaymentsEvery(ctx, a.payments, 5*time.Minute, log) // payments.go
	// Hourly, so a restart or a clock change never skips a day; each alert goes once.
	go a.alerts.RunDaily(ctx, time.Hour)
	defer startStatements(ctx, a.store, a.statements, time.Now, log)() // statements.go
	if c.Demo && c.Simulate.PerMinute > 0 {
		// The demo's living issuer (SPEC PL7): the simulator plays the card network
		// against this instance's own interface.
		sim, err := newSimulator(c, a.hsm, scheme+"://"+ln.Addr().String(), log) // simulate.go
		if err != nil {
			ln.Close()
			return err
		}
		fmt.Fprintf(stdout, "simulating the card network: %d messages a minute\n", c.Simulate.PerMinute)
		go func() {
			if err := sim.Run(ctx); err != nil {
				log.Error("simulator", "err", err)
			}
		}()
	}

	errc := make(chan error, 1)
	go func() {
		if c.TLSCert != "" {
			errc <- srv.ServeTLS(ln, c.TLSCert, c.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	log.Info("shutting down")
	return srv.Shutdown(shutdown)
}

// printBanner tells a newcomer where the server is and which fictional cards they can
// register. It goes to stdout, never to the log.
func printBanner(w io.Writer, url string, cards []demo.DemoCard) {
	fmt.Fprintf(w, "cardportal listening on %s\n", url)
	if len(cards) == 0 {
		return
	}
	fmt.Fprintln(w, "\nDemo cards you can register (fictional; generated for this demo):")
	for _, c := range cards {
		role := "basic card member"
		if !c.Basic {
			role = "additional card member (basic member born " + c.BasicBirthDate.Format("2006-01-02") + ")"
		}
		fmt.Fprintf(w, "  %s\n    card %s  code %s  expires %s  born %s  national ID last 4 %s\n    %s, %s\n    billing postcode %s\n",
			c.Name, c.PAN.Digits(), c.Code.Digits(), c.Expiry, c.BirthDate.Format("2006-01-02"), c.NationalIDLast4, c.Product, role, c.Postcode)
	}
	fmt.Fprintln(w)
}

// purgeEvery deletes ended throttle windows, flows and sessions now and then, so the
// tables that every sign-in touches stay small. Every instance may run it.
func purgeEvery(ctx context.Context, s *sqlstore.Store, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.Purge(ctx, time.Now(), 30*24*time.Hour); err != nil && ctx.Err() == nil {
			log.Error("purge", "err", err)
		} else if n > 0 {
			log.Info("purged ended rows", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
