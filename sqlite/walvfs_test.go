package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// walWriter opens path in WAL mode through walVFS as Open's write pool does, with
// extra DSN parameters, and a reader through SQLite's own VFS that sees only what is
// in the files.
func walWriter(t *testing.T, path, extra string) (write, plain *sql.DB) {
	t.Helper()
	write, own := openPair(t, path+"?"+common, "&_txlock=immediate&_pragma=wal_autocheckpoint(0)"+extra)
	ctx := context.Background()
	if _, err := write.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)"); err != nil {
		t.Fatal(err)
	}
	return write, own
}

// walFrames is the number of frames SQLite counts in the WAL, and the number that
// recovery would accept from the file: those up to the last commit frame of an
// unbroken chain of checksums (https://www.sqlite.org/fileformat2.html#walformat).
// What is only in memory, or written out of order, breaks the chain.
func walFrames(t *testing.T, db *sql.DB, path string) (counted, valid int64) {
	t.Helper()
	var busy, checkpointed int64
	if err := db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &counted, &checkpointed); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 32 {
		return counted, 0
	}
	be := binary.BigEndian
	var order binary.ByteOrder = binary.LittleEndian
	if be.Uint32(b)&1 == 1 {
		order = be
	}
	var s0, s1 uint32
	sum := func(p []byte) {
		for i := 0; i+8 <= len(p); i += 8 {
			s0 += order.Uint32(p[i:]) + s1
			s1 += order.Uint32(p[i+4:]) + s0
		}
	}
	sum(b[:24])
	if s0 != be.Uint32(b[24:]) || s1 != be.Uint32(b[28:]) {
		return counted, 0
	}
	pageSize := int(be.Uint32(b[8:]))
	for off, frame := 32, int64(1); off+walFrameHeader+pageSize <= len(b); off, frame = off+walFrameHeader+pageSize, frame+1 {
		h := b[off : off+walFrameHeader]
		if string(h[8:16]) != string(b[16:24]) {
			break // another generation's salt
		}
		sum(h[:8])
		sum(b[off+walFrameHeader : off+walFrameHeader+pageSize])
		if s0 != be.Uint32(h[16:]) || s1 != be.Uint32(h[20:]) {
			break
		}
		if be.Uint32(h[4:]) != 0 {
			valid = frame
		}
	}
	return counted, valid
}

// TestWALVFSGathersACommit checks that a commit of many pages reaches the WAL in a
// few writes, and that it is all in the file, readable by a connection that does not
// use walVFS, as soon as the commit returns: written out at the commit frame, or by
// the barrier before SQLite publishes the commit should walWrite not see it.
func TestWALVFSGathersACommit(t *testing.T) {
	t.Run("AtCommitFrame", testWALGathers)
	t.Run("ByBarrier", func(t *testing.T) {
		testNoCommitFlush.Store(true)
		defer testNoCommitFlush.Store(false)
		testWALGathers(t)
	})
}

func testWALGathers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gather.db")
	write, plain := walWriter(t, path, "")
	ctx := context.Background()
	blob := make([]byte, 1500)
	for round := 1; round <= 3; round++ {
		writes, flushes := walStats.writes.Load(), walStats.flushes.Load()
		tx, err := write.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 40 { // about 15 pages of 4 KiB
			blob[0] = byte(i)
			if _, err := tx.Exec("INSERT INTO t (b) VALUES (?)", blob); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		w, f := walStats.writes.Load()-writes, walStats.flushes.Load()-flushes
		if w < 20 || f > 2 {
			t.Errorf("round %d: %d writes to the WAL reached the file in %d, want at least 20 in at most 2", round, w, f)
		}
		var n int
		if err := plain.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 40*round {
			t.Fatalf("round %d: a plain reader sees %d rows, want %d", round, n, 40*round)
		}
		if counted, valid := walFrames(t, plain, path); valid != counted {
			t.Fatalf("round %d: SQLite counts %d frames, recovery would find %d in the file", round, counted, valid)
		}
	}
}

// TestWALVFSSpills runs transactions larger than the page cache, so that SQLite
// writes pages to the WAL before the commit, reads them back and writes some again
// in place (which makes it rewrite frame checksums at the commit); one commits and
// one rolls back. The database must come out whole and hold exactly the committed
// rows.
func TestWALVFSSpills(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spill.db")
	write, plain := walWriter(t, path, "&_pragma=cache_size(10)")
	ctx := context.Background()
	blob := make([]byte, 700)
	fill := func(commit bool, base int) {
		tx, err := write.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2000 {
			binary.BigEndian.PutUint32(blob, uint32(base+i))
			if _, err := tx.Exec("INSERT INTO t (id, b) VALUES (?, ?)", base+i, blob); err != nil {
				t.Fatal(err)
			}
		}
		var sum int64
		if err := tx.QueryRow("SELECT SUM(id) FROM t WHERE id >= ?", base).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		if want := int64(2000*base + 1999*2000/2); sum != want {
			t.Fatalf("inside the transaction: sum %d, want %d", sum, want)
		}
		if _, err := tx.Exec("UPDATE t SET b = zeroblob(700) WHERE id >= ? AND id % 3 = 0", base); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	fill(true, 0)
	fill(false, 10000)
	fill(true, 20000)

	var check string
	if err := plain.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
	var n, zeroed int
	if err := plain.QueryRow("SELECT COUNT(*), SUM(b = zeroblob(700)) FROM t").Scan(&n, &zeroed); err != nil {
		t.Fatal(err)
	}
	if n != 4000 || zeroed != 2*667 {
		t.Fatalf("%d rows, %d rewritten; want 4000, %d", n, zeroed, 2*667)
	}
	if counted, valid := walFrames(t, plain, path); valid != counted {
		t.Fatalf("SQLite counts %d frames, recovery would find %d in the file", counted, valid)
	}
}
