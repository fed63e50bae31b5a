package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cardportal/cardportal/demo"
)

// config is everything the server can be told, from flags and CARDPORTAL_* variables
// (a flag wins over its variable). Every field has a default that works with no
// configuration at all: embedded SQLite in ./cardportal-data with demo data.
type config struct {
	Addr           string
	DataDir        string
	DatabaseURL    string // PostgreSQL DSN; empty means SQLite in DataDir
	KeysFile       string // the HSM key file; kept outside the database
	Demo           bool
	DemoSize       int
	DemoSeed       uint64
	DevOutbox      bool
	BehindTLS      bool
	TrustForwarded bool
	TLSCert        string
	TLSKey         string
	LogLevel       string
	Maintenance    string
	// PublicURL is the base of links in emails (password reset, SPEC ID9). It is
	// configured rather than read from requests so a forged Host header cannot point a
	// reset link elsewhere; empty derives it from addr.
	PublicURL string

	MaxFailures int
	LockFor     time.Duration
	WebIdle     time.Duration
	AppIdle     time.Duration
	SessionLife time.Duration
	SignInLimit int // sign-in attempts per source address per minute
	// TrustDeviceFor is how long "trust this device" skips step-up (SPEC ID7);
	// QuestionFallback offers the security question as a last-resort second factor.
	TrustDeviceFor   time.Duration
	QuestionFallback bool

	ArgonMemory      uint
	ArgonTime        uint
	ArgonThreads     uint
	HashConcurrency  int
	PasswordMinChars int
	MemoryLimitMiB   int // Go soft memory limit; 0 derives it from the hashing budget, -1 sets none

	// PasswordMaxAge is SPEC ID11's maximum password age; 0: passwords do not expire.
	PasswordMaxAge time.Duration
	// LicenceVersion is the mobile licence agreement app installations accept before
	// their first session (SPEC ID12); empty requires none.
	LicenceVersion string

	Delivery deliveryConfig // notification transports; see delivery.go
	Passkey  passkeyFlags   // the WebAuthn relying party; see passkey.go
	Network  networkFlags   // the card network's interface; see network.go
	Simulate simulateFlags  // the demo's card-network simulator; see simulate.go
}

// defaultLicenceVersion is the mobile licence agreement in force (SPEC ID12).
const defaultLicenceVersion = "2026-11"

// envFlags binds each flag to its CARDPORTAL_ variable so one list documents both.
type envFlags struct {
	fs     *flag.FlagSet
	getenv func(string) string
	errs   []error
}

func envName(flag string) string {
	return "CARDPORTAL_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func (e *envFlags) env(name string) (string, bool) {
	v := e.getenv(envName(name))
	return v, v != ""
}

func (e *envFlags) bad(name, what string) {
	e.errs = append(e.errs, fmt.Errorf("%s: not %s", envName(name), what))
}

func (e *envFlags) str(p *string, name, def, usage string) {
	if v, ok := e.env(name); ok {
		def = v
	}
	e.fs.StringVar(p, name, def, usage)
}

func (e *envFlags) boolean(p *bool, name string, def bool, usage string) {
	if v, ok := e.env(name); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			e.bad(name, "a boolean")
		}
		def = b
	}
	e.fs.BoolVar(p, name, def, usage)
}

func (e *envFlags) integer(p *int, name string, def int, usage string) {
	if v, ok := e.env(name); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			e.bad(name, "an integer")
		}
		def = n
	}
	e.fs.IntVar(p, name, def, usage)
}

func (e *envFlags) uinteger(p *uint, name string, def uint, usage string) {
	if v, ok := e.env(name); ok {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			e.bad(name, "a non-negative integer")
		}
		def = uint(n)
	}
	e.fs.UintVar(p, name, def, usage)
}

func (e *envFlags) duration(p *time.Duration, name string, def time.Duration, usage string) {
	if v, ok := e.env(name); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			e.bad(name, "a duration")
		}
		def = d
	}
	e.fs.DurationVar(p, name, def, usage)
}

// parseConfig reads flags from args and variables from getenv, then validates.
func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	e := &envFlags{fs: fs, getenv: getenv}
	var seed int
	e.str(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free one)")
	e.str(&c.DataDir, "data-dir", "cardportal-data", "directory for the SQLite database and the development key file")
	e.str(&c.DatabaseURL, "database-url", "", "PostgreSQL DSN; empty uses embedded SQLite in data-dir")
	e.str(&c.KeysFile, "keys-file", "", "HSM key file (default data-dir/keys.json, created on first start)")
	e.boolean(&c.Demo, "demo", true, "load the fictional demo issuer into an empty database")
	e.integer(&c.DemoSize, "demo-size", 300, "number of demo accounts")
	e.integer(&seed, "demo-seed", 1, "seed for the demo data")
	e.boolean(&c.DevOutbox, "dev-outbox", true, "serve the outbox of every notification at /dev/outbox (with SMTP or SMS configured, only when set explicitly)")
	e.boolean(&c.BehindTLS, "behind-tls", false, "TLS is terminated in front of this instance: mark cookies Secure, send HSTS")
	e.boolean(&c.TrustForwarded, "trust-forwarded", false, "take the client address from X-Forwarded-For (only behind a proxy you run)")
	e.str(&c.TLSCert, "tls-cert", "", "TLS certificate file (serve HTTPS)")
	e.str(&c.TLSKey, "tls-key", "", "TLS key file")
	e.str(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	e.str(&c.Maintenance, "maintenance", "", "maintenance notice shown on the sign-in pages")
	e.str(&c.PublicURL, "public-url", "", "base URL of links in emails, e.g. https://cards.example.com (default: http(s)://addr)")
	e.integer(&c.MaxFailures, "lock-failures", 3, "consecutive wrong passwords before an account locks")
	e.duration(&c.LockFor, "lock-duration", 30*time.Minute, "how long a lock lasts")
	e.duration(&c.WebIdle, "web-idle", 15*time.Minute, "idle timeout of browser sessions")
	e.duration(&c.AppIdle, "app-idle", 5*time.Minute, "idle timeout of mobile-app sessions")
	e.duration(&c.SessionLife, "session-life", 12*time.Hour, "absolute session lifetime")
	e.integer(&c.SignInLimit, "signin-per-source", 30, "sign-in attempts per source address per minute")
	e.duration(&c.TrustDeviceFor, "trust-device-for", 30*24*time.Hour, "how long a trusted device skips the second factor")
	e.boolean(&c.QuestionFallback, "mfa-question-fallback", true, "offer the security question as a last-resort second factor")
	e.uinteger(&c.ArgonMemory, "argon-memory", 19456, "argon2id memory in KiB for new password hashes")
	e.uinteger(&c.ArgonTime, "argon-time", 2, "argon2id passes")
	e.uinteger(&c.ArgonThreads, "argon-threads", 1, "argon2id lanes")
	e.integer(&c.HashConcurrency, "hash-concurrency", 0, "concurrent password hashes (0: one per CPU)")
	e.integer(&c.PasswordMinChars, "password-min", 12, "minimum password length")
	e.duration(&c.PasswordMaxAge, "password-max-age", 0, "password age after which sign-in requires a new one (0: never)")
	e.str(&c.LicenceVersion, "licence-version", defaultLicenceVersion, "mobile licence agreement version the app must accept (empty: none)")
	e.integer(&c.MemoryLimitMiB, "memory-limit-mib", 0, "soft memory limit in MiB (0: derived from the password-hash budget; -1: none; GOMEMLIMIT wins)")
	c.Delivery.flags(e)
	c.Passkey.flags(e)
	c.Network.flags(e)
	c.Simulate.flags(e)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.DemoSeed = uint64(seed)
	c.Delivery.OutboxExplicit = e.isSet("dev-outbox")
	if c.KeysFile == "" {
		c.KeysFile = filepath.Join(c.DataDir, "keys.json")
	}
	return c, errors.Join(append(e.errs, c.validate())...)
}

func (c config) validate() error {
	var errs []error
	check := func(ok bool, msg string) {
		if !ok {
			errs = append(errs, errors.New(msg))
		}
	}
	check(c.Addr != "", "addr must be set")
	check(c.DemoSize >= demo.MinSize && c.DemoSize <= demo.MaxSize, fmt.Sprintf("demo-size must be %d..%d", demo.MinSize, demo.MaxSize))
	check((c.TLSCert == "") == (c.TLSKey == ""), "tls-cert and tls-key go together")
	check(c.MaxFailures >= 1 && c.MaxFailures <= 100, "lock-failures must be 1..100")
	check(c.LockFor > 0, "lock-duration must be positive")
	check(c.WebIdle > 0 && c.AppIdle > 0 && c.SessionLife > 0, "session timeouts must be positive")
	check(c.SignInLimit >= 1, "signin-per-source must be at least 1")
	check(c.TrustDeviceFor > 0 && c.TrustDeviceFor <= 400*24*time.Hour, "trust-device-for must be positive and at most 400 days")
	check(c.ArgonMemory >= 8*c.ArgonThreads && c.ArgonTime >= 1 && c.ArgonThreads >= 1 && c.ArgonThreads <= 255, "argon2id parameters out of range")
	check(c.PasswordMinChars >= 8 && c.PasswordMinChars <= 128, "password-min must be 8..128")
	check(c.PasswordMaxAge >= 0, "password-max-age must not be negative")
	check(len(c.LicenceVersion) <= 32 && !strings.ContainsAny(c.LicenceVersion, " \t\r\n"), "licence-version must be at most 32 characters without spaces")
	check(c.MemoryLimitMiB >= -1, "memory-limit-mib must be -1, 0 or a size in MiB")
	check(c.publicURLOK(), "public-url must be an http(s) URL with a host and no query")
	errs = append(errs, c.Delivery.validate())
	errs = append(errs, c.Passkey.validate())
	errs = append(errs, c.Network.validate(), c.Simulate.validate())
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, errors.New("log-level must be debug, info, warn or error"))
	}
	return errors.Join(errs...)
}

// gcPercent is the GOGC to set with the derived memory limit, or 0 to leave the
// runtime's. It was chosen when every password hash allocated its argon2 memory
// afresh (GOGC 100 then gave a peak RSS of 149 MiB in the bench's login storm, 75
// gave 133 MiB). Hashes now reuse their memory; measured again with the bench
// command on 2 cores, three runs each, 75 gave a storm peak of 106-135 MiB and an
// overall peak of 129-148 MiB, 100 gave 115-132 and 147-152 MiB, at the same login
// rate, so it stays.
func (c config) gcPercent(getenv func(string) string) int {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" || c.MemoryLimitMiB != 0 {
		return 0
	}
	return 75
}

// memoryLimit is the Go soft memory limit to set, in bytes, or 0 for none: room for
// the program's own heap, SQLite's caches and two rounds of concurrent password
// hashes. The hashes' memory is kept for reuse, so it counts as live heap and the
// collector's target grows with it; the limit keeps the target from outgrowing the
// machine. Measured with the bench command on 2 cores (m=19 MiB), three runs each:
// with this limit (124 MiB) the server's overall peak RSS was 129-148 MiB, without
// one 132-163 MiB, logins the same.
func (c config) memoryLimit(getenv func(string) string, cores int) int64 {
	switch {
	case getenv("GOMEMLIMIT") != "" || c.MemoryLimitMiB < 0:
		return 0
	case c.MemoryLimitMiB > 0:
		return int64(c.MemoryLimitMiB) << 20
	}
	hashes := c.HashConcurrency
	if hashes <= 0 {
		hashes = cores
	}
	const base = 48 << 20 // the program's own heap, SQLite caches and stacks
	return base + int64(hashes)*int64(c.ArgonMemory)<<10*2
}
