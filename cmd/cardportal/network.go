package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cardportal/cardportal/authorize"
	"github.com/cardportal/cardportal/cardcrypto"
	"github.com/cardportal/cardportal/network"
	"github.com/cardportal/cardportal/sqlstore"
)

// networkFlags configure the card network's interface and the authorisation policy
// (SPEC AC15, package authorize and network).
type networkFlags struct {
	// Secret is the HMAC key shared with the network. Empty: the development secret
	// in data-dir/network-secret, created on first start (mode 0600) and named, not
	// printed, at start-up.
	Secret         string
	HoldDays       int
	VelocityCount  int
	VelocityAmount int
	VelocityWindow time.Duration
	SweepEvery     time.Duration
}

func (n *networkFlags) flags(e *envFlags) {
	e.str(&n.Secret, "network-secret", "", "HMAC secret shared with the card network, at least 32 characters (default: generated into data-dir/network-secret)")
	e.integer(&n.HoldDays, "hold-days", 7, "days an authorisation hold stays open without clearing")
	e.integer(&n.VelocityCount, "velocity-count", authorize.DefaultConfig.VelocityCount, "approvals per card per velocity window (0: no limit)")
	e.integer(&n.VelocityAmount, "velocity-amount", int(authorize.DefaultConfig.VelocityAmount), "approved minor units per card per velocity window (0: no limit)")
	e.duration(&n.VelocityWindow, "velocity-window", authorize.DefaultConfig.VelocityWindow, "velocity window")
	e.duration(&n.SweepEvery, "hold-sweep", 10*time.Minute, "how often expired holds are released")
}

func (n networkFlags) validate() error {
	var errs []error
	if n.Secret != "" && len(n.Secret) < 32 {
		errs = append(errs, errors.New("network-secret must be at least 32 characters"))
	}
	if n.HoldDays < 1 || n.HoldDays > 60 {
		errs = append(errs, errors.New("hold-days must be 1..60"))
	}
	if n.VelocityCount < 0 || n.VelocityAmount < 0 || n.VelocityWindow <= 0 {
		errs = append(errs, errors.New("velocity-count and velocity-amount must not be negative, velocity-window must be positive"))
	}
	if n.SweepEvery <= 0 {
		errs = append(errs, errors.New("hold-sweep must be positive"))
	}
	return errors.Join(errs...)
}

func (n networkFlags) policy() authorize.Config {
	p := authorize.DefaultConfig
	p.HoldFor = time.Duration(n.HoldDays) * 24 * time.Hour
	p.VelocityCount, p.VelocityAmount, p.VelocityWindow = n.VelocityCount, int64(n.VelocityAmount), n.VelocityWindow
	return p
}

// networkSecret returns the configured secret, or the development one from the data
// directory, creating it on first use.
func networkSecret(c config, log *slog.Logger) ([]byte, string, error) {
	if c.Network.Secret != "" {
		return []byte(c.Network.Secret), "configured", nil
	}
	path := filepath.Join(c.DataDir, "network-secret")
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return nil, "", fmt.Errorf("network secret file %s: shorter than 32 characters", path)
		}
		return []byte(s), path, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("network secret: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", err
	}
	s := hex.EncodeToString(raw)
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("network secret: %w", err)
	}
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, "", fmt.Errorf("network secret: %w", err)
	}
	log.Warn("generated a development network secret; configure -network-secret in production", "file", path)
	return []byte(s), path, nil
}

// buildNetwork wires the authorisation service and the network's handler, mounted
// at /network/ on mux. obs, if not nil, hears of approvals and frozen-card declines
// after they are answered (purchase alerts, the live dashboard).
func buildNetwork(c config, store *sqlstore.Store, hsm cardcrypto.HSM, obs authorize.Observer, now func() time.Time, log *slog.Logger, mux *http.ServeMux) (*authorize.Service, string, error) {
	ahsm, ok := hsm.(authorize.HSM)
	if !ok {
		return nil, "", errors.New("the HSM cannot verify PIN blocks")
	}
	secret, where, err := networkSecret(c, log)
	if err != nil {
		return nil, "", err
	}
	svc := authorize.New(store, ahsm, c.Network.policy(), now, log, obs)
	mux.Handle("/network/", network.NewHandler(network.Deps{Service: svc, Secret: secret, Now: now, Log: log}))
	return svc, where, nil
}
