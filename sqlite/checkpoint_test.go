package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardportal/cardportal/cardportaltest"
)

// TestCheckpointerRestartsWAL writes without a pause, with SQLite's own checkpoints
// off, and checks that the WAL file stays near restartPages: the passive passes copy
// the pages back and the full pass lets the WAL start again. Without the checkpointer
// the same writes leave a WAL of every page written, which the control run shows.
func TestCheckpointerRestartsWAL(t *testing.T) {
	defer func(every, idle time.Duration, restart, left int) {
		checkpointEvery, checkpointIdle, restartPages, fullLeft = every, idle, restart, left
	}(checkpointEvery, checkpointIdle, restartPages, fullLeft)
	// No backing off: how fast this loop writes depends on the machine.
	checkpointEvery, checkpointIdle, restartPages, fullLeft = 5*time.Millisecond, 5*time.Millisecond, 64, 32

	const pages = 3000
	// run returns the WAL file's size in pages and its checkpoint sequence number
	// (bytes 12-15 of the WAL header), which counts the WAL's restarts.
	run := func(withCheckpointer bool) (walPages int64, restarts uint32) {
		path := filepath.Join(t.TempDir(), "wal.db")
		write, own := openPair(t, path+"?"+common, "&_txlock=immediate&_pragma=wal_autocheckpoint(0)")
		ctx := context.Background()
		if _, err := write.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)"); err != nil {
			t.Fatal(err)
		}
		if withCheckpointer {
			c := startCheckpointer(write, own, nil)
			defer c.close()
		}
		blob := make([]byte, 4000) // about a page a row
		for i := range pages {
			if _, err := write.ExecContext(ctx, "INSERT INTO t (id, b) VALUES (?, ?)", i, blob); err != nil {
				t.Fatal(err)
			}
			if i%100 == 0 {
				time.Sleep(time.Millisecond) // let the checkpointer run on a busy machine
			}
		}
		var n int
		if err := write.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != pages {
			t.Fatalf("rows = %d, %v; want %d", n, err, pages)
		}
		wal, err := os.ReadFile(path + "-wal")
		if err != nil || len(wal) < 32 {
			t.Fatalf("read WAL: %d bytes, %v", len(wal), err)
		}
		return int64(len(wal)) / 4096, binary.BigEndian.Uint32(wal[12:16])
	}
	if size, restarts := run(false); size < pages || restarts != 0 {
		t.Fatalf("control: WAL of %d pages and %d restarts without a checkpointer; want every page and none", size, restarts)
	}
	// How far the WAL grows between restarts depends on how promptly a busy machine
	// runs the checkpointer, so the bound is loose: it must have started again
	// several times and so never held everything that was written.
	size, restarts := run(true)
	t.Logf("WAL %d pages, %d restarts", size, restarts)
	if size >= pages*2/3 || restarts < 3 {
		t.Errorf("WAL of %d pages after %d restarts with the checkpointer (restart at %d)", size, restarts, restartPages)
	}
}

// TestCheckpointWaits checks the back-off between passes: doubling while the WAL
// grows slowly, capped, and straight back to the short wait when it grows fast.
func TestCheckpointWaits(t *testing.T) {
	defer func(every, idle time.Duration, quiet int) {
		checkpointEvery, checkpointIdle, quietFrames = every, idle, quiet
	}(checkpointEvery, checkpointIdle, quietFrames)
	checkpointEvery, checkpointIdle, quietFrames = 100*time.Millisecond, time.Second, 200
	ms := time.Millisecond
	tests := []struct {
		wait  time.Duration
		fresh int
		want  time.Duration
	}{
		{100 * ms, 0, 200 * ms},
		{100 * ms, 200, 200 * ms},
		{100 * ms, 201, 100 * ms},
		{200 * ms, 300, 400 * ms}, // 150 per 100 ms
		{200 * ms, 401, 100 * ms},
		{800 * ms, 0, time.Second},
		{time.Second, 0, time.Second},
		{time.Second, 2000, time.Second},
		{time.Second, 2001, 100 * ms},
	}
	for _, tt := range tests {
		if got := nextWait(tt.wait, tt.fresh); got != tt.want {
			t.Errorf("nextWait(%v, %d frames) = %v, want %v", tt.wait, tt.fresh, got, tt.want)
		}
	}
	frames := []struct{ last, now, want int }{
		{0, 0, 0},
		{100, 150, 50},
		{8000, 30, 30}, // the WAL restarted
	}
	for _, tt := range frames {
		if got := newFrames(tt.last, tt.now); got != tt.want {
			t.Errorf("newFrames(%d, %d) = %d, want %d", tt.last, tt.now, got, tt.want)
		}
	}
}

// TestFullCheckpointRestoresBusyTimeout checks that the write connection waits for
// locks again after the full checkpoint, which runs with busy_timeout 0.
func TestFullCheckpointRestoresBusyTimeout(t *testing.T) {
	write, own := openPair(t, filepath.Join(t.TempDir(), "busy.db")+"?"+common, "")
	c := startCheckpointer(write, own, nil)
	defer c.close()
	ctx := t.Context()
	if _, err := write.ExecContext(ctx, "CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	if err := c.full(ctx); err != nil {
		t.Fatalf("full: %v", err)
	}
	var ms int
	if err := write.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&ms); err != nil {
		t.Fatal(err)
	}
	if ms != busyTimeout {
		t.Errorf("busy_timeout after a full checkpoint = %d ms, want %d", ms, busyTimeout)
	}
}

// TestCheckpointerLogsToItsLogger checks that a failing checkpoint is reported on the
// logger the store was given, not lost on slog's default.
func TestCheckpointerLogsToItsLogger(t *testing.T) {
	defer func(every time.Duration) { checkpointEvery = every }(checkpointEvery)
	checkpointEvery = 5 * time.Millisecond
	write, own := openPair(t, filepath.Join(t.TempDir(), "log.db")+"?"+common, "")
	own.Close() // every pass now fails
	var buf cardportaltest.LogBuffer
	c := startCheckpointer(write, own, slog.New(slog.NewTextHandler(&buf, nil)))
	defer c.close()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(buf.String(), "sqlite checkpoint"); {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint failure logged on the store's logger")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSyncFilesFindsTheFiles checks that the checkpointer syncs the database file
// and its WAL itself, found through SQLite rather than the open string, which may be
// a file: URI.
func TestSyncFilesFindsTheFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sync.db")
	write, own := openPair(t, "file:"+path+"?mode=rwc&"+common, "")
	ctx := t.Context()
	if _, err := write.ExecContext(ctx, "CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	c := startCheckpointer(write, own, nil)
	defer c.close()
	if err := c.syncFiles(ctx); err != nil {
		t.Fatalf("syncFiles: %v", err)
	}
	want := []string{path, path + "-wal"}
	if len(c.files) != len(want) {
		t.Fatalf("synced %d files, want %d: %q", len(c.files), len(want), want)
	}
	for i, f := range c.files {
		got, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		w, err := os.Stat(want[i])
		if err != nil {
			t.Fatal(err)
		}
		if !os.SameFile(got, w) {
			t.Errorf("synced %s, want %s", f.Name(), want[i])
		}
	}
}

// openPair opens a database at dsn in WAL mode as the checkpointer sees it: a write
// pool of one connection (its DSN with writeParams added, through walVFS like Open's)
// and the checkpointer's own. Both close when the test ends.
func openPair(t *testing.T, dsn, writeParams string) (write, own *sql.DB) {
	t.Helper()
	if err := registerWALVFS(); err != nil {
		t.Fatal(err)
	}
	write, err := sql.Open("sqlite", dsn+"&_pragma=journal_mode(WAL)&vfs="+walVFSName+writeParams)
	if err != nil {
		t.Fatal(err)
	}
	write.SetMaxOpenConns(1)
	t.Cleanup(func() { write.Close() })
	if own, err = sql.Open("sqlite", dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { own.Close() })
	return write, own
}
