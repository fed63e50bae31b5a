package passhash

import (
	"encoding/binary"
	"math/bits"
	"runtime"
	"sync"

	"golang.org/x/crypto/blake2b"
)

// This file is argon2id version 1.3 as RFC 9106 defines it, written here
// rather than taken from golang.org/x/crypto/argon2 for one reason: that
// package allocates its whole memory (19 MiB by default) afresh on every
// call. Under a login storm that is over a gigabyte a second of garbage,
// and the collector, the zeroing of each new allocation and the page
// faults of memory handed back to the kernel took about a tenth of the
// machine. Here the memory is passed in, so a Hasher can reuse it from
// one computation to the next. Argon2 writes every block before it reads
// it, so a reused buffer needs no clearing.
//
// The tests check the RFC's test vector and agreement with x/crypto over
// many parameter sets.

// argonVersion is the argon2 version this package produces and accepts.
const argonVersion = 0x13

const (
	blockWords   = 128 // a block is 1 KiB: 128 little-endian 64-bit words
	syncPoints   = 4   // slices per pass
	addressesPer = blockWords
	argon2idType = 2
)

type block [blockWords]uint64

// memoryBlocks is the number of blocks argon2 uses for memory KiB and
// threads lanes: at least 8 per lane, rounded down to a multiple of
// 4*threads.
func memoryBlocks(memory uint32, threads uint8) int {
	p := uint32(threads)
	m := max(memory, 8*p)
	return int(m / (syncPoints * p) * (syncPoints * p))
}

// idKey derives keyLen bytes from password and salt with argon2id, using
// mem as its working memory. mem must hold at least
// memoryBlocks(memory, threads) blocks; what it held before does not
// matter. secret and data are argon2's optional key and associated data,
// kept for the RFC test vector; passwords here use neither.
func idKey(mem []block, password, salt, secret, data []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	n := memoryBlocks(memory, threads)
	mem = mem[:n]
	lanes := int(threads)
	laneLen := n / lanes
	segLen := laneLen / syncPoints

	h0 := initialHash(password, salt, secret, data, time, memory, threads, keyLen)
	var buf [1024]byte
	for l := range lanes {
		for i := range 2 {
			binary.LittleEndian.PutUint32(h0[64:], uint32(i))
			binary.LittleEndian.PutUint32(h0[68:], uint32(l))
			longHash(buf[:], h0[:])
			b := &mem[l*laneLen+i]
			for w := range b {
				b[w] = binary.LittleEndian.Uint64(buf[8*w:])
			}
		}
	}

	var wg sync.WaitGroup
	for pass := range time {
		for slice := range uint32(syncPoints) {
			for l := 1; l < lanes; l++ {
				wg.Go(func() { fillSegment(mem, pass, uint32(l), slice, uint32(lanes), uint32(laneLen), uint32(segLen), time) })
			}
			fillSegment(mem, pass, 0, slice, uint32(lanes), uint32(laneLen), uint32(segLen), time)
			wg.Wait()
			// Let other goroutines run, every 3 ms or so with the default
			// parameters. Otherwise, whenever anything else is waiting, the
			// runtime preempts the computation after 10 ms, and it does that
			// with a signal, which is dear on a virtual machine. Measured
			// with the bench command, three runs each, A/B: logins went
			// from 83-88% of the hash ceiling to 88-92%, the server's
			// signals from about 60 a second to 1, and its context
			// switches halved.
			runtime.Gosched()
		}
	}

	var final block
	for l := range lanes {
		last := &mem[(l+1)*laneLen-1]
		for w := range final {
			final[w] ^= last[w]
		}
	}
	for w, v := range final {
		binary.LittleEndian.PutUint64(buf[8*w:], v)
	}
	key := make([]byte, keyLen)
	longHash(key, buf[:])
	return key
}

// initialHash is H0 with 8 spare bytes after it for the block index and
// lane that derive each lane's first two blocks.
func initialHash(password, salt, secret, data []byte, time, memory uint32, threads uint8, keyLen uint32) [72]byte {
	h, _ := blake2b.New512(nil)
	var w [4]byte
	put := func(v uint32) {
		binary.LittleEndian.PutUint32(w[:], v)
		h.Write(w[:])
	}
	put(uint32(threads))
	put(keyLen)
	put(memory) // as asked for, before rounding to whole slices
	put(time)
	put(argonVersion)
	put(argon2idType)
	for _, b := range [][]byte{password, salt, secret, data} {
		put(uint32(len(b)))
		h.Write(b)
	}
	var h0 [72]byte
	h.Sum(h0[:0])
	return h0
}

// longHash is RFC 9106's variable-length hash H': out gets len(out) bytes
// of BLAKE2b-based output over in.
func longHash(out, in []byte) {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(out)))
	if len(out) <= blake2b.Size {
		h, _ := blake2b.New(len(out), nil)
		h.Write(n[:])
		h.Write(in)
		h.Sum(out[:0])
		return
	}
	var v [blake2b.Size]byte
	h, _ := blake2b.New512(nil)
	h.Write(n[:])
	h.Write(in)
	h.Sum(v[:0])
	copy(out, v[:32])
	out = out[32:]
	for len(out) > blake2b.Size {
		h.Reset()
		h.Write(v[:])
		h.Sum(v[:0])
		copy(out, v[:32])
		out = out[32:]
	}
	last, _ := blake2b.New(len(out), nil)
	last.Write(v[:])
	last.Sum(out[:0])
}

// fillSegment computes one lane's blocks in one slice of one pass.
func fillSegment(mem []block, pass, lane, slice, lanes, laneLen, segLen, passes uint32) {
	// Argon2id addresses the first half of the first pass independently
	// of the data (as argon2i, resisting side channels) and the rest from
	// the data (as argon2d, resisting trade-off attacks).
	independent := pass == 0 && slice < syncPoints/2

	var addresses, input, zero block
	if independent {
		input[0] = uint64(pass)
		input[1] = uint64(lane)
		input[2] = uint64(slice)
		input[3] = uint64(len(mem))
		input[4] = uint64(passes)
		input[5] = argon2idType
	}
	nextAddresses := func() {
		input[6]++
		compress(&addresses, &zero, &input, false)
		compress(&addresses, &zero, &addresses, false)
	}

	start := uint32(0)
	if pass == 0 && slice == 0 {
		start = 2 // each lane's first two blocks come from H0
		if independent {
			nextAddresses()
		}
	}
	base := lane * laneLen
	for index := start; index < segLen; index++ {
		cur := slice*segLen + index // position within the lane
		prev := cur - 1
		if cur == 0 {
			prev = laneLen - 1
		}
		var rand uint64
		if independent {
			if index%addressesPer == 0 {
				nextAddresses()
			}
			rand = addresses[index%addressesPer]
		} else {
			rand = mem[base+prev][0]
		}

		refLane := uint32(rand>>32) % lanes
		if pass == 0 && slice == 0 {
			refLane = lane
		}
		ref := refIndex(pass, slice, index, laneLen, segLen, refLane == lane, uint32(rand))
		compress(&mem[base+cur], &mem[base+prev], &mem[refLane*laneLen+ref], pass > 0)
	}
}

// refIndex maps the pseudo-random j1 onto the blocks the current one may
// reference within the chosen lane (RFC 9106 section 3.4.2), favouring
// recent blocks.
func refIndex(pass, slice, index, laneLen, segLen uint32, sameLane bool, j1 uint32) uint32 {
	var area uint32
	switch {
	case pass == 0 && slice == 0:
		area = index - 1
	case pass == 0 && sameLane:
		area = slice*segLen + index - 1
	case pass == 0:
		area = slice * segLen
	case sameLane:
		area = laneLen - segLen + index - 1
	default:
		area = laneLen - segLen
	}
	if !sameLane && index == 0 {
		area--
	}
	x := uint64(j1) * uint64(j1) >> 32
	rel := uint64(area) - 1 - (uint64(area) * x >> 32)
	startPos := uint64(0)
	if pass > 0 && slice != syncPoints-1 {
		startPos = uint64((slice + 1) * segLen)
	}
	return uint32((startPos + rel) % uint64(laneLen))
}

// compress sets dst to argon2's compression G(x, y) or, with xor (passes
// after the first, version 1.3), XORs G(x, y) into what dst held.
func compress(dst, x, y *block, xor bool) {
	var r block
	for i := range r {
		r[i] = x[i] ^ y[i]
	}
	for i := 0; i < blockWords; i += 16 {
		permuteRow((*[16]uint64)(r[i : i+16]))
	}
	for i := 0; i < 16; i += 2 {
		permuteColumn((*[114]uint64)(r[i : i+114]))
	}
	// G is the permuted block XOR the unpermuted one; x and y are read
	// again, from cache now, rather than kept in a copy.
	if xor {
		for i := range dst {
			dst[i] ^= r[i] ^ x[i] ^ y[i]
		}
	} else {
		for i := range dst {
			dst[i] = r[i] ^ x[i] ^ y[i]
		}
	}
}

// permuteRow is argon2's permutation P over one row of the block: sixteen
// consecutive words.
func permuteRow(v *[16]uint64) {
	v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15] = permute(
		v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15])
}

// permuteColumn is P over one column of the block: the pairs of words at
// the same place in each of its eight rows.
func permuteColumn(v *[114]uint64) {
	v[0], v[1], v[16], v[17], v[32], v[33], v[48], v[49], v[64], v[65], v[80], v[81], v[96], v[97], v[112], v[113] = permute(
		v[0], v[1], v[16], v[17], v[32], v[33], v[48], v[49], v[64], v[65], v[80], v[81], v[96], v[97], v[112], v[113])
}

// permute is argon2's permutation P: each column, then each diagonal, of
// sixteen words seen as a 4x4 matrix goes through BLAKE2b's G, split in
// two halves so that the compiler inlines them.
func permute(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15 uint64) (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _ uint64) {
	v0, v4, v8, v12 = mix(v0, v4, v8, v12, 32, 24)
	v0, v4, v8, v12 = mix(v0, v4, v8, v12, 16, 63)
	v1, v5, v9, v13 = mix(v1, v5, v9, v13, 32, 24)
	v1, v5, v9, v13 = mix(v1, v5, v9, v13, 16, 63)
	v2, v6, v10, v14 = mix(v2, v6, v10, v14, 32, 24)
	v2, v6, v10, v14 = mix(v2, v6, v10, v14, 16, 63)
	v3, v7, v11, v15 = mix(v3, v7, v11, v15, 32, 24)
	v3, v7, v11, v15 = mix(v3, v7, v11, v15, 16, 63)
	v0, v5, v10, v15 = mix(v0, v5, v10, v15, 32, 24)
	v0, v5, v10, v15 = mix(v0, v5, v10, v15, 16, 63)
	v1, v6, v11, v12 = mix(v1, v6, v11, v12, 32, 24)
	v1, v6, v11, v12 = mix(v1, v6, v11, v12, 16, 63)
	v2, v7, v8, v13 = mix(v2, v7, v8, v13, 32, 24)
	v2, v7, v8, v13 = mix(v2, v7, v8, v13, 16, 63)
	v3, v4, v9, v14 = mix(v3, v4, v9, v14, 32, 24)
	v3, v4, v9, v14 = mix(v3, v4, v9, v14, 16, 63)
	return v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15
}

// mix is one half of BLAKE2b's G, rotating by r1 and r2, with each addition
// strengthened by the product of the low halves (BlaMka), which makes it
// costlier to speed up in hardware. It is a half so that the compiler
// inlines it, and the rotations become constants.
func mix(a, b, c, d uint64, r1, r2 int) (uint64, uint64, uint64, uint64) {
	a += b + 2*uint64(uint32(a))*uint64(uint32(b))
	d = bits.RotateLeft64(d^a, -r1)
	c += d + 2*uint64(uint32(c))*uint64(uint32(d))
	b = bits.RotateLeft64(b^c, -r2)
	return a, b, c, d
}
