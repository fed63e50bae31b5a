package sqlite

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"
)

// The write connection's WAL writes, gathered. SQLite appends a commit to the WAL as
// two pwrite calls per page, a 24-byte frame header and the page: about 40 system
// calls for one group commit of authorisations at 3,000/s, which were 13.6% of the
// server's CPU in perf (2026-11-22), much of it the cost of each call rather than of
// the copying. walVFS is SQLite's own unix VFS with the WAL's writes buffered:
// contiguous writes are gathered in memory and reach the file in one pwrite when the
// commit frame is complete, or earlier when anything else would observe the file.
// The pwrites fell to 3.9% of the server's CPU, and the CPU per decision by 4%.
//
// What SQLite relies on is unchanged, because nothing it does can tell the
// difference:
//
//   - A commit is in the file before sqlite3_step returns for it, as before, so a
//     SIGKILL after the answer loses nothing. SQLite writes the commit frame last
//     (its header says so: the database size after the commit, zero in any other
//     frame), so the buffer is written out as soon as the page after that header
//     arrives. A commit header written alone, with no page to follow (when SQLite
//     rewrites checksums), is written out at once.
//   - Other connections learn of new frames only from the WAL index, in shared
//     memory, and SQLite publishes a commit there after a memory barrier on the
//     database file; the barrier writes out anything still buffered, a second line
//     of defence should a future SQLite write its frames in another pattern.
//   - This connection reads its own WAL (a page spilt from the cache during a large
//     transaction, a checkpoint): every read, sync, truncate, size query, file
//     control and close writes the buffer out first.
//
// Only the write pool uses walVFS; readers never write the WAL. The buffer lives in
// SQLite's memory (libc), next to the file's own state, so nothing here is shared
// between connections and no lock is needed: SQLite calls a connection's files from
// one thread at a time.
const walVFSName = "cardportal-wal"

const (
	walFrameHeader = 24 // bytes before each page in the WAL
	// The unix VFS writes at most 128 KiB - 1 bytes in one call (seekAndWriteFd masks
	// the length with 0x1ffff), which holds 31 frames of 4 KiB pages. Commits of
	// authorisations at 3,000/s are about 20 (see cardportal load).
	walBufSize = 0x1ffff
)

// fileTail is walVFS's state for an open file, placed after the unix VFS's own.
type fileTail struct {
	methods uintptr // the unix file's io_methods, which do the work
	peer    uintptr // a WAL: its database file; a database: its WAL while open
	buf     uintptr // a WAL: walBufSize bytes from libc, or 0
	off     int64   // file offset of buf's first byte
	n       int32   // bytes in buf
	commit  int32   // the last write was a commit frame's header
	err     int32   // a write-out that failed where no caller could be told
	isDB    int32   // a database file, with dbShmBarrier
}

var (
	walVFSOnce sync.Once
	walVFSErr  error

	unixVFS  uintptr // SQLite's default VFS, which opens the files
	tailOff  uintptr // offset of the fileTail in a walVFS file
	walVFS   sqlite3.Tsqlite3_vfs
	walStats struct{ writes, flushes atomic.Int64 } // for the tests
	// testNoCommitFlush leaves a commit in the buffer, so that a test can see the
	// barrier alone write it out.
	testNoCommitFlush atomic.Bool

	// The method tables walVFS gives its files, one per table of the unix VFS's
	// (a database file and its WAL have different ones: the WAL takes no locks).
	// SQLite keeps pointers to them, so they live in libc's memory for as long as
	// the process: the transpiled C may not point into Go's heap (checkptr).
	ioMu     sync.Mutex
	ioTables = map[uintptr]uintptr{}
)

// registerWALVFS registers walVFS with SQLite, once per process.
func registerWALVFS() error {
	walVFSOnce.Do(func() {
		tls := libc.NewTLS()
		defer tls.Close()
		unixVFS = sqlite3.Xsqlite3_vfs_find(tls, 0)
		if unixVFS == 0 {
			walVFSErr = fmt.Errorf("sqlite: no default VFS")
			return
		}
		name, err := libc.CString(walVFSName)
		if err != nil {
			walVFSErr = fmt.Errorf("sqlite: %w", err)
			return
		}
		u := (*sqlite3.Tsqlite3_vfs)(ptr(unixVFS))
		tailOff = (uintptr(u.FszOsFile) + 7) &^ 7
		walVFS = *u
		walVFS.FszOsFile = int32(tailOff + unsafe.Sizeof(fileTail{}))
		walVFS.FpNext = 0
		walVFS.FzName = name
		walVFS.FxOpen = cfunc(vfsOpen)
		if rc := sqlite3.Xsqlite3_vfs_register(tls, uintptr(unsafe.Pointer(&walVFS)), 0); rc != sqlite3.SQLITE_OK {
			walVFSErr = fmt.Errorf("sqlite: registering the WAL VFS: code %d", rc)
		}
	})
	return walVFSErr
}

// ptr is the C address u as a pointer. The memory belongs to SQLite (libc), never to
// Go's heap, so the garbage collector has nothing to track.
func ptr(u uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&u)) }

// cfunc is f as the function pointer the transpiled C calls through.
func cfunc(f any) uintptr { return (*[2]uintptr)(unsafe.Pointer(&f))[1] }

func tailOf(pFile uintptr) *fileTail { return (*fileTail)(ptr(pFile + tailOff)) }

func methodsOf(pFile uintptr) *uintptr { return &(*sqlite3.Tsqlite3_file)(ptr(pFile)).FpMethods }

func inner(pFile uintptr) *sqlite3.Tsqlite3_io_methods {
	return (*sqlite3.Tsqlite3_io_methods)(ptr(tailOf(pFile).methods))
}

// The unix VFS's functions, called through their C function pointers.
func callOpen(fp uintptr, tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	return (*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&fp)))(tls, pVfs, zName, pFile, flags, pOutFlags)
}

func callRW(fp uintptr, tls *libc.TLS, pFile, buf uintptr, n int32, off int64) int32 {
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&fp)))(tls, pFile, buf, n, off)
}

func callInt64(fp uintptr, tls *libc.TLS, pFile uintptr, v int64) int32 {
	return (*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&fp)))(tls, pFile, v)
}

func callInt32(fp uintptr, tls *libc.TLS, pFile uintptr, v int32) int32 {
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&fp)))(tls, pFile, v)
}

func callPtr(fp uintptr, tls *libc.TLS, pFile, p uintptr) int32 {
	return (*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&fp)))(tls, pFile, p)
}

func callCtl(fp uintptr, tls *libc.TLS, pFile uintptr, op int32, p uintptr) int32 {
	return (*(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&fp)))(tls, pFile, op, p)
}

func callFile(fp uintptr, tls *libc.TLS, pFile uintptr) int32 {
	return (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&fp)))(tls, pFile)
}

func callVoid(fp uintptr, tls *libc.TLS, pFile uintptr) {
	(*(*func(*libc.TLS, uintptr))(unsafe.Pointer(&fp)))(tls, pFile)
}

// wrapIO is the method table for a file whose unix table is methods: the same
// functions but for the ones walVFS takes over, those of a WAL (wal) or of a database
// file (the barrier).
func wrapIO(tls *libc.TLS, methods uintptr, wal bool) uintptr {
	ioMu.Lock()
	defer ioMu.Unlock()
	key := methods
	if wal {
		key |= 1 // method tables are aligned: the low bit is free
	}
	if p, ok := ioTables[key]; ok {
		return p
	}
	p := libc.Xmalloc(tls, types.Size_t(unsafe.Sizeof(sqlite3.Tsqlite3_io_methods{})))
	if p == 0 {
		return 0
	}
	io := (*sqlite3.Tsqlite3_io_methods)(ptr(p))
	*io = *(*sqlite3.Tsqlite3_io_methods)(ptr(methods))
	if wal {
		io.FxClose = cfunc(walClose)
		io.FxRead = cfunc(walRead)
		io.FxWrite = cfunc(walWrite)
		io.FxTruncate = cfunc(walTruncate)
		io.FxSync = cfunc(walSync)
		io.FxFileSize = cfunc(walFileSize)
		io.FxFileControl = cfunc(walFileControl)
	} else {
		io.FxClose = cfunc(dbClose)
		if io.FiVersion >= 2 && io.FxShmBarrier != 0 {
			io.FxShmBarrier = cfunc(dbShmBarrier)
		}
	}
	ioTables[key] = p
	return p
}

func vfsOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	*tailOf(pFile) = fileTail{}
	u := (*sqlite3.Tsqlite3_vfs)(ptr(unixVFS))
	rc := callOpen(u.FxOpen, tls, unixVFS, zName, pFile, flags, pOutFlags)
	m := *methodsOf(pFile)
	if rc != sqlite3.SQLITE_OK || m == 0 {
		return rc
	}
	t := tailOf(pFile)
	t.methods = m
	wal := flags&sqlite3.SQLITE_OPEN_WAL != 0
	if !wal && flags&sqlite3.SQLITE_OPEN_MAIN_DB == 0 {
		return rc // a journal or a temporary file: the unix VFS's alone
	}
	io := wrapIO(tls, m, wal)
	if io == 0 {
		return rc // no memory for the table: unbuffered, as SQLite made it
	}
	*methodsOf(pFile) = io
	if !wal {
		t.isDB = 1
	} else if db := sqlite3.Xsqlite3_database_file_object(tls, zName); db != 0 && tailOf(db).isDB != 0 {
		t.peer = db
		tailOf(db).peer = pFile
	}
	return rc
}

// flush writes out what pFile's buffer holds.
func flush(tls *libc.TLS, pFile uintptr) int32 {
	t := tailOf(pFile)
	if t.n == 0 {
		return sqlite3.SQLITE_OK
	}
	n := t.n
	t.n = 0
	walStats.flushes.Add(1)
	return callRW(inner(pFile).FxWrite, tls, pFile, t.buf, n, t.off)
}

func walWrite(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	t := tailOf(pFile)
	if t.err != 0 {
		return t.err
	}
	walStats.writes.Add(1)
	if t.n > 0 && (iOfst != t.off+int64(t.n) || int64(t.n)+int64(iAmt) > walBufSize) {
		if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
			return rc
		}
	}
	if t.buf == 0 && iAmt <= walBufSize {
		t.buf = libc.Xmalloc(tls, walBufSize)
	}
	if t.buf == 0 || iAmt > walBufSize {
		walStats.flushes.Add(1)
		return callRW(inner(pFile).FxWrite, tls, pFile, zBuf, iAmt, iOfst)
	}
	if t.n == 0 {
		t.off = iOfst
	}
	src := unsafe.Slice((*byte)(ptr(zBuf)), iAmt)
	copy(unsafe.Slice((*byte)(ptr(t.buf+uintptr(t.n))), iAmt), src)
	t.n += iAmt
	if t.commit != 0 {
		// The page of the commit frame: the transaction's last write.
		t.commit = 0
		return flush(tls, pFile)
	}
	if iAmt == walFrameHeader && binary.BigEndian.Uint32(src[4:8]) != 0 && !testNoCommitFlush.Load() {
		t.commit = 1
		if t.n == iAmt {
			// Alone in the buffer, it may be a header rewritten with no page to
			// follow: out with it now.
			return flush(tls, pFile)
		}
	}
	return sqlite3.SQLITE_OK
}

func walRead(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return callRW(inner(pFile).FxRead, tls, pFile, zBuf, iAmt, iOfst)
}

func walTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return callInt64(inner(pFile).FxTruncate, tls, pFile, size)
}

func walSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return callInt32(inner(pFile).FxSync, tls, pFile, flags)
}

func walFileSize(tls *libc.TLS, pFile, pSize uintptr) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return callPtr(inner(pFile).FxFileSize, tls, pFile, pSize)
}

func walFileControl(tls *libc.TLS, pFile uintptr, op int32, pArg uintptr) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return callCtl(inner(pFile).FxFileControl, tls, pFile, op, pArg)
}

func walClose(tls *libc.TLS, pFile uintptr) int32 {
	t := tailOf(pFile)
	rc := flush(tls, pFile)
	if t.buf != 0 {
		libc.Xfree(tls, t.buf)
		t.buf = 0
	}
	if t.peer != 0 {
		tailOf(t.peer).peer = 0
		t.peer = 0
	}
	fp := inner(pFile).FxClose
	if crc := callFile(fp, tls, pFile); rc == sqlite3.SQLITE_OK {
		rc = crc
	}
	return rc
}

func dbClose(tls *libc.TLS, pFile uintptr) int32 {
	t := tailOf(pFile)
	if t.peer != 0 {
		tailOf(t.peer).peer = 0
		t.peer = 0
	}
	return callFile(inner(pFile).FxClose, tls, pFile)
}

// dbShmBarrier is called before SQLite publishes a commit in the WAL index. walWrite
// has normally written the commit out already; should anything still be buffered, it
// goes out now, and if that fails the WAL refuses every later write, since the
// barrier has no way to report it.
func dbShmBarrier(tls *libc.TLS, pFile uintptr) {
	t := tailOf(pFile)
	if t.peer != 0 {
		if rc := flush(tls, t.peer); rc != sqlite3.SQLITE_OK {
			tailOf(t.peer).err = rc
		}
	}
	callVoid(inner(pFile).FxShmBarrier, tls, pFile)
}
