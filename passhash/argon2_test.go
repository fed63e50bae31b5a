package passhash

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// TestIDKeyRFC9106 checks the argon2id test vector of RFC 9106 section
// 5.3, which also exercises the secret, associated data and four lanes.
func TestIDKeyRFC9106(t *testing.T) {
	want, _ := hex.DecodeString("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")
	mem := make([]block, memoryBlocks(32, 4))
	got := idKey(mem,
		bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16),
		bytes.Repeat([]byte{3}, 8), bytes.Repeat([]byte{4}, 12),
		3, 32, 4, 32)
	if !bytes.Equal(got, want) {
		t.Fatalf("tag = %x, want %x", got, want)
	}
}

// TestIDKeyMatchesXCrypto compares with golang.org/x/crypto/argon2 over
// many small parameter sets, reusing one dirty buffer throughout so that
// a block read before it is written would show. Keys stop at 64 bytes,
// the most Parse accepts: past that x/crypto truncates a 64-byte final
// hash where RFC 9106 asks for a shorter one, so the two differ.
func TestIDKeyMatchesXCrypto(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	mem := make([]block, memoryBlocks(2048, 8))
	for i := range 200 {
		threads := uint8(1 + r.IntN(6))
		memory := uint32(8*int(threads) + r.IntN(1500))
		time := uint32(1 + r.IntN(4))
		keyLen := uint32(minKeyLen + r.IntN(maxKeyLen-minKeyLen+1))
		password := make([]byte, r.IntN(40))
		salt := make([]byte, 8+r.IntN(24))
		for _, b := range [][]byte{password, salt} {
			for j := range b {
				b[j] = byte(r.Uint32())
			}
		}
		want := argon2.IDKey(password, salt, time, memory, threads, keyLen)
		got := idKey(mem, password, salt, nil, nil, time, memory, threads, keyLen)
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d (m=%d t=%d p=%d len=%d): got %x, want %x", i, memory, time, threads, keyLen, got, want)
		}
	}
}

func BenchmarkIDKeyOwn(b *testing.B) {
	p := DefaultParams
	mem := make([]block, memoryBlocks(p.Memory, p.Threads))
	salt := make([]byte, p.SaltLen)
	for b.Loop() {
		idKey(mem, []byte("password"), salt, nil, nil, p.Time, p.Memory, p.Threads, p.KeyLen)
	}
}

func BenchmarkIDKeyXCrypto(b *testing.B) {
	p := DefaultParams
	salt := make([]byte, p.SaltLen)
	for b.Loop() {
		argon2.IDKey([]byte("password"), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	}
}

// TestHasherReusesMemory checks that a Hasher keeps argon2's working
// memory between computations with its own parameters: without that,
// every login allocates (and the collector reclaims) the whole of it.
func TestHasherReusesMemory(t *testing.T) {
	p := DefaultParams
	p.Memory = 1024 // 1 MiB, far more than the rest of a Verify allocates
	h, err := NewHasher(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	encoded, err := h.Hash(ctx, []byte("warm up"))
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const runs = 40
	for range runs {
		if ok, _, err := h.Verify(ctx, encoded, []byte("warm up")); err != nil || !ok {
			t.Fatalf("Verify = %v, %v", ok, err)
		}
	}
	runtime.ReadMemStats(&after)
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(p.Memory*1024); got >= limit {
		t.Errorf("%d Verify calls allocated %d bytes, want less than one computation's memory (%d)", runs, got, limit)
	}
}

// TestHasherKeepsOneBufferPerSlot checks that many concurrent computations
// make no more buffers than there are slots, so memory stays bounded.
func TestHasherKeepsOneBufferPerSlot(t *testing.T) {
	p := DefaultParams
	p.Memory = 256
	const slots = 2
	h, err := NewHasher(p, slots)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				if _, err := h.Hash(t.Context(), []byte("storm")); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if made := h.made.Load(); made > slots {
		t.Errorf("80 computations on %d slots made %d buffers, want at most %d", slots, made, slots)
	}
	// With other parameters (an old hash) memory is allocated and not kept.
	old := p
	old.Memory = 128
	stored := encode(old, []byte("0123456789abcdef"), make([]byte, 32))
	if _, _, err := h.Verify(t.Context(), stored, []byte("storm")); err != nil {
		t.Fatal(err)
	}
	if n := len(h.free); n > slots {
		t.Errorf("%d buffers kept after an old hash, want at most %d", n, slots)
	}
}

// TestHasherReleasesIdleMemory checks that the kept buffers are dropped once
// none has been used for the Hasher's idleRelease, and that hashing goes on
// afterwards.
func TestHasherReleasesIdleMemory(t *testing.T) {
	p := DefaultParams
	p.Memory = 256
	h, err := NewHasher(p, 2)
	if err != nil {
		t.Fatal(err)
	}
	h.idleRelease = 20 * time.Millisecond
	encoded, err := h.Hash(t.Context(), []byte("idle"))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(h.free) > 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d buffers still kept after 10 s idle (idleRelease %v)", len(h.free), h.idleRelease)
		}
	}
	if ok, _, err := h.Verify(t.Context(), encoded, []byte("idle")); err != nil || !ok {
		t.Fatalf("Verify after the release = %v, %v", ok, err)
	}
	if made := h.made.Load(); made != 2 {
		t.Errorf("buffers made = %d, want 2 (one before the release, one after)", made)
	}
}

// TestHashYields checks that a computation lets other goroutines run
// between its slices rather than waiting to be preempted: on one P, a
// goroutine that counts its turns must get several during one Hash. The
// parameters make the hash far shorter than the runtime's 10 ms
// preemption, so only the yields can give it turns.
func TestHashYields(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := DefaultParams
	p.Memory, p.Time = 256, 2 // 2 passes of 4 slices
	h, err := NewHasher(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	var turns atomic.Int64
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			default:
				turns.Add(1)
				runtime.Gosched()
			}
		}
	}()
	before := turns.Load()
	if _, err := h.Hash(t.Context(), []byte("password")); err != nil {
		t.Fatal(err)
	}
	if got := turns.Load() - before; got < 6 {
		t.Errorf("another goroutine ran %d times during a hash of 8 slices, want at least 6", got)
	}
}
