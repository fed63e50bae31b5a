package passhash

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"
)

// fastParams keeps tests quick; argon2 cost is irrelevant to what they check.
var fastParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newHasher(t testing.TB, p Params, maxConcurrent int) *Hasher {
	t.Helper()
	h, err := NewHasher(p, maxConcurrent)
	if err != nil {
		t.Fatalf("NewHasher(%+v, %d): %v", p, maxConcurrent, err)
	}
	return h
}

// Known answers produced by the reference implementation's CLI, Debian
// package argon2 0~20171227-0.3+deb12u1 (phc-winner-argon2), e.g.
//
//	echo -n password | argon2 somesalt -id -t 2 -m 16 -p 1 -e
//
// The command for each vector is given alongside it.
var knownAnswers = []struct {
	name     string
	cmd      string
	password string
	encoded  string
	params   Params
}{
	{
		name:     "reference-readme-style m=64MiB",
		cmd:      "echo -n password | argon2 somesalt -id -t 2 -m 16 -p 1 -e",
		password: "password",
		encoded:  "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		params:   Params{Memory: 65536, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32},
	},
	{
		name:     "DefaultParams",
		cmd:      "echo -n password | argon2 somesaltSOMESALT -id -t 2 -k 19456 -p 1 -l 32 -e",
		password: "password",
		encoded:  "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRTT01FU0FMVA$DkdiWnw7T03ffprnn4mlDkd3/sCJ7cwkgD7pdNvv6t8",
		params:   DefaultParams,
	},
	{
		name:     "two lanes",
		cmd:      "echo -n 'correct horse battery staple' | argon2 saltsaltsaltsalt -id -t 3 -m 12 -p 2 -l 32 -e",
		password: "correct horse battery staple",
		encoded:  "$argon2id$v=19$m=4096,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$pJhSxtOqRcOY9qR/oaX8VAx0mXySpy4WJ0qlDivIVEY",
		params:   Params{Memory: 4096, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32},
	},
	{
		name:     "four lanes 16-byte key",
		cmd:      "echo -n 'correct horse battery staple' | argon2 somesaltSOMESALT -id -t 1 -k 64 -p 4 -l 16 -e",
		password: "correct horse battery staple",
		encoded:  "$argon2id$v=19$m=64,t=1,p=4$c29tZXNhbHRTT01FU0FMVA$IRiai+iLw8YycYV4g+/JTg",
		params:   Params{Memory: 64, Time: 1, Threads: 4, SaltLen: 16, KeyLen: 16},
	},
}

func TestKnownAnswers(t *testing.T) {
	h := newHasher(t, DefaultParams, 1)
	for _, tc := range knownAnswers {
		t.Run(tc.name, func(t *testing.T) {
			p, salt, key, err := Parse(tc.encoded)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if p != tc.params {
				t.Errorf("Parse params = %+v, want %+v", p, tc.params)
			}
			if got := encode(p, salt, key); got != tc.encoded {
				t.Errorf("re-encode = %q, want %q", got, tc.encoded)
			}
			// Independently of Verify: the raw key must match argon2.IDKey.
			raw := argon2.IDKey([]byte(tc.password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
			if got := encode(p, salt, raw); got != tc.encoded {
				t.Errorf("argon2.IDKey encoding = %q, want %q", got, tc.encoded)
			}

			ok, rehash, err := h.Verify(t.Context(), tc.encoded, []byte(tc.password))
			if err != nil || !ok {
				t.Fatalf("Verify(correct) = %v, %v, %v; want true", ok, rehash, err)
			}
			if want := tc.params != DefaultParams; rehash != want {
				t.Errorf("needsRehash = %v, want %v", rehash, want)
			}
			ok, rehash, err = h.Verify(t.Context(), tc.encoded, []byte(tc.password+"x"))
			if err != nil || ok || rehash {
				t.Errorf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		params   Params
		password string
	}{
		{"fast", fastParams, "hunter2"},
		{"empty password", fastParams, ""},
		{"unicode", fastParams, "pässwörd 🔑"},
		{"min sizes", Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}, "x"},
		{"max sizes multi-lane", Params{Memory: 256, Time: 2, Threads: 4, SaltLen: 64, KeyLen: 64}, "long " + strings.Repeat("a", 1000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHasher(t, tc.params, 0)
			enc, err := h.Hash(t.Context(), []byte(tc.password))
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			p, salt, key, err := Parse(enc)
			if err != nil {
				t.Fatalf("Parse(Hash output): %v", err)
			}
			if p != tc.params || len(salt) != int(tc.params.SaltLen) || len(key) != int(tc.params.KeyLen) {
				t.Errorf("Parse = %+v salt %d key %d, want %+v", p, len(salt), len(key), tc.params)
			}
			ok, rehash, err := h.Verify(t.Context(), enc, []byte(tc.password))
			if err != nil || !ok || rehash {
				t.Errorf("Verify(correct) = %v, %v, %v; want true, false, nil", ok, rehash, err)
			}
			ok, rehash, err = h.Verify(t.Context(), enc, []byte(tc.password+"!"))
			if err != nil || ok || rehash {
				t.Errorf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
			// A fresh salt each time: two hashes of one password differ.
			enc2, err := h.Hash(t.Context(), []byte(tc.password))
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			if enc2 == enc {
				t.Errorf("two hashes of the same password are identical")
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	old := newHasher(t, fastParams, 1)
	enc, err := old.Hash(t.Context(), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	raise := func(f func(*Params)) Params {
		p := fastParams
		f(&p)
		return p
	}
	tests := []struct {
		name   string
		params Params
		want   bool
	}{
		{"same params", fastParams, false},
		{"memory raised", raise(func(p *Params) { p.Memory *= 2 }), true},
		{"time raised", raise(func(p *Params) { p.Time++ }), true},
		{"threads raised", raise(func(p *Params) { p.Threads = 2 }), true},
		{"salt longer", raise(func(p *Params) { p.SaltLen = 32 }), true},
		{"key longer", raise(func(p *Params) { p.KeyLen = 64 }), true},
		{"memory lowered", raise(func(p *Params) { p.Memory = 32 }), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHasher(t, tc.params, 1)
			ok, rehash, err := h.Verify(t.Context(), enc, []byte("pw"))
			if err != nil || !ok || rehash != tc.want {
				t.Errorf("Verify = %v, %v, %v; want true, %v, nil", ok, rehash, err, tc.want)
			}
			// Never ask to rehash on a failed login.
			ok, rehash, err = h.Verify(t.Context(), enc, []byte("wrong"))
			if err != nil || ok || rehash {
				t.Errorf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	const (
		salt = "c29tZXNhbHRTT01FU0FMVA" // 16 bytes
		key  = "DkdiWnw7T03ffprnn4mlDkd3/sCJ7cwkgD7pdNvv6t8"
	)
	valid := "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key
	if _, _, _, err := Parse(valid); err != nil {
		t.Fatalf("baseline Parse: %v", err)
	}
	tests := []struct {
		name    string
		encoded string
		want    error
	}{
		{"empty", "", ErrMalformed},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key, ErrUnsupported},
		{"argon2d", "$argon2d$v=19$m=19456,t=2,p=1$" + salt + "$" + key, ErrUnsupported},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", ErrUnsupported},
		{"scrypt", "$scrypt$ln=16,r=8,p=1$" + salt + "$" + key, ErrUnsupported},
		{"uppercase algorithm", "$ARGON2ID$v=19$m=19456,t=2,p=1$" + salt + "$" + key, ErrUnsupported},
		{"version 16", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key, ErrUnsupported},
		{"version leading zero", "$argon2id$v=019$m=19456,t=2,p=1$" + salt + "$" + key, ErrUnsupported},
		{"version missing", "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"no leading dollar", "argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"missing key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt, ErrMalformed},
		{"empty key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$", ErrInvalidParams},
		{"trailing dollar", valid + "$", ErrMalformed},
		{"missing p", "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key, ErrMalformed},
		{"params out of order", "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key, ErrMalformed},
		{"extra keyid param", "$argon2id$v=19$m=19456,t=2,p=1,keyid=abc$" + salt + "$" + key, ErrMalformed},
		{"space in params", "$argon2id$v=19$m=19456, t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"empty m", "$argon2id$v=19$m=,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"leading zero m", "$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"plus sign t", "$argon2id$v=19$m=19456,t=+2,p=1$" + salt + "$" + key, ErrMalformed},
		{"negative t", "$argon2id$v=19$m=19456,t=-2,p=1$" + salt + "$" + key, ErrMalformed},
		{"hex m", "$argon2id$v=19$m=0x4c00,t=2,p=1$" + salt + "$" + key, ErrMalformed},
		{"m above 4GiB", "$argon2id$v=19$m=4194305,t=2,p=1$" + salt + "$" + key, ErrInvalidParams},
		{"m overflows uint32", "$argon2id$v=19$m=4294967296,t=2,p=1$" + salt + "$" + key, ErrInvalidParams},
		{"m huge", "$argon2id$v=19$m=99999999999999999999999,t=2,p=1$" + salt + "$" + key, ErrInvalidParams},
		{"m below 8 per lane", "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key, ErrInvalidParams},
		{"t zero", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key, ErrInvalidParams},
		{"t above max", "$argon2id$v=19$m=19456,t=65,p=1$" + salt + "$" + key, ErrInvalidParams},
		{"p zero", "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key, ErrInvalidParams},
		{"p above 255", "$argon2id$v=19$m=19456,t=2,p=256$" + salt + "$" + key, ErrInvalidParams},
		{"salt too short", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key, ErrInvalidParams},
		{"salt too long", "$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("A", 88) + "$" + key, ErrInvalidParams},
		{"key too short", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key[:20], ErrInvalidParams},
		{"key too long", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.Repeat("A", 88), ErrInvalidParams},
		{"salt padded", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key, ErrMalformed},
		{"salt url alphabet", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRTT01FU0F_VA$" + key, ErrMalformed},
		{"salt bad char", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRTT01FU0F*VA$" + key, ErrMalformed},
		{"salt non-canonical trailing bits", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRTT01FU0FMVB$" + key, ErrMalformed},
		{"salt impossible length", "$argon2id$v=19$m=19456,t=2,p=1$" + salt[:21] + "$" + key, ErrMalformed},
		{"key with newline", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key[:20] + "\n" + key[20:], ErrMalformed},
		{"too long", valid + strings.Repeat("A", 512), ErrMalformed},
		{"too long garbage", strings.Repeat("$", 100000), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, s, k, err := Parse(tc.encoded)
			if err == nil {
				t.Fatalf("Parse succeeded with %+v", p)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Parse error = %v, want errors.Is %v", err, tc.want)
			}
			if p != (Params{}) || s != nil || k != nil {
				t.Errorf("Parse returned non-zero values alongside an error")
			}
			// Errors are logged; they must not echo the stored hash.
			msg := err.Error()
			for _, part := range []string{tc.encoded, salt, key, key[:20]} {
				if len(tc.encoded) > 0 && strings.Contains(msg, part) {
					t.Errorf("error %q contains input fragment %q", msg, part)
				}
			}
		})
	}
}

func TestVerifyRejectsMalformedWithoutHashing(t *testing.T) {
	h := newHasher(t, fastParams, 1)
	ok, rehash, err := h.Verify(t.Context(), "$argon2id$v=19$m=4194305,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", []byte("password"))
	if ok || rehash || !errors.Is(err, ErrInvalidParams) {
		t.Errorf("Verify = %v, %v, %v; want false, false, ErrInvalidParams", ok, rehash, err)
	}
	if strings.Contains(err.Error(), "password") || strings.Contains(err.Error(), "c29tZXNhbHQ") {
		t.Errorf("error %q leaks input", err)
	}
	if _, total := h.Stats(); total != 0 {
		t.Errorf("total = %d after rejected hash, want 0", total)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		params Params
		ok     bool
	}{
		{"default", DefaultParams, true},
		{"minimum", Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}, true},
		{"maximum", Params{Memory: 4 << 20, Time: 64, Threads: 255, SaltLen: 64, KeyLen: 64}, true},
		{"zero", Params{}, false},
		{"no threads", Params{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32}, false},
		{"memory under 8 per thread", Params{Memory: 31, Time: 1, Threads: 4, SaltLen: 16, KeyLen: 32}, false},
		{"memory over 4GiB", Params{Memory: 4<<20 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{"time zero", Params{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{"time over max", Params{Memory: 64, Time: 65, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{"salt short", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 7, KeyLen: 32}, false},
		{"salt long", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 65, KeyLen: 32}, false},
		{"key short", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 15}, false},
		{"key long", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 65}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.params.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidParams) {
				t.Errorf("Validate() = %v, want errors.Is ErrInvalidParams", err)
			}
			if _, err := NewHasher(tc.params, 1); (err == nil) != tc.ok {
				t.Errorf("NewHasher error = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestNewHasherConcurrency(t *testing.T) {
	if _, err := NewHasher(fastParams, -1); err == nil {
		t.Error("NewHasher with maxConcurrent -1 succeeded")
	}
	h := newHasher(t, fastParams, 0)
	if cap(h.sem) < 1 {
		t.Errorf("default concurrency = %d, want >= 1", cap(h.sem))
	}
}

func TestVerifyDummy(t *testing.T) {
	h := newHasher(t, fastParams, 1)
	for i := range 3 {
		ok, err := h.VerifyDummy(t.Context(), []byte("anything"))
		if ok || err != nil {
			t.Fatalf("VerifyDummy = %v, %v; want false, nil", ok, err)
		}
		// Exactly one argon2 computation per call, including the first:
		// building the dummy hash must not cost an extra one.
		if _, total := h.Stats(); total != int64(i+1) {
			t.Fatalf("after %d calls total = %d, want %d", i+1, total, i+1)
		}
	}
	// The dummy uses the current params, so it costs what a real verify does.
	p, _, _, err := Parse(h.dummy)
	if err != nil || p != fastParams {
		t.Errorf("dummy params = %+v, %v; want %+v", p, err, fastParams)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if ok, err := h.VerifyDummy(ctx, []byte("x")); ok || !errors.Is(err, context.Canceled) {
		t.Errorf("VerifyDummy(canceled) = %v, %v; want false, context.Canceled", ok, err)
	}
}

// TestConcurrencyBound runs more callers than slots and checks, from inside
// each computation, that no more than maxConcurrent ever run at once. The
// hook holds the first callers inside so the bound is actually reached
// rather than trivially satisfied by callers finishing quickly.
func TestConcurrencyBound(t *testing.T) {
	const (
		maxConcurrent = 2
		callers       = 8
	)
	h := newHasher(t, fastParams, maxConcurrent)

	var (
		mu      sync.Mutex
		maxSeen int64
	)
	entered := make(chan struct{}, callers)
	release := make(chan struct{})
	h.testHookHeld = func() {
		inFlight, _ := h.Stats()
		mu.Lock()
		maxSeen = max(maxSeen, inFlight)
		mu.Unlock()
		entered <- struct{}{}
		<-release
	}

	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := h.Hash(t.Context(), []byte("pw"))
			errs <- err
		})
	}
	// Wait until both slots are held; the other callers must be queued.
	for range maxConcurrent {
		<-entered
	}
	if inFlight, _ := h.Stats(); inFlight != maxConcurrent {
		t.Errorf("with slots held, inFlight = %d, want %d", inFlight, maxConcurrent)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Hash: %v", err)
		}
	}
	if maxSeen > maxConcurrent {
		t.Errorf("max in-flight = %d, want <= %d", maxSeen, maxConcurrent)
	}
	if maxSeen != maxConcurrent {
		t.Errorf("max in-flight = %d, want the bound %d to be reached", maxSeen, maxConcurrent)
	}
	if inFlight, total := h.Stats(); inFlight != 0 || total != callers {
		t.Errorf("Stats() = %d, %d; want 0, %d", inFlight, total, callers)
	}
}

// TestContextWhileWaiting holds the only slot and checks that callers
// queued behind it return their context's error, which they can only do
// while waiting since the slot never frees up during the test.
func TestContextWhileWaiting(t *testing.T) {
	h := newHasher(t, fastParams, 1)
	held := make(chan struct{})
	release := make(chan struct{})
	h.testHookHeld = func() {
		close(held)
		<-release
	}
	holderDone := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), []byte("pw"))
		holderDone <- err
	}()
	<-held
	h.testHookHeld = nil // later callers must not reach the hook anyway

	enc := "$argon2id$v=19$m=64,t=1,p=4$c29tZXNhbHRTT01FU0FMVA$IRiai+iLw8YycYV4g+/JTg"
	tests := []struct {
		name string
		call func(context.Context) error
	}{
		{"Hash", func(ctx context.Context) error { _, err := h.Hash(ctx, []byte("pw")); return err }},
		{"Verify", func(ctx context.Context) error { _, _, err := h.Verify(ctx, enc, []byte("pw")); return err }},
		{"VerifyDummy", func(ctx context.Context) error { _, err := h.VerifyDummy(ctx, []byte("pw")); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/cancel", func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- tc.call(ctx) }()
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
		})
		t.Run(tc.name+"/deadline", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 1)
			defer cancel()
			if err := tc.call(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want context.DeadlineExceeded", err)
			}
		})
	}
	close(release)
	if err := <-holderDone; err != nil {
		t.Errorf("holder Hash: %v", err)
	}
	if inFlight, total := h.Stats(); inFlight != 0 || total != 1 {
		t.Errorf("Stats() = %d, %d; want 0, 1 (waiters must not hash)", inFlight, total)
	}
}

// TestParseAcceptsLimits pins the edges of the accepted range so that
// tightening a bound is a deliberate, visible change.
func TestParseAcceptsLimits(t *testing.T) {
	b64of := func(n int) string { return strings.Repeat("A", (n*8+5)/6) } // n zero bytes
	tests := []struct {
		name    string
		encoded string
		want    Params
	}{
		{"maximum", "$argon2id$v=19$m=4194304,t=64,p=255$" + b64of(64) + "$" + b64of(64),
			Params{Memory: 4 << 20, Time: 64, Threads: 255, SaltLen: 64, KeyLen: 64}},
		{"minimum", "$argon2id$v=19$m=8,t=1,p=1$" + b64of(8) + "$" + b64of(16),
			Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _, _, err := Parse(tc.encoded)
			if err != nil || p != tc.want {
				t.Errorf("Parse = %+v, %v; want %+v", p, err, tc.want)
			}
			if len(tc.encoded) > maxEncodedLen/2 {
				t.Errorf("longest valid string is %d bytes; maxEncodedLen %d leaves less headroom than documented", len(tc.encoded), maxEncodedLen)
			}
		})
	}
}
