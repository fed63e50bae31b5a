package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCheckpointerRestartsWAL writes without a pause, with SQLite's own checkpoints
// off, and checks that the WAL file stays near restartPages: the passive passes copy
// the pages back and the full pass lets the WAL start again. Without the checkpointer
// the same writes leave a WAL of every page written, which the control run shows.
func TestCheckpointerRestartsWAL(t *testing.T) {
	defer func(every time.Duration, restart, left int) {
		checkpointEvery, restartPages, fullLeft = every, restart, left
	}(checkpointEvery, restartPages, fullLeft)
	checkpointEvery, restartPages, fullLeft = 5*time.Millisecond, 64, 32

	const pages = 3000
	run := func(withCheckpointer bool) (walPages int64) {
		path := filepath.Join(t.TempDir(), "wal.db")
		write, err := sql.Open("sqlite", path+"?"+common+"&_pragma=journal_mode(WAL)&_txlock=immediate&_pragma=wal_autocheckpoint(0)")
		if err != nil {
			t.Fatal(err)
		}
		write.SetMaxOpenConns(1)
		defer write.Close()
		ctx := context.Background()
		if _, err := write.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)"); err != nil {
			t.Fatal(err)
		}
		if withCheckpointer {
			own, err := sql.Open("sqlite", path+"?"+common)
			if err != nil {
				t.Fatal(err)
			}
			c := startCheckpointer(write, own)
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
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size() / 4096
	}
	if got := run(false); got < pages {
		t.Fatalf("control: WAL of %d pages without a checkpointer; the test writes too little", got)
	}
	// Between two passes the writer may add a few hundred pages, and a restart waits
	// for a pass that leaves under fullLeft uncopied.
	if got := run(true); got > pages/3 {
		t.Errorf("WAL grew to %d pages with the checkpointer (restart at %d)", got, restartPages)
	}
}
