package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/demo"
)

// simulateFlags configure the demo's card-network simulator (SPEC PL7, demo.Simulator).
type simulateFlags struct {
	PerMinute  int           // messages per minute; 0 leaves the simulator off in serve
	ClearAfter time.Duration // how long an approval waits for its clearing
}

func (s *simulateFlags) flags(e *envFlags) {
	e.integer(&s.PerMinute, "simulate-per-minute", 0, "send this many simulated card-network messages per minute to the demo accounts (0: off; the simulate command's default is 30)")
	e.duration(&s.ClearAfter, "simulate-clear-after", 24*time.Hour, "how long a simulated approval waits for its clearing")
}

func (s simulateFlags) validate() error {
	if s.PerMinute < 0 || s.PerMinute > 60_000 {
		return errors.New("simulate-per-minute must be 0..60000")
	}
	if s.ClearAfter <= 0 {
		return errors.New("simulate-clear-after must be positive")
	}
	return nil
}

// simulateCmd is "cardportal simulate [flags]": plays the card network for the demo
// issuer of a running server, addressed by -addr, with the same data directory (for
// the key file and the network secret) and demo flags the server started with.
func simulateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseConfig("cardportal simulate", args, getenv, stderr)
	if err != nil {
		return err
	}
	if c.Simulate.PerMinute == 0 {
		c.Simulate.PerMinute = 30
	}
	log := newLogger(stderr, c.LogLevel)
	keys, err := loadKeys(c.KeysFile, false, log)
	if err != nil {
		return fmt.Errorf("the server's key file is needed to compute the demo cards' codes: %w", err)
	}
	hsm, err := cardcrypto.NewSoft(keys)
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || port == "0" {
		return fmt.Errorf("-addr %q: the running server's host:port is needed", c.Addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	sim, err := newSimulator(c, hsm, scheme+"://"+net.JoinHostPort(host, port), log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "simulating the card network at %s: %d messages a minute for %d demo cards; stop with Ctrl-C\n",
		sim.URL, c.Simulate.PerMinute, len(sim.Cards))
	return sim.Run(ctx)
}

// newSimulator builds the simulator for the demo issuer the configuration describes.
func newSimulator(c config, hsm cardcrypto.HSM, url string, log *slog.Logger) (*demo.Simulator, error) {
	secret, _, err := networkSecret(c, log)
	if err != nil {
		return nil, err
	}
	cards, err := demo.Cards(c.DemoSeed, time.Now(), hsm, c.DemoSize)
	if err != nil {
		return nil, err
	}
	return &demo.Simulator{
		URL: url, Secret: secret, Rate: float64(c.Simulate.PerMinute) / 60, ClearAfter: c.Simulate.ClearAfter,
		Cards: cards, Seed: c.DemoSeed, Log: log.With("component", "simulator"),
	}, nil
}
