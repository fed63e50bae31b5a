package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// WAL checkpoints. Left to itself SQLite checkpoints inside the commit that takes the
// WAL past wal_autocheckpoint pages (1000 by default): that commit copies every page
// back into the database file and syncs both files before its caller hears back, and
// every writer queued behind it waits too. Under a steady stream of authorisations
// that was most of their p99.
//
// So the copying is done off the write path, by a checkpointer with a connection of
// its own: a PASSIVE checkpoint copies what it can while the writer goes on
// appending. That alone would let the WAL grow for ever, because SQLite restarts the
// WAL from its beginning only at the start of a write when every frame in it has been
// copied back, and a writer that never pauses always leaves a few new ones. So once
// the WAL passes restartPages and a passive pass has left little to copy, the
// checkpointer takes the one write connection from the pool (queueing like any
// writer, between two transactions) and runs a FULL checkpoint there: it copies only
// the frames written since the passive pass, and the next write starts the WAL
// afresh. The writer's pause is that short copy and two syncs: at 3,000 approvals/s,
// about 25,000 frames a second, that was 2-3 times a second for 5-8 ms each
// (measured 2026-11-22), instead of a full checkpoint's copy of everything. Those
// pauses are not what sets the p99 of cardportal load: with no FULL at all
// (restartPages out of reach) it was no better, three runs each.
//
// Those syncs would not be short by themselves: SQLite syncs the database file only
// when a checkpoint reaches the end of the WAL, which passive passes under load never
// do, so the FULL's sync would flush everything they copied since the last restart,
// up to restartPages pages; and its sync of the WAL would flush every frame written
// since the last passive pass, 100 ms of them. The checkpointer syncs both files
// itself first, through descriptors of its own, so the writers' pause only flushes
// what was written in between. Syncing the WAL too cut that pause from a median of
// 6.3 ms to 3.7 ms (p90 8.3 to 5.6 ms; 41 FULLs each at 3,000/s, 2026-11-22).
//
// wal_autocheckpoint stays on as a safety net, at safetyPages, for when the
// checkpointer cannot keep up or another process writes without one.
//
// A pass that copies anything syncs the WAL and the database file. Under a trickle of
// writes, such as a login storm's two commits per sign-in, every pass at 100 ms found
// a few new frames, and those syncs were most of the checkpointer's cost, more than
// any single query of a sign-in (perf during cardportal bench, 2026-11-22: 0.37% of
// the server's CPU, of the checkpointer's 0.51%). So while fewer than quietFrames new
// frames arrive per checkpointEvery, the wait between passes doubles up to
// checkpointIdle, copying the same pages less often (a hot page written ten times is
// copied once); a busier WAL brings the next pass back to checkpointEvery. The
// authorisation stream never backs off (25,000 frames a second at 3,000/s), where a
// one-second interval made the p99 worse.
var ( // variables for the tests
	checkpointEvery = 100 * time.Millisecond
	checkpointIdle  = time.Second
	quietFrames     = 200
	restartPages    = 8192 // 32 MiB of 4 KiB pages
	// fullLeft is how many uncopied frames make a FULL checkpoint worth its pause;
	// with more, another passive pass goes first.
	fullLeft    = 512
	safetyPages = 4 * restartPages
)

type checkpointer struct {
	write, own *sql.DB
	files      []*os.File // the database file and its WAL, to sync before a FULL; opened on first use
	log        *slog.Logger
	stop       chan struct{}
	done       sync.WaitGroup
}

// startCheckpointer starts checkpointing; log nil means slog's default logger.
func startCheckpointer(write, own *sql.DB, log *slog.Logger) *checkpointer {
	if log == nil {
		log = slog.Default()
	}
	c := &checkpointer{write: write, own: own, log: log, stop: make(chan struct{})}
	c.done.Add(1)
	go c.loop()
	return c
}

func (c *checkpointer) loop() {
	defer c.done.Done()
	wait := checkpointEvery
	t := time.NewTimer(wait)
	defer t.Stop()
	ctx := context.Background()
	last := 0 // the WAL's length at the last pass, in frames
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		logged, err := c.pass(ctx)
		if err != nil {
			c.log.Warn("sqlite checkpoint", "err", err)
		} else {
			wait = nextWait(wait, newFrames(last, logged))
			last = logged
		}
		t.Reset(wait)
	}
}

// newFrames is how many frames were appended between two passes that saw WALs of
// last and now frames. A shorter WAL has restarted since, and holds only new ones.
func newFrames(last, now int) int {
	if now < last {
		return now
	}
	return now - last
}

// nextWait is the wait before the next pass, given the wait before this one and the
// fresh frames that arrived in it: checkpointEvery when they came faster than
// quietFrames per checkpointEvery, else twice the last wait, up to checkpointIdle.
func nextWait(wait time.Duration, fresh int) time.Duration {
	if int64(fresh)*int64(checkpointEvery) > int64(quietFrames)*int64(wait) {
		return checkpointEvery
	}
	return min(2*wait, checkpointIdle)
}

// pass runs one passive checkpoint and, if the WAL is long and nearly all copied,
// the short full one that lets it restart. It returns the WAL's length in frames as
// the passive checkpoint found it.
func (c *checkpointer) pass(ctx context.Context) (logged int, err error) {
	logged, copied, err := checkpoint(ctx, c.own, "PASSIVE")
	if err != nil {
		return 0, err
	}
	if logged < restartPages || logged-copied > fullLeft {
		return logged, nil
	}
	if err := c.syncFiles(ctx); err != nil {
		return logged, err
	}
	return logged, c.full(ctx)
}

// syncFiles flushes the dirty pages of the database file and its WAL to disk (fsync
// covers the file, whichever descriptor asks). The descriptors are kept: SQLite
// deletes the WAL only when the last connection closes, and the checkpointer's own
// stays open until close.
func (c *checkpointer) syncFiles(ctx context.Context) error {
	if c.files == nil {
		var seq int
		var name, file string
		if err := c.own.QueryRowContext(ctx, "PRAGMA database_list").Scan(&seq, &name, &file); err != nil {
			return fmt.Errorf("database file: %w", err)
		}
		for _, path := range []string{file, file + "-wal"} {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				c.closeFiles()
				return fmt.Errorf("open %s: %w", path, err)
			}
			c.files = append(c.files, f)
		}
	}
	for _, f := range c.files {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", f.Name(), err)
		}
	}
	return nil
}

func (c *checkpointer) closeFiles() error {
	var err error
	for _, f := range c.files {
		err = errors.Join(err, f.Close())
	}
	c.files = nil
	return err
}

// full runs the FULL checkpoint on the write connection without waiting for readers.
// FULL waits (in SQLite's busy handler, which sleeps a millisecond, then two, then
// five...) for readers of an older snapshot while it holds the write lock, so every
// writer would wait with it; with busy_timeout 0 it gives up at once instead, and
// the next pass tries again.
func (c *checkpointer) full(ctx context.Context) error {
	conn, err := c.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		return err
	}
	_, _, err = checkpoint(ctx, conn, "FULL")
	if _, rerr := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeout)); rerr != nil {
		// A writer that failed at once on every lock would be worse than a stall:
		// take the connection out of the pool.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return errors.Join(err, rerr)
	}
	return err
}

// checkpoint runs PRAGMA wal_checkpoint(mode) and returns the WAL's length in frames
// and how many of them are now copied back. A busy result (another checkpoint, or
// readers that FULL could not wait out) is not an error: the next pass tries again.
func checkpoint(ctx context.Context, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, mode string) (logged, copied int, err error) {
	var busy int
	row := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")")
	if err := row.Scan(&busy, &logged, &copied); err != nil {
		return 0, 0, fmt.Errorf("wal_checkpoint(%s): %w", mode, err)
	}
	return logged, copied, nil
}

func (c *checkpointer) close() error {
	close(c.stop)
	c.done.Wait()
	return errors.Join(c.closeFiles(), c.own.Close())
}
