// Package passhash hashes and verifies passwords with argon2id, storing
// them in the PHC string format used by the reference implementation:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// where salt and key are unpadded standard base64.
//
// Argon2id is memory-hard, so each computation needs Params.Memory KiB.
// A Hasher keeps that memory between computations and bounds the number
// of computations running at once, so that a burst of logins queues
// instead of exhausting memory, and Parse
// rejects stored hashes whose parameters exceed fixed limits, so that a
// corrupted or hostile row in the database cannot make us allocate
// unbounded memory or spin for minutes.
//
// Errors returned by this package never contain the encoded hash or the
// password, so they are safe to log.
package passhash

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Limits enforced by Params.Validate and Parse. They are deliberately the
// same for both so that everything Hash produces can be parsed back.
const (
	// maxMemory is 4 GiB expressed in KiB.
	maxMemory = 4 * 1024 * 1024
	// maxTime caps passes over memory; far above any sane setting, but it
	// stops a stored hash from demanding an effectively endless computation.
	maxTime    = 64
	minSaltLen = 8 // the PHC and reference-implementation minimum
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
	// maxEncodedLen bounds the whole string before any parsing work. The
	// longest valid string (m=4194304,t=64,p=255, 64-byte salt and key) is
	// about 210 bytes, so this leaves room without admitting megabytes.
	maxEncodedLen = 512
)

// Sentinel errors; callers can distinguish them with errors.Is.
var (
	// ErrMalformed reports an encoded hash that is not a well-formed
	// argon2id PHC string.
	ErrMalformed = errors.New("passhash: malformed encoded hash")
	// ErrUnsupported reports a well-formed PHC string for an algorithm or
	// argon2 version this package does not verify.
	ErrUnsupported = errors.New("passhash: unsupported algorithm or version")
	// ErrInvalidParams reports parameters outside the accepted bounds,
	// whether configured or read from an encoded hash.
	ErrInvalidParams = errors.New("passhash: invalid parameters")
)

// Params are the argon2id cost parameters and output sizes.
type Params struct {
	Memory  uint32 // memory in KiB
	Time    uint32 // number of passes over memory
	Threads uint8  // degree of parallelism (lanes)
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // derived key length in bytes
}

// DefaultParams is OWASP's recommended argon2id configuration
// (m=19 MiB, t=2, p=1) with a 16-byte salt and a 32-byte key.
var DefaultParams = Params{
	Memory:  19456,
	Time:    2,
	Threads: 1,
	SaltLen: 16,
	KeyLen:  32,
}

// Validate reports whether p is within the bounds this package accepts:
// Memory between 8*Threads KiB (argon2's own minimum) and 4 GiB,
// Time 1..64, Threads 1..255, SaltLen 8..64 and KeyLen 16..64.
// The same bounds are applied by Parse, so any hash produced with valid
// params can be verified.
func (p Params) Validate() error {
	switch {
	case p.Threads < 1:
		return fmt.Errorf("%w: threads must be at least 1", ErrInvalidParams)
	case p.Memory < 8*uint32(p.Threads):
		return fmt.Errorf("%w: memory %d KiB below 8 KiB per thread", ErrInvalidParams, p.Memory)
	case p.Memory > maxMemory:
		return fmt.Errorf("%w: memory %d KiB above maximum %d KiB", ErrInvalidParams, p.Memory, maxMemory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: time %d outside 1..%d", ErrInvalidParams, p.Time, maxTime)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("%w: salt length %d outside %d..%d", ErrInvalidParams, p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("%w: key length %d outside %d..%d", ErrInvalidParams, p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// b64 is the PHC encoding: standard alphabet without padding. Strict mode
// rejects non-zero trailing bits so that each salt and key has exactly one
// accepted spelling.
var b64 = base64.RawStdEncoding.Strict()

// encode formats a PHC string. It does not validate; callers pass params
// that have already been validated or parsed.
func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argonVersion, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Parse decodes an argon2id PHC string as produced by Hash or by the
// reference implementation. It is strict: only argon2id version 19, with
// exactly the parameters m, t and p in that order, canonical decimal
// numbers and canonical unpadded base64, so that a successfully parsed
// string re-encodes to itself. Params.SaltLen and Params.KeyLen are set
// from the decoded lengths. The bounds of Params.Validate apply, and
// strings longer than 512 bytes are rejected before any other work.
func Parse(encoded string) (p Params, salt, key []byte, err error) {
	if len(encoded) > maxEncodedLen {
		return Params{}, nil, nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxEncodedLen)
	}
	// The leading "$" yields an empty first field; the bound above keeps
	// this split cheap even for garbage input.
	fields := strings.Split(encoded, "$")
	if len(fields) < 2 || fields[0] != "" {
		return Params{}, nil, nil, fmt.Errorf("%w: not a PHC string", ErrMalformed)
	}
	// The algorithm is checked before the field count so that a bcrypt or
	// scrypt hash reports as unsupported rather than malformed.
	if fields[1] != "argon2id" {
		return Params{}, nil, nil, fmt.Errorf("%w: algorithm is not argon2id", ErrUnsupported)
	}
	if len(fields) != 6 {
		return Params{}, nil, nil, fmt.Errorf("%w: want 5 '$'-separated fields", ErrMalformed)
	}
	if v, ok := strings.CutPrefix(fields[2], "v="); !ok {
		return Params{}, nil, nil, fmt.Errorf("%w: missing version field", ErrMalformed)
	} else if v != strconv.Itoa(argonVersion) {
		return Params{}, nil, nil, fmt.Errorf("%w: version is not %d", ErrUnsupported, argonVersion)
	}

	ps := strings.Split(fields[3], ",")
	if len(ps) != 3 {
		return Params{}, nil, nil, fmt.Errorf("%w: want parameters m,t,p", ErrMalformed)
	}
	m, err := parseParam(ps[0], "m", 32)
	if err != nil {
		return Params{}, nil, nil, err
	}
	t, err := parseParam(ps[1], "t", 32)
	if err != nil {
		return Params{}, nil, nil, err
	}
	th, err := parseParam(ps[2], "p", 8)
	if err != nil {
		return Params{}, nil, nil, err
	}
	p = Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(th)}

	salt, err = decodeB64(fields[4], "salt", minSaltLen, maxSaltLen)
	if err != nil {
		return Params{}, nil, nil, err
	}
	key, err = decodeB64(fields[5], "key", minKeyLen, maxKeyLen)
	if err != nil {
		return Params{}, nil, nil, err
	}
	p.SaltLen = uint32(len(salt))
	p.KeyLen = uint32(len(key))

	if err := p.Validate(); err != nil {
		return Params{}, nil, nil, err
	}
	return p, salt, key, nil
}

// parseParam parses "name=N" where N is a canonical decimal (no sign, no
// leading zeros) fitting in bits. Canonical form is required so that
// Parse followed by encode is the identity.
func parseParam(s, name string, bits int) (uint64, error) {
	v, ok := strings.CutPrefix(s, name+"=")
	if !ok {
		return 0, fmt.Errorf("%w: want parameter %q", ErrMalformed, name)
	}
	if v == "" || (v[0] == '0' && len(v) > 1) {
		return 0, fmt.Errorf("%w: parameter %q is not a canonical number", ErrMalformed, name)
	}
	n, err := strconv.ParseUint(v, 10, bits)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%w: parameter %q out of range", ErrInvalidParams, name)
	}
	if err != nil {
		// Deliberately not wrapping err: strconv errors quote the input.
		return 0, fmt.Errorf("%w: parameter %q is not a number", ErrMalformed, name)
	}
	return n, nil
}

// decodeB64 decodes a PHC base64 field whose decoded length must be within
// [minLen, maxLen]. The length is checked before decoding so no allocation
// depends on an unchecked size.
func decodeB64(s, name string, minLen, maxLen int) ([]byte, error) {
	n := b64.DecodedLen(len(s))
	if n < minLen || n > maxLen {
		return nil, fmt.Errorf("%w: %s length outside %d..%d bytes", ErrInvalidParams, name, minLen, maxLen)
	}
	// The decoder silently skips CR and LF even in strict mode; refuse
	// them so the encoding stays canonical.
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("%w: %s is not valid base64", ErrMalformed, name)
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		// Not wrapping err: base64 errors carry an offset into the hash,
		// harmless, but we keep the message independent of the input.
		return nil, fmt.Errorf("%w: %s is not valid base64", ErrMalformed, name)
	}
	return b, nil
}

// Hasher hashes new passwords with fixed Params and verifies stored hashes,
// bounding how many argon2id computations run at once. It is safe for
// concurrent use. Create it with NewHasher; the zero value has no slots
// and would block every call until its context ends.
type Hasher struct {
	params Params
	// sem holds one token per running computation; its capacity is the
	// concurrency bound, so peak memory is about cap(sem)*Memory KiB for
	// new hashes (stored hashes may use up to the Parse limits).
	sem chan struct{}

	inFlight atomic.Int64
	total    atomic.Int64

	dummyOnce sync.Once
	dummy     string

	// free keeps argon2 working memory for the Hasher's own Memory and
	// Threads between computations, so a login storm does not allocate and
	// zero 19 MiB per login. Its capacity is sem's: no more buffers are ever
	// made than can be in use at once. (A sync.Pool made up to five for two
	// slots, since a buffer left in one CPU's private slot cannot be taken
	// from another, and the server's RSS after cardportal bench's login
	// storm swung between 100 and 139 MiB with how many it had made.)
	// Buffers are dropped once none was used for idleRelease, so an idle
	// server hands the memory back. The blocks hold what the last
	// computation left, which was as reachable in the heap before; a
	// process that can read our memory can read passwords as they arrive.
	free        chan *[]block
	idleRelease time.Duration // how long unused buffers are kept
	made        atomic.Int64  // buffers allocated, for the tests
	lastUsed    atomic.Int64  // when a buffer was last put back, in Unix nanoseconds
	trimming    atomic.Bool   // a trim is scheduled

	// testHookHeld, if set, runs while a semaphore slot is held, just
	// before the argon2 computation. Tests use it to observe and pause
	// in-flight work deterministically.
	testHookHeld func()
}

// NewHasher returns a Hasher that creates new hashes with p and runs at
// most maxConcurrent argon2id computations at a time. maxConcurrent 0 means
// runtime.GOMAXPROCS(0): argon2 is CPU-bound, so more would only add memory
// without adding throughput.
func NewHasher(p Params, maxConcurrent int) (*Hasher, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if maxConcurrent < 0 {
		return nil, fmt.Errorf("passhash: maxConcurrent %d is negative", maxConcurrent)
	}
	if maxConcurrent == 0 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	return &Hasher{
		params: p, sem: make(chan struct{}, maxConcurrent),
		free: make(chan *[]block, maxConcurrent), idleRelease: time.Minute,
	}, nil
}

// Params returns the parameters used for new hashes.
func (h *Hasher) Params() Params { return h.params }

// Stats returns the number of argon2id computations running now and the
// number completed since the Hasher was created, for export as metrics.
func (h *Hasher) Stats() (inFlight, total int64) {
	return h.inFlight.Load(), h.total.Load()
}

// Hash derives a key from password with a fresh random salt and returns it
// as a PHC string. It waits for a free slot first; if ctx ends while
// waiting, it returns ctx.Err(). Once started, the computation itself is
// not interruptible.
func (h *Hasher) Hash(ctx context.Context, password []byte) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	// crypto/rand.Read never returns an error (since Go 1.24 it crashes
	// the program rather than hand out weak randomness), so none is checked.
	rand.Read(salt)
	key, err := h.derive(ctx, password, salt, h.params)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether password matches the encoded hash, computing it
// with the parameters stored in the hash (not the Hasher's), so hashes made
// before a parameter change keep working.
//
// needsRehash is true only when ok is true and the stored parameters differ
// from the Hasher's current ones; the caller should then store a fresh
// Hash of the password it just verified. It is never true for a wrong
// password, so a caller cannot accidentally replace a hash with an
// attacker's guess.
//
// A malformed or out-of-bounds encoded hash returns an error wrapping
// ErrMalformed, ErrUnsupported or ErrInvalidParams without doing any
// hashing. If ctx ends while waiting for a slot, Verify returns ctx.Err().
func (h *Hasher) Verify(ctx context.Context, encoded string, password []byte) (ok, needsRehash bool, err error) {
	p, salt, want, err := Parse(encoded)
	if err != nil {
		return false, false, err
	}
	got, err := h.derive(ctx, password, salt, p)
	if err != nil {
		return false, false, err
	}
	// Constant time so the comparison leaks nothing about how many
	// leading bytes of the key were right.
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != h.params, nil
}

// VerifyDummy costs the same as a failed Verify against a hash made with
// the Hasher's current params, and always returns false. Call it when the
// user does not exist, so an unknown user ID takes as long as a wrong
// password and response time does not reveal which IDs exist.
// The error is non-nil only if ctx ends while waiting for a slot.
func (h *Hasher) VerifyDummy(ctx context.Context, password []byte) (bool, error) {
	h.dummyOnce.Do(func() {
		// A random key in place of a real derived one costs no argon2 run
		// to build, and Verify against it still does exactly one
		// computation with the current params. It matches nothing
		// (and the result is discarded anyway).
		salt := make([]byte, h.params.SaltLen)
		key := make([]byte, h.params.KeyLen)
		rand.Read(salt)
		rand.Read(key)
		h.dummy = encode(h.params, salt, key)
	})
	_, _, err := h.Verify(ctx, h.dummy, password)
	return false, err
}

// derive runs one argon2id computation under the concurrency bound.
func (h *Hasher) derive(ctx context.Context, password, salt []byte, p Params) ([]byte, error) {
	// Check first: select picks randomly among ready cases, and a request
	// that is already gone should not start an expensive computation.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.sem }()

	h.inFlight.Add(1)
	defer h.inFlight.Add(-1)
	if h.testHookHeld != nil {
		h.testHookHeld()
	}
	pooled := p.Memory == h.params.Memory && p.Threads == h.params.Threads
	var mem *[]block
	if pooled {
		select {
		case mem = <-h.free:
		default:
			h.made.Add(1)
		}
	}
	if mem == nil {
		// Other sizes come from hashes made before a parameter change;
		// they are rehashed on success, so they are not worth keeping.
		b := make([]block, memoryBlocks(p.Memory, p.Threads))
		mem = &b
	}
	key := idKey(*mem, password, salt, nil, nil, p.Time, p.Memory, p.Threads, p.KeyLen)
	if pooled {
		h.release(mem)
	}
	h.total.Add(1)
	return key, nil
}

// release puts mem back for the next computation and makes sure a trim is
// scheduled.
func (h *Hasher) release(mem *[]block) {
	h.lastUsed.Store(time.Now().UnixNano())
	select {
	case h.free <- mem:
	default: // not reached: a slot is held for each buffer taken
	}
	if !h.trimming.Swap(true) {
		time.AfterFunc(h.idleRelease, h.trim)
	}
}

// trim drops the kept buffers if none was used for idleRelease, and
// otherwise looks again when that will be so.
func (h *Hasher) trim() {
	if idle := time.Since(time.Unix(0, h.lastUsed.Load())); idle < h.idleRelease {
		time.AfterFunc(h.idleRelease-idle, h.trim)
		return
	}
	// Unmark first, so that a computation ending meanwhile schedules the
	// next trim rather than leaving its buffer kept for ever.
	h.trimming.Store(false)
	for {
		select {
		case <-h.free:
		default:
			return
		}
	}
}
